//! `northstar compact [TABLE]...`: rewrite tables as few sorted files with one row
//! per key (see `lake::compact`).

use std::time::Duration;

use clap::Args;

use crate::error::Result;
use crate::lake::Lake;
use crate::lake::compact::{CompactOptions, CompactSummary, DEFAULT_GRACE, compact_table};
use crate::lake::tables::{self, TableSpec};

/// Arguments of `compact`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Tables to compact (default: every table).
    pub tables: Vec<String>,
    /// Append superseded row versions to `<table>__history/` instead of dropping them.
    #[arg(long)]
    pub keep_history: bool,
    /// Seconds the replaced files stay on disk for queries that listed them just
    /// before (a later compaction deletes them).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_GRACE.as_secs())]
    pub grace_secs: u64,
}

pub async fn run(args: CompactArgs, lake: &Lake) -> Result<()> {
    let specs: Vec<TableSpec> = if args.tables.is_empty() {
        tables::all_tables()
    } else {
        args.tables
            .iter()
            .map(|t| tables::table(t))
            .collect::<Result<_>>()?
    };
    let options = CompactOptions {
        keep_history: args.keep_history,
        grace: Duration::from_secs(args.grace_secs),
    };
    for spec in &specs {
        let summary = compact_table(lake, spec, options).await?;
        println!("{}", describe(&summary));
    }
    Ok(())
}

fn describe(s: &CompactSummary) -> String {
    if s.files_after == 0 {
        let state = if s.files_before == 0 {
            "empty"
        } else {
            "already compact"
        };
        return format!("{}: {state}, {} old file(s) removed", s.table, s.removed);
    }
    let superseded = if s.history {
        format!(
            "{} superseded version(s) moved to {}__history",
            s.superseded, s.table
        )
    } else {
        format!("{} superseded version(s) dropped", s.superseded)
    };
    format!(
        "{}: {} file(s) → {}, {} row(s), {superseded}, {} old file(s) removed",
        s.table, s.files_before, s.files_after, s.rows, s.removed
    )
}
