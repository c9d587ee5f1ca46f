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
    /// Members named with their owner (`Definition::visibility`, `Session.send()`, `httpx.SetErrorHandler`,
    /// `Foo#bar`) as `(owner, member)`: the owner picks, among the many definitions a common member name has,
    /// the ones the task means.
    pub qualified: Vec<(String, String)>,
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
                // Python tracebacks (`File "app.py", line 42`) and prose (`app.py at line 42`, `format.h - line 7`).
                if line.is_none() {
                    line = line_named_after(&tokens[position + 1..]);
                }
                if let Some(line) = line.filter(|_| has_extension) {
                    if terms.locations.len() < 50 && !terms.locations.iter().any(|(p, l)| p == path && *l == line) {
                        terms.locations.push((path.to_string(), line));
                    }
                }
            } else if let Some(module) = dotted_module(token) {
                push(&mut terms.modules, &module);
            }
            if !has_extension && terms.qualified.len() < MAX_QUALIFIED {
                if let Some(pair) = qualified_member(token) {
                    if !terms.qualified.contains(&pair) {
                        terms.qualified.push(pair);
                    }
                }
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

/// The part of a task that retrieval should read: HTML comments (`<!-- … -->` of issue templates), commit trailers
/// (`Reviewers: …`, `Signed-off-by: …`), e-mail addresses, URLs and dumps of environment variables (three or more
/// `NAME=value` lines in a row, as `env` or `go env` print them) are dropped (their words match unrelated files:
/// template instructions, author tags, licence headers, the scripts that print the environment), the rest is
/// kept as written.
pub fn retrieval_text(task: &str) -> String {
    let task = without_html_comments(task);
    let lines: Vec<&str> = task.lines().collect();
    let in_dump = environment_dump_lines(&lines);
    let mut kept = String::with_capacity(task.len());
    for (&line, _) in lines.iter().zip(&in_dump).filter(|(_, dumped)| !**dumped) {
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

/// The line named by the tokens right after a path: `line 42` (tracebacks, `file x.c, line 42`) or `lines 42-50`
/// (the first), after at most one connecting word (`at line 42`, `- line 42`, `on line 42`), so prose that
/// points at a line counts as well.
fn line_named_after(following: &[&str]) -> Option<u32> {
    const CONNECTORS: &[&str] = &["-", "\u{2013}", "\u{2014}", "at", "on", "near", "around", "in"];
    let skip = usize::from(following.first().is_some_and(|t| CONNECTORS.contains(&t.to_ascii_lowercase().as_str())));
    let word = following.get(skip)?.to_ascii_lowercase();
    if word != "line" && word != "lines" {
        return None;
    }
    let number = following.get(skip + 1)?;
    let digits = &number[..number.find(|c: char| !c.is_ascii_digit()).unwrap_or(number.len())];
    digits.parse().ok()
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

/// Conventional-commit types and issue-title labels (`Bug: …`, `[Question] …`): the kind of a change or report,
/// not where it is.
const CHANGE_TYPES: &[&str] = &[
    "fix",
    "feat",
    "feature",
    "chore",
    "docs",
    "doc",
    "refactor",
    "perf",
    "test",
    "tests",
    "build",
    "ci",
    "style",
    "hotfix",
    "minor",
    "trivial",
    "internal",
    "cleanup",
    "revert",
    "bugfix",
    "release",
    "deps",
    "wip",
    "breaking",
    "security",
    "bump",
    "misc",
    "bug",
    "bugs",
    "regression",
    "question",
    "proposal",
    "enhancement",
    "suggestion",
    "request",
    "idea",
    "discussion",
    "typo",
    "issue",
];

/// Where a commit subject says its change is: the scope of `fix(ext/http): …`, `red-knot: …` or `[xds] …` at the
/// start of the task's first line, split at `/`, `,` and spaces, lower-cased with `-` written `_`, change types
/// (`fix`, `feat`) and words under two characters left out, at most four. Compare with the directories of a path
/// ([`in_commit_scope`]).
pub fn commit_scope(task: &str) -> Vec<String> {
    let line = task.trim_start().lines().next().unwrap_or_default();
    let scope = if let Some(rest) = line.strip_prefix('[') {
        rest.split_once(']').map(|(scope, _)| scope)
    } else {
        line.split_once(": ").map(|(head, _)| head).filter(|head| head.len() <= 60).map(|head| {
            let head = head.trim_end_matches('!');
            match head.split_once('(') {
                Some((kind, scope)) => {
                    let scope = scope.trim_end_matches(')');
                    if scope.is_empty() {
                        kind
                    } else {
                        scope
                    }
                }
                // A head of several words is prose ("Fixes in the parser: …"), not a scope.
                None if head.contains(' ') => "",
                None => head,
            }
        })
    };
    let Some(scope) = scope.map(|s| s.trim_matches(|c| matches!(c, '`' | '"' | '\''))) else { return Vec::new() };
    let valid = scope.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | ',' | ' '));
    if !valid {
        return Vec::new();
    }
    let mut keys: Vec<String> = Vec::new();
    for part in scope.split(['/', ',', ' ']) {
        let key = part.trim_matches('.').to_lowercase().replace('-', "_");
        if key.len() >= 2 && !CHANGE_TYPES.contains(&key.as_str()) && !keys.contains(&key) && keys.len() < 4 {
            keys.push(key);
        }
    }
    keys
}

/// Whether a directory of `path` is one of the `scope` keys ([`commit_scope`]), whole or as a `-`/`_` part
/// (`core` in `tracing-core/`, `red_knot` in `crates/red_knot/`).
pub fn in_commit_scope(path: &str, scope: &[String]) -> bool {
    let Some((dirs, _)) = path.rsplit_once('/') else { return false };
    dirs.split('/').any(|dir| {
        let dir = dir.to_lowercase().replace('-', "_");
        scope.iter().any(|key| dir == *key || (!key.contains('_') && dir.split('_').any(|part| part == key)))
    })
}

/// Most `(owner, member)` pairs kept from one task.
const MAX_QUALIFIED: usize = 50;

/// Receivers that name no type: `self.run()` says nothing about which `run`.
const RECEIVERS: &[&str] = &["self", "this", "super", "cls", "Self"];

/// The last two parts of `Owner::member`, `Owner.member` or `Owner#member` (trailing `()` and `:` taken off by
/// the caller's split): both identifiers of two or more characters, the owner no receiver keyword, and not a
/// version number or abbreviation (`1.70`, `e.g`).
fn qualified_member(token: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = token.split(['.', '#']).flat_map(|p| p.split("::")).collect();
    let [.., owner, member] = parts.as_slice() else { return None };
    let identifier = |p: &str| {
        p.len() >= 2
            && p.len() <= 80
            && p.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    (identifier(owner) && identifier(member) && !RECEIVERS.contains(owner))
        .then(|| (owner.to_string(), member.to_string()))
}

/// Fewest `NAME=value` lines in a row that make an environment dump (one such line is usually a command's setting:
/// `RUST_LOG=debug cargo run`).
const MIN_DUMP_LINES: usize = 3;

/// For each line, whether it belongs to a run of at least [`MIN_DUMP_LINES`] environment assignments.
fn environment_dump_lines(lines: &[&str]) -> Vec<bool> {
    let assignment = |line: &str| {
        let line = line.trim();
        let line = line.strip_prefix("set ").or_else(|| line.strip_prefix("export ")).unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else { return false };
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
            && !value.contains(char::is_whitespace)
    };
    let mut dumped = vec![false; lines.len()];
    let mut start = 0;
    while start < lines.len() {
        let run = lines[start..].iter().take_while(|l| assignment(l)).count();
        if run >= MIN_DUMP_LINES {
            dumped[start..start + run].iter_mut().for_each(|d| *d = true);
        }
        start += run.max(1);
    }
    dumped
}

/// The task without HTML comments: issue templates keep their instructions in `<!-- … -->`, which the rendered
/// issue hides and whose words ("please run the script", "steps to reproduce") match unrelated files. An
/// unclosed comment runs to the end, as a browser reads it.
fn without_html_comments(task: &str) -> std::borrow::Cow<'_, str> {
    if !task.contains("<!--") {
        return std::borrow::Cow::Borrowed(task);
    }
    let mut kept = String::with_capacity(task.len());
    let mut rest = task;
    while let Some(start) = rest.find("<!--") {
        kept.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => rest = "",
        }
        kept.push(' ');
    }
    kept.push_str(rest);
    std::borrow::Cow::Owned(kept)
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
    fn finds_lines_that_prose_points_at() {
        let terms = TaskTerms::extract(
            "The problem is in `jsonrep.py` at line 227. It is private (fmt/format.h - line 4055.\n\
             Assertion failed in jv_dump_term, file jv_print.c, line 221. See main.c on line 3, util.c line 9: ok\n\
             and parse.c lines 40-52.",
        );
        assert_eq!(
            terms.locations,
            [
                ("jsonrep.py".to_string(), 227),
                ("fmt/format.h".to_string(), 4055),
                ("jv_print.c".to_string(), 221),
                ("main.c".to_string(), 3),
                ("util.c".to_string(), 9),
                ("parse.c".to_string(), 40)
            ]
        );
        // A line that is not next to the path, or a path followed by other words, names no location.
        let loose = TaskTerms::extract(
            "in fmt/std.h it calls set_debug_format on line 170; app.py has many lines 3; a.c line x",
        );
        assert!(loose.locations.is_empty(), "{:?}", loose.locations);
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

    #[test]
    fn members_named_with_their_owner_are_paired() {
        let terms = TaskTerms::extract(
            "Definition::visibility is slow; Session.send() and `Foo#bar` too, unlike self.run() in v1.70 (e.g. \
             app.py) or Vec::<u8>::new, see #1674.",
        );
        let pairs: Vec<(&str, &str)> = terms.qualified.iter().map(|(o, m)| (o.as_str(), m.as_str())).collect();
        assert_eq!(pairs, [("Definition", "visibility"), ("Session", "send"), ("Foo", "bar")]);
    }

    #[test]
    fn environment_dumps_are_not_retrieval_text_but_a_single_setting_is() {
        let task = "Crash on start\n**$ env**\nHOME=/home/ana\nPAGER=most\nLC_TIME=pl_PL.UTF-8\n\nset GOARCH=amd64\nset GOOS=linux\nset GOPATH=C:\\go\n\nRUST_LOG=debug cargo run\nPAGER=less\n";
        let text = super::retrieval_text(task);
        for dumped in ["HOME", "PAGER=most", "LC_TIME", "GOARCH", "GOPATH"] {
            assert!(!text.contains(dumped), "{dumped} kept: {text:?}");
        }
        for kept in ["Crash on start", "**$ env**", "RUST_LOG=debug cargo run", "PAGER=less"] {
            assert!(text.contains(kept), "{kept} dropped: {text:?}");
        }
    }

    #[test]
    fn html_comments_of_issue_templates_are_not_retrieval_text() {
        let task = "Infinite loop <!-- Please run the script at diagnostics/info.sh -->when input is output\n\
                    <!-- an unclosed comment runs to the end\n info.sh";
        let text = super::retrieval_text(task);
        assert!(text.contains("Infinite loop") && text.contains("when input is output"), "{text}");
        for gone in ["script", "diagnostics", "unclosed", "info.sh"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
    }

    #[test]
    fn a_commit_subject_names_its_scope_and_paths_are_matched_by_directory() {
        use super::{commit_scope, in_commit_scope};
        assert_eq!(commit_scope("cleanup(ext/http): simpler http write ops (#14552)"), ["ext", "http"]);
        assert_eq!(commit_scope("[red-knot] extract helper functions"), ["red_knot"]);
        assert_eq!(commit_scope("core: prepare to release 0.1.2"), ["core"]);
        assert_eq!(commit_scope("fix!: Make ArgAction::Set the default"), Vec::<String>::new());
        assert_eq!(commit_scope("MINOR: Fixed way how logging methods are used"), Vec::<String>::new());
        assert_eq!(commit_scope("[BUG] Route print info"), Vec::<String>::new());
        assert_eq!(commit_scope("`flake8-pyi`: add PYI041"), ["flake8_pyi"]);
        assert!(commit_scope("Improve code structure\n\nxds: later lines do not count").is_empty());
        assert!(commit_scope("Fixes in the parser: prose, not a scope").is_empty());
        let scope = commit_scope("core: prepare to release");
        assert!(in_commit_scope("tracing-core/src/lib.rs", &scope));
        assert!(!in_commit_scope("tracing/src/core.rs", &scope));
        assert!(in_commit_scope("crates/red_knot/src/types/infer.rs", &commit_scope("[red-knot] x")));
        assert!(!in_commit_scope("crates/red_knot_python/src/lib.rs", &commit_scope("[red-knot] x")));
    }
}
