//! Bringing a store's vectors in step with an index generation.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use sextant_embed::{chunk_text, text_key, VectorCache};
use sextant_index::{content_hash, Index, IndexedFile};
use sextant_vector::{point_id, PointPayload, VectorPoint, VectorStore};

use crate::cards::{file_cards, FileCard};
use crate::{CardState, SemanticEngine, SemanticError, VectorState};

/// Per-file plans of the last sync, so unchanged files are not re-read.
const MANIFEST_FILE: &str = "manifest.bin";
const MANIFEST_MAGIC: &[u8; 8] = b"SXVMAN01";

/// Texts gathered before embedding, in model batches: this many batches' worth, sorted by length.
const LENGTH_WINDOW_BATCHES: usize = 8;

/// Points sent to the store per upsert call.
const UPSERT_BATCH: usize = 256;

/// Progress of a sync.
pub trait SyncProgress: Sync {
    /// The file cards' work is known (it comes first): `cards` lack a point, `to_embed` of them need the model.
    fn cards_planned(&self, _cards: u64, _to_embed: u64) {}
    /// The chunks' work is known: `chunks` lack a point in the store, `to_embed` of them need the model.
    fn planned(&self, _chunks: u64, _to_embed: u64) {}
    /// `n` more cards or chunks (whichever was planned last) have their point (embedded or from the cache).
    fn advanced(&self, _n: u64) {}
}

/// Progress sink that ignores everything.
pub struct NoSyncProgress;
impl SyncProgress for NoSyncProgress {}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Index generation synced.
    pub generation: u64,
    /// Chunks in the index.
    pub chunks: u64,
    /// Whether nothing had to be done (the state already matched the generation).
    pub up_to_date: bool,
    /// Chunks whose point was already in the store.
    pub already_stored: u64,
    /// Chunks whose vector came from the cache.
    pub from_cache: u64,
    /// Chunks run through the model.
    pub embedded: u64,
    /// Model calls made.
    pub model_calls: u64,
    /// Points written.
    pub upserted: u64,
    /// Points deleted (their chunk is gone).
    pub deleted: u64,
    /// Points in the store afterwards.
    pub points: u64,
    /// Files read from disk (the others were unchanged since the last sync).
    pub files_read: u64,
    /// Files left out because they changed on disk since they were indexed (the next index run takes them).
    pub files_changed_since_indexing: u64,
    /// Characters of text embedded.
    pub embedded_chars: u64,
    /// Seconds spent in the model.
    pub model_seconds: f64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// File cards of the index (0 when the engine keeps none).
    pub file_cards: u64,
    /// File cards run through the model.
    pub cards_embedded: u64,
    /// File cards whose vector came from the cache.
    pub cards_from_cache: u64,
    /// Seconds spent in the model on file cards.
    pub cards_model_seconds: f64,
    /// Wall time from the start of the sync until every file card was stored, in milliseconds: how soon
    /// semantic evidence covers the whole repository.
    pub cards_done_ms: u64,
}

impl SyncReport {
    /// Chunks embedded per second of model time.
    pub fn chunks_per_second(&self) -> f64 {
        if self.model_seconds > 0.0 {
            self.embedded as f64 / self.model_seconds
        } else {
            0.0
        }
    }
}

/// One chunk's point, planned.
struct PlannedChunk {
    chunk: usize,
    id: u64,
    key: u128,
}

/// A chunk waiting for its vector.
struct Pending {
    id: u64,
    key: u128,
    payload: PointPayload,
}

/// What planning found for one file.
enum FilePlan {
    /// Unchanged since the last sync and every point stored: nothing to read.
    Known(Vec<u64>),
    /// Read from disk, with its chunks' ids and text keys.
    Read(Vec<PlannedChunk>),
    /// Changed on disk since it was indexed: left for the next index run.
    Changed,
}

/// A key over everything that decides a file's chunk texts and point ids: its content, its chunks' spans and
/// symbol paths, and the text budget. Equal keys mean equal ids, so the file need not be read again.
fn plan_key(file: IndexedFile<'_>, max_tokens: usize) -> u64 {
    let mut bytes = Vec::with_capacity(32 + file.chunks().len() * 24);
    bytes.extend_from_slice(&file.hash().to_le_bytes());
    bytes.extend_from_slice(&(max_tokens as u64).to_le_bytes());
    for chunk in file.chunks() {
        for n in [
            chunk.span.start_byte as u64,
            chunk.span.end_byte as u64,
            chunk.span.start_line as u64,
            chunk.span.end_line as u64,
        ] {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        bytes.extend_from_slice(chunk.symbol_path.as_bytes());
        bytes.push(0);
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// The text and planned points of a file, read from disk; `None` when the file changed since it was indexed.
fn plan_file(root: &Path, file: IndexedFile<'_>, max_tokens: usize) -> Option<(Vec<PlannedChunk>, Vec<String>)> {
    let bytes = std::fs::read(root.join(file.path())).ok()?;
    if content_hash(&bytes) != file.hash() {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut planned = Vec::with_capacity(file.chunks().len());
    let mut texts = Vec::with_capacity(file.chunks().len());
    for (i, chunk) in file.chunks().iter().enumerate() {
        let code = text.get(chunk.span.start_byte as usize..chunk.span.end_byte as usize).unwrap_or("");
        let embedded = chunk_text(file.path(), &chunk.symbol_path, code, max_tokens);
        let key = text_key(&embedded);
        planned.push(PlannedChunk {
            chunk: i,
            id: point_id(file.path(), chunk.span.start_line, chunk.span.end_line, key),
            key,
        });
        texts.push(embedded);
    }
    Some((planned, texts))
}

/// The store payload of the chunk at position `chunk` of `file` (a position [`plan_file`] took from its chunks).
fn payload(file: IndexedFile<'_>, chunk: usize, key: u128) -> PointPayload {
    let c = &file.chunks()[chunk];
    let symbol = c.display_symbol().to_string();
    PointPayload {
        path: file.path().to_string(),
        language: file.language().name().to_string(),
        symbol,
        start_line: c.span.start_line,
        end_line: c.span.end_line,
        content_key: format!("{key:032x}"),
    }
}

/// Texts waiting for one model call, deduplicated by key.
struct Batch {
    texts: Vec<String>,
    keys: Vec<u128>,
    waiting: Vec<Pending>,
}

/// What the model did for one kind of text.
#[derive(Default)]
struct ModelWork {
    embedded: u64,
    calls: u64,
    seconds: f64,
    chars: u64,
}

/// Points on their way into one store: from the cache at once, or through the model in length-sorted batches,
/// upserted [`UPSERT_BATCH`] at a time.
struct Pipeline<'a> {
    engine: &'a SemanticEngine,
    store: &'a dyn VectorStore,
    batch: Batch,
    upserts: Vec<VectorPoint>,
    work: ModelWork,
    upserted: u64,
}

impl<'a> Pipeline<'a> {
    fn new(engine: &'a SemanticEngine, store: &'a dyn VectorStore) -> Pipeline<'a> {
        Pipeline {
            engine,
            store,
            batch: Batch { texts: Vec::new(), keys: Vec::new(), waiting: Vec::new() },
            upserts: Vec::with_capacity(UPSERT_BATCH),
            work: ModelWork::default(),
            upserted: 0,
        }
    }

    /// Queues one point whose vector is that of `text`; true when the vector came from the cache.
    fn push(
        &mut self,
        pending: Pending,
        text: String,
        cache: &mut VectorCache,
        progress: &dyn SyncProgress,
    ) -> Result<bool, SemanticError> {
        let from_cache = match cache.get(pending.key)? {
            Some(vector) => {
                self.upserts.push(VectorPoint { id: pending.id, vector, payload: pending.payload });
                progress.advanced(1);
                true
            }
            None => {
                if !self.batch.keys.contains(&pending.key) {
                    self.batch.keys.push(pending.key);
                    self.batch.texts.push(text);
                }
                self.batch.waiting.push(pending);
                if self.batch.texts.len() >= self.engine.batch_size * LENGTH_WINDOW_BATCHES {
                    self.engine.embed_batch(&mut self.batch, cache, &mut self.upserts, &mut self.work, progress)?;
                }
                false
            }
        };
        if self.upserts.len() >= UPSERT_BATCH {
            self.upserted += self.upserts.len() as u64;
            self.store.upsert(std::mem::take(&mut self.upserts))?;
        }
        Ok(from_cache)
    }

    /// Embeds what is still waiting and upserts the rest; returns the model's work and the points upserted.
    fn finish(
        mut self,
        cache: &mut VectorCache,
        progress: &dyn SyncProgress,
    ) -> Result<(ModelWork, u64), SemanticError> {
        self.engine.embed_batch(&mut self.batch, cache, &mut self.upserts, &mut self.work, progress)?;
        if !self.upserts.is_empty() {
            self.upserted += self.upserts.len() as u64;
            self.store.upsert(std::mem::take(&mut self.upserts))?;
        }
        Ok((self.work, self.upserted))
    }
}

impl SemanticEngine {
    /// Brings the store in step with `index`: embeds chunks never seen (in batches, through the cache), upserts
    /// missing points, deletes points of chunks that are gone, then records the generation. Safe to interrupt:
    /// the next sync starts from what the store and cache hold.
    pub fn sync(&self, index: &Index, progress: &dyn SyncProgress) -> Result<SyncReport, SemanticError> {
        let started = Instant::now();
        let generation = index.generation();
        let chunks: u64 = index.indexed_files().map(|f| f.chunks().len() as u64).sum();
        let mut report = SyncReport { generation, chunks, ..SyncReport::default() };
        let previous = VectorState::read(&self.index_dir).filter(|state| self.holds(state));
        if let Some(state) = previous.as_ref().filter(|state| self.state_is_current(state, generation)) {
            report.up_to_date = true;
            report.already_stored = chunks;
            report.points = state.points as u64;
            report.file_cards = state.file_cards.as_ref().map_or(0, |c| c.points as u64);
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
        let mut state = previous.unwrap_or_else(|| VectorState {
            generation: 0,
            fingerprint: self.embedder.fingerprint(),
            model: self.embedder.descriptor().name.clone(),
            dimension: self.embedder.dimension(),
            location: self.location.clone(),
            points: 0,
            complete: false,
            file_cards: None,
            synced_at: 0,
        });
        let mut cache = self.open_cache()?;
        if let Some(card_store) = &self.card_store {
            if state.file_cards.as_ref().is_none_or(|c| c.generation != generation) {
                let points = self.sync_file_cards(index, card_store.as_ref(), &mut cache, &mut report, progress)?;
                state.file_cards = Some(CardState { generation, points });
                // Cards are searchable from here on, while chunks are still being embedded.
                state.synced_at = unix_seconds();
                state.write(&self.index_dir)?;
            }
            report.file_cards = state.file_cards.as_ref().map_or(0, |c| c.points as u64);
            report.cards_done_ms = started.elapsed().as_millis() as u64;
        }
        if self.chunk_vectors && !(state.complete && state.generation == generation) {
            self.sync_chunks(index, &mut cache, &mut state, &mut report, progress)?;
        } else {
            report.already_stored = chunks;
            report.points = state.points as u64;
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Embeds and stores the file cards of `index` that `store` lacks, and deletes the ones that are gone;
    /// returns the number of cards stored.
    fn sync_file_cards(
        &self,
        index: &Index,
        store: &dyn VectorStore,
        cache: &mut VectorCache,
        report: &mut SyncReport,
        progress: &dyn SyncProgress,
    ) -> Result<usize, SemanticError> {
        let files: Vec<IndexedFile<'_>> = index.indexed_files().collect();
        let cards: Vec<Vec<FileCard>> = files.par_iter().map(|&file| file_cards(file)).collect();
        let stored: HashSet<u64> = store.point_ids()?.into_iter().collect();
        let wanted: HashSet<u64> = cards.iter().flatten().map(|card| card.id).collect();
        let mut seen_keys = HashSet::new();
        let (mut missing, mut to_embed) = (0u64, 0u64);
        for card in cards.iter().flatten().filter(|card| !stored.contains(&card.id)) {
            missing += 1;
            if !cache.contains(card.key) && seen_keys.insert(card.key) {
                to_embed += 1;
            }
        }
        drop(seen_keys);
        progress.cards_planned(missing, to_embed);
        let mut pipeline = Pipeline::new(self, store);
        for (&file, file_cards) in files.iter().zip(cards) {
            for card in file_cards.into_iter().filter(|card| !stored.contains(&card.id)) {
                let payload = PointPayload {
                    path: file.path().to_string(),
                    language: file.language().name().to_string(),
                    symbol: String::new(),
                    start_line: card.start_line,
                    end_line: card.end_line,
                    content_key: format!("{:032x}", card.key),
                };
                let pending = Pending { id: card.id, key: card.key, payload };
                if pipeline.push(pending, card.text, cache, progress)? {
                    report.cards_from_cache += 1;
                }
            }
        }
        let (work, _) = pipeline.finish(cache, progress)?;
        delete_unwanted(store, &stored, &wanted)?;
        store.flush()?;
        report.cards_embedded = work.embedded;
        report.cards_model_seconds = work.seconds;
        Ok(wanted.len())
    }

    /// Brings the chunk store in step with `index` and records it in `state` (written to disk).
    fn sync_chunks(
        &self,
        index: &Index,
        cache: &mut VectorCache,
        state: &mut VectorState,
        report: &mut SyncReport,
        progress: &dyn SyncProgress,
    ) -> Result<(), SemanticError> {
        let chunks = report.chunks;
        let stored: HashSet<u64> = self.store.point_ids()?.into_iter().collect();
        let root = Path::new(index.root());
        let max_tokens = self.embedder.max_tokens();
        let manifest_path = self.index_dir.join(crate::VECTORS_DIR).join(MANIFEST_FILE);
        let previous = Manifest::load(&manifest_path);

        // Plan: which chunks lack a point. Files unchanged since the last sync whose points are all stored are not
        // read at all; texts of the others are dropped here and re-read per file below, so memory stays bounded
        // by one file's text rather than the repository's.
        let files: Vec<IndexedFile<'_>> = index.indexed_files().collect();
        let (keys, plans): (Vec<u64>, Vec<FilePlan>) = files
            .par_iter()
            .map(|&file| {
                let key = plan_key(file, max_tokens);
                let plan = match previous.files.get(file.path()) {
                    Some((known_key, ids)) if *known_key == key && ids.iter().all(|id| stored.contains(id)) => {
                        FilePlan::Known(ids.clone())
                    }
                    _ => match plan_file(root, file, max_tokens) {
                        Some((planned, _)) => FilePlan::Read(planned),
                        None => FilePlan::Changed,
                    },
                };
                (key, plan)
            })
            .unzip();
        drop(previous);
        let mut wanted: HashSet<u64> = HashSet::with_capacity(chunks as usize);
        let (mut missing, mut to_embed) = (0u64, 0u64);
        let mut seen_keys = HashSet::new();
        for plan in &plans {
            match plan {
                FilePlan::Changed => {
                    report.files_read += 1;
                    report.files_changed_since_indexing += 1;
                }
                FilePlan::Known(ids) => {
                    wanted.extend(ids.iter().copied());
                    report.already_stored += ids.len() as u64;
                }
                FilePlan::Read(planned) => {
                    report.files_read += 1;
                    for p in planned {
                        wanted.insert(p.id);
                        if stored.contains(&p.id) {
                            report.already_stored += 1;
                        } else {
                            missing += 1;
                            if !cache.contains(p.key) && seen_keys.insert(p.key) {
                                to_embed += 1;
                            }
                        }
                    }
                }
            }
        }
        drop(seen_keys);
        progress.planned(missing, to_embed);

        let mut pipeline = Pipeline::new(self, self.store.as_ref());
        // Most central files first: an interrupted or still-running sync has covered the code most tasks reach.
        let mut order: Vec<usize> = (0..files.len())
            .filter(
                |&i| matches!(&plans[i], FilePlan::Read(planned) if planned.iter().any(|p| !stored.contains(&p.id))),
            )
            .collect();
        let graph = index.graph();
        order.sort_by(|&a, &b| {
            graph.file_rank(files[b].id()).total_cmp(&graph.file_rank(files[a].id())).then(a.cmp(&b))
        });
        for i in order {
            let file = files[i];
            // Re-read for the texts; a file changed in between is left for the next index run.
            let Some((planned, texts)) = plan_file(root, file, max_tokens) else {
                report.files_changed_since_indexing += 1;
                continue;
            };
            for (p, text) in planned.into_iter().zip(texts) {
                if stored.contains(&p.id) {
                    continue;
                }
                let pending = Pending { id: p.id, key: p.key, payload: payload(file, p.chunk, p.key) };
                if pipeline.push(pending, text, cache, progress)? {
                    report.from_cache += 1;
                }
            }
        }
        let (work, upserted) = pipeline.finish(cache, progress)?;
        report.upserted = upserted;

        // Points whose chunk is gone: deleted files, edited chunks, moved lines.
        report.deleted = delete_unwanted(self.store.as_ref(), &stored, &wanted)?;
        self.store.flush()?;
        report.points = self.store.count()? as u64;
        report.embedded = work.embedded;
        report.model_calls = work.calls;
        report.model_seconds = work.seconds;
        report.embedded_chars = work.chars;
        state.generation = index.generation();
        state.points = report.points as usize;
        state.complete = report.files_changed_since_indexing == 0;
        state.synced_at = unix_seconds();
        let mut manifest = Manifest::default();
        for ((file, plan), key) in files.iter().zip(plans).zip(keys) {
            let ids = match plan {
                FilePlan::Known(ids) => ids,
                FilePlan::Read(planned) => planned.into_iter().map(|p| p.id).collect(),
                FilePlan::Changed => continue,
            };
            manifest.files.insert(file.path().to_string(), (key, ids));
        }
        manifest.save(&manifest_path)?;
        state.write(&self.index_dir)
    }

    /// Embeds the waiting texts in model calls of `batch_size` texts of similar length (a call pads every text
    /// to its longest, so mixing a 20-token and a 256-token text wastes most of the work), caches the vectors and
    /// queues their points.
    fn embed_batch(
        &self,
        batch: &mut Batch,
        cache: &mut VectorCache,
        upserts: &mut Vec<VectorPoint>,
        work: &mut ModelWork,
        progress: &dyn SyncProgress,
    ) -> Result<(), SemanticError> {
        if batch.texts.is_empty() {
            return Ok(());
        }
        let mut order: Vec<usize> = (0..batch.texts.len()).collect();
        order.sort_by_key(|&i| batch.texts[i].len());
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); batch.texts.len()];
        for call in order.chunks(self.batch_size) {
            let texts: Vec<&str> = call.iter().map(|&i| batch.texts[i].as_str()).collect();
            let started = Instant::now();
            let embedded = self.embedder.embed(&texts)?;
            work.seconds += started.elapsed().as_secs_f64();
            work.calls += 1;
            for (&i, vector) in call.iter().zip(embedded) {
                vectors[i] = vector;
            }
        }
        work.embedded += batch.texts.len() as u64;
        work.chars += batch.texts.iter().map(|t| t.chars().count() as u64).sum::<u64>();
        let entries: Vec<(u128, Vec<f32>)> = batch.keys.iter().copied().zip(vectors).collect();
        cache.insert_all(&entries)?;
        let by_key: HashMap<u128, &Vec<f32>> = entries.iter().map(|(k, v)| (*k, v)).collect();
        let waiting = std::mem::take(&mut batch.waiting);
        progress.advanced(waiting.len() as u64);
        for pending in waiting {
            if let Some(vector) = by_key.get(&pending.key) {
                upserts.push(VectorPoint { id: pending.id, vector: (*vector).clone(), payload: pending.payload });
            }
        }
        batch.texts.clear();
        batch.keys.clear();
        Ok(())
    }
}

/// Deletes the points of `stored` that `wanted` no longer has (deleted files, edited chunks, moved lines);
/// returns how many.
fn delete_unwanted(
    store: &dyn VectorStore,
    stored: &HashSet<u64>,
    wanted: &HashSet<u64>,
) -> Result<u64, SemanticError> {
    let stale: Vec<u64> = stored.iter().copied().filter(|id| !wanted.contains(id)).collect();
    for ids in stale.chunks(1024) {
        store.delete_ids(ids)?;
    }
    Ok(stale.len() as u64)
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What the last sync planned per file: its plan key and its point ids. Binary: magic, then per file
/// (path length u32, path, key u64, id count u32, ids u64…), then an xxh3-64 checksum of everything before it.
/// Anything unreadable is an empty manifest: the next sync just reads every file.
#[derive(Default)]
struct Manifest {
    files: HashMap<String, (u64, Vec<u64>)>,
}

impl Manifest {
    fn load(path: &Path) -> Manifest {
        std::fs::read(path).ok().and_then(|bytes| Manifest::decode(&bytes)).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Option<Manifest> {
        let (body, checksum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
        if xxhash_rust::xxh3::xxh3_64(body) != u64::from_le_bytes(checksum.try_into().ok()?) {
            return None;
        }
        let mut rest = body.strip_prefix(MANIFEST_MAGIC.as_slice())?;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        let mut files = HashMap::new();
        while let Some(len) = take(4) {
            let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
            let path = String::from_utf8(take(len)?.to_vec()).ok()?;
            let key = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let ids = take(count.checked_mul(8)?)?
                .chunks_exact(8)
                .map(|b| b.try_into().map(u64::from_le_bytes))
                .collect::<Result<Vec<u64>, _>>()
                .ok()?;
            files.insert(path, (key, ids));
        }
        Some(Manifest { files })
    }

    /// Writes atomically (temporary file, then rename).
    fn save(&self, path: &Path) -> Result<(), SemanticError> {
        let mut bytes = MANIFEST_MAGIC.to_vec();
        for (file, (key, ids)) in &self.files {
            bytes.extend_from_slice(&(file.len() as u32).to_le_bytes());
            bytes.extend_from_slice(file.as_bytes());
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&(ids.len() as u32).to_le_bytes());
            for id in ids {
                bytes.extend_from_slice(&id.to_le_bytes());
            }
        }
        let checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        let temporary = path.with_extension("bin.tmp");
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| SemanticError::Io { path: p, source }
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&temporary, &bytes).map_err(io(&temporary))?;
        std::fs::rename(&temporary, path).map_err(io(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_reject_damage() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.bin");
        let mut manifest = Manifest::default();
        manifest.files.insert("src/a.rs".into(), (7, vec![1, 2, 3]));
        manifest.files.insert("b.py".into(), (9, Vec::new()));
        manifest.save(&path).expect("save");
        let loaded = Manifest::load(&path);
        assert_eq!(loaded.files, manifest.files);

        let mut bytes = std::fs::read(&path).expect("read");
        bytes[12] ^= 0xff;
        std::fs::write(&path, &bytes).expect("write");
        assert!(Manifest::load(&path).files.is_empty(), "a damaged manifest is ignored");
        std::fs::write(&path, b"short").expect("write");
        assert!(Manifest::load(&path).files.is_empty());
    }
}
