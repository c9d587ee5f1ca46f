//! The supported languages and, for each, the table that tells the generic extractor which syntax nodes are
//! definitions, calls, imports and identifiers. Tables instead of per-language code keep every language on the
//! same, tested path; the few real differences are flags on [`LanguageSpec`].

use serde::{Deserialize, Serialize};

use crate::SymbolKind;

/// A language Sextant can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    /// Rust.
    Rust,
    /// Python.
    Python,
    /// JavaScript (and JSX).
    JavaScript,
    /// TypeScript.
    TypeScript,
    /// TypeScript with JSX.
    Tsx,
    /// Go.
    Go,
    /// Java.
    Java,
    /// C.
    C,
    /// C++.
    Cpp,
    /// C#.
    CSharp,
    /// Ruby.
    Ruby,
    /// PHP.
    Php,
    /// Bash and POSIX shell.
    Bash,
    /// Scala (2 and 3).
    Scala,
    /// Kotlin.
    Kotlin,
    /// Swift.
    Swift,
    /// Groovy (and Gradle build scripts).
    Groovy,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 17] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Java,
        Language::C,
        Language::Cpp,
        Language::CSharp,
        Language::Ruby,
        Language::Php,
        Language::Bash,
        Language::Scala,
        Language::Kotlin,
        Language::Swift,
        Language::Groovy,
    ];

    /// The id used in configuration and output (`rust`, `csharp`, …).
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Java => "java",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::CSharp => "csharp",
            Language::Ruby => "ruby",
            Language::Php => "php",
            Language::Bash => "bash",
            Language::Scala => "scala",
            Language::Kotlin => "kotlin",
            Language::Swift => "swift",
            Language::Groovy => "groovy",
        }
    }

    /// The language with this id, if supported.
    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The tree-sitter grammar.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::Java => tree_sitter_java::LANGUAGE.into(),
            Language::C => tree_sitter_c::LANGUAGE.into(),
            Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Language::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
            Language::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Language::Php => tree_sitter_php::LANGUAGE_PHP.into(),
            Language::Bash => tree_sitter_bash::LANGUAGE.into(),
            Language::Scala => tree_sitter_scala::LANGUAGE.into(),
            Language::Kotlin => tree_sitter_kotlin_ng::LANGUAGE.into(),
            Language::Swift => tree_sitter_swift::LANGUAGE.into(),
            Language::Groovy => tree_sitter_groovy::LANGUAGE.into(),
        }
    }

    /// The extraction table.
    pub(crate) fn spec(self) -> &'static LanguageSpec {
        match self {
            Language::Rust => &RUST,
            Language::Python => &PYTHON,
            Language::JavaScript => &JAVASCRIPT,
            Language::TypeScript | Language::Tsx => &TYPESCRIPT,
            Language::Go => &GO,
            Language::Java => &JAVA,
            Language::C => &C,
            Language::Cpp => &CPP,
            Language::CSharp => &CSHARP,
            Language::Ruby => &RUBY,
            Language::Php => &PHP,
            Language::Bash => &BASH,
            Language::Scala => &SCALA,
            Language::Kotlin => &KOTLIN,
            Language::Swift => &SWIFT,
            Language::Groovy => &JAVA,
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How one language's syntax maps onto symbols and references.
pub(crate) struct LanguageSpec {
    /// Node kinds that define a symbol, with the kind they define.
    pub defs: &'static [(&'static str, SymbolKind)],
    /// Node kinds that open a named scope without defining a symbol (Rust `impl`), with the field naming it.
    pub scopes: &'static [(&'static str, &'static str)],
    /// Call-like node kinds with the field holding the callee.
    pub calls: &'static [(&'static str, &'static str)],
    /// Node kinds that import something.
    pub imports: &'static [&'static str],
    /// Leaf kinds that are identifiers worth recording as references.
    pub identifiers: &'static [&'static str],
    /// Leaf kinds among `identifiers` that name types.
    pub type_identifiers: &'static [&'static str],
    /// Comment node kinds (for doc comments).
    pub comments: &'static [&'static str],
    /// Nodes that wrap a definition (decorators, `export`, templates): docs and spans start at the wrapper.
    pub wrappers: &'static [&'static str],
    /// Nodes that may sit between a doc comment and its definition (attributes, annotations).
    pub attributes: &'static [&'static str],
    /// Separator in qualified names.
    pub separator: &'static str,
    /// Names of calls that are really imports (`require`, `source`).
    pub import_calls: &'static [&'static str],
    /// Variable declarators whose value decides whether they define a function (JS/TS `const f = () => …`).
    pub function_values: &'static [&'static str],
    /// Child kinds that hold a definition's body where the grammar names no `body` field (Kotlin `class_body`,
    /// Swift `computed_property`): signatures end and chunks split there.
    pub bodies: &'static [&'static str],
}

impl LanguageSpec {
    /// The body of a definition: its `body` field, or its first child of a kind in `bodies`.
    pub(crate) fn body_of<'t>(&self, node: tree_sitter::Node<'t>) -> Option<tree_sitter::Node<'t>> {
        node.child_by_field_name("body").or_else(|| {
            if self.bodies.is_empty() {
                return None;
            }
            let mut cursor = node.walk();
            let body = node.named_children(&mut cursor).find(|c| self.bodies.contains(&c.kind()));
            body
        })
    }
}

const NO: &[&str] = &[];

static RUST: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_item", SymbolKind::Function),
        ("function_signature_item", SymbolKind::Function),
        ("struct_item", SymbolKind::Struct),
        ("union_item", SymbolKind::Struct),
        ("enum_item", SymbolKind::Enum),
        ("trait_item", SymbolKind::Trait),
        ("mod_item", SymbolKind::Module),
        ("const_item", SymbolKind::Constant),
        ("static_item", SymbolKind::Constant),
        ("type_item", SymbolKind::TypeAlias),
        ("macro_definition", SymbolKind::Macro),
    ],
    scopes: &[("impl_item", "type")],
    calls: &[("call_expression", "function"), ("macro_invocation", "macro")],
    imports: &["use_declaration", "extern_crate_declaration"],
    identifiers: &["identifier", "type_identifier", "field_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["line_comment", "block_comment"],
    wrappers: NO,
    attributes: &["attribute_item", "inner_attribute_item"],
    separator: "::",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static PYTHON: LanguageSpec = LanguageSpec {
    defs: &[("function_definition", SymbolKind::Function), ("class_definition", SymbolKind::Class)],
    scopes: &[],
    calls: &[("call", "function")],
    imports: &["import_statement", "import_from_statement", "future_import_statement"],
    identifiers: &["identifier"],
    type_identifiers: NO,
    comments: &["comment"],
    wrappers: &["decorated_definition"],
    attributes: &["decorator"],
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static JAVASCRIPT: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_declaration", SymbolKind::Function),
        ("generator_function_declaration", SymbolKind::Function),
        ("class_declaration", SymbolKind::Class),
        ("method_definition", SymbolKind::Method),
        ("variable_declarator", SymbolKind::Constant),
    ],
    scopes: &[],
    calls: &[("call_expression", "function"), ("new_expression", "constructor")],
    imports: &["import_statement"],
    identifiers: &["identifier", "property_identifier", "shorthand_property_identifier"],
    type_identifiers: NO,
    comments: &["comment"],
    wrappers: &["export_statement"],
    attributes: &["decorator"],
    separator: ".",
    import_calls: &["require"],
    function_values: &["arrow_function", "function_expression", "function", "generator_function"],
    bodies: NO,
};

static TYPESCRIPT: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_declaration", SymbolKind::Function),
        ("generator_function_declaration", SymbolKind::Function),
        ("function_signature", SymbolKind::Function),
        ("class_declaration", SymbolKind::Class),
        ("abstract_class_declaration", SymbolKind::Class),
        ("method_definition", SymbolKind::Method),
        ("method_signature", SymbolKind::Method),
        ("abstract_method_signature", SymbolKind::Method),
        ("interface_declaration", SymbolKind::Interface),
        ("type_alias_declaration", SymbolKind::TypeAlias),
        ("enum_declaration", SymbolKind::Enum),
        ("internal_module", SymbolKind::Module),
        ("module", SymbolKind::Module),
        ("variable_declarator", SymbolKind::Constant),
    ],
    scopes: &[],
    calls: &[("call_expression", "function"), ("new_expression", "constructor")],
    imports: &["import_statement"],
    identifiers: &["identifier", "property_identifier", "shorthand_property_identifier", "type_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["comment"],
    wrappers: &["export_statement", "ambient_declaration"],
    attributes: &["decorator"],
    separator: ".",
    import_calls: &["require"],
    function_values: &["arrow_function", "function_expression", "function", "generator_function"],
    bodies: NO,
};

static GO: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_declaration", SymbolKind::Function),
        ("method_declaration", SymbolKind::Method),
        ("type_spec", SymbolKind::TypeAlias),
        ("type_alias", SymbolKind::TypeAlias),
        ("const_spec", SymbolKind::Constant),
    ],
    scopes: &[],
    calls: &[("call_expression", "function")],
    imports: &["import_spec"],
    identifiers: &["identifier", "type_identifier", "field_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["comment"],
    wrappers: NO,
    attributes: NO,
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

/// Java, and Groovy, whose grammar extends Java's with `def` functions and calls without parentheses
/// (`implementation project(':core')` in a Gradle script); Java's grammar has neither node kind.
static JAVA: LanguageSpec = LanguageSpec {
    defs: &[
        ("class_declaration", SymbolKind::Class),
        ("record_declaration", SymbolKind::Class),
        ("interface_declaration", SymbolKind::Interface),
        ("annotation_type_declaration", SymbolKind::Interface),
        ("enum_declaration", SymbolKind::Enum),
        ("method_declaration", SymbolKind::Method),
        ("constructor_declaration", SymbolKind::Method),
        ("function_definition", SymbolKind::Function),
    ],
    scopes: &[],
    calls: &[("method_invocation", "name"), ("object_creation_expression", "type"), ("juxt_function_call", "name")],
    imports: &["import_declaration"],
    identifiers: &["identifier", "type_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["block_comment", "line_comment"],
    wrappers: NO,
    attributes: &["marker_annotation", "annotation"],
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static C: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_definition", SymbolKind::Function),
        ("struct_specifier", SymbolKind::Struct),
        ("union_specifier", SymbolKind::Struct),
        ("enum_specifier", SymbolKind::Enum),
        ("type_definition", SymbolKind::TypeAlias),
        ("preproc_def", SymbolKind::Constant),
        ("preproc_function_def", SymbolKind::Macro),
    ],
    scopes: &[],
    calls: &[("call_expression", "function")],
    imports: &["preproc_include"],
    identifiers: &["identifier", "type_identifier", "field_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["comment"],
    wrappers: NO,
    attributes: NO,
    separator: "::",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static CPP: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_definition", SymbolKind::Function),
        ("class_specifier", SymbolKind::Class),
        ("struct_specifier", SymbolKind::Struct),
        ("union_specifier", SymbolKind::Struct),
        ("enum_specifier", SymbolKind::Enum),
        ("namespace_definition", SymbolKind::Module),
        ("type_definition", SymbolKind::TypeAlias),
        ("alias_declaration", SymbolKind::TypeAlias),
        ("preproc_def", SymbolKind::Constant),
        ("preproc_function_def", SymbolKind::Macro),
    ],
    scopes: &[],
    calls: &[("call_expression", "function"), ("new_expression", "type")],
    imports: &["preproc_include", "using_declaration"],
    identifiers: &["identifier", "type_identifier", "field_identifier", "namespace_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["comment"],
    wrappers: &["template_declaration"],
    attributes: NO,
    separator: "::",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static CSHARP: LanguageSpec = LanguageSpec {
    defs: &[
        ("class_declaration", SymbolKind::Class),
        ("record_declaration", SymbolKind::Class),
        ("struct_declaration", SymbolKind::Struct),
        ("interface_declaration", SymbolKind::Interface),
        ("enum_declaration", SymbolKind::Enum),
        ("method_declaration", SymbolKind::Method),
        ("constructor_declaration", SymbolKind::Method),
        ("namespace_declaration", SymbolKind::Module),
        ("file_scoped_namespace_declaration", SymbolKind::Module),
        ("delegate_declaration", SymbolKind::TypeAlias),
    ],
    scopes: &[],
    calls: &[("invocation_expression", "function"), ("object_creation_expression", "type")],
    imports: &["using_directive"],
    identifiers: &["identifier"],
    type_identifiers: NO,
    comments: &["comment"],
    wrappers: NO,
    attributes: &["attribute_list"],
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static RUBY: LanguageSpec = LanguageSpec {
    defs: &[
        ("method", SymbolKind::Function),
        ("singleton_method", SymbolKind::Function),
        ("class", SymbolKind::Class),
        ("module", SymbolKind::Module),
    ],
    scopes: &[],
    calls: &[("call", "method")],
    imports: NO,
    identifiers: &["identifier", "constant"],
    type_identifiers: &["constant"],
    comments: &["comment"],
    wrappers: NO,
    attributes: NO,
    separator: "::",
    import_calls: &["require", "require_relative", "load"],
    function_values: NO,
    bodies: NO,
};

static PHP: LanguageSpec = LanguageSpec {
    defs: &[
        ("function_definition", SymbolKind::Function),
        ("class_declaration", SymbolKind::Class),
        ("interface_declaration", SymbolKind::Interface),
        ("trait_declaration", SymbolKind::Trait),
        ("enum_declaration", SymbolKind::Enum),
        ("method_declaration", SymbolKind::Method),
        ("namespace_definition", SymbolKind::Module),
    ],
    scopes: &[],
    calls: &[
        ("function_call_expression", "function"),
        ("member_call_expression", "name"),
        ("nullsafe_member_call_expression", "name"),
        ("scoped_call_expression", "name"),
        ("object_creation_expression", ""),
    ],
    imports: &[
        "namespace_use_declaration",
        "require_expression",
        "require_once_expression",
        "include_expression",
        "include_once_expression",
    ],
    identifiers: &["name"],
    type_identifiers: NO,
    comments: &["comment"],
    wrappers: NO,
    attributes: &["attribute_list"],
    separator: "\\",
    import_calls: NO,
    function_values: NO,
    bodies: NO,
};

static BASH: LanguageSpec = LanguageSpec {
    defs: &[("function_definition", SymbolKind::Function)],
    scopes: &[],
    calls: &[("command", "name")],
    imports: NO,
    identifiers: NO,
    type_identifiers: NO,
    comments: &["comment"],
    wrappers: NO,
    attributes: NO,
    separator: ".",
    import_calls: &["source", "."],
    function_values: NO,
    bodies: NO,
};

static SCALA: LanguageSpec = LanguageSpec {
    defs: &[
        ("class_definition", SymbolKind::Class),
        ("object_definition", SymbolKind::Class),
        ("trait_definition", SymbolKind::Trait),
        ("enum_definition", SymbolKind::Enum),
        ("package_object", SymbolKind::Module),
        ("function_definition", SymbolKind::Function),
        ("function_declaration", SymbolKind::Function),
        ("type_definition", SymbolKind::TypeAlias),
        // Only members and top-level bindings; see `definition_name`.
        ("val_definition", SymbolKind::Constant),
        ("val_declaration", SymbolKind::Constant),
    ],
    scopes: &[],
    calls: &[("call_expression", "function"), ("instance_expression", "")],
    imports: &["import_declaration"],
    identifiers: &["identifier", "type_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["block_comment", "comment"],
    wrappers: NO,
    attributes: NO,
    separator: ".",
    import_calls: NO,
    function_values: NO,
    // Scala names its bodies `body`; this entry tells the walk that `new { … }` (an anonymous class) names no callee.
    bodies: &["template_body"],
};

static KOTLIN: LanguageSpec = LanguageSpec {
    defs: &[
        // Classes, interfaces and enum classes share one node kind; see `definition_name`.
        ("class_declaration", SymbolKind::Class),
        ("object_declaration", SymbolKind::Class),
        ("function_declaration", SymbolKind::Function),
        ("secondary_constructor", SymbolKind::Function),
        ("type_alias", SymbolKind::TypeAlias),
        // Only `val` members and top-level `val`s; see `definition_name`.
        ("property_declaration", SymbolKind::Constant),
    ],
    scopes: &[],
    calls: &[("call_expression", "")],
    imports: &["import"],
    identifiers: &["identifier"],
    type_identifiers: NO,
    comments: &["block_comment", "line_comment"],
    wrappers: NO,
    attributes: NO,
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: &["class_body", "enum_class_body", "function_body"],
};

static SWIFT: LanguageSpec = LanguageSpec {
    defs: &[
        // Classes, structs, enums, actors and extensions share one node kind; see `definition_name` (an extension
        // is a scope, like a Rust `impl`, not a second definition of its type).
        ("class_declaration", SymbolKind::Class),
        ("protocol_declaration", SymbolKind::Interface),
        ("function_declaration", SymbolKind::Function),
        ("protocol_function_declaration", SymbolKind::Function),
        ("init_declaration", SymbolKind::Function),
        ("typealias_declaration", SymbolKind::TypeAlias),
        // Members and top-level `let`s are constants, computed `var`s and property requirements are functions (getters);
        // see `definition_name`.
        ("property_declaration", SymbolKind::Constant),
        ("protocol_property_declaration", SymbolKind::Function),
    ],
    scopes: &[],
    calls: &[("call_expression", ""), ("constructor_expression", "constructed_type")],
    imports: &["import_declaration"],
    identifiers: &["simple_identifier", "type_identifier"],
    type_identifiers: &["type_identifier"],
    comments: &["comment", "multiline_comment"],
    wrappers: NO,
    attributes: NO,
    separator: ".",
    import_calls: NO,
    function_values: NO,
    bodies: &["computed_property"],
};
