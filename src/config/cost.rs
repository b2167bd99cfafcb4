//! `[cost]`: how cost lines are allocated to teams and services, budgets,
//! exchange rates and anomaly settings.
//!
//! Allocation happens when the engine opens, not at import: changing a rule and
//! running `compute` again re-allocates everything without re-importing a bill.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::pattern::Pattern;
use crate::error::{Error, Result};

/// `[cost]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// Convert amounts to this currency where `exchange_rates` has a rate; amounts
    /// without one stay in their billing currency (and are reported apart).
    pub report_currency: Option<String>,
    /// Allocation rules, first match wins. Empty: the `team` and `service` tags.
    #[serde(default)]
    pub rules: Vec<AllocationRule>,
    /// Monthly budgets per team.
    #[serde(default)]
    pub budgets: Vec<Budget>,
    /// Dated rates into `report_currency`.
    #[serde(default)]
    pub exchange_rates: Vec<ExchangeRate>,
    /// Anomaly detection settings.
    #[serde(default)]
    pub anomalies: AnomalySettings,
}

/// How a shared cost is split among teams.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    /// The same share for every target team.
    Even,
    /// In proportion to each target team's direct cost the same day and currency.
    Proportional,
    /// Fixed percentages (`shares`).
    Fixed,
}

impl SplitMethod {
    /// The name in `cost_lines.split_method`.
    pub fn name(self) -> &'static str {
        match self {
            SplitMethod::Even => "even",
            SplitMethod::Proportional => "proportional",
            SplitMethod::Fixed => "fixed",
        }
    }
}

/// One `[[cost.rules]]` entry: conditions (all given must hold) and an outcome
/// (a team and/or service, fixed or from a tag, or a split).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRule {
    /// Shown in the audit columns.
    pub name: String,
    /// Tag key → value glob (`*` = the tag is present). Keys match case-insensitively.
    #[serde(default)]
    pub tags: BTreeMap<String, Pattern>,
    /// Globs on `BillingAccountId` or `SubAccountId`.
    #[serde(default)]
    pub accounts: Vec<Pattern>,
    /// Globs on `ResourceId`.
    #[serde(default)]
    pub resource_ids: Vec<Pattern>,
    /// Globs on the FOCUS `ServiceName` (the cloud service).
    #[serde(default)]
    pub cloud_services: Vec<Pattern>,
    /// Globs on the provider.
    #[serde(default)]
    pub providers: Vec<Pattern>,
    /// The team the line goes to.
    pub team: Option<String>,
    /// The tag whose value is the team (the rule does not match without it).
    pub team_tag: Option<String>,
    /// The catalog service the line goes to (its team from the catalog unless
    /// `team`/`team_tag` says otherwise).
    pub service: Option<String>,
    /// The tag whose value is the service.
    pub service_tag: Option<String>,
    /// Split the line among teams instead.
    pub split: Option<SplitMethod>,
    /// Target teams of an even or proportional split (default: every team with
    /// direct cost that day in that currency).
    #[serde(default)]
    pub to: Vec<String>,
    /// Percentages per team for a fixed split (must sum to 100).
    #[serde(default)]
    pub shares: BTreeMap<String, f64>,
}

impl AllocationRule {
    /// The rules used when `[cost]` declares none: the `team` tag, then the
    /// `service` tag (team from the catalog).
    pub fn defaults() -> Vec<AllocationRule> {
        vec![
            AllocationRule {
                name: "team tag".into(),
                team_tag: Some("team".into()),
                service_tag: Some("service".into()),
                ..AllocationRule::default()
            },
            AllocationRule {
                name: "service tag".into(),
                service_tag: Some("service".into()),
                ..AllocationRule::default()
            },
        ]
    }
}

/// One `[[cost.budgets]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The team.
    pub team: String,
    /// Amount per month.
    pub amount: f64,
    /// ISO 4217 currency of the amount.
    pub currency: String,
    /// `YYYY-MM`: this month only (wins over the team's every-month budget).
    pub month: Option<String>,
}

impl Budget {
    /// The first day of `month`, if set.
    pub fn month_start(&self) -> Option<NaiveDate> {
        let m = self.month.as_deref()?;
        NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok()
    }
}

/// One `[[cost.exchange_rates]]` entry: 1 `from` = `rate` `report_currency` from
/// `since` until the pair's next entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRate {
    /// Source currency.
    pub from: String,
    /// Multiplier into the report currency.
    pub rate: f64,
    /// First day the rate applies (`YYYY-MM-DD`).
    pub since: NaiveDate,
}

/// `[cost.anomalies]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalySettings {
    /// Robust z-score from which a day is an anomaly.
    pub threshold: f64,
    /// Smallest absolute difference from the expected cost that is reported.
    pub min_amount: f64,
    /// Smallest difference relative to the expected cost that is reported (0.1 =
    /// 10 %).
    pub min_ratio: f64,
    /// Weeks of same-weekday history the expected cost is taken from.
    pub weeks: u32,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        AnomalySettings {
            threshold: 3.5,
            min_amount: 50.0,
            min_ratio: 0.1,
            weeks: 8,
        }
    }
}

fn bad(key: String, reason: impl Into<String>) -> Error {
    Error::Config {
        key,
        reason: reason.into(),
    }
}

fn currency_code(key: String, code: &str) -> Result<()> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(bad(
            key,
            format!("`{code}` is not an ISO 4217 code like USD"),
        ))
    }
}

impl CostConfig {
    /// The rules in force (the defaults when none are declared).
    pub fn effective_rules(&self) -> Vec<AllocationRule> {
        if self.rules.is_empty() {
            AllocationRule::defaults()
        } else {
            self.rules.clone()
        }
    }

    /// Checks names, outcomes, globs, shares, budgets and rates.
    pub fn validate(&self) -> Result<()> {
        let mut names = std::collections::HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let key = format!("cost.rules[{i}]");
            if rule.name.trim().is_empty() {
                return Err(bad(format!("{key}.name"), "must not be empty"));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(bad(
                    format!("{key}.name"),
                    format!("`{}` is used twice", rule.name),
                ));
            }
            validate_rule(&format!("cost.rules.{}", rule.name), rule)?;
        }
        if let Some(c) = &self.report_currency {
            currency_code("cost.report_currency".into(), c)?;
        }
        for (i, b) in self.budgets.iter().enumerate() {
            let key = format!("cost.budgets[{i}]");
            currency_code(format!("{key}.currency"), &b.currency)?;
            if !(b.amount.is_finite() && b.amount >= 0.0) {
                return Err(bad(format!("{key}.amount"), "must be a number ≥ 0"));
            }
            if b.month.is_some() && b.month_start().is_none() {
                return Err(bad(format!("{key}.month"), "must be YYYY-MM"));
            }
        }
        if !self.exchange_rates.is_empty() && self.report_currency.is_none() {
            return Err(bad(
                "cost.exchange_rates".into(),
                "rates convert into cost.report_currency, which is not set",
            ));
        }
        for (i, r) in self.exchange_rates.iter().enumerate() {
            currency_code(format!("cost.exchange_rates[{i}].from"), &r.from)?;
            if !(r.rate.is_finite() && r.rate > 0.0) {
                return Err(bad(format!("cost.exchange_rates[{i}].rate"), "must be > 0"));
            }
        }
        let a = &self.anomalies;
        if !(a.threshold > 0.0 && a.min_amount >= 0.0 && a.min_ratio >= 0.0 && a.weeks >= 3) {
            return Err(bad(
                "cost.anomalies".into(),
                "threshold must be > 0, min_amount and min_ratio ≥ 0, weeks ≥ 3",
            ));
        }
        Ok(())
    }
}

fn validate_rule(key: &str, rule: &AllocationRule) -> Result<()> {
    let assigns = rule.team.is_some()
        || rule.team_tag.is_some()
        || rule.service.is_some()
        || rule.service_tag.is_some();
    match (assigns, rule.split) {
        (true, Some(_)) => {
            return Err(bad(
                key.into(),
                "a rule either assigns (team/team_tag/service/service_tag) or splits, not both",
            ));
        }
        (false, None) => {
            return Err(bad(
                key.into(),
                "needs an outcome: team, team_tag, service, service_tag or split",
            ));
        }
        _ => {}
    }
    match rule.split {
        Some(SplitMethod::Fixed) => {
            let total: f64 = rule.shares.values().sum();
            if rule.shares.is_empty() || (total - 100.0).abs() > 0.01 {
                return Err(bad(
                    format!("{key}.shares"),
                    format!("a fixed split needs percentages summing to 100 (got {total})"),
                ));
            }
            if rule.shares.values().any(|s| *s < 0.0) {
                return Err(bad(format!("{key}.shares"), "percentages must be ≥ 0"));
            }
        }
        _ if !rule.shares.is_empty() => {
            return Err(bad(
                format!("{key}.shares"),
                "only a fixed split takes shares",
            ));
        }
        _ => {}
    }
    if rule.split.is_none() && !rule.to.is_empty() {
        return Err(bad(format!("{key}.to"), "only a split takes target teams"));
    }
    Ok(())
}
