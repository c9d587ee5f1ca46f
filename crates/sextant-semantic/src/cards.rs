//! File cards: a few short texts per file (its path, then the signatures of what it defines, with the first
//! sentence of the docs of its top-level and type definitions) embedded before any chunk.
//!
//! Chunk vectors cost one model call per piece of code: about 80,000 texts on a 1.2M-line repository, most of an
//! hour on two cores. A file's cards are built from the index alone (no file is read), and a repository has
//! an order of magnitude fewer of them than chunks, each a short text; so semantic evidence at file level exists
//! minutes after the keyword index, and packs use it while chunk vectors are still being computed.

use sextant_embed::text_key;
use sextant_index::IndexedFile;
use sextant_syntax::{Symbol, SymbolKind};
use sextant_vector::point_id;

/// Model tokens a card is written for. The default model was trained on inputs of 128 tokens, and a shorter
/// text costs less than half of a 256-token one to embed.
pub(crate) const CARD_TOKENS: usize = 128;
/// Characters per card: four per token leaves slack for code's short word pieces.
const CARD_CHARS: usize = CARD_TOKENS * 4;
/// Cards per file at most: a huge file's later definitions are left out rather than tripling its cost.
pub(crate) const MAX_CARDS_PER_FILE: usize = 2;
/// Characters of a doc comment kept: its first sentence, at most this long.
const DOC_CHARS: usize = 120;

/// One card of a file, ready to embed.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCard {
    /// The text embedded.
    pub text: String,
    /// First line of the definitions it covers (1 for a file without definitions).
    pub start_line: u32,
    /// Last line of the definitions it covers.
    pub end_line: u32,
    /// Its cache key (a hash of the text).
    pub key: u128,
    /// Its point id in the file-card store.
    pub id: u64,
}

/// The cards of `file`: its path on every card, then one line per definition in source order, split into cards
/// of at most [`CARD_CHARS`] characters, at most [`MAX_CARDS_PER_FILE`] of them. A file without definitions
/// (Markdown, configuration) gets one card of its path and the headings or names its chunks carry.
pub fn file_cards(file: IndexedFile<'_>) -> Vec<FileCard> {
    let path = file.path();
    let mut lines: Vec<(String, u32, u32)> = file
        .symbols()
        .iter()
        .map(|symbol| (definition_line(symbol), symbol.span.start_line, symbol.span.end_line))
        .filter(|(line, _, _)| !line.is_empty())
        .collect();
    if lines.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for chunk in file.chunks() {
            for name in std::iter::once(chunk.symbol_path.as_str()).chain(chunk.symbols.iter().map(String::as_str)) {
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let line = names.join(" ");
        lines.push((line, 1, file.lines().max(1)));
    }
    cards_of_lines(path, lines)
}

/// Packs `(text, first line, last line)` entries in order into cards that each start with `path`.
fn cards_of_lines(path: &str, lines: Vec<(String, u32, u32)>) -> Vec<FileCard> {
    let mut cards: Vec<FileCard> = Vec::new();
    let mut text = String::new();
    let (mut start, mut end) = (0u32, 0u32);
    for (line, line_start, line_end) in lines {
        if !text.is_empty() && text.len() + 1 + line.len() > CARD_CHARS && text.len() > path.len() {
            cards.push(card(path, std::mem::take(&mut text), start, end));
            if cards.len() == MAX_CARDS_PER_FILE {
                return cards;
            }
        }
        if text.is_empty() {
            text.push_str(path);
            (start, end) = (line_start, line_end);
        }
        if !line.is_empty() {
            text.push('\n');
            text.push_str(&line);
        }
        end = end.max(line_end);
        if text.len() > CARD_CHARS {
            let mut cut = CARD_CHARS;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
    }
    if !text.is_empty() {
        cards.push(card(path, text, start, end));
    }
    cards
}

fn card(path: &str, text: String, start_line: u32, end_line: u32) -> FileCard {
    let key = text_key(&text);
    let end_line = end_line.max(start_line);
    FileCard { id: point_id(path, start_line, end_line, key), text, start_line, end_line, key }
}

/// What a definition contributes to its file's card: its declaration header (or kind and name when the
/// grammar gave none), and for top-level and type definitions the first sentence of its docs.
fn definition_line(symbol: &Symbol) -> String {
    let mut line = if symbol.signature.trim().is_empty() {
        format!("{} {}", symbol.kind.as_str(), symbol.qualified_name)
    } else {
        symbol.signature.trim().to_string()
    };
    let documented = symbol.parent.is_none()
        || matches!(
            symbol.kind,
            SymbolKind::Class
                | SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Trait
                | SymbolKind::Interface
                | SymbolKind::Module
        );
    if let Some(doc) = symbol.doc.as_deref().filter(|_| documented) {
        let sentence = first_sentence(doc);
        if !sentence.is_empty() {
            line.push_str(" — ");
            line.push_str(sentence);
        }
    }
    line
}

/// The first sentence of a doc comment (up to its first `. ` or blank line), at most [`DOC_CHARS`] bytes, cut on
/// a character boundary.
fn first_sentence(doc: &str) -> &str {
    let doc = doc.trim();
    let mut end = doc.len();
    if let Some(blank) = doc.find("\n\n") {
        end = end.min(blank);
    }
    if let Some(stop) = doc.find(". ") {
        end = end.min(stop + 1);
    }
    if end > DOC_CHARS {
        end = DOC_CHARS;
        while !doc.is_char_boundary(end) {
            end -= 1;
        }
    }
    doc[..end].trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_files_get_at_most_two_cards_each_starting_with_the_path() {
        let lines: Vec<(String, u32, u32)> = (0..100u32)
            .map(|i| (format!("pub fn handler_number_{i}(request: &Request) -> Response"), i * 10 + 1, i * 10 + 9))
            .collect();
        let cards = cards_of_lines("src/handlers.rs", lines);
        assert_eq!(cards.len(), MAX_CARDS_PER_FILE);
        for card in &cards {
            assert!(card.text.starts_with("src/handlers.rs\npub fn handler_number_"), "{}", card.text);
            assert!(card.text.len() <= CARD_CHARS, "{}", card.text.len());
        }
        // The second card starts where the first stopped, and the line ranges follow the definitions.
        let first_count = cards[0].text.lines().count() as u32 - 1;
        assert_eq!((cards[0].start_line, cards[0].end_line), (1, first_count * 10 - 1));
        assert_eq!(cards[1].start_line, first_count * 10 + 1);
        assert!(cards[1].text.contains(&format!("handler_number_{first_count}(")));
        assert_ne!(cards[0].id, cards[1].id);

        // One overlong definition is cut at the card size, on a character boundary.
        let cards = cards_of_lines("a.rs", vec![("é".repeat(1000), 1, 3)]);
        assert_eq!(cards.len(), 1);
        assert!(cards[0].text.len() <= CARD_CHARS && cards[0].text.starts_with("a.rs\né"));
    }

    #[test]
    fn a_first_sentence_stops_at_a_full_stop_or_a_blank_line_and_on_a_char_boundary() {
        assert_eq!(first_sentence("Parses the input. Then checks it."), "Parses the input.");
        assert_eq!(first_sentence("  Reads a file\n\nMore text."), "Reads a file");
        let long = "é".repeat(200);
        let cut = first_sentence(&long);
        assert!(cut.len() <= DOC_CHARS && cut.chars().all(|c| c == 'é'), "{cut}");
    }
}
