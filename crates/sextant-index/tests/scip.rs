//! A repository's SCIP index: its references replace the name-matched ones, updates keep them, and a removed,
//! regenerated or outdated index is noticed without any source change.

use std::path::Path;

use protobuf::Message;
use scip::types::{Document, Index as ScipProto, Occurrence, SymbolRole};
use sextant_config::Config;
use sextant_index::{index_repository, Index, IndexOptions, IndexSummary, NoProgress};

const STORAGE: &str = "class Reader:\n    def flush_pages(self):\n        return 1\n\n\nclass Writer:\n    def flush_pages(self):\n        return 2\n";
const SERVICE: &str = "from storage import Writer\n\n\ndef finish(w):\n    w.flush_pages()\n    return len([])\n";

fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    std::fs::write(root.join(rel), text).unwrap();
}

fn run(root: &Path, index_dir: &Path) -> IndexSummary {
    let config = Config::for_repository(root).unwrap();
    index_repository(&IndexOptions { root, index_dir, config: &config, force: false }, &NoProgress).unwrap()
}

/// What scip-python writes for the two files (0-based lines).
fn scip_bytes() -> Vec<u8> {
    let occurrence = |line: i32, descriptors: &str, roles: SymbolRole| {
        let mut occurrence = Occurrence::new();
        occurrence.range = vec![line, 4, 9];
        occurrence.symbol = format!("scip-python python fixture 0.1 {descriptors}");
        occurrence.symbol_roles = roles as i32;
        occurrence
    };
    let document = |path: &str, occurrences: Vec<Occurrence>| {
        let mut document = Document::new();
        document.relative_path = path.to_string();
        document.occurrences = occurrences;
        document
    };
    let def = SymbolRole::Definition;
    let mut index = ScipProto::new();
    index.documents = vec![
        document(
            "storage.py",
            vec![
                occurrence(0, "storage/Reader#", def),
                occurrence(1, "storage/Reader#flush_pages().", def),
                occurrence(5, "storage/Writer#", def),
                occurrence(6, "storage/Writer#flush_pages().", def),
            ],
        ),
        document(
            "service.py",
            vec![
                occurrence(3, "service/finish().", def),
                occurrence(4, "storage/Writer#flush_pages().", SymbolRole::UnspecifiedSymbolRole),
            ],
        ),
    ];
    index.write_to_bytes().unwrap()
}

/// `(caller, callee)` of every call of `flush_pages`, with the weight.
fn calls(index_dir: &Path) -> Vec<(String, String, f32)> {
    let index = Index::open(index_dir).unwrap();
    let mut out: Vec<(String, String, f32)> = index
        .callers("flush_pages")
        .into_iter()
        .map(|r| (r.other.symbol.unwrap_or_default(), r.subject.qualified_name, r.weight))
        .collect();
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

/// Every edge of an index, by path, for comparing an updated index with a clean one.
fn edges(index_dir: &Path) -> Vec<String> {
    let index = Index::open(index_dir).unwrap();
    let name = |node: sextant_graph::Node| match node {
        sextant_graph::Node::Symbol(id) => {
            let (file, symbol) = index.symbol(id).unwrap();
            format!("{}:{}", file.path(), symbol.qualified_name)
        }
        sextant_graph::Node::File(f) => index.file(f).unwrap().path().to_string(),
        sextant_graph::Node::Module(m) => format!("module {}", index.graph().data().modules[m as usize]),
    };
    let mut out: Vec<String> = index
        .graph()
        .data()
        .edges
        .iter()
        .map(|e| format!("{} -{}-> {} {}", name(e.from), e.kind.as_str(), name(e.to), e.weight))
        .collect();
    out.sort();
    out
}

#[test]
fn scip_references_replace_name_matched_ones_through_updates() {
    let repo = tempfile::tempdir().unwrap();
    let (r, index_dir) = (repo.path(), tempfile::tempdir().unwrap());
    write(r, "storage.py", STORAGE);
    write(r, "service.py", SERVICE);

    // Without an index the name alone decides: both methods are candidates.
    run(r, index_dir.path());
    let name_matched = calls(index_dir.path());
    assert!(name_matched.iter().any(|(_, callee, _)| callee == "Reader.flush_pages"), "{name_matched:?}");

    // The index arrives: no source changed, and the run still re-links.
    write(r, "index.scip", scip_bytes());
    let summary = run(r, index_dir.path());
    assert!(!summary.unchanged);
    let scip = summary.scip.expect("the SCIP index was used");
    assert_eq!(
        (scip.files.as_slice(), scip.covered_files, scip.error.as_deref()),
        (&["index.scip".to_string()][..], 2, None)
    );
    let precise = vec![("finish".to_string(), "Writer.flush_pages".to_string(), 1.0)];
    assert_eq!(calls(index_dir.path()), precise);

    // An unrelated edit: the incremental link keeps the precise edges, and equals a clean index.
    write(r, "extra.py", "def helper():\n    return 3\n");
    let summary = run(r, index_dir.path());
    assert_eq!(summary.files_parsed, 1);
    assert_eq!(calls(index_dir.path()), precise);
    let clean = tempfile::tempdir().unwrap();
    run(r, clean.path());
    assert_eq!(edges(index_dir.path()), edges(clean.path()));
    assert!(run(r, index_dir.path()).unchanged);

    // The storage file moves its definitions: its document is outdated, so calls into it are name-matched again.
    write(r, "storage.py", format!("import os\n\n\n{STORAGE}"));
    let summary = run(r, index_dir.path());
    assert_eq!(summary.scip.unwrap().stale_documents, 1);
    assert!(calls(index_dir.path()).iter().any(|(_, callee, _)| callee == "Reader.flush_pages"));

    // The index goes away: name-matched edges everywhere, as a clean index without it.
    write(r, "storage.py", STORAGE);
    run(r, index_dir.path());
    assert_eq!(calls(index_dir.path()), precise);
    std::fs::remove_file(r.join("index.scip")).unwrap();
    let summary = run(r, index_dir.path());
    assert!(summary.scip.is_none());
    assert_eq!(calls(index_dir.path()), name_matched);
}

#[test]
fn a_broken_scip_file_is_reported_and_the_graph_stays_name_matched() {
    let repo = tempfile::tempdir().unwrap();
    let (r, index_dir) = (repo.path(), tempfile::tempdir().unwrap());
    write(r, "storage.py", STORAGE);
    write(r, "service.py", SERVICE);
    write(r, "index.scip", [0xffu8, 0xff, 0xff, 0x01]);
    let summary = run(r, index_dir.path());
    let error = summary.scip.unwrap().error.expect("an error");
    assert!(error.contains("is not a SCIP index"), "{error}");
    assert!(calls(index_dir.path()).iter().any(|(_, callee, _)| callee == "Reader.flush_pages"));
}
