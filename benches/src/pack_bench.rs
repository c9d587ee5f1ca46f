//! Pack latency benchmark: `cargo run --release -p sextant-benches --bin pack-bench -- PATH [--queries N]
//! [--budgets 2000,8000,32000] [--weights name=value,…]` (ranking weights other than the defaults, see `sextant_pack::RankProfiles`).
//!
//! Indexes PATH (incrementally, into `target/pack-bench/<name>`), derives deterministic tasks from the indexed
//! symbols (a doc-comment sentence or a name spelled out in words, as issue text would), and times context packs
//! at several budgets. The baseline, measured in the same run on the same tasks, is a plain top-10 lexical search.
//! A digest of all packs per budget follows the table, so a change meant only to be faster can show it changed
//! no pack.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, NoProgress, SearchOptions};
use sextant_pack::{build_pack, PackRequest};

#[path = "common.rs"]
mod common;
use common::percentile;

const USAGE: &str = "usage: pack-bench PATH [--queries N] [--budgets 2000,8000,32000] [--weights name=value,…]";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut queries = 60usize;
    let mut weights = sextant_pack::RankProfiles::default();
    let mut budgets = vec![2_000usize, 8_000, 32_000];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--queries" => queries = args.next().context("--queries needs a number")?.parse()?,
            "--weights" => {
                weights = args.next().context("--weights needs a value")?.parse().map_err(anyhow::Error::msg)?
            }
            "--budgets" => {
                budgets = args
                    .next()
                    .context("--budgets needs a value")?
                    .split(',')
                    .map(|b| b.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other if other.starts_with('-') => anyhow::bail!("unknown option `{other}`\n{USAGE}"),
            other => path = Some(PathBuf::from(other)),
        }
    }
    let path = path.context(USAGE)?;
    let root = path.canonicalize().with_context(|| format!("cannot open the repository {}", path.display()))?;
    let name = root.file_name().map_or("repo".into(), |n| n.to_string_lossy().into_owned());
    let index_dir = PathBuf::from("target/pack-bench").join(name);
    let config = Config::for_repository(&root)?;
    let summary = index_repository(
        &IndexOptions { root: &root, index_dir: &index_dir, config: &config, force: false },
        &NoProgress,
    )?;
    let index = Index::open(&index_dir)?;
    println!(
        "repository: {} ({} files, {} lines, {} symbols)",
        root.display(),
        summary.files,
        summary.lines,
        summary.symbols
    );

    // Deterministic tasks: every k-th documented symbol, as prose.
    let mut tasks = Vec::new();
    let documented: Vec<(String, String)> = index
        .indexed_files()
        .flat_map(|f| f.symbols())
        .filter_map(|s| s.doc.as_ref().map(|d| (s.name.clone(), d.lines().next().unwrap_or("").to_string())))
        .filter(|(_, d)| d.split_whitespace().count() >= 4)
        .collect();
    let step = (documented.len() / queries.max(1)).max(1);
    for (name, doc) in documented.iter().step_by(step).take(queries) {
        let words: Vec<String> = {
            let mut parts = Vec::new();
            sextant_lexical::for_each_term(name, |t, _, _| parts.push(t));
            parts.into_iter().skip(1).collect()
        };
        tasks.push(format!("Bug: {doc} It misbehaves when the {} input is empty.", words.join(" ")));
    }
    println!("tasks: {}", tasks.len());

    // What a long-lived reader (the engine, after each commit) does once: the first pack then costs what the
    // tenth does.
    let started = Instant::now();
    index.warm();
    println!("warming the query structures after open: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);

    // The baseline is BM25's plain top 10, as in every earlier run of this bench (a diversified page fetches 50).
    let plain_top_ten = SearchOptions { chunks_per_file: 0, ..SearchOptions::default() };
    let mut baseline = Vec::new();
    for task in &tasks {
        let started = Instant::now();
        index.search(task, &plain_top_ten)?;
        baseline.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    baseline.sort_by(f64::total_cmp);
    let (base_p50, base_p99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    println!();
    println!("| operation | p50 ms | p99 ms | p50 × baseline | budget used |");
    println!("|---|---|---|---|---|");
    println!("| baseline: lexical top-10 search | {base_p50:.1} | {base_p99:.1} | 1.0 | |");
    // One digest of every pack's text and file ranking per budget: a change meant only to be faster must leave it.
    let mut digests = Vec::new();
    for &budget in &budgets {
        let mut times = Vec::new();
        let mut used = 0usize;
        let mut digest = std::hash::DefaultHasher::new();
        for task in &tasks {
            let started = Instant::now();
            let pack = build_pack(&index, &PackRequest { task: task.clone(), budget, weights, ..Default::default() })?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(pack.tokens <= budget);
            used += pack.tokens;
            (&pack.text, &pack.ranked_files).hash(&mut digest);
        }
        digests.push((budget, digest.finish()));
        times.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let fill = used as f64 / (budget * tasks.len().max(1)) as f64;
        println!(
            "| context pack, budget {budget} | {p50:.1} | {p99:.1} | {:.1} | {:.1}% |",
            p50 / base_p50.max(1e-9),
            fill * 100.0
        );
    }

    println!();
    for (budget, digest) in digests {
        println!("packs at budget {budget}: digest {digest:016x}");
    }

    // What a server does after each reindex: open the new generation and warm it, then answer. The first pack
    // should cost what the tenth does (both at 8k, on tasks not asked before in this process).
    drop(index);
    let started = Instant::now();
    let index = Index::open(&index_dir)?;
    index.warm();
    let reopen_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut after = Vec::new();
    for task in tasks.iter().take(10) {
        let task = format!("{task} Seen after a reindex.");
        let started = Instant::now();
        build_pack(&index, &PackRequest { task, budget: 8_000, weights, ..Default::default() })?;
        after.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    if let (Some(first), Some(tenth)) = (after.first(), after.get(9)) {
        println!(
            "after a reopen ({reopen_ms:.0} ms, warmed): first pack {first:.1} ms, tenth {tenth:.1} ms, median of ten {:.1} ms",
            {
                let mut sorted = after.clone();
                sorted.sort_by(f64::total_cmp);
                percentile(&sorted, 0.5)
            }
        );
    }
    Ok(())
}
