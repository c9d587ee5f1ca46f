//! One module per command; each turns its arguments into engine calls and hands the result to `output`.

pub mod index;
pub mod mcp;
pub mod navigate;
pub mod overview;
pub mod pack;
pub mod search;
pub mod serve;
pub mod status;
pub mod watch;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sextant_engine::{EngineOptions, Repository, RepositorySpec};

use crate::args::Target;

/// The repository a query command reads: `--index-dir`, else the indexed repository of `--repo` (or the current
/// directory), or of its nearest indexed parent.
pub fn query_target(target: &Target) -> Result<Repository> {
    if let Some(dir) = &target.index_dir {
        return Repository::open_index_dir(dir, EngineOptions::default())
            .with_context(|| format!("opening index {}", dir.display()));
    }
    let start = target.repo.as_deref().unwrap_or(Path::new("."));
    match sextant_engine::locate_indexed(start).with_context(|| format!("cannot open {}", start.display()))? {
        Some(spec) => Repository::open(spec, EngineOptions::default()).context("opening the repository"),
        None => {
            let shown = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
            bail!("{} is not indexed; run `sextant index {}` first", shown.display(), shown.display())
        }
    }
}

/// The repository an indexing command writes: `path`, else `--repo`, else the current directory.
pub fn index_target(path: Option<PathBuf>, target: &Target) -> Result<RepositorySpec> {
    let root = path.or_else(|| target.repo.clone()).unwrap_or_else(|| PathBuf::from("."));
    RepositorySpec::for_root(&root, target.index_dir.clone()).with_context(|| format!("cannot open {}", root.display()))
}

/// A multi-threaded async runtime for the commands that serve or call a server.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}
