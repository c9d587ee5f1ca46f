//! What text stands for a chunk when it is embedded.
//!
//! A small model reads at most a few hundred tokens, and code spends tokens fast (every bracket is one), so
//! the text leads with what names the chunk — its path and enclosing symbol — followed by the code with
//! indentation and blank lines removed (they carry no meaning for the model), cut at a character budget
//! well past the token window so the tokenizer never chews through a huge chunk only to drop most of it.

/// Characters kept per model token: code averages about three characters per word piece, so four leaves slack.
const CHARS_PER_TOKEN: usize = 4;

/// The text embedded for one chunk.
pub fn chunk_text(path: &str, symbol_path: &str, code: &str, max_tokens: usize) -> String {
    let budget = max_tokens.saturating_mul(CHARS_PER_TOKEN).max(64);
    let mut text = String::with_capacity(budget.min(code.len() + path.len() + symbol_path.len() + 2));
    text.push_str(path);
    if !symbol_path.is_empty() {
        text.push(' ');
        text.push_str(symbol_path);
    }
    for line in code.lines() {
        if text.len() >= budget {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        text.push('\n');
        text.push_str(line);
    }
    if text.len() > budget {
        let mut cut = budget;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// The cache key of an embedded text.
pub fn text_key(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_leads_with_path_and_symbol_and_drops_indentation() {
        let code = "    /// Parses it.\n    fn parse(input: &str) {\n\n        body();\n    }\n";
        let text = chunk_text("src/parser.rs", "Parser::parse", code, 256);
        assert_eq!(text, "src/parser.rs Parser::parse\n/// Parses it.\nfn parse(input: &str) {\nbody();\n}");
    }

    #[test]
    fn long_code_is_cut_at_the_budget_on_a_char_boundary() {
        let code = "é".repeat(10_000);
        let text = chunk_text("a.rs", "", &code, 16);
        assert!(text.len() <= 64, "{}", text.len());
        assert!(text.starts_with("a.rs\n"));
    }

    #[test]
    fn keys_differ_with_text() {
        assert_ne!(text_key("a"), text_key("b"));
        assert_eq!(text_key("a"), text_key("a"));
    }
}
