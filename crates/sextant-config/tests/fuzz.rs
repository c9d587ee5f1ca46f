//! Fuzzing configuration parsing: arbitrary text and TOML-shaped text built from the real keys, as a
//! repository's `.sextant.toml`, give a configuration or an error naming the file, never a panic.
//! `SEXTANT_FUZZ_CASES=N` runs longer.

use proptest::prelude::*;
use sextant_config::Config;

fn cases(default: u32) -> u32 {
    std::env::var("SEXTANT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const KEYS: &[&str] = &[
    "[index]",
    "[chunk]",
    "[overview]",
    "[embed]",
    "[vectors]",
    "[languages.rust]",
    "[languages.zz]",
    "[[overview.modules]]",
    "max_file_bytes",
    "max_line_bytes",
    "exclude",
    "include_hidden",
    "follow_symlinks",
    "max_tokens",
    "min_tokens",
    "globs",
    "modules",
    "merge",
    "max_page_chars",
    "history_commits",
    "runtime",
    "model_dir",
    "url",
    "path",
    "name",
];
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "16",
    "400",
    "99999999999999999999",
    "1.5",
    "true",
    "\"\"",
    "\"src/\"",
    "\"/abs\"",
    "\"../up\"",
    "[\"a[\", \"*.rs\"]",
    "[]",
    "[1, \"x\"]",
    "{ path = \"x\" }",
    "\"\\u0000\"",
    "inf",
    "nan",
];

fn toml_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (prop::sample::select(KEYS), prop::sample::select(VALUES), any::<bool>()).prop_map(|(key, value, header)| {
            if header || key.starts_with('[') {
                format!("{key}\n")
            } else {
                format!("{key} = {value}\n")
            }
        }),
        0..24,
    )
    .prop_map(|lines| lines.concat())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let repo = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    std::fs::write(repo.path().join(".sextant.toml"), text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    if let Err(error) = Config::layered(None, repo.path()) {
        prop_assert!(error.to_string().contains(".sextant.toml"), "an error names the file: {error}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,600}") {
        check(&text)?;
    }

    #[test]
    fn toml_shaped_text_never_panics(text in toml_like()) {
        check(&text)?;
    }
}
