//! Path filters: "only files under these directories", with one meaning everywhere (lexical search, vector
//! search, packs, hybrid search).

/// Repository-relative path prefixes a result must be under (or equal to). `src`, `/src`, `src/` and `./src/`
/// mean the same; empty and `.` entries mean the whole repository; a prefix with `..` matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathFilter {
    prefixes: Vec<String>,
    unrestricted: bool,
}

impl PathFilter {
    /// A filter from user-given prefixes; none at all means every path passes.
    pub fn new<S: AsRef<str>>(paths: &[S]) -> PathFilter {
        let mut prefixes = Vec::new();
        let mut unrestricted = paths.is_empty();
        for path in paths {
            let mut p = path.as_ref().trim();
            while let Some(rest) = p.strip_prefix("./") {
                p = rest;
            }
            let p = p.trim_matches('/');
            if p.is_empty() || p == "." {
                unrestricted = true;
            } else if !p.split('/').any(|part| part == "..") {
                prefixes.push(p.to_string());
            }
        }
        PathFilter { prefixes, unrestricted }
    }

    /// Whether every path passes.
    pub fn is_unrestricted(&self) -> bool {
        self.unrestricted
    }

    /// The normalised prefixes (no leading or trailing `/`), for stores that filter by prefix themselves. Empty
    /// when unrestricted.
    pub fn prefixes(&self) -> &[String] {
        if self.unrestricted {
            &[]
        } else {
            &self.prefixes
        }
    }

    /// Whether `path` (repository-relative) passes.
    pub fn matches(&self, path: &str) -> bool {
        self.unrestricted
            || self
                .prefixes
                .iter()
                .any(|p| path.strip_prefix(p.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_meaning_for_every_spelling() {
        for spelling in ["src", "/src", "src/", "./src/", " src "] {
            let filter = PathFilter::new(&[spelling]);
            assert_eq!(filter.prefixes(), ["src"], "{spelling:?}");
            assert!(filter.matches("src/main.rs") && filter.matches("src"), "{spelling:?}");
            assert!(!filter.matches("srcs/main.rs") && !filter.matches("lib/src/a.rs"), "{spelling:?}");
        }
        assert!(PathFilter::new::<&str>(&[]).matches("anything"));
        assert!(PathFilter::new(&["."]).matches("anything"));
        let escaping = PathFilter::new(&["../etc"]);
        assert!(!escaping.matches("../etc/passwd") && !escaping.matches("src/a.rs"));
        assert!(PathFilter::new(&["src/main.rs"]).matches("src/main.rs"));
    }
}

/// Whether a repository-relative path is a test, a test fixture or test data (by the usual directory and file
/// naming conventions of each language), which ranking treats as secondary and overviews list as tests.
///
/// A directory is a test directory when it is named like one (`tests`, `spec`, `testdata`, `fixtures`, …) or
/// when its name has more words and one is `tests` (`UnitTests`, `Foo.Tests`, `integration-tests`); a file is a
/// test when it is named like the tests of its language (`test_x.py`, `x_test.go`, `x.test.ts`, `x.spec.ts`,
/// `x_spec.rb`, `conftest.py`, and where the last word of the stem is `test` or `tests`: `FooTest.java`,
/// `FooTests.cs`, `ClientTest.php`, `db_test.cc`; `unittest` too in C and C++). Words split at `.`, `-`, `_`
/// and case changes, so `latest` and `Latest.java` stay code. Support code that only carries the word, such as
/// `test_util/` or a crate called `tokio-test`, stays code: commits change it like any other code.
pub fn is_test_path(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    parts.into_iter().any(is_test_directory) || is_test_file_name(name)
}

/// Whether a directory name says it holds tests (see [`is_test_path`]).
fn is_test_directory(part: &str) -> bool {
    const TEST_DIRECTORIES: &[&str] = &[
        "test",
        "tests",
        "spec",
        "specs",
        "__tests__",
        "testdata",
        "testing",
        "fixtures",
        "__fixtures__",
        "__mocks__",
    ];
    let lower = part.to_ascii_lowercase();
    if TEST_DIRECTORIES.contains(&lower.as_str()) {
        return true;
    }
    // Ranking asks this of every directory of every candidate: split only names that can hold the word.
    lower.contains("tests") && {
        let words: Vec<String> = name_words(part).collect();
        words.len() > 1 && words.iter().any(|word| word == "tests")
    }
}

/// Whether a file name says it is a test (see [`is_test_path`]).
fn is_test_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("test_")
        || lower == "conftest.py"
        || lower.ends_with("_test.go")
        || lower.ends_with("_test.py")
        || lower.ends_with("_tests.rs")
        || lower.contains(".test.")
        || lower.contains(".spec.")
        || lower.ends_with("_spec.rb")
    {
        return true;
    }
    let Some((stem, extension)) = name.rsplit_once('.') else { return false };
    // Every last word below ends in `test` or `tests`: split only stems that do.
    let lower_stem = stem.to_ascii_lowercase();
    if !lower_stem.ends_with("test") && !lower_stem.ends_with("tests") {
        return false;
    }
    let last_word = name_words(stem).last().unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "java" | "kt" | "scala" | "groovy" | "cs" | "swift" | "php" => last_word == "test" || last_word == "tests",
        "c" | "cc" | "cpp" | "cxx" => matches!(last_word.as_str(), "test" | "tests" | "unittest"),
        _ => false,
    }
}

/// The lower-case words of a file or directory name, split at `.`, `-`, `_`, spaces, where a lower-case letter
/// or digit meets an upper-case one (`UnitTests` → `unit`, `tests`) and before the last capital of a run that a
/// lower-case letter follows (`UITests` → `ui`, `tests`).
fn name_words(name: &str) -> impl Iterator<Item = String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let starts_word = c.is_uppercase()
            && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next_is_lower));
        if starts_word && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.into_iter()
}

/// What kind of auxiliary code a repository-relative path is, by its directories or its extension: `examples`,
/// `benchmarks`, `scripts` (shell scripts anywhere), `docs`, `ci`, `vendored` (copies of other projects under
/// `vendor/`, `third_party/`, …) or `declarations` (TypeScript's `.d.ts`). Such code shows how the project is used,
/// measured, built or released, restates its API or belongs to someone else, so it echoes the words of a task
/// about the project's own code, which it seldom is; ranking treats it as secondary unless the task names
/// its kind. `None` for everything else (tests included: see [`is_test_path`]).
pub fn auxiliary_kind(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let mut directories: Vec<&str> = lower.split('/').collect();
    let name = directories.pop().unwrap_or_default();
    let has_extension = |extensions: &[&str]| {
        extensions.iter().any(|extension| name.len() > extension.len() && name.ends_with(extension))
    };
    if has_extension(&[".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd"]) {
        return Some("scripts");
    }
    if has_extension(&[".d.ts", ".d.mts", ".d.cts"]) {
        return Some("declarations");
    }
    directories.into_iter().find_map(auxiliary_directory_kind)
}

/// The kind of auxiliary code a (lower-case) directory name holds.
fn auxiliary_directory_kind(name: &str) -> Option<&'static str> {
    match name {
        "examples" | "example" | "samples" => Some("examples"),
        "benches" | "bench" | "benchmarks" | "benchmark" => Some("benchmarks"),
        "scripts" | "script" => Some("scripts"),
        "docs" | "doc" | "documentation" => Some("docs"),
        "ci" | ".github" | ".circleci" => Some("ci"),
        "vendor" | "vendored" | "third_party" | "third-party" | "thirdparty" | "3rdparty" => Some("vendored"),
        _ => None,
    }
}

/// The kind of auxiliary code (see [`auxiliary_kind`]) a word of a task names: its directory names (`examples`,
/// `docs`, …) and the words people use for it (`shell`, `workflow`, `typescript`, …). Case does not matter.
pub fn auxiliary_kind_named_by(word: &str) -> Option<&'static str> {
    let word = word.to_ascii_lowercase();
    auxiliary_directory_kind(&word).or(match word.as_str() {
        "sample" => Some("examples"),
        "shell" | "bash" | "zsh" | "powershell" => Some("scripts"),
        "workflow" | "workflows" => Some("ci"),
        "vendoring" | "dependency" | "dependencies" => Some("vendored"),
        "types" | "typings" | "typescript" | "declaration" | "declarations" | "dts" => Some("declarations"),
        _ => None,
    })
}

/// Whether a (lower-case) word of a task or query says it is about tests themselves (`test`, `spec`, `fixture`,
/// `flaky`, …), so tests keep their rank.
pub fn is_test_word(word: &str) -> bool {
    matches!(word, "test" | "tests" | "testing" | "spec" | "specs" | "fixture" | "fixtures" | "flaky")
}

/// Adds to `kinds`, each once, the kinds of auxiliary code `text` names by a word (see
/// [`auxiliary_kind_named_by`]), read from the text itself since some are stopwords to a task's terms.
pub fn add_auxiliary_kinds_named_in(text: &str, kinds: &mut Vec<&'static str>) {
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| (2..=13).contains(&w.len())) {
        let Some(kind) = auxiliary_kind_named_by(word) else { continue };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
}

#[cfg(test)]
mod test_path_tests {
    use super::is_test_path;

    #[test]
    fn recognises_tests_by_directory_and_name() {
        for path in [
            "tests/cli.rs",
            "src/__tests__/a.ts",
            "pkg/server/server_test.go",
            "test_flask.py",
            "pkg/test_utils.py",
            "core/src/test/java/FooTest.java",
            "src/foo.spec.ts",
            "testdata/input.json",
            "tests/fixtures/x.py",
            "src/UnitTests/MemberResolution.cs",
            "Src/Newtonsoft.Json.Tests/JsonConvertTest.cs",
            "App/AppUITests/Launch.swift",
            "integration-tests/run.js",
            "db/db_test.cc",
            "util/coding_test.c",
            "base/strings_unittest.cpp",
            "src/FooTests.swift",
            "src/ClientTest.php",
            "pkg/conftest.py",
            "spec/models/user_spec.rb",
            "src/__mocks__/fs.js",
        ] {
            assert!(is_test_path(path), "{path}");
        }
        for path in [
            "src/lib.rs",
            "src/testing_utils_are_not/../x.rs",
            "contest/main.go",
            "src/attest.py",
            "latest/x.go",
            "src/Latest.java",
            "src/_pytest/python.py",
            "okhttp/src/main/kotlin/okhttp3/ConnectionSpec.kt",
            "src/Newtonsoft.Json/JsonConvert.cs",
            "src/testimony.rs",
            // Test support that commits change like code.
            "test_util/src/lib.rs",
            "tokio-test/src/io.rs",
            "std/node/_fs/_fs_dir_test.ts",
        ] {
            assert!(!is_test_path(path), "{path}");
        }
    }
}

#[cfg(test)]
mod auxiliary_path_tests {
    use super::auxiliary_kind;

    #[test]
    fn names_the_kind_of_auxiliary_code_by_directory_and_extension() {
        for (path, kind) in [
            ("examples/tutorial.rs", "examples"),
            ("crates/cli/benches/walk.rs", "benchmarks"),
            ("Scripts/release.py", "scripts"),
            ("docs/conf.py", "docs"),
            (".github/workflows/build.js", "ci"),
            ("diagnostics/info.sh", "scripts"),
            ("tools/Build.PS1", "scripts"),
            ("types/index.d.ts", "declarations"),
            ("vendor/github.com/pkg/errors/errors.go", "vendored"),
            ("src/Third_Party/zlib/inflate.c", "vendored"),
        ] {
            assert_eq!(auxiliary_kind(path), Some(kind), "{path}");
        }
        // The file's own name never counts, nor do look-alike directories.
        for path in [
            "src/docs.rs",
            "src/bench.py",
            "crates/hir_ty/src/diagnostics/expr.rs",
            "docsite/a.ts",
            "lib.rs",
            ".sh",
            "src/index.ts",
            "src/vendor.rs",
            "internal/vendorsync/a.go",
        ] {
            assert_eq!(auxiliary_kind(path), None, "{path}");
        }
    }

    #[test]
    fn a_task_word_names_the_kind_its_directories_hold() {
        use super::auxiliary_kind_named_by;
        for (word, kind) in [
            ("Examples", "examples"),
            ("docs", "docs"),
            ("Bash", "scripts"),
            ("TypeScript", "declarations"),
            ("third_party", "vendored"),
            ("vendoring", "vendored"),
        ] {
            assert_eq!(auxiliary_kind_named_by(word), Some(kind), "{word}");
        }
        assert_eq!(auxiliary_kind_named_by("session"), None);
    }
}
