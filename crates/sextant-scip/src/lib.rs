//! Precise graph edges from SCIP indexes.
//!
//! SCIP (<https://github.com/scip-code/scip>) is the index format of the languages' own indexers (scip-python,
//! scip-typescript, rust-analyzer's `scip`, scip-java, scip-go). Each document lists occurrences: a range, a global
//! symbol, and whether the occurrence defines it. Where a repository has such an index, its references are exact
//! where Sextant's tree-sitter linker can only match names.
//!
//! [`ScipIndex::precise_edges`] maps an index onto the symbols Sextant extracted: a SCIP definition becomes the
//! extracted symbol of the same name whose span holds its line, and every reference to it becomes a `calls` edge
//! (the file has a call of that name on that line) or a `references` edge, from where the extractor placed that
//! mention (else the innermost extracted symbol around it). [`PreciseEdges::apply`] then replaces the heuristic `calls`/`references` edges between the files the
//! index covers; edges from or into other files stay, and so do import and containment edges.
//!
//! An index older than the files is detected per document: when most of its type and method definitions no
//! longer land on an extracted symbol of that name, the document is stale: its file counts as not covered.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use protobuf::Message;
use scip::types::descriptor::Suffix;
use scip::types::SymbolRole;
use sextant_graph::{Edge, EdgeKind, GraphData, GraphInput, Node, SymbolId};
use sextant_syntax::{FileFacts, RefKind};

/// SCIP files larger than this are refused (with an error) rather than read into memory.
pub const MAX_SCIP_BYTES: u64 = 1 << 30;

/// A reference this close below the start of a same-named definition (decorators, then the name) is that definition
/// naming itself again.
const REDEFINITION_HEADER_LINES: u32 = 2;

/// A document needs at least this many type and method definitions before it can be judged stale.
const STALE_MIN_DEFINITIONS: usize = 4;

/// What can go wrong while reading a SCIP index.
#[derive(Debug, thiserror::Error)]
pub enum ScipError {
    /// The file could not be read.
    #[error("cannot read SCIP index {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is too large to read.
    #[error("SCIP index {path} is {bytes} bytes, over the {MAX_SCIP_BYTES}-byte limit")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The bytes are not a SCIP index.
    #[error("{path} is not a SCIP index: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        message: String,
    },
}

/// An occurrence kept from a SCIP document: its first line (1-based) and its symbol.
struct Occurrence {
    line: u32,
    /// Index into [`ScipIndex::symbols`].
    symbol: u32,
    definition: bool,
}

struct Document {
    /// Repository-relative path with `/` separators.
    path: String,
    occurrences: Vec<Occurrence>,
}

/// The last descriptor of a global symbol: the name its definition has in the source.
struct SymbolName {
    name: String,
    suffix: Suffix,
}

/// The parts of one or more SCIP indexes that the graph uses: per document, the occurrences of global symbols.
pub struct ScipIndex {
    documents: Vec<Document>,
    symbols: Vec<SymbolName>,
    fingerprint: u64,
}

impl ScipIndex {
    /// Reads and merges the SCIP indexes at `paths` (documents of the same path: the first file's wins).
    pub fn read(paths: &[PathBuf]) -> Result<ScipIndex, ScipError> {
        let mut merged = ScipIndex { documents: Vec::new(), symbols: Vec::new(), fingerprint: 0 };
        let mut interned: HashMap<String, u32> = HashMap::new();
        let mut seen_paths: HashSet<String> = HashSet::new();
        for path in paths {
            let read_error = |source| ScipError::Read { path: path.clone(), source };
            let bytes = std::fs::metadata(path).map_err(read_error)?.len();
            if bytes > MAX_SCIP_BYTES {
                return Err(ScipError::TooLarge { path: path.clone(), bytes });
            }
            let data = std::fs::read(path).map_err(read_error)?;
            merged.add(&data, path, &mut interned, &mut seen_paths)?;
        }
        Ok(merged)
    }

    /// Decodes one SCIP index from memory (`origin` names it in errors).
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<ScipIndex, ScipError> {
        let mut index = ScipIndex { documents: Vec::new(), symbols: Vec::new(), fingerprint: 0 };
        index.add(bytes, origin, &mut HashMap::new(), &mut HashSet::new())?;
        Ok(index)
    }

    fn add(
        &mut self,
        bytes: &[u8],
        origin: &Path,
        interned: &mut HashMap<String, u32>,
        seen_paths: &mut HashSet<String>,
    ) -> Result<(), ScipError> {
        let proto = scip::types::Index::parse_from_bytes(bytes)
            .map_err(|e| ScipError::Decode { path: origin.to_path_buf(), message: e.to_string() })?;
        self.fingerprint = self.fingerprint.rotate_left(5) ^ xxhash_rust::xxh3::xxh3_64(bytes);
        let definition_role = SymbolRole::Definition as i32;
        let import_role = SymbolRole::Import as i32;
        for document in proto.documents {
            let path = normalise_path(&document.relative_path);
            if path.is_empty() || !seen_paths.insert(path.clone()) {
                continue;
            }
            let mut occurrences = Vec::with_capacity(document.occurrences.len());
            for occurrence in document.occurrences {
                // Imports are linked by the import resolver; locals never leave their file.
                let roles = occurrence.symbol_roles;
                let (Some(&line), false) = (occurrence.range.first(), roles & import_role != 0) else { continue };
                if line < 0 || occurrence.symbol.is_empty() || scip::symbol::is_local_symbol(&occurrence.symbol) {
                    continue;
                }
                let symbol = match interned.get(&occurrence.symbol) {
                    Some(&id) => id,
                    None => {
                        let Some(name) = symbol_name(&occurrence.symbol) else { continue };
                        let id = self.symbols.len() as u32;
                        self.symbols.push(name);
                        interned.insert(occurrence.symbol, id);
                        id
                    }
                };
                occurrences.push(Occurrence {
                    line: line as u32 + 1,
                    symbol,
                    definition: roles & definition_role != 0,
                });
            }
            self.documents.push(Document { path, occurrences });
        }
        Ok(())
    }

    /// A hash of the index files read: a changed index changes it.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Documents read.
    pub fn document_count(&self) -> usize {
        self.documents.len()
    }

    /// The precise edges of `files` (the linker's inputs, in its order): which files the index covers and their
    /// `calls`/`references` edges.
    pub fn precise_edges(&self, files: &[GraphInput<'_>]) -> PreciseEdges {
        let file_index: HashMap<&str, u32> = files.iter().enumerate().map(|(i, f)| (f.path, i as u32)).collect();
        let mut covered = vec![false; files.len()];
        let mut stale_documents = Vec::new();
        let mut definitions: HashMap<u32, Vec<SymbolId>> = HashMap::new();
        let mut documents: Vec<(u32, &Document)> = Vec::new();
        for document in &self.documents {
            let Some(&file) = file_index.get(document.path.as_str()) else { continue };
            let facts = files[file as usize].facts;
            let (mut judged, mut landed) = (0usize, 0usize);
            let mut found = Vec::new();
            for occurrence in document.occurrences.iter().filter(|o| o.definition) {
                let name = &self.symbols[occurrence.symbol as usize];
                let symbol = innermost_symbol(facts, occurrence.line, Some(&name.name));
                if matches!(name.suffix, Suffix::Type | Suffix::Method) {
                    judged += 1;
                    landed += usize::from(symbol.is_some());
                }
                if let Some(symbol) = symbol {
                    found.push((occurrence.symbol, SymbolId { file, symbol }));
                }
            }
            if judged >= STALE_MIN_DEFINITIONS && landed * 2 < judged {
                stale_documents.push(document.path.clone());
                continue;
            }
            covered[file as usize] = true;
            for (symbol, id) in found {
                definitions.entry(symbol).or_default().push(id);
            }
            documents.push((file, document));
        }
        // A symbol defined more than once (overloads: `@overload` stubs, TypeScript signatures) is one entity; its
        // references go to the last definition, the implementation, and the others are its aliases.
        let mut aliases = HashMap::new();
        let definitions: HashMap<u32, SymbolId> = definitions
            .into_iter()
            .filter_map(|(symbol, ids)| {
                let canonical = *ids.last()?;
                aliases.extend(ids.into_iter().filter(|id| *id != canonical).map(|id| (id, canonical)));
                Some((symbol, canonical))
            })
            .collect();

        let mut edges = Vec::new();
        let mut call_sites = Vec::new();
        let mut seen: HashSet<(Node, Node, EdgeKind)> = HashSet::new();
        for (file, document) in documents {
            let facts = files[file as usize].facts;
            let calls: HashSet<(u32, &str)> = facts
                .references
                .iter()
                .filter(|r| r.kind == RefKind::Call)
                .map(|r| (r.line, r.name.as_str()))
                .collect();
            // Where the extractor put a mention: its enclosing symbol says where the code runs (a decorator runs
            // where its function is defined, not inside it).
            let mut enclosing: HashMap<(u32, &str), Option<u32>> = HashMap::new();
            for reference in &facts.references {
                enclosing.entry((reference.line, reference.name.as_str())).or_insert(reference.enclosing);
            }
            for occurrence in document.occurrences.iter().filter(|o| !o.definition) {
                let name = &self.symbols[occurrence.symbol as usize].name;
                let Some(&target) = definitions.get(&occurrence.symbol) else {
                    if calls.contains(&(occurrence.line, name.as_str())) {
                        call_sites.push(CallSite { file, line: occurrence.line, name: name.clone(), target: None });
                    }
                    continue;
                };
                let Some(target_symbol) = files[target.file as usize].facts.symbols.get(target.symbol as usize) else {
                    continue;
                };
                // A redefinition of the same entity (Python's `@overload` stubs and implementation after the first
                // definition, which scip-python records as references to it): an alias, not a use.
                if let Some(own) = innermost_symbol(facts, occurrence.line, Some(&target_symbol.name)) {
                    let own_id = SymbolId { file, symbol: own };
                    let header = facts.symbols[own as usize].span.start_line;
                    let is_call = calls.contains(&(occurrence.line, target_symbol.name.as_str()));
                    if own_id != target && occurrence.line <= header + REDEFINITION_HEADER_LINES && !is_call {
                        aliases.insert(own_id, target);
                        continue;
                    }
                }
                let source = match enclosing.get(&(occurrence.line, target_symbol.name.as_str())) {
                    Some(known) => *known,
                    None => innermost_symbol(facts, occurrence.line, None),
                };
                let from = match source {
                    Some(symbol) => Node::Symbol(SymbolId { file, symbol }),
                    None => Node::File(file),
                };
                // A call of that name on that line, to something callable (`dayjs.locale(locale)` also mentions the
                // constant `locale`, which is not what is called).
                let callable = target_symbol.kind.is_callable() || target_symbol.kind.is_type_like();
                let kind = match callable && calls.contains(&(occurrence.line, target_symbol.name.as_str())) {
                    true => EdgeKind::Calls,
                    false => EdgeKind::References,
                };
                if kind == EdgeKind::Calls {
                    call_sites.push(CallSite { file, line: occurrence.line, name: name.clone(), target: Some(target) });
                }
                let to = Node::Symbol(target);
                if seen.insert((from, to, kind)) {
                    edges.push(Edge { from, to, kind, weight: 1.0 });
                }
            }
        }
        edges.sort_unstable_by_key(|e| (e.from, e.to, e.kind));
        PreciseEdges { covered, edges, stale_documents, aliases, call_sites }
    }
}

/// What a SCIP index says about one link's files.
#[derive(Debug, Clone)]
pub struct PreciseEdges {
    /// Per input file: whether the index covers it (its `calls`/`references` edges are these).
    pub covered: Vec<bool>,
    /// The `calls`/`references` edges of the covered files, weight 1.
    pub edges: Vec<Edge>,
    /// Documents of indexed files whose definitions no longer match the files (the index is older than them).
    pub stale_documents: Vec<String>,
    /// Extracted symbols that are further definitions of one SCIP symbol (overloads) → the definition its
    /// references link to.
    pub aliases: HashMap<SymbolId, SymbolId>,
    /// The calls the index resolved in covered files (where the extractor saw a call of that name), each with its
    /// target: what a precision measurement compares a linker with, call by call.
    pub call_sites: Vec<CallSite>,
}

/// A call the SCIP index resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSite {
    /// The calling file (index into the linker's inputs).
    pub file: u32,
    /// Line of the call (1-based).
    pub line: u32,
    /// The name called.
    pub name: String,
    /// The definition called; `None` for one outside the repository (a library's, a builtin).
    pub target: Option<SymbolId>,
}

impl PreciseEdges {
    /// Files the index covers.
    pub fn covered_files(&self) -> usize {
        self.covered.iter().filter(|c| **c).count()
    }

    /// Replaces the `calls`/`references` edges between covered files with the precise ones. An edge into a file
    /// the index does not cover (not indexed by it, or stale) stays: the index cannot say where such a reference
    /// goes.
    pub fn apply(self, data: &mut GraphData) {
        let covered = |node: Node| file_of(node).is_some_and(|f| self.covered.get(f as usize) == Some(&true));
        data.edges.retain(|edge| {
            let uses = matches!(edge.kind, EdgeKind::Calls | EdgeKind::References);
            !(uses && covered(edge.from) && covered(edge.to))
        });
        data.edges.extend(self.edges);
    }
}

/// The file a node lies in (`None` for a module).
pub fn file_of(node: Node) -> Option<u32> {
    match node {
        Node::File(f) => Some(f),
        Node::Symbol(id) => Some(id.file),
        Node::Module(_) => None,
    }
}

/// The innermost extracted symbol whose span holds `line` (named `name`, when given).
fn innermost_symbol(facts: &FileFacts, line: u32, name: Option<&str>) -> Option<u32> {
    facts
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.span.start_line <= line && line <= s.span.end_line)
        .filter(|(_, s)| name.is_none_or(|n| s.name == n))
        .min_by_key(|(i, s)| (s.span.end_line.saturating_sub(s.span.start_line), usize::MAX - i))
        .map(|(i, _)| i as u32)
}

/// The name and kind of a global symbol's last descriptor (`run` of `… flask/app.py/Flask#run().`); `None` for a
/// symbol that does not parse or names no source entity (a package, a parameter).
fn symbol_name(symbol: &str) -> Option<SymbolName> {
    let parsed = scip::symbol::parse_symbol(symbol).ok()?;
    let last = parsed.descriptors.last()?;
    let suffix = last.suffix.enum_value().ok()?;
    match suffix {
        Suffix::Type | Suffix::Term | Suffix::Method | Suffix::Macro => {}
        _ => return None,
    }
    (!last.name.is_empty()).then(|| SymbolName { name: last.name.clone(), suffix })
}

/// `./src\\a.py` → `src/a.py`.
fn normalise_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.trim_start_matches("./").to_string()
}
