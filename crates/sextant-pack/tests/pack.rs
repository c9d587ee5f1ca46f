//! Context packs on a fixture repository: ranking, budgets, rendering, determinism.

use proptest::prelude::*;
use sextant_pack::{build_pack, ItemKind, PackError, PackRequest, TokenizerChoice};

mod common;
use common::{write, Fixture};

fn fixture() -> Fixture {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        root,
        "billing/invoice.py",
        "\"\"\"Invoices.\"\"\"\nfrom billing.tax import apply_tax\n\n\nclass Invoice:\n    \"\"\"A customer invoice.\"\"\"\n\n    def __init__(self, lines):\n        self.lines = lines\n\n    def total(self):\n        \"\"\"Sum of line amounts including tax.\"\"\"\n        subtotal = sum(line.amount for line in self.lines)\n        return apply_tax(subtotal)\n\n    def render(self):\n        return '\\n'.join(str(line) for line in self.lines)\n",
    );
    write(
        root,
        "billing/tax.py",
        "RATE = 0.2\n\n\ndef apply_tax(amount):\n    \"\"\"Adds VAT to an amount.\"\"\"\n    return round(amount * (1 + RATE), 2)\n\n\ndef tax_free(amount):\n    return amount\n",
    );
    let mut filler = String::new();
    for i in 0..40 {
        filler.push_str(&format!("\n\ndef report_{i}(rows):\n    \"\"\"Builds report {i}.\"\"\"\n    result = []\n    for row in rows:\n        result.append(format_row_{i}(row))\n    return result\n\n\ndef format_row_{i}(row):\n    return str(row) + '{i}'\n"));
    }
    write(root, "reports/builder.py", &filler);
    write(root, "web/app.js", "import { Invoice } from './invoice';\n\nexport function checkout(cart) {\n  const invoice = new Invoice(cart.lines);\n  return invoice.total();\n}\n");
    Fixture::index(repo)
}

fn request(task: &str, budget: usize) -> PackRequest {
    PackRequest { task: task.to_string(), budget, ..Default::default() }
}

#[test]
fn ranks_the_relevant_unit_first_and_renders_it_whole() {
    let f = fixture();
    let pack =
        build_pack(&f.index, &request("The invoice total is wrong: tax is applied twice in Invoice.total()", 2000))
            .unwrap();
    assert_eq!(pack.ranked_files[0], "billing/invoice.py");
    assert!(pack.ranked_files[..3].contains(&"billing/tax.py".to_string()), "{:?}", pack.ranked_files);
    let first = &pack.items[0];
    assert_eq!(first.path, "billing/invoice.py");
    assert_eq!(first.kind, ItemKind::Code);
    assert!(first.content.starts_with("## billing/invoice.py:"), "{}", first.content);
    assert!(first.content.contains("def total(self):") && first.content.contains("return apply_tax(subtotal)"));
    assert!(first.content.contains("```python\n"));
    assert!(!first.reason.is_empty());
    // The callee of the top unit comes along, whole or as a skeleton.
    assert!(
        pack.items.iter().any(|i| i.path == "billing/tax.py" && i.end_line >= 4 && i.start_line <= 6),
        "{:#?}",
        pack.items
    );
    assert!(pack.tokens <= 2000);
    assert_eq!(pack.tokens, TokenizerChoice::O200kBase.count(&pack.text));
    assert_eq!(pack.text, pack.items.iter().map(|i| i.content.as_str()).collect::<Vec<_>>().join("\n"));
}

#[test]
fn items_never_overlap_and_packs_are_deterministic() {
    let f = fixture();
    let req = request("report builder format rows for invoices and tax", 6000);
    let a = build_pack(&f.index, &req).unwrap();
    let b = build_pack(&f.index, &req).unwrap();
    assert_eq!(a, b);
    for (i, x) in a.items.iter().enumerate() {
        for y in &a.items[i + 1..] {
            let disjoint = x.path != y.path || x.end_line < y.start_line || y.end_line < x.start_line;
            assert!(
                disjoint,
                "overlap: {}:{}-{} and {}:{}-{}",
                x.path, x.start_line, x.end_line, y.path, y.start_line, y.end_line
            );
        }
    }
    let counted: u32 = a.items.iter().map(|i| i.tokens).sum();
    assert!(counted as usize <= a.tokens + a.items.len(), "item counts add up to the total (±separators)");
}

#[test]
fn mentions_and_filters_steer_the_pack() {
    let f = fixture();
    let mut req = request("make it faster", 3000);
    req.mentioned_paths = vec!["web/app.js".into()];
    let pack = build_pack(&f.index, &req).unwrap();
    assert_eq!(pack.items[0].path, "web/app.js");
    assert!(pack.items[0].reason.contains("mentioned path"), "{}", pack.items[0].reason);

    let mut req = request("invoice total tax", 3000);
    req.languages = vec!["javascript".into()];
    let pack = build_pack(&f.index, &req).unwrap();
    assert!(pack.items.iter().all(|i| i.path.ends_with(".js")), "{:?}", pack.items);

    let mut req = request("format rows", 3000);
    req.path_filters = vec!["billing".into()];
    let pack = build_pack(&f.index, &req).unwrap();
    assert!(pack.items.iter().all(|i| i.path.starts_with("billing/")));
}

#[test]
fn the_dense_signal_brings_in_code_no_word_of_the_task_matches() {
    let f = fixture();
    let task = "government levy computed wrongly";
    let without = build_pack(&f.index, &request(task, 300)).unwrap();
    assert!(!without.items.iter().any(|i| i.path == "billing/tax.py"), "{:?}", without.items);
    // What a vector search would answer for this task: the VAT function.
    let with = build_pack(
        &f.index,
        &PackRequest {
            semantic_hits: vec![("billing/tax.py".into(), 4), ("missing.py".into(), 1)],
            ..request(task, 300)
        },
    )
    .unwrap();
    assert_eq!(with.ranked_files[0], "billing/tax.py", "{:?}", with.ranked_files);
    let item = with.items.iter().find(|i| i.path == "billing/tax.py").expect("the dense hit is packed");
    assert!(item.reason.contains("semantic match"), "{}", item.reason);
    assert!(with.tokens <= 300);
}

#[test]
fn files_whose_cards_match_the_task_rank_without_any_shared_word() {
    let f = fixture();
    let task = "government levy computed wrongly";
    let with = build_pack(
        &f.index,
        &PackRequest { semantic_file_hits: vec!["missing.py".into(), "billing/tax.py".into()], ..request(task, 300) },
    )
    .unwrap();
    assert_eq!(with.ranked_files[0], "billing/tax.py", "{:?}", with.ranked_files);
    assert!(with.items.iter().any(|i| i.path == "billing/tax.py"), "{:?}", with.items);
    // The weight turns the signal off.
    let weights: sextant_pack::RankProfiles = "file_cards=0".parse().unwrap();
    let off = build_pack(
        &f.index,
        &PackRequest { semantic_file_hits: vec!["billing/tax.py".into()], weights, ..request(task, 300) },
    )
    .unwrap();
    assert!(!off.items.iter().any(|i| i.path == "billing/tax.py"), "{:?}", off.items);

    // Cards that rank files only: the file keeps its place, its chunks get no share of the card's score.
    let tax = f.index.file_by_path("billing/tax.py").unwrap().id();
    let ranking = |spec: &str| {
        let request = PackRequest {
            semantic_file_hits: vec!["billing/tax.py".into()],
            weights: spec.parse().unwrap(),
            ..request(task, 300)
        };
        sextant_pack::rank(&f.index, &request).unwrap()
    };
    let chunk_score =
        |r: &sextant_pack::Ranking| r.units.iter().filter(|u| u.file == tax).map(|u| u.score).sum::<f32>();
    let (shared, file_only) = (ranking(""), ranking("file_cards_to_chunks=0"));
    assert_eq!(file_only.files[0].0, tax);
    assert_eq!(shared.files[0], file_only.files[0]);
    assert!(chunk_score(&shared) > 0.0);
    assert_eq!(chunk_score(&file_only), 0.0);
}

#[test]
fn bad_requests_are_clear_errors() {
    let f = fixture();
    assert!(matches!(build_pack(&f.index, &request("   ", 100)), Err(PackError::EmptyTask)));
    assert!(matches!(build_pack(&f.index, &request("x", 0)), Err(PackError::BadBudget(0))));
    assert!(matches!(build_pack(&f.index, &request("x", 10_000_000)), Err(PackError::BadBudget(_))));
    let huge = "word ".repeat(50_000);
    assert!(matches!(build_pack(&f.index, &request(&huge, 100)), Err(PackError::TaskTooLong(_))));
    // A budget too small for anything gives an empty pack, not an error.
    let tiny = build_pack(&f.index, &request("invoice", 5)).unwrap();
    assert!(tiny.items.is_empty() && tiny.tokens == 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_pack_never_exceeds_its_budget(budget in 1usize..12_000, cl100k in any::<bool>(), pick in 0usize..4) {
        let tasks = ["invoice total tax", "report_3 format_row_7", "checkout cart", "Adds VAT to an amount"];
        let tokenizer = if cl100k { TokenizerChoice::Cl100kBase } else { TokenizerChoice::O200kBase };
        let pack = FIXTURE.with(|f| {
            let mut req = request(tasks[pick], budget);
            req.tokenizer = tokenizer;
            build_pack(&f.index, &req).unwrap()
        });
        prop_assert!(pack.tokens <= budget, "{} > {}", pack.tokens, budget);
        prop_assert_eq!(pack.tokens, tokenizer.count(&pack.text));
    }

    /// Task parsing and ranking on arbitrary text (stack traces, paths, markup, control characters, any script):
    /// a pack within budget or a clear error, never a panic.
    #[test]
    fn any_task_text_gives_a_pack_or_a_clear_error(
        task in prop_oneof![
            "\\PC{0,400}",
            prop::collection::vec(prop::sample::select(vec![
                "at ", "File \"billing/tax.py\", line 4, in apply_tax", "Invoice.total()", "::", "../../etc/passwd",
                "`apply_tax`", "```\n", "Traceback (most recent call last):", "\n", "\t", "NaN", "é", "\u{0}",
                "billing/", "tax.py:12:5", "#[derive(Debug)]", "<script>", "TODO", "  ",
            ]), 0..60).prop_map(|parts| parts.concat()),
        ],
        budget in 1usize..4_000,
    ) {
        let outcome = FIXTURE.with(|f| build_pack(&f.index, &request(&task, budget)));
        match outcome {
            Ok(pack) => prop_assert!(pack.tokens <= budget),
            Err(PackError::EmptyTask) => prop_assert!(task.trim().is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

/// Four neighbouring functions of equal size in `books/ledger.py`: `ledger_open`, `ledger_post`, `ledger_audit`,
/// `ledger_close`, with the line each starts on.
fn ledger_fixture() -> (Fixture, Vec<u32>) {
    let repo = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut starts = Vec::new();
    for name in ["ledger_open", "ledger_post", "ledger_audit", "ledger_close"] {
        starts.push(text.lines().count() as u32 + 1);
        text.push_str(&format!("def {name}(amount, fee, discount):\n"));
        for step in 0..10 {
            text.push_str(&format!("    total_{step} = amount * {step} + fee - discount  # rounding step {step}\n"));
        }
        text.push_str("    return amount\n\n");
    }
    write(repo.path(), "books/ledger.py", &text);
    (Fixture::index(repo), starts)
}

#[test]
fn merging_stops_at_its_cap_but_still_joins_the_unit_it_sits_next_to() {
    // The task names all but `ledger_audit` (third in the file), which the fill takes last, by its file's share
    // alone.
    let (f, starts) = ledger_fixture();
    let pack_with = |prefix_cap: u32| {
        let mut weights = sextant_pack::RankProfiles::default();
        for w in [&mut weights.short, &mut weights.long] {
            (w.fine_grained_prefix, w.merge_max_tokens) = (100_000, prefix_cap);
        }
        let request = PackRequest { weights, ..request("ledger_open ledger_close ledger_post", 4000) };
        build_pack(&f.index, &request)
            .unwrap()
            .items
            .into_iter()
            .filter(|i| i.kind == ItemKind::Code)
            .collect::<Vec<_>>()
    };
    let spans = |items: &[sextant_pack::PackItem]| items.iter().map(|i| (i.start_line, i.end_line)).collect::<Vec<_>>();
    // No merging: one item per function, in the fill's order.
    let single = pack_with(0);
    let order: Vec<u32> = single.iter().map(|i| i.start_line).collect();
    assert_eq!((order.len(), order[0], order[3]), (4, starts[0], starts[2]), "{:?}", spans(&single));
    // Room for three functions: `ledger_audit` cannot join the whole run of four, so it joins its neighbour's item
    // alone instead of standing apart, and `ledger_close` stays a separate item.
    let three: u32 = single.iter().filter(|i| i.start_line != starts[3]).map(|i| i.tokens).sum();
    let capped = pack_with(three);
    let close_end = single.iter().find(|i| i.start_line == starts[3]).unwrap().end_line;
    let audit_end = single.iter().find(|i| i.start_line == starts[2]).unwrap().end_line;
    assert_eq!(spans(&capped), [(starts[0], audit_end), (starts[3], close_end)]);
    assert!(capped[0].tokens <= three, "{} > {three}", capped[0].tokens);
    // No cap: one item covers all four.
    assert_eq!(spans(&pack_with(100_000)), [(starts[0], close_end)]);
}

#[test]
fn code_joins_only_items_with_at_most_the_merge_window_behind_them() {
    let (f, _) = ledger_fixture();
    let items_with = |window: u32| {
        let mut weights = sextant_pack::RankProfiles::default();
        for w in [&mut weights.short, &mut weights.long] {
            (w.fine_grained_prefix, w.merge_max_tokens, w.merge_window) = (100_000, 100_000, window);
        }
        let request = PackRequest { weights, ..request("ledger_open ledger_close ledger_post", 4000) };
        let pack = build_pack(&f.index, &request).unwrap();
        pack.items.into_iter().filter(|i| i.kind == ItemKind::Code).collect::<Vec<_>>()
    };
    let spans = |items: &[sextant_pack::PackItem]| items.iter().map(|i| (i.start_line, i.end_line)).collect::<Vec<_>>();
    let whole = spans(&items_with(u32::MAX));
    assert_eq!(whole.len(), 1, "{whole:?}");
    // The fill takes `ledger_open`, `ledger_post` (which joins it: nothing is behind it yet), `ledger_close`, and
    // last `ledger_audit`, which would join the first item with `ledger_close` behind it: it stands apart.
    let apart = items_with(0);
    let (open, close, audit) = (&apart[0], &apart[1], &apart[2]);
    assert_eq!(apart.len(), 3, "{:?}", spans(&apart));
    assert_eq!((open.start_line, close.end_line), whole[0]);
    assert!(open.end_line < audit.start_line && audit.end_line < close.start_line, "{:?}", spans(&apart));
    // A window as large as `ledger_close`'s item lets `ledger_audit` join, and the union takes that item in.
    assert_eq!(spans(&items_with(close.tokens)), whole);
    assert_eq!(spans(&items_with(close.tokens - 1)), spans(&apart));
}

#[test]
fn the_code_around_the_best_unit_comes_right_behind_it_as_far_as_asked() {
    let repo = tempfile::tempdir().unwrap();
    // The task names `settle_invoice`; the functions around it share none of its words, and many other files
    // echo them, so in score order the neighbours come after all of those.
    let body = |name: &str, words: &str| {
        let mut text = format!("def {name}(rows):\n");
        for step in 0..6 {
            text.push_str(&format!("    value_{step} = rows[{step}]  # {words} {step}\n"));
        }
        text.push_str("    return rows\n\n\n");
        text
    };
    let names = ["load_batch", "prepare_batch", "settle_invoice", "archive_batch", "purge_batch"];
    let ledger: String = names
        .iter()
        .map(|name| body(name, &name.replace('_', " ").replace("settle invoice", "settle the invoice amount")))
        .collect();
    write(repo.path(), "books/ledger.py", &ledger);
    for i in 0..12 {
        let echo = body(&format!("invoice_note_{i}"), "settle_invoice rounds the invoice amount");
        write(repo.path(), &format!("echo/settle_{i}.py"), &echo);
    }
    let f = Fixture::index(repo);
    let pack_with = |units: usize, reach: usize| {
        let mut weights = sextant_pack::RankProfiles::default();
        for w in [&mut weights.short, &mut weights.long] {
            (w.neighbour_units, w.neighbour_reach) = (units, reach);
        }
        let task = "settle_invoice rounds the invoice amount";
        build_pack(&f.index, &PackRequest { weights, ..request(task, 900) }).unwrap()
    };
    // Which of the five functions the pack holds, by their first lines (10 lines apart).
    let held = |pack: &sextant_pack::ContextPack| {
        let covers = |line: u32| {
            let mut code = pack.items.iter().filter(|i| i.kind == ItemKind::Code);
            code.any(|i| i.path == "books/ledger.py" && i.start_line <= line && line <= i.end_line)
        };
        names.iter().enumerate().filter(|(n, _)| covers(*n as u32 * 10 + 1)).map(|(_, name)| *name).collect::<Vec<_>>()
    };
    let without = pack_with(0, 1);
    assert_eq!(without.items[0].symbol, "settle_invoice", "{:#?}", without.items);
    assert_eq!(held(&without), ["settle_invoice"], "{:#?}", without.items);
    // One chunk each side: the two next door, merged with it into the first item.
    let near = pack_with(1, 1);
    assert_eq!(held(&near), ["prepare_batch", "settle_invoice", "archive_batch"], "{:#?}", near.items);
    let first = &near.items[0];
    assert!(first.content.contains("def prepare_batch") && first.content.contains("def archive_batch"), "{first:#?}");
    // Two each side: the whole file, still in front of every echo.
    let far = pack_with(1, 2);
    assert_eq!(held(&far), names, "{:#?}", far.items);
    assert_eq!((far.items[0].path.as_str(), far.items[0].start_line), ("books/ledger.py", 1), "{:#?}", far.items);
    assert!(far.tokens <= 900);
}

#[test]
fn chunk_candidates_come_in_fill_order_with_their_evidence() {
    let f = fixture();
    let task = "The invoice total is wrong: tax is applied twice in Invoice.total()";
    let fused = PackRequest {
        weights: sextant_pack::RankWeights { learned_chunks: 0.0, ..Default::default() }.into(),
        ..request(task, 32_000)
    };
    let candidates = sextant_pack::chunk_candidates(&f.index, &fused).unwrap();
    let pack = build_pack(&f.index, &fused).unwrap();
    // The fill takes the candidates in this order: the pack's first item holds the first candidate (merged with
    // the code next to it).
    let (first, item) = (&candidates[0], &pack.items[0]);
    assert_eq!(first.path, item.path);
    assert!(item.start_line <= first.start_line && first.end_line <= item.end_line, "{first:?} in {item:?}");
    let at = |name: &str| sextant_pack::learned::CHUNK_FEATURE_NAMES.iter().position(|n| *n == name).unwrap();
    // `Invoice.total` is named in the task: the symbol list holds `total`, whose unit is the class's chunk.
    let total = candidates.iter().find(|c| c.path == "billing/invoice.py" && c.start_line == 5).expect("Invoice");
    assert!(total.features[at("symbol_identifier")] > 0.5, "{:?}", total.features);
    assert_eq!(total.features[at("log_file_place")], 1f32.ln(), "in the best file");
    assert_eq!(total.features[at("named")], 1.0);
    assert!(total.tokens > 20 && total.end_line > total.start_line);
    let report = candidates.iter().find(|c| c.path == "reports/builder.py").expect("a report builder");
    assert!(report.features[at("log_file_place")] > 0.0);
    for c in &candidates {
        assert_eq!(c.features.len(), sextant_pack::learned::CHUNK_FEATURE_NAMES.len());
        assert!(c.features.iter().all(|v| v.is_finite()), "{c:?}");
    }
    // The learned order packs the same budget exactly, from the same candidates.
    let learned = PackRequest {
        weights: sextant_pack::RankWeights { learned_chunks: 1.0, ..Default::default() }.into(),
        ..request(task, 600)
    };
    let pack = build_pack(&f.index, &learned).unwrap();
    assert!(pack.tokens <= 600 && !pack.items.is_empty());
    assert_eq!(pack.tokens, TokenizerChoice::O200kBase.count(&pack.text));
    assert!(pack.items.iter().all(|i| i.kind != ItemKind::Code
        || candidates.iter().any(|c| c.path == i.path && c.start_line >= i.start_line && c.end_line <= i.end_line)));
}

/// `ship_order` is the unit the task names, and too big for the first quarter of a 4,000-token pack; small
/// functions about orders rank after it.
fn orders_fixture() -> Fixture {
    let repo = tempfile::tempdir().unwrap();
    let mut big = String::from("def ship_order(order):\n");
    for step in 0..90 {
        big.push_str(&format!("    weight_{step} = order.weight * {step} + order.fee  # shipping step {step}\n"));
    }
    big.push_str("    return order\n");
    write(repo.path(), "orders/ship.py", &big);
    let mut small = String::new();
    for name in ["order_fee", "order_label", "order_weight", "order_total"] {
        small.push_str(&format!("def {name}(order):\n    return order.{name}  # large orders\n\n\n"));
    }
    write(repo.path(), "orders/parts.py", &small);
    Fixture::index(repo)
}

#[test]
fn the_first_quarter_of_a_pack_holds_what_a_pack_of_that_size_would() {
    let f = orders_fixture();
    let pack_with = |nested: usize| {
        let mut weights = sextant_pack::RankProfiles::default();
        for w in [&mut weights.short, &mut weights.long] {
            w.nested_prefixes = nested;
            // Nested, not cut (cutting has its own test below).
            w.cut_prefix = 0;
        }
        let request = PackRequest { weights, ..request("ship_order fails for large orders", 4_000) };
        build_pack(&f.index, &request).unwrap()
    };
    let spans = |pack: &sextant_pack::ContextPack| {
        let mut spans: Vec<_> = pack.items.iter().map(|i| (i.path.clone(), i.start_line, i.end_line)).collect();
        spans.sort();
        spans
    };
    let (fill_order, nested) = (pack_with(0), pack_with(2));
    assert_eq!(fill_order.items[0].symbol, "ship_order", "{:#?}", fill_order.items);
    assert!(fill_order.items[0].tokens > 1_000 && fill_order.items.len() > 2, "{:#?}", fill_order.items);
    // The same items, in another order.
    assert_eq!(spans(&nested), spans(&fill_order));
    assert_eq!(nested.tokens, fill_order.tokens);
    // The first 1,000 tokens: every item that fits, in the fill order; `ship_order` right behind them.
    let mut used = 0;
    let held = nested.items.iter().take_while(|i| {
        used += i.tokens as usize + usize::from(used > 0);
        used <= 1_000
    });
    let held: Vec<&str> = held.map(|i| i.symbol.as_str()).collect();
    let fill_symbols: Vec<&str> = fill_order.items.iter().map(|i| i.symbol.as_str()).collect();
    assert!(!held.is_empty(), "{:#?}", nested.items);
    assert_eq!(held, fill_symbols[1..=held.len()], "{:#?}", nested.items);
    assert_eq!(nested.items[held.len()].symbol, "ship_order", "{:#?}", nested.items);
    let room = 1_000 - nested.items[..held.len()].iter().map(|i| i.tokens as usize + 1).sum::<usize>();
    assert!(nested.items[held.len()..].iter().all(|i| i.tokens as usize >= room), "{:#?}", nested.items);
}

#[test]
fn a_small_first_quarter_ends_with_the_first_lines_of_the_best_unit() {
    let f = orders_fixture();
    let pack = build_pack(&f.index, &request("ship_order fails for large orders", 4_000)).unwrap();
    let fill_order = {
        let mut weights = sextant_pack::RankProfiles::default();
        for w in [&mut weights.short, &mut weights.long] {
            w.nested_prefixes = 0;
        }
        build_pack(&f.index, &PackRequest { weights, ..request("ship_order fails for large orders", 4_000) }).unwrap()
    };
    // The quarter (1,000 tokens) is read in the fill order: the first part of `ship_order` leads it and is cut
    // at the last line that fits.
    let best = &fill_order.items[0];
    assert_eq!(best.symbol, "ship_order", "{:#?}", fill_order.items);
    assert!(best.tokens > 1_000, "{:#?}", fill_order.items);
    let (head, rest) = (&pack.items[0], &pack.items[1]);
    assert_eq!((head.path.as_str(), head.symbol.as_str()), ("orders/ship.py", "ship_order"), "{:#?}", pack.items);
    assert!(head.tokens <= 1_000 && head.tokens > 950, "{:#?}", pack.items);
    assert!(head.reason.contains("cut where the pack's first 1000 tokens end"), "{}", head.reason);
    assert!(head.content.contains("weight_0 = "));
    // Its other lines follow at once: together the two cover the unit, each line once.
    assert_eq!((head.start_line, rest.start_line, rest.end_line), (best.start_line, head.end_line + 1, best.end_line));
    assert!(rest.content.contains(&format!("weight_{} = ", head.end_line - 1)), "{}", rest.content);
    // Behind them, the other items keep the fill order; the pack stays within its budget.
    let spans = |items: &[sextant_pack::PackItem]| {
        items.iter().map(|i| (i.path.clone(), i.start_line, i.end_line)).collect::<Vec<_>>()
    };
    let behind = spans(&pack.items[2..]);
    assert!(!behind.is_empty());
    assert_eq!(behind, spans(&fill_order.items[1..=behind.len()]));
    assert!(pack.tokens <= 4_000, "{}", pack.tokens);
}
