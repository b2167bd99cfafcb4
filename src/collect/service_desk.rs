//! The canonical service-desk records the ticket and incident collectors (Jira,
//! Jira Service Management, PagerDuty, ServiceNow) produce, and their one way into
//! the lake. Like [`super::delivery`], collectors only map source records to these.

use chrono::{DateTime, Utc};

use super::written::Written;
use crate::error::Result;
use crate::lake::batch::Value;
use crate::lake::{Lake, tables};

/// An `incidents` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `<source>:<id>`.
    pub incident_id: String,
    /// The source's configured name.
    pub source: String,
    /// Catalog service.
    pub service: Option<String>,
    /// Severity as the source names it after mapping (e.g. `sev1`, `P2`).
    pub severity: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// When it started (was created).
    pub started_at: DateTime<Utc>,
    /// First acknowledgement.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Resolution.
    pub resolved_at: Option<DateTime<Utc>>,
    /// A deployment the source blames.
    pub caused_by_deployment_id: Option<String>,
    /// A commit the source blames.
    pub caused_by_commit_sha: Option<String>,
}

/// A `tickets` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// `<source>:<key>`.
    pub ticket_id: String,
    /// The source's configured name.
    pub source: String,
    /// Project or queue.
    pub project: Option<String>,
    /// Issue type.
    pub issue_type: Option<String>,
    /// Service-desk request type.
    pub request_type: Option<String>,
    /// Category after the config's rules.
    pub category: Option<String>,
    /// Team asking.
    pub requester_team: Option<String>,
    /// Team doing the work.
    pub assignee_team: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Current status name.
    pub status: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// First response by the assignee side, when the source knows it.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Labels.
    pub labels: Vec<String>,
}

/// A `ticket_transitions` row: one status change.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The ticket (`<source>:<key>`).
    pub ticket_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Category of the new status: `new`, `indeterminate` or `done` (Jira's keys).
    pub to_category: Option<String>,
}

/// Everything one collection step produced, written together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceDesk {
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Tickets.
    pub tickets: Vec<Ticket>,
    /// Status changes of the tickets.
    pub transitions: Vec<Transition>,
}

fn ts(t: Option<DateTime<Utc>>) -> Value {
    Value::opt_ts(t.map(|t| t.timestamp_micros()))
}

impl Incident {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.incident_id),
            Value::text(&self.source),
            Value::opt_text(self.service.clone()),
            Value::opt_text(self.severity.clone()),
            Value::opt_text(self.title.clone()),
            ts(Some(self.started_at)),
            ts(self.acknowledged_at),
            ts(self.resolved_at),
            Value::opt_text(self.caused_by_deployment_id.clone()),
            Value::opt_text(self.caused_by_commit_sha.clone()),
        ]
    }
}

impl Ticket {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.ticket_id),
            Value::text(&self.source),
            Value::opt_text(self.project.clone()),
            Value::opt_text(self.issue_type.clone()),
            Value::opt_text(self.request_type.clone()),
            Value::opt_text(self.category.clone()),
            Value::opt_text(self.requester_team.clone()),
            Value::opt_text(self.assignee_team.clone()),
            Value::opt_text(self.priority.clone()),
            Value::opt_text(self.status.clone()),
            ts(Some(self.created_at)),
            ts(self.first_response_at),
            ts(self.resolved_at),
            Value::TextList(self.labels.clone()),
        ]
    }
}

impl Transition {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.ticket_id),
            ts(Some(self.at)),
            Value::opt_text(self.from_status.clone()),
            Value::text(&self.to_status),
            Value::opt_text(self.to_category.clone()),
        ]
    }
}

impl ServiceDesk {
    /// Adds another step's records.
    pub fn extend(&mut self, other: ServiceDesk) {
        self.incidents.extend(other.incidents);
        self.tickets.extend(other.tickets);
        self.transitions.extend(other.transitions);
    }

    /// Writes the records, skipping any the lake already holds unchanged.
    /// Transitions go before their tickets, so a reader never sees a ticket whose
    /// history is missing.
    pub async fn write(&self, lake: &Lake) -> Result<Written> {
        let mut written = Written::default();
        for (table, rows) in [
            (
                "ticket_transitions",
                self.transitions.iter().map(Transition::row).collect(),
            ),
            (
                "tickets",
                self.tickets.iter().map(Ticket::row).collect::<Vec<_>>(),
            ),
            (
                "incidents",
                self.incidents.iter().map(Incident::row).collect(),
            ),
        ] {
            let changed = lake.write_changed(&tables::table(table)?, rows).await?;
            written.record(table, changed);
        }
        Ok(written)
    }
}
