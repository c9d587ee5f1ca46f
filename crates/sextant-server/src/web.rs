//! The overview as web pages: repository and module pages, the dependency diagram (SVG drawn here), and source
//! views with line anchors that symbol links point to. Plain HTML, no scripts, nothing fetched from elsewhere.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sextant_overview::html::{self, escape, Link};
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
        .with_state(Web { repositories, token })
}

fn links<'a>(repo: &str, overview: &'a Overview) -> impl Fn(Link) -> String + 'a {
    let repo = repo.to_string();
    move |link| match link {
        Link::Home => format!("/r/{repo}/"),
        Link::Module(0) => format!("/r/{repo}/"),
        Link::Module(m) => format!("/r/{repo}/m/{}", overview.modules.get(m).map_or("", |m| m.path.as_str())),
        Link::Diagram => format!("/r/{repo}/deps"),
        Link::Source(path, line) => format!("/r/{repo}/source/{path}#L{line}"),
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
    if bearer == Some(expected) || cookie == Some(expected) {
        return Ok(None);
    }
    if query.token.as_deref() == Some(expected) {
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
        return with_cookie(cookie, Redirect::to(&format!("/r/{}/", only.name())).into_response());
    }
    let mut body =
        String::from("<!doctype html><meta charset=\"utf-8\"><title>Sextant</title><h1>Repositories</h1><ul>");
    for repo in web.repositories.repositories() {
        body.push_str(&format!(
            "<li><a href=\"/r/{0}/\">{0}</a> — {1}</li>",
            escape(repo.name()),
            escape(&repo.spec().root.display().to_string())
        ));
    }
    body.push_str("</ul>");
    with_cookie(cookie, Html(body).into_response())
}

/// Authorises the request, finds the repository's overview and renders with `render`.
async fn with_overview(
    web: &Web,
    headers: &HeaderMap,
    query: &TokenQuery,
    repo: &str,
    render: impl FnOnce(&Overview, &dyn Fn(Link) -> String) -> Response,
) -> Response {
    let cookie = match authorize(web, headers, query) {
        Ok(cookie) => cookie,
        Err(response) => return response,
    };
    match hosted(web, repo).await {
        Ok((_, overview)) => with_cookie(cookie, render(&overview, &links(repo, &overview))),
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
    let mut body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>{0}</title><style>body{{font:13px/1.45 ui-monospace,monospace;margin:1em}}\
a.n{{color:#99a;display:inline-block;width:4em;text-align:right;margin-right:1em;text-decoration:none}}:target{{background:#fff3c4}}\
pre{{margin:0}}</style><p><a href=\"/r/{1}/\">overview</a> · {0}</p>",
        escape(&source.path),
        escape(&repo)
    );
    for (i, line) in source.text.lines().enumerate() {
        let n = i + 1;
        body.push_str(&format!("<pre id=\"L{n}\"><a class=\"n\" href=\"#L{n}\">{n}</a>{}</pre>", escape(line)));
    }
    if source.truncated {
        body.push_str(&format!(
            "<p>… the file has {} lines; the view stops at {}.</p>",
            source.total_lines, source.end_line
        ));
    }
    Html(body).into_response()
}
