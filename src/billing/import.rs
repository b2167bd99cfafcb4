//! Writing billing lines: one import per provider, billing account and billing
//! period.
//!
//! A provider restates a month until it closes, so the unit of truth is the period,
//! not the line. Every line gets a content id (hash of its FOCUS values plus its
//! occurrence number among identical lines, so true duplicates survive), and each
//! period's lines get an import id (hash of the period key and all its line ids).
//! Lines are written first; then the period's `cost_imports` row, which the engine
//! reads to pick the current lines. Re-importing the same files writes nothing;
//! a restated period writes its new lines and moves the pointer, so the old lines
//! stay readable (`costs__versions`) but no longer count. A crash between the two
//! writes leaves the previous import current.
//!
//! An import streams in two passes, because a line's row carries its period's
//! import id, which depends on every line of the period: the first pass keeps
//! only each line's period and 12-byte content hash (so memory is tens of bytes a
//! line, not the line), the second reads the files again and writes the lines of
//! the periods that changed through one lake write, a chunk at a time
//! (`second_pass.rs`, which takes the hashes from the first pass instead of
//! hashing again). Both passes map records on every core ([`super::scan`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::hash_log::HashLog;
use super::line_hash::{LineHash, content_hash, line_id};
use super::line_source::LineSource;
use super::period::{PeriodKey, in_period, period_of};
use super::scan::Lines;
use super::second_pass::{ChangedLines, ChangedPeriods, write_lines};
use super::{BillingFile, Defaults, Format};
use crate::error::{Error, Result};
use crate::import::{Rejected, write_quarantine};
use crate::lake::batch::Value;
use crate::lake::row::RowBuilder;
use crate::lake::tables::{self, TableSpec};
use crate::lake::{Changed, Lake};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct CostImportOptions {
    /// The format of every file; detected per file when `None`.
    pub format: Option<Format>,
    /// Write the good lines and quarantine the bad ones instead of rejecting all.
    pub skip_bad: bool,
    /// Values for columns the files leave out.
    pub defaults: Defaults,
}

/// One billing period an import touched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeriodSummary {
    /// Provider (FOCUS `ServiceProviderName`/`ProviderName`).
    pub provider: String,
    /// Billing account.
    pub billing_account_id: String,
    /// Billing period start, `YYYY-MM-DD`.
    pub period: String,
    /// Lines in the period now.
    pub lines: usize,
    /// Whether this import replaced a different stored version of the period.
    pub replaced: bool,
    /// Whether the lake already held exactly this import.
    pub unchanged: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CostImportSummary {
    /// Files read, with their format and FOCUS version.
    pub files: Vec<(String, String)>,
    /// Lines read.
    pub lines: usize,
    /// Cost lines written: new (periods not stored before) and updated (lines of
    /// restated periods, written again under the period's new import id).
    pub written: Changed,
    /// Billing periods touched.
    pub periods: Vec<PeriodSummary>,
    /// Records quarantined.
    pub quarantined: usize,
    /// What readers normalised, by note, summed over files.
    pub notes: BTreeMap<String, usize>,
}

/// Imports billing `paths` into `costs`; see the module docs.
pub async fn import_costs(
    lake: &Lake,
    paths: &[PathBuf],
    options: &CostImportOptions,
) -> Result<CostImportSummary> {
    let source = LineSource::Files {
        paths: paths.to_vec(),
        format: options.format,
        defaults: options.defaults.clone(),
    };
    import_lines(lake, Arc::new(source), options.skip_bad).await
}

/// Writes billing files already read (see the module docs); `skip_bad` as in
/// [`CostImportOptions`].
pub async fn store(
    lake: &Lake,
    files: Vec<BillingFile>,
    skip_bad: bool,
) -> Result<CostImportSummary> {
    import_lines(lake, Arc::new(LineSource::Read(files)), skip_bad).await
}

/// What the first pass keeps of one period.
#[derive(Default)]
struct PeriodScan {
    /// Its lines' content hashes, in file order.
    hashes: HashLog,
    files: BTreeSet<String>,
}

async fn import_lines(
    lake: &Lake,
    source: Arc<LineSource>,
    skip_bad: bool,
) -> Result<CostImportSummary> {
    let first = Arc::clone(&source);
    let (files, periods) = blocking(move || scan_periods(&first)).await?;
    let mut rejected: Vec<Rejected> = files.iter().flat_map(|f| f.rejected.clone()).collect();
    if !skip_bad && !rejected.is_empty() {
        let more = rejected.len() - 1;
        if more > 0 {
            tracing::error!(
                more,
                "More bad records follow; --skip-bad quarantines them all."
            );
        }
        return Err(rejected.swap_remove(0).into_error());
    }
    let mut summary = CostImportSummary {
        files: files
            .iter()
            .map(|f| {
                let version = f.focus_version.map(|v| format!(" {v}")).unwrap_or_default();
                (f.file.clone(), format!("{}{version}", f.format.name()))
            })
            .collect(),
        lines: files.iter().map(|f| f.lines).sum(),
        quarantined: rejected.len(),
        ..CostImportSummary::default()
    };
    for f in &files {
        for (note, n) in &f.notes {
            *summary.notes.entry(note.clone()).or_default() += n;
        }
    }
    let imports = tables::cost_imports();
    let current = lake.current_column(&imports, "import_id").await?;
    let mut changed: HashMap<PeriodKey, ChangedLines> = HashMap::new();
    let mut import_rows = Vec::new();
    for (key, mut period) in periods {
        // Sorted for the id, one period at a time; the second pass reuses the
        // hashes in file order.
        let mut sorted = period.hashes.read_all()?;
        sorted.sort_unstable();
        let import_id = import_id(&key, &sorted);
        let repeated = repeated_hashes(&sorted);
        drop(sorted);
        let lines = period.hashes.len();
        let import_row = RowBuilder::new(&imports)
            .set("provider", &key.0)
            .set("billing_account_id", &key.1)
            .set("billing_period_start", Value::Timestamp(key.2))
            .set("import_id", &import_id)
            .set("lines", Value::Int(lines as i64))
            .set("files", period.files.into_iter().collect::<Vec<_>>())
            .finish()?;
        let rendered = Lake::rendered_keys(&imports, std::slice::from_ref(&import_row))?;
        let previous = rendered.first().and_then(|k| current.get(k));
        summary.periods.push(PeriodSummary {
            provider: key.0.clone(),
            billing_account_id: key.1.clone(),
            period: day_text(key.2),
            lines,
            replaced: previous.is_some_and(|p| *p != import_id),
            unchanged: previous == Some(&import_id),
        });
        // A period whose lines are exactly the current import's is skipped whole,
        // even when read from a renamed copy of the file.
        if previous != Some(&import_id) {
            match previous {
                Some(_) => summary.written.updated += lines,
                None => summary.written.new += lines,
            }
            import_rows.push(import_row);
            changed.insert(
                key,
                ChangedLines {
                    import_id,
                    hashes: period.hashes.reader()?,
                    repeated,
                },
            );
        }
    }
    if !changed.is_empty() {
        let read: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
        write_lines(lake, source, ChangedPeriods::new(changed), read).await?;
    }
    lake.write_changed(&imports, import_rows).await?;
    let file_spec = tables::cost_files();
    let file_rows = files
        .iter()
        .map(|f| file_row(&file_spec, f))
        .collect::<Result<_>>()?;
    lake.write_changed(&file_spec, file_rows).await?;
    if !rejected.is_empty() {
        write_quarantine(lake, &tables::costs(), &rejected).await?;
    }
    Ok(summary)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::encode("billing import", e))?
}

/// A chunk's lines as the first pass keeps them: the periods they belong to, and
/// each line's period (position in `periods`) and content hash.
#[derive(Default)]
struct ChunkScan {
    periods: Vec<PeriodKey>,
    lines: Vec<(usize, LineHash)>,
}

/// On a mapping thread: what the first pass keeps of a chunk.
fn scan_chunk(lines: Lines) -> ChunkScan {
    let mut out = ChunkScan::default();
    for (_, row) in &lines {
        let period = match out.periods.iter().rposition(|k| in_period(row, k)) {
            Some(i) => i,
            None => {
                out.periods.push(period_of(row));
                out.periods.len() - 1
            }
        };
        out.lines.push((period, content_hash(row)));
    }
    out
}

/// First pass: every line's period and content hash.
fn scan_periods(
    source: &LineSource,
) -> Result<(Vec<BillingFile>, BTreeMap<PeriodKey, PeriodScan>)> {
    let mut periods: BTreeMap<PeriodKey, PeriodScan> = BTreeMap::new();
    let files = source.for_each(&scan_chunk, &mut |name, _, chunk| {
        for (i, key) in chunk.periods.into_iter().enumerate() {
            let period = periods.entry(key).or_default();
            for (_, hash) in chunk.lines.iter().filter(|(p, _)| *p == i) {
                period.hashes.push(*hash)?;
            }
            if !period.files.contains(name) {
                period.files.insert(name.to_string());
            }
        }
        Ok(())
    })?;
    Ok((files, periods))
}

/// Hashes occurring more than once in `sorted`.
fn repeated_hashes(sorted: &[LineHash]) -> HashSet<LineHash> {
    sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect()
}

/// The import id of a period: the hash of its key and its line ids in order
/// (sorted content hash, then occurrence number), streamed into the hasher.
fn import_id(key: &PeriodKey, sorted: &[LineHash]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{}\u{1f}{}\u{1f}{}\u{1f}", key.0, key.1, key.2).as_bytes());
    let mut occurrence = 0;
    for (i, hash) in sorted.iter().enumerate() {
        occurrence = if i > 0 && sorted[i - 1] == *hash {
            occurrence + 1
        } else {
            1
        };
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(line_id(hash, occurrence).as_bytes());
    }
    crate::lake::short_sha256_of(hasher)
}

fn file_row(spec: &TableSpec, f: &BillingFile) -> Result<Vec<Value>> {
    RowBuilder::new(spec)
        .set("file_sha256", &f.sha256)
        .set("file_name", &f.file)
        .set("format", f.format.name())
        .set("focus_version", f.focus_version)
        .set("columns", f.columns.clone())
        .set("lines", Value::Int(f.lines as i64))
        .set("rejected", Value::Int(f.rejected.len() as i64))
        .set(
            "notes",
            f.notes
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>(),
        )
        .finish()
}

fn day_text(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
