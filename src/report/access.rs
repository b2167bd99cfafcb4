//! Who may see which rows: the roles of `northstar serve`'s tokens, applied to
//! query rows and to `metrics.json` before anything is serialized.
//!
//! The rule is one sentence: service-level detail belongs to the owning team (and
//! the platform); everyone may see org and team aggregates. So
//!
//! - `platform` sees everything;
//! - `executive` sees org and team aggregates, no service-level rows;
//! - `team:<name>` sees its own services in full and other teams as aggregates.
//!
//! The filtering happens here, on the rows a query returned, so the JSON API, the
//! CSV API, the dashboards and the Prometheus page all apply the same rule; the
//! HTML never has to hide anything.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};

/// A query row as JSON (see [`super::json::rows`]).
pub type Row = Map<String, Json>;

/// The role of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything.
    Platform,
    /// Org and team aggregates.
    Executive,
    /// One team in full, other teams as aggregates.
    Team(String),
}

/// Which team owns each service (the `service_owners` view).
pub type ServiceOwners = HashMap<String, String>;

impl Access {
    /// Parses a role as written in the config: `platform`, `executive` or
    /// `team:<name>`.
    pub fn parse(role: &str) -> Result<Access> {
        match role.trim() {
            "platform" => Ok(Access::Platform),
            "executive" => Ok(Access::Executive),
            other => match other.strip_prefix("team:").map(str::trim) {
                Some(team) if !team.is_empty() => Ok(Access::Team(team.to_string())),
                _ => Err(Error::Config {
                    key: "role".into(),
                    reason: format!("`{role}`: expected `platform`, `executive` or `team:<name>`"),
                }),
            },
        }
    }

    /// The role as written in the config.
    pub fn label(&self) -> String {
        match self {
            Access::Platform => "platform".into(),
            Access::Executive => "executive".into(),
            Access::Team(t) => format!("team:{t}"),
        }
    }

    /// Whether a service owned by `team` may be seen in detail.
    pub fn sees_service_of(&self, team: Option<&str>) -> bool {
        match self {
            Access::Platform => true,
            Access::Executive => false,
            Access::Team(own) => team == Some(own.as_str()),
        }
    }

    /// Keeps the rows this role may see. A row is service-level when its `scope`
    /// is `service` (the DORA and North Star queries) or it names a `service`; its
    /// team is its `team` column, else the owner of the service.
    pub fn scope_rows(&self, rows: Vec<Row>, owners: &ServiceOwners) -> Vec<Row> {
        if *self == Access::Platform {
            return rows;
        }
        rows.into_iter()
            .filter(|row| match service_of(row) {
                None => true,
                Some(service) => {
                    let team = row
                        .get("team")
                        .and_then(Json::as_str)
                        .or_else(|| owners.get(service).map(String::as_str));
                    self.sees_service_of(team)
                }
            })
            .collect()
    }

    /// [`Access::scope_rows`] for the rows of a query asked at `scope`: the DORA and
    /// North Star queries name their group `scope_key` without a `scope` column, so
    /// such rows carry the scope they were asked at while they are judged (a
    /// `scope=service` row is service-level), then lose it again.
    pub fn scope_query_rows(
        &self,
        rows: Vec<Row>,
        scope: &str,
        owners: &ServiceOwners,
    ) -> Vec<Row> {
        // Rows of one query share their columns: the first tells.
        let add = rows
            .first()
            .is_some_and(|r| !r.contains_key("scope") && r.contains_key("scope_key"));
        let tagged = rows.into_iter().map(|mut row| {
            if add {
                row.insert("scope".into(), Json::String(scope.to_string()));
            }
            row
        });
        self.scope_rows(tagged.collect(), owners)
            .into_iter()
            .map(|mut row| {
                if add {
                    row.remove("scope");
                }
                row
            })
            .collect()
    }

    /// `metrics.json` as this role may see it: the per-service maps (DORA figures and
    /// series, scorecards) keep only the services the role sees, and anomalies of
    /// services it does not see are dropped. Org and team figures stay.
    pub fn scope_metrics(&self, doc: &Json, owners: &ServiceOwners) -> Json {
        if *self == Access::Platform {
            return doc.clone();
        }
        let mut doc = doc.clone();
        let keep = |service: &str| self.sees_service_of(owners.get(service).map(String::as_str));
        for path in [
            &["dora", "services"][..],
            &["dora", "series", "week", "services"],
            &["dora", "series", "month", "services"],
            &["scorecards", "services"],
        ] {
            if let Some(Json::Object(map)) = pointer_mut(&mut doc, path) {
                map.retain(|service, _| keep(service));
            }
        }
        let keep_anomaly = |a: &Json| match a.get("service").and_then(Json::as_str) {
            None => true,
            Some(_) => self.sees_service_of(a.get("team").and_then(Json::as_str)),
        };
        if let Some(Json::Array(list)) = pointer_mut(&mut doc, &["cost", "anomalies"]) {
            list.retain(keep_anomaly);
        }
        if let Some(Json::Object(teams)) = pointer_mut(&mut doc, &["cost", "teams"]) {
            for team in teams.values_mut() {
                if let Some(Json::Array(list)) = team.get_mut("anomalies") {
                    list.retain(keep_anomaly);
                }
            }
        }
        doc
    }
}

/// Reads which team owns each service from the engine's `service_owners` view.
pub async fn service_owners(engine: &crate::engine::Engine) -> Result<ServiceOwners> {
    let batches = engine
        .context()
        .table("service_owners")
        .await
        .map_err(|e| Error::query("service_owners", e))?
        .collect()
        .await
        .map_err(|e| Error::query("service_owners", e))?;
    Ok(super::json::rows(&batches)?
        .into_iter()
        .filter_map(|row| {
            let service = row.get("service")?.as_str()?.to_string();
            let team = row.get("team")?.as_str()?.to_string();
            Some((service, team))
        })
        .collect())
}

/// The service a row is about, when it is service-level.
fn service_of(row: &Row) -> Option<&str> {
    if row.get("scope").and_then(Json::as_str) == Some("service") {
        return row.get("scope_key").and_then(Json::as_str);
    }
    row.get("service").and_then(Json::as_str)
}

fn pointer_mut<'a>(doc: &'a mut Json, path: &[&str]) -> Option<&'a mut Json> {
    path.iter().try_fold(doc, |node, key| node.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Json) -> Row {
        match v {
            Json::Object(m) => m,
            _ => Row::new(),
        }
    }

    fn owners() -> ServiceOwners {
        HashMap::from([
            ("api".to_string(), "checkout".to_string()),
            ("web".to_string(), "growth".to_string()),
        ])
    }

    fn sample() -> Vec<Row> {
        vec![
            row(json!({"scope": "org", "scope_key": "org", "n": 10})),
            row(json!({"scope": "team", "scope_key": "growth", "n": 4})),
            row(json!({"scope": "service", "scope_key": "api", "n": 6})),
            row(json!({"scope": "service", "scope_key": "web", "n": 4})),
            row(json!({"team": "growth", "service": "web", "cost": 1.0})),
            row(json!({"team": "growth", "service": null, "cost": 2.0})),
        ]
    }

    #[test]
    fn roles_parse_and_reject_unknown_ones() {
        assert_eq!(Access::parse("platform").ok(), Some(Access::Platform));
        assert_eq!(
            Access::parse("team: checkout").ok(),
            Some(Access::Team("checkout".into()))
        );
        assert!(Access::parse("team:").is_err());
        assert!(Access::parse("admin").is_err());
    }

    #[test]
    fn executive_sees_no_service_rows_and_a_team_only_its_own() {
        let exec = Access::Executive.scope_rows(sample(), &owners());
        assert_eq!(exec.len(), 3, "org, team growth, growth's unassigned cost");
        let checkout = Access::Team("checkout".into()).scope_rows(sample(), &owners());
        let keys: Vec<_> = checkout
            .iter()
            .filter_map(|r| r.get("scope_key").or(r.get("service")))
            .filter_map(Json::as_str)
            .collect();
        assert_eq!(keys, ["org", "growth", "api"]);
        assert_eq!(
            Access::Platform.scope_rows(sample(), &owners()).len(),
            sample().len()
        );
    }

    #[test]
    fn metrics_lose_other_teams_services() {
        let doc = json!({
            "dora": {"services": {"api": {}, "web": {}}, "teams": {"checkout": {}, "growth": {}},
                     "series": {"week": {"services": {"api": [], "web": []}}}},
            "cost": {"anomalies": [{"team": "growth", "service": "web"}, {"team": "growth", "service": null}],
                     "teams": {"growth": {"anomalies": [{"team": "growth", "service": "web"}]}}}
        });
        let scoped = Access::Team("checkout".into()).scope_metrics(&doc, &owners());
        assert_eq!(scoped["dora"]["services"], json!({"api": {}}));
        assert_eq!(scoped["dora"]["teams"], doc["dora"]["teams"]);
        assert_eq!(
            scoped["dora"]["series"]["week"]["services"],
            json!({"api": []})
        );
        assert_eq!(
            scoped["cost"]["anomalies"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(scoped["cost"]["teams"]["growth"]["anomalies"], json!([]));
        let exec = Access::Executive.scope_metrics(&doc, &owners());
        assert_eq!(exec["dora"]["services"], json!({}));
    }
}
