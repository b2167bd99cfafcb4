//! Mapping a file's records to cost lines on every core, the lines handed on in
//! file order.
//!
//! Mapping (parsing numbers and dates, tags, [`row::finish`], the line hash) is
//! most of an import's work and each record's is independent, so one thread reads
//! records in chunks and deals them round-robin to a worker per core; the caller
//! takes the workers' results back in the same round-robin order, which is file
//! order without a reordering buffer. Every channel is bounded: memory is a few
//! chunks per worker, whatever the file's size.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::row::{self, CostRow, Notes};
use super::tabular::SourceRecord;
use super::{Defaults, RecordMapper};
use crate::error::Result;
use crate::import::Rejected;

/// Records a worker maps at a time: large enough that channel hand-offs cost
/// nothing, small enough that the chunks in flight stay a few megabytes.
const CHUNK_RECORDS: usize = 1024;

/// Chunks that may wait in each channel.
const QUEUED_CHUNKS: usize = 2;

/// One chunk's lines, through `prepare`, and what else its records gave.
struct Done<T> {
    lines: T,
    count: usize,
    rejected: Vec<Rejected>,
    notes: Notes,
}

type Record = std::result::Result<SourceRecord, Rejected>;

/// A chunk's cost lines in file order, each with the line (or record) it came from.
pub type Lines = Vec<(u64, CostRow)>;

/// How one file's records become lines.
pub struct Mapping<'a, T> {
    /// The file, as named in rejections.
    pub file: &'a str,
    /// Values for columns records leave out or empty.
    pub defaults: &'a Defaults,
    /// The format's mapper.
    pub mapper: &'a dyn RecordMapper,
    /// Work done on each chunk's lines in the workers (hashing, building Arrow
    /// arrays), so that the caller's sequential part stays small and a line's
    /// strings are freed by the thread that made them.
    pub prepare: &'a (dyn Fn(Lines) -> T + Sync),
}

/// What [`Mapping::run`] returns: lines read and the records rejected, in order.
pub struct Scanned {
    /// Cost lines the records gave.
    pub lines: usize,
    /// Records that could not be read.
    pub rejected: Vec<Rejected>,
}

impl<T: Send> Mapping<'_, T> {
    /// Maps `records` on every core; `on_chunk` gets each chunk's prepared lines
    /// in file order and `notes` what the mapping noted. An error from `on_chunk`
    /// stops the reading and is returned.
    pub fn run(
        &self,
        records: Box<dyn Iterator<Item = Record> + Send>,
        notes: &mut Notes,
        on_chunk: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<Scanned> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let mut scanned = Scanned {
            lines: 0,
            rejected: Vec::new(),
        };
        std::thread::scope(|scope| {
            let mut inputs = Vec::with_capacity(workers);
            let mut outputs = Vec::with_capacity(workers);
            for _ in 0..workers {
                let (in_tx, in_rx) = sync_channel::<Vec<Record>>(QUEUED_CHUNKS);
                let (out_tx, out_rx) = sync_channel::<Done<T>>(QUEUED_CHUNKS);
                scope.spawn(move || self.work(&in_rx, &out_tx));
                inputs.push(in_tx);
                outputs.push(out_rx);
            }
            scope.spawn(move || deal(records, &inputs));
            // Leaving this closure (done or failed) drops the receivers, which
            // stops the workers and then the reader.
            for k in 0.. {
                let Ok(done) = outputs[k % workers].recv() else {
                    break;
                };
                for (note, n) in done.notes {
                    *notes.entry(note).or_default() += n;
                }
                scanned.lines += done.count;
                scanned.rejected.extend(done.rejected);
                on_chunk(done.lines)?;
            }
            Ok(())
        })?;
        Ok(scanned)
    }

    /// A worker: maps chunks until the reader is done or the caller gone.
    fn work(&self, input: &Receiver<Vec<Record>>, output: &SyncSender<Done<T>>) {
        while let Ok(chunk) = input.recv() {
            let mut notes = Notes::new();
            let mut lines = Vec::with_capacity(chunk.len());
            let mut rejected = Vec::new();
            for record in chunk {
                let done = match record {
                    Ok(record) => self.map(record, &mut lines, &mut notes),
                    Err(bad) => Err(bad),
                };
                if let Err(bad) = done {
                    rejected.push(bad);
                }
            }
            let done = Done {
                count: lines.len(),
                lines: (self.prepare)(lines),
                rejected,
                notes,
            };
            if output.send(done).is_err() {
                return;
            }
        }
    }

    /// Adds a record's lines to `lines`, or says why it has none.
    fn map(
        &self,
        mut record: SourceRecord,
        lines: &mut Lines,
        notes: &mut Notes,
    ) -> std::result::Result<(), Rejected> {
        for (column, value) in self.defaults {
            record.set_default(column, value);
        }
        let mapped = self.mapper.map(&record, notes).and_then(|rows| {
            rows.into_iter()
                .map(|r| row::finish(r, notes))
                .collect::<std::result::Result<Vec<_>, _>>()
        });
        match mapped {
            Ok(rows) => {
                lines.extend(rows.into_iter().map(|r| (record.line, r)));
                Ok(())
            }
            Err(e) => Err(Rejected {
                file: self.file.to_string(),
                line: record.line,
                field: e.field,
                reason: e.reason,
                raw: record.raw(),
            }),
        }
    }
}

/// The reader: chunks of records dealt round-robin to the workers.
fn deal(records: Box<dyn Iterator<Item = Record> + Send>, workers: &[SyncSender<Vec<Record>>]) {
    let mut records = records.peekable();
    for k in 0.. {
        if records.peek().is_none() {
            return;
        }
        let chunk: Vec<Record> = records.by_ref().take(CHUNK_RECORDS).collect();
        if workers[k % workers.len()].send(chunk).is_err() {
            return;
        }
    }
}
