//! One Jira issue, with its status history, to canonical rows: an `incidents` row for
//! incident types, a `tickets` row and its `ticket_transitions` for request types,
//! nothing for the rest (`[sources.tickets]` decides which is which).
//!
//! Status categories: the changelog names statuses only by name. The issue's own
//! current status carries its category, which is the most precise answer for that
//! name (team-managed projects may reuse a name with another category); other names
//! are looked up in the site's status list, and a name that list lacks, or gives
//! two different categories, has none.
//!
//! The issue's creation is recorded as a transition from nothing into its first
//! status, so the time spent in every status, the first one included (the wait
//! before anyone picked the request up), can be computed from `ticket_transitions`
//! alone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::api;
use super::fields::{self, View};
use crate::collect::service_desk::{Incident, ServiceDesk, Ticket, Transition};
use crate::collect::ticket_rules::{FieldSource, TicketRules};

/// What an issue becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An `incidents` row.
    Incident,
    /// A `tickets` row with its transitions.
    Request,
    /// Nothing: neither an incident type nor a request type.
    Other,
}

/// Status name → category key, from `GET /rest/api/3/status`.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    /// Lower-cased name → category; `None` where the site's statuses disagree.
    by_name: HashMap<String, Option<String>>,
}

/// Jira's category key, with `undefined` (no category) as none.
fn category_key(key: Option<&str>) -> Option<String> {
    key.filter(|k| !k.is_empty() && *k != "undefined")
        .map(str::to_string)
}

impl Statuses {
    /// Indexes the site's status list.
    pub fn new(list: &[api::Status]) -> Statuses {
        let mut by_name: HashMap<String, Option<String>> = HashMap::new();
        for s in list {
            let category = category_key(s.status_category.as_ref().and_then(|c| c.key.as_deref()));
            by_name
                .entry(s.name.to_lowercase())
                .and_modify(|known| {
                    if *known != category {
                        *known = None;
                    }
                })
                .or_insert(category);
        }
        Statuses { by_name }
    }

    fn category(&self, name: &str) -> Option<String> {
        self.by_name.get(&name.to_lowercase()).cloned().flatten()
    }
}

/// An issue and what was read about it besides the search.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The issue as the search returned it.
    pub issue: api::Issue,
    /// Its change groups (empty for types that need none).
    pub histories: Vec<api::History>,
    /// The stop time of JSM's "Time to first response" SLA, when it has one.
    pub sla_first_response: Option<DateTime<Utc>>,
}

/// Maps issues of one source.
pub struct Mapper<'a> {
    /// The source's name: ids are `<source>:<issue key>`.
    pub source: &'a str,
    /// The compiled `[sources.tickets]`.
    pub rules: &'a TicketRules,
    /// The site's status categories.
    pub statuses: &'a Statuses,
}

/// A configured field reference as a plain field id (`field:x` and `x` both name x).
pub fn field_id(reference: &str) -> &str {
    reference.strip_prefix("field:").unwrap_or(reference)
}

impl Mapper<'_> {
    /// What `issue` becomes.
    pub fn kind(&self, issue: &api::Issue) -> Kind {
        let issue_type = View(&issue.fields).name("issuetype").unwrap_or_default();
        if self.rules.is_incident(&issue_type) {
            Kind::Incident
        } else if self.rules.is_request(&issue_type) {
            Kind::Request
        } else {
            Kind::Other
        }
    }

    /// The issue's JSM request type, when `request_type_field` is configured.
    pub fn request_type(&self, issue: &api::Issue) -> Option<String> {
        let id = field_id(self.rules.mapping().request_type_field.as_deref()?);
        View(&issue.fields).field(id)
    }

    /// The rows of one issue; none when it is neither an incident nor a request, or
    /// when its creation time is unreadable (logged with the issue key).
    pub fn map(&self, f: &Fetched) -> ServiceDesk {
        let mut desk = ServiceDesk::default();
        let kind = self.kind(&f.issue);
        if kind == Kind::Other {
            return desk;
        }
        let view = View(&f.issue.fields);
        let key = f.issue.key.as_str();
        let Some(created) = view.time("created") else {
            tracing::warn!(source = self.source, issue = key, field = "created", value = %view.raw("created"), "Skipped an issue whose creation time is unreadable.");
            return desk;
        };
        let id = format!("{}:{key}", self.source);
        let transitions = self.transitions(&id, &view, created, &f.histories);
        let picked_up = first_out_of_new(&transitions);
        match kind {
            Kind::Incident => desk
                .incidents
                .push(self.incident(id, &view, created, picked_up)),
            Kind::Request => {
                let first_response = f.sla_first_response.or(picked_up);
                desk.tickets
                    .push(self.ticket(id, &f.issue, created, first_response));
                desk.transitions = transitions;
            }
            Kind::Other => {}
        }
        desk
    }

    fn incident(
        &self,
        id: String,
        view: &View<'_>,
        created: DateTime<Utc>,
        acknowledged: Option<DateTime<Utc>>,
    ) -> Incident {
        let title = view.field("summary");
        let cause_field = self
            .rules
            .mapping()
            .caused_by_field
            .as_deref()
            .and_then(|f| view.field(field_id(f)));
        let text = format!(
            "{}\n{}",
            title.as_deref().unwrap_or_default(),
            fields::plain_text(view.raw("description"))
        );
        let (deployment, sha) = self.rules.caused_by(cause_field.as_deref(), &text);
        Incident {
            incident_id: id,
            source: self.source.to_string(),
            service: self.rules.service(view),
            severity: view.name("priority").map(|p| self.rules.severity(&p)),
            title,
            started_at: created,
            acknowledged_at: acknowledged,
            resolved_at: view.time("resolutiondate"),
            caused_by_deployment_id: deployment,
            caused_by_commit_sha: sha,
        }
    }

    fn ticket(
        &self,
        id: String,
        issue: &api::Issue,
        created: DateTime<Utc>,
        first_response: Option<DateTime<Utc>>,
    ) -> Ticket {
        let view = View(&issue.fields);
        let issue_type = view.name("issuetype");
        let request_type = self.request_type(issue);
        let labels = view.labels();
        Ticket {
            ticket_id: id,
            source: self.source.to_string(),
            project: view.raw("project").get("key").and_then(fields::text),
            category: self
                .rules
                .category(&labels, issue_type.as_deref(), request_type.as_deref()),
            issue_type,
            request_type,
            requester_team: self.rules.requester_team(&view),
            assignee_team: self.rules.assignee_team(&view, None),
            priority: view.name("priority"),
            status: view.name("status"),
            created_at: created,
            first_response_at: first_response,
            resolved_at: view.time("resolutiondate"),
            labels,
        }
    }

    /// The status changes, oldest first, after a first row for the creation.
    fn transitions(
        &self,
        id: &str,
        view: &View<'_>,
        created: DateTime<Utc>,
        histories: &[api::History],
    ) -> Vec<Transition> {
        let current = view.name("status");
        let category = |name: &str| match &current {
            Some(c) if c.eq_ignore_ascii_case(name) => {
                category_key(view.status_category().as_deref())
                    .or_else(|| self.statuses.category(name))
            }
            _ => self.statuses.category(name),
        };
        let mut changes: Vec<(DateTime<Utc>, Option<String>, String)> = Vec::new();
        for h in histories {
            let Some(at) = fields::time(&h.created) else {
                tracing::debug!(
                    source = self.source,
                    ticket = id,
                    "Skipped a change group with an unreadable time."
                );
                continue;
            };
            for item in h.items.iter().filter(|i| i.is_status()) {
                if let Some(to) = item.to_string.clone().filter(|t| !t.is_empty()) {
                    changes.push((at, item.from_string.clone(), to));
                }
            }
        }
        changes.sort_by_key(|(at, _, _)| *at);
        let first = changes
            .first()
            .and_then(|(_, from, _)| from.clone())
            .or(current.clone());
        let mut rows: Vec<Transition> = first
            .map(|s| Transition {
                ticket_id: id.to_string(),
                at: created,
                from_status: None,
                to_category: category(&s),
                to_status: s,
            })
            .into_iter()
            .collect();
        rows.extend(changes.into_iter().map(|(at, from, to)| Transition {
            ticket_id: id.to_string(),
            at,
            from_status: from,
            to_category: category(&to),
            to_status: to,
        }));
        rows
    }
}

/// When someone first moved the issue on: the first real transition into a status
/// whose category is known and is not `new` (an unknown category proves nothing).
fn first_out_of_new(transitions: &[Transition]) -> Option<DateTime<Utc>> {
    transitions
        .iter()
        .filter(|t| t.from_status.is_some())
        .find(|t| t.to_category.as_deref().is_some_and(|c| c != "new"))
        .map(|t| t.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn rules() -> TicketRules {
        let text = "[[sources]]\nkind='jira'\nname='j'\napi_url='https://x.atlassian.net'\n\
            [sources.services]\nCheckout='checkout'\n\
            [sources.tickets]\nincident_types=['Incident']\nrequest_types=['Service Request']\n\
            service_from='component'\ncaused_by_field='customfield_9'\nrequest_type_field='field:customfield_10'\n\
            [sources.tickets.severities]\nHighest='sev1'";
        let config = Config::parse(text, "t").unwrap_or_else(|e| panic!("{e}"));
        TicketRules::new(&config.sources[0])
    }

    fn statuses() -> Statuses {
        let list: Vec<api::Status> = serde_json::from_value(json!([
            {"name": "Waiting for support", "statusCategory": {"key": "new"}},
            {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            {"name": "Done", "statusCategory": {"key": "done"}},
            {"name": "Review", "statusCategory": {"key": "indeterminate"}},
            {"name": "review", "statusCategory": {"key": "done"}},
        ]))
        .unwrap_or_default();
        Statuses::new(&list)
    }

    fn history(at: &str, from: &str, to: &str) -> api::History {
        serde_json::from_value(json!({"created": at, "items": [
            {"field": "labels", "fromString": "", "toString": "x"},
            {"field": "status", "fieldId": "status", "fromString": from, "toString": to}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn issue(fields: serde_json::Value) -> api::Issue {
        serde_json::from_value(json!({"key": "HELP-1", "fields": fields}))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn requests_get_a_creation_row_categories_and_a_first_response() {
        let (rules, statuses) = (rules(), statuses());
        let mapper = Mapper {
            source: "j",
            rules: &rules,
            statuses: &statuses,
        };
        let fetched = Fetched {
            issue: issue(json!({
                "issuetype": {"name": "Service Request"},
                "status": {"name": "Review", "statusCategory": {"key": "done"}},
                "created": "2025-03-01T00:00:00.000+0000",
                "customfield_10": {"requestType": {"name": "Access"}},
                "project": {"key": "HELP"},
            })),
            histories: vec![
                history("2025-03-01T03:00:00.000+0000", "Triage", "Review"),
                history(
                    "2025-03-01T01:00:00.000+0000",
                    "Waiting for support",
                    "Triage",
                ),
            ],
            sla_first_response: None,
        };
        let desk = mapper.map(&fetched);
        let rows: Vec<(Option<&str>, &str, Option<&str>)> = desk
            .transitions
            .iter()
            .map(|t| {
                (
                    t.from_status.as_deref(),
                    t.to_status.as_str(),
                    t.to_category.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (None, "Waiting for support", Some("new")),
                (Some("Waiting for support"), "Triage", None),
                (Some("Triage"), "Review", Some("done")),
            ],
            "the issue's own category wins over the ambiguous site list"
        );
        let ticket = &desk.tickets[0];
        assert_eq!(ticket.request_type.as_deref(), Some("Access"));
        assert_eq!(ticket.category.as_deref(), Some("Access"));
        assert_eq!(ticket.project.as_deref(), Some("HELP"));
        assert_eq!(
            ticket.first_response_at,
            "2025-03-01T03:00:00Z".parse().ok(),
            "Triage has no known category, so Review is the first move out of new"
        );
    }

    #[test]
    fn incidents_take_service_severity_and_blame() {
        let (rules, statuses) = (rules(), statuses());
        let mapper = Mapper {
            source: "j",
            rules: &rules,
            statuses: &statuses,
        };
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let fetched = Fetched {
            issue: issue(json!({
                "issuetype": {"name": "Incident"},
                "summary": "Checkout down",
                "description": {"type": "doc", "content": [{"type": "text", "text": sha}]},
                "components": [{"name": "Checkout"}],
                "priority": {"name": "Highest"},
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "created": "2025-03-01T00:00:00.000+0000",
                "resolutiondate": "2025-03-01T02:00:00.000+0000",
            })),
            histories: vec![history(
                "2025-03-01T00:30:00.000+0000",
                "Waiting for support",
                "In Progress",
            )],
            sla_first_response: None,
        };
        let desk = mapper.map(&fetched);
        assert!(desk.tickets.is_empty() && desk.transitions.is_empty());
        let i = &desk.incidents[0];
        assert_eq!(i.incident_id, "j:HELP-1");
        assert_eq!(i.service.as_deref(), Some("checkout"));
        assert_eq!(i.severity.as_deref(), Some("sev1"));
        assert_eq!(i.caused_by_commit_sha.as_deref(), Some(sha));
        assert_eq!(i.acknowledged_at, "2025-03-01T00:30:00Z".parse().ok());
        assert_eq!(i.resolved_at, "2025-03-01T02:00:00Z".parse().ok());
    }

    #[test]
    fn other_types_and_unreadable_creation_write_nothing() {
        let (rules, statuses) = (rules(), statuses());
        let mapper = Mapper {
            source: "j",
            rules: &rules,
            statuses: &statuses,
        };
        let other =
            issue(json!({"issuetype": {"name": "Bug"}, "created": "2025-03-01T00:00:00.000+0000"}));
        assert_eq!(mapper.kind(&other), Kind::Other);
        let broken = issue(json!({"issuetype": {"name": "Incident"}, "created": 1.5}));
        for issue in [other, broken] {
            let f = Fetched {
                issue,
                histories: Vec::new(),
                sla_first_response: None,
            };
            assert_eq!(mapper.map(&f), ServiceDesk::default());
        }
    }
}
