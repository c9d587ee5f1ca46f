//! Watching a repository: debounced file events trigger incremental indexing runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::progress::{EngineProgress, NoEngineProgress};
use crate::repository::{IndexReport, Repository};
use crate::EngineError;

/// What a watcher did after a burst of edits.
#[derive(Debug)]
pub enum WatchEvent {
    /// The index (and overview, and vectors) caught up.
    Reindexed(Box<IndexReport>),
    /// The run failed; the previous index keeps answering.
    Failed(String),
}

/// A running watcher; dropping it stops watching (a run in progress finishes first, on its own thread).
pub struct Watcher {
    _notify: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

impl Repository {
    /// Watches the repository and runs an incremental [`Repository::index`] after each burst of edits (quiet
    /// for `debounce`), reporting each run to `on_event`. Edits that arrive during a run trigger one more run.
    /// The index directory and `.git` are ignored. The watcher holds the repository weakly: once every other
    /// handle is gone, it stops.
    ///
    /// It begins with a catch-up run of its own (reported like the others), started once the file events are
    /// subscribed to: that run walks the tree for what changed while nobody watched, and every later run is told
    /// which paths the events named since, so that it re-reads those instead of walking again (the index is loaded
    /// first, so that the catch-up walk stays with it).
    pub fn watch(
        self: &Arc<Self>,
        debounce: Duration,
        on_event: impl FnMut(WatchEvent) + Send + 'static,
    ) -> Result<Watcher, EngineError> {
        self.watch_with(debounce, Some(Box::new(NoEngineProgress)), on_event)
    }

    /// [`Repository::watch`] with a say over the catch-up run: `Some` runs it, reporting its phases to that
    /// progress (a front end showing the start-up indexing); `None` skips it, for a caller that must not index
    /// until asked, and then the first run after an edit walks the tree, since the events alone do not cover
    /// what changed before the watch began.
    pub fn watch_with(
        self: &Arc<Self>,
        debounce: Duration,
        catch_up: Option<Box<dyn EngineProgress + Send>>,
        mut on_event: impl FnMut(WatchEvent) + Send + 'static,
    ) -> Result<Watcher, EngineError> {
        // The paths of each event; `None` when the watcher lost track (a queue overflow) and only a walk can tell.
        let (tx, rx) = channel::<Option<Vec<PathBuf>>>();
        let root = self.spec().root.clone();
        let index_dir = self.spec().index_dir.canonicalize().unwrap_or_else(|_| self.spec().index_dir.clone());
        let git_dir = root.join(".git");
        let notify_error = |e: notify::Error| EngineError::Io {
            path: root.clone(),
            source: std::io::Error::other(format!("cannot watch: {e}")),
        };
        let edited: Weak<Repository> = Arc::downgrade(self);
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            // Our own index writes and git's bookkeeping are not edits.
            let rescan = event.need_rescan();
            if rescan || event.paths.iter().any(|p| is_edit(p, &index_dir, &git_dir)) {
                if let Some(repository) = edited.upgrade() {
                    repository.edits_pending.store(true, Ordering::Release);
                }
                let _ = tx.send((!rescan).then_some(event.paths));
            }
        })
        .map_err(notify_error)?;
        watcher.watch(&root, RecursiveMode::Recursive).map_err(notify_error)?;
        let repository: Weak<Repository> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name(format!("sextant-watch-{}", self.name()))
            .spawn(move || {
                // Ends when the notify watcher (the only sender) is dropped. What changed since the last run that
                // succeeded: `None` when that is unknown, so that only a walk can tell (the catch-up run failed, or
                // the events overflowed).
                let mut changed: Option<Vec<PathBuf>> = None;
                // A failed run leaves its changes unindexed: the next run walks the tree rather than trust a list
                // that no longer covers them.
                let mut report = |changed: &mut Option<Vec<PathBuf>>, result: Result<IndexReport, EngineError>| {
                    *changed = result.is_ok().then(Vec::new);
                    on_event(match result {
                        Ok(report) => WatchEvent::Reindexed(Box::new(report)),
                        Err(e) => WatchEvent::Failed(e.to_string()),
                    });
                };
                if let (Some(repository), Some(progress)) = (repository.upgrade(), catch_up) {
                    repository.edits_pending.store(false, Ordering::Release);
                    // None loaded yet (a start): the run then checks the tree against the loaded reader and leaves
                    // its walk there. No index at all is the run's to report.
                    let _ = repository.current_index();
                    report(&mut changed, repository.index_watched(None, &*progress));
                }
                while let Ok(first) = rx.recv() {
                    add_changed_paths(&mut changed, first);
                    loop {
                        match rx.recv_timeout(debounce) {
                            Ok(paths) => add_changed_paths(&mut changed, paths),
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    let Some(repository) = repository.upgrade() else { return };
                    // What this run will see; edits from here on mark it superseded.
                    repository.edits_pending.store(false, Ordering::Release);
                    if let Some(paths) = changed.as_mut() {
                        paths.sort_unstable();
                        paths.dedup();
                    }
                    let result = repository.index_watched(changed.as_deref(), &NoEngineProgress);
                    report(&mut changed, result);
                }
            })
            .map_err(|source| EngineError::Io { path: self.spec().root.clone(), source })?;
        Ok(Watcher { _notify: watcher })
    }
}

/// Adds `more` to the paths changed so far; `None` on either side (a walk, a lost event: changes unknown) leaves
/// `None`, so that whoever acts on the list walks instead.
pub(crate) fn add_changed_paths(so_far: &mut Option<Vec<PathBuf>>, more: Option<impl IntoIterator<Item = PathBuf>>) {
    match (so_far.as_mut(), more) {
        (Some(paths), Some(more)) => paths.extend(more),
        _ => *so_far = None,
    }
}

fn is_edit(path: &Path, index_dir: &Path, git_dir: &Path) -> bool {
    !path.starts_with(index_dir) && !path.starts_with(git_dir)
}
