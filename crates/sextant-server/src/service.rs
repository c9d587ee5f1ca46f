//! The `sextant.v1.Sextant` service: translates requests into engine calls and engine errors into status codes.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sextant_engine::{
    EngineError, EngineProgress, ErrorKind, PackRequest, Page, Repository, SearchOptions, TokenizerChoice, Workspace,
    DEFAULT_CHUNKS_PER_FILE, MAX_TASK_BYTES,
};
use sextant_proto::v1;
use sextant_proto::v1::sextant_server::Sextant;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::{convert, ServerConfig};

/// The service implementation: resolves repositories, bounds work, and maps errors to status codes.
pub struct SextantService {
    repositories: Arc<Workspace>,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    max_budget: usize,
}

/// Longest status message sent: messages travel in HTTP/2 trailers, and one that quotes a huge request field
/// would exceed the peer's header limit and reach the client as a protocol error instead of the status.
const MAX_STATUS_MESSAGE: usize = 1_024;

/// `message` cut to [`MAX_STATUS_MESSAGE`] bytes (on a character boundary).
fn bounded(mut message: String) -> String {
    if message.len() > MAX_STATUS_MESSAGE {
        let mut end = MAX_STATUS_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

/// An engine error as a gRPC status.
pub(crate) fn status(error: EngineError) -> Status {
    let message = bounded(error.to_string());
    match error.kind() {
        ErrorKind::InvalidArgument => Status::invalid_argument(message),
        ErrorKind::NotFound => Status::not_found(message),
        ErrorKind::FailedPrecondition => Status::failed_precondition(message),
        ErrorKind::Busy => Status::resource_exhausted(message),
        ErrorKind::Internal => Status::internal(message),
    }
}

impl SextantService {
    /// A service over the hosted repositories with the configured limits.
    pub fn new(repositories: Arc<Workspace>, config: &ServerConfig) -> SextantService {
        SextantService {
            repositories,
            slots: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            queue_timeout: config.queue_timeout,
            max_budget: config.max_budget,
        }
    }

    fn repository(&self, name: &str) -> Result<Arc<Repository>, Status> {
        self.repositories.get(name).map_err(status)
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit, Status> {
        match tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Status::resource_exhausted("the server is busy; retry later")),
        }
    }

    /// Runs engine work on a blocking thread, holding a concurrency slot.
    async fn run<T: Send + 'static>(
        &self,
        repository: &str,
        work: impl FnOnce(&Repository) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, Status> {
        let repo = self.repository(repository)?;
        let permit = self.slot().await?;
        let result = tokio::task::spawn_blocking(move || work(&repo))
            .await
            .map_err(|e| Status::internal(format!("worker failed: {e}")))?;
        drop(permit);
        result.map_err(status)
    }
}

type ProgressStream = Pin<Box<dyn Stream<Item = Result<v1::ReindexProgress, Status>> + Send + 'static>>;

/// Progress of a reindex, forwarded to the streaming reply.
enum ProgressEvent {
    Phase { name: String, total: Option<u64> },
    FileDone,
}

struct ChannelProgress(UnboundedSender<ProgressEvent>);

impl EngineProgress for ChannelProgress {
    fn phase(&self, name: &str, total: Option<u64>) {
        let _ = self.0.send(ProgressEvent::Phase { name: name.to_string(), total });
    }

    fn file_done(&self) {
        let _ = self.0.send(ProgressEvent::FileDone);
    }
}

#[tonic::async_trait]
impl Sextant for SextantService {
    async fn get_context_pack(
        &self,
        request: Request<v1::GetContextPackRequest>,
    ) -> Result<Response<v1::ContextPack>, Status> {
        let r = request.into_inner();
        if r.task.len() > MAX_TASK_BYTES {
            return Err(Status::invalid_argument(format!(
                "`task` is {} bytes; the limit is {MAX_TASK_BYTES}",
                r.task.len()
            )));
        }
        let budget = r.budget as usize;
        if budget == 0 || budget > self.max_budget {
            return Err(Status::invalid_argument(format!(
                "`budget` {budget} is out of range (1..={})",
                self.max_budget
            )));
        }
        let tokenizer = match v1::Tokenizer::try_from(r.tokenizer) {
            Ok(v1::Tokenizer::Cl100kBase) => TokenizerChoice::Cl100kBase,
            Ok(_) => TokenizerChoice::O200kBase,
            Err(_) => return Err(Status::invalid_argument(format!("unknown tokenizer {}", r.tokenizer))),
        };
        let request = PackRequest {
            task: r.task,
            budget,
            tokenizer,
            mentioned_paths: r.mentioned_paths,
            mentioned_symbols: r.mentioned_symbols,
            open_files: r.open_files,
            languages: r.languages,
            path_filters: r.path_filters,
            include_overview: r.include_overview,
            include_rules: r.include_rules,
            semantic_hits: Vec::new(),
            semantic_file_hits: Vec::new(),
            weights: Default::default(),
            record_features: false,
        };
        let pack = self.run(&r.repository, move |repo| repo.pack(request)).await?;
        Ok(Response::new(convert::pack(pack)))
    }

    async fn search(&self, request: Request<v1::SearchRequest>) -> Result<Response<v1::SearchResponse>, Status> {
        let r = request.into_inner();
        let mode = match r.mode.as_str() {
            "" => None,
            other => Some(other.parse().map_err(|e: String| Status::invalid_argument(bounded(e)))?),
        };
        let options = SearchOptions {
            limit: if r.limit == 0 { 10 } else { r.limit as usize },
            languages: r.languages,
            paths: r.path_filters,
            chunks_per_file: r.per_file.map_or(DEFAULT_CHUNKS_PER_FILE, |n| n as usize),
            ..SearchOptions::default()
        };
        let query = r.query;
        let results = self.run(&r.repository, move |repo| repo.search(&query, mode, &options)).await?;
        Ok(Response::new(v1::SearchResponse {
            mode: results.mode.name().to_string(),
            warnings: results.warnings,
            hits: results.hits.into_iter().map(convert::hit).collect(),
        }))
    }

    async fn get_symbol(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::SymbolResponse>, Status> {
        let r = request.into_inner();
        let page = Page::from_token(&r.page_token, r.page_size as usize).map_err(status)?;
        let found = self.run(&r.repository, move |repo| repo.symbols(&r.name, page)).await?;
        Ok(Response::new(v1::SymbolResponse {
            next_page_token: found.next_token(),
            total: found.total as u32,
            symbols: found.items.into_iter().map(convert::symbol).collect(),
        }))
    }

    async fn find_references(
        &self,
        request: Request<v1::SymbolRequest>,
    ) -> Result<Response<v1::ReferencesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::from_token(&r.page_token, r.page_size as usize).map_err(status)?;
        let found = self.run(&r.repository, move |repo| repo.references(&r.name, page)).await?;
        Ok(Response::new(v1::ReferencesResponse {
            next_page_token: found.next_token(),
            total: found.total as u32,
            references: found.items.into_iter().map(convert::reference).collect(),
        }))
    }

    async fn callers(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::RelationsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::from_token(&r.page_token, r.page_size as usize).map_err(status)?;
        let found = self.run(&r.repository, move |repo| repo.callers(&r.name, page)).await?;
        Ok(Response::new(convert::relations(found)))
    }

    async fn callees(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::RelationsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::from_token(&r.page_token, r.page_size as usize).map_err(status)?;
        let found = self.run(&r.repository, move |repo| repo.callees(&r.name, page)).await?;
        Ok(Response::new(convert::relations(found)))
    }

    async fn get_file(&self, request: Request<v1::GetFileRequest>) -> Result<Response<v1::GetFileResponse>, Status> {
        let r = request.into_inner();
        let source = self.run(&r.repository, move |repo| repo.read_source(&r.path, r.start_line, r.end_line)).await?;
        Ok(Response::new(v1::GetFileResponse {
            path: source.path,
            start_line: source.start_line,
            end_line: source.end_line,
            text: source.text,
            language: source.language,
            total_lines: source.total_lines,
            truncated: source.truncated,
        }))
    }

    type ReindexStream = ProgressStream;

    async fn reindex(&self, request: Request<v1::ReindexRequest>) -> Result<Response<Self::ReindexStream>, Status> {
        let r = request.into_inner();
        let repo = self.repository(&r.repository)?;
        // Reindexing is work like any other: it waits for a slot (the engine itself allows one run and one
        // queued run per repository, and refuses more).
        let permit = self.slot().await?;
        let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<ProgressEvent>();
        let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Result<v1::ReindexProgress, Status>>(64);
        let name = repo.name().to_string();
        tokio::spawn(async move {
            let forward_tx = out_tx.clone();
            let forward = tokio::spawn(async move {
                let (mut phase, mut done, mut total) = (String::new(), 0u64, 0u64);
                while let Some(event) = events_rx.recv().await {
                    match event {
                        ProgressEvent::Phase { name, total: t } => {
                            phase = name;
                            done = 0;
                            total = t.unwrap_or(0);
                        }
                        ProgressEvent::FileDone => {
                            done += 1;
                            // Every file would flood the stream; a message per 1% (or per file when few) is plenty.
                            if total > 100 && done % (total / 100) != 0 && done != total {
                                continue;
                            }
                        }
                    }
                    let message = v1::ReindexProgress { phase: phase.clone(), done, total, summary: None };
                    if forward_tx.send(Ok(message)).await.is_err() {
                        return;
                    }
                }
            });
            let working = Arc::clone(&repo);
            let result = tokio::task::spawn_blocking(move || working.index(r.force, &ChannelProgress(events_tx))).await;
            drop(permit);
            let _ = forward.await;
            let last = match result {
                Ok(Ok(report)) => {
                    let indexed_at = repo.loaded_index().map_or(0, |i| i.indexed_at());
                    Ok(v1::ReindexProgress {
                        phase: "done".into(),
                        done: report.summary.files,
                        total: report.summary.files,
                        summary: Some(convert::status(&name, &report.summary, indexed_at, repo.indexing())),
                    })
                }
                Ok(Err(e)) => Err(match e.kind() {
                    ErrorKind::Busy => status(e),
                    _ => Status::internal(format!("reindexing `{name}` failed: {e}")),
                }),
                Err(e) => Err(Status::internal(format!("reindexing `{name}` failed: {e}"))),
            };
            let _ = out_tx.send(last).await;
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(out_rx))))
    }

    async fn status(&self, request: Request<v1::StatusRequest>) -> Result<Response<v1::StatusResponse>, Status> {
        let r = request.into_inner();
        let found = self.run(&r.repository, |repo| repo.status()).await?;
        Ok(Response::new(convert::status(&found.name, &found.summary, found.indexed_at, found.indexing)))
    }

    async fn get_overview(
        &self,
        request: Request<v1::GetOverviewRequest>,
    ) -> Result<Response<v1::GetOverviewResponse>, Status> {
        let r = request.into_inner();
        let response = self
            .run(&r.repository, move |repo| {
                let overview = repo.overview()?;
                let module = Some(r.module.as_str()).filter(|m| !m.is_empty());
                let markdown = repo.overview_markdown(module)?;
                let json = repo.overview_json(module)?.to_string();
                let modules = overview
                    .modules
                    .iter()
                    .map(|m| v1::ModuleSummary {
                        path: m.path.clone(),
                        name: m.name.clone(),
                        kind: m.kind.as_str().to_string(),
                        purpose: m.purpose.clone().unwrap_or_default(),
                        files: m.files,
                        lines: m.lines,
                    })
                    .collect();
                Ok(v1::GetOverviewResponse { markdown, json, modules, index_generation: overview.generation })
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn list_repositories(
        &self,
        _request: Request<v1::ListRepositoriesRequest>,
    ) -> Result<Response<v1::ListRepositoriesResponse>, Status> {
        let repositories = self
            .repositories
            .repositories()
            .iter()
            .map(|repo| {
                // Listing never loads an index (the server loads each one when it starts).
                let index = repo.loaded_index();
                v1::RepositoryInfo {
                    name: repo.name().to_string(),
                    root: repo.spec().root.display().to_string(),
                    indexed: index.is_some(),
                    generation: index.map_or(0, |i| i.generation()),
                }
            })
            .collect();
        Ok(Response::new(v1::ListRepositoriesResponse { repositories }))
    }
}
