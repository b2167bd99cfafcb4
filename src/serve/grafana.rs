//! `GET /api/v1/grafana/{series}`: time series from `metrics.json` as one flat JSON
//! array of objects with an ISO 8601 `time`, the shape Grafana's Infinity data
//! source reads without any parsing options.
//!
//! ```text
//! /api/v1/grafana/dora?grain=month&scope=team&metric=lead_time&field=median_hours
//!   → [{"time":"2025-11-01T00:00:00Z","team":"checkout","value":18.9,"n":1998}, ...]
//! /api/v1/grafana/cost?scope=team&field=effective_cost
//!   → [{"time":"2025-11-01T00:00:00Z","team":"checkout","currency":"EUR","value":812.4}, ...]
//! ```
//!
//! `dora` reads `dora.series.<grain>.<org|teams|services>`: `grain` week or month
//! (default month), `scope` org, team or service (default org), `metric` one of
//! the DORA metrics (`queries/dora/`; default `deployment_frequency`), `field` any
//! figure of it (default its `-- headline:`: `per_day`, `median_hours` or `rate`). `cost` reads
//! `cost.org.months` or `cost.teams.*.months` (`scope` org or team), `field` any
//! monthly figure (default `effective_cost`); `time` is the first of the month.
//! A figure with no sample is `"value": null` (a gap in the graph).
//!
//! Access as for the query API: `scope=service` is 403 for `executive`, and a team
//! gets only its own services.
//!
//! Grafana setup: add an Infinity data source with the server's URL and, under
//! authentication, a Bearer token. In a panel choose type JSON, source URL,
//! format "Time series" or "Table", the URL above, no root selector (rows are the
//! top-level array), and the columns `time` (type Timestamp, ISO 8601), `value`
//! (Number) and `team` or `service` (String) for the series name.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

use super::api::{ApiError, pair, query_pairs, snapshot};
use super::reports::Reports;
use crate::engine::queries;
use crate::report::access::Access;

/// `GET /api/v1/grafana/{series}`.
pub(super) async fn series(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
    Path(series): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    match rows(&reports, &access, &series, raw.as_deref()) {
        Ok(rows) => axum::Json(rows).into_response(),
        Err(e) => e.into_response(),
    }
}

fn rows(
    reports: &Reports,
    access: &Access,
    series: &str,
    raw: Option<&str>,
) -> Result<Vec<Json>, ApiError> {
    if !["dora", "cost"].contains(&series) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no series `{series}` (known: dora, cost)"),
        ));
    }
    let pairs = query_pairs(raw);
    let get = |key: &str, default: &str| pair(&pairs, key).unwrap_or(default).to_string();
    let scope = get("scope", "org");
    if !["org", "team", "service"].contains(&scope.as_str()) {
        return Err(ApiError::bad(format!(
            "scope `{scope}`: expected org, team or service"
        )));
    }
    if scope == "service" && *access == Access::Executive {
        return Err(ApiError::forbidden(access, "service-level series"));
    }
    let snap = snapshot(reports)?;
    let doc = access.scope_metrics(&snap.metrics, &snap.owners);
    if series == "cost" {
        if scope == "service" {
            return Err(ApiError::bad("cost series are per org or team".into()));
        }
        return Ok(cost(&doc, &scope, &get("field", "effective_cost")));
    }
    let metric = get("metric", "deployment_frequency");
    // Every query of `queries/dora/` is a metric; its `-- headline:` the default field.
    let dora_queries = || queries::folder("dora");
    let Some(default_field) = dora_queries()
        .find(|q| q.name == metric)
        .and_then(|q| q.get("headline"))
    else {
        let known: Vec<&str> = dora_queries().map(|q| q.name).collect();
        return Err(ApiError::bad(format!(
            "metric `{metric}`: expected one of {}",
            known.join(", ")
        )));
    };
    let field = get("field", default_field);
    let grain = get("grain", "month");
    if !["week", "month"].contains(&grain.as_str()) {
        return Err(ApiError::bad(format!(
            "grain `{grain}`: expected week or month"
        )));
    }
    Ok(dora(&doc, &grain, &scope, &metric, &field))
}

/// Rows of `dora.series.<grain>.<scope>` for one metric field.
fn dora(doc: &Json, grain: &str, scope: &str, metric: &str, field: &str) -> Vec<Json> {
    let series = &doc["dora"]["series"][grain];
    let groups: Vec<(Option<&str>, &Json)> = match scope {
        "org" => vec![(None, &series["org"])],
        plural => series[format!("{plural}s").as_str()]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (Some(k.as_str()), v)).collect())
            .unwrap_or_default(),
    };
    let mut out = Vec::new();
    for (key, points) in groups {
        for point in points.as_array().into_iter().flatten() {
            let Some(time) = point["period_start"].as_str().and_then(iso_time) else {
                continue;
            };
            let figures = &point[metric];
            let mut row = Map::new();
            row.insert("time".into(), Json::String(time));
            if let Some(key) = key {
                row.insert(scope.into(), Json::String(key.to_string()));
            }
            row.insert(
                "value".into(),
                figures.get(field).cloned().unwrap_or(Json::Null),
            );
            row.insert("n".into(), figures.get("n").cloned().unwrap_or(Json::Null));
            out.push(Json::Object(row));
        }
    }
    out
}

/// Rows of `cost.org.months` or `cost.teams.*.months` for one figure.
fn cost(doc: &Json, scope: &str, field: &str) -> Vec<Json> {
    let groups: Vec<(Option<&str>, &Json)> = match scope {
        "org" => vec![(None, &doc["cost"]["org"])],
        _ => doc["cost"]["teams"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (Some(k.as_str()), v)).collect())
            .unwrap_or_default(),
    };
    let mut out = Vec::new();
    for (team, section) in groups {
        for month in section["months"].as_array().into_iter().flatten() {
            let Some(time) = month["month"]
                .as_str()
                .and_then(|m| iso_time(&format!("{m}-01")))
            else {
                continue;
            };
            let mut row = Map::new();
            row.insert("time".into(), Json::String(time));
            if let Some(team) = team {
                row.insert("team".into(), Json::String(team.to_string()));
            }
            row.insert("currency".into(), month["currency"].clone());
            row.insert(
                "value".into(),
                month.get(field).cloned().unwrap_or(Json::Null),
            );
            out.push(Json::Object(row));
        }
    }
    out
}

/// `2025-11-01` or an RFC 3339 time → `2025-11-01T00:00:00Z`.
fn iso_time(text: &str) -> Option<String> {
    let time: DateTime<Utc> = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => d.and_hms_opt(0, 0, 0)?.and_utc(),
        Err(_) => DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc),
    };
    Some(time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dora_and_cost_rows_are_flat_with_iso_times() {
        let doc = json!({
            "dora": {"series": {"month": {
                "org": [{"period_start": "2025-11-01", "lead_time": {"n": 2, "median_hours": 3.5}}],
                "teams": {"checkout": [{"period_start": "2025-11-01", "lead_time": {"n": 0, "median_hours": null}}]}
            }}},
            "cost": {"teams": {"checkout": {"months": [{"month": "2025-10", "currency": "EUR", "effective_cost": 5.0}]}}}
        });
        assert_eq!(
            dora(&doc, "month", "org", "lead_time", "median_hours"),
            vec![json!({"time": "2025-11-01T00:00:00Z", "value": 3.5, "n": 2})]
        );
        assert_eq!(
            dora(&doc, "month", "team", "lead_time", "median_hours"),
            vec![
                json!({"time": "2025-11-01T00:00:00Z", "team": "checkout", "value": null, "n": 0})
            ]
        );
        assert_eq!(
            cost(&doc, "team", "effective_cost"),
            vec![
                json!({"time": "2025-10-01T00:00:00Z", "team": "checkout", "currency": "EUR", "value": 5.0})
            ]
        );
    }
}
