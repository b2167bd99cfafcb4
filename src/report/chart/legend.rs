//! The legend of multi-series charts, laid out in rows above the plot so it never
//! covers data.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::canvas::DASH;
use super::canvas::{Align, Canvas, Font, Rect};
use super::palette;
use crate::error::Result;

const FONT_SIZE: f64 = 10.0;
const SWATCH_LINE: f64 = 18.0;
const SWATCH_BLOCK: f64 = 10.0;
const SWATCH_GAP: f64 = 4.0;
const ITEM_GAP: f64 = 14.0;
const ROW_HEIGHT: f64 = 15.0;

/// How a series is drawn in the legend, matching how it is drawn in the plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    /// A short line with a marker; dashed for forecasts and targets.
    Line { dashed: bool },
    /// A filled square (bars).
    Block,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) swatch: Swatch,
}

/// Entries placed in rows: `(x, row, text, item)` relative to the legend's origin,
/// and a "+N more" note when not all entries fit in the allowed rows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Legend {
    placed: Vec<(f64, usize, String, Item)>,
    more: Option<(f64, usize, String)>,
    rows: usize,
}

fn font() -> Font {
    Font::new(FONT_SIZE, palette::TEXT)
}

fn swatch_width(swatch: Swatch) -> f64 {
    match swatch {
        Swatch::Line { .. } => SWATCH_LINE,
        Swatch::Block => SWATCH_BLOCK,
    }
}

impl Legend {
    /// Lays out `items` in at most `max_rows` rows `width` wide; no legend for a
    /// single series.
    pub(super) fn layout(items: Vec<Item>, width: f64, max_rows: usize) -> Legend {
        let mut legend = Legend {
            placed: Vec::new(),
            more: None,
            rows: 0,
        };
        if items.len() < 2 || max_rows == 0 {
            return legend;
        }
        let font = font();
        let total = items.len();
        let (mut x, mut row) = (0.0, 0usize);
        for item in items {
            let lead = swatch_width(item.swatch) + SWATCH_GAP;
            let text = font.fit(&item.label, (width - lead).max(0.0));
            let item_width = lead + font.width(&text);
            if x > 0.0 && x + item_width > width {
                if row + 1 == max_rows {
                    break;
                }
                x = 0.0;
                row += 1;
            }
            legend.placed.push((x, row, text, item));
            x += item_width + ITEM_GAP;
        }
        legend.rows = row + 1;
        legend.note_hidden(total, x, width);
        legend
    }

    /// Adds "+N more" after the last entry, dropping entries until it fits.
    fn note_hidden(&mut self, total: usize, mut x: f64, width: f64) {
        let font = font();
        while self.placed.len() < total {
            let note = format!("+{} more", total - self.placed.len());
            let row = self.rows - 1;
            if x + font.width(&note) <= width || self.placed.is_empty() {
                self.more = Some((x, row, note));
                return;
            }
            match self.placed.pop() {
                Some((last_x, last_row, _, _)) if last_row == row => x = last_x,
                Some(entry) => {
                    self.placed.push(entry);
                    self.more = Some((x, row, note));
                    return;
                }
                None => return,
            }
        }
    }

    /// Height the legend takes (0 when there is none).
    pub(super) fn height(&self) -> f64 {
        self.rows as f64 * ROW_HEIGHT
    }

    /// Draws the legend with its top-left corner at `origin`.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        cv: &Canvas<DB>,
        origin: (f64, f64),
    ) -> Result<()> {
        let font = font();
        for (x, row, text, item) in &self.placed {
            let x = origin.0 + x;
            let cy = origin.1 + (*row as f64 + 0.5) * ROW_HEIGHT;
            draw_swatch(cv, item, x, cy)?;
            let text_x = x + swatch_width(item.swatch) + SWATCH_GAP;
            cv.text(
                text,
                text_x,
                font.baseline_for_center(cy),
                font,
                Align::Left,
            )?;
        }
        if let Some((x, row, note)) = &self.more {
            let cy = origin.1 + (*row as f64 + 0.5) * ROW_HEIGHT;
            let muted = Font::new(FONT_SIZE, palette::MUTED);
            cv.text(
                note,
                origin.0 + x,
                muted.baseline_for_center(cy),
                muted,
                Align::Left,
            )?;
        }
        Ok(())
    }
}

fn draw_swatch<DB: DrawingBackend>(cv: &Canvas<DB>, item: &Item, x: f64, cy: f64) -> Result<()> {
    match item.swatch {
        Swatch::Block => {
            let r = Rect::new(x, cy - SWATCH_BLOCK / 2.0, SWATCH_BLOCK, SWATCH_BLOCK);
            cv.fill_rect(r, item.color)
        }
        Swatch::Line { dashed } => {
            let line = [(x, cy), (x + SWATCH_LINE, cy)];
            if dashed {
                cv.dashed_polyline(&line, item.color, 2.0, DASH)?;
            } else {
                cv.polyline(&line, item.color, 2.0)?;
            }
            cv.dot((x + SWATCH_LINE / 2.0, cy), 2.5, item.color, dashed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str) -> Item {
        Item {
            label: label.to_string(),
            color: palette::series(0),
            swatch: Swatch::Block,
        }
    }

    #[test]
    fn single_series_has_no_legend_and_long_ones_wrap() {
        super::super::font::ensure_registered().expect("fonts");
        assert_eq!(Legend::layout(vec![item("only")], 300.0, 3).height(), 0.0);
        let two = Legend::layout(vec![item("a"), item("b")], 300.0, 3);
        assert_eq!((two.rows, two.more.is_none()), (1, true));
        let items = || (0..8).map(|i| item(&format!("team number {i}"))).collect();
        let many = Legend::layout(items(), 200.0, 9);
        assert!(many.rows > 2 && many.more.is_none(), "{}", many.rows);
        let capped = Legend::layout(items(), 200.0, 2);
        assert_eq!(capped.rows, 2);
        let note = capped
            .more
            .as_ref()
            .map(|m| m.2.clone())
            .unwrap_or_default();
        assert_eq!(note, format!("+{} more", 8 - capped.placed.len()));
    }
}
