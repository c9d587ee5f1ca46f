//! A client of a running server that answers with the engine's own types, so a command-line query can be served
//! by a warm `sextant serve` (no index to load, the model already in memory) and rendered exactly like a local
//! answer. The conversions here are the inverse of `convert.rs`.

use std::time::Duration;

use sextant_engine::{
    ContextPack, ItemKind, Location, PackItem, PackRequest, Page, Paged, ReferenceInfo, Relation, SearchHit,
    SearchMode, SearchOptions, SearchResults, Signal, SignalHit, SymbolInfo, TokenizerChoice,
};
use sextant_proto::v1;
use sextant_proto::v1::sextant_client::SextantClient;
use tonic::transport::Channel;

use crate::discovery::ServerRecord;

/// How long connecting to a recorded server may take before the caller falls back to reading the index.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// Errors talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error("cannot reach the server at {address}: {message}")]
    Unreachable {
        /// Its address.
        address: String,
        /// Why.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    /// The runtime could not start.
    #[error("cannot start the client runtime: {0}")]
    Runtime(std::io::Error),
}

/// What a server's reindex did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteReindex {
    /// The generation now answering.
    pub generation: u64,
    /// Indexed files.
    pub files: u64,
    /// Files parsed in the run.
    pub files_parsed: u64,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// The server that ran it.
    pub server_pid: u32,
}

/// One repository of a running server, queried over gRPC; calls block the calling thread.
pub struct RemoteRepository {
    runtime: tokio::runtime::Runtime,
    client: SextantClient<Channel>,
    repository: String,
    token: Option<String>,
    /// The server's process id, for telling the user who answered.
    pub pid: u32,
    /// The server's gRPC address.
    pub address: String,
}

impl RemoteRepository {
    /// Connects to the server of `record`, sending `token` (when given) with every call.
    pub fn connect(record: &ServerRecord, token: Option<String>) -> Result<RemoteRepository, ClientError> {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ClientError::Runtime)?;
        let address = record.grpc.clone();
        let unreachable = |message: String| ClientError::Unreachable { address: address.clone(), message };
        let endpoint = Channel::from_shared(format!("http://{address}"))
            .map_err(|e| unreachable(e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true);
        let channel = runtime.block_on(endpoint.connect()).map_err(|e| unreachable(e.to_string()))?;
        Ok(RemoteRepository {
            runtime,
            client: SextantClient::new(channel).max_decoding_message_size(64 * 1024 * 1024),
            repository: record.repository.clone(),
            token,
            pid: record.pid,
            address,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = self.token.as_ref().and_then(|t| format!("Bearer {t}").parse().ok()) {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// Like [`sextant_engine::Repository::search`].
    pub fn search(
        &self,
        query: &str,
        mode: Option<SearchMode>,
        options: &SearchOptions,
    ) -> Result<SearchResults, ClientError> {
        let message = v1::SearchRequest {
            repository: self.repository.clone(),
            query: query.to_string(),
            limit: options.limit as u32,
            languages: options.languages.clone(),
            path_filters: options.paths.clone(),
            mode: mode.map(|m| m.name().to_string()).unwrap_or_default(),
            per_file: Some(u32::try_from(options.chunks_per_file).unwrap_or(u32::MAX)),
        };
        let mut client = self.client.clone();
        let reply = self.runtime.block_on(client.search(self.request(message)))?.into_inner();
        Ok(SearchResults {
            mode: reply.mode.parse().unwrap_or(SearchMode::Lexical),
            warnings: reply.warnings,
            hits: reply.hits.into_iter().map(hit).collect(),
        })
    }

    /// Like [`sextant_engine::Repository::symbols`].
    pub fn symbols(&self, name: &str, page: Page) -> Result<Paged<SymbolInfo>, ClientError> {
        let mut client = self.client.clone();
        let reply = self.runtime.block_on(client.get_symbol(self.request(self.symbol_request(name, page))))?;
        let reply = reply.into_inner();
        Ok(paged(reply.total, &reply.next_page_token, reply.symbols.into_iter().map(symbol).collect()))
    }

    /// Like [`sextant_engine::Repository::references`].
    pub fn references(&self, name: &str, page: Page) -> Result<Paged<ReferenceInfo>, ClientError> {
        let mut client = self.client.clone();
        let reply = self.runtime.block_on(client.find_references(self.request(self.symbol_request(name, page))))?;
        let reply = reply.into_inner();
        let items = reply
            .references
            .into_iter()
            .map(|r| ReferenceInfo {
                at: location(r.at.unwrap_or_default()),
                kind: r.kind,
                qualifier: Some(r.qualifier).filter(|q| !q.is_empty()),
                resolved_to: r.resolved_to,
            })
            .collect();
        Ok(paged(reply.total, &reply.next_page_token, items))
    }

    /// Like [`sextant_engine::Repository::callers`] (`callers`) or `callees`.
    pub fn relations(&self, name: &str, page: Page, callers: bool) -> Result<Paged<Relation>, ClientError> {
        let mut client = self.client.clone();
        let request = self.request(self.symbol_request(name, page));
        let reply = self
            .runtime
            .block_on(async {
                if callers {
                    client.callers(request).await
                } else {
                    client.callees(request).await
                }
            })?
            .into_inner();
        let items = reply
            .relations
            .into_iter()
            .map(|r| Relation {
                subject: symbol(r.subject.unwrap_or_default()),
                other: location(r.other.unwrap_or_default()),
                weight: r.weight,
            })
            .collect();
        Ok(paged(reply.total, &reply.next_page_token, items))
    }

    /// Like [`sextant_engine::Repository::pack`].
    pub fn pack(&self, request: PackRequest) -> Result<ContextPack, ClientError> {
        let message = v1::GetContextPackRequest {
            repository: self.repository.clone(),
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
        };
        let mut client = self.client.clone();
        let pack = self.runtime.block_on(client.get_context_pack(self.request(message)))?.into_inner();
        Ok(ContextPack {
            items: pack.items.into_iter().map(item).collect(),
            text: pack.text,
            tokens: pack.tokens as usize,
            budget: pack.budget as usize,
            ranked_files: pack.ranked_files,
            generation: pack.index_generation,
        })
    }

    /// Asks the server to bring its index up to date now (`force`: parse everything) and waits for the run; the
    /// server holds the index directory's writer lock, so this is how a second process updates it.
    pub fn reindex(&self, force: bool) -> Result<RemoteReindex, ClientError> {
        let mut client = self.client.clone();
        let message = v1::ReindexRequest { repository: self.repository.clone(), force };
        let request = self.request(message);
        self.runtime.block_on(async {
            let mut stream = client.reindex(request).await?.into_inner();
            let mut last = None;
            while let Some(progress) = stream.message().await? {
                last = progress.summary.or(last);
            }
            let summary = last.ok_or_else(|| tonic::Status::internal("the reindex ended without a summary"))?;
            Ok(RemoteReindex {
                generation: summary.generation,
                files: summary.files,
                files_parsed: summary.files_parsed,
                elapsed_ms: summary.elapsed_ms,
                server_pid: self.pid,
            })
        })
    }

    fn symbol_request(&self, name: &str, page: Page) -> v1::SymbolRequest {
        v1::SymbolRequest {
            repository: self.repository.clone(),
            name: name.to_string(),
            page_size: page.size as u32,
            page_token: if page.offset == 0 { String::new() } else { page.offset.to_string() },
        }
    }
}

fn paged<T>(total: u32, next_token: &str, items: Vec<T>) -> Paged<T> {
    Paged { items, total: total as usize, next_offset: next_token.parse().ok() }
}

fn hit(h: v1::SearchHit) -> SearchHit {
    SearchHit {
        signals: h
            .signals
            .iter()
            .filter_map(|s| {
                let signal = match s.signal.as_str() {
                    "lexical" => Signal::Lexical,
                    "semantic" => Signal::Semantic,
                    "symbol" => Signal::Symbol,
                    "path" => Signal::Path,
                    "whole_file" => Signal::WholeFile,
                    "file_card" => Signal::FileCard,
                    _ => return None,
                };
                Some(SignalHit { signal, rank: s.rank, score: s.score })
            })
            .collect(),
        path: h.path,
        start_line: h.start_line,
        end_line: h.end_line,
        language: h.language,
        symbol: h.symbol,
        score: h.score,
        snippet: h.snippet,
        tokens: h.tokens,
    }
}

fn symbol(s: v1::Symbol) -> SymbolInfo {
    SymbolInfo {
        path: s.path,
        name: s.name,
        qualified_name: s.qualified_name,
        kind: s.kind,
        signature: s.signature,
        doc: Some(s.doc).filter(|d| !d.is_empty()),
        start_line: s.start_line,
        end_line: s.end_line,
        rank: s.rank,
    }
}

fn location(l: v1::Location) -> Location {
    Location {
        path: l.path,
        line: l.line,
        symbol: Some(l.symbol).filter(|s| !s.is_empty()),
        kind: Some(l.kind).filter(|k| !k.is_empty()),
    }
}

fn item(i: v1::PackItem) -> PackItem {
    PackItem {
        kind: match v1::ItemKind::try_from(i.kind) {
            Ok(v1::ItemKind::Skeleton) => ItemKind::Skeleton,
            Ok(v1::ItemKind::Overview) => ItemKind::Overview,
            Ok(v1::ItemKind::Rule) => ItemKind::Rule,
            _ => ItemKind::Code,
        },
        path: i.path,
        start_line: i.start_line,
        end_line: i.end_line,
        symbol: i.symbol,
        score: i.score,
        tokens: i.tokens,
        reason: i.reason,
        content: i.content,
    }
}
