//! Dashboards declared in `dashboards/*.toml`: each panel names its data (a query
//! in `queries/` or a path into `metrics.json`), a chart kind and its axes; this
//! module turns a spec into figures ([`super::chart`]), the panel data (JSON, CSV)
//! and one self-contained HTML page.
//!
//! The three shipped dashboards are compiled in; a folder of `*.toml` files
//! (`[report] dashboards_dir`, default `./dashboards` when it exists) adds to them
//! and replaces a shipped one of the same name, so a user copies a file, edits a
//! panel and re-runs `northstar report` without touching Rust.

mod data;
mod figure;
mod html;
mod path;
mod spec;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::access::{Access, ServiceOwners};
use super::chart::Figure;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::window::Window;

pub use html::{LinkStyle, PageLinks, escape};
pub use spec::{Dashboard, Panel};

/// What the panels draw from.
pub struct Sources<'a> {
    /// The engine over the lake, for `query = ...` panels.
    pub engine: &'a Engine,
    /// `metrics.json` for the window, for `metrics = ...` panels.
    pub metrics: &'a Json,
    /// The window the metrics cover (binds `$from`/`$to`).
    pub window: Window,
    /// Settings the queries take (`$min_n`, `$developers`, ...).
    pub config: &'a Config,
    /// Which team owns each service, for access scoping.
    pub owners: &'a ServiceOwners,
}

/// One panel, drawn.
#[derive(Debug, Clone)]
pub struct RenderedPanel {
    /// The panel's id (file names, HTML ids).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The chart kind as written in the spec.
    pub kind: String,
    /// What was drawn (`Figure::Empty` with the reason when there was nothing).
    pub figure: Figure,
    /// The rows behind the figure, after filters and access scoping.
    pub rows: Vec<Map<String, Json>>,
    /// The figure as SVG.
    pub svg: String,
    /// The sample size behind the figure (the sum of its rows' `n`), when known.
    pub n: Option<i64>,
    /// The grid columns the panel spans.
    pub width: u8,
    /// The size the figure was drawn at.
    pub size: super::chart::Size,
    /// Where the data came from ("query cost/costs", "metrics dora.series.month.org").
    pub source: String,
}

/// A dashboard, drawn.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The spec drawn.
    pub dashboard: Dashboard,
    /// Its panels, in spec order.
    pub panels: Vec<RenderedPanel>,
    /// The window, for the page header.
    pub window: Window,
    /// The role it was drawn for.
    pub access: Access,
}

/// The shipped dashboards plus those in `dir` (same name replaces), sorted by name.
pub fn load(dir: Option<&Path>) -> Result<Vec<Dashboard>> {
    spec::load(dir)
}

/// The dashboard folder of `config` (`[report] dashboards_dir`, else `./dashboards`
/// when it exists).
pub fn dir_for(config: &Config) -> Option<PathBuf> {
    spec::dir_for(config)
}

/// Draws every panel of `dashboard` for `access`. A panel whose data is missing
/// draws "no data yet"; one whose query fails draws the error; neither stops the
/// others.
pub async fn render(
    dashboard: &Dashboard,
    sources: &Sources<'_>,
    access: &Access,
) -> Result<Rendered> {
    data::render(dashboard, sources, access).await
}

impl Rendered {
    /// The page as one self-contained HTML document (inline SVG and CSS, no
    /// scripts or external resources), with links to `others`.
    pub fn html(&self, links: &PageLinks) -> String {
        html::page(self, links)
    }

    /// Writes `out/<name>/index.html` and, per panel, `<id>.svg`, `<id>.png`,
    /// `<id>.json` and `<id>.csv`, each atomically; returns the page's path.
    pub fn write(&self, out: &Path, links: &PageLinks) -> Result<PathBuf> {
        html::write(self, out, links)
    }
}
