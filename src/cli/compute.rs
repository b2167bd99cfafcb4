//! `northstar compute --from DATE --to DATE [--out FILE] [--sections dora,cost]`

use std::path::PathBuf;

use chrono::Utc;
use clap::Args;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::pipeline;
use crate::report::json::write_atomically;
use crate::report::metrics::Section;
use crate::window::Window;

/// Arguments of `compute`.
#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// Window start, inclusive (YYYY-MM-DD or RFC 3339). Default: the first of the
    /// month twelve months before --to's month, so the trends show twelve whole months.
    #[arg(long)]
    pub from: Option<String>,
    /// Window end, exclusive (YYYY-MM-DD or RFC 3339). Default: tomorrow, so today counts.
    #[arg(long)]
    pub to: Option<String>,
    /// Where to write the JSON (default: metrics.json; `-` for standard output).
    #[arg(long, default_value = "metrics.json")]
    pub out: PathBuf,
    /// Compute only these sections, comma-separated: north_star, dora, okrs,
    /// scorecards, custom, cost (default: all). The others are left out of the JSON.
    #[arg(long, value_delimiter = ',', value_name = "SECTION,...")]
    pub sections: Vec<String>,
}

pub async fn run(args: ComputeArgs, lake: &Lake, config: &Config) -> Result<()> {
    let window = Window::from_flags(args.from.as_deref(), args.to.as_deref())?;
    let sections = if args.sections.is_empty() {
        Section::ALL.to_vec()
    } else {
        args.sections
            .iter()
            .map(|name| Section::parse(name.trim()))
            .collect::<Result<Vec<_>>>()?
    };
    let doc = pipeline::compute(lake, config, window, &sections, Utc::now())
        .await?
        .doc;
    if args.out.as_os_str() == "-" {
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::encode("metrics.json", e))?
        );
    } else {
        write_atomically(&args.out, &doc)?;
        eprintln!("wrote {}", args.out.display());
    }
    Ok(())
}
