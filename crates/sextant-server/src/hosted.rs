//! One hosted repository: its current index, reindexing, and the file watcher.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexError, IndexOptions, IndexSummary, Progress};
use sextant_overview::Overview;
use sextant_semantic::{NoSyncProgress, SemanticEngine};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// A repository to host.
#[derive(Debug, Clone)]
pub struct RepositorySpec {
    /// Name clients use in requests.
    pub name: String,
    /// Repository root.
    pub root: PathBuf,
    /// Where its index lives.
    pub index_dir: PathBuf,
}

/// Progress of a reindex, as streamed to clients.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// A phase began.
    Phase {
        /// Its name.
        name: String,
        /// Steps, when known.
        total: Option<u64>,
    },
    /// One file parsed.
    FileDone,
}

struct ChannelProgress(Option<UnboundedSender<ProgressEvent>>);

impl Progress for ChannelProgress {
    fn phase(&self, name: &str, total: Option<u64>) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(ProgressEvent::Phase { name: name.to_string(), total });
        }
    }

    fn file_done(&self) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(ProgressEvent::FileDone);
        }
    }
}

/// A hosted repository.
pub struct Hosted {
    /// What it is.
    pub spec: RepositorySpec,
    config: Config,
    current: RwLock<Option<Arc<Index>>>,
    overview: RwLock<Option<Arc<Overview>>>,
    reindexing: tokio::sync::Mutex<()>,
    last_error: RwLock<Option<String>>,
    /// The embedding model and vector store, when embedding is on and the model loads.
    semantic: Option<Arc<SemanticEngine>>,
}

impl Hosted {
    /// Sets up a repository, opening its existing index if there is one.
    pub fn new(mut spec: RepositorySpec) -> Result<Hosted, String> {
        spec.root = spec.root.canonicalize().map_err(|e| format!("cannot open the repository root: {e}"))?;
        let config = Config::for_repository(&spec.root).map_err(|e| e.to_string())?;
        let current = match Index::open(&spec.index_dir) {
            Ok(index) if Path::new(index.root()) == spec.root => Some(Arc::new(index)),
            _ => None,
        };
        let overview = current.as_ref().and_then(|index| {
            sextant_overview::load(&spec.index_dir)
                .ok()
                .flatten()
                .filter(|o| o.generation == index.generation())
                .map(Arc::new)
        });
        // Without a model the repository is still served, for keyword and symbol queries.
        let semantic = if config.embed.enabled {
            match SemanticEngine::open(&spec.index_dir, &config, None) {
                Ok(engine) => Some(Arc::new(engine)),
                Err(e) => {
                    eprintln!("warning: {}: no semantic search: {e}", spec.name);
                    None
                }
            }
        } else {
            None
        };
        Ok(Hosted {
            semantic,
            spec,
            config,
            current: RwLock::new(current),
            overview: RwLock::new(overview),
            reindexing: tokio::sync::Mutex::new(()),
            last_error: RwLock::new(None),
        })
    }

    /// The current index, if one has been built.
    pub fn index(&self) -> Option<Arc<Index>> {
        self.current.read().ok().and_then(|guard| guard.clone())
    }

    /// The project overview of the current index, if built.
    pub fn overview(&self) -> Option<Arc<Overview>> {
        self.overview.read().ok().and_then(|guard| guard.clone())
    }

    /// The semantic engine, once the current index has vectors.
    pub fn semantic(&self) -> Option<Arc<SemanticEngine>> {
        self.semantic.clone().filter(|engine| engine.has_vectors())
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The last reindex error, if the last reindex failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.read().ok().and_then(|e| e.clone())
    }

    /// Brings the index up to date (one reindex at a time) and swaps the new one in.
    pub async fn reindex(
        self: &Arc<Self>,
        force: bool,
        progress: Option<UnboundedSender<ProgressEvent>>,
    ) -> Result<IndexSummary, String> {
        let _one_at_a_time = self.reindexing.lock().await;
        let this = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || -> Result<(IndexSummary, Option<Index>), IndexError> {
            let options =
                IndexOptions { root: &this.spec.root, index_dir: &this.spec.index_dir, config: &this.config, force };
            let summary = index_repository(&options, &ChannelProgress(progress))?;
            let reopened = if summary.unchanged && this.index().is_some() {
                None
            } else {
                Some(Index::open(&this.spec.index_dir)?)
            };
            // The overview follows the index: rebuilt when the generation moved, kept otherwise.
            let latest = reopened.as_ref().map(|i| i.generation()).or_else(|| this.index().map(|i| i.generation()));
            if this.overview().map(|o| o.generation) != latest {
                let built = match &reopened {
                    Some(index) => sextant_overview::ensure(index, &this.config),
                    None => match this.index() {
                        Some(index) => sextant_overview::ensure(&index, &this.config),
                        None => return Ok((summary, reopened)),
                    },
                };
                match built {
                    Ok(overview) => {
                        if let Ok(mut guard) = this.overview.write() {
                            *guard = Some(Arc::new(overview));
                        }
                    }
                    Err(e) => eprintln!("warning: the overview of {} could not be built: {e}", this.spec.name),
                }
            }
            Ok((summary, reopened))
        })
        .await
        .map_err(|e| format!("indexing task failed: {e}"))?;
        match result {
            Ok((summary, reopened)) => {
                if let Some(index) = reopened {
                    if let Ok(mut guard) = self.current.write() {
                        *guard = Some(Arc::new(index));
                    }
                }
                if let Ok(mut error) = self.last_error.write() {
                    *error = None;
                }
                // Vectors follow, after the new index is already answering keyword and symbol queries.
                if let (Some(engine), Some(index)) = (self.semantic.clone(), self.index()) {
                    if !engine.is_current(&index) {
                        let name = self.spec.name.clone();
                        let synced = tokio::task::spawn_blocking(move || engine.sync(&index, &NoSyncProgress)).await;
                        match synced {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => eprintln!("warning: embedding {name} failed: {e}"),
                            Err(e) => eprintln!("warning: embedding {name} failed: {e}"),
                        }
                    }
                }
                Ok(summary)
            }
            Err(e) => {
                let message = e.to_string();
                if let Ok(mut error) = self.last_error.write() {
                    *error = Some(message.clone());
                }
                Err(message)
            }
        }
    }
}

/// A stream of debounced change notifications for `root`: one message per burst of edits (quiet for
/// `debounce`), ignoring the index directory and `.git`.
pub fn watch_changes(
    root: &Path,
    index_dir: &Path,
    debounce: Duration,
) -> Result<tokio::sync::mpsc::Receiver<()>, notify::Error> {
    let (tx, mut rx) = unbounded_channel::<()>();
    let index_dir = index_dir.canonicalize().unwrap_or_else(|_| index_dir.to_path_buf());
    let git_dir = root.join(".git");
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        // Our own index writes and git's bookkeeping are not edits.
        let relevant = event.paths.iter().any(|p| !p.starts_with(&index_dir) && !p.starts_with(&git_dir));
        if relevant {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    let (bursts_tx, bursts_rx) = tokio::sync::mpsc::channel::<()>(1);
    tokio::spawn(async move {
        let _watcher = watcher;
        while rx.recv().await.is_some() {
            loop {
                match tokio::time::timeout(debounce, rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            // A full channel already holds a pending burst, which covers this one too.
            if let Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) = bursts_tx.try_send(()) {
                return;
            }
        }
    });
    Ok(bursts_rx)
}

/// Watches the repository and reindexes after each burst of changes.
pub fn watch(repo: Arc<Hosted>, debounce: Duration) {
    let mut changes = match watch_changes(&repo.spec.root, &repo.spec.index_dir, debounce) {
        Ok(changes) => changes,
        Err(e) => {
            eprintln!("warning: cannot watch {}: {e}; changes will need an explicit Reindex", repo.spec.root.display());
            return;
        }
    };
    tokio::spawn(async move {
        while changes.recv().await.is_some() {
            if let Err(e) = repo.reindex(false, None).await {
                eprintln!("warning: reindexing {} failed: {e}", repo.spec.name);
            }
        }
    });
}
