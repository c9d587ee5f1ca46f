//! `sextant pack`: a context pack from the local index or from a running server.

use anyhow::{Context, Result};
use sextant_engine::{PackRequest, TokenizerChoice};

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
    };
    match server {
        Some(url) => remote(&url, request, target.json),
        None => crate::output::pack(&super::query_target(&target)?.pack(request)?, target.json),
    }
}

/// Asks a running server for the pack (sending `SEXTANT_TOKEN` when set) and prints its reply.
fn remote(url: &str, request: PackRequest, as_json: bool) -> Result<()> {
    use sextant_server::v1;
    let pack = super::runtime()?.block_on(async move {
        let mut client = v1::sextant_client::SextantClient::connect(url.to_string())
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let mut message = tonic::Request::new(v1::GetContextPackRequest {
            repository: String::new(),
            task: request.task,
            budget: request.budget as u32,
            tokenizer: match request.tokenizer {
                TokenizerChoice::O200kBase => v1::Tokenizer::O200kBase,
                TokenizerChoice::Cl100kBase => v1::Tokenizer::Cl100kBase,
            } as i32,
            mentioned_paths: request.mentioned_paths,
            mentioned_symbols: request.mentioned_symbols,
            open_files: request.open_files,
            languages: request.languages,
            path_filters: request.path_filters,
            include_overview: request.include_overview,
            include_rules: request.include_rules,
        });
        if let Ok(token) = std::env::var("SEXTANT_TOKEN") {
            message.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().context("SEXTANT_TOKEN is not a valid header value")?,
            );
        }
        client.get_context_pack(message).await.map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))
    })?;
    let pack = pack.into_inner();
    if !as_json {
        print!("{}", pack.text);
        eprintln!("-- {} items, {} of {} tokens", pack.items.len(), pack.tokens, pack.budget);
        return Ok(());
    }
    let items: Vec<serde_json::Value> = pack
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "kind": v1::ItemKind::try_from(i.kind).map_or("Code", |k| match k {
                    v1::ItemKind::Skeleton => "Skeleton",
                    v1::ItemKind::Overview => "Overview",
                    v1::ItemKind::Rule => "Rule",
                    _ => "Code",
                }),
                "path": i.path, "start_line": i.start_line, "end_line": i.end_line, "symbol": i.symbol,
                "score": i.score, "tokens": i.tokens, "reason": i.reason, "content": i.content,
            })
        })
        .collect();
    crate::output::json(&serde_json::json!({
        "items": items, "text": pack.text, "tokens": pack.tokens, "budget": pack.budget,
        "ranked_files": pack.ranked_files, "generation": pack.index_generation,
    }))
}
