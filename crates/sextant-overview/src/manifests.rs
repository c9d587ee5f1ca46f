//! Reading project manifests and docs: which directories are modules, what they say about themselves, and how
//! to set up, build, test and run the project.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// What made a directory a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModuleKind {
    /// The repository itself.
    Repository,
    /// A Cargo package.
    Cargo,
    /// An npm/pnpm/yarn package.
    Npm,
    /// A Go module.
    GoModule,
    /// A Go package (a directory of .go files inside a module).
    GoPackage,
    /// A Python package or project.
    Python,
    /// A Maven module.
    Maven,
    /// A Gradle module.
    Gradle,
    /// Named in `.sextant.toml`.
    Configured,
    /// A significant directory without a manifest.
    Directory,
}

impl ModuleKind {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::Repository => "repository",
            ModuleKind::Cargo => "cargo",
            ModuleKind::Npm => "npm",
            ModuleKind::GoModule => "go-module",
            ModuleKind::GoPackage => "go-package",
            ModuleKind::Python => "python",
            ModuleKind::Maven => "maven",
            ModuleKind::Gradle => "gradle",
            ModuleKind::Configured => "configured",
            ModuleKind::Directory => "directory",
        }
    }
}

/// What a manifest says about its directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct ManifestInfo {
    pub kind: Option<ModuleKind>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Commands the manifests define (`npm run build`, …): (kind, command, file that defines it).
    pub commands: Vec<(CommandKind, String, &'static str)>,
    /// Sub-project directories the build declares (Gradle `include`, Maven `<module>`).
    pub subprojects: Vec<String>,
    /// Names of the packages the manifest declares as dependencies (Cargo, npm, Go); `None` when it does not
    /// say.
    pub declared: Option<Vec<String>>,
}

/// What a command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CommandKind {
    /// Installing dependencies, preparing the environment.
    Setup,
    /// Building.
    Build,
    /// Testing.
    Test,
    /// Running.
    Run,
    /// Linting and formatting.
    Lint,
    /// Anything else a script or target defines.
    Other,
}

impl CommandKind {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Setup => "setup",
            CommandKind::Build => "build",
            CommandKind::Test => "test",
            CommandKind::Run => "run",
            CommandKind::Lint => "lint",
            CommandKind::Other => "other",
        }
    }

    /// Classifies a script or target name.
    pub fn of_name(name: &str) -> CommandKind {
        let n = name.to_ascii_lowercase();
        let has = |words: &[&str]| {
            words.iter().any(|w| {
                n == *w
                    || n.starts_with(&format!("{w}:"))
                    || n.starts_with(&format!("{w}-"))
                    || n.starts_with(&format!("{w}_"))
            })
        };
        if has(&["test", "tests", "check", "spec", "e2e", "coverage", "unit"]) {
            CommandKind::Test
        } else if has(&["build", "compile", "dist", "bundle", "release", "package"]) {
            CommandKind::Build
        } else if has(&["start", "run", "serve", "dev", "watch", "preview"]) {
            CommandKind::Run
        } else if has(&["lint", "fmt", "format", "typecheck", "clippy", "vet", "prettier", "eslint"]) {
            CommandKind::Lint
        } else if has(&["install", "setup", "bootstrap", "init", "deps", "prepare"]) {
            CommandKind::Setup
        } else {
            CommandKind::Other
        }
    }
}

fn read(dir: &Path, name: &str) -> Option<String> {
    let path = dir.join(name);
    let meta = std::fs::metadata(&path).ok()?;
    // Manifests are small; anything huge is not one we should parse.
    if !meta.is_file() || meta.len() > 1_000_000 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// Inspects the manifests in `dir` (repository-relative `rel`).
/// The crates a `Cargo.toml` depends on (normal, dev and build, also per target), by the name code uses (the
/// `package =` rename's key).
fn cargo_dependencies(manifest: &toml::Table) -> Vec<String> {
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    let tables = std::iter::once(manifest).chain(
        manifest
            .get("target")
            .and_then(|t| t.as_table())
            .into_iter()
            .flat_map(|targets| targets.values().filter_map(|t| t.as_table())),
    );
    let mut names: Vec<String> = tables
        .flat_map(|table| kinds.iter().filter_map(|k| table.get(*k).and_then(|d| d.as_table())))
        .flat_map(|deps| {
            deps.iter().map(|(key, spec)| {
                spec.get("package").and_then(|p| p.as_str()).map_or_else(|| key.clone(), str::to_string)
            })
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The module paths a `go.mod` requires.
fn go_requirements(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_block = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("require (") {
            in_block = true;
        } else if in_block && line == ")" {
            in_block = false;
        } else if let Some(single) = line.strip_prefix("require ") {
            names.extend(single.split_whitespace().next().map(str::to_string));
        } else if in_block {
            names.extend(line.split_whitespace().next().filter(|n| !n.starts_with("//")).map(str::to_string));
        }
    }
    names
}

pub(crate) fn inspect(dir: &Path, rel: &str) -> ManifestInfo {
    let mut info = ManifestInfo::default();
    let at = |cmd: &str| if rel.is_empty() { cmd.to_string() } else { format!("(cd {rel} && {cmd})") };
    if let Some(text) = read(dir, "Cargo.toml") {
        if let Ok(value) = text.parse::<toml::Table>() {
            if let Some(package) = value.get("package").and_then(|p| p.as_table()) {
                info.declared = Some(cargo_dependencies(&value));
                info.kind = Some(ModuleKind::Cargo);
                info.name = package.get("name").and_then(|v| v.as_str()).map(str::to_string);
                info.description = package.get("description").and_then(|v| v.as_str()).map(str::to_string);
                if let Some(name) = &info.name {
                    info.commands.push((CommandKind::Build, format!("cargo build -p {name}"), "Cargo.toml"));
                    info.commands.push((CommandKind::Test, format!("cargo test -p {name}"), "Cargo.toml"));
                }
            } else if value.contains_key("workspace") {
                info.commands.push((CommandKind::Build, at("cargo build --workspace"), "Cargo.toml"));
                info.commands.push((CommandKind::Test, at("cargo test --workspace"), "Cargo.toml"));
            }
        }
    }
    if let Some(text) = read(dir, "package.json") {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            info.kind.get_or_insert(ModuleKind::Npm);
            if info.name.is_none() {
                info.name = value["name"].as_str().map(str::to_string);
            }
            if info.description.is_none() {
                info.description = value["description"].as_str().map(str::to_string);
            }
            let runner = if dir.join("pnpm-lock.yaml").exists() {
                "pnpm"
            } else if dir.join("yarn.lock").exists() {
                "yarn"
            } else {
                "npm"
            };
            info.commands.push((CommandKind::Setup, at(&format!("{runner} install")), "package.json"));
            let kinds = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];
            let names = kinds.iter().filter_map(|k| value[*k].as_object()).flat_map(|deps| deps.keys().cloned());
            info.declared.get_or_insert_with(Vec::new).extend(names);
            if let Some(scripts) = value["scripts"].as_object() {
                for name in scripts.keys().take(30) {
                    let command = if runner == "npm" && !matches!(name.as_str(), "test" | "start") {
                        format!("npm run {name}")
                    } else {
                        format!("{runner} {name}")
                    };
                    info.commands.push((CommandKind::of_name(name), at(&command), "package.json"));
                }
            }
        }
    }
    if let Some(text) = read(dir, "go.mod") {
        info.kind.get_or_insert(ModuleKind::GoModule);
        if info.name.is_none() {
            info.name = text.lines().find_map(|l| l.strip_prefix("module ")).map(|m| m.trim().to_string());
        }
        info.commands.push((CommandKind::Build, at("go build ./..."), "go.mod"));
        info.declared.get_or_insert_with(Vec::new).extend(go_requirements(&text));
        info.commands.push((CommandKind::Test, at("go test ./..."), "go.mod"));
    }
    for python_manifest in ["pyproject.toml", "setup.py", "setup.cfg"] {
        let Some(text) = read(dir, python_manifest) else { continue };
        info.kind.get_or_insert(ModuleKind::Python);
        if python_manifest == "pyproject.toml" {
            if let Ok(value) = text.parse::<toml::Table>() {
                let project = value.get("project").or_else(|| value.get("tool").and_then(|t| t.get("poetry")));
                if info.name.is_none() {
                    info.name = project.and_then(|p| p.get("name")).and_then(|v| v.as_str()).map(str::to_string);
                }
                if info.description.is_none() {
                    info.description =
                        project.and_then(|p| p.get("description")).and_then(|v| v.as_str()).map(str::to_string);
                }
                let poetry = value.get("tool").and_then(|t| t.get("poetry")).is_some();
                info.commands.push((
                    CommandKind::Setup,
                    at(if poetry { "poetry install" } else { "pip install -e ." }),
                    "pyproject.toml",
                ));
            }
        } else if !info.commands.iter().any(|(k, _, _)| *k == CommandKind::Setup) {
            info.commands.push((CommandKind::Setup, at("pip install -e ."), python_manifest));
        }
        if !info.commands.iter().any(|(k, _, _)| *k == CommandKind::Test) {
            info.commands.push((CommandKind::Test, at("python -m pytest"), python_manifest));
        }
    }
    if dir.join("tox.ini").exists() {
        info.commands.push((CommandKind::Test, at("tox"), "tox.ini"));
    }
    if let Some(pom) = read(dir, "pom.xml") {
        info.kind.get_or_insert(ModuleKind::Maven);
        for module in pom.split("<module>").skip(1).filter_map(|rest| rest.split("</module>").next()) {
            info.subprojects.push(module.trim().trim_matches('/').to_string());
        }
        info.commands.push((CommandKind::Build, at("mvn -q package -DskipTests"), "pom.xml"));
        info.commands.push((CommandKind::Test, at("mvn test"), "pom.xml"));
    }
    for settings in ["settings.gradle", "settings.gradle.kts"] {
        if let Some(text) = read(dir, settings) {
            info.subprojects.extend(gradle_includes(&text));
        }
    }
    if dir.join("build.gradle").exists() || dir.join("build.gradle.kts").exists() {
        info.kind.get_or_insert(ModuleKind::Gradle);
        let wrapper = if dir.join("gradlew").exists() { "./gradlew" } else { "gradle" };
        info.commands.push((CommandKind::Build, at(&format!("{wrapper} build")), "build.gradle"));
        info.commands.push((CommandKind::Test, at(&format!("{wrapper} test")), "build.gradle"));
    }
    for makefile in ["Makefile", "makefile", "GNUmakefile"] {
        if let Some(text) = read(dir, makefile) {
            for target in make_targets(&text).into_iter().take(30) {
                info.commands.push((CommandKind::of_name(&target), at(&format!("make {target}")), makefile));
            }
            break;
        }
    }
    for justfile in ["justfile", "Justfile", ".justfile"] {
        if let Some(text) = read(dir, justfile) {
            for recipe in just_recipes(&text).into_iter().take(30) {
                info.commands.push((CommandKind::of_name(&recipe), at(&format!("just {recipe}")), justfile));
            }
            break;
        }
    }
    if dir.join("Dockerfile").exists() {
        info.commands.push((CommandKind::Build, at("docker build ."), "Dockerfile"));
    }
    if ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"].iter().any(|f| dir.join(f).exists())
    {
        info.commands.push((CommandKind::Run, at("docker compose up"), "compose file"));
    }
    info
}

/// Project directories named by `include` statements of a Gradle settings file (`:a:b` → `a/b`).
pub(crate) fn gradle_includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `include 'a',` may continue over the following lines while each ends with a comma.
    let mut continued = false;
    for line in text.lines() {
        let t = line.trim();
        let starts = t.starts_with("include") && !t.starts_with("includeBuild");
        if !starts && !continued {
            continue;
        }
        continued = t.ends_with(',');
        for part in t.split(['\'', '"']).skip(1).step_by(2) {
            let dir = part.trim_start_matches(':').replace(':', "/");
            if !dir.is_empty() && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// `target:` lines of a Makefile (no pattern rules, no special targets, no variables).
pub(crate) fn make_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in text.lines() {
        if line.starts_with(['\t', ' ', '#', '.']) {
            continue;
        }
        let Some((head, rest)) = line.split_once(':') else { continue };
        if rest.starts_with('=') || head.contains(['=', '%', '$', '(']) {
            continue;
        }
        for target in head.split_whitespace() {
            if !targets.iter().any(|t| t == target) {
                targets.push(target.to_string());
            }
        }
    }
    targets
}

/// Recipe names of a justfile.
pub(crate) fn just_recipes(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '@', '[']) && l.contains(':') && !l.contains(":="))
        .filter_map(|l| l.split([':', ' ']).next())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_'))
        .map(str::to_string)
        .collect()
}

/// The first paragraph of a README (after the title, skipping badges and HTML).
pub(crate) fn readme_summary(text: &str) -> Option<String> {
    let mut paragraph: Vec<&str> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let noise = t.starts_with('#')
            || t.starts_with('<')
            || t.starts_with("[![")
            || t.starts_with("![")
            || t.starts_with("```")
            || t.starts_with("---")
            || t.starts_with('=');
        if t.is_empty() || noise {
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        paragraph.push(t);
    }
    let summary = paragraph.join(" ");
    (!summary.is_empty()).then(|| truncate(&summary, 600))
}

/// Sections of README/CONTRIBUTING about setting up, building, testing or running: (heading, excerpt).
pub(crate) fn how_to_sections(text: &str, max_chars: usize) -> Vec<(String, String)> {
    const WORDS: &[&str] = &[
        "install",
        "setup",
        "set up",
        "set-up",
        "getting started",
        "build",
        "test",
        "develop",
        "running",
        "usage",
        "quick start",
        "quickstart",
        "contribut",
    ];
    let mut sections = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = if in_fence { None } else { line.strip_prefix('#') };
        if let Some(heading) = heading {
            if let Some((h, body)) = current.take() {
                sections.push((h, truncate(body.join("\n").trim(), max_chars)));
            }
            let heading = heading.trim_start_matches('#').trim().to_string();
            let lower = heading.to_lowercase();
            if WORDS.iter().any(|w| lower.contains(w)) {
                current = Some((heading, Vec::new()));
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    if let Some((h, body)) = current {
        sections.push((h, truncate(body.join("\n").trim(), max_chars)));
    }
    sections.retain(|(_, body)| !body.is_empty());
    sections
}

/// The shell commands in the code blocks of a README's set-up, build, test and run sections (`&&` chains split,
/// prompts and comments dropped), in order: what a newcomer is told to run.
pub(crate) fn how_to_commands(text: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    for (_, excerpt) in how_to_sections(text, usize::MAX) {
        let mut in_fence = false;
        let mut shell = false;
        for line in excerpt.lines() {
            let t = line.trim();
            if let Some(info) = t.strip_prefix("```") {
                in_fence = !in_fence;
                shell = in_fence && matches!(info.trim(), "" | "sh" | "bash" | "shell" | "console" | "zsh");
                continue;
            }
            if !in_fence || !shell || t.starts_with('#') {
                continue;
            }
            let t = t.strip_prefix("$ ").unwrap_or(t);
            // A trailing `# comment` explains the command; it is not part of it.
            let t = t.split("  #").next().unwrap_or(t).trim();
            for part in t.split("&&").map(str::trim).filter(|p| !p.is_empty()) {
                if !commands.iter().any(|c| c == part) {
                    commands.push(part.to_string());
                }
            }
        }
    }
    commands
}

/// `run:` commands of a GitHub Actions workflow (one-line ones, and the first line of blocks).
pub(crate) fn workflow_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start().trim_start_matches("- ");
        let Some(rest) = t.strip_prefix("run:") else { continue };
        let rest = rest.trim();
        if rest == "|" || rest == ">" || rest.is_empty() {
            if let Some(next) = lines.peek() {
                let next = next.trim();
                if !next.is_empty() {
                    commands.push(next.to_string());
                }
            }
        } else {
            commands.push(rest.trim_matches('"').to_string());
        }
    }
    commands
}

pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_targets_and_just_recipes() {
        let make = "VAR = 1\n.PHONY: all\nall: build\nbuild: src/main.c\n\tcc -o app src/main.c\ntest: build\n\t./app --test\n%.o: %.c\n";
        assert_eq!(make_targets(make), ["all", "build", "test"]);
        let just = "set shell := [\"bash\"]\n# comment\ntest *args:\n  cargo test {{args}}\nlint:\n  cargo clippy\n";
        assert_eq!(just_recipes(just), ["test", "lint"]);
        assert_eq!(CommandKind::of_name("test:unit"), CommandKind::Test);
        assert_eq!(CommandKind::of_name("dev"), CommandKind::Run);
        let settings = "rootProject.name = 'x'\ninclude 'clients',\n    'connect:api',\n    \"core\"\ninclude(\":tools\")\nincludeBuild 'other'\n";
        assert_eq!(gradle_includes(settings), ["clients", "connect/api", "core", "tools"]);
    }

    #[test]
    fn readme_summary_skips_title_and_badges() {
        let text = "# Tool\n\n[![ci](x)](y)\n\nTool does a thing\nvery well.\n\nMore text.\n";
        assert_eq!(readme_summary(text).as_deref(), Some("Tool does a thing very well."));
        let sections = how_to_sections("# T\n## Installation\nRun `make install`.\n## License\nMIT\n", 500);
        assert_eq!(sections, vec![("Installation".to_string(), "Run `make install`.".to_string())]);
        let wf = "jobs:\n  t:\n    steps:\n      - run: cargo test --all\n      - run: |\n          npm ci\n          npm test\n";
        assert_eq!(workflow_commands(wf), ["cargo test --all", "npm ci"]);
    }
}
