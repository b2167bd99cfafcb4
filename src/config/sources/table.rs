//! A `[[sources]]` table as written → [`SourceConfig`]: `kind` is read first, then
//! the table is deserialized as that kind's struct, whose `deny_unknown_fields`
//! rejects every key the kind does not read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::de::{DeserializeOwned, Error as _, IgnoredAny};
use serde::{Deserialize, Deserializer};

use super::settings::{default_deploy_tags, default_production_environments};
use super::{
    BillingSource, DeliveryMode, DeliveryRules, DeliverySettings, GitSource, GithubSource,
    GitlabSource, HttpSettings, JiraSource, PagerdutySource, ServicenowSource, SourceConfig,
    SourceKind, TicketMapping,
};
use crate::config::pattern::Pattern;
use crate::error::{Error, Result};

impl<'de> Deserialize<'de> for SourceConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        let source = from_table(table).map_err(|e| match e {
            Error::Config { key, reason } => D::Error::custom(format!("{key}: {reason}")),
            other => D::Error::custom(other),
        })?;
        Ok(source)
    }
}

/// Reads `kind`, deserializes the table as that kind's struct, then checks values.
fn from_table(table: toml::Table) -> Result<SourceConfig> {
    let name = match table.get("name") {
        Some(toml::Value::String(n)) => n.clone(),
        _ => "?".to_string(),
    };
    let bad = |key: &str, reason: String| Error::Config {
        key: format!("sources.{name}.{key}"),
        reason,
    };
    let kind = match table.get("kind") {
        Some(toml::Value::String(k)) => k.clone(),
        Some(other) => return Err(bad("kind", format!("expected a string, got {other}"))),
        None => return Err(bad("kind", "missing".into())),
    };
    let source = match kind.as_str() {
        "github" => read::<GithubToml>(table, &name, &kind)?.into_config(),
        "gitlab" => read::<GitlabToml>(table, &name, &kind)?.into_config(),
        "git" => read::<GitToml>(table, &name, &kind)?.into_config(),
        "jira" => read::<JiraToml>(table, &name, &kind)?.into_config(),
        "pagerduty" => read::<PagerdutyToml>(table, &name, &kind)?.into_config(),
        "servicenow" => read::<ServicenowToml>(table, &name, &kind)?.into_config(),
        "billing" => read::<BillingToml>(table, &name, &kind)?.into_config(),
        other => {
            return Err(bad(
                "kind",
                format!(
                    "unknown kind `{other}`, expected one of {}",
                    SourceKind::NAMES.join(", ")
                ),
            ));
        }
    }?;
    source.validate()?;
    Ok(source)
}

/// The table as kind `kind`'s struct. The error names the key at fault (a key the
/// kind does not read, or a value that fails to compile such as a bad glob:
/// `sources.<name>.rules.hotfix_refs`) and the kind.
fn read<T: DeserializeOwned>(table: toml::Table, name: &str, kind: &str) -> Result<T> {
    serde_path_to_error::deserialize(table).map_err(|e| {
        let mut key = format!("sources.{name}");
        for segment in e.path().iter() {
            if let serde_path_to_error::Segment::Map { key: part } = segment {
                key = format!("{key}.{part}");
            }
        }
        Error::Config {
            key,
            reason: format!("kind `{kind}`: {}", e.inner().message().trim()),
        }
    })
}

/// A date as `since` takes it.
fn since(name: &str, text: Option<String>) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| Error::Config {
            key: format!("sources.{name}.since"),
            reason: format!("expected YYYY-MM-DD, got `{t}`"),
        })
    })
    .transpose()
}

/// A kind that reads an HTTP API: its struct with the keys every such kind shares
/// (`name`, `since`, `api_url`, `token_env`, `http`, `services`) and then its own.
macro_rules! api_source_toml {
    ($raw:ident { $($own:tt)* }) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $raw {
            #[serde(rename = "kind")]
            _kind: IgnoredAny,
            name: String,
            since: Option<String>,
            api_url: Option<String>,
            token_env: Option<String>,
            #[serde(default)]
            http: HttpSettings,
            #[serde(default)]
            services: BTreeMap<String, String>,
            $($own)*
        }
    };
}

/// A source of an HTTP-API kind from its shared keys (name, since, api_url,
/// token_env) and its kind.
fn api_source(
    (name, since_text, api_url, token_env): (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
    http: HttpSettings,
    services: BTreeMap<String, String>,
    kind: SourceKind,
) -> Result<SourceConfig> {
    Ok(SourceConfig {
        since: since(&name, since_text)?,
        name,
        api_url,
        token_env,
        http,
        services,
        kind,
    })
}

// The per-kind tables as written. serde cannot flatten shared keys into a struct
// that denies unknown ones, so each kind's struct lists every key it reads (the
// HTTP-API kinds get theirs from `api_source_toml!`).

api_source_toml! {
    GithubToml {
        webhook_secret_env: Option<String>,
        #[serde(default)]
        repos: Vec<String>,
        org: Option<String>,
        #[serde(default)]
        mode: DeliveryMode,
        #[serde(default)]
        workflows: Vec<Pattern>,
        #[serde(default = "default_production_environments")]
        production_environments: Vec<String>,
        service_field: Option<String>,
        #[serde(default)]
        rules: DeliveryRules,
    }
}

impl GithubToml {
    fn into_config(self) -> Result<SourceConfig> {
        api_source(
            (self.name, self.since, self.api_url, self.token_env),
            self.http,
            self.services,
            SourceKind::Github(GithubSource {
                repos: self.repos,
                org: self.org,
                mode: self.mode,
                workflows: self.workflows,
                webhook_secret_env: self.webhook_secret_env,
                delivery: DeliverySettings {
                    production_environments: self.production_environments,
                    service_field: self.service_field,
                    rules: self.rules,
                },
            }),
        )
    }
}

api_source_toml! {
    GitlabToml {
        webhook_secret_env: Option<String>,
        #[serde(default)]
        projects: Vec<String>,
        group: Option<String>,
        #[serde(default = "default_production_environments")]
        production_environments: Vec<String>,
        service_field: Option<String>,
        #[serde(default)]
        rules: DeliveryRules,
    }
}

impl GitlabToml {
    fn into_config(self) -> Result<SourceConfig> {
        api_source(
            (self.name, self.since, self.api_url, self.token_env),
            self.http,
            self.services,
            SourceKind::Gitlab(GitlabSource {
                projects: self.projects,
                group: self.group,
                webhook_secret_env: self.webhook_secret_env,
                delivery: DeliverySettings {
                    production_environments: self.production_environments,
                    service_field: self.service_field,
                    rules: self.rules,
                },
            }),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitToml {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    name: String,
    path: Option<PathBuf>,
    #[serde(default = "default_deploy_tags")]
    deploy_tags: Pattern,
    #[serde(default)]
    services: BTreeMap<String, String>,
    #[serde(default)]
    rules: DeliveryRules,
}

impl GitToml {
    fn into_config(self) -> Result<SourceConfig> {
        let path = self.path.ok_or_else(|| Error::Config {
            key: format!("sources.{}.path", self.name),
            reason: "a git source needs `path`".into(),
        })?;
        Ok(SourceConfig {
            name: self.name,
            since: None,
            api_url: None,
            token_env: None,
            http: HttpSettings::default(),
            services: self.services,
            kind: SourceKind::Git(GitSource {
                path,
                deploy_tags: self.deploy_tags,
                delivery: DeliverySettings {
                    rules: self.rules,
                    ..DeliverySettings::default()
                },
            }),
        })
    }
}

api_source_toml! {
    JiraToml {
        email_env: Option<String>,
        jql: Option<String>,
        #[serde(default)]
        tickets: TicketMapping,
    }
}

impl JiraToml {
    fn into_config(self) -> Result<SourceConfig> {
        api_source(
            (self.name, self.since, self.api_url, self.token_env),
            self.http,
            self.services,
            SourceKind::Jira(JiraSource {
                email_env: self.email_env,
                jql: self.jql,
                tickets: self.tickets,
            }),
        )
    }
}

api_source_toml! {
    PagerdutyToml {
        #[serde(default)]
        tickets: TicketMapping,
    }
}

impl PagerdutyToml {
    fn into_config(self) -> Result<SourceConfig> {
        api_source(
            (self.name, self.since, self.api_url, self.token_env),
            self.http,
            self.services,
            SourceKind::Pagerduty(PagerdutySource {
                tickets: self.tickets,
            }),
        )
    }
}

api_source_toml! {
    ServicenowToml {
        user_env: Option<String>,
        request_table: Option<String>,
        #[serde(default)]
        tickets: TicketMapping,
    }
}

impl ServicenowToml {
    fn into_config(self) -> Result<SourceConfig> {
        api_source(
            (self.name, self.since, self.api_url, self.token_env),
            self.http,
            self.services,
            SourceKind::Servicenow(ServicenowSource {
                user_env: self.user_env,
                request_table: self.request_table,
                tickets: self.tickets,
            }),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BillingToml {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    name: String,
    path: Option<PathBuf>,
    api_url: Option<String>,
    format: Option<crate::billing::Format>,
    #[serde(default)]
    set: BTreeMap<String, String>,
}

impl BillingToml {
    fn into_config(self) -> Result<SourceConfig> {
        let path = self.path.ok_or_else(|| Error::Config {
            key: format!("sources.{}.path", self.name),
            reason: "a billing source needs `path`: a glob of export files or an s3:// URL".into(),
        })?;
        Ok(SourceConfig {
            name: self.name,
            since: None,
            api_url: self.api_url,
            token_env: None,
            http: HttpSettings::default(),
            services: BTreeMap::new(),
            kind: SourceKind::Billing(BillingSource {
                path: path.to_string_lossy().into_owned(),
                format: self.format,
                set: self.set,
            }),
        })
    }
}
