//! What an index stores about a repository ([`Snapshot`]: per-file facts, the graph, skips, git state), and the
//! small files beside the committed store ([`crate::db`]): the checkpoint of a first index under way, the stat
//! cache and the co-change tables (postcard, lz4-compressed, checksummed, replaced by rename).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sextant_graph::GraphData;
use sextant_syntax::FileFacts;

use crate::IndexError;

/// Bumped whenever the stored layout changes; older indexes are rebuilt. 8: the per-file LMDB store; 9: the SCIP
/// stamp in the header; 10: path keys in the names table.
pub(crate) const FORMAT_VERSION: u32 = 10;

/// The checkpoint of a first index still under way: what was parsed so far (no graph). Readers never open it.
pub(crate) const CHECKPOINT: &str = "checkpoint";
const CHECKPOINT_NEXT: &str = "checkpoint.next";
const MAGIC: &[u8; 8] = b"SEXTANT\0";

/// The git state of the indexed tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    /// HEAD commit id (hex).
    pub head: String,
    /// Branch name, if HEAD is on a branch.
    pub branch: Option<String>,
}

/// Why a file was not indexed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SkipReason {
    /// Contains NUL bytes.
    Binary,
    /// Larger than `index.max_file_bytes`.
    TooLarge {
        /// Its size.
        bytes: u64,
    },
    /// Has a line longer than `index.max_line_bytes` (minified or generated).
    Minified {
        /// Its longest line.
        longest_line: usize,
    },
    /// Could not be read.
    Unreadable {
        /// The I/O error.
        error: String,
    },
    /// The path is not valid UTF-8.
    NonUtf8Path,
    /// A symbolic link loop.
    SymlinkLoop,
    /// Not a regular file (a FIFO, socket or device).
    NotRegularFile,
    /// The walker reported an error (permissions on a directory, …).
    WalkError {
        /// What it said.
        error: String,
    },
    /// The parser failed outright.
    ParseFailed {
        /// Why.
        error: String,
    },
}

impl SkipReason {
    /// A short stable label for summaries (`binary`, `too-large`, …).
    pub fn label(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::Minified { .. } => "minified",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::NonUtf8Path => "non-utf8-path",
            SkipReason::SymlinkLoop => "symlink-loop",
            SkipReason::NotRegularFile => "not-a-regular-file",
            SkipReason::WalkError { .. } => "walk-error",
            SkipReason::ParseFailed { .. } => "parse-failed",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => write!(f, "binary file"),
            SkipReason::TooLarge { bytes } => write!(f, "over the size limit ({bytes} bytes)"),
            SkipReason::Minified { longest_line } => {
                write!(f, "minified or generated (a line of {longest_line} bytes)")
            }
            SkipReason::Unreadable { error } => write!(f, "unreadable: {error}"),
            SkipReason::NonUtf8Path => write!(f, "path is not valid UTF-8"),
            SkipReason::SymlinkLoop => write!(f, "symbolic link loop"),
            SkipReason::NotRegularFile => write!(f, "not a regular file"),
            SkipReason::WalkError { error } => write!(f, "{error}"),
            SkipReason::ParseFailed { error } => write!(f, "parse failed: {error}"),
        }
    }
}

/// A skipped path and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// Repository-relative path (lossy for non-UTF-8 names).
    pub path: String,
    /// Why.
    pub reason: SkipReason,
    /// Size and modification time when skipped (0 when unknown), so an unchanged skipped file is not re-read.
    #[serde(default)]
    pub stat: (u64, u64),
}

/// One indexed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// xxh3-128 of the content.
    pub hash: u128,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (ns since the epoch), for the stat shortcut.
    pub mtime_ns: u64,
    /// Whether the content was not valid UTF-8 and was decoded lossily.
    pub lossy: bool,
    /// What was extracted; shared, so that an update carries an unchanged file over without copying its facts.
    #[serde(with = "shared")]
    pub facts: Arc<FileFacts>,
}

/// A record of a Rust file at `path` defining functions named `names` (for unit tests).
#[cfg(test)]
pub(crate) fn test_record(path: &str, names: &[&str]) -> FileRecord {
    let span = sextant_syntax::Span { start_byte: 0, end_byte: 0, start_line: 1, end_line: 1 };
    let symbols = names
        .iter()
        .map(|name| sextant_syntax::Symbol {
            name: name.to_string(),
            qualified_name: name.to_string(),
            kind: sextant_syntax::SymbolKind::Function,
            signature: String::new(),
            doc: None,
            span,
            parent: None,
        })
        .collect();
    let facts = FileFacts {
        language: sextant_syntax::Language::Rust,
        symbols,
        references: Vec::new(),
        imports: Vec::new(),
        chunks: Vec::new(),
        lines: 1,
        has_errors: false,
    };
    FileRecord { path: path.into(), hash: 0, size: 0, mtime_ns: 0, lossy: false, facts: Arc::new(facts) }
}

/// Serialises shared data (facts, the graph) as the plain value (without serde's `rc` feature).
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &Arc<T>, serializer: S) -> Result<S::Ok, S::Error> {
        value.as_ref().serialize(serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<T>, D::Error> {
        T::deserialize(deserializer).map(Arc::new)
    }
}

/// Everything committed about one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// [`FORMAT_VERSION`] at write time.
    pub format_version: u32,
    /// Increases with each commit; equals the tantivy commit payload.
    pub generation: u64,
    /// Canonical repository root.
    pub root: String,
    /// Unix seconds of the commit.
    pub indexed_at: u64,
    /// When the run that produced this snapshot started (ns since the epoch), for the racy-mtime check.
    pub started_at_ns: u64,
    /// Hash of the effective configuration; a change forces re-parsing.
    pub config_hash: u64,
    /// git HEAD at index time.
    pub git: Option<GitState>,
    /// Indexed files, sorted by path.
    pub files: Vec<FileRecord>,
    /// Skipped files, sorted by path.
    pub skipped: Vec<SkippedFile>,
    /// The symbol graph over `files` (same order).
    /// Shared, so that a writer starting from a reader's state does not copy a million edges.
    #[serde(with = "shared")]
    pub graph: Arc<GraphData>,
    /// Whether `graph`'s ranks were computed over this graph, or carried over from the previous one by an update
    /// that left the whole-graph pass for after its commit.
    pub ranks_exact: bool,
    /// The sizes and times of the SCIP indexes the graph used (0 for none): a changed index re-links.
    pub scip_stamp: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io { path: path.to_path_buf(), source }
}

/// Reads a snapshot file (a checkpoint); `Ok(None)` when absent.
fn read_snapshot_file(path: &Path) -> Result<Option<Snapshot>, IndexError> {
    read_file(path)
}

/// Reads a file written by [`write_file`]: magic, format version, checksum, lz4-compressed postcard.
fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, IndexError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let mut bytes = Vec::new();
    BufReader::new(file).read_to_end(&mut bytes).map_err(io(path))?;
    let corrupt = |why: &str| IndexError::Corrupt { path: path.to_path_buf(), message: why.to_string() };
    let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| corrupt("not a Sextant file"))?;
    if body.len() < 12 {
        return Err(corrupt("truncated"));
    }
    let version = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
    if version != FORMAT_VERSION {
        return Err(IndexError::OldFormat { found: version, expected: FORMAT_VERSION });
    }
    let checksum = u64::from_le_bytes(body[4..12].try_into().map_err(|_| corrupt("truncated"))?);
    let compressed = &body[12..];
    if xxhash_rust::xxh3::xxh3_64(compressed) != checksum {
        return Err(corrupt("checksum mismatch (incomplete write?)"));
    }
    let payload = lz4_flex::decompress_size_prepended(compressed).map_err(|e| corrupt(&e.to_string()))?;
    postcard::from_bytes(&payload).map(Some).map_err(|e| corrupt(&e.to_string()))
}

fn write_snapshot_file(path: &Path, snapshot: &Snapshot) -> Result<(), IndexError> {
    write_file(path, snapshot)
}

/// Writes `value` (postcard, lz4, checksummed) and syncs it to disk.
fn write_file(path: &Path, value: &impl Serialize) -> Result<(), IndexError> {
    let payload = postcard::to_allocvec(value)
        .map_err(|e| IndexError::Corrupt { path: path.to_path_buf(), message: format!("cannot encode: {e}") })?;
    // Names, paths and signatures repeat a lot: lz4 makes the file about 2.7× smaller for ~2 ms per MB.
    let payload = lz4_flex::compress_prepend_size(&payload);
    let file = File::create(path).map_err(io(path))?;
    let mut writer = BufWriter::new(file);
    writer.write_all(MAGIC).map_err(io(path))?;
    writer.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(io(path))?;
    writer.write_all(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes()).map_err(io(path))?;
    writer.write_all(&payload).map_err(io(path))?;
    let file = writer.into_inner().map_err(|e| io(path)(e.into_error()))?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}
/// What an unchanged run needs to know that nothing changed, without loading the snapshot: the walk's view of the
/// tree when the committed generation was last checked, and that run's summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StatCache {
    /// The committed generation it describes (equal to the lexical index's, or it is stale).
    pub generation: u64,
    /// Canonical repository root.
    pub root: String,
    /// Configuration hash of that generation.
    pub config_hash: u64,
    /// Files modified at or after this time (ns since the epoch) are not trusted by their stat alone.
    pub trusted_before_ns: u64,
    /// git HEAD at the time.
    pub git: Option<GitState>,
    /// Every candidate the walk found: path, size, modification time (sorted by path).
    pub candidates: Vec<(String, u64, u64)>,
    /// Paths the walk itself skipped (symlink loops, unreadable directories …).
    pub walk_skipped: Vec<String>,
    /// The summary of that generation.
    pub summary: crate::IndexSummary,
    /// The SCIP stamp of that generation.
    pub scip_stamp: u64,
    /// The package manifests that generation's graph was linked against: path and content hash (`None`: not
    /// known, as after an index written before this was kept).
    pub manifests: Option<Vec<(String, u64)>>,
}

const STAT_CACHE: &str = "stat-cache";

/// The stat cache, if there is a readable one (it is only a shortcut: anything wrong with it means "not usable").
pub(crate) fn load_stat_cache(dir: &Path) -> Option<StatCache> {
    read_file(&dir.join(STAT_CACHE)).ok().flatten()
}

/// Replaces the stat cache (by temporary file and rename; a failure only costs the shortcut).
pub(crate) fn save_stat_cache(dir: &Path, cache: &StatCache) {
    let next = dir.join(format!("{STAT_CACHE}.next"));
    if write_file(&next, cache).is_ok() {
        let _ = std::fs::rename(&next, dir.join(STAT_CACHE));
    }
}

/// Step one of a checkpoint commit: the checkpoint, durable but not yet current.
pub(crate) fn prepare_checkpoint(dir: &Path, snapshot: &Snapshot) -> Result<(), IndexError> {
    write_snapshot_file(&dir.join(CHECKPOINT_NEXT), snapshot)
}

/// Step three of a checkpoint commit: make the prepared checkpoint current.
pub(crate) fn publish_checkpoint(dir: &Path) -> Result<(), IndexError> {
    let next = dir.join(CHECKPOINT_NEXT);
    std::fs::rename(&next, dir.join(CHECKPOINT)).map_err(io(&next))
}

/// The checkpoint an interrupted first index left, when the lexical index holds exactly its generation (rolled
/// forward when the crash came between the lexical commit and the rename). Anything
/// else is no usable checkpoint.
pub(crate) fn load_checkpoint(dir: &Path, lexical_generation: Option<u64>) -> Option<Snapshot> {
    let matches = |s: &Snapshot| Some(s.generation) == lexical_generation;
    if let Ok(Some(checkpoint)) = read_snapshot_file(&dir.join(CHECKPOINT)) {
        if matches(&checkpoint) {
            return Some(checkpoint);
        }
    }
    let next = read_snapshot_file(&dir.join(CHECKPOINT_NEXT)).ok().flatten().filter(matches)?;
    publish_checkpoint(dir).ok()?;
    Some(next)
}

/// Removes the checkpoint files once the index is complete (or when they cannot be used).
pub(crate) fn remove_checkpoint(dir: &Path) {
    for name in [CHECKPOINT, CHECKPOINT_NEXT] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

/// The co-change table queries read, if one was mined.
pub(crate) fn load_cochange(dir: &Path) -> Option<crate::history::CoChange> {
    read_file(&dir.join(crate::history::COCHANGE_FILE)).ok().flatten()
}

/// The miner's counts of the last run, if any.
pub(crate) fn load_mining_state(dir: &Path) -> Option<crate::history::MiningState> {
    read_file(&dir.join(crate::history::MINING_STATE_FILE)).ok().flatten()
}

/// Replaces the miner's counts and the table made from them, each by temporary file and rename (a failure only
/// costs the signal; a reader sees the old table or the new one).
pub(crate) fn save_cochange(dir: &Path, state: &crate::history::MiningState) {
    for (name, written) in [
        (
            crate::history::MINING_STATE_FILE,
            write_file(&dir.join(format!("{}.next", crate::history::MINING_STATE_FILE)), state),
        ),
        (
            crate::history::COCHANGE_FILE,
            write_file(&dir.join(format!("{}.next", crate::history::COCHANGE_FILE)), &state.summarise()),
        ),
    ] {
        if written.is_ok() {
            let _ = std::fs::rename(dir.join(format!("{name}.next")), dir.join(name));
        }
    }
    for old in crate::history::OLD_FILES {
        let _ = std::fs::remove_file(dir.join(old));
    }
}
