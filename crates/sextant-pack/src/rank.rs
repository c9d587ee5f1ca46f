//! Ranking the units (chunks) and files of an index for a task by weighted reciprocal-rank fusion.

use std::collections::{HashMap, HashSet};

use sextant_graph::{Node, SymbolId};
use sextant_index::fusion::rrf;
use sextant_index::{Index, IndexError, IndexedFile, PathFilter, SearchOptions};

use crate::terms::TaskTerms;
use crate::PackRequest;

/// Names defined more often than this are too common to be a signal (`new`, `get`, `run`).
const MAX_DEFINITIONS_PER_NAME: usize = 12;
/// Hits taken from each lexical query.
const LEXICAL_DEPTH: usize = 200;
/// Symbols taken from the graph ranking.
const GRAPH_DEPTH: usize = 300;
/// Files whose every chunk gets a share of the file's score: where one part of a file matches, the change
/// is often elsewhere in the same file.
const EXPANDED_FILES: usize = 20;
/// Share of a file's score each of its chunks receives.
const FILE_PRIOR: f32 = 0.4;

/// Signal weights in the fusion; tuned on the development evaluation set.
struct Weights {
    lexical_task: f32,
    lexical_identifiers: f32,
    symbol_identifier: f32,
    symbol_word: f32,
    path: f32,
    mentioned: f32,
    graph: f32,
    lexical_files: f32,
    path_terms: f32,
    semantic: f32,
    semantic_files: f32,
}

const WEIGHTS: Weights = Weights {
    lexical_task: 1.0,
    lexical_identifiers: 1.0,
    symbol_identifier: 1.2,
    symbol_word: 0.2,
    path: 1.2,
    mentioned: 3.0,
    graph: 0.3,
    lexical_files: 2.0,
    path_terms: 1.0,
    semantic: 1.0,
    semantic_files: 1.0,
};

/// A chunk with its fused score and why it ranked.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    /// File position in the index.
    pub file: u32,
    /// Chunk position in the file.
    pub chunk: u32,
    /// Fused score.
    pub score: f32,
    /// Signals that found it, strongest first.
    pub reasons: Vec<String>,
}

/// The ranking of one task.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    /// Units by descending score.
    pub units: Vec<UnitScore>,
    /// Files by descending score.
    pub files: Vec<(u32, f32)>,
    /// Graph centrality around the task, for picking neighbours.
    pub graph_scores: HashMap<SymbolId, f32>,
}

type Unit = (u32, u32);

struct Fusion {
    scores: HashMap<Unit, (f32, Vec<(f32, String)>)>,
    file_scores: HashMap<u32, f32>,
}

impl Fusion {
    fn add_list(&mut self, weight: f32, list: &[(Unit, String)]) {
        let mut seen = HashSet::new();
        for (unit, reason) in list {
            if !seen.insert(*unit) {
                continue;
            }
            let contribution = rrf(weight, seen.len());
            let entry = self.scores.entry(*unit).or_insert((0.0, Vec::new()));
            entry.0 += contribution;
            entry.1.push((contribution, reason.clone()));
        }
    }

    fn add_file_list(&mut self, weight: f32, files: &[u32]) {
        let mut seen = HashSet::new();
        for file in files {
            if seen.insert(*file) {
                *self.file_scores.entry(*file).or_insert(0.0) += rrf(weight, seen.len());
            }
        }
    }
}

/// The unit (file and chunk) holding `line` of `file`.
fn unit_at(file: IndexedFile<'_>, line: u32) -> Option<Unit> {
    let (chunk, _) = file.chunk_at_line(line)?;
    Some((file.id(), chunk))
}

/// The unit holding a symbol's first line.
fn symbol_unit(index: &Index, id: SymbolId) -> Option<Unit> {
    let (file, symbol) = index.symbol(id)?;
    unit_at(file, symbol.span.start_line)
}

/// Ranks units and files for the request.
pub fn rank(index: &Index, request: &PackRequest) -> Result<Ranking, IndexError> {
    let terms = TaskTerms::extract(&request.task);
    let paths = PathFilter::new(&request.path_filters);
    let allowed = |file: u32| crate::file_allowed(index, request, &paths, file);
    let mut fusion = Fusion { scores: HashMap::new(), file_scores: HashMap::new() };
    let search_options = SearchOptions {
        limit: LEXICAL_DEPTH,
        languages: request.languages.clone(),
        paths: request.path_filters.clone(),
    };

    // Lexical: the whole task, then only its identifiers (issue prose dilutes them).
    let lexical = |query: &str| -> Result<Vec<sextant_index::SearchHit>, IndexError> {
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        index.search_unsnipped(query, &search_options)
    };
    let to_units = |hits: &[sextant_index::SearchHit]| -> Vec<(Unit, String)> {
        hits.iter()
            .filter_map(|hit| {
                let file = index.file_by_path(&hit.path)?;
                Some((unit_at(file, hit.start_line)?, "lexical match".to_string()))
            })
            .collect()
    };
    let task_hits = lexical(&request.task)?;
    let lexical_task = to_units(&task_hits);
    fusion.add_list(WEIGHTS.lexical_task, &lexical_task);
    // Whole-file lexical evidence: the sum of a file's chunk scores, so files that match throughout rank high.
    let mut file_totals: HashMap<u32, f32> = HashMap::new();
    for hit in &task_hits {
        if let Some(file) = index.file_id(&hit.path) {
            *file_totals.entry(file).or_insert(0.0) += hit.score;
        }
    }
    let mut lexical_files: Vec<(u32, f32)> = file_totals.into_iter().collect();
    lexical_files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fusion.add_file_list(WEIGHTS.lexical_files, &lexical_files.iter().map(|(f, _)| *f).collect::<Vec<_>>());
    // Paths whose directories and file names echo the task's words ("fix the env filter parser" and
    // `filter/env/parser.rs`), weighted by how rare each path term is.
    let mut task_terms: HashSet<String> = HashSet::new();
    for word in terms.words.iter().chain(terms.identifiers.iter()) {
        sextant_index::for_each_path_term(word, |t| {
            if t.len() >= 3 {
                task_terms.insert(t);
            }
        });
    }
    let mut by_path = index.path_terms().rank_files(&task_terms);
    by_path.retain(|(f, _)| allowed(*f));
    by_path.truncate(200);
    fusion.add_file_list(WEIGHTS.path_terms, &by_path.iter().map(|(f, _)| *f).collect::<Vec<_>>());
    let lexical_identifiers = to_units(&lexical(&terms.identifiers.join(" "))?);
    fusion.add_list(WEIGHTS.lexical_identifiers, &lexical_identifiers);

    // Dense: chunks whose embedding is nearest the task's, and their files in order of first appearance.
    let semantic: Vec<(Unit, String)> = request
        .semantic_hits
        .iter()
        .filter_map(|(path, line)| {
            let file = index.file_by_path(path).filter(|f| allowed(f.id()))?;
            Some((unit_at(file, *line)?, "semantic match".to_string()))
        })
        .collect();
    fusion.add_list(WEIGHTS.semantic, &semantic);
    let mut semantic_files: Vec<u32> = Vec::new();
    for ((file, _), _) in &semantic {
        if !semantic_files.contains(file) {
            semantic_files.push(*file);
        }
    }
    fusion.add_file_list(WEIGHTS.semantic_files, &semantic_files);

    // Symbol names: definitions named exactly like an identifier (strong) or a word (weak) of the task.
    let mut seeds: Vec<(Node, f32)> = Vec::new();
    let symbol_matches = |names: &[String], seeds: &mut Vec<(Node, f32)>, seed_weight: f32| -> Vec<(Unit, String)> {
        let mut list = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let mut ids: Vec<SymbolId> =
                index.symbols_named(name).iter().copied().filter(|id| allowed(id.file)).collect();
            if ids.is_empty() || ids.len() > MAX_DEFINITIONS_PER_NAME {
                continue;
            }
            ids.sort_by(|a, b| index.graph().symbol_rank(*b).total_cmp(&index.graph().symbol_rank(*a)).then(a.cmp(b)));
            for id in ids {
                seeds.push((Node::Symbol(id), seed_weight / (1.0 + position as f32 * 0.1)));
                if let Some(unit) = symbol_unit(index, id) {
                    list.push((unit, format!("defines `{name}`")));
                }
            }
        }
        list
    };
    let by_identifier = symbol_matches(&terms.identifiers, &mut seeds, 2.0);
    fusion.add_list(WEIGHTS.symbol_identifier, &by_identifier);
    let by_word = symbol_matches(&terms.words, &mut seeds, 0.5);
    // Compound names whose every part the task mentions (`check_token` for "check the bearer token").
    let mentioned_parts: HashSet<String> =
        terms.words.iter().chain(terms.identifiers.iter()).map(|w| w.to_lowercase()).collect();
    let compound: Vec<String> = index
        .compound_names()
        .iter()
        .filter(|(name, parts)| parts.iter().all(|p| mentioned_parts.contains(p)) && !terms.identifiers.contains(name))
        .map(|(name, _)| name.clone())
        .collect();
    let by_compound = symbol_matches(&compound, &mut seeds, 1.0);
    fusion.add_list(WEIGHTS.symbol_identifier, &by_compound);
    fusion.add_list(WEIGHTS.symbol_word, &by_word);

    // Paths: files named in the task, by path suffix or by file name.
    let path_files = |paths: &[String]| -> Vec<u32> {
        let mut files = Vec::new();
        for wanted in paths {
            let wanted = wanted.trim_matches('/');
            for file in index.indexed_files() {
                let path = file.path();
                let matches = path == wanted
                    || path.ends_with(&format!("/{wanted}"))
                    || (!wanted.contains('.') && path.starts_with(&format!("{wanted}/")));
                if matches && allowed(file.id()) && !files.contains(&file.id()) {
                    files.push(file.id());
                }
            }
        }
        files
    };
    let file_units = |files: &[u32], reason: &str| -> Vec<(Unit, String)> {
        let mut list = Vec::new();
        for file in files.iter().filter_map(|&f| index.file(f)) {
            // A named file contributes its most central chunks first.
            let mut chunks: Vec<(u32, f32)> = (0u32..)
                .zip(file.chunks())
                .map(|(c, chunk)| {
                    let centrality = file
                        .symbols_starting_in(chunk.span.start_line..=chunk.span.end_line)
                        .map(|(id, _)| index.graph().symbol_rank(id))
                        .fold(0.0f32, f32::max);
                    (c, centrality)
                })
                .collect();
            chunks.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            list.extend(chunks.into_iter().take(4).map(|(c, _)| ((file.id(), c), reason.to_string())));
        }
        list
    };
    let named_files = path_files(&terms.paths);
    for &f in &named_files {
        seeds.push((Node::File(f), 1.5));
    }
    fusion.add_list(WEIGHTS.path, &file_units(&named_files, "path named in the task"));
    fusion.add_file_list(WEIGHTS.path, &named_files);

    // Explicit mentions and open files.
    let (mentioned_files, open_files) = (path_files(&request.mentioned_paths), path_files(&request.open_files));
    let mut mentioned = file_units(&mentioned_files, "mentioned path");
    mentioned.extend(file_units(&open_files, "open file"));
    for &f in mentioned_files.iter().chain(open_files.iter()) {
        seeds.push((Node::File(f), 3.0));
    }
    for name in &request.mentioned_symbols {
        for id in index.find_symbol_ids(name) {
            if allowed(id.file) {
                seeds.push((Node::Symbol(id), 3.0));
                if let Some(unit) = symbol_unit(index, id) {
                    mentioned.push((unit, format!("mentioned symbol `{name}`")));
                }
            }
        }
    }
    fusion.add_list(WEIGHTS.mentioned, &mentioned);

    // The symbols defined in the best lexical hits seed the graph too.
    for (rank, ((file, chunk), _)) in lexical_task.iter().chain(lexical_identifiers.iter()).take(20).enumerate() {
        let Some(file) = index.file(*file) else { continue };
        let Some(chunk) = file.chunks().get(*chunk as usize) else { continue };
        let weight = 1.0 / (1.0 + rank as f32);
        let mut any = false;
        for (id, _) in file.symbols_starting_in(chunk.span.start_line..=chunk.span.end_line) {
            seeds.push((Node::Symbol(id), weight));
            any = true;
        }
        if !any {
            seeds.push((Node::File(file.id()), weight));
        }
    }

    // Graph: personalised PageRank around the seeds.
    let mut graph_scores = HashMap::new();
    if !seeds.is_empty() {
        let personalized = index.graph().personalized_rank(&seeds, GRAPH_DEPTH * 4);
        let mut symbols: Vec<(SymbolId, f32)> = Vec::new();
        let mut files: Vec<(u32, f32)> = Vec::new();
        for (node, score) in personalized {
            match node {
                Node::Symbol(id) if allowed(id.file) => symbols.push((id, score)),
                Node::File(f) if allowed(f) => files.push((f, score)),
                _ => {}
            }
        }
        symbols.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        symbols.truncate(GRAPH_DEPTH);
        let list: Vec<(Unit, String)> = symbols
            .iter()
            .filter_map(|(id, _)| {
                let (_, symbol) = index.symbol(*id)?;
                Some((symbol_unit(index, *id)?, format!("graph neighbour `{}`", symbol.qualified_name)))
            })
            .collect();
        fusion.add_list(WEIGHTS.graph, &list);
        fusion.add_file_list(WEIGHTS.graph, &files.iter().take(GRAPH_DEPTH).map(|(f, _)| *f).collect::<Vec<_>>());
        graph_scores = symbols.into_iter().collect();
    }

    let mut units: Vec<UnitScore> = fusion
        .scores
        .into_iter()
        .filter(|((file, _), _)| allowed(*file))
        .map(|((file, chunk), (score, mut reasons))| {
            reasons.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut names: Vec<String> = Vec::new();
            for (_, reason) in reasons {
                if !names.contains(&reason) {
                    names.push(reason);
                }
            }
            UnitScore { file, chunk, score, reasons: names }
        })
        .collect();
    units.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.file.cmp(&b.file)).then(a.chunk.cmp(&b.chunk)));

    // Files: their best units, with diminishing credit for more, plus file-level signals.
    let mut per_file: HashMap<u32, Vec<f32>> = HashMap::new();
    for unit in &units {
        per_file.entry(unit.file).or_default().push(unit.score);
    }
    let mut files: Vec<(u32, f32)> = per_file
        .into_iter()
        .map(|(file, scores)| {
            let unit_part: f32 = scores.iter().take(3).enumerate().map(|(i, s)| s / (1 << i) as f32).sum();
            (file, unit_part + fusion.file_scores.get(&file).copied().unwrap_or(0.0))
        })
        .collect();
    for (file, score) in &fusion.file_scores {
        if !files.iter().any(|(f, _)| f == file) {
            files.push((*file, *score));
        }
    }
    files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    let mut by_unit: HashMap<Unit, usize> = units.iter().enumerate().map(|(i, u)| ((u.file, u.chunk), i)).collect();
    for (position, (file, file_score)) in files.iter().take(EXPANDED_FILES).enumerate() {
        let prior = file_score * FILE_PRIOR;
        let chunk_count = index.file(*file).map_or(0, |f| f.chunks().len() as u32);
        for chunk in 0..chunk_count {
            match by_unit.get(&(*file, chunk)) {
                Some(&i) => units[i].score += prior,
                None => {
                    by_unit.insert((*file, chunk), units.len());
                    units.push(UnitScore {
                        file: *file,
                        chunk,
                        score: prior,
                        reasons: vec![format!("in the #{} ranked file", position + 1)],
                    });
                }
            }
        }
    }
    units.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.file.cmp(&b.file)).then(a.chunk.cmp(&b.chunk)));
    Ok(Ranking { units, files, graph_scores })
}
