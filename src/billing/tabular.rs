//! Billing files as a stream of records: CSV (BOM, CRLF, blank lines and gzip
//! tolerated), NDJSON (or one JSON array) and Parquet. Each record is a JSON object
//! keyed by the file's column names, so one reader serves flat CSV cells and
//! Parquet's nested map, list and struct columns (AWS CUR 2.0 `resource_tags`, GCP
//! `credits`) alike.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use csv::StringRecord;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::import::{Rejected, open_input};

/// How a billing file is laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Comma-separated, a header row first.
    Csv,
    /// One JSON object per line (BigQuery's export), or a JSON array of objects.
    Ndjson,
    /// Apache Parquet.
    Parquet,
}

/// One record of a billing file.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// 1-based line (CSV, NDJSON) or record number (Parquet).
    pub line: u64,
    cells: Cells,
}

/// A record's cells: a CSV row keeps the text the parser gave (a JSON string per
/// cell and a map of column names per row cost more than the rest of an import),
/// and becomes an object only when a reader asks for one ([`SourceRecord::get`]).
#[derive(Debug, Clone)]
enum Cells {
    Text {
        columns: Arc<Columns>,
        record: StringRecord,
        object: OnceCell<Map<String, Json>>,
    },
    Object(Map<String, Json>),
}

/// The columns of a CSV file, shared by its records.
#[derive(Debug)]
pub struct Columns {
    names: Vec<String>,
    /// Name → position; a repeated name stands for its last column, as in the
    /// object the row would make.
    index: HashMap<String, usize>,
}

impl Columns {
    fn new(names: Vec<String>) -> Columns {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Columns { names, index }
    }
}

/// One cell of a record, borrowed: CSV text, or a JSON value from NDJSON or
/// Parquet (where a string is [`Cell::Text`] too).
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// Any other JSON value.
    Json(&'a Json),
}

impl Cell<'_> {
    /// Whether the cell stands for "no value": JSON null, or text that
    /// [`is_null_text`].
    pub fn is_null(&self) -> bool {
        match self {
            Cell::Json(Json::Null) => true,
            Cell::Text(t) => is_null_text(t),
            Cell::Json(_) => false,
        }
    }
}

/// Whether a text cell stands for "no value": empty, or `NULL` or `None` in any
/// case (exports write all three).
pub fn is_null_text(t: &str) -> bool {
    let t = t.trim();
    t.is_empty() || t.eq_ignore_ascii_case("null") || t.eq_ignore_ascii_case("none")
}

impl<'a> From<&'a Json> for Cell<'a> {
    fn from(value: &'a Json) -> Cell<'a> {
        match value {
            Json::String(s) => Cell::Text(s),
            other => Cell::Json(other),
        }
    }
}

impl SourceRecord {
    /// A record read as a JSON object (NDJSON, Parquet, tests).
    pub fn new(line: u64, fields: Map<String, Json>) -> SourceRecord {
        SourceRecord {
            line,
            cells: Cells::Object(fields),
        }
    }

    /// The record as a JSON object, column name → value (CSV cells are strings).
    pub fn fields(&self) -> &Map<String, Json> {
        match &self.cells {
            Cells::Object(fields) => fields,
            Cells::Text {
                columns,
                record,
                object,
            } => object.get_or_init(|| {
                columns
                    .names
                    .iter()
                    .zip(record.iter())
                    .map(|(k, v)| (k.clone(), Json::String(v.to_string())))
                    .collect()
            }),
        }
    }

    /// A field by its exact column name.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.fields().get(name)
    }

    /// A field by its exact column name, without making the record an object.
    pub fn cell(&self, name: &str) -> Option<Cell<'_>> {
        match &self.cells {
            Cells::Text {
                columns, record, ..
            } => columns
                .index
                .get(name)
                .and_then(|i| record.get(*i))
                .map(Cell::Text),
            Cells::Object(fields) => fields.get(name).map(Cell::from),
        }
    }

    /// The field `name` at `position` of the header the file was opened with
    /// ([`Records::header`]): the position is a CSV row's fast path, the name
    /// every other record's (and a CSV row's given a default).
    pub fn cell_at(&self, position: usize, name: &str) -> Option<Cell<'_>> {
        match &self.cells {
            Cells::Text { record, .. } => record.get(position).map(Cell::Text),
            Cells::Object(fields) => fields.get(name).map(Cell::from),
        }
    }

    /// Sets `column` to `value` when the record leaves it out or empty.
    pub fn set_default(&mut self, column: &str, value: &str) {
        let empty = self.cell(column).is_none_or(|v| v.is_null());
        if !empty {
            return;
        }
        if let Cells::Text { .. } = self.cells {
            self.cells = Cells::Object(self.fields().clone());
        }
        if let Cells::Object(fields) = &mut self.cells {
            fields.insert(column.to_string(), Json::String(value.to_string()));
        }
    }

    /// The column names, as the object the record makes has them.
    pub fn names(&self) -> Vec<String> {
        self.fields().keys().cloned().collect()
    }

    /// The record as compact JSON, for the quarantine table.
    pub fn raw(&self) -> String {
        Json::Object(self.fields().clone()).to_string()
    }
}

/// An open billing file: its header and its records.
pub struct Records {
    /// The file, as the user named it.
    pub file: String,
    /// Its layout.
    pub layout: Layout,
    /// Column names (NDJSON: the first record's keys).
    pub header: Vec<String>,
    /// The records, or the ones that could not be read as records at all.
    pub records: Box<dyn Iterator<Item = std::result::Result<SourceRecord, Rejected>> + Send>,
}

/// The layout by extension (`.csv`, `.ndjson`, `.jsonl`, `.json`, `.parquet`,
/// each but Parquet optionally `.gz`), and whether it is gzipped.
pub fn layout_of(path: &Path) -> Result<(Layout, bool)> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    let (stem, gz) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem.to_string(), true),
        None => (lower.clone(), false),
    };
    let layout = if stem.ends_with(".csv") {
        Layout::Csv
    } else if [".ndjson", ".jsonl", ".json"]
        .iter()
        .any(|e| stem.ends_with(e))
    {
        Layout::Ndjson
    } else if stem.ends_with(".parquet") && !gz {
        Layout::Parquet
    } else {
        return Err(Error::BadFile {
            file: path.display().to_string(),
            reason: "unknown billing file type: use .csv, .ndjson, .jsonl, .json (each \
                     optionally .gz) or .parquet"
                .into(),
        });
    };
    Ok((layout, gz))
}

/// Opens `path` for reading records.
pub fn open(path: &Path) -> Result<Records> {
    let (layout, gz) = layout_of(path)?;
    let file = path.display().to_string();
    match layout {
        Layout::Parquet => {
            let handle = File::open(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            parquet_records(file, handle)
        }
        Layout::Csv => csv_records(file, open_input(path, gz)?),
        _ => ndjson_records(file, open_input(path, gz)?),
    }
}

fn csv_records(file: String, input: Box<dyn Read + Send>) -> Result<Records> {
    let filter = LineFilter::new(input);
    let dropped = Arc::clone(&filter.dropped);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(filter);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::BadFile {
            file: file.clone(),
            reason: format!("cannot read the header row: {e}"),
        })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let columns = Arc::new(Columns::new(header.clone()));
    let name = file.clone();
    let records = reader.into_records().enumerate().filter_map(move |(i, r)| {
        let fallback = i as u64 + 2;
        let record = match r {
            Ok(r) => r,
            Err(e) => {
                let line = original_line(&dropped, e.position().map_or(fallback, |p| p.line()));
                return Some(Err(rejected(&name, line, e.to_string(), String::new())));
            }
        };
        let line = original_line(&dropped, record.position().map_or(fallback, |p| p.line()));
        if record.iter().all(|c| c.trim().is_empty()) {
            return None;
        }
        if record.len() != columns.names.len() {
            let raw = record.iter().collect::<Vec<_>>().join(",");
            let reason = format!(
                "{} fields where the header has {}",
                record.len(),
                columns.names.len()
            );
            return Some(Err(rejected(&name, line, reason, raw)));
        }
        Some(Ok(SourceRecord {
            line,
            cells: Cells::Text {
                columns: Arc::clone(&columns),
                record,
                object: OnceCell::new(),
            },
        }))
    });
    Ok(Records {
        file,
        layout: Layout::Csv,
        header,
        records: Box::new(records),
    })
}

/// Turns CRLF into LF and drops blank lines before the CSV parser sees them, noting
/// where: the parser's line numbers are right only for LF files without blank lines
/// (the FOCUS spec's examples have both), and an error must name the line a person
/// finds in their editor. A quoted value spanning a blank line loses that line.
struct LineFilter {
    inner: Box<dyn Read + Send>,
    /// Output line numbers at which a blank line was dropped.
    dropped: Arc<Mutex<Vec<u64>>>,
    out_line: u64,
    at_line_start: bool,
    pending_cr: bool,
    chunk: Vec<u8>,
}

impl LineFilter {
    fn new(inner: Box<dyn Read + Send>) -> LineFilter {
        LineFilter {
            inner,
            dropped: Arc::new(Mutex::new(Vec::new())),
            out_line: 1,
            at_line_start: true,
            pending_cr: false,
            chunk: vec![0; 256 * 1024],
        }
    }

    /// Writes one byte other than `\r` to `out` at `at`, dropping blank lines.
    fn push(&mut self, byte: u8, out: &mut [u8], at: &mut usize) {
        if byte == b'\n' {
            if self.at_line_start {
                if let Ok(mut d) = self.dropped.lock() {
                    d.push(self.out_line);
                }
                return;
            }
            self.out_line += 1;
            self.at_line_start = true;
        } else {
            self.at_line_start = false;
        }
        out[*at] = byte;
        *at += 1;
    }

    /// Filters `self.chunk[..n]` into `out`, copying the runs between line ends
    /// whole (lines are hundreds of bytes; a byte-by-byte loop was a tenth of
    /// the import).
    fn filter(&mut self, n: usize, out: &mut [u8]) -> usize {
        let mut at = 0;
        let mut i = 0;
        while i < n {
            let end = memchr::memchr2(b'\r', b'\n', &self.chunk[i..n]).map_or(n, |k| i + k);
            if end > i {
                if std::mem::take(&mut self.pending_cr) {
                    self.push(b'\r', out, &mut at);
                }
                out[at..at + end - i].copy_from_slice(&self.chunk[i..end]);
                at += end - i;
                self.at_line_start = false;
            }
            if end == n {
                break;
            }
            let byte = self.chunk[end];
            if std::mem::take(&mut self.pending_cr) && byte != b'\n' {
                self.push(b'\r', out, &mut at);
            }
            if byte == b'\r' {
                self.pending_cr = true;
            } else {
                self.push(byte, out, &mut at);
            }
            i = end + 1;
        }
        at
    }
}

impl Read for LineFilter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.len() < 2 {
            return Err(std::io::Error::other("read buffer too small"));
        }
        // One held `\r` can come out ahead of a chunk: leave room for it.
        let want = (buf.len() - 1).min(self.chunk.len());
        loop {
            let n = self.inner.read(&mut self.chunk[..want])?;
            if n == 0 {
                let mut at = 0;
                if std::mem::take(&mut self.pending_cr) {
                    self.push(b'\r', buf, &mut at);
                }
                return Ok(at);
            }
            let written = self.filter(n, buf);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// The input line of the parser's `line`, counting the blank lines dropped before it.
fn original_line(dropped: &Mutex<Vec<u64>>, line: u64) -> u64 {
    let before = dropped
        .lock()
        .map(|d| d.iter().filter(|at| **at <= line).count())
        .unwrap_or(0);
    line + before as u64
}

fn rejected(file: &str, line: u64, reason: String, raw: String) -> Rejected {
    Rejected {
        file: file.into(),
        line,
        field: String::new(),
        reason,
        raw,
    }
}

fn ndjson_records(file: String, input: Box<dyn Read + Send>) -> Result<Records> {
    let mut reader = BufReader::new(input);
    let mut first = String::new();
    let io = |source| Error::Io {
        path: file.clone().into(),
        source,
    };
    // A JSON array file is read whole; NDJSON streams line by line.
    let buffer = reader.fill_buf().map_err(io)?;
    let starts_with_array = buffer
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf)
        == Some(&b'[');
    if starts_with_array {
        reader.read_to_string(&mut first).map_err(io)?;
        let items: Vec<Json> =
            serde_json::from_str(first.trim_start_matches('\u{feff}')).map_err(|e| {
                Error::BadFile {
                    file: file.clone(),
                    reason: format!("not a JSON array of records: {e}"),
                }
            })?;
        let header = items
            .first()
            .and_then(Json::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let name = file.clone();
        let records = items
            .into_iter()
            .enumerate()
            .map(move |(i, item)| match item {
                Json::Object(fields) => Ok(SourceRecord::new(i as u64 + 1, fields)),
                other => Err(rejected(
                    &name,
                    i as u64 + 1,
                    "not a JSON object".into(),
                    other.to_string(),
                )),
            });
        return Ok(Records {
            file,
            layout: Layout::Ndjson,
            header,
            records: Box::new(records),
        });
    }
    let mut lines = reader.lines().enumerate().peekable();
    let header = match lines.peek() {
        Some((_, Ok(l))) => {
            serde_json::from_str::<Map<String, Json>>(l.trim_start_matches('\u{feff}'))
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let name = file.clone();
    let records = lines.filter_map(move |(i, l)| {
        let line = i as u64 + 1;
        let text = match l {
            Ok(t) => t,
            Err(e) => return Some(Err(rejected(&name, line, e.to_string(), String::new()))),
        };
        let text = text.trim_start_matches('\u{feff}');
        if text.trim().is_empty() {
            return None;
        }
        Some(match serde_json::from_str::<Map<String, Json>>(text) {
            Ok(fields) => Ok(SourceRecord::new(line, fields)),
            Err(e) => Err(rejected(
                &name,
                line,
                format!("not a JSON object: {e}"),
                text.into(),
            )),
        })
    });
    Ok(Records {
        file,
        layout: Layout::Ndjson,
        header,
        records: Box::new(records),
    })
}

fn parquet_records(file: String, handle: File) -> Result<Records> {
    let bad = |e: &dyn std::fmt::Display| Error::BadFile {
        file: file.clone(),
        reason: format!("not a readable Parquet file: {e}"),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(|e| bad(&e))?;
    let header = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder.build().map_err(|e| bad(&e))?;
    let name = file.clone();
    let mut offset = 0u64;
    let records = reader.flat_map(move |batch| {
        let rows = match batch {
            Ok(b) => batch_rows(&b, offset),
            Err(e) => vec![Err(rejected(
                &name,
                offset + 1,
                e.to_string(),
                String::new(),
            ))],
        };
        offset += rows.len() as u64;
        rows
    });
    Ok(Records {
        file,
        layout: Layout::Parquet,
        header,
        records: Box::new(records),
    })
}

fn batch_rows(
    batch: &RecordBatch,
    offset: u64,
) -> Vec<std::result::Result<SourceRecord, Rejected>> {
    let schema = batch.schema();
    let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    (0..batch.num_rows())
        .map(|i| {
            let fields = names
                .iter()
                .zip(batch.columns())
                .map(|(n, col)| ((*n).clone(), cell_json(col.as_ref(), i)))
                .collect();
            Ok(SourceRecord::new(offset + i as u64 + 1, fields))
        })
        .collect()
}

/// One Arrow cell as JSON: maps and structs become objects, lists arrays, numbers
/// and booleans stay typed, and everything else (strings of every encoding,
/// decimals, dates and timestamps) is Arrow's display text, which the value readers
/// parse.
pub fn cell_json(array: &dyn Array, i: usize) -> Json {
    if array.is_null(i) {
        return Json::Null;
    }
    match array.data_type() {
        DataType::Boolean => Json::Bool(array.as_boolean().value(i)),
        DataType::Float64 => number(
            array
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(i),
        ),
        DataType::Float32 => number(f64::from(
            array
                .as_primitive::<datafusion::arrow::datatypes::Float32Type>()
                .value(i),
        )),
        DataType::Int64 => Json::from(
            array
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(i),
        ),
        DataType::Int32 => Json::from(
            array
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .value(i),
        ),
        DataType::Map(_, _) => {
            let entries = array.as_map().value(i);
            let keys = entries.column(0);
            let values = entries.column(1);
            let object = (0..entries.len())
                .map(|j| (plain_text(keys.as_ref(), j), cell_json(values.as_ref(), j)))
                .collect();
            Json::Object(object)
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let object = fields
                .iter()
                .zip(s.columns())
                .map(|(f, c)| (f.name().clone(), cell_json(c.as_ref(), i)))
                .collect();
            Json::Object(object)
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(i);
            Json::Array(
                (0..items.len())
                    .map(|j| cell_json(items.as_ref(), j))
                    .collect(),
            )
        }
        DataType::LargeList(_) => {
            let items = array.as_list::<i64>().value(i);
            Json::Array(
                (0..items.len())
                    .map(|j| cell_json(items.as_ref(), j))
                    .collect(),
            )
        }
        _ => Json::String(plain_text(array, i)),
    }
}

fn number(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

fn plain_text(array: &dyn Array, i: usize) -> String {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array, &options) {
        Ok(f) => f.value(i).to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn csv_with_bom_crlf_blank_lines_and_a_ragged_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.csv");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"\xef\xbb\xbfA,B\r\n1,2\r\n\r\n3,4\r\n5\r\n")
            .unwrap();
        let r = open(&path).unwrap();
        assert_eq!(r.header, vec!["A", "B"]);
        let all: Vec<_> = r.records.collect();
        assert_eq!(all.len(), 3);
        let ok: Vec<_> = all.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok[1].get("A"), Some(&Json::String("3".into())));
        let bad = all.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert_eq!((ok[0].line, ok[1].line, bad.line), (2, 4, 5));
        std::fs::write(&path, "A,B\n1,2\n\n3,4\n").unwrap();
        let lines: Vec<u64> = open(&path)
            .unwrap()
            .records
            .map(|r| r.unwrap().line)
            .collect();
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn ndjson_lines_and_json_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.ndjson");
        std::fs::write(&path, "{\"a\":1}\n\n{\"a\":2}\nnope\n").unwrap();
        let r = open(&path).unwrap();
        assert_eq!(r.header, vec!["a"]);
        let all: Vec<_> = r.records.collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].as_ref().unwrap_err().line, 4);
        let path = dir.path().join("b.json");
        std::fs::write(&path, "[{\"a\":1},{\"a\":2}]").unwrap();
        assert_eq!(open(&path).unwrap().records.count(), 2);
    }
}
