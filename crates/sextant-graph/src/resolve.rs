//! Name resolution without a compiler: imports to files, references to definitions.

use std::collections::{BTreeMap, HashMap, HashSet};

use sextant_syntax::{RefKind, SymbolKind};

use crate::{Edge, EdgeKind, GraphData, GraphInput, Node, SymbolId};

/// Candidates beyond this many for one name are too ambiguous to link at all (`new`, `get`, `run`).
const MAX_CANDIDATES: usize = 8;

/// Extensions tried when an import names a file without one.
const SOURCE_EXTENSIONS: &[&str] = &[
    "", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".py", ".rs", ".go", ".rb", ".php", ".h", ".hpp", ".c", ".cc", ".cpp",
    ".java", ".cs", ".sh",
];
/// File stems that stand for their directory (`pkg/__init__.py`, `lib/index.ts`, `src/mod.rs`).
const DIRECTORY_FILES: &[&str] = &["__init__", "index", "mod", "lib", "main"];

pub(crate) fn resolve(files: &[GraphInput<'_>], aliases: &[(String, String)]) -> GraphData {
    let mut data = GraphData::default();
    let mut offset = 0u32;
    for f in files {
        data.symbol_offsets.push(offset);
        offset += f.facts.symbols.len() as u32;
    }
    data.symbol_offsets.push(offset);

    let mut edges = EdgeSet::default();
    let paths = PathIndex::new(files, aliases);
    containment(files, &mut data, &mut edges);

    // Imports: file → file, and the names each file imports.
    let mut imported_files: Vec<HashSet<u32>> = vec![HashSet::new(); files.len()];
    let mut imported_names: Vec<HashSet<&str>> = vec![HashSet::new(); files.len()];
    for (f, file) in files.iter().enumerate() {
        for import in &file.facts.imports {
            for target in paths.resolve_import(file.path, &import.path) {
                if target as usize != f {
                    imported_files[f].insert(target);
                    edges.add(Node::File(f as u32), Node::File(target), EdgeKind::Imports, 1.0);
                }
            }
            imported_names[f].extend(import.names.iter().map(String::as_str));
        }
    }

    let mut definitions: HashMap<&str, Vec<SymbolId>> = HashMap::new();
    for (f, file) in files.iter().enumerate() {
        for (s, symbol) in file.facts.symbols.iter().enumerate() {
            definitions.entry(symbol.name.as_str()).or_default().push(SymbolId { file: f as u32, symbol: s as u32 });
        }
    }

    for (f, file) in files.iter().enumerate() {
        let f = f as u32;
        let directory = parent_dir(file.path);
        for reference in &file.facts.references {
            let Some(candidates) = definitions.get(reference.name.as_str()) else {
                continue;
            };
            let source = match reference.enclosing {
                Some(s) => Node::Symbol(SymbolId { file: f, symbol: s }),
                None => Node::File(f),
            };
            let score = |c: &SymbolId| -> i32 {
                let target_file = &files[c.file as usize];
                let symbol = &target_file.facts.symbols[c.symbol as usize];
                let mut score = 0;
                if c.file == f {
                    score += 4;
                }
                if imported_files[f as usize].contains(&c.file) {
                    score += 3;
                }
                if imported_names[f as usize].contains(reference.name.as_str()) && c.file != f {
                    score += 1;
                }
                if parent_dir(target_file.path) == directory {
                    score += 1;
                }
                if let Some(q) = &reference.qualifier {
                    let parent_name = symbol.parent.map(|p| target_file.facts.symbols[p as usize].name.as_str());
                    let qualified_by = symbol.qualified_name.rsplit_once(['.', ':', '\\']).map(|(head, _)| head);
                    if parent_name == Some(q.as_str())
                        || qualified_by.is_some_and(|h| h.rsplit([':', '.', '\\']).next() == Some(q.as_str()))
                        || file_stem(target_file.path) == q
                    {
                        score += 3;
                    }
                }
                // A call should land on something callable (or a type, for constructors).
                if reference.kind == RefKind::Call && !(symbol.kind.is_callable() || symbol.kind.is_type_like()) {
                    score -= 5;
                }
                if reference.kind == RefKind::Type
                    && !(symbol.kind.is_type_like() || symbol.kind == SymbolKind::TypeAlias)
                {
                    score -= 5;
                }
                score
            };
            let scored: Vec<(SymbolId, i32)> =
                candidates.iter().filter(|c| Node::Symbol(**c) != source).map(|c| (*c, score(c))).collect();
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
    }
    data.edges = edges.into_edges();
    data
}

/// Modules are directories; they contain their subdirectories and files; symbols contain nested symbols.
fn containment(files: &[GraphInput<'_>], data: &mut GraphData, edges: &mut EdgeSet) {
    let mut modules: BTreeMap<String, u32> = BTreeMap::new();
    let mut module_id = |dir: &str, data: &mut GraphData| -> u32 {
        *modules.entry(dir.to_string()).or_insert_with(|| {
            data.modules.push(dir.to_string());
            data.modules.len() as u32 - 1
        })
    };
    for (f, file) in files.iter().enumerate() {
        let mut dir = parent_dir(file.path).to_string();
        let mut child = Node::File(f as u32);
        loop {
            let m = module_id(&dir, data);
            let new_edge = edges.add(Node::Module(m), child, EdgeKind::Contains, 1.0);
            if !new_edge || dir.is_empty() {
                break;
            }
            child = Node::Module(m);
            dir = parent_dir(&dir).to_string();
        }
        for (s, symbol) in file.facts.symbols.iter().enumerate() {
            let id = Node::Symbol(SymbolId { file: f as u32, symbol: s as u32 });
            edges.add(Node::File(f as u32), id, EdgeKind::Defines, 1.0);
            if let Some(p) = symbol.parent {
                edges.add(Node::Symbol(SymbolId { file: f as u32, symbol: p }), id, EdgeKind::Contains, 1.0);
            }
        }
    }
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
    /// Package names and the directories they stand for.
    aliases: HashMap<&'a str, &'a str>,
    exact: HashMap<&'a str, u32>,
    /// Path without extension (and without `/index`, `/__init__`, `/mod` …) → files.
    by_module: HashMap<String, Vec<u32>>,
    /// Last module segment → module paths that end with it.
    by_last_segment: HashMap<String, Vec<String>>,
}

impl<'a> PathIndex<'a> {
    fn new(files: &'a [GraphInput<'a>], aliases: &'a [(String, String)]) -> PathIndex<'a> {
        let mut index = PathIndex {
            aliases: aliases.iter().map(|(name, path)| (name.as_str(), path.as_str())).collect(),
            exact: HashMap::new(),
            by_module: HashMap::new(),
            by_last_segment: HashMap::new(),
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
