//! Turns one source file into facts: the symbols it defines (with qualified names, signatures, doc comments and
//! spans), the references it makes (calls, type uses, identifiers), its imports, and syntax-aligned chunks.
//!
//! Everything here works on one file at a time and never touches the file system, so the indexer can run it on
//! many threads. Parsing is error-tolerant: broken syntax yields partial facts and `has_errors`, never a failure.

mod chunk;
mod extract;
mod languages;
mod tokens;

pub use languages::Language;
pub use tokens::estimate_tokens;

use serde::{Deserialize, Serialize};

/// What kind of thing a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SymbolKind {
    /// A free function.
    Function,
    /// A function inside a class, struct, trait, interface or impl.
    Method,
    /// A class.
    Class,
    /// A struct or union.
    Struct,
    /// An enum.
    Enum,
    /// A trait.
    Trait,
    /// An interface.
    Interface,
    /// A module or namespace.
    Module,
    /// A constant or static.
    Constant,
    /// A type alias or typedef.
    TypeAlias,
    /// A macro.
    Macro,
}

impl SymbolKind {
    /// Lower-case name for output.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Class => "class",
            SymbolKind::Struct => "struct",
            SymbolKind::Enum => "enum",
            SymbolKind::Trait => "trait",
            SymbolKind::Interface => "interface",
            SymbolKind::Module => "module",
            SymbolKind::Constant => "constant",
            SymbolKind::TypeAlias => "type_alias",
            SymbolKind::Macro => "macro",
        }
    }

    /// Whether symbols of this kind contain methods.
    pub fn is_type_like(self) -> bool {
        matches!(
            self,
            SymbolKind::Class | SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::Interface
        )
    }

    /// Whether this kind is callable.
    pub fn is_callable(self) -> bool {
        matches!(self, SymbolKind::Function | SymbolKind::Method | SymbolKind::Macro)
    }
}

/// A byte and line range in a file. Lines are 1-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start_byte: u32,
    /// One past the last byte.
    pub end_byte: u32,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (1-based, inclusive).
    pub end_line: u32,
}

/// A definition found in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Symbol {
    /// The simple name (`parse`).
    pub name: String,
    /// The name qualified by enclosing scopes within the file (`Parser::parse`, `Config.load`).
    pub qualified_name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// The declaration header with whitespace collapsed (`fn parse(input: &str) -> Result<Ast>`).
    pub signature: String,
    /// The doc comment or docstring, markers stripped.
    pub doc: Option<String>,
    /// Where the definition is, decorators and attributes included.
    pub span: Span,
    /// Index of the enclosing symbol in the same file.
    pub parent: Option<u32>,
}

/// What a reference does with the name it mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RefKind {
    /// A call (function, method, macro, constructor, command).
    Call,
    /// A use of a type name.
    Type,
    /// Any other identifier.
    Identifier,
}

impl RefKind {
    /// Lower-case name for output.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Call => "call",
            RefKind::Type => "type",
            RefKind::Identifier => "identifier",
        }
    }
}

/// A mention of a name. Repeated mentions of the same name, kind and qualifier within one symbol are kept once
/// (with their first line): the graph needs who uses what, not every occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The name mentioned (last segment: `bar` in `foo::bar()`).
    pub name: String,
    /// How it is used.
    pub kind: RefKind,
    /// The last segment before the name (`foo` in `foo.bar()` or `Foo::bar()`), when there is one.
    pub qualifier: Option<String>,
    /// Line of the first mention (1-based).
    pub line: u32,
    /// Index of the innermost enclosing symbol, if any.
    pub enclosing: Option<u32>,
}

/// An import, include or use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The imported module or file as written, quotes and keywords stripped (`crate::config`, `./util`, `os.path`).
    pub path: String,
    /// Identifiers named by the import statement.
    pub names: Vec<String>,
    /// Line (1-based).
    pub line: u32,
}

/// A syntax-aligned piece of a file, the unit of lexical (and later semantic) retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Line-aligned byte and line range.
    pub span: Span,
    /// Qualified name of the innermost symbol enclosing the whole chunk (empty at file level).
    pub symbol_path: String,
    /// Qualified names of the symbols defined inside the chunk.
    pub symbols: Vec<String>,
    /// Estimated token count of the chunk's text.
    pub tokens: u32,
}

impl Chunk {
    /// The symbol a chunk is shown under: the one enclosing it, else the first it defines (empty for neither).
    pub fn display_symbol(&self) -> &str {
        if self.symbol_path.is_empty() {
            self.symbols.first().map_or("", String::as_str)
        } else {
            &self.symbol_path
        }
    }
}

/// Everything extracted from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileFacts {
    /// The language it was parsed as.
    pub language: Language,
    /// Definitions in source order.
    pub symbols: Vec<Symbol>,
    /// References (deduplicated per enclosing symbol).
    pub references: Vec<Reference>,
    /// Imports in source order.
    pub imports: Vec<Import>,
    /// Chunks in source order, not overlapping.
    pub chunks: Vec<Chunk>,
    /// Number of lines.
    pub lines: u32,
    /// Whether the parser had to recover from syntax errors (facts may be partial).
    pub has_errors: bool,
}

/// Limits for chunking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Upper bound per chunk in estimated tokens.
    pub max_tokens: usize,
    /// Units below this are merged with small neighbours.
    pub min_tokens: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits { max_tokens: 400, min_tokens: 40 }
    }
}

/// Errors from [`analyze`].
#[derive(Debug, thiserror::Error)]
pub enum SyntaxError {
    /// The grammar could not be loaded (a version mismatch between tree-sitter and the grammar crate).
    #[error("cannot load the {language} grammar: {message}")]
    Grammar {
        /// The language.
        language: Language,
        /// What tree-sitter said.
        message: String,
    },
    /// The parser gave up (it was cancelled or hit its limits).
    #[error("the {0} parser produced no tree")]
    NoTree(Language),
    /// The file is too large for 32-bit offsets.
    #[error("file too large to parse ({0} bytes)")]
    TooLarge(usize),
}

/// Version of what extraction and chunking produce for the same input. Bump it whenever a change to this crate
/// (a grammar, a language table, the walk, the chunker) changes the facts of some file: the indexer keys its
/// per-file cache on it, so the fix reaches files that did not change.
pub const EXTRACTOR_VERSION: u32 = 4;

/// First code point grammars are not fed: planes 3 to 16 (rare CJK extensions, tags, private use).
const FIRST_UNSAFE_CODE_POINT: u32 = 0x30000;
/// What replaces such a code point: a CJK ideograph of the same UTF-8 width (four bytes), so every byte offset,
/// span and line of the file stays where it was.
const SAFE_REPLACEMENT: char = '\u{20000}';

/// `source` with every code point from U+30000 up replaced by [`SAFE_REPLACEMENT`] (borrowed when there is none).
///
/// Why: tree-sitter-bash 0.25.1's external scanner reads out of bounds on such code points after a `{` and
/// crashed the whole process (found by `tests/fuzz.rs`; `"{\u{10FFFF}"` is enough). Hostile files must never
/// crash the indexer, and these code points carry no meaning in code.
fn without_unsafe_code_points(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.chars().any(|c| c as u32 >= FIRST_UNSAFE_CODE_POINT) {
        return std::borrow::Cow::Borrowed(source);
    }
    std::borrow::Cow::Owned(
        source.chars().map(|c| if c as u32 >= FIRST_UNSAFE_CODE_POINT { SAFE_REPLACEMENT } else { c }).collect(),
    )
}

/// Parses `source` as `language` and extracts its facts. Code points from U+30000 up are read as U+20000 (see
/// [`without_unsafe_code_points`]); offsets and lines are unchanged.
pub fn analyze(language: Language, source: &str, limits: ChunkLimits) -> Result<FileFacts, SyntaxError> {
    if source.len() >= u32::MAX as usize {
        return Err(SyntaxError::TooLarge(source.len()));
    }
    let source = &*without_unsafe_code_points(source);
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language.grammar()).map_err(|e| SyntaxError::Grammar { language, message: e.to_string() })?;
    let tree = parser.parse(source, None).ok_or(SyntaxError::NoTree(language))?;
    let root = tree.root_node();
    let extracted = extract::extract(language, source, root);
    let chunks = chunk::chunk_file(language, source, root, &extracted.symbols, limits);
    let lines = if source.is_empty() { 0 } else { source.lines().count() as u32 };
    Ok(FileFacts {
        language,
        symbols: extracted.symbols,
        references: extracted.references,
        imports: extracted.imports,
        chunks,
        lines,
        has_errors: root.has_error(),
    })
}
