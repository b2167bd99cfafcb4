//! GitHub webhook payloads → canonical rows.
//!
//! Deployments and pull requests go through the collector's [`Mapper`], so a row
//! reads the same whether it was polled or pushed. Only the fields used are
//! deserialized: the payloads are large, and some fields change type between
//! events (`repository.pushed_at` is an epoch number in `push`, a string
//! elsewhere).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::handled::Handled;
use crate::collect::delivery::{Commit, Delivery};
use crate::collect::github::api;
use crate::collect::github::map::Mapper;
use crate::collect::rules::Rules;
use crate::config::{SourceConfig, SourceKind};

/// A branch delete or a new branch reports this as `before` / `after`.
const NULL_SHA: &str = "0000000000000000000000000000000000000000";

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
}

#[derive(Debug, Deserialize)]
struct DeploymentStatusEvent {
    deployment: api::Deployment,
    deployment_status: api::DeploymentStatus,
    repository: Repository,
}

#[derive(Debug, Deserialize)]
struct PullRequestEvent {
    action: Option<String>,
    pull_request: api::Pull,
    repository: Repository,
}

#[derive(Debug, Deserialize)]
struct PushEvent {
    before: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    commits: Vec<PushCommit>,
    repository: Repository,
}

#[derive(Debug, Deserialize)]
struct PushCommit {
    id: String,
    /// False when the commit was already in the repository (pushed to another
    /// branch before).
    #[serde(default = "yes")]
    distinct: bool,
    timestamp: Option<DateTime<Utc>>,
    author: Option<PushAuthor>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct PushAuthor {
    name: Option<String>,
    username: Option<String>,
}

/// Maps one delivery of event `event` (the `X-GitHub-Event` header).
pub(crate) fn handle(
    source: &SourceConfig,
    rules: &Rules,
    event: &str,
    body: &[u8],
) -> Result<Handled, String> {
    let mapper = Mapper { source, rules };
    match event {
        "ping" => Ok(Handled::Pong),
        "deployment_status" => deployment_status(&mapper, parse(body)?),
        "pull_request" => Ok(pull_request(&mapper, parse(body)?)),
        "push" => Ok(push(source, parse(body)?)),
        other => Ok(Handled::Ignored(format!("event `{other}` is not used"))),
    }
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Whether the source covers `repo` (its `repos`, or any repository of its `org`):
/// an organisation-wide hook also reports repositories nobody asked for.
fn covers(source: &SourceConfig, repo: &str) -> bool {
    let SourceKind::Github(github) = &source.kind else {
        return false;
    };
    let owner = repo.split('/').next().unwrap_or_default();
    github.repos.iter().any(|r| r.eq_ignore_ascii_case(repo))
        || github
            .org
            .as_deref()
            .is_some_and(|org| org.eq_ignore_ascii_case(owner))
}

fn not_covered(repo: &str) -> Handled {
    Handled::Ignored(format!(
        "repository {repo} is not configured for this source"
    ))
}

/// One status of one deployment. Only `success`, `failure` and `error` are
/// mapped: a webhook carries a single status, and `inactive` alone cannot tell a
/// superseded success (still a success) from an abandoned deployment; the
/// collector, which reads every status, decides those.
fn deployment_status(mapper: &Mapper<'_>, e: DeploymentStatusEvent) -> Result<Handled, String> {
    let repo = e.repository.full_name;
    if !covers(mapper.source, &repo) {
        return Ok(not_covered(&repo));
    }
    let state = e.deployment_status.state.clone();
    if !matches!(state.as_str(), "success" | "failure" | "error") {
        return Ok(Handled::Ignored(format!(
            "deployment status `{state}` is not final"
        )));
    }
    let mut status = e.deployment_status;
    // GitHub sends "" for unset links; an empty URL is no link.
    status.log_url = status.log_url.filter(|u| !u.is_empty());
    status.target_url = status.target_url.filter(|u| !u.is_empty());
    let Some(row) = mapper.deployment(&repo, &e.deployment, &[status]) else {
        return Ok(Handled::Ignored(format!(
            "deployment status `{state}` is not final"
        )));
    };
    Ok(Handled::Rows(Delivery {
        deployments: vec![row],
        ..Delivery::default()
    }))
}

/// Any action updates the pull request's row. The payload lists no commits, so
/// `commit_shas` is empty.
fn pull_request(mapper: &Mapper<'_>, e: PullRequestEvent) -> Handled {
    let repo = e.repository.full_name;
    if !covers(mapper.source, &repo) {
        return not_covered(&repo);
    }
    tracing::debug!(repo, action = e.action.as_deref(), "Pull request event.");
    Handled::Rows(Delivery {
        pull_requests: vec![mapper.pull(&repo, &e.pull_request, Vec::new())],
        ..Delivery::default()
    })
}

/// Commits of a push, oldest first.
///
/// Push payloads carry no parent lists. Parents are chained in push order: each
/// commit's parent is the commit listed before it, and the first one's is
/// `before` (the branch's previous head). That is exact for linear pushes; for
/// pushed merges it drops the merged-in side's parent, but every pushed commit is
/// still reachable from the head, which is what deciding what a deployment shipped
/// needs. The first commit gets no parent on a new branch (`before` is all
/// zeros) or a forced push (`before` is the rewritten-away head, not an
/// ancestor). Commits already in the repository (`distinct: false`) keep their
/// chain position but are not written, so an exact row from the collector or an
/// earlier push is not replaced by a chained one.
fn push(source: &SourceConfig, e: PushEvent) -> Handled {
    let repo = e.repository.full_name;
    if !covers(source, &repo) {
        return not_covered(&repo);
    }
    if e.deleted {
        return Handled::Ignored("branch deletion".into());
    }
    if e.commits.is_empty() {
        return Handled::Ignored("push without commits".into());
    }
    let mut parent = e.before.filter(|b| b != NULL_SHA && !e.forced);
    let mut commits = Vec::with_capacity(e.commits.len());
    for c in e.commits {
        let author = c.author.and_then(|a| a.username.or(a.name));
        let row = Commit {
            repo: repo.clone(),
            commit_sha: c.id.clone(),
            parent_shas: parent.take().into_iter().collect(),
            authored_at: c.timestamp,
            committed_at: c.timestamp,
            is_bot: author.as_deref().is_some_and(|a| a.ends_with("[bot]")),
            author,
        };
        parent = Some(c.id);
        if c.distinct {
            commits.push(row);
        }
    }
    Handled::Rows(Delivery {
        commits,
        ..Delivery::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn source() -> SourceConfig {
        let text =
            "[[sources]]\nkind='github'\nname='gh'\nrepos=['acme/shop']\nwebhook_secret_env='X'";
        Config::parse(text, "t").unwrap().sources.remove(0)
    }

    fn commits(body: serde_json::Value) -> Vec<Commit> {
        let s = source();
        let rules = Rules::new(&s);
        match handle(&s, &rules, "push", body.to_string().as_bytes()).unwrap() {
            Handled::Rows(d) => d.commits,
            other => panic!("{other:?}"),
        }
    }

    fn c(id: &str, distinct: bool) -> serde_json::Value {
        serde_json::json!({"id": id, "distinct": distinct, "timestamp": "2024-01-01T00:00:00Z",
            "author": {"name": "Ann", "username": "ann"}})
    }

    #[test]
    fn push_chains_parents_in_order() {
        let body = serde_json::json!({"before": "b0", "forced": false, "deleted": false,
            "repository": {"full_name": "acme/shop", "pushed_at": 1557933565},
            "commits": [c("c1", true), c("c2", false), c("c3", true)]});
        let rows = commits(body);
        let pairs: Vec<(&str, Vec<&str>)> = rows
            .iter()
            .map(|r| {
                let parents = r.parent_shas.iter().map(String::as_str).collect();
                (r.commit_sha.as_str(), parents)
            })
            .collect();
        assert_eq!(pairs, vec![("c1", vec!["b0"]), ("c3", vec!["c2"])]);
        assert_eq!(rows[0].author.as_deref(), Some("ann"));
    }

    #[test]
    fn forced_push_does_not_link_the_old_head() {
        let body = serde_json::json!({"before": "old", "forced": true,
            "repository": {"full_name": "acme/shop"}, "commits": [c("c1", true)]});
        assert!(commits(body)[0].parent_shas.is_empty());
    }

    #[test]
    fn other_repositories_are_ignored() {
        let s = source();
        let rules = Rules::new(&s);
        let body = serde_json::json!({"before": "b0", "repository": {"full_name": "acme/other"},
            "commits": [c("c1", true)]});
        let handled = handle(&s, &rules, "push", body.to_string().as_bytes()).unwrap();
        assert!(matches!(handled, Handled::Ignored(_)), "{handled:?}");
    }
}
