//! `GET /metrics`: the headline figures of `metrics.json` in the Prometheus text
//! exposition format 0.0.4, for a scraper or Grafana's Prometheus data source.
//!
//! Every series is a gauge over the snapshot's window, re-read at each scrape.
//! Only org and team aggregates are exposed, so any valid token may read it.
//!
//! - DORA, per team and for the whole org: one gauge per `-- gauge:` line of the
//!   `queries/dora/` headers (`northstar_deployments`,
//!   `northstar_deployments_per_day`, `northstar_lead_time_median_hours`,
//!   `northstar_change_failure_rate`, `northstar_recovery_time_median_hours`,
//!   `northstar_rework_rate`), labelled `team="<name>"`; the org is
//!   `team="_org"` (so `sum(... {team!="_org"})` adds teams up). Each has a
//!   `<name>_samples` companion with the sample size `n` behind it.
//! - Cost of the last complete month before the window's end, per team and org:
//!   `northstar_cost_effective{team,currency,month}` and, where a budget is set,
//!   `northstar_cost_budget{team,currency,month}`.
//! - North Star: `northstar_north_star{metric,field}`, one per numeric field of
//!   `north_star.headline`.
//! - OKRs: `northstar_okr_progress{objective}`, `northstar_okr_expected{objective}`.
//! - `northstar_window_start_timestamp_seconds`,
//!   `northstar_window_end_timestamp_seconds`,
//!   `northstar_generated_timestamp_seconds`.
//!
//! A null figure (no sample) is left out rather than written as 0.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Months, Utc};
use serde_json::Value as Json;

use super::api::snapshot;
use super::reports::Reports;
use crate::engine::queries;
use crate::report::access::Access;

/// The exposition format's content type.
pub const CONTENT_TYPE_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label value of the whole organisation.
pub const ORG: &str = "_org";

/// One DORA gauge: a `-- gauge: <field> <name> <help>` line of a `queries/dora/`
/// header.
struct Gauge {
    name: &'static str,
    help: &'static str,
    metric: &'static str,
    field: &'static str,
}

/// The DORA gauges, from the registry, in query order.
fn dora_gauges() -> Vec<Gauge> {
    let mut out = Vec::new();
    for q in queries::folder("dora") {
        for line in q.all("gauge") {
            let mut words = line.splitn(3, ' ');
            if let (Some(field), Some(name)) = (words.next(), words.next()) {
                out.push(Gauge {
                    name,
                    help: words.next().unwrap_or_default().trim(),
                    metric: q.name,
                    field,
                });
            }
        }
    }
    out
}

/// One metric family: its samples as (labels, value).
struct Family {
    name: String,
    help: String,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &str, help: &str) -> Family {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            samples: Vec::new(),
        }
    }

    /// Adds a sample when `value` is a number.
    fn push(&mut self, labels: Vec<(&'static str, String)>, value: Option<&Json>) {
        if let Some(v) = value.and_then(Json::as_f64).filter(|v| v.is_finite()) {
            self.samples.push((labels, v));
        }
    }
}

/// `GET /metrics`.
pub(super) async fn metrics(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
) -> Response {
    let snap = match snapshot(&reports) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let doc = access.scope_metrics(&snap.metrics, &snap.owners);
    let text = exposition(&doc, snap.window.to);
    (
        [(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_0_0_4))],
        text,
    )
        .into_response()
}

/// The whole page for `doc`, a `metrics.json` whose window ends at `to`.
pub fn exposition(doc: &Json, to: DateTime<Utc>) -> String {
    let mut families = dora(doc);
    families.extend(cost(doc, to));
    families.extend(north_star(doc));
    families.extend(okrs(doc));
    families.extend(times(doc));
    let mut out = String::new();
    for family in families.iter().filter(|f| !f.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(&family.help));
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for (labels, value) in &family.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            if labels.is_empty() {
                let _ = writeln!(out, "{} {value}", family.name);
            } else {
                let _ = writeln!(out, "{}{{{}}} {value}", family.name, labels.join(","));
            }
        }
    }
    out
}

/// Org and team DORA figures, each family followed by its `_samples` companion.
fn dora(doc: &Json) -> Vec<Family> {
    let mut groups: Vec<(String, &Json)> = vec![(ORG.to_string(), &doc["dora"]["org"])];
    if let Some(teams) = doc["dora"]["teams"].as_object() {
        groups.extend(teams.iter().map(|(team, figures)| (team.clone(), figures)));
    }
    let mut out = Vec::new();
    for Gauge {
        name,
        help,
        metric,
        field,
    } in dora_gauges()
    {
        let mut family = Family::new(name, help);
        let mut samples = Family::new(
            &format!("{name}_samples"),
            &format!("Sample size (n) behind {name}."),
        );
        for (team, figures) in &groups {
            let figures = &figures[metric];
            family.push(vec![("team", team.clone())], figures.get(field));
            samples.push(vec![("team", team.clone())], figures.get("n"));
        }
        out.push(family);
        out.push(samples);
    }
    out
}

/// Effective cost and budget of the last complete month, per team and org.
fn cost(doc: &Json, to: DateTime<Utc>) -> Vec<Family> {
    let month = last_complete_month(to);
    let mut effective = Family::new(
        "northstar_cost_effective",
        "Effective cost of the last complete month, per currency.",
    );
    let mut budget = Family::new(
        "northstar_cost_budget",
        "Budget of the last complete month, per currency.",
    );
    let mut groups: Vec<(String, &Json)> = vec![(ORG.to_string(), &doc["cost"]["org"])];
    if let Some(teams) = doc["cost"]["teams"].as_object() {
        groups.extend(teams.iter().map(|(team, section)| (team.clone(), section)));
    }
    for (team, section) in groups {
        let rows = section["months"].as_array().into_iter().flatten();
        for row in rows.filter(|r| r["month"].as_str() == Some(month.as_str())) {
            let labels = vec![
                ("team", team.clone()),
                (
                    "currency",
                    row["currency"].as_str().unwrap_or_default().to_string(),
                ),
                ("month", month.clone()),
            ];
            effective.push(labels.clone(), row.get("effective_cost"));
            budget.push(labels, row.get("budget"));
        }
    }
    vec![effective, budget]
}

/// `YYYY-MM` of the month before the one `to` falls in (`to` is exclusive, so a
/// window ending on the 1st has the previous month complete).
pub fn last_complete_month(to: DateTime<Utc>) -> String {
    let date = to.date_naive();
    let first = date.with_day(1).unwrap_or(date);
    let previous = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    previous.format("%Y-%m").to_string()
}

fn north_star(doc: &Json) -> Vec<Family> {
    let mut family = Family::new(
        "northstar_north_star",
        "The North Star headline figures for the org over the window.",
    );
    let headline = &doc["north_star"]["headline"];
    let metric = headline["metric"].as_str().unwrap_or_default().to_string();
    if let Some(fields) = headline.as_object() {
        for (field, value) in fields.iter().filter(|(_, v)| v.is_number()) {
            family.push(
                vec![("metric", metric.clone()), ("field", field.clone())],
                Some(value),
            );
        }
    }
    vec![family]
}

fn okrs(doc: &Json) -> Vec<Family> {
    let mut progress = Family::new(
        "northstar_okr_progress",
        "Progress of each objective (weighted key results, 0 to 1).",
    );
    let mut expected = Family::new(
        "northstar_okr_expected",
        "Progress each objective should have made by now (share of its period).",
    );
    for objective in doc["okrs"]["objectives"].as_array().into_iter().flatten() {
        let id = objective["id"].as_str().unwrap_or_default().to_string();
        progress.push(vec![("objective", id.clone())], objective.get("progress"));
        expected.push(vec![("objective", id)], objective.get("expected"));
    }
    vec![progress, expected]
}

fn times(doc: &Json) -> Vec<Family> {
    let seconds = |path: &Json| {
        path.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| Json::from(t.timestamp()))
    };
    let mut out = Vec::new();
    for (name, help, value) in [
        (
            "northstar_window_start_timestamp_seconds",
            "Start of the metrics window (inclusive), Unix seconds.",
            seconds(&doc["window"]["from"]),
        ),
        (
            "northstar_window_end_timestamp_seconds",
            "End of the metrics window (exclusive), Unix seconds.",
            seconds(&doc["window"]["to"]),
        ),
        (
            "northstar_generated_timestamp_seconds",
            "When these figures were computed, Unix seconds.",
            seconds(&doc["generated_at"]),
        ),
    ] {
        let mut family = Family::new(name, help);
        family.push(Vec::new(), value.as_ref());
        out.push(family);
    }
    out
}

/// A label value as the format wants it: `\`, `"` and newline escaped.
pub fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn figures_with_labels_and_nulls_left_out() {
        let doc = json!({
            "window": {"from": "2025-01-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"},
            "dora": {
                "org": {"lead_time": {"n": 3, "median_hours": 2.5},
                        "deployment_frequency": {"n": 4, "deployments": 4, "per_day": 0.1}},
                "teams": {"a\"b": {"lead_time": {"n": 0, "median_hours": null}}}
            },
            "cost": {"teams": {"x": {"months": [
                {"month": "2025-02", "currency": "EUR", "effective_cost": 10.5, "budget": 20},
                {"month": "2025-03", "currency": "EUR", "effective_cost": 1.0}
            ]}}},
            "okrs": {"objectives": [{"id": "adoption", "progress": 0.25, "expected": null}]}
        });
        let text = exposition(&doc, "2025-03-01T00:00:00Z".parse().expect("time"));
        assert!(
            text.contains("northstar_lead_time_median_hours{team=\"_org\"} 2.5\n"),
            "{text}"
        );
        assert!(!text.contains("northstar_lead_time_median_hours{team=\"a\\\"b\"}"));
        assert!(text.contains("northstar_lead_time_median_hours_samples{team=\"a\\\"b\"} 0\n"));
        assert!(text.contains(
            "northstar_cost_effective{team=\"x\",currency=\"EUR\",month=\"2025-02\"} 10.5\n"
        ));
        assert!(
            text.contains(
                "northstar_cost_budget{team=\"x\",currency=\"EUR\",month=\"2025-02\"} 20\n"
            )
        );
        assert!(!text.contains("2025-03\"}"));
        assert!(text.contains("northstar_okr_progress{objective=\"adoption\"} 0.25\n"));
        assert!(!text.contains("northstar_okr_expected"));
        assert!(text.contains("# TYPE northstar_window_end_timestamp_seconds gauge\n"));
    }

    #[test]
    fn last_complete_month_is_the_one_before_the_end() {
        let at = |t: &str| t.parse::<DateTime<Utc>>().expect("time");
        assert_eq!(last_complete_month(at("2025-12-01T00:00:00Z")), "2025-11");
        assert_eq!(last_complete_month(at("2025-12-15T08:00:00Z")), "2025-11");
        assert_eq!(last_complete_month(at("2026-01-01T00:00:00Z")), "2025-12");
    }
}
