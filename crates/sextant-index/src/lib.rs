//! Builds, stores and queries the index of one repository.
//!
//! [`index_repository`] walks the tree (honouring `.gitignore`/`.ignore` and the configured excludes), decides
//! per file whether anything changed (size and mtime, then a content hash), parses changed files in parallel
//! with `sextant-syntax`, writes their chunks to the tantivy index, links everything with `sextant-graph`, and
//! commits atomically (the record store, which writes only what changed, and the tantivy directory, in two steps).
//! [`Index`] opens a committed index
//! for search and symbol navigation; its files are read through [`IndexedFile`] views, while the stored layout
//! stays private to this crate.

mod build;
#[doc(hidden)]
pub mod crash_point;
mod db;
mod file;
mod filter;
pub mod fusion;
mod history;
mod keyword;
mod lock;
mod names;
mod query;
mod store;
mod stored;
mod walk;

use std::path::{Path, PathBuf};

pub use build::{
    exact_ranks, index_repository, index_repository_locked, index_repository_opened, IndexOptions, IndexRun,
    IndexSummary, LanguageCount, NoProgress, PendingHistory, PendingRanks, Progress, ScipSummary,
};
pub use file::IndexedFile;
pub use filter::{
    add_auxiliary_kinds_named_in, auxiliary_kind, auxiliary_kind_named_by, is_test_path, is_test_word, PathFilter,
};
pub use fusion::{Signal, SignalHit};
pub use history::{CoChange, CommitNote};
pub use keyword::{IndexedParts, KeywordSignals, NamedDefinition, MAX_DEFINITIONS_PER_NAME};
pub use lock::{WriterLock, WRITER_LOCK_FILE};
pub use query::{
    clip_snippet_line, diversify, CommitStamp, Index, LexicalSearcher, Location, PathTerms, ReferenceInfo, Relation,
    SearchHit, SearchOptions, SymbolInfo, DEFAULT_CHUNKS_PER_FILE,
};
pub use sextant_graph::SymbolId;
pub use sextant_lexical::FileBm25;
pub use store::{GitState, SkipReason, SkippedFile};
pub use stored::FromStore;

/// Subdirectory of the index directory holding the tantivy index.
pub const LEXICAL_DIR: &str = "lexical";

/// Subdirectory of an index directory where chunk vectors live (written by `sextant-semantic`); not counted in
/// the index size.
pub const VECTORS_DIR: &str = "vectors";

/// Everything that can go wrong while indexing or querying.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The repository root is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// No index exists at the given place.
    #[error("no index at {0}; run `sextant index` first")]
    NotIndexed(PathBuf),
    /// A stored record (or a checkpoint or cache file) cannot be decoded.
    #[error("index file {path} is corrupt ({message}); run `sextant reindex`")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The index was written by another version of Sextant.
    #[error("index format {found} is not the current format {expected}; run `sextant reindex`")]
    OldFormat {
        /// Found version.
        found: u32,
        /// Expected version.
        expected: u32,
    },
    /// The record store and the lexical index disagree and cannot be reconciled.
    #[error("index at {dir} is inconsistent (store generation {snapshot:?}, lexical generation {lexical:?}); run `sextant reindex`")]
    Inconsistent {
        /// The index directory.
        dir: PathBuf,
        /// Snapshot generation.
        snapshot: Option<u64>,
        /// Lexical generation.
        lexical: Option<u64>,
    },
    /// The configuration names a language Sextant does not support.
    #[error("unknown language `{0}` in configuration (supported: rust, python, javascript, typescript, tsx, go, java, c, cpp, csharp, ruby, php, bash, scala, kotlin, swift)")]
    UnknownLanguage(String),
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// Another process is writing this index directory.
    #[error("another sextant process is indexing {}{}; wait for it to finish (a running `sextant serve` keeps such an index fresh itself)", dir.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy {
        /// The index directory.
        dir: PathBuf,
        /// The process holding the writer lock, when it recorded itself.
        pid: Option<u32>,
    },
    /// The record store (LMDB) failed.
    #[error("index store {dir}: {message}")]
    Store {
        /// The store directory.
        dir: PathBuf,
        /// What LMDB said.
        message: String,
    },
    /// The lexical index failed.
    #[error(transparent)]
    Lexical(#[from] sextant_lexical::LexicalError),
}

/// Calls `emit` with each term of `text` as the lexical analyzer sees it (whole identifiers, lower-cased, and
/// their parts), so callers can match against indexed text, paths and names.
pub fn for_each_path_term(text: &str, mut emit: impl FnMut(String)) {
    sextant_lexical::for_each_term(text, |t, _, _| emit(t));
}

/// The content hash the index records per file (xxh3-128).
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// Bytes allocated on disk under `dir`: preallocated, sparse files (a vector store's mmaps) count only the
/// blocks written.
pub fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    sum_over_files(dir, |m| m.blocks() * 512)
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    sum_over_files(dir, |m| m.len())
}

/// Sums `size` over the regular files under `dir` (symbolic links are not followed).
fn sum_over_files(dir: &Path, size: impl Fn(&std::fs::Metadata) -> u64) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| size(&m)),
                _ => {}
            }
        }
    }
    total
}

/// The git HEAD of the repository containing `root`, if it is one.
pub fn git_state(root: &Path) -> Option<GitState> {
    let repo = git2::Repository::discover(root).ok()?;
    let head = repo.head().ok()?;
    let commit = head.peel_to_commit().ok()?;
    let branch = if head.is_branch() { head.shorthand().map(str::to_string) } else { None };
    Some(GitState { head: commit.id().to_string(), branch })
}
