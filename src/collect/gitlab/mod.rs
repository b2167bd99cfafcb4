//! GitLab (`kind = "gitlab"`): deployments (incrementally by `updated_after`, which
//! GitLab only accepts with `order_by=updated_at`), the commits each successful
//! production deployment shipped (repository compare against the previous one of
//! the same project and environment), the merge requests of each deployment, and
//! merge requests.
//!
//! Unlike GitHub, a deployment's `updated_at` moves when its status changes, so an
//! unfinished deployment comes back by itself through the `updated_after` window.

pub mod api;
pub mod map;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use url::Url;

use super::SourceRun;
use super::delivery::Delivery;
use super::http::HttpClient;
use super::rest::{self, RestApi};
use crate::config::GitlabSource;
use crate::error::Result;
use map::{DeploymentFacts, Mapper, MergeRequestFacts};

/// GitLab.com's API; self-managed instances are `https://HOST/api/v4`.
pub const DEFAULT_API_URL: &str = "https://gitlab.com/api/v4";

/// A project path as one URL path segment (`group/app` → `group%2Fapp`).
fn project_segment(project: &str) -> String {
    url::form_urlencoded::byte_serialize(project.as_bytes()).collect()
}

/// A project-scoped URL: `projects/<encoded path>/<rest>`.
fn project_url(api: &RestApi, project: &str, rest: &str, query: &[(&str, String)]) -> Result<Url> {
    api.url(
        &format!("projects/{}/{rest}", project_segment(project)),
        query,
    )
}

/// Collects every configured project; returns the client for its counters.
pub async fn collect(run: &mut SourceRun<'_>, gitlab: &GitlabSource) -> Result<HttpClient> {
    let auth = rest::token_auth(run.source, "private-token", "")?;
    let http = rest::client(run, auth, HeaderMap::new())?;
    let api = RestApi::new(run.source, http.clone(), DEFAULT_API_URL)?;
    for project in projects(&api, run, gitlab).await? {
        deployments(&api, run, &project).await?;
        merge_requests(&api, run, &project).await?;
    }
    Ok(http)
}

async fn projects(
    api: &RestApi,
    run: &SourceRun<'_>,
    gitlab: &GitlabSource,
) -> Result<Vec<String>> {
    let mut projects = gitlab.projects.clone();
    if let Some(group) = &gitlab.group {
        let url = api.url(
            &format!("groups/{}/projects", project_segment(group)),
            &[
                ("include_subgroups", "true".into()),
                ("archived", "false".into()),
                ("per_page", api.http.per_page().to_string()),
            ],
        )?;
        let listed: Vec<api::Project> = api.list_all(url, run, "projects").await?;
        projects.extend(
            listed
                .into_iter()
                .filter(|p| !p.archived)
                .map(|p| p.path_with_namespace),
        );
    }
    projects.sort();
    projects.dedup();
    Ok(projects)
}

fn window_query(
    run: &SourceRun<'_>,
    stream: &str,
    per_page: u32,
) -> Result<Vec<(&'static str, String)>> {
    let since = run.state.since(
        stream,
        run.source.http.overlap_minutes,
        run.first_run_start()?,
    );
    let mut query = vec![
        ("order_by", "updated_at".to_string()),
        ("sort", "asc".to_string()),
        ("per_page", per_page.to_string()),
    ];
    if let Some(s) = since {
        query.push((
            "updated_after",
            s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ));
    }
    Ok(query)
}

fn mapper<'a>(run: &'a SourceRun<'_>) -> Mapper<'a> {
    Mapper {
        source: run.source,
        rules: &run.rules,
    }
}

async fn deployments(api: &RestApi, run: &mut SourceRun<'_>, project: &str) -> Result<()> {
    let stream = format!("{project}/deployments");
    let query = window_query(run, &stream, api.http.per_page())?;
    let url = project_url(api, project, "deployments", &query)?;
    let listed: Vec<api::Deployment> = api.list_all(url, run, "deployments").await?;
    let newest: Option<DateTime<Utc>> = listed.iter().map(|d| d.updated_at).max();
    let mut delivery = Delivery {
        deployments: listed
            .iter()
            .filter_map(|d| mapper(run).deployment(DeploymentFacts::from_api(project, d)))
            .collect(),
        ..Delivery::default()
    };
    for job in run.state.plan_compares(project, &delivery.deployments) {
        let url = project_url(
            api,
            project,
            "repository/compare",
            &[("from", job.base.clone()), ("to", job.head.clone())],
        )?;
        let cmp: api::Comparison = match api.http.get_json_if_found(&url).await? {
            Some(c) => c,
            None => {
                tracing::warn!(
                    project,
                    base = job.base,
                    head = job.head,
                    "Compare not found; no shipped commits recorded for this deployment."
                );
                api::Comparison {
                    commits: Vec::new(),
                    compare_timeout: false,
                }
            }
        };
        run.progress.read("compare", cmp.commits.len());
        if cmp.compare_timeout {
            tracing::warn!(
                project,
                base = job.base,
                head = job.head,
                "GitLab timed out comparing; the shipped commits of this deployment may be incomplete."
            );
        }
        for c in &cmp.commits {
            delivery
                .deployment_commits
                .push((job.deployment_id.clone(), c.id.clone()));
            delivery.commits.push(map::commit(project, c));
        }
        let gitlab_id = job
            .deployment_id
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let url = project_url(
            api,
            project,
            &format!("deployments/{gitlab_id}/merge_requests"),
            &[("per_page", api.http.per_page().to_string())],
        )?;
        let mrs: Vec<api::MergeRequest> = api
            .list_detail(url, run, "deployment merge requests")
            .await?;
        delivery.pull_requests.extend(
            mrs.iter()
                .map(|m| mapper(run).merge_request(MergeRequestFacts::from_api(project, m))),
        );
    }
    run.state.advance(&stream, newest);
    run.commit(delivery).await
}

async fn merge_requests(api: &RestApi, run: &mut SourceRun<'_>, project: &str) -> Result<()> {
    let stream = format!("{project}/merge_requests");
    let mut query = window_query(run, &stream, api.http.per_page())?;
    query.push(("state", "all".into()));
    query.push(("scope", "all".into()));
    let url = project_url(api, project, "merge_requests", &query)?;
    let listed: Vec<api::MergeRequest> = api.list_all(url, run, "merge requests").await?;
    let newest = listed.iter().filter_map(|m| m.updated_at).max();
    let delivery = Delivery {
        pull_requests: listed
            .iter()
            .map(|m| mapper(run).merge_request(MergeRequestFacts::from_api(project, m)))
            .collect(),
        ..Delivery::default()
    };
    run.state.advance(&stream, newest);
    run.commit(delivery).await
}
