//! Compaction: a table's visible files rewritten as a few large files, sorted by the
//! table's [`TableSpec::sort`], holding only the newest version of every key.
//!
//! It streams through DataFusion (a memory pool that spills to `<lake>/_spill/`),
//! so a table larger than memory compacts in bounded memory. It is safe beside
//! readers and writers:
//! - the output is one group, visible in one step like any write (`compact-…`
//!   names tell readers its keys are unique);
//! - rows keep their `_ingested_at`, so during the moment both the old files and
//!   the new group are visible a reader still gets the same newest versions;
//! - then a manifest hides exactly the files it read (a write that landed
//!   meanwhile is not among them and stays visible), and those files are deleted
//!   only after a grace period, by a later sweep: a reader that listed them just
//!   before can still open them. DataFusion would otherwise skip a file that
//!   vanished between listing and scanning without an error, silently losing its
//!   rows for that query.
//!
//! It must never delete a file it did not read.

use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;

use super::Lake;
use super::listing::parquet_table;
use super::names::Origin;
use super::tables::{INGESTED_AT, TableSpec};
use super::writer::TableWriter;
use crate::error::{Error, Result};

/// How long replaced files stay on disk after a compaction by default: longer than
/// any query or `serve` snapshot build takes to go from listing to reading.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// Memory DataFusion may use for compaction's sorts before spilling to disk.
const MEMORY_LIMIT: usize = 256 << 20;

/// Spill files merged at once (more are merged in several rounds).
const SPILL_FAN_IN: usize = 8;

/// How to compact.
#[derive(Debug, Clone, Copy)]
pub struct CompactOptions {
    /// Append superseded row versions to `<table>__history/` instead of dropping them.
    pub keep_history: bool,
    /// How long replaced files stay for readers that listed them before.
    pub grace: Duration,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions {
            keep_history: false,
            grace: DEFAULT_GRACE,
        }
    }
}

/// What compacting one table did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactSummary {
    /// The table.
    pub table: String,
    /// Visible files before.
    pub files_before: usize,
    /// Files of the compacted group (0 when there was nothing to rewrite).
    pub files_after: usize,
    /// Rows kept: one per key.
    pub rows: usize,
    /// Row versions superseded by a newer version of their key.
    pub superseded: usize,
    /// Whether the superseded versions went to `<table>__history/`.
    pub history: bool,
    /// Objects deleted by the sweep (files replaced longer ago than the grace
    /// period, leftovers of killed writes).
    pub removed: usize,
}

/// Compacts `spec`'s table. A table whose visible files already are one compacted
/// group is left as it is (compacting twice changes nothing).
pub async fn compact_table(
    lake: &Lake,
    spec: &TableSpec,
    options: CompactOptions,
) -> Result<CompactSummary> {
    let listing = lake.listing(spec.name).await?;
    let mut summary = CompactSummary {
        table: spec.name.into(),
        files_before: listing.files.len(),
        history: options.keep_history,
        ..CompactSummary::default()
    };
    if !listing.files.is_empty() && !listing.keys_unique() {
        let ctx = session(lake, spec, &listing.files)?;
        let total = count_rows(&ctx, spec).await?;
        // History first: a crash after it leaves the table as it was (and a re-run
        // writes the same history files); the other order could hide superseded
        // versions that never reached the history.
        if options.keep_history {
            let history = lake
                .begin_write(spec)
                .compacting(&format!("{}__history", spec.name), Origin::Part);
            let history = stream_into(&ctx, spec, &superseded_sql(spec), history).await?;
            history.commit_replacing(&[]).await?;
        }
        let writer = lake
            .begin_write(spec)
            .compacting(spec.name, Origin::Compact);
        let writer = stream_into(&ctx, spec, &newest_sql(spec), writer).await?;
        let written = writer.commit_replacing(&listing.files).await?;
        summary.files_after = written.files.len();
        summary.rows = written.rows;
        summary.superseded = total.saturating_sub(written.rows);
        tracing::info!(
            table = spec.name,
            files_before = summary.files_before,
            files_after = summary.files_after,
            rows = summary.rows,
            superseded = summary.superseded,
            "Compacted a table."
        );
    }
    summary.removed = lake.sweep(spec.name, options.grace).await?;
    Ok(summary)
}

/// A DataFusion session with the visible files registered as `input`, its memory
/// bounded and spilling under the lake.
fn session(lake: &Lake, spec: &TableSpec, files: &[String]) -> Result<SessionContext> {
    let label = format!("compact {}", spec.name);
    let spill = lake.local_root().join("_spill");
    std::fs::create_dir_all(&spill).map_err(|source| Error::Io {
        path: spill.clone(),
        source,
    })?;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(MEMORY_LIMIT)))
        .with_temp_file_path(spill)
        // Each spill file being merged holds a batch outside the pool; wide rows
        // (costs) make an unbounded fan-in cost hundreds of megabytes.
        .with_max_spill_merge_fan_in(SPILL_FAN_IN)
        .build_arc()
        .map_err(|e| Error::query(&label, e))?;
    // One partition: the dedupe sort and the output sort each get the whole pool
    // instead of sharing it four ways, which wide tables (costs) need to spill
    // rather than fail; compaction is one stream into one writer anyway.
    let config = SessionConfig::new().with_target_partitions(1);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    let table = parquet_table(files, spec.stored_schema()).map_err(|e| Error::query(&label, e))?;
    ctx.register_table("input", table)
        .map_err(|e| Error::query(&label, e))?;
    Ok(ctx)
}

fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every stored column with its version rank (1 = newest of its key). Glue, not a
/// metric: identifiers come from the static table specs.
fn ranked_sql(spec: &TableSpec) -> String {
    format!(
        "SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY \"{INGESTED_AT}\" DESC) \
         AS _version_rank FROM input",
        keys = quoted(spec.key),
    )
}

fn stored_columns(spec: &TableSpec) -> String {
    let mut columns: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    columns.push(INGESTED_AT);
    quoted(&columns)
}

/// The newest version of every key, in the table's sort order then by key, so the
/// same rows always come out in the same order (and name the same files).
fn newest_sql(spec: &TableSpec) -> String {
    format!(
        "SELECT {columns} FROM ({ranked}) WHERE _version_rank = 1 ORDER BY {sort}, {keys}",
        columns = stored_columns(spec),
        ranked = ranked_sql(spec),
        sort = quoted(spec.sort),
        keys = quoted(spec.key),
    )
}

/// The versions a newer one superseded, by key then time.
fn superseded_sql(spec: &TableSpec) -> String {
    format!(
        "SELECT {columns} FROM ({ranked}) WHERE _version_rank > 1 \
         ORDER BY {keys}, \"{INGESTED_AT}\"",
        columns = stored_columns(spec),
        ranked = ranked_sql(spec),
        keys = quoted(spec.key),
    )
}

async fn count_rows(ctx: &SessionContext, spec: &TableSpec) -> Result<usize> {
    let label = format!("compact {}", spec.name);
    let df = ctx
        .sql("SELECT count(*) AS n FROM input")
        .await
        .map_err(|e| Error::query(&label, e))?;
    let batches = df.collect().await.map_err(|e| Error::query(&label, e))?;
    let n = batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0);
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Runs `sql` and writes its batches as they come; on failure the staged parts
/// are removed and the writer is gone.
async fn stream_into(
    ctx: &SessionContext,
    spec: &TableSpec,
    sql: &str,
    mut writer: TableWriter,
) -> Result<TableWriter> {
    match write_query(ctx, spec, sql, &mut writer).await {
        Ok(()) => Ok(writer),
        Err(e) => {
            writer.abort().await?;
            Err(e)
        }
    }
}

async fn write_query(
    ctx: &SessionContext,
    spec: &TableSpec,
    sql: &str,
    writer: &mut TableWriter,
) -> Result<()> {
    let label = format!("compact {}", spec.name);
    let df = ctx.sql(sql).await.map_err(|e| Error::query(&label, e))?;
    let mut stream = df
        .execute_stream()
        .await
        .map_err(|e| Error::query(&label, e))?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| Error::query(&label, e))?;
        writer.write_batch(&batch).await?;
    }
    Ok(())
}
