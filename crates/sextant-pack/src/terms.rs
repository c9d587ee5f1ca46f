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
    /// Lines the task points at: `src/app.py:42` (compiler output), `(Foo.java:42)` (JVM stack frames),
    /// `File "app.py", line 42` (Python tracebacks), `app.py#L42` (links). Their paths are in `paths` too.
    pub locations: Vec<(String, u32)>,
    /// Dotted module or class names (`requests.adapters.HTTPAdapter`, `org.apache.kafka.common.Node`) written
    /// as paths (`requests/adapters/HTTPAdapter`), for matching the files that define them.
    pub modules: Vec<String>,
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
        // Path-like tokens: runs of path characters containing '/' or ending in a known extension, with the line
        // a stack frame or compiler message gives.
        let tokens: Vec<&str> = task
            .split(|c: char| {
                c.is_whitespace() || matches!(c, '`' | '\'' | '"' | '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']')
            })
            .filter(|t| !t.is_empty())
            .collect();
        for (position, raw) in tokens.iter().enumerate() {
            let token = raw.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?' | '*'));
            if token.len() < 3 || token.len() > 200 || token.contains("://") {
                continue;
            }
            let (token, mut line) = split_line_suffix(token);
            let has_extension = token.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
            });
            let pathy =
                token.contains('/') && token.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'));
            if has_extension || pathy {
                let path = token.trim_start_matches("./").trim_end_matches(':');
                push(&mut terms.paths, path);
                // Python tracebacks: `File "app.py", line 42`.
                if line.is_none() && tokens.get(position + 1) == Some(&"line") {
                    line = tokens.get(position + 2).and_then(|n| n.trim_end_matches(':').parse().ok());
                }
                if let Some(line) = line.filter(|_| has_extension) {
                    if terms.locations.len() < 50 && !terms.locations.iter().any(|(p, l)| p == path && *l == line) {
                        terms.locations.push((path.to_string(), line));
                    }
                }
            } else if let Some(module) = dotted_module(token) {
                push(&mut terms.modules, &module);
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

/// Commit trailers and sign-offs: who reviewed or wrote a change says nothing about where it is.
const TRAILERS: &[&str] = &[
    "reviewers:",
    "reviewed-by:",
    "reviewed by:",
    "signed-off-by:",
    "co-authored-by:",
    "acked-by:",
    "tested-by:",
    "reported-by:",
    "suggested-by:",
    "author:",
    "authors:",
    "cc:",
];

/// The part of a task that retrieval should read: commit trailers (`Reviewers: …`, `Signed-off-by: …`), e-mail
/// addresses and URLs are dropped (their words match unrelated files: author tags, licence headers), the rest is
/// kept as written.
pub fn retrieval_text(task: &str) -> String {
    let mut kept = String::with_capacity(task.len());
    for line in task.lines() {
        let lower = line.trim_start().to_ascii_lowercase();
        // A trailer may also be run into the message on one line (`... (#123)  Reviewers: A <a@b>, B <c@d>`).
        let cut = TRAILERS.iter().filter_map(|t| lower.find(t)).min();
        let line = match cut {
            Some(0) => continue,
            Some(at) if lower[at..].contains('@') => &line.trim_start()[..at],
            _ => line,
        };
        for word in line.split_inclusive(char::is_whitespace) {
            let bare = word.trim().trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | '[' | ']'));
            if is_email(bare) || bare.contains("://") {
                kept.push(' ');
            } else {
                kept.push_str(word);
            }
        }
        kept.push('\n');
    }
    kept
}

/// Most segments a task is split into; more would cost a whole-file search each.
const MAX_SEGMENTS: usize = 8;

/// The parts of a long task that each describe one thing: the items of a bulleted or numbered list and the
/// paragraphs around them, in order (a commit message listing its changes names a file per item). Parts with
/// fewer than three meaningful words are merged into the next; fewer than two parts give none, since the whole
/// task already stands for one.
pub fn segments(task: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    // Meaningful words of `current`, counted line by line so that a task of many short lines costs one pass.
    let mut meaningful = 0;
    let flush = |current: &mut String, meaningful: &mut usize, parts: &mut Vec<String>| {
        if *meaningful >= 3 {
            parts.push(std::mem::take(current));
            *meaningful = 0;
        }
    };
    for line in task.lines() {
        if parts.len() > MAX_SEGMENTS {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || is_list_item(trimmed) {
            flush(&mut current, &mut meaningful, &mut parts);
        }
        let text = trimmed.trim_start_matches(['-', '*', '+', '\u{2022}']);
        let terms = TaskTerms::extract(text);
        meaningful += terms.words.len() + terms.identifiers.len();
        current.push_str(text);
        current.push('\n');
    }
    flush(&mut current, &mut meaningful, &mut parts);
    if parts.len() < 2 {
        return Vec::new();
    }
    parts.truncate(MAX_SEGMENTS);
    parts
}

/// `- item`, `* item`, `+ item`, `• item`, `1. item`, `2) item`.
fn is_list_item(line: &str) -> bool {
    let bullet = ["- ", "* ", "+ ", "\u{2022} "].iter().any(|b| line.starts_with(b));
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    bullet || (digits > 0 && digits <= 3 && matches!(line.as_bytes().get(digits..digits + 2), Some(b". " | b") ")))
}

/// What a file name would be if the task named it: each word, identifier and hyphenated token
/// (`--setup-show`), lower-cased with `_` and `-` removed (`setupshow`), at least four characters, unique. Compare
/// with [`file_name_key`] of a path.
pub fn file_name_keys(task: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let tokens = task
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .flat_map(|token| std::iter::once(token).chain(token.split(['-', '_'])));
    for token in tokens {
        let key: String = token.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        if key.len() >= 4
            && !key.bytes().all(|b| b.is_ascii_digit())
            && !STOPWORDS.contains(&key.as_str())
            && !keys.contains(&key)
            && keys.len() < 200
        {
            keys.push(key);
        }
    }
    keys
}

/// The name of the file at `path` as [`file_name_keys`] writes task words: its stem (up to the first dot),
/// lower-cased, `_` and `-` removed, with a test marker (`test_`, `_test`, `Test`, `Tests`, `.spec`) taken off,
/// so `test_setuponly.py` and `FooTest.java` compare as `setuponly` and `foo`.
pub fn file_name_key(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let key: String = stem.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    let key = key.strip_prefix("test").filter(|rest| rest.len() >= 4).unwrap_or(&key);
    let key = key.strip_suffix("tests").or_else(|| key.strip_suffix("test")).filter(|r| r.len() >= 4).unwrap_or(key);
    key.to_string()
}

/// `name@host.domain`, but not `@Override` or `` `a@b` ``.
fn is_email(word: &str) -> bool {
    let Some((local, domain)) = word.split_once('@') else { return false };
    let local_ok =
        !local.is_empty() && local.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && domain.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'));
    local_ok && domain_ok
}

/// Splits `path:42`, `path:42:7` and `path#L42` into the path and its line.
fn split_line_suffix(token: &str) -> (&str, Option<u32>) {
    if let Some((path, anchor)) = token.rsplit_once("#L") {
        let digits: String = anchor.chars().take_while(char::is_ascii_digit).collect();
        return (path, digits.parse().ok());
    }
    let mut parts = token.rsplitn(3, ':');
    let last = parts.next().unwrap_or_default();
    let middle = parts.next();
    let first = parts.next();
    let number = |s: &str| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None };
    match (first, middle.and_then(number), number(last)) {
        (Some(path), Some(line), Some(_column)) => (path, Some(line)),
        _ => match (middle, number(last)) {
            (Some(_), Some(line)) => (&token[..token.len() - last.len() - 1], Some(line)),
            _ => (token, None),
        },
    }
}

/// `requests.adapters.HTTPAdapter` as `requests/adapters/HTTPAdapter`: three or more identifier parts joined by
/// dots, starting with a lower-case package name (so prose such as `e.g.` or `Foo.bar()` is not taken).
fn dotted_module(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let identifier = |p: &&str| {
        !p.is_empty()
            && p.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    let lower_start = parts.first()?.chars().next()?.is_lowercase();
    (parts.len() >= 3 && lower_start && parts.iter().all(identifier) && parts.iter().take(2).all(|p| p.len() >= 2))
        .then(|| parts.join("/"))
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

    #[test]
    fn finds_lines_of_stack_frames_and_compiler_messages() {
        let terms = TaskTerms::extract(
            "error at src/parser.rs:120:9\n  File \"/usr/lib/python3/site-packages/flask/app.py\", line 1515, in wsgi_app\n\
             at org.apache.kafka.clients.NetworkClient.poll(NetworkClient.java:563)\nsee utils.go#L40 and e.g. this",
        );
        assert_eq!(
            terms.locations,
            [
                ("src/parser.rs".to_string(), 120),
                ("/usr/lib/python3/site-packages/flask/app.py".to_string(), 1515),
                ("NetworkClient.java".to_string(), 563),
                ("utils.go".to_string(), 40)
            ]
        );
        assert!(terms.paths.contains(&"NetworkClient.java".to_string()));
        assert_eq!(terms.modules, ["org/apache/kafka/clients/NetworkClient/poll"]);
    }

    #[test]
    fn dotted_names_become_module_paths() {
        let terms =
            TaskTerms::extract("Calling requests.adapters.HTTPAdapter.send() fails; Foo.bar() and e.g. x.y are prose");
        assert_eq!(terms.modules, ["requests/adapters/HTTPAdapter/send"]);
    }

    #[test]
    fn bulleted_and_numbered_items_and_paragraphs_are_segments() {
        let task = "Rework the fetch session cache\n\n* Evict idle sessions from the session cache\n\
                    * Count evictions in the broker metrics registry\n- ok\n2) Document the new fetch configuration";
        let parts = super::segments(task);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert!(parts[0].starts_with("Rework the fetch session cache"), "{parts:?}");
        assert!(parts[1].trim_start().starts_with("Evict idle sessions"), "{parts:?}");
        // "- ok" alone is too short to stand on its own: it joins the next item.
        assert!(parts[2].contains("broker metrics registry") && parts[3].contains("ok"), "{parts:?}");
        assert!(parts[3].contains("Document the new fetch configuration"), "{parts:?}");
        assert!(super::segments("One line that says what changed in the parser").is_empty());
        assert!(super::segments("Title of it all\n\nbody").is_empty(), "a part of one word is no segment");
        // Many short lines: one pass, and no more parts than a pack searches.
        let long = "ab\n\n".repeat(20_000) + &"- alpha beta gamma delta\n".repeat(5_000);
        assert_eq!(super::segments(&long).len(), 8);
    }

    #[test]
    fn file_name_keys_meet_the_names_of_files_they_echo() {
        let keys = super::file_name_keys("Fix `--setup-show` with fixtures in setuponly; see HTTPAdapter");
        for key in ["setupshow", "setup", "show", "fixtures", "setuponly", "httpadapter"] {
            assert!(keys.contains(&key.to_string()), "{key} missing from {keys:?}");
        }
        assert!(!keys.iter().any(|k| k == "with" || k == "see"), "{keys:?}");
        assert_eq!(super::file_name_key("src/_pytest/setuponly.py"), "setuponly");
        assert_eq!(super::file_name_key("testing/test_setuponly.py"), "setuponly");
        assert_eq!(super::file_name_key("src/main/java/org/HttpAdapterTest.java"), "httpadapter");
        assert_eq!(super::file_name_key("lib/http_adapter.d.ts"), "httpadapter");
        assert_eq!(super::file_name_key("test.py"), "test", "a name that is only a marker stays");
    }

    #[test]
    fn retrieval_text_drops_trailers_addresses_and_links() {
        let text = super::retrieval_text(
            "KAFKA-1: Fix the fetcher (#12)  Reviewers: Jun Rao <junrao@gmail.com>, Colin <c@apache.org>\n\nSee https://issues.apache.org/x and use `@Override`.\nSigned-off-by: A B <a@b.org>\nAuthor: someone",
        );
        assert!(text.contains("KAFKA-1: Fix the fetcher (#12)"), "{text}");
        assert!(text.contains("See") && text.contains("`@Override`."), "{text}");
        for gone in ["Jun", "junrao", "gmail", "apache.org", "https", "Signed", "someone"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
    }
}
