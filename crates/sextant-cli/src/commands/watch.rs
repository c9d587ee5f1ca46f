//! `sextant watch`: keep an index fresh while files change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sextant_engine::{EngineOptions, NoEngineProgress, Repository, WatchEvent};

use crate::args::Target;

/// Indexes once, then after every burst of edits, printing a line per run, until Ctrl-C.
pub fn run(path: Option<PathBuf>, debounce_ms: u64, target: &Target) -> Result<()> {
    let spec = super::index_target(path, target)?;
    let root = spec.root.clone();
    let repository = Arc::new(Repository::open(spec, EngineOptions::default()).context("loading configuration")?);
    let json = target.json;
    crate::output::watch_line(&repository.index(false, &NoEngineProgress)?, json);
    let _watcher = repository.watch(Duration::from_millis(debounce_ms), move |event| match event {
        WatchEvent::Reindexed(report) => crate::output::watch_line(&report, json),
        WatchEvent::Failed(e) => eprintln!("warning: reindexing failed: {e}"),
    })?;
    eprintln!("watching {} (Ctrl-C to stop)", root.display());
    super::runtime()?.block_on(tokio::signal::ctrl_c()).context("waiting for Ctrl-C")
}
