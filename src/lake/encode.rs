//! Turning one part's rows into the bytes of a lake file: collapsing repeated keys,
//! the content hash that names the file, `_ingested_at`, and the Parquet encoding.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use sha2::{Digest, Sha256};

use super::tables::{TableSpec, UTC};
use crate::error::{Error, Result};

/// Rows per Parquet row group: small enough that the min/max statistics of a
/// sorted time column prune a one-month window to a few groups, large enough that
/// per-group overhead stays negligible.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Keeps the last row of every natural key. Keys are compared in Arrow's row
/// format (bytes), not as rendered text: a million keys cost their bytes, not a
/// `String` each.
pub fn last_row_per_key(spec: &TableSpec, batch: &RecordBatch) -> Result<RecordBatch> {
    let encode = |e| Error::encode(spec.name, e);
    let columns = spec
        .key
        .iter()
        .map(|k| {
            batch
                .column_by_name(k)
                .cloned()
                .ok_or_else(|| Error::encode(spec.name, format!("key column {k} missing")))
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let fields = columns
        .iter()
        .map(|c| SortField::new(c.data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields).map_err(encode)?;
    let rows = converter.convert_columns(&columns).map_err(encode)?;
    let mut last = HashMap::with_capacity(rows.num_rows());
    for (i, row) in rows.iter().enumerate() {
        last.insert(row, i);
    }
    if last.len() == rows.num_rows() {
        return Ok(batch.clone());
    }
    let keep: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(i, row)| last.get(row) == Some(i))
        .map(|(i, _)| i as u32)
        .collect();
    drop(last);
    take_record_batch(batch, &UInt32Array::from(keep)).map_err(encode)
}

/// Feeds written bytes to SHA-256 instead of a buffer: hashing a part costs no
/// second copy of it.
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of the batch's Arrow IPC encoding (first 16 bytes, hex): equal rows
/// give equal names. The caller passes one batch per part, so the hash does not
/// depend on how the rows arrived in chunks.
pub fn content_hash(batch: &RecordBatch) -> Result<String> {
    let encode = |e| Error::encode("hash", e);
    let mut sink = HashWriter(Sha256::new());
    {
        let mut writer =
            datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut sink, &batch.schema())
                .map_err(encode)?;
        writer.write(batch).map_err(encode)?;
        writer.finish().map_err(encode)?;
    }
    Ok(hex_prefix(&sink.0.finalize(), 16))
}

/// The first `bytes` bytes of a digest as hex.
pub fn hex_prefix(digest: &[u8], bytes: usize) -> String {
    digest
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The table's stored batch: its columns plus `_ingested_at` = `at` on every row.
pub fn with_ingested_at(spec: &TableSpec, batch: &RecordBatch, at: i64) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let ingested = TimestampMicrosecondArray::from(vec![at; batch.num_rows()]).with_timezone(UTC);
    columns.push(Arc::new(ingested));
    RecordBatch::try_new(spec.stored_schema(), columns).map_err(|e| Error::encode(spec.name, e))
}

/// Parquet bytes of `batch`: ZSTD, page statistics, row groups of
/// [`ROW_GROUP_ROWS`].
pub fn encode_parquet(table: &str, batch: &RecordBatch) -> Result<Vec<u8>> {
    let encode = |e| Error::encode(table, e);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(encode)?;
    writer.write(batch).map_err(encode)?;
    writer.close().map_err(encode)?;
    Ok(buf)
}

/// Bytes of a batch's data as its rows need them (not the buffers a slice shares
/// with its parent): a deterministic size to cut parts by.
pub fn slice_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0))
        .sum()
}
