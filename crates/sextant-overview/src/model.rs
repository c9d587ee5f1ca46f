//! The overview data model (what is stored and served as JSON).

use serde::{Deserialize, Serialize};

use crate::manifests::{CommandKind, ModuleKind};
use crate::rules::Rule;

/// Everything Sextant knows about a repository's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Repository root.
    pub root: String,
    /// Index generation it was built from.
    pub generation: u64,
    /// Milliseconds it took to build.
    pub elapsed_ms: u64,
    /// Repository-level facts.
    pub repository: RepositoryOverview,
    /// Modules; index 0 is the repository root.
    pub modules: Vec<ModuleOverview>,
    /// Rule files for agents.
    pub rules: Vec<Rule>,
}

/// Repository-level facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryOverview {
    /// Directory name.
    pub name: String,
    /// What the repository is, from its README or manifest.
    pub purpose: Option<String>,
    /// Files, lines and symbols.
    pub files: u64,
    /// Lines of indexed source.
    pub lines: u64,
    /// Symbols.
    pub symbols: u64,
    /// Languages by lines.
    pub languages: Vec<LanguageShare>,
    /// How to set up, build, test, run.
    pub commands: Vec<Command>,
    /// Commands the CI workflows run.
    pub ci: Vec<Command>,
    /// How-to sections of the README and CONTRIBUTING.
    pub docs: Vec<DocSection>,
    /// git HEAD.
    pub head: Option<String>,
}

/// Files and lines of one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageShare {
    /// Language id.
    pub language: String,
    /// Files.
    pub files: u64,
    /// Lines.
    pub lines: u64,
}

/// A command and where it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// What it is for.
    pub kind: CommandKind,
    /// The command line.
    pub command: String,
    /// The file that defines it.
    pub source: String,
}

/// A how-to section of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocSection {
    /// The document.
    pub source: String,
    /// Its heading.
    pub heading: String,
    /// The section text (bounded).
    pub excerpt: String,
}

/// One module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleOverview {
    /// Repository-relative directory (`""` for the root).
    pub path: String,
    /// Display name (package name when it has one).
    pub name: String,
    /// What made it a module.
    pub kind: ModuleKind,
    /// Parent module index.
    pub parent: Option<usize>,
    /// Child module indexes.
    pub children: Vec<usize>,
    /// What it is for.
    pub purpose: Option<String>,
    /// Where the purpose came from.
    pub purpose_source: Option<String>,
    /// Files in its subtree.
    pub files: u64,
    /// Lines in its subtree.
    pub lines: u64,
    /// Languages in its subtree.
    pub languages: Vec<LanguageShare>,
    /// Most central public symbols.
    pub key_symbols: Vec<KeySymbol>,
    /// Entry points: mains, CLI definitions, HTTP routes.
    pub entry_points: Vec<EntryPoint>,
    /// Modules it uses, with reference counts.
    pub depends_on: Vec<Dependency>,
    /// Modules that use it, with reference counts.
    pub used_by: Vec<Dependency>,
    /// Its symbols that other modules call most (how data flows in).
    #[serde(default)]
    pub calls_in: Vec<Flow>,
    /// The symbols of other modules it calls most (how data flows out).
    #[serde(default)]
    pub calls_out: Vec<Flow>,
    /// Its tests.
    pub tests: Tests,
    /// Commands its manifest defines.
    pub commands: Vec<Command>,
    /// Recent history.
    pub activity: Option<Activity>,
}

/// A symbol worth knowing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeySymbol {
    /// Qualified name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Signature.
    pub signature: String,
    /// First doc line.
    pub doc: Option<String>,
    /// File.
    pub path: String,
    /// Line.
    pub line: u32,
    /// Centrality.
    pub rank: f32,
}

/// Where execution or requests enter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryPoint {
    /// `main`, `cli`, `route`.
    pub kind: String,
    /// What it is (`main`, `GET /users`, `clap parser`).
    pub name: String,
    /// File.
    pub path: String,
    /// Line.
    pub line: u32,
}

/// Calls of one symbol across a module boundary, with one of them to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// The called symbol (qualified name).
    pub symbol: String,
    /// Where it is defined.
    pub path: String,
    /// Its first line.
    pub line: u32,
    /// The module it is in.
    pub module: usize,
    /// Calls counted (certain links only, each caller once).
    pub calls: u32,
    /// One caller: its qualified name (or its file, for file-level code).
    pub caller: String,
    /// Where the caller is.
    pub caller_path: String,
    /// The caller's first line.
    pub caller_line: u32,
    /// The caller's module.
    pub caller_module: usize,
}

/// A module dependency with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    /// The other module.
    pub module: usize,
    /// Imports and calls across the boundary.
    pub count: u32,
    /// Whether the module's manifest declares it (else it was only observed in imports and calls, for modules
    /// without a manifest that says).
    #[serde(default)]
    pub declared: bool,
}

/// Where a module's tests are and how to run them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tests {
    /// Test files.
    pub files: u64,
    /// Directories holding them (at most a few).
    pub dirs: Vec<String>,
    /// How to run them.
    pub command: Option<String>,
}

/// Recent history of a module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Commits touching it among those read.
    pub commits: u32,
    /// Unix time of the last change.
    pub last_change: i64,
    /// Subject of the last commit touching it.
    pub last_subject: String,
}

impl Overview {
    /// The module whose path is `path` (`""` or `/` for the root).
    pub fn module_index(&self, path: &str) -> Option<usize> {
        let wanted = path.trim_matches('/');
        self.modules.iter().position(|m| m.path == wanted || (!wanted.is_empty() && m.name == wanted))
    }

    /// The deepest module containing a repository-relative file path.
    pub fn module_of(&self, file: &str) -> usize {
        self.modules
            .iter()
            .enumerate()
            .filter(|(_, m)| m.path.is_empty() || file.starts_with(&format!("{}/", m.path)))
            .max_by_key(|(_, m)| m.path.len())
            .map_or(0, |(i, _)| i)
    }
}
