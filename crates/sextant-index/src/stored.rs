//! Answers read from the store record by record, for a process that has not loaded the index (a one-shot CLI
//! query). A lookup by name decodes only the records of the files that define the name; callers and references
//! also read the files whose text mentions it, which the lexical index's postings name. Each answer equals what
//! the loaded [`Index`] gives for the same generation (tested on fixtures); where the store cannot answer alone
//! (an interrupted commit is pending, the lexical index holds another generation, the name has no indexable
//! term) the functions return `None` and the caller opens the index.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use sextant_graph::EdgeKind;
use sextant_lexical::{file_key, for_each_term, LexicalIndex};
use sextant_syntax::{FileFacts, RefKind};

use crate::db::{self, CommittedRecords, PathNode};
use crate::query::{location_in, reference_info, sort_relations, symbol_info, WantedName};
use crate::{Index, IndexError, Location, ReferenceInfo, Relation, SymbolInfo, LEXICAL_DIR};

/// An answer read from the store, with the generation and repository it comes from.
#[derive(Debug, Clone)]
pub struct FromStore<T> {
    /// The repository root the index was built from.
    pub root: String,
    /// The committed generation read.
    pub generation: u64,
    /// What the loaded [`Index`] answers for the same question and generation.
    pub answer: T,
}

impl Index {
    /// What [`Index::find_symbols`] answers, read from the store without opening the index: only the records of
    /// the files that define the name are decoded, so a one-shot lookup costs milliseconds at any repository
    /// size. `None` when the store cannot answer alone; the caller opens the index instead.
    pub fn find_symbols_in_store(dir: &Path, name: &str) -> Result<Option<FromStore<Vec<SymbolInfo>>>, IndexError> {
        let wanted = WantedName::new(name);
        let answer = db::read_committed(dir, |records| {
            let found =
                definitions_of(records, &AllPaths::read(records)?, &wanted)?.into_iter().map(|d| d.info).collect();
            Ok(from_store(records, found))
        })?;
        Ok(answer)
    }

    /// The repository root the committed index of `dir` was built from (one small read of the store's header),
    /// so a process handed an index directory learns its repository without loading the index. `None` when the
    /// store cannot say alone (no committed generation, or an interrupted commit pending).
    pub fn committed_root(dir: &Path) -> Result<Option<String>, IndexError> {
        db::read_committed(dir, |records| Ok(records.root().to_string()))
    }

    /// What [`Index::status`] and [`Index::indexed_at`] answer, without opening the index: the summary the
    /// committing run left in the stat cache (its own figures, such as files parsed, reset as `status` gives
    /// them) when the cache is of the committed generation and root, with the index's size on disk measured now.
    /// `None` when the cache cannot vouch for the committed generation.
    pub fn status_in_store(dir: &Path) -> Result<Option<FromStore<(crate::IndexSummary, u64)>>, IndexError> {
        let Some(cache) = crate::store::load_stat_cache(dir) else { return Ok(None) };
        let answer = db::read_committed(dir, |records| {
            if cache.generation != records.generation() || cache.root != records.root() {
                return Ok(None);
            }
            let mut summary = cache.summary;
            summary.unchanged = true;
            summary.files_parsed = 0;
            summary.files_reused = 0;
            summary.files_removed = 0;
            summary.files_relinked = 0;
            summary.elapsed_ms = 0;
            summary.rebuilt = None;
            summary.scip = None;
            summary.index_dir = dir.to_path_buf();
            summary.index_bytes = crate::dir_size(dir).saturating_sub(crate::dir_size(&dir.join(crate::VECTORS_DIR)));
            let indexed_at = records.indexed_at();
            Ok(Some(from_store(records, (summary, indexed_at))))
        })?;
        Ok(answer.flatten())
    }

    /// What [`Index::callers`] answers, read from the store: the definitions, then the edge records of the files
    /// whose text mentions the name. `None` when the store cannot answer alone.
    pub fn callers_in_store(dir: &Path, name: &str) -> Result<Option<FromStore<Vec<Relation>>>, IndexError> {
        let wanted = WantedName::new(name);
        read_with_lexical(dir, |records, lexical| {
            let all = AllPaths::read(records)?;
            let subjects = definitions_of(records, &all, &wanted)?;
            let by_node: HashMap<(&str, u32), &SymbolInfo> =
                subjects.iter().map(|d| ((d.path.as_str(), d.symbol), &d.info)).collect();
            let mut out = Vec::new();
            if by_node.is_empty() {
                return Ok(Some(out));
            }
            let Some(paths) = all.mentioning(lexical, &wanted.simple)? else { return Ok(None) };
            for path in paths {
                let Some(edges) = records.file_edges(path)? else { continue };
                let mut file: Option<Arc<FileFacts>> = None;
                for (from, to, kind, weight) in edges.iter() {
                    let (EdgeKind::Calls, PathNode::Symbol(target, symbol)) = (kind, to) else { continue };
                    let Some(subject) = by_node.get(&(target, symbol)) else { continue };
                    let enclosing = match from {
                        PathNode::Symbol(p, s) if p == path => Some(s),
                        PathNode::File(p) if p == path => None,
                        _ => continue,
                    };
                    if file.is_none() {
                        file = records.file(path)?.map(|record| record.facts);
                    }
                    let Some(facts) = &file else { continue };
                    let other =
                        location_in(path, &facts.symbols, &facts.references, enclosing, &subject.name, RefKind::Call);
                    out.push(Relation { subject: (*subject).clone(), other, weight });
                }
            }
            sort_relations(&mut out);
            Ok(Some(out))
        })
    }

    /// What [`Index::callees`] answers, read from the store: the definitions' edge records and the records of the
    /// files they call into. `None` when the store cannot answer alone.
    pub fn callees_in_store(dir: &Path, name: &str) -> Result<Option<FromStore<Vec<Relation>>>, IndexError> {
        let wanted = WantedName::new(name);
        db::read_committed(dir, |records| {
            let mut files = FactsCache::new(records);
            let mut out = Vec::new();
            for subject in definitions_of(records, &AllPaths::read(records)?, &wanted)? {
                let Some(edges) = records.file_edges(&subject.path)? else { continue };
                for (from, to, kind, weight) in edges.iter() {
                    if kind != EdgeKind::Calls || from != PathNode::Symbol(&subject.path, subject.symbol) {
                        continue;
                    }
                    let PathNode::Symbol(target, symbol) = to else { continue };
                    let Some(facts) = files.get(target)? else { continue };
                    let Some(callee) = facts.symbols.get(symbol as usize) else { continue };
                    let other = Location {
                        path: target.to_string(),
                        line: callee.span.start_line,
                        symbol: Some(callee.qualified_name.clone()),
                        kind: Some(callee.kind.as_str().to_string()),
                    };
                    out.push(Relation { subject: subject.info.clone(), other, weight });
                }
            }
            sort_relations(&mut out);
            Ok(from_store(records, out))
        })
    }

    /// What [`Index::references`] answers, read from the store: the records of the files whose text mentions the
    /// name, and of the definitions their mentions resolved to. `None` when the store cannot answer alone.
    pub fn references_in_store(dir: &Path, name: &str) -> Result<Option<FromStore<Vec<ReferenceInfo>>>, IndexError> {
        let wanted = WantedName::new(name);
        let simple = wanted.simple.as_str();
        let qualified = wanted.full.contains('.');
        read_with_lexical(dir, |records, lexical| {
            let all = AllPaths::read(records)?;
            let targets: HashSet<(String, u32)> = match qualified {
                true => definitions_of(records, &all, &wanted)?.into_iter().map(|d| (d.path, d.symbol)).collect(),
                false => HashSet::new(),
            };
            let Some(paths) = all.mentioning(lexical, simple)? else { return Ok(None) };
            let mut files = FactsCache::new(records);
            let mut out = Vec::new();
            for path in paths {
                let Some(facts) = files.get(path)? else { continue };
                let mut mentions = facts.references.iter().filter(|r| r.name == simple).peekable();
                if mentions.peek().is_none() {
                    continue;
                }
                let edges = records.file_edges(path)?;
                for reference in mentions {
                    let source = match reference.enclosing {
                        Some(s) => PathNode::Symbol(path, s),
                        None => PathNode::File(path),
                    };
                    let edge_kind =
                        if reference.kind == RefKind::Call { EdgeKind::Calls } else { EdgeKind::References };
                    // What the mention resolved to, ordered as the loaded graph orders neighbours.
                    let mut resolved: Vec<(f32, &str, u32, String)> = Vec::new();
                    for (from, to, kind, weight) in edges.iter().flat_map(|e| e.iter()) {
                        let PathNode::Symbol(target, symbol) = to else { continue };
                        if from != source || kind != edge_kind {
                            continue;
                        }
                        let Some(target_facts) = files.get(target)? else { continue };
                        match target_facts.symbols.get(symbol as usize) {
                            Some(s) if s.name == simple => {
                                resolved.push((weight, target, symbol, format!("{target}:{}", s.qualified_name)))
                            }
                            _ => {}
                        }
                    }
                    resolved.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
                    if qualified && !resolved.iter().any(|r| targets.contains(&(r.1.to_string(), r.2))) {
                        continue;
                    }
                    let resolved_to = resolved.into_iter().map(|r| r.3).collect();
                    out.push(reference_info(path, &facts.symbols, reference, resolved_to));
                }
            }
            Ok(Some(out))
        })
    }
}

fn from_store<T>(records: &CommittedRecords<'_>, answer: T) -> FromStore<T> {
    FromStore { root: records.root().to_string(), generation: records.generation(), answer }
}

/// Runs `read` over the committed records and the lexical index of the same generation; `None` when there is no
/// such pair or `read` cannot answer.
pub(crate) fn read_with_lexical<T>(
    dir: &Path,
    read: impl FnOnce(&CommittedRecords<'_>, &LexicalIndex) -> Result<Option<T>, IndexError>,
) -> Result<Option<FromStore<T>>, IndexError> {
    let answer = db::read_committed(dir, |records| {
        let lexical_dir = dir.join(LEXICAL_DIR);
        if !lexical_dir.is_dir() {
            return Ok(None);
        }
        let lexical = LexicalIndex::open_or_create(&lexical_dir)?;
        // The store's generation was published after tantivy committed it, so a lexical index whose last commit
        // is that generation is searched at exactly that generation.
        if lexical.committed_payload()?.and_then(|p| p.parse::<u64>().ok()) != Some(records.generation()) {
            return Ok(None);
        }
        Ok(read(records, &lexical)?.map(|answer| from_store(records, answer)))
    })?;
    Ok(answer.flatten())
}

/// A definition read from the store.
pub(crate) struct Definition {
    pub(crate) path: String,
    pub(crate) symbol: u32,
    pub(crate) info: SymbolInfo,
}

/// Every indexed path (in path order) with its [`file_key`], read once per question: the names table and the
/// lexical index both name files by that key.
pub(crate) struct AllPaths<'r> {
    pub(crate) paths: Vec<&'r str>,
    pub(crate) keys: Vec<u64>,
}

impl<'r> AllPaths<'r> {
    pub(crate) fn read(records: &'r CommittedRecords<'_>) -> Result<AllPaths<'r>, IndexError> {
        let paths = records.paths()?;
        let keys = paths.iter().map(|path| file_key(path)).collect();
        Ok(AllPaths { paths, keys })
    }

    /// The paths of the files whose text holds every term of `name`: a superset of the files that mention it.
    /// `None` when the name has no term the lexical index keeps (punctuation, or a word too long).
    fn mentioning(&self, lexical: &LexicalIndex, name: &str) -> Result<Option<Vec<&'r str>>, IndexError> {
        let mut terms: Vec<String> = Vec::new();
        for_each_term(name, |term, _, _| {
            if !terms.contains(&term) {
                terms.push(term);
            }
        });
        if terms.is_empty() {
            return Ok(None);
        }
        let keys = lexical.files_with_terms(&terms)?;
        Ok(Some(self.paths.iter().zip(&self.keys).filter(|(_, key)| keys.contains(key)).map(|(p, _)| *p).collect()))
    }
}

/// [`definitions`], reading the generation's symbol ranks first (a question that looks up one name).
fn definitions_of(
    records: &CommittedRecords<'_>,
    all: &AllPaths<'_>,
    wanted: &WantedName,
) -> Result<Vec<Definition>, IndexError> {
    let defining = records.defining_keys(&wanted.simple)?;
    if defining.is_empty() {
        return Ok(Vec::new());
    }
    let (ranks, offsets) = records.symbol_ranks()?;
    definitions(&mut FactsCache::new(records), all, &defining, &ranks, &offsets, wanted)
}

/// The definitions matching `wanted`, ordered as [`Index::find_symbol_ids`] orders them (most central first).
pub(crate) fn definitions(
    files: &mut FactsCache<'_, '_>,
    all: &AllPaths<'_>,
    defining: &[u64],
    ranks: &[f32],
    offsets: &[u32],
    wanted: &WantedName,
) -> Result<Vec<Definition>, IndexError> {
    let records = files.records;
    let mut ranked: Vec<(f32, usize, Definition)> = Vec::new();
    for (position, path) in all.paths.iter().enumerate() {
        if defining.binary_search(&all.keys[position]).is_err() {
            continue;
        }
        let Some(facts) = files.get(path)? else {
            return Err(db::corrupt(records.dir(), format!("{path} is listed but has no record")));
        };
        let first = offsets.get(position).copied().unwrap_or(0) as usize;
        for (s, symbol) in facts.symbols.iter().enumerate() {
            if symbol.name != wanted.simple || !wanted.matches(&symbol.qualified_name) {
                continue;
            }
            let rank = ranks.get(first + s).copied().unwrap_or(0.0);
            let info = symbol_info(path, symbol, rank);
            ranked.push((rank, position, Definition { path: path.to_string(), symbol: s as u32, info }));
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.symbol.cmp(&b.2.symbol)));
    Ok(ranked.into_iter().map(|(_, _, d)| d).collect())
}

/// File facts decoded once per question.
pub(crate) struct FactsCache<'r, 'a> {
    records: &'r CommittedRecords<'a>,
    facts: HashMap<String, Option<Arc<FileFacts>>>,
}

impl<'r, 'a> FactsCache<'r, 'a> {
    pub(crate) fn new(records: &'r CommittedRecords<'a>) -> Self {
        FactsCache { records, facts: HashMap::new() }
    }

    pub(crate) fn get(&mut self, path: &str) -> Result<Option<Arc<FileFacts>>, IndexError> {
        if let Some(found) = self.facts.get(path) {
            return Ok(found.clone());
        }
        let found = self.records.file(path)?.map(|record| record.facts);
        self.facts.insert(path.to_string(), found.clone());
        Ok(found)
    }
}
