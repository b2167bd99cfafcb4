//! The Parquet lake: one folder per canonical table, immutable Parquet files written
//! in groups, on `object_store` so a local folder and a bucket are the same code.
//!
//! Guarantees (see ARCHITECTURE.md, "The lake"):
//! - **Atomic**: a write of any size appears whole or not at all: its parts are
//!   staged outside the table and a reader counts a group only when all its parts
//!   are in place ([`writer`], [`listing`]).
//! - **Idempotent**: file names derive from the rows' content, so writing the same
//!   rows again leaves the same files; a record written again with new content lands
//!   in a new file and the engine keeps, per natural key, the version with the
//!   newest `_ingested_at`.
//! - **Compactable**: [`compact`] rewrites a table's visible files as few sorted
//!   files with one row per key, without a moment where a reader sees neither.
//!
//! The lake never interprets rows; it only stores and lists them.

mod auto_compact;
pub mod batch;
pub mod compact;
mod encode;
mod existing;
pub mod listing;
pub mod names;
pub mod row;
pub mod tables;
pub mod writer;

pub use encode::ROW_GROUP_ROWS;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use datafusion::arrow::array::RecordBatch;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use batch::{BatchBuilder, Value};
use tables::TableSpec;

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
    /// Compact a table after a write leaves it with more visible files than this
    /// (0: never).
    compact_after_files: usize,
}

/// Visible files of a table above which a write compacts it (`[lake]
/// compact_after_files`): each file costs a listing entry, a footer read and a
/// scan task on every query.
pub const DEFAULT_COMPACT_AFTER_FILES: usize = 64;

/// What one write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// Table (folder) written.
    pub table: String,
    /// Rows in the files (after collapsing repeated keys within each part).
    pub rows: usize,
    /// Object paths of the files, in part order (empty when nothing was written).
    pub files: Vec<String>,
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
            compact_after_files: DEFAULT_COMPACT_AFTER_FILES,
        })
    }

    /// Sets the auto-compaction threshold (0 turns it off).
    pub fn with_compact_after_files(mut self, files: usize) -> Lake {
        self.compact_after_files = files;
        self
    }

    /// The store, for registering with the query engine.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// The local folder of the lake.
    pub fn local_root(&self) -> &Path {
        &self.local_root
    }

    /// The object path of `relative` (a folder or file name) under the lake's root.
    pub fn object_path(&self, relative: &str) -> ObjectPath {
        self.root.clone().join(relative)
    }

    /// URL of a table's folder (ends with `/`), as DataFusion lists it.
    pub fn table_url(&self, table: &str) -> String {
        format!("{}/{table}/", self.url)
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
        let batch = encode::last_row_per_key(spec, &builder.finish()?)?;
        let (changed, updated) = self.only_changed(spec, batch).await?;
        let rows = self.write(spec, &changed).await?.rows;
        Ok(Changed {
            new: rows - updated,
            updated,
        })
    }

    /// Writes a batch of `spec`'s rows as one write (one file unless the batch is
    /// larger than a part); see [`writer`].
    ///
    /// Rows repeating a natural key within the batch collapse to the last one. An empty
    /// batch writes nothing.
    pub async fn write(&self, spec: &TableSpec, batch: &RecordBatch) -> Result<WriteSummary> {
        let mut writer = self.begin_write(spec);
        writer.write_batch(batch).await?;
        writer.commit().await
    }
}

/// Strictly increasing microsecond timestamps within the process, so two writes in
/// the same microsecond still order.
pub(crate) fn next_ingest_time() -> i64 {
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

/// The first `bytes` bytes of the SHA-256 of `data`, as hex: the content ids of
/// files, billing lines and quarantined records.
pub fn short_sha256(data: &[u8], bytes: usize) -> String {
    encode::hex_prefix(&Sha256::digest(data), bytes)
}

/// [`short_sha256`] (16 bytes) of data fed to `hasher` piece by piece, for ids
/// over more data than is worth holding at once.
pub fn short_sha256_of(hasher: Sha256) -> String {
    encode::hex_prefix(&hasher.finalize(), 16)
}
