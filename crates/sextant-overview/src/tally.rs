//! The overview's counts over the symbol graph's cross-module edges (who uses a symbol from outside its module,
//! which modules depend on which, the calls that cross each module's boundary), kept between builds and brought up
//! to date from the files whose edges changed. A one-file edit re-reads that file's edges and those of the files
//! whose links it moved, not the million edges of a large repository: one cheap pass fingerprints each file's edge
//! list, and only files with a new fingerprint are taken out of the counts and added back.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};

use sextant_graph::{Edge, EdgeKind, Node, SymbolId};

/// The maps of the counts: hashed with foldhash (the keys are small and not chosen by an attacker).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// How often a module's code calls one symbol of another module, and from where.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Crossing {
    /// Calls in all.
    pub calls: u32,
    /// Calls by caller; the first caller in node order is the one an overview shows (an order that does not depend
    /// on which files an update re-read).
    callers: BTreeMap<Node, u32>,
}

impl Crossing {
    /// The caller shown for these calls.
    pub fn caller(&self) -> Option<Node> {
        self.callers.keys().next().copied()
    }
}

/// What one source file's edges add to the counts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Effect {
    /// A call or reference to a symbol of another module.
    User(SymbolId),
    /// An import or call (weight ≥ 0.5) into another module.
    DependsOn(usize),
    /// A certain call (weight ≥ 1) from code that is not a test into another module.
    Call { callee: SymbolId, callee_module: usize, caller: Node },
}

/// The counts, for one file list and one assignment of files to modules.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EdgeTally {
    /// Hash of the file paths and their modules the counts were made for: any other list starts afresh (file ids
    /// and modules are positions in those lists).
    layout: u64,
    /// Per source file, a fingerprint of its edge list as last counted.
    fingerprints: Vec<u64>,
    /// Per source file, what it added.
    effects: Vec<Vec<Effect>>,
    /// Edges from a module to a symbol of another, by (symbol, using module).
    users: HashMap<(SymbolId, usize), u32>,
    /// Per symbol: how many other modules use it.
    pub outside_users: HashMap<SymbolId, u32>,
    /// Imports and calls between modules, by (from, to).
    pub module_edges: HashMap<(usize, usize), u32>,
    /// Per module: calls into it from other modules, by callee.
    pub inbound: Vec<HashMap<SymbolId, Crossing>>,
    /// Per module: calls out of it into other modules, by callee.
    pub outbound: Vec<HashMap<SymbolId, Crossing>>,
}

impl EdgeTally {
    /// Counts for `paths` (by file id) assigned to `file_module` (of `modules` modules): `previous` brought up to
    /// date when it was made for the same layout, else counted from scratch. `test_file`: which files are tests (their
    /// calls are not flows).
    pub fn update(
        previous: Option<EdgeTally>,
        paths: &[&str],
        file_module: &[usize],
        modules: usize,
        test_file: &[bool],
        edges: &[Edge],
    ) -> EdgeTally {
        let layout = layout_hash(paths, file_module, modules);
        let files = paths.len();
        let mut tally = match previous {
            Some(tally) if tally.layout == layout => tally,
            _ => EdgeTally {
                layout,
                // No list of edges fingerprints as 0 (see `mix`), so every file is counted the first time.
                fingerprints: vec![0; files],
                effects: vec![Vec::new(); files],
                users: HashMap::default(),
                outside_users: HashMap::default(),
                module_edges: HashMap::default(),
                inbound: vec![HashMap::default(); modules],
                outbound: vec![HashMap::default(); modules],
            },
        };
        // One pass fingerprints each file's edges and notes where its runs of edges lie (a graph lists a file's
        // edges in a few runs, one per section of its canonical order).
        let mut fingerprints = vec![EMPTY; files];
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (at, edge) in edges.iter().enumerate() {
            let Some(f) = counted_source(edge).filter(|&f| f < files) else { continue };
            fingerprints[f] = mix(fingerprints[f], edge);
            match runs.last_mut() {
                Some((file, _, end)) if *file == f && *end == at => *end = at + 1,
                _ => runs.push((f, at, at + 1)),
            }
        }
        let dirty: Vec<bool> = fingerprints.iter().zip(&tally.fingerprints).map(|(new, old)| new != old).collect();
        for f in (0..files).filter(|&f| dirty[f]) {
            let effects = std::mem::take(&mut tally.effects[f]);
            tally.apply(file_module[f], &effects, false);
        }
        let module_of = |node: Node| match node {
            Node::File(f) => file_module.get(f as usize).copied(),
            Node::Symbol(s) => file_module.get(s.file as usize).copied(),
            Node::Module(_) => None,
        };
        for &(f, start, end) in runs.iter().filter(|(f, _, _)| dirty[*f]) {
            for edge in &edges[start..end] {
                let (Some(from), Some(to)) = (module_of(edge.from), module_of(edge.to)) else { continue };
                if from == to {
                    continue;
                }
                let effects = &mut tally.effects[f];
                if let (EdgeKind::Calls | EdgeKind::References, Node::Symbol(target)) = (edge.kind, edge.to) {
                    effects.push(Effect::User(target));
                }
                if matches!(edge.kind, EdgeKind::Imports | EdgeKind::Calls) && edge.weight >= 0.5 {
                    effects.push(Effect::DependsOn(to));
                }
                if let (EdgeKind::Calls, Node::Symbol(callee), true) = (edge.kind, edge.to, edge.weight >= 1.0) {
                    // Tests call everything; they say nothing about how the code's own data flows.
                    if !test_file.get(f).copied().unwrap_or(false) {
                        effects.push(Effect::Call { callee, callee_module: to, caller: edge.from });
                    }
                }
            }
        }
        for f in (0..files).filter(|&f| dirty[f]) {
            let effects = std::mem::take(&mut tally.effects[f]);
            tally.apply(file_module[f], &effects, true);
            tally.effects[f] = effects;
        }
        tally.fingerprints = fingerprints;
        tally
    }

    /// Adds (or takes out) what a file of module `from` contributes.
    fn apply(&mut self, from: usize, effects: &[Effect], add: bool) {
        for effect in effects {
            match *effect {
                Effect::User(symbol) => {
                    let (was, now) = step(self.users.entry((symbol, from)).or_default(), add);
                    if now == 0 {
                        self.users.remove(&(symbol, from));
                    }
                    // The symbol gains a using module with its first edge from it and loses it with the last.
                    if was == 0 && now > 0 {
                        *self.outside_users.entry(symbol).or_default() += 1;
                    } else if was > 0 && now == 0 {
                        if let Some(users) = self.outside_users.get_mut(&symbol) {
                            *users -= 1;
                            if *users == 0 {
                                self.outside_users.remove(&symbol);
                            }
                        }
                    }
                }
                Effect::DependsOn(to) => {
                    if step(self.module_edges.entry((from, to)).or_default(), add).1 == 0 {
                        self.module_edges.remove(&(from, to));
                    }
                }
                Effect::Call { callee, callee_module, caller } => {
                    for map in [self.inbound.get_mut(callee_module), self.outbound.get_mut(from)].into_iter().flatten()
                    {
                        let crossing = map.entry(callee).or_default();
                        step(&mut crossing.calls, add);
                        if step(crossing.callers.entry(caller).or_default(), add).1 == 0 {
                            crossing.callers.remove(&caller);
                        }
                        if crossing.calls == 0 {
                            map.remove(&callee);
                        }
                    }
                }
            }
        }
    }
}

/// Counts one up or down; returns (before, after).
fn step(count: &mut u32, add: bool) -> (u32, u32) {
    let was = *count;
    *count = if add { was + 1 } else { was.saturating_sub(1) };
    (was, *count)
}

/// The file whose edge list an edge belongs to, for the kinds the counts read (imports, calls, references).
fn counted_source(edge: &Edge) -> Option<usize> {
    if !matches!(edge.kind, EdgeKind::Imports | EdgeKind::Calls | EdgeKind::References) {
        return None;
    }
    match edge.from {
        Node::File(f) => Some(f as usize),
        Node::Symbol(s) => Some(s.file as usize),
        Node::Module(_) => None,
    }
}

/// The fingerprint of an empty edge list.
const EMPTY: u64 = 0x243f_6a88_85a3_08d3;

/// Folds one edge into a file's fingerprint (order matters: the graph lists a file's edges in a canonical order).
/// Plain multiply-xor mixing: this runs once per edge of the repository on every build.
fn mix(fingerprint: u64, edge: &Edge) -> u64 {
    let to = node_bits(edge.to) ^ ((edge.kind as u64) << 58) ^ (u64::from(edge.weight.to_bits()) << 13);
    let h = (fingerprint ^ node_bits(edge.from)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let h = (h.rotate_left(31) ^ to).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    // Never 0, the mark of a file not counted yet.
    (h ^ (h >> 29)) | 1
}

/// A node as one number (kind in the top bits).
fn node_bits(node: Node) -> u64 {
    match node {
        Node::File(f) => u64::from(f) | 1 << 62,
        Node::Module(m) => u64::from(m) | 2 << 62,
        Node::Symbol(s) => (u64::from(s.file) << 32 | u64::from(s.symbol)) ^ 3 << 62,
    }
}

/// Hash of the file paths and their modules.
fn layout_hash(paths: &[&str], file_module: &[usize], modules: usize) -> u64 {
    let mut hasher = foldhash::fast::FixedState::with_seed(modules as u64).build_hasher();
    for (path, module) in paths.iter().zip(file_module) {
        path.hash(&mut hasher);
        module.hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn random_edge(rng: &mut Lcg, from_file: u32, files: u32) -> Edge {
        let kind =
            [EdgeKind::Imports, EdgeKind::Calls, EdgeKind::References, EdgeKind::Contains][rng.below(4) as usize];
        let to_file = rng.below(u64::from(files)) as u32;
        let from = match rng.below(2) {
            0 => Node::File(from_file),
            _ => Node::Symbol(SymbolId { file: from_file, symbol: rng.below(3) as u32 }),
        };
        let to = match kind {
            EdgeKind::Imports => Node::File(to_file),
            _ => Node::Symbol(SymbolId { file: to_file, symbol: rng.below(3) as u32 }),
        };
        Edge { from, to, kind, weight: [0.3, 0.5, 1.0][rng.below(3) as usize] }
    }

    /// Counts brought up to date edit after edit (files whose edges are replaced, emptied, or left alone) equal the
    /// counts made from scratch over the same edges, every time; a new module assignment starts afresh.
    #[test]
    fn counts_kept_up_to_date_equal_counts_made_from_scratch() {
        let files = 12u32;
        let paths: Vec<String> = (0..files).map(|f| format!("m{}/f{f}.rs", f % 4)).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let file_module: Vec<usize> = (0..files as usize).map(|f| f % 4).collect();
        let test_file: Vec<bool> = (0..files as usize).map(|f| f == 5).collect();
        let mut rng = Lcg(7);
        let mut per_file: Vec<Vec<Edge>> =
            (0..files).map(|f| (0..rng.below(12)).map(|_| random_edge(&mut rng, f, files)).collect()).collect();
        let edges = |per_file: &[Vec<Edge>]| per_file.concat();
        let mut kept = EdgeTally::update(None, &paths, &file_module, 4, &test_file, &edges(&per_file));
        assert!(!kept.module_edges.is_empty() && !kept.outside_users.is_empty(), "the fixture crosses modules");
        for _ in 0..200 {
            for _ in 0..=rng.below(3) {
                let f = rng.below(u64::from(files)) as usize;
                per_file[f] = (0..rng.below(10)).map(|_| random_edge(&mut rng, f as u32, files)).collect();
            }
            let all = edges(&per_file);
            kept = EdgeTally::update(Some(kept), &paths, &file_module, 4, &test_file, &all);
            let fresh = EdgeTally::update(None, &paths, &file_module, 4, &test_file, &all);
            assert_eq!(kept, fresh);
        }
        // Files moved to other modules: nothing of the old counts may survive.
        let moved: Vec<usize> = (0..files as usize).map(|f| (f + 1) % 4).collect();
        let all = edges(&per_file);
        let kept = EdgeTally::update(Some(kept), &paths, &moved, 4, &test_file, &all);
        assert_eq!(kept, EdgeTally::update(None, &paths, &moved, 4, &test_file, &all));
    }

    /// The numbers themselves, on a hand-made graph: one symbol used from two other modules, a test's call that is
    /// not a flow, an uncertain call that is a dependency but not a flow.
    #[test]
    fn counts_users_dependencies_and_flows() {
        let paths = ["a/lib.rs", "b/use.rs", "c/use.rs", "c/tests/t.rs"];
        let file_module = [1, 2, 3, 3];
        let test_file = [false, false, false, true];
        let target = SymbolId { file: 0, symbol: 0 };
        let call = |file: u32, weight: f32| Edge {
            from: Node::Symbol(SymbolId { file, symbol: 0 }),
            to: Node::Symbol(target),
            kind: EdgeKind::Calls,
            weight,
        };
        let edges = [call(1, 1.0), call(1, 1.0), call(2, 0.5), call(3, 1.0)];
        let tally = EdgeTally::update(None, &paths, &file_module, 4, &test_file, &edges);
        assert_eq!(tally.outside_users.get(&target), Some(&2), "modules b and c");
        assert_eq!(tally.module_edges.get(&(2, 1)), Some(&2));
        assert_eq!(tally.module_edges.get(&(3, 1)), Some(&2), "the uncertain call and the test's");
        let inbound = &tally.inbound[1][&target];
        assert_eq!((inbound.calls, inbound.caller()), (2, Some(Node::Symbol(SymbolId { file: 1, symbol: 0 }))));
        assert!(tally.outbound[3].is_empty(), "neither a test's call nor an uncertain one is a flow");
    }
}
