//! Typed read access to one indexed file of a committed index.

use std::ops::RangeInclusive;

use sextant_graph::SymbolId;
use sextant_syntax::{Chunk, FileFacts, Import, Language, Reference, Symbol};

use crate::store::FileRecord;

/// One indexed file as the committed index describes it: its path, content hash, language and what was extracted
/// from it. A cheap, copyable view borrowed from an [`Index`](crate::Index).
#[derive(Clone, Copy)]
pub struct IndexedFile<'a> {
    id: u32,
    record: &'a FileRecord,
}

impl<'a> IndexedFile<'a> {
    pub(crate) fn new(id: u32, record: &'a FileRecord) -> IndexedFile<'a> {
        IndexedFile { id, record }
    }

    /// The file's id: its position among the index's files (sorted by path), which is also its `Node::File` in
    /// the graph and the `file` of its symbols' [`SymbolId`]s.
    pub fn id(self) -> u32 {
        self.id
    }

    /// Repository-relative path with `/` separators.
    pub fn path(self) -> &'a str {
        &self.record.path
    }

    /// The language it was parsed as.
    pub fn language(self) -> Language {
        self.record.facts.language
    }

    /// xxh3-128 of the content as indexed; equal to [`content_hash`](crate::content_hash) of the file's bytes
    /// while the file is unchanged on disk.
    pub fn hash(self) -> u128 {
        self.record.hash
    }

    /// Size in bytes when indexed.
    pub fn size(self) -> u64 {
        self.record.size
    }

    /// Number of lines when indexed.
    pub fn lines(self) -> u32 {
        self.record.facts.lines
    }

    /// Whether the parser met syntax errors (the facts then cover what it could recover).
    pub fn has_errors(self) -> bool {
        self.record.facts.has_errors
    }

    /// Everything extracted from the file (what the graph linker reads).
    pub fn facts(self) -> &'a FileFacts {
        &self.record.facts
    }

    /// The symbols defined in the file; a symbol's position here is the `symbol` of its [`SymbolId`].
    pub fn symbols(self) -> &'a [Symbol] {
        &self.record.facts.symbols
    }

    /// The symbols whose first line lies in `lines`, with their ids, in file order.
    pub fn symbols_starting_in(self, lines: RangeInclusive<u32>) -> impl Iterator<Item = (SymbolId, &'a Symbol)> + 'a {
        let file = self.id;
        self.symbols()
            .iter()
            .enumerate()
            .filter(move |(_, symbol)| lines.contains(&symbol.span.start_line))
            .map(move |(position, symbol)| (SymbolId { file, symbol: position as u32 }, symbol))
    }

    /// The references (calls, type uses, identifiers) the file makes.
    pub fn references(self) -> &'a [Reference] {
        &self.record.facts.references
    }

    /// The file's imports.
    pub fn imports(self) -> &'a [Import] {
        &self.record.facts.imports
    }

    /// The file's chunks in file order; they are whole lines and never overlap.
    pub fn chunks(self) -> &'a [Chunk] {
        &self.record.facts.chunks
    }

    /// The chunk holding `line` (1-based), with its position among the file's chunks.
    pub fn chunk_at_line(self, line: u32) -> Option<(u32, &'a Chunk)> {
        chunk_at_line(self.chunks(), line)
    }

    /// The chunk whose first line is `line` (1-based).
    pub fn chunk_starting_at(self, line: u32) -> Option<&'a Chunk> {
        self.chunk_at_line(line).map(|(_, chunk)| chunk).filter(|chunk| chunk.span.start_line == line)
    }
}

impl std::fmt::Debug for IndexedFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedFile").field("id", &self.id).field("path", &self.path()).finish_non_exhaustive()
    }
}

/// The chunk of `chunks` (a file's, in file order) that holds `line`, with its position.
pub(crate) fn chunk_at_line(chunks: &[Chunk], line: u32) -> Option<(u32, &Chunk)> {
    // Chunks are in file order and never overlap, so the first one ending at or after `line` is the only
    // candidate.
    let position = chunks.partition_point(|c| c.span.end_line < line);
    chunks.get(position).filter(|c| c.span.start_line <= line).map(|c| (position as u32, c))
}
