//! Package manifests (`Cargo.toml`, `package.json`, `go.mod`, `pom.xml`, `build.gradle`, `pyproject.toml`): which
//! package a file belongs to, the names code imports packages by, and which packages each one may use.
//!
//! Parsing is shallow on purpose (no TOML, JSON or XML library): only names and dependency lists are read. A
//! manifest that cannot be read leaves its package's dependencies unknown, which turns filtering off for that package
//! rather than hiding links.

use std::collections::{HashMap, HashSet};

/// File names read as package manifests.
pub(crate) const MANIFEST_FILES: &[&str] =
    &["Cargo.toml", "package.json", "go.mod", "pom.xml", "build.gradle", "build.gradle.kts", "pyproject.toml"];

/// Nesting beyond this in a `package.json` is not read (hostile input).
const MAX_JSON_DEPTH: usize = 64;

/// The package world a language lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ecosystem {
    Cargo,
    Npm,
    Go,
    Jvm,
    Python,
}

impl Ecosystem {
    /// The ecosystem whose manifests govern files of a language (by `Language::name`).
    pub(crate) fn of_language(name: &str) -> Option<Ecosystem> {
        Some(match name {
            "rust" => Ecosystem::Cargo,
            "javascript" | "typescript" | "tsx" => Ecosystem::Npm,
            "go" => Ecosystem::Go,
            "java" | "kotlin" | "scala" | "groovy" => Ecosystem::Jvm,
            "python" => Ecosystem::Python,
            _ => return None,
        })
    }

    /// How names are compared between a manifest's dependency list and another manifest's package name.
    fn normalize(self, name: &str) -> String {
        match self {
            Ecosystem::Cargo => name.replace('-', "_"),
            Ecosystem::Npm | Ecosystem::Go => name.to_string(),
            Ecosystem::Jvm | Ecosystem::Python => {
                name.chars().filter(|c| !matches!(c, '-' | '_' | '.')).flat_map(char::to_lowercase).collect()
            }
        }
    }
}

/// One package, as its manifest describes it.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    /// The manifest's directory, `""` for the repository root.
    pub dir: String,
    pub ecosystem: Ecosystem,
    /// Names other manifests list it under (normalised).
    pub names: Vec<String>,
    /// Names code imports it by, each with the directory it stands for (Cargo: `grep_searcher` → `crates/x/src`;
    /// npm: `@scope/ui` → `packages/ui`; Go: the module path → the module's directory).
    pub import_roots: Vec<(String, String)>,
    /// Normalised names of its declared dependencies; `None` when the manifest does not say.
    pub deps: Option<Vec<String>>,
    /// Cargo: the library target's root file (repository-relative), when it has one.
    pub lib_root: Option<String>,
    /// Cargo: root files of the binaries, tests, examples and benches the manifest lists with a `path`.
    pub target_roots: Vec<String>,
}

impl Package {
    /// A package of a manifest that names one package and no Cargo targets; `import_name`, when code imports it
    /// by name, stands for the manifest's directory.
    fn named(
        dir: &str,
        ecosystem: Ecosystem,
        name: &str,
        import_name: Option<String>,
        deps: Option<Vec<String>>,
    ) -> Package {
        Package {
            dir: dir.to_string(),
            ecosystem,
            names: vec![ecosystem.normalize(name)],
            import_roots: import_name.map(|n| vec![(n, dir.to_string())]).unwrap_or_default(),
            deps,
            lib_root: None,
            target_roots: Vec::new(),
        }
    }
}

/// Reads one manifest; `None` when the file is not a package manifest (a Cargo workspace root without
/// `[package]`, a `pyproject.toml` that only configures tools) or names no package.
pub(crate) fn parse(path: &str, text: &str) -> Option<Package> {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    match file {
        "Cargo.toml" => cargo(dir, text),
        "package.json" => npm(dir, text),
        "go.mod" => go_mod(dir, text),
        "pom.xml" => maven(dir, text),
        "build.gradle" | "build.gradle.kts" => gradle(dir, text),
        "pyproject.toml" => pyproject(dir, text),
        _ => None,
    }
}

fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{rest}"),
    }
}

/// A TOML line without its comment, trimmed (a `#` inside a string is kept).
fn toml_line(raw: &str) -> &str {
    let mut in_string = None;
    for (i, c) in raw.char_indices() {
        match (c, in_string) {
            ('"' | '\'', None) => in_string = Some(c),
            (q, Some(open)) if q == open => in_string = None,
            ('#', None) => return raw[..i].trim(),
            _ => {}
        }
    }
    raw.trim()
}

/// The string value at the start of a TOML value (`"x"` or `'x'`).
fn toml_string(value: &str) -> Option<String> {
    let value = value.trim();
    let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let rest = &value[1..];
    rest.find(quote).map(|end| rest[..end].to_string())
}

/// A field of a TOML inline table (`{ version = "1", package = "real-name" }`).
fn inline_field(value: &str, field: &str) -> Option<String> {
    let body = value.trim().strip_prefix('{')?;
    body.split(',').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim() == field).then(|| toml_string(value)).flatten()
    })
}

fn cargo(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Cargo;
    let mut table = String::new();
    let (mut name, mut lib_name, mut lib_path) = (None, None, None);
    let mut deps = Vec::new();
    let mut target_roots = Vec::new();
    for raw in text.lines() {
        let line = toml_line(raw);
        if line.starts_with('[') {
            table = line.trim_matches(['[', ']']).trim().to_string();
            if let Some(dep) = cargo_dependency_item(&table) {
                deps.push(eco.normalize(dep));
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim().trim_matches('"');
        match table.as_str() {
            "package" if key == "name" => name = toml_string(value),
            "lib" if key == "name" => lib_name = toml_string(value),
            "lib" if key == "path" => lib_path = toml_string(value),
            "bin" | "test" | "example" | "bench" if key == "path" => {
                target_roots.extend(toml_string(value).map(|p| join(dir, p.trim_start_matches("./"))));
            }
            t if is_cargo_dependency_table(t) => {
                // `foo = "1"`, `foo = { … }`, `foo.workspace = true`
                let dep = key.split('.').next().unwrap_or(key).trim().trim_matches('"');
                deps.push(eco.normalize(dep));
                if let Some(real) = inline_field(value, "package") {
                    deps.push(eco.normalize(&real));
                }
            }
            t if cargo_dependency_item(t).is_some() && key == "package" => {
                if let Some(real) = toml_string(value) {
                    deps.push(eco.normalize(&real));
                }
            }
            _ => {}
        }
    }
    let name = name?;
    let lib_root = join(dir, lib_path.as_deref().unwrap_or("src/lib.rs"));
    let lib_dir = lib_root.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
    let import_name = eco.normalize(lib_name.as_deref().unwrap_or(&name));
    let mut names = vec![eco.normalize(&name)];
    if !names.contains(&import_name) {
        names.push(import_name.clone());
    }
    deps.sort();
    deps.dedup();
    Some(Package {
        dir: dir.to_string(),
        ecosystem: eco,
        names,
        import_roots: vec![(import_name, lib_dir)],
        deps: Some(deps),
        lib_root: Some(lib_root),
        target_roots,
    })
}

/// `dependencies`, `dev-dependencies`, `build-dependencies`, and their `target.'cfg(…)'.` forms; not
/// `workspace.dependencies`, which only declares versions.
fn is_cargo_dependency_table(table: &str) -> bool {
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies", "dev_dependencies", "build_dependencies"];
    kinds.contains(&table) || table.starts_with("target.") && kinds.iter().any(|k| table.ends_with(&format!(".{k}")))
}

/// The dependency a `[dependencies.foo]` (or `[target.….dependencies.foo]`) table is about.
fn cargo_dependency_item(table: &str) -> Option<&str> {
    let (head, item) = table.rsplit_once('.')?;
    (is_cargo_dependency_table(head) && !item.is_empty()).then(|| item.trim_matches('"'))
}

fn npm(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Npm;
    let Json::Object(fields) = Json::parse(text)? else { return None };
    let name = fields.iter().find_map(|(k, v)| match v {
        Json::String(s) if k == "name" => Some(s.clone()),
        _ => None,
    });
    let mut deps = Vec::new();
    for (key, value) in &fields {
        if matches!(key.as_str(), "dependencies" | "devDependencies" | "peerDependencies" | "optionalDependencies") {
            if let Json::Object(entries) = value {
                deps.extend(entries.iter().map(|(k, _)| eco.normalize(k)));
            }
        }
    }
    let name = name?;
    Some(Package::named(dir, eco, &name, Some(name.clone()), Some(deps)))
}

fn go_mod(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Go;
    let mut module = None;
    let mut deps = Vec::new();
    let mut in_require = false;
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if in_require {
            if line.starts_with(')') {
                in_require = false;
            } else if let Some(path) = line.split_whitespace().next() {
                deps.push(path.to_string());
            }
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("module") => module = words.next().map(|m| m.trim_matches('"').to_string()),
            Some("require") => match words.next() {
                Some("(") => in_require = true,
                Some(path) => deps.push(path.to_string()),
                None => {}
            },
            _ => {}
        }
    }
    let module = module?;
    Some(Package::named(dir, eco, &module, Some(module.clone()), Some(deps)))
}

/// Removes every `<tag>…</tag>` section (comments too, as `<!--`/`-->`).
fn drop_sections(text: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        match rest[start..].find(close) {
            Some(end) => rest = &rest[start + end + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Text of each `<tag>…</tag>` in `text`.
fn xml_values<'t>(text: &'t str, tag: &str) -> Vec<&'t str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        out.push(body[..end].trim());
        rest = &body[end + close.len()..];
    }
    out
}

fn maven(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Jvm;
    let mut text = drop_sections(text, "<!--", "-->");
    for section in ["parent", "dependencyManagement", "build", "profiles", "reporting", "pluginRepositories"] {
        text = drop_sections(&text, &format!("<{section}>"), &format!("</{section}>"));
    }
    let blocks = xml_values(&text, "dependencies");
    let deps: Vec<String> = blocks.iter().flat_map(|b| xml_values(b, "artifactId")).map(|a| eco.normalize(a)).collect();
    let own = drop_sections(&text, "<dependencies>", "</dependencies>");
    let name = xml_values(&own, "artifactId").into_iter().next()?.to_string();
    Some(Package::named(dir, eco, &name, None, Some(deps)))
}

fn gradle(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Jvm;
    let name = dir.rsplit('/').next().unwrap_or(dir);
    let mut deps = Vec::new();
    // `project(':libs:core')`, `project(path: ":core")`
    let mut rest = text;
    while let Some(i) = rest.find("project(") {
        rest = &rest[i + "project(".len()..];
        let call = rest.split(')').next().unwrap_or("");
        if let Some(start) = call.find([':', '"', '\'']) {
            let path = call[start..].trim_matches(|c| matches!(c, '"' | '\'' | ' '));
            let path = path.split(['"', '\'']).next().unwrap_or(path);
            if let Some(last) = path.rsplit(':').next().filter(|s| !s.is_empty()) {
                deps.push(eco.normalize(last));
            }
        }
    }
    // Type-safe accessors: `projects.fooBar`.
    let mut rest = text;
    while let Some(i) = rest.find("projects.") {
        rest = &rest[i + "projects.".len()..];
        let accessor: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '.').collect();
        if let Some(last) = accessor.rsplit('.').next().filter(|s| !s.is_empty()) {
            deps.push(eco.normalize(last));
        }
    }
    Some(Package::named(dir, eco, name, None, Some(deps)))
}

/// Whether a line of a TOML array has its closing `]` (outside strings: `"requests[socks]"` does not close).
fn closes_array(line: &str) -> bool {
    let mut in_string = None;
    for c in line.chars() {
        match (c, in_string) {
            ('"' | '\'', None) => in_string = Some(c),
            (q, Some(open)) if q == open => in_string = None,
            (']', None) => return true,
            _ => {}
        }
    }
    false
}

/// The distribution name at the start of a PEP 508 requirement (`requests[socks]>=2; python_version<"3"`).
fn requirement_name(requirement: &str) -> Option<&str> {
    let end =
        requirement.find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(requirement.len());
    (end > 0).then(|| &requirement[..end])
}

fn pyproject(dir: &str, text: &str) -> Option<Package> {
    let eco = Ecosystem::Python;
    let mut table = String::new();
    let mut name = None;
    let mut deps = Vec::new();
    let mut in_array = false;
    for raw in text.lines() {
        let line = toml_line(raw);
        if in_array {
            for item in line.split(',') {
                let item = item.trim().trim_end_matches(']').trim();
                if let Some(req) = toml_string(item) {
                    deps.extend(requirement_name(&req).map(|n| eco.normalize(n)));
                }
            }
            in_array = !closes_array(line);
            continue;
        }
        if line.starts_with('[') {
            table = line.trim_matches(['[', ']']).trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (key, value) = (key.trim().trim_matches('"'), value.trim());
        let array_key = matches!(
            (table.as_str(), key),
            ("project", "dependencies") | ("project.optional-dependencies", _) | ("dependency-groups", _)
        );
        match table.as_str() {
            "project" | "tool.poetry" if key == "name" => name = toml_string(value),
            "tool.poetry.dependencies" | "tool.poetry.dev-dependencies" if key != "python" => {
                deps.push(eco.normalize(key));
            }
            t if t.starts_with("tool.poetry.group.") && t.ends_with(".dependencies") => deps.push(eco.normalize(key)),
            _ if array_key && value.starts_with('[') => {
                for item in value.trim_start_matches('[').split(',') {
                    if let Some(req) = toml_string(item.trim().trim_end_matches(']')) {
                        deps.extend(requirement_name(&req).map(|n| eco.normalize(n)));
                    }
                }
                in_array = !closes_array(value);
            }
            _ => {}
        }
    }
    let name = name?;
    Some(Package::named(dir, eco, &name, None, Some(deps)))
}

/// The packages of a repository and who may use whom.
#[derive(Default)]
pub(crate) struct Packages {
    /// A hash of the packages read (every field of each, in order): equal packages, equal resolution. Taken
    /// over what the manifests say about packages rather than their text, so an edit that changes no package (a
    /// version, a plugin, a comment) keeps the import results of the previous link.
    pub fingerprint: u64,
    pub list: Vec<Package>,
    by_dir: HashMap<(String, Ecosystem), usize>,
    /// Per package: the packages it may use (itself, its dependencies, theirs …); `None` when unknown.
    visible: Vec<Option<HashSet<usize>>>,
}

impl Packages {
    /// Reads manifests (`(path, text)`); `aliases` are extra Cargo import names (`name`, source directory).
    pub(crate) fn new(manifests: &[(&str, &str)], aliases: &[(String, String)]) -> Packages {
        let mut packages = Packages::default();
        for (path, text) in manifests {
            let Some(package) = parse(path, text) else { continue };
            match packages.by_dir.get(&(package.dir.clone(), package.ecosystem)) {
                // Two manifests of one ecosystem in one directory (pom.xml and build.gradle): one package.
                Some(&i) => {
                    let merged = &mut packages.list[i];
                    merged.names.extend(package.names);
                    merged.import_roots.extend(package.import_roots);
                    merged.target_roots.extend(package.target_roots);
                    merged.deps = match (merged.deps.take(), package.deps) {
                        (Some(mut a), Some(b)) => {
                            a.extend(b);
                            Some(a)
                        }
                        _ => None,
                    };
                }
                None => {
                    packages.by_dir.insert((package.dir.clone(), package.ecosystem), packages.list.len());
                    packages.list.push(package);
                }
            }
        }
        for (name, dir) in aliases {
            let package_dir = dir.strip_suffix("/src").or_else(|| dir.strip_suffix("src")).unwrap_or(dir);
            let package_dir = package_dir.trim_end_matches('/');
            match packages.by_dir.get(&(package_dir.to_string(), Ecosystem::Cargo)) {
                Some(&i) => packages.list[i].import_roots.push((name.clone(), dir.clone())),
                None => {
                    packages.by_dir.insert((package_dir.to_string(), Ecosystem::Cargo), packages.list.len());
                    packages.list.push(Package {
                        dir: package_dir.to_string(),
                        ecosystem: Ecosystem::Cargo,
                        names: vec![name.clone()],
                        import_roots: vec![(name.clone(), dir.clone())],
                        deps: None,
                        lib_root: Some(join(dir, "lib.rs")),
                        target_roots: Vec::new(),
                    });
                }
            }
        }
        packages.fingerprint = xxhash_rust::xxh3::xxh3_64(format!("{:?}", packages.list).as_bytes());
        packages.link();
        packages
    }

    /// Computes who may use whom: declared dependencies, transitively (a re-export makes a dependency's
    /// dependency reachable). JVM modules also inherit what their parent directories' builds declare.
    fn link(&mut self) {
        let mut by_name: HashMap<(Ecosystem, &str), Vec<usize>> = HashMap::new();
        for (i, p) in self.list.iter().enumerate() {
            for name in &p.names {
                by_name.entry((p.ecosystem, name.as_str())).or_default().push(i);
            }
        }
        let direct: Vec<Option<Vec<usize>>> = self
            .list
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut deps: Vec<&str> = p.deps.as_ref()?.iter().map(String::as_str).collect();
                if p.ecosystem == Ecosystem::Jvm {
                    for ancestor in self.ancestors(i) {
                        deps.extend(self.list[ancestor].deps.iter().flatten().map(String::as_str));
                    }
                }
                Some(
                    deps.iter()
                        .flat_map(|d| by_name.get(&(p.ecosystem, *d)).into_iter().flatten().copied())
                        .filter(|&d| d != i)
                        .collect(),
                )
            })
            .collect();
        self.visible = (0..self.list.len())
            .map(|i| {
                direct[i].as_ref()?;
                let mut seen: HashSet<usize> = HashSet::from([i]);
                let mut stack = vec![i];
                while let Some(p) = stack.pop() {
                    // A dependency whose own list is unknown is taken to have none.
                    for &d in direct[p].iter().flatten() {
                        if seen.insert(d) {
                            stack.push(d);
                        }
                    }
                }
                Some(seen)
            })
            .collect();
    }

    /// Packages of the same ecosystem in directories above package `i`'s.
    fn ancestors(&self, i: usize) -> Vec<usize> {
        let p = &self.list[i];
        let mut out = Vec::new();
        let mut dir = p.dir.as_str();
        while !dir.is_empty() {
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
            if let Some(&a) = self.by_dir.get(&(dir.to_string(), p.ecosystem)) {
                out.push(a);
            }
        }
        out
    }

    /// The package whose directory is the nearest above `path` (a file's repository-relative path).
    pub(crate) fn package_of(&self, path: &str, ecosystem: Ecosystem) -> Option<usize> {
        let mut dir = path;
        loop {
            dir = match dir.rsplit_once('/') {
                Some((d, _)) => d,
                None if dir.is_empty() => return None,
                None => "",
            };
            if let Some(&p) = self.by_dir.get(&(dir.to_string(), ecosystem)) {
                return Some(p);
            }
            if dir.is_empty() {
                return None;
            }
        }
    }

    /// Whether code in package `from` may use package `to`: itself, a declared dependency (transitively), or
    /// `from`'s dependencies are unknown.
    pub(crate) fn may_use(&self, from: usize, to: usize) -> bool {
        from == to || self.visible.get(from).is_none_or(|v| v.as_ref().is_none_or(|v| v.contains(&to)))
    }

    /// A hash of what code in `package` may use: the directories of the packages visible from it (`None`:
    /// unknown, everything). Equal fingerprints mean equal visibility, whatever the packages' numbering.
    pub(crate) fn visibility_fingerprint(&self, package: Option<usize>) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        if let Some(p) = package {
            let visible = self.visible.get(p).and_then(|v| v.as_ref()).map(|set| {
                let mut dirs: Vec<(&str, Ecosystem)> =
                    set.iter().map(|&q| (self.list[q].dir.as_str(), self.list[q].ecosystem)).collect();
                dirs.sort_unstable_by(|a, b| a.0.cmp(b.0).then(format!("{:?}", a.1).cmp(&format!("{:?}", b.1))));
                dirs
            });
            (&self.list[p].dir, self.list[p].ecosystem, visible).hash(&mut hasher);
        }
        hasher.finish()
    }

    /// `(import name, directory)` for every package that code refers to by name.
    pub(crate) fn import_roots(&self) -> impl Iterator<Item = (&str, &str, Ecosystem)> {
        self.list.iter().flat_map(|p| p.import_roots.iter().map(move |(n, d)| (n.as_str(), d.as_str(), p.ecosystem)))
    }
}

/// Just enough JSON for `package.json`: strings and objects are kept, everything else is skipped.
enum Json {
    String(String),
    Object(Vec<(String, Json)>),
    Other,
}

impl Json {
    fn parse(text: &str) -> Option<Json> {
        let mut parser = JsonParser { bytes: text.as_bytes(), pos: 0 };
        parser.value(0)
    }
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.bytes.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        self.skip_ws();
        match *self.bytes.get(self.pos)? {
            b'"' => self.string().map(Json::String),
            b'{' => {
                self.pos += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Some(Json::Object(fields));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    fields.push((key, self.value(depth + 1)?));
                    if self.eat(b',') {
                        continue;
                    }
                    return self.eat(b'}').then_some(Json::Object(fields));
                }
            }
            b'[' => {
                self.pos += 1;
                if self.eat(b']') {
                    return Some(Json::Other);
                }
                loop {
                    self.value(depth + 1)?;
                    if self.eat(b',') {
                        continue;
                    }
                    return self.eat(b']').then_some(Json::Other);
                }
            }
            _ => {
                // Numbers, true, false, null.
                let start = self.pos;
                while self.bytes.get(self.pos).is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b)) {
                    self.pos += 1;
                }
                (self.pos > start).then_some(Json::Other)
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    // Escapes are kept verbatim except the escaped character; names never need more.
                    out.push(*self.bytes.get(self.pos + 1)?);
                    self.pos += 2;
                }
                b => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_manifest() {
        let text = r#"
[package]
name = "sextant-pack" # the pack
version.workspace = true

[lib]
name = "pack"

[dependencies]
sextant-index.workspace = true
serde = { version = "1", features = ["derive"] }
renamed = { package = "real-name", path = "../x" }

[dev-dependencies.tempfile]
version = "3"

[[bin]]
name = "tool"
path = "tools/tool.rs"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[workspace.dependencies]
not-a-dep = "1"
"#;
        let p = parse("crates/sextant-pack/Cargo.toml", text).unwrap();
        assert_eq!(p.names, ["sextant_pack", "pack"]);
        assert_eq!(p.import_roots, [("pack".to_string(), "crates/sextant-pack/src".to_string())]);
        assert_eq!(p.target_roots, ["crates/sextant-pack/tools/tool.rs"]);
        assert_eq!(
            p.deps.unwrap(),
            ["libc", "real_name", "renamed", "serde", "sextant_index", "tempfile"].map(String::from)
        );
        assert!(parse("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n").is_none());
    }

    #[test]
    fn other_manifests() {
        let npm = parse(
            "packages/app/package.json",
            r#"{"name": "@acme/app", "version": "1.0.0", "private": true, "scripts": {"x": "a \"b\""},
                "dependencies": {"@acme/ui": "workspace:*", "react": "^18"}, "files": [1, null, {"a": []}]}"#,
        )
        .unwrap();
        assert_eq!(npm.names, ["@acme/app"]);
        assert_eq!(npm.deps.unwrap(), ["@acme/ui", "react"]);
        assert!(parse("package.json", &"[".repeat(10_000)).is_none());

        let go = parse("svc/go.mod", "module example.com/svc\n\ngo 1.22\n\nrequire (\n\texample.com/lib v1.0.0 // indirect\n)\nrequire golang.org/x/text v0.1.0\n").unwrap();
        assert_eq!(go.import_roots, [("example.com/svc".to_string(), "svc".to_string())]);
        assert_eq!(go.deps.unwrap(), ["example.com/lib", "golang.org/x/text"]);

        let pom = parse(
            "app/pom.xml",
            "<project><parent><artifactId>root</artifactId></parent><artifactId>app</artifactId>\
             <dependencies><dependency><artifactId>core-lib</artifactId></dependency></dependencies>\
             <build><plugins><plugin><artifactId>maven-compiler-plugin</artifactId></plugin></plugins></build></project>",
        )
        .unwrap();
        assert_eq!(pom.names, ["app"]);
        assert_eq!(pom.deps.unwrap(), ["corelib"]);

        let gradle = parse(
            "app/build.gradle.kts",
            "dependencies {\n implementation(project(\":libs:core\"))\n api(projects.sharedUtils)\n}",
        )
        .unwrap();
        assert_eq!(gradle.deps.unwrap(), ["core", "sharedutils"]);

        let py = parse(
            "tools/pyproject.toml",
            "[project]\nname = \"my-tool\"\ndependencies = [\n  \"requests[socks]>=2\",\n  \"my_lib\",\n]\n",
        )
        .unwrap();
        assert_eq!(py.names, ["mytool"]);
        assert_eq!(py.deps.unwrap(), ["requests", "mylib"]);
        assert!(parse("pyproject.toml", "[tool.ruff]\nline-length = 100\n").is_none());
    }

    #[test]
    fn the_fingerprint_follows_the_packages_not_the_manifest_text() {
        let fingerprint = |b: &str| {
            Packages::new(
                &[
                    ("a/Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b\" }\n"),
                    ("b/Cargo.toml", b),
                ],
                &[],
            )
            .fingerprint
        };
        let base = fingerprint("[package]\nname = \"b\"\nversion = \"1.0.0\"\n");
        assert_eq!(
            base,
            fingerprint("# b\n[package]\nname = \"b\"\nversion = \"1.2.0\"\n"),
            "a version bump changes no package"
        );
        assert_ne!(base, fingerprint("[package]\nname = \"b\"\n[dependencies]\nc = \"1\"\n"), "a new dependency does");
        assert_ne!(base, fingerprint("[package]\nname = \"b2\"\n"), "so does a new name");
    }

    #[test]
    fn transitive_visibility() {
        let manifests = [
            ("a/Cargo.toml", "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b\" }\n"),
            ("b/Cargo.toml", "[package]\nname = \"b\"\n[dependencies]\nc.workspace = true\n"),
            ("c/Cargo.toml", "[package]\nname = \"c\"\n"),
            ("d/Cargo.toml", "[package]\nname = \"d\"\n"),
        ];
        let packages = Packages::new(&manifests, &[]);
        let id = |dir: &str| packages.package_of(&format!("{dir}/src/lib.rs"), Ecosystem::Cargo).unwrap();
        assert!(packages.may_use(id("a"), id("b")));
        assert!(packages.may_use(id("a"), id("c")));
        assert!(!packages.may_use(id("a"), id("d")));
        assert!(!packages.may_use(id("c"), id("a")));
        assert_eq!(packages.package_of("x/src/lib.rs", Ecosystem::Cargo), None);
    }
}
