//! The remote backend: a Qdrant server or cluster over gRPC, one collection per repository.

use std::collections::HashMap;
use std::future::Future;

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::vectors_config::Config as VectorsConfigKind;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder,
    Distance, FieldType, Filter, PointId, PointStruct, PointsIdsList, ScrollPointsBuilder, SearchPointsBuilder,
    UpsertPointsBuilder, Value, VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant};

use crate::{
    check_dimension, path_scopes, PointPayload, VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore,
};

/// Points per upsert request: large enough to amortise the round trip, small enough for default message limits.
const UPSERT_BATCH: usize = 256;

/// A thread running a single-threaded runtime that drives the client's connections. The runtime is created and
/// dropped on that thread only; dropping the [`IoThread`] tells it to stop.
struct IoThread {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl IoThread {
    fn start() -> std::io::Result<IoThread> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("sextant-qdrant-io".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(runtime.handle().clone()));
            // Drives I/O and timers for every request until the store is dropped.
            let _ = runtime.block_on(stop_rx);
        })?;
        let handle = handle_rx.recv().map_err(|_| std::io::Error::other("the I/O thread ended at start"))??;
        Ok(IoThread { handle, _stop: stop_tx })
    }
}

/// A collection on a Qdrant server. Calls block the calling thread while the request runs on the store's I/O
/// thread, so the store works from plain threads, from blocking sections of an async server, and from async code
/// alike; and dropping it anywhere (even inside an async task, as on Ctrl-C) never drops a runtime there.
pub struct RemoteStore {
    client: Qdrant,
    io: IoThread,
    url: String,
    collection: String,
    dimension: usize,
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore").field("url", &self.url).field("collection", &self.collection).finish()
    }
}

impl RemoteStore {
    /// Connects to `url` (gRPC, e.g. `http://localhost:6334`) and opens `collection`, creating it (cosine
    /// distance, keyword indexes on path, scopes and language) when absent. An existing collection of another
    /// dimension is an error.
    pub fn open(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dimension: usize,
    ) -> Result<RemoteStore, VectorError> {
        let error = |message: String| VectorError::Remote { url: url.to_string(), message };
        let io = IoThread::start().map_err(|e| error(format!("cannot start the I/O thread: {e}")))?;
        let mut builder = Qdrant::from_url(url).skip_compatibility_check();
        if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            builder = builder.api_key(key);
        }
        let client = builder.build().map_err(|e| error(e.to_string()))?;
        let store = RemoteStore { client, io, url: url.to_string(), collection: collection.to_string(), dimension };
        store.ensure_collection()?;
        Ok(store)
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Deletes the whole collection (tests and `--force` re-indexing).
    pub fn drop_collection(&self) -> Result<(), VectorError> {
        let name = self.collection.clone();
        self.block_on(async { self.client.delete_collection(name).await }).map(|_| ())
    }

    fn error(&self, message: impl ToString) -> VectorError {
        VectorError::Remote { url: self.url.clone(), message: message.to_string() }
    }

    fn block_on<T, F>(&self, future: F) -> Result<T, VectorError>
    where
        F: Future<Output = Result<T, qdrant_client::QdrantError>> + Send,
        T: Send,
    {
        let handle = &self.io.handle;
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            // Inside an async task, blocking on a handle would panic: wait on a scoped thread instead.
            std::thread::scope(|scope| scope.spawn(|| handle.block_on(future)).join())
                .map_err(|_| self.error("request thread panicked"))?
        } else {
            handle.block_on(future)
        };
        result.map_err(|e| self.error(e))
    }

    fn ensure_collection(&self) -> Result<(), VectorError> {
        let name = self.collection.clone();
        let exists = self.block_on(async { self.client.collection_exists(name.clone()).await })?;
        if exists {
            let info = self.block_on(async { self.client.collection_info(name.clone()).await })?;
            let size = info
                .result
                .and_then(|r| r.config)
                .and_then(|c| c.params)
                .and_then(|p| p.vectors_config)
                .and_then(|v| v.config)
                .and_then(|c| match c {
                    VectorsConfigKind::Params(params) => Some(params.size as usize),
                    VectorsConfigKind::ParamsMap(_) => None,
                });
            if let Some(size) = size {
                if size != self.dimension {
                    return Err(VectorError::Dimension { expected: size, found: self.dimension });
                }
            }
            return Ok(());
        }
        let create = CreateCollectionBuilder::new(name.clone())
            .vectors_config(VectorParamsBuilder::new(self.dimension as u64, Distance::Cosine));
        self.block_on(async { self.client.create_collection(create).await })?;
        for field in ["path", "scopes", "language"] {
            let index = CreateFieldIndexCollectionBuilder::new(name.clone(), field, FieldType::Keyword).wait(true);
            self.block_on(async { self.client.create_field_index(index).await })?;
        }
        Ok(())
    }
}

fn payload(point: &PointPayload) -> Payload {
    let mut payload = Payload::new();
    payload.insert("path", point.path.clone());
    payload.insert("scopes", path_scopes(&point.path));
    payload.insert("language", point.language.clone());
    payload.insert("symbol", point.symbol.clone());
    payload.insert("start_line", i64::from(point.start_line));
    payload.insert("end_line", i64::from(point.end_line));
    payload.insert("content_key", point.content_key.clone());
    payload
}

fn payload_from(map: &HashMap<String, Value>) -> PointPayload {
    let text = |key: &str| match map.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => s.clone(),
        _ => String::new(),
    };
    let line = |key: &str| match map.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::IntegerValue(n)) => u32::try_from(*n).unwrap_or_default(),
        Some(Kind::DoubleValue(n)) => *n as u32,
        _ => 0,
    };
    PointPayload {
        path: text("path"),
        language: text("language"),
        symbol: text("symbol"),
        start_line: line("start_line"),
        end_line: line("end_line"),
        content_key: text("content_key"),
    }
}

fn numeric_id(id: Option<&PointId>) -> Option<u64> {
    match id?.point_id_options.as_ref()? {
        PointIdOptions::Num(n) => Some(*n),
        PointIdOptions::Uuid(_) => None,
    }
}

fn remote_filter(filter: &VectorFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if !filter.languages.is_empty() {
        must.push(Condition::matches("language", filter.languages.clone()));
    }
    if !filter.paths.is_empty() {
        let paths: Vec<String> = filter.paths.iter().map(|p| p.trim_end_matches('/').to_string()).collect();
        must.push(Condition::matches("scopes", paths));
    }
    (!must.is_empty()).then(|| Filter::must(must))
}

impl VectorStore for RemoteStore {
    fn backend(&self) -> &'static str {
        "qdrant"
    }

    fn upsert(&self, points: Vec<VectorPoint>) -> Result<(), VectorError> {
        check_dimension(&points, self.dimension)?;
        for batch in points.chunks(UPSERT_BATCH) {
            let structs: Vec<PointStruct> =
                batch.iter().map(|p| PointStruct::new(p.id, p.vector.clone(), payload(&p.payload))).collect();
            let request = UpsertPointsBuilder::new(self.collection.clone(), structs).wait(true);
            self.block_on(async { self.client.upsert_points(request).await })?;
        }
        Ok(())
    }

    fn delete_ids(&self, ids: &[u64]) -> Result<(), VectorError> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = PointsIdsList { ids: ids.iter().map(|&id| PointId::from(id)).collect() };
        let request = DeletePointsBuilder::new(self.collection.clone()).points(list).wait(true);
        self.block_on(async { self.client.delete_points(request).await }).map(|_| ())
    }

    fn delete_paths(&self, paths: &[String]) -> Result<(), VectorError> {
        if paths.is_empty() {
            return Ok(());
        }
        let filter = Filter::must([Condition::matches("path", paths.to_vec())]);
        let request = DeletePointsBuilder::new(self.collection.clone()).points(filter).wait(true);
        self.block_on(async { self.client.delete_points(request).await }).map(|_| ())
    }

    fn point_ids(&self) -> Result<Vec<u64>, VectorError> {
        let mut ids = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(self.collection.clone()).limit(10_000).with_payload(false);
            if let Some(offset) = offset.take() {
                request = request.offset(offset);
            }
            let response = self.block_on(async { self.client.scroll(request).await })?;
            ids.extend(response.result.iter().filter_map(|p| numeric_id(p.id.as_ref())));
            match response.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(ids)
    }

    fn count(&self) -> Result<usize, VectorError> {
        let request = CountPointsBuilder::new(self.collection.clone()).exact(true);
        let response = self.block_on(async { self.client.count(request).await })?;
        Ok(response.result.map(|r| r.count as usize).unwrap_or_default())
    }

    fn search(&self, query: &[f32], limit: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        if query.len() != self.dimension {
            return Err(VectorError::Dimension { expected: self.dimension, found: query.len() });
        }
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut request =
            SearchPointsBuilder::new(self.collection.clone(), query.to_vec(), limit as u64).with_payload(true);
        if let Some(filter) = remote_filter(filter) {
            request = request.filter(filter);
        }
        let response = self.block_on(async { self.client.search_points(request).await })?;
        Ok(response
            .result
            .iter()
            .filter_map(|p| {
                Some(VectorHit { id: numeric_id(p.id.as_ref())?, score: p.score, payload: payload_from(&p.payload) })
            })
            .collect())
    }

    fn flush(&self) -> Result<(), VectorError> {
        // Every write above waited for the server's acknowledgement.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sextant watch` with a Qdrant server configured used to panic on Ctrl-C: the store owned a runtime and was
    /// dropped inside an async task. Now an unreachable server is a clear error, from async code too, and
    /// nothing panics when the store's I/O thread goes away there.
    #[test]
    fn an_unreachable_server_is_an_error_and_nothing_panics_inside_async_code() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async {
            let io = IoThread::start().expect("I/O thread");
            drop(io);
            // Port 1 on loopback refuses connections.
            let error = RemoteStore::open("http://127.0.0.1:1", None, "sextant_test", 4).unwrap_err();
            assert!(matches!(&error, VectorError::Remote { url, .. } if url == "http://127.0.0.1:1"), "{error}");
        });
        let error = RemoteStore::open("http://127.0.0.1:1", None, "sextant_test", 4).unwrap_err();
        assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    }
}
