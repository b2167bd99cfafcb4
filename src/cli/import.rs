//! `northstar import <table> <file>...`; `import costs` reads billing exports.

use std::path::PathBuf;

use clap::Args;

use crate::billing::{self, CostImportOptions, CostImportSummary, Format};
use crate::error::{Error, Result};
use crate::import::{ImportOptions, import_files};
use crate::lake::Lake;

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Target table (deployments, commits, deployment_commits, incidents, tickets,
    /// ticket_transitions, platform_actions, services, costs).
    pub table: String,
    /// CSV (header of column names) or NDJSON files; `.gz` is decompressed. For
    /// `costs`: billing exports (CSV, NDJSON or Parquet) in any supported format.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the good records and put the bad ones in the `quarantine` table
    /// instead of rejecting the whole import.
    #[arg(long)]
    pub skip_bad: bool,
    /// `costs` only: the billing format of every file (detected from each file's
    /// columns when omitted).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// `costs` only: a value for a column the files leave out or empty, as
    /// COLUMN=VALUE (repeatable), e.g. `--set BillingCurrency=USD`.
    #[arg(long = "set", value_name = "COLUMN=VALUE")]
    pub set: Vec<String>,
}

pub async fn run(args: ImportArgs, lake: &Lake) -> Result<()> {
    if args.table == "costs" {
        return import_costs(args, lake).await;
    }
    if args.format.is_some() || !args.set.is_empty() {
        return Err(Error::Usage(
            "--format and --set apply to `import costs` only".into(),
        ));
    }
    let options = ImportOptions {
        skip_bad: args.skip_bad,
    };
    let summary = import_files(lake, &args.table, &args.files, options).await?;
    println!(
        "imported {} record(s) from {} file(s) into {} ({} row(s) written, {} quarantined)",
        summary.records, summary.files, summary.table, summary.written, summary.quarantined
    );
    Ok(())
}

async fn import_costs(args: ImportArgs, lake: &Lake) -> Result<()> {
    let mut defaults = billing::Defaults::new();
    for pair in &args.set {
        let (column, value) = pair
            .split_once('=')
            .filter(|(c, v)| !c.trim().is_empty() && !v.trim().is_empty())
            .ok_or_else(|| Error::Usage(format!("--set wants COLUMN=VALUE, got `{pair}`")))?;
        defaults.insert(column.trim().to_string(), value.trim().to_string());
    }
    let options = CostImportOptions {
        format: args.format,
        skip_bad: args.skip_bad,
        defaults,
    };
    let summary = billing::import_costs(lake, &args.files, &options).await?;
    print!("{}", describe(&summary));
    Ok(())
}

/// The import summary as the lines `import costs` prints.
pub fn describe(summary: &CostImportSummary) -> String {
    let mut out = String::new();
    for (file, format) in &summary.files {
        out.push_str(&format!("read {file} ({format})\n"));
    }
    for (note, n) in &summary.notes {
        out.push_str(&format!("  normalised: {note} ×{n}\n"));
    }
    for p in &summary.periods {
        let state = if p.unchanged {
            "unchanged"
        } else if p.replaced {
            "restated: replaces the stored version"
        } else {
            "new"
        };
        out.push_str(&format!(
            "period {} {} {}: {} line(s), {state}\n",
            p.provider, p.billing_account_id, p.period, p.lines
        ));
    }
    out.push_str(&format!(
        "imported {} cost line(s) from {} file(s): {} new, {} updated, {} quarantined\n",
        summary.lines,
        summary.files.len(),
        summary.written.new,
        summary.written.updated,
        summary.quarantined
    ));
    out
}
