//! Derived tables computed from the canonical ones before any metric runs:
//!
//! - `deployment_commits` (effective): the commits each production deployment
//!   shipped first. Rows a source gave are kept as they are; deployments without them
//!   get the commits derived from the commit graph ([`commit_graph`]).
//! - `incident_links`: which deployment each incident is blamed on, by the first rule
//!   that applies: explicit `caused_by_deployment_id`; `caused_by_commit_sha` → the
//!   earliest deployment whose history contains it; else the latest deployment of the
//!   incident's service that finished before it started, within the link window.
//!
//! Enrichment is pure: rows in, rows out. The engine feeds it and registers the result.

pub mod commit_graph;
pub mod cost_allocation;

use std::collections::{HashMap, HashSet};

use commit_graph::{CommitGraph, GraphWalker, Shas};

/// A successful production deployment, as enrichment needs it.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Id.
    pub id: String,
    /// Service deployed.
    pub service: String,
    /// Deployed commit.
    pub sha: Option<String>,
    /// Finish time, µs since the epoch.
    pub finished_at: i64,
}

/// An incident, as enrichment needs it.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Id.
    pub id: String,
    /// Affected service.
    pub service: Option<String>,
    /// Start, µs since the epoch.
    pub started_at: i64,
    /// Explicit cause.
    pub caused_by_deployment_id: Option<String>,
    /// Causing commit.
    pub caused_by_commit_sha: Option<String>,
}

/// Everything enrichment reads.
#[derive(Default)]
pub struct Inputs {
    /// Successful production deployments (any order).
    pub deployments: Vec<Deployment>,
    /// Every known commit and its parents.
    pub graph: CommitGraph,
    /// `(deployment_id, sha)` rows a source supplied.
    pub source_deployment_commits: Vec<(String, String)>,
    /// All incidents.
    pub incidents: Vec<Incident>,
    /// The link window in microseconds.
    pub link_window_us: i64,
}

/// How a shipped-commit row came about.
pub const ORIGIN_SOURCE: &str = "source";
/// Derived from the commit graph.
pub const ORIGIN_GRAPH: &str = "graph";

/// Everything enrichment produces.
///
/// The shipped commits the graph gave are kept as numbers (which deployment, which
/// commit node) and spelled out only when written ([`Enriched::shipped`]): a
/// year of a large organisation ships tens of millions of them.
#[derive(Debug, Default)]
pub struct Enriched {
    /// Source-given `(deployment_id, commit_sha)` rows kept (origin `source`).
    given: Vec<(String, String)>,
    /// Graph-derived rows (origin `graph`): `(deployment, commit node)`.
    walked: Vec<(u32, u32)>,
    /// Deployment ids by the numbers in `walked`.
    deployment_ids: Vec<String>,
    /// Commit shas by node.
    shas: Shas,
    /// `(incident_id, deployment_id, rule)` with rule `explicit | commit | window`.
    pub incident_links: Vec<(String, String, &'static str)>,
}

impl Enriched {
    /// Number of shipped-commit rows.
    pub fn shipped_len(&self) -> usize {
        self.given.len() + self.walked.len()
    }

    /// Calls `row(deployment_id, commit_sha, origin)` for the shipped-commit rows
    /// `range` (source-given rows first, then the graph's).
    pub fn shipped(
        &self,
        range: std::ops::Range<usize>,
        mut row: impl FnMut(&str, &str, &'static str),
    ) {
        let mut buf = [0u8; 40];
        for i in range {
            match self.given.get(i) {
                Some((deployment, sha)) => row(deployment, sha, ORIGIN_SOURCE),
                None => {
                    let (deployment, node) = self.walked[i - self.given.len()];
                    let sha = self.shas.text(node, &mut buf);
                    row(&self.deployment_ids[deployment as usize], sha, ORIGIN_GRAPH);
                }
            }
        }
    }
}

/// Computes the derived tables.
pub fn enrich(inputs: Inputs) -> Enriched {
    let deployments = &inputs.deployments;
    let mut by_service: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, d) in deployments.iter().enumerate() {
        by_service
            .entry(d.service.as_str())
            .or_default()
            .push(i as u32);
    }
    for indices in by_service.values_mut() {
        indices.sort_by(|&a, &b| {
            let (a, b) = (&deployments[a as usize], &deployments[b as usize]);
            (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id))
        });
    }
    let graph = &inputs.graph;
    let wanted: HashSet<u32> = inputs
        .incidents
        .iter()
        .filter_map(|i| i.caused_by_commit_sha.as_deref())
        .filter_map(|sha| graph.lookup(sha))
        .collect();
    let given: HashSet<&str> = inputs
        .source_deployment_commits
        .iter()
        .map(|(d, _)| d.as_str())
        .collect();
    let kept: Vec<(String, String)> = first_shipments(&inputs)
        .into_iter()
        .map(|(d, s)| (d.to_string(), s.to_string()))
        .collect();
    let mut walked = Vec::new();
    // commit node → deployments (one per service) whose history first contained it.
    let mut containing: HashMap<u32, Vec<&Deployment>> = HashMap::new();
    let mut services: Vec<&&str> = by_service.keys().collect();
    services.sort();
    let mut walk = GraphWalker::new(graph);
    for service in services {
        walk.next_service();
        for (k, &i) in by_service[*service].iter().enumerate() {
            let d = &deployments[i as usize];
            let Some(start) = d.sha.as_deref().and_then(|sha| graph.lookup(sha)) else {
                continue;
            };
            let newly = walk.advance(start);
            for node in &newly {
                if wanted.contains(node) {
                    containing.entry(*node).or_default().push(d);
                }
            }
            // The first deployment of a service ships its history, not a change.
            if k > 0 && !given.contains(d.id.as_str()) {
                walked.extend(newly.iter().map(|&n| (i, n)));
            }
        }
    }
    let by_service: HashMap<&str, Vec<&Deployment>> = by_service
        .into_iter()
        .map(|(s, indices)| {
            let ordered = indices.iter().map(|&i| &deployments[i as usize]);
            (s, ordered.collect())
        })
        .collect();
    let incident_links = link_incidents(&inputs, &containing, &by_service);
    Enriched {
        given: kept,
        walked,
        deployment_ids: inputs.deployments.into_iter().map(|d| d.id).collect(),
        shas: inputs.graph.into_shas(),
        incident_links,
    }
}

/// Source-given links, with a commit counted only at the first deployment of its
/// service that shipped it: after a rollback, a compare against the rolled-back
/// deployment lists commits already in production, which must not count twice
/// (the rule the graph walk applies too). Links of deployments enrichment does not
/// know (not successful production ones) are kept as given.
fn first_shipments(inputs: &Inputs) -> Vec<(&str, &str)> {
    let known: HashMap<&str, &Deployment> = inputs
        .deployments
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut rows: Vec<(&str, &str)> = inputs
        .source_deployment_commits
        .iter()
        .map(|(d, s)| (d.as_str(), s.as_str()))
        .collect();
    rows.sort_by_key(|(d, s)| {
        (
            known
                .get(d)
                .map(|k| (k.service.as_str(), k.finished_at, k.id.as_str())),
            *s,
        )
    });
    let mut shipped: HashSet<(&str, &str)> = HashSet::new();
    rows.into_iter()
        .filter(|(d, s)| match known.get(d) {
            Some(k) => shipped.insert((k.service.as_str(), s)),
            None => true,
        })
        .collect()
}

fn link_incidents(
    inputs: &Inputs,
    containing: &HashMap<u32, Vec<&Deployment>>,
    by_service: &HashMap<&str, Vec<&Deployment>>,
) -> Vec<(String, String, &'static str)> {
    let mut links = Vec::new();
    for incident in &inputs.incidents {
        if let Some(dep) = incident.caused_by_deployment_id.as_deref() {
            links.push((incident.id.clone(), dep.to_string(), "explicit"));
            continue;
        }
        let by_commit = incident
            .caused_by_commit_sha
            .as_deref()
            .and_then(|sha| inputs.graph.lookup(sha))
            .and_then(|node| containing.get(&node))
            .and_then(|deps| earliest_preferring_service(deps, incident.service.as_deref()));
        if let Some(d) = by_commit {
            links.push((incident.id.clone(), d.id.clone(), "commit"));
            continue;
        }
        let by_window = incident
            .service
            .as_deref()
            .and_then(|s| by_service.get(s))
            .and_then(|deps| {
                let before = deps.partition_point(|d| d.finished_at <= incident.started_at);
                before.checked_sub(1).map(|i| deps[i])
            })
            .filter(|d| incident.started_at - d.finished_at <= inputs.link_window_us);
        if let Some(d) = by_window {
            links.push((incident.id.clone(), d.id.clone(), "window"));
        }
    }
    links
}

/// The earliest deployment, among those of the incident's own service if there are any.
fn earliest_preferring_service<'a>(
    deps: &[&'a Deployment],
    service: Option<&str>,
) -> Option<&'a Deployment> {
    let same: Vec<&'a Deployment> = deps
        .iter()
        .copied()
        .filter(|d| Some(d.service.as_str()) == service)
        .collect();
    let pool = if same.is_empty() { deps.to_vec() } else { same };
    pool.into_iter()
        .min_by(|a, b| (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(id: &str, service: &str, finished_at: i64) -> Deployment {
        Deployment {
            id: id.into(),
            service: service.into(),
            sha: None,
            finished_at,
        }
    }

    #[test]
    fn a_source_given_commit_counts_at_its_first_shipment_per_service() {
        // d1 ships a, b; d2 rolls back (ships nothing); d3 is compared against the
        // rolled-back d2 and lists a, b again plus c. Another service may ship a too.
        let inputs = Inputs {
            deployments: vec![
                dep("d3", "svc", 30),
                dep("d1", "svc", 10),
                dep("d2", "svc", 20),
                dep("o1", "other", 15),
            ],
            source_deployment_commits: [
                ("d3", "a"),
                ("d3", "b"),
                ("d3", "c"),
                ("d1", "a"),
                ("d1", "b"),
                ("o1", "a"),
                ("x", "z"),
            ]
            .iter()
            .map(|(d, s)| (d.to_string(), s.to_string()))
            .collect(),
            ..Inputs::default()
        };
        let mut kept = first_shipments(&inputs);
        kept.sort();
        assert_eq!(
            kept,
            vec![
                ("d1", "a"),
                ("d1", "b"),
                ("d3", "c"),
                ("o1", "a"),
                ("x", "z")
            ]
        );
    }
}
