//! Call-graph precision against a SCIP index: `graph-bench PATH (--scip FILE … | --index-with TOOL) [--examples N]`.
//!
//! `--index-with scip-python` or `--index-with scip-typescript` builds the gold index first: it runs that indexer
//! (npm `@sourcegraph/scip-python`, `@sourcegraph/scip-typescript`, found on `PATH` or in
//! `$SCIP_TOOLS/node_modules/.bin`) over the tree into a temporary file. A Python tree with a `src/` layout may need a `pyrightconfig.json` with
//! `extraPaths`, and a JavaScript tree a `tsconfig.json` with `allowJs`, for the indexer to resolve its imports.
//!
//! Indexes PATH with name-matched linking only (its `graph.scip` setting cleared) into a temporary directory and
//! maps the SCIP index (written by the language's own indexer, e.g. `scip-python index`) onto the same extracted
//! symbols. Then, call by call: for every call the SCIP index resolved (to a definition in the repository, or to
//! one outside it, such as a builtin), it compares the definitions Sextant links from that call's enclosing
//! symbol under that name with the one SCIP names, and prints precision and recall over all such calls. Calls
//! the indexer could not resolve (an untyped parameter's method) are not judged: the gold has no answer there.
//! Overloads of one function count as one definition; recursion is not judged (Sextant keeps no self-edges), nor
//! are calls that share their line with another symbol of the same name (`dayjs.locale(locale)`). The baseline, computed in the same run over the same calls,
//! is name-only linking: every definition of that name, which is what a tags-based repository map links.
//! `--examples N` lists N calls that Sextant links wrongly and N that it misses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use sextant_config::Config;
use sextant_graph::{EdgeKind, GraphInput, Node, SymbolId};
use sextant_index::{index_repository, Index, IndexOptions, NoProgress};
use sextant_scip::ScipIndex;
use sextant_syntax::RefKind;

/// A call site: file, line, name.
type Site = (u32, u32, String);
type Targets = BTreeSet<SymbolId>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut root, mut scip, mut examples, mut index_with) = (None, Vec::new(), 0usize, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scip" => scip.push(PathBuf::from(args.next().context("--scip needs a file")?)),
            "--examples" => examples = args.next().context("--examples needs a number")?.parse()?,
            "--index-with" => {
                index_with = Some(args.next().context("--index-with needs scip-python or scip-typescript")?)
            }
            other if root.is_none() => root = Some(PathBuf::from(other)),
            other => bail!("unknown argument {other}"),
        }
    }
    let root = root.context("usage: graph-bench PATH --scip FILE [--scip FILE …] [--examples N]")?.canonicalize()?;
    let gold_dir = tempfile::tempdir()?;
    if let Some(tool) = &index_with {
        scip.push(run_indexer(tool, &root, gold_dir.path())?);
    }
    if scip.is_empty() {
        bail!("graph-bench needs a SCIP index: --scip FILE, or --index-with scip-python|scip-typescript");
    }
    let mut config = Config::for_repository(&root)?;
    config.graph.scip.clear();
    let index_dir = tempfile::tempdir()?;
    let summary = index_repository(
        &IndexOptions { root: &root, index_dir: index_dir.path(), config: &config, force: false },
        &NoProgress,
    )?;
    let index = Index::open(index_dir.path())?;
    let inputs: Vec<GraphInput<'_>> =
        index.indexed_files().map(|f| GraphInput { path: f.path(), facts: f.facts() }).collect();
    let scip_index = ScipIndex::read(&scip)?;
    let precise = scip_index.precise_edges(&inputs);
    println!(
        "repository: {} ({} files, {} lines); SCIP: {} documents, {} indexed files covered, {} outdated",
        root.display(),
        summary.files,
        summary.lines,
        scip_index.document_count(),
        precise.covered_files(),
        precise.stale_documents.len()
    );

    // Overloads of one entity count as one: a link to any of them is a link to the entity.
    let canonical = |id: SymbolId| precise.aliases.get(&id).copied().unwrap_or(id);
    let covered = |id: SymbolId| precise.covered.get(id.file as usize) == Some(&true);
    // Per call: the distinct SCIP symbols of that name on its line. Two (`dayjs.locale(locale)`: a method and a
    // constant) cannot be told apart without columns, which the extractor does not keep: such calls are not judged.
    let mut seen: BTreeMap<Site, BTreeSet<Option<SymbolId>>> = BTreeMap::new();
    for site in &precise.call_sites {
        seen.entry((site.file, site.line, site.name.clone())).or_default().insert(site.target.map(canonical));
    }
    let ambiguous = seen.values().filter(|targets| targets.len() > 1).count();
    // Sextant records no self-edges (a function calling itself adds nothing to a ranking), so recursion is not judged.
    let enclosing_is = |site: &Site, target: SymbolId| {
        index.file(site.0).is_some_and(|file| {
            file.references().iter().any(|r| r.line == site.1 && r.name == site.2 && r.enclosing == Some(target.symbol))
        }) && target.file == site.0
    };
    let gold: BTreeMap<Site, Targets> = seen
        .into_iter()
        .filter(|(_, targets)| targets.len() == 1)
        .map(|(site, targets)| {
            let targets: Targets = targets.into_iter().flatten().collect();
            (site, targets)
        })
        .filter(|(site, targets)| !targets.iter().any(|t| enclosing_is(site, *t)))
        .collect();
    // What each linker links from the call's enclosing symbol under the called name.
    let linked = |site: &Site, certain_only: bool| -> Targets {
        let (file, line, name) = site;
        let Some(indexed) = index.file(*file) else { return Targets::new() };
        let mut out = Targets::new();
        for reference in indexed.references().iter().filter(|r| r.kind == RefKind::Call && r.line == *line) {
            if reference.name != *name {
                continue;
            }
            let source = match reference.enclosing {
                Some(symbol) => Node::Symbol(SymbolId { file: *file, symbol }),
                None => Node::File(*file),
            };
            for (target, weight) in index.graph().outgoing(source, EdgeKind::Calls) {
                let Node::Symbol(id) = target else { continue };
                let named = index.symbol(id).is_some_and(|(_, s)| s.name == *name);
                if named && covered(id) && (!certain_only || weight >= 1.0) {
                    out.insert(canonical(id));
                }
            }
        }
        out
    };
    let by_name = |site: &Site| -> Targets {
        index.find_symbol_ids(&site.2).into_iter().filter(|id| covered(*id)).map(canonical).collect()
    };

    println!();
    println!(
        "{} calls resolved by the SCIP index ({} to definitions in the repository); not judged: {ambiguous} calls \
         sharing their line with another symbol of that name",
        gold.len(),
        gold.values().filter(|t| !t.is_empty()).count()
    );
    println!();
    println!("| linker | links | precision | recall | precision × baseline | recall × baseline |");
    println!("|---|---|---|---|---|---|");
    let score = |links: &dyn Fn(&Site) -> Targets| -> (usize, f64, f64) {
        let (mut found, mut hits, mut wanted) = (0usize, 0usize, 0usize);
        for (site, targets) in &gold {
            let linked = links(site);
            found += linked.len();
            wanted += targets.len();
            hits += linked.intersection(targets).count();
        }
        (found, hits as f64 / found.max(1) as f64, hits as f64 / wanted.max(1) as f64)
    };
    let (_, base_precision, base_recall) = score(&by_name);
    let row = |name: &str, links: &dyn Fn(&Site) -> Targets| {
        let (found, precision, recall) = score(links);
        println!(
            "| {name} | {found} | {precision:.3} | {recall:.3} | {:.2} | {:.2} |",
            precision / base_precision.max(1e-9),
            recall / base_recall.max(1e-9)
        );
    };
    row("name-only (baseline)", &by_name);
    row("sextant", &|site| linked(site, false));
    row("sextant, certain links only (weight 1)", &|site| linked(site, true));

    if examples > 0 {
        let name = |id: SymbolId| {
            index.symbol(id).map_or_else(String::new, |(file, s)| {
                format!("{}:{} {}", file.path(), s.span.start_line, s.qualified_name)
            })
        };
        let place = |site: &Site| format!("{}:{} {}()", index.file(site.0).map_or("", |f| f.path()), site.1, site.2);
        let (mut wrong, mut missed) = (Vec::new(), Vec::new());
        for (site, targets) in &gold {
            let linked = linked(site, false);
            wrong.extend(linked.difference(targets).map(|id| format!("  {} -> {}", place(site), name(*id))));
            missed.extend(targets.difference(&linked).map(|id| format!("  {} -> {}", place(site), name(*id))));
        }
        println!();
        println!("links sextant makes that SCIP does not ({} of {}):", wrong.len().min(examples), wrong.len());
        wrong.iter().take(examples).for_each(|line| println!("{line}"));
        println!("links SCIP makes that sextant does not ({} of {}):", missed.len().min(examples), missed.len());
        missed.iter().take(examples).for_each(|line| println!("{line}"));
    }
    Ok(())
}

/// Runs a SCIP indexer over `root` and returns the index it wrote (in `out_dir`).
fn run_indexer(tool: &str, root: &std::path::Path, out_dir: &std::path::Path) -> Result<PathBuf> {
    let output = out_dir.join("index.scip");
    let name = root.file_name().map_or("repo".into(), |n| n.to_string_lossy().into_owned());
    let args: Vec<String> = match tool {
        "scip-python" => ["index", "--project-name", &name, "--project-version", "0", "--output"]
            .iter()
            .map(|a| a.to_string())
            .chain([output.display().to_string(), ".".into()])
            .collect(),
        "scip-typescript" => vec!["index".into(), "--output".into(), output.display().to_string()],
        other => bail!("unknown indexer {other}: use scip-python or scip-typescript"),
    };
    let local = std::env::var_os("SCIP_TOOLS").map(|dir| PathBuf::from(dir).join("node_modules/.bin").join(tool));
    let program = local.filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(tool));
    let status = std::process::Command::new(&program)
        .args(&args)
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| {
            format!("running {} (install it with `npm install @sourcegraph/{tool}`)", program.display())
        })?;
    if !status.success() || !output.is_file() {
        bail!("{tool} failed ({status}) on {}", root.display());
    }
    Ok(output)
}
