//! `sextant symbol`, `refs`, `callers` and `callees`.

use anyhow::Result;
use sextant_engine::Page;

use crate::args::Target;

/// The most items a navigation command prints (the rest are counted).
const LIMIT: Page = Page { offset: 0, size: 1_000 };

/// Definitions of a symbol.
pub fn symbol(target: &Target, name: &str) -> Result<()> {
    let page = super::query_backend(target)?.symbols(name, LIMIT)?;
    crate::output::symbols(name, &page, target.json)
}

/// Mentions of a name.
pub fn references(target: &Target, name: &str) -> Result<()> {
    let page = super::query_backend(target)?.references(name, LIMIT)?;
    crate::output::references(name, &page, target.json)
}

/// Callers (`callers`) or callees of a symbol.
pub fn relations(target: &Target, name: &str, callers: bool) -> Result<()> {
    let page = super::query_backend(target)?.relations(name, LIMIT, callers)?;
    crate::output::relations(name, &page, callers, target.json)
}
