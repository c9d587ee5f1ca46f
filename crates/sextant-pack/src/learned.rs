//! A learned reranking of a task's best candidate files: gradient-boosted trees (LambdaMART) over each file's
//! evidence by signal and its relations to the best files, fitted offline on commit-message tasks of repositories
//! the development set never saw.
//!
//! The fusion in [`crate::rank`] adds up reciprocal ranks with hand-tuned weights; the trees learn how the
//! signals interact (a file first in whole-file BM25 but absent from the chunk lists, a test that only the title
//! found, a helper that always changes with the best file, …). The model is `learned_files.model` (the trees of
//! five boosters, each leaf already divided by five, so their sum is the boosters' mean), written by
//! `benches/eval/learn_files.py` from the features `eval-runner --features "learned_files=0"` records;
//! [`FEATURE_NAMES`] must list the features in the order that script does.
//!
//! A second model orders the code a pack fills in (`learned_chunks.model`, three boosters, binary log-odds that a
//! code candidate touches the change, over [`CHUNK_FEATURE_NAMES`]): written by `benches/eval/learn_chunks.py` from
//! the candidates `eval-runner --chunk-features "learned_chunks=0"` records. With `RankWeights::learned_chunks`
//! on (it is off by default: on the development set it lost where the fused order was tuned; see the README),
//! `render` fills by its score less the log of each candidate's size, the likeliest code per token first.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The features of a candidate file, in the model's order (see `benches/eval/learn_files.py`).
pub const FEATURE_NAMES: &[&str] = &[
    "lexical_task:log",
    "lexical_identifiers:log",
    "lexical_files:log",
    "file_bm25:log",
    "title:log",
    "segments:log",
    "feedback:log",
    "path_terms:log",
    "graph_units:log",
    "graph:log",
    "symbol_word:log",
    "symbol_identifier:log",
    "symbol_compound:log",
    "path:log",
    "path_units:log",
    "qualified_files:log",
    "qualified_symbol:log",
    "module:log",
    "module_units:log",
    "mentioned:log",
    "file_cards:log",
    "semantic:log",
    "semantic_files:log",
    "file_bm25_share",
    "in_scope",
    "is_test",
    "log_chunks",
    "log_churn",
    "cochange",
    "since_change",
    "unit_part/max",
    "fused/max",
    "final:log",
    "final_score/max",
    "long",
    "n_cands_with_bm25",
    // How the file relates to the best files (`rank::note_relations_to_best_files`).
    "cochange_best",
    "cochange_reverse",
    "graph_best",
    "graph_reverse",
    "message:log",
    // Recorded for learning only (`PackRequest::record_features`): packs leave them at 0, so a shipped model must
    // not split on them (a test checks).
    "same_directory",
    "auxiliary",
    "named_stem",
];

/// The features of a code candidate the learned chunk order reads, in its model's order (computed by
/// `render::chunk_features`): its place in each chunk list of [`crate::UNIT_SIGNALS`] (as the file model's
/// places), then [`CHUNK_VALUES`].
pub const CHUNK_FEATURE_NAMES: [&str; crate::rank::UNIT_SIGNALS.len() + CHUNK_VALUES.len()] =
    concat(crate::rank::UNIT_SIGNALS, CHUNK_VALUES);

/// The chunk features after the list places.
const CHUNK_VALUES: [&str; 18] = [
    "score/best",
    "own/best",
    "prior_share",
    "pulled",
    "log_rank",
    "log_file_place",
    "file_score/best",
    "log_rank_in_file",
    "log_bytes",
    "log_lines",
    "position_in_file",
    "log_file_chunks",
    "named",
    "is_test",
    "auxiliary",
    "long",
    "signals",
    "log_file_candidates",
];

/// `first` followed by `second`, at compile time.
const fn concat<const A: usize, const B: usize, const C: usize>(
    first: [&'static str; A],
    second: [&'static str; B],
) -> [&'static str; C] {
    let mut out = [""; C];
    let mut i = 0;
    while i < C {
        out[i] = if i < A { first[i] } else { second[i - A] };
        i += 1;
    }
    out
}

/// Where [`CHUNK_FEATURE_NAMES`] holds `log_bytes`, the size the chunk order weighs against the model's score.
pub(crate) const CHUNK_LOG_BYTES: usize = 19;

/// Signals whose list places become the first features, in order (each `1 - ln(place) / ln(300)`, 0 if absent).
const PLACES: usize = 23;

/// How many of the best files the model reorders; the rest keep their places behind them.
pub const RERANKED_FILES: usize = 60;

/// The shipped file model (text: one `tree` line per tree, then its nodes, `s FEATURE THRESHOLD LEFT RIGHT` or
/// `l VALUE`, children by their index within the tree).
const MODEL: &str = include_str!("learned_files.model");

/// The shipped chunk model (the same text), written by `benches/eval/learn_chunks.py`: log-odds that a code
/// candidate holds part of the change, over [`CHUNK_FEATURE_NAMES`].
const CHUNK_MODEL: &str = include_str!("learned_chunks.model");

/// One node of a regression tree.
#[derive(Debug, Clone, Copy)]
enum Node {
    /// Goes to `left` when the feature is at most `threshold`, else to `right`.
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    Leaf(f32),
}

/// A sum of regression trees over a fixed list of features ([`FEATURE_NAMES`] for files, [`CHUNK_FEATURE_NAMES`]
/// for chunks).
#[derive(Debug)]
pub struct TreeModel {
    /// Every tree's nodes, one tree after another, children by their index in this array.
    nodes: Vec<FlatNode>,
    /// Where each tree's root is in `nodes`.
    roots: Vec<u32>,
}

/// A node of [`TreeModel`]: 16 bytes, so the trees a pack walks (thousands of nodes) stay in the cache.
#[derive(Debug, Clone, Copy)]
struct FlatNode {
    /// The feature a split reads, or [`LEAF`].
    feature: u32,
    /// A split's threshold, lowered to the largest `f32` not above the model's `f64` (so `value <= threshold`
    /// decides as the model does for every `f32` value); a leaf's value.
    value: f32,
    left: u32,
    right: u32,
}

/// The `feature` of a leaf.
const LEAF: u32 = u32::MAX;

impl TreeModel {
    /// The shipped file model, parsed once.
    pub fn files() -> &'static TreeModel {
        static MODEL_CELL: OnceLock<TreeModel> = OnceLock::new();
        MODEL_CELL.get_or_init(|| TreeModel::parse_or_empty(MODEL, FEATURE_NAMES.len()))
    }

    /// The shipped chunk model, parsed once.
    pub fn chunks() -> &'static TreeModel {
        static MODEL_CELL: OnceLock<TreeModel> = OnceLock::new();
        MODEL_CELL.get_or_init(|| TreeModel::parse_or_empty(CHUNK_MODEL, CHUNK_FEATURE_NAMES.len()))
    }

    /// A shipped model: its text is part of the build and checked by a test, so it cannot fail to parse here.
    fn parse_or_empty(text: &str, features: usize) -> TreeModel {
        TreeModel::parse(text, features).unwrap_or(TreeModel { nodes: Vec::new(), roots: Vec::new() })
    }

    /// Parses a model's text over `features` features; an error names the line.
    pub fn parse(text: &str, features: usize) -> Result<TreeModel, String> {
        let mut trees: Vec<Vec<Node>> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let bad = || format!("line {}: `{line}`", number + 1);
            let number_at = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).ok_or_else(bad);
            let index_at = |i: usize| fields.get(i).and_then(|f| f.parse::<usize>().ok()).ok_or_else(bad);
            match fields.first().copied() {
                None => {}
                Some("tree") => trees.push(Vec::new()),
                Some("s") => {
                    let node = Node::Split {
                        feature: index_at(1)?,
                        threshold: number_at(2)?,
                        left: index_at(3)?,
                        right: index_at(4)?,
                    };
                    trees.last_mut().ok_or_else(bad)?.push(node);
                }
                Some("l") => trees.last_mut().ok_or_else(bad)?.push(Node::Leaf(number_at(1)? as f32)),
                Some(_) => return Err(bad()),
            }
        }
        let (mut nodes, mut roots) = (Vec::new(), Vec::new());
        for (t, tree) in trees.iter().enumerate() {
            // Children must come after their parent, so every walk ends at a leaf.
            let offset = nodes.len() as u32;
            roots.push(offset);
            for (at, node) in tree.iter().enumerate() {
                nodes.push(match *node {
                    Node::Split { feature, threshold, left, right } => {
                        if feature >= features || left >= tree.len() || right >= tree.len() {
                            return Err(format!("tree {t}: a split points outside the tree or the features"));
                        }
                        if left <= at || right <= at {
                            return Err(format!("tree {t}: a split points back to an earlier node"));
                        }
                        FlatNode {
                            feature: feature as u32,
                            value: lower_to_f32(threshold),
                            left: offset + left as u32,
                            right: offset + right as u32,
                        }
                    }
                    Node::Leaf(value) => FlatNode { feature: LEAF, value, left: 0, right: 0 },
                });
            }
            if tree.is_empty() {
                return Err(format!("tree {t} has no node"));
            }
        }
        Ok(TreeModel { nodes, roots })
    }

    /// How many trees the model sums.
    pub fn trees(&self) -> usize {
        self.roots.len()
    }

    /// The model's score of one feature vector (higher is more likely a file the task changes).
    pub fn score(&self, features: &[f32]) -> f32 {
        self.score_all(std::slice::from_ref(&features))[0]
    }

    /// The model's scores of many feature vectors: each tree is walked for all of them before the next, so its
    /// nodes are read from memory once.
    pub fn score_all<V: AsRef<[f32]>>(&self, vectors: &[V]) -> Vec<f32> {
        let mut totals = vec![0.0f32; vectors.len()];
        for &root in &self.roots {
            for (total, vector) in totals.iter_mut().zip(vectors) {
                let vector = vector.as_ref();
                let mut node = self.nodes[root as usize];
                // Children come after their parents (checked when parsing), so this ends at a leaf.
                while node.feature != LEAF {
                    let value = vector.get(node.feature as usize).copied().unwrap_or(0.0);
                    node = self.nodes[if value <= node.value { node.left } else { node.right } as usize];
                }
                *total += node.value;
            }
        }
        totals
    }
}

/// The largest `f32` not above `threshold`: for any `f32` value `x`, `x <= lower_to_f32(t)` exactly when `x <= t`.
fn lower_to_f32(threshold: f64) -> f32 {
    let nearest = threshold as f32;
    if f64::from(nearest) > threshold {
        nearest.next_down()
    } else {
        nearest
    }
}

/// The feature vectors of the candidates (each file's evidence as `rank` records it), in [`FEATURE_NAMES`] order.
pub fn feature_vectors(candidates: &[&BTreeMap<&'static str, f32>], long_task: bool) -> Vec<Vec<f32>> {
    let largest = |name: &str| candidates.iter().filter_map(|f| f.get(name).copied()).fold(1e-9_f32, f32::max);
    let (unit_part_max, fused_max, final_max) = (largest("unit_part"), largest("fused"), largest("final_score"));
    let with_bm25 = candidates.iter().filter(|f| f.contains_key("file_bm25")).count() as f32 / RERANKED_FILES as f32;
    let place = |place: Option<f32>| match place {
        Some(p) if p.is_finite() && p >= 1.0 => (1.0 - p.ln() / 300f32.ln()).max(0.0),
        _ => 0.0,
    };
    candidates
        .iter()
        .map(|f| {
            let value = |name: &str| f.get(name).copied().unwrap_or(0.0);
            let mut v: Vec<f32> = FEATURE_NAMES[..PLACES]
                .iter()
                .map(|name| place(f.get(name.trim_end_matches(":log")).copied()))
                .collect();
            let rank = f.get("final_rank").copied().unwrap_or(RERANKED_FILES as f32);
            v.extend([
                value("file_bm25_share"),
                value("in_scope"),
                value("is_test"),
                value("chunks").ln_1p() / 6.0,
                value("churn").ln_1p() / 6.0,
                value("cochange"),
                f.get("commits_since_change").map_or(-1.0, |n| 1.0 / (1.0 + n / 30.0)),
                value("unit_part") / unit_part_max,
                value("fused") / fused_max,
                place(Some(rank)),
                value("final_score") / final_max,
                if long_task { 1.0 } else { 0.0 },
                with_bm25,
                value("cochange_best"),
                value("cochange_reverse"),
                value("graph_best"),
                value("graph_reverse"),
                place(f.get("message_place").copied()),
                value("same_directory"),
                value("auxiliary"),
                value("named_stem"),
            ]);
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_parses_and_uses_only_known_features() {
        let model = TreeModel::parse(MODEL, FEATURE_NAMES.len()).expect("the shipped model parses");
        assert!(model.trees() >= 50, "{} trees", model.trees());
    }

    /// How many of the last [`FEATURE_NAMES`] are recorded only for learning, not when a pack ranks.
    const LEARNING_ONLY_FEATURES: usize = 3;

    #[test]
    fn the_shipped_model_reads_no_feature_packs_leave_unrecorded() {
        let model = TreeModel::parse(MODEL, FEATURE_NAMES.len()).unwrap();
        let first_unrecorded = FEATURE_NAMES.len() - LEARNING_ONLY_FEATURES;
        for node in model.nodes.iter().filter(|node| node.feature != LEAF) {
            let feature = node.feature as usize;
            assert!(feature < first_unrecorded, "the model splits on {}", FEATURE_NAMES[feature]);
        }
    }

    #[test]
    fn trees_route_by_threshold_and_sum_their_leaves() {
        let model = TreeModel::parse("tree\ns 1 0.5 1 2\nl -1\nl 2\ntree\nl 0.25\n", FEATURE_NAMES.len()).unwrap();
        let mut features = vec![0.0; FEATURE_NAMES.len()];
        assert_eq!(model.score(&features), -0.75);
        features[1] = 0.6;
        assert_eq!(model.score(&features), 2.25);
        assert!(TreeModel::parse("tree\ns 999 0.5 1 2\nl 1\nl 2\n", FEATURE_NAMES.len()).is_err());
        assert!(TreeModel::parse("s 1 0.5 1 2\n", FEATURE_NAMES.len()).is_err());
        assert!(TreeModel::parse("tree\nl x\n", FEATURE_NAMES.len()).is_err());
        // A split back to its own tree's root would never reach a leaf.
        assert!(TreeModel::parse("tree\ns 1 0.5 0 1\nl 1\n", FEATURE_NAMES.len()).is_err());
        // Many vectors at once score as one at a time.
        let vectors = [vec![0.0; FEATURE_NAMES.len()], features.clone()];
        assert_eq!(model.score_all(&vectors), [-0.75, 2.25]);
    }

    #[test]
    fn thresholds_lowered_to_f32_split_every_f32_value_as_the_f64_threshold_does() {
        for threshold in [0.1f64, -0.1, 1.0, 0.0, 1e-40, 1e300, -1e300, 0.333_333_333_333] {
            let lowered = lower_to_f32(threshold);
            assert!(f64::from(lowered) <= threshold, "{threshold}");
            let next = lowered.next_up();
            assert!(!next.is_finite() || f64::from(next) > threshold, "{threshold}");
        }
    }

    /// Rows recorded by `eval-runner --features` with the scores `learn_files.py --parity-out` had LightGBM give
    /// them under the shipped model: the features and the trees must agree with the offline definition.
    #[test]
    fn scores_match_the_offline_model() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../tests/data/learned_parity.json")).expect("parity fixture");
        let model = TreeModel::files();
        let (mut compared, mut agreed) = (0, 0);
        for case in &cases {
            let evidence: Vec<BTreeMap<&'static str, f32>> = case["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    f.as_object()
                        .unwrap()
                        .iter()
                        .filter_map(|(k, v)| Some((&*Box::leak(k.clone().into_boxed_str()), v.as_f64()? as f32)))
                        .collect()
                })
                .collect();
            let refs: Vec<&BTreeMap<&'static str, f32>> = evidence.iter().collect();
            let vectors = feature_vectors(&refs, case["long"].as_bool().unwrap());
            for (vector, expected) in vectors.iter().zip(case["scores"].as_array().unwrap()) {
                compared += 1;
                if (f64::from(model.score(vector)) - expected.as_f64().unwrap()).abs() < 1e-3 {
                    agreed += 1;
                }
            }
        }
        assert!(compared >= 60, "{compared} candidates");
        assert_eq!(agreed, compared, "scores that match LightGBM's");
    }

    #[test]
    fn the_shipped_chunk_model_parses_over_the_chunk_features() {
        let model = TreeModel::parse(CHUNK_MODEL, CHUNK_FEATURE_NAMES.len()).expect("the chunk model parses");
        assert!(model.trees() >= 50, "{} trees", model.trees());
        assert_eq!(CHUNK_FEATURE_NAMES[CHUNK_LOG_BYTES], "log_bytes");
        assert_eq!(CHUNK_FEATURE_NAMES[..crate::rank::UNIT_SIGNALS.len()], crate::rank::UNIT_SIGNALS);
    }

    /// Candidates recorded by `eval-runner --chunk-features` with the log-odds `learn_chunks.py --parity-out` had
    /// LightGBM give them under the shipped chunk model.
    #[test]
    fn chunk_scores_match_the_offline_model() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../tests/data/learned_chunks_parity.json")).expect("parity fixture");
        let model = TreeModel::chunks();
        assert!(cases.len() >= 100, "{} candidates", cases.len());
        for case in &cases {
            let features: Vec<f32> =
                case["features"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            assert_eq!(features.len(), CHUNK_FEATURE_NAMES.len());
            let expected = case["score"].as_f64().unwrap();
            let got = f64::from(model.score(&features));
            assert!((got - expected).abs() < 1e-3, "{got} against LightGBM's {expected} for {features:?}");
        }
    }

    #[test]
    fn features_follow_the_offline_definition() {
        let mut best = BTreeMap::new();
        best.extend([("file_bm25", 1.0), ("final_rank", 1.0), ("final_score", 2.0), ("fused", 1.0), ("chunks", 4.0)]);
        let mut other = BTreeMap::new();
        other.extend([("lexical_task", 300.0), ("final_rank", 2.0), ("final_score", 1.0), ("is_test", 1.0)]);
        let vectors = feature_vectors(&[&best, &other], true);
        let at = |name: &str| FEATURE_NAMES.iter().position(|n| *n == name).unwrap();
        assert_eq!(vectors[0][at("file_bm25:log")], 1.0);
        assert_eq!(vectors[1][at("file_bm25:log")], 0.0);
        assert!(vectors[1][at("lexical_task:log")].abs() < 1e-6);
        assert_eq!(vectors[1][at("final_score/max")], 0.5);
        assert_eq!(vectors[0][at("since_change")], -1.0);
        assert_eq!(vectors[1][at("is_test")], 1.0);
        assert_eq!(vectors[0][at("long")], 1.0);
        assert_eq!(vectors[0][at("n_cands_with_bm25")], 1.0 / 60.0);
        assert!((vectors[0][at("log_chunks")] - 5f32.ln() / 6.0).abs() < 1e-6);
    }
}
