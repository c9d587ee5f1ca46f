//! Semantic retrieval on top of a committed index.
//!
//! [`SemanticEngine`] pairs an [`Embedder`] with two [`VectorStore`]s and keeps vectors of an [`Index`] in them:
//! first one to two [file cards](cards) per file (path and definition signatures: an order of magnitude fewer
//! texts than chunks, so file-level semantic evidence exists within minutes), then one vector per chunk.
//! [`SemanticEngine::sync`] runs after the lexical index is committed, embeds only text the content-addressed
//! [`VectorCache`] has never seen, upserts the points a store lacks and deletes the ones whose chunk or card is
//! gone. [`search`] answers a query in one of three [`SearchMode`]s, hybrid being a reciprocal-rank fusion
//! of BM25, dense, symbol-name and path signals in which every result says which signals found it.

mod cards;
mod hybrid;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};
use sextant_config::{Config, VectorBackend};
use sextant_embed::{EmbedError, Embedder, EmbedderOptions, VectorCache};
use sextant_index::Index;
use sextant_vector::{EdgeStore, RemoteStore, VectorError, VectorFilter, VectorHit, VectorStore};

pub use cards::{file_cards, FileCard};
pub use hybrid::{hybrid_in_store, search, search_weighted, semantic_in_store, HybridWeights, SearchMode};
pub use sextant_index::{SearchHit, Signal, SignalHit};
pub use sync::{NoSyncProgress, SyncProgress, SyncReport};

/// The folder inside an index directory that holds everything semantic.
pub use sextant_index::VECTORS_DIR;
const STATE_FILE: &str = "state.json";
/// Dense hits handed to the pack ranking (as deep as its lexical lists).
const PACK_HITS: usize = 100;
/// File cards asked for per pack (a file has at most two, so this reaches 60-120 files).
const PACK_CARD_HITS: usize = 120;

/// Errors of semantic indexing and search.
#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    /// The model or runtime is missing or failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The vector store failed.
    #[error(transparent)]
    Vector(#[from] VectorError),
    /// The vector cache failed.
    #[error(transparent)]
    Cache(#[from] sextant_embed::CacheError),
    /// Reading the index failed.
    #[error(transparent)]
    Index(#[from] sextant_index::IndexError),
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The configuration asks for something that cannot be done.
    #[error("configuration: {0}")]
    Config(String),
    /// Semantic search was asked for but the index has no vectors.
    #[error("no vectors for this index; run `sextant index` with embeddings enabled (see `{setup}`)", setup = sextant_embed::SETUP_COMMAND)]
    NoVectors,
}

/// Where vectors live: the embedded store in the index directory, or a collection on a Qdrant server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StoreLocation {
    /// Qdrant Edge in this directory.
    Edge {
        /// The shard's directory.
        path: PathBuf,
    },
    /// A Qdrant server.
    Qdrant {
        /// gRPC address.
        url: String,
        /// Collection name.
        collection: String,
    },
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Edge { path } => write!(f, "embedded Qdrant Edge at {}", path.display()),
            StoreLocation::Qdrant { url, collection } => write!(f, "Qdrant server {url}, collection {collection}"),
        }
    }
}

impl StoreLocation {
    /// Where the configuration (and an optional `--qdrant-url` override) puts the vectors of the index in
    /// `index_dir`. A server collection is named after the index directory, so each repository has its own.
    pub fn for_index(index_dir: &Path, config: &Config, qdrant_url: Option<&str>) -> StoreLocation {
        let url = qdrant_url.map(str::to_string).or_else(|| match config.vectors.backend {
            VectorBackend::Qdrant => Some(config.vectors.url.clone()),
            VectorBackend::Edge => None,
        });
        match url {
            Some(url) => {
                let name = index_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                StoreLocation::Qdrant { url, collection: collection_name(&config.vectors.collection_prefix, &name) }
            }
            None => StoreLocation::Edge { path: index_dir.join(VECTORS_DIR).join("edge") },
        }
    }

    /// Where the file cards of the same index are: a sibling shard, or a sibling collection (`…_files`).
    pub fn file_cards(&self) -> StoreLocation {
        match self {
            StoreLocation::Edge { path } => StoreLocation::Edge { path: path.with_file_name("file-cards") },
            StoreLocation::Qdrant { url, collection } => {
                StoreLocation::Qdrant { url: url.clone(), collection: format!("{collection}_files") }
            }
        }
    }

    /// Opens (creating when absent) the store for vectors of `dimension`.
    pub fn open(&self, dimension: usize, api_key: Option<String>) -> Result<Box<dyn VectorStore>, SemanticError> {
        Ok(match self {
            StoreLocation::Edge { path } => Box::new(EdgeStore::open(path, dimension)?),
            StoreLocation::Qdrant { url, collection } => {
                Box::new(RemoteStore::open(url, api_key, collection, dimension)?)
            }
        })
    }
}

/// A Qdrant collection name from a prefix and an index name: letters, digits, `-` and `_` only.
fn collection_name(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// What the last completed sync left, kept in `<index>/vectors/state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorState {
    /// Index generation the chunk vectors match (0 until a chunk sync completes).
    pub generation: u64,
    /// Model fingerprint (the vector space).
    pub fingerprint: u64,
    /// Model name.
    pub model: String,
    /// Vector dimension.
    pub dimension: usize,
    /// Where the vectors are.
    pub location: StoreLocation,
    /// Points stored.
    pub points: usize,
    /// Whether every chunk of that generation has its vector (false when a file changed under the sync, or
    /// while only file cards are done).
    pub complete: bool,
    /// The generation whose file cards are all stored (in the sibling store [`StoreLocation::file_cards`]);
    /// `None` for vectors of an older version, which had no cards.
    #[serde(default)]
    pub file_cards: Option<CardState>,
    /// Unix seconds of the sync.
    pub synced_at: u64,
}

/// The file cards of a [`VectorState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardState {
    /// Index generation the cards match.
    pub generation: u64,
    /// Cards stored.
    pub points: usize,
}

/// The dense evidence for one task: nearest chunks and the files of the nearest cards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DenseHits {
    /// Chunks nearest in meaning, best first, as (path, start line).
    pub chunks: Vec<(String, u32)>,
    /// Files whose cards are nearest in meaning, best first, each once.
    pub files: Vec<String>,
}

impl VectorState {
    /// Whether a chunk sync ever completed (a state written after the file cards alone has generation 0).
    pub fn has_chunk_vectors(&self) -> bool {
        self.generation > 0
    }

    /// The state of the index in `index_dir`, if vectors were ever synced.
    pub fn read(index_dir: &Path) -> Option<VectorState> {
        let bytes = std::fs::read(index_dir.join(VECTORS_DIR).join(STATE_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes atomically (temporary file, then rename).
    pub(crate) fn write(&self, index_dir: &Path) -> Result<(), SemanticError> {
        let dir = index_dir.join(VECTORS_DIR);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SemanticError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(STATE_FILE);
        let temporary = dir.join(format!("{STATE_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| SemanticError::Config(e.to_string()))?;
        std::fs::write(&temporary, bytes).map_err(io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io(&path))
    }
}

/// The loaded model for `options`, shared by every engine of the process that uses the same model (a server
/// hosting many repositories holds one copy of the weights, not one per repository).
pub fn shared_embedder(options: &EmbedderOptions) -> Result<Arc<Embedder>, SemanticError> {
    static LOADED: Mutex<Vec<(EmbedderOptions, Weak<Embedder>)>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loaded.retain(|(_, weak)| weak.strong_count() > 0);
    if let Some(embedder) = loaded.iter().find(|(o, _)| o == options).and_then(|(_, weak)| weak.upgrade()) {
        return Ok(embedder);
    }
    let embedder = Arc::new(Embedder::load(options)?);
    loaded.push((options.clone(), Arc::downgrade(&embedder)));
    Ok(embedder)
}

/// A model and a vector store, bound to one index directory.
pub struct SemanticEngine {
    embedder: Arc<Embedder>,
    store: Box<dyn VectorStore>,
    /// File cards, when this engine keeps them (see [`SemanticEngine::with_file_cards`]).
    card_store: Option<Box<dyn VectorStore>>,
    /// Whether [`SemanticEngine::sync`] embeds chunks after the cards (`[embed] chunks`).
    chunk_vectors: bool,
    location: StoreLocation,
    index_dir: PathBuf,
    batch_size: usize,
}

impl std::fmt::Debug for SemanticEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticEngine").field("location", &self.location).field("index_dir", &self.index_dir).finish()
    }
}

/// The vector-store filter of a search limited to `languages` and to the files under `paths`; `None` when the
/// paths rule out every file (nothing to ask the store).
pub(crate) fn vector_filter(languages: &[String], paths: &[String]) -> Option<VectorFilter> {
    let paths = sextant_index::PathFilter::new(paths);
    if !paths.is_unrestricted() && paths.prefixes().is_empty() {
        return None;
    }
    Some(VectorFilter { languages: languages.to_vec(), paths: paths.prefixes().to_vec() })
}

/// Files whose file cards are nearest a query, each once, best first, with the best card's similarity.
pub type CardFiles = Vec<(String, f32)>;

/// The vector state of `index_dir` when its vectors are complete for index `generation` as `config` wants them
/// (file cards, and chunk vectors unless `[embed] chunks = false`), of the configured model, in the configured
/// store; judged from the state file and the model's files, without loading the model or opening the store, so
/// an unchanged one-shot `sextant index` need not load the index either. `None` when anything differs (a sync
/// then decides what to do).
pub fn current_vectors(
    index_dir: &Path,
    config: &Config,
    qdrant_url: Option<&str>,
    generation: u64,
) -> Option<VectorState> {
    let state = VectorState::read(index_dir)?;
    let cards_current = state.file_cards.as_ref().is_some_and(|cards| cards.generation == generation);
    let chunks_current = !config.embed.chunks || (state.complete && state.generation == generation);
    let current = cards_current
        && chunks_current
        && state.location == StoreLocation::for_index(index_dir, config, qdrant_url)
        && sextant_embed::model_fingerprint(&EmbedderOptions::from_settings(&config.embed)).ok()
            == Some(state.fingerprint);
    current.then_some(state)
}

impl SemanticEngine {
    /// Loads the configured model and opens the configured store for the index in `index_dir`.
    pub fn open(index_dir: &Path, config: &Config, qdrant_url: Option<&str>) -> Result<SemanticEngine, SemanticError> {
        let embedder = shared_embedder(&EmbedderOptions::from_settings(&config.embed))?;
        let location = StoreLocation::for_index(index_dir, config, qdrant_url);
        let api_key = std::env::var(&config.vectors.api_key_env).ok();
        let store = location.open(embedder.dimension(), api_key.clone())?;
        let cards = location.file_cards().open(embedder.dimension(), api_key)?;
        Ok(SemanticEngine::with_parts(embedder, store, location, index_dir, config.embed.batch_size)
            .with_file_cards(cards)
            .with_chunk_vectors(config.embed.chunks))
    }

    /// The engine for searching the vectors a previous sync left, wherever they are; `None` when no sync ever
    /// completed for this index.
    pub fn open_synced(index_dir: &Path, config: &Config) -> Result<Option<SemanticEngine>, SemanticError> {
        let Some(state) = VectorState::read(index_dir) else { return Ok(None) };
        // Queries embed one text each: a model that loads fast serves them best (a sync loads its own, see
        // `SemanticEngine::loaded_for_queries`).
        let options = EmbedderOptions { quick_start: true, ..EmbedderOptions::from_settings(&config.embed) };
        let embedder = shared_embedder(&options)?;
        if embedder.fingerprint() != state.fingerprint {
            return Err(SemanticError::Config(format!(
                "the vectors were computed by another model ({}); run `sextant index` to re-embed",
                state.model
            )));
        }
        let api_key = std::env::var(&config.vectors.api_key_env).ok();
        let dimension = embedder.dimension();
        let store = state.location.open(dimension, api_key.clone())?;
        let cards = match state.file_cards {
            Some(_) => Some(state.location.file_cards().open(dimension, api_key)?),
            None => None,
        };
        let engine = SemanticEngine::with_parts(embedder, store, state.location, index_dir, config.embed.batch_size)
            .with_chunk_vectors(config.embed.chunks);
        Ok(Some(match cards {
            Some(cards) => engine.with_file_cards(cards),
            None => engine,
        }))
    }

    /// An engine from parts already opened (a shared model, a store of the caller's choosing).
    pub fn with_parts(
        embedder: Arc<Embedder>,
        store: Box<dyn VectorStore>,
        location: StoreLocation,
        index_dir: &Path,
        batch_size: usize,
    ) -> SemanticEngine {
        SemanticEngine {
            embedder,
            store,
            card_store: None,
            chunk_vectors: true,
            location,
            index_dir: index_dir.to_path_buf(),
            batch_size: batch_size.max(1),
        }
    }

    /// Keeps file cards in `store` too (embedded before chunks, searched by [`SemanticEngine::dense_hits`]).
    pub fn with_file_cards(mut self, store: Box<dyn VectorStore>) -> SemanticEngine {
        self.card_store = Some(store);
        self
    }

    /// Whether its model was loaded for queries ([`SemanticEngine::open_synced`]): a sync, which embeds in bulk,
    /// is better served by a model loaded for throughput.
    pub fn loaded_for_queries(&self) -> bool {
        self.embedder.quick_start()
    }

    /// Whether this engine keeps file cards.
    pub fn keeps_file_cards(&self) -> bool {
        self.card_store.is_some()
    }

    /// Whether syncs embed chunks after the cards (false: file cards only, a fraction of the model time).
    pub fn with_chunk_vectors(mut self, chunk_vectors: bool) -> SemanticEngine {
        self.chunk_vectors = chunk_vectors;
        self
    }

    /// The model.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The store.
    pub fn store(&self) -> &dyn VectorStore {
        self.store.as_ref()
    }

    /// Where the vectors are.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The cache of every vector this model computed for this index.
    fn open_cache(&self) -> Result<VectorCache, SemanticError> {
        let dir = self.index_dir.join(VECTORS_DIR).join("cache");
        Ok(VectorCache::open(&dir, self.embedder.fingerprint(), self.embedder.dimension())?)
    }

    /// Whether the last sync matches `index` completely with this model and store: every chunk (when this
    /// engine embeds chunks) and every file card (when it keeps cards) of this generation has its vector.
    pub fn is_current(&self, index: &Index) -> bool {
        VectorState::read(&self.index_dir).is_some_and(|s| self.state_is_current(&s, index.generation()))
    }

    pub(crate) fn state_is_current(&self, state: &VectorState, generation: u64) -> bool {
        let chunks_current = !self.chunk_vectors || (state.complete && state.generation == generation);
        let cards_current =
            self.card_store.is_none() || state.file_cards.as_ref().is_some_and(|c| c.generation == generation);
        self.holds(state) && chunks_current && cards_current
    }

    /// Whether this store holds vectors of this model (a sync completed at some generation).
    pub fn has_vectors(&self) -> bool {
        VectorState::read(&self.index_dir).is_some_and(|s| self.holds(&s))
    }

    /// Whether `state` (read by the caller) describes vectors of this model in this store.
    pub fn holds(&self, state: &VectorState) -> bool {
        state.fingerprint == self.embedder.fingerprint()
            && state.location == self.location
            && (state.file_cards.is_none() || self.card_store.is_some())
    }

    /// The dense signals of a context pack for a task (`PackRequest::semantic_hits` and
    /// `PackRequest::semantic_file_hits`): the nearest chunks, and the files of the nearest cards, from one
    /// embedding of the task.
    pub fn dense_hits(&self, task: &str, languages: &[String], paths: &[String]) -> Result<DenseHits, SemanticError> {
        let Some(filter) = vector_filter(languages, paths) else { return Ok(DenseHits::default()) };
        let (chunks, files) = self.nearest_with_cards(task, PACK_HITS, PACK_CARD_HITS, &filter)?;
        Ok(DenseHits {
            chunks: chunks.into_iter().map(|h| (h.payload.path, h.payload.start_line)).collect(),
            files: files.into_iter().map(|(path, _)| path).collect(),
        })
    }

    /// The `limit` chunks nearest in meaning to `query`, and the files (each once, best first) of its
    /// `card_limit` nearest file cards (none without a card store): one embedding of the query for both.
    pub fn nearest_with_cards(
        &self,
        query: &str,
        limit: usize,
        card_limit: usize,
        filter: &VectorFilter,
    ) -> Result<(Vec<VectorHit>, CardFiles), SemanticError> {
        let vector = self.embedder.embed_query(query)?;
        let chunks = self.store.search(&vector, limit, filter)?;
        let mut files: Vec<(String, f32)> = Vec::new();
        if let Some(cards) = self.card_store.as_ref().filter(|_| card_limit > 0) {
            for hit in cards.search(&vector, card_limit, filter)? {
                if !files.iter().any(|(path, _)| *path == hit.payload.path) {
                    files.push((hit.payload.path, hit.score));
                }
            }
        }
        Ok((chunks, files))
    }

    /// The `limit` chunks nearest in meaning to `query`.
    pub fn nearest(&self, query: &str, limit: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, SemanticError> {
        let vector = self.embedder.embed_query(query)?;
        Ok(self.store.search(&vector, limit, filter)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_keep_only_safe_characters() {
        assert_eq!(collection_name("sextant_", "my repo.v2-0011"), "sextant_my_repo_v2-0011");
    }

    #[test]
    fn a_qdrant_url_overrides_the_embedded_default() {
        let config = Config::defaults().expect("default configuration");
        let dir = Path::new("/tmp/idx/app-00ff");
        assert_eq!(
            StoreLocation::for_index(dir, &config, None),
            StoreLocation::Edge { path: dir.join("vectors").join("edge") }
        );
        assert_eq!(
            StoreLocation::for_index(dir, &config, Some("http://q:6334")),
            StoreLocation::Qdrant { url: "http://q:6334".into(), collection: "sextant_app-00ff".into() }
        );
    }
}
