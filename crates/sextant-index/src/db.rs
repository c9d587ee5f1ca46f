//! The committed state of an index in LMDB (`<index>/store/`): a record per indexed file (its facts), a record per
//! file of the graph edges that start in it, a record per skipped path, a names table (symbol name → the files
//! that define it), and three small repository-wide records (the header, the module edges, the ranks). An update
//! writes the records that changed and the small ones.
//!
//! The commit is two-step with tantivy, each step durable:
//! 1. [`prepare`]: one transaction writes the changed records into the *pending* tables (an overlay: a value, or
//!    an empty value for a deletion) and the pending header (generation G+1). The committed tables stay as they
//!    are.
//! 2. The caller commits tantivy with G+1 as its payload.
//! 3. [`publish`]: one transaction applies the overlay to the committed tables, makes the pending header the
//!    committed one and empties the overlay.
//!
//! A reader ([`load`]) reads the committed tables when tantivy holds the committed generation, and the committed
//! tables under the overlay when tantivy holds the pending one (a crash between steps 2 and 3); it never writes.
//! The next writer applies such an overlay, or drops one that tantivy never committed ([`settle`]). LMDB gives
//! readers in any process a consistent view while a writer commits, and a crash at any point leaves the last
//! committed transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use heed::types::Bytes;
use heed::{Database, Env, EnvOpenOptions, RoTxn, RwTxn, WithoutTls};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sextant_graph::{Edge, EdgeKind, GraphData, Node, SymbolId};
use sextant_lexical::file_key;
use sextant_syntax::FileFacts;

use crate::store::{FileRecord, GitState, SkippedFile, Snapshot, FORMAT_VERSION};
use crate::IndexError;

/// Subdirectory of an index directory that holds the LMDB environment.
pub(crate) const STORE_DIR: &str = "store";
/// The single-file snapshot an older Sextant (format 5 and before) kept instead of the store.
const LEGACY_SNAPSHOT: &str = "snapshot";
const LEGACY_SNAPSHOT_NEXT: &str = "snapshot.next";
/// Address space reserved for the map; the file grows only as records are written.
const MAP_SIZE: usize = 256 << 30;

const HEADER: &[u8] = b"committed";
const PENDING_HEADER: &[u8] = b"pending";
const MODULES: &[u8] = b"modules";
const RANKS: &[u8] = b"ranks";
/// Marks a store emptied of another format's records (see [`drop_unreadable`]).
const EMPTIED: &[u8] = b"emptied";

/// The tables that an update writes record by record, each with its pending overlay.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Files,
    Edges,
    Skipped,
    Repository,
    /// Symbol name → the keys ([`file_key`], as the lexical index keys paths) of the files that define it
    /// (sorted): what a lookup by name reads first. Keys, not paths: eight bytes where a path takes sixty (a third
    /// of this table on moby/moby).
    Names,
}

const TABLES: [Table; 5] = [Table::Files, Table::Edges, Table::Skipped, Table::Repository, Table::Names];

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Files => "files",
            Table::Edges => "edges",
            Table::Skipped => "skipped",
            Table::Repository => "repository",
            Table::Names => "names",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a generation is, apart from its records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    format_version: u32,
    generation: u64,
    root: String,
    indexed_at: u64,
    started_at_ns: u64,
    config_hash: u64,
    git: Option<GitState>,
    context_hash: u64,
    /// See [`Snapshot::scip_stamp`].
    scip_stamp: u64,
    /// The overlay replaces every record (a first index or a rebuild), rather than updating some.
    replaces_all: bool,
}

/// A file's record, without its path (the key).
#[derive(Serialize)]
struct FileRecordRef<'a> {
    hash: u128,
    size: u64,
    mtime_ns: u64,
    lossy: bool,
    facts: &'a FileFacts,
}

#[derive(Deserialize)]
struct StoredFile {
    hash: u128,
    size: u64,
    mtime_ns: u64,
    lossy: bool,
    facts: FileFacts,
}

impl StoredFile {
    fn into_record(self, path: String) -> FileRecord {
        let StoredFile { hash, size, mtime_ns, lossy, facts } = self;
        FileRecord { path, hash, size, mtime_ns, lossy, facts: Arc::new(facts) }
    }
}

/// A node named by path rather than by position, so that a record stays valid while other files come and go.
/// The `u32`s index the record's `names`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum StoredNode {
    File(u32),
    Module(u32),
    Symbol(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct StoredEdge {
    from: StoredNode,
    to: StoredNode,
    kind: EdgeKind,
    weight: f32,
}

/// Edges with the paths they name.
#[derive(Debug, Default, Serialize, Deserialize)]
struct EdgeList {
    names: Vec<String>,
    edges: Vec<StoredEdge>,
}

/// The graph record of one file: the edges that start at it or its symbols, and its link hashes.
#[derive(Debug, Serialize, Deserialize)]
struct FileGraph {
    scope_hash: u64,
    package_hash: u64,
    edges: EdgeList,
}

/// The module list and the edges that start at modules.
#[derive(Debug, Serialize, Deserialize)]
struct ModuleGraph {
    modules: Vec<String>,
    edges: EdgeList,
}

#[derive(Debug, Serialize, Deserialize)]
struct Ranks {
    symbol_rank: Vec<f32>,
    file_rank: Vec<f32>,
    /// Where each file's symbols start in `symbol_rank` (files in path order), so that a lookup can find one
    /// symbol's rank without reading the files before it.
    symbol_offsets: Vec<u32>,
    /// Computed over this generation's graph (else carried over from the previous one).
    exact: bool,
}

/// An open store: the environment and its tables (committed and pending).
struct Store {
    /// Read transactions hold a reader slot only while they live (not per thread): a server's blocking pool may run
    /// more threads than LMDB has slots.
    env: Env<WithoutTls>,
    meta: Database<Bytes, Bytes>,
    committed: [Database<Bytes, Bytes>; 5],
    pending: [Database<Bytes, Bytes>; 5],
    /// The data file's identity when opened: a store deleted and created again at the same path is opened anew.
    identity: (u64, u64),
}

/// LMDB allows one environment handle per file per process: every user in this process shares it.
static STORES: Mutex<Option<HashMap<PathBuf, Arc<Store>>>> = Mutex::new(None);

fn store_error(dir: &Path) -> impl Fn(heed::Error) -> IndexError + '_ {
    move |error| IndexError::Store { dir: dir.join(STORE_DIR), message: error.to_string() }
}

fn data_identity(store_dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(store_dir.join("data.mdb")).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The store of index directory `dir`; `None` when there is none and `create` is false.
fn open(dir: &Path, create: bool) -> Result<Option<Arc<Store>>, IndexError> {
    let store_dir = dir.join(STORE_DIR);
    let key = store_dir.canonicalize().unwrap_or_else(|_| store_dir.clone());
    let mut stores = STORES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let stores = stores.get_or_insert_with(HashMap::new);
    match data_identity(&store_dir) {
        Some(identity) => {
            if let Some(store) = stores.get(&key).filter(|s| s.identity == identity) {
                return Ok(Some(Arc::clone(store)));
            }
        }
        None if !create => return Ok(None),
        None => {}
    }
    // Whatever was cached for this path is of a deleted store: close it before opening the new one.
    stores.remove(&key);
    std::fs::create_dir_all(&store_dir).map_err(|source| IndexError::Io { path: store_dir.clone(), source })?;
    let error = store_error(dir);
    // SAFETY: the files are only ever opened through this handle in this process (the map above), and other
    // processes change them only through LMDB's own transactions.
    let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().map_size(MAP_SIZE).max_dbs(16).open(&store_dir) }
        .map_err(&error)?;
    let names: Vec<String> = TABLES
        .iter()
        .map(|t| t.name().to_string())
        .chain(TABLES.iter().map(|t| format!("pending-{}", t.name())))
        .chain(["meta".to_string()])
        .collect();
    let mut databases = Vec::with_capacity(names.len());
    {
        // Opening handles in a transaction that is then committed shares them with every later transaction.
        let rtxn = env.read_txn().map_err(&error)?;
        for name in &names {
            databases.push(env.open_database::<Bytes, Bytes>(&rtxn, Some(name)).map_err(&error)?);
        }
        rtxn.commit().map_err(&error)?;
    }
    let databases: Vec<Database<Bytes, Bytes>> = match databases.iter().all(Option::is_some) {
        true => databases.into_iter().flatten().collect(),
        false if !create => return Ok(None),
        false => {
            let mut wtxn = env.write_txn().map_err(&error)?;
            let mut created = Vec::with_capacity(names.len());
            for name in &names {
                created.push(env.create_database::<Bytes, Bytes>(&mut wtxn, Some(name)).map_err(&error)?);
            }
            wtxn.commit().map_err(&error)?;
            created
        }
    };
    let identity = data_identity(&store_dir).unwrap_or_default();
    let store = Arc::new(Store {
        env,
        meta: databases[10],
        committed: [databases[0], databases[1], databases[2], databases[3], databases[4]],
        pending: [databases[5], databases[6], databases[7], databases[8], databases[9]],
        identity,
    });
    stores.insert(key, Arc::clone(&store));
    Ok(Some(store))
}

pub(crate) fn corrupt(dir: &Path, message: impl Into<String>) -> IndexError {
    IndexError::Corrupt { path: dir.join(STORE_DIR), message: message.into() }
}

fn decode<T: serde::de::DeserializeOwned>(dir: &Path, what: &str, bytes: &[u8]) -> Result<T, IndexError> {
    postcard::from_bytes(bytes).map_err(|e| corrupt(dir, format!("{what}: {e}")))
}

/// Largest decoded record taken in one allocation of the size its frame states; a larger stated size (only a
/// damaged or hostile store has one) is decoded as a stream, which allocates only what the data really holds.
const MAX_PLANNED_RECORD_BYTES: usize = 256 << 20;

thread_local! {
    /// Each thread's zstd decompression context, reused from record to record: opening a large index decodes
    /// hundreds of thousands of records, and a fresh context per record cost more than most records' decoding.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn decode_compressed<T: serde::de::DeserializeOwned>(dir: &Path, what: &str, bytes: &[u8]) -> Result<T, IndexError> {
    let raw = decompress_record(bytes).map_err(|e| corrupt(dir, format!("{what}: {e}")))?;
    decode(dir, what, &raw)
}

/// A record's bytes, decoded with this thread's context when its frame states a plausible size.
fn decompress_record(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let Some(size) = zstd::bulk::Decompressor::upper_bound(bytes).filter(|&s| s <= MAX_PLANNED_RECORD_BYTES) else {
        return zstd::stream::decode_all(bytes);
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match &mut *slot {
            Some(decompressor) => decompressor,
            empty => empty.insert(zstd::bulk::Decompressor::new()?),
        };
        decompressor.decompress(bytes, size)
    })
}

fn encode(value: &impl Serialize) -> Vec<u8> {
    // Encoding plain data into a vector cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// zstd level 3: on kafka's records 1.4× smaller than lz4 (fewer overflow pages too), and decoding stays a small
/// part of opening an index.
fn encode_compressed(value: &impl Serialize) -> Vec<u8> {
    // Compressing a buffer in memory cannot fail; an empty value would read as a deletion, so never return one.
    zstd::bulk::compress(&encode(value), 3).unwrap_or_else(|_| vec![0])
}

fn header(store: &Store, txn: &RoTxn, key: &[u8], dir: &Path) -> Result<Option<Header>, IndexError> {
    let Some(bytes) = store.meta.get(txn, key).map_err(store_error(dir))? else { return Ok(None) };
    // The format version leads the header, so another format is told apart before the rest is decoded.
    let (version, _) = postcard::take_from_bytes::<u32>(bytes).map_err(|e| corrupt(dir, e.to_string()))?;
    if version != FORMAT_VERSION {
        return Err(IndexError::OldFormat { found: version, expected: FORMAT_VERSION });
    }
    decode(dir, "header", bytes).map(Some)
}

/// An index written by an older Sextant (one snapshot file, no store): its format version, or 0.
fn legacy_format(dir: &Path) -> Option<u32> {
    use std::io::Read;
    let mut head = [0u8; 12];
    let mut file = std::fs::File::open(dir.join(LEGACY_SNAPSHOT)).ok()?;
    Some(match file.read_exact(&mut head) {
        Ok(()) => u32::from_le_bytes([head[8], head[9], head[10], head[11]]),
        Err(_) => 0,
    })
}

/// Whether `dir` holds a committed generation (a header; nothing else is read).
pub(crate) fn has_committed(dir: &Path) -> bool {
    committed_generation(dir).ok().flatten().is_some() || legacy_format(dir).is_some()
}

/// The committed generation and when its run started, if any: what tells a reader that another commit landed.
pub(crate) fn committed_generation(dir: &Path) -> Result<Option<(u64, u64)>, IndexError> {
    let Some(store) = open(dir, false)? else { return Ok(None) };
    let txn = store.env.read_txn().map_err(store_error(dir))?;
    Ok(header(&store, &txn, HEADER, dir)?.map(|h| (h.generation, h.started_at_ns)))
}

/// The committed snapshot, as of the lexical generation `lexical_generation`: the committed records, or those under
/// the pending overlay when tantivy already holds the pending generation. `Ok(None)` when nothing was committed.
pub(crate) fn load(dir: &Path, lexical_generation: Option<u64>) -> Result<Option<Snapshot>, IndexError> {
    let Some(store) = open(dir, false)? else {
        return match legacy_format(dir) {
            Some(found) => Err(IndexError::OldFormat { found, expected: FORMAT_VERSION }),
            None => Ok(None),
        };
    };
    let txn = store.env.read_txn().map_err(store_error(dir))?;
    let committed = header(&store, &txn, HEADER, dir)?;
    let pending = header(&store, &txn, PENDING_HEADER, dir)?;
    let committed_generation = committed.as_ref().map(|h| h.generation);
    if committed_generation == lexical_generation {
        return match committed {
            Some(header) => read_snapshot(dir, &store, &txn, header, false).map(Some),
            None => Ok(None),
        };
    }
    match pending {
        Some(header) if Some(header.generation) == lexical_generation => {
            read_snapshot(dir, &store, &txn, header, true).map(Some)
        }
        _ => Err(IndexError::Inconsistent {
            dir: dir.to_path_buf(),
            snapshot: committed_generation,
            lexical: lexical_generation,
        }),
    }
}

/// A key and its value, borrowed from a read transaction.
type Entry<'t> = (&'t [u8], &'t [u8]);

/// The records of one table: the committed ones, under the pending overlay when `overlay` (in key order).
fn records<'t>(
    store: &Store,
    txn: &'t RoTxn,
    table: Table,
    overlay: Option<&Header>,
    dir: &Path,
) -> Result<Vec<Entry<'t>>, IndexError> {
    let error = store_error(dir);
    let mut out: Vec<(&[u8], &[u8])> = Vec::new();
    let base_wanted = !overlay.is_some_and(|h| h.replaces_all);
    if base_wanted {
        for entry in store.committed[table.index()].iter(txn).map_err(&error)? {
            out.push(entry.map_err(&error)?);
        }
    }
    if overlay.is_some() {
        let mut changes = Vec::new();
        for entry in store.pending[table.index()].iter(txn).map_err(&error)? {
            changes.push(entry.map_err(&error)?);
        }
        if !changes.is_empty() {
            let mut merged: std::collections::BTreeMap<&[u8], &[u8]> = out.into_iter().collect();
            for (key, value) in changes {
                match value.is_empty() {
                    true => merged.remove(key),
                    false => merged.insert(key, value),
                };
            }
            out = merged.into_iter().collect();
        }
    }
    Ok(out)
}

fn read_snapshot(
    dir: &Path,
    store: &Store,
    txn: &RoTxn,
    header: Header,
    overlay: bool,
) -> Result<Snapshot, IndexError> {
    let overlay = overlay.then_some(&header);
    let path_of = |key: &[u8]| -> Result<String, IndexError> {
        String::from_utf8(key.to_vec()).map_err(|_| corrupt(dir, "a key is not UTF-8"))
    };
    let file_entries = records(store, txn, Table::Files, overlay, dir)?;
    let files: Vec<FileRecord> = file_entries
        .par_iter()
        .map(|(key, value)| {
            let stored: StoredFile = decode_compressed(dir, "file", value)?;
            Ok(stored.into_record(path_of(key)?))
        })
        .collect::<Result<_, IndexError>>()?;
    let skipped: Vec<SkippedFile> = records(store, txn, Table::Skipped, overlay, dir)?
        .iter()
        .map(|(_, value)| decode(dir, "skipped file", value))
        .collect::<Result<_, IndexError>>()?;
    let edge_entries = records(store, txn, Table::Edges, overlay, dir)?;
    if edge_entries.len() != files.len() || edge_entries.iter().zip(&files).any(|((k, _), f)| *k != f.path.as_bytes()) {
        return Err(corrupt(dir, "the graph records do not match the file records"));
    }
    let file_graphs: Vec<FileGraph> = edge_entries
        .par_iter()
        .map(|(_, value)| decode_compressed(dir, "file graph", value))
        .collect::<Result<_, IndexError>>()?;
    let repository = records(store, txn, Table::Repository, overlay, dir)?;
    let find = |key: &[u8]| repository.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let module_graph: ModuleGraph =
        decode_compressed(dir, "module graph", find(MODULES).ok_or_else(|| corrupt(dir, "no module graph"))?)?;
    let ranks: Ranks = decode_compressed(dir, "ranks", find(RANKS).ok_or_else(|| corrupt(dir, "no ranks"))?)?;
    let ranks_exact = ranks.exact;
    let graph = assemble_graph(dir, &files, file_graphs, module_graph, ranks, header.context_hash)?;
    Ok(Snapshot {
        format_version: header.format_version,
        generation: header.generation,
        root: header.root,
        indexed_at: header.indexed_at,
        started_at_ns: header.started_at_ns,
        config_hash: header.config_hash,
        git: header.git,
        files,
        skipped,
        graph: Arc::new(graph),
        ranks_exact,
        scip_stamp: header.scip_stamp,
    })
}

/// Where an edge goes in the canonical order: containment first, then imports, then uses; within each, the
/// edges of modules, then of each file in file order. Within a group the link's order is kept.
fn edge_group(edge: &Edge) -> (u8, u32) {
    let section = match edge.kind {
        EdgeKind::Contains | EdgeKind::Defines => 0,
        EdgeKind::Imports => 1,
        EdgeKind::Calls | EdgeKind::References => 2,
    };
    let source = match edge.from {
        Node::Module(_) => 0,
        Node::File(f) => f + 1,
        Node::Symbol(s) => s.file + 1,
    };
    (section, source)
}

/// Puts the edges of `graph` in the order a load gives them back (a stable sort, cheap on the link's nearly
/// grouped output), so that the writer's own reader and a later reader of the store agree edge for edge.
pub(crate) fn canonicalise(graph: &mut GraphData) {
    // The link's output is usually in this order already: checking costs a fraction of sorting a million edges.
    if !graph.edges.is_sorted_by_key(edge_group) {
        graph.edges.sort_by_key(edge_group);
    }
}

fn assemble_graph(
    dir: &Path,
    files: &[FileRecord],
    file_graphs: Vec<FileGraph>,
    module_graph: ModuleGraph,
    ranks: Ranks,
    context_hash: u64,
) -> Result<GraphData, IndexError> {
    let file_ids: HashMap<&str, u32> = files.iter().enumerate().map(|(i, f)| (f.path.as_str(), i as u32)).collect();
    let module_ids: HashMap<&str, u32> =
        module_graph.modules.iter().enumerate().map(|(i, m)| (m.as_str(), i as u32)).collect();
    let symbol_counts: Vec<u32> = files.iter().map(|f| f.facts.symbols.len() as u32).collect();
    let decode_list = |list: &EdgeList| -> Result<Vec<Edge>, IndexError> {
        // Each name of the record is looked up once (as a file and as a module), not once per edge.
        let as_file: Vec<Option<u32>> = list.names.iter().map(|n| file_ids.get(n.as_str()).copied()).collect();
        let as_module: Vec<Option<u32>> = list.names.iter().map(|n| module_ids.get(n.as_str()).copied()).collect();
        let node = |stored: StoredNode| -> Option<Node> {
            let lookup = |table: &[Option<u32>], i: u32| table.get(i as usize).copied().flatten();
            match stored {
                StoredNode::File(n) => lookup(&as_file, n).map(Node::File),
                StoredNode::Module(n) => lookup(&as_module, n).map(Node::Module),
                StoredNode::Symbol(n, symbol) => {
                    let file = lookup(&as_file, n)?;
                    (symbol < symbol_counts[file as usize]).then_some(Node::Symbol(SymbolId { file, symbol }))
                }
            }
        };
        list.edges
            .iter()
            .map(|e| match (node(e.from), node(e.to)) {
                (Some(from), Some(to)) => Ok(Edge { from, to, kind: e.kind, weight: e.weight }),
                _ => Err(corrupt(dir, "an edge names a file, module or symbol that is not indexed")),
            })
            .collect()
    };
    // Buckets by (section, source group), filled in canonical order and concatenated.
    let groups = files.len() + 1;
    let mut buckets: Vec<Vec<Edge>> = vec![Vec::new(); 3 * groups];
    for edge in decode_list(&module_graph.edges)? {
        let (section, group) = edge_group(&edge);
        buckets[section as usize * groups + group as usize].push(edge);
    }
    let mut scope_hashes = Vec::with_capacity(files.len());
    let mut package_hashes = Vec::with_capacity(files.len());
    let decoded: Vec<Vec<Edge>> = file_graphs.par_iter().map(|g| decode_list(&g.edges)).collect::<Result<_, _>>()?;
    for (graph, edges) in file_graphs.iter().zip(decoded) {
        scope_hashes.push(graph.scope_hash);
        package_hashes.push(graph.package_hash);
        for edge in edges {
            let (section, group) = edge_group(&edge);
            buckets[section as usize * groups + group as usize].push(edge);
        }
    }
    let mut symbol_offsets = Vec::with_capacity(files.len() + 1);
    let mut offset = 0u32;
    for count in &symbol_counts {
        symbol_offsets.push(offset);
        offset += count;
    }
    symbol_offsets.push(offset);
    if ranks.symbol_rank.len() != offset as usize || ranks.file_rank.len() != files.len() {
        return Err(corrupt(dir, "the ranks do not match the files"));
    }
    Ok(GraphData {
        modules: module_graph.modules,
        symbol_offsets,
        edges: buckets.into_iter().flatten().collect(),
        symbol_rank: ranks.symbol_rank,
        file_rank: ranks.file_rank,
        scope_hashes,
        package_hashes,
        context_hash,
        link_memo: Default::default(),
    })
}

/// Encodes edges with the names of the nodes they touch.
struct EdgeEncoder<'a> {
    files: &'a [FileRecord],
    modules: &'a [String],
    names: Vec<String>,
    ids: HashMap<(bool, u32), u32>,
}

impl<'a> EdgeEncoder<'a> {
    fn new(files: &'a [FileRecord], modules: &'a [String]) -> EdgeEncoder<'a> {
        EdgeEncoder { files, modules, names: Vec::new(), ids: HashMap::new() }
    }

    fn name(&mut self, module: bool, index: u32) -> u32 {
        let next = self.names.len() as u32;
        *self.ids.entry((module, index)).or_insert_with(|| {
            let name = match module {
                true => self.modules.get(index as usize),
                false => self.files.get(index as usize).map(|f| &f.path),
            };
            self.names.push(name.cloned().unwrap_or_default());
            next
        })
    }

    fn node(&mut self, node: Node) -> StoredNode {
        match node {
            Node::File(f) => StoredNode::File(self.name(false, f)),
            Node::Module(m) => StoredNode::Module(self.name(true, m)),
            Node::Symbol(s) => StoredNode::Symbol(self.name(false, s.file), s.symbol),
        }
    }

    fn encode<'e>(mut self, edges: impl Iterator<Item = &'e Edge>) -> EdgeList {
        let edges = edges
            .map(|e| StoredEdge { from: self.node(e.from), to: self.node(e.to), kind: e.kind, weight: e.weight })
            .collect();
        EdgeList { names: self.names, edges }
    }
}

/// The records of `snapshot` that an overlay may carry, encoded: per table, key → value.
struct Encoded {
    files: Vec<(String, Vec<u8>)>,
    edges: Vec<(String, Vec<u8>)>,
    skipped: Vec<(String, Vec<u8>)>,
    repository: Vec<(&'static [u8], Vec<u8>)>,
}

/// Encodes what differs from `base` (the committed snapshot); everything when there is no base. A file's edge
/// record is compared edge by edge, not by whether the file changed: its edges move when other files change.
/// A graph's edges in canonical order, cut into the run of each (section, source group): a group's edges are its
/// runs of the three sections, in order, with no copy or per-edge index.
struct EdgeGroups<'a> {
    edges: std::borrow::Cow<'a, [Edge]>,
    groups: usize,
    /// `bounds[section * groups + group]..bounds[section * groups + group + 1]`.
    bounds: Vec<u32>,
}

const SECTIONS: usize = 3;

impl<'a> EdgeGroups<'a> {
    fn new(edges: &'a [Edge], files: usize) -> EdgeGroups<'a> {
        let groups = files + 1;
        // One pass counts the groups and checks the order (the counts do not depend on it).
        let mut bounds = vec![0u32; SECTIONS * groups + 1];
        let (mut sorted, mut last) = (true, (0u8, 0u32));
        for edge in edges {
            let key = edge_group(edge);
            sorted &= last <= key;
            last = key;
            let (section, group) = key;
            // A source beyond the file list (a damaged graph) is counted in the last group, which no file reads.
            bounds[(section as usize * groups + (group as usize).min(groups - 1)) + 1] += 1;
        }
        // Canonical order is the caller's promise; a list out of order is sorted (copied) rather than misread.
        let edges = match sorted {
            true => std::borrow::Cow::Borrowed(edges),
            false => {
                let mut sorted = edges.to_vec();
                sorted.sort_by_key(edge_group);
                std::borrow::Cow::Owned(sorted)
            }
        };
        let mut total = 0;
        for bound in &mut bounds {
            total += *bound;
            *bound = total;
        }
        EdgeGroups { edges, groups, bounds }
    }

    /// The edges of `group` (0: modules, `f + 1`: file `f`), section by section.
    fn of(&self, group: usize) -> impl Iterator<Item = &Edge> + '_ {
        (0..SECTIONS).flat_map(move |section| {
            let at = section * self.groups + group;
            let (start, end) = (self.bounds[at] as usize, self.bounds[at + 1] as usize);
            &self.edges[start..end]
        })
    }

    fn len_of(&self, group: usize) -> usize {
        (0..SECTIONS)
            .map(|section| {
                let at = section * self.groups + group;
                (self.bounds[at + 1] - self.bounds[at]) as usize
            })
            .sum()
    }
}

fn encode_changes(snapshot: &Snapshot, base: Option<&Snapshot>) -> Encoded {
    let graph = &snapshot.graph;
    let by_group = EdgeGroups::new(&graph.edges, snapshot.files.len());
    let base_files: HashMap<&str, &FileRecord> =
        base.iter().flat_map(|b| b.files.iter()).map(|f| (f.path.as_str(), f)).collect();
    let files = snapshot
        .files
        .par_iter()
        .filter(|f| {
            !base_files.get(f.path.as_str()).is_some_and(|old| {
                Arc::ptr_eq(&old.facts, &f.facts)
                    && (old.hash, old.size, old.mtime_ns, old.lossy) == (f.hash, f.size, f.mtime_ns, f.lossy)
            })
        })
        .map(|f| {
            let record =
                FileRecordRef { hash: f.hash, size: f.size, mtime_ns: f.mtime_ns, lossy: f.lossy, facts: &f.facts };
            (f.path.clone(), encode_compressed(&record))
        })
        .collect();
    let unchanged = base.map(|base| unchanged_edge_records(snapshot, base, &by_group)).unwrap_or_default();
    let edges = snapshot
        .files
        .par_iter()
        .enumerate()
        .filter(|(f, _)| !unchanged.get(*f).copied().unwrap_or(false))
        .map(|(f, file)| {
            let list = EdgeEncoder::new(&snapshot.files, &graph.modules).encode(by_group.of(f + 1));
            let record = FileGraph {
                scope_hash: graph.scope_hashes.get(f).copied().unwrap_or_default(),
                package_hash: graph.package_hashes.get(f).copied().unwrap_or_default(),
                edges: list,
            };
            (file.path.clone(), encode_compressed(&record))
        })
        .collect();
    let base_skipped: HashMap<&str, &SkippedFile> =
        base.iter().flat_map(|b| b.skipped.iter()).map(|s| (s.path.as_str(), s)).collect();
    let skipped = snapshot
        .skipped
        .iter()
        .filter(|s| base_skipped.get(s.path.as_str()) != Some(s))
        .map(|s| (s.path.clone(), encode(s)))
        .collect();
    let modules = ModuleGraph {
        modules: graph.modules.clone(),
        edges: EdgeEncoder::new(&snapshot.files, &graph.modules).encode(by_group.of(0)),
    };
    let ranks = Ranks {
        symbol_rank: graph.symbol_rank.clone(),
        file_rank: graph.file_rank.clone(),
        symbol_offsets: graph.symbol_offsets.clone(),
        exact: snapshot.ranks_exact,
    };
    let repository = vec![(MODULES, encode_compressed(&modules)), (RANKS, encode_compressed(&ranks))];
    Encoded { files, edges, skipped, repository }
}

/// Per file of `snapshot`: whether its edge record would encode exactly as `base`'s record of the same path (the
/// same hashes, and the same edges once nodes are named by path), so it need not be written. Any doubt means
/// "changed": an extra write is harmless, a missed one is not.
fn unchanged_edge_records(snapshot: &Snapshot, base: &Snapshot, by_group: &EdgeGroups<'_>) -> Vec<bool> {
    let (new, old) = (&snapshot.graph, &base.graph);
    let new_file: HashMap<&str, u32> =
        snapshot.files.iter().enumerate().map(|(i, f)| (f.path.as_str(), i as u32)).collect();
    let old_to_new: Vec<u32> =
        base.files.iter().map(|f| new_file.get(f.path.as_str()).copied().unwrap_or(u32::MAX)).collect();
    let new_module: HashMap<&str, u32> = new.modules.iter().enumerate().map(|(i, m)| (m.as_str(), i as u32)).collect();
    let old_module_to_new: Vec<u32> =
        old.modules.iter().map(|m| new_module.get(m.as_str()).copied().unwrap_or(u32::MAX)).collect();
    let translate = |node: Node| -> Option<Node> {
        let file = |f: u32| old_to_new.get(f as usize).copied().filter(|&f| f != u32::MAX);
        Some(match node {
            Node::File(f) => Node::File(file(f)?),
            Node::Module(m) => Node::Module(old_module_to_new.get(m as usize).copied().filter(|&m| m != u32::MAX)?),
            Node::Symbol(s) => Node::Symbol(SymbolId { file: file(s.file)?, symbol: s.symbol }),
        })
    };
    // The usual update keeps every path and module in place: edges then compare as they are, without translation.
    let numbers_kept = old_to_new.iter().enumerate().all(|(o, &n)| n == o as u32)
        && old_to_new.len() == snapshot.files.len()
        && old_module_to_new.iter().enumerate().all(|(o, &n)| n == o as u32)
        && old_module_to_new.len() == new.modules.len();
    let same_edge = |n: &Edge, o: &Edge| {
        n.kind == o.kind
            && n.weight.to_bits() == o.weight.to_bits()
            && match numbers_kept {
                true => o.from == n.from && o.to == n.to,
                false => translate(o.from) == Some(n.from) && translate(o.to) == Some(n.to),
            }
    };
    let old_groups = EdgeGroups::new(&old.edges, base.files.len());
    let old_index: HashMap<&str, usize> = base.files.iter().enumerate().map(|(i, f)| (f.path.as_str(), i)).collect();
    snapshot
        .files
        .par_iter()
        .enumerate()
        .map(|(f, file)| {
            let Some(&o) = old_index.get(file.path.as_str()) else { return false };
            let hashes = |g: &GraphData, i: usize| (g.scope_hashes.get(i).copied(), g.package_hashes.get(i).copied());
            if hashes(new, f) != hashes(old, o) {
                return false;
            }
            by_group.len_of(f + 1) == old_groups.len_of(o + 1)
                && by_group.of(f + 1).zip(old_groups.of(o + 1)).all(|(n, o)| same_edge(n, o))
        })
        .collect()
}

/// Step one of a commit: writes the records of `snapshot` that differ from `base` (the committed snapshot, or
/// `None` to replace everything) into the pending overlay, with the pending header. The committed state is not
/// touched. `snapshot`'s edges must be in canonical order ([`canonicalise`]).
pub(crate) fn prepare(dir: &Path, snapshot: &Snapshot, base: Option<&Snapshot>) -> Result<(), IndexError> {
    let store = open(dir, true)?.ok_or_else(|| corrupt(dir, "cannot create the store"))?;
    let error = store_error(dir);
    let encoded = encode_changes(snapshot, base);
    if base.is_none() {
        drop_unreadable(dir, &store)?;
    }
    let mut txn = store.env.write_txn().map_err(&error)?;
    // With nothing committed there is nothing for readers to lose: the records go straight into the committed
    // tables (no second copy), and only the header waits for publishing.
    let in_place = base.is_none() && store.meta.get(&txn, HEADER).map_err(&error)?.is_none();
    for table in TABLES {
        store.pending[table.index()].clear(&mut txn).map_err(&error)?;
        if in_place {
            store.committed[table.index()].clear(&mut txn).map_err(&error)?;
        }
    }
    let pending = |table: Table| if in_place { store.committed[table.index()] } else { store.pending[table.index()] };
    for (path, value) in &encoded.files {
        pending(Table::Files).put(&mut txn, path.as_bytes(), value).map_err(&error)?;
    }
    for (path, value) in &encoded.edges {
        pending(Table::Edges).put(&mut txn, path.as_bytes(), value).map_err(&error)?;
    }
    for (path, value) in &encoded.skipped {
        pending(Table::Skipped).put(&mut txn, path.as_bytes(), value).map_err(&error)?;
    }
    for (key, value) in &encoded.repository {
        pending(Table::Repository).put(&mut txn, key, value).map_err(&error)?;
    }
    if let Some(base) = base {
        // Deletions: an empty value in the overlay.
        let present: std::collections::HashSet<&str> = snapshot.files.iter().map(|f| f.path.as_str()).collect();
        for gone in base.files.iter().filter(|f| !present.contains(f.path.as_str())) {
            pending(Table::Files).put(&mut txn, gone.path.as_bytes(), &[]).map_err(&error)?;
            pending(Table::Edges).put(&mut txn, gone.path.as_bytes(), &[]).map_err(&error)?;
        }
        let still_skipped: std::collections::HashSet<&str> = snapshot.skipped.iter().map(|s| s.path.as_str()).collect();
        for gone in base.skipped.iter().filter(|s| !still_skipped.contains(s.path.as_str())) {
            pending(Table::Skipped).put(&mut txn, gone.path.as_bytes(), &[]).map_err(&error)?;
        }
    }
    write_names(dir, &store, &mut txn, snapshot, base, in_place)?;
    let header = Header {
        format_version: FORMAT_VERSION,
        generation: snapshot.generation,
        root: snapshot.root.clone(),
        indexed_at: snapshot.indexed_at,
        started_at_ns: snapshot.started_at_ns,
        config_hash: snapshot.config_hash,
        git: snapshot.git.clone(),
        context_hash: snapshot.graph.context_hash,
        scip_stamp: snapshot.scip_stamp,
        replaces_all: base.is_none() && !in_place,
    };
    store.meta.put(&mut txn, PENDING_HEADER, &encode(&header)).map_err(&error)?;
    txn.commit().map_err(&error)
}

/// Empties a store that holds another format (or an undecodable header), in a transaction of its own: no reader
/// can use those records, and pages freed by a committed transaction are reused by the rebuild that follows
/// instead of doubling the file.
fn drop_unreadable(dir: &Path, store: &Store) -> Result<(), IndexError> {
    let error = store_error(dir);
    let readable = {
        let txn = store.env.read_txn().map_err(&error)?;
        !matches!(header(store, &txn, HEADER, dir), Err(IndexError::OldFormat { .. } | IndexError::Corrupt { .. }))
    };
    if readable {
        return Ok(());
    }
    let mut txn = store.env.write_txn().map_err(&error)?;
    for table in TABLES {
        store.committed[table.index()].clear(&mut txn).map_err(&error)?;
        store.pending[table.index()].clear(&mut txn).map_err(&error)?;
    }
    store.meta.clear(&mut txn).map_err(&error)?;
    txn.commit().map_err(&error)?;
    // LMDB reuses pages freed by a transaction only from the second transaction after it: one small commit in
    // between lets the rebuild write into them.
    let mut txn = store.env.write_txn().map_err(&error)?;
    store.meta.put(&mut txn, EMPTIED, &[]).map_err(&error)?;
    txn.commit().map_err(&error)
}

/// The distinct symbol names a file defines.
fn defined_names(facts: &FileFacts) -> std::collections::BTreeSet<&str> {
    facts.symbols.iter().map(|s| s.name.as_str()).collect()
}

/// Brings the names table up to `snapshot` in the overlay (or in place): every name from scratch without a base,
/// else only the names that files added, changed or removed define or defined.
fn write_names(
    dir: &Path,
    store: &Store,
    txn: &mut RwTxn,
    snapshot: &Snapshot,
    base: Option<&Snapshot>,
    in_place: bool,
) -> Result<(), IndexError> {
    let error = store_error(dir);
    let target = match in_place {
        true => store.committed[Table::Names.index()],
        false => store.pending[Table::Names.index()],
    };
    let mut lists: std::collections::BTreeMap<&str, Vec<u64>> = std::collections::BTreeMap::new();
    let Some(base) = base else {
        for file in &snapshot.files {
            for name in defined_names(&file.facts) {
                lists.entry(name).or_default().push(file_key(&file.path));
            }
        }
        for (name, mut keys) in lists {
            keys.sort_unstable();
            keys.dedup();
            target.put(txn, name.as_bytes(), &encode(&keys)).map_err(&error)?;
        }
        return Ok(());
    };
    let old: HashMap<&str, &FileRecord> = base.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let new: HashMap<&str, &FileRecord> = snapshot.files.iter().map(|f| (f.path.as_str(), f)).collect();
    // Per affected name: paths that no longer define it, and paths that now do.
    let mut changes: std::collections::BTreeMap<&str, (Vec<&str>, Vec<&str>)> = std::collections::BTreeMap::new();
    for file in &snapshot.files {
        let before = old.get(file.path.as_str());
        if before.is_some_and(|b| Arc::ptr_eq(&b.facts, &file.facts)) {
            continue;
        }
        let now = defined_names(&file.facts);
        let was = before.map(|b| defined_names(&b.facts)).unwrap_or_default();
        for name in was.difference(&now) {
            changes.entry(name).or_default().0.push(&file.path);
        }
        for name in now.difference(&was) {
            changes.entry(name).or_default().1.push(&file.path);
        }
    }
    for gone in base.files.iter().filter(|f| !new.contains_key(f.path.as_str())) {
        for name in defined_names(&gone.facts) {
            changes.entry(name).or_default().0.push(&gone.path);
        }
    }
    let committed = store.committed[Table::Names.index()];
    for (name, (removed, added)) in changes {
        let current: Vec<u64> = match committed.get(txn, name.as_bytes()).map_err(&error)? {
            Some(bytes) => decode(dir, "name list", bytes)?,
            None => Vec::new(),
        };
        let removed: Vec<u64> = removed.iter().map(|p| file_key(p)).collect();
        let mut keys: Vec<u64> = current.into_iter().filter(|k| !removed.contains(k)).collect();
        keys.extend(added.iter().map(|p| file_key(p)));
        keys.sort_unstable();
        keys.dedup();
        // An empty value deletes the name when the overlay is applied.
        let value = if keys.is_empty() { Vec::new() } else { encode(&keys) };
        target.put(txn, name.as_bytes(), &value).map_err(&error)?;
    }
    Ok(())
}

/// Step three of a commit: applies the pending overlay and makes its header the committed one. Also removes the
/// snapshot files of an older format, which this store replaced.
pub(crate) fn publish(dir: &Path) -> Result<(), IndexError> {
    let store = open(dir, true)?.ok_or_else(|| corrupt(dir, "cannot create the store"))?;
    let error = store_error(dir);
    let mut txn = store.env.write_txn().map_err(&error)?;
    apply_pending(dir, &store, &mut txn)?;
    txn.commit().map_err(&error)?;
    for legacy in [LEGACY_SNAPSHOT, LEGACY_SNAPSHOT_NEXT] {
        let _ = std::fs::remove_file(dir.join(legacy));
    }
    Ok(())
}

fn apply_pending(dir: &Path, store: &Store, txn: &mut RwTxn) -> Result<(), IndexError> {
    let error = store_error(dir);
    let Some(bytes) = store.meta.get(txn, PENDING_HEADER).map_err(&error)? else { return Ok(()) };
    let bytes = bytes.to_vec();
    let header: Header = decode(dir, "pending header", &bytes)?;
    for table in TABLES {
        if header.replaces_all {
            store.committed[table.index()].clear(txn).map_err(&error)?;
        }
        let mut changes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for entry in store.pending[table.index()].iter(txn).map_err(&error)? {
            let (key, value) = entry.map_err(&error)?;
            changes.push((key.to_vec(), value.to_vec()));
        }
        for (key, value) in changes {
            match value.is_empty() {
                true => store.committed[table.index()].delete(txn, &key).map(drop).map_err(&error)?,
                false => store.committed[table.index()].put(txn, &key, &value).map_err(&error)?,
            }
        }
        store.pending[table.index()].clear(txn).map_err(&error)?;
    }
    let committed = Header { replaces_all: false, ..header };
    store.meta.put(txn, HEADER, &encode(&committed)).map_err(&error)?;
    store.meta.delete(txn, PENDING_HEADER).map_err(&error)?;
    Ok(())
}

/// Finishes or drops what an interrupted commit left, before a writer starts: an overlay whose generation tantivy
/// holds is applied (it was committed in all but name), any other is dropped (tantivy never saw it).
pub(crate) fn settle(dir: &Path, lexical_generation: Option<u64>) -> Result<(), IndexError> {
    let Some(store) = open(dir, false)? else { return Ok(()) };
    let error = store_error(dir);
    let mut txn = store.env.write_txn().map_err(&error)?;
    let Some(bytes) = store.meta.get(&txn, PENDING_HEADER).map_err(&error)? else { return Ok(()) };
    let bytes = bytes.to_vec();
    let pending_generation = postcard::take_from_bytes::<u32>(&bytes)
        .ok()
        .filter(|(version, _)| *version == FORMAT_VERSION)
        .and_then(|_| decode::<Header>(dir, "pending header", &bytes).ok())
        .map(|h| h.generation);
    let committed_generation = header_generation(&store, &txn, dir)?;
    if pending_generation.is_some()
        && pending_generation == lexical_generation
        && committed_generation != lexical_generation
    {
        apply_pending(dir, &store, &mut txn)?;
    } else {
        for table in TABLES {
            store.pending[table.index()].clear(&mut txn).map_err(&error)?;
        }
        store.meta.delete(&mut txn, PENDING_HEADER).map_err(&error)?;
    }
    txn.commit().map_err(&error)
}

fn header_generation(store: &Store, txn: &RoTxn, dir: &Path) -> Result<Option<u64>, IndexError> {
    Ok(header(store, txn, HEADER, dir).ok().flatten().map(|h| h.generation))
}

/// Replaces the committed records with `snapshot` (same generation; for changes that do not touch the lexical
/// index): one transaction through the overlay, so a crash keeps the old records or the new ones.
pub(crate) fn replace(dir: &Path, snapshot: &Snapshot, base: Option<&Snapshot>) -> Result<(), IndexError> {
    prepare(dir, snapshot, base)?;
    publish(dir)
}

/// Replaces the committed ranks of `generation` with exact ones, computed after its commit (one small
/// transaction; nothing happens when another generation was committed meanwhile).
pub(crate) fn write_ranks(dir: &Path, generation: u64, graph: &GraphData) -> Result<(), IndexError> {
    let store = open(dir, false)?.ok_or_else(|| IndexError::NotIndexed(dir.to_path_buf()))?;
    let error = store_error(dir);
    let mut txn = store.env.write_txn().map_err(&error)?;
    if header_generation(&store, &txn, dir)? != Some(generation) {
        return Ok(());
    }
    let ranks = Ranks {
        symbol_rank: graph.symbol_rank.clone(),
        file_rank: graph.file_rank.clone(),
        symbol_offsets: graph.symbol_offsets.clone(),
        exact: true,
    };
    store.committed[Table::Repository.index()].put(&mut txn, RANKS, &encode_compressed(&ranks)).map_err(&error)?;
    txn.commit().map_err(&error)
}

/// One committed generation read record by record, inside one read transaction (see [`read_committed`]): what a
/// one-shot lookup reads instead of loading the index.
pub(crate) struct CommittedRecords<'a> {
    store: &'a Store,
    txn: RoTxn<'a, WithoutTls>,
    dir: &'a Path,
    header: Header,
}

/// A node of a stored edge, named by path (see [`StoredNode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PathNode<'a> {
    File(&'a str),
    Module(&'a str),
    Symbol(&'a str, u32),
}

/// The edges that start in one file, as stored.
pub(crate) struct FileEdges(EdgeList);

impl FileEdges {
    /// `(from, to, kind, weight)` of every edge, in stored order; edges naming a node outside the record are
    /// left out (a corrupt record, which a full load reports).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (PathNode<'_>, PathNode<'_>, EdgeKind, f32)> + '_ {
        let node = |stored: StoredNode| -> Option<PathNode<'_>> {
            let name = |n: u32| self.0.names.get(n as usize).map(String::as_str);
            Some(match stored {
                StoredNode::File(n) => PathNode::File(name(n)?),
                StoredNode::Module(n) => PathNode::Module(name(n)?),
                StoredNode::Symbol(n, symbol) => PathNode::Symbol(name(n)?, symbol),
            })
        };
        self.0.edges.iter().filter_map(move |e| Some((node(e.from)?, node(e.to)?, e.kind, e.weight)))
    }
}

impl CommittedRecords<'_> {
    /// The repository root the generation was built from.
    pub(crate) fn root(&self) -> &str {
        &self.header.root
    }

    /// The generation read.
    pub(crate) fn generation(&self) -> u64 {
        self.header.generation
    }

    /// Unix seconds of the committed generation's indexing run.
    pub(crate) fn indexed_at(&self) -> u64 {
        self.header.indexed_at
    }

    /// The index directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir
    }

    fn error(&self) -> impl Fn(heed::Error) -> IndexError + '_ {
        store_error(self.dir)
    }

    /// The record of the file at `path`.
    pub(crate) fn file(&self, path: &str) -> Result<Option<FileRecord>, IndexError> {
        let table = self.store.committed[Table::Files.index()];
        let Some(bytes) = table.get(&self.txn, path.as_bytes()).map_err(self.error())? else { return Ok(None) };
        let stored: StoredFile = decode_compressed(self.dir, "file", bytes)?;
        Ok(Some(stored.into_record(path.to_string())))
    }

    /// The edges that start in the file at `path`.
    pub(crate) fn file_edges(&self, path: &str) -> Result<Option<FileEdges>, IndexError> {
        let table = self.store.committed[Table::Edges.index()];
        let Some(bytes) = table.get(&self.txn, path.as_bytes()).map_err(self.error())? else { return Ok(None) };
        let graph: FileGraph = decode_compressed(self.dir, "edges", bytes)?;
        Ok(Some(FileEdges(graph.edges)))
    }

    /// The keys ([`file_key`]) of the files that define a symbol named `name` (a simple name), sorted. Two paths
    /// with one key both match; the caller reads their symbols anyway.
    pub(crate) fn defining_keys(&self, name: &str) -> Result<Vec<u64>, IndexError> {
        let table = self.store.committed[Table::Names.index()];
        match table.get(&self.txn, name.as_bytes()).map_err(self.error())? {
            Some(bytes) => decode(self.dir, "name list", bytes),
            None => Ok(Vec::new()),
        }
    }

    /// Every indexed path, in path order (keys only: no record is decoded).
    pub(crate) fn paths(&self) -> Result<Vec<&str>, IndexError> {
        let table = self.store.committed[Table::Files.index()];
        let mut out = Vec::new();
        for entry in table.lazily_decode_data().iter(&self.txn).map_err(self.error())? {
            let (key, _) = entry.map_err(self.error())?;
            out.push(std::str::from_utf8(key).map_err(|_| corrupt(self.dir, "a file key is not UTF-8"))?);
        }
        Ok(out)
    }

    /// The generation's symbol ranks and where each file's symbols start in them (files in path order).
    pub(crate) fn symbol_ranks(&self) -> Result<(Vec<f32>, Vec<u32>), IndexError> {
        let table = self.store.committed[Table::Repository.index()];
        let ranks: Ranks = match table.get(&self.txn, RANKS).map_err(self.error())? {
            Some(bytes) => decode_compressed(self.dir, "ranks", bytes)?,
            None => return Err(corrupt(self.dir, "no ranks")),
        };
        Ok((ranks.symbol_rank, ranks.symbol_offsets))
    }
}

/// Runs `read` over the committed generation of `dir`, in one read transaction. `None` when the store has no
/// committed generation or an interrupted commit is pending (then only a full open knows the generation readers
/// see).
pub(crate) fn read_committed<R>(
    dir: &Path,
    read: impl FnOnce(&CommittedRecords<'_>) -> Result<R, IndexError>,
) -> Result<Option<R>, IndexError> {
    let Some(store) = open(dir, false)? else { return Ok(None) };
    let txn = store.env.read_txn().map_err(store_error(dir))?;
    if store.meta.get(&txn, PENDING_HEADER).map_err(store_error(dir))?.is_some() {
        return Ok(None);
    }
    let Some(header) = header(&store, &txn, HEADER, dir)? else { return Ok(None) };
    let records = CommittedRecords { store: &store, txn, dir, header };
    read(&records).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(files: usize, generation: u64) -> Snapshot {
        let python = sextant_syntax::Language::from_name("python").expect("python is supported");
        let files = (0..files)
            .map(|i| {
                let text = format!(
                    "def handler_{i}(request):\n    \"\"\"Handles request {i}.\"\"\"\n    return process_{i}(request)\n\n\ndef process_{i}(r):\n    return [r] * {i}\n"
                );
                let facts = sextant_syntax::analyze(python, &text, Default::default()).expect("parses");
                FileRecord { path: format!("pkg/m{i:04}.py"), hash: i as u128, size: 1, mtime_ns: 1, lossy: false, facts: Arc::new(facts) }
            })
            .collect::<Vec<_>>();
        let inputs: Vec<sextant_graph::GraphInput<'_>> =
            files.iter().map(|f| sextant_graph::GraphInput { path: &f.path, facts: &f.facts }).collect();
        let mut graph = sextant_graph::SymbolGraph::build_with_manifests(&inputs, &[]).into_data();
        canonicalise(&mut graph);
        Snapshot {
            format_version: FORMAT_VERSION,
            generation,
            root: "/repo".into(),
            indexed_at: 0,
            started_at_ns: 0,
            config_hash: 0,
            git: None,
            files,
            skipped: Vec::new(),
            graph: Arc::new(graph),
            ranks_exact: true,
            scip_stamp: 0,
        }
    }

    /// Every entry of the committed names table, decoded.
    fn names_table(dir: &Path) -> Vec<(String, Vec<u64>)> {
        let store = open(dir, false).unwrap().unwrap();
        let txn = store.env.read_txn().unwrap();
        let table = store.committed[Table::Names.index()];
        table
            .iter(&txn)
            .unwrap()
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (String::from_utf8(key.to_vec()).unwrap(), decode(dir, "name list", value).unwrap())
            })
            .collect()
    }

    #[test]
    fn records_decode_with_a_reused_context_and_damaged_ones_are_reported() {
        let dir = Path::new("/idx");
        let small: Vec<String> = (0..3).map(|i| format!("name_{i}")).collect();
        let large: Vec<u64> = (0..200_000).collect();
        // One thread decodes records of different sizes in turn through its one context.
        for _ in 0..2 {
            let decoded: Vec<String> = decode_compressed(dir, "names", &encode_compressed(&small)).unwrap();
            assert_eq!(decoded, small);
            let decoded: Vec<u64> = decode_compressed(dir, "keys", &encode_compressed(&large)).unwrap();
            assert_eq!(decoded, large);
        }
        // A frame written by a streaming encoder states no size: it is still read.
        let streamed = {
            use std::io::Write;
            let bytes = encode(&small);
            let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
            for piece in bytes.chunks(4) {
                encoder.write_all(piece).unwrap();
                encoder.flush().unwrap();
            }
            encoder.finish().unwrap()
        };
        assert_eq!(zstd::bulk::Decompressor::upper_bound(&streamed), None);
        let decoded: Vec<String> = decode_compressed(dir, "names", &streamed).unwrap();
        assert_eq!(decoded, small);
        // Cut short: an error naming the record.
        let whole = encode_compressed(&large);
        let error = decode_compressed::<Vec<u64>>(dir, "keys", &whole[..whole.len() / 2]).unwrap_err();
        assert!(error.to_string().contains("keys"), "{error}");
        // A frame that states less than it holds (its Frame_Content_Size field rewritten): the planned buffer is
        // too small, and that is an error, not a larger allocation.
        let mut understated = whole.clone();
        let descriptor = understated[4];
        let (single_segment, dictionary) = ((descriptor >> 5) & 1 == 1, descriptor & 3);
        assert_eq!(descriptor >> 6, 2, "a record this size states its size in 4 bytes");
        let at = 5 + usize::from(!single_segment) + [0, 1, 2, 4][usize::from(dictionary)];
        understated[at..at + 4].copy_from_slice(&64u32.to_le_bytes());
        assert_eq!(zstd::bulk::Decompressor::upper_bound(&understated), Some(64));
        let error = decode_compressed::<Vec<u64>>(dir, "keys", &understated).unwrap_err();
        assert!(error.to_string().contains("keys"), "{error}");
        // The context still decodes good records after those errors.
        let decoded: Vec<String> = decode_compressed(dir, "names", &encode_compressed(&small)).unwrap();
        assert_eq!(decoded, small);
    }

    #[test]
    fn an_update_leaves_the_names_table_a_clean_write_would() {
        let (updated, clean) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = snapshot(4, 1);
        prepare(updated.path(), &first, None).unwrap();
        publish(updated.path()).unwrap();
        // One file gone, one renamed so its definitions change names, one added.
        let mut second = snapshot(5, 2);
        second.files.remove(1);
        let python = sextant_syntax::Language::from_name("python").unwrap();
        let renamed = sextant_syntax::analyze(python, "def handler_renamed(r):\n    return r\n", Default::default());
        second.files[0].facts = Arc::new(renamed.unwrap());
        let inputs: Vec<sextant_graph::GraphInput<'_>> =
            second.files.iter().map(|f| sextant_graph::GraphInput { path: &f.path, facts: &f.facts }).collect();
        let mut graph = sextant_graph::SymbolGraph::build_with_manifests(&inputs, &[]).into_data();
        canonicalise(&mut graph);
        second.graph = Arc::new(graph);
        drop(inputs);
        prepare(updated.path(), &second, Some(&first)).unwrap();
        publish(updated.path()).unwrap();
        prepare(clean.path(), &second, None).unwrap();
        publish(clean.path()).unwrap();
        let table = names_table(updated.path());
        assert!(table.iter().any(|(name, _)| name == "handler_renamed"), "{table:?}");
        assert!(!table.iter().any(|(name, _)| name == "handler_0" || name == "handler_1"), "{table:?}");
        assert_eq!(table, names_table(clean.path()));
    }

    fn data_size(dir: &Path) -> u64 {
        std::fs::metadata(dir.join(STORE_DIR).join("data.mdb")).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn a_store_of_another_format_is_emptied_before_the_rebuild_so_the_file_does_not_double() {
        let dir = tempfile::tempdir().unwrap();
        let first = snapshot(400, 1);
        prepare(dir.path(), &first, None).unwrap();
        publish(dir.path()).unwrap();
        assert_eq!(load(dir.path(), Some(1)).unwrap().as_ref(), Some(&first));
        let size = data_size(dir.path());

        // What an older Sextant's header looks like to this one: another format version up front.
        let store = open(dir.path(), false).unwrap().unwrap();
        let mut txn = store.env.write_txn().unwrap();
        let mut old = encode(&(FORMAT_VERSION - 1));
        old.extend_from_slice(&[0; 16]);
        store.meta.put(&mut txn, HEADER, &old).unwrap();
        txn.commit().unwrap();
        assert!(matches!(load(dir.path(), Some(1)), Err(IndexError::OldFormat { .. })));

        let rebuilt = snapshot(400, 2);
        prepare(dir.path(), &rebuilt, None).unwrap();
        publish(dir.path()).unwrap();
        assert_eq!(load(dir.path(), Some(2)).unwrap().as_ref(), Some(&rebuilt));
        assert!(data_size(dir.path()) <= size + size / 4, "{} grew from {size}", data_size(dir.path()));
    }
}
