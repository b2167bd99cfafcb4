//! Charts drawn with plotters, as SVG text and PNG bytes, from one description.
//!
//! The dashboard layer ([`super::dashboard`]) turns rows into a [`Figure`]; this
//! module only draws. Both outputs go through the same drawing code (generic over
//! plotters' backend), so the PNG and the SVG of a panel show the same thing.
//! Text is drawn with DejaVu Sans compiled into the binary (`assets/fonts/`), so a
//! bare machine without fontconfig or system fonts renders the same picture.

mod axes;
mod bands;
mod canvas;
mod font;
mod format;
mod glyphs;
mod legend;
mod palette;
mod progress;
mod render;
mod sparkline;
mod table;
mod tiles;
mod xy;

#[cfg(test)]
mod tests;

use crate::error::Result;

/// What a number measures; decides how axes, tiles and tables print it.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// A count of things ("1.2k").
    Count,
    /// A fraction 0..1, printed as a percentage ("4.5%").
    Ratio,
    /// A duration in hours, printed in minutes, hours or days as fits ("20.7 h", "4.2 d").
    Hours,
    /// A rate per day ("21.2/day").
    PerDay,
    /// Money in a currency (ISO code), with k/M suffixes ("$417k", "€1.2M").
    Currency(String),
    /// Any other number, with an optional suffix ("3.5 pts").
    Plain(String),
}

/// One line or one set of bars, aligned with the chart's categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label (a team, a metric, "forecast").
    pub name: String,
    /// One value per category; `None` is a gap, not a zero.
    pub values: Vec<Option<f64>>,
    /// Drawn dashed: a forecast or a target rather than a measurement.
    pub dashed: bool,
}

/// A horizontal band behind a line chart: the range of one DORA tier, say.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Tier or label ("elite", "high", "medium", "low", or any text).
    pub label: String,
    /// Lower bound (open below when `None`).
    pub from: Option<f64>,
    /// Upper bound (open above when `None`).
    pub to: Option<f64>,
}

/// A chart with a categorical x axis (periods already formatted for people, teams).
#[derive(Debug, Clone, PartialEq)]
pub struct Xy {
    /// The unit of every series' values.
    pub unit: Unit,
    /// x-axis labels, in order.
    pub categories: Vec<String>,
    /// The series drawn.
    pub series: Vec<Series>,
    /// Tier bands (line charts).
    pub bands: Vec<Band>,
}

/// One headline number: a DORA metric with its tier, say.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// What it is ("Lead time for changes").
    pub label: String,
    /// The figure; `None` reads "no data yet".
    pub value: Option<f64>,
    /// Its unit.
    pub unit: Unit,
    /// Tier or status text shown as a coloured badge ("elite", "over", "on_track").
    pub badge: Option<String>,
    /// Sample size, printed as `n=…` under the figure.
    pub n: Option<i64>,
    /// A sparkline of the recent trend, oldest first.
    pub trend: Vec<Option<f64>>,
}

/// One horizontal progress bar: an objective or key result.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    /// What is measured.
    pub label: String,
    /// Progress 0..1 (drawn clamped; the text shows the true figure).
    pub progress: Option<f64>,
    /// Where progress should be by now, drawn as a tick.
    pub expected: Option<f64>,
    /// Status, coloured ("on_track", "at_risk", "off_track", "done").
    pub status: Option<String>,
}

/// Rows shown as a table (anomalies, say), already formatted as text.
#[derive(Debug, Clone, PartialEq)]
pub struct TableData {
    /// Header labels.
    pub columns: Vec<String>,
    /// Cells, one `Vec` per row.
    pub rows: Vec<Vec<String>>,
}

/// Everything a panel can draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    /// Trend lines over the categories, with optional tier bands.
    Line(Xy),
    /// Bars; several series are grouped side by side (team comparison).
    Bar(Xy),
    /// Bars with the series stacked (cost by team per month).
    StackedBar(Xy),
    /// A small line without axes or legend.
    Sparkline(Xy),
    /// Headline tiles with badge, n and sparkline.
    Kpi(Vec<Tile>),
    /// Progress bars with an expected-by-now tick.
    Progress(Vec<ProgressRow>),
    /// A table.
    Table(TableData),
    /// Nothing to draw: the message says why ("no data yet").
    Empty(String),
}

/// Output size in pixels (at scale 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Figure {
    /// How many values the figure shows (points, bars, tiles, rows); 0 for `Empty`.
    pub fn data_points(&self) -> usize {
        let present = |v: &Option<f64>| v.is_some_and(f64::is_finite);
        match self {
            Figure::Line(xy) | Figure::Bar(xy) | Figure::StackedBar(xy) | Figure::Sparkline(xy) => {
                xy.series
                    .iter()
                    .map(|s| s.values.iter().filter(|v| present(v)).count())
                    .sum()
            }
            Figure::Kpi(tiles) => tiles.iter().filter(|t| present(&t.value)).count(),
            Figure::Progress(rows) => rows.iter().filter(|r| present(&r.progress)).count(),
            Figure::Table(table) => table.rows.len(),
            Figure::Empty(_) => 0,
        }
    }
}

/// The figure as a standalone SVG document.
///
/// Errors when `size` has no area or is absurdly large; figures without data draw
/// as "no data yet" rather than failing.
pub fn render_svg(figure: &Figure, size: Size) -> Result<String> {
    render::svg(figure, size)
}

/// The figure as PNG bytes, `scale` times the size (2 for high-density screens).
///
/// Everything (fonts, lines, margins) is scaled, so the picture matches the SVG.
/// Errors when `scale` is 0 or the scaled size has no area or is absurdly large.
pub fn render_png(figure: &Figure, size: Size, scale: u32) -> Result<Vec<u8>> {
    render::png(figure, size, scale)
}

/// A value printed for people in its unit ("20.7 h", "$417k", "4.5%"); the tables
/// and tiles use it as the axes do.
///
/// Non-finite values print as "n/a"; negative values keep their sign.
pub fn format_value(value: f64, unit: &Unit) -> String {
    format::value(value, unit)
}
