//! Jira Cloud and Jira Service Management (`kind = "jira"`): the issues the
//! configured JQL selects, by `GET /rest/api/3/search/jql` (cursor pages, oldest
//! change first), each with its status history from its changelog, become
//! `incidents`, or `tickets` and `ticket_transitions` ([`map`] says which). For JSM
//! requests the first response is the stop of the "Time to first response" SLA;
//! elsewhere, and when that SLA has not stopped, it is the first move into a status
//! outside the `new` category, by anyone.
//!
//! Incremental by `updated`: JQL compares `updated >= "yyyy-MM-dd HH:mm"` to the
//! minute, in the time zone of the user the token belongs to, which we do not know
//! (UTC−12 to UTC+14). The window start is written in UTC and moved back by
//! [`window_pad`] so that any zone still reads it at or before the watermark minus
//! the overlap. Re-read issues that did not change write nothing.
//!
//! Issues that change while the window is read move to its end (it is ordered by
//! `updated`), which can shift a page boundary over an issue not read yet. An
//! issue met twice in one pass is the sign: the window is read again from that
//! issue's earlier `updated`, so every issue ends in the lake once, in its newest
//! state. An issue that stops matching the JQL mid-read shifts pages the same way
//! without that sign; the next run's window, a day wide at least, re-reads it.

pub mod api;
mod client;
pub mod fields;
pub mod map;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use super::SourceRun;
use super::http::HttpClient;
use super::service_desk::ServiceDesk;
use super::ticket_rules::TicketRules;
use crate::config::{JiraSource, SourceConfig, TicketMapping};
use crate::error::{Error, Result};
use client::Api;
use fields::View;
use map::{Fetched, Kind, Mapper, Statuses, field_id};

/// The state stream of the issue window.
const STREAM: &str = "issues";

/// Issues mapped and committed together: bounds memory and the work a crash
/// repeats within a long first run (the watermark moves only at the end).
const CHUNK: usize = 200;

/// Reads of one window before giving up on issues that keep changing under it.
const MAX_PASSES: usize = 3;

/// The fields every search asks for; the mapping's custom fields are added.
const FIELDS: &[&str] = &[
    "summary",
    "issuetype",
    "status",
    "priority",
    "labels",
    "components",
    "resolutiondate",
    "created",
    "updated",
    "project",
    "assignee",
    "reporter",
    "description",
];

/// Minutes the JQL window starts before the watermark. A zone at UTC−12 reads our
/// UTC text up to 12 h later than meant (UTC+14 reads it earlier, which only
/// re-reads more), and JQL drops seconds: `overlap + 12 h + 1 min` covers both, and
/// never less than a day and a minute, which is what the ±14 h span of zones needs
/// when the overlap is small.
pub fn window_pad(overlap_minutes: u32) -> u32 {
    overlap_minutes.saturating_add(12 * 60 + 1).max(24 * 60 + 1)
}

/// The search: `({jql}) AND updated >= "…" ORDER BY updated ASC`, with no `updated`
/// clause when nothing bounds the window yet.
pub fn search_jql(jql: &str, since: Option<DateTime<Utc>>) -> String {
    match since {
        Some(t) => format!(
            "({jql}) AND updated >= \"{}\" ORDER BY updated ASC",
            t.format("%Y-%m-%d %H:%M")
        ),
        None => format!("({jql}) ORDER BY updated ASC"),
    }
}

/// The configured JQL without a trailing `ORDER BY` (copied from Jira's issue
/// navigator it often has one; the collector orders by `updated` itself).
fn without_order_by(jql: &str) -> &str {
    let lower = jql.to_ascii_lowercase();
    let mut quote: Option<char> = None;
    for (i, c) in lower.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if lower[i..].starts_with("order by")
                && (i == 0 || lower[..i].ends_with(char::is_whitespace)) =>
            {
                return jql[..i].trim();
            }
            None => {}
        }
    }
    jql.trim()
}

fn base_jql(source: &SourceConfig, jira: &JiraSource) -> Result<String> {
    let jql = jira
        .jql
        .as_deref()
        .map(without_order_by)
        .unwrap_or_default();
    if jql.is_empty() {
        return Err(Error::Config {
            key: format!("sources.{}.jql", source.name),
            reason: "a jira source needs `jql` selecting its issues, e.g. `project in (OPS, HELP)` (Jira refuses unbounded searches)".into(),
        });
    }
    Ok(jql.to_string())
}

/// `FIELDS` plus the custom fields the mapping reads.
fn requested_fields(mapping: &TicketMapping) -> String {
    let mut list: Vec<&str> = FIELDS.to_vec();
    let references = [
        &mapping.service_from,
        &mapping.requester_team_from,
        &mapping.assignee_team_from,
    ];
    list.extend(
        references
            .into_iter()
            .filter_map(|r| r.as_ref()?.field_id()),
    );
    list.extend(
        [&mapping.caused_by_field, &mapping.request_type_field]
            .into_iter()
            .filter_map(|r| r.as_deref().map(field_id)),
    );
    let mut seen = std::collections::HashSet::new();
    list.retain(|f| !f.is_empty() && seen.insert(*f));
    list.join(",")
}

/// Collects the source's issues; returns the client for its counters.
pub async fn collect(run: &mut SourceRun<'_>, jira: &JiraSource) -> Result<HttpClient> {
    let source = run.source;
    let jql = base_jql(source, jira)?;
    let http = client::client(run, jira)?;
    let api = Api::new(source, http.clone())?;
    let rules = TicketRules::new(source);
    let statuses = Statuses::new(&api.statuses().await?);
    let mapper = Mapper {
        source: &source.name,
        rules: &rules,
        statuses: &statuses,
    };
    let fields = requested_fields(rules.mapping());
    let pad = window_pad(source.http.overlap_minutes);
    let mut since = run.state.since(STREAM, pad, run.first_run_start()?);
    let mut newest = None;
    for pass in 1..=MAX_PASSES {
        let read = read_window(&api, run, &mapper, &search_jql(&jql, since), &fields).await?;
        newest = newest.max(read.newest);
        let Some(moved) = read.moved else {
            run.state.advance(STREAM, newest);
            return run.commit(read.rest).await.map(|()| http);
        };
        if pass == MAX_PASSES {
            tracing::warn!(source = %source.name, "Issues kept changing while the window was read {MAX_PASSES} times; the next run reads again from the earliest of them.");
            run.state.advance(STREAM, moved.or(since));
            return run.commit(read.rest).await.map(|()| http);
        }
        run.commit(read.rest).await?;
        let restart = moved.map(|t| t - chrono::Duration::minutes(i64::from(pad)));
        since = match (since, restart) {
            (Some(s), Some(r)) => Some(s.max(r)),
            (s, r) => r.or(s),
        };
        tracing::info!(source = %source.name, pass, "Issues changed while the window was read; reading it again from {since:?}.");
    }
    Ok(http)
}

/// What one read of the window found.
struct Read {
    /// The last chunk, mapped, not yet committed.
    rest: ServiceDesk,
    /// The newest `updated` seen.
    newest: Option<DateTime<Utc>>,
    /// `Some` when an issue was met twice: the earliest `updated` it had when first
    /// met (`Some(None)` when that was unreadable).
    moved: Option<Option<DateTime<Utc>>>,
}

/// Reads every page of one search, committing full chunks as it goes.
async fn read_window(
    api: &Api,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    jql: &str,
    fields: &str,
) -> Result<Read> {
    let mut seen: HashMap<String, Option<DateTime<Utc>>> = HashMap::new();
    let mut pending: BTreeMap<String, api::Issue> = BTreeMap::new();
    let mut newest = None;
    let mut moved: Option<Option<DateTime<Utc>>> = None;
    let mut token: Option<String> = None;
    loop {
        let page = api.search(jql, fields, token.as_deref()).await?;
        run.progress.read("issues", page.issues.len());
        for issue in page.issues {
            let updated = View(&issue.fields).time("updated");
            newest = newest.max(updated);
            if let Some(before) = seen.insert(issue.key.clone(), updated) {
                moved = Some(match moved {
                    Some(Some(m)) => before.map(|b| b.min(m)),
                    Some(None) => None,
                    None => before,
                });
            }
            // A later read of the same issue is its newer state.
            pending.insert(issue.key.clone(), issue);
        }
        if pending.len() >= CHUNK {
            let desk = fetch_and_map(api, run, mapper, std::mem::take(&mut pending)).await?;
            run.commit(desk).await?;
        }
        match (page.is_last, page.next_page_token) {
            (Some(true), _) | (_, None) => break,
            (_, Some(next)) if token.as_deref() == Some(next.as_str()) => {
                return Err(Error::collector(
                    mapper.source,
                    "search/jql returned the same nextPageToken twice; stopping instead of looping",
                ));
            }
            (_, Some(next)) => token = Some(next),
        }
    }
    Ok(Read {
        rest: fetch_and_map(api, run, mapper, pending).await?,
        newest,
        moved,
    })
}

/// Reads the changelog (and, for JSM requests, the SLA) of each issue that becomes
/// a row, then maps them all.
async fn fetch_and_map(
    api: &Api,
    run: &SourceRun<'_>,
    mapper: &Mapper<'_>,
    issues: BTreeMap<String, api::Issue>,
) -> Result<ServiceDesk> {
    let fetched: Vec<Fetched> = futures::stream::iter(issues.into_values())
        .map(|issue| async move {
            let kind = mapper.kind(&issue);
            let histories = match kind {
                Kind::Other => Vec::new(),
                _ => api.changelog(&issue.key, run).await?,
            };
            let sla_first_response =
                if kind == Kind::Request && mapper.request_type(&issue).is_some() {
                    api.first_response(&issue.key).await?
                } else {
                    None
                };
            Ok::<_, Error>(Fetched {
                issue,
                histories,
                sla_first_response,
            })
        })
        .buffered(run.source.http.concurrency.max(1))
        .try_collect()
        .await?;
    let mut desk = ServiceDesk::default();
    for f in &fetched {
        desk.extend(mapper.map(f));
    }
    Ok(desk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FieldRef;

    #[test]
    fn the_window_covers_every_zone_and_the_minute() {
        assert_eq!(window_pad(30), 24 * 60 + 1);
        assert_eq!(window_pad(0), 24 * 60 + 1);
        assert_eq!(window_pad(24 * 60), 36 * 60 + 1);
        let w: DateTime<Utc> = "2025-03-03T12:00:30Z".parse().unwrap_or_default();
        let since = w - chrono::Duration::minutes(i64::from(window_pad(30)));
        assert_eq!(
            search_jql("project = OPS", Some(since)),
            r#"(project = OPS) AND updated >= "2025-03-02 11:59" ORDER BY updated ASC"#
        );
        assert_eq!(
            search_jql("project = OPS", None),
            "(project = OPS) ORDER BY updated ASC"
        );
    }

    #[test]
    fn a_copied_order_by_is_dropped_but_not_inside_quotes() {
        assert_eq!(
            without_order_by("project = OPS ORDER BY created DESC"),
            "project = OPS"
        );
        assert_eq!(
            without_order_by(r#"summary ~ "order by" and project = X"#),
            r#"summary ~ "order by" and project = X"#
        );
        assert_eq!(without_order_by("  order by rank"), "");
    }

    #[test]
    fn custom_fields_of_the_mapping_are_requested_once() {
        let mapping = TicketMapping {
            service_from: FieldRef::parse("field:customfield_1").ok(),
            requester_team_from: FieldRef::parse("label:team-*").ok(),
            assignee_team_from: FieldRef::parse("component").ok(),
            caused_by_field: Some("customfield_2".into()),
            request_type_field: Some("field:customfield_1".into()),
            ..TicketMapping::default()
        };
        let fields = requested_fields(&mapping);
        assert!(fields.starts_with("summary,issuetype,status,priority,labels,components,resolutiondate,created,updated,project,assignee,reporter,description"));
        assert!(
            fields.ends_with(",description,customfield_1,customfield_2"),
            "{fields}"
        );
    }
}
