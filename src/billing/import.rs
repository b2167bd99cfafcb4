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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::row::CostRow;
use super::{BillingFile, Defaults, Format, read_file};
use crate::error::Result;
use crate::import::{Rejected, write_quarantine};
use crate::lake::batch::Value;
use crate::lake::tables;
use crate::lake::{Changed, Lake, short_sha256};

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
    /// Cost lines written (new, updated).
    pub written: Changed,
    /// Billing periods touched.
    pub periods: Vec<PeriodSummary>,
    /// Records quarantined.
    pub quarantined: usize,
    /// What readers normalised, by note, summed over files.
    pub notes: BTreeMap<String, usize>,
}

type PeriodKey = (String, String, i64);

/// Imports billing `paths` into `costs`; see the module docs.
pub async fn import_costs(
    lake: &Lake,
    paths: &[PathBuf],
    options: &CostImportOptions,
) -> Result<CostImportSummary> {
    let files = read_all(paths, options).await?;
    store(lake, files, options.skip_bad).await
}

/// Writes billing files already read (see the module docs); `skip_bad` as in
/// [`CostImportOptions`].
pub async fn store(
    lake: &Lake,
    files: Vec<BillingFile>,
    skip_bad: bool,
) -> Result<CostImportSummary> {
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
        lines: files.iter().map(|f| f.rows.len()).sum(),
        quarantined: rejected.len(),
        ..CostImportSummary::default()
    };
    for f in &files {
        for (note, n) in &f.notes {
            *summary.notes.entry(note.clone()).or_default() += n;
        }
    }
    let file_rows = files.iter().map(file_row).collect();
    let groups = group_by_period(files);
    let imports = tables::cost_imports();
    let current = lake.current_column(&imports, "import_id").await?;
    let mut cost_rows = Vec::new();
    let mut import_rows = Vec::new();
    for (key, rows) in groups {
        let (import_id, lines, names, mut values) = identify(&key, rows);
        let import_row = vec![
            Value::text(key.0.clone()),
            Value::text(key.1.clone()),
            Value::Timestamp(key.2),
            Value::text(import_id.clone()),
            Value::Int(lines as i64),
            Value::TextList(names),
        ];
        let rendered = Lake::rendered_keys(&imports, std::slice::from_ref(&import_row))?;
        let previous = rendered.first().and_then(|k| current.get(k));
        summary.periods.push(PeriodSummary {
            provider: key.0,
            billing_account_id: key.1,
            period: day_text(key.2),
            lines,
            replaced: previous.is_some_and(|p| *p != import_id),
            unchanged: previous == Some(&import_id),
        });
        // A period whose lines are exactly the current import's is skipped whole,
        // even when read from a renamed copy of the file.
        if previous != Some(&import_id) {
            import_rows.push(import_row);
            cost_rows.append(&mut values);
        }
    }
    summary.written = lake.write_changed(&tables::costs(), cost_rows).await?;
    lake.write_changed(&tables::cost_imports(), import_rows)
        .await?;
    lake.write_changed(&tables::cost_files(), file_rows).await?;
    if !rejected.is_empty() {
        write_quarantine(lake, &tables::costs(), &rejected).await?;
    }
    Ok(summary)
}

async fn read_all(paths: &[PathBuf], options: &CostImportOptions) -> Result<Vec<BillingFile>> {
    let paths = paths.to_vec();
    let format = options.format;
    let defaults = options.defaults.clone();
    tokio::task::spawn_blocking(move || {
        paths
            .iter()
            .map(|p| read_file(p, format, &defaults))
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| crate::error::Error::encode("billing import", e))?
}

struct Line {
    file: String,
    format: Format,
    row: CostRow,
}

fn group_by_period(files: Vec<BillingFile>) -> BTreeMap<PeriodKey, Vec<Line>> {
    let mut groups: BTreeMap<PeriodKey, Vec<Line>> = BTreeMap::new();
    for f in files {
        let name = Path::new(&f.file)
            .file_name()
            .map_or(f.file.clone(), |n| n.to_string_lossy().into_owned());
        for (_, row) in f.rows {
            let key = (
                row.text("x_provider").unwrap_or("unknown").to_string(),
                row.text("BillingAccountId").unwrap_or_default().to_string(),
                row.time("BillingPeriodStart").unwrap_or_default(),
            );
            groups.entry(key).or_default().push(Line {
                file: name.clone(),
                format: f.format,
                row,
            });
        }
    }
    groups
}

/// Line ids and the import id of one period's lines; returns the import id, the
/// line count, the files and the finished rows.
fn identify(key: &PeriodKey, lines: Vec<Line>) -> (String, usize, Vec<String>, Vec<Vec<Value>>) {
    let mut hashed: Vec<(String, Line)> = lines
        .into_iter()
        .map(|l| (content_hash(&l.row), l))
        .collect();
    hashed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut ids = Vec::with_capacity(hashed.len());
    let mut files: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(hashed.len());
    let mut identified = Vec::with_capacity(hashed.len());
    for (hash, line) in hashed {
        let n = seen.entry(hash.clone()).or_default();
        *n += 1;
        let id = format!("{hash}-{n}");
        ids.push(id.clone());
        if !files.contains(&line.file) {
            files.push(line.file.clone());
        }
        identified.push((id, line));
    }
    let import_id = short_sha256(
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            key.0,
            key.1,
            key.2,
            ids.join(",")
        )
        .as_bytes(),
        16,
    );
    for (id, mut line) in identified {
        line.row.set("x_line_id", Value::Text(id));
        line.row.set("x_import_id", Value::text(import_id.clone()));
        line.row.set("x_source_file", Value::Text(line.file));
        line.row
            .set("x_source_format", Value::text(line.format.name()));
        rows.push(line.row.into_values());
    }
    files.sort();
    (import_id, rows.len(), files, rows)
}

/// Hash of a line's FOCUS values (the `x_` columns are northstar's, not the bill's).
fn content_hash(row: &CostRow) -> String {
    let content: Vec<&Value> = super::row::spec()
        .columns
        .iter()
        .zip(row.values())
        .filter(|(c, _)| !c.name.starts_with("x_") || c.name == "x_provider")
        .map(|(_, v)| v)
        .collect();
    short_sha256(format!("{content:?}").as_bytes(), 12)
}

fn file_row(f: &BillingFile) -> Vec<Value> {
    vec![
        Value::text(f.sha256.clone()),
        Value::text(f.file.clone()),
        Value::text(f.format.name()),
        Value::opt_text(f.focus_version),
        Value::TextList(f.columns.clone()),
        Value::Int(f.rows.len() as i64),
        Value::Int(f.rejected.len() as i64),
        Value::TextList(f.notes.iter().map(|(k, n)| format!("{k} ({n})")).collect()),
    ]
}

fn day_text(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
