//! Fixture tests: every language's `tests/fixtures/<lang>/input.*` is analysed and rendered to text, compared with
//! `expected.txt` beside it (set `UPDATE_EXPECT=1` to rewrite after a reviewed change), and checked against a few
//! facts stated here by hand so a wrong snapshot cannot be blessed silently.

use std::path::{Path, PathBuf};

use sextant_syntax::{analyze, ChunkLimits, FileFacts, Language, RefKind, SymbolKind};

fn fixture(dir: &str) -> (PathBuf, String) {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let input = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == "input"))
        .unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    (base, text)
}

fn render(facts: &FileFacts) -> String {
    let mut out = String::new();
    out.push_str("symbols:\n");
    for s in &facts.symbols {
        let parent = s.parent.map(|p| facts.symbols[p as usize].name.clone()).unwrap_or_else(|| "-".into());
        let doc = s.doc.as_deref().map(|d| d.lines().next().unwrap_or("")).unwrap_or("");
        out.push_str(&format!(
            "  {} {} lines {}-{} parent={} sig=`{}` doc=`{}`\n",
            s.kind.as_str(),
            s.qualified_name,
            s.span.start_line,
            s.span.end_line,
            parent,
            s.signature,
            doc
        ));
    }
    out.push_str("imports:\n");
    for i in &facts.imports {
        out.push_str(&format!("  {} names={:?} line {}\n", i.path, i.names, i.line));
    }
    out.push_str("calls:\n");
    for r in facts.references.iter().filter(|r| r.kind == RefKind::Call) {
        let from = r.enclosing.map(|e| facts.symbols[e as usize].qualified_name.as_str()).unwrap_or("<file>");
        out.push_str(&format!(
            "  {from} -> {}{} line {}\n",
            r.qualifier.as_deref().map(|q| format!("{q}.")).unwrap_or_default(),
            r.name,
            r.line
        ));
    }
    let others = facts.references.iter().filter(|r| r.kind != RefKind::Call).count();
    out.push_str(&format!("other references: {others}\n"));
    out.push_str("chunks:\n");
    for c in &facts.chunks {
        out.push_str(&format!(
            "  {}-{} tokens={} in=`{}` defines={:?}\n",
            c.span.start_line, c.span.end_line, c.tokens, c.symbol_path, c.symbols
        ));
    }
    out.push_str(&format!("lines={} errors={}\n", facts.lines, facts.has_errors));
    out
}

/// Analyses a fixture, checks the snapshot, and returns the facts for hand-written assertions.
fn check(dir: &str, language: Language) -> FileFacts {
    let (base, text) = fixture(dir);
    let facts = analyze(language, &text, ChunkLimits { max_tokens: 200, min_tokens: 30 }).unwrap();
    let rendered = render(&facts);
    let expected_path = base.join("expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, &rendered).unwrap();
    } else {
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        assert_eq!(
            rendered,
            expected,
            "{dir}: output differs from {}; rerun with UPDATE_EXPECT=1 after review",
            expected_path.display()
        );
    }
    assert!(!facts.has_errors, "{dir}: fixture should parse cleanly");
    check_chunks_cover_symbols(dir, &facts, &text);
    facts
}

fn check_chunks_cover_symbols(dir: &str, facts: &FileFacts, text: &str) {
    for pair in facts.chunks.windows(2) {
        assert!(pair[0].span.end_line < pair[1].span.start_line, "{dir}: chunks overlap: {pair:?}");
    }
    for chunk in &facts.chunks {
        assert!(
            text.is_char_boundary(chunk.span.start_byte as usize)
                && text.is_char_boundary(chunk.span.end_byte as usize)
        );
        assert!(chunk.tokens > 0);
    }
    for symbol in &facts.symbols {
        let covered = facts
            .chunks
            .iter()
            .any(|c| c.span.start_line <= symbol.span.start_line && c.span.end_line >= symbol.span.start_line);
        assert!(covered, "{dir}: no chunk covers the start of {}", symbol.qualified_name);
    }
}

fn has_symbol(facts: &FileFacts, qualified: &str, kind: SymbolKind) -> bool {
    facts.symbols.iter().any(|s| s.qualified_name == qualified && s.kind == kind)
}

fn assert_symbols(dir: &str, facts: &FileFacts, expected: &[(&str, SymbolKind)]) {
    for (name, kind) in expected {
        assert!(
            has_symbol(facts, name, *kind),
            "{dir}: expected {} {name}; got {:?}",
            kind.as_str(),
            facts.symbols.iter().map(|s| format!("{} {}", s.kind.as_str(), s.qualified_name)).collect::<Vec<_>>()
        );
    }
}

fn assert_call(dir: &str, facts: &FileFacts, from: &str, to: &str) {
    let found = facts.references.iter().any(|r| {
        r.kind == RefKind::Call
            && r.name == to
            && r.enclosing.is_some_and(|e| facts.symbols[e as usize].qualified_name == from)
    });
    assert!(found, "{dir}: expected a call {from} -> {to}");
}

fn assert_import(dir: &str, facts: &FileFacts, path: &str) {
    assert!(
        facts.imports.iter().any(|i| i.path == path),
        "{dir}: expected import {path}; got {:?}",
        facts.imports.iter().map(|i| &i.path).collect::<Vec<_>>()
    );
}

fn doc_of<'a>(facts: &'a FileFacts, qualified: &str) -> &'a str {
    facts.symbols.iter().find(|s| s.qualified_name == qualified).and_then(|s| s.doc.as_deref()).unwrap_or("")
}

use SymbolKind::*;

#[test]
fn rust() {
    let f = check("rust", Language::Rust);
    assert_symbols(
        "rust",
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("Category", Enum),
            ("Priced", Trait),
            ("Priced::price", Method),
            ("pricing", Module),
            ("pricing::discount", Function),
            ("Inventory", Struct),
            ("Inventory::add_item", Method),
            ("Inventory::total", Method),
            ("validate_name", Function),
            ("price_of", Function),
        ],
    );
    assert_call("rust", &f, "Inventory::add_item", "validate_name");
    assert_call("rust", &f, "Inventory::total", "price_of");
    assert_call("rust", &f, "price_of", "discount");
    assert_import("rust", &f, "std::collections::HashMap");
    assert_eq!(doc_of(&f, "Inventory"), "Inventory keeps item counts keyed by name.");
    let sig = &f.symbols.iter().find(|s| s.name == "price_of").unwrap().signature;
    assert_eq!(sig, "fn price_of(name: &str) -> u32");
}

#[test]
fn python() {
    let f = check("python", Language::Python);
    assert_symbols(
        "python",
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("Inventory", Class),
            ("Inventory.add_item", Method),
            ("Inventory.total", Method),
            ("validate_name", Function),
            ("price_of", Function),
        ],
    );
    assert_call("python", &f, "Inventory.add_item", "validate_name");
    assert_call("python", &f, "Inventory.total", "price_of");
    assert_import("python", &f, "os");
    assert_import("python", &f, "json");
    assert!(!doc_of(&f, "Inventory").is_empty(), "class docstring");
}

fn check_js_like(dir: &str, language: Language) -> FileFacts {
    let f = check(dir, language);
    assert_symbols(
        dir,
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("formatPrice", Function),
            ("validateName", Function),
            ("priceOf", Function),
            ("Inventory", Class),
            ("Inventory.addItem", Method),
            ("Inventory.total", Method),
        ],
    );
    assert_call(dir, &f, "Inventory.addItem", "validateName");
    assert_call(dir, &f, "Inventory.total", "priceOf");
    assert_import(dir, &f, "./storage");
    assert!(f.references.iter().any(|r| r.kind == RefKind::Call && r.name == "Inventory"), "{dir}: new Inventory()");
    f
}

#[test]
fn javascript() {
    check_js_like("javascript", Language::JavaScript);
}

#[test]
fn typescript() {
    let f = check_js_like("typescript", Language::TypeScript);
    assert_symbols(
        "typescript",
        &f,
        &[("Item", Interface), ("Sku", TypeAlias), ("Category", Enum), ("Pricing", Module)],
    );
}

#[test]
fn tsx() {
    let f = check_js_like("tsx", Language::Tsx);
    assert_symbols("tsx", &f, &[("ItemRow", Function), ("ItemRowProps", Interface)]);
}

#[test]
fn go() {
    let f = check("go", Language::Go);
    assert_symbols(
        "go",
        &f,
        &[
            ("MaxItems", Constant),
            ("Priced", Interface),
            ("Inventory", Struct),
            ("Inventory.AddItem", Method),
            ("Inventory.Total", Method),
            ("validateName", Function),
            ("priceOf", Function),
        ],
    );
    assert_call("go", &f, "Inventory.AddItem", "validateName");
    assert_call("go", &f, "Inventory.Total", "priceOf");
    assert_import("go", &f, "fmt");
    assert!(doc_of(&f, "Inventory").starts_with("Inventory"));
}

#[test]
fn java() {
    let f = check("java", Language::Java);
    assert_symbols(
        "java",
        &f,
        &[
            ("Priced", Interface),
            ("Category", Enum),
            ("Inventory", Class),
            ("Inventory.addItem", Method),
            ("Inventory.total", Method),
            ("Inventory.validateName", Method),
        ],
    );
    assert_call("java", &f, "Inventory.addItem", "validateName");
    assert_import("java", &f, "java.util.HashMap");
    assert!(!doc_of(&f, "Inventory").is_empty());
}

#[test]
fn c() {
    let f = check("c", Language::C);
    assert_symbols(
        "c",
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("category", Enum),
            ("inventory", Struct),
            ("inventory_t", TypeAlias),
            ("validate_name", Function),
            ("price_of", Function),
            ("add_item", Function),
        ],
    );
    assert_call("c", &f, "add_item", "validate_name");
    assert_import("c", &f, "stdio.h");
    assert_import("c", &f, "inventory.h");
}

#[test]
fn cpp() {
    let f = check("cpp", Language::Cpp);
    assert_symbols(
        "cpp",
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("inventory", Module),
            ("inventory::Category", Enum),
            ("inventory::Inventory", Class),
            ("inventory::Inventory::add_item", Method),
            ("inventory::Inventory::total", Method),
            ("inventory::validate_name", Function),
        ],
    );
    assert_call("cpp", &f, "inventory::Inventory::add_item", "validate_name");
    assert_call("cpp", &f, "inventory::Inventory::total", "price_of");
    assert_import("cpp", &f, "vector");
}

#[test]
fn csharp() {
    let f = check("csharp", Language::CSharp);
    assert_symbols(
        "csharp",
        &f,
        &[
            ("Inventory", Module),
            ("Inventory.IPriced", Interface),
            ("Inventory.Category", Enum),
            ("Inventory.Inventory", Class),
            ("Inventory.Inventory.AddItem", Method),
            ("Inventory.Inventory.ValidateName", Method),
        ],
    );
    assert_call("csharp", &f, "Inventory.Inventory.AddItem", "ValidateName");
    assert_import("csharp", &f, "System.Collections.Generic");
    assert!(!doc_of(&f, "Inventory.Inventory").is_empty());
}

#[test]
fn ruby() {
    let f = check("ruby", Language::Ruby);
    assert_symbols(
        "ruby",
        &f,
        &[
            ("validate_name", Function),
            ("price_of", Function),
            ("Inventory", Module),
            ("Inventory::Inventory", Class),
            ("Inventory::Inventory::add_item", Method),
        ],
    );
    assert_call("ruby", &f, "Inventory::Inventory::add_item", "validate_name");
    assert_import("ruby", &f, "json");
    assert_import("ruby", &f, "store");
}

#[test]
fn php() {
    let f = check("php", Language::Php);
    assert_symbols(
        "php",
        &f,
        &[("Priced", Interface), ("validate_name", Function), ("Inventory", Class), ("Inventory\\addItem", Method)],
    );
    assert_call("php", &f, "Inventory\\addItem", "validate_name");
    assert_import("php", &f, "App\\Models\\Item");
    assert_import("php", &f, "store.php");
}

#[test]
fn bash() {
    let f = check("bash", Language::Bash);
    assert_symbols("bash", &f, &[("validate_name", Function), ("price_of", Function), ("add_item", Function)]);
    assert_call("bash", &f, "add_item", "validate_name");
    assert_import("bash", &f, "./lib.sh");
}

#[test]
fn scala() {
    let f = check("scala", Language::Scala);
    assert_symbols(
        "scala",
        &f,
        &[
            ("Category", Trait),
            ("Tool", Class),
            ("Priced", Trait),
            ("Priced.price", Method),
            ("Item", Class),
            ("Item.price", Method),
            ("Inventory", Class),
            ("Inventory.Counts", TypeAlias),
            ("Inventory.items", Constant),
            ("Inventory.addItem", Method),
            ("Inventory.total", Method),
            ("Inventory.MaxItems", Constant),
            ("Inventory.validateName", Method),
            ("Inventory.priceOf", Method),
        ],
    );
    assert!(!has_symbol(&f, "Inventory.lastAdded", Constant), "a `var` is not a constant");
    assert_call("scala", &f, "Inventory.addItem", "validateName");
    assert_call("scala", &f, "Inventory.total", "priceOf");
    assert_call("scala", &f, "Inventory.apply", "Inventory");
    assert_import("scala", &f, "scala.collection.mutable");
    assert_import("scala", &f, "java.util.concurrent.{ConcurrentHashMap, TimeUnit}");
    assert_eq!(doc_of(&f, "Inventory"), "Inventory keeps item counts keyed by name.");
    let sig = &f.symbols.iter().find(|s| s.name == "priceOf").unwrap().signature;
    assert_eq!(sig, "def priceOf(name: String): Int");
}

#[test]
fn kotlin() {
    let f = check("kotlin", Language::Kotlin);
    assert_symbols(
        "kotlin",
        &f,
        &[
            ("MAX_ITEMS", Constant),
            ("Category", Enum),
            ("Priced", Interface),
            ("Priced.price", Method),
            ("Item", Class),
            ("Inventory", Class),
            ("Inventory.items", Constant),
            ("Inventory.addItem", Method),
            ("Inventory.total", Method),
            ("Inventory.create", Method),
            ("Registry", Class),
            ("Registry.register", Method),
            ("validateName", Function),
            ("priceOf", Function),
            ("Counts", TypeAlias),
        ],
    );
    assert!(!has_symbol(&f, "Inventory.lastAdded", Constant), "a `var` is not a constant");
    assert_call("kotlin", &f, "Inventory.addItem", "validateName");
    assert_call("kotlin", &f, "Inventory.total", "priceOf");
    assert_call("kotlin", &f, "validateName", "require");
    assert_import("kotlin", &f, "java.util.concurrent.ConcurrentHashMap");
    assert_import("kotlin", &f, "kotlin.math.max");
    assert_eq!(doc_of(&f, "Inventory"), "Inventory keeps item counts keyed by name.");
    let sig = &f.symbols.iter().find(|s| s.name == "priceOf").unwrap().signature;
    assert_eq!(sig, "fun priceOf(name: String): Int");
}

#[test]
fn swift() {
    let f = check("swift", Language::Swift);
    assert_symbols(
        "swift",
        &f,
        &[
            ("maxItems", Constant),
            ("Priced", Interface),
            ("Priced.price", Method),
            ("Priced.discounted", Method),
            ("Category", Enum),
            ("Item", Struct),
            ("Item.name", Constant),
            ("Item.price", Method),
            ("Inventory", Class),
            ("Inventory.init", Method),
            ("Inventory.addItem", Method),
            ("Inventory.total", Method),
            ("Inventory.description", Method),
            ("validateName", Function),
            ("priceOf", Function),
            ("Counts", TypeAlias),
        ],
    );
    assert_eq!(f.symbols.iter().filter(|s| s.name == "Inventory").count(), 1, "an extension is not a definition");
    assert!(!f.symbols.iter().any(|s| s.name == "items"), "a stored `var` is not a symbol");
    assert_call("swift", &f, "Inventory.addItem", "validateName");
    assert_call("swift", &f, "Inventory.total", "priceOf");
    assert!(!f.references.iter().any(|r| r.kind == RefKind::Call && r.name == "items"), "subscripts are not calls");
    assert_import("swift", &f, "Foundation");
    assert_import("swift", &f, "Collections.OrderedDictionary");
    assert_eq!(doc_of(&f, "Inventory"), "Inventory keeps item counts keyed by name.");
    let sig = &f.symbols.iter().find(|s| s.name == "priceOf").unwrap().signature;
    assert_eq!(sig, "func priceOf(_ name: String) -> Int");
}

#[test]
fn broken_syntax_yields_partial_facts() {
    let source = "fn good() { helper(); }\nfn broken( { let x = ;\nfn also_good() {}\n";
    let facts = analyze(Language::Rust, source, ChunkLimits::default()).unwrap();
    assert!(facts.has_errors);
    assert!(facts.symbols.iter().any(|s| s.name == "good"));
    assert!(!facts.chunks.is_empty());
}

#[test]
fn deeply_nested_input_does_not_overflow_the_stack() {
    let source = format!("x = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let facts = analyze(Language::Python, &source, ChunkLimits::default()).unwrap();
    assert_eq!(facts.lines, 1);
}

#[test]
fn big_functions_are_split_and_tiny_ones_merged() {
    let mut source = String::from("fn small_a() {}\nfn small_b() {}\nfn small_c() {}\n\nfn big() {\n");
    for i in 0..300 {
        source.push_str(&format!("    let value_{i} = compute_something(value_{i}, {i});\n"));
    }
    source.push_str("}\n");
    let limits = ChunkLimits { max_tokens: 200, min_tokens: 30 };
    let facts = analyze(Language::Rust, &source, limits).unwrap();
    let first = &facts.chunks[0];
    assert_eq!((first.span.start_line, first.span.end_line), (1, 3), "three tiny functions merge into one chunk");
    let big: Vec<_> = facts.chunks.iter().skip(1).collect();
    assert!(big.len() > 5, "the big function is split: {big:?}");
    assert!(big.iter().all(|c| c.tokens as usize <= limits.max_tokens));
    assert_eq!(big[0].span.start_line, 5, "the header rides with the first piece");
    assert_eq!(big.last().unwrap().span.end_line, 306, "the closing brace rides with the last piece");
    assert!(big.iter().skip(1).all(|c| c.symbol_path == "big"));
}

#[test]
fn calls_inside_rust_macro_arguments_are_seen() {
    let source = "fn report(x: u32) {\n    println!(\"{} {}\", total(x), cart.price_of(x));\n    assert_eq!(helpers::double(x), 2);\n}\n";
    let facts = analyze(Language::Rust, source, ChunkLimits::default()).unwrap();
    let calls: Vec<(String, Option<String>)> = facts
        .references
        .iter()
        .filter(|r| r.kind == RefKind::Call)
        .map(|r| (r.name.clone(), r.qualifier.clone()))
        .collect();
    for expected in [("total", None), ("price_of", Some("cart")), ("double", Some("helpers"))] {
        let expected = (expected.0.to_string(), expected.1.map(str::to_string));
        assert!(calls.contains(&expected), "{expected:?} missing from {calls:?}");
    }
}

/// The grammar (tree-sitter-groovy 0.1) extends Java's: inside class bodies it wants Java's semicolons, and it does
/// not parse `?.` or `as` casts. The fixture keeps to what it parses; a file using the rest still yields most of
/// its facts, flagged with syntax errors. Gradle scripts (top-level calls and closures) parse.
#[test]
fn groovy() {
    let f = check("groovy", Language::Groovy);
    assert_symbols(
        "groovy",
        &f,
        &[("Inventory", Class), ("Inventory.addItem", Method), ("Inventory.total", Method), ("validateName", Function)],
    );
    assert_call("groovy", &f, "Inventory.addItem", "validateName");
    assert_import("groovy", &f, "java.util.concurrent.ConcurrentHashMap");
    assert_eq!(doc_of(&f, "Inventory"), "Inventory keeps item counts keyed by name.");
    let sig = &f.symbols.iter().find(|s| s.name == "addItem").unwrap().signature;
    assert_eq!(sig, "void addItem(String name, int count)");
}
