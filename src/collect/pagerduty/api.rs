//! PagerDuty REST v2 records (only the fields read) and the requests for them:
//! incidents by creation window, one incident, an incident's log entries.
//!
//! Lists use classic pagination (`limit`, `offset`, `more`), which PagerDuty caps
//! at `offset + limit <= 10 000` with a 400 beyond. A window holding more than that
//! is split in half and both halves are read from offset 0, as often as needed.

use std::collections::BTreeMap;

use crate::collect::SourceRun;
use crate::collect::rest::RestApi;
use crate::error::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

/// PagerDuty's cap on `offset + limit` for classic pagination.
pub const MAX_OFFSET: u32 = 10_000;

/// A reference to another object (`service`, `priority`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reference {
    /// The object's id.
    pub id: Option<String>,
    /// Its display name (`checkout-api`, `P1`).
    pub summary: Option<String>,
}

/// One entry of an incident's `acknowledgements` (filled only while it is
/// acknowledged).
#[derive(Debug, Clone, Deserialize)]
pub struct Acknowledgement {
    /// When.
    pub at: DateTime<Utc>,
}

/// An incident.
#[derive(Debug, Clone, Deserialize)]
pub struct Incident {
    /// PagerDuty's id (`Q1ABCDEF`).
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Summary (the title, when `title` is missing).
    pub summary: Option<String>,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: String,
    /// `high` or `low`.
    pub urgency: Option<String>,
    /// The priority, when the account uses priorities.
    pub priority: Option<Reference>,
    /// The service it was raised on.
    pub service: Option<Reference>,
    /// Creation: the incident's start.
    pub created_at: DateTime<Utc>,
    /// Resolution, null until resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Last status change: the resolution time where `resolved_at` is missing.
    pub last_status_change_at: Option<DateTime<Utc>>,
    /// Current acknowledgements.
    #[serde(default)]
    pub acknowledgements: Vec<Acknowledgement>,
}

impl Incident {
    /// Whether it reached its final state.
    pub fn is_resolved(&self) -> bool {
        self.status == "resolved"
    }
}

#[derive(Debug, Deserialize)]
struct IncidentPage {
    #[serde(default)]
    incidents: Vec<Incident>,
    #[serde(default)]
    more: bool,
    total: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct IncidentEnvelope {
    incident: Incident,
}

#[derive(Debug, Deserialize)]
struct LogEntry {
    #[serde(rename = "type")]
    kind: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct LogEntryPage {
    #[serde(default)]
    log_entries: Vec<LogEntry>,
    #[serde(default)]
    more: bool,
}

/// How reading one window ended.
enum Read {
    /// Every incident of the window was read.
    Complete,
    /// The window holds more than pagination can reach.
    Overflow,
}

/// The API root and client of one source.
pub struct Api {
    rest: RestApi,
    source: String,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether `e` is the shared client's report of an HTTP 400. The client reports
/// statuses other than 401/403/404 only as text, hence the match on its wording.
fn is_bad_request(e: &Error) -> bool {
    matches!(e, Error::Source { reason, .. } if reason.contains(": HTTP 400"))
}

impl Api {
    /// The endpoints of `source` below `rest`.
    pub fn new(rest: RestApi, source: &str) -> Api {
        Api {
            rest,
            source: source.to_string(),
        }
    }

    fn limit(&self) -> u32 {
        self.rest.http.per_page().clamp(1, 100)
    }

    /// Every incident created in `[since, until)`, each once, by id.
    pub async fn incidents(
        &self,
        run: &SourceRun<'_>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Incident>> {
        let mut found = BTreeMap::new();
        let mut todo = vec![(since, until)];
        while let Some((from, to)) = todo.pop() {
            if let Read::Overflow = self.window(run, from, to, &mut found).await? {
                let mid = from + (to - from) / 2;
                let mid = DateTime::from_timestamp(mid.timestamp(), 0).unwrap_or(mid);
                if mid <= from {
                    return Err(Error::collector(
                        &self.source,
                        format!(
                            "more than {MAX_OFFSET} incidents created at {}: the window cannot be split further",
                            iso(from)
                        ),
                    ));
                }
                tracing::debug!(source = %self.source, from = %iso(from), to = %iso(to), "Window too large for offset paging; splitting it.");
                // Earliest half on top, so windows are read in time order.
                todo.push((mid, to));
                todo.push((from, mid));
            }
        }
        Ok(found)
    }

    /// Reads one window into `found`, or reports that it must be split: when the
    /// first page's `total` is over the cap, when the next page would pass it, or
    /// when the server refuses an offset with a 400 (a cap lower than documented).
    async fn window(
        &self,
        run: &SourceRun<'_>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        found: &mut BTreeMap<String, Incident>,
    ) -> Result<Read> {
        let limit = self.limit();
        let mut offset = 0u32;
        loop {
            if offset > 0 && offset.saturating_add(limit) > MAX_OFFSET {
                return Ok(Read::Overflow);
            }
            let mut query = vec![
                ("since", iso(since)),
                ("until", iso(until)),
                ("sort_by", "created_at:asc".to_string()),
                ("time_zone", "UTC".to_string()),
                ("limit", limit.to_string()),
                ("offset", offset.to_string()),
            ];
            if offset == 0 {
                query.push(("total", "true".to_string()));
            }
            let url = self.rest.url("incidents", &query)?;
            let page: IncidentPage = match self.rest.http.get_json(&url).await {
                Ok((page, _)) => page,
                Err(e) if offset > 0 && is_bad_request(&e) => {
                    tracing::warn!(source = %self.source, offset, "Offset refused (HTTP 400); splitting the window.");
                    return Ok(Read::Overflow);
                }
                Err(e) => return Err(e),
            };
            if offset == 0 && page.total.is_some_and(|t| t > u64::from(MAX_OFFSET)) {
                return Ok(Read::Overflow);
            }
            run.progress.read("incidents", page.incidents.len());
            let n = page.incidents.len() as u32;
            for i in page.incidents {
                found.insert(i.id.clone(), i);
            }
            if !page.more || n == 0 {
                return Ok(Read::Complete);
            }
            offset += n;
        }
    }

    /// One incident; `None` when PagerDuty no longer has it.
    pub async fn incident(&self, id: &str) -> Result<Option<Incident>> {
        let url = self
            .rest
            .url(&format!("incidents/{id}"), &[("time_zone", "UTC".into())])?;
        let envelope: Option<IncidentEnvelope> = self.rest.http.get_json_if_found(&url).await?;
        Ok(envelope.map(|e| e.incident))
    }

    /// The time of the incident's first `acknowledge_log_entry`, every page read
    /// (the order of log entries is not relied on).
    pub async fn first_acknowledgement(
        &self,
        run: &SourceRun<'_>,
        id: &str,
    ) -> Result<Option<DateTime<Utc>>> {
        let limit = self.limit();
        let mut offset = 0u32;
        let mut first: Option<DateTime<Utc>> = None;
        loop {
            let url = self.rest.url(
                &format!("incidents/{id}/log_entries"),
                &[
                    ("is_overview", "false".into()),
                    ("time_zone", "UTC".into()),
                    ("limit", limit.to_string()),
                    ("offset", offset.to_string()),
                ],
            )?;
            let (page, _): (LogEntryPage, _) = self.rest.http.get_json(&url).await?;
            run.progress.read("log entries", page.log_entries.len());
            let n = page.log_entries.len() as u32;
            for e in page.log_entries {
                if e.kind == "acknowledge_log_entry" && first.is_none_or(|f| e.created_at < f) {
                    first = Some(e.created_at);
                }
            }
            if !page.more || n == 0 {
                return Ok(first);
            }
            offset += n;
            if offset.saturating_add(limit) > MAX_OFFSET {
                tracing::warn!(source = %self.source, incident = id, "More log entries than offset paging reaches; the first acknowledgement is taken from those read.");
                return Ok(first);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_clients_400_wording_counts_as_bad_request() {
        let e400 = Error::collector(
            "pd",
            "GET https://x/incidents?offset=10000: HTTP 400: {\"error\":{}}",
        );
        let e500 = Error::collector(
            "pd",
            "GET https://x/incidents: HTTP 502; gave up after 6 attempts",
        );
        assert!(is_bad_request(&e400));
        assert!(!is_bad_request(&e500));
    }

    #[test]
    fn incidents_parse_from_the_documented_fields() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pagerduty/incidents-list.json"
        ))
        .unwrap_or_default();
        let page: IncidentPage = serde_json::from_str(&text).expect("incident page");
        let i = &page.incidents[0];
        assert_eq!(i.id, "Q1ABCDEF");
        assert_eq!(
            i.priority.as_ref().and_then(|p| p.summary.as_deref()),
            Some("P1")
        );
        assert!(i.is_resolved() && !page.more);
    }
}
