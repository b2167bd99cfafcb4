//! The command line: one small file per subcommand; this file holds the argument
//! types and the dispatch.

mod bench;
mod check;
mod collect;
mod compact;
mod compute;
mod demo;
mod import;
mod init;
mod query;
mod report;
mod serve;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::error::Result;
use crate::lake::Lake;

/// northstar: DORA, North Star and cost metrics from a Parquet lake.
#[derive(Debug, Parser)]
#[command(name = "northstar", version, about, long_about = None)]
pub struct Cli {
    /// Lake folder (default: `[lake] path` from the config, else ./northstar-data).
    #[arg(long, global = true, env = "NORTHSTAR_LAKE")]
    pub lake: Option<PathBuf>,
    /// Config file (default: ./northstar.toml when it exists).
    #[arg(long, global = true, env = "NORTHSTAR_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output (-v northstar's debug logs, -vv every crate's); NORTHSTAR_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a synthetic organisation, compute its metrics and print a summary.
    Demo(demo::DemoArgs),
    /// Write a commented northstar.toml and create the lake folder.
    Init(init::InitArgs),
    /// Pull deployments, commits, pull requests, tickets and incidents from the configured sources.
    Collect(collect::CollectArgs),
    /// Import CSV or NDJSON files (optionally .gz) into a lake table.
    Import(import::ImportArgs),
    /// Compute metrics.json for a window.
    Compute(compute::ComputeArgs),
    /// Rewrite tables as few sorted files holding only the newest version of each record.
    Compact(compact::CompactArgs),
    /// Render the dashboards to self-contained HTML pages with each panel's PNG, SVG, JSON and CSV.
    Report(report::ReportArgs),
    /// Run SQL over the lake and derived tables.
    Query(query::QueryArgs),
    /// Validate the config and plan every query against the lake.
    Check(check::CheckArgs),
    /// Serve dashboards, the metrics API, Prometheus and Grafana endpoints, and webhooks.
    Serve(serve::ServeArgs),
    /// Generate a synthetic organisation at scale and time each pipeline stage on it.
    Bench(bench::BenchArgs),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let config = load_config(cli.config.as_deref())?;
    let lake_dir = cli.lake.clone().unwrap_or_else(|| config.lake.path.clone());
    match cli.command {
        Command::Demo(args) => demo::run(args, cli.lake.as_deref(), &config).await,
        Command::Init(args) => init::run(args, &lake_dir),
        Command::Collect(args) => {
            collect::run(args, &open_lake(&lake_dir, &config)?, &config).await
        }
        Command::Import(args) => import::run(args, &open_lake(&lake_dir, &config)?).await,
        Command::Compute(args) => {
            compute::run(args, &open_lake(&lake_dir, &config)?, &config).await
        }
        Command::Compact(args) => compact::run(args, &open_lake(&lake_dir, &config)?).await,
        Command::Report(args) => report::run(args, &open_lake(&lake_dir, &config)?, &config).await,
        Command::Query(args) => query::run(args, &open_lake(&lake_dir, &config)?, &config).await,
        Command::Check(args) => check::run(args, &open_lake(&lake_dir, &config)?, &config).await,
        Command::Serve(args) => serve::run(args, open_lake(&lake_dir, &config)?, &config).await,
        Command::Bench(args) => bench::run(args),
    }
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    let config = match path {
        Some(p) => Config::load(p)?,
        None if Path::new("northstar.toml").exists() => Config::load(Path::new("northstar.toml"))?,
        None => Config::default(),
    };
    crate::report::config_check::check(&config)?;
    Ok(config)
}

fn open_lake(dir: &Path, config: &Config) -> Result<Lake> {
    Ok(Lake::open_local(dir)?.with_compact_after_files(config.lake.compact_after_files))
}
