//! Reading the fixture projects under `tests/fixtures/`, shared by the fixture and the incremental tests.

use std::path::{Path, PathBuf};

use sextant_graph::MANIFEST_FILES;
use sextant_syntax::Language;

/// Every fixture directory; each has a test in `graph.rs`.
pub const FIXTURES: &[&str] = &[
    "go_module_import",
    "go_package_call",
    "java_class_method",
    "python_package_import",
    "python_receiver_calls",
    "rust_cargo_deps",
    "rust_reexport",
    "rust_same_name_methods",
    "rust_same_name_receiver",
    "rust_use_call",
    "rust_use_call_sibling",
    "rust_vec_len",
    "scala_object_call",
    "ts_barrel_reexport",
    "ts_relative_import",
    "ts_workspace_package",
];

/// The file beside a fixture's sources that holds its expected edges.
pub const EXPECTED: &str = "expected.txt";

/// The directory of fixture `case`.
pub fn fixture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(case)
}

/// The language a fixture file is parsed as, by extension.
pub fn language_of(path: &str) -> Option<Language> {
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "rs" => Language::Rust,
        "py" => Language::Python,
        "js" | "jsx" | "mjs" | "cjs" => Language::JavaScript,
        "ts" | "mts" | "cts" => Language::TypeScript,
        "tsx" => Language::Tsx,
        "go" => Language::Go,
        "java" => Language::Java,
        "c" | "h" => Language::C,
        "cc" | "cpp" | "hpp" => Language::Cpp,
        "cs" => Language::CSharp,
        "rb" => Language::Ruby,
        "php" => Language::Php,
        "sh" | "bash" => Language::Bash,
        "scala" => Language::Scala,
        _ => return None,
    })
}

/// Whether the file is a package manifest handed to the linker.
pub fn is_manifest(path: &str) -> bool {
    MANIFEST_FILES.contains(&path.rsplit('/').next().unwrap_or(path))
}

/// Repository-relative paths (with `/`) of the fixture's files (sources and manifests), sorted.
pub fn fixture_files(base: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
                continue;
            }
            let rel = path.strip_prefix(base).unwrap();
            let rel = rel.components().map(|c| c.as_os_str().to_str().unwrap()).collect::<Vec<_>>().join("/");
            if rel != EXPECTED {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(base, base, &mut out);
    out.sort();
    out
}
