//! Billing exports → the FOCUS-shaped `costs` table.
//!
//! Each supported format has a reader that maps one source record to FOCUS cost
//! lines ([`RecordMapper`]); [`read_file`] runs it over a file and passes every line
//! through [`row::finish`]. [`import::import_costs`] groups the lines by provider,
//! billing account and billing period and writes each group as that period's
//! current import, so a restated bill replaces the one before it instead of adding
//! to it. The native → FOCUS mappings are documented in `docs/billing-formats.md`.

pub mod aws_cur;
pub mod aws_cur2;
pub mod azure;
pub mod focus;
pub mod gcp;
mod hash_log;
pub mod import;
pub mod line_hash;
mod line_source;
pub mod oci;
mod period;
pub mod row;
pub mod scan;
mod second_pass;
pub mod tabular;
pub mod values;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::import::Rejected;
use row::{CostRow, FieldError, Notes};
use tabular::SourceRecord;

pub use import::{CostImportOptions, CostImportSummary, import_costs};

/// A billing export format.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// FOCUS 1.0–1.3, and 0.5-era files (any provider's FOCUS export).
    Focus,
    /// AWS Cost and Usage Report, legacy (`lineItem/UnblendedCost` columns).
    AwsCur,
    /// AWS CUR 2.0 / Data Exports (`line_item_unblended_cost`, map columns).
    AwsCur2,
    /// Azure cost details export (EA or MCA, actual or amortized).
    Azure,
    /// Google Cloud billing export to BigQuery (rows as NDJSON or flattened CSV).
    Gcp,
    /// Oracle Cloud cost report (`lineItem/…`, `cost/myCost`).
    Oci,
}

impl Format {
    /// The name used on the command line and in `cost_files.format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Focus => "focus",
            Format::AwsCur => "aws-cur",
            Format::AwsCur2 => "aws-cur2",
            Format::Azure => "azure",
            Format::Gcp => "gcp",
            Format::Oci => "oci",
        }
    }

    fn mapper(self, header: &[String]) -> std::result::Result<Box<dyn RecordMapper>, String> {
        match self {
            Format::Focus => focus::mapper(header),
            Format::AwsCur => aws_cur::mapper(header),
            Format::AwsCur2 => aws_cur2::mapper(header),
            Format::Azure => azure::mapper(header),
            Format::Gcp => gcp::mapper(header),
            Format::Oci => oci::mapper(header),
        }
    }
}

/// Maps one source record of a format to FOCUS cost lines (usually one; a GCP row
/// with credits gives one line per credit too).
pub trait RecordMapper: Send + Sync {
    /// The record's cost lines, or the field that makes it unreadable.
    fn map(&self, record: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError>;

    /// The FOCUS version of the file, for FOCUS inputs.
    fn focus_version(&self) -> Option<&'static str> {
        None
    }
}

/// Tells the format from a header, or `None`.
pub fn detect(header: &[String]) -> Option<Format> {
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    if focus::looks_like(header) {
        Some(Format::Focus)
    } else if has("lineItem/UnblendedCost") || has("lineItem/LineItemType") {
        Some(Format::AwsCur)
    } else if has("line_item_unblended_cost") || has("line_item_line_item_type") {
        Some(Format::AwsCur2)
    } else if has("cost/myCost") || has("lineItem/intervalUsageStart") {
        Some(Format::Oci)
    } else if has("MeterCategory") || has("meterCategory") || has("ChargeType") {
        Some(Format::Azure)
    } else if has("billing_account_id") && (has("usage_start_time") || has("cost")) {
        Some(Format::Gcp)
    } else {
        None
    }
}

/// A billing file read and mapped to FOCUS lines.
#[derive(Debug)]
pub struct BillingFile {
    /// The file as named by the user.
    pub file: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Its format.
    pub format: Format,
    /// FOCUS version, for FOCUS files.
    pub focus_version: Option<&'static str>,
    /// The source columns.
    pub columns: Vec<String>,
    /// FOCUS lines with the line (or record) they came from ([`read_file`]; empty
    /// after [`scan_file`], which hands each line to its caller instead).
    pub rows: Vec<(u64, CostRow)>,
    /// FOCUS lines the file gave.
    pub lines: usize,
    /// Records that could not be read.
    pub rejected: Vec<Rejected>,
    /// What the reader normalised, with counts.
    pub notes: Notes,
}

/// Values for columns a file leaves out or empty (`--set BillingCurrency=USD`),
/// for reduced exports such as the FOCUS spec's worked examples.
pub type Defaults = BTreeMap<String, String>;

/// Reads `path` as `format` (detected from the header when `None`), keeping every
/// line in memory (about 4 KB a line): for small files and tests; imports stream
/// with [`scan_file`].
pub fn read_file(path: &Path, format: Option<Format>, defaults: &Defaults) -> Result<BillingFile> {
    let mut rows = Vec::new();
    let mut file = scan_file(path, format, defaults, &|lines| lines, &mut |_, lines| {
        rows.extend(lines);
        Ok(())
    })?;
    file.rows = rows;
    Ok(file)
}

/// Reads `path` as `format` record by record, handing its FOCUS lines to
/// `on_chunk` a chunk at a time in file order, each chunk (with the line or record
/// each line came from) through `prepare` on the mapping threads (see [`scan`]),
/// with the file's format; the returned file has no `rows`.
/// Memory is a few chunks of records, whatever the file's size.
pub fn scan_file<T: Send>(
    path: &Path,
    format: Option<Format>,
    defaults: &Defaults,
    prepare: &(dyn Fn(scan::Lines) -> T + Sync),
    on_chunk: &mut dyn FnMut(Format, T) -> Result<()>,
) -> Result<BillingFile> {
    let records = tabular::open(path)?;
    let file = records.file.clone();
    let bad = |reason: String| Error::BadFile {
        file: file.clone(),
        reason,
    };
    let format = match format.or_else(|| detect(&records.header)) {
        Some(f) => f,
        None if records.header.is_empty() => Format::Focus,
        None => {
            return Err(bad(
                "cannot tell the billing format from the columns; pass --format \
                 focus|aws-cur|aws-cur2|azure|gcp|oci"
                    .into(),
            ));
        }
    };
    // Column positions in this header are the records' (FOCUS reads CSV cells by
    // position): defaults the file has a column for add none.
    let mut with_defaults = records.header.clone();
    with_defaults.extend(
        defaults
            .keys()
            .filter(|k| !records.header.contains(k))
            .cloned(),
    );
    let mapper = format
        .mapper(&with_defaults)
        .map_err(|reason| bad(format!("{reason} (as {})", format.name())))?;
    let mut out = BillingFile {
        file: file.clone(),
        sha256: String::new(),
        format,
        focus_version: mapper.focus_version(),
        columns: records.header.clone(),
        rows: Vec::new(),
        lines: 0,
        rejected: Vec::new(),
        notes: Notes::new(),
    };
    let mapping = scan::Mapping {
        file: &file,
        defaults,
        mapper: &*mapper,
        prepare,
    };
    // The file's hash is read beside the mapping, on its own thread.
    let (scanned, sha256) = std::thread::scope(|scope| {
        let sha256 = scope.spawn(|| file_sha256(path));
        let scanned = mapping.run(records.records, &mut out.notes, &mut |lines| {
            on_chunk(format, lines)
        })?;
        let sha256 = sha256
            .join()
            .map_err(|_| bad("hashing the file failed".into()))??;
        Ok::<_, Error>((scanned, sha256))
    })?;
    out.sha256 = sha256;
    out.lines = scanned.lines;
    out.rejected = scanned.rejected;
    Ok(out)
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(hasher.finalize()))
}
