//! The parts of Jira Cloud's REST v3 and Jira Service Management objects northstar
//! reads.
//!
//! Issue fields stay raw JSON: which fields exist depends on the site (custom fields
//! carry ids like `customfield_10010`), and the documented examples hold
//! placeholders (`"updated": 1`) that typed dates would reject for the whole page.
//! [`super::fields`] reads them leniently.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

/// `GET /rest/api/3/search/jql`: one page of issues. There is no `total`; the last
/// page says `isLast: true` and carries no `nextPageToken`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    /// The issues of this page.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// The token for the next page; absent on the last one.
    pub next_page_token: Option<String>,
    /// Whether this is the last page.
    pub is_last: Option<bool>,
}

/// An issue with the fields the search asked for.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    /// `PROJ-123`.
    pub key: String,
    /// Field id → value, only the fields requested.
    #[serde(default)]
    pub fields: Map<String, Json>,
}

/// `GET /rest/api/3/issue/{key}/changelog`: one page of an issue's history, oldest
/// first.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangelogPage {
    /// Change groups.
    #[serde(default)]
    pub values: Vec<History>,
    /// Whether this is the last page.
    pub is_last: Option<bool>,
    /// Change groups in all pages.
    pub total: Option<u64>,
}

/// One change group: everything one user changed at one time.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// When (a Jira timestamp string; the bulk endpoint sends epoch seconds).
    #[serde(default)]
    pub created: Json,
    /// The fields changed.
    #[serde(default)]
    pub items: Vec<ChangeItem>,
}

/// One field change.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    /// The field's name (`status`).
    pub field: Option<String>,
    /// The field's id (`status`), on newer sites.
    pub field_id: Option<String>,
    /// The value before, as text.
    pub from_string: Option<String>,
    /// The value after, as text.
    pub to_string: Option<String>,
}

impl ChangeItem {
    /// Whether this change is a status transition.
    pub fn is_status(&self) -> bool {
        self.field_id.as_deref() == Some("status")
            || self
                .field
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case("status"))
    }
}

/// `GET /rest/api/3/status` item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Display name, e.g. `Waiting for support`.
    pub name: String,
    /// Its category.
    pub status_category: Option<StatusCategory>,
}

/// A status category: `new`, `indeterminate` or `done` (`undefined` when unset).
#[derive(Debug, Clone, Deserialize)]
pub struct StatusCategory {
    /// The category key.
    pub key: Option<String>,
}

/// `GET /rest/servicedeskapi/request/{key}/sla`: a request's SLA metrics. Requests
/// carry a handful, so the first page (50) holds them all.
#[derive(Debug, Clone, Deserialize)]
pub struct SlaPage {
    /// SLA metrics.
    #[serde(default)]
    pub values: Vec<Sla>,
}

/// One SLA metric, e.g. `Time to first response`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    /// Its name.
    pub name: Option<String>,
    /// Cycles that ended (the clock stopped).
    #[serde(default)]
    pub completed_cycles: Vec<SlaCycle>,
}

/// A completed SLA cycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaCycle {
    /// When the clock stopped.
    pub stop_time: Option<SlaDate>,
}

/// JSM's date object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaDate {
    /// Milliseconds since the epoch.
    pub epoch_millis: Option<i64>,
    /// ISO 8601 text.
    pub iso8601: Option<String>,
}
