//! Merged pull requests and their commits → `pull_requests` (and `commits`).
//!
//! The list has no `since`: closed PRs sorted by last update, newest first, read
//! until one is older than the window. Each merged PR's own commits come from its
//! commit list (GitHub caps it at 250; a larger PR keeps its first 250 and says so
//! in the log).

use super::{Api, PR_COMMITS_CAP, api, map, since};
use crate::collect::SourceRun;
use crate::collect::delivery::Delivery;
use crate::error::Result;
use map::Mapper;

pub(super) async fn collect(
    api: &Api,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    repo: &str,
) -> Result<()> {
    let stream = format!("{repo}/pulls");
    let since = since(run, &stream)?;
    let url = api.url(
        &format!("repos/{repo}/pulls"),
        &[
            ("state", "closed".into()),
            ("sort", "updated".into()),
            ("direction", "desc".into()),
            api.per_page(),
        ],
    )?;
    let pulls: Vec<api::Pull> = api
        .list_until(url, run, "pull requests", |p: &api::Pull| {
            since.is_some_and(|s| p.updated_at.is_some_and(|u| u < s))
        })
        .await?;
    let newest = pulls.iter().filter_map(|p| p.updated_at).max();
    let mut delivery = Delivery::default();
    for p in &pulls {
        let mut shas = Vec::new();
        if p.merged_at.is_some() {
            let url = api.url(
                &format!("repos/{repo}/pulls/{}/commits", p.number),
                &[api.per_page()],
            )?;
            let commits: Vec<api::Commit> =
                api.list_detail(url, run, "pull request commits").await?;
            if commits.len() >= PR_COMMITS_CAP {
                tracing::info!(
                    repo,
                    pr = p.number,
                    "Pull request has {PR_COMMITS_CAP}+ commits; GitHub lists only the first {PR_COMMITS_CAP}."
                );
            }
            for c in &commits {
                shas.push(c.sha.clone());
                delivery.commits.push(map::commit(repo, c));
            }
        }
        delivery.pull_requests.push(mapper.pull(repo, p, shas));
    }
    run.state.advance(&stream, newest);
    run.commit(delivery).await
}
