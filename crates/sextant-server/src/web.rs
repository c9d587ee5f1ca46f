//! The overview as web pages: repository and module pages, the dependency diagram (SVG drawn here), and source
//! views with line anchors that symbol links point to. Plain HTML, no scripts, nothing fetched from elsewhere.
//!
//! Pages are maud templates (every interpolation escaped) with percent-encoded URLs, served with a
//! Content-Security-Policy that allows no script at all, so even a file named `"><script>…` cannot run code on
//! this origin. [`secure`] also refuses `Host` names other than loopback ones when the server listens on
//! loopback, which stops DNS-rebinding pages from reading the overview.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, DOCTYPE};
use sextant_overview::html::{self, encode_path, encode_segment, Link};
use sextant_overview::Overview;

use sextant_engine::{ErrorKind, Repository, Workspace};

#[derive(Clone)]
struct Web {
    repositories: Arc<Workspace>,
    token: Option<String>,
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The router serving the overview pages.
pub fn router(repositories: Arc<Workspace>, token: Option<String>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/r/{repo}/", get(repository_page))
        .route("/r/{repo}/m/{*module}", get(module_page))
        .route("/r/{repo}/deps", get(diagram_page))
        .route("/r/{repo}/deps.svg", get(diagram_svg))
        .route("/r/{repo}/source/{*path}", get(source_page))
        .route("/r/{repo}/search", get(search_page))
        .with_state(Web { repositories, token })
}

/// The policy every page is served with: no scripts, no plugins, no framing, styles only inline.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Wraps the HTTP app (pages and `/mcp`): refuses foreign `Host` names when `loopback_only`, and adds the
/// security headers to every response.
pub fn secure(app: Router, loopback_only: bool) -> Router {
    app.layer(middleware::from_fn_with_state(loopback_only, guard))
}

/// Whether a `Host` header names this machine's loopback interface (any port).
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

async fn guard(State(loopback_only): State<bool>, request: Request, next: Next) -> Response {
    if loopback_only {
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        if !loopback_host(host) {
            return (StatusCode::FORBIDDEN, "this server answers only to localhost, 127.0.0.1 or [::1]")
                .into_response();
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn links<'a>(repo: &str, overview: &'a Overview) -> impl Fn(Link) -> String + 'a {
    let repo = encode_segment(repo);
    move |link| match link {
        Link::Home => format!("/r/{repo}/"),
        Link::Module(0) => format!("/r/{repo}/"),
        Link::Module(m) => {
            format!("/r/{repo}/m/{}", encode_path(overview.modules.get(m).map_or("", |m| m.path.as_str())))
        }
        Link::Diagram => format!("/r/{repo}/deps"),
        Link::Search => format!("/r/{repo}/search"),
        Link::Source(path, line) => format!("/r/{repo}/source/{}#L{line}", encode_path(path)),
    }
}

/// Checks the token (header, `token` cookie, or `?token=` which also sets the cookie).
#[allow(clippy::result_large_err)] // the error is the response itself; boxing it gains nothing here
fn authorize(web: &Web, headers: &HeaderMap, query: &TokenQuery) -> Result<Option<String>, Response> {
    let Some(expected) = &web.token else { return Ok(None) };
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').find_map(|kv| kv.trim().strip_prefix("sextant_token=")));
    let matches = |presented: Option<&str>| presented.is_some_and(|p| sextant_engine::token_matches(p, expected));
    if matches(bearer) || matches(cookie) {
        return Ok(None);
    }
    if matches(query.token.as_deref()) {
        return Ok(Some(format!("sextant_token={expected}; Path=/; HttpOnly; SameSite=Strict")));
    }
    Err((StatusCode::UNAUTHORIZED, "missing or wrong token: open the page with ?token=<token> once").into_response())
}

fn with_cookie(cookie: Option<String>, response: Response) -> Response {
    let mut response = response;
    if let Some(cookie) = cookie {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// The repository named `name` and its overview, loaded or built on a blocking thread.
async fn hosted(web: &Web, name: &str) -> Result<(Arc<Repository>, Arc<Overview>), Response> {
    let repo = web.repositories.get(name).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()).into_response())?;
    let working = Arc::clone(&repo);
    let overview = tokio::task::spawn_blocking(move || working.overview())
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?
        .map_err(|e| match e.kind() {
            ErrorKind::FailedPrecondition => (
                StatusCode::SERVICE_UNAVAILABLE,
                Html("<p>The overview is being built; reload in a moment.</p>".to_string()),
            )
                .into_response(),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        })?;
    Ok((repo, overview))
}

async fn home(State(web): State<Web>, headers: HeaderMap, Query(query): Query<TokenQuery>) -> Response {
    let cookie = match authorize(&web, &headers, &query) {
        Ok(cookie) => cookie,
        Err(response) => return response,
    };
    if let [only] = web.repositories.repositories() {
        return with_cookie(cookie, Redirect::to(&format!("/r/{}/", encode_segment(only.name()))).into_response());
    }
    let body = html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { "Sextant" } }
            body {
                h1 { "Repositories" }
                ul {
                    @for repo in web.repositories.repositories() {
                        li { a href={ "/r/" (encode_segment(repo.name())) "/" } { (repo.name()) } " — " (repo.spec().root.display().to_string()) }
                    }
                }
            }
        }
    }
    .into_string();
    with_cookie(cookie, Html(body).into_response())
}

/// Authorises the request, finds the repository's overview and renders with `render`.
/// The token check, then the hosted repository and its overview: what every overview page starts with. The cookie
/// to set (a `?token=` that matched) comes back with them.
async fn authorized(
    web: &Web,
    headers: &HeaderMap,
    query: &TokenQuery,
    repo: &str,
) -> Result<(Option<String>, Arc<Repository>, Arc<Overview>), Response> {
    let cookie = authorize(web, headers, query)?;
    let (repository, overview) = hosted(web, repo).await?;
    Ok((cookie, repository, overview))
}

async fn with_overview(
    web: &Web,
    headers: &HeaderMap,
    query: &TokenQuery,
    repo: &str,
    render: impl FnOnce(&Overview, &dyn Fn(Link) -> String) -> Response,
) -> Response {
    match authorized(web, headers, query, repo).await {
        Ok((cookie, _, overview)) => with_cookie(cookie, render(&overview, &links(repo, &overview))),
        Err(response) => response,
    }
}

async fn repository_page(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    UrlPath(repo): UrlPath<String>,
) -> Response {
    with_overview(&web, &headers, &query, &repo, |overview, links| Html(html::page(overview, 0, links)).into_response())
        .await
}

async fn module_page(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    UrlPath((repo, module)): UrlPath<(String, String)>,
) -> Response {
    with_overview(&web, &headers, &query, &repo, |overview, links| match overview.module_index(&module) {
        Some(i) => Html(html::page(overview, i, links)).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no module {module}")).into_response(),
    })
    .await
}

async fn diagram_page(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    UrlPath(repo): UrlPath<String>,
) -> Response {
    with_overview(&web, &headers, &query, &repo, |overview, links| {
        Html(html::diagram_page(overview, links)).into_response()
    })
    .await
}

/// The query of the page search, with the token like every page.
#[derive(serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
    token: Option<String>,
}

/// Longest page-search query taken (characters).
const MAX_PAGE_QUERY: usize = 200;
/// Results of each kind on the search page.
const PAGE_RESULTS: usize = 20;

async fn search_page(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
    UrlPath(repo): UrlPath<String>,
) -> Response {
    let (cookie, repository, overview) =
        match authorized(&web, &headers, &TokenQuery { token: query.token }, &repo).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let wanted: String = query.q.unwrap_or_default().trim().chars().take(MAX_PAGE_QUERY).collect();
    let text = wanted.clone();
    let found = tokio::task::spawn_blocking(move || -> Vec<html::FoundSymbol> {
        let Ok(index) = repository.current_index() else { return Vec::new() };
        if text.is_empty() {
            return Vec::new();
        }
        // Definitions of that name first, then chunks whose text matches.
        let mut found: Vec<html::FoundSymbol> = index
            .find_symbols(&text)
            .into_iter()
            .take(PAGE_RESULTS)
            .map(|s| html::FoundSymbol {
                name: s.qualified_name,
                kind: s.kind,
                path: s.path,
                line: s.start_line,
                detail: s.signature,
            })
            .collect();
        let options = sextant_index::SearchOptions { limit: PAGE_RESULTS, ..Default::default() };
        for hit in index.search(&text, &options).unwrap_or_default() {
            if !found.iter().any(|f| f.path == hit.path && f.line == hit.start_line) {
                let detail = hit.snippet.lines().next().unwrap_or_default().trim().to_string();
                found.push(html::FoundSymbol {
                    name: if hit.symbol.is_empty() { hit.path.clone() } else { hit.symbol },
                    kind: "text match".to_string(),
                    path: hit.path,
                    line: hit.start_line,
                    detail,
                });
            }
        }
        found
    })
    .await
    .unwrap_or_default();
    let page = html::search_page(&overview, &wanted, &found, &links(&repo, &overview));
    with_cookie(cookie, Html(page).into_response())
}

async fn diagram_svg(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    UrlPath(repo): UrlPath<String>,
) -> Response {
    with_overview(&web, &headers, &query, &repo, |overview, links| {
        ([(header::CONTENT_TYPE, "image/svg+xml")], html::dependency_svg(overview, links)).into_response()
    })
    .await
}

async fn source_page(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    UrlPath((repo, path)): UrlPath<(String, String)>,
) -> Response {
    if let Err(response) = authorize(&web, &headers, &query) {
        return response;
    }
    let found = match web.repositories.get(&repo) {
        Ok(found) => found,
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    // Only indexed files are served (so no path reaches outside the repository), as indexed, and bounded.
    let wanted = path.clone();
    let source = match tokio::task::spawn_blocking(move || found.read_source(&wanted, 0, 0)).await {
        Ok(Ok(source)) => source,
        Ok(Err(e)) => {
            let code = match e.kind() {
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::FailedPrecondition => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            return (code, e.to_string()).into_response();
        }
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let lines: Vec<&str> = source.text.lines().collect();
    let body = html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                title { (source.path) }
                style { "body{font:13px/1.45 ui-monospace,monospace;margin:1em}a.n{color:#99a;display:inline-block;width:4em;text-align:right;margin-right:1em;text-decoration:none}:target{background:#fff3c4}pre{margin:0}" }
            }
            body {
                p { a href={ "/r/" (encode_segment(&repo)) "/" } { "overview" } " · " (source.path) }
                @for (i, line) in lines.iter().enumerate() {
                    pre id={ "L" (i + 1) } { a.n href={ "#L" (i + 1) } { (i + 1) } (line) }
                }
                @if source.truncated {
                    p { "… the file has " (source.total_lines) " lines; the view stops at " (source.end_line) "." }
                }
            }
        }
    };
    Html(body.into_string()).into_response()
}
