//! The command line: every command, argument and flag (clap derive). Nothing here runs anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sextant_engine::SearchMode;

#[derive(Parser)]
#[command(name = "sextant", version, about = "Code intelligence and retrieval for AI coding agents")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Target {
    /// Repository root (default: the current directory, or the nearest indexed parent).
    #[arg(long, global = true)]
    pub repo: Option<PathBuf>,
    /// Index directory (default: a directory under the user's cache named after the repository).
    #[arg(long, global = true, env = "SEXTANT_INDEX_DIR")]
    pub index_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the index here even when a running `sextant serve` hosts it (queries normally ask that server).
    #[arg(long, global = true)]
    pub no_server: bool,
}

#[derive(Args, Clone)]
pub struct VectorArgs {
    /// Skip embeddings: index for keyword and symbol search only.
    #[arg(long)]
    pub no_embed: bool,
    /// Keep vectors on this Qdrant server (gRPC, e.g. http://localhost:6334) instead of the embedded store.
    #[arg(long, env = "SEXTANT_QDRANT_URL")]
    pub qdrant_url: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Index a repository, or bring its index up to date (only changed files are parsed).
    Index {
        /// Repository root (default: the current directory).
        path: Option<PathBuf>,
        /// Ignore the previous index and parse everything.
        #[arg(long)]
        force: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        vectors: VectorArgs,
        #[command(flatten)]
        target: Target,
    },
    /// Rebuild a repository's index from scratch.
    Reindex {
        /// Repository root (default: the current directory).
        path: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        vectors: VectorArgs,
        #[command(flatten)]
        target: Target,
    },
    /// Keep a repository's index fresh: reindex changed files as they are saved (Ctrl-C to stop).
    Watch {
        /// Repository root (default: the current directory).
        path: Option<PathBuf>,
        /// Quiet period after the last change before reindexing, in milliseconds.
        #[arg(long, default_value_t = 20)]
        debounce_ms: u64,
        #[command(flatten)]
        target: Target,
    },
    /// What is indexed: when, at which commit, how much.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Ranked code chunks for a query.
    Search {
        /// Query text (identifiers, words, paths, or a description in plain words).
        query: String,
        /// Most results.
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
        /// lexical (BM25), semantic (embeddings) or hybrid (both, plus symbol names and paths; without vectors,
        /// the others); default: hybrid.
        #[arg(long)]
        mode: Option<SearchMode>,
        /// Only this language (repeatable): rust, python, …
        #[arg(long = "lang")]
        languages: Vec<String>,
        /// Only files under this repository-relative path (repeatable).
        #[arg(long = "path")]
        paths: Vec<String>,
        /// Results of one file shown before every other file with a result has had its turn; 0 keeps plain
        /// score order.
        #[arg(long = "per-file", default_value_t = sextant_engine::DEFAULT_CHUNKS_PER_FILE)]
        per_file: usize,
        #[command(flatten)]
        target: Target,
    },
    /// A context pack for a task that fits a token budget exactly.
    Pack {
        /// The task in natural language (an issue, a question); `-` reads it from standard input.
        task: String,
        /// Token budget of the rendered pack.
        #[arg(long, short, default_value_t = 8000)]
        budget: usize,
        /// Tokenizer that counts the budget: o200k_base or cl100k_base.
        #[arg(long, default_value = "o200k_base")]
        tokenizer: String,
        /// A path the task is about (repeatable).
        #[arg(long = "mention")]
        mentioned_paths: Vec<String>,
        /// A symbol the task is about (repeatable).
        #[arg(long = "symbol")]
        mentioned_symbols: Vec<String>,
        /// Only this language (repeatable).
        #[arg(long = "lang")]
        languages: Vec<String>,
        /// Only files under this path (repeatable).
        #[arg(long = "path")]
        paths: Vec<String>,
        /// Add the overview excerpt of the module the task is most about.
        #[arg(long)]
        overview: bool,
        /// Leave out the rule files (AGENTS.md, CLAUDE.md, …) that govern the included code.
        #[arg(long)]
        no_rules: bool,
        /// Ask this server instead of reading the index here (e.g. http://127.0.0.1:7711; sends $SEXTANT_TOKEN).
        /// Without it, a running `sextant serve` that hosts the index is found and asked anyway.
        #[arg(long)]
        server: Option<String>,
        /// The repository to ask `--server` for, when it hosts several.
        #[arg(long, requires = "server")]
        server_repository: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Serve repositories over gRPC (and keep their indexes fresh while files change).
    Serve {
        /// Repositories to host: `PATH` or `NAME=PATH` (default: the current directory).
        repositories: Vec<String>,
        /// A TOML file listing repositories: `[[repository]]` tables with `path`, optional `name` and `index_dir`.
        #[arg(long)]
        repos_file: Option<PathBuf>,
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = sextant_server::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Address of the overview web pages (loopback by default).
        #[arg(long, default_value = sextant_server::DEFAULT_HTTP_LISTEN)]
        http_listen: std::net::SocketAddr,
        /// Do not serve the overview web pages.
        #[arg(long)]
        no_http: bool,
        /// Environment variable holding the bearer token clients must send (unset variable: no authentication).
        #[arg(long, default_value = "SEXTANT_TOKEN")]
        token_env: String,
        /// Do not watch the repositories for changes.
        #[arg(long)]
        no_watch: bool,
        /// Skip embeddings: keyword, symbol and graph signals only.
        #[arg(long)]
        no_embed: bool,
        /// Largest pack budget accepted.
        #[arg(long, default_value_t = 200_000)]
        max_budget: usize,
        /// Requests processed at once.
        #[arg(long, default_value_t = 16)]
        max_concurrency: usize,
        #[command(flatten)]
        target: Target,
    },
    /// Serve repositories to a coding agent over the Model Context Protocol (stdio): indexes them in the
    /// background, watches them, and answers tool calls (context_pack, search, symbol, references, callers,
    /// callees, read_file, overview, status, reindex). Nothing but the protocol is written to stdout.
    Mcp {
        /// Repositories to host: `PATH` or `NAME=PATH` (default: the current directory).
        repositories: Vec<String>,
        /// A TOML file listing repositories: `[[repository]]` tables with `path`, optional `name` and `index_dir`.
        #[arg(long)]
        repos_file: Option<PathBuf>,
        /// Do not watch the repositories for changes.
        #[arg(long)]
        no_watch: bool,
        /// Do not index on start (answer from existing indexes only, until a `reindex` call).
        #[arg(long)]
        no_index: bool,
        /// Skip embeddings: keyword, symbol and graph signals only.
        #[arg(long)]
        no_embed: bool,
        /// Largest pack budget accepted.
        #[arg(long, default_value_t = 200_000)]
        max_budget: usize,
        #[command(flatten)]
        target: Target,
    },
    /// The project overview: the repository page, or one module's page.
    Overview {
        /// Module path or name (default: the repository page).
        module: Option<String>,
        /// Output format: md or json.
        #[arg(long, default_value = "md")]
        format: String,
        /// Write the whole overview as a static HTML site into this directory instead.
        #[arg(long)]
        html: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// Definitions of a symbol (`parse`, `Parser::parse`, `Parser.parse`).
    Symbol {
        /// Symbol name.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Mentions of a name, with what each resolved to.
    Refs {
        /// Symbol name.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Who calls a symbol.
    Callers {
        /// Symbol name.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// What a symbol calls.
    Callees {
        /// Symbol name.
        name: String,
        #[command(flatten)]
        target: Target,
    },
}
