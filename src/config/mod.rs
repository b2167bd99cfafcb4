//! `northstar.toml`: parsed, validated, with secrets resolved from the environment.
//!
//! Pipeline description lives here; run-time choices (window, output file) are CLI
//! flags. Secrets are never in the file: a source names the environment variable
//! that holds its token (`token_env`), and the value is read only when needed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

pub mod cost;
pub mod engine;
pub mod okrs;
pub mod pattern;
pub mod scorecards;
pub mod serve;
pub mod sources;

pub use cost::CostConfig;
pub use engine::EngineConfig;
pub use okrs::{Direction, KeyResult, KrScope, Objective, OkrStatusThresholds};
pub use pattern::{FieldRef, Pattern};
pub use scorecards::{Level, ScorecardConfig, ScorecardRule};
pub use serve::{ReportConfig, ServeConfig, TokenConfig};
pub use sources::{
    BillingSource, CategoryRule, DeliveryMode, DeliveryRules, DeliverySettings, GitSource,
    GithubSource, GitlabSource, HttpSettings, JiraSource, PagerdutySource, ServicenowSource,
    SourceConfig, SourceKind, TicketMapping,
};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the lake lives.
    #[serde(default)]
    pub lake: LakeConfig,
    /// Metric definition choices.
    #[serde(default)]
    pub metrics: MetricSettings,
    /// Query engine memory and spilling.
    #[serde(default)]
    pub engine: EngineConfig,
    /// Data sources to collect from.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Which North Star metric is *the* North Star.
    #[serde(default)]
    pub north_star: NorthStarConfig,
    /// Objectives and their key results.
    #[serde(default)]
    pub okrs: Vec<Objective>,
    /// Where a key result's progress must be, relative to the time elapsed.
    #[serde(default)]
    pub okr_status: OkrStatusThresholds,
    /// Service scorecard rules.
    #[serde(default)]
    pub scorecards: ScorecardConfig,
    /// Where custom metric SQL lives.
    #[serde(default)]
    pub queries: QueriesConfig,
    /// Cost allocation, budgets, exchange rates, anomalies.
    #[serde(default)]
    pub cost: CostConfig,
    /// Dashboards.
    #[serde(default)]
    pub report: ReportConfig,
    /// Who may read the server's data.
    #[serde(default)]
    pub serve: ServeConfig,
    /// The folder of the config file (relative paths in it are relative to this);
    /// None for the built-in defaults (the working directory).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// `[queries]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueriesConfig {
    /// Folder of custom metric `.sql` files (default `./queries/custom`, relative
    /// to the config file).
    pub custom_dir: Option<PathBuf>,
}

/// `[north_star]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NorthStarConfig {
    /// The North Star: a query name in `queries/north_star/`.
    #[serde(default = "default_north_star")]
    pub metric: String,
    /// The org's developer count for `ticket_ops` (default: distinct commit authors).
    pub developers: Option<u32>,
}

impl Default for NorthStarConfig {
    fn default() -> Self {
        NorthStarConfig {
            metric: default_north_star(),
            developers: None,
        }
    }
}

fn default_north_star() -> String {
    "platform_adoption".into()
}

/// `[lake]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// A local folder.
    #[serde(default = "default_lake_path")]
    pub path: PathBuf,
    /// A write that leaves a table with more visible files than this compacts it
    /// (0: never; `northstar compact` still does).
    #[serde(default = "default_compact_after_files")]
    pub compact_after_files: usize,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            path: default_lake_path(),
            compact_after_files: default_compact_after_files(),
        }
    }
}

fn default_compact_after_files() -> usize {
    crate::lake::DEFAULT_COMPACT_AFTER_FILES
}

fn default_lake_path() -> PathBuf {
    PathBuf::from("./northstar-data")
}

/// Where change lead time starts (DESIGN.md "Change lead time").
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LeadTimeStart {
    /// The commit's author date (DORA's "committed to version control").
    #[default]
    Authored,
    /// The commit's committer date.
    Committed,
    /// When the commit's pull request was opened.
    PrCreated,
    /// When the commit's pull request was merged.
    PrMerged,
}

impl LeadTimeStart {
    /// The name bound to `$lead_time_start` in the queries.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadTimeStart::Authored => "authored",
            LeadTimeStart::Committed => "committed",
            LeadTimeStart::PrCreated => "pr_created",
            LeadTimeStart::PrMerged => "pr_merged",
        }
    }
}

/// `[metrics]`: the documented choices behind each figure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSettings {
    /// Start point of change lead time.
    #[serde(default)]
    pub lead_time_start: LeadTimeStart,
    /// How far back from an incident's start a deployment of the same service may be
    /// to be blamed for it when nothing links them explicitly.
    #[serde(default = "default_link_window_days")]
    pub link_window_days: u32,
    /// Groups with fewer samples than this are flagged `low_sample` in the output.
    #[serde(default = "default_min_n")]
    pub min_n: u32,
}

impl Default for MetricSettings {
    fn default() -> Self {
        MetricSettings {
            lead_time_start: LeadTimeStart::default(),
            link_window_days: default_link_window_days(),
            min_n: default_min_n(),
        }
    }
}

fn default_link_window_days() -> u32 {
    7
}

fn default_min_n() -> u32 {
    5
}

/// A POSIX environment variable name: letters, digits and `_`, not starting with a
/// digit.
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.base_dir = Some(
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        );
        Ok(config)
    }

    /// The folder of custom metric SQL files: `[queries] custom_dir`, else
    /// `queries/custom`, relative to the config file's folder (the working directory
    /// without a config file).
    pub fn custom_dir(&self) -> PathBuf {
        let base = self.base_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        match &self.queries.custom_dir {
            Some(dir) => base.join(dir),
            None => base.join("queries").join("custom"),
        }
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config {
            key: origin.to_string(),
            reason: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        for token in &self.serve.tokens {
            if !is_env_name(&token.env) {
                return Err(Error::Config {
                    key: format!("serve.tokens (env {})", token.env),
                    reason: "not an environment variable name (letters, digits, `_`)".into(),
                });
            }
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.sources {
            if s.name.trim().is_empty() {
                return Err(Error::Config {
                    key: "sources.name".into(),
                    reason: "must not be empty".into(),
                });
            }
            if !names.insert(s.name.as_str()) {
                return Err(Error::Config {
                    key: format!("sources.{}", s.name),
                    reason: "two sources share this name".into(),
                });
            }
        }
        okrs::validate(&self.okrs, &self.okr_status)?;
        self.scorecards.validate()?;
        self.cost.validate()?;
        if self.metrics.link_window_days == 0 {
            return Err(Error::Config {
                key: "metrics.link_window_days".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../northstar.example.toml");
        let config = Config::parse(text, "northstar.example.toml").unwrap();
        assert_eq!(config.metrics.link_window_days, 7);
        assert!(!config.sources.is_empty());
    }

    #[test]
    fn unknown_keys_and_duplicate_names_are_rejected() {
        assert!(Config::parse("[lake]\npth = 'x'", "t").is_err());
        let dup = "[[sources]]\nkind='github'\nname='a'\nrepos=['x/y']\n[[sources]]\nkind='gitlab'\nname='a'\nprojects=['g/p']\n";
        assert!(
            Config::parse(dup, "t")
                .unwrap_err()
                .to_string()
                .contains("share")
        );
    }

    #[test]
    fn missing_token_names_the_variable_not_a_value() {
        let text = "[[sources]]\nkind='github'\nname='gh'\nrepos=['a/b']\ntoken_env='NORTHSTAR_TEST_SURELY_UNSET'";
        let config = Config::parse(text, "t").unwrap();
        let s = &config.sources[0];
        let err = s.token().unwrap_err().to_string();
        assert!(err.contains("NORTHSTAR_TEST_SURELY_UNSET"), "{err}");
    }

    #[test]
    fn token_variables_must_be_variable_names() {
        let text = "[[serve.tokens]]\nenv = 'MY-TOKEN'\nrole = 'platform'";
        let err = Config::parse(text, "t").unwrap_err().to_string();
        assert!(err.contains("serve.tokens (env MY-TOKEN)"), "{err}");
        assert!(is_env_name("_A1") && !is_env_name("1A") && !is_env_name(""));
    }
}
