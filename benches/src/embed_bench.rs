//! Embedding and semantic-search benchmark: `cargo run --release -p sextant-benches --bin embed-bench -- PATH
//! [--queries N] [--coverage]`.
//!
//! With `--coverage` it measures only how soon dense evidence covers the repository: the time until every file
//! card is stored (cold cache), against the lexical index time of the same run, and the time chunk vectors would
//! take, from the model's rate on a sample of chunks spread over the repository.
//!
//! Indexes PATH into a fresh temporary directory, then measures, in the same run:
//! - embedding: chunks/s through the model (cold: empty cache), and a re-sync into an emptied store served from the
//!   vector cache, both against the lexical indexing time of the same repository as baseline;
//! - query latency p50/p99 of semantic and hybrid search against lexical search on the same queries (doc-comment
//!   sentences of indexed symbols, as prose, like pack-bench);
//! - peak RSS after indexing and after embedding, and the bytes of the vector store and cache per chunk.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use sextant_config::Config;
use sextant_embed::{Embedder, EmbedderOptions};
use sextant_index::{dir_size, disk_usage, index_repository, Index, IndexOptions, NoProgress, SearchOptions};
use sextant_semantic::{search, NoSyncProgress, SearchMode, SemanticEngine, StoreLocation, VECTORS_DIR};

#[path = "common.rs"]
mod common;
use common::{peak_rss_kib, percentile};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut queries = 40usize;
    let mut coverage = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--queries" => queries = args.next().context("--queries needs a number")?.parse()?,
            "--coverage" => coverage = true,
            other => path = Some(PathBuf::from(other)),
        }
    }
    let root = path.context("usage: embed-bench PATH [--queries N] [--coverage]")?.canonicalize()?;
    let work = tempfile::tempdir()?;
    let index_dir = work.path().join("index");
    let config = Config::for_repository(&root)?;

    let started = Instant::now();
    let summary = index_repository(
        &IndexOptions { root: &root, index_dir: &index_dir, config: &config, force: false },
        &NoProgress,
    )?;
    let lexical_s = started.elapsed().as_secs_f64();
    let rss_after_index = peak_rss_kib();
    let index = Index::open(&index_dir)?;
    println!(
        "repository: {} ({} files, {} lines, {} chunks)",
        root.display(),
        summary.files,
        summary.lines,
        summary.chunks
    );

    let embedder = Arc::new(Embedder::load(&EmbedderOptions::from_settings(&config.embed))?);
    let location = StoreLocation::for_index(&index_dir, &config, None);
    if coverage {
        return dense_coverage(&index, &index_dir, &config, embedder, location, lexical_s, summary.chunks);
    }
    let engine = SemanticEngine::with_parts(
        embedder.clone(),
        location.open(embedder.dimension(), None)?,
        location.clone(),
        &index_dir,
        config.embed.batch_size,
    );
    let started = Instant::now();
    let cold = engine.sync(&index, &NoSyncProgress)?;
    let cold_s = started.elapsed().as_secs_f64();
    let rss_after_embed = peak_rss_kib();
    let store_bytes = disk_usage(&index_dir.join(VECTORS_DIR).join("edge"));
    let store_apparent = dir_size(&index_dir.join(VECTORS_DIR).join("edge"));
    let cache_bytes = disk_usage(&index_dir.join(VECTORS_DIR).join("cache"));
    let raw_bytes = summary.chunks * embedder.dimension() as u64 * 4;
    drop(engine);

    // The same chunks into an emptied store: every vector from the cache (a branch switch, a new server).
    std::fs::remove_dir_all(index_dir.join(VECTORS_DIR).join("edge"))?;
    std::fs::remove_file(index_dir.join(VECTORS_DIR).join("state.json"))?;
    let engine = SemanticEngine::with_parts(
        embedder.clone(),
        location.open(embedder.dimension(), None)?,
        location,
        &index_dir,
        config.embed.batch_size,
    );
    let started = Instant::now();
    let warm = engine.sync(&index, &NoSyncProgress)?;
    let warm_s = started.elapsed().as_secs_f64();
    assert_eq!(warm.embedded, 0, "a cached re-sync must not call the model");

    println!();
    println!("| step | seconds | chunks/s | × lexical index time |");
    println!("|---|---|---|---|");
    println!("| baseline: lexical + graph index | {lexical_s:.2} | {:.0} | 1.0 |", summary.chunks as f64 / lexical_s);
    println!(
        "| embed, cold ({} chunks, {} model calls, {:.0} chars/chunk) | {cold_s:.2} | {:.1} | {:.1} |",
        cold.embedded,
        cold.model_calls,
        cold.embedded_chars as f64 / cold.embedded.max(1) as f64,
        cold.embedded as f64 / cold_s,
        cold_s / lexical_s
    );
    println!(
        "| re-sync into an empty store from the cache ({} chunks) | {warm_s:.2} | {:.0} | {:.2} |",
        warm.from_cache,
        warm.from_cache as f64 / warm_s,
        warm_s / lexical_s
    );

    // Queries: documented symbols' first doc sentence, as prose.
    let documented: Vec<String> = index
        .indexed_files()
        .flat_map(|f| f.symbols())
        .filter_map(|s| s.doc.as_ref().map(|d| d.lines().next().unwrap_or("").to_string()))
        .filter(|d| d.split_whitespace().count() >= 4)
        .collect();
    let step = (documented.len() / queries.max(1)).max(1);
    let tasks: Vec<&String> = documented.iter().step_by(step).take(queries).collect();
    println!();
    println!("queries: {}", tasks.len());
    println!("| search (top 10) | p50 ms | p99 ms | p50 × lexical |");
    println!("|---|---|---|---|");
    let options = SearchOptions::default();
    let mut base_p50 = 0.0;
    for mode in [SearchMode::Lexical, SearchMode::Semantic, SearchMode::Hybrid] {
        let mut times = Vec::new();
        for task in &tasks {
            let started = Instant::now();
            search(&index, Some(&engine), task, &options, mode)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        if mode == SearchMode::Lexical {
            base_p50 = p50;
        }
        println!("| {mode:?} | {p50:.1} | {p99:.1} | {:.1} |", p50 / base_p50.max(1e-9));
    }
    let mut query_embed = Vec::new();
    for task in &tasks {
        let started = Instant::now();
        embedder.embed_query(task)?;
        query_embed.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    query_embed.sort_by(f64::total_cmp);
    println!(
        "| (of which: embedding the query) | {:.1} | {:.1} | |",
        percentile(&query_embed, 0.5),
        percentile(&query_embed, 0.99)
    );

    println!();
    println!("peak RSS: {} MiB after indexing, {} MiB after embedding", rss_after_index / 1024, rss_after_embed / 1024);
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "vector storage on disk: store {:.1} MiB ({:.1}x the raw f32 vectors; {:.1} MiB apparent, preallocated), \
         cache {:.1} MiB ({:.2}x raw); {} points, {:.1} MiB of raw vectors",
        mib(store_bytes),
        store_bytes as f64 / raw_bytes.max(1) as f64,
        mib(store_apparent),
        mib(cache_bytes),
        cache_bytes as f64 / raw_bytes.max(1) as f64,
        cold.points,
        mib(raw_bytes)
    );
    Ok(())
}

/// Chunks embedded to estimate the rate of a full chunk sync.
const CHUNK_SAMPLE: usize = 800;

/// The `--coverage` figures: time until every file card is stored, and the estimated time for every chunk.
fn dense_coverage(
    index: &Index,
    index_dir: &std::path::Path,
    config: &Config,
    embedder: Arc<Embedder>,
    location: StoreLocation,
    lexical_s: f64,
    chunks: u64,
) -> Result<()> {
    let engine = SemanticEngine::with_parts(
        embedder.clone(),
        location.open(embedder.dimension(), None)?,
        location.clone(),
        index_dir,
        config.embed.batch_size,
    )
    .with_file_cards(location.file_cards().open(embedder.dimension(), None)?)
    .with_chunk_vectors(false);
    let started = Instant::now();
    let report = engine.sync(index, &NoSyncProgress)?;
    let cards_s = started.elapsed().as_secs_f64();

    // A sample of chunk texts spread evenly over the repository, embedded in sorted batches as a sync would.
    let all: Vec<(sextant_index::IndexedFile<'_>, usize)> =
        index.indexed_files().flat_map(|f| (0..f.chunks().len()).map(move |i| (f, i))).collect();
    let step = (all.len() / CHUNK_SAMPLE).max(1);
    let mut texts = Vec::new();
    for &(file, i) in all.iter().step_by(step).take(CHUNK_SAMPLE) {
        let Ok(bytes) = std::fs::read(std::path::Path::new(index.root()).join(file.path())) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let chunk = &file.chunks()[i];
        let code = text.get(chunk.span.start_byte as usize..chunk.span.end_byte as usize).unwrap_or("");
        texts.push(sextant_embed::chunk_text(file.path(), &chunk.symbol_path, code, embedder.max_tokens()));
    }
    texts.sort_by_key(String::len);
    let started = Instant::now();
    for batch in texts.chunks(config.embed.batch_size.max(1)) {
        embedder.embed(batch)?;
    }
    let sample_s = started.elapsed().as_secs_f64();
    let chunk_rate = texts.len() as f64 / sample_s.max(1e-9);
    let chunks_s = chunks as f64 / chunk_rate.max(1e-9);

    println!();
    println!("| dense coverage | texts | seconds | texts/s | × lexical index time |");
    println!("|---|---|---|---|---|");
    println!("| baseline: lexical + graph index | | {lexical_s:.1} | | 1.0 |");
    println!(
        "| every file card stored (cold cache) | {} | {cards_s:.1} | {:.1} | {:.1} |",
        report.file_cards,
        report.cards_embedded as f64 / report.cards_model_seconds.max(1e-9),
        cards_s / lexical_s
    );
    println!(
        "| every chunk vector (estimated from {} sampled chunks) | {chunks} | {chunks_s:.0} | {chunk_rate:.1} | {:.1} |",
        texts.len(),
        chunks_s / lexical_s
    );
    println!("file cards reach full coverage in {:.3}x the time of chunk vectors", cards_s / chunks_s.max(1e-9));
    Ok(())
}
