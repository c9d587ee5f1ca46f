//! Overview excerpts and rule files as pack items.

use sextant_overview::{markdown_page, rules, LinkStyle, Overview, RuleKind};

use crate::{ItemKind, PackItem, TokenizerChoice};

/// Keeps whole lines of `text` while the count stays within `allowance`.
fn fit_lines(text: &str, allowance: usize, tokenizer: TokenizerChoice) -> Option<(String, u32)> {
    let tokens = tokenizer.count(text);
    if tokens <= allowance {
        return Some((text.to_string(), tokens as u32));
    }
    let lines: Vec<&str> = text.lines().collect();
    // Binary search on the number of lines that fit.
    let (mut low, mut high) = (0usize, lines.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        let candidate = format!("{}\n…\n", lines[..mid].join("\n"));
        if tokenizer.count(&candidate) <= allowance {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    if low < 2 {
        return None;
    }
    let text = format!("{}\n…\n", lines[..low].join("\n"));
    let tokens = tokenizer.count(&text) as u32;
    Some((text, tokens))
}

/// The overview page of the module holding `top_file`, cut to `allowance` tokens.
pub(crate) fn overview_item(
    overview: &Overview,
    top_file: Option<&str>,
    allowance: usize,
    tokenizer: TokenizerChoice,
) -> Option<PackItem> {
    let module = top_file.map_or(0, |f| overview.module_of(f));
    let page = markdown_page(overview, Some(module), allowance * 4, LinkStyle::Plain);
    let (content, tokens) = fit_lines(&page, allowance, tokenizer)?;
    let m = &overview.modules[module];
    Some(PackItem {
        path: m.path.clone(),
        start_line: 0,
        end_line: 0,
        symbol: m.name.clone(),
        kind: ItemKind::Overview,
        score: 0.0,
        tokens,
        reason: match top_file {
            Some(file) => format!("overview of the module holding the top-ranked file {file}"),
            None => "repository overview".to_string(),
        },
        content,
    })
}

/// Rule files governing the best-ranked files, most specific first, within `allowance` tokens in total.
pub(crate) fn rule_items(
    overview: &Overview,
    ranked_files: &[String],
    allowance: usize,
    tokenizer: TokenizerChoice,
) -> Vec<PackItem> {
    let mut items: Vec<PackItem> = Vec::new();
    let mut used = 0usize;
    for file in ranked_files.iter().take(10) {
        for rule in rules::applicable(&overview.rules, file) {
            if items.iter().any(|i| i.path == rule.source) || (rule.kind == RuleKind::Contributing && items.len() >= 2)
            {
                continue;
            }
            let scope = if !rule.globs.is_empty() {
                rule.globs.join(", ")
            } else if rule.scope.is_empty() {
                "the whole repository".to_string()
            } else {
                format!("{}/", rule.scope)
            };
            let text = format!("## Rules from {} (apply to {scope})\n{}\n", rule.source, rule.text.trim_end());
            let Some((content, tokens)) = fit_lines(&text, allowance.saturating_sub(used), tokenizer) else { continue };
            used += tokens as usize + 1;
            items.push(PackItem {
                path: rule.source.clone(),
                start_line: 0,
                end_line: 0,
                symbol: String::new(),
                kind: ItemKind::Rule,
                score: 0.0,
                tokens,
                reason: format!("governs {file}"),
                content,
            });
        }
    }
    items
}
