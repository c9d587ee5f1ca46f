//! File ranking on fixture repositories: tests, examples, benchmarks and declarations versus the code they echo,
//! stack traces, dotted module names, long files that mention a task everywhere versus the file about it, and the
//! git-history and feedback signals.

use std::path::Path;

use sextant_pack::{build_pack, PackRequest, RankWeights};

mod common;
use common::{write, Fixture};

/// The default weights without the learned order of the best files: the fused order, whose levers the tests below
/// switch off one at a time.
fn fused() -> RankWeights {
    RankWeights { learned_files: 0.0, ..Default::default() }
}

fn fixture() -> Fixture {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        root,
        "shop/session.py",
        "\"\"\"Shopping sessions.\"\"\"\n\n\nclass Session:\n    def __init__(self, ttl):\n        self.ttl = ttl\n\n    def expire(self, now):\n        \"\"\"Ends the session once its time to live has passed.\"\"\"\n        return now > self.ttl\n",
    );
    // The test repeats the task's words more often than the code does.
    write(
        root,
        "tests/test_session.py",
        "from shop.session import Session\n\n\ndef test_session_expire():\n    session = Session(ttl=5)\n    assert session.expire(now=6)  # session expire after ttl\n\n\ndef test_session_expire_not_yet():\n    session = Session(ttl=5)\n    assert not session.expire(now=4)  # session expire before ttl\n",
    );
    let mut cart = String::from("\"\"\"The cart.\"\"\"\n\n\ndef total(items):\n    result = 0\n");
    for i in 0..6 {
        cart.push_str(&format!("    result += items[{i}].price\n"));
    }
    cart.push_str("    return result\n\n\ndef empty(items):\n    return not items\n");
    write(root, "shop/cart.py", &cart);
    write(
        root,
        "shop/payments.py",
        "class Gateway:\n    def charge(self, amount):\n        if amount <= 0:\n            raise ValueError(amount)\n        return amount\n",
    );
    // A long file that touches sessions, carts and payments everywhere, as hub files do.
    let mut hub = String::from("\"\"\"Wiring.\"\"\"\n");
    for i in 0..40 {
        hub.push_str(&format!(
            "\n\ndef step_{i}(session, cart, gateway):\n    session.touch()\n    cart.refresh()\n    gateway.ping()\n    return {i}\n"
        ));
    }
    write(root, "shop/wiring.py", &hub);
    // A long file that mentions the ledger in every function, and a short one about reconciling it.
    let mut books = String::from("\"\"\"Bookkeeping jobs.\"\"\"\n");
    for i in 0..40 {
        books.push_str(&format!(
            "\n\ndef job_{i}(ledger):\n    ledger.lock()\n    ledger.reconcile_later({i})\n    return ledger.balance()\n"
        ));
    }
    write(root, "shop/jobs.py", &books);
    write(
        root,
        "shop/audit.py",
        "def check(entries):\n    \"\"\"Reports a ledger mismatch found while we reconcile.\"\"\"\n    return [e for e in entries if e.mismatch]\n",
    );
    for i in 0..30 {
        write(root, &format!("shop/misc_{i}.py"), &format!("def helper_{i}(x):\n    return x + {i}\n"));
    }
    Fixture::index(repo)
}

fn ranked(f: &Fixture, task: &str, weights: RankWeights) -> Vec<String> {
    let request = PackRequest { task: task.to_string(), budget: 2000, weights: weights.into(), ..Default::default() };
    build_pack(&f.index, &request).unwrap().ranked_files
}

fn position(files: &[String], path: &str) -> usize {
    files.iter().position(|f| f == path).unwrap_or_else(|| panic!("{path} not ranked: {files:?}"))
}

#[test]
fn code_outranks_its_tests_unless_the_task_is_about_tests() {
    let f = fixture();
    let files = ranked(&f, "session expire returns true too early", RankWeights::default());
    assert!(position(&files, "shop/session.py") < position(&files, "tests/test_session.py"), "{files:?}");
    // Without the demotion the test, which echoes the words most, comes first: the fixture exercises the rule.
    let undemoted = ranked(&f, "session expire returns true too early", RankWeights { test_files: 1.0, ..fused() });
    assert_eq!(undemoted[0], "tests/test_session.py", "{undemoted:?}");
    // A task about the tests keeps them where the evidence puts them.
    let files = ranked(&f, "the session expire test is flaky", RankWeights::default());
    assert_eq!(files[0], "tests/test_session.py", "{files:?}");
}

#[test]
fn a_stack_trace_from_another_machine_leads_to_the_line_it_names() {
    let task = "Crash on checkout:\nTraceback (most recent call last):\n  File \"/home/ci/venv/lib/python3.11/site-packages/shop/cart.py\", line 7, in total\nIndexError: list index out of range";
    assert_pack_opens_at_cart_line_7(task);
}

#[test]
fn prose_that_points_at_a_line_leads_to_it() {
    assert_pack_opens_at_cart_line_7(
        "Checkout fails for some carts. The problem is in `shop/cart.py` at line 7, I think.",
    );
}

/// The pack for `task` ranks `shop/cart.py` first and opens with the unit holding its line 7, chosen for the line.
fn assert_pack_opens_at_cart_line_7(task: &str) {
    let f = fixture();
    let request = PackRequest { task: task.to_string(), budget: 2000, ..Default::default() };
    let pack = build_pack(&f.index, &request).unwrap();
    assert_eq!(pack.ranked_files[0], "shop/cart.py", "{:?}", pack.ranked_files);
    let first = &pack.items[0];
    assert_eq!(first.path, "shop/cart.py", "{:?}", pack.items);
    assert!(first.start_line <= 7 && 7 <= first.end_line, "{first:?}");
    assert!(first.reason.contains("line 7 named in the task"), "{first:?}");
}

#[test]
fn a_dotted_name_finds_the_module_that_defines_it() {
    let f = fixture();
    // The module signal alone: `payments.Gateway` would also be found as an owner and its member.
    let request = PackRequest {
        task: "shop.payments.Gateway rejects refunds".to_string(),
        budget: 2000,
        weights: RankWeights { qualified_symbol: 0.0, ..Default::default() }.into(),
        ..Default::default()
    };
    let pack = build_pack(&f.index, &request).unwrap();
    assert_eq!(pack.ranked_files[0], "shop/payments.py", "{:?}", pack.ranked_files);
    assert!(pack.items[0].reason.contains("module named in the task"), "{:?}", pack.items[0]);
}

#[test]
fn whole_file_evidence_prefers_the_file_about_the_task_over_a_hub() {
    let f = fixture();
    let task = "ledger mismatch when we reconcile";
    let by_file = f.index.search_files(task, 10).unwrap();
    let paths: Vec<&str> = by_file.iter().map(|(id, _)| f.index.file(*id).unwrap().path()).collect();
    assert_eq!(paths[..2], ["shop/audit.py", "shop/jobs.py"], "{by_file:?}");
    // The fusion (what this evidence feeds; the learned order of a 19-file fixture says nothing about it).
    let files = ranked(&f, task, fused());
    assert_eq!(files[..2], ["shop/audit.py", "shop/jobs.py"], "{files:?}");
    // Chunk evidence alone favours the long file that mentions the ledger everywhere.
    let without = ranked(&f, task, RankWeights { file_bm25: 0.0, ..fused() });
    assert_eq!(without[0], "shop/jobs.py", "{without:?}");
}

/// Commits `files` on HEAD.
fn commit(repo: &git2::Repository, files: &[(&str, &str)]) {
    commit_saying(repo, files, "change");
}

/// Commits `files` on HEAD with `message`.
fn commit_saying(repo: &git2::Repository, files: &[(&str, &str)], message: &str) {
    let root = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (path, text) in files {
        write(&root, path, text);
        index.add_path(Path::new(path)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("t", "t@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap();
}

#[test]
fn files_that_change_together_rise_with_the_file_the_task_is_about() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(repo_dir.path()).unwrap();
    for i in 0..20 {
        commit(&repo, &[(&format!("pkg/other_{i}.py"), &format!("def other_{i}(x):\n    return x * {i}\n"))]);
    }
    // The schema and its migration always change together; the task only names the schema.
    for round in 0..4 {
        commit(
            &repo,
            &[
                (
                    "pkg/schema.py",
                    &format!("COLUMNS = ['id', 'email', 'c{round}']\n\n\ndef invoice_schema():\n    return COLUMNS\n"),
                ),
                ("pkg/migrate.py", &format!("def upgrade(db):\n    db.run('step {round}')\n")),
            ],
        );
    }
    let f = Fixture::index(repo_dir);
    let index = &f.index;
    let task = "add a currency column to the invoice schema";
    let request = |weights: RankWeights| PackRequest {
        task: task.to_string(),
        budget: 2000,
        weights: weights.into(),
        ..Default::default()
    };
    let with = build_pack(index, &request(RankWeights::default())).unwrap().ranked_files;
    assert_eq!(with[..2], ["pkg/schema.py", "pkg/migrate.py"], "{with:?}");
    // Without history the migration, which shares no word with the task, is not ranked at all.
    let without =
        build_pack(index, &request(RankWeights { cochange: 0.0, ..Default::default() })).unwrap().ranked_files;
    assert_eq!(without[0], "pkg/schema.py");
    assert!(!without.contains(&"pkg/migrate.py".to_string()), "{without:?}");
}

#[test]
fn recorded_features_relate_each_candidate_to_the_best_files() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(repo_dir.path()).unwrap();
    for i in 0..20 {
        let file = format!("pkg/other_{i}.py");
        commit_saying(&repo, &[(&file, &format!("def other_{i}(x):\n    return x * {i}\n"))], "Tidy a helper");
    }
    // The migration calls the schema and only ever changes with it, in commits worded like the task.
    for round in 0..4 {
        commit_saying(
            &repo,
            &[
                (
                    "pkg/schema.py",
                    &format!("COLUMNS = ['id', 'email', 'c{round}']\n\n\ndef invoice_schema():\n    return COLUMNS\n"),
                ),
                (
                    "pkg/migrate.py",
                    &format!(
                        "from pkg.schema import invoice_schema\n\n\ndef upgrade(db):\n    db.run(invoice_schema(), {round})\n"
                    ),
                ),
            ],
            "Invoice schema: one more column",
        );
    }
    let f = Fixture::index(repo_dir);
    let request = PackRequest {
        task: "add a currency column to the invoice schema".to_string(),
        budget: 2000,
        record_features: true,
        ..Default::default()
    };
    let ranking = sextant_pack::rank(&f.index, &request).unwrap();
    let features = ranking.file_features.expect("features asked for");
    let schema = f.index.file_id("pkg/schema.py").unwrap();
    assert_eq!(ranking.files[0].0, schema, "{:?}", ranking.files);
    let migrate = &features[&f.index.file_id("pkg/migrate.py").unwrap()];
    // Every one of the schema's commits changed the migration, and every one of the migration's the schema.
    assert_eq!(migrate.get("cochange_best"), Some(&1.0), "{migrate:?}");
    assert_eq!(migrate.get("cochange_reverse"), Some(&1.0), "{migrate:?}");
    // The call and the import link the two both ways.
    assert!(migrate.get("graph_best").is_some_and(|&share| share > 0.0), "{migrate:?}");
    assert!(migrate.get("graph_reverse").is_some_and(|&share| share > 0.0), "{migrate:?}");
    // The commits worded like the task changed both; the helpers' commits said nothing like it.
    assert!(migrate.get("message_place").is_some_and(|&place| place <= 2.0), "{migrate:?}");
    assert!(features[&schema].get("message_place").is_some_and(|&place| place <= 2.0));
    assert!(features.values().all(|f| f.get("message_place").is_none_or(|&place| place <= 2.0)), "{features:?}");
}

#[test]
fn files_that_commits_worded_like_the_task_changed_rank_without_a_shared_word() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(repo_dir.path()).unwrap();
    for i in 0..20 {
        let file = format!("pkg/other_{i}.py");
        commit_saying(
            &repo,
            &[(&file, &format!("def other_{i}(x):\n    return x * {i}\n"))],
            &format!("Tidy helper {i}"),
        );
    }
    // The backoff policy shares no word with the task; the commit that last changed it does.
    commit_saying(
        &repo,
        &[("pkg/policy.py", "def delay(attempt):\n    return 2 ** attempt\n")],
        "Retry card payments when the gateway times out",
    );
    commit_saying(&repo, &[("pkg/gateway.py", "def charge(card):\n    return card.token\n")], "Add a gateway");
    let f = Fixture::index(repo_dir);
    let task = "card payments fail when the gateway times out";
    let request = |spec: &str| PackRequest {
        task: task.to_string(),
        budget: 2000,
        weights: spec.parse().unwrap(),
        ..Default::default()
    };
    let with = build_pack(&f.index, &request("cochange=0,commit_messages=2")).unwrap().ranked_files;
    assert!(position(&with, "pkg/policy.py") < 3, "{with:?}");
    let without = build_pack(&f.index, &request("cochange=0,commit_messages=0")).unwrap().ranked_files;
    assert!(!without.contains(&"pkg/policy.py".to_string()), "{without:?}");
}

#[test]
fn a_member_named_with_its_owner_ranks_the_owner_among_many_definitions_of_the_name() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    // `visibility` is defined on sixteen types, more than a bare name is followed for; every file also talks
    // about definitions and their visibility, so words alone cannot tell them apart.
    for i in 0..16 {
        write(
            root,
            &format!("src/kind_{i}.rs"),
            &format!(
                "/// Definition visibility for kind {i}: each definition has one, computed in a roundabout way.\npub struct Kind{i};\n\nimpl Kind{i} {{\n    /// The visibility of this definition, computed for each definition.\n    pub fn visibility(&self) -> u8 {{\n        {i}\n    }}\n}}\n"
            ),
        );
    }
    write(
        root,
        "src/defs.rs",
        "pub enum Definition {\n    Local,\n    Item,\n}\n\nimpl Definition {\n    pub fn visibility(&self) -> u8 {\n        0\n    }\n}\n",
    );
    // A Go package whose name qualifies the call, next to another package defining the same function.
    write(
        root,
        "rest/httpx/responses.go",
        "package httpx\n\nfunc SetErrorHandler(h func(error)) {\n\thandler = h\n}\n",
    );
    write(
        root,
        "zrpc/errors/handler.go",
        "package errors\n\nfunc SetErrorHandler(h func(error)) {\n\tonError = h\n}\n",
    );
    let f = Fixture::index(repo);
    let task = "Definition::visibility is computed in a roundabout way for each definition";
    let with = ranked(&f, task, RankWeights::default());
    assert_eq!(with[0], "src/defs.rs", "{with:?}");
    // Without the owner the sixteen `visibility` definitions and their words drown it: the fixture needs the rule.
    let without = ranked(&f, task, RankWeights { qualified_symbol: 0.0, ..fused() });
    assert_ne!(without[0], "src/defs.rs", "{without:?}");

    let go_task = "add a way like httpx.SetErrorHandler to customise recover handling";
    let with = ranked(&f, go_task, RankWeights::default());
    assert_eq!(with[0], "rest/httpx/responses.go", "{with:?}");
    assert!(position(&with, "zrpc/errors/handler.go") > 0, "{with:?}");
}

#[test]
fn a_commit_subject_scope_lifts_the_files_under_it() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    // The server's loader matches the subject's words more often than the command line's does.
    write(
        root,
        "server/src/config.rs",
        "/// Loads the config file; an empty config path means the default config path.\npub fn load_config(path: &str) -> String {\n    // handle an empty config path: fall back to the default config path\n    if path.is_empty() { default_config_path() } else { path.to_string() }\n}\n\n/// Handles an empty config path by reading the default config path.\nfn default_config_path() -> String {\n    \"/etc/app.toml\".to_string()\n}\n\n/// Whether to handle the config path as empty.\nfn empty_config_path(path: &str) -> bool {\n    path.trim().is_empty()\n}\n",
    );
    write(
        root,
        "cli/src/config.rs",
        "/// Reads the config path given on the command line.\npub fn config_path(args: &[String]) -> Option<String> {\n    args.get(1).cloned()\n}\n",
    );
    for i in 0..10 {
        write(root, &format!("server/src/route_{i}.rs"), &format!("pub fn route_{i}() -> u32 {{\n    {i}\n}}\n"));
    }
    let f = Fixture::index(repo);
    let task = "cli: handle an empty config path";
    let with = ranked(&f, task, RankWeights::default());
    assert_eq!(with[0], "cli/src/config.rs", "{with:?}");
    let without = ranked(&f, task, RankWeights { scope: 0.0, ..Default::default() });
    assert_eq!(without[0], "server/src/config.rs", "{without:?}");
}

#[test]
fn the_title_of_a_long_task_is_searched_alone() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        root,
        "app/retry.py",
        "def backoff_delay(attempt):\n    \"\"\"Delay before the next retry: doubles with each attempt.\"\"\"\n    return 2 ** attempt\n",
    );
    // The body's log lines and setup talk about the connection pool, not about the retry delay.
    write(
        root,
        "app/pool.py",
        "class ConnectionPool:\n    \"\"\"Pool of connections to the upstream server; logs each connection it opens and closes.\"\"\"\n\n    def open(self, server):\n        log(\"opening connection to upstream server\", server)\n\n    def close(self, connection):\n        log(\"closing connection to upstream server\", connection)\n",
    );
    for i in 0..12 {
        write(root, &format!("app/view_{i}.py"), &format!("def view_{i}(request):\n    return {i}\n"));
    }
    let f = Fixture::index(repo);
    let task = "Retry delay doubles too fast\n\nSeen in the log: opening connection to upstream server";
    let with = ranked(&f, task, RankWeights::default());
    assert_eq!(with[0], "app/retry.py", "{with:?}");
    let without = ranked(&f, task, RankWeights { title: 0.0, ..Default::default() });
    assert_eq!(without[0], "app/pool.py", "{without:?}");
}

#[test]
fn recorded_features_give_each_candidate_its_place_in_every_signal_that_found_it() {
    let f = fixture();
    let task = "session expire returns true too early, see shop/cart.py";
    // In the fused order, whose places the features record.
    let request = PackRequest { task: task.to_string(), budget: 2000, weights: fused().into(), ..Default::default() };
    assert!(sextant_pack::rank(&f.index, &request).unwrap().file_features.is_none(), "recorded unasked");
    let ranking = sextant_pack::rank(&f.index, &PackRequest { record_features: true, ..request }).unwrap();
    let features = ranking.file_features.expect("features asked for");
    let of = |path: &str| {
        let id = f.index.file_id(path).unwrap();
        features.get(&id).unwrap_or_else(|| panic!("no features for {path}: {features:?}"))
    };
    // The named path is first in the path signal; its place in the final order is the ranking's own.
    let cart = of("shop/cart.py");
    assert_eq!(cart.get("path"), Some(&1.0), "{cart:?}");
    let cart_rank = ranking.files.iter().position(|(id, _)| *id == f.index.file_id("shop/cart.py").unwrap()).unwrap();
    assert_eq!(cart.get("final_rank"), Some(&(cart_rank as f32 + 1.0)), "{cart:?}");
    // The session code is found by whole-file BM25 and is not a test; its test is marked as one.
    let session = of("shop/session.py");
    assert!(session.get("file_bm25").is_some_and(|&place| place >= 1.0), "{session:?}");
    assert_eq!(session.get("is_test"), Some(&0.0), "{session:?}");
    assert_eq!(of("tests/test_session.py").get("is_test"), Some(&1.0));
    // Without git history (no co-change partners, which have no fused score), every ranked file (fewer than the
    // 60 whose final place is recorded) has its final place and fused score recorded.
    for (id, _) in &ranking.files {
        let values = features.get(id).unwrap_or_else(|| panic!("file {id} ranked without features"));
        assert!(values.contains_key("final_rank") && values.contains_key("fused"), "{values:?}");
    }
}

#[test]
fn files_that_share_the_best_files_vocabulary_rank_through_feedback() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    // The lexer matches the task; the cursor it works with shares none of the task's words, only the lexer's
    // own (`lexeme`, `codepoint`, `lookahead`), and nothing imports or calls across the two.
    write(
        root,
        "syntax/lexer.py",
        "def tokenize(source):\n    \"\"\"The tokenizer: crashes on empty input today.\"\"\"\n    lexeme = []\n    codepoint = source[0]\n    lookahead = codepoint\n    lexeme.append(lookahead)\n    return lexeme\n",
    );
    write(
        root,
        "syntax/cursor.py",
        "class Cursor:\n    \"\"\"Walks codepoint by codepoint with one lookahead.\"\"\"\n\n    def bump(self, lexeme):\n        codepoint = lexeme.pop()\n        lookahead = codepoint\n        return lookahead\n",
    );
    // Views that share a common word with the task rank behind the lexer, and lend feedback no rare word.
    for i in 0..12 {
        write(
            root,
            &format!("app/view_{i}.py"),
            "def render(page):\n    \"\"\"Draws the page of the report.\"\"\"\n    return page.title\n",
        );
    }
    let f = Fixture::index(repo);
    let task = "the tokenizer crashes on empty input";
    // In a repository of fourteen chunks every word is in more than the default 2% of them, and the feedback
    // list's first places count for little against the views' matches of a common word: a quarter, twice the
    // default weight.
    // The fused order: the learned one may put a view second.
    let fused = RankWeights { learned_files: 0.0, ..Default::default() };
    let weights = RankWeights { feedback: 4.0, feedback_max_share: 0.25, ..fused };
    let with = ranked(&f, task, weights);
    assert_eq!(with[0], "syntax/lexer.py", "{with:?}");
    assert_eq!(with[1], "syntax/cursor.py", "{with:?}");
    // At the default cap every word read is too common here to search for, so nothing is searched.
    let capped = ranked(&f, task, RankWeights { feedback: 4.0, ..Default::default() });
    assert!(!capped.contains(&"syntax/cursor.py".to_string()), "{capped:?}");
    // Without feedback nothing leads to the cursor: the fixture needs the signal.
    let without = ranked(&f, task, RankWeights { feedback: 0.0, ..Default::default() });
    assert_eq!(without[0], "syntax/lexer.py", "{without:?}");
    assert!(!without.contains(&"syntax/cursor.py".to_string()), "{without:?}");
}

#[test]
fn graph_partners_of_the_best_file_rise_with_it_when_weighted() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    // The parser matches the task; the request reader calls it but shares none of the task's words.
    write(
        root,
        "net/codec.py",
        "def decode(line):\n    \"\"\"Split a raw header line into its name and value.\"\"\"\n    name, _, value = line.partition(':')\n    return name.strip(), value.strip()\n",
    );
    write(
        root,
        "net/request.py",
        "from net.codec import decode\n\n\ndef read_request(stream):\n    return [decode(row) for row in stream]\n",
    );
    // Views that share one word with the task, and nothing with the parser's code.
    for i in 0..12 {
        write(
            root,
            &format!("app/view_{i}.py"),
            "def render(page):\n    \"\"\"Draws the value of the page.\"\"\"\n    return page.title\n",
        );
    }
    let f = Fixture::index(repo);
    let task = "split a raw header line into name and value";
    // Feedback off: the parser's words would lead to the reader by themselves.
    let weights = |graph_partners| RankWeights { graph_partners, feedback: 0.0, ..Default::default() };
    assert_eq!(RankWeights::default().graph_partners, 0.0, "measured on the dev set, it lost: off by default");
    let with = ranked(&f, task, weights(1.0));
    assert_eq!(with[..2], ["net/codec.py", "net/request.py"], "{with:?}");
    // Without the weight nothing leads to the reader: the fixture needs the signal.
    let without = ranked(&f, task, weights(0.0));
    assert_eq!(without[0], "net/codec.py", "{without:?}");
    assert!(!without.contains(&"net/request.py".to_string()), "{without:?}");
}

#[test]
fn recently_changed_files_lead_files_that_match_as_well() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(repo_dir.path()).unwrap();
    // Two parsers match the task alike (the old one a little better); the new one changed in the last commits.
    let parser = |name: &str, extra: &str| {
        format!("def parse_{name}(header):\n    \"\"\"Parses the retry header.{extra}\"\"\"\n    return header.split(',')\n")
    };
    commit(&repo, &[("net/old_parser.py", &parser("old", " The retry header may be empty."))]);
    commit(&repo, &[("net/new_parser.py", &parser("new", ""))]);
    for i in 0..30 {
        commit(&repo, &[(&format!("pkg/other_{i}.py"), &format!("def other_{i}(x):\n    return x * {i}\n"))]);
    }
    commit(&repo, &[("net/new_parser.py", &parser("new", " Whitespace around values is kept."))]);
    let f = Fixture::index(repo_dir);
    let task = "the retry header parser drops the last value";
    let without = ranked(&f, task, RankWeights { cochange: 0.0, recency: 0.0, ..Default::default() });
    assert_eq!(without[..2], ["net/old_parser.py", "net/new_parser.py"], "{without:?}");
    let with = ranked(&f, task, RankWeights { cochange: 0.0, ..Default::default() });
    assert_eq!(with[..2], ["net/new_parser.py", "net/old_parser.py"], "{with:?}");
}

#[test]
fn code_outranks_examples_and_benchmarks_of_it_unless_the_task_names_them() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    write(
        root,
        "shop/session.py",
        "class Session:\n    def expire(self, now):\n        \"\"\"Ends the session once its time to live has passed.\"\"\"\n        return now > self.ttl\n",
    );
    // An example and a benchmark that repeat the task's words more often than the code does.
    write(
        root,
        "examples/session_expire.py",
        "from shop.session import Session\n\n# session expire demo: a session expire after its ttl\nsession = Session()\nprint(session.expire(now=6))  # session expire\n",
    );
    write(
        root,
        "benches/session_expire.py",
        "from shop.session import Session\n\n\ndef bench_session_expire(session):\n    # session expire, timed\n    return session.expire(now=6)\n",
    );
    // A TypeScript declaration of a client for the same API, which restates its names.
    write(
        root,
        "types/session.d.ts",
        "/** A session that can expire. */\nexport interface Session {\n  /** Whether the session expire time passed. */\n  expire(now: number): boolean;\n}\nexport function sessionExpire(session: Session): boolean;\n",
    );
    for i in 0..20 {
        write(root, &format!("shop/misc_{i}.py"), &format!("def helper_{i}(x):\n    return x + {i}\n"));
    }
    let f = Fixture::index(repo);
    let task = "session expire returns true too early";
    let secondary = RankWeights::default();
    assert_eq!(secondary.auxiliary_files, 0.5);
    let files = ranked(&f, task, secondary);
    assert_eq!(files[0], "shop/session.py", "{files:?}");
    // Without the factor the echoes come first: the fixture exercises the rule.
    let undemoted = ranked(&f, task, RankWeights { auxiliary_files: 1.0, ..fused() });
    assert_ne!(undemoted[0], "shop/session.py", "{undemoted:?}");
    // A task about the example keeps the example where its evidence puts it, and the benchmark demoted.
    let files = ranked(&f, "the session expire demo example prints the wrong value", secondary);
    assert_eq!(files[0], "examples/session_expire.py", "{files:?}");
    assert!(position(&files, "shop/session.py") < position(&files, "benches/session_expire.py"), "{files:?}");
    // A task about the types keeps the declaration where its evidence puts it.
    let typed =
        ranked(&f, "the session expire types say boolean", RankWeights { auxiliary_files: 0.5, ..Default::default() });
    let undemoted =
        ranked(&f, "the session expire types say boolean", RankWeights { auxiliary_files: 1.0, ..Default::default() });
    assert_eq!(position(&typed, "types/session.d.ts"), position(&undemoted, "types/session.d.ts"), "{typed:?}");
}

#[test]
fn a_task_word_finds_the_file_that_writes_another_form_of_it() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    // The task says "retries" and "throttling"; the client's code says `retry` and `throttle`.
    write(
        root,
        "net/client.py",
        "def retry(request):\n    return send(request)\n\n\ndef throttle(rate):\n    return min(rate, 10)\n",
    );
    // A file with the task's words as written, but only in passing.
    write(root, "docs/tool.py", "def show():\n    return 'failed requests'\n");
    for i in 0..20 {
        write(root, &format!("app/view_{i}.py"), "def render(page):\n    return page.title\n");
    }
    let f = Fixture::index(repo);
    let task = "failed requests skip retries when throttling";
    let weights = |file_variants, chunk_variants| RankWeights {
        file_variants,
        chunk_variants,
        feedback: 0.0,
        ..Default::default()
    };
    let defaults = RankWeights::default();
    assert_eq!((defaults.file_variants, defaults.chunk_variants), (0.5, 0.5), "short tasks count word variants");
    // Whole-file ranking brings the client first; the chunk lists alone find it.
    for (file_variants, chunk_variants) in [(0.5, 0.5), (0.5, 0.0)] {
        let with = ranked(&f, task, weights(file_variants, chunk_variants));
        assert_eq!(with[0], "net/client.py", "{file_variants} {chunk_variants}: {with:?}");
    }
    assert_eq!(ranked(&f, task, weights(0.0, 0.5)), ["docs/tool.py", "net/client.py"]);
    let without = ranked(&f, task, weights(0.0, 0.0));
    // As written, nothing in the task leads to the client.
    assert_eq!(without, ["docs/tool.py"]);
}

#[test]
fn the_learned_reranking_reorders_only_the_best_files_and_keeps_scores_in_order() {
    let f = fixture();
    let task = "session expire returns true too early";
    let weights = |learned| RankWeights { learned_files: learned, ..Default::default() };
    let request = |learned| PackRequest {
        task: task.to_string(),
        budget: 2000,
        weights: weights(learned).into(),
        ..Default::default()
    };
    let fused = sextant_pack::rank(&f.index, &request(0.0)).unwrap();
    let learned = sextant_pack::rank(&f.index, &request(1.0)).unwrap();
    let head = sextant_pack::learned::RERANKED_FILES.min(fused.files.len());
    assert!(fused.files.len() > 3, "{:?}", fused.files);
    // The same files, the same scores in the same places, the best ones possibly in another order.
    let mut fused_head: Vec<u32> = fused.files[..head].iter().map(|(f, _)| *f).collect();
    let mut learned_head: Vec<u32> = learned.files[..head].iter().map(|(f, _)| *f).collect();
    fused_head.sort_unstable();
    learned_head.sort_unstable();
    assert_eq!(fused_head, learned_head);
    assert_eq!(fused.files[head..], learned.files[head..]);
    let scores = |r: &sextant_pack::Ranking| r.files.iter().map(|(_, s)| *s).collect::<Vec<f32>>();
    assert_eq!(scores(&fused), scores(&learned));
    // The session code leads, and its test stays behind it.
    let files = ranked(&f, task, weights(1.0));
    assert_eq!(files[0], "shop/session.py", "{files:?}");
    assert!(position(&files, "shop/session.py") < position(&files, "tests/test_session.py"), "{files:?}");
}
