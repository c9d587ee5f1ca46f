//! A fast token-count estimate for code, close to what BPE tokenizers (cl100k/o200k) produce.
//!
//! Chunking needs a size measure on every line of every file, so this is a single pass with no tables: identifier
//! runs cost about one token per four characters, each punctuation character one token, and each line break with
//! its indentation one token. Exact counts for budgets are the pack builder's job.

/// Estimated token count of `text`.
pub fn estimate_tokens(text: &str) -> usize {
    let mut tokens = 0usize;
    let mut word_len = 0usize;
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word_len += 1;
            continue;
        }
        if word_len > 0 {
            tokens += word_len.div_ceil(4);
            word_len = 0;
        }
        // A line break counts once with its indentation; other spaces merge into the next token.
        if c == '\n' || !c.is_whitespace() {
            tokens += 1;
        }
    }
    tokens + word_len.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::estimate_tokens;

    #[test]
    fn counts_words_punctuation_and_lines() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("fn"), 1);
        assert_eq!(estimate_tokens("fn main() {}"), 6);
        assert_eq!(estimate_tokens("a\nb\n"), 4);
        assert_eq!(estimate_tokens("extraordinarily_long"), 5);
    }
}
