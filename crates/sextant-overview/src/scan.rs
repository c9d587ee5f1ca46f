//! Building an overview from an index and the repository's manifests, docs, rule files and history.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sextant_config::Config;
use sextant_graph::{Node, SymbolId};
use sextant_index::{Index, IndexedFile};
use sextant_syntax::{Language, SymbolKind};

use crate::manifests::{self, CommandKind, ModuleKind};
use crate::model::*;
use crate::rules::{self, Rule};
use crate::tally::{Crossing, EdgeTally};

/// Key symbols kept per module.
const KEY_SYMBOLS: usize = 12;
/// Symbols listed per direction of a module's calls across its boundary.
const FLOWS: usize = 8;
/// Entry points kept per module.
const ENTRY_POINTS: usize = 20;
/// A directory without a manifest becomes a module when it holds this share of the repository's lines.
const SIGNIFICANT_SHARE: f64 = 0.05;
/// Files that tell us about a directory.
const AUX_NAMES: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "go.mod",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "README.md",
    "README",
    "README.rst",
    "readme.md",
    "Makefile",
    "justfile",
    "Dockerfile",
    "tox.ini",
    "CONTRIBUTING.md",
    "AGENTS.md",
    "CLAUDE.md",
    ".cursorrules",
    ".windsurfrules",
    "copilot-instructions.md",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AuxFiles {
    /// Directories (repository-relative) with the aux file names they hold.
    by_dir: BTreeMap<String, BTreeSet<String>>,
    /// Rule files and workflow files by path.
    rules: Vec<String>,
    workflows: Vec<String>,
}

impl AuxFiles {
    /// Whether this listing still holds after the files at `changed` (repository-relative) changed: none of them
    /// is, or was, an aux file or a directory (a directory renamed or created can bring aux files no event names).
    fn survives(&self, root: &Path, changed: &[String]) -> bool {
        changed.iter().all(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            let aux_name = AUX_NAMES.contains(&name)
                || matches!(name, "__init__.py" | ".gitignore" | ".ignore" | ".sextant.toml")
                || name.ends_with(".mdc")
                || name.ends_with(".instructions.md");
            let under = |p: &String| p.starts_with(path.as_str()) && p.as_bytes().get(path.len()) == Some(&b'/');
            let held = self.by_dir.keys().any(|d| d == path || under(d))
                || self.rules.iter().any(under)
                || self.workflows.iter().any(under);
            let special_dir =
                path.starts_with(".github/") || path.starts_with(".cursor/") || path.contains("/.cursor/");
            !aux_name && !held && !special_dir && !root.join(path).is_dir()
        })
    }
}

/// The aux listing last walked, with what it depended on, kept between builds so that an update whose changed
/// paths cannot have changed it skips the walk of the whole tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AuxScan {
    root: String,
    /// The exclude patterns it was walked with.
    excludes: Vec<String>,
    aux: AuxFiles,
}

fn walk_aux(root: &Path, config: &Config) -> AuxFiles {
    let mut aux = AuxFiles { by_dir: BTreeMap::new(), rules: Vec::new(), workflows: Vec::new() };
    let mut excludes = ignore::gitignore::GitignoreBuilder::new(root);
    for pattern in &config.index.exclude {
        let _ = excludes.add_line(None, pattern);
    }
    let excludes = excludes.build().ok();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(move |entry| {
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if name.starts_with('.') && entry.depth() > 0 {
                let allowed = if is_dir { matches!(name.as_ref(), ".github" | ".cursor") } else { true };
                if !allowed {
                    return false;
                }
            }
            !excludes.as_ref().is_some_and(|e| e.matched(entry.path(), is_dir).is_ignore())
        })
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else { continue };
        let Some(rel) = rel.to_str() else { continue };
        let rel = rel.replace('\\', "/");
        let (dir, name) = rel.rsplit_once('/').map_or(("", rel.as_str()), |(d, n)| (d, n));
        if dir.starts_with(".github/workflows") && (name.ends_with(".yml") || name.ends_with(".yaml")) {
            aux.workflows.push(rel.clone());
        }
        let is_rule = matches!(name, "AGENTS.md" | "CLAUDE.md")
            || (dir.is_empty() && matches!(name, ".cursorrules" | ".windsurfrules" | "CONTRIBUTING.md"))
            || (dir == ".github" && matches!(name, "copilot-instructions.md" | "CONTRIBUTING.md"))
            || (dir.ends_with(".cursor/rules") && name.ends_with(".mdc"))
            || (dir == ".github/instructions" && name.ends_with(".instructions.md"));
        if is_rule {
            aux.rules.push(rel.clone());
        }
        if AUX_NAMES.contains(&name) || name == "__init__.py" {
            aux.by_dir.entry(dir.to_string()).or_default().insert(name.to_string());
        }
    }
    aux
}

/// Whether any of `sorted_paths` lies under `dir`.
fn has_files_under(sorted_paths: &[&str], dir: &str) -> bool {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    let at = sorted_paths.partition_point(|p| *p < prefix.as_str());
    dir.is_empty() && !sorted_paths.is_empty() || sorted_paths.get(at).is_some_and(|p| p.starts_with(&prefix))
}

fn in_dir(dir: &str, path: &str) -> bool {
    dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Module-level documentation at the head of a file: `//!` (Rust), a module docstring (Python), the package
/// comment (Go), a leading block comment (JS/TS/Java/C-like).
fn leading_doc(text: &str, language: Language) -> Option<String> {
    let head: String = text.chars().take(4000).collect();
    let mut lines: Vec<String> = Vec::new();
    match language {
        Language::Rust => {
            for line in head.lines() {
                let t = line.trim();
                if let Some(doc) = t.strip_prefix("//!") {
                    lines.push(doc.trim().to_string());
                } else if !(t.is_empty() || t.starts_with("#![")) || !lines.is_empty() && t.is_empty() {
                    break;
                }
            }
        }
        Language::Python => {
            let t = head.trim_start();
            let t = t.strip_prefix("#!").map_or(t, |rest| rest.split_once('\n').map_or("", |(_, r)| r)).trim_start();
            for quote in ["\"\"\"", "'''"] {
                if let Some(rest) = t.strip_prefix(quote) {
                    if let Some(end) = rest.find(quote) {
                        lines.extend(rest[..end].lines().map(|l| l.trim().to_string()));
                    }
                }
            }
        }
        Language::Go => {
            for line in head.lines() {
                let t = line.trim();
                if let Some(doc) = t.strip_prefix("//") {
                    lines.push(doc.trim().to_string());
                } else if t.starts_with("package ") {
                    break;
                } else {
                    lines.clear();
                }
            }
        }
        _ => {
            let t = head.trim_start();
            if let Some(rest) = t.strip_prefix("/**").or_else(|| t.strip_prefix("/*!")) {
                if let Some(end) = rest.find("*/") {
                    lines.extend(rest[..end].lines().map(|l| l.trim().trim_start_matches('*').trim().to_string()));
                }
            }
        }
    }
    let paragraph: Vec<String> = lines.into_iter().skip_while(|l| l.is_empty()).take_while(|l| !l.is_empty()).collect();
    let doc = paragraph.join(" ");
    // License headers are not purpose statements.
    let lower = doc.to_lowercase();
    if doc.is_empty()
        || lower.contains("copyright")
        || lower.contains("licensed under")
        || lower.contains("license") && lower.contains("apache")
    {
        return None;
    }
    Some(manifests::truncate(&doc, 600))
}

/// The javadoc before the `package` clause of a package-info.java (after any license header).
fn leading_java_doc(text: &str) -> Option<String> {
    let package = text.find("\npackage ").unwrap_or(text.len());
    let head = &text[..package];
    let start = head.rfind("/**")?;
    leading_doc(&head[start..], Language::Java)
}

/// Files whose leading doc speaks for their directory.
const MODULE_DOC_FILES: &[&str] =
    &["lib.rs", "mod.rs", "main.rs", "__init__.py", "index.ts", "index.js", "doc.go", "main.go", "package-info.java"];

struct Module {
    path: String,
    name: String,
    kind: ModuleKind,
    description: Option<String>,
    commands: Vec<(CommandKind, String, String)>,
    /// The dependencies its manifest declares; `None` when there is no manifest that says.
    declared: Option<Vec<String>>,
}

/// What the overview reads from one source file (entry points, its leading doc comment), kept with the file's
/// content hash so that an update reads only the files that changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileScan {
    /// Content hash (hex) of the file scanned.
    hash: String,
    /// CLI definitions and routes found in it (the first few).
    entries: Vec<EntryPoint>,
    /// Its leading doc comment (`package-info.java`: the package's Javadoc).
    doc: Option<String>,
}

/// [`FileScan`]s by path, stored beside the overview ([`crate::load_scans`], [`crate::save_scans`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceScans {
    files: HashMap<String, FileScan>,
    /// Paths scanned by this build; the others are dropped when it is saved.
    #[serde(skip)]
    used: HashSet<String>,
    /// Module activity as of one HEAD: reading the history means diffing hundreds of trees, and it changes only
    /// when HEAD (or the module list) does, not on each edit.
    #[serde(default)]
    history: Option<HistoryScan>,
    /// The aux files (manifests, READMEs, rule files, workflows) as last walked.
    #[serde(default)]
    aux: Option<AuxScan>,
    /// What changed since the last build (repository-relative), when the caller knows it exactly
    /// ([`SourceScans::note_changes`]); `None` walks the tree again.
    #[serde(skip)]
    changed: Option<Vec<String>>,
    /// Source files read since [`SourceScans::take_reads`] was last asked.
    #[serde(skip)]
    files_read: usize,
    /// Whether the tree was walked or the history read since then.
    #[serde(skip)]
    listing_read: bool,
    /// The cross-module edge counts of the last build, brought up to date by the next from the files whose edges
    /// changed (kept in memory only).
    #[serde(skip)]
    tally: Option<EdgeTally>,
}

/// [`Activity`] per module, computed at one HEAD over one module list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct HistoryScan {
    head: String,
    limit: usize,
    modules: Vec<String>,
    activity: Vec<Option<Activity>>,
}

impl SourceScans {
    /// The scan of `file`, reading it only when its content changed since it was last scanned.
    fn scan(&mut self, root: &Path, file: IndexedFile<'_>) -> &FileScan {
        let hash = format!("{:032x}", file.hash());
        self.used.insert(file.path().to_string());
        let fresh = self.files.get(file.path()).is_some_and(|scan| scan.hash == hash);
        if !fresh {
            let read = std::fs::read_to_string(root.join(file.path()));
            // A file that cannot be read now is scanned again next time, not remembered as empty.
            let hash = if read.is_ok() { hash } else { String::new() };
            let text = read.unwrap_or_default();
            let mut entries = Vec::new();
            for (line_no, line) in text.lines().enumerate() {
                if let Some((kind, name)) = entry_pattern(line.trim()) {
                    let path = file.path().to_string();
                    entries.push(EntryPoint { kind: kind.into(), name, path, line: line_no as u32 + 1 });
                    if entries.len() >= ENTRY_POINTS {
                        break;
                    }
                }
            }
            let doc = match file.path().ends_with("/package-info.java") {
                true => leading_java_doc(&text),
                false => leading_doc(&text, file.language()),
            };
            self.files.insert(file.path().to_string(), FileScan { hash, entries, doc });
            self.files_read += 1;
        }
        &self.files[file.path()]
    }

    /// [`history`] of `modules`, read again only when HEAD or the module list moved since the cached reading.
    fn history(&mut self, root: &Path, modules: &[Module], limit: usize) -> Vec<Option<Activity>> {
        let head = git_head(root);
        let paths: Vec<String> = modules.iter().map(|m| m.path.clone()).collect();
        if let (Some(cached), Some(head)) = (&self.history, &head) {
            if &cached.head == head && cached.limit == limit && cached.modules == paths {
                return cached.activity.clone();
            }
        }
        let activity = history(root, modules, limit);
        self.listing_read = true;
        self.history = head.map(|head| HistoryScan { head, limit, modules: paths, activity: activity.clone() });
        activity
    }

    /// Tells the next build which paths changed since the last one (absolute or relative to `root`), as a file
    /// watcher knows them: when none of them can have added, moved or removed a manifest, README, rule file or
    /// workflow, the build reuses the listing of those instead of walking the whole tree. The list must cover
    /// every change; without it the build walks.
    pub fn note_changes(&mut self, root: &Path, changed: &[std::path::PathBuf]) {
        let relative = changed
            .iter()
            .map(|p| p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/"))
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        self.changed = Some(relative);
    }

    /// The aux files of the tree: the cached listing when the noted changes leave it valid, else a new walk.
    fn aux(&mut self, root: &Path, config: &Config) -> AuxFiles {
        let changed = self.changed.take();
        let root_key = root.to_string_lossy().into_owned();
        if let (Some(cached), Some(changed)) = (&self.aux, &changed) {
            if cached.root == root_key && cached.excludes == config.index.exclude && cached.aux.survives(root, changed)
            {
                return cached.aux.clone();
            }
        }
        let aux = walk_aux(root, config);
        self.listing_read = true;
        self.aux = Some(AuxScan { root: root_key, excludes: config.index.exclude.clone(), aux: aux.clone() });
        aux
    }

    /// How many source files were read, and whether the tree was walked or the history read, since the last call:
    /// what the stored scans lack until they are saved again.
    pub(crate) fn take_reads(&mut self) -> (usize, bool) {
        (std::mem::take(&mut self.files_read), std::mem::take(&mut self.listing_read))
    }

    /// Drops the scans of files this build did not look at (deleted, or no longer needed).
    pub(crate) fn retain_used(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.files.retain(|path, _| used.contains(path));
    }
}

/// Builds the overview of an indexed repository, reading every source file it needs.
pub fn build_overview(index: &Index, config: &Config) -> Overview {
    build_overview_with(index, config, &mut SourceScans::default())
}

/// [`build_overview`] reusing `scans` for files whose content did not change (and updating it).
pub fn build_overview_with(index: &Index, config: &Config, scans: &mut SourceScans) -> Overview {
    let started = Instant::now();
    let root = Path::new(index.root());
    let mut aux = scans.aux(root, config);
    // The root is always inspected (a Makefile or settings.gradle alone still describes the project).
    aux.by_dir.entry(String::new()).or_default();

    // Modules from manifests.
    let mut modules: BTreeMap<String, Module> = BTreeMap::new();
    let mut subprojects: Vec<String> = Vec::new();
    for (dir, names) in &aux.by_dir {
        let has_manifest = names.iter().any(|n| {
            matches!(
                n.as_str(),
                "Cargo.toml"
                    | "package.json"
                    | "go.mod"
                    | "pyproject.toml"
                    | "setup.py"
                    | "setup.cfg"
                    | "pom.xml"
                    | "build.gradle"
                    | "build.gradle.kts"
            )
        });
        // The root's Makefile, justfile, Dockerfile… count even without a package manifest.
        if !has_manifest && !dir.is_empty() {
            continue;
        }
        let info = manifests::inspect(&root.join(dir), dir);
        let commands = info.commands.iter().map(|(k, c, source)| (*k, c.clone(), join(dir, source))).collect();
        subprojects.extend(info.subprojects.iter().map(|p| join(dir, p)));
        if let Some(kind) = info.kind {
            let name = info.name.clone().unwrap_or_else(|| dir.rsplit('/').next().unwrap_or(dir).to_string());
            modules.insert(
                dir.clone(),
                Module {
                    path: dir.clone(),
                    name,
                    kind,
                    description: info.description.clone(),
                    commands,
                    declared: info.declared.clone(),
                },
            );
        } else if dir.is_empty() {
            modules.insert(
                String::new(),
                Module {
                    path: String::new(),
                    name: String::new(),
                    kind: ModuleKind::Repository,
                    description: info.description.clone(),
                    commands,
                    declared: None,
                },
            );
        }
    }
    // Sub-projects a build declares (Gradle settings, Maven modules) are modules even without their own manifest.
    // Whether a directory holds indexed files is a search in the sorted paths (kafka declares 60 sub-projects).
    // The index lists its files by path (the sort only makes sure, in linear time on sorted input).
    let paths: Vec<&str> = index.indexed_files().map(|f| f.path()).collect();
    let mut sorted_paths = paths.clone();
    sorted_paths.sort_unstable();
    for dir in subprojects {
        let kind = if aux.by_dir.get("").is_some_and(|n| n.contains("pom.xml")) {
            ModuleKind::Maven
        } else {
            ModuleKind::Gradle
        };
        if has_files_under(&sorted_paths, &dir) {
            let name = dir.rsplit('/').next().unwrap_or(&dir).to_string();
            modules.entry(dir.clone()).or_insert(Module {
                path: dir,
                name,
                kind,
                description: None,
                commands: Vec::new(),
                declared: None,
            });
        }
    }
    // Python packages: the top-most directories with __init__.py.
    for (dir, names) in &aux.by_dir {
        if names.contains("__init__.py")
            && !aux.by_dir.get(parent_dir(dir)).is_some_and(|n| n.contains("__init__.py"))
            && !dir.is_empty()
        {
            let name = dir.rsplit('/').next().unwrap_or(dir).to_string();
            modules.entry(dir.clone()).or_insert(Module {
                path: dir.clone(),
                name,
                kind: ModuleKind::Python,
                description: None,
                commands: Vec::new(),
                declared: None,
            });
        }
    }
    // Go packages inside Go modules.
    let go_modules: Vec<String> =
        modules.values().filter(|m| m.kind == ModuleKind::GoModule).map(|m| m.path.clone()).collect();
    if !go_modules.is_empty() {
        let mut go_dirs: BTreeSet<String> = BTreeSet::new();
        for f in
            index.indexed_files().filter(|f| f.language() == Language::Go && !sextant_index::is_test_path(f.path()))
        {
            let dir = parent_dir(f.path());
            if go_modules.iter().any(|m| in_dir(m, dir)) {
                go_dirs.insert(dir.to_string());
            }
        }
        for dir in go_dirs {
            let name = dir.rsplit('/').next().unwrap_or(&dir).to_string();
            modules.entry(dir.clone()).or_insert(Module {
                path: dir,
                name,
                kind: ModuleKind::GoPackage,
                description: None,
                commands: Vec::new(),
                declared: None,
            });
        }
    }
    // Significant directories that no module covers.
    let total_lines: u64 = index.indexed_files().map(|f| f.lines() as u64).sum();
    let mut top_lines: BTreeMap<String, u64> = BTreeMap::new();
    for f in index.indexed_files() {
        if let Some((top, _)) = f.path().split_once('/') {
            *top_lines.entry(top.to_string()).or_default() += f.lines() as u64;
        }
    }
    for (dir, lines) in top_lines {
        let covered = modules.keys().any(|m| !m.is_empty() && in_dir(&dir, m));
        if !covered && lines as f64 >= total_lines as f64 * SIGNIFICANT_SHARE {
            let name = dir.clone();
            modules.insert(
                dir.clone(),
                Module {
                    path: dir,
                    name,
                    kind: ModuleKind::Directory,
                    description: None,
                    commands: Vec::new(),
                    declared: None,
                },
            );
        }
    }
    // Configuration: named modules, then merges.
    for setting in &config.overview.modules {
        let path = setting.path.trim_matches('/').to_string();
        let name = setting.name.clone().unwrap_or_else(|| path.rsplit('/').next().unwrap_or(&path).to_string());
        match modules.get_mut(&path) {
            Some(existing) => existing.name = name,
            None => {
                modules.insert(
                    path.clone(),
                    Module {
                        path,
                        name,
                        kind: ModuleKind::Configured,
                        description: None,
                        commands: Vec::new(),
                        declared: None,
                    },
                );
            }
        }
    }
    for merge in &config.overview.merge {
        let merge = merge.trim_matches('/');
        modules.retain(|path, _| !(path.len() > merge.len() && in_dir(merge, path)));
        let name = merge.rsplit('/').next().unwrap_or(merge).to_string();
        modules.entry(merge.to_string()).or_insert(Module {
            path: merge.to_string(),
            name,
            kind: ModuleKind::Configured,
            description: None,
            commands: Vec::new(),
            declared: None,
        });
    }
    let repo_name = root.file_name().map_or("repository".into(), |n| n.to_string_lossy().into_owned());
    let root_module = modules.remove("").unwrap_or(Module {
        path: String::new(),
        name: String::new(),
        kind: ModuleKind::Repository,
        description: None,
        commands: Vec::new(),
        declared: None,
    });
    let mut ordered: Vec<Module> =
        vec![Module { name: repo_name.clone(), kind: ModuleKind::Repository, ..root_module }];
    ordered.extend(modules.into_values());

    // Hierarchy and file assignment (deepest module wins): walk up the directories to the nearest module, a map
    // lookup per level (thousands of Go packages times thousands of files would not scale otherwise).
    let module_at: HashMap<&str, usize> =
        ordered.iter().enumerate().skip(1).map(|(i, m)| (m.path.as_str(), i)).collect();
    let nearest_module = |mut dir: &str| -> usize {
        loop {
            if let Some(&m) = module_at.get(dir) {
                return m;
            }
            if dir.is_empty() {
                return 0;
            }
            dir = parent_dir(dir);
        }
    };
    let parents: Vec<Option<usize>> =
        ordered.iter().enumerate().map(|(i, m)| (i != 0).then(|| nearest_module(parent_dir(&m.path)))).collect();
    let module_of_path = |path: &str| -> usize { nearest_module(parent_dir(path)) };
    let file_module: Vec<usize> = paths.iter().map(|p| module_of_path(p)).collect();
    let test_file: Vec<bool> = paths.iter().map(|p| sextant_index::is_test_path(p)).collect();
    // Ancestor chain (including itself) of each module, for subtree totals.
    let chain = |mut m: usize| -> Vec<usize> {
        let mut out = vec![m];
        while let Some(p) = parents[m] {
            out.push(p);
            m = p;
        }
        out
    };
    let chains: Vec<Vec<usize>> = (0..ordered.len()).map(chain).collect();

    let n = ordered.len();
    let mut sizes = vec![(0u64, 0u64); n];
    let mut languages: Vec<BTreeMap<String, (u64, u64)>> = vec![BTreeMap::new(); n];
    let mut tests: Vec<(u64, BTreeSet<String>)> = vec![(0, BTreeSet::new()); n];
    for (file, &module) in index.indexed_files().zip(&file_module) {
        let test = test_file[file.id() as usize];
        for &m in &chains[module] {
            sizes[m].0 += 1;
            sizes[m].1 += file.lines() as u64;
            let entry = languages[m].entry(file.language().name().to_string()).or_default();
            entry.0 += 1;
            entry.1 += file.lines() as u64;
            if test {
                tests[m].0 += 1;
                tests[m].1.insert(parent_dir(file.path()).to_string());
            }
        }
    }

    // Key symbols per module (own subtree): first by how many other modules use them (calls and references
    // from outside), then by centrality, so a crate's API comes before its accessors.
    let tally = EdgeTally::update(scans.tally.take(), &paths, &file_module, n, &test_file, &index.graph().data().edges);
    let outside_users = &tally.outside_users;
    let mut key: Vec<Vec<(f32, SymbolId)>> = vec![Vec::new(); n];
    for (file, &module) in index.indexed_files().zip(&file_module) {
        if test_file[file.id() as usize] {
            continue;
        }
        for (s, symbol) in file.symbols().iter().enumerate() {
            let public_kind = matches!(
                symbol.kind,
                SymbolKind::Function
                    | SymbolKind::Class
                    | SymbolKind::Struct
                    | SymbolKind::Trait
                    | SymbolKind::Interface
                    | SymbolKind::Enum
                    | SymbolKind::TypeAlias
                    | SymbolKind::Method
            );
            if !public_kind || symbol.name.starts_with('_') || symbol.name == "main" {
                continue;
            }
            let id = SymbolId { file: file.id(), symbol: s as u32 };
            let mut rank = index.graph().symbol_rank(id) * if is_public(symbol, file.language()) { 2.0 } else { 0.5 };
            if symbol.kind == SymbolKind::Method {
                rank *= 0.5;
            }
            // Whole other modules using it outweigh any centrality; accessors (`fn path(&self)`, `getName()`) are
            // used everywhere and explain nothing, so they come last.
            rank = match is_accessor(symbol) {
                true => rank * 0.1,
                false => outside_users.get(&id).copied().unwrap_or(0) as f32 * 10_000.0 + rank.min(9_999.0),
            };
            for &m in &chains[module] {
                let list = &mut key[m];
                list.push((rank, id));
                if list.len() > KEY_SYMBOLS * 8 {
                    list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    list.truncate(KEY_SYMBOLS * 2);
                }
            }
        }
    }

    // Dependencies between modules from imports and calls; and, per module, the calls that cross its boundary
    // (certain links only), by called symbol: how data flows in and out.
    let edges = &tally.module_edges;
    let flows = |crossing: &crate::tally::HashMap<SymbolId, Crossing>| -> Vec<Flow> {
        let mut most: Vec<(&SymbolId, &Crossing)> = crossing.iter().collect();
        most.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(b.0)));
        most.into_iter()
            .take(FLOWS)
            .filter_map(|(&callee, crossing)| {
                let (calls, caller) = (crossing.calls, crossing.caller()?);
                let (file, symbol) = index.symbol(callee)?;
                let (caller, caller_path, caller_line, caller_file) = match caller {
                    Node::Symbol(id) => {
                        let (f, s) = index.symbol(id)?;
                        (s.qualified_name.clone(), f.path().to_string(), s.span.start_line, id.file)
                    }
                    Node::File(f) => {
                        let path = index.file(f)?.path().to_string();
                        (path.clone(), path, 1, f)
                    }
                    Node::Module(_) => return None,
                };
                Some(Flow {
                    symbol: symbol.qualified_name.clone(),
                    path: file.path().to_string(),
                    line: symbol.span.start_line,
                    module: file_module[callee.file as usize],
                    calls,
                    caller,
                    caller_path,
                    caller_line,
                    caller_module: file_module[caller_file as usize],
                })
            })
            .collect()
    };

    // What each module depends on: for a module whose manifest lists its dependencies, exactly the modules of the
    // repository it declares (with the imports and calls observed towards each); for others, what imports and
    // calls show.
    let normalize = |name: &str| name.replace('_', "-");
    let by_name: HashMap<String, usize> = ordered
        .iter()
        .enumerate()
        .filter(|(_, m)| m.declared.is_some() && !m.name.is_empty())
        .map(|(i, m)| (normalize(&m.name), i))
        .collect();
    let dependencies: Vec<Vec<Dependency>> = (0..n)
        .map(|i| {
            let observed = |b: usize| edges.get(&(i, b)).copied().unwrap_or(0);
            let mut deps: Vec<Dependency> = match &ordered[i].declared {
                Some(declared) => {
                    let mut targets: Vec<usize> = declared
                        .iter()
                        .filter_map(|name| by_name.get(&normalize(name)).copied())
                        .filter(|&b| b != i)
                        .collect();
                    targets.sort_unstable();
                    targets.dedup();
                    targets.into_iter().map(|b| Dependency { module: b, count: observed(b), declared: true }).collect()
                }
                None => edges
                    .iter()
                    .filter(|((a, _), _)| *a == i)
                    .map(|((_, b), c)| Dependency { module: *b, count: *c, declared: false })
                    .collect(),
            };
            deps.sort_by(|a, b| b.count.cmp(&a.count).then(a.module.cmp(&b.module)));
            deps
        })
        .collect();

    // Entry points: mains, CLI definitions and HTTP routes.
    let mut entries: Vec<Vec<EntryPoint>> = vec![Vec::new(); n];
    for (file, &module) in index.indexed_files().zip(&file_module) {
        for symbol in file.symbols() {
            if symbol.name == "main" && symbol.kind == SymbolKind::Function {
                entries[module].push(EntryPoint {
                    kind: "main".into(),
                    name: "main".into(),
                    path: file.path().to_string(),
                    line: symbol.span.start_line,
                });
            }
        }
        if file.path().ends_with("__main__.py") {
            entries[module].push(EntryPoint {
                kind: "main".into(),
                name: "python -m".into(),
                path: file.path().to_string(),
                line: 1,
            });
        }
        if test_file[file.id() as usize] || entries[module].len() >= ENTRY_POINTS {
            continue;
        }
        let room = ENTRY_POINTS - entries[module].len();
        entries[module].extend(scans.scan(root, file).entries.iter().take(room).cloned());
    }

    // Purposes: README, manifest description, module doc comment.
    let mut go_files_by_dir: HashMap<&str, Vec<IndexedFile<'_>>> = HashMap::new();
    let mut package_infos: Vec<IndexedFile<'_>> = Vec::new();
    for file in index.indexed_files() {
        if file.language() == Language::Go && !test_file[file.id() as usize] {
            go_files_by_dir.entry(parent_dir(file.path())).or_default().push(file);
        }
        if file.path().ends_with("/package-info.java") && !test_file[file.id() as usize] {
            package_infos.push(file);
        }
    }
    let activity = scans.history(root, &ordered, config.overview.history_commits);
    let mut purpose_of = |module: &Module| -> Option<(String, String)> {
        let dir = root.join(&module.path);
        for readme in ["README.md", "README", "README.rst", "readme.md"] {
            if aux.by_dir.get(&module.path).is_some_and(|names| names.contains(readme)) {
                if let Some(summary) =
                    std::fs::read_to_string(dir.join(readme)).ok().and_then(|t| manifests::readme_summary(&t))
                {
                    return Some((summary, join(&module.path, readme)));
                }
            }
        }
        if let Some(description) = &module.description {
            return Some((description.clone(), "manifest".into()));
        }
        // A Go package comment may sit in any file of the package.
        if module.kind == ModuleKind::GoPackage {
            for file in go_files_by_dir.get(module.path.as_str()).into_iter().flatten() {
                if let Some(doc) = scans.scan(root, *file).doc.clone() {
                    return Some((doc, file.path().to_string()));
                }
            }
        }
        // Java: the shallowest package-info.java of the module describes its top package.
        if let Some(info) = package_infos
            .iter()
            .filter(|f| in_dir(&module.path, f.path()))
            .min_by_key(|f| (f.path().matches('/').count(), f.path()))
        {
            if let Some(doc) = scans.scan(root, *info).doc.clone() {
                return Some((doc, info.path().to_string()));
            }
        }
        for doc_file in MODULE_DOC_FILES {
            for candidate in [join(&module.path, doc_file), join(&module.path, &format!("src/{doc_file}"))] {
                let Some(file) = index.file_by_path(&candidate) else { continue };
                if let Some(doc) = scans.scan(root, file).doc.clone() {
                    return Some((doc, candidate));
                }
            }
        }
        None
    };

    let mut out_modules = Vec::with_capacity(n);
    for (i, module) in ordered.iter().enumerate() {
        let purpose = purpose_of(module);
        let mut langs: Vec<LanguageShare> = languages[i]
            .iter()
            .map(|(l, (f, ln))| LanguageShare { language: l.clone(), files: *f, lines: *ln })
            .collect();
        langs.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.language.cmp(&b.language)));
        let mut symbols = key[i].clone();
        symbols.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let key_symbols = symbols
            .into_iter()
            .take(KEY_SYMBOLS)
            .filter_map(|(rank, id)| {
                let (file, s) = index.symbol(id)?;
                Some(KeySymbol {
                    name: s.qualified_name.clone(),
                    kind: s.kind.as_str().into(),
                    signature: s.signature.clone(),
                    doc: s.doc.as_ref().and_then(|d| d.lines().next()).map(str::to_string),
                    path: file.path().to_string(),
                    line: s.span.start_line,
                    rank,
                })
            })
            .collect();
        let depends_on = dependencies[i].clone();
        let mut used_by: Vec<Dependency> = dependencies
            .iter()
            .enumerate()
            .flat_map(|(from, deps)| {
                deps.iter().filter(|d| d.module == i).map(move |d| Dependency { module: from, ..d.clone() })
            })
            .collect();
        used_by.sort_by(|a, b| b.declared.cmp(&a.declared).then(b.count.cmp(&a.count)).then(a.module.cmp(&b.module)));
        let commands: Vec<Command> = module
            .commands
            .iter()
            .map(|(k, c, s)| Command { kind: *k, command: c.clone(), source: s.clone() })
            .collect();
        let test_command = commands
            .iter()
            .find(|c| c.kind == CommandKind::Test)
            .map(|c| c.command.clone())
            .or_else(|| inherited_test_command(&ordered, &parents, i, module));
        let mut test_dirs: Vec<String> = tests[i].1.iter().cloned().collect();
        test_dirs.truncate(5);
        out_modules.push(ModuleOverview {
            path: module.path.clone(),
            name: module.name.clone(),
            kind: module.kind,
            parent: parents[i],
            children: (0..n).filter(|&j| parents[j] == Some(i)).collect(),
            purpose: purpose.as_ref().map(|(p, _)| p.clone()),
            purpose_source: purpose.map(|(_, s)| s),
            files: sizes[i].0,
            lines: sizes[i].1,
            languages: langs,
            key_symbols,
            entry_points: std::mem::take(&mut entries[i]),
            depends_on,
            used_by,
            calls_in: tally.inbound.get(i).map(flows).unwrap_or_default(),
            calls_out: tally.outbound.get(i).map(flows).unwrap_or_default(),
            tests: Tests {
                files: tests[i].0,
                dirs: test_dirs,
                command: if tests[i].0 > 0 { test_command } else { None },
            },
            commands,
            activity: activity.get(i).cloned().flatten(),
        });
    }

    scans.tally = Some(tally);

    let rules: Vec<Rule> = aux
        .rules
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(root.join(path)).ok()?;
            rules::parse_rule(path, &text)
        })
        .collect();

    let mut ci = Vec::new();
    for workflow in &aux.workflows {
        if let Ok(text) = std::fs::read_to_string(root.join(workflow)) {
            for command in manifests::workflow_commands(&text).into_iter().take(20) {
                let kind = classify_command(&command);
                if !ci.iter().any(|c: &Command| c.command == command) {
                    ci.push(Command { kind, command, source: workflow.clone() });
                }
            }
        }
    }
    let mut docs = Vec::new();
    let mut commands = out_modules[0].commands.clone();
    for doc in ["README.md", "CONTRIBUTING.md", "README.rst", "README"] {
        if let Ok(text) = std::fs::read_to_string(root.join(doc)) {
            for (heading, excerpt) in manifests::how_to_sections(&text, 1200).into_iter().take(6) {
                docs.push(DocSection { source: doc.into(), heading, excerpt });
            }
            // What the README tells a newcomer to run counts as much as what the manifests define.
            for command in manifests::how_to_commands(&text).into_iter().take(20) {
                if !commands.iter().any(|c| c.command == command) {
                    commands.push(Command { kind: classify_command(&command), command, source: doc.into() });
                }
            }
        }
    }
    let mut repo_languages = out_modules[0].languages.clone();
    repo_languages.truncate(12);
    let repository = RepositoryOverview {
        name: repo_name,
        purpose: out_modules[0].purpose.clone(),
        files: sizes[0].0,
        lines: sizes[0].1,
        symbols: index.indexed_files().map(|f| f.symbols().len() as u64).sum(),
        languages: repo_languages,
        commands,
        ci,
        docs,
        head: sextant_index::git_state(root).map(|g| g.head),
    };
    Overview {
        root: index.root().to_string(),
        generation: index.generation(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        repository,
        modules: out_modules,
        rules,
    }
}

/// Whether a symbol is part of its module's public surface, as far as the syntax says.
fn is_public(symbol: &sextant_syntax::Symbol, language: Language) -> bool {
    let signature = symbol.signature.as_str();
    match language {
        Language::Rust => signature.starts_with("pub ") || signature.starts_with("pub("),
        Language::Go => symbol.name.chars().next().is_some_and(char::is_uppercase),
        Language::Java | Language::Groovy | Language::CSharp | Language::Php => {
            !(signature.contains("private ") || signature.contains("protected "))
        }
        // Scala's `private[pkg]` is still private to a package; Kotlin's `internal` to a module.
        Language::Scala | Language::Kotlin => !["private ", "private[", "protected ", "protected[", "internal "]
            .iter()
            .any(|keyword| signature.contains(keyword)),
        Language::Swift => !(signature.contains("private ") || signature.contains("fileprivate ")),
        _ => !symbol.name.starts_with('_'),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn classify_command(command: &str) -> CommandKind {
    let lower = command.to_lowercase();
    // Script names count word by word: `indexer-config/setup-models.sh` sets up.
    let words: Vec<&str> =
        lower.split(|c: char| c.is_whitespace() || matches!(c, ':' | '/' | '-' | '_' | '.')).collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    if has(&["test", "pytest", "tox", "nextest", "jest", "vitest"]) {
        CommandKind::Test
    } else if has(&["build", "compile", "package"]) {
        CommandKind::Build
    } else if has(&["clippy", "fmt", "lint", "vet", "eslint", "ruff", "flake8", "mypy"]) {
        CommandKind::Lint
    } else if has(&["install", "ci", "setup", "sync"]) {
        CommandKind::Setup
    } else {
        CommandKind::Other
    }
}

/// A method without parameters (beyond its receiver) and a body of a few lines: a getter or a conversion.
fn is_accessor(symbol: &sextant_syntax::Symbol) -> bool {
    if symbol.kind != SymbolKind::Method || symbol.span.end_line.saturating_sub(symbol.span.start_line) > 3 {
        return false;
    }
    let Some(params) = symbol.signature.split_once('(').and_then(|(_, rest)| rest.split_once(')')).map(|(p, _)| p)
    else {
        return false;
    };
    let params = params.trim();
    params.is_empty() || matches!(params, "&self" | "self" | "&mut self" | "mut self")
}

/// A test command for a module without its own: the nearest ancestor's, narrowed to the module where the tool
/// allows it.
fn inherited_test_command(ordered: &[Module], parents: &[Option<usize>], i: usize, module: &Module) -> Option<String> {
    let mut p = parents[i];
    while let Some(ancestor) = p {
        if let Some((_, command, _)) = ordered[ancestor].commands.iter().find(|(k, _, _)| *k == CommandKind::Test) {
            let rel = module.path.strip_prefix(&format!("{}/", ordered[ancestor].path)).unwrap_or(&module.path);
            return Some(if command.contains("go test") {
                format!("go test ./{rel}/...")
            } else if command.contains("pytest") {
                format!("python -m pytest {}", module.path)
            } else {
                command.clone()
            });
        }
        p = parents[ancestor];
    }
    None
}

/// Recognises CLI definitions and HTTP route registrations in a trimmed source line.
fn entry_pattern(line: &str) -> Option<(&'static str, String)> {
    const ROUTE_PREFIXES: &[&str] = &[
        "@app.route(",
        "@bp.route(",
        "@blueprint.route(",
        "@router.get(",
        "@router.post(",
        "@router.put(",
        "@router.delete(",
        "@app.get(",
        "@app.post(",
        "@app.put(",
        "@app.delete(",
        "@GetMapping(",
        "@PostMapping(",
        "@PutMapping(",
        "@DeleteMapping(",
        "@RequestMapping(",
        "#[get(",
        "#[post(",
        "#[put(",
        "#[delete(",
        "app.get(",
        "app.post(",
        "app.put(",
        "app.delete(",
        "router.get(",
        "router.post(",
        "router.put(",
        "router.delete(",
        "r.GET(",
        "r.POST(",
        "e.GET(",
        "e.POST(",
    ];
    const ROUTE_CONTAINS: &[&str] = &[".HandleFunc(", ".route(\"", "http.Handle("];
    const CLI: &[(&str, &str)] = &[
        ("#[derive(Parser", "clap parser"),
        ("argparse.ArgumentParser(", "argparse parser"),
        ("@click.command", "click command"),
        ("@click.group", "click group"),
        ("&cobra.Command{", "cobra command"),
        ("new Command(", "commander program"),
        ("yargs(", "yargs program"),
    ];
    // Code, not a string that mentions it (a detector's own pattern list, a test fixture in a literal).
    let in_code = |pattern: &str| {
        line.match_indices(pattern).any(|(at, _)| !matches!(line[..at].chars().next_back(), Some('"' | '\'' | '`')))
    };
    for (pattern, name) in CLI {
        if in_code(pattern) {
            return Some(("cli", name.to_string()));
        }
    }
    let route_literal = |line: &str| -> String {
        line.split(['"', '\'', '`'])
            .nth(1)
            .filter(|s| s.starts_with('/') || s.is_empty())
            .map_or_else(|| manifests::truncate(line, 80), |s| s.to_string())
    };
    if ROUTE_PREFIXES.iter().any(|p| line.starts_with(p)) || ROUTE_CONTAINS.iter().any(|p| in_code(p)) {
        let literal = route_literal(line);
        if literal.starts_with('/') {
            let method = ["GET", "POST", "PUT", "DELETE", "get", "post", "put", "delete"]
                .iter()
                .find(|m| {
                    line.contains(&format!(".{m}("))
                        || line.contains(&format!("[{m}("))
                        || line.contains(&format!("{}Mapping", capitalize(m)))
                })
                .map(|m| m.to_uppercase());
            let name = match method {
                Some(m) => format!("{m} {literal}"),
                None => literal,
            };
            return Some(("route", name));
        }
    }
    None
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase()).unwrap_or_default()
}

/// The commit id HEAD points at, if `root` is in a git repository with one.
fn git_head(root: &Path) -> Option<String> {
    let repo = git2::Repository::discover(root).ok()?;
    let head = repo.head().ok()?.target()?;
    Some(head.to_string())
}

/// Commits touching each module (subtree) among the last `limit` commits, with the last change.
fn history(root: &Path, modules: &[Module], limit: usize) -> Vec<Option<Activity>> {
    let mut out: Vec<Option<Activity>> = vec![None; modules.len()];
    if limit == 0 {
        return out;
    }
    let Ok(repo) = git2::Repository::discover(root) else { return out };
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else { return out };
    let prefix =
        root.strip_prefix(&workdir).ok().and_then(|p| p.to_str()).map(|p| p.replace('\\', "/")).unwrap_or_default();
    let Ok(mut walk) = repo.revwalk() else { return out };
    if walk.push_head().is_err() {
        return out;
    }
    for oid in walk.flatten().take(limit) {
        let Ok(commit) = repo.find_commit(oid) else { continue };
        let Ok(tree) = commit.tree() else { continue };
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let Ok(diff) = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None) else { continue };
        let mut touched = vec![false; modules.len()];
        for delta in diff.deltas() {
            let Some(path) = delta.new_file().path().or_else(|| delta.old_file().path()).and_then(|p| p.to_str())
            else {
                continue;
            };
            let Some(rel) = (if prefix.is_empty() { Some(path) } else { path.strip_prefix(&format!("{prefix}/")) })
            else {
                continue;
            };
            for (i, module) in modules.iter().enumerate() {
                if module.path.is_empty() || in_dir(&module.path, rel) {
                    touched[i] = true;
                }
            }
        }
        for (i, t) in touched.into_iter().enumerate() {
            if !t {
                continue;
            }
            let entry = out[i].get_or_insert_with(|| Activity {
                commits: 0,
                last_change: commit.time().seconds(),
                last_subject: commit.summary().unwrap_or("").to_string(),
            });
            entry.commits += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::entry_pattern;

    #[test]
    fn entry_points_are_code_not_strings_that_mention_them() {
        assert_eq!(entry_pattern("#[derive(Parser, Debug)]"), Some(("cli", "clap parser".to_string())));
        assert_eq!(entry_pattern("(\"#[derive(Parser\", \"clap parser\"),"), None, "a detector's own pattern list");
        assert_eq!(entry_pattern("http.HandleFunc(\"/orders\", list)"), Some(("route", "/orders".to_string())));
        assert_eq!(entry_pattern("const ROUTES: &[&str] = &[\".HandleFunc(\"];"), None);
    }
}
