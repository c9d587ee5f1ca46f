//! Progress of an indexing run, as every front end sees it (bars, streamed messages, MCP notifications).

use sextant_index::Progress;
use sextant_semantic::SyncProgress;

/// Receives progress of [`crate::Repository::index`]. All methods have empty defaults.
pub trait EngineProgress: Sync {
    /// A phase begins (`walk`, `check`, `parse`, `link`, `commit`, `overview`, `embed`); `total` when known.
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// One file of the `parse` phase is done.
    fn file_done(&self) {}
    /// Embedding of `what` ("file cards", then "chunks") is planned: `items` lack a vector, `to_embed` of them
    /// need the model.
    fn embed_planned(&self, _what: &str, _items: u64, _to_embed: u64) {}
    /// `n` more file cards or chunks (whichever was planned last) have their vector.
    fn embedded(&self, _n: u64) {}
    /// Something was skipped but the run goes on (no model, overview failed).
    fn warning(&self, _message: &str) {}
}

/// Progress sink that ignores everything.
pub struct NoEngineProgress;
impl EngineProgress for NoEngineProgress {}

/// The engine's progress as the indexer's and the vector sync's.
pub(crate) struct Adapter<'a>(pub &'a dyn EngineProgress);

impl Progress for Adapter<'_> {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.0.phase(name, total);
    }

    fn file_done(&self) {
        self.0.file_done();
    }
}

impl SyncProgress for Adapter<'_> {
    fn cards_planned(&self, cards: u64, to_embed: u64) {
        self.0.embed_planned("file cards", cards, to_embed);
    }

    fn planned(&self, chunks: u64, to_embed: u64) {
        self.0.embed_planned("chunks", chunks, to_embed);
    }

    fn advanced(&self, n: u64) {
        self.0.embedded(n);
    }
}
