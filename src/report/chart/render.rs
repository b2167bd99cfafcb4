//! The two outputs: SVG text and PNG bytes, drawn by the same code.

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};

use super::canvas::{Canvas, Flavor, empty};
use super::{Figure, Size, font, palette, progress, sparkline, table, tiles, xy};
use crate::error::{Error, Result};

/// Larger images are refused rather than allocated (and plotters' bitmap backend
/// computes `width × height` in `u32`).
const MAX_SIDE: u32 = 8192;

/// See [`super::render_svg`].
pub(super) fn svg(figure: &Figure, size: Size) -> Result<String> {
    font::ensure_registered()?;
    let (w, h) = pixels(size, 1)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw_on(&root, figure, size, 1, Flavor::Svg)?;
    }
    Ok(out)
}

/// See [`super::render_png`].
pub(super) fn png(figure: &Figure, size: Size, scale: u32) -> Result<Vec<u8>> {
    if scale == 0 {
        return Err(Error::encode("chart", "PNG scale must be at least 1"));
    }
    font::ensure_registered()?;
    let (w, h) = pixels(size, scale)?;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_on(&root, figure, size, scale, Flavor::Bitmap)?;
    }
    encode_png(&rgb, w, h)
}

/// The output size in device pixels, refusing empty or absurd sizes.
fn pixels(size: Size, scale: u32) -> Result<(u32, u32)> {
    if size.width == 0 || size.height == 0 {
        return Err(Error::encode(
            "chart",
            format!("size {}×{} has no area", size.width, size.height),
        ));
    }
    let scaled = |v: u32| v.checked_mul(scale).filter(|&p| p <= MAX_SIDE);
    match (scaled(size.width), scaled(size.height)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(Error::encode(
            "chart",
            format!(
                "size {}×{} at scale {scale} exceeds {MAX_SIDE} pixels a side",
                size.width, size.height
            ),
        )),
    }
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    size: Size,
    scale: u32,
    flavor: Flavor,
) -> Result<()> {
    let logical = (f64::from(size.width), f64::from(size.height));
    let cv = Canvas::new(root, f64::from(scale), flavor, logical);
    draw_figure(&cv, figure)?;
    root.present().map_err(|e| Error::encode("chart", e))
}

/// White background, then the figure.
fn draw_figure<DB: DrawingBackend>(cv: &Canvas<DB>, figure: &Figure) -> Result<()> {
    cv.fill_rect(cv.bounds(), palette::BACKGROUND)?;
    match figure {
        Figure::Line(data) => xy::line(cv, data),
        Figure::Bar(data) => xy::bar(cv, data),
        Figure::StackedBar(data) => xy::stacked(cv, data),
        Figure::Sparkline(data) => sparkline::figure(cv, data),
        Figure::Kpi(tiles) => tiles::figure(cv, tiles),
        Figure::Progress(rows) => progress::figure(cv, rows),
        Figure::Table(data) => table::figure(cv, data),
        Figure::Empty(message) => empty(cv, message),
    }
}

/// RGB pixels as an 8-bit PNG.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::encode("chart png", e))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| Error::encode("chart png", e))?;
        writer.finish().map_err(|e| Error::encode("chart png", e))?;
    }
    Ok(out)
}
