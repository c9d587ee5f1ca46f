//! `sextant watch`: keep an index fresh while files change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sextant_engine::{EngineOptions, Repository, WatchEvent};

use crate::args::Target;

/// Indexes once (the watcher's catch-up run), then after every burst of edits, printing a line per run, until
/// Ctrl-C. A failing first run ends the command with its error.
pub fn run(path: Option<PathBuf>, debounce_ms: u64, target: &Target) -> Result<()> {
    let spec = super::index_target(path, target)?;
    let root = spec.root.clone();
    let repository = Arc::new(Repository::open(spec, EngineOptions::default()).context("loading configuration")?);
    let json = target.json;
    // The first run's outcome, waited for below; later failures are warnings.
    let (first_tx, first_rx) = std::sync::mpsc::channel::<Option<String>>();
    let mut first_tx = Some(first_tx);
    let _watcher = repository.watch(Duration::from_millis(debounce_ms), move |event| {
        let failure = match event {
            WatchEvent::Reindexed(report) => {
                crate::output::watch_line(&report, json);
                None
            }
            WatchEvent::Failed(e) => Some(e),
        };
        match (first_tx.take(), failure) {
            (Some(first), failure) => {
                let _ = first.send(failure);
            }
            (None, Some(e)) => eprintln!("warning: reindexing failed: {e}"),
            (None, None) => {}
        }
    })?;
    if let Some(error) = first_rx.recv().context("the watcher stopped before indexing")? {
        anyhow::bail!("indexing {} failed: {error}", root.display());
    }
    eprintln!("watching {} (Ctrl-C to stop)", root.display());
    super::runtime()?.block_on(tokio::signal::ctrl_c()).context("waiting for Ctrl-C")
}
