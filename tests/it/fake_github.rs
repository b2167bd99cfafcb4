//! A GitHub REST API stand-in on loopback, serving the vendor's own example
//! payloads (fixtures/github, cloned into several records with new ids, SHAs and
//! dates) over several pages, with `Link` headers, ETags and 304s, bearer-token
//! checks, and injectable faults: 429 with `Retry-After`, 502, a response slower
//! than the client's timeout, a body cut off mid-stream, and a stall that holds a
//! request until the client is killed.

use std::collections::BTreeSet;

use crate::fake_history::{self, FakeCommit};

use axum::http::Uri;
use serde_json::{Value as Json, json};

use crate::fake_server::{Fake, Fault, Routed, Vendor, query_param, query_without_page};
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
            author: "Monalisa Octocat",
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
        fake_history::commit(&self.commits, name)
    }

    fn by_sha(&self, s: &str) -> Option<&FakeCommit> {
        self.commits.iter().find(|c| sha(c.name) == s)
    }

    fn reachable(&self, from: &str) -> BTreeSet<&'static str> {
        fake_history::reachable(&self.commits, from)
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

/// A running fake GitHub.
pub type FakeGithub = Fake<World>;

/// Starts a fake GitHub serving `world`, accepting `Authorization: Bearer <token>`.
pub async fn start(token: &str, world: World) -> FakeGithub {
    let vendor = Vendor {
        authorized: |headers, token| {
            headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some(format!("Bearer {token}").as_str())
        },
        unauthorized: json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
        not_found: json!({"message": "Not Found"}),
        route: |world, base, uri| {
            route(world, base, uri).map(|(body, link)| match link {
                Some(link) => Routed::ok(body).with("link", link),
                None => Routed::ok(body),
            })
        },
        ok_headers: &[("x-ratelimit-remaining", "4999")],
    };
    Fake::start(token, world, vendor).await
}

/// GitHub's secondary rate limit: 429 with `Retry-After: 1`.
pub fn rate_limit() -> Fault {
    Fault::answer(
        429,
        &[("retry-after", "1")],
        r#"{"message":"You have exceeded a secondary rate limit."}"#,
    )
}

/// GitHub's primary rate limit: 403, `x-ratelimit-remaining: 0`, reset 1 s ahead.
pub fn primary_rate_limit() -> Fault {
    Fault::Answer(std::sync::Arc::new(|| {
        let reset = chrono::Utc::now().timestamp() + 1;
        axum::response::Response::builder()
            .status(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
            .body(axum::body::Body::from(
                r#"{"message":"API rate limit exceeded"}"#,
            ))
            .expect("response")
    }))
}

fn template(file: &str) -> Json {
    crate::fake_server::template(&format!("github/{file}"))
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
        let pairs = query_without_page(uri);
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
