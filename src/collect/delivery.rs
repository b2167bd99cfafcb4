//! The canonical delivery records every delivery collector (GitHub, GitLab, git,
//! webhooks) produces, and their one way into the lake.
//!
//! Collectors only map source records to these structs; turning them into typed
//! rows, ordering the writes and counting what changed happens here once.

use chrono::{DateTime, Utc};

use super::written::Written;
use crate::error::Result;
use crate::lake::Lake;
use crate::lake::batch::Value;
use crate::lake::row::RowBuilder;
use crate::lake::tables::{self, TableSpec};

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

impl Deployment {
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("deployment_id", &self.deployment_id)
            .set("source", &self.source)
            .set("repo", &self.repo)
            .set("service", &self.service)
            .set("environment", self.environment.clone())
            .set("env_tier", self.env_tier)
            .set("status", self.status)
            .set("commit_sha", self.commit_sha.clone())
            .set("started_at", self.started_at)
            .set("finished_at", self.finished_at)
            .set("kind", self.kind)
            .set("via_platform", self.via_platform)
            .set("url", self.url.clone())
            .finish()
    }
}

impl Commit {
    /// The pull request columns are the engine's to fill (from `pull_requests`);
    /// collectors leave them empty.
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("repo", &self.repo)
            .set("commit_sha", &self.commit_sha)
            .set("parent_shas", self.parent_shas.clone())
            .set("authored_at", self.authored_at)
            .set("committed_at", self.committed_at)
            .set("author", self.author.clone())
            .set("is_bot", self.is_bot)
            .set("pr_id", Value::Null)
            .set("pr_created_at", Value::Null)
            .set("pr_merged_at", Value::Null)
            .finish()
    }
}

impl PullRequest {
    fn row(&self, spec: &TableSpec) -> Result<Vec<Value>> {
        RowBuilder::new(spec)
            .set("pr_id", &self.pr_id)
            .set("source", &self.source)
            .set("repo", &self.repo)
            .set("number", Value::Int(self.number))
            .set("title", self.title.clone())
            .set("author", self.author.clone())
            .set("head_ref", self.head_ref.clone())
            .set("base_ref", self.base_ref.clone())
            .set("state", self.state)
            .set("created_at", self.created_at)
            .set("merged_at", self.merged_at)
            .set("merge_commit_sha", self.merge_commit_sha.clone())
            .set("commit_shas", self.commit_shas.clone())
            .set("url", self.url.clone())
            .finish()
    }
}

fn link_row(
    spec: &TableSpec,
    (deployment_id, commit_sha): &(String, String),
) -> Result<Vec<Value>> {
    RowBuilder::new(spec)
        .set("deployment_id", deployment_id)
        .set("commit_sha", commit_sha)
        .finish()
}

/// `items` as rows of `table`, each built by `row`.
pub(super) fn rows<T>(
    table: &str,
    items: &[T],
    row: impl Fn(&T, &TableSpec) -> Result<Vec<Value>>,
) -> Result<(TableSpec, Vec<Vec<Value>>)> {
    let spec = tables::table(table)?;
    let rows = items
        .iter()
        .map(|item| row(item, &spec))
        .collect::<Result<_>>()?;
    Ok((spec, rows))
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
        let mut written = Written::default();
        for (spec, rows) in [
            rows("commits", &self.commits, Commit::row)?,
            rows("deployment_commits", &self.deployment_commits, |l, spec| {
                link_row(spec, l)
            })?,
            rows("pull_requests", &self.pull_requests, PullRequest::row)?,
            rows("deployments", &self.deployments, Deployment::row)?,
        ] {
            let changed = lake.write_changed(&spec, rows).await?;
            written.record(spec.name, changed);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record type names exactly its table's columns: `finish` fails on a
    /// column left out, unknown or set twice.
    #[test]
    fn each_record_fills_exactly_its_tables_columns() {
        let deployment = Deployment {
            deployment_id: "s:r:1".into(),
            source: "s".into(),
            repo: "r".into(),
            service: "svc".into(),
            environment: None,
            env_tier: "production",
            status: "success",
            commit_sha: None,
            started_at: None,
            finished_at: None,
            kind: "planned",
            via_platform: false,
            url: None,
        };
        let commit = Commit {
            repo: "r".into(),
            commit_sha: "c".into(),
            parent_shas: Vec::new(),
            authored_at: None,
            committed_at: None,
            author: None,
            is_bot: false,
        };
        let pr = PullRequest {
            pr_id: "s:r:1".into(),
            source: "s".into(),
            repo: "r".into(),
            number: 1,
            title: None,
            author: None,
            head_ref: None,
            base_ref: None,
            state: "open",
            created_at: None,
            merged_at: None,
            merge_commit_sha: None,
            commit_shas: Vec::new(),
            url: None,
        };
        let delivery = Delivery {
            deployments: vec![deployment],
            commits: vec![commit],
            deployment_commits: vec![("s:r:1".into(), "c".into())],
            pull_requests: vec![pr],
        };
        let (spec, built) = rows("deployments", &delivery.deployments, Deployment::row).unwrap();
        assert_eq!(built[0][spec.columns.len() - 1], Value::Null);
        rows("commits", &delivery.commits, Commit::row).unwrap();
        rows("pull_requests", &delivery.pull_requests, PullRequest::row).unwrap();
        rows(
            "deployment_commits",
            &delivery.deployment_commits,
            |l, s| link_row(s, l),
        )
        .unwrap();
    }
}
