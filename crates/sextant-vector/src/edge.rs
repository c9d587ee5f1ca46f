//! The embedded backend: a Qdrant Edge shard in a directory.

use std::path::{Path, PathBuf};

use qdrant_edge::external::serde_json::{self, Value};
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfigBuilder, EdgeShard, EdgeVectorParamsBuilder,
    FieldCondition, FieldIndexOperations, Filter, JsonPath, Match, PayloadFieldSchema, PayloadSchemaType, PointId,
    PointInsertOperations, PointOperations, PointStruct, QueryEnum, ScoredPoint, ScrollRequest, SearchRequest,
    UpdateOperation, WalOptions, WithPayloadInterface, DEFAULT_VECTOR_NAME,
};

use crate::{
    check_dimension, path_scopes, PointPayload, VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore,
};

/// Payload fields with a keyword index (filters on them do not scan).
const INDEXED_FIELDS: [&str; 3] = ["path", "scopes", "language"];

/// Qdrant Edge, in-process and on disk. Writes go through Edge's write-ahead log, so a crash loses no
/// acknowledged upsert; search is exact (brute force) until the shard is large enough to be worth an HNSW index.
pub struct EdgeStore {
    /// Dropped by hand (see `Drop`): Edge flushes on drop and panics when that fails.
    shard: std::mem::ManuallyDrop<EdgeShard>,
    path: PathBuf,
    dimension: usize,
}

impl std::fmt::Debug for EdgeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeStore").field("path", &self.path).field("dimension", &self.dimension).finish()
    }
}

impl EdgeStore {
    /// Opens the shard in `dir`, creating it (with payload indexes) when absent. A shard holding vectors of
    /// another dimension is an error: the caller decides whether to start over.
    pub fn open(dir: &Path, dimension: usize) -> Result<EdgeStore, VectorError> {
        let error = |message: String| VectorError::Edge { path: dir.display().to_string(), message };
        std::fs::create_dir_all(dir).map_err(|e| error(e.to_string()))?;
        let config = EdgeConfigBuilder::new()
            .vector(DEFAULT_VECTOR_NAME, EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build())
            // Small WAL segments: the default 32 MiB per segment is more than most repositories' vectors.
            .wal_options(WalOptions { segment_capacity: 4 << 20, ..WalOptions::default() })
            .build();
        let exists = dir.join("edge_config.json").exists();
        let shard = if exists {
            EdgeShard::load(dir, None).map_err(|e| error(e.to_string()))?
        } else {
            EdgeShard::new(dir, config).map_err(|e| error(e.to_string()))?
        };
        let stored_dimension = shard.config().vectors.get(DEFAULT_VECTOR_NAME).map(|v| v.size);
        if let Some(stored) = stored_dimension {
            if stored != dimension {
                return Err(VectorError::Dimension { expected: stored, found: dimension });
            }
        }
        let store = EdgeStore { shard: std::mem::ManuallyDrop::new(shard), path: dir.to_path_buf(), dimension };
        if !exists {
            for field in INDEXED_FIELDS {
                store.update(UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: json_path(field),
                    field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)),
                })))?;
            }
        }
        Ok(store)
    }

    fn error(&self, message: impl ToString) -> VectorError {
        VectorError::Edge { path: self.path.display().to_string(), message: message.to_string() }
    }

    fn update(&self, operation: UpdateOperation) -> Result<(), VectorError> {
        self.shard.update(operation).map_err(|e| self.error(e))
    }
}

fn json_path(field: &str) -> JsonPath {
    // The field names are fixed identifiers; parsing cannot fail for them.
    field.parse().unwrap_or_else(|_| unreachable!("{field} is a valid JSON path"))
}

fn match_any(field: &str, values: &[String]) -> Condition {
    Condition::Field(FieldCondition::new_match(json_path(field), Match::from(values.to_vec())))
}

fn edge_filter(filter: &VectorFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if !filter.languages.is_empty() {
        must.push(match_any("language", &filter.languages));
    }
    if !filter.paths.is_empty() {
        let paths: Vec<String> = filter.paths.iter().map(|p| p.trim_end_matches('/').to_string()).collect();
        must.push(match_any("scopes", &paths));
    }
    (!must.is_empty()).then(|| Filter { must: Some(must), ..Filter::default() })
}

fn payload_json(payload: &PointPayload) -> Value {
    serde_json::json!({
        "path": payload.path,
        "scopes": path_scopes(&payload.path),
        "language": payload.language,
        "symbol": payload.symbol,
        "start_line": payload.start_line,
        "end_line": payload.end_line,
        "content_key": payload.content_key,
    })
}

fn payload_from(map: &serde_json::Map<String, Value>) -> PointPayload {
    let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let line = |key: &str| map.get(key).and_then(Value::as_u64).unwrap_or_default() as u32;
    PointPayload {
        path: text("path"),
        language: text("language"),
        symbol: text("symbol"),
        start_line: line("start_line"),
        end_line: line("end_line"),
        content_key: text("content_key"),
    }
}

fn numeric_id(id: &PointId) -> Option<u64> {
    match id {
        PointId::NumId(n) => Some(*n),
        PointId::Uuid(_) => None,
    }
}

impl VectorStore for EdgeStore {
    fn backend(&self) -> &'static str {
        "edge"
    }

    fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        if points.is_empty() {
            return Ok(());
        }
        check_dimension(&points, self.dimension)?;
        let points = points
            .into_iter()
            .map(|p| PointStruct::new(p.id, p.vector, payload_json(&p.payload)).into())
            .collect::<Vec<_>>();
        self.update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(PointInsertOperations::PointsList(
            points,
        ))))
    }

    fn delete_ids(&self, ids: &[u64]) -> Result<(), VectorError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.iter().map(|&id| PointId::NumId(id)).collect();
        self.update(UpdateOperation::PointOperation(PointOperations::DeletePoints { ids }))
    }

    fn delete_paths(&self, paths: &[String]) -> Result<(), VectorError> {
        if paths.is_empty() {
            return Ok(());
        }
        let filter = Filter::new_must(match_any("path", paths));
        self.update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter)))
    }

    fn point_ids(&self) -> Result<Vec<u64>, VectorError> {
        let mut ids = Vec::new();
        let mut offset = None;
        loop {
            let request = ScrollRequest {
                offset,
                limit: Some(10_000),
                filter: None,
                with_payload: Some(WithPayloadInterface::Bool(false)),
                ..ScrollRequest::default()
            };
            let (records, next) = self.shard.scroll(request).map_err(|e| self.error(e))?;
            ids.extend(records.iter().filter_map(|r| numeric_id(&r.id)));
            match next {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(ids)
    }

    fn count(&self) -> Result<usize, VectorError> {
        self.shard.count(CountRequest { filter: None, exact: true }).map_err(|e| self.error(e))
    }

    fn search(&self, query: &[f32], limit: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        if query.len() != self.dimension {
            return Err(VectorError::Dimension { expected: self.dimension, found: query.len() });
        }
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = SearchRequest {
            query: QueryEnum::from(query.to_vec()),
            filter: edge_filter(filter),
            params: None,
            limit,
            offset: 0,
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: None,
            score_threshold: None,
        };
        let points: Vec<ScoredPoint> = self.shard.search(request).map_err(|e| self.error(e))?;
        Ok(points
            .into_iter()
            .filter_map(|p| {
                let id = numeric_id(&p.id)?;
                let payload = p
                    .payload
                    .map(|payload| payload_from(&payload.0))
                    .unwrap_or_else(|| payload_from(&Default::default()));
                Some(VectorHit { id, score: p.score, payload })
            })
            .collect())
    }

    fn flush(&self) -> Result<(), VectorError> {
        // Edge's flush panics on lock contention or I/O failure; our writes are serialised by the caller, and the
        // WAL already holds every acknowledged write, so a failed flush only lengthens the replay on the next open.
        // Its panic becomes an error here rather than unwinding through the caller.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.shard.flush()))
            .map_err(|_| self.error("flush failed (the write-ahead log still holds every write)"))
    }
}

impl Drop for EdgeStore {
    fn drop(&mut self) {
        // SAFETY: `shard` is taken exactly once, here, and never used afterwards.
        let shard = unsafe { std::mem::ManuallyDrop::take(&mut self.shard) };
        // Edge flushes on drop and panics if that fails (say, the directory was removed under it); the WAL keeps
        // every acknowledged write, so the panic is contained instead of taking the process down.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(shard)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(id: u64, path: &str, vector: Vec<f32>) -> VectorPoint {
        VectorPoint {
            id,
            vector,
            payload: PointPayload {
                path: path.into(),
                language: if path.ends_with(".py") { "python".into() } else { "rust".into() },
                symbol: format!("sym{id}"),
                start_line: id as u32,
                end_line: id as u32 + 3,
                content_key: format!("{id:032x}"),
            },
        }
    }

    #[test]
    fn upsert_search_filter_delete_and_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EdgeStore::open(dir.path(), 3).expect("open");
        store
            .upsert(vec![
                point(1, "src/a.rs", vec![1.0, 0.0, 0.0]),
                point(2, "src/b.rs", vec![0.0, 1.0, 0.0]),
                point(3, "lib/c.py", vec![0.9, 0.1, 0.0]),
            ])
            .expect("upsert");
        assert_eq!(store.count().expect("count"), 3);

        let hits = store.search(&[1.0, 0.0, 0.0], 2, &VectorFilter::default()).expect("search");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(hits[0].payload.path, "src/a.rs");
        assert_eq!(hits[0].payload.end_line, 4);
        assert!((hits[0].score - 1.0).abs() < 1e-5);

        let in_src = VectorFilter { paths: vec!["src".into()], ..Default::default() };
        let hits = store.search(&[1.0, 0.0, 0.0], 5, &in_src).expect("search");
        assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2]);
        let python = VectorFilter { languages: vec!["python".into()], ..Default::default() };
        assert_eq!(store.search(&[1.0, 0.0, 0.0], 5, &python).expect("search")[0].id, 3);

        store.delete_paths(&["src/a.rs".into()]).expect("delete path");
        store.delete_ids(&[2]).expect("delete id");
        assert_eq!(store.point_ids().expect("ids"), vec![3]);
        assert!(matches!(store.upsert(vec![point(9, "x.rs", vec![1.0])]), Err(VectorError::Dimension { .. })));
        drop(store);

        let reopened = EdgeStore::open(dir.path(), 3).expect("reopen");
        assert_eq!(reopened.point_ids().expect("ids"), vec![3]);
        assert_eq!(
            reopened.search(&[1.0, 0.0, 0.0], 1, &VectorFilter::default()).expect("search")[0].payload.path,
            "lib/c.py"
        );
        drop(reopened);
        assert!(matches!(EdgeStore::open(dir.path(), 4), Err(VectorError::Dimension { expected: 3, found: 4 })));
    }
}
