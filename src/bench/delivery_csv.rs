//! The delivery tables' CSV files, written by a [`DeliverySink`] as each service's
//! timeline is replayed: deployments, commits, pull requests and incidents.

use super::csv_out::{Layout, TableCsv, TableFiles};
use crate::demo::clock::MIN;
use crate::demo::replay::{DeliverySink, Incident, PullRequest, incident_cells};
use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::row::{Cells, RowTemplate};
use crate::lake::tables;

/// The four delivery tables being written. A sink cannot return errors, so the
/// first one is kept and reported by [`DeliverySink::check`] after each service.
pub(crate) struct DeliveryCsv {
    deployments: Table,
    commits: Table,
    pull_requests: Table,
    incidents: Table,
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

/// One table's rows, laid out by name and written to its CSV files.
pub(crate) struct Table {
    template: RowTemplate,
    csv: TableCsv,
}

impl Table {
    /// The CSV files of table `name`, under its own name.
    pub(crate) fn new(layout: &Layout, name: &str) -> Result<Self> {
        Ok(Table {
            template: RowTemplate::new(tables::table(name)?),
            csv: TableCsv::new(layout, name, name, header(name)?),
        })
    }

    /// Writes the row of `cells`.
    pub(crate) fn write<const N: usize>(&mut self, cells: Cells<N>) -> Result<()> {
        let row = self.template.row(cells)?;
        self.csv.write(&row)
    }

    /// Flushes and closes the last file.
    pub(crate) fn finish(self) -> Result<TableFiles> {
        self.csv.finish()
    }
}

impl DeliveryCsv {
    pub(crate) fn new(layout: &Layout, end: i64) -> Result<Self> {
        let table = |name: &str| Table::new(layout, name);
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

    fn deployment(&mut self, row: Cells<13>) {
        let r = self.deployments.write(row);
        self.keep(r);
    }

    fn commit(&mut self, row: Cells<10>) {
        let r = self.commits.write(row);
        self.keep(r);
    }

    /// Ids in generation order; an incident whose resolution falls after the end of
    /// the history is still open when the history was exported.
    fn incident(&mut self, incident: Incident) {
        self.incident_count += 1;
        let id = format!("bench:incident:{:07}", self.incident_count);
        let resolved = incident.resolved.filter(|r| *r < self.end - MIN);
        let r = self
            .incidents
            .write(incident_cells(id, "bench", incident, resolved));
        self.keep(r);
    }

    fn pull_request(&mut self, pr: PullRequest) {
        let title = format!("Change {} to {}", pr.number, pr.repo);
        let url = format!("https://git.acme.example/{}/pull/{}", pr.repo, pr.number);
        let r = self.pull_requests.write([
            ("pr_id", Value::Text(pr.id)),
            ("source", Value::text("bench")),
            ("repo", Value::Text(pr.repo)),
            ("number", Value::Int(pr.number as i64)),
            ("title", Value::Text(title)),
            ("author", Value::Text(pr.author)),
            ("head_ref", Value::text(format!("change-{}", pr.number))),
            ("base_ref", Value::text("main")),
            ("state", Value::text("merged")),
            ("created_at", Value::Timestamp(pr.created)),
            ("merged_at", Value::Timestamp(pr.merged)),
            ("merge_commit_sha", Value::Text(pr.merge_commit)),
            ("commit_shas", Value::TextList(pr.commits)),
            ("url", Value::Text(url)),
        ]);
        self.keep(r);
    }
}
