//! Building and updating an index: walk, decide what changed, parse in parallel, link, commit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sextant_config::Config;
use sextant_graph::{GraphData, GraphInput, LinkStats, Manifest, PreviousLink, SymbolGraph};
use sextant_lexical::{ChunkDocument, LexicalIndex, LexicalWriter};
use sextant_syntax::{analyze, ChunkLimits, FileFacts};

use crate::crash_point::{self, CrashPoint};
use crate::db;
use crate::history;
use crate::store::{self, FileRecord, GitState, SkipReason, SkippedFile, Snapshot};
use crate::walk::{self, Candidate, LanguageMatcher};
use crate::{dir_size, git_state, Index, IndexError, LEXICAL_DIR};

/// Bytes inspected for NUL when deciding whether a file is binary (what git does too).
const BINARY_SNIFF_BYTES: usize = 8000;
/// Files modified this close to the previous run's start are re-hashed even if size and mtime match,
/// because an edit within the same timestamp tick would otherwise go unseen.
const RACY_WINDOW_NS: u64 = 2_000_000_000;

/// Receives progress while indexing. All methods have empty defaults.
pub trait Progress: Sync {
    /// A phase begins (`walk`, `parse`, `link`, `commit`); `total` is the number of steps when known.
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// One file of the `parse` phase is done.
    fn file_done(&self) {}
}

/// Progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// How to index.
pub struct IndexOptions<'a> {
    /// Repository root.
    pub root: &'a Path,
    /// Where the index lives.
    pub index_dir: &'a Path,
    /// Effective configuration (usually [`Config::for_repository`]).
    pub config: &'a Config,
    /// Ignore the previous index and parse everything again.
    pub force: bool,
}

/// Files and lines per language.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LanguageCount {
    /// Files.
    pub files: u64,
    /// Lines.
    pub lines: u64,
}

/// What an indexing run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexSummary {
    /// Canonical repository root.
    pub root: PathBuf,
    /// Index directory.
    pub index_dir: PathBuf,
    /// Generation committed (unchanged when nothing changed).
    pub generation: u64,
    /// Whether the tree was identical to the last index (nothing written).
    pub unchanged: bool,
    /// Indexed files.
    pub files: u64,
    /// Files parsed in this run.
    pub files_parsed: u64,
    /// Files whose facts were reused (unchanged, or same content at another path).
    pub files_reused: u64,
    /// Files removed from the index.
    pub files_removed: u64,
    /// Files whose references were resolved again (all of them when the index was built from scratch, or when
    /// the manifests or module trees changed; the changed files and those that may refer to them otherwise).
    pub files_relinked: u64,
    /// Files parsed with syntax errors (facts may be partial).
    pub files_with_syntax_errors: u64,
    /// Files that were not UTF-8 and were decoded lossily.
    pub files_decoded_lossily: u64,
    /// Per-language counts.
    pub languages: BTreeMap<String, LanguageCount>,
    /// Total lines indexed.
    pub lines: u64,
    /// Total bytes of indexed source.
    pub source_bytes: u64,
    /// Definitions.
    pub symbols: u64,
    /// References (deduplicated per symbol).
    pub references: u64,
    /// Chunks.
    pub chunks: u64,
    /// Graph edges by kind.
    pub edges: BTreeMap<String, u64>,
    /// Skipped files by reason label.
    pub skipped: BTreeMap<String, u64>,
    /// The skipped files themselves (at most 50).
    pub skipped_examples: Vec<SkippedFile>,
    /// Size of the index directory.
    pub index_bytes: u64,
    /// Wall time.
    pub elapsed_ms: u64,
    /// git HEAD.
    pub git: Option<GitState>,
    /// Why every file was parsed again, when the previous index could not be reused (forced, another format,
    /// a configuration or extractor change, damage).
    pub rebuilt: Option<String>,
    /// What the SCIP indexes gave the graph, when the run linked with one (see `graph.scip`).
    #[serde(default)]
    pub scip: Option<ScipSummary>,
}

/// What the SCIP indexes of a run gave its graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScipSummary {
    /// The SCIP files read (repository-relative).
    pub files: Vec<String>,
    /// Indexed files whose references come from them.
    pub covered_files: u64,
    /// Precise `calls`/`references` edges.
    pub precise_edges: u64,
    /// Documents older than their files (those files keep name-matched edges).
    pub stale_documents: u64,
    /// Why the indexes could not be used (the graph is then name-matched everywhere).
    pub error: Option<String>,
}

/// Phase A's verdict on a file.
enum Check<'a> {
    Kept(FileRecord),
    StillSkipped(SkippedFile),
    Process(&'a Candidate),
}

enum Outcome {
    /// Unchanged: the previous record stands.
    Kept(FileRecord),
    /// New or changed: its chunks were written to the lexical index.
    Written {
        record: FileRecord,
        parsed: bool,
    },
    Skipped(SkippedFile),
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

fn config_hash(config: &Config) -> u64 {
    // Only what changes facts or chunks; overview settings do not force re-parsing. The extractor's version is
    // part of it, so a parser fix re-parses every file, changed or not.
    xxhash_rust::xxh3::xxh3_64(
        format!("{}{:?}{:?}{:?}", sextant_syntax::EXTRACTOR_VERSION, config.index, config.chunk, config.languages)
            .as_bytes(),
    )
}

/// The configured SCIP indexes that exist inside `root` (repository-relative names and full paths), and a stamp of
/// their names, sizes and modification times (0 for none): a regenerated index changes the stamp and re-links.
fn scip_files(root: &Path, config: &Config) -> (Vec<(String, PathBuf)>, u64) {
    let mut files = Vec::new();
    let mut stamp = 0u64;
    for relative in &config.graph.scip {
        // Resolved links must stay in the tree: the name comes from a repository's own configuration.
        let Ok(path) = root.join(relative).canonicalize() else { continue };
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        if !path.starts_with(root) || !metadata.is_file() {
            continue;
        }
        let modified =
            metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        stamp = xxhash_rust::xxh3::xxh3_64(format!("{stamp}:{relative}:{}:{modified}", metadata.len()).as_bytes());
        files.push((relative.clone(), path));
    }
    (files, stamp)
}

/// Replaces the name-matched reference edges of the files the SCIP indexes cover with theirs; `None` when no index
/// is configured and present. A SCIP file that cannot be read leaves the graph as it was, with the reason.
fn link_scip(
    files: &[(String, PathBuf)],
    stamp: u64,
    inputs: &[GraphInput<'_>],
    graph: &mut GraphData,
) -> Option<ScipSummary> {
    /// The last SCIP indexes read in this process, by stamp: a server's updates do not decode them again.
    static READ: std::sync::Mutex<Option<(u64, Arc<sextant_scip::ScipIndex>)>> = std::sync::Mutex::new(None);
    if files.is_empty() {
        return None;
    }
    let mut summary = ScipSummary { files: files.iter().map(|(name, _)| name.clone()).collect(), ..Default::default() };
    let paths: Vec<PathBuf> = files.iter().map(|(_, path)| path.clone()).collect();
    let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let cached = read.as_ref().filter(|(read_stamp, _)| *read_stamp == stamp).map(|(_, index)| Arc::clone(index));
    let loaded = match cached {
        Some(index) => Ok(index),
        None => sextant_scip::ScipIndex::read(&paths).map(Arc::new),
    };
    if let Ok(index) = &loaded {
        *read = Some((stamp, Arc::clone(index)));
    }
    drop(read);
    match loaded {
        Ok(index) => {
            let precise = index.precise_edges(inputs);
            summary.covered_files = precise.covered_files() as u64;
            summary.precise_edges = precise.edges.len() as u64;
            summary.stale_documents = precise.stale_documents.len() as u64;
            precise.apply(graph);
        }
        Err(error) => summary.error = Some(error.to_string()),
    }
    Some(summary)
}

/// Indexes (or updates the index of) a repository, holding the index directory's writer lock for the run
/// (a second writer gets [`IndexError::Busy`]).
pub fn index_repository(options: &IndexOptions<'_>, progress: &dyn Progress) -> Result<IndexSummary, IndexError> {
    let lock = crate::WriterLock::acquire(options.index_dir)?;
    index_repository_locked(options, &lock, progress)
}

/// [`index_repository`] for a caller that already holds the writer lock, because its run goes on after the
/// index commit (vectors, overview) and no other writer may slip in between.
pub fn index_repository_locked(
    options: &IndexOptions<'_>,
    lock: &crate::WriterLock,
    progress: &dyn Progress,
) -> Result<IndexSummary, IndexError> {
    run(options, lock, progress, false, None, None).map(|run| run.summary)
}

/// What [`index_repository_opened`] did, and the reader over what it committed.
pub struct IndexRun {
    /// The run's summary.
    pub summary: IndexSummary,
    /// A reader over the new generation, built from the writer's memory (nothing read back); `None` when the
    /// run committed nothing (the tree was unchanged).
    pub index: Option<Index>,
    /// Set when `index`'s ranks were carried over from the previous generation: the caller makes the reader
    /// answer queries first, then hands this to [`exact_ranks`] (still under the writer lock).
    pub ranks_pending: Option<PendingRanks>,
    /// Set when the git history mined during the run is still being read: an update of an index that has
    /// co-change counts already answers queries with those while the new ones are finished (see
    /// [`PendingHistory::finish`]).
    pub history_pending: Option<PendingHistory>,
}

/// Git history mined on a thread of its own during an update, stored once the new generation answers queries: a
/// branch switch moves HEAD, and reading its new commits should not hold the switch up. The co-change counts it
/// stores are read by the readers opened after it (the previous counts stand until then).
pub struct PendingHistory {
    mining: Option<std::thread::JoinHandle<Option<history::MiningState>>>,
    index_dir: PathBuf,
}

impl PendingHistory {
    /// Waits for the mining and stores its counts; the caller still holds the writer lock (the proof asked for).
    pub fn finish(mut self, _lock: &crate::WriterLock) {
        self.store();
    }

    fn store(&mut self) {
        if let Some(Ok(Some(state))) = self.mining.take().map(std::thread::JoinHandle::join) {
            store::save_cochange(&self.index_dir, &state);
        }
    }
}

impl Drop for PendingHistory {
    /// Not finished explicitly (an error path, a caller that ignores it): the counts are still stored, since the
    /// next run takes them to be current for this HEAD. It is dropped before the writer lock it was made under.
    fn drop(&mut self) {
        self.store();
    }
}

/// What remains of an update whose ranks were carried over: the whole-graph centrality pass, and the stat cache
/// (written only once the ranks are exact, so that a crash in between is noticed by the next run).
pub struct PendingRanks {
    stat_cache: store::StatCache,
}

/// Computes exact ranks for `index` (the generation a run just committed with carried ranks), stores them and
/// returns a reader with them; the facts are shared, not copied. Gives up, returning `None`, as soon as `stop` says
/// so (a newer run is due and will do it): the ranks then stay carried over, in memory and in the store, or, when
/// it gave up after storing them, only in memory.
pub fn exact_ranks(
    _lock: &crate::WriterLock,
    index: &Index,
    pending: PendingRanks,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Index>, IndexError> {
    let mut snapshot = index.committed_snapshot();
    if !make_ranks_exact(index.dir(), &mut snapshot, stop)? {
        return Ok(None);
    }
    store::save_stat_cache(index.dir(), &pending.stat_cache);
    if stop() {
        return Ok(None);
    }
    let lexical = LexicalIndex::open_or_create(&index.dir().join(LEXICAL_DIR))?;
    let exact = Index::from_snapshot_after(index.dir(), snapshot, lexical, Some(index));
    Ok(Some(exact.with_walk(index.walked()).with_manifests(index.manifests())))
}

/// Computes `snapshot`'s exact ranks and stores them for its generation; `false` (nothing changed) when `stop` said
/// so first.
fn make_ranks_exact(dir: &Path, snapshot: &mut Snapshot, stop: &dyn Fn() -> bool) -> Result<bool, IndexError> {
    if !SymbolGraph::compute_ranks_unless(Arc::make_mut(&mut snapshot.graph), stop) {
        return Ok(false);
    }
    snapshot.ranks_exact = true;
    db::write_ranks(dir, snapshot.generation, &snapshot.graph)?;
    Ok(true)
}

/// [`index_repository_locked`] for a process that serves queries: it starts from `current`, the reader it holds,
/// when that is still the committed generation (instead of reading the index back from disk), and it hands over
/// a reader of the generation it commits (instead of re-opening it).
///
/// `changed`, when given, lists every path (absolute) a file watcher saw change since `current` was committed: the
/// run then re-stats those instead of walking the tree, when `current` is the committed generation and the changes
/// are edits or removals of files it knows (anything else still walks).
pub fn index_repository_opened(
    options: &IndexOptions<'_>,
    lock: &crate::WriterLock,
    progress: &dyn Progress,
    current: Option<&Index>,
    changed: Option<&[PathBuf]>,
) -> Result<IndexRun, IndexError> {
    run(options, lock, progress, true, current, changed)
}

fn run(
    options: &IndexOptions<'_>,
    lock: &crate::WriterLock,
    progress: &dyn Progress,
    open: bool,
    current: Option<&Index>,
    changed: Option<&[PathBuf]>,
) -> Result<IndexRun, IndexError> {
    let started = Instant::now();
    let started_at_ns = now_ns();
    let root =
        options.root.canonicalize().map_err(|source| IndexError::Io { path: options.root.to_path_buf(), source })?;
    if !root.is_dir() {
        return Err(IndexError::NotADirectory(root));
    }
    let index_dir = options.index_dir.to_path_buf();
    std::fs::create_dir_all(&index_dir).map_err(|source| IndexError::Io { path: index_dir.clone(), source })?;
    let index_dir = index_dir.canonicalize().map_err(|source| IndexError::Io { path: index_dir.clone(), source })?;
    let config = options.config;
    let limits = ChunkLimits { max_tokens: config.chunk.max_tokens, min_tokens: config.chunk.min_tokens };
    let matcher = LanguageMatcher::new(config)?;
    let config_hash = config_hash(config);
    let (scip, scip_stamp) = scip_files(&root, config);

    let lexical = match LexicalIndex::open_or_create(&index_dir.join(LEXICAL_DIR)) {
        // Written by a Sextant with another lexical schema: the snapshot's format version differs too, so the
        // whole index is rebuilt below ("index format changed"); its lexical part starts empty.
        Err(sextant_lexical::LexicalError::Schema(_)) => {
            std::fs::remove_dir_all(index_dir.join(LEXICAL_DIR))
                .map_err(|e| IndexError::Io { path: index_dir.join(LEXICAL_DIR), source: e })?;
            LexicalIndex::open_or_create(&index_dir.join(LEXICAL_DIR))?
        }
        other => other?,
    };
    let lexical_generation = lexical.committed_payload()?.and_then(|p| p.parse::<u64>().ok());
    let root_name = root.to_string_lossy();
    // Nothing published that readers use: a first index, which commits checkpoints and may resume from one.
    let first_index = !db::has_committed(&index_dir);
    let checkpoint = match first_index && !options.force {
        true => store::load_checkpoint(&index_dir, lexical_generation)
            .filter(|c| c.root == root_name && c.config_hash == config_hash),
        false => None,
    };
    let resuming = checkpoint.is_some();
    if !resuming {
        store::remove_checkpoint(&index_dir);
    }
    // The caller's reader stands for the committed state when it is of the committed generation (the writer lock
    // is held, so nothing commits meanwhile); its facts are shared, not copied.
    let current = current.filter(|index| {
        !first_index
            && lexical_generation == Some(index.generation())
            && index.dir().canonicalize().is_ok_and(|dir| dir == index_dir)
    });
    // An unchanged tree, told from the stat cache alone: the snapshot is not even loaded.
    let mut prewalked = None;
    // Whether a manifest the committed graph was linked against reads differently now (checked by runs that walk).
    let mut manifests_moved = false;
    let mut manifests_checked = false;
    let mut recorded_manifests = None;
    if !options.force && !first_index && checkpoint.is_none() && current.is_none() {
        let usable = |c: &store::StatCache| {
            Some(c.generation) == lexical_generation && c.root == root_name && c.config_hash == config_hash
        };
        if let Some(cache) = store::load_stat_cache(&index_dir).filter(usable) {
            progress.phase("walk", None);
            let walked = walk::walk(&root, config, &index_dir, &matcher)?;
            let git = git_state(&root);
            let tree_unchanged =
                git == cache.git && cache.scip_stamp == scip_stamp && stat_cache_matches(&cache, &walked);
            manifests_moved = manifests_changed(&root, cache.manifests.as_deref());
            manifests_checked = true;
            if tree_unchanged && !manifests_moved {
                let mut summary = cache.summary;
                summary.unchanged = true;
                (summary.files_parsed, summary.files_reused, summary.files_removed) = (0, summary.files, 0);
                (summary.files_relinked, summary.rebuilt) = (0, None);
                summary.elapsed_ms = started.elapsed().as_millis() as u64;
                return Ok(IndexRun { summary, index: None, ranks_pending: None, history_pending: None });
            }
            recorded_manifests = cache.manifests;
            prewalked = Some((walked, git));
        }
    }
    // An interrupted commit is finished (or dropped) first, so the committed records are what `previous` says.
    match db::settle(&index_dir, lexical_generation) {
        Ok(()) | Err(IndexError::OldFormat { .. } | IndexError::Corrupt { .. }) => {}
        Err(other) => return Err(other),
    }
    let loaded = match (checkpoint, current) {
        (Some(checkpoint), _) => Ok(Some(checkpoint)),
        (None, Some(index)) => Ok(Some(index.committed_snapshot())),
        (None, None) => db::load(&index_dir, lexical_generation),
    };
    let (previous, rebuilt) = match loaded {
        Ok(Some(snapshot)) if options.force => {
            (None, Some("forced".to_string()).filter(|_| !snapshot.files.is_empty()))
        }
        Ok(Some(snapshot)) if snapshot.root != root.to_string_lossy() => {
            (None, Some(format!("the index held {}: rebuilding", snapshot.root)))
        }
        Ok(Some(snapshot)) if snapshot.config_hash != config_hash => {
            (None, Some("configuration or extractor changed: rebuilding".to_string()))
        }
        Ok(Some(snapshot)) => (Some(snapshot), None),
        Ok(None) => (None, None),
        // An interrupted first index without a usable checkpoint: start it again.
        Err(IndexError::Inconsistent { snapshot: None, .. }) if first_index => (None, None),
        // Another format, or torn beyond repair: rebuild from scratch, saying why (it is not the user's problem).
        Err(IndexError::OldFormat { .. }) => (None, Some("index format changed: rebuilding".to_string())),
        Err(error @ (IndexError::Inconsistent { .. } | IndexError::Corrupt { .. })) => {
            (None, Some(format!("the index was damaged ({error}): rebuilding")))
        }
        Err(other) => return Err(other),
    };
    if let Some(reason) = &rebuilt {
        progress.phase(reason, None);
    }
    if let Some(checkpoint) = previous.as_ref().filter(|_| resuming) {
        let resumed = format!("resuming an interrupted first index: {} files were done", checkpoint.files.len());
        progress.phase(&resumed, None);
    }
    let mut generation = previous.as_ref().map_or(0, |p| p.generation).max(lexical_generation.unwrap_or(0)) + 1;
    let previous_git = previous.as_ref().map(|p| p.git.clone());

    // The files a watcher saw change, against the walk the loaded generation was built from.
    let refreshed = match (changed, current.and_then(Index::walked)) {
        (Some(changed), Some(previous)) => walk::refresh(&previous, &root, changed, &matcher),
        _ => None,
    };
    // Whether the changed files' manifests can be the ones the loaded generation read: only when the watcher's
    // paths stand for the whole change (no walk was needed) and none of them is a manifest.
    let manifests_unchanged = refreshed.is_some() && changed.is_some_and(names_no_manifest);
    // A watcher saw a package manifest change: what packages exist and may use each other is linked again even
    // when no source file changed (an added dependency, a renamed crate).
    let manifest_reported = changed.is_some_and(|paths| !names_no_manifest(paths));
    // The manifests the committed graph was linked against, as the stat cache recorded them.
    let recorded = || {
        store::load_stat_cache(&index_dir)
            .filter(|c| Some(c.generation) == lexical_generation && c.root == root_name)
            .and_then(|c| c.manifests)
    };
    // A run that walks (it was told no paths, or not enough) cannot rely on a watcher to name an edited manifest.
    if refreshed.is_none() && !manifests_checked && !first_index {
        recorded_manifests = recorded();
        manifests_moved = manifests_changed(&root, recorded_manifests.as_deref());
    }
    let relink_manifests = manifest_reported || manifests_moved;
    if !manifests_unchanged {
        // This run may commit nothing (no source changed) and leave the reader in place: its manifests must not
        // stand for a later run.
        if let Some(index) = current {
            index.forget_manifests();
        }
    }
    let (walked, git) = match (prewalked, refreshed) {
        (Some(walked), _) => walked,
        (None, Some(walked)) => (walked, git_state(&root)),
        (None, None) => {
            progress.phase("walk", None);
            (walk::walk(&root, config, &index_dir, &matcher)?, git_state(&root))
        }
    };
    // Files that change together, from git history: mined again only when HEAD moved (new commits are added to
    // the previous counts), on a thread of its own while the files are parsed. A failure costs only this signal.
    let had_cochange = index_dir.join(history::COCHANGE_FILE).exists();
    let history_current = previous_git.as_ref() == Some(&git) && had_cochange;
    let history = (git.is_some() && !history_current).then(|| {
        let (root, index_dir) = (root.to_path_buf(), index_dir.to_path_buf());
        std::thread::spawn(move || {
            history::MiningState::mine(&root, store::load_mining_state(&index_dir), history::MAX_COMMITS)
        })
    });
    // Shared with the reader this run opens, for the next run's `changed` list.
    let walked = Arc::new(walked);
    let walk_view: Vec<(String, u64, u64)> =
        walked.candidates.iter().map(|c| (c.rel.clone(), c.size, c.mtime_ns)).collect();
    let mut walk_skipped: Vec<String> = walked.skipped.iter().map(|s| s.path.clone()).collect();
    walk_skipped.sort();
    // What this run commits (checkpoints and the final snapshot): its files, skips and graph under its header.
    let run_snapshot =
        |generation: u64, files: Vec<FileRecord>, skipped: Vec<SkippedFile>, graph: GraphData| Snapshot {
            format_version: store::FORMAT_VERSION,
            generation,
            root: root_name.to_string(),
            indexed_at: started_at_ns / 1_000_000_000,
            started_at_ns,
            config_hash,
            git: git.clone(),
            files,
            skipped,
            graph: Arc::new(graph),
            ranks_exact: true,
            scip_stamp,
        };

    let previous_by_path: HashMap<&str, &FileRecord> =
        previous.iter().flat_map(|p| p.files.iter()).map(|r| (r.path.as_str(), r)).collect();
    let previous_by_hash: HashMap<u128, &FileRecord> =
        previous.iter().flat_map(|p| p.files.iter()).map(|r| (r.hash, r)).collect();
    let trust_mtime_before = previous.as_ref().map_or(0, |p| p.started_at_ns.saturating_sub(RACY_WINDOW_NS));

    // Phase A: what is unchanged? (stat first, content hash when the stat differs)
    let previously_skipped: HashMap<&str, &SkippedFile> =
        previous.iter().flat_map(|p| p.skipped.iter()).map(|s| (s.path.as_str(), s)).collect();
    progress.phase("check", Some(walked.candidates.len() as u64));
    let checked: Vec<Check<'_>> = walked
        .candidates
        .par_iter()
        .map(|candidate| {
            let stat_trusted = candidate.mtime_ns < trust_mtime_before;
            if let Some(skipped) = previously_skipped.get(candidate.rel.as_str()) {
                if stat_trusted && skipped.stat == (candidate.size, candidate.mtime_ns) {
                    return Check::StillSkipped((*skipped).clone());
                }
            }
            let Some(old) = previous_by_path.get(candidate.rel.as_str()) else { return Check::Process(candidate) };
            if stat_trusted && old.size == candidate.size && old.mtime_ns == candidate.mtime_ns {
                return Check::Kept((*old).clone());
            }
            match std::fs::read(&candidate.abs) {
                Ok(bytes) if crate::content_hash(&bytes) == old.hash => {
                    let mut record = (*old).clone();
                    record.mtime_ns = candidate.mtime_ns;
                    record.size = candidate.size;
                    Check::Kept(record)
                }
                _ => Check::Process(candidate),
            }
        })
        .collect();
    drop(previously_skipped);
    let skip_signature = |skipped: &[SkippedFile]| -> Vec<(String, SkipReason)> {
        skipped.iter().map(|s| (s.path.clone(), s.reason.clone())).collect()
    };
    let previous_skips = previous.as_ref().map(|p| skip_signature(&p.skipped));
    let to_process: Vec<&Candidate> =
        checked.iter().filter_map(|c| if let Check::Process(c) = c { Some(*c) } else { None }).collect();
    let present: HashSet<&str> = walked.candidates.iter().map(|c| c.rel.as_str()).collect();
    let mut removed: Vec<String> =
        previous_by_path.keys().filter(|p| !present.contains(**p)).map(|p| p.to_string()).collect();
    removed.sort();

    // Phase B: parse what changed, writing its chunks as we go.
    let mut writer: Option<LexicalWriter> = None;
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(walked.candidates.len());
    let full_rebuild = previous.is_none();
    // A new, regenerated or removed SCIP index changes the graph of unchanged files: a generation of its own.
    let scip_changed = previous.as_ref().is_some_and(|p| p.scip_stamp != scip_stamp);
    if !to_process.is_empty() || !removed.is_empty() || full_rebuild || scip_changed || relink_manifests {
        let mut w = lexical.writer()?;
        if full_rebuild {
            w.delete_all()?;
        }
        for path in &removed {
            w.delete_path(path);
        }
        progress.phase("parse", Some(to_process.len() as u64));
        let every = config.index.checkpoint_files as usize;
        let checkpointing = first_index && every > 0 && to_process.len() > every;
        let batch = if checkpointing { every } else { to_process.len().max(1) };
        let mut processed: Vec<Outcome> = Vec::with_capacity(to_process.len());
        for (number, candidates) in to_process.chunks(batch).enumerate() {
            let outcomes: Vec<Outcome> = candidates
                .par_iter()
                .map(|candidate| {
                    let outcome = process(candidate, config, limits, &previous_by_path, &previous_by_hash, &w);
                    progress.file_done();
                    outcome
                })
                .collect();
            processed.extend(outcomes);
            // The last batch is committed by the index commit itself.
            if checkpointing && (number + 1) * batch < to_process.len() {
                let files = checkpoint_records(&checked, &processed);
                let checkpoint = run_snapshot(generation, files, Vec::new(), Default::default());
                store::prepare_checkpoint(&index_dir, &checkpoint)?;
                w.checkpoint(&generation.to_string())?;
                store::publish_checkpoint(&index_dir)?;
                generation += 1;
            }
        }
        let mut processed = processed.into_iter();
        for entry in checked {
            match entry {
                Check::Kept(record) => outcomes.push(Outcome::Kept(record)),
                Check::StillSkipped(skipped) => outcomes.push(Outcome::Skipped(skipped)),
                Check::Process(_) => outcomes.extend(processed.next()),
            }
        }
        writer = Some(w);
    } else {
        for entry in checked {
            match entry {
                Check::Kept(record) => outcomes.push(Outcome::Kept(record)),
                Check::StillSkipped(skipped) => outcomes.push(Outcome::Skipped(skipped)),
                Check::Process(_) => unreachable!("nothing to process in this branch"),
            }
        }
    }

    let mut records = Vec::with_capacity(outcomes.len());
    let mut skipped = walked.skipped.clone();
    let (mut parsed, mut reused, mut written) = (0u64, 0u64, 0u64);
    // Paths whose facts may differ from the previous index's: the linker re-resolves around them.
    let mut changed_paths: HashSet<String> = removed.iter().cloned().collect();
    for outcome in outcomes {
        match outcome {
            Outcome::Kept(record) => {
                reused += 1;
                records.push(record);
            }
            Outcome::Written { record, parsed: was_parsed } => {
                changed_paths.insert(record.path.clone());
                written += 1;
                if was_parsed {
                    parsed += 1;
                } else {
                    reused += 1;
                }
                records.push(record);
            }
            Outcome::Skipped(s) => {
                // A file that became unindexable must leave the lexical index too.
                if let Some(w) = &writer {
                    w.delete_path(&s.path);
                }
                skipped.push(s);
            }
        }
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));

    drop(previous_by_path);
    drop(previous_by_hash);
    // A file re-read only because its timestamp was too recent to trust may turn out skipped for the same
    // reason as before: that is no change, and the writer's uncommitted work is dropped.
    let changed = full_rebuild
        || resuming
        || written > 0
        || !removed.is_empty()
        || previous_skips != Some(skip_signature(&skipped))
        || scip_changed
        || relink_manifests;
    if !changed {
        writer = None;
    }
    let unchanged = writer.is_none();
    let mut link_stats = LinkStats::default();
    let mut scip_summary = None;
    let mut ranks_refreshed = false;
    let mut manifests_read = None;
    let mut stats_rewritten = false;
    let snapshot = match (unchanged, previous) {
        (true, Some(mut previous)) => {
            // A crash after an update's commit left carried ranks: finish them now.
            if !previous.ranks_exact {
                make_ranks_exact(&index_dir, &mut previous, &|| false)?;
                ranks_refreshed = true;
            }
            // Nothing to re-link or re-index. Rewrite the snapshot only when what the stat shortcut needs or the
            // git state moved; otherwise an unchanged run writes nothing at all.
            let stat =
                |files: &[FileRecord]| -> Vec<(u64, u64)> { files.iter().map(|f| (f.size, f.mtime_ns)).collect() };
            let skip_stat = |skipped: &[SkippedFile]| -> Vec<(u64, u64)> { skipped.iter().map(|s| s.stat).collect() };
            let refreshed = stat(&previous.files) != stat(&records)
                || skip_stat(&previous.skipped) != skip_stat(&skipped)
                || previous.git != git;
            if refreshed {
                let mut refreshed = previous.clone();
                refreshed.files = records;
                refreshed.skipped = skipped;
                refreshed.git = git.clone();
                refreshed.started_at_ns = started_at_ns;
                db::replace(&index_dir, &refreshed, Some(&previous))?;
                // The commit stamp moved: a reader of this very snapshot replaces the caller's, which would
                // otherwise be read back from disk as if another process had committed.
                stats_rewritten = true;
                refreshed
            } else {
                previous.files = records;
                previous.skipped = skipped;
                previous
            }
        }
        (_, previous) => {
            progress.phase("link", None);
            let inputs: Vec<GraphInput<'_>> =
                records.iter().map(|r| GraphInput { path: &r.path, facts: &r.facts }).collect();
            let dirs = manifest_dirs(&records);
            let manifest_set = match current.and_then(Index::manifests) {
                Some(kept) if manifests_unchanged && kept.looked_in(&dirs) => kept,
                _ => Arc::new(ManifestSet {
                    texts: read_manifests(&root, &dirs),
                    dirs: dirs.iter().map(|d| d.to_string()).collect(),
                }),
            };
            let manifests: Vec<Manifest<'_>> =
                manifest_set.texts.iter().map(|(path, text)| Manifest { path, text }).collect();
            let old_inputs: Vec<GraphInput<'_>> = previous
                .iter()
                .flat_map(|p| p.files.iter())
                .map(|r| GraphInput { path: &r.path, facts: &r.facts })
                .collect();
            let changed: HashSet<&str> = changed_paths.iter().map(String::as_str).collect();
            // A checkpoint has no graph, and a new SCIP index changes edges of unchanged files: everything is linked.
            let previous_link = previous.as_ref().filter(|_| !resuming && !scip_changed).map(|p| PreviousLink {
                files: &old_inputs,
                data: &p.graph,
                changed: &changed,
            });
            // An update carries the previous ranks over: the whole-graph pass waits until after the commit.
            let (mut graph, stats, ranks_exact) = match previous_link {
                Some(previous_link) => {
                    let (graph, stats) = SymbolGraph::update_carrying_ranks(&inputs, &manifests, previous_link);
                    (graph, stats, false)
                }
                None => {
                    let (graph, stats) = SymbolGraph::update_with_manifests(&inputs, &manifests, None);
                    (graph.into_data(), stats, true)
                }
            };
            link_stats = stats;
            scip_summary = link_scip(&scip, scip_stamp, &inputs, &mut graph);
            // A full link ranked the name-matched graph: the precise one is ranked after the commit.
            let ranks_exact = ranks_exact && scip_summary.as_ref().is_none_or(|s| s.precise_edges == 0);
            db::canonicalise(&mut graph);
            drop(inputs);
            drop(old_inputs);
            drop(manifests);
            manifests_read = Some(manifest_set);
            let mut snapshot = run_snapshot(generation, records, skipped, graph);
            snapshot.ranks_exact = ranks_exact;
            progress.phase("commit", None);
            // Only records that differ from what is committed are written; a resumed checkpoint, a rebuild or a
            // first index replaces them all.
            let base = previous.as_ref().filter(|_| !resuming);
            db::prepare(&index_dir, &snapshot, base)?;
            drop(previous);
            crash_point::reached(CrashPoint::AfterPrepare);
            if let Some(w) = writer {
                w.commit(&generation.to_string())?;
            }
            crash_point::reached(CrashPoint::AfterLexicalCommit);
            db::publish(&index_dir)?;
            if first_index {
                store::remove_checkpoint(&index_dir);
            }
            // A caller without a reader to serve has nothing to show early: the ranks are made exact now.
            if !snapshot.ranks_exact && !open {
                progress.phase("ranks", None);
                make_ranks_exact(&index_dir, &mut snapshot, &|| false)?;
            }
            snapshot
        }
    };

    let mut summary = summarize(&snapshot, &snapshot.graph, &root, &index_dir, unchanged);
    summary.files_parsed = parsed;
    summary.files_reused = reused;
    summary.files_removed = removed.len() as u64;
    summary.files_relinked = link_stats.files_relinked;
    summary.rebuilt = rebuilt;
    summary.scip = scip_summary;
    let stat_cache = store::StatCache {
        generation: snapshot.generation,
        root: root_name.to_string(),
        config_hash,
        // This run's start, not the snapshot's: every file modified near the snapshot's start was read and
        // compared by content above, so an unchanged run moves the boundary on and the next one needs no reads.
        trusted_before_ns: started_at_ns.saturating_sub(RACY_WINDOW_NS),
        git: snapshot.git.clone(),
        candidates: walk_view,
        walk_skipped,
        summary: summary.clone(),
        scip_stamp,
        // What the graph was linked against: this run's manifests when it linked, else the last link's.
        manifests: match (&manifests_read, recorded_manifests) {
            (Some(set), _) => Some(manifest_hashes(&set.texts)),
            (None, Some(recorded)) => Some(recorded),
            (None, None) => recorded(),
        },
    };
    let ranks_pending = match snapshot.ranks_exact {
        true => {
            store::save_stat_cache(&index_dir, &stat_cache);
            None
        }
        false => Some(PendingRanks { stat_cache }),
    };
    let mut history_pending =
        history.map(|mining| PendingHistory { mining: Some(mining), index_dir: index_dir.clone() });
    // A caller that serves queries and has co-change counts already is given the mining to finish once the new
    // generation answers; the others (a first index, a one-shot run) wait for it here.
    if !(open && had_cochange) {
        if let Some(pending) = history_pending.take() {
            progress.phase("history", None);
            pending.finish(lock);
        }
    }
    let reopen = !unchanged || ranks_refreshed || stats_rewritten;
    if open && !reopen {
        // The caller's reader stays: the tree was checked against it, so the next hinted update refreshes this
        // walk instead of walking again (a reader loaded from disk has none until then).
        if let Some(index) = current {
            index.attach_walk(Some(Arc::clone(&walked)));
        }
    }
    let index = match open && reopen {
        true => Some(
            Index::from_snapshot_after(
                &index_dir,
                snapshot,
                LexicalIndex::open_or_create(&index_dir.join(LEXICAL_DIR))?,
                current,
            )
            .with_walk(Some(Arc::clone(&walked)))
            .with_manifests(manifests_read),
        ),
        false => None,
    };
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(IndexRun { summary, index, ranks_pending, history_pending })
}

/// Whether the walk sees exactly the tree the stat cache describes: the same paths with the same size and
/// modification time, each old enough to be trusted, and the same paths skipped by the walk.
fn stat_cache_matches(cache: &store::StatCache, walked: &walk::WalkOutput) -> bool {
    let mut skipped: Vec<&str> = walked.skipped.iter().map(|s| s.path.as_str()).collect();
    skipped.sort_unstable();
    walked.candidates.len() == cache.candidates.len()
        && walked.candidates.iter().zip(&cache.candidates).all(|(c, (path, size, mtime))| {
            c.rel == *path && c.size == *size && c.mtime_ns == *mtime && c.mtime_ns < cache.trusted_before_ns
        })
        && skipped.len() == cache.walk_skipped.len()
        && skipped.iter().zip(&cache.walk_skipped).all(|(a, b)| a == b)
}

/// The files a checkpoint holds: those kept from the checkpoint resumed (their chunks are committed already) and
/// those written so far, sorted by path.
fn checkpoint_records(checked: &[Check<'_>], processed: &[Outcome]) -> Vec<FileRecord> {
    let kept = checked.iter().filter_map(|c| if let Check::Kept(r) = c { Some(r) } else { None });
    let written =
        processed.iter().filter_map(|o| if let Outcome::Written { record, .. } = o { Some(record) } else { None });
    let mut records: Vec<FileRecord> = kept.chain(written).cloned().collect();
    records.sort_by(|a, b| a.path.cmp(&b.path));
    records
}

fn process(
    candidate: &Candidate,
    config: &Config,
    limits: ChunkLimits,
    previous_by_path: &HashMap<&str, &FileRecord>,
    previous_by_hash: &HashMap<u128, &FileRecord>,
    writer: &LexicalWriter,
) -> Outcome {
    let skip = |reason: SkipReason| {
        Outcome::Skipped(SkippedFile {
            path: candidate.rel.clone(),
            reason,
            stat: (candidate.size, candidate.mtime_ns),
        })
    };
    if candidate.size > config.index.max_file_bytes {
        return skip(SkipReason::TooLarge { bytes: candidate.size });
    }
    let bytes = match std::fs::read(&candidate.abs) {
        Ok(bytes) => bytes,
        Err(e) => return skip(SkipReason::Unreadable { error: e.to_string() }),
    };
    // The file may have grown between the walk and the read.
    if bytes.len() as u64 > config.index.max_file_bytes {
        return skip(SkipReason::TooLarge { bytes: bytes.len() as u64 });
    }
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return skip(SkipReason::Binary);
    }
    let hash = crate::content_hash(&bytes);
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(text) => (text, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    let longest_line = text.split('\n').map(str::len).max().unwrap_or(0);
    if longest_line > config.index.max_line_bytes {
        return skip(SkipReason::Minified { longest_line });
    }
    let (facts, parsed): (Arc<FileFacts>, bool) = match previous_by_hash.get(&hash) {
        // Same content seen at another path (a rename, a copy, another branch): reuse its facts.
        Some(old) if old.facts.language == candidate.language => (Arc::clone(&old.facts), false),
        _ => match analyze(candidate.language, &text, limits) {
            Ok(facts) => (Arc::new(facts), true),
            Err(e) => return skip(SkipReason::ParseFailed { error: e.to_string() }),
        },
    };
    if previous_by_path.contains_key(candidate.rel.as_str()) {
        writer.delete_path(&candidate.rel);
    }
    let language = candidate.language.name();
    let file_tokens = facts.chunks.iter().map(|c| c.tokens).sum();
    for chunk in &facts.chunks {
        let body = text.get(chunk.span.start_byte as usize..chunk.span.end_byte as usize).unwrap_or("");
        let mut symbols = chunk.symbol_path.clone();
        for s in &chunk.symbols {
            symbols.push(' ');
            symbols.push_str(s);
        }
        let document = ChunkDocument {
            path: &candidate.rel,
            language,
            symbols: &symbols,
            text: body,
            start_line: chunk.span.start_line,
            end_line: chunk.span.end_line,
            tokens: chunk.tokens,
            file_tokens,
        };
        if let Err(e) = writer.add_chunk(&document) {
            return skip(SkipReason::ParseFailed { error: format!("cannot index chunk: {e}") });
        }
    }
    let record = FileRecord {
        path: candidate.rel.clone(),
        hash,
        size: candidate.size,
        mtime_ns: candidate.mtime_ns,
        lossy,
        facts,
    };
    Outcome::Written { record, parsed }
}

/// The package manifests a link read and the directories they were looked for in. The reader a run opens keeps
/// them: the next update, when its watcher's paths name no manifest and its files span the same directories, links
/// against them instead of looking in every directory again (thousands of `stat` calls on a large tree).
#[derive(Debug)]
pub(crate) struct ManifestSet {
    /// Where manifests were looked for ([`manifest_dirs`]).
    dirs: Vec<String>,
    /// `(path, text)` of each manifest found ([`read_manifests`]).
    texts: Vec<(String, String)>,
}

impl ManifestSet {
    /// Whether these manifests were looked for in exactly `dirs`.
    fn looked_in(&self, dirs: &[&str]) -> bool {
        self.dirs.iter().map(String::as_str).eq(dirs.iter().copied())
    }
}

/// Whether none of the paths a watcher reported is a package manifest (by file name).
fn names_no_manifest(paths: &[PathBuf]) -> bool {
    paths.iter().all(|path| {
        path.file_name().and_then(|n| n.to_str()).is_none_or(|n| !sextant_graph::MANIFEST_FILES.contains(&n))
    })
}

/// The directories that hold indexed files and those above them, sorted (the root is `""`).
fn manifest_dirs(records: &[FileRecord]) -> Vec<&str> {
    let mut dirs: std::collections::BTreeSet<&str> = std::collections::BTreeSet::from([""]);
    for record in records {
        let mut dir = record.path.as_str();
        // Stop at the first directory already seen: its ancestors are in the set too.
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if !dirs.insert(parent) {
                break;
            }
            dir = parent;
        }
    }
    dirs.into_iter().collect()
}

/// Path and content hash of each manifest text.
fn manifest_hashes(texts: &[(String, String)]) -> Vec<(String, u64)> {
    texts.iter().map(|(path, text)| (path.clone(), xxhash_rust::xxh3::xxh3_64(text.as_bytes()))).collect()
}

/// Whether any of the `recorded` manifests (path, content hash) reads differently now or is gone. A manifest added
/// where none was is not seen here: it comes with source files, or a watcher names it. What [`read_manifests`]
/// would skip (a symlink, a file over its size limit) counts as changed without being read.
fn manifests_changed(root: &Path, recorded: Option<&[(String, u64)]>) -> bool {
    recorded.is_some_and(|recorded| {
        recorded.iter().any(|(path, hash)| {
            let path = root.join(path);
            let readable = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_MANIFEST_BYTES);
            !readable || std::fs::read(&path).map_or(true, |bytes| xxhash_rust::xxh3::xxh3_64(&bytes) != *hash)
        })
    })
}

/// Manifests larger than this are not read (a package manifest is a few kilobytes).
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Package manifests (`Cargo.toml`, `package.json`, `go.mod` …) in `dirs`, as `(path, text)`. The graph reads
/// package names from them (so `use grep_searcher::Searcher` links to the right crate) and declared dependencies
/// (so a reference never resolves into a package its own does not depend on). Symlinks and files over 1 MiB are
/// skipped.
fn read_manifests(root: &Path, dirs: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for &dir in dirs {
        for name in sextant_graph::MANIFEST_FILES {
            let rel = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
            let path = root.join(&rel);
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((rel, text));
            }
        }
    }
    out
}

pub(crate) fn summarize(
    snapshot: &Snapshot,
    graph: &GraphData,
    root: &Path,
    index_dir: &Path,
    unchanged: bool,
) -> IndexSummary {
    let mut summary = IndexSummary {
        root: root.to_path_buf(),
        index_dir: index_dir.to_path_buf(),
        generation: snapshot.generation,
        unchanged,
        files: snapshot.files.len() as u64,
        files_parsed: 0,
        files_reused: 0,
        files_removed: 0,
        files_relinked: 0,
        files_with_syntax_errors: 0,
        files_decoded_lossily: 0,
        languages: BTreeMap::new(),
        lines: 0,
        source_bytes: 0,
        symbols: 0,
        references: 0,
        chunks: 0,
        edges: BTreeMap::new(),
        skipped: BTreeMap::new(),
        skipped_examples: snapshot.skipped.iter().take(50).cloned().collect(),
        index_bytes: dir_size(index_dir).saturating_sub(dir_size(&index_dir.join(crate::VECTORS_DIR))),
        elapsed_ms: 0,
        git: snapshot.git.clone(),
        rebuilt: None,
        scip: None,
    };
    for record in &snapshot.files {
        let facts = &record.facts;
        let entry = summary.languages.entry(facts.language.name().to_string()).or_default();
        entry.files += 1;
        entry.lines += facts.lines as u64;
        summary.lines += facts.lines as u64;
        summary.source_bytes += record.size;
        summary.symbols += facts.symbols.len() as u64;
        summary.references += facts.references.len() as u64;
        summary.chunks += facts.chunks.len() as u64;
        summary.files_with_syntax_errors += facts.has_errors as u64;
        summary.files_decoded_lossily += record.lossy as u64;
    }
    // Counted by kind first: a map entry per edge would allocate a name per edge (a million on kafka).
    let kinds = sextant_graph::EdgeKind::ALL;
    let mut by_kind = [0u64; sextant_graph::EdgeKind::ALL.len()];
    for edge in &graph.edges {
        by_kind[edge.kind as usize] += 1;
    }
    for (kind, count) in kinds.iter().zip(by_kind).filter(|(_, count)| *count > 0) {
        summary.edges.insert(kind.as_str().to_string(), count);
    }
    for s in &snapshot.skipped {
        *summary.skipped.entry(s.reason.label().to_string()).or_default() += 1;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> FileRecord {
        store::test_record(path, &[])
    }

    #[test]
    fn kept_manifests_stand_only_for_the_same_directories_and_no_manifest_reported() {
        let records = [record("crates/a/src/lib.rs"), record("crates/a/src/deep/mod.rs"), record("main.rs")];
        let dirs = manifest_dirs(&records);
        assert_eq!(dirs, ["", "crates", "crates/a", "crates/a/src", "crates/a/src/deep"]);
        let kept = ManifestSet { dirs: dirs.iter().map(|d| d.to_string()).collect(), texts: Vec::new() };
        assert!(kept.looked_in(&dirs));
        // The last file of a directory removed: that directory's manifest no longer counts.
        assert!(!kept.looked_in(&manifest_dirs(&records[..1])));
        let reported = |paths: &[&str]| -> Vec<PathBuf> { paths.iter().map(|p| Path::new("/repo").join(p)).collect() };
        assert!(names_no_manifest(&reported(&["crates/a/src/lib.rs", "crates/a/src/.lib.rs.swp"])));
        assert!(!names_no_manifest(&reported(&["crates/a/src/lib.rs", "crates/a/Cargo.toml"])));
        assert!(!names_no_manifest(&reported(&["web/package.json"])));
    }
}
