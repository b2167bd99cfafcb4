//! `[scorecards]`: the rules a service is held to, by level.

use serde::Deserialize;

use crate::error::{Error, Result};

/// `[scorecards]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardConfig {
    /// `[[scorecards.rules]]`.
    #[serde(default)]
    pub rules: Vec<ScorecardRule>,
}

/// A scorecard level, lowest first.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The first level.
    Bronze,
    /// The second.
    Silver,
    /// The top.
    Gold,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Bronze, Level::Silver, Level::Gold];

    /// The name in config and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Bronze => "bronze",
            Level::Silver => "silver",
            Level::Gold => "gold",
        }
    }
}

/// One `[[scorecards.rules]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardRule {
    /// Stable id.
    pub id: String,
    /// What the rule asks.
    pub title: String,
    /// The level the rule belongs to.
    pub level: Level,
    /// A check in `queries/scorecards/`.
    pub check: String,
    /// The check's threshold (days, hours or a fraction; unused by `owner_set`).
    #[serde(default)]
    pub threshold: f64,
}

impl ScorecardConfig {
    /// Rule ids are unique. Whether each `check` names a known scorecard query is
    /// the engine's to say: `report::config_check` checks it after loading.
    pub(super) fn validate(&self) -> Result<()> {
        let mut ids = std::collections::HashSet::new();
        for rule in &self.rules {
            if !ids.insert(rule.id.as_str()) {
                return Err(Error::Config {
                    key: format!("scorecards.rules.{}", rule.id),
                    reason: "two rules share this id".into(),
                });
            }
        }
        Ok(())
    }
}
