//! Chunking along syntax boundaries.
//!
//! A file's top-level nodes become segments (a definition with its leading comments is one unit). A segment over
//! the token limit is split into its body's children, recursively, with its header riding on the first piece and
//! its closing lines on the last; a node with no usable children is split by lines. Small neighbours (statements,
//! tiny definitions) are then merged up to the limit, while definitions of real size stay on their own. Chunks are
//! whole lines and never overlap.

use tree_sitter::Node;

use crate::extract::content_end;
use crate::languages::LanguageSpec;
use crate::tokens::estimate_tokens;
use crate::{Chunk, ChunkLimits, Language, Span, Symbol};

#[derive(Debug, Clone, Copy)]
struct Segment {
    start_row: usize,
    end_row: usize,
    /// A definition (or the piece of one) that deserves its own chunk when big enough.
    unit: bool,
    /// Pieces of one split node share a group; merging never crosses groups, so a big function's statements
    /// do not fuse with its small neighbours.
    group: u32,
}

struct Lines {
    /// Byte offset where each line starts, plus one final entry at the end of the text.
    starts: Vec<usize>,
    /// Prefix sums of per-line token estimates.
    token_prefix: Vec<usize>,
}

impl Lines {
    fn new(source: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        if *starts.last().unwrap_or(&0) != source.len() {
            starts.push(source.len());
        }
        let mut token_prefix = Vec::with_capacity(starts.len());
        token_prefix.push(0);
        for pair in starts.windows(2) {
            let tokens = estimate_tokens(&source[pair[0]..pair[1]]);
            token_prefix.push(token_prefix.last().copied().unwrap_or(0) + tokens);
        }
        Lines { starts, token_prefix }
    }

    fn count(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn tokens(&self, start_row: usize, end_row: usize) -> usize {
        let end = (end_row + 1).min(self.count());
        self.token_prefix[end].saturating_sub(self.token_prefix[start_row.min(end)])
    }
}

pub(crate) fn chunk_file(
    language: Language,
    source: &str,
    root: Node,
    symbols: &[Symbol],
    limits: ChunkLimits,
) -> Vec<Chunk> {
    let lines = Lines::new(source);
    if lines.count() == 0 {
        return Vec::new();
    }
    let chunker = Chunker { language, source, lines: &lines, limits, next_group: std::cell::Cell::new(1) };
    let mut segments = Vec::new();
    chunker.segments_of_children(root, 0, 0, &mut segments);
    if segments.is_empty() {
        chunker.split_lines(0, lines.count() - 1, false, 0, &mut segments);
    }
    let merged = chunker.merge(segments);
    merged
        .into_iter()
        .filter(|s| lines.tokens(s.start_row, s.end_row) > 0)
        .map(|s| {
            let span = Span {
                start_byte: lines.starts[s.start_row] as u32,
                end_byte: lines.starts[(s.end_row + 1).min(lines.count())] as u32,
                start_line: s.start_row as u32 + 1,
                end_line: s.end_row as u32 + 1,
            };
            let (symbol_path, names) = chunk_symbols(symbols, &span);
            Chunk { span, symbol_path, symbols: names, tokens: lines.tokens(s.start_row, s.end_row) as u32 }
        })
        .collect()
}

/// The innermost symbol containing the chunk, and the symbols that start inside it.
fn chunk_symbols(symbols: &[Symbol], span: &Span) -> (String, Vec<String>) {
    let mut enclosing: Option<&Symbol> = None;
    let mut inside = Vec::new();
    for symbol in symbols {
        let s = &symbol.span;
        if s.start_line <= span.start_line && s.end_line >= span.end_line {
            if enclosing.is_none_or(|e| e.span.start_byte <= s.start_byte) {
                enclosing = Some(symbol);
            }
        } else if s.start_line >= span.start_line && s.start_line <= span.end_line && inside.len() < 16 {
            inside.push(symbol.qualified_name.clone());
        }
    }
    (enclosing.map(|s| s.qualified_name.clone()).unwrap_or_default(), inside)
}

struct Chunker<'a> {
    language: Language,
    source: &'a str,
    lines: &'a Lines,
    limits: ChunkLimits,
    next_group: std::cell::Cell<u32>,
}

impl Chunker<'_> {
    fn is_comment(&self, kind: &str) -> bool {
        self.language.spec().comments.contains(&kind)
    }

    fn is_unit(&self, node: Node) -> bool {
        let spec = self.language.spec();
        let kind = node.kind();
        if spec.defs.iter().any(|(k, _)| *k == kind) || spec.scopes.iter().any(|(k, _)| *k == kind) {
            return true;
        }
        // Wrappers (export, decorators, templates) and declarations holding a function count as their content.
        if spec.wrappers.contains(&kind)
            || matches!(
                kind,
                "lexical_declaration" | "variable_declaration" | "type_declaration" | "expression_statement"
            )
        {
            return (0..node.named_child_count()).filter_map(|i| node.named_child(i)).any(|c| self.is_unit(c));
        }
        false
    }

    fn rows(&self, node: Node) -> (usize, usize) {
        let start = node.start_position().row;
        // A node ending at column 0, or in whitespace, ends on its last line with text.
        let end = content_end(node, self.source).1.max(start);
        (start, end)
    }

    fn segments_of_children(&self, container: Node, depth: usize, group: u32, out: &mut Vec<Segment>) {
        let mut pending_comment: Option<(usize, usize)> = None;
        let mut cursor = container.walk();
        for child in container.named_children(&mut cursor) {
            let (start_row, end_row) = self.rows(child);
            if self.is_comment(child.kind()) {
                pending_comment = Some(match pending_comment {
                    Some((s, e)) if start_row <= e + 1 => (s, end_row),
                    Some(previous) => {
                        out.push(Segment { start_row: previous.0, end_row: previous.1, unit: false, group });
                        (start_row, end_row)
                    }
                    None => (start_row, end_row),
                });
                continue;
            }
            let unit = self.is_unit(child);
            // A comment directly above a definition belongs to it.
            let mut header_start = start_row;
            if let Some((s, e)) = pending_comment.take() {
                if unit && e + 1 >= start_row {
                    header_start = s;
                } else {
                    out.push(Segment { start_row: s, end_row: e, unit: false, group });
                }
            }
            if self.lines.tokens(header_start, end_row) <= self.limits.max_tokens {
                out.push(Segment { start_row: header_start, end_row, unit, group });
                continue;
            }
            self.split_node(child, header_start, end_row, unit, depth, out);
        }
        if let Some((s, e)) = pending_comment {
            out.push(Segment { start_row: s, end_row: e, unit: false, group });
        }
    }

    /// Splits an oversized node into the children of its body, header and footer attached to the ends.
    fn split_node(
        &self,
        node: Node,
        start_row: usize,
        end_row: usize,
        unit: bool,
        depth: usize,
        out: &mut Vec<Segment>,
    ) {
        let body = if depth < 8 { find_body(node, self.language.spec()) } else { None };
        let group = self.next_group.get();
        self.next_group.set(group + 1);
        let Some(body) = body else {
            self.split_lines(start_row, end_row, unit, group, out);
            return;
        };
        let first = out.len();
        self.segments_of_children(body, depth + 1, group, out);
        if out.len() == first {
            self.split_lines(start_row, end_row, unit, group, out);
            return;
        }
        let last = out.len() - 1;
        out[first].start_row = out[first].start_row.min(start_row);
        out[last].end_row = out[last].end_row.max(end_row);
        // A header or footer too big to ride along (a long signature, say) becomes its own piece.
        if self.lines.tokens(out[first].start_row, out[first].end_row) > self.limits.max_tokens
            && out[first].start_row < start_row.max(self.rows(body).0)
        {
            let header_end = self.rows(body).0.max(start_row);
            out[first].start_row = header_end;
            let mut header = Vec::new();
            self.split_lines(start_row, header_end.saturating_sub(1).max(start_row), unit, group, &mut header);
            out.splice(first..first, header);
        }
    }

    fn split_lines(&self, start_row: usize, end_row: usize, unit: bool, group: u32, out: &mut Vec<Segment>) {
        let mut piece_start = start_row;
        for row in start_row..=end_row {
            if row > piece_start && self.lines.tokens(piece_start, row) > self.limits.max_tokens {
                out.push(Segment { start_row: piece_start, end_row: row - 1, unit, group });
                piece_start = row;
            }
        }
        out.push(Segment { start_row: piece_start, end_row, unit, group });
    }

    /// Orders segments, folds overlaps, and merges small neighbours up to the limit.
    fn merge(&self, mut segments: Vec<Segment>) -> Vec<Segment> {
        segments.sort_by_key(|s| (s.start_row, s.end_row));
        let mut disjoint: Vec<Segment> = Vec::with_capacity(segments.len());
        for segment in segments {
            match disjoint.last_mut() {
                Some(last) if segment.start_row <= last.end_row => {
                    last.end_row = last.end_row.max(segment.end_row);
                    last.unit |= segment.unit;
                }
                _ => disjoint.push(segment),
            }
        }
        let small = |s: &Segment| !s.unit || self.lines.tokens(s.start_row, s.end_row) < self.limits.min_tokens;
        let mut merged: Vec<Segment> = Vec::with_capacity(disjoint.len());
        let mut last_small = false;
        for segment in disjoint {
            let segment_small = small(&segment);
            if let Some(last) = merged.last_mut() {
                if last_small
                    && segment_small
                    && last.group == segment.group
                    && self.lines.tokens(last.start_row, segment.end_row) <= self.limits.max_tokens
                {
                    last.end_row = segment.end_row;
                    last.unit |= segment.unit;
                    continue;
                }
            }
            last_small = segment_small;
            merged.push(segment);
        }
        merged
    }
}

/// The node whose children are the pieces of `node`: its body, the body of the definition it wraps, or itself.
fn find_body<'t>(node: Node<'t>, spec: &LanguageSpec) -> Option<Node<'t>> {
    let mut candidate = node;
    for _ in 0..4 {
        if let Some(body) = spec.body_of(candidate) {
            if body.named_child_count() >= 2 {
                return Some(body);
            }
            // Bodies like Rust's `declaration_list` or a block wrapped once more.
            if let Some(inner) = body.named_child(0).filter(|_| body.named_child_count() == 1) {
                if inner.named_child_count() >= 2 {
                    return Some(inner);
                }
            }
            return None;
        }
        // Wrappers: look inside the wrapped definition.
        let wrapped = (0..candidate.named_child_count())
            .filter_map(|i| candidate.named_child(i))
            .find(|c| spec.body_of(*c).is_some() || c.named_child_count() >= 2);
        match wrapped {
            Some(w) if w.id() != candidate.id() && w.byte_range().len() * 2 > candidate.byte_range().len() => {
                candidate = w
            }
            _ => break,
        }
    }
    (node.named_child_count() >= 2).then_some(node)
}
