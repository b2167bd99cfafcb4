//! The `[sources.tickets]` mapping, compiled: which records are incidents or
//! requests, where service and teams come from, categories, severities, and what an
//! incident blames. Shared by the Jira, ServiceNow and PagerDuty collectors so the
//! same config means the same thing everywhere.

use glob::Pattern;

use crate::config::{SourceConfig, TicketMapping};
use crate::error::{Error, Result};

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    /// A named field of the record (`field:<id>`).
    Field(String),
    /// The record's first component (Jira).
    Component,
    /// The first label matching the glob, with the glob's literal prefix removed.
    Label(Pattern, String),
}

impl FieldRef {
    /// Parses `field:<id>`, `component` or `label:<glob>`.
    pub fn parse(source: &str, key: &str, text: &str) -> Result<FieldRef> {
        let bad = |reason: String| Error::Config {
            key: format!("sources.{source}.tickets.{key}"),
            reason,
        };
        if text == "component" {
            return Ok(FieldRef::Component);
        }
        if let Some(id) = text.strip_prefix("field:").filter(|f| !f.is_empty()) {
            return Ok(FieldRef::Field(id.to_string()));
        }
        if let Some(glob) = text.strip_prefix("label:").filter(|g| !g.is_empty()) {
            let pattern =
                Pattern::new(glob).map_err(|e| bad(format!("bad pattern `{glob}`: {e}")))?;
            let prefix: String = glob
                .chars()
                .take_while(|c| !matches!(c, '*' | '?' | '['))
                .collect();
            return Ok(FieldRef::Label(pattern, prefix));
        }
        Err(bad(format!(
            "`{text}`: expected `field:<id>`, `component` or `label:<glob>`"
        )))
    }
}

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

struct Category {
    label: Option<Pattern>,
    issue_type: Option<Pattern>,
    request_type: Option<Pattern>,
    category: String,
}

/// A source's compiled ticket mapping.
pub struct TicketRules {
    mapping: TicketMapping,
    service_from: Option<FieldRef>,
    requester_team_from: Option<FieldRef>,
    assignee_team_from: Option<FieldRef>,
    categories: Vec<Category>,
    services: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for TicketRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketRules")
            .field("mapping", &self.mapping)
            .finish()
    }
}

fn glob(source: &str, key: &str, text: &Option<String>) -> Result<Option<Pattern>> {
    text.as_deref()
        .map(|g| {
            Pattern::new(g).map_err(|e| Error::Config {
                key: format!("sources.{source}.tickets.categories.{key}"),
                reason: format!("bad pattern `{g}`: {e}"),
            })
        })
        .transpose()
}

/// A full 40-hex commit SHA anywhere in `text`.
fn sha_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() == 40 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

impl TicketRules {
    /// Compiles the mapping of `source`; a bad reference or glob is a config error.
    pub fn new(source: &SourceConfig) -> Result<TicketRules> {
        let defaults = TicketMapping::default();
        let m = source.tickets().unwrap_or(&defaults);
        let name = source.name.as_str();
        let parse = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| FieldRef::parse(name, key, t))
                .transpose()
        };
        let categories = m
            .categories
            .iter()
            .map(|r| {
                Ok(Category {
                    label: glob(name, "label", &r.label)?,
                    issue_type: glob(name, "issue_type", &r.issue_type)?,
                    request_type: glob(name, "request_type", &r.request_type)?,
                    category: r.category.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TicketRules {
            service_from: parse("service_from", &m.service_from)?,
            requester_team_from: parse("requester_team_from", &m.requester_team_from)?,
            assignee_team_from: parse("assignee_team_from", &m.assignee_team_from)?,
            categories,
            services: source.services.clone(),
            mapping: m.clone(),
        })
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
            FieldRef::Label(pattern, prefix) => record
                .labels()
                .into_iter()
                .find(|l| pattern.matches(l))
                .map(|l| l.strip_prefix(prefix.as_str()).unwrap_or(&l).to_string()),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// The catalog service of an incident: the configured reference, mapped
    /// through the source's `services` table when it names a source-side value.
    pub fn service(&self, record: &dyn FieldSource) -> Option<String> {
        let raw = Self::pick(self.service_from.as_ref()?, record)?;
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
        Self::pick(self.requester_team_from.as_ref()?, record)
    }

    /// The assigned team; `default` is used when no reference is configured.
    pub fn assignee_team(
        &self,
        record: &dyn FieldSource,
        default: Option<&FieldRef>,
    ) -> Option<String> {
        Self::pick(self.assignee_team_from.as_ref().or(default)?, record)
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
        for rule in &self.categories {
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
        TicketRules::new(&config.sources[0]).unwrap()
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
        let config = Config::parse(bad, "t").unwrap();
        assert!(
            TicketRules::new(&config.sources[0])
                .unwrap_err()
                .to_string()
                .contains("service_from")
        );
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
