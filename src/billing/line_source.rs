//! Where an import's lines come from: billing files on disk, or files already read
//! into memory. An import reads its source twice (the first pass hashes, the second
//! writes; see [`super::import`]), so the source is a value both passes hold.

use std::path::{Path, PathBuf};

use super::scan::Lines;
use super::{BillingFile, Defaults, Format, scan_file};
use crate::error::Result;

/// Where an import's lines come from; read once per pass.
pub(super) enum LineSource {
    /// Billing files on disk, read twice.
    Files {
        paths: Vec<PathBuf>,
        format: Option<Format>,
        defaults: Defaults,
    },
    /// Files already read into memory (the demo).
    Read(Vec<BillingFile>),
}

/// One chunk of lines as the passes see it: its file's name (no folders), format
/// and what the pass's `prepare` made of its lines.
type OnChunk<'a, T> = dyn FnMut(&str, Format, T) -> Result<()> + 'a;

/// Lines per chunk of an already read file.
const READ_CHUNK: usize = 1024;

impl LineSource {
    /// Calls `on_chunk` for every chunk of lines in file order, with `prepare` of
    /// its lines (run on the mapping threads); returns the files (without rows)
    /// with what their readers noted and rejected.
    pub(super) fn for_each<T: Send>(
        &self,
        prepare: &(dyn Fn(Lines) -> T + Sync),
        on_chunk: &mut OnChunk<'_, T>,
    ) -> Result<Vec<BillingFile>> {
        match self {
            LineSource::Files {
                paths,
                format,
                defaults,
            } => paths
                .iter()
                .map(|path| {
                    let name = file_name(&path.to_string_lossy());
                    scan_file(path, *format, defaults, prepare, &mut |format, lines| {
                        on_chunk(&name, format, lines)
                    })
                })
                .collect(),
            LineSource::Read(files) => {
                let mut out = Vec::with_capacity(files.len());
                for f in files {
                    let name = file_name(&f.file);
                    for chunk in f.rows.chunks(READ_CHUNK) {
                        on_chunk(&name, f.format, prepare(chunk.to_vec()))?;
                    }
                    out.push(BillingFile {
                        file: f.file.clone(),
                        sha256: f.sha256.clone(),
                        format: f.format,
                        focus_version: f.focus_version,
                        columns: f.columns.clone(),
                        rows: Vec::new(),
                        lines: f.lines,
                        rejected: f.rejected.clone(),
                        notes: f.notes.clone(),
                    });
                }
                Ok(out)
            }
        }
    }
}

fn file_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map_or(file.to_string(), |n| n.to_string_lossy().into_owned())
}
