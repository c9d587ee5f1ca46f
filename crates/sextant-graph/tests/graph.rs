//! Fixture tests for linking: every `tests/fixtures/<case>/` is a tiny multi-file project. Each source file in it is
//! analysed with `sextant_syntax`, the files are linked with [`SymbolGraph::build_with_manifests`] (package
//! manifests such as `Cargo.toml` in the fixture are passed along), and the use edges (imports, calls, references)
//! are rendered one per line, sorted, and compared with `expected.txt` beside the sources.
//!
//! Set `UPDATE_EXPECT=1` to rewrite the expected files after a reviewed change, then read the diff: an expected
//! file states what the code means, not what the heuristics happen to produce. Where the heuristics are known to be
//! wrong, the expected file holds the right edges by hand, the test is `#[ignore]`d with the reason, and
//! `UPDATE_EXPECT` leaves that file alone (run such a test with `--ignored` to see how far off it still is).
//!
//! Edge format: `<kind> <from> -> <to>`, with ` (weight)` appended when the link was split between candidates.
//! A file is its path, a symbol is `path::qualified_name`. `contains` and `defines` edges follow from the
//! extracted symbols alone and are left out.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{fixture_dir, fixture_files, is_manifest, language_of, EXPECTED, FIXTURES};
use sextant_graph::{EdgeKind, GraphInput, Manifest, Node, SymbolGraph};
use sextant_syntax::{analyze, ChunkLimits, FileFacts};

/// Parses and links a fixture; returns the graph, the source paths (file `i` of the graph is `paths[i]`) and their
/// facts.
fn build(case: &str) -> (SymbolGraph, Vec<String>, Vec<FileFacts>) {
    let base = fixture_dir(case);
    let (manifest_paths, paths): (Vec<String>, Vec<String>) =
        fixture_files(&base).into_iter().partition(|p| is_manifest(p));
    let manifest_texts: Vec<String> =
        manifest_paths.iter().map(|p| std::fs::read_to_string(base.join(p)).unwrap()).collect();
    let manifests: Vec<Manifest<'_>> =
        manifest_paths.iter().zip(&manifest_texts).map(|(path, text)| Manifest { path, text }).collect();
    let facts: Vec<FileFacts> = paths
        .iter()
        .map(|path| {
            let language = language_of(path).unwrap_or_else(|| panic!("{case}: no language for {path}"));
            let text = std::fs::read_to_string(base.join(path)).unwrap();
            let facts = analyze(language, &text, ChunkLimits::default()).unwrap();
            assert!(!facts.has_errors, "{case}: {path} should parse cleanly");
            facts
        })
        .collect();
    let inputs: Vec<GraphInput<'_>> =
        paths.iter().zip(&facts).map(|(path, facts)| GraphInput { path, facts }).collect();
    let graph = SymbolGraph::build_with_manifests(&inputs, &manifests);
    (graph, paths, facts)
}

/// Parses and links a fixture; returns its use edges rendered and sorted, one per line.
fn link(case: &str) -> String {
    let (graph, paths, facts) = build(case);
    let node = |n: Node| match n {
        Node::File(f) => paths[f as usize].clone(),
        Node::Symbol(s) => {
            format!("{}::{}", paths[s.file as usize], facts[s.file as usize].symbols[s.symbol as usize].qualified_name)
        }
        Node::Module(m) => format!("{}/", graph.data().modules[m as usize]),
    };
    let lines: BTreeSet<String> = graph
        .data()
        .edges
        .iter()
        .filter(|e| matches!(e.kind, EdgeKind::Imports | EdgeKind::Calls | EdgeKind::References))
        .map(|e| {
            let weight = if e.weight < 1.0 { format!(" ({:.2})", e.weight) } else { String::new() };
            format!("{:<10} {} -> {}{weight}", e.kind.as_str(), node(e.from), node(e.to))
        })
        .collect();
    lines.into_iter().map(|l| l + "\n").collect()
}

/// Whether the expected file may be rewritten: only for fixtures the heuristics get right.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// The heuristics agree with the code's meaning; `UPDATE_EXPECT=1` may rewrite `expected.txt`.
    Snapshot,
    /// `expected.txt` is written by hand and the test is ignored until the bug is fixed.
    #[allow(dead_code)] // no known bug is recorded at the moment
    KnownBug,
}

/// Links a fixture and compares with `expected.txt`; returns the rendered edges for hand-written checks.
fn check(case: &str, expect: Expect) -> String {
    let rendered = link(case);
    let expected_path = fixture_dir(case).join(EXPECTED);
    if expect == Expect::Snapshot && std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &rendered).unwrap();
        return rendered;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if rendered != expected {
        let (want, got): (BTreeSet<&str>, BTreeSet<&str>) = (expected.lines().collect(), rendered.lines().collect());
        let list = |lines: Vec<&str>| if lines.is_empty() { "(none)".to_string() } else { lines.join("\n  ") };
        let missing = list(want.difference(&got).copied().collect());
        let extra = list(got.difference(&want).copied().collect());
        let hint = if expect == Expect::Snapshot { "rerun with UPDATE_EXPECT=1 after review\n" } else { "" };
        panic!(
            "{case}: edges differ from {}\nmissing (expected, not produced):\n  {missing}\nunexpected (produced, not \
             expected):\n  {extra}\nfull output:\n{rendered}{hint}",
            expected_path.display(),
        );
    }
    rendered
}

/// Hand-stated facts, checked even while updating, so a wrong snapshot cannot be blessed silently. Edges are written
/// as in `expected.txt` (spacing aside); one without a weight is a certain link (weight 1).
fn assert_edges(case: &str, rendered: &str, present: &[&str], absent: &[&str]) {
    let has = |edge: &str| rendered.lines().any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == edge);
    for edge in present {
        assert!(has(edge), "{case}: expected edge `{edge}` in\n{rendered}");
    }
    for edge in absent {
        assert!(!has(edge), "{case}: unexpected edge `{edge}` in\n{rendered}");
    }
}

#[test]
fn fixtures_are_all_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    found.sort();
    assert_eq!(found, FIXTURES, "each fixture directory needs an entry in FIXTURES and a test below");
    for case in FIXTURES {
        assert!(fixture_dir(case).join(EXPECTED).is_file(), "{case}: no {EXPECTED}");
    }
}

/// Python calls through a receiver: `headers.get()` is not the module-level `get`, a module alias (`_t.has_read()`)
/// is; a bare `url_for()` is the function, not the method of that name; a class local to a function is not what
/// `page.render()` elsewhere calls.
#[test]
fn python_receiver_calls() {
    let r = check("python_receiver_calls", Expect::Snapshot);
    assert_edges(
        "python_receiver_calls",
        &r,
        &[
            "calls pkg/models.py::fetch -> pkg/_types.py::has_read",
            "calls pkg/models.py::load -> pkg/api.py::get",
            "calls pkg/models.py::fetch -> pkg/models.py::url_for",
        ],
        &[
            "calls pkg/models.py::fetch -> pkg/api.py::get",
            "calls pkg/models.py::fetch -> pkg/models.py::Flask.url_for",
            "calls pkg/views.py::show -> pkg/models.py::make.Local.render",
            // `import web` then `web.href()`: the module's function, never a method of a class it imports.
            "calls pkg/client.py::link -> web/app.py::Router.href",
        ],
    );
    assert_edges(
        "python_receiver_calls",
        &r,
        &[
            "calls pkg/client.py::link -> web/helpers.py::href",
            // An imported value (`current_router`) is an object, not a module: its class's methods stay candidates.
            "calls pkg/client.py::link_through_router -> web/app.py::Router.href (0.50)",
        ],
        &[],
    );
}

/// A file's graph partners are the files on either end of its use edges: `main.rs` imports and calls into
/// `util.rs`, so each is the other's partner, and the binary that calls only its own `helper` is neither's.
#[test]
fn linked_files_are_the_other_ends_of_use_edges_both_ways() {
    let (graph, paths, _) = build("rust_use_call");
    let id = |path: &str| paths.iter().position(|p| p == path).unwrap_or_else(|| panic!("no {path}")) as u32;
    let linked = |path: &str| -> Vec<(String, f32)> {
        graph.linked_files(id(path)).into_iter().map(|(f, share)| (paths[f as usize].clone(), share)).collect()
    };
    let from_main = linked("src/main.rs");
    assert_eq!(from_main.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["src/util.rs"]);
    assert!((from_main[0].1 - 1.0).abs() < 1e-6, "one partner holds every link: {from_main:?}");
    assert_eq!(linked("src/util.rs").iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["src/main.rs"]);
    assert!(linked("src/bin/tool.rs").is_empty(), "{:?}", linked("src/bin/tool.rs"));
    assert!(graph.linked_files(paths.len() as u32 + 5).is_empty());
}

#[test]
fn rust_use_call() {
    let r = check("rust_use_call", Expect::Snapshot);
    assert_edges(
        "rust_use_call",
        &r,
        &[
            "imports src/main.rs -> src/util.rs",
            "calls src/main.rs::main -> src/util.rs::helper",
            "calls src/bin/tool.rs::main -> src/bin/tool.rs::helper",
        ],
        &["calls src/main.rs::main -> src/bin/tool.rs::helper"],
    );
}

/// `mod other;` declares a module; only `use crate::util::helper` brings a `helper` into scope.
#[test]
fn rust_use_call_sibling() {
    let r = check("rust_use_call_sibling", Expect::Snapshot);
    assert_edges(
        "rust_use_call_sibling",
        &r,
        &["imports src/main.rs -> src/other.rs", "calls src/main.rs::main -> src/util.rs::helper"],
        &["calls src/main.rs::main -> src/other.rs::helper (0.50)", "calls src/main.rs::main -> src/other.rs::helper"],
    );
}

#[test]
fn rust_same_name_methods() {
    let r = check("rust_same_name_methods", Expect::Snapshot);
    assert_edges(
        "rust_same_name_methods",
        &r,
        &[
            "calls src/main.rs::by_path -> src/parser.rs::Parser::parse",
            "calls src/main.rs::by_path -> src/lexer.rs::Lexer::parse",
        ],
        &[],
    );
}

/// A parameter's declared type (`p: &Parser`) picks the method.
#[test]
fn rust_same_name_receiver() {
    let r = check("rust_same_name_receiver", Expect::Snapshot);
    assert_edges(
        "rust_same_name_receiver",
        &r,
        &[
            "calls src/main.rs::words -> src/parser.rs::Parser::parse",
            "calls src/main.rs::letters -> src/lexer.rs::Lexer::parse",
        ],
        &[
            "calls src/main.rs::words -> src/lexer.rs::Lexer::parse",
            "calls src/main.rs::letters -> src/parser.rs::Parser::parse",
        ],
    );
}

/// `len`/`is_empty`/`new` on a `Vec` are the standard library's; `self.len()` and `q.is_empty()` (with `Queue` in
/// view) are the user type's.
#[test]
fn rust_vec_len() {
    let r = check("rust_vec_len", Expect::Snapshot);
    assert_edges(
        "rust_vec_len",
        &r,
        &[
            "calls src/queue.rs::Queue::is_empty -> src/queue.rs::Queue::len",
            "calls src/main.rs::main -> src/queue.rs::Queue::is_empty",
        ],
        &[
            "calls src/stats.rs::count -> src/queue.rs::Queue::len",
            "calls src/stats.rs::count -> src/queue.rs::Queue::is_empty",
            "calls src/stats.rs::none -> src/queue.rs::Queue::new",
            "calls src/main.rs::main -> src/queue.rs::Queue::len",
        ],
    );
}

/// `pub use circle::area` is followed; another binary's `area` is another crate.
#[test]
fn rust_reexport() {
    let r = check("rust_reexport", Expect::Snapshot);
    assert_edges(
        "rust_reexport",
        &r,
        &["calls src/main.rs::main -> src/shapes/circle.rs::area"],
        &[
            "calls src/main.rs::main -> src/bin/plot.rs::area (0.50)",
            "calls src/main.rs::main -> src/bin/plot.rs::area",
        ],
    );
}

/// Declared Cargo dependencies decide which crates' definitions a crate's references may resolve to.
#[test]
fn rust_cargo_deps() {
    let r = check("rust_cargo_deps", Expect::Snapshot);
    let (app, core, plugin) = ("crates/app/src/main.rs", "crates/core-lib/src/lib.rs", "crates/plugin/src/lib.rs");
    assert_edges(
        "rust_cargo_deps",
        &r,
        &[
            &format!("imports {app} -> {core}"),
            &format!("calls {app}::main -> {core}::Engine::ignite"),
            &format!("calls {app}::main -> {core}::make_engine"),
            &format!("calls {app}::main -> {core}::helper"),
            &format!("calls crates/core-lib/tests/smoke.rs::smoke -> {core}::helper"),
        ],
        &[
            &format!("calls {app}::main -> {plugin}::Rocket::ignite"),
            &format!("calls {app}::main -> {plugin}::Rocket::countdown"),
            &format!("calls {app}::main -> {plugin}::make_engine"),
        ],
    );
}

#[test]
fn python_package_import() {
    let r = check("python_package_import", Expect::Snapshot);
    assert_edges(
        "python_package_import",
        &r,
        &["imports app.py -> pkg/mod.py", "calls app.py::main -> pkg/mod.py::scale"],
        &["imports app.py -> other/mod.py", "calls app.py::main -> other/mod.py::scale"],
    );
}

/// An npm workspace: `@acme/ui` resolves to its package, and `@acme/legacy` (not a dependency) is out of reach.
#[test]
fn ts_workspace_package() {
    let r = check("ts_workspace_package", Expect::Snapshot);
    let (app, ui, legacy) = ("packages/app/src/main.ts", "packages/ui/src/index.ts", "packages/legacy/src/index.ts");
    assert_edges(
        "ts_workspace_package",
        &r,
        &[
            &format!("imports {app} -> {ui}"),
            &format!("calls {app}::main -> {ui}::render"),
            &format!("calls {app}::main -> {ui}::Widget.paint"),
        ],
        &[
            &format!("calls {app}::main -> {legacy}::render"),
            &format!("calls {app}::main -> {legacy}::OldWidget.paint"),
        ],
    );
}

/// A package imported by name resolves to its `src/` (not the root `index.js` shim into a build), whose barrel
/// `export * from` / `export { … } from` statements lead to the defining files; a method call on a parameter is not
/// the same-named function of a test file nobody imports.
#[test]
fn ts_barrel_reexport() {
    let r = check("ts_barrel_reexport", Expect::Snapshot);
    let (parse, shared) = ("packages/core/src/parse.ts", "packages/shared/src");
    assert_edges(
        "ts_barrel_reexport",
        &r,
        &[
            &format!("imports {parse} -> {shared}/index.ts"),
            &format!("imports {shared}/index.ts -> {shared}/general.ts"),
            &format!("calls {parse}::parse -> {shared}/general.ts::isString"),
            &format!("calls {parse}::parse -> {shared}/ids.ts::makeId"),
            // An imported value reads as its file's namespace: `nodeOps.createElement()` is the function there.
            &format!("calls {parse}::parse -> {shared}/nodeOps.ts::createElement"),
        ],
        &[
            &format!("imports {parse} -> packages/shared/index.js"),
            &format!("calls {parse}::parse -> packages/core/__tests__/parse.spec.ts::onError"),
            &format!("calls {parse}::parse -> packages/core/src/renderer.ts::RendererOptions.createElement"),
        ],
    );
}

#[test]
fn ts_relative_import() {
    let r = check("ts_relative_import", Expect::Snapshot);
    assert_edges(
        "ts_relative_import",
        &r,
        &["imports src/app.ts -> src/util.ts", "calls src/app.ts::main -> src/util.ts::scale"],
        &["imports src/app.ts -> src/legacy/util.ts", "calls src/app.ts::main -> src/legacy/util.ts::scale"],
    );
}

/// A Go import names a package directory; `mathx.Add` is that package's.
#[test]
fn go_package_call() {
    let r = check("go_package_call", Expect::Snapshot);
    assert_edges(
        "go_package_call",
        &r,
        &["imports main.go -> mathx/add.go", "calls main.go::main -> mathx/add.go::Add"],
        &["calls main.go::main -> strx/add.go::Add (0.50)", "calls main.go::main -> strx/add.go::Add"],
    );
}

/// `go.mod` maps the module path to its directory; `fmt` is the standard library.
#[test]
fn go_module_import() {
    let r = check("go_module_import", Expect::Snapshot);
    assert_edges(
        "go_module_import",
        &r,
        &["imports main.go -> pkg/mathx/add.go", "calls main.go::main -> pkg/mathx/add.go::Add"],
        &[
            "imports main.go -> legacy/pkg/mathx/add.go",
            "calls main.go::main -> legacy/pkg/mathx/add.go::Add (0.50)",
            "calls main.go::main -> legacy/pkg/mathx/add.go::Println",
        ],
    );
}

#[test]
fn scala_object_call() {
    let r = check("scala_object_call", Expect::Snapshot);
    let fetcher = "core/src/main/scala/kafka/server/ReplicaFetcherThread.scala";
    let utils = "core/src/main/scala/kafka/utils/CoreUtils.scala";
    let helpers = "core/src/main/scala/kafka/tools/Helpers.scala";
    assert_edges(
        "scala_object_call",
        &r,
        &[
            &format!("imports {fetcher} -> {utils}"),
            &format!("calls {fetcher}::ReplicaFetcherThread.truncate -> {utils}::CoreUtils.swallow"),
            &format!("calls {fetcher}::ReplicaFetcherThread.truncate -> {fetcher}::PartitionStates.truncateTo"),
            &format!("calls {fetcher}::ReplicaFetcherThread.partitions -> {fetcher}::PartitionStates"),
        ],
        &[&format!("calls {fetcher}::ReplicaFetcherThread.truncate -> {helpers}::Helpers.swallow")],
    );
}

#[test]
fn java_class_method() {
    let r = check("java_class_method", Expect::Snapshot);
    let app = "src/main/java/com/example/App.java";
    let greeter = "src/main/java/com/example/util/Greeter.java";
    assert_edges(
        "java_class_method",
        &r,
        &[
            &format!("imports {app} -> {greeter}"),
            &format!("calls {app}::App.main -> {greeter}::Greeter.greet"),
            &format!("calls {app}::App.main -> {greeter}::Greeter.shout"),
        ],
        &[&format!("calls {app}::App.main -> src/main/java/com/example/Robot.java::Robot.greet")],
    );
}
