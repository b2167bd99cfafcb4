//! Reading back what the lake already holds for a table, so a writer can skip rows
//! that would change nothing. This is what makes a re-run with no upstream change
//! write no file at all, rather than a new file of identical rows.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use sha2::{Digest, Sha256};

use super::Lake;
use super::tables::{INGESTED_AT, TableSpec};
use crate::error::{Error, Result};

/// Per natural key, the newest stored version: (ingested_at, hash of its values).
pub(super) type Current = HashMap<String, (i64, [u8; 16])>;

/// A table's [`Current`] and the files it was built from. Lake files are immutable,
/// so a later call reads only the files written since; a rebuild happens only if a
/// file disappeared (e.g. a compaction).
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    files: BTreeSet<String>,
    rows: Current,
}

/// Snapshots per table, kept for the life of the [`Lake`] value: a collector that
/// commits hundreds of small streams reads each lake file once, not once per commit.
pub(super) type Snapshots = Arc<tokio::sync::Mutex<HashMap<&'static str, Snapshot>>>;

fn row_hash(row: &str) -> [u8; 16] {
    let digest = Sha256::digest(row.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// Renders `columns` of every row as one string per row, fields separated by U+001F
/// and nulls as U+0000, so that two rows compare equal exactly when their values do.
pub(super) fn render_rows(
    batch: &RecordBatch,
    columns: &[&str],
    context: &str,
) -> Result<Vec<String>> {
    let options = FormatOptions::default().with_null("\u{0}");
    let formatters = columns
        .iter()
        .map(|k| {
            let column = batch
                .column_by_name(k)
                .ok_or_else(|| Error::encode(context, format!("column {k} missing")))?;
            ArrayFormatter::try_new(column.as_ref(), &options)
                .map_err(|e| Error::encode(context, e))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((0..batch.num_rows())
        .map(|row| {
            formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect())
}

fn value_columns(spec: &TableSpec) -> Vec<&'static str> {
    spec.columns.iter().map(|c| c.name).collect()
}

impl Lake {
    /// Every record batch of one stored Parquet file.
    async fn file_batches(&self, file: &str) -> Result<Vec<RecordBatch>> {
        let location = ObjectPath::from(file);
        let lake_error = |source| Error::Lake {
            path: file.to_string(),
            source,
        };
        let got = self.store.get(&location).await.map_err(lake_error)?;
        let bytes = got.bytes().await.map_err(lake_error)?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| Error::encode(file, e))?;
        reader
            .map(|b| b.map_err(|e| Error::encode(file, e)))
            .collect()
    }

    /// Folds one stored file into `current`, keeping the newest version per key.
    async fn read_into(&self, spec: &TableSpec, file: &str, current: &mut Current) -> Result<()> {
        let columns = value_columns(spec);
        for batch in self.file_batches(file).await? {
            let keys = render_rows(&batch, spec.key, file)?;
            let rows = render_rows(&batch, &columns, file)?;
            let at = batch
                .column_by_name(INGESTED_AT)
                .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
                .ok_or_else(|| Error::encode(file, "no _ingested_at column"))?;
            for (i, (key, row)) in keys.into_iter().zip(rows).enumerate() {
                let t = at.value(i);
                match current.get(&key) {
                    Some((seen, _)) if *seen >= t => {}
                    _ => {
                        current.insert(key, (t, row_hash(&row)));
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops the rows of `batch` whose key the lake already holds with equal values;
    /// returns the rest and how many of them are updates of a stored key.
    pub(super) async fn only_changed(
        &self,
        spec: &TableSpec,
        batch: RecordBatch,
    ) -> Result<(RecordBatch, usize)> {
        if batch.num_rows() == 0 {
            return Ok((batch, 0));
        }
        let files: BTreeSet<String> = self.files(spec.name).await?.into_iter().collect();
        let mut snapshots = self.snapshots.lock().await;
        let snapshot = snapshots.entry(spec.name).or_default();
        if !snapshot.files.iter().all(|f| files.contains(f)) {
            *snapshot = Snapshot::default();
        }
        for file in files {
            if !snapshot.files.contains(&file) {
                self.read_into(spec, &file, &mut snapshot.rows).await?;
                snapshot.files.insert(file);
            }
        }
        let current = &snapshot.rows;
        if current.is_empty() {
            return Ok((batch, 0));
        }
        let keys = render_rows(&batch, spec.key, spec.name)?;
        let rows = render_rows(&batch, &value_columns(spec), spec.name)?;
        let mut updated = 0;
        let mut keep = Vec::new();
        for (i, (k, r)) in keys.iter().zip(&rows).enumerate() {
            match current.get(k) {
                Some((_, old)) if *old == row_hash(r) => {}
                Some(_) => {
                    updated += 1;
                    keep.push(i as u32);
                }
                None => keep.push(i as u32),
            }
        }
        let kept = take_record_batch(&batch, &UInt32Array::from(keep))
            .map_err(|e| Error::encode(spec.name, e))?;
        Ok((kept, updated))
    }
}

impl Lake {
    /// For each natural key of `spec`'s table, the newest stored version's `column`,
    /// as text; keys are rendered as [`Lake::rendered_keys`] renders them.
    pub async fn current_column(
        &self,
        spec: &TableSpec,
        column: &str,
    ) -> Result<HashMap<String, String>> {
        let mut newest: HashMap<String, (i64, String)> = HashMap::new();
        for file in self.files(spec.name).await? {
            for batch in self.file_batches(&file).await? {
                let keys = render_rows(&batch, spec.key, &file)?;
                let values = render_rows(&batch, &[column], &file)?;
                let at = batch
                    .column_by_name(INGESTED_AT)
                    .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
                    .ok_or_else(|| Error::encode(&file, "no _ingested_at column"))?;
                for (i, (key, value)) in keys.into_iter().zip(values).enumerate() {
                    let t = at.value(i);
                    if newest.get(&key).is_none_or(|(seen, _)| *seen < t) {
                        newest.insert(key, (t, value));
                    }
                }
            }
        }
        Ok(newest.into_iter().map(|(k, (_, v))| (k, v)).collect())
    }

    /// The natural keys of `rows` rendered as [`Lake::current_column`] keys them.
    pub fn rendered_keys(
        spec: &TableSpec,
        rows: &[Vec<super::batch::Value>],
    ) -> Result<Vec<String>> {
        let mut builder = super::batch::BatchBuilder::new(spec);
        for row in rows {
            builder.push(row)?;
        }
        let batch = builder.finish()?;
        render_rows(&batch, spec.key, spec.name)
    }
}
