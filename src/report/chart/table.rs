//! A plain text table (anomalies, top-N lists): bold header, zebra rows, long
//! cells cut with "…", and "+N more" when the rows outgrow the panel.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Font, Rect};
use super::{TableData, palette};
use crate::error::Result;

const PAD: f64 = 6.0;
const CELL_PAD: f64 = 6.0;
const ROW_H: f64 = 20.0;
const FONT_SIZE: f64 = 11.0;

fn cell_font() -> Font {
    Font::new(FONT_SIZE, palette::TEXT)
}

fn header_font() -> Font {
    cell_font().bold()
}

/// The table, top-aligned; rows that do not fit become a "+N more" line.
pub(super) fn figure<DB: DrawingBackend>(cv: &Canvas<DB>, table: &TableData) -> Result<()> {
    let ncols = table
        .rows
        .iter()
        .map(Vec::len)
        .chain([table.columns.len()])
        .max()
        .unwrap_or(0);
    if table.rows.is_empty() || ncols == 0 {
        return super::canvas::empty(cv, super::canvas::NO_DATA);
    }
    let area = cv.bounds().inset(PAD);
    let widths = column_widths(table, ncols, area.w);
    let right_aligned: Vec<bool> = (0..ncols).map(|c| is_numeric_column(table, c)).collect();
    let layout = RowLayout {
        x: area.x,
        widths: &widths,
        right_aligned: &right_aligned,
    };
    cv.fill_rect(Rect::new(area.x, area.y, area.w, ROW_H), palette::PANEL)?;
    layout.draw(cv, area.y, &table.columns, header_font())?;
    let rule_y = area.y + ROW_H;
    cv.line(
        (area.x, rule_y),
        (area.right(), rule_y),
        palette::BORDER,
        1.0,
    )?;

    let (shown, hidden) = visible_rows(table.rows.len(), area.h - ROW_H);
    for (i, row) in table.rows[..shown].iter().enumerate() {
        let y = rule_y + i as f64 * ROW_H;
        if i % 2 == 1 {
            cv.fill_rect(Rect::new(area.x, y, area.w, ROW_H), palette::ZEBRA)?;
        }
        layout.draw(cv, y, row, cell_font())?;
    }
    if hidden > 0 {
        let font = Font::new(FONT_SIZE, palette::MUTED);
        let cy = rule_y + shown as f64 * ROW_H + ROW_H / 2.0;
        let note = format!("+{hidden} more");
        cv.text(
            &note,
            area.x + CELL_PAD,
            font.baseline_for_center(cy),
            font,
            Align::Left,
        )?;
    }
    Ok(())
}

/// How many rows to draw in `height` and how many to leave to "+N more".
fn visible_rows(n: usize, height: f64) -> (usize, usize) {
    let fit = (height / ROW_H).floor().max(0.0) as usize;
    if n <= fit {
        (n, 0)
    } else {
        let shown = fit.saturating_sub(1);
        (shown, n - shown)
    }
}

/// Column widths: each column gets its natural width when all fit; otherwise
/// wide columns are capped at a common width so narrow ones stay whole.
fn column_widths(table: &TableData, ncols: usize, total: f64) -> Vec<f64> {
    let natural: Vec<f64> = (0..ncols)
        .map(|c| {
            let header = table.columns.get(c).map_or(0.0, |h| header_font().width(h));
            let cells = table
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|t| cell_font().width(t));
            cells.fold(header, f64::max) + 2.0 * CELL_PAD
        })
        .collect();
    let sum: f64 = natural.iter().sum();
    if sum <= total {
        // Spread the spare room evenly so the table spans the panel.
        let extra = (total - sum) / ncols as f64;
        return natural.iter().map(|w| w + extra).collect();
    }
    let cap = water_level(&natural, total);
    natural.iter().map(|w| w.min(cap)).collect()
}

/// The width `cap` at which `Σ min(wᵢ, cap) = total` (wide columns shrink first).
fn water_level(widths: &[f64], total: f64) -> f64 {
    let mut sorted = widths.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut remaining = total;
    for (i, w) in sorted.iter().enumerate() {
        let left = (sorted.len() - i) as f64;
        if w * left >= remaining {
            return (remaining / left).max(0.0);
        }
        remaining -= w;
    }
    sorted.last().copied().unwrap_or(total)
}

/// Numbers read best right-aligned: a column whose cells all start like one.
fn is_numeric_column(table: &TableData, c: usize) -> bool {
    let mut cells = table
        .rows
        .iter()
        .filter_map(|r| r.get(c))
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .peekable();
    cells.peek().is_some()
        && cells.all(|t| {
            let body = t.trim_start_matches(['-', '+', '$', '€', '£']);
            body.starts_with(|ch: char| ch.is_ascii_digit())
        })
}

/// Where cells go along a row.
struct RowLayout<'a> {
    x: f64,
    widths: &'a [f64],
    right_aligned: &'a [bool],
}

impl RowLayout<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        cv: &Canvas<DB>,
        top: f64,
        cells: &[String],
        font: Font,
    ) -> Result<()> {
        let baseline = font.baseline_for_center(top + ROW_H / 2.0);
        let mut x = self.x;
        for (c, &w) in self.widths.iter().enumerate() {
            if let Some(cell) = cells.get(c) {
                let text = font.fit(cell, w - 2.0 * CELL_PAD);
                if self.right_aligned.get(c).copied().unwrap_or(false) {
                    cv.text(&text, x + w - CELL_PAD, baseline, font, Align::Right)?;
                } else {
                    cv.text(&text, x + CELL_PAD, baseline, font, Align::Left)?;
                }
            }
            x += w;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_columns_shrink_first() {
        let cap = water_level(&[20.0, 200.0, 400.0], 300.0);
        assert!((cap - 140.0).abs() < 1e-9, "{cap}");
        assert_eq!(water_level(&[10.0, 10.0], 100.0), 10.0);
    }

    #[test]
    fn rows_beyond_the_panel_are_counted() {
        assert_eq!(visible_rows(3, 100.0), (3, 0));
        assert_eq!(visible_rows(10, 100.0), (4, 6));
    }

    #[test]
    fn numeric_columns_are_detected() {
        let t = TableData {
            columns: vec!["team".into(), "cost".into()],
            rows: vec![
                vec!["a".into(), "$1.2k".into()],
                vec!["b".into(), "-3".into()],
            ],
        };
        assert!(!is_numeric_column(&t, 0));
        assert!(is_numeric_column(&t, 1));
    }
}
