//! From a panel's rows to the [`Figure`] it draws: categories, series, tiles,
//! progress bars or table cells. Pure: no I/O, so every rule is unit-tested here.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value as Json};

use super::path::MetricsPath;
use super::spec::{FilterValue, Kind, Panel, TileSpec, UnitName};
use crate::report::chart::{
    Band, Figure, ProgressRow, Series, Size, TableData, Tile, Unit, Xy, format_value,
};

/// A row of panel data.
pub type Row = Map<String, Json>;

/// Pixel width of the whole grid; a panel's share is its span over the columns, so
/// its drawing keeps the proportions it has on the page.
const PAGE_WIDTH: u32 = 1200;

/// The figure of a panel: tiles read `metrics`, every other kind reads `rows`.
pub fn build(panel: &Panel, rows: &[Row], metrics: &Json) -> Figure {
    let figure = match panel.kind {
        Kind::Line => Figure::Line(xy(panel, rows)),
        Kind::Bar => Figure::Bar(xy(panel, rows)),
        Kind::StackedBar => Figure::StackedBar(xy(panel, rows)),
        Kind::Sparkline => Figure::Sparkline(xy(panel, rows)),
        Kind::Kpi => Figure::Kpi(panel.tiles.iter().map(|t| tile(t, metrics)).collect()),
        Kind::Progress => Figure::Progress(progress(panel, rows)),
        Kind::Table => Figure::Table(table(panel, rows)),
    };
    if figure.data_points() == 0 {
        Figure::Empty("no data yet".into())
    } else {
        figure
    }
}

/// The size a panel is drawn at.
pub fn size(panel: &Panel, columns: u8, figure: &Figure) -> Size {
    let width = PAGE_WIDTH * u32::from(panel.width.max(1)) / u32::from(columns.max(1));
    let default = match figure {
        Figure::Kpi(tiles) => 150 * (tiles.len() as u32).div_ceil(5).max(1),
        Figure::Progress(rows) => 36 * rows.len() as u32 + 24,
        Figure::Table(t) => 24 * (t.rows.len().min(14) as u32 + 1) + 16,
        Figure::Sparkline(_) => 80,
        Figure::Empty(_) => 120,
        _ => 250,
    };
    Size {
        width,
        height: panel.height.unwrap_or(default).clamp(60, 1200),
    }
}

/// Keeps the rows every filter accepts.
pub fn filter(rows: Vec<Row>, panel: &Panel) -> Vec<Row> {
    rows.into_iter()
        .filter(|row| {
            panel.filters.iter().all(|(column, wanted)| {
                let value = row.get(column).unwrap_or(&Json::Null);
                match wanted {
                    FilterValue::One(w) => same(value, w),
                    FilterValue::Any(list) => list.iter().any(|w| same(value, w)),
                }
            })
        })
        .collect()
}

fn same(value: &Json, wanted: &toml::Value) -> bool {
    match wanted {
        toml::Value::String(s) => value.as_str() == Some(s.as_str()),
        toml::Value::Integer(i) => value.as_f64() == Some(*i as f64),
        toml::Value::Float(f) => value.as_f64() == Some(*f),
        toml::Value::Boolean(b) => value.as_bool() == Some(*b),
        _ => false,
    }
}

/// The sample size behind a panel: the sum of its `n` column.
pub fn sample_size(panel: &Panel, rows: &[Row]) -> Option<i64> {
    let column = panel.n.as_deref().unwrap_or("n");
    let values: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.get(column).and_then(Json::as_f64))
        .map(|f| f as i64)
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// The chart unit of a panel (or tile).
fn unit(name: UnitName, currency: Option<&str>, suffix: Option<&str>) -> Unit {
    match name {
        UnitName::Count => Unit::Count,
        UnitName::Ratio => Unit::Ratio,
        UnitName::Hours => Unit::Hours,
        UnitName::PerDay => Unit::PerDay,
        UnitName::Currency => Unit::Currency(currency.unwrap_or("USD").to_string()),
        UnitName::Plain => Unit::Plain(suffix.unwrap_or_default().to_string()),
    }
}

fn panel_unit(panel: &Panel, rows: &[Row]) -> Unit {
    let from_rows = rows
        .iter()
        .find_map(|r| r.get("currency").and_then(Json::as_str));
    unit(
        panel.unit,
        panel.currency.as_deref().or(from_rows),
        panel.suffix.as_deref(),
    )
}

/// Text of a cell value, for categories and series names.
pub fn text(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn number(row: &Row, column: &str) -> Option<f64> {
    row.get(column)
        .and_then(Json::as_f64)
        .filter(|f| f.is_finite())
}

fn xy(panel: &Panel, rows: &[Row]) -> Xy {
    let x = panel.x.as_deref().unwrap_or_default();
    let mut categories = ordered_categories(panel, rows, x);
    if let Some(last) = panel.last {
        let skip = categories.len().saturating_sub(last);
        categories.drain(..skip);
    }
    if let Some(limit) = panel.limit {
        categories.truncate(limit);
    }
    let index = |row: &Row| {
        let key = text(row.get(x))?;
        categories.iter().position(|c| *c == key)
    };
    let series = match &panel.series {
        Some(split) => {
            let y = &panel.y[0];
            let names: BTreeSet<String> = rows.iter().filter_map(|r| text(r.get(split))).collect();
            names
                .into_iter()
                .map(|name| {
                    let mut values = vec![None; categories.len()];
                    for row in rows
                        .iter()
                        .filter(|r| text(r.get(split)).as_ref() == Some(&name))
                    {
                        if let Some(i) = index(row) {
                            values[i] = number(row, y).or(values[i]);
                        }
                    }
                    Series {
                        name,
                        values,
                        dashed: panel.dashed.contains(y),
                    }
                })
                .collect()
        }
        None => panel
            .y
            .iter()
            .map(|y| {
                let mut values = vec![None; categories.len()];
                for row in rows {
                    if let Some(i) = index(row) {
                        values[i] = number(row, y).or(values[i]);
                    }
                }
                Series {
                    name: panel.labels.get(y).cloned().unwrap_or_else(|| y.clone()),
                    values,
                    dashed: panel.dashed.contains(y),
                }
            })
            .collect(),
    };
    Xy {
        unit: panel_unit(panel, rows),
        categories: human_periods(&categories),
        series,
        bands: panel
            .bands
            .iter()
            .map(|b| Band {
                label: b.label.clone(),
                from: b.from,
                to: b.to,
            })
            .collect(),
    }
}

/// Distinct x values: by `sort` (largest first) when set, else ascending (ISO
/// dates sort by time).
fn ordered_categories(panel: &Panel, rows: &[Row], x: &str) -> Vec<String> {
    let mut seen: Vec<(String, f64)> = Vec::new();
    for row in rows {
        let Some(key) = text(row.get(x)) else {
            continue;
        };
        let weight = panel
            .sort
            .as_deref()
            .and_then(|s| number(row, s))
            .unwrap_or(0.0);
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, w)) => *w += weight,
            None => seen.push((key, weight)),
        }
    }
    if panel.sort.is_some() {
        seen.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    } else {
        seen.sort_by(|a, b| a.0.cmp(&b.0));
    }
    seen.into_iter().map(|(k, _)| k).collect()
}

/// Periods as people read them: months as "Nov 25", other days as "3 Nov";
/// anything that is not a date is left alone.
pub fn human_periods(categories: &[String]) -> Vec<String> {
    let dates: Option<Vec<NaiveDate>> = categories.iter().map(|c| as_date(c)).collect();
    let Some(dates) = dates.filter(|d| !d.is_empty()) else {
        return categories.to_vec();
    };
    let monthly = dates.iter().all(|d| d.day() == 1);
    dates
        .iter()
        .map(|d| {
            if monthly {
                d.format("%b %y").to_string()
            } else {
                d.format("%-d %b").to_string()
            }
        })
        .collect()
}

fn as_date(text: &str) -> Option<NaiveDate> {
    let head = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok())
}

fn tile(spec: &TileSpec, metrics: &Json) -> Tile {
    let at = |path: &Option<String>| {
        path.as_deref()
            .and_then(|p| MetricsPath::parse(p).ok())
            .and_then(|p| p.value(metrics))
    };
    let value = at(&Some(spec.value.clone()));
    let currency = spec.currency.clone().or_else(|| {
        let sibling = spec
            .value
            .rsplit_once('.')
            .map(|(head, _)| format!("{head}.currency"));
        at(&sibling).and_then(|v| v.as_str().map(str::to_string))
    });
    Tile {
        label: spec.label.clone(),
        value: value.and_then(|v| v.as_f64()).filter(|f| f.is_finite()),
        unit: unit(spec.unit, currency.as_deref(), None),
        badge: at(&spec.badge).and_then(|v| v.as_str().map(|s| s.replace('_', " "))),
        n: at(&spec.n).and_then(|v| v.as_i64()),
        trend: spec
            .trend
            .as_deref()
            .and_then(|p| MetricsPath::parse(p).ok())
            .map(|p| p.numbers(metrics))
            .unwrap_or_default(),
    }
}

/// The rows behind tiles, for the panel's JSON and CSV.
pub fn tile_rows(figure: &Figure) -> Vec<Row> {
    let Figure::Kpi(tiles) = figure else {
        return Vec::new();
    };
    tiles
        .iter()
        .map(|t| {
            let mut row = Row::new();
            row.insert("label".into(), Json::from(t.label.clone()));
            row.insert("value".into(), t.value.map_or(Json::Null, Json::from));
            row.insert(
                "badge".into(),
                t.badge.clone().map_or(Json::Null, Json::from),
            );
            row.insert("n".into(), t.n.map_or(Json::Null, Json::from));
            row
        })
        .collect()
}

fn progress(panel: &Panel, rows: &[Row]) -> Vec<ProgressRow> {
    let column = |c: &Option<String>| c.clone().unwrap_or_default();
    rows.iter()
        .map(|row| ProgressRow {
            label: text(row.get(&column(&panel.label))).unwrap_or_else(|| "?".into()),
            progress: number(row, &column(&panel.progress)),
            expected: panel.expected.as_deref().and_then(|c| number(row, c)),
            status: panel
                .status
                .as_deref()
                .and_then(|c| text(row.get(c)))
                .map(|s| s.replace('_', " ")),
        })
        .collect()
}

fn table(panel: &Panel, rows: &[Row]) -> TableData {
    let mut rows: Vec<&Row> = rows.iter().collect();
    if let Some(by) = panel.sort.as_deref() {
        rows.sort_by(|a, b| {
            let key = |r: &Row| number(r, by).unwrap_or(f64::NEG_INFINITY);
            key(b).total_cmp(&key(a))
        });
    }
    if let Some(limit) = panel.limit {
        rows.truncate(limit);
    }
    let cell = |row: &Row, column: &str| -> String {
        match row.get(column) {
            None | Some(Json::Null) => "–".into(),
            Some(Json::Number(n)) => {
                let f = n.as_f64().unwrap_or_default();
                match panel.units.get(column) {
                    Some(u) => {
                        let currency = row.get("currency").and_then(Json::as_str);
                        format_value(f, &unit(*u, panel.currency.as_deref().or(currency), None))
                    }
                    None if n.is_i64() => n.to_string(),
                    None => format!("{f:.2}"),
                }
            }
            Some(Json::String(s)) => s.replace('_', " "),
            Some(other) => other.to_string(),
        }
    };
    TableData {
        columns: panel
            .columns
            .iter()
            .map(|c| panel.labels.get(c).cloned().unwrap_or_else(|| c.clone()))
            .collect(),
        rows: rows
            .iter()
            .map(|r| panel.columns.iter().map(|c| cell(r, c)).collect())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::dashboard::spec::parse;
    use serde_json::json;

    fn panel(body: &str) -> Panel {
        let text = format!("title = \"T\"\n[[panel]]\nid = \"p\"\ntitle = \"P\"\n{body}");
        match parse(&text, "t.toml", "t") {
            Ok(mut d) => d.panels.remove(0),
            Err(e) => panic!("{e}"),
        }
    }

    fn rows(v: Json) -> Vec<Row> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_object().cloned())
            .collect()
    }

    #[test]
    fn series_split_by_a_column_align_on_sorted_periods() {
        let p = panel(
            "kind = \"line\"\nmetrics = \"x\"\nx = \"period_start\"\ny = [\"v\"]\nseries = \"team\"\nunit = \"hours\"\nlast = 2\n",
        );
        let data = rows(json!([
            {"period_start": "2026-03-01", "team": "b", "v": 3.0},
            {"period_start": "2026-01-01", "team": "a", "v": 1.0},
            {"period_start": "2026-02-01", "team": "a", "v": null},
            {"period_start": "2026-03-01", "team": "a", "v": 2.0},
        ]));
        let Figure::Line(xy) = build(&p, &data, &Json::Null) else {
            panic!("a line")
        };
        assert_eq!(xy.categories, ["Feb 26", "Mar 26"]);
        assert_eq!(xy.series.len(), 2);
        assert_eq!(xy.series[0].name, "a");
        assert_eq!(xy.series[0].values, [None, Some(2.0)]);
        assert_eq!(xy.series[1].values, [None, Some(3.0)]);
        assert_eq!(xy.unit, Unit::Hours);
    }

    #[test]
    fn no_rows_or_only_nulls_draw_no_data_yet() {
        let p = panel("kind = \"bar\"\nmetrics = \"x\"\nx = \"team\"\ny = [\"v\"]\n");
        assert_eq!(
            build(&p, &[], &Json::Null),
            Figure::Empty("no data yet".into())
        );
        let nulls = rows(json!([{"team": "a", "v": null}]));
        assert_eq!(
            build(&p, &nulls, &Json::Null),
            Figure::Empty("no data yet".into())
        );
    }

    #[test]
    fn bars_sort_largest_first_and_filters_pick_rows() {
        let p = panel(
            "kind = \"bar\"\nmetrics = \"x\"\nx = \"team\"\ny = [\"cost\"]\nsort = \"cost\"\nlimit = 2\nunit = \"currency\"\n[panel.filters]\ncurrency = \"EUR\"\nteam = [\"a\", \"b\", \"c\", \"d\"]\n",
        );
        let data = filter(
            rows(json!([
                {"team": "a", "cost": 10.0, "currency": "EUR"},
                {"team": "b", "cost": 30.0, "currency": "EUR"},
                {"team": "c", "cost": 20.0, "currency": "EUR"},
                {"team": "d", "cost": 99.0, "currency": "USD"},
            ])),
            &p,
        );
        assert_eq!(sample_size(&p, &data), None);
        let Figure::Bar(xy) = build(&p, &data, &Json::Null) else {
            panic!("bars")
        };
        assert_eq!(xy.categories, ["b", "c"]);
        assert_eq!(xy.series[0].values, [Some(30.0), Some(20.0)]);
        assert_eq!(xy.unit, Unit::Currency("EUR".into()));
    }

    #[test]
    fn tiles_read_metrics_paths_with_currency_beside_the_value() {
        let p = panel(
            "kind = \"kpi\"\n[[panel.tile]]\nlabel = \"Cost\"\nvalue = \"cost.months[-1].effective_cost\"\nunit = \"currency\"\nn = \"cost.months[-1].n\"\ntrend = \"cost.months[].effective_cost\"\nbadge = \"cost.status\"\n",
        );
        let metrics = json!({"cost": {"status": "on_track", "months": [
            {"effective_cost": 1.0, "currency": "EUR", "n": 3},
            {"effective_cost": 2.0, "currency": "EUR", "n": 4}]}});
        let Figure::Kpi(tiles) = build(&p, &[], &metrics) else {
            panic!("tiles")
        };
        assert_eq!(tiles[0].value, Some(2.0));
        assert_eq!(tiles[0].unit, Unit::Currency("EUR".into()));
        assert_eq!(tiles[0].n, Some(4));
        assert_eq!(tiles[0].badge.as_deref(), Some("on track"));
        assert_eq!(tiles[0].trend, [Some(1.0), Some(2.0)]);
    }

    #[test]
    fn periods_read_as_people_write_them() {
        let months = ["2025-11-01T00:00:00Z".to_string(), "2026-01-01".to_string()];
        assert_eq!(human_periods(&months), ["Nov 25", "Jan 26"]);
        assert_eq!(human_periods(&["2026-10".to_string()]), ["Oct 26"]);
        assert_eq!(human_periods(&["2026-03-09".to_string()]), ["9 Mar"]);
        assert_eq!(human_periods(&["checkout".to_string()]), ["checkout"]);
    }
}
