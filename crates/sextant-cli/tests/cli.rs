//! Runs the `sextant` binary on a fixture repository and checks what it prints.

use std::path::Path;
use std::process::Command;

fn sextant(index_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(args)
        .arg("--index-dir")
        .arg(index_dir)
        .output()
        .expect("runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(index_dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let (ok, stdout, stderr) = sextant(index_dir, &with_json);
    assert!(ok, "sextant {args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}\n{stdout}"))
}

#[test]
fn index_then_query_from_the_command_line() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "/// Reads the settings file.\npub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n}\n\nfn normalize_path(p: &str) -> String {\n    p.trim().to_string()\n}\n",
    )
    .unwrap();
    std::fs::write(root.join("src/blob.rs"), b"\x00\x00binary").unwrap();
    let root_str = root.to_str().unwrap();

    let summary = json(index_dir.path(), &["index", root_str]);
    assert_eq!(summary["vectors"]["embedded"], 1, "{summary}");
    assert_eq!(summary["vectors"]["points"], 1);
    assert_eq!(
        (summary["vectors"]["file_cards"].as_u64(), summary["vectors"]["cards_embedded"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(summary["files"], 1);
    assert_eq!(summary["symbols"], 2);
    assert_eq!(summary["skipped"]["binary"], 1);
    assert_eq!(summary["languages"]["rust"]["lines"], 8);

    let (ok, text, _) = sextant(index_dir.path(), &["index", root_str, "--quiet"]);
    assert!(ok);
    assert!(text.starts_with("up to date"), "{text}");
    assert!(text.contains("parsed 0, reused 1"), "{text}");

    assert!(text.contains("vectors: up to date, 1 point and 1 file card in"), "{text}");

    // Vectors exist, so search is hybrid by default; every result names the signals behind it.
    let hits = json(index_dir.path(), &["search", "settings", "--limit", "5"]);
    assert_eq!(hits[0]["path"], "src/lib.rs");
    assert_eq!(hits[0]["start_line"], 1);
    let signals: Vec<&str> =
        hits[0]["signals"].as_array().unwrap().iter().map(|s| s["signal"].as_str().unwrap()).collect();
    assert!(signals.contains(&"lexical") && signals.contains(&"semantic"), "{hits}");
    let (ok, text, _) = sextant(index_dir.path(), &["search", "settings"]);
    assert!(ok && text.starts_with("src/lib.rs:1-"), "{text}");
    assert!(text.contains("semantic#"), "{text}");
    let semantic = json(index_dir.path(), &["search", "read the configuration", "--mode", "semantic", "--limit", "1"]);
    assert_eq!(semantic[0]["symbol"], "load_settings", "{semantic}");
    assert_eq!(semantic[0]["signals"][0]["signal"], "semantic");
    let lexical = json(index_dir.path(), &["search", "settings", "--mode", "lexical"]);
    assert_eq!(lexical[0]["signals"].as_array().unwrap().len(), 1);
    let (ok, _, stderr) = sextant(index_dir.path(), &["search", "x", "--mode", "fuzzy"]);
    assert!(!ok && stderr.contains("unknown search mode"), "{stderr}");

    let defs = json(index_dir.path(), &["symbol", "load_settings"]);
    assert_eq!(defs[0]["signature"], "pub fn load_settings(path: &str) -> String");
    assert_eq!(defs[0]["doc"], "Reads the settings file.");

    let callers = json(index_dir.path(), &["callers", "normalize_path"]);
    assert_eq!(callers[0]["other"]["symbol"], "load_settings");
    assert_eq!(callers[0]["other"]["line"], 3);
    let callees = json(index_dir.path(), &["callees", "load_settings"]);
    assert_eq!(callees[0]["other"]["symbol"], "normalize_path");
    let refs = json(index_dir.path(), &["refs", "normalize_path"]);
    assert_eq!(refs.as_array().unwrap().len(), 1);

    let pack = json(index_dir.path(), &["pack", "load the settings file", "--budget", "200"]);
    assert!(pack["tokens"].as_u64().unwrap() <= 200);
    assert_eq!(pack["items"][0]["path"], "src/lib.rs");
    assert!(pack["text"].as_str().unwrap().starts_with("## src/lib.rs:"));
    let (ok, text, stderr) =
        sextant(index_dir.path(), &["pack", "load the settings file", "--budget", "200", "--tokenizer", "cl100k_base"]);
    assert!(ok && text.contains("pub fn load_settings"), "{text}");
    assert!(stderr.contains("of 200 tokens"), "{stderr}");
    let (ok, _, stderr) = sextant(index_dir.path(), &["pack", "x", "--tokenizer", "gpt2"]);
    assert!(!ok && stderr.contains("unknown tokenizer"), "{stderr}");

    let status = json(index_dir.path(), &["status"]);
    assert_eq!(status["files"], 1);
    assert!(status["indexed_at"].as_u64().unwrap() > 0);
    assert_eq!(status["vectors"]["points"], 1, "{status}");
    assert_eq!(status["vectors"]["location"]["backend"], "edge");

    let (ok, _, stderr) = sextant(&index_dir.path().join("missing"), &["status"]);
    assert!(!ok);
    assert!(stderr.contains("run `sextant index` first"), "{stderr}");
}

#[test]
fn no_embed_indexes_for_keywords_only() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("a.py"), "def parse_header(line):\n    return line.split(':')\n").unwrap();
    let summary = json(index_dir.path(), &["index", repo.path().to_str().unwrap(), "--no-embed"]);
    assert!(summary["vectors"].is_null(), "{summary}");
    let status = json(index_dir.path(), &["status"]);
    assert!(status["vectors"].is_null());
    // No vectors: the default (hybrid) fuses the other signals, and semantic search says why it cannot run.
    let hits = json(index_dir.path(), &["search", "parse_header"]);
    let signals: Vec<&str> =
        hits[0]["signals"].as_array().unwrap().iter().filter_map(|s| s["signal"].as_str()).collect();
    assert!(signals.contains(&"lexical") && signals.contains(&"symbol") && !signals.contains(&"semantic"), "{hits}");
    let (ok, _, stderr) = sextant(index_dir.path(), &["search", "split a header", "--mode", "semantic"]);
    assert!(!ok && stderr.contains("no vectors"), "{stderr}");
}

#[test]
fn a_missing_model_is_a_warning_and_the_index_still_completes() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("a.py"), "def parse_header(line):\n    return line.split(':')\n").unwrap();
    // The model folder is a machine setting: the user's configuration names it, never the repository's.
    let user_config = index_dir.path().join("user-config.toml");
    std::fs::write(&user_config, "[embed]\nmodel_dir = \"/nonexistent/model\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["index", repo.path().to_str().unwrap(), "--index-dir"])
        .arg(index_dir.path())
        .env("SEXTANT_CONFIG", &user_config)
        .output()
        .unwrap();
    let (ok, stdout, stderr) = (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains("warning: no vectors") && stderr.contains("setup-models.sh"), "{stderr}");
    assert!(stdout.contains("files: 1"), "{stdout}");
    let hits = json(index_dir.path(), &["search", "parse_header"]);
    assert_eq!(hits[0]["path"], "a.py");
}

#[test]
fn a_repository_cannot_choose_the_native_library_sextant_loads() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("a.py"), "def parse_header(line):\n    return line\n").unwrap();
    std::fs::write(repo.path().join(".sextant.toml"), "[embed]\nruntime = \"./libevil.so\"\n").unwrap();
    let (ok, _, stderr) = sextant(index_dir.path(), &["index", repo.path().to_str().unwrap()]);
    assert!(!ok, "a repository file setting the runtime library must be refused");
    assert!(stderr.contains("`embed.runtime` is a machine setting"), "{stderr}");
    assert!(!sextant_index_exists(index_dir.path()), "nothing was indexed");
}

fn sextant_index_exists(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false)
}

#[test]
fn watch_reindexes_an_edit() {
    use std::io::{BufRead, BufReader};
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("a.py"), "def first():\n    pass\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["watch", repo.path().to_str().unwrap(), "--json", "--debounce-ms", "50", "--index-dir"])
        .arg(index_dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["generation"], 1);
    // Wait until the watcher is armed (it says so on stderr), then edit.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(stderr.next().unwrap().unwrap().starts_with("watching"));
    std::fs::write(repo.path().join("b.py"), "def second():\n    pass\n").unwrap();
    // Read on a thread so a missed edit fails the test after a timeout instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = None;
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(15)) {
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if value["files"] == 2 {
            seen = Some(value);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let seen = seen.expect("the edit was reindexed");
    assert_eq!((seen["generation"].as_u64(), seen["files_parsed"].as_u64()), (Some(2), Some(1)));
}

#[test]
fn queries_go_through_a_running_server_and_fall_back_when_it_is_gone() {
    use std::io::{BufRead, BufReader};
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    std::fs::write(
        repo.path().join("src/lib.rs"),
        "/// Reads the settings file.\npub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n}\n\nfn normalize_path(p: &str) -> String {\n    p.trim().to_string()\n}\n",
    )
    .unwrap();
    // Four functions of real size that say "settings" often, so a page of search results can fill with one file.
    let store: String = (0..4)
        .map(|i| {
            let body: String =
                (0..6).map(|l| format!("    settings.push(settings_line({l}) + settings.len() * {i});\n")).collect();
            format!("pub fn save_settings_{i}(settings: &mut Vec<usize>) {{\n{body}}}\n\n")
        })
        .collect();
    std::fs::write(repo.path().join("src/store.rs"), store).unwrap();
    let root = repo.path().to_str().unwrap();
    let (ok, _, stderr) = sextant(index_dir.path(), &["index", root, "--no-embed", "--quiet"]);
    assert!(ok, "{stderr}");
    let local = |args: &[&str]| {
        let mut with = args.to_vec();
        with.extend(["--json", "--no-server"]);
        let (ok, stdout, stderr) = sextant(index_dir.path(), &with);
        assert!(ok && !stderr.contains("answered by"), "{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let expected_symbol = local(&["symbol", "load_settings"]);
    let expected_callers = local(&["callers", "normalize_path"]);
    let expected_search = local(&["search", "settings", "--mode", "lexical"]);
    let page_paths = |page: &serde_json::Value| -> Vec<String> {
        page.as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap().to_string()).collect()
    };
    // One result per file first by default; `--per-file 0` lets the file that says it most fill the page.
    assert_eq!(
        page_paths(&expected_search)[..2].iter().filter(|p| *p == "src/store.rs").count(),
        1,
        "{expected_search}"
    );
    let expected_plain = local(&["search", "settings", "--mode", "lexical", "--limit", "3", "--per-file", "0"]);
    assert_eq!(page_paths(&expected_plain), ["src/store.rs"; 3], "{expected_plain}");

    let mut server = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["serve", root, "--listen", "127.0.0.1:0", "--no-http", "--no-watch", "--no-embed", "--index-dir"])
        .arg(index_dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().starts_with("sextant serving"));
    std::thread::spawn(move || for _ in lines {});

    for (args, expected) in [
        (vec!["symbol", "load_settings"], &expected_symbol),
        (vec!["callers", "normalize_path"], &expected_callers),
        (vec!["search", "settings", "--mode", "lexical"], &expected_search),
        (vec!["search", "settings", "--mode", "lexical", "--limit", "3", "--per-file", "0"], &expected_plain),
    ] {
        let mut with = args.clone();
        with.push("--json");
        let (ok, stdout, stderr) = sextant(index_dir.path(), &with);
        assert!(ok, "{stderr}");
        assert!(stderr.contains(&format!("answered by sextant serve, pid {}", server.id())), "{args:?}: {stderr}");
        let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(&answer, expected, "{args:?}: the server answers as the index does");
    }
    let (ok, text, stderr) = sextant(index_dir.path(), &["pack", "load the settings file", "--budget", "200"]);
    assert!(ok && stderr.contains("answered by") && text.contains("pub fn load_settings"), "{stderr}");
    // Indexing goes through the server that owns the index, instead of racing it for the writer lock.
    std::fs::write(repo.path().join("src/extra.rs"), "pub fn extra_helper() {}\n").unwrap();
    let (ok, text, stderr) = sextant(index_dir.path(), &["index", root, "--no-embed"]);
    assert!(ok, "{stderr}");
    assert!(text.starts_with(&format!("indexed by sextant serve (pid {})", server.id())), "{text}");
    assert!(text.contains("3 files (parsed 1)"), "{text}");
    let found = json(index_dir.path(), &["symbol", "extra_helper"]);
    assert_eq!(found[0]["path"], "src/extra.rs");

    // A server killed without cleaning up leaves a record of a dead process: ignored.
    server.kill().unwrap();
    server.wait().unwrap();
    let (ok, stdout, stderr) = sextant(index_dir.path(), &["symbol", "load_settings", "--json"]);
    assert!(ok && !stderr.contains("answered by"), "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The ranks moved with the file added above; the definition is the same.
    assert_eq!(
        (&answer[0]["path"], &answer[0]["signature"]),
        (&expected_symbol[0]["path"], &expected_symbol[0]["signature"])
    );
}
