//! The canonical delivery records every delivery collector (GitHub, GitLab, git,
//! webhooks) produces, and their one way into the lake.
//!
//! Collectors only map source records to these structs; turning them into typed
//! rows, ordering the writes and counting what changed happens here once.

use chrono::{DateTime, Utc};

use super::written::Written;
use crate::error::Result;
use crate::lake::batch::Value;
use crate::lake::{Lake, tables};

/// A `deployments` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// `<source>:<repo>:<id>`.
    pub deployment_id: String,
    /// The source's configured name.
    pub source: String,
    /// `owner/repo` or project path.
    pub repo: String,
    /// Catalog service name.
    pub service: String,
    /// Environment name as the source gives it.
    pub environment: Option<String>,
    /// `production|staging|testing|development|other`.
    pub env_tier: &'static str,
    /// `success|failure|error|cancelled`.
    pub status: &'static str,
    /// The commit deployed.
    pub commit_sha: Option<String>,
    /// When the deployment started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached its final status.
    pub finished_at: Option<DateTime<Utc>>,
    /// `planned|hotfix|rollback`.
    pub kind: &'static str,
    /// Whether the platform performed it.
    pub via_platform: bool,
    /// A link back to the source.
    pub url: Option<String>,
}

/// A `commits` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// `owner/repo` or project path.
    pub repo: String,
    /// Full SHA.
    pub commit_sha: String,
    /// Parent SHAs (two or more for merges).
    pub parent_shas: Vec<String>,
    /// Author date.
    pub authored_at: Option<DateTime<Utc>>,
    /// Committer date.
    pub committed_at: Option<DateTime<Utc>>,
    /// Login when known, else the author's name.
    pub author: Option<String>,
    /// Whether a bot authored it.
    pub is_bot: bool,
}

/// A `pull_requests` row (GitHub pull requests, GitLab merge requests).
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    /// `<source>:<repo>:<number>`.
    pub pr_id: String,
    /// The source's configured name.
    pub source: String,
    /// `owner/repo` or project path.
    pub repo: String,
    /// PR number (GitLab: iid).
    pub number: i64,
    /// Title.
    pub title: Option<String>,
    /// Author login.
    pub author: Option<String>,
    /// Source branch.
    pub head_ref: Option<String>,
    /// Target branch.
    pub base_ref: Option<String>,
    /// `open|closed|merged`.
    pub state: &'static str,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Merged (none when closed unmerged or open).
    pub merged_at: Option<DateTime<Utc>>,
    /// The commit the merge landed as (merge, squash or rebase head).
    pub merge_commit_sha: Option<String>,
    /// The PR's own commits, when fetched.
    pub commit_shas: Vec<String>,
    /// A link back to the source.
    pub url: Option<String>,
}

/// Everything one collection step produced, written together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// Deployments with a final status.
    pub deployments: Vec<Deployment>,
    /// Commits with their parents.
    pub commits: Vec<Commit>,
    /// (deployment_id, commit_sha) pairs the source says a deployment shipped.
    pub deployment_commits: Vec<(String, String)>,
    /// Pull or merge requests.
    pub pull_requests: Vec<PullRequest>,
}

fn ts(t: Option<DateTime<Utc>>) -> Value {
    Value::opt_ts(t.map(|t| t.timestamp_micros()))
}

impl Deployment {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.deployment_id),
            Value::text(&self.source),
            Value::text(&self.repo),
            Value::text(&self.service),
            Value::opt_text(self.environment.clone()),
            Value::text(self.env_tier),
            Value::text(self.status),
            Value::opt_text(self.commit_sha.clone()),
            ts(self.started_at),
            ts(self.finished_at),
            Value::text(self.kind),
            Value::Bool(self.via_platform),
            Value::opt_text(self.url.clone()),
        ]
    }
}

impl Commit {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.repo),
            Value::text(&self.commit_sha),
            Value::TextList(self.parent_shas.clone()),
            ts(self.authored_at),
            ts(self.committed_at),
            Value::opt_text(self.author.clone()),
            Value::Bool(self.is_bot),
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    }
}

impl PullRequest {
    fn row(&self) -> Vec<Value> {
        vec![
            Value::text(&self.pr_id),
            Value::text(&self.source),
            Value::text(&self.repo),
            Value::Int(self.number),
            Value::opt_text(self.title.clone()),
            Value::opt_text(self.author.clone()),
            Value::opt_text(self.head_ref.clone()),
            Value::opt_text(self.base_ref.clone()),
            Value::text(self.state),
            ts(self.created_at),
            ts(self.merged_at),
            Value::opt_text(self.merge_commit_sha.clone()),
            Value::TextList(self.commit_shas.clone()),
            Value::opt_text(self.url.clone()),
        ]
    }
}

impl Delivery {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.commits.is_empty()
            && self.deployment_commits.is_empty()
            && self.pull_requests.is_empty()
    }

    /// Adds another step's records.
    pub fn extend(&mut self, other: Delivery) {
        self.deployments.extend(other.deployments);
        self.commits.extend(other.commits);
        self.deployment_commits.extend(other.deployment_commits);
        self.pull_requests.extend(other.pull_requests);
    }

    /// Writes the records, skipping any the lake already holds unchanged, so a
    /// re-run with no upstream change writes nothing. Commits and links go before
    /// deployments: a reader never sees a deployment whose commits are missing.
    pub async fn write(&self, lake: &Lake) -> Result<Written> {
        let commits = self.commits.iter().map(Commit::row).collect::<Vec<_>>();
        let links = self
            .deployment_commits
            .iter()
            .map(|(d, c)| vec![Value::text(d), Value::text(c)])
            .collect::<Vec<_>>();
        let prs = self
            .pull_requests
            .iter()
            .map(PullRequest::row)
            .collect::<Vec<_>>();
        let deployments = self
            .deployments
            .iter()
            .map(Deployment::row)
            .collect::<Vec<_>>();
        let mut written = Written::default();
        for (table, rows) in [
            ("commits", commits),
            ("deployment_commits", links),
            ("pull_requests", prs),
            ("deployments", deployments),
        ] {
            let changed = lake.write_changed(&tables::table(table)?, rows).await?;
            written.record(table, changed);
        }
        Ok(written)
    }
}
