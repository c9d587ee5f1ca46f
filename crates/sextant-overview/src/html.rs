//! HTML pages and the SVG dependency diagram, rendered here (no scripts, no CDN), for the server and for static
//! sites. Markup comes from maud templates, which escape every interpolated value (text and attributes alike);
//! URLs are built by the caller's `links`, which percent-encodes paths ([`encode_path`]).

use std::fmt::Write as _;
use std::path::Path;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::model::{ModuleOverview, Overview};
use crate::{rules, OverviewError};

/// Modules drawn in the dependency diagram (the largest ones).
const DIAGRAM_MODULES: usize = 30;
/// Neighbours of each direction drawn on a module page.
const NEIGHBOURS: usize = 6;
/// Boxes per row of the diagram: five fit a 1,280-pixel page.
const DIAGRAM_ROW: usize = 5;
/// Entries in the module tree on the repository page.
const TREE_ENTRIES: usize = 300;

/// Where links point; the caller decides the URL scheme.
pub enum Link<'a> {
    /// The repository page.
    Home,
    /// A module page.
    Module(usize),
    /// A line of a source file.
    Source(&'a str, u32),
    /// The dependency diagram.
    Diagram,
    /// Where the search form sends its query (`q`); empty where there is no server to answer (a static site).
    Search,
}

/// A symbol the page search found: a definition of that name, or a chunk whose text matches.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSymbol {
    /// Name (or the chunk's symbol).
    pub name: String,
    /// Kind of definition, or "text match".
    pub kind: String,
    /// Repository-relative path.
    pub path: String,
    /// Line to open.
    pub line: u32,
    /// Signature or matching line.
    pub detail: String,
}

/// Escapes text for HTML (for callers that assemble markup by hand; pages here use maud, which escapes every
/// interpolation itself).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes one path segment for a URL (everything but unreserved characters).
pub fn encode_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Percent-encodes a `/`-separated path for a URL, segment by segment.
pub fn encode_path(path: &str) -> String {
    path.split('/').map(encode_segment).collect::<Vec<_>>().join("/")
}

/// Characters escaped in a URL path segment: all but RFC 3986's unreserved ones.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#1d2330}\
.layout{display:flex;gap:2em}main{flex:1;min-width:0}nav.side{flex:0 0 15em;font-size:.85em;position:sticky;top:1em;\
align-self:flex-start;max-height:95vh;overflow:auto}ul.side{list-style:none;padding-left:.9em;margin:.2em 0}\
a{color:#1a5fb4;text-decoration:none}a:hover{text-decoration:underline}code{background:#f2f4f7;padding:0 .25em;border-radius:3px}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #e3e6ea;padding:.3em .6em;text-align:left;vertical-align:top}\
nav{margin-bottom:1em;color:#667}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}ul.tree{list-style:none;padding-left:1.2em}\
.muted{color:#667}pre{background:#f6f8fa;padding:.8em;overflow:auto}svg{max-width:100%;height:auto}form.search input{width:100%;margin-bottom:.6em}";

/// Entries of the side navigation's module tree at most (the largest first).
const SIDE_ENTRIES: usize = 60;

/// A whole page: the module tree beside it (the current module's ancestors open), the navigation, then `body`.
fn shell(
    overview: &Overview,
    current: Option<usize>,
    title: &str,
    links: &dyn Fn(Link) -> String,
    body: Markup,
) -> String {
    html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (title) } style { (PreEscaped(STYLE)) } }
            body {
                div.layout {
                    nav.side {
                        @let action = links(Link::Search);
                        @if !action.is_empty() {
                            form.search action=(action) method="get" {
                                input type="search" name="q" placeholder="symbol or module" aria-label="search";
                            }
                        }
                        b { a href=(links(Link::Home)) { (overview.repository.name) } }
                        (side_tree(overview, 0, current, links, &mut { SIDE_ENTRIES }))
                    }
                    main {
                        nav { a href=(links(Link::Home)) { "overview" } " · " a href=(links(Link::Diagram)) { "dependency diagram" } }
                        (body)
                    }
                }
            }
        }
    }
    .into_string()
}

/// The children of `index`, largest first; a child is opened when it is the current module or one of its ancestors.
fn side_tree(
    overview: &Overview,
    index: usize,
    current: Option<usize>,
    links: &dyn Fn(Link) -> String,
    budget: &mut usize,
) -> Markup {
    let mut children = overview.modules[index].children.clone();
    children.sort_by(|a, b| overview.modules[*b].lines.cmp(&overview.modules[*a].lines).then(a.cmp(b)));
    let open = |c: usize| {
        let mut at = current;
        while let Some(m) = at {
            if m == c {
                return true;
            }
            at = overview.modules.get(m).and_then(|m| m.parent);
        }
        false
    };
    children.truncate(*budget);
    *budget -= children.len();
    let mut items = Vec::with_capacity(children.len());
    // Under an open module, a child is named by the rest of its path.
    let parent_path = if index == 0 { String::new() } else { format!("{}/", overview.modules[index].path) };
    for c in children {
        let sub = if open(c) {
            side_tree(overview, c, current, links, budget)
        } else {
            html! {}
        };
        let full = module_label(overview, c);
        let label =
            full.strip_prefix(parent_path.as_str()).filter(|rest| !rest.is_empty()).unwrap_or(&full).to_string();
        items.push(html! {
            li {
                @if Some(c) == current {
                    b title=(full) { (label) }
                } @else {
                    a.side href=(links(Link::Module(c))) title=(full) { (label) }
                }
                (sub)
            }
        });
    }
    html! { ul.side { @for item in items { (item) } } }
}

fn module_label(overview: &Overview, index: usize) -> String {
    let m = &overview.modules[index];
    if m.path.is_empty() {
        overview.repository.name.clone()
    } else {
        m.path.clone()
    }
}

fn module_link(overview: &Overview, index: usize, links: &dyn Fn(Link) -> String) -> Markup {
    html! { a.module href=(links(Link::Module(index))) { (module_label(overview, index)) } }
}

fn tree(overview: &Overview, index: usize, links: &dyn Fn(Link) -> String, budget: &mut usize) -> Markup {
    let m = &overview.modules[index];
    let mut children = m.children.clone();
    children.sort_by(|a, b| overview.modules[*b].lines.cmp(&overview.modules[*a].lines));
    if children.is_empty() {
        return html! {};
    }
    let mut items = Vec::new();
    for c in children {
        if *budget == 0 {
            items.push(html! { li.muted { "…" } });
            break;
        }
        *budget -= 1;
        let child = &overview.modules[c];
        let sub = tree(overview, c, links, budget);
        items.push(html! {
            li { (module_link(overview, c, links)) " " span.muted { (child.kind.as_str()) " · " (child.lines) " lines" } (sub) }
        });
    }
    html! { ul.tree { @for item in items { (item) } } }
}

fn list<T>(title: &str, items: &[T], max: usize, line: impl Fn(&T) -> Markup) -> Markup {
    if items.is_empty() {
        return html! {};
    }
    html! {
        h2 { (title) }
        ul {
            @for item in items.iter().take(max) { li { (line(item)) } }
            @if items.len() > max { li.muted { "… and " (items.len() - max) " more" } }
        }
    }
}

fn command_line(c: &crate::model::Command) -> Markup {
    html! { (c.kind.as_str()) ": " code { (c.command) } " " span.muted { "(" (c.source) ")" } }
}

/// Sections shared by the repository and module pages; `entry_points` are the page's (the repository page shows
/// every module's).
fn common_sections(
    overview: &Overview,
    m: &ModuleOverview,
    entry_points: &[&crate::model::EntryPoint],
    links: &dyn Fn(Link) -> String,
) -> Markup {
    let applicable = rules::applicable(&overview.rules, &format!("{}/x", m.path));
    html! {
        (public_api(m, links))
        (list("Entry points", entry_points, 15, |e| html! {
            (e.kind) " " a href=(links(Link::Source(&e.path, e.line))) { code { (e.name) } }
            " " span.muted { (e.path) ":" (e.line) }
        }))
        (list("Depends on", &m.depends_on, 15, |d| html! {
            (module_link(overview, d.module, links)) " " span.muted { "(" (crate::render::evidence(d)) ")" }
        }))
        (list("Used by", &m.used_by, 15, |d| html! {
            (module_link(overview, d.module, links)) " " span.muted { "(" (crate::render::evidence(d)) ")" }
        }))
        (list("Called from other modules", &m.calls_in, 8, |f| html! {
            a href=(links(Link::Source(&f.path, f.line))) { code { (f.symbol) } }
            " " span.muted { "← " (f.calls) @if f.calls == 1 { " call" } @else { " calls" } "; e.g. " }
            a href=(links(Link::Source(&f.caller_path, f.caller_line))) { code { (f.caller) } }
            " in " (module_link(overview, f.caller_module, links))
        }))
        (list("Calls into other modules", &m.calls_out, 8, |f| html! {
            a href=(links(Link::Source(&f.path, f.line))) { code { (f.symbol) } }
            " in " (module_link(overview, f.module, links))
            " " span.muted { "← " (f.calls) @if f.calls == 1 { " call" } @else { " calls" } "; e.g. " }
            a href=(links(Link::Source(&f.caller_path, f.caller_line))) { code { (f.caller) } }
        }))
        @if m.tests.files > 0 {
            h2 { "Tests" }
            p {
                (m.tests.files) " test files in "
                @for (i, dir) in m.tests.dirs.iter().enumerate() { @if i > 0 { ", " } code { (dir) "/" } }
                @if let Some(command) = &m.tests.command { "; run with " code { (command) } }
            }
        }
        (list("Commands", &m.commands, 12, command_line))
        @if let Some(a) = &m.activity {
            h2 { "Recent activity" }
            p { (a.commits) " of the recent commits touched it; last: “" (a.last_subject) "”." }
        }
        (list("Rules that apply here", &applicable, 10, |r| html! {
            b { (r.source) } pre { (r.text) }
        }))
    }
}

/// The module's key symbols as its public API, grouped by type: each type with the members listed under it, then
/// the functions and members whose type is not among them.
fn public_api(m: &ModuleOverview, links: &dyn Fn(Link) -> String) -> Markup {
    if m.key_symbols.is_empty() {
        return html! {};
    }
    let owner_of = |name: &str| name.rsplit_once(['.', ':']).map(|(owner, _)| owner.trim_end_matches(':').to_string());
    let is_type = |kind: &str| matches!(kind, "class" | "struct" | "interface" | "trait" | "enum" | "type");
    let types: Vec<&crate::model::KeySymbol> = m.key_symbols.iter().filter(|s| is_type(&s.kind)).collect();
    let member_of = |s: &crate::model::KeySymbol| {
        owner_of(&s.name).filter(|owner| types.iter().any(|t| t.name == *owner && !is_type(&s.kind)))
    };
    let rest: Vec<&crate::model::KeySymbol> =
        m.key_symbols.iter().filter(|s| !is_type(&s.kind) && member_of(s).is_none()).collect();
    let symbol = |s: &crate::model::KeySymbol| {
        html! {
            a href=(links(Link::Source(&s.path, s.line))) { code { (s.signature) } }
            " " span.muted { (s.kind) " · " (s.path) ":" (s.line) }
            @if let Some(doc) = &s.doc { " — " (doc) }
        }
    };
    html! {
        h2 { "Public API" }
        ul {
            @for t in &types {
                li {
                    (symbol(t))
                    @let members: Vec<&crate::model::KeySymbol> =
                        m.key_symbols.iter().filter(|s| member_of(s).as_deref() == Some(t.name.as_str())).collect();
                    @if !members.is_empty() { ul { @for s in &members { li { (symbol(s)) } } } }
                }
            }
            @for s in &rest { li { (symbol(s)) } }
        }
    }
}

/// The HTML page of the repository (0) or a module.
pub fn page(overview: &Overview, index: usize, links: &dyn Fn(Link) -> String) -> String {
    let Some(m) = overview.modules.get(index) else {
        return shell(overview, None, "not found", links, html! { p { "No such module." } });
    };
    let mut budget = TREE_ENTRIES;
    let subtree = tree(overview, index, links, &mut budget);
    let has_subtree = !subtree.0.is_empty();
    if index == 0 {
        let repo = &overview.repository;
        let languages: Vec<String> = repo.languages.iter().map(|l| format!("{} {}", l.language, l.lines)).collect();
        let entry_points: Vec<&crate::model::EntryPoint> =
            overview.modules.iter().flat_map(|m| m.entry_points.iter()).collect();
        let body = html! {
            h1 { (repo.name) " — project overview" }
            @if let Some(purpose) = &repo.purpose { p { (purpose) } }
            p.muted { (repo.files) " files · " (repo.lines) " lines · " (repo.symbols) " symbols · " (languages.join(", ")) }
            (list("Set up, build, test, run", &repo.commands, 20, command_line))
            (list("What CI runs", &repo.ci, 10, |c| html! { code { (c.command) } " " span.muted { "(" (c.source) ")" } }))
            @if has_subtree { h2 { "Modules" } (subtree) }
            (list("Conventions for agents (rule files)", &overview.rules, 12, |r| {
                let scope = if r.scope.is_empty() { "whole repository".to_string() } else { format!("{}/", r.scope) };
                let globs = if r.globs.is_empty() { String::new() } else { format!(", files {}", r.globs.join(", ")) };
                html! { b { (r.source) } " " span.muted { "(" (scope) (globs) ")" } pre { (r.text) } }
            }))
            @for doc in repo.docs.iter().take(4) {
                h2 { (doc.heading) " " span.muted { "(" (doc.source) ")" } }
                pre { (doc.excerpt) }
            }
            (common_sections(overview, m, &entry_points, links))
        };
        return shell(overview, Some(0), &repo.name, links, body);
    }
    let languages: Vec<String> = m.languages.iter().map(|l| format!("{} {}", l.language, l.lines)).collect();
    let entry_points: Vec<&crate::model::EntryPoint> = m.entry_points.iter().collect();
    let body = html! {
        h1 { "Module " code { (m.path) } }
        p.muted { (m.kind.as_str()) @if m.name != m.path { " · " (m.name) } }
        @if let Some(purpose) = &m.purpose { p { (purpose) } }
        p.muted { (m.files) " files · " (m.lines) " lines · " (languages.join(", ")) }
        @if let Some(parent) = m.parent { p { "Part of " (module_link(overview, parent, links)) } }
        @if has_subtree { h2 { "Submodules" } (subtree) }
        @if let Some(svg) = neighbourhood_svg(overview, index, links) {
            h2 { "Neighbourhood" }
            p.muted { "What it uses (below it) and what uses it (above it)." }
            // The SVG is built with every text and link escaped.
            div.neighbourhood { (PreEscaped(svg)) }
        }
        (common_sections(overview, m, &entry_points, links))
    };
    shell(overview, Some(index), &m.path, links, body)
}

/// The dependency diagram of the largest modules as a standalone SVG, boxes linking to module pages.
pub fn dependency_svg(overview: &Overview, links: &dyn Fn(Link) -> String) -> String {
    let mut chosen: Vec<usize> = (1..overview.modules.len()).collect();
    chosen.sort_by(|a, b| overview.modules[*b].lines.cmp(&overview.modules[*a].lines).then(a.cmp(b)));
    chosen.truncate(DIAGRAM_MODULES);
    if chosen.is_empty() {
        chosen.push(0);
    }
    layered_svg(overview, chosen, links)
}

/// The neighbourhood of one module as an SVG: the module, what it uses and what uses it (the strongest
/// `NEIGHBOURS` of each), laid out like the whole diagram.
pub fn neighbourhood_svg(overview: &Overview, index: usize, links: &dyn Fn(Link) -> String) -> Option<String> {
    let m = overview.modules.get(index)?;
    let strongest = |deps: &[crate::model::Dependency]| {
        let mut deps: Vec<(usize, u32)> = deps.iter().map(|d| (d.module, d.count)).collect();
        deps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        deps.into_iter().take(NEIGHBOURS).map(|(module, _)| module).collect::<Vec<_>>()
    };
    let mut chosen = vec![index];
    for n in strongest(&m.depends_on).into_iter().chain(strongest(&m.used_by)) {
        if !chosen.contains(&n) && n < overview.modules.len() {
            chosen.push(n);
        }
    }
    (chosen.len() > 1).then(|| layered_svg(overview, chosen, links))
}

/// Fill colours of module groups (boxes of modules in the same directory share one).
const GROUP_COLOURS: [&str; 8] =
    ["#eef3fb", "#fdf0e1", "#e8f5e9", "#f3e8fb", "#fbe9ec", "#e6f6f7", "#f7f5e1", "#ececec"];

/// The group a module is drawn in: the directory that holds it (`crates` for `crates/sextant-index`), `""` for a
/// top-level module.
fn group_of(overview: &Overview, module: usize) -> &str {
    overview.modules.get(module).and_then(|m| m.path.rsplit_once('/')).map_or("", |(dir, _)| dir)
}

/// How a group is named: its directory, or the repository for the top level.
fn group_label(overview: &Overview, group: &str) -> String {
    match group {
        "" => format!("{} (top level)", overview.repository.name),
        dir => format!("{dir}/"),
    }
}

/// Where a group links: the module of its directory when there is one, else its first member.
fn group_module(overview: &Overview, group: &str, first_member: usize) -> usize {
    match group {
        "" => 0,
        dir => overview.modules.iter().position(|m| m.path == dir).unwrap_or(first_member),
    }
}

/// One box of a layered diagram.
struct DiagramBox {
    label: String,
    title: String,
    href: String,
    fill: &'static str,
}

/// Draws `chosen` modules in layers, each below what it uses, with their dependency edges; boxes are coloured by
/// group (the directory that holds them), with a legend of the groups drawn.
fn layered_svg(overview: &Overview, chosen: Vec<usize>, links: &dyn Fn(Link) -> String) -> String {
    let position_of = |m: usize| chosen.iter().position(|&c| c == m);
    let edges: Vec<(usize, usize, u32, bool)> = chosen
        .iter()
        .enumerate()
        .flat_map(|(i, &m)| {
            overview.modules[m]
                .depends_on
                .iter()
                .filter_map(move |d| Some((i, position_of(d.module)?, d.count, d.declared)))
        })
        .filter(|(a, b, _, _)| a != b)
        .collect();
    // Groups in order of first appearance, each with its colour.
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for &m in &chosen {
        let group = group_of(overview, m);
        if !groups.iter().any(|(g, _)| *g == group) {
            groups.push((group, m));
        }
    }
    let colour_of_group = |position: usize| GROUP_COLOURS[position % GROUP_COLOURS.len()];
    let colour = |m: usize| {
        let group = group_of(overview, m);
        colour_of_group(groups.iter().position(|(g, _)| *g == group).unwrap_or(0))
    };
    let boxes: Vec<DiagramBox> = chosen
        .iter()
        .map(|&m| DiagramBox {
            label: module_label(overview, m),
            title: format!("{} ({} lines)", module_label(overview, m), overview.modules[m].lines),
            href: links(Link::Module(m)),
            fill: colour(m),
        })
        .collect();
    // A legend only says something when boxes differ in colour.
    let legend: Vec<DiagramBox> = match groups.len() > 1 {
        true => groups
            .iter()
            .enumerate()
            .map(|(k, &(group, first))| DiagramBox {
                label: group_label(overview, group),
                title: format!("group {}", group_label(overview, group)),
                href: links(Link::Module(group_module(overview, group, first))),
                fill: colour_of_group(k),
            })
            .collect(),
        false => Vec::new(),
    };
    draw_layers(&boxes, &edges, &legend, "arrow")
}

/// The diagram of module groups: one box per group (the modules in one directory; the top-level ones together), an
/// arrow where a module of one uses a module of another. What a repository of hundreds of modules looks like
/// from above; `None` when there are fewer than two groups.
pub fn group_svg(overview: &Overview, links: &dyn Fn(Link) -> String) -> Option<String> {
    // Per group: its directory, its first member, how many modules and lines it holds.
    let mut groups: Vec<(&str, usize, usize, u64)> = Vec::new();
    for m in 1..overview.modules.len() {
        let group = group_of(overview, m);
        let lines = overview.modules[m].lines;
        match groups.iter_mut().find(|(g, _, _, _)| *g == group) {
            Some(entry) => {
                entry.2 += 1;
                entry.3 += lines;
            }
            None => groups.push((group, m, 1, lines)),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    // The largest groups, by lines.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[b].3.cmp(&groups[a].3).then(a.cmp(&b)));
    order.truncate(DIAGRAM_MODULES);
    let position_of = |group: &str| order.iter().position(|&i| groups[i].0 == group);
    let mut weights: std::collections::BTreeMap<(usize, usize), (u32, bool)> = std::collections::BTreeMap::new();
    for m in 1..overview.modules.len() {
        let Some(from) = position_of(group_of(overview, m)) else { continue };
        for dependency in &overview.modules[m].depends_on {
            let Some(to) = position_of(group_of(overview, dependency.module)) else { continue };
            if from != to {
                let entry = weights.entry((from, to)).or_insert((0, false));
                entry.0 += dependency.count;
                entry.1 |= dependency.declared;
            }
        }
    }
    let edges: Vec<(usize, usize, u32, bool)> =
        weights.into_iter().map(|((a, b), (count, declared))| (a, b, count, declared)).collect();
    let boxes: Vec<DiagramBox> = order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let (group, first, members, lines) = groups[i];
            let modules = if members == 1 { "1 module".to_string() } else { format!("{members} modules") };
            DiagramBox {
                label: format!("{} ({modules})", group_label(overview, group)),
                title: format!("{}: {modules}, {lines} lines", group_label(overview, group)),
                href: links(Link::Module(group_module(overview, group, first))),
                fill: GROUP_COLOURS[k % GROUP_COLOURS.len()],
            }
        })
        .collect();
    Some(draw_layers(&boxes, &edges, &[], "group-arrow"))
}

/// Lays boxes out in layers, each below what it uses (`edges`: from, to, references, declared), and draws them with
/// their edges and, below, a legend of coloured labels.
fn draw_layers(
    boxes: &[DiagramBox],
    edges: &[(usize, usize, u32, bool)],
    legend: &[DiagramBox],
    marker: &str,
) -> String {
    let count = boxes.len();
    // Layers: a box sits below everything it depends on (longest path, bounded so cycles terminate).
    let mut layer = vec![0usize; count];
    for _ in 0..count {
        let mut changed = false;
        for &(a, b, _, _) in edges {
            if layer[b] < layer[a] + 1 && layer[a] + 1 < count {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Order within each layer by the barycentre of the neighbours above (two sweeps), which removes most edge
    // crossings; then wrap each layer into rows of at most `DIAGRAM_ROW` boxes so the diagram fits a page's width.
    let layers = layer.iter().max().copied().unwrap_or(0) + 1;
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, &l) in layer.iter().enumerate() {
        order[l].push(i);
    }
    let mut place = vec![0.0f64; count];
    let set_places = |row: &[usize], place: &mut [f64]| {
        for (k, &i) in row.iter().enumerate() {
            place[i] = k as f64;
        }
    };
    for row in &order {
        set_places(row, &mut place);
    }
    for _ in 0..2 {
        for (l, row) in order.iter_mut().enumerate().skip(1) {
            let mut keyed: Vec<(f64, usize)> = row
                .iter()
                .map(|&i| {
                    let above: Vec<f64> = edges
                        .iter()
                        .filter_map(|&(a, b, _, _)| match () {
                            _ if b == i && layer[a] < l => Some(place[a]),
                            _ if a == i && layer[b] < l => Some(place[b]),
                            _ => None,
                        })
                        .collect();
                    let key = if above.is_empty() { place[i] } else { above.iter().sum::<f64>() / above.len() as f64 };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            *row = keyed.into_iter().map(|(_, i)| i).collect();
            set_places(row, &mut place);
        }
    }
    let (box_w, box_h, gap_x, gap_y, gap_row) = (190.0, 38.0, 24.0, 70.0, 16.0);
    let mut xy = vec![(0.0f64, 0.0f64); count];
    let mut top = 20.0;
    for row in &order {
        for (k, &i) in row.iter().enumerate() {
            let (line, column) = (k / DIAGRAM_ROW, k % DIAGRAM_ROW);
            xy[i] = (20.0 + column as f64 * (box_w + gap_x), top + line as f64 * (box_h + gap_row));
        }
        let lines = row.len().div_ceil(DIAGRAM_ROW).max(1);
        top += lines as f64 * (box_h + gap_row) - gap_row + gap_y;
    }
    let widest = order.iter().map(Vec::len).max().unwrap_or(1).max(legend.len()).clamp(1, DIAGRAM_ROW);
    let width = 40.0 + widest as f64 * (box_w + gap_x);
    let legend_rows = legend.len().div_ceil(DIAGRAM_ROW);
    let legend_top = top - gap_y + 20.0 + box_h / 2.0;
    let height = legend_top + legend_rows as f64 * 22.0 + if legend.is_empty() { 0.0 } else { 10.0 };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"system-ui,sans-serif\" font-size=\"12\">\
<defs><marker id=\"{marker}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#8a94a6\"/></marker></defs>"
    );
    for &(a, b, count, declared) in edges {
        let (x1, y1) = (xy[a].0 + box_w / 2.0, xy[a].1 + box_h);
        let (x2, y2) = (xy[b].0 + box_w / 2.0, xy[b].1);
        let (y1, y2) = if y2 > y1 { (y1, y2) } else { (xy[a].1, xy[b].1 + box_h) };
        let stroke = (1.0 + (count as f64).ln().max(0.0)).min(4.0);
        // Declared dependencies are solid lines, dependencies only observed in the code are dashed.
        let (dash, what) = if declared { ("", "declared") } else { (" stroke-dasharray=\"5 4\"", "observed") };
        let _ = write!(svg, "<line x1=\"{x1:.0}\" y1=\"{y1:.0}\" x2=\"{x2:.0}\" y2=\"{y2:.0}\" stroke=\"#8a94a6\" stroke-width=\"{stroke:.1}\"{dash} marker-end=\"url(#{marker})\"><title>{what}, {count} references</title></line>");
    }
    // Long labels keep their end, which names the module.
    let shorten = |label: &str, most: usize| {
        if label.chars().count() > most {
            format!("…{}", label.chars().rev().take(most - 1).collect::<Vec<_>>().into_iter().rev().collect::<String>())
        } else {
            label.to_string()
        }
    };
    for (i, diagram_box) in boxes.iter().enumerate() {
        let (x, y) = xy[i];
        let short = shorten(&diagram_box.label, 26);
        let _ = write!(
            svg,
            "<a href=\"{}\"><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{box_w}\" height=\"{box_h}\" rx=\"6\" fill=\"{}\" stroke=\"#1a5fb4\"/>\
<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#1d2330\">{}</text><title>{}</title></a>",
            escape(&diagram_box.href),
            diagram_box.fill,
            x + box_w / 2.0,
            y + box_h / 2.0 + 4.0,
            escape(&short),
            escape(&diagram_box.title),
        );
    }
    for (k, entry) in legend.iter().enumerate() {
        let (line, column) = (k / DIAGRAM_ROW, k % DIAGRAM_ROW);
        let (x, y) = (20.0 + column as f64 * (box_w + gap_x), legend_top + line as f64 * 22.0);
        let _ = write!(
            svg,
            "<a href=\"{}\"><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{}\" stroke=\"#1a5fb4\"/>\
<text x=\"{:.0}\" y=\"{:.0}\" fill=\"#1d2330\">{}</text><title>{}</title></a>",
            escape(&entry.href),
            entry.fill,
            x + 20.0,
            y + 11.0,
            escape(&shorten(&entry.label, 24)),
            escape(&entry.title),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The results of a search from the pages: modules whose path or name holds the query, then the symbols found.
pub fn search_page(
    overview: &Overview,
    query: &str,
    symbols: &[FoundSymbol],
    links: &dyn Fn(Link) -> String,
) -> String {
    let needle = query.to_lowercase();
    let modules: Vec<usize> = (1..overview.modules.len())
        .filter(|&i| {
            let m = &overview.modules[i];
            !needle.is_empty() && (m.path.to_lowercase().contains(&needle) || m.name.to_lowercase().contains(&needle))
        })
        .take(30)
        .collect();
    let body = html! {
        h1 { "Search" }
        p.muted { "“" (query) "”" }
        h2 { "Modules" }
        @if modules.is_empty() { p.muted { "None." } }
        ul { @for &m in &modules { li { (module_link(overview, m, links)) " " span.muted { (overview.modules[m].lines) " lines" } } } }
        h2 { "Symbols and code" }
        @if symbols.is_empty() { p.muted { "None." } }
        ul {
            @for s in symbols {
                li {
                    a.found href=(links(Link::Source(&s.path, s.line))) { code { (s.name) } }
                    " " span.muted { (s.kind) " · " (s.path) ":" (s.line) }
                    @if !s.detail.is_empty() { br; code { (s.detail) } }
                }
            }
        }
    };
    shell(overview, None, "search", links, body)
}

/// The diagram page.
pub fn diagram_page(overview: &Overview, links: &dyn Fn(Link) -> String) -> String {
    let body = html! {
        h1 { "Module dependencies" }
        p.muted { "The " (DIAGRAM_MODULES) " largest modules; an arrow points from a module to one it uses. Boxes of one colour sit in one directory (the legend below)." }
        // The SVGs are built with every text and link escaped.
        (PreEscaped(dependency_svg(overview, links)))
        @if let Some(groups) = group_svg(overview, links) {
            h2 { "Module groups" }
            p.muted { "Modules grouped by the directory that holds them; an arrow points from a group to one whose modules its modules use." }
            div.groups { (PreEscaped(groups)) }
        }
    };
    shell(overview, None, "dependency diagram", links, body)
}

/// Writes the overview as a static site into `dir`; returns the number of pages written.
pub fn write_site(overview: &Overview, dir: &Path) -> Result<usize, OverviewError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OverviewError::Io { path, source }
    };
    std::fs::create_dir_all(dir.join("modules")).map_err(io(dir))?;
    let root = overview.root.clone();
    let file_of = |index: usize| -> String {
        if index == 0 {
            "index.html".to_string()
        } else {
            format!("modules/{}.html", overview.modules[index].path.replace('/', "__"))
        }
    };
    let mut pages = 0;
    for index in 0..overview.modules.len() {
        let depth_prefix = if index == 0 { "" } else { "../" };
        let links = |link: Link| -> String {
            match link {
                Link::Home => format!("{depth_prefix}index.html"),
                Link::Module(m) => format!("{depth_prefix}{}", file_of(m)),
                Link::Diagram => format!("{depth_prefix}dependencies.html"),
                Link::Search => String::new(),
                Link::Source(path, line) => format!("file://{}/{}#L{line}", encode_path(&root), encode_path(path)),
            }
        };
        let path = dir.join(file_of(index));
        std::fs::write(&path, page(overview, index, &links)).map_err(io(&path))?;
        pages += 1;
    }
    let links = |link: Link| -> String {
        match link {
            Link::Home => "index.html".into(),
            Link::Module(m) => file_of(m),
            Link::Diagram => "dependencies.html".into(),
            Link::Search => String::new(),
            Link::Source(path, line) => format!("file://{}/{}#L{line}", encode_path(&root), encode_path(path)),
        }
    };
    let diagram = dir.join("dependencies.html");
    std::fs::write(&diagram, diagram_page(overview, &links)).map_err(io(&diagram))?;
    Ok(pages + 1)
}
