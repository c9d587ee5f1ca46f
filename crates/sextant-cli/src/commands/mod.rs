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
use sextant_engine::{
    ContextPack, EngineOptions, PackRequest, Page, Paged, ReferenceInfo, Relation, Repository, RepositorySpec,
    SearchMode, SearchOptions, SearchResults, SymbolInfo,
};
use sextant_server::client::RemoteRepository;

use crate::args::Target;

/// Where a query command gets its answers: a running `sextant serve` that hosts the index (no index to load, its
/// model already warm), or the index read here.
pub enum Backend {
    /// The index, read in this process.
    Local(Box<Repository>),
    /// A running server.
    Remote(Box<RemoteRepository>),
}

impl Backend {
    /// Ranked chunks.
    pub fn search(&self, query: &str, mode: Option<SearchMode>, options: &SearchOptions) -> Result<SearchResults> {
        Ok(match self {
            Backend::Local(r) => r.search(query, mode, options)?,
            Backend::Remote(r) => r.search(query, mode, options)?,
        })
    }

    /// Definitions.
    pub fn symbols(&self, name: &str, page: Page) -> Result<Paged<SymbolInfo>> {
        Ok(match self {
            Backend::Local(r) => r.symbols(name, page)?,
            Backend::Remote(r) => r.symbols(name, page)?,
        })
    }

    /// Mentions.
    pub fn references(&self, name: &str, page: Page) -> Result<Paged<ReferenceInfo>> {
        Ok(match self {
            Backend::Local(r) => r.references(name, page)?,
            Backend::Remote(r) => r.references(name, page)?,
        })
    }

    /// Callers (`callers`) or callees.
    pub fn relations(&self, name: &str, page: Page, callers: bool) -> Result<Paged<Relation>> {
        Ok(match self {
            Backend::Local(r) if callers => r.callers(name, page)?,
            Backend::Local(r) => r.callees(name, page)?,
            Backend::Remote(r) => r.relations(name, page, callers)?,
        })
    }

    /// A context pack.
    pub fn pack(&self, request: PackRequest) -> Result<ContextPack> {
        Ok(match self {
            Backend::Local(r) => r.pack(request)?,
            Backend::Remote(r) => r.pack(request)?,
        })
    }
}

/// The backend of a query command: the server that hosts the target's index when one runs (unless
/// `--no-server`), else the index itself ([`query_target`]). Which one answered is said on stderr.
pub fn query_backend(target: &Target) -> Result<Backend> {
    if !target.no_server {
        if let Some(index_dir) = target_index_dir(target)? {
            if let Some(record) = sextant_server::discovery::live_record(&index_dir) {
                let token = std::env::var("SEXTANT_TOKEN").ok().filter(|t| !t.is_empty());
                match RemoteRepository::connect(&record, token) {
                    Ok(remote) => {
                        eprintln!("(answered by sextant serve, pid {}, at {})", remote.pid, remote.address);
                        return Ok(Backend::Remote(Box::new(remote)));
                    }
                    Err(e) => eprintln!("warning: {e}; reading the index instead"),
                }
            }
        }
    }
    Ok(Backend::Local(Box::new(query_target(target)?)))
}

/// The index directory a query targets, if it can be found without reading it.
fn target_index_dir(target: &Target) -> Result<Option<PathBuf>> {
    if let Some(dir) = &target.index_dir {
        return Ok(Some(dir.clone()));
    }
    let start = target.repo.as_deref().unwrap_or(Path::new("."));
    Ok(sextant_engine::locate_indexed(start).ok().flatten().map(|spec| spec.index_dir))
}

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
