//! Domain types to wire types.

use sextant_engine::Paged;
use sextant_index::{IndexSummary, Location, ReferenceInfo, Relation, SymbolInfo};
use sextant_pack::{ContextPack, ItemKind, PackItem};
use sextant_proto::v1;
use sextant_semantic::SearchHit;

pub(crate) fn pack(pack: ContextPack) -> v1::ContextPack {
    v1::ContextPack {
        items: pack.items.into_iter().map(item).collect(),
        text: pack.text,
        tokens: pack.tokens as u32,
        budget: pack.budget as u32,
        ranked_files: pack.ranked_files,
        index_generation: pack.generation,
    }
}

fn item(item: PackItem) -> v1::PackItem {
    let kind = match item.kind {
        ItemKind::Code => v1::ItemKind::Code,
        ItemKind::Skeleton => v1::ItemKind::Skeleton,
        ItemKind::Overview => v1::ItemKind::Overview,
        ItemKind::Rule => v1::ItemKind::Rule,
    };
    v1::PackItem {
        path: item.path,
        start_line: item.start_line,
        end_line: item.end_line,
        symbol: item.symbol,
        kind: kind as i32,
        score: item.score,
        tokens: item.tokens,
        reason: item.reason,
        content: item.content,
    }
}

pub(crate) fn hit(hit: SearchHit) -> v1::SearchHit {
    v1::SearchHit {
        signals: hit
            .signals
            .iter()
            .map(|s| v1::SearchSignal { signal: s.signal.name().to_string(), rank: s.rank, score: s.score })
            .collect(),
        path: hit.path,
        start_line: hit.start_line,
        end_line: hit.end_line,
        language: hit.language,
        symbol: hit.symbol,
        score: hit.score,
        snippet: hit.snippet,
        tokens: hit.tokens,
    }
}

pub(crate) fn symbol(s: SymbolInfo) -> v1::Symbol {
    v1::Symbol {
        path: s.path,
        name: s.name,
        qualified_name: s.qualified_name,
        kind: s.kind,
        signature: s.signature,
        doc: s.doc.unwrap_or_default(),
        start_line: s.start_line,
        end_line: s.end_line,
        rank: s.rank,
    }
}

fn location(l: Location) -> v1::Location {
    v1::Location { path: l.path, line: l.line, symbol: l.symbol.unwrap_or_default(), kind: l.kind.unwrap_or_default() }
}

pub(crate) fn reference(r: ReferenceInfo) -> v1::Reference {
    v1::Reference {
        at: Some(location(r.at)),
        kind: r.kind,
        qualifier: r.qualifier.unwrap_or_default(),
        resolved_to: r.resolved_to,
    }
}

pub(crate) fn relation(r: Relation) -> v1::Relation {
    v1::Relation { subject: Some(symbol(r.subject)), other: Some(location(r.other)), weight: r.weight }
}

pub(crate) fn status(name: &str, summary: &IndexSummary, indexed_at: u64, indexing: bool) -> v1::StatusResponse {
    v1::StatusResponse {
        repository: name.to_string(),
        root: summary.root.display().to_string(),
        generation: summary.generation,
        indexed_at,
        git_head: summary.git.as_ref().map(|g| g.head.clone()).unwrap_or_default(),
        git_branch: summary.git.as_ref().and_then(|g| g.branch.clone()).unwrap_or_default(),
        files: summary.files,
        symbols: summary.symbols,
        chunks: summary.chunks,
        lines: summary.lines,
        index_bytes: summary.index_bytes,
        languages: summary
            .languages
            .iter()
            .map(|(language, c)| v1::LanguageCount { language: language.clone(), files: c.files, lines: c.lines })
            .collect(),
        skipped: summary.skipped.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        files_parsed: summary.files_parsed,
        elapsed_ms: summary.elapsed_ms,
        indexing,
    }
}

pub(crate) fn relations(page: Paged<Relation>) -> v1::RelationsResponse {
    v1::RelationsResponse {
        next_page_token: page.next_token(),
        total: page.total as u32,
        relations: page.items.into_iter().map(relation).collect(),
    }
}
