//! The symbol graph: files, modules (directories) and symbols as nodes; `contains`, `defines`, `imports`, `calls`
//! and `references` as edges (petgraph). References are resolved to definitions without a compiler.
//!
//! - **Visibility first.** A reference may resolve only to a definition its file can see: same language family;
//!   for Rust, its own crate or a library crate (binaries, tests and examples are crates of their own); and only
//!   packages its manifest declares (Cargo dependencies, `package.json`, `go.mod`, Maven/Gradle modules,
//!   `pyproject.toml`), transitively. An explicit import is always visible.
//! - **Scope.** A bare call names something in scope: the same file, a name an import binds (re-exports followed a
//!   few hops), a glob; a Go call the same package. A qualifier that names an imported module or package (`stats::`,
//!   `mathx.`) restricts the candidates to it.
//! - **Receivers.** `self`, a parameter with a declared type, or a type named directly (`Parser::new`) fix the type
//!   whose method is meant. A call of a common library method (`len`, `push`, `unwrap` …) on a receiver of unknown
//!   type links only to a method of a type the enclosing code mentions.
//! - **Scoring.** What remains is scored by same file, imports, directory and qualifier; a name that stays
//!   ambiguous links to each remaining candidate with a split, lower weight.
//!
//! Centrality is a weighted PageRank over calls, references and imports.

mod manifest;
mod receiver;
mod resolve;
mod rust;

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};
use sextant_syntax::FileFacts;

/// A file handed to the graph builder.
pub struct GraphInput<'a> {
    /// Repository-relative path with `/` separators.
    pub path: &'a str,
    /// What was extracted from it.
    pub facts: &'a FileFacts,
}

/// A package manifest handed to the builder (`Cargo.toml`, `package.json`, `go.mod`, `pom.xml`, `build.gradle`,
/// `build.gradle.kts`, `pyproject.toml`): it tells which package a file belongs to and which packages it may use.
pub struct Manifest<'a> {
    /// Repository-relative path with `/` separators (`crates/sextant-pack/Cargo.toml`).
    pub path: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// File names the builder reads as package manifests, for callers that collect them.
pub const MANIFEST_FILES: &[&str] = manifest::MANIFEST_FILES;

/// A symbol: the file's position in the input and the symbol's index in that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SymbolId {
    /// Index of the file in the builder's input.
    pub file: u32,
    /// Index of the symbol in the file's facts.
    pub symbol: u32,
}

/// A node of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Node {
    /// A file, by input index.
    File(u32),
    /// A directory, by index into [`SymbolGraph::modules`].
    Module(u32),
    /// A symbol.
    Symbol(SymbolId),
}

/// The relation an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EdgeKind {
    /// Module → submodule, module → file, symbol → nested symbol.
    Contains,
    /// File → each symbol it defines.
    Defines,
    /// File → file it imports.
    Imports,
    /// Caller (symbol, or file for top-level code) → callee symbol.
    Calls,
    /// User (symbol or file) → symbol whose name it mentions (types, identifiers).
    References,
}

impl EdgeKind {
    /// Lower-case name for output.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Contains => "contains",
            EdgeKind::Defines => "defines",
            EdgeKind::Imports => "imports",
            EdgeKind::Calls => "calls",
            EdgeKind::References => "references",
        }
    }
}

/// One edge. `weight` is 1 for a certain link and `1/n` when a name stayed ambiguous between `n` candidates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Source.
    pub from: Node,
    /// Target.
    pub to: Node,
    /// Relation.
    pub kind: EdgeKind,
    /// Confidence of the link.
    pub weight: f32,
}

/// The stored form of the graph: plain data, serialisable, from which [`SymbolGraph`] is rebuilt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphData {
    /// Directory paths, `""` for the repository root.
    pub modules: Vec<String>,
    /// Offset of each file's first symbol in the flattened symbol list (one extra entry at the end).
    pub symbol_offsets: Vec<u32>,
    /// All edges.
    pub edges: Vec<Edge>,
    /// Centrality per symbol (flattened by `symbol_offsets`), scaled so the average node scores 1.
    pub symbol_rank: Vec<f32>,
    /// Centrality per file: the file's own score plus its symbols'.
    pub file_rank: Vec<f32>,
}

/// The graph ready for queries.
pub struct SymbolGraph {
    data: GraphData,
    graph: DiGraph<Node, (EdgeKind, f32)>,
    file_count: usize,
    /// The use edges (calls, references, imports) as flat arrays, built on first use by PageRank.
    use_edges: std::sync::OnceLock<UseEdges>,
}

/// Use edges in flat arrays: the PageRank inner loop touches nothing else.
struct UseEdges {
    sources: Vec<u32>,
    targets: Vec<u32>,
    /// Edge weight divided by its source's total out-weight.
    shares: Vec<f32>,
    /// Nodes without outgoing use edges, whose rank is redistributed.
    dangling: Vec<u32>,
}

impl UseEdges {
    fn new(graph: &DiGraph<Node, (EdgeKind, f32)>) -> UseEdges {
        let is_use = |k: EdgeKind| matches!(k, EdgeKind::Calls | EdgeKind::References | EdgeKind::Imports);
        let mut out_weight = vec![0.0f32; graph.node_count()];
        for e in graph.edge_references() {
            if is_use(e.weight().0) {
                out_weight[e.source().index()] += e.weight().1;
            }
        }
        let (mut sources, mut targets, mut shares) = (Vec::new(), Vec::new(), Vec::new());
        for e in graph.edge_references() {
            if is_use(e.weight().0) {
                sources.push(e.source().index() as u32);
                targets.push(e.target().index() as u32);
                shares.push(e.weight().1 / out_weight[e.source().index()]);
            }
        }
        let dangling = (0..graph.node_count() as u32).filter(|&i| out_weight[i as usize] == 0.0).collect();
        UseEdges { sources, targets, shares, dangling }
    }
}

impl SymbolGraph {
    /// Builds the graph: resolves references and imports, then ranks. Without manifests, Rust crates are told
    /// apart by layout (`src/lib.rs`, `src/main.rs`, `src/bin/`, `tests/` …) and packages are not filtered.
    pub fn build(files: &[GraphInput<'_>]) -> SymbolGraph {
        Self::link(files, &manifest::Packages::new(&[], &[]))
    }

    /// Builds the graph with package manifests (see [`Manifest`]): package names resolve imports
    /// (`grep_searcher::…` to `crates/searcher/src`, `@acme/ui` to `packages/ui`, Go module paths to their
    /// directories), and declared dependencies limit what a reference may resolve to.
    pub fn build_with_manifests(files: &[GraphInput<'_>], manifests: &[Manifest<'_>]) -> SymbolGraph {
        let manifests: Vec<(&str, &str)> = manifests.iter().map(|m| (m.path, m.text)).collect();
        Self::link(files, &manifest::Packages::new(&manifests, &[]))
    }

    /// Builds the graph with package aliases: `(name, path)` pairs saying that imports starting with `name`
    /// (`grep_searcher::…`) refer to the files under `path` (`crates/searcher/src`). Dependencies are unknown,
    /// so packages are not filtered; prefer [`SymbolGraph::build_with_manifests`].
    pub fn build_with_aliases(files: &[GraphInput<'_>], aliases: &[(String, String)]) -> SymbolGraph {
        Self::link(files, &manifest::Packages::new(&[], aliases))
    }

    fn link(files: &[GraphInput<'_>], packages: &manifest::Packages) -> SymbolGraph {
        let mut data = resolve::resolve(files, packages);
        let graph = Self::petgraph(&data, files.len());
        let node_rank = pagerank(&UseEdges::new(&graph), graph.node_count(), None, 0.85, 50);
        let scale = node_rank.len() as f32;
        let module_count = data.modules.len();
        let first_symbol = files.len() + module_count;
        data.symbol_rank = node_rank[first_symbol..].iter().map(|r| r * scale).collect();
        data.file_rank = (0..files.len())
            .map(|f| {
                let (start, end) = (data.symbol_offsets[f] as usize, data.symbol_offsets[f + 1] as usize);
                (node_rank[f] + node_rank[first_symbol + start..first_symbol + end].iter().sum::<f32>()) * scale
            })
            .collect();
        SymbolGraph { data, graph, file_count: files.len(), use_edges: std::sync::OnceLock::new() }
    }

    /// Rebuilds the queryable graph from stored data; `file_count` is the number of files it was built from.
    pub fn from_data(data: GraphData) -> SymbolGraph {
        let file_count = data.symbol_offsets.len().saturating_sub(1);
        let graph = Self::petgraph(&data, file_count);
        SymbolGraph { data, graph, file_count, use_edges: std::sync::OnceLock::new() }
    }

    fn petgraph(data: &GraphData, file_count: usize) -> DiGraph<Node, (EdgeKind, f32)> {
        let symbol_total = data.symbol_offsets.last().copied().unwrap_or(0) as usize;
        let mut graph = DiGraph::with_capacity(file_count + data.modules.len() + symbol_total, data.edges.len());
        for f in 0..file_count {
            graph.add_node(Node::File(f as u32));
        }
        for m in 0..data.modules.len() {
            graph.add_node(Node::Module(m as u32));
        }
        for f in 0..file_count {
            for s in 0..(data.symbol_offsets[f + 1] - data.symbol_offsets[f]) {
                graph.add_node(Node::Symbol(SymbolId { file: f as u32, symbol: s }));
            }
        }
        let index = |node: Node| node_index(data, file_count, node);
        for edge in &data.edges {
            if let (Some(a), Some(b)) = (index(edge.from), index(edge.to)) {
                graph.add_edge(a, b, (edge.kind, edge.weight));
            }
        }
        graph
    }

    /// The stored form.
    pub fn data(&self) -> &GraphData {
        &self.data
    }

    /// Consumes the graph, returning the stored form.
    pub fn into_data(self) -> GraphData {
        self.data
    }

    /// Centrality of a symbol (1 is average).
    pub fn symbol_rank(&self, id: SymbolId) -> f32 {
        self.flat(id).and_then(|i| self.data.symbol_rank.get(i)).copied().unwrap_or(0.0)
    }

    /// Centrality of a file.
    pub fn file_rank(&self, file: u32) -> f32 {
        self.data.file_rank.get(file as usize).copied().unwrap_or(0.0)
    }

    fn flat(&self, id: SymbolId) -> Option<usize> {
        let start = *self.data.symbol_offsets.get(id.file as usize)? as usize;
        let end = *self.data.symbol_offsets.get(id.file as usize + 1)? as usize;
        let flat = start + id.symbol as usize;
        (flat < end).then_some(flat)
    }

    /// Nodes with an edge of `kind` into `node`, with the edge weight.
    pub fn incoming(&self, node: Node, kind: EdgeKind) -> Vec<(Node, f32)> {
        self.neighbours(node, kind, Direction::Incoming)
    }

    /// Nodes that `node` has an edge of `kind` to, with the edge weight.
    pub fn outgoing(&self, node: Node, kind: EdgeKind) -> Vec<(Node, f32)> {
        self.neighbours(node, kind, Direction::Outgoing)
    }

    fn neighbours(&self, node: Node, kind: EdgeKind, direction: Direction) -> Vec<(Node, f32)> {
        let Some(index) = node_index(&self.data, self.file_count, node) else {
            return Vec::new();
        };
        let mut out: Vec<(Node, f32)> = self
            .graph
            .edges_directed(index, direction)
            .filter(|e| e.weight().0 == kind)
            .map(|e| {
                let other = if direction == Direction::Incoming { e.source() } else { e.target() };
                (self.graph[other], e.weight().1)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// PageRank personalised on `seeds` (node, weight): what matters around the seeds, for context building.
    /// Returns the `top` highest-ranked nodes, best first.
    pub fn personalized_rank(&self, seeds: &[(Node, f32)], top: usize) -> Vec<(Node, f32)> {
        let mut personalization = vec![0.0f32; self.graph.node_count()];
        for (node, weight) in seeds {
            if let Some(i) = node_index(&self.data, self.file_count, *node) {
                personalization[i.index()] += weight.max(0.0);
            }
        }
        let edges = self.use_edges.get_or_init(|| UseEdges::new(&self.graph));
        // Twelve rounds settle the ordering of the top few hundred nodes; exact convergence buys nothing here.
        let ranks = pagerank(edges, self.graph.node_count(), Some(&personalization), 0.85, 12);
        let mut ranked: Vec<(usize, f32)> = ranks.into_iter().enumerate().filter(|(_, r)| *r > 0.0).collect();
        let by_rank = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > top {
            ranked.select_nth_unstable_by(top, by_rank);
            ranked.truncate(top);
        }
        ranked.sort_by(by_rank);
        ranked.into_iter().map(|(i, r)| (self.graph[NodeIndex::new(i)], r)).collect()
    }

    /// Number of edges of each kind.
    pub fn edge_counts(&self) -> HashMap<EdgeKind, usize> {
        let mut counts = HashMap::new();
        for edge in &self.data.edges {
            *counts.entry(edge.kind).or_insert(0) += 1;
        }
        counts
    }
}

fn node_index(data: &GraphData, file_count: usize, node: Node) -> Option<NodeIndex> {
    let modules = data.modules.len();
    let index = match node {
        Node::File(f) => (f as usize) < file_count,
        Node::Module(m) => (m as usize) < modules,
        Node::Symbol(s) => {
            let start = *data.symbol_offsets.get(s.file as usize)?;
            let end = *data.symbol_offsets.get(s.file as usize + 1)?;
            start + s.symbol < end
        }
    };
    if !index {
        return None;
    }
    Some(NodeIndex::new(match node {
        Node::File(f) => f as usize,
        Node::Module(m) => file_count + m as usize,
        Node::Symbol(s) => file_count + modules + (data.symbol_offsets[s.file as usize] + s.symbol) as usize,
    }))
}

/// Weighted PageRank over the use edges (calls, references, imports); dangling mass and the teleport go to the
/// personalisation vector (uniform when absent). Returns a probability per node.
fn pagerank(edges: &UseEdges, n: usize, personalization: Option<&[f32]>, damping: f32, iterations: usize) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    let teleport: Vec<f32> = match personalization {
        Some(p) if p.iter().sum::<f32>() > 0.0 => {
            let total: f32 = p.iter().sum();
            p.iter().map(|x| x / total).collect()
        }
        _ => vec![1.0 / n as f32; n],
    };
    let mut rank = teleport.clone();
    let mut next = vec![0.0f32; n];
    for _ in 0..iterations {
        let dangling: f32 = edges.dangling.iter().map(|&i| rank[i as usize]).sum();
        for (value, t) in next.iter_mut().zip(&teleport) {
            *value = (1.0 - damping + damping * dangling) * t;
        }
        for ((&s, &t), &share) in edges.sources.iter().zip(&edges.targets).zip(&edges.shares) {
            next[t as usize] += damping * rank[s as usize] * share;
        }
        let delta: f32 = rank.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if delta < 1e-7 {
            break;
        }
    }
    rank
}
