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
//! the periods that changed through one lake write, a chunk at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::line_hash::{LineHash, content_hash};
use super::row::CostRow;
use super::{BillingFile, Defaults, Format, scan_file};
use crate::error::{Error, Result};
use crate::import::{Rejected, write_quarantine};
use crate::lake::batch::{BatchBuilder, Value};
use crate::lake::tables;
use crate::lake::{Changed, Lake};

/// Lines handed from the reading thread to the lake writer at a time.
const CHUNK_LINES: usize = 8 * 1024;

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

type PeriodKey = (String, String, i64);

/// Where an import's lines come from; read once per pass.
enum LineSource {
    /// Billing files on disk, read twice.
    Files {
        paths: Vec<PathBuf>,
        format: Option<Format>,
        defaults: Defaults,
    },
    /// Files already read into memory (the demo).
    Read(Vec<BillingFile>),
}

/// One line as the passes see it: its file's name (no folders), format and row.
type OnLine<'a> = dyn FnMut(&str, Format, CostRow) -> Result<()> + 'a;

impl LineSource {
    /// Calls `on_line` for every line in file order; returns the files (without
    /// rows) with what their readers noted and rejected.
    fn for_each(&self, on_line: &mut OnLine<'_>) -> Result<Vec<BillingFile>> {
        match self {
            LineSource::Files {
                paths,
                format,
                defaults,
            } => paths
                .iter()
                .map(|path| {
                    let name = file_name(&path.to_string_lossy());
                    scan_file(path, *format, defaults, &mut |format, _, row| {
                        on_line(&name, format, row)
                    })
                })
                .collect(),
            LineSource::Read(files) => {
                let mut out = Vec::with_capacity(files.len());
                for f in files {
                    let name = file_name(&f.file);
                    for (_, row) in &f.rows {
                        on_line(&name, f.format, row.clone())?;
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
    hashes: Vec<LineHash>,
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
    let mut changed: HashMap<PeriodKey, String> = HashMap::new();
    let mut import_rows = Vec::new();
    for (key, mut period) in periods {
        period.hashes.sort_unstable();
        let import_id = import_id(&key, &period.hashes);
        let lines = period.hashes.len();
        let import_row = vec![
            Value::text(key.0.clone()),
            Value::text(key.1.clone()),
            Value::Timestamp(key.2),
            Value::text(import_id.clone()),
            Value::Int(lines as i64),
            Value::TextList(period.files.into_iter().collect()),
        ];
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
            changed.insert(key, import_id);
        }
    }
    if !changed.is_empty() {
        let read: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
        write_lines(lake, source, changed, read).await?;
    }
    lake.write_changed(&tables::cost_imports(), import_rows)
        .await?;
    let file_rows = files.iter().map(file_row).collect();
    lake.write_changed(&tables::cost_files(), file_rows).await?;
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

fn period_of(row: &CostRow) -> PeriodKey {
    (
        row.text("x_provider").unwrap_or("unknown").to_string(),
        row.text("BillingAccountId").unwrap_or_default().to_string(),
        row.time("BillingPeriodStart").unwrap_or_default(),
    )
}

/// First pass: every line's period and content hash.
fn scan_periods(
    source: &LineSource,
) -> Result<(Vec<BillingFile>, BTreeMap<PeriodKey, PeriodScan>)> {
    let mut periods: BTreeMap<PeriodKey, PeriodScan> = BTreeMap::new();
    let files = source.for_each(&mut |name, _, row| {
        let period = periods.entry(period_of(&row)).or_default();
        period.hashes.push(content_hash(&row));
        if !period.files.contains(name) {
            period.files.insert(name.to_string());
        }
        Ok(())
    })?;
    Ok((files, periods))
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

fn line_id(hash: &LineHash, occurrence: u32) -> String {
    format!("{}-{occurrence}", hex::encode(hash))
}

/// Second pass: the lines of the changed periods, with their ids, through one lake
/// write. A thread reads and sends chunks; this task writes them.
async fn write_lines(
    lake: &Lake,
    source: Arc<LineSource>,
    changed: HashMap<PeriodKey, String>,
    first_pass: Vec<String>,
) -> Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<Value>>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut seen: HashMap<PeriodKey, HashMap<LineHash, u32>> = HashMap::new();
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        let files = source.for_each(&mut |name, format, mut row| {
            let key = period_of(&row);
            let Some(import_id) = changed.get(&key) else {
                return Ok(());
            };
            let hash = content_hash(&row);
            let n = seen.entry(key).or_default().entry(hash).or_default();
            *n += 1;
            row.set("x_line_id", Value::Text(line_id(&hash, *n)));
            row.set("x_import_id", Value::text(import_id.clone()));
            row.set("x_source_file", Value::text(name));
            row.set("x_source_format", Value::text(format.name()));
            chunk.push(row.into_values());
            if chunk.len() >= CHUNK_LINES {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_LINES));
                // A closed channel means the writer failed; its error is reported.
                let _ = tx.blocking_send(full);
            }
            Ok(())
        })?;
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
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
    let spec = tables::costs();
    let mut writer = lake.begin_write(&spec);
    let mut failed = None;
    while let Some(rows) = rx.recv().await {
        let mut builder = BatchBuilder::new(&spec);
        let written = match rows.iter().try_for_each(|r| builder.push(r)) {
            Ok(()) => match builder.finish() {
                Ok(batch) => writer.write_batch(&batch).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = written {
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

fn file_row(f: &BillingFile) -> Vec<Value> {
    vec![
        Value::text(f.sha256.clone()),
        Value::text(f.file.clone()),
        Value::text(f.format.name()),
        Value::opt_text(f.focus_version),
        Value::TextList(f.columns.clone()),
        Value::Int(f.lines as i64),
        Value::Int(f.rejected.len() as i64),
        Value::TextList(f.notes.iter().map(|(k, n)| format!("{k} ({n})")).collect()),
    ]
}

fn day_text(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
