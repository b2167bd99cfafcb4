//! The Parquet lake: one folder per canonical table, one immutable Parquet file per
//! write, on `object_store` so a local folder and a bucket are the same code.
//!
//! Guarantees (see ARCHITECTURE.md, "The lake"):
//! - **Atomic**: a file appears whole or not at all (`put` stages and renames).
//! - **Idempotent**: a file's name is the hash of its rows, so writing the same rows
//!   again rewrites the same file; a record written again with new content lands in a
//!   new file and the engine keeps, per natural key, the version with the newest
//!   `_ingested_at`.
//!
//! The lake never interprets rows; it only stores and lists them.

pub mod batch;
mod existing;
pub mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use batch::{BatchBuilder, Value};
use tables::{TableSpec, UTC};

/// What [`Lake::write_changed`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Changed {
    /// Rows with a key the lake did not hold.
    pub new: usize,
    /// Rows replacing a stored version with different values.
    pub updated: usize,
}

impl Changed {
    /// New plus updated.
    pub fn total(&self) -> usize {
        self.new + self.updated
    }
}

/// A lake location and the store behind it.
#[derive(Clone, Debug)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    root: ObjectPath,
    url: String,
    local_root: PathBuf,
    snapshots: existing::Snapshots,
}

/// What one write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// Table written.
    pub table: String,
    /// Rows in the file (after collapsing repeated keys within the batch).
    pub rows: usize,
    /// Object path of the file.
    pub file: String,
}

impl Lake {
    /// Opens (and creates) a lake in a local folder.
    pub fn open_local(dir: &Path) -> Result<Lake> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let abs = std::fs::canonicalize(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let root = ObjectPath::from_absolute_path(&abs).map_err(|e| Error::Config {
            key: "lake.path".into(),
            reason: format!("{}: {e}", abs.display()),
        })?;
        Ok(Lake {
            store: Arc::new(LocalFileSystem::new()),
            url: format!("file:///{root}"),
            root,
            local_root: abs,
            snapshots: existing::Snapshots::default(),
        })
    }

    /// The store, for registering with the query engine.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// The local folder of the lake.
    pub fn local_root(&self) -> &Path {
        &self.local_root
    }

    /// URL of a table's folder (ends with `/`), as DataFusion lists it.
    pub fn table_url(&self, table: &str) -> String {
        format!("{}/{table}/", self.url)
    }

    /// The Parquet files of a table, sorted by path.
    pub async fn files(&self, table: &str) -> Result<Vec<String>> {
        let prefix = self.root.clone().join(table);
        let mut files: Vec<String> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_filter(|p| futures::future::ready(p.ends_with(".parquet")))
            .try_collect()
            .await
            .map_err(|source| Error::Lake {
                path: prefix.to_string(),
                source,
            })?;
        files.sort();
        Ok(files)
    }

    /// Writes typed rows (in `spec`'s column order) as one file; see [`Lake::write`].
    pub async fn write_rows(&self, spec: &TableSpec, rows: &[Vec<Value>]) -> Result<WriteSummary> {
        let mut builder = BatchBuilder::new(spec);
        for row in rows {
            builder.push(row)?;
        }
        self.write(spec, &builder.finish()?).await
    }

    /// Writes only the rows that are new or differ from the newest stored version of
    /// their key. Collectors use this so that re-reading an overlap window, or a whole
    /// unchanged source, adds no file.
    pub async fn write_changed(&self, spec: &TableSpec, rows: Vec<Vec<Value>>) -> Result<Changed> {
        if rows.is_empty() {
            return Ok(Changed::default());
        }
        let mut builder = BatchBuilder::new(spec);
        for row in &rows {
            builder.push(row)?;
        }
        let batch = last_row_per_key(spec, &builder.finish()?)?;
        let (changed, updated) = self.only_changed(spec, batch).await?;
        let rows = self.write(spec, &changed).await?.rows;
        Ok(Changed {
            new: rows - updated,
            updated,
        })
    }

    /// Writes a batch of `spec`'s rows as one new, immutable Parquet file.
    ///
    /// Rows repeating a natural key within the batch collapse to the last one. An empty
    /// batch writes nothing.
    pub async fn write(&self, spec: &TableSpec, batch: &RecordBatch) -> Result<WriteSummary> {
        let batch = last_row_per_key(spec, batch)?;
        if batch.num_rows() == 0 {
            return Ok(WriteSummary {
                table: spec.name.into(),
                rows: 0,
                file: String::new(),
            });
        }
        let name = format!("part-{}.parquet", content_hash(&batch)?);
        let stored = with_ingested_at(spec, &batch, next_ingest_time())?;
        let bytes = encode_parquet(spec.name, &stored)?;
        let location = self.root.clone().join(spec.name).join(name.as_str());
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|source| Error::Lake {
                path: location.to_string(),
                source,
            })?;
        tracing::debug!(table = spec.name, rows = stored.num_rows(), file = %location, "Wrote lake file.");
        Ok(WriteSummary {
            table: spec.name.into(),
            rows: stored.num_rows(),
            file: location.to_string(),
        })
    }
}

/// Strictly increasing microsecond timestamps within the process, so two writes in
/// the same microsecond still order.
fn next_ingest_time() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_micros();
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(prev + 1);
        match LAST.compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => prev = actual,
        }
    }
}

fn last_row_per_key(spec: &TableSpec, batch: &RecordBatch) -> Result<RecordBatch> {
    let keys = existing::render_rows(batch, spec.key, spec.name)?;
    let mut last = std::collections::HashMap::with_capacity(keys.len());
    for (row, key) in keys.iter().enumerate() {
        last.insert(key.as_str(), row);
    }
    if last.len() == keys.len() {
        return Ok(batch.clone());
    }
    let keep: Vec<u32> = keys
        .iter()
        .enumerate()
        .filter(|(row, key)| last.get(key.as_str()) == Some(row))
        .map(|(row, _)| row as u32)
        .collect();
    take_record_batch(batch, &UInt32Array::from(keep)).map_err(|e| Error::encode(spec.name, e))
}

/// SHA-256 of the batch's Arrow IPC encoding: equal rows give equal names.
fn content_hash(batch: &RecordBatch) -> Result<String> {
    let mut buf = Vec::new();
    {
        let mut writer =
            datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut buf, &batch.schema())
                .map_err(|e| Error::encode("hash", e))?;
        writer.write(batch).map_err(|e| Error::encode("hash", e))?;
        writer.finish().map_err(|e| Error::encode("hash", e))?;
    }
    Ok(short_sha256(&buf, 16))
}

/// The first `bytes` bytes of the SHA-256 of `data`, as hex: the content ids of
/// files, billing lines and quarantined records.
pub fn short_sha256(data: &[u8], bytes: usize) -> String {
    Sha256::digest(data)
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn with_ingested_at(spec: &TableSpec, batch: &RecordBatch, at: i64) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let ingested = TimestampMicrosecondArray::from(vec![at; batch.num_rows()]).with_timezone(UTC);
    columns.push(Arc::new(ingested));
    RecordBatch::try_new(spec.stored_schema(), columns).map_err(|e| Error::encode(spec.name, e))
}

fn encode_parquet(table: &str, batch: &RecordBatch) -> Result<Vec<u8>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))
        .map_err(|e| Error::encode(table, e))?;
    writer.write(batch).map_err(|e| Error::encode(table, e))?;
    writer.close().map_err(|e| Error::encode(table, e))?;
    Ok(buf)
}
