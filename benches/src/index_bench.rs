//! Indexing benchmark: `cargo run --release -p sextant-benches --bin index-bench -- [PATH] [--files N] [--edits]`.
//!
//! Indexes PATH (or a generated tree of N files when no path is given) into a fresh temporary index, then again
//! unchanged, and prints files/s, lines/s, symbols/s, peak RSS and index size relative to source size. The
//! baseline, measured in the same run, is the time to walk and read every source file once (the I/O floor of
//! any indexer); the indexing figures are also given as multiples of it.
//!
//! With `--edits`, it then measures what an update costs through the engine (index, link, commit, overview;
//! no vectors): 1, 10, 100 and 1,000 files edited (a line appended, restored afterwards), each next to a full
//! rebuild of the same tree in the same run, with the time of every phase (`--edit-counts 1,10` picks the counts).
//!
//! With `--switch REV` (PATH must be a git work tree with a clean checkout), it measures a branch switch: the
//! index of REV, then `git checkout` of the original commit and the update until queryable, and back again, next
//! to a full rebuild in the same run. The original commit is checked out again at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use sextant_config::Config;
use sextant_engine::{EngineOptions, EngineProgress, Repository, RepositorySpec};
use sextant_index::{index_repository, IndexOptions, IndexSummary, NoProgress};

#[path = "common.rs"]
mod common;
use common::peak_rss_kib;

fn main() -> Result<()> {
    let mut path: Option<PathBuf> = None;
    let mut generated_files = 2_000usize;
    let mut edits = false;
    let mut edit_counts: Vec<usize> = vec![1, 10, 100, 1000];
    let mut switch: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--files" => generated_files = args.next().context("--files needs a number")?.parse()?,
            "--edits" => edits = true,
            "--edit-counts" => {
                let list = args.next().context("--edit-counts needs a list such as 1,10")?;
                edit_counts = list.split(',').map(str::parse).collect::<Result<_, _>>()?;
                edits = true;
            }
            "--switch" => switch = Some(args.next().context("--switch needs a revision")?),
            "-h" | "--help" => {
                println!("usage: index-bench [PATH] [--files N] [--edits] [--edit-counts 1,10,…] [--switch REV]");
                return Ok(());
            }
            other => path = Some(PathBuf::from(other)),
        }
    }
    let generated = tempfile::tempdir()?;
    let root = match &path {
        Some(p) => p.canonicalize().with_context(|| format!("cannot open {}", p.display()))?,
        None => {
            generate_tree(generated.path(), generated_files)?;
            generated.path().to_path_buf()
        }
    };
    let config = Config::for_repository(&root)?;
    println!("repository: {}{}", root.display(), if path.is_none() { " (generated)" } else { "" });

    let baseline = read_everything(&root, &config)?;
    println!(
        "baseline (walk + read every source file): {} files, {:.1} MiB in {:.2}s",
        baseline.0,
        baseline.1 as f64 / 1048576.0,
        baseline.2
    );

    let index_dir = tempfile::tempdir()?;
    let (cold, cold_s) = timed_index(&root, index_dir.path(), &config)?;
    let rss_after_cold = peak_rss_kib();
    let (warm, warm_s) = timed_index(&root, index_dir.path(), &config)?;
    assert!(warm.unchanged, "the second run should find nothing to do");

    let per_s = |n: u64| n as f64 / cold_s;
    println!();
    println!("| run | wall s | files/s | lines/s | symbols/s | × baseline |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| cold | {cold_s:.2} | {:.0} | {:.0} | {:.0} | {:.1} |",
        per_s(cold.files),
        per_s(cold.lines),
        per_s(cold.symbols),
        cold_s / baseline.2
    );
    println!(
        "| unchanged re-run | {warm_s:.3} | {:.0} | {:.0} | — | {:.2} |",
        cold.files as f64 / warm_s,
        cold.lines as f64 / warm_s,
        warm_s / baseline.2
    );
    println!();
    println!(
        "files {} / lines {} / symbols {} / chunks {} / references {}",
        cold.files, cold.lines, cold.symbols, cold.chunks, cold.references
    );
    println!("skipped: {:?}", cold.skipped);
    println!("re-run speed-up: {:.1}× faster than cold", cold_s / warm_s);
    println!("peak RSS: {:.0} MiB", rss_after_cold as f64 / 1024.0);
    println!(
        "index size: {:.1} MiB = {:.2}× the {:.1} MiB of indexed source",
        cold.index_bytes as f64 / 1048576.0,
        cold.index_bytes as f64 / cold.source_bytes.max(1) as f64,
        cold.source_bytes as f64 / 1048576.0
    );
    println!("projected time for 1M lines: {:.1}s", 1_000_000.0 / per_s(cold.lines));
    if edits {
        edit_curve(&root, &edit_counts)?;
    }
    if let Some(revision) = switch {
        branch_switch(&root, &revision)?;
    }
    Ok(())
}

/// Runs git in `root`, failing with its message.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = std::process::Command::new("git").arg("-C").arg(root).args(args).output().context("running git")?;
    if !output.status.success() {
        anyhow::bail!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A branch switch from `revision` to the checked-out commit and back, each update timed until queryable.
fn branch_switch(root: &Path, revision: &str) -> Result<()> {
    let original = git(root, &["rev-parse", "HEAD"])?;
    let changed = git(root, &["diff", "--name-only", revision, &original])?.lines().count();
    let index_dir = tempfile::tempdir()?;
    let spec = RepositorySpec::for_root(root, Some(index_dir.path().to_path_buf()))?;
    let repository = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None })?;
    let outcome = (|| -> Result<()> {
        git(root, &["checkout", "-q", revision])?;
        engine_run(&repository, false)?;
        let (_, full_s, _, _) = engine_run(&repository, true)?;
        git(root, &["checkout", "-q", &original])?;
        let (there, there_s, there_queryable, there_phases) = engine_run(&repository, false)?;
        git(root, &["checkout", "-q", revision])?;
        let (back, back_s, back_queryable, back_phases) = engine_run(&repository, false)?;
        println!();
        println!("branch switch between {revision} and {original} ({changed} files differ):");
        println!("  full rebuild (baseline) {full_s:.2}s");
        for (name, summary, seconds, queryable, phases) in [
            ("forward", there, there_s, there_queryable, there_phases),
            ("back", back, back_s, back_queryable, back_phases),
        ] {
            println!(
                "  {name}: queryable after {queryable:.3}s, done {seconds:.3}s = {:.3}× full ({} parsed, {} removed, {} re-linked; {phases})",
                seconds / full_s,
                summary.files_parsed,
                summary.files_removed,
                summary.files_relinked
            );
        }
        Ok(())
    })();
    git(root, &["checkout", "-q", &original])?;
    outcome
}

/// Records when each phase of a run began.
#[derive(Default)]
struct PhaseClock {
    marks: std::sync::Mutex<Vec<(String, Instant)>>,
}

impl EngineProgress for PhaseClock {
    fn phase(&self, name: &str, _total: Option<u64>) {
        if let Ok(mut marks) = self.marks.lock() {
            marks.push((name.to_string(), Instant::now()));
        }
    }
}

impl PhaseClock {
    /// `phase=seconds` for every phase, the last one ending at `end`.
    fn report(&self, end: Instant) -> String {
        let marks = self.marks.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for (i, (name, at)) in marks.iter().enumerate() {
            let until = marks.get(i + 1).map_or(end, |(_, next)| *next);
            out.push(format!("{name} {:.3}", until.duration_since(*at).as_secs_f64()));
        }
        out.join(", ")
    }
}

impl PhaseClock {
    /// Seconds from `start` until queries saw the new generation: the engine installs it before its `ranks`
    /// phase (an update's exact ranks) or, without one, before the `overview` phase.
    fn queryable(&self, start: Instant, end: Instant) -> f64 {
        let marks = self.marks.lock().map(|m| m.clone()).unwrap_or_default();
        let installed = marks.iter().find(|(name, _)| name == "ranks" || name == "overview").map_or(end, |(_, at)| *at);
        installed.duration_since(start).as_secs_f64()
    }
}

/// One engine run: (summary, seconds, seconds until queryable, phase times).
fn engine_run(repository: &Repository, force: bool) -> Result<(IndexSummary, f64, f64, String)> {
    engine_run_changed(repository, force, None)
}

/// An engine run; `changed` lists the edited files as a watcher reports them (no tree walk), `None` walks.
fn engine_run_changed(
    repository: &Repository,
    force: bool,
    changed: Option<&[PathBuf]>,
) -> Result<(IndexSummary, f64, f64, String)> {
    let clock = PhaseClock::default();
    let start = Instant::now();
    let report = match changed {
        Some(changed) => repository.index_changed(changed, &clock)?,
        None => repository.index(force, &clock)?,
    };
    let end = Instant::now();
    let queryable = clock.queryable(start, end);
    Ok((report.summary, end.duration_since(start).as_secs_f64(), queryable, clock.report(end)))
}

/// The comment that ends a line in a file of this extension, for edits that keep the file valid.
fn line_comment(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "rs" | "java" | "scala" | "kt" | "go" | "ts" | "tsx" | "js" | "c" | "h" | "cc" | "cpp" | "hpp" | "cs"
        | "swift" | "php" => Some("//"),
        "py" | "rb" | "sh" => Some("#"),
        _ => None,
    }
}

/// Update cost after editing 1, 10, 100 and 1,000 files, next to a full rebuild in the same run.
fn edit_curve(root: &Path, edit_counts: &[usize]) -> Result<()> {
    let index_dir = tempfile::tempdir()?;
    let spec = RepositorySpec::for_root(root, Some(index_dir.path().to_path_buf()))?;
    let repository = Repository::open(spec, EngineOptions { embed: false, qdrant_url: None })?;
    let (cold, cold_s, _, cold_phases) = engine_run(&repository, false)?;
    let (_, unchanged_s, _, unchanged_phases) = engine_run(&repository, false)?;
    let (_, full_s, _, full_phases) = engine_run(&repository, true)?;
    println!();
    println!("engine runs on {} files (index + overview, no vectors):", cold.files);
    println!("  cold {cold_s:.2}s ({cold_phases})");
    println!("  full rebuild (baseline) {full_s:.2}s ({full_phases})");
    println!("  unchanged {unchanged_s:.3}s = {:.3}× full ({unchanged_phases})", unchanged_s / full_s);

    let mut editable: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && line_comment(e.path()).is_some())
        .map(|e| e.into_path())
        .collect();
    editable.sort();
    println!();
    println!("| files edited | parsed | queryable s | × full rebuild | update s | × full rebuild | restore s | phases of the update |");
    println!("|---|---|---|---|---|---|---|---|");
    for &count in edit_counts {
        if count > editable.len() {
            break;
        }
        // Spread the edits over the tree, as a branch or a refactoring would.
        let stride = editable.len() / count;
        let chosen: Vec<&PathBuf> = editable.iter().step_by(stride.max(1)).take(count).collect();
        let mut originals = Vec::with_capacity(chosen.len());
        for path in &chosen {
            let text = std::fs::read(path)?;
            let comment = line_comment(path).unwrap_or("//");
            let mut edited = text.clone();
            edited.extend_from_slice(format!("\n{comment} index-bench edit\n").as_bytes());
            std::fs::write(path, edited)?;
            originals.push(text);
        }
        // Told which files changed, as the server's watcher tells it.
        let changed: Vec<PathBuf> = chosen.iter().map(|p| p.to_path_buf()).collect();
        let outcome = engine_run_changed(&repository, false, Some(&changed));
        for (path, text) in chosen.iter().zip(&originals) {
            std::fs::write(path, text)?;
        }
        let (summary, update_s, queryable_s, phases) = outcome?;
        let (_, restore_s, _, _) = engine_run_changed(&repository, false, Some(&changed))?;
        println!(
            "| {count} | {} | {queryable_s:.3} | {:.3} | {update_s:.3} | {:.3} | {restore_s:.3} | {phases} |",
            summary.files_parsed,
            queryable_s / full_s,
            update_s / full_s
        );
    }
    Ok(())
}

fn timed_index(root: &Path, index_dir: &Path, config: &Config) -> Result<(IndexSummary, f64)> {
    let start = Instant::now();
    let summary = index_repository(&IndexOptions { root, index_dir, config, force: false }, &NoProgress)?;
    Ok((summary, start.elapsed().as_secs_f64()))
}

/// Walks like the indexer and reads every file it would index: (files, bytes, seconds).
fn read_everything(root: &Path, config: &Config) -> Result<(u64, u64, f64)> {
    let start = Instant::now();
    let mut globs = globset::GlobSetBuilder::new();
    for language in config.languages.values() {
        for glob in &language.globs {
            globs.add(globset::Glob::new(glob)?);
        }
    }
    let globs = globs.build()?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in ignore::WalkBuilder::new(root).require_git(false).build().flatten() {
        let is_source = entry.file_type().is_some_and(|t| t.is_file())
            && entry.path().file_name().is_some_and(|n| globs.is_match(Path::new(n)));
        if is_source {
            if let Ok(data) = std::fs::read(entry.path()) {
                files += 1;
                bytes += data.len() as u64;
            }
        }
    }
    Ok((files, bytes, start.elapsed().as_secs_f64()))
}

/// A deterministic tree of Rust, Python and TypeScript files that call each other.
fn generate_tree(root: &Path, files: usize) -> Result<()> {
    for i in 0..files {
        let dir = root.join(format!("pkg{}", i % 40));
        std::fs::create_dir_all(&dir)?;
        let mut text = String::new();
        let ext = match i % 3 {
            0 => {
                rust_file(i, &mut text);
                "rs"
            }
            1 => {
                python_file(i, &mut text);
                "py"
            }
            _ => {
                typescript_file(i, &mut text);
                "ts"
            }
        };
        std::fs::write(dir.join(format!("module_{i}.{ext}")), text)?;
    }
    Ok(())
}

fn rust_file(i: usize, out: &mut String) {
    out.push_str(&format!("//! Module {i}.\nuse std::collections::HashMap;\n\n/// State of component {i}.\npub struct Component{i} {{\n    values: HashMap<String, u64>,\n}}\n\nimpl Component{i} {{\n"));
    for f in 0..12 {
        out.push_str(&format!(
            "    /// Computes step {f}.\n    pub fn step_{f}(&mut self, input: u64) -> u64 {{\n        let key = format!(\"k{{}}\", input);\n        let value = self.values.entry(key).or_insert(0);\n        *value += input * {f};\n        helper_{}(*value)\n    }}\n\n",
            (i + f) % 7
        ));
    }
    out.push_str("}\n\n");
    for h in 0..7 {
        out.push_str(&format!(
            "fn helper_{h}(x: u64) -> u64 {{\n    if x > 100 {{ x / 2 }} else {{ x + {h} }}\n}}\n\n"
        ));
    }
}

fn python_file(i: usize, out: &mut String) {
    out.push_str(&format!(
        "\"\"\"Module {i}.\"\"\"\nimport os\n\n\nclass Service{i}:\n    \"\"\"Service {i}.\"\"\"\n\n"
    ));
    for f in 0..12 {
        out.push_str(&format!(
            "    def handle_{f}(self, request):\n        \"\"\"Handles request kind {f}.\"\"\"\n        path = os.path.join('/tmp', str(request))\n        result = transform_{}(path)\n        return result\n\n",
            (i + f) % 5
        ));
    }
    for h in 0..5 {
        out.push_str(&format!(
            "\ndef transform_{h}(value):\n    if not value:\n        return None\n    return value.upper() + '{h}'\n\n"
        ));
    }
}

fn typescript_file(i: usize, out: &mut String) {
    out.push_str(&format!("import {{ readFile }} from './storage';\n\nexport interface Options{i} {{\n  name: string;\n  retries: number;\n}}\n\nexport class Client{i} {{\n"));
    for f in 0..12 {
        out.push_str(&format!(
            "  async request{f}(options: Options{i}): Promise<string> {{\n    const data = await readFile(options.name);\n    return format{}(data, options.retries);\n  }}\n\n",
            (i + f) % 5
        ));
    }
    out.push_str("}\n\n");
    for h in 0..5 {
        out.push_str(&format!(
            "export function format{h}(data: string, n: number): string {{\n  return data.repeat(n) + '{h}';\n}}\n\n"
        ));
    }
}
