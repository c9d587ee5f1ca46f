//! The writer lock: one process at a time writes an index directory.
//!
//! Every writer (indexing, embedding, the overview) runs while holding a [`WriterLock`], an exclusive advisory
//! lock (`flock`) on `<index>/writer.lock` that the kernel releases when the process exits, however it exits,
//! so a crash never leaves a stale lock behind. The file records the holder's pid for the error message a second
//! writer gets. Readers take no lock: they read the last committed generation.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::IndexError;

/// File name of the lock inside an index directory.
pub const WRITER_LOCK_FILE: &str = "writer.lock";

/// Proof that this process is the only writer of an index directory; released on drop.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    dir: PathBuf,
}

impl WriterLock {
    /// Takes the lock of `index_dir` (creating the directory), or fails at once with [`IndexError::Busy`] naming
    /// the process that holds it.
    pub fn acquire(index_dir: &Path) -> Result<WriterLock, IndexError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Io { path, source }
        };
        std::fs::create_dir_all(index_dir).map_err(io(index_dir))?;
        let path = index_dir.join(WRITER_LOCK_FILE);
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(IndexError::Busy { dir: index_dir.to_path_buf(), pid: holder.trim().parse().ok() });
            }
            Err(TryLockError::Error(source)) => return Err(IndexError::Io { path, source }),
        }
        // The pid is only informative; failing to record it does not make the lock less held.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(std::process::id().to_string().as_bytes()));
        Ok(WriterLock { file, dir: index_dir.to_path_buf() })
    }

    /// The locked index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path()).unwrap();
        let error = WriterLock::acquire(dir.path()).unwrap_err();
        match &error {
            IndexError::Busy { pid, .. } => assert_eq!(*pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        assert!(error.to_string().contains(&format!("(pid {})", std::process::id())), "{error}");
        drop(first);
        WriterLock::acquire(dir.path()).expect("free again after the first writer dropped its lock");
    }
}
