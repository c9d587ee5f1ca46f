//! Files that change together, mined from git history: a ranking signal for "what else does this change need".
//!
//! The miner walks first-parent history from HEAD (at most [`MAX_COMMITS`] commits), takes the files each commit
//! changed (skipping merges and sweeping commits that touch more than [`MAX_FILES_PER_COMMIT`] files, whose
//! pairings say nothing), and counts, per file, the commits it shared with each other file. Only the strongest
//! partners of each file are kept. The result is stored beside the index with the HEAD it was mined at; when
//! HEAD moves forward, only the new commits are walked and added.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Commits walked when mining from scratch.
pub(crate) const MAX_COMMITS: usize = 1_000;
/// Commits that change more files than this (reformatting, renames, vendoring) are skipped.
const MAX_FILES_PER_COMMIT: usize = 30;
/// Partners kept per file.
const PARTNERS_PER_FILE: usize = 12;
/// File name of the co-change table queries read, in the index directory.
pub(crate) const COCHANGE_FILE: &str = "cochange";
/// File name of the miner's counts, read only to add new commits.
pub(crate) const MINING_STATE_FILE: &str = "cochange-state";

/// Per file, the files that changed in the same commits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CoChange {
    /// The commit mined up to (inclusive).
    pub head: String,
    /// Commits walked in all.
    pub commits: u64,
    /// Per repository-relative path (of the indexed root): commits that changed it, and its partners with the
    /// commits shared, most shared first.
    pub files: HashMap<String, (u32, Vec<(String, u32)>)>,
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
}

impl CoChange {
    /// The files that changed with `path`, with the share of `path`'s commits they were part of (0..=1), best first.
    pub fn partners(&self, path: &str) -> impl Iterator<Item = (&str, f32)> + '_ {
        self.files.get(path).into_iter().flat_map(|(commits, partners)| {
            let commits = (*commits).max(1) as f32;
            partners.iter().map(move |(p, shared)| (p.as_str(), *shared as f32 / commits))
        })
    }
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
            for (i, &a) in ids.iter().enumerate() {
                *state.touched.entry(a).or_default() += 1;
                for &b in &ids[i + 1..] {
                    *state.pairs.entry((a.min(b), a.max(b))).or_default() += 1;
                }
            }
        }
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
        CoChange { head: self.head.clone(), commits: self.commits, files }
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
