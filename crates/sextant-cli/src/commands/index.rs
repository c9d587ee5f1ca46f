//! `sextant index` and `sextant reindex`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sextant_engine::{EngineOptions, Repository};

use crate::args::{Target, VectorArgs};
use crate::progress::Bar;

/// Indexes (or, with `force`, rebuilds) a repository, then its overview and vectors.
pub fn run(path: Option<PathBuf>, force: bool, quiet: bool, vectors: &VectorArgs, target: &Target) -> Result<()> {
    let spec = super::index_target(path, target)?;
    let root = spec.root.clone();
    let options = EngineOptions { embed: !vectors.no_embed, qdrant_url: vectors.qdrant_url.clone() };
    let repository = Repository::open(spec, options).context("loading configuration")?;
    let bar = Bar::new(quiet || target.json);
    let report = repository.index(force, &bar).with_context(|| format!("indexing {}", root.display()));
    bar.finish();
    crate::output::index_report(&report?, target.json)
}
