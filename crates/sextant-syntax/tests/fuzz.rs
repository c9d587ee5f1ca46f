//! Fuzzing extraction and chunking inside the normal test run: arbitrary bytes and code-like token soup in every
//! language must give facts (or a clear error), never a panic, with spans inside the file. The default run is a
//! few seconds; `SEXTANT_FUZZ_CASES=100000 cargo test -p sextant-syntax --test fuzz --release` runs longer.

use proptest::prelude::*;
use sextant_syntax::{analyze, ChunkLimits, Language};

fn cases(default: u32) -> u32 {
    std::env::var("SEXTANT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const LIMITS: ChunkLimits = ChunkLimits { max_tokens: 64, min_tokens: 8 };

/// Fragments of every supported language's syntax, so generated text reaches deep into the grammars.
const VOCABULARY: &[&str] = &[
    "fn",
    "def",
    "class",
    "struct",
    "impl",
    "trait",
    "interface",
    "func",
    "function",
    "module",
    "package",
    "import",
    "from",
    "use",
    "return",
    "if",
    "else",
    "match",
    "switch",
    "case",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ";",
    ":",
    "::",
    ".",
    ",",
    "=",
    "=>",
    "->",
    "\n",
    "\n    ",
    "\t",
    "\"",
    "'",
    "`",
    "/*",
    "*/",
    "//",
    "#",
    "@",
    "$",
    "\\",
    "x",
    "Foo",
    "bar_baz",
    "0",
    "1.5e3",
    "self",
    "this",
    "new",
    "async",
    "await",
    "pub",
    "static",
    "<?php",
    "end",
    "do",
    "then",
    "fi",
    "esac",
    "#include",
    "template",
    "namespace",
    "\u{feff}",
    "\u{0}",
    "é",
    "🦀",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..400).prop_map(|parts| parts.join(" "))
}

fn check(language: Language, text: &str) -> Result<(), TestCaseError> {
    if let Ok(path) = std::env::var("SEXTANT_FUZZ_LAST") {
        let _ = std::fs::write(path, format!("{language:?}\n{text}"));
    }
    let started = std::time::Instant::now();
    let analyzed = analyze(language, text, LIMITS);
    let elapsed = started.elapsed();
    if elapsed > std::time::Duration::from_secs(2) {
        eprintln!("SLOW {:?} {:?} {} bytes: {:?}", elapsed, language, text.len(), &text[..text.len().min(300)]);
    }
    let Ok(facts) = analyzed else { return Ok(()) };
    let lines = text.lines().count().max(1) as u32 + 1;
    for chunk in &facts.chunks {
        prop_assert!(chunk.span.start_line >= 1 && chunk.span.start_line <= chunk.span.end_line);
        prop_assert!(chunk.span.end_line <= lines, "{:?} past {lines} lines", chunk.span);
    }
    for symbol in &facts.symbols {
        prop_assert!(symbol.span.start_line <= symbol.span.end_line && symbol.span.end_line <= lines);
    }
    Ok(())
}

/// The smallest input that crashed tree-sitter-bash's scanner (an out-of-bounds read in C), and its neighbours.
#[test]
fn high_code_points_after_a_brace_do_not_crash_any_grammar() {
    for language in Language::ALL {
        for text in ["{\u{10FFFF}", "{\u{F0000}", "x = {\u{10BF05}}\n", "${\u{E0001}", "{\u{42080}"] {
            let facts = analyze(language, text, LIMITS);
            assert!(facts.is_ok(), "{language:?} {text:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096), language in 0..Language::ALL.len()) {
        check(Language::ALL[language], &String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup(), language in 0..Language::ALL.len()) {
        check(Language::ALL[language], &text)?;
    }
}
