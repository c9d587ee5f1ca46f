//! Files that change together, mined from git history: a ranking signal for "what else does this change need".
//!
//! The miner walks first-parent history from HEAD (at most [`MAX_COMMITS`] commits), takes the files each commit
//! changed (skipping merges and sweeping commits that touch more than [`MAX_FILES_PER_COMMIT`] files, whose
//! pairings say nothing), and counts, per file, the commits it shared with each other file. Only the strongest
//! partners of each file are kept. The result is stored beside the index with the HEAD it was mined at; when
//! HEAD moves forward, only the new commits are walked and added.
//!
//! The terms of the newest commits' messages are kept with their files too ([`CoChange::files_by_message`]): a
//! task worded like past commits ("automated protocol for alterReplicaLogDirs") points at the files those commits
//! changed.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Commits walked when mining from scratch.
pub(crate) const MAX_COMMITS: usize = 1_000;
/// Commits that change more files than this (reformatting, renames, vendoring) are skipped.
const MAX_FILES_PER_COMMIT: usize = 30;
/// Partners kept per file.
const PARTNERS_PER_FILE: usize = 12;
/// Commits whose message terms are kept, newest first.
const MAX_NOTES: usize = 1_000;
/// Characters of a commit message read for its terms.
const NOTE_CHARS: usize = 2_000;
/// File name of the co-change table queries read, in the index directory. (Version 2 added the commit notes;
/// the files of version 1 are removed when a table is saved.)
pub(crate) const COCHANGE_FILE: &str = "cochange-2";
/// File name of the miner's counts, read only to add new commits.
pub(crate) const MINING_STATE_FILE: &str = "cochange-state-2";
/// Names of earlier versions' files, removed when the current ones are written.
pub(crate) const OLD_FILES: &[&str] = &["cochange", "cochange-state"];

/// Per file, the files that changed in the same commits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CoChange {
    /// The commit mined up to (inclusive).
    pub head: String,
    /// Commits walked in all.
    pub commits: u64,
    /// Per repository-relative path (of the indexed root): commits that changed it, and its partners with the
    /// commits shared, most shared first.
    pub files: HashMap<String, (u32, Vec<(String, u32)>)>,
    /// The newest commits (at most [`MAX_NOTES`]), newest first: the terms of each message and the files it changed.
    pub notes: Vec<CommitNote>,
    /// [`CoChange::commits_since_change`], worked out on first use: every pack asks for it.
    #[serde(skip)]
    since_change: std::sync::OnceLock<HashMap<String, usize>>,
    /// Per message term, the kept commits ([`CoChange::notes`] positions, newest first) whose message has it:
    /// worked out on first use, so a query reads only the postings of its own terms.
    #[serde(skip)]
    term_notes: std::sync::OnceLock<HashMap<String, Vec<u32>>>,
}

/// What one commit said and changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CommitNote {
    /// The terms of its message (trailers, addresses and links left out), sorted, each once.
    pub terms: Vec<String>,
    /// The files it changed, relative to the indexed root.
    pub files: Vec<String>,
}

/// What the miner keeps between runs so new commits can be added without walking the old ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct MiningState {
    head: String,
    commits: u64,
    /// Shared-commit counts of every pair seen: (path index, path index) into `paths`, smaller index first.
    pairs: HashMap<(u32, u32), u32>,
    /// Commits per path index.
    touched: HashMap<u32, u32>,
    /// The paths the counts refer to.
    paths: Vec<String>,
    /// The newest commits' message terms and changed files (path indices), newest first.
    notes: Vec<(Vec<String>, Vec<u32>)>,
}

impl PartialEq for CoChange {
    /// Equal tables mined alike; what was worked out from them since is not compared.
    fn eq(&self, other: &CoChange) -> bool {
        self.head == other.head
            && self.commits == other.commits
            && self.files == other.files
            && self.notes == other.notes
    }
}

impl CoChange {
    /// The files that changed with `path`, with the share of `path`'s commits they were part of (0..=1), best first.
    pub fn partners(&self, path: &str) -> impl Iterator<Item = (&str, f32)> + '_ {
        self.files.get(path).into_iter().flat_map(|(commits, partners)| {
            let commits = (*commits).max(1) as f32;
            partners.iter().map(move |(p, shared)| (p.as_str(), *shared as f32 / commits))
        })
    }

    /// Per file changed by one of the kept newest commits ([`CoChange::notes`]): how many kept commits are newer
    /// than its last change (0: the newest commit changed it).
    pub fn commits_since_change(&self) -> &HashMap<String, usize> {
        self.since_change.get_or_init(|| {
            let mut age = HashMap::new();
            for (newer, note) in self.notes.iter().enumerate() {
                for file in &note.files {
                    age.entry(file.clone()).or_insert(newer);
                }
            }
            age
        })
    }

    /// Files changed by the past commits whose messages share the most of `terms` (weighted by how rare each term
    /// is among the kept messages), best first with their scores: the best `commits` messages each lend their
    /// score to their files, divided by the square root of how many files they changed.
    pub fn files_by_message(&self, terms: &std::collections::HashSet<String>, commits: usize) -> Vec<(&str, f32)> {
        let term_notes = self.term_notes.get_or_init(|| {
            let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
            for (i, note) in self.notes.iter().enumerate() {
                for term in &note.terms {
                    postings.entry(term.clone()).or_default().push(i as u32);
                }
            }
            postings
        });
        let total = self.notes.len() as f32;
        // In a fixed order, so the sums (and the order of equal commits) do not depend on the set's.
        let mut wanted: Vec<&String> = terms.iter().collect();
        wanted.sort_unstable();
        let mut score_of = vec![0.0f32; self.notes.len()];
        for term in wanted {
            let Some(notes) = term_notes.get(term.as_str()) else { continue };
            let df = notes.len() as f32;
            let weight = ((total - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &i in notes {
                score_of[i as usize] += weight;
            }
        }
        let mut scored: Vec<(usize, f32)> =
            score_of.into_iter().enumerate().filter(|(_, score)| *score > 0.0).collect();
        // Newer first among equals.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut by_file: HashMap<&str, f32> = HashMap::new();
        for &(i, score) in scored.iter().take(commits) {
            let files = &self.notes[i].files;
            let share = score / (files.len().max(1) as f32).sqrt();
            for file in files {
                *by_file.entry(file.as_str()).or_default() += share;
            }
        }
        let mut files: Vec<(&str, f32)> = by_file.into_iter().collect();
        files.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        files
    }
}

/// The terms of a commit message: its words and their identifier parts, lower-case, three characters or more,
/// without trailers (`Reviewers:`, `Signed-off-by:`), e-mail addresses or links, which name people and places
/// rather than code.
fn note_terms(message: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let end = message.char_indices().nth(NOTE_CHARS).map_or(message.len(), |(i, _)| i);
    for line in message[..end].lines().map(str::trim).filter(|line| !is_trailer(line)) {
        for word in line.split_whitespace().filter(|w| !w.contains('@') && !w.contains("://")) {
            sextant_lexical::for_each_term(word, |term, _, _| {
                if term.chars().count() >= 3 {
                    terms.push(term);
                }
            });
        }
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// `Key: value` lines of git trailers and review tools.
fn is_trailer(line: &str) -> bool {
    let Some((key, _)) = line.split_once(':') else { return false };
    let key = key.to_ascii_lowercase();
    matches!(key.as_str(), "reviewers" | "reviewer" | "cc" | "change-id" | "author" | "authors")
        || (key.ends_with("-by") && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl MiningState {
    /// Adds the commits between HEAD and the last mined commit (all of them, up to `limit`, when the previous
    /// state is not an ancestor of HEAD). `None` when `root` is not in a git work tree.
    pub(crate) fn mine(root: &Path, previous: Option<MiningState>, limit: usize) -> Option<MiningState> {
        let repo = git2::Repository::discover(root).ok()?;
        let head = repo.head().ok()?.peel_to_commit().ok()?;
        let head_id = head.id().to_string();
        // Paths in diffs are relative to the work tree; the index's are relative to `root`.
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let root = root.canonicalize().ok()?;
        let prefix = root.strip_prefix(&workdir).ok()?.to_string_lossy().replace('\\', "/");
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };

        let mut state = match previous {
            Some(previous) if previous.head == head_id => return Some(previous),
            Some(previous)
                if git2::Oid::from_str(&previous.head)
                    .ok()
                    .is_some_and(|old| repo.graph_descendant_of(head.id(), old).unwrap_or(false)) =>
            {
                previous
            }
            _ => MiningState::default(),
        };
        let stop = git2::Oid::from_str(&state.head).ok();
        let mut walk = repo.revwalk().ok()?;
        walk.push(head.id()).ok()?;
        walk.simplify_first_parent().ok()?;
        let mut index_of: HashMap<String, u32> =
            state.paths.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect();
        let mut new_notes = Vec::new();
        for oid in walk.take(limit).flatten() {
            if Some(oid) == stop {
                break;
            }
            state.commits += 1;
            let Ok(commit) = repo.find_commit(oid) else { continue };
            if commit.parent_count() > 1 {
                continue;
            }
            let Some(changed) = changed_paths(&repo, &commit, &prefix) else { continue };
            if changed.is_empty() || changed.len() > MAX_FILES_PER_COMMIT {
                continue;
            }
            let ids: Vec<u32> = changed
                .into_iter()
                .map(|path| {
                    let next = index_of.len() as u32;
                    *index_of.entry(path.clone()).or_insert_with(|| {
                        state.paths.push(path);
                        next
                    })
                })
                .collect();
            if new_notes.len() < MAX_NOTES {
                new_notes.push((note_terms(commit.message().unwrap_or_default()), ids.clone()));
            }
            for (i, &a) in ids.iter().enumerate() {
                *state.touched.entry(a).or_default() += 1;
                for &b in &ids[i + 1..] {
                    *state.pairs.entry((a.min(b), a.max(b))).or_default() += 1;
                }
            }
        }
        new_notes.extend(std::mem::take(&mut state.notes));
        new_notes.truncate(MAX_NOTES);
        state.notes = new_notes;
        state.head = head_id;
        Some(state)
    }

    /// The per-file partner lists of the counts.
    pub(crate) fn summarise(&self) -> CoChange {
        let mut partners: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        for (&(a, b), &shared) in &self.pairs {
            partners.entry(a).or_default().push((b, shared));
            partners.entry(b).or_default().push((a, shared));
        }
        let files = partners
            .into_iter()
            .map(|(file, mut list)| {
                list.sort_by(|x, y| {
                    y.1.cmp(&x.1).then_with(|| self.paths[x.0 as usize].cmp(&self.paths[y.0 as usize]))
                });
                list.truncate(PARTNERS_PER_FILE);
                let named = list.into_iter().map(|(p, shared)| (self.paths[p as usize].clone(), shared)).collect();
                (self.paths[file as usize].clone(), (self.touched.get(&file).copied().unwrap_or(0), named))
            })
            .collect();
        let notes = self
            .notes
            .iter()
            .map(|(terms, files)| CommitNote {
                terms: terms.clone(),
                files: files.iter().map(|&f| self.paths[f as usize].clone()).collect(),
            })
            .collect();
        CoChange {
            head: self.head.clone(),
            commits: self.commits,
            files,
            notes,
            since_change: Default::default(),
            term_notes: Default::default(),
        }
    }
}

/// The files a commit changed against its parent (or added, for a root commit), relative to the indexed root;
/// files outside it are left out. `None` when the trees cannot be read (a shallow or partial clone).
fn changed_paths(repo: &git2::Repository, commit: &git2::Commit<'_>, prefix: &str) -> Option<Vec<String>> {
    let tree = commit.tree().ok()?;
    let parent_tree = match commit.parent(0) {
        Ok(parent) => Some(parent.tree().ok()?),
        Err(_) => None,
    };
    let mut options = git2::DiffOptions::new();
    options.skip_binary_check(true);
    let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options)).ok()?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.new_file(), delta.old_file()] {
            let Some(path) = file.path().and_then(Path::to_str) else { continue };
            if let Some(relative) = path.strip_prefix(prefix) {
                if !paths.iter().any(|p| p == relative) {
                    paths.push(relative.to_string());
                }
            }
            if paths.len() > MAX_FILES_PER_COMMIT {
                return Some(paths);
            }
        }
    }
    Some(paths)
}
