//! Lexical, semantic and hybrid search over one index.
//!
//! Hybrid search fuses ranked lists with weighted reciprocal-rank fusion (score = Σ wᵢ / (K + rankᵢ)): BM25 chunk
//! hits, dense (embedding) hits, definitions whose name the query spells, files whose path terms the query echoes,
//! and files that BM25 ranks high as a whole. Ranks rather than raw scores are fused because BM25 and cosine scores live on
//! unrelated scales; every fused result keeps the rank each signal gave it, so a caller can see why it is there.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use sextant_index::fusion::rrf;
use sextant_index::{
    clip_snippet_line, FromStore, Index, KeywordSignals, PathFilter, SearchHit, SearchOptions, Signal, SignalHit,
};

use crate::{SemanticEngine, SemanticError};

/// Candidates taken from each signal per result asked for.
const POOL_FACTOR: usize = 5;
/// Smallest candidate pool per signal.
const MIN_POOL: usize = 50;
/// File cards asked for per query: their files lend the card signal to the chunks the other signals found.
const CARD_POOL: usize = 50;
/// Chunks of a file whose scores make up its evidence.
const FILE_EVIDENCE_CHUNKS: usize = 3;
/// Lines of a snippet built from the file (for hits the lexical index did not snip).
const SNIPPET_LINES: usize = 3;

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// BM25 over chunks only.
    Lexical,
    /// Dense vectors only.
    Semantic,
    /// Rank fusion of BM25, dense, symbol-name and path signals.
    Hybrid,
}

impl SearchMode {
    /// Lower-case name, as parsed by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            SearchMode::Lexical => "lexical",
            SearchMode::Semantic => "semantic",
            SearchMode::Hybrid => "hybrid",
        }
    }
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lexical" => Ok(SearchMode::Lexical),
            "semantic" => Ok(SearchMode::Semantic),
            "hybrid" => Ok(SearchMode::Hybrid),
            other => Err(format!("unknown search mode {other:?} (use lexical, semantic or hybrid)")),
        }
    }
}

/// How much each signal counts in hybrid fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HybridWeights {
    /// BM25.
    pub lexical: f32,
    /// Dense.
    pub semantic: f32,
    /// Symbol names.
    pub symbol: f32,
    /// Path terms.
    pub path: f32,
    /// Whole-file BM25: chunks of the files that match the query best as a whole.
    pub whole_file: f32,
    /// Share of its file's evidence (the sum of the file's best chunk scores) each chunk receives: a file that
    /// matches in several places is likelier the one to read.
    pub file: f32,
    /// File cards: chunks of the files whose cards are nearest the query in meaning (with an engine that keeps
    /// cards; the dense evidence that exists before chunk vectors do).
    pub file_card: f32,
    /// Factor on the fused score of tests and auxiliary code (examples, benchmarks, scripts, docs, CI, vendored
    /// code, `.d.ts`) unless the query names their kind, as packs do: they echo a query's words but are seldom
    /// what it is after. 1 leaves them be.
    pub secondary_files: f32,
}

impl Default for HybridWeights {
    /// Tuned on the development evaluation set (see the README's figures).
    fn default() -> Self {
        HybridWeights {
            lexical: 1.0,
            semantic: 1.0,
            symbol: 0.6,
            path: 0.4,
            whole_file: 4.0,
            file: 0.5,
            file_card: 1.0,
            secondary_files: 0.5,
        }
    }
}

impl HybridWeights {
    /// The weight of one signal.
    pub fn of(&self, signal: Signal) -> f32 {
        match signal {
            Signal::Lexical => self.lexical,
            Signal::Semantic => self.semantic,
            Signal::Symbol => self.symbol,
            Signal::Path => self.path,
            Signal::WholeFile => self.whole_file,
            Signal::FileCard => self.file_card,
        }
    }
}

impl std::str::FromStr for HybridWeights {
    type Err = String;
    /// `lexical=1,semantic=1.5,symbol=0.6,path=0.4` (unnamed signals keep their default).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut weights = HybridWeights::default();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| format!("expected signal=weight, got {part:?}"))?;
            let value: f32 = value.trim().parse().map_err(|_| format!("bad weight in {part:?}"))?;
            match name.trim() {
                "lexical" => weights.lexical = value,
                "semantic" => weights.semantic = value,
                "symbol" => weights.symbol = value,
                "path" => weights.path = value,
                "whole_file" => weights.whole_file = value,
                "file" => weights.file = value,
                "file_card" => weights.file_card = value,
                "secondary_files" => weights.secondary_files = value,
                other => return Err(format!("unknown signal {other:?}")),
            }
        }
        Ok(weights)
    }
}

/// Searches `index` in `mode`. Semantic and hybrid modes need `engine`, one whose store holds this index's
/// vectors (`SemanticEngine::open_synced`, or one that has synced); hybrid without one (no model, no vectors)
/// falls back to fusing the signals it has.
pub fn search(
    index: &Index,
    engine: Option<&SemanticEngine>,
    query: &str,
    options: &SearchOptions,
    mode: SearchMode,
) -> Result<Vec<SearchHit>, SemanticError> {
    search_weighted(index, engine, query, options, mode, &HybridWeights::default())
}

/// [`search`] with explicit fusion weights (for tuning).
pub fn search_weighted(
    index: &Index,
    engine: Option<&SemanticEngine>,
    query: &str,
    options: &SearchOptions,
    mode: SearchMode,
    weights: &HybridWeights,
) -> Result<Vec<SearchHit>, SemanticError> {
    match mode {
        // Lexical hits already carry their BM25 rank as their one signal.
        SearchMode::Lexical => Ok(index.search(query, options)?),
        SearchMode::Semantic => {
            let engine = engine.ok_or(SemanticError::NoVectors)?;
            let hits = dense_hits(index, engine, query, options.pool(), options)?;
            Ok(semantic_page(hits, Path::new(index.root()), options))
        }
        SearchMode::Hybrid => hybrid(index, engine, query, options, weights),
    }
}

/// A page of semantic results from dense hits in nearness order; snippets are read from the files under `root`.
fn semantic_page(hits: Vec<TokenHit>, root: &Path, options: &SearchOptions) -> Vec<SearchHit> {
    // Nearness ranks are taken before the page is diversified: they are the signal's own.
    let ranked: Vec<(u32, TokenHit)> = hits.into_iter().zip(1..).map(|(h, r)| (r, h)).collect();
    let mut ranked =
        sextant_index::diversify(ranked, options.chunks_per_file, |(_, (hit, _))| hit.payload.path.as_str());
    ranked.truncate(options.limit);
    ranked
        .into_iter()
        .map(|(rank, (hit, tokens))| SearchHit {
            snippet: file_snippet(root, &hit.payload.path, hit.payload.start_line, hit.payload.end_line),
            signals: vec![SignalHit { signal: Signal::Semantic, rank, score: hit.score }],
            path: hit.payload.path,
            start_line: hit.payload.start_line,
            end_line: hit.payload.end_line,
            language: hit.payload.language,
            symbol: hit.payload.symbol,
            score: hit.score,
            tokens,
        })
        .collect()
}

/// Semantic search over `engine`'s vectors with the chunks' token counts read from the store of `dir` (their files'
/// records) rather than a loaded index: the same page as [`search`] in semantic mode for the same generation.
/// `None` when the store cannot answer alone.
pub fn semantic_in_store(
    dir: &Path,
    engine: &SemanticEngine,
    query: &str,
    options: &SearchOptions,
) -> Result<Option<FromStore<Vec<SearchHit>>>, SemanticError> {
    let hits = match crate::vector_filter(&options.languages, &options.paths) {
        Some(filter) => engine.nearest(query, options.pool(), &filter)?,
        None => Vec::new(),
    };
    let keys: Vec<(&str, u32)> = hits.iter().map(|h| (h.payload.path.as_str(), h.payload.start_line)).collect();
    let Some(parts) = Index::indexed_parts_in_store(dir, &keys, &[])? else { return Ok(None) };
    let sized = hits.into_iter().zip(parts.answer.chunk_tokens).filter_map(|(hit, t)| Some((hit, t?))).collect();
    let answer = semantic_page(sized, Path::new(&parts.root), options);
    Ok(Some(FromStore { root: parts.root, generation: parts.generation, answer }))
}

/// The kinds of secondary code a query asks for: tests when it says so (`test`, `spec`, `fixture`, … or a test
/// path), auxiliary kinds by a word (`example`, `docs`, `typescript`, …) or a path of that kind.
struct SecondaryKinds {
    tests: bool,
    auxiliary: Vec<&'static str>,
}

impl SecondaryKinds {
    fn named_in(query: &str) -> SecondaryKinds {
        let mut kinds = SecondaryKinds { tests: false, auxiliary: Vec::new() };
        for token in query.split_whitespace() {
            let token = token.trim_matches(|c: char| !(c.is_alphanumeric() || c == '/' || c == '.' || c == '_'));
            if token.contains('/') || token.contains('.') {
                kinds.tests |= sextant_index::is_test_path(token);
                kinds.auxiliary.extend(sextant_index::auxiliary_kind(token));
            }
        }
        kinds.tests |= query
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| sextant_index::is_test_word(&word.to_ascii_lowercase()));
        sextant_index::add_auxiliary_kinds_named_in(query, &mut kinds.auxiliary);
        kinds
    }

    /// Whether `path` is secondary code the query did not ask for.
    fn demotes(&self, path: &str) -> bool {
        match sextant_index::auxiliary_kind(path) {
            Some(kind) => !self.auxiliary.contains(&kind),
            None => !self.tests && sextant_index::is_test_path(path),
        }
    }
}

/// A chunk's place: its file and first line.
type ChunkKey = (String, u32);

/// A dense hit with its chunk's token count.
type TokenHit = (sextant_vector::VectorHit, u32);

#[derive(Default)]
struct Candidate {
    end_line: u32,
    tokens: u32,
    language: String,
    symbol: String,
    snippet: String,
    score: f32,
    signals: Vec<SignalHit>,
}

struct Fusion<'a> {
    candidates: HashMap<ChunkKey, Candidate>,
    weights: &'a HybridWeights,
}

impl Fusion<'_> {
    fn add(&mut self, key: ChunkKey, fill: impl FnOnce(&mut Candidate), signal: SignalHit) {
        let candidate = self.candidates.entry(key).or_default();
        if candidate.language.is_empty() {
            fill(candidate);
        }
        // One contribution per signal per chunk: its best rank.
        if candidate.signals.iter().any(|s| s.signal == signal.signal) {
            return;
        }
        candidate.score += rrf(self.weights.of(signal.signal), signal.rank as usize);
        candidate.signals.push(signal);
    }
}

fn hybrid(
    index: &Index,
    engine: Option<&SemanticEngine>,
    query: &str,
    options: &SearchOptions,
    weights: &HybridWeights,
) -> Result<Vec<SearchHit>, SemanticError> {
    let (pool, pool_options, whole_files) = pools(options, weights);
    let keywords = index.keyword_signals(query, &pool_options, whole_files)?;
    let dense = match engine {
        Some(engine) => {
            let card_limit = weights.card_limit();
            Some(dense_hits_with_cards(index, engine, query, pool, card_limit, options)?)
        }
        None => None,
    };
    Ok(fuse(keywords, dense, Path::new(index.root()), query, options, weights))
}

/// Hybrid search over signals read from the store and the lexical index of `dir` rather than a loaded index
/// ([`Index::keyword_signals_in_store`], and [`Index::indexed_parts_in_store`] for the dense hits' chunks): what a
/// one-shot process asks, answered without loading the index. The hits equal [`search_weighted`]'s for the same
/// generation. `None` when the store cannot answer alone (or a commit landed between its reads); open the index
/// then.
pub fn hybrid_in_store(
    dir: &Path,
    engine: Option<&SemanticEngine>,
    query: &str,
    options: &SearchOptions,
    weights: &HybridWeights,
) -> Result<Option<FromStore<Vec<SearchHit>>>, SemanticError> {
    let (pool, pool_options, whole_files) = pools(options, weights);
    let Some(signals) = Index::keyword_signals_in_store(dir, query, &pool_options, whole_files)? else {
        return Ok(None);
    };
    let dense = match engine {
        None => None,
        Some(engine) => {
            let card_limit = weights.card_limit();
            let (chunks, cards) = match crate::vector_filter(&options.languages, &options.paths) {
                Some(filter) => engine.nearest_with_cards(query, pool, card_limit, &filter)?,
                None => (Vec::new(), Vec::new()),
            };
            let keys: Vec<(&str, u32)> =
                chunks.iter().map(|h| (h.payload.path.as_str(), h.payload.start_line)).collect();
            let card_paths: Vec<&str> = cards.iter().map(|(path, _)| path.as_str()).collect();
            let Some(parts) = Index::indexed_parts_in_store(dir, &keys, &card_paths)? else { return Ok(None) };
            if parts.generation != signals.generation {
                return Ok(None);
            }
            let parts = parts.answer;
            let chunks = chunks.into_iter().zip(parts.chunk_tokens).filter_map(|(hit, t)| Some((hit, t?))).collect();
            let cards = cards.into_iter().zip(parts.files).filter(|(_, indexed)| *indexed).map(|(c, _)| c).collect();
            Some((chunks, cards))
        }
    };
    let hits = fuse(signals.answer, dense, Path::new(&signals.root), query, options, weights);
    Ok(Some(FromStore { root: signals.root, generation: signals.generation, answer: hits }))
}

impl HybridWeights {
    /// File cards asked of the vector store: none when their signal is off.
    fn card_limit(&self) -> usize {
        if self.file_card > 0.0 {
            CARD_POOL
        } else {
            0
        }
    }
}

/// Candidates per signal, the options of the lists that feed the fusion (plain score order: their ranks are
/// what fusion reads), and the files asked of whole-file BM25.
fn pools(options: &SearchOptions, weights: &HybridWeights) -> (usize, SearchOptions, usize) {
    let pool = (options.limit * POOL_FACTOR).max(MIN_POOL);
    let pool_options = SearchOptions { limit: pool, chunks_per_file: 0, ..options.clone() };
    (pool, pool_options, if weights.whole_file > 0.0 { pool } else { 0 })
}

/// Fuses the keyword signals and the dense hits (chunks and file cards), if any, into a page of results for
/// `options`; snippets a list did not carry are read from the files under `root`.
fn fuse(
    keywords: KeywordSignals,
    dense: Option<(Vec<TokenHit>, crate::CardFiles)>,
    root: &Path,
    query: &str,
    options: &SearchOptions,
    weights: &HybridWeights,
) -> Vec<SearchHit> {
    let mut fusion = Fusion { candidates: HashMap::new(), weights };
    for (i, hit) in keywords.chunks.into_iter().enumerate() {
        let signal = SignalHit { signal: Signal::Lexical, rank: i as u32 + 1, score: hit.score };
        fusion.add(
            (hit.path, hit.start_line),
            |c| {
                c.end_line = hit.end_line;
                c.tokens = hit.tokens;
                c.language = hit.language;
                c.symbol = hit.symbol;
                c.snippet = hit.snippet;
            },
            signal,
        );
    }

    let mut card_files: HashMap<String, (u32, f32)> = HashMap::new();
    if let Some((chunks, cards)) = dense {
        card_files = cards.into_iter().enumerate().map(|(i, (path, score))| (path, (i as u32 + 1, score))).collect();
        for (i, (hit, tokens)) in chunks.into_iter().enumerate() {
            let signal = SignalHit { signal: Signal::Semantic, rank: i as u32 + 1, score: hit.score };
            let p = hit.payload;
            fusion.add(
                (p.path, p.start_line),
                |c| {
                    c.end_line = p.end_line;
                    c.tokens = tokens;
                    c.language = p.language;
                    c.symbol = p.symbol;
                },
                signal,
            );
        }
    }

    let paths = PathFilter::new(&options.paths);
    let allowed = |path: &str, language: &str| {
        (options.languages.is_empty() || options.languages.iter().any(|l| l == language)) && paths.matches(path)
    };

    for (i, definition) in keywords.definitions.into_iter().enumerate() {
        if !allowed(&definition.path, &definition.language) {
            continue;
        }
        let signal = SignalHit { signal: Signal::Symbol, rank: i as u32 + 1, score: definition.centrality };
        fusion.add(
            (definition.path, definition.start_line),
            |c| {
                c.end_line = definition.end_line;
                c.tokens = definition.tokens;
                c.language = definition.language;
                c.symbol = definition.symbol;
            },
            signal,
        );
    }

    // Path terms, and files that match as a whole, boost chunks other signals found.
    let ranked = |files: &[(String, f32)]| -> HashMap<String, (u32, f32)> {
        files.iter().enumerate().map(|(i, (path, score))| (path.clone(), (i as u32 + 1, *score))).collect()
    };
    let files_by_path = ranked(&keywords.paths);
    let whole_files = ranked(&keywords.whole_files);
    let keys: Vec<ChunkKey> = fusion.candidates.keys().cloned().collect();
    for key in keys {
        if let Some(&(rank, score)) = files_by_path.get(key.0.as_str()) {
            fusion.add(key.clone(), |_| {}, SignalHit { signal: Signal::Path, rank, score });
        }
        if let Some(&(rank, score)) = whole_files.get(key.0.as_str()) {
            fusion.add(key.clone(), |_| {}, SignalHit { signal: Signal::WholeFile, rank, score });
        }
        if let Some(&(rank, score)) = card_files.get(key.0.as_str()) {
            fusion.add(key, |_| {}, SignalHit { signal: Signal::FileCard, rank, score });
        }
    }

    if weights.file > 0.0 {
        let mut by_file: HashMap<&str, Vec<f32>> = HashMap::new();
        for ((path, _), c) in &fusion.candidates {
            by_file.entry(path.as_str()).or_default().push(c.score);
        }
        let file_scores: HashMap<String, f32> = by_file
            .into_iter()
            .map(|(path, mut scores)| {
                scores.sort_by(|a, b| b.total_cmp(a));
                (path.to_string(), scores.iter().take(FILE_EVIDENCE_CHUNKS).sum())
            })
            .collect();
        for ((path, _), c) in fusion.candidates.iter_mut() {
            c.score += weights.file * file_scores.get(path).copied().unwrap_or(0.0);
        }
    }
    if weights.secondary_files != 1.0 {
        let wanted = SecondaryKinds::named_in(query);
        for ((path, _), c) in fusion.candidates.iter_mut() {
            if wanted.demotes(path) {
                c.score *= weights.secondary_files;
            }
        }
    }
    let mut fused: Vec<SearchHit> = fusion
        .candidates
        .into_iter()
        .filter(|(_, c)| !c.language.is_empty())
        .map(|((path, start_line), mut c)| {
            c.signals.sort_by(|a, b| {
                let contribution = |s: &SignalHit| rrf(weights.of(s.signal), s.rank as usize);
                contribution(b).total_cmp(&contribution(a))
            });
            SearchHit {
                path,
                start_line,
                end_line: c.end_line,
                tokens: c.tokens,
                language: c.language,
                symbol: c.symbol,
                score: c.score,
                snippet: c.snippet,
                signals: c.signals,
            }
        })
        .collect();
    fused.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| a.path.cmp(&b.path)).then_with(|| a.start_line.cmp(&b.start_line))
    });
    let mut fused = sextant_index::diversify(fused, options.chunks_per_file, |hit| hit.path.as_str());
    fused.truncate(options.limit);
    for hit in &mut fused {
        if hit.snippet.is_empty() {
            hit.snippet = file_snippet(root, &hit.path, hit.start_line, hit.end_line);
        }
    }
    fused
}

/// [`dense_hits`] and the files of the `card_limit` nearest file cards that are files of this index, from one
/// embedding of the query.
fn dense_hits_with_cards(
    index: &Index,
    engine: &SemanticEngine,
    query: &str,
    limit: usize,
    card_limit: usize,
    options: &SearchOptions,
) -> Result<(Vec<TokenHit>, crate::CardFiles), SemanticError> {
    let Some(filter) = crate::vector_filter(&options.languages, &options.paths) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (chunks, cards) = engine.nearest_with_cards(query, limit, card_limit, &filter)?;
    let cards = cards.into_iter().filter(|(path, _)| index.file_by_path(path).is_some()).collect();
    Ok((with_tokens(index, chunks), cards))
}

/// The hits that are chunks of this index, with their token counts.
fn with_tokens(index: &Index, hits: Vec<sextant_vector::VectorHit>) -> Vec<TokenHit> {
    hits.into_iter()
        .filter_map(|hit| {
            let tokens = index.file_by_path(&hit.payload.path)?.chunk_starting_at(hit.payload.start_line)?.tokens;
            Some((hit, tokens))
        })
        .collect()
}

/// The store's nearest chunks that are files of this index (with their token counts): a store's payload is
/// data, and a shared server could hold paths this index never had, which are never read or returned.
fn dense_hits(
    index: &Index,
    engine: &SemanticEngine,
    query: &str,
    limit: usize,
    options: &SearchOptions,
) -> Result<Vec<TokenHit>, SemanticError> {
    let Some(filter) = crate::vector_filter(&options.languages, &options.paths) else { return Ok(Vec::new()) };
    Ok(with_tokens(index, engine.nearest(query, limit, &filter)?))
}

/// The first non-blank lines of a chunk, read from the file (empty when it cannot be read).
fn file_snippet(root: &Path, path: &str, start_line: u32, end_line: u32) -> String {
    let Ok(bytes) = std::fs::read(root.join(path)) else { return String::new() };
    String::from_utf8_lossy(&bytes)
        .lines()
        .skip(start_line.saturating_sub(1) as usize)
        .take(end_line.saturating_sub(start_line) as usize + 1)
        .filter(|l| !l.trim().is_empty())
        .take(SNIPPET_LINES)
        .map(clip_snippet_line)
        .collect::<Vec<_>>()
        .join("\n")
}
