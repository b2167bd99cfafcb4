//! `northstar.toml`: parsed, validated, with secrets resolved from the environment.
//!
//! Pipeline description lives here; run-time choices (window, output file) are CLI
//! flags. Secrets are never in the file: a source names the environment variable
//! that holds its token (`token_env`), and the value is read only when needed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

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
    /// Data sources to collect from.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

/// `[lake]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// A local folder.
    #[serde(default = "default_lake_path")]
    pub path: PathBuf,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            path: default_lake_path(),
        }
    }
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

/// The kinds of source northstar can collect from.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// GitHub REST API.
    Github,
    /// GitLab REST API.
    Gitlab,
    /// A local git repository.
    Git,
    /// Jira Cloud / Service Management.
    Jira,
    /// PagerDuty REST API.
    Pagerduty,
    /// Billing export files (FOCUS or native).
    Billing,
}

/// One `[[sources]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Which API.
    pub kind: SourceKind,
    /// A unique name; ids collected from it are namespaced by it.
    pub name: String,
    /// Base URL (override for self-hosted instances and tests).
    pub api_url: Option<String>,
    /// Name of the environment variable holding the token.
    pub token_env: Option<String>,
    /// Repositories, projects or paths to read, as the source understands them.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl SourceConfig {
    /// The token from the environment; an error names the variable, never its value.
    pub fn token(&self) -> Result<Option<String>> {
        let Some(var) = &self.token_env else {
            return Ok(None);
        };
        std::env::var(var).map(Some).map_err(|_| Error::Config {
            key: format!("sources.{}.token_env", self.name),
            reason: format!("environment variable {var} is not set"),
        })
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
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
        let text = include_str!("../northstar.example.toml");
        let config = Config::parse(text, "northstar.example.toml").unwrap();
        assert_eq!(config.metrics.link_window_days, 7);
        assert!(!config.sources.is_empty());
    }

    #[test]
    fn unknown_keys_and_duplicate_names_are_rejected() {
        assert!(Config::parse("[lake]\npth = 'x'", "t").is_err());
        let dup = "[[sources]]\nkind='github'\nname='a'\n[[sources]]\nkind='gitlab'\nname='a'\n";
        assert!(
            Config::parse(dup, "t")
                .unwrap_err()
                .to_string()
                .contains("share")
        );
    }

    #[test]
    fn missing_token_names_the_variable_not_a_value() {
        let s = SourceConfig {
            kind: SourceKind::Github,
            name: "gh".into(),
            api_url: None,
            token_env: Some("NORTHSTAR_TEST_SURELY_UNSET".into()),
            scopes: vec![],
        };
        let err = s.token().unwrap_err().to_string();
        assert!(err.contains("NORTHSTAR_TEST_SURELY_UNSET"), "{err}");
    }
}
