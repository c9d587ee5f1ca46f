//! Helpers shared by the pack tests: writing fixture files and indexing a fixture repository.

use std::path::Path;

use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, NoProgress};

/// Writes `text` at `rel` under `root`, creating directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An indexed fixture repository; the temporary directories live as long as it does.
pub struct Fixture {
    _repo: tempfile::TempDir,
    _dir: tempfile::TempDir,
    pub index: Index,
}

impl Fixture {
    /// Indexes `repo` with the default configuration.
    pub fn index(repo: tempfile::TempDir) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::defaults().unwrap();
        let options = IndexOptions { root: repo.path(), index_dir: dir.path(), config: &config, force: false };
        index_repository(&options, &NoProgress).unwrap();
        let index = Index::open(dir.path()).unwrap();
        Fixture { _repo: repo, _dir: dir, index }
    }
}
