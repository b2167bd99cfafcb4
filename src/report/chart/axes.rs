//! Scales and axes of the x/y charts: a linear y scale with "nice" ticks and a
//! categorical x axis whose labels are thinned out so they never overlap.

use plotters::prelude::DrawingBackend;

use super::Unit;
use super::canvas::{Align, Canvas, Font, Rect};
use super::format;
use super::palette;
use crate::error::Result;

/// Tick label font size.
pub(super) const TICK_FONT: f64 = 10.0;

/// A linear y scale mapped onto a plot rectangle.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct YScale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    /// The data's largest magnitude: picks the unit of duration labels.
    label_max: f64,
    top: f64,
    bottom: f64,
}

impl YScale {
    /// A scale covering `lo..hi` with about `target` ticks, rounded out to whole ticks.
    pub(super) fn new(lo: f64, hi: f64, target: usize) -> Self {
        let label_max = lo.abs().max(hi.abs());
        let (lo, hi) = if hi - lo > f64::EPSILON * hi.abs().max(1.0) {
            (lo, hi)
        } else if lo == 0.0 {
            (0.0, 1.0)
        } else {
            (lo.min(0.0), hi.max(0.0) + lo.abs() * 0.1)
        };
        let step = nice_step(lo, hi, target);
        // Tolerate float noise so 0.30000000000000004 does not add a whole tick.
        let first = (lo / step + 1e-9).floor() as i64;
        let last = (hi / step - 1e-9).ceil() as i64;
        let ticks: Vec<f64> = (first..=last).map(|k| clean(k as f64 * step)).collect();
        let lo = ticks.first().copied().unwrap_or(lo);
        let hi = ticks.last().copied().unwrap_or(hi);
        YScale {
            lo,
            hi,
            ticks,
            label_max,
            top: 0.0,
            bottom: 1.0,
        }
    }

    /// A scale for values in `unit`: durations get round ticks in the unit their
    /// labels use (whole days rather than "0.8 d" at 20-hour steps).
    pub(super) fn for_unit(lo: f64, hi: f64, target: usize, unit: &Unit) -> Self {
        let label_max = lo.abs().max(hi.abs());
        let factor = match unit {
            Unit::Hours => match format::tick(label_max, unit, label_max) {
                t if t.ends_with(" d") => 24.0,
                t if t.ends_with(" min") => 1.0 / 60.0,
                _ => 1.0,
            },
            _ => 1.0,
        };
        let mut scale = YScale::new(lo / factor, hi / factor, target);
        scale.lo = clean(scale.lo * factor);
        scale.hi = clean(scale.hi * factor);
        scale.ticks = scale.ticks.iter().map(|t| clean(t * factor)).collect();
        scale.label_max = label_max;
        scale
    }

    /// The same scale placed between pixel rows `top` and `bottom`.
    pub(super) fn placed(mut self, top: f64, bottom: f64) -> Self {
        self.top = top;
        self.bottom = bottom;
        self
    }

    /// The pixel row of `v`.
    pub(super) fn y(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        self.bottom - (v - self.lo) / span * (self.bottom - self.top)
    }

    /// Tick labels, all in one unit.
    pub(super) fn labels(&self, unit: &Unit) -> Vec<String> {
        self.ticks
            .iter()
            .map(|&t| format::tick(t, unit, self.label_max))
            .collect()
    }
}

/// How many ticks fit comfortably in `height` pixels.
pub(super) fn tick_target(height: f64) -> usize {
    ((height / 34.0) as usize).clamp(2, 6)
}

/// The 1, 2 or 5 × 10ⁿ step whose tick count over `lo..hi` comes closest to
/// `target` (ties go to the larger step): "at least range/target" alone can nearly
/// double the axis (0..346 would end at 400 instead of 350).
fn nice_step(lo: f64, hi: f64, target: usize) -> f64 {
    let raw = (hi - lo) / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let count = |step: f64| (hi / step - 1e-9).ceil() - (lo / step + 1e-9).floor();
    let mut best = (f64::INFINITY, base);
    for magnitude in [base / 10.0, base, base * 10.0] {
        for factor in [1.0, 2.0, 5.0] {
            let step = factor * magnitude;
            let miss = (count(step) - target as f64).abs();
            if miss < best.0 || (miss == best.0 && step > best.1) {
                best = (miss, step);
            }
        }
    }
    best.1
}

/// Drops float noise (0.30000000000000004) and negative zero from a tick value.
fn clean(v: f64) -> f64 {
    let rounded = (v * 1e9).round() / 1e9;
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// Categories laid out as equal slots across the plot width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Slots {
    pub(super) x: f64,
    pub(super) w: f64,
    pub(super) n: usize,
}

impl Slots {
    /// Width of one category's slot.
    pub(super) fn width(&self) -> f64 {
        self.w / self.n.max(1) as f64
    }

    /// The middle of slot `i`.
    pub(super) fn center(&self, i: usize) -> f64 {
        self.x + (i as f64 + 0.5) * self.width()
    }
}

/// Label every `k`-th category so labels keep a gap; the last category is always
/// labelled (it is the latest period). Wide slots label everything, truncated.
pub(super) fn label_step(labels: &[String], slot_width: f64, font: &Font) -> usize {
    const GAP: f64 = 8.0;
    if slot_width >= 40.0 {
        return 1;
    }
    let widest = labels.iter().map(|l| font.width(l)).fold(0.0, f64::max);
    (((widest + GAP) / slot_width.max(1.0)).ceil() as usize).max(1)
}

/// Grid lines and y tick labels (right-aligned left of the plot).
pub(super) fn draw_y_axis<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    plot: Rect,
    scale: &YScale,
    labels: &[String],
) -> Result<()> {
    let font = Font::new(TICK_FONT, palette::MUTED);
    for (&tick, label) in scale.ticks.iter().zip(labels) {
        let y = scale.y(tick);
        let color = if tick == 0.0 {
            palette::AXIS
        } else {
            palette::GRID
        };
        cv.line((plot.x, y), (plot.right(), y), color, 1.0)?;
        cv.text(
            label,
            plot.x - 6.0,
            font.baseline_for_center(y),
            font,
            Align::Right,
        )?;
    }
    Ok(())
}

/// How many rows the category labels take: two, staggered, when one row would
/// have to skip labels but two rows show them all (team names must all be read);
/// else one.
pub(super) fn label_rows(labels: &[String], slot_width: f64) -> usize {
    let font = Font::new(TICK_FONT, palette::MUTED);
    match label_step(labels, slot_width, &font) {
        2 | 3 if slot_width >= 24.0 => 2,
        _ => 1,
    }
}

/// Category labels under the plot. On one row: every `step`-th one, placed right
/// to left so the latest is always shown; a label nudged inwards at the canvas
/// edge hides a neighbour it would touch. On two rows: every label, alternating
/// rows, each fitted to two slots.
pub(super) fn draw_x_labels<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    plot: Rect,
    slots: &Slots,
    categories: &[String],
    rows: usize,
) -> Result<()> {
    const GAP: f64 = 6.0;
    let font = Font::new(TICK_FONT, palette::MUTED);
    let step = if rows > 1 {
        1
    } else {
        label_step(categories, slots.width(), &font)
    };
    let room = slots.width() * (step * rows) as f64 - 4.0;
    let mut free_until = [f64::INFINITY; 2];
    for i in (0..categories.len()).rev().step_by(step) {
        let row = if rows > 1 { i % 2 } else { 0 };
        let top = plot.bottom() + 3.0 + row as f64 * font.line_height();
        let text = font.fit(&categories[i], room);
        let half = font.width(&text) / 2.0;
        let x = slots
            .center(i)
            .clamp(half + 2.0, (cv.width - half - 2.0).max(half + 2.0));
        if x + half + GAP > free_until[row] {
            continue;
        }
        cv.text(&text, x, font.baseline_below(top), font, Align::Center)?;
        free_until[row] = x - half;
    }
    Ok(())
}

/// Height reserved under the plot for `rows` rows of category labels.
pub(super) fn x_label_height(rows: usize) -> f64 {
    Font::new(TICK_FONT, palette::MUTED).line_height() * rows.max(1) as f64 + 5.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        let s = YScale::new(0.0, 9.3, 5);
        assert_eq!(s.ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let s = YScale::new(0.0, 0.33, 4);
        assert_eq!(s.ticks.last().copied(), Some(0.4));
        assert!(
            s.ticks
                .iter()
                .all(|t| (t * 10.0 - (t * 10.0).round()).abs() < 1e-9)
        );
        let s = YScale::new(-3.0, 7.0, 5);
        assert_eq!((s.lo, s.hi), (-4.0, 8.0));
        assert_eq!(YScale::new(0.0, 0.0, 5).ticks.last().copied(), Some(1.0));
    }

    #[test]
    fn scale_maps_values_to_rows() {
        let s = YScale::new(0.0, 10.0, 5).placed(10.0, 110.0);
        assert_eq!(s.y(0.0), 110.0);
        assert_eq!(s.y(10.0), 10.0);
    }

    #[test]
    fn duration_ticks_use_one_unit_and_round_steps() {
        let s = YScale::for_unit(0.0, 100.0, 5, &Unit::Hours);
        let labels = s.labels(&Unit::Hours);
        assert_eq!(labels, vec!["0 d", "1 d", "2 d", "3 d", "4 d", "5 d"]);
        let s = YScale::for_unit(0.0, 0.7, 4, &Unit::Hours);
        assert_eq!(
            s.labels(&Unit::Hours).last().map(String::as_str),
            Some("60 min")
        );
    }
}
