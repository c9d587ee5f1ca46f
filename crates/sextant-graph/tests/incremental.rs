//! An update links only what a change can affect ([`SymbolGraph::update_with_manifests`]); this checks that the
//! result is exactly what a full link of the same files gives, over random edit sequences.
//!
//! The repository is every fixture project side by side (Rust crates with manifests, Python packages, Go modules,
//! TypeScript workspaces, Java, Scala). An edit deletes a file, copies one to a new path, renames a name
//! throughout one file (its definitions and its uses change), appends a function that calls into the file,
//! prepends a function (every symbol index after it shifts), drops a manifest's dependencies or brings them back,
//! or restores a file. After each edit the incremental graph (built on the previous incremental one) must equal a
//! full build edge for edge, in the same order, with the same ranks.

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{fixture_dir, fixture_files, is_manifest, language_of, FIXTURES};
use proptest::prelude::*;
use sextant_graph::{GraphData, GraphInput, Manifest, PreviousLink, SymbolGraph};
use sextant_syntax::{analyze, ChunkLimits, FileFacts};

/// Path → text of every fixture file, each project under its own directory.
fn repository() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for case in FIXTURES {
        let base = fixture_dir(case);
        for rel in fixture_files(&base) {
            let text = std::fs::read_to_string(base.join(&rel)).unwrap();
            files.insert(format!("{case}/{rel}"), text);
        }
    }
    files
}

/// The analysed sources of a tree (manifests apart).
struct Analysed {
    paths: Vec<String>,
    facts: Vec<FileFacts>,
    manifests: Vec<(String, String)>,
}

fn analyse(tree: &BTreeMap<String, String>) -> Analysed {
    let (mut paths, mut facts, mut manifests) = (Vec::new(), Vec::new(), Vec::new());
    for (path, text) in tree {
        if is_manifest(path) {
            manifests.push((path.clone(), text.clone()));
        } else if let Some(language) = language_of(path) {
            paths.push(path.clone());
            facts.push(analyze(language, text, ChunkLimits::default()).unwrap());
        }
    }
    Analysed { paths, facts, manifests }
}

impl Analysed {
    fn inputs(&self) -> Vec<GraphInput<'_>> {
        self.paths.iter().zip(&self.facts).map(|(path, facts)| GraphInput { path, facts }).collect()
    }

    fn manifests(&self) -> Vec<Manifest<'_>> {
        self.manifests.iter().map(|(path, text)| Manifest { path, text }).collect()
    }
}

/// One random edit of the tree.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Copy(usize),
    Rename(usize, usize),
    AppendCaller(usize),
    PrependFunction(usize),
    ToggleDependency(usize),
    Restore(usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Copy),
        (any::<usize>(), any::<usize>()).prop_map(|(f, n)| Edit::Rename(f, n)),
        any::<usize>().prop_map(Edit::AppendCaller),
        any::<usize>().prop_map(Edit::PrependFunction),
        any::<usize>().prop_map(Edit::ToggleDependency),
        any::<usize>().prop_map(Edit::Restore),
    ]
}

/// A function in the file's language that calls `callee`, or `None` for languages where a top-level function
/// does not fit.
fn caller_snippet(path: &str, callee: &str, n: usize) -> Option<String> {
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "rs" => format!("\npub fn added_caller_{n}() {{\n    {callee}();\n}}\n"),
        "py" => format!("\n\ndef added_caller_{n}():\n    {callee}()\n"),
        "ts" | "js" => format!("\nexport function addedCaller{n}() {{\n  {callee}();\n}}\n"),
        "go" => format!("\nfunc AddedCaller{n}() {{\n\t{callee}()\n}}\n"),
        _ => return None,
    })
}

/// Applies an edit to the tree, returning the paths whose content changed (added, edited or removed).
fn apply(tree: &mut BTreeMap<String, String>, original: &BTreeMap<String, String>, edit: &Edit) -> Vec<String> {
    let sources: Vec<String> = tree.keys().filter(|p| !is_manifest(p) && language_of(p).is_some()).cloned().collect();
    if sources.is_empty() {
        return Vec::new();
    }
    let pick = |i: usize| sources[i % sources.len()].clone();
    match edit {
        Edit::Delete(i) => {
            let path = pick(*i);
            tree.remove(&path);
            vec![path]
        }
        Edit::Copy(i) => {
            let path = pick(*i);
            let (stem, ext) = path.rsplit_once('.').unwrap();
            let copy = format!("{stem}_copy{}.{ext}", i % 7);
            let text = tree[&path].clone();
            tree.insert(copy.clone(), text);
            vec![copy]
        }
        Edit::Rename(i, n) => {
            let path = pick(*i);
            let language = language_of(&path).unwrap();
            let facts = analyze(language, &tree[&path], ChunkLimits::default()).unwrap();
            let Some(symbol) = facts.symbols.get(n % facts.symbols.len().max(1)) else { return Vec::new() };
            let renamed = rename_word(&tree[&path], &symbol.name, &format!("{}_renamed", symbol.name));
            tree.insert(path.clone(), renamed);
            vec![path]
        }
        Edit::AppendCaller(i) => {
            let path = pick(*i);
            let language = language_of(&path).unwrap();
            let facts = analyze(language, &tree[&path], ChunkLimits::default()).unwrap();
            let callee = facts.symbols.iter().find(|s| s.kind.is_callable()).map_or("missing", |s| s.name.as_str());
            let Some(snippet) = caller_snippet(&path, callee, *i % 5) else { return Vec::new() };
            tree.get_mut(&path).unwrap().push_str(&snippet);
            vec![path]
        }
        Edit::PrependFunction(i) => {
            // A new first definition shifts the index of every symbol after it.
            let path = pick(*i);
            let Some(snippet) = caller_snippet(&path, "prepended_helper", *i % 5) else { return Vec::new() };
            let text = tree[&path].clone();
            let text = match path.ends_with(".go") {
                // The package clause stays first.
                true => match text.split_once('\n') {
                    Some((package, rest)) => format!("{package}\n{snippet}{rest}"),
                    None => return Vec::new(),
                },
                false => format!("{snippet}{text}"),
            };
            tree.insert(path.clone(), text);
            vec![path]
        }
        Edit::ToggleDependency(i) => {
            // A manifest gains or loses its dependencies: what its package may use changes.
            let manifests: Vec<String> = tree.keys().filter(|p| is_manifest(p)).cloned().collect();
            let path = manifests[i % manifests.len()].clone();
            let text = tree[&path].clone();
            let plugin = "plugin = { path = \"../plugin\" }\n";
            let toggled = match (path.ends_with(".toml"), text.contains("[dependencies]")) {
                // `app` may then use `plugin` (its `countdown` resolves), or no longer.
                (true, true) if text.contains(plugin) => text.replace(plugin, ""),
                (true, true) => text.replace("[dependencies]\n", &format!("[dependencies]\n{plugin}")),
                (true, false) => text,
                (false, _) if text.contains("\"dependencies\"") => text.replace("\"dependencies\"", "\"unused\""),
                (false, _) => text.replace("\"unused\"", "\"dependencies\""),
            };
            tree.insert(path.clone(), toggled);
            vec![path]
        }
        Edit::Restore(i) => {
            let paths: Vec<&String> = original.keys().collect();
            let path = paths[i % paths.len()].clone();
            tree.insert(path.clone(), original[&path].clone());
            vec![path]
        }
    }
}

/// Replaces whole-word occurrences of `from` with `to`.
fn rename_word(text: &str, from: &str, to: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The parts of the graph an update must reproduce exactly.
fn comparable(data: &GraphData) -> (Vec<String>, Vec<u32>, Vec<String>, Vec<u64>, u64) {
    let edges = data.edges.iter().map(|e| format!("{:?} {:?} {:?} {}", e.kind, e.from, e.to, e.weight)).collect();
    let ranks = data.symbol_rank.iter().chain(&data.file_rank).map(|r| format!("{r:.5}")).collect();
    (edges, data.symbol_offsets.clone(), ranks, data.scope_hashes.clone(), data.context_hash)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn incremental_link_equals_full_link(edits in proptest::collection::vec(edit_strategy(), 1..8)) {
        let original = repository();
        let mut tree = original.clone();
        let mut before = analyse(&tree);
        let mut graph = SymbolGraph::build_with_manifests(&before.inputs(), &before.manifests()).into_data();
        for edit in &edits {
            let changed_paths = apply(&mut tree, &original, edit);
            let after = analyse(&tree);
            let changed: HashSet<&str> = changed_paths.iter().map(String::as_str).collect();
            let old_inputs = before.inputs();
            let (updated, stats) = SymbolGraph::update_with_manifests(
                &after.inputs(),
                &after.manifests(),
                Some(PreviousLink { files: &old_inputs, data: &graph, changed: &changed }),
            );
            let full = SymbolGraph::build_with_manifests(&after.inputs(), &after.manifests());
            prop_assert_eq!(comparable(updated.data()), comparable(full.data()), "after {:?}", edit);
            // The same update with ranks carried over, then computed: the same graph.
            let (mut carried, _) = SymbolGraph::update_carrying_ranks(
                &after.inputs(),
                &after.manifests(),
                PreviousLink { files: &old_inputs, data: &graph, changed: &changed },
            );
            prop_assert_eq!(carried.symbol_rank.len(), full.data().symbol_rank.len());
            prop_assert_eq!(carried.file_rank.len(), full.data().file_rank.len());
            SymbolGraph::compute_ranks(&mut carried);
            prop_assert_eq!(comparable(&carried), comparable(full.data()), "ranked after {:?}", edit);
            prop_assert!(stats.files_relinked as usize <= after.paths.len());
            graph = updated.into_data();
            before = after;
        }
    }
}

/// Not a property that holds by linking everything every time: a small edit re-links the edited file and the few
/// that may refer to it.
#[test]
fn a_small_edit_relinks_a_subset() {
    let original = repository();
    let before = analyse(&original);
    let graph = SymbolGraph::build_with_manifests(&before.inputs(), &before.manifests()).into_data();
    let mut tree = original.clone();
    let path = "python_package_import/pkg/mod.py";
    assert!(tree.contains_key(path), "fixture moved: {path}");
    tree.get_mut(path).unwrap().push_str("\n\ndef added_caller():\n    return scale(1)\n");
    let after = analyse(&tree);
    let changed: HashSet<&str> = HashSet::from([path]);
    let old_inputs = before.inputs();
    let (updated, stats) = SymbolGraph::update_with_manifests(
        &after.inputs(),
        &after.manifests(),
        Some(PreviousLink { files: &old_inputs, data: &graph, changed: &changed }),
    );
    assert!(!stats.full, "a one-file edit should not re-link everything");
    assert!(stats.files_relinked >= 1 && (stats.files_relinked as usize) < after.paths.len() / 2, "{stats:?}");
    let full = SymbolGraph::build_with_manifests(&after.inputs(), &after.manifests());
    assert_eq!(comparable(updated.data()), comparable(full.data()));

    // Carried ranks: every file but the edited one keeps its symbols' previous ranks exactly; the edited file's
    // old symbols keep theirs by name and the new one starts at the average.
    let (carried, _) = SymbolGraph::update_carrying_ranks(
        &after.inputs(),
        &after.manifests(),
        PreviousLink { files: &old_inputs, data: &graph, changed: &changed },
    );
    let edited = after.paths.iter().position(|p| p == path).unwrap();
    let (start, end) = (carried.symbol_offsets[edited] as usize, carried.symbol_offsets[edited + 1] as usize);
    assert_eq!(carried.symbol_rank[..start], graph.symbol_rank[..start]);
    assert_eq!(carried.symbol_rank[end..], graph.symbol_rank[end - 1..]);
    assert_eq!(carried.symbol_rank[start..end - 1], graph.symbol_rank[start..end - 1]);
    assert_eq!(carried.symbol_rank[end - 1], 1.0, "the added function starts at the average");
    assert_eq!(carried.file_rank, graph.file_rank);

    // The next update starts from the previous update's import results: only the edited file's imports (now of
    // the other package's `scale`) are resolved again, and the result is still a full link's.
    let mut again = tree.clone();
    let app = "python_package_import/app.py";
    let text = again.get_mut(app).expect("fixture moved");
    *text = text.replace("from pkg.mod import scale", "from other.mod import scale");
    let latest = analyse(&again);
    let updated = updated.into_data();
    let (second, stats) = SymbolGraph::update_with_manifests(
        &latest.inputs(),
        &latest.manifests(),
        Some(PreviousLink { files: &after.inputs(), data: &updated, changed: &HashSet::from([app]) }),
    );
    assert_eq!(stats.imports_reused as usize, latest.paths.len() - 1, "{stats:?}");
    let full = SymbolGraph::build_with_manifests(&latest.inputs(), &latest.manifests());
    assert_eq!(comparable(second.data()), comparable(full.data()));
}

/// The exact-ranks pass can be abandoned (a newer run is due): it then leaves the data as it was; run to the end
/// it gives a full link's ranks.
#[test]
fn computing_ranks_gives_up_when_told_and_leaves_the_data_as_it_was() {
    let tree = repository();
    let analysed = analyse(&tree);
    let full = SymbolGraph::build_with_manifests(&analysed.inputs(), &analysed.manifests()).into_data();
    let mut data = full.clone();
    data.symbol_rank.iter_mut().for_each(|r| *r = 7.0);
    let before = data.clone();
    let asked = std::cell::Cell::new(0);
    let stop_after_first_iteration = || {
        asked.set(asked.get() + 1);
        asked.get() > 1
    };
    assert!(!SymbolGraph::compute_ranks_unless(&mut data, &stop_after_first_iteration));
    assert!(data == before, "an abandoned pass changes nothing");
    assert!(SymbolGraph::compute_ranks_unless(&mut data, &|| false));
    assert_eq!(comparable(&data), comparable(&full));
}
