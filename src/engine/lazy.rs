//! Tables derived once, on first use, then served from memory.
//!
//! A compute runs about 130 metric queries, and nearly all of them read the same few
//! derived tables: the newest version of each lake row, production deployments, the
//! shipped commits, the incident links. As plain views, every query derived them
//! again from the lake (the first round's compute spent minutes re-running one
//! newest-version window per query). A [`LazyTable`] runs its plan the first time a
//! query scans it and keeps the result as a `MemTable`, so one engine derives each
//! table at most once, and a compute that never reads a table (say `--sections
//! cost`) never derives it at all.
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
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_plan::{ExecutionPlan, collect_partitioned};
use tokio::sync::OnceCell;

/// Where a lazy table's rows come from: partitions of record batches, computed with
/// the session of the first query that needs them.
#[async_trait]
pub(super) trait Rows: Debug + Send + Sync {
    /// Computes the rows (called at most once per table).
    async fn rows(&self, session: &dyn Session) -> DfResult<Vec<Vec<RecordBatch>>>;
}

/// The rows of a logical plan (a view's query), partitioned as the plan runs.
#[derive(Debug)]
pub(super) struct PlanRows(pub LogicalPlan);

#[async_trait]
impl Rows for PlanRows {
    async fn rows(&self, session: &dyn Session) -> DfResult<Vec<Vec<RecordBatch>>> {
        run_plan(&self.0, session).await
    }
}

/// Runs a logical plan to its output partitions.
pub(super) async fn run_plan(
    plan: &LogicalPlan,
    session: &dyn Session,
) -> DfResult<Vec<Vec<RecordBatch>>> {
    let physical = session.create_physical_plan(plan).await?;
    collect_partitioned(physical, session.task_ctx()).await
}

/// Runs a logical plan to one list of batches.
pub(super) async fn run_plan_batches(
    plan: &LogicalPlan,
    session: &dyn Session,
) -> DfResult<Vec<RecordBatch>> {
    Ok(run_plan(plan, session)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// A table computed on first scan and kept in memory; see the module docs.
#[derive(Debug)]
pub(super) struct LazyTable {
    name: String,
    schema: SchemaRef,
    rows: Arc<dyn Rows>,
    table: OnceCell<MemTable>,
}

impl LazyTable {
    /// A table named `name` (for logs) with `schema`, filled from `rows`.
    /// Every column is declared nullable: the planner's view of a query's output
    /// nullability can be stricter or looser than the batches it produces, and a
    /// nullable declaration is true either way.
    pub(super) fn new(name: &str, schema: SchemaRef, rows: Arc<dyn Rows>) -> LazyTable {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect();
        LazyTable {
            name: name.to_string(),
            schema: Arc::new(Schema::new(fields)),
            rows,
            table: OnceCell::new(),
        }
    }

    async fn table(&self, session: &dyn Session) -> DfResult<&MemTable> {
        self.table
            .get_or_try_init(|| async {
                let started = Instant::now();
                let mut partitions = self.rows.rows(session).await?;
                if partitions.is_empty() {
                    partitions.push(Vec::new());
                }
                let rows: usize = partitions.iter().flatten().map(|b| b.num_rows()).sum();
                tracing::debug!(
                    table = %self.name,
                    rows,
                    ms = started.elapsed().as_millis() as u64,
                    "Derived table."
                );
                let partitions = partitions
                    .into_iter()
                    .map(|batches| {
                        batches
                            .into_iter()
                            .map(|b| conform(b, &self.schema))
                            .collect::<DfResult<Vec<_>>>()
                    })
                    .collect::<DfResult<Vec<_>>>()?;
                MemTable::try_new(Arc::clone(&self.schema), partitions)
            })
            .await
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
