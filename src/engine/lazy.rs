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
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::SessionState;
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

    /// The table's provider, and how it came about (for the log). A plan whose
    /// hash joins do not fit the memory pool is planned again with sort-merge
    /// joins (see [`spilling_joins`]).
    async fn derive(
        &self,
        session: &dyn Session,
    ) -> DfResult<(Arc<dyn TableProvider>, &'static str)> {
        match self.derive_with(session).await {
            Err(e) if out_of_memory(&e) => {
                tracing::info!(
                    table = %self.name,
                    error = %e.find_root(),
                    "Hash joins exceed the memory pool; deriving the table again with sort-merge joins, which spill."
                );
                let Some(state) = spilling_joins(session) else {
                    return Err(e);
                };
                self.derive_with(&state).await
            }
            other => other,
        }
    }

    async fn derive_with(
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
                Err(e) if out_of_memory(&e) => return Err(e),
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

/// Whether `e` is the memory pool refusing an operator that cannot spill (in
/// DataFusion 55, a hash join's build side).
pub(super) fn out_of_memory(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
}

/// `session`'s state planning sort-merge joins instead of hash joins. Hash joins
/// are faster but hold their whole build side in memory and cannot spill; a sort-
/// merge join's sorts spill, so its memory is bounded whatever the table sizes.
/// Only the queries whose hash joins did not fit are planned again this way (at
/// scale, the lead-time samples join tens of millions of shipped commits).
pub(super) fn spilling_joins(session: &dyn Session) -> Option<SessionState> {
    let mut state = session.as_any().downcast_ref::<SessionState>()?.clone();
    let options = state.config_mut().options_mut();
    options.optimizer.prefer_hash_join = false;
    // DataFusion plans sort-merge joins only over repartitioned inputs.
    options.optimizer.repartition_joins = true;
    options.execution.target_partitions = options.execution.target_partitions.max(2);
    Some(state)
}

/// `batch` with `schema`'s fields, casting a column whose type differs only in
/// detail (a list's item field, say) from the declared one. Columns are matched by
/// name: a physical plan may order them differently from its logical plan (a
/// sort-merge join puts its inputs' columns in its own order).
fn conform(batch: RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    let given = batch.schema();
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let at = given.index_of(field.name()).unwrap_or(i);
            let column = batch.columns().get(at).ok_or_else(|| {
                DataFusionError::Internal(format!("derived rows lack column `{}`", field.name()))
            })?;
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

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::DataType;
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;

    /// `rows` rows of `(k, padding)`: a wide build side for a hash join.
    fn table(rows: i64) -> Arc<MemTable> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("padding", DataType::Utf8, false),
        ]));
        let batches = (0..rows)
            .step_by(4096)
            .map(|start| {
                let keys: Vec<i64> = (start..(start + 4096).min(rows)).collect();
                let padding: Vec<String> = keys.iter().map(|k| format!("{k:0>120}")).collect();
                RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![
                        Arc::new(Int64Array::from(keys)),
                        Arc::new(StringArray::from(padding)),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .expect("batch");
        Arc::new(MemTable::try_new(schema, vec![batches]).expect("table"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_join_that_does_not_fit_the_pool_is_derived_with_sort_merge_joins() {
        // 1.6 million rows of ~130 bytes: a hash join's build side needs ~210 MiB,
        // the pool has 176 MiB, enough for the sorts of a sort-merge join to spill.
        let pool = Arc::new(FairSpillPool::new(176 * 1024 * 1024));
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(pool)
            .build_arc()
            .expect("runtime");
        let config = SessionConfig::new().with_target_partitions(1);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        ctx.register_table("a", table(1_600_000)).expect("a");
        ctx.register_table("b", table(1_600_000)).expect("b");
        let sql = "SELECT a.k, a.padding AS pa, b.padding AS pb FROM a JOIN b ON a.k = b.k";
        let hash = ctx.sql(sql).await.expect("plan").collect().await;
        assert!(
            hash.as_ref().is_err_and(out_of_memory),
            "the hash join alone fails: {hash:?}"
        );

        let plan = ctx.sql(sql).await.expect("plan").logical_plan().clone();
        let schema = Arc::new(plan.schema().as_arrow().clone());
        let lazy = LazyTable::new("joined", schema, Arc::new(PlanRows(plan)), None);
        ctx.register_table("joined", Arc::new(lazy))
            .expect("joined");
        let counted = ctx
            .sql("SELECT count(*) AS n, sum(k) AS total FROM joined")
            .await
            .expect("plan")
            .collect()
            .await
            .expect("derived with sort-merge joins");
        let n = counted[0].column(0).as_any().downcast_ref::<Int64Array>();
        assert_eq!(n.map(|n| n.value(0)), Some(1_600_000));
        let total = counted[0].column(1).as_any().downcast_ref::<Int64Array>();
        assert_eq!(total.map(|t| t.value(0)), Some(1_599_999 * 1_600_000 / 2));
    }
}
