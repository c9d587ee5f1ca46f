//! End-to-end: a real server on a loopback port, called through the generated tonic client.

use std::path::Path;
use std::time::{Duration, Instant};

use ::sextant_server::v1::sextant_client::SextantClient;
use ::sextant_server::v1::{
    GetContextPackRequest, GetFileRequest, GetOverviewRequest, GetOverviewResponse, ItemKind, ListRepositoriesRequest,
    ReindexRequest, SearchRequest, StatusRequest, SymbolRequest,
};
use ::sextant_server::{start, RepositorySpec, RunningServer, ServerConfig};
use tonic::transport::Channel;
use tonic::Code;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn fixture(root: &Path) {
    write(
        root,
        "shop/cart.py",
        "from shop.pricing import price_with_discount\n\n\nclass Cart:\n    \"\"\"A shopping cart.\"\"\"\n\n    def __init__(self):\n        self.items = []\n\n    def checkout_total(self):\n        return sum(price_with_discount(i) for i in self.items)\n",
    );
    write(
        root,
        "shop/pricing.py",
        "def price_with_discount(item):\n    \"\"\"Applies the seasonal discount.\"\"\"\n    return item.price * 0.9\n",
    );
    write(root, "shop/AGENTS.md", "All prices are integers in cents; never use floats for money.\n");
    write(root, "README.md", "# Shop\n\nA tiny shop with carts and seasonal pricing.\n");
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    http_get_from(addr, path, "localhost").await
}

async fn http_get_from(addr: std::net::SocketAddr, path: &str, host: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

async fn wait_overview(client: &mut SextantClient<Channel>) -> GetOverviewResponse {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match client.get_overview(GetOverviewRequest { repository: String::new(), module: String::new() }).await {
            Ok(response) => return response.into_inner(),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
        assert!(Instant::now() < deadline, "overview never built");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn server(root: &Path, index_dir: &Path, token: Option<&str>) -> (RunningServer, SextantClient<Channel>) {
    let mut config = ServerConfig::new(vec![RepositorySpec {
        name: "shop".into(),
        root: root.to_path_buf(),
        index_dir: index_dir.to_path_buf(),
    }]);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.http_listen = Some("127.0.0.1:0".parse().unwrap());
    config.token = token.map(str::to_string);
    config.debounce = Duration::from_millis(50);
    let running = start(config).await.unwrap();
    let client = SextantClient::connect(format!("http://{}", running.addr)).await.unwrap();
    (running, client)
}

fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn wait_indexed(client: &mut SextantClient<Channel>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let repos = client.list_repositories(ListRepositoriesRequest {}).await.unwrap().into_inner();
        if repos.repositories[0].indexed {
            return;
        }
        assert!(Instant::now() < deadline, "repository never got indexed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_answers_and_edits_show_up_in_packs() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let (running, mut client) = server(repo.path(), index_dir.path(), None).await;
    wait_indexed(&mut client).await;

    let repos = client.list_repositories(ListRepositoriesRequest {}).await.unwrap().into_inner();
    assert_eq!(repos.repositories.len(), 1);
    assert_eq!(repos.repositories[0].name, "shop");

    let status = client.status(StatusRequest { repository: String::new() }).await.unwrap().into_inner();
    assert_eq!((status.files, status.symbols), (2, 4));
    assert_eq!(status.languages[0].language, "python");

    let pack = client
        .get_context_pack(GetContextPackRequest {
            repository: "shop".into(),
            task: "The checkout total ignores the discount".into(),
            budget: 400,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(pack.tokens <= 400 && pack.tokens > 0);
    assert_eq!(pack.ranked_files[0], "shop/cart.py");
    assert!(pack.text.contains("def checkout_total(self):"), "{}", pack.text);
    assert_eq!(pack.items[0].kind, ItemKind::Code as i32);
    assert!(!pack.items[0].reason.is_empty());

    let hits = client
        .search(SearchRequest {
            repository: "shop".into(),
            query: "discount".into(),
            limit: 5,
            mode: "lexical".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits[0].path, "shop/pricing.py");

    // Vectors follow the index; once they are in, semantic search answers and hybrid is the default.
    let deadline = Instant::now() + Duration::from_secs(30);
    let semantic = loop {
        let request = SearchRequest {
            repository: "shop".into(),
            query: "lower what the customer pays this season".into(),
            limit: 2,
            mode: "semantic".into(),
            ..Default::default()
        };
        match client.search(request).await {
            Ok(response) => break response.into_inner().hits,
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
        assert!(Instant::now() < deadline, "vectors never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(semantic[0].path, "shop/pricing.py", "{semantic:?}");
    assert_eq!(semantic[0].signals[0].signal, "semantic");
    let hybrid = client
        .search(SearchRequest {
            repository: "shop".into(),
            query: "seasonal discount".into(),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hits;
    // Both BM25 and the embedding rank the definition first; the fused list says so.
    let definition = hybrid.iter().find(|h| h.path == "shop/pricing.py").expect("the definition is found");
    let signals: Vec<(&str, u32)> = definition.signals.iter().map(|s| (s.signal.as_str(), s.rank)).collect();
    assert!(signals.contains(&("lexical", 1)) && signals.contains(&("semantic", 1)), "{signals:?}");
    let bad = client
        .search(SearchRequest {
            repository: "shop".into(),
            query: "x".into(),
            mode: "fuzzy".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    let symbols = client
        .get_symbol(SymbolRequest {
            repository: "shop".into(),
            name: "Cart.checkout_total".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(symbols.symbols.len(), 1);
    assert_eq!((symbols.symbols[0].start_line, symbols.symbols[0].kind.as_str()), (10, "method"));

    let refs = client
        .find_references(SymbolRequest {
            repository: "shop".into(),
            name: "price_with_discount".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(refs.references.iter().any(|r| r.at.as_ref().unwrap().path == "shop/cart.py" && r.kind == "call"));

    let callers = client
        .callers(SymbolRequest { repository: "shop".into(), name: "price_with_discount".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(callers.relations[0].other.as_ref().unwrap().symbol, "Cart.checkout_total");
    let callees = client
        .callees(SymbolRequest { repository: "shop".into(), name: "checkout_total".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(callees.relations[0].other.as_ref().unwrap().symbol, "price_with_discount");

    // Lists come back in pages: walking the tokens with pages of one yields the whole list, once.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .find_references(SymbolRequest {
                repository: "shop".into(),
                name: "price_with_discount".into(),
                page_size: 1,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total as usize, refs.references.len());
        assert!(page.references.len() <= 1);
        paged.extend(page.references);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged, refs.references);
    let bad_token = client
        .find_references(SymbolRequest {
            repository: "shop".into(),
            name: "price_with_discount".into(),
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_token.code(), Code::InvalidArgument);

    // Small replies leave at once: with Nagle's algorithm on, each of these round trips would wait ~40 ms for
    // the delayed ACK; without it they take well under a millisecond in-process.
    let mut round_trips = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        client
            .get_symbol(SymbolRequest {
                repository: "shop".into(),
                name: "checkout_total".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        round_trips.push(started.elapsed());
    }
    round_trips.sort();
    assert!(round_trips[7] < Duration::from_millis(30), "median round trip {:?}", round_trips[7]);

    let file = client
        .get_file(GetFileRequest {
            repository: "shop".into(),
            path: "shop/pricing.py".into(),
            start_line: 2,
            end_line: 3,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(file.text, "    \"\"\"Applies the seasonal discount.\"\"\"\n    return item.price * 0.9\n");
    assert_eq!(file.total_lines, 3);

    // Errors carry proper codes.
    let missing = client
        .get_file(GetFileRequest { repository: "shop".into(), path: "../etc/passwd".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let unknown = client.status(StatusRequest { repository: "nope".into() }).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let empty = client
        .get_context_pack(GetContextPackRequest { task: " ".into(), budget: 100, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    let too_big = client
        .get_context_pack(GetContextPackRequest { task: "x".into(), budget: 5_000_000, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::InvalidArgument);

    // Reindex streams progress and ends with a summary.
    let mut stream =
        client.reindex(ReindexRequest { repository: "shop".into(), force: true }).await.unwrap().into_inner();
    let mut last = None;
    while let Some(message) = stream.message().await.unwrap() {
        last = Some(message);
    }
    let last = last.unwrap();
    assert_eq!(last.phase, "done");
    assert_eq!(last.summary.unwrap().files_parsed, 2);

    // Status says whether the server is still indexing: not once it is caught up, and so again from an edit until
    // its run (with the quiet spell before its polish) is over.
    let indexing = async |client: &mut SextantClient<Channel>| {
        client.status(StatusRequest { repository: String::new() }).await.unwrap().into_inner().indexing
    };
    let until = async |client: &mut SextantClient<Channel>, wanted: bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while indexing(client).await != wanted {
            assert!(Instant::now() < deadline, "Status never said indexing: {wanted}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    until(&mut client, false).await;

    // An edit is picked up by the watcher and reflected in the next pack.
    let edited_at = Instant::now();
    write(repo.path(), "shop/pricing.py", "def price_with_discount(item):\n    return item.price * 0.9\n\n\ndef loyalty_bonus_points(customer):\n    return customer.visits * 10\n");
    until(&mut client, true).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pack = client
            .get_context_pack(GetContextPackRequest {
                task: "loyalty bonus points".into(),
                budget: 300,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if pack.text.contains("def loyalty_bonus_points") {
            eprintln!("edit visible in packs after {:?}", edited_at.elapsed());
            break;
        }
        assert!(Instant::now() < deadline, "the edit never reached the pack");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(&mut client, false).await;

    // Overviews over gRPC, and packs with the overview excerpt and the rules that govern their code.
    let overview = wait_overview(&mut client).await;
    assert!(overview.markdown.contains("A tiny shop with carts and seasonal pricing."), "{}", overview.markdown);
    assert!(overview.modules.iter().any(|m| m.path.is_empty()));
    let json: serde_json::Value = serde_json::from_str(&overview.json).unwrap();
    assert_eq!(json["rules"][0]["source"], "shop/AGENTS.md");
    let missing_module =
        client.get_overview(GetOverviewRequest { repository: String::new(), module: "nope".into() }).await.unwrap_err();
    assert_eq!(missing_module.code(), Code::NotFound);
    let pack = client
        .get_context_pack(GetContextPackRequest {
            task: "checkout total discount".into(),
            budget: 1500,
            include_overview: true,
            include_rules: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pack.items[0].kind, ItemKind::Overview as i32, "{:#?}", pack.items);
    let rule = pack.items.iter().find(|i| i.kind == ItemKind::Rule as i32).expect("a rule item");
    assert_eq!(rule.path, "shop/AGENTS.md");
    assert!(pack.text.contains("never use floats for money"));
    assert!(pack.tokens <= 1500);

    // The same overview as web pages.
    let http = running.http_addr.unwrap();
    let (status, _) = http_get(http, "/").await;
    assert_eq!(status, 303, "one repository: redirect to its page");
    let (status, page) = http_get(http, "/r/shop/").await;
    assert_eq!(status, 200);
    assert!(page.contains("A tiny shop with carts and seasonal pricing.") && page.contains("shop/AGENTS.md"), "{page}");
    let (status, svg) = http_get(http, "/r/shop/deps.svg").await;
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg"), "{svg}");
    let (status, source) = http_get(http, "/r/shop/source/shop/pricing.py").await;
    assert_eq!(status, 200);
    assert!(source.contains("id=\"L5\"") && source.contains("def loyalty_bonus_points"));
    let (status, _) = http_get(http, "/r/shop/source/../../etc/passwd").await;
    assert_eq!(status, 404);
    // A page reached through a rebinding name (any Host but loopback) is refused; loopback spellings pass.
    let (status, _) = http_get_from(http, "/r/shop/", "attacker.example:7712").await;
    assert_eq!(status, 403);
    let (status, _) = http_get_from(http, "/mcp", "attacker.example").await;
    assert_eq!(status, 403);
    for host in ["127.0.0.1:7712", "[::1]:7712", "localhost"] {
        assert_eq!(http_get_from(http, "/r/shop/", host).await.0, 200, "{host}");
    }

    // Health and reflection are served.
    let channel = Channel::from_shared(format!("http://{}", running.addr)).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest { service: "sextant.v1.Sextant".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(serving.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_is_required_when_configured() {
    let repo = tempfile::tempdir().unwrap();
    let index_dir = tempfile::tempdir().unwrap();
    fixture(repo.path());
    let (running, mut client) = server(repo.path(), index_dir.path(), Some("s3cret")).await;
    let missing = client.list_repositories(ListRepositoriesRequest {}).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(missing.message().contains("bearer token"));
    let wrong = client.list_repositories(authed(ListRepositoriesRequest {}, "guess")).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    let ok = client.list_repositories(authed(ListRepositoriesRequest {}, "s3cret")).await.unwrap().into_inner();
    assert_eq!(ok.repositories[0].name, "shop");
    // Health and reflection sit behind the same token.
    let channel = Channel::from_shared(format!("http://{}", running.addr)).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let check = || tonic_health::pb::HealthCheckRequest { service: "sextant.v1.Sextant".into() };
    assert_eq!(health.check(check()).await.unwrap_err().code(), Code::Unauthenticated);
    assert!(health.check(authed(check(), "s3cret")).await.is_ok());
    running.stop().await.unwrap();
}
