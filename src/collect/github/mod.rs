//! GitHub (`kind = "github"`): deployments and their statuses, or releases, or
//! deploy-workflow runs, as deployments; the commits each production deployment
//! shipped, by compare against the previous successful production deployment of
//! the same repository and environment; merged pull requests.
//!
//! GitHub's list endpoints have no `since` filter for these resources: lists come
//! newest first and are read until an item is older than the watermark minus the
//! overlap. Conditional requests make the re-read pages cost 304s.

pub mod api;
pub mod map;
mod modes;
mod pulls;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue};

use super::SourceRun;
use super::delivery::Delivery;
use super::http::HttpClient;
use super::rest::{self, RestApi};
use crate::config::{DeliveryMode, GithubSource};
use crate::error::{Error, Result};
use map::Mapper;

/// The public API; GitHub Enterprise Server is `https://HOST/api/v3`.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// GitHub's documented cap on commits of one pull request's commit list.
const PR_COMMITS_CAP: usize = 250;

/// The GitHub API root of a source.
pub type Api = RestApi;

fn client(run: &SourceRun<'_>) -> Result<HttpClient> {
    let auth = rest::token_auth(run.source, "authorization", "Bearer ")?;
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    headers.insert(
        "x-github-api-version",
        HeaderValue::from_static("2022-11-28"),
    );
    rest::client(run, auth, headers)
}

/// Collects every configured repository; returns the client for its counters.
pub async fn collect(run: &mut SourceRun<'_>, github: &GithubSource) -> Result<HttpClient> {
    let http = client(run)?;
    let api = RestApi::new(run.source, http.clone(), DEFAULT_API_URL)?;
    for repo in repositories(&api, run, github).await? {
        let rules = run.rules.clone();
        let mapper = Mapper {
            source: run.source,
            rules: &rules,
        };
        match github.mode {
            DeliveryMode::Deployments => deployments(&api, run, &mapper, &repo).await?,
            DeliveryMode::Releases => modes::releases(&api, run, &mapper, &repo).await?,
            DeliveryMode::WorkflowRuns => {
                modes::workflow_runs(&api, run, &mapper, &repo, &github.workflows).await?
            }
        }
        pulls::collect(&api, run, &mapper, &repo).await?;
    }
    Ok(http)
}

async fn repositories(
    api: &Api,
    run: &SourceRun<'_>,
    github: &GithubSource,
) -> Result<Vec<String>> {
    let mut repos = github.repos.clone();
    if let Some(org) = &github.org {
        let url = api.url(
            &format!("orgs/{org}/repos"),
            &[api.per_page(), ("type", "all".into())],
        )?;
        let listed: Vec<api::Repository> = api.list_all(url, run, "repositories").await?;
        repos.extend(
            listed
                .into_iter()
                .filter(|r| !r.archived)
                .map(|r| r.full_name),
        );
    }
    repos.sort();
    repos.dedup();
    Ok(repos)
}

/// The start of a stream's read window.
fn since(run: &SourceRun<'_>, stream: &str) -> Result<Option<DateTime<Utc>>> {
    let first = run.first_run_start()?;
    Ok(run
        .state
        .since(stream, run.source.http.overlap_minutes, first))
}

/// How far back a newest-first list must be read: to the stream's window start, or
/// further to reach its oldest unsettled record. `keep` says which of the items
/// read belong to this run: those in the window, and the unsettled ones.
struct Window {
    since: Option<DateTime<Utc>>,
    cutoff: Option<DateTime<Utc>>,
}

impl Window {
    fn of(run: &SourceRun<'_>, stream: &str) -> Result<Window> {
        let since = since(run, stream)?;
        let cutoff = match (since, run.state.oldest_pending(stream)) {
            (Some(s), Some(p)) => Some(s.min(p)),
            (s, _) => s,
        };
        Ok(Window { since, cutoff })
    }

    fn older(&self, created: DateTime<Utc>) -> bool {
        self.cutoff.is_some_and(|c| created < c)
    }

    fn keep(&self, run: &SourceRun<'_>, stream: &str, id: &str, created: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| created >= s) || run.state.is_pending(stream, id)
    }
}

/// Deployments mode: list (back to the oldest unsettled one), read statuses,
/// compare the new successes.
async fn deployments(
    api: &Api,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    repo: &str,
) -> Result<()> {
    let stream = format!("{repo}/deployments");
    let window = Window::of(run, &stream)?;
    let url = api.url(&format!("repos/{repo}/deployments"), &[api.per_page()])?;
    let listed: Vec<api::Deployment> = api
        .list_until(url, run, "deployments", |d: &api::Deployment| {
            window.older(d.created_at)
        })
        .await?;
    let listed: Vec<api::Deployment> = listed
        .into_iter()
        .filter(|d| window.keep(run, &stream, &d.id.to_string(), d.created_at))
        .collect();
    let newest = listed.iter().map(|d| d.created_at).max();
    let with_statuses: Vec<(api::Deployment, Vec<api::DeploymentStatus>)> =
        futures::stream::iter(listed)
            .map(|d| async {
                let url = api.url(
                    &format!("repos/{repo}/deployments/{}/statuses", d.id),
                    &[api.per_page()],
                )?;
                let statuses = api.list_detail(url, run, "deployment statuses").await?;
                Ok::<_, Error>((d, statuses))
            })
            .buffered(run.source.http.concurrency.max(1))
            .try_collect()
            .await?;
    let mut delivery = Delivery::default();
    let mut pending = BTreeMap::new();
    for (d, statuses) in &with_statuses {
        match mapper.deployment(repo, d, statuses) {
            Some(row) => delivery.deployments.push(row),
            None => {
                pending.insert(d.id.to_string(), d.created_at);
            }
        }
    }
    ship(api, run, repo, &mut delivery).await?;
    run.state.advance(&stream, newest);
    run.state.set_pending(&stream, pending);
    run.commit(delivery).await
}

/// Adds, for each successful production deployment not compared before, the
/// commits between the previous one's SHA and its own.
async fn ship(
    api: &Api,
    run: &mut SourceRun<'_>,
    repo: &str,
    delivery: &mut Delivery,
) -> Result<()> {
    for job in run.state.plan_compares(repo, &delivery.deployments) {
        for c in compare(api, run, repo, &job.base, &job.head).await? {
            delivery
                .deployment_commits
                .push((job.deployment_id.clone(), c.sha.clone()));
            delivery.commits.push(map::commit(repo, &c));
        }
    }
    Ok(())
}

/// The commits in `head` and not in `base`, every page (past the 250 of an unpaged
/// compare).
async fn compare(
    api: &Api,
    run: &SourceRun<'_>,
    repo: &str,
    base: &str,
    head: &str,
) -> Result<Vec<api::Commit>> {
    if base == head {
        return Ok(Vec::new());
    }
    let mut next = Some(api.url(
        &format!("repos/{repo}/compare/{base}...{head}"),
        &[api.per_page()],
    )?);
    let mut commits = Vec::new();
    while let Some(url) = next {
        let Some((page, link)) = api
            .http
            .get_json_page_if_found::<api::Comparison>(&url)
            .await?
        else {
            // A base rewritten away by a force-push cannot be compared: the
            // deployment ships nothing rather than stopping the source.
            tracing::warn!(
                repo,
                base,
                head,
                "Compare not found; no shipped commits recorded for this deployment."
            );
            return Ok(Vec::new());
        };
        run.progress.read("compare", page.commits.len());
        if page.status.as_deref() == Some("behind") {
            break;
        }
        let empty = page.commits.is_empty();
        commits.extend(page.commits);
        next = if empty { None } else { link };
    }
    Ok(commits)
}
