//! `sextant search`.

use anyhow::Result;
use sextant_engine::{SearchMode, SearchOptions};

use crate::args::Target;

/// Ranked chunks for a query.
pub fn run(target: &Target, query: &str, mode: Option<SearchMode>, options: &SearchOptions) -> Result<()> {
    let backend = super::query_backend(target)?;
    let results = backend.search(query, mode, options)?;
    for warning in &results.warnings {
        eprintln!("warning: {warning}");
    }
    crate::output::search(query, &results, target.json)
}
