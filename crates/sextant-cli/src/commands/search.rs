//! `sextant search`.

use anyhow::Result;
use sextant_engine::{SearchMode, SearchOptions};

use crate::args::Target;

/// Ranked chunks for a query.
pub fn run(
    target: &Target,
    query: &str,
    limit: usize,
    mode: Option<SearchMode>,
    languages: Vec<String>,
    paths: Vec<String>,
) -> Result<()> {
    let backend = super::query_backend(target)?;
    let results =
        backend.search(query, mode, &SearchOptions { limit, languages, paths, ..SearchOptions::default() })?;
    for warning in &results.warnings {
        eprintln!("warning: {warning}");
    }
    crate::output::search(query, &results, target.json)
}
