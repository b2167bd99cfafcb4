//! `northstar import`: CSV and NDJSON files (optionally gzipped) → one lake table.
//!
//! Files stream through in chunks of [`CHUNK_RECORDS`] records: each chunk is
//! parsed, validated and handed to one [`TableWriter`] for the whole import, so
//! memory follows the chunk and the writer's part size, never the file size. The
//! writer stages parts where no reader looks and commits them at the end, so the
//! import is still all-or-nothing: by default a single bad record aborts it (the
//! error names file, line and column) and nothing becomes visible; with `skip_bad`
//! the good rows are written and the bad ones go to the `quarantine` table with
//! their reason and raw text.

pub mod parse;
mod reader;

pub use reader::open_input;

use std::path::PathBuf;

use crate::error::{Error, Result};
use datafusion::arrow::array::RecordBatch;

use crate::lake::batch::{BatchBuilder, Value};
use crate::lake::row::RowBuilder;
use crate::lake::tables::{self, TableSpec};
use crate::lake::writer::TableWriter;
use crate::lake::{Lake, short_sha256};
use reader::ParsedChunk;

/// Records parsed before they are handed to the lake writer: large enough that
/// per-batch overhead vanishes, small enough that the parsed `Value`s (a few
/// hundred bytes a row) stay in the tens of megabytes.
pub const CHUNK_RECORDS: usize = 64 * 1024;

/// How to treat bad records.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Write good rows and quarantine bad ones instead of rejecting the import.
    pub skip_bad: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Target table.
    pub table: String,
    /// Files read.
    pub files: usize,
    /// Good records read.
    pub records: usize,
    /// Rows written (records repeating a key collapse to the last one).
    pub written: usize,
    /// Records sent to quarantine.
    pub quarantined: usize,
}

/// A record that could not be read.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Input file.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// Column at fault ("" when the record as a whole is unreadable).
    pub field: String,
    /// Why.
    pub reason: String,
    /// The record's raw text.
    pub raw: String,
}

impl Rejected {
    pub(crate) fn into_error(self) -> Error {
        if self.field.is_empty() {
            return Error::BadFile {
                file: self.file,
                reason: format!("line {}: {}", self.line, self.reason),
            };
        }
        Error::BadRecord {
            file: self.file,
            line: self.line,
            field: self.field,
            reason: self.reason,
        }
    }
}

/// Imports `files` into `table_name`.
pub async fn import_files(
    lake: &Lake,
    table_name: &str,
    files: &[PathBuf],
    options: ImportOptions,
) -> Result<ImportSummary> {
    let spec = tables::table(table_name)?;
    if spec.name == "costs" {
        return Err(Error::Usage(
            "billing files go through `northstar import costs` (crate::billing)".into(),
        ));
    }
    if spec.name == "quarantine" {
        return Err(Error::Usage(
            "the quarantine table is written by northstar itself".into(),
        ));
    }
    let mut writer = lake.begin_write(&spec);
    let mut quarantine = options
        .skip_bad
        .then(|| tables::table("quarantine").map(|q| lake.begin_write(&q)))
        .transpose()?;
    let mut summary = ImportSummary {
        table: spec.name.into(),
        files: files.len(),
        ..ImportSummary::default()
    };
    let read = read_all(&spec, files, &mut writer, quarantine.as_mut(), &mut summary).await;
    if let Err(e) = read {
        writer.abort().await?;
        if let Some(q) = quarantine {
            q.abort().await?;
        }
        return Err(e);
    }
    summary.written = writer.commit().await?.rows;
    if let Some(q) = quarantine {
        q.commit().await?;
    }
    Ok(summary)
}

/// Streams every file into `writer` (and bad records into `quarantine`, when
/// skipping them); the first bad record is the error otherwise.
async fn read_all(
    spec: &TableSpec,
    files: &[PathBuf],
    writer: &mut TableWriter,
    mut quarantine: Option<&mut TableWriter>,
    summary: &mut ImportSummary,
) -> Result<()> {
    for file in files {
        let mut reader = reader::open(spec, file)?;
        loop {
            let ParsedChunk { rows, mut rejected } = reader.next_chunk(CHUNK_RECORDS)?;
            if rows.is_empty() && rejected.is_empty() {
                break;
            }
            let Some(quarantine) = quarantine.as_deref_mut() else {
                if !rejected.is_empty() {
                    return Err(first_rejected(&mut rejected));
                }
                summary.records += rows.len();
                writer.write_batch(&rows_batch(spec, &rows)?).await?;
                continue;
            };
            summary.records += rows.len();
            summary.quarantined += rejected.len();
            writer.write_batch(&rows_batch(spec, &rows)?).await?;
            let bad = quarantine_rows(quarantine.spec(), spec, &rejected)?;
            quarantine
                .write_batch(&rows_batch(quarantine.spec(), &bad)?)
                .await?;
        }
        tracing::debug!(
            file = reader.name(),
            records = summary.records,
            "Read an input file."
        );
    }
    Ok(())
}

fn first_rejected(rejected: &mut Vec<Rejected>) -> Error {
    let more = rejected.len() - 1;
    if more > 0 {
        tracing::error!(
            more,
            "More bad records follow; --skip-bad quarantines them all."
        );
    }
    rejected.swap_remove(0).into_error()
}

fn rows_batch(spec: &TableSpec, rows: &[Vec<Value>]) -> Result<RecordBatch> {
    let mut builder = BatchBuilder::new(spec);
    for row in rows {
        builder.push(row)?;
    }
    builder.finish()
}

pub(crate) async fn write_quarantine(
    lake: &Lake,
    target: &TableSpec,
    rejected: &[Rejected],
) -> Result<()> {
    let spec = tables::table("quarantine")?;
    lake.write_rows(&spec, &quarantine_rows(&spec, target, rejected)?)
        .await?;
    Ok(())
}

/// The `quarantine` rows of rejected records of `target`. A record's id hashes
/// table, file, line and text, so quarantining it again adds no row.
fn quarantine_rows(
    quarantine: &TableSpec,
    target: &TableSpec,
    rejected: &[Rejected],
) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::with_capacity(rejected.len());
    for r in rejected {
        let key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            target.name, r.file, r.line, r.raw
        );
        let id = short_sha256(key.as_bytes(), 16);
        rows.push(
            RowBuilder::new(quarantine)
                .set("quarantine_id", id)
                .set("target_table", target.name)
                .set("source_file", &r.file)
                .set("record", Value::Int(r.line as i64))
                .set("field", (!r.field.is_empty()).then_some(r.field.as_str()))
                .set("reason", &r.reason)
                .set("raw", &r.raw)
                .finish()?,
        );
        tracing::warn!(file = %r.file, line = r.line, field = %r.field, reason = %r.reason, "Quarantined a record.");
    }
    Ok(rows)
}
