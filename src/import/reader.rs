//! Reads one CSV or NDJSON file (gzip by `.gz` extension) as validated rows, a
//! chunk at a time: memory follows the chunk size, not the file size.

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

/// Rows that validated and records that did not, of one chunk.
#[derive(Default)]
pub struct ParsedChunk {
    pub rows: Vec<Vec<Value>>,
    pub rejected: Vec<Rejected>,
}

impl ParsedChunk {
    /// Records read (good and bad).
    pub fn len(&self) -> usize {
        self.rows.len() + self.rejected.len()
    }
}

enum Source {
    Csv {
        reader: csv::Reader<Box<dyn Read>>,
        positions: Vec<Option<usize>>,
        record: csv::StringRecord,
        index: u64,
    },
    Ndjson {
        lines: std::io::Lines<BufReader<Box<dyn Read>>>,
        line_no: u64,
    },
}

/// An open input file of one table.
pub struct FileReader<'a> {
    spec: &'a TableSpec,
    name: String,
    source: Source,
}

/// Opens `path` for reading, decompressing it when `gzip` (a `.gz` file); an error
/// names the path.
pub fn open_input(path: &Path, gzip: bool) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(if gzip {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Opens `path` for `spec`: checks the format and, for CSV, the header.
pub fn open<'a>(spec: &'a TableSpec, path: &Path) -> Result<FileReader<'a>> {
    let name = path.to_string_lossy().into_owned();
    let lower = name.to_ascii_lowercase();
    let (stem, gz) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem.to_string(), true),
        None => (lower.clone(), false),
    };
    let csv = stem.ends_with(".csv");
    if !csv
        && ![".ndjson", ".jsonl", ".json"]
            .iter()
            .any(|e| stem.ends_with(e))
    {
        return Err(Error::BadFile {
            file: name,
            reason: "unknown format: use .csv, .ndjson, .jsonl or .json (optionally .gz)".into(),
        });
    }
    let input: Box<dyn Read> = open_input(path, gz)?;
    let source = if csv {
        open_csv(spec, &name, input)?
    } else {
        Source::Ndjson {
            lines: BufReader::new(input).lines(),
            line_no: 0,
        }
    };
    Ok(FileReader { spec, name, source })
}

fn open_csv(spec: &TableSpec, file: &str, input: Box<dyn Read>) -> Result<Source> {
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
    Ok(Source::Csv {
        reader,
        positions,
        record: csv::StringRecord::new(),
        index: 0,
    })
}

impl FileReader<'_> {
    /// The file's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads up to `max` records; an empty chunk means the file is done.
    pub fn next_chunk(&mut self, max: usize) -> Result<ParsedChunk> {
        let mut chunk = ParsedChunk::default();
        while chunk.len() < max {
            let more = match &mut self.source {
                Source::Csv {
                    reader,
                    positions,
                    record,
                    index,
                } => csv_record(
                    self.spec, &self.name, reader, positions, record, index, &mut chunk,
                )?,
                Source::Ndjson { lines, line_no } => {
                    ndjson_line(self.spec, &self.name, lines, line_no, &mut chunk)?
                }
            };
            if !more {
                break;
            }
        }
        Ok(chunk)
    }
}

/// Reads one CSV record into `chunk`; `false` at the end of the file.
fn csv_record(
    spec: &TableSpec,
    file: &str,
    reader: &mut csv::Reader<Box<dyn Read>>,
    positions: &[Option<usize>],
    record: &mut csv::StringRecord,
    index: &mut u64,
    chunk: &mut ParsedChunk,
) -> Result<bool> {
    let i = *index;
    *index += 1;
    match reader.read_record(record) {
        Ok(false) => return Ok(false),
        Ok(true) => {}
        Err(e) => {
            let line = e.position().map_or(i + 2, |p| p.line());
            if e.is_io_error() {
                return Err(Error::BadFile {
                    file: file.into(),
                    reason: format!("line {line}: {e}"),
                });
            }
            chunk.rejected.push(Rejected {
                file: file.into(),
                line,
                field: String::new(),
                reason: e.to_string(),
                raw: String::new(),
            });
            return Ok(true);
        }
    }
    let line = record.position().map_or(i + 2, |p| p.line());
    let cell = |pos: Option<usize>| match pos.and_then(|p| record.get(p)) {
        Some(t) => Cell::Text(t),
        None => Cell::Missing,
    };
    match build_row(spec, positions, cell) {
        Ok(row) => chunk.rows.push(row),
        Err((field, reason)) => chunk.rejected.push(Rejected {
            file: file.into(),
            line,
            field,
            reason,
            raw: record.iter().collect::<Vec<_>>().join(","),
        }),
    }
    Ok(true)
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

/// Reads one NDJSON line into `chunk` (blank lines are skipped); `false` at the end
/// of the file.
fn ndjson_line(
    spec: &TableSpec,
    file: &str,
    lines: &mut std::io::Lines<BufReader<Box<dyn Read>>>,
    line_no: &mut u64,
    chunk: &mut ParsedChunk,
) -> Result<bool> {
    let Some(line) = lines.next() else {
        return Ok(false);
    };
    *line_no += 1;
    let line_no = *line_no;
    let text = line.map_err(|e| Error::BadFile {
        file: file.into(),
        reason: format!("line {line_no}: {e}"),
    })?;
    if text.trim().is_empty() {
        return Ok(true);
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
            chunk.rejected.push(reject("", "not a JSON object".into()));
            return Ok(true);
        }
        Err(e) => {
            chunk
                .rejected
                .push(reject("", format!("invalid JSON: {e}")));
            return Ok(true);
        }
    };
    if !spec.ignore_unknown_columns
        && let Some(unknown) = object.keys().find(|k| spec.column(k).is_none())
    {
        let reason = format!("unknown column for table {}", spec.name);
        chunk.rejected.push(reject(unknown, reason));
        return Ok(true);
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
        Ok(row) => chunk.rows.push(row),
        Err((field, reason)) => chunk.rejected.push(reject(&field, reason)),
    }
    Ok(true)
}
