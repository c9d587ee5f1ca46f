//! Token-budgeted context packs.
//!
//! A pack answers "what should an agent read for this task?" within an exact token budget. Ranking fuses, with
//! weighted reciprocal-rank fusion, several views of the task: BM25 over the whole text, BM25 over the code-like
//! identifiers in it, exact symbol-name matches, path and file-name matches, mentioned paths/symbols/open files,
//! and a personalised PageRank over the symbol graph seeded by all of those (so the callers, callees and
//! definitions around what matched rise too). Packing then takes whole syntax units (functions, methods,
//! classes — the index's chunks) in score order, adds signature skeletons of their graph neighbours, never
//! repeats a line, and counts the rendered Markdown exactly with the chosen BPE tokenizer.

mod context;
pub mod learned;
mod rank;
mod render;
mod terms;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use sextant_index::{Index, IndexError, PathFilter};
use sextant_overview::{rules, Overview};

pub use rank::{rank, FileFeatures, RankProfiles, RankWeights, Ranking, UnitScore, UNIT_SIGNALS};
pub use terms::{retrieval_text, TaskTerms};

/// The BPE vocabulary tokens are counted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum TokenizerChoice {
    /// OpenAI o200k_base (GPT-4o and later).
    #[default]
    O200kBase,
    /// OpenAI cl100k_base (GPT-4, GPT-3.5).
    Cl100kBase,
}

impl TokenizerChoice {
    /// Parses `o200k_base` / `cl100k_base`.
    pub fn from_name(name: &str) -> Option<TokenizerChoice> {
        match name {
            "o200k_base" | "o200k" => Some(TokenizerChoice::O200kBase),
            "cl100k_base" | "cl100k" => Some(TokenizerChoice::Cl100kBase),
            _ => None,
        }
    }

    /// Exact token count of `text`: the sum of the counts of its pre-tokenizer pieces (what
    /// `bpe_openai::Tokenizer::count` computes; neither vocabulary normalises), with each distinct piece counted
    /// once per thread. Code repeats its identifiers, keywords and indentation, so most pieces are looked up,
    /// not encoded again; a pack at 32k tokens counts its text several times while it fills.
    pub fn count(self, text: &str) -> usize {
        self.count_within(text, usize::MAX).unwrap_or(usize::MAX)
    }

    /// [`TokenizerChoice::count`] when it is at most `limit`, else `None`, found without reading past the piece
    /// that crosses the limit: a pack learns that a large candidate does not fit for the price of what is left
    /// of its budget, not of the candidate.
    pub fn count_within(self, text: &str, limit: usize) -> Option<usize> {
        let tokenizer = match self {
            TokenizerChoice::O200kBase => bpe_openai::o200k_base(),
            TokenizerChoice::Cl100kBase => bpe_openai::cl100k_base(),
        };
        PIECE_COUNTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            let counts = &mut cache[self as usize];
            if counts.len() > MAX_CACHED_PIECES {
                counts.clear();
            }
            let mut total = 0usize;
            for piece in tokenizer.split(text) {
                total += match counts.get(piece) {
                    Some(&count) => count as usize,
                    None => {
                        let count = tokenizer.bpe.count(piece.as_bytes());
                        if piece.len() <= MAX_CACHED_PIECE_BYTES {
                            counts.insert(piece.into(), count as u32);
                        }
                        count
                    }
                };
                if total > limit {
                    return None;
                }
            }
            Some(total)
        })
    }
}

/// Distinct pieces remembered per thread and vocabulary before the cache starts over.
const MAX_CACHED_PIECES: usize = 200_000;
/// Longer pieces (long runs of symbols or spaces) are rare and not remembered.
const MAX_CACHED_PIECE_BYTES: usize = 64;

/// Token counts of pre-tokenizer pieces. The keys are short and looked up once per piece of every text counted:
/// foldhash hashes them several times faster than the default SipHash.
type PieceCounts = HashMap<Box<str>, u32, foldhash::fast::RandomState>;

thread_local! {
    /// Token counts of pre-tokenizer pieces, per vocabulary (indexed by `TokenizerChoice as usize`).
    static PIECE_COUNTS: std::cell::RefCell<[PieceCounts; 2]> = Default::default();
}

/// Largest budget accepted (a pack bigger than any context window helps nobody).
pub const MAX_BUDGET: usize = 1_000_000;
/// Longest task accepted, in bytes.
pub const MAX_TASK_BYTES: usize = 200_000;

/// What a pack is for.
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    /// The task in natural language.
    pub task: String,
    /// Token budget of the rendered pack.
    pub budget: usize,
    /// How tokens are counted.
    pub tokenizer: TokenizerChoice,
    /// Repository-relative paths the task mentions.
    pub mentioned_paths: Vec<String>,
    /// Symbols the task mentions.
    pub mentioned_symbols: Vec<String>,
    /// Files the user has open.
    pub open_files: Vec<String>,
    /// Only these languages; empty for all.
    pub languages: Vec<String>,
    /// Only files under these paths; empty for all.
    pub path_filters: Vec<String>,
    /// Add the overview excerpt of the module the task is most about (needs an overview).
    pub include_overview: bool,
    /// Add the rule files that govern the included code (needs an overview).
    pub include_rules: bool,
    /// Chunks nearest in meaning to the task, best first, as (path, start line): the dense signal, computed by a
    /// caller that has vectors (this crate does not embed). Empty: ranking without it.
    pub semantic_hits: Vec<(String, u32)>,
    /// Files whose cards (path and definition signatures) are nearest in meaning to the task, best first: the
    /// file-level dense signal, which exists before chunk vectors do. Empty: ranking without it.
    pub semantic_file_hits: Vec<String>,
    /// How the ranking weighs its signals, for short and long tasks; the defaults are the tuned ones.
    pub weights: RankProfiles,
    /// Record each candidate file's evidence by signal in [`Ranking::file_features`] (for learning how to fuse the
    /// signals offline; `eval-runner --features`).
    pub record_features: bool,
}

/// Share of the budget the overview excerpt may take.
const OVERVIEW_SHARE: f64 = 0.10;
/// Share of the budget rule files may take.
const RULES_SHARE: f64 = 0.15;

/// What an item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ItemKind {
    /// A whole unit of code.
    Code,
    /// Signatures of a neighbour, bodies elided.
    Skeleton,
    /// An excerpt of an overview.
    Overview,
    /// A rule file that governs included code.
    Rule,
}

impl ItemKind {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Code => "code",
            ItemKind::Skeleton => "skeleton",
            ItemKind::Overview => "overview",
            ItemKind::Rule => "rule",
        }
    }
}

/// One item of a pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackItem {
    /// Repository-relative path.
    pub path: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// The symbol the item is about (qualified), or empty.
    pub symbol: String,
    /// What it holds.
    pub kind: ItemKind,
    /// Fused relevance score.
    pub score: f32,
    /// Exact tokens of `content` with the pack's tokenizer.
    pub tokens: u32,
    /// Why it was included.
    pub reason: String,
    /// The rendered Markdown of this item.
    pub content: String,
}

/// A finished pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextPack {
    /// Items in order of importance (the order they appear in `text`).
    pub items: Vec<PackItem>,
    /// The whole pack, ready to paste.
    pub text: String,
    /// Exact tokens of `text`.
    pub tokens: usize,
    /// The budget asked for.
    pub budget: usize,
    /// Files by relevance (more than the pack holds).
    pub ranked_files: Vec<String>,
    /// Generation of the index the pack was built from.
    pub generation: u64,
}

/// Errors building a pack.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The task is empty.
    #[error("the task is empty; describe what needs to be done")]
    EmptyTask,
    /// The task is too long.
    #[error("the task is {0} bytes; the limit is {MAX_TASK_BYTES}")]
    TaskTooLong(usize),
    /// The budget is zero or too large.
    #[error("budget {0} is out of range (1..={MAX_BUDGET})")]
    BadBudget(usize),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Builds the context pack for `request` from `index`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use sextant_config::Config;
/// use sextant_index::{index_repository, Index, IndexOptions, NoProgress};
/// use sextant_pack::{build_pack, PackRequest};
///
/// let repo = tempfile::tempdir()?;
/// std::fs::write(
///     repo.path().join("tax.py"),
///     "def apply_tax(amount):\n    \"\"\"Adds VAT to an amount.\"\"\"\n    return amount * 1.2\n",
/// )?;
/// let index_dir = tempfile::tempdir()?;
/// let config = Config::defaults()?;
/// index_repository(
///     &IndexOptions { root: repo.path(), index_dir: index_dir.path(), config: &config, force: false },
///     &NoProgress,
/// )?;
/// let index = Index::open(index_dir.path())?;
///
/// let pack = build_pack(&index, &PackRequest { task: "VAT is added twice".into(), budget: 300, ..Default::default() })?;
/// assert!(pack.tokens <= 300);
/// assert_eq!(pack.items[0].symbol, "apply_tax");
/// assert!(pack.text.contains("def apply_tax(amount):"));
/// # Ok(()) }
/// ```
pub fn build_pack(index: &Index, request: &PackRequest) -> Result<ContextPack, PackError> {
    build_pack_with(index, request, None)
}

/// Builds the context pack, adding the overview excerpt and the applicable rule files when the request asks for
/// them and `overview` is given. Those come first in the pack and take at most 10% and 15% of the budget.
pub fn build_pack_with(
    index: &Index,
    request: &PackRequest,
    overview: Option<&Overview>,
) -> Result<ContextPack, PackError> {
    if request.task.trim().is_empty() && request.mentioned_paths.is_empty() && request.mentioned_symbols.is_empty() {
        return Err(PackError::EmptyTask);
    }
    if request.task.len() > MAX_TASK_BYTES {
        return Err(PackError::TaskTooLong(request.task.len()));
    }
    if request.budget == 0 || request.budget > MAX_BUDGET {
        return Err(PackError::BadBudget(request.budget));
    }
    let root = Path::new(index.root());
    let mut sources = SourceCache::new(root, index);
    let ranking = rank::rank_reading(index, request, &mut sources)?;
    let ranked_files: Vec<String> =
        ranking.files.iter().filter_map(|(f, _)| index.file(*f)).map(|file| file.path().to_string()).collect();
    let tokenizer = request.tokenizer;

    let mut leading: Vec<PackItem> = Vec::new();
    if let Some(overview) = overview {
        if request.include_overview {
            let allowance = (request.budget as f64 * OVERVIEW_SHARE) as usize;
            if let Some(item) =
                context::overview_item(overview, ranked_files.first().map(String::as_str), allowance, tokenizer)
            {
                leading.push(item);
            }
        }
        if request.include_rules {
            let allowance = (request.budget as f64 * RULES_SHARE) as usize;
            leading.extend(context::rule_items(overview, &ranked_files, allowance, tokenizer));
        }
    }
    let reserved = tokens_with_separators(&leading);
    let code_request = PackRequest { budget: request.budget.saturating_sub(reserved), ..request.clone() };
    let candidates = render::candidates(index, &ranking, request, false);
    let code =
        if code_request.budget > 0 { render::fill(index, &mut sources, candidates, &code_request) } else { Vec::new() };
    if let Some(overview) = overview {
        // Keep only rules that govern something the pack actually contains.
        leading.retain(|item| {
            item.kind != ItemKind::Rule
                || code
                    .iter()
                    .any(|c| rules::applicable(&overview.rules, &c.path).iter().any(|r| r.source == item.path))
        });
    }
    let leading_tokens = tokens_with_separators(&leading);
    let weights = request.weights.for_task(&request.task);
    let mut code =
        render::nest(code, request.budget, leading_tokens, weights.nested_prefixes, weights.cut_prefix, tokenizer);
    let mut items = leading;
    items.append(&mut code);
    let (items, text, tokens) = render::verify(items, request.budget, tokenizer);
    Ok(ContextPack { items, text, tokens, budget: request.budget, ranked_files, generation: index.generation() })
}

/// Tokens `items` take in the rendered pack, one separator token each: what overview and rules leave to the code.
fn tokens_with_separators(items: &[PackItem]) -> usize {
    items.iter().map(|i| i.tokens as usize + 1).sum()
}

/// A code candidate of a pack with what the learned chunk order reads of it (for learning that order offline:
/// `eval-runner --chunk-features`).
#[derive(Debug, Clone, Serialize)]
pub struct ChunkCandidate {
    /// Repository-relative path.
    pub path: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// Exact tokens of the rendered code item.
    pub tokens: u32,
    /// The features, in the order of [`learned::CHUNK_FEATURE_NAMES`].
    pub features: Vec<f32>,
}

/// The first code candidates of the pack for `request`, in the order the fill would take them, with their
/// features (skeletons and code that cannot be read as indexed are left out).
pub fn chunk_candidates(index: &Index, request: &PackRequest) -> Result<Vec<ChunkCandidate>, PackError> {
    let mut sources = SourceCache::new(Path::new(index.root()), index);
    let ranking = rank::rank_reading(index, request, &mut sources)?;
    let mut out = Vec::new();
    for mut candidate in render::candidates(index, &ranking, request, true) {
        if candidate.features.is_empty() || !candidate.render(&mut sources) {
            continue;
        }
        let item = candidate.item;
        out.push(ChunkCandidate {
            tokens: request.tokenizer.count(&item.content) as u32,
            path: item.path,
            start_line: item.start_line,
            end_line: item.end_line,
            features: candidate.features,
        });
    }
    Ok(out)
}

/// Whether a file passes the request's language and path filters.
pub(crate) fn file_allowed(index: &Index, request: &PackRequest, paths: &PathFilter, file: u32) -> bool {
    let Some(file) = index.file(file) else { return false };
    let language_ok = request.languages.is_empty() || request.languages.iter().any(|l| l == file.language().name());
    language_ok && paths.matches(file.path())
}

/// File contents read on demand, verified against the indexed hash so a pack never mixes states.
pub(crate) struct SourceCache<'a> {
    root: &'a Path,
    index: &'a Index,
    texts: HashMap<u32, Option<String>>,
    /// Where each line starts, for the files whose lines a pack has cut (merging reads many ranges of one file).
    line_starts: HashMap<u32, Vec<usize>>,
    stale: HashSet<u32>,
}

impl<'a> SourceCache<'a> {
    fn new(root: &'a Path, index: &'a Index) -> SourceCache<'a> {
        SourceCache { root, index, texts: HashMap::new(), line_starts: HashMap::new(), stale: HashSet::new() }
    }

    /// The file's text as indexed, or `None` if it is gone or changed since.
    pub(crate) fn text(&mut self, file: u32) -> Option<&str> {
        let index = self.index;
        let root = self.root;
        let stale = &mut self.stale;
        self.texts
            .entry(file)
            .or_insert_with(|| {
                let indexed = index.file(file)?;
                let bytes = std::fs::read(root.join(indexed.path())).ok()?;
                if sextant_index::content_hash(&bytes) != indexed.hash() {
                    stale.insert(file);
                    return None;
                }
                Some(match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                })
            })
            .as_deref()
    }

    /// The file's text as indexed with where each of its lines starts, or `None` if it is gone or changed since.
    pub(crate) fn text_lines(&mut self, file: u32) -> Option<TextLines<'_>> {
        self.text(file)?;
        let text = self.texts.get(&file)?.as_deref()?;
        let starts = self.line_starts.entry(file).or_insert_with(|| line_starts(text));
        Some(TextLines { text, starts })
    }
}

/// The offset where each line of `text` starts: 0, then one past each line break.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// A file's text with the offset where each line starts (the first is 0).
#[derive(Clone, Copy)]
pub(crate) struct TextLines<'a> {
    text: &'a str,
    starts: &'a [usize],
}

impl<'a> TextLines<'a> {
    /// Lines `start..=end` (1-based; line 0 reads as line 1), each with its line break; empty when `end` comes
    /// before `start`, cut short at the end of the text.
    pub(crate) fn range(&self, start: u32, end: u32) -> &'a str {
        if end < start {
            return "";
        }
        let first = start.saturating_sub(1) as usize;
        let offset = |line: usize| self.starts.get(line).copied().unwrap_or(self.text.len());
        let from = offset(first);
        let to = offset(first + (end - start) as usize + 1);
        &self.text[from..to.max(from)]
    }
}

#[cfg(test)]
mod tests {
    use super::TokenizerChoice;

    #[test]
    fn line_ranges_cut_at_line_starts() {
        let text = "one\ntwo\n\nfour\nfive";
        let starts = super::line_starts(text);
        let lines = super::TextLines { text, starts: &starts };
        assert_eq!(lines.range(1, 1), "one\n");
        assert_eq!(lines.range(2, 4), "two\n\nfour\n");
        assert_eq!(lines.range(3, 3), "\n");
        // The last line has no break; ranges past the end stop at it.
        assert_eq!(lines.range(4, 9), "four\nfive");
        assert_eq!(lines.range(6, 9), "");
        assert_eq!(lines.range(0, 1), "one\ntwo\n");
        assert_eq!(lines.range(3, 2), "");
    }

    #[test]
    fn cached_piece_counts_equal_the_tokenizers_own_count() {
        let long_run = format!("x{}y", " ".repeat(300));
        let texts = [
            "fn main() {\n    let total = items.iter().map(|i| i.price).sum::<u64>();\n}\n",
            "def résumé(naïve):\n\treturn naïve  # 日本語のコメント 🚀\n",
            long_run.as_str(),
            "",
            "class A:\n        pass\n\n\n\n        # trailing   \n",
        ];
        for _ in 0..2 {
            // The second pass answers from the cache.
            for text in texts {
                assert_eq!(TokenizerChoice::O200kBase.count(text), bpe_openai::o200k_base().count(text), "{text:?}");
                assert_eq!(TokenizerChoice::Cl100kBase.count(text), bpe_openai::cl100k_base().count(text), "{text:?}");
            }
        }
    }

    #[test]
    fn counting_within_a_limit_is_exact_up_to_it_and_stops_past_it() {
        let text = "fn main() {\n    let total = items.iter().map(|i| i.price).sum::<u64>();\n}\n".repeat(20);
        let exact = TokenizerChoice::O200kBase.count(&text);
        assert!(exact > 100, "{exact}");
        assert_eq!(TokenizerChoice::O200kBase.count_within(&text, exact), Some(exact));
        assert_eq!(TokenizerChoice::O200kBase.count_within(&text, usize::MAX), Some(exact));
        assert_eq!(TokenizerChoice::O200kBase.count_within(&text, exact - 1), None);
        assert_eq!(TokenizerChoice::O200kBase.count_within(&text, 0), None);
        assert_eq!(TokenizerChoice::O200kBase.count_within("", 0), Some(0));
    }
}
