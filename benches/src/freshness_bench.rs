//! Save-to-query latency through a running server:
//! `cargo run --release -p sextant-benches --bin freshness-bench -- PATH [--edits N] [--sextant BIN]`.
//!
//! Indexes PATH (keyword and graph signals, into `target/freshness-bench/<name>`), starts `sextant serve` on it with
//! its file watcher, then N times: adds a new function to a source file (Java, Rust, Python, Go or TypeScript,
//! spread over the tree), and polls `GetSymbol` for its name over gRPC every 2 ms until the server answers with
//! it. The file is then restored and the bench waits until the function is gone again. The first such edit is
//! made while the server starts (it loads the index and catches up with the tree) and reported on its own; the
//! others follow once `Status` says the server is no longer indexing. Prints p50/p99 of the save-to-visible
//! latency; the baselines from the same run are a `GetSymbol` round trip and a full rebuild of the same tree
//! through the engine. PATH's files are edited in place and restored: use a copy.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sextant_engine::{EngineOptions, NoEngineProgress, Repository, RepositorySpec};
use sextant_server::v1;

#[path = "common.rs"]
mod common;
use common::{percentile, sextant_binary, start_server};

/// How long one edit may take to become visible before the bench gives up.
const VISIBLE_WITHIN: Duration = Duration::from_secs(60);

struct Args {
    root: PathBuf,
    edits: usize,
    sextant: PathBuf,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let (mut root, mut edits, mut sextant) = (None, 20usize, None);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--edits" => edits = it.next().context("--edits needs a number")?.parse()?,
            "--sextant" => sextant = Some(PathBuf::from(it.next().context("--sextant needs a path")?)),
            other => root = Some(PathBuf::from(other)),
        }
    }
    let root = root.context("usage: freshness-bench PATH [--edits N] [--sextant BIN]")?.canonicalize()?;
    Ok(Args { root, edits, sextant: sextant_binary(sextant)? })
}

/// The text of `original` with a new function named `name` added where the language allows one.
fn with_new_function(path: &Path, original: &str, name: &str) -> Option<String> {
    let ext = path.extension()?.to_str()?;
    Some(match ext {
        // Inside the last type of the file: before its closing brace.
        "java" | "kt" | "scala" | "cs" => {
            let at = original.rfind('}')?;
            let method = match ext {
                "kt" => format!("fun {name}() {{ }}"),
                "scala" => format!("def {name}(): Unit = {{ }}"),
                _ => format!("public void {name}() {{ }}"),
            };
            format!("{}    {method}\n{}", &original[..at], &original[at..])
        }
        "rs" => format!("{original}\npub fn {name}() {{}}\n"),
        "py" => format!("{original}\n\ndef {name}():\n    return None\n"),
        "go" => format!("{original}\nfunc {name}() {{}}\n"),
        "ts" | "js" => format!("{original}\nexport function {name}() {{}}\n"),
        _ => return None,
    })
}

fn main() -> Result<()> {
    let args = args()?;
    let name = args.root.file_name().map_or("repo".into(), |n| n.to_string_lossy().into_owned());
    let index_dir = std::env::current_dir()?.join("target/freshness-bench").join(name);
    let spec = RepositorySpec::for_root(&args.root, Some(index_dir.clone()))?;
    let repository = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None })?;
    repository.index(false, &NoEngineProgress)?;
    let started = Instant::now();
    let summary = repository.index(true, &NoEngineProgress)?.summary;
    let full_rebuild_ms = started.elapsed().as_secs_f64() * 1000.0;
    drop(repository);

    // Files to edit, spread over the tree.
    let mut candidates: Vec<PathBuf> = ignore::WalkBuilder::new(&args.root)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| std::fs::read_to_string(p).ok().and_then(|text| with_new_function(p, &text, "probe")).is_some())
        .collect();
    candidates.sort();
    if candidates.is_empty() {
        bail!("no file of a supported language to edit under {}", args.root.display());
    }
    let stride = (candidates.len() / args.edits.max(1)).max(1);
    println!(
        "repository: {} ({} files, {} lines), {} edits, full rebuild {:.0} ms",
        args.root.display(),
        summary.files,
        summary.lines,
        args.edits,
        full_rebuild_ms
    );

    let (mut server, address) = start_server(&args.sextant, &["--no-http", "--no-embed"], &index_dir, &args.root)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let grpc = v1::sextant_client::SextantClient::connect(format!("http://{address}")).await?;
        let lookup = async |name: &str| -> Result<bool> {
            let request = v1::SymbolRequest { name: name.into(), ..Default::default() };
            Ok(!grpc.clone().get_symbol(request).await?.into_inner().symbols.is_empty())
        };
        // Adds a function to the file, waits until GetSymbol finds it, restores the file and waits until it is gone:
        // save → visible, in milliseconds.
        let edit_and_wait = async |edit: usize, path: &Path| -> Result<f64> {
            let original = std::fs::read_to_string(path)?;
            let probe = format!("freshnessProbe{edit}x{}", std::process::id());
            let edited = with_new_function(path, &original, &probe).context("edit")?;
            let saved = Instant::now();
            std::fs::write(path, edited)?;
            let outcome = async {
                while !lookup(&probe).await? {
                    if saved.elapsed() > VISIBLE_WITHIN {
                        bail!("{probe} in {} not visible after {VISIBLE_WITHIN:?}", path.display());
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Ok(saved.elapsed().as_secs_f64() * 1000.0)
            }
            .await;
            std::fs::write(path, &original)?;
            let visible = outcome?;
            if std::env::var_os("FRESHNESS_VERBOSE").is_some() {
                eprintln!("edit {edit}: {visible:.0} ms ({})", path.display());
            }
            let restored = Instant::now();
            while lookup(&probe).await? {
                if restored.elapsed() > VISIBLE_WITHIN {
                    bail!("{probe} still visible after the restore");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(visible)
        };
        // One edit while the server starts: it loads the index and catches up with the tree first.
        let during_start_up = edit_and_wait(args.edits, &candidates[candidates.len() / 2]).await?;
        // Then the server is left to finish what it does once (the polish of that edit, warming, the overview).
        let caught_up = Instant::now();
        loop {
            let status = grpc.clone().status(v1::StatusRequest::default()).await?.into_inner();
            if !status.indexing {
                break;
            }
            if caught_up.elapsed() > VISIBLE_WITHIN {
                bail!("the server was still indexing after {VISIBLE_WITHIN:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut round_trip_ms = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            lookup("main").await?;
            round_trip_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let mut visible_ms = Vec::new();
        for edit in 0..args.edits {
            visible_ms.push(edit_and_wait(edit, &candidates[(edit * stride) % candidates.len()]).await?);
        }
        round_trip_ms.sort_by(f64::total_cmp);
        visible_ms.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&visible_ms, 0.5), percentile(&visible_ms, 0.99));
        let round_trip = percentile(&round_trip_ms, 0.5);
        println!();
        println!("| figure | p50 ms | p99 ms | p50 × full rebuild |");
        println!("|---|---|---|---|");
        println!("| full rebuild through the engine (baseline) | {full_rebuild_ms:.0} | — | 1.000 |");
        println!(
            "| GetSymbol round trip | {round_trip:.2} | {:.2} | {:.5} |",
            percentile(&round_trip_ms, 0.99),
            round_trip / full_rebuild_ms
        );
        println!("| save → GetSymbol sees the new function | {p50:.0} | {p99:.0} | {:.3} |", p50 / full_rebuild_ms);
        println!(
            "| the same, one edit while the server starts (loads the index, catches up) | {during_start_up:.0} | — | {:.3} |",
            during_start_up / full_rebuild_ms
        );
        Ok::<(), anyhow::Error>(())
    });
    let _ = server.kill();
    let _ = server.wait();
    result
}
