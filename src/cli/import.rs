//! `northstar import <table> <file>...`

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::import::{ImportOptions, import_files};
use crate::lake::Lake;

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Target table (deployments, commits, deployment_commits, incidents, tickets,
    /// ticket_transitions, platform_actions, services, costs).
    pub table: String,
    /// CSV (header of column names) or NDJSON files; `.gz` is decompressed.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the good records and put the bad ones in the `quarantine` table
    /// instead of rejecting the whole import.
    #[arg(long)]
    pub skip_bad: bool,
}

pub async fn run(args: ImportArgs, lake: &Lake) -> Result<()> {
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
