//! The keyword signals of a hybrid search: BM25 chunk hits, the definitions a query names, the files whose path
//! terms it uses, and whole-file BM25. They come from a loaded [`Index`] ([`Index::keyword_signals`]) or, for a
//! one-shot process, straight from the store and the lexical index ([`Index::keyword_signals_in_store`]), which
//! decodes only the records of the files that define a name the query spells: a cold hybrid query then costs
//! milliseconds instead of a full index load. Both give the same signals for the same generation (tested on
//! fixtures); fusing them is the caller's business (`sextant-semantic`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sextant_lexical::{FileBm25, FileCorpus};
use sextant_syntax::Chunk;

use crate::query::{lexical_search, WantedName};
use crate::stored::{definitions, read_with_lexical, AllPaths, FactsCache, FromStore};
use crate::{Index, IndexError, PathTerms, SearchHit, SearchOptions};

/// A name defined more often than this says little about where to look.
pub const MAX_DEFINITIONS_PER_NAME: usize = 8;

/// The keyword signals of a query, each list best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordSignals {
    /// BM25 chunk hits (with snippets), as [`Index::search`] gives them.
    pub chunks: Vec<SearchHit>,
    /// The chunks holding definitions whose name the query spells, most specific first: code-like words
    /// (`snake_case`, `camelCase`, `Type::method`) before plain words, rarer names before common ones, central
    /// definitions first within a name. Names defined more than [`MAX_DEFINITIONS_PER_NAME`] times are left out.
    pub definitions: Vec<NamedDefinition>,
    /// Files whose path terms the query uses, by the summed rarity of the shared terms.
    pub paths: Vec<(String, f32)>,
    /// Files by whole-file BM25 over the query (empty when not asked for).
    pub whole_files: Vec<(String, f32)>,
}

/// A definition the query names, as the chunk that holds its first line.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedDefinition {
    /// Repository-relative path of its file.
    pub path: String,
    /// The chunk's first line (1-based).
    pub start_line: u32,
    /// The chunk's last line.
    pub end_line: u32,
    /// The chunk's estimated tokens.
    pub tokens: u32,
    /// Language id of its file.
    pub language: String,
    /// The chunk's enclosing symbol (empty at file level).
    pub symbol: String,
    /// The definition's centrality in the symbol graph.
    pub centrality: f32,
}

impl Index {
    /// The keyword signals of `query`: `options` (its `limit` included) shape the BM25 chunk list, and
    /// `whole_files` files are taken from whole-file BM25 (0 for none).
    pub fn keyword_signals(
        &self,
        query: &str,
        options: &SearchOptions,
        whole_files: usize,
    ) -> Result<KeywordSignals, IndexError> {
        let chunks = self.search(query, options)?;
        let definitions = named_definitions(query, |word| {
            let ids = self.find_symbol_ids(word);
            let found = ids
                .iter()
                .filter_map(|&id| {
                    let (file, symbol) = self.symbol(id)?;
                    let language = file.language().name();
                    definition_chunk(
                        file.path(),
                        language,
                        file.chunks(),
                        symbol.span.start_line,
                        self.graph().symbol_rank(id),
                    )
                })
                .collect();
            Ok((ids.len(), found))
        })?;
        let paths = ranked_paths(self.path_terms(), query, |id| self.file(id).map(|f| f.path().to_string()));
        let whole_files = if whole_files == 0 {
            Vec::new()
        } else {
            self.search_files(query, whole_files)?
                .into_iter()
                .filter_map(|(id, score)| Some((self.file(id)?.path().to_string(), score)))
                .collect()
        };
        Ok(KeywordSignals { chunks, definitions, paths, whole_files })
    }

    /// What [`Index::keyword_signals`] gives, read from the store and the lexical index without opening the
    /// index: the path list, the names table, the records of the files defining a name the query spells, and the
    /// postings. `None` when the store cannot answer alone (an interrupted commit is pending, or the lexical index
    /// holds another generation); the caller opens the index instead.
    pub fn keyword_signals_in_store(
        dir: &Path,
        query: &str,
        options: &SearchOptions,
        whole_files: usize,
    ) -> Result<Option<FromStore<KeywordSignals>>, IndexError> {
        read_with_lexical(dir, |records, lexical| {
            let all = AllPaths::read(records)?;
            let chunks = lexical_search(lexical, query, options, true)?;
            // Decoded at the first name the store defines: a query that names none never reads them.
            let mut ranks: Option<(Vec<f32>, Vec<u32>)> = None;
            // Each record once per query, however many of its words a file defines.
            let mut files = FactsCache::new(records);
            let definitions = named_definitions(query, |word| {
                let wanted = WantedName::new(word);
                let defining = records.defining_keys(&wanted.simple)?;
                // Each file the names table lists defines the simple name at least once: more files than the
                // most definitions a name may have settle an unqualified word without decoding one record (a
                // query saying `get` or `close` would otherwise decode hundreds).
                if defining.is_empty() || (!wanted.is_qualified() && defining.len() > MAX_DEFINITIONS_PER_NAME) {
                    return Ok((defining.len(), Vec::new()));
                }
                let (ranks, offsets) = match &mut ranks {
                    Some(read) => read,
                    empty => empty.insert(records.symbol_ranks()?),
                };
                let found = definitions(&mut files, &all, &defining, ranks, offsets, &wanted)?;
                let count = found.len();
                let mut chunks = Vec::with_capacity(count);
                for definition in found {
                    let Some(facts) = files.get(&definition.path)? else { continue };
                    let Some(symbol) = facts.symbols.get(definition.symbol as usize) else { continue };
                    chunks.extend(definition_chunk(
                        &definition.path,
                        facts.language.name(),
                        &facts.chunks,
                        symbol.span.start_line,
                        definition.info.rank,
                    ));
                }
                Ok((count, chunks))
            })?;
            let terms = PathTerms::from_paths(all.paths.iter().copied());
            let paths = ranked_paths(&terms, query, |id| all.paths.get(id as usize).map(|p| p.to_string()));
            let whole_files = if whole_files == 0 {
                Vec::new()
            } else {
                let corpus = FileCorpus {
                    files: all.paths.len(),
                    mean_tokens: lexical.total_file_tokens()? as f32 / all.paths.len().max(1) as f32,
                };
                let path_of: HashMap<u64, &str> = all.keys.iter().copied().zip(all.paths.iter().copied()).collect();
                lexical
                    .search_files(query, corpus, FileBm25::default(), whole_files)?
                    .into_iter()
                    .filter_map(|(key, score)| Some((path_of.get(&key)?.to_string(), score)))
                    .collect()
            };
            Ok(Some(KeywordSignals { chunks, definitions, paths, whole_files }))
        })
    }
}

/// What the store says of chunks and files named elsewhere (a vector store's hits): each chunk's tokens, `None`
/// where no indexed chunk of that file starts at that line, and whether each file is indexed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexedParts {
    /// Per chunk asked about, in order: its estimated tokens.
    pub chunk_tokens: Vec<Option<u32>>,
    /// Per file asked about, in order: whether the index holds it.
    pub files: Vec<bool>,
}

impl Index {
    /// [`IndexedParts`] of `chunks` (path, first line) and `files`, read from the store's records of those files
    /// alone. `None` when the store cannot answer alone (an interrupted commit is pending).
    pub fn indexed_parts_in_store(
        dir: &Path,
        chunks: &[(&str, u32)],
        files: &[&str],
    ) -> Result<Option<FromStore<IndexedParts>>, IndexError> {
        let answer = crate::db::read_committed(dir, |records| {
            let mut decoded: HashMap<&str, Option<std::sync::Arc<sextant_syntax::FileFacts>>> = HashMap::new();
            let mut chunk_tokens = Vec::with_capacity(chunks.len());
            for &(path, line) in chunks {
                if !decoded.contains_key(path) {
                    decoded.insert(path, records.file(path)?.map(|record| record.facts));
                }
                let tokens = decoded.get(path).and_then(Option::as_ref).and_then(|facts| {
                    crate::file::chunk_at_line(&facts.chunks, line)
                        .map(|(_, c)| c)
                        .filter(|c| c.span.start_line == line)
                });
                chunk_tokens.push(tokens.map(|c| c.tokens));
            }
            // The path list only when some file is asked about (semantic search asks about none).
            let files = match files.is_empty() {
                true => Vec::new(),
                false => {
                    let all = AllPaths::read(records)?;
                    files.iter().map(|path| all.paths.binary_search(path).is_ok()).collect()
                }
            };
            Ok(FromStore {
                root: records.root().to_string(),
                generation: records.generation(),
                answer: IndexedParts { chunk_tokens, files },
            })
        })?;
        Ok(answer)
    }
}

/// The definitions `query` names (see [`KeywordSignals::definitions`]), given `lookup`, which answers a word with
/// how many definitions match it and the chunks holding them, most central first.
fn named_definitions(
    query: &str,
    mut lookup: impl FnMut(&str) -> Result<(usize, Vec<NamedDefinition>), IndexError>,
) -> Result<Vec<NamedDefinition>, IndexError> {
    let mut words: Vec<(bool, &str)> = Vec::new();
    let mut seen = HashSet::new();
    for word in query.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '.')) {
        let word = word.trim_matches(|c: char| c == '.' || c == ':');
        if word.chars().count() < 3 || !seen.insert(word) {
            continue;
        }
        let code_like = word.contains('_')
            || word.contains("::")
            || word.contains('.')
            || word.chars().skip(1).any(|c| c.is_uppercase()) && word.chars().any(|c| c.is_lowercase());
        words.push((code_like, word));
    }
    let mut matches: Vec<(bool, usize, NamedDefinition)> = Vec::new();
    let mut seen_chunks: HashSet<(String, u32)> = HashSet::new();
    for (code_like, word) in words {
        let (count, found) = lookup(word)?;
        if count == 0 || count > MAX_DEFINITIONS_PER_NAME {
            continue;
        }
        for definition in found {
            if seen_chunks.insert((definition.path.clone(), definition.start_line)) {
                matches.push((code_like, count, definition));
            }
        }
    }
    // Stable: within equal keys, the order the words and their definitions came in.
    matches.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(b.2.centrality.total_cmp(&a.2.centrality)));
    Ok(matches.into_iter().map(|(_, _, definition)| definition).collect())
}

/// The chunk of `chunks` (a file's, in file order) that holds `line`, as a named definition.
fn definition_chunk(
    path: &str,
    language: &str,
    chunks: &[Chunk],
    line: u32,
    centrality: f32,
) -> Option<NamedDefinition> {
    let chunk = crate::file::chunk_at_line(chunks, line)?.1;
    Some(NamedDefinition {
        path: path.to_string(),
        start_line: chunk.span.start_line,
        end_line: chunk.span.end_line,
        tokens: chunk.tokens,
        language: language.to_string(),
        symbol: chunk.symbol_path.clone(),
        centrality,
    })
}

/// The files whose path terms `query` uses, best first, named by `path_of` (file ids are positions in path
/// order, in the loaded index and the store alike).
fn ranked_paths(terms: &PathTerms, query: &str, path_of: impl Fn(u32) -> Option<String>) -> Vec<(String, f32)> {
    let mut query_terms = HashSet::new();
    crate::for_each_path_term(query, |t| {
        query_terms.insert(t);
    });
    terms.rank_files(&query_terms).into_iter().filter_map(|(id, weight)| Some((path_of(id)?, weight))).collect()
}
