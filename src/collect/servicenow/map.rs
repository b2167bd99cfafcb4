//! ServiceNow Table API records → `incidents` and `tickets` rows.
//!
//! Records are read with `sysparm_display_value=false`: every value is the raw
//! value as text, times are `YYYY-MM-DD HH:MM:SS` in UTC, and a reference field is
//! the referenced record's `sys_id`. Names come from dot-walked fields
//! (`assignment_group.name`), which the Table API returns under that very key.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::collect::service_desk::{Incident, Ticket};
use crate::collect::ticket_rules::{FieldRef, FieldSource, TicketRules};
use crate::config::TicketMapping;

/// Fields every incident read asks for.
const INCIDENT_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "short_description",
    "description",
    "priority",
    "urgency",
    "state",
    "opened_at",
    "work_start",
    "resolved_at",
    "closed_at",
    "sys_created_on",
    "sys_updated_on",
];

/// Fields every request read asks for.
const REQUEST_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "short_description",
    "cat_item",
    "cat_item.name",
    "priority",
    "state",
    "opened_at",
    "work_start",
    "resolved_at",
    "closed_at",
    "sys_created_on",
    "sys_updated_on",
];

/// An incident's service when `tickets.service_from` is not set: the incident's
/// "Service" (`business_service`), by name.
pub const DEFAULT_SERVICE_FIELD: &str = "business_service.name";

/// A request's assigned team when `tickets.assignee_team_from` is not set: the
/// assignment group, by name (its `sys_id` would mean nothing in a report).
pub const DEFAULT_ASSIGNEE_FIELD: &str = "assignment_group.name";

/// A field reference as a field id: `field:cmdb_ci.name` or plain `u_deployment`.
fn field_id(reference: &str) -> &str {
    reference.strip_prefix("field:").unwrap_or(reference)
}

/// `base`, `defaults` and the fields the mapping reads (`field:` references and
/// plain field names), each once.
fn with_mapping(base: &[&str], defaults: &[&str], fields: &[Option<&str>]) -> String {
    let mut list: Vec<&str> = base.iter().chain(defaults).copied().collect();
    list.extend(fields.iter().flatten());
    let mut seen = std::collections::HashSet::new();
    list.retain(|f| !f.is_empty() && seen.insert(*f));
    list.join(",")
}

/// `sysparm_fields` of incident reads: the standard fields and the mapping's.
pub fn incident_fields(m: &TicketMapping) -> String {
    with_mapping(
        INCIDENT_FIELDS,
        &[DEFAULT_SERVICE_FIELD],
        &[
            m.service_from.as_ref().and_then(FieldRef::field_id),
            (m.caused_by_field.as_deref())
                .filter(|f| f.starts_with("field:") || !f.contains(':'))
                .map(field_id),
        ],
    )
}

/// `sysparm_fields` of request reads: the standard fields and the mapping's.
pub fn request_fields(m: &TicketMapping) -> String {
    with_mapping(
        REQUEST_FIELDS,
        &[DEFAULT_ASSIGNEE_FIELD],
        &[&m.requester_team_from, &m.assignee_team_from]
            .map(|r| r.as_ref().and_then(FieldRef::field_id)),
    )
}

/// A `YYYY-MM-DD HH:MM:SS` UTC time; empty or malformed is `None`.
pub fn time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// One record of a table read.
#[derive(Debug, Clone)]
pub struct Record(pub Map<String, Json>);

impl FieldSource for Record {
    fn field(&self, id: &str) -> Option<String> {
        let text = match self.0.get(id)? {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            // A reference left expanded: `{"value", "display_value", "link"}`.
            Json::Object(o) => o
                .get("display_value")
                .or_else(|| o.get("value"))
                .and_then(Json::as_str)?
                .to_string(),
            _ => return None,
        };
        Some(text).filter(|t| !t.trim().is_empty())
    }
}

impl Record {
    /// A time field.
    pub fn time(&self, id: &str) -> Option<DateTime<Utc>> {
        time(&self.field(id)?)
    }

    /// `sys_id`, the record's identity across reads.
    pub fn sys_id(&self) -> Option<String> {
        self.field("sys_id")
    }

    /// The last update: the read window's order and watermark.
    pub fn updated(&self) -> Option<DateTime<Utc>> {
        self.time("sys_updated_on")
    }

    /// When it was opened (`opened_at`, else its creation).
    fn opened(&self) -> Option<DateTime<Utc>> {
        self.time("opened_at")
            .or_else(|| self.time("sys_created_on"))
    }
}

/// Maps records of one source.
pub struct Mapper<'a> {
    /// The source's name (ids are `<source>:<number>`).
    pub source: &'a str,
    /// The compiled `[sources.tickets]` mapping.
    pub rules: &'a TicketRules,
}

impl Mapper<'_> {
    fn id(&self, r: &Record) -> Option<String> {
        Some(format!("{}:{}", self.source, r.field("number")?))
    }

    /// An `incident` record. Severity: `priority`, else `urgency`, through
    /// `tickets.severities`. Acknowledged: `work_start` ("Actual start"), since
    /// ServiceNow has no acknowledgement field and its audit trail is not read.
    /// Resolved: `resolved_at`, else `closed_at`.
    pub fn incident(&self, r: &Record) -> Option<Incident> {
        let default = FieldRef::Field(DEFAULT_SERVICE_FIELD.into());
        let service = self
            .rules
            .service(r)
            .or_else(|| TicketRules::pick(&default, r).map(|s| self.rules.map_service(&s)));
        let cause = self
            .rules
            .mapping()
            .caused_by_field
            .as_deref()
            .and_then(|f| r.field(field_id(f)));
        let title = r.field("short_description");
        let text = format!(
            "{}\n{}",
            title.as_deref().unwrap_or_default(),
            r.field("description").unwrap_or_default()
        );
        let (deployment, sha) = self.rules.caused_by(cause.as_deref(), &text);
        Some(Incident {
            incident_id: self.id(r)?,
            source: self.source.to_string(),
            service,
            severity: r
                .field("priority")
                .or_else(|| r.field("urgency"))
                .map(|p| self.rules.severity(&p)),
            title,
            started_at: r.opened()?,
            acknowledged_at: r.time("work_start"),
            resolved_at: r.time("resolved_at").or_else(|| r.time("closed_at")),
            caused_by_deployment_id: deployment,
            caused_by_commit_sha: sha,
        })
    }

    /// A record of the request table. Project and issue type are the table's
    /// name; the request type is the catalog item (by name); first response is
    /// `work_start`; resolved is `closed_at`, else `resolved_at`.
    pub fn ticket(&self, table: &str, r: &Record) -> Option<Ticket> {
        let request_type = r.field("cat_item.name").or_else(|| r.field("cat_item"));
        let default = FieldRef::Field(DEFAULT_ASSIGNEE_FIELD.into());
        Some(Ticket {
            ticket_id: self.id(r)?,
            source: self.source.to_string(),
            project: Some(table.to_string()),
            issue_type: Some(table.to_string()),
            category: self
                .rules
                .category(&[], Some(table), request_type.as_deref()),
            request_type,
            requester_team: self.rules.requester_team(r),
            assignee_team: self.rules.assignee_team(r, Some(&default)),
            priority: r.field("priority"),
            status: r.field("state"),
            created_at: r.opened()?,
            first_response_at: r.time("work_start"),
            resolved_at: r.time("closed_at").or_else(|| r.time("resolved_at")),
            labels: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rules(extra: &str) -> TicketRules {
        let text = format!(
            "[[sources]]\nkind='servicenow'\nname='sn'\napi_url='https://x.service-now.com'\n[sources.services]\n'Checkout'='checkout'\n[sources.tickets]\n{extra}"
        );
        let config = Config::parse(&text, "t").expect("config");
        TicketRules::new(&config.sources[0])
    }

    fn record(json: Json) -> Record {
        Record(json.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn fields_add_the_mappings_references_once() {
        let r = rules(
            "service_from='field:cmdb_ci.name'\ncaused_by_field='u_change'\nrequester_team_from='label:x*'",
        );
        let f = incident_fields(r.mapping());
        assert!(
            f.ends_with(",business_service.name,cmdb_ci.name,u_change"),
            "{f}"
        );
        let f = request_fields(r.mapping());
        assert!(f.ends_with(",assignment_group.name"), "{f}");
    }

    #[test]
    fn an_incident_defaults_to_its_business_service_and_urgency() {
        let r = rules("[sources.tickets.severities]\n'2'='sev2'");
        let m = Mapper {
            source: "sn",
            rules: &r,
        };
        let i = m
            .incident(&record(serde_json::json!({
                "number": "INC1", "priority": "", "urgency": "2",
                "opened_at": "", "sys_created_on": "2025-03-01 10:00:00",
                "business_service.name": "Checkout", "closed_at": "2025-03-01 12:00:00",
                "short_description": "broke at 0123456789abcdef0123456789abcdef01234567"
            })))
            .expect("incident");
        assert_eq!(i.incident_id, "sn:INC1");
        assert_eq!(i.service.as_deref(), Some("checkout"));
        assert_eq!(i.severity.as_deref(), Some("sev2"));
        assert_eq!(i.started_at, time("2025-03-01 10:00:00").expect("t"));
        assert_eq!(i.resolved_at, time("2025-03-01 12:00:00"));
        assert!(i.caused_by_commit_sha.is_some() && i.acknowledged_at.is_none());
        assert!(
            m.incident(&record(serde_json::json!({"number": "INC2"})))
                .is_none()
        );
    }
}
