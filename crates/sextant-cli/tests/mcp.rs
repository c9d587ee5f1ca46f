//! MCP end to end through a real client: the official Python MCP client (`tests/mcp/client.py`, installed by
//! `tests/mcp/setup.sh`, which `.ci/run` runs) drives `sextant mcp` over stdio and `sextant serve`'s `/mcp`
//! endpoint over Streamable HTTP. Outside CI the test says it was skipped when the client is not installed; under
//! `CI=true` it fails instead.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The client's Python, or `None` (after checking we are not in CI) when it is not installed.
fn client_python() -> Option<PathBuf> {
    let python = workspace_root().join("tests/mcp/.venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must install the MCP client: tests/mcp/setup.sh (see .ci/run)");
    eprintln!("skipped: the Python MCP client is not installed; run tests/mcp/setup.sh");
    None
}

fn fixture(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "/// Reads the settings file.\npub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n}\n\nfn normalize_path(p: &str) -> String {\n    p.trim().to_string()\n}\n",
    )
    .unwrap();
    let mut calls = String::from("pub fn helper() {}\n");
    for i in 0..5 {
        calls.push_str(&format!("pub fn use_{i}() {{\n    helper();\n}}\n"));
    }
    std::fs::write(root.join("src/calls.rs"), calls).unwrap();
    std::fs::write(
        root.join("AGENTS.md"),
        "# Agent rules\n\n- Run `cargo test` before committing.\n- Never edit generated files.\n",
    )
    .unwrap();
}

fn run_client(python: &Path, args: &[&str]) -> serde_json::Value {
    let output = Command::new(python)
        .arg(workspace_root().join("tests/mcp/client.py"))
        .args(args)
        .output()
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed:\n{stderr}\n{stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("bad report {e}: {stdout}\n{stderr}"))
}

#[test]
fn a_real_mcp_client_over_stdio() {
    let Some(python) = client_python() else { return };
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let binary = env!("CARGO_BIN_EXE_sextant");
    let report = run_client(
        &python,
        &["stdio", binary, "mcp", repo.path().to_str().unwrap(), "--index-dir", index_dir.path().to_str().unwrap()],
    );

    assert_eq!(report["server"], "sextant");
    assert_eq!(report["capabilities"]["resources"], true);
    let tools: Vec<&str> = report["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    for tool in [
        "callees",
        "callers",
        "context_pack",
        "overview",
        "read_file",
        "references",
        "reindex",
        "search",
        "status",
        "symbol",
    ] {
        assert!(tools.contains(&tool), "{tool} missing from {tools:?}");
    }
    assert_eq!(report["tools_with_output_schema"], report["tools"], "every tool has an output schema");

    let pack = &report["pack"];
    assert_eq!(pack["is_error"], false);
    assert!(pack["tokens"].as_u64().unwrap() <= 600 && pack["budget"] == 600, "{pack}");
    assert!(pack["symbols"].as_array().unwrap().iter().any(|s| s == "load_settings"), "{pack}");
    assert!(pack["text_head"].as_str().unwrap().contains("src/lib.rs"), "{pack}");
    assert_eq!(report["search"]["is_error"], false, "per_file is an argument the tool takes: {}", report["search"]);
    assert_eq!(report["search"]["mode"], "lexical");
    assert_eq!(report["search"]["hits"][0][0], "src/lib.rs", "{}", report["search"]);

    assert_eq!(report["symbol"][0]["signature"], "pub fn load_settings(path: &str) -> String");
    assert_eq!(report["references_total"], 5);
    assert_eq!(report["reference_pages"], serde_json::json!([2, 2, 1]));
    assert_eq!(report["callers"], serde_json::json!(["load_settings"]));
    assert_eq!(report["read_file"], "pub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n");
    assert_eq!(report["overview"]["is_error"], false);
    assert_eq!(report["reindex"]["is_error"], false);
    assert!(!report["progress_messages"].as_array().unwrap().is_empty(), "reindex sent progress: {report}");

    let resources: Vec<&str> = report["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    let repo_name = repo.path().file_name().unwrap().to_str().unwrap();
    assert!(resources.contains(&format!("sextant://{repo_name}/overview").as_str()), "{resources:?}");
    assert!(resources.contains(&format!("sextant://{repo_name}/rules/AGENTS.md").as_str()), "{resources:?}");
    assert!(report["rule_text"].as_str().unwrap().contains("Never edit generated files"), "rules in full: {report}");

    let bad = &report["bad_input"];
    assert!(bad["unknown_tool"].as_str().unwrap().contains("no tool named `no_such_tool`"), "{bad}");
    assert_eq!(bad["wrong_types"]["is_error"], true);
    assert!(bad["wrong_types"]["text"].as_str().unwrap().contains("invalid arguments for `context_pack`"), "{bad}");
    assert_eq!(bad["huge_task"]["is_error"], true);
    assert!(bad["huge_task"]["text"].as_str().unwrap().contains("the limit is"), "{bad}");
    assert_eq!(bad["budget_zero"]["is_error"], true);
    assert!(bad["budget_zero"]["text"].as_str().unwrap().contains("`budget` 0 is out of range"), "{bad}");
    assert_eq!(bad["outside_path"]["is_error"], true);
    assert!(bad["outside_path"]["text"].as_str().unwrap().contains("not an indexed file"), "{bad}");
    assert_eq!(report["serving_after_bad_input"], true);
}

#[test]
fn a_real_mcp_client_over_streamable_http_needs_the_token() {
    let Some(python) = client_python() else { return };
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let mut server = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["serve", repo.path().to_str().unwrap(), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"])
        .args(["--no-watch", "--index-dir"])
        .arg(index_dir.path())
        .env("SEXTANT_TOKEN", "s3cret-token")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The server prints where its pages (and /mcp) are.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = server.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("overview pages at ") {
                let _ = tx.send(address.trim_end_matches('/').to_string());
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(30)).expect("the server started");
    let report = run_client(&python, &["http", &format!("{base}/mcp"), "s3cret-token"]);
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(report["server"], "sextant");
    assert_eq!(report["pack"]["is_error"], false);
    assert!(report["pack"]["symbols"].as_array().unwrap().iter().any(|s| s == "load_settings"), "{report}");
    assert_eq!(report["search"]["hits"][0][0], "src/lib.rs");
    assert!(report["wrong_token"].as_str().unwrap().contains("missing or wrong bearer token"), "{report}");
    assert!(report["no_token"].as_str().unwrap().contains("missing or wrong bearer token"), "{report}");
}
