//! Rust scoping: crates (library, binaries, tests, examples, benches, build script), the module tree that `mod x;`
//! declarations build inside each, and `use` paths resolved along that tree.

use std::collections::{HashMap, HashSet, VecDeque};

use sextant_syntax::SymbolKind;

use crate::manifest::{Ecosystem, Packages};
use crate::GraphInput;

/// Directories whose `X.rs` and `X/main.rs` are crate roots of their own.
const TARGET_DIRS: &[&str] = &["src/bin", "tests", "examples", "benches"];

/// One crate: a root file and the module tree under it.
pub(crate) struct Crate {
    /// The package directory (manifest directory, or what the layout implies).
    pub package_dir: String,
    pub is_lib: bool,
}

/// What one `use` path names.
pub(crate) enum UseTarget {
    /// A module as a whole (`use crate::parser;`): its file.
    Module(u32),
    /// Every public name of a module (`use crate::prelude::*`).
    Glob(u32),
    /// An item, defined in or re-exported by a module's file (`use crate::util::helper`).
    Item(u32),
}

/// A `use` path split into segments, with the name it binds.
pub(crate) struct UsePath {
    pub segments: Vec<String>,
    /// The name it binds: the alias, else the last segment (`None` for a glob).
    pub binding: Option<String>,
}

/// The crates of a repository and where every Rust file sits in them.
#[derive(Default)]
pub(crate) struct RustModel {
    pub crates: Vec<Crate>,
    /// Per file: the crates whose module tree holds it (empty: unknown).
    pub file_crates: Vec<Vec<u32>>,
    /// Per file: its module path in its first crate (`["shapes", "circle"]`).
    module_path: Vec<Option<Vec<String>>>,
    /// (crate, module path joined with `::`) → file.
    modules: HashMap<(u32, String), u32>,
    /// Extern crate name → library crate.
    lib_by_name: HashMap<String, u32>,
    /// Per file: for each `mod x;` it declares, the file that module lives in (when indexed).
    pub declared: Vec<Vec<(String, Option<u32>)>>,
    /// Per file: a Rust file of a package its manifest describes that no crate of the package compiles (test
    /// fixtures, templates, files behind `#[path]`).
    uncompiled: Vec<bool>,
    /// Per Rust file: its package directory (from the manifest, or what the layout implies).
    package_dir: Vec<Option<String>>,
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() {
        rest.to_string()
    } else {
        format!("{dir}/{rest}")
    }
}

/// The package directory a Rust file's layout implies: what precedes its last `src` (or `tests`, `examples`,
/// `benches`) directory.
fn layout_package_dir(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    let at = dirs
        .iter()
        .rposition(|s| *s == "src")
        .or_else(|| dirs.iter().rposition(|s| matches!(*s, "tests" | "examples" | "benches")))?;
    Some(dirs[..at].join("/"))
}

/// Whether `rel` (a path inside a package) is a crate root, and whether that root is the library.
fn crate_root_kind(rel: &str, lib_rel: &str) -> Option<bool> {
    if rel == lib_rel {
        return Some(true);
    }
    if rel == "src/main.rs" || rel == "build.rs" {
        return Some(false);
    }
    for dir in TARGET_DIRS {
        let Some(rest) = rel.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) else { continue };
        let parts: Vec<&str> = rest.split('/').collect();
        let root = match parts.as_slice() {
            [file] => file.ends_with(".rs"),
            [_, "main.rs"] => true,
            _ => false,
        };
        if root {
            return Some(false);
        }
    }
    None
}

/// The directory where a file's `mod x;` children live.
fn module_dir(path: &str, is_root: bool) -> String {
    let dir = parent_dir(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    if is_root || name == "mod.rs" {
        dir.to_string()
    } else {
        join(dir, name.trim_end_matches(".rs"))
    }
}

/// The `mod x;` declarations of a file: the module's qualified path within the file (`a::b` for `mod b;` inside
/// `mod a { … }`), split into segments.
fn module_declarations(input: &GraphInput<'_>) -> Vec<Vec<String>> {
    input
        .facts
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Module && s.signature.trim_end().ends_with(';'))
        .map(|s| s.qualified_name.split("::").map(str::to_string).collect())
        .collect()
}

/// Inline modules (`mod tests { … }`) of a file, with their qualified path and line range.
fn inline_modules<'a>(input: &'a GraphInput<'_>) -> impl Iterator<Item = (Vec<String>, u32, u32)> + 'a {
    input
        .facts
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Module && !s.signature.trim_end().ends_with(';'))
        .map(|s| (s.qualified_name.split("::").map(str::to_string).collect(), s.span.start_line, s.span.end_line))
}

impl RustModel {
    pub(crate) fn new(files: &[GraphInput<'_>], packages: &Packages) -> RustModel {
        let mut model = RustModel {
            file_crates: vec![Vec::new(); files.len()],
            uncompiled: vec![false; files.len()],
            module_path: vec![None; files.len()],
            declared: vec![Vec::new(); files.len()],
            ..RustModel::default()
        };
        let is_rust = |f: usize| files[f].facts.language.name() == "rust";
        let by_path: HashMap<&str, u32> = files.iter().enumerate().map(|(i, f)| (f.path, i as u32)).collect();

        // Crate roots.
        let mut roots: Vec<(u32, u32)> = Vec::new(); // (crate, root file)
        let mut package_dirs: Vec<Option<String>> = vec![None; files.len()];
        let mut from_manifest = vec![false; files.len()];
        for (f, file) in files.iter().enumerate() {
            if !is_rust(f) {
                continue;
            }
            let mut listed = false;
            let (dir, lib_rel) = match packages.package_of(file.path, Ecosystem::Cargo) {
                Some(p) => {
                    from_manifest[f] = true;
                    listed = packages.list[p].target_roots.iter().any(|r| r == file.path);
                    let p = &packages.list[p];
                    let lib = p.lib_root.as_deref().unwrap_or("");
                    let lib_rel =
                        if p.dir.is_empty() { lib } else { lib.strip_prefix(&format!("{}/", p.dir)).unwrap_or("") };
                    (p.dir.clone(), lib_rel.to_string())
                }
                None => match layout_package_dir(file.path) {
                    Some(dir) => (dir, "src/lib.rs".to_string()),
                    None => continue,
                },
            };
            let rel = if dir.is_empty() { file.path } else { file.path.strip_prefix(&format!("{dir}/")).unwrap_or("") };
            if let Some(is_lib) = crate_root_kind(rel, &lib_rel).or(listed.then_some(false)) {
                roots.push((model.crates.len() as u32, f as u32));
                model.crates.push(Crate { package_dir: dir.clone(), is_lib });
            }
            package_dirs[f] = Some(dir);
        }

        // Module trees, breadth first from each root.
        let root_files: HashSet<u32> = roots.iter().map(|(_, f)| *f).collect();
        for &(c, root) in &roots {
            let mut queue = VecDeque::from([(root, Vec::<String>::new())]);
            let mut seen = HashSet::from([root]);
            while let Some((f, path)) = queue.pop_front() {
                let input = &files[f as usize];
                model.file_crates[f as usize].push(c);
                if model.module_path[f as usize].is_none() {
                    model.module_path[f as usize] = Some(path.clone());
                }
                model.modules.insert((c, path.join("::")), f);
                for (inline, _, _) in inline_modules(input) {
                    let full: Vec<String> = path.iter().chain(&inline).cloned().collect();
                    model.modules.entry((c, full.join("::"))).or_insert(f);
                }
                let dir = module_dir(input.path, root_files.contains(&f));
                for declared in module_declarations(input) {
                    let base = join(&dir, &declared.join("/"));
                    let child = [format!("{base}.rs"), format!("{base}/mod.rs")]
                        .iter()
                        .find_map(|p| by_path.get(p.as_str()).copied());
                    let Some(child) = child else { continue };
                    if seen.insert(child) {
                        queue.push_back((child, path.iter().chain(&declared).cloned().collect()));
                    }
                }
            }
        }

        // Files no module tree reached (behind `#[path]`, macros, or dead): the binary whose directory holds them
        // (`src/bin/x/…`), else their package's library when they sit under `src/`.
        for f in 0..files.len() {
            let Some(dir) = &package_dirs[f] else { continue };
            if !model.file_crates[f].is_empty() {
                continue;
            }
            let rel = if dir.is_empty() {
                files[f].path
            } else {
                files[f].path.strip_prefix(&format!("{dir}/")).unwrap_or("")
            };
            let owner = if let Some(rest) = rel.strip_prefix("src/bin/").filter(|r| r.contains('/')) {
                let bin_dir = join(dir, &format!("src/bin/{}", rest.split('/').next().unwrap_or("")));
                roots.iter().find(|(c, root)| {
                    !model.crates[*c as usize].is_lib && parent_dir(files[*root as usize].path) == bin_dir
                })
            } else if rel.starts_with("src/") {
                roots
                    .iter()
                    .find(|(c, _)| model.crates[*c as usize].is_lib && model.crates[*c as usize].package_dir == *dir)
            } else {
                None
            };
            if let Some(&(c, _)) = owner {
                model.file_crates[f].push(c);
            }
        }

        for ((uncompiled, listed), crates) in model.uncompiled.iter_mut().zip(&from_manifest).zip(&model.file_crates) {
            *uncompiled = *listed && crates.is_empty();
        }

        // `mod x;` declarations of every Rust file, reached or not.
        for f in 0..files.len() {
            if !is_rust(f) {
                continue;
            }
            let name = files[f].path.rsplit('/').next().unwrap_or("");
            let is_root =
                root_files.contains(&(f as u32)) || package_dirs[f].is_none() && matches!(name, "main.rs" | "lib.rs");
            let dir = module_dir(files[f].path, is_root);
            model.declared[f] = module_declarations(&files[f])
                .into_iter()
                .map(|declared| {
                    let base = join(&dir, &declared.join("/"));
                    let child = [format!("{base}.rs"), format!("{base}/mod.rs")]
                        .iter()
                        .find_map(|p| by_path.get(p.as_str()).copied());
                    (declared.join("::"), child)
                })
                .collect();
        }

        model.package_dir = package_dirs;
        for (name, source_dir, ecosystem) in packages.import_roots() {
            if ecosystem != Ecosystem::Cargo {
                continue;
            }
            let lib = roots.iter().find(|(c, root)| {
                model.crates[*c as usize].is_lib && parent_dir(files[*root as usize].path) == source_dir
            });
            if let Some(&(c, _)) = lib {
                model.lib_by_name.entry(name.to_string()).or_insert(c);
            }
        }
        model
    }

    /// Whether code in crate `from` can name items of crate `to` (packages aside): its own crate, or a library
    /// (its package's, or a dependency's; `Packages` decides the latter).
    /// A hash of the crates and module trees by path (file numbers shift between links): equal fingerprints
    /// mean every Rust file sits in the same crates and modules.
    pub(crate) fn fingerprint(&self, files: &[GraphInput<'_>]) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        let path = |f: u32| files.get(f as usize).map_or("", |file| file.path);
        for c in &self.crates {
            (&c.package_dir, c.is_lib).hash(&mut hasher);
        }
        for (f, file) in files.iter().enumerate() {
            if file.facts.language.name() != "rust" {
                continue;
            }
            file.path.hash(&mut hasher);
            self.file_crates[f].hash(&mut hasher);
            self.module_path[f].hash(&mut hasher);
            self.uncompiled[f].hash(&mut hasher);
            self.package_dir[f].hash(&mut hasher);
            for (name, child) in &self.declared[f] {
                (name, child.map(path)).hash(&mut hasher);
            }
        }
        let mut modules: Vec<(&(u32, String), &str)> = self.modules.iter().map(|(k, &f)| (k, path(f))).collect();
        modules.sort_unstable();
        modules.hash(&mut hasher);
        let mut libs: Vec<(&String, &u32)> = self.lib_by_name.iter().collect();
        libs.sort_unstable();
        libs.hash(&mut hasher);
        hasher.finish()
    }

    pub(crate) fn crate_may_use(&self, from: u32, to: u32) -> bool {
        let (a, b) = (&self.crates[from as usize], &self.crates[to as usize]);
        from == to || b.is_lib && (!a.is_lib || a.package_dir != b.package_dir)
    }

    /// Whether code in file `from` can see definitions in file `to`, as far as crates tell.
    pub(crate) fn file_may_use(&self, from: u32, to: u32) -> bool {
        let (a, b) = (&self.file_crates[from as usize], &self.file_crates[to as usize]);
        a.is_empty() || b.is_empty() || a.iter().any(|&x| b.iter().any(|&y| self.crate_may_use(x, y)))
    }

    /// The root file of the library crate that code calls `name` (`core_lib` in `core_lib::helper()`).
    pub(crate) fn extern_crate_root(&self, name: &str) -> Option<u32> {
        let c = *self.lib_by_name.get(name)?;
        self.modules.get(&(c, String::new())).copied()
    }

    /// Whether `file` is inside the module that `module_file` is (that module or one below it, in one crate):
    /// where the private items of `module_file` are visible. `true` when either is not placed.
    pub(crate) fn is_within(&self, file: u32, module_file: u32) -> bool {
        let Some(outer) = &self.module_path[module_file as usize] else { return true };
        let (a, b) = (&self.file_crates[file as usize], &self.file_crates[module_file as usize]);
        if !a.iter().any(|c| b.contains(c)) {
            // Another crate never sees a private item; a file not placed in a crate might be a module of this one.
            return a.is_empty() && self.package_dir[file as usize] == self.package_dir[module_file as usize];
        }
        self.module_path[file as usize].as_ref().is_none_or(|inner| inner.starts_with(outer))
    }

    /// Whether no crate of the file's package compiles it (see `uncompiled`).
    pub(crate) fn is_uncompiled(&self, file: u32) -> bool {
        self.uncompiled[file as usize]
    }

    /// Whether the file belongs to a known crate (its `use` paths can then be resolved exactly).
    pub(crate) fn knows(&self, file: u32) -> bool {
        !self.file_crates[file as usize].is_empty() && self.module_path[file as usize].is_some()
    }

    /// Resolves a `use` path written at `line` of `file`. `None`: it names another crate that is not in the
    /// repository (`std`, `serde`), or a module that is not indexed.
    pub(crate) fn resolve_use(
        &self,
        files: &[GraphInput<'_>],
        file: u32,
        line: u32,
        segments: &[String],
    ) -> Option<UseTarget> {
        let krate = *self.file_crates[file as usize].first()?;
        let mut module = self.module_path[file as usize].clone()?;
        // A `use` inside `mod tests { … }` is relative to that inline module.
        if let Some((inline, _, _)) = inline_modules(&files[file as usize])
            .filter(|(_, start, end)| (*start..=*end).contains(&line))
            .max_by_key(|(path, _, _)| path.len())
        {
            module.extend(inline);
        }
        let (mut c, mut rest) = (krate, segments);
        match segments.first()?.as_str() {
            "crate" | "$crate" => {
                module.clear();
                rest = &segments[1..];
            }
            "self" => rest = &segments[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop()?;
                    rest = &rest[1..];
                }
            }
            first => {
                let mut child = module.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&(krate, child.join("::"))) {
                    module.clear();
                    match self.lib_by_name.get(first) {
                        // Another crate, by its extern name.
                        Some(&lib) => {
                            c = lib;
                            rest = &segments[1..];
                        }
                        // A 2015-edition path, relative to the crate root.
                        None if self.modules.contains_key(&(krate, first.to_string())) => {}
                        None => return None,
                    }
                }
            }
        }
        let mut i = 0;
        while i < rest.len() && rest[i] != "*" {
            let mut next = module.clone();
            next.push(rest[i].clone());
            if !self.modules.contains_key(&(c, next.join("::"))) {
                break;
            }
            module = next;
            i += 1;
        }
        let target = *self.modules.get(&(c, module.join("::")))?;
        Some(match &rest[i..] {
            [] => UseTarget::Module(target),
            [star] if star == "*" => UseTarget::Glob(target),
            _ => UseTarget::Item(target),
        })
    }
}

/// Splits a `use` tree (`crate::a::{B, c::D as E, self}`, `x as y`, `::std::io`) into paths.
pub(crate) fn expand_use(tree: &str) -> Vec<UsePath> {
    let mut out = Vec::new();
    expand_into(tree.trim().trim_start_matches("::"), &[], &mut out, 0);
    out
}

fn expand_into(tree: &str, prefix: &[String], out: &mut Vec<UsePath>, depth: usize) {
    if depth > 16 {
        return;
    }
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let body = tree[open + 1..].trim_end().strip_suffix('}').unwrap_or(&tree[open + 1..]);
        let mut base = prefix.to_vec();
        base.extend(head.split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        for part in split_top_level(body) {
            if part.trim() == "self" {
                if let Some(last) = base.last() {
                    out.push(UsePath { segments: base.clone(), binding: Some(last.clone()) });
                }
            } else if !part.trim().is_empty() {
                expand_into(part, &base, out, depth + 1);
            }
        }
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut segments = prefix.to_vec();
    segments.extend(path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
    let Some(last) = segments.last() else { return };
    let binding = match alias {
        Some(a) if a == "_" => None,
        Some(a) => Some(a),
        None if last == "*" => None,
        None => Some(last.clone()),
    };
    out.push(UsePath { segments, binding });
}

/// Splits on commas outside braces.
fn split_top_level(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(tree: &str) -> Vec<(String, Option<String>)> {
        expand_use(tree).into_iter().map(|p| (p.segments.join("::"), p.binding)).collect()
    }

    #[test]
    fn use_trees() {
        assert_eq!(
            paths("crate::a::{B, c::{D as E, self}, *}"),
            [
                ("crate::a::B".to_string(), Some("B".to_string())),
                ("crate::a::c::D".to_string(), Some("E".to_string())),
                ("crate::a::c".to_string(), Some("c".to_string())),
                ("crate::a::*".to_string(), None),
            ]
        );
        assert_eq!(paths("::std::io as stdio"), [("std::io".to_string(), Some("stdio".to_string()))]);
        assert_eq!(paths("super::x::*"), [("super::x::*".to_string(), None)]);
    }

    #[test]
    fn crate_roots() {
        assert_eq!(crate_root_kind("src/lib.rs", "src/lib.rs"), Some(true));
        assert_eq!(crate_root_kind("src/main.rs", "src/lib.rs"), Some(false));
        assert_eq!(crate_root_kind("src/bin/tool.rs", "src/lib.rs"), Some(false));
        assert_eq!(crate_root_kind("src/bin/tool/main.rs", "src/lib.rs"), Some(false));
        assert_eq!(crate_root_kind("tests/graph.rs", "src/lib.rs"), Some(false));
        assert_eq!(crate_root_kind("src/util.rs", "src/lib.rs"), None);
        assert_eq!(crate_root_kind("tests/common/mod.rs", "src/lib.rs"), None);
        assert_eq!(layout_package_dir("crates/x/src/a/b.rs").as_deref(), Some("crates/x"));
        assert_eq!(layout_package_dir("src/main.rs").as_deref(), Some(""));
        assert_eq!(layout_package_dir("crates/x/tests/t.rs").as_deref(), Some("crates/x"));
        assert_eq!(layout_package_dir("build.rs"), None);
        assert_eq!(module_dir("src/a.rs", false), "src/a");
        assert_eq!(module_dir("src/a/mod.rs", false), "src/a");
        assert_eq!(module_dir("src/main.rs", true), "src");
    }
}
