//! The `okrs` section of `metrics.json`. Each computation's check-ins are stored by
//! [`crate::history`].
//!
//! A key result reads one figure (`field`) of one row (org or a team; a category or
//! path) of a metric query run over the objective's period up to the evaluation
//! instant `as_of` = min(generated_at, window end). Progress, expected progress and
//! status are arithmetic on that figure (docs/metrics.md "OKRs"); the check-in
//! history comes from the lake table `okr_checkins`.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value as Json, json};

use super::json::rows;
use crate::config::{Config, Direction, KeyResult, Objective, OkrStatusThresholds};
use crate::engine::{Engine, Params};
use crate::error::{Error, Result};
use crate::window::{Window, params_for};

/// Stored check-ins: (objective id, key result id) → date → (value, n).
type History = BTreeMap<(String, String), BTreeMap<String, (Option<f64>, u64)>>;

/// One key result, evaluated.
struct Evaluated {
    current: Option<f64>,
    n: u64,
    progress: Option<f64>,
    expected: f64,
    status: &'static str,
}

/// Computes the `okrs` section.
pub async fn section(
    engine: &Engine,
    window: Window,
    config: &Config,
    generated_at: DateTime<Utc>,
) -> Result<Json> {
    let as_of = generated_at.min(window.to);
    let today = as_of.date_naive().to_string();
    let history = stored_history(engine).await?;
    let mut objectives = Vec::new();
    for objective in &config.okrs {
        let (start, end) = period(objective);
        let expected = elapsed_fraction(start, end, as_of);
        let mut krs = Vec::new();
        let mut weighted = (0.0, 0.0);
        for kr in &objective.key_results {
            let e = evaluate(engine, config, kr, start, end, as_of).await?;
            if let Some(p) = e.progress {
                weighted.0 += kr.weight * p;
                weighted.1 += kr.weight;
            }
            let mut checkins = history
                .get(&(objective.id.clone(), kr.id.clone()))
                .cloned()
                .unwrap_or_default();
            if as_of > start {
                checkins.insert(today.clone(), (e.current, e.n));
            }
            krs.push(kr_json(kr, &e, checkins));
        }
        let progress = (weighted.1 > 0.0).then(|| weighted.0 / weighted.1);
        let status = match progress {
            _ if as_of <= start => "not_started",
            Some(p) => status(p, expected, &config.okr_status),
            None => "no_data",
        };
        objectives.push(json!({
            "id": objective.id,
            "title": objective.title,
            "owner": objective.owner,
            "start": objective.start.to_string(),
            "end": objective.end.to_string(),
            "progress": progress,
            "expected": expected,
            "status": status,
            "key_results": krs,
        }));
    }
    Ok(json!({
        "as_of": as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        "thresholds": {
            "on_track": config.okr_status.on_track,
            "at_risk": config.okr_status.at_risk,
        },
        "objectives": objectives,
    }))
}

/// `[start 00:00, (end + 1 day) 00:00)` in UTC.
fn period(objective: &Objective) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let start = midnight(objective.start).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let end = objective
        .end
        .checked_add_days(Days::new(1))
        .and_then(midnight)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    (start, end)
}

/// The share of the period elapsed at `as_of`: 0 before, 1 after.
fn elapsed_fraction(start: DateTime<Utc>, end: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
    let total = (end - start).num_seconds() as f64;
    let done = (as_of - start).num_seconds() as f64;
    (done / total).clamp(0.0, 1.0)
}

fn status(progress: f64, expected: f64, t: &OkrStatusThresholds) -> &'static str {
    if progress >= t.on_track * expected {
        "on_track"
    } else if progress >= t.at_risk * expected {
        "at_risk"
    } else {
        "off_track"
    }
}

async fn evaluate(
    engine: &Engine,
    config: &Config,
    kr: &KeyResult,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> Result<Evaluated> {
    let expected = elapsed_fraction(start, end, as_of);
    if as_of <= start {
        return Ok(Evaluated {
            current: None,
            n: 0,
            progress: None,
            expected,
            status: "not_started",
        });
    }
    let window = Window {
        from: start,
        to: as_of.min(end),
    };
    let (current, n) = measure(engine, config, kr, window).await?;
    let Some(current) = current.filter(|_| n > 0) else {
        return Ok(Evaluated {
            current: None,
            n,
            progress: None,
            expected,
            status: "no_data",
        });
    };
    let p = progress(kr, current);
    Ok(Evaluated {
        current: Some(current),
        n,
        progress: Some(p),
        expected,
        status: status(p, expected, &config.okr_status),
    })
}

/// clamp((current − baseline) ÷ (target − baseline), 0, 1); with target = baseline,
/// 1 when the target is reached in the key result's direction. Range: 1 inside
/// `[lo, hi]`, else 0.
fn progress(kr: &KeyResult, current: f64) -> f64 {
    match (kr.direction, kr.baseline, kr.target, kr.range) {
        (Direction::Range, _, _, Some([lo, hi])) => {
            f64::from(u8::from((lo..=hi).contains(&current)))
        }
        (direction, Some(baseline), Some(target), _) => {
            if target == baseline {
                let reached = match direction {
                    Direction::Decrease => current <= target,
                    _ => current >= target,
                };
                f64::from(u8::from(reached))
            } else {
                ((current - baseline) / (target - baseline)).clamp(0.0, 1.0)
            }
        }
        // Config validation rejects every other combination.
        _ => 0.0,
    }
}

/// The key result's figure and its `n` over `window`; (None, 0) when the query has
/// no matching row.
async fn measure(
    engine: &Engine,
    config: &Config,
    kr: &KeyResult,
    window: Window,
) -> Result<(Option<f64>, u64)> {
    let params = params_for(window, config, kr.scope.as_str(), "window");
    let batches = engine.run_query(&kr.metric, &params).await?;
    let key = kr.key.as_deref().unwrap_or("org");
    let category = kr.category.as_deref().unwrap_or("all");
    for row in rows(&batches)? {
        let text = |c: &str| row.get(c).and_then(Json::as_str);
        if text("scope_key") != Some(key) {
            continue;
        }
        if row.contains_key("category") && text("category") != Some(category) {
            continue;
        }
        if kr.category.is_some() && !row.contains_key("category") {
            continue;
        }
        if let Some(path) = kr.path.as_deref()
            && text("path") != Some(path)
        {
            continue;
        }
        let Some(value) = row.get(&kr.field) else {
            let columns: Vec<&str> = row.keys().map(String::as_str).collect();
            return Err(Error::Config {
                key: format!("key result {}: field", kr.id),
                reason: format!(
                    "`{}` has no column `{}` (it has {})",
                    kr.metric,
                    kr.field,
                    columns.join(", ")
                ),
            });
        };
        let n = row.get("n").and_then(Json::as_u64).unwrap_or(0);
        return Ok((value.as_f64(), n));
    }
    Ok((None, 0))
}

async fn stored_history(engine: &Engine) -> Result<History> {
    // Glue, not a metric: no user input in the SQL.
    let sql = "SELECT okr_id, kr_id, CAST(date AS DATE) AS day, value, n \
               FROM okr_checkins ORDER BY okr_id, kr_id, date";
    let batches = engine.execute("okr_checkins", sql, &Params::new()).await?;
    let mut history = History::new();
    for row in rows(&batches)? {
        let text = |c: &str| row.get(c).and_then(Json::as_str).unwrap_or_default();
        history
            .entry((text("okr_id").to_string(), text("kr_id").to_string()))
            .or_default()
            .insert(
                text("day").to_string(),
                (
                    row.get("value").and_then(Json::as_f64),
                    row.get("n").and_then(Json::as_u64).unwrap_or(0),
                ),
            );
    }
    Ok(history)
}

fn kr_json(kr: &KeyResult, e: &Evaluated, checkins: BTreeMap<String, (Option<f64>, u64)>) -> Json {
    let checkins: Vec<Json> = checkins
        .into_iter()
        .map(|(date, (value, n))| json!({"date": date, "value": value, "n": n}))
        .collect();
    json!({
        "id": kr.id,
        "title": kr.title,
        "metric": kr.metric,
        "field": kr.field,
        "scope": kr.scope.as_str(),
        "key": kr.key,
        "category": kr.category,
        "path": kr.path,
        "direction": kr.direction.as_str(),
        "baseline": kr.baseline,
        "target": kr.target,
        "range": kr.range,
        "weight": kr.weight,
        "current": e.current,
        "n": e.n,
        "progress": e.progress,
        "expected": e.expected,
        "status": e.status,
        "checkins": checkins,
    })
}
