//! A Jira Cloud + Jira Service Management stand-in on loopback, serving the
//! vendor's own example payloads (fixtures/jira: the `search/jql` issue and the
//! changelog entry, cloned into several issues and change groups with new keys,
//! dates and statuses) with Jira's paging: `search/jql` by an opaque
//! `nextPageToken` (no `total`; the last page has `isLast: true` and no token),
//! changelogs by `startAt` with a server-side cap of 2 entries per page whatever
//! `maxResults` asks. It answers in the token user's zone (+10:00) as Jira does,
//! reads JQL dates in that zone too, returns only the fields the search names,
//! checks `Authorization: Basic base64(email:token)`, and takes the shared faults
//! (fake_server.rs).
//!
//! The status list and the JSM SLA answers have no vendor example; they follow the
//! shapes in Atlassian's REST documentation.
//!
//! The search token encodes an offset into the `updated`-ordered result, the
//! worst case for a reader: an issue updated between pages moves to the end and
//! shifts the next page past one issue.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{StatusCode, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::{Value as Json, json};

use crate::fake_server::{Fake, Fault, Routed, Vendor, query_param};

/// Base time of the scenario: 2025-03-01T00:00:00Z.
pub const T0: i64 = 1_740_787_200;

/// The offset of the token user's time zone (Australia/Sydney in summer).
pub const ZONE_HOURS: i32 = 10;

/// Change groups per changelog page, whatever the client asks.
const CHANGELOG_CAP: usize = 2;

/// The instant `hours` after [`T0`].
pub fn time(hours: f64) -> DateTime<Utc> {
    let t = T0 + (hours * 3600.0).round() as i64;
    DateTime::from_timestamp(t, 0).expect("valid time")
}

fn zone() -> FixedOffset {
    FixedOffset::east_opt(ZONE_HOURS * 3600).expect("zone")
}

/// `hours` after [`T0`] as Jira writes it, in the user's zone with no colon in the
/// offset: `2025-03-01T10:00:00.000+1000`.
pub fn at(hours: f64) -> String {
    time(hours)
        .with_timezone(&zone())
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

/// The 40-hex SHA of a named commit of the scenario.
pub fn sha(name: &str) -> String {
    let digest = northstar::lake::short_sha256(format!("jira:{name}").as_bytes(), 20);
    digest[..40].to_string()
}

/// An issue; times in hours after [`T0`].
#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub key: &'static str,
    pub id: u64,
    pub issue_type: &'static str,
    pub summary: &'static str,
    /// Text of the description, sent as Atlassian Document Format.
    pub description: Option<String>,
    pub status: &'static str,
    /// The category the issue's current status carries.
    pub status_category: &'static str,
    pub priority: Option<&'static str>,
    pub labels: Vec<&'static str>,
    pub components: Vec<&'static str>,
    pub created: f64,
    pub updated: f64,
    pub resolved: Option<f64>,
    /// Custom field id → value, as the site sends it.
    pub custom: Vec<(&'static str, Json)>,
    /// Status changes: (hours, from, to).
    pub history: Vec<(f64, &'static str, &'static str)>,
    /// JSM: `None` is no request (404); `Some(None)` an SLA still running;
    /// `Some(Some(h))` "Time to first response" stopped at h.
    pub first_response: Option<Option<f64>>,
}

impl FakeIssue {
    fn project(&self) -> &'static str {
        self.key.split('-').next().unwrap_or_default()
    }
}

/// The upstream data, mutable mid-test.
#[derive(Debug)]
pub struct World {
    /// The JQL the collector is configured with.
    pub jql: &'static str,
    pub issues: Vec<FakeIssue>,
    /// The site's statuses: (name, category key).
    pub statuses: Vec<(&'static str, &'static str)>,
    /// Replaces the issue with the same key once the first search page is
    /// answered: an issue updated while the collector pages.
    pub change_after_first_page: Option<FakeIssue>,
    changed: AtomicBool,
}

fn request_type(name: &str) -> Json {
    json!({
        "_links": {"jiraRest": "https://your-domain.atlassian.net/rest/api/2/issue/10010"},
        "requestType": {"id": "12", "name": name, "description": "", "serviceDeskId": "1"},
        "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW"}
    })
}

impl World {
    /// The scenario the collector tests use (collect_jira.rs works out the rows).
    pub fn scenario() -> World {
        let issue =
            |key, id, issue_type, summary, (status, category), (created, updated)| FakeIssue {
                key,
                id,
                issue_type,
                summary,
                description: None,
                status,
                status_category: category,
                priority: Some("Medium"),
                labels: Vec::new(),
                components: Vec::new(),
                created,
                updated,
                resolved: None,
                custom: Vec::new(),
                history: Vec::new(),
                first_response: None,
            };
        let issues = vec![
            FakeIssue {
                labels: vec!["team-platform", "env"],
                resolved: Some(6.0),
                custom: vec![
                    (
                        "customfield_10010",
                        request_type("New environment (staging)"),
                    ),
                    (
                        "customfield_10060",
                        json!({"self": "https://your-domain.atlassian.net/rest/api/3/customFieldOption/10101", "value": "payments", "id": "10101"}),
                    ),
                ],
                history: vec![
                    (2.0, "Waiting for support", "In Progress"),
                    (3.0, "In Progress", "Waiting for customer"),
                    (5.0, "Waiting for customer", "In Progress"),
                    (5.5, "In Progress", "Waiting for customer"),
                    (5.75, "Waiting for customer", "In Progress"),
                    (6.0, "In Progress", "Resolved"),
                ],
                first_response: Some(Some(1.5)),
                ..issue(
                    "HELP-1",
                    10001,
                    "Service Request",
                    "Staging environment for payments",
                    ("Resolved", "done"),
                    (0.0, 6.0),
                )
            },
            FakeIssue {
                priority: Some("High"),
                labels: vec!["db-readonly", "team-data"],
                custom: vec![("customfield_10010", json!({"name": "Access request"}))],
                history: vec![
                    (4.0, "Waiting for support", "Triage"),
                    (4.5, "Triage", "In Progress"),
                ],
                first_response: Some(None),
                ..issue(
                    "HELP-2",
                    10002,
                    "Service Request",
                    "Read access to orders DB",
                    ("In Progress", "indeterminate"),
                    (1.0, 4.5),
                )
            },
            FakeIssue {
                priority: Some("Low"),
                labels: vec!["team-platform"],
                components: vec!["Checkout"],
                custom: vec![("customfield_10010", Json::Null)],
                history: vec![(8.0, "Open", "In Progress"), (9.0, "In Progress", "Review")],
                ..issue(
                    "OPS-5",
                    10005,
                    "Task",
                    "Rotate TLS certificates",
                    ("Review", "indeterminate"),
                    (7.0, 9.0),
                )
            },
            FakeIssue {
                history: vec![(9.5, "Open", "In Progress")],
                ..issue(
                    "OPS-4",
                    10004,
                    "Bug",
                    "Typo on the status page",
                    ("In Progress", "indeterminate"),
                    (9.0, 10.0),
                )
            },
            FakeIssue {
                priority: Some("Highest"),
                components: vec!["Checkout"],
                resolved: Some(14.0),
                custom: vec![("customfield_10070", json!("gh:acme/checkout:2"))],
                history: vec![
                    (12.25, "Open", "Investigating"),
                    (14.0, "Investigating", "Resolved"),
                ],
                ..issue(
                    "OPS-1",
                    10011,
                    "Incident",
                    "Checkout errors after deploy",
                    ("Resolved", "done"),
                    (12.0, 14.0),
                )
            },
            FakeIssue {
                priority: Some("High"),
                components: vec!["Payments"],
                description: Some(format!("p95 latency doubled after {} went out.", sha("p1"))),
                resolved: Some(33.0),
                custom: vec![("customfield_10070", Json::Null)],
                history: vec![
                    (30.5, "Open", "Investigating"),
                    (33.0, "Investigating", "Resolved"),
                ],
                ..issue(
                    "OPS-2",
                    10012,
                    "Incident",
                    "Payments latency",
                    ("Resolved", "done"),
                    (30.0, 33.0),
                )
            },
            FakeIssue {
                components: vec!["Checkout"],
                history: vec![(50.2, "Open", "Investigating")],
                ..issue(
                    "OPS-3",
                    10013,
                    "Incident",
                    "Checkout 500s",
                    ("Investigating", "indeterminate"),
                    (50.0, 50.5),
                )
            },
        ];
        World {
            jql: "project in (OPS, HELP)",
            issues,
            statuses: vec![
                ("Open", "new"),
                ("Waiting for support", "new"),
                ("In Progress", "indeterminate"),
                ("Investigating", "indeterminate"),
                ("Waiting for customer", "indeterminate"),
                ("Resolved", "done"),
                ("Done", "done"),
                // A company-managed "Review" is done; OPS-5's team-managed one is not.
                ("Review", "done"),
            ],
            change_after_first_page: None,
            changed: AtomicBool::new(false),
        }
    }

    /// The issue with this key.
    pub fn issue_mut(&mut self, key: &str) -> &mut FakeIssue {
        self.issues
            .iter_mut()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("no issue {key}"))
    }

    /// The issues as they are now (the pending change applied once triggered).
    fn current(&self) -> Vec<FakeIssue> {
        let mut issues = self.issues.clone();
        if self.changed.load(Ordering::SeqCst)
            && let Some(change) = &self.change_after_first_page
            && let Some(slot) = issues.iter_mut().find(|i| i.key == change.key)
        {
            *slot = change.clone();
        }
        issues
    }
}

/// A running fake Jira; the site is `{url}`.
pub type FakeJira = Fake<World>;

/// Starts a fake Jira serving `world` to `email` with `api_token`.
pub async fn start(email: &str, api_token: &str, world: World) -> FakeJira {
    let vendor = Vendor {
        authorized: |headers, credentials| {
            let want = format!("Basic {}", BASE64.encode(credentials));
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(want.as_str())
        },
        unauthorized: json!({"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}),
        not_found: json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
        route,
        ok_headers: &[("x-arequestid", "fake")],
    };
    Fake::start(&format!("{email}:{api_token}"), world, vendor).await
}

/// 429 with `Retry-After: 1`, as Jira Cloud's rate limiter answers.
pub fn rate_limit() -> Fault {
    Fault::answer(
        429,
        &[
            ("retry-after", "1"),
            ("content-type", "application/json"),
            ("x-ratelimit-reason", "jira-quota-tenant-based"),
        ],
        r#"{"errorMessages":["Rate limit exceeded."]}"#,
    )
}

/// 503 with an HTML body, as Atlassian's edge answers during an incident.
pub fn unavailable() -> Fault {
    Fault::answer(
        503,
        &[("content-type", "text/html")],
        "<html>503 Service Unavailable</html>",
    )
}

fn template(file: &str) -> Json {
    crate::fake_server::template(&format!("jira/{file}"))
}

fn site(rest: &str) -> String {
    format!("https://your-domain.atlassian.net/{rest}")
}

fn adf(text: &str) -> Json {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

fn status_json(name: &str, category: &str) -> Json {
    json!({
        "self": site(&format!("rest/api/3/status/{}", name.len())),
        "name": name,
        "id": name.len().to_string(),
        "statusCategory": {"key": category, "name": category, "colorName": "blue-gray", "id": 2}
    })
}

/// An issue as the search returns it, with only the `requested` fields.
fn issue_json(i: &FakeIssue, requested: &[&str]) -> Json {
    let mut t = template("search-jql.json")["issues"][0].clone();
    let reporter = t["fields"]["comment"][0]["author"].clone();
    t["id"] = json!(i.id.to_string());
    t["key"] = json!(i.key);
    t["self"] = json!(site(&format!("rest/api/3/issue/{}", i.id)));
    let f = &mut t["fields"];
    f["summary"] = json!(i.summary);
    f["issuetype"] = json!({"self": site("rest/api/3/issuetype/1"), "id": "1", "name": i.issue_type, "subtask": false});
    f["status"] = status_json(i.status, i.status_category);
    f["priority"] = i
        .priority
        .map_or(Json::Null, |p| json!({"name": p, "id": "3"}));
    f["labels"] = json!(i.labels);
    f["components"] = json!(
        i.components
            .iter()
            .map(|c| json!({"self": site("rest/api/3/component/1"), "id": "1", "name": c}))
            .collect::<Vec<_>>()
    );
    f["created"] = json!(at(i.created));
    f["updated"] = json!(at(i.updated));
    f["resolutiondate"] = i.resolved.map_or(Json::Null, |h| json!(at(h)));
    f["project"]["key"] = json!(i.project());
    f["assignee"] = Json::Null;
    f["reporter"] = reporter;
    f["description"] = i.description.as_deref().map_or(Json::Null, adf);
    for (id, value) in &i.custom {
        f[*id] = value.clone();
    }
    if let Some(fields) = f.as_object_mut() {
        fields.retain(|k, _| requested.contains(&k.as_str()));
    }
    t
}

/// An issue's change groups, oldest first: a label change from the vendor example
/// just after creation, then one group per status change.
fn histories(i: &FakeIssue) -> Vec<Json> {
    let t = template("issue-changelog.json")["values"][0].clone();
    let mut groups = vec![{
        let mut g = t.clone();
        g["id"] = json!(format!("{}0", i.id));
        g["created"] = json!(at(i.created + 0.1));
        g
    }];
    for (n, (hours, from, to)) in i.history.iter().enumerate() {
        let mut g = t.clone();
        g["id"] = json!(format!("{}{}", i.id, n + 1));
        g["created"] = json!(at(*hours));
        g["items"] = json!([{
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": "1", "fromString": from, "to": "3", "toString": to
        }]);
        groups.push(g);
    }
    groups
}

fn changelog(i: &FakeIssue, uri: &Uri) -> Json {
    let start: usize = query_param(uri, "startAt")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let asked: usize = query_param(uri, "maxResults")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let max = asked.clamp(1, CHANGELOG_CAP);
    let all = histories(i);
    let total = all.len();
    let values: Vec<Json> = all.into_iter().skip(start).take(max).collect();
    let is_last = start + values.len() >= total;
    let mut page = template("issue-changelog.json");
    let path = format!("rest/api/3/issue/{}/changelog", i.key);
    page["self"] = json!(site(&format!("{path}?startAt={start}&maxResults={max}")));
    page["nextPage"] = if is_last {
        Json::Null
    } else {
        json!(site(&format!(
            "{path}?startAt={}&maxResults={max}",
            start + max
        )))
    };
    page["startAt"] = json!(start);
    page["maxResults"] = json!(max);
    page["total"] = json!(total);
    page["isLast"] = json!(is_last);
    page["values"] = Json::Array(values);
    page
}

fn jsm_date(hours: f64) -> Json {
    json!({
        "iso8601": time(hours).with_timezone(&zone()).format("%Y-%m-%dT%H:%M:%S%z").to_string(),
        "jira": at(hours),
        "friendly": "Today 10:00 AM",
        "epochMillis": time(hours).timestamp_millis()
    })
}

/// JSM's SLA list: "Time to resolution" first (a reader must pick by name).
fn sla(i: &FakeIssue, stopped: Option<f64>) -> Json {
    let cycle = |start: f64, stop: f64| {
        json!({
            "startTime": jsm_date(start), "stopTime": jsm_date(stop), "breached": false,
            "goalDuration": {"millis": 14_400_000, "friendly": "4h"},
            "elapsedTime": {"millis": ((stop - start) * 3_600_000.0) as i64, "friendly": "…"},
            "remainingTime": {"millis": 0, "friendly": "0m"}
        })
    };
    let resolution = match i.resolved {
        Some(r) => {
            json!({"id": "2", "name": "Time to resolution", "completedCycles": [cycle(i.created, r)]})
        }
        None => {
            json!({"id": "2", "name": "Time to resolution", "completedCycles": [], "ongoingCycle": {"startTime": jsm_date(i.created), "breached": false, "paused": false, "withinCalendarHours": true}})
        }
    };
    let first = match stopped {
        Some(s) => {
            json!({"id": "1", "name": "Time to first response", "completedCycles": [cycle(i.created, s)]})
        }
        None => {
            json!({"id": "1", "name": "Time to first response", "completedCycles": [], "ongoingCycle": {"startTime": jsm_date(i.created), "breached": true, "paused": false, "withinCalendarHours": true}})
        }
    };
    json!({"size": 2, "start": 0, "limit": 50, "isLastPage": true, "values": [resolution, first]})
}

fn bad_request(message: &str) -> Routed {
    Routed::error(
        StatusCode::BAD_REQUEST,
        json!({"errorMessages": [message], "warningMessages": []}),
    )
}

/// The window the JQL asks for: `Err` is the answer to send instead. Dates are
/// read in the user's zone, to the minute.
fn window(world: &World, jql: &str) -> Result<Option<DateTime<Utc>>, Routed> {
    let Some(rest) = jql.strip_suffix(" ORDER BY updated ASC") else {
        return Err(bad_request("the fake expects ORDER BY updated ASC"));
    };
    let (base, after) = match rest.split_once(" AND updated >= \"") {
        Some((b, a)) => (b, Some(a.strip_suffix('"').unwrap_or(a))),
        None => (rest, None),
    };
    if base != format!("({})", world.jql) {
        return Err(bad_request(&format!("unexpected JQL {base}")));
    }
    let Some(after) = after else { return Ok(None) };
    NaiveDateTime::parse_from_str(after, "%Y-%m-%d %H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(zone()).single())
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| {
            bad_request(&format!(
                "Date value '{after}' for field 'updated' is invalid."
            ))
        })
}

/// The opaque page token for an offset.
pub fn page_token(offset: usize) -> String {
    BASE64.encode(format!("fake-cursor:{offset}"))
}

fn offset(token: &str) -> Option<usize> {
    let text = String::from_utf8(BASE64.decode(token).ok()?).ok()?;
    text.strip_prefix("fake-cursor:")?.parse().ok()
}

fn search(world: &World, uri: &Uri) -> Routed {
    let jql = query_param(uri, "jql").unwrap_or_default();
    let after = match window(world, &jql) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let start = match query_param(uri, "nextPageToken") {
        None => 0,
        Some(t) => match offset(&t) {
            Some(o) => o,
            None => return bad_request("Invalid nextPageToken"),
        },
    };
    let requested_text = query_param(uri, "fields").unwrap_or_else(|| "id".into());
    let requested: Vec<&str> = requested_text.split(',').collect();
    let max: usize = query_param(uri, "maxResults")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let mut issues: Vec<FakeIssue> = world
        .current()
        .into_iter()
        .filter(|i| after.is_none_or(|a| time(i.updated) >= a))
        .collect();
    issues.sort_by(|a, b| a.updated.total_cmp(&b.updated).then(a.key.cmp(b.key)));
    let total = issues.len();
    let page: Vec<Json> = issues
        .iter()
        .skip(start)
        .take(max)
        .map(|i| issue_json(i, &requested))
        .collect();
    if start == 0 && world.change_after_first_page.is_some() {
        world.changed.store(true, Ordering::SeqCst);
    }
    let mut body = template("search-jql.json");
    body["issues"] = Json::Array(page);
    let is_last = start + max >= total;
    body["isLast"] = json!(is_last);
    if !is_last {
        body["nextPageToken"] = json!(page_token(start + max));
    }
    Routed::ok(body)
}

fn route(world: &World, _base: &str, uri: &Uri) -> Option<Routed> {
    let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["rest", "api", "3", "status"] => Some(Routed::ok(Json::Array(
            world
                .statuses
                .iter()
                .map(|(n, c)| status_json(n, c))
                .collect(),
        ))),
        ["rest", "api", "3", "search", "jql"] => Some(search(world, uri)),
        ["rest", "api", "3", "issue", key, "changelog"] => {
            let issues = world.current();
            let issue = issues.iter().find(|i| i.key == *key)?;
            Some(Routed::ok(changelog(issue, uri)))
        }
        ["rest", "servicedeskapi", "request", key, "sla"] => {
            let issues = world.current();
            let issue = issues.iter().find(|i| i.key == *key)?;
            match issue.first_response {
                Some(stopped) => Some(Routed::ok(sla(issue, stopped))),
                None => Some(Routed::error(
                    StatusCode::NOT_FOUND,
                    json!({"errorMessage": "The request could not be found.", "i18nErrorMessage": {"i18nKey": "sd.request.not.found", "parameters": []}}),
                )),
            }
        }
        _ => None,
    }
}
