//! Progress bars for objectives and key results: label, bar filled to progress in
//! the status colour, a tick where progress should be by now, and the true
//! percentage with the status on the right.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Font, Rect};
use super::xy::finite;
use super::{ProgressRow, Unit, format, palette};
use crate::error::Result;

const PAD: f64 = 8.0;
const GAP: f64 = 8.0;
const ROW_MIN: f64 = 18.0;
const ROW_MAX: f64 = 30.0;
const FONT_SIZE: f64 = 11.0;

/// One bar per row; rows that do not fit are summarised as "+N more".
pub(super) fn figure<DB: DrawingBackend>(cv: &Canvas<DB>, rows: &[ProgressRow]) -> Result<()> {
    if rows.is_empty() {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    }
    let area = cv.bounds().inset(PAD);
    let (shown, hidden) = visible_rows(rows.len(), area.h);
    let lines = shown + usize::from(hidden > 0);
    let row_h = (area.h / lines.max(1) as f64).min(ROW_MAX);
    let top = area.y + (area.h - row_h * lines as f64) / 2.0;
    let cols = columns(&rows[..shown], area);
    for (i, row) in rows[..shown].iter().enumerate() {
        let band = Rect::new(area.x, top + i as f64 * row_h, area.w, row_h);
        draw_row(cv, band, &cols, row)?;
    }
    if hidden > 0 {
        let font = Font::new(FONT_SIZE, palette::MUTED);
        let cy = top + shown as f64 * row_h + row_h / 2.0;
        let note = format!("+{hidden} more");
        cv.text(
            &note,
            area.x,
            font.baseline_for_center(cy),
            font,
            Align::Left,
        )?;
    }
    Ok(())
}

/// How many rows to draw and how many to leave to a "+N more" line.
fn visible_rows(n: usize, height: f64) -> (usize, usize) {
    let fit = (height / ROW_MIN).floor().max(1.0) as usize;
    if n <= fit {
        (n, 0)
    } else {
        let shown = fit - 1;
        (shown, n - shown)
    }
}

/// Horizontal layout shared by all rows: label column, bar, status column.
struct Columns {
    label_w: f64,
    bar_x: f64,
    bar_w: f64,
    status_x: f64,
}

fn columns(rows: &[ProgressRow], area: Rect) -> Columns {
    let font = Font::new(FONT_SIZE, palette::TEXT);
    let widest = |texts: Vec<String>| texts.iter().map(|t| font.width(t)).fold(0.0, f64::max);
    // The bar keeps at least a third of the width; labels and statuses share the rest.
    let label_w = widest(rows.iter().map(|r| r.label.clone()).collect()).min(area.w * 0.4);
    let status_w = widest(rows.iter().map(status_text).collect()).min(area.w * 0.27);
    let bar_x = area.x + label_w + GAP;
    let status_x = area.right() - status_w;
    Columns {
        label_w,
        bar_x,
        bar_w: (status_x - GAP - bar_x).max(1.0),
        status_x,
    }
}

/// "112.5% at risk": the true (unclamped) progress and the status in words.
fn status_text(row: &ProgressRow) -> String {
    let pct = finite(row.progress)
        .map_or_else(|| "no data".to_string(), |p| format::value(p, &Unit::Ratio));
    match row
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(status) => format!("{pct} · {}", status.replace('_', " ")),
        None => pct,
    }
}

fn draw_row<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    band: Rect,
    cols: &Columns,
    row: &ProgressRow,
) -> Result<()> {
    let font = Font::new(FONT_SIZE, palette::TEXT);
    let cy = band.center_y();
    let baseline = font.baseline_for_center(cy);
    cv.text(
        &font.fit(&row.label, cols.label_w),
        band.x,
        baseline,
        font,
        Align::Left,
    )?;

    let bar_h = (band.h * 0.45).min(12.0);
    let bar = Rect::new(cols.bar_x, cy - bar_h / 2.0, cols.bar_w, bar_h);
    cv.fill_rect(bar, palette::TRACK)?;
    let color = match row.status.as_deref() {
        Some(status) => palette::tone(status).fill,
        None => palette::series(0),
    };
    if let Some(p) = finite(row.progress) {
        let filled = Rect::new(bar.x, bar.y, bar.w * p.clamp(0.0, 1.0), bar.h);
        if filled.w > 0.0 {
            cv.fill_rect(filled, color)?;
        }
    }
    if let Some(e) = finite(row.expected) {
        let x = bar.x + bar.w * e.clamp(0.0, 1.0);
        cv.line(
            (x, bar.y - 3.0),
            (x, bar.bottom() + 3.0),
            palette::MARKER,
            2.0,
        )?;
    }
    let status_font = Font::new(FONT_SIZE, palette::shade(color, 0.3));
    let text = status_font.fit(&status_text(row), band.right() - cols.status_x);
    cv.text(&text, cols.status_x, baseline, status_font, Align::Left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(progress: Option<f64>, status: Option<&str>) -> ProgressRow {
        ProgressRow {
            label: "ship it".into(),
            progress,
            expected: Some(0.5),
            status: status.map(str::to_string),
        }
    }

    #[test]
    fn status_text_shows_the_true_percentage() {
        assert_eq!(
            status_text(&row(Some(1.125), Some("on_track"))),
            "112.5% · on track"
        );
        assert_eq!(status_text(&row(None, None)), "no data");
        assert_eq!(status_text(&row(Some(f64::NAN), Some(" "))), "no data");
    }

    #[test]
    fn overflow_rows_leave_room_for_a_note() {
        assert_eq!(visible_rows(3, 100.0), (3, 0));
        assert_eq!(visible_rows(20, 100.0), (4, 16));
    }
}
