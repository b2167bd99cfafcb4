//! `northstar import`: CSV and NDJSON files (optionally gzipped) → one lake table.
//!
//! Files are parsed and validated completely before anything is written. By default
//! a single bad record rejects the whole import (the error names file, line and
//! column); with `skip_bad` the good rows are written and the bad ones go to the
//! `quarantine` table with their reason and raw text.

pub mod parse;
mod reader;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    fn into_error(self) -> Error {
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
        fill_derived(&spec, file, &mut good);
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

/// Columns the importer computes when a file does not carry them.
pub(crate) fn derived_columns(spec: &TableSpec) -> &'static [&'static str] {
    match spec.name {
        "costs" => &["x_line_id"],
        _ => &[],
    }
}

/// Fills computed columns: for billing rows, a stable line id (hash of the row's
/// content plus its occurrence number, so a re-import or a renamed copy of the same
/// export collides with itself and nothing doubles), the source file and the team
/// and service tags.
fn fill_derived(spec: &TableSpec, file: &Path, rows: &mut [Vec<Value>]) {
    if spec.name != "costs" {
        return;
    }
    let index = |name: &str| spec.columns.iter().position(|c| c.name == name);
    let (Some(id), Some(src), Some(team), Some(service), Some(tags)) = (
        index("x_line_id"),
        index("x_source_file"),
        index("x_team"),
        index("x_service"),
        index("Tags"),
    ) else {
        return;
    };
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows.iter_mut() {
        if row[id] == Value::Null {
            let content: Vec<&Value> = spec
                .columns
                .iter()
                .zip(row.iter())
                .filter(|(c, _)| !c.name.starts_with("x_"))
                .map(|(_, v)| v)
                .collect();
            let hash = short_sha256(format!("{content:?}").as_bytes(), 12);
            let n = seen.entry(hash.clone()).or_default();
            *n += 1;
            row[id] = Value::Text(format!("{hash}-{n}"));
        }
        if row[src] == Value::Null {
            row[src] = Value::opt_text(file_name.clone());
        }
        if let Value::Text(t) = &row[tags] {
            let parsed: Option<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(t).ok();
            for (slot, key) in [(team, "team"), (service, "service")] {
                if row[slot] == Value::Null {
                    let tag = parsed
                        .as_ref()
                        .and_then(|m| m.get(key))
                        .and_then(|v| v.as_str());
                    row[slot] = Value::opt_text(tag);
                }
            }
        }
    }
}

async fn write_quarantine(lake: &Lake, target: &TableSpec, rejected: &[Rejected]) -> Result<()> {
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
