//! SCIP edges replace name-matched ones between the files an index covers, and a stale document is noticed.

use std::path::Path;

use protobuf::Message;
use scip::types::{Document, Index, Occurrence, SymbolRole};
use sextant_graph::{EdgeKind, GraphInput, Node, SymbolGraph, SymbolId};
use sextant_scip::ScipIndex;
use sextant_syntax::{analyze, FileFacts, Language};

const STORAGE: &str = "class Reader:\n    def flush_pages(self):\n        return 1\n\n\nclass Writer:\n    def flush_pages(self):\n        return 2\n";
const SERVICE: &str = "from storage import Writer\n\n\ndef finish(w):\n    w.flush_pages()\n    return len([])\n";

fn facts(text: &str) -> FileFacts {
    analyze(Language::from_name("python").unwrap(), text, Default::default()).unwrap()
}

fn occurrence(line: i32, symbol: &str, roles: SymbolRole) -> Occurrence {
    let mut occurrence = Occurrence::new();
    occurrence.range = vec![line, 4, 9];
    occurrence.symbol = symbol.to_string();
    occurrence.symbol_roles = roles as i32;
    occurrence
}

fn document(path: &str, occurrences: Vec<Occurrence>) -> Document {
    let mut document = Document::new();
    document.relative_path = path.to_string();
    document.language = "python".to_string();
    document.occurrences = occurrences;
    document
}

/// What scip-python writes for the two files (0-based lines).
fn scip_bytes() -> Vec<u8> {
    let symbol = |descriptors: &str| format!("scip-python python fixture 0.1 {descriptors}");
    let def = SymbolRole::Definition;
    let reference = SymbolRole::UnspecifiedSymbolRole;
    let mut index = Index::new();
    index.documents = vec![
        document(
            "storage.py",
            vec![
                occurrence(0, &symbol("storage/Reader#"), def),
                occurrence(1, &symbol("storage/Reader#flush_pages()."), def),
                occurrence(5, &symbol("storage/Writer#"), def),
                occurrence(6, &symbol("storage/Writer#flush_pages()."), def),
            ],
        ),
        document(
            "service.py",
            vec![
                occurrence(0, &symbol("storage/Writer#"), SymbolRole::Import),
                occurrence(3, &symbol("service/finish()."), def),
                occurrence(3, "local 0", def),
                occurrence(4, "local 0", reference),
                occurrence(4, &symbol("storage/Writer#flush_pages()."), reference),
                // A builtin: defined outside the index, so no edge.
                occurrence(5, "scip-python python python-stdlib 3.11 builtins/len().", reference),
            ],
        ),
    ];
    index.write_to_bytes().unwrap()
}

fn uses_of(graph: &sextant_graph::GraphData, from: Node) -> Vec<(Node, EdgeKind, f32)> {
    let mut out: Vec<(Node, EdgeKind, f32)> = graph
        .edges
        .iter()
        .filter(|e| e.from == from && matches!(e.kind, EdgeKind::Calls | EdgeKind::References))
        .map(|e| (e.to, e.kind, e.weight))
        .collect();
    out.sort_by_key(|a| a.0);
    out
}

#[test]
fn a_scip_reference_replaces_the_name_matched_candidates() {
    let (storage, service) = (facts(STORAGE), facts(SERVICE));
    let inputs =
        [GraphInput { path: "service.py", facts: &service }, GraphInput { path: "storage.py", facts: &storage }];
    let symbol = |file: u32, name: &str| {
        let facts = if file == 0 { &service } else { &storage };
        let s = facts.symbols.iter().position(|s| s.qualified_name == name).unwrap();
        Node::Symbol(SymbolId { file, symbol: s as u32 })
    };
    let finish = symbol(0, "finish");
    let (reader_flush, writer_flush) = (symbol(1, "Reader.flush_pages"), symbol(1, "Writer.flush_pages"));

    let mut graph = SymbolGraph::build(&inputs).into_data();
    // The name alone cannot tell which `flush_pages` is meant.
    let heuristic = uses_of(&graph, finish);
    assert!(heuristic.iter().any(|(to, _, _)| *to == reader_flush), "{heuristic:?}");

    let index = ScipIndex::from_bytes(&scip_bytes(), Path::new("index.scip")).unwrap();
    assert_eq!(index.document_count(), 2);
    let precise = index.precise_edges(&inputs);
    assert_eq!(precise.covered, [true, true]);
    assert!(precise.stale_documents.is_empty());
    precise.apply(&mut graph);
    assert_eq!(uses_of(&graph, finish), [(writer_flush, EdgeKind::Calls, 1.0)]);
}

#[test]
fn a_stale_document_keeps_the_edges_into_its_file() {
    // The storage file gained lines since the index was written: its definitions no longer land.
    let moved = format!("import os\n\n\n{STORAGE}");
    let (storage, service) = (facts(&moved), facts(SERVICE));
    let inputs =
        [GraphInput { path: "service.py", facts: &service }, GraphInput { path: "storage.py", facts: &storage }];
    let finish = Node::Symbol(SymbolId {
        file: 0,
        symbol: service.symbols.iter().position(|s| s.name == "finish").unwrap() as u32,
    });
    let mut graph = SymbolGraph::build(&inputs).into_data();
    let heuristic = uses_of(&graph, finish);
    assert!(!heuristic.is_empty());

    let index = ScipIndex::from_bytes(&scip_bytes(), Path::new("index.scip")).unwrap();
    let precise = index.precise_edges(&inputs);
    assert_eq!(precise.stale_documents, ["storage.py"]);
    assert_eq!(precise.covered, [true, false]);
    precise.apply(&mut graph);
    assert_eq!(uses_of(&graph, finish), heuristic, "edges into a file the index cannot vouch for stay");
}

#[test]
fn bytes_that_are_not_scip_are_a_clear_error() {
    let error = ScipIndex::from_bytes(&[0xff, 0xff, 0xff, 0x01], Path::new("broken.scip")).err().unwrap();
    assert!(error.to_string().contains("broken.scip is not a SCIP index"), "{error}");
    let missing = ScipIndex::read(&["/nonexistent/index.scip".into()]).err().unwrap();
    assert!(missing.to_string().contains("cannot read SCIP index /nonexistent/index.scip"), "{missing}");
}
