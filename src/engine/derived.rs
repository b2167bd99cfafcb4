//! The derived tables: reading enrichment's inputs out of the registered views,
//! and registering what [`crate::enrich`] computes as in-memory tables.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use super::{Engine, columns};
use crate::config::MetricSettings;
use crate::enrich::{self, Deployment, Incident, Inputs};
use crate::error::{Error, Result};

impl Engine {
    /// Reads only the columns enrichment uses: the commits table can be the largest
    /// in the lake, and most of its columns do not matter here.
    pub(super) async fn columns_of(
        &self,
        table: &str,
        columns: &[&str],
    ) -> Result<Vec<RecordBatch>> {
        let df = self
            .ctx
            .table(table)
            .await
            .map_err(|e| Error::query(table, e))?;
        let df = df
            .select_columns(columns)
            .map_err(|e| Error::query(table, e))?;
        df.collect().await.map_err(|e| Error::query(table, e))
    }

    pub(super) async fn enrich_inputs(&self, settings: &MetricSettings) -> Result<Inputs> {
        let mut inputs = Inputs {
            link_window_us: i64::from(settings.link_window_days) * 86_400_000_000,
            ..Inputs::default()
        };
        let deployment_columns = ["deployment_id", "service", "commit_sha", "finished_at"];
        for b in &self
            .columns_of("prod_deployments", &deployment_columns)
            .await?
        {
            let ids = columns::strings(b, "deployment_id")?;
            let services = columns::strings(b, "service")?;
            let shas = columns::strings(b, "commit_sha")?;
            let finished = columns::timestamps(b, "finished_at")?;
            for (((id, service), sha), finished_at) in
                ids.into_iter().zip(services).zip(shas).zip(finished)
            {
                if let (Some(id), Some(service), Some(finished_at)) = (id, service, finished_at) {
                    inputs.deployments.push(Deployment {
                        id,
                        service,
                        sha,
                        finished_at,
                    });
                }
            }
        }
        for b in &self
            .columns_of("commits", &["commit_sha", "parent_shas"])
            .await?
        {
            let shas = columns::strings(b, "commit_sha")?;
            let parents = columns::string_lists(b, "parent_shas")?;
            inputs.commits.extend(
                shas.into_iter()
                    .zip(parents)
                    .filter_map(|(s, p)| s.map(|s| (s, p))),
            );
        }
        let given_columns = ["deployment_id", "commit_sha"];
        for b in &self
            .columns_of("deployment_commits", &given_columns)
            .await?
        {
            let deps = columns::strings(b, "deployment_id")?;
            let shas = columns::strings(b, "commit_sha")?;
            inputs.source_deployment_commits.extend(
                deps.into_iter()
                    .zip(shas)
                    .filter_map(|(d, s)| Some((d?, s?))),
            );
        }
        let incident_columns = [
            "incident_id",
            "service",
            "started_at",
            "caused_by_deployment_id",
            "caused_by_commit_sha",
        ];
        for b in &self.columns_of("incidents", &incident_columns).await? {
            let ids = columns::strings(b, "incident_id")?;
            let services = columns::strings(b, "service")?;
            let started = columns::timestamps(b, "started_at")?;
            let by_dep = columns::strings(b, "caused_by_deployment_id")?;
            let by_sha = columns::strings(b, "caused_by_commit_sha")?;
            let rows = ids
                .into_iter()
                .zip(services)
                .zip(started)
                .zip(by_dep)
                .zip(by_sha);
            for ((((id, service), started_at), by_dep), by_sha) in rows {
                if let (Some(id), Some(started_at)) = (id, started_at) {
                    inputs.incidents.push(Incident {
                        id,
                        service,
                        started_at,
                        caused_by_deployment_id: by_dep.filter(|s| !s.is_empty()),
                        caused_by_commit_sha: by_sha.filter(|s| !s.is_empty()),
                    });
                }
            }
        }
        Ok(inputs)
    }

    pub(super) fn register_derived(&self, enriched: &enrich::Enriched) -> Result<()> {
        let shipped = string_table(
            &["deployment_id", "commit_sha", "origin"],
            enriched
                .deployment_commits
                .iter()
                .map(|(a, b, c)| [a.as_str(), b.as_str(), *c]),
        )?;
        let links = string_table(
            &["incident_id", "deployment_id", "link_rule"],
            enriched
                .incident_links
                .iter()
                .map(|(a, b, c)| [a.as_str(), b.as_str(), *c]),
        )?;
        // The effective table replaces the lake view of the same name; the source-given
        // rows stay readable as `lake_deployment_commits`.
        let lake_view = self
            .ctx
            .deregister_table("deployment_commits")
            .map_err(|e| Error::query("deployment_commits", e))?;
        if let Some(view) = lake_view {
            self.ctx
                .register_table("lake_deployment_commits", view)
                .map_err(|e| Error::query("lake_deployment_commits", e))?;
        }
        for (name, table) in [("deployment_commits", shipped), ("incident_links", links)] {
            self.ctx
                .register_table(name, Arc::new(table))
                .map_err(|e| Error::query(name, e))?;
        }
        Ok(())
    }
}

fn string_table<'a, const N: usize>(
    names: &[&str; N],
    rows: impl Iterator<Item = [&'a str; N]>,
) -> Result<MemTable> {
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut cols: Vec<Vec<&str>> = vec![Vec::new(); N];
    for row in rows {
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let arrays = cols
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as Arc<dyn datafusion::arrow::array::Array>)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)
        .map_err(|e| Error::encode("derived table", e))?;
    MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| Error::query("derived table", e))
}
