//! `GET /api/v1/metrics` and `GET /api/v1/query/{*id}`: `metrics.json` and query
//! rows, scoped to the caller's role before they are serialized.
//!
//! A query id is a metric query of the registry, [`crate::engine::queries`] (`dora/lead_time`), a
//! loaded custom metric (`custom/<name>`) or a scorecard check
//! (`scorecards/<name>`). Query-string pairs bind `$name` exactly as
//! `northstar query --param name=value` does, on top of the parameters
//! `northstar compute` binds for the window (`scope` default `org`, `grain` default
//! `window`; `from`/`to` replace the window). `format=json|csv` picks the output,
//! else the `Accept` header (`text/csv`), else JSON.
//!
//! Access (see [`crate::report::access`]): every row goes through
//! [`Access::scope_rows`]. `scope=service` and the detail queries
//! (`scorecards/*`, `cost/allocation_audit`) are 403 for `executive`; a team sees
//! its own services' rows (and, for the detail queries, its own team's rows).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::RecordBatch;
use datafusion::scalar::ScalarValue;
use serde_json::{Map, Value as Json};

use super::error;
use super::reports::Reports;
use super::snapshot::Snapshot;
use crate::engine::{Params, queries};
use crate::error::Error;
use crate::report::access::{Access, Row};
use crate::report::json::rows;
use crate::window::params_for;

/// Scopes every query accepts; the cost queries also take the cost dimensions.
const SCOPES: &[&str] = &["org", "team", "service"];
const COST_SCOPES: &[&str] = &["provider", "category", "cloud_service"];
const GRAINS: &[&str] = &["window", "day", "week", "month", "quarter", "year"];

/// Queries whose rows are per-service or per-cost-line detail.
fn is_detail(id: &str) -> bool {
    id.starts_with("scorecards/") || id == "cost/allocation_audit"
}

/// An error reply not yet built: its status and message (a 503 also says when to
/// retry).
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(super) fn bad(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403 for a role that may not see `what`.
    pub(super) fn forbidden(access: &Access, what: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("role {} may not read {what}", access.label()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = error(self.status, self.message);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// The current snapshot, or a 503 while the first one is built (or the last build
/// failed).
pub(super) fn snapshot(reports: &Reports) -> Result<Arc<Snapshot>, ApiError> {
    reports.snapshots.current().ok_or_else(|| {
        let message = match reports.snapshots.last_error() {
            Some(e) => format!("metrics are not available: {e}"),
            None => "metrics are being computed; retry shortly".into(),
        };
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    })
}

/// `GET /api/v1/metrics`.
pub(super) async fn metrics(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
) -> Response {
    match snapshot(&reports) {
        Ok(snap) => axum::Json(access.scope_metrics(&snap.metrics, &snap.owners)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/query/{*id}`.
pub(super) async fn query(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    run_query(&reports, &access, &id, raw.as_deref(), &headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run_query(
    reports: &Reports,
    access: &Access,
    id: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let snap = snapshot(reports)?;
    let sql = query_sql(&snap, id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no query `{id}`")))?;
    let pairs = query_pairs(raw);
    let format = output_format(&pairs, headers)?;
    let request = bind(reports, &snap, id, &sql, &pairs)?;
    if *access == Access::Executive && (request.scope == "service" || is_detail(id)) {
        return Err(ApiError::forbidden(access, "service-level rows"));
    }
    let batches = match id.strip_prefix("scorecards/") {
        Some(_) => snap.engine.execute(id, &sql, &request.params).await,
        None => snap.engine.run_query(id, &request.params).await,
    }
    .map_err(|e| query_failed(id, &e, request.user_params))?;
    let columns = columns(&batches);
    let rows = rows(&batches).map_err(|e| query_failed(id, &e, false))?;
    let rows = scope(access, rows, &snap, &request.scope, is_detail(id));
    Ok(match format {
        Format::Json => axum::Json(rows).into_response(),
        Format::Csv => csv_reply(&columns, &rows),
    })
}

/// The SQL of a query id, if it names one.
fn query_sql(snap: &Snapshot, id: &str) -> Option<String> {
    if let Some(name) = id.strip_prefix("scorecards/") {
        return queries::scorecard_sql(name).map(str::to_string);
    }
    if let Some(name) = id.strip_prefix("custom/") {
        return snap
            .engine
            .custom_metrics()
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.sql.clone());
    }
    queries::metric_sql(id).map(str::to_string)
}

/// Decoded query-string pairs, in order.
pub(super) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The last value of `key`.
pub(super) fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn output_format(pairs: &[(String, String)], headers: &HeaderMap) -> Result<Format, ApiError> {
    match pair(pairs, "format") {
        Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::bad(format!(
            "format `{other}`: expected json or csv"
        ))),
        None => {
            let accept = headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Ok(
                if accept.contains("text/csv") && !accept.contains("application/json") {
                    Format::Csv
                } else {
                    Format::Json
                },
            )
        }
    }
}

/// The bound parameters of one request.
struct Bound {
    params: Params,
    scope: String,
    /// Whether the caller bound anything beyond the defaults.
    user_params: bool,
}

/// The window defaults, then the caller's pairs (`format` excepted), validated.
fn bind(
    reports: &Reports,
    snap: &Snapshot,
    id: &str,
    sql: &str,
    pairs: &[(String, String)],
) -> Result<Bound, ApiError> {
    let bad = ApiError::bad;
    let given: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "format")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let user = crate::window::parse_params(&given).map_err(|e| bad(e.to_string()))?;
    let text = |name: &str, default: &str| match user.get(name) {
        None => Ok(default.to_string()),
        Some(ScalarValue::Utf8(Some(s))) => Ok(s.clone()),
        Some(other) => Err(bad(format!("{name}: expected text, got `{other}`"))),
    };
    let scope = text("scope", "org")?;
    let grain = text("grain", "window")?;
    let cost = id.starts_with("cost/") && COST_SCOPES.contains(&scope.as_str());
    if !SCOPES.contains(&scope.as_str()) && !cost {
        return Err(bad(format!(
            "scope `{scope}`: expected one of {}",
            allowed(id)
        )));
    }
    if !GRAINS.contains(&grain.as_str()) {
        return Err(bad(format!(
            "grain `{grain}`: expected one of {}",
            GRAINS.join(", ")
        )));
    }
    for name in user.keys() {
        if !is_identifier(name) {
            return Err(bad(format!("parameter `{name}`: not a parameter name")));
        }
    }
    for name in ["from", "to"] {
        match user.get(name) {
            None | Some(ScalarValue::TimestampMicrosecond(Some(_), _)) => {}
            Some(_) => {
                return Err(bad(format!(
                    "{name}: expected YYYY-MM-DD or an RFC 3339 time"
                )));
            }
        }
    }
    let mut params = params_for(snap.window, &reports.config, &scope, &grain);
    let user_params = !user.is_empty();
    params.extend(user);
    if let Some(missing) = placeholders(sql).find(|p| !params.contains_key(*p)) {
        return Err(bad(format!(
            "query `{id}` needs the parameter `{missing}` (?{missing}=...)"
        )));
    }
    Ok(Bound {
        params,
        scope,
        user_params,
    })
}

fn allowed(id: &str) -> String {
    let mut scopes = SCOPES.to_vec();
    if id.starts_with("cost/") {
        scopes.extend(COST_SCOPES);
    }
    scopes.join(", ")
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `$name` placeholders of `sql`, outside `--` comments.
fn placeholders(sql: &str) -> impl Iterator<Item = &str> {
    sql.lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .flat_map(|code| code.split('$').skip(1))
        .map(|rest| {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|name| is_identifier(name))
}

/// A failed query: the caller's parameters are the likely cause when there are
/// any (400, with the engine's message); otherwise it is the server's (500).
fn query_failed(id: &str, e: &Error, user_params: bool) -> ApiError {
    if user_params {
        return ApiError::bad(e.to_string());
    }
    tracing::warn!(query = id, error = %e, "Query failed.");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("query `{id}` failed"),
    )
}

/// Rows the caller may see ([`Access::scope_query_rows`]). For the detail
/// queries a team also loses other teams' rows.
fn scope(access: &Access, rows: Vec<Row>, snap: &Snapshot, scope: &str, detail: bool) -> Vec<Row> {
    access
        .scope_query_rows(rows, scope, &snap.owners)
        .into_iter()
        .filter(|row| {
            !detail
                || row
                    .get("team")
                    .and_then(Json::as_str)
                    .is_none_or(|team| access.sees_service_of(Some(team)))
        })
        .collect()
}

/// Column names in query order.
fn columns(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default()
}

/// CSV with a header row; text as is, null as an empty field.
fn csv_reply(columns: &[String], rows: &[Map<String, Json>]) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<(), csv::Error> {
        if !columns.is_empty() {
            writer.write_record(columns)?;
        }
        for row in rows {
            writer.write_record(columns.iter().map(|c| match row.get(c) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            }))?;
        }
        writer.flush()?;
        Ok(())
    };
    if let Err(e) = write() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("csv: {e}"));
    }
    match writer.into_inner() {
        Ok(bytes) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("csv: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_comments() {
        let sql = "-- uses $threshold in a comment\nSELECT $from, x < $threshold2 FROM t -- $to\n";
        let found: Vec<&str> = placeholders(sql).collect();
        assert_eq!(found, ["from", "threshold2"]);
        assert!(queries::scorecard_sql("owner_set").is_some_and(|s| placeholders(s).count() == 0));
    }

    #[test]
    fn format_by_parameter_then_accept() {
        let mut headers = HeaderMap::new();
        assert_eq!(output_format(&[], &headers).ok(), Some(Format::Json));
        headers.insert(ACCEPT, HeaderValue::from_static("text/csv"));
        assert_eq!(output_format(&[], &headers).ok(), Some(Format::Csv));
        let json = [("format".to_string(), "json".to_string())];
        assert_eq!(output_format(&json, &headers).ok(), Some(Format::Json));
        let bad = [("format".to_string(), "xml".to_string())];
        assert!(output_format(&bad, &headers).is_err());
    }
}
