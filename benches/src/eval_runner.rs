//! Retrieval evaluation runner:
//! `cargo run --release -p sextant-benches --bin eval-runner -- --data DEV.jsonl --mirrors DIR --work DIR --out PRED.jsonl
//!  [--repos owner/name,…] [--sources a,b] [--skip-per-repo N] [--per-repo N] [--limit N] [--budget 32000]
//!  [--search-modes lexical,semantic,hybrid] [--variants name:weight=value,…;name2:…] [--dense | --dense-cards]`
//!
//! For each row it writes the tree of the row's repository at its base commit from the bare mirror at
//! `DIR/<owner>+<name>/repo` (only files whose blob changed since the previous row of the same repository are
//! rewritten, so the index update re-parses only those), indexes it incrementally, builds the context pack for the
//! row's query at the budget, and writes the predictions format of `shared/eval/README.md`. Score the output with
//! `python3 shared/eval/harness.py score DEV.jsonl PRED.jsonl`.
//!
//! The rows evaluated are written to `rows.jsonl` beside PRED, for running the BM25 baseline on the same rows.
//!
//! Mirrors are matched case-insensitively (data sets spell owners differently); rows whose repository has no
//! mirror are listed on stderr, never silently dropped.
//!
//! With `--variants`, each row's pack is also built with other ranking weights (see `sextant_pack::RankProfiles`:
//! `long.x=…` and `short.x=…` set one profile) and written to `PRED.<name>.jsonl`, so one run over the rows
//! compares several settings on the same indexes.
//!
//! With `--features SPEC` (weights over the defaults, may be empty), each row's 60 best-ranked files under those
//! weights are written to `PRED.features.jsonl` with their evidence by signal (`sextant_pack::FileFeatures`), for
//! learning the fusion offline (`benches/eval/learn_fusion.py`).
//!
//! With `--chunk-features SPEC`, each row's first code candidates under those weights, in the order the pack fill
//! takes them, are written to `PRED.chunks.jsonl` with their exact tokens and features
//! (`sextant_pack::chunk_candidates`), for learning the chunk order offline (`benches/eval/learn_chunks.py`).
//!
//! With `--dense`, packs also get the dense signals: each row's file cards and chunk vectors are brought up to date
//! (through the vector cache) before its pack; `--dense-cards` embeds the file cards alone, a tenth of the model
//! time, and packs get no chunk hits even where an earlier `--dense` run left chunk vectors in the work
//! directory's stores (what a large repository has in its first minutes).
//!
//! With `--search-modes`, it evaluates search instead of packs: after indexing it brings the row's vectors up to
//! date (through the vector cache, so each commit embeds only chunks never seen) and writes, per mode,
//! `PRED.<mode>.jsonl` with the files of the top search results in order, for file recall@k, and the hits
//! themselves as the pack's items, so hunk recall scores the lines a page of results shows.
//! `--no-vectors` leaves the dense signal out (hybrid then fuses the others), which needs no model.
//! `--search-limit N` asks each search for N hits (default 200; 10 scores one page of results), and
//! `--per-file 0,1,3` writes one file per mode and `SearchOptions::chunks_per_file` (`PRED.<mode>-pf<N>.jsonl`);
//! `--search-word-variants X` sets `SearchOptions::word_variants` for every search (default 0, as the front ends).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, NoProgress, SearchOptions};
use sextant_pack::{build_pack, PackRequest, RankProfiles, TokenizerChoice};
use sextant_semantic::{NoSyncProgress, SearchMode, SemanticEngine, StoreLocation};

#[path = "common.rs"]
mod common;
use common::percentile;

/// Chunks asked of a search per row; their files, in order, are the ranking.
const SEARCH_CHUNKS: usize = 200;

struct Args {
    data: PathBuf,
    mirrors: PathBuf,
    work: PathBuf,
    out: PathBuf,
    repos: Vec<String>,
    sources: Vec<String>,
    /// Rows of each repository passed over before `per_repo` are taken (`--skip-per-repo`): rows 13-24 of each
    /// repository are ones that tuning on the first 12 never saw.
    skip_per_repo: usize,
    per_repo: usize,
    limit: usize,
    budget: usize,
    search_modes: Vec<SearchMode>,
    /// Hits each search asks for (`--search-limit`).
    search_limit: usize,
    /// `SearchOptions::chunks_per_file` values to compare (`--per-file`); empty: the default alone.
    per_file: Vec<usize>,
    /// `SearchOptions::word_variants` of every search (`--search-word-variants`).
    search_word_variants: f32,
    dense: bool,
    /// With `--dense`: embed file cards only, not chunks.
    cards_only: bool,
    hybrid_variants: Vec<(String, sextant_semantic::HybridWeights)>,
    variants: Vec<(String, RankProfiles)>,
    /// Weights whose per-file evidence by signal is written to `PRED.features.jsonl` (`--features`).
    features: Option<RankProfiles>,
    /// Weights whose code candidates are written to `PRED.chunks.jsonl` (`--chunk-features`).
    chunk_features: Option<RankProfiles>,
    no_vectors: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        data: PathBuf::new(),
        mirrors: PathBuf::new(),
        work: PathBuf::from("target/eval"),
        out: PathBuf::from("target/eval/pred.jsonl"),
        repos: Vec::new(),
        sources: Vec::new(),
        skip_per_repo: 0,
        per_repo: usize::MAX,
        limit: usize::MAX,
        budget: 32_000,
        search_modes: Vec::new(),
        search_limit: SEARCH_CHUNKS,
        per_file: Vec::new(),
        search_word_variants: 0.0,
        dense: false,
        cards_only: false,
        hybrid_variants: Vec::new(),
        variants: Vec::new(),
        features: None,
        chunk_features: None,
        no_vectors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => args.data = value()?.into(),
            "--mirrors" => args.mirrors = value()?.into(),
            "--work" => args.work = value()?.into(),
            "--out" => args.out = value()?.into(),
            "--repos" => args.repos = value()?.split(',').map(str::to_string).collect(),
            "--sources" => args.sources = value()?.split(',').map(str::to_string).collect(),
            "--skip-per-repo" => args.skip_per_repo = value()?.parse()?,
            "--per-repo" => args.per_repo = value()?.parse()?,
            "--limit" => args.limit = value()?.parse()?,
            "--budget" => args.budget = value()?.parse()?,
            // The dense signals in packs: file cards and chunk vectors (`--dense`), or file cards alone
            // (`--dense-cards`, a tenth of the model time).
            "--dense" => args.dense = true,
            "--dense-cards" => {
                args.dense = true;
                args.cards_only = true;
            }
            // Hybrid search without the dense signal (no model, no embedding): the other signals alone.
            "--no-vectors" => args.no_vectors = true,
            // `name:lexical=1,semantic=2;name2:…`: extra hybrid runs with other fusion weights.
            "--hybrid-weights" => {
                for variant in value()?.split(';').filter(|v| !v.is_empty()) {
                    let (name, spec) = variant.split_once(':').context("expected name:weights")?;
                    args.hybrid_variants.push((name.to_string(), spec.parse().map_err(anyhow::Error::msg)?));
                }
            }
            // `name:graph=0.5,file_prior=0.3;name2:…`: packs with other ranking weights.
            "--variants" => {
                for variant in value()?.split(';').filter(|v| !v.is_empty()) {
                    let (name, spec) = variant.split_once(':').unwrap_or((variant, ""));
                    args.variants.push((name.to_string(), spec.parse().map_err(anyhow::Error::msg)?));
                }
            }
            // `graph=0.5,…` (may be empty: the defaults): each row's candidate files with their evidence by signal.
            "--features" => args.features = Some(value()?.parse().map_err(anyhow::Error::msg)?),
            // The same, may be empty: each row's code candidates in fill order with their features.
            "--chunk-features" => args.chunk_features = Some(value()?.parse().map_err(anyhow::Error::msg)?),
            "--search-modes" => {
                args.search_modes =
                    value()?.split(',').map(|m| m.parse().map_err(anyhow::Error::msg)).collect::<Result<_>>()?
            }
            "--search-limit" => args.search_limit = value()?.parse()?,
            "--search-word-variants" => args.search_word_variants = value()?.parse()?,
            "--per-file" => {
                args.per_file =
                    value()?.split(',').map(|n| n.parse().map_err(anyhow::Error::from)).collect::<Result<_>>()?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if args.data.as_os_str().is_empty() || args.mirrors.as_os_str().is_empty() {
        bail!("usage: eval-runner --data DEV.jsonl --mirrors DIR [--work DIR] [--out PRED.jsonl] [--repos a/b,…] [--sources s,…] [--skip-per-repo N] [--per-repo N] [--limit N] [--budget N]");
    }
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let file = std::fs::File::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let mut rows: Vec<Value> = Vec::new();
    let mut per_repo: HashMap<String, usize> = HashMap::new();
    let mirrors = Mirrors::scan(&args.mirrors)?;
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let row: Value = serde_json::from_str(&line?)?;
        let repo = row["repo"].as_str().unwrap_or_default().to_string();
        let source = row["source"].as_str().unwrap_or_default();
        if (!args.repos.is_empty() && !args.repos.contains(&repo))
            || (!args.sources.is_empty() && !args.sources.iter().any(|s| s == source))
        {
            continue;
        }
        if mirrors.path(&repo).is_none() {
            *missing.entry(repo).or_default() += 1;
            continue;
        }
        let seen = per_repo.entry(repo).or_default();
        *seen += 1;
        if *seen <= args.skip_per_repo || *seen > args.skip_per_repo.saturating_add(args.per_repo) {
            continue;
        }
        rows.push(row);
        if rows.len() >= args.limit {
            break;
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|(repo, rows)| format!("{repo} ({rows} rows)")).collect();
        eprintln!("warning: no mirror under {} for: {}", args.mirrors.display(), list.join(", "));
    }
    // Rows of one repository together, so each commit is an incremental update of the previous one.
    rows.sort_by(|a, b| a["repo"].as_str().cmp(&b["repo"].as_str()));
    std::fs::create_dir_all(&args.work)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // The rows evaluated, so a baseline (`harness.py baseline rows.jsonl …`) runs on exactly them.
    let mut selected = std::io::BufWriter::new(std::fs::File::create(args.out.with_file_name("rows.jsonl"))?);
    for row in &rows {
        writeln!(selected, "{row}")?;
    }
    selected.flush()?;
    if !args.search_modes.is_empty() {
        return evaluate_search(&args, &mirrors, &rows);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
    let mut variant_outs = Vec::new();
    for (name, weights) in &args.variants {
        let path = args.out.with_extension(format!("{name}.jsonl"));
        variant_outs.push((name.clone(), *weights, std::io::BufWriter::new(std::fs::File::create(&path)?)));
    }
    let mut features_out = match &args.features {
        Some(_) => Some(std::io::BufWriter::new(std::fs::File::create(args.out.with_extension("features.jsonl"))?)),
        None => None,
    };
    let mut chunks_out = match &args.chunk_features {
        Some(_) => Some(std::io::BufWriter::new(std::fs::File::create(args.out.with_extension("chunks.jsonl"))?)),
        None => None,
    };
    let mut timings: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let embedder = if args.dense {
        let config = Config::defaults()?;
        Some(sextant_semantic::shared_embedder(&sextant_embed::EmbedderOptions::from_settings(&config.embed))?)
    } else {
        None
    };
    for row in &rows {
        let repo = row["repo"].as_str().unwrap_or_default();
        let commit = row["base_commit"].as_str().unwrap_or_default();
        let id = row["instance_id"].as_str().unwrap_or_default();
        let key = repo.replace('/', "+");
        let tree = args.work.join("trees").join(&key);
        let started = Instant::now();
        let written = materialize(
            mirrors.path(repo).context("mirror vanished")?,
            commit,
            &tree,
            &args.work.join("trees").join(format!("{key}.manifest.json")),
        )
        .with_context(|| format!("materializing {repo}@{commit}"))?;
        let materialized_s = started.elapsed().as_secs_f64();
        let index_dir = args.work.join("indexes").join(&key);
        let config = Config::for_repository(&tree).unwrap_or(Config::defaults()?);
        let summary = index_repository(
            &IndexOptions { root: &tree, index_dir: &index_dir, config: &config, force: false },
            &NoProgress,
        )?;
        let indexed_s = started.elapsed().as_secs_f64() - materialized_s;
        let index = Index::open(&index_dir)?;
        let mut dense = sextant_semantic::DenseHits::default();
        if let Some(embedder) = &embedder {
            let location = StoreLocation::for_index(&index_dir, &config, None);
            let store = location.open(embedder.dimension(), None)?;
            let cards = location.file_cards().open(embedder.dimension(), None)?;
            let engine =
                SemanticEngine::with_parts(embedder.clone(), store, location, &index_dir, config.embed.batch_size)
                    .with_file_cards(cards)
                    .with_chunk_vectors(!args.cards_only);
            let synced = Instant::now();
            let report = engine.sync(&index, &NoSyncProgress)?;
            timings.entry("embed").or_default().push(synced.elapsed().as_secs_f64());
            eprintln!(
                "{id}: {} file cards embedded, {} from cache; {} chunks embedded",
                report.cards_embedded, report.cards_from_cache, report.embedded
            );
            let query = sextant_pack::retrieval_text(row["query"].as_str().unwrap_or_default());
            dense = engine.dense_hits(&query, &[], &[])?;
            if args.cards_only {
                // The chunk store may hold vectors from an earlier `--dense` run; file cards alone are asked for.
                dense.chunks.clear();
            }
        }
        let pack_started = Instant::now();
        let request = PackRequest {
            task: row["query"].as_str().unwrap_or_default().to_string(),
            budget: args.budget,
            tokenizer: TokenizerChoice::O200kBase,
            semantic_hits: dense.chunks,
            semantic_file_hits: dense.files,
            ..Default::default()
        };
        let pack = build_pack(&index, &request)?;
        let pack_s = pack_started.elapsed().as_secs_f64();
        timings.entry("index").or_default().push(indexed_s);
        timings.entry("pack").or_default().push(pack_s);
        write_prediction(&mut out, id, &pack)?;
        for (_, weights, variant_out) in &mut variant_outs {
            let pack = build_pack(&index, &PackRequest { weights: *weights, ..request.clone() })?;
            write_prediction(variant_out, id, &pack)?;
        }
        if let (Some(weights), Some(features_out)) = (&args.features, &mut features_out) {
            let request = PackRequest { weights: *weights, record_features: true, ..request.clone() };
            write_features(features_out, id, &index, &request)?;
        }
        if let (Some(weights), Some(chunks_out)) = (&args.chunk_features, &mut chunks_out) {
            let request = PackRequest { weights: *weights, ..request.clone() };
            let candidates = sextant_pack::chunk_candidates(&index, &request)?;
            let long = request.weights.is_long(&request.task);
            writeln!(chunks_out, "{}", json!({"instance_id": id, "long": long, "chunks": candidates}))?;
        }
        let gold: Vec<&str> =
            row["gold_files"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let ranks: Vec<Option<usize>> =
            gold.iter().map(|g| pack.ranked_files.iter().position(|f| f == g).map(|p| p + 1)).collect();
        eprintln!(
            "{id}: {} files written, {} parsed, index {:.2}s, pack {:.0} ms, gold ranks {:?}",
            written,
            summary.files_parsed,
            indexed_s,
            pack_s * 1000.0,
            ranks
        );
    }
    for out in [features_out, chunks_out].into_iter().flatten() {
        out.into_inner().map_err(|e| e.into_error())?;
    }
    for (name, values) in &timings {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| percentile(&sorted, p);
        eprintln!("{name}: p50 {:.3}s p99 {:.3}s over {} rows", pct(0.5), pct(0.99), sorted.len());
    }
    Ok(())
}

/// Search evaluation: one predictions file per mode.
fn evaluate_search(args: &Args, mirrors: &Mirrors, rows: &[Value]) -> Result<()> {
    let needs_vectors = !args.no_vectors && args.search_modes.iter().any(|m| *m != SearchMode::Lexical);
    let embedder = if needs_vectors {
        let config = Config::defaults()?;
        Some(std::sync::Arc::new(sextant_embed::Embedder::load(&sextant_embed::EmbedderOptions::from_settings(
            &config.embed,
        ))?))
    } else {
        None
    };
    let mut outputs = Vec::new();
    let per_file_values: Vec<Option<usize>> =
        if args.per_file.is_empty() { vec![None] } else { args.per_file.iter().copied().map(Some).collect() };
    for mode in &args.search_modes {
        for per_file in &per_file_values {
            let mut name = format!("{mode:?}").to_lowercase();
            if let Some(n) = per_file {
                name.push_str(&format!("-pf{n}"));
            }
            let path = args.out.with_extension(format!("{name}.jsonl"));
            let weights = sextant_semantic::HybridWeights::default();
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            outputs.push((name, *mode, weights, *per_file, file));
        }
    }
    for (name, weights) in &args.hybrid_variants {
        let path = args.out.with_extension(format!("hybrid-{name}.jsonl"));
        outputs.push((
            format!("hybrid-{name}"),
            SearchMode::Hybrid,
            *weights,
            None,
            std::io::BufWriter::new(std::fs::File::create(&path)?),
        ));
    }
    let (mut embedded, mut model_seconds) = (0u64, 0f64);
    let mut latencies: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for row in rows {
        let repo = row["repo"].as_str().unwrap_or_default();
        let commit = row["base_commit"].as_str().unwrap_or_default();
        let id = row["instance_id"].as_str().unwrap_or_default();
        let key = repo.replace('/', "+");
        let tree = args.work.join("trees").join(&key);
        materialize(
            mirrors.path(repo).context("mirror vanished")?,
            commit,
            &tree,
            &args.work.join("trees").join(format!("{key}.manifest.json")),
        )
        .with_context(|| format!("materializing {repo}@{commit}"))?;
        let index_dir = args.work.join("indexes").join(&key);
        let config = Config::for_repository(&tree).unwrap_or(Config::defaults()?);
        index_repository(
            &IndexOptions { root: &tree, index_dir: &index_dir, config: &config, force: false },
            &NoProgress,
        )?;
        let index = Index::open(&index_dir)?;
        let engine = match &embedder {
            Some(embedder) => {
                let location = StoreLocation::for_index(&index_dir, &config, None);
                let store = location.open(embedder.dimension(), None)?;
                let cards = location.file_cards().open(embedder.dimension(), None)?;
                let engine =
                    SemanticEngine::with_parts(embedder.clone(), store, location, &index_dir, config.embed.batch_size)
                        .with_file_cards(cards)
                        .with_chunk_vectors(!args.cards_only);
                let report = engine.sync(&index, &NoSyncProgress)?;
                embedded += report.embedded;
                model_seconds += report.model_seconds;
                eprintln!(
                    "{id}: embedded {} chunks in {:.1}s ({} from cache, {} kept, {} deleted)",
                    report.embedded, report.model_seconds, report.from_cache, report.already_stored, report.deleted
                );
                Some(engine)
            }
            None => None,
        };
        let query = row["query"].as_str().unwrap_or_default();
        let options = SearchOptions {
            limit: args.search_limit,
            word_variants: args.search_word_variants,
            ..SearchOptions::default()
        };
        let gold: Vec<&str> =
            row["gold_files"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let mut line = format!("{id}:");
        for (name, mode, weights, per_file, out) in &mut outputs {
            let options =
                SearchOptions { chunks_per_file: per_file.unwrap_or(options.chunks_per_file), ..options.clone() };
            let started = Instant::now();
            let hits = sextant_semantic::search_weighted(&index, engine.as_ref(), query, &options, *mode, weights)?;
            latencies.entry(name.clone()).or_default().push(started.elapsed().as_secs_f64());
            let mut ranked: Vec<&str> = Vec::new();
            for hit in &hits {
                if !ranked.contains(&hit.path.as_str()) {
                    ranked.push(&hit.path);
                }
            }
            let items: Vec<Value> = hits
                .iter()
                .map(
                    |h| json!({"file": h.path, "start_line": h.start_line, "end_line": h.end_line, "tokens": h.tokens}),
                )
                .collect();
            writeln!(out, "{}", json!({"instance_id": id, "ranked_files": ranked, "pack": items}))?;
            out.flush()?;
            let ranks: Vec<Option<usize>> =
                gold.iter().map(|g| ranked.iter().position(|f| f == g).map(|p| p + 1)).collect();
            line.push_str(&format!(" {name} {ranks:?}"));
        }
        eprintln!("{line}");
    }
    if embedded > 0 {
        eprintln!(
            "embedded {embedded} chunks in {model_seconds:.0}s of model time ({:.1}/s)",
            embedded as f64 / model_seconds
        );
    }
    for (name, values) in &latencies {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| percentile(&sorted, p);
        eprintln!(
            "{name} search: p50 {:.1} ms p99 {:.1} ms over {} rows",
            pct(0.5) * 1e3,
            pct(0.99) * 1e3,
            sorted.len()
        );
    }
    Ok(())
}

/// Files ranked for a row's task, kept for learning the fusion offline.
const FEATURE_FILES: usize = 60;

/// Writes the row's best-ranked files with their evidence by signal: one JSON line per row.
fn write_features(out: &mut impl Write, id: &str, index: &Index, request: &PackRequest) -> Result<()> {
    let ranking = sextant_pack::rank(index, request)?;
    let features = ranking.file_features.unwrap_or_default();
    let files: Vec<Value> = ranking
        .files
        .iter()
        .take(FEATURE_FILES)
        .filter_map(|(file, _)| {
            let path = index.file(*file)?.path();
            Some(json!({"path": path, "features": features.get(file)}))
        })
        .collect();
    let long = request.weights.is_long(&request.task);
    writeln!(out, "{}", json!({"instance_id": id, "long": long, "files": files}))?;
    Ok(())
}

/// One predictions line in the format of `shared/eval/README.md`.
fn write_prediction(out: &mut impl Write, id: &str, pack: &sextant_pack::ContextPack) -> Result<()> {
    let items: Vec<Value> = pack
        .items
        .iter()
        .map(|i| json!({"file": i.path, "start_line": i.start_line, "end_line": i.end_line, "tokens": i.tokens, "kind": i.kind.as_str()}))
        .collect();
    let ranked: Vec<&String> = pack.ranked_files.iter().take(100).collect();
    writeln!(out, "{}", json!({"instance_id": id, "ranked_files": ranked, "pack": items, "pack_tokens": pack.tokens}))?;
    out.flush()?;
    Ok(())
}

/// The bare mirrors under a directory (`<owner>+<name>/repo`), found by repository name in any letter case.
struct Mirrors {
    by_lowercase_name: HashMap<String, PathBuf>,
}

impl Mirrors {
    fn scan(dir: &Path) -> Result<Mirrors> {
        let mut by_lowercase_name = HashMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("listing mirrors in {}", dir.display()))? {
            let entry = entry?;
            let repo = entry.path().join("repo");
            if repo.is_dir() {
                by_lowercase_name.insert(entry.file_name().to_string_lossy().to_lowercase(), repo);
            }
        }
        Ok(Mirrors { by_lowercase_name })
    }

    /// The mirror of `owner/name`.
    fn path(&self, repo: &str) -> Option<&Path> {
        self.by_lowercase_name.get(&repo.replace('/', "+").to_lowercase()).map(PathBuf::as_path)
    }
}

/// Writes the tree of `commit` into `dest`, touching only files whose blob changed since the manifest's state.
/// Blobs the snapshot lacks are skipped. Returns the number of files written.
fn materialize(mirror: &Path, commit: &str, dest: &Path, manifest_path: &Path) -> Result<usize> {
    let repo = git2::Repository::open_bare(mirror)?;
    let tree = repo.revparse_single(commit)?.peel_to_commit()?.tree()?;
    let mut wanted: BTreeMap<String, String> = BTreeMap::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        // Plain and executable blobs only: no symlinks, no submodules.
        if entry.kind() == Some(git2::ObjectType::Blob) && matches!(entry.filemode(), 0o100644 | 0o100755) {
            if let Some(name) = entry.name() {
                wanted.insert(format!("{dir}{name}"), entry.id().to_string());
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    let previous: BTreeMap<String, String> = match std::fs::read(manifest_path) {
        Ok(bytes) if dest.exists() => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => {
            if dest.exists() {
                std::fs::remove_dir_all(dest)?;
            }
            BTreeMap::new()
        }
    };
    for path in previous.keys().filter(|p| !wanted.contains_key(*p)) {
        let _ = std::fs::remove_file(dest.join(path));
    }
    let mut written = 0;
    let mut present = BTreeMap::new();
    for (path, oid) in &wanted {
        if previous.get(path) == Some(oid) {
            present.insert(path.clone(), oid.clone());
            continue;
        }
        let target = dest.join(path);
        let Ok(blob) = git2::Oid::from_str(oid).and_then(|o| repo.find_blob(o)) else {
            let _ = std::fs::remove_file(&target);
            continue;
        };
        // A path can change between file and directory from one commit to the next.
        if target.is_dir() {
            std::fs::remove_dir_all(&target)?;
        }
        if let Some(parent) = target.parent() {
            for ancestor in parent.ancestors().take_while(|a| *a != dest) {
                if ancestor.is_file() {
                    std::fs::remove_file(ancestor)?;
                }
            }
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, blob.content())?;
        written += 1;
        present.insert(path.clone(), oid.clone());
    }
    std::fs::write(manifest_path, serde_json::to_vec(&present)?)?;
    // A git directory whose HEAD is the commit and whose objects are the mirror's, so the indexer sees the
    // history before the commit (co-change), as it would in a clone.
    let git = dest.join(".git");
    std::fs::create_dir_all(git.join("objects/info"))?;
    std::fs::create_dir_all(git.join("refs/heads"))?;
    std::fs::write(git.join("config"), "[core]\n\trepositoryformatversion = 0\n\tbare = false\n")?;
    std::fs::write(
        git.join("objects/info/alternates"),
        format!("{}\n", mirror.join("objects").canonicalize()?.display()),
    )?;
    std::fs::write(git.join("HEAD"), format!("{}\n", repo.revparse_single(commit)?.peel_to_commit()?.id()))?;
    Ok(written)
}
