//! MCP over Streamable HTTP, mounted at `/mcp` on the server's HTTP port.
//!
//! A guard runs before rmcp: requests from a browser page of another origin are refused (the MCP specification
//! asks local servers to validate `Origin` against DNS rebinding), and when a token is configured every request
//! must carry `Authorization: Bearer <token>`; a refusal is a JSON-RPC error body, so clients show its message.
//! rmcp itself checks `Host` against the loopback names and the names given here.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sextant_engine::Workspace;
use tokio_util::sync::CancellationToken;

use crate::{McpOptions, SextantMcp};

/// Path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";

#[derive(Clone)]
struct Guard {
    token: Option<Arc<str>>,
}

/// The `/mcp` endpoint over `workspace`. `token`: the bearer token every request must carry (`None`: none).
/// `hosts`: host names (without port) clients may use besides the loopback names. Cancelling `shutdown` closes
/// open event streams, so the HTTP server can stop gracefully.
pub fn http_router(
    workspace: Arc<Workspace>,
    options: &McpOptions,
    token: Option<String>,
    hosts: Vec<String>,
    shutdown: CancellationToken,
) -> Router {
    let mut allowed: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    allowed.extend(hosts);
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed)
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        .with_cancellation_token(shutdown);
    let handler = SextantMcp::new(workspace, options);
    let service =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), config);
    Router::new()
        .nest_service(MCP_PATH, service)
        .layer(middleware::from_fn_with_state(Guard { token: token.map(Arc::from) }, guard))
}

/// Whether an `Origin` header names a page served from this machine (or is absent: not a browser).
fn local_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else {
        return false;
    };
    let host = if let Some(bracketed) = rest.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn refusal(status: StatusCode, code: i32, message: &str) -> Response {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    response
}

async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if !local_origin(request.headers()) {
        return refusal(StatusCode::FORBIDDEN, -32001, "requests from web pages of other origins are refused");
    }
    if let Some(expected) = guard.token.as_deref() {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !presented.is_some_and(|p| sextant_engine::token_matches(p, expected)) {
            return refusal(
                StatusCode::UNAUTHORIZED,
                -32001,
                "missing or wrong bearer token: send `Authorization: Bearer <token>`",
            );
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_origins_pass() {
        let mut headers = HeaderMap::new();
        assert!(local_origin(&headers), "no Origin: not a browser");
        for (origin, ok) in [
            ("http://localhost:7712", true),
            ("http://127.0.0.1", true),
            ("http://[::1]:80", true),
            ("https://evil.example", false),
            ("http://localhost.evil.example", false),
            ("null", false),
        ] {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
            assert_eq!(local_origin(&headers), ok, "{origin}");
        }
    }
}
