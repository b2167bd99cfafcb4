//! The `[sources.tickets]` mapping, compiled: which records are incidents or
//! requests, where service and teams come from, categories, severities, and what an
//! incident blames. Shared by the Jira, ServiceNow and PagerDuty collectors so the
//! same config means the same thing everywhere.

pub use crate::config::FieldRef;
use crate::config::{Pattern, SourceConfig, TicketMapping};

/// What a record offers to a [`FieldRef`]: a field lookup (already rendered as
/// text: a Jira option's `value`/`name`, a ServiceNow sys_id or display value),
/// its components and its labels.
pub trait FieldSource {
    /// The text of a field, if set.
    fn field(&self, id: &str) -> Option<String>;
    /// Component names, in order.
    fn components(&self) -> Vec<String> {
        Vec::new()
    }
    /// Labels, in order.
    fn labels(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A source's ticket mapping (its globs and field references compiled at load)
/// with the source's `services` table.
pub struct TicketRules {
    mapping: TicketMapping,
    services: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for TicketRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketRules")
            .field("mapping", &self.mapping)
            .finish()
    }
}

/// A full 40-hex commit SHA anywhere in `text`.
fn sha_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() == 40 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

impl TicketRules {
    /// The mapping of `source` (the defaults for a kind without one).
    pub fn new(source: &SourceConfig) -> TicketRules {
        TicketRules {
            mapping: source.tickets().cloned().unwrap_or_default(),
            services: source.services.clone(),
        }
    }

    /// The raw mapping (field ids the collector must request).
    pub fn mapping(&self) -> &TicketMapping {
        &self.mapping
    }

    /// Whether an issue type (or ServiceNow table) is an incident.
    pub fn is_incident(&self, issue_type: &str) -> bool {
        self.mapping
            .incident_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(issue_type))
    }

    /// Whether an issue type is an infrastructure request: listed in
    /// `request_types`, or any non-incident type when that list is empty.
    pub fn is_request(&self, issue_type: &str) -> bool {
        if self.mapping.request_types.is_empty() {
            return !self.is_incident(issue_type);
        }
        self.mapping
            .request_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(issue_type))
    }

    /// Resolves a reference against a record.
    pub fn pick(reference: &FieldRef, record: &dyn FieldSource) -> Option<String> {
        let value = match reference {
            FieldRef::Field(id) => record.field(id),
            FieldRef::Component => record.components().into_iter().next(),
            FieldRef::Label(pattern) => record
                .labels()
                .into_iter()
                .find(|l| pattern.matches(l))
                .map(|l| {
                    let prefix = pattern.literal_prefix();
                    l.strip_prefix(prefix).unwrap_or(&l).to_string()
                }),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The catalog service of an incident: the configured reference, mapped
    /// through the source's `services` table when it names a source-side value.
    pub fn service(&self, record: &dyn FieldSource) -> Option<String> {
        let raw = Self::pick(self.mapping.service_from.as_ref()?, record)?;
        Some(self.map_service(&raw))
    }

    /// A source-side service name mapped to the catalog (`services` table), or as is.
    pub fn map_service(&self, raw: &str) -> String {
        self.services
            .get(raw)
            .cloned()
            .unwrap_or_else(|| raw.to_string())
    }

    /// The requesting team.
    pub fn requester_team(&self, record: &dyn FieldSource) -> Option<String> {
        Self::pick(self.mapping.requester_team_from.as_ref()?, record)
    }

    /// The assigned team; `default` is used when no reference is configured.
    pub fn assignee_team(
        &self,
        record: &dyn FieldSource,
        default: Option<&FieldRef>,
    ) -> Option<String> {
        Self::pick(
            self.mapping.assignee_team_from.as_ref().or(default)?,
            record,
        )
    }

    /// The first category rule whose every condition holds; else the request type,
    /// else the issue type.
    pub fn category(
        &self,
        labels: &[String],
        issue_type: Option<&str>,
        request_type: Option<&str>,
    ) -> Option<String> {
        let holds = |p: &Option<Pattern>, value: Option<&str>| match p {
            None => true,
            Some(p) => value.is_some_and(|v| p.matches(v)),
        };
        for rule in &self.mapping.categories {
            let label_ok = match &rule.label {
                None => true,
                Some(p) => labels.iter().any(|l| p.matches(l)),
            };
            if label_ok
                && holds(&rule.issue_type, issue_type)
                && holds(&rule.request_type, request_type)
            {
                return Some(rule.category.clone());
            }
        }
        request_type.or(issue_type).map(str::to_string)
    }

    /// A priority or urgency name mapped through `severities` (exact, then
    /// case-insensitive), else kept as is.
    pub fn severity(&self, name: &str) -> String {
        let map = &self.mapping.severities;
        map.get(name)
            .or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// What an incident blames: the `caused_by_field` value (a 40-hex SHA is a
    /// commit, anything else a deployment id), else a SHA found in `text`.
    /// Returns (deployment id, commit sha).
    pub fn caused_by(
        &self,
        field_value: Option<&str>,
        text: &str,
    ) -> (Option<String>, Option<String>) {
        if let Some(v) = field_value.map(str::trim).filter(|v| !v.is_empty()) {
            return match sha_in(v).filter(|s| s.len() == v.len()) {
                Some(sha) => (None, Some(sha)),
                None => (Some(v.to_string()), None),
            };
        }
        (None, sha_in(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    struct Rec;
    impl FieldSource for Rec {
        fn field(&self, id: &str) -> Option<String> {
            (id == "customfield_1").then(|| "Payments API".to_string())
        }
        fn components(&self) -> Vec<String> {
            vec!["Postgres".into(), "Redis".into()]
        }
        fn labels(&self) -> Vec<String> {
            vec!["urgent".into(), "svc-checkout".into()]
        }
    }

    fn rules(extra: &str) -> TicketRules {
        let text = format!(
            "[[sources]]\nkind='jira'\nname='j'\napi_url='https://x.atlassian.net'\n[sources.services]\n'Payments API'='payments'\n[sources.tickets]\n{extra}"
        );
        let config = Config::parse(&text, "t").unwrap();
        TicketRules::new(&config.sources[0])
    }

    #[test]
    fn references_pick_fields_components_and_labels() {
        let r = rules(
            "service_from='field:customfield_1'\nrequester_team_from='label:svc-*'\nassignee_team_from='component'",
        );
        assert_eq!(r.service(&Rec).as_deref(), Some("payments"));
        assert_eq!(r.requester_team(&Rec).as_deref(), Some("checkout"));
        assert_eq!(r.assignee_team(&Rec, None).as_deref(), Some("Postgres"));
        let bad = "[[sources]]\nkind='jira'\nname='j'\napi_url='https://x'\n[sources.tickets]\nservice_from='labels'";
        let e = Config::parse(bad, "t").unwrap_err().to_string();
        assert!(e.contains("sources.j.tickets.service_from"), "{e}");
    }

    #[test]
    fn types_categories_severities_and_blame() {
        let r = rules(
            "incident_types=['Incident']\n[sources.tickets.severities]\nHighest='sev1'\n[[sources.tickets.categories]]\nlabel='db*'\ncategory='database'\n[[sources.tickets.categories]]\nrequest_type='New env*'\ncategory='environment'",
        );
        assert!(r.is_incident("incident") && !r.is_request("Incident") && r.is_request("Task"));
        assert_eq!(
            r.category(&["dba".into()], Some("Task"), None).as_deref(),
            Some("database")
        );
        assert_eq!(
            r.category(&[], Some("Task"), Some("New environment"))
                .as_deref(),
            Some("environment")
        );
        assert_eq!(
            r.category(&[], Some("Task"), Some("Access")).as_deref(),
            Some("Access")
        );
        assert_eq!(r.severity("highest"), "sev1");
        assert_eq!(r.severity("Low"), "Low");
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(r.caused_by(Some(sha), ""), (None, Some(sha.to_string())));
        assert_eq!(
            r.caused_by(Some("gh:acme/api:42"), ""),
            (Some("gh:acme/api:42".into()), None)
        );
        assert_eq!(
            r.caused_by(None, &format!("broke after {sha}.")),
            (None, Some(sha.to_string()))
        );
        assert_eq!(r.caused_by(None, "no sha here"), (None, None));
    }
}
