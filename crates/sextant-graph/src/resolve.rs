//! Name resolution without a compiler: imports to files, references to definitions.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
// Linking hashes millions of short keys (names, paths, node pairs) per run: foldhash, seeded per process like the
// standard hasher (names come from repositories people did not write) and several times faster on short keys.
use foldhash::{HashMap, HashSet};

use rayon::prelude::*;

use sextant_syntax::{FileFacts, RefKind, Reference, Symbol, SymbolKind};

use crate::manifest::{Ecosystem, Packages};
use crate::receiver::{is_common_method, param_type, type_head, ParamStyle};
use crate::rust::{expand_use, RustModel, UseTarget};
use crate::{Edge, EdgeKind, GraphData, GraphInput, Node, PreviousLink, SymbolId};

/// Candidates beyond this many for one name are too ambiguous to link at all (`new`, `get`, `run`).
const MAX_CANDIDATES: usize = 8;

/// Extensions tried when an import names a file without one.
const SOURCE_EXTENSIONS: &[&str] = &[
    "", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".py", ".rs", ".go", ".rb", ".php", ".h", ".hpp", ".c", ".cc", ".cpp",
    ".java", ".cs", ".sh",
];
/// File stems that stand for their directory (`pkg/__init__.py`, `lib/index.ts`, `src/mod.rs`).
const DIRECTORY_FILES: &[&str] = &["__init__", "index", "mod", "lib", "main"];

/// How much of the graph a link resolved again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    /// Files whose references were resolved again (all of them in a full link).
    pub files_relinked: u64,
    /// Whether every file was linked from scratch.
    pub full: bool,
    /// Files whose imports were not resolved again: the previous update in this process resolved them, and
    /// nothing they depend on changed.
    pub imports_reused: u64,
}

/// An update re-links everything once more than this share of the files is dirty: the bookkeeping would cost more
/// than it saves.
const FULL_LINK_SHARE: f64 = 0.33;

pub(crate) fn resolve(
    files: &[GraphInput<'_>],
    packages: &Packages,
    previous: Option<PreviousLink<'_>>,
) -> (GraphData, LinkStats) {
    let mut data = GraphData::default();
    let mut offset = 0u32;
    for f in files {
        data.symbol_offsets.push(offset);
        offset += f.facts.symbols.len() as u32;
    }
    data.symbol_offsets.push(offset);

    let mut containment_edges = Vec::new();
    let roots = |ecosystem: Ecosystem| -> Vec<(String, String)> {
        packages
            .import_roots()
            .filter(|(_, _, e)| *e == ecosystem)
            .map(|(n, d, _)| (n.to_string(), d.to_string()))
            .collect()
    };
    let (crates, npm) = (roots(Ecosystem::Cargo), roots(Ecosystem::Npm));
    let paths = PathIndex::new(files, &crates, &npm);
    containment(files, &mut data, &mut containment_edges);

    let rust = RustModel::new(files, packages);
    let go = GoPackages::new(files, packages);
    let memo_key = memo_key(files, packages);
    // The previous update's import results hold for every file whose facts did not change, as long as the paths,
    // the packages, and the Rust and Go models (read from those languages' files) are the same.
    let memo = previous.as_ref().and_then(|previous| {
        let memo = previous.data.link_memo.0.as_deref()?;
        let models_kept = files
            .iter()
            .all(|f| !matches!(f.facts.language.name(), "rust" | "go") || !previous.changed.contains(f.path));
        (memo.key == memo_key && memo.direct.len() == files.len() && models_kept).then_some(memo)
    });
    let changed_files: Vec<bool> = match &previous {
        Some(previous) => files.iter().map(|f| previous.changed.contains(f.path)).collect(),
        None => vec![true; files.len()],
    };
    let (direct, import_edges) = imports(files, &paths, &rust, &go, memo.map(|memo| (memo, changed_files.as_slice())));
    let scopes = follow_reexports(files, &direct);
    let file_package: Vec<Option<usize>> = files
        .iter()
        .map(|f| Ecosystem::of_language(f.facts.language.name()).and_then(|e| packages.package_of(f.path, e)))
        .collect();
    let path_hashes: Vec<u64> = files.iter().map(|f| xxhash_rust::xxh3::xxh3_64(f.path.as_bytes())).collect();
    data.scope_hashes = (0..files.len())
        .into_par_iter()
        .map(|f| match memo {
            Some(memo) if Arc::ptr_eq(&scopes[f], &memo.scopes[f]) => memo.scope_hashes[f],
            _ => scope_hash(&path_hashes, &scopes[f]),
        })
        .collect();
    // Which package a file is in and what that package may use: a dependency added to one manifest re-links that
    // package's files (and what refers to their definitions) only.
    data.package_hashes = file_package.iter().map(|p| packages.visibility_fingerprint(*p)).collect();
    data.context_hash = rust.fingerprint(files);

    let user_types = user_types(files);

    let mut rust_modules: HashMap<&str, Vec<u32>> = HashMap::default();
    for (f, file) in files.iter().enumerate() {
        if file.facts.language.name() == "rust" {
            rust_modules.entry(rust_module_name(file.path)).or_default().push(f as u32);
        }
    }
    let plan = previous.as_ref().and_then(|previous| plan_update(files, &data, &scopes, &user_types, previous));
    // An update looks up only the names its dirty files resolve: the definitions of those, not of every name.
    let definitions = match &plan {
        Some(plan) => {
            let mut wanted: HashSet<&str> = HashSet::default();
            for (f, dirty) in plan.dirty.iter().enumerate() {
                match dirty {
                    Dirty::Clean => {}
                    Dirty::Names(names) => wanted.extend(names.iter().copied()),
                    Dirty::Whole => wanted.extend(files[f].facts.references.iter().map(|r| r.name.as_str())),
                }
            }
            definitions_named(files, Some(&NameFilter::new(wanted)))
        }
        None => definitions_named(files, None),
    };
    let linker =
        Linker { files, rust: &rust, packages, file_package: &file_package, scopes: &scopes, user_types, rust_modules };
    let every_definition = std::sync::OnceLock::new();
    // Per file: borrowed when kept as the previous link stored them, owned when linked (in part or whole) again.
    let reference_edges: Vec<Cow<'_, [Edge]>> = (0..files.len() as u32)
        .into_par_iter()
        .map(|f| {
            if let Some(plan) = plan.as_ref().filter(|plan| matches!(plan.dirty[f as usize], Dirty::Clean)) {
                if let Some(kept) = plan.kept_verbatim(f) {
                    return Cow::Borrowed(kept);
                }
            }
            let reused = plan.as_ref().and_then(|plan| match &plan.dirty[f as usize] {
                Dirty::Clean => plan.reuse(f, None),
                Dirty::Names(names) => {
                    let mut edges = plan.reuse(f, Some(names))?;
                    edges.extend(linker.link_file(f, &definitions, Some(names)));
                    Some(edges)
                }
                Dirty::Whole => None,
            });
            let mut edges = reused.unwrap_or_else(|| {
                // A file linked whole that the plan did not mark so (its old edges reach a definition that is
                // gone): the update's map may lack its names.
                let whole = plan.as_ref().is_none_or(|plan| matches!(plan.dirty[f as usize], Dirty::Whole));
                let definitions = match whole {
                    true => &definitions,
                    false => every_definition.get_or_init(|| definitions_named(files, None)),
                };
                linker.link_file(f, definitions, None)
            });
            // One order whichever way the edges came (kept, re-resolved, or both).
            edges.sort_unstable_by_key(|e| (e.from, e.to, e.kind));
            Cow::Owned(edges)
        })
        .collect();
    let files_relinked = match &plan {
        Some(plan) => plan.dirty.iter().filter(|d| !matches!(d, Dirty::Clean)).count() as u64,
        None => files.len() as u64,
    };

    // One allocation for all edges: a million on kafka, copied once.
    let total = containment_edges.len()
        + import_edges.iter().map(|list| list.len()).sum::<usize>()
        + reference_edges.iter().map(|list| list.len()).sum::<usize>();
    data.edges = Vec::with_capacity(total);
    data.edges.append(&mut containment_edges);
    // Slice by slice: a flattening iterator over a million edges costs several times the copy.
    for list in &import_edges {
        data.edges.extend_from_slice(list);
    }
    for list in &reference_edges {
        data.edges.extend_from_slice(list);
    }
    drop(reference_edges);
    // Kept for the next update only: a one-shot full index does not pay the memory for it.
    if previous.is_some() {
        let scope_hashes = data.scope_hashes.clone();
        let memo = LinkMemo { key: memo_key, direct, scopes, scope_hashes, import_edges };
        data.link_memo = crate::LinkMemoSlot(Some(Arc::new(memo)));
    }
    let imports_reused = memo.map_or(0, |_| changed_files.iter().filter(|changed| !**changed).count() as u64);
    (data, LinkStats { files_relinked, full: plan.is_none(), imports_reused })
}

/// Type names defined in the repository → whether one of them is a trait or interface.
fn user_types<'a>(files: &'a [GraphInput<'a>]) -> HashMap<&'a str, bool> {
    let mut user_types: HashMap<&str, bool> = HashMap::default();
    for file in files {
        for symbol in &file.facts.symbols {
            if symbol.kind.is_type_like() {
                *user_types.entry(symbol.name.as_str()).or_default() |=
                    matches!(symbol.kind, SymbolKind::Trait | SymbolKind::Interface);
            }
        }
    }
    user_types
}

/// Definitions by name, in ascending id order per name: of every name, or of the names `wanted` holds.
fn definitions_named<'a>(
    files: &'a [GraphInput<'a>],
    wanted: Option<&NameFilter<'_>>,
) -> HashMap<&'a str, Vec<Candidate<'a>>> {
    let mut definitions: HashMap<&str, Vec<Candidate<'a>>> = HashMap::default();
    for (f, file) in files.iter().enumerate() {
        let (dir, stem) = (parent_dir(file.path), file_stem(file.path));
        let family = family(file.facts.language.name());
        for (s, symbol) in file.facts.symbols.iter().enumerate() {
            if wanted.is_none_or(|wanted| wanted.contains(&symbol.name)) {
                let candidate = Candidate::new(file, SymbolId { file: f as u32, symbol: s as u32 }, family, dir, stem);
                definitions.entry(symbol.name.as_str()).or_default().push(candidate);
            }
        }
    }
    definitions
}

/// A definition that references of its name may resolve to, with what the scorer reads of it worked out once per
/// link: a common name (`add`, `close`) has hundreds of definitions in a large repository, each scored for every
/// reference to it.
#[derive(Clone, Copy)]
struct Candidate<'a> {
    id: SymbolId,
    symbol: &'a Symbol,
    /// The type it is a member of ([`owner_type`]).
    owner: Option<&'a str>,
    /// Its modifiers say `private` (read only in languages that have the modifier).
    private_modifier: bool,
    /// A callable encloses it: a local item, seen only inside that callable.
    local: bool,
    /// Its file's language family, directory and stem.
    family: &'static str,
    dir: &'a str,
    stem: &'a str,
    /// The name of its parent symbol, and the last segment of its qualified name's head (`Queue` of
    /// `crate::Queue::len`).
    parent_name: Option<&'a str>,
    qualified_by: Option<&'a str>,
}

impl<'a> Candidate<'a> {
    fn new(file: &'a GraphInput<'a>, id: SymbolId, family: &'static str, dir: &'a str, stem: &'a str) -> Self {
        let symbols = &file.facts.symbols;
        let symbol = &symbols[id.symbol as usize];
        // (Bounded by the symbol count, so a malformed parent chain cannot loop.)
        let mut local = false;
        let mut ancestor = symbol.parent;
        for _ in 0..symbols.len() {
            let Some(parent_symbol) = ancestor.and_then(|p| symbols.get(p as usize)) else { break };
            if parent_symbol.kind.is_callable() {
                local = true;
                break;
            }
            ancestor = parent_symbol.parent;
        }
        Candidate {
            id,
            symbol,
            owner: owner_type(file.facts, symbol),
            private_modifier: has_private_modifier(&symbol.signature),
            local,
            family,
            dir,
            stem,
            parent_name: symbol.parent.and_then(|p| symbols.get(p as usize)).map(|p| p.name.as_str()),
            qualified_by: symbol
                .qualified_name
                .rsplit_once(['.', ':', '\\'])
                .and_then(|(head, _)| head.rsplit([':', '.', '\\']).next()),
        }
    }
}

/// A set of names that answers "no" for most strings without hashing them: an update asks it of every reference
/// (a million on a large repository) and of every definition, while it holds a handful of names.
struct NameFilter<'a> {
    names: HashSet<&'a str>,
    /// Bit `len % 64` set for each name's length.
    lengths: u64,
    /// Bit `b` set for each name's first byte `b`.
    first_bytes: [u64; 4],
}

impl<'a> NameFilter<'a> {
    fn new(names: HashSet<&'a str>) -> NameFilter<'a> {
        let (mut lengths, mut first_bytes) = (0u64, [0u64; 4]);
        for name in &names {
            lengths |= 1 << (name.len() % 64);
            let first = name.as_bytes().first().copied().unwrap_or(0) as usize;
            first_bytes[first / 64] |= 1 << (first % 64);
        }
        NameFilter { names, lengths, first_bytes }
    }

    fn contains(&self, name: &str) -> bool {
        let first = name.as_bytes().first().copied().unwrap_or(0) as usize;
        self.lengths & (1 << (name.len() % 64)) != 0
            && self.first_bytes[first / 64] & (1 << (first % 64)) != 0
            && self.names.contains(name)
    }
}

/// What of a file an update resolves again.
enum Dirty<'a> {
    /// Nothing: its old edges stand, renumbered.
    Clean,
    /// Only the references of these names; the edges to definitions of other names stand.
    Names(HashSet<&'a str>),
    /// Every reference.
    Whole,
}

/// Which files of an update must be resolved again, and where the others' old edges are.
struct UpdatePlan<'a> {
    dirty: Vec<Dirty<'a>>,
    /// The previous link's inputs (for the names of old edge targets).
    old_files: &'a [GraphInput<'a>],
    /// New file index → old file index, for files that kept their path.
    old_of_new: Vec<Option<u32>>,
    /// Old file index → new file index.
    new_of_old: Vec<Option<u32>>,
    /// For changed files present before and after: old symbol index → new symbol index (`None`: gone).
    symbol_maps: HashMap<u32, Vec<Option<u32>>>,
    /// Old file index → its `calls`/`references` edges, in stored order.
    old_edges: OldUses<'a>,
    /// Old file index → whether the file and its symbols keep their numbers.
    unmoved: Vec<bool>,
}

/// Where each old file's `calls`/`references` edges are.
enum OldUses<'a> {
    /// Runs of the old edge list (`start..end` per file): the canonical order the store keeps groups each file's use
    /// edges together, so nothing is copied.
    Runs(&'a [Edge], Vec<(u32, u32)>),
    /// Gathered per file, for a list in any other order.
    Gathered(Vec<Vec<Edge>>),
}

impl<'a> OldUses<'a> {
    fn new(edges: &'a [Edge], files: usize) -> OldUses<'a> {
        let source = |edge: &Edge| match (edge.kind, edge.from) {
            (EdgeKind::Calls | EdgeKind::References, Node::File(f)) => Some(f as usize),
            (EdgeKind::Calls | EdgeKind::References, Node::Symbol(id)) => Some(id.file as usize),
            _ => None,
        };
        let mut runs: Vec<(u32, u32)> = vec![(0, 0); files];
        let mut contiguous = true;
        for (i, edge) in edges.iter().enumerate() {
            let Some(run) = source(edge).and_then(|f| runs.get_mut(f)) else { continue };
            let i = i as u32;
            match *run {
                (start, end) if start == end => *run = (i, i + 1),
                (_, end) if end == i => run.1 = i + 1,
                _ => contiguous = false,
            }
        }
        if contiguous {
            return OldUses::Runs(edges, runs);
        }
        let mut lists: Vec<Vec<Edge>> = vec![Vec::new(); files];
        for edge in edges {
            if let Some(list) = source(edge).and_then(|f| lists.get_mut(f)) {
                list.push(*edge);
            }
        }
        OldUses::Gathered(lists)
    }

    fn of(&self, file: usize) -> &[Edge] {
        match self {
            OldUses::Runs(edges, runs) => {
                runs.get(file).map_or(&[][..], |&(start, end)| &edges[start as usize..end as usize])
            }
            OldUses::Gathered(lists) => lists.get(file).map_or(&[][..], Vec::as_slice),
        }
    }
}

impl UpdatePlan<'_> {
    /// The old reference edges of file `f`, when they stand exactly as they are: the file is clean and neither it
    /// nor any file its edges reach was renumbered or had its symbols renumbered. They are then copied once,
    /// straight into the new edge list, instead of being renumbered into a list of their own.
    fn kept_verbatim(&self, f: u32) -> Option<&[Edge]> {
        let old_file = self.old_of_new[f as usize]?;
        let same = |file: u32| self.unmoved.get(file as usize).copied().unwrap_or(false);
        let same_node = |node: Node| match node {
            Node::File(file) => same(file),
            Node::Symbol(id) => same(id.file),
            Node::Module(_) => false,
        };
        let edges = self.old_edges.of(old_file as usize);
        // Each file's edges are kept sorted; an old list that is not (read from elsewhere) goes the long way.
        let verbatim = old_file == f
            && edges.iter().all(|e| same_node(e.from) && same_node(e.to))
            && edges.is_sorted_by_key(|e| (e.from, e.to, e.kind));
        verbatim.then_some(edges)
    }

    /// The old reference edges of file `f` except those to definitions named in `except`, renumbered; `None` when
    /// one of them points at a file or symbol that is gone (then the whole file is resolved again).
    fn reuse(&self, f: u32, except: Option<&HashSet<&str>>) -> Option<Vec<Edge>> {
        let old_file = self.old_of_new[f as usize]?;
        let renumber = |node: Node| -> Option<Node> {
            Some(match node {
                Node::File(o) => Node::File((*self.new_of_old.get(o as usize)?)?),
                Node::Symbol(id) => Node::Symbol(SymbolId {
                    file: (*self.new_of_old.get(id.file as usize)?)?,
                    symbol: match self.symbol_maps.get(&id.file) {
                        Some(map) => (*map.get(id.symbol as usize)?)?,
                        None => id.symbol,
                    },
                }),
                Node::Module(_) => return None,
            })
        };
        let target_name = |node: Node| match node {
            Node::Symbol(id) => {
                self.old_files.get(id.file as usize)?.facts.symbols.get(id.symbol as usize).map(|s| s.name.as_str())
            }
            _ => None,
        };
        self.old_edges
            .of(old_file as usize)
            .iter()
            .filter(|e| except.is_none_or(|names| !target_name(e.to).is_some_and(|n| names.contains(n))))
            .map(|e| Some(Edge { from: renumber(e.from)?, to: renumber(e.to)?, kind: e.kind, weight: e.weight }))
            .collect()
    }
}

/// Decides what an update must resolve again; `None` when everything must be (the repository-wide context changed,
/// or so much did that a full link is cheaper).
///
/// A file is dirty when it changed; when what its imports bring into scope changed, or the scope of a file it
/// imports or qualifies names with did (re-exports, qualified paths read the target's scope); when it mentions a
/// name that a changed file defines or defined (the candidates for it changed); or when it mentions a type whose
/// standing as a user type changed (receivers are judged by it).
fn plan_update<'a>(
    files: &'a [GraphInput<'a>],
    data: &GraphData,
    scopes: &[Arc<FileScope>],
    user_types: &HashMap<&'a str, bool>,
    previous: &PreviousLink<'a>,
) -> Option<UpdatePlan<'a>> {
    let old = previous.data;
    let stored_per_file = |hashes: &[u64]| hashes.len() == previous.files.len();
    if old.context_hash != data.context_hash
        || !stored_per_file(&old.scope_hashes)
        || !stored_per_file(&old.package_hashes)
    {
        return None;
    }
    let old_by_path: HashMap<&str, u32> = previous.files.iter().enumerate().map(|(i, f)| (f.path, i as u32)).collect();
    let old_of_new: Vec<Option<u32>> = files.iter().map(|f| old_by_path.get(f.path).copied()).collect();
    let mut new_of_old: Vec<Option<u32>> = vec![None; previous.files.len()];
    for (new, old_index) in old_of_new.iter().enumerate() {
        if let Some(o) = old_index {
            new_of_old[*o as usize] = Some(new as u32);
        }
    }
    let changed_new: Vec<bool> =
        files.iter().zip(&old_of_new).map(|(f, o)| o.is_none() || previous.changed.contains(f.path)).collect();

    // Names whose candidates changed: every name of a file added or removed; for an edited file, the names whose
    // definitions differ in anything the linker reads (the others keep their links, renumbered).
    let mut names: HashSet<&str> = HashSet::default();
    let mut symbol_maps: HashMap<u32, Vec<Option<u32>>> = HashMap::default();
    for (f, file) in files.iter().enumerate() {
        match old_of_new[f] {
            None => names.extend(outward_names(file.facts)),
            Some(o) if changed_new[f] => {
                let old_facts = previous.files[o as usize].facts;
                symbol_maps.insert(o, match_symbols(old_facts, file.facts, &mut names));
            }
            Some(_) => {}
        }
    }
    for (o, file) in previous.files.iter().enumerate() {
        if new_of_old[o].is_none() {
            names.extend(outward_names(file.facts));
        }
    }
    // Files that moved to another package, or whose package may now use other packages: they resolve again, and
    // so does whatever names their definitions (who may see them changed).
    let package_changed: Vec<bool> = (0..files.len())
        .map(|f| old_of_new[f].is_some_and(|o| old.package_hashes[o as usize] != data.package_hashes[f]))
        .collect();
    for (file, changed) in files.iter().zip(&package_changed) {
        if *changed {
            names.extend(outward_names(file.facts));
        }
    }
    // Types that appeared, disappeared or became traits: receivers naming them and methods they own. Only a name
    // that a changed, added or removed file defines as a type can have changed its standing, and the unchanged
    // files' share of its old standing is their share of the new one: the whole old table is not rebuilt.
    let is_trait = |symbol: &Symbol| matches!(symbol.kind, SymbolKind::Trait | SymbolKind::Interface);
    let mut old_changed_types: HashMap<&str, bool> = HashMap::default();
    for (o, file) in previous.files.iter().enumerate() {
        let changed = new_of_old[o].is_none_or(|n| changed_new[n as usize]);
        if changed {
            for symbol in file.facts.symbols.iter().filter(|s| s.kind.is_type_like()) {
                *old_changed_types.entry(symbol.name.as_str()).or_default() |= is_trait(symbol);
            }
        }
    }
    let mut touched: HashSet<&str> = old_changed_types.keys().copied().collect();
    for (_, file) in files.iter().enumerate().filter(|(f, _)| changed_new[*f]) {
        touched.extend(file.facts.symbols.iter().filter(|s| s.kind.is_type_like()).map(|s| s.name.as_str()));
    }
    let mut qualifiers: HashSet<&str> = HashSet::default();
    let definitions = match touched.is_empty() {
        true => HashMap::default(),
        false => definitions_named(files, Some(&NameFilter::new(touched.clone()))),
    };
    for name in touched {
        let unchanged = definitions
            .get(name)
            .into_iter()
            .flatten()
            .filter(|c| !changed_new[c.id.file as usize])
            .map(|c| c.symbol)
            .filter(|s| s.kind.is_type_like());
        let mut old: Option<bool> = old_changed_types.get(name).copied();
        for symbol in unchanged {
            old = Some(old.unwrap_or(false) | is_trait(symbol));
        }
        if old != user_types.get(name).copied() {
            qualifiers.insert(name);
        }
    }
    // The whole-table comparison this replaces, checked in debug builds (the incremental property test runs them).
    #[cfg(debug_assertions)]
    {
        let old_user_types = self::user_types(previous.files);
        let mut expected: HashSet<&str> = HashSet::default();
        for (name, is_trait) in user_types {
            if old_user_types.get(name) != Some(is_trait) {
                expected.insert(name);
            }
        }
        expected.extend(old_user_types.keys().filter(|name| !user_types.contains_key(*name)));
        debug_assert_eq!(qualifiers, expected, "types whose standing changed");
    }
    if !qualifiers.is_empty() {
        names.extend(qualifiers.iter().copied());
        for file in files {
            for symbol in &file.facts.symbols {
                if owner_type(file.facts, symbol).is_some_and(|owner| qualifiers.contains(owner)) {
                    names.insert(symbol.name.as_str());
                }
            }
        }
    }
    // Files whose scope changed, and the Rust module names they go by (`stats::count` reads `stats`' scope).
    let scope_changed: Vec<bool> = (0..files.len())
        .map(|f| old_of_new[f].is_none_or(|o| old.scope_hashes[o as usize] != data.scope_hashes[f]))
        .collect();
    for (f, file) in files.iter().enumerate() {
        if scope_changed[f] && file.facts.language.name() == "rust" {
            qualifiers.insert(rust_module_name(file.path));
        }
    }
    let any_scope_changed = scope_changed.iter().any(|changed| *changed);
    let (names, qualifiers) = (NameFilter::new(names), NameFilter::new(qualifiers));
    let dirty: Vec<Dirty<'_>> = (0..files.len())
        .into_par_iter()
        .map(|f| {
            if changed_new[f] || scope_changed[f] || package_changed[f] {
                return Dirty::Whole;
            }
            let scope = &scopes[f];
            let reads_changed_scope = any_scope_changed
                && scope
                    .imported
                    .iter()
                    .chain(scope.globs.iter())
                    .chain(scope.qualifiers.values().flatten())
                    .chain(scope.bindings.values().flatten())
                    .any(|&t| scope_changed[t as usize]);
            if reads_changed_scope {
                return Dirty::Whole;
            }
            // Only the references that name a changed definition (or a changed type as qualifier) may resolve
            // differently; edges go to definitions of the reference's name, so the others' edges stand.
            let affected: HashSet<&str> = files[f]
                .facts
                .references
                .iter()
                .filter(|r| {
                    names.contains(r.name.as_str()) || r.qualifier.as_deref().is_some_and(|q| qualifiers.contains(q))
                })
                .map(|r| r.name.as_str())
                .collect();
            if affected.is_empty() {
                Dirty::Clean
            } else {
                Dirty::Names(affected)
            }
        })
        .collect();
    let whole = dirty.iter().filter(|d| matches!(d, Dirty::Whole)).count();
    if whole as f64 > FULL_LINK_SHARE * files.len() as f64 {
        return None;
    }

    let old_edges = OldUses::new(&old.edges, previous.files.len());
    let old_files = previous.files;
    let unmoved = (0..old_files.len() as u32)
        .map(|o| new_of_old[o as usize] == Some(o) && !symbol_maps.contains_key(&o))
        .collect();
    Some(UpdatePlan { dirty, old_of_new, new_of_old, symbol_maps, old_edges, old_files, unmoved })
}

/// Whether code in another file can ever resolve to `symbol`: not a `private` member, not an item local to a
/// function. A change to anything else cannot change another file's links.
fn seen_from_other_files(facts: &FileFacts, symbol: &Symbol) -> bool {
    let local = symbol.parent.and_then(|p| facts.symbols.get(p as usize)).is_some_and(|p| p.kind.is_callable());
    !local && !is_private_member(facts.language.name(), &symbol.signature)
}

/// The names of a file's definitions that other files may resolve to.
fn outward_names(facts: &FileFacts) -> impl Iterator<Item = &str> {
    facts.symbols.iter().filter(|s| seen_from_other_files(facts, s)).map(|s| s.name.as_str())
}

/// Matches the symbols of an edited file's old and new facts by everything the linker reads of a definition (name,
/// qualified name, kind, signature, parent's name and kind), in order: old index → new index. The names of
/// symbols without a match go into `changed_names`.
fn match_symbols<'a>(old: &'a FileFacts, new: &'a FileFacts, changed_names: &mut HashSet<&'a str>) -> Vec<Option<u32>> {
    type Key<'k> = (&'k str, &'k str, SymbolKind, &'k str, Option<(&'k str, SymbolKind)>);
    let key = |facts: &'a FileFacts, symbol: &'a Symbol| -> Key<'a> {
        let parent = symbol.parent.and_then(|p| facts.symbols.get(p as usize)).map(|p| (p.name.as_str(), p.kind));
        (symbol.name.as_str(), symbol.qualified_name.as_str(), symbol.kind, symbol.signature.as_str(), parent)
    };
    let mut unmatched_new: HashMap<Key<'a>, std::collections::VecDeque<u32>> = HashMap::default();
    for (i, symbol) in new.symbols.iter().enumerate() {
        unmatched_new.entry(key(new, symbol)).or_default().push_back(i as u32);
    }
    let map: Vec<Option<u32>> = old
        .symbols
        .iter()
        .map(|symbol| {
            let found = unmatched_new.get_mut(&key(old, symbol)).and_then(|queue| queue.pop_front());
            if found.is_none() && seen_from_other_files(old, symbol) {
                changed_names.insert(symbol.name.as_str());
            }
            found
        })
        .collect();
    for queue in unmatched_new.values() {
        for &i in queue {
            let symbol = &new.symbols[i as usize];
            if seen_from_other_files(new, symbol) {
                changed_names.insert(symbol.name.as_str());
            }
        }
    }
    // Candidates of one name are tried in symbol order: a name whose definitions swapped places changed too.
    let mut last_of_name: HashMap<&str, u32> = HashMap::default();
    for (symbol, new_index) in old.symbols.iter().zip(&map) {
        let Some(new_index) = *new_index else { continue };
        let last = last_of_name.entry(symbol.name.as_str()).or_insert(new_index);
        if new_index < *last {
            changed_names.insert(symbol.name.as_str());
        }
        *last = (*last).max(new_index);
    }
    map
}

/// A hash of what a file's imports bring into scope, by path (file numbers shift between links). It is stored and
/// compared across processes, so it is xxh3, not a per-process hasher. Sets are combined by wrapping sums of their
/// members' hashes (`path_hashes`, one per file, computed once per link): order-free, so nothing is sorted.
fn scope_hash(path_hashes: &[u64], scope: &FileScope) -> u64 {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    let set = |members: &HashSet<u32>| -> u64 {
        members.iter().fold(members.len() as u64, |sum, &t| sum.wrapping_add(path_hashes[t as usize]))
    };
    let map = |entries: &HashMap<String, HashSet<u32>>| -> u64 {
        entries.iter().fold(entries.len() as u64, |sum, (name, members)| {
            sum.wrapping_add(xxh3_64_with_seed(name.as_bytes(), set(members)))
        })
    };
    let unresolved = scope
        .unresolved
        .iter()
        .fold(scope.unresolved.len() as u64, |sum, name| sum.wrapping_add(xxh3_64(name.as_bytes())));
    let parts = [
        set(&scope.imported),
        set(&scope.wide),
        set(&scope.globs),
        map(&scope.bindings),
        map(&scope.qualifiers),
        unresolved,
    ];
    let bytes: Vec<u8> = parts.iter().flat_map(|part| part.to_le_bytes()).collect();
    xxh3_64(&bytes)
}

/// What a link resolved from imports, kept in memory (with the graph it produced) for the next update in the same
/// process: there only the changed files' imports are resolved again.
pub(crate) struct LinkMemo {
    /// A hash of the paths (in order) and packages the imports were resolved against.
    key: u64,
    /// Per file: its scope before re-exports were followed, and after.
    direct: Vec<Arc<FileScope>>,
    scopes: Vec<Arc<FileScope>>,
    /// Per file: the hash of `scopes`.
    scope_hashes: Vec<u64>,
    /// Per file: its `imports` edges.
    import_edges: Vec<Arc<[Edge]>>,
}

/// What a [`LinkMemo`] must have been resolved against to be used: the same paths in the same order (file numbers
/// are in the scopes and edges) and the same packages.
fn memo_key(files: &[GraphInput<'_>], packages: &Packages) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&packages.fingerprint.to_le_bytes());
    for file in files {
        hasher.update(&(file.path.len() as u64).to_le_bytes());
        hasher.update(file.path.as_bytes());
    }
    hasher.digest()
}

/// What one file's imports bring into scope.
#[derive(Default, Clone)]
struct FileScope {
    /// Every file an import of this file resolved to: what it names explicitly is visible whatever the packages say.
    imported: HashSet<u32>,
    /// Files whose names the file reaches wholesale: module imports, globs, and (outside Rust) any imported file.
    wide: HashSet<u32>,
    /// Files whose names a glob brings in unqualified (Rust `use x::*`); followed through re-exports.
    globs: HashSet<u32>,
    /// Imported name → the files it comes from, re-exports followed.
    bindings: HashMap<String, HashSet<u32>>,
    /// Names that qualify paths (Rust modules by `mod`/`use`, Go package names) → the files they stand for. An
    /// empty set is a package outside the repository (`fmt`).
    qualifiers: HashMap<String, HashSet<u32>>,
    /// Names imported from somewhere that did not resolve: anything of that name may be meant.
    unresolved: HashSet<String>,
}

/// Re-exports are followed this many hops (`pub use`, `export … from`, `from .x import y` in `__init__.py`).
const REEXPORT_HOPS: usize = 3;

/// Resolves every file's imports (in parallel): what each file has in scope before re-exports are followed, and
/// each file's `imports` edges. With a memo (and which files changed), only the changed files are resolved.
fn imports(
    files: &[GraphInput<'_>],
    paths: &PathIndex<'_>,
    rust: &RustModel,
    go: &GoPackages<'_>,
    memo: Option<(&LinkMemo, &[bool])>,
) -> (Vec<Arc<FileScope>>, Vec<Arc<[Edge]>>) {
    if let Some((memo, changed)) = memo {
        // Few files to resolve: each import on its own, without the table of every distinct one.
        let none = HashMap::default();
        return (0..files.len())
            .into_par_iter()
            .map(|f| match changed[f] {
                false => (Arc::clone(&memo.direct[f]), Arc::clone(&memo.import_edges[f])),
                true => {
                    let (scope, edges) = file_imports(files, f, paths, &none, rust, go);
                    (Arc::new(scope), edges.into())
                }
            })
            .unzip();
    }
    // Most imports (`java.util.List`, `org.apache.kafka.common.Node`) mean the same wherever they are written: each
    // distinct one is resolved once, not once per file that writes it.
    // Deduplicated by hash, not by sorting: imports share long prefixes, which makes comparisons slow.
    let distinct: HashSet<&str> = files
        .iter()
        .filter(|f| !matches!(f.facts.language.name(), "rust" | "go"))
        .flat_map(|f| f.facts.imports.iter().map(|i| i.path.trim()))
        .filter(|import| PathIndex::location_independent(import))
        .collect();
    let distinct: Vec<&str> = distinct.into_iter().collect();
    let resolved: HashMap<&str, Vec<u32>> =
        distinct.into_par_iter().map(|import| (import, paths.resolve_import("", import))).collect();
    (0..files.len())
        .into_par_iter()
        .map(|f| {
            let (scope, edges) = file_imports(files, f, paths, &resolved, rust, go);
            (Arc::new(scope), edges.into())
        })
        .unzip()
}

/// One file's imports: its scope before re-exports are followed, and its `imports` edges.
fn file_imports(
    files: &[GraphInput<'_>],
    f: usize,
    paths: &PathIndex<'_>,
    resolved: &HashMap<&str, Vec<u32>>,
    rust: &RustModel,
    go: &GoPackages<'_>,
) -> (FileScope, Vec<Edge>) {
    let mut edges = EdgeSet::default();
    let mut scope = FileScope::default();
    let file = &files[f];
    'resolve: {
        let scope = &mut scope;
        let mut edge = |target: u32, scope: &mut FileScope| {
            if target as usize != f {
                scope.imported.insert(target);
                edges.add(Node::File(f as u32), Node::File(target), EdgeKind::Imports, 1.0);
            }
        };
        let language = file.facts.language.name();
        if language == "rust" && rust.knows(f as u32) {
            for import in &file.facts.imports {
                let path = import.path.trim();
                // `mod x;` declares a child module: its file, reachable as `x::…`, nothing brought into scope.
                if let Some((name, child)) =
                    rust.declared[f].iter().find(|(name, _)| name.rsplit("::").next() == Some(path))
                {
                    let short = name.rsplit("::").next().unwrap_or(name).to_string();
                    let entry = scope.qualifiers.entry(short).or_default();
                    if let Some(child) = *child {
                        entry.insert(child);
                        edge(child, scope);
                    }
                    continue;
                }
                for used in expand_use(path) {
                    match rust.resolve_use(files, f as u32, import.line, &used.segments) {
                        Some(UseTarget::Module(target)) => {
                            edge(target, scope);
                            scope.wide.insert(target);
                            if let Some(name) = used.binding {
                                scope.qualifiers.entry(name.clone()).or_default().insert(target);
                                scope.bindings.entry(name).or_default().insert(target);
                            }
                        }
                        Some(UseTarget::Glob(target)) => {
                            edge(target, scope);
                            scope.wide.insert(target);
                            scope.globs.insert(target);
                        }
                        Some(UseTarget::Item(target)) => {
                            edge(target, scope);
                            if let Some(name) = used.binding {
                                scope.bindings.entry(name).or_default().insert(target);
                            }
                        }
                        None => scope.unresolved.extend(used.binding),
                    }
                }
            }
            break 'resolve;
        }
        if language == "go" {
            for import in &file.facts.imports {
                let targets = go.resolve(&import.path, file.path);
                for &t in targets.iter().flatten() {
                    edge(t, scope);
                    scope.wide.insert(t);
                }
                let name = import.names.iter().find(|n| !matches!(n.as_str(), "_" | "."));
                let name = name.map(String::as_str).or_else(|| go_package_name(&import.path));
                match (name, targets) {
                    (Some(name), Some(targets)) => {
                        scope.qualifiers.entry(name.to_string()).or_default().extend(targets);
                    }
                    (Some(name), None) => {
                        scope.unresolved.insert(name.to_string());
                    }
                    (None, _) => {}
                }
            }
            break 'resolve;
        }
        for import in &file.facts.imports {
            let targets = match resolved.get(import.path.trim()) {
                Some(targets) => targets.clone(),
                None => paths.resolve_import(file.path, &import.path),
            };
            for &t in &targets {
                edge(t, scope);
                scope.wide.insert(t);
            }
            for name in &import.names {
                if targets.is_empty() {
                    scope.unresolved.insert(name.clone());
                } else {
                    scope.bindings.entry(name.clone()).or_default().extend(targets.iter().copied());
                }
            }
        }
    }
    (scope, edges.into_edges())
}

/// Extends each binding with where its target files got the name from, a few hops deep: `use crate::shapes::area`
/// where `shapes/mod.rs` has `pub use circle::area` binds `area` to `circle.rs` too.
/// Files with nothing to add keep their scope (the same `Arc`).
fn follow_reexports(files: &[GraphInput<'_>], scopes: &[Arc<FileScope>]) -> Vec<Arc<FileScope>> {
    let rust: Vec<bool> = files.iter().map(|f| f.facts.language.name() == "rust").collect();
    // The names a file defines, gathered for the files a re-export is looked up in only.
    let names: Vec<std::sync::OnceLock<HashSet<&str>>> = (0..files.len()).map(|_| std::sync::OnceLock::new()).collect();
    let names_of = |f: usize| -> &HashSet<&str> {
        names[f].get_or_init(|| files[f].facts.symbols.iter().map(|s| s.name.as_str()).collect())
    };
    let defines = |t: u32, name: &str| names_of(t as usize).contains(name);
    let onward = |scopes: &[Arc<FileScope>], t: u32, name: &str| -> Vec<u32> {
        let s = &scopes[t as usize];
        let mut out: Vec<u32> = s.bindings.get(name).into_iter().flatten().copied().collect();
        // A glob re-exports everything; outside Rust, any import of a barrel file may re-export.
        out.extend(if rust[t as usize] { &s.globs } else { &s.wide }.iter().copied());
        out
    };
    let extended: Vec<Vec<(String, Vec<u32>)>> = scopes
        .par_iter()
        .enumerate()
        .map(|(f, scope)| {
            let mut added = Vec::new();
            // Importing a Java, Kotlin, Scala or C# type or a Go package brings in that name only, never what its
            // file imports in turn.
            if !reexports_names(files[f].facts.language.name()) {
                return added;
            }
            for (name, targets) in &scope.bindings {
                // Where every target defines the name, there is nothing to follow.
                if targets.iter().all(|&t| names_of(t as usize).contains(name.as_str())) {
                    continue;
                }
                let mut seen: HashSet<u32> = targets.clone();
                let mut frontier: Vec<u32> = targets.iter().copied().collect();
                for _ in 0..REEXPORT_HOPS {
                    // A file that defines the name is where it comes from; only one that does not re-exports it.
                    let next: Vec<u32> = frontier
                        .iter()
                        .filter(|&&t| !defines(t, name))
                        .flat_map(|&t| onward(scopes, t, name))
                        .filter(|t| seen.insert(*t))
                        .collect();
                    if next.is_empty() {
                        break;
                    }
                    frontier = next;
                }
                // Keep what was found only where the name is defined, so barrel files do not bind everything they import.
                let found: Vec<u32> = seen.into_iter().filter(|t| !targets.contains(t) && defines(*t, name)).collect();
                if !found.is_empty() {
                    added.push((name.clone(), found));
                }
            }
            added
        })
        .collect();
    scopes
        .iter()
        .zip(extended)
        .map(|(scope, added)| {
            if added.is_empty() {
                return Arc::clone(scope);
            }
            let mut scope = FileScope::clone(scope);
            for (name, targets) in added {
                scope.bindings.entry(name).or_default().extend(targets);
            }
            Arc::new(scope)
        })
        .collect()
}

/// Whether an import in this language can bring in names its target got from elsewhere (`pub use`, `export … from`,
/// a package `__init__.py`, a header's own `#include`s).
fn reexports_names(language: &str) -> bool {
    !matches!(language, "java" | "kotlin" | "scala" | "groovy" | "csharp" | "go")
}

/// The name a Go import is used by: the last path element, without a major-version suffix
/// (`example.com/x/v2` → `x`, `gopkg.in/yaml.v3` → `yaml`).
fn go_package_name(path: &str) -> Option<&str> {
    let mut segments = path.trim().trim_matches('"').rsplit('/');
    let mut last = segments.next()?;
    if last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
        last = segments.next()?;
    }
    let last = last.split(".v").next().unwrap_or(last);
    (!last.is_empty()).then_some(last)
}

/// Go packages are directories; imports name them by module path.
struct GoPackages<'a> {
    /// Directory → its non-test Go files.
    dirs: HashMap<&'a str, Vec<u32>>,
    /// Module path → module directory, longest first.
    modules: Vec<(&'a str, &'a str)>,
    packages: &'a Packages,
}

impl<'a> GoPackages<'a> {
    fn new(files: &'a [GraphInput<'a>], packages: &'a Packages) -> GoPackages<'a> {
        let mut dirs: HashMap<&str, Vec<u32>> = HashMap::default();
        for (f, file) in files.iter().enumerate() {
            if file.facts.language.name() == "go" && !file.path.ends_with("_test.go") {
                dirs.entry(parent_dir(file.path)).or_default().push(f as u32);
            }
        }
        let mut modules: Vec<(&str, &str)> =
            packages.import_roots().filter(|(_, _, e)| *e == Ecosystem::Go).map(|(n, d, _)| (n, d)).collect();
        modules.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        GoPackages { dirs, modules, packages }
    }

    /// The files of the package an import names: `Some(empty)` for a package outside the repository, `None`
    /// when it cannot be told.
    fn resolve(&self, import: &str, from_path: &str) -> Option<Vec<u32>> {
        let import = import.trim().trim_matches('"');
        for (module, dir) in &self.modules {
            let rest = if import == *module {
                ""
            } else if let Some(rest) = import.strip_prefix(module).and_then(|r| r.strip_prefix('/')) {
                rest
            } else {
                continue;
            };
            let target = if dir.is_empty() {
                rest.to_string()
            } else if rest.is_empty() {
                dir.to_string()
            } else {
                format!("{dir}/{rest}")
            };
            return Some(self.dirs.get(target.as_str()).cloned().unwrap_or_default());
        }
        // Inside a module, what no in-repository module path covers is a dependency; the standard library's
        // paths have no dot in their first element.
        if self.packages.package_of(from_path, Ecosystem::Go).is_some() || !import.split('/').next()?.contains('.') {
            return Some(Vec::new());
        }
        let segments: Vec<&str> = import.split('/').collect();
        let scored: Vec<(usize, &str)> =
            self.dirs.keys().map(|d| (matching_suffix(d, &segments), *d)).filter(|(n, _)| *n > 0).collect();
        let top = scored.iter().map(|(n, _)| *n).max()?;
        let best: Vec<&str> = scored.iter().filter(|(n, _)| *n == top).map(|(_, d)| *d).collect();
        (best.len() <= MAX_CANDIDATES).then(|| {
            let mut out: Vec<u32> = best.iter().flat_map(|d| self.dirs[d].iter().copied()).collect();
            out.sort_unstable();
            out
        })
    }
}

/// Language families whose code can call each other's definitions directly.
fn family(language: &'static str) -> &'static str {
    match language {
        "javascript" | "typescript" | "tsx" => "js",
        "java" | "kotlin" | "scala" | "groovy" => "jvm",
        "c" | "cpp" => "c",
        other => other,
    }
}

/// Languages where a method is reached through a receiver only: there is no implicit `this`, and no inheritance
/// makes a method of one type a method of another.
fn exact_receivers(language: &str) -> bool {
    matches!(language, "rust" | "go")
}

/// Languages where a bare `m()` inside a method may call a method of the same type.
fn implicit_this(language: &str) -> bool {
    matches!(language, "java" | "kotlin" | "scala" | "groovy" | "csharp" | "cpp" | "swift" | "ruby")
}

/// The receiver of a call, as far as the file tells.
enum Receiver<'a> {
    /// No receiver, or one whose type is unknown.
    Unknown,
    /// A value or path of this type (`self`, a typed parameter, `Parser::new`).
    Type(&'a str),
}

/// Per-file facts the linker consults for each reference.
struct FileContext<'a> {
    input: &'a GraphInput<'a>,
    language: &'static str,
    family: &'static str,
    /// The file's directory.
    dir: &'a str,
    style: Option<ParamStyle>,
    /// Per enclosing symbol: the qualifiers of the calls it makes (`Queue` for `Queue::new()`): the types whose
    /// values it likely obtains.
    qualifiers: HashMap<Option<u32>, HashSet<&'a str>>,
}

impl<'a> FileContext<'a> {
    fn new(input: &'a GraphInput<'a>) -> FileContext<'a> {
        let mut qualifiers: HashMap<Option<u32>, HashSet<&str>> = HashMap::default();
        for r in &input.facts.references {
            if let (RefKind::Call, Some(q)) = (&r.kind, &r.qualifier) {
                qualifiers.entry(r.enclosing).or_default().insert(q.as_str());
            }
        }
        let language = input.facts.language.name();
        FileContext {
            input,
            language,
            family: family(language),
            dir: parent_dir(input.path),
            style: ParamStyle::of_language(language),
            qualifiers,
        }
    }

    /// The type whose method (or body) a symbol of this file is.
    fn enclosing_type(&self, enclosing: Option<u32>) -> Option<&'a str> {
        let facts = self.input.facts;
        let symbol = &facts.symbols[enclosing? as usize];
        if symbol.kind.is_type_like() {
            return Some(symbol.name.as_str());
        }
        owner_type(facts, symbol)
    }

    fn receiver(&self, reference: &'a Reference, user_types: &HashMap<&str, bool>) -> Receiver<'a> {
        let Some(q) = reference.qualifier.as_deref() else { return Receiver::Unknown };
        let enclosing = self.enclosing_type(reference.enclosing);
        if matches!(q, "self" | "this" | "Self" | "cls" | "$this" | "static") {
            return enclosing.map_or(Receiver::Unknown, Receiver::Type);
        }
        let signature = reference.enclosing.map(|s| self.input.facts.symbols[s as usize].signature.as_str());
        if let (Some(signature), Some(style)) = (signature, self.style) {
            if let Some(ty) = param_type(signature, q, style).and_then(type_head) {
                return match ty {
                    "Self" => enclosing.map_or(Receiver::Unknown, Receiver::Type),
                    ty => Receiver::Type(ty),
                };
            }
        }
        // `Parser::new`, `Greeter.shout`: a CamelCase qualifier names a type (Go: only one defined here).
        let camel = q.starts_with(|c: char| c.is_uppercase()) && q.chars().any(|c| c.is_lowercase());
        if camel && (self.language != "go" || user_types.contains_key(q)) {
            return Receiver::Type(q);
        }
        Receiver::Unknown
    }
}

/// The type a method or member belongs to: its enclosing type-like symbol, or the head of a method's qualified
/// name (`Queue::len` in an `impl Queue`).
fn owner_type<'a>(facts: &'a FileFacts, symbol: &'a Symbol) -> Option<&'a str> {
    if let Some(parent) = symbol.parent.and_then(|p| facts.symbols.get(p as usize)) {
        return parent.kind.is_type_like().then_some(parent.name.as_str());
    }
    if symbol.kind != SymbolKind::Method {
        return None;
    }
    let (head, _) = symbol.qualified_name.rsplit_once(['.', ':'])?;
    let head = head.trim_end_matches([':', '.']);
    head.rsplit(['.', ':']).next().filter(|h| !h.is_empty())
}

/// Everything the linker needs across files.
struct Linker<'a> {
    files: &'a [GraphInput<'a>],
    rust: &'a RustModel,
    packages: &'a Packages,
    file_package: &'a [Option<usize>],
    scopes: &'a [Arc<FileScope>],
    /// Type names defined in the repository → whether one of them is a trait or interface.
    user_types: HashMap<&'a str, bool>,
    /// Rust module name (file stem, or directory of a `mod.rs`) → its files.
    rust_modules: HashMap<&'a str, Vec<u32>>,
}

/// The name of the Rust module a file is: its stem, or its directory's name for `mod.rs`, `lib.rs`, `main.rs`.
fn rust_module_name(path: &str) -> &str {
    match file_stem(path) {
        "mod" | "lib" | "main" => parent_dir(path).rsplit('/').find(|s| *s != "src").unwrap_or(""),
        stem => stem,
    }
}

/// Whether a declaration's modifiers make it `private` (to its class, or its file).
fn is_private_member(language: &str, signature: &str) -> bool {
    has_private_modifier_in(language) && has_private_modifier(signature)
}

/// Whether `language` has a `private` modifier that [`has_private_modifier`] reads.
fn has_private_modifier_in(language: &str) -> bool {
    matches!(language, "java" | "kotlin" | "scala" | "groovy" | "csharp" | "typescript" | "tsx" | "php" | "swift")
}

/// Whether a declaration's leading modifiers include `private` (or `fileprivate`, `private[this]`).
fn has_private_modifier(signature: &str) -> bool {
    let modifiers = [
        "public",
        "protected",
        "internal",
        "static",
        "final",
        "abstract",
        "override",
        "open",
        "sealed",
        "readonly",
        "async",
        "export",
        "default",
        "inline",
        "suspend",
        "lazy",
        "implicit",
        "virtual",
        "extern",
        "unsafe",
    ];
    signature
        .split_whitespace()
        .filter(|w| !w.starts_with('@'))
        .take_while(|w| modifiers.contains(w) || w.starts_with("private") || *w == "fileprivate")
        .any(|w| matches!(w, "private" | "private[this]" | "fileprivate"))
}

/// Whether a Rust item is declared `pub` (in any form: `pub(crate)`, `pub(super)` …).
fn is_pub(signature: &str) -> bool {
    signature.trim_start().starts_with("pub")
}

/// Whether `ancestor` encloses symbol `inner` of the same file (or is it).
fn encloses(facts: &FileFacts, ancestor: u32, inner: Option<u32>) -> bool {
    let mut current = inner;
    for _ in 0..64 {
        match current {
            Some(s) if s == ancestor => return true,
            Some(s) => current = facts.symbols.get(s as usize).and_then(|s| s.parent),
            None => return false,
        }
    }
    false
}

impl Linker<'_> {
    /// Resolves the references of file `f` against `definitions` (only those named in `only`, when given): its
    /// `calls` and `references` edges.
    fn link_file(
        &self,
        f: u32,
        definitions: &HashMap<&str, Vec<Candidate<'_>>>,
        only: Option<&HashSet<&str>>,
    ) -> Vec<Edge> {
        let file = &self.files[f as usize];
        let context = FileContext::new(file);
        let mut edges = EdgeSet::default();
        for reference in &file.facts.references {
            if only.is_some_and(|names| !names.contains(reference.name.as_str())) {
                continue;
            }
            let Some(candidates) = definitions.get(reference.name.as_str()) else {
                continue;
            };
            let source = match reference.enclosing {
                Some(s) => Node::Symbol(SymbolId { file: f, symbol: s }),
                None => Node::File(f),
            };
            let receiver = context.receiver(reference, &self.user_types);
            let qualified = self.qualified_files(f, &context, reference);
            let scored: Vec<(SymbolId, i32)> = candidates
                .iter()
                .filter(|c| Node::Symbol(c.id) != source)
                .filter_map(|c| {
                    self.score(f, &context, reference, &receiver, qualified.as_deref(), c).map(|s| (c.id, s))
                })
                .collect();
            let Some(best) = scored.iter().map(|(_, s)| *s).max() else {
                continue;
            };
            if best < 0 {
                continue;
            }
            let top: Vec<SymbolId> = scored.iter().filter(|(_, s)| *s == best).map(|(c, _)| *c).collect();
            if top.len() > MAX_CANDIDATES {
                continue;
            }
            let kind = if reference.kind == RefKind::Call { EdgeKind::Calls } else { EdgeKind::References };
            let weight = 1.0 / top.len() as f32;
            for target in top {
                edges.add(source, Node::Symbol(target), kind, weight);
            }
        }
        edges.into_edges()
    }

    /// Whether code in file `f` can see definitions of file `t` at all, given that both are of one language
    /// family: an explicit import, or a crate and a package it may use.
    fn visible_in_family(&self, f: u32, t: u32) -> bool {
        if f == t || self.scopes[f as usize].imported.contains(&t) {
            return true;
        }
        if !self.rust.file_may_use(f, t) {
            return false;
        }
        // What no crate compiles (a test fixture under `tests/`) is out of reach of code that is compiled.
        if self.rust.is_uncompiled(t) && !self.rust.is_uncompiled(f) && self.rust.knows(f) {
            return false;
        }
        match (self.file_package[f as usize], self.file_package[t as usize]) {
            (Some(a), Some(b)) => self.packages.may_use(a, b),
            _ => true,
        }
    }

    /// Whether trait `name` (defined in `trait_file`) is in scope in Rust file `f`: defined there, imported by name,
    /// or brought in by a glob (`use rayon::prelude::*`), directly or through the glob's re-exports.
    fn trait_in_scope(&self, f: u32, name: &str, trait_file: u32) -> bool {
        let scope = &self.scopes[f as usize];
        trait_file == f
            || scope.bindings.contains_key(name)
            || scope.unresolved.contains(name)
            || scope.globs.iter().any(|&g| {
                let glob = &self.scopes[g as usize];
                g == trait_file || glob.bindings.contains_key(name) || glob.globs.contains(&trait_file)
            })
    }

    /// When the reference's qualifier names a module or package (`stats::count`, `mathx.Add`, `core_lib::helper`):
    /// the files it may come from, that module's file and where it re-exports the name from.
    fn qualified_files(&self, f: u32, context: &FileContext<'_>, reference: &Reference) -> Option<Vec<u32>> {
        let q = reference.qualifier.as_deref()?;
        let scope = &self.scopes[f as usize];
        let module_binding = matches!(context.language, "python" | "javascript" | "typescript" | "tsx")
            && !self.user_types.contains_key(q);
        let targets: Vec<u32> = match scope.qualifiers.get(q) {
            Some(targets) => targets.iter().copied().collect(),
            None if context.language == "rust" && self.rust.knows(f) => vec![self.rust.extern_crate_root(q)?],
            // `import flask` then `flask.url_for()`, `import * as utils` then `utils.x()`: an imported name that is not
            // a type stands for what it came from. In Python only when that is the module of that name (`flask` for
            // `flask/__init__.py`): an imported value such as `current_app` is an object of some class. In
            // JavaScript and TypeScript an imported value (`nodeOps.createElement()`) is measured to be best read as
            // its file's namespace too.
            None if module_binding => {
                let targets: Vec<u32> = scope.bindings.get(q)?.iter().copied().collect();
                let module_named = |t: &u32| {
                    let path = self.files[*t as usize].path;
                    match file_stem(path) {
                        "__init__" => parent_dir(path).rsplit('/').next() == Some(q),
                        stem => stem == q,
                    }
                };
                if context.language == "python" && !targets.iter().any(module_named) {
                    return None;
                }
                targets
            }
            None => return None,
        };
        let mut files = targets.clone();
        for t in targets {
            let s = &self.scopes[t as usize];
            files.extend(s.bindings.get(reference.name.as_str()).into_iter().flatten().copied());
            files.extend(s.globs.iter().copied());
        }
        files.sort_unstable();
        files.dedup();
        Some(files)
    }

    /// The score of candidate `c` for a reference in file `f`, or `None` when it cannot be meant.
    fn score(
        &self,
        f: u32,
        context: &FileContext<'_>,
        reference: &Reference,
        receiver: &Receiver<'_>,
        qualified: Option<&[u32]>,
        candidate: &Candidate<'_>,
    ) -> Option<i32> {
        let c = candidate.id;
        if candidate.family != context.family || !self.visible_in_family(f, c.file) {
            return None;
        }
        let scope = &self.scopes[f as usize];
        let target_file = &self.files[c.file as usize];
        let symbol = candidate.symbol;
        let language = context.language;
        let is_call = reference.kind == RefKind::Call;
        let bound = scope.bindings.get(reference.name.as_str()).is_some_and(|b| b.contains(&c.file));
        let owner = candidate.owner;
        let mut score = 0;

        // A function's local items are visible inside it only, and so are their members (the methods of a class
        // defined inside a test function).
        // (Bounded by the symbol count, so a malformed parent chain cannot loop.)
        let mut ancestor = symbol.parent.filter(|_| candidate.local);
        for _ in 0..target_file.facts.symbols.len() {
            let Some(parent) = ancestor else { break };
            let Some(parent_symbol) = target_file.facts.symbols.get(parent as usize) else { break };
            if parent_symbol.kind.is_callable()
                && (c.file != f || !encloses(target_file.facts, parent, reference.enclosing))
            {
                return None;
            }
            ancestor = parent_symbol.parent;
        }
        // A private Rust item is visible in its module and the modules below it.
        if language == "rust"
            && c.file != f
            && owner.is_none()
            && symbol.kind != SymbolKind::Macro
            && !is_pub(&symbol.signature)
            && !self.rust.is_within(f, c.file)
        {
            return None;
        }

        // `private` members (Java, Kotlin, Scala, C#, TypeScript, PHP, Swift) are seen in their own file; Go names
        // that start lower-case in their own package (directory).
        if c.file != f && candidate.private_modifier && has_private_modifier_in(language) {
            return None;
        }
        if language == "go" && symbol.name.starts_with(|ch: char| ch.is_lowercase()) && candidate.dir != context.dir {
            return None;
        }

        // A qualifier that names a module or package (`stats::count`, `mathx.Add`) limits the candidates to it.
        if let Some(files) = qualified {
            if !files.contains(&c.file) {
                return None;
            }
            // In Python and JavaScript/TypeScript, `module.name` is a module-level name, never a class's member
            // (`flask.url_for()` is the function, not the method `Flask.url_for` of a class the module imports).
            let module_qualifier = reference.qualifier.as_deref().is_some_and(|q| !self.user_types.contains_key(q));
            if owner.is_some() && module_qualifier && matches!(language, "python" | "javascript" | "typescript" | "tsx")
            {
                return None;
            }
            score += 3;
        }

        if let Some(owner) = owner {
            let owner_is_trait = self.user_types.get(owner).copied().unwrap_or(false);
            let common = is_call && is_common_method(&reference.name);
            // `impl Trait for Vec<u8> { fn len … }`: `v.len()` on a `Vec` is still the inherent `Vec::len`.
            if common && !self.user_types.contains_key(owner) {
                return None;
            }
            // A Rust trait's method is called by method syntax only where the trait is in scope (trait objects
            // aside, which is why only common names, where a wrong link is likely, are held to it).
            let through_trait = !matches!(receiver, Receiver::Type(ty) if *ty == owner);
            if common
                && owner_is_trait
                && through_trait
                && language == "rust"
                && self.rust.knows(f)
                && !self.trait_in_scope(f, owner, c.file)
            {
                return None;
            }
            match receiver {
                Receiver::Type(ty) if *ty == owner => score += 6,
                Receiver::Type(ty) => {
                    if !owner_is_trait {
                        // A library type cannot inherit a method of ours; in Rust and Go no type inherits at all.
                        if !self.user_types.contains_key(ty) || exact_receivers(language) {
                            return None;
                        }
                        score -= 3;
                    }
                }
                Receiver::Unknown if common => {
                    // `v.len()` with `v` of unknown type: a user's `len` only when the enclosing code obtains a value
                    // of its type (`let q = Queue::new(); q.len()`), or, bare, is a method of that type itself.
                    let in_view = match reference.qualifier {
                        None => implicit_this(language) && context.enclosing_type(reference.enclosing) == Some(owner),
                        Some(_) => context.qualifiers.get(&reference.enclosing).is_some_and(|m| m.contains(owner)),
                    };
                    if !in_view {
                        return None;
                    }
                }
                Receiver::Unknown => {}
            }
        }

        // In Rust, `Type::name()` and `value.name()` name an associated item: never a free function or a type.
        if owner.is_none() && language == "rust" && matches!(receiver, Receiver::Type(_)) {
            return None;
        }
        // And `x::name()` with a lower-case `x` reaches a free function only when `x` is its module, or a module
        // that re-exports it (`x.name()` with a value `x` never does).
        if let (Some(q), None, None, "rust", true) =
            (reference.qualifier.as_deref(), owner, qualified, language, is_call)
        {
            let path_keyword = matches!(q, "crate" | "super" | "self" | "$crate");
            if !path_keyword && q.starts_with(|ch: char| ch.is_lowercase()) {
                let defined_in = |t: u32| {
                    t == c.file
                        || self.scopes[t as usize]
                            .bindings
                            .get(reference.name.as_str())
                            .is_some_and(|b| b.contains(&c.file))
                        || self.scopes[t as usize].globs.contains(&c.file)
                };
                let inline = symbol.qualified_name.rsplit("::").nth(1) == Some(q);
                if !inline && !self.rust_modules.get(q).is_some_and(|files| files.iter().any(|&t| defined_in(t))) {
                    return None;
                }
            }
        }

        // In Python a bare `name()` never reaches a method: members are reached through `self`, `cls` or a value.
        if language == "python"
            && is_call
            && reference.qualifier.is_none()
            && owner.is_some()
            && symbol.kind.is_callable()
        {
            return None;
        }
        // `x.name()` reaches a module-level function only through a module: a qualifier that resolved to one
        // (handled above), an imported name (`from . import _types as _t`), or one named like the function's file.
        // A value's method call (`headers.get()`, `context.onError()`) never does. JavaScript and TypeScript also
        // reach their own file's functions this way (object literals list them), and those of a file they import
        // (a namespace import, `require`).
        if let (Some(q), None, None, "python" | "javascript" | "typescript" | "tsx") =
            (reference.qualifier.as_deref(), owner, qualified, language)
        {
            let imported = scope.bindings.contains_key(q) || scope.unresolved.contains(q) || q == candidate.stem;
            let reachable = match language {
                "python" => imported,
                _ => imported || c.file == f || scope.imported.contains(&c.file),
            };
            if symbol.kind.is_callable() && !reachable {
                return None;
            }
        }

        // A bare call names something in scope: defined in the file, imported, or (Go) in the same package.
        if is_call
            && reference.qualifier.is_none()
            && owner.is_none()
            && c.file != f
            && symbol.kind != SymbolKind::Macro
        {
            let in_scope = bound || scope.wide.contains(&c.file) || scope.unresolved.contains(&reference.name);
            let strict = match language {
                "rust" => self.rust.knows(f),
                "python" => true,
                "javascript" | "typescript" | "tsx" => !context.input.facts.imports.is_empty(),
                _ => false,
            };
            if strict && !in_scope {
                return None;
            }
            if language == "go" && candidate.dir != context.dir {
                return None;
            }
        }

        if c.file == f {
            score += 4;
        }
        if bound {
            score += 4;
        } else if scope.wide.contains(&c.file) {
            score += 3;
        }
        if candidate.dir == context.dir {
            score += 1;
        }
        if let Some(q) = reference.qualifier.as_deref() {
            if candidate.parent_name == Some(q) || candidate.qualified_by == Some(q) || candidate.stem == q {
                score += 3;
            }
        }
        // A call should land on something callable (or a type, for constructors).
        if is_call && !(symbol.kind.is_callable() || symbol.kind.is_type_like()) {
            score -= 5;
        }
        if reference.kind == RefKind::Type && !(symbol.kind.is_type_like() || symbol.kind == SymbolKind::TypeAlias) {
            score -= 5;
        }
        Some(score)
    }
}

/// Modules are directories; they contain their subdirectories and files; symbols contain nested symbols.
fn containment(files: &[GraphInput<'_>], data: &mut GraphData, edges: &mut Vec<Edge>) {
    let mut modules: BTreeMap<String, u32> = BTreeMap::new();
    let mut module_id = |dir: &str, data: &mut GraphData| -> u32 {
        *modules.entry(dir.to_string()).or_insert_with(|| {
            data.modules.push(dir.to_string());
            data.modules.len() as u32 - 1
        })
    };
    // Only a module's edges can repeat (its files reach it one by one); a symbol has one file and one parent.
    let mut module_children: HashSet<(u32, Node)> = HashSet::default();
    let contains = |from: Node, to: Node| Edge { from, to, kind: EdgeKind::Contains, weight: 1.0 };
    // Modules' edges first, then each file's: the order the store keeps (see `canonicalise` in sextant-index), so
    // that the output need not be sorted.
    let mut file_edges = Vec::new();
    for (f, file) in files.iter().enumerate() {
        let mut dir = parent_dir(file.path).to_string();
        let mut child = Node::File(f as u32);
        loop {
            let m = module_id(&dir, data);
            let new_edge = module_children.insert((m, child));
            if new_edge {
                edges.push(contains(Node::Module(m), child));
            }
            if !new_edge || dir.is_empty() {
                break;
            }
            child = Node::Module(m);
            dir = parent_dir(&dir).to_string();
        }
        for (s, symbol) in file.facts.symbols.iter().enumerate() {
            let id = Node::Symbol(SymbolId { file: f as u32, symbol: s as u32 });
            file_edges.push(Edge { from: Node::File(f as u32), to: id, kind: EdgeKind::Defines, weight: 1.0 });
            if let Some(p) = symbol.parent {
                file_edges.push(contains(Node::Symbol(SymbolId { file: f as u32, symbol: p }), id));
            }
        }
    }
    edges.append(&mut file_edges);
}

/// Edges deduplicated by (from, to, kind); repeated links add up their weight, capped at 1.
#[derive(Default)]
struct EdgeSet {
    index: HashMap<(Node, Node, EdgeKind), usize>,
    edges: Vec<Edge>,
}

impl EdgeSet {
    /// Adds an edge; returns whether it was new.
    fn add(&mut self, from: Node, to: Node, kind: EdgeKind, weight: f32) -> bool {
        match self.index.get(&(from, to, kind)) {
            Some(&i) => {
                self.edges[i].weight = (self.edges[i].weight + weight).min(1.0);
                false
            }
            None => {
                self.index.insert((from, to, kind), self.edges.len());
                self.edges.push(Edge { from, to, kind, weight });
                true
            }
        }
    }

    fn into_edges(self) -> Vec<Edge> {
        self.edges
    }
}

/// Finds files by path, path without extension, and module-like suffixes.
struct PathIndex<'a> {
    /// Rust package names and the source directories they stand for.
    aliases: HashMap<&'a str, &'a str>,
    /// npm package names and their directories.
    npm: HashMap<&'a str, &'a str>,
    exact: HashMap<&'a str, u32>,
    /// Path without extension (and without `/index`, `/__init__`, `/mod` …) → files.
    by_module: HashMap<String, Vec<u32>>,
    /// Last module segment → module paths that end with it.
    by_last_segment: HashMap<String, Vec<String>>,
}

impl<'a> PathIndex<'a> {
    fn new(files: &'a [GraphInput<'a>], aliases: &'a [(String, String)], npm: &'a [(String, String)]) -> PathIndex<'a> {
        let mut index = PathIndex {
            aliases: aliases.iter().map(|(name, path)| (name.as_str(), path.as_str())).collect(),
            npm: npm.iter().map(|(name, path)| (name.as_str(), path.as_str())).collect(),
            exact: HashMap::default(),
            by_module: HashMap::default(),
            by_last_segment: HashMap::default(),
        };
        for (f, file) in files.iter().enumerate() {
            index.exact.insert(file.path, f as u32);
            let without_ext =
                file.path.rsplit_once('.').filter(|(head, _)| !head.ends_with('/')).map_or(file.path, |(h, _)| h);
            let mut module = without_ext.to_string();
            if let Some((dir, stem)) = module.rsplit_once('/').map(|(d, s)| (d.to_string(), s.to_string())) {
                if DIRECTORY_FILES.contains(&stem.as_str()) {
                    index.by_module.entry(dir).or_default().push(f as u32);
                }
            }
            // `src/` and `lib/` roots rarely appear in import paths.
            for root in ["src/", "lib/"] {
                if let Some(rest) = module.strip_prefix(root) {
                    index.by_module.entry(rest.to_string()).or_default().push(f as u32);
                }
            }
            index.by_module.entry(std::mem::take(&mut module)).or_default().push(f as u32);
        }
        let modules: Vec<String> = index.by_module.keys().cloned().collect();
        for module in modules {
            let last = module.rsplit('/').next().unwrap_or(&module).to_string();
            index.by_last_segment.entry(last).or_default().push(module);
        }
        index
    }

    /// Whether `import` (trimmed) resolves to the same files from every importing file: not relative, not a
    /// path, not a package-qualified Rust path (whose alias becomes a path).
    fn location_independent(import: &str) -> bool {
        !(import.is_empty()
            || import.starts_with('.')
            || import.contains('/')
            || import.contains("::")
            || import.ends_with(".h"))
    }

    /// Files an import in `from_path` may refer to.
    fn resolve_import(&self, from_path: &str, import: &str) -> Vec<u32> {
        let import = import.trim();
        if import.is_empty() {
            return Vec::new();
        }
        // A package name (`grep_searcher::Searcher`) stands for its source directory.
        if let Some((head, rest)) = import.split_once("::") {
            if let Some(path) = self.aliases.get(head) {
                let rewritten = format!("{path}/{}", rest.replace("::", "/"));
                let found = self.resolve_import(from_path, &rewritten);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        // An npm package name (`@acme/ui`, `@acme/ui/button`, `lodash`) stands for its directory.
        if !import.starts_with('.') && !import.starts_with('/') {
            let segments: Vec<&str> = import.split('/').collect();
            for n in (1..=segments.len().min(2)).rev() {
                let Some(dir) = self.npm.get(segments[..n].join("/").as_str()) else { continue };
                let rest = segments[n..].join("/");
                // `src/` first: a package's root `index.js` is often a shim into its build output (`dist/`), while
                // `src/index.ts` is the source the rest of the repository's code comes from.
                for base in [format!("{dir}/src"), dir.to_string()] {
                    let target = if rest.is_empty() { base } else { format!("{base}/{rest}") };
                    let target = target.trim_start_matches('/');
                    for ext in SOURCE_EXTENSIONS {
                        if let Some(&f) = self.exact.get(format!("{target}{ext}").as_str()) {
                            return vec![f];
                        }
                    }
                    if let Some(files) = self.by_module.get(target) {
                        return files.clone();
                    }
                }
            }
        }
        // Relative paths (JS, C includes, Ruby require_relative, shell source): resolve against the file's dir.
        let relative = import.starts_with("./")
            || import.starts_with("../")
            || import.contains('/')
            || import.contains('.') && import.ends_with(".h");
        if relative {
            let joined = normalize(&format!("{}/{}", parent_dir(from_path), import));
            for candidate in [joined.as_str(), import.trim_start_matches("./")] {
                for ext in SOURCE_EXTENSIONS {
                    if let Some(&f) = self.exact.get(format!("{candidate}{ext}").as_str()) {
                        return vec![f];
                    }
                }
                if let Some(files) = self.by_module.get(candidate) {
                    return files.clone();
                }
            }
        }
        // Module paths (`a.b.c`, `crate::a::b`, `github.com/x/y/pkg`, `App\Models\Item`): match the longest suffix
        // of segments against module paths, dropping trailing segments that may name items rather than modules.
        let segments: Vec<&str> = import
            .split(['.', '/', ':', '\\', ' ', '{', '}', ','])
            .filter(|s| !s.is_empty() && !matches!(*s, "crate" | "self" | "super" | "*" | "@" | "as" | ".."))
            .collect();
        for drop in 0..segments.len().min(3) {
            let kept = &segments[..segments.len() - drop];
            let Some(last) = kept.last() else { break };
            let Some(modules) = self.by_last_segment.get(*last) else {
                continue;
            };
            let mut best: Vec<(usize, &String)> =
                modules.iter().map(|m| (matching_suffix(m, kept), m)).filter(|(n, _)| *n > 0).collect();
            let Some(top) = best.iter().map(|(n, _)| *n).max() else {
                continue;
            };
            best.retain(|(n, _)| *n == top);
            if best.len() <= MAX_CANDIDATES {
                let mut out: Vec<u32> = best.iter().flat_map(|(_, m)| self.by_module[*m].iter().copied()).collect();
                out.sort_unstable();
                out.dedup();
                return out;
            }
        }
        Vec::new()
    }
}

/// How many trailing segments of `module` (a `/` path) equal the trailing `segments`.
fn matching_suffix(module: &str, segments: &[&str]) -> usize {
    module.rsplit('/').zip(segments.iter().rev()).take_while(|(a, b)| a.eq_ignore_ascii_case(b)).count()
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_use_edges_are_runs_when_grouped_and_gathered_otherwise() {
        let symbol = |file: u32, symbol: u32| Node::Symbol(SymbolId { file, symbol });
        let uses = |from: Node, to: Node| Edge { from, to, kind: EdgeKind::Calls, weight: 1.0 };
        let contains = Edge { from: Node::File(0), to: symbol(0, 0), kind: EdgeKind::Contains, weight: 1.0 };
        let (a, b, c) =
            (uses(symbol(0, 0), symbol(1, 0)), uses(Node::File(0), symbol(1, 1)), uses(symbol(1, 0), symbol(0, 0)));
        let grouped = [contains, a, b, c];
        let runs = OldUses::new(&grouped, 3);
        assert!(matches!(runs, OldUses::Runs(..)));
        assert_eq!((runs.of(0), runs.of(1), runs.of(2)), (&[a, b][..], &[c][..], &[][..]));
        let interleaved = [a, c, contains, b];
        let gathered = OldUses::new(&interleaved, 3);
        assert!(matches!(gathered, OldUses::Gathered(..)));
        assert_eq!((gathered.of(0), gathered.of(1), gathered.of(7)), (&[a, b][..], &[c][..], &[][..]));
    }

    #[test]
    fn private_members() {
        assert!(is_private_member("java", "private static String shout(String text)"));
        assert!(is_private_member("java", "@Override private void run()"));
        assert!(!is_private_member("java", "public String greet(String name)"));
        assert!(is_private_member("scala", "private val partitions = new PartitionStates()"));
        assert!(!is_private_member("scala", "private[kafka] def truncate(offset: Long): Unit"));
        assert!(is_private_member("typescript", "private readonly cache: Map<string, number>"));
        assert!(!is_private_member("rust", "private fn x()"));
    }

    #[test]
    fn names() {
        assert_eq!(go_package_name("example.com/app/mathx"), Some("mathx"));
        assert_eq!(go_package_name("example.com/x/v2"), Some("x"));
        assert_eq!(go_package_name("gopkg.in/yaml.v3"), Some("yaml"));
        assert_eq!(rust_module_name("crates/x/src/shapes/mod.rs"), "shapes");
        assert_eq!(rust_module_name("crates/x/src/shapes/circle.rs"), "circle");
        assert_eq!(owner_of("Queue::len", SymbolKind::Method).as_deref(), Some("Queue"));
        assert_eq!(owner_of("S.Run", SymbolKind::Method).as_deref(), Some("S"));
        assert_eq!(owner_of("inline::f", SymbolKind::Function), None);
    }

    fn owner_of(qualified_name: &str, kind: SymbolKind) -> Option<String> {
        let symbol = Symbol {
            name: qualified_name.rsplit([':', '.']).next().unwrap().to_string(),
            qualified_name: qualified_name.to_string(),
            kind,
            signature: String::new(),
            doc: None,
            span: sextant_syntax::Span { start_byte: 0, end_byte: 0, start_line: 1, end_line: 1 },
            parent: None,
        };
        let facts = FileFacts {
            language: sextant_syntax::Language::Rust,
            symbols: vec![symbol.clone()],
            references: Vec::new(),
            imports: Vec::new(),
            chunks: Vec::new(),
            lines: 1,
            has_errors: false,
        };
        owner_type(&facts, &facts.symbols[0]).map(str::to_string)
    }
}
