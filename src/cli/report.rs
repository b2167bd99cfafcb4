//! `northstar report [--dashboard NAME]... [--out DIR] [--from DATE] [--to DATE]`

use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::Args;
use serde_json::Value as Json;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::pipeline::{self, Computed};
use crate::report::access::{Access, service_owners};
use crate::report::dashboard::{self, LinkStyle, PageLinks, Sources};
use crate::report::metrics::Section;
use crate::window::Window;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A dashboard to render (repeatable; default: all of them).
    #[arg(long = "dashboard", value_name = "NAME")]
    pub dashboards: Vec<String>,
    /// Output folder: each dashboard goes to DIR/<name>/index.html.
    #[arg(long, default_value = "northstar-report")]
    pub out: PathBuf,
    /// Window start (YYYY-MM-DD or RFC 3339). Default: the first of the month a year
    /// before --to's month, so the trends show twelve whole months.
    #[arg(long)]
    pub from: Option<String>,
    /// Window end, exclusive. Default: tomorrow, so today counts.
    #[arg(long)]
    pub to: Option<String>,
}

pub async fn run(args: ReportArgs, lake: &Lake, config: &Config) -> Result<()> {
    let window = Window::from_flags(args.from.as_deref(), args.to.as_deref())?;
    let Computed { engine, doc, .. } =
        pipeline::compute(lake, config, window, &Section::ALL, Utc::now()).await?;
    let pages =
        render_dashboards(&engine, &doc, window, config, &args.dashboards, &args.out).await?;
    for page in &pages {
        println!("{}", page.display());
    }
    Ok(())
}

/// Renders the named dashboards (all when `names` is empty) for the platform role
/// into `out`; returns each page's path.
pub(crate) async fn render_dashboards(
    engine: &Engine,
    doc: &Json,
    window: Window,
    config: &Config,
    names: &[String],
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let all = dashboard::load(dashboard::dir_for(config).as_deref())?;
    if let Some(unknown) = names.iter().find(|n| !all.iter().any(|d| &d.name == *n)) {
        let known: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "--dashboard {unknown}: no such dashboard (known: {})",
            known.join(", ")
        )));
    }
    let owners = service_owners(engine).await?;
    let sources = Sources {
        engine,
        metrics: doc,
        window,
        config,
        owners: &owners,
    };
    let links = PageLinks {
        style: LinkStyle::Files,
        dashboards: all
            .iter()
            .map(|d| (d.name.clone(), d.title.clone()))
            .collect(),
    };
    let mut pages = Vec::new();
    for d in all
        .iter()
        .filter(|d| names.is_empty() || names.contains(&d.name))
    {
        let rendered = dashboard::render(d, &sources, &Access::Platform).await?;
        pages.push(rendered.write(out, &links)?);
    }
    Ok(pages)
}
