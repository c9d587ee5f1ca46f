//! Overviews of fixture repositories: a Cargo workspace, an npm workspace, a Python package, a Go module and a
//! mixed monorepo with rule files.

use std::path::Path;

use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, NoProgress};
use sextant_overview::{
    build_overview, build_overview_with, markdown_page, CommandKind, LinkStyle, ModuleKind, Overview, RuleKind,
};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Indexes (or updates the index of) `root` in `index_dir` and opens it.
fn index_into(root: &Path, index_dir: &Path, config: &Config) -> Index {
    index_repository(&IndexOptions { root, index_dir, config, force: false }, &NoProgress).unwrap();
    Index::open(index_dir).unwrap()
}

fn overview_of(root: &Path) -> Overview {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_repository(root).unwrap();
    build_overview(&index_into(root, dir.path(), &config), &config)
}

fn module<'a>(o: &'a Overview, path: &str) -> &'a sextant_overview::ModuleOverview {
    let i = o
        .module_index(path)
        .unwrap_or_else(|| panic!("no module {path}: {:?}", o.modules.iter().map(|m| &m.path).collect::<Vec<_>>()));
    &o.modules[i]
}

fn depends(o: &Overview, from: &str, to: &str) -> bool {
    let to = o.module_index(to).unwrap();
    module(o, from).depends_on.iter().any(|d| d.module == to)
}

fn commands(o: &Overview, kind: CommandKind) -> Vec<String> {
    o.repository.commands.iter().filter(|c| c.kind == kind).map(|c| c.command.clone()).collect()
}

#[test]
fn cargo_workspace() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    write(
        r,
        "crates/core/Cargo.toml",
        "[package]\nname = \"acme-core\"\ndescription = \"Pricing rules and ledgers.\"\n",
    );
    write(r, "crates/core/src/lib.rs", "//! Core pricing.\n\n/// Computes a price.\npub fn compute_price(base: u32) -> u32 {\n    apply_discount(base)\n}\n\nfn apply_discount(x: u32) -> u32 { x - 1 }\n\npub struct Ledger {\n    name: String,\n}\n\nimpl Ledger {\n    pub fn name(&self) -> &str {\n        &self.name\n    }\n}\n\npub fn ledger_name(l: &Ledger) -> &str {\n    l.name()\n}\n");
    write(r, "crates/core/tests/pricing.rs", "#[test]\nfn prices() { assert_eq!(acme_core::compute_price(2), 1); }\n");
    write(
        r,
        "crates/cli/Cargo.toml",
        "[package]\nname = \"acme-cli\"\n\n[dependencies]\nacme-core = { path = \"../core\" }\n",
    );
    // A crate that mentions core's names but does not depend on it: no dependency, whatever the names say.
    write(r, "crates/tool/Cargo.toml", "[package]\nname = \"acme-tool\"\n");
    write(
        r,
        "crates/tool/src/lib.rs",
        "pub fn run() -> u32 {\n    compute_price(1)\n}\n\nfn compute_price(x: u32) -> u32 { x }\n",
    );
    write(r, "crates/cli/src/main.rs", "//! The acme command line.\nuse acme_core::{compute_price, Ledger};\n\n#[derive(Parser)]\nstruct Args {}\n\nfn main() {\n    let price = compute_price(3);\n    println!(\"{}\", price);\n}\n\nfn show(a: &Ledger, b: &Ledger, c: &Ledger) -> String {\n    format!(\"{} {} {}\", a.name(), b.name(), c.name())\n}\n\nfn title(l: &Ledger) -> &str {\n    l.name()\n}\n");
    let o = overview_of(r);
    let core = module(&o, "crates/core");
    assert_eq!((core.kind, core.name.as_str()), (ModuleKind::Cargo, "acme-core"));
    assert_eq!(core.purpose.as_deref(), Some("Pricing rules and ledgers."));
    // What another crate uses comes first; an accessor comes after everything else, however often it is called.
    let position = |name: &str| core.key_symbols.iter().position(|k| k.name == name).unwrap_or(usize::MAX);
    assert!(position("compute_price") < 2 && position("Ledger") < 2, "{:?}", core.key_symbols);
    assert!(position("Ledger::name") > position("ledger_name"), "{:?}", core.key_symbols);
    assert_eq!(core.key_symbols[position("compute_price")].signature, "pub fn compute_price(base: u32) -> u32");
    assert_eq!(core.tests.files, 1);
    assert_eq!(core.tests.command.as_deref(), Some("cargo test -p acme-core"));
    let cli = module(&o, "crates/cli");
    assert_eq!(cli.purpose.as_deref(), Some("The acme command line."), "from the //! doc of main.rs");
    assert!(cli.entry_points.iter().any(|e| e.kind == "main" && e.path == "crates/cli/src/main.rs"));
    assert!(cli.entry_points.iter().any(|e| e.kind == "cli" && e.name == "clap parser"));
    assert!(depends(&o, "crates/cli", "crates/core"), "{:?}", cli.depends_on);
    assert!(cli.depends_on.iter().all(|d| d.declared), "{:?}", cli.depends_on);
    assert!(module(&o, "crates/tool").depends_on.is_empty(), "{:?}", module(&o, "crates/tool").depends_on);
    assert!(module(&o, "crates/core").used_by.iter().any(|d| o.modules[d.module].path == "crates/cli"));
    // How data flows across the boundary: `main` of the cli calls `compute_price` of core (tests do not count).
    let inbound: Vec<(&str, &str, &str)> = core
        .calls_in
        .iter()
        .map(|f| (f.symbol.as_str(), f.caller.as_str(), o.modules[f.caller_module].path.as_str()))
        .collect();
    assert!(inbound.contains(&("compute_price", "main", "crates/cli")), "{inbound:?}");
    assert!(core.calls_in.iter().all(|f| !f.caller_path.contains("/tests/")), "{:?}", core.calls_in);
    let outbound = &cli.calls_out;
    assert!(
        outbound.iter().any(|f| f.symbol == "compute_price" && o.modules[f.module].path == "crates/core"),
        "{outbound:?}"
    );
    // The page lists the public API by type: `Ledger` with its method under it, functions after.
    let core_index = o.modules.iter().position(|m| m.path == "crates/core").unwrap();
    let html = sextant_overview::html::page(&o, core_index, &|_| "#".to_string());
    let api = &html[html.find("Public API").expect("a public API section")..];
    let ledger = api.find("pub struct Ledger").expect("the type");
    let method = api.find("pub fn name(&amp;self)").expect("its method");
    let function = api.find("pub fn compute_price").expect("a function");
    assert!(ledger < method && api[ledger..method].contains("<ul>"), "the method nests under its type: {api}");
    assert!(function < ledger || function > method, "{api}");
    assert!(html.contains("Called from other modules"), "{html}");
    assert_eq!(commands(&o, CommandKind::Test), ["cargo test --workspace"]);
    let page = markdown_page(&o, None, 8000, LinkStyle::Plain);
    assert!(page.contains("`crates/core` | cargo | Pricing rules and ledgers."), "{page}");
}

#[test]
fn npm_workspace_with_scripts_and_routes() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(
        r,
        "package.json",
        r#"{"name":"shop","private":true,"workspaces":["packages/*"],"scripts":{"build":"tsc -b","test":"vitest run","lint":"eslint ."}}"#,
    );
    write(r, "packages/ui/package.json", r#"{"name":"@shop/ui","description":"Shared React components."}"#);
    write(
        r,
        "packages/ui/src/button.ts",
        "export function renderButton(label: string): string {\n  return `<button>${label}</button>`;\n}\n",
    );
    write(
        r,
        "packages/api/package.json",
        r#"{"name":"@shop/api","scripts":{"start":"node dist/server.js"},"dependencies":{"@shop/ui":"workspace:*"}}"#,
    );
    write(r, "packages/api/src/server.ts", "import { renderButton } from '../../ui/src/button';\n\napp.get('/users', (req, res) => res.send(renderButton('x')));\n\nexport function listUsers() {\n  return renderButton('users');\n}\n");
    let o = overview_of(r);
    assert_eq!(commands(&o, CommandKind::Test), ["npm test"]);
    assert_eq!(commands(&o, CommandKind::Build), ["npm run build"]);
    assert_eq!(commands(&o, CommandKind::Lint), ["npm run lint"]);
    assert_eq!(commands(&o, CommandKind::Setup), ["npm install"]);
    let ui = module(&o, "packages/ui");
    assert_eq!((ui.kind, ui.name.as_str()), (ModuleKind::Npm, "@shop/ui"));
    assert_eq!(ui.purpose.as_deref(), Some("Shared React components."));
    let api = module(&o, "packages/api");
    assert!(api.commands.iter().any(|c| c.command == "(cd packages/api && npm start)"), "{:?}", api.commands);
    assert!(api.entry_points.iter().any(|e| e.kind == "route" && e.name == "GET /users"), "{:?}", api.entry_points);
    assert!(depends(&o, "packages/api", "packages/ui"));
}

#[test]
fn python_package() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "pyproject.toml", "[project]\nname = \"weather\"\ndescription = \"Forecast service.\"\n");
    write(r, "tox.ini", "[tox]\nenvlist = py311\n");
    write(r, "weather/__init__.py", "\"\"\"Forecast models and the HTTP API.\"\"\"\n");
    write(
        r,
        "weather/model.py",
        "class Forecast:\n    \"\"\"A forecast.\"\"\"\n\n    def temperature(self):\n        return 21\n",
    );
    write(r, "weather/api.py", "from weather.model import Forecast\n\n\n@app.route(\"/forecast\")\ndef forecast():\n    return Forecast().temperature()\n");
    write(
        r,
        "tests/test_model.py",
        "from weather.model import Forecast\n\n\ndef test_temperature():\n    assert Forecast().temperature() == 21\n",
    );
    let o = overview_of(r);
    assert_eq!(o.repository.purpose.as_deref(), Some("Forecast service."));
    assert!(commands(&o, CommandKind::Setup).contains(&"pip install -e .".to_string()));
    assert!(commands(&o, CommandKind::Test).contains(&"tox".to_string()));
    let pkg = module(&o, "weather");
    assert_eq!(pkg.kind, ModuleKind::Python);
    assert_eq!(pkg.purpose.as_deref(), Some("Forecast models and the HTTP API."));
    assert_eq!(pkg.purpose_source.as_deref(), Some("weather/__init__.py"));
    assert!(
        pkg.entry_points.iter().any(|e| e.kind == "route" && e.name == "/forecast" && e.line == 4),
        "{:?}",
        pkg.entry_points
    );
    assert_eq!(pkg.key_symbols[0].name, "Forecast");
    assert_eq!(o.modules[0].tests.files, 1);
}

#[test]
fn go_module_with_packages_and_history() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "go.mod", "module example.com/svc\n\ngo 1.22\n");
    write(r, "internal/store/store.go", "// Package store keeps orders in memory.\npackage store\n\n// Save stores an order.\nfunc Save(id string) error {\n\treturn nil\n}\n");
    write(r, "internal/store/store_test.go", "package store\n\nimport \"testing\"\n\nfunc TestSave(t *testing.T) {\n\tif Save(\"a\") != nil {\n\t\tt.Fatal(\"x\")\n\t}\n}\n");
    write(r, "cmd/server/main.go", "package main\n\nimport \"example.com/svc/internal/store\"\n\nfunc main() {\n\thttp.HandleFunc(\"/orders\", handle)\n\tstore.Save(\"x\")\n}\n");
    let git = git2::Repository::init(r).unwrap();
    let mut index = git.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    git.commit(Some("HEAD"), &sig, &sig, "Add the order store", &tree, &[]).unwrap();
    let o = overview_of(r);
    let store = module(&o, "internal/store");
    assert_eq!(store.kind, ModuleKind::GoPackage);
    assert_eq!(store.purpose.as_deref(), Some("Package store keeps orders in memory."));
    assert_eq!(store.tests.command.as_deref(), Some("go test ./internal/store/..."));
    let activity = store.activity.as_ref().unwrap();
    assert_eq!((activity.commits, activity.last_subject.as_str()), (1, "Add the order store"));
    let server = module(&o, "cmd/server");
    assert!(server.entry_points.iter().any(|e| e.kind == "main"));
    assert!(server.entry_points.iter().any(|e| e.kind == "route" && e.name == "/orders"));
    assert!(depends(&o, "cmd/server", "internal/store"), "{:?}", server.depends_on);
    assert_eq!(commands(&o, CommandKind::Test), ["go test ./..."]);
    assert!(o.repository.head.is_some());
}

/// Module activity is read from git once per HEAD: an edit does not diff the history again, a commit does.
#[test]
fn module_history_is_read_again_only_when_head_moves() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "go.mod", "module example.com/svc\n\ngo 1.22\n");
    write(r, "store/store.go", "package store\n\nfunc Save(id string) error {\n\treturn nil\n}\n");
    let git = git2::Repository::init(r).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let commit = |message: &str| {
        let mut staged = git.index().unwrap();
        staged.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        staged.write().unwrap();
        let tree = git.find_tree(staged.write_tree().unwrap()).unwrap();
        let parents: Vec<git2::Commit> = git.head().ok().and_then(|h| h.peel_to_commit().ok()).into_iter().collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        git.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).unwrap();
    };
    commit("Add the store");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_repository(r).unwrap();
    let overview = |scans: &mut sextant_overview::SourceScans| {
        build_overview_with(&index_into(r, dir.path(), &config), &config, scans)
    };
    let commits = |o: &Overview| module(o, "store").activity.as_ref().map(|a| a.commits);
    let mut scans = sextant_overview::SourceScans::default();
    assert_eq!(commits(&overview(&mut scans)), Some(1));

    // Mark the cached reading, then edit without committing: the mark proves the history was not read again.
    let mut cached = serde_json::to_value(&scans).unwrap();
    let store = cached["history"]["modules"].as_array().unwrap().iter().position(|m| m == "store").unwrap();
    cached["history"]["activity"][store]["commits"] = 7.into();
    let mut scans: sextant_overview::SourceScans = serde_json::from_value(cached).unwrap();
    write(r, "store/store.go", "package store\n\nfunc Save(id string) error {\n\treturn nil\n}\n\nfunc Load() {}\n");
    assert_eq!(commits(&overview(&mut scans)), Some(7));

    commit("Add Load");
    assert_eq!(commits(&overview(&mut scans)), Some(2), "a new HEAD reads the history again");
}

#[test]
fn the_tree_is_walked_for_manifests_again_only_when_a_changed_path_can_have_moved_one() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    write(r, "crates/core/Cargo.toml", "[package]\nname = \"core\"\nversion = \"0.1.0\"\n");
    write(r, "crates/core/src/lib.rs", "pub fn core() {}\n");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_repository(r).unwrap();
    let build = |scans: &mut sextant_overview::SourceScans| {
        build_overview_with(&index_into(r, dir.path(), &config), &config, scans)
    };
    let has_module = |o: &Overview, path: &str| o.module_index(path).is_some();
    let mut scans = sextant_overview::SourceScans::default();
    assert!(has_module(&build(&mut scans), "crates/core"));

    // A new crate whose manifest no noted change names: the listing is reused, so the crate is not seen yet --
    // which is how this test tells that the walk was skipped (a watcher's notes always name such a file).
    write(r, "crates/cli/Cargo.toml", "[package]\nname = \"cli\"\nversion = \"0.1.0\"\n");
    write(r, "crates/cli/src/main.rs", "fn main() {}\n");
    write(r, "crates/core/src/lib.rs", "pub fn core() {}\npub fn more() {}\n");
    scans.note_changes(r, &[r.join("crates/core/src/lib.rs")]);
    assert!(!has_module(&build(&mut scans), "crates/cli"), "a source edit alone reuses the listing");

    // Naming the manifest, or the directory that appeared, walks again.
    scans.note_changes(r, &[r.join("crates/cli/Cargo.toml")]);
    assert!(has_module(&build(&mut scans), "crates/cli"));
    write(r, "crates/extra/Cargo.toml", "[package]\nname = \"extra\"\nversion = \"0.1.0\"\n");
    write(r, "crates/extra/src/lib.rs", "pub fn extra() {}\n");
    scans.note_changes(r, &[r.join("crates/extra")]);
    assert!(has_module(&build(&mut scans), "crates/extra"), "a new directory walks again");
    // A directory that held a manifest and is gone now (renamed away): walked again, the module leaves.
    std::fs::remove_dir_all(r.join("crates/extra")).unwrap();
    scans.note_changes(r, &[r.join("crates/extra")]);
    assert!(!has_module(&build(&mut scans), "crates/extra"));
    // No notes: the build walks, as a run that walked the tree must.
    write(r, "crates/late/Cargo.toml", "[package]\nname = \"late\"\nversion = \"0.1.0\"\n");
    write(r, "crates/late/src/lib.rs", "pub fn late() {}\n");
    assert!(has_module(&build(&mut scans), "crates/late"));
}

#[test]
fn monorepo_with_rule_files_configuration_and_bounded_pages() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(
        r,
        "Makefile",
        ".PHONY: all\nall: build\nbuild:\n\tgo build ./...\ntest:\n\tgo test ./...\nlint:\n\tgolangci-lint run\n",
    );
    write(r, "AGENTS.md", "# Agents\nRun `make test` before committing.\n");
    write(
        r,
        "services/api/AGENTS.md",
        "# API rules\n\nNever change the public API without a version bump.\n\n- Handlers return JSON errors.\n",
    );
    write(r, "CLAUDE.md", "Prefer small functions.\n");
    write(
        r,
        ".cursor/rules/py.mdc",
        "---\ndescription: python style\nglobs: *.py\nalwaysApply: false\n---\nUse type hints everywhere.\n",
    );
    write(r, ".github/workflows/ci.yml", "jobs:\n  test:\n    steps:\n      - run: make test\n");
    write(
        r,
        ".sextant.toml",
        "[[overview.modules]]\npath = \"services/api\"\nname = \"Public API\"\n\n[overview]\nmerge = [\"legacy\"]\n",
    );
    write(r, "services/api/handler.py", "def handle(request):\n    return request\n");
    write(r, "services/worker/job.py", "def run_job():\n    return 1\n");
    write(r, "legacy/a/package.json", r#"{"name":"legacy-a"}"#);
    write(r, "legacy/a/index.js", "function oldA() { return 1; }\n");
    write(r, "legacy/b/package.json", r#"{"name":"legacy-b"}"#);
    write(r, "legacy/b/index.js", "function oldB() { return 2; }\n");
    for i in 0..120 {
        write(
            r,
            &format!("libs/lib{i}/package.json"),
            &format!(
                r#"{{"name":"lib{i}","description":"Library number {i} with a long description that takes room on the page."}}"#
            ),
        );
        write(r, &format!("libs/lib{i}/index.js"), &format!("export function f{i}() {{ return {i}; }}\n"));
    }
    let o = overview_of(r);
    assert_eq!(commands(&o, CommandKind::Test), ["make test"]);
    assert_eq!(commands(&o, CommandKind::Lint), ["make lint"]);
    assert_eq!(o.repository.ci[0].command, "make test");
    let api = module(&o, "services/api");
    assert_eq!((api.kind, api.name.as_str()), (ModuleKind::Configured, "Public API"));
    assert!(o.module_index("legacy/a").is_none(), "merged into legacy");
    assert_eq!(module(&o, "legacy").files, 2);

    assert_eq!(o.rules.len(), 4);
    let for_api = sextant_overview::applicable(&o.rules, "services/api/handler.py");
    let sources: Vec<&str> = for_api.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(sources, ["services/api/AGENTS.md", "CLAUDE.md", ".cursor/rules/py.mdc"]);
    let for_js = sextant_overview::applicable(&o.rules, "legacy/a/index.js");
    assert_eq!(for_js.iter().map(|r| r.kind).collect::<Vec<_>>(), [RuleKind::Agents, RuleKind::Claude]);

    // 120 library modules do not blow up the repository page: it stays within its limit and says so.
    let page = markdown_page(&o, None, 4000, LinkStyle::Plain);
    assert!(page.len() <= 4200, "{}", page.len());
    assert!(page.contains("more modules") || page.contains("Left out to keep this page short"), "{page}");
    let module_page = markdown_page(&o, o.module_index("services/api"), 4000, LinkStyle::Plain);
    // Rule files are quoted in full (not only their first line), with what they govern.
    assert!(module_page.contains("> Never change the public API"), "{module_page}");
    assert!(module_page.contains("> - Handlers return JSON errors."), "{module_page}");
    assert!(module_page.contains("**services/api/AGENTS.md** (`services/api/`)"), "{module_page}");
}

#[test]
fn an_update_reads_only_the_source_files_that_changed() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "go.mod", "module example.com/shop\n\ngo 1.22\n");
    write(r, "api/server.go", "// Package api serves the shop over HTTP.\npackage api\n\nfunc Serve() {\n\thttp.HandleFunc(\"/orders\", listOrders)\n}\n");
    write(r, "store/store.go", "// Package store keeps orders.\npackage store\n\nfunc Save() {}\n");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_repository(r).unwrap();
    let index_with = |root: &Path| index_into(root, dir.path(), &config);
    let index = index_with(r);
    let first = sextant_overview::ensure(&index, &config).unwrap();
    let api = module(&first, "api");
    assert_eq!(api.purpose.as_deref(), Some("Package api serves the shop over HTTP."));
    assert!(api.entry_points.iter().any(|e| e.kind == "route"), "{:?}", api.entry_points);

    // Change store.go only; make api/server.go unreadable on disk while its content (hash) stays indexed.
    write(r, "store/store.go", "// Package store keeps orders on disk.\npackage store\n\nfunc Save() {}\n");
    let index = index_with(r);
    let saved = std::fs::read(r.join("api/server.go")).unwrap();
    std::fs::remove_file(r.join("api/server.go")).unwrap();
    let second = sextant_overview::ensure(&index, &config).unwrap();
    std::fs::write(r.join("api/server.go"), saved).unwrap();
    assert_eq!(module(&second, "store").purpose.as_deref(), Some("Package store keeps orders on disk."), "re-read");
    let api = module(&second, "api");
    assert_eq!(api.purpose.as_deref(), Some("Package api serves the shop over HTTP."), "from the scan cache");
    assert!(api.entry_points.iter().any(|e| e.kind == "route"), "from the scan cache: {:?}", api.entry_points);
}

/// The overview of this very repository: every crate depends on exactly the workspace crates its `Cargo.toml`
/// declares (normal, dev and build dependencies), no fewer and none that only names in the code suggest.
#[test]
fn this_repository_lists_the_crate_dependencies_its_manifests_declare_and_no_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let overview = overview_of(&root);
    let json = serde_json::to_value(&overview).unwrap();
    let modules = json["modules"].as_array().unwrap();
    // The crates of this repository (the workspace's and the test fixtures'), by name.
    let crates: std::collections::HashSet<&str> =
        modules.iter().filter(|m| m["kind"] == "Cargo").filter_map(|m| m["name"].as_str()).collect();
    let mut checked = 0;
    for module in modules.iter().filter(|m| m["kind"] == "Cargo") {
        let dir = module["path"].as_str().unwrap();
        let manifest: toml::Table =
            std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap().parse().unwrap();
        let mut declared: Vec<String> = ["dependencies", "dev-dependencies", "build-dependencies"]
            .iter()
            .filter_map(|kind| manifest.get(*kind).and_then(|d| d.as_table()))
            .flat_map(|deps| deps.keys().cloned())
            .filter(|name| crates.contains(name.as_str()))
            .collect();
        declared.sort();
        declared.dedup();
        let mut listed: Vec<String> = module["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| modules[d["module"].as_u64().unwrap() as usize]["name"].as_str().unwrap().to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, declared, "{dir}");
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} crates found");

    // The README's set-up section is where a newcomer starts: its script and commands are the set-up commands.
    let commands: Vec<(&str, &str)> = json["repository"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["command"].as_str().unwrap()))
        .collect();
    assert!(commands.contains(&("Setup", "indexer-config/setup-models.sh")), "{commands:?}");
    assert!(commands.contains(&("Test", "cargo test --workspace --locked")), "{commands:?}");
}

/// The stored overview is compressed JSON that reads back equal; an earlier version's files are removed when it is
/// written, and an index that has only those (uncompressed, or a compressed head of the format before module
/// records) reads as having no overview yet rather than a damaged one.
#[test]
fn the_stored_overview_is_compressed_and_replaces_the_files_of_earlier_formats() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "pkg/__init__.py", "\"\"\"Tools.\"\"\"\n");
    write(r, "pkg/tool.py", "def run():\n    return 1\n");
    let overview = overview_of(r);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("overview.json"), "{}").unwrap();
    std::fs::write(dir.path().join("overview-scans.json"), "{}").unwrap();
    assert!(sextant_overview::load(dir.path()).unwrap().is_none(), "an uncompressed overview is not read");
    // The previous format: the whole overview in one compressed file.
    let whole = zstd::bulk::compress(&serde_json::to_vec(&overview).unwrap(), 3).unwrap();
    std::fs::write(dir.path().join(sextant_overview::OVERVIEW_FILE), whole).unwrap();
    assert!(sextant_overview::load(dir.path()).unwrap().is_none(), "the previous format is rebuilt, not corrupt");
    assert_eq!(sextant_overview::stored_generation(dir.path()), None);

    sextant_overview::save(dir.path(), &overview).unwrap();
    let stored = std::fs::read(dir.path().join(sextant_overview::OVERVIEW_FILE)).unwrap();
    assert_eq!(stored[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd frame");
    assert!(stored.len() < serde_json::to_vec(&overview).unwrap().len());
    assert_eq!(sextant_overview::load(dir.path()).unwrap(), Some(overview.clone()));
    assert_eq!(sextant_overview::stored_generation(dir.path()), Some((overview.generation, overview.root.clone())));
    assert_eq!(record_names(dir.path()).len(), overview.modules.len(), "one record per module");
    assert!(!dir.path().join("overview.json").exists() && !dir.path().join("overview-scans.json").exists());

    // A head that names a record no longer there (a damaged directory, not a writer that moved on) is an error
    // after the reader looked again, not a panic or a partial overview.
    let first = record_names(dir.path()).into_iter().next().unwrap();
    std::fs::remove_file(dir.path().join(sextant_overview::MODULES_DIR).join(first)).unwrap();
    assert!(matches!(sextant_overview::load(dir.path()), Err(sextant_overview::OverviewError::Corrupt(_))));

    std::fs::write(dir.path().join(sextant_overview::OVERVIEW_FILE), b"not zstd").unwrap();
    assert!(matches!(sextant_overview::load(dir.path()), Err(sextant_overview::OverviewError::Corrupt(_))));
}

/// The module record files in an index directory, sorted.
fn record_names(index_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(index_dir.join(sextant_overview::MODULES_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The overview without the build time, which differs between any two builds.
fn timeless(mut overview: Overview) -> Overview {
    overview.elapsed_ms = 0;
    overview
}

/// An update writes the records of the modules whose overview it changed and no others; what is stored then reads
/// back equal to a build from scratch, and no record of the replaced overview is left behind. A second writer (a
/// CLI run while a server hosts the index) in between is noticed from the stored head, not overwritten from a stale
/// memory.
#[test]
fn an_update_writes_only_the_module_records_it_changed() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(r, "go.mod", "module example.com/shop\n\ngo 1.22\n");
    let api = |doc: &str| {
        format!("// Package api {doc}\npackage api\n\nimport \"example.com/shop/store\"\n\nfunc Serve() {{\n\tstore.Save()\n}}\n")
    };
    write(r, "api/server.go", &api("serves the shop over HTTP."));
    write(r, "store/store.go", "// Package store keeps orders.\npackage store\n\nfunc Save() {}\n");
    write(r, "billing/bill.go", "// Package billing sends invoices.\npackage billing\n\nfunc Bill() {}\n");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_repository(r).unwrap();
    let index_now = || index_into(r, dir.path(), &config);
    let mut writer = sextant_overview::OverviewWriter::default();
    let index = index_now();
    let first = writer.ensure(&index, &config, None).unwrap();
    assert!(depends(&first, "api", "store"), "the fixture's modules call each other");
    let before = record_names(dir.path());
    assert_eq!(before.len(), first.modules.len());

    // The same number of lines: only the purpose of `store` changes, and the repository's record (its size is the
    // sum of its modules') stays as it was too.
    write(r, "store/store.go", "// Package store keeps orders on disk.\npackage store\n\nfunc Save() {}\n");
    let index = index_now();
    let changed = [r.join("store/store.go")];
    let second = writer.ensure(&index, &config, Some(&changed)).unwrap();
    let after = record_names(dir.path());
    let replaced: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
    let added: Vec<&String> = after.iter().filter(|n| !before.contains(n)).collect();
    assert_eq!((replaced.len(), added.len()), (1, 1), "one module record rewritten: {before:?} -> {after:?}");
    assert_eq!(module(&second, "store").purpose.as_deref(), Some("Package store keeps orders on disk."));
    let stored = sextant_overview::load(dir.path()).unwrap().unwrap();
    assert_eq!(stored, *second);
    assert_eq!(timeless(stored), timeless(build_overview(&index, &config)), "equal to a build from scratch");

    // Another writer stores the next generation; this one's memory is then stale and must not be trusted.
    write(
        r,
        "billing/bill.go",
        "// Package billing sends invoices.\npackage billing\n\nimport \"example.com/shop/store\"\n\nfunc Bill() {}\n\nfunc Refund() {\n\tstore.Save()\n}\n",
    );
    let index = index_now();
    sextant_overview::OverviewWriter::default().ensure(&index, &config, None).unwrap();
    write(r, "api/server.go", &api("serves the shop."));
    let index = index_now();
    let fourth = writer.ensure(&index, &config, Some(&[r.join("api/server.go")])).unwrap();
    assert!(module(&fourth, "billing").key_symbols.iter().any(|k| k.name == "Refund"), "the other writer's change");
    assert!(depends(&fourth, "billing", "store") && depends(&fourth, "api", "store"));
    let stored = sextant_overview::load(dir.path()).unwrap().unwrap();
    assert_eq!(timeless(stored), timeless(build_overview(&index, &config)));
    assert_eq!(record_names(dir.path()).len(), fourth.modules.len(), "no stale records left");
}
