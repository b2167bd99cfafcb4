//! Sparklines: a trend's shape without axes, the last point marked. Used on their
//! own (`Figure::Sparkline`) and under KPI tiles.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::Xy;
use super::canvas::DASH;
use super::canvas::{Canvas, Rect};
use super::palette;
use super::xy;
use crate::error::Result;

const WIDTH: f64 = 1.5;
/// How strongly the area under a sparkline is tinted.
const AREA: f64 = 0.14;
const LAST_POINT: f64 = 2.5;

/// The smallest and largest present value, widened when flat so it sits mid-height.
pub(super) fn range<'a>(values: impl IntoIterator<Item = &'a Option<f64>>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter_map(|v| xy::finite(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    if hi - lo > f64::EPSILON * hi.abs().max(1.0) {
        Some((lo, hi))
    } else {
        let pad = (lo.abs() * 0.1).max(1.0);
        Some((lo - pad, hi + pad))
    }
}

/// One trend line in `area`, scaled to `(lo, hi)`; gaps break it, the last
/// present point gets a dot.
pub(super) fn draw<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    area: Rect,
    values: &[Option<f64>],
    (lo, hi): (f64, f64),
    color: RGBColor,
    dashed: bool,
) -> Result<()> {
    let inner = area.inset(LAST_POINT + 0.5);
    let steps = values.len().saturating_sub(1).max(1) as f64;
    let x = |i: usize| {
        if values.len() == 1 {
            inner.center_x()
        } else {
            inner.x + inner.w * i as f64 / steps
        }
    };
    let y = |v: f64| inner.bottom() - (v - lo) / (hi - lo) * inner.h;
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match (xy::finite(*v), runs.last_mut()) {
            (Some(v), Some(run)) => run.push((x(i), y(v))),
            (None, Some(run)) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    // Areas first, so no fill covers a neighbouring run's line.
    if !dashed {
        for run in &runs {
            fill_under(cv, run, inner.bottom(), color)?;
        }
    }
    for run in &runs {
        stroke(cv, run, color, dashed)?;
    }
    match runs.iter().rev().find_map(|run| run.last().copied()) {
        Some(p) => cv.dot(p, LAST_POINT, color, false),
        None => Ok(()),
    }
}

/// A light area between a run and the bottom edge: gives the trend some body.
fn fill_under<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    run: &[(f64, f64)],
    bottom: f64,
    color: RGBColor,
) -> Result<()> {
    let (Some(&(first, _)), Some(&(last, _))) = (run.first(), run.last()) else {
        return Ok(());
    };
    let mut outline = run.to_vec();
    outline.extend([(last, bottom), (first, bottom)]);
    cv.fill_polygon(&outline, palette::tint(color, AREA))
}

fn stroke<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    run: &[(f64, f64)],
    color: RGBColor,
    dashed: bool,
) -> Result<()> {
    if dashed {
        cv.dashed_polyline(run, color, WIDTH, DASH)
    } else {
        cv.polyline(run, color, WIDTH)
    }
}

/// `Figure::Sparkline`: every series on one shared scale, filling the canvas.
pub(super) fn figure<DB: DrawingBackend>(cv: &Canvas<DB>, data: &Xy) -> Result<()> {
    let Some(series) = xy::clean(data) else {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    };
    let Some(range) = range(series.iter().flat_map(|s| s.values.iter())) else {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    };
    let area = cv.bounds().inset(4.0);
    for s in &series {
        draw(cv, area, &s.values, range, s.color, s.dashed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_empty_ranges() {
        assert_eq!(range(&[Some(1.0), None, Some(3.0)]), Some((1.0, 3.0)));
        assert_eq!(range(&[Some(5.0), Some(5.0)]), Some((4.0, 6.0)));
        assert_eq!(range(&[None, Some(f64::NAN)]), None);
    }
}
