//! Tables derived once, on first use, then served from the lake or memory.
//!
//! A compute runs about 130 metric queries, and nearly all of them read the same few
//! derived tables: the newest version of each lake row, production deployments, the
//! shipped commits, the incident links. As plain views, every query derived them
//! again from the lake (the first round's compute spent minutes re-running one
//! newest-version window per query). A [`LazyTable`] runs its plan the first time a
//! query scans it, so one engine derives each table at most once, and a compute that
//! never reads a table (say `--sections cost`) never derives it at all. The result
//! goes to the lake ([`super::materialise`], where the next engine over the same
//! inputs finds it) and, within the engine's budget, into a `MemTable`.
//!
//! The plan is run with the [`Session`] of the query that first scans the table, not
//! a session captured at registration: a captured session would hold the catalog that
//! holds the table, a cycle that would keep every engine `serve` ever built alive.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result as DfResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, collect_partitioned, execute_stream};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::materialise::{DerivedStore, Stored};
use crate::lake::listing::parquet_table;

/// Where a lazy table's rows come from, made with the session of the first query
/// that needs the rows (at most once per table).
#[async_trait]
pub(super) trait Rows: Debug + Send + Sync {
    /// The rows.
    async fn rows(&self, session: &dyn Session) -> DfResult<RowSource>;
}

/// Rows as a plan (its partitions kept apart when collected into memory) or as one
/// stream.
pub(super) enum RowSource {
    /// A physical plan.
    Plan(Arc<dyn ExecutionPlan>),
    /// A stream of batches.
    Stream(SendableRecordBatchStream),
}

impl RowSource {
    fn into_stream(self, session: &dyn Session) -> DfResult<SendableRecordBatchStream> {
        match self {
            RowSource::Plan(plan) => execute_stream(plan, session.task_ctx()),
            RowSource::Stream(stream) => Ok(stream),
        }
    }

    async fn collect(self, session: &dyn Session) -> DfResult<Vec<Vec<RecordBatch>>> {
        match self {
            RowSource::Plan(plan) => collect_partitioned(plan, session.task_ctx()).await,
            RowSource::Stream(stream) => Ok(vec![stream.try_collect().await?]),
        }
    }
}

/// The rows of a logical plan (a view's query).
#[derive(Debug)]
pub(super) struct PlanRows(pub LogicalPlan);

#[async_trait]
impl Rows for PlanRows {
    async fn rows(&self, session: &dyn Session) -> DfResult<RowSource> {
        Ok(RowSource::Plan(
            session.create_physical_plan(&self.0).await?,
        ))
    }
}

/// Runs a logical plan to one list of batches.
pub(super) async fn run_plan_batches(
    plan: &LogicalPlan,
    session: &dyn Session,
) -> DfResult<Vec<RecordBatch>> {
    let physical = session.create_physical_plan(plan).await?;
    Ok(collect_partitioned(physical, session.task_ctx())
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Runs a logical plan as one stream of batches.
pub(super) async fn stream_plan(
    plan: &LogicalPlan,
    session: &dyn Session,
) -> DfResult<SendableRecordBatchStream> {
    let physical = session.create_physical_plan(plan).await?;
    execute_stream(physical, session.task_ctx())
}

/// Where a derived table is kept in the lake: the store and the table's
/// fingerprint there (see [`super::materialise`]).
#[derive(Debug)]
pub(super) struct Keep {
    pub store: Arc<DerivedStore>,
    pub fingerprint: String,
}

/// A table computed on first scan; see the module docs.
#[derive(Debug)]
pub(super) struct LazyTable {
    name: String,
    schema: SchemaRef,
    rows: Arc<dyn Rows>,
    keep: Option<Keep>,
    table: OnceCell<Arc<dyn TableProvider>>,
}

impl LazyTable {
    /// A table named `name` with `schema`, filled from `rows` and kept in the lake
    /// when `keep` says where (else in memory).
    /// Every column is declared nullable: the planner's view of a query's output
    /// nullability can be stricter or looser than the batches it produces, and a
    /// nullable declaration is true either way.
    pub(super) fn new(
        name: &str,
        schema: SchemaRef,
        rows: Arc<dyn Rows>,
        keep: Option<Keep>,
    ) -> LazyTable {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect();
        LazyTable {
            name: name.to_string(),
            schema: Arc::new(Schema::new(fields)),
            rows,
            keep,
            table: OnceCell::new(),
        }
    }

    async fn table(&self, session: &dyn Session) -> DfResult<&Arc<dyn TableProvider>> {
        self.table
            .get_or_try_init(|| async {
                let started = Instant::now();
                let (table, how) = self.derive(session).await?;
                tracing::debug!(
                    table = %self.name,
                    how,
                    ms = started.elapsed().as_millis() as u64,
                    "Derived table."
                );
                Ok(table)
            })
            .await
    }

    /// The table's provider, and how it came about (for the log).
    async fn derive(
        &self,
        session: &dyn Session,
    ) -> DfResult<(Arc<dyn TableProvider>, &'static str)> {
        if let Some(keep) = &self.keep {
            if let Some(stored) = keep.store.find(&self.name, &keep.fingerprint).await {
                return Ok((
                    self.open(&keep.store, stored, session).await?,
                    "found in the lake",
                ));
            }
            let rows = self.rows.rows(session).await?;
            let schema = Arc::clone(&self.schema);
            let conformed = rows
                .into_stream(session)?
                .map(move |b| b.and_then(|b| conform(b, &schema)));
            let stream = Box::pin(RecordBatchStreamAdapter::new(
                Arc::clone(&self.schema),
                conformed,
            ));
            let written = keep
                .store
                .write(
                    &self.name,
                    &keep.fingerprint,
                    Arc::clone(&self.schema),
                    stream,
                )
                .await;
            match written {
                Ok(stored) => {
                    let table = self.open(&keep.store, stored, session).await?;
                    return Ok((table, "derived, kept in the lake"));
                }
                Err(e) => tracing::warn!(
                    table = %self.name,
                    error = %e,
                    "Cannot keep a derived table in the lake; deriving it again into memory."
                ),
            }
        }
        let partitions = self.rows.rows(session).await?.collect(session).await?;
        Ok((self.memory(partitions)?, "derived into memory"))
    }

    /// A provider over rows [`DerivedStore`] kept or found.
    async fn open(
        &self,
        store: &DerivedStore,
        stored: Stored,
        session: &dyn Session,
    ) -> DfResult<Arc<dyn TableProvider>> {
        match stored {
            Stored::Memory(batches) => {
                let n = session.config().target_partitions().max(1);
                let mut partitions = vec![Vec::new(); n];
                for (i, b) in batches.into_iter().enumerate() {
                    partitions[i % n].push(b);
                }
                self.memory(partitions)
            }
            Stored::File { path, into_memory } => {
                let file = parquet_table(&[path], Arc::clone(&self.schema))?;
                if !into_memory {
                    return Ok(file);
                }
                let plan = file.scan(session, None, &[], None).await?;
                let partitions = collect_partitioned(plan, session.task_ctx()).await?;
                store.keep_in_memory(
                    partitions
                        .iter()
                        .flatten()
                        .map(RecordBatch::get_array_memory_size)
                        .sum(),
                );
                self.memory(partitions)
            }
        }
    }

    fn memory(&self, mut partitions: Vec<Vec<RecordBatch>>) -> DfResult<Arc<dyn TableProvider>> {
        if partitions.is_empty() {
            partitions.push(Vec::new());
        }
        let partitions = partitions
            .into_iter()
            .map(|batches| {
                batches
                    .into_iter()
                    .map(|b| conform(b, &self.schema))
                    .collect::<DfResult<Vec<_>>>()
            })
            .collect::<DfResult<Vec<_>>>()?;
        Ok(Arc::new(MemTable::try_new(
            Arc::clone(&self.schema),
            partitions,
        )?))
    }
}

/// `batch` with `schema`'s fields, casting a column whose type differs only in
/// detail (a list's item field, say) from the declared one.
fn conform(batch: RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                cast(column, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

#[async_trait]
impl TableProvider for LazyTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.table(state)
            .await?
            .scan(state, projection, filters, limit)
            .await
    }
}
