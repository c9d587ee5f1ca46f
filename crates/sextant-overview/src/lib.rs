//! Synthetic project overviews, computed from the code itself with no LLM: the modules of a repository (packages
//! from manifests, or significant directories), what each is for, its size and languages, its key symbols by
//! graph centrality, entry points, dependencies in both directions, tests and how to run them, recent activity
//! from git; the repository's set-up/build/test/run commands; and the rule files for agents with the paths they
//! govern. Pages are bounded: lists are cut with a count and link down to module pages instead of inlining.

pub mod html;
mod manifests;
mod model;
mod render;
pub mod rules;
mod scan;

use std::path::Path;

pub use manifests::{CommandKind, ModuleKind};
pub use model::*;
pub use render::{markdown_page, LinkStyle};
pub use rules::{applicable, Rule, RuleKind};
pub use scan::{build_overview, build_overview_with, FileScan, SourceScans};

/// File name of the stored overview inside an index directory: JSON, zstd-compressed (key symbols and flows of
/// thousands of modules repeat paths and names: 8.2 MB of JSON on moby/moby, under a megabyte compressed).
pub const OVERVIEW_FILE: &str = "overview.json.zst";
/// What the overview read from each source file, with the file's hash (a cache for the next build), compressed
/// the same way.
pub const SCANS_FILE: &str = "overview-scans.json.zst";
/// The uncompressed files of earlier versions, removed when the compressed ones are written.
const LEGACY_FILES: [&str; 2] = ["overview.json", "overview-scans.json"];

/// Errors of the overview.
#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The stored overview cannot be decoded.
    #[error("overview at {0} is unreadable; run `sextant index` again")]
    Corrupt(std::path::PathBuf),
    /// No such module.
    #[error("no module `{0}`; `sextant overview` lists them")]
    UnknownModule(String),
}

/// Writes the overview next to the index, atomically.
pub fn save(index_dir: &Path, overview: &Overview) -> Result<(), OverviewError> {
    write_json(index_dir, OVERVIEW_FILE, overview)
}

/// Writes `value` as zstd-compressed JSON to `index_dir/name` by temporary file and rename, so readers see the old
/// or the new.
fn write_json(index_dir: &Path, name: &str, value: &impl serde::Serialize) -> Result<(), OverviewError> {
    let path = index_dir.join(name);
    let tmp = index_dir.join(format!("{name}.tmp"));
    let json = serde_json::to_vec(value).map_err(|_| OverviewError::Corrupt(path.clone()))?;
    let bytes = zstd::bulk::compress(&json, 3).map_err(|source| OverviewError::Io { path: tmp.clone(), source })?;
    std::fs::write(&tmp, bytes).map_err(|source| OverviewError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, &path).map_err(|source| OverviewError::Io { path, source })?;
    for legacy in LEGACY_FILES {
        let _ = std::fs::remove_file(index_dir.join(legacy));
    }
    Ok(())
}

/// Reads and decompresses `index_dir/name`; `Ok(None)` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(index_dir: &Path, name: &str) -> Result<Option<T>, OverviewError> {
    let path = index_dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(OverviewError::Io { path, source }),
    };
    let json = zstd::stream::decode_all(bytes.as_slice()).map_err(|_| OverviewError::Corrupt(path.clone()))?;
    serde_json::from_slice(&json).map(Some).map_err(|_| OverviewError::Corrupt(path))
}

/// Reads the stored overview; `Ok(None)` when there is none yet (an index written before the overview was
/// compressed has none either, and gets one on its next use).
pub fn load(index_dir: &Path) -> Result<Option<Overview>, OverviewError> {
    read_json(index_dir, OVERVIEW_FILE)
}

/// Reads the stored source scans (empty when there are none or they cannot be read: they are only a cache).
pub fn load_scans(index_dir: &Path) -> SourceScans {
    read_json(index_dir, SCANS_FILE).ok().flatten().unwrap_or_default()
}

/// Writes the source scans next to the index, atomically.
pub fn save_scans(index_dir: &Path, scans: &SourceScans) -> Result<(), OverviewError> {
    write_json(index_dir, SCANS_FILE, scans)
}

/// The stored overview if it matches the index generation, else a freshly built (and saved) one. Only the files
/// whose content changed since the last build are read again.
pub fn ensure(index: &sextant_index::Index, config: &sextant_config::Config) -> Result<Overview, OverviewError> {
    ensure_after(index, config, None)
}

/// [`ensure`] told which paths changed since the generation the stored overview (and scans) describe, as a file
/// watcher knows them: then the tree is walked for manifests, READMEs and rule files only when one of those paths
/// can have added, moved or removed one ([`SourceScans::note_changes`]). `None` walks.
pub fn ensure_after(
    index: &sextant_index::Index,
    config: &sextant_config::Config,
    changed: Option<&[std::path::PathBuf]>,
) -> Result<Overview, OverviewError> {
    if let Ok(Some(existing)) = load(index.dir()) {
        if existing.generation == index.generation() && existing.root == index.root() {
            return Ok(existing);
        }
    }
    let mut scans = load_scans(index.dir());
    if let Some(changed) = changed {
        scans.note_changes(Path::new(index.root()), changed);
    }
    let overview = build_overview_with(index, config, &mut scans);
    scans.retain_used();
    save_scans(index.dir(), &scans)?;
    save(index.dir(), &overview)?;
    Ok(overview)
}
