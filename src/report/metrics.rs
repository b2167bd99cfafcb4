//! `metrics.json`: the five DORA metrics for the org, every team and every service,
//! over the window and as weekly and monthly series; the North Star section
//! ([`super::north_star`]), the OKRs ([`super::okrs`]) and the service scorecards
//! ([`super::scorecards`]) and the custom metrics the engine loaded.
//!
//! The figures come only from the queries in `queries/dora/`; this module binds their
//! parameters, arranges the rows and fills the groups a query returned no row for
//! (no sample) with `n = 0` and null figures. The shape is fixed by
//! `schemas/metrics.schema.json`.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json, json};

use super::json::rows;
use super::{cost, north_star, okrs, scorecards};
use crate::config::{Config, MetricSettings};
use crate::engine::{Engine, queries};
use crate::error::{Error, Result};
use crate::window::{Window, params, params_for};

/// Version of the `metrics.json` contract. Bump the major part on breaking changes.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// A top-level section of `metrics.json` that can be computed on its own
/// (`compute --sections`): a user who wants the DORA figures does not pay for every
/// cost query. The order here is the order of [`Section::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `north_star`.
    NorthStar,
    /// `dora`.
    Dora,
    /// `okrs`.
    Okrs,
    /// `scorecards`.
    Scorecards,
    /// `custom`.
    Custom,
    /// `cost`.
    Cost,
}

impl Section {
    /// Every section, in document order.
    pub const ALL: [Section; 6] = [
        Section::NorthStar,
        Section::Dora,
        Section::Okrs,
        Section::Scorecards,
        Section::Custom,
        Section::Cost,
    ];

    /// The section's key in `metrics.json` (and its name on the command line).
    pub fn key(self) -> &'static str {
        match self {
            Section::NorthStar => "north_star",
            Section::Dora => "dora",
            Section::Okrs => "okrs",
            Section::Scorecards => "scorecards",
            Section::Custom => "custom",
            Section::Cost => "cost",
        }
    }

    /// The section called `name`; the error lists the known names.
    pub fn parse(name: &str) -> Result<Section> {
        Section::ALL
            .into_iter()
            .find(|s| s.key() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Section::ALL.iter().map(|s| s.key()).collect();
                Error::Usage(format!(
                    "unknown section `{name}` (known: {})",
                    known.join(", ")
                ))
            })
    }
}

/// One DORA metric: its key in the JSON (the query's name), its query, and the
/// fields that read 0 (`-- empty_zero:`) or null (`-- empty_null:`) for a group with
/// no sample. Every query of `queries/dora/` is one.
struct MetricDef {
    key: &'static str,
    query: &'static str,
    zero_when_empty: Vec<&'static str>,
    null_when_empty: Vec<&'static str>,
}

/// The DORA metrics, from the registry (`queries/dora/`).
fn dora_metrics() -> Vec<MetricDef> {
    queries::folder("dora")
        .map(|q| MetricDef {
            key: q.name,
            query: q.id,
            zero_when_empty: q.items("empty_zero"),
            null_when_empty: q.items("empty_null"),
        })
        .collect()
}

const SCOPES: &[(&str, &str)] = &[("org", "org"), ("team", "teams"), ("service", "services")];
const SERIES_GRAINS: &[&str] = &["week", "month"];

/// (scope key, period start) → metric key → figures.
type Grid = BTreeMap<(String, String), Map<String, Json>>;

/// Computes the whole `metrics.json` document.
pub async fn compute(
    engine: &Engine,
    window: Window,
    config: &Config,
    generated_at: DateTime<Utc>,
) -> Result<Json> {
    compute_sections(engine, window, config, generated_at, &Section::ALL).await
}

/// Computes the `metrics.json` document with only `sections`. A document with every
/// section is the whole one; one with fewer lists the ones it has in `sections` and
/// leaves the others out, so nobody mistakes a missing section for an empty one.
pub async fn compute_sections(
    engine: &Engine,
    window: Window,
    config: &Config,
    generated_at: DateTime<Utc>,
    sections: &[Section],
) -> Result<Json> {
    let settings = &config.metrics;
    window.ensure_not_empty()?;
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "window": {
            "from": window.from.to_rfc3339_opts(SecondsFormat::Secs, true),
            "to": window.to.to_rfc3339_opts(SecondsFormat::Secs, true),
        },
        "settings": {
            "lead_time_start": settings.lead_time_start.as_str(),
            "link_window_days": settings.link_window_days,
            "min_n": settings.min_n,
        },
    });
    let wanted: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| sections.contains(s))
        .collect();
    if wanted.len() < Section::ALL.len() {
        doc["sections"] = Json::Array(wanted.iter().map(|s| json!(s.key())).collect());
    }
    for section in wanted {
        let started = std::time::Instant::now();
        let value = match section {
            Section::NorthStar => north_star::section(engine, window, config).await?,
            Section::Dora => dora_section(engine, window, settings).await?,
            Section::Okrs => okrs::section(engine, window, config, generated_at).await?,
            Section::Scorecards => {
                scorecards::section(engine, window, config, generated_at).await?
            }
            Section::Custom => custom_section(engine, window, config).await?,
            Section::Cost => cost::section(engine, window, config).await?,
        };
        tracing::info!(
            section = section.key(),
            ms = started.elapsed().as_millis() as u64,
            "Computed section."
        );
        doc[section.key()] = value;
    }
    Ok(doc)
}

/// `dora`: the five metrics for the org, every team and every service over the
/// window, and as weekly and monthly series.
async fn dora_section(engine: &Engine, window: Window, settings: &MetricSettings) -> Result<Json> {
    let mut dora = Map::new();
    for (scope, plural) in SCOPES {
        let grid = scope_grid(engine, window, settings, scope, "window").await?;
        let mut by_key: Map<String, Json> = grid
            .into_iter()
            .map(|((key, _), figures)| (key, Json::Object(figures)))
            .collect();
        if *scope == "org" {
            // A lake with no deployments yet (costs only, say) still reports the
            // org, with every metric at n = 0.
            let org = by_key.remove("org").unwrap_or_else(|| {
                Json::Object(
                    dora_metrics()
                        .iter()
                        .map(|def| (def.key.to_string(), empty_metric(def)))
                        .collect(),
                )
            });
            dora.insert("org".into(), org);
        } else {
            dora.insert((*plural).into(), Json::Object(by_key));
        }
    }
    let mut series = Map::new();
    for grain in SERIES_GRAINS {
        let mut per_scope = Map::new();
        for (scope, plural) in SCOPES {
            let grid = scope_grid(engine, window, settings, scope, grain).await?;
            let mut lists: BTreeMap<String, Vec<Json>> = BTreeMap::new();
            for ((key, _), figures) in grid {
                lists.entry(key).or_default().push(Json::Object(figures));
            }
            let value = if *scope == "org" {
                Json::Array(lists.remove("org").unwrap_or_default())
            } else {
                Json::Object(
                    lists
                        .into_iter()
                        .map(|(k, v)| (k, Json::Array(v)))
                        .collect(),
                )
            };
            per_scope.insert((*plural).into(), value);
        }
        series.insert((*grain).into(), Json::Object(per_scope));
    }
    dora.insert("series".into(), Json::Object(series));
    Ok(Json::Object(dora))
}

/// `custom.<name>`: each loaded custom metric's unit, description and org rows over
/// the window (without `scope_key` and `period_start`).
async fn custom_section(engine: &Engine, window: Window, config: &Config) -> Result<Json> {
    let mut out = Map::new();
    for metric in engine.custom_metrics() {
        let batches = engine
            .run_query(&metric.id(), &params_for(window, config, "org", "window"))
            .await?;
        let org: Vec<Json> = rows(&batches)?
            .into_iter()
            .filter(|r| r.get("scope_key").is_none_or(|k| k == "org"))
            .map(|mut r| {
                r.remove("scope_key");
                r.remove("period_start");
                Json::Object(r)
            })
            .collect();
        out.insert(
            metric.name.clone(),
            json!({
                "unit": metric.unit,
                "description": metric.description,
                "org": org,
            }),
        );
    }
    Ok(Json::Object(out))
}

/// Runs all five metrics for one scope and grain; every (key, period) the deployment
/// frequency grid has gets all five, filled where a query had no row.
async fn scope_grid(
    engine: &Engine,
    window: Window,
    settings: &MetricSettings,
    scope: &str,
    grain: &str,
) -> Result<Grid> {
    // Every query gets every parameter; a named parameter a query does not use is
    // ignored by DataFusion.
    let params = params(window, settings, scope, grain);
    let mut grid = Grid::new();
    let metrics = dora_metrics();
    for def in &metrics {
        let batches = engine.run_query(def.query, &params).await?;
        for mut row in rows(&batches)? {
            let key = take_text(&mut row, "scope_key");
            let period = take_text(&mut row, "period_start");
            let period_end = row.remove("period_end");
            let n = row.get("n").and_then(Json::as_u64).unwrap_or(0);
            row.insert(
                "low_sample".into(),
                Json::Bool(n < u64::from(settings.min_n)),
            );
            let entry = grid
                .entry((key, period.clone()))
                .or_insert_with(|| period_header(grain, &period, period_end));
            entry.insert(def.key.into(), Json::Object(row));
        }
    }
    for figures in grid.values_mut() {
        for def in &metrics {
            figures.entry(def.key).or_insert_with(|| empty_metric(def));
        }
    }
    Ok(grid)
}

fn take_text(row: &mut Map<String, Json>, key: &str) -> String {
    match row.remove(key) {
        Some(Json::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Series entries carry their period; window entries do not need it.
fn period_header(grain: &str, period: &str, period_end: Option<Json>) -> Map<String, Json> {
    let mut header = Map::new();
    if grain != "window" {
        header.insert("period_start".into(), Json::String(period.to_string()));
        header.insert("period_end".into(), period_end.unwrap_or(Json::Null));
    }
    header
}

fn empty_metric(def: &MetricDef) -> Json {
    let mut m = Map::new();
    for f in &def.zero_when_empty {
        m.insert((*f).into(), json!(0));
    }
    for f in &def.null_when_empty {
        m.insert((*f).into(), Json::Null);
    }
    m.insert("low_sample".into(), Json::Bool(true));
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema names the sections twice (the list `sections` may hold, and the
    /// ones required without it); both must be [`Section::ALL`], in order.
    #[test]
    fn the_schema_knows_every_section() {
        let schema: Json =
            serde_json::from_str(include_str!("../../schemas/metrics.schema.json")).expect("json");
        let keys: Vec<Json> = Section::ALL.iter().map(|s| json!(s.key())).collect();
        assert_eq!(
            schema["properties"]["sections"]["items"]["enum"],
            json!(keys)
        );
        assert_eq!(schema["then"]["required"], json!(keys));
        for section in Section::ALL {
            assert_eq!(Section::parse(section.key()).ok(), Some(section));
            assert!(schema["properties"].get(section.key()).is_some());
        }
    }
}
