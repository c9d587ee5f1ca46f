//! `sextant pack`: a context pack from the local index or from a running server.

use anyhow::{Context, Result};
use sextant_engine::{PackRequest, TokenizerChoice};
use sextant_server::client::RemoteRepository;

use crate::args::Command;

/// Builds the pack the arguments describe and prints it.
pub fn run(command: Command) -> Result<()> {
    let Command::Pack {
        task,
        budget,
        tokenizer,
        mentioned_paths,
        mentioned_symbols,
        languages,
        paths,
        overview,
        no_rules,
        server,
        server_repository,
        target,
    } = command
    else {
        unreachable!("dispatched on Command::Pack")
    };
    let task = if task == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading the task from stdin")?;
        text
    } else {
        task
    };
    let tokenizer = TokenizerChoice::from_name(&tokenizer)
        .with_context(|| format!("unknown tokenizer {tokenizer:?} (use o200k_base or cl100k_base)"))?;
    let request = PackRequest {
        task,
        budget,
        tokenizer,
        mentioned_paths,
        mentioned_symbols,
        open_files: Vec::new(),
        languages,
        path_filters: paths,
        include_overview: overview,
        include_rules: !no_rules,
        semantic_hits: Vec::new(),
        semantic_file_hits: Vec::new(),
        weights: Default::default(),
        record_features: false,
    };
    let pack = match server {
        Some(url) => {
            let record = sextant_server::discovery::ServerRecord {
                pid: 0,
                grpc: url.trim_start_matches("http://").trim_end_matches('/').to_string(),
                repository: server_repository.unwrap_or_default(),
                token_required: false,
            };
            let token = std::env::var("SEXTANT_TOKEN").ok().filter(|t| !t.is_empty());
            RemoteRepository::connect(&record, token)?.pack(request)?
        }
        None => match super::query_backend(&target)? {
            super::Backend::Local(repository) => {
                let pack = repository.pack(request)?;
                (*repository).close_before_exit();
                pack
            }
            remote => remote.pack(request)?,
        },
    };
    crate::output::pack(&pack, target.json)
}
