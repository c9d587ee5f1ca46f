//! Errors of engine operations, with the kind a front end maps to its own codes.

use std::path::PathBuf;

/// What a front end needs to know to report an error: maps to gRPC codes, HTTP statuses and MCP tool errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or out of range.
    InvalidArgument,
    /// The repository, module, file or page asked for does not exist.
    NotFound,
    /// The request is fine but the state does not allow it now (not indexed yet, no vectors, file changed).
    FailedPrecondition,
    /// Too much is already running or queued; retry later.
    Busy,
    /// Something failed inside.
    Internal,
}

/// Errors of engine operations.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Indexing or reading the index failed.
    #[error(transparent)]
    Index(#[from] sextant_index::IndexError),
    /// The embedding model or the vector store failed.
    #[error(transparent)]
    Semantic(#[from] sextant_semantic::SemanticError),
    /// The overview could not be built, read or paged.
    #[error(transparent)]
    Overview(#[from] sextant_overview::OverviewError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] sextant_config::ConfigError),
    /// A pack could not be built.
    #[error(transparent)]
    Pack(#[from] sextant_pack::PackError),
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The repository has no committed index yet.
    #[error("repository `{name}` is not indexed yet{}", match reason { Some(r) => format!(": {r}"), None => "; it is being indexed, try again shortly".to_string() })]
    NotIndexed {
        /// The repository.
        name: String,
        /// Why, when indexing failed.
        reason: Option<String>,
    },
    /// A request argument is invalid.
    #[error("{0}")]
    InvalidArgument(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The state does not allow the request now.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Too much work is queued.
    #[error("{0}")]
    Busy(String),
}

impl EngineError {
    /// The kind of error, for front ends to map to their codes.
    pub fn kind(&self) -> ErrorKind {
        use sextant_index::IndexError;
        use sextant_pack::PackError;
        match self {
            EngineError::InvalidArgument(_) | EngineError::Config(_) => ErrorKind::InvalidArgument,
            EngineError::Pack(PackError::EmptyTask | PackError::TaskTooLong(_) | PackError::BadBudget(_)) => {
                ErrorKind::InvalidArgument
            }
            EngineError::NotFound(_) | EngineError::Overview(sextant_overview::OverviewError::UnknownModule(_)) => {
                ErrorKind::NotFound
            }
            EngineError::NotIndexed { .. }
            | EngineError::FailedPrecondition(_)
            | EngineError::Index(IndexError::NotIndexed(_)) => ErrorKind::FailedPrecondition,
            EngineError::Busy(_) | EngineError::Index(IndexError::Busy { .. }) => ErrorKind::Busy,
            _ => ErrorKind::Internal,
        }
    }
}
