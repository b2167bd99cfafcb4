//! GitLab deployments and merge requests → canonical rows. Shared by the collector
//! (REST API objects) and the webhook intake (hook payloads), so a deployment reads
//! the same whichever way it arrived.
//!
//! The two payloads name the same facts differently (the API nests the job and
//! environment, a hook flattens them and sends times in another format), so each
//! intake first reads its payload into [`DeploymentFacts`] / [`MergeRequestFacts`];
//! everything that decides a row's values is here, once.

use chrono::{DateTime, Utc};

use super::api;
use crate::collect::delivery::{Commit, Deployment, PullRequest};
use crate::collect::rules::{Facts, Rules, service};
use crate::config::SourceConfig;

/// The canonical status of a GitLab deployment status, or `None` while it is not
/// final (`created`, `running`, `blocked`, approvals). GitLab spells it `canceled`;
/// `cancelled` is accepted too.
pub fn deployment_status(status: &str) -> Option<&'static str> {
    match status {
        "success" => Some("success"),
        "failed" => Some("failure"),
        "canceled" | "cancelled" => Some("cancelled"),
        _ => None,
    }
}

/// The canonical state of a merge request's `state`. `locked` is GitLab's "merge
/// in progress": still open until it lands.
pub fn merge_request_state(state: Option<&str>) -> &'static str {
    match state {
        Some("merged") => "merged",
        Some("closed") => "closed",
        _ => "open",
    }
}

/// What a deployment says, read from either payload.
#[derive(Debug, Clone, Default)]
pub struct DeploymentFacts<'a> {
    /// GitLab's deployment id.
    pub id: i64,
    /// `group/project`.
    pub project: &'a str,
    /// GitLab's status (`success`, `failed`, `canceled`, ...).
    pub status: &'a str,
    /// Environment name.
    pub environment: Option<&'a str>,
    /// GitLab's tier of the environment.
    pub environment_tier: Option<&'a str>,
    /// Branch or tag.
    pub git_ref: Option<&'a str>,
    /// Title of the change, when the payload has one.
    pub title: Option<&'a str>,
    /// Who deployed.
    pub creator: Option<&'a str>,
    /// The commit deployed.
    pub sha: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached its status.
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's web link.
    pub url: Option<&'a str>,
}

impl<'a> DeploymentFacts<'a> {
    /// A REST API deployment: times from its job, else its own.
    pub fn from_api(project: &'a str, d: &'a api::Deployment) -> Self {
        let env = d.environment.as_ref();
        let job = d.deployable.as_ref();
        DeploymentFacts {
            id: d.id,
            project,
            status: &d.status,
            environment: env.and_then(|e| e.name.as_deref()),
            environment_tier: env.and_then(|e| e.tier.as_deref()),
            git_ref: d.git_ref.as_deref(),
            title: None,
            creator: d.user.as_ref().and_then(|u| u.username.as_deref()),
            sha: d.sha.clone(),
            started_at: job.and_then(|j| j.started_at).or(Some(d.created_at)),
            finished_at: job.and_then(|j| j.finished_at).or(Some(d.updated_at)),
            url: job.and_then(|j| j.web_url.as_deref()),
        }
    }
}

/// What a merge request says, read from either payload.
#[derive(Debug, Clone, Default)]
pub struct MergeRequestFacts<'a> {
    /// Project-scoped number.
    pub iid: i64,
    /// `group/project`.
    pub project: &'a str,
    /// Canonical state (see [`merge_request_state`]).
    pub state: &'static str,
    /// Title.
    pub title: Option<String>,
    /// Author login, when the payload names it.
    pub author: Option<String>,
    /// Source branch.
    pub source_branch: Option<String>,
    /// Target branch.
    pub target_branch: Option<String>,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Merged.
    pub merged_at: Option<DateTime<Utc>>,
    /// The commit the merge landed as.
    pub landed_sha: Option<String>,
    /// Web link.
    pub url: Option<String>,
}

impl<'a> MergeRequestFacts<'a> {
    /// A REST API merge request.
    pub fn from_api(project: &'a str, m: &api::MergeRequest) -> Self {
        MergeRequestFacts {
            iid: m.iid,
            project,
            state: merge_request_state(m.state.as_deref()),
            title: m.title.clone(),
            author: m.author.as_ref().and_then(|a| a.username.clone()),
            source_branch: m.source_branch.clone(),
            target_branch: m.target_branch.clone(),
            created_at: m.created_at,
            merged_at: m.merged_at,
            landed_sha: m.landed_sha().map(str::to_string),
            url: m.web_url.clone(),
        }
    }
}

/// What mapping needs to know about the source.
#[derive(Debug, Clone, Copy)]
pub struct Mapper<'a> {
    /// The source's config.
    pub source: &'a SourceConfig,
    /// Its compiled rules.
    pub rules: &'a Rules,
}

impl Mapper<'_> {
    fn id(&self, project: &str, id: i64) -> String {
        format!("{}:{project}:{id}", self.source.name)
    }

    /// A deployment with a final status, or `None` while it runs.
    pub fn deployment(&self, d: DeploymentFacts<'_>) -> Option<Deployment> {
        let status = deployment_status(d.status)?;
        let facts = Facts {
            git_ref: d.git_ref,
            title: d.title,
            workflow_path: None,
            creator: d.creator,
            payload: None,
        };
        let marked_production = d.environment_tier == Some("production");
        Some(Deployment {
            deployment_id: self.id(d.project, d.id),
            source: self.source.name.clone(),
            repo: d.project.to_string(),
            service: service(self.source, d.project, None),
            environment: d.environment.map(str::to_string),
            env_tier: self.rules.env_tier(d.environment, marked_production),
            status,
            commit_sha: d.sha,
            started_at: d.started_at,
            finished_at: d.finished_at,
            kind: self.rules.kind(&facts),
            via_platform: self.rules.via_platform(&facts),
            url: d.url.map(str::to_string),
        })
    }

    /// A merge request; its merge time and landed commit only once merged.
    pub fn merge_request(&self, m: MergeRequestFacts<'_>) -> PullRequest {
        let merged = m.state == "merged";
        PullRequest {
            pr_id: self.id(m.project, m.iid),
            source: self.source.name.clone(),
            repo: m.project.to_string(),
            number: m.iid,
            title: m.title,
            author: m.author,
            head_ref: m.source_branch,
            base_ref: m.target_branch,
            state: m.state,
            created_at: m.created_at,
            merged_at: m.merged_at.filter(|_| merged),
            merge_commit_sha: m.landed_sha.filter(|_| merged),
            commit_shas: Vec::new(),
            url: m.url,
        }
    }
}

/// A commit from a repository compare.
pub fn commit(project: &str, c: &api::Commit) -> Commit {
    let author = c.author_name.clone().or_else(|| c.author_email.clone());
    Commit {
        repo: project.to_string(),
        commit_sha: c.id.clone(),
        parent_shas: c.parent_ids.clone(),
        authored_at: c.authored_date.map(|d| d.with_timezone(&Utc)),
        committed_at: c.committed_date.map(|d| d.with_timezone(&Utc)),
        is_bot: author.as_deref().is_some_and(|a| a.contains("[bot]")),
        author,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_canceled_are_final() {
        assert_eq!(deployment_status("canceled"), Some("cancelled"));
        assert_eq!(deployment_status("cancelled"), Some("cancelled"));
        assert_eq!(deployment_status("failed"), Some("failure"));
        assert_eq!(deployment_status("running"), None);
    }
}
