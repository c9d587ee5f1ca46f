//! Cold command-line queries: `cli-bench PATH [--queries "a;b;c"] [--runs N] [--sextant BIN]`
//!
//! Each run starts a new process, as a shell user or an agent's tool call does. For every query it times, in
//! interleaved order so drift hits all alike, `rg -i -c` over the tree (the baseline: a full scan with no index),
//! `sextant search --no-server --mode lexical` (keyword search from the lexical index alone), and
//! `sextant search --no-server --mode hybrid` (over an index without vectors, read from the store and the lexical
//! index; with vectors it loads the index and the model). It prints the median wall time and the
//! median peak RSS of each, and the ratio to the baseline. A second table does the same for definition lookups
//! (`--symbols "A;B"`): `rg -w -c` for the name (baseline), then `sextant symbol`, `callers`, `callees` and `refs`
//! with `--no-server`, each read from the store (the records of the files that define or mention the name, not
//! the whole index). A third times `sextant status` and `sextant overview` (the summary the last indexing run left
//! and the stored overview) against `rg --files` over the tree. PATH must be indexed already (`sextant index PATH`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

#[path = "common.rs"]
mod common;
use common::percentile;

const DEFAULT_SYMBOLS: &str = "ReplicaFetcherThread;KafkaConsumer;GroupCoordinator;LogCleaner;SaslServerAuthenticator";

const DEFAULT_QUERIES: &str =
    "replica fetcher truncation;consumer group rebalance;transaction coordinator abort;log segment cleaner;sasl authentication handshake";

/// Builds the command that answers one query.
type CommandFor<'a> = Box<dyn Fn(&str) -> Command + 'a>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut root, mut queries, mut runs, mut sextant) = (None, DEFAULT_QUERIES.to_string(), 3usize, None);
    let mut symbols = DEFAULT_SYMBOLS.to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--queries" => queries = args.next().context("--queries needs a value")?,
            "--symbols" => symbols = args.next().context("--symbols needs a value")?,
            "--runs" => runs = args.next().context("--runs needs a value")?.parse()?,
            "--sextant" => sextant = Some(PathBuf::from(args.next().context("--sextant needs a value")?)),
            other if root.is_none() => root = Some(PathBuf::from(other)),
            other => bail!("unknown argument {other}"),
        }
    }
    let root =
        root.context("usage: cli-bench PATH [--queries \"a;b\"] [--symbols \"A;B\"] [--runs N] [--sextant BIN]")?;
    let sextant = common::sextant_binary(sextant)?;
    let queries: Vec<&str> = queries.split(';').map(str::trim).filter(|q| !q.is_empty()).collect();

    let systems: Vec<(&str, CommandFor)> = vec![
        (
            "rg -i -c over the tree (baseline)",
            Box::new(|query: &str| {
                let mut command = Command::new("rg");
                command.args(["-i", "-c"]);
                for word in query.split_whitespace() {
                    command.args(["-e", word]);
                }
                command.arg(&root);
                command
            }),
        ),
        (
            "sextant search --no-server --mode lexical",
            Box::new(|query: &str| search(&sextant, &root, query, "lexical")),
        ),
        ("sextant search --no-server --mode hybrid", Box::new(|query: &str| search(&sextant, &root, query, "hybrid"))),
    ];
    println!("{} queries × {runs} runs, each a new process, on {}", queries.len(), root.display());
    measure(&systems, &queries, runs)?;

    let symbols: Vec<&str> = symbols.split(';').map(str::trim).filter(|q| !q.is_empty()).collect();
    let navigate = |command: &'static str| -> CommandFor {
        let (sextant, root) = (&sextant, &root);
        Box::new(move |name: &str| {
            let mut run = Command::new(sextant);
            run.args([command, "--no-server", "--repo"]).arg(root).arg(name);
            run
        })
    };
    let lookups: Vec<(&str, CommandFor)> = vec![
        (
            "rg -w -c for the name (baseline)",
            Box::new(|name: &str| {
                let mut command = Command::new("rg");
                command.args(["-w", "-c", "-e", name]).arg(&root);
                command
            }),
        ),
        ("sextant symbol --no-server", navigate("symbol")),
        ("sextant callers --no-server", navigate("callers")),
        ("sextant callees --no-server", navigate("callees")),
        ("sextant refs --no-server", navigate("refs")),
    ];
    println!();
    println!("{} names × {runs} runs, each a new process", symbols.len());
    measure(&lookups, &symbols, runs)?;

    // What is indexed and what the repository is about: the stored summary and overview, no index load.
    let whole = |args: &'static [&'static str]| -> CommandFor {
        let (sextant, root) = (&sextant, &root);
        Box::new(move |_: &str| {
            let mut run = Command::new(sextant);
            run.args(args).arg("--repo").arg(root);
            run
        })
    };
    let summaries: Vec<(&str, CommandFor)> = vec![
        (
            "rg --files over the tree (baseline)",
            Box::new(|_: &str| {
                let mut command = Command::new("rg");
                command.arg("--files").arg(&root);
                command
            }),
        ),
        ("sextant status", whole(&["status"])),
        ("sextant overview", whole(&["overview"])),
    ];
    println!();
    println!("the repository's summary and overview × {runs} runs, each a new process");
    measure(&summaries, &["-"], runs)
}

/// Runs every system on every input `runs` times, interleaved, and prints the table (the first system is the
/// baseline).
fn measure(systems: &[(&str, CommandFor)], inputs: &[&str], runs: usize) -> Result<()> {
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); systems.len()];
    let mut peaks: Vec<Vec<f64>> = vec![Vec::new(); systems.len()];
    for _ in 0..runs {
        for input in inputs {
            for (i, (name, command)) in systems.iter().enumerate() {
                let (wall, peak_kib) = run(command(input)).with_context(|| format!("{name}: {input}"))?;
                walls[i].push(wall);
                peaks[i].push(peak_kib as f64);
            }
        }
    }
    println!("| command | median ms | p90 ms | median peak RSS MiB | median × baseline |");
    println!("|---|---|---|---|---|");
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        percentile(values, 0.5)
    };
    let baseline = median(&mut walls[0]);
    for (i, (name, _)) in systems.iter().enumerate() {
        let wall = median(&mut walls[i]);
        let p90 = percentile(&walls[i], 0.9);
        let peak = median(&mut peaks[i]);
        println!("| {name} | {:.0} | {:.0} | {:.0} | {:.2} |", wall * 1e3, p90 * 1e3, peak / 1024.0, wall / baseline);
    }
    Ok(())
}

fn search(sextant: &Path, root: &Path, query: &str, mode: &str) -> Command {
    let mut command = Command::new(sextant);
    command.args(["search", "--no-server", "--mode", mode, "--limit", "10", "--repo"]).arg(root).arg(query);
    command
}

/// Runs a command to completion: its wall time (s) and peak resident set (KiB, from `wait4`).
fn run(mut command: Command) -> Result<(f64, u64)> {
    let started = Instant::now();
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct that wait4 fills in; `pid` is our own child, waited for exactly once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    if waited != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    // rg exits 1 when nothing matches; anything else is a failure.
    let code = libc::WEXITSTATUS(status);
    if !libc::WIFEXITED(status) || code > 1 {
        bail!("exited with status {status}");
    }
    Ok((wall, usage.ru_maxrss as u64))
}
