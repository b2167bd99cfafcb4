//! `[[sources]]`: one table per source, its keys decided by its `kind`.
//!
//! Each kind is its own struct with `deny_unknown_fields`, so a key another kind
//! reads (or a typo) is an error naming the source, its kind and the key, with no
//! list of which key belongs to which kind to keep in step. serde's internally
//! tagged enums do not reject unknown keys inside a variant, so a source table is
//! read as a plain table first, its `kind` looked up, and the table deserialized
//! into that kind's struct.
//!
//! Values are checked here too (dates parsed, globs compiled, environment variable
//! names well-formed), so a collector never meets a config it cannot use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::de::{DeserializeOwned, Error as _, IgnoredAny};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// One `[[sources]]` entry: what every kind has, and its kind's own settings.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// A unique name; ids collected from it are namespaced by it.
    pub name: String,
    /// Earliest day to collect on the first run (default: everything).
    pub since: Option<NaiveDate>,
    /// Base URL (override for self-hosted instances and tests; billing: the S3
    /// endpoint).
    pub api_url: Option<String>,
    /// Name of the environment variable holding the token.
    pub token_env: Option<String>,
    /// HTTP behaviour (defaults for the kinds that do not use HTTP).
    pub http: HttpSettings,
    /// Catalog service name per repository, project or source service (default:
    /// the repository's name).
    pub services: BTreeMap<String, String>,
    /// The kind and its own settings.
    pub kind: SourceKind,
}

/// The kinds of source northstar can collect from, with each kind's settings.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// GitHub REST API.
    Github(GithubSource),
    /// GitLab REST API.
    Gitlab(GitlabSource),
    /// A local git repository.
    Git(GitSource),
    /// Jira Cloud / Service Management.
    Jira(JiraSource),
    /// PagerDuty REST API.
    Pagerduty(PagerdutySource),
    /// ServiceNow Table API.
    Servicenow(ServicenowSource),
    /// Billing export files (FOCUS or native).
    Billing(BillingSource),
}

impl SourceKind {
    /// Every kind as written in `kind = "..."`.
    pub const NAMES: [&'static str; 7] = [
        "github",
        "gitlab",
        "git",
        "jira",
        "pagerduty",
        "servicenow",
        "billing",
    ];

    /// The kind as written in `kind = "..."`.
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Github(_) => "github",
            SourceKind::Gitlab(_) => "gitlab",
            SourceKind::Git(_) => "git",
            SourceKind::Jira(_) => "jira",
            SourceKind::Pagerduty(_) => "pagerduty",
            SourceKind::Servicenow(_) => "servicenow",
            SourceKind::Billing(_) => "billing",
        }
    }
}

/// What the delivery kinds (GitHub, GitLab, git) share: how a deployment is judged.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Environment names (case-insensitive) that are production, besides those the
    /// API marks as production.
    pub production_environments: Vec<String>,
    /// A deployment payload field naming the service (monorepos).
    pub service_field: Option<String>,
    /// How deployments are flagged hotfix / rollback / via the platform.
    pub rules: DeliveryRules,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            production_environments: default_production_environments(),
            service_field: None,
            rules: DeliveryRules::default(),
        }
    }
}

/// `kind = "github"`.
#[derive(Debug, Clone)]
pub struct GithubSource {
    /// `owner/repo` names to read.
    pub repos: Vec<String>,
    /// Read every repository of this organisation.
    pub org: Option<String>,
    /// What counts as a deployment.
    pub mode: DeliveryMode,
    /// `workflow_runs` mode: workflow names or paths (globs) that deploy.
    pub workflows: Vec<String>,
    /// Environment variable holding the HMAC key of webhook deliveries to
    /// `/webhooks/<name>`.
    pub webhook_secret_env: Option<String>,
    /// How deployments are judged.
    pub delivery: DeliverySettings,
}

/// `kind = "gitlab"`.
#[derive(Debug, Clone)]
pub struct GitlabSource {
    /// Project ids or `group/project` paths.
    pub projects: Vec<String>,
    /// Read every project of this group (and its subgroups).
    pub group: Option<String>,
    /// Environment variable holding the `X-Gitlab-Token` of webhook deliveries to
    /// `/webhooks/<name>`.
    pub webhook_secret_env: Option<String>,
    /// How deployments are judged.
    pub delivery: DeliverySettings,
}

/// `kind = "git"`.
#[derive(Debug, Clone)]
pub struct GitSource {
    /// The local clone.
    pub path: PathBuf,
    /// Tags matching this glob are production deployments (default `v*`).
    pub deploy_tags: Option<String>,
    /// How deployments are judged (`rules` only: tags carry no payload).
    pub delivery: DeliverySettings,
}

/// `kind = "jira"`.
#[derive(Debug, Clone)]
pub struct JiraSource {
    /// Environment variable with the account email (Basic auth with the token).
    pub email_env: Option<String>,
    /// The JQL selecting issues (the collector adds the `updated` window).
    pub jql: Option<String>,
    /// How issues become tickets and incidents.
    pub tickets: TicketMapping,
}

/// `kind = "pagerduty"`.
#[derive(Debug, Clone)]
pub struct PagerdutySource {
    /// How PagerDuty incidents become incidents.
    pub tickets: TicketMapping,
}

/// `kind = "servicenow"`.
#[derive(Debug, Clone)]
pub struct ServicenowSource {
    /// Environment variable with the user name (Basic auth with the password in
    /// `token_env`).
    pub user_env: Option<String>,
    /// The request table read besides `incident` (default `sc_req_item`).
    pub request_table: Option<String>,
    /// How records become tickets and incidents.
    pub tickets: TicketMapping,
}

/// `kind = "billing"`.
#[derive(Debug, Clone)]
pub struct BillingSource {
    /// A glob of export files or an `s3://bucket/prefix/*.csv.gz` URL.
    pub path: String,
    /// The export format of every file (detected per file when omitted).
    pub format: Option<crate::billing::Format>,
    /// Values for columns the exports leave out (`BillingCurrency = "USD"`).
    pub set: BTreeMap<String, String>,
}

impl SourceConfig {
    /// The delivery settings of a GitHub, GitLab or git source.
    pub fn delivery(&self) -> Option<&DeliverySettings> {
        match &self.kind {
            SourceKind::Github(s) => Some(&s.delivery),
            SourceKind::Gitlab(s) => Some(&s.delivery),
            SourceKind::Git(s) => Some(&s.delivery),
            _ => None,
        }
    }

    /// The ticket mapping of a Jira, PagerDuty or ServiceNow source.
    pub fn tickets(&self) -> Option<&TicketMapping> {
        match &self.kind {
            SourceKind::Jira(s) => Some(&s.tickets),
            SourceKind::Pagerduty(s) => Some(&s.tickets),
            SourceKind::Servicenow(s) => Some(&s.tickets),
            _ => None,
        }
    }

    /// The variable naming the webhook secret, for the kinds that take webhooks.
    pub fn webhook_secret_env(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Github(s) => s.webhook_secret_env.as_deref(),
            SourceKind::Gitlab(s) => s.webhook_secret_env.as_deref(),
            _ => None,
        }
    }

    fn bad(&self, key: &str, reason: impl Into<String>) -> Error {
        Error::Config {
            key: format!("sources.{}.{key}", self.name),
            reason: reason.into(),
        }
    }

    /// The token from the environment; an error names the variable, never its value.
    pub fn token(&self) -> Result<Option<String>> {
        self.env_value("token_env", self.token_env.as_deref())
    }

    /// The webhook secret from the environment, when the source takes webhooks.
    pub fn webhook_secret(&self) -> Result<Option<String>> {
        self.env_value("webhook_secret_env", self.webhook_secret_env())
    }

    fn env_value(&self, key: &str, var: Option<&str>) -> Result<Option<String>> {
        let Some(var) = var else {
            return Ok(None);
        };
        std::env::var(var)
            .map(Some)
            .map_err(|_| self.bad(key, format!("environment variable {var} is not set")))
    }
}

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

/// The table as kind `kind`'s struct; an unknown key is named with the kind.
fn read<T: DeserializeOwned>(table: toml::Table, name: &str, kind: &str) -> Result<T> {
    T::deserialize(table).map_err(|e| Error::Config {
        key: format!("sources.{name}"),
        reason: format!("kind `{kind}`: {}", e.message().trim()),
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

// The per-kind tables as written. Keys shared by several kinds are repeated in each
// kind that reads them: that repetition is what lets serde reject every other key.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubToml {
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
    webhook_secret_env: Option<String>,
    #[serde(default)]
    repos: Vec<String>,
    org: Option<String>,
    #[serde(default)]
    mode: DeliveryMode,
    #[serde(default)]
    workflows: Vec<String>,
    #[serde(default = "default_production_environments")]
    production_environments: Vec<String>,
    service_field: Option<String>,
    #[serde(default)]
    rules: DeliveryRules,
}

impl GithubToml {
    fn into_config(self) -> Result<SourceConfig> {
        Ok(SourceConfig {
            since: since(&self.name, self.since)?,
            name: self.name,
            api_url: self.api_url,
            token_env: self.token_env,
            http: self.http,
            services: self.services,
            kind: SourceKind::Github(GithubSource {
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
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitlabToml {
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

impl GitlabToml {
    fn into_config(self) -> Result<SourceConfig> {
        Ok(SourceConfig {
            since: since(&self.name, self.since)?,
            name: self.name,
            api_url: self.api_url,
            token_env: self.token_env,
            http: self.http,
            services: self.services,
            kind: SourceKind::Gitlab(GitlabSource {
                projects: self.projects,
                group: self.group,
                webhook_secret_env: self.webhook_secret_env,
                delivery: DeliverySettings {
                    production_environments: self.production_environments,
                    service_field: self.service_field,
                    rules: self.rules,
                },
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitToml {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    name: String,
    path: Option<PathBuf>,
    deploy_tags: Option<String>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JiraToml {
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
    email_env: Option<String>,
    jql: Option<String>,
    #[serde(default)]
    tickets: TicketMapping,
}

impl JiraToml {
    fn into_config(self) -> Result<SourceConfig> {
        Ok(SourceConfig {
            since: since(&self.name, self.since)?,
            name: self.name,
            api_url: self.api_url,
            token_env: self.token_env,
            http: self.http,
            services: self.services,
            kind: SourceKind::Jira(JiraSource {
                email_env: self.email_env,
                jql: self.jql,
                tickets: self.tickets,
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PagerdutyToml {
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
    #[serde(default)]
    tickets: TicketMapping,
}

impl PagerdutyToml {
    fn into_config(self) -> Result<SourceConfig> {
        Ok(SourceConfig {
            since: since(&self.name, self.since)?,
            name: self.name,
            api_url: self.api_url,
            token_env: self.token_env,
            http: self.http,
            services: self.services,
            kind: SourceKind::Pagerduty(PagerdutySource {
                tickets: self.tickets,
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicenowToml {
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
    user_env: Option<String>,
    request_table: Option<String>,
    #[serde(default)]
    tickets: TicketMapping,
}

impl ServicenowToml {
    fn into_config(self) -> Result<SourceConfig> {
        Ok(SourceConfig {
            since: since(&self.name, self.since)?,
            name: self.name,
            api_url: self.api_url,
            token_env: self.token_env,
            http: self.http,
            services: self.services,
            kind: SourceKind::Servicenow(ServicenowSource {
                user_env: self.user_env,
                request_table: self.request_table,
                tickets: self.tickets,
            }),
        })
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

impl SourceConfig {
    /// Required keys, environment variable names, globs and HTTP settings.
    fn validate(&self) -> Result<()> {
        self.check_required()?;
        for (key, var) in [
            ("token_env", self.token_env.as_deref()),
            ("webhook_secret_env", self.webhook_secret_env()),
            ("email_env", self.email_env()),
            ("user_env", self.user_env()),
        ] {
            if let Some(var) = var
                && !is_env_name(var)
            {
                return Err(self.bad(
                    key,
                    format!("`{var}` is not an environment variable name (letters, digits, `_`)"),
                ));
            }
        }
        self.check_globs()?;
        let http = &self.http;
        if http.concurrency == 0 {
            return Err(self.bad("http.concurrency", "must be at least 1"));
        }
        if http.timeout_secs.is_nan() || http.timeout_secs <= 0.0 {
            return Err(self.bad("http.timeout_secs", "must be positive"));
        }
        if http.per_page == 0 || http.per_page > 100 {
            return Err(self.bad("http.per_page", "must be between 1 and 100"));
        }
        Ok(())
    }

    fn email_env(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Jira(s) => s.email_env.as_deref(),
            _ => None,
        }
    }

    fn user_env(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Servicenow(s) => s.user_env.as_deref(),
            _ => None,
        }
    }

    fn check_required(&self) -> Result<()> {
        match &self.kind {
            SourceKind::Github(g) if g.repos.is_empty() && g.org.is_none() => {
                Err(self.bad("repos", "a github source needs `repos` or `org`"))
            }
            SourceKind::Github(g)
                if g.mode == DeliveryMode::WorkflowRuns && g.workflows.is_empty() =>
            {
                Err(self.bad("workflows", "workflow_runs mode needs `workflows`"))
            }
            SourceKind::Gitlab(g) if g.projects.is_empty() && g.group.is_none() => {
                Err(self.bad("projects", "a gitlab source needs `projects` or `group`"))
            }
            SourceKind::Jira(_) if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a jira source needs `api_url` (https://SITE.atlassian.net)",
            )),
            SourceKind::Servicenow(_) if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a servicenow source needs `api_url` (https://INSTANCE.service-now.com)",
            )),
            _ => Ok(()),
        }
    }

    /// Compiles every glob once, so a bad one fails the load, not a later run.
    fn check_globs(&self) -> Result<()> {
        let mut globs: Vec<(String, &str)> = Vec::new();
        if let Some(d) = self.delivery() {
            let r = &d.rules;
            for (key, list) in [
                ("hotfix_refs", &r.hotfix_refs),
                ("rollback_titles", &r.rollback_titles),
                ("platform_workflows", &r.platform_workflows),
                ("platform_creators", &r.platform_creators),
            ] {
                globs.extend(list.iter().map(|g| (format!("rules.{key}"), g.as_str())));
            }
        }
        match &self.kind {
            SourceKind::Github(g) => {
                globs.extend(g.workflows.iter().map(|w| ("workflows".into(), w.as_str())));
            }
            SourceKind::Git(g) => {
                globs.extend(g.deploy_tags.as_deref().map(|t| ("deploy_tags".into(), t)));
            }
            _ => {}
        }
        for rule in self.tickets().map_or(&[][..], |t| &t.categories) {
            for (key, glob) in [
                ("label", &rule.label),
                ("issue_type", &rule.issue_type),
                ("request_type", &rule.request_type),
            ] {
                globs.extend(
                    glob.as_deref()
                        .map(|g| (format!("tickets.categories.{key}"), g)),
                );
            }
        }
        for (key, glob) in globs {
            glob::Pattern::new(glob)
                .map_err(|e| self.bad(&key, format!("bad pattern `{glob}`: {e}")))?;
        }
        Ok(())
    }
}

/// A POSIX environment variable name: letters, digits and `_`, not starting with a
/// digit.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `[sources.tickets]`: mapping service-desk records to `tickets` and `incidents`.
///
/// Field references are strings: `field:<id>` (a field, e.g. `field:customfield_10050`
/// or `field:assignment_group`), `component` (the first component), or
/// `label:<glob>` (the first label matching, with the glob's literal prefix removed,
/// e.g. `label:svc-*` turns `svc-checkout` into `checkout`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketMapping {
    /// Issue types (Jira) or tables (ServiceNow: `incident`) that are incidents.
    #[serde(default = "default_incident_types")]
    pub incident_types: Vec<String>,
    /// Issue types that are infrastructure requests; empty means every issue that
    /// is not an incident.
    #[serde(default)]
    pub request_types: Vec<String>,
    /// Where an incident's service comes from (`field:…`, `component`, `label:…`).
    pub service_from: Option<String>,
    /// A field holding the deployment id or commit SHA that caused an incident;
    /// without it, the summary and description are searched for a 40-hex SHA.
    pub caused_by_field: Option<String>,
    /// Jira Service Management: the request-type custom field
    /// (e.g. `customfield_10010`).
    pub request_type_field: Option<String>,
    /// Where the requesting team comes from.
    pub requester_team_from: Option<String>,
    /// Where the assigned team comes from.
    pub assignee_team_from: Option<String>,
    /// Category rules, first match wins; unmatched tickets get their request type,
    /// else their issue type.
    #[serde(default)]
    pub categories: Vec<CategoryRule>,
    /// Priority or urgency name → severity (PagerDuty `high`, Jira `Highest`,
    /// ServiceNow `1`); unmapped names are kept as they are.
    #[serde(default)]
    pub severities: BTreeMap<String, String>,
}

impl Default for TicketMapping {
    fn default() -> Self {
        TicketMapping {
            incident_types: default_incident_types(),
            request_types: Vec::new(),
            service_from: None,
            caused_by_field: None,
            request_type_field: None,
            requester_team_from: None,
            assignee_team_from: None,
            categories: Vec::new(),
            severities: BTreeMap::new(),
        }
    }
}

fn default_incident_types() -> Vec<String> {
    vec!["Incident".into()]
}

/// One `[[sources.tickets.categories]]` rule: every condition given must hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    /// A label the ticket carries (glob).
    pub label: Option<String>,
    /// The issue type (glob).
    pub issue_type: Option<String>,
    /// The request type (glob).
    pub request_type: Option<String>,
    /// The category assigned.
    pub category: String,
}

/// What a GitHub source treats as a deployment.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// The Deployments API and its statuses.
    #[default]
    Deployments,
    /// Published releases.
    Releases,
    /// Completed runs of the workflows named in `workflows`.
    WorkflowRuns,
}

/// `[sources.rules]`: patterns are globs (`*` any text, `?` one character).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRules {
    /// Refs or branches whose deployments are hotfixes.
    #[serde(default = "default_hotfix_refs")]
    pub hotfix_refs: Vec<String>,
    /// Titles (PR, release, run or commit message) that mark a rollback.
    #[serde(default = "default_rollback_titles")]
    pub rollback_titles: Vec<String>,
    /// A deployment payload field holding `planned`, `hotfix` or `rollback`.
    pub kind_field: Option<String>,
    /// Workflow paths whose deployments went through the platform.
    #[serde(default)]
    pub platform_workflows: Vec<String>,
    /// Creator logins whose deployments went through the platform.
    #[serde(default)]
    pub platform_creators: Vec<String>,
    /// A deployment payload field that is `true` when the platform deployed it.
    pub platform_field: Option<String>,
}

impl Default for DeliveryRules {
    fn default() -> Self {
        DeliveryRules {
            hotfix_refs: default_hotfix_refs(),
            rollback_titles: default_rollback_titles(),
            kind_field: None,
            platform_workflows: Vec::new(),
            platform_creators: Vec::new(),
            platform_field: None,
        }
    }
}

fn default_production_environments() -> Vec<String> {
    vec!["production".into(), "prod".into()]
}

fn default_hotfix_refs() -> Vec<String> {
    vec!["hotfix/*".into(), "hotfix-*".into()]
}

fn default_rollback_titles() -> Vec<String> {
    vec!["Revert *".into(), "Rollback*".into(), "rollback*".into()]
}

/// `[sources.http]`: how the shared HTTP client treats this source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Per-request timeout, seconds (connect, send and read the whole body).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: f64,
    /// Retries after the first attempt for 5xx, timeouts, resets and rate limits.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// First backoff step, seconds; doubled per retry, with full jitter.
    #[serde(default = "default_backoff_secs")]
    pub backoff_secs: f64,
    /// The longest a rate limit may make us wait before giving up, seconds.
    #[serde(default = "default_max_wait_secs")]
    pub max_wait_secs: f64,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Re-read this much before the watermark, for late and eventually consistent data.
    #[serde(default = "default_overlap_minutes")]
    pub overlap_minutes: u32,
    /// Items per page.
    #[serde(default = "default_per_page")]
    pub per_page: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout_secs: default_timeout_secs(),
            max_retries: default_max_retries(),
            backoff_secs: default_backoff_secs(),
            max_wait_secs: default_max_wait_secs(),
            concurrency: default_concurrency(),
            overlap_minutes: default_overlap_minutes(),
            per_page: default_per_page(),
        }
    }
}

fn default_timeout_secs() -> f64 {
    30.0
}
fn default_max_retries() -> u32 {
    5
}
fn default_backoff_secs() -> f64 {
    1.0
}
fn default_max_wait_secs() -> f64 {
    900.0
}
fn default_concurrency() -> usize {
    4
}
fn default_overlap_minutes() -> u32 {
    30
}
fn default_per_page() -> u32 {
    100
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn err(source: &str) -> String {
        let text = format!("[[sources]]\nname = 's'\n{source}\n");
        Config::parse(&text, "t").unwrap_err().to_string()
    }

    #[test]
    fn a_key_of_another_kind_names_the_kind_and_the_key() {
        let e = err("kind = 'github'\nrepos = ['a/b']\nprojects = ['g/p']");
        assert!(
            e.contains("kind `github`") && e.contains("`projects`"),
            "{e}"
        );
        let e = err("kind = 'jira'\napi_url = 'https://x'\nwebhook_secret_env = 'S'");
        assert!(
            e.contains("kind `jira`") && e.contains("`webhook_secret_env`"),
            "{e}"
        );
        let e = err("kind = 'billing'\npath = '*.csv'\n[sources.http]\ntimeout_secs = 1.0");
        assert!(e.contains("kind `billing`") && e.contains("`http`"), "{e}");
    }

    #[test]
    fn an_unknown_kind_lists_the_known_ones() {
        let e = err("kind = 'bitbucket'");
        assert!(
            e.contains("unknown kind `bitbucket`") && e.contains("gitlab"),
            "{e}"
        );
    }

    #[test]
    fn since_is_a_date() {
        let e = err("kind = 'gitlab'\nprojects = ['g/p']\nsince = '2024-13-01'");
        assert!(
            e.contains("sources.s.since") && e.contains("YYYY-MM-DD"),
            "{e}"
        );
        let ok = "[[sources]]\nkind='gitlab'\nname='s'\nprojects=['g/p']\nsince='2024-02-01'";
        let config = Config::parse(ok, "t").unwrap();
        assert_eq!(
            config.sources[0].since,
            chrono::NaiveDate::from_ymd_opt(2024, 2, 1)
        );
    }

    #[test]
    fn globs_compile_at_load() {
        let e = err("kind = 'github'\nrepos = ['a/b']\n[sources.rules]\nhotfix_refs = ['[x']");
        assert!(
            e.contains("sources.s.rules.hotfix_refs") && e.contains("bad pattern"),
            "{e}"
        );
        let e = err("kind = 'jira'\napi_url = 'https://x'\n\
             [[sources.tickets.categories]]\nlabel = 'db[*'\ncategory = 'database'");
        assert!(e.contains("sources.s.tickets.categories.label"), "{e}");
    }

    #[test]
    fn environment_variable_names_are_checked() {
        let e = err("kind = 'github'\nrepos = ['a/b']\ntoken_env = 'GITHUB TOKEN'");
        assert!(
            e.contains("sources.s.token_env") && e.contains("`GITHUB TOKEN`"),
            "{e}"
        );
        let e = err("kind = 'servicenow'\napi_url = 'https://x'\nuser_env = '1USER'");
        assert!(e.contains("sources.s.user_env"), "{e}");
    }

    #[test]
    fn required_keys_keep_their_messages() {
        let e = err("kind = 'github'");
        assert!(e.contains("a github source needs `repos` or `org`"), "{e}");
        let e = err("kind = 'git'");
        assert!(e.contains("a git source needs `path`"), "{e}");
    }
}
