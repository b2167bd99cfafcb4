//! A ServiceNow Table API stand-in on loopback, serving records cloned from
//! fixtures/servicenow (written for this project from the documented fields):
//! `GET /api/now/table/{table}` with `sysparm_query` (`sys_updated_on>=…` and
//! `ORDERBY…`), `sysparm_fields` (only the fields asked for are returned, dot-walked
//! ones included), `sysparm_limit`/`sysparm_offset`, `X-Total-Count`, and a `Link`
//! header on the tables listed in [`World::linked`]. Basic auth is checked; faults
//! come from [`crate::fake_server`].
//!
//! [`Touch`] updates a record right after a table's first page is served, as a
//! user editing it mid-read would: it moves to the end of the `sys_updated_on`
//! order and shifts every later record's offset by one.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::{StatusCode, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

use crate::fake_server::{Fake, Routed, Vendor, query_param};

/// Base time of the scenario: 2025-03-01T00:00:00Z.
pub const T0: i64 = 1_740_787_200;

/// The instant `hours` after [`T0`].
pub fn time(hours: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(T0 + (hours * 3600.0).round() as i64, 0).expect("valid time")
}

/// `hours` after [`T0`] as the Table API writes times: `2025-03-01 02:15:00`.
pub fn sn(hours: f64) -> String {
    time(hours).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A record: field → raw value (dot-walked fields under their dotted name).
pub type Record = BTreeMap<String, String>;

/// An edit applied once, right after the first page of `table` is served.
#[derive(Debug, Clone)]
pub struct Touch {
    pub table: &'static str,
    pub sys_id: String,
    /// Fields set by the edit (`sys_updated_on` among them).
    pub fields: Vec<(&'static str, String)>,
}

/// The upstream data.
#[derive(Debug, Default)]
pub struct World {
    /// Records per table.
    pub tables: Mutex<BTreeMap<&'static str, Vec<Record>>>,
    /// Tables whose pages carry a `Link` header.
    pub linked: Vec<&'static str>,
    /// A pending edit.
    pub touch: Mutex<Option<Touch>>,
}

impl World {
    /// A world of these tables; `linked` tables send `Link` headers.
    pub fn of(tables: Vec<(&'static str, Vec<Record>)>, linked: &[&'static str]) -> World {
        World {
            tables: Mutex::new(tables.into_iter().collect()),
            linked: linked.to_vec(),
            touch: Mutex::new(None),
        }
    }

    /// Sets fields of a stored record.
    pub fn edit(&self, table: &str, sys_id: &str, fields: &[(&'static str, String)]) {
        let mut tables = self.tables.lock().expect("tables");
        let record = tables
            .get_mut(table)
            .and_then(|rs| {
                rs.iter_mut()
                    .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
            })
            .expect("record to edit");
        for (k, v) in fields {
            record.insert((*k).to_string(), v.clone());
        }
    }
}

/// A record of `table` from its fixture template with `fields` set; every other
/// field of the template is blanked, so a record says only what the test gives it.
pub fn record(table: &str, fields: &[(&'static str, String)]) -> Record {
    let file = format!("servicenow/{}-list.json", table.replace('_', "-"));
    let template = crate::fake_server::template(&file);
    let mut out: Record = template["result"][0]
        .as_object()
        .map(|o| o.keys().map(|k| (k.clone(), String::new())).collect())
        .unwrap_or_default();
    for (k, v) in fields {
        out.insert((*k).to_string(), v.clone());
    }
    out
}

/// A running fake ServiceNow.
pub type FakeServicenow = Fake<World>;

/// Starts a fake instance accepting `Authorization: Basic base64(credentials)`,
/// with `credentials` as `user:password`.
pub async fn start(credentials: &str, world: World) -> FakeServicenow {
    let vendor = Vendor {
        authorized: |headers, credentials| {
            let expected = format!("Basic {}", BASE64.encode(credentials));
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
        },
        unauthorized: json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"}),
        not_found: json!({"error": {"message": "Invalid table", "detail": null}, "status": "failure"}),
        route,
        ok_headers: &[],
    };
    Fake::start(credentials, world, vendor).await
}

fn bad_request(message: &str) -> Routed {
    Routed::error(
        StatusCode::BAD_REQUEST,
        json!({"error": {"message": message, "detail": null}, "status": "failure"}),
    )
}

/// `since` from `sys_updated_on>=…`, and whether the order is `sys_updated_on`.
fn parse_query(query: &str) -> (Option<String>, bool) {
    let parts: Vec<&str> = query.split('^').collect();
    let since = parts
        .iter()
        .find_map(|p| p.strip_prefix("sys_updated_on>="))
        .map(str::to_string);
    (since, parts.contains(&"ORDERBYsys_updated_on"))
}

fn link(base: &str, uri: &Uri, offset: usize, rel: &str) -> String {
    let rest: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "sysparm_offset")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("sysparm_offset", &offset.to_string())
        .extend_pairs(rest);
    format!("<{base}{}?{}>;rel=\"{rel}\"", uri.path(), query.finish())
}

fn route(world: &World, base: &str, uri: &Uri) -> Option<Routed> {
    let table = uri.path().strip_prefix("/api/now/table/")?;
    let p = |name: &str| query_param(uri, name);
    if p("sysparm_display_value").as_deref() != Some("false")
        || p("sysparm_exclude_reference_link").as_deref() != Some("true")
    {
        return Some(bad_request(
            "this fake serves raw values without reference links only",
        ));
    }
    let (since, ordered) = parse_query(&p("sysparm_query").unwrap_or_default());
    if !ordered {
        return Some(bad_request("this fake serves ORDERBYsys_updated_on only"));
    }
    let limit: usize = p("sysparm_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let offset: usize = p("sysparm_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fields: Option<Vec<String>> =
        p("sysparm_fields").map(|f| f.split(',').map(str::to_string).collect());
    let mut tables = world.tables.lock().expect("tables");
    let rows = tables.get(table)?;
    let key = |r: &Record, k: &str| r.get(k).cloned().unwrap_or_default();
    let mut picked: Vec<&Record> = rows
        .iter()
        .filter(|r| {
            since
                .as_ref()
                .is_none_or(|s| key(r, "sys_updated_on") >= *s)
        })
        .collect();
    picked.sort_by_key(|r| (key(r, "sys_updated_on"), key(r, "sys_id")));
    let total = picked.len();
    let page: Vec<Json> = picked
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| {
            let shown = r
                .iter()
                .filter(|(k, _)| fields.as_ref().is_none_or(|f| f.contains(k)))
                .map(|(k, v)| (k.clone(), json!(v)));
            Json::Object(shown.collect())
        })
        .collect();
    let mut routed = Routed::ok(json!({ "result": page })).with("x-total-count", total.to_string());
    if world.linked.contains(&table) {
        let last = total.saturating_sub(1) / limit.max(1) * limit.max(1);
        let mut links = vec![link(base, uri, 0, "first")];
        if offset + limit < total {
            links.push(link(base, uri, offset + limit, "next"));
        }
        links.push(link(base, uri, last, "last"));
        routed = routed.with("link", links.join(","));
    }
    let mut touch = world.touch.lock().expect("touch");
    if offset == 0 && touch.as_ref().is_some_and(|t| t.table == table) {
        let edit = touch.take().expect("touch");
        if let Some(r) = tables
            .get_mut(table)
            .and_then(|rs| rs.iter_mut().find(|r| key(r, "sys_id") == edit.sys_id))
        {
            for (k, v) in edit.fields {
                r.insert(k.to_string(), v);
            }
        }
    }
    Some(routed)
}
