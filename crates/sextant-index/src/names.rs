//! Definitions by simple name, for a reader ([`crate::Index`]).
//!
//! Built from every file's symbols once; a reader opened after an update of the same file list shares the previous
//! reader's table and lays the changed files' definitions over it, so installing an update costs in proportion to
//! what changed rather than a new entry for each of the repository's hundreds of thousands of definitions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sextant_graph::SymbolId;

use crate::store::FileRecord;

/// Past this share of all files overlaid (at least 64 files, at most 512), the table is built whole again: lookups
/// would pay for the overlay more than an update saves.
const MAX_OVERLAID_SHARE: f64 = 0.05;
const OVERLAID_FILES: std::ops::RangeInclusive<usize> = 64..=512;

/// Definitions by simple name: a shared base, minus the files changed since it was built, plus their current
/// definitions.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameTable {
    base: Arc<HashMap<String, Vec<SymbolId>>>,
    /// Files whose entries in `base` no longer count (sorted).
    overlaid: Arc<Vec<u32>>,
    /// The current definitions of the `overlaid` files.
    overlay: Arc<HashMap<String, Vec<SymbolId>>>,
}

fn definitions_of<'a>(files: impl Iterator<Item = (u32, &'a FileRecord)>, table: &mut HashMap<String, Vec<SymbolId>>) {
    for (f, file) in files {
        for (s, symbol) in file.facts.symbols.iter().enumerate() {
            table.entry(symbol.name.clone()).or_default().push(SymbolId { file: f, symbol: s as u32 });
        }
    }
}

impl NameTable {
    /// The table of `files`, built whole.
    pub(crate) fn build(files: &[FileRecord]) -> NameTable {
        let mut base = HashMap::new();
        definitions_of(files.iter().enumerate().map(|(f, r)| (f as u32, r)), &mut base);
        NameTable { base: Arc::new(base), ..NameTable::default() }
    }

    /// The table of `files`, reusing `previous` (the table of `previous_files`) when the file list is the same:
    /// only the files whose facts are not the very ones `previous` was built from are read.
    pub(crate) fn update(previous: &NameTable, previous_files: &[FileRecord], files: &[FileRecord]) -> NameTable {
        let same_paths = previous_files.len() == files.len()
            && previous_files.iter().zip(files).all(|(old, new)| old.path == new.path);
        if !same_paths {
            return NameTable::build(files);
        }
        let mut overlaid: Vec<u32> = previous.overlaid.as_ref().clone();
        let before = overlaid.len();
        for (f, (old, new)) in previous_files.iter().zip(files).enumerate() {
            if !Arc::ptr_eq(&old.facts, &new.facts) {
                overlaid.push(f as u32);
            }
        }
        if overlaid.len() == before {
            return previous.clone();
        }
        overlaid.sort_unstable();
        overlaid.dedup();
        let limit =
            ((MAX_OVERLAID_SHARE * files.len() as f64) as usize).clamp(*OVERLAID_FILES.start(), *OVERLAID_FILES.end());
        if overlaid.len() > limit {
            return NameTable::build(files);
        }
        let mut overlay = HashMap::new();
        definitions_of(overlaid.iter().map(|&f| (f, &files[f as usize])), &mut overlay);
        NameTable { base: Arc::clone(&previous.base), overlaid: Arc::new(overlaid), overlay: Arc::new(overlay) }
    }

    fn is_overlaid(&self, file: u32) -> bool {
        self.overlaid.binary_search(&file).is_ok()
    }

    /// The definitions named exactly `name`, by ascending id.
    pub(crate) fn get(&self, name: &str) -> Vec<SymbolId> {
        let base = self.base.get(name).map_or(&[][..], Vec::as_slice);
        if self.overlaid.is_empty() {
            return base.to_vec();
        }
        let mut ids: Vec<SymbolId> = base.iter().copied().filter(|id| !self.is_overlaid(id.file)).collect();
        ids.extend(self.overlay.get(name).into_iter().flatten().copied());
        ids.sort_unstable();
        ids
    }

    /// Every name with at least one definition (in no particular order).
    pub(crate) fn names(&self) -> Vec<&str> {
        if self.overlaid.is_empty() {
            return self.base.keys().map(String::as_str).collect();
        }
        let mut names: HashSet<&str> = self
            .base
            .iter()
            .filter(|(_, ids)| ids.iter().any(|id| !self.is_overlaid(id.file)))
            .map(|(name, _)| name.as_str())
            .collect();
        names.extend(self.overlay.keys().map(String::as_str));
        names.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_record as record;

    fn sorted_names(table: &NameTable) -> Vec<String> {
        let mut names: Vec<String> = table.names().into_iter().map(str::to_string).collect();
        names.sort();
        names
    }

    #[test]
    fn an_update_answers_exactly_as_a_table_built_whole() {
        let v1 = vec![record("a.rs", &["open", "close"]), record("b.rs", &["open", "read"]), record("c.rs", &["seek"])];
        let first = NameTable::build(&v1);
        // b.rs loses `read` and gains `write`; a.rs and c.rs are the same records (shared facts).
        let mut v2 = v1.clone();
        v2[1] = record("b.rs", &["write", "open"]);
        let second = NameTable::update(&first, &v1, &v2);
        assert!(Arc::ptr_eq(&first.base, &second.base), "the base is shared, not rebuilt");
        // A second update on top of the first: c.rs loses its only definition.
        let mut v3 = v2.clone();
        v3[2] = record("c.rs", &[]);
        let third = NameTable::update(&second, &v2, &v3);
        assert_eq!(third.overlaid.as_slice(), &[1, 2]);
        for (table, files) in [(&second, &v2), (&third, &v3)] {
            let whole = NameTable::build(files);
            for name in ["open", "close", "read", "write", "seek", "absent"] {
                assert_eq!(table.get(name), whole.get(name), "{name}");
            }
            assert_eq!(sorted_names(table), sorted_names(&whole));
        }
        assert_eq!(third.get("open"), vec![SymbolId { file: 0, symbol: 0 }, SymbolId { file: 1, symbol: 1 }]);
        assert!(third.get("seek").is_empty() && third.get("read").is_empty());
        assert_eq!(sorted_names(&third), ["close", "open", "write"]);
        // Another file list (a file added) builds the table whole.
        let mut v4 = v3.clone();
        v4.push(record("d.rs", &["open"]));
        let fourth = NameTable::update(&third, &v3, &v4);
        assert!(fourth.overlaid.is_empty() && !Arc::ptr_eq(&fourth.base, &third.base));
        assert_eq!(fourth.get("open").len(), 3);
    }
}
