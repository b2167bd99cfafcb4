//! GitLab webhook payloads → canonical rows: deployment events and merge request
//! events. Field lists follow GitLab's webhook docs and its `DataBuilder`; every
//! field older versions leave out is optional. The rows come from the collector's
//! [`Mapper`], so a deployment reads the same whether it was polled or pushed.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::handled::Handled;
use crate::collect::delivery::Delivery;
use crate::collect::gitlab::map::{self, DeploymentFacts, Mapper, MergeRequestFacts};
use crate::collect::rules::Rules;
use crate::config::{SourceConfig, SourceKind};

#[derive(Debug, Deserialize)]
struct Project {
    id: Option<i64>,
    path_with_namespace: String,
}

#[derive(Debug, Deserialize)]
struct User {
    username: Option<String>,
}

/// `X-Gitlab-Event: Deployment Hook`.
#[derive(Debug, Deserialize)]
struct DeploymentHook {
    /// running | success | failed | canceled | blocked | approved | rejected.
    status: String,
    /// `2021-04-28 21:50:00 +0200` in most versions, ISO 8601 in newer ones.
    status_changed_at: Option<String>,
    deployment_id: i64,
    /// The job that deployed; null for deployments made through the API.
    deployable_url: Option<String>,
    environment: Option<String>,
    /// GitLab's own tier of the environment (13.10+).
    environment_tier: Option<String>,
    project: Project,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    /// Not sent by current GitLab versions; the full SHA is in `commit_url`.
    sha: Option<String>,
    commit_url: Option<String>,
    commit_title: Option<String>,
    user: Option<User>,
}

/// `X-Gitlab-Event: Merge Request Hook`.
#[derive(Debug, Deserialize)]
struct MergeRequestHook {
    /// Who triggered the event, not necessarily the author.
    user: Option<User>,
    project: Project,
    object_attributes: MergeRequest,
}

#[derive(Debug, Deserialize)]
struct MergeRequest {
    iid: i64,
    title: Option<String>,
    /// opened | closed | locked | merged.
    state: Option<String>,
    /// open | close | reopen | update | approved | … | merge.
    action: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    merged_at: Option<String>,
    merge_commit_sha: Option<String>,
    squash_commit_sha: Option<String>,
    last_commit: Option<LastCommit>,
    source_branch: Option<String>,
    target_branch: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LastCommit {
    id: String,
}

/// Maps one delivery of event `event` (the `X-Gitlab-Event` header).
pub(crate) fn handle(
    source: &SourceConfig,
    rules: &Rules,
    event: &str,
    body: &[u8],
) -> Result<Handled, String> {
    match event {
        "Deployment Hook" => deployment(source, rules, parse(body)?),
        "Merge Request Hook" => merge_request(source, rules, parse(body)?),
        other => Ok(Handled::Ignored(format!("event `{other}` is not used"))),
    }
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// A GitLab timestamp: RFC 3339, `2021-04-28 21:50:00 +0200`, or
/// `2013-12-03 17:23:34 UTC`, all of which GitLab sends depending on the event and
/// version.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = text.strip_suffix(" UTC")?;
    NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

fn time(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    text.map(|t| parse_time(t).ok_or_else(|| format!("{field}: unreadable time `{t}`")))
        .transpose()
}

/// Whether the source covers the project: listed by path or id, or inside its
/// group. A group hook reports every project below it.
fn covers(source: &SourceConfig, project: &Project) -> bool {
    let SourceKind::Gitlab(gitlab) = &source.kind else {
        return false;
    };
    let path = project.path_with_namespace.as_str();
    let id = project.id.map(|i| i.to_string());
    gitlab
        .projects
        .iter()
        .any(|p| p.eq_ignore_ascii_case(path) || id.as_deref() == Some(p.as_str()))
        || gitlab.group.as_deref().is_some_and(|g| {
            path.split_at_checked(g.len())
                .is_some_and(|(head, rest)| head.eq_ignore_ascii_case(g) && rest.starts_with('/'))
        })
}

fn not_covered(project: &Project) -> Handled {
    Handled::Ignored(format!(
        "project {} is not configured for this source",
        project.path_with_namespace
    ))
}

/// The full SHA at the end of `…/-/commit/<sha>`.
fn sha_from_commit_url(url: &str) -> Option<String> {
    let sha = url.trim_end_matches('/').rsplit('/').next()?;
    (sha.len() >= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_string())
}

/// A deployment that reached a final status; `running`, `created`, `blocked` and
/// the approval events change nothing in the lake.
fn deployment(source: &SourceConfig, rules: &Rules, e: DeploymentHook) -> Result<Handled, String> {
    if !covers(source, &e.project) {
        return Ok(not_covered(&e.project));
    }
    if map::deployment_status(&e.status).is_none() {
        return Ok(Handled::Ignored(format!(
            "deployment status `{}` is not final",
            e.status
        )));
    }
    let facts = DeploymentFacts {
        id: e.deployment_id,
        project: &e.project.path_with_namespace,
        status: &e.status,
        environment: e.environment.as_deref(),
        environment_tier: e.environment_tier.as_deref(),
        git_ref: e.git_ref.as_deref(),
        title: e.commit_title.as_deref(),
        creator: e.user.as_ref().and_then(|u| u.username.as_deref()),
        sha: e
            .sha
            .clone()
            .or_else(|| e.commit_url.as_deref().and_then(sha_from_commit_url)),
        started_at: None,
        finished_at: time("status_changed_at", e.status_changed_at.as_deref())?,
        url: e.deployable_url.as_deref(),
    };
    let row = Mapper { source, rules }.deployment(facts);
    Ok(Handled::Rows(Delivery {
        deployments: row.into_iter().collect(),
        ..Delivery::default()
    }))
}

/// A merge request's row as of this event.
///
/// The payload names the author only by id; `user` is whoever triggered the event,
/// so it is taken as the author only on `open`. A merged request whose payload
/// carries no merge time and is not the merge itself (a later label or title
/// change) is skipped rather than written with the merge time lost.
fn merge_request(
    source: &SourceConfig,
    rules: &Rules,
    e: MergeRequestHook,
) -> Result<Handled, String> {
    if !covers(source, &e.project) {
        return Ok(not_covered(&e.project));
    }
    let mr = e.object_attributes;
    let action = mr.action.as_deref().unwrap_or_default();
    let state = match action {
        "merge" => "merged",
        _ => map::merge_request_state(mr.state.as_deref()),
    };
    let merged_at = match time("merged_at", mr.merged_at.as_deref())? {
        Some(at) => Some(at),
        None if action == "merge" => time("updated_at", mr.updated_at.as_deref())?,
        None => None,
    };
    if state == "merged" && merged_at.is_none() {
        return Ok(Handled::Ignored(
            "merged merge request without a merge time".into(),
        ));
    }
    let facts = MergeRequestFacts {
        iid: mr.iid,
        project: &e.project.path_with_namespace,
        state,
        title: mr.title,
        author: (action == "open")
            .then(|| e.user.and_then(|u| u.username))
            .flatten(),
        source_branch: mr.source_branch,
        target_branch: mr.target_branch,
        created_at: time("created_at", mr.created_at.as_deref())?,
        merged_at,
        landed_sha: mr
            .merge_commit_sha
            .or(mr.squash_commit_sha)
            .or(mr.last_commit.map(|c| c.id)),
        url: mr.url,
    };
    Ok(Handled::Rows(Delivery {
        pull_requests: vec![Mapper { source, rules }.merge_request(facts)],
        ..Delivery::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn gitlab_time_formats() {
        let want: DateTime<Utc> = "2021-04-28T19:50:00Z".parse().unwrap();
        assert_eq!(parse_time("2021-04-28 21:50:00 +0200"), Some(want));
        assert_eq!(parse_time("2021-04-28T19:50:00.000Z"), Some(want));
        assert_eq!(parse_time("2021-04-28 19:50:00 UTC"), Some(want));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn sha_comes_from_the_commit_url() {
        let sha = "279484c09fbe69ededfced8c1bb6e6d24616b468";
        let url = format!("http://gitlab.example/root/app/-/commit/{sha}");
        assert_eq!(sha_from_commit_url(&url).as_deref(), Some(sha));
        assert_eq!(
            sha_from_commit_url("http://gitlab.example/root/app/-/tree/aaaaaa"),
            None
        );
    }

    #[test]
    fn group_covers_projects_below_it_only() {
        let text = "[[sources]]\nkind='gitlab'\nname='gl'\ngroup='acme'\nprojects=['7']";
        let s = Config::parse(text, "t").unwrap().sources.remove(0);
        let p = |path: &str, id| Project {
            id: Some(id),
            path_with_namespace: path.into(),
        };
        assert!(covers(&s, &p("acme/shop", 1)));
        assert!(covers(&s, &p("Acme/sub/shop", 1)));
        assert!(!covers(&s, &p("acmecorp/shop", 1)));
        assert!(covers(&s, &p("other/x", 7)));
    }

    #[test]
    fn merge_event_without_merged_at_uses_updated_at() {
        let text = "[[sources]]\nkind='gitlab'\nname='gl'\nprojects=['acme/shop']";
        let s = Config::parse(text, "t").unwrap().sources.remove(0);
        let rules = Rules::new(&s);
        let body = serde_json::json!({
            "object_kind": "merge_request",
            "user": {"username": "merger"},
            "project": {"id": 1, "path_with_namespace": "acme/shop"},
            "object_attributes": {"iid": 3, "state": "merged", "action": "merge",
                "created_at": "2024-01-01 10:00:00 UTC", "updated_at": "2024-01-02 10:00:00 UTC",
                "merge_commit_sha": null, "last_commit": {"id": "abc"}}
        });
        let Ok(Handled::Rows(d)) = handle(
            &s,
            &rules,
            "Merge Request Hook",
            body.to_string().as_bytes(),
        ) else {
            panic!("not mapped");
        };
        let pr = &d.pull_requests[0];
        assert_eq!(pr.state, "merged");
        assert_eq!(pr.merged_at, "2024-01-02T10:00:00Z".parse().ok());
        assert_eq!(pr.merge_commit_sha.as_deref(), Some("abc"));
        assert_eq!(pr.author, None, "the merger is not the author");
    }

    #[test]
    fn canceled_deployments_are_cancelled_in_either_spelling() {
        let text = "[[sources]]\nkind='gitlab'\nname='gl'\nprojects=['acme/shop']";
        let s = Config::parse(text, "t").unwrap().sources.remove(0);
        let rules = Rules::new(&s);
        for spelling in ["canceled", "cancelled"] {
            let body = serde_json::json!({
                "object_kind": "deployment", "status": spelling, "deployment_id": 9,
                "status_changed_at": "2024-01-02 10:00:00 +0000", "environment": "production",
                "project": {"id": 1, "path_with_namespace": "acme/shop"}
            });
            let Ok(Handled::Rows(d)) =
                handle(&s, &rules, "Deployment Hook", body.to_string().as_bytes())
            else {
                panic!("{spelling}: not mapped");
            };
            assert_eq!(d.deployments[0].status, "cancelled", "{spelling}");
        }
    }
}
