//! The dashboard spec format (`dashboards/*.toml`), parsed and validated.
//!
//! A spec is data, not code: a user copies a shipped file, edits a panel and sees
//! it rendered. So every mistake is caught here, before anything runs, and named by
//! file, panel and field; `docs/dashboards.md` is the reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::path::MetricsPath;
use crate::config::Config;
use crate::engine::queries;
use crate::error::{Error, Result};

/// The dashboards that ship in the binary, by file name.
const SHIPPED: &[(&str, &str)] = &[
    (
        "executive.toml",
        include_str!("../../../dashboards/executive.toml"),
    ),
    (
        "platform.toml",
        include_str!("../../../dashboards/platform.toml"),
    ),
    (
        "team-costs.toml",
        include_str!("../../../dashboards/team-costs.toml"),
    ),
];

/// A dashboard spec.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// File stem: `executive`, `platform`, `team-costs`.
    pub name: String,
    /// Where it was read from (`built-in executive.toml` or a path), for errors.
    pub origin: String,
    /// Page title.
    pub title: String,
    /// One line under the title.
    pub description: String,
    /// Grid columns of the page.
    pub columns: u8,
    /// Lay the page out to print on one sheet.
    pub one_page: bool,
    /// The panels, in page order.
    pub panels: Vec<Panel>,
}

/// The file as written; panels are parsed one by one so errors can name them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardFile {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_columns")]
    columns: u8,
    #[serde(default)]
    one_page: bool,
    #[serde(default, rename = "panel")]
    panels: Vec<toml::Value>,
}

fn default_columns() -> u8 {
    3
}

/// The chart kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Trend lines (with optional tier bands).
    Line,
    /// Bars, grouped when there are several series.
    Bar,
    /// Stacked bars.
    StackedBar,
    /// A small line without axes.
    Sparkline,
    /// Headline tiles.
    Kpi,
    /// Progress bars.
    Progress,
    /// A table.
    Table,
}

impl Kind {
    /// The kind as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Line => "line",
            Kind::Bar => "bar",
            Kind::StackedBar => "stacked_bar",
            Kind::Sparkline => "sparkline",
            Kind::Kpi => "kpi",
            Kind::Progress => "progress",
            Kind::Table => "table",
        }
    }

    fn is_xy(self) -> bool {
        matches!(
            self,
            Kind::Line | Kind::Bar | Kind::StackedBar | Kind::Sparkline
        )
    }
}

/// The unit of a panel's values (see [`crate::report::chart::Unit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitName {
    /// Counts.
    Count,
    /// Fractions shown as percentages.
    Ratio,
    /// Durations in hours.
    Hours,
    /// Rates per day.
    PerDay,
    /// Money (the currency comes from `currency`, else the rows' `currency`).
    Currency,
    /// Plain numbers.
    #[default]
    Plain,
}

/// A filter value: one accepted value or a list of them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    /// Equal to any of these (first: an array is a `toml::Value` too).
    Any(Vec<toml::Value>),
    /// Equal to this.
    One(toml::Value),
}

/// A tier band behind a line chart.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// Tier name (`elite`, `high`, `medium`, `low`) or any label.
    pub label: String,
    /// Lower bound.
    pub from: Option<f64>,
    /// Upper bound.
    pub to: Option<f64>,
}

/// A headline tile: paths into `metrics.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TileSpec {
    /// What the tile shows.
    pub label: String,
    /// Path of the figure.
    pub value: String,
    /// Its unit.
    #[serde(default)]
    pub unit: UnitName,
    /// Currency code for `unit = "currency"` (else `currency` beside the value).
    pub currency: Option<String>,
    /// Path of the badge text (a tier, a status).
    pub badge: Option<String>,
    /// Path of the sample size.
    pub n: Option<String>,
    /// Path of the trend, with `[]` over the periods.
    pub trend: Option<String>,
}

/// Rows joined onto the panel's rows by their key columns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinSpec {
    /// Path into `metrics.json`, with the same `*` wildcards as the panel's.
    pub metrics: String,
    /// Names of its wildcard keys (must match the panel's `key_as`).
    #[serde(default)]
    pub key_as: Vec<String>,
    /// Prefix of the joined columns (`cost` gives `cost.effective_cost`).
    pub prefix: String,
}

/// A panel spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Id: file names and HTML anchors (letters, digits, `-`, `_`).
    pub id: String,
    /// Heading.
    pub title: String,
    /// A line under the heading.
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Chart kind.
    pub kind: Kind,
    /// A query id from `queries/` (or `custom/<name>`).
    #[serde(default)]
    pub query: Option<String>,
    /// Parameters of the query (`scope`, `grain`, anything it takes).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// A path into `metrics.json` (`dora.series.month.teams.*`).
    #[serde(default)]
    pub metrics: Option<String>,
    /// Column names for the path's `*` keys, in order (default `key`, `key2`).
    #[serde(default)]
    pub key_as: Vec<String>,
    /// More columns from another path, matched on the keys.
    #[serde(default)]
    pub join: Option<JoinSpec>,
    /// Keep rows whose column equals the value (or one of the values).
    #[serde(default)]
    pub filters: BTreeMap<String, FilterValue>,
    /// Category column (x axis).
    #[serde(default)]
    pub x: Option<String>,
    /// Value columns, one series each.
    #[serde(default)]
    pub y: Vec<String>,
    /// One series per distinct value of this column (with a single `y`).
    #[serde(default)]
    pub series: Option<String>,
    /// Legend labels (or table headers) by column.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `y` columns drawn dashed (forecasts, targets).
    #[serde(default)]
    pub dashed: Vec<String>,
    /// Unit of the values.
    #[serde(default)]
    pub unit: UnitName,
    /// Currency code when `unit = "currency"` (else the rows' `currency`).
    #[serde(default)]
    pub currency: Option<String>,
    /// Suffix for `unit = "plain"`.
    #[serde(default)]
    pub suffix: Option<String>,
    /// Column with each row's sample size (default `n` when present).
    #[serde(default)]
    pub n: Option<String>,
    /// Keep only the last N categories.
    #[serde(default)]
    pub last: Option<usize>,
    /// Sort bars or table rows by this column, largest first.
    #[serde(default)]
    pub sort: Option<String>,
    /// Keep at most this many table rows or bar categories.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Table columns.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Unit of individual table columns.
    #[serde(default)]
    pub units: BTreeMap<String, UnitName>,
    /// Tier bands (line charts).
    #[serde(default, rename = "band")]
    pub bands: Vec<BandSpec>,
    /// Tiles (kpi panels).
    #[serde(default, rename = "tile")]
    pub tiles: Vec<TileSpec>,
    /// Progress panels: the label column.
    #[serde(default)]
    pub label: Option<String>,
    /// Progress panels: the progress column (0..1).
    #[serde(default)]
    pub progress: Option<String>,
    /// Progress panels: the expected-by-now column.
    #[serde(default)]
    pub expected: Option<String>,
    /// Progress panels: the status column.
    #[serde(default)]
    pub status: Option<String>,
    /// Grid columns the panel spans.
    #[serde(default = "default_width")]
    pub width: u8,
    /// Height in pixels.
    #[serde(default)]
    pub height: Option<u32>,
}

fn default_width() -> u8 {
    1
}

/// The shipped dashboards plus those in `dir` (same name replaces), sorted by name.
pub fn load(dir: Option<&Path>) -> Result<Vec<Dashboard>> {
    let mut by_name: BTreeMap<String, Dashboard> = BTreeMap::new();
    for (file, text) in SHIPPED {
        let d = parse(text, &format!("built-in dashboards/{file}"), stem(file))?;
        by_name.insert(d.name.clone(), d);
    }
    if let Some(dir) = dir {
        for path in spec_files(dir)? {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let d = parse(&text, &path.display().to_string(), &name)?;
            by_name.insert(d.name.clone(), d);
        }
    }
    Ok(by_name.into_values().collect())
}

/// The dashboard folder: `[report] dashboards_dir` (relative to the config file),
/// else `./dashboards` when it exists.
pub fn dir_for(config: &Config) -> Option<PathBuf> {
    let base = config
        .base_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    match &config.report.dashboards_dir {
        Some(dir) => Some(base.join(dir)),
        None => Some(base.join("dashboards")).filter(|d| d.is_dir()),
    }
}

fn stem(file: &str) -> &str {
    file.strip_suffix(".toml").unwrap_or(file)
}

fn spec_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Parses and validates one spec; `origin` names it in errors.
pub fn parse(text: &str, origin: &str, name: &str) -> Result<Dashboard> {
    let fail = |panel: &str, field: &str, reason: String| Error::Dashboard {
        file: origin.to_string(),
        panel: panel.to_string(),
        field: field.to_string(),
        reason,
    };
    let file: DashboardFile = toml::from_str(text).map_err(|e| {
        let field = serde_field(e.message()).unwrap_or_else(|| "-".into());
        fail("-", &field, one_line(&e.to_string()))
    })?;
    if file.columns == 0 || file.columns > 6 {
        return Err(fail("-", "columns", "must be 1 to 6".into()));
    }
    let mut panels: Vec<Panel> = Vec::with_capacity(file.panels.len());
    for (i, value) in file.panels.into_iter().enumerate() {
        let label = value
            .get("id")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let panel: Panel = value.clone().try_into().map_err(|e: toml::de::Error| {
            let field = panel_field(&value, e.message());
            fail(&label, &field, one_line(e.message()))
        })?;
        if panels.iter().any(|p| p.id == panel.id) {
            return Err(fail(&label, "id", "another panel has this id".into()));
        }
        validate(&panel, file.columns).map_err(|(field, reason)| fail(&label, field, reason))?;
        panels.push(panel);
    }
    if panels.is_empty() {
        return Err(fail(
            "-",
            "panel",
            "a dashboard needs at least one [[panel]]".into(),
        ));
    }
    Ok(Dashboard {
        name: name.to_string(),
        origin: origin.to_string(),
        title: file.title,
        description: file.description,
        columns: file.columns,
        one_page: file.one_page,
        panels,
    })
}

/// The field serde complains about (`unknown field `x``, `missing field `y``).
fn serde_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// The panel field an error is about: the one it names (`unknown field `x``), else
/// the one holding the value it quotes (`unknown variant `pie``).
fn panel_field(panel: &toml::Value, message: &str) -> String {
    let Some(quoted) = serde_field(message) else {
        return "-".into();
    };
    let Some(table) = panel.as_table() else {
        return quoted;
    };
    if message.contains("field") || table.contains_key(&quoted) {
        return quoted;
    }
    table
        .iter()
        .find(|(_, v)| v.as_str() == Some(quoted.as_str()))
        .map_or(quoted.clone(), |(k, _)| k.clone())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

type Invalid = (&'static str, String);

fn validate(p: &Panel, columns: u8) -> Result<(), Invalid> {
    if p.id.is_empty()
        || !p
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(("id", "use letters, digits, `-` and `_` only".into()));
    }
    if p.width == 0 || p.width > columns {
        return Err((
            "width",
            format!("must be 1 to {columns} (the page's columns)"),
        ));
    }
    validate_source(p)?;
    match p.kind {
        k if k.is_xy() => validate_xy(p),
        Kind::Kpi => validate_tiles(p),
        Kind::Progress => {
            for (field, value) in [("label", &p.label), ("progress", &p.progress)] {
                if value.is_none() {
                    return Err((field, "a progress panel needs it".into()));
                }
            }
            Ok(())
        }
        _ => {
            if p.columns.is_empty() {
                return Err(("columns", "a table needs at least one column".into()));
            }
            Ok(())
        }
    }
}

fn validate_source(p: &Panel) -> Result<(), Invalid> {
    match (&p.query, &p.metrics) {
        (Some(_), Some(_)) => Err(("query", "give `query` or `metrics`, not both".into())),
        (None, None) if p.kind != Kind::Kpi => Err((
            "query",
            "give `query` (a query id) or `metrics` (a path)".into(),
        )),
        (Some(id), None) => {
            let known = queries::metric_sql(id).is_some() || id.starts_with("custom/");
            if known {
                Ok(())
            } else {
                let ids = queries::metric_ids();
                Err((
                    "query",
                    format!("no query `{id}` (known: {})", ids.join(", ")),
                ))
            }
        }
        (None, Some(path)) => {
            let parsed = MetricsPath::parse(path).map_err(|e| ("metrics", e))?;
            if !p.key_as.is_empty() && p.key_as.len() != parsed.wildcards() {
                return Err((
                    "key_as",
                    format!(
                        "names {} key(s) but `{path}` has {} `*`",
                        p.key_as.len(),
                        parsed.wildcards()
                    ),
                ));
            }
            if let Some(join) = &p.join {
                let j = MetricsPath::parse(&join.metrics).map_err(|e| ("join", e))?;
                if j.wildcards() != parsed.wildcards() || join.key_as != p.key_as {
                    return Err((
                        "join",
                        "the joined path needs the same `*` keys, named by the same key_as".into(),
                    ));
                }
            }
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

fn validate_xy(p: &Panel) -> Result<(), Invalid> {
    if p.x.is_none() {
        return Err(("x", "a chart needs its category column".into()));
    }
    if p.y.is_empty() {
        return Err(("y", "a chart needs at least one value column".into()));
    }
    if p.series.is_some() && p.y.len() != 1 {
        return Err(("series", "split by `series` takes exactly one `y`".into()));
    }
    if let Some(d) = p.dashed.iter().find(|d| !p.y.contains(d)) {
        return Err(("dashed", format!("`{d}` is not one of `y`")));
    }
    for b in &p.bands {
        if let (Some(from), Some(to)) = (b.from, b.to)
            && from >= to
        {
            return Err(("band", format!("band `{}`: from {from} ≥ to {to}", b.label)));
        }
    }
    Ok(())
}

fn validate_tiles(p: &Panel) -> Result<(), Invalid> {
    if p.tiles.is_empty() {
        return Err((
            "tile",
            "a kpi panel needs at least one [[panel.tile]]".into(),
        ));
    }
    for t in &p.tiles {
        let paths = [
            Some(&t.value),
            t.badge.as_ref(),
            t.n.as_ref(),
            t.trend.as_ref(),
        ];
        for path in paths.into_iter().flatten() {
            MetricsPath::parse(path).map_err(|e| ("tile", format!("tile `{}`: {e}", t.label)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_dashboard_parses() {
        let all = load(None).expect("shipped dashboards");
        let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["executive", "platform", "team-costs"]);
        assert!(all.iter().all(|d| !d.panels.is_empty()));
    }

    fn error_of(text: &str) -> String {
        match parse(text, "my.toml", "my") {
            Ok(_) => String::from("parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_file_panel_and_field() {
        let base = "title = \"T\"\n[[panel]]\nid = \"a\"\ntitle = \"A\"\n";
        assert_eq!(
            error_of(&format!("{base}kind = \"pie\"\nmetrics = \"dora.org\"\n")),
            "my.toml: panel `a`, field `kind`: unknown variant `pie`, expected one of \
             `line`, `bar`, `stacked_bar`, `sparkline`, `kpi`, `progress`, `table`"
        );
        assert_eq!(
            error_of(&format!(
                "{base}kind = \"line\"\nmetrics = \"dora.series.month.org\"\nx = \"period_start\"\n"
            )),
            "my.toml: panel `a`, field `y`: a chart needs at least one value column"
        );
        assert_eq!(
            error_of(&format!(
                "{base}kind = \"line\"\nquery = \"dora/nope\"\nx = \"a\"\ny = [\"b\"]\n"
            ))
            .split(" (known")
            .next(),
            Some("my.toml: panel `a`, field `query`: no query `dora/nope`")
        );
        assert!(
            error_of(&format!(
                "{base}kind = \"table\"\nmetrics = \"a\"\ncolumn = [\"x\"]\n"
            ))
            .starts_with("my.toml: panel `a`, field `column`: unknown field `column`")
        );
        assert_eq!(
            error_of(&format!(
                "{base}kind = \"table\"\nmetrics = \"a..b\"\ncolumns = [\"x\"]\n"
            )),
            "my.toml: panel `a`, field `metrics`: empty segment in `a..b`"
        );
        assert_eq!(
            error_of("title = \"T\"\n[[panel]]\ntitle = \"A\"\nkind = \"table\"\n"),
            "my.toml: panel `#1`, field `id`: missing field `id`"
        );
    }
}
