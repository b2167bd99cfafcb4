//! Line, bar and stacked-bar charts over a categorical x axis.
//!
//! All three share one frame: legend rows on top (only with several series), y tick
//! labels on the left, category labels below, band labels on the right.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::axes::{self, Slots, YScale};
use super::bands;
use super::canvas::{Align, Canvas, DASH, Font, Rect};
use super::format;
use super::legend::{Item, Legend, Swatch};
use super::palette;
use super::{Unit, Xy};
use crate::error::Result;

/// Outer margin.
const PAD: f64 = 8.0;
const LINE_WIDTH: f64 = 2.0;
/// Room left above the highest value, so lines and bar labels do not touch the top.
const HEADROOM: f64 = 1.1;

/// One series, cut to the categories, with NaN/inf turned into gaps.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Clean<'a> {
    pub(super) name: &'a str,
    pub(super) values: Vec<Option<f64>>,
    pub(super) dashed: bool,
    pub(super) color: RGBColor,
}

/// The series worth drawing, or `None` when there is nothing to show.
pub(super) fn clean(xy: &Xy) -> Option<Vec<Clean<'_>>> {
    let n = xy.categories.len();
    let series: Vec<Clean<'_>> = xy
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| Clean {
            name: &s.name,
            values: (0..n)
                .map(|k| finite(s.values.get(k).copied().flatten()))
                .collect(),
            dashed: s.dashed,
            color: palette::series(i),
        })
        .collect();
    let any = series.iter().any(|s| s.values.iter().any(Option::is_some));
    (n > 0 && any).then_some(series)
}

/// `v` if it is a real number: NaN and ±inf count as missing.
pub(super) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// The smallest and largest value over all series.
fn extent(series: &[Clean<'_>]) -> (f64, f64) {
    series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The value range to show: always including zero, with headroom past the data.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.min(0.0);
    let hi = hi.max(0.0);
    let hi = if hi > 0.0 { hi * HEADROOM } else { hi };
    let lo = if lo < 0.0 { lo * HEADROOM } else { lo };
    (lo, hi)
}

/// Where everything goes.
struct Frame {
    plot: Rect,
    scale: YScale,
    slots: Slots,
    legend: Legend,
    /// Category labels on one row, or two staggered rows.
    label_rows: usize,
}

/// What a frame is laid out for.
struct FrameSpec<'a> {
    unit: &'a Unit,
    /// Values to cover, headroom included.
    range: (f64, f64),
    /// The category labels.
    categories: &'a [String],
    items: Vec<Item>,
    /// Room kept right of the plot (band labels).
    right: f64,
}

/// Lays out legend, axes and plot.
fn frame<DB: DrawingBackend>(cv: &Canvas<DB>, spec: FrameSpec<'_>) -> Frame {
    let FrameSpec {
        unit,
        range,
        categories,
        items,
        right,
    } = spec;
    let n = categories.len();
    let (width, height) = (cv.width, cv.height);
    // The legend may take a fifth of the height; more entries become "+N more".
    let max_rows = ((height * 0.22) / 15.0).floor().max(1.0) as usize;
    let legend = Legend::layout(items, width - 2.0 * PAD, max_rows);
    let legend_gap = if legend.height() > 0.0 { 6.0 } else { 0.0 };
    let top = PAD + legend.height() + legend_gap;
    // The y labels are not measured yet; 48 px is a typical width for them.
    let rough_slot = (width - 2.0 * PAD - right - 48.0) / n.max(1) as f64;
    let label_rows = axes::label_rows(categories, rough_slot);
    let bottom = (height - PAD / 2.0 - axes::x_label_height(label_rows)).max(top + 1.0);
    let target = axes::tick_target(bottom - top);
    let scale = YScale::for_unit(range.0, range.1, target, unit).placed(top, bottom);
    let tick_font = Font::new(axes::TICK_FONT, palette::MUTED);
    let widest = scale
        .labels(unit)
        .iter()
        .map(|l| tick_font.width(l))
        .fold(0.0, f64::max);
    let left = PAD + widest + 6.0;
    let plot_right = (width - PAD - right).max(left + 1.0);
    let plot = Rect::new(left, top, plot_right - left, bottom - top);
    Frame {
        plot,
        scale,
        slots: Slots {
            x: plot.x,
            w: plot.w,
            n,
        },
        legend,
        label_rows,
    }
}

/// Grid, tick labels, category labels and legend: everything but the data.
fn draw_frame<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    f: &Frame,
    unit: &Unit,
    categories: &[String],
) -> Result<()> {
    axes::draw_y_axis(cv, f.plot, &f.scale, &f.scale.labels(unit))?;
    axes::draw_x_labels(cv, f.plot, &f.slots, categories, f.label_rows)?;
    f.legend.draw(cv, (PAD, PAD))
}

fn legend_items(series: &[Clean<'_>], swatch: impl Fn(&Clean<'_>) -> Swatch) -> Vec<Item> {
    series
        .iter()
        .map(|s| Item {
            label: s.name.to_string(),
            color: s.color,
            swatch: swatch(s),
        })
        .collect()
}

/// A line chart with optional tier bands behind.
pub(super) fn line<DB: DrawingBackend>(cv: &Canvas<DB>, xy: &Xy) -> Result<()> {
    let Some(series) = clean(xy) else {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    };
    let (lo, hi) = extent(&series);
    let edges = bands::edges_in_reach(&xy.bands, lo, hi);
    let (lo, hi) = edges
        .iter()
        .fold((lo, hi), |(l, h), &e| (l.min(e), h.max(e)));
    let items = legend_items(&series, |s| Swatch::Line { dashed: s.dashed });
    let right = bands::label_width(&xy.bands);
    let f = frame(
        cv,
        FrameSpec {
            unit: &xy.unit,
            range: padded(lo, hi),
            categories: &xy.categories,
            items,
            right,
        },
    );
    bands::draw_fills(cv, f.plot, &xy.bands, &f.scale)?;
    draw_frame(cv, &f, &xy.unit, &xy.categories)?;
    bands::draw_labels(cv, f.plot, &xy.bands, &f.scale)?;
    let radius = marker_radius(f.slots.width());
    for s in &series {
        draw_series_line(cv, &f, s, radius)?;
    }
    Ok(())
}

/// Point markers shrink, then disappear, as categories get dense.
fn marker_radius(slot_width: f64) -> f64 {
    if slot_width >= 14.0 {
        3.0
    } else if slot_width >= 7.0 {
        2.0
    } else {
        0.0
    }
}

/// Consecutive present values as polylines; a `None` breaks the line.
fn runs(
    values: &[Option<f64>],
    x: impl Fn(usize) -> f64,
    y: impl Fn(f64) -> f64,
) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((x(i), y(*v))),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn draw_series_line<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    f: &Frame,
    s: &Clean<'_>,
    radius: f64,
) -> Result<()> {
    for run in runs(&s.values, |i| f.slots.center(i), |v| f.scale.y(v)) {
        if s.dashed {
            cv.dashed_polyline(&run, s.color, LINE_WIDTH, DASH)?;
        } else {
            cv.polyline(&run, s.color, LINE_WIDTH)?;
        }
        // A lone point would be invisible without its marker.
        let r = if run.len() == 1 {
            radius.max(2.5)
        } else {
            radius
        };
        if r > 0.0 {
            for &p in &run {
                cv.dot(p, r, s.color, s.dashed)?;
            }
        }
    }
    Ok(())
}

/// Bars: one series plain, several grouped side by side per category.
pub(super) fn bar<DB: DrawingBackend>(cv: &Canvas<DB>, xy: &Xy) -> Result<()> {
    let Some(series) = clean(xy) else {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    };
    let items = legend_items(&series, |_| Swatch::Block);
    let f = frame(
        cv,
        FrameSpec {
            unit: &xy.unit,
            range: padded_extent(&series),
            categories: &xy.categories,
            items,
            right: 0.0,
        },
    );
    draw_frame(cv, &f, &xy.unit, &xy.categories)?;
    let slot = f.slots.width();
    let group = slot * if series.len() > 1 { 0.8 } else { 0.7 };
    let bar_width = group / series.len() as f64;
    let gap = if series.len() > 1 && bar_width > 6.0 {
        1.0
    } else {
        0.0
    };
    for (k, s) in series.iter().enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = *v else { continue };
            let x = f.slots.center(i) - group / 2.0 + k as f64 * bar_width;
            let r = span_rect(x + gap / 2.0, bar_width - gap, f.scale.y(0.0), f.scale.y(v));
            cv.fill_rect(r, s.color)?;
            if series.len() == 1 {
                value_label(cv, &f, r, v, &xy.unit, slot)?;
            }
        }
    }
    axes_zero_line(cv, &f)
}

fn padded_extent(series: &[Clean<'_>]) -> (f64, f64) {
    let (lo, hi) = extent(series);
    padded(lo, hi)
}

/// A rectangle between two rows, whichever is higher.
fn span_rect(x: f64, w: f64, y0: f64, y1: f64) -> Rect {
    Rect::new(x, y0.min(y1), w.max(0.5), (y1 - y0).abs())
}

/// The value over (or under, when negative) a single-series bar, when it fits.
fn value_label<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    f: &Frame,
    bar: Rect,
    v: f64,
    unit: &Unit,
    slot: f64,
) -> Result<()> {
    let font = Font::new(9.0, palette::MUTED);
    let text = format::value(v, unit);
    if font.width(&text) > slot - 4.0 {
        return Ok(());
    }
    let baseline = if v >= 0.0 {
        bar.y - 3.0
    } else {
        bar.bottom() + 3.0 + font.size
    };
    let inside = baseline - font.size >= f.plot.y - 2.0 && baseline <= f.plot.bottom() + 2.0;
    if !inside {
        return Ok(());
    }
    cv.text(&text, bar.center_x(), baseline, font, Align::Center)
}

/// Redraws the zero line over the bars so their base stays crisp.
fn axes_zero_line<DB: DrawingBackend>(cv: &Canvas<DB>, f: &Frame) -> Result<()> {
    let y = f.scale.y(0.0);
    cv.line((f.plot.x, y), (f.plot.right(), y), palette::AXIS, 1.0)
}

/// Bars with the series stacked per category (positives up, negatives down).
pub(super) fn stacked<DB: DrawingBackend>(cv: &Canvas<DB>, xy: &Xy) -> Result<()> {
    let Some(series) = clean(xy) else {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    };
    let items = legend_items(&series, |_| Swatch::Block);
    let (lo, hi) = stack_extent(&series, xy.categories.len());
    let f = frame(
        cv,
        FrameSpec {
            unit: &xy.unit,
            range: padded(lo, hi),
            categories: &xy.categories,
            items,
            right: 0.0,
        },
    );
    draw_frame(cv, &f, &xy.unit, &xy.categories)?;
    let bar_width = f.slots.width() * 0.7;
    for i in 0..xy.categories.len() {
        let x = f.slots.center(i) - bar_width / 2.0;
        draw_stack(cv, &f, &series, i, (x, bar_width))?;
    }
    axes_zero_line(cv, &f)
}

/// The lowest negative and highest positive stack over all categories.
fn stack_extent(series: &[Clean<'_>], n: usize) -> (f64, f64) {
    (0..n)
        .map(|i| {
            let values = series.iter().filter_map(|s| s.values[i]);
            values.fold((0.0, 0.0), |(neg, pos), v| {
                if v < 0.0 {
                    (neg + v, pos)
                } else {
                    (neg, pos + v)
                }
            })
        })
        .fold((0.0, 0.0), |(lo, hi): (f64, f64), (neg, pos)| {
            (lo.min(neg), hi.max(pos))
        })
}

fn draw_stack<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    f: &Frame,
    series: &[Clean<'_>],
    i: usize,
    (x, w): (f64, f64),
) -> Result<()> {
    let (mut neg, mut pos) = (0.0, 0.0);
    let mut seams = Vec::new();
    for s in series {
        let Some(v) = s.values[i] else { continue };
        let base = if v < 0.0 { &mut neg } else { &mut pos };
        let (from, to) = (*base, *base + v);
        *base = to;
        cv.fill_rect(span_rect(x, w, f.scale.y(from), f.scale.y(to)), s.color)?;
        if from != 0.0 {
            seams.push(f.scale.y(from));
        }
    }
    // A thin white seam keeps neighbouring segments apart in greyscale print.
    for y in seams {
        cv.line((x, y), (x + w, y), palette::BACKGROUND, 1.0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::Series;

    fn xy(values: Vec<Option<f64>>) -> Xy {
        Xy {
            unit: Unit::Count,
            categories: vec!["a".into(), "b".into(), "c".into()],
            series: vec![Series {
                name: "s".into(),
                values,
                dashed: false,
            }],
            bands: vec![],
        }
    }

    #[test]
    fn non_finite_values_are_gaps_and_all_missing_is_nothing() {
        let data = xy(vec![
            Some(1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(4.0),
        ]);
        let series = clean(&data).expect("has data");
        assert_eq!(series[0].values, vec![Some(1.0), None, None]);
        assert!(clean(&xy(vec![None, Some(f64::NAN)])).is_none());
    }

    #[test]
    fn gaps_break_lines_into_runs() {
        let r = runs(
            &[Some(1.0), Some(2.0), None, Some(3.0)],
            |i| i as f64,
            |v| v,
        );
        assert_eq!(r, vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(3.0, 3.0)]]);
    }

    #[test]
    fn stacks_sum_positives_and_negatives_apart() {
        let mut data = xy(vec![Some(2.0), Some(-1.0), None]);
        data.series.push(Series {
            name: "t".into(),
            values: vec![Some(3.0), Some(-2.0), Some(1.0)],
            dashed: false,
        });
        let series = clean(&data).expect("has data");
        assert_eq!(stack_extent(&series, 3), (-3.0, 5.0));
    }
}
