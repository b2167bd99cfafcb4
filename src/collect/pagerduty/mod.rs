//! PagerDuty (`kind = "pagerduty"`): incidents, as `incidents` rows.
//!
//! `GET /incidents` filters on creation time only, so the collector reads creation
//! windows from the watermark (minus the overlap) to now, at most
//! [`WINDOW_DAYS`] each (PagerDuty refuses longer ranges), and commits each window:
//! rows first, then the state. An incident still open (`triggered` or
//! `acknowledged`) is kept in the state's pending list and read again with
//! `GET /incidents/{id}` on every run until it resolves, since a resolution never
//! shows up in a later creation window.
//!
//! With no watermark and no configured `since`, the first run reads the last
//! [`FIRST_RUN_DAYS`] days, which is what PagerDuty itself returns when asked
//! without dates.
//!
//! The first acknowledgement is the earliest `acknowledge_log_entry` of the
//! incident's log. Reading the log costs a request per incident, so it is read only
//! when the incident record cannot answer: not for a triggered incident (nobody
//! acknowledged it yet; if someone did before it was re-triggered, the log is read
//! when it resolves), and not for an acknowledged one that lists its
//! `acknowledgements` (the earliest `at` stands until it resolves, when PagerDuty
//! empties that list and the log gives the final answer).
//!
//! PagerDuty knows nothing of deployments: `caused_by_*` stay empty and the engine
//! links incidents to deployments of the same service by time.

pub mod api;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue};

use super::SourceRun;
use super::http::HttpClient;
use super::rest::{self, RestApi};
use super::service_desk::{Incident, ServiceDesk};
use super::ticket_rules::TicketRules;
use crate::error::{Error, Result};
use api::Api;

/// PagerDuty's public API.
pub const DEFAULT_API_URL: &str = "https://api.pagerduty.com";

/// The longest creation window of one request ("about six months" per PagerDuty).
pub const WINDOW_DAYS: i64 = 180;

/// How far back a first run reads when the source sets no `since`.
pub const FIRST_RUN_DAYS: i64 = 30;

/// The state stream of incidents.
const STREAM: &str = "incidents";

/// Open incidents are polled until resolved for up to this long behind the newest
/// incident: long incidents are real, and dropping one while open would leave its
/// deployment without a recovery time.
const INCIDENT_GIVE_UP_DAYS: i64 = 90;

fn api(run: &SourceRun<'_>) -> Result<(Api, HttpClient)> {
    let auth = rest::token_auth(run.source, "authorization", "Token token=")?;
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/vnd.pagerduty+json;version=2"),
    );
    let http = rest::client(run, auth, headers)?;
    let root = RestApi::new(run.source, http.clone(), DEFAULT_API_URL)?;
    Ok((Api::new(root, &run.source.name), http))
}

/// `[start, end)` cut into consecutive windows of at most [`WINDOW_DAYS`].
fn windows(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + Duration::days(WINDOW_DAYS)).min(end);
        out.push((from, to));
        from = to;
    }
    out
}

/// Collects new incidents by creation window, then re-reads the open ones; returns
/// the client for its counters.
pub async fn collect(run: &mut SourceRun<'_>) -> Result<HttpClient> {
    let (api, http) = api(run)?;
    let rules = TicketRules::new(run.source);
    let now = Utc::now();
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let start = run
        .state
        .since(
            STREAM,
            run.source.http.overlap_minutes,
            run.first_run_start()?,
        )
        .unwrap_or(now - Duration::days(FIRST_RUN_DAYS));
    let mut seen = BTreeSet::new();
    for (from, to) in windows(start, now) {
        let listed: Vec<api::Incident> =
            api.incidents(run, from, to).await?.into_values().collect();
        seen.extend(listed.iter().map(|i| i.id.clone()));
        let newest = listed.iter().map(|i| i.created_at).max();
        let desk = desk(&api, run, &rules, &listed).await?;
        let mut pending = run.state.pending.get(STREAM).cloned().unwrap_or_default();
        settle(&mut pending, &listed);
        run.state.advance(STREAM, newest);
        run.state
            .set_pending_within(STREAM, pending, INCIDENT_GIVE_UP_DAYS);
        run.commit(desk).await?;
    }
    repoll(&api, run, &rules, &seen).await?;
    Ok(http)
}

/// Updates the open-incident list with what was just read: resolved ones leave it,
/// open ones join it.
fn settle(pending: &mut BTreeMap<String, DateTime<Utc>>, read: &[api::Incident]) {
    for i in read {
        if i.is_resolved() {
            pending.remove(&i.id);
        } else {
            pending.insert(i.id.clone(), i.created_at);
        }
    }
}

/// Reads again every open incident the windows did not cover.
async fn repoll(
    api: &Api,
    run: &mut SourceRun<'_>,
    rules: &TicketRules,
    seen: &BTreeSet<String>,
) -> Result<()> {
    let mut pending = run.state.pending.get(STREAM).cloned().unwrap_or_default();
    let ids: Vec<String> = pending
        .keys()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let concurrency = run.source.http.concurrency.max(1);
    let read: Vec<(String, Option<api::Incident>)> = futures::stream::iter(ids)
        .map(|id| async move {
            let incident = api.incident(&id).await?;
            Ok::<_, Error>((id, incident))
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    let mut found = Vec::new();
    for (id, incident) in read {
        match incident {
            Some(i) => found.push(i),
            None => {
                tracing::info!(source = %run.source.name, incident = %id, "Open incident no longer found; no longer polled.");
                pending.remove(&id);
            }
        }
    }
    run.progress.read("open incidents", found.len());
    let desk = desk(api, run, rules, &found).await?;
    settle(&mut pending, &found);
    run.state
        .set_pending_within(STREAM, pending, INCIDENT_GIVE_UP_DAYS);
    run.commit(desk).await
}

/// The rows of `incidents`, reading logs where the first acknowledgement needs it.
async fn desk(
    api: &Api,
    run: &SourceRun<'_>,
    rules: &TicketRules,
    incidents: &[api::Incident],
) -> Result<ServiceDesk> {
    let concurrency = run.source.http.concurrency.max(1);
    let rows: Vec<Incident> = futures::stream::iter(incidents)
        .map(|i| async move {
            let acknowledged_at = acknowledged_at(api, run, i).await?;
            Ok::<_, Error>(row(&run.source.name, rules, i, acknowledged_at))
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    Ok(ServiceDesk {
        incidents: rows,
        ..ServiceDesk::default()
    })
}

/// The first acknowledgement (see the module docs for when the log is read).
async fn acknowledged_at(
    api: &Api,
    run: &SourceRun<'_>,
    i: &api::Incident,
) -> Result<Option<DateTime<Utc>>> {
    let listed = i.acknowledgements.iter().map(|a| a.at).min();
    let needs_log = match i.status.as_str() {
        "triggered" => false,
        "acknowledged" => listed.is_none(),
        _ => true,
    };
    if !needs_log {
        return Ok(listed);
    }
    Ok(api.first_acknowledgement(run, &i.id).await?.or(listed))
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An `incidents` row. Severity: the priority's name (`P1`), else the urgency
/// (`high`), through `tickets.severities`. Service: the PagerDuty service's name
/// through the source's `services` map, else as named.
fn row(
    source: &str,
    rules: &TicketRules,
    i: &api::Incident,
    acknowledged_at: Option<DateTime<Utc>>,
) -> Incident {
    let priority = i.priority.as_ref().and_then(|p| non_empty(&p.summary));
    let severity = priority
        .or_else(|| non_empty(&i.urgency))
        .map(|name| rules.severity(name));
    Incident {
        incident_id: format!("{source}:{}", i.id),
        source: source.to_string(),
        service: i
            .service
            .as_ref()
            .and_then(|s| non_empty(&s.summary))
            .map(|s| rules.map_service(s)),
        severity,
        title: non_empty(&i.title)
            .or_else(|| non_empty(&i.summary))
            .map(str::to_string),
        started_at: i.created_at,
        acknowledged_at,
        resolved_at: if i.is_resolved() {
            i.resolved_at.or(i.last_status_change_at)
        } else {
            None
        },
        caused_by_deployment_id: None,
        caused_by_commit_sha: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn windows_are_at_most_180_days_and_cover_the_range() {
        let w = windows(t("2025-01-01T00:00:00Z"), t("2025-12-31T12:00:00Z"));
        assert_eq!(w.len(), 3);
        assert_eq!(w[0], (t("2025-01-01T00:00:00Z"), t("2025-06-30T00:00:00Z")));
        assert_eq!(w[1].0, w[0].1);
        assert_eq!(w[2].1, t("2025-12-31T12:00:00Z"));
        assert!(windows(t("2025-01-02T00:00:00Z"), t("2025-01-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn severity_prefers_priority_then_urgency_and_service_maps() {
        let text = "[[sources]]\nkind='pagerduty'\nname='pd'\n[sources.services]\n'Checkout API'='checkout'\n[sources.tickets.severities]\nP1='sev1'\nhigh='sev2'\n";
        let config = Config::parse(text, "t").expect("config");
        let rules = TicketRules::new(&config.sources[0]);
        let json = serde_json::json!({
            "id": "PX", "title": "down", "status": "resolved", "urgency": "high",
            "priority": {"id": "PR", "summary": "P1"},
            "service": {"id": "S", "summary": "Checkout API"},
            "created_at": "2025-05-02T09:40:00Z", "resolved_at": null,
            "last_status_change_at": "2025-05-02T10:00:00Z"
        });
        let mut i: api::Incident = serde_json::from_value(json).expect("incident");
        let r = row("pd", &rules, &i, None);
        assert_eq!(r.severity.as_deref(), Some("sev1"));
        assert_eq!(r.service.as_deref(), Some("checkout"));
        assert_eq!(r.resolved_at, Some(t("2025-05-02T10:00:00Z")));
        i.priority = None;
        i.urgency = Some("low".into());
        i.service = Some(api::Reference {
            id: None,
            summary: Some("billing".into()),
        });
        let r = row("pd", &rules, &i, None);
        assert_eq!(r.severity.as_deref(), Some("low"), "unmapped names stay");
        assert_eq!(r.service.as_deref(), Some("billing"));
    }
}
