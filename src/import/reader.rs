//! Reads one CSV or NDJSON file (gzip by `.gz` extension) into validated rows.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde_json::Value as Json;

use super::Rejected;
use super::parse::{Cell, parse_cell};
use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::tables::TableSpec;

/// Rows that validated and records that did not.
pub struct ParsedFile {
    pub rows: Vec<Vec<Value>>,
    pub rejected: Vec<Rejected>,
}

enum Format {
    Csv,
    Ndjson,
}

/// Reads and validates `path` against `spec`.
pub fn read_file(spec: &TableSpec, path: &Path) -> Result<ParsedFile> {
    let name = path.to_string_lossy().into_owned();
    let lower = name.to_ascii_lowercase();
    let (stem, gz) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem.to_string(), true),
        None => (lower.clone(), false),
    };
    let format = if stem.ends_with(".csv") {
        Format::Csv
    } else if [".ndjson", ".jsonl", ".json"]
        .iter()
        .any(|e| stem.ends_with(e))
    {
        Format::Ndjson
    } else {
        return Err(Error::BadFile {
            file: name,
            reason: "unknown format: use .csv, .ndjson, .jsonl or .json (optionally .gz)".into(),
        });
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let input: Box<dyn Read> = if gz {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    match format {
        Format::Csv => read_csv(spec, &name, input),
        Format::Ndjson => read_ndjson(spec, &name, BufReader::new(input)),
    }
}

fn read_csv(spec: &TableSpec, file: &str, input: Box<dyn Read>) -> Result<ParsedFile> {
    let mut reader = csv::ReaderBuilder::new().from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::BadFile {
            file: file.into(),
            reason: format!("cannot read the header row: {e}"),
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let positions = column_positions(spec, file, &header)?;
    let mut parsed = ParsedFile {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i as u64 + 2, |p| p.line());
                if e.is_io_error() {
                    return Err(Error::BadFile {
                        file: file.into(),
                        reason: format!("line {line}: {e}"),
                    });
                }
                parsed.rejected.push(Rejected {
                    file: file.into(),
                    line,
                    field: String::new(),
                    reason: e.to_string(),
                    raw: String::new(),
                });
                continue;
            }
        };
        let line = record.position().map_or(i as u64 + 2, |p| p.line());
        let cell = |pos: Option<usize>| match pos.and_then(|p| record.get(p)) {
            Some(t) => Cell::Text(t),
            None => Cell::Missing,
        };
        match build_row(spec, &positions, cell) {
            Ok(row) => parsed.rows.push(row),
            Err((field, reason)) => parsed.rejected.push(Rejected {
                file: file.into(),
                line,
                field,
                reason,
                raw: record.iter().collect::<Vec<_>>().join(","),
            }),
        }
    }
    Ok(parsed)
}

/// For each spec column, where it is in the file's header; rejects files that lack
/// a required column or (for strict tables) carry an unknown one.
fn column_positions(spec: &TableSpec, file: &str, header: &[String]) -> Result<Vec<Option<usize>>> {
    if !spec.ignore_unknown_columns
        && let Some(unknown) = header.iter().find(|h| spec.column(h).is_none())
    {
        let known: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        return Err(Error::BadFile {
            file: file.into(),
            reason: format!(
                "unknown column `{unknown}` for table {} (columns: {})",
                spec.name,
                known.join(", ")
            ),
        });
    }
    let positions: Vec<Option<usize>> = spec
        .columns
        .iter()
        .map(|c| header.iter().position(|h| h == c.name))
        .collect();
    let missing: Vec<&str> = spec
        .columns
        .iter()
        .zip(&positions)
        .filter(|(c, p)| p.is_none() && c.required && c.default.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(Error::BadFile {
            file: file.into(),
            reason: format!("missing required column(s): {}", missing.join(", ")),
        });
    }
    Ok(positions)
}

/// Parses one record; on failure returns the column and the reason.
fn build_row<'a>(
    spec: &TableSpec,
    positions: &[Option<usize>],
    cell: impl Fn(Option<usize>) -> Cell<'a>,
) -> std::result::Result<Vec<Value>, (String, String)> {
    spec.columns
        .iter()
        .zip(positions)
        .map(|(column, pos)| {
            let raw = cell(*pos);
            parse_cell(column, raw).map_err(|reason| (column.name.to_string(), reason))
        })
        .collect()
}

fn read_ndjson(spec: &TableSpec, file: &str, input: impl BufRead) -> Result<ParsedFile> {
    let mut parsed = ParsedFile {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let text = line.map_err(|e| Error::BadFile {
            file: file.into(),
            reason: format!("line {line_no}: {e}"),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let reject = |field: &str, reason: String| Rejected {
            file: file.into(),
            line: line_no,
            field: field.into(),
            reason,
            raw: text.clone(),
        };
        let object = match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(map)) => map,
            Ok(_) => {
                parsed.rejected.push(reject("", "not a JSON object".into()));
                continue;
            }
            Err(e) => {
                parsed
                    .rejected
                    .push(reject("", format!("invalid JSON: {e}")));
                continue;
            }
        };
        if !spec.ignore_unknown_columns
            && let Some(unknown) = object.keys().find(|k| spec.column(k).is_none())
        {
            let reason = format!("unknown column for table {}", spec.name);
            parsed.rejected.push(reject(unknown, reason));
            continue;
        }
        let positions: Vec<Option<usize>> = (0..spec.columns.len()).map(Some).collect();
        let cell = |pos: Option<usize>| match pos
            .and_then(|p| spec.columns.get(p))
            .and_then(|c| object.get(c.name))
        {
            Some(v) => Cell::Json(v),
            None => Cell::Missing,
        };
        match build_row(spec, &positions, cell) {
            Ok(row) => parsed.rows.push(row),
            Err((field, reason)) => parsed.rejected.push(reject(&field, reason)),
        }
    }
    Ok(parsed)
}
