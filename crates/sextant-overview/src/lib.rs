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
mod tally;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

pub use manifests::{CommandKind, ModuleKind};
pub use model::*;
pub use render::{markdown_page, LinkStyle};
pub use rules::{applicable, Rule, RuleKind};
pub use scan::{build_overview, build_overview_with, FileScan, SourceScans};

/// File name of the stored overview's head inside an index directory: the repository-level facts, the rules and the
/// names of the module records, as zstd-compressed JSON. It is replaced last (by rename), so a reader sees the old
/// or the new overview whole.
pub const OVERVIEW_FILE: &str = "overview.json.zst";
/// Directory of the module records inside an index directory: one zstd-compressed JSON file per module, named by a
/// hash of its content. An update writes only the modules whose overview changed (on kafka, the few modules an edit
/// touches of 100; on moby/moby, of thousands), and a reader of the previous head still finds all of its records.
pub const MODULES_DIR: &str = "overview-modules";
/// What the overview read from each source file, with the file's hash (a cache for the next build), compressed
/// the same way.
pub const SCANS_FILE: &str = "overview-scans.json.zst";
/// The files of earlier versions, removed when the overview is written.
const LEGACY_FILES: [&str; 2] = ["overview.json", "overview-scans.json"];
/// Version of the stored head and records: an overview stored in another format is built again, not reported as
/// damaged (it is derived from the index).
const FORMAT: u32 = 2;
/// Source files read again since the scans were last saved, beyond which a build that was told its changes saves
/// them anyway: fewer means a restarted process re-reads at most this many files.
const UNSAVED_SCANS: usize = 256;

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

/// The stored head: everything but the modules, which it names.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredHead {
    format: u32,
    root: String,
    generation: u64,
    elapsed_ms: u64,
    repository: RepositoryOverview,
    rules: Vec<Rule>,
    /// The record file of each module, in module order.
    modules: Vec<String>,
}

/// Writes the overview next to the index: each module record that is not stored yet, then the head (atomically),
/// then removes the records no head names any more.
pub fn save(index_dir: &Path, overview: &Overview) -> Result<(), OverviewError> {
    save_reusing(index_dir, overview, None).map(drop)
}

/// [`save`] told the overview stored last (with its record names): a module equal to the one at the same position
/// there keeps its record without being encoded again. Returns the record names, in module order.
fn save_reusing(
    index_dir: &Path,
    overview: &Overview,
    previous: Option<(&Overview, &[String])>,
) -> Result<Vec<String>, OverviewError> {
    let records_dir = index_dir.join(MODULES_DIR);
    std::fs::create_dir_all(&records_dir).map_err(|source| OverviewError::Io { path: records_dir.clone(), source })?;
    let mut names = Vec::with_capacity(overview.modules.len());
    for (i, module) in overview.modules.iter().enumerate() {
        let kept = previous.and_then(|(old, old_names)| {
            (old.modules.get(i) == Some(module)).then(|| old_names.get(i).cloned()).flatten()
        });
        let name = match kept {
            Some(name) => name,
            None => write_record(&records_dir, module)?,
        };
        names.push(name);
    }
    let head = StoredHead {
        format: FORMAT,
        root: overview.root.clone(),
        generation: overview.generation,
        elapsed_ms: overview.elapsed_ms,
        repository: overview.repository.clone(),
        rules: overview.rules.clone(),
        modules: names.clone(),
    };
    write_json(index_dir, OVERVIEW_FILE, &head)?;
    for legacy in LEGACY_FILES {
        let _ = std::fs::remove_file(index_dir.join(legacy));
    }
    // Records of the head just replaced that this one does not name; when the previous head is unknown (the first
    // build of a process, or after a crash), every unnamed file of the directory.
    let live: HashSet<&str> = names.iter().map(String::as_str).collect();
    let stale: Vec<String> = match previous {
        Some((_, old_names)) => old_names.iter().filter(|n| !live.contains(n.as_str())).cloned().collect(),
        None => std::fs::read_dir(&records_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| !live.contains(n.as_str()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    for name in stale {
        let _ = std::fs::remove_file(records_dir.join(name));
    }
    Ok(names)
}

/// Writes one module record under the hash of its encoding, unless a record of that name exists already.
fn write_record(records_dir: &Path, module: &ModuleOverview) -> Result<String, OverviewError> {
    let json = serde_json::to_vec(module).map_err(|_| OverviewError::Corrupt(records_dir.to_path_buf()))?;
    let name = format!("{:032x}.json.zst", sextant_index::content_hash(&json));
    if !records_dir.join(&name).exists() {
        write_bytes(records_dir, &name, &json)?;
    }
    Ok(name)
}

/// Writes `value` as zstd-compressed JSON to `index_dir/name` by temporary file and rename, so readers see the old
/// or the new.
fn write_json(index_dir: &Path, name: &str, value: &impl serde::Serialize) -> Result<(), OverviewError> {
    let json = serde_json::to_vec(value).map_err(|_| OverviewError::Corrupt(index_dir.join(name)))?;
    write_bytes(index_dir, name, &json)
}

/// Compresses `json` into `dir/name` by temporary file and rename.
fn write_bytes(dir: &Path, name: &str, json: &[u8]) -> Result<(), OverviewError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let bytes = zstd::bulk::compress(json, 3).map_err(|source| OverviewError::Io { path: tmp.clone(), source })?;
    std::fs::write(&tmp, bytes).map_err(|source| OverviewError::Io { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, &path).map_err(|source| OverviewError::Io { path, source })
}

/// Reads and decompresses `dir/name`; `Ok(None)` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, OverviewError> {
    let path = dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(OverviewError::Io { path, source }),
    };
    let json = zstd::stream::decode_all(bytes.as_slice()).map_err(|_| OverviewError::Corrupt(path.clone()))?;
    serde_json::from_slice(&json).map(Some).map_err(|_| OverviewError::Corrupt(path))
}

/// The stored head; `Ok(None)` when there is none, or one of another format (an index written by an earlier
/// version gets a new overview on its next use). Damage (not zstd, not JSON) is an error.
fn read_head(index_dir: &Path) -> Result<Option<StoredHead>, OverviewError> {
    let Some(value) = read_json::<serde_json::Value>(index_dir, OVERVIEW_FILE)? else { return Ok(None) };
    if value.get("format").and_then(serde_json::Value::as_u64) != Some(u64::from(FORMAT)) {
        return Ok(None);
    }
    serde_json::from_value(value).map(Some).map_err(|_| OverviewError::Corrupt(index_dir.join(OVERVIEW_FILE)))
}

/// The index generation and root the stored overview describes, read from its head alone; `None` when there is
/// none (or it cannot be read).
pub fn stored_generation(index_dir: &Path) -> Option<(u64, String)> {
    read_head(index_dir).ok().flatten().map(|head| (head.generation, head.root))
}

/// Reads the stored overview; `Ok(None)` when there is none yet (or only one of an earlier format).
pub fn load(index_dir: &Path) -> Result<Option<Overview>, OverviewError> {
    Ok(load_with_names(index_dir)?.map(|(overview, _)| overview))
}

/// [`load`] with the record name of each module.
fn load_with_names(index_dir: &Path) -> Result<Option<(Overview, Vec<String>)>, OverviewError> {
    let records_dir = index_dir.join(MODULES_DIR);
    // A writer that replaces the head between our reading it and its records removes records it no longer names:
    // read the new head then.
    let mut attempts = 0;
    'head: loop {
        attempts += 1;
        let Some(head) = read_head(index_dir)? else { return Ok(None) };
        let mut modules = Vec::with_capacity(head.modules.len());
        for name in &head.modules {
            match read_json::<ModuleOverview>(&records_dir, name)? {
                Some(module) => modules.push(module),
                None if attempts < 3 => continue 'head,
                None => return Err(OverviewError::Corrupt(records_dir.join(name))),
            }
        }
        let overview = Overview {
            root: head.root,
            generation: head.generation,
            elapsed_ms: head.elapsed_ms,
            repository: head.repository,
            modules,
            rules: head.rules,
        };
        return Ok(Some((overview, head.modules)));
    }
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
    OverviewWriter::default().ensure(index, config, None).map(|overview| (*overview).clone())
}

/// What a writer keeps between overview builds of one index: the overview it stored last with its record names,
/// and the source scans, so that a build after an update neither reads back nor rewrites what the update did not
/// touch.
#[derive(Default)]
pub struct OverviewWriter {
    stored: Option<(Arc<Overview>, Vec<String>)>,
    scans: Option<SourceScans>,
    /// Files read again since the scans were last saved.
    unsaved_scans: usize,
}

impl OverviewWriter {
    /// The stored overview if it matches the index generation, else a freshly built one, saved: only the modules
    /// whose overview changed are written. `changed`: the paths that changed since the previous build, as a file
    /// watcher knows them; then the tree is walked for manifests, READMEs and rule files only when one of those
    /// paths can have added, moved or removed one ([`SourceScans::note_changes`]). `None` walks.
    pub fn ensure(
        &mut self,
        index: &sextant_index::Index,
        config: &sextant_config::Config,
        changed: Option<&[std::path::PathBuf]>,
    ) -> Result<Arc<Overview>, OverviewError> {
        let dir = index.dir();
        // What is stored is the truth (another writer may have run since): the head names it cheaply.
        let head = read_head(dir)?;
        let kept_is_stored = match (&self.stored, &head) {
            (Some((kept, names)), Some(head)) => {
                kept.generation == head.generation && kept.root == head.root && *names == head.modules
            }
            _ => false,
        };
        if !kept_is_stored {
            self.stored = match head {
                Some(_) => load_with_names(dir)?.map(|(overview, names)| (Arc::new(overview), names)),
                None => None,
            };
        }
        if let Some((kept, _)) = &self.stored {
            if kept.generation == index.generation() && kept.root == index.root() {
                return Ok(Arc::clone(kept));
            }
        }
        // Scans kept from the previous build are current only if this writer saved or loaded them itself; after a
        // head it did not write, read them again.
        if !kept_is_stored || self.scans.is_none() {
            self.scans = Some(load_scans(dir));
            self.unsaved_scans = 0;
        }
        let scans = self.scans.get_or_insert_with(SourceScans::default);
        if let Some(changed) = changed {
            scans.note_changes(Path::new(index.root()), changed);
        }
        let overview = build_overview_with(index, config, scans);
        scans.retain_used();
        let (files_read, listing_read) = scans.take_reads();
        self.unsaved_scans += files_read;
        if changed.is_none() || listing_read || self.unsaved_scans >= UNSAVED_SCANS {
            save_scans(dir, scans)?;
            self.unsaved_scans = 0;
        }
        let previous = self.stored.as_ref().map(|(overview, names)| (overview.as_ref(), names.as_slice()));
        let names = save_reusing(dir, &overview, previous)?;
        let overview = Arc::new(overview);
        self.stored = Some((Arc::clone(&overview), names));
        Ok(overview)
    }
}
