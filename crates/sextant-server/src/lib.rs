//! The gRPC server agents talk to: an adapter from `sextant.v1` requests to the engine.
//!
//! It hosts the repositories of a [`Workspace`]. The engine keeps each current index behind an `Arc` that queries
//! clone, so a reindex (incremental, on a blocking thread) never blocks a query: when it commits, the new index
//! is swapped in. An engine watcher per repository debounces file events and triggers those reindexes, so an
//! edit shows up in packs within about a second. Every accepted connection has TCP_NODELAY set, so small replies
//! leave at once instead of waiting on Nagle's algorithm. Requests are bounded (budget, sizes, concurrency) and,
//! when a token is configured, every call (health and reflection included) must carry
//! `authorization: Bearer <token>`. Health (`grpc.health.v1`) and server reflection are served alongside, so
//! `grpcurl` can list and call everything.

pub mod client;
mod convert;
pub mod discovery;
mod service;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use sextant_engine::{RepositorySpec, Workspace};
pub use sextant_proto::v1;

use sextant_engine::{EngineOptions, NoEngineProgress, WatchEvent};
use sextant_proto::v1::sextant_server::SextantServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;

/// Keepalive probes on idle connections, so dead peers do not hold connections open.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Default gRPC address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7711";
/// Default address of the overview web pages: loopback only.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7712";

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Address of the overview web pages; `None` turns them off.
    pub http_listen: Option<SocketAddr>,
    /// Repositories to host.
    pub repositories: Vec<RepositorySpec>,
    /// Bearer token every call must carry; `None` disables authentication.
    pub token: Option<String>,
    /// Largest pack budget accepted.
    pub max_budget: usize,
    /// Requests processed at once; more wait, and give up with RESOURCE_EXHAUSTED after `queue_timeout`.
    pub max_concurrency: usize,
    /// How long a request may wait for a slot.
    pub queue_timeout: Duration,
    /// Largest request accepted, in bytes.
    pub max_request_bytes: usize,
    /// Watch the repositories and reindex on change.
    pub watch: bool,
    /// Quiet period after the last file event before reindexing.
    pub debounce: Duration,
    /// Machine-level engine choices (embedding on or off, a Qdrant server).
    pub engine: EngineOptions,
}

impl ServerConfig {
    /// Settings with defaults for everything but the repositories.
    pub fn new(repositories: Vec<RepositorySpec>) -> ServerConfig {
        ServerConfig {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            http_listen: Some(DEFAULT_HTTP_LISTEN.parse().expect("valid default address")),
            repositories,
            token: None,
            max_budget: 200_000,
            max_concurrency: 16,
            queue_timeout: Duration::from_secs(10),
            max_request_bytes: 4 * 1024 * 1024,
            watch: true,
            debounce: Duration::from_millis(20),
            engine: EngineOptions::default(),
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Two repositories share a name.
    #[error("two repositories are named `{0}`; give them distinct names")]
    DuplicateName(String),
    /// No repository to host.
    #[error("no repository to serve")]
    NoRepositories,
    /// The repositories could not be set up.
    #[error(transparent)]
    Engine(#[from] sextant_engine::EngineError),
    /// Reflection could not be configured.
    #[error("server reflection: {0}")]
    Reflection(String),
    /// A server task failed (panicked or was cancelled).
    #[error("server task failed: {0}")]
    Task(String),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A running server.
pub struct RunningServer {
    /// The bound gRPC address (useful with port 0).
    pub addr: SocketAddr,
    /// The bound address of the web pages.
    pub http_addr: Option<SocketAddr>,
    /// The hosted repositories.
    pub repositories: Arc<Workspace>,
    shutdown: Option<oneshot::Sender<()>>,
    _watchers: Vec<sextant_engine::Watcher>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for the server to finish.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        self.forget_records();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        task.await.map_err(|e| ServerError::Task(e.to_string()))?
    }

    /// Waits until the server ends (it ends when stopped or on a transport error).
    pub async fn wait(mut self) -> Result<(), ServerError> {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        let result = task.await.map_err(|e| ServerError::Task(e.to_string()))?;
        self.forget_records();
        result
    }

    /// Removes this server's discovery records (the CLI then reads the index itself).
    pub fn forget_records(&self) {
        for repo in self.repositories.repositories() {
            discovery::remove_own_record(&repo.spec().index_dir);
        }
    }
}

impl Drop for RunningServer {
    /// A server dropped without `stop` (Ctrl-C in `sextant serve`) still takes its records with it.
    fn drop(&mut self) {
        self.forget_records();
    }
}

/// Binds, starts background indexing and watching, and serves until stopped.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    if config.repositories.is_empty() {
        return Err(ServerError::NoRepositories);
    }
    let mut names = std::collections::HashSet::new();
    for spec in &config.repositories {
        if !names.insert(spec.name.clone()) {
            return Err(ServerError::DuplicateName(spec.name.clone()));
        }
    }
    // Opening reads each repository's configuration: file work, off the async threads.
    let (specs, engine) = (config.repositories.clone(), config.engine.clone());
    let workspace = tokio::task::spawn_blocking(move || Workspace::open(specs, &engine))
        .await
        .map_err(|e| ServerError::Task(format!("opening the repositories: {e}")))??;
    let repositories = Arc::new(workspace);
    let mut watchers = Vec::new();
    for repo in repositories.repositories() {
        // Every index is brought up to date in the background; queries use the previous one meanwhile. A watcher
        // does that itself, first thing, so that the edits it sees from then on are its next runs' whole change.
        if config.watch {
            let name = repo.name().to_string();
            let watched = repo.watch(config.debounce, move |event| {
                if let WatchEvent::Failed(e) = event {
                    eprintln!("warning: indexing {name} failed: {e}");
                }
            });
            match watched {
                Ok(watcher) => {
                    watchers.push(watcher);
                    continue;
                }
                Err(e) => eprintln!("warning: {e}; changes to {} will need an explicit Reindex", repo.name()),
            }
        }
        let background = Arc::clone(repo);
        tokio::task::spawn_blocking(move || {
            // The previous index answers at once (if there is one) while the update runs.
            let _ = background.current_index();
            if let Err(e) = background.index(false, &NoEngineProgress) {
                eprintln!("warning: indexing {} failed: {e}", background.name());
            }
        });
    }

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true)).with_keepalive(Some(TCP_KEEPALIVE));

    let service = service::SextantService::new(Arc::clone(&repositories), &config);
    // One token check in front of every service: the API, health and reflection alike.
    let token: Arc<Option<String>> = Arc::new(config.token.clone());
    let guard = move |request: tonic::Request<()>| -> Result<tonic::Request<()>, tonic::Status> {
        check_token(token.as_deref(), &request)?;
        Ok(request)
    };
    let sextant = tonic::service::interceptor::InterceptedService::new(
        SextantServer::new(service).max_decoding_message_size(config.max_request_bytes),
        guard.clone(),
    );

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<SextantServer<service::SextantService>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sextant_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Reflection(e.to_string()))?;
    let health_service = tonic::service::interceptor::InterceptedService::new(health_service, guard.clone());
    let reflection = tonic::service::interceptor::InterceptedService::new(reflection, guard);

    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let (web_stop_tx, web_stop_rx) = tokio::sync::watch::channel(false);
    let http_addr = match config.http_listen {
        Some(http) => {
            let listener = TcpListener::bind(http).await.map_err(|source| ServerError::Bind { addr: http, source })?;
            let bound = listener.local_addr().map_err(|source| ServerError::Bind { addr: http, source })?;
            // The overview pages and the MCP endpoint (`/mcp`, Streamable HTTP) share the HTTP port.
            let mcp_shutdown = tokio_util::sync::CancellationToken::new();
            let mcp_options = sextant_mcp::McpOptions {
                max_budget: config.max_budget,
                max_concurrency: config.max_concurrency,
                ..sextant_mcp::McpOptions::default()
            };
            let app = web::router(Arc::clone(&repositories), config.token.clone()).merge(sextant_mcp::http_router(
                Arc::clone(&repositories),
                &mcp_options,
                config.token.clone(),
                Vec::new(),
                mcp_shutdown.clone(),
            ));
            let app = web::secure(app, bound.ip().is_loopback());
            let mut stop = web_stop_rx;
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                // Same reason as for gRPC: a small page must not wait on Nagle's algorithm.
                let _ = tcp.set_nodelay(true);
            });
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                        // Open MCP event streams would otherwise hold the shutdown forever.
                        mcp_shutdown.cancel();
                    })
                    .await;
            });
            Some(bound)
        }
        None => None,
    };
    let router = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(config.max_concurrency.max(1))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(sextant);
    let task = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = shutdown_rx.await;
                let _ = web_stop_tx.send(true);
            })
            .await
            .map_err(ServerError::from)
    });
    // Command-line queries find this server through these records (see `discovery`).
    for repo in repositories.repositories() {
        let record = discovery::ServerRecord {
            pid: std::process::id(),
            grpc: addr.to_string(),
            repository: repo.name().to_string(),
            token_required: config.token.is_some(),
        };
        if let Err(e) = discovery::write_record(&repo.spec().index_dir, &record) {
            eprintln!("warning: command-line queries will not find this server: {e}");
        }
    }
    Ok(RunningServer { addr, http_addr, repositories, shutdown: Some(shutdown_tx), _watchers: watchers, task })
}

/// Rejects a request without the configured bearer token.
fn check_token<T>(token: Option<&str>, request: &tonic::Request<T>) -> Result<(), tonic::Status> {
    let Some(expected) = token else { return Ok(()) };
    let presented =
        request.metadata().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        None => Err(tonic::Status::unauthenticated("missing bearer token: send `authorization: Bearer <token>`")),
        Some(t) if sextant_engine::token_matches(t, expected) => Ok(()),
        Some(_) => Err(tonic::Status::unauthenticated("wrong bearer token")),
    }
}
