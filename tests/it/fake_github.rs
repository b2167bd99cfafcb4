//! A GitHub REST API stand-in on loopback, serving the vendor's own example
//! payloads (fixtures/github, cloned into several records with new ids, SHAs and
//! dates) over several pages, with `Link` headers, ETags and 304s, bearer-token
//! checks, and injectable faults: 429 with `Retry-After`, 502, a response slower
//! than the client's timeout, a body cut off mid-stream, and a stall that holds a
//! request until the client is killed.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value as Json, json};

use crate::support::fixture;

/// Base time of the scenario: 2025-03-01T00:00:00Z.
pub const T0: i64 = 1_740_787_200;

/// An ISO time `hours` after [`T0`].
pub fn at(hours: f64) -> String {
    let t = T0 + (hours * 3600.0).round() as i64;
    chrono::DateTime::from_timestamp(t, 0)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The 40-hex SHA of a named commit of the scenario.
pub fn sha(name: &str) -> String {
    let digest = northstar::lake::short_sha256(name.as_bytes(), 20);
    digest[..40].to_string()
}

/// A fault to inject into the next request whose path and query contain `needle`.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After: 1`.
    RateLimit,
    /// 403 with `x-ratelimit-remaining: 0` and a reset one second ahead.
    PrimaryRateLimit,
    /// 502 Bad Gateway.
    BadGateway,
    /// Answer after this long.
    Slow(Duration),
    /// Send half the body, then break the connection.
    Truncate,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Path and query.
    pub target: String,
    /// Whether it carried `If-None-Match`.
    pub conditional: bool,
    /// The status answered.
    pub status: u16,
    /// Whether the user agent named northstar.
    pub user_agent_ok: bool,
}

/// A commit of the scenario's graph.
#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub name: &'static str,
    pub parents: Vec<&'static str>,
    pub hours: f64,
}

/// A deployment with its statuses (state, hours), oldest status first.
#[derive(Debug, Clone)]
pub struct FakeDeployment {
    pub id: i64,
    pub commit: &'static str,
    pub environment: &'static str,
    pub hours: f64,
    pub statuses: Vec<(&'static str, f64)>,
}

/// A pull request.
#[derive(Debug, Clone)]
pub struct FakePull {
    pub number: i64,
    pub head: &'static str,
    pub created: f64,
    pub updated: f64,
    pub merged: Option<f64>,
    pub merge_commit: &'static str,
    pub commits: Vec<&'static str>,
}

/// A release.
#[derive(Debug, Clone)]
pub struct FakeRelease {
    pub id: i64,
    pub tag: &'static str,
    pub commit: &'static str,
    pub hours: f64,
    pub draft: bool,
    pub prerelease: bool,
}

/// A workflow run.
#[derive(Debug, Clone)]
pub struct FakeRun {
    pub id: i64,
    pub name: &'static str,
    pub file: &'static str,
    pub branch: &'static str,
    pub commit: &'static str,
    pub hours: f64,
    /// (status, conclusion).
    pub outcome: (&'static str, Option<&'static str>),
}

/// The upstream data, mutable mid-test to simulate changes.
#[derive(Debug, Clone)]
pub struct World {
    pub repo: &'static str,
    pub commits: Vec<FakeCommit>,
    pub deployments: Vec<FakeDeployment>,
    pub pulls: Vec<FakePull>,
    pub releases: Vec<FakeRelease>,
    pub runs: Vec<FakeRun>,
}

impl World {
    /// The scenario the collector tests use (see collect_github.rs for the
    /// expected rows worked out from it).
    pub fn scenario() -> World {
        let c = |name, parents: &[&'static str], hours| FakeCommit {
            name,
            parents: parents.to_vec(),
            hours,
        };
        let d = |id, commit, environment, hours, statuses: &[(&'static str, f64)]| FakeDeployment {
            id,
            commit,
            environment,
            hours,
            statuses: statuses.to_vec(),
        };
        World {
            repo: "octocat/example",
            commits: vec![
                c("c1", &[], 0.0),
                c("c2", &["c1"], 1.0),
                c("c3", &["c2"], 3.0),
                c("c4", &["c3"], 3.5),
                c("f1", &["c3"], 5.0),
                c("c5", &["c4", "f1"], 5.5),
                c("c6", &["c5"], 7.0),
                c("c7", &["c6"], 9.0),
            ],
            deployments: vec![
                d(101, "c2", "production", 2.0, &[("success", 2.1)]),
                d(
                    102,
                    "c4",
                    "production",
                    4.0,
                    &[("in_progress", 4.02), ("success", 4.1)],
                ),
                d(103, "c5", "production", 6.0, &[("failure", 6.05)]),
                d(104, "c6", "production", 8.0, &[("success", 8.1)]),
                d(105, "c7", "production", 10.0, &[("in_progress", 10.02)]),
                d(106, "c7", "staging", 20.0, &[("success", 20.05)]),
            ],
            pulls: vec![
                FakePull {
                    number: 11,
                    head: "feature/cart",
                    created: 4.5,
                    updated: 5.5,
                    merged: Some(5.5),
                    merge_commit: "c5",
                    commits: vec!["f1"],
                },
                FakePull {
                    number: 12,
                    head: "feature/abandoned",
                    created: 1.0,
                    updated: 2.0,
                    merged: None,
                    merge_commit: "test-merge",
                    commits: vec![],
                },
                FakePull {
                    number: 13,
                    head: "hotfix/login",
                    created: 8.5,
                    updated: 9.2,
                    merged: Some(9.2),
                    merge_commit: "c7",
                    commits: vec!["c7"],
                },
            ],
            releases: vec![
                release(1, "v1.0.0", "c2", 2.2, false, false),
                release(2, "v1.1.0", "c4", 4.2, false, false),
                release(3, "v1.2.0-rc1", "c5", 6.2, false, true),
                release(4, "v1.3.0-draft", "c7", 9.5, true, false),
                release(5, "v1.2.0", "c6", 8.2, false, false),
            ],
            runs: vec![
                run(
                    201,
                    "Deploy",
                    "deploy.yml",
                    "main",
                    "c2",
                    2.3,
                    ("completed", Some("success")),
                ),
                run(
                    202,
                    "CI",
                    "ci.yml",
                    "main",
                    "c3",
                    3.1,
                    ("completed", Some("success")),
                ),
                run(
                    203,
                    "Deploy",
                    "deploy.yml",
                    "main",
                    "c4",
                    4.3,
                    ("completed", Some("failure")),
                ),
                run(
                    204,
                    "Deploy",
                    "deploy.yml",
                    "main",
                    "c6",
                    8.3,
                    ("completed", Some("success")),
                ),
                run(
                    205,
                    "Deploy",
                    "deploy.yml",
                    "hotfix/login",
                    "c7",
                    9.3,
                    ("in_progress", None),
                ),
            ],
        }
    }

    fn commit(&self, name: &str) -> Option<&FakeCommit> {
        self.commits.iter().find(|c| c.name == name)
    }

    fn by_sha(&self, s: &str) -> Option<&FakeCommit> {
        self.commits.iter().find(|c| sha(c.name) == s)
    }

    fn reachable(&self, from: &str) -> BTreeSet<&'static str> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&'static str> =
            self.commit(from).map(|c| vec![c.name]).unwrap_or_default();
        while let Some(n) = stack.pop() {
            if seen.insert(n)
                && let Some(c) = self.commit(n)
            {
                stack.extend(c.parents.iter().copied());
            }
        }
        seen
    }
}

fn release(
    id: i64,
    tag: &'static str,
    commit: &'static str,
    hours: f64,
    draft: bool,
    prerelease: bool,
) -> FakeRelease {
    FakeRelease {
        id,
        tag,
        commit,
        hours,
        draft,
        prerelease,
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    id: i64,
    name: &'static str,
    file: &'static str,
    branch: &'static str,
    commit: &'static str,
    hours: f64,
    outcome: (&'static str, Option<&'static str>),
) -> FakeRun {
    FakeRun {
        id,
        name,
        file,
        branch,
        commit,
        hours,
        outcome,
    }
}

/// Server state shared with the test.
pub struct Shared {
    pub token: String,
    pub world: Mutex<World>,
    pub faults: Mutex<Vec<(String, Fault)>>,
    pub log: Mutex<Vec<Logged>>,
    /// Hold the request with this 1-based number until the test ends.
    pub stall_at: Mutex<Option<usize>>,
    pub base: Mutex<String>,
}

impl Shared {
    /// Requests seen so far.
    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().expect("log").clone()
    }

    /// Adds a one-shot fault.
    pub fn fault(&self, needle: &str, fault: Fault) {
        self.faults
            .lock()
            .expect("faults")
            .push((needle.to_string(), fault));
    }
}

/// A running fake.
pub struct FakeGithub {
    pub shared: Arc<Shared>,
    pub url: String,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeGithub {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start(token: &str, world: World) -> FakeGithub {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            world: Mutex::new(world),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            stall_at: Mutex::new(None),
            base: Mutex::new(String::new()),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let url = format!("http://{addr}");
        *shared.base.lock().expect("base") = url.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGithub {
            shared,
            url,
            _task: task,
        }
    }
}

fn template(file: &str) -> Json {
    let text = std::fs::read_to_string(fixture(&format!("github/{file}"))).expect("fixture");
    let value: Json = serde_json::from_str(&text).expect("fixture json");
    match value {
        Json::Array(mut items) => items.remove(0),
        other => other,
    }
}

fn commit_json(world: &World, c: &FakeCommit) -> Json {
    let mut t = template("pull-commits-list.json");
    let s = sha(c.name);
    t["sha"] = json!(s);
    t["commit"]["author"]["date"] = json!(at(c.hours));
    t["commit"]["committer"]["date"] = json!(at(c.hours + 0.01));
    t["commit"]["message"] = json!(format!("Commit {}", c.name));
    t["parents"] = json!(
        c.parents
            .iter()
            .map(|p| json!({"sha": sha(p), "url": format!("https://api.github.com/repos/{}/commits/{}", world.repo, sha(p))}))
            .collect::<Vec<_>>()
    );
    t
}

fn deployment_json(world: &World, d: &FakeDeployment) -> Json {
    let mut t = template("deployments-list.json");
    t["id"] = json!(d.id);
    t["sha"] = json!(sha(d.commit));
    t["ref"] = json!("main");
    t["environment"] = json!(d.environment);
    t["original_environment"] = json!(d.environment);
    t["production_environment"] = json!(d.environment == "production");
    t["created_at"] = json!(at(d.hours));
    t["updated_at"] = json!(at(d.hours));
    t["url"] = json!(format!(
        "https://api.github.com/repos/{}/deployments/{}",
        world.repo, d.id
    ));
    t
}

fn statuses_json(d: &FakeDeployment) -> Vec<Json> {
    let mut list: Vec<Json> = d
        .statuses
        .iter()
        .enumerate()
        .map(|(i, (state, hours))| {
            let mut t = template("deployment-statuses-list.json");
            t["id"] = json!(d.id * 100 + i as i64);
            t["state"] = json!(state);
            t["environment"] = json!(d.environment);
            t["created_at"] = json!(at(*hours));
            t["updated_at"] = json!(at(*hours));
            t["log_url"] = json!(format!("https://ci.example.com/deploy/{}", d.id));
            t
        })
        .collect();
    list.reverse();
    list
}

fn pull_json(p: &FakePull) -> Json {
    let mut t = template("pulls-list.json");
    t["number"] = json!(p.number);
    t["state"] = json!("closed");
    t["title"] = json!(format!("PR {}", p.number));
    t["head"]["ref"] = json!(p.head);
    t["base"]["ref"] = json!("main");
    t["created_at"] = json!(at(p.created));
    t["updated_at"] = json!(at(p.updated));
    t["closed_at"] = json!(at(p.updated));
    t["merged_at"] = p.merged.map_or(Json::Null, |m| json!(at(m)));
    t["merge_commit_sha"] = json!(sha(p.merge_commit));
    t["html_url"] = json!(format!(
        "https://github.com/octocat/example/pull/{}",
        p.number
    ));
    t
}

fn release_json(r: &FakeRelease) -> Json {
    let mut t = template("releases-list.json");
    t["id"] = json!(r.id);
    t["tag_name"] = json!(r.tag);
    t["name"] = json!(r.tag);
    t["draft"] = json!(r.draft);
    t["prerelease"] = json!(r.prerelease);
    t["created_at"] = json!(at(r.hours - 0.1));
    t["published_at"] = if r.draft {
        Json::Null
    } else {
        json!(at(r.hours))
    };
    t["html_url"] = json!(format!(
        "https://github.com/octocat/example/releases/{}",
        r.tag
    ));
    t
}

fn run_json(r: &FakeRun) -> Json {
    let raw = std::fs::read_to_string(fixture("github/workflow-runs-list.json")).expect("fixture");
    let envelope: Json = serde_json::from_str(&raw).expect("json");
    let mut t = envelope["workflow_runs"][0].clone();
    t["id"] = json!(r.id);
    t["name"] = json!(r.name);
    t["path"] = json!(format!(".github/workflows/{}@main", r.file));
    t["head_branch"] = json!(r.branch);
    t["head_sha"] = json!(sha(r.commit));
    t["display_title"] = json!(format!("Run {}", r.id));
    t["status"] = json!(r.outcome.0);
    t["conclusion"] = r.outcome.1.map_or(Json::Null, |c| json!(c));
    t["created_at"] = json!(at(r.hours));
    t["run_started_at"] = json!(at(r.hours));
    t["updated_at"] = json!(at(r.hours + 0.1));
    t
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// A page of `items` per the request's `per_page`/`page`, and the `Link` header.
fn paged(base: &str, uri: &Uri, items: Vec<Json>) -> (Vec<Json>, Option<String>) {
    let per_page: usize = query_param(uri, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let page: usize = query_param(uri, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let start = (page - 1) * per_page;
    let slice: Vec<Json> = items.iter().skip(start).take(per_page).cloned().collect();
    let link = (start + per_page < items.len()).then(|| {
        let pairs: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .extend_pairs(pairs)
            .append_pair("page", &(page + 1).to_string());
        format!("<{base}{}?{}>; rel=\"next\"", uri.path(), query.finish())
    });
    (slice, link)
}

fn route(world: &World, base: &str, uri: &Uri) -> Option<(Json, Option<String>)> {
    let path = uri.path().trim_start_matches('/');
    let rest = path.strip_prefix(&format!("repos/{}/", world.repo))?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["deployments"] => {
            let mut ds = world.deployments.clone();
            ds.sort_by(|a, b| b.hours.total_cmp(&a.hours));
            let items = ds.iter().map(|d| deployment_json(world, d)).collect();
            let (page, link) = paged(base, uri, items);
            Some((Json::Array(page), link))
        }
        ["deployments", id, "statuses"] => {
            let d = world.deployments.iter().find(|d| d.id.to_string() == *id)?;
            let (page, link) = paged(base, uri, statuses_json(d));
            Some((Json::Array(page), link))
        }
        ["compare", basehead] => {
            let (b, h) = basehead.split_once("...")?;
            let (b, h) = (world.by_sha(b)?, world.by_sha(h)?);
            let ahead: BTreeSet<&str> = world
                .reachable(h.name)
                .difference(&world.reachable(b.name))
                .copied()
                .collect();
            let behind = world
                .reachable(b.name)
                .difference(&world.reachable(h.name))
                .count();
            let mut commits: Vec<&FakeCommit> =
                ahead.iter().filter_map(|n| world.commit(n)).collect();
            commits.sort_by(|x, y| x.hours.total_cmp(&y.hours));
            let items = commits
                .iter()
                .map(|c| commit_json(world, c))
                .collect::<Vec<_>>();
            let total = items.len();
            let (page, link) = paged(base, uri, items);
            let mut t = template("compare-commits.json");
            t["status"] = json!(match (total, behind) {
                (0, 0) => "identical",
                (_, 0) => "ahead",
                (0, _) => "behind",
                _ => "diverged",
            });
            t["ahead_by"] = json!(total);
            t["behind_by"] = json!(behind);
            t["total_commits"] = json!(total);
            t["commits"] = Json::Array(page);
            Some((t, link))
        }
        ["releases"] => {
            let mut rs = world.releases.clone();
            rs.sort_by(|a, b| b.hours.total_cmp(&a.hours));
            let (page, link) = paged(base, uri, rs.iter().map(release_json).collect());
            Some((Json::Array(page), link))
        }
        ["commits", reference] => {
            let r = world.releases.iter().find(|r| r.tag == *reference)?;
            let c = world.commit(r.commit)?;
            Some((commit_json(world, c), None))
        }
        ["actions", "runs"] => {
            let mut rs = world.runs.clone();
            rs.sort_by(|a, b| b.hours.total_cmp(&a.hours));
            let items: Vec<Json> = rs.iter().map(run_json).collect();
            let total = items.len();
            let (page, link) = paged(base, uri, items);
            Some((json!({"total_count": total, "workflow_runs": page}), link))
        }
        ["pulls"] => {
            let mut ps = world.pulls.clone();
            ps.sort_by(|a, b| b.updated.total_cmp(&a.updated));
            let (page, link) = paged(base, uri, ps.iter().map(pull_json).collect());
            Some((Json::Array(page), link))
        }
        ["pulls", n, "commits"] => {
            let p = world.pulls.iter().find(|p| p.number.to_string() == *n)?;
            let items = p
                .commits
                .iter()
                .filter_map(|c| world.commit(c))
                .map(|c| commit_json(world, c))
                .collect();
            let (page, link) = paged(base, uri, items);
            Some((Json::Array(page), link))
        }
        _ => None,
    }
}

fn json_response(status: StatusCode, body: &Json) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let conditional = headers.contains_key("if-none-match");
    let user_agent_ok = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("northstar/"));
    let number = {
        let mut log = shared.log.lock().expect("log");
        log.push(Logged {
            target: target.clone(),
            conditional,
            status: 0,
            user_agent_ok,
        });
        log.len()
    };
    let response = answer(&shared, &method, &uri, &headers, &target, number).await;
    if let Some(entry) = shared.log.lock().expect("log").get_mut(number - 1) {
        entry.status = response.status().as_u16();
    }
    response
}

async fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    target: &str,
    number: usize,
) -> Response {
    if *shared.stall_at.lock().expect("stall") == Some(number) {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    let expected = format!("Bearer {}", shared.token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
        );
    }
    if method != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"message": "Not Found"}),
        );
    }
    let fault = {
        let mut faults = shared.faults.lock().expect("faults");
        faults
            .iter()
            .position(|(needle, _)| target.contains(needle.as_str()))
            .map(|i| faults.remove(i).1)
    };
    let base = shared.base.lock().expect("base").clone();
    let routed = {
        let world = shared.world.lock().expect("world");
        route(&world, &base, uri)
    };
    let Some((body, link)) = routed else {
        return json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}));
    };
    let text = body.to_string();
    let etag = format!("\"{}\"", northstar::lake::short_sha256(text.as_bytes(), 16));
    match fault {
        Some(Fault::RateLimit) => {
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("retry-after", "1")
                .body(Body::from(
                    r#"{"message":"You have exceeded a secondary rate limit."}"#,
                ))
                .expect("response");
        }
        Some(Fault::PrimaryRateLimit) => {
            let reset = chrono::Utc::now().timestamp() + 1;
            return Response::builder()
                .status(StatusCode::FORBIDDEN)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset.to_string())
                .body(Body::from(r#"{"message":"API rate limit exceeded"}"#))
                .expect("response");
        }
        Some(Fault::BadGateway) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from("<html>502 Bad Gateway</html>"))
                .expect("response");
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Truncate) => {
            let half = text.as_bytes()[..text.len() / 2].to_vec();
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::other("connection reset by fake")),
            ];
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .expect("response");
        }
        None => {}
    }
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", &etag)
            .body(Body::empty())
            .expect("response");
    }
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("etag", &etag)
        .header("x-ratelimit-remaining", "4999");
    if let Some(link) = link {
        builder = builder.header("link", link);
    }
    builder.body(Body::from(text)).expect("response")
}
