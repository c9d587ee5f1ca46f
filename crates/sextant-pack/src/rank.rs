//! Ranking the units (chunks) and files of an index for a task by weighted reciprocal-rank fusion.

use std::collections::{BTreeMap, HashMap, HashSet};

use sextant_graph::{Node, SymbolId};
use sextant_index::fusion::rrf;
use sextant_index::{Index, IndexError, IndexedFile, PathFilter, SearchOptions};

use crate::terms::TaskTerms;
use crate::{PackRequest, SourceCache};

/// Names defined more often than this are too common to be a signal (`new`, `get`, `run`).
const MAX_DEFINITIONS_PER_NAME: usize = 12;
/// Hits taken from each lexical query.
const LEXICAL_DEPTH: usize = 200;
/// Dotted names of a task looked up as modules (a stack trace repeats the same few).
const MAX_MODULES: usize = 20;
/// Files taken from each part's whole-file search.
const SEGMENT_DEPTH: usize = 50;
/// Names shared by more files than this are too common to point at one (`mod.rs`, `index.ts`, `utils.py`).
const MAX_FILES_PER_NAME: usize = 6;
/// Symbols taken from the graph ranking.
const GRAPH_DEPTH: usize = 300;
/// Tunable parameters of the ranking: the weight of each signal in the fusion and the file-level adjustments.
/// The defaults are tuned on the development evaluation set (`eval-runner --variants` compares others).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankWeights {
    /// BM25 over the whole task.
    pub lexical_task: f32,
    /// BM25 over the task's identifiers only.
    pub lexical_identifiers: f32,
    /// Definitions named exactly like an identifier of the task (or a compound of its words).
    pub symbol_identifier: f32,
    /// Definitions named like a plain word of the task.
    pub symbol_word: f32,
    /// Definitions of a member the task names with its owner (`Definition::visibility`, `Session.send()`,
    /// `httpx.SetErrorHandler`): the owner is a type around the definition, its file's directory or its file's
    /// stem. Also ranks their files.
    pub qualified_symbol: f32,
    /// Files whose path the task names.
    pub path: f32,
    /// Files of dotted module or class names in the task (`requests.adapters.HTTPAdapter`).
    pub module: f32,
    /// Paths and symbols the caller mentions, and open files.
    pub mentioned: f32,
    /// Personalised PageRank around the seeds.
    pub graph: f32,
    /// Files by their summed BM25 evidence.
    pub lexical_files: f32,
    /// Files whose path terms echo the task's words.
    pub path_terms: f32,
    /// Files by whole-file BM25 over the task (each file one document, its path counting `file_path_weight` times).
    pub file_bm25: f32,
    /// Whole-file BM25's term-frequency saturation (`k1`), for the task, its title and its parts.
    pub file_bm25_k1: f32,
    /// Whole-file BM25's length normalisation (`b`): 0 ignores a file's length, 1 divides by it fully.
    pub file_bm25_b: f32,
    /// In whole-file BM25, a path term counts this many times a body term.
    pub file_path_weight: f32,
    /// In whole-file BM25, a term in the name of a definition the file holds counts this many times a body term
    /// (once per file).
    pub file_symbol_weight: f32,
    /// In whole-file BM25, an indexed word with the English stem of a task word (`parse` for `parsing`) counts
    /// this share of the word itself; 0 matches words only as written.
    pub file_variants: f32,
    /// The same for the chunk-level lexical lists (the task's and its identifiers').
    pub chunk_variants: f32,
    /// Whole-file BM25 over each part of a long task (the items of a bulleted commit message): a file counts by
    /// its best place in any part's list, so every item's file gets a voice instead of the hub files that echo all
    /// of them.
    pub segments: f32,
    /// Whole-file BM25 over the task's first line alone (an issue's title, a commit's subject), when the task has
    /// more.
    pub title: f32,
    /// Files whose name is a word of the task (`setuponly` for `setuponly.py`), rarest names first.
    pub file_name: f32,
    /// How whole-file BM25 enters the fusion: 0 by rank alone, 1 by rank scaled by the file's share of the best
    /// file's BM25 score (so a clear winner stays ahead of files that barely match), or in between.
    pub file_bm25_by_score: f32,
    /// Chunks nearest in meaning (dense hits).
    pub semantic: f32,
    /// Files of the dense hits.
    pub semantic_files: f32,
    /// Files whose cards are nearest in meaning (`PackRequest::semantic_file_hits`).
    pub file_cards: f32,
    /// Share of a file's card score that its chunks receive through `file_prior` (1: like any file signal; 0:
    /// the cards rank files only). A card says what a file is about, not which of its parts a task needs.
    pub file_cards_to_chunks: f32,
    /// Files whose every chunk gets a share of the file's score: where one part of a file matches, the change
    /// is often elsewhere in the same file.
    pub expanded_files: usize,
    /// Share of a file's score each of its chunks receives.
    pub file_prior: f32,
    /// Rank offset of the file-level lists in the fusion (`weight / (offset + rank)`): smaller trusts their first
    /// places more.
    pub file_rank_offset: f32,
    /// Factor on the scores of tests, fixtures and test data when the task is not about tests: the code a task
    /// needs is rarely a test, though tests echo its words.
    pub test_files: f32,
    /// Factor on the scores of auxiliary code (examples, benchmarks, scripts, docs, CI, vendored code, `.d.ts`
    /// declarations: see [`sextant_index::auxiliary_kind`]) unless the task names that kind: it echoes the task's
    /// words but is seldom where the change goes.
    pub auxiliary_files: f32,
    /// Share of a best file's score given to the files that changed with it in git history (times the share of
    /// its commits they were part of).
    pub cochange: f32,
    /// Share of a best file's score given to the files linked to it in the symbol graph (what it calls, references
    /// or imports, and what does so to it; times the share of its links they hold). A change to a definition often
    /// reaches its users, and a change to a caller the code it calls.
    pub graph_partners: f32,
    /// How many of the best files lend their score to their graph partners.
    pub graph_partner_sources: usize,
    /// Lift of the files under the scope a commit subject names (`fix(ext/http): …`, `[red-knot] …`): their score
    /// is multiplied by `1 + scope`.
    pub scope: f32,
    /// Lift of files that changed often in git history (the commits mined for co-change): a file's score is
    /// multiplied by `1 + churn * ln(1 + its commits) / ln(1 + the most any file has)`, so code under active
    /// work leads code that only mentions the task's words.
    pub churn: f32,
    /// Lift of recently changed files (a change often continues where the last ones were): a file's score is
    /// multiplied by `1 + recency / (1 + n / recency_commits)`, `n` being how many of the newest mined commits are
    /// newer than its last change. Files no kept commit changed get nothing.
    pub recency: f32,
    /// How many commits back a change still counts half of `recency`.
    pub recency_commits: usize,
    /// Pseudo-relevance feedback: whole-file BM25 over the words the best files use most and the task does not
    /// (weighted by how rare each is in the repository), as one more file list. Files about the same thing as the
    /// best ones share their vocabulary even where they share no words with the task.
    pub feedback: f32,
    /// How many of the best files lend their words to `feedback`.
    pub feedback_files: usize,
    /// How many of their words `feedback` searches for.
    pub feedback_terms: usize,
    /// Words found in more than this share of the repository's chunks are not searched for by `feedback`: they
    /// say little about any file (`param`, `import`, the licence header's words), and their long postings cost
    /// most of the search.
    pub feedback_max_share: f32,
    /// Files changed by past commits whose messages share the task's terms (the rarer, the more), from the
    /// commits mined for co-change.
    pub commit_messages: f32,
    /// How many of the best-matching past commits lend their score to their files.
    pub message_commits: usize,
    /// How many of the best files lend their score to their co-changed files.
    pub cochange_sources: usize,
    /// A file's whole-file lexical evidence sums at most this many of its best chunk scores, so a long hub file
    /// matching a long task in many places does not outrank the file that matches it best.
    pub file_hits: usize,
    /// Packing, not ranking: tokens at the front of a pack kept fine-grained, where merged neighbouring code stops
    /// at `merge_max_tokens`; further back an item may grow as large as everything before it (at most 6,000).
    /// Small, precise items first keep the first tokens of a big pack (and small budgets) useful.
    pub fine_grained_prefix: u32,
    /// Largest item merging builds in the fine-grained prefix.
    pub merge_max_tokens: u32,
    /// Packing, not ranking: code joins an item of the pack next to it only while at most this many tokens of
    /// items follow that item; further back it becomes an item of its own. Growing an early item with code that
    /// ranked much later moves every item behind it back, and the front of the pack is what a reader (or a small
    /// budget) gets.
    pub merge_window: u32,
    /// Packing, not ranking: how many of the best units bring the code around them (up to `neighbour_reach` chunks
    /// each side, while each is within merging distance of the last) forward in the pack. A small pack otherwise
    /// fills before those neighbours arrive in score order, and the change is often in the lines around the best
    /// match.
    pub neighbour_units: usize,
    /// Score of such a neighbour as a share of the unit that pulls it forward (a neighbour that ranks higher
    /// on its own keeps its own score); each further chunk away takes this share again.
    pub neighbour_pull: f32,
    /// How many chunks on each side of a unit `neighbour_units` pulls forward.
    pub neighbour_reach: usize,
    /// Packing, not ranking: how many nested prefixes of the pack are laid out as packs of their own size, each a
    /// quarter of the one before (a quarter and a sixteenth of the budget at 2; none under 1,000 tokens). An item
    /// that would cross such a prefix's end moves behind the later, smaller items that still fit, so a reader
    /// who stops there (or a client that cuts a large pack) has that prefix full instead of ending early at the
    /// first large item. 0 keeps the fill order.
    pub nested_prefixes: usize,
    /// Packing, not ranking: a nested prefix of at most this many tokens is read in the fill order instead, and
    /// the code item that crosses its end is cut there, at a line, its other lines following right behind: a
    /// reader of a small prefix gets the first lines of the best unit rather than the smaller units behind it.
    /// 0 never cuts.
    pub cut_prefix: usize,
    /// Reorder the best files (the first [`crate::learned::RERANKED_FILES`]) by the learned model of
    /// [`crate::learned`] over their evidence by signal and their relations to the best three; 0 keeps the fused
    /// order. The files' order only: their chunks keep the shares of the fused order.
    pub learned_files: f32,
    /// Packing, not ranking: fill the pack in the order of the learned chunk model of [`crate::learned`] (value
    /// per token: its log-odds that a code candidate holds part of the change, less `chunk_size_power` times the
    /// log of the candidate's size) instead of the fused scores' order; 0 (the default) keeps the fused order.
    /// Held out by repository it lifted hunk recall in a pack's first 8k tokens; on the development set it lost on
    /// the rows the fused order was tuned on (README, "A learned order of the code in a pack").
    pub learned_chunks: f32,
    /// How much a candidate's size (log of its bytes) counts against it in the learned chunk order.
    pub chunk_size_power: f32,
}

impl Default for RankWeights {
    fn default() -> Self {
        RankWeights {
            lexical_task: 1.0,
            lexical_identifiers: 1.0,
            symbol_identifier: 1.2,
            symbol_word: 0.2,
            qualified_symbol: 1.5,
            path: 1.2,
            module: 1.0,
            mentioned: 3.0,
            graph: 0.3,
            lexical_files: 1.5,
            path_terms: 1.0,
            file_bm25: 6.0,
            file_bm25_by_score: 0.5,
            file_bm25_k1: 1.2,
            file_bm25_b: 0.75,
            file_path_weight: 3.0,
            file_symbol_weight: 0.0,
            // A task says "parsing", "handlers", "queries"; the code says `parse`, `handler`, `query`. Counting
            // such variants at half weight in whole-file BM25 (short tasks) and in the chunk lists (all tasks)
            // gained on both halves of the dev set (objective 0.754 → 0.757 on train, 0.744 → 0.749 held out).
            file_variants: 0.5,
            chunk_variants: 0.5,
            segments: 3.0,
            title: 2.0,
            file_name: 0.0,
            semantic: 1.0,
            semantic_files: 1.0,
            file_cards: 1.0,
            file_cards_to_chunks: 1.0,
            expanded_files: 20,
            file_prior: 0.4,
            file_rank_offset: sextant_index::fusion::RRF_K,
            test_files: 0.5,
            auxiliary_files: 0.5,
            cochange: 0.1,
            graph_partners: 0.0,
            graph_partner_sources: 3,
            churn: 0.0,
            recency: 0.2,
            recency_commits: 30,
            feedback: 2.0,
            feedback_files: 3,
            feedback_terms: 20,
            feedback_max_share: 0.02,
            scope: 0.5,
            commit_messages: 0.0,
            message_commits: 10,
            cochange_sources: 5,
            file_hits: 200,
            fine_grained_prefix: 6_000,
            merge_max_tokens: 1_500,
            merge_window: u32::MAX,
            neighbour_units: 0,
            neighbour_pull: 0.9,
            neighbour_reach: 1,
            nested_prefixes: 2,
            // On dev rows 1-12 hunk recall at 2k (the first sixteenth of a 32k pack) rose by 0.05-0.11 by source,
            // at 8k and 32k a hunk or two moved (README, "The first sixteenth, read in fill order and cut").
            cut_prefix: 2_000,
            // The learned order of the best files (`crate::learned`, fitted on commits of 57 repositories the
            // development set does not hold; see the README). On dev rows 13-24, which chose no weight, commit
            // messages rose from all-gold@5 0.607 to 0.649 and R@10 0.812 to 0.843; on rows 1-12, where the short
            // weights were chosen, all-gold@5 fell 0.643 → 0.631 while R@10 rose 0.845 → 0.859 and R@1 0.417 →
            // 0.446.
            learned_files: 1.0,
            learned_chunks: 0.0,
            chunk_size_power: 0.3,
        }
    }
}

impl std::str::FromStr for RankWeights {
    type Err = String;

    /// Parses `name=value,name=value` over the defaults (`graph=0.5,file_prior=0.3`).
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut weights = RankWeights::default();
        for_each_setting(spec, |name, value| weights.set(name, value))?;
        Ok(weights)
    }
}

/// Calls `apply` with each trimmed `name=value` of a comma-separated spec, adding the pair to its error.
fn for_each_setting(spec: &str, mut apply: impl FnMut(&str, &str) -> Result<(), String>) -> Result<(), String> {
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').ok_or_else(|| format!("expected name=value, got `{pair}`"))?;
        apply(name.trim(), value.trim()).map_err(|e| format!("{e} (in `{pair}`)"))?;
    }
    Ok(())
}

impl RankWeights {
    /// The weights learned for long tasks (issue reports): whole-file BM25 by rank more than by score, the task's
    /// parts (`segments`), named paths and the graph count more; chunk-level lexical lists, path terms and the
    /// share a file passes to its chunks less; co-change partners of the best two files only; no owner-qualified
    /// members.
    pub fn long_task() -> RankWeights {
        RankWeights {
            lexical_task: 0.5,
            lexical_identifiers: 0.5,
            symbol_identifier: 0.6,
            path: 2.4,
            graph: 0.6,
            lexical_files: 0.75,
            path_terms: 0.5,
            // Long tasks already search whole files by their parts: whole-file BM25 over all of it at 4 rather than
            // 6 gained on both halves of dev rows 1-12 (objective 0.739 → 0.748 and 0.740 → 0.747) and lost
            // nothing on rows 13-24, which no weight was chosen on (0.576 and 0.532 → 0.576 and 0.533).
            file_bm25: 4.0,
            file_bm25_by_score: 0.25,
            segments: 6.0,
            file_cards: 2.0,
            file_prior: 0.2,
            file_rank_offset: 30.0,
            cochange_sources: 2,
            // The fix for an issue report is often anywhere in the best file: whole stretches of it early serve the
            // first 8k tokens better (dev set, train half: hunk recall@8k 0.464 → 0.502 on Multi-SWE issues and
            // 0.569 → 0.712 on SWE-bench), at the cost of the first 2k of a big pack.
            merge_max_tokens: 3_000,
            // The same for a pack smaller than the part of the file it needs: the code around the three best units
            // comes right behind them, up to six chunks each side, instead of after the other files' matches (real
            // 8k packs, train half: hunk recall@8k 0.513 → 0.523 on Multi-SWE issues, 0.753 → 0.775 on SWE-bench).
            neighbour_units: 3,
            neighbour_reach: 6,
            // An issue's `obj.method` is mostly the API its reproduction calls, not where the fix goes: on the dev
            // set it cost SWE-bench 0.018 of hunk recall@8k and Multi-SWE 0.013, while commit subjects gained.
            qualified_symbol: 0.0,
            // Issue reports hold enough words as written: in their whole-file ranking, variants lifted the train
            // half and lost on the held-out one.
            file_variants: 0.0,
            ..RankWeights::default()
        }
    }

    /// Sets the weight called `name` from its text.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let number: f32 = value.parse().map_err(|_| format!("`{value}` is not a number"))?;
        let count = |least: f32| number.max(least) as usize;
        match name {
            // Counts: whole numbers, at least the least that makes sense.
            "expanded_files" => self.expanded_files = count(0.0),
            "cochange_sources" => self.cochange_sources = count(0.0),
            "graph_partner_sources" => self.graph_partner_sources = count(0.0),
            "message_commits" => self.message_commits = count(0.0),
            "recency_commits" => self.recency_commits = count(1.0),
            "feedback_files" => self.feedback_files = count(1.0),
            "feedback_terms" => self.feedback_terms = count(1.0),
            "file_hits" => self.file_hits = count(1.0),
            "fine_grained_prefix" => self.fine_grained_prefix = count(0.0) as u32,
            "merge_max_tokens" => self.merge_max_tokens = count(0.0) as u32,
            "merge_window" => self.merge_window = count(0.0).min(u32::MAX as usize) as u32,
            "neighbour_units" => self.neighbour_units = count(0.0),
            "neighbour_reach" => self.neighbour_reach = count(0.0),
            "nested_prefixes" => self.nested_prefixes = count(0.0),
            "cut_prefix" => self.cut_prefix = count(0.0),
            _ => {
                let field = match name {
                    "lexical_task" => &mut self.lexical_task,
                    "lexical_identifiers" => &mut self.lexical_identifiers,
                    "symbol_identifier" => &mut self.symbol_identifier,
                    "symbol_word" => &mut self.symbol_word,
                    "qualified_symbol" => &mut self.qualified_symbol,
                    "path" => &mut self.path,
                    "module" => &mut self.module,
                    "mentioned" => &mut self.mentioned,
                    "graph" => &mut self.graph,
                    "lexical_files" => &mut self.lexical_files,
                    "path_terms" => &mut self.path_terms,
                    "file_bm25" => &mut self.file_bm25,
                    "file_bm25_by_score" => &mut self.file_bm25_by_score,
                    "file_bm25_k1" => &mut self.file_bm25_k1,
                    "file_bm25_b" => &mut self.file_bm25_b,
                    "file_path_weight" => &mut self.file_path_weight,
                    "file_symbol_weight" => &mut self.file_symbol_weight,
                    "file_variants" => &mut self.file_variants,
                    "chunk_variants" => &mut self.chunk_variants,
                    "segments" => &mut self.segments,
                    "title" => &mut self.title,
                    "file_name" => &mut self.file_name,
                    "semantic" => &mut self.semantic,
                    "semantic_files" => &mut self.semantic_files,
                    "file_cards" => &mut self.file_cards,
                    "file_cards_to_chunks" => &mut self.file_cards_to_chunks,
                    "file_prior" => &mut self.file_prior,
                    "file_rank_offset" => &mut self.file_rank_offset,
                    "test_files" => &mut self.test_files,
                    "auxiliary_files" => &mut self.auxiliary_files,
                    "cochange" => &mut self.cochange,
                    "graph_partners" => &mut self.graph_partners,
                    "churn" => &mut self.churn,
                    "recency" => &mut self.recency,
                    "feedback" => &mut self.feedback,
                    "feedback_max_share" => &mut self.feedback_max_share,
                    "scope" => &mut self.scope,
                    "commit_messages" => &mut self.commit_messages,
                    "neighbour_pull" => &mut self.neighbour_pull,
                    "learned_files" => &mut self.learned_files,
                    "learned_chunks" => &mut self.learned_chunks,
                    "chunk_size_power" => &mut self.chunk_size_power,
                    other => return Err(format!("unknown ranking weight `{other}`")),
                };
                *field = number;
            }
        }
        Ok(())
    }
}

/// The ranking weights of both shapes of task: a short one (a commit subject, a one-line request) leans on
/// precise lexical evidence, a long one (an issue report with prose, logs and code) on whole-file and graph
/// evidence and on packing the best files' parts. Learned on the train fold of the development set
/// (`benches/eval/tune_weights.py`); see the README for train and test figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankProfiles {
    /// Weights for tasks of fewer than `long_task_words` words.
    pub short: RankWeights,
    /// Weights for tasks of at least `long_task_words` words.
    pub long: RankWeights,
    /// Whitespace-separated words from which a task is long.
    pub long_task_words: usize,
}

impl RankProfiles {
    /// One set of weights whatever the task's length.
    pub fn uniform(weights: RankWeights) -> RankProfiles {
        RankProfiles { short: weights, long: weights, long_task_words: usize::MAX }
    }

    /// Whether `task` has at least `long_task_words` words, and so gets the long profile.
    pub fn is_long(&self, task: &str) -> bool {
        task.split_whitespace().nth(self.long_task_words.saturating_sub(1)).is_some()
    }

    /// The weights for `task`.
    pub fn for_task(&self, task: &str) -> &RankWeights {
        if self.is_long(task) {
            &self.long
        } else {
            &self.short
        }
    }
}

impl Default for RankProfiles {
    fn default() -> Self {
        RankProfiles { short: RankWeights::default(), long: RankWeights::long_task(), long_task_words: 30 }
    }
}

impl From<RankWeights> for RankProfiles {
    fn from(weights: RankWeights) -> Self {
        RankProfiles::uniform(weights)
    }
}

impl std::str::FromStr for RankProfiles {
    type Err = String;

    /// Parses `name=value,…` over the defaults: a plain name sets the weight in both profiles, `short.name` or
    /// `long.name` in one, and `long_task_words=N` moves the boundary (`long.graph=0.3,long_task_words=50`).
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut profiles = RankProfiles::default();
        for_each_setting(spec, |name, value| {
            if name == "long_task_words" {
                profiles.long_task_words = value.parse().map_err(|_| format!("`{value}` is not a word count"))?;
                return Ok(());
            }
            let targets: Vec<&mut RankWeights> = match name.split_once('.') {
                Some(("short", _)) => vec![&mut profiles.short],
                Some(("long", _)) => vec![&mut profiles.long],
                Some((profile, _)) => return Err(format!("unknown ranking profile `{profile}` (short or long)")),
                None => vec![&mut profiles.short, &mut profiles.long],
            };
            let field = name.split_once('.').map_or(name, |(_, field)| field);
            targets.into_iter().try_for_each(|weights| weights.set(field, value))
        })?;
        Ok(profiles)
    }
}

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
    /// Its (1-based) place in each of the chunk lists of [`UNIT_SIGNALS`], 0 where a list does not hold it.
    pub places: [u16; UNIT_SIGNALS.len()],
    /// The part of `score` it has from its file's place in the file ranking (the fused file score times
    /// `file_prior`), not from evidence of its own.
    pub prior: f32,
}

/// The ranked lists of chunks fused into unit scores, in the order of [`UnitScore::places`].
pub const UNIT_SIGNALS: [&str; 11] = [
    "lexical_task",
    "lexical_identifiers",
    "semantic",
    "symbol_identifier",
    "symbol_compound",
    "symbol_word",
    "qualified_symbol",
    "path_units",
    "module_units",
    "mentioned",
    "graph_units",
];

/// A unit's fused evidence while lists are added: its score, the reasons with what each gave, and its place in
/// each list of [`UNIT_SIGNALS`].
#[derive(Default)]
struct UnitEvidence {
    score: f32,
    reasons: Vec<(f32, String)>,
    places: [u16; UNIT_SIGNALS.len()],
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
    /// Each candidate file's evidence by signal, when the request asks for it (`PackRequest::record_features`).
    pub file_features: Option<FileFeatures>,
}

/// Each candidate file's evidence by signal, for learning how to fuse the signals offline: a file's best
/// (1-based) place in each list that holds it or one of its units (`lexical_task`, `graph`, …), and values
/// (`file_bm25_share`: its whole-file BM25 score over the best file's; `unit_part`: its share from its chunks;
/// `fused`: its score before the test, scope and co-change adjustments, absent for a file only co-change found;
/// `is_test`, `in_scope`, `churn` (commits in the mined history), `commits_since_change` (with `recency` on),
/// `cochange` (its largest share of a best file's commits), `graph_partner` (its largest share of a best file's
/// graph links, with `graph_partners` on), `chunks`; for the first [`crate::learned::RERANKED_FILES`] also
/// `final_rank`, `final_score`, their relations to the best files (`cochange_best`, `cochange_reverse`,
/// `graph_best`, `graph_reverse`, `message_place`: see `note_relations_to_best_files`), and, only where the
/// request asks for features, `same_directory` (in the best file's directory), `auxiliary` (see
/// `sextant_index::auxiliary_kind`) and `named_stem` (its name before the first dot is a word of the task)). A
/// signal whose weight is 0 is not computed, so it is absent.
pub type FileFeatures = HashMap<u32, BTreeMap<&'static str, f32>>;

type Unit = (u32, u32);

struct Fusion {
    scores: HashMap<Unit, UnitEvidence>,
    file_scores: HashMap<u32, f32>,
    /// The part of each file's score that ranks the file but is not passed on to its chunks.
    file_only: HashMap<u32, f32>,
    file_rank_offset: f32,
    /// Evidence by signal per file as noted, when recorded: a push per note, folded into [`FileFeatures`] only for
    /// the files that need it ([`Fusion::features`]), since thousands of files are noted and sixty read.
    notes: Option<Vec<FeatureNote>>,
}

/// One note of a file's evidence: the file, the feature, its value, and how notes of the same feature combine.
type FeatureNote = (u32, &'static str, f32, Combine);

/// How repeated notes of one feature of one file combine.
#[derive(Debug, Clone, Copy)]
enum Combine {
    Least,
    Largest,
    Last,
}

impl Fusion {
    /// Records `file`'s place in `signal`'s list, keeping its best.
    fn note_place(&mut self, file: u32, signal: &'static str, place: usize) {
        if let Some(notes) = &mut self.notes {
            notes.push((file, signal, place as f32, Combine::Least));
        }
    }

    /// Records a value of `file`, keeping the largest of those recorded under `name`.
    fn note_largest(&mut self, file: u32, name: &'static str, value: f32) {
        if let Some(notes) = &mut self.notes {
            notes.push((file, name, value, Combine::Largest));
        }
    }

    /// Records a value of `file`.
    fn note_value(&mut self, file: u32, name: &'static str, value: f32) {
        if let Some(notes) = &mut self.notes {
            notes.push((file, name, value, Combine::Last));
        }
    }

    /// The evidence noted of the files `wanted` holds for, in noting order.
    fn features(&self, wanted: impl Fn(u32) -> bool) -> Option<FileFeatures> {
        let notes = self.notes.as_ref()?;
        let mut features = FileFeatures::new();
        for &(file, name, value, combine) in notes.iter().filter(|note| wanted(note.0)) {
            let values = features.entry(file).or_default();
            match (values.get_mut(name), combine) {
                (Some(kept), Combine::Least) => *kept = kept.min(value),
                (Some(kept), Combine::Largest) => *kept = kept.max(value),
                _ => {
                    values.insert(name, value);
                }
            }
        }
        Some(features)
    }

    /// Adds a ranked list of units; a weight of 0 turns the signal off (its units are not even listed).
    fn add_list(&mut self, signal: &'static str, weight: f32, list: &[(Unit, String)]) {
        if weight == 0.0 {
            return;
        }
        let slot = UNIT_SIGNALS.iter().position(|s| *s == signal);
        let mut seen = HashSet::new();
        for (unit, reason) in list {
            if !seen.insert(*unit) {
                continue;
            }
            self.note_place(unit.0, signal, seen.len());
            let contribution = rrf(weight, seen.len());
            let entry = self.scores.entry(*unit).or_default();
            entry.score += contribution;
            entry.reasons.push((contribution, reason.clone()));
            if let Some(slot) = slot {
                entry.places[slot] = seen.len().min(usize::from(u16::MAX)) as u16;
            }
        }
    }

    /// Adds a ranked list of files; a weight of 0 turns the signal off (a file listed at score 0 would still
    /// rank, behind every file with evidence, and be packed when there is room).
    fn add_file_list(&mut self, signal: &'static str, weight: f32, files: &[u32]) {
        self.add_file_list_sharing(signal, weight, files, 1.0);
    }

    /// [`Fusion::add_file_list`] whose files pass only `to_chunks` of what it gives them on to their chunks.
    fn add_file_list_sharing(&mut self, signal: &'static str, weight: f32, files: &[u32], to_chunks: f32) {
        if weight == 0.0 {
            return;
        }
        let mut seen = HashSet::new();
        for file in files {
            if seen.insert(*file) {
                self.note_place(*file, signal, seen.len());
                let contribution = weight / (self.file_rank_offset + seen.len() as f32);
                *self.file_scores.entry(*file).or_insert(0.0) += contribution;
                if to_chunks < 1.0 {
                    *self.file_only.entry(*file).or_insert(0.0) += contribution * (1.0 - to_chunks.max(0.0));
                }
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
    let mut sources = SourceCache::new(std::path::Path::new(index.root()), index);
    rank_reading(index, request, &mut sources)
}

/// The whole-file BM25 lists of a task, each filtered to the allowed files.
struct WholeFileLists {
    /// The whole task (empty when `file_bm25` is 0).
    task: Vec<(u32, f32)>,
    /// The title alone, when the task has more than its title and `title` is on.
    title: Option<Vec<(u32, f32)>>,
    /// Each part of a long task (none when `segments` is 0).
    segments: Vec<Vec<(u32, f32)>>,
}

/// [`rank`] reading file texts through `sources`, so the pack that renders the best files after it reads and
/// verifies each of them once.
pub(crate) fn rank_reading(
    index: &Index,
    request: &PackRequest,
    sources: &mut SourceCache<'_>,
) -> Result<Ranking, IndexError> {
    let weights = request.weights.for_task(&request.task);
    let task = crate::terms::retrieval_text(&request.task);
    let terms = TaskTerms::extract(&task);
    let paths = PathFilter::new(&request.path_filters);
    let allowed = |file: u32| crate::file_allowed(index, request, &paths, file);
    let mut fusion = Fusion {
        scores: HashMap::new(),
        file_scores: HashMap::new(),
        file_only: HashMap::new(),
        file_rank_offset: weights.file_rank_offset,
        // The learned reranking reads the features too.
        notes: (request.record_features || weights.learned_files > 0.0).then(Vec::new),
    };
    let search_options = SearchOptions {
        limit: LEXICAL_DEPTH,
        languages: request.languages.clone(),
        paths: request.path_filters.clone(),
        word_variants: weights.chunk_variants,
        // The ranking reads each list in its own score order.
        chunks_per_file: 0,
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
    // Whole-file BM25: files as documents, so length normalisation works per file rather than per chunk.
    let file_bm25 = sextant_index::FileBm25 {
        k1: weights.file_bm25_k1,
        b: weights.file_bm25_b,
        path_weight: weights.file_path_weight,
        symbol_weight: weights.file_symbol_weight,
        variants: weights.file_variants,
    };
    // The title (an issue's, a commit's subject), searched alone so the body's logs and prose cannot drown it.
    let title = task.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    let title = (weights.title > 0.0 && title.len() < task.trim().len() && !title.is_empty()).then_some(title);
    let segments = if weights.segments > 0.0 { crate::terms::segments(&task) } else { Vec::new() };
    // The whole-file searches (the task, its title, its parts) run on a second thread while this one searches
    // the chunks: independent reads of one index, and together most of a pack's time.
    let (task_hits, identifier_hits, whole_file) = std::thread::scope(|scope| {
        let whole_file = scope.spawn(|| -> Result<WholeFileLists, IndexError> {
            let search = |query: &str, depth: usize| -> Result<Vec<(u32, f32)>, IndexError> {
                let mut by_file = index.search_files_with(query, file_bm25, depth)?;
                by_file.retain(|(f, _)| allowed(*f));
                Ok(by_file)
            };
            Ok(WholeFileLists {
                task: if weights.file_bm25 > 0.0 { search(&task, LEXICAL_DEPTH)? } else { Vec::new() },
                title: title.map(|title| search(title, SEGMENT_DEPTH)).transpose()?,
                segments: segments.iter().map(|segment| search(segment, SEGMENT_DEPTH)).collect::<Result<_, _>>()?,
            })
        });
        let task_hits = lexical(&task);
        let identifier_hits = lexical(&terms.identifiers.join(" "));
        let whole_file = whole_file.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (task_hits, identifier_hits, whole_file)
    });
    let (task_hits, whole_file) = (task_hits?, whole_file?);
    let lexical_task = to_units(&task_hits);
    fusion.add_list("lexical_task", weights.lexical_task, &lexical_task);
    // Whole-file lexical evidence: the sum of a file's chunk scores, so files that match throughout rank high.
    let mut file_hits: HashMap<u32, Vec<f32>> = HashMap::new();
    for hit in &task_hits {
        if let Some(file) = index.file_id(&hit.path) {
            file_hits.entry(file).or_default().push(hit.score);
        }
    }
    // Hits come best first, so each file's list is already in descending order.
    let mut lexical_files: Vec<(u32, f32)> =
        file_hits.into_iter().map(|(file, scores)| (file, scores.iter().take(weights.file_hits).sum())).collect();
    lexical_files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fusion.add_file_list(
        "lexical_files",
        weights.lexical_files,
        &lexical_files.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
    );
    let best = whole_file.task.first().map_or(1.0, |(_, score)| score.max(f32::EPSILON));
    for (rank, (file, score)) in whole_file.task.iter().enumerate() {
        fusion.note_place(*file, "file_bm25", rank + 1);
        fusion.note_value(*file, "file_bm25_share", score / best);
        let share = 1.0 - weights.file_bm25_by_score * (1.0 - score / best);
        *fusion.file_scores.entry(*file).or_insert(0.0) +=
            share * weights.file_bm25 / (weights.file_rank_offset + rank as f32 + 1.0);
    }
    if let Some(by_file) = &whole_file.title {
        fusion.add_file_list("title", weights.title, &by_file.iter().map(|(f, _)| *f).collect::<Vec<_>>());
    }
    // The parts of a long task, each searched on its own: a file takes its best place in any part's list.
    if !whole_file.segments.is_empty() {
        let mut best_place: HashMap<u32, f32> = HashMap::new();
        for by_file in &whole_file.segments {
            for (rank, (file, _)) in by_file.iter().enumerate() {
                fusion.note_place(*file, "segments", rank + 1);
                let place = weights.segments / (weights.file_rank_offset + rank as f32 + 1.0);
                let entry = best_place.entry(*file).or_insert(0.0);
                *entry = entry.max(place);
            }
        }
        for (file, place) in best_place {
            *fusion.file_scores.entry(file).or_insert(0.0) += place;
        }
    }
    // Files named like a word of the task, the rarest names first (a name many files share says little).
    if weights.file_name > 0.0 {
        // Each key with its place in the task (keys are unique), for one lookup per file.
        let keys: HashMap<String, usize> =
            crate::terms::file_name_keys(&task).into_iter().enumerate().map(|(place, key)| (key, place)).collect();
        if !keys.is_empty() {
            let mut named: HashMap<usize, Vec<u32>> = HashMap::new();
            for file in index.indexed_files() {
                if let Some(&place) = keys.get(&crate::terms::file_name_key(file.path())) {
                    if allowed(file.id()) {
                        named.entry(place).or_default().push(file.id());
                    }
                }
            }
            let mut by_name: Vec<(usize, usize, &Vec<u32>)> = named
                .iter()
                .filter(|(_, files)| files.len() <= MAX_FILES_PER_NAME)
                .map(|(&place, files)| (files.len(), place, files))
                .collect();
            by_name.sort_unstable();
            let list: Vec<u32> = by_name.into_iter().flat_map(|(_, _, files)| files.iter().copied()).collect();
            fusion.add_file_list("file_name", weights.file_name, &list);
        }
    }
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
    fusion.add_file_list("path_terms", weights.path_terms, &by_path.iter().map(|(f, _)| *f).collect::<Vec<_>>());
    // Files that past commits worded like the task changed.
    if let Some(history) = index.co_change().filter(|_| weights.commit_messages > 0.0) {
        let by_message: Vec<u32> = history
            .files_by_message(&task_terms, weights.message_commits)
            .into_iter()
            .filter_map(|(path, _)| index.file_id(path).filter(|&f| allowed(f)))
            .collect();
        fusion.add_file_list("commit_messages", weights.commit_messages, &by_message);
    }
    let lexical_identifiers = to_units(&identifier_hits?);
    fusion.add_list("lexical_identifiers", weights.lexical_identifiers, &lexical_identifiers);

    // Dense: chunks whose embedding is nearest the task's, and their files in order of first appearance.
    let semantic: Vec<(Unit, String)> = request
        .semantic_hits
        .iter()
        .filter_map(|(path, line)| {
            let file = index.file_by_path(path).filter(|f| allowed(f.id()))?;
            Some((unit_at(file, *line)?, "semantic match".to_string()))
        })
        .collect();
    fusion.add_list("semantic", weights.semantic, &semantic);
    let mut semantic_files: Vec<u32> = Vec::new();
    for ((file, _), _) in &semantic {
        if !semantic_files.contains(file) {
            semantic_files.push(*file);
        }
    }
    fusion.add_file_list("semantic_files", weights.semantic_files, &semantic_files);
    let card_files: Vec<u32> = request
        .semantic_file_hits
        .iter()
        .filter_map(|path| index.file_by_path(path).map(|f| f.id()).filter(|&id| allowed(id)))
        .collect();
    fusion.add_file_list_sharing("file_cards", weights.file_cards, &card_files, weights.file_cards_to_chunks);

    // Symbol names: definitions named exactly like an identifier (strong) or a word (weak) of the task.
    let mut seeds: Vec<(Node, f32)> = Vec::new();
    let symbol_matches = |names: &[String], seeds: &mut Vec<(Node, f32)>, seed_weight: f32| -> Vec<(Unit, String)> {
        let mut list = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let mut ids: Vec<SymbolId> = index.symbols_named(name).into_iter().filter(|id| allowed(id.file)).collect();
            if ids.is_empty() || ids.len() > MAX_DEFINITIONS_PER_NAME {
                continue;
            }
            most_central_first(index, &mut ids);
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
    fusion.add_list("symbol_identifier", weights.symbol_identifier, &by_identifier);
    let by_word = symbol_matches(&terms.words, &mut seeds, 0.5);
    // Compound names whose every part the task mentions (`check_token` for "check the bearer token").
    let mentioned_parts: HashSet<String> =
        terms.words.iter().chain(terms.identifiers.iter()).map(|w| w.to_lowercase()).collect();
    let compound: Vec<String> = index
        .compound_names_within(&mentioned_parts)
        .into_iter()
        .filter(|name| !terms.identifiers.iter().any(|i| i == name))
        .map(str::to_string)
        .collect();
    let by_compound = symbol_matches(&compound, &mut seeds, 1.0);
    fusion.add_list("symbol_compound", weights.symbol_identifier, &by_compound);
    fusion.add_list("symbol_word", weights.symbol_word, &by_word);
    // Members named with their owner: among the definitions a common name has (`visibility`, `send`), the ones
    // inside that owner. Found even where the bare name has too many definitions to count.
    if weights.qualified_symbol > 0.0 {
        let mut by_qualified: Vec<(Unit, String)> = Vec::new();
        let mut qualified_files: Vec<u32> = Vec::new();
        for (position, (owner, member)) in terms.qualified.iter().enumerate() {
            let mut ids: Vec<SymbolId> = index
                .symbols_named(member)
                .into_iter()
                .filter(|id| allowed(id.file) && owned_by(index, *id, owner))
                .collect();
            if ids.is_empty() || ids.len() > MAX_DEFINITIONS_PER_NAME {
                continue;
            }
            most_central_first(index, &mut ids);
            for id in ids {
                seeds.push((Node::Symbol(id), 3.0 / (1.0 + position as f32 * 0.1)));
                if let Some(unit) = symbol_unit(index, id) {
                    by_qualified.push((unit, format!("defines `{owner}.{member}`")));
                }
                if !qualified_files.contains(&id.file) {
                    qualified_files.push(id.file);
                }
            }
        }
        fusion.add_list("qualified_symbol", weights.qualified_symbol, &by_qualified);
        fusion.add_file_list("qualified_files", weights.qualified_symbol, &qualified_files);
    }

    // Paths: files named in the task, by path suffix or by file name. A path from another machine
    // (`/usr/lib/python3/site-packages/flask/app.py`) matches by its longest suffix found in the repository.
    let path_files = |paths: &[String]| -> Vec<u32> {
        let mut files = Vec::new();
        for wanted in paths {
            let components: Vec<&str> = wanted.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
            for skip in 0..components.len().saturating_sub(1).max(1) {
                let suffix = components[skip..].join("/");
                let (as_suffix, as_dir) = (format!("/{suffix}"), format!("{suffix}/"));
                let before = files.len();
                for file in index.indexed_files() {
                    let path = file.path();
                    let matches = path == suffix
                        || path.ends_with(&as_suffix)
                        || (skip == 0 && !suffix.contains('.') && path.starts_with(&as_dir));
                    if matches && allowed(file.id()) && !files.contains(&file.id()) {
                        files.push(file.id());
                    }
                }
                if files.len() > before || (skip == 0 && components.len() <= 2) {
                    break;
                }
            }
        }
        files
    };
    // Dotted names (`requests.adapters.HTTPAdapter`): the file whose path, without its extension, ends with the
    // longest prefix of the name (`requests/adapters.py`), or the package it names (`requests/adapters/__init__.py`).
    let module_files = |modules: &[String]| -> Vec<u32> {
        let mut files: Vec<u32> = Vec::new();
        for module in modules.iter().take(MAX_MODULES) {
            let parts: Vec<&str> = module.split('/').collect();
            for take in (2..=parts.len()).rev() {
                let wanted = parts[..take].join("/");
                let package = format!("{wanted}/__init__");
                let suffixes = [format!("/{wanted}"), format!("/{package}")];
                let found: Vec<u32> = index
                    .indexed_files()
                    .filter(|file| {
                        let stem = file.path().rsplit_once('.').map_or(file.path(), |(stem, _)| stem);
                        stem == wanted || stem == package || suffixes.iter().any(|s| stem.ends_with(s.as_str()))
                    })
                    .map(|file| file.id())
                    .filter(|&f| allowed(f))
                    .take(3)
                    .collect();
                if !found.is_empty() {
                    for f in found {
                        if !files.contains(&f) {
                            files.push(f);
                        }
                    }
                    break;
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
    // Lines the task points at (stack frames, compiler messages) come before the named files' central chunks.
    let mut named_units: Vec<(Unit, String)> = Vec::new();
    for (path, line) in &terms.locations {
        for file in path_files(std::slice::from_ref(path)).into_iter().filter_map(|f| index.file(f)) {
            if let Some(unit) = unit_at(file, *line) {
                named_units.push((unit, format!("line {line} named in the task")));
            }
        }
    }
    named_units.extend(file_units(&named_files, "path named in the task"));
    fusion.add_list("path_units", weights.path, &named_units);
    fusion.add_file_list("path", weights.path, &named_files);
    let named_modules = module_files(&terms.modules);
    for &f in &named_modules {
        seeds.push((Node::File(f), 1.0));
    }
    fusion.add_list("module_units", weights.module, &file_units(&named_modules, "module named in the task"));
    fusion.add_file_list("module", weights.module, &named_modules);

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
    fusion.add_list("mentioned", weights.mentioned, &mentioned);

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
        fusion.add_list("graph_units", weights.graph, &list);
        fusion.add_file_list(
            "graph",
            weights.graph,
            &files.iter().take(GRAPH_DEPTH).map(|(f, _)| *f).collect::<Vec<_>>(),
        );
        graph_scores = symbols.into_iter().collect();
    }

    let mut units: Vec<UnitScore> = std::mem::take(&mut fusion.scores)
        .into_iter()
        .filter(|((file, _), _)| allowed(*file))
        .map(|((file, chunk), UnitEvidence { score, mut reasons, places })| {
            reasons.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut names: Vec<String> = Vec::new();
            for (_, reason) in reasons {
                if !names.contains(&reason) {
                    names.push(reason);
                }
            }
            UnitScore { file, chunk, score, reasons: names, places, prior: 0.0 }
        })
        .collect();
    units.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.file.cmp(&b.file)).then(a.chunk.cmp(&b.chunk)));

    // Files: their best units, with diminishing credit for more, plus file-level signals.
    let mut per_file: HashMap<u32, Vec<f32>> = HashMap::new();
    for unit in &units {
        per_file.entry(unit.file).or_default().push(unit.score);
    }
    let mut files: Vec<(u32, f32)> = Vec::with_capacity(per_file.len());
    for (file, scores) in per_file {
        let unit_part: f32 = scores.iter().take(3).enumerate().map(|(i, s)| s / (1 << i) as f32).sum();
        fusion.note_value(file, "unit_part", unit_part);
        files.push((file, unit_part + fusion.file_scores.get(&file).copied().unwrap_or(0.0)));
    }
    // Files with file-level evidence only (no unit of theirs ranked); one set lookup each, not a scan of `files`.
    let with_units: HashSet<u32> = files.iter().map(|(f, _)| *f).collect();
    for (file, score) in &fusion.file_scores {
        if !with_units.contains(file) {
            files.push((*file, *score));
        }
    }
    // Per file: the share of its score (as first summed, before the adjustments below) its chunks receive.
    let chunk_share: HashMap<u32, f32> = files
        .iter()
        .filter_map(|&(file, score)| {
            let held = fusion.file_only.get(&file)?;
            Some((file, if score > 0.0 { (1.0 - held / score).clamp(0.0, 1.0) } else { 0.0 }))
        })
        .collect();
    let is_test = |file: u32| index.file(file).is_some_and(|f| sextant_index::is_test_path(f.path()));
    // Commits of a file in the mined history.
    let commits_of = |file: u32| {
        index.co_change().and_then(|history| history.files.get(index.file(file)?.path())).map_or(0, |entry| entry.0)
    };
    if fusion.notes.is_some() {
        for &(file, score) in &files {
            fusion.note_value(file, "fused", score);
            fusion.note_value(file, "is_test", if is_test(file) { 1.0 } else { 0.0 });
            fusion.note_value(file, "chunks", index.file(file).map_or(0, |f| f.chunks().len()) as f32);
            fusion.note_value(file, "churn", commits_of(file) as f32);
        }
    }
    let task_about_tests = about_tests(&terms);
    let test_factor = if task_about_tests { 1.0 } else { weights.test_files };
    let named_auxiliary = auxiliary_kinds_named(&task, &terms);
    // The factor on a secondary file's score: tests, fixtures and auxiliary code of a kind the task does not name.
    let secondary = |file: u32| {
        let Some(path) = index.file(file).map(|f| f.path()) else { return 1.0 };
        if sextant_index::is_test_path(path) {
            test_factor
        } else if sextant_index::auxiliary_kind(path).is_some_and(|kind| !named_auxiliary.contains(&kind)) {
            weights.auxiliary_files
        } else {
            1.0
        }
    };
    if test_factor != 1.0 || weights.auxiliary_files != 1.0 {
        // Every unit's file is among `files`: decide each file once, not once per unit.
        let mut factors: HashMap<u32, f32> = HashMap::new();
        for (file, score) in &mut files {
            let factor = secondary(*file);
            if factor != 1.0 {
                *score *= factor;
                factors.insert(*file, factor);
            }
        }
        for unit in &mut units {
            if let Some(factor) = factors.get(&unit.file) {
                unit.score *= factor;
            }
        }
    }
    if let Some(history) = index.co_change().filter(|_| weights.churn > 0.0) {
        let most = history.files.values().map(|e| e.0).max().unwrap_or(0);
        if most > 0 {
            let scale = weights.churn / (1.0 + most as f32).ln();
            for (file, score) in &mut files {
                *score *= 1.0 + scale * (1.0 + commits_of(*file) as f32).ln();
            }
        }
    }
    if let Some(history) = index.co_change().filter(|_| weights.recency > 0.0) {
        let since_change = history.commits_since_change();
        let half_life = weights.recency_commits.max(1) as f32;
        for (file, score) in &mut files {
            let Some(newer) = index.file(*file).and_then(|f| since_change.get(f.path())) else { continue };
            fusion.note_value(*file, "commits_since_change", *newer as f32);
            *score *= 1.0 + weights.recency / (1.0 + *newer as f32 / half_life);
        }
    }
    let scope = if weights.scope > 0.0 { crate::terms::commit_scope(&task) } else { Vec::new() };
    if !scope.is_empty() {
        for (file, score) in &mut files {
            if index.file(*file).is_some_and(|f| crate::terms::in_commit_scope(f.path(), &scope)) {
                *score *= 1.0 + weights.scope;
                fusion.note_value(*file, "in_scope", 1.0);
            }
        }
    }
    files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if weights.feedback > 0.0 && !files.is_empty() {
        // Each best file lends the words of its best units (units are still in score order), or of its first
        // chunks where only file-level evidence found it.
        let passages: Vec<(u32, Vec<u32>)> = files
            .iter()
            .take(weights.feedback_files)
            .map(|&(file, _)| {
                let mut chunks: Vec<u32> =
                    units.iter().filter(|u| u.file == file).take(FEEDBACK_CHUNKS).map(|u| u.chunk).collect();
                if chunks.is_empty() {
                    let count = index.file(file).map_or(0, |f| f.chunks().len() as u32);
                    chunks = (0..count.min(FEEDBACK_CHUNKS as u32)).collect();
                }
                (file, chunks)
            })
            .collect();
        let query =
            feedback_query(index, sources, &passages, &task, weights.feedback_terms, weights.feedback_max_share)?;
        // The feedback words come from the code, written as the code writes them.
        let as_written = sextant_index::FileBm25 { variants: 0.0, ..file_bm25 };
        let mut by_file = index.search_files_with(&query, as_written, SEGMENT_DEPTH)?;
        by_file.retain(|(f, _)| allowed(*f));
        let mut place: HashMap<u32, usize> = HashMap::new();
        for (rank, (file, _)) in by_file.iter().enumerate() {
            fusion.note_place(*file, "feedback", rank + 1);
            place.insert(*file, rank);
        }
        let lift = |file: u32, rank: usize| {
            secondary(file) * weights.feedback / (weights.file_rank_offset + rank as f32 + 1.0)
        };
        for (file, score) in &mut files {
            if let Some(rank) = place.remove(file) {
                *score += lift(*file, rank);
            }
        }
        files.extend(place.into_iter().map(|(file, rank)| (file, lift(file, rank))));
        files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    // Files that changed together with the best files in git history: a change to one often needs the other. A
    // partner rises towards the file that lends it the score, never past it.
    if let Some(history) = index.co_change().filter(|_| weights.cochange > 0.0) {
        let mut boosts = PartnerBoosts::default();
        for &(file, score) in files.iter().take(weights.cochange_sources) {
            let Some(path) = index.file(file).map(|f| f.path()) else { continue };
            for (partner, share) in history.partners(path) {
                let Some(partner) = index.file_id(partner).filter(|&p| p != file && allowed(p)) else { continue };
                fusion.note_largest(partner, "cochange", share);
                boosts.lend(partner, weights.cochange * share * secondary(partner), score);
            }
        }
        boosts.apply(&mut files);
    }
    // Files linked to the best files in the symbol graph, lifted the same way.
    if weights.graph_partners > 0.0 {
        let mut boosts = PartnerBoosts::default();
        for &(file, score) in files.iter().take(weights.graph_partner_sources) {
            for (partner, share) in index.graph().linked_files(file) {
                if !allowed(partner) {
                    continue;
                }
                fusion.note_largest(partner, "graph_partner", share);
                boosts.lend(partner, weights.graph_partners * share * secondary(partner), score);
            }
        }
        boosts.apply(&mut files);
    }

    if fusion.notes.is_some() {
        // Only the files the learned order reads (and `eval-runner --features` writes) need them.
        for (rank, &(file, score)) in files.iter().take(crate::learned::RERANKED_FILES).enumerate() {
            fusion.note_value(file, "final_rank", rank as f32 + 1.0);
            fusion.note_value(file, "final_score", score);
        }
    }
    if request.record_features {
        // Evidence for learning only: the shipped model does not read these, so packs do not compute them.
        let directory = |file: u32| index.file(file).map(|f| f.path().rsplit_once('/').map_or("", |(d, _)| d));
        let best_directory = files.first().and_then(|&(file, _)| directory(file));
        let task_words: HashSet<String> =
            terms.words.iter().chain(terms.identifiers.iter()).map(|w| w.to_lowercase()).collect();
        for (rank, &(file, _)) in files.iter().take(crate::learned::RERANKED_FILES).enumerate() {
            let Some(path) = index.file(file).map(|f| f.path()) else { continue };
            let file_directory = path.rsplit_once('/').map_or("", |(d, _)| d);
            if rank > 0 && Some(file_directory) == best_directory {
                fusion.note_value(file, "same_directory", 1.0);
            }
            if sextant_index::auxiliary_kind(path).is_some() {
                fusion.note_value(file, "auxiliary", 1.0);
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            let stem = name.split('.').next().unwrap_or(name).to_lowercase();
            if stem.len() >= 3 && task_words.contains(&stem) {
                fusion.note_value(file, "named_stem", 1.0);
            }
        }
    }
    if fusion.notes.is_some() {
        note_relations_to_best_files(index, &files, &task_terms, &mut fusion);
    }

    let mut by_unit: HashMap<Unit, usize> = units.iter().enumerate().map(|(i, u)| ((u.file, u.chunk), i)).collect();
    for (position, (file, file_score)) in files.iter().take(weights.expanded_files).enumerate() {
        let prior = file_score * weights.file_prior * chunk_share.get(file).copied().unwrap_or(1.0);
        let chunk_count = index.file(*file).map_or(0, |f| f.chunks().len() as u32);
        for chunk in 0..chunk_count {
            match by_unit.get(&(*file, chunk)) {
                Some(&i) => {
                    units[i].score += prior;
                    units[i].prior = prior;
                }
                None => {
                    by_unit.insert((*file, chunk), units.len());
                    units.push(UnitScore {
                        file: *file,
                        chunk,
                        score: prior,
                        reasons: vec![format!("in the #{} ranked file", position + 1)],
                        places: [0; UNIT_SIGNALS.len()],
                        prior,
                    });
                }
            }
        }
    }
    units.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.file.cmp(&b.file)).then(a.chunk.cmp(&b.chunk)));
    // The learned order ranks the files only: the chunks keep the priors of the fused order, which packs fill
    // better (on the development set, chunk priors that followed the learned order cost 0.04 of hunk recall@8k).
    // It was fitted on changes to code, never to tests, examples or docs, and learned to put those last: where the
    // task is about tests or names a kind of auxiliary code, those files keep their places in the fused order (as
    // the test and auxiliary factors leave them) and the model orders the rest around them.
    // All the candidates' evidence for learning; the best files' for the learned order.
    let features = if request.record_features {
        fusion.features(|_| true)
    } else {
        let best: HashSet<u32> = files.iter().take(crate::learned::RERANKED_FILES).map(|(f, _)| *f).collect();
        fusion.features(|file| best.contains(&file))
    };
    if weights.learned_files > 0.0 {
        if let Some(features) = &features {
            let keeps_place = |file: u32| {
                let Some(path) = index.file(file).map(|f| f.path()) else { return false };
                (task_about_tests && sextant_index::is_test_path(path))
                    || sextant_index::auxiliary_kind(path).is_some_and(|kind| named_auxiliary.contains(&kind))
            };
            rerank_files(&mut files, features, request.weights.is_long(&request.task), keeps_place);
        }
    }
    // The learned order reads the features on every request; the caller sees them only when it asked.
    let file_features = features.filter(|_| request.record_features);
    Ok(Ranking { units, files, graph_scores, file_features })
}

/// Reorders the best [`crate::learned::RERANKED_FILES`] of `files` (sorted by score) by the learned model over
/// their recorded evidence, the first included: since the model reads each file's relations to the fused best
/// files, its first file is right more often than the fusion's (R@1 on held-out repositories 0.525 → 0.568; see
/// the README). Files for which `keeps_place` holds stay where they are, the others are ordered around them. The
/// scores stay where they were, each file taking the score of the place it moves to, so `files` stays sorted by
/// score.
fn rerank_files(files: &mut [(u32, f32)], features: &FileFeatures, long_task: bool, keeps_place: impl Fn(u32) -> bool) {
    let count = files.len().min(crate::learned::RERANKED_FILES);
    if count < 3 {
        return;
    }
    let empty = BTreeMap::new();
    // The model's features are relative to all the candidates, the first included.
    let evidence: Vec<&BTreeMap<&'static str, f32>> =
        files[..count].iter().map(|(file, _)| features.get(file).unwrap_or(&empty)).collect();
    let model = crate::learned::TreeModel::files();
    let vectors = crate::learned::feature_vectors(&evidence, long_task);
    let mut scored: Vec<(f32, usize)> = model.score_all(&vectors).into_iter().zip(0..).collect();
    let kept: Vec<bool> = files[..count].iter().map(|(file, _)| keeps_place(*file)).collect();
    scored.retain(|&(_, place)| !kept[place]);
    // Ties keep the fused order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // The moving files fill the slots not kept, in the model's order; each slot keeps its score.
    let moving: Vec<u32> = scored.iter().map(|&(_, place)| files[place].0).collect();
    let free_slots = (0..count).filter(|&slot| !kept[slot]);
    for (slot, file) in free_slots.zip(moving) {
        files[slot].0 = file;
    }
}

/// How many of the best files the relation features of [`note_relations_to_best_files`] are taken against.
const RELATION_SOURCES: usize = 3;

/// Records how each of the first [`crate::learned::RERANKED_FILES`] files relates to the best ones (features of
/// the learned order): `cochange_best` (share of the best file's commits it shared), `cochange_reverse` (largest
/// share of its own commits shared with one of the best three), `graph_best` (share of the best file's graph links
/// that reach it), `graph_reverse` (share of its own links that reach one of the best three), and `message_place`
/// (its place among the files of the past commits worded most like the task, whatever the `commit_messages`
/// weight).
fn note_relations_to_best_files(
    index: &Index,
    files: &[(u32, f32)],
    task_terms: &HashSet<String>,
    fusion: &mut Fusion,
) {
    let candidates: Vec<u32> = files.iter().take(crate::learned::RERANKED_FILES).map(|(f, _)| *f).collect();
    let is_candidate: HashSet<u32> = candidates.iter().copied().collect();
    let sources: Vec<u32> = candidates.iter().copied().take(RELATION_SOURCES).collect();
    if let Some(history) = index.co_change() {
        for (place, &source) in sources.iter().enumerate() {
            let Some(path) = index.file(source).map(|f| f.path()) else { continue };
            let source_commits = history.files.get(path).map_or(0, |entry| entry.0) as f32;
            for (partner, share) in history.partners(path) {
                let Some(partner_id) = index.file_id(partner).filter(|p| is_candidate.contains(p)) else { continue };
                if place == 0 {
                    fusion.note_largest(partner_id, "cochange_best", share);
                }
                // The share of the partner's own commits: a helper that only ever changes with the best file.
                let partner_commits = history.files.get(partner).map_or(0, |entry| entry.0).max(1) as f32;
                fusion.note_largest(
                    partner_id,
                    "cochange_reverse",
                    (share * source_commits / partner_commits).min(1.0),
                );
            }
        }
        let by_message = history.files_by_message(task_terms, 10);
        for (place, (path, _)) in by_message.iter().enumerate() {
            if let Some(file) = index.file_id(path).filter(|f| is_candidate.contains(f)) {
                fusion.note_place(file, "message_place", place + 1);
            }
        }
    }
    // The links between two files weigh the same from either side, so the best files' links give each
    // candidate's share too, divided by its own total, without walking every candidate's edges.
    let graph = index.graph();
    for (place, &source) in sources.iter().enumerate() {
        let source_weight = graph.file_link_weight(source);
        for (partner, share) in graph.linked_files(source) {
            if !is_candidate.contains(&partner) {
                continue;
            }
            if place == 0 {
                fusion.note_value(partner, "graph_best", share);
            }
            let partner_weight = graph.file_link_weight(partner);
            if partner_weight > 0.0 {
                fusion.note_largest(partner, "graph_reverse", (share * source_weight / partner_weight).min(1.0));
            }
        }
    }
}

/// Chunks of each best file whose words [`feedback_query`] reads: its best matches say what it is about, and
/// reading whole files (hub files run to thousands of lines) would cost more than the rest of the ranking.
const FEEDBACK_CHUNKS: usize = 4;

/// Score lent to files by the best files they are partners of (co-change, graph links): each partner gains
/// `share × lender's score` summed over its lenders, and rises towards its best lender, never past it.
#[derive(Default)]
struct PartnerBoosts {
    /// Per partner: the summed boost and the ceiling it may rise to.
    boosts: HashMap<u32, (f32, f32)>,
}

impl PartnerBoosts {
    /// `partner` gains `share` of `lender_score`.
    fn lend(&mut self, partner: u32, share: f32, lender_score: f32) {
        let entry = self.boosts.entry(partner).or_insert((0.0, 0.0));
        entry.0 += share * lender_score;
        entry.1 = entry.1.max(lender_score * 0.999);
    }

    /// Raises the partners among `files` (adding those not there yet) and sorts `files` again, best first.
    fn apply(mut self, files: &mut Vec<(u32, f32)>) {
        let raise = |score: f32, (boost, ceiling): (f32, f32)| score.max((score + boost).min(ceiling));
        for (file, score) in files.iter_mut() {
            if let Some(boost) = self.boosts.remove(file) {
                *score = raise(*score, boost);
            }
        }
        files.extend(self.boosts.into_iter().map(|(file, boost)| (file, raise(0.0, boost))));
        files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
}

/// The words the passages of the best files (best first: each file and the chunks of it to read) use most and
/// `task` does not, as a query: each word weighs its share of each file's words read (a file counting less the
/// further down it is) times how rare it is among the repository's chunks. Words in more than `max_share` of all
/// chunks are left out.
fn feedback_query(
    index: &Index,
    sources: &mut SourceCache<'_>,
    passages: &[(u32, Vec<u32>)],
    task: &str,
    wanted: usize,
    max_share: f32,
) -> Result<String, IndexError> {
    let mut in_task: HashSet<String> = HashSet::new();
    sextant_index::for_each_path_term(task, |term| {
        in_task.insert(term);
    });
    let mut weight: HashMap<String, f32> = HashMap::new();
    for (rank, (file, chunks)) in passages.iter().enumerate() {
        // A file gone or changed since it was indexed lends nothing: its chunks' lines may hold other code now.
        // The line starts are the ones packing cuts ranges of these files with.
        let (Some(indexed), Some(text)) = (index.file(*file), sources.text_lines(*file)) else { continue };
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut total = 0u32;
        for chunk in chunks.iter().filter_map(|&c| indexed.chunks().get(c as usize)) {
            sextant_index::for_each_path_term(text.range(chunk.span.start_line, chunk.span.end_line), |term| {
                total += 1;
                if term.len() >= 3 && !term.bytes().all(|b| b.is_ascii_digit()) && !in_task.contains(&term) {
                    *counts.entry(term).or_default() += 1;
                }
            });
        }
        let file_weight = 1.0 / (1.0 + rank as f32) / total.max(1) as f32;
        for (term, count) in counts {
            *weight.entry(term).or_default() += file_weight * count as f32;
        }
    }
    // Rarity is looked up for the most frequent words only: a lookup per word of three files would cost more than
    // the ranking.
    let mut frequent: Vec<(String, f32)> = weight.into_iter().collect();
    frequent.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    frequent.truncate(wanted * 8);
    let terms: Vec<String> = frequent.iter().map(|(t, _)| t.clone()).collect();
    let shares = index.chunk_shares(&terms)?;
    let mut scored: Vec<(String, f32)> = frequent
        .into_iter()
        .zip(shares)
        .filter(|(_, share)| *share > 0.0 && *share <= max_share)
        .map(|((term, weight), share)| (term, weight * -share.ln()))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(scored.into_iter().take(wanted).map(|(t, _)| t).collect::<Vec<_>>().join(" "))
}

/// Orders definitions by graph centrality, most central first (ties by id).
fn most_central_first(index: &Index, ids: &mut [SymbolId]) {
    ids.sort_by(|a, b| index.graph().symbol_rank(*b).total_cmp(&index.graph().symbol_rank(*a)).then(a.cmp(b)));
}

/// Whether `owner` (as a task writes `owner.member`) holds the definition `id`: a type or module around it in its
/// qualified name; for a top-level definition, also the directory of its file (a Go package) or its file's stem
/// (a Python or JS module). A method is not a module's member: `requests.get` is not `Session.get`.
fn owned_by(index: &Index, id: SymbolId, owner: &str) -> bool {
    let Some((file, symbol)) = index.symbol(id) else { return false };
    let mut scopes = symbol.qualified_name.split(['.', ':', '\\', '#']).filter(|s| !s.is_empty()).peekable();
    // The last part is the member itself.
    scopes.next_back();
    if scopes.peek().is_some() {
        return scopes.any(|scope| scope == owner);
    }
    let mut parts = file.path().rsplit('/');
    let name = parts.next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or(name);
    stem == owner || parts.next() == Some(owner)
}

/// The kinds of auxiliary code (see [`sextant_index::auxiliary_kind`]) a task names, by a word (`example`,
/// `benchmarks`, `docs`, …; read from the text itself, since some are stopwords to the task's terms) or by a path of
/// that kind: a task about an example needs the example.
fn auxiliary_kinds_named(task: &str, terms: &TaskTerms) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = terms.paths.iter().filter_map(|p| sextant_index::auxiliary_kind(p)).collect();
    sextant_index::add_auxiliary_kinds_named_in(task, &mut kinds);
    kinds
}

/// Whether the task is about tests themselves (it says "test" or names a test file), so tests keep their rank.
fn about_tests(terms: &TaskTerms) -> bool {
    terms.words.iter().chain(terms.identifiers.iter()).any(|w| sextant_index::is_test_word(&w.to_lowercase()))
        || terms.paths.iter().any(|p| sextant_index::is_test_path(p))
}

#[cfg(test)]
mod tests {
    use super::{rerank_files, FileFeatures, RankProfiles, RankWeights};

    #[test]
    fn the_learned_order_moves_files_and_keeps_the_scores_in_place() {
        // Without evidence every candidate scores alike, so the fused order stands; short lists are left alone.
        for count in [0, 1, 2, 5] {
            let mut files: Vec<(u32, f32)> = (0..count).map(|i| (i, 1.0 / (i + 1) as f32)).collect();
            let before = files.clone();
            rerank_files(&mut files, &FileFeatures::new(), true, |_| false);
            assert_eq!(files, before);
        }
        // A file with strong evidence in last place moves up.
        let mut features = FileFeatures::new();
        for file in 0..6u32 {
            let strong = file == 5;
            let rank = file as f32 + 1.0;
            features.entry(file).or_default().extend([
                ("final_rank", rank),
                ("final_score", 1.0 / rank),
                ("fused", 1.0 / rank),
                ("file_bm25", if strong { 1.0 } else { 50.0 }),
                ("file_bm25_share", if strong { 1.0 } else { 0.1 }),
                ("lexical_task", if strong { 1.0 } else { 100.0 }),
                ("lexical_files", if strong { 1.0 } else { 100.0 }),
                ("title", if strong { 1.0 } else { 50.0 }),
                ("feedback", if strong { 1.0 } else { 50.0 }),
            ]);
        }
        let mut files: Vec<(u32, f32)> = (0..6u32).map(|i| (i, 1.0 / (i + 1) as f32)).collect();
        let scores: Vec<f32> = files.iter().map(|(_, s)| *s).collect();
        let before = files.clone();
        rerank_files(&mut files, &features, true, |_| false);
        assert!(files.iter().position(|(f, _)| *f == 5).unwrap() < 5, "{files:?}");
        assert_eq!(files.iter().map(|(_, s)| *s).collect::<Vec<f32>>(), scores);
        let mut moved: Vec<u32> = files.iter().map(|(f, _)| *f).collect();
        moved.sort_unstable();
        assert_eq!(moved, (0..6).collect::<Vec<u32>>());
        // Files that keep their place stay put while the others move around them.
        let mut pinned = before.clone();
        rerank_files(&mut pinned, &features, true, |file| file == 0 || file == 5);
        assert_eq!((pinned[0], pinned[5]), (before[0], before[5]), "{pinned:?}");
        assert_eq!(pinned.iter().map(|(_, s)| *s).collect::<Vec<f32>>(), scores);
    }

    #[test]
    fn weights_parse_over_the_defaults_and_reject_unknown_names() {
        let weights: RankWeights = "graph=0.5, expanded_files=30,test_files=1".parse().unwrap();
        assert_eq!(weights.graph, 0.5);
        assert_eq!(weights.expanded_files, 30);
        assert_eq!(weights.test_files, 1.0);
        assert_eq!(weights.file_bm25, RankWeights::default().file_bm25);
        // Counts are whole and never below their least: `file_hits` sums at least one hit.
        let counts: RankWeights = "merge_max_tokens=2500.7,file_hits=0,fine_grained_prefix=-5".parse().unwrap();
        assert_eq!((counts.merge_max_tokens, counts.file_hits, counts.fine_grained_prefix), (2500, 1, 0));
        assert_eq!("".parse::<RankWeights>().unwrap(), RankWeights::default());
        assert!("grpah=1".parse::<RankWeights>().unwrap_err().contains("unknown ranking weight `grpah`"));
        assert!("graph=high".parse::<RankWeights>().unwrap_err().contains("not a number"));
        assert!("graph".parse::<RankWeights>().unwrap_err().contains("expected name=value"));
    }

    #[test]
    fn profiles_parse_per_shape_and_pick_by_the_task_length() {
        let profiles: RankProfiles = "graph=0.9,long.segments=1,short.path=2,long_task_words=3".parse().unwrap();
        assert_eq!((profiles.short.graph, profiles.long.graph), (0.9, 0.9));
        assert_eq!((profiles.short.segments, profiles.long.segments), (RankWeights::default().segments, 1.0));
        assert_eq!((profiles.short.path, profiles.long.path), (2.0, RankWeights::long_task().path));
        assert_eq!(profiles.for_task("two words"), &profiles.short);
        assert_eq!(profiles.for_task(" three  short\nwords "), &profiles.long);
        let uniform = RankProfiles::uniform(RankWeights::default());
        assert_eq!(uniform.for_task(&"word ".repeat(500)), &RankWeights::default());
        assert!("middle.graph=1".parse::<RankProfiles>().unwrap_err().contains("unknown ranking profile `middle`"));
        assert!("long.grpah=1".parse::<RankProfiles>().unwrap_err().contains("unknown ranking weight `grpah`"));
        assert!("long_task_words=many".parse::<RankProfiles>().unwrap_err().contains("not a word count"));
    }
}
