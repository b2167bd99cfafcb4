//! CSV files the importers read: a header of canonical column names, then one
//! record per row, split into numbered chunks past a row limit and optionally
//! gzipped. Rows are written as they arrive; nothing is held.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use super::timestamp::push_rfc3339;
use crate::error::{Error, Result};
use crate::lake::batch::Value;

/// The files written for one table and how many rows they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFiles {
    /// The import target (`commits`, ..., `costs`).
    pub table: String,
    /// File names relative to the inputs folder, in write order.
    pub files: Vec<String>,
    /// Data rows over all files.
    pub rows: u64,
}

/// Where and how a table's files are written.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) dir: PathBuf,
    pub(crate) gzip: bool,
    /// Rows per file before the next chunk starts.
    pub(crate) chunk_rows: u64,
}

type Sink = csv::Writer<Box<dyn Write>>;

/// A table being written: the current chunk and the files so far.
pub(crate) struct TableCsv {
    layout: Layout,
    /// File stem: `commits`, `costs/focus-2026-01`.
    stem: String,
    header: Vec<String>,
    writer: Option<Sink>,
    in_chunk: u64,
    done: TableFiles,
    cell: String,
}

impl TableCsv {
    pub(crate) fn new(layout: &Layout, table: &str, stem: &str, header: Vec<String>) -> Self {
        TableCsv {
            layout: layout.clone(),
            stem: stem.to_string(),
            header,
            writer: None,
            in_chunk: 0,
            done: TableFiles {
                table: table.to_string(),
                files: Vec::new(),
                rows: 0,
            },
            cell: String::new(),
        }
    }

    /// Writes one row (cells in header order).
    pub(crate) fn write<'v>(&mut self, row: impl IntoIterator<Item = &'v Value>) -> Result<()> {
        if self.writer.is_none() || self.in_chunk >= self.layout.chunk_rows {
            self.next_chunk()?;
        }
        let path = self.current_path();
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        for value in row {
            self.cell.clear();
            push_cell(&mut self.cell, value);
            writer
                .write_field(self.cell.as_bytes())
                .map_err(|e| io_error(&path, e.into()))?;
        }
        writer
            .write_record(None::<&[u8]>)
            .map_err(|e| io_error(&path, e.into()))?;
        self.in_chunk += 1;
        self.done.rows += 1;
        Ok(())
    }

    /// Flushes and closes the last chunk.
    pub(crate) fn finish(mut self) -> Result<TableFiles> {
        self.close_chunk()?;
        Ok(self.done)
    }

    fn current_path(&self) -> PathBuf {
        self.done
            .files
            .last()
            .map_or_else(PathBuf::new, |f| self.layout.dir.join(f))
    }

    fn next_chunk(&mut self) -> Result<()> {
        self.close_chunk()?;
        let n = self.done.files.len() + 1;
        let suffix = if self.layout.gzip { ".csv.gz" } else { ".csv" };
        let name = if n == 1 {
            format!("{}{suffix}", self.stem)
        } else {
            format!("{}.{n}{suffix}", self.stem)
        };
        let path = self.layout.dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        let file = File::create(&path).map_err(|e| io_error(&path, e))?;
        let out: Box<dyn Write> = if self.layout.gzip {
            // Level 1: the inputs are scratch data, and speed matters more than size.
            Box::new(GzEncoder::new(
                BufWriter::with_capacity(1 << 20, file),
                Compression::fast(),
            ))
        } else {
            Box::new(BufWriter::with_capacity(1 << 20, file))
        };
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        writer
            .write_record(&self.header)
            .map_err(|e| io_error(&path, e.into()))?;
        self.done.files.push(name);
        self.writer = Some(writer);
        self.in_chunk = 0;
        Ok(())
    }

    fn close_chunk(&mut self) -> Result<()> {
        let path = self.current_path();
        if let Some(writer) = self.writer.take() {
            let mut inner = writer
                .into_inner()
                .map_err(|e| io_error(&path, e.into_error()))?;
            inner.flush().map_err(|e| io_error(&path, e))?;
            // Dropping a GzEncoder writes its trailer; flushing first surfaces errors.
            drop(inner);
        }
        Ok(())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One cell as `northstar import` parses it back: RFC 3339 times, `true`/`false`,
/// lists space-separated (a JSON array when an item could be misread that way).
pub(crate) fn push_cell(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Text(s) => out.push_str(s),
        Value::Timestamp(us) => push_rfc3339(out, *us),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::TextList(items) => push_list(out, items),
    }
}

fn push_list(out: &mut String, items: &[String]) {
    let plain = !items.is_empty()
        && items.iter().all(|i| {
            !i.is_empty()
                && !i.starts_with('[')
                && !i.contains(|c: char| c == ';' || c.is_whitespace())
        });
    if plain {
        out.push_str(&items.join(" "));
    } else {
        // Serialising a list of strings cannot fail.
        out.push_str(&serde_json::to_string(items).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse::parse_cell;
    use crate::lake::tables::table;

    #[test]
    fn cells_parse_back_to_the_same_values() {
        let spec = table("commits").unwrap();
        let parents = spec.column("parent_shas").unwrap();
        let lists = [
            vec![],
            vec!["a1".to_string()],
            vec!["a1".to_string(), "b2".to_string()],
            vec!["has space".to_string()],
        ];
        for list in lists {
            let v = Value::TextList(list);
            let mut text = String::new();
            push_cell(&mut text, &v);
            let back = parse_cell(parents, crate::import::parse::Cell::Text(&text)).unwrap();
            assert_eq!(back, v, "{text}");
        }
        let authored = spec.column("authored_at").unwrap();
        let v = Value::Timestamp(1_761_955_200_123_456);
        let mut text = String::new();
        push_cell(&mut text, &v);
        let back = parse_cell(authored, crate::import::parse::Cell::Text(&text)).unwrap();
        assert_eq!(back, v);
    }
}
