//! `[[okrs]]` and `[okr_status]`: objectives, their key results, and when a key
//! result counts as on track.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{Error, Result};

/// `[okr_status]`: a key result is on track when its progress is at least
/// `on_track` × the expected progress, at risk when at least `at_risk` ×.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkrStatusThresholds {
    /// Default 0.95.
    #[serde(default = "default_on_track")]
    pub on_track: f64,
    /// Default 0.75.
    #[serde(default = "default_at_risk")]
    pub at_risk: f64,
}

impl Default for OkrStatusThresholds {
    fn default() -> Self {
        OkrStatusThresholds {
            on_track: default_on_track(),
            at_risk: default_at_risk(),
        }
    }
}

fn default_on_track() -> f64 {
    0.95
}

fn default_at_risk() -> f64 {
    0.75
}

/// One `[[okrs]]` objective.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// Stable id (check-ins are stored under it).
    pub id: String,
    /// What the objective says.
    pub title: String,
    /// Who owns it.
    pub owner: String,
    /// First day of the period (`"2026-10-01"`).
    pub start: NaiveDate,
    /// Last day of the period, inclusive.
    pub end: NaiveDate,
    /// `[[okrs.key_results]]`.
    #[serde(default)]
    pub key_results: Vec<KeyResult>,
}

/// How a key result's target is met.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a lower baseline up to the target.
    Increase,
    /// From a higher baseline down to the target.
    Decrease,
    /// Kept within `range = [lo, hi]`.
    Range,
}

impl Direction {
    /// The name in config and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
            Direction::Range => "range",
        }
    }
}

/// Whether a key result reads the org row or one team's.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KrScope {
    /// The whole organisation.
    #[default]
    Org,
    /// One team (`key`).
    Team,
}

impl KrScope {
    /// The name bound to `$scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            KrScope::Org => "org",
            KrScope::Team => "team",
        }
    }
}

/// One `[[okrs.key_results]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyResult {
    /// Stable id within the objective.
    pub id: String,
    /// What the key result says.
    pub title: String,
    /// A query id: `north_star/<name>`, `dora/<name>`, `custom/<name>`.
    pub metric: String,
    /// The column of the query's row to read (`rate`, `median_hours`, ...).
    pub field: String,
    /// Org (default) or team.
    #[serde(default)]
    pub scope: KrScope,
    /// The team, for `scope = "team"`.
    pub key: Option<String>,
    /// For per-category queries: the category row to read (default `all`).
    pub category: Option<String>,
    /// For `provisioning_lead_time`: the path row to read (`ticket`, `self_service`).
    pub path: Option<String>,
    /// Value at the start of the period (increase / decrease).
    pub baseline: Option<f64>,
    /// Value to reach by the end of the period (increase / decrease).
    pub target: Option<f64>,
    /// Increase, decrease or range.
    pub direction: Direction,
    /// `[lo, hi]` for `direction = "range"`.
    pub range: Option<[f64; 2]>,
    /// Weight in the objective's progress.
    #[serde(default = "default_weight")]
    pub weight: f64,
}

fn default_weight() -> f64 {
    1.0
}

/// Ids are unique, periods and weights make sense, and each key result has the
/// target its direction needs. Whether a key result's metric names a query is the
/// engine's to say (`report::config_check`).
pub(super) fn validate(okrs: &[Objective], status: &OkrStatusThresholds) -> Result<()> {
    let bad = |key: String, reason: &str| Error::Config {
        key,
        reason: reason.into(),
    };
    let t = status;
    if !(0.0..=1.0).contains(&t.at_risk) || !(t.at_risk..=1.0).contains(&t.on_track) {
        return Err(bad(
            "okr_status".into(),
            "need 0 <= at_risk <= on_track <= 1",
        ));
    }
    let mut objectives = std::collections::HashSet::new();
    for o in okrs {
        if !objectives.insert(o.id.as_str()) {
            return Err(bad(
                format!("okrs.{}", o.id),
                "two objectives share this id",
            ));
        }
        if o.end < o.start {
            return Err(bad(format!("okrs.{}.end", o.id), "is before start"));
        }
        let mut krs = std::collections::HashSet::new();
        for kr in &o.key_results {
            let key = format!("okrs.{}.key_results.{}", o.id, kr.id);
            if !krs.insert(kr.id.as_str()) {
                return Err(bad(key, "two key results share this id"));
            }
            if (kr.scope == KrScope::Team) != kr.key.is_some() {
                return Err(bad(
                    format!("{key}.key"),
                    "give key (the team) exactly when scope = \"team\"",
                ));
            }
            if !(kr.weight.is_finite() && kr.weight > 0.0) {
                return Err(bad(format!("{key}.weight"), "must be positive"));
            }
            match (kr.direction, kr.baseline, kr.target, kr.range) {
                (Direction::Range, None, None, Some([lo, hi])) if lo <= hi => {}
                (Direction::Range, ..) => {
                    return Err(bad(
                        key,
                        "a range key result takes range = [lo, hi] (lo <= hi) and no baseline or target",
                    ));
                }
                (_, Some(_), Some(_), None) => {}
                _ => {
                    return Err(bad(
                        key,
                        "an increase/decrease key result takes baseline and target, no range",
                    ));
                }
            }
        }
    }
    Ok(())
}
