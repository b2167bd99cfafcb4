//! The data side of `northstar serve` over real HTTP: tokens and roles, the JSON
//! and CSV query API, `metrics.json`, Prometheus, Grafana series, dashboards, the
//! login cookie, readiness, snapshot rebuilds and shutdown.
//!
//! The lake is built by hand: two teams, each owning one service with a distinctive
//! name so a leak shows as a plain substring in any reply:
//!
//! | team | service | deployments (prod, success) | cost (USD, Jan / Feb 2025) |
//! |---|---|---|---|
//! | checkout | `cart-svc` | 3 (01-06, 01-21, 02-11) | 100 / 120 |
//! | growth | `lander-svc` | 2 (01-08, 02-04) | 50 / 60 |
//!
//! The window is [2025-01-01, 2025-03-01), so the last complete month is February.
//! The read-only tests share one in-process server (see [`shared`]); the tests that
//! change the lake or stop the server start their own, and the CLI tests run the
//! binary (tokens in its environment, its log on stderr).
//! Tokens come from `[[serve.tokens]]` entries; the test hands their values in
//! through `Tokens::from_lookup`, the path `Tokens::from_env` takes (the process
//! environment is shared by every test thread, so it is set only for the child
//! process in the CLI tests).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use northstar::billing::{CostImportOptions, import_costs};
use northstar::config::Config;
use northstar::lake::Lake;
use northstar::report::dashboard;
use northstar::serve::{AppState, ReportOptions, Tokens, WebhookSecrets, serve};
use northstar::window::Window;
use serde_json::Value as Json;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::{day, seed, write_file};

const PLATFORM: &str = "pl-7Hq2vX9mKc4TzR8w";
const EXECUTIVE: &str = "ex-3Jf8nB1qLs6YdP0e";
const CHECKOUT: &str = "co-5Wk9rM2tGx7VbN4h";
const WRONG: &str = "no-1Aa2Bb3Cc4Dd5Ee6";
const TOKENS: [&str; 4] = [PLATFORM, EXECUTIVE, CHECKOUT, WRONG];

/// Growth's service: no checkout or executive reply may name it.
const GROWTH_SERVICE: &str = "lander-svc";
/// Checkout's service: no executive reply may name it.
const CHECKOUT_SERVICE: &str = "cart-svc";

const CONFIG: &str = r#"
[[serve.tokens]]
env = "NS_SERVE_API_PLATFORM"
role = "platform"

[[serve.tokens]]
env = "NS_SERVE_API_EXECUTIVE"
role = "executive"

[[serve.tokens]]
env = "NS_SERVE_API_CHECKOUT"
role = "team:checkout"

[[cost.rules]]
name = "team tag"
team_tag = "team"
service_tag = "service"

[[cost.budgets]]
team = "checkout"
amount = 500.0
currency = "USD"

[[okrs]]
id = "speed"
title = "Ship often"
owner = "CTO"
start = "2025-01-01"
end = "2025-02-28"

[[okrs.key_results]]
id = "deploys"
title = "One deployment a day"
metric = "dora/deployment_frequency"
field = "per_day"
direction = "increase"
baseline = 0.0
target = 1.0
"#;

const SERVICES: &str = "service,team,created_at,tier,on_platform
cart-svc,checkout,2024-06-01,tier-1,true
lander-svc,growth,2024-06-01,tier-2,false
";

const COMMITS: &str =
    "repo,commit_sha,parent_shas,authored_at,committed_at,author,pr_id,pr_created_at,pr_merged_at
acme/cart,c1,,2025-01-05T10:00:00Z,2025-01-05T10:00:00Z,ana,,,
acme/cart,c2,c1,2025-01-20T10:00:00Z,2025-01-20T10:00:00Z,ana,,,
acme/cart,c3,c2,2025-02-10T10:00:00Z,2025-02-10T10:00:00Z,bo,,,
acme/lander,l1,,2025-01-07T10:00:00Z,2025-01-07T10:00:00Z,cy,,,
acme/lander,l2,l1,2025-02-03T10:00:00Z,2025-02-03T10:00:00Z,cy,,,
";

const DEPLOYMENTS: &str = "deployment_id,source,repo,service,environment,env_tier,status,commit_sha,started_at,finished_at,kind,via_platform
C1,test,acme/cart,cart-svc,prod,production,success,c1,2025-01-06T09:50:00Z,2025-01-06T10:00:00Z,planned,true
C2,test,acme/cart,cart-svc,prod,production,success,c2,2025-01-21T09:50:00Z,2025-01-21T10:00:00Z,planned,true
C3,test,acme/cart,cart-svc,prod,production,success,c3,2025-02-11T09:50:00Z,2025-02-11T10:00:00Z,planned,true
L1,test,acme/lander,lander-svc,prod,production,success,l1,2025-01-08T09:50:00Z,2025-01-08T10:00:00Z,planned,false
L2,test,acme/lander,lander-svc,prod,production,success,l2,2025-02-04T09:50:00Z,2025-02-04T10:00:00Z,planned,false
";

const FOCUS_HEADER: &str = "BilledCost,EffectiveCost,ListCost,BillingCurrency,BillingAccountId,\
BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ServiceName,\
ServiceCategory,ProviderName,ResourceId,CommitmentDiscountId,CommitmentDiscountStatus,Tags";

/// (day, cost, team, service) → one FOCUS line each.
const COSTS: &[(&str, f64, &str, &str)] = &[
    ("2025-01-15", 100.0, "checkout", "cart-svc"),
    ("2025-02-15", 120.0, "checkout", "cart-svc"),
    ("2025-01-15", 50.0, "growth", "lander-svc"),
    ("2025-02-15", 60.0, "growth", "lander-svc"),
];

fn focus_csv() -> String {
    let mut text = format!("{FOCUS_HEADER}\n");
    for (i, (date, cost, team, service)) in COSTS.iter().enumerate() {
        let month = &date[..7];
        let next = format!(
            "{}{:02}",
            &date[..8],
            date[8..].parse::<u32>().expect("day") + 1
        );
        text.push_str(&format!(
            "{cost},{cost},,USD,acct-usd,{month}-01T00:00:00Z,{date}T00:00:00Z,{next}T00:00:00Z,\
             Usage,Compute Engine,Compute,Acme Cloud,r{i},,,\
             \"{{\"\"team\"\":\"\"{team}\"\",\"\"service\"\":\"\"{service}\"\"}}\"\n"
        ));
    }
    text
}

async fn build_lake(dir: &Path) -> Lake {
    let lake = Lake::open_local(&dir.join("lake")).expect("open lake");
    let files = [
        ("services", write_file(dir, "services.csv", SERVICES)),
        ("commits", write_file(dir, "commits.csv", COMMITS)),
        (
            "deployments",
            write_file(dir, "deployments.csv", DEPLOYMENTS),
        ),
    ];
    seed(&lake, &files).await;
    let bill = write_file(dir, "bill.csv", &focus_csv());
    import_costs(&lake, &[bill], &CostImportOptions::default())
        .await
        .expect("import costs");
    lake
}

fn config() -> Config {
    Config::parse(CONFIG, "test").expect("config")
}

fn tokens(config: &Config) -> Tokens {
    let values: HashMap<&str, &str> = HashMap::from([
        ("NS_SERVE_API_PLATFORM", PLATFORM),
        ("NS_SERVE_API_EXECUTIVE", EXECUTIVE),
        ("NS_SERVE_API_CHECKOUT", CHECKOUT),
    ]);
    Tokens::from_lookup(&config.serve, |name| {
        values.get(name).map(|v| v.to_string())
    })
    .expect("tokens")
}

/// A client of one server.
struct Client {
    base: String,
    client: reqwest::Client,
}

/// A server of one test, over its own lake.
struct Server {
    http: Client,
    lake: Lake,
    dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<northstar::error::Result<()>>,
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.http
    }
}

/// One reply.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The server the read-only tests share, so the snapshot (the slow part: ~10 s of
/// queries in a debug build) is built once. It runs on its own thread and runtime
/// (each test has its own) until the test process exits; its lake is under Cargo's
/// test scratch folder.
static SHARED: OnceLock<String> = OnceLock::new();

async fn shared() -> Client {
    let base = tokio::task::spawn_blocking(|| SHARED.get_or_init(start_shared).clone())
        .await
        .expect("shared server");
    let client = Client::new(base);
    client.wait_ready().await;
    client
}

fn start_shared() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async move {
            let dir = shared_dir();
            let lake = build_lake(dir.path()).await;
            let server = start_on(dir, lake).await;
            tx.send(server.base.clone()).expect("report the address");
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("shared server started")
}

/// A fresh folder for the shared server's lake. The server lives until the process
/// exits, so its folder is never dropped; the ones earlier runs left (over an hour
/// old, so not a concurrent run's) are removed here.
fn shared_dir() -> TempDir {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let stale = |entry: &std::fs::DirEntry| {
        entry
            .file_name()
            .to_string_lossy()
            .starts_with(SHARED_PREFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600))
    };
    for entry in std::fs::read_dir(scratch).into_iter().flatten().flatten() {
        if stale(&entry) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    tempfile::Builder::new()
        .prefix(SHARED_PREFIX)
        .tempdir_in(scratch)
        .expect("shared dir")
}

const SHARED_PREFIX: &str = "serve-api-shared-";

async fn start_on(dir: TempDir, lake: Lake) -> Server {
    let config = config();
    let options = ReportOptions {
        tokens: tokens(&config),
        window: Some(Window {
            from: day("2025-01-01"),
            to: day("2025-03-01"),
        }),
        dashboards: dashboard::load(None).expect("dashboards"),
    };
    let state = AppState::with_reports(&config, lake.clone(), WebhookSecrets::new(), options)
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, async {
        let _ = rx.await;
    }));
    Server {
        http: Client::new(base),
        lake,
        dir,
        shutdown: Some(tx),
        task,
    }
}

impl Client {
    fn new(base: String) -> Client {
        Client {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if self.get("/readyz", None).await.status == 200 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "snapshot never built"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a request and checks no token comes back outside `Set-Cookie`.
    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        let visible: Vec<String> = headers
            .iter()
            .filter(|(k, _)| *k != reqwest::header::SET_COOKIE)
            .map(|(k, v)| format!("{k}: {v:?}"))
            .collect();
        for token in TOKENS {
            assert!(!body.contains(token), "token in a body");
            assert!(
                !visible.iter().any(|h| h.contains(token)),
                "token in a header"
            );
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    async fn get_with(&self, path: &str, token: &str, header: (&str, &str)) -> Reply {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(header.0, header.1);
        self.send(request).await
    }
}

impl Server {
    /// Stops the server and waits for it to finish.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self.http);
        let outcome = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("shutdown finishes");
        outcome.expect("server task").expect("server result");
    }
}

/// Every reply to `token`'s requests is checked against this.
#[derive(Debug, Clone, Copy)]
enum Who {
    Nobody,
    Wrong,
    Platform,
    Executive,
    Checkout,
}

impl Who {
    const ALL: [Who; 5] = [
        Who::Nobody,
        Who::Wrong,
        Who::Platform,
        Who::Executive,
        Who::Checkout,
    ];

    fn token(self) -> Option<&'static str> {
        match self {
            Who::Nobody => None,
            Who::Wrong => Some(WRONG),
            Who::Platform => Some(PLATFORM),
            Who::Executive => Some(EXECUTIVE),
            Who::Checkout => Some(CHECKOUT),
        }
    }
}

/// Endpoint → expected status for (nobody, wrong token, platform, executive,
/// team:checkout).
const MATRIX: &[(&str, [u16; 5])] = &[
    ("/api/v1/metrics", [401, 401, 200, 200, 200]),
    (
        "/api/v1/query/dora/deployment_frequency?scope=team",
        [401, 401, 200, 200, 200],
    ),
    (
        "/api/v1/query/dora/deployment_frequency?scope=service",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/query/dora/lead_time?scope=service&grain=month",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/query/scorecards/owner_set",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/query/cost/allocation_audit",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/query/cost/costs?scope=service&grain=month",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/query/cost/costs?scope=team&grain=month",
        [401, 401, 200, 200, 200],
    ),
    ("/metrics", [401, 401, 200, 200, 200]),
    (
        "/api/v1/grafana/dora?scope=service",
        [401, 401, 200, 403, 200],
    ),
    (
        "/api/v1/grafana/dora?scope=team&grain=week&metric=lead_time",
        [401, 401, 200, 200, 200],
    ),
    ("/api/v1/grafana/cost?scope=team", [401, 401, 200, 200, 200]),
    ("/dashboards/executive", [401, 401, 200, 200, 200]),
    ("/dashboards/team-costs", [401, 401, 200, 200, 200]),
    ("/dashboards/platform", [401, 401, 200, 200, 200]),
    ("/", [401, 401, 200, 200, 200]),
    ("/healthz", [200, 200, 200, 200, 200]),
    ("/login", [200, 200, 200, 200, 200]),
];

fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/dashboards/")
}

#[tokio::test(flavor = "multi_thread")]
async fn access_control_matrix() {
    let server = shared().await;
    let mut failures = Vec::new();
    for (path, expected) in MATRIX {
        for (who, want) in Who::ALL.iter().zip(expected) {
            let reply = server.get(path, who.token()).await;
            if reply.status != *want {
                failures.push(format!("{who:?} {path}: {} (want {want})", reply.status));
                continue;
            }
            check_reply(*who, path, &reply);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// What every reply must (not) hold, whatever the endpoint.
fn check_reply(who: Who, path: &str, reply: &Reply) {
    match reply.status {
        401 if is_page(path) => {
            assert!(
                reply.body.contains("action=\"/login\""),
                "{path}: login form"
            );
            assert!(reply.header("content-type").starts_with("text/html"));
        }
        401 => {
            assert!(
                reply.header("www-authenticate").starts_with("Bearer"),
                "{path}"
            );
            assert!(reply.json()["error"].is_string(), "{path}");
        }
        403 => assert!(reply.json()["error"].is_string(), "{path}"),
        _ => {}
    }
    match who {
        Who::Checkout => assert!(
            !reply.body.contains(GROWTH_SERVICE),
            "team:checkout sees growth's service at {path}"
        ),
        Who::Executive => assert!(
            !reply.body.contains(GROWTH_SERVICE) && !reply.body.contains(CHECKOUT_SERVICE),
            "executive sees a service at {path}"
        ),
        _ => {}
    }
}

fn rows(reply: &Reply) -> Vec<Json> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json().as_array().cloned().expect("array")
}

fn texts(rows: &[Json], key: &str) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .filter_map(|r| r[key].as_str().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn keys(doc: &Json) -> Vec<String> {
    doc.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_see_their_rows_and_team_aggregates() {
    let server = shared().await;
    let service_rows = "/api/v1/query/dora/deployment_frequency?scope=service";
    let team_rows = "/api/v1/query/dora/deployment_frequency?scope=team";

    // Platform: everything.
    let all = rows(&server.get(service_rows, Some(PLATFORM)).await);
    assert_eq!(texts(&all, "scope_key"), ["cart-svc", "lander-svc"]);
    assert!(
        all.iter().all(|r| r.get("scope").is_none()),
        "no helper column"
    );

    // team:checkout: its own service, every team's aggregate.
    let own = rows(&server.get(service_rows, Some(CHECKOUT)).await);
    assert_eq!(texts(&own, "scope_key"), ["cart-svc"]);
    let teams = rows(&server.get(team_rows, Some(CHECKOUT)).await);
    assert_eq!(texts(&teams, "scope_key"), ["checkout", "growth"]);
    let growth = teams
        .iter()
        .find(|r| r["scope_key"] == "growth")
        .expect("growth");
    assert_eq!(growth["n"], 2);

    let doc = server.get("/api/v1/metrics", Some(CHECKOUT)).await.json();
    assert_eq!(keys(&doc["dora"]["services"]), ["cart-svc"]);
    assert_eq!(keys(&doc["dora"]["teams"]), ["checkout", "growth"]);
    assert_eq!(
        doc["dora"]["teams"]["growth"]["deployment_frequency"]["n"],
        2
    );
    assert_eq!(
        keys(&doc["dora"]["series"]["month"]["services"]),
        ["cart-svc"]
    );
    assert_eq!(
        keys(&doc["dora"]["series"]["week"]["services"]),
        ["cart-svc"]
    );
    for service in keys(&doc["scorecards"]["services"]) {
        assert_eq!(service, "cart-svc");
    }

    let grafana = rows(
        &server
            .get("/api/v1/grafana/dora?scope=service", Some(CHECKOUT))
            .await,
    );
    assert_eq!(texts(&grafana, "service"), ["cart-svc"]);
    let grafana = rows(
        &server
            .get("/api/v1/grafana/dora?scope=team", Some(CHECKOUT))
            .await,
    );
    assert_eq!(texts(&grafana, "team"), ["checkout", "growth"]);

    let scorecard = rows(
        &server
            .get("/api/v1/query/scorecards/owner_set", Some(CHECKOUT))
            .await,
    );
    assert_eq!(texts(&scorecard, "service"), ["cart-svc"]);
    let audit = rows(
        &server
            .get("/api/v1/query/cost/allocation_audit", Some(CHECKOUT))
            .await,
    );
    assert_eq!(texts(&audit, "team"), ["checkout"]);
    let audit = rows(
        &server
            .get("/api/v1/query/cost/allocation_audit", Some(PLATFORM))
            .await,
    );
    assert_eq!(texts(&audit, "team"), ["checkout", "growth"]);
    let costs = rows(
        &server
            .get("/api/v1/query/cost/costs?scope=service", Some(CHECKOUT))
            .await,
    );
    assert_eq!(texts(&costs, "scope_key"), ["cart-svc"]);

    // Executive: aggregates only.
    let doc = server.get("/api/v1/metrics", Some(EXECUTIVE)).await.json();
    assert_eq!(doc["dora"]["services"], serde_json::json!({}));
    assert_eq!(
        doc["dora"]["series"]["month"]["services"],
        serde_json::json!({})
    );
    assert_eq!(keys(&doc["dora"]["teams"]), ["checkout", "growth"]);
    assert_eq!(doc["dora"]["org"]["deployment_frequency"]["n"], 5);
    let teams = rows(&server.get(team_rows, Some(EXECUTIVE)).await);
    assert_eq!(texts(&teams, "scope_key"), ["checkout", "growth"]);
    // Anything but org, team, service (and cost dimensions) is refused: an unknown
    // scope must not fall through to the SQL's per-service branch.
    let bogus = "/api/v1/query/dora/deployment_frequency?scope=everything";
    assert_eq!(server.get(bogus, Some(EXECUTIVE)).await.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_or_json_by_accept_header_and_format_parameter() {
    let server = shared().await;
    let path = "/api/v1/query/dora/deployment_frequency?scope=team";
    let json = server.get(path, Some(PLATFORM)).await;
    assert!(json.header("content-type").starts_with("application/json"));
    assert_eq!(rows(&json).len(), 2);

    let csv = server
        .get_with(path, PLATFORM, ("accept", "text/csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        lines[0].starts_with("scope_key,period_start,"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("checkout,2025-01-01,") && lines[2].starts_with("growth,"));

    let by_param = server
        .get_with(
            &format!("{path}&format=csv"),
            PLATFORM,
            ("accept", "application/json"),
        )
        .await;
    assert_eq!(by_param.body, csv.body);
    let json_over_accept = server
        .get_with(
            &format!("{path}&format=json"),
            PLATFORM,
            ("accept", "text/csv"),
        )
        .await;
    assert_eq!(rows(&json_over_accept).len(), 2);
    assert_eq!(
        server
            .get(&format!("{path}&format=xml"), Some(PLATFORM))
            .await
            .status,
        400
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_queries_are_404_and_bad_parameters_400() {
    let server = shared().await;
    for path in [
        "/api/v1/query/dora/nope",
        "/api/v1/query/scorecards/nope",
        "/api/v1/query/custom/nope",
        "/api/v1/query/staging/service_owners",
        "/api/v1/grafana/nope",
        "/dashboards/nope",
    ] {
        assert_eq!(server.get(path, Some(PLATFORM)).await.status, 404, "{path}");
    }
    for path in [
        "/api/v1/query/dora/lead_time?from=yesterday",
        "/api/v1/query/dora/lead_time?scope=teams",
        "/api/v1/query/dora/lead_time?grain=fortnight",
        "/api/v1/query/dora/lead_time?scope=1",
        "/api/v1/query/dora/lead_time?bad-name=1",
        "/api/v1/query/scorecards/deployed_within_days",
        "/api/v1/grafana/dora?metric=nope",
        "/api/v1/grafana/dora?grain=day",
        "/api/v1/grafana/cost?scope=service",
    ] {
        let reply = server.get(path, Some(PLATFORM)).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert!(
            reply.json()["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty())
        );
    }
    // Parameters bind like `northstar query --param`: a narrower window and a
    // threshold the check needs.
    let narrow = rows(
        &server
            .get(
                "/api/v1/query/dora/deployment_frequency?scope=org&from=2025-02-01&to=2025-03-01",
                Some(PLATFORM),
            )
            .await,
    );
    assert_eq!(narrow[0]["n"], 2);
    let check = rows(
        &server
            .get(
                "/api/v1/query/scorecards/deployed_within_days?threshold=30",
                Some(PLATFORM),
            )
            .await,
    );
    assert_eq!(texts(&check, "service"), ["cart-svc", "lander-svc"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_page_parses_line_by_line() {
    let server = shared().await;
    let reply = server.get("/metrics", Some(EXECUTIVE)).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        reply.header("content-type")
    );
    let mut samples: HashMap<String, f64> = HashMap::new();
    let mut typed = Vec::new();
    for line in reply.body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("type line");
            assert_eq!(kind, "gauge");
            typed.push(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name{labels} value");
        let name = series.split('{').next().expect("name");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(
            typed.last().is_some_and(|t| t == name),
            "{line} under its TYPE"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        samples.insert(series.to_string(), value);
    }
    assert_eq!(samples["northstar_deployments{team=\"_org\"}"], 5.0);
    assert_eq!(samples["northstar_deployments{team=\"checkout\"}"], 3.0);
    assert_eq!(
        samples["northstar_deployments_samples{team=\"growth\"}"],
        2.0
    );
    assert_eq!(
        samples["northstar_cost_effective{team=\"checkout\",currency=\"USD\",month=\"2025-02\"}"],
        120.0
    );
    assert_eq!(
        samples["northstar_cost_budget{team=\"checkout\",currency=\"USD\",month=\"2025-02\"}"],
        500.0
    );
    assert!(samples.contains_key("northstar_okr_progress{objective=\"speed\"}"));
    assert!(
        samples
            .keys()
            .any(|k| k.starts_with("northstar_north_star{"))
    );
    // No incident: recovery time has no sample, so no figure, only its n = 0.
    assert!(!samples.contains_key("northstar_recovery_time_median_hours{team=\"_org\"}"));
    assert_eq!(
        samples["northstar_recovery_time_median_hours_samples{team=\"_org\"}"],
        0.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_cookie_opens_the_pages() {
    let server = shared().await;
    let form = |token: &str| {
        server
            .client
            .post(format!("{}/login", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
    };
    let wrong = server.send(form(WRONG)).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.headers.get("set-cookie").is_none());

    let login = server.send(form(CHECKOUT)).await;
    assert_eq!(login.status, 303);
    assert_eq!(login.header("location"), "/");
    let cookie = login.header("set-cookie").to_string();
    for attribute in ["northstar_token=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let pair = cookie.split(';').next().expect("name=value").to_string();

    let index = server
        .send(
            server
                .client
                .get(format!("{}/", server.base))
                .header("cookie", &pair),
        )
        .await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("team:checkout"));
    assert!(index.body.contains("href=\"/dashboards/executive\""));
    let api = server
        .send(
            server
                .client
                .get(format!("{}/api/v1/metrics", server.base))
                .header("cookie", &pair),
        )
        .await;
    assert_eq!(api.status, 200);

    let logout = server
        .send(server.client.post(format!("{}/logout", server.base)))
        .await;
    assert_eq!(logout.status, 303);
    assert!(logout.header("set-cookie").contains("Max-Age=0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_waits_for_the_snapshot_which_follows_the_lake() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = build_lake(dir.path()).await;
    let server = start_on(dir, lake).await;
    // The port answers at once; data waits for the first snapshot.
    assert_eq!(server.get("/healthz", None).await.status, 200);
    let first = server.get("/api/v1/metrics", Some(PLATFORM)).await;
    if first.status == 503 {
        assert_eq!(server.get("/readyz", None).await.status, 503);
        assert_eq!(first.header("retry-after"), "5");
    }
    server.wait_ready().await;
    let doc = server.get("/api/v1/metrics", Some(PLATFORM)).await.json();
    assert_eq!(doc["dora"]["org"]["deployment_frequency"]["n"], 5);

    let more = "deployment_id,source,repo,service,environment,env_tier,status,commit_sha,started_at,finished_at,kind,via_platform
C4,test,acme/cart,cart-svc,prod,production,success,c3,2025-02-20T09:50:00Z,2025-02-20T10:00:00Z,planned,true
";
    let file = write_file(server.dir.path(), "more.csv", more);
    seed(&server.lake, &[("deployments", file)]).await;
    let started = Instant::now();
    loop {
        let doc = server.get("/api/v1/metrics", Some(PLATFORM)).await.json();
        if doc["dora"]["org"]["deployment_frequency"]["n"] == 6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "snapshot not rebuilt"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server.stop().await;
}

fn northstar(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_northstar"));
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

#[test]
fn cli_refuses_an_open_public_address_and_unset_token_variables() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    let open = write_file(dir.path(), "open.toml", "");
    let out = northstar(
        &[
            "--lake",
            &lake,
            "--config",
            &open.to_string_lossy(),
            "serve",
            "--addr",
            "0.0.0.0:0",
        ],
        &[],
    )
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing"));

    let with_tokens = write_file(
        dir.path(),
        "tokens.toml",
        "[[serve.tokens]]\nenv = \"NS_SERVE_CLI_UNSET_TOKEN\"\nrole = \"platform\"\n",
    );
    let out = northstar(
        &[
            "--lake",
            &lake,
            "--config",
            &with_tokens.to_string_lossy(),
            "serve",
            "--addr",
            "127.0.0.1:0",
        ],
        &[],
    )
    .env_remove("NS_SERVE_CLI_UNSET_TOKEN")
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NS_SERVE_CLI_UNSET_TOKEN"));
}

/// The binary as deployed: tokens from the environment, debug logging for every
/// crate, SIGTERM. No token may reach the log, whichever way it was sent.
#[tokio::test(flavor = "multi_thread")]
async fn cli_reads_env_tokens_never_logs_them_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    let config = write_file(
        dir.path(),
        "tokens.toml",
        "[[serve.tokens]]\nenv = \"NS_SERVE_CLI_EXECUTIVE\"\nrole = \"executive\"\n\n\
         [[serve.tokens]]\nenv = \"NS_SERVE_CLI_CHECKOUT\"\nrole = \"team:checkout\"\n",
    );
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = northstar(
        &[
            "--lake",
            &lake,
            "--config",
            &config.to_string_lossy(),
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--from",
            "2025-01-01",
            "--to",
            "2025-03-01",
        ],
        &[
            ("NS_SERVE_CLI_EXECUTIVE", EXECUTIVE),
            ("NS_SERVE_CLI_CHECKOUT", CHECKOUT),
            ("NORTHSTAR_LOG", "debug"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::from(log))
    .spawn()
    .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read");
    let http = Client::new(
        line.trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string(),
    );
    assert_eq!(http.get("/api/v1/metrics", None).await.status, 401);
    assert_eq!(
        http.get("/api/v1/metrics", Some(PLATFORM)).await.status,
        401
    );
    let started = Instant::now();
    let mut last = 0;
    while started.elapsed() < Duration::from_secs(120) {
        last = http.get("/api/v1/metrics", Some(EXECUTIVE)).await.status;
        if last == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last, 200);
    for token in TOKENS {
        http.get(
            &format!("/api/v1/query/dora/lead_time?token={token}"),
            Some(token),
        )
        .await;
        let login = http
            .client
            .post(format!("{}/login", http.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"));
        http.send(login).await;
        let page = http
            .client
            .get(format!("{}/", http.base))
            .header("cookie", format!("northstar_token={token}"));
        http.send(page).await;
        http.get("/metrics", Some(token)).await;
    }

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(terminated.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("no exit after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");

    let log = without_ansi(&std::fs::read_to_string(&log_path).expect("log"));
    for token in TOKENS {
        assert!(!log.contains(token), "a token in the log");
    }
    assert!(log.contains("Served request."), "{log}");
    for role in ["executive", "team:checkout", "invalid"] {
        assert!(
            log.contains(&format!("role=\"{role}\"")) || log.contains(&format!("role={role}")),
            "role {role} in {log}"
        );
    }
    assert!(!log.contains("?token="), "no query strings in the log");
    assert!(log.contains("Shutting down"), "{log}");
}

/// `text` without terminal colour codes (`ESC [ ... m`).
fn without_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
