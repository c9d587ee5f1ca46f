//! End-to-end tests of indexing and querying on small repositories written to temp dirs.

use std::path::Path;

use sextant_config::Config;
use sextant_graph::{EdgeKind, Node};
use sextant_index::crash_point::{self, CrashPoint};
use sextant_index::{index_repository, Index, IndexOptions, IndexSummary, NoProgress, SearchOptions};

fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn run(root: &Path, index_dir: &Path) -> IndexSummary {
    run_with(root, index_dir, &Config::for_repository(root).unwrap(), false)
}

fn run_with(root: &Path, index_dir: &Path, config: &Config, force: bool) -> IndexSummary {
    index_repository(&IndexOptions { root, index_dir, config, force }, &NoProgress).unwrap()
}

/// A small Python + Rust repository with cross-file calls.
fn fixture_repo(root: &Path) {
    write(
        root,
        "app/storage.py",
        "\"\"\"Persistence for orders.\"\"\"\n\nclass OrderStore:\n    \"\"\"Keeps orders on disk.\"\"\"\n\n    def save_order(self, order):\n        return write_json(order)\n\n\ndef write_json(payload):\n    \"\"\"Serialise and write.\"\"\"\n    return str(payload)\n",
    );
    write(
        root,
        "app/service.py",
        "from app.storage import OrderStore\n\n\ndef place_order(order):\n    store = OrderStore()\n    store.save_order(order)\n    return compute_invoice_total(order)\n\n\ndef compute_invoice_total(order):\n    return sum(line.price for line in order.lines)\n",
    );
    write(
        root,
        "tools/src/main.rs",
        "mod parse;\n\n/// Entry point.\nfn main() {\n    let cfg = parse::parse_config(\"x\");\n    println!(\"{:?}\", cfg);\n}\n",
    );
    write(
        root,
        "tools/src/parse.rs",
        "/// Parses the configuration file.\npub fn parse_config(text: &str) -> Option<String> {\n    Some(text.to_string())\n}\n",
    );
    write(root, "README.md", "# not source\n");
}

fn symbol_names(index: &Index) -> Vec<String> {
    let mut names: Vec<String> =
        index.indexed_files().flat_map(|f| f.symbols().iter().map(|s| s.qualified_name.clone())).collect();
    names.sort();
    names
}

#[test]
fn indexes_symbols_graph_and_search() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    let summary = run(repo.path(), index_dir.path());
    assert_eq!(summary.files, 4, "README.md is not source");
    assert_eq!(summary.files_parsed, 4);
    assert_eq!(summary.languages["python"].files, 2);
    assert_eq!(summary.languages["rust"].files, 2);

    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!(
        symbol_names(&index),
        [
            "OrderStore",
            "OrderStore.save_order",
            "compute_invoice_total",
            "main",
            "parse",
            "parse_config",
            "place_order",
            "write_json"
        ]
    );

    // Cross-file resolution through imports and qualifiers.
    let callers: Vec<String> =
        index.callers("write_json").iter().map(|r| r.other.symbol.clone().unwrap_or_default()).collect();
    assert_eq!(callers, ["OrderStore.save_order"]);
    let callees: Vec<(String, f32)> =
        index.callees("place_order").iter().map(|r| (r.other.symbol.clone().unwrap(), r.weight)).collect();
    assert!(callees.contains(&("OrderStore".to_string(), 1.0)), "{callees:?}");
    assert!(callees.contains(&("OrderStore.save_order".to_string(), 1.0)), "{callees:?}");
    assert!(callees.contains(&("compute_invoice_total".to_string(), 1.0)), "{callees:?}");
    let main_callees: Vec<String> =
        index.callees("main").iter().map(|r| format!("{}:{}", r.other.path, r.other.symbol.clone().unwrap())).collect();
    assert_eq!(main_callees, ["tools/src/parse.rs:parse_config"]);

    // File-level import edge: service.py imports storage.py.
    let service = index.file_id("app/service.py").unwrap();
    let storage = index.file_id("app/storage.py").unwrap();
    let imports = index.graph().outgoing(Node::File(service), EdgeKind::Imports);
    assert_eq!(imports, vec![(Node::File(storage), 1.0)]);
    let main_rs = index.file_id("tools/src/main.rs").unwrap();
    let parse_rs = index.file_id("tools/src/parse.rs").unwrap();
    assert_eq!(index.graph().outgoing(Node::File(main_rs), EdgeKind::Imports), vec![(Node::File(parse_rs), 1.0)]);

    // Centrality: the callee everyone reaches ranks above the entry point nobody calls.
    let rank = |name: &str| index.find_symbols(name)[0].rank;
    assert!(rank("write_json") > rank("place_order"), "{} vs {}", rank("write_json"), rank("place_order"));

    // Search: symbol-name matches rank first; split identifiers match their parts.
    let hits = index.search("invoice total", &SearchOptions::default()).unwrap();
    assert_eq!(hits[0].path, "app/service.py");
    assert!(hits[0].snippet.contains("compute_invoice_total"), "{}", hits[0].snippet);
    let hits = index.search("parseConfig", &SearchOptions::default()).unwrap();
    assert_eq!(hits[0].path, "tools/src/parse.rs");
    assert_eq!((hits[0].start_line, hits[0].end_line), (1, 4));
    let rust_only = SearchOptions { languages: vec!["rust".into()], ..Default::default() };
    assert!(index.search("order", &rust_only).unwrap().is_empty());
    let under_app = SearchOptions { paths: vec!["app".into()], ..Default::default() };
    assert!(index.search("parse config", &under_app).unwrap().iter().all(|h| h.path.starts_with("app/")));

    // Definitions and references.
    let defs = index.find_symbols("OrderStore.save_order");
    assert_eq!(defs.len(), 1);
    assert_eq!((defs[0].path.as_str(), defs[0].start_line, defs[0].kind.as_str()), ("app/storage.py", 6, "method"));
    let refs = index.references("OrderStore");
    let places: Vec<(String, u32, String)> =
        refs.iter().map(|r| (r.at.path.clone(), r.at.line, r.kind.clone())).collect();
    assert!(places.contains(&("app/service.py".into(), 5, "call".into())), "{places:?}");
    assert!(refs.iter().all(|r| r.resolved_to.iter().all(|t| t == "app/storage.py:OrderStore")));
}

#[test]
fn unchanged_rerun_parses_nothing_and_edits_touch_only_their_files() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    let first = run(repo.path(), index_dir.path());
    assert_eq!(first.generation, 1);

    let second = run(repo.path(), index_dir.path());
    assert!(second.unchanged);
    assert_eq!((second.files_parsed, second.files_reused, second.generation), (0, 4, 1));

    // Edit one file, add one, delete one, rename one.
    write(
        repo.path(),
        "app/service.py",
        "def place_order(order):\n    return ship_express(order)\n\n\ndef ship_express(order):\n    return order\n",
    );
    write(repo.path(), "app/new_module.py", "def brand_new_helper():\n    return 42\n");
    std::fs::remove_file(repo.path().join("tools/src/main.rs")).unwrap();
    std::fs::rename(repo.path().join("tools/src/parse.rs"), repo.path().join("tools/src/config_parser.rs")).unwrap();
    let third = run(repo.path(), index_dir.path());
    assert!(!third.unchanged);
    assert_eq!(third.generation, 2);
    assert_eq!(third.files_parsed, 2, "the edited and the added file; the renamed one reuses its facts");
    assert_eq!(third.files_reused, 2, "storage.py untouched, config_parser.rs renamed");
    assert_eq!(third.files_removed, 2, "main.rs deleted and parse.rs renamed away");

    let index = Index::open(index_dir.path()).unwrap();
    let paths: Vec<&str> = index.indexed_files().map(|f| f.path()).collect();
    assert_eq!(paths, ["app/new_module.py", "app/service.py", "app/storage.py", "tools/src/config_parser.rs"]);
    assert!(index.find_symbols("compute_invoice_total").is_empty(), "removed function is gone");
    assert_eq!(index.find_symbols("ship_express").len(), 1);
    assert!(index.search("compute invoice", &SearchOptions::default()).unwrap().is_empty(), "stale chunks are gone");
    assert_eq!(index.search("brand_new_helper", &SearchOptions::default()).unwrap()[0].path, "app/new_module.py");
    let hits = index.search("parse_config", &SearchOptions::default()).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "tools/src/config_parser.rs");
    assert!(index.callers("write_json").iter().any(|r| r.other.symbol.as_deref() == Some("OrderStore.save_order")));
}

#[test]
fn same_size_edit_with_touched_mtime_is_seen() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    write(repo.path(), "a.py", "def alpha():\n    pass\n");
    run(repo.path(), index_dir.path());
    // Same length, written right away: the racy-mtime guard must force a content check.
    write(repo.path(), "a.py", "def gamma():\n    pass\n");
    let summary = run(repo.path(), index_dir.path());
    assert_eq!(summary.files_parsed, 1);
    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!(symbol_names(&index), ["gamma"]);
}

#[test]
fn bad_input_is_skipped_with_reasons() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(root, "good.py", "def fine():\n    return 1\n");
    write(root, "binary.py", b"\x00\x01\x02def x(): pass\n");
    write(root, "huge.py", format!("x = 1\n{}", "# padding\n".repeat(200_000)));
    write(root, "min.js", format!("var a={};\n", "1,".repeat(10_000)));
    write(root, "latin1.py", b"def caf\xe9():\n    return '\xe9t\xe9'\n");
    write(root, "broken.rs", "fn ok() {}\nfn broken( { let = ;\nstruct S {\n");
    write(root, "odd name ü [1].py", "def odd_chars():\n    pass\n");
    write(root, "ignored/skip.py", "def should_not_appear():\n    pass\n");
    write(root, ".gitignore", "ignored/\n");
    std::os::unix::fs::symlink(root.join("loop"), root.join("loop/inner")).ok();
    std::fs::create_dir_all(root.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", root.join("loop/back")).unwrap();
    std::os::unix::fs::symlink("does-not-exist.py", root.join("dangling.py")).unwrap();
    let mut config = Config::for_repository(root).unwrap();
    config.index.follow_symlinks = true;
    config.index.max_file_bytes = 1_000_000;
    let summary = run_with(root, index_dir.path(), &config, false);

    let reason = |path: &str| summary.skipped_examples.iter().find(|s| s.path == path).map(|s| s.reason.label());
    assert_eq!(reason("binary.py"), Some("binary"));
    assert_eq!(reason("huge.py"), Some("too-large"));
    assert_eq!(reason("min.js"), Some("minified"));
    assert_eq!(reason("dangling.py"), Some("unreadable"));
    assert!(summary.skipped.get("symlink-loop").copied().unwrap_or(0) >= 1, "{:?}", summary.skipped);
    assert_eq!(summary.files_decoded_lossily, 1);
    assert!(summary.files_with_syntax_errors >= 1);

    let index = Index::open(index_dir.path()).unwrap();
    let broken = index.file_by_path("broken.rs").unwrap();
    assert!(broken.has_errors(), "broken syntax is parsed partially and flagged");
    let names = symbol_names(&index);
    // The Latin-1 name decodes to `caf\u{fffd}`, which Python does not accept as an identifier: parsed partially.
    for expected in ["fine", "odd_chars", "ok", "caf"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n == "should_not_appear"), ".gitignore is honoured");
    assert_eq!(index.search("odd_chars", &SearchOptions::default()).unwrap()[0].path, "odd name ü [1].py");
}

/// Runs an index of `root` that stops as a process killed at `point` would.
fn crash_at(root: &Path, index_dir: &Path, point: CrashPoint) {
    let config = Config::for_repository(root).unwrap();
    let options = IndexOptions { root, index_dir, config: &config, force: false };
    crash_point::arm(point);
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| index_repository(&options, &NoProgress)));
    assert!(crashed.is_err(), "the simulated crash should end the run");
}

#[test]
fn a_crash_before_the_lexical_commit_leaves_the_previous_index_readable() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    run(repo.path(), index_dir.path());
    write(repo.path(), "app/extra.py", "def extra_function():\n    pass\n");
    // The store holds the next generation as a pending overlay, tantivy does not: readers see generation 1.
    crash_at(repo.path(), index_dir.path(), CrashPoint::AfterPrepare);
    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!((index.generation(), index.file_count()), (1, 4));
    assert!(index.find_symbols("extra_function").is_empty());
    assert!(!index.search("write_json", &SearchOptions::default()).unwrap().is_empty());
    // The next run drops the stale overlay and commits normally.
    let summary = run(repo.path(), index_dir.path());
    assert_eq!((summary.generation, summary.files, summary.files_parsed), (2, 5, 1));
    assert_eq!(Index::open(index_dir.path()).unwrap().find_symbols("extra_function").len(), 1);
}

#[test]
fn a_crash_between_lexical_commit_and_publish_rolls_forward() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    run(repo.path(), index_dir.path());
    write(repo.path(), "app/extra.py", "def extra_function():\n    pass\n");
    write(
        repo.path(),
        "app/service.py",
        "from app.extra import extra_function\n\n\ndef place_order(order):\n    return extra_function()\n",
    );
    std::fs::remove_file(repo.path().join("tools/src/parse.rs")).unwrap();
    // tantivy holds generation 2, the store's committed records generation 1 under a complete overlay.
    crash_at(repo.path(), index_dir.path(), CrashPoint::AfterLexicalCommit);
    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!((index.generation(), index.file_count()), (2, 4), "readers see the overlay");
    assert_eq!(index.find_symbols("extra_function").len(), 1);
    assert!(index.find_symbols("parse_config").is_empty(), "the removed file is gone");
    assert_eq!(index.callers("extra_function").len(), 1, "edges of the overlay are read too");
    // Reading wrote nothing: a second reader sees the same, and the next writer publishes the overlay without
    // parsing anything again.
    assert_eq!(Index::open(index_dir.path()).unwrap().generation(), 2);
    let summary = run(repo.path(), index_dir.path());
    assert_eq!((summary.generation, summary.files_parsed, summary.files), (2, 0, 4));
    let clean_dir = tempfile::tempdir().unwrap();
    run(repo.path(), clean_dir.path());
    let (converged, clean) = (Index::open(index_dir.path()).unwrap(), Index::open(clean_dir.path()).unwrap());
    assert_eq!(symbol_names(&converged), symbol_names(&clean));
    assert_eq!(converged.callers("extra_function"), clean.callers("extra_function"));
}

/// What an older Sextant (format 5 and before) left: one snapshot file, no store.
fn make_legacy(index_dir: &Path, format: u32) {
    std::fs::remove_dir_all(index_dir.join("store")).unwrap();
    let mut bytes = b"SEXTANT\0".to_vec();
    bytes.extend_from_slice(&format.to_le_bytes());
    bytes.extend_from_slice(&[0; 32]);
    std::fs::write(index_dir.join("snapshot"), bytes).unwrap();
}

#[test]
fn config_override_and_errors() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    write(repo.path(), "gen/generated.py", "def generated():\n    pass\n");
    write(repo.path(), "src/real.py", "def real():\n    pass\n");
    write(repo.path(), ".sextant.toml", "[index]\nexclude = [\"gen/\"]\n");
    run(repo.path(), index_dir.path());
    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!(symbol_names(&index), ["real"]);

    let mut config = Config::defaults().unwrap();
    config.languages.insert("cobol".into(), sextant_config::LanguageSettings { globs: vec!["*.cbl".into()] });
    let err = index_repository(
        &IndexOptions { root: repo.path(), index_dir: index_dir.path(), config: &config, force: false },
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown language `cobol`"), "{err}");
    let missing = Index::open(&index_dir.path().join("nowhere")).err().expect("no index there");
    assert!(missing.to_string().contains("sextant index"), "{missing}");
}

#[test]
fn branch_switch_reuses_unchanged_files_via_git_state() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    let git = git2::Repository::init(repo.path()).unwrap();
    let mut index = git.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let commit = git.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[]).unwrap();
    let summary = run(repo.path(), index_dir.path());
    let state = summary.git.unwrap();
    assert_eq!(state.head, commit.to_string());
    // Same tree, new commit on a new branch: nothing to parse, but the recorded state follows HEAD.
    let parent = git.find_commit(commit).unwrap();
    let second = git.commit(Some("HEAD"), &sig, &sig, "empty", &tree, &[&parent]).unwrap();
    let summary = run(repo.path(), index_dir.path());
    assert_eq!(summary.files_parsed, 0);
    assert_eq!(summary.git.unwrap().head, second.to_string());
}

/// Every language's syntax fixture, indexed together: the call from the add-item method to the validation
/// function resolves in the graph, and a language-filtered search ranks the fixture's pricing function first.
#[test]
fn every_language_links_calls_and_ranks_search_hits() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sextant-syntax/tests/fixtures");
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    // (fixture dir, language id, caller, callee, pricing function)
    let cases = [
        ("rust", "rust", "Inventory::add_item", "validate_name", "price_of"),
        ("python", "python", "Inventory.add_item", "validate_name", "price_of"),
        ("javascript", "javascript", "Inventory.addItem", "validateName", "priceOf"),
        ("typescript", "typescript", "Inventory.addItem", "validateName", "priceOf"),
        ("tsx", "tsx", "Inventory.addItem", "validateName", "priceOf"),
        ("go", "go", "Inventory.AddItem", "validateName", "priceOf"),
        ("java", "java", "Inventory.addItem", "validateName", "priceOf"),
        ("c", "c", "add_item", "validate_name", "price_of"),
        ("cpp", "cpp", "inventory::Inventory::add_item", "validate_name", "price_of"),
        ("csharp", "csharp", "Inventory.Inventory.AddItem", "ValidateName", "PriceOf"),
        ("ruby", "ruby", "Inventory::Inventory::add_item", "validate_name", "price_of"),
        ("php", "php", "Inventory\\addItem", "validate_name", "price_of"),
        ("bash", "bash", "add_item", "validate_name", "price_of"),
        ("scala", "scala", "Inventory.addItem", "validateName", "priceOf"),
        ("kotlin", "kotlin", "Inventory.addItem", "validateName", "priceOf"),
        ("swift", "swift", "Inventory.addItem", "validateName", "priceOf"),
    ];
    for (dir, ..) in &cases {
        let input = std::fs::read_dir(fixtures.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_stem().is_some_and(|s| s == "input"))
            .unwrap();
        let name = format!("{dir}/{}", input.file_name().unwrap().to_str().unwrap());
        write(repo.path(), &name, std::fs::read(&input).unwrap());
    }
    let summary = run(repo.path(), index_dir.path());
    assert_eq!(summary.files, cases.len() as u64);
    assert_eq!(summary.languages.len(), cases.len());
    let index = Index::open(index_dir.path()).unwrap();
    for (dir, language, caller, callee, pricing) in cases {
        let in_dir = |path: &str| path.starts_with(&format!("{dir}/"));
        let linked = index
            .callers(callee)
            .iter()
            .any(|r| in_dir(&r.subject.path) && in_dir(&r.other.path) && r.other.symbol.as_deref() == Some(caller));
        assert!(linked, "{dir}: {caller} -> {callee} not in the graph: {:?}", index.callers(callee));
        let options = SearchOptions { languages: vec![language.into()], limit: 3, ..Default::default() };
        let hits = index.search(&format!("{pricing} unit price"), &options).unwrap();
        assert!(!hits.is_empty(), "{dir}: no hits");
        assert!(in_dir(&hits[0].path), "{dir}: {:?}", hits[0]);
        let top_text = format!("{} {}", hits[0].symbol, hits[0].snippet);
        assert!(top_text.contains(pricing), "{dir}: top hit is not the pricing function: {:?}", hits[0]);
    }
}

/// A crate `grep-searcher` whose `Searcher` a binary imports by the crate's name, and another crate defining a
/// `Searcher` of its own.
fn crates_fixture(r: &Path) {
    write(r, "crates/searcher/Cargo.toml", "[package]\nname = \"grep-searcher\"\n");
    write(r, "crates/searcher/src/lib.rs", "pub struct Searcher;\n");
    write(r, "crates/other/src/lib.rs", "pub struct Searcher;\n");
    write(r, "crates/cli/src/main.rs", "use grep_searcher::Searcher;\n\nfn main() {}\n");
}

#[test]
fn rust_package_names_resolve_to_their_crates() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    crates_fixture(r);
    run(r, index_dir.path());
    let index = Index::open(index_dir.path()).unwrap();
    let main = index.file_id("crates/cli/src/main.rs").unwrap();
    let searcher = index.file_id("crates/searcher/src/lib.rs").unwrap();
    assert_eq!(index.graph().outgoing(Node::File(main), EdgeKind::Imports), vec![(Node::File(searcher), 1.0)]);
}

#[test]
fn a_manifest_edit_reported_alone_is_linked_again() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    crates_fixture(r);
    let config = Config::for_repository(r).unwrap();
    let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
    let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
    let held = sextant_index::index_repository_opened(&options, &lock, &NoProgress, None, None).unwrap().index;
    let held = held.expect("a reader of the first index");
    let imports_of_main = |index: &Index| {
        let main = index.file_id("crates/cli/src/main.rs").unwrap();
        index.graph().outgoing(Node::File(main), EdgeKind::Imports).len()
    };
    assert_eq!(imports_of_main(&held), 1);

    // The crate is renamed: `grep_searcher` names nothing in the repository any more, though no source changed.
    write(r, "crates/searcher/Cargo.toml", "[package]\nname = \"grep-finder\"\n");
    let changed = vec![r.canonicalize().unwrap().join("crates/searcher/Cargo.toml")];
    let run =
        sextant_index::index_repository_opened(&options, &lock, &NoProgress, Some(&held), Some(&changed)).unwrap();
    drop(lock);
    assert!(!run.summary.unchanged, "a reported manifest is linked again");
    let updated = run.index.expect("a reader of the relinked generation");
    assert_eq!(imports_of_main(&updated), 0);
    let clean_dir = tempfile::tempdir().unwrap();
    run_with(r, clean_dir.path(), &config, false);
    let clean = Index::open(clean_dir.path()).unwrap();
    assert!(updated.graph().data().edges == clean.graph().data().edges, "the update equals a clean index");
    assert_eq!(imports_of_main(&Index::open(index_dir.path()).unwrap()), 0, "and is committed");
}

#[test]
fn a_manifest_edited_while_nobody_watched_is_linked_again_by_the_next_run() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    crates_fixture(r);
    let config = Config::for_repository(r).unwrap();
    run_with(r, index_dir.path(), &config, false);
    let imports_of_main = || {
        let index = Index::open(index_dir.path()).unwrap();
        let main = index.file_id("crates/cli/src/main.rs").unwrap();
        index.graph().outgoing(Node::File(main), EdgeKind::Imports).len()
    };
    assert_eq!(imports_of_main(), 1);
    assert!(run_with(r, index_dir.path(), &config, false).unchanged);

    // Only the manifest changes: no source file does.
    write(r, "crates/searcher/Cargo.toml", "[package]\nname = \"grep-finder\"\n");
    let relinked = run_with(r, index_dir.path(), &config, false);
    assert!(!relinked.unchanged, "the renamed crate is linked again");
    assert_eq!(imports_of_main(), 0);
    let clean_dir = tempfile::tempdir().unwrap();
    run_with(r, clean_dir.path(), &config, false);
    let (updated, clean) = (Index::open(index_dir.path()).unwrap(), Index::open(clean_dir.path()).unwrap());
    assert!(updated.graph().data().edges == clean.graph().data().edges, "the update equals a clean index");
    // And once is enough: the next run finds nothing to do.
    assert!(run_with(r, index_dir.path(), &config, false).unchanged);

    // The same through a run that holds a reader (a server's start-up catch-up): it walks, and sees the manifest.
    write(r, "crates/searcher/Cargo.toml", "[package]\nname = \"grep-searcher\"\n");
    let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
    let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
    let held = Index::open(index_dir.path()).unwrap();
    let run = sextant_index::index_repository_opened(&options, &lock, &NoProgress, Some(&held), None).unwrap();
    drop(lock);
    assert!(!run.summary.unchanged);
    assert_eq!(imports_of_main(), 1);
}

#[test]
fn an_index_of_another_format_is_rebuilt_with_a_message_not_reported_as_corrupt() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    let first = run(repo.path(), index_dir.path());
    assert_eq!(first.rebuilt, None, "a first index is not a rebuild");
    make_legacy(index_dir.path(), 5);
    let error = Index::open(index_dir.path()).err().expect("an old format does not open");
    assert!(matches!(error, sextant_index::IndexError::OldFormat { found: 5, .. }), "{error}");

    let again = run(repo.path(), index_dir.path());
    assert_eq!(again.rebuilt.as_deref(), Some("index format changed: rebuilding"));
    assert_eq!(again.files_parsed, first.files);
    assert_eq!(again.symbols, first.symbols);
    assert!(Index::open(index_dir.path()).is_ok());
    assert!(!index_dir.path().join("snapshot").exists(), "the old format's file is gone");
    let unchanged = run(repo.path(), index_dir.path());
    assert_eq!((unchanged.rebuilt, unchanged.files_parsed), (None, 0));
}

/// Panics after `limit` parsed files, as a crash in the middle of a run would end it.
struct CrashAfter {
    limit: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl sextant_index::Progress for CrashAfter {
    fn file_done(&self) {
        if self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.limit {
            panic!("simulated crash after {} files", self.limit);
        }
    }
}

/// Everything a query can see of an index, for comparing two indexes of the same tree.
fn observable(index_dir: &Path) -> (Vec<String>, Vec<String>, Vec<String>) {
    let index = Index::open(index_dir).unwrap();
    // Every hit of a few narrow queries (ties in score may order them differently between segment layouts).
    let mut hits: Vec<String> = ["helper_7", "compute_42", "module_13"]
        .iter()
        .flat_map(|q| index.search(q, &SearchOptions { limit: 100, ..Default::default() }).unwrap())
        .map(|h| format!("{}:{}-{}", h.path, h.start_line, h.end_line))
        .collect();
    hits.sort();
    let names: Vec<String> =
        index.indexed_files().flat_map(|f| f.symbols().iter().map(|s| s.name.clone()).collect::<Vec<_>>()).collect();
    let mut edges: Vec<String> = names
        .iter()
        .flat_map(|name| {
            let callers = index.callers(name).into_iter().map(move |r| format!("{name} <- {r:?}"));
            let references = index.references(name).into_iter().map(move |r| format!("{name} ref {r:?}"));
            callers.chain(references).collect::<Vec<_>>()
        })
        .collect();
    edges.sort();
    (symbol_names(&index), edges, hits)
}

#[test]
fn an_interrupted_first_index_resumes_from_its_last_checkpoint() {
    let repo = tempfile::tempdir().unwrap();
    for i in 0..60 {
        write(
            repo.path(),
            &format!("pkg/module_{i:02}.py"),
            format!(
                "from pkg.module_{next:02} import helper_{next}\n\n\ndef compute_{i}(x):\n    return helper_{next}(x) + 1\n\n\ndef helper_{i}(y):\n    return y * {i}\n",
                next = (i + 1) % 60
            ),
        );
    }
    let mut config = Config::for_repository(repo.path()).unwrap();
    config.index.checkpoint_files = 10;

    // A crash after 35 parsed files: three checkpoints (30 files) were committed, the rest is lost.
    let index_dir = tempfile::tempdir().unwrap();
    let options = IndexOptions { root: repo.path(), index_dir: index_dir.path(), config: &config, force: false };
    let crash = CrashAfter { limit: 35, done: Default::default() };
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| index_repository(&options, &crash)));
    assert!(crashed.is_err(), "the simulated crash should end the run");
    assert!(!Index::exists(index_dir.path()), "nothing is published before the index is complete");
    assert!(
        matches!(Index::open(index_dir.path()), Err(sextant_index::IndexError::NotIndexed(_))),
        "readers see no index rather than a partial one"
    );

    let resumed = index_repository(&options, &NoProgress).unwrap();
    assert_eq!(resumed.files, 60);
    assert_eq!(resumed.files_reused, 30, "the three checkpoints are reused: {resumed:?}");
    assert_eq!(resumed.files_parsed, 30);
    assert!(!index_dir.path().join("checkpoint").exists(), "a complete index leaves no checkpoint behind");

    // Exactly what an uninterrupted index of the same tree holds.
    let clean_dir = tempfile::tempdir().unwrap();
    run_with(repo.path(), clean_dir.path(), &config, false);
    let (resumed_view, clean_view) = (observable(index_dir.path()), observable(clean_dir.path()));
    assert!(resumed_view.0.len() >= 120, "{:?}", resumed_view.0);
    assert!(resumed_view.1.iter().filter(|e| e.contains(" <- ")).count() >= 60, "calls resolve: {:?}", resumed_view.1);
    assert!(resumed_view.2.len() >= 3, "{:?}", resumed_view.2);
    assert_eq!(resumed_view, clean_view);
}

#[test]
fn a_reader_keeps_its_generation_while_the_next_one_commits() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    write(repo.path(), "app/billing.py", "def issue_invoice(order):\n    return order.total\n");
    write(
        repo.path(),
        "app/shop.py",
        "from app.billing import issue_invoice\n\n\ndef checkout(order):\n    return issue_invoice(order)\n",
    );
    run(repo.path(), index_dir.path());
    let before = Index::open(index_dir.path()).unwrap();

    // Generation N+1 renames the function, moves it down and removes the caller's file.
    write(repo.path(), "app/billing.py", "# Billing.\n\n\ndef send_invoice(order):\n    return order.total\n");
    std::fs::remove_file(repo.path().join("app/shop.py")).unwrap();
    let summary = run(repo.path(), index_dir.path());
    assert_eq!(summary.generation, before.generation() + 1);

    // The old reader still answers from N, symbols and text alike.
    let hits = before.search("issue_invoice", &SearchOptions { limit: 10, ..Default::default() }).unwrap();
    let mut paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["app/billing.py", "app/shop.py"]);
    let billing = hits.iter().find(|h| h.path == "app/billing.py").unwrap();
    assert_eq!((billing.start_line, billing.end_line), (1, 2), "N's lines, not N+1's");
    assert_eq!(before.find_symbols("issue_invoice").len(), 1);
    assert_eq!(before.callers("issue_invoice").len(), 1);
    assert!(before.find_symbols("send_invoice").is_empty());

    // A new reader sees N+1 only.
    let after = Index::open(index_dir.path()).unwrap();
    let hits = after.search("issue_invoice", &SearchOptions { limit: 10, ..Default::default() }).unwrap();
    assert!(hits.iter().all(|h| h.path == "app/billing.py"), "the removed file is gone: {hits:?}");
    assert!(after.find_symbols("issue_invoice").is_empty());
    let moved = after.search("send_invoice", &SearchOptions { limit: 10, ..Default::default() }).unwrap();
    assert_eq!((moved[0].path.as_str(), moved[0].start_line), ("app/billing.py", 1));
    assert_eq!(after.find_symbols("send_invoice")[0].start_line, 4);
}

/// Sets every file under `root` to have been modified an hour ago, so their stats are trusted.
fn age_files(root: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in walk_files(root) {
        std::fs::File::options().write(true).open(&entry).unwrap().set_modified(past).unwrap();
    }
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_unchanged_tree_is_told_from_the_stat_cache_and_any_change_is_still_seen() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    age_files(repo.path());
    let first = run(repo.path(), index_dir.path());
    assert!(index_dir.path().join("stat-cache").is_file());

    // Unchanged: the same counts, nothing parsed, nothing committed.
    let again = run(repo.path(), index_dir.path());
    assert!(again.unchanged);
    assert_eq!(
        (again.files, again.symbols, again.files_parsed, again.files_reused),
        (first.files, first.symbols, 0, first.files)
    );
    assert_eq!(again.generation, first.generation);

    // An edit, a new file and a removed file are all seen (the cache no longer matches the walk).
    write(repo.path(), "app/service.py", "def place_order(order):\n    return order\n");
    let edited = run(repo.path(), index_dir.path());
    assert_eq!((edited.unchanged, edited.files_parsed), (false, 1));
    write(repo.path(), "app/extra.py", "def extra():\n    return 1\n");
    assert_eq!(run(repo.path(), index_dir.path()).files_parsed, 1);
    std::fs::remove_file(repo.path().join("app/extra.py")).unwrap();
    assert_eq!(run(repo.path(), index_dir.path()).files_removed, 1);

    // A cache of another generation is not used: after a commit elsewhere it is ignored, not trusted.
    age_files(repo.path());
    let settled = run(repo.path(), index_dir.path());
    let index = Index::open(index_dir.path()).unwrap();
    assert_eq!(index.generation(), settled.generation);
    assert!(index.find_symbols("place_order").len() == 1 && index.find_symbols("extra").is_empty());
}

fn phases_of_run(root: &Path, index_dir: &Path) -> (IndexSummary, Vec<String>) {
    let phases = Phases::default();
    let config = Config::for_repository(root).unwrap();
    let summary = index_repository(&IndexOptions { root, index_dir, config: &config, force: false }, &phases).unwrap();
    (summary, phases.0.into_inner().unwrap())
}

#[test]
fn an_unchanged_run_that_read_recent_files_trusts_them_from_then_on() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    // Modified a second before the first run: inside its racy window, so their stat alone is not trusted.
    let modified = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    for path in walk_files(repo.path()) {
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(modified).unwrap();
    }
    run(repo.path(), index_dir.path());
    // Once the window has passed, an unchanged run reads the recent files and finds them as indexed.
    let trusted_from = modified + std::time::Duration::from_millis(2_200);
    if let Ok(wait) = trusted_from.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(wait);
    }
    let (checked, phases) = phases_of_run(repo.path(), index_dir.path());
    assert!(checked.unchanged && phases.contains(&"check".to_string()), "{phases:?}");
    // That run vouched for them: the next one is told from the stat cache, without checking file by file.
    let (again, phases) = phases_of_run(repo.path(), index_dir.path());
    assert!(again.unchanged, "{again:?}");
    assert_eq!(phases, ["walk"]);
    // And an edit is still seen.
    write(repo.path(), "app/service.py", "def place_order(order):\n    return order\n");
    assert_eq!(run(repo.path(), index_dir.path()).files_parsed, 1);
}

#[test]
fn a_lexical_index_of_another_schema_is_rebuilt_not_an_error() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    let first = run(repo.path(), index_dir.path());
    // An older Sextant's lexical index: another tantivy schema, and its snapshot of an older format.
    let lexical = index_dir.path().join(sextant_index::LEXICAL_DIR);
    std::fs::remove_dir_all(&lexical).unwrap();
    std::fs::create_dir_all(&lexical).unwrap();
    let mut schema = tantivy::schema::Schema::builder();
    schema.add_text_field("body", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(&lexical, schema.build()).unwrap();
    make_legacy(index_dir.path(), 5);

    let again = run(repo.path(), index_dir.path());
    assert_eq!(again.rebuilt.as_deref(), Some("index format changed: rebuilding"));
    assert_eq!(again.files_parsed, first.files);
    let index = Index::open(index_dir.path()).unwrap();
    let hits = index.search("parse configuration", &SearchOptions::default()).unwrap();
    assert_eq!(hits[0].path, "tools/src/parse.rs");
}

#[test]
fn keyword_search_without_the_snapshot_answers_what_the_index_answers() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    run(repo.path(), index_dir.path());
    let index = Index::open(index_dir.path()).unwrap();
    let searcher = sextant_index::LexicalSearcher::open(index_dir.path()).unwrap().expect("the stat cache vouches");
    assert_eq!(searcher.generation(), index.generation());
    assert_eq!(searcher.root(), index.root());
    for query in ["parse configuration", "order store save", "invoice total"] {
        let options = SearchOptions { limit: 5, ..SearchOptions::default() };
        assert_eq!(searcher.search(query, &options).unwrap(), index.search(query, &options).unwrap(), "{query}");
    }
    // Without the stat cache it cannot tell which repository the index is of, so it defers to the full open.
    std::fs::remove_file(index_dir.path().join("stat-cache")).unwrap();
    assert!(sextant_index::LexicalSearcher::open(index_dir.path()).unwrap().is_none());
    // A directory that holds no index is a clear error, and nothing is created in it.
    let empty = tempfile::tempdir().unwrap();
    let error = sextant_index::LexicalSearcher::open(empty.path()).err().expect("not indexed");
    assert!(matches!(error, sextant_index::IndexError::NotIndexed(_)), "{error}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

/// A change to a fixture tree.
type Edit = Box<dyn Fn(&Path)>;

/// An update writes only the records that changed: whatever it wrote, a reader of the store afterwards sees
/// exactly what the writer holds in memory (files, facts and the graph edge for edge), and that equals a clean
/// index of the same tree. Edits add, change, rename and delete files and definitions, and use an edited file's
/// definitions from unchanged files, so edges of unchanged files move too.
#[test]
fn the_store_after_updates_equals_the_writers_memory_and_a_clean_index() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    fixture_repo(r);
    write(r, "app/caller.py", "from app.storage import write_json\n\n\ndef export(o):\n    return write_json(o)\n");
    let config = Config::for_repository(r).unwrap();
    let storage = "\"\"\"Persistence.\"\"\"\n\nclass OrderStore:\n    def save_order(self, order):\n        return write_json(order)\n";
    let edits: Vec<Edit> = vec![
        Box::new(|_: &Path| {}),
        // A definition inserted before write_json: the symbol's position in its file moves.
        Box::new(move |r: &Path| {
            write(
                r,
                "app/storage.py",
                format!("{storage}\n\ndef helper():\n    pass\n\n\ndef write_json(payload):\n    return helper()\n"),
            )
        }),
        Box::new(|r: &Path| {
            write(
                r,
                "app/new_module.py",
                "from app.storage import OrderStore\n\n\ndef build():\n    return OrderStore()\n",
            )
        }),
        Box::new(|r: &Path| std::fs::rename(r.join("app/caller.py"), r.join("app/exporter.py")).unwrap()),
        // write_json disappears: its callers' edges go.
        Box::new(move |r: &Path| write(r, "app/storage.py", storage)),
        Box::new(|r: &Path| std::fs::remove_file(r.join("tools/src/parse.rs")).unwrap()),
        Box::new(|r: &Path| {
            write(r, "tools/src/parse.rs", "pub fn parse_config(text: &str) -> usize {\n    text.len()\n}\n")
        }),
    ];
    let mut held: Option<Index> = None;
    for (step, edit) in edits.iter().enumerate() {
        edit(r);
        let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
        let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
        let run = sextant_index::index_repository_opened(&options, &lock, &NoProgress, held.as_ref(), None).unwrap();
        let written = match (run.index, run.ranks_pending) {
            (Some(index), None) => index,
            (Some(index), Some(pending)) => {
                assert!(!index.ranks_exact(), "step {step}: an update carries ranks over");
                assert!(!Index::open(index_dir.path()).unwrap().ranks_exact(), "step {step}: and commits them so");
                sextant_index::exact_ranks(&lock, &index, pending, &|| false).unwrap().expect("not stopped")
            }
            (None, _) => continue,
        };
        drop(lock);
        assert!(written.ranks_exact());
        let reopened = Index::open(index_dir.path()).unwrap();
        assert_eq!(reopened.generation(), written.generation(), "step {step}");
        assert_eq!(symbol_names(&reopened), symbol_names(&written), "step {step}");
        assert!(reopened.graph().data() == written.graph().data(), "step {step}: the stored graph differs");
        let clean_dir = tempfile::tempdir().unwrap();
        run_with(r, clean_dir.path(), &config, false);
        let clean = Index::open(clean_dir.path()).unwrap();
        assert_eq!(symbol_names(&reopened), symbol_names(&clean), "step {step}");
        assert!(
            reopened.graph().data().edges == clean.graph().data().edges,
            "step {step}: edges differ from a clean index"
        );
        assert!(
            reopened.graph().data().symbol_rank == clean.graph().data().symbol_rank
                && reopened.graph().data().file_rank == clean.graph().data().file_rank,
            "step {step}: ranks differ from a clean index"
        );
        held = Some(written);
    }

    // A crash after an update's commit, before its ranks were made exact: the next run, although nothing
    // changed, computes them.
    write(r, "app/late.py", "from app.storage import OrderStore\n\n\ndef late():\n    return OrderStore()\n");
    let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
    let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
    let run = sextant_index::index_repository_opened(&options, &lock, &NoProgress, held.as_ref(), None).unwrap();
    assert!(run.ranks_pending.is_some());
    drop((run, lock));
    assert!(!Index::open(index_dir.path()).unwrap().ranks_exact());
    let summary = run_with(r, index_dir.path(), &config, false);
    assert_eq!((summary.files_parsed, summary.unchanged), (0, true));
    let finished = Index::open(index_dir.path()).unwrap();
    let clean_dir = tempfile::tempdir().unwrap();
    run_with(r, clean_dir.path(), &config, false);
    let clean = Index::open(clean_dir.path()).unwrap();
    assert!(finished.ranks_exact());
    assert!(finished.graph().data().symbol_rank == clean.graph().data().symbol_rank);
}

/// Lookups by name from the store alone (definitions, callers, callees, references) answer what the loaded index
/// answers (same entries, same order, same ranks), also after updates that add, move and remove definitions and
/// calls of that name.
#[test]
fn lookups_from_the_store_alone_equal_the_loaded_index() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    fixture_repo(r);
    write(
        r,
        "app/other.py",
        "def write_json(x):\n    return x\n\n\nclass Writer:\n    def write_json(self, x):\n        return x\n\n    def flush(self):\n        self.write_json(1)\n        return write_json(2)\n",
    );
    write(
        r,
        "app/caller.py",
        "from app.storage import write_json\n\n\ndef export(rows):\n    return write_json(rows)\n",
    );
    let same = |names: &[&str]| {
        let dir = index_dir.path();
        let index = Index::open(dir).unwrap();
        for name in names {
            let stored = Index::find_symbols_in_store(dir, name).unwrap().expect("the store answers");
            assert_eq!((stored.generation, stored.root.as_str()), (index.generation(), index.root()));
            assert_eq!(stored.answer, index.find_symbols(name), "definitions of {name}");
            let callers = Index::callers_in_store(dir, name).unwrap().expect("the store answers");
            assert_eq!(callers.generation, index.generation());
            assert_eq!(callers.answer, index.callers(name), "callers of {name}");
            let callees = Index::callees_in_store(dir, name).unwrap().expect("the store answers");
            assert_eq!(callees.answer, index.callees(name), "callees of {name}");
            let references = Index::references_in_store(dir, name).unwrap().expect("the store answers");
            assert_eq!(references.answer, index.references(name), "references of {name}");
        }
    };
    let names = ["write_json", "Writer.write_json", "OrderStore::save_order", "parse_config", "flush", "missing"];
    run(r, index_dir.path());
    same(&names);
    let dir = index_dir.path();
    assert_eq!(Index::find_symbols_in_store(dir, "write_json").unwrap().unwrap().answer.len(), 3);
    let callers: Vec<String> = Index::callers_in_store(dir, "write_json")
        .unwrap()
        .unwrap()
        .answer
        .into_iter()
        .map(|relation| format!("{}:{}", relation.other.path, relation.other.symbol.unwrap_or_default()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(callers, ["app/caller.py:export", "app/other.py:Writer.flush", "app/storage.py:OrderStore.save_order"]);
    let callees = Index::callees_in_store(dir, "save_order").unwrap().unwrap().answer;
    assert!(callees.iter().any(|c| c.other.path == "app/storage.py" && c.other.line == 10), "{callees:?}");
    let references = Index::references_in_store(dir, "write_json").unwrap().unwrap().answer;
    assert!(references.iter().any(|m| m.at.path == "app/caller.py" && m.at.line == 5), "{references:?}");

    // One definition removed, one moved to a new file, one added elsewhere; a caller gone, one added.
    std::fs::remove_file(r.join("app/other.py")).unwrap();
    std::fs::remove_file(r.join("app/caller.py")).unwrap();
    write(r, "app/moved.py", "class Writer:\n    def write_json(self, x):\n        return x\n");
    write(r, "tools/src/parse.rs", "pub fn parse_config(t: &str) -> usize { t.len() }\npub fn write_json() {}\n");
    write(r, "tools/src/emit.rs", "use crate::parse::write_json;\n\npub fn emit() {\n    write_json();\n}\n");
    run(r, index_dir.path());
    same(&names);
    same(&["OrderStore", "emit"]);
    let paths: Vec<String> =
        Index::find_symbols_in_store(dir, "write_json").unwrap().unwrap().answer.into_iter().map(|s| s.path).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(sorted, ["app/moved.py", "app/storage.py", "tools/src/parse.rs"]);

    // An interrupted commit: the store alone cannot say which generation readers see.
    write(r, "app/late.py", "def write_json():\n    pass\n");
    crash_at(r, index_dir.path(), CrashPoint::AfterLexicalCommit);
    assert!(Index::find_symbols_in_store(dir, "write_json").unwrap().is_none());
    assert!(Index::callers_in_store(dir, "write_json").unwrap().is_none());
    assert!(Index::references_in_store(dir, "write_json").unwrap().is_none());
    // A name without an indexed term cannot be narrowed by the lexical index.
    run(r, index_dir.path());
    assert!(Index::references_in_store(dir, "+").unwrap().is_none());
}

/// A one-shot hybrid query reads its keyword signals from the store; they must be the loaded index's, before and
/// after updates, and the store must decline while a commit is pending.
#[test]
fn keyword_signals_from_the_store_equal_the_loaded_index() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let (r, dir) = (repo.path(), index_dir.path());
    fixture_repo(r);
    write(
        r,
        "app/invoice_store.py",
        "def write_json(rows):\n    return rows\n\n\ndef total_invoice(order):\n    return 0\n",
    );
    // Enough other code that the query's words are not in most chunks (whole-file BM25 skips those).
    for i in 0..8 {
        write(r, &format!("lib/helper_{i}.py"), format!("def helper_{i}(value):\n    return value * {i}\n"));
    }
    // A name defined in more files than a name may have definitions: the store settles it from the names table.
    for i in 0..9 {
        write(r, &format!("lib/runner_{i}.py"), format!("def run(job):\n    return job + {i}\n"));
    }
    let queries = [
        "write_json order store",
        "parse_config in tools/src",
        "OrderStore::save_order and the invoice total",
        "storage",
        "zzqv nothing here",
        "run the write_json job",
        "Writer.run",
    ];
    let everything = SearchOptions { limit: 50, chunks_per_file: 0, ..SearchOptions::default() };
    let python_in_app =
        SearchOptions { languages: vec!["python".into()], paths: vec!["app".into()], ..everything.clone() };
    let same = || {
        let index = Index::open(dir).unwrap();
        for query in queries {
            for (options, whole_files) in [(&everything, 50), (&python_in_app, 0)] {
                let stored = Index::keyword_signals_in_store(dir, query, options, whole_files)
                    .unwrap()
                    .expect("the store answers");
                assert_eq!((stored.generation, stored.root.as_str()), (index.generation(), index.root()));
                assert_eq!(stored.answer, index.keyword_signals(query, options, whole_files).unwrap(), "{query}");
            }
        }
        index
    };
    run(r, dir);
    same();
    let signals =
        Index::keyword_signals_in_store(dir, "write_json order store", &everything, 50).unwrap().unwrap().answer;
    let defined: Vec<(&str, u32)> = signals.definitions.iter().map(|d| (d.path.as_str(), d.start_line)).collect();
    assert_eq!(defined.len(), 2, "write_json is defined twice: {defined:?}");
    assert!(defined.contains(&("app/storage.py", 10)) && defined.contains(&("app/invoice_store.py", 1)), "{defined:?}");
    assert!(signals.definitions.iter().all(|d| d.language == "python" && d.tokens > 0));
    let paths: Vec<&str> = signals.paths.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["app/invoice_store.py"], "the path term `store`");
    let storage = Index::keyword_signals_in_store(dir, "storage", &everything, 50).unwrap().unwrap().answer;
    assert_eq!(storage.paths.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["app/storage.py"]);
    let common =
        Index::keyword_signals_in_store(dir, "run the write_json job", &everything, 0).unwrap().unwrap().answer;
    assert!(common.definitions.iter().all(|d| !d.path.starts_with("lib/runner_")), "{:?}", common.definitions);
    assert_eq!(common.definitions.len(), 2, "write_json's two definitions: {:?}", common.definitions);
    assert!(signals.whole_files.iter().any(|(p, _)| p == "app/storage.py"), "{:?}", signals.whole_files);
    assert!(!signals.chunks.is_empty());
    let filtered = Index::keyword_signals_in_store(dir, "write_json", &python_in_app, 0).unwrap().unwrap().answer;
    assert!(filtered.whole_files.is_empty());
    assert!(filtered.chunks.iter().all(|hit| hit.path.starts_with("app/")), "{:?}", filtered.chunks);

    // A definition gone, a file renamed, one added: the store's answer follows the new generation.
    write(r, "app/invoice_store.py", "def total_invoice(order):\n    return 0\n");
    std::fs::rename(r.join("tools/src/parse.rs"), r.join("tools/src/config_parse.rs")).unwrap();
    write(
        r,
        "app/export.py",
        "from app.storage import write_json\n\n\ndef export_orders(rows):\n    return write_json(rows)\n",
    );
    run(r, dir);
    let index = same();
    let signals =
        Index::keyword_signals_in_store(dir, "write_json order store", &everything, 50).unwrap().unwrap().answer;
    assert_eq!(signals.definitions.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["app/storage.py"]);
    assert!(index.generation() > 1);

    // An interrupted commit: the store alone cannot say which generation readers see.
    write(r, "app/late.py", "def write_json():\n    pass\n");
    crash_at(r, dir, CrashPoint::AfterLexicalCommit);
    assert!(Index::keyword_signals_in_store(dir, "write_json", &everything, 50).unwrap().is_none());
}

/// `sextant status` in a one-shot process reads the summary the committing run left: the loaded index's own.
#[test]
fn the_status_from_the_store_equals_the_loaded_index() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let (r, dir) = (repo.path(), index_dir.path());
    fixture_repo(r);
    let same = || {
        let index = Index::open(dir).unwrap();
        let stored = Index::status_in_store(dir).unwrap().expect("the store answers");
        assert_eq!(stored.generation, index.generation());
        let (summary, indexed_at) = stored.answer;
        assert_eq!(format!("{summary:?}"), format!("{:?}", index.status()));
        assert_eq!(indexed_at, index.indexed_at());
        summary
    };
    let first = run(r, dir);
    assert!(first.files_parsed > 0);
    let summary = same();
    assert_eq!((summary.files, summary.files_parsed, summary.unchanged), (4, 0, true));
    assert_eq!(summary.languages["rust"].files, 2);

    write(r, "app/extra.py", "def extra():\n    return 1\n");
    run(r, dir);
    assert_eq!(same().files, 5);

    // An interrupted commit: the stat cache cannot vouch for what readers see.
    write(r, "app/late.py", "def late():\n    pass\n");
    crash_at(r, dir, CrashPoint::AfterLexicalCommit);
    assert!(Index::status_in_store(dir).unwrap().is_none());
}

/// A server's blocking pool can run hundreds of threads that each ask the store for the committed generation:
/// LMDB has 126 reader slots, so none may stay claimed by a thread after its read.
#[test]
fn many_threads_reading_the_store_do_not_run_out_of_reader_slots() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture_repo(repo.path());
    run(repo.path(), index_dir.path());
    let threads = 200;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, dir) = (std::sync::Arc::clone(&barrier), index_dir.path().to_path_buf());
            // Every thread reads, then stays alive until all have read.
            std::thread::spawn(move || {
                let stamp = Index::commit_stamp(&dir);
                barrier.wait();
                stamp
            })
        })
        .collect();
    let stamps: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(stamps.iter().all(|s| s.is_some() && *s == stamps[0]), "some reads failed");
}

/// The phases of a run, in order.
#[derive(Default)]
struct Phases(std::sync::Mutex<Vec<String>>);

impl sextant_index::Progress for Phases {
    fn phase(&self, name: &str, _total: Option<u64>) {
        self.0.lock().unwrap().push(name.to_string());
    }
}

#[test]
fn a_reader_loaded_from_disk_takes_the_walk_of_an_unchanged_run_so_the_next_hinted_run_need_not_walk() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    fixture_repo(r);
    let config = Config::for_repository(r).unwrap();
    let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
    run_with(r, index_dir.path(), &config, false);
    // A run as the engine does it: the ranks an update carried over are made exact before the next run.
    let run = |held: Option<&Index>, changed: Option<&[std::path::PathBuf]>| {
        let phases = Phases::default();
        let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
        let mut run = sextant_index::index_repository_opened(&options, &lock, &phases, held, changed).unwrap();
        if let (Some(pending), Some(index)) = (run.ranks_pending.take(), run.index.as_ref()) {
            run.index = sextant_index::exact_ranks(&lock, index, pending, &|| false).unwrap();
        }
        let walked = phases.0.lock().unwrap().iter().any(|p| p == "walk");
        (run, walked)
    };
    let changed = |path: &str| vec![r.canonicalize().unwrap().join(path)];

    // Loaded from disk, as a server starts: no walk to refresh, so a hinted run walks.
    let loaded = Index::open(index_dir.path()).unwrap();
    write(r, "app/service.py", "def first_hinted_edit():\n    return 1\n");
    let (edited, walked) = run(Some(&loaded), Some(&changed("app/service.py")));
    assert!(walked, "a reader opened from disk has no walk to refresh");
    let edited = edited.index.expect("the edit was committed");
    assert!(symbol_names(&edited).iter().any(|n| n.ends_with("first_hinted_edit")));

    // The same from disk once more, then a start-up catch-up run that finds nothing changed: it keeps the reader
    // (nothing committed) and leaves its walk with it.
    drop(edited);
    let loaded = Index::open(index_dir.path()).unwrap();
    let (caught_up, walked) = run(Some(&loaded), None);
    assert!(walked && caught_up.summary.unchanged && caught_up.index.is_none());
    write(r, "app/service.py", "def second_hinted_edit():\n    return 2\n");
    let (edited, walked) = run(Some(&loaded), Some(&changed("app/service.py")));
    assert!(!walked, "the catch-up run's walk is refreshed instead");
    let edited = edited.index.expect("the edit was committed");
    let names = symbol_names(&edited);
    assert!(names.iter().any(|n| n.ends_with("second_hinted_edit")), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with("first_hinted_edit")), "{names:?}");

    // An unchanged run that must store new file times moves the commit stamp: it hands back a reader of what it
    // stored (the caller's would look stale and be read back from disk), and that reader keeps the walk too.
    let text = std::fs::read_to_string(r.join("app/service.py")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(r, "app/service.py", &text);
    let stamp = Index::commit_stamp(index_dir.path());
    let (touched, walked) = run(Some(&edited), None);
    assert!(walked && touched.summary.unchanged);
    assert_ne!(Index::commit_stamp(index_dir.path()), stamp, "the times were stored");
    let touched = touched.index.expect("a reader of the stored times");
    assert_eq!(symbol_names(&touched), names);
    write(r, "app/service.py", "def third_hinted_edit():\n    return 3\n");
    let (edited, walked) = run(Some(&touched), Some(&changed("app/service.py")));
    assert!(!walked);
    assert!(symbol_names(&edited.index.unwrap()).iter().any(|n| n.ends_with("third_hinted_edit")));
}

#[test]
fn watcher_hints_replace_the_walk_only_when_they_can_and_agree_with_a_clean_index() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let r = repo.path();
    fixture_repo(r);
    let config = Config::for_repository(r).unwrap();
    let options = IndexOptions { root: r, index_dir: index_dir.path(), config: &config, force: false };
    let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
    let mut held = sextant_index::index_repository_opened(&options, &lock, &NoProgress, None, None).unwrap().index;
    drop(lock);
    assert!(held.is_some());

    type Edit = Box<dyn Fn(&Path)>;
    let service = "from app.storage import OrderStore\n\n\ndef place_order(order):\n    return OrderStore().save_order(order)\n\n\ndef refund_order(order):\n    return place_order(order)\n";
    // (edit, the paths a watcher reports, whether the run must walk the tree)
    let steps: Vec<(Edit, Vec<&str>, bool)> = vec![
        (Box::new(move |r: &Path| write(r, "app/service.py", service)), vec!["app/service.py"], false),
        // Editor litter: a swap file written and removed, a backup left behind; no source changed.
        (
            Box::new(|r: &Path| {
                write(r, "app/.service.py.swp", "swap");
                std::fs::remove_file(r.join("app/.service.py.swp")).unwrap();
                write(r, "app/service.py~", "backup");
            }),
            vec!["app/.service.py.swp", "app/service.py~"],
            false,
        ),
        (
            Box::new(|r: &Path| std::fs::remove_file(r.join("tools/src/parse.rs")).unwrap()),
            vec!["tools/src/parse.rs"],
            false,
        ),
        // A new source file: whether it counts is for the ignore rules to say, so the tree is walked.
        (
            Box::new(|r: &Path| write(r, "app/refunds.py", "def issue_refund():\n    return 1\n")),
            vec!["app/refunds.py"],
            true,
        ),
        (Box::new(|r: &Path| write(r, ".gitignore", "app/refunds.py\n")), vec![".gitignore"], true),
        // A removed directory whose files were indexed, reported as the directory alone.
        (Box::new(|r: &Path| std::fs::remove_dir_all(r.join("tools")).unwrap()), vec!["tools"], true),
    ];
    for (step, (edit, reported, walks)) in steps.iter().enumerate() {
        edit(r);
        let changed: Vec<std::path::PathBuf> = reported.iter().map(|p| r.canonicalize().unwrap().join(p)).collect();
        let phases = Phases::default();
        let lock = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
        let run =
            sextant_index::index_repository_opened(&options, &lock, &phases, held.as_ref(), Some(&changed)).unwrap();
        drop(lock);
        let walked = phases.0.lock().unwrap().iter().any(|p| p == "walk");
        assert_eq!(walked, *walks, "step {step}: phases {:?}", phases.0.lock().unwrap());
        if let Some(index) = run.index {
            held = Some(index);
        }
        let current = held.as_ref().unwrap();
        let clean_dir = tempfile::tempdir().unwrap();
        run_with(r, clean_dir.path(), &config, false);
        let clean = Index::open(clean_dir.path()).unwrap();
        assert_eq!(symbol_names(current), symbol_names(&clean), "step {step}");
        assert!(current.graph().data().edges == clean.graph().data().edges, "step {step}: edges differ");
        // A removed file is gone, not kept as an unreadable one.
        let skipped = |index: &Index| -> Vec<String> {
            index.status().skipped_examples.iter().map(|s| format!("{} {:?}", s.path, s.reason)).collect()
        };
        assert_eq!(skipped(current), skipped(&clean), "step {step}");
        assert_eq!(symbol_names(&Index::open(index_dir.path()).unwrap()), symbol_names(&clean), "step {step}");
    }
    let names = symbol_names(held.as_ref().unwrap());
    assert!(names.iter().any(|n| n.ends_with("refund_order")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("parse_config") || n.contains("issue_refund")), "{names:?}");
}

/// A search page is not filled by one file: each file shows at most `chunks_per_file` hits before every other
/// file with a hit has had its turn, and each hit keeps its BM25 rank; 0 keeps BM25's order.
#[test]
fn a_search_page_gives_every_matching_file_a_turn() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    // Six functions of real size (so each is a chunk of its own) that say "invoice" often, and two files that
    // say it once.
    let mut ledger = String::new();
    for i in 0..6 {
        ledger.push_str(&format!("def settle_invoice_{i}(invoice, ledger):\n"));
        for line in 0..8 {
            ledger.push_str(&format!("    ledger.post(invoice.line_{line}, invoice.amount_{line} * {i})\n"));
        }
        ledger.push_str("    return invoice\n\n\n");
    }
    write(repo.path(), "billing/ledger.py", ledger);
    write(
        repo.path(),
        "billing/mail.py",
        "def send_reminder(customer, invoice):\n    text = render_template('reminder', customer.name, customer.email)\n    return post_office.deliver(customer.email, text, attachments=[invoice])\n",
    );
    write(
        repo.path(),
        "shop/checkout.py",
        "def checkout(cart, payment_gateway):\n    total = sum(item.price * item.quantity for item in cart.items)\n    receipt = payment_gateway.charge(cart.customer, total)\n    invoice = make_receipt(receipt)\n    return invoice\n",
    );
    run(repo.path(), index_dir.path());
    let index = Index::open(index_dir.path()).unwrap();

    let plain = index.search("invoice", &SearchOptions { limit: 5, chunks_per_file: 0, ..Default::default() }).unwrap();
    let paths = |hits: &[sextant_index::SearchHit]| hits.iter().map(|h| h.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&plain), vec!["billing/ledger.py"; 5], "BM25 alone fills the page with one file");
    let bm25_rank = |hits: &[sextant_index::SearchHit], i: usize| hits[i].signals[0].rank;
    assert_eq!((0..5).map(|i| bm25_rank(&plain, i)).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);

    let page = index.search("invoice", &SearchOptions { limit: 5, chunks_per_file: 3, ..Default::default() }).unwrap();
    let page_paths = paths(&page);
    assert_eq!(&page_paths[..3], vec!["billing/ledger.py"; 3], "the best file's three best chunks first");
    let mut rest = page_paths[3..].to_vec();
    rest.sort();
    assert_eq!(rest, ["billing/mail.py", "shop/checkout.py"], "then every other file with a hit");
    assert_eq!((0..3).map(|i| bm25_rank(&page, i)).collect::<Vec<_>>(), [1, 2, 3], "the best hits stay first");
    assert!(bm25_rank(&page, 3) > 6 && bm25_rank(&page, 4) > 6, "each hit keeps its BM25 rank: {page:?}");

    // By default one per file: the page lists the three files, best first, then the best file's other hits.
    let one = index.search("invoice", &SearchOptions { limit: 5, ..Default::default() }).unwrap();
    let one_paths = paths(&one);
    assert_eq!(one_paths[0], "billing/ledger.py");
    let mut first_three = one_paths[..3].to_vec();
    first_three.sort();
    assert_eq!(first_three, ["billing/ledger.py", "billing/mail.py", "shop/checkout.py"]);
    assert_eq!(&one_paths[3..], ["billing/ledger.py", "billing/ledger.py"]);
    assert_eq!((bm25_rank(&one, 3), bm25_rank(&one, 4)), (2, 3), "the deferred hits follow in BM25 order");
}
