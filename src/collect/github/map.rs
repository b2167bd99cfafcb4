//! GitHub objects → canonical rows. Shared by the collector and the webhook intake,
//! so a deployment reads the same whichever way it arrived.

use chrono::{DateTime, Utc};

use super::api;
use crate::collect::delivery::{Commit, Deployment, PullRequest};
use crate::collect::rules::{Facts, Rules, service};
use crate::config::SourceConfig;

/// What mapping needs to know about the source.
#[derive(Debug, Clone, Copy)]
pub struct Mapper<'a> {
    /// The source's config.
    pub source: &'a SourceConfig,
    /// Its compiled rules.
    pub rules: &'a Rules,
}

/// The final outcome of a deployment from its statuses, or `None` while it is still
/// running. An `inactive` deployment that once succeeded was superseded, which is
/// still a success; one that never did was abandoned.
pub fn outcome(statuses: &[api::DeploymentStatus]) -> Option<(&'static str, DateTime<Utc>)> {
    let mut sorted: Vec<&api::DeploymentStatus> = statuses.iter().collect();
    sorted.sort_by_key(|s| s.created_at);
    let first = |state: &str| {
        sorted
            .iter()
            .find(|s| s.state == state)
            .map(|s| s.created_at)
    };
    if let Some(at) = first("success") {
        return Some(("success", at));
    }
    let last = sorted.last()?;
    match last.state.as_str() {
        "failure" => Some(("failure", last.created_at)),
        "error" => Some(("error", last.created_at)),
        "inactive" => Some(("cancelled", last.created_at)),
        _ => None,
    }
}

impl Mapper<'_> {
    fn id(&self, repo: &str, id: impl std::fmt::Display) -> String {
        format!("{}:{repo}:{id}", self.source.name)
    }

    /// A deployment with a final status, or `None` while it runs.
    pub fn deployment(
        &self,
        repo: &str,
        d: &api::Deployment,
        statuses: &[api::DeploymentStatus],
    ) -> Option<Deployment> {
        let (status, finished_at) = outcome(statuses)?;
        let creator = d.creator.as_ref().and_then(|c| c.login.as_deref());
        let facts = Facts {
            git_ref: d.git_ref.as_deref(),
            title: d.description.as_deref(),
            workflow_path: None,
            creator,
            payload: Some(&d.payload),
        };
        let url = statuses
            .iter()
            .find_map(|s| {
                s.log_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .or_else(|| s.target_url.clone().filter(|u| !u.is_empty()))
            })
            .or_else(|| d.url.clone());
        Some(Deployment {
            deployment_id: self.id(repo, d.id),
            source: self.source.name.clone(),
            repo: repo.to_string(),
            service: service(self.source, repo, Some(&d.payload)),
            environment: d.environment.clone(),
            env_tier: self
                .rules
                .env_tier(d.environment.as_deref(), d.production_environment),
            status,
            commit_sha: d.sha.clone(),
            started_at: Some(d.created_at),
            finished_at: Some(finished_at),
            kind: self.rules.kind(&facts),
            via_platform: self.rules.via_platform(&facts),
            url,
        })
    }

    /// A published release as a successful production deployment of `sha`.
    pub fn release(&self, repo: &str, r: &api::Release, sha: Option<String>) -> Option<Deployment> {
        if r.draft || r.prerelease {
            return None;
        }
        let at = r.published_at.or(r.created_at)?;
        let creator = r.author.as_ref().and_then(|a| a.login.as_deref());
        let facts = Facts {
            git_ref: Some(&r.tag_name),
            title: r.name.as_deref(),
            workflow_path: None,
            creator,
            payload: None,
        };
        Some(Deployment {
            deployment_id: self.id(repo, format!("release-{}", r.id)),
            source: self.source.name.clone(),
            repo: repo.to_string(),
            service: service(self.source, repo, None),
            environment: Some("production".into()),
            env_tier: "production",
            status: "success",
            commit_sha: sha,
            started_at: Some(at),
            finished_at: Some(at),
            kind: self.rules.kind(&facts),
            via_platform: self.rules.via_platform(&facts),
            url: r.html_url.clone(),
        })
    }

    /// A completed deploy-workflow run as a production deployment; `None` while it
    /// runs or when it was skipped.
    pub fn workflow_run(&self, repo: &str, run: &api::WorkflowRun) -> Option<Deployment> {
        if run.status.as_deref() != Some("completed") {
            return None;
        }
        let status = match run.conclusion.as_deref()? {
            "success" => "success",
            "failure" | "timed_out" | "startup_failure" => "failure",
            "cancelled" => "cancelled",
            _ => return None,
        };
        let creator = run.actor.as_ref().and_then(|a| a.login.as_deref());
        let facts = Facts {
            git_ref: run.head_branch.as_deref(),
            title: run.display_title.as_deref(),
            workflow_path: run.path.as_deref(),
            creator,
            payload: None,
        };
        Some(Deployment {
            deployment_id: self.id(repo, format!("run-{}", run.id)),
            source: self.source.name.clone(),
            repo: repo.to_string(),
            service: service(self.source, repo, None),
            environment: Some("production".into()),
            env_tier: "production",
            status,
            commit_sha: run.head_sha.clone(),
            started_at: run.run_started_at.or(Some(run.created_at)),
            finished_at: run.updated_at,
            kind: self.rules.kind(&facts),
            via_platform: self.rules.via_platform(&facts),
            url: run.html_url.clone(),
        })
    }

    /// A pull request; `commit_shas` are its own commits when fetched.
    pub fn pull(&self, repo: &str, p: &api::Pull, commit_shas: Vec<String>) -> PullRequest {
        let state = if p.merged_at.is_some() {
            "merged"
        } else if p.state.as_deref() == Some("closed") {
            "closed"
        } else {
            "open"
        };
        PullRequest {
            pr_id: self.id(repo, p.number),
            source: self.source.name.clone(),
            repo: repo.to_string(),
            number: p.number,
            title: p.title.clone(),
            author: p.user.as_ref().and_then(|u| u.login.clone()),
            head_ref: p.head.as_ref().and_then(|b| b.git_ref.clone()),
            base_ref: p.base.as_ref().and_then(|b| b.git_ref.clone()),
            state,
            created_at: p.created_at,
            merged_at: p.merged_at,
            // Before a merge this is GitHub's test merge commit, on no branch.
            merge_commit_sha: p.merged_at.and(p.merge_commit_sha.clone()),
            commit_shas,
            url: p.html_url.clone(),
        }
    }
}

/// A commit from compare or a commit list.
pub fn commit(repo: &str, c: &api::Commit) -> Commit {
    let author = c.commit.author.as_ref();
    let login = c.author.as_ref().and_then(|a| a.login.clone());
    Commit {
        repo: repo.to_string(),
        commit_sha: c.sha.clone(),
        parent_shas: c.parents.iter().map(|p| p.sha.clone()).collect(),
        authored_at: author.and_then(|a| a.date),
        committed_at: c.commit.committer.as_ref().and_then(|a| a.date),
        is_bot: c.author.as_ref().is_some_and(api::Actor::is_bot)
            || login.as_deref().is_some_and(|l| l.ends_with("[bot]")),
        author: login.or_else(|| author.and_then(|a| a.name.clone())),
    }
}
