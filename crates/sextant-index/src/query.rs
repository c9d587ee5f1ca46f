//! Reading a committed index: search, definitions, references, callers and callees.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use sextant_graph::{EdgeKind, Node, SymbolGraph, SymbolId};
use sextant_lexical::{for_each_term, FileBm25, LexicalHit, LexicalIndex, SearchFilter};
use sextant_syntax::{RefKind, Reference, Symbol};

use crate::build::{summarize, IndexSummary};
use crate::db;
use crate::store::{self, Snapshot};
use crate::{IndexError, IndexedFile, PathFilter, Signal, SignalHit, LEXICAL_DIR};

/// Lines of context in a search snippet.
const SNIPPET_LINES: usize = 3;
/// Longest snippet line kept.
const SNIPPET_LINE_CHARS: usize = 160;

/// A committed index, opened for queries.
pub struct Index {
    dir: PathBuf,
    snapshot: Snapshot,
    graph: SymbolGraph,
    lexical: LexicalIndex,
    /// File ids by path; shared with the previous reader when the file list is the same.
    file_ids: Arc<HashMap<String, u32>>,
    symbols_by_name: crate::names::NameTable,
    /// Compound symbol names (two or more parts) with their lower-cased parts, computed on first use.
    compound_names: std::sync::OnceLock<CompoundNames>,
    /// Terms of each file's path and, per term, how many paths hold it; computed on first use.
    path_terms: std::sync::OnceLock<PathTerms>,
    /// File ids by their lexical file key, and the corpus figures of whole-file ranking; computed on first use.
    file_keys: std::sync::OnceLock<(HashMap<u64, u32>, sextant_lexical::FileCorpus)>,
    /// Files that change together (from git history), read on first use.
    cochange: std::sync::OnceLock<Option<crate::history::CoChange>>,
    /// The counts of this generation, computed on first use (they walk every file and edge).
    summary: std::sync::OnceLock<IndexSummary>,
    /// The walk of the tree this generation was last checked against: by the writer that opened this reader, or
    /// by a later run that found nothing changed (none for a reader opened from disk until such a run).
    walked: std::sync::Mutex<Option<Arc<crate::walk::WalkOutput>>>,
    /// The manifests the run that opened this reader linked against (for the next update's link); forgotten when a
    /// later run could not vouch that they are unchanged.
    manifests: std::sync::Mutex<Option<Arc<crate::build::ManifestSet>>>,
}

/// Compound symbol names with their lower-cased parts (sorted by name), and by first part.
struct CompoundNames {
    names: Vec<(String, Vec<String>)>,
    by_first_part: HashMap<String, Vec<usize>>,
}

/// The terms of every indexed path (directories, file name, and their identifier parts), as postings: for each
/// term, the files whose path holds it. Ranking a query touches only the files of its own terms, not every file.
pub struct PathTerms {
    /// Per term, the files whose path holds it (ascending ids).
    postings: HashMap<String, Vec<u32>>,
    file_count: usize,
}

impl PathTerms {
    /// The terms of `paths`, a file's id being its position.
    pub(crate) fn from_paths<'p>(paths: impl Iterator<Item = &'p str>) -> PathTerms {
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        let mut file_count = 0;
        for (id, path) in paths.enumerate() {
            file_count += 1;
            for_each_term(path, |t, _, _| {
                let files = postings.entry(t).or_default();
                // Files come in id order, so a repeated term of one path is the last entry.
                if files.last() != Some(&(id as u32)) {
                    files.push(id as u32);
                }
            });
        }
        PathTerms { postings, file_count }
    }

    /// Files whose path holds any of `terms`, scored by the summed rarity (ln of files over files holding the
    /// term) of the terms they share, best first (ties by file position).
    pub fn rank_files(&self, terms: &HashSet<String>) -> Vec<(u32, f32)> {
        let file_count = self.file_count.max(1) as f32;
        let mut scores: HashMap<u32, f32> = HashMap::new();
        // In a fixed order: a float sum's last bit depends on it, and equal queries must rank equally.
        let mut terms: Vec<&String> = terms.iter().collect();
        terms.sort_unstable();
        for term in terms {
            let Some(files) = self.postings.get(term) else { continue };
            let rarity = (file_count / files.len().max(1) as f32).ln();
            if rarity <= 0.0 {
                continue;
            }
            for &file in files {
                *scores.entry(file).or_insert(0.0) += rarity;
            }
        }
        let mut ranked: Vec<(u32, f32)> = scores.into_iter().filter(|(_, score)| *score > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

/// Search parameters.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Most hits returned.
    pub limit: usize,
    /// Only these languages (ids); empty for all.
    pub languages: Vec<String>,
    /// Only files under these repository-relative paths; empty for all.
    pub paths: Vec<String>,
    /// How much a word with the English stem of a query word counts (`parse` for `parsing`), as a share of the
    /// word itself; 0 matches words only as written.
    pub word_variants: f32,
    /// Hits of one file shown before every other file with a hit has had its turn (see [`diversify`]): a page
    /// filled by one file hides the other places a query matches. 0 keeps plain score order.
    pub chunks_per_file: usize,
}

/// [`SearchOptions::chunks_per_file`] of a search that does not set it: one hit per file first, since on the
/// development set that page holds the most of the files a change needs (see the README's *Search pages*).
pub const DEFAULT_CHUNKS_PER_FILE: usize = 1;

/// Hits fetched per hit asked for when a page is diversified, so files further down have hits to give.
const DIVERSITY_POOL_FACTOR: usize = 5;
/// Fewest hits fetched for a diversified page.
const MIN_DIVERSITY_POOL: usize = 50;

impl SearchOptions {
    /// How many hits to fetch for a page of [`SearchOptions::limit`]: more when the page is diversified.
    pub fn pool(&self) -> usize {
        if self.chunks_per_file == 0 {
            self.limit
        } else {
            self.limit.saturating_mul(DIVERSITY_POOL_FACTOR).max(MIN_DIVERSITY_POOL)
        }
    }
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 10,
            languages: Vec::new(),
            paths: Vec::new(),
            word_variants: 0.0,
            chunks_per_file: DEFAULT_CHUNKS_PER_FILE,
        }
    }
}

/// Reorders `hits` (best first) so that each file (`path_of`) shows at most `per_file` hits before the hits of
/// files with fewer; the deferred hits follow in their original order. Within each part the order is kept.
/// `per_file` 0 keeps the order as it is.
pub fn diversify<T>(hits: Vec<T>, per_file: usize, path_of: impl Fn(&T) -> &str) -> Vec<T> {
    if per_file == 0 {
        return hits;
    }
    let mut shown: HashMap<String, usize> = HashMap::new();
    let (mut first, mut deferred) = (Vec::with_capacity(hits.len()), Vec::new());
    for hit in hits {
        let count = shown.entry(path_of(&hit).to_string()).or_insert(0);
        *count += 1;
        if *count <= per_file {
            first.push(hit);
        } else {
            deferred.push(hit);
        }
    }
    first.append(&mut deferred);
    first
}

/// Identifies one commit of an index directory; see [`Index::commit_stamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStamp {
    generation: u64,
    started_at_ns: u64,
}

impl CommitStamp {
    /// The committed generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// A ranked chunk.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchHit {
    /// Repository-relative path.
    pub path: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// Language id.
    pub language: String,
    /// The enclosing symbol, or the first symbol defined in the chunk.
    pub symbol: String,
    /// BM25 score.
    pub score: f32,
    /// The best-matching lines.
    pub snippet: String,
    /// Estimated tokens of the whole chunk.
    pub tokens: u32,
    /// Signals that found it with their ranks, strongest contribution first (lexical search: BM25 alone).
    pub signals: Vec<SignalHit>,
}

/// A definition.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SymbolInfo {
    /// Repository-relative path.
    pub path: String,
    /// Simple name.
    pub name: String,
    /// Qualified name within its file.
    pub qualified_name: String,
    /// Kind (`function`, `class`, …).
    pub kind: String,
    /// Declaration header.
    pub signature: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Centrality (1 is average).
    pub rank: f32,
}

/// A place in the code: a symbol, or top-level code of a file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Location {
    /// Repository-relative path.
    pub path: String,
    /// Line of the call or mention.
    pub line: u32,
    /// Qualified name of the enclosing symbol, `None` for file-level code.
    pub symbol: Option<String>,
    /// Kind of the enclosing symbol.
    pub kind: Option<String>,
}

/// One edge of a callers/callees answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Relation {
    /// The symbol asked about.
    pub subject: SymbolInfo,
    /// The caller (for callers) or callee definition (for callees).
    pub other: Location,
    /// 1 for a certain link, less when the name was ambiguous.
    pub weight: f32,
}

/// A mention of a name.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReferenceInfo {
    /// Where.
    pub at: Location,
    /// `call`, `type` or `identifier`.
    pub kind: String,
    /// `foo` in `foo.bar()`.
    pub qualifier: Option<String>,
    /// Definitions it was resolved to (qualified names with paths).
    pub resolved_to: Vec<String>,
}

impl Index {
    /// Whether `dir` holds a committed index (cheap: only the header is read).
    pub fn exists(dir: &Path) -> bool {
        db::has_committed(dir)
    }

    /// A stamp of the commit currently in `dir` (one small read of the store's header): it changes whenever a
    /// writer commits a new generation, so a long-lived reader can notice another process's commit cheaply.
    pub fn commit_stamp(dir: &Path) -> Option<CommitStamp> {
        let (generation, started_at_ns) = db::committed_generation(dir).ok().flatten()?;
        Some(CommitStamp { generation, started_at_ns })
    }

    /// Opens the committed index in `dir` for queries.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sextant_config::Config;
    /// use sextant_index::{index_repository, Index, IndexOptions, NoProgress, SearchOptions};
    ///
    /// let repo = tempfile::tempdir()?;
    /// std::fs::write(repo.path().join("math.rs"), "/// Adds two numbers.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")?;
    /// let index_dir = tempfile::tempdir()?;
    /// let config = Config::defaults()?;
    /// let options = IndexOptions { root: repo.path(), index_dir: index_dir.path(), config: &config, force: false };
    /// index_repository(&options, &NoProgress)?;
    ///
    /// let index = Index::open(index_dir.path())?;
    /// let hits = index.search("add numbers", &SearchOptions::default())?;
    /// assert_eq!((hits[0].path.as_str(), hits[0].symbol.as_str()), ("math.rs", "add"));
    /// assert_eq!(index.find_symbols("add")[0].signature, "pub fn add(a: i32, b: i32) -> i32");
    /// # Ok(()) }
    /// ```
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        if !db::has_committed(dir) {
            return Err(IndexError::NotIndexed(dir.to_path_buf()));
        }
        let lexical = LexicalIndex::open_or_create(&dir.join(LEXICAL_DIR))?;
        // The snapshot and the lexical reader must be of one generation although a writer may commit at any time:
        // read the generation, load its snapshot, move the reader to the newest commit, and check that the
        // generation did not move meanwhile (then the reader holds exactly it).
        let mut attempts = 0;
        loop {
            let generation = lexical.committed_payload()?.and_then(|p| p.parse::<u64>().ok());
            let snapshot = db::load(dir, generation)?.ok_or_else(|| IndexError::NotIndexed(dir.to_path_buf()))?;
            lexical.reload()?;
            let after = lexical.committed_payload()?.and_then(|p| p.parse::<u64>().ok());
            attempts += 1;
            if after == generation || attempts == 5 {
                return Ok(Index::from_snapshot(dir, snapshot, lexical));
            }
        }
    }

    /// The reader over a snapshot the caller holds in memory (the writer's, just committed): nothing is read back.
    pub(crate) fn from_snapshot(dir: &Path, snapshot: Snapshot, lexical: LexicalIndex) -> Index {
        Self::from_snapshot_after(dir, snapshot, lexical, None)
    }

    /// [`Index::from_snapshot`] of a generation that follows `previous`'s: the lookup tables of the files that did
    /// not change are shared with it, not built again.
    pub(crate) fn from_snapshot_after(
        dir: &Path,
        mut snapshot: Snapshot,
        lexical: LexicalIndex,
        previous: Option<&Index>,
    ) -> Index {
        let graph = SymbolGraph::from_shared(std::mem::take(&mut snapshot.graph));
        let same_paths = |previous: &&Index| {
            previous.snapshot.files.len() == snapshot.files.len()
                && previous.snapshot.files.iter().zip(&snapshot.files).all(|(old, new)| old.path == new.path)
        };
        let file_ids = match previous.filter(same_paths) {
            Some(previous) => Arc::clone(&previous.file_ids),
            None => Arc::new(snapshot.files.iter().enumerate().map(|(i, f)| (f.path.clone(), i as u32)).collect()),
        };
        let symbols_by_name = match previous {
            Some(previous) => {
                crate::names::NameTable::update(&previous.symbols_by_name, &previous.snapshot.files, &snapshot.files)
            }
            None => crate::names::NameTable::build(&snapshot.files),
        };
        Index {
            dir: dir.to_path_buf(),
            snapshot,
            graph,
            lexical,
            file_ids,
            symbols_by_name,
            compound_names: std::sync::OnceLock::new(),
            path_terms: std::sync::OnceLock::new(),
            file_keys: std::sync::OnceLock::new(),
            cochange: std::sync::OnceLock::new(),
            summary: std::sync::OnceLock::new(),
            walked: std::sync::Mutex::new(None),
            manifests: std::sync::Mutex::new(None),
        }
    }

    pub(crate) fn with_walk(self, walked: Option<Arc<crate::walk::WalkOutput>>) -> Index {
        self.attach_walk(walked);
        self
    }

    /// Records the walk a run checked this (committed, unchanged) generation against, for the next update to
    /// refresh instead of walking again.
    pub(crate) fn attach_walk(&self, walked: Option<Arc<crate::walk::WalkOutput>>) {
        *self.walked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = walked;
    }

    pub(crate) fn walked(&self) -> Option<Arc<crate::walk::WalkOutput>> {
        self.walked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub(crate) fn with_manifests(self, manifests: Option<Arc<crate::build::ManifestSet>>) -> Index {
        *self.manifests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = manifests;
        self
    }

    pub(crate) fn manifests(&self) -> Option<Arc<crate::build::ManifestSet>> {
        self.manifests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Drops the kept manifests: one may have changed without a link reading it (the run saw no source change).
    pub(crate) fn forget_manifests(&self) {
        *self.manifests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// Computes the lazily built query structures (path-term postings, compound names, the graph's rank edges)
    /// now, so that the first pack after a commit is no slower than the tenth. Long-lived readers call it once
    /// after opening; a one-shot CLI query does not need to.
    pub fn warm(&self) {
        self.path_terms();
        self.compound_index();
        self.file_keys();
        self.co_change();
        self.graph.prepare_personalized_rank();
    }

    /// The repository root this index was built from.
    pub fn root(&self) -> &str {
        &self.snapshot.root
    }

    /// Counts and state of the index.
    pub fn status(&self) -> IndexSummary {
        // The snapshot's own graph field was moved into `self.graph`; pass that instead of cloning anything.
        self.summary
            .get_or_init(|| {
                summarize(&self.snapshot, self.graph.data(), Path::new(&self.snapshot.root), &self.dir, true)
            })
            .clone()
    }

    /// Unix seconds of the last commit.
    pub fn indexed_at(&self) -> u64 {
        self.snapshot.indexed_at
    }

    /// The file with id `id` (see [`IndexedFile::id`]), if there is one.
    pub fn file(&self, id: u32) -> Option<IndexedFile<'_>> {
        self.snapshot.files.get(id as usize).map(|record| IndexedFile::new(id, record))
    }

    /// The indexed file at `path` (repository-relative, `/` separators), if there is one.
    pub fn file_by_path(&self, path: &str) -> Option<IndexedFile<'_>> {
        self.file(self.file_id(path)?)
    }

    /// Every indexed file, sorted by path (so in ascending id order).
    pub fn indexed_files(&self) -> impl ExactSizeIterator<Item = IndexedFile<'_>> + '_ {
        self.snapshot.files.iter().enumerate().map(|(id, record)| IndexedFile::new(id as u32, record))
    }

    /// The number of indexed files; ids run from 0 to one less.
    pub fn file_count(&self) -> usize {
        self.snapshot.files.len()
    }

    /// The id of the indexed file at `path` (see [`IndexedFile::id`]), if there is one.
    pub fn file_id(&self, path: &str) -> Option<u32> {
        self.file_ids.get(path).copied()
    }

    /// Files ranked as whole documents by BM25 over their text and path (see
    /// [`LexicalIndex::search_files`]), best first, at most `limit`.
    pub fn search_files(&self, query: &str, limit: usize) -> Result<Vec<(u32, f32)>, IndexError> {
        self.search_files_with(query, FileBm25::default(), limit)
    }

    /// [`Index::search_files`] with other BM25 parameters.
    pub fn search_files_with(
        &self,
        query: &str,
        params: FileBm25,
        limit: usize,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let (ids, corpus) = self.file_keys();
        let ranked = self.lexical.search_files(query, *corpus, params, limit)?;
        Ok(ranked.into_iter().filter_map(|(key, score)| Some((*ids.get(&key)?, score))).collect())
    }

    /// The share of indexed chunks holding each of `terms` (lower-case indexed terms), in order.
    pub fn chunk_shares(&self, terms: &[String]) -> Result<Vec<f32>, IndexError> {
        Ok(self.lexical.chunk_shares(terms)?)
    }

    /// Files that changed together with others in git history (the last commits before the indexed HEAD), if the
    /// repository has history.
    pub fn co_change(&self) -> Option<&crate::history::CoChange> {
        self.cochange.get_or_init(|| store::load_cochange(&self.dir)).as_ref()
    }

    fn file_keys(&self) -> &(HashMap<u64, u32>, sextant_lexical::FileCorpus) {
        self.file_keys.get_or_init(|| {
            let mut ids = HashMap::with_capacity(self.snapshot.files.len());
            let mut tokens = 0u64;
            for (id, f) in self.snapshot.files.iter().enumerate() {
                ids.insert(sextant_lexical::file_key(&f.path), id as u32);
                tokens += f.facts.chunks.iter().map(|c| c.tokens as u64).sum::<u64>();
            }
            let files = self.snapshot.files.len();
            (ids, sextant_lexical::FileCorpus { files, mean_tokens: tokens as f32 / files.max(1) as f32 })
        })
    }

    /// The terms of every indexed path, for matching task words against file locations.
    pub fn path_terms(&self) -> &PathTerms {
        self.path_terms.get_or_init(|| PathTerms::from_paths(self.snapshot.files.iter().map(|f| f.path.as_str())))
    }

    /// The symbol names made of two or more parts (`check_token`, `parseConfig`) all of whose lower-cased parts
    /// are in `parts`, in name order. They are found through their first part, so a query touches only the names
    /// that start with a word it has.
    pub fn compound_names_within(&self, parts: &HashSet<String>) -> Vec<&str> {
        let compounds = self.compound_index();
        let mut found: Vec<usize> = parts
            .iter()
            .filter_map(|part| compounds.by_first_part.get(part))
            .flatten()
            .copied()
            .filter(|&i| compounds.names[i].1.iter().all(|p| parts.contains(p)))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|i| compounds.names[i].0.as_str()).collect()
    }

    fn compound_index(&self) -> &CompoundNames {
        self.compound_names.get_or_init(|| {
            let mut names: Vec<(String, Vec<String>)> = self
                .symbols_by_name
                .names()
                .into_iter()
                .filter_map(|name| {
                    let mut parts = Vec::new();
                    for_each_term(name, |part, _, _| {
                        if part.len() != name.len() {
                            parts.push(part);
                        }
                    });
                    (parts.len() >= 2).then(|| (name.to_string(), parts))
                })
                .collect();
            names.sort();
            let mut by_first_part: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, (_, parts)) in names.iter().enumerate() {
                by_first_part.entry(parts[0].clone()).or_default().push(i);
            }
            CompoundNames { names, by_first_part }
        })
    }

    /// Symbols whose simple name is exactly `name`, by ascending id.
    pub fn symbols_named(&self, name: &str) -> Vec<SymbolId> {
        self.symbols_by_name.get(name)
    }

    /// The generation of the committed state this index shows.
    pub fn generation(&self) -> u64 {
        self.snapshot.generation
    }

    /// Whether its ranks are exact, or carried over from the previous generation until
    /// [`crate::exact_ranks`] computes them.
    pub fn ranks_exact(&self) -> bool {
        self.snapshot.ranks_exact
    }

    /// The committed state this reader holds, for a writer starting from it (facts are shared, not copied).
    pub(crate) fn committed_snapshot(&self) -> Snapshot {
        Snapshot { graph: self.graph.shared_data(), ..self.snapshot.clone() }
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The symbol graph.
    pub fn graph(&self) -> &SymbolGraph {
        &self.graph
    }

    /// Ranked chunks for a free-text query.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<SearchHit>, IndexError> {
        self.search_with(query, options, true)
    }

    /// Like [`Index::search`] without snippets (empty), for callers that only rank.
    pub fn search_unsnipped(&self, query: &str, options: &SearchOptions) -> Result<Vec<SearchHit>, IndexError> {
        self.search_with(query, options, false)
    }

    fn search_with(&self, query: &str, options: &SearchOptions, snippets: bool) -> Result<Vec<SearchHit>, IndexError> {
        lexical_search(&self.lexical, query, options, snippets)
    }

    /// A symbol and its file.
    pub fn symbol(&self, id: SymbolId) -> Option<(IndexedFile<'_>, &Symbol)> {
        let file = self.file(id.file)?;
        Some((file, file.symbols().get(id.symbol as usize)?))
    }

    /// Describes a symbol.
    pub fn symbol_info(&self, id: SymbolId) -> Option<SymbolInfo> {
        let (file, s) = self.symbol(id)?;
        Some(symbol_info(file.path(), s, self.graph.symbol_rank(id)))
    }

    /// Symbols whose name, qualified name, or qualified-name suffix is `name` (`parse`, `Parser::parse`,
    /// `Parser.parse`), most central first.
    pub fn find_symbol_ids(&self, name: &str) -> Vec<SymbolId> {
        let wanted = WantedName::new(name);
        let mut ids: Vec<SymbolId> = self
            .symbols_named(&wanted.simple)
            .into_iter()
            .filter(|id| self.symbol(*id).is_some_and(|(_, symbol)| wanted.matches(&symbol.qualified_name)))
            .collect();
        ids.sort_by(|a, b| self.graph.symbol_rank(*b).total_cmp(&self.graph.symbol_rank(*a)).then_with(|| a.cmp(b)));
        ids
    }

    /// Definitions matching `name` (see [`Index::find_symbol_ids`]).
    pub fn find_symbols(&self, name: &str) -> Vec<SymbolInfo> {
        self.find_symbol_ids(name).into_iter().filter_map(|id| self.symbol_info(id)).collect()
    }

    fn location(&self, node: Node, name: &str, kind: RefKind) -> Option<Location> {
        let (file_index, enclosing) = match node {
            Node::Symbol(id) => (id.file, Some(id.symbol)),
            Node::File(f) => (f, None),
            Node::Module(_) => return None,
        };
        let file = self.file(file_index)?;
        Some(location_in(file.path(), file.symbols(), file.references(), enclosing, name, kind))
    }

    /// Who calls the symbols named `name`.
    pub fn callers(&self, name: &str) -> Vec<Relation> {
        let mut out = Vec::new();
        for id in self.find_symbol_ids(name) {
            let Some(subject) = self.symbol_info(id) else { continue };
            for (caller, weight) in self.graph.incoming(Node::Symbol(id), EdgeKind::Calls) {
                if let Some(other) = self.location(caller, &subject.name, RefKind::Call) {
                    out.push(Relation { subject: subject.clone(), other, weight });
                }
            }
        }
        sort_relations(&mut out);
        out
    }

    /// What the symbols named `name` call.
    pub fn callees(&self, name: &str) -> Vec<Relation> {
        let mut out = Vec::new();
        for id in self.find_symbol_ids(name) {
            let Some(subject) = self.symbol_info(id) else { continue };
            for (callee, weight) in self.graph.outgoing(Node::Symbol(id), EdgeKind::Calls) {
                let Node::Symbol(callee_id) = callee else { continue };
                let Some(info) = self.symbol_info(callee_id) else { continue };
                out.push(Relation {
                    subject: subject.clone(),
                    other: Location {
                        path: info.path,
                        line: info.start_line,
                        symbol: Some(info.qualified_name),
                        kind: Some(info.kind),
                    },
                    weight,
                });
            }
        }
        sort_relations(&mut out);
        out
    }

    /// Every mention of `name` (calls, type uses, identifiers), with what each resolved to. A qualified name
    /// (`Parser::parse`) keeps only mentions that resolved to a matching definition.
    pub fn references(&self, name: &str) -> Vec<ReferenceInfo> {
        let normalized = normalize_path(name);
        let simple = normalized.rsplit('.').next().unwrap_or(&normalized).to_string();
        let targets: HashSet<SymbolId> = self.find_symbol_ids(name).into_iter().collect();
        let mut out = Vec::new();
        for file in self.indexed_files() {
            for reference in file.references().iter().filter(|r| r.name == simple) {
                let source = match reference.enclosing {
                    Some(s) => Node::Symbol(SymbolId { file: file.id(), symbol: s }),
                    None => Node::File(file.id()),
                };
                let edge_kind = if reference.kind == RefKind::Call { EdgeKind::Calls } else { EdgeKind::References };
                let resolved: Vec<SymbolId> = self
                    .graph
                    .outgoing(source, edge_kind)
                    .into_iter()
                    .filter_map(|(n, _)| match n {
                        Node::Symbol(id) if self.symbol(id).is_some_and(|(_, s)| s.name == simple) => Some(id),
                        _ => None,
                    })
                    .collect();
                if normalized.contains('.') && !resolved.iter().any(|id| targets.contains(id)) {
                    continue;
                }
                let resolved_to = resolved
                    .iter()
                    .filter_map(|id| self.symbol(*id).map(|(file, s)| format!("{}:{}", file.path(), s.qualified_name)))
                    .collect();
                out.push(reference_info(file.path(), file.symbols(), reference, resolved_to));
            }
        }
        out
    }
}

/// Strongest first, then by place. The last keys only order ties, so that an answer read from the store lists
/// relations exactly as one from a loaded index.
pub(crate) fn sort_relations(relations: &mut [Relation]) {
    relations.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.other.path.cmp(&b.other.path))
            .then(a.other.line.cmp(&b.other.line))
            .then_with(|| a.other.symbol.cmp(&b.other.symbol))
            .then_with(|| a.subject.path.cmp(&b.subject.path))
            .then(a.subject.start_line.cmp(&b.subject.start_line))
            .then_with(|| a.subject.qualified_name.cmp(&b.subject.qualified_name))
    });
}

/// Where a relation's other end is: the line of its first `kind` mention of `name` inside `enclosing` (a symbol of
/// the file, or file-level code), else the enclosing symbol's first line.
pub(crate) fn location_in(
    path: &str,
    symbols: &[Symbol],
    references: &[Reference],
    enclosing: Option<u32>,
    name: &str,
    kind: RefKind,
) -> Location {
    let symbol = enclosing.and_then(|e| symbols.get(e as usize));
    let line = references
        .iter()
        .find(|r| r.name == name && r.kind == kind && r.enclosing == enclosing)
        .map(|r| r.line)
        .or_else(|| symbol.map(|s| s.span.start_line))
        .unwrap_or(1);
    Location {
        path: path.to_string(),
        line,
        symbol: symbol.map(|s| s.qualified_name.clone()),
        kind: symbol.map(|s| s.kind.as_str().to_string()),
    }
}

/// A mention as [`Index::references`] reports it.
pub(crate) fn reference_info(
    path: &str,
    symbols: &[Symbol],
    reference: &Reference,
    resolved_to: Vec<String>,
) -> ReferenceInfo {
    let symbol = reference.enclosing.and_then(|e| symbols.get(e as usize));
    ReferenceInfo {
        at: Location {
            path: path.to_string(),
            line: reference.line,
            symbol: symbol.map(|s| s.qualified_name.clone()),
            kind: symbol.map(|s| s.kind.as_str().to_string()),
        },
        kind: reference.kind.as_str().to_string(),
        qualifier: reference.qualifier.clone(),
        resolved_to,
    }
}

/// `a::b`, `a\b` and `a.b` compare equal.
pub(crate) fn normalize_path(name: &str) -> String {
    name.trim().replace("::", ".").replace('\\', ".")
}

pub(crate) fn symbol_info(path: &str, s: &Symbol, rank: f32) -> SymbolInfo {
    SymbolInfo {
        path: path.to_string(),
        name: s.name.clone(),
        qualified_name: s.qualified_name.clone(),
        kind: s.kind.as_str().to_string(),
        signature: s.signature.clone(),
        doc: s.doc.clone(),
        start_line: s.span.start_line,
        end_line: s.span.end_line,
        rank,
    }
}

/// A name as lookups take it: `parse`, `Parser::parse` or `Parser.parse`.
pub(crate) struct WantedName {
    /// Normalised (`::` and `\\` as `.`).
    pub(crate) full: String,
    /// The last segment, which definitions are indexed by.
    pub(crate) simple: String,
}

impl WantedName {
    pub(crate) fn new(name: &str) -> WantedName {
        let full = normalize_path(name);
        let simple = full.rsplit('.').next().unwrap_or(&full).to_string();
        WantedName { full, simple }
    }

    /// Whether an owner is named (`Parser.parse`), so only some definitions of the simple name are meant.
    pub(crate) fn is_qualified(&self) -> bool {
        self.full.contains('.')
    }

    /// Whether a definition with this qualified name is meant: any, for a simple name; else the same qualified
    /// name or one ending in it.
    pub(crate) fn matches(&self, qualified_name: &str) -> bool {
        if !self.is_qualified() {
            return true;
        }
        let full = normalize_path(qualified_name);
        full == self.full || full.ends_with(&format!(".{}", self.full))
    }
}

/// A snippet line as search results show it: trailing space dropped, cut with `…` past the longest line kept.
pub fn clip_snippet_line(line: &str) -> String {
    let line = line.trim_end();
    match line.char_indices().nth(SNIPPET_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The run of lines with the most query terms.
fn snippet(text: &str, terms: &HashSet<String>) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let line_score = |line: &str| {
        let mut score = 0;
        for_each_term(line, |t, _, _| score += terms.contains(&t) as usize);
        score
    };
    let scores: Vec<usize> = lines.iter().map(|l| line_score(l)).collect();
    let window = SNIPPET_LINES.min(lines.len());
    let best = (0..=lines.len() - window)
        .max_by_key(|&i| (scores[i..i + window].iter().sum::<usize>(), usize::MAX - i))
        .unwrap_or(0);
    lines[best..best + window].iter().map(|l| clip_snippet_line(l)).collect::<Vec<_>>().join("\n")
}

/// BM25 over the chunks of a lexical index, as [`SearchHit`]s (with snippets when asked).
pub(crate) fn lexical_search(
    lexical: &LexicalIndex,
    query: &str,
    options: &SearchOptions,
    snippets: bool,
) -> Result<Vec<SearchHit>, IndexError> {
    let paths = PathFilter::new(&options.paths);
    if !paths.is_unrestricted() && paths.prefixes().is_empty() {
        return Ok(Vec::new());
    }
    let filter = SearchFilter {
        languages: options.languages.clone(),
        paths: paths.prefixes().to_vec(),
        variants: options.word_variants,
    };
    // BM25 ranks are taken before the page is diversified: they are the signal's own.
    let ranked: Vec<(u32, LexicalHit)> =
        lexical.search(query, &filter, options.pool())?.into_iter().zip(1..).map(|(hit, rank)| (rank, hit)).collect();
    let mut ranked = diversify(ranked, options.chunks_per_file, |(_, hit)| hit.path.as_str());
    ranked.truncate(options.limit);
    let mut terms = HashSet::new();
    if snippets {
        for_each_term(query, |t, _, _| {
            terms.insert(t);
        });
    }
    Ok(ranked
        .into_iter()
        .map(|(rank, hit)| {
            let symbol = hit.symbols.split_whitespace().next().unwrap_or("").to_string();
            let snippet = if snippets { snippet(&hit.text, &terms) } else { String::new() };
            SearchHit {
                path: hit.path,
                start_line: hit.start_line,
                end_line: hit.end_line,
                language: hit.language,
                symbol,
                score: hit.score,
                snippet,
                tokens: hit.tokens,
                signals: vec![SignalHit { signal: Signal::Lexical, rank, score: hit.score }],
            }
        })
        .collect())
}

/// BM25 search over a committed index without loading its snapshot: a one-shot process that only wants keyword
/// search opens the lexical index alone (memory-mapped), so it answers in milliseconds at any repository size.
pub struct LexicalSearcher {
    lexical: LexicalIndex,
    root: String,
    generation: u64,
}

impl LexicalSearcher {
    /// Opens the lexical index of `dir` when its generation is vouched for by the small stat cache (which also
    /// names the repository it was built from); `None` when it is not (an index written before the cache
    /// existed, or one whose cache is stale), and the caller opens the whole [`Index`] instead.
    pub fn open(dir: &Path) -> Result<Option<LexicalSearcher>, IndexError> {
        if !db::has_committed(dir) || !dir.join(LEXICAL_DIR).is_dir() {
            return Err(IndexError::NotIndexed(dir.to_path_buf()));
        }
        let Some(cache) = store::load_stat_cache(dir) else { return Ok(None) };
        let lexical = LexicalIndex::open_or_create(&dir.join(LEXICAL_DIR))?;
        let generation = lexical.committed_payload()?.and_then(|p| p.parse::<u64>().ok());
        if generation != Some(cache.generation) {
            return Ok(None);
        }
        Ok(Some(LexicalSearcher { lexical, root: cache.root, generation: cache.generation }))
    }

    /// The repository root the index was built from.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The committed generation searched.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What [`Index::search`] answers for the same generation.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<SearchHit>, IndexError> {
        lexical_search(&self.lexical, query, options, true)
    }
}
