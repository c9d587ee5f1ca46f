//! Fuzzing the gRPC surface inside the normal test run: requests with arbitrary field values (any text, huge
//! and hostile paths, out-of-range numbers, bad page tokens) get an answer or a client-error status, never an
//! internal error, a dropped connection or a dead server. `SEXTANT_FUZZ_CASES=N` runs longer.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ::sextant_server::v1::sextant_client::SextantClient;
use ::sextant_server::v1::{
    GetContextPackRequest, GetFileRequest, GetOverviewRequest, ListRepositoriesRequest, SearchRequest, SymbolRequest,
};
use ::sextant_server::{start, RepositorySpec, RunningServer, ServerConfig};
use proptest::prelude::*;
use tonic::transport::Channel;
use tonic::Code;

fn cases(default: u32) -> u32 {
    std::env::var("SEXTANT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    client: SextantClient<Channel>,
    _server: RunningServer,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let repo = tempfile::tempdir().unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let root: &Path = repo.path();
        std::fs::create_dir_all(root.join("shop")).unwrap();
        std::fs::write(
            root.join("shop/cart.py"),
            "from shop.pricing import price\n\ndef total(items):\n    return sum(price(i) for i in items)\n",
        )
        .unwrap();
        std::fs::write(root.join("shop/pricing.py"), "def price(item):\n    return item.cents\n").unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mut config = ServerConfig::new(vec![RepositorySpec {
            name: "shop".into(),
            root: root.to_path_buf(),
            index_dir: index_dir.path().to_path_buf(),
        }]);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.http_listen = None;
        config.watch = false;
        config.engine.embed = false;
        let (server, client) = runtime.block_on(async move {
            let server = start(config).await.unwrap();
            let mut client = SextantClient::connect(format!("http://{}", server.addr)).await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !client.list_repositories(ListRepositoriesRequest {}).await.unwrap().into_inner().repositories[0]
                .indexed
            {
                assert!(Instant::now() < deadline, "never indexed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (server, client)
        });
        Harness { runtime, client, _server: server, _dirs: (repo, index_dir) }
    })
}

/// Text that reaches the interesting branches: names, paths, traversal, markup, control characters, big inputs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        Just(String::new()),
        Just("../../etc/passwd".to_string()),
        Just("shop/cart.py".to_string()),
        Just("/shop/".to_string()),
        Just("price".to_string()),
        Just("Cart.total".to_string()),
        Just("x".repeat(20_000)),
        Just("\u{0}\u{feff}<script>".to_string()),
        prop::collection::vec(prop::sample::select(vec!["shop", "/", "..", "price", "::", ".", " "]), 0..12)
            .prop_map(|p| p.concat()),
    ]
}

/// The codes a well-behaved server may answer a bad request with.
fn acceptable(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition | Code::ResourceExhausted | Code::OutOfRange
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(192), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_requests_get_an_answer_or_a_client_error(
        repository in prop_oneof![Just(String::new()), Just("shop".to_string()), text()],
        query in text(),
        path in text(),
        numbers in (any::<u32>(), any::<u32>(), any::<u32>(), any::<i32>()),
        page_token in prop_oneof![Just(String::new()), Just("2".to_string()), text()],
        filters in prop::collection::vec(text(), 0..3),
        mode in prop_oneof![Just(String::new()), Just("hybrid".to_string()), Just("semantic".to_string()), text()],
    ) {
        let h = harness();
        let (a, b, c, tokenizer) = numbers;
        let outcomes: Vec<Result<(), tonic::Status>> = h.runtime.block_on(async {
            let mut client = h.client.clone();
            vec![
                client.get_context_pack(GetContextPackRequest {
                    repository: repository.clone(), task: query.clone(), budget: a % 300_000, tokenizer,
                    mentioned_paths: filters.clone(), mentioned_symbols: vec![query.clone()], open_files: filters.clone(),
                    languages: filters.clone(), path_filters: filters.clone(), include_overview: a % 2 == 0, include_rules: b % 2 == 0,
                }).await.map(|_| ()),
                client.search(SearchRequest {
                    repository: repository.clone(), query: query.clone(), limit: b, languages: filters.clone(),
                    path_filters: filters.clone(), mode: mode.clone(), per_file: (a % 3 == 0).then_some(c),
                }).await.map(|_| ()),
                client.get_symbol(SymbolRequest { repository: repository.clone(), name: query.clone(), page_size: c, page_token: page_token.clone() }).await.map(|_| ()),
                client.find_references(SymbolRequest { repository: repository.clone(), name: query.clone(), page_size: c, page_token: page_token.clone() }).await.map(|_| ()),
                client.callers(SymbolRequest { repository: repository.clone(), name: path.clone(), page_size: b, page_token: page_token.clone() }).await.map(|_| ()),
                client.callees(SymbolRequest { repository: repository.clone(), name: path.clone(), page_size: a, page_token: page_token.clone() }).await.map(|_| ()),
                client.get_file(GetFileRequest { repository: repository.clone(), path: path.clone(), start_line: a, end_line: b }).await.map(|_| ()),
                client.get_overview(GetOverviewRequest { repository: repository.clone(), module: path.clone() }).await.map(|_| ()),
            ]
        });
        for outcome in outcomes {
            if let Err(status) = outcome {
                prop_assert!(acceptable(&status), "{:?}: {}", status.code(), status.message());
            }
        }
    }
}
