//! A content-addressed, append-only store of computed vectors.
//!
//! One file per vector space (model fingerprint). Records are fixed-size — key, vector, checksum — so a crash
//! mid-append leaves at most one torn record at the end, which the next open detects and cuts off. The
//! in-memory part is only key → offset (24 bytes per vector); vectors are read back on demand.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SXVCACH1";
const HEADER_LEN: u64 = 24;

/// Errors from the vector cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing the file failed.
    #[error("vector cache {path}: {source}")]
    Io {
        /// The cache file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file belongs to another vector space or is not a cache file.
    #[error("vector cache {path}: {message}")]
    Incompatible {
        /// The cache file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A vector of the wrong size was offered.
    #[error("vector cache holds {expected}-dimensional vectors, got {found}")]
    Dimension {
        /// The cache's dimension.
        expected: usize,
        /// The offered vector's.
        found: usize,
    },
}

/// Vectors by text key, persisted in one file.
#[derive(Debug)]
pub struct VectorCache {
    path: PathBuf,
    file: File,
    dimension: usize,
    offsets: HashMap<u128, u64>,
    end: u64,
    torn_bytes_dropped: u64,
}

impl VectorCache {
    /// Opens (or creates) the cache for one vector space at `dir/<fingerprint>.vectors`.
    pub fn open(dir: &Path, fingerprint: u64, dimension: usize) -> Result<VectorCache, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(format!("{fingerprint:016x}.vectors"));
        let io = |source| CacheError::Io { path: path.clone(), source };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut header = [0u8; HEADER_LEN as usize];
        header[..8].copy_from_slice(MAGIC);
        header[8..16].copy_from_slice(&fingerprint.to_le_bytes());
        header[16..20].copy_from_slice(&(dimension as u32).to_le_bytes());
        if len < HEADER_LEN {
            // New (or torn before its header was complete): start over.
            file.set_len(0).map_err(io)?;
            file.write_all_at(&header, 0).map_err(io)?;
            file.sync_all().map_err(io)?;
        } else {
            let mut found = [0u8; HEADER_LEN as usize];
            file.read_exact_at(&mut found, 0).map_err(io)?;
            if found != header {
                return Err(CacheError::Incompatible {
                    path: path.clone(),
                    message: "header does not match this model's fingerprint and dimension".into(),
                });
            }
        }
        let record_len = record_len(dimension);
        let mut offsets = HashMap::new();
        let mut offset = HEADER_LEN;
        file.seek(SeekFrom::Start(HEADER_LEN)).map_err(io)?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, &mut file);
        let mut record = vec![0u8; record_len];
        loop {
            match reader.read_exact(&mut record) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io(e)),
            }
            let body = &record[..record_len - 8];
            let stored = u64::from_le_bytes(record[record_len - 8..].try_into().unwrap_or_default());
            if xxhash_rust::xxh3::xxh3_64(body) != stored {
                break;
            }
            let key = u128::from_le_bytes(body[..16].try_into().unwrap_or_default());
            offsets.insert(key, offset);
            offset += record_len as u64;
        }
        drop(reader);
        let len = file.metadata().map_err(io)?.len();
        let torn_bytes_dropped = len - offset;
        if torn_bytes_dropped > 0 {
            file.set_len(offset).map_err(io)?;
        }
        Ok(VectorCache { path, file, dimension, offsets, end: offset, torn_bytes_dropped })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Vectors stored.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether no vector is stored.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Bytes cut off a torn final record when the cache was opened (0 after a clean shutdown).
    pub fn torn_bytes_dropped(&self) -> u64 {
        self.torn_bytes_dropped
    }

    /// Whether a vector for `key` is stored.
    pub fn contains(&self, key: u128) -> bool {
        self.offsets.contains_key(&key)
    }

    /// The vector for `key`, read from disk.
    pub fn get(&self, key: u128) -> Result<Option<Vec<f32>>, CacheError> {
        let Some(&offset) = self.offsets.get(&key) else { return Ok(None) };
        let mut bytes = vec![0u8; self.dimension * 4];
        self.file
            .read_exact_at(&mut bytes, offset + 16)
            .map_err(|source| CacheError::Io { path: self.path.clone(), source })?;
        Ok(Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
    }

    /// Appends vectors (keys already present are skipped) and syncs the file.
    pub fn insert_all(&mut self, entries: &[(u128, Vec<f32>)]) -> Result<(), CacheError> {
        let record_len = record_len(self.dimension);
        let io = |source| CacheError::Io { path: self.path.clone(), source };
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.end)).map_err(io)?;
        let mut writer = BufWriter::new(file);
        let mut record = Vec::with_capacity(record_len);
        let mut added = Vec::new();
        let mut end = self.end;
        for (key, vector) in entries {
            if vector.len() != self.dimension {
                return Err(CacheError::Dimension { expected: self.dimension, found: vector.len() });
            }
            if self.offsets.contains_key(key) || added.iter().any(|(k, _)| k == key) {
                continue;
            }
            record.clear();
            record.extend_from_slice(&key.to_le_bytes());
            for value in vector {
                record.extend_from_slice(&value.to_le_bytes());
            }
            let checksum = xxhash_rust::xxh3::xxh3_64(&record);
            record.extend_from_slice(&checksum.to_le_bytes());
            writer.write_all(&record).map_err(io)?;
            added.push((*key, end));
            end += record_len as u64;
        }
        writer.flush().map_err(io)?;
        drop(writer);
        self.file.sync_data().map_err(io)?;
        self.end = end;
        self.offsets.extend(added);
        Ok(())
    }
}

fn record_len(dimension: usize) -> usize {
    16 + dimension * 4 + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = VectorCache::open(dir.path(), 7, 3).expect("open");
        cache
            .insert_all(&[(1, vec![1.0, 2.0, 3.0]), (2, vec![4.0, 5.0, 6.0]), (1, vec![9.0, 9.0, 9.0])])
            .expect("insert");
        assert_eq!(cache.len(), 2);
        let path = cache.path().to_path_buf();
        drop(cache);
        // Simulate a crash in the middle of appending a third record.
        let mut file = OpenOptions::new().append(true).open(&path).expect("open file");
        file.write_all(&[0xAB; 20]).expect("append garbage");
        drop(file);

        let cache = VectorCache::open(dir.path(), 7, 3).expect("reopen");
        assert_eq!(cache.torn_bytes_dropped(), 20);
        assert_eq!(cache.get(1).expect("get"), Some(vec![1.0, 2.0, 3.0]));
        assert_eq!(cache.get(2).expect("get"), Some(vec![4.0, 5.0, 6.0]));
        assert_eq!(cache.get(3).expect("get"), None);
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), HEADER_LEN + 2 * record_len(3) as u64);
    }

    #[test]
    fn another_dimension_is_refused_and_wrong_sized_vectors_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = VectorCache::open(dir.path(), 7, 3).expect("open");
        assert!(matches!(cache.insert_all(&[(1, vec![1.0])]), Err(CacheError::Dimension { expected: 3, found: 1 })));
        drop(cache);
        // Same fingerprint file name, different dimension in the header.
        assert!(matches!(VectorCache::open(dir.path(), 7, 4), Err(CacheError::Incompatible { .. })));
    }
}
