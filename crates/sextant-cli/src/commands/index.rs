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
    // A running server owns this index (and its writer lock): ask it to update instead of racing it.
    if !target.no_server {
        if let Some(record) = sextant_server::discovery::live_record(&spec.index_dir) {
            let token = std::env::var("SEXTANT_TOKEN").ok().filter(|t| !t.is_empty());
            let remote = sextant_server::client::RemoteRepository::connect(&record, token)
                .with_context(|| format!("sextant serve (pid {}) hosts this index", record.pid))?;
            let report = remote.reindex(force).context("reindexing through the server")?;
            if target.json {
                return crate::output::json(&report);
            }
            println!(
                "indexed by sextant serve (pid {}): generation {}, {} files (parsed {}) in {:.2}s",
                report.server_pid,
                report.generation,
                report.files,
                report.files_parsed,
                report.elapsed_ms as f64 / 1000.0
            );
            return Ok(());
        }
    }
    let options = EngineOptions { embed: !vectors.no_embed, qdrant_url: vectors.qdrant_url.clone() };
    let repository = Repository::open(spec, options).context("loading configuration")?;
    let bar = Bar::new(quiet || target.json);
    let report = repository.index(force, &bar).with_context(|| format!("indexing {}", root.display()));
    bar.finish();
    crate::output::index_report(&report?, target.json)
}
