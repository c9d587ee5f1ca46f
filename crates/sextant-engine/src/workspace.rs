//! The repositories a process hosts, found by name.

use std::collections::HashSet;
use std::sync::Arc;

use crate::repository::{EngineOptions, Repository, RepositorySpec};
use crate::EngineError;

/// The hosted repositories, each with a distinct name.
#[derive(Debug)]
pub struct Workspace {
    repositories: Vec<Arc<Repository>>,
}

impl Workspace {
    /// Sets up every repository (nothing is indexed or loaded yet). Names must be distinct.
    pub fn open(specs: Vec<RepositorySpec>, options: &EngineOptions) -> Result<Workspace, EngineError> {
        if specs.is_empty() {
            return Err(EngineError::InvalidArgument("no repository to host".to_string()));
        }
        let mut names = HashSet::new();
        for spec in &specs {
            if !names.insert(spec.name.clone()) {
                return Err(EngineError::InvalidArgument(format!(
                    "two repositories are named `{}`; give them distinct names (NAME=PATH)",
                    spec.name
                )));
            }
        }
        let repositories = specs
            .into_iter()
            .map(|spec| {
                let name = spec.name.clone();
                Repository::open(spec, options.clone()).map(Arc::new).map_err(|e| match e {
                    EngineError::Io { path, source } => {
                        EngineError::InvalidArgument(format!("repository `{name}` ({}): {source}", path.display()))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Workspace { repositories })
    }

    /// Every hosted repository, in the order given.
    pub fn repositories(&self) -> &[Arc<Repository>] {
        &self.repositories
    }

    /// The repository named `name`; an empty name means the only one, when there is only one.
    pub fn get(&self, name: &str) -> Result<Arc<Repository>, EngineError> {
        if name.is_empty() {
            return match self.repositories.as_slice() {
                [only] => Ok(Arc::clone(only)),
                _ => Err(EngineError::InvalidArgument(format!(
                    "this server hosts {} repositories; name one ({})",
                    self.repositories.len(),
                    self.names()
                ))),
            };
        }
        self.repositories
            .iter()
            .find(|r| r.name() == name)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("no repository named `{name}` (hosted: {})", self.names())))
    }

    /// The hosted names, comma-separated.
    pub fn names(&self) -> String {
        self.repositories.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
    }
}
