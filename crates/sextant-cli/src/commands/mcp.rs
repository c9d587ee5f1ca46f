//! `sextant mcp`: serve repositories to a coding agent over the Model Context Protocol on stdin/stdout.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sextant_engine::{EngineOptions, Workspace};
use sextant_mcp::McpOptions;

use crate::args::Command;

/// Runs the MCP server until the client closes stdin.
pub fn run(command: Command) -> Result<()> {
    let Command::Mcp { repositories, repos_file, no_watch, no_index, no_embed, max_budget, target } = command else {
        unreachable!("dispatched on Command::Mcp")
    };
    let specs = super::serve::repository_specs(&repositories, repos_file.as_deref(), target.index_dir.as_deref())?;
    let engine = EngineOptions { embed: !no_embed, ..EngineOptions::default() };
    let workspace = Arc::new(Workspace::open(specs, &engine).context("opening the repositories")?);
    let options = McpOptions {
        max_budget,
        index_on_start: !no_index,
        watch: (!no_watch).then_some(Duration::from_millis(150)),
        ..McpOptions::default()
    };
    super::runtime()?.block_on(sextant_mcp::serve_stdio(workspace, options)).context("serving MCP on stdio")
}
