//! What a task text names: code-like identifiers, plain words, and paths.

/// Words that carry no retrieval signal in issue text.
const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "that",
    "this",
    "with",
    "from",
    "are",
    "was",
    "were",
    "not",
    "but",
    "have",
    "has",
    "had",
    "can",
    "could",
    "should",
    "would",
    "will",
    "when",
    "what",
    "which",
    "where",
    "while",
    "there",
    "their",
    "then",
    "than",
    "them",
    "they",
    "into",
    "also",
    "does",
    "did",
    "doing",
    "done",
    "use",
    "used",
    "using",
    "get",
    "set",
    "its",
    "it's",
    "you",
    "your",
    "our",
    "any",
    "all",
    "some",
    "such",
    "only",
    "just",
    "like",
    "about",
    "after",
    "before",
    "because",
    "being",
    "been",
    "other",
    "more",
    "most",
    "very",
    "same",
    "each",
    "both",
    "how",
    "why",
    "who",
    "out",
    "over",
    "under",
    "again",
    "further",
    "here",
    "now",
    "see",
    "via",
    "let",
    "make",
    "made",
    "new",
    "one",
    "two",
    "way",
    "may",
    "might",
    "must",
    "need",
    "needs",
    "want",
    "wants",
    "expected",
    "actual",
    "behavior",
    "behaviour",
    "issue",
    "bug",
    "fix",
    "fixes",
    "fixed",
    "error",
    "errors",
    "problem",
    "please",
    "thanks",
    "work",
    "works",
    "working",
    "happen",
    "happens",
    "following",
    "example",
    "code",
    "line",
    "lines",
    "file",
    "files",
    "version",
    "true",
    "false",
    "none",
    "null",
    "return",
    "returns",
    "value",
    "values",
    "case",
    "cases",
    "instead",
    "without",
    "within",
    "between",
    "currently",
    "still",
    "even",
    "well",
    "etc",
    "don't",
    "doesn't",
    "isn't",
    "can't",
    "won't",
    "i'm",
    "i've",
    "we",
    "i",
    "a",
    "an",
    "to",
    "of",
    "in",
    "on",
    "is",
    "be",
    "as",
    "at",
    "by",
    "or",
    "if",
    "it",
    "so",
    "no",
    "do",
    "my",
    "me",
    "up",
];

/// File extensions that make a token a file name.
const SOURCE_EXTENSIONS: &[&str] = &[
    "rs", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "java", "c", "h", "cc", "cpp", "hpp", "cs", "rb",
    "php", "sh", "kt", "scala", "swift", "groovy", "gradle", "toml", "json", "yaml", "yml", "md",
];

/// The terms extracted from a task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskTerms {
    /// Code-like identifiers (`snake_case`, `camelCase`, `CONSTANT`, `` `quoted` ``, `call()`), in order, unique.
    pub identifiers: Vec<String>,
    /// Other meaningful words (not stopwords, 3+ characters), in order, unique.
    pub words: Vec<String>,
    /// Path-like tokens (`src/app.py`, `utils.rs`, `a/b/`), in order, unique.
    pub paths: Vec<String>,
}

impl TaskTerms {
    /// Extracts terms from `task`.
    pub fn extract(task: &str) -> TaskTerms {
        let mut terms = TaskTerms::default();
        let push = |list: &mut Vec<String>, value: &str| {
            if !value.is_empty() && list.len() < 200 && !list.iter().any(|v| v == value) {
                list.push(value.to_string());
            }
        };
        // Path-like tokens: runs of path characters containing '/' or ending in a known extension.
        for raw in task.split(|c: char| {
            c.is_whitespace() || matches!(c, '`' | '\'' | '"' | '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']')
        }) {
            let token = raw.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?' | '*'));
            if token.len() < 3 || token.len() > 200 || token.contains("://") {
                continue;
            }
            let has_extension = token.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
            });
            let pathy =
                token.contains('/') && token.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'));
            if has_extension || pathy {
                push(&mut terms.paths, token.trim_start_matches("./").trim_end_matches(':'));
            }
        }
        // Identifiers and words.
        let chars: Vec<(usize, char)> = task.char_indices().collect();
        let mut i = 0;
        let mut in_backticks = false;
        while i < chars.len() {
            let (start, c) = chars[i];
            if c == '`' {
                in_backticks = !in_backticks;
                i += 1;
                continue;
            }
            if !(c.is_alphanumeric() || c == '_') {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            let end = chars.get(j).map_or(task.len(), |(b, _)| *b);
            let word = &task[start..end];
            let next = chars.get(j).map(|(_, c)| *c);
            let previous = if i > 0 { Some(chars[i - 1].1) } else { None };
            i = j;
            if word.len() < 3 || word.len() > 80 || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let inner_upper = word.chars().skip(1).any(|c| c.is_uppercase()) && word.chars().any(|c| c.is_lowercase());
            let code_like = in_backticks
                || word.contains('_')
                || inner_upper
                || next == Some('(')
                || matches!(previous, Some('.') | Some(':'))
                || (word.len() >= 3 && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
            if code_like {
                push(&mut terms.identifiers, word);
            } else {
                let lower = word.to_lowercase();
                if !STOPWORDS.contains(&lower.as_str()) {
                    push(&mut terms.words, word);
                }
            }
        }
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::TaskTerms;

    #[test]
    fn separates_identifiers_words_and_paths() {
        let terms = TaskTerms::extract(
            "Session.send() fails when `max_retries` is set in requests/adapters.py; see HTTPAdapter and the retry logic.",
        );
        assert_eq!(terms.identifiers, ["send", "max_retries", "HTTPAdapter"]);
        assert!(terms.words.contains(&"Session".to_string()));
        assert!(terms.words.contains(&"retry".to_string()));
        assert!(!terms.words.iter().any(|w| w == "the" || w == "when"));
        assert_eq!(terms.paths, ["requests/adapters.py"]);
    }
}
