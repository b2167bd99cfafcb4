//! `northstar import`: CSV and NDJSON files (optionally gzipped) → one lake table.
//!
//! Files are parsed and validated completely before anything is written. By default
//! a single bad record rejects the whole import (the error names file, line and
//! column); with `skip_bad` the good rows are written and the bad ones go to the
//! `quarantine` table with their reason and raw text.

pub mod parse;
mod reader;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::tables::{self, TableSpec};
use crate::lake::{Lake, short_sha256};
use reader::ParsedFile;

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
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for file in files {
        let ParsedFile {
            rows: mut good,
            rejected: mut bad,
        } = reader::read_file(&spec, file)?;
        rows.append(&mut good);
        rejected.append(&mut bad);
    }
    if !options.skip_bad && !rejected.is_empty() {
        let more = rejected.len() - 1;
        let first = rejected.swap_remove(0);
        if more > 0 {
            tracing::error!(
                more,
                "More bad records follow; --skip-bad quarantines them all."
            );
        }
        return Err(first.into_error());
    }
    let written = lake.write_rows(&spec, &rows).await?;
    if !rejected.is_empty() {
        write_quarantine(lake, &spec, &rejected).await?;
    }
    Ok(ImportSummary {
        table: spec.name.into(),
        files: files.len(),
        records: rows.len(),
        written: written.rows,
        quarantined: rejected.len(),
    })
}

pub(crate) async fn write_quarantine(
    lake: &Lake,
    target: &TableSpec,
    rejected: &[Rejected],
) -> Result<()> {
    let spec = tables::table("quarantine")?;
    let mut rows = Vec::with_capacity(rejected.len());
    for r in rejected {
        let key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            target.name, r.file, r.line, r.raw
        );
        let id = short_sha256(key.as_bytes(), 16);
        rows.push(vec![
            Value::Text(id),
            Value::text(target.name),
            Value::text(r.file.clone()),
            Value::Int(r.line as i64),
            Value::opt_text((!r.field.is_empty()).then(|| r.field.clone())),
            Value::text(r.reason.clone()),
            Value::text(r.raw.clone()),
        ]);
        tracing::warn!(file = %r.file, line = r.line, field = %r.field, reason = %r.reason, "Quarantined a record.");
    }
    lake.write_rows(&spec, &rows).await?;
    Ok(())
}
