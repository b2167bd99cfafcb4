//! The `scorecards` section of `metrics.json`; [`crate::history`] stores each day's
//! results in `scorecard_results`.
//!
//! Each `[[scorecards.rules]]` runs its check (`queries/scorecards/<check>.sql`,
//! which decides `passed` per catalog service) over [window start, as_of), as_of =
//! min(generated_at, window end). A service's level is the highest level L such that
//! it passes every rule at L and at every level below (Port / OpsLevel semantics).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use datafusion::scalar::ScalarValue;
use serde_json::{Map, Value as Json, json};

use super::json::rows;
use crate::config::{Config, Level};
use crate::engine::{Engine, queries};
use crate::error::{Error, Result};
use crate::window::{Window, params_for};

/// service → rule id → (rule level, passed, value).
type Results = BTreeMap<String, BTreeMap<String, (Level, bool, Option<f64>)>>;

/// The highest level whose rules, and every lower level's, all pass; `None` below
/// bronze. `results` holds (rule level, passed) for every rule; a level without
/// rules is passed by default.
pub fn level(results: &[(Level, bool)]) -> Option<Level> {
    let mut reached = None;
    for l in Level::ALL {
        if results.iter().any(|(rule, passed)| *rule == l && !passed) {
            break;
        }
        reached = Some(l);
    }
    reached
}

/// Computes the `scorecards` section.
pub async fn section(
    engine: &Engine,
    window: Window,
    config: &Config,
    generated_at: DateTime<Utc>,
) -> Result<Json> {
    let as_of = generated_at.min(window.to);
    let eval = Window {
        from: window.from,
        to: as_of,
    };
    let mut services = Results::new();
    for rule in &config.scorecards.rules {
        let sql = queries::scorecard_sql(&rule.check)
            .ok_or_else(|| Error::Usage(format!("no scorecard check `{}`", rule.check)))?;
        let mut p = params_for(eval, config, "service", "window");
        p.insert(
            "threshold".into(),
            ScalarValue::Float64(Some(rule.threshold)),
        );
        let label = format!("scorecards/{}", rule.check);
        for row in rows(&engine.execute(&label, sql, &p).await?)? {
            let service = row
                .get("service")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            let passed = row.get("passed").and_then(Json::as_bool).unwrap_or(false);
            let value = row.get("value").and_then(Json::as_f64);
            services
                .entry(service)
                .or_default()
                .insert(rule.id.clone(), (rule.level, passed, value));
        }
    }
    let mut counts: BTreeMap<&str, u64> = ["none", "bronze", "silver", "gold"]
        .into_iter()
        .map(|l| (l, 0))
        .collect();
    let mut silver_or_better = 0u64;
    let mut out = Map::new();
    for (service, results) in &services {
        let reached = level(
            &results
                .values()
                .map(|(l, passed, _)| (*l, *passed))
                .collect::<Vec<_>>(),
        );
        if reached >= Some(Level::Silver) {
            silver_or_better += 1;
        }
        let name = reached.map_or("none", Level::as_str);
        *counts.entry(name).or_default() += 1;
        let rules: Map<String, Json> = results
            .iter()
            .map(|(id, (_, passed, value))| (id.clone(), json!({"passed": passed, "value": value})))
            .collect();
        out.insert(service.clone(), json!({"level": name, "rules": rules}));
    }
    let n = services.len() as u64;
    let rules: Vec<Json> = config
        .scorecards
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "title": r.title,
                "level": r.level.as_str(),
                "check": r.check,
                "threshold": r.threshold,
            })
        })
        .collect();
    Ok(json!({
        "as_of": as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        "rules": rules,
        "services": out,
        "org": {
            "n": n,
            "silver_or_better": silver_or_better,
            "share_silver_or_better": (n > 0).then(|| silver_or_better as f64 / n as f64),
            "levels": counts,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::{Bronze, Gold, Silver};

    #[test]
    fn a_level_needs_every_rule_at_it_and_below() {
        // Failing one bronze rule while passing every silver rule: below bronze.
        assert_eq!(
            level(&[
                (Bronze, true),
                (Bronze, false),
                (Silver, true),
                (Gold, true)
            ]),
            None
        );
        assert_eq!(
            level(&[(Bronze, true), (Silver, false), (Gold, true)]),
            Some(Bronze)
        );
        assert_eq!(
            level(&[(Bronze, true), (Silver, true), (Gold, false)]),
            Some(Silver)
        );
        assert_eq!(
            level(&[(Bronze, true), (Silver, true), (Gold, true)]),
            Some(Gold)
        );
        // A level without rules does not stop a service.
        assert_eq!(level(&[(Bronze, true), (Gold, true)]), Some(Gold));
    }
}
