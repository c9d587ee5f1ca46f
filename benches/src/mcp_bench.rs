//! Context-pack latency through each front end:
//! `cargo run --release -p sextant-benches --bin mcp-bench -- PATH [--calls N] [--budget TOKENS] [--sextant BIN]`.
//!
//! Indexes PATH once (keyword and graph signals, into `target/mcp-bench/<name>`), then asks for the same packs
//! three ways, interleaved so machine noise hits all of them alike: in-process through the engine (the
//! baseline), over gRPC from `sextant serve`, and as the `context_pack` tool over stdio from `sextant mcp`, through
//! a real MCP client (rmcp). Prints p50/p99 of each and their ratio to the baseline; then GetSymbol and Search
//! round trips against ListRepositories (no work) as the floor, and the server's peak memory before and after 50
//! concurrent packs at the 32k budget. The binary is
//! `target/release/sextant` unless `--sextant` says otherwise (build it first: `cargo build --release -p
//! sextant-cli`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rmcp::model::CallToolRequestParams;
use rmcp::ServiceExt;
use sextant_engine::{EngineOptions, NoEngineProgress, PackRequest, Repository, RepositorySpec};
use sextant_server::v1;

#[path = "common.rs"]
mod common;
use common::{percentile, sextant_binary, start_server};

/// Tasks phrased as issue text, generic enough to hit code in any repository.
const TASKS: &[&str] = &[
    "the configuration file is not parsed when a key is missing",
    "handle errors when the connection to the server fails",
    "add a timeout to the request and retry on failure",
    "the cache is not invalidated after an update",
    "log a warning when the input is empty",
    "serialize the response as JSON and validate the schema",
    "support reading the file from standard input",
    "the test for parsing command line arguments fails",
    "fix the off by one error in the pagination of results",
    "close the stream when the reader is dropped",
];

struct Args {
    root: PathBuf,
    calls: usize,
    budget: u32,
    sextant: PathBuf,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let (mut root, mut calls, mut budget, mut sextant) = (None, 100usize, 8_000u32, None);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--calls" => calls = it.next().context("--calls needs a number")?.parse()?,
            "--budget" => budget = it.next().context("--budget needs a number")?.parse()?,
            "--sextant" => sextant = Some(PathBuf::from(it.next().context("--sextant needs a path")?)),
            other => root = Some(PathBuf::from(other)),
        }
    }
    let root = root.context("usage: mcp-bench PATH [--calls N] [--budget TOKENS] [--sextant BIN]")?.canonicalize()?;
    Ok(Args { root, calls, budget, sextant: sextant_binary(sextant)? })
}

/// Peak resident set size of another process (KiB), from /proc.
fn peak_rss_kib_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn report(name: &str, mut millis: Vec<f64>, baseline_p50: f64) -> f64 {
    millis.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&millis, 0.5), percentile(&millis, 0.99));
    let ratio = if baseline_p50 > 0.0 { p50 / baseline_p50 } else { 1.0 };
    println!("{name:<34} {p50:>9.2} {p99:>9.2} {ratio:>10.2}");
    p50
}

fn main() -> Result<()> {
    let args = args()?;
    let name = args.root.file_name().map_or("repo".into(), |n| n.to_string_lossy().into_owned());
    let index_dir = std::env::current_dir()?.join("target/mcp-bench").join(name);
    let spec = RepositorySpec::for_root(&args.root, Some(index_dir.clone()))?;
    let engine_options = EngineOptions { embed: false, qdrant_url: None };
    let repository = Repository::open(spec, engine_options)?;
    let summary = repository.index(false, &NoEngineProgress)?.summary;
    println!(
        "repository: {} ({} files, {} lines), {} calls per front end, budget {}",
        args.root.display(),
        summary.files,
        summary.lines,
        args.calls,
        args.budget
    );

    // gRPC: a server over the committed index (no watcher, no HTTP).
    let (mut server, address) =
        start_server(&args.sextant, &["--no-watch", "--no-http", "--no-embed"], &index_dir, &args.root)?;
    let server_pid = server.id();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let mut grpc = v1::sextant_client::SextantClient::connect(format!("http://{address}")).await?;
        // MCP: `sextant mcp` over the same index, answering from it without reindexing.
        let mut child = tokio::process::Command::new(&args.sextant)
            .args(["mcp", "--no-index", "--no-watch", "--no-embed", "--index-dir"])
            .arg(&index_dir)
            .arg(&args.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting sextant mcp")?;
        let transport = (child.stdout.take().context("mcp stdout")?, child.stdin.take().context("mcp stdin")?);
        let mcp = ().serve(transport).await.context("MCP handshake")?;

        let (mut engine_ms, mut grpc_ms, mut mcp_ms) = (Vec::new(), Vec::new(), Vec::new());
        for call in 0..args.calls + 3 {
            let task = TASKS[call % TASKS.len()];
            let started = Instant::now();
            let request = PackRequest {
                task: task.into(),
                budget: args.budget as usize,
                include_rules: true,
                ..Default::default()
            };
            let local = repository.pack(request)?;
            let engine_elapsed = started.elapsed().as_secs_f64() * 1000.0;

            let started = Instant::now();
            let remote = grpc
                .get_context_pack(v1::GetContextPackRequest {
                    task: task.into(),
                    budget: args.budget,
                    include_rules: true,
                    ..Default::default()
                })
                .await?
                .into_inner();
            let grpc_elapsed = started.elapsed().as_secs_f64() * 1000.0;

            let started = Instant::now();
            let arguments = serde_json::json!({ "task": task, "budget": args.budget });
            let tool = mcp
                .call_tool(
                    CallToolRequestParams::new("context_pack")
                        .with_arguments(arguments.as_object().cloned().unwrap_or_default()),
                )
                .await?;
            let mcp_elapsed = started.elapsed().as_secs_f64() * 1000.0;
            if tool.is_error == Some(true) {
                bail!("context_pack failed: {:?}", tool.content);
            }
            if remote.tokens as usize != local.tokens {
                bail!("gRPC and in-process packs differ for {task:?}: {} vs {} tokens", remote.tokens, local.tokens);
            }
            // The first calls warm caches (path terms, compound names) in each process; they are not counted.
            if call >= 3 {
                engine_ms.push(engine_elapsed);
                grpc_ms.push(grpc_elapsed);
                mcp_ms.push(mcp_elapsed);
            }
        }
        let _ = mcp.cancel().await;
        println!("{:<34} {:>9} {:>9} {:>10}", "context pack", "p50 ms", "p99 ms", "p50 ratio");
        let mut sorted = engine_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let baseline = percentile(&sorted, 0.5);
        report("in-process engine (baseline)", engine_ms, baseline);
        report("gRPC GetContextPack (loopback)", grpc_ms, baseline);
        report("MCP context_pack (stdio)", mcp_ms, baseline);

        // Small RPCs over the wire, against ListRepositories (no work at all) as the floor.
        let names: Vec<String> = repository.current_index()?.indexed_files().take(2_000).flat_map(|f| f.symbols().iter().map(|s| s.name.clone()).collect::<Vec<_>>()).step_by(37).take(args.calls).collect();
        let (mut floor_ms, mut symbol_ms, mut search_ms, mut status_ms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (call, name) in names.iter().enumerate() {
            let started = Instant::now();
            grpc.list_repositories(v1::ListRepositoriesRequest {}).await?;
            floor_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            grpc.get_symbol(v1::SymbolRequest { name: name.clone(), ..Default::default() }).await?;
            symbol_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            let query = format!("{name} {}", TASKS[call % TASKS.len()]);
            grpc.search(v1::SearchRequest { query, limit: 10, ..Default::default() }).await?;
            search_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            grpc.status(v1::StatusRequest::default()).await?;
            status_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let mut sorted = floor_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let floor = percentile(&sorted, 0.5);
        println!();
        println!("{:<34} {:>9} {:>9} {:>10}", "small RPCs over gRPC", "p50 ms", "p99 ms", "p50 ratio");
        report("ListRepositories (baseline)", floor_ms, floor);
        report("GetSymbol", symbol_ms, floor);
        report("Search (lexical)", search_ms, floor);
        report("Status", status_ms, floor);

        // Memory under load: 50 packs at once at the largest budget, against the server's peak before them.
        let before = peak_rss_kib_of(server_pid);
        let started = Instant::now();
        let mut concurrent = Vec::new();
        for call in 0..50 {
            let mut client = grpc.clone();
            let task = TASKS[call % TASKS.len()];
            concurrent.push(tokio::spawn(async move {
                client
                    .get_context_pack(v1::GetContextPackRequest { task: task.into(), budget: 32_000, ..Default::default() })
                    .await
                    .map(|r| r.into_inner().tokens)
            }));
        }
        let mut answered = 0;
        for handle in concurrent {
            if handle.await?.is_ok() {
                answered += 1;
            }
        }
        let after = peak_rss_kib_of(server_pid);
        println!();
        println!(
            "50 concurrent 32k packs: {answered} answered in {:.0} ms; server peak RSS {} MiB before, {} MiB after ({:.2}x)",
            started.elapsed().as_secs_f64() * 1000.0,
            before / 1024,
            after / 1024,
            after as f64 / before.max(1) as f64
        );
        anyhow::Ok(())
    });
    let _ = server.kill();
    let _ = server.wait();
    result
}
