//! The parts of GitLab's REST objects northstar reads (API v4). Fields a payload
//! may omit or null are `Option`s.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A user.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Login name.
    pub username: Option<String>,
    /// Whether GitLab marks the account as a bot.
    #[serde(default)]
    pub bot: bool,
}

/// An environment reference.
#[derive(Debug, Clone, Deserialize)]
pub struct Environment {
    /// Name, e.g. `production`.
    pub name: Option<String>,
    /// `production|staging|testing|development|other` (GitLab 15.x+).
    pub tier: Option<String>,
}

/// The job that ran a deployment.
#[derive(Debug, Clone, Deserialize)]
pub struct Deployable {
    /// When the job started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the job finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Job web link.
    pub web_url: Option<String>,
}

/// `GET /projects/:id/deployments` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    /// Numeric id.
    pub id: i64,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Deployed commit.
    pub sha: Option<String>,
    /// created | running | success | failed | canceled | blocked | skipped.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change: the incremental sync key.
    pub updated_at: DateTime<Utc>,
    /// Who deployed.
    pub user: Option<User>,
    /// Where.
    pub environment: Option<Environment>,
    /// The job.
    pub deployable: Option<Deployable>,
}

/// `GET /projects/:id/merge_requests` item.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeRequest {
    /// Project-scoped number.
    pub iid: i64,
    /// Title.
    pub title: Option<String>,
    /// opened | closed | locked | merged.
    pub state: Option<String>,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Merged.
    pub merged_at: Option<DateTime<Utc>>,
    /// Author.
    pub author: Option<User>,
    /// Source branch.
    pub source_branch: Option<String>,
    /// Target branch.
    pub target_branch: Option<String>,
    /// Head of the source branch.
    pub sha: Option<String>,
    /// The merge commit, when one was made.
    pub merge_commit_sha: Option<String>,
    /// The squash commit, when squashed.
    pub squash_commit_sha: Option<String>,
    /// Web link.
    pub web_url: Option<String>,
}

impl MergeRequest {
    /// The commit the merge landed as: merge commit, else squash commit, else the
    /// source head (fast-forward merges).
    pub fn landed_sha(&self) -> Option<&str> {
        self.merge_commit_sha
            .as_deref()
            .or(self.squash_commit_sha.as_deref())
            .or(self.sha.as_deref())
    }
}

/// `GET /projects/:id/repository/compare` commit.
#[derive(Debug, Clone, Deserialize)]
pub struct Commit {
    /// SHA.
    pub id: String,
    /// Parents.
    #[serde(default)]
    pub parent_ids: Vec<String>,
    /// Author date.
    pub authored_date: Option<DateTime<chrono::FixedOffset>>,
    /// Committer date.
    pub committed_date: Option<DateTime<chrono::FixedOffset>>,
    /// Author name.
    pub author_name: Option<String>,
    /// Author email.
    pub author_email: Option<String>,
    /// First line.
    pub title: Option<String>,
}

/// `GET /projects/:id/repository/compare`.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    /// Commits in `to` and not in `from`, oldest first.
    #[serde(default)]
    pub commits: Vec<Commit>,
    /// GitLab gave up computing the comparison: `commits` may be incomplete.
    #[serde(default)]
    pub compare_timeout: bool,
}

/// `GET /groups/:id/projects` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    /// `group/project`.
    pub path_with_namespace: String,
    /// Archived projects are skipped.
    #[serde(default)]
    pub archived: bool,
}
