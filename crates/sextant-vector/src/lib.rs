//! Where Sextant keeps chunk vectors.
//!
//! [`VectorStore`] is the one interface the rest of Sextant sees; two real backends implement it:
//! [`EdgeStore`], Qdrant Edge embedded in the process and on disk in the index directory (the default: nothing
//! to run), and [`RemoteStore`], a Qdrant server or cluster over gRPC for when one machine is not enough. Both
//! hold the same points — one per chunk, with the chunk's path, language, symbol, line range and content key as
//! payload — and answer the same queries with the same chunks.

mod edge;
mod remote;

pub use edge::EdgeStore;
pub use remote::RemoteStore;

/// Errors from a vector store.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The embedded store failed.
    #[error("embedded vector store at {path}: {message}")]
    Edge {
        /// The store's directory.
        path: String,
        /// What Qdrant Edge said.
        message: String,
    },
    /// The Qdrant server failed or could not be reached.
    #[error("Qdrant server {url}: {message}")]
    Remote {
        /// The server.
        url: String,
        /// What the client said.
        message: String,
    },
    /// A vector of the wrong size.
    #[error("the store holds {expected}-dimensional vectors, got {found}")]
    Dimension {
        /// The store's dimension.
        expected: usize,
        /// The offered one.
        found: usize,
    },
}

/// What is stored with each vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointPayload {
    /// Repository-relative path.
    pub path: String,
    /// Language id.
    pub language: String,
    /// The chunk's enclosing (or first) symbol, empty at file level.
    pub symbol: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// Hex of the embedded text's key, which is also the cache key of the vector.
    pub content_key: String,
}

/// One stored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// Stable id (see [`point_id`]).
    pub id: u64,
    /// The vector.
    pub vector: Vec<f32>,
    /// Its payload.
    pub payload: PointPayload,
}

/// A search result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    /// The point's id.
    pub id: u64,
    /// Cosine similarity to the query.
    pub score: f32,
    /// The point's payload.
    pub payload: PointPayload,
}

/// Restricts a search. Empty lists do not restrict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorFilter {
    /// Only these languages.
    pub languages: Vec<String>,
    /// Only under these directories or exactly these files (repository-relative, no trailing `/`).
    pub paths: Vec<String>,
}

impl VectorFilter {
    /// Whether the filter restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.languages.is_empty() && self.paths.is_empty()
    }
}

/// A place to keep chunk vectors. Implementations are safe to share between threads.
pub trait VectorStore: Send + Sync {
    /// "edge" or "qdrant".
    fn backend(&self) -> &'static str;
    /// Inserts or replaces points.
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError>;
    /// Deletes points by id.
    fn delete_ids(&self, ids: &[u64]) -> Result<(), VectorError>;
    /// Deletes every point of these files.
    fn delete_paths(&self, paths: &[String]) -> Result<(), VectorError>;
    /// Ids of every stored point.
    fn point_ids(&self) -> Result<Vec<u64>, VectorError>;
    /// Points stored.
    fn count(&self) -> Result<usize, VectorError>;
    /// The `limit` nearest points to `query`.
    fn search(&self, query: &[f32], limit: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError>;
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), VectorError>;
}

/// The id of a chunk's point: stable for the same text at the same lines, different when either changes (the
/// payload's line range must follow the chunk even where the embedded text, which skips blank lines, does not).
pub fn point_id(path: &str, start_line: u32, end_line: u32, content_key: u128) -> u64 {
    let mut bytes = Vec::with_capacity(path.len() + 24);
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&start_line.to_le_bytes());
    bytes.extend_from_slice(&end_line.to_le_bytes());
    bytes.extend_from_slice(&content_key.to_le_bytes());
    // Qdrant ids are u64; 63 bits keep them positive for clients that read them as signed.
    xxhash_rust::xxh3::xxh3_64(&bytes) & (u64::MAX >> 1)
}

/// Every directory above a path, for directory filters (`a/b/c.rs` → `a`, `a/b`), plus the path itself.
pub(crate) fn path_scopes(path: &str) -> Vec<String> {
    let mut scopes: Vec<String> = path.match_indices('/').map(|(i, _)| path[..i].to_string()).collect();
    scopes.push(path.to_string());
    scopes
}

fn check_dimension(points: &[VectorPoint], expected: usize) -> Result<(), VectorError> {
    match points.iter().find(|p| p.vector.len() != expected) {
        Some(p) => Err(VectorError::Dimension { expected, found: p.vector.len() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_list_every_ancestor_and_the_file() {
        assert_eq!(path_scopes("a/b/c.rs"), vec!["a", "a/b", "a/b/c.rs"]);
        assert_eq!(path_scopes("c.rs"), vec!["c.rs"]);
    }

    #[test]
    fn point_ids_change_with_place_and_content() {
        let id = point_id("a.rs", 1, 9, 42);
        assert_eq!(id, point_id("a.rs", 1, 9, 42));
        assert_ne!(id, point_id("a.rs", 2, 9, 42));
        assert_ne!(id, point_id("a.rs", 1, 10, 42));
        assert_ne!(id, point_id("b.rs", 1, 9, 42));
        assert_ne!(id, point_id("a.rs", 1, 9, 43));
        assert!(id <= i64::MAX as u64);
    }
}
