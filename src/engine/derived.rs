//! The derived tables of [`crate::enrich`] (`deployment_commits`, the shipped commits,
//! and `incident_links`): their inputs read out of the engine's tables, and the
//! result registered as [`LazyTable`]s, so enrichment runs once per engine and only
//! when a query reads one of them (a cost-only compute never walks the commit graph).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::LogicalPlan;
use futures::TryStreamExt;
use tokio::sync::OnceCell;

use super::lazy::{RowSource, Rows, stream_plan};
use super::{Engine, columns};
use crate::config::MetricSettings;
use crate::enrich::{self, Deployment, Enriched, Incident, Inputs};
use crate::error::{Error, Result};

/// Enrichment's inputs as plans over the engine's tables (built when the engine
/// opens), and its result once computed.
#[derive(Debug)]
struct Enrichment {
    deployments: LogicalPlan,
    commits: LogicalPlan,
    given: LogicalPlan,
    incidents: LogicalPlan,
    link_window_us: i64,
    /// Both tables' rows, built together: Arrow batches share their buffers with
    /// the tables that serve them, so nothing of enrichment's result is held twice.
    result: OnceCell<EnrichedBatches>,
}

/// [`Enriched`] as the two tables' batches.
#[derive(Debug)]
struct EnrichedBatches {
    shipped_commits: RecordBatch,
    incident_links: RecordBatch,
}

/// Which derived table a [`DerivedRows`] serves.
#[derive(Debug, Clone, Copy)]
enum Derived {
    ShippedCommits,
    IncidentLinks,
}

#[derive(Debug)]
struct DerivedRows {
    enrichment: Arc<Enrichment>,
    which: Derived,
}

const SHIPPED_COLUMNS: [&str; 3] = ["deployment_id", "commit_sha", "origin"];
const LINK_COLUMNS: [&str; 3] = ["incident_id", "deployment_id", "link_rule"];

impl Engine {
    /// The plan of `columns` of `table`: enrichment and cost allocation read only
    /// what they use (the commits table can be the largest in the lake).
    pub(super) async fn columns_plan(&self, table: &str, columns: &[&str]) -> Result<LogicalPlan> {
        let df = self
            .ctx
            .table(table)
            .await
            .map_err(|e| Error::query(table, e))?;
        let df = df
            .select_columns(columns)
            .map_err(|e| Error::query(table, e))?;
        Ok(df.logical_plan().clone())
    }

    /// Registers `deployment_commits` (effective: the rows a source gave, else the
    /// commit graph's) and `incident_links`. The source-given rows stay readable as
    /// `lake_deployment_commits`.
    pub(super) async fn register_derived(&self, settings: &MetricSettings) -> Result<()> {
        let lake_view = self
            .ctx
            .deregister_table("deployment_commits")
            .map_err(|e| Error::query("deployment_commits", e))?;
        if let Some(view) = lake_view {
            self.ctx
                .register_table("lake_deployment_commits", view)
                .map_err(|e| Error::query("lake_deployment_commits", e))?;
        }
        let enrichment = Arc::new(Enrichment {
            deployments: self
                .columns_plan(
                    "prod_deployments",
                    &["deployment_id", "service", "commit_sha", "finished_at"],
                )
                .await?,
            commits: self
                .columns_plan("commits", &["commit_sha", "parent_shas"])
                .await?,
            given: self
                .columns_plan("lake_deployment_commits", &["deployment_id", "commit_sha"])
                .await?,
            incidents: self
                .columns_plan(
                    "incidents",
                    &[
                        "incident_id",
                        "service",
                        "started_at",
                        "caused_by_deployment_id",
                        "caused_by_commit_sha",
                    ],
                )
                .await?,
            link_window_us: i64::from(settings.link_window_days) * 86_400_000_000,
            result: OnceCell::new(),
        });
        let plans = [
            &enrichment.deployments,
            &enrichment.commits,
            &enrichment.given,
            &enrichment.incidents,
        ];
        let settings = format!("link_window_us={}", enrichment.link_window_us);
        for (name, which, names) in [
            (
                "deployment_commits",
                Derived::ShippedCommits,
                SHIPPED_COLUMNS,
            ),
            ("incident_links", Derived::IncidentLinks, LINK_COLUMNS),
        ] {
            let rows = Arc::new(DerivedRows {
                enrichment: Arc::clone(&enrichment),
                which,
            });
            let fingerprint = self.lineage.derived(name, &plans, &settings);
            self.register_lazy(name, string_schema(&names), rows, fingerprint)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Rows for DerivedRows {
    async fn rows(&self, session: &dyn Session) -> DfResult<RowSource> {
        let batches = self.enrichment.batches(session).await?;
        let batch = match self.which {
            Derived::ShippedCommits => &batches.shipped_commits,
            Derived::IncidentLinks => &batches.incident_links,
        };
        Ok(RowSource::Plan(MemorySourceConfig::try_new_exec(
            &[vec![batch.clone()]],
            batch.schema(),
            None,
        )?))
    }
}

impl Enrichment {
    async fn batches(&self, session: &dyn Session) -> DfResult<&EnrichedBatches> {
        self.result
            .get_or_try_init(|| async {
                let inputs = self.inputs(session).await?;
                let enriched = tokio::task::spawn_blocking(move || enrich::enrich(&inputs))
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                tracing::info!(
                    shipped_commits = enriched.deployment_commits.len(),
                    incident_links = enriched.incident_links.len(),
                    "Enriched the lake."
                );
                as_batches(&enriched).map_err(external)
            })
            .await
    }

    /// Reads enrichment's inputs batch by batch: a table's batches are dropped as
    /// they are copied, not held beside the copy (the commits table can be tens of
    /// millions of rows).
    async fn inputs(&self, session: &dyn Session) -> DfResult<Inputs> {
        let mut inputs = Inputs {
            link_window_us: self.link_window_us,
            ..Inputs::default()
        };
        let mut batches = stream_plan(&self.deployments, session).await?;
        while let Some(b) = batches.try_next().await? {
            add_deployments(&mut inputs, &b).map_err(external)?;
        }
        let mut batches = stream_plan(&self.commits, session).await?;
        while let Some(b) = batches.try_next().await? {
            let shas = columns::strings(&b, "commit_sha").map_err(external)?;
            let parents = columns::string_lists(&b, "parent_shas").map_err(external)?;
            inputs.commits.extend(
                shas.into_iter()
                    .zip(parents)
                    .filter_map(|(s, p)| s.map(|s| (s, p))),
            );
        }
        let mut batches = stream_plan(&self.given, session).await?;
        while let Some(b) = batches.try_next().await? {
            let deps = columns::strings(&b, "deployment_id").map_err(external)?;
            let shas = columns::strings(&b, "commit_sha").map_err(external)?;
            inputs.source_deployment_commits.extend(
                deps.into_iter()
                    .zip(shas)
                    .filter_map(|(d, s)| Some((d?, s?))),
            );
        }
        let mut batches = stream_plan(&self.incidents, session).await?;
        while let Some(b) = batches.try_next().await? {
            add_incidents(&mut inputs, &b).map_err(external)?;
        }
        Ok(inputs)
    }
}

fn add_deployments(inputs: &mut Inputs, b: &RecordBatch) -> Result<()> {
    let ids = columns::strings(b, "deployment_id")?;
    let services = columns::strings(b, "service")?;
    let shas = columns::strings(b, "commit_sha")?;
    let finished = columns::timestamps(b, "finished_at")?;
    for (((id, service), sha), finished_at) in ids.into_iter().zip(services).zip(shas).zip(finished)
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
    Ok(())
}

fn add_incidents(inputs: &mut Inputs, b: &RecordBatch) -> Result<()> {
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
    Ok(())
}

fn as_batches(enriched: &Enriched) -> Result<EnrichedBatches> {
    let batch = |names: &[&str; 3], rows: &[(String, String, &'static str)]| {
        string_batch(
            names,
            rows.iter().map(|(a, b, c)| [a.as_str(), b.as_str(), *c]),
        )
    };
    Ok(EnrichedBatches {
        shipped_commits: batch(&SHIPPED_COLUMNS, &enriched.deployment_commits)?,
        incident_links: batch(&LINK_COLUMNS, &enriched.incident_links)?,
    })
}

/// A crate error inside DataFusion's error type (a lazy table fails inside a scan).
pub(super) fn external(e: Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

fn string_schema(names: &[&str]) -> SchemaRef {
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, false))
        .collect();
    Arc::new(Schema::new(fields))
}

fn string_batch<'a, const N: usize>(
    names: &[&str; N],
    rows: impl Iterator<Item = [&'a str; N]>,
) -> Result<RecordBatch> {
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
    RecordBatch::try_new(string_schema(names), arrays)
        .map_err(|e| Error::encode("derived table", e))
}
