//! The engine behind every front end.
//!
//! A [`Workspace`] holds the hosted [`Repository`] values; each repository owns its index, its vectors, its
//! overview and (when asked) its file watcher, and offers the operations a front end needs: [`Repository::index`]
//! (with progress), [`Repository::search`], [`Repository::pack`] (computing the dense signal itself),
//! [`Repository::symbols`], [`Repository::references`], [`Repository::callers`] and [`Repository::callees`]
//! (paged), [`Repository::read_source`] (always verified against the index), [`Repository::overview`] and
//! [`Repository::status`]. The CLI, the gRPC server and the MCP server translate arguments into these calls and
//! render what comes back; none of them orchestrates indexing, embedding or ranking.
//!
//! Operations are synchronous and may block on I/O or CPU; async front ends run them on blocking threads.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sextant_engine::{EngineOptions, NoEngineProgress, Page, PackRequest, Repository, RepositorySpec, SearchMode};
//!
//! let root = tempfile::tempdir()?;
//! std::fs::write(root.path().join("config.py"), "def load_config(path):\n    return open(path).read()\n")?;
//! let index_dir = tempfile::tempdir()?;
//! let spec = RepositorySpec::for_root(root.path(), Some(index_dir.path().to_path_buf()))?;
//! // Keyword, symbol and graph signals only; with the model set up, `EngineOptions::default()` embeds too.
//! let repo = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None })?;
//! repo.index(false, &NoEngineProgress)?;
//!
//! let results = repo.search("load the config", None, &Default::default())?;
//! // Hybrid by default: without vectors it fuses BM25, symbol names, paths and whole-file BM25.
//! assert_eq!((results.mode, results.hits[0].symbol.as_str()), (SearchMode::Hybrid, "load_config"));
//! let definitions = repo.symbols("load_config", Page::default())?;
//! assert_eq!(definitions.items[0].path, "config.py");
//! let pack = repo.pack(PackRequest { task: "config is read twice".into(), budget: 200, ..Default::default() })?;
//! assert!(pack.tokens <= 200 && pack.text.contains("def load_config(path):"));
//! # Ok(()) }
//! ```

mod error;
mod page;
mod progress;
mod repository;
mod watch;
mod workspace;

use std::path::{Path, PathBuf};

pub use error::{EngineError, ErrorKind};
pub use page::{Page, Paged};
pub use progress::{EngineProgress, NoEngineProgress};
pub use repository::{
    EngineOptions, IndexReport, Repository, RepositorySpec, RepositoryStatus, SearchResults, SourceText,
    MAX_QUERY_BYTES, MAX_SOURCE_BYTES, MAX_SOURCE_LINES,
};
pub use watch::{WatchEvent, Watcher};
pub use workspace::Workspace;

pub use sextant_index::{
    IndexSummary, Location, PathFilter, ReferenceInfo, Relation, SearchHit, SearchOptions, Signal, SignalHit,
    SymbolInfo, DEFAULT_CHUNKS_PER_FILE,
};
pub use sextant_overview::{Overview, Rule};
pub use sextant_pack::{ContextPack, ItemKind, PackItem, PackRequest, TokenizerChoice, MAX_TASK_BYTES};
pub use sextant_semantic::{SearchMode, SyncReport, VectorState};

/// The index directory Sextant uses for `root` when none is given: `<cache>/sextant/<dir name>-<hash>`, where
/// the hash is of the canonical root path, so two checkouts with the same name get distinct indexes and the
/// index never lives inside the repository.
pub fn default_index_dir(root: &Path) -> Result<PathBuf, EngineError> {
    let cache = dirs::cache_dir().ok_or_else(|| {
        EngineError::InvalidArgument("no cache directory on this system; pass --index-dir".to_string())
    })?;
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "root".into());
    let hash = xxhash_rust::xxh3::xxh3_64(root.as_os_str().as_encoded_bytes());
    Ok(cache.join("sextant").join(format!("{name}-{hash:016x}")))
}

/// Whether a presented bearer token is the expected one, compared in constant time (how long the comparison
/// takes says nothing about how much of the token was right). Every front end that checks tokens uses this.
pub fn token_matches(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len()
        && presented.bytes().zip(expected.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `index_dir` holds a committed index (nothing is read).
pub fn index_exists(index_dir: &Path) -> bool {
    sextant_index::Index::exists(index_dir)
}

/// The repository to query from `start` (a directory inside it): the nearest of `start` and its parents whose
/// default index directory holds an index. `None` when none does.
pub fn locate_indexed(start: &Path) -> Result<Option<RepositorySpec>, EngineError> {
    let start = canonical(start)?;
    for root in start.ancestors() {
        let index_dir = default_index_dir(root)?;
        if sextant_index::Index::exists(&index_dir) {
            return Ok(Some(RepositorySpec::new(name_of(root), root.to_path_buf(), index_dir)));
        }
    }
    Ok(None)
}

fn canonical(path: &Path) -> Result<PathBuf, EngineError> {
    path.canonicalize().map_err(|source| EngineError::Io { path: path.to_path_buf(), source })
}

/// A repository's default name: its directory name.
fn name_of(root: &Path) -> String {
    root.file_name().map_or_else(|| "root".into(), |n| n.to_string_lossy().into_owned())
}
