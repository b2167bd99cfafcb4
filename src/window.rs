//! The window a computation covers and the parameters bound for it, shared by every
//! face (`cli`, `serve`) and by `report`: one default window, one way to read
//! `--from`/`--to` and `--param`, one set of bound parameters.
//!
//! The default window ends tomorrow (midnight UTC, so today counts) and starts on
//! the first of the month twelve months before the end's month: the dashboards'
//! monthly trends then show twelve whole months, and `compute`, `report` and `serve`
//! given no dates all describe the same period.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use datafusion::scalar::ScalarValue;

use crate::config::{Config, MetricSettings};
use crate::engine::Params;
use crate::error::{Error, Result};
use crate::import::parse::parse_timestamp;

/// A half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Window {
    /// The window from `--from`/`--to` values (`YYYY-MM-DD` or RFC 3339), each
    /// defaulting as the module says; an empty window is a usage error.
    pub fn from_flags(from: Option<&str>, to: Option<&str>) -> Result<Window> {
        let to = match to {
            Some(t) => parse_instant("--to", t)?,
            None => {
                let tomorrow = Utc::now().date_naive() + Days::new(1);
                parse_instant("--to", &tomorrow.to_string())?
            }
        };
        let from = match from {
            Some(f) => parse_instant("--from", f)?,
            None => {
                let month = NaiveDate::from_ymd_opt(to.year(), to.month(), 1)
                    .and_then(|d| d.checked_sub_months(Months::new(12)))
                    .ok_or_else(|| Error::Usage(format!("--to {to}: out of range")))?;
                parse_instant("--from", &month.to_string())?
            }
        };
        let window = Window { from, to };
        window.ensure_not_empty()?;
        Ok(window)
    }

    /// A usage error when `from` is not before `to`.
    pub fn ensure_not_empty(&self) -> Result<()> {
        if self.from >= self.to {
            return Err(Error::Usage(format!(
                "empty window: --from {} is not before --to {}",
                self.from.date_naive(),
                self.to.date_naive()
            )));
        }
        Ok(())
    }
}

/// Parses a `--from`/`--to` value: a date (midnight UTC) or an RFC 3339 instant.
pub fn parse_instant(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::Usage(format!(
                "{flag}: expected YYYY-MM-DD or an RFC 3339 time, got `{text}`"
            ))
        })
}

/// `name=value` pairs (`query --param`, the query API's query string) → typed
/// parameters: an integer, a float, a timestamp, else text.
pub fn parse_params(pairs: &[String]) -> Result<Params> {
    pairs
        .iter()
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("--param expects NAME=VALUE, got `{pair}`")))?;
            let name = name.trim().trim_start_matches('$').to_string();
            Ok((name, typed(value)))
        })
        .collect()
}

fn typed(value: &str) -> ScalarValue {
    if let Ok(i) = value.parse::<i64>() {
        return ScalarValue::Int64(Some(i));
    }
    if let Ok(f) = value.parse::<f64>() {
        return ScalarValue::Float64(Some(f));
    }
    if let Ok(us) = parse_timestamp(value) {
        return ScalarValue::TimestampMicrosecond(Some(us), Some("UTC".into()));
    }
    ScalarValue::Utf8(Some(value.to_string()))
}

/// [`params`] with `$developers` = `[north_star] developers` when configured and the
/// `$anomaly_*` parameters from `[cost.anomalies]`.
pub fn params_for(window: Window, config: &Config, scope: &str, grain: &str) -> Params {
    let mut p = params(window, &config.metrics, scope, grain);
    p.insert(
        "developers".into(),
        ScalarValue::Int64(config.north_star.developers.map(i64::from)),
    );
    let anomalies = &config.cost.anomalies;
    p.insert(
        "anomaly_threshold".into(),
        ScalarValue::Float64(Some(anomalies.threshold)),
    );
    p.insert(
        "anomaly_min_amount".into(),
        ScalarValue::Float64(Some(anomalies.min_amount)),
    );
    p.insert(
        "anomaly_min_ratio".into(),
        ScalarValue::Float64(Some(anomalies.min_ratio)),
    );
    p.insert(
        "anomaly_weeks".into(),
        ScalarValue::Int64(Some(i64::from(anomalies.weeks))),
    );
    p
}

/// The query parameters every metric query takes; `$developers` is NULL (count commit
/// authors, see [`params_for`]); the `$anomaly_*` parameters of `cost/anomalies` are
/// the `[cost.anomalies]` defaults (threshold 3.5, min amount 50.0, 8 weeks).
pub fn params(window: Window, settings: &MetricSettings, scope: &str, grain: &str) -> Params {
    let ts = |t: DateTime<Utc>| {
        ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), Some("UTC".into()))
    };
    let text = |s: &str| ScalarValue::Utf8(Some(s.to_string()));
    // `[cost.anomalies]` defaults; `params_for` sets the configured ones.
    let anomalies = crate::config::cost::AnomalySettings::default();
    Params::from([
        ("from".to_string(), ts(window.from)),
        ("to".to_string(), ts(window.to)),
        ("scope".to_string(), text(scope)),
        ("grain".to_string(), text(grain)),
        (
            "lead_time_start".to_string(),
            text(settings.lead_time_start.as_str()),
        ),
        ("developers".to_string(), ScalarValue::Int64(None)),
        (
            "anomaly_threshold".to_string(),
            ScalarValue::Float64(Some(anomalies.threshold)),
        ),
        (
            "anomaly_min_amount".to_string(),
            ScalarValue::Float64(Some(anomalies.min_amount)),
        ),
        (
            "anomaly_min_ratio".to_string(),
            ScalarValue::Float64(Some(anomalies.min_ratio)),
        ),
        (
            "anomaly_weeks".to_string(),
            ScalarValue::Int64(Some(i64::from(anomalies.weeks))),
        ),
    ])
}
