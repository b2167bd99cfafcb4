//! `northstar collect [--source NAME]...`

use clap::Args;

use crate::collect::{CollectOptions, run as collect_sources};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;

/// Arguments of `collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Collect only this source (repeatable); default: every `[[sources]]` entry.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// No progress display (the summary is still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

pub async fn run(args: CollectArgs, lake: &Lake, config: &Config) -> Result<()> {
    if config.sources.is_empty() {
        return Err(Error::Usage(
            "no [[sources]] in the config; `northstar init` writes an example".into(),
        ));
    }
    let options = CollectOptions {
        only: args.sources,
        quiet: args.quiet,
    };
    for summary in collect_sources(config, lake, &options).await? {
        println!("{summary}");
    }
    Ok(())
}
