//! Rule files for agents (AGENTS.md, CLAUDE.md, Cursor, Copilot, Windsurf, CONTRIBUTING) and the paths they govern.

use globset::{Glob, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::manifests::truncate;

/// Longest rule text kept.
const MAX_RULE_CHARS: usize = 6_000;

/// Which convention a rule file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleKind {
    /// `AGENTS.md`: applies to its directory tree; the nearest one wins.
    Agents,
    /// `CLAUDE.md`: applies to its directory tree; all ancestors apply.
    Claude,
    /// `.cursorrules`: the whole repository.
    CursorLegacy,
    /// `.cursor/rules/*.mdc`: by `globs` or `alwaysApply`.
    Cursor,
    /// `.github/copilot-instructions.md`: the whole repository.
    Copilot,
    /// `.github/instructions/*.instructions.md`: by `applyTo`.
    CopilotScoped,
    /// `.windsurfrules`: the whole repository.
    Windsurf,
    /// `CONTRIBUTING.md`: the whole repository.
    Contributing,
}

/// A rule file and what it governs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Repository-relative path of the rule file.
    pub source: String,
    /// Its convention.
    pub kind: RuleKind,
    /// Directory it governs (`""` for the whole repository).
    pub scope: String,
    /// Globs (repository-relative) it applies to, when the convention has them.
    pub globs: Vec<String>,
    /// Applies everywhere in its scope regardless of globs.
    pub always: bool,
    /// The rule text (frontmatter removed, bounded).
    pub text: String,
}

/// Recognises a rule file by its repository-relative path; `text` is its content.
pub fn parse_rule(path: &str, text: &str) -> Option<Rule> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let (kind, scope) = match (dir, name) {
        (_, "AGENTS.md") => (RuleKind::Agents, dir),
        (_, "CLAUDE.md") => (RuleKind::Claude, dir),
        ("", ".cursorrules") => (RuleKind::CursorLegacy, ""),
        ("", ".windsurfrules") => (RuleKind::Windsurf, ""),
        ("", "CONTRIBUTING.md") | (".github", "CONTRIBUTING.md") => (RuleKind::Contributing, ""),
        (".github", "copilot-instructions.md") => (RuleKind::Copilot, ""),
        (d, n) if d.ends_with(".cursor/rules") && n.ends_with(".mdc") => (RuleKind::Cursor, ""),
        (".github/instructions", n) if n.ends_with(".instructions.md") => (RuleKind::CopilotScoped, ""),
        _ => return None,
    };
    let (front, body) = split_frontmatter(text);
    let mut globs = Vec::new();
    let mut always = !matches!(kind, RuleKind::Cursor | RuleKind::CopilotScoped);
    for line in front.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "globs" | "applyTo" => {
                globs.extend(
                    value
                        .trim_matches(['[', ']'])
                        .split(',')
                        .map(|g| g.trim().trim_matches(['"', '\'']).to_string())
                        .filter(|g| !g.is_empty()),
                );
            }
            "alwaysApply" => always |= value == "true",
            _ => {}
        }
    }
    if kind == RuleKind::CopilotScoped && globs.iter().any(|g| g == "**" || g == "**/*") {
        always = true;
    }
    Some(Rule {
        source: path.to_string(),
        kind,
        scope: scope.to_string(),
        globs,
        always,
        text: truncate(body.trim(), MAX_RULE_CHARS),
    })
}

fn split_frontmatter(text: &str) -> (&str, &str) {
    if let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) {
        if let Some(end) = rest.find("\n---") {
            let body_start = rest[end + 4..].find('\n').map_or(rest.len(), |i| end + 4 + i + 1);
            return (&rest[..end], &rest[body_start.min(rest.len())..]);
        }
    }
    ("", text)
}

fn in_scope(scope: &str, path: &str) -> bool {
    scope.is_empty() || path == scope || path.starts_with(&format!("{scope}/"))
}

/// The rules that govern `path`, most specific first. Of several AGENTS.md only the nearest applies.
pub fn applicable<'a>(rules: &'a [Rule], path: &str) -> Vec<&'a Rule> {
    let mut out: Vec<&Rule> = Vec::new();
    let nearest_agents =
        rules.iter().filter(|r| r.kind == RuleKind::Agents && in_scope(&r.scope, path)).max_by_key(|r| r.scope.len());
    if let Some(agents) = nearest_agents {
        out.push(agents);
    }
    for rule in rules {
        let applies = match rule.kind {
            RuleKind::Agents => false,
            RuleKind::Claude => in_scope(&rule.scope, path),
            RuleKind::Cursor | RuleKind::CopilotScoped => {
                rule.always || {
                    let mut set = GlobSetBuilder::new();
                    for glob in &rule.globs {
                        // Cursor and Copilot globs like `*.ts` match at any depth.
                        let pattern = if glob.contains('/') { glob.clone() } else { format!("**/{glob}") };
                        if let Ok(g) = Glob::new(&pattern) {
                            set.add(g);
                        }
                    }
                    set.build().is_ok_and(|s| s.is_match(path))
                }
            }
            _ => true,
        };
        if applies {
            out.push(rule);
        }
    }
    out.sort_by(|a, b| {
        b.scope
            .len()
            .cmp(&a.scope.len())
            .then_with(|| priority(a.kind).cmp(&priority(b.kind)))
            .then_with(|| a.source.cmp(&b.source))
    });
    out
}

fn priority(kind: RuleKind) -> u8 {
    match kind {
        RuleKind::Agents => 0,
        RuleKind::Claude => 1,
        RuleKind::Cursor | RuleKind::CopilotScoped => 2,
        RuleKind::CursorLegacy | RuleKind::Copilot | RuleKind::Windsurf => 3,
        RuleKind::Contributing => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_globs_and_nearest_agents() {
        let rules: Vec<Rule> = [
            ("AGENTS.md", "Root agent rules."),
            ("services/api/AGENTS.md", "API agent rules."),
            ("CLAUDE.md", "Claude rules."),
            (
                ".cursor/rules/react.mdc",
                "---\ndescription: React\nglobs: *.tsx, web/**/*.ts\nalwaysApply: false\n---\nUse hooks.",
            ),
            (".cursor/rules/always.mdc", "---\nalwaysApply: true\n---\nBe nice."),
            (".github/instructions/py.instructions.md", "---\napplyTo: \"**/*.py\"\n---\nType hints."),
            (".github/copilot-instructions.md", "Copilot rules."),
            ("docs/README.md", "not a rule"),
        ]
        .iter()
        .filter_map(|(p, t)| parse_rule(p, t))
        .collect();
        assert_eq!(rules.len(), 7);
        let names = |path: &str| applicable(&rules, path).iter().map(|r| r.source.clone()).collect::<Vec<_>>();
        let api = names("services/api/handler.py");
        assert_eq!(api[0], "services/api/AGENTS.md", "nearest AGENTS.md first");
        assert!(!api.contains(&"AGENTS.md".to_string()), "only the nearest AGENTS.md applies");
        assert!(api.contains(&".github/instructions/py.instructions.md".to_string()));
        assert!(!api.contains(&".cursor/rules/react.mdc".to_string()));
        let web = names("web/src/App.tsx");
        assert!(web.contains(&".cursor/rules/react.mdc".to_string()));
        assert!(web.contains(&"AGENTS.md".to_string()));
        assert!(web.contains(&".cursor/rules/always.mdc".to_string()));
        let react = rules.iter().find(|r| r.source.ends_with("react.mdc")).unwrap();
        assert_eq!(react.text, "Use hooks.");
        assert_eq!(react.globs, ["*.tsx", "web/**/*.ts"]);
    }
}
