//! Browser test: headless Chromium (driven by playwright-core, see `tests/browser/`) loads the overview served
//! by the server, follows a module link and finds the module's content; the screenshot is kept as an artifact in
//! `target/browser-artifacts/`. CI installs Chromium and the driver (`.ci/run`); elsewhere the test says it was
//! skipped when they are missing, and fails under `CI=true` instead.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ::sextant_server::{start, RepositorySpec, RunningServer, ServerConfig};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A server (gRPC and pages on free loopback ports) hosting `root` as `name`, once its overview is built.
async fn serve(root: &Path, name: &str, index_dir: &Path, embed: bool) -> RunningServer {
    let mut config = ServerConfig::new(vec![RepositorySpec {
        name: name.into(),
        root: root.to_path_buf(),
        index_dir: index_dir.to_path_buf(),
    }]);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.http_listen = Some("127.0.0.1:0".parse().unwrap());
    config.engine.embed = embed;
    let running = start(config).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while running.repositories.repositories()[0].cached_overview().is_none() {
        assert!(Instant::now() < deadline, "overview never built");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The browser driver: `Some(chromium)` when Chromium and playwright-core are installed. Without them the test is
/// skipped with a message, except under `CI=true`, where it fails.
fn browser() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Path::new(&chromium).exists() && workspace_root().join("tests/browser/node_modules/playwright-core").exists() {
        return Some(chromium);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must provide Chromium and tests/browser/node_modules (see .ci/run)");
    eprintln!("skipped: Chromium or playwright-core missing; `.ci/run` installs them");
    None
}

/// Runs `tests/browser/SCRIPT` with `args` in Chromium and returns the one JSON line it prints.
async fn run_script(chromium: &str, script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let output = tokio::process::Command::new("node")
        .arg(workspace_root().join("tests/browser").join(script))
        .args(args)
        .env("CHROMIUM", chromium)
        .output()
        .await
        .expect("node runs");
    assert!(output.status.success(), "browser script failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_pages_work_in_a_real_browser() {
    let Some(chromium) = browser() else { return };

    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    write(
        r,
        "crates/ledger/Cargo.toml",
        "[package]\nname = \"ledger\"\ndescription = \"Double-entry bookkeeping for the shop.\"\n",
    );
    write(
        r,
        "crates/ledger/src/lib.rs",
        "/// Posts a balanced transaction.\npub fn post_transaction(amount: i64) -> i64 {\n    amount\n}\n\n/// Reverses a posted transaction.\npub fn reverse_transaction(amount: i64) -> i64 {\n    -amount\n}\n",
    );
    write(
        r,
        "crates/web/Cargo.toml",
        "[package]\nname = \"web\"\n\n[dependencies]\nledger = { path = \"../ledger\" }\n",
    );
    write(
        r,
        "crates/web/src/main.rs",
        "use ledger::post_transaction;\n\nfn main() {\n    let total = post_transaction(5);\n    assert_eq!(total, 5);\n}\n",
    );

    let running = serve(r, "books", index_dir.path(), true).await;

    let artifacts = workspace_root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("overview-module.png");
    let _ = std::fs::remove_file(&screenshot);
    let url = format!("http://{}/r/books/", running.http_addr.unwrap());
    let seen = run_script(&chromium, "overview.mjs", &[url.as_ref(), screenshot.as_os_str()]).await;
    assert!(seen["title"].as_str().unwrap().contains("project overview"), "{seen}");
    // Modules are listed by size, so the first link is the ledger crate.
    assert_eq!(seen["moduleName"], "crates/ledger");
    assert!(seen["url"].as_str().unwrap().ends_with("/r/books/m/crates/ledger"), "{seen}");
    assert!(seen["heading"].as_str().unwrap().contains("crates/ledger"), "{seen}");
    let body = seen["body"].as_str().unwrap();
    assert!(body.contains("Double-entry bookkeeping for the shop."), "{body}");
    assert!(body.contains("pub fn post_transaction(amount: i64) -> i64"), "{body}");
    assert!(body.contains("crates/web"), "the module page lists who uses it: {body}");
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 1000);
    running.stop().await.unwrap();
}

/// A repository whose file and directory names, README and rule file carry markup and script: every page of its
/// overview renders them as text. No script runs, no dialog opens, every link resolves, every page carries the
/// no-script Content-Security-Policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_text_never_run_script_in_a_real_browser() {
    let Some(chromium) = browser() else { return };
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    let script = "<script>window.__pwned=1;alert(1)</script>";
    let attribute = "x\" onmouseover=\"window.__pwned=2\" \"><img src=x onerror=\"window.__pwned=3;alert(3)\">";
    write(r, "README.md", &format!("# Shop {script}\n\nSells things. {script}\n"));
    write(r, "AGENTS.md", &format!("# Rules {script}\n\n- Never {attribute}\n"));
    write(r, &format!("{attribute}/__init__.py"), "def hostile_package():\n    return 1\n");
    write(
        r,
        &format!("{attribute}/{script}.py"),
        &format!("def evil_{}():\n    \"\"\"{script}\"\"\"\n    return 2\n", 1),
    );
    write(r, "pkg/__init__.py", "");
    write(r, "pkg/a\nnewline.py", "def newline_file():\n    return 3\n");
    write(r, "pkg/space and %25 percent?.py", "def odd_name():\n    return 4\n");
    write(r, "pkg/core.py", &format!("# {script}\ndef core():\n    return hostile_package()\n"));

    let running = serve(r, "shop", index_dir.path(), false).await;
    let url = format!("http://{}/r/shop/", running.http_addr.unwrap());
    let seen = run_script(&chromium, "hostile.mjs", &[url.as_ref()]).await;
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["dialogs"], serde_json::json!([]), "a dialog opened: {seen}");
    assert_eq!(seen["pwned"], false, "a script ran: {seen}");
    assert_eq!(seen["injected"], serde_json::json!([]), "markup reached the DOM: {seen}");
    let visited = seen["visited"].as_array().unwrap();
    for page in visited {
        assert_eq!(page["status"], 200, "a link does not resolve: {page}");
        assert!(page["csp"].as_str().unwrap().contains("default-src 'none'"), "{page}");
    }
    let urls: Vec<&str> = visited.iter().map(|p| p["url"].as_str().unwrap()).collect();
    assert!(urls.iter().any(|u| u.contains("/m/x%22")), "the hostile module page was reached: {urls:?}");
    assert!(urls.iter().any(|u| u.contains("/search?q=%3Cscript%3E")), "the hostile search was made: {urls:?}");
    assert!(urls.iter().any(|u| u.contains("/source/") && u.contains("%3Cscript%3E")), "{urls:?}");
    assert!(visited.len() >= 5, "{urls:?}");
    running.stop().await.unwrap();
}

/// The overview of a real repository (this one: a workspace of 15 crates) in a real browser: the repository page,
/// the dependency diagram and a module page are rendered and kept as screenshots in `target/browser-artifacts/`,
/// every link on them resolves, each has the module tree beside it, and the diagrams (modules coloured by group, and
/// the groups) fit the viewport's width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_of_a_real_repository_fits_and_every_link_resolves() {
    let Some(chromium) = browser() else { return };
    let index_dir = tempfile::tempdir().unwrap();
    let running = serve(&workspace_root(), "sextant", index_dir.path(), false).await;
    let artifacts = workspace_root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let base = format!("http://{}/r/sextant/", running.http_addr.unwrap());
    let seen = run_script(&chromium, "real.mjs", &[base.as_ref(), artifacts.as_os_str()]).await;
    assert!(seen["title"].as_str().unwrap().contains("project overview"), "{seen}");
    assert!(seen["modules"].as_u64().unwrap() >= 15, "every crate is a module: {seen}");
    assert!(seen["heading"].as_str().unwrap().contains(seen["moduleName"].as_str().unwrap()), "{seen}");
    assert_eq!(seen["broken"], serde_json::json!([]), "{seen}");
    assert!(seen["checked"].as_u64().unwrap() > 20, "{seen}");
    let diagram = &seen["diagram"];
    assert!(
        diagram["width"].as_f64().unwrap() <= diagram["viewport"].as_f64().unwrap(),
        "diagram wider than the page: {seen}"
    );
    assert!(
        diagram["scrollWidth"].as_f64().unwrap() <= diagram["viewport"].as_f64().unwrap(),
        "the page scrolls sideways: {seen}"
    );
    // Modules are coloured by group (`crates/` and the top-level ones), and the groups have a diagram of their own.
    assert_eq!(diagram["svgs"], 2, "module diagram and group diagram: {seen}");
    assert!(diagram["fills"].as_u64().unwrap() >= 2, "boxes coloured by group: {seen}");
    assert!(diagram["groupBoxes"].as_u64().unwrap() >= 2, "{seen}");
    // The module page draws its neighbourhood: sextant-graph, what it uses and what uses it, each a link.
    let neighbourhood = &seen["neighbourhood"];
    assert!(neighbourhood["boxes"].as_u64().unwrap() >= 3, "{seen}");
    assert!(neighbourhood["width"].as_f64().unwrap() <= neighbourhood["viewport"].as_f64().unwrap(), "{seen}");
    // The module tree is beside every page, with the current module in bold.
    for page in ["repository", "diagram", "module"] {
        assert!(seen["side"][page].as_u64().unwrap() >= 15, "side navigation on the {page} page: {seen}");
    }
    assert_eq!(seen["side"]["moduleCurrent"], seen["moduleName"], "{seen}");
    // The search box: the query reaches the server (the page policy allows forms to this origin) and finds the
    // definition, whose source link resolves like every other link.
    let search = &seen["search"];
    assert_eq!(search["heading"], "Search", "{search}");
    assert!(search["url"].as_str().unwrap().contains("/r/sextant/search?q=SymbolGraph"), "{search}");
    let found: Vec<&str> = search["found"].as_array().unwrap().iter().filter_map(|f| f.as_str()).collect();
    assert!(found.contains(&"SymbolGraph"), "{search}");
    assert!(search["body"].as_str().unwrap().contains("crates/sextant-graph/src/lib.rs"), "{search}");
    for name in ["real-repository.png", "real-diagram.png", "real-module.png", "real-search.png"] {
        let png = std::fs::read(artifacts.join(name)).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 1000, "{name}");
    }
    running.stop().await.unwrap();
}
