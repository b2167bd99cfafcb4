//! A thin drawing surface over a plotters `DrawingArea`, in logical pixels.
//!
//! All layout is computed at scale 1 in `f64`; the canvas multiplies by the output
//! scale only when it hands coordinates to plotters. That is what makes a 2× PNG
//! the same picture as the SVG, just sharper. It also evens out the two backends'
//! text placement: plotters puts SVG text by `dy` em offsets and bitmap text by
//! ab_glyph's height-scaled metrics, so text here is placed by its baseline.

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Polygon, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle};

use super::font::{FAMILY, HEIGHT_PER_EM};
use super::palette;
use crate::error::{Error, Result};

/// Which backend the canvas draws on; only text placement differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    /// `SVGBackend`: text positioned by the viewer from `y` and `dy="0.76em"`.
    Svg,
    /// `BitMapBackend`: text rasterised by ab_glyph with its baseline at `y + size/2`.
    Bitmap,
}

/// A rectangle in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
}

impl Rect {
    pub(super) fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Rect { x, y, w, h }
    }

    pub(super) fn right(&self) -> f64 {
        self.x + self.w
    }

    pub(super) fn bottom(&self) -> f64 {
        self.y + self.h
    }

    pub(super) fn center_x(&self) -> f64 {
        self.x + self.w / 2.0
    }

    pub(super) fn center_y(&self) -> f64 {
        self.y + self.h / 2.0
    }

    /// The rectangle shrunk by `d` on every side (never below zero size).
    pub(super) fn inset(&self, d: f64) -> Rect {
        Rect::new(
            self.x + d,
            self.y + d,
            (self.w - 2.0 * d).max(0.0),
            (self.h - 2.0 * d).max(0.0),
        )
    }
}

/// Horizontal alignment of text relative to its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// Size (em, logical pixels), weight and colour of a piece of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Font {
    pub(super) size: f64,
    pub(super) bold: bool,
    pub(super) color: RGBColor,
}

impl Font {
    pub(super) fn new(size: f64, color: RGBColor) -> Self {
        Font {
            size,
            bold: false,
            color,
        }
    }

    pub(super) fn bold(self) -> Self {
        Font { bold: true, ..self }
    }

    /// Width of `text` in this font, in logical pixels.
    pub(super) fn width(&self, text: &str) -> f64 {
        super::font::text_width(text, self.size, self.bold)
    }

    /// `text` cut with "…" to fit `max_width`.
    pub(super) fn fit(&self, text: &str, max_width: f64) -> String {
        super::font::fit_text(text, max_width, self.size, self.bold)
    }

    /// The baseline that centres capitals vertically on `center_y`.
    pub(super) fn baseline_for_center(&self, center_y: f64) -> f64 {
        // DejaVu Sans capitals are 0.73 em tall.
        center_y + 0.365 * self.size
    }

    /// The baseline of a line of text whose box (1.2 em tall) starts at `top`.
    pub(super) fn baseline_below(&self, top: f64) -> f64 {
        top + 0.95 * self.size
    }

    /// Height of one line of text, with leading.
    pub(super) fn line_height(&self) -> f64 {
        1.2 * self.size
    }
}

/// What an empty chart says.
pub(super) const NO_DATA: &str = "no data yet";

/// Dash and gap length of dashed series (forecasts, targets).
pub(super) const DASH: (f64, f64) = (6.0, 4.0);

/// `message` centred in grey: what every chart draws when it has nothing to show.
pub(super) fn empty<DB: DrawingBackend>(cv: &Canvas<DB>, message: &str) -> Result<()> {
    let font = Font::new(13.0_f64.min(cv.height * 0.4).max(6.0), palette::MUTED);
    let text = font.fit(message, cv.width - 16.0);
    let baseline = font.baseline_for_center(cv.height / 2.0);
    cv.text(&text, cv.width / 2.0, baseline, font, Align::Center)
}

/// Turns any plotters drawing error into the library's error.
fn chart_err(e: impl std::fmt::Display) -> Error {
    Error::encode("chart", e)
}

/// The drawing surface handed to every chart function.
pub(super) struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    scale: f64,
    flavor: Flavor,
    /// Logical width (scale 1).
    pub(super) width: f64,
    /// Logical height (scale 1).
    pub(super) height: f64,
}

impl<'a, DB: DrawingBackend> Canvas<'a, DB> {
    pub(super) fn new(
        area: &'a DrawingArea<DB, Shift>,
        scale: f64,
        flavor: Flavor,
        (width, height): (f64, f64),
    ) -> Self {
        Canvas {
            area,
            scale,
            flavor,
            width,
            height,
        }
    }

    /// The whole canvas as a rectangle.
    pub(super) fn bounds(&self) -> Rect {
        Rect::new(0.0, 0.0, self.width, self.height)
    }

    fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    fn point(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.px(y))
    }

    fn stroke(&self, color: RGBColor, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: ((width * self.scale).round() as u32).max(1),
        }
    }

    /// A filled rectangle.
    pub(super) fn fill_rect(&self, r: Rect, color: RGBColor) -> Result<()> {
        let corners = [self.point((r.x, r.y)), self.point((r.right(), r.bottom()))];
        self.area
            .draw(&Rectangle::new(corners, color.filled()))
            .map_err(chart_err)
    }

    /// A rectangle outline.
    pub(super) fn stroke_rect(&self, r: Rect, color: RGBColor, width: f64) -> Result<()> {
        let corners = [self.point((r.x, r.y)), self.point((r.right(), r.bottom()))];
        self.area
            .draw(&Rectangle::new(corners, self.stroke(color, width)))
            .map_err(chart_err)
    }

    /// A filled polygon.
    pub(super) fn fill_polygon(&self, points: &[(f64, f64)], color: RGBColor) -> Result<()> {
        if points.len() < 3 {
            return Ok(());
        }
        let pixels: Vec<(i32, i32)> = points.iter().map(|&p| self.point(p)).collect();
        self.area
            .draw(&Polygon::new(pixels, color.filled()))
            .map_err(chart_err)
    }

    /// A solid polyline.
    pub(super) fn polyline(
        &self,
        points: &[(f64, f64)],
        color: RGBColor,
        width: f64,
    ) -> Result<()> {
        if points.len() < 2 {
            return Ok(());
        }
        let pixels: Vec<(i32, i32)> = points.iter().map(|&p| self.point(p)).collect();
        self.area
            .draw(&PathElement::new(pixels, self.stroke(color, width)))
            .map_err(chart_err)
    }

    /// A straight line.
    pub(super) fn line(
        &self,
        from: (f64, f64),
        to: (f64, f64),
        color: RGBColor,
        width: f64,
    ) -> Result<()> {
        self.polyline(&[from, to], color, width)
    }

    /// A dashed polyline, cut into explicit segments so both backends draw the same
    /// dashes (the pattern continues across vertices).
    pub(super) fn dashed_polyline(
        &self,
        points: &[(f64, f64)],
        color: RGBColor,
        width: f64,
        (dash, gap): (f64, f64),
    ) -> Result<()> {
        for segment in dash_segments(points, dash, gap) {
            self.polyline(&segment, color, width)?;
        }
        Ok(())
    }

    /// A filled circle, or a white one with a coloured ring when `hollow`.
    pub(super) fn dot(
        &self,
        center: (f64, f64),
        radius: f64,
        color: RGBColor,
        hollow: bool,
    ) -> Result<()> {
        let c = self.point(center);
        let r = ((radius * self.scale).round() as i32).max(1);
        if hollow {
            self.area
                .draw(&Circle::new(c, r, super::palette::BACKGROUND.filled()))
                .map_err(chart_err)?;
            let ring = self.stroke(color, 1.5);
            self.area.draw(&Circle::new(c, r, ring)).map_err(chart_err)
        } else {
            self.area
                .draw(&Circle::new(c, r, color.filled()))
                .map_err(chart_err)
        }
    }

    /// `text` with its baseline at `baseline`, aligned on `x`.
    pub(super) fn text(
        &self,
        text: &str,
        x: f64,
        baseline: f64,
        font: Font,
        align: Align,
    ) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        match self.flavor {
            Flavor::Svg => self.svg_text(text, x, baseline, font, align),
            Flavor::Bitmap => self.bitmap_text(text, x, baseline, font, align),
        }
    }

    /// One `<text>` element: plotters writes font-size = size / 1.24 and
    /// `dy="0.76em"`, so y is the baseline less 0.76 em.
    fn svg_text(&self, text: &str, x: f64, baseline: f64, font: Font, align: Align) -> Result<()> {
        let h_pos = match align {
            Align::Left => HPos::Left,
            Align::Center => HPos::Center,
            Align::Right => HPos::Right,
        };
        let size = font.size * 1.24 * self.scale;
        let top = ((baseline - 0.76 * font.size) * self.scale).round() as i32;
        self.draw_text(text, (self.px(x), top), size, font, h_pos)
    }

    /// Glyph by glyph, correcting plotters' placement (see [`super::glyphs`]):
    /// each glyph goes to its pen position plus its left bearing, and to the row
    /// its top should round to. ab_glyph puts the baseline half the height-scaled
    /// size below y.
    fn bitmap_text(
        &self,
        text: &str,
        x: f64,
        baseline: f64,
        font: Font,
        align: Align,
    ) -> Result<()> {
        let size = font.size * HEIGHT_PER_EM * self.scale;
        let top = baseline * self.scale - size / 2.0;
        let start = match align {
            Align::Left => x,
            Align::Center => x - font.width(text) / 2.0,
            Align::Right => x - font.width(text),
        };
        let em = font.size * self.scale;
        let mut glyph = [0u8; 4];
        for (at, ch) in text.char_indices() {
            let Some((x_min, y_max)) = super::glyphs::bounds(ch, font.bold) else {
                continue; // spaces and glyphs without outlines draw nothing
            };
            // The prefix width includes kerning, exactly as ab_glyph lays it out.
            let pen = ((start + font.width(&text[..at])) * self.scale).round();
            let left = pen + (x_min * em).floor();
            // plotters offsets the glyph by `(size / 2 + min_y) as i32` (truncated).
            let offset = size / 2.0 + (-y_max * em).floor();
            let row = (top + offset).round() - offset.trunc();
            self.draw_text(
                ch.encode_utf8(&mut glyph),
                (left as i32, row as i32),
                size,
                font,
                HPos::Left,
            )?;
        }
        Ok(())
    }

    fn draw_text(
        &self,
        text: &str,
        at: (i32, i32),
        size: f64,
        font: Font,
        h_pos: HPos,
    ) -> Result<()> {
        let style = if font.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let text_style = FontDesc::new(FontFamily::Name(FAMILY), size, style)
            .color(&font.color)
            .pos(Pos::new(h_pos, VPos::Top));
        self.area
            .draw(&Text::new(text.to_string(), at, text_style))
            .map_err(chart_err)
    }
}

/// The dashes of a polyline: each a short run of points `dash` long, `gap` apart.
pub(super) fn dash_segments(points: &[(f64, f64)], dash: f64, gap: f64) -> Vec<Vec<(f64, f64)>> {
    let mut dashes = Vec::new();
    if dash <= 0.0 || points.len() < 2 {
        return dashes;
    }
    let period = dash + gap.max(0.0);
    let mut phase = 0.0; // distance into the current dash+gap period
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let length = (x1 - x0).hypot(y1 - y0);
        let mut travelled = 0.0;
        while travelled < length {
            let in_dash = phase < dash;
            let room = if in_dash {
                dash - phase
            } else {
                period - phase
            };
            let step = room.min(length - travelled);
            let at = |d: f64| (x0 + (x1 - x0) * d / length, y0 + (y1 - y0) * d / length);
            if in_dash {
                if current.is_empty() {
                    current.push(at(travelled));
                }
                current.push(at(travelled + step));
            }
            travelled += step;
            phase += step;
            if in_dash && phase >= dash {
                dashes.push(std::mem::take(&mut current));
            }
            if phase >= period {
                phase = 0.0;
            }
        }
    }
    if current.len() > 1 {
        dashes.push(current);
    }
    dashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_follow_the_path_and_carry_over_corners() {
        let dashes = dash_segments(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 4.0, 2.0);
        // 20 units of path at a 6-unit period: dashes start at 0, 6, 12 and 18.
        assert_eq!(dashes.len(), 4);
        assert_eq!(dashes[0], vec![(0.0, 0.0), (4.0, 0.0)]);
        // The pattern carries on after the corner at (10, 0).
        assert_eq!(dashes[2], vec![(10.0, 2.0), (10.0, 6.0)]);
        assert_eq!(dashes[1], vec![(6.0, 0.0), (10.0, 0.0)]);
        assert!(dash_segments(&[(0.0, 0.0)], 4.0, 2.0).is_empty());
    }

    #[test]
    fn rect_insets_never_go_negative() {
        let r = Rect::new(0.0, 0.0, 10.0, 4.0).inset(3.0);
        assert_eq!((r.w, r.h), (4.0, 0.0));
    }
}
