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

pub use resolve::LinkStats;

use std::collections::{HashMap, HashSet};

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
    /// Every kind, in declaration order (`kind as usize` is its position).
    pub const ALL: [EdgeKind; 5] =
        [EdgeKind::Contains, EdgeKind::Defines, EdgeKind::Imports, EdgeKind::Calls, EdgeKind::References];

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

/// The previous link of a repository, for [`SymbolGraph::update_with_manifests`].
#[derive(Clone, Copy)]
pub struct PreviousLink<'a> {
    /// Its inputs (old paths and facts), in its order.
    pub files: &'a [GraphInput<'a>],
    /// What it produced.
    pub data: &'a GraphData,
    /// Paths whose facts differ between its inputs and the new ones (edited, added, removed).
    pub changed: &'a HashSet<&'a str>,
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
    /// Per file: a hash of what its imports bring into scope, so an update can tell whose scope changed.
    pub scope_hashes: Vec<u64>,
    /// Per file: a hash of its package and the packages it may use.
    pub package_hashes: Vec<u64>,
    /// A hash of the repository-wide linking context (the Rust crates and module trees): when it changes, an
    /// update links every file again.
    pub context_hash: u64,
    /// What the update that produced this graph resolved from imports, for the next update in this process
    /// (never stored, never compared).
    #[serde(skip)]
    pub link_memo: LinkMemoSlot,
}

/// Holds a [`GraphData`]'s in-memory link state: always equal to another, printed as its presence only.
#[derive(Clone, Default)]
pub struct LinkMemoSlot(pub(crate) Option<std::sync::Arc<resolve::LinkMemo>>);

impl PartialEq for LinkMemoSlot {
    fn eq(&self, _: &LinkMemoSlot) -> bool {
        true
    }
}

impl std::fmt::Debug for LinkMemoSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "LinkMemo" } else { "None" })
    }
}

/// The graph ready for queries.
pub struct SymbolGraph {
    data: std::sync::Arc<GraphData>,
    /// The queryable graph, built on first use: a reader installed right after a commit answers definition
    /// lookups and searches without waiting for it (about 40 ms for kafka's million edges).
    graph: std::sync::OnceLock<DiGraph<Node, (EdgeKind, f32)>>,
    file_count: usize,
    /// The use edges (calls, references, imports) as flat arrays, built on first use by PageRank.
    use_edges: std::sync::OnceLock<UseEdges>,
    /// Per file, the weight of its use edges to other files ([`SymbolGraph::file_link_weight`]), on first use.
    link_weights: std::sync::OnceLock<Vec<f32>>,
}

/// Use edges in flat arrays, grouped by source (compressed sparse rows): the PageRank loops touch nothing else.
struct UseEdges {
    sources: Vec<u32>,
    targets: Vec<u32>,
    /// Edge weight divided by its source's total out-weight.
    shares: Vec<f32>,
    /// Edges of node `i` are `first_edge[i]..first_edge[i + 1]`.
    first_edge: Vec<u32>,
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
        let mut edges: Vec<(u32, u32, f32)> = graph
            .edge_references()
            .filter(|e| is_use(e.weight().0))
            .map(|e| {
                let source = e.source().index();
                (source as u32, e.target().index() as u32, e.weight().1 / out_weight[source])
            })
            .collect();
        edges.sort_by_key(|&(source, target, _)| (source, target));
        let mut first_edge = vec![0u32; graph.node_count() + 1];
        for &(source, _, _) in &edges {
            first_edge[source as usize + 1] += 1;
        }
        for i in 0..graph.node_count() {
            first_edge[i + 1] += first_edge[i];
        }
        let sources = edges.iter().map(|e| e.0).collect();
        let targets = edges.iter().map(|e| e.1).collect();
        let shares = edges.iter().map(|e| e.2).collect();
        let dangling = (0..graph.node_count() as u32).filter(|&i| out_weight[i as usize] == 0.0).collect();
        UseEdges { sources, targets, shares, first_edge, dangling }
    }
}

impl SymbolGraph {
    /// Builds the graph: resolves references and imports, then ranks. Without manifests, Rust crates are told
    /// apart by layout (`src/lib.rs`, `src/main.rs`, `src/bin/`, `tests/` …) and packages are not filtered.
    pub fn build(files: &[GraphInput<'_>]) -> SymbolGraph {
        Self::link(files, &manifest::Packages::new(&[], &[]), None).0
    }

    /// Builds the graph with package manifests (see [`Manifest`]): package names resolve imports
    /// (`grep_searcher::…` to `crates/searcher/src`, `@acme/ui` to `packages/ui`, Go module paths to their
    /// directories), and declared dependencies limit what a reference may resolve to.
    pub fn build_with_manifests(files: &[GraphInput<'_>], manifests: &[Manifest<'_>]) -> SymbolGraph {
        Self::update_with_manifests(files, manifests, None).0
    }

    /// [`SymbolGraph::build_with_manifests`] after a change: the references of files the change cannot affect keep
    /// their previous edges, the rest are resolved again (every file when the manifests, the Rust module trees
    /// or the Go packages changed, or when most files are affected). The result equals a full build's; ranks are
    /// recomputed over the whole graph (a linear pass).
    pub fn update_with_manifests(
        files: &[GraphInput<'_>],
        manifests: &[Manifest<'_>],
        previous: Option<PreviousLink<'_>>,
    ) -> (SymbolGraph, LinkStats) {
        let manifests: Vec<(&str, &str)> = manifests.iter().map(|m| (m.path, m.text)).collect();
        Self::link(files, &manifest::Packages::new(&manifests, &[]), previous)
    }

    /// [`SymbolGraph::update_with_manifests`] without computing centrality, the one whole-graph pass of an update:
    /// each file keeps its previous ranks (an edited file's symbols those of the same name, new ones the average).
    /// The caller makes the ranks exact later with [`SymbolGraph::compute_ranks`]; everything else equals a full
    /// build's.
    pub fn update_carrying_ranks(
        files: &[GraphInput<'_>],
        manifests: &[Manifest<'_>],
        previous: PreviousLink<'_>,
    ) -> (GraphData, LinkStats) {
        let manifests: Vec<(&str, &str)> = manifests.iter().map(|m| (m.path, m.text)).collect();
        let (mut data, stats) = resolve::resolve(files, &manifest::Packages::new(&manifests, &[]), Some(previous));
        carry_ranks(files, &mut data, &previous);
        (data, stats)
    }

    /// Computes exact centrality (weighted PageRank over use edges) into `data`, whose `symbol_offsets` say how
    /// many files and symbols it has.
    pub fn compute_ranks(data: &mut GraphData) {
        Self::compute_ranks_unless(data, &|| false);
    }

    /// [`SymbolGraph::compute_ranks`] that gives up as soon as `stop` says so (it is asked between the steps and
    /// after every iteration): whether the ranks were computed. `data` is untouched when it gave up.
    pub fn compute_ranks_unless(data: &mut GraphData, stop: &dyn Fn() -> bool) -> bool {
        let file_count = data.symbol_offsets.len().saturating_sub(1);
        let graph = Self::petgraph(data, file_count);
        if stop() {
            return false;
        }
        let edges = UseEdges::new(&graph);
        match pagerank_unless(&edges, graph.node_count(), None, 0.85, 50, stop) {
            Some(node_rank) => {
                assign_ranks(data, &node_rank, file_count);
                true
            }
            None => false,
        }
    }

    /// Builds the graph with package aliases: `(name, path)` pairs saying that imports starting with `name`
    /// (`grep_searcher::…`) refer to the files under `path` (`crates/searcher/src`). Dependencies are unknown,
    /// so packages are not filtered; prefer [`SymbolGraph::build_with_manifests`].
    pub fn build_with_aliases(files: &[GraphInput<'_>], aliases: &[(String, String)]) -> SymbolGraph {
        Self::link(files, &manifest::Packages::new(&[], aliases), None).0
    }

    fn link(
        files: &[GraphInput<'_>],
        packages: &manifest::Packages,
        previous: Option<PreviousLink<'_>>,
    ) -> (SymbolGraph, LinkStats) {
        let (mut data, stats) = resolve::resolve(files, packages, previous);
        let graph = Self::petgraph(&data, files.len());
        rank_into(&mut data, &graph, files.len());
        let graph = std::sync::OnceLock::from(graph);
        (
            SymbolGraph {
                data: std::sync::Arc::new(data),
                graph,
                file_count: files.len(),
                use_edges: std::sync::OnceLock::new(),
                link_weights: std::sync::OnceLock::new(),
            },
            stats,
        )
    }

    /// Rebuilds the queryable graph from stored data; `file_count` is the number of files it was built from.
    pub fn from_data(data: GraphData) -> SymbolGraph {
        SymbolGraph::from_shared(std::sync::Arc::new(data))
    }

    /// Wraps shared stored data (see [`SymbolGraph::from_data`]).
    pub fn from_shared(data: std::sync::Arc<GraphData>) -> SymbolGraph {
        let file_count = data.symbol_offsets.len().saturating_sub(1);
        SymbolGraph {
            data,
            graph: std::sync::OnceLock::new(),
            file_count,
            use_edges: std::sync::OnceLock::new(),
            link_weights: std::sync::OnceLock::new(),
        }
    }

    /// The queryable graph, built now if this is its first use.
    fn petgraph_view(&self) -> &DiGraph<Node, (EdgeKind, f32)> {
        self.graph.get_or_init(|| Self::petgraph(&self.data, self.file_count))
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
        std::sync::Arc::unwrap_or_clone(self.data)
    }

    /// The stored form, shared (no copy).
    pub fn shared_data(&self) -> std::sync::Arc<GraphData> {
        std::sync::Arc::clone(&self.data)
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
        let graph = self.petgraph_view();
        let mut out: Vec<(Node, f32)> = graph
            .edges_directed(index, direction)
            .filter(|e| e.weight().0 == kind)
            .map(|e| {
                let other = if direction == Direction::Incoming { e.source() } else { e.target() };
                (graph[other], e.weight().1)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The total weight of `file`'s links to other files: the weight [`SymbolGraph::linked_files`] divides by, for
    /// any file in one pass over the edges (made on first use), so a caller can relate many files to a few without
    /// walking each one's edges.
    pub fn file_link_weight(&self, file: u32) -> f32 {
        let weights = self.link_weights.get_or_init(|| {
            let graph = self.petgraph_view();
            let mut weights = vec![0.0f32; self.file_count];
            let file_of = |node| match graph[node] {
                Node::File(f) => Some(f),
                Node::Symbol(id) => Some(id.file),
                Node::Module(_) => None,
            };
            for edge in graph.edge_references() {
                let (kind, weight) = *edge.weight();
                if !matches!(kind, EdgeKind::Calls | EdgeKind::References | EdgeKind::Imports) {
                    continue;
                }
                if let (Some(from), Some(to)) = (file_of(edge.source()), file_of(edge.target())) {
                    if from != to {
                        for f in [from, to] {
                            if let Some(total) = weights.get_mut(f as usize) {
                                *total += weight;
                            }
                        }
                    }
                }
            }
            weights
        });
        weights.get(file as usize).copied().unwrap_or(0.0)
    }

    /// The files linked to `file` by use edges (calls, references, imports) in either direction, from the file or
    /// any symbol it defines to another file or a symbol defined there: what it uses and what uses it. Each comes
    /// with its share of `file`'s total link weight, largest first (ties by file). Links within `file` do not count.
    pub fn linked_files(&self, file: u32) -> Vec<(u32, f32)> {
        let Some(file_node) = node_index(&self.data, self.file_count, Node::File(file)) else {
            return Vec::new();
        };
        let graph = self.petgraph_view();
        let symbol_count =
            match (self.data.symbol_offsets.get(file as usize), self.data.symbol_offsets.get(file as usize + 1)) {
                (Some(start), Some(end)) => end.saturating_sub(*start),
                _ => 0,
            };
        let nodes = std::iter::once(file_node).chain(
            (0..symbol_count)
                .filter_map(|symbol| node_index(&self.data, self.file_count, Node::Symbol(SymbolId { file, symbol }))),
        );
        let mut weights: HashMap<u32, f32> = HashMap::new();
        let mut total = 0.0f32;
        for node in nodes {
            for direction in [Direction::Outgoing, Direction::Incoming] {
                for edge in graph.edges_directed(node, direction) {
                    let (kind, weight) = *edge.weight();
                    if !matches!(kind, EdgeKind::Calls | EdgeKind::References | EdgeKind::Imports) {
                        continue;
                    }
                    let other = if direction == Direction::Incoming { edge.source() } else { edge.target() };
                    let other_file = match graph[other] {
                        Node::File(f) => f,
                        Node::Symbol(id) => id.file,
                        Node::Module(_) => continue,
                    };
                    if other_file != file {
                        *weights.entry(other_file).or_insert(0.0) += weight;
                        total += weight;
                    }
                }
            }
        }
        let mut linked: Vec<(u32, f32)> = weights.into_iter().map(|(f, w)| (f, w / total)).collect();
        linked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        linked
    }

    /// Builds what [`SymbolGraph::personalized_rank`] needs on first use, so the first query does not pay for it.
    pub fn prepare_personalized_rank(&self) {
        self.use_edges.get_or_init(|| UseEdges::new(self.petgraph_view()));
    }

    /// PageRank personalised on `seeds` (node, weight): what matters around the seeds, for context building.
    /// Computed by local push, so its cost follows the seeds' neighbourhood, not the graph's size. Returns the
    /// `top` highest-ranked nodes, best first.
    pub fn personalized_rank(&self, seeds: &[(Node, f32)], top: usize) -> Vec<(Node, f32)> {
        let mut personalization = vec![0.0f32; self.petgraph_view().node_count()];
        for (node, weight) in seeds {
            if let Some(i) = node_index(&self.data, self.file_count, *node) {
                personalization[i.index()] += weight.max(0.0);
            }
        }
        let edges = self.use_edges.get_or_init(|| UseEdges::new(self.petgraph_view()));
        let ranks = local_pagerank(edges, &personalization, 0.85);
        let mut ranked: Vec<(usize, f32)> = ranks.into_iter().enumerate().filter(|(_, r)| *r > 0.0).collect();
        let by_rank = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > top {
            ranked.select_nth_unstable_by(top, by_rank);
            ranked.truncate(top);
        }
        ranked.sort_by(by_rank);
        let graph = self.petgraph_view();
        ranked.into_iter().map(|(i, r)| (graph[NodeIndex::new(i)], r)).collect()
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

/// Residual below which a node's mass is not pushed further, per unit of out-degree (approximate PageRank's ε).
const PUSH_EPSILON: f32 = 1e-6;
/// Edge visits after which pushing stops, whatever is left (a bound on one query's work on any graph).
const MAX_EDGE_VISITS: usize = 4_000_000;

/// Personalised PageRank by forward push (Andersen, Chung and Lang): mass starts at the seeds and is pushed along
/// use edges only where a node's residual is worth it, so the work depends on the seeds' neighbourhood and ε, not
/// on the size of the graph (a million-line repository's graph costs what a small one does). Dangling mass returns
/// to the seeds, as the teleport does. Returns the (approximate) probability per node; nodes never reached are 0.
fn local_pagerank(edges: &UseEdges, personalization: &[f32], damping: f32) -> Vec<f32> {
    let n = personalization.len();
    let total: f32 = personalization.iter().sum();
    let mut rank = vec![0.0f32; n];
    if n == 0 || total <= 0.0 {
        return rank;
    }
    let teleport: Vec<(usize, f32)> =
        personalization.iter().enumerate().filter(|(_, w)| **w > 0.0).map(|(i, w)| (i, w / total)).collect();
    let mut residual = vec![0.0f32; n];
    let mut queued = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    for &(i, w) in &teleport {
        residual[i] = w;
        queued[i] = true;
        queue.push_back(i);
    }
    let degree = |i: usize| (edges.first_edge[i + 1] - edges.first_edge[i]) as usize;
    let worth_pushing = |r: f32, i: usize| r > PUSH_EPSILON * degree(i).max(1) as f32;
    let mut visits = 0usize;
    while let Some(u) = queue.pop_front() {
        queued[u] = false;
        let mass = std::mem::take(&mut residual[u]);
        rank[u] += (1.0 - damping) * mass;
        let pushed = damping * mass;
        let (start, end) = (edges.first_edge[u] as usize, edges.first_edge[u + 1] as usize);
        let mut spread = |v: usize, amount: f32, queue: &mut std::collections::VecDeque<usize>| {
            residual[v] += amount;
            if !queued[v] && worth_pushing(residual[v], v) {
                queued[v] = true;
                queue.push_back(v);
            }
        };
        if start == end {
            for &(s, w) in &teleport {
                spread(s, pushed * w, &mut queue);
            }
            visits += teleport.len();
        } else {
            for e in start..end {
                spread(edges.targets[e] as usize, pushed * edges.shares[e], &mut queue);
            }
            visits += end - start;
        }
        if visits > MAX_EDGE_VISITS {
            break;
        }
    }
    rank
}

/// Weighted PageRank over the use edges (calls, references, imports); dangling mass and the teleport go to the
/// personalisation vector (uniform when absent). Returns a probability per node.
/// Centrality over `graph` (built from `data`) into `data`'s rank fields, scaled so the average node scores 1.
fn rank_into(data: &mut GraphData, graph: &DiGraph<Node, (EdgeKind, f32)>, file_count: usize) {
    let node_rank = pagerank(&UseEdges::new(graph), graph.node_count(), None, 0.85, 50);
    assign_ranks(data, &node_rank, file_count);
}

/// Node ranks (files, then modules, then symbols) into `data`'s rank fields, scaled so the average node scores 1.
fn assign_ranks(data: &mut GraphData, node_rank: &[f32], file_count: usize) {
    let scale = node_rank.len() as f32;
    let first_symbol = file_count + data.modules.len();
    data.symbol_rank = node_rank[first_symbol..].iter().map(|r| r * scale).collect();
    data.file_rank = (0..file_count)
        .map(|f| {
            let (start, end) = (data.symbol_offsets[f] as usize, data.symbol_offsets[f + 1] as usize);
            (node_rank[f] + node_rank[first_symbol + start..first_symbol + end].iter().sum::<f32>()) * scale
        })
        .collect();
}

/// Gives `data` (just linked, unranked) the previous link's ranks: an unchanged file keeps its symbols' ranks; a
/// changed one gives each symbol the previous rank of a symbol of the same name in that file, else the average (1);
/// a new file's symbols get the average, and the file the sum over its symbols plus its own average.
fn carry_ranks(files: &[GraphInput<'_>], data: &mut GraphData, previous: &PreviousLink<'_>) {
    let old_index: HashMap<&str, usize> = previous.files.iter().enumerate().map(|(i, f)| (f.path, i)).collect();
    let old = previous.data;
    let old_symbols = |o: usize| -> Option<&[f32]> {
        let (start, end) = (*old.symbol_offsets.get(o)? as usize, *old.symbol_offsets.get(o + 1)? as usize);
        old.symbol_rank.get(start..end)
    };
    let mut symbol_rank = Vec::with_capacity(data.symbol_offsets.last().copied().unwrap_or(0) as usize);
    let mut file_rank = Vec::with_capacity(files.len());
    for file in files {
        let carried = old_index.get(file.path).and_then(|&o| Some((o, old_symbols(o)?)));
        let symbols = &file.facts.symbols;
        match carried {
            Some((o, ranks)) if !previous.changed.contains(file.path) && ranks.len() == symbols.len() => {
                symbol_rank.extend_from_slice(ranks);
                file_rank.push(old.file_rank.get(o).copied().unwrap_or(1.0));
            }
            Some((o, ranks)) => {
                let old_file = &previous.files[o];
                let by_name: HashMap<&str, f32> =
                    old_file.facts.symbols.iter().zip(ranks).map(|(s, &r)| (s.name.as_str(), r)).collect();
                symbol_rank.extend(symbols.iter().map(|s| by_name.get(s.name.as_str()).copied().unwrap_or(1.0)));
                file_rank.push(old.file_rank.get(o).copied().unwrap_or(1.0));
            }
            None => {
                symbol_rank.extend(std::iter::repeat_n(1.0, symbols.len()));
                file_rank.push(1.0 + symbols.len() as f32);
            }
        }
    }
    data.symbol_rank = symbol_rank;
    data.file_rank = file_rank;
}

fn pagerank(edges: &UseEdges, n: usize, personalization: Option<&[f32]>, damping: f32, iterations: usize) -> Vec<f32> {
    pagerank_unless(edges, n, personalization, damping, iterations, &|| false).unwrap_or_default()
}

/// [`pagerank`] that returns `None` once `stop` says so (asked after every iteration).
fn pagerank_unless(
    edges: &UseEdges,
    n: usize,
    personalization: Option<&[f32]>,
    damping: f32,
    iterations: usize,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<f32>> {
    if n == 0 {
        return Some(Vec::new());
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
        if stop() {
            return None;
        }
    }
    Some(rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph of 300 files with three irregular out-edges each and some dangling nodes.
    fn sample() -> DiGraph<Node, (EdgeKind, f32)> {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..300).map(|i| graph.add_node(Node::File(i))).collect();
        for i in 0..300usize {
            if i % 17 == 0 {
                continue;
            }
            for (step, weight) in [(7, 1.0), (13, 0.5), (101, 2.0)] {
                let target = (i * step + 3) % 300;
                if target != i {
                    graph.add_edge(nodes[i], nodes[target], (EdgeKind::Calls, weight));
                }
            }
        }
        graph
    }

    #[test]
    fn local_pagerank_ranks_the_top_nodes_like_the_global_one() {
        let graph = sample();
        let edges = UseEdges::new(&graph);
        let mut personalization = vec![0.0f32; graph.node_count()];
        personalization[5] = 2.0;
        personalization[42] = 1.0;
        let global = pagerank(&edges, graph.node_count(), Some(&personalization), 0.85, 200);
        let local = local_pagerank(&edges, &personalization, 0.85);
        let top = |ranks: &[f32]| {
            let mut order: Vec<usize> = (0..ranks.len()).collect();
            order.sort_by(|a, b| ranks[*b].total_cmp(&ranks[*a]).then(a.cmp(b)));
            order.truncate(10);
            order
        };
        assert_eq!(top(&local), top(&global));
        for (l, g) in local.iter().zip(&global) {
            assert!((l - g).abs() < 1e-3, "{l} vs {g}");
        }
        let total: f32 = local.iter().sum();
        assert!(total > 0.99 && total <= 1.0 + 1e-4, "mass {total}");
    }
}
