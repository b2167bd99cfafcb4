//! `northstar.toml`: parsed, validated, with secrets resolved from the environment.
//!
//! Pipeline description lives here; run-time choices (window, output file) are CLI
//! flags. Secrets are never in the file: a source names the environment variable
//! that holds its token (`token_env`), and the value is read only when needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{Error, Result};

pub mod cost;
pub mod engine;
pub mod serve;

pub use cost::CostConfig;
pub use engine::EngineConfig;
pub use serve::{ReportConfig, ServeConfig, TokenConfig};

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
    /// ServiceNow Table API.
    Servicenow,
    /// Billing export files (FOCUS or native).
    Billing,
}

/// One `[[sources]]` entry. One flat table for every kind keeps typos detectable
/// (`deny_unknown_fields`); [`Config::validate`] rejects keys that do not belong to
/// the source's kind.
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
    /// GitHub: `owner/repo` names to read.
    #[serde(default)]
    pub repos: Vec<String>,
    /// GitHub: read every repository of this organisation.
    pub org: Option<String>,
    /// GitLab: project ids or `group/project` paths.
    #[serde(default)]
    pub projects: Vec<String>,
    /// GitLab: read every project of this group (and its subgroups).
    pub group: Option<String>,
    /// git: the local clone.
    pub path: Option<PathBuf>,
    /// git: tags matching this glob are production deployments.
    pub deploy_tags: Option<String>,
    /// GitHub: what counts as a deployment.
    #[serde(default)]
    pub mode: DeliveryMode,
    /// GitHub `workflow_runs` mode: workflow names or paths (globs) that deploy.
    #[serde(default)]
    pub workflows: Vec<String>,
    /// Environment names (case-insensitive) that are production, besides those the
    /// API marks as production.
    #[serde(default = "default_production_environments")]
    pub production_environments: Vec<String>,
    /// Service name per repository or project (default: the repository's name).
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    /// A deployment payload field naming the service (monorepos).
    pub service_field: Option<String>,
    /// How deployments are flagged hotfix / rollback / via the platform.
    #[serde(default)]
    pub rules: DeliveryRules,
    /// Earliest date to collect on the first run (default: everything).
    pub since: Option<String>,
    /// Secret for webhook deliveries to `/webhooks/<name>`: GitHub's HMAC key or
    /// GitLab's `X-Gitlab-Token`, by environment variable name.
    pub webhook_secret_env: Option<String>,
    /// HTTP behaviour.
    #[serde(default)]
    pub http: HttpSettings,
    /// Jira: environment variable with the account email (Basic auth with the token).
    pub email_env: Option<String>,
    /// ServiceNow: environment variable with the user name (Basic auth with the
    /// password in `token_env`).
    pub user_env: Option<String>,
    /// Jira: the JQL selecting issues (the collector adds the `updated` window).
    pub jql: Option<String>,
    /// ServiceNow: the request table read besides `incident` (default `sc_req_item`).
    pub request_table: Option<String>,
    /// Jira / ServiceNow / PagerDuty: how source records become tickets and
    /// incidents.
    #[serde(default)]
    pub tickets: TicketMapping,
    /// billing: the export format of every file (detected per file when omitted).
    pub format: Option<crate::billing::Format>,
    /// billing: values for columns the exports leave out (`BillingCurrency = "USD"`).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
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

impl SourceConfig {
    fn bad(&self, key: &str, reason: impl Into<String>) -> Error {
        Error::Config {
            key: format!("sources.{}.{key}", self.name),
            reason: reason.into(),
        }
    }

    /// Rejects keys that the source's kind does not read, and missing required ones.
    fn validate_for_kind(&self) -> Result<()> {
        let kind = self.kind;
        let only = |key: &str, set: bool, kinds: &[SourceKind]| -> Result<()> {
            if set && !kinds.contains(&kind) {
                return Err(self.bad(key, format!("not used by kind {kind:?}")));
            }
            Ok(())
        };
        use SourceKind::{Git, Github, Gitlab};
        only("repos", !self.repos.is_empty(), &[Github])?;
        only("org", self.org.is_some(), &[Github])?;
        only("projects", !self.projects.is_empty(), &[Gitlab])?;
        only("group", self.group.is_some(), &[Gitlab])?;
        only("path", self.path.is_some(), &[Git, SourceKind::Billing])?;
        only("deploy_tags", self.deploy_tags.is_some(), &[Git])?;
        only("format", self.format.is_some(), &[SourceKind::Billing])?;
        only("set", !self.set.is_empty(), &[SourceKind::Billing])?;
        only("workflows", !self.workflows.is_empty(), &[Github])?;
        only("mode", self.mode != DeliveryMode::Deployments, &[Github])?;
        only("email_env", self.email_env.is_some(), &[SourceKind::Jira])?;
        only("jql", self.jql.is_some(), &[SourceKind::Jira])?;
        only(
            "user_env",
            self.user_env.is_some(),
            &[SourceKind::Servicenow],
        )?;
        only(
            "request_table",
            self.request_table.is_some(),
            &[SourceKind::Servicenow],
        )?;
        match kind {
            Github if self.repos.is_empty() && self.org.is_none() => {
                Err(self.bad("repos", "a github source needs `repos` or `org`"))
            }
            Gitlab if self.projects.is_empty() && self.group.is_none() => {
                Err(self.bad("projects", "a gitlab source needs `projects` or `group`"))
            }
            Git if self.path.is_none() => Err(self.bad("path", "a git source needs `path`")),
            SourceKind::Billing if self.path.is_none() => Err(self.bad(
                "path",
                "a billing source needs `path`: a glob of export files or an s3:// URL",
            )),
            SourceKind::Jira if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a jira source needs `api_url` (https://SITE.atlassian.net)",
            )),
            SourceKind::Servicenow if self.api_url.is_none() => Err(self.bad(
                "api_url",
                "a servicenow source needs `api_url` (https://INSTANCE.service-now.com)",
            )),
            Github if self.mode == DeliveryMode::WorkflowRuns && self.workflows.is_empty() => {
                Err(self.bad("workflows", "workflow_runs mode needs `workflows`"))
            }
            _ if self.http.concurrency == 0 => {
                Err(self.bad("http.concurrency", "must be at least 1"))
            }
            _ if self.http.timeout_secs.is_nan() || self.http.timeout_secs <= 0.0 => {
                Err(self.bad("http.timeout_secs", "must be positive"))
            }
            _ if self.http.per_page == 0 || self.http.per_page > 100 => {
                Err(self.bad("http.per_page", "must be between 1 and 100"))
            }
            _ => Ok(()),
        }
    }

    /// The webhook secret from the environment, when the source takes webhooks.
    pub fn webhook_secret(&self) -> Result<Option<String>> {
        let Some(var) = &self.webhook_secret_env else {
            return Ok(None);
        };
        std::env::var(var).map(Some).map_err(|_| {
            self.bad(
                "webhook_secret_env",
                format!("environment variable {var} is not set"),
            )
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
        let mut names = std::collections::HashSet::new();
        for s in &self.sources {
            if s.name.trim().is_empty() {
                return Err(Error::Config {
                    key: "sources.name".into(),
                    reason: "must not be empty".into(),
                });
            }
            s.validate_for_kind()?;
            if !names.insert(s.name.as_str()) {
                return Err(Error::Config {
                    key: format!("sources.{}", s.name),
                    reason: "two sources share this name".into(),
                });
            }
        }
        self.validate_okrs()?;
        self.validate_scorecards()?;
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

impl Config {
    /// Rule ids are unique. Whether each `check` names a known scorecard query is
    /// the engine's to say: `report::config_check` checks it after loading.
    fn validate_scorecards(&self) -> Result<()> {
        let mut ids = std::collections::HashSet::new();
        for rule in &self.scorecards.rules {
            if !ids.insert(rule.id.as_str()) {
                return Err(Error::Config {
                    key: format!("scorecards.rules.{}", rule.id),
                    reason: "two rules share this id".into(),
                });
            }
        }
        Ok(())
    }

    fn validate_okrs(&self) -> Result<()> {
        let bad = |key: String, reason: &str| Error::Config {
            key,
            reason: reason.into(),
        };
        let t = &self.okr_status;
        if !(0.0..=1.0).contains(&t.at_risk) || !(t.at_risk..=1.0).contains(&t.on_track) {
            return Err(bad(
                "okr_status".into(),
                "need 0 <= at_risk <= on_track <= 1",
            ));
        }
        let mut objectives = std::collections::HashSet::new();
        for o in &self.okrs {
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
}
