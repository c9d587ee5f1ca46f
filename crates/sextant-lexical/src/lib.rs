//! The lexical index: one tantivy document per chunk, analysed with a code-aware tokenizer, ranked with BM25
//! over the chunk text, its symbol names (boosted) and its path (boosted).
//!
//! Whole files are ranked too ([`LexicalIndex::search_files`]): BM25 with each file as one document, computed
//! from the chunks' postings, so no second copy of the text is indexed.
//!
//! Writers delete and re-add whole files, so an index update touches only the files that changed. Each commit
//! carries a payload (the indexer's generation number) so the caller can tell which state it holds.

mod tokenizer;

pub use tokenizer::{for_each_term, CodeTokenizer};

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::postings::Postings;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, TERMINATED};

/// Name under which the code tokenizer is registered.
pub const CODE_TOKENIZER: &str = "sextant_code";

/// Boost of a match in the chunk's symbol names over a match in its text.
const SYMBOL_BOOST: f32 = 3.0;
/// Boost of a match in the chunk's path over a match in its text.
const PATH_BOOST: f32 = 2.0;
/// Most distinct terms taken from one query (the rest are ignored).
const MAX_QUERY_TERMS: usize = 64;
/// Whole-file ranking skips terms found in more than this share of all chunks: they cannot tell files apart, and
/// reading their postings would cost the most.
const FILE_COMMON_TERM_SHARE: f32 = 0.25;
/// Shortest query word whose variants are looked up, and shortest stem: shorter ones (`go`, `ids`) conflate
/// unrelated words.
const MIN_VARIANT_WORD: usize = 4;
const MIN_VARIANT_STEM: usize = 3;
/// Indexed words read per segment after a stem's prefix: enough for every form of a word, bounded for a short
/// prefix that many identifiers share.
const MAX_VARIANT_SCAN: usize = 256;
/// Letters an English suffix adds to a stem at most (`configur` + `ations`); longer words are other words.
const MAX_SUFFIX_LETTERS: usize = 6;
/// Words whose variants are kept between searches (the task, its title and its parts ask for the same words);
/// the cache is emptied when full and whenever the index reloads.
const MAX_CACHED_VARIANT_WORDS: usize = 10_000;
/// Share of a segment's chunks that may be deleted before its level of segments is merged. A deleted chunk still
/// counts in BM25's statistics (document frequencies, field lengths) until its segment is merged away, and
/// tantivy's default never merges for deletes: after twelve commits of a small repository 61% of its chunks were
/// deleted ones, which skewed every score and made rankings depend on merge timing. Small indexes (under 10,000
/// chunks a level) merge back to their live chunks at once; a large segment is rewritten after a tenth of it
/// changed.
const DELETED_SHARE_BEFORE_MERGE: f32 = 0.1;

/// Errors of the lexical index.
#[derive(Debug, thiserror::Error)]
pub enum LexicalError {
    /// tantivy failed (I/O, corruption, lock held by another writer).
    #[error("lexical index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The directory holds an index with another schema (an older Sextant).
    #[error("lexical index at {0} has an incompatible schema; run `sextant reindex`")]
    Schema(String),
}

type Result<T> = std::result::Result<T, LexicalError>;

#[derive(Clone, Copy)]
struct Fields {
    path: Field,
    path_exact: Field,
    dirs: Field,
    language: Field,
    symbols: Field,
    body: Field,
    start_line: Field,
    end_line: Field,
    tokens: Field,
    file_key: Field,
    file_tokens: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let code = |stored: bool, record: IndexRecordOption| {
        let options = TextOptions::default()
            .set_indexing_options(TextFieldIndexing::default().set_tokenizer(CODE_TOKENIZER).set_index_option(record));
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        path: builder.add_text_field("path", code(true, IndexRecordOption::WithFreqs)),
        path_exact: builder.add_text_field("path_exact", STRING),
        dirs: builder.add_text_field("dirs", STRING),
        language: builder.add_text_field("language", STRING | STORED),
        symbols: builder.add_text_field("symbols", code(true, IndexRecordOption::WithFreqs)),
        body: builder.add_text_field("body", code(true, IndexRecordOption::WithFreqs)),
        start_line: builder.add_u64_field("start_line", STORED),
        end_line: builder.add_u64_field("end_line", STORED | INDEXED),
        tokens: builder.add_u64_field("tokens", STORED),
        file_key: builder.add_u64_field("file_key", FAST),
        file_tokens: builder.add_u64_field("file_tokens", FAST),
    };
    (builder.build(), fields)
}

/// A chunk to index.
pub struct ChunkDocument<'a> {
    /// Repository-relative path.
    pub path: &'a str,
    /// Language id.
    pub language: &'a str,
    /// Enclosing symbol path and the symbols defined in the chunk, space separated.
    pub symbols: &'a str,
    /// The chunk's text.
    pub text: &'a str,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (1-based, inclusive).
    pub end_line: u32,
    /// Estimated tokens.
    pub tokens: u32,
    /// Estimated tokens of the whole file (the sum over its chunks): its length in whole-file ranking.
    pub file_tokens: u32,
}

/// The key under which whole-file ranking reports a path ([`LexicalIndex::search_files`]).
pub fn file_key(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// Corpus figures that whole-file ranking needs and chunk postings do not hold.
#[derive(Debug, Clone, Copy)]
pub struct FileCorpus {
    /// Files indexed.
    pub files: usize,
    /// Mean estimated tokens per file.
    pub mean_tokens: f32,
}

/// BM25 parameters of whole-file ranking ([`LexicalIndex::search_files`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileBm25 {
    /// Term-frequency saturation.
    pub k1: f32,
    /// Length normalisation: 0 ignores a file's length, 1 divides by it fully.
    pub b: f32,
    /// A path term counts this many times a body term (a file's name says what it is about).
    pub path_weight: f32,
    /// A term in the name of a definition the file holds counts this many times a body term, once per file (what a
    /// file defines says what it is about, where its body may only mention the word); 0 leaves names to the body.
    pub symbol_weight: f32,
    /// How much an indexed word of the same English stem as a query word counts, as a share of the word itself
    /// (`parsing` in a task finds `parse`, `parses` and `parsed`); 0 matches words only as written.
    pub variants: f32,
}

impl Default for FileBm25 {
    fn default() -> Self {
        FileBm25 { k1: 1.2, b: 0.75, path_weight: 3.0, symbol_weight: 0.0, variants: 0.0 }
    }
}

/// Restrictions on a search, and how loosely its words match.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Only these languages (ids); empty means all.
    pub languages: Vec<String>,
    /// Only paths equal to or under one of these (repository-relative, no trailing slash); empty means all.
    pub paths: Vec<String>,
    /// How much an indexed word with the English stem of a query word counts, as a share of the word itself
    /// (see [`FileBm25::variants`]); 0 matches words only as written.
    pub variants: f32,
}

/// A ranked chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    /// BM25 score (with field boosts).
    pub score: f32,
    /// Repository-relative path.
    pub path: String,
    /// Language id.
    pub language: String,
    /// Enclosing symbol path and defined symbols.
    pub symbols: String,
    /// The chunk's text.
    pub text: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (1-based, inclusive).
    pub end_line: u32,
    /// Estimated tokens.
    pub tokens: u32,
}

/// The on-disk lexical index.
pub struct LexicalIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Each looked-up word's variants in the searcher's current state (see [`LexicalIndex::word_variants`]).
    variant_cache: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

impl LexicalIndex {
    /// Opens the index in `dir`, creating an empty one if the directory holds none.
    pub fn open_or_create(dir: &Path) -> Result<LexicalIndex> {
        std::fs::create_dir_all(dir).map_err(|e| {
            tantivy::TantivyError::from(tantivy::directory::error::OpenDirectoryError::IoError {
                io_error: e.into(),
                directory_path: dir.to_path_buf(),
            })
        })?;
        let (schema, fields) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?;
        let index = Index::open_or_create(mmap, schema).map_err(|e| match e {
            tantivy::TantivyError::SchemaError(_) => LexicalError::Schema(dir.display().to_string()),
            other => LexicalError::Tantivy(other),
        })?;
        index.tokenizers().register(CODE_TOKENIZER, TextAnalyzer::from(CodeTokenizer::default()));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(LexicalIndex { index, reader, fields, variant_cache: Default::default() })
    }

    /// The payload of the last commit (the indexer's generation), if any.
    pub fn committed_payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    /// Starts a writer. Only one may exist per index (others get a lock error).
    pub fn writer(&self) -> Result<LexicalWriter> {
        let writer: IndexWriter = self.index.writer_with_num_threads(2, 96 * 1024 * 1024)?;
        let mut merges = tantivy::indexer::LogMergePolicy::default();
        merges.set_del_docs_ratio_before_merge(DELETED_SHARE_BEFORE_MERGE);
        writer.set_merge_policy(Box::new(merges));
        // A writer killed during a commit leaves files no commit refers to (a segment's `.del` file); the next
        // commit would collide with them. Remove them before writing anything.
        writer.garbage_collect_files().wait()?;
        Ok(LexicalWriter { writer, fields: self.fields })
    }

    /// Sees the latest commit.
    pub fn reload(&self) -> Result<()> {
        self.reader.reload()?;
        if let Ok(mut cache) = self.variant_cache.lock() {
            cache.clear();
        }
        Ok(())
    }

    /// Number of indexed chunks.
    pub fn num_chunks(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// BM25 search. Terms come from the same analyzer as the documents; any term may match (OR), and chunks
    /// matching more and rarer terms, in symbol names or paths, rank higher.
    pub fn search(&self, query: &str, filter: &SearchFilter, limit: usize) -> Result<Vec<LexicalHit>> {
        let mut terms: Vec<String> = Vec::new();
        for_each_term(query, |t, _, _| {
            if !terms.contains(&t) && terms.len() < MAX_QUERY_TERMS {
                terms.push(t);
            }
        });
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut words: Vec<(String, f32)> = terms.iter().map(|t| (t.clone(), 1.0)).collect();
        let variant_weight = filter.variants.clamp(0.0, 1.0);
        if variant_weight > 0.0 {
            let variants = self.query_variants(&searcher, terms.iter().enumerate(), &terms)?;
            words.extend(variants.into_iter().map(|(_, variant)| (variant, variant_weight)));
        }
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (word, weight) in &words {
            for (field, boost) in [(f.body, 1.0), (f.symbols, SYMBOL_BOOST), (f.path, PATH_BOOST)] {
                let query = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
                should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost * weight))));
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .iter()
                    .map(|v| {
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic));
                        (Occur::Should, q)
                    })
                    .collect(),
            ))
        };
        if !filter.languages.is_empty() {
            clauses.push((Occur::Must, any_of(f.language, &filter.languages)));
        }
        if !filter.paths.is_empty() {
            let prefixes: Vec<String> = filter.paths.iter().map(|p| p.trim_matches('/').to_string()).collect();
            let by_dir = any_of(f.dirs, &prefixes);
            let by_file = any_of(f.path_exact, &prefixes);
            clauses.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![(Occur::Should, by_dir), (Occur::Should, by_file)])),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(limit))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let number = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            hits.push(LexicalHit {
                score,
                path: text(f.path),
                language: text(f.language),
                symbols: text(f.symbols),
                text: text(f.body),
                start_line: number(f.start_line),
                end_line: number(f.end_line),
                tokens: number(f.tokens),
            });
        }
        // Equal scores: order by place so results are deterministic.
        hits.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| a.path.cmp(&b.path)).then(a.start_line.cmp(&b.start_line))
        });
        Ok(hits)
    }

    /// The share of indexed chunks whose text holds each of `terms` (indexed terms, as [`for_each_term`] gives
    /// them), in order: how common each term is in the repository.
    pub fn chunk_shares(&self, terms: &[String]) -> Result<Vec<f32>> {
        let searcher = self.reader.searcher();
        let chunks = searcher.num_docs().max(1) as f32;
        terms
            .iter()
            .map(|text| Ok(searcher.doc_freq(&Term::from_field_text(self.fields.body, text))? as f32 / chunks))
            .collect()
    }

    /// The files ([`file_key`]s) whose chunk text holds every one of `terms` (indexed terms, as [`for_each_term`]
    /// gives them; each may occur in any chunk of the file). A lookup by name narrows the files it reads with
    /// this: a file that mentions an identifier holds its terms.
    pub fn files_with_terms(&self, terms: &[String]) -> Result<HashSet<u64>> {
        let searcher = self.reader.searcher();
        let mut found: Option<HashSet<u64>> = None;
        for text in terms {
            let term = Term::from_field_text(self.fields.body, text);
            let mut with_term = HashSet::new();
            for segment in searcher.segment_readers() {
                let keys = segment.fast_fields().u64("file_key")?;
                let inverted = segment.inverted_index(self.fields.body)?;
                for_each_live_posting(segment, &inverted, &term, IndexRecordOption::Basic, |doc, _| {
                    if let Some(key) = keys.first(doc) {
                        if found.as_ref().is_none_or(|f| f.contains(&key)) {
                            with_term.insert(key);
                        }
                    }
                })?;
            }
            found = Some(with_term);
        }
        Ok(found.unwrap_or_default())
    }

    /// The estimated tokens of all indexed files together (each file's length once, however many chunks it
    /// has): with the file count, the mean length whole-file BM25 normalises by.
    pub fn total_file_tokens(&self) -> Result<u64> {
        let searcher = self.reader.searcher();
        let mut lengths: HashMap<u64, u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            let keys = segment.fast_fields().u64("file_key")?;
            let tokens = segment.fast_fields().u64("file_tokens")?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                if let Some(key) = keys.first(doc) {
                    lengths.insert(key, tokens.first(doc).unwrap_or(0));
                }
            }
        }
        Ok(lengths.values().sum())
    }

    /// Whole-file BM25: each file scored as one document holding all its chunks' text, with its path terms
    /// counting `params.path_weight` times, best `limit` first as ([`file_key`], score). It is computed from the
    /// chunk postings (term frequencies summed per file), so files that match a task throughout rank by their
    /// length-normalised evidence, which summing chunk scores would distort towards long files.
    pub fn search_files(
        &self,
        query: &str,
        corpus: FileCorpus,
        params: FileBm25,
        limit: usize,
    ) -> Result<Vec<(u64, f32)>> {
        let mut terms: Vec<String> = Vec::new();
        for_each_term(query, |t, _, _| {
            if !terms.contains(&t) && terms.len() < MAX_QUERY_TERMS {
                terms.push(t);
            }
        });
        if terms.is_empty() || limit == 0 || corpus.files == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let searcher = self.reader.searcher();
        let chunk_count = searcher.num_docs().max(1) as f32;
        // Each searched word with the query term it counts for and how much: the term itself, then its variants.
        let mut query_terms: Vec<(usize, Term, Term, f32)> = Vec::with_capacity(terms.len());
        let common = |text: &str| -> Result<bool> {
            Ok(searcher.doc_freq(&Term::from_field_text(f.body, text))? as f32 > FILE_COMMON_TERM_SHARE * chunk_count)
        };
        let mut searched: Vec<(usize, &String)> = Vec::with_capacity(terms.len());
        for (term_index, text) in terms.iter().enumerate() {
            if !common(text)? {
                searched.push((term_index, text));
                query_terms.push((
                    term_index,
                    Term::from_field_text(f.body, text),
                    Term::from_field_text(f.path, text),
                    1.0,
                ));
            }
        }
        let variant_weight = params.variants.clamp(0.0, 1.0);
        if variant_weight > 0.0 {
            for (term_index, variant) in self.query_variants(&searcher, searched, &terms)? {
                if !common(&variant)? {
                    let (body, path) =
                        (Term::from_field_text(f.body, &variant), Term::from_field_text(f.path, &variant));
                    query_terms.push((term_index, body, path, variant_weight));
                }
            }
        }
        let symbol_weight = params.symbol_weight.max(0.0);
        let mut tally = FileTally::new(terms.len());
        for segment in searcher.segment_readers() {
            let keys = segment.fast_fields().u64("file_key")?;
            let lengths = segment.fast_fields().u64("file_tokens")?;
            let (body_index, path_index) = (segment.inverted_index(f.body)?, segment.inverted_index(f.path)?);
            let symbol_index = if symbol_weight > 0.0 { Some(segment.inverted_index(f.symbols)?) } else { None };
            for (term_index, body_term, path_term, weight) in &query_terms {
                let (term_index, weight) = (*term_index, *weight);
                let symbol_term = Term::from_field_text(f.symbols, body_term.value().as_str().unwrap_or_default());
                let fields =
                    [(FileField::Body, body_term), (FileField::Path, path_term), (FileField::Symbols, &symbol_term)];
                for (field, term) in fields {
                    let inverted = match field {
                        FileField::Body => &body_index,
                        FileField::Path => &path_index,
                        FileField::Symbols => match &symbol_index {
                            Some(index) => index,
                            None => continue,
                        },
                    };
                    // A file's chunks are neighbours in a segment, so consecutive postings mostly share a file.
                    let mut last: Option<(u64, usize)> = None;
                    for_each_live_posting(segment, inverted, term, IndexRecordOption::WithFreqs, |doc, tf| {
                        let Some(key) = keys.first(doc) else { return };
                        let slot = match last {
                            Some((last_key, slot)) if last_key == key => slot,
                            _ => tally.slot(key, || lengths.first(doc).unwrap_or(0)),
                        };
                        last = Some((key, slot));
                        tally.add(slot, field, term_index, weight * tf as f32, weight);
                    })?;
                }
            }
        }
        let n = corpus.files as f32;
        let idf: Vec<f32> =
            tally.file_frequencies().iter().map(|&df| (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln()).collect();
        let mean = corpus.mean_tokens.max(1.0);
        let (k1, b) = (params.k1.max(0.0), params.b.clamp(0.0, 1.0));
        let path_weight = params.path_weight.max(0.0);
        let mut scored: Vec<(u64, f32)> = (0..tally.keys.len())
            .map(|slot| {
                let norm = k1 * (1.0 - b + b * tally.tokens[slot] as f32 / mean);
                let (body, path, symbols) = tally.counts(slot);
                let score = (0..terms.len())
                    .map(|t| {
                        let tf = body[t] + path_weight * path[t] + symbol_weight * symbols[t];
                        if tf == 0.0 {
                            0.0
                        } else {
                            idf[t] * tf * (k1 + 1.0) / (tf + norm)
                        }
                    })
                    .sum();
                (tally.keys[slot], score)
            })
            .collect();
        // Thousands of files match a common word on a large repository; only the best `limit` are sorted.
        let best_first = |a: &(u64, f32), b: &(u64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, best_first);
            scored.truncate(limit);
        }
        scored.sort_by(best_first);
        Ok(scored)
    }

    /// The variants of the query words in `expanded` (each with its place among `terms`), each once, with the
    /// place of the first word that has it: two forms in the query (`handled`, `handling`) share their variants.
    fn query_variants<'t>(
        &self,
        searcher: &tantivy::Searcher,
        expanded: impl IntoIterator<Item = (usize, &'t String)>,
        terms: &[String],
    ) -> Result<Vec<(usize, String)>> {
        let mut found: Vec<(usize, String)> = Vec::new();
        for (term_index, word) in expanded {
            for variant in self.word_variants(searcher, word, terms)? {
                if !found.iter().any(|(_, v)| *v == variant) {
                    found.push((term_index, variant));
                }
            }
        }
        Ok(found)
    }

    /// Indexed words with the English stem of `word` (Snowball), other than `word` and the query's own `terms`:
    /// the forms a task's prose and the code's identifiers write differently (`parsing` and `parse`, `handlers`
    /// and `handler`, `queries` and `query`). Short words, numbers and mixed tokens get none.
    fn word_variants(&self, searcher: &tantivy::Searcher, word: &str, terms: &[String]) -> Result<Vec<String>> {
        if word.len() < MIN_VARIANT_WORD || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return Ok(Vec::new());
        }
        let cached = self.variant_cache.lock().ok().and_then(|cache| cache.get(word).cloned());
        let variants = match cached {
            Some(variants) => variants,
            None => {
                let variants = self.scan_variants(searcher, word)?;
                if let Ok(mut cache) = self.variant_cache.lock() {
                    if cache.len() >= MAX_CACHED_VARIANT_WORDS {
                        cache.clear();
                    }
                    cache.insert(word.to_string(), variants.clone());
                }
                variants
            }
        };
        Ok(variants.into_iter().filter(|v| !terms.contains(v)).collect())
    }

    /// [`LexicalIndex::word_variants`] read from the term dictionaries: the words after the stem's prefix, up to
    /// [`MAX_VARIANT_SCAN`] per segment, that are a few letters longer at most and have the same stem.
    fn scan_variants(&self, searcher: &tantivy::Searcher, word: &str) -> Result<Vec<String>> {
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let stem = stemmer.stem(word);
        if stem.len() < MIN_VARIANT_STEM {
            return Ok(Vec::new());
        }
        // A stem ending in `i` stands for a word ending in `y` (`queri` for `query`): scan from one letter less.
        let prefix = stem.strip_suffix('i').unwrap_or(&stem);
        let longest = stem.len() + MAX_SUFFIX_LETTERS;
        let mut checked: HashSet<String> = HashSet::new();
        let mut variants: Vec<String> = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.body)?;
            let mut stream =
                inverted.terms().range().ge(prefix.as_bytes()).into_stream().map_err(tantivy::TantivyError::from)?;
            let mut scanned = 0;
            while scanned < MAX_VARIANT_SCAN && stream.advance() {
                scanned += 1;
                let Ok(candidate) = std::str::from_utf8(stream.key()) else { continue };
                if !candidate.starts_with(prefix) {
                    break;
                }
                if candidate.len() > longest
                    || candidate == word
                    || !candidate.bytes().all(|b| b.is_ascii_lowercase())
                    || !checked.insert(candidate.to_string())
                {
                    continue;
                }
                if stemmer.stem(candidate) == stem {
                    variants.push(candidate.to_string());
                }
            }
        }
        Ok(variants)
    }
}

/// Calls `visit(doc, term frequency)` for every live chunk of `segment` whose postings in `inverted` hold `term`
/// (the frequency is 0 unless `option` records it).
fn for_each_live_posting(
    segment: &tantivy::SegmentReader,
    inverted: &tantivy::InvertedIndexReader,
    term: &Term,
    option: IndexRecordOption,
    mut visit: impl FnMut(tantivy::DocId, u32),
) -> Result<()> {
    let Some(mut postings) = inverted.read_postings(term, option).map_err(tantivy::TantivyError::from)? else {
        return Ok(());
    };
    let alive = segment.alive_bitset();
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            let frequency = if option == IndexRecordOption::Basic { 0 } else { postings.term_freq() };
            visit(doc, frequency);
        }
        doc = postings.advance();
    }
    Ok(())
}

/// The field of a chunk a whole-file BM25 posting came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileField {
    Body,
    Path,
    Symbols,
}

/// Whole-file BM25's per-file sums, kept flat: one slot per file a query word reaches, holding its length and,
/// per query term, its weighted body, path and symbol frequencies side by side in one vector (three vectors per
/// file cost most of a search's time in allocation on a large repository).
struct FileTally {
    terms: usize,
    slots: HashMap<u64, usize, foldhash::fast::RandomState>,
    keys: Vec<u64>,
    tokens: Vec<u64>,
    /// `3 * terms` frequencies per slot: body, then path, then symbols.
    counts: Vec<f32>,
}

impl FileTally {
    fn new(terms: usize) -> FileTally {
        FileTally { terms, slots: HashMap::default(), keys: Vec::new(), tokens: Vec::new(), counts: Vec::new() }
    }

    /// The slot of the file `key`, made with the length `tokens` gives when the file is new.
    fn slot(&mut self, key: u64, tokens: impl FnOnce() -> u64) -> usize {
        *self.slots.entry(key).or_insert_with(|| {
            self.keys.push(key);
            self.tokens.push(tokens());
            self.counts.resize(self.counts.len() + 3 * self.terms, 0.0);
            self.keys.len() - 1
        })
    }

    /// Counts a posting of `term` in `field` with weighted frequency `tf`. Every chunk repeats the file's path,
    /// and chunks inside a definition repeat its name (at most `weight`): those count once per file.
    fn add(&mut self, slot: usize, field: FileField, term: usize, tf: f32, weight: f32) {
        let base = slot * 3 * self.terms + term;
        match field {
            FileField::Body => self.counts[base] += tf,
            FileField::Path => {
                let count = &mut self.counts[base + self.terms];
                *count = count.max(tf);
            }
            FileField::Symbols => {
                let count = &mut self.counts[base + 2 * self.terms];
                *count = count.max(tf.min(weight));
            }
        }
    }

    /// A slot's body, path and symbol frequencies, one per query term.
    fn counts(&self, slot: usize) -> (&[f32], &[f32], &[f32]) {
        let all = &self.counts[slot * 3 * self.terms..(slot + 1) * 3 * self.terms];
        let (body, rest) = all.split_at(self.terms);
        let (path, symbols) = rest.split_at(self.terms);
        (body, path, symbols)
    }

    /// For each query term, how many files hold it in their text or path.
    fn file_frequencies(&self) -> Vec<u32> {
        let mut frequencies = vec![0u32; self.terms];
        for slot in 0..self.keys.len() {
            let (body, path, _) = self.counts(slot);
            for (t, df) in frequencies.iter_mut().enumerate() {
                if body[t] + path[t] > 0.0 {
                    *df += 1;
                }
            }
        }
        frequencies
    }
}

/// Adds and removes chunks; nothing is visible until [`LexicalWriter::commit`]. Adding and deleting take `&self`
/// so indexing threads can feed one writer; operations on one path must come from one thread, in order.
pub struct LexicalWriter {
    writer: IndexWriter,
    fields: Fields,
}

impl LexicalWriter {
    /// Removes every chunk of `path`.
    pub fn delete_path(&self, path: &str) {
        self.writer.delete_term(Term::from_field_text(self.fields.path_exact, path));
    }

    /// Removes everything.
    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Adds one chunk.
    pub fn add_chunk(&self, chunk: &ChunkDocument<'_>) -> Result<()> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.path, chunk.path);
        doc.add_text(f.path_exact, chunk.path);
        let mut dir = chunk.path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            doc.add_text(f.dirs, parent);
            dir = parent;
        }
        doc.add_text(f.language, chunk.language);
        doc.add_text(f.symbols, chunk.symbols);
        doc.add_text(f.body, chunk.text);
        doc.add_u64(f.start_line, chunk.start_line as u64);
        doc.add_u64(f.end_line, chunk.end_line as u64);
        doc.add_u64(f.tokens, chunk.tokens as u64);
        doc.add_u64(f.file_key, file_key(chunk.path));
        doc.add_u64(f.file_tokens, chunk.file_tokens as u64);
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Commits what was written so far with `payload` and goes on writing (a checkpoint of a long run).
    pub fn checkpoint(&mut self, payload: &str) -> Result<()> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(payload);
        prepared.commit()?;
        Ok(())
    }

    /// Atomically publishes all changes with `payload` attached; a crash before this leaves the last commit.
    pub fn commit(mut self, payload: &str) -> Result<()> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(payload);
        prepared.commit()?;
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(writer: &LexicalWriter, path: &str, symbols: &str, text: &str) {
        writer
            .add_chunk(&ChunkDocument {
                path,
                language: "rust",
                symbols,
                text,
                start_line: 1,
                end_line: 3,
                tokens: 10,
                file_tokens: 10,
            })
            .unwrap();
    }

    #[test]
    fn ranks_symbol_matches_first_and_filters_paths() {
        let dir = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer().unwrap();
        add(&writer, "src/config.rs", "load_config", "fn load_config() { read the file }");
        add(&writer, "src/main.rs", "main", "fn main() { let config = load_config(); }");
        add(&writer, "docs/notes.rs", "notes", "nothing relevant here");
        writer.commit("1").unwrap();
        index.reload().unwrap();
        assert_eq!(index.committed_payload().unwrap().as_deref(), Some("1"));
        assert_eq!(index.num_chunks(), 3);

        let hits = index.search("loadConfig", &SearchFilter::default(), 10).unwrap();
        let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(paths, ["src/config.rs", "src/main.rs"]);
        assert!(hits[0].score > hits[1].score);

        let filter = SearchFilter { paths: vec!["src/main.rs".into()], ..Default::default() };
        assert_eq!(index.search("config", &filter, 10).unwrap().len(), 1);
        let filter = SearchFilter { paths: vec!["docs".into()], ..Default::default() };
        assert_eq!(index.search("config", &filter, 10).unwrap().len(), 0);
        let filter = SearchFilter { languages: vec!["python".into()], ..Default::default() };
        assert!(index.search("config", &filter, 10).unwrap().is_empty());
        assert!(index.search("  ::: ", &SearchFilter::default(), 10).unwrap().is_empty());
    }

    #[test]
    fn delete_path_removes_its_chunks_and_uncommitted_changes_stay_invisible() {
        let dir = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer().unwrap();
        add(&writer, "a.rs", "alpha", "alpha beta");
        add(&writer, "b.rs", "beta", "beta gamma");
        writer.commit("1").unwrap();
        let writer = index.writer().unwrap();
        writer.delete_path("a.rs");
        drop(writer); // never committed
        index.reload().unwrap();
        assert_eq!(index.num_chunks(), 2);
        let writer = index.writer().unwrap();
        writer.delete_path("a.rs");
        writer.commit("2").unwrap();
        index.reload().unwrap();
        let hits = index.search("beta", &SearchFilter::default(), 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].path, "b.rs");
        drop(index);
        let reopened = LexicalIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(reopened.committed_payload().unwrap().as_deref(), Some("2"));
        assert_eq!(reopened.num_chunks(), 1);
    }

    #[test]
    fn scores_after_many_edits_equal_those_of_a_fresh_index_of_the_same_chunks() {
        let search = |index: &LexicalIndex| -> Vec<(String, f32)> {
            let hits = index.search("alpha beta gamma", &SearchFilter::default(), 20).unwrap();
            hits.into_iter().map(|h| (h.path, h.score)).collect()
        };
        let final_text =
            |i: usize| format!("alpha beta {} version {i}", if i.is_multiple_of(2) { "gamma" } else { "delta" });
        // Three commits that each rewrite most files (a branch switch, a reformatting), and one file's last edit:
        // fewer segments than a merge by size waits for, most of their chunks deleted.
        let add_files = |writer: &LexicalWriter, files: std::ops::Range<usize>| {
            for i in files {
                add(writer, &format!("stable_{i}.rs"), "", &final_text(i));
            }
        };
        let edited = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(edited.path()).unwrap();
        let writer = index.writer().unwrap();
        add_files(&writer, 0..10);
        add(&writer, "hot.rs", "", "gamma first draft");
        writer.commit("0").unwrap();
        for round in 1..=3 {
            let writer = index.writer().unwrap();
            for i in 0..8 {
                writer.delete_path(&format!("stable_{i}.rs"));
            }
            add_files(&writer, 0..8);
            writer.delete_path("hot.rs");
            let text = if round == 3 { "alpha beta gamma gamma".to_string() } else { format!("gamma edit {round}") };
            add(&writer, "hot.rs", "", &text);
            writer.commit(&round.to_string()).unwrap();
        }
        index.reload().unwrap();
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = LexicalIndex::open_or_create(fresh_dir.path()).unwrap();
        let writer = fresh.writer().unwrap();
        add_files(&writer, 0..10);
        add(&writer, "hot.rs", "", "alpha beta gamma gamma");
        writer.commit("1").unwrap();
        fresh.reload().unwrap();
        let (after_edits, from_scratch) = (search(&index), search(&fresh));
        assert_eq!(after_edits.len(), 11);
        assert_eq!(after_edits[0].0, "hot.rs");
        let mut sorted = after_edits.clone();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = from_scratch.clone();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        for ((path, score), (fresh_path, fresh_score)) in sorted.iter().zip(&expected) {
            assert_eq!(path, fresh_path);
            assert!((score - fresh_score).abs() < 1e-4, "{path}: {score} after edits, {fresh_score} fresh");
        }
        assert_eq!(
            index.chunk_shares(&["gamma".to_string()]).unwrap(),
            fresh.chunk_shares(&["gamma".to_string()]).unwrap()
        );
    }

    fn chunk<'a>(path: &'a str, text: &'a str, file_tokens: u32) -> ChunkDocument<'a> {
        ChunkDocument { path, language: "rust", symbols: "", text, start_line: 1, end_line: 1, tokens: 10, file_tokens }
    }

    #[test]
    fn files_with_terms_needs_every_term_somewhere_in_the_file_and_forgets_deleted_files() {
        let dir = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer().unwrap();
        // The two terms in different chunks of one file.
        writer.add_chunk(&chunk("src/a.rs", "fn parseConfig() {}", 10)).unwrap();
        writer.add_chunk(&chunk("src/a.rs", "fn other() { loader.run() }", 10)).unwrap();
        writer.add_chunk(&chunk("src/b.rs", "fn parse_config() { parseConfig() }", 10)).unwrap();
        writer.add_chunk(&chunk("src/c.rs", "fn loader() {}", 10)).unwrap();
        writer.commit("1").unwrap();
        index.reload().unwrap();
        let terms = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let keys = |paths: &[&str]| paths.iter().map(|p| file_key(p)).collect::<HashSet<u64>>();

        assert_eq!(index.files_with_terms(&terms(&["parseconfig"])).unwrap(), keys(&["src/a.rs", "src/b.rs"]));
        assert_eq!(index.files_with_terms(&terms(&["parseconfig", "loader"])).unwrap(), keys(&["src/a.rs"]));
        assert_eq!(index.files_with_terms(&terms(&["absent"])).unwrap(), keys(&[]));

        let writer = index.writer().unwrap();
        writer.delete_path("src/a.rs");
        writer.commit("2").unwrap();
        index.reload().unwrap();
        assert_eq!(index.files_with_terms(&terms(&["parseconfig"])).unwrap(), keys(&["src/b.rs"]));
    }

    #[test]
    fn whole_file_bm25_sums_a_files_chunks_wherever_they_lie_and_scores_by_the_formula() {
        let corpus = FileCorpus { files: 22, mean_tokens: 20.0 };
        let scores = |order: &[(&str, &str)]| {
            let dir = tempfile::tempdir().unwrap();
            let index = LexicalIndex::open_or_create(dir.path()).unwrap();
            let writer = index.writer().unwrap();
            for (path, text) in order {
                writer.add_chunk(&chunk(path, text, 30)).unwrap();
            }
            for i in 0..20 {
                writer.add_chunk(&chunk(&format!("src/filler_{i}.rs"), "fn unrelated() {}", 10)).unwrap();
            }
            writer.commit("1").unwrap();
            index.reload().unwrap();
            let mut ranked = index.search_files("gamma delta", corpus, FileBm25::default(), 10).unwrap();
            ranked.sort_by_key(|(key, _)| *key);
            ranked
        };
        let (a1, a2, b1) = (
            ("src/a.rs", "fn one() { gamma(delta) }"),
            ("src/a.rs", "fn two() { gamma() }"),
            ("src/b.rs", "fn three() { gamma() }"),
        );
        // The chunks of `a.rs` side by side, or with `b.rs` between them: the same sums, so the same scores.
        let together = scores(&[a1, a2, b1]);
        assert_eq!(together, scores(&[a1, b1, a2]));
        // a.rs holds gamma twice and delta once, b.rs gamma once; both are 30 tokens long (k1 1.2, b 0.75).
        let norm = 1.2 * (1.0 - 0.75 + 0.75 * 30.0 / 20.0);
        let idf = |df: f32| (1.0f32 + (22.0 - df + 0.5) / (df + 0.5)).ln();
        let bm25 = |tf: f32, df: f32| idf(df) * tf * 2.2 / (tf + norm);
        let expected_a = bm25(2.0, 2.0) + bm25(1.0, 1.0);
        let expected_b = bm25(1.0, 2.0);
        let score_of = |path: &str| together.iter().find(|(key, _)| *key == file_key(path)).map(|(_, s)| *s);
        assert!((score_of("src/a.rs").unwrap() - expected_a).abs() < 1e-5, "{together:?}");
        assert!((score_of("src/b.rs").unwrap() - expected_b).abs() < 1e-5, "{together:?}");
        assert_eq!(together.len(), 2);
    }

    #[test]
    fn whole_file_ranking_normalises_by_file_length_and_weighs_paths() {
        let dir = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer().unwrap();
        // A long hub file mentions "session" once in each of 30 chunks; a short file is about sessions expiring.
        for i in 0..30 {
            let text = format!("fn step_{i}() {{ session.touch(); registry.update(); metrics.record(); }}");
            writer.add_chunk(&chunk("src/hub.rs", &text, 3000)).unwrap();
        }
        writer.add_chunk(&chunk("src/expiry.rs", "fn expire(session: &Session) { session.expire() }", 40)).unwrap();
        writer.add_chunk(&chunk("src/expiry.rs", "fn notice() { log(\"session expired\") }", 40)).unwrap();
        // Matching only by its name.
        writer.add_chunk(&chunk("src/session.rs", "fn open() {}", 10)).unwrap();
        // Files that do not match, so the query's terms are rare enough to count.
        let fillers: Vec<String> = (0..200).map(|i| format!("src/filler_{i}.rs")).collect();
        for path in &fillers {
            writer.add_chunk(&chunk(path, "fn unrelated() { registry.update() }", 10)).unwrap();
        }
        writer.commit("1").unwrap();
        index.reload().unwrap();
        let corpus = FileCorpus { files: 203, mean_tokens: 25.0 };

        let ranked = index.search_files("session expiration notice", corpus, FileBm25::default(), 10).unwrap();
        let order: Vec<u64> = ranked.iter().map(|(key, _)| *key).collect();
        assert_eq!(
            order,
            [file_key("src/expiry.rs"), file_key("src/session.rs"), file_key("src/hub.rs")],
            "{ranked:?}"
        );
        // Without length normalisation the hub's thirty mentions outweigh a file's name, and so they do where the
        // path weighs no more than the body.
        let params = |b: f32, path_weight: f32| FileBm25 { b, path_weight, ..FileBm25::default() };
        let order_with = |params: FileBm25| -> Vec<u64> {
            let ranked = index.search_files("session expiration notice", corpus, params, 10).unwrap();
            ranked.iter().map(|(key, _)| *key).collect()
        };
        let hub_second = [file_key("src/expiry.rs"), file_key("src/hub.rs"), file_key("src/session.rs")];
        assert_eq!(order_with(params(0.0, 3.0)), hub_second);
        assert_eq!(order_with(params(0.75, 0.0)), hub_second);
        // Summed chunk scores put the hub first: that is what whole-file ranking corrects.
        let chunks = index.search("session expiration notice", &SearchFilter::default(), 100).unwrap();
        let hub_total: f32 = chunks.iter().filter(|h| h.path == "src/hub.rs").map(|h| h.score).sum();
        let expiry_total: f32 = chunks.iter().filter(|h| h.path == "src/expiry.rs").map(|h| h.score).sum();
        assert!(hub_total > expiry_total, "{hub_total} {expiry_total}");

        // With definition names counting, a file that defines what the query names leads one that only mentions it
        // more often.
        let writer = index.writer().unwrap();
        let mut defines = chunk("src/notify.rs", "fn expiration_notice() { send() }", 12);
        defines.symbols = "expiration_notice";
        writer.add_chunk(&defines).unwrap();
        let mentions = "fn tick() { log(expiration); log(expiration); log(notice); log(notice) }";
        writer.add_chunk(&chunk("src/ticker.rs", mentions, 12)).unwrap();
        writer.commit("2").unwrap();
        index.reload().unwrap();
        let corpus = FileCorpus { files: 205, mean_tokens: 25.0 };
        let place = |params: FileBm25, path: &str| {
            let ranked = index.search_files("expiration notice", corpus, params, 10).unwrap();
            ranked.iter().position(|(key, _)| *key == file_key(path)).expect("both files match")
        };
        let named = FileBm25 { symbol_weight: 3.0, ..FileBm25::default() };
        assert!(place(FileBm25::default(), "src/ticker.rs") < place(FileBm25::default(), "src/notify.rs"));
        assert!(place(named, "src/notify.rs") < place(named, "src/ticker.rs"));

        // A deleted file is gone from the ranking.
        let writer = index.writer().unwrap();
        writer.delete_path("src/expiry.rs");
        writer.commit("3").unwrap();
        index.reload().unwrap();
        let ranked = index.search_files("session expiration notice", corpus, FileBm25::default(), 10).unwrap();
        assert!(ranked.iter().all(|(key, _)| *key != file_key("src/expiry.rs")), "{ranked:?}");
        assert!(index.search_files("", corpus, FileBm25::default(), 10).unwrap().is_empty());
    }

    #[test]
    fn word_variants_let_a_task_word_find_the_forms_the_code_writes() {
        let dir = tempfile::tempdir().unwrap();
        let index = LexicalIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer().unwrap();
        // The code says `parse`, `parses` and `queries`; the task says "parsing" and "query".
        writer.add_chunk(&chunk("src/reader.rs", "fn parse(input: &str) -> Ast { parses(input) }", 20)).unwrap();
        writer
            .add_chunk(&chunk("src/store.rs", "fn run(queries: &[Sql]) { for q in queries { exec(q) } }", 20))
            .unwrap();
        // `parser` and `parsec` share the prefix but not the stem; `pars` is too short a word to expand.
        writer.add_chunk(&chunk("src/tool.rs", "struct Parser; fn parsec() { pars() }", 20)).unwrap();
        for i in 0..50 {
            writer.add_chunk(&chunk(&format!("src/filler_{i}.rs"), "fn unrelated() {}", 10)).unwrap();
        }
        writer.commit("1").unwrap();
        index.reload().unwrap();
        let searcher = index.reader.searcher();
        let variants = |word: &str, terms: &[&str]| {
            let terms: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
            let mut found = index.word_variants(&searcher, word, &terms).unwrap();
            found.sort();
            found
        };
        assert_eq!(variants("parsing", &["parsing"]), ["parse", "parses"]);
        // A form the query already holds counts once, as itself.
        assert_eq!(variants("parsing", &["parsing", "parse"]), ["parses"]);
        // A stem ending in `i` stands for a `y`.
        assert_eq!(variants("query", &["query"]), ["queries"]);
        assert!(variants("pars", &["pars"]).is_empty());
        assert!(variants("parse2", &["parse2"]).is_empty());

        let corpus = FileCorpus { files: 53, mean_tokens: 12.0 };
        let rank = |variants: f32| -> Vec<u64> {
            let params = FileBm25 { variants, ..FileBm25::default() };
            index.search_files("parsing query", corpus, params, 10).unwrap().iter().map(|(key, _)| *key).collect()
        };
        // Written forms only: nothing matches. With variants, both files do, and `parser` does not.
        assert!(rank(0.0).is_empty());
        let ranked = rank(0.5);
        assert_eq!(ranked.len(), 2, "{ranked:?}");
        assert!(ranked.contains(&file_key("src/reader.rs")) && ranked.contains(&file_key("src/store.rs")));
    }
}
