//! Every result as text for people or JSON for programs (`--json`); nothing else prints results.

use anyhow::Result;
use indicatif::HumanBytes;
use serde::Serialize;
use sextant_engine::{
    ContextPack, IndexReport, IndexSummary, Paged, ReferenceInfo, Relation, RepositoryStatus, SearchResults,
    SymbolInfo, SyncReport,
};

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a list answer: the items as JSON (an array), or each item through `line`. A list cut short says
/// how much was left out.
pub fn list<T: Serialize>(as_json: bool, page: &Paged<T>, empty: &str, mut line: impl FnMut(&T)) -> Result<()> {
    if as_json {
        return json(&page.items);
    }
    if page.items.is_empty() {
        println!("{empty}");
    }
    for item in &page.items {
        line(item);
    }
    if page.next_offset.is_some() {
        println!("… {} more of {} not shown", page.total - page.items.len(), page.total);
    }
    Ok(())
}

fn points(n: u64) -> String {
    format!("{n} point{}", if n == 1 { "" } else { "s" })
}

/// The result of an indexing run.
pub fn index_report(report: &IndexReport, as_json: bool) -> Result<()> {
    if as_json {
        return json(report);
    }
    summary(&report.summary, true);
    if let Some(sync) = &report.vectors {
        sync_report(sync, report.vector_location.as_deref().unwrap_or_default());
    }
    Ok(())
}

fn sync_report(r: &SyncReport, location: &str) {
    if r.up_to_date {
        let cards = if r.file_cards == 1 { "1 file card".to_string() } else { format!("{} file cards", r.file_cards) };
        println!("  vectors: up to date, {} and {cards} in {location}", points(r.points));
        return;
    }
    if r.file_cards > 0 {
        println!(
            "  file cards: {} embedded ({:.1}/s), {} from cache; all {} stored after {:.1} s",
            r.cards_embedded,
            if r.cards_model_seconds > 0.0 { r.cards_embedded as f64 / r.cards_model_seconds } else { 0.0 },
            r.cards_from_cache,
            r.file_cards,
            r.cards_done_ms as f64 / 1000.0
        );
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

/// One line per watcher run (or the whole report as one JSON line).
pub fn watch_line(report: &IndexReport, as_json: bool) {
    if as_json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else if !report.summary.unchanged {
        let s = &report.summary;
        println!(
            "generation {}: parsed {}, removed {}, {} files in {} ms",
            s.generation, s.files_parsed, s.files_removed, s.files, s.elapsed_ms
        );
    }
}

fn summary(s: &IndexSummary, after_indexing: bool) {
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
        if let Some(reason) = s.rebuilt.as_deref().filter(|r| *r != "forced") {
            println!("  {reason}");
        }
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
    if let Some(scip) = &s.scip {
        match &scip.error {
            Some(error) => println!("  SCIP not used: {error}"),
            None => println!(
                "  SCIP ({}): {} files covered, {} precise edges{}",
                scip.files.join(", "),
                scip.covered_files,
                scip.precise_edges,
                match scip.stale_documents {
                    0 => String::new(),
                    n => format!(", {n} documents older than their files (name-matched there)"),
                }
            ),
        }
    }
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
    println!("  index size {} ({ratio:.2}x the {} of source)", HumanBytes(s.index_bytes), HumanBytes(s.source_bytes));
}

/// What is indexed.
pub fn status(status: &RepositoryStatus, as_json: bool) -> Result<()> {
    if as_json {
        return json(status);
    }
    summary(&status.summary, false);
    println!("  indexed at {} (unix seconds)", status.indexed_at);
    match &status.vectors {
        Some(v) => println!(
            "  vectors: {} ({} {}-dim) in {} ({} on disk here), generation {}{}",
            points(v.points as u64),
            v.model,
            v.dimension,
            v.location,
            HumanBytes(status.vectors_disk_bytes),
            v.generation,
            if status.vectors_current { "" } else { " (behind the index: run `sextant index`)" }
        ),
        None => println!("  vectors: none (keyword and symbol search only)"),
    }
    Ok(())
}

/// Ranked search hits with their signals and snippets.
pub fn search(query: &str, results: &SearchResults, as_json: bool) -> Result<()> {
    if as_json {
        return json(&results.hits);
    }
    if results.hits.is_empty() {
        println!("no results for {query:?}");
    }
    for hit in &results.hits {
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

/// A context pack: its Markdown on stdout and a one-line account on stderr, or the whole pack as JSON.
pub fn pack(pack: &ContextPack, as_json: bool) -> Result<()> {
    if as_json {
        return json(pack);
    }
    print!("{}", pack.text);
    eprintln!("-- {} items, {} of {} tokens", pack.items.len(), pack.tokens, pack.budget);
    Ok(())
}

/// Definitions.
pub fn symbols(name: &str, page: &Paged<SymbolInfo>, as_json: bool) -> Result<()> {
    list(as_json, page, &format!("no definition of {name:?}"), |s| {
        println!("{}:{}-{}  {} {}  (rank {:.2})", s.path, s.start_line, s.end_line, s.kind, s.qualified_name, s.rank);
        println!("    {}", s.signature);
        if let Some(doc) = s.doc.as_deref().and_then(|d| d.lines().next()) {
            println!("    // {doc}");
        }
    })
}

/// Mentions of a name.
pub fn references(name: &str, page: &Paged<ReferenceInfo>, as_json: bool) -> Result<()> {
    list(as_json, page, &format!("no references to {name:?}"), |r| {
        let within = r.at.symbol.as_deref().unwrap_or("<top level>");
        let resolved = if r.resolved_to.is_empty() {
            "unresolved".to_string()
        } else {
            format!("-> {}", r.resolved_to.join(", "))
        };
        println!("{}:{}  {} in {}  {}", r.at.path, r.at.line, r.kind, within, resolved);
    })
}

/// Callers or callees.
pub fn relations(name: &str, page: &Paged<Relation>, callers: bool, as_json: bool) -> Result<()> {
    let empty = format!("no {} of {name:?}", if callers { "callers" } else { "callees" });
    list(as_json, page, &empty, |r| {
        let other = r.other.symbol.as_deref().unwrap_or("<top level>");
        let certainty = if r.weight < 1.0 { format!("  (ambiguous, weight {:.2})", r.weight) } else { String::new() };
        if callers {
            println!("{}:{}  {} calls {}{}", r.other.path, r.other.line, other, r.subject.qualified_name, certainty);
        } else {
            println!("{} calls {}  ({}:{}){}", r.subject.qualified_name, other, r.other.path, r.other.line, certainty);
        }
    })
}
