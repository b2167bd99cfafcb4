//! The `north_star` section of `metrics.json`: every query in `queries/north_star/`
//! for the org and every team, over the window and as weekly and monthly series,
//! with the configured North Star first as `headline`.
//!
//! Several queries return more than one row per group (one per `category`, or per
//! provisioning `path`), so every group holds a list of rows, as the query returned
//! them, without `scope_key` (and without `period_start` over the window).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::json::rows;
use crate::config::Config;
use crate::engine::{Engine, queries};
use crate::error::Result;
use crate::window::{Window, params_for};

/// The scopes of the section: (`$scope`, key in the JSON).
const SCOPES: &[(&str, &str)] = &[("org", "org"), ("team", "teams")];
const SERIES_GRAINS: &[&str] = &["week", "month"];

/// Computes the `north_star` section.
pub async fn section(engine: &Engine, window: Window, config: &Config) -> Result<Json> {
    let mut metrics = Map::new();
    for name in queries::north_star_names() {
        let id = format!("north_star/{name}");
        let mut figures = scopes(engine, &id, window, config, "window").await?;
        let mut series = Map::new();
        for grain in SERIES_GRAINS {
            series.insert(
                (*grain).into(),
                Json::Object(scopes(engine, &id, window, config, grain).await?),
            );
        }
        figures.insert("series".into(), Json::Object(series));
        metrics.insert(name.into(), Json::Object(figures));
    }
    let org_rows = metrics
        .get(&config.north_star.metric)
        .and_then(|m| m.get("org"))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(json!({
        "headline": headline(&config.north_star.metric, &org_rows),
        "metrics": metrics,
    }))
}

/// `{metric, ...row}` for the org over the window: the row with `category = 'all'`
/// for per-category queries, else the first row; `{metric, n: 0}` with none.
fn headline(metric: &str, org_rows: &[Json]) -> Json {
    let row = org_rows
        .iter()
        .find(|r| r.get("category").and_then(Json::as_str) == Some("all"))
        .or_else(|| org_rows.first());
    let mut out = Map::new();
    out.insert("metric".into(), Json::String(metric.into()));
    match row.and_then(Json::as_object) {
        Some(r) => out.extend(r.clone()),
        None => {
            out.insert("n".into(), json!(0));
        }
    }
    Json::Object(out)
}

/// `{org: [rows], teams: {team: [rows]}}` for one grain.
async fn scopes(
    engine: &Engine,
    id: &str,
    window: Window,
    config: &Config,
    grain: &str,
) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    for (scope, key) in SCOPES {
        let batches = engine
            .run_query(id, &params_for(window, config, scope, grain))
            .await?;
        let mut groups: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for mut row in rows(&batches)? {
            let group = match row.remove("scope_key") {
                Some(Json::String(s)) => s,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            if grain == "window" {
                row.remove("period_start");
                row.remove("period_end");
            }
            let n = row.get("n").and_then(Json::as_u64).unwrap_or(0);
            row.insert(
                "low_sample".into(),
                Json::Bool(n < u64::from(config.metrics.min_n)),
            );
            groups.entry(group).or_default().push(Json::Object(row));
        }
        let value = if *scope == "org" {
            Json::Array(groups.remove("org").unwrap_or_default())
        } else {
            Json::Object(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Json::Array(v)))
                    .collect(),
            )
        };
        out.insert((*key).into(), value);
    }
    Ok(out)
}
