//! `northstar bench generate --scale S --out DIR` and `northstar bench run --scale S`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::bench::{self, RunOptions, Scale, Section};
use crate::error::Result;

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a year of a synthetic organisation as import files (CSV, FOCUS 1.2 billing).
    Generate(GenerateArgs),
    /// Time each stage of the pipeline (import, compute, report, ...) on a scale's inputs.
    Run(RunArgs),
}

/// Arguments of `bench generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Size of the organisation.
    #[arg(long, value_enum, ignore_case = true)]
    pub scale: Scale,
    /// Output folder (created); its manifest.json lists the files per table.
    #[arg(long)]
    pub out: PathBuf,
    /// Gzip the CSV files (advisable at scale L: about 40 GB of CSV otherwise).
    #[arg(long)]
    pub gzip: bool,
}

/// Arguments of `bench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Size of the organisation.
    #[arg(long, value_enum, ignore_case = true)]
    pub scale: Scale,
    /// Working folder: inputs-<scale>/ (reused when present), lake-<scale>/ (fresh
    /// each run), logs/, metrics and bench-<scale>.json.
    #[arg(long, default_value = "northstar-bench")]
    pub dir: PathBuf,
    /// Sections to time, comma-separated (default: import, compute, dora, report, compact).
    #[arg(long, value_enum, value_delimiter = ',', ignore_case = true)]
    pub sections: Vec<Section>,
    /// Generate the inputs again even when the folder has them.
    #[arg(long)]
    pub regenerate: bool,
    /// Gzip generated inputs.
    #[arg(long)]
    pub gzip: bool,
    /// Writes of the `small-writes` section (deployments and commits cut into this
    /// many imports).
    #[arg(long, default_value_t = bench::run::SMALL_WRITES)]
    pub small_writes: usize,
    /// Then compare with DuckDB (runs SCRIPT with python3; adds the `queries` section).
    #[arg(long, value_name = "SCRIPT", num_args = 0..=1, default_missing_value = "bench/duckdb_compare.py")]
    pub duckdb: Option<PathBuf>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        BenchCommand::Generate(g) => {
            let manifest = bench::generate(g.scale, &g.out, g.gzip)?;
            for t in &manifest.tables {
                println!(
                    "{:<20} {:>10} rows in {} file(s)",
                    t.table,
                    t.rows,
                    t.files.len()
                );
            }
            println!("wrote {}", g.out.join(bench::generate::MANIFEST).display());
            Ok(())
        }
        BenchCommand::Run(r) => {
            let mut sections = if r.sections.is_empty() {
                bench::run::DEFAULT_SECTIONS.to_vec()
            } else {
                r.sections
            };
            if r.duckdb.is_some() && !sections.contains(&Section::Queries) {
                sections.push(Section::Queries);
            }
            let options = RunOptions {
                scale: r.scale,
                dir: r.dir,
                sections,
                regenerate: r.regenerate,
                gzip: r.gzip,
                duckdb_script: r.duckdb,
                small_writes: r.small_writes,
            };
            bench::run(&options).map(|_| ())
        }
    }
}
