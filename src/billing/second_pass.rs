//! The import's second pass: the lines of the changed periods, with their ids,
//! as Arrow batches through one lake write.
//!
//! The mapping threads ([`super::scan`]) turn each chunk's lines of changed
//! periods into a record batch, so a line's strings are made and freed on one
//! thread. Lines are not hashed again: the first pass kept each period's hashes
//! in file order, and the lines come back in that order (the files' SHA-256 is
//! checked). This pass only numbers identical lines in file order (the
//! occurrence in a line id depends on every line before it), fills the id and
//! source columns, and re-cuts the batches into the [`CHUNK_LINES`]-line batches
//! the lake writer always got, so parts are cut where they always were.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;

use super::Format;
use super::hash_log::HashReader;
use super::line_hash::{LineHash, line_id};
use super::line_source::LineSource;
use super::period::{PeriodKey, in_period, period_of};
use super::row::{self, column_index};
use super::scan::Lines;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::batch::{BatchBuilder, Value};
use crate::lake::tables;

/// Lines per batch handed to the lake writer.
const CHUNK_LINES: usize = 8 * 1024;

/// Batches that may wait for the lake writer: about one part's lines (~200k
/// lines, ~100 MB), so mapping goes on while the writer encodes a part instead
/// of leaving a core idle.
const QUEUED_BATCHES: usize = 24;

/// What the second pass needs of a period it writes.
pub(super) struct ChangedLines {
    /// The period's new import id.
    pub import_id: String,
    /// Its lines' content hashes, in file order.
    pub hashes: HashReader,
    /// The hashes more than one of its lines have (identical charges): only these
    /// need counting to number occurrences, so the second pass holds no map of
    /// every line.
    pub repeated: HashSet<LineHash>,
}

/// The periods this import writes: their new import ids, and their lines'
/// content hashes in file order, as the first pass computed them.
pub struct ChangedPeriods {
    index: HashMap<PeriodKey, usize>,
    periods: Vec<ChangedPeriod>,
}

struct ChangedPeriod {
    import_id: String,
    hashes: HashReader,
    /// Occurrences so far of each hash that occurs more than once (every other
    /// line is its hash's first and only occurrence).
    seen: HashMap<LineHash, u32>,
}

impl ChangedPeriods {
    /// From period → its new import id and lines.
    pub fn new(changed: HashMap<PeriodKey, ChangedLines>) -> ChangedPeriods {
        let mut index = HashMap::with_capacity(changed.len());
        let mut periods = Vec::with_capacity(changed.len());
        for (key, lines) in changed {
            index.insert(key, periods.len());
            periods.push(ChangedPeriod {
                import_id: lines.import_id,
                hashes: lines.hashes,
                seen: lines.repeated.into_iter().map(|h| (h, 0)).collect(),
            });
        }
        ChangedPeriods { index, periods }
    }
}

/// A chunk's lines of changed periods: the batch (ids and source columns still
/// empty) and each line's period.
struct ChunkRows {
    batch: RecordBatch,
    periods: Vec<usize>,
}

/// Positions of the columns this pass fills.
struct IdColumns {
    line_id: usize,
    import_id: usize,
    source_file: usize,
    source_format: usize,
}

fn id_columns() -> Result<IdColumns> {
    let at = |name: &str| {
        column_index(name).ok_or_else(|| Error::encode("costs", format!("no column {name}")))
    };
    Ok(IdColumns {
        line_id: at("x_line_id")?,
        import_id: at("x_import_id")?,
        source_file: at("x_source_file")?,
        source_format: at("x_source_format")?,
    })
}

/// On a mapping thread: the chunk's lines of changed periods as a batch.
fn build_chunk(
    index: &HashMap<PeriodKey, usize>,
    ids: &IdColumns,
    lines: Lines,
) -> Result<Option<ChunkRows>> {
    let mut builder = BatchBuilder::new(row::spec());
    let mut periods = Vec::new();
    let mut last: Option<(PeriodKey, Option<usize>)> = None;
    for (_, mut row) in lines {
        let period = match &last {
            Some((key, period)) if in_period(&row, key) => *period,
            _ => {
                let key = period_of(&row);
                let period = index.get(&key).copied();
                last = Some((key, period));
                period
            }
        };
        let Some(period) = period else {
            continue;
        };
        periods.push(period);
        // Required columns, filled in file order by `with_ids`.
        row.set_at(ids.line_id, Value::Text(String::new()));
        row.set_at(ids.import_id, Value::Text(String::new()));
        builder.push(row.values())?;
    }
    if periods.is_empty() {
        return Ok(None);
    }
    Ok(Some(ChunkRows {
        batch: builder.finish()?,
        periods,
    }))
}

/// In file order: the chunk with its line ids (the first pass's hash of the
/// period's next line, and its occurrence among identical lines so far), import
/// ids and source columns.
fn with_ids(
    chunk: ChunkRows,
    ids: &IdColumns,
    changed: &mut [ChangedPeriod],
    (name, format): (&str, Format),
) -> Result<RecordBatch> {
    let mut line_ids = Vec::with_capacity(chunk.periods.len());
    let mut import_ids = Vec::with_capacity(chunk.periods.len());
    for p in &chunk.periods {
        let period = &mut changed[*p];
        // More lines than the first pass read: the file changed in between.
        let hash = period.hashes.next_hash()?.ok_or_else(|| Error::BadFile {
            file: name.to_string(),
            reason: "changed while it was being imported; import it again".into(),
        })?;
        let occurrence = match period.seen.get_mut(&hash) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => 1,
        };
        if period.hashes.is_done() {
            // The period's last line: its counts are not needed any more.
            period.seen = HashMap::new();
        }
        line_ids.push(line_id(&hash, occurrence));
        import_ids.push(period.import_id.clone());
    }
    let rows = chunk.periods.len();
    let mut columns: Vec<ArrayRef> = chunk.batch.columns().to_vec();
    columns[ids.line_id] = Arc::new(StringArray::from(line_ids));
    columns[ids.import_id] = Arc::new(StringArray::from(import_ids));
    columns[ids.source_file] = Arc::new(StringArray::from(vec![name; rows]));
    columns[ids.source_format] = Arc::new(StringArray::from(vec![format.name(); rows]));
    RecordBatch::try_new(chunk.batch.schema(), columns).map_err(|e| Error::encode("costs", e))
}

/// Re-cuts batches into batches of exactly `size` rows (the last one shorter).
struct Rechunk {
    size: usize,
    pending: Vec<RecordBatch>,
    rows: usize,
}

impl Rechunk {
    fn new(size: usize) -> Rechunk {
        Rechunk {
            size,
            pending: Vec::new(),
            rows: 0,
        }
    }

    /// Adds a batch; returns the full batches it completes.
    fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        self.rows += batch.num_rows();
        self.pending.push(batch);
        let mut full = Vec::new();
        while self.rows >= self.size {
            let mut pieces = Vec::new();
            let mut need = self.size;
            while need > 0 {
                let first = self.pending.remove(0);
                if first.num_rows() <= need {
                    need -= first.num_rows();
                    pieces.push(first);
                } else {
                    pieces.push(first.slice(0, need));
                    self.pending
                        .insert(0, first.slice(need, first.num_rows() - need));
                    need = 0;
                }
            }
            self.rows -= self.size;
            full.push(concat(&pieces)?);
        }
        Ok(full)
    }

    /// The rows left, if any.
    fn finish(self) -> Result<Option<RecordBatch>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        concat(&self.pending).map(Some)
    }
}

fn concat(pieces: &[RecordBatch]) -> Result<RecordBatch> {
    match pieces {
        [one] => Ok(one.clone()),
        _ => concat_batches(&pieces[0].schema(), pieces).map_err(|e| Error::encode("costs", e)),
    }
}

/// Second pass: the lines of the changed periods, with their ids, through one lake
/// write. A thread reads and sends batches; this task writes them.
pub async fn write_lines(
    lake: &Lake,
    source: Arc<LineSource>,
    changed: ChangedPeriods,
    first_pass: Vec<String>,
) -> Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(QUEUED_BATCHES);
    let reader = tokio::task::spawn_blocking(move || {
        let ids = id_columns()?;
        let ChangedPeriods {
            index,
            periods: mut changed,
        } = changed;
        let mut rechunk = Rechunk::new(CHUNK_LINES);
        let prepare = |lines: Lines| build_chunk(&index, &ids, lines);
        let files = source.for_each(&prepare, &mut |name, format, chunk| {
            let Some(chunk) = chunk? else {
                return Ok(());
            };
            let batch = with_ids(chunk, &ids, &mut changed, (name, format))?;
            for full in rechunk.push(batch)? {
                // A closed channel means the writer failed; its error is reported.
                let _ = tx.blocking_send(full);
            }
            Ok(())
        })?;
        if let Some(rest) = rechunk.finish()? {
            let _ = tx.blocking_send(rest);
        }
        // The ids were computed from the first reading: a file that changed since
        // would give lines that do not add up to their import id.
        match files
            .iter()
            .zip(&first_pass)
            .find(|(f, sha)| f.sha256 != **sha)
        {
            Some((f, _)) => Err(Error::BadFile {
                file: f.file.clone(),
                reason: "changed while it was being imported; import it again".into(),
            }),
            None => Ok(()),
        }
    });
    let mut writer = lake.begin_write(&tables::costs());
    let mut failed = None;
    while let Some(batch) = rx.recv().await {
        if let Err(e) = writer.write_batch(&batch).await {
            failed = Some(e);
            break;
        }
    }
    drop(rx);
    let read = reader
        .await
        .map_err(|e| Error::encode("billing import", e))?;
    match failed.map_or(read, Err) {
        Ok(()) => writer.commit().await.map(|_| ()),
        Err(e) => {
            writer.abort().await?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn rechunk_cuts_exact_batches_in_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = |from: i64, n: i64| {
            let values: Int64Array = (from..from + n).collect();
            RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(values)]).unwrap()
        };
        let mut rechunk = Rechunk::new(4);
        let mut out = Vec::new();
        for (from, n) in [(0, 3), (3, 3), (6, 9), (15, 1)] {
            out.extend(rechunk.push(batch(from, n)).unwrap());
        }
        out.extend(rechunk.finish().unwrap());
        let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, vec![4, 4, 4, 4]);
        let all = concat_batches(&schema, &out).unwrap();
        assert_eq!(all, batch(0, 16));
    }
}
