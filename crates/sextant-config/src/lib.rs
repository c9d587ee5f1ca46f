//! Sextant's configuration: the built-in defaults (`indexer-config/default.toml`, compiled in), merged with the
//! user's configuration file, then with a repository's own `.sextant.toml`, then validated.
//!
//! Merging is key by key for tables and whole-value for everything else, so an override only has to name what it
//! changes. Unknown keys and bad values are errors that name the file and the key.
//!
//! The two files are trusted differently. People index repositories they did not write, so a repository's file
//! may only say what is about the repository's content ([`REPOSITORY_KEYS`]: excludes, size limits, hidden
//! files, languages, chunking, overview modules). Machine settings — the ONNX Runtime library and model folder
//! (native code Sextant loads), the vector backend, server URLs and the environment variable holding a
//! credential, following symbolic links out of the tree — come only from the user's file
//! ([`user_config_path`]), flags and the environment. A repository file that sets one is an error naming the key
//! and where it belongs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The defaults shipped with Sextant.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../../indexer-config/default.toml");

/// The file name a repository uses to override the defaults.
pub const REPO_CONFIG_FILE: &str = ".sextant.toml";

/// Environment variable naming the user's configuration file (instead of [`user_config_path`]'s default).
pub const USER_CONFIG_ENV: &str = "SEXTANT_CONFIG";

/// The keys a repository's `.sextant.toml` may set: tables (every key inside) or single dotted keys.
pub const REPOSITORY_KEYS: &[&str] = &[
    "index.max_file_bytes",
    "index.max_line_bytes",
    "index.include_hidden",
    "index.exclude",
    "chunk",
    "languages",
    "overview",
    "graph",
];

/// The user's configuration file: `$SEXTANT_CONFIG` when set, else `$XDG_CONFIG_HOME/sextant/config.toml`, else
/// `~/.config/sextant/config.toml`. `None` when no home directory is known.
pub fn user_config_path() -> Option<PathBuf> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(path) = from_env(USER_CONFIG_ENV) {
        return Some(path);
    }
    let base = from_env("XDG_CONFIG_HOME").or_else(|| dirs_home().map(|home| home.join(".config")))?;
    Some(base.join("sextant").join("config.toml"))
}

/// Everything that can go wrong while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema (unknown key, wrong type).
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from (a path, or "built-in defaults").
        origin: String,
        /// What the parser said.
        message: String,
    },
    /// A repository's file sets a machine setting.
    #[error("{origin}: `{key}` is a machine setting, which a repository's {REPO_CONFIG_FILE} may not set (it could make Sextant load native code, contact a server or follow links out of the tree); set it in your own configuration ({user_file}) or with a flag")]
    Untrusted {
        /// The repository's file.
        origin: String,
        /// The dotted key.
        key: String,
        /// Where the user's configuration lives.
        user_file: String,
    },
    /// A value is out of range or otherwise unusable.
    #[error("{origin}: invalid value for `{key}`: {message}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// The dotted key.
        key: String,
        /// Why it is invalid.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What gets indexed.
    pub index: IndexSettings,
    /// How files are cut into chunks.
    pub chunk: ChunkSettings,
    /// Languages by Sextant's language id (`rust`, `python`, …).
    pub languages: BTreeMap<String, LanguageSettings>,
    /// How project overviews are built.
    pub overview: OverviewSettings,
    /// How chunk embeddings are computed.
    pub embed: EmbedSettings,
    /// Where chunk vectors are stored.
    pub vectors: VectorSettings,
    /// How the symbol graph is built.
    pub graph: GraphSettings,
}

/// How the symbol graph is built.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GraphSettings {
    /// SCIP indexes (repository-relative paths) whose references replace the name-matched ones of the files they
    /// cover; missing files are ignored.
    pub scip: Vec<String>,
}

/// How chunk embeddings are computed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbedSettings {
    /// Compute embeddings after each index commit.
    pub enabled: bool,
    /// The model folder (`~` expanded by [`expand_home`]).
    pub model_dir: String,
    /// The ONNX Runtime shared library.
    pub runtime: String,
    /// Embed chunks after the file cards (false: file cards only, a fraction of the model time).
    pub chunks: bool,
    /// Texts per model call.
    pub batch_size: usize,
    /// Longest model input in tokens.
    pub max_tokens: usize,
    /// ONNX Runtime intra-op threads (0: one per core).
    pub threads: usize,
}

/// Which vector store holds chunk vectors.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VectorBackend {
    /// Qdrant Edge, embedded in the process, on disk in the index directory.
    Edge,
    /// A Qdrant server or cluster over gRPC.
    Qdrant,
}

/// Where chunk vectors are stored.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VectorSettings {
    /// The backend.
    pub backend: VectorBackend,
    /// Qdrant server gRPC URL (backend `qdrant`).
    pub url: String,
    /// Environment variable with the Qdrant API key.
    pub api_key_env: String,
    /// Prefix of per-repository collection names.
    pub collection_prefix: String,
}

/// Expands a leading `~/` to the home directory, and the default models folder to `$SEXTANT_MODELS_DIR` when
/// that variable is set (so the set-up script and the indexer agree on one override).
pub fn expand_home(path: &str) -> PathBuf {
    const DEFAULT_MODELS: &str = "~/.cache/sextant/models";
    if let Some(rest) = path.strip_prefix(DEFAULT_MODELS) {
        if let Some(dir) = std::env::var_os("SEXTANT_MODELS_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir).join(rest.trim_start_matches('/'));
        }
    }
    match path.strip_prefix("~/") {
        Some(rest) => dirs_home().map(|home| home.join(rest)).unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// How project overviews are built.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OverviewSettings {
    /// Modules to add or rename.
    pub modules: Vec<ModuleSetting>,
    /// Directories whose sub-modules are folded into them.
    pub merge: Vec<String>,
    /// Longest overview page in characters.
    pub max_page_chars: usize,
    /// Commits of history read for activity (0 disables).
    pub history_commits: usize,
}

/// A module named in configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleSetting {
    /// Repository-relative directory.
    pub path: String,
    /// Display name.
    pub name: Option<String>,
}

/// What gets indexed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexSettings {
    /// Files larger than this are skipped.
    pub max_file_bytes: u64,
    /// Files with a longer line are treated as minified/generated and skipped.
    pub max_line_bytes: usize,
    /// Follow symbolic links while walking.
    pub follow_symlinks: bool,
    /// Index hidden files and directories.
    pub include_hidden: bool,
    /// A first index commits a checkpoint every this many parsed files (0: never), so an interrupted run resumes.
    pub checkpoint_files: u64,
    /// Extra ignore patterns in gitignore syntax.
    pub exclude: Vec<String>,
}

/// How files are cut into chunks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChunkSettings {
    /// Upper bound for one chunk, in estimated tokens.
    pub max_tokens: usize,
    /// Units smaller than this are merged with small neighbours.
    pub min_tokens: usize,
}

/// One language's settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LanguageSettings {
    /// File globs (by file name, or by relative path when the glob contains `/`).
    pub globs: Vec<String>,
}

impl Config {
    /// The built-in defaults.
    pub fn defaults() -> Result<Config, ConfigError> {
        Self::from_value(parse_toml(DEFAULT_CONFIG_TOML, "built-in defaults")?, "built-in defaults")
    }

    /// The configuration for the repository at `repo_root`: the defaults, merged with the user's file
    /// ([`user_config_path`]) when it exists, merged with `<repo_root>/.sextant.toml` (content settings only)
    /// when that exists.
    pub fn for_repository(repo_root: &Path) -> Result<Config, ConfigError> {
        Self::layered(user_config_path().as_deref(), repo_root)
    }

    /// [`Config::for_repository`] with the user's file given explicitly (`None`: no user file).
    pub fn layered(user_file: Option<&Path>, repo_root: &Path) -> Result<Config, ConfigError> {
        let mut merged = parse_toml(DEFAULT_CONFIG_TOML, "built-in defaults")?;
        let mut origin = "built-in defaults".to_string();
        if let Some(path) = user_file {
            if let Some(text) = read_if_present(path)? {
                origin = path.display().to_string();
                merge(&mut merged, parse_toml(&text, &origin)?);
                // Checked on its own, so its mistakes are reported against it, not the repository's file.
                Self::from_value(merged.clone(), &origin)?;
            }
        }
        let repo_file = repo_root.join(REPO_CONFIG_FILE);
        if let Some(text) = read_if_present(&repo_file)? {
            origin = repo_file.display().to_string();
            let overlay = parse_toml(&text, &origin)?;
            let user_file =
                user_file.map_or_else(|| "~/.config/sextant/config.toml".into(), |p| p.display().to_string());
            check_repository_keys(&overlay, &origin, &user_file)?;
            merge(&mut merged, overlay);
        }
        Self::from_value(merged, &origin)
    }

    /// The defaults merged with an override given as TOML text; `origin` names it in errors.
    pub fn defaults_with_override(override_toml: &str, origin: &str) -> Result<Config, ConfigError> {
        let mut base = parse_toml(DEFAULT_CONFIG_TOML, "built-in defaults")?;
        let overlay = parse_toml(override_toml, origin)?;
        merge(&mut base, overlay);
        Self::from_value(base, origin)
    }

    fn from_value(value: toml::Table, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::Value::Table(value).try_into().map_err(|e: toml::de::Error| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.message().to_string(),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        if self.index.max_file_bytes == 0 {
            return Err(invalid("index.max_file_bytes", "must be greater than 0".into()));
        }
        if self.index.max_line_bytes == 0 {
            return Err(invalid("index.max_line_bytes", "must be greater than 0".into()));
        }
        if self.chunk.max_tokens < 16 {
            return Err(invalid("chunk.max_tokens", format!("{} is below the minimum of 16", self.chunk.max_tokens)));
        }
        if self.chunk.min_tokens >= self.chunk.max_tokens {
            return Err(invalid(
                "chunk.min_tokens",
                format!("{} must be smaller than chunk.max_tokens ({})", self.chunk.min_tokens, self.chunk.max_tokens),
            ));
        }
        if self.overview.max_page_chars < 1000 {
            return Err(invalid(
                "overview.max_page_chars",
                format!("{} is below the minimum of 1000", self.overview.max_page_chars),
            ));
        }
        for path in &self.graph.scip {
            if path.is_empty() || path.starts_with('/') || path.contains('\\') || path.split('/').any(|p| p == "..") {
                return Err(invalid(
                    "graph.scip",
                    format!("`{path}` must be a path inside the repository (relative, without `..`)"),
                ));
            }
        }
        for module in &self.overview.modules {
            if module.path.starts_with('/') || module.path.split('/').any(|p| p == "..") {
                return Err(invalid(
                    "overview.modules",
                    format!("{:?} must be a path inside the repository", module.path),
                ));
            }
        }
        if self.embed.batch_size == 0 || self.embed.batch_size > 256 {
            return Err(invalid("embed.batch_size", format!("{} is outside 1..=256", self.embed.batch_size)));
        }
        if self.embed.max_tokens < 8 || self.embed.max_tokens > 8192 {
            return Err(invalid("embed.max_tokens", format!("{} is outside 8..=8192", self.embed.max_tokens)));
        }
        if self.vectors.backend == VectorBackend::Qdrant && self.vectors.url.is_empty() {
            return Err(invalid("vectors.url", "backend \"qdrant\" needs the server's gRPC URL".into()));
        }
        if self.vectors.collection_prefix.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            return Err(invalid(
                "vectors.collection_prefix",
                format!("{:?} may hold only ASCII letters, digits, '_' and '-'", self.vectors.collection_prefix),
            ));
        }
        for pattern in &self.index.exclude {
            globset::Glob::new(pattern.trim_end_matches('/'))
                .map_err(|e| invalid("index.exclude", format!("bad pattern {pattern:?}: {e}")))?;
        }
        for (name, lang) in &self.languages {
            for glob in &lang.globs {
                globset::Glob::new(glob)
                    .map_err(|e| invalid(&format!("languages.{name}.globs"), format!("bad glob {glob:?}: {e}")))?;
            }
        }
        Ok(())
    }
}

fn read_if_present(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { path: path.to_path_buf(), source }),
    }
}

/// Refuses any key of a repository's file outside [`REPOSITORY_KEYS`]. Unknown keys pass here and are
/// reported by the schema check, which names them more usefully.
fn check_repository_keys(overlay: &toml::Table, origin: &str, user_file: &str) -> Result<(), ConfigError> {
    let defaults = parse_toml(DEFAULT_CONFIG_TOML, "built-in defaults")?;
    for (table, value) in overlay {
        if REPOSITORY_KEYS.contains(&table.as_str()) || !defaults.contains_key(table) {
            continue;
        }
        let keys: Vec<String> = match value {
            toml::Value::Table(inner) => inner.keys().map(|k| format!("{table}.{k}")).collect(),
            _ => vec![table.clone()],
        };
        let known = |key: &str| match defaults.get(table) {
            Some(toml::Value::Table(inner)) => key.split_once('.').is_some_and(|(_, k)| inner.contains_key(k)),
            _ => true,
        };
        if let Some(key) = keys.iter().find(|k| !REPOSITORY_KEYS.contains(&k.as_str()) && known(k)) {
            return Err(ConfigError::Untrusted {
                origin: origin.to_string(),
                key: key.clone(),
                user_file: user_file.to_string(),
            });
        }
    }
    Ok(())
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::Parse { origin: origin.to_string(), message: e.to_string().trim().to_string() })
}

/// Tables merge key by key; any other value in `overlay` replaces the base value.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => {
                merge(base_table, overlay_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_name_every_language() {
        let config = Config::defaults().unwrap();
        assert_eq!(config.chunk.max_tokens, 400);
        for lang in [
            "rust",
            "python",
            "javascript",
            "typescript",
            "tsx",
            "go",
            "java",
            "c",
            "cpp",
            "csharp",
            "ruby",
            "php",
            "bash",
            "scala",
            "kotlin",
            "swift",
            "groovy",
        ] {
            assert!(config.languages.contains_key(lang), "missing {lang}");
        }
    }

    #[test]
    fn override_merges_tables_and_replaces_lists() {
        let config = Config::defaults_with_override(
            "[index]\nmax_file_bytes = 10\nexclude = [\"gen/\"]\n[languages.rust]\nglobs = [\"*.rs\", \"*.rs.in\"]\n",
            "test",
        )
        .unwrap();
        assert_eq!(config.index.max_file_bytes, 10);
        assert_eq!(config.index.exclude, vec!["gen/".to_string()]);
        assert_eq!(config.index.max_line_bytes, 5_000, "untouched keys keep their default");
        assert_eq!(config.languages["rust"].globs.len(), 2);
        assert!(config.languages.contains_key("python"), "other languages stay");
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = Config::defaults_with_override("[index]\nmax_file_size = 3\n", "repo/.sextant.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("repo/.sextant.toml") && text.contains("max_file_size"), "{text}");
    }

    #[test]
    fn bad_values_are_errors() {
        let err = Config::defaults_with_override("[chunk]\nmin_tokens = 500\n", "x").unwrap_err();
        assert!(err.to_string().contains("chunk.min_tokens"), "{err}");
        let err = Config::defaults_with_override("[index]\nmax_file_bytes = \"big\"\n", "x").unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        let err = Config::defaults_with_override("[languages.rust]\nglobs = [\"a[\"]\n", "x").unwrap_err();
        assert!(err.to_string().contains("languages.rust.globs"), "{err}");
        let err = Config::defaults_with_override("not toml =", "x").unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }));
        for outside in ["../other/index.scip", "/tmp/index.scip", "a/../../index.scip", ""] {
            let text = format!("[graph]\nscip = [{outside:?}]\n");
            let err = Config::defaults_with_override(&text, "x").unwrap_err();
            assert!(err.to_string().contains("graph.scip"), "{outside}: {err}");
        }
        let inside = Config::defaults_with_override("[graph]\nscip = [\"build/index.scip\"]\n", "x").unwrap();
        assert_eq!(inside.graph.scip, ["build/index.scip"]);
    }

    #[test]
    fn repository_file_is_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::layered(None, dir.path()).unwrap(), Config::defaults().unwrap());
        std::fs::write(dir.path().join(REPO_CONFIG_FILE), "[chunk]\nmax_tokens = 100\n").unwrap();
        assert_eq!(Config::layered(None, dir.path()).unwrap().chunk.max_tokens, 100);
    }

    #[test]
    fn a_repository_file_may_not_set_machine_settings() {
        let repo = tempfile::tempdir().unwrap();
        let user = repo.path().join("user.toml");
        for (text, key) in [
            ("[embed]\nruntime = \"./evil.so\"\n", "embed.runtime"),
            ("[embed]\nmodel_dir = \"/tmp/m\"\n", "embed.model_dir"),
            ("[vectors]\nbackend = \"qdrant\"\nurl = \"http://attacker:6334\"\n", "vectors.backend"),
            ("[vectors]\napi_key_env = \"AWS_SECRET_ACCESS_KEY\"\n", "vectors.api_key_env"),
            ("[index]\nfollow_symlinks = true\n", "index.follow_symlinks"),
        ] {
            std::fs::write(repo.path().join(REPO_CONFIG_FILE), text).unwrap();
            let error = Config::layered(Some(&user), repo.path()).unwrap_err();
            let message = error.to_string();
            assert!(matches!(&error, ConfigError::Untrusted { key: k, .. } if k == key), "{message}");
            assert!(message.contains(key) && message.contains("user.toml"), "{message}");
        }
        // Content settings are the repository's to choose, and unknown keys are still named as unknown.
        std::fs::write(
            repo.path().join(REPO_CONFIG_FILE),
            "[index]\nexclude = [\"gen/\"]\nmax_file_bytes = 10\n[overview]\nmerge = [\"a\"]\n",
        )
        .unwrap();
        let config = Config::layered(Some(&user), repo.path()).unwrap();
        assert_eq!((config.index.exclude.len(), config.index.max_file_bytes), (1, 10));
        std::fs::write(repo.path().join(REPO_CONFIG_FILE), "[index]\nmax_file_size = 3\n").unwrap();
        let error = Config::layered(Some(&user), repo.path()).unwrap_err();
        assert!(matches!(error, ConfigError::Parse { .. }) && error.to_string().contains("max_file_size"), "{error}");
    }

    #[test]
    fn the_users_file_sets_machine_settings_and_the_repository_file_goes_over_it() {
        let repo = tempfile::tempdir().unwrap();
        let user = repo.path().join("user.toml");
        std::fs::write(&user, "[embed]\nmodel_dir = \"/opt/models/m\"\n[chunk]\nmax_tokens = 200\n").unwrap();
        std::fs::write(repo.path().join(REPO_CONFIG_FILE), "[chunk]\nmax_tokens = 100\n").unwrap();
        let config = Config::layered(Some(&user), repo.path()).unwrap();
        assert_eq!(config.embed.model_dir, "/opt/models/m");
        assert_eq!(config.chunk.max_tokens, 100);
        std::fs::write(&user, "[embed]\nmodle_dir = 1\n").unwrap();
        let error = Config::layered(Some(&user), repo.path()).unwrap_err();
        assert!(error.to_string().contains("modle_dir"), "{error}");
    }
}
