//! `northstar query "SQL" | --file F [--param name=value]... [--format table|csv|json]`

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::config::Config;
use crate::engine::{Engine, custom, queries};
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::report::json::rows;
use crate::window::parse_params;

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Arguments of `query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SQL to run (or use --file).
    #[arg(required_unless_present_any = ["file", "list"], conflicts_with_all = ["file", "list"])]
    pub sql: Option<String>,
    /// Read the SQL from a file.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Bind `$name` in the SQL. Values that parse as a date/RFC 3339 time become
    /// timestamps, integers and decimals become numbers, anything else text.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// List the metric queries (built in, and custom ones from `[queries] custom_dir`).
    #[arg(long, conflicts_with = "file")]
    pub list: bool,
}

pub async fn run(args: QueryArgs, lake: &Lake, config: &Config) -> Result<()> {
    if args.list {
        return list(config);
    }
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        (None, None) => return Err(Error::Usage("give SQL or --file".into())),
    };
    let params = parse_params(&args.params)?;
    let engine = Engine::for_config(lake, config).await?;
    let batches = engine.execute("adhoc", &sql, &params).await?;
    match args.format {
        Format::Table => {
            let table = pretty_format_batches(&batches).map_err(|e| Error::encode("table", e))?;
            println!("{table}");
        }
        Format::Csv => {
            let mut writer = datafusion::arrow::csv::Writer::new(std::io::stdout());
            for b in &batches {
                writer.write(b).map_err(|e| Error::encode("csv", e))?;
            }
        }
        Format::Json => {
            let rows = rows(&batches)?;
            let text = serde_json::to_string_pretty(&rows).map_err(|e| Error::encode("json", e))?;
            println!("{text}");
        }
    }
    Ok(())
}

/// One line per metric query: id, unit, grains, scopes and description from its
/// header; custom ones with unit, description, parameters.
fn list(config: &Config) -> Result<()> {
    for q in queries::metrics() {
        println!("{}", queries::list_line(q));
    }
    let dir = config.custom_dir();
    for m in custom::load_dir(&dir)? {
        println!(
            "{}\t{}\t{}\t{}",
            m.id(),
            m.unit,
            m.description,
            m.parameters
        );
    }
    Ok(())
}
