//! The deployment modes for teams that do not use GitHub's Deployments API:
//! published releases, and completed runs of deploy workflows.

use std::collections::BTreeMap;

use crate::config::Pattern;

use super::map::Mapper;
use super::{Api, Window, api, ship, since};
use crate::collect::SourceRun;
use crate::collect::delivery::Delivery;
use crate::error::Result;

/// Releases mode: each published, non-draft, non-prerelease release is a
/// production deployment of the commit its tag points at.
pub(super) async fn releases(
    api: &Api,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    repo: &str,
) -> Result<()> {
    let stream = format!("{repo}/releases");
    let since = since(run, &stream)?;
    let url = api.url(&format!("repos/{repo}/releases"), &[api.per_page()])?;
    let listed: Vec<api::Release> = api
        .list_until(url, run, "releases", |r: &api::Release| {
            since.is_some_and(|s| r.published_at.or(r.created_at).is_some_and(|t| t < s))
        })
        .await?;
    let newest = listed
        .iter()
        .filter_map(|r| r.published_at.or(r.created_at))
        .max();
    let mut delivery = Delivery::default();
    for r in &listed {
        if r.draft || r.prerelease {
            continue;
        }
        let url = api.url(&format!("repos/{repo}/commits/{}", r.tag_name), &[])?;
        let sha = api
            .http
            .get_json_if_found::<api::CommitRef>(&url)
            .await?
            .map(|c| c.sha);
        delivery.deployments.extend(mapper.release(repo, r, sha));
    }
    ship(api, run, repo, &mut delivery).await?;
    run.state.advance(&stream, newest);
    run.commit(delivery).await
}

/// Whether a run belongs to one of the configured deploy workflows, by name or by
/// workflow file path (with any `@ref` suffix removed).
fn is_deploy_run(patterns: &[Pattern], run: &api::WorkflowRun) -> bool {
    let path = run
        .path
        .as_deref()
        .map(|p| p.split('@').next().unwrap_or(p));
    let file = path.and_then(|p| p.rsplit('/').next());
    [run.name.as_deref(), path, file]
        .into_iter()
        .flatten()
        .any(|text| patterns.iter().any(|p| p.matches(text)))
}

/// Workflow-runs mode: completed runs of the deploy workflows; runs still going
/// are polled again next time.
pub(super) async fn workflow_runs(
    api: &Api,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    repo: &str,
    workflows: &[Pattern],
) -> Result<()> {
    let stream = format!("{repo}/runs");
    let window = Window::of(run, &stream)?;
    let url = api.url(
        &format!("repos/{repo}/actions/runs"),
        &[api.per_page(), ("exclude_pull_requests", "true".into())],
    )?;
    let mut listed = Vec::new();
    let mut next = Some(url);
    while let Some(url) = next {
        let (page, link): (api::WorkflowRuns, _) = api.http.get_json(&url).await?;
        run.progress.read("workflow runs", page.workflow_runs.len());
        let reached_older = page
            .workflow_runs
            .iter()
            .any(|r| window.older(r.created_at));
        listed.extend(
            page.workflow_runs
                .into_iter()
                .filter(|r| window.keep(run, &stream, &r.id.to_string(), r.created_at)),
        );
        next = if reached_older { None } else { link };
    }
    let newest = listed.iter().map(|r| r.created_at).max();
    let mut delivery = Delivery::default();
    let mut pending = BTreeMap::new();
    for r in listed.iter().filter(|r| is_deploy_run(workflows, r)) {
        match mapper.workflow_run(repo, r) {
            Some(d) => delivery.deployments.push(d),
            None if r.status.as_deref() != Some("completed") => {
                pending.insert(r.id.to_string(), r.created_at);
            }
            None => {}
        }
    }
    ship(api, run, repo, &mut delivery).await?;
    run.state.advance(&stream, newest);
    run.state.set_pending(&stream, pending);
    run.commit(delivery).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_runs_match_by_name_path_or_file() {
        let run: api::WorkflowRun = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "Build", "path": ".github/workflows/deploy-prod.yml@refs/heads/main",
            "created_at": "2025-01-01T00:00:00Z"
        }))
        .unwrap();
        let p = |g: &str| vec![Pattern::new(g).unwrap()];
        assert!(is_deploy_run(&p("deploy-*.yml"), &run));
        assert!(is_deploy_run(&p(".github/workflows/deploy*"), &run));
        assert!(is_deploy_run(&p("Build"), &run));
        assert!(!is_deploy_run(&p("Release"), &run));
    }
}
