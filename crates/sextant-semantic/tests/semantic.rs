//! End to end over a fixture repository: index, embed into the embedded store, search, edit, delete, reopen.
//! Needs the provisioned model (`indexer-config/setup-models.sh`; `.ci/run` runs it first).

use std::sync::Arc;

use sextant_config::Config;
use sextant_embed::{Embedder, EmbedderOptions};
use sextant_index::{index_repository, Index, IndexOptions, NoProgress, SearchOptions};
use sextant_semantic::{search, NoSyncProgress, SearchMode, SemanticEngine, Signal, StoreLocation, VectorState};
use sextant_vector::VectorFilter;

const GEOMETRY: &str = r#"/// The surface enclosed by a circle.
pub fn circle_area(radius: f64) -> f64 {
    std::f64::consts::PI * radius * radius
}
"#;

const NETWORK: &str = r#"/// Performs an HTTP GET request and returns the response body.
pub fn fetch_page(url: &str) -> Result<String, std::io::Error> {
    let response = http_get(url)?;
    Ok(response.body)
}
"#;

const WORDS: &str = r#"/// Splits on whitespace and counts the pieces.
pub fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}
"#;

const STORAGE: &str = r#"/// Inserts a row into the database table and commits the transaction.
pub fn save_record(db: &mut Database, row: Row) -> Result<(), DbError> {
    let tx = db.begin()?;
    tx.insert("records", row)?;
    tx.commit()
}
"#;

fn config() -> Config {
    Config::defaults().expect("default configuration")
}

fn embedder() -> Arc<Embedder> {
    let options = EmbedderOptions::from_settings(&config().embed);
    Arc::new(Embedder::load(&options).unwrap_or_else(|e| panic!("{e} (these tests need the provisioned model)")))
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    index_dir: std::path::PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        for (name, text) in
            [("geometry.rs", GEOMETRY), ("network.rs", NETWORK), ("words.rs", WORDS), ("storage.rs", STORAGE)]
        {
            std::fs::write(root.join("src").join(name), text).expect("write");
        }
        let index_dir = dir.path().join("index");
        let fixture = Fixture { _dir: dir, root, index_dir };
        fixture.index();
        fixture
    }

    fn index(&self) -> Index {
        let config = config();
        let options = IndexOptions { root: &self.root, index_dir: &self.index_dir, config: &config, force: false };
        index_repository(&options, &NoProgress).expect("index");
        Index::open(&self.index_dir).expect("open index")
    }

    fn engine(&self, embedder: &Arc<Embedder>) -> SemanticEngine {
        let location = StoreLocation::for_index(&self.index_dir, &config(), None);
        let store = location.open(embedder.dimension(), None).expect("open store");
        SemanticEngine::with_parts(embedder.clone(), store, location, &self.index_dir, 16)
    }
}

impl Fixture {
    /// An engine that keeps file cards, and chunk vectors when `chunks`.
    fn card_engine(&self, embedder: &Arc<Embedder>, chunks: bool) -> SemanticEngine {
        let location = StoreLocation::for_index(&self.index_dir, &config(), None);
        let cards = location.file_cards().open(embedder.dimension(), None).expect("open card store");
        self.engine(embedder).with_file_cards(cards).with_chunk_vectors(chunks)
    }
}

fn paths(hits: &[sextant_semantic::SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.path.as_str()).collect()
}

#[test]
fn a_plain_words_query_finds_the_function_it_describes_without_sharing_a_word() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let engine = fixture.engine(&embedder);
    let index = fixture.index();
    let report = engine.sync(&index, &NoSyncProgress).expect("sync");
    assert_eq!(report.embedded, 4, "{report:?}");
    assert_eq!(report.points, 4);

    let query = "how much room does any round figure take up";
    let options = SearchOptions { limit: 4, ..SearchOptions::default() };
    let lexical = search(&index, Some(&engine), query, &options, SearchMode::Lexical).expect("lexical");
    assert!(!paths(&lexical).contains(&"src/geometry.rs"), "the query shares a keyword: {lexical:?}");

    let semantic = search(&index, Some(&engine), query, &options, SearchMode::Semantic).expect("semantic");
    assert_eq!(semantic[0].path, "src/geometry.rs", "{semantic:?}");
    assert_eq!(semantic[0].symbol, "circle_area");
    assert_eq!((semantic[0].start_line, semantic[0].end_line), (1, 4));
    assert!(semantic[0].snippet.contains("pub fn circle_area"), "{:?}", semantic[0].snippet);

    let hybrid = search(&index, Some(&engine), query, &options, SearchMode::Hybrid).expect("hybrid");
    assert_eq!(hybrid[0].path, "src/geometry.rs", "{hybrid:?}");
    assert_eq!(hybrid[0].signals[0].signal, Signal::Semantic);
    assert_eq!(hybrid[0].signals[0].rank, 1);

    // Filters reach the store.
    let filtered = engine
        .nearest(query, 4, &VectorFilter { languages: Vec::new(), paths: vec!["src/words.rs".into()] })
        .expect("filtered");
    assert_eq!(filtered.iter().map(|h| h.payload.path.as_str()).collect::<Vec<_>>(), vec!["src/words.rs"]);
}

#[test]
fn hybrid_results_say_which_signals_found_them() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let engine = fixture.engine(&embedder);
    let index = fixture.index();
    engine.sync(&index, &NoSyncProgress).expect("sync");
    let options = SearchOptions { limit: 4, ..SearchOptions::default() };
    // `save_record` names a definition, "database" is a word of its chunk, "storage" a term of its path, and the
    // file matches best as a whole.
    let hits =
        search(&index, Some(&engine), "save_record database storage", &options, SearchMode::Hybrid).expect("search");
    assert_eq!(hits[0].path, "src/storage.rs", "{hits:?}");
    let mut signals: Vec<&str> = hits[0].signals.iter().map(|s| s.signal.name()).collect();
    signals.sort();
    assert_eq!(signals, vec!["lexical", "path", "semantic", "symbol", "whole_file"]);
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn unchanged_chunks_never_reach_the_model_again() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let engine = fixture.engine(&embedder);
    let first = engine.sync(&fixture.index(), &NoSyncProgress).expect("first sync");
    assert_eq!((first.embedded, first.from_cache, first.already_stored), (4, 0, 0));

    // Same generation: nothing to do at all.
    let again = engine.sync(&fixture.index(), &NoSyncProgress).expect("second sync");
    assert!(again.up_to_date);
    assert_eq!(again.model_calls, 0);

    // One file edited: only its chunk is embedded; the rest stay as they are.
    let edited = WORDS.replace("counts the pieces", "counts the pieces, ignoring empty ones");
    std::fs::write(fixture.root.join("src/words.rs"), edited).expect("edit");
    let after_edit = engine.sync(&fixture.index(), &NoSyncProgress).expect("sync after edit");
    assert_eq!((after_edit.embedded, after_edit.model_calls), (1, 1), "{after_edit:?}");
    assert_eq!(after_edit.already_stored, 3);
    assert_eq!(after_edit.files_read, 1, "unchanged files are not read again");
    assert_eq!(after_edit.deleted, 1, "the old chunk's point goes");
    assert_eq!(after_edit.points, 4);

    // The edit reverted (a branch switched back): the old text's vector comes from the cache.
    std::fs::write(fixture.root.join("src/words.rs"), WORDS).expect("revert");
    let reverted = engine.sync(&fixture.index(), &NoSyncProgress).expect("sync after revert");
    assert_eq!((reverted.embedded, reverted.model_calls, reverted.from_cache), (0, 0, 1), "{reverted:?}");
}

#[test]
fn the_embedded_store_survives_reopening_and_forgets_deleted_files() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let query = "download a web page over http";
    let before = {
        let engine = fixture.engine(&embedder);
        engine.sync(&fixture.index(), &NoSyncProgress).expect("sync");
        engine.nearest(query, 4, &VectorFilter::default()).expect("search")
    };
    assert_eq!(before[0].payload.path, "src/network.rs");

    // Reopened the way `sextant search` does: from the state the sync left.
    let engine = SemanticEngine::open_synced(&fixture.index_dir, &config()).expect("open").expect("has vectors");
    assert!(matches!(engine.location(), StoreLocation::Edge { .. }));
    assert_eq!(engine.store().count().expect("count"), 4);
    let after = engine.nearest(query, 4, &VectorFilter::default()).expect("search after reopen");
    // The reopened engine's model is loaded for queries: the same hits, scores equal to the last bits of a float.
    assert_eq!(
        before.iter().map(|h| (h.id, &h.payload)).collect::<Vec<_>>(),
        after.iter().map(|h| (h.id, &h.payload)).collect::<Vec<_>>()
    );
    for (b, a) in before.iter().zip(&after) {
        assert!((b.score - a.score).abs() < 1e-5, "{before:?} {after:?}");
    }

    std::fs::remove_file(fixture.root.join("src/network.rs")).expect("delete");
    let index = fixture.index();
    let report = engine.sync(&index, &NoSyncProgress).expect("sync after delete");
    assert_eq!((report.deleted, report.points, report.embedded), (1, 3, 0), "{report:?}");
    let hits = engine.nearest(query, 10, &VectorFilter::default()).expect("search after delete");
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.payload.path != "src/network.rs"), "{hits:?}");
    let state = VectorState::read(&fixture.index_dir).expect("state");
    assert_eq!((state.generation, state.points, state.complete), (index.generation(), 3, true));
}

#[test]
fn without_vectors_hybrid_search_still_fuses_keywords_symbols_and_paths() {
    let fixture = Fixture::new();
    let index = fixture.index();
    let options = SearchOptions { limit: 3, ..SearchOptions::default() };
    let hits = search(&index, None, "count_words statistics", &options, SearchMode::Hybrid).expect("hybrid");
    assert_eq!(hits[0].path, "src/words.rs");
    assert!(hits[0].signals.iter().any(|s| s.signal == Signal::Symbol), "{hits:?}");
    assert!(search(&index, None, "anything", &options, SearchMode::Semantic).is_err());
}

/// The same chunks from the embedded store and a real Qdrant server (runs when `QDRANT_URL` is set).
#[test]
fn a_qdrant_server_returns_what_the_embedded_store_returns() {
    let Ok(url) = std::env::var("QDRANT_URL") else {
        eprintln!("skipped: set QDRANT_URL (e.g. http://localhost:6334) to run against a Qdrant server");
        return;
    };
    let fixture = Fixture::new();
    let embedder = embedder();
    let edge = fixture.engine(&embedder);
    let index = fixture.index();
    edge.sync(&index, &NoSyncProgress).expect("edge sync");

    let remote_dir = fixture.index_dir.with_file_name(format!("remote-index-{}", std::process::id()));
    std::fs::create_dir_all(&remote_dir).expect("mkdir");
    let location = StoreLocation::for_index(&remote_dir, &config(), Some(&url));
    let StoreLocation::Qdrant { collection, .. } = &location else { panic!("not remote: {location:?}") };
    let api_key = std::env::var("QDRANT_API_KEY").ok();
    let _ = sextant_vector::RemoteStore::open(&url, api_key.clone(), collection, 384).map(|s| s.drop_collection());
    let store = location.open(embedder.dimension(), api_key.clone()).expect("open remote");
    let remote = SemanticEngine::with_parts(embedder.clone(), store, location.clone(), &remote_dir, 16);
    let report = remote.sync(&index, &NoSyncProgress).expect("remote sync");
    assert_eq!(report.points, 4);
    for query in ["how much room does any round figure take up", "download a web page", "persist a row"] {
        let from_edge = edge.nearest(query, 4, &VectorFilter::default()).expect("edge search");
        let from_server = remote.nearest(query, 4, &VectorFilter::default()).expect("remote search");
        let key = |h: &sextant_vector::VectorHit| (h.id, h.payload.clone());
        assert_eq!(from_edge.iter().map(key).collect::<Vec<_>>(), from_server.iter().map(key).collect::<Vec<_>>());
    }
    std::fs::remove_file(fixture.root.join("src/words.rs")).expect("delete");
    let report = remote.sync(&fixture.index(), &NoSyncProgress).expect("remote sync after delete");
    assert_eq!((report.deleted, report.points), (1, 3));
    let StoreLocation::Qdrant { collection, .. } = &location else { unreachable!() };
    sextant_vector::RemoteStore::open(&url, api_key, collection, 384).expect("reopen").drop_collection().expect("drop");
}

#[test]
fn one_file_cannot_fill_the_first_page_of_hybrid_results() {
    let fixture = Fixture::new();
    // A file with many chunks that all match, and a smaller file that matches once.
    let mut resolver = String::new();
    for i in 0..12 {
        resolver.push_str(&format!(
            "/// Resolves references to definitions, pass {i}.\npub fn resolve_references_{i}(refs: &[Ref]) -> Vec<Definition> {{\n    refs.iter().map(|r| lookup_definition(r)).collect()\n}}\n\n"
        ));
    }
    std::fs::write(fixture.root.join("src/resolver.rs"), resolver).expect("write");
    std::fs::write(
        fixture.root.join("src/index.rs"),
        "/// Finds the definitions a reference may point at.\npub fn definitions_for(reference: &Ref) -> Vec<Definition> {\n    Vec::new()\n}\n",
    )
    .expect("write");
    let index = fixture.index();
    let options = SearchOptions { limit: 10, ..SearchOptions::default() };
    let query = "resolve references to definitions";
    // By default one result per file first: both files, then the resolver's other chunks.
    let hits = search(&index, None, query, &options, SearchMode::Hybrid).expect("hybrid");
    let mut first_two = paths(&hits[..2]);
    first_two.sort();
    assert_eq!(first_two, ["src/index.rs", "src/resolver.rs"], "{:?}", paths(&hits));
    assert!(hits[2..].iter().all(|h| h.path == "src/resolver.rs"), "{:?}", paths(&hits));
    // Three per file: the other file still comes within the first four.
    let three = SearchOptions { chunks_per_file: 3, ..options.clone() };
    let hits = search(&index, None, query, &three, SearchMode::Hybrid).expect("hybrid");
    let from_resolver = hits[..4].iter().filter(|h| h.path == "src/resolver.rs").count();
    assert_eq!(from_resolver, 3, "{:?}", paths(&hits));
    assert!(paths(&hits[..4]).contains(&"src/index.rs"), "{:?}", paths(&hits));
    // The deferred chunks still come, after the other files.
    assert!(hits.iter().filter(|h| h.path == "src/resolver.rs").count() > 3, "{:?}", paths(&hits));
    // Plain score order: the resolver fills the page.
    let plain = SearchOptions { chunks_per_file: 0, ..options };
    let hits = search(&index, None, query, &plain, SearchMode::Hybrid).expect("hybrid");
    assert!(hits[..4].iter().all(|h| h.path == "src/resolver.rs"), "{:?}", paths(&hits));
}

#[test]
fn hybrid_search_puts_tests_after_the_code_unless_the_query_asks_for_tests() {
    let fixture = Fixture::new();
    std::fs::create_dir_all(fixture.root.join("tests")).expect("dir");
    // The test says the query's words more often than the code it tests.
    std::fs::write(
        fixture.root.join("tests/storage_test.rs"),
        "/// Inserts a row into the database table, commits the transaction and checks the database row.
#[test]
fn insert_row_database_transaction() {
    let db = Database::open();
    db.insert_row(row());
    db.commit_transaction();
    assert_eq!(db.row_count(), 1, \"one row in the database after the transaction\");
}
",
    )
    .expect("write");
    let index = fixture.index();
    let options = SearchOptions { limit: 5, ..SearchOptions::default() };
    let query = "insert row database transaction";
    let first = |query: &str, weights: &sextant_semantic::HybridWeights| {
        let hits = sextant_semantic::search_weighted(&index, None, query, &options, SearchMode::Hybrid, weights)
            .expect("hybrid");
        hits[0].path.clone()
    };
    let even = sextant_semantic::HybridWeights { secondary_files: 1.0, ..Default::default() };
    assert_eq!(first(query, &even), "tests/storage_test.rs", "taken alone, the test matches best");
    let default = sextant_semantic::HybridWeights::default();
    assert_eq!(first(query, &default), "src/storage.rs", "tests count half");
    let about_tests = "insert row database transaction test";
    assert_eq!(first(about_tests, &default), "tests/storage_test.rs", "a query about tests keeps them");
}

/// The page hybrid search reads from the store of `fixture`'s index (it must answer).
fn store_page(
    fixture: &Fixture,
    engine: Option<&SemanticEngine>,
    query: &str,
    options: &SearchOptions,
    weights: &sextant_semantic::HybridWeights,
) -> Vec<sextant_semantic::SearchHit> {
    sextant_semantic::hybrid_in_store(&fixture.index_dir, engine, query, options, weights)
        .expect("hybrid from the store")
        .expect("the store answers")
        .answer
}

/// A one-shot process answers hybrid search without vectors from the store: the same page as the loaded index.
#[test]
fn hybrid_search_from_the_store_equals_the_loaded_index() {
    let fixture = Fixture::new();
    let index = fixture.index();
    let queries =
        ["insert row database transaction", "save_record and fetch_page", "src/geometry.rs circle area", "zzqv"];
    let weights = [
        sextant_semantic::HybridWeights::default(),
        sextant_semantic::HybridWeights { whole_file: 0.0, ..Default::default() },
    ];
    let page = SearchOptions { limit: 5, ..SearchOptions::default() };
    let plain = SearchOptions { limit: 20, chunks_per_file: 0, languages: vec!["rust".into()], ..page.clone() };
    for query in queries {
        for weights in &weights {
            for options in [&page, &plain] {
                let loaded =
                    sextant_semantic::search_weighted(&index, None, query, options, SearchMode::Hybrid, weights)
                        .expect("hybrid");
                assert_eq!(store_page(&fixture, None, query, options, weights), loaded, "{query}");
            }
        }
    }
    let stored = sextant_semantic::hybrid_in_store(&fixture.index_dir, None, queries[0], &page, &weights[0])
        .expect("hybrid from the store")
        .expect("the store answers");
    assert_eq!(stored.generation, index.generation());
    let hits = stored.answer;
    assert_eq!(hits[0].path, "src/storage.rs", "{hits:?}");
    assert!(hits[0].signals.iter().any(|s| s.signal == Signal::WholeFile), "{hits:?}");
    assert!(!hits[0].snippet.is_empty());
    let named = store_page(&fixture, None, queries[1], &page, &weights[0]);
    let by_name: Vec<&str> = named
        .iter()
        .filter(|h| h.signals.iter().any(|s| s.signal == Signal::Symbol))
        .map(|h| h.path.as_str())
        .collect();
    assert_eq!(by_name.len(), 2, "both definitions the query names: {named:?}");
    assert!(by_name.contains(&"src/storage.rs") && by_name.contains(&"src/network.rs"), "{by_name:?}");
}

#[test]
fn hybrid_search_says_when_a_whole_file_matches() {
    let fixture = Fixture::new();
    let index = fixture.index();
    let options = SearchOptions { limit: 5, ..SearchOptions::default() };
    let weights = sextant_semantic::HybridWeights { whole_file: 1.0, ..Default::default() };
    let query = "insert row database transaction";
    let hits =
        sextant_semantic::search_weighted(&index, None, query, &options, SearchMode::Hybrid, &weights).expect("hybrid");
    assert_eq!(hits[0].path, "src/storage.rs", "{hits:?}");
    let signal = hits[0].signals.iter().find(|s| s.signal == Signal::WholeFile).expect("whole-file signal");
    assert_eq!(signal.rank, 1);
    assert_eq!(Signal::WholeFile.name(), "whole_file");
    // Off, it is not computed.
    let off = sextant_semantic::HybridWeights { whole_file: 0.0, ..Default::default() };
    let hits =
        sextant_semantic::search_weighted(&index, None, query, &options, SearchMode::Hybrid, &off).expect("hybrid");
    assert!(hits.iter().all(|h| h.signals.iter().all(|s| s.signal != Signal::WholeFile)), "{hits:?}");
}

#[test]
fn file_cards_come_first_and_find_the_file_a_task_describes() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let index = fixture.index();
    let cards_only = fixture.card_engine(&embedder, false);
    let report = cards_only.sync(&index, &NoSyncProgress).expect("sync");
    // One card per file (each is short), and no chunk reaches the model.
    assert_eq!((report.file_cards, report.cards_embedded, report.embedded), (4, 4, 0), "{report:?}");
    let state = VectorState::read(&fixture.index_dir).expect("state written after the cards");
    assert_eq!(state.file_cards.as_ref().map(|c| (c.generation, c.points)), Some((index.generation(), 4)));
    assert!(!state.complete && !state.has_chunk_vectors(), "chunks are not embedded: {state:?}");
    assert!(cards_only.is_current(&index), "a cards-only engine is current once the cards are");

    let card = sextant_semantic::file_cards(index.file_by_path("src/network.rs").expect("indexed"));
    assert_eq!(card.len(), 1);
    assert_eq!(
        card[0].text,
        "src/network.rs\npub fn fetch_page(url: &str) -> Result<String, std::io::Error> \
         — Performs an HTTP GET request and returns the response body."
    );

    let dense = cards_only.dense_hits("download a web document over the internet", &[], &[]).expect("dense");
    assert_eq!(dense.files.first().map(String::as_str), Some("src/network.rs"), "{dense:?}");
    assert!(dense.chunks.is_empty(), "no chunk vectors yet: {dense:?}");
    let filtered = cards_only.dense_hits("download a web document", &[], &["src/words.rs".into()]).expect("dense");
    assert_eq!(filtered.files, vec!["src/words.rs".to_string()]);

    // The full engine then embeds the chunks; the cards come from the store, not the model. (One process holds
    // an embedded store at a time.)
    drop(cards_only);
    let full = fixture.card_engine(&embedder, true);
    let report = full.sync(&index, &NoSyncProgress).expect("sync");
    assert_eq!((report.cards_embedded, report.embedded, report.points), (0, 4, 4), "{report:?}");
    let state = VectorState::read(&fixture.index_dir).expect("state");
    assert!(state.complete && state.has_chunk_vectors(), "{state:?}");

    // An edit re-embeds that file's card and chunk only; a deleted file loses its card.
    std::fs::write(
        fixture.root.join("src/words.rs"),
        "/// Counts the lines of a text.\npub fn count_lines(text: &str) -> usize {\n    text.lines().count()\n}\n",
    )
    .expect("write");
    std::fs::remove_file(fixture.root.join("src/storage.rs")).expect("remove");
    let index = fixture.index();
    let report = full.sync(&index, &NoSyncProgress).expect("sync");
    assert_eq!((report.file_cards, report.cards_embedded, report.embedded), (3, 1, 1), "{report:?}");
    let dense = full.dense_hits("store a row in a database table", &[], &[]).expect("dense");
    assert!(!dense.files.iter().any(|f| f == "src/storage.rs"), "{dense:?}");
    assert!(full.sync(&index, &NoSyncProgress).expect("sync").up_to_date);
}

#[test]
fn hybrid_search_lends_the_card_signal_to_the_chunks_of_the_files_whose_cards_match() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let index = fixture.index();
    let engine = fixture.card_engine(&embedder, false);
    engine.sync(&index, &NoSyncProgress).expect("sync");
    let options = SearchOptions { limit: 10, ..SearchOptions::default() };
    let query = "fetch the body of a web page from its url";
    let hits = search(&index, Some(&engine), query, &options, SearchMode::Hybrid).expect("hybrid");
    assert_eq!(hits[0].path, "src/network.rs", "{hits:?}");
    let card = hits[0].signals.iter().find(|s| s.signal == Signal::FileCard).expect("card signal");
    assert_eq!(card.rank, 1, "{hits:?}");
    assert_eq!(Signal::FileCard.name(), "file_card");
    // No chunk vectors yet: the card is the only dense evidence, and its weight turns it off.
    assert!(hits.iter().all(|h| h.signals.iter().all(|s| s.signal != Signal::Semantic)), "{hits:?}");
    let weights: sextant_semantic::HybridWeights = "file_card=0".parse().expect("weights");
    let off = sextant_semantic::search_weighted(&index, Some(&engine), query, &options, SearchMode::Hybrid, &weights)
        .expect("hybrid");
    assert!(off.iter().all(|h| h.signals.iter().all(|s| s.signal != Signal::FileCard)), "{off:?}");
}

/// With vectors, a one-shot hybrid or semantic query takes the dense hits' chunks from the store's records: the
/// same page as the loaded index, also when the vectors name a file the index no longer has.
#[test]
fn hybrid_search_with_vectors_from_the_store_equals_the_loaded_index() {
    let fixture = Fixture::new();
    let embedder = embedder();
    let index = fixture.index();
    let engine = fixture.card_engine(&embedder, true);
    engine.sync(&index, &NoSyncProgress).expect("sync");
    let queries = ["fetch the body of a web page from its url", "area of a circle", "save_record transaction"];
    let options = SearchOptions { limit: 10, ..SearchOptions::default() };
    let same = |index: &Index| {
        for query in queries {
            let loaded = search(index, Some(&engine), query, &options, SearchMode::Hybrid).expect("hybrid");
            assert_eq!(store_page(&fixture, Some(&engine), query, &options, &Default::default()), loaded, "{query}");
            let loaded = search(index, Some(&engine), query, &options, SearchMode::Semantic).expect("semantic");
            let stored = sextant_semantic::semantic_in_store(&fixture.index_dir, &engine, query, &options)
                .expect("semantic from the store")
                .expect("the store answers");
            assert_eq!((stored.answer, stored.generation), (loaded, index.generation()), "{query}");
        }
    };
    same(&index);
    let stored = store_page(&fixture, Some(&engine), queries[0], &options, &Default::default());
    assert_eq!(stored[0].path, "src/network.rs", "{stored:?}");
    let signals: Vec<Signal> = stored[0].signals.iter().map(|s| s.signal).collect();
    assert!(signals.contains(&Signal::Semantic) && signals.contains(&Signal::FileCard), "{signals:?}");
    assert!(stored[0].tokens > 0);

    // The file goes from the index; its vectors stay until the next sync, and neither path returns them.
    std::fs::remove_file(fixture.root.join("src/network.rs")).expect("remove");
    let index = fixture.index();
    same(&index);
    let stored = store_page(&fixture, Some(&engine), queries[0], &options, &Default::default());
    assert!(stored.iter().all(|h| h.path != "src/network.rs"), "{stored:?}");
}
