//! `sextant`: index a repository and query it from the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, IndexSummary, Progress, SearchOptions};
use sextant_pack::{build_pack_with, ContextPack, PackRequest, TokenizerChoice};
use sextant_semantic::{SearchMode, SemanticEngine, SemanticError, SyncProgress, SyncReport, VectorState};

#[derive(Parser)]
#[command(name = "sextant", version, about = "Code intelligence and retrieval for AI coding agents")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Target {
    /// Repository root (default: the current directory, or the nearest indexed parent).
    #[arg(long, global = true)]
    repo: Option<PathBuf>,
    /// Index directory (default: a directory under the user's cache named after the repository).
    #[arg(long, global = true, env = "SEXTANT_INDEX_DIR")]
    index_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Args, Clone)]
struct VectorArgs {
    /// Skip embeddings: index for keyword and symbol search only.
    #[arg(long)]
    no_embed: bool,
    /// Keep vectors on this Qdrant server (gRPC, e.g. http://localhost:6334) instead of the embedded store.
    #[arg(long, env = "SEXTANT_QDRANT_URL")]
    qdrant_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
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
        #[arg(long, default_value_t = 150)]
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
        /// lexical (BM25), semantic (embeddings) or hybrid (both, plus symbol names and paths); default:
        /// hybrid when the index has vectors, else lexical.
        #[arg(long)]
        mode: Option<SearchMode>,
        /// Only this language (repeatable): rust, python, …
        #[arg(long = "lang")]
        languages: Vec<String>,
        /// Only files under this repository-relative path (repeatable).
        #[arg(long = "path")]
        paths: Vec<String>,
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
        /// Ask a running server instead of reading the index here (e.g. http://127.0.0.1:7711).
        #[arg(long)]
        server: Option<String>,
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
        /// Largest pack budget accepted.
        #[arg(long, default_value_t = 200_000)]
        max_budget: usize,
        /// Requests processed at once.
        #[arg(long, default_value_t = 16)]
        max_concurrency: usize,
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

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Index { path, force, quiet, vectors, target } => index(path, force, quiet, &vectors, &target),
        Command::Reindex { path, quiet, vectors, target } => index(path, true, quiet, &vectors, &target),
        Command::Watch { path, debounce_ms, target } => watch(path, Duration::from_millis(debounce_ms), &target),
        Command::Status { target } => status(&target),
        Command::Search { query, limit, mode, languages, paths, target } => {
            search(&target, &query, SearchOptions { limit, languages, paths }, mode)
        }
        Command::Pack {
            task,
            budget,
            tokenizer,
            mentioned_paths,
            mentioned_symbols,
            languages,
            paths,
            overview,
            no_rules,
            server,
            target,
        } => {
            let task = if task == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .context("reading the task from stdin")?;
                text
            } else {
                task
            };
            let tokenizer = TokenizerChoice::from_name(&tokenizer)
                .with_context(|| format!("unknown tokenizer {tokenizer:?} (use o200k_base or cl100k_base)"))?;
            let request = PackRequest {
                task,
                budget,
                tokenizer,
                mentioned_paths,
                mentioned_symbols,
                open_files: Vec::new(),
                languages,
                path_filters: paths,
                include_overview: overview,
                include_rules: !no_rules,
                semantic_hits: Vec::new(),
            };
            pack(&target, request, server.as_deref())
        }
        Command::Serve {
            mut repositories,
            repos_file,
            listen,
            http_listen,
            no_http,
            token_env,
            no_watch,
            max_budget,
            max_concurrency,
            target,
        } => {
            let listed = match &repos_file {
                Some(file) => load_repos_file(file)?,
                None => Vec::new(),
            };
            if repositories.is_empty() && listed.is_empty() {
                repositories.push(".".into());
            }
            let http = if no_http { None } else { Some(http_listen) };
            serve(repositories, listed, (listen, http), &token_env, !no_watch, (max_budget, max_concurrency), &target)
        }
        Command::Overview { module, format, html, target } => {
            overview(&target, module.as_deref(), &format, html.as_deref())
        }
        Command::Symbol { name, target } => symbol(&target, &name),
        Command::Refs { name, target } => refs(&target, &name),
        Command::Callers { name, target } => relations(&target, &name, true),
        Command::Callees { name, target } => relations(&target, &name, false),
    }
}

/// `<cache>/sextant/<dir name>-<hash of the canonical path>`.
fn default_index_dir(root: &Path) -> Result<PathBuf> {
    let cache = dirs::cache_dir().context("no cache directory on this system; pass --index-dir")?;
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "root".into());
    let hash =
        root.to_string_lossy().bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    Ok(cache.join("sextant").join(format!("{name}-{hash:016x}")))
}

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize().with_context(|| format!("cannot open {}", path.display()))
}

/// The index to query: `--index-dir`, else the default directory of `--repo`/cwd or of its nearest indexed parent.
fn open_index(target: &Target) -> Result<Index> {
    if let Some(dir) = &target.index_dir {
        return Index::open(dir).with_context(|| format!("opening index {}", dir.display()));
    }
    let start = canonical(target.repo.as_deref().unwrap_or(Path::new(".")))?;
    for root in start.ancestors() {
        let dir = default_index_dir(root)?;
        if dir.join("snapshot").exists() {
            return Index::open(&dir).with_context(|| format!("opening index {}", dir.display()));
        }
    }
    bail!("{} is not indexed; run `sextant index {}` first", start.display(), start.display())
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.0.set_message(name.to_string());
        self.0.set_position(0);
        match total {
            Some(total) => {
                self.0.set_length(total);
                self.0.set_style(
                    ProgressStyle::with_template("{msg:>6} [{bar:30}] {pos}/{len} files ({per_sec}, eta {eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
            }
            None => self.0.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        }
    }

    fn file_done(&self) {
        self.0.inc(1);
    }
}

fn index(path: Option<PathBuf>, force: bool, quiet: bool, vectors: &VectorArgs, target: &Target) -> Result<()> {
    let root = canonical(path.as_deref().or(target.repo.as_deref()).unwrap_or(Path::new(".")))?;
    let config = Config::for_repository(&root).context("loading configuration")?;
    let index_dir = match &target.index_dir {
        Some(dir) => dir.clone(),
        None => default_index_dir(&root)?,
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if quiet || target.json {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    let progress = Bar(bar);
    let options = IndexOptions { root: &root, index_dir: &index_dir, config: &config, force };
    let summary = index_repository(&options, &progress).with_context(|| format!("indexing {}", root.display()))?;
    progress.0.set_message("overview");
    let index = Index::open(&index_dir)?;
    sextant_overview::ensure(&index, &config).context("building the project overview")?;
    // Vectors come last: the index above is committed and already answers keyword and symbol queries.
    let embedded = if vectors.no_embed || !config.embed.enabled {
        None
    } else {
        embed(&index, &config, vectors.qdrant_url.as_deref(), &progress)?
    };
    progress.0.finish_and_clear();
    if target.json {
        let mut value = serde_json::to_value(&summary)?;
        value["vectors"] = serde_json::to_value(&embedded)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&summary, true);
        if let Some(report) = &embedded {
            print_sync_report(report, &index);
        }
    }
    Ok(())
}

impl SyncProgress for Bar {
    fn planned(&self, chunks: u64, to_embed: u64) {
        self.0.set_message(format!("embed ({to_embed} new)"));
        self.0.set_position(0);
        self.0.set_length(chunks);
        self.0.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} chunks ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }

    fn advanced(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Brings the index's vectors up to date. A missing model or runtime is a warning, not a failure: the index is
/// committed and complete for keyword and symbol search.
fn embed(index: &Index, config: &Config, qdrant_url: Option<&str>, progress: &Bar) -> Result<Option<SyncReport>> {
    progress.0.set_message("loading the embedding model");
    let engine = match SemanticEngine::open(index.dir(), config, qdrant_url) {
        Ok(engine) => engine,
        Err(SemanticError::Embed(error)) => {
            progress.0.suspend(|| {
                eprintln!("warning: no vectors: {error}");
                eprintln!("warning: the index is complete for keyword and symbol search; semantic search is off");
            });
            return Ok(None);
        }
        Err(error) => {
            return Err(error).context("opening the vector store (the keyword and symbol index is committed)")
        }
    };
    let report =
        engine.sync(index, progress).context("embedding chunks (the keyword and symbol index is committed)")?;
    Ok(Some(report))
}

fn points(n: u64) -> String {
    format!("{n} point{}", if n == 1 { "" } else { "s" })
}

fn print_sync_report(r: &SyncReport, index: &Index) {
    let location = VectorState::read(index.dir()).map(|s| s.location.to_string()).unwrap_or_default();
    if r.up_to_date {
        println!("  vectors: up to date, {} in {location}", points(r.points));
        return;
    }
    println!(
        "  vectors: embedded {} chunks ({:.1}/s), {} from cache, {} kept; deleted {}; {} in {location}",
        r.embedded,
        r.chunks_per_second(),
        r.from_cache,
        r.already_stored,
        r.deleted,
        points(r.points)
    );
    if r.files_changed_since_indexing > 0 {
        println!(
            "  vectors: {} files changed while embedding; run `sextant index` again",
            r.files_changed_since_indexing
        );
    }
}

fn watch(path: Option<PathBuf>, debounce: Duration, target: &Target) -> Result<()> {
    let root = canonical(path.as_deref().or(target.repo.as_deref()).unwrap_or(Path::new(".")))?;
    let index_dir = match &target.index_dir {
        Some(dir) => dir.clone(),
        None => default_index_dir(&root)?,
    };
    let spec = sextant_server::RepositorySpec { name: "watched".into(), root: root.clone(), index_dir };
    let json = target.json;
    runtime()?.block_on(async move {
        let hosted = std::sync::Arc::new(sextant_server::Hosted::new(spec).map_err(anyhow::Error::msg)?);
        let report = |summary: &IndexSummary| {
            if json {
                println!("{}", serde_json::to_string(summary).unwrap_or_default());
            } else if !summary.unchanged {
                println!(
                    "generation {}: parsed {}, removed {}, {} files in {} ms",
                    summary.generation, summary.files_parsed, summary.files_removed, summary.files, summary.elapsed_ms
                );
            }
        };
        report(&hosted.reindex(false, None).await.map_err(anyhow::Error::msg)?);
        let mut changes = sextant_server::watch_changes(&hosted.spec.root, &hosted.spec.index_dir, debounce)?;
        eprintln!("watching {} (Ctrl-C to stop)", root.display());
        loop {
            tokio::select! {
                change = changes.recv() => {
                    if change.is_none() {
                        return Ok(());
                    }
                    match hosted.reindex(false, None).await {
                        Ok(summary) => report(&summary),
                        Err(e) => eprintln!("warning: reindexing failed: {e}"),
                    }
                }
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    })
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn print_summary(s: &IndexSummary, after_indexing: bool) {
    if after_indexing {
        let state = if s.unchanged { "up to date" } else { "indexed" };
        println!(
            "{} {} in {:.2}s (generation {})",
            state,
            s.root.display(),
            s.elapsed_ms as f64 / 1000.0,
            s.generation
        );
        println!(
            "  files: {} (parsed {}, reused {}, removed {})",
            s.files, s.files_parsed, s.files_reused, s.files_removed
        );
    } else {
        println!("repository: {}", s.root.display());
        println!("index:      {} (generation {})", s.index_dir.display(), s.generation);
        println!("files:      {}", s.files);
    }
    if let Some(git) = &s.git {
        println!("  git: {} {}", git.branch.as_deref().unwrap_or("(detached)"), &git.head[..git.head.len().min(12)]);
    }
    let languages: Vec<String> =
        s.languages.iter().map(|(name, c)| format!("{name} {} files/{} lines", c.files, c.lines)).collect();
    println!("  languages: {}", if languages.is_empty() { "none".to_string() } else { languages.join(", ") });
    println!("  symbols {}, references {}, chunks {}, lines {}", s.symbols, s.references, s.chunks, s.lines);
    let edges: Vec<String> = s.edges.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  graph edges: {}", edges.join(", "));
    if s.files_with_syntax_errors > 0 || s.files_decoded_lossily > 0 {
        println!(
            "  parsed partially (syntax errors): {}, decoded lossily (not UTF-8): {}",
            s.files_with_syntax_errors, s.files_decoded_lossily
        );
    }
    let skipped_total: u64 = s.skipped.values().sum();
    if skipped_total > 0 {
        let reasons: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  skipped {}: {}", skipped_total, reasons.join(", "));
        for example in s.skipped_examples.iter().take(10) {
            println!("    {}: {}", example.path, example.reason);
        }
    }
    let ratio = if s.source_bytes > 0 { s.index_bytes as f64 / s.source_bytes as f64 } else { 0.0 };
    println!("  index size {} ({ratio:.2}x the {} of source)", human_bytes(s.index_bytes), human_bytes(s.source_bytes));
}

fn status(target: &Target) -> Result<()> {
    let index = open_index(target)?;
    let summary = index.status();
    if target.json {
        let mut value = serde_json::to_value(&summary)?;
        value["indexed_at"] = index.indexed_at().into();
        value["vectors"] = serde_json::to_value(VectorState::read(index.dir()))?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&summary, false);
        println!("  indexed at {} (unix seconds)", index.indexed_at());
        match VectorState::read(index.dir()) {
            Some(v) => println!(
                "  vectors: {} ({} {}-dim) in {} ({} on disk here), generation {}{}",
                points(v.points as u64),
                v.model,
                v.dimension,
                v.location,
                human_bytes(sextant_index::disk_usage(&index.dir().join(sextant_semantic::VECTORS_DIR))),
                v.generation,
                if v.generation == index.generation() && v.complete {
                    ""
                } else {
                    " (behind the index: run `sextant index`)"
                }
            ),
            None => println!("  vectors: none (keyword and symbol search only)"),
        }
    }
    Ok(())
}

fn search(target: &Target, query: &str, options: SearchOptions, mode: Option<SearchMode>) -> Result<()> {
    let index = open_index(target)?;
    let has_vectors = VectorState::read(index.dir()).is_some();
    let mode = mode.unwrap_or(if has_vectors { SearchMode::Hybrid } else { SearchMode::Lexical });
    let engine = match mode {
        SearchMode::Lexical => None,
        SearchMode::Semantic => {
            let config = Config::for_repository(Path::new(index.root())).context("loading configuration")?;
            let engine = SemanticEngine::open_synced(index.dir(), &config).context("opening the vectors")?;
            Some(engine.context("this index has no vectors; run `sextant index` with the model set up")?)
        }
        SearchMode::Hybrid => {
            let config = Config::for_repository(Path::new(index.root())).context("loading configuration")?;
            match SemanticEngine::open_synced(index.dir(), &config) {
                Ok(engine) => engine,
                Err(error) => {
                    eprintln!("warning: hybrid search without vectors: {error}");
                    None
                }
            }
        }
    };
    let hits = sextant_semantic::search(&index, engine.as_ref(), query, &options, mode)?;
    if target.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!("no results for {query:?}");
    }
    for hit in hits {
        let symbol = if hit.symbol.is_empty() { String::new() } else { format!("  {}", hit.symbol) };
        let signals: Vec<String> = hit.signals.iter().map(|s| format!("{}#{}", s.signal.name(), s.rank)).collect();
        println!(
            "{}:{}-{}{}  score {:.4}  [{}]",
            hit.path,
            hit.start_line,
            hit.end_line,
            symbol,
            hit.score,
            signals.join(" ")
        );
        for line in hit.snippet.lines() {
            println!("    {line}");
        }
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// One `[[repository]]` of a `--repos-file`.
#[derive(Debug, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RepositoryEntry {
    path: PathBuf,
    name: Option<String>,
    index_dir: Option<PathBuf>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReposFile {
    repository: Vec<RepositoryEntry>,
}

/// Reads a repositories file; relative paths are relative to the file.
fn load_repos_file(file: &Path) -> Result<Vec<RepositoryEntry>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed: ReposFile =
        toml::from_str(&text).with_context(|| format!("{} is not a valid repositories file", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    Ok(parsed
        .repository
        .into_iter()
        .map(|entry| RepositoryEntry {
            path: base.join(&entry.path),
            name: entry.name,
            index_dir: entry.index_dir.map(|d| base.join(d)),
        })
        .collect())
}

fn serve(
    entries: Vec<String>,
    listed: Vec<RepositoryEntry>,
    (listen, http_listen): (std::net::SocketAddr, Option<std::net::SocketAddr>),
    token_env: &str,
    watch: bool,
    (max_budget, max_concurrency): (usize, usize),
    target: &Target,
) -> Result<()> {
    let mut specs = Vec::new();
    for entry in listed {
        let root = canonical(&entry.path)?;
        let name =
            entry.name.unwrap_or_else(|| root.file_name().map_or("root".into(), |n| n.to_string_lossy().into_owned()));
        let index_dir = match entry.index_dir {
            Some(dir) => dir,
            None => default_index_dir(&root)?,
        };
        specs.push(sextant_server::RepositorySpec { name, root, index_dir });
    }
    for entry in &entries {
        let (name, path) = match entry.split_once('=') {
            Some((name, path)) => (Some(name.to_string()), PathBuf::from(path)),
            None => (None, PathBuf::from(entry)),
        };
        let root = canonical(&path)?;
        let name = name.unwrap_or_else(|| root.file_name().map_or("root".into(), |n| n.to_string_lossy().into_owned()));
        let index_dir = match (&target.index_dir, entries.len() + specs.len()) {
            (Some(dir), 1) => dir.clone(),
            (Some(_), _) => bail!("--index-dir can only be used with a single repository"),
            (None, _) => default_index_dir(&root)?,
        };
        specs.push(sextant_server::RepositorySpec { name, root, index_dir });
    }
    let mut config = sextant_server::ServerConfig::new(specs);
    config.listen = listen;
    config.http_listen = http_listen;
    config.token = std::env::var(token_env).ok().filter(|t| !t.is_empty());
    config.watch = watch;
    config.max_budget = max_budget;
    config.max_concurrency = max_concurrency;
    if !listen.ip().is_loopback() && config.token.is_none() {
        eprintln!("warning: listening on {listen} without a token; set {token_env} to require one");
    }
    runtime()?.block_on(async move {
        let running = sextant_server::start(config).await?;
        let names: Vec<String> =
            running.repositories.iter().map(|r| format!("{} ({})", r.spec.name, r.spec.root.display())).collect();
        eprintln!("sextant serving {} on {}", names.join(", "), running.addr);
        if let Some(http) = running.http_addr {
            eprintln!("overview pages at http://{http}/");
        }
        tokio::select! {
            result = running.wait() => result.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

fn remote_pack(url: &str, request: PackRequest) -> Result<ContextPack> {
    use sextant_server::v1;
    runtime()?.block_on(async move {
        let mut client = v1::sextant_client::SextantClient::connect(url.to_string())
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let mut message = tonic::Request::new(v1::GetContextPackRequest {
            repository: String::new(),
            task: request.task,
            budget: request.budget as u32,
            tokenizer: match request.tokenizer {
                TokenizerChoice::O200kBase => v1::Tokenizer::O200kBase,
                TokenizerChoice::Cl100kBase => v1::Tokenizer::Cl100kBase,
            } as i32,
            mentioned_paths: request.mentioned_paths,
            mentioned_symbols: request.mentioned_symbols,
            open_files: request.open_files,
            languages: request.languages,
            path_filters: request.path_filters,
            include_overview: request.include_overview,
            include_rules: request.include_rules,
        });
        if let Ok(token) = std::env::var("SEXTANT_TOKEN") {
            message.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().context("token is not a valid header value")?,
            );
        }
        let pack = client
            .get_context_pack(message)
            .await
            .map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))?
            .into_inner();
        Ok(ContextPack {
            items: pack
                .items
                .into_iter()
                .map(|i| sextant_pack::PackItem {
                    kind: match v1::ItemKind::try_from(i.kind) {
                        Ok(v1::ItemKind::Skeleton) => sextant_pack::ItemKind::Skeleton,
                        Ok(v1::ItemKind::Overview) => sextant_pack::ItemKind::Overview,
                        Ok(v1::ItemKind::Rule) => sextant_pack::ItemKind::Rule,
                        _ => sextant_pack::ItemKind::Code,
                    },
                    path: i.path,
                    start_line: i.start_line,
                    end_line: i.end_line,
                    symbol: i.symbol,
                    score: i.score,
                    tokens: i.tokens,
                    reason: i.reason,
                    content: i.content,
                })
                .collect(),
            text: pack.text,
            tokens: pack.tokens as usize,
            budget: pack.budget as usize,
            ranked_files: pack.ranked_files,
            generation: pack.index_generation,
        })
    })
}

fn pack(target: &Target, request: PackRequest, server: Option<&str>) -> Result<()> {
    let pack: ContextPack = match server {
        Some(url) => remote_pack(url, request)?,
        None => {
            let index = open_index(target)?;
            let overview = if request.include_overview || request.include_rules {
                let config = Config::for_repository(Path::new(index.root())).context("loading configuration")?;
                Some(sextant_overview::ensure(&index, &config).context("building the project overview")?)
            } else {
                None
            };
            let mut request = request;
            if VectorState::read(index.dir()).is_some() {
                let config = Config::for_repository(Path::new(index.root())).context("loading configuration")?;
                let hits = SemanticEngine::open_synced(index.dir(), &config).and_then(|engine| match engine {
                    Some(engine) => engine.pack_hits(&request.task, &request.languages, &request.path_filters),
                    None => Ok(Vec::new()),
                });
                match hits {
                    Ok(hits) => request.semantic_hits = hits,
                    Err(e) => eprintln!("warning: packing without the semantic signal: {e}"),
                }
            }
            build_pack_with(&index, &request, overview.as_ref())?
        }
    };
    if target.json {
        println!("{}", serde_json::to_string_pretty(&pack)?);
    } else {
        print!("{}", pack.text);
        eprintln!("-- {} items, {} of {} tokens", pack.items.len(), pack.tokens, pack.budget);
    }
    Ok(())
}

fn overview(target: &Target, module: Option<&str>, format: &str, html: Option<&Path>) -> Result<()> {
    let index = open_index(target)?;
    let config = Config::for_repository(Path::new(index.root())).context("loading configuration")?;
    let overview = sextant_overview::ensure(&index, &config).context("building the project overview")?;
    if let Some(dir) = html {
        let pages = sextant_overview::html::write_site(&overview, dir)?;
        println!("wrote {pages} pages to {} (open index.html)", dir.display());
        return Ok(());
    }
    let position = match module {
        None => 0,
        Some(name) => overview
            .module_index(name)
            .ok_or_else(|| sextant_overview::OverviewError::UnknownModule(name.to_string()))?,
    };
    match format {
        "json" if position == 0 => println!("{}", serde_json::to_string_pretty(&overview)?),
        "json" => println!("{}", serde_json::to_string_pretty(&overview.modules[position])?),
        "md" | "markdown" => {
            let page = sextant_overview::markdown_page(
                &overview,
                Some(position),
                config.overview.max_page_chars,
                sextant_overview::LinkStyle::Plain,
            );
            print!("{page}");
        }
        other => bail!("unknown format {other:?} (use md or json)"),
    }
    Ok(())
}

fn symbol(target: &Target, name: &str) -> Result<()> {
    let index = open_index(target)?;
    let symbols = index.find_symbols(name);
    if target.json {
        println!("{}", serde_json::to_string_pretty(&symbols)?);
        return Ok(());
    }
    if symbols.is_empty() {
        println!("no definition of {name:?}");
    }
    for s in symbols {
        println!("{}:{}-{}  {} {}  (rank {:.2})", s.path, s.start_line, s.end_line, s.kind, s.qualified_name, s.rank);
        println!("    {}", s.signature);
        if let Some(doc) = s.doc.as_deref().and_then(|d| d.lines().next()) {
            println!("    // {doc}");
        }
    }
    Ok(())
}

fn refs(target: &Target, name: &str) -> Result<()> {
    let index = open_index(target)?;
    let references = index.references(name);
    if target.json {
        println!("{}", serde_json::to_string_pretty(&references)?);
        return Ok(());
    }
    if references.is_empty() {
        println!("no references to {name:?}");
    }
    for r in references {
        let within = r.at.symbol.as_deref().unwrap_or("<top level>");
        let resolved = if r.resolved_to.is_empty() {
            "unresolved".to_string()
        } else {
            format!("-> {}", r.resolved_to.join(", "))
        };
        println!("{}:{}  {} in {}  {}", r.at.path, r.at.line, r.kind, within, resolved);
    }
    Ok(())
}

fn relations(target: &Target, name: &str, callers: bool) -> Result<()> {
    let index = open_index(target)?;
    let relations = if callers { index.callers(name) } else { index.callees(name) };
    if target.json {
        println!("{}", serde_json::to_string_pretty(&relations)?);
        return Ok(());
    }
    if relations.is_empty() {
        println!("no {} of {name:?}", if callers { "callers" } else { "callees" });
    }
    for r in relations {
        let other = r.other.symbol.as_deref().unwrap_or("<top level>");
        let certainty = if r.weight < 1.0 { format!("  (ambiguous, weight {:.2})", r.weight) } else { String::new() };
        if callers {
            println!("{}:{}  {} calls {}{}", r.other.path, r.other.line, other, r.subject.qualified_name, certainty);
        } else {
            println!("{} calls {}  ({}:{}){}", r.subject.qualified_name, other, r.other.path, r.other.line, certainty);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_file_resolves_paths_against_itself() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("repos.toml");
        std::fs::write(&file, "[[repository]]\nname = \"api\"\npath = \"services/api\"\nindex_dir = \"idx/api\"\n\n[[repository]]\npath = \"/abs/web\"\n").unwrap();
        let entries = load_repos_file(&file).unwrap();
        assert_eq!(
            entries[0],
            RepositoryEntry {
                path: dir.path().join("services/api"),
                name: Some("api".into()),
                index_dir: Some(dir.path().join("idx/api"))
            }
        );
        assert_eq!(entries[1].path, PathBuf::from("/abs/web"));
        std::fs::write(&file, "[[repository]]\npaht = \"x\"\n").unwrap();
        let error = format!("{:#}", load_repos_file(&file).unwrap_err());
        assert!(error.contains("paht"), "{error}");
    }
}
