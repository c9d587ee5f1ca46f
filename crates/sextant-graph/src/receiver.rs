//! What a method call's receiver is, as far as one file's facts tell: `self`, a parameter whose declared type the
//! enclosing signature gives, or a type named directly (`Parser::new`). And the method names so common in standard
//! libraries (`len`, `push`, `unwrap` …) that a receiver of unknown type says nothing about which `len` is meant.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Method names that standard libraries define on their collections, strings, options, results, iterators,
/// streams and objects. A call of one of these on a receiver of unknown type is most likely the library's.
#[rustfmt::skip]
const COMMON_METHODS: &[&str] = &[
    // Rust: collections, strings, Option/Result, iterators, conversions, io, sync, paths.
    "len", "is_empty", "iter", "iter_mut", "into_iter", "push", "push_str", "push_back", "push_front", "pop",
    "pop_back", "pop_front", "get", "get_mut", "get_or_insert_with", "insert", "remove", "contains", "contains_key",
    "new", "default", "clone", "cloned", "copied", "map", "map_err", "map_or", "map_or_else", "and_then", "or_else",
    "unwrap", "unwrap_or", "unwrap_or_else", "unwrap_or_default", "expect", "ok", "err", "ok_or", "ok_or_else",
    "is_some", "is_none", "is_ok", "is_err", "as_ref", "as_mut", "as_deref", "take", "replace", "to_string",
    "to_owned", "into", "from", "try_from", "try_into", "as_str", "as_bytes", "as_slice", "as_path", "borrow",
    "borrow_mut", "extend", "clear", "sort", "sort_by", "sort_by_key", "sort_unstable", "sort_unstable_by", "dedup",
    "retain", "drain", "truncate", "reserve", "capacity", "with_capacity", "keys", "values", "values_mut", "entry",
    "or_insert", "or_insert_with", "or_default", "next", "peek", "collect", "filter", "filter_map", "find",
    "find_map", "position", "any", "all", "fold", "for_each", "enumerate", "zip", "chain", "rev", "skip", "step_by",
    "flatten", "flat_map", "count", "sum", "min", "max", "min_by_key", "max_by_key", "first", "last", "nth",
    "join", "split", "splitn", "rsplit", "split_once", "rsplit_once", "split_whitespace", "trim", "trim_start",
    "trim_end", "starts_with", "ends_with", "strip_prefix", "strip_suffix", "chars", "bytes", "lines", "parse",
    "to_lowercase", "to_uppercase", "to_vec", "concat", "repeat", "format", "fmt", "eq", "ne", "cmp",
    "partial_cmp", "hash", "drop", "deref", "deref_mut", "write", "write_all", "read", "read_to_string",
    "read_to_end", "flush", "close", "open", "lock", "read_lock", "write_lock", "send", "recv", "try_recv", "wait",
    "display", "exists", "is_file", "is_dir", "file_name", "extension", "parent", "to_path_buf",
    "matches", "set", "swap", "binary_search", "windows", "chunks", "last_mut", "first_mut", "get_unchecked",
    "append", "resize", "fill", "abs", "pow", "sqrt", "clamp", "saturating_sub", "saturating_add", "checked_add",
    "checked_sub", "wrapping_add",
    // Java, Kotlin, Scala, C#: objects, collections, streams, strings.
    "size", "length", "isEmpty", "toString", "equals", "hashCode", "compareTo", "getClass", "add", "addAll", "put",
    "putAll", "containsKey", "containsValue", "forEach", "stream", "toList", "toArray", "keySet", "entrySet",
    "getOrDefault", "putIfAbsent", "computeIfAbsent", "iterator", "hasNext", "substring", "indexOf", "charAt",
    "toUpperCase", "toLowerCase", "startsWith", "endsWith", "valueOf", "orElse", "isPresent", "ifPresent",
    "Add", "Remove", "Contains", "ContainsKey", "ToString", "Equals", "GetHashCode", "Count", "ToList", "ToArray",
    "Dispose", "getOrElse", "foreach", "mkString", "headOption", "isDefined", "nonEmpty", "toMap", "toSet",
    // JavaScript / TypeScript.
    "slice", "splice", "shift", "unshift", "includes", "has", "delete", "then", "catch", "finally", "resolve",
    "reject", "entries", "reduce", "some", "every", "findIndex", "toFixed", "padStart", "padEnd", "replaceAll",
    "match", "test", "exec", "apply", "call", "bind", "emit", "on", "off", "once", "addEventListener",
    "removeEventListener", "querySelector", "json", "text", "stringify",
    // Python.
    "items", "update", "setdefault", "copy", "decode", "encode", "lower", "upper", "strip", "lstrip", "rstrip",
    "startswith", "endswith", "readline", "readlines", "writelines", "format_map", "popitem", "discard",
    "__init__", "__str__", "__repr__", "__eq__", "__hash__", "__len__", "__iter__", "__enter__", "__exit__",
    // Go: fmt, io, strings, sync, errors.
    "Error", "String", "Close", "Write", "Read", "Len", "Lock", "Unlock", "RLock", "RUnlock", "Done", "Wait",
    "Get", "Set", "Put", "Delete", "Load", "Store", "Reset", "Bytes",
];

/// Whether `name` is a method of the standard libraries that user types are likely to share.
pub(crate) fn is_common_method(name: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_METHODS.iter().copied().collect()).contains(name)
}

/// Pointer-like wrappers whose methods are mostly reached through the value inside (`Arc<Index>` → `Index`).
const WRAPPERS: &[&str] = &[
    "Box",
    "Rc",
    "Arc",
    "Ref",
    "RefMut",
    "MutexGuard",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "Pin",
    "Cow",
    "Optional",
    "Annotated",
];

/// Whether parameters are written `name Type` (Go) rather than `Type name` (C family) or `name: Type`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamStyle {
    /// `name: Type` (Rust, TypeScript, Python, Scala, Kotlin, Swift); a parameter without a colon has no type.
    Colon,
    /// `Type name` (Java, C, C++, C#, PHP).
    TypeFirst,
    /// `name Type`, with `a, b Type` sharing one (Go).
    NameFirst,
}

impl ParamStyle {
    pub(crate) fn of_language(name: &str) -> Option<ParamStyle> {
        Some(match name {
            "rust" | "typescript" | "tsx" | "python" | "scala" | "kotlin" | "swift" => ParamStyle::Colon,
            "java" | "groovy" | "c" | "cpp" | "csharp" | "php" => ParamStyle::TypeFirst,
            "go" => ParamStyle::NameFirst,
            _ => return None,
        })
    }
}

/// The declared type of parameter `param` in `signature` (`fn words(p: &Parser)`, `func (s *Server) Run()`,
/// `void m(Foo f)`), as the text of the type.
pub(crate) fn param_type<'s>(signature: &'s str, param: &str, style: ParamStyle) -> Option<&'s str> {
    for group in paren_groups(signature) {
        let params = split_commas(group);
        for (i, raw) in params.iter().enumerate() {
            let text = strip_annotations(raw);
            match style {
                ParamStyle::Colon => {
                    let Some(colon) = top_level_colon(text) else { continue };
                    if last_word(&text[..colon]) == Some(param) {
                        let ty = &text[colon + 1..];
                        return Some(ty.split('=').next().unwrap_or(ty).trim());
                    }
                }
                ParamStyle::TypeFirst => {
                    let text = text.split('=').next().unwrap_or(text).trim();
                    let Some((ty, name)) = text.rsplit_once(|c: char| c.is_whitespace() || c == '*' || c == '&') else {
                        continue;
                    };
                    if name.trim_end_matches("[]") == param && !ty.trim().is_empty() {
                        return Some(ty.trim());
                    }
                }
                ParamStyle::NameFirst => {
                    let text = text.trim();
                    let (name, ty) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
                    if name != param {
                        continue;
                    }
                    if !ty.trim().is_empty() {
                        return Some(ty.trim());
                    }
                    // `a, b int`: the type comes with a later name.
                    return params[i + 1..].iter().find_map(|p| {
                        let p = p.trim();
                        p.split_once(char::is_whitespace).map(|(_, ty)| ty.trim()).filter(|t| !t.is_empty())
                    });
                }
            }
        }
    }
    None
}

/// The name of the type a type expression is about: `&'a mut crate::x::Parser<T>` → `Parser`, `Arc<Index>` →
/// `Index`, `*Server` → `Server`, `Optional[Foo]` → `Foo`, `Foo | null` → `Foo`.
pub(crate) fn type_head(ty: &str) -> Option<&str> {
    let mut ty = ty.trim();
    for _ in 0..8 {
        let before = ty;
        for prefix in ["&", "*", "[]", "...", "mut ", "dyn ", "impl ", "const ", "final ", "ref ", "in ", "out ", "?"] {
            ty = ty.strip_prefix(prefix).unwrap_or(ty).trim_start();
        }
        if ty.starts_with('\'') {
            ty = ty.split_once(char::is_whitespace).map_or("", |(_, rest)| rest).trim_start();
        }
        if ty == before {
            break;
        }
    }
    let end =
        ty.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '$' | '\\'))).unwrap_or(ty.len());
    let path = &ty[..end];
    let head = path.rsplit(['.', ':', '\\']).next().unwrap_or(path);
    if head.is_empty() || !head.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return None;
    }
    if WRAPPERS.contains(&head) {
        let inner = ty[end..].trim_start();
        if let Some(args) = inner.strip_prefix(['<', '[']) {
            return type_head(split_commas(args).first().copied().unwrap_or(args));
        }
    }
    Some(head)
}

/// The contents of each top-level parenthesised group.
fn paren_groups(signature: &str) -> Vec<&str> {
    let mut groups = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in signature.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    start = i + 1;
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    groups.push(&signature[start..i]);
                }
            }
            _ => {}
        }
    }
    groups
}

/// Splits on commas outside brackets of any kind (`->` and `=>` are not brackets).
fn split_commas(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            '>' if matches!(previous, '-' | '=') => {}
            ')' | ']' | '}' | '>' => depth = (depth - 1).max(0),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        previous = c;
    }
    parts.push(&text[start..]);
    parts
}

/// A colon that separates a name from its type (not `::`).
fn top_level_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b':' && bytes.get(i + 1) != Some(&b':') && (i == 0 || bytes[i - 1] != b':'))
}

/// A parameter without attributes and annotations (`#[allow(x)] a: T`, `@NonNull Foo f`).
fn strip_annotations(text: &str) -> &str {
    let mut text = text.trim();
    loop {
        if text.starts_with("#[") {
            match text.find(']') {
                Some(end) => text = text[end + 1..].trim_start(),
                None => return text,
            }
        } else if text.starts_with('@') {
            text = text.split_once(char::is_whitespace).map_or("", |(_, rest)| rest).trim_start();
        } else {
            return text;
        }
    }
}

/// The last identifier of a parameter's name part (`mut x` → `x`, `private readonly svc` → `svc`, `x?` → `x`).
fn last_word(text: &str) -> Option<&str> {
    text.trim()
        .trim_end_matches('?')
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .find(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_types() {
        let rust = "fn go(&mut self, other: &'a mut crate::x::Bar<u8>, cb: impl Fn(u32) -> u8, arc: Arc<Baz>)";
        assert_eq!(param_type(rust, "other", ParamStyle::Colon).and_then(type_head), Some("Bar"));
        assert_eq!(param_type(rust, "cb", ParamStyle::Colon).and_then(type_head), Some("Fn"));
        assert_eq!(param_type(rust, "arc", ParamStyle::Colon).and_then(type_head), Some("Baz"));
        assert_eq!(param_type(rust, "self", ParamStyle::Colon), None);
        assert_eq!(param_type("fn words(p: &Parser) -> usize", "p", ParamStyle::Colon), Some("&Parser"));

        let go = "func (s *Server) Run(a, b int, c *pkg.Thing) error";
        assert_eq!(param_type(go, "s", ParamStyle::NameFirst).and_then(type_head), Some("Server"));
        assert_eq!(param_type(go, "a", ParamStyle::NameFirst), Some("int"));
        assert_eq!(param_type(go, "c", ParamStyle::NameFirst).and_then(type_head), Some("Thing"));

        let java = "void m(@NonNull final Foo f, List<Bar> list, int[] xs)";
        assert_eq!(param_type(java, "f", ParamStyle::TypeFirst).and_then(type_head), Some("Foo"));
        assert_eq!(param_type(java, "list", ParamStyle::TypeFirst).and_then(type_head), Some("List"));

        let py = "def m(self, x: Optional[Foo] = None, y)";
        assert_eq!(param_type(py, "x", ParamStyle::Colon).and_then(type_head), Some("Foo"));
        assert_eq!(param_type(py, "y", ParamStyle::Colon), None);
        let ts = "constructor(private readonly svc: UserService, opts?: Options | null)";
        assert_eq!(param_type(ts, "svc", ParamStyle::Colon).and_then(type_head), Some("UserService"));
        assert_eq!(param_type(ts, "opts", ParamStyle::Colon).and_then(type_head), Some("Options"));
    }

    #[test]
    fn common_names() {
        assert!(is_common_method("len") && is_common_method("is_empty") && is_common_method("unwrap"));
        assert!(!is_common_method("build_pack_with") && !is_common_method("truncateTo"));
    }
}
