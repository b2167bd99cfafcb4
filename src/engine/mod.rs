//! The query engine: one DataFusion `SessionContext` over the lake.
//!
//! Opening an engine registers, in order: every lake table as `<table>__versions`
//! (all row versions, as stored) and `<table>` (the newest version per natural key);
//! the staging views enrichment reads; the derived tables of [`crate::enrich`]; then
//! the staging views over those. Queries bind parameters through DataFusion's
//! placeholders: user input is never formatted into SQL text.

mod allocation;
pub mod columns;
mod cost_tables;
pub mod custom;
mod derived;
pub mod focus_checks;
pub mod header;
mod lazy;
mod lineage;
pub mod materialise;
pub mod queries;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::ParamValues;
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::config::{Config, CostConfig, EngineConfig, MetricSettings};
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::listing::parquet_table;
use crate::lake::tables::{self, INGESTED_AT, TableSpec};
use lazy::{Keep, LazyTable, PlanRows};
use lineage::Lineage;
use materialise::DerivedStore;

/// Derived tables and views read from the lake by every query that uses them rather
/// than kept in memory once derived (see [`lazy`]): the billing lines can be tens of
/// millions of wide rows, and the cost queries read them through `cost_lines`.
const STREAMED: &[&str] = &["costs", "billing_lines"];

/// Named query parameters.
pub type Params = HashMap<String, ScalarValue>;

/// A query engine over one lake.
pub struct Engine {
    ctx: SessionContext,
    custom: Vec<custom::CustomMetric>,
    /// What each registered table was computed from.
    lineage: Lineage,
    /// Where derived tables are kept (None: in memory, `[engine] derived_in_lake`).
    derived: Option<Arc<DerivedStore>>,
}

impl Engine {
    /// Registers the lake, runs enrichment and registers every view, with the
    /// default cost allocation (the `team` and `service` tags).
    pub async fn open(lake: &Lake, settings: &MetricSettings) -> Result<Engine> {
        Engine::open_with_cost(lake, settings, &CostConfig::default()).await
    }

    /// [`Engine::open`] with the metric settings, `[cost]` and `[engine]` of `config`.
    pub async fn for_config(lake: &Lake, config: &Config) -> Result<Engine> {
        Engine::open_with(lake, &config.metrics, &config.cost, &config.engine).await
    }

    /// [`Engine::open`] with explicit cost allocation rules, budgets and rates.
    pub async fn open_with_cost(
        lake: &Lake,
        settings: &MetricSettings,
        cost: &CostConfig,
    ) -> Result<Engine> {
        Engine::open_with(lake, settings, cost, &EngineConfig::default()).await
    }

    /// [`Engine::open_with_cost`] with a memory limit and spill folder.
    pub async fn open_with(
        lake: &Lake,
        settings: &MetricSettings,
        cost: &CostConfig,
        limits: &EngineConfig,
    ) -> Result<Engine> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config_rt(config, runtime(limits)?);
        let engine = Engine {
            ctx,
            custom: Vec::new(),
            lineage: Lineage::default(),
            derived: limits.derived_in_lake.then(|| {
                let budget = limits.derived_memory_mb.saturating_mul(1024 * 1024);
                Arc::new(DerivedStore::new(
                    lake,
                    usize::try_from(budget).unwrap_or(usize::MAX),
                ))
            }),
        };
        for spec in tables::all_tables() {
            engine.register_lake_table(lake, &spec).await?;
        }
        engine
            .register_views(&queries::staging("before_enrich"))
            .await?;
        engine.register_derived(settings).await?;
        engine.register_cost_tables(cost).await?;
        engine
            .register_views(&queries::staging("after_enrich"))
            .await?;
        Ok(engine)
    }

    /// The underlying DataFusion context.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    async fn register_lake_table(&self, lake: &Lake, spec: &TableSpec) -> Result<()> {
        let versions = format!("{}__versions", spec.name);
        let schema = spec.stored_schema();
        let listing = lake.listing(spec.name).await?;
        let provider: Arc<dyn TableProvider> = if listing.files.is_empty() {
            Arc::new(
                MemTable::try_new(schema, vec![vec![]]).map_err(|e| Error::query(&versions, e))?,
            )
        } else {
            parquet_table(&listing.files, schema).map_err(|e| Error::query(&versions, e))?
        };
        self.lineage.files(&versions, &listing.versions);
        self.ctx
            .register_table(versions.as_str(), provider)
            .map_err(|e| Error::query(&versions, e))?;
        // One file never holds two versions of a key (the writer keeps the last), nor
        // does one compacted group, so those need no newest-version window.
        if listing.files.len() <= 1 || listing.keys_unique() {
            // Nothing to derive: queries read the files directly, with their column
            // and row-group pruning, and nothing is held in memory for them.
            return self
                .register_plain_view(spec.name, &format!("SELECT * FROM \"{versions}\""))
                .await;
        }
        // Glue, not a metric: identifiers come from the static table specs.
        let keys: Vec<String> = spec.key.iter().map(|k| format!("\"{k}\"")).collect();
        let newest = format!(
            "SELECT * EXCLUDE (_version_rank) FROM (\
             SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY \"{INGESTED_AT}\" DESC) \
             AS _version_rank FROM \"{versions}\") WHERE _version_rank = 1",
            keys = keys.join(", "),
        );
        self.register_view(spec.name, &newest).await
    }

    async fn register_views(&self, views: &[(&str, &str)]) -> Result<()> {
        for (name, sql) in views {
            self.register_view(name, sql).await?;
        }
        Ok(())
    }

    /// Registers `sql` as `name`: a [`LazyTable`], derived once on first use, or a
    /// plain view for the [`STREAMED`] ones.
    async fn register_view(&self, name: &str, sql: &str) -> Result<()> {
        if STREAMED.contains(&name) {
            return self.register_plain_view(name, sql).await;
        }
        let df = self.ctx.sql(sql).await.map_err(|e| Error::query(name, e))?;
        let schema = Arc::clone(df.schema().inner());
        let plan = df.logical_plan().clone();
        let fingerprint = self.lineage.derived(name, &[&plan], "");
        self.register_lazy(name, schema, Arc::new(PlanRows(plan)), fingerprint)
    }

    /// Registers `sql` as a view: run again by every query that reads it.
    async fn register_plain_view(&self, name: &str, sql: &str) -> Result<()> {
        let df = self.ctx.sql(sql).await.map_err(|e| Error::query(name, e))?;
        self.lineage.derived(name, &[df.logical_plan()], "");
        self.ctx
            .register_table(name, df.into_view())
            .map_err(|e| Error::query(name, e))?;
        Ok(())
    }

    /// Registers a [`LazyTable`] named `name` with `schema`, filled from `rows`,
    /// kept in the lake under `fingerprint` unless derived tables stay in memory.
    fn register_lazy(
        &self,
        name: &str,
        schema: datafusion::arrow::datatypes::SchemaRef,
        rows: Arc<dyn lazy::Rows>,
        fingerprint: String,
    ) -> Result<()> {
        let keep = self.derived.as_ref().map(|store| Keep {
            store: Arc::clone(store),
            fingerprint,
        });
        let table = LazyTable::new(name, schema, rows, keep);
        self.ctx
            .register_table(name, Arc::new(table))
            .map_err(|e| Error::query(name, e))?;
        Ok(())
    }

    /// Reads the custom metric files of `dir` (see [`custom`]); `custom/<name>`
    /// then runs them.
    pub fn load_custom(&mut self, dir: &std::path::Path) -> Result<()> {
        self.custom = custom::load_dir(dir)?;
        Ok(())
    }

    /// The custom metrics loaded, by file name.
    pub fn custom_metrics(&self) -> &[custom::CustomMetric] {
        &self.custom
    }

    /// Runs a metric query by id: one from `queries/` or a loaded `custom/<name>`.
    pub async fn run_query(&self, id: &str, params: &Params) -> Result<Vec<RecordBatch>> {
        let custom = id
            .strip_prefix("custom/")
            .and_then(|name| self.custom.iter().find(|m| m.name == name))
            .map(|m| m.sql.as_str());
        let sql = queries::metric_sql(id)
            .or(custom)
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
        let started = std::time::Instant::now();
        let batches = match run_sql(&self.ctx, sql, params).await {
            Err(e) if lazy::out_of_memory(&e) => {
                tracing::info!(
                    query = label,
                    "Hash joins exceed the memory pool; running the query again with sort-merge joins, which spill."
                );
                let state = lazy::spilling_joins(&self.ctx.state()).ok_or(e);
                match state {
                    Ok(state) => run_sql(&SessionContext::new_with_state(state), sql, params).await,
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
        .map_err(|e| Error::query(label, e))?;
        tracing::debug!(
            query = label,
            ms = started.elapsed().as_millis() as u64,
            "Ran query."
        );
        Ok(batches)
    }
}

/// Runs `sql` with named parameters in `ctx`.
async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    params: &Params,
) -> datafusion::error::Result<Vec<RecordBatch>> {
    let df = ctx.sql(sql).await?;
    let df = if params.is_empty() {
        df
    } else {
        df.with_param_values(ParamValues::from(params.clone()))?
    };
    df.collect().await
}

/// The runtime: a memory pool shared fairly by the operators that can spill (sorts,
/// aggregations), spilling to `[engine] spill_dir` or the temporary folder.
fn runtime(limits: &EngineConfig) -> Result<Arc<RuntimeEnv>> {
    let bytes =
        usize::try_from(limits.memory_limit_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
    let mut builder =
        RuntimeEnvBuilder::new().with_memory_pool(Arc::new(FairSpillPool::new(bytes)));
    if let Some(dir) = &limits.spill_dir {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc().map_err(|e| Error::query("engine", e))
}
