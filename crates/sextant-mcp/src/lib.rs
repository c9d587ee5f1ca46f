//! Sextant as a Model Context Protocol server: the engine's operations as tools and its overviews and rule files
//! as resources, for the agents users already have (Claude Code, Codex, Cursor, VS Code, …).
//!
//! [`SextantMcp`] is an adapter like the gRPC service: it parses tool arguments, calls `sextant-engine` on a
//! blocking thread and renders the result twice, as Markdown text for the model and as `structuredContent`
//! matching the tool's `outputSchema`. Engine errors become tool errors (`isError: true`, with the message), so a
//! bad request never ends the session. [`serve_stdio`] runs it over stdin/stdout (indexing in the background,
//! progress as logging notifications); [`http_router`] mounts it on an axum router for Streamable HTTP, behind the
//! bearer token and an Origin check.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sextant_engine::{EngineOptions, RepositorySpec, Workspace};
//!
//! let spec = RepositorySpec::for_root("path/to/repo".as_ref(), None)?;
//! let workspace = Arc::new(Workspace::open(vec![spec], &EngineOptions::default())?);
//! sextant_mcp::serve_stdio(workspace, sextant_mcp::McpOptions::default()).await?;
//! # Ok(()) }
//! ```

// rmcp 3 marks the logging API deprecated (SEP-2577) while clients still rely on it for progress messages.
#![allow(deprecated)]

mod http;
mod schema;
mod tools;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, LoggingLevel, LoggingMessageNotificationParam, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler, ServiceExt};
use sextant_engine::{EngineProgress, IndexReport, Repository, WatchEvent, Workspace};
use tokio::sync::Semaphore;

pub use http::http_router;

/// Limits and behaviour of the MCP front end.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// Largest pack budget accepted.
    pub max_budget: usize,
    /// Tool calls processed at once; more wait.
    pub max_concurrency: usize,
    /// Index every repository when the server starts (stdio).
    pub index_on_start: bool,
    /// Watch the repositories and reindex on change (stdio), with this quiet period; `None` turns it off.
    pub watch: Option<Duration>,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            max_budget: 200_000,
            max_concurrency: 8,
            index_on_start: true,
            watch: Some(Duration::from_millis(150)),
        }
    }
}

/// The MCP server handler over a workspace of repositories. Cheap to clone (one per HTTP session).
#[derive(Clone)]
pub struct SextantMcp {
    workspace: Arc<Workspace>,
    tools: Arc<Vec<Tool>>,
    slots: Arc<Semaphore>,
    max_budget: usize,
    log_level: Arc<Mutex<LoggingLevel>>,
}

impl SextantMcp {
    /// A handler over `workspace` with `options`' limits.
    pub fn new(workspace: Arc<Workspace>, options: &McpOptions) -> SextantMcp {
        SextantMcp {
            workspace,
            tools: Arc::new(tools::definitions()),
            slots: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
            max_budget: options.max_budget,
            log_level: Arc::new(Mutex::new(LoggingLevel::Info)),
        }
    }

    /// The repository a call names (or the only one).
    fn repository(&self, name: Option<&str>) -> Result<Arc<Repository>, sextant_engine::EngineError> {
        self.workspace.get(name.unwrap_or_default())
    }
}

impl ServerHandler for SextantMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().enable_logging().build())
            .with_server_info(Implementation::new("sextant", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Sextant indexes the user's repositories (symbols, call graph, BM25 and embeddings) and answers \
                 code questions without reading whole trees. Start a task with `context_pack` (the task text \
                 and a token budget): it returns the functions and classes most likely to matter, whole, with \
                 the rules that govern them. Use `search` for specific code, `symbol`/`references`/`callers`/\
                 `callees` to navigate, `read_file` for exact lines, and `overview` to learn the modules.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(tool) = self.get_tool(&request.name) else {
            let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_ref()).collect();
            return Err(McpError::invalid_params(
                format!("no tool named `{}` (tools: {})", request.name, names.join(", ")),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let _slot =
            self.slots.acquire().await.map_err(|_| McpError::internal_error("the server is shutting down", None))?;
        Ok(tools::call(self, &tool.name, arguments, &context).await)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let workspace = Arc::clone(&self.workspace);
        let resources = tokio::task::spawn_blocking(move || {
            let mut resources = Vec::new();
            for repo in workspace.repositories() {
                // Only overviews at hand are listed; building one is work for `overview` or `read_resource`.
                let Some(overview) = repo.cached_overview() else { continue };
                let name = repo.name();
                resources.push(
                    Resource::new(format!("sextant://{name}/overview"), format!("{name} overview"))
                        .with_description(format!("What {name} is, its modules, how to build and test it"))
                        .with_mime_type("text/markdown"),
                );
                for module in overview.modules.iter().skip(1) {
                    resources.push(
                        Resource::new(
                            format!("sextant://{name}/overview/{}", module.path),
                            format!("{name}: {}", module.name),
                        )
                        .with_description(module.purpose.clone().unwrap_or_else(|| format!("module {}", module.path)))
                        .with_mime_type("text/markdown"),
                    );
                }
                for rule in &overview.rules {
                    resources.push(
                        Resource::new(format!("sextant://{name}/rules/{}", rule.source), rule.source.clone())
                            .with_description(format!(
                                "agent rules for {}",
                                if rule.scope.is_empty() { "the repository" } else { &rule.scope }
                            ))
                            .with_mime_type("text/markdown"),
                    );
                }
            }
            resources
        })
        .await
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("sextant://{repository}/overview", "repository overview")
                .with_description("The overview page of a hosted repository")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new("sextant://{repository}/overview/{module}", "module overview")
                .with_description("The overview page of one module (its path)")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new("sextant://{repository}/rules/{path}", "rule file")
                .with_description("A rule file for agents (AGENTS.md, CLAUDE.md, .cursor/rules, …) in full")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri;
        let not_found = |why: String| McpError::resource_not_found(why, Some(serde_json::json!({ "uri": uri })));
        let Some(rest) = uri.strip_prefix("sextant://") else {
            return Err(not_found(format!("`{uri}` is not a sextant:// resource")));
        };
        let (name, what) = rest.split_once('/').unwrap_or((rest, ""));
        let repo = self.workspace.get(name).map_err(|e| not_found(e.to_string()))?;
        let what = what.to_string();
        let text = tokio::task::spawn_blocking(move || -> Result<String, String> {
            if what == "overview" {
                return repo.overview_markdown(None).map_err(|e| e.to_string());
            }
            if let Some(module) = what.strip_prefix("overview/") {
                return repo.overview_markdown(Some(module)).map_err(|e| e.to_string());
            }
            if let Some(path) = what.strip_prefix("rules/") {
                let overview = repo.overview().map_err(|e| e.to_string())?;
                return overview
                    .rules
                    .iter()
                    .find(|r| r.source == path)
                    .map(|r| r.text.clone())
                    .ok_or_else(|| format!("no rule file `{path}`"));
            }
            Err(format!("unknown resource `{what}` (overview, overview/MODULE or rules/PATH)"))
        })
        .await
        .map_err(|e| McpError::internal_error(e.to_string(), None))?
        .map_err(not_found)?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri.clone()).with_mime_type("text/markdown")])
            .into())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut level) = self.log_level.lock() {
            *level = request.level;
        }
        Ok(())
    }
}

/// Indexing progress as MCP logging notifications (phases and warnings; never per file), sent once a client
/// is connected. Nothing goes to stdout, which carries the protocol.
#[derive(Clone)]
struct LogProgress {
    repository: String,
    peer: Arc<OnceLock<Peer<RoleServer>>>,
    runtime: tokio::runtime::Handle,
}

impl LogProgress {
    fn send(&self, level: LoggingLevel, message: String) {
        eprintln!("sextant: {}: {message}", self.repository);
        if let Some(peer) = self.peer.get().cloned() {
            let data = serde_json::json!({ "repository": self.repository, "message": message });
            self.runtime.spawn(async move {
                let _ = peer
                    .notify_logging_message(LoggingMessageNotificationParam::new(level, data).with_logger("sextant"))
                    .await;
            });
        }
    }
}

impl EngineProgress for LogProgress {
    fn phase(&self, name: &str, total: Option<u64>) {
        let message = match total {
            Some(total) => format!("indexing: {name} ({total} files)"),
            None => format!("indexing: {name}"),
        };
        self.send(LoggingLevel::Info, message);
    }

    fn embed_planned(&self, what: &str, items: u64, to_embed: u64) {
        self.send(LoggingLevel::Info, format!("embedding: {to_embed} of {items} {what} need the model"));
    }

    fn warning(&self, message: &str) {
        self.send(LoggingLevel::Warning, message.to_string());
    }
}

/// One line saying what an indexing run did.
fn indexed_message(report: &IndexReport) -> String {
    let s = &report.summary;
    format!(
        "indexed: generation {}, {} files ({} parsed) in {} ms",
        s.generation, s.files, s.files_parsed, s.elapsed_ms
    )
}

/// Serves `workspace` over stdin/stdout until the client closes stdin. Each repository is brought up to date in
/// the background (queries answer from the previous index, or say indexing is under way) and, when asked,
/// watched; progress goes to the client as logging notifications and to stderr.
pub async fn serve_stdio(workspace: Arc<Workspace>, options: McpOptions) -> Result<(), std::io::Error> {
    let peer: Arc<OnceLock<Peer<RoleServer>>> = Arc::new(OnceLock::new());
    let mut watchers = Vec::new();
    for repo in workspace.repositories() {
        let progress = LogProgress {
            repository: repo.name().to_string(),
            peer: Arc::clone(&peer),
            runtime: tokio::runtime::Handle::current(),
        };
        // A watcher brings the index up to date itself, first thing (so that the edits it sees from then on are
        // its runs' whole change); a second start-up run beside it would only queue behind it and leave an
        // explicit `reindex` nothing but "busy".
        if let Some(debounce) = options.watch {
            let catch_up: Option<Box<dyn EngineProgress + Send>> =
                options.index_on_start.then(|| Box::new(progress.clone()) as Box<dyn EngineProgress + Send>);
            let log = progress.clone();
            let mut first = true;
            match repo.watch_with(debounce, catch_up, move |event| {
                // The start-up run is news to the client; later runs are routine.
                let level = if std::mem::take(&mut first) { LoggingLevel::Info } else { LoggingLevel::Debug };
                match event {
                    WatchEvent::Reindexed(report) => log.send(level, indexed_message(&report)),
                    WatchEvent::Failed(e) => log.send(LoggingLevel::Error, format!("indexing failed: {e}")),
                }
            }) {
                Ok(watcher) => {
                    watchers.push(watcher);
                    continue;
                }
                Err(e) => eprintln!("sextant: {}: not watching: {e}", repo.name()),
            }
        }
        if options.index_on_start {
            let repo = Arc::clone(repo);
            tokio::task::spawn_blocking(move || {
                let _ = repo.current_index();
                match repo.index(false, &progress) {
                    Ok(report) => progress.send(LoggingLevel::Info, indexed_message(&report)),
                    Err(e) => progress.send(LoggingLevel::Error, format!("indexing failed: {e}")),
                }
            });
        }
    }
    let handler = SextantMcp::new(workspace, &options);
    let running = handler.serve(rmcp::transport::stdio()).await.map_err(std::io::Error::other)?;
    let _ = peer.set(running.peer().clone());
    running.waiting().await.map_err(std::io::Error::other)?;
    drop(watchers);
    Ok(())
}
