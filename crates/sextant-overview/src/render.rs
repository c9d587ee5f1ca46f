//! Bounded Markdown pages: the repository page and one page per module.

use std::fmt::Write;

use crate::manifests::CommandKind;
use crate::model::{ModuleOverview, Overview};
use crate::rules;

/// How module references are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// `` `path` `` (terminals, gRPC).
    Plain,
    /// `[name](module/path.md)` (static Markdown sites).
    Relative,
}

/// A page under construction that refuses sections past its size limit and says what it left out.
struct Page {
    text: String,
    max: usize,
    omitted: Vec<String>,
}

impl Page {
    fn section(&mut self, title: &str, body: &str) {
        if body.trim().is_empty() {
            return;
        }
        let block = format!("\n## {title}\n{body}");
        if self.text.len() + block.len() <= self.max {
            self.text.push_str(&block);
        } else {
            self.omitted.push(title.to_string());
        }
    }

    fn finish(mut self) -> String {
        if !self.omitted.is_empty() {
            let _ = write!(self.text, "\n_Left out to keep this page short: {}._\n", self.omitted.join(", "));
        }
        self.text
    }
}

/// Up to `max` items of a list, then a count of the rest.
fn bounded<T>(items: &[T], max: usize, line: impl Fn(&T) -> String) -> String {
    let mut out = String::new();
    for item in items.iter().take(max) {
        out.push_str(&line(item));
        out.push('\n');
    }
    if items.len() > max {
        let _ = writeln!(out, "- … and {} more", items.len() - max);
    }
    out
}

fn module_ref(overview: &Overview, index: usize, style: LinkStyle) -> String {
    let module = &overview.modules[index];
    let label = if module.path.is_empty() { overview.repository.name.clone() } else { module.path.clone() };
    match style {
        LinkStyle::Plain => format!("`{label}`"),
        LinkStyle::Relative => format!("[{label}]({})", page_file(module)),
    }
}

/// The file name of a module's page in a static site.
pub(crate) fn page_file(module: &ModuleOverview) -> String {
    if module.path.is_empty() {
        "index.md".to_string()
    } else {
        format!("modules/{}.md", module.path.replace('/', "__"))
    }
}

fn size_line(files: u64, lines: u64, languages: &[crate::model::LanguageShare]) -> String {
    let langs: Vec<String> = languages.iter().take(6).map(|l| format!("{} {}", l.language, l.lines)).collect();
    format!("{files} files, {lines} lines ({})", if langs.is_empty() { "no source".into() } else { langs.join(", ") })
}

/// The Markdown page of the repository (`module` = `None` or `Some(0)`) or of one module, at most `max_chars`.
pub fn markdown_page(overview: &Overview, module: Option<usize>, max_chars: usize, style: LinkStyle) -> String {
    match module {
        None | Some(0) => repository_page(overview, max_chars, style),
        Some(i) => module_page(overview, i, max_chars, style),
    }
}

fn repository_page(overview: &Overview, max_chars: usize, style: LinkStyle) -> String {
    let repo = &overview.repository;
    let mut page = Page { text: String::new(), max: max_chars, omitted: Vec::new() };
    let _ = writeln!(page.text, "# {} — project overview", repo.name);
    if let Some(purpose) = &repo.purpose {
        let _ = writeln!(page.text, "\n{purpose}");
    }
    let _ = writeln!(
        page.text,
        "\n**Size:** {} · {} symbols",
        size_line(repo.files, repo.lines, &repo.languages),
        repo.symbols
    );

    let mut commands = String::new();
    for kind in [CommandKind::Setup, CommandKind::Build, CommandKind::Test, CommandKind::Run, CommandKind::Lint] {
        let of_kind: Vec<_> = repo.commands.iter().filter(|c| c.kind == kind).collect();
        if !of_kind.is_empty() {
            let listed: Vec<String> = of_kind.iter().take(6).map(|c| format!("`{}`", c.command)).collect();
            let _ = writeln!(commands, "- **{}**: {} (from {})", kind.as_str(), listed.join(", "), of_kind[0].source);
        }
    }
    page.section("Set up, build, test, run", &commands);
    page.section("What CI runs", &bounded(&repo.ci, 10, |c| format!("- `{}` ({})", c.command, c.source)));

    let root = &overview.modules[0];
    let mut map = String::new();
    if !root.children.is_empty() {
        map.push_str("| module | kind | purpose | files | lines |\n|---|---|---|---|---|\n");
        let mut children = root.children.clone();
        children.sort_by(|a, b| overview.modules[*b].lines.cmp(&overview.modules[*a].lines));
        for &c in children.iter().take(40) {
            let m = &overview.modules[c];
            let purpose = m
                .purpose
                .as_deref()
                .map(|p| crate::manifests::truncate(p, 100))
                .unwrap_or_default()
                .replace('|', "\\|");
            let _ = writeln!(
                map,
                "| {} | {} | {} | {} | {} |",
                module_ref(overview, c, style),
                m.kind.as_str(),
                purpose,
                m.files,
                m.lines
            );
        }
        if children.len() > 40 {
            let _ = writeln!(map, "\n… and {} more modules", children.len() - 40);
        }
    }
    page.section("Modules", &map);
    page.section(
        "Key symbols",
        &bounded(&root.key_symbols, 10, |s| format!("- `{}` — {} at {}:{}", s.signature, s.kind, s.path, s.line)),
    );
    let entry_points: Vec<&crate::model::EntryPoint> =
        overview.modules.iter().flat_map(|m| m.entry_points.iter()).collect();
    page.section(
        "Entry points",
        &bounded(&entry_points, 10, |e| format!("- {} `{}` at {}:{}", e.kind, e.name, e.path, e.line)),
    );
    page.section("Conventions for agents (rule files)", &bounded(&overview.rules, 12, rule_block));
    let mut docs = String::new();
    for section in repo.docs.iter().take(4) {
        let _ = writeln!(docs, "### {} ({})\n{}\n", section.heading, section.source, section.excerpt);
    }
    page.section("From the docs", &docs);
    page.finish()
}

fn module_page(overview: &Overview, index: usize, max_chars: usize, style: LinkStyle) -> String {
    let m = &overview.modules[index];
    let mut page = Page { text: String::new(), max: max_chars, omitted: Vec::new() };
    let _ = writeln!(
        page.text,
        "# Module `{}` ({}{})",
        m.path,
        m.kind.as_str(),
        if m.name != m.path { format!(", {}", m.name) } else { String::new() }
    );
    if let Some(purpose) = &m.purpose {
        let _ = writeln!(
            page.text,
            "\n{purpose}{}",
            m.purpose_source.as_deref().map(|s| format!(" _(from {s})_")).unwrap_or_default()
        );
    }
    let _ = writeln!(page.text, "\n**Size:** {}", size_line(m.files, m.lines, &m.languages));
    if let Some(parent) = m.parent {
        let _ = writeln!(page.text, "**Part of:** {}", module_ref(overview, parent, style));
    }
    page.section(
        "Submodules",
        &bounded(&m.children, 20, |c| {
            let child = &overview.modules[*c];
            format!(
                "- {} — {}",
                module_ref(overview, *c, style),
                child
                    .purpose
                    .as_deref()
                    .map(|p| crate::manifests::truncate(p, 100))
                    .unwrap_or_else(|| format!("{} files", child.files))
            )
        }),
    );
    page.section(
        "Key symbols",
        &bounded(&m.key_symbols, 12, |s| {
            let doc =
                s.doc.as_deref().map(|d| format!(" — {}", crate::manifests::truncate(d, 100))).unwrap_or_default();
            format!("- `{}` ({}, {}:{}){doc}", s.signature, s.kind, s.path, s.line)
        }),
    );
    page.section(
        "Entry points",
        &bounded(&m.entry_points, 12, |e| format!("- {} `{}` at {}:{}", e.kind, e.name, e.path, e.line)),
    );
    page.section(
        "Depends on",
        &bounded(&m.depends_on, 12, |d| format!("- {} ({})", module_ref(overview, d.module, style), evidence(d))),
    );
    page.section(
        "Used by",
        &bounded(&m.used_by, 12, |d| format!("- {} ({})", module_ref(overview, d.module, style), evidence(d))),
    );
    page.section(
        "Called from other modules",
        &bounded(&m.calls_in, 8, |f| {
            format!(
                "- `{}` ({}:{}) ← {} calls; e.g. `{}` in {} ({}:{})",
                f.symbol,
                f.path,
                f.line,
                f.calls,
                f.caller,
                module_ref(overview, f.caller_module, style),
                f.caller_path,
                f.caller_line
            )
        }),
    );
    page.section(
        "Calls into other modules",
        &bounded(&m.calls_out, 8, |f| {
            format!(
                "- `{}` in {} ({}:{}) ← {} calls; e.g. `{}` ({}:{})",
                f.symbol,
                module_ref(overview, f.module, style),
                f.path,
                f.line,
                f.calls,
                f.caller,
                f.caller_path,
                f.caller_line
            )
        }),
    );
    let mut tests = String::new();
    if m.tests.files > 0 {
        let _ = writeln!(
            tests,
            "- {} test files in {}",
            m.tests.files,
            m.tests.dirs.iter().map(|d| format!("`{d}/`")).collect::<Vec<_>>().join(", ")
        );
        if let Some(command) = &m.tests.command {
            let _ = writeln!(tests, "- run with `{command}`");
        }
    }
    page.section("Tests", &tests);
    page.section(
        "Commands",
        &bounded(&m.commands, 10, |c| format!("- {}: `{}` ({})", c.kind.as_str(), c.command, c.source)),
    );
    if let Some(a) = &m.activity {
        page.section(
            "Recent activity",
            &format!(
                "- {} of the recent commits touched it; last: \"{}\" (unix time {})\n",
                a.commits, a.last_subject, a.last_change
            ),
        );
    }
    let sample = format!("{}/x", m.path);
    let applicable = rules::applicable(&overview.rules, &sample);
    page.section("Rules that apply here", &bounded(&applicable, 8, |r| rule_block(r)));
    page.finish()
}

/// A rule file as agents need it: where it comes from, what it governs, and its text (quoted, up to
/// [`RULE_CHARS`] characters, then where to read the rest).
fn rule_block(rule: &rules::Rule) -> String {
    let scope = if rule.scope.is_empty() { "whole repository".to_string() } else { format!("`{}/`", rule.scope) };
    let globs = if rule.globs.is_empty() { String::new() } else { format!(", files {}", rule.globs.join(", ")) };
    let mut text = crate::manifests::truncate(rule.text.trim(), RULE_CHARS);
    if text.len() < rule.text.trim().len() {
        let _ = write!(text, "\n(… the rest is in {})", rule.source);
    }
    let quoted: Vec<String> =
        text.lines().map(|l| if l.is_empty() { ">".to_string() } else { format!("> {l}") }).collect();
    format!("- **{}** ({scope}{globs}):\n\n{}\n", rule.source, quoted.join("\n"))
}

/// How much of one rule file a Markdown page quotes.
const RULE_CHARS: usize = 2_000;

/// How a dependency is known: declared in the manifest (with the references seen), or only observed.
pub(crate) fn evidence(d: &crate::Dependency) -> String {
    match d.declared {
        true => format!("declared, {} references", d.count),
        false => format!("observed, {} references", d.count),
    }
}
