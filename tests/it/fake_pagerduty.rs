//! A PagerDuty REST v2 stand-in on loopback, serving records cloned from
//! fixtures/pagerduty (written for this project from the documented field list):
//! `GET /incidents` by creation window with classic pagination and PagerDuty's
//! `offset + limit <= 10 000` cap (a 400 beyond), `GET /incidents/{id}`, and an
//! incident's log entries. It checks the `Token token=` header and the versioned
//! `Accept`, and refuses windows over 180 days; faults come from
//! [`crate::fake_server`], plus PagerDuty's 429 ([`rate_limit`]).
//!
//! A bulk of generated incidents (ids `B00000`…) exercises window splitting without
//! storing thousands of records.

use axum::http::{StatusCode, Uri};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

use crate::fake_server::{Fake, Fault, Routed, Vendor, query_param};

/// Base time of the scenario: 2025-03-01T00:00:00Z.
pub const T0: i64 = 1_740_787_200;

/// The time `hours` after [`T0`].
pub fn time(hours: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(T0 + (hours * 3600.0).round() as i64, 0).expect("valid time")
}

/// ISO form of [`time`].
pub fn at(hours: f64) -> String {
    time(hours).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An incident of the scenario; times are hours after [`T0`].
#[derive(Debug, Clone)]
pub struct FakeIncident {
    pub id: &'static str,
    pub title: &'static str,
    pub service: &'static str,
    pub urgency: &'static str,
    pub priority: Option<&'static str>,
    pub created: f64,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: &'static str,
    /// Acknowledgement log entries.
    pub acks: Vec<f64>,
    /// The incident's `acknowledgements[]` (PagerDuty fills it only while acknowledged).
    pub listed_acks: Vec<f64>,
    pub resolved: Option<f64>,
}

/// Generated incidents: `count` of them from `start`, one every `step_secs`, all
/// still triggered, so the collector reads no log per incident: they are there to
/// exercise paging.
#[derive(Debug, Clone, Copy)]
pub struct Bulk {
    pub count: usize,
    pub start: i64,
    pub step_secs: i64,
}

impl Bulk {
    fn incident(&self, n: usize) -> FakeIncident {
        let created = (self.start - T0 + n as i64 * self.step_secs) as f64 / 3600.0;
        FakeIncident {
            id: "",
            title: "bulk",
            service: "bulk-svc",
            urgency: "low",
            priority: None,
            created,
            status: "triggered",
            acks: Vec::new(),
            listed_acks: Vec::new(),
            resolved: None,
        }
    }

    /// The generated incidents created in `[since, until)`, as (number, incident).
    fn between(&self, since: i64, until: i64) -> impl Iterator<Item = (usize, FakeIncident)> + '_ {
        let first = ((since - self.start).max(0) + self.step_secs - 1) / self.step_secs;
        let first = (first as usize).min(self.count);
        (first..self.count)
            .take_while(move |n| self.start + *n as i64 * self.step_secs < until)
            .map(|n| (n, self.incident(n)))
    }
}

/// The upstream data and server knobs, mutable mid-test.
#[derive(Debug, Clone)]
pub struct World {
    pub incidents: Vec<FakeIncident>,
    pub bulk: Option<Bulk>,
    /// The `offset + limit` cap (PagerDuty documents 10 000).
    pub offset_cap: usize,
    /// Whether `total=true` is answered with the count (else `total` is null).
    pub totals: bool,
    templates: Templates,
}

impl World {
    /// A world of `incidents` with PagerDuty's documented behaviour.
    pub fn of(incidents: Vec<FakeIncident>) -> World {
        World {
            incidents,
            bulk: None,
            offset_cap: 10_000,
            totals: true,
            templates: Templates::load(),
        }
    }
}

/// A running fake PagerDuty.
pub type FakePagerduty = Fake<World>;

/// Starts a fake PagerDuty serving `world`, accepting `Authorization: Token
/// token=<token>` with the versioned `Accept` (anything else is refused as
/// unauthorized, so a missing media type fails loudly).
pub async fn start(token: &str, world: World) -> FakePagerduty {
    let vendor = Vendor {
        authorized: |headers, token| {
            let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            text("authorization") == Some(format!("Token token={token}").as_str())
                && text("accept") == Some("application/vnd.pagerduty+json;version=2")
        },
        unauthorized: json!({"error": {"message": "Unauthorized", "code": 2006}}),
        not_found: json!({"error": {"message": "Not Found", "code": 2100}}),
        route,
        ok_headers: &[("ratelimit-limit", "960"), ("ratelimit-remaining", "959")],
    };
    Fake::start(token, world, vendor).await
}

/// 429 with `ratelimit-reset: 1`: PagerDuty's reset is seconds to wait.
pub fn rate_limit() -> Fault {
    Fault::answer(
        429,
        &[
            ("content-type", "application/json"),
            ("ratelimit-limit", "960"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "1"),
        ],
        r#"{"error":{"message":"Too many requests","code":2020}}"#,
    )
}

fn template(file: &str) -> Json {
    crate::fake_server::template(&format!("pagerduty/{file}"))
}

/// Fixture templates, read once per world.
#[derive(Debug, Clone)]
struct Templates {
    incident: Json,
    log_entries: Vec<Json>,
}

impl Templates {
    fn load() -> Templates {
        let list = template("incidents-list.json");
        let logs = template("log-entries-list.json");
        let log_entries = logs["log_entries"].as_array().cloned().unwrap_or_default();
        Templates {
            incident: list["incidents"][0].clone(),
            log_entries,
        }
    }

    fn log_entry(&self, kind: &str) -> Json {
        self.log_entries
            .iter()
            .find(|e| e["type"] == kind)
            .cloned()
            .unwrap_or_else(|| json!({"type": kind}))
    }
}

fn incident_json(t: &Templates, id: &str, i: &FakeIncident) -> Json {
    let mut j = t.incident.clone();
    j["id"] = json!(id);
    j["title"] = json!(i.title);
    j["summary"] = json!(format!("[{id}] {}", i.title));
    j["self"] = json!(format!("https://api.pagerduty.com/incidents/{id}"));
    j["status"] = json!(i.status);
    j["urgency"] = json!(i.urgency);
    j["priority"] = i.priority.map_or(
        Json::Null,
        |p| json!({"id": format!("PR{p}"), "type": "priority_reference", "summary": p}),
    );
    j["service"] = json!({"id": format!("S-{}", i.service), "type": "service_reference", "summary": i.service});
    j["created_at"] = json!(at(i.created));
    j["acknowledgements"] = json!(
        i.listed_acks
            .iter()
            .map(|a| json!({"at": at(*a), "acknowledger": {"id": "PUSER01", "type": "user_reference"}}))
            .collect::<Vec<_>>()
    );
    let last = i
        .resolved
        .or(i.listed_acks.last().copied())
        .unwrap_or(i.created);
    j["resolved_at"] = i.resolved.map_or(Json::Null, |r| json!(at(r)));
    j["last_status_change_at"] = json!(at(last));
    j["updated_at"] = json!(at(last));
    j
}

/// Log entries newest first (the collector must not rely on their order).
fn log_entries_json(t: &Templates, id: &str, i: &FakeIncident) -> Vec<Json> {
    let mut entries = vec![(i.created, t.log_entry("trigger_log_entry"))];
    entries.push((i.created + 0.01, t.log_entry("notify_log_entry")));
    entries.extend(
        i.acks
            .iter()
            .map(|a| (*a, t.log_entry("acknowledge_log_entry"))),
    );
    entries.extend(i.resolved.map(|r| (r, t.log_entry("resolve_log_entry"))));
    entries.sort_by(|a, b| b.0.total_cmp(&a.0));
    entries
        .into_iter()
        .enumerate()
        .map(|(n, (hours, mut e))| {
            e["id"] = json!(format!("RLOG-{id}-{n}"));
            e["created_at"] = json!(at(hours));
            e["incident"] = json!({"id": id, "type": "incident_reference"});
            e
        })
        .collect()
}

fn epoch(uri: &Uri, name: &str) -> Option<i64> {
    let text = query_param(uri, name)?;
    Some(text.parse::<DateTime<Utc>>().ok()?.timestamp())
}

fn bad_request(message: &str) -> Routed {
    Routed::error(
        StatusCode::BAD_REQUEST,
        json!({"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [message]}}),
    )
}

/// One page of `items` per `limit`/`offset`, in PagerDuty's envelope.
fn page(uri: &Uri, key: &str, items: Vec<Json>, total: Option<usize>) -> Json {
    let limit: usize = query_param(uri, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let offset: usize = query_param(uri, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let more = offset + limit < items.len();
    let slice: Vec<Json> = items.into_iter().skip(offset).take(limit).collect();
    json!({key: slice, "limit": limit, "offset": offset, "more": more, "total": total})
}

/// Finds an incident by id: a scenario one, or a generated `B<number>`.
fn find(world: &World, id: &str) -> Option<FakeIncident> {
    if let Some(i) = world.incidents.iter().find(|i| i.id == id) {
        return Some(i.clone());
    }
    let bulk = world.bulk?;
    let n: usize = id.strip_prefix('B')?.parse().ok()?;
    (n < bulk.count).then(|| bulk.incident(n))
}

fn list_incidents(world: &World, uri: &Uri) -> Routed {
    let (Some(since), Some(until)) = (epoch(uri, "since"), epoch(uri, "until")) else {
        return bad_request("since and until are required by this fake");
    };
    if until - since > 180 * 86_400 {
        return bad_request("The date range must be at most 6 months");
    }
    if query_param(uri, "sort_by").as_deref() != Some("created_at:asc") {
        return bad_request("this fake serves created_at:asc only");
    }
    let limit: usize = query_param(uri, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let offset: usize = query_param(uri, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if offset + limit > world.offset_cap {
        return Routed::error(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": format!("Offset must be less than {}", world.offset_cap), "code": 2001}}),
        );
    }
    let mut picked: Vec<(i64, String, FakeIncident)> = world
        .incidents
        .iter()
        .filter(|i| (since..until).contains(&time(i.created).timestamp()))
        .map(|i| (time(i.created).timestamp(), i.id.to_string(), i.clone()))
        .collect();
    if let Some(bulk) = world.bulk {
        picked.extend(
            bulk.between(since, until)
                .map(|(n, i)| (time(i.created).timestamp(), format!("B{n:05}"), i)),
        );
    }
    picked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let total = (world.totals && query_param(uri, "total").as_deref() == Some("true"))
        .then_some(picked.len());
    // Only the requested page is rendered.
    let window: Vec<Json> = picked
        .iter()
        .enumerate()
        .map(|(n, (_, id, i))| {
            if n >= offset && n < offset + limit {
                incident_json(&world.templates, id, i)
            } else {
                Json::Null
            }
        })
        .collect();
    Routed::ok(page(uri, "incidents", window, total))
}

fn route(world: &World, _base: &str, uri: &Uri) -> Option<Routed> {
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let t = &world.templates;
    match parts.as_slice() {
        ["incidents"] => Some(list_incidents(world, uri)),
        ["incidents", id] => {
            let i = find(world, id)?;
            Some(Routed::ok(json!({"incident": incident_json(t, id, &i)})))
        }
        ["incidents", id, "log_entries"] => {
            let i = find(world, id)?;
            let items = log_entries_json(t, id, &i);
            Some(Routed::ok(page(uri, "log_entries", items, None)))
        }
        _ => None,
    }
}
