//! A GitLab REST API v4 stand-in on loopback, serving the vendor's own example
//! payloads (fixtures/gitlab, cloned into several records with new ids, SHAs and
//! dates) over several pages with GitLab's offset pagination (`x-next-page`,
//! `x-page`, `x-per-page`, `x-total` and, on some endpoints, a `Link` header),
//! `updated_after` windows, ETags and 304s, `PRIVATE-TOKEN` checks, and injectable
//! faults: 429 with only `RateLimit-Reset`, 502, and a body cut off mid-stream.
//!
//! Routes (under `/api/v4/projects/<url-encoded path>/`):
//! - `deployments` (`Link` + `x-*` headers), `deployments/:id/merge_requests`
//!   (`Link` + `x-*`), `merge_requests` (`x-*` only, no `Link`), and
//!   `repository/compare?from=&to=` (one object, not paged).

use std::collections::BTreeSet;

use crate::fake_history::{self, FakeCommit};

use axum::http::{StatusCode, Uri};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value as Json, json};

use crate::fake_server::{Fake, Fault, Routed, Vendor, query_param, query_without_page};

/// Base time of the scenario: 2025-03-01T00:00:00Z.
pub const T0: i64 = 1_740_787_200;

/// The instant `hours` after [`T0`].
pub fn time(hours: f64) -> DateTime<Utc> {
    let t = T0 + (hours * 3600.0).round() as i64;
    DateTime::from_timestamp(t, 0).expect("valid time")
}

/// `hours` after [`T0`] as GitLab writes record times: `2025-03-01T02:06:00.000Z`.
pub fn at(hours: f64) -> String {
    time(hours).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `hours` after [`T0`] as GitLab writes commit dates, in the committer's zone
/// (+02:00): `2025-03-01T03:00:00.000+02:00`.
pub fn local(hours: f64) -> String {
    let zone = FixedOffset::east_opt(2 * 3600).expect("zone");
    time(hours)
        .with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// The 40-hex SHA of a named commit of the scenario.
pub fn sha(name: &str) -> String {
    let digest = northstar::lake::short_sha256(format!("gitlab:{name}").as_bytes(), 20);
    digest[..40].to_string()
}

/// A deployment: times in hours after [`T0`]; `None` where GitLab sends null.
#[derive(Debug, Clone)]
pub struct FakeDeployment {
    pub id: i64,
    pub commit: &'static str,
    pub environment: &'static str,
    /// `environment.tier`, absent on older GitLab versions.
    pub tier: Option<&'static str>,
    /// created | running | success | failed | canceled | blocked.
    pub status: &'static str,
    pub created: f64,
    pub updated: f64,
    /// `deployable.started_at`.
    pub job_started: Option<f64>,
    /// `deployable.finished_at`.
    pub job_finished: Option<f64>,
}

/// A merge request.
#[derive(Debug, Clone)]
pub struct FakeMergeRequest {
    pub iid: i64,
    pub title: &'static str,
    pub source_branch: &'static str,
    /// opened | closed | locked | merged.
    pub state: &'static str,
    pub created: f64,
    pub updated: f64,
    pub merged: Option<f64>,
    /// Head of the source branch (`sha`).
    pub head: &'static str,
    pub merge_commit: Option<&'static str>,
    pub squash_commit: Option<&'static str>,
}

impl FakeMergeRequest {
    /// The commit the merge landed as, as GitLab links merge requests to
    /// deployments: merge commit, else squash commit, else the head (fast-forward).
    fn landed(&self) -> Option<&'static str> {
        (self.state == "merged").then(|| {
            self.merge_commit
                .or(self.squash_commit)
                .unwrap_or(self.head)
        })
    }
}

/// The upstream data, mutable mid-test to simulate changes.
#[derive(Debug, Clone)]
pub struct World {
    /// `group/app`.
    pub project: &'static str,
    pub commits: Vec<FakeCommit>,
    pub deployments: Vec<FakeDeployment>,
    pub merge_requests: Vec<FakeMergeRequest>,
}

impl World {
    /// The scenario the collector tests use (see collect_gitlab.rs for the
    /// expected rows worked out from it).
    pub fn scenario() -> World {
        let c = |name, parents: &[&'static str], hours, author| FakeCommit {
            name,
            parents: parents.to_vec(),
            hours,
            author,
        };
        let d = |id, commit, environment, status, (created, updated), (started, finished)| {
            FakeDeployment {
                id,
                commit,
                environment,
                tier: None,
                status,
                created,
                updated,
                job_started: started,
                job_finished: finished,
            }
        };
        // (id, commit, environment, status, (created, updated), (job started, finished))
        #[rustfmt::skip]
        let deployments = vec![
            d(201, "c2", "production", "success", (2.0, 2.15), (None, Some(2.1))),
            d(202, "c4", "production", "success", (4.0, 4.15), (Some(4.02), Some(4.1))),
            d(203, "c5", "production", "failed", (6.0, 6.05), (Some(6.01), None)),
            d(204, "c6", "production", "success", (9.5, 9.65), (Some(9.52), Some(9.6))),
            d(205, "c7", "production", "running", (9.7, 9.72), (Some(9.72), None)),
            FakeDeployment {
                tier: Some("staging"),
                ..d(206, "c7", "staging", "success", (9.9, 10.0), (Some(9.92), Some(9.95)))
            },
            FakeDeployment {
                tier: Some("production"),
                ..d(207, "c7", "eu-live", "success", (9.8, 9.9), (Some(9.82), Some(9.85)))
            },
        ];
        World {
            project: "group/app",
            commits: vec![
                c("c1", &[], 0.0, "Ada"),
                c("c2", &["c1"], 1.0, "Ada"),
                c("c3", &["c2"], 3.0, "Ada"),
                c("c4", &["c3"], 3.5, "Grace"),
                c("f1", &["c3"], 5.0, "Linus"),
                c("c5", &["c4", "f1"], 5.5, "Grace"),
                c("c6", &["c5"], 7.0, "Ada"),
                c("c7", &["c6"], 9.0, "renovate[bot]"),
            ],
            deployments,
            merge_requests: vec![
                FakeMergeRequest {
                    iid: 11,
                    title: "Cart",
                    source_branch: "feature/cart",
                    state: "merged",
                    created: 4.5,
                    updated: 9.1,
                    merged: Some(5.5),
                    head: "f1",
                    merge_commit: Some("c5"),
                    squash_commit: None,
                },
                FakeMergeRequest {
                    iid: 12,
                    title: "Abandoned idea",
                    source_branch: "feature/abandoned",
                    state: "closed",
                    created: 1.0,
                    updated: 9.0,
                    merged: None,
                    head: "x1",
                    merge_commit: None,
                    squash_commit: None,
                },
                FakeMergeRequest {
                    iid: 13,
                    title: "Login hotfix",
                    source_branch: "hotfix/login",
                    state: "merged",
                    created: 8.5,
                    updated: 9.25,
                    merged: Some(9.2),
                    head: "h1",
                    merge_commit: None,
                    squash_commit: Some("c7"),
                },
                FakeMergeRequest {
                    iid: 14,
                    title: "Typo",
                    source_branch: "docs/typo",
                    state: "merged",
                    created: 2.5,
                    updated: 3.2,
                    merged: Some(3.2),
                    head: "c3",
                    merge_commit: None,
                    squash_commit: None,
                },
            ],
        }
    }

    fn by_sha(&self, s: &str) -> Option<&FakeCommit> {
        self.commits.iter().find(|c| sha(c.name) == s)
    }

    fn reachable(&self, from: &str) -> BTreeSet<&'static str> {
        fake_history::reachable(&self.commits, from)
    }

    /// Commits in `head` and not in `base`, oldest first.
    fn between(&self, base: &str, head: &str) -> Vec<&FakeCommit> {
        fake_history::between(&self.commits, base, head)
    }

    /// The merge requests a deployment shipped: merged ones whose landed commit is
    /// new since the previous successful deployment to the same environment.
    fn deployment_merge_requests(&self, d: &FakeDeployment) -> Vec<&FakeMergeRequest> {
        let previous = self
            .deployments
            .iter()
            .filter(|p| p.environment == d.environment && p.status == "success" && p.id < d.id)
            .max_by_key(|p| p.id);
        let shipped: BTreeSet<&str> = match previous {
            Some(p) => self
                .between(p.commit, d.commit)
                .iter()
                .map(|c| c.name)
                .collect(),
            None => self.reachable(d.commit),
        };
        self.merge_requests
            .iter()
            .filter(|m| m.landed().is_some_and(|l| shipped.contains(l)))
            .collect()
    }
}

/// A running fake GitLab; the API is under `{url}/api/v4`.
pub type FakeGitlab = Fake<World>;

/// Starts a fake GitLab serving `world`, accepting `PRIVATE-TOKEN: <token>`.
pub async fn start(token: &str, world: World) -> FakeGitlab {
    let vendor = Vendor {
        authorized: |headers, token| {
            headers.get("private-token").and_then(|v| v.to_str().ok()) == Some(token)
        },
        unauthorized: json!({"message": "401 Unauthorized"}),
        not_found: json!({"error": "404 Not Found"}),
        route,
        ok_headers: &[("ratelimit-remaining", "599")],
    };
    Fake::start(token, world, vendor).await
}

/// 429 with `RateLimit-Reset` one second ahead (epoch seconds) and no
/// `Retry-After`, as GitLab sometimes answers.
pub fn rate_limit() -> Fault {
    Fault::Answer(std::sync::Arc::new(|| {
        let reset = chrono::Utc::now().timestamp() + 1;
        axum::response::Response::builder()
            .status(429)
            .header("content-type", "text/plain")
            .header("ratelimit-limit", "600")
            .header("ratelimit-observed", "601")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-reset", reset.to_string())
            .body(axum::body::Body::from("Retry later\n"))
            .expect("response")
    }))
}

fn template(file: &str) -> Json {
    crate::fake_server::template(&format!("gitlab/{file}"))
}

fn web(world: &World, rest: &str) -> String {
    format!("https://gitlab.example.com/{}/-/{rest}", world.project)
}

/// A commit as GitLab's compare answers it (documented fields only).
fn commit_json(world: &World, c: &FakeCommit) -> Json {
    let s = sha(c.name);
    let title = format!("Commit {}", c.name);
    json!({
        "id": s,
        "short_id": &s[..8],
        "title": title,
        "message": format!("{title}\n"),
        "author_name": c.author,
        "author_email": format!("{}@example.com", c.author.to_lowercase()),
        "authored_date": local(c.hours),
        "committer_name": c.author,
        "committer_email": format!("{}@example.com", c.author.to_lowercase()),
        "committed_date": local(c.hours + 0.01),
        "parent_ids": c.parents.iter().map(|p| sha(p)).collect::<Vec<_>>(),
        "web_url": web(world, &format!("commit/{s}")),
    })
}

fn deployment_json(world: &World, d: &FakeDeployment) -> Json {
    let mut t = template("deployments-list.json");
    let job_id = d.id * 10;
    t["id"] = json!(d.id);
    t["iid"] = json!(d.id - 200);
    t["ref"] = json!("main");
    t["sha"] = json!(sha(d.commit));
    t["status"] = json!(d.status);
    t["created_at"] = json!(at(d.created));
    t["updated_at"] = json!(at(d.updated));
    let mut env = json!({
        "id": 9,
        "name": d.environment,
        "external_url": format!("https://{}.example.com", d.environment),
    });
    if let Some(tier) = d.tier {
        env["tier"] = json!(tier);
    }
    t["environment"] = env;
    let job = &mut t["deployable"];
    job["id"] = json!(job_id);
    job["status"] = json!(match d.status {
        "running" | "success" | "failed" | "canceled" => d.status,
        _ => "created",
    });
    job["created_at"] = json!(at(d.created - 0.01));
    job["started_at"] = d.job_started.map_or(Json::Null, |h| json!(at(h)));
    job["finished_at"] = d.job_finished.map_or(Json::Null, |h| json!(at(h)));
    job["web_url"] = json!(web(world, &format!("jobs/{job_id}")));
    job["commit"]["id"] = json!(sha(d.commit));
    job["commit"]["short_id"] = json!(&sha(d.commit)[..8]);
    job["pipeline"]["sha"] = json!(sha(d.commit));
    t
}

fn merge_request_json(world: &World, m: &FakeMergeRequest) -> Json {
    let mut t = template("project-merge-requests-list.json");
    t["id"] = json!(1000 + m.iid);
    t["iid"] = json!(m.iid);
    t["title"] = json!(m.title);
    t["state"] = json!(m.state);
    t["source_branch"] = json!(m.source_branch);
    t["target_branch"] = json!("main");
    t["created_at"] = json!(at(m.created));
    t["updated_at"] = json!(at(m.updated));
    t["merged_at"] = m.merged.map_or(Json::Null, |h| json!(at(h)));
    t["closed_at"] = if m.state == "closed" {
        json!(at(m.updated))
    } else {
        Json::Null
    };
    t["sha"] = json!(sha(m.head));
    t["merge_commit_sha"] = m.merge_commit.map_or(Json::Null, |c| json!(sha(c)));
    t["squash_commit_sha"] = m.squash_commit.map_or(Json::Null, |c| json!(sha(c)));
    t["squash"] = json!(m.squash_commit.is_some());
    t["web_url"] = json!(web(world, &format!("merge_requests/{}", m.iid)));
    t["references"]["full"] = json!(format!("{}!{}", world.project, m.iid));
    t
}

fn error(status: StatusCode, message: &str) -> Routed {
    Routed::error(status, json!({ "message": message }))
}

/// A page of `items` per `per_page`/`page`, with GitLab's `x-*` headers and, when
/// `link`, a `Link` header whose URLs put `page` first (as GitLab does), so a test
/// can tell a followed `Link` from an `x-next-page` the client applied itself.
fn paged(base: &str, uri: &Uri, items: Vec<Json>, link: bool) -> Routed {
    let per_page: usize = query_param(uri, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let page: usize = query_param(uri, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let slice: Vec<Json> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let next = (page < pages).then_some(page + 1);
    let mut headers = vec![
        ("x-page", page.to_string()),
        ("x-per-page", per_page.to_string()),
        (
            "x-next-page",
            next.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "x-prev-page",
            if page > 1 {
                (page - 1).to_string()
            } else {
                String::new()
            },
        ),
    ];
    if link {
        headers.push(("x-total", total.to_string()));
        headers.push(("x-total-pages", pages.to_string()));
        let others = query_without_page(uri);
        let page_url = |n: usize| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("page", &n.to_string());
            q.extend_pairs(others.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            format!("{base}{}?{}", uri.path(), q.finish())
        };
        let mut rels = Vec::new();
        if page > 1 {
            rels.push(format!("<{}>; rel=\"prev\"", page_url(page - 1)));
        }
        if let Some(n) = next {
            rels.push(format!("<{}>; rel=\"next\"", page_url(n)));
        }
        rels.push(format!("<{}>; rel=\"first\"", page_url(1)));
        rels.push(format!("<{}>; rel=\"last\"", page_url(pages)));
        headers.push(("link", rels.join(", ")));
    }
    Routed {
        status: StatusCode::OK,
        body: Json::Array(slice),
        headers,
    }
}

/// GitLab's `updated_after` window (inclusive), which it only accepts together
/// with `order_by=updated_at`. `Err` is the answer to send instead.
fn window(uri: &Uri) -> Result<Option<DateTime<Utc>>, Routed> {
    let Some(after) = query_param(uri, "updated_after") else {
        return Ok(None);
    };
    if query_param(uri, "order_by").as_deref() != Some("updated_at") {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "400 Bad request - updated_at filter requires updated_at sort",
        ));
    }
    DateTime::parse_from_rfc3339(&after)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "400 Bad request - updated_after is invalid",
            )
        })
}

fn ascending(uri: &Uri) -> bool {
    query_param(uri, "sort").as_deref() == Some("asc")
}

fn route(world: &World, base: &str, uri: &Uri) -> Option<Routed> {
    let path = uri.path();
    let rest = path.strip_prefix("/api/v4/projects/")?;
    let (project, rest) = rest.split_once('/')?;
    // The project path must arrive as one encoded segment: `group%2Fapp`.
    let encoded = world.project.replace('/', "%2F");
    if !(project == encoded || project == encoded.replace("%2F", "%2f")) {
        return Some(error(StatusCode::NOT_FOUND, "404 Project Not Found"));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["deployments"] => {
            let after = match window(uri) {
                Ok(a) => a,
                Err(e) => return Some(e),
            };
            let mut ds: Vec<&FakeDeployment> = world
                .deployments
                .iter()
                .filter(|d| after.is_none_or(|a| time(d.updated) >= a))
                .collect();
            ds.sort_by(|a, b| a.updated.total_cmp(&b.updated).then(a.id.cmp(&b.id)));
            if !ascending(uri) {
                ds.reverse();
            }
            let items = ds.iter().map(|d| deployment_json(world, d)).collect();
            Some(paged(base, uri, items, true))
        }
        ["deployments", id, "merge_requests"] => {
            let d = world.deployments.iter().find(|d| d.id.to_string() == *id)?;
            let items = world
                .deployment_merge_requests(d)
                .into_iter()
                .map(|m| merge_request_json(world, m))
                .collect();
            Some(paged(base, uri, items, true))
        }
        ["merge_requests"] => {
            let after = match window(uri) {
                Ok(a) => a,
                Err(e) => return Some(e),
            };
            let state = query_param(uri, "state").unwrap_or_else(|| "all".into());
            let mut ms: Vec<&FakeMergeRequest> = world
                .merge_requests
                .iter()
                .filter(|m| state == "all" || m.state == state)
                .filter(|m| after.is_none_or(|a| time(m.updated) >= a))
                .collect();
            ms.sort_by(|a, b| a.updated.total_cmp(&b.updated).then(a.iid.cmp(&b.iid)));
            if !ascending(uri) {
                ms.reverse();
            }
            let items = ms.iter().map(|m| merge_request_json(world, m)).collect();
            // This endpoint pages by `x-next-page` alone: no `Link` header.
            Some(paged(base, uri, items, false))
        }
        ["repository", "compare"] => {
            let from = world.by_sha(&query_param(uri, "from")?)?;
            let to = world.by_sha(&query_param(uri, "to")?)?;
            let commits: Vec<Json> = world
                .between(from.name, to.name)
                .into_iter()
                .map(|c| commit_json(world, c))
                .collect();
            Some(Routed::ok(json!({
                "commit": commits.last().cloned().unwrap_or(Json::Null),
                "commits": commits,
                "diffs": [],
                "compare_timeout": false,
                "compare_same_ref": from.name == to.name,
                "web_url": web(world, &format!("compare/{}...{}", sha(from.name), sha(to.name))),
            })))
        }
        _ => None,
    }
}
