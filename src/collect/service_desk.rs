//! The canonical service-desk records the ticket and incident collectors (Jira,
//! Jira Service Management, PagerDuty, ServiceNow) produce, and their one way into
//! the lake. Like [`super::delivery`], collectors only map source records to these.

use chrono::{DateTime, Utc};

use super::delivery::rows;
use super::written::Written;
use crate::error::Result;
use crate::lake::Lake;
use crate::lake::batch::Value;
use crate::lake::row::RowBuilder;
use crate::lake::tables::TableSpec;

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

impl Incident {
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("incident_id", &self.incident_id)
            .set("source", &self.source)
            .set("service", self.service.clone())
            .set("severity", self.severity.clone())
            .set("title", self.title.clone())
            .set("started_at", self.started_at)
            .set("acknowledged_at", self.acknowledged_at)
            .set("resolved_at", self.resolved_at)
            .set(
                "caused_by_deployment_id",
                self.caused_by_deployment_id.clone(),
            )
            .set("caused_by_commit_sha", self.caused_by_commit_sha.clone())
            .finish()
    }
}

impl Ticket {
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("ticket_id", &self.ticket_id)
            .set("source", &self.source)
            .set("project", self.project.clone())
            .set("issue_type", self.issue_type.clone())
            .set("request_type", self.request_type.clone())
            .set("category", self.category.clone())
            .set("requester_team", self.requester_team.clone())
            .set("assignee_team", self.assignee_team.clone())
            .set("priority", self.priority.clone())
            .set("status", self.status.clone())
            .set("created_at", self.created_at)
            .set("first_response_at", self.first_response_at)
            .set("resolved_at", self.resolved_at)
            .set("labels", self.labels.clone())
            .finish()
    }
}

impl Transition {
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("ticket_id", &self.ticket_id)
            .set("at", self.at)
            .set("from_status", self.from_status.clone())
            .set("to_status", &self.to_status)
            .set("to_category", self.to_category.clone())
            .finish()
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
        for (spec, rows) in [
            rows("ticket_transitions", &self.transitions, Transition::row)?,
            rows("tickets", &self.tickets, Ticket::row)?,
            rows("incidents", &self.incidents, Incident::row)?,
        ] {
            let changed = lake.write_changed(&spec, rows).await?;
            written.record(spec.name, changed);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record type names exactly its table's columns: `finish` fails on a
    /// column left out, unknown or set twice.
    #[test]
    fn each_record_fills_exactly_its_tables_columns() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let incident = Incident {
            incident_id: "s:1".into(),
            source: "s".into(),
            service: None,
            severity: None,
            title: None,
            started_at: at,
            acknowledged_at: None,
            resolved_at: None,
            caused_by_deployment_id: None,
            caused_by_commit_sha: None,
        };
        let ticket = Ticket {
            ticket_id: "s:T-1".into(),
            source: "s".into(),
            project: None,
            issue_type: None,
            request_type: None,
            category: None,
            requester_team: None,
            assignee_team: None,
            priority: None,
            status: None,
            created_at: at,
            first_response_at: None,
            resolved_at: None,
            labels: Vec::new(),
        };
        let transition = Transition {
            ticket_id: "s:T-1".into(),
            at,
            from_status: None,
            to_status: "Done".into(),
            to_category: None,
        };
        rows("incidents", &[incident], Incident::row).unwrap();
        rows("tickets", &[ticket], Ticket::row).unwrap();
        rows("ticket_transitions", &[transition], Transition::row).unwrap();
    }
}
