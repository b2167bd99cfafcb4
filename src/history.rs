//! History: what a computation leaves in the lake for the next one to read. Every
//! face that computes metrics (`compute`, `demo`, `report`, `serve`) calls
//! [`record`] after [`crate::report::metrics`] has built the document, so the OKR
//! check-ins and scorecard results are kept however the metrics were asked for.
//! `report` only computes and renders; this is the one step that writes.

use serde_json::Value as Json;

use crate::error::Result;
use crate::lake::Lake;
use crate::lake::batch::Value;
use crate::lake::row::RowTemplate;
use crate::lake::tables;
use crate::report::json::as_of_day;

/// How many rows each history table was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `okr_checkins` rows (today's check-in of each key result).
    pub checkins: usize,
    /// `scorecard_results` rows (today's result of each rule for each service).
    pub scorecard_results: usize,
}

/// Records the history of a computed `metrics.json` document: the sections it
/// lacks (`compute --sections`) record nothing.
pub async fn record(lake: &Lake, doc: &Json) -> Result<Recorded> {
    Ok(Recorded {
        checkins: record_checkins(lake, doc).await?,
        scorecard_results: record_results(lake, doc).await?,
    })
}

/// Stores today's check-in of every key result in the `okrs` section of a computed
/// document (`okr_checkins`, key (okr_id, kr_id, date)): computing again the same
/// day replaces the day's value instead of adding one.
pub async fn record_checkins(lake: &Lake, doc: &Json) -> Result<usize> {
    let okrs = &doc["okrs"];
    let Some((day, midnight)) = as_of_day(okrs) else {
        return Ok(0);
    };
    let today = day.to_string();
    let spec = tables::okr_checkins();
    let mut template = RowTemplate::new(spec.clone());
    let mut out = Vec::new();
    for objective in okrs["objectives"].as_array().into_iter().flatten() {
        for kr in objective["key_results"].as_array().into_iter().flatten() {
            let Some(checkin) = kr["checkins"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["date"] == today.as_str()))
            else {
                continue;
            };
            out.push(template.row([
                (
                    "okr_id",
                    objective["id"].as_str().unwrap_or_default().into(),
                ),
                ("kr_id", kr["id"].as_str().unwrap_or_default().into()),
                ("date", Value::Timestamp(midnight)),
                (
                    "value",
                    checkin["value"].as_f64().map_or(Value::Null, Value::Float),
                ),
                ("n", Value::Int(checkin["n"].as_i64().unwrap_or(0))),
            ])?);
        }
    }
    let written = out.len();
    lake.write_changed(&spec, out).await?;
    Ok(written)
}

/// Stores the day's result of every rule for every service of a computed document in
/// `scorecard_results` (key service, rule_id, date): computing again the same day
/// replaces the day's results.
pub async fn record_results(lake: &Lake, doc: &Json) -> Result<usize> {
    let section = &doc["scorecards"];
    let Some((_, midnight)) = as_of_day(section) else {
        return Ok(0);
    };
    let spec = tables::scorecard_results();
    let mut template = RowTemplate::new(spec.clone());
    let mut out = Vec::new();
    for (service, card) in section["services"].as_object().into_iter().flatten() {
        for (rule, result) in card["rules"].as_object().into_iter().flatten() {
            out.push(template.row([
                ("service", service.into()),
                ("rule_id", rule.into()),
                ("date", Value::Timestamp(midnight)),
                ("passed", result["passed"].as_bool().unwrap_or(false).into()),
                (
                    "value",
                    result["value"].as_f64().map_or(Value::Null, Value::Float),
                ),
                ("level", card["level"].as_str().unwrap_or("none").into()),
            ])?);
        }
    }
    let written = out.len();
    lake.write_changed(&spec, out).await?;
    Ok(written)
}
