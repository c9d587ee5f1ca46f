//! The generic, table-driven walk that pulls symbols, references and imports out of a syntax tree.
//!
//! The walk is iterative (a tree cursor, no recursion) so hostile, deeply nested input cannot overflow the stack.

use std::collections::HashSet;
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::languages::LanguageSpec;
use crate::{Import, Language, RefKind, Reference, Span, Symbol, SymbolKind};

/// The facts the walk produces.
pub(crate) struct Extracted {
    pub symbols: Vec<Symbol>,
    pub references: Vec<Reference>,
    pub imports: Vec<Import>,
}

/// What a node kind means to the extractor, looked up by kind id.
#[derive(Clone, Copy, Default)]
struct Role {
    def: Option<SymbolKind>,
    scope_field: Option<&'static str>,
    call_field: Option<&'static str>,
    import: bool,
    identifier: Option<RefKind>,
}

/// Per-language role tables, built once from the grammar's kind names.
fn roles(language: Language) -> &'static [Role] {
    static TABLES: [OnceLock<Vec<Role>>; Language::ALL.len()] = [const { OnceLock::new() }; Language::ALL.len()];
    let index = Language::ALL.iter().position(|l| *l == language).unwrap_or(0);
    TABLES[index].get_or_init(|| {
        let grammar = language.grammar();
        let spec = language.spec();
        (0..grammar.node_kind_count() as u16)
            .map(|id| {
                let mut role = Role::default();
                if !grammar.node_kind_is_named(id) {
                    return role;
                }
                let Some(kind) = grammar.node_kind_for_id(id) else {
                    return role;
                };
                role.def = spec.defs.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s);
                role.scope_field = spec.scopes.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f);
                role.call_field = spec.calls.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f);
                role.import = spec.imports.contains(&kind);
                if spec.identifiers.contains(&kind) {
                    role.identifier =
                        Some(if spec.type_identifiers.contains(&kind) { RefKind::Type } else { RefKind::Identifier });
                }
                role
            })
            .collect()
    })
}

struct Scope {
    depth: usize,
    /// The symbol this scope belongs to; `None` for nameless scopes such as Rust `impl` blocks.
    symbol: Option<u32>,
    name: String,
    kind: Option<SymbolKind>,
}

struct Walker<'a> {
    language: Language,
    spec: &'static LanguageSpec,
    source: &'a str,
    scopes: Vec<Scope>,
    /// Name nodes already accounted for (definition names, callee names), so they are not counted again as
    /// plain identifiers.
    consumed: HashSet<usize>,
    seen_refs: HashSet<(String, RefKind, Option<String>, Option<u32>)>,
    out: Extracted,
}

pub(crate) fn extract(language: Language, source: &str, root: Node) -> Extracted {
    let table = roles(language);
    let mut walker = Walker {
        language,
        spec: language.spec(),
        source,
        scopes: Vec::new(),
        consumed: HashSet::new(),
        seen_refs: HashSet::new(),
        out: Extracted { symbols: Vec::new(), references: Vec::new(), imports: Vec::new() },
    };
    let mut cursor = root.walk();
    let mut depth = 0usize;
    loop {
        let node = cursor.node();
        if node.is_named() {
            let role = table.get(node.kind_id() as usize).copied().unwrap_or_default();
            walker.visit(node, depth, role);
        }
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return walker.out;
            }
            depth -= 1;
        }
    }
}

impl<'a> Walker<'a> {
    fn text(&self, node: Node) -> &'a str {
        self.source.get(node.start_byte()..node.end_byte()).unwrap_or("")
    }

    fn enclosing_symbol(&self) -> Option<u32> {
        self.scopes.iter().rev().find_map(|s| s.symbol)
    }

    /// The type a Swift `extension` extends, when `node` is one.
    fn swift_extension(&self, node: Node) -> Option<String> {
        if self.language != Language::Swift || node.kind() != "class_declaration" {
            return None;
        }
        if node.child_by_field_name("declaration_kind")?.kind() != "extension" {
            return None;
        }
        let name = strip_generics(self.text(node.child_by_field_name("name")?));
        (!name.is_empty()).then(|| name.to_string())
    }

    fn visit(&mut self, node: Node, depth: usize, role: Role) {
        while self.scopes.last().is_some_and(|s| s.depth >= depth) {
            self.scopes.pop();
        }
        if let Some(name) = self.swift_extension(node) {
            // `extension Foo { … }` adds to a type defined elsewhere, like a Rust `impl`: a scope, not a symbol.
            self.scopes.push(Scope { depth, symbol: None, name, kind: Some(SymbolKind::Class) });
        } else if let Some(kind) = role.def {
            self.definition(node, depth, kind);
        } else if let Some(field) = role.scope_field {
            if let Some(name_node) = node.child_by_field_name(field) {
                let name = strip_generics(self.text(name_node)).to_string();
                self.scopes.push(Scope { depth, symbol: None, name, kind: Some(SymbolKind::Struct) });
            }
        } else if self.language == Language::Python && node.kind() == "assignment" {
            self.python_constant(node, depth);
        }
        if let Some(field) = role.call_field {
            self.call(node, field);
        }
        if self.language == Language::Rust && node.kind() == "token_tree" {
            self.calls_in_macro_arguments(node);
        }
        // `export … from './x'` re-exports what another file defines: for the graph, an import of that file (a barrel
        // `index.ts` reaches its modules' definitions through these).
        let reexport = matches!(self.language, Language::JavaScript | Language::TypeScript | Language::Tsx)
            && node.kind() == "export_statement"
            && node.child_by_field_name("source").is_some();
        if role.import || reexport {
            self.import(node);
        }
        if let Some(kind) = role.identifier {
            if node.named_child_count() == 0 && !self.consumed.contains(&node.id()) {
                let name = self.text(node);
                if is_worth_recording(name) {
                    self.reference(name.to_string(), kind, None, node.start_position().row);
                }
            }
        }
    }

    fn reference(&mut self, name: String, kind: RefKind, qualifier: Option<String>, row: usize) {
        let enclosing = self.enclosing_symbol();
        if self.seen_refs.insert((name.clone(), kind, qualifier.clone(), enclosing)) {
            self.out.references.push(Reference { name, kind, qualifier, line: row as u32 + 1, enclosing });
        }
    }

    fn definition(&mut self, node: Node, depth: usize, mut kind: SymbolKind) {
        let Some((name_node, name, qualifier)) = self.definition_name(node, &mut kind) else {
            return;
        };
        if name.is_empty() || name.len() > 200 {
            return;
        }
        if let Some(n) = name_node {
            self.consumed.insert(n.id());
        }
        let parent = self.enclosing_symbol();
        let parent_kind = self.scopes.last().and_then(|s| s.kind);
        if kind == SymbolKind::Function && (parent_kind.is_some_and(|k| k.is_type_like()) || qualifier.is_some()) {
            kind = SymbolKind::Method;
        }
        let mut path: Vec<&str> = self.scopes.iter().map(|s| s.name.as_str()).collect();
        if let Some(q) = qualifier.as_deref() {
            path.push(q);
        }
        path.push(&name);
        let qualified_name = path.join(self.spec.separator);

        // `mod parse;` declares a module that lives in another file: it is also an import of that file.
        if self.language == Language::Rust && node.kind() == "mod_item" && node.child_by_field_name("body").is_none() {
            let line = node.start_position().row as u32 + 1;
            self.out.imports.push(Import { path: name.clone(), names: vec![name.clone()], line });
        }
        let outer = self.outer_node(node);
        let span = span_of(outer, self.source);
        let signature = self.signature(node, kind);
        let doc = self.doc_comment(node, outer);
        let index = self.out.symbols.len() as u32;
        self.out.symbols.push(Symbol { name: name.clone(), qualified_name, kind, signature, doc, span, parent });
        self.scopes.push(Scope { depth, symbol: Some(index), name, kind: Some(kind) });
    }

    /// Finds the name of a definition node; may refine `kind` (Go type specs, JS declarators).
    /// Returns the name node (if a single node), the name, and a qualifier naming an outer type that the syntax
    /// puts outside the definition (C++ `Foo::bar`, Go receivers).
    fn definition_name(
        &self,
        node: Node<'a>,
        kind: &mut SymbolKind,
    ) -> Option<(Option<Node<'a>>, String, Option<String>)> {
        match (self.language, node.kind()) {
            (Language::C | Language::Cpp, "function_definition" | "type_definition") => {
                let declarator = node.child_by_field_name("declarator")?;
                let (name_node, qualifier) = innermost_declarator(declarator, self.source)?;
                Some((Some(name_node), self.text(name_node).to_string(), qualifier))
            }
            (
                Language::C | Language::Cpp,
                "struct_specifier" | "union_specifier" | "enum_specifier" | "class_specifier",
            ) => {
                node.child_by_field_name("body")?;
                let name_node = node.child_by_field_name("name")?;
                Some((Some(name_node), strip_generics(self.text(name_node)).to_string(), None))
            }
            (Language::Go, "type_spec") => {
                let name_node = node.child_by_field_name("name")?;
                *kind = match node.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") => SymbolKind::Struct,
                    Some("interface_type") => SymbolKind::Interface,
                    _ => SymbolKind::TypeAlias,
                };
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::Go, "method_declaration") => {
                let name_node = node.child_by_field_name("name")?;
                let receiver = node
                    .child_by_field_name("receiver")
                    .and_then(|r| first_descendant_of_kind(r, "type_identifier"))
                    .map(|t| self.text(t).to_string());
                Some((Some(name_node), self.text(name_node).to_string(), receiver))
            }
            (Language::Scala, "val_definition") => {
                // `val x = …` in a class, object, trait or file; locals and destructuring patterns are not symbols.
                let name_node = node.child_by_field_name("pattern").filter(|p| p.kind() == "identifier")?;
                if !is_member_or_top_level(node) {
                    return None;
                }
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::Kotlin, "class_declaration") => {
                let name_node = node.child_by_field_name("name")?;
                *kind = if has_child_kind(node, "interface") {
                    SymbolKind::Interface
                } else if node
                    .named_child(0)
                    .is_some_and(|m| m.kind() == "modifiers" && self.text(m).split_whitespace().any(|w| w == "enum"))
                {
                    SymbolKind::Enum
                } else {
                    SymbolKind::Class
                };
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::Kotlin, "property_declaration") => {
                // `val` members and top-level `val`s are constants; `var`s and locals are not symbols.
                if !has_child_kind(node, "val") || !is_member_or_top_level(node) {
                    return None;
                }
                let declaration = first_child_of_kind(node, "variable_declaration")?;
                let name_node = first_child_of_kind(declaration, "identifier")?;
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::Kotlin, "function_declaration") => {
                // `fun Request.Builder.tag(…)`: an extension function is qualified by its receiver type, like a Go
                // method by its receiver.
                let name_node = node.child_by_field_name("name")?;
                let mut cursor = node.walk();
                let receiver = node
                    .named_children(&mut cursor)
                    .take_while(|c| c.id() != name_node.id())
                    .filter(|c| matches!(c.kind(), "user_type" | "nullable_type"))
                    .last()
                    .map(|t| strip_generics(self.text(t).trim_end_matches('?')).to_string())
                    .filter(|t| !t.is_empty());
                Some((Some(name_node), self.text(name_node).to_string(), receiver))
            }
            (Language::Kotlin, "secondary_constructor") => Some((None, "constructor".to_string(), None)),
            (Language::Kotlin, "type_alias") => {
                let name_node = node.child_by_field_name("type")?;
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::Swift, "class_declaration") => {
                let name_node = node.child_by_field_name("name")?;
                *kind = match node.child_by_field_name("declaration_kind").map(|k| k.kind()) {
                    Some("struct") => SymbolKind::Struct,
                    Some("enum") => SymbolKind::Enum,
                    _ => SymbolKind::Class,
                };
                Some((Some(name_node), strip_generics(self.text(name_node)).to_string(), None))
            }
            (Language::Swift, "property_declaration" | "protocol_property_declaration") => {
                // Member and top-level `let`s are constants; computed `var`s and protocol property requirements
                // are functions (getters); stored `var`s and locals are not symbols.
                if !is_member_or_top_level(node) {
                    return None;
                }
                let binding = first_child_of_kind(node, "value_binding_pattern").map(|b| self.text(b));
                if node.kind() == "protocol_property_declaration" {
                    *kind = SymbolKind::Function;
                } else if binding != Some("let") {
                    node.child_by_field_name("computed_value")?;
                    *kind = SymbolKind::Function;
                }
                let name_node = node.child_by_field_name("name")?.child_by_field_name("bound_identifier")?;
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            (Language::JavaScript | Language::TypeScript | Language::Tsx, "variable_declarator") => {
                let name_node = node.child_by_field_name("name")?;
                if name_node.kind() != "identifier" {
                    return None;
                }
                let value_kind = node.child_by_field_name("value").map(|v| v.kind());
                if value_kind.is_some_and(|k| self.spec.function_values.contains(&k)) {
                    *kind = SymbolKind::Function;
                } else {
                    // Only module-level `const` bindings are worth calling constants.
                    let declaration = node.parent()?;
                    let is_const = declaration.child(0).is_some_and(|k| k.kind() == "const");
                    let at_top =
                        declaration.parent().is_some_and(|p| matches!(p.kind(), "program" | "export_statement"));
                    if !(is_const && at_top) {
                        return None;
                    }
                    *kind = SymbolKind::Constant;
                }
                Some((Some(name_node), self.text(name_node).to_string(), None))
            }
            _ => {
                let name_node = node.child_by_field_name("name")?;
                let name = match name_node.kind() {
                    // `class Foo::Bar` (Ruby), `namespace a::b` (C++): keep the written path.
                    "scope_resolution" | "nested_namespace_specifier" | "qualified_name" => self.text(name_node),
                    _ => strip_generics(self.text(name_node)),
                };
                Some((Some(name_node), name.to_string(), None))
            }
        }
    }

    fn python_constant(&mut self, node: Node, depth: usize) {
        let at_module = node
            .parent()
            .filter(|p| p.kind() == "expression_statement")
            .and_then(|p| p.parent())
            .is_some_and(|m| m.kind() == "module");
        let Some(left) = node.child_by_field_name("left") else {
            return;
        };
        let name = self.text(left);
        if !at_module || left.kind() != "identifier" || !is_constant_case(name) {
            return;
        }
        self.consumed.insert(left.id());
        let index = self.out.symbols.len() as u32;
        let signature = collapse_whitespace(first_line(self.text(node)), 240);
        self.out.symbols.push(Symbol {
            name: name.to_string(),
            qualified_name: name.to_string(),
            kind: SymbolKind::Constant,
            signature,
            doc: self.doc_comment(node, node.parent().unwrap_or(node)),
            span: span_of(node, self.source),
            parent: None,
        });
        self.scopes.push(Scope {
            depth,
            symbol: Some(index),
            name: name.to_string(),
            kind: Some(SymbolKind::Constant),
        });
    }

    /// The node whose span and leading comments belong to a definition: the definition itself, or the wrapper
    /// (decorators, `export`, `template<…>`, a declaration list of one declarator) around it.
    fn outer_node(&self, node: Node<'a>) -> Node<'a> {
        let mut outer = node;
        while let Some(parent) = outer.parent() {
            let kind = parent.kind();
            let wraps = self.spec.wrappers.contains(&kind)
                || (matches!(kind, "lexical_declaration" | "variable_declaration") && parent.named_child_count() == 1)
                || (self.language == Language::Go
                    && matches!(kind, "type_declaration" | "const_declaration")
                    && parent.named_child_count() == 1);
            if !wraps {
                break;
            }
            outer = parent;
        }
        outer
    }

    fn signature(&self, node: Node, kind: SymbolKind) -> String {
        let text = self.text(node);
        let header = match self.spec.body_of(node) {
            Some(body) if body.start_byte() > node.start_byte() && kind != SymbolKind::Constant => {
                self.source.get(node.start_byte()..body.start_byte()).unwrap_or(text)
            }
            _ => first_line(text),
        };
        let header = header.trim_end().trim_end_matches(['{', ':', '=']).trim_end();
        collapse_whitespace(header, 240)
    }

    fn doc_comment(&self, node: Node, outer: Node) -> Option<String> {
        if self.language == Language::Python {
            if let Some(doc) = self.python_docstring(node) {
                return Some(doc);
            }
        }
        let mut lines: Vec<&str> = Vec::new();
        let mut next_row = outer.start_position().row;
        let mut sibling = outer.prev_sibling();
        // Attributes (and decorators outside the wrapper) may stand between the comment and the definition.
        while let Some(s) = sibling {
            let kind = s.kind();
            if self.spec.attributes.contains(&kind) {
                next_row = s.start_position().row;
                sibling = s.prev_sibling();
                continue;
            }
            if !self.spec.comments.contains(&kind) || s.end_position().row + 1 < next_row {
                break;
            }
            lines.push(self.text(s));
            next_row = s.start_position().row;
            sibling = s.prev_sibling();
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        let doc = clean_comment(&lines.join("\n"));
        (!doc.is_empty()).then(|| truncate(&doc, 1000))
    }

    fn python_docstring(&self, node: Node) -> Option<String> {
        let body = node.child_by_field_name("body")?;
        let first = body.named_child(0)?;
        if first.kind() != "expression_statement" {
            return None;
        }
        let string = first.named_child(0).filter(|s| s.kind() == "string")?;
        let text = self.text(string);
        let stripped = text
            .trim_start_matches(['r', 'R', 'u', 'U', 'b', 'B'])
            .trim_start_matches("\"\"\"")
            .trim_start_matches("'''")
            .trim_end_matches("\"\"\"")
            .trim_end_matches("'''")
            .trim_matches(['"', '\'']);
        let doc = dedent(stripped);
        (!doc.is_empty()).then(|| truncate(&doc, 1000))
    }

    fn call(&mut self, node: Node, field: &str) {
        let callee = if field.is_empty() {
            (0..node.named_child_count()).filter_map(|i| node.named_child(i)).find(|c| c.kind() != "arguments")
        } else {
            node.child_by_field_name(field)
        };
        let Some(callee) = callee else { return };
        if field.is_empty() && (callee.kind() == node.kind() || self.spec.bodies.contains(&callee.kind())) {
            // `f(a)(b)`, Kotlin `f(a) { … }`: the inner call names the callee. `new { … }`: nothing is named.
            return;
        }
        if self.language == Language::Swift && is_swift_subscript(node) {
            return;
        }
        let Some(name_node) = terminal_name(callee) else {
            return;
        };
        let name = self.text(name_node);
        if !is_worth_recording(name) || name.len() > 128 {
            return;
        }
        self.consumed.insert(name_node.id());
        let qualifier = ["object", "receiver", "scope"]
            .iter()
            .find_map(|f| node.child_by_field_name(f))
            .map(|q| self.text(q))
            .or_else(|| self.source.get(callee.start_byte()..name_node.start_byte()))
            .and_then(last_segment);
        if self.spec.import_calls.contains(&name) {
            if let Some(arg) = node.child_by_field_name("arguments").or_else(|| node.child_by_field_name("argument")) {
                let path = strip_quotes(self.text(arg).trim_matches(['(', ')']).trim());
                if !path.is_empty() {
                    self.out.imports.push(Import {
                        path,
                        names: Vec::new(),
                        line: node.start_position().row as u32 + 1,
                    });
                }
            }
        }
        self.reference(name.to_string(), RefKind::Call, qualifier, node.start_position().row);
    }

    /// Macro arguments are unparsed token trees in Rust (`println!("{}", total(x))`); an identifier directly
    /// followed by a parenthesised group there is a call.
    fn calls_in_macro_arguments(&mut self, tree: Node) {
        let count = tree.child_count();
        for i in 0..count.saturating_sub(1) {
            let (Some(name_node), Some(next)) = (tree.child(i), tree.child(i + 1)) else { continue };
            if name_node.kind() != "identifier" || next.kind() != "token_tree" || !self.text(next).starts_with('(') {
                continue;
            }
            let name = self.text(name_node);
            if !is_worth_recording(name) {
                continue;
            }
            let qualifier =
                (i >= 2).then(|| (tree.child(i - 1), tree.child(i - 2))).and_then(|(sep, q)| match (sep, q) {
                    (Some(sep), Some(q)) if matches!(self.text(sep), "." | "::") && q.kind() == "identifier" => {
                        Some(self.text(q).to_string())
                    }
                    _ => None,
                });
            self.consumed.insert(name_node.id());
            self.reference(name.to_string(), RefKind::Call, qualifier, name_node.start_position().row);
        }
    }

    fn import(&mut self, node: Node) {
        let raw = match self.language {
            // Scala's path is a run of `path` fields, then selectors: `a.b.{C, D}`. The whole statement is it.
            Language::Scala => self.text(node),
            // Kotlin's path is a `qualified_identifier` (an alias may follow); Swift's is an `identifier`.
            Language::Kotlin | Language::Swift => {
                match first_child_of_kind(node, "qualified_identifier")
                    .or_else(|| first_child_of_kind(node, "identifier"))
                {
                    Some(p) => self.text(p),
                    None => self.text(node),
                }
            }
            _ => {
                let path_node = ["module_name", "source", "path", "argument", "name"]
                    .iter()
                    .find_map(|f| node.child_by_field_name(f));
                match path_node {
                    Some(p) => self.text(p),
                    None => self.text(node),
                }
            }
        };
        let mut path = strip_quotes(raw.trim());
        for keyword in [
            "import ",
            "static ",
            "using ",
            "use ",
            "extern crate ",
            "require_once ",
            "require ",
            "include_once ",
            "include ",
            "global::",
        ] {
            if let Some(rest) = path.strip_prefix(keyword) {
                path = rest.trim().to_string();
            }
        }
        let mut path = strip_quotes(path.trim_end_matches(';').trim());
        if self.language == Language::Scala && path.contains('\n') {
            // Long selector lists span lines: `a.b.{\n  C,\n  D\n}` reads as `a.b.{ C, D }`.
            path = collapse_whitespace(&path, path.len());
        }
        let mut names = Vec::new();
        collect_identifier_leaves(node, self.source, &mut names);
        for n in &names {
            if let Some(id) = find_leaf_id(node, n, self.source) {
                self.consumed.insert(id);
            }
        }
        if !path.is_empty() {
            self.out.imports.push(Import {
                path: truncate(&path, 300),
                names,
                line: node.start_position().row as u32 + 1,
            });
        }
    }
}

fn span_of(node: Node, source: &str) -> Span {
    let (end_byte, end_row) = content_end(node, source);
    Span {
        start_byte: node.start_byte() as u32,
        end_byte: end_byte as u32,
        start_line: node.start_position().row as u32 + 1,
        end_line: end_row as u32 + 1,
    }
}

/// The byte and row where a node's text ends, trailing whitespace left out: some grammars stretch a node over
/// the line break, blank lines and indentation after it (Scala's indented blocks run up to the next token).
pub(crate) fn content_end(node: Node, source: &str) -> (usize, usize) {
    let text = source.get(node.start_byte()..node.end_byte()).unwrap_or("");
    let trimmed = text.trim_end();
    if trimmed.is_empty() {
        return (node.end_byte(), node.end_position().row);
    }
    let newlines = text[trimmed.len()..].matches('\n').count();
    (node.start_byte() + trimmed.len(), node.end_position().row.saturating_sub(newlines))
}

/// Follows C/C++ declarators down to the declared name; returns it and the qualifier of `Foo::bar`.
fn innermost_declarator<'t>(mut node: Node<'t>, source: &str) -> Option<(Node<'t>, Option<String>)> {
    for _ in 0..16 {
        match node.kind() {
            "identifier" | "field_identifier" | "type_identifier" | "destructor_name" | "operator_name"
            | "primitive_type" => {
                return Some((node, None));
            }
            "qualified_identifier" => {
                let scope = node.child_by_field_name("scope").and_then(|s| source.get(s.start_byte()..s.end_byte()));
                let name = node.child_by_field_name("name")?;
                let (leaf, inner_scope) = innermost_declarator(name, source)?;
                let qualifier = match (scope, inner_scope) {
                    (Some(a), Some(b)) => Some(format!("{}::{b}", strip_generics(a))),
                    (Some(a), None) => Some(strip_generics(a).to_string()),
                    (None, b) => b,
                };
                return Some((leaf, qualifier));
            }
            _ => {
                node = node.child_by_field_name("declarator").or_else(|| node.named_child(0))?;
            }
        }
    }
    None
}

/// The node naming what a callee expression finally refers to (`bar` in `a.b::bar`, `Set` in `Set<String>`).
fn terminal_name(mut node: Node) -> Option<Node> {
    for _ in 0..12 {
        if node.named_child_count() == 0 {
            return Some(node);
        }
        let next = ["name", "field", "property", "attribute", "method", "macro", "function", "constructor", "type"]
            .iter()
            .find_map(|f| node.child_by_field_name(f))
            .or_else(|| {
                (0..node.named_child_count())
                    .rev()
                    .filter_map(|i| node.named_child(i))
                    .find(|c| c.kind() != "type_arguments")
            })?;
        node = next;
    }
    None
}

fn first_descendant_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == kind {
            return Some(n);
        }
        let children: Vec<Node<'t>> = n.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    None
}

fn first_child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    let found = node.children(&mut cursor).find(|c| c.kind() == kind);
    found
}

fn has_child_kind(node: Node, kind: &str) -> bool {
    first_child_of_kind(node, kind).is_some()
}

/// Whether a binding (Scala `val`, Kotlin and Swift properties) sits in a type's body or at the top of a file,
/// rather than in a function.
fn is_member_or_top_level(node: Node) -> bool {
    node.parent().is_some_and(|p| {
        matches!(
            p.kind(),
            "template_body" | "compilation_unit" | "class_body" | "enum_class_body" | "protocol_body" | "source_file"
        )
    })
}

/// Swift parses `items[key]` as a call whose arguments are in brackets.
fn is_swift_subscript(call: Node) -> bool {
    first_child_of_kind(call, "call_suffix")
        .and_then(|suffix| first_child_of_kind(suffix, "value_arguments"))
        .and_then(|arguments| arguments.child(0))
        .is_some_and(|open| open.kind() == "[")
}

fn collect_identifier_leaves(node: Node, source: &str, out: &mut Vec<String>) {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if out.len() >= 32 {
            return;
        }
        if n.named_child_count() == 0 {
            if n.kind().contains("identifier") || matches!(n.kind(), "name" | "constant") {
                if let Some(text) = source.get(n.start_byte()..n.end_byte()) {
                    if !out.iter().any(|o| o == text) {
                        out.push(text.to_string());
                    }
                }
            }
            continue;
        }
        let children: Vec<Node> = n.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
}

fn find_leaf_id(node: Node, text: &str, source: &str) -> Option<usize> {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.named_child_count() == 0 && source.get(n.start_byte()..n.end_byte()) == Some(text) {
            return Some(n.id());
        }
        stack.extend(n.named_children(&mut cursor).collect::<Vec<_>>());
    }
    None
}

fn last_segment(text: &str) -> Option<String> {
    let trimmed = text.trim().trim_end_matches(['.', ':', '-', '>', '?', '\\']).trim_end();
    let segment = trimmed
        .rsplit(['.', ':', '>', '\\', ' ', '(', '\n'])
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .trim_end_matches(')');
    let segment = strip_generics(segment);
    (!segment.is_empty() && segment.len() <= 64 && segment.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$'))
        .then(|| segment.to_string())
}

fn strip_generics(text: &str) -> &str {
    text.split(['<', '[']).next().unwrap_or(text).trim()
}

fn strip_quotes(text: &str) -> String {
    text.trim().trim_matches(['"', '\'', '`', '<', '>']).to_string()
}

fn is_worth_recording(name: &str) -> bool {
    name.len() >= 2
        && !matches!(name, "self" | "this" | "super" | "cls" | "Self" | "nil" | "null" | "None" | "true" | "false")
        && name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
}

fn is_constant_case(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn collapse_whitespace(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&collapsed, max)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Strips comment markers (`///`, `//!`, `/** */`, `#`, leading `*`) and common indentation.
fn clean_comment(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let t = line.trim();
            let t = t.strip_prefix("/**").or_else(|| t.strip_prefix("/*")).unwrap_or(t);
            let t = t.strip_suffix("*/").unwrap_or(t);
            let t = t
                .strip_prefix("///")
                .or_else(|| t.strip_prefix("//!"))
                .or_else(|| t.strip_prefix("//"))
                .or_else(|| t.strip_prefix("##"))
                .or_else(|| t.strip_prefix('#'))
                .unwrap_or(t);
            let t = t.trim_start();
            let t = t.strip_prefix("* ").or_else(|| if t == "*" { Some("") } else { None }).unwrap_or(t);
            // C# XML doc tags carry no meaning for a reader.
            t.replace("<summary>", "").replace("</summary>", "").trim_end().to_string()
        })
        .collect();
    lines.join("\n").trim().to_string()
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push(line.trim());
        } else {
            out.push(line.get(indent..).unwrap_or(line.trim_start()).trim_end());
        }
    }
    out.join("\n").trim().to_string()
}
