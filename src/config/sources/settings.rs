//! The nested tables of a source: `[sources.tickets]`, `[sources.rules]`,
//! `[sources.http]`, and the GitHub delivery mode.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::pattern::{FieldRef, Pattern};

/// `[sources.tickets]`: mapping service-desk records to `tickets` and `incidents`.
///
/// Field references ([`FieldRef`], checked at load) are strings: `field:<id>` (a field, e.g. `field:customfield_10050`
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
    pub service_from: Option<FieldRef>,
    /// A field holding the deployment id or commit SHA that caused an incident;
    /// without it, the summary and description are searched for a 40-hex SHA.
    pub caused_by_field: Option<String>,
    /// Jira Service Management: the request-type custom field
    /// (e.g. `customfield_10010`).
    pub request_type_field: Option<String>,
    /// Where the requesting team comes from.
    pub requester_team_from: Option<FieldRef>,
    /// Where the assigned team comes from.
    pub assignee_team_from: Option<FieldRef>,
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
    /// A label the ticket carries.
    pub label: Option<Pattern>,
    /// The issue type.
    pub issue_type: Option<Pattern>,
    /// The request type.
    pub request_type: Option<Pattern>,
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
    pub hotfix_refs: Vec<Pattern>,
    /// Titles (PR, release, run or commit message) that mark a rollback.
    #[serde(default = "default_rollback_titles")]
    pub rollback_titles: Vec<Pattern>,
    /// A deployment payload field holding `planned`, `hotfix` or `rollback`.
    pub kind_field: Option<String>,
    /// Workflow paths whose deployments went through the platform.
    #[serde(default)]
    pub platform_workflows: Vec<Pattern>,
    /// Creator logins whose deployments went through the platform.
    #[serde(default)]
    pub platform_creators: Vec<Pattern>,
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

pub(super) fn default_production_environments() -> Vec<String> {
    vec!["production".into(), "prod".into()]
}

fn default_hotfix_refs() -> Vec<Pattern> {
    compiled(&["hotfix/*", "hotfix-*"])
}

fn default_rollback_titles() -> Vec<Pattern> {
    compiled(&["Revert *", "Rollback*", "rollback*"])
}

/// A git source's production tags when `deploy_tags` is not set.
pub(super) fn default_deploy_tags() -> Pattern {
    let mut built_in = compiled(&["v*"]);
    built_in.remove(0)
}

/// Built-in globs, compiled (a unit test holds that every one compiles).
fn compiled(globs: &[&str]) -> Vec<Pattern> {
    globs.iter().filter_map(|g| Pattern::new(g).ok()).collect()
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
    use super::*;

    #[test]
    fn the_built_in_globs_all_compile() {
        assert_eq!(default_hotfix_refs().len(), 2);
        assert_eq!(default_rollback_titles().len(), 3);
        assert_eq!(default_deploy_tags().as_str(), "v*");
    }
}
