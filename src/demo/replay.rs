//! Where a replayed service timeline's rows go, and the ids shared by all lanes.
//!
//! The demo keeps every row in memory ([`Delivery`]) and numbers incidents once all
//! are known; the bench writes rows to CSV as they are generated, so its memory
//! does not grow with the organisation. Both see the same rows in the same order.

use super::clock::MIN;
use super::random::mix;
use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::row::{Cells, RowTemplate};
use crate::lake::tables;

/// An incident before ids are assigned.
pub(crate) struct Incident {
    pub(crate) service: String,
    pub(crate) severity: &'static str,
    pub(crate) title: String,
    pub(crate) started: i64,
    pub(crate) acknowledged: i64,
    pub(crate) resolved: Option<i64>,
    pub(crate) caused_by_deployment: Option<String>,
    pub(crate) caused_by_commit: Option<String>,
}

/// A merged pull request, as the `pull_requests` table holds it.
pub(crate) struct PullRequest {
    pub(crate) id: String,
    pub(crate) repo: String,
    pub(crate) number: u64,
    pub(crate) author: String,
    pub(crate) created: i64,
    pub(crate) merged: i64,
    /// The commit that landed on the main line (merge or squash commit).
    pub(crate) merge_commit: String,
    /// The branch commits (empty for a squash merge, whose branch is gone).
    pub(crate) commits: Vec<String>,
}

/// Receives the rows of each service's timeline as they are generated.
pub(crate) trait DeliverySink {
    /// A `deployments` row.
    fn deployment(&mut self, row: Cells<13>);
    /// A `commits` row.
    fn commit(&mut self, row: Cells<10>);
    /// An incident (the sink assigns its id).
    fn incident(&mut self, incident: Incident);
    /// A merged pull request; the demo keeps PR times on the commit rows only.
    fn pull_request(&mut self, _pr: PullRequest) {}
    /// The first error writing rows (a sink that writes files cannot fail a row
    /// call, so it keeps the error for the caller to ask after each service).
    fn check(&mut self) -> Result<()> {
        Ok(())
    }
}

/// State shared by every lane of one generation run: the row sink, the id
/// counters and the options.
pub(crate) struct Replay<'s> {
    pub(crate) sink: &'s mut dyn DeliverySink,
    /// `source` column and id prefix (`demo`, `bench`).
    pub(crate) source: &'static str,
    /// Whether pull requests get preview (development) deployments; off in the demo,
    /// whose figures are quoted in the docs.
    pub(crate) previews: bool,
    shas: u64,
    deployments: u64,
}

impl<'s> Replay<'s> {
    pub(crate) fn new(sink: &'s mut dyn DeliverySink, source: &'static str) -> Self {
        Replay {
            sink,
            source,
            previews: false,
            shas: 0,
            deployments: 0,
        }
    }

    /// A 40-hex sha unique per counter value (the first 64 bits are a bijection of it).
    pub(crate) fn next_sha(&mut self) -> String {
        self.shas += 1;
        let n = self.shas;
        format!(
            "{:016x}{:016x}{:08x}",
            mix(n ^ 0xa5a5),
            mix(n ^ 0x5a5a_0000),
            mix(!n) as u32
        )
    }

    /// The next deployment number (1-based, over all services).
    pub(crate) fn next_deployment(&mut self) -> u64 {
        self.deployments += 1;
        self.deployments
    }
}

/// The demo's sink: every row in memory.
pub(crate) struct Delivery {
    pub(crate) deployments: Vec<Vec<Value>>,
    pub(crate) commits: Vec<Vec<Value>>,
    pub(crate) incidents: Vec<Incident>,
    templates: (RowTemplate, RowTemplate),
    failed: Option<Error>,
}

impl Delivery {
    /// An empty sink.
    pub(crate) fn new() -> Result<Self> {
        Ok(Delivery {
            deployments: Vec::new(),
            commits: Vec::new(),
            incidents: Vec::new(),
            templates: (
                RowTemplate::new(tables::table("deployments")?),
                RowTemplate::new(tables::table("commits")?),
            ),
            failed: None,
        })
    }
}

/// Keeps a built row in `rows`, or the first error in `failed`.
pub(crate) fn keep<T>(built: Result<T>, rows: &mut Vec<T>, failed: &mut Option<Error>) {
    match built {
        Ok(row) => rows.push(row),
        Err(e) => {
            failed.get_or_insert(e);
        }
    }
}

impl DeliverySink for Delivery {
    fn deployment(&mut self, row: Cells<13>) {
        let built = self.templates.0.row(row);
        keep(built, &mut self.deployments, &mut self.failed);
    }
    fn commit(&mut self, row: Cells<10>) {
        let built = self.templates.1.row(row);
        keep(built, &mut self.commits, &mut self.failed);
    }
    fn incident(&mut self, incident: Incident) {
        self.incidents.push(incident);
    }
    fn check(&mut self) -> Result<()> {
        self.failed.take().map_or(Ok(()), Err)
    }
}

/// The named cells of an incident's `incidents` row; `resolved` as it should be
/// stored.
pub(crate) fn incident_cells(
    id: String,
    source: &str,
    inc: Incident,
    resolved: Option<i64>,
) -> Cells<10> {
    [
        ("incident_id", Value::Text(id)),
        ("source", Value::text(source)),
        ("service", Value::Text(inc.service)),
        ("severity", Value::text(inc.severity)),
        ("title", Value::Text(inc.title)),
        ("started_at", Value::Timestamp(inc.started)),
        ("acknowledged_at", Value::Timestamp(inc.acknowledged)),
        ("resolved_at", Value::opt_ts(resolved)),
        (
            "caused_by_deployment_id",
            Value::opt_text(inc.caused_by_deployment),
        ),
        (
            "caused_by_commit_sha",
            Value::opt_text(inc.caused_by_commit),
        ),
    ]
}

/// Incident rows with ids in start order; the three latest stay open (unresolved).
pub(crate) fn incident_rows(mut incidents: Vec<Incident>, end: i64) -> Result<Vec<Vec<Value>>> {
    let mut template = RowTemplate::new(tables::table("incidents")?);
    incidents.sort_by(|a, b| a.started.cmp(&b.started).then(a.service.cmp(&b.service)));
    let open_from = incidents.len().saturating_sub(3);
    incidents
        .into_iter()
        .enumerate()
        .map(|(i, inc)| {
            let resolved = if i >= open_from {
                None
            } else {
                inc.resolved.map(|r| r.min(end - MIN))
            };
            let id = format!("demo:incident:{:05}", i + 1);
            template.row(incident_cells(id, "demo", inc, resolved))
        })
        .collect()
}
