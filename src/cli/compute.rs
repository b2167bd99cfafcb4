//! `northstar compute --from DATE --to DATE [--out FILE] [--sections dora,cost]`

use std::path::PathBuf;

use chrono::{Days, Utc};
use clap::Args;

use super::parse_instant;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::report::json::write_atomically;
use crate::report::metrics::{self, Section, Window};
use crate::report::{okrs, scorecards};

/// Arguments of `compute`.
#[derive(Debug, Args)]
pub struct ComputeArgs {
    /// Window start, inclusive (YYYY-MM-DD or RFC 3339). Default: 90 days before --to.
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
    let window = window(args.from.as_deref(), args.to.as_deref())?;
    let sections = if args.sections.is_empty() {
        Section::ALL.to_vec()
    } else {
        args.sections
            .iter()
            .map(|name| Section::parse(name.trim()))
            .collect::<Result<Vec<_>>>()?
    };
    let mut engine = Engine::for_config(lake, config).await?;
    engine.load_custom(&config.custom_dir())?;
    let doc = metrics::compute_sections(&engine, window, config, Utc::now(), &sections).await?;
    okrs::record_checkins(lake, &doc).await?;
    scorecards::record_results(lake, &doc).await?;
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

/// The window from the flags, with the documented defaults.
pub fn window(from: Option<&str>, to: Option<&str>) -> Result<Window> {
    let to = match to {
        Some(t) => parse_instant("--to", t)?,
        None => {
            let tomorrow = Utc::now().date_naive() + Days::new(1);
            tomorrow
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now)
        }
    };
    let from = match from {
        Some(f) => parse_instant("--from", f)?,
        None => to - chrono::Duration::days(90),
    };
    Ok(Window { from, to })
}
