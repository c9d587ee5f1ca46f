//! Weighted reciprocal-rank fusion: the one way Sextant combines ranked lists, used by hybrid search
//! (`sextant-semantic`) and pack ranking (`sextant-pack`) alike, and the signals a result can carry.
//!
//! Each list contributes `weight / (RRF_K + rank)` (rank 1-based) to every item it ranks, counting an item once
//! (its best rank). Ranks, not raw scores, are fused, because BM25, cosine similarity and graph centrality live
//! on scales that cannot be compared.

use serde::Serialize;

/// The rank offset: large enough that one list's first few hits cannot drown agreement between lists.
pub const RRF_K: f32 = 60.0;

/// What the item at 1-based `rank` of a list of `weight` contributes to its fused score.
pub fn rrf(weight: f32, rank: usize) -> f32 {
    weight / (RRF_K + rank as f32)
}

/// A signal that can find a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// BM25 over chunk text, symbols and path.
    Lexical,
    /// Nearest neighbours of the query's embedding.
    Semantic,
    /// A definition whose name the query spells.
    Symbol,
    /// A file whose path terms the query echoes.
    Path,
    /// A file that BM25 ranks high as a whole (each file one document).
    #[serde(rename = "whole_file")]
    WholeFile,
    /// A file whose card (path and definition signatures) is nearest the query in meaning.
    #[serde(rename = "file_card")]
    FileCard,
}

impl Signal {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Lexical => "lexical",
            Signal::Semantic => "semantic",
            Signal::Symbol => "symbol",
            Signal::Path => "path",
            Signal::WholeFile => "whole_file",
            Signal::FileCard => "file_card",
        }
    }
}

/// One signal's opinion of a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalHit {
    /// The signal.
    pub signal: Signal,
    /// Its 1-based rank in that signal's list.
    pub rank: u32,
    /// The signal's own score (BM25, cosine similarity, symbol centrality, path-term weight).
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_between_lists_beats_one_list_alone() {
        // First in one list only, against third in two lists.
        assert!(rrf(1.0, 3) * 2.0 > rrf(1.0, 1));
        assert!(rrf(2.0, 5) > rrf(1.0, 5));
        assert!(rrf(1.0, 1) > rrf(1.0, 2));
    }
}
