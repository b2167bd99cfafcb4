//! The derived tables of [`crate::enrich`] (`deployment_commits`, the shipped commits,
//! and `incident_links`): their inputs read out of the engine's tables, and the
//! result registered as [`LazyTable`]s, so enrichment runs once per engine and only
//! when a query reads one of them (a cost-only compute never walks the commit graph).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::Mutex;

use super::lazy::{RowSource, Rows, stream_plan};
use super::{Engine, columns};
use crate::config::MetricSettings;
use crate::enrich::commit_graph::GraphBuilder;
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
    /// Both tables' rows, computed together by the first of them to be derived
    /// and released once both have been (written to the lake or into memory):
    /// an engine that lives on, like the server's, does not keep them twice.
    result: Mutex<Pending>,
}

/// Enrichment's result, while one of its two tables still needs it.
#[derive(Debug)]
enum Pending {
    /// Not computed yet.
    NotYet,
    /// Computed; the number of tables that have not taken it yet.
    Ready(Arc<Enriched>, usize),
    /// Both tables took it (a table derived again computes it again).
    Released,
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
            result: Mutex::new(Pending::NotYet),
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
        let enriched = self.enrichment.take(session).await?;
        Ok(match self.which {
            Derived::ShippedCommits => RowSource::Stream(shipped_stream(enriched)),
            Derived::IncidentLinks => {
                let batch = string_batch(
                    &LINK_COLUMNS,
                    enriched
                        .incident_links
                        .iter()
                        .map(|(a, b, c)| [a.as_str(), b.as_str(), *c]),
                )
                .map_err(external)?;
                RowSource::Plan(MemorySourceConfig::try_new_exec(
                    &[vec![batch.clone()]],
                    batch.schema(),
                    None,
                )?)
            }
        })
    }
}

/// Rows of the shipped commits per batch written to the lake.
const SHIPPED_BATCH_ROWS: usize = 64 * 1024;

/// The shipped commits as batches, spelled out one batch at a time.
fn shipped_stream(enriched: Arc<Enriched>) -> SendableRecordBatchStream {
    let schema = string_schema(&SHIPPED_COLUMNS);
    let batch_schema = Arc::clone(&schema);
    let total = enriched.shipped_len();
    let starts = (0..total.max(1)).step_by(SHIPPED_BATCH_ROWS);
    let batches = futures::stream::iter(starts).map(move |start| {
        let end = (start + SHIPPED_BATCH_ROWS).min(total);
        let mut columns: [StringBuilder; 3] = Default::default();
        enriched.shipped(start..end, |deployment, sha, origin| {
            columns[0].append_value(deployment);
            columns[1].append_value(sha);
            columns[2].append_value(origin);
        });
        let arrays: Vec<ArrayRef> = columns
            .iter_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef)
            .collect();
        Ok(RecordBatch::try_new(Arc::clone(&batch_schema), arrays)?)
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, batches))
}

impl Enrichment {
    /// Enrichment's result for one of its two tables, computed by the first.
    async fn take(&self, session: &dyn Session) -> DfResult<Arc<Enriched>> {
        let mut pending = self.result.lock().await;
        let (enriched, left) = match std::mem::replace(&mut *pending, Pending::Released) {
            Pending::Ready(enriched, left) => (enriched, left),
            Pending::NotYet => (Arc::new(self.compute(session).await?), 2),
            Pending::Released => return Ok(Arc::new(self.compute(session).await?)),
        };
        if left > 1 {
            *pending = Pending::Ready(Arc::clone(&enriched), left - 1);
        }
        Ok(enriched)
    }

    async fn compute(&self, session: &dyn Session) -> DfResult<Enriched> {
        let inputs = self.inputs(session).await?;
        let enriched = tokio::task::spawn_blocking(move || enrich::enrich(inputs))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        tracing::info!(
            shipped_commits = enriched.shipped_len(),
            incident_links = enriched.incident_links.len(),
            "Enriched the lake."
        );
        Ok(enriched)
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
        let mut graph = GraphBuilder::default();
        let mut batches = stream_plan(&self.commits, session).await?;
        while let Some(b) = batches.try_next().await? {
            add_commits(&mut graph, &b).map_err(external)?;
        }
        inputs.graph = graph.finish();
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

/// Adds a batch of commits to the graph without a `String` per sha: the commits
/// table can hold tens of millions of rows.
fn add_commits(graph: &mut GraphBuilder, b: &RecordBatch) -> Result<()> {
    let shas = columns::text_array(b, "commit_sha")?;
    let shas = shas.as_string::<i32>();
    let parents = columns::text_list_array(b, "parent_shas")?;
    let parents = parents.as_list::<i32>();
    for row in 0..b.num_rows() {
        if shas.is_null(row) {
            continue;
        }
        let list = (!parents.is_null(row)).then(|| parents.value(row));
        let list = list.as_ref().map(|l| l.as_string::<i32>());
        graph.add(
            shas.value(row),
            list.into_iter().flat_map(|l| l.iter().flatten()),
        );
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
