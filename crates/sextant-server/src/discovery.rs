//! How a command-line process finds a running server for an index: while it runs, the server leaves a small
//! record per hosted index under the user's runtime directory (`$XDG_RUNTIME_DIR/sextant/servers/`, else the
//! cache directory), named by a hash of the index directory, so a CLI query can ask the warm server instead of
//! loading the index itself. The index directory itself is not touched (only its writer writes there).
//!
//! The record is advisory. A server that died without removing it leaves a record whose process is gone, which
//! [`live_record`] ignores; a client that cannot reach the address falls back to reading the index.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the record of `index_dir` lives.
fn record_path(index_dir: &Path) -> Option<PathBuf> {
    let base = dirs::runtime_dir().or_else(dirs::cache_dir)?;
    let canonical = index_dir.canonicalize().unwrap_or_else(|_| index_dir.to_path_buf());
    let key = xxhash_rust::xxh3::xxh3_64(canonical.as_os_str().as_encoded_bytes());
    Some(base.join("sextant").join("servers").join(format!("{key:016x}.json")))
}

/// A running server, as recorded for the index directory of one repository it hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The server's process id.
    pub pid: u32,
    /// Its gRPC address (`host:port`).
    pub grpc: String,
    /// The name it hosts this repository under.
    pub repository: String,
    /// Whether calls need a bearer token.
    pub token_required: bool,
}

/// Writes the record for `index_dir` (atomically: a temporary file, then a rename).
pub fn write_record(index_dir: &Path, record: &ServerRecord) -> std::io::Result<()> {
    let path = record_path(index_dir).ok_or_else(|| std::io::Error::other("no runtime or cache directory"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("json.{}", std::process::id()));
    let bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// Removes the record of `index_dir` if it is this process's own.
pub fn remove_own_record(index_dir: &Path) {
    if read_record(index_dir).is_some_and(|r| r.pid == std::process::id()) {
        if let Some(path) = record_path(index_dir) {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn read_record(index_dir: &Path) -> Option<ServerRecord> {
    let bytes = std::fs::read(record_path(index_dir)?).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The record of a server that is still running, if any.
pub fn live_record(index_dir: &Path) -> Option<ServerRecord> {
    read_record(index_dir).filter(|r| Path::new(&format!("/proc/{}", r.pid)).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_live_only_while_its_process_runs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(live_record(dir.path()), None);
        let mine = ServerRecord {
            pid: std::process::id(),
            grpc: "127.0.0.1:7711".into(),
            repository: "shop".into(),
            token_required: false,
        };
        write_record(dir.path(), &mine).unwrap();
        assert_eq!(live_record(dir.path()), Some(mine.clone()));
        let dead = ServerRecord { pid: u32::MAX - 1, ..mine };
        write_record(dir.path(), &dead).unwrap();
        assert_eq!(live_record(dir.path()), None, "a dead server's record is ignored");
        remove_own_record(dir.path());
        assert!(read_record(dir.path()).is_some(), "another process's record is not ours to remove");
        write_record(dir.path(), &ServerRecord { pid: std::process::id(), ..dead }).unwrap();
        remove_own_record(dir.path());
        assert_eq!(read_record(dir.path()), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing is written in the index directory");
    }
}
