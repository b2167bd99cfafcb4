//! Derived tables kept in the lake, named by what they were derived from.
//!
//! A derived table (the newest row versions, production deployments, shipped
//! commits, incident links, allocated cost lines, ...) is written once to
//! `_derived/<table>/<fingerprint>.parquet`, where the fingerprint names everything
//! the table was computed from: the visible files of every lake table its plan
//! reads (file names change with every write and compaction), the fingerprints of
//! the derived tables it reads, its plan, its settings and the binary's sources
//! (see [`super::lineage`]). So:
//!
//! - memory stays bounded by batch: a derived table of tens of millions of rows is
//!   streamed to its file and queries scan the file with column pruning, instead of
//!   every column being held in memory for the whole compute;
//! - a table is derived again only when something it reads changed: a second
//!   `compute`, `report` or server start over the same lake derives nothing, and a
//!   new billing import leaves the shipped commits alone.
//!
//! A file appears whole or not at all (the store's upload renames a completed
//! staging file into place); two processes deriving the same table at once write
//! the same rows under the same name. Superseded generations are deleted once
//! there are [`KEEP_GENERATIONS`] newer ones and they are older than
//! [`KEEP_YOUNGER_THAN`], so an engine opened a moment ago keeps its files.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::AsyncArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::metadata::ParquetMetaDataReader;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use futures::TryStreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::lake::{Lake, ROW_GROUP_ROWS};

/// The lake folder of the derived tables (not a table: readers of tables never
/// list it).
pub const FOLDER: &str = "_derived";

/// Arrow bytes per byte of a derived table's Parquet file, as estimated before
/// reading it into memory (LZ4 on mostly dictionary-encoded strings).
const ARROW_BYTES_PER_FILE_BYTE: u64 = 4;

/// Superseded generations of a table kept besides the current one.
const KEEP_GENERATIONS: usize = 2;

/// Files younger than this are never deleted: an engine may have just opened them.
const KEEP_YOUNGER_THAN: Duration = Duration::from_secs(3600);

/// The `_derived` folder of one lake, and the memory budget of one engine.
///
/// Derived tables are also kept in memory, first come first served, while they fit
/// in the budget (`[engine] derived_memory_mb`): the ones every query reads
/// (production deployments, shipped commits, lead-time samples) are then not
/// decoded again by each query, and the rest are scanned from their files.
#[derive(Debug)]
pub struct DerivedStore {
    store: Arc<dyn ObjectStore>,
    root: ObjectPath,
    budget: usize,
    used: AtomicUsize,
}

/// Where a derived table's rows are, once derived or found.
pub enum Stored {
    /// Small enough to keep (and also written to the lake).
    Memory(Vec<RecordBatch>),
    /// In the lake.
    File {
        /// The object path (for [`crate::lake::listing::parquet_table`]).
        path: String,
        /// Whether the table fits what is left of the memory budget, so the engine
        /// reads it into memory (a file found small enough; never a file just
        /// written, which is a file because its batches did not fit).
        into_memory: bool,
    },
}

impl DerivedStore {
    /// The derived tables of `lake`, keeping up to `budget` bytes of them in memory.
    pub fn new(lake: &Lake, budget: usize) -> DerivedStore {
        DerivedStore {
            store: lake.store(),
            root: lake.object_path(FOLDER),
            budget,
            used: AtomicUsize::new(0),
        }
    }

    fn left(&self) -> usize {
        self.budget
            .saturating_sub(self.used.load(Ordering::Acquire))
    }

    /// Counts `bytes` of batches kept in memory against the budget.
    pub fn keep_in_memory(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::AcqRel);
    }

    fn path(&self, table: &str, fingerprint: &str) -> ObjectPath {
        self.root
            .clone()
            .join(table)
            .join(format!("{fingerprint}.parquet"))
    }

    /// The file of `table` derived from exactly `fingerprint`'s inputs, if any and
    /// readable. A file whose Parquet footer does not read (truncated or replaced by
    /// another tool: a write of ours appears whole) counts as absent, so it is
    /// derived and written again rather than failing every query that reads it.
    pub async fn find(&self, table: &str, fingerprint: &str) -> Option<Stored> {
        let path = self.path(table, fingerprint);
        match self.store.head(&path).await {
            Ok(meta) => {
                if let Err(e) = self.read_footer(&path, meta.size).await {
                    tracing::warn!(table, file = %path, error = %e, "A derived table's file does not read; deriving it again.");
                    return None;
                }
                Some(Stored::File {
                    path: path.to_string(),
                    into_memory: self.fits(meta.size),
                })
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => {
                tracing::warn!(table, error = %e, "Cannot look for a derived table in the lake; deriving it.");
                None
            }
        }
    }

    /// Reads and decodes `path`'s Parquet footer (two small range reads).
    async fn read_footer(&self, path: &ObjectPath, size: u64) -> Result<(), String> {
        const TAIL: u64 = 8;
        if size < TAIL {
            return Err("shorter than a Parquet footer".into());
        }
        let tail = self
            .store
            .get_range(path, size - TAIL..size)
            .await
            .map_err(|e| e.to_string())?;
        if tail.len() != TAIL as usize || &tail[4..] != b"PAR1" {
            return Err("no Parquet magic at the end".into());
        }
        let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
        let start = size
            .checked_sub(TAIL + footer)
            .ok_or("footer longer than the file")?;
        let bytes = self
            .store
            .get_range(path, start..size - TAIL)
            .await
            .map_err(|e| e.to_string())?;
        ParquetMetaDataReader::decode_metadata(&bytes).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Whether a stored table with a file this size fits what is left of the budget.
    fn fits(&self, bytes: u64) -> bool {
        bytes.saturating_mul(ARROW_BYTES_PER_FILE_BYTE) <= self.left() as u64
    }

    /// Writes `rows` as `table`'s file for `fingerprint`, then deletes superseded
    /// generations; the batches come back when they are small enough to keep.
    pub async fn write(
        &self,
        table: &str,
        fingerprint: &str,
        schema: SchemaRef,
        mut rows: SendableRecordBatchStream,
    ) -> DfResult<Stored> {
        let path = self.path(table, fingerprint);
        let props = WriterProperties::builder()
            .set_compression(Compression::LZ4_RAW)
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let sink = BufWriter::new(Arc::clone(&self.store), path.clone());
        let mut writer = AsyncArrowWriter::try_new(sink, schema, Some(props))?;
        let mut kept = Some(Vec::new());
        let mut kept_bytes = 0usize;
        let left = self.left();
        while let Some(batch) = rows.try_next().await? {
            writer.write(&batch).await?;
            kept_bytes += batch.get_array_memory_size();
            if kept_bytes > left {
                kept = None;
            } else if let Some(kept) = kept.as_mut() {
                kept.push(batch);
            }
        }
        let metadata = writer.close().await?;
        tracing::debug!(
            table,
            rows = metadata.file_metadata().num_rows(),
            "Wrote a derived table to the lake."
        );
        self.prune(table, &path).await;
        match kept {
            Some(batches) => {
                self.keep_in_memory(kept_bytes);
                Ok(Stored::Memory(batches))
            }
            None => Ok(Stored::File {
                path: path.to_string(),
                into_memory: false,
            }),
        }
    }

    /// Deletes generations of `table` other than `current` beyond the newest
    /// [`KEEP_GENERATIONS`] and older than [`KEEP_YOUNGER_THAN`] (including staging
    /// files of writes that never finished). Failures only cost disk: logged.
    async fn prune(&self, table: &str, current: &ObjectPath) {
        let folder = self.root.clone().join(table);
        let listed: Result<Vec<ObjectMeta>, _> = self.store.list(Some(&folder)).try_collect().await;
        let mut others = match listed {
            Ok(metas) => metas,
            Err(e) => {
                tracing::warn!(table, error = %e, "Cannot list old derived tables.");
                return;
            }
        };
        others.retain(|m| &m.location != current);
        others.sort_by_key(|m| std::cmp::Reverse(m.last_modified));
        let now = Utc::now();
        let old_enough = |m: &ObjectMeta| {
            (now - m.last_modified)
                .to_std()
                .is_ok_and(|age| age > KEEP_YOUNGER_THAN)
        };
        for meta in others
            .iter()
            .skip(KEEP_GENERATIONS)
            .filter(|m| old_enough(m))
        {
            if let Err(e) = self.store.delete(&meta.location).await {
                tracing::warn!(file = %meta.location, error = %e, "Cannot delete an old derived table.");
            }
        }
    }
}
