//! Walking a repository: which files are source, in which language, and which are skipped and why.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::WalkBuilder;
use sextant_config::Config;
use sextant_syntax::Language;

use crate::store::{SkipReason, SkippedFile};
use crate::IndexError;

/// A file that looks like source in a supported language.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub rel: String,
    pub abs: PathBuf,
    pub language: Language,
    pub size: u64,
    pub mtime_ns: u64,
}

#[derive(Clone)]
pub(crate) struct WalkOutput {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<SkippedFile>,
}

/// File names whose change alters what a walk finds or how files are linked: they always cost a full walk.
const WALK_INPUTS: &[&str] = &[".gitignore", ".ignore", ".rgignore", sextant_config::REPO_CONFIG_FILE];

/// `previous` (a walk of `root`) brought up to date with the files in `changed` (absolute paths a file watcher
/// reported since that walk), without walking the tree: each changed path that was a candidate is stat-ed again
/// (or dropped when gone). `None` when only a walk can tell: a new source file (ignore rules decide whether it
/// counts), a directory, an ignore or configuration file, a path the walk skipped, or a removed directory.
/// Paths no walk would report (editor swap files, build output) are passed over.
pub(crate) fn refresh(
    previous: &WalkOutput,
    root: &Path,
    changed: &[PathBuf],
    matcher: &LanguageMatcher,
) -> Option<WalkOutput> {
    let mut output = previous.clone();
    let mut removed = Vec::new();
    for path in changed {
        let rel = path.strip_prefix(root).ok()?.to_str()?.replace('\\', "/");
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if rel.is_empty() || WALK_INPUTS.contains(&name) || previous.skipped.iter().any(|s| s.path == rel) {
            return None;
        }
        let metadata = std::fs::symlink_metadata(path);
        match output.candidates.binary_search_by(|c| c.rel.as_str().cmp(&rel)) {
            Ok(at) => match metadata {
                Ok(metadata) if metadata.file_type().is_file() => {
                    let candidate = &mut output.candidates[at];
                    candidate.size = metadata.len();
                    candidate.mtime_ns = mtime_ns(&metadata);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => removed.push(at),
                _ => return None,
            },
            Err(_) => match metadata {
                Ok(metadata) if metadata.file_type().is_file() => {
                    if matcher.language_of(Path::new(&rel)).is_some() {
                        return None;
                    }
                }
                // Gone and never a candidate: a temporary file, or a directory whose files were candidates.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let prefix = format!("{rel}/");
                    let under = |p: &str| p.starts_with(&prefix);
                    // `a/b-x` and `a/b.rs` sort between `a/b` and `a/b/`: look from the prefix on.
                    let first = output.candidates.partition_point(|c| c.rel.as_str() < prefix.as_str());
                    if output.candidates.get(first).is_some_and(|c| under(&c.rel))
                        || previous.skipped.iter().any(|s| under(&s.path))
                    {
                        return None;
                    }
                }
                _ => return None,
            },
        }
    }
    removed.sort_unstable();
    removed.dedup();
    for at in removed.into_iter().rev() {
        output.candidates.remove(at);
    }
    Some(output)
}

fn mtime_ns(metadata: &std::fs::Metadata) -> u64 {
    metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64)
}

/// Maps file names (or relative paths, for globs with `/`) to languages.
pub(crate) struct LanguageMatcher {
    by_name: GlobSet,
    by_path: GlobSet,
    name_languages: Vec<Language>,
    path_languages: Vec<Language>,
}

impl LanguageMatcher {
    pub fn new(config: &Config) -> Result<LanguageMatcher, IndexError> {
        let mut by_name = GlobSetBuilder::new();
        let mut by_path = GlobSetBuilder::new();
        let (mut name_languages, mut path_languages) = (Vec::new(), Vec::new());
        for (name, settings) in &config.languages {
            let language = Language::from_name(name).ok_or_else(|| IndexError::UnknownLanguage(name.clone()))?;
            for glob in &settings.globs {
                let compiled =
                    Glob::new(glob).map_err(|e| IndexError::Config(format!("languages.{name}.globs: {e}")))?;
                if glob.contains('/') {
                    by_path.add(compiled);
                    path_languages.push(language);
                } else {
                    by_name.add(compiled);
                    name_languages.push(language);
                }
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| IndexError::Config(e.to_string()));
        Ok(LanguageMatcher { by_name: build(by_name)?, by_path: build(by_path)?, name_languages, path_languages })
    }

    /// The language of a file, by its path relative to the root.
    pub fn language_of(&self, rel: &Path) -> Option<Language> {
        if let Some(i) = self.by_path.matches(rel).into_iter().min() {
            return Some(self.path_languages[i]);
        }
        let name = rel.file_name()?;
        self.by_name.matches(Path::new(name)).into_iter().min().map(|i| self.name_languages[i])
    }
}

fn excludes(root: &Path, config: &Config, index_dir: &Path) -> Result<Gitignore, IndexError> {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in &config.index.exclude {
        builder.add_line(None, pattern).map_err(|e| IndexError::Config(format!("index.exclude: {e}")))?;
    }
    builder.add_line(None, ".git/").map_err(|e| IndexError::Config(e.to_string()))?;
    // Never index our own output when the index lives inside the repository.
    if let Ok(rel) = index_dir.strip_prefix(root) {
        if let Some(rel) = rel.to_str().filter(|r| !r.is_empty()) {
            builder.add_line(None, &format!("/{rel}/")).map_err(|e| IndexError::Config(e.to_string()))?;
        }
    }
    builder.build().map_err(|e| IndexError::Config(e.to_string()))
}

pub(crate) fn walk(
    root: &Path,
    config: &Config,
    index_dir: &Path,
    matcher: &LanguageMatcher,
) -> Result<WalkOutput, IndexError> {
    let excluded = excludes(root, config, index_dir)?;
    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(true)
        .hidden(!config.index.include_hidden)
        .require_git(false)
        .follow_links(config.index.follow_symlinks)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !excluded.matched(entry.path(), is_dir).is_ignore()
        });
    let mut output = WalkOutput { candidates: Vec::new(), skipped: Vec::new() };
    for entry in builder.build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let (path, reason) = describe_walk_error(&error);
                let rel = path.as_deref().map(|p| relative_lossy(root, p)).unwrap_or_else(|| "<unknown>".to_string());
                output.skipped.push(SkippedFile { path: rel, reason, stat: (0, 0) });
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            continue;
        }
        let rel_path = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let Some(language) = matcher.language_of(rel_path) else { continue };
        let Some(rel) = rel_path.to_str() else {
            output.skipped.push(SkippedFile {
                path: rel_path.to_string_lossy().into_owned(),
                reason: SkipReason::NonUtf8Path,
                stat: (0, 0),
            });
            continue;
        };
        let rel = rel.replace('\\', "/");
        if file_type.is_symlink() {
            // Links are followed only when configured; otherwise their targets are indexed where they live.
            continue;
        }
        if !file_type.is_file() {
            output.skipped.push(SkippedFile { path: rel, reason: SkipReason::NotRegularFile, stat: (0, 0) });
            continue;
        }
        let metadata = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                output.skipped.push(SkippedFile {
                    path: rel,
                    reason: SkipReason::Unreadable { error: e.to_string() },
                    stat: (0, 0),
                });
                continue;
            }
        };
        let mtime_ns = mtime_ns(&metadata);
        output.candidates.push(Candidate {
            rel,
            abs: entry.path().to_path_buf(),
            language,
            size: metadata.len(),
            mtime_ns,
        });
    }
    output.candidates.sort_by(|a, b| a.rel.cmp(&b.rel));
    output.candidates.dedup_by(|a, b| a.rel == b.rel);
    Ok(output)
}

fn relative_lossy(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

fn describe_walk_error(error: &ignore::Error) -> (Option<PathBuf>, SkipReason) {
    match error {
        ignore::Error::Loop { child, .. } => (Some(child.clone()), SkipReason::SymlinkLoop),
        ignore::Error::WithPath { path, err } => {
            let (_, reason) = describe_walk_error(err);
            (Some(path.clone()), reason)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => describe_walk_error(err),
        ignore::Error::Io(e) => (None, SkipReason::Unreadable { error: e.to_string() }),
        other => (None, SkipReason::WalkError { error: other.to_string() }),
    }
}
