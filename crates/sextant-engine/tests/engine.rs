//! The engine's operations on a fixture repository, as every front end sees them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sextant_engine::{
    EngineError, EngineOptions, ErrorKind, NoEngineProgress, Page, Repository, RepositorySpec, SearchMode,
    SearchOptions, Signal, WatchEvent, Workspace,
};

const LIB: &str = "/// Reads the settings file.\npub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n}\n\nfn normalize_path(p: &str) -> String {\n    p.trim().to_string()\n}\n";

/// A repository whose `helper` is called from 250 places, so its references span pages.
fn fixture(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), LIB).unwrap();
    let mut calls = String::from("pub fn helper(n: u32) -> u32 {\n    n + 1\n}\n\n");
    for i in 0..250 {
        calls.push_str(&format!("pub fn caller_{i}() -> u32 {{\n    helper({i})\n}}\n\n"));
    }
    std::fs::write(root.join("src/calls.rs"), calls).unwrap();
}

fn keyword_only() -> EngineOptions {
    EngineOptions { embed: false, qdrant_url: None }
}

fn open(root: &Path, index_dir: &Path) -> Repository {
    let spec = RepositorySpec::for_root(root, Some(index_dir.to_path_buf())).unwrap();
    Repository::open(spec, keyword_only()).unwrap()
}

#[test]
fn index_then_every_query_operation() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let engine = open(repo.path(), index_dir.path());

    let before = engine.symbols("load_settings", Page::default()).unwrap_err();
    assert_eq!(before.kind(), ErrorKind::FailedPrecondition, "{before}");

    let report = engine.index(false, &NoEngineProgress).unwrap();
    assert_eq!(report.summary.files, 2);
    assert!(report.vectors.is_none(), "embedding was off");

    let defs = engine.symbols("load_settings", Page::default()).unwrap();
    assert_eq!(defs.total, 1);
    assert_eq!(defs.items[0].path, "src/lib.rs");
    assert_eq!(defs.items[0].signature, "pub fn load_settings(path: &str) -> String");

    let callers = engine.callers("normalize_path", Page::default()).unwrap();
    assert_eq!(callers.items[0].other.symbol.as_deref(), Some("load_settings"));
    let callees = engine.callees("load_settings", Page::default()).unwrap();
    assert_eq!(callees.items[0].other.symbol.as_deref(), Some("normalize_path"));

    // 250 references come back in pages of 100, 100 and 50, each reference once.
    let mut seen = std::collections::HashSet::new();
    let mut page = Page { offset: 0, size: 100 };
    let mut sizes = Vec::new();
    loop {
        let refs = engine.references("helper", page).unwrap();
        assert_eq!(refs.total, 250);
        sizes.push(refs.items.len());
        for r in &refs.items {
            assert!(seen.insert((r.at.path.clone(), r.at.line)), "repeated {r:?}");
        }
        match refs.next_offset {
            Some(next) => page.offset = next,
            None => break,
        }
    }
    assert_eq!(sizes, vec![100, 100, 50]);

    let results = engine.search("settings", None, &SearchOptions::default()).unwrap();
    assert_eq!(results.mode, SearchMode::Hybrid, "hybrid by default");
    assert_eq!(results.hits[0].path, "src/lib.rs");
    let signals: Vec<Signal> = results.hits[0].signals.iter().map(|s| s.signal).collect();
    assert!(signals.contains(&Signal::Lexical), "no vectors: the other signals are fused: {signals:?}");
    assert!(!signals.contains(&Signal::Semantic) && results.warnings.is_empty(), "{results:?}");
    let semantic = engine.search("settings", Some(SearchMode::Semantic), &SearchOptions::default()).unwrap_err();
    assert_eq!(semantic.kind(), ErrorKind::FailedPrecondition, "{semantic}");
    assert_eq!(engine.search("  ", None, &SearchOptions::default()).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // One meaning of a path filter, however it is spelled; one that climbs out of the tree matches nothing.
    for spelling in ["src", "/src", "src/", "./src"] {
        let options = SearchOptions { paths: vec![spelling.into()], ..Default::default() };
        assert_eq!(engine.search("settings", None, &options).unwrap().hits.len(), 1, "{spelling}");
    }
    let outside = SearchOptions { paths: vec!["../src".into()], ..Default::default() };
    assert!(engine.search("settings", None, &outside).unwrap().hits.is_empty());

    let pack = engine
        .pack(sextant_engine::PackRequest {
            task: "where are the settings loaded".into(),
            budget: 400,
            ..Default::default()
        })
        .unwrap();
    assert!(pack.tokens <= 400 && pack.items.iter().any(|i| i.symbol == "load_settings"), "{pack:?}");

    let source = engine.read_source("src/lib.rs", 2, 4).unwrap();
    assert_eq!(source.text, "pub fn load_settings(path: &str) -> String {\n    normalize_path(path)\n}\n");
    assert_eq!((source.start_line, source.end_line, source.total_lines, source.truncated), (2, 4, 8, false));
    assert_eq!(engine.read_source("../etc/passwd", 0, 0).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(engine.read_source("src/lib.rs", 50, 60).unwrap_err().kind(), ErrorKind::InvalidArgument);

    let markdown = engine.overview_markdown(None).unwrap();
    assert!(markdown.contains("load_settings") || markdown.contains("src"), "{markdown}");
    assert_eq!(engine.overview_markdown(Some("no/such/module")).unwrap_err().kind(), ErrorKind::NotFound);

    let status = engine.status().unwrap();
    assert_eq!(status.summary.files, 2);
    assert!(status.vectors.is_none());
}

#[test]
fn a_changed_file_is_refused_until_reindexed_and_the_reader_sees_the_new_generation() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let reader = open(repo.path(), index_dir.path());
    reader.index(false, &NoEngineProgress).unwrap();
    let generation = reader.current_index().unwrap().generation();

    std::fs::write(repo.path().join("src/lib.rs"), format!("{LIB}\npub fn fresh_function() {{}}\n")).unwrap();
    let stale = reader.read_source("src/lib.rs", 1, 2).unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::FailedPrecondition);
    assert!(stale.to_string().contains("changed since it was indexed"), "{stale}");

    // Another writer (a CLI run, say) commits; the long-lived reader answers from the new generation.
    let writer = open(repo.path(), index_dir.path());
    writer.index(false, &NoEngineProgress).unwrap();
    assert!(reader.current_index().unwrap().generation() > generation);
    assert_eq!(reader.symbols("fresh_function", Page::default()).unwrap().total, 1);
    assert!(reader.read_source("src/lib.rs", 1, 2).is_ok());
}

#[test]
fn a_second_writer_of_one_index_directory_is_refused_clearly() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let engine = open(repo.path(), index_dir.path());
    let held = sextant_index::WriterLock::acquire(index_dir.path()).unwrap();
    let error = engine.index(false, &NoEngineProgress).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Busy, "{error}");
    assert!(
        error.to_string().contains(&format!("another sextant process is indexing {}", index_dir.path().display())),
        "{error}"
    );
    drop(held);
    engine.index(false, &NoEngineProgress).unwrap();
}

#[test]
fn workspace_finds_repositories_by_name() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ia, ib) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let specs = vec![
        RepositorySpec::new("api".into(), a.path().to_path_buf(), ia.path().to_path_buf()),
        RepositorySpec::new("web".into(), b.path().to_path_buf(), ib.path().to_path_buf()),
    ];
    let workspace = Workspace::open(specs.clone(), &keyword_only()).unwrap();
    assert_eq!(workspace.get("web").unwrap().name(), "web");
    assert_eq!(workspace.get("nope").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(workspace.get("").unwrap_err().kind(), ErrorKind::InvalidArgument);
    let twice = vec![specs[0].clone(), specs[0].clone()];
    assert!(matches!(Workspace::open(twice, &keyword_only()), Err(EngineError::InvalidArgument(_))));
}

/// An indexed fixture with one file written after the index run, before anything watches: no file event will
/// ever name `src/unseen.rs` (defining `written_before_watching`). Returns the temp dirs and a fresh repository.
fn indexed_then_written_unwatched() -> (tempfile::TempDir, tempfile::TempDir, Arc<Repository>) {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    open(repo.path(), index_dir.path()).index(false, &NoEngineProgress).unwrap();
    std::fs::write(repo.path().join("src/unseen.rs"), "pub fn written_before_watching() {}\n").unwrap();
    let engine = Arc::new(open(repo.path(), index_dir.path()));
    (repo, index_dir, engine)
}

#[test]
fn the_watcher_first_catches_up_with_edits_made_while_nobody_watched() {
    let (_repo, _index_dir, engine) = indexed_then_written_unwatched();
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = engine
        .watch(Duration::from_millis(50), move |event| {
            let _ = tx.send(event);
        })
        .unwrap();
    match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
        WatchEvent::Reindexed(report) => {
            assert_eq!((report.summary.files_parsed, report.summary.unchanged), (1, false), "{report:?}")
        }
        WatchEvent::Failed(e) => panic!("the catch-up run failed: {e}"),
    }
    assert_eq!(engine.symbols("written_before_watching", Page::default()).unwrap().total, 1);
}

#[test]
fn a_watcher_without_catch_up_indexes_nothing_until_an_edit_and_then_walks() {
    let (repo, _index_dir, engine) = indexed_then_written_unwatched();
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = engine
        .watch_with(Duration::from_millis(50), None, move |event| {
            let _ = tx.send(event);
        })
        .unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "no run before an edit");
    assert_eq!(engine.symbols("written_before_watching", Page::default()).unwrap().total, 0);
    // The first run after an edit walks, so it finds the file no event named as well.
    std::fs::write(repo.path().join("src/seen.rs"), "pub fn written_while_watching() {}\n").unwrap();
    match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
        WatchEvent::Reindexed(report) => assert_eq!(report.summary.files_parsed, 2, "{report:?}"),
        WatchEvent::Failed(e) => panic!("the run failed: {e}"),
    }
    assert_eq!(engine.symbols("written_before_watching", Page::default()).unwrap().total, 1);
    assert_eq!(engine.symbols("written_while_watching", Page::default()).unwrap().total, 1);
}

#[test]
fn the_watcher_reindexes_an_edit() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let engine = Arc::new(open(repo.path(), index_dir.path()));
    engine.index(false, &NoEngineProgress).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = engine
        .watch(Duration::from_millis(50), move |event| {
            let _ = tx.send(format!("{event:?}"));
        })
        .unwrap();
    std::fs::write(repo.path().join("src/new.rs"), "pub fn watched_into_the_index() {}\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while engine.symbols("watched_into_the_index", Page::default()).unwrap().total == 0 {
        assert!(Instant::now() < deadline, "the edit never reached the index");
        std::thread::sleep(Duration::from_millis(20));
    }
    let event = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(event.starts_with("Reindexed"), "{event}");

    // Later runs are told which files changed instead of walking: an edit and a removal of a known file.
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "{what} never reached the index");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let count = |name: &str| engine.symbols(name, Page::default()).unwrap().total;
    std::fs::write(repo.path().join("src/new.rs"), "pub fn renamed_while_watched() {}\n").unwrap();
    wait_for("the rename", &|| count("renamed_while_watched") == 1 && count("watched_into_the_index") == 0);
    std::fs::remove_file(repo.path().join("src/new.rs")).unwrap();
    wait_for("the removal", &|| count("renamed_while_watched") == 0);
    assert!(count("helper") > 0, "the rest of the index stays");
}

#[test]
fn an_update_told_its_changes_walks_for_manifests_only_when_one_of_them_can_be_one() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let engine = open(repo.path(), index_dir.path());
    engine.index(false, &NoEngineProgress).unwrap();
    let crate_at = |dir: &str| {
        let root = repo.path().join(dir);
        std::fs::create_dir_all(root.join("src")).unwrap();
        let name = dir.rsplit('/').next().unwrap();
        std::fs::write(root.join("Cargo.toml"), format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"))
            .unwrap();
        std::fs::write(root.join("src/lib.rs"), format!("pub fn {name}_entry() {{}}\n")).unwrap();
        (root.join("Cargo.toml"), root.join("src/lib.rs"))
    };
    let has_module = |path: &str| engine.overview().unwrap().module_index(path).is_some();

    let (manifest, source) = crate_at("tools/generate");
    engine.index_changed(&[manifest, source], &NoEngineProgress).unwrap();
    assert!(has_module("tools/generate"), "a named manifest is found");

    // Told only of the source file (a list that misses a change, which a watcher never gives): the listing of
    // manifests is reused, which shows the update did not walk the tree; a walking run then finds the crate.
    let (_, source) = crate_at("tools/render");
    engine.index_changed(&[source], &NoEngineProgress).unwrap();
    assert_eq!(engine.symbols("render_entry", Page::default()).unwrap().total, 1);
    assert!(!has_module("tools/render"));
    std::fs::write(repo.path().join("tools/render/src/lib.rs"), "pub fn render_entry() {}\npub fn more() {}\n")
        .unwrap();
    engine.index(false, &NoEngineProgress).unwrap();
    assert!(has_module("tools/render"), "a run that walks, walks the overview too");
}

/// A one-shot process (a CLI query) answers hybrid search over an index without vectors from the store, without
/// loading the index, and gives the page a process holding the index gives.
#[test]
fn a_cold_hybrid_search_reads_the_store_and_equals_a_warm_one() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let warm = open(repo.path(), index_dir.path());
    warm.index(false, &NoEngineProgress).unwrap();
    assert!(warm.loaded_index().is_some(), "the indexing process holds its index");

    let cold = open(repo.path(), index_dir.path());
    for (query, options) in [
        ("settings", SearchOptions::default()),
        ("normalize_path helper", SearchOptions { limit: 30, chunks_per_file: 0, ..Default::default() }),
        ("caller_7 in src/calls.rs", SearchOptions { paths: vec!["src".into()], ..Default::default() }),
    ] {
        let from_store = cold.search(query, None, &options).unwrap();
        assert!(cold.loaded_index().is_none(), "{query}: the cold search loaded the index");
        let loaded = warm.search(query, None, &options).unwrap();
        assert_eq!(from_store.mode, SearchMode::Hybrid);
        assert_eq!(from_store.hits, loaded.hits, "{query}");
        assert!(!from_store.hits.is_empty(), "{query}");
    }
    let named = cold.search("normalize_path helper", None, &SearchOptions::default()).unwrap();
    let symbols: Vec<&str> = named.hits.iter().map(|h| h.symbol.as_str()).collect();
    // `normalize_path` lies in the chunk of `load_settings`; `helper` has its own.
    assert_eq!(symbols[..2], ["load_settings", "helper"], "{symbols:?}");
    // Semantic search without vectors is refused before anything is read; a pack loads the index.
    let semantic = cold.search("settings", Some(SearchMode::Semantic), &SearchOptions::default()).unwrap_err();
    assert_eq!(semantic.kind(), ErrorKind::FailedPrecondition, "{semantic}");
    assert!(cold.loaded_index().is_none());
    cold.pack(sextant_engine::PackRequest { task: "settings".into(), budget: 300, ..Default::default() }).unwrap();
    assert!(cold.loaded_index().is_some());
}

/// A query handed an index directory (`--index-dir`) learns the repository from the store's header and, like
/// one handed the repository, answers from the store (and the stored overview) without loading the index.
#[test]
fn a_repository_opened_by_its_index_directory_loads_nothing_until_a_query_needs_it() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let warm = open(repo.path(), index_dir.path());
    warm.index(false, &NoEngineProgress).unwrap();

    let by_dir = Repository::open_index_dir(index_dir.path(), keyword_only()).unwrap();
    assert_eq!(by_dir.spec().root, repo.path().canonicalize().unwrap());
    assert!(by_dir.loaded_index().is_none());
    let defs = by_dir.symbols("load_settings", Page::default()).unwrap();
    assert_eq!(defs.items[0].path, "src/lib.rs");
    let hits = by_dir.search("settings", None, &SearchOptions::default()).unwrap().hits;
    assert_eq!(hits[0].path, "src/lib.rs");
    assert!(by_dir.loaded_index().is_none(), "lookups and search read the store");
    // The overview stored for the committed generation is read as it is.
    let page = by_dir.overview_markdown(None).unwrap();
    assert!(page.contains("pub fn helper(n: u32) -> u32"), "{page}");
    assert_eq!(page, warm.overview_markdown(None).unwrap());
    assert!(by_dir.loaded_index().is_none(), "the stored overview needs no index");
    let (cold, loaded) = (by_dir.status().unwrap(), warm.status().unwrap());
    assert_eq!((cold.summary.files, cold.summary.symbols, cold.indexed_at), (2, 253, loaded.indexed_at));
    assert_eq!(format!("{:?}", cold.summary), format!("{:?}", loaded.summary));
    assert!(by_dir.loaded_index().is_none(), "the status is the one the committing run left");
    let pack = by_dir
        .pack(sextant_engine::PackRequest { task: "load the settings".into(), budget: 300, ..Default::default() })
        .unwrap();
    assert!(pack.items.iter().any(|i| i.symbol == "load_settings"), "{pack:?}");
    assert!(by_dir.loaded_index().is_some(), "a pack needs the graph");
}

#[test]
fn a_repository_closed_before_exit_leaves_its_index_to_the_next_run() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    open(repo.path(), index_dir.path()).index(false, &NoEngineProgress).unwrap();

    // A one-shot pack loads the index, answers, and leaves the memory to the operating system.
    let one_shot = open(repo.path(), index_dir.path());
    let request =
        || sextant_engine::PackRequest { task: "load the settings".into(), budget: 300, ..Default::default() };
    let pack = one_shot.pack(request()).unwrap();
    assert!(pack.items.iter().any(|i| i.symbol == "load_settings"), "{pack:?}");
    assert!(one_shot.loaded_index().is_some());
    one_shot.close_before_exit();

    // The next run commits a new generation over it, and a new reader packs from that one.
    let edited = LIB.replace("load_settings", "read_settings");
    std::fs::write(repo.path().join("src/lib.rs"), edited).unwrap();
    open(repo.path(), index_dir.path()).index(false, &NoEngineProgress).unwrap();
    let pack = open(repo.path(), index_dir.path()).pack(request()).unwrap();
    assert!(pack.items.iter().any(|i| i.symbol == "read_settings"), "{pack:?}");
    assert!(!pack.items.iter().any(|i| i.symbol == "load_settings"), "{pack:?}");
}
