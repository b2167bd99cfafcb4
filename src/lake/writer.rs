//! One write of any size: rows go in batch by batch, leave in parts of bounded size,
//! and become visible all at once on [`TableWriter::commit`] (or never).
//!
//! How (ARCHITECTURE.md, "The lake"): each full part is encoded and put under
//! `<lake>/_staging/<write id>/`, which no reader lists. Commit names the group
//! after the parts' content hashes and renames the parts into the table folder as
//! `part-<group>-<k>of<n>.parquet`; readers count a group only when all `n` parts
//! are there, so the last rename is the moment the whole write appears. The same
//! rows give the same names, so re-running an import replaces its files with equal
//! rows (newly stamped) and adds none. A write of one part keeps the name every
//! write had before, `part-<content hash>.parquet`.
//!
//! Memory is one part's rows (about [`PartTarget::default`]) plus its encoding,
//! whatever the size of the write.
//!
//! [`TableWriter::commit`] is defined in `auto_compact.rs`: after a commit it
//! may compact the table, and compaction writes through this writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use super::encode::{
    content_hash, encode_parquet, hex_prefix, last_row_per_key, slice_bytes, with_ingested_at,
};
use super::listing::{MANIFEST_SUFFIX, STAGING};
use super::names::{FileName, Origin};
use super::tables::TableSpec;
use super::{Lake, WriteSummary, next_ingest_time};
use crate::error::{Error, Result};

/// When a part is full: whichever limit its buffered rows reach first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartTarget {
    /// Rows per part.
    pub rows: usize,
    /// Bytes of Arrow data per part (uncompressed, as held in memory).
    pub bytes: usize,
}

impl Default for PartTarget {
    /// About a million rows or 128 MB: files large enough for fast scans, small
    /// enough that a part and its encoding stay well under a gigabyte in memory.
    fn default() -> Self {
        PartTarget {
            rows: 1 << 20,
            bytes: 128 << 20,
        }
    }
}

struct StagedPart {
    location: ObjectPath,
    hash: String,
    rows: usize,
}

/// An open write to one table folder. Dropping it without [`TableWriter::commit`]
/// writes nothing visible; its staged parts are removed by [`TableWriter::abort`]
/// or, after a crash, by [`Lake::sweep`].
pub struct TableWriter {
    lake: Lake,
    spec: TableSpec,
    folder: String,
    origin: Origin,
    /// Whether this writer stamps `_ingested_at` (an ordinary write) or keeps the
    /// rows' own (compaction, which must not make old versions look new).
    stamp: bool,
    schema: SchemaRef,
    target: PartTarget,
    staging: ObjectPath,
    buffer: Vec<RecordBatch>,
    buffered_rows: usize,
    buffered_bytes: usize,
    staged: Vec<StagedPart>,
}

fn write_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Lake {
    /// Opens a write to `spec`'s table. Batches carry the table's columns in order,
    /// without `_ingested_at`.
    pub fn begin_write(&self, spec: &TableSpec) -> TableWriter {
        let fields: Vec<_> = spec.stored_schema().fields()[..spec.columns.len()].to_vec();
        TableWriter {
            lake: self.clone(),
            spec: spec.clone(),
            folder: spec.name.to_string(),
            origin: Origin::Part,
            stamp: true,
            schema: Arc::new(Schema::new(fields)),
            target: PartTarget::default(),
            staging: self
                .root
                .clone()
                .join(STAGING)
                .join(format!("{}-{}", spec.name, write_id())),
            buffer: Vec::new(),
            buffered_rows: 0,
            buffered_bytes: 0,
            staged: Vec::new(),
        }
    }
}

impl TableWriter {
    /// Keeps the rows' own `_ingested_at` (batches then carry it as their last
    /// column) and marks the output as compacted: unique keys, no dedupe here.
    pub(super) fn compacting(mut self, folder: &str, origin: Origin) -> TableWriter {
        self.stamp = false;
        self.schema = self.spec.stored_schema();
        self.folder = folder.to_string();
        self.origin = origin;
        self
    }

    /// Uses another part size (tests use small ones to get many parts).
    pub fn with_target(mut self, target: PartTarget) -> TableWriter {
        self.target = target;
        self
    }

    /// The lake written to.
    pub(super) fn lake(&self) -> &Lake {
        &self.lake
    }

    /// The table written.
    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    /// Rows staged or buffered so far.
    pub fn rows(&self) -> usize {
        self.buffered_rows + self.staged.iter().map(|p| p.rows).sum::<usize>()
    }

    /// Adds rows; stages a part whenever one is full.
    pub async fn write_batch(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), batch.columns().to_vec())
            .map_err(|e| Error::encode(&self.folder, e))?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rest = batch.slice(offset, batch.num_rows() - offset);
            let take = self.rows_that_fit(&rest);
            self.buffered_bytes += slice_bytes(&rest.slice(0, take));
            self.buffered_rows += take;
            self.buffer.push(rest.slice(0, take));
            offset += take;
            if self.buffered_rows >= self.target.rows || self.buffered_bytes >= self.target.bytes {
                self.stage_part().await?;
            }
        }
        Ok(())
    }

    /// How many leading rows of `rest` fit in the current part (at least one, so a
    /// single huge row still makes progress).
    fn rows_that_fit(&self, rest: &RecordBatch) -> usize {
        let by_rows = self.target.rows.saturating_sub(self.buffered_rows);
        let per_row = (slice_bytes(rest) / rest.num_rows().max(1)).max(1);
        let by_bytes = self.target.bytes.saturating_sub(self.buffered_bytes) / per_row;
        by_rows.min(by_bytes).clamp(1, rest.num_rows())
    }

    /// Encodes the buffered rows as one part and puts it in the staging folder.
    async fn stage_part(&mut self) -> Result<()> {
        if self.buffered_rows == 0 {
            return Ok(());
        }
        let buffered = std::mem::take(&mut self.buffer);
        self.buffered_rows = 0;
        self.buffered_bytes = 0;
        let (schema, spec, folder, stamp) = (
            Arc::clone(&self.schema),
            self.spec.clone(),
            self.folder.clone(),
            self.stamp,
        );
        // Concatenating, hashing and ZSTD-encoding a part takes seconds of CPU: off
        // the async workers, so a server writing a big batch keeps answering.
        let (hash, bytes, count) = tokio::task::spawn_blocking(move || {
            encode_part(&schema, &spec, &folder, stamp, &buffered)
        })
        .await
        .map_err(|e| Error::encode(&self.folder, e))??;
        let location = self
            .staging
            .clone()
            // Not `.parquet`: nothing that watches the lake's Parquet files (the
            // server's change detection) should react to a write still in progress.
            .join(format!("{}.staged", self.staged.len() + 1));
        self.lake.put(&location, bytes).await?;
        tracing::debug!(table = %self.folder, rows = count, file = %location, "Staged a part.");
        self.staged.push(StagedPart {
            location,
            hash,
            rows: count,
        });
        Ok(())
    }

    /// Makes every part visible at once (see the module docs), then records that
    /// `replaced` (object paths of the same folder) are superseded by this write:
    /// from then on readers skip them. Never compacts: compaction commits through
    /// here, and [`TableWriter::commit`] adds the automatic compaction.
    pub(super) async fn commit_replacing(mut self, replaced: &[String]) -> Result<WriteSummary> {
        self.stage_part().await?;
        let mut summary = WriteSummary {
            table: self.folder.clone(),
            rows: self.staged.iter().map(|p| p.rows).sum(),
            files: Vec::new(),
        };
        if self.staged.is_empty() {
            return Ok(summary);
        }
        let group = self.group();
        let dir = self.lake.root.clone().join(self.folder.as_str());
        let parts = self.staged.len();
        for (i, part) in self.staged.iter().enumerate() {
            let name = FileName::new(self.origin, &group, i + 1, parts).to_string();
            let target = dir.clone().join(name.as_str());
            self.lake.move_into_place(&part.location, &target).await?;
            summary.files.push(target.to_string());
        }
        self.lake.remove_local_dir(&self.staging);
        let replaced: Vec<&str> = replaced
            .iter()
            .filter(|r| !summary.files.contains(r))
            .filter_map(|r| r.rsplit('/').next())
            .collect();
        if !replaced.is_empty() {
            let manifest = dir.join(format!("{}-{group}{MANIFEST_SUFFIX}", self.origin.prefix()));
            self.lake
                .put(&manifest, replaced.join("\n").into_bytes())
                .await?;
        }
        tracing::debug!(table = %self.folder, rows = summary.rows, parts, "Committed a write.");
        Ok(summary)
    }

    /// The group id: a single part's own content hash (the pre-multi-file name), or
    /// a hash over all parts' hashes in order.
    fn group(&self) -> String {
        if let [only] = self.staged.as_slice() {
            return only.hash.clone();
        }
        let mut hasher = Sha256::new();
        for part in &self.staged {
            hasher.update(part.hash.as_bytes());
            hasher.update(b"\n");
        }
        hex_prefix(&hasher.finalize(), 16)
    }

    /// Removes the staged parts: nothing of this write becomes visible.
    pub async fn abort(self) -> Result<()> {
        for part in &self.staged {
            self.lake.delete_if_present(&part.location).await?;
        }
        self.lake.remove_local_dir(&self.staging);
        tracing::debug!(table = %self.folder, parts = self.staged.len(), "Aborted a write.");
        Ok(())
    }
}

/// One part's file: its content hash, Parquet bytes and row count.
fn encode_part(
    schema: &SchemaRef,
    spec: &TableSpec,
    folder: &str,
    stamp: bool,
    buffered: &[RecordBatch],
) -> Result<(String, Vec<u8>, usize)> {
    let rows = concat_batches(schema, buffered).map_err(|e| Error::encode(folder, e))?;
    if !stamp {
        return Ok((
            content_hash(&rows)?,
            encode_parquet(folder, &rows)?,
            rows.num_rows(),
        ));
    }
    // Repeated keys collapse to the last row within a part; across parts a later
    // part gets a later `_ingested_at`, so newest-wins picks the last.
    let rows = last_row_per_key(spec, &rows)?;
    let hash = content_hash(&rows)?;
    let stored = with_ingested_at(spec, &rows, next_ingest_time())?;
    Ok((hash, encode_parquet(folder, &stored)?, rows.num_rows()))
}

impl Lake {
    pub(super) async fn put(&self, location: &ObjectPath, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(location, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|source| Error::Lake {
                path: location.to_string(),
                source,
            })
    }

    /// Renames a staged part into place, replacing a file of the same name: the same
    /// rows written again are a newer import of them (their new `_ingested_at`
    /// makes them current again, as an older export re-imported must be).
    async fn move_into_place(&self, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
        self.store
            .rename(from, to)
            .await
            .map_err(|source| Error::Lake {
                path: to.to_string(),
                source,
            })
    }

    /// Removes an emptied staging folder. The local store leaves empty folders
    /// behind; a bucket has none, and a leftover is harmless, so failure is ignored.
    fn remove_local_dir(&self, location: &ObjectPath) {
        let relative = location
            .prefix_match(&self.root)
            .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>());
        if let Some(parts) = relative {
            let dir = parts.iter().fold(self.local_root.clone(), |d, p| d.join(p));
            let _ = std::fs::remove_dir(dir);
        }
    }
}
