//! The configurable judgements every delivery collector makes the same way:
//! environment tier, hotfix / rollback kind, whether the platform deployed it, and
//! which catalog service a repository's deployment belongs to.

use serde_json::Value as Json;

use crate::config::{DeliveryRules, DeliverySettings, Pattern, SourceConfig};

/// The delivery rules of one source (globs compiled when the config loaded), with
/// production environment names lower-cased for comparison.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: DeliveryRules,
    production: Vec<String>,
}

fn any_match(patterns: &[Pattern], text: &str) -> bool {
    patterns.iter().any(|p| p.matches(text))
}

/// What a deployment looks like to the rules.
#[derive(Debug, Default, Clone, Copy)]
pub struct Facts<'a> {
    /// Branch, tag or ref deployed.
    pub git_ref: Option<&'a str>,
    /// Title of the change: PR, release, run or commit subject.
    pub title: Option<&'a str>,
    /// Workflow file path that ran it.
    pub workflow_path: Option<&'a str>,
    /// Who created it.
    pub creator: Option<&'a str>,
    /// The deployment payload, when the source has one.
    pub payload: Option<&'a Json>,
}

impl Rules {
    /// A source's rules: its globs were compiled when the config was loaded.
    pub fn new(source: &SourceConfig) -> Rules {
        // Service-desk and billing sources judge no deployments: the defaults do.
        let defaults = DeliverySettings::default();
        let delivery = source.delivery().unwrap_or(&defaults);
        Rules {
            rules: delivery.rules.clone(),
            production: delivery
                .production_environments
                .iter()
                .map(|e| e.to_ascii_lowercase())
                .collect(),
        }
    }

    /// `production` when the source says so or the name is configured as
    /// production; otherwise a tier guessed from common names.
    pub fn env_tier(&self, environment: Option<&str>, marked_production: bool) -> &'static str {
        let name = environment.unwrap_or_default().to_ascii_lowercase();
        if marked_production || self.production.contains(&name) {
            return "production";
        }
        if name.contains("stag") || name.contains("preprod") || name.contains("uat") {
            "staging"
        } else if name.contains("test") || name.contains("qa") {
            "testing"
        } else if name.contains("dev") || name.contains("preview") || name.contains("review") {
            "development"
        } else {
            "other"
        }
    }

    /// `hotfix`, `rollback` or `planned`: the payload field wins, then the ref, then
    /// the title.
    pub fn kind(&self, facts: &Facts<'_>) -> &'static str {
        if let (Some(field), Some(payload)) = (&self.rules.kind_field, facts.payload)
            && let Some(k) = payload_str(payload, field)
        {
            match k.to_ascii_lowercase().as_str() {
                "hotfix" => return "hotfix",
                "rollback" => return "rollback",
                "planned" => return "planned",
                _ => {}
            }
        }
        if facts
            .git_ref
            .is_some_and(|r| any_match(&self.rules.hotfix_refs, r))
        {
            return "hotfix";
        }
        if facts
            .title
            .is_some_and(|t| any_match(&self.rules.rollback_titles, t))
        {
            return "rollback";
        }
        "planned"
    }

    /// Whether the platform performed the deployment.
    pub fn via_platform(&self, facts: &Facts<'_>) -> bool {
        if let (Some(field), Some(payload)) = (&self.rules.platform_field, facts.payload)
            && let Some(v) = payload_value(payload, field)
        {
            return v.as_bool() == Some(true) || v.as_str() == Some("true");
        }
        facts
            .workflow_path
            .is_some_and(|p| any_match(&self.rules.platform_workflows, p))
            || facts
                .creator
                .is_some_and(|c| any_match(&self.rules.platform_creators, c))
    }
}

/// The service of a repository's deployment: a payload field (monorepos), else the
/// `services` map, else the repository's name without its owner.
pub fn service(source: &SourceConfig, repo: &str, payload: Option<&Json>) -> String {
    let field = source.delivery().and_then(|d| d.service_field.as_ref());
    if let (Some(field), Some(payload)) = (field, payload)
        && let Some(s) = payload_str(payload, field)
        && !s.is_empty()
    {
        return s.to_string();
    }
    if let Some(s) = source.services.get(repo) {
        return s.clone();
    }
    repo.rsplit('/').next().unwrap_or(repo).to_string()
}

/// A payload field; payloads may arrive as an object or as a JSON string.
fn payload_value(payload: &Json, field: &str) -> Option<Json> {
    match payload {
        Json::Object(map) => map.get(field).cloned(),
        Json::String(text) => serde_json::from_str::<Json>(text).ok()?.get(field).cloned(),
        _ => None,
    }
}

fn payload_str(payload: &Json, field: &str) -> Option<String> {
    payload_value(payload, field).and_then(|v| v.as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn source(extra: &str) -> SourceConfig {
        let text = format!("[[sources]]\nkind='github'\nname='gh'\nrepos=['acme/shop']\n{extra}");
        Config::parse(&text, "t").unwrap().sources.remove(0)
    }

    #[test]
    fn kinds_follow_payload_then_ref_then_title() {
        let s = source("[sources.rules]\nkind_field='kind'");
        let rules = Rules::new(&s);
        let payload = serde_json::json!({"kind": "Hotfix"});
        let as_string = Json::String(r#"{"kind":"rollback"}"#.into());
        assert_eq!(
            rules.kind(&Facts {
                payload: Some(&payload),
                ..Facts::default()
            }),
            "hotfix"
        );
        assert_eq!(
            rules.kind(&Facts {
                payload: Some(&as_string),
                ..Facts::default()
            }),
            "rollback"
        );
        assert_eq!(
            rules.kind(&Facts {
                git_ref: Some("hotfix/login"),
                ..Facts::default()
            }),
            "hotfix"
        );
        assert_eq!(
            rules.kind(&Facts {
                title: Some("Revert \"Add cart\""),
                ..Facts::default()
            }),
            "rollback"
        );
        assert_eq!(
            rules.kind(&Facts {
                git_ref: Some("main"),
                title: Some("Add cart"),
                ..Facts::default()
            }),
            "planned"
        );
    }

    #[test]
    fn tiers_platform_and_service() {
        let s = source(
            "production_environments=['live']\nservice_field='service'\n[sources.services]\n'acme/shop'='storefront'\n[sources.rules]\nplatform_creators=['platform-bot*']",
        );
        let rules = Rules::new(&s);
        assert_eq!(rules.env_tier(Some("Live"), false), "production");
        assert_eq!(rules.env_tier(Some("production"), false), "other");
        assert_eq!(rules.env_tier(Some("anything"), true), "production");
        assert_eq!(rules.env_tier(Some("staging-eu"), false), "staging");
        assert!(rules.via_platform(&Facts {
            creator: Some("platform-bot[bot]"),
            ..Facts::default()
        }));
        assert!(!rules.via_platform(&Facts {
            creator: Some("octocat"),
            ..Facts::default()
        }));
        assert_eq!(service(&s, "acme/shop", None), "storefront");
        assert_eq!(service(&s, "acme/api", None), "api");
        let payload = serde_json::json!({"service": "checkout"});
        assert_eq!(service(&s, "acme/shop", Some(&payload)), "checkout");
    }
}
