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

pub(crate) struct WalkOutput {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<SkippedFile>,
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
        let mtime_ns =
            metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64);
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
