//! One hosted repository: its index, vectors and overview, and every operation on them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use sextant_config::Config;
use sextant_index::{
    index_repository_opened, CommitStamp, FromStore, Index, IndexOptions, IndexSummary, LexicalSearcher, ReferenceInfo,
    Relation, SearchOptions, SymbolInfo, WriterLock,
};
use sextant_overview::Overview;
use sextant_pack::{build_pack_with, ContextPack, PackRequest};
use sextant_semantic::{SearchHit, SearchMode, SemanticEngine, SemanticError, SyncReport, VectorState};

use crate::page::{Page, Paged};
use crate::progress::{Adapter, EngineProgress};
use crate::EngineError;

/// Longest query or symbol name accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 10_000;
/// Most lines one [`Repository::read_source`] returns.
pub const MAX_SOURCE_LINES: u32 = 20_000;
/// Most bytes of text one [`Repository::read_source`] returns (whole lines; the range is cut short).
pub const MAX_SOURCE_BYTES: usize = 2 * 1024 * 1024;
/// Most search hits one call returns.
const MAX_SEARCH_LIMIT: usize = 1_000;

/// A repository to host: its name, root and index directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySpec {
    /// The name clients use in requests.
    pub name: String,
    /// Repository root.
    pub root: PathBuf,
    /// Where its index lives.
    pub index_dir: PathBuf,
}

impl RepositorySpec {
    /// A spec from its parts, as given.
    pub fn new(name: String, root: PathBuf, index_dir: PathBuf) -> RepositorySpec {
        RepositorySpec { name, root, index_dir }
    }

    /// The repository at `root` (canonicalised), named after its directory, with its index in `index_dir` or
    /// in the default place ([`crate::default_index_dir`]).
    pub fn for_root(root: &Path, index_dir: Option<PathBuf>) -> Result<RepositorySpec, EngineError> {
        let root = crate::canonical(root)?;
        let index_dir = match index_dir {
            Some(dir) => dir,
            None => crate::default_index_dir(&root)?,
        };
        Ok(RepositorySpec { name: crate::name_of(&root), root, index_dir })
    }
}

/// Machine-level choices for a repository (never taken from the repository's own files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Embed chunks after indexing (when the configuration allows it and the model loads).
    pub embed: bool,
    /// Keep vectors on this Qdrant server instead of where the configuration says.
    pub qdrant_url: Option<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { embed: true, qdrant_url: None }
    }
}

/// What an indexing run did.
#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    /// The keyword and symbol index.
    #[serde(flatten)]
    pub summary: IndexSummary,
    /// The vector sync, when embedding ran.
    pub vectors: Option<SyncReport>,
    /// Where the vectors are, when embedding ran.
    pub vector_location: Option<String>,
    /// What was skipped but did not fail the run (no model, overview failed).
    pub warnings: Vec<String>,
}

/// Ranked search results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The mode that ran (hybrid unless another was asked for).
    pub mode: SearchMode,
    /// Best first.
    pub hits: Vec<SearchHit>,
    /// Signals that were wanted but could not run (e.g. hybrid without a loadable model).
    pub warnings: Vec<String>,
}

/// After an update that a watcher started, how long the work that only polishes its generation (exact ranks, warming,
/// the overview) waits for more edits first. A burst of saves (an agent editing file after file) then goes commit
/// after commit, none waiting behind the previous one's passes over the whole graph, which run once it is quiet.
pub(crate) const POLISH_AFTER_QUIET: std::time::Duration = std::time::Duration::from_millis(250);

/// Returns after `quiet`, or as soon as `stop` says so.
fn wait_for_quiet(quiet: std::time::Duration, stop: &dyn Fn() -> bool) {
    let until = std::time::Instant::now() + quiet;
    while !stop() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A range of an indexed file, as indexed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceText {
    /// Repository-relative path.
    pub path: String,
    /// Language id.
    pub language: String,
    /// First line returned (1-based).
    pub start_line: u32,
    /// Last line returned (inclusive; 0 for an empty file).
    pub end_line: u32,
    /// Lines in the file.
    pub total_lines: u32,
    /// Whether the range asked for was cut short by [`MAX_SOURCE_LINES`] or [`MAX_SOURCE_BYTES`].
    pub truncated: bool,
    /// The text of those lines.
    pub text: String,
}

/// What is indexed: the index summary, when, and the vectors.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryStatus {
    /// The repository's name.
    pub name: String,
    /// The committed index.
    #[serde(flatten)]
    pub summary: IndexSummary,
    /// Unix seconds of the commit.
    pub indexed_at: u64,
    /// The vectors, if any were ever synced.
    pub vectors: Option<VectorState>,
    /// Bytes the vectors take on disk in the index directory.
    pub vectors_disk_bytes: u64,
    /// Whether the vectors match this index generation completely.
    pub vectors_current: bool,
    /// Whether a run of this process is under way or waiting (see [`Repository::indexing`]).
    pub indexing: bool,
}

/// The loaded index and the commit it came from.
struct Loaded {
    index: Arc<Index>,
    stamp: Option<CommitStamp>,
}

/// A hosted repository. Cheap to share (`Arc`); every operation takes `&self`.
pub struct Repository {
    spec: RepositorySpec,
    config: Config,
    options: EngineOptions,
    current: RwLock<Option<Loaded>>,
    overview: RwLock<Option<Arc<Overview>>>,
    /// The model and store, opened on first need.
    vectors: Mutex<Option<Arc<SemanticEngine>>>,
    /// Indexing runs of this process, one at a time.
    writing: Mutex<()>,
    /// Loads of the index from disk, one at a time: callers that find none loaded wait for the first load instead
    /// of each reading the whole index (a second on a large repository) at once.
    loading: Mutex<()>,
    /// Whether a run waits behind the one in progress (at most one does).
    queued: AtomicBool,
    /// Set by the watcher when files changed after its last run began: the run under way is superseded, so it
    /// leaves the work that only polishes its generation (exact ranks, warming, the overview) to the next one.
    pub(crate) edits_pending: AtomicBool,
    /// The paths changed since the stored overview was last built by this process, as the runs were told them
    /// (runs whose overview was left to a later run add theirs); `None` when a run walked, or before the first
    /// build, so the next build walks the tree for manifests and READMEs.
    overview_changes: Mutex<Option<Vec<PathBuf>>>,
    /// The overview this process stored last and its source scans: a build after an update writes only the
    /// modules it changed and reads back nothing.
    overview_writer: Mutex<sextant_overview::OverviewWriter>,
    last_error: RwLock<Option<String>>,
}

/// Changed paths kept for the next overview build at most; past this the build walks the tree anyway.
const MAX_OVERVIEW_CHANGES: usize = 10_000;

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl Repository {
    /// Sets up a repository: canonicalises its root and reads its configuration. Nothing is loaded or written
    /// until an operation needs it.
    pub fn open(mut spec: RepositorySpec, options: EngineOptions) -> Result<Repository, EngineError> {
        spec.root = crate::canonical(&spec.root)?;
        let config = Config::for_repository(&spec.root)?;
        Ok(Repository {
            spec,
            config,
            options,
            current: RwLock::new(None),
            overview: RwLock::new(None),
            vectors: Mutex::new(None),
            writing: Mutex::new(()),
            loading: Mutex::new(()),
            queued: AtomicBool::new(false),
            edits_pending: AtomicBool::new(false),
            overview_changes: Mutex::new(None),
            overview_writer: Mutex::new(sextant_overview::OverviewWriter::default()),
            last_error: RwLock::new(None),
        })
    }

    /// The repository whose index is in `index_dir`, wherever its root is (the index records it). The root is read
    /// from the store's header; the index is loaded when a query needs it (at once only when the store cannot
    /// name the root alone).
    pub fn open_index_dir(index_dir: &Path, options: EngineOptions) -> Result<Repository, EngineError> {
        // The store's header names the root: a one-shot query of an index directory (`--index-dir`) then reads
        // only what it needs, as one of a repository does.
        if let Some(root) = Index::committed_root(index_dir)? {
            let root = PathBuf::from(root);
            let spec = RepositorySpec::new(crate::name_of(&root), root, index_dir.to_path_buf());
            return Repository::open(spec, options);
        }
        let stamp = Index::commit_stamp(index_dir);
        let index = Index::open(index_dir)?;
        let root = PathBuf::from(index.root());
        let spec = RepositorySpec::new(crate::name_of(&root), root, index_dir.to_path_buf());
        let repository = Repository::open(spec, options)?;
        if let Ok(mut guard) = repository.current.write() {
            *guard = Some(Loaded { index: Arc::new(index), stamp });
        }
        Ok(repository)
    }

    /// What it is.
    pub fn spec(&self) -> &RepositorySpec {
        &self.spec
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The last indexing error, if the last run failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.read().ok().and_then(|e| e.clone())
    }

    /// The index queries run against: the newest committed generation, whoever committed it (this process, a
    /// CLI run, another server). One `stat` per call tells whether to reopen.
    pub fn current_index(&self) -> Result<Arc<Index>, EngineError> {
        let stamp = Index::commit_stamp(&self.spec.index_dir);
        if let Some(loaded) = self.current.read().ok().as_ref().and_then(|guard| guard.as_ref()) {
            // While this process's own run writes, a newer stamp is that run's commit, whose reader it installs
            // in a moment: reading the index back from disk meanwhile would cost a full load for nothing.
            if loaded.stamp == stamp || stamp.is_none() || self.writing.try_lock().is_err() {
                return Ok(Arc::clone(&loaded.index));
            }
        }
        if stamp.is_none() {
            return Err(EngineError::NotIndexed { name: self.spec.name.clone(), reason: self.last_error() });
        }
        let _one_load = self.loading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Loaded by the caller this one waited for.
        if let Some(loaded) = self.current.read().ok().as_ref().and_then(|guard| guard.as_ref()) {
            if loaded.stamp == Index::commit_stamp(&self.spec.index_dir) {
                return Ok(Arc::clone(&loaded.index));
            }
        }
        self.load_index()
    }

    /// The index loaded, if one is (no disk access): for listings that must not block.
    pub fn loaded_index(&self) -> Option<Arc<Index>> {
        self.current.read().ok().and_then(|guard| guard.as_ref().map(|l| Arc::clone(&l.index)))
    }

    fn load_index(&self) -> Result<Arc<Index>, EngineError> {
        // The stamp is read first: a commit landing during the open then only causes one more reload.
        let stamp = Index::commit_stamp(&self.spec.index_dir);
        self.install(Index::open(&self.spec.index_dir)?, stamp)
    }

    /// Makes `index` (of the generation `stamp` tells) the one queries use, after checking it was built from this
    /// repository.
    fn install(&self, index: Index, stamp: Option<CommitStamp>) -> Result<Arc<Index>, EngineError> {
        if Path::new(index.root()) != self.spec.root {
            return Err(EngineError::FailedPrecondition(format!(
                "the index at {} was built from {}, not from {}; choose another index directory",
                self.spec.index_dir.display(),
                index.root(),
                self.spec.root.display()
            )));
        }
        let index = Arc::new(index);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some(Loaded { index: Arc::clone(&index), stamp });
        }
        Ok(index)
    }

    /// Brings the index up to date (only changed files are parsed; `force` rebuilds), then the overview, then
    /// the vectors. The new index answers queries as soon as it is committed, before the vectors follow.
    ///
    /// One run at a time per repository: a second call waits for the first, a third while one waits is refused
    /// with [`EngineError::Busy`]. Another process writing the same index directory is refused the same way.
    pub fn index(&self, force: bool, progress: &dyn EngineProgress) -> Result<IndexReport, EngineError> {
        self.index_with(force, None, false, progress)
    }

    /// [`Repository::index`] told which paths (absolute) changed since the generation this repository last
    /// indexed or loaded, as a file watcher knows them: those are stat-ed again instead of walking the tree when
    /// that is enough (see [`index_repository_opened`]). The list must cover every change; when in doubt, call
    /// [`Repository::index`].
    pub fn index_changed(
        &self,
        changed: &[PathBuf],
        progress: &dyn EngineProgress,
    ) -> Result<IndexReport, EngineError> {
        self.index_with(false, Some(changed), false, progress)
    }

    /// A watcher's run: [`Repository::index_changed`] (or a walk, without `changed`) whose polish first waits for
    /// a quiet spell ([`POLISH_AFTER_QUIET`]).
    pub(crate) fn index_watched(
        &self,
        changed: Option<&[PathBuf]>,
        progress: &dyn EngineProgress,
    ) -> Result<IndexReport, EngineError> {
        self.index_with(false, changed, true, progress)
    }

    fn index_with(
        &self,
        force: bool,
        changed: Option<&[PathBuf]>,
        watcher_run: bool,
        progress: &dyn EngineProgress,
    ) -> Result<IndexReport, EngineError> {
        let _one_at_a_time = match self.writing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if self.queued.swap(true, Ordering::AcqRel) {
                    return Err(EngineError::Busy(format!(
                        "a reindex of `{}` is already running and another is queued",
                        self.spec.name
                    )));
                }
                let guard = self.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                self.queued.store(false, Ordering::Release);
                guard
            }
        };
        let result = self.index_locked(force, changed, watcher_run, progress);
        if let Ok(mut error) = self.last_error.write() {
            *error = result.as_ref().err().map(|e| e.to_string());
        }
        result
    }

    /// Adds a run's changed paths to those the next overview build is told (`None`: the run walked, so the build
    /// must walk too; a list grown past any use is dropped the same way).
    fn note_overview_changes(&self, changed: Option<&[PathBuf]>) {
        let mut pending = self.overview_changes.lock().unwrap_or_else(|p| p.into_inner());
        crate::watch::add_changed_paths(&mut pending, changed.map(|paths| paths.iter().cloned()));
        if pending.as_ref().is_some_and(|paths| paths.len() > MAX_OVERVIEW_CHANGES) {
            *pending = None;
        }
    }

    /// [`Repository::index`] from scratch: every file is parsed again.
    pub fn reindex(&self, progress: &dyn EngineProgress) -> Result<IndexReport, EngineError> {
        self.index(true, progress)
    }

    fn index_locked(
        &self,
        force: bool,
        changed: Option<&[PathBuf]>,
        watcher_run: bool,
        progress: &dyn EngineProgress,
    ) -> Result<IndexReport, EngineError> {
        let lock = WriterLock::acquire(&self.spec.index_dir)?;
        let options =
            IndexOptions { root: &self.spec.root, index_dir: &self.spec.index_dir, config: &self.config, force };
        let current = self.loaded_index();
        let mut run = index_repository_opened(&options, &lock, &Adapter(progress), current.as_deref(), changed)?;
        drop(current);
        self.note_overview_changes(changed);
        let summary = run.summary;
        // Nothing changed, nothing is loaded here, no vectors to check and the overview is of this generation: a
        // one-shot `sextant index` need not open the index at all.
        let vectors_wanted = self.options.embed && self.config.embed.enabled;
        if run.index.is_none() && summary.unchanged && self.loaded_index().is_none() {
            let overview_current = matches!(
                sextant_overview::stored_generation(&self.spec.index_dir),
                Some((generation, root)) if generation == summary.generation && Path::new(&root) == self.spec.root
            );
            // Vectors already complete for this generation need neither the index nor the model.
            let vectors = match vectors_wanted {
                false => Some(None),
                true => sextant_semantic::current_vectors(
                    &self.spec.index_dir,
                    &self.config,
                    self.options.qdrant_url.as_deref(),
                    summary.generation,
                )
                .map(Some),
            };
            if let (true, Some(vectors)) = (overview_current, vectors) {
                // A HEAD that moved over an unchanged tree still has its history stored, under the lock.
                if let Some(history) = run.history_pending.take() {
                    history.finish(&lock);
                }
                drop(lock);
                let vector_location = vectors.as_ref().map(|state| state.location.to_string());
                let vectors = vectors.map(|state| SyncReport {
                    generation: summary.generation,
                    chunks: summary.chunks,
                    up_to_date: true,
                    already_stored: summary.chunks,
                    points: state.points as u64,
                    file_cards: state.file_cards.as_ref().map_or(0, |cards| cards.points as u64),
                    ..SyncReport::default()
                });
                return Ok(IndexReport { summary, vectors, vector_location, warnings: Vec::new() });
            }
        }
        let mut index = match run.index {
            // The writer's own reader of what it just committed: nothing is read back from disk.
            // The writer lock is held, so the stamp read now is the generation just committed.
            Some(index) => self.install(index, Index::commit_stamp(&self.spec.index_dir))?,
            // An unchanged run committed nothing: the loaded index (if any) is still the newest.
            None => self.current_index()?,
        };
        // Queries see the new generation from here on. When more edits already wait for the next run, what follows
        // (exact ranks, warming, the overview) is left to that run, which comes at once: edits in quick succession
        // are not each held up by the previous one's tail.
        let superseded = || self.edits_pending.load(Ordering::Acquire);
        if run.ranks_pending.is_some() && watcher_run {
            wait_for_quiet(POLISH_AFTER_QUIET, &superseded);
        }
        let mut warnings = Vec::new();
        // The centrality, carried over from the previous generation, is made exact (the one pass over the whole
        // graph that an update leaves until after its commit).
        if let Some(pending) = run.ranks_pending.filter(|_| !superseded()) {
            progress.phase("ranks", None);
            // Given up when edits arrive meanwhile: the next run, due at once, carries the ranks on and finishes them.
            if let Some(exact) = sextant_index::exact_ranks(&lock, &index, pending, &superseded)? {
                index = self.install(exact, Index::commit_stamp(&self.spec.index_dir))?;
            }
        }
        // The new HEAD's co-change counts, stored for the next generation's readers (this one reads the previous).
        if let Some(history) = run.history_pending {
            progress.phase("history", None);
            history.finish(&lock);
        }
        if !superseded() {
            index.warm();
        }
        // The overview follows the index generation; only a writer stores it.
        if !superseded() {
            progress.phase("overview", None);
            let since_built = self.overview_changes.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let mut writer = self.overview_writer.lock().unwrap_or_else(|p| p.into_inner());
            match writer.ensure(&index, &self.config, since_built.as_deref()) {
                Ok(overview) => {
                    if let Ok(mut guard) = self.overview.write() {
                        *guard = Some(overview);
                    }
                    *self.overview_changes.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
                }
                Err(e) => warnings.push(format!("the overview could not be built: {e}")),
            }
        }

        let (mut vectors, mut vector_location) = (None, None);
        if self.options.embed && self.config.embed.enabled {
            progress.phase("embed", None);
            match self.vectors_for_sync() {
                Ok(engine) => {
                    vectors = Some(engine.sync(&index, &Adapter(progress)).map_err(|e| {
                        EngineError::FailedPrecondition(format!(
                            "embedding failed (the keyword and symbol index is committed): {e}"
                        ))
                    })?);
                    vector_location = Some(engine.location().to_string());
                }
                // A missing model or runtime leaves a complete keyword and symbol index.
                Err(SemanticError::Embed(e)) => warnings.push(format!(
                    "no vectors: {e}; the index is complete for keyword and symbol search, semantic search is off"
                )),
                Err(e) => {
                    return Err(EngineError::FailedPrecondition(format!(
                        "opening the vector store failed (the keyword and symbol index is committed): {e}"
                    )))
                }
            }
        }
        for warning in &warnings {
            progress.warning(warning);
        }
        drop(lock);
        Ok(IndexReport { summary, vectors, vector_location, warnings })
    }

    /// The engine vectors are synced with: the configured store (or the `qdrant_url` override).
    fn vectors_for_sync(&self) -> Result<Arc<SemanticEngine>, SemanticError> {
        let mut guard = self.vectors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let wanted = sextant_semantic::StoreLocation::for_index(
            &self.spec.index_dir,
            &self.config,
            self.options.qdrant_url.as_deref(),
        );
        if let Some(engine) =
            guard.as_ref().filter(|e| *e.location() == wanted && e.keeps_file_cards() && !e.loaded_for_queries())
        {
            return Ok(Arc::clone(engine));
        }
        // An engine opened for queries (its model loaded for them, or before this index had file cards) holds the
        // chunk store, which one handle at a time may open: let it go first, unless a query still uses it (then
        // this sync runs with it, and the next one reopens).
        if let Some(previous) = guard.take() {
            if Arc::strong_count(&previous) > 1 && *previous.location() == wanted {
                *guard = Some(Arc::clone(&previous));
                return Ok(previous);
            }
        }
        let engine =
            Arc::new(SemanticEngine::open(&self.spec.index_dir, &self.config, self.options.qdrant_url.as_deref())?);
        *guard = Some(Arc::clone(&engine));
        Ok(engine)
    }

    /// The engine for queries: the store the last completed sync wrote (`state`, read once per query by the
    /// caller), if any. `Ok(None)` when the index has no vectors; an error when it has some but the model cannot
    /// be loaded.
    fn vectors_for_query(&self, state: Option<&VectorState>) -> Result<Option<Arc<SemanticEngine>>, SemanticError> {
        let Some(state) = state else { return Ok(None) };
        let mut guard = self.vectors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(engine) = guard.as_ref().filter(|e| e.holds(state)) {
            return Ok(Some(Arc::clone(engine)));
        }
        // The store can be open once: the engine being replaced lets go of it first.
        drop(guard.take());
        let Some(engine) = SemanticEngine::open_synced(&self.spec.index_dir, &self.config)? else { return Ok(None) };
        let engine = Arc::new(engine);
        *guard = Some(Arc::clone(&engine));
        Ok(Some(engine))
    }

    /// The engine hybrid search takes its dense hits from, if the index has vectors; a model that fails to load
    /// leaves hybrid search to its other signals, with a warning.
    fn hybrid_engine(&self, state: Option<&VectorState>, warnings: &mut Vec<String>) -> Option<Arc<SemanticEngine>> {
        match self.vectors_for_query(state) {
            Ok(engine) => engine,
            Err(e) => {
                warnings.push(format!("hybrid search without vectors: {e}"));
                None
            }
        }
    }

    /// Ends a one-shot process's use of the repository just before it exits. The loaded index is memory only (no
    /// open file, transaction or lock: its snapshot was decoded at load), and freeing it piece by piece (millions
    /// of small allocations on a large repository) costs a tenth of a cold pack, so it is left for the operating
    /// system to reclaim. The rest (the vector store, the model) is dropped as usual.
    pub fn close_before_exit(self) {
        let loaded = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(loaded) = loaded {
            std::mem::forget(loaded.index);
        }
    }

    /// Whether the index has vectors to search (reads one small file; loads nothing).
    pub fn has_vectors(&self) -> bool {
        VectorState::read(&self.spec.index_dir).is_some()
    }

    /// Ranked chunks for `query`. `mode` defaults to hybrid, which without vectors fuses the signals the index
    /// has (BM25, symbol names, paths, whole-file BM25): on the development set its pages hold more of the files a
    /// change needs than BM25 alone. Hybrid without a loadable model falls back to those, with a warning in the
    /// results. A process that has not loaded the index (a one-shot CLI query) answers every mode from the store
    /// and the lexical index without loading it.
    pub fn search(
        &self,
        query: &str,
        mode: Option<SearchMode>,
        options: &SearchOptions,
    ) -> Result<SearchResults, EngineError> {
        check_text("query", query)?;
        let mut options = options.clone();
        options.limit = options.limit.clamp(1, MAX_SEARCH_LIMIT);
        let state = VectorState::read(&self.spec.index_dir);
        let mode = mode.unwrap_or(SearchMode::Hybrid);
        // Keyword search in a process that has not loaded the index (a one-shot CLI query) reads the lexical index
        // alone rather than loading the whole index first.
        if mode == SearchMode::Lexical && self.loaded_index().is_none() {
            if let Some(searcher) = LexicalSearcher::open(&self.spec.index_dir)?
                .filter(|searcher| Path::new(searcher.root()) == self.spec.root)
            {
                return Ok(SearchResults { mode, hits: searcher.search(query, &options)?, warnings: Vec::new() });
            }
        }
        let mut warnings = Vec::new();
        let cold = self.loaded_index().is_none();
        if cold && Index::commit_stamp(&self.spec.index_dir).is_none() {
            // Not indexed (or never committed): say so before anything about vectors.
            self.current_index()?;
        }
        let engine = match mode {
            SearchMode::Lexical => None,
            SearchMode::Semantic if state.as_ref().is_some_and(|s| !s.has_chunk_vectors()) => {
                return Err(EngineError::FailedPrecondition(format!(
                    "repository `{}` has file cards but no chunk vectors yet (they are being computed, or \
                     `[embed] chunks = false`); search with mode hybrid or lexical meanwhile",
                    self.spec.name
                )))
            }
            SearchMode::Semantic => Some(self.vectors_for_query(state.as_ref())?.ok_or_else(|| {
                EngineError::FailedPrecondition(format!(
                    "repository `{}` has no vectors (no embedding model set up, or embedding is off); index it \
                     with the model set up, or search with mode lexical",
                    self.spec.name
                ))
            })?),
            SearchMode::Hybrid => self.hybrid_engine(state.as_ref(), &mut warnings),
        };
        // So do semantic and hybrid search: hybrid's keyword signals are read from the store (the records of the
        // files defining a name the query spells, and the postings), and the dense hits' chunks from their files'
        // records.
        if cold {
            let dir = &self.spec.index_dir;
            let found = match (mode, engine.as_deref()) {
                (SearchMode::Hybrid, engine) => {
                    let weights = sextant_semantic::HybridWeights::default();
                    sextant_semantic::hybrid_in_store(dir, engine, query, &options, &weights)?
                }
                (SearchMode::Semantic, Some(engine)) => {
                    sextant_semantic::semantic_in_store(dir, engine, query, &options)?
                }
                _ => None,
            };
            if let Some(found) = found.filter(|found| Path::new(&found.root) == self.spec.root) {
                return Ok(SearchResults { mode, hits: found.answer, warnings });
            }
        }
        let index = self.current_index()?;
        let hits = sextant_semantic::search(&index, engine.as_deref(), query, &options, mode)?;
        Ok(SearchResults { mode, hits, warnings })
    }

    /// A context pack for `request`: the overview and rules when asked for, and the dense signal when the
    /// index has vectors (a model that fails to load leaves the pack to its other signals).
    pub fn pack(&self, request: PackRequest) -> Result<ContextPack, EngineError> {
        let index = self.current_index()?;
        let mut request = request;
        let overview = if request.include_overview || request.include_rules { self.overview().ok() } else { None };
        if request.semantic_hits.is_empty() && !request.task.trim().is_empty() {
            let state = VectorState::read(&self.spec.index_dir);
            if let Ok(Some(engine)) = self.vectors_for_query(state.as_ref()) {
                // The text lexical retrieval reads: no template comments, trailers or addresses to embed.
                let query = sextant_pack::retrieval_text(&request.task);
                let dense = engine.dense_hits(&query, &request.languages, &request.path_filters).unwrap_or_default();
                request.semantic_hits = dense.chunks;
                request.semantic_file_hits = dense.files;
            }
        }
        Ok(build_pack_with(&index, &request, overview.as_deref())?)
    }

    /// Definitions of `name` (`parse`, `Parser::parse`, `Parser.parse`), one page.
    pub fn symbols(&self, name: &str, page: Page) -> Result<Paged<SymbolInfo>, EngineError> {
        check_text("name", name)?;
        if let Some(found) = self.answer_from_store(|dir| Index::find_symbols_in_store(dir, name)) {
            return Ok(page.apply(found));
        }
        Ok(page.apply(self.current_index()?.find_symbols(name)))
    }

    /// Mentions of `name`, with what each resolved to, one page.
    pub fn references(&self, name: &str, page: Page) -> Result<Paged<ReferenceInfo>, EngineError> {
        check_text("name", name)?;
        if let Some(found) = self.answer_from_store(|dir| Index::references_in_store(dir, name)) {
            return Ok(page.apply(found));
        }
        Ok(page.apply(self.current_index()?.references(name)))
    }

    /// Who calls `name`, one page.
    pub fn callers(&self, name: &str, page: Page) -> Result<Paged<Relation>, EngineError> {
        check_text("name", name)?;
        if let Some(found) = self.answer_from_store(|dir| Index::callers_in_store(dir, name)) {
            return Ok(page.apply(found));
        }
        Ok(page.apply(self.current_index()?.callers(name)))
    }

    /// What `name` calls, one page.
    pub fn callees(&self, name: &str, page: Page) -> Result<Paged<Relation>, EngineError> {
        check_text("name", name)?;
        if let Some(found) = self.answer_from_store(|dir| Index::callees_in_store(dir, name)) {
            return Ok(page.apply(found));
        }
        Ok(page.apply(self.current_index()?.callees(name)))
    }

    /// In a process that has not loaded the index (a one-shot CLI), the answer read from the store record by
    /// record, when the store can give it for this repository; `None` sends the caller to the loaded index.
    fn answer_from_store<T>(
        &self,
        read: impl FnOnce(&Path) -> Result<Option<FromStore<T>>, sextant_index::IndexError>,
    ) -> Option<T> {
        if self.loaded_index().is_some() {
            return None;
        }
        match read(&self.spec.index_dir) {
            Ok(Some(found)) if Path::new(&found.root) == self.spec.root => Some(found.answer),
            _ => None,
        }
    }

    /// Lines `start_line..=end_line` (1-based; 0 for the end) of an indexed file, exactly as indexed: a file that
    /// changed since is refused rather than served in a state the index does not describe. Only indexed paths
    /// are read, so no request reaches outside the repository.
    pub fn read_source(&self, path: &str, start_line: u32, end_line: u32) -> Result<SourceText, EngineError> {
        check_text("path", path)?;
        let index = self.current_index()?;
        let file = index
            .file_by_path(path)
            .ok_or_else(|| EngineError::NotFound(format!("`{path}` is not an indexed file of `{}`", self.spec.name)))?;
        let full = self.spec.root.join(file.path());
        let bytes = std::fs::read(&full)
            .map_err(|e| EngineError::FailedPrecondition(format!("`{}` cannot be read now: {e}", file.path())))?;
        if sextant_index::content_hash(&bytes) != file.hash() {
            return Err(EngineError::FailedPrecondition(format!(
                "`{}` changed since it was indexed; reindex (a watching server does so by itself)",
                file.path()
            )));
        }
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let total = lines.len() as u32;
        let start = start_line.max(1);
        let end = if end_line == 0 { total } else { end_line.min(total) };
        if total > 0 && (start > total || start > end) {
            return Err(EngineError::InvalidArgument(format!(
                "lines {start}-{end_line} are outside 1-{total} of `{}`",
                file.path()
            )));
        }
        let mut out = String::new();
        let mut last = start.saturating_sub(1);
        let mut truncated = false;
        for n in start..=end {
            let Some(line) = lines.get(n as usize - 1) else { break };
            if n - start >= MAX_SOURCE_LINES || out.len() + line.len() > MAX_SOURCE_BYTES {
                truncated = true;
                break;
            }
            out.push_str(line);
            last = n;
        }
        Ok(SourceText {
            path: file.path().to_string(),
            language: file.language().name().to_string(),
            start_line: if total == 0 { 0 } else { start },
            end_line: last,
            total_lines: total,
            truncated,
            text: out,
        })
    }

    /// The project overview of the current index: the stored one when it matches the generation, else built in
    /// memory (readers never write the index directory; the next indexing run stores it).
    pub fn overview(&self) -> Result<Arc<Overview>, EngineError> {
        // A process that has not loaded the index (a one-shot CLI query) takes the stored overview when it is of
        // the committed generation and this root: a page costs a few small reads, not an index load.
        if self.loaded_index().is_none() {
            if let Some(stamp) = Index::commit_stamp(&self.spec.index_dir) {
                if let Ok(Some(stored)) = sextant_overview::load(&self.spec.index_dir) {
                    if stored.generation == stamp.generation() && Path::new(&stored.root) == self.spec.root {
                        let overview = Arc::new(stored);
                        if let Ok(mut guard) = self.overview.write() {
                            *guard = Some(Arc::clone(&overview));
                        }
                        return Ok(overview);
                    }
                }
            }
        }
        let index = self.current_index()?;
        if let Some(overview) = self.overview.read().ok().and_then(|g| g.clone()) {
            if overview.generation == index.generation() {
                return Ok(overview);
            }
        }
        let overview = match sextant_overview::load(index.dir()) {
            Ok(Some(stored)) if stored.generation == index.generation() && stored.root == index.root() => stored,
            _ => sextant_overview::build_overview(&index, &self.config),
        };
        let overview = Arc::new(overview);
        if let Ok(mut guard) = self.overview.write() {
            *guard = Some(Arc::clone(&overview));
        }
        Ok(overview)
    }

    /// The overview if one is at hand, without building or loading anything (for pages that must not block).
    pub fn cached_overview(&self) -> Option<Arc<Overview>> {
        self.overview.read().ok().and_then(|g| g.clone())
    }

    /// The position of `module` (path or name; `None` for the repository page) in `overview`.
    pub fn module_position(overview: &Overview, module: Option<&str>) -> Result<usize, EngineError> {
        match module.map(str::trim).filter(|m| !m.is_empty() && *m != "/") {
            None => Ok(0),
            Some(name) => overview
                .module_index(name)
                .ok_or_else(|| sextant_overview::OverviewError::UnknownModule(name.to_string()).into()),
        }
    }

    /// The overview page of the repository (`None`) or of one module, as bounded Markdown.
    pub fn overview_markdown(&self, module: Option<&str>) -> Result<String, EngineError> {
        let overview = self.overview()?;
        let position = Self::module_position(&overview, module)?;
        Ok(sextant_overview::markdown_page(
            &overview,
            Some(position),
            self.config.overview.max_page_chars,
            sextant_overview::LinkStyle::Plain,
        ))
    }

    /// The overview of the repository (`None`) or of one module, as JSON.
    pub fn overview_json(&self, module: Option<&str>) -> Result<serde_json::Value, EngineError> {
        let overview = self.overview()?;
        let position = Self::module_position(&overview, module)?;
        let value = if position == 0 {
            serde_json::to_value(&*overview)
        } else {
            serde_json::to_value(&overview.modules[position])
        };
        value.map_err(|e| EngineError::FailedPrecondition(format!("the overview cannot be serialised: {e}")))
    }

    /// What is indexed: the committed index, when, and its vectors.
    pub fn status(&self) -> Result<RepositoryStatus, EngineError> {
        let dir = &self.spec.index_dir;
        // A process that has not loaded the index (a one-shot `sextant status`) reads the summary the committing
        // run left, when it is of the committed generation and this root.
        let stored = match self.loaded_index() {
            None => Index::status_in_store(dir)?.filter(|found| Path::new(&found.root) == self.spec.root),
            Some(_) => None,
        };
        let (summary, indexed_at, generation) = match stored {
            Some(found) => (found.answer.0, found.answer.1, found.generation),
            None => {
                let index = self.current_index()?;
                (index.status(), index.indexed_at(), index.generation())
            }
        };
        let vectors = VectorState::read(dir);
        let vectors_current = vectors.as_ref().is_some_and(|v| v.generation == generation && v.complete);
        Ok(RepositoryStatus {
            name: self.spec.name.clone(),
            summary,
            indexed_at,
            vectors_disk_bytes: sextant_index::disk_usage(&dir.join(sextant_index::VECTORS_DIR)),
            vectors,
            vectors_current,
            indexing: self.indexing(),
        })
    }

    /// Whether this process is running an indexing run of the repository (a catch-up, a watcher's update with its
    /// polish, an explicit run) or has one waiting: queries may answer one generation behind the files meanwhile.
    pub fn indexing(&self) -> bool {
        self.writing.try_lock().is_err()
            || self.queued.load(Ordering::Acquire)
            || self.edits_pending.load(Ordering::Acquire)
    }
}

/// Rejects empty and oversized text arguments with a message naming the field.
fn check_text(field: &str, value: &str) -> Result<(), EngineError> {
    if value.trim().is_empty() {
        return Err(EngineError::InvalidArgument(format!("`{field}` is empty")));
    }
    if value.len() > MAX_QUERY_BYTES {
        return Err(EngineError::InvalidArgument(format!(
            "`{field}` is {} bytes; the limit is {MAX_QUERY_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoEngineProgress;

    /// A run that more edits already supersede installs its generation for queries and leaves exact ranks and the
    /// overview to the next run, which finishes them even when nothing else changed.
    #[test]
    fn a_superseded_run_leaves_exact_ranks_and_the_overview_to_the_next() {
        let (repo, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(repo.path().join("a.py"), "from b import g\n\n\ndef f():\n    return g()\n").unwrap();
        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n").unwrap();
        let spec = RepositorySpec::for_root(repo.path(), Some(dir.path().to_path_buf())).unwrap();
        let repository = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None }).unwrap();
        let first = repository.index(false, &NoEngineProgress).unwrap().summary.generation;
        let overview_generation = || sextant_overview::load(dir.path()).unwrap().map(|o| o.generation);
        assert_eq!(overview_generation(), Some(first));

        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n\n\ndef h():\n    return g()\n").unwrap();
        repository.edits_pending.store(true, Ordering::Release);
        let second = repository.index(false, &NoEngineProgress).unwrap().summary.generation;
        let index = repository.loaded_index().unwrap();
        assert_eq!((index.generation(), index.find_symbols("h").len()), (second, 1), "queries see the edit");
        assert!(!index.ranks_exact(), "ranks stay carried over");
        assert_eq!(overview_generation(), Some(first), "the overview waits for the next run");

        repository.edits_pending.store(false, Ordering::Release);
        let third = repository.index(false, &NoEngineProgress).unwrap().summary;
        assert!(third.unchanged);
        assert!(repository.loaded_index().unwrap().ranks_exact());
        assert!(Index::open(dir.path()).unwrap().ranks_exact(), "and stored so");
        assert_eq!(overview_generation(), Some(second));
    }

    /// Under a watcher, an update waits a quiet spell before its polish: an edit that arrives meanwhile (the next
    /// save of a burst) takes the polish over, so the run ends without it; once quiet, the run polishes itself.
    #[test]
    fn under_a_watcher_the_polish_waits_for_a_quiet_spell_and_yields_to_an_edit_within_it() {
        let (repo, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(repo.path().join("a.py"), "from b import g\n\n\ndef f():\n    return g()\n").unwrap();
        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n").unwrap();
        let spec = RepositorySpec::for_root(repo.path(), Some(dir.path().to_path_buf())).unwrap();
        let repository = Arc::new(Repository::open(spec, EngineOptions { embed: false, qdrant_url: None }).unwrap());
        repository.index(false, &NoEngineProgress).unwrap();

        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n\n\ndef h():\n    return g()\n").unwrap();
        let edit_within_the_spell = {
            let repository = Arc::clone(&repository);
            std::thread::spawn(move || {
                // Once the update is visible, while its run waits for quiet.
                while repository.loaded_index().is_none_or(|index| index.find_symbols("h").is_empty()) {
                    std::thread::yield_now();
                }
                repository.edits_pending.store(true, Ordering::Release);
            })
        };
        repository.index_watched(None, &NoEngineProgress).unwrap();
        edit_within_the_spell.join().unwrap();
        assert!(!repository.loaded_index().unwrap().ranks_exact(), "the polish is left to the next run");

        repository.edits_pending.store(false, Ordering::Release);
        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n").unwrap();
        let started = std::time::Instant::now();
        repository.index_watched(None, &NoEngineProgress).unwrap();
        assert!(started.elapsed() >= POLISH_AFTER_QUIET, "a quiet spell is waited for");
        assert!(repository.loaded_index().unwrap().ranks_exact(), "then the run polishes its generation");
    }

    /// Between its commit and installing the new reader, a run of this process leaves queries on the reader they
    /// have: the commit's stamp alone does not make them load the index from disk. Another process's commit does.
    #[test]
    fn queries_during_this_process_s_own_run_do_not_reload_from_disk() {
        let (repo, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(repo.path().join("a.py"), "def f():\n    pass\n").unwrap();
        let spec = RepositorySpec::for_root(repo.path(), Some(dir.path().to_path_buf())).unwrap();
        let repository = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None }).unwrap();
        repository.index(false, &NoEngineProgress).unwrap();
        let loaded = repository.current_index().unwrap();

        // A commit lands while a run of this process holds the writing lock (as between its commit and install).
        std::fs::write(repo.path().join("b.py"), "def g():\n    pass\n").unwrap();
        let config = Config::for_repository(repo.path()).unwrap();
        let options = IndexOptions { root: repo.path(), index_dir: dir.path(), config: &config, force: false };
        let writing = repository.writing.lock().unwrap();
        sextant_index::index_repository(&options, &sextant_index::NoProgress).unwrap();
        assert!(Arc::ptr_eq(&repository.current_index().unwrap(), &loaded), "kept while this process writes");
        drop(writing);
        let reloaded = repository.current_index().unwrap();
        assert!(!Arc::ptr_eq(&reloaded, &loaded));
        assert_eq!(reloaded.find_symbols("g").len(), 1, "another writer's commit is loaded once no run is under way");
    }
}
