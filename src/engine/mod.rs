//! The query engine: one DataFusion `SessionContext` over the lake.
//!
//! Opening an engine registers, in order: every lake table as `<table>__versions`
//! (all row versions, as stored) and `<table>` (the newest version per natural key);
//! the staging views enrichment reads; the derived tables of [`crate::enrich`]; then
//! the staging views over those. Queries bind parameters through DataFusion's
//! placeholders: user input is never formatted into SQL text.

pub mod columns;
pub mod queries;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ParamValues;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::config::MetricSettings;
use crate::enrich::{self, Deployment, Incident, Inputs};
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::tables::{self, INGESTED_AT, TableSpec};

/// Named query parameters.
pub type Params = HashMap<String, ScalarValue>;

/// A query engine over one lake.
pub struct Engine {
    ctx: SessionContext,
}

impl Engine {
    /// Registers the lake, runs enrichment and registers every view.
    pub async fn open(lake: &Lake, settings: &MetricSettings) -> Result<Engine> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let engine = Engine { ctx };
        for spec in tables::all_tables() {
            engine.register_lake_table(lake, &spec).await?;
        }
        engine
            .register_views(queries::STAGING_BEFORE_ENRICH)
            .await?;
        let inputs = engine.enrich_inputs(settings).await?;
        let enriched = tokio::task::spawn_blocking(move || enrich::enrich(&inputs))
            .await
            .map_err(|e| Error::encode("enrichment", e))?;
        engine.register_derived(&enriched)?;
        engine.register_views(queries::STAGING_AFTER_ENRICH).await?;
        Ok(engine)
    }

    /// The underlying DataFusion context.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    async fn register_lake_table(&self, lake: &Lake, spec: &TableSpec) -> Result<()> {
        let versions = format!("{}__versions", spec.name);
        let schema = spec.stored_schema();
        let provider: Arc<dyn datafusion::catalog::TableProvider> =
            if lake.files(spec.name).await?.is_empty() {
                Arc::new(
                    MemTable::try_new(schema, vec![vec![]])
                        .map_err(|e| Error::query(&versions, e))?,
                )
            } else {
                let url = ListingTableUrl::parse(lake.table_url(spec.name))
                    .map_err(|e| Error::query(&versions, e))?;
                let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                    .with_file_extension(".parquet");
                let config = ListingTableConfig::new(url)
                    .with_listing_options(options)
                    .with_schema(schema);
                Arc::new(ListingTable::try_new(config).map_err(|e| Error::query(&versions, e))?)
            };
        self.ctx
            .register_table(versions.as_str(), provider)
            .map_err(|e| Error::query(&versions, e))?;
        // Glue, not a metric: identifiers come from the static table specs.
        let keys: Vec<String> = spec.key.iter().map(|k| format!("\"{k}\"")).collect();
        let view = format!(
            "CREATE VIEW \"{name}\" AS SELECT * EXCLUDE (_version_rank) FROM (\
             SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY \"{INGESTED_AT}\" DESC) \
             AS _version_rank FROM \"{versions}\") WHERE _version_rank = 1",
            name = spec.name,
            keys = keys.join(", "),
        );
        self.execute(spec.name, &view, &Params::new()).await?;
        Ok(())
    }

    async fn register_views(&self, views: &[(&str, &str)]) -> Result<()> {
        for (name, sql) in views {
            let ddl = format!("CREATE VIEW \"{name}\" AS {sql}");
            self.execute(name, &ddl, &Params::new()).await?;
        }
        Ok(())
    }

    async fn enrich_inputs(&self, settings: &MetricSettings) -> Result<Inputs> {
        let deployments = self.table_batches("prod_deployments").await?;
        let commits = self.table_batches("commits").await?;
        let given = self.table_batches("deployment_commits").await?;
        let incidents = self.table_batches("incidents").await?;
        let mut inputs = Inputs {
            link_window_us: i64::from(settings.link_window_days) * 86_400_000_000,
            ..Inputs::default()
        };
        for b in &deployments {
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
        for b in &commits {
            let shas = columns::strings(b, "commit_sha")?;
            let parents = columns::string_lists(b, "parent_shas")?;
            inputs.commits.extend(
                shas.into_iter()
                    .zip(parents)
                    .filter_map(|(s, p)| s.map(|s| (s, p))),
            );
        }
        for b in &given {
            let deps = columns::strings(b, "deployment_id")?;
            let shas = columns::strings(b, "commit_sha")?;
            inputs.source_deployment_commits.extend(
                deps.into_iter()
                    .zip(shas)
                    .filter_map(|(d, s)| Some((d?, s?))),
            );
        }
        for b in &incidents {
            let ids = columns::strings(b, "incident_id")?;
            let services = columns::strings(b, "service")?;
            let started = columns::timestamps(b, "started_at")?;
            let by_dep = columns::strings(b, "caused_by_deployment_id")?;
            let by_sha = columns::strings(b, "caused_by_commit_sha")?;
            for i in 0..b.num_rows() {
                if let (Some(id), Some(started_at)) = (ids[i].clone(), started[i]) {
                    inputs.incidents.push(Incident {
                        id,
                        service: services[i].clone(),
                        started_at,
                        caused_by_deployment_id: by_dep[i].clone().filter(|s| !s.is_empty()),
                        caused_by_commit_sha: by_sha[i].clone().filter(|s| !s.is_empty()),
                    });
                }
            }
        }
        Ok(inputs)
    }

    fn register_derived(&self, enriched: &enrich::Enriched) -> Result<()> {
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

    async fn table_batches(&self, name: &str) -> Result<Vec<RecordBatch>> {
        let df = self
            .ctx
            .table(name)
            .await
            .map_err(|e| Error::query(name, e))?;
        df.collect().await.map_err(|e| Error::query(name, e))
    }

    /// Runs a metric query from `queries/` by id.
    pub async fn run_query(&self, id: &str, params: &Params) -> Result<Vec<RecordBatch>> {
        let sql = queries::metric_sql(id)
            .ok_or_else(|| Error::Usage(format!("no query `{id}` in queries/")))?;
        self.execute(id, sql, params).await
    }

    /// Runs SQL with named parameters; `label` names it in errors.
    pub async fn execute(
        &self,
        label: &str,
        sql: &str,
        params: &Params,
    ) -> Result<Vec<RecordBatch>> {
        let df = self
            .ctx
            .sql(sql)
            .await
            .map_err(|e| Error::query(label, e))?;
        let df = if params.is_empty() {
            df
        } else {
            df.with_param_values(ParamValues::from(params.clone()))
                .map_err(|e| Error::query(label, e))?
        };
        df.collect().await.map_err(|e| Error::query(label, e))
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
