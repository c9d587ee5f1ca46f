//! Turning a ranking into pack items and filling the budget exactly.

use std::collections::{HashMap, HashSet};

use sextant_graph::{EdgeKind, Node, SymbolId};
use sextant_index::{Index, PathFilter};

use crate::rank::{RankWeights, Ranking, UnitScore};
use crate::{ItemKind, PackItem, PackRequest, SourceCache, TextLines, TokenizerChoice};

/// Units considered for code items.
const MAX_CODE_CANDIDATES: usize = 400;
/// Units whose graph neighbours get skeletons.
const NEIGHBOUR_SOURCES: usize = 12;
/// Skeleton score relative to the unit that pulled it in.
const SKELETON_FACTOR: f32 = 0.35;
/// Separator between items in the rendered text.
const SEPARATOR: &str = "\n";

/// An item waiting for the budget, with a cheaper stand-in if it does not fit. Code is read, rendered and
/// counted only when the fill reaches it, so a small budget never pays for hundreds of candidates.
pub(crate) struct Candidate {
    pub item: PackItem,
    pub fallback: Option<PackItem>,
    /// Where the code of `item` lives: file, byte range, language.
    source: Option<(u32, u32, u32, &'static str)>,
    /// What the learned chunk order reads of a code candidate (see [`chunk_features`]); empty for skeletons.
    pub features: Vec<f32>,
    /// The candidate's chunk in the index (file, chunk), for code.
    unit: Option<(u32, u32)>,
}

impl Candidate {
    /// Renders the code if still pending; `false` if it cannot be read as indexed. Counting waits until the
    /// fill knows how much room is left (see [`TokenizerChoice::count_within`]).
    pub(crate) fn render(&mut self, sources: &mut SourceCache<'_>) -> bool {
        if let Some((file, start, end, language)) = self.source.take() {
            let Some(body) = sources.text(file).and_then(|t| t.get(start as usize..end as usize)) else { return false };
            let item = &mut self.item;
            item.content = code_block(&item.path, item.start_line, item.end_line, &item.symbol, language, body);
        }
        true
    }
}

fn fence(language: &str) -> &str {
    match language {
        "csharp" => "cs",
        "cpp" => "cpp",
        other => other,
    }
}

fn code_block(path: &str, start: u32, end: u32, symbol: &str, language: &str, body: &str) -> String {
    let range = if start == end { format!("{start}") } else { format!("{start}-{end}") };
    let title = if symbol.is_empty() { String::new() } else { format!(" ({symbol})") };
    let body = body.trim_end_matches('\n');
    format!("## {path}:{range}{title}\n```{}\n{body}\n```\n", fence(language))
}

/// Signature lines of the symbols starting in a line range, indented by nesting.
fn skeleton_text(index: &Index, file: u32, start: u32, end: u32) -> Option<(String, u32)> {
    let file = index.file(file)?;
    let mut lines = Vec::new();
    let mut first = None;
    for (_, symbol) in file.symbols_starting_in(start..=end) {
        first.get_or_insert(symbol.span.start_line);
        let mut depth = 0;
        let mut parent = symbol.parent;
        while let Some(p) = parent {
            depth += 1;
            parent = file.symbols().get(p as usize).and_then(|s| s.parent);
        }
        lines.push(format!("{}{} …", "    ".repeat(depth.min(4)), symbol.signature));
    }
    Some((lines.join("\n"), first?))
}

/// The code of one chunk as a candidate, with its signatures as the stand-in; `None` when the chunk is gone.
fn code_candidate(index: &Index, file_id: u32, chunk_position: u32, score: f32, reason: String) -> Option<Candidate> {
    let file = index.file(file_id)?;
    let chunk = file.chunks().get(chunk_position as usize)?;
    let language = file.language().name();
    let symbol = chunk.display_symbol().to_string();
    let fallback =
        skeleton_text(index, file_id, chunk.span.start_line, chunk.span.end_line).map(|(sig, line)| PackItem {
            path: file.path().to_string(),
            start_line: line,
            end_line: line,
            symbol: symbol.clone(),
            kind: ItemKind::Skeleton,
            score,
            tokens: 0,
            reason: format!("{reason} (signatures only: the code did not fit)"),
            content: code_block(file.path(), line, line, &symbol, language, &sig),
        });
    let item = PackItem {
        path: file.path().to_string(),
        start_line: chunk.span.start_line,
        end_line: chunk.span.end_line,
        symbol,
        kind: ItemKind::Code,
        score,
        tokens: 0,
        reason,
        content: String::new(),
    };
    let source = Some((file_id, chunk.span.start_byte, chunk.span.end_byte, language));
    Some(Candidate { item, fallback, source, features: Vec::new(), unit: Some((file_id, chunk_position)) })
}

/// The chunks around each of the first `units` ranked units, up to `reach` on each side while each is within
/// merging distance of the last, with the score each is pulled forward to: `pull` times the best unit it sits
/// next to for the chunk next door, `pull` squared for the one after, and so on.
fn pulled_neighbours(index: &Index, ranking: &Ranking, weights: &RankWeights) -> HashMap<(u32, u32), (f32, String)> {
    let mut pulled: HashMap<(u32, u32), (f32, String)> = HashMap::new();
    for unit in ranking.units.iter().take(weights.neighbour_units) {
        let Some(file) = index.file(unit.file) else { continue };
        let chunks = file.chunks();
        let Some(chunk) = chunks.get(unit.chunk as usize) else { continue };
        let why = match chunk.display_symbol() {
            "" => "next to the best match".to_string(),
            name => format!("next to `{name}`"),
        };
        for step in [-1i64, 1] {
            let (mut last, mut score) = (chunk, unit.score);
            for distance in 1..=weights.neighbour_reach as i64 {
                let position = i64::from(unit.chunk) + step * distance;
                let Some(next) = usize::try_from(position).ok().and_then(|p| chunks.get(p)) else { break };
                let (first, second) = if step < 0 { (next, last) } else { (last, next) };
                if first.span.end_line + MERGE_GAP < second.span.start_line {
                    break;
                }
                // A share: a neighbour never leads the unit that pulls it.
                score *= weights.neighbour_pull.clamp(0.0, 1.0);
                let entry = pulled.entry((unit.file, position as u32)).or_insert((0.0, String::new()));
                if score > entry.0 {
                    *entry = (score, why.clone());
                }
                last = next;
            }
        }
    }
    pulled
}

/// The pack's candidate items in the order the fill takes them; `with_features` notes the learned chunk order's
/// features in the code candidates even where that order is off (for learning it).
pub(crate) fn candidates(
    index: &Index,
    ranking: &Ranking,
    request: &PackRequest,
    with_features: bool,
) -> Vec<Candidate> {
    let paths = PathFilter::new(&request.path_filters);
    let weights = request.weights.for_task(&request.task);
    let mut pulled = pulled_neighbours(index, ranking, weights);
    let mut out = Vec::new();
    let mut skeleton_symbols: HashSet<SymbolId> = HashSet::new();
    for unit in ranking.units.iter().take(MAX_CODE_CANDIDATES) {
        let mut reasons: Vec<String> = unit.reasons.iter().take(3).cloned().collect();
        let mut score = unit.score;
        if let Some((pulled_score, why)) = pulled.remove(&(unit.file, unit.chunk)) {
            if pulled_score > score {
                score = pulled_score;
                reasons.insert(0, why);
                reasons.truncate(3);
            }
        }
        out.extend(code_candidate(index, unit.file, unit.chunk, score, reasons.join("; ")));
    }
    // Neighbours outside the candidate units: no evidence of their own, or ranked past them.
    for ((file, chunk), (score, why)) in pulled {
        out.extend(code_candidate(index, file, chunk, score, why));
    }

    // Skeletons of the graph neighbours (callees, callers, enclosing types) of the strongest units.
    for unit in ranking.units.iter().take(NEIGHBOUR_SOURCES) {
        let Some(file) = index.file(unit.file) else { continue };
        let Some(chunk) = file.chunks().get(unit.chunk as usize) else { continue };
        let defined: Vec<SymbolId> =
            file.symbols_starting_in(chunk.span.start_line..=chunk.span.end_line).map(|(id, _)| id).collect();
        let mut neighbours: Vec<(SymbolId, &str)> = Vec::new();
        for id in &defined {
            for (node, weight) in index.graph().outgoing(Node::Symbol(*id), EdgeKind::Calls) {
                if let (Node::Symbol(n), true) = (node, weight >= 0.5) {
                    neighbours.push((n, "called by"));
                }
            }
            for (node, weight) in index.graph().incoming(Node::Symbol(*id), EdgeKind::Calls) {
                if let (Node::Symbol(n), true) = (node, weight >= 0.5) {
                    neighbours.push((n, "calls"));
                }
            }
            if let Some(parent) = index.symbol(*id).and_then(|(_, s)| s.parent) {
                neighbours.push((SymbolId { file: id.file, symbol: parent }, "encloses"));
            }
        }
        let via = chunk.symbol_path.clone();
        for (neighbour, relation) in neighbours {
            if !crate::file_allowed(index, request, &paths, neighbour.file) || !skeleton_symbols.insert(neighbour) {
                continue;
            }
            let Some((neighbour_file, symbol)) = index.symbol(neighbour) else { continue };
            // A neighbour that is already a strong code candidate needs no skeleton.
            let neighbour_unit = neighbour_file
                .chunks()
                .iter()
                .position(|c| c.span.start_line <= symbol.span.start_line && symbol.span.end_line <= c.span.end_line)
                .map(|c| (neighbour.file, c as u32));
            if neighbour_unit
                .is_some_and(|u| ranking.units.iter().take(NEIGHBOUR_SOURCES * 2).any(|x| (x.file, x.chunk) == u))
            {
                continue;
            }
            let language = neighbour_file.language().name();
            let (text, line) = if symbol.kind.is_type_like() {
                match skeleton_text(index, neighbour.file, symbol.span.start_line, symbol.span.end_line) {
                    Some(found) => found,
                    None => continue,
                }
            } else {
                (symbol.signature.clone(), symbol.span.start_line)
            };
            let content = code_block(neighbour_file.path(), line, line, &symbol.qualified_name, language, &text);
            let score = unit.score * SKELETON_FACTOR * index.graph().symbol_rank(neighbour).clamp(0.5, 2.0);
            let via_name = if via.is_empty() { file.path().to_string() } else { via.clone() };
            out.push(Candidate {
                item: PackItem {
                    path: neighbour_file.path().to_string(),
                    start_line: line,
                    end_line: line,
                    symbol: symbol.qualified_name.clone(),
                    kind: ItemKind::Skeleton,
                    score,
                    tokens: 0,
                    reason: format!("{relation} `{via_name}`"),
                    content,
                },
                fallback: None,
                source: None,
                features: Vec::new(),
                unit: None,
            });
        }
    }
    out.sort_by(|a, b| {
        b.item
            .score
            .total_cmp(&a.item.score)
            .then_with(|| a.item.path.cmp(&b.item.path))
            .then(a.item.start_line.cmp(&b.item.start_line))
    });
    if with_features || weights.learned_chunks > 0.0 {
        chunk_features(index, ranking, request.weights.is_long(&request.task), &mut out);
    }
    if weights.learned_chunks > 0.0 {
        learned_chunk_order(&mut out, weights.chunk_size_power);
    }
    out
}

/// Reorders the code candidates that have features (the first [`REORDERED_CHUNKS`]) by value per token: the
/// chunk model's log-odds that a candidate holds part of the change, less `size_power` times the log of its size.
/// A prefix of the pack then covers more of the change for its tokens than the fused scores' order (which knows
/// neither the size nor how the signals combine at chunk level). Skeletons and later code keep their slots.
fn learned_chunk_order(candidates: &mut Vec<Candidate>, size_power: f32) {
    let slots: Vec<usize> = (0..candidates.len()).filter(|&i| !candidates[i].features.is_empty()).collect();
    if slots.len() < 2 {
        return;
    }
    let vectors: Vec<&[f32]> = slots.iter().map(|&i| candidates[i].features.as_slice()).collect();
    let scores = crate::learned::TreeModel::chunks().score_all(&vectors);
    let mut order: Vec<(f32, usize)> = scores
        .iter()
        .zip(&slots)
        .map(|(score, &i)| (score - size_power * candidates[i].features[crate::learned::CHUNK_LOG_BYTES], i))
        .collect();
    // Ties keep the fused order.
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut taken: Vec<Option<Candidate>> = candidates.drain(..).map(Some).collect();
    let mut moving = order.into_iter().map(|(_, i)| i);
    let mut next_slot = slots.iter().peekable();
    for position in 0..taken.len() {
        let from = if next_slot.next_if(|&&slot| slot == position).is_some() {
            moving.next().unwrap_or(position)
        } else {
            position
        };
        candidates.extend(taken[from].take());
    }
}

/// How many of the first code candidates the learned chunk order reads and reorders; the rest keep their places.
pub(crate) const REORDERED_CHUNKS: usize = 300;

/// Notes in each of the first [`REORDERED_CHUNKS`] code candidates (in score order) the features of
/// [`crate::learned::CHUNK_FEATURE_NAMES`]: its place in each chunk list, its scores against the best, its file's
/// place in the file ranking, its rank among its file's candidates, and its size and place in the file.
fn chunk_features(index: &Index, ranking: &Ranking, long_task: bool, candidates: &mut [Candidate]) {
    let code: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].unit.is_some()).take(REORDERED_CHUNKS).collect();
    // Only the evidence of these candidates and their files: a ranking holds thousands of each.
    let wanted: HashSet<(u32, u32)> = code.iter().filter_map(|&i| candidates[i].unit).collect();
    let wanted_files: HashSet<u32> = wanted.iter().map(|(file, _)| *file).collect();
    let units: HashMap<(u32, u32), &UnitScore> =
        ranking.units.iter().filter(|u| wanted.contains(&(u.file, u.chunk))).map(|u| ((u.file, u.chunk), u)).collect();
    let file_places: HashMap<u32, usize> = ranking
        .files
        .iter()
        .enumerate()
        .filter(|(_, (f, _))| wanted_files.contains(f))
        .map(|(i, (f, _))| (*f, i))
        .collect();
    let best_file_score = ranking.files.first().map_or(1.0, |(_, s)| s.max(1e-9));
    let best = code.first().map_or(1.0, |&i| candidates[i].item.score.max(1e-9));
    let mut per_file: HashMap<u32, usize> = HashMap::new();
    for &i in &code {
        if let Some((file, _)) = candidates[i].unit {
            *per_file.entry(file).or_default() += 1;
        }
    }
    let mut seen_in_file: HashMap<u32, usize> = HashMap::new();
    let place = |place: u16| if place == 0 { 0.0 } else { (1.0 - f32::from(place).ln() / 300f32.ln()).max(0.0) };
    for (rank, &i) in code.iter().enumerate() {
        let candidate = &mut candidates[i];
        let Some((file_id, chunk_position)) = candidate.unit else { continue };
        let Some(file) = index.file(file_id) else { continue };
        let Some(chunk) = file.chunks().get(chunk_position as usize) else { continue };
        let unit = units.get(&(file_id, chunk_position));
        let own = unit.map_or(0.0, |u| u.score);
        let prior = unit.map_or(0.0, |u| u.prior);
        let in_file = seen_in_file.entry(file_id).or_default();
        *in_file += 1;
        let file_place = file_places.get(&file_id).copied();
        let mut v: Vec<f32> = unit.map_or([0.0; crate::rank::UNIT_SIGNALS.len()], |u| u.places.map(place)).to_vec();
        let signals = v.iter().filter(|p| **p > 0.0).count() as f32;
        let chunk_count = file.chunks().len().max(1) as f32;
        v.extend([
            candidate.item.score / best,
            own / best,
            if own > 0.0 { prior / own } else { 0.0 },
            if candidate.item.score > own { 1.0 } else { 0.0 },
            (1.0 + rank as f32).ln(),
            file_place.map_or(500f32, |p| p as f32 + 1.0).ln(),
            file_place.and_then(|p| ranking.files.get(p)).map_or(0.0, |(_, s)| s / best_file_score),
            (*in_file as f32).ln(),
            (1.0 + chunk.span.end_byte.saturating_sub(chunk.span.start_byte) as f32).ln(),
            (1.0 + chunk.span.end_line.saturating_sub(chunk.span.start_line) as f32).ln(),
            chunk_position as f32 / chunk_count,
            chunk_count.ln(),
            if chunk.display_symbol().is_empty() { 0.0 } else { 1.0 },
            if sextant_index::is_test_path(file.path()) { 1.0 } else { 0.0 },
            if sextant_index::auxiliary_kind(file.path()).is_some() { 1.0 } else { 0.0 },
            if long_task { 1.0 } else { 0.0 },
            signals,
            (per_file.get(&file_id).copied().unwrap_or(1) as f32).ln(),
        ]);
        candidate.features = v;
    }
}

/// Code items separated by at most this many lines are merged into one item (the lines between come along),
/// so a change that spans two neighbouring units is covered by one contiguous range.
const MERGE_GAP: u32 = 4;
/// Largest item merging may build behind the fine-grained prefix (`RankWeights::fine_grained_prefix`): re-counting
/// ever larger items is what a big pack costs. Whole stretches of the best files there serve large budgets.
const MERGE_LATE_MAX_TOKENS: u32 = 6_000;

/// Takes candidates in order while they fit, merging neighbouring code and never repeating a line, then
/// verifies the exact total of the rendered text.
pub(crate) fn fill(
    index: &Index,
    sources: &mut SourceCache<'_>,
    candidates: Vec<Candidate>,
    request: &PackRequest,
) -> Vec<PackItem> {
    let budget = request.budget;
    let tokenizer = request.tokenizer;
    let weights = request.weights.for_task(&request.task);
    let caps = MergeCaps { prefix: weights.fine_grained_prefix, in_prefix: weights.merge_max_tokens };
    let separator_tokens = tokenizer.count(SEPARATOR);
    let mut items: Vec<PackItem> = Vec::new();
    let mut used = 0usize;
    for mut candidate in candidates {
        if budget.saturating_sub(used) < 16 {
            break;
        }
        if !candidate.render(sources) {
            continue;
        }
        for mut item in std::iter::once(candidate.item).chain(candidate.fallback) {
            if item.kind == ItemKind::Code {
                let merge = merge_into(index, sources, &items, &item, tokenizer, caps).filter(|merged| {
                    // Unlimited (the default): no sum to take.
                    weights.merge_window == u32::MAX
                        || items[merged.target + 1..].iter().map(|i| i.tokens).sum::<u32>() <= weights.merge_window
                });
                if let Some(merged) = merge {
                    let freed: usize =
                        merged.absorbed.iter().map(|&i| items[i].tokens as usize + separator_tokens).sum();
                    let new_used = used + merged.item.tokens as usize - items[merged.target].tokens as usize - freed;
                    if new_used > budget {
                        continue;
                    }
                    items[merged.target] = merged.item;
                    for &i in merged.absorbed.iter().rev() {
                        items.remove(i);
                    }
                    used = new_used;
                    break;
                }
            }
            let inside = |i: &PackItem| {
                i.kind == ItemKind::Skeleton
                    && i.path == item.path
                    && i.start_line >= item.start_line
                    && i.end_line <= item.end_line
            };
            let freed: usize = if item.kind == ItemKind::Code {
                items.iter().filter(|i| inside(i)).map(|i| i.tokens as usize + separator_tokens).sum()
            } else {
                0
            };
            let separator = if items.is_empty() { 0 } else { separator_tokens };
            if item.tokens == 0 {
                // Counted only now (a fallback only when its item did not fit), and only as far as the room left.
                let room = (budget + freed).saturating_sub(used + separator);
                match tokenizer.count_within(&item.content, room) {
                    Some(tokens) => item.tokens = tokens as u32,
                    None => continue,
                }
            }
            let cost = item.tokens as usize + separator;
            if used + cost > budget + freed {
                continue;
            }
            if item.kind == ItemKind::Code {
                // Skeletons inside this code are redundant now: drop them and take their tokens back.
                items.retain(|i| !inside(i));
            }
            let overlaps = items
                .iter()
                .any(|i| i.path == item.path && item.start_line <= i.end_line && i.start_line <= item.end_line);
            if overlaps {
                break;
            }
            used = used + cost - freed;
            items.push(item);
            break;
        }
    }
    for item in items.iter_mut().filter(|i| i.reason.ends_with("with adjacent code")) {
        item.tokens = tokenizer.count(&item.content) as u32;
    }
    items
}

/// Smallest nested prefix laid out (`RankWeights::nested_prefixes`): below it only the tiniest items would fit.
const MIN_NESTED_PREFIX: usize = 1_000;

/// Least room, in tokens, worth cutting an item for at the end of a cut prefix (`RankWeights::cut_prefix`).
const MIN_CUT_ROOM: usize = 150;
/// Fewest lines either part of a cut item keeps.
const MIN_CUT_LINES: usize = 3;

/// Lays out `code` (the items behind `leading_tokens` of overview and rules) so that each of `prefixes` nested
/// prefixes of the pack, a quarter of the budget and then a quarter of that, holds what a pack of that size would:
/// within the items the larger prefix holds, those that fit the smaller one in order come first, and an item that
/// would cross its end moves behind them. The smallest prefix, when it has at most `cut_prefix` tokens, is read in
/// the fill order instead: the code item that crosses its end is cut at a line (with at least [`MIN_CUT_ROOM`]
/// tokens left for it) and its other lines follow. Otherwise the items and their total do not change, only their
/// order; each prefix keeps the fill order among the items it holds.
pub(crate) fn nest(
    mut code: Vec<PackItem>,
    budget: usize,
    leading_tokens: usize,
    prefixes: usize,
    cut_prefix: usize,
    tokenizer: TokenizerChoice,
) -> Vec<PackItem> {
    let reading = Reading { leading_tokens, separator_tokens: tokenizer.count(SEPARATOR) };
    let sizes: Vec<usize> = std::iter::successors(Some(budget / 4), |size| Some(size / 4))
        .take(prefixes)
        .take_while(|&size| size >= MIN_NESTED_PREFIX)
        .collect();
    if let Some((&smallest, larger)) = sizes.split_last().filter(|(&smallest, _)| smallest <= cut_prefix) {
        // The smallest prefix reads the layout of the larger ones in order. Its crossing item is cut in the fill
        // order, and the larger prefixes are laid out again, counting the two parts as they are.
        let order = reading.nested_order(&code, larger);
        if let Some((at, room)) = reading.crossing(&code, &order, smallest) {
            if let Some((head, rest)) = cut_item(&code[at], room, smallest, tokenizer) {
                code.splice(at..=at, [head, rest]);
                let order = reading.nested_order(&code, larger);
                return in_order(code, &order);
            }
        }
    }
    let order = reading.nested_order(&code, &sizes);
    in_order(code, &order)
}

/// How a reader of the pack counts the code behind the overview and rules.
struct Reading {
    /// Tokens of the overview and rules ahead of the code, separators included.
    leading_tokens: usize,
    /// Tokens of the separator ahead of every item but the pack's first.
    separator_tokens: usize,
}

impl Reading {
    /// Tokens `item` adds to a reading that has `used` so far.
    fn cost(&self, item: &PackItem, used: usize) -> usize {
        item.tokens as usize + if used == 0 { 0 } else { self.separator_tokens }
    }

    /// The positions of `code` in the reading order of the nested layout of [`nest`] for prefixes of `sizes`
    /// tokens (largest first), without cutting.
    fn nested_order(&self, code: &[PackItem], sizes: &[usize]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..code.len()).collect();
        let mut region = order.len();
        for &prefix in sizes {
            let mut used = self.leading_tokens;
            let (mut held, mut moved) = (Vec::new(), Vec::new());
            for at in order.drain(..region) {
                let needed = self.cost(&code[at], used);
                if used + needed <= prefix {
                    used += needed;
                    held.push(at);
                } else {
                    moved.push(at);
                }
            }
            region = held.len();
            held.append(&mut moved);
            held.append(&mut order);
            order = held;
        }
        order
    }

    /// The position in `code` of the first item that crosses the end of the first `prefix` tokens, read in
    /// `order`, with the room left for it there.
    fn crossing(&self, code: &[PackItem], order: &[usize], prefix: usize) -> Option<(usize, usize)> {
        let mut used = self.leading_tokens;
        for &at in order {
            let needed = self.cost(&code[at], used);
            if used + needed > prefix {
                return Some((at, prefix.saturating_sub(used + needed - code[at].tokens as usize)));
            }
            used += needed;
        }
        None
    }
}

/// `code` rearranged into `order` (a permutation of its positions).
fn in_order(code: Vec<PackItem>, order: &[usize]) -> Vec<PackItem> {
    let mut slots: Vec<Option<PackItem>> = code.into_iter().map(Some).collect();
    order.iter().filter_map(|&at| slots[at].take()).collect()
}

/// `item` cut in two at a line: its first lines, within `room` tokens as rendered, and the rest; `None` for a
/// skeleton, too little room, or an item too short for both parts to keep [`MIN_CUT_LINES`].
fn cut_item(item: &PackItem, room: usize, prefix: usize, tokenizer: TokenizerChoice) -> Option<(PackItem, PackItem)> {
    if item.kind != ItemKind::Code || room < MIN_CUT_ROOM {
        return None;
    }
    // The rendering of `code_block`: a heading, the opening fence with its language, the body, the closing fence.
    let lines: Vec<&str> = item.content.lines().collect();
    let (heading, rest) = lines.split_first()?;
    let (opening, rest) = rest.split_first()?;
    let (closing, body) = rest.split_last()?;
    let language = opening.strip_prefix("```")?;
    if !heading.starts_with("## ") || *closing != "```" || body.len() < 2 * MIN_CUT_LINES {
        return None;
    }
    let part = |from: usize, to: usize, reason: String| {
        let start = item.start_line + from as u32;
        let end = if to == body.len() { item.end_line } else { item.start_line + to as u32 - 1 };
        let content = code_block(&item.path, start, end, &item.symbol, language, &body[from..to].join("\n"));
        PackItem { start_line: start, end_line: end, reason, content, tokens: 0, ..item.clone() }
    };
    // The most lines whose rendered head fits: the count grows with the lines, so a binary search finds them.
    let head_reason = format!("{}; its first lines, cut where the pack's first {prefix} tokens end", item.reason);
    let fits = |lines_in: usize| {
        let head = part(0, lines_in, head_reason.clone());
        tokenizer.count_within(&head.content, room).map(|tokens| PackItem { tokens: tokens as u32, ..head })
    };
    let (mut low, mut high) = (MIN_CUT_LINES, body.len() - MIN_CUT_LINES);
    let mut head = fits(low)?;
    while low < high {
        let middle = (low + high).div_ceil(2);
        match fits(middle) {
            Some(longer) => (low, head) = (middle, longer),
            None => high = middle - 1,
        }
    }
    let mut rest = part(low, body.len(), format!("{}; the lines after the cut above", item.reason));
    rest.tokens = tokenizer.count(&rest.content) as u32;
    Some((head, rest))
}

/// Renders the items and drops trailing ones until the exact count fits: BPE counts of parts need not add up.
pub(crate) fn verify(
    mut items: Vec<PackItem>,
    budget: usize,
    tokenizer: TokenizerChoice,
) -> (Vec<PackItem>, String, usize) {
    loop {
        let text = render_text(&items);
        let tokens = tokenizer.count(&text);
        if tokens <= budget || items.is_empty() {
            return (items, text, tokens);
        }
        items.pop();
    }
}

/// How large merged items may grow, by where they sit in the pack.
#[derive(Clone, Copy)]
struct MergeCaps {
    /// Tokens at the front of the pack kept fine-grained.
    prefix: u32,
    /// Largest merged item in that prefix.
    in_prefix: u32,
}

struct Merge {
    /// The existing item that grows to cover the union.
    target: usize,
    /// The grown item.
    item: PackItem,
    /// Other items now inside the union (ascending positions).
    absorbed: Vec<usize>,
}

/// If `item` sits next to a code item of the same file, the item covering both (and the lines between), grown
/// over the further neighbours that brings within reach; where that chain would pass the size cap, the two alone,
/// so a change across the boundary of two units is still covered by one range.
fn merge_into(
    index: &Index,
    sources: &mut SourceCache<'_>,
    items: &[PackItem],
    item: &PackItem,
    tokenizer: TokenizerChoice,
    caps: MergeCaps,
) -> Option<Merge> {
    let near = |i: &PackItem, start: u32, end: u32| {
        i.kind == ItemKind::Code
            && i.path == item.path
            && i.start_line <= end + MERGE_GAP
            && start <= i.end_line + MERGE_GAP
    };
    let target = items.iter().position(|i| near(i, item.start_line, item.end_line))?;
    let pair = (item.start_line.min(items[target].start_line), item.end_line.max(items[target].end_line));
    // Growing may bring further neighbours within reach.
    let (mut start, mut end) = pair;
    loop {
        let grown = items
            .iter()
            .enumerate()
            .filter(|(i, other)| {
                *i != target
                    && (near(other, start, end)
                        || (other.path == item.path && other.start_line <= end && start <= other.end_line))
            })
            .fold((start, end), |(s, e), (_, other)| (s.min(other.start_line), e.max(other.end_line)));
        if grown == (start, end) {
            break;
        }
        (start, end) = grown;
    }
    let file = index.file_by_path(&item.path)?;
    let text = sources.text_lines(file.id())?;
    let union = |(start, end): (u32, u32)| {
        merged_range(text, file.language().name(), items, target, item, start, end, tokenizer, caps)
    };
    union((start, end)).or_else(|| if (start, end) == pair { None } else { union(pair) })
}

/// `items[target]` grown to lines `start..=end` of `text` to take in `item`, absorbing the items inside, or
/// `None` when the range would pass the size cap for its place in the pack or cut through another item.
#[allow(clippy::too_many_arguments)]
fn merged_range(
    text: TextLines<'_>,
    language: &str,
    items: &[PackItem],
    target: usize,
    item: &PackItem,
    start: u32,
    end: u32,
    tokenizer: TokenizerChoice,
    caps: MergeCaps,
) -> Option<Merge> {
    let same_file = |(i, other): &(usize, &PackItem)| *i != target && other.path == item.path;
    let absorbed: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|entry| same_file(entry) && entry.1.start_line >= start && entry.1.end_line <= end)
        .map(|(i, _)| i)
        .collect();
    // A range that only partly covers another item would repeat its lines.
    let cuts_through = items.iter().enumerate().any(|entry| {
        same_file(&entry) && !absorbed.contains(&entry.0) && entry.1.start_line <= end && start <= entry.1.end_line
    });
    if cuts_through {
        return None;
    }
    let base = &items[target];
    // Where the union will sit: after the items before the target that it does not absorb. Absorbing earlier
    // items moves it forward, so a union that lands in the fine-grained prefix is capped like one made there.
    let before: u32 =
        items[..target].iter().enumerate().filter(|(i, _)| !absorbed.contains(i)).map(|(_, i)| i.tokens).sum();
    let cap = if before >= caps.prefix { before.min(MERGE_LATE_MAX_TOKENS) } else { caps.in_prefix };
    // Count only the lines added around the base item (re-counting a growing item each time is quadratic), and
    // only up to the cap: a union that would exceed it is not built, however large. Merged items are counted
    // exactly once at the end of the fill.
    let mut tokens = base.tokens;
    let mut add = |from: u32, to: u32| -> Option<()> {
        let room = cap.checked_sub(tokens)? as usize;
        tokens += tokenizer.count_within(text.range(from, to), room)? as u32;
        Some(())
    };
    if start < base.start_line {
        add(start, base.start_line - 1)?;
    }
    if end > base.end_line {
        add(base.end_line + 1, end)?;
    }
    let content = code_block(&item.path, start, end, &base.symbol, language, text.range(start, end));
    let merged = PackItem {
        path: item.path.clone(),
        start_line: start,
        end_line: end,
        symbol: base.symbol.clone(),
        kind: ItemKind::Code,
        score: base.score.max(item.score),
        tokens,
        reason: if base.reason.contains("adjacent code") {
            base.reason.clone()
        } else {
            format!("{}; with adjacent code", base.reason)
        },
        content,
    };
    Some(Merge { target, item: merged, absorbed })
}

fn render_text(items: &[PackItem]) -> String {
    items.iter().map(|i| i.content.as_str()).collect::<Vec<_>>().join(SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::{TreeModel, CHUNK_FEATURE_NAMES, CHUNK_LOG_BYTES};

    fn candidate(name: &str, kind: ItemKind, features: Vec<f32>) -> Candidate {
        let item = PackItem {
            path: format!("{name}.rs"),
            start_line: 1,
            end_line: 1,
            symbol: name.to_string(),
            kind,
            score: 1.0,
            tokens: 0,
            reason: String::new(),
            content: String::new(),
        };
        let unit = (kind == ItemKind::Code).then_some((0, 0));
        Candidate { item, fallback: None, source: None, features, unit }
    }

    /// A code candidate's features: found at `place` in the task's lexical list, the chunk of `bytes` bytes at
    /// `rank` in the fused order.
    fn features(place: f32, rank: usize, bytes: f32) -> Vec<f32> {
        let mut v = vec![0.0; CHUNK_FEATURE_NAMES.len()];
        v[0] = (1.0 - place.ln() / 300f32.ln()).max(0.0);
        let at = |name: &str| CHUNK_FEATURE_NAMES.iter().position(|n| *n == name).unwrap();
        v[at("score/best")] = 1.0 / (1.0 + rank as f32);
        v[at("own/best")] = 1.0 / (1.0 + rank as f32);
        v[at("log_rank")] = (1.0 + rank as f32).ln();
        v[CHUNK_LOG_BYTES] = (1.0 + bytes).ln();
        v[at("log_lines")] = (bytes / 40.0).ln_1p();
        v
    }

    #[test]
    fn the_learned_chunk_order_sorts_code_by_value_per_token_and_keeps_skeleton_slots() {
        let mut candidates = vec![
            candidate("big", ItemKind::Code, features(1.0, 0, 60_000.0)),
            candidate("skeleton", ItemKind::Skeleton, Vec::new()),
            candidate("weak", ItemKind::Code, features(250.0, 1, 400.0)),
            candidate("small", ItemKind::Code, features(2.0, 2, 300.0)),
            // Past the candidates the model reads: it keeps its place.
            candidate("late", ItemKind::Code, Vec::new()),
        ];
        let size_power = 0.3;
        let key = |c: &Candidate| TreeModel::chunks().score(&c.features) - size_power * c.features[CHUNK_LOG_BYTES];
        let mut expected: Vec<(f32, String)> =
            candidates.iter().filter(|c| !c.features.is_empty()).map(|c| (key(c), c.item.symbol.clone())).collect();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0));
        learned_chunk_order(&mut candidates, size_power);
        let order: Vec<&str> = candidates.iter().map(|c| c.item.symbol.as_str()).collect();
        assert_eq!(order[1], "skeleton");
        assert_eq!(order[4], "late");
        let code: Vec<&str> = [order[0], order[2], order[3]].to_vec();
        assert_eq!(code, expected.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>());
        // The likely small chunk leads the equally likely chunk two hundred times its size.
        assert!(
            code.iter().position(|s| *s == "small") < code.iter().position(|s| *s == "big"),
            "{code:?} by {expected:?}"
        );
    }

    /// A code item of `tokens` tokens named `name`.
    fn sized(name: &str, tokens: u32) -> PackItem {
        PackItem {
            path: format!("{name}.rs"),
            start_line: 1,
            end_line: 1,
            symbol: name.to_string(),
            kind: ItemKind::Code,
            score: 1.0,
            tokens,
            reason: String::new(),
            content: String::new(),
        }
    }

    fn names(items: &[PackItem]) -> Vec<&str> {
        items.iter().map(|i| i.symbol.as_str()).collect()
    }

    #[test]
    fn nested_prefixes_are_filled_like_packs_of_their_size() {
        let tokenizer = TokenizerChoice::default();
        assert_eq!(tokenizer.count(SEPARATOR), 1, "the sizes below count one token per separator");
        // A 32k pack: prefixes of 8,000 and 2,000 tokens.
        let fill = [("a", 1_200), ("big", 1_500), ("b", 700), ("huge", 5_000), ("c", 90), ("d", 4_700), ("e", 400)];
        let code: Vec<PackItem> = fill.iter().map(|(name, tokens)| sized(name, *tokens)).collect();
        let nested = nest(code.clone(), 32_000, 0, 2, 0, tokenizer);
        // 8,000: a, big, b, c and e fit (huge would end at 8,403 and d at 8,194, so both move behind e); within
        // those, 2,000: a, b (1,901 with its separator) and c (1,992); big would end at 2,701.
        assert_eq!(names(&nested), ["a", "b", "c", "big", "e", "huge", "d"]);
        let prefix_of = |items: &[PackItem], limit: usize| {
            let mut used = 0;
            items
                .iter()
                .take_while(|i| {
                    used += i.tokens as usize + usize::from(used > 0);
                    used <= limit
                })
                .count()
        };
        // The fill order's prefixes end at the first large item; the nested ones hold every item that fits.
        assert_eq!((prefix_of(&code, 2_000), prefix_of(&code, 8_000)), (1, 3));
        assert_eq!((prefix_of(&nested, 2_000), prefix_of(&nested, 8_000)), (3, 5));
        // One prefix: only the quarter; none, or a budget whose quarter is too small to lay out: the fill order.
        assert_eq!(names(&nest(code.clone(), 32_000, 0, 1, 0, tokenizer)), ["a", "big", "b", "c", "e", "huge", "d"]);
        assert_eq!(names(&nest(code.clone(), 32_000, 0, 0, 0, tokenizer)), names(&code));
        assert_eq!(names(&nest(code.clone(), 3_000, 0, 2, 0, tokenizer)), names(&code));
        // Overview and rules ahead of the code take their share of each prefix.
        // With 4,200 tokens ahead, e would end at 8,095: it moves too.
        assert_eq!(names(&nest(code, 32_000, 4_200, 1, 0, tokenizer)), ["a", "big", "b", "c", "huge", "d", "e"]);
    }

    /// A code item of `path` over lines `start..` holding `body`, counted as rendered.
    fn code_item(path: &str, start: u32, body: &str, tokenizer: TokenizerChoice) -> PackItem {
        let end = start + body.lines().count() as u32 - 1;
        let content = code_block(path, start, end, "f", "rust", body);
        PackItem {
            path: path.to_string(),
            start_line: start,
            end_line: end,
            symbol: "f".to_string(),
            kind: ItemKind::Code,
            score: 1.0,
            tokens: tokenizer.count(&content) as u32,
            reason: "lexical match".to_string(),
            content,
        }
    }

    #[test]
    fn a_small_prefix_is_read_in_fill_order_and_cut_at_a_line() {
        let tokenizer = TokenizerChoice::default();
        let body: String = (0..400).map(|i| format!("    let step_{i} = input.len() * {i} + offset;\n")).collect();
        let best = code_item("src/best.rs", 10, &body, tokenizer);
        let small = code_item("src/small.rs", 1, "fn small() -> u32 {\n    7\n}\n", tokenizer);
        let later = code_item("src/later.rs", 5, &body[..2_000], tokenizer);
        assert!(best.tokens > 2_000 && small.tokens < 100, "{} {}", best.tokens, small.tokens);
        let code = vec![best.clone(), small.clone(), later.clone()];
        let total: u32 = code.iter().map(|i| i.tokens).sum();
        // A 32k pack: the quarter (8,000) nests, the sixteenth (2,000) is cut; the best unit is first in both.
        let laid_out = nest(code.clone(), 32_000, 0, 2, 2_000, tokenizer);
        let spans: Vec<(&str, u32, u32)> =
            laid_out.iter().map(|i| (i.path.as_str(), i.start_line, i.end_line)).collect();
        let cut_line = laid_out[0].end_line;
        assert_eq!(
            spans,
            [
                ("src/best.rs", 10, cut_line),
                ("src/best.rs", cut_line + 1, best.end_line),
                ("src/small.rs", 1, 3),
                ("src/later.rs", later.start_line, later.end_line)
            ]
        );
        // The head fills the sixteenth to within a line, counted as rendered, and says where it was cut.
        let head = &laid_out[0];
        assert_eq!(head.tokens as usize, tokenizer.count(&head.content));
        assert!(head.tokens <= 2_000 && head.tokens > 1_950, "{}", head.tokens);
        assert!(head.content.starts_with(&format!("## src/best.rs:10-{cut_line} (f)\n```rust\n    let step_0 ")));
        assert!(head.reason.contains("cut where the pack's first 2000 tokens end"), "{}", head.reason);
        // The two parts hold every line once, and cost a heading and fences more than the whole.
        let rest = &laid_out[1];
        let rejoined = format!("{}\n{}", code_body(&head.content), code_body(&rest.content));
        assert_eq!(rejoined, body.trim_end());
        let now: u32 = laid_out.iter().map(|i| i.tokens).sum();
        assert!(now > total && now < total + 40, "{total} → {now}");
        // Without cutting, the sixteenth nests: the small unit leads, the best unit behind it.
        let nested = nest(code.clone(), 32_000, 0, 2, 0, tokenizer);
        let paths: Vec<&str> = nested.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["src/small.rs", "src/later.rs", "src/best.rs"]);
        // Too little room left at the end of the prefix: nothing is cut and the prefix nests.
        let filler = PackItem { tokens: 1_900, ..small.clone() };
        let crowded = nest(vec![filler, best.clone(), small.clone()], 32_000, 0, 2, 2_000, tokenizer);
        assert_eq!(crowded.len(), 3);
        assert_eq!(crowded[2].path, "src/best.rs");
        // The quarter counts the two parts as they are: an item that filled it exactly before the cut moves
        // behind, and a smaller one takes its place.
        let exact = sized("exact", 8_000 - best.tokens - 1);
        let laid_out = nest(vec![best.clone(), exact, small.clone()], 32_000, 0, 2, 2_000, tokenizer);
        let reading: Vec<&str> = laid_out.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(reading, ["src/best.rs", "src/best.rs", "src/small.rs", "exact.rs"]);
        let quarter: usize = laid_out[..3].iter().map(|i| i.tokens as usize + 1).sum::<usize>() - 1;
        assert!(quarter <= 8_000, "{quarter}");
        // A skeleton is never cut.
        let skeleton = PackItem { kind: ItemKind::Skeleton, ..best.clone() };
        assert!(cut_item(&skeleton, 1_000, 2_000, tokenizer).is_none());
    }

    /// The code between the fences of a rendered item.
    fn code_body(content: &str) -> String {
        let lines: Vec<&str> = content.lines().collect();
        lines[2..lines.len() - 1].join("\n")
    }
}
