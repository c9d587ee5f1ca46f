//! `sextant overview`.

use std::path::Path;

use anyhow::{bail, Result};

use crate::args::Target;

/// A page of the overview (repository or module) as Markdown or JSON, or the whole site as HTML files.
pub fn run(target: &Target, module: Option<&str>, format: &str, html: Option<&Path>) -> Result<()> {
    let repository = super::query_target(target)?;
    if let Some(dir) = html {
        let pages = sextant_overview::html::write_site(&*repository.overview()?, dir)?;
        println!("wrote {pages} pages to {} (open index.html)", dir.display());
        return Ok(());
    }
    // `--json` is the same as `--format json`.
    match if target.json { "json" } else { format } {
        "json" => crate::output::json(&repository.overview_json(module)?),
        "md" | "markdown" => {
            print!("{}", repository.overview_markdown(module)?);
            Ok(())
        }
        other => bail!("unknown format {other:?} (use md or json)"),
    }
}
