//! The `cost` section of `metrics.json`: for the org and every team, per month and
//! currency, effective and billed cost, month-over-month change, forecast, budget,
//! unit cost; the org's unallocated share; anomalies and commitment utilisation.
//!
//! Every figure comes from a query in `queries/cost/`; this module binds their
//! parameters and joins their rows on (key, month, currency). Amounts are never
//! summed across currencies: each currency is its own row.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::json::rows;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::window::{Window, params_for};

type Row = Map<String, Json>;
/// (scope key, month `YYYY-MM`, currency) → row.
type Grid = BTreeMap<(String, String, String), Row>;

/// Runs a cost query and returns its rows.
async fn run(
    engine: &Engine,
    id: &str,
    window: Window,
    config: &Config,
    scope: &str,
    grain: &str,
) -> Result<Vec<Row>> {
    let batches = engine
        .run_query(id, &params_for(window, config, scope, grain))
        .await?;
    rows(&batches)
}

fn text(row: &Row, key: &str) -> String {
    match row.get(key) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// `YYYY-MM` of a period start (`2026-10-01`, `2026-10-01T00:00:00Z`).
fn month_of(row: &Row) -> String {
    text(row, "period_start").chars().take(7).collect()
}

fn key_of(row: &Row, key_column: &str) -> (String, String, String) {
    (text(row, key_column), month_of(row), text(row, "currency"))
}

/// Copies `fields` of `from` (renamed `(from, to)`) into the grid row for its key.
fn merge(grid: &mut Grid, rows: &[Row], key_column: &str, fields: &[(&str, &str)], create: bool) {
    for r in rows {
        let key = key_of(r, key_column);
        if !create && !grid.contains_key(&key) {
            continue;
        }
        let target = grid.entry(key).or_default();
        for (from, to) in fields {
            if let Some(v) = r.get(*from) {
                target.insert((*to).into(), v.clone());
            }
        }
    }
}

const COST_FIELDS: &[(&str, &str)] = &[
    ("effective_cost", "effective_cost"),
    ("billed_cost", "billed_cost"),
    ("list_cost", "list_cost"),
    ("savings", "savings"),
    ("n", "n"),
];

const MOM_FIELDS: &[(&str, &str)] = &[
    ("previous_cost", "previous_cost"),
    ("change", "mom_change"),
    ("change_ratio", "mom_change_ratio"),
];

const UNIT_FIELDS: &[(&str, &str)] = &[
    ("deployments", "deployments"),
    ("cost_per_deployment", "cost_per_deployment"),
    ("developers", "developers"),
    ("cost_per_developer", "cost_per_developer"),
];

/// Per (key, month, currency): cost, MoM change and unit cost at `scope`.
async fn monthly(engine: &Engine, window: Window, config: &Config, scope: &str) -> Result<Grid> {
    let mut grid = Grid::new();
    let costs = run(engine, "cost/costs", window, config, scope, "month").await?;
    merge(&mut grid, &costs, "scope_key", COST_FIELDS, true);
    let mom = run(
        engine,
        "cost/month_over_month",
        window,
        config,
        scope,
        "month",
    )
    .await?;
    merge(&mut grid, &mom, "scope_key", MOM_FIELDS, false);
    let unit = run(engine, "cost/unit_cost", window, config, scope, "month").await?;
    merge(&mut grid, &unit, "scope_key", UNIT_FIELDS, false);
    // Past months' forecast is their actual; the current month's is the query's.
    for row in grid.values_mut() {
        let actual = row.get("effective_cost").cloned().unwrap_or(Json::Null);
        row.insert("forecast".into(), actual);
    }
    let forecast = run(engine, "cost/forecast", window, config, scope, "month").await?;
    merge(
        &mut grid,
        &forecast,
        "scope_key",
        &[("forecast", "forecast")],
        false,
    );
    Ok(grid)
}

/// Grid rows grouped by key, each with `month` and `currency` fields.
fn by_key(grid: Grid) -> BTreeMap<String, Vec<Json>> {
    let mut out: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for ((key, month, currency), fields) in grid {
        let mut row = Row::new();
        row.insert("month".into(), Json::String(month));
        row.insert("currency".into(), Json::String(currency));
        row.extend(fields);
        out.entry(key).or_default().push(Json::Object(row));
    }
    out
}

/// Window totals per key: `[{currency, effective_cost, ...}]`.
async fn window_totals(
    engine: &Engine,
    window: Window,
    config: &Config,
    scope: &str,
) -> Result<BTreeMap<String, Vec<Json>>> {
    let mut out: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for mut r in run(engine, "cost/costs", window, config, scope, "window").await? {
        let key = text(&r, "scope_key");
        r.remove("scope_key");
        r.remove("period_start");
        out.entry(key).or_default().push(Json::Object(r));
    }
    Ok(out)
}

fn strip(mut r: Row, drop: &[&str]) -> Json {
    for k in drop {
        r.remove(*k);
    }
    Json::Object(r)
}

/// Computes the `cost` section.
pub async fn section(engine: &Engine, window: Window, config: &Config) -> Result<Json> {
    let mut org = monthly(engine, window, config, "org").await?;
    let allocation = run(engine, "cost/allocation", window, config, "org", "month").await?;
    for r in &allocation {
        let key = ("org".to_string(), month_of(r), text(r, "currency"));
        let row = org.entry(key).or_default();
        let share = match (
            r.get("unallocated").and_then(Json::as_f64),
            r.get("total").and_then(Json::as_f64),
        ) {
            (Some(u), Some(t)) if t != 0.0 => json!(u / t),
            _ => Json::Null,
        };
        row.insert(
            "unallocated".into(),
            r.get("unallocated").cloned().unwrap_or(Json::Null),
        );
        row.insert("unallocated_share".into(), share);
    }
    let mut teams_grid = monthly(engine, window, config, "team").await?;
    let budgets = run(engine, "cost/budgets", window, config, "team", "month").await?;
    merge(
        &mut teams_grid,
        &budgets,
        "team",
        &[
            ("budget", "budget"),
            ("status", "budget_status"),
            ("actual_vs_budget", "actual_vs_budget"),
            ("forecast_vs_budget", "forecast_vs_budget"),
        ],
        true,
    );
    let anomalies = run(engine, "cost/anomalies", window, config, "team", "day").await?;
    let mut team_anomalies: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for r in &anomalies {
        team_anomalies
            .entry(text(r, "team"))
            .or_default()
            .push(strip(r.clone(), &["team", "mad", "scale"]));
    }
    let team_windows = window_totals(engine, window, config, "team").await?;
    let mut teams = Map::new();
    for (team, months) in by_key(teams_grid) {
        teams.insert(
            team.clone(),
            json!({
                "window": team_windows.get(&team).cloned().unwrap_or_default(),
                "months": months,
                "anomalies": team_anomalies.remove(&team).unwrap_or_default(),
            }),
        );
    }
    let commitments: Vec<Json> = run(
        engine,
        "cost/commitment_utilisation",
        window,
        config,
        "org",
        "month",
    )
    .await?
    .into_iter()
    .map(Json::Object)
    .collect();
    let org_window = window_totals(engine, window, config, "org").await?;
    Ok(json!({
        "measure": "effective_cost",
        "report_currency": config.cost.report_currency,
        "org": {
            "window": org_window.get("org").cloned().unwrap_or_default(),
            "months": by_key(org).remove("org").unwrap_or_default(),
        },
        "teams": teams,
        "anomalies": anomalies.into_iter().map(|r| strip(r, &["mad", "scale"])).collect::<Vec<_>>(),
        "commitments": commitments,
    }))
}
