//! `sextant`: index a repository and query it from the command line.
//!
//! The binary is split the way ripgrep splits its own: [`args`] defines the command line, [`commands`] holds one
//! module per command (each translates its arguments into `sextant-engine` calls), and [`output`] renders every
//! result as text or JSON. This file only dispatches.

mod args;
mod commands;
mod output;
mod progress;

use clap::Parser;
use sextant_engine::SearchOptions;

use crate::args::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Index { path, force, quiet, vectors, target } => {
            commands::index::run(path, force, quiet, &vectors, &target)
        }
        Command::Reindex { path, quiet, vectors, target } => commands::index::run(path, true, quiet, &vectors, &target),
        Command::Watch { path, debounce_ms, target } => commands::watch::run(path, debounce_ms, &target),
        Command::Status { target } => commands::status::run(&target),
        Command::Search { query, limit, mode, languages, paths, per_file, target } => {
            let options =
                SearchOptions { limit, languages, paths, chunks_per_file: per_file, ..SearchOptions::default() };
            commands::search::run(&target, &query, mode, &options)
        }
        Command::Pack { .. } => commands::pack::run(cli.command),
        Command::Serve { .. } => commands::serve::run(cli.command),
        Command::Mcp { .. } => commands::mcp::run(cli.command),
        Command::Overview { module, format, html, target } => {
            commands::overview::run(&target, module.as_deref(), &format, html.as_deref())
        }
        Command::Symbol { name, target } => commands::navigate::symbol(&target, &name),
        Command::Refs { name, target } => commands::navigate::references(&target, &name),
        Command::Callers { name, target } => commands::navigate::relations(&target, &name, true),
        Command::Callees { name, target } => commands::navigate::relations(&target, &name, false),
    }
}
