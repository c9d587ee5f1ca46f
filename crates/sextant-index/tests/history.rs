//! Co-change from git history: mined at index time, added to when HEAD moves forward, mined again when it
//! jumps elsewhere.

use std::path::Path;

use sextant_config::Config;
use sextant_index::{index_repository, index_repository_opened, Index, IndexOptions, NoProgress, WriterLock};

/// Writes `files` (path, text) and commits them on HEAD with the given parents (HEAD's commit when `None`).
fn commit(
    repo: &git2::Repository,
    files: &[(&str, &str)],
    message: &str,
    parents: Option<&[&git2::Commit<'_>]>,
) -> git2::Oid {
    let root = repo.workdir().unwrap();
    let mut index = repo.index().unwrap();
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, text).unwrap();
        index.add_path(Path::new(path)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("t", "t@example.com").unwrap();
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let default_parents: Vec<&git2::Commit<'_>> = head.iter().collect();
    let parents = parents.unwrap_or(&default_parents);
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, parents).unwrap()
}

fn run(root: &Path, index_dir: &Path) -> Index {
    let config = Config::defaults().unwrap();
    index_repository(&IndexOptions { root, index_dir, config: &config, force: false }, &NoProgress).unwrap();
    Index::open(index_dir).unwrap()
}

fn partners(index: &Index, path: &str) -> Vec<(String, f32)> {
    index.co_change().expect("mined").partners(path).map(|(p, share)| (p.to_string(), share)).collect()
}

#[test]
fn files_committed_together_are_partners_and_new_commits_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    for round in 0..3 {
        let text = format!("fn a() -> u32 {{ {round} }}\n");
        commit(&repo, &[("src/a.rs", &text), ("src/b.rs", &format!("fn b() {{ /* {round} */ }}\n"))], "a with b", None);
    }
    commit(&repo, &[("src/a.rs", "fn a() -> u32 { 9 }\n"), ("src/c.rs", "fn c() {}\n")], "a with c", None);
    // A sweeping commit (40 files) says nothing about which files belong together.
    let sweep: Vec<(String, String)> = (0..40).map(|i| (format!("gen/f{i}.rs"), format!("fn f{i}() {{}}\n"))).collect();
    let mut sweep_files: Vec<(&str, &str)> = sweep.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    sweep_files.push(("src/a.rs", "fn a() -> u32 { 10 }\n"));
    commit(&repo, &sweep_files, "regenerate", None);

    let index = run(dir.path(), index_dir.path());
    // a.rs changed in 5 commits, 4 of them counted (the sweep is skipped): b in 3, c in 1.
    assert_eq!(partners(&index, "src/a.rs"), [("src/b.rs".to_string(), 0.75), ("src/c.rs".to_string(), 0.25)]);
    assert_eq!(partners(&index, "src/b.rs"), [("src/a.rs".to_string(), 1.0)]);
    assert!(partners(&index, "gen/f1.rs").is_empty());

    // Two more commits of a with c: only they are walked, and c overtakes b.
    let mining_state = std::fs::metadata(index_dir.path().join("cochange-state-2")).unwrap().modified().unwrap();
    for round in 0..3 {
        let text = format!("fn c() {{ /* {round} */ }}\n");
        commit(
            &repo,
            &[("src/a.rs", &format!("fn a() -> u32 {{ {} }}\n", 20 + round)), ("src/c.rs", &text)],
            "a with c",
            None,
        );
    }
    let index = run(dir.path(), index_dir.path());
    assert_eq!(partners(&index, "src/a.rs")[0], ("src/c.rs".to_string(), 4.0 / 7.0));
    assert_ne!(std::fs::metadata(index_dir.path().join("cochange-state-2")).unwrap().modified().unwrap(), mining_state);
    assert_eq!(index.co_change().unwrap().commits, 8);

    // Unchanged HEAD and tree: nothing is mined again.
    let before = std::fs::read(index_dir.path().join("cochange-2")).unwrap();
    let again = run(dir.path(), index_dir.path());
    assert_eq!(std::fs::read(index_dir.path().join("cochange-2")).unwrap(), before);
    assert_eq!(again.co_change().unwrap().commits, 8);
}

#[test]
fn files_changed_by_commits_worded_like_the_task_rank_first_and_trailers_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit(
        &repo,
        &[("proto/api_keys.rs", "pub enum ApiKey { Fetch }\n"), ("server/apis.rs", "fn handle() {}\n")],
        "Automated protocol for FetchRequest\n\nReviewers: Alice Example <alice@example.com>",
        None,
    );
    commit(&repo, &[("log/cleaner.rs", "fn clean() {}\n")], "Log cleaner skips compacted segments", None);
    commit(
        &repo,
        &[("docs/people.md", "alice\n")],
        "Thank the contributors\n\nSigned-off-by: Alice Example <alice@example.com>",
        None,
    );
    let index = run(dir.path(), index_dir.path());
    let history = index.co_change().unwrap();
    assert_eq!(history.notes.len(), 3);
    // Newest first, with the message's terms (identifier parts too) and without trailers or addresses.
    assert_eq!(history.notes[2].files, ["proto/api_keys.rs", "server/apis.rs"]);
    assert!(
        history.notes[2].terms.iter().any(|t| t == "fetchrequest")
            && history.notes[2].terms.iter().any(|t| t == "fetch")
    );
    assert!(!history.notes.iter().any(|n| n.terms.iter().any(|t| t == "alice" || t == "reviewers")));

    let terms =
        |text: &str| -> std::collections::HashSet<String> { text.split_whitespace().map(str::to_lowercase).collect() };
    let ranked: Vec<&str> = history
        .files_by_message(&terms("automated protocol for alterreplicalogdirs"), 10)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(ranked, ["proto/api_keys.rs", "server/apis.rs"]);
    let ranked = history.files_by_message(&terms("cleaner compacted"), 10);
    assert_eq!(ranked[0].0, "log/cleaner.rs");
    assert!(history.files_by_message(&terms("alice"), 10).is_empty());
}

#[test]
fn a_serving_update_answers_first_and_stores_the_new_history_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit(&repo, &[("src/a.rs", "fn a() {}\n"), ("src/b.rs", "fn b() {}\n")], "a with b", None);
    let config = Config::defaults().unwrap();
    let options = IndexOptions { root: dir.path(), index_dir: index_dir.path(), config: &config, force: false };
    let lock = WriterLock::acquire(index_dir.path()).unwrap();
    // A first index has no counts to serve meanwhile: it waits for the mining.
    let first = index_repository_opened(&options, &lock, &NoProgress, None, None).unwrap();
    assert!(first.history_pending.is_none());
    let held = first.index.unwrap();
    assert_eq!(held.co_change().unwrap().commits, 1);

    commit(&repo, &[("src/a.rs", "fn a() { 1; }\n"), ("src/c.rs", "fn c() {}\n")], "a with c", None);
    let update = index_repository_opened(&options, &lock, &NoProgress, Some(&held), None).unwrap();
    let pending = update.history_pending.expect("an update of a served index finishes the history after");
    // The new generation answers with the counts it found stored; the new HEAD's are stored once finished.
    pending.finish(&lock);
    let reopened = Index::open(index_dir.path()).unwrap();
    assert_eq!(reopened.co_change().unwrap().commits, 2);
    assert_eq!(partners(&reopened, "src/a.rs").len(), 2);
}

#[test]
fn a_head_that_is_not_a_descendant_is_mined_from_scratch_and_merges_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let base = commit(&repo, &[("x.py", "x = 1\n"), ("y.py", "y = 1\n")], "base", None);
    let feature = commit(&repo, &[("x.py", "x = 2\n"), ("z.py", "z = 2\n")], "x with z", None);
    let index = run(dir.path(), index_dir.path());
    assert_eq!(partners(&index, "x.py")[0].0, "y.py");
    assert!(partners(&index, "x.py").iter().any(|(p, _)| p == "z.py"));

    // Another line of history from the base: the feature's pairing is gone.
    let base_commit = repo.find_commit(base).unwrap();
    repo.set_head_detached(base).unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force())).unwrap();
    commit(&repo, &[("x.py", "x = 3\n"), ("w.py", "w = 3\n")], "x with w", Some(&[&base_commit]));
    let index = run(dir.path(), index_dir.path());
    let names: Vec<String> = partners(&index, "x.py").into_iter().map(|(p, _)| p).collect();
    assert!(names.contains(&"w.py".to_string()) && !names.contains(&"z.py".to_string()), "{names:?}");

    // A merge of the feature brings its files in, but the merge commit itself pairs nothing.
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let feature_commit = repo.find_commit(feature).unwrap();
    commit(&repo, &[("z.py", "z = 2\n"), ("q.py", "q = 1\n")], "merge", Some(&[&head, &feature_commit]));
    let index = run(dir.path(), index_dir.path());
    assert!(partners(&index, "q.py").is_empty(), "{:?}", partners(&index, "q.py"));
}

#[test]
fn a_tree_without_git_has_no_co_change() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "fn a() {}\n").unwrap();
    let index = run(dir.path(), index_dir.path());
    assert!(index.co_change().is_none());
    assert!(!index_dir.path().join("cochange-2").exists());
}
