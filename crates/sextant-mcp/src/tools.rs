//! The tools: their definitions (schemas and descriptions) and how each call becomes an engine call.

use std::sync::Arc;

use rmcp::handler::server::tool::{parse_json_object, schema_for_input};
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, JsonObject, ProgressNotificationParam, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sextant_engine::{
    EngineError, EngineProgress, PackRequest, Page, Repository, SearchMode, SearchOptions, TokenizerChoice,
    DEFAULT_CHUNKS_PER_FILE, MAX_TASK_BYTES,
};

use crate::schema::*;
use crate::SextantMcp;

/// Most search results one call returns (a model's context is the scarce resource).
const MAX_SEARCH_RESULTS: u32 = 100;
/// Pack budget when the call gives none.
const DEFAULT_BUDGET: u32 = 8_000;
/// Files of a pack's ranking returned in its structured result.
const RANKED_FILES_SHOWN: usize = 50;

fn tool<A: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    read_only: bool,
) -> Tool {
    // The argument types are structs, so their schemas are objects; a failure here is a bug caught by the tests.
    let input = schema_for_input::<A>().unwrap_or_default();
    Tool::new(name, description, input)
        .with_title(title)
        .with_output_schema::<O>()
        .with_annotations(ToolAnnotations::new().read_only(read_only).open_world(false))
}

/// Every tool, in the order agents should consider them.
pub(crate) fn definitions() -> Vec<Tool> {
    vec![
        tool::<PackArgs, PackOut>(
            "context_pack",
            "Context pack for a task",
            "The code to read for a task, within a token budget: whole functions and classes ranked by keyword, \
             symbol, path, call-graph and (when available) semantic evidence, with signature skeletons of their \
             neighbours and the agent rules that govern them. Call this first with the user's task text; pass \
             file paths or symbols the task mentions. Returns Markdown (path:lines headers, code blocks) plus \
             each item's reason and score.",
            true,
        ),
        tool::<SearchArgs, SearchOut>(
            "search",
            "Search code",
            "Ranked code chunks for a query (identifiers, words, a path, or a description in plain words). Each \
             hit names the signals that found it. Use for specific code; use context_pack for a whole task.",
            true,
        ),
        tool::<NameArgs, SymbolsOut>(
            "symbol",
            "Find definitions",
            "Definitions of a symbol (`name`, `Type::name` or `Type.name`) with signature, doc comment and \
             location.",
            true,
        ),
        tool::<NameArgs, ReferencesOut>(
            "references",
            "Find references",
            "Every mention of a name (calls, type uses, identifiers) with its enclosing symbol and what it resolved \
             to. Paged: pass next_page_token to continue.",
            true,
        ),
        tool::<NameArgs, RelationsOut>(
            "callers",
            "Who calls a symbol",
            "Functions and methods that call a symbol, from the symbol graph (weight < 1 marks an ambiguous name \
             link). Paged.",
            true,
        ),
        tool::<NameArgs, RelationsOut>(
            "callees",
            "What a symbol calls",
            "Definitions a symbol calls, from the symbol graph. Paged.",
            true,
        ),
        tool::<ReadArgs, FileOut>(
            "read_file",
            "Read lines of a file",
            "Lines of an indexed file exactly as indexed (a file changed since indexing is refused until it is \
             reindexed). Large ranges are cut at 20,000 lines or 2 MiB; `truncated` says so.",
            true,
        ),
        tool::<OverviewArgs, OverviewOut>(
            "overview",
            "Project overview",
            "What the repository (or one module) is for: purpose, modules, key symbols, entry points, \
             dependencies, how to build, test and run it, and the agent rules. Bounded Markdown.",
            true,
        ),
        tool::<StatusArgs, StatusOut>(
            "status",
            "Indexed repositories",
            "The hosted repositories: names to pass as `repository`, whether each is indexed, its size and \
             whether it has vectors for semantic search.",
            true,
        ),
        tool::<ReindexArgs, ReindexOut>(
            "reindex",
            "Bring an index up to date",
            "Reindexes a repository now (only changed files are parsed unless force is set). Files are also \
             watched, so this is rarely needed.",
            false,
        ),
    ]
}

/// A tool-level failure: `isError: true` with the message, so the model can correct its call.
fn failure(message: impl Into<String>) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(message.into())]).into()
}

/// Text for the model plus `structuredContent` that matches the tool's output schema.
fn success<O: Serialize>(text: String, out: &O) -> CallToolResponse {
    match serde_json::to_value(out) {
        Ok(value) => {
            let mut result = CallToolResult::structured(value);
            result.content = vec![ContentBlock::text(text)];
            result.into()
        }
        Err(e) => failure(format!("the result could not be serialised: {e}")),
    }
}

fn engine_failure(error: EngineError) -> CallToolResponse {
    use sextant_engine::ErrorKind;
    let prefix = match error.kind() {
        ErrorKind::InvalidArgument => "invalid argument",
        ErrorKind::NotFound => "not found",
        ErrorKind::FailedPrecondition => "not possible now",
        ErrorKind::Busy => "busy, retry later",
        ErrorKind::Internal => "internal error",
    };
    failure(format!("{prefix}: {error}"))
}

#[allow(clippy::result_large_err)] // the error is the reply itself; boxing it gains nothing
fn arguments<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, CallToolResponse> {
    parse_json_object(arguments)
        .map_err(|e| failure(format!("invalid arguments for `{tool}`: {} (see its input schema)", e.message)))
}

/// Runs `work` on the repository on a blocking thread, then renders its result with `render`.
async fn on_repository<T: Send + 'static>(
    server: &SextantMcp,
    repository: Option<&str>,
    work: impl FnOnce(&Repository) -> Result<T, EngineError> + Send + 'static,
    render: impl FnOnce(T) -> CallToolResponse,
) -> CallToolResponse {
    let repo = match server.repository(repository) {
        Ok(repo) => repo,
        Err(e) => return engine_failure(e),
    };
    match tokio::task::spawn_blocking(move || work(&repo)).await {
        Ok(Ok(value)) => render(value),
        Ok(Err(e)) => engine_failure(e),
        Err(e) => failure(format!("internal error: the worker failed: {e}")),
    }
}

/// Dispatches one call. Every outcome, including bad arguments and engine errors, is a tool result.
pub(crate) async fn call(
    server: &SextantMcp,
    tool: &str,
    raw: JsonObject,
    context: &RequestContext<RoleServer>,
) -> CallToolResponse {
    macro_rules! parse {
        ($t:ty) => {
            match arguments::<$t>(tool, raw) {
                Ok(args) => args,
                Err(response) => return response,
            }
        };
    }
    match tool {
        "context_pack" => pack(server, parse!(PackArgs)).await,
        "search" => search(server, parse!(SearchArgs)).await,
        "symbol" | "references" | "callers" | "callees" => navigate(server, tool, parse!(NameArgs)).await,
        "read_file" => {
            let args = parse!(ReadArgs);
            let (start, end) = (args.start_line.unwrap_or(1), args.end_line.unwrap_or(0));
            on_repository(
                server,
                args.repository.as_deref(),
                move |r| r.read_source(&args.path, start, end),
                |source| {
                    let text = format!(
                        "{}:{}-{} (of {} lines{})\n```{}\n{}```\n",
                        source.path,
                        source.start_line,
                        source.end_line,
                        source.total_lines,
                        if source.truncated { "; cut short, ask again from the next line" } else { "" },
                        source.language,
                        source.text
                    );
                    let out = FileOut {
                        path: source.path,
                        language: source.language,
                        start_line: source.start_line,
                        end_line: source.end_line,
                        total_lines: source.total_lines,
                        truncated: source.truncated,
                        text: source.text,
                    };
                    success(text, &out)
                },
            )
            .await
        }
        "overview" => {
            let args = parse!(OverviewArgs);
            let module = args.module.filter(|m| !m.trim().is_empty());
            on_repository(
                server,
                args.repository.as_deref(),
                move |r| Ok((r.overview_markdown(module.as_deref())?, r.overview()?)),
                |(markdown, overview)| {
                    let out = OverviewOut {
                        generation: overview.generation,
                        modules: overview
                            .modules
                            .iter()
                            .map(|m| ModuleOut {
                                path: m.path.clone(),
                                name: m.name.clone(),
                                kind: m.kind.as_str().to_string(),
                                purpose: m.purpose.clone().unwrap_or_default(),
                                files: m.files,
                                lines: m.lines,
                            })
                            .collect(),
                    };
                    success(markdown, &out)
                },
            )
            .await
        }
        "status" => status(server, parse!(StatusArgs)).await,
        "reindex" => reindex(server, parse!(ReindexArgs), context).await,
        other => failure(format!("no tool named `{other}`")),
    }
}

/// `symbol`, `references`, `callers` and `callees`: one page of a list about a name.
async fn navigate(server: &SextantMcp, tool: &str, args: NameArgs) -> CallToolResponse {
    let page =
        match Page::from_token(args.page_token.as_deref().unwrap_or_default(), args.page_size.unwrap_or(0) as usize) {
            Ok(page) => page,
            Err(e) => return failure(e.to_string()),
        };
    let (name, repository) = (args.name, args.repository);
    let more = |next: String| if next.is_empty() { String::new() } else { format!("(more: next_page_token {next})\n") };
    match tool {
        "symbol" => {
            on_repository(
                server,
                repository.as_deref(),
                {
                    let name = name.clone();
                    move |r| r.symbols(&name, page)
                },
                |found| {
                    let mut text = format!("{} definition(s) of `{name}`\n", found.total);
                    for s in &found.items {
                        text.push_str(&format!(
                            "\n{}:{}-{} {} {}\n    {}\n",
                            s.path, s.start_line, s.end_line, s.kind, s.qualified_name, s.signature
                        ));
                    }
                    text.push_str(&more(found.next_token()));
                    let next_page_token = found.next_token();
                    let symbols = found.items.into_iter().map(SymbolOut::from).collect();
                    success(text, &SymbolsOut { total: found.total as u32, next_page_token, symbols })
                },
            )
            .await
        }
        "references" => {
            on_repository(
                server,
                repository.as_deref(),
                {
                    let name = name.clone();
                    move |r| r.references(&name, page)
                },
                |found| {
                    let mut text = format!("{} reference(s) to `{name}`\n", found.total);
                    for r in &found.items {
                        let within = r.at.symbol.as_deref().unwrap_or("<top level>");
                        text.push_str(&format!("{}:{} {} in {}\n", r.at.path, r.at.line, r.kind, within));
                    }
                    text.push_str(&more(found.next_token()));
                    let next_page_token = found.next_token();
                    let references = found.items.into_iter().map(ReferenceOut::from).collect();
                    success(text, &ReferencesOut { total: found.total as u32, next_page_token, references })
                },
            )
            .await
        }
        _ => {
            let callers = tool == "callers";
            let work = {
                let name = name.clone();
                move |r: &Repository| if callers { r.callers(&name, page) } else { r.callees(&name, page) }
            };
            on_repository(server, repository.as_deref(), work, |found| {
                let what = if callers { "caller(s)" } else { "callee(s)" };
                let mut text = format!("{} {what} of `{name}`\n", found.total);
                for r in &found.items {
                    let other = r.other.symbol.as_deref().unwrap_or("<top level>");
                    text.push_str(&format!("{}:{} {}\n", r.other.path, r.other.line, other));
                }
                text.push_str(&more(found.next_token()));
                let next_page_token = found.next_token();
                let relations = found.items.into_iter().map(RelationOut::from).collect();
                success(text, &RelationsOut { total: found.total as u32, next_page_token, relations })
            })
            .await
        }
    }
}

async fn pack(server: &SextantMcp, args: PackArgs) -> CallToolResponse {
    let budget = args.budget.unwrap_or(DEFAULT_BUDGET) as usize;
    if budget == 0 || budget > server.max_budget {
        return failure(format!("invalid argument: `budget` {budget} is out of range (1..={})", server.max_budget));
    }
    if args.task.len() > MAX_TASK_BYTES {
        return failure(format!(
            "invalid argument: `task` is {} bytes; the limit is {MAX_TASK_BYTES} (summarise it, or pass the key part)",
            args.task.len()
        ));
    }
    let request = PackRequest {
        task: args.task,
        budget,
        tokenizer: TokenizerChoice::O200kBase,
        mentioned_paths: args.mentioned_paths,
        mentioned_symbols: args.mentioned_symbols,
        open_files: args.open_files,
        languages: args.languages,
        path_filters: args.paths,
        include_overview: args.include_overview,
        include_rules: args.include_rules.unwrap_or(true),
        semantic_hits: Vec::new(),
        semantic_file_hits: Vec::new(),
        weights: Default::default(),
        record_features: false,
    };
    on_repository(
        server,
        args.repository.as_deref(),
        move |r| r.pack(request),
        |pack| {
            let out = PackOut {
                tokens: pack.tokens as u32,
                budget: pack.budget as u32,
                generation: pack.generation,
                items: pack.items.iter().map(PackItemOut::from).collect(),
                ranked_files: pack.ranked_files.iter().take(RANKED_FILES_SHOWN).cloned().collect(),
            };
            success(pack.text, &out)
        },
    )
    .await
}

async fn search(server: &SextantMcp, args: SearchArgs) -> CallToolResponse {
    let mode = match args.mode.as_deref().map(str::parse::<SearchMode>).transpose() {
        Ok(mode) => mode,
        Err(e) => return failure(format!("invalid argument: {e}")),
    };
    let options = SearchOptions {
        limit: args.limit.unwrap_or(10).clamp(1, MAX_SEARCH_RESULTS) as usize,
        languages: args.languages,
        paths: args.paths,
        chunks_per_file: args.per_file.map_or(DEFAULT_CHUNKS_PER_FILE, |n| n as usize),
        ..SearchOptions::default()
    };
    let query = args.query;
    on_repository(
        server,
        args.repository.as_deref(),
        move |r| r.search(&query, mode, &options),
        |results| {
            let mode = results.mode.name().to_string();
            let mut text = format!("{} result(s), {mode} search\n", results.hits.len());
            for warning in &results.warnings {
                text.push_str(&format!("(warning: {warning})\n"));
            }
            for hit in &results.hits {
                text.push_str(&format!("\n{}:{}-{} {}\n", hit.path, hit.start_line, hit.end_line, hit.symbol));
                for line in hit.snippet.lines() {
                    text.push_str(&format!("    {line}\n"));
                }
            }
            success(text, &SearchOut { mode, hits: results.hits.into_iter().map(HitOut::from).collect() })
        },
    )
    .await
}

async fn status(server: &SextantMcp, args: StatusArgs) -> CallToolResponse {
    let repositories: Vec<Arc<Repository>> = match args.repository.as_deref() {
        Some(name) => match server.repository(Some(name)) {
            Ok(repo) => vec![repo],
            Err(e) => return engine_failure(e),
        },
        None => server.workspace.repositories().to_vec(),
    };
    let rows = tokio::task::spawn_blocking(move || {
        repositories
            .iter()
            .map(|repo| {
                let last_error = repo.last_error().unwrap_or_default();
                let root = repo.spec().root.display().to_string();
                match repo.status() {
                    Ok(s) => RepositoryOut {
                        name: s.name,
                        root,
                        indexed: true,
                        generation: s.summary.generation,
                        files: s.summary.files,
                        symbols: s.summary.symbols,
                        lines: s.summary.lines,
                        vectors: s.vectors.map_or(0, |v| v.points as u64),
                        last_error,
                    },
                    Err(e) => RepositoryOut {
                        name: repo.name().to_string(),
                        root,
                        indexed: false,
                        generation: 0,
                        files: 0,
                        symbols: 0,
                        lines: 0,
                        vectors: 0,
                        last_error: if last_error.is_empty() { e.to_string() } else { last_error },
                    },
                }
            })
            .collect::<Vec<_>>()
    })
    .await;
    let Ok(rows) = rows else { return failure("internal error: the worker failed") };
    let mut text = String::new();
    for r in &rows {
        if r.indexed {
            text.push_str(&format!(
                "{} ({}): generation {}, {} files, {} symbols, {} lines, {} vectors\n",
                r.name, r.root, r.generation, r.files, r.symbols, r.lines, r.vectors
            ));
        } else {
            text.push_str(&format!("{} ({}): not indexed yet: {}\n", r.name, r.root, r.last_error));
        }
    }
    success(text, &StatusOut { repositories: rows })
}

/// Reindex progress as MCP progress notifications, when the client sent a progress token.
struct NotifyProgress {
    sender: tokio::sync::mpsc::UnboundedSender<String>,
}

impl EngineProgress for NotifyProgress {
    fn phase(&self, name: &str, _total: Option<u64>) {
        let _ = self.sender.send(name.to_string());
    }
}

async fn reindex(server: &SextantMcp, args: ReindexArgs, context: &RequestContext<RoleServer>) -> CallToolResponse {
    let (sender, mut phases) = tokio::sync::mpsc::unbounded_channel::<String>();
    let forward = context.meta.get_progress_token().map(|token| {
        let peer = context.peer.clone();
        tokio::spawn(async move {
            let mut step = 0u32;
            while let Some(phase) = phases.recv().await {
                step += 1;
                let note = ProgressNotificationParam::new(token.clone(), f64::from(step)).with_message(phase);
                let _ = peer.notify_progress(note).await;
            }
        })
    });
    let force = args.force;
    let response = on_repository(
        server,
        args.repository.as_deref(),
        move |r| r.index(force, &NotifyProgress { sender }),
        |report| {
            let s = &report.summary;
            let text = format!(
                "{} generation {}: {} files, {} parsed, {} removed, in {} ms{}",
                if s.unchanged { "up to date at" } else { "indexed" },
                s.generation,
                s.files,
                s.files_parsed,
                s.files_removed,
                s.elapsed_ms,
                report.warnings.iter().map(|w| format!("\nwarning: {w}")).collect::<String>()
            );
            let out = ReindexOut {
                generation: s.generation,
                files: s.files,
                files_parsed: s.files_parsed,
                files_removed: s.files_removed,
                unchanged: s.unchanged,
                elapsed_ms: s.elapsed_ms,
                warnings: report.warnings.clone(),
            };
            success(text, &out)
        },
    )
    .await;
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    response
}
