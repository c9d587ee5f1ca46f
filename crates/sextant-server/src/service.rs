//! The `sextant.v1.Sextant` service.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sextant_index::{Index, SearchOptions};
use sextant_pack::{build_pack_with, PackError, PackRequest, TokenizerChoice, MAX_TASK_BYTES};
use sextant_proto::v1;
use sextant_proto::v1::sextant_server::Sextant;
use sextant_semantic::SearchMode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::hosted::{Hosted, ProgressEvent};
use crate::{convert, ServerConfig};

/// Most search hits returned by one call.
const MAX_SEARCH_LIMIT: u32 = 1_000;
/// Most lines returned by one GetFile call.
const MAX_FILE_LINES: u32 = 20_000;
/// Longest name or query accepted.
const MAX_QUERY_BYTES: usize = 10_000;

/// The service implementation: resolves repositories, bounds work, and maps errors to status codes.
pub struct SextantService {
    repositories: Arc<Vec<Arc<Hosted>>>,
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    max_budget: usize,
}

impl SextantService {
    /// A service over the hosted repositories with the configured limits.
    pub fn new(repositories: Arc<Vec<Arc<Hosted>>>, config: &ServerConfig) -> SextantService {
        SextantService {
            repositories,
            slots: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            queue_timeout: config.queue_timeout,
            max_budget: config.max_budget,
        }
    }

    fn repository(&self, name: &str) -> Result<Arc<Hosted>, Status> {
        if name.is_empty() {
            return match self.repositories.as_slice() {
                [only] => Ok(Arc::clone(only)),
                _ => Err(Status::invalid_argument(format!(
                    "this server hosts {} repositories; name one in `repository` ({})",
                    self.repositories.len(),
                    self.names()
                ))),
            };
        }
        self.repositories
            .iter()
            .find(|r| r.spec.name == name)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("no repository named `{name}` (hosted: {})", self.names())))
    }

    fn names(&self) -> String {
        self.repositories.iter().map(|r| r.spec.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn index(&self, name: &str) -> Result<(Arc<Hosted>, Arc<Index>), Status> {
        let repo = self.repository(name)?;
        match repo.index() {
            Some(index) => Ok((repo, index)),
            None => Err(Status::failed_precondition(match repo.last_error() {
                Some(error) => format!("repository `{}` could not be indexed: {error}", repo.spec.name),
                None => format!("repository `{}` is being indexed; try again shortly", repo.spec.name),
            })),
        }
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit, Status> {
        match tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Status::resource_exhausted("the server is busy; retry later")),
        }
    }

    /// Runs index work on a blocking thread, holding a concurrency slot.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Status> + Send + 'static,
    ) -> Result<T, Status> {
        let permit = self.slot().await?;
        let result =
            tokio::task::spawn_blocking(work).await.map_err(|e| Status::internal(format!("worker failed: {e}")))?;
        drop(permit);
        result
    }
}

fn check_query(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        return Err(Status::invalid_argument(format!("`{field}` is empty")));
    }
    if value.len() > MAX_QUERY_BYTES {
        return Err(Status::invalid_argument(format!(
            "`{field}` is {} bytes; the limit is {MAX_QUERY_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

fn internal(error: impl std::fmt::Display) -> Status {
    Status::internal(error.to_string())
}

type ProgressStream = Pin<Box<dyn Stream<Item = Result<v1::ReindexProgress, Status>> + Send + 'static>>;

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
        let (repo, index) = self.index(&r.repository)?;
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
        };
        let overview = repo.overview();
        let semantic = repo.semantic();
        let pack = self
            .run(move || {
                let mut request = request;
                if let Some(engine) = semantic {
                    // Best effort: a failing model leaves the pack to its other signals.
                    request.semantic_hits =
                        engine.pack_hits(&request.task, &request.languages, &request.path_filters).unwrap_or_default();
                }
                build_pack_with(&index, &request, overview.as_deref()).map_err(|e| match e {
                    PackError::EmptyTask | PackError::TaskTooLong(_) | PackError::BadBudget(_) => {
                        Status::invalid_argument(e.to_string())
                    }
                    PackError::Index(e) => internal(e),
                })
            })
            .await?;
        Ok(Response::new(convert::pack(pack)))
    }

    async fn search(&self, request: Request<v1::SearchRequest>) -> Result<Response<v1::SearchResponse>, Status> {
        let r = request.into_inner();
        check_query("query", &r.query)?;
        let (repo, index) = self.index(&r.repository)?;
        let limit = if r.limit == 0 { 10 } else { r.limit.min(MAX_SEARCH_LIMIT) } as usize;
        let options = SearchOptions { limit, languages: r.languages, paths: r.path_filters };
        let semantic = repo.semantic();
        let mode = match r.mode.as_str() {
            "" if semantic.is_some() => SearchMode::Hybrid,
            "" => SearchMode::Lexical,
            other => other.parse::<SearchMode>().map_err(Status::invalid_argument)?,
        };
        if mode == SearchMode::Semantic && semantic.is_none() {
            return Err(Status::failed_precondition(format!(
                "repository `{}` has no vectors (no embedding model set up, or embedding is off)",
                repo.spec.name
            )));
        }
        let hits = self
            .run(move || {
                sextant_semantic::search(&index, semantic.as_deref(), &r.query, &options, mode).map_err(internal)
            })
            .await?;
        Ok(Response::new(v1::SearchResponse { hits: hits.into_iter().map(convert::hit).collect() }))
    }

    async fn get_symbol(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::SymbolResponse>, Status> {
        let r = request.into_inner();
        check_query("name", &r.name)?;
        let (_, index) = self.index(&r.repository)?;
        let symbols = self.run(move || Ok(index.find_symbols(&r.name))).await?;
        Ok(Response::new(v1::SymbolResponse { symbols: symbols.into_iter().map(convert::symbol).collect() }))
    }

    async fn find_references(
        &self,
        request: Request<v1::SymbolRequest>,
    ) -> Result<Response<v1::ReferencesResponse>, Status> {
        let r = request.into_inner();
        check_query("name", &r.name)?;
        let (_, index) = self.index(&r.repository)?;
        let references = self.run(move || Ok(index.references(&r.name))).await?;
        Ok(Response::new(v1::ReferencesResponse {
            references: references.into_iter().map(convert::reference).collect(),
        }))
    }

    async fn callers(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::RelationsResponse>, Status> {
        let r = request.into_inner();
        check_query("name", &r.name)?;
        let (_, index) = self.index(&r.repository)?;
        let relations = self.run(move || Ok(index.callers(&r.name))).await?;
        Ok(Response::new(v1::RelationsResponse { relations: relations.into_iter().map(convert::relation).collect() }))
    }

    async fn callees(&self, request: Request<v1::SymbolRequest>) -> Result<Response<v1::RelationsResponse>, Status> {
        let r = request.into_inner();
        check_query("name", &r.name)?;
        let (_, index) = self.index(&r.repository)?;
        let relations = self.run(move || Ok(index.callees(&r.name))).await?;
        Ok(Response::new(v1::RelationsResponse { relations: relations.into_iter().map(convert::relation).collect() }))
    }

    async fn get_file(&self, request: Request<v1::GetFileRequest>) -> Result<Response<v1::GetFileResponse>, Status> {
        let r = request.into_inner();
        check_query("path", &r.path)?;
        let (repo, index) = self.index(&r.repository)?;
        let response = self
            .run(move || {
                let file = index.file_id(&r.path).ok_or_else(|| {
                    Status::not_found(format!("`{}` is not an indexed file of `{}`", r.path, repo.spec.name))
                })?;
                let record = &index.files()[file as usize];
                // The path is an indexed, repository-relative one, so joining it cannot escape the root.
                let bytes = std::fs::read(repo.spec.root.join(&record.path))
                    .map_err(|e| Status::failed_precondition(format!("`{}` cannot be read now: {e}", record.path)))?;
                if sextant_index::content_hash(&bytes) != record.hash {
                    return Err(Status::failed_precondition(format!(
                        "`{}` changed since it was indexed; a reindex is under way (or call Reindex)",
                        record.path
                    )));
                }
                let text = String::from_utf8_lossy(&bytes);
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                let total = lines.len() as u32;
                let start = r.start_line.max(1);
                let end = if r.end_line == 0 { total } else { r.end_line.min(total) };
                if start > end.max(1) || (total > 0 && start > total) {
                    return Err(Status::invalid_argument(format!("lines {start}-{end} are outside 1-{total}")));
                }
                let end = end.min(start.saturating_add(MAX_FILE_LINES - 1));
                let slice = if total == 0 { String::new() } else { lines[(start - 1) as usize..end as usize].concat() };
                Ok(v1::GetFileResponse {
                    path: record.path.clone(),
                    start_line: start,
                    end_line: end,
                    text: slice,
                    language: record.facts.language.name().to_string(),
                    total_lines: total,
                })
            })
            .await?;
        Ok(Response::new(response))
    }

    type ReindexStream = ProgressStream;

    async fn reindex(&self, request: Request<v1::ReindexRequest>) -> Result<Response<Self::ReindexStream>, Status> {
        let r = request.into_inner();
        let repo = self.repository(&r.repository)?;
        let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<ProgressEvent>();
        let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Result<v1::ReindexProgress, Status>>(64);
        let name = repo.spec.name.clone();
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
            let result = repo.reindex(r.force, Some(events_tx)).await;
            let _ = forward.await;
            let last = match result {
                Ok(summary) => {
                    let indexed_at = repo.index().map_or(0, |i| i.indexed_at());
                    Ok(v1::ReindexProgress {
                        phase: "done".into(),
                        done: summary.files,
                        total: summary.files,
                        summary: Some(convert::status(&name, &summary, indexed_at)),
                    })
                }
                Err(e) => Err(Status::internal(format!("reindexing `{name}` failed: {e}"))),
            };
            let _ = out_tx.send(last).await;
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(out_rx))))
    }

    async fn status(&self, request: Request<v1::StatusRequest>) -> Result<Response<v1::StatusResponse>, Status> {
        let r = request.into_inner();
        let (repo, index) = self.index(&r.repository)?;
        let status =
            self.run(move || Ok(convert::status(&repo.spec.name, &index.status(), index.indexed_at()))).await?;
        Ok(Response::new(status))
    }

    async fn get_overview(
        &self,
        request: Request<v1::GetOverviewRequest>,
    ) -> Result<Response<v1::GetOverviewResponse>, Status> {
        let r = request.into_inner();
        let repo = self.repository(&r.repository)?;
        let overview = repo.overview().ok_or_else(|| {
            Status::failed_precondition(format!(
                "the overview of `{}` is being built; try again shortly",
                repo.spec.name
            ))
        })?;
        let position = if r.module.is_empty() {
            0
        } else {
            overview
                .module_index(&r.module)
                .ok_or_else(|| Status::not_found(format!("no module `{}` in `{}`", r.module, repo.spec.name)))?
        };
        let max_chars = repo.config().overview.max_page_chars;
        let markdown =
            sextant_overview::markdown_page(&overview, Some(position), max_chars, sextant_overview::LinkStyle::Plain);
        let json = if position == 0 {
            serde_json::to_string(&*overview)
        } else {
            serde_json::to_string(&overview.modules[position])
        }
        .map_err(internal)?;
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
        Ok(Response::new(v1::GetOverviewResponse { markdown, json, modules, index_generation: overview.generation }))
    }

    async fn list_repositories(
        &self,
        _request: Request<v1::ListRepositoriesRequest>,
    ) -> Result<Response<v1::ListRepositoriesResponse>, Status> {
        let repositories = self
            .repositories
            .iter()
            .map(|repo| {
                let index = repo.index();
                v1::RepositoryInfo {
                    name: repo.spec.name.clone(),
                    root: repo.spec.root.display().to_string(),
                    indexed: index.is_some(),
                    generation: index.map_or(0, |i| i.generation()),
                }
            })
            .collect();
        Ok(Response::new(v1::ListRepositoriesResponse { repositories }))
    }
}
