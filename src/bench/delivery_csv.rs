//! The delivery tables' CSV files, written by a [`DeliverySink`] as each service's
//! timeline is replayed: deployments, commits, pull requests and incidents.

use super::csv_out::{Layout, TableCsv, TableFiles};
use crate::demo::clock::MIN;
use crate::demo::replay::{DeliverySink, Incident, PullRequest, incident_row};
use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::tables;

/// The four delivery tables being written. A sink cannot return errors, so the
/// first one is kept and reported by [`DeliverySink::check`] after each service.
pub(crate) struct DeliveryCsv {
    deployments: TableCsv,
    commits: TableCsv,
    pull_requests: TableCsv,
    incidents: TableCsv,
    incident_count: u64,
    /// End of the history: incidents resolved after it are still open.
    end: i64,
    failed: Option<Error>,
}

/// The canonical column names of a table, as the CSV header.
pub(crate) fn header(table: &str) -> Result<Vec<String>> {
    Ok(tables::table(table)?
        .columns
        .iter()
        .map(|c| c.name.to_string())
        .collect())
}

impl DeliveryCsv {
    pub(crate) fn new(layout: &Layout, end: i64) -> Result<Self> {
        let table = |name: &str| -> Result<TableCsv> {
            Ok(TableCsv::new(layout, name, name, header(name)?))
        };
        Ok(DeliveryCsv {
            deployments: table("deployments")?,
            commits: table("commits")?,
            pull_requests: table("pull_requests")?,
            incidents: table("incidents")?,
            incident_count: 0,
            end,
            failed: None,
        })
    }

    pub(crate) fn finish(mut self) -> Result<Vec<TableFiles>> {
        self.check()?;
        Ok(vec![
            self.deployments.finish()?,
            self.commits.finish()?,
            self.pull_requests.finish()?,
            self.incidents.finish()?,
        ])
    }

    fn keep(&mut self, result: Result<()>) {
        if let (Err(e), None) = (result, &self.failed) {
            self.failed = Some(e);
        }
    }
}

impl DeliverySink for DeliveryCsv {
    fn check(&mut self) -> Result<()> {
        self.failed.take().map_or(Ok(()), Err)
    }

    fn deployment(&mut self, row: Vec<Value>) {
        let r = self.deployments.write(&row);
        self.keep(r);
    }

    fn commit(&mut self, row: Vec<Value>) {
        let r = self.commits.write(&row);
        self.keep(r);
    }

    /// Ids in generation order; an incident whose resolution falls after the end of
    /// the history is still open when the history was exported.
    fn incident(&mut self, incident: Incident) {
        self.incident_count += 1;
        let id = format!("bench:incident:{:07}", self.incident_count);
        let resolved = incident.resolved.filter(|r| *r < self.end - MIN);
        let row = incident_row(id, "bench", incident, resolved);
        let r = self.incidents.write(&row);
        self.keep(r);
    }

    fn pull_request(&mut self, pr: PullRequest) {
        let row = [
            Value::text(&pr.id),
            Value::text("bench"),
            Value::text(&pr.repo),
            Value::Int(pr.number as i64),
            Value::text(format!("Change {} to {}", pr.number, pr.repo)),
            Value::Text(pr.author),
            Value::text(format!("change-{}", pr.number)),
            Value::text("main"),
            Value::text("merged"),
            Value::Timestamp(pr.created),
            Value::Timestamp(pr.merged),
            Value::Text(pr.merge_commit),
            Value::TextList(pr.commits),
            Value::text(format!(
                "https://git.acme.example/{}/pull/{}",
                pr.repo, pr.number
            )),
        ];
        let r = self.pull_requests.write(&row);
        self.keep(r);
    }
}
