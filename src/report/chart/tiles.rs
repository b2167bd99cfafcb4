//! KPI tiles: label, big value, tier/status badge, sample size and a sparkline,
//! laid out in a row or a grid depending on the panel's shape.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Font, Rect};
use super::palette;
use super::sparkline;
use super::{Tile, format};
use crate::error::Result;

const PAD: f64 = 6.0;
const GAP: f64 = 8.0;
/// The shape a tile looks best at (width / height).
const IDEAL_ASPECT: f64 = 1.8;
/// Narrower tiles cannot hold a value and its badge.
const MIN_WIDTH: f64 = 110.0;
const LABEL_SIZE: f64 = 11.0;
const META_SIZE: f64 = 10.0;

/// KPI tiles filling the canvas.
pub(super) fn figure<DB: DrawingBackend>(cv: &Canvas<DB>, tiles: &[Tile]) -> Result<()> {
    if tiles.is_empty() {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    }
    let area = cv.bounds().inset(PAD);
    let cols = best_columns(tiles.len(), area);
    let rows = tiles.len().div_ceil(cols);
    let w = (area.w - GAP * (cols - 1) as f64) / cols as f64;
    let h = (area.h - GAP * (rows - 1) as f64) / rows as f64;
    for (i, tile) in tiles.iter().enumerate() {
        let (row, col) = (i / cols, i % cols);
        let x = area.x + col as f64 * (w + GAP);
        let y = area.y + row as f64 * (h + GAP);
        draw_tile(cv, Rect::new(x, y, w, h), tile)?;
    }
    Ok(())
}

/// The column count whose tiles come closest to a pleasant shape.
fn best_columns(n: usize, area: Rect) -> usize {
    let badness = |cols: usize| {
        let rows = n.div_ceil(cols);
        let w = (area.w - GAP * (cols - 1) as f64) / cols as f64;
        let h = (area.h - GAP * (rows - 1) as f64) / rows as f64;
        let shape = ((w / h.max(1.0)) / IDEAL_ASPECT).ln().abs();
        let cramped = if w < MIN_WIDTH { 2.0 } else { 0.0 };
        shape + cramped
    };
    (1..=n.max(1))
        .min_by(|&a, &b| badness(a).total_cmp(&badness(b)))
        .unwrap_or(1)
}

/// The vertical plan of one tile: which parts fit and the value's font size.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    value_size: f64,
    meta_line: bool,
    spark_height: f64,
    /// Height of everything planned, for centring the block in the tile.
    content_height: f64,
}

fn plan(inner: Rect, has_meta: bool, has_trend: bool) -> Plan {
    let label_h = Font::new(LABEL_SIZE, palette::MUTED).line_height();
    let meta_h = Font::new(META_SIZE, palette::MUTED).line_height();
    let mut value_size = (inner.h * 0.26).clamp(14.0, 30.0);
    let mut meta_line = has_meta;
    let used = |v: f64, meta: bool| label_h + 1.2 * v + if meta { meta_h } else { 0.0 };
    if used(value_size, meta_line) > inner.h {
        meta_line = false;
    }
    if used(value_size, meta_line) > inner.h {
        value_size = ((inner.h - label_h) / 1.2).max(8.0);
    }
    let rest = inner.h - used(value_size, meta_line) - 4.0;
    let spark_height = if has_trend && rest >= 12.0 {
        rest.min(48.0)
    } else {
        0.0
    };
    let spark_block = if spark_height > 0.0 {
        spark_height + 4.0
    } else {
        0.0
    };
    Plan {
        value_size,
        meta_line,
        spark_height,
        content_height: used(value_size, meta_line) + spark_block,
    }
}

/// One tile: panel, then label, value with badge, `n=…` and sparkline, the block
/// centred vertically when there is room to spare.
fn draw_tile<DB: DrawingBackend>(cv: &Canvas<DB>, rect: Rect, tile: &Tile) -> Result<()> {
    cv.fill_rect(rect, palette::PANEL)?;
    cv.stroke_rect(rect, palette::BORDER, 1.0)?;
    let inner = rect.inset(8.0_f64.min(rect.h * 0.1).max(4.0));
    let trend_range = sparkline::range(&tile.trend);
    let badge = tile
        .badge
        .as_deref()
        .map(|b| b.trim().replace('_', " "))
        .filter(|b| !b.is_empty());
    let has_meta = tile.n.is_some() || badge.is_some();
    let p = plan(inner, has_meta, trend_range.is_some());
    let slack = (inner.h - p.content_height).max(0.0);
    let inner = Rect::new(inner.x, inner.y + slack / 2.0, inner.w, inner.h - slack);

    let label_font = Font::new(LABEL_SIZE, palette::MUTED);
    let label = label_font.fit(&tile.label, inner.w);
    let baseline = label_font.baseline_below(inner.y);
    cv.text(&label, inner.x, baseline, label_font, Align::Left)?;

    let value_top = inner.y + label_font.line_height();
    let value_end = draw_value(cv, inner, value_top, tile, p.value_size)?;
    let value_line = Rect::new(inner.x, value_top, inner.w, 1.2 * p.value_size);
    let meta_bottom = draw_badge_and_n(cv, &p, value_line, value_end, badge.as_deref(), tile.n)?;
    if let (Some(range), true) = (trend_range, p.spark_height > 0.0) {
        let area = Rect::new(inner.x, meta_bottom + 4.0, inner.w, p.spark_height);
        sparkline::draw(cv, area, &tile.trend, range, palette::series(0), false)?;
    }
    Ok(())
}

/// The badge beside the value when it fits there (else at the start of the meta
/// line), then `n=…`; returns the bottom of what was drawn.
fn draw_badge_and_n<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    p: &Plan,
    value_line: Rect,
    value_end: f64,
    badge: Option<&str>,
    n: Option<i64>,
) -> Result<f64> {
    let meta_font = Font::new(META_SIZE, palette::MUTED);
    let meta_top = value_line.bottom();
    let mut meta_x = value_line.x;
    if let Some(badge) = badge {
        if value_end + 8.0 + badge_width(badge) <= value_line.right() {
            draw_badge(cv, badge, value_end + 8.0, value_line.center_y())?;
        } else if p.meta_line {
            let center = meta_top + meta_font.line_height() / 2.0;
            meta_x = draw_badge(cv, badge, value_line.x, center)? + 6.0;
        }
    }
    if !p.meta_line {
        return Ok(meta_top);
    }
    if let Some(n) = n {
        let text = meta_font.fit(&format!("n={n}"), value_line.right() - meta_x);
        let baseline = meta_font.baseline_below(meta_top);
        cv.text(&text, meta_x, baseline, meta_font, Align::Left)?;
    }
    Ok(meta_top + meta_font.line_height())
}

/// The value (or "no data yet"), shrunk to fit; returns where its text ends.
fn draw_value<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    inner: Rect,
    top: f64,
    tile: &Tile,
    size: f64,
) -> Result<f64> {
    let (text, font) = match tile.value.filter(|v| v.is_finite()) {
        Some(v) => (
            format::value(v, &tile.unit),
            Font::new(size, palette::TEXT).bold(),
        ),
        None => (
            super::canvas::NO_DATA.to_string(),
            Font::new((size * 0.55).max(10.0), palette::MUTED),
        ),
    };
    let fitted = Font {
        size: shrink_to_fit(&text, font, inner.w),
        ..font
    };
    // Centre a smaller "no data yet" on the value line rather than on its top.
    let center = top + Font::new(size, palette::TEXT).line_height() / 2.0;
    let baseline = fitted.baseline_for_center(center);
    cv.text(&text, inner.x, baseline, fitted, Align::Left)?;
    Ok(inner.x + fitted.width(&text))
}

/// The largest font size ≤ `font.size` at which `text` fits `width` (at least 8).
fn shrink_to_fit(text: &str, font: Font, width: f64) -> f64 {
    let natural = font.width(text);
    if natural <= width || natural <= 0.0 {
        font.size
    } else {
        (font.size * width / natural).floor().max(8.0)
    }
}

const BADGE_SIZE: f64 = 10.0;
const BADGE_PAD: f64 = 5.0;

fn badge_font() -> Font {
    Font::new(BADGE_SIZE, palette::TEXT).bold()
}

fn badge_width(text: &str) -> f64 {
    badge_font().width(text) + 2.0 * BADGE_PAD
}

/// A filled pill in the tier/status colour; returns its right edge.
fn draw_badge<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    text: &str,
    x: f64,
    center_y: f64,
) -> Result<f64> {
    let tone = palette::tone(text);
    let h = BADGE_SIZE * 1.6;
    let w = badge_width(text);
    cv.fill_rect(Rect::new(x, center_y - h / 2.0, w, h), tone.fill)?;
    let font = Font {
        color: tone.on,
        ..badge_font()
    };
    cv.text(
        text,
        x + w / 2.0,
        font.baseline_for_center(center_y),
        font,
        Align::Center,
    )?;
    Ok(x + w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_panel_shape() {
        let wide = Rect::new(0.0, 0.0, 960.0, 160.0);
        assert_eq!(best_columns(4, wide), 4);
        let small = Rect::new(0.0, 0.0, 308.0, 188.0);
        assert_eq!(best_columns(4, small), 2);
        assert_eq!(best_columns(1, small), 1);
    }

    #[test]
    fn small_tiles_drop_the_sparkline_first() {
        let roomy = plan(Rect::new(0.0, 0.0, 140.0, 100.0), true, true);
        assert!(roomy.meta_line && roomy.spark_height >= 12.0, "{roomy:?}");
        let tight = plan(Rect::new(0.0, 0.0, 140.0, 40.0), true, true);
        assert_eq!(tight.spark_height, 0.0);
    }
}
