//! Tool arguments and structured results, with the JSON schemas agents see. Doc comments here are the
//! descriptions a model reads when it chooses a tool and fills its arguments, so they say what to pass and why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sextant_engine as engine;

/// Arguments of `context_pack`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackArgs {
    /// The task in natural language: the issue, bug report, feature request or question, as the user wrote it
    /// (stack traces, error messages and identifiers help).
    pub task: String,
    /// Token budget of the pack (o200k_base tokens); the pack never exceeds it. Default 8000.
    #[serde(default)]
    pub budget: Option<u32>,
    /// Repository name, when the server hosts several (see `status`).
    #[serde(default)]
    pub repository: Option<String>,
    /// Repository-relative paths the task is about.
    #[serde(default)]
    pub mentioned_paths: Vec<String>,
    /// Symbols the task is about (`parse`, `Parser::parse`, `Parser.parse`).
    #[serde(default)]
    pub mentioned_symbols: Vec<String>,
    /// Files the user has open in the editor.
    #[serde(default)]
    pub open_files: Vec<String>,
    /// Only these languages (`rust`, `python`, `typescript`, …).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Only files under these repository-relative directories.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Add the overview excerpt of the module the task is most about. Default false.
    #[serde(default)]
    pub include_overview: bool,
    /// Add the rule files (AGENTS.md, CLAUDE.md, …) that govern the included code. Default true.
    #[serde(default)]
    pub include_rules: Option<bool>,
}

/// One item of a pack (its text is in the Markdown content of the reply).
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackItemOut {
    /// `code` (a whole function or class), `skeleton` (signatures), `overview` or `rule`.
    pub kind: String,
    /// Repository-relative path.
    pub path: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// The main symbol, if any.
    pub symbol: String,
    /// Ranking score.
    pub score: f32,
    /// Tokens of the item.
    pub tokens: u32,
    /// Why it was chosen.
    pub reason: String,
}

/// Result of `context_pack`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackOut {
    /// Tokens of the whole pack.
    pub tokens: u32,
    /// The budget it fits.
    pub budget: u32,
    /// Index generation it was built from.
    pub generation: u64,
    /// The items, in pack order.
    pub items: Vec<PackItemOut>,
    /// Files ranked by relevance to the task, best first (more than the pack holds; the first 50).
    pub ranked_files: Vec<String>,
}

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to find: identifiers, words, a path, or a description in plain words.
    pub query: String,
    /// `lexical` (BM25 keywords), `semantic` (embeddings) or `hybrid` (both plus symbol names and paths).
    /// Default: hybrid (without vectors, it fuses the other signals).
    #[serde(default)]
    pub mode: Option<String>,
    /// Most results (1-100). Default 10.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only these languages.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Only files under these repository-relative directories.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Results of one file shown before every other file with a result has had its turn; 0 keeps plain score
    /// order. Default 1 (more shows more of the best files).
    #[serde(default)]
    pub per_file: Option<u32>,
    /// Repository name, when the server hosts several.
    #[serde(default)]
    pub repository: Option<String>,
}

/// One search result: a chunk of code.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HitOut {
    /// Repository-relative path.
    pub path: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Language id.
    pub language: String,
    /// The chunk's main symbol.
    pub symbol: String,
    /// Fused score.
    pub score: f32,
    /// A few matching lines.
    pub snippet: String,
    /// Signals that found it with their ranks, e.g. `lexical#1`, `semantic#3`.
    pub signals: Vec<String>,
}

/// Result of `search`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOut {
    /// The mode that ran.
    pub mode: String,
    /// Best first.
    pub hits: Vec<HitOut>,
}

/// Arguments of `symbol`, `references`, `callers` and `callees`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NameArgs {
    /// The symbol: `name`, `Type::name` or `Type.name`.
    pub name: String,
    /// Most items in this page (1-1000). Default 100.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Empty for the first page, else the `next_page_token` of the previous result.
    #[serde(default)]
    pub page_token: Option<String>,
    /// Repository name, when the server hosts several.
    #[serde(default)]
    pub repository: Option<String>,
}

/// A definition.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolOut {
    /// Repository-relative path.
    pub path: String,
    /// Qualified name within its file.
    pub qualified_name: String,
    /// `function`, `method`, `class`, …
    pub kind: String,
    /// Declaration header.
    pub signature: String,
    /// Doc comment, if any.
    pub doc: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Centrality in the symbol graph (1 is average).
    pub rank: f32,
}

/// Result of `symbol`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolsOut {
    /// Definitions in all pages.
    pub total: u32,
    /// Pass as `page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// This page.
    pub symbols: Vec<SymbolOut>,
}

/// A mention of a name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReferenceOut {
    /// Repository-relative path.
    pub path: String,
    /// Line of the mention.
    pub line: u32,
    /// Enclosing symbol (empty for top-level code).
    pub within: String,
    /// `call`, `type` or `identifier`.
    pub kind: String,
    /// What it resolved to (qualified names with paths); empty when unresolved.
    pub resolved_to: Vec<String>,
}

/// Result of `references`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReferencesOut {
    /// Mentions in all pages.
    pub total: u32,
    /// Pass as `page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// This page.
    pub references: Vec<ReferenceOut>,
}

/// One call edge.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RelationOut {
    /// The symbol asked about (qualified name).
    pub symbol: String,
    /// Path of the caller (for `callers`) or callee definition (for `callees`).
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The caller or callee (qualified name; empty for top-level code).
    pub other: String,
    /// 1 for a certain link, less when the name was ambiguous.
    pub weight: f32,
}

/// Result of `callers` and `callees`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RelationsOut {
    /// Edges in all pages.
    pub total: u32,
    /// Pass as `page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// This page.
    pub relations: Vec<RelationOut>,
}

/// Arguments of `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// Repository-relative path of an indexed file.
    pub path: String,
    /// First line (1-based). Default 1.
    #[serde(default)]
    pub start_line: Option<u32>,
    /// Last line (inclusive). Default: the end of the file.
    #[serde(default)]
    pub end_line: Option<u32>,
    /// Repository name, when the server hosts several.
    #[serde(default)]
    pub repository: Option<String>,
}

/// Result of `read_file`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FileOut {
    /// Repository-relative path.
    pub path: String,
    /// Language id.
    pub language: String,
    /// First line returned.
    pub start_line: u32,
    /// Last line returned.
    pub end_line: u32,
    /// Lines in the file.
    pub total_lines: u32,
    /// The range was cut short; ask again from `end_line + 1`.
    pub truncated: bool,
    /// The text.
    pub text: String,
}

/// Arguments of `overview`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverviewArgs {
    /// A module's path or name; omit for the repository page, which lists the modules.
    #[serde(default)]
    pub module: Option<String>,
    /// Repository name, when the server hosts several.
    #[serde(default)]
    pub repository: Option<String>,
}

/// A module of the repository.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModuleOut {
    /// Repository-relative directory.
    pub path: String,
    /// Display name.
    pub name: String,
    /// What kind of module (`cargo`, `npm`, `go`, `python`, `directory`, …).
    pub kind: String,
    /// What it is for, when known.
    pub purpose: String,
    /// Files.
    pub files: u64,
    /// Lines.
    pub lines: u64,
}

/// Result of `overview`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OverviewOut {
    /// Index generation the overview describes.
    pub generation: u64,
    /// Every module of the repository.
    pub modules: Vec<ModuleOut>,
}

/// Arguments of `status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// Only this repository; omit for all.
    #[serde(default)]
    pub repository: Option<String>,
}

/// One hosted repository's state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RepositoryOut {
    /// Name to pass as `repository`.
    pub name: String,
    /// Root directory.
    pub root: String,
    /// Whether an index answers queries.
    pub indexed: bool,
    /// Index generation (0 when not indexed).
    pub generation: u64,
    /// Indexed files.
    pub files: u64,
    /// Definitions.
    pub symbols: u64,
    /// Lines of code.
    pub lines: u64,
    /// Chunk vectors for semantic search (0 when none).
    pub vectors: u64,
    /// Why the last indexing run failed, if it did.
    pub last_error: String,
}

/// Result of `status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusOut {
    /// The repositories.
    pub repositories: Vec<RepositoryOut>,
}

/// Arguments of `reindex`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReindexArgs {
    /// Parse every file again instead of only the changed ones. Default false.
    #[serde(default)]
    pub force: bool,
    /// Repository name, when the server hosts several.
    #[serde(default)]
    pub repository: Option<String>,
}

/// Result of `reindex`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReindexOut {
    /// The new index generation.
    pub generation: u64,
    /// Indexed files.
    pub files: u64,
    /// Files parsed in this run.
    pub files_parsed: u64,
    /// Files removed since the last run.
    pub files_removed: u64,
    /// Whether nothing had changed.
    pub unchanged: bool,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// What was skipped without failing (for example no embedding model).
    pub warnings: Vec<String>,
}

impl From<&engine::PackItem> for PackItemOut {
    fn from(i: &engine::PackItem) -> Self {
        PackItemOut {
            kind: i.kind.as_str().to_string(),
            path: i.path.clone(),
            start_line: i.start_line,
            end_line: i.end_line,
            symbol: i.symbol.clone(),
            score: i.score,
            tokens: i.tokens,
            reason: i.reason.clone(),
        }
    }
}

impl From<engine::SearchHit> for HitOut {
    fn from(h: engine::SearchHit) -> Self {
        HitOut {
            signals: h.signals.iter().map(|s| format!("{}#{}", s.signal.name(), s.rank)).collect(),
            path: h.path,
            start_line: h.start_line,
            end_line: h.end_line,
            language: h.language,
            symbol: h.symbol,
            score: h.score,
            snippet: h.snippet,
        }
    }
}

impl From<engine::SymbolInfo> for SymbolOut {
    fn from(s: engine::SymbolInfo) -> Self {
        SymbolOut {
            path: s.path,
            qualified_name: s.qualified_name,
            kind: s.kind,
            signature: s.signature,
            doc: s.doc.unwrap_or_default(),
            start_line: s.start_line,
            end_line: s.end_line,
            rank: s.rank,
        }
    }
}

impl From<engine::ReferenceInfo> for ReferenceOut {
    fn from(r: engine::ReferenceInfo) -> Self {
        ReferenceOut {
            path: r.at.path,
            line: r.at.line,
            within: r.at.symbol.unwrap_or_default(),
            kind: r.kind,
            resolved_to: r.resolved_to,
        }
    }
}

impl From<engine::Relation> for RelationOut {
    fn from(r: engine::Relation) -> Self {
        RelationOut {
            symbol: r.subject.qualified_name,
            path: r.other.path,
            line: r.other.line,
            other: r.other.symbol.unwrap_or_default(),
            weight: r.weight,
        }
    }
}
