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

mod settings;
mod table;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::pattern::Pattern;
use crate::error::{Error, Result};
use settings::default_production_environments;
pub use settings::{CategoryRule, DeliveryMode, DeliveryRules, HttpSettings, TicketMapping};

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
    pub workflows: Vec<Pattern>,
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
    pub deploy_tags: Pattern,
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

#[cfg(test)]
mod tests {
    use crate::config::{Config, FieldRef};

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
        let e = err("kind = 'git'\npath = '.'\ndeploy_tags = 'v[0-'");
        assert!(
            e.contains("sources.s.deploy_tags") && e.contains("bad pattern"),
            "{e}"
        );
        let e = err("kind = 'github'\nrepos = ['a/b']\nmode = 'workflow_runs'\nworkflows = ['[']");
        assert!(
            e.contains("sources.s.workflows") && e.contains("bad pattern"),
            "{e}"
        );
    }

    #[test]
    fn ticket_field_references_are_checked_at_load() {
        let e = err(
            "kind = 'jira'\napi_url = 'https://x'\n[sources.tickets]\nservice_from = 'customfield_1'",
        );
        assert!(
            e.contains("sources.s.tickets.service_from") && e.contains("expected `field:<id>`"),
            "{e}"
        );
        let e = err("kind = 'pagerduty'\n[sources.tickets]\nassignee_team_from = 'label:team-['");
        assert!(
            e.contains("sources.s.tickets.assignee_team_from") && e.contains("bad pattern"),
            "{e}"
        );
        let ok = "[[sources]]\nkind='servicenow'\nname='s'\napi_url='https://x'\n\
                  [sources.tickets]\nservice_from='label:svc-*'\nrequester_team_from='field:u_team'";
        let config = Config::parse(ok, "t").unwrap();
        let tickets = config.sources[0].tickets().unwrap();
        assert_eq!(
            tickets.requester_team_from,
            Some(FieldRef::Field("u_team".into()))
        );
    }

    #[test]
    fn api_url_is_an_http_url() {
        for bad in ["api.github.com", "ftp://x.example", "https://", "not a url"] {
            let e = err(&format!(
                "kind = 'github'\nrepos = ['a/b']\napi_url = '{bad}'"
            ));
            assert!(
                e.contains("sources.s.api_url") && e.contains("expected an http(s) URL"),
                "{bad}: {e}"
            );
        }
        let ok = "[[sources]]\nkind='gitlab'\nname='s'\nprojects=['g/p']\napi_url='http://localhost:8080/api/v4'";
        assert!(Config::parse(ok, "t").is_ok());
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
