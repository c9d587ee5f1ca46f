//! The code-aware analyzer: identifiers are kept whole *and* split into their camelCase / snake_case parts, so
//! `parseConfig` matches queries for `parseconfig`, `parse` and `config`; paths split on `/` and `.`.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Longest identifier indexed; longer runs are hashes, base64 or generated noise.
const MAX_WORD_CHARS: usize = 64;

/// Tokenizer registered under [`crate::CODE_TOKENIZER`].
#[derive(Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
}

/// The token stream over pre-computed tokens.
pub struct CodeTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        for_each_term(text, |term, from, to| {
            self.tokens.push(Token { offset_from: from, offset_to: to, position, text: term, position_length: 1 });
            position += 1;
        });
        CodeTokenStream { tokens: &mut self.tokens, next: 0 }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Calls `emit(term, from, to)` for every term of `text`: each identifier lower-cased whole, then its parts.
pub fn for_each_term(text: &str, mut emit: impl FnMut(String, usize, usize)) {
    let mut start: Option<usize> = None;
    let flush = |from: usize, to: usize, emit: &mut dyn FnMut(String, usize, usize)| {
        let word = &text[from..to];
        if word.chars().count() > MAX_WORD_CHARS {
            return;
        }
        let whole = word.to_lowercase();
        let parts = split_identifier(word);
        emit(whole.clone(), from, to);
        if parts.len() > 1 {
            for part in parts {
                let part = part.to_lowercase();
                if !part.is_empty() && part != whole {
                    emit(part, from, to);
                }
            }
        }
    };
    for (i, c) in text.char_indices() {
        let word_char = c.is_alphanumeric() || c == '_';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                flush(s, i, &mut emit);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        flush(s, text.len(), &mut emit);
    }
}

/// Splits `parseHTTPRequest_v2` into `parse`, `HTTP`, `Request`, `v2`.
fn split_identifier(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for piece in word.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<(usize, char)> = piece.char_indices().collect();
        let mut begin = 0;
        for k in 1..chars.len() {
            let (i, c) = chars[k];
            let prev = chars[k - 1].1;
            let next_is_lower = chars.get(k + 1).is_some_and(|(_, n)| n.is_lowercase());
            let boundary = (c.is_uppercase() && prev.is_lowercase())
                || (c.is_uppercase() && prev.is_uppercase() && next_is_lower)
                || (c.is_alphabetic() && prev.is_ascii_digit() && c.is_uppercase());
            if boundary {
                parts.push(&piece[begin..i]);
                begin = i;
            }
        }
        parts.push(&piece[begin..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_term(text, |t, _, _| out.push(t));
        out
    }

    #[test]
    fn splits_identifiers_and_keeps_them_whole() {
        assert_eq!(terms("parseConfig"), ["parseconfig", "parse", "config"]);
        assert_eq!(terms("read_file_v2"), ["read_file_v2", "read", "file", "v2"]);
        assert_eq!(terms("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(terms("src/lib.rs"), ["src", "lib", "rs"]);
        assert_eq!(terms("x"), ["x"]);
        assert_eq!(terms("fn main() {}"), ["fn", "main"]);
    }

    #[test]
    fn drops_overlong_runs_and_handles_unicode() {
        let long = "a".repeat(100);
        assert!(terms(&long).is_empty());
        assert_eq!(terms("größe Überblick"), ["größe", "überblick"]);
    }
}
