//! A period's line hashes in file order, kept on disk past a small buffer.
//!
//! The first pass of an import notes every line's 12-byte content hash; the
//! period's import id needs them sorted and the second pass needs them again in
//! file order. Held in memory, that is 12 bytes a line: 600 MB for a year of a
//! 50-million-line bill. A log keeps [`BUFFER`] hashes in memory and appends the
//! rest to an anonymous temporary file (deleted by the system when the import
//! ends, however it ends), so an import's memory does not grow with the bill;
//! only the import id's sort holds one period's hashes at a time.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::line_hash::LineHash;
use crate::error::{Error, Result};

/// Hashes kept in memory before a log moves to its file (768 KiB).
const BUFFER: usize = 64 * 1024;

const HASH: usize = std::mem::size_of::<LineHash>();

fn io_error(source: std::io::Error) -> Error {
    Error::Io {
        path: PathBuf::from("temporary file of line hashes"),
        source,
    }
}

/// Hashes appended in file order.
#[derive(Default)]
pub(super) struct HashLog {
    buffer: Vec<LineHash>,
    file: Option<BufWriter<File>>,
    len: usize,
}

impl HashLog {
    /// Appends one line's hash.
    pub fn push(&mut self, hash: LineHash) -> Result<()> {
        self.buffer.push(hash);
        self.len += 1;
        if self.buffer.len() >= BUFFER {
            self.spill()?;
        }
        Ok(())
    }

    /// Lines noted.
    pub fn len(&self) -> usize {
        self.len
    }

    fn spill(&mut self) -> Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile().map_err(io_error)?));
        }
        if let Some(file) = self.file.as_mut() {
            for hash in self.buffer.drain(..) {
                file.write_all(&hash).map_err(io_error)?;
            }
        }
        Ok(())
    }

    /// Every hash, in file order (one period's worth in memory, for sorting).
    pub fn read_all(&mut self) -> Result<Vec<LineHash>> {
        let mut out = Vec::with_capacity(self.len);
        let mut reader = self.reader()?;
        while let Some(hash) = reader.next_hash()? {
            out.push(hash);
        }
        Ok(out)
    }

    /// A reader from the first hash; the log stays readable again.
    pub fn reader(&mut self) -> Result<HashReader> {
        let file = match self.file.as_mut() {
            Some(writer) => {
                writer.flush().map_err(io_error)?;
                let mut file = writer.get_ref().try_clone().map_err(io_error)?;
                file.seek(SeekFrom::Start(0)).map_err(io_error)?;
                Some(BufReader::new(file))
            }
            None => None,
        };
        let on_disk = self.len - self.buffer.len();
        Ok(HashReader {
            file,
            on_disk,
            buffer: self.buffer.clone(),
            next: 0,
        })
    }
}

/// Reads a [`HashLog`] in file order.
pub(super) struct HashReader {
    file: Option<BufReader<File>>,
    on_disk: usize,
    buffer: Vec<LineHash>,
    next: usize,
}

impl HashReader {
    /// The next hash, `None` after the last.
    pub fn next_hash(&mut self) -> Result<Option<LineHash>> {
        if self.on_disk > 0 {
            let mut hash = [0u8; HASH];
            if let Some(file) = self.file.as_mut() {
                file.read_exact(&mut hash).map_err(io_error)?;
            }
            self.on_disk -= 1;
            return Ok(Some(hash));
        }
        let hash = self.buffer.get(self.next).copied();
        self.next += usize::from(hash.is_some());
        Ok(hash)
    }

    /// Whether every hash was read.
    pub fn is_done(&self) -> bool {
        self.on_disk == 0 && self.next >= self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: usize) -> LineHash {
        let mut h = [0u8; HASH];
        h[..8].copy_from_slice(&(i as u64).to_le_bytes());
        h
    }

    #[test]
    fn hashes_come_back_in_order_from_memory_and_from_disk() {
        for n in [0, 3, BUFFER, BUFFER * 2 + 5] {
            let mut log = HashLog::default();
            for i in 0..n {
                log.push(hash(i)).expect("push");
            }
            assert_eq!(log.len(), n);
            let all = log.read_all().expect("read all");
            assert_eq!(all, (0..n).map(hash).collect::<Vec<_>>(), "n = {n}");
            let mut reader = log.reader().expect("reader");
            for i in 0..n {
                assert_eq!(reader.next_hash().expect("next"), Some(hash(i)));
            }
            assert!(reader.is_done());
            assert_eq!(reader.next_hash().expect("end"), None);
        }
    }
}
