//! The parts of GitHub's REST objects northstar reads. Every field a real payload
//! may leave out or null is an `Option`: the vendor's own examples show how loose
//! those payloads are (a PR `state: open` with `merged_at` set, payloads given as
//! strings).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value as Json;

/// A user or bot.
#[derive(Debug, Clone, Deserialize)]
pub struct Actor {
    /// Login name.
    pub login: Option<String>,
    /// `User` or `Bot`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl Actor {
    /// Bots by type or by the `[bot]` login suffix.
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot")
            || self.login.as_deref().is_some_and(|l| l.ends_with("[bot]"))
    }
}

/// `GET /repos/{repo}/deployments` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    /// Numeric id.
    pub id: i64,
    /// Deployed commit.
    pub sha: Option<String>,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Free-form payload: an object or a JSON string.
    #[serde(default)]
    pub payload: Json,
    /// Environment name.
    pub environment: Option<String>,
    /// Description given at creation.
    pub description: Option<String>,
    /// Who created it.
    pub creator: Option<Actor>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Whether the environment is production.
    #[serde(default)]
    pub production_environment: bool,
    /// API URL.
    pub url: Option<String>,
}

/// `GET /repos/{repo}/deployments/{id}/statuses` item.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentStatus {
    /// error | failure | inactive | pending | success | queued | in_progress.
    pub state: String,
    /// When the status was set.
    pub created_at: DateTime<Utc>,
    /// Link to logs.
    pub log_url: Option<String>,
    /// Deprecated link to logs.
    pub target_url: Option<String>,
}

/// Author or committer of a git commit.
#[derive(Debug, Clone, Deserialize)]
pub struct GitPerson {
    /// Name.
    pub name: Option<String>,
    /// Date.
    pub date: Option<DateTime<Utc>>,
}

/// The git part of a commit.
#[derive(Debug, Clone, Deserialize)]
pub struct GitCommit {
    /// Author.
    pub author: Option<GitPerson>,
    /// Committer.
    pub committer: Option<GitPerson>,
    /// Message.
    pub message: Option<String>,
}

/// A parent reference.
#[derive(Debug, Clone, Deserialize)]
pub struct Parent {
    /// Parent SHA.
    pub sha: String,
}

/// A commit as compare and list endpoints return it.
#[derive(Debug, Clone, Deserialize)]
pub struct Commit {
    /// SHA.
    pub sha: String,
    /// Git data.
    pub commit: GitCommit,
    /// The GitHub account of the author, when matched.
    pub author: Option<Actor>,
    /// Parents.
    #[serde(default)]
    pub parents: Vec<Parent>,
}

/// `GET /repos/{repo}/compare/{base}...{head}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    /// ahead | behind | identical | diverged.
    pub status: Option<String>,
    /// Commits in this page, oldest first.
    #[serde(default)]
    pub commits: Vec<Commit>,
}

/// A branch end of a PR.
#[derive(Debug, Clone, Deserialize)]
pub struct Branch {
    /// Branch name.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

/// `GET /repos/{repo}/pulls` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Pull {
    /// PR number.
    pub number: i64,
    /// open | closed.
    pub state: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Author.
    pub user: Option<Actor>,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Merged (null when not merged).
    pub merged_at: Option<DateTime<Utc>>,
    /// The landed commit once merged.
    pub merge_commit_sha: Option<String>,
    /// Source branch.
    pub head: Option<Branch>,
    /// Target branch.
    pub base: Option<Branch>,
    /// Web link.
    pub html_url: Option<String>,
}

/// `GET /repos/{repo}/releases` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    /// Numeric id.
    pub id: i64,
    /// Tag.
    pub tag_name: String,
    /// Title.
    pub name: Option<String>,
    /// Unpublished draft.
    #[serde(default)]
    pub draft: bool,
    /// Pre-release.
    #[serde(default)]
    pub prerelease: bool,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Published: the deployment time.
    pub published_at: Option<DateTime<Utc>>,
    /// Who published it.
    pub author: Option<Actor>,
    /// Web link.
    pub html_url: Option<String>,
}

/// `GET /repos/{repo}/actions/runs` envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRuns {
    /// Runs on this page.
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRun>,
}

/// A workflow run.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    /// Numeric id.
    pub id: i64,
    /// Workflow name.
    pub name: Option<String>,
    /// Title shown for the run (commit or PR title).
    pub display_title: Option<String>,
    /// `.github/workflows/x.yml` (sometimes with `@ref`).
    pub path: Option<String>,
    /// Branch.
    pub head_branch: Option<String>,
    /// Commit.
    pub head_sha: Option<String>,
    /// queued | in_progress | completed | …
    pub status: Option<String>,
    /// success | failure | cancelled | timed_out | …
    pub conclusion: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last update: completion time for a completed run.
    pub updated_at: Option<DateTime<Utc>>,
    /// Started (re-runs start later than created).
    pub run_started_at: Option<DateTime<Utc>>,
    /// Who triggered it.
    pub actor: Option<Actor>,
    /// Web link.
    pub html_url: Option<String>,
}

/// `GET /orgs/{org}/repos` item.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Archived repositories are skipped.
    #[serde(default)]
    pub archived: bool,
}

/// `GET /repos/{repo}/commits/{ref}`: only the resolved SHA is read.
#[derive(Debug, Clone, Deserialize)]
pub struct CommitRef {
    /// SHA.
    pub sha: String,
}
