//! Tier bands behind line charts: light fills of the tier colours with a small
//! label in the right margin, so a line reads as "in the elite range" at a glance.

use plotters::prelude::DrawingBackend;

use super::Band;
use super::axes::YScale;
use super::canvas::{Align, Canvas, Font, Rect};
use super::palette;
use crate::error::Result;

const LABEL_FONT: f64 = 9.0;
/// How strongly a band is tinted: light enough for lines and grid to stay clear.
const FILL_STRENGTH: f64 = 0.16;
/// Band edges further than this multiple of the data's reach are left off-scale,
/// so a far-away tier does not squash the lines into a sliver.
const REACH: f64 = 1.5;

fn label_font(band: &Band) -> Font {
    Font::new(
        LABEL_FONT,
        palette::shade(palette::tone(&band.label).fill, 0.25),
    )
}

/// The band edges worth showing on a scale covering the data `lo..hi`.
pub(super) fn edges_in_reach(bands: &[Band], lo: f64, hi: f64) -> Vec<f64> {
    let (low_reach, high_reach) = (lo.min(0.0) * REACH, hi.max(0.0) * REACH);
    bands
        .iter()
        .flat_map(|b| [b.from, b.to])
        .flatten()
        .filter(|e| e.is_finite() && (low_reach..=high_reach).contains(e))
        .collect()
}

/// Width the band labels need right of the plot (0 without bands).
pub(super) fn label_width(bands: &[Band]) -> f64 {
    let widest = bands
        .iter()
        .map(|b| label_font(b).width(&b.label))
        .fold(0.0, f64::max);
    if widest > 0.0 { widest + 6.0 } else { 0.0 }
}

/// The visible rows `(top, bottom)` of a band on the scale, if any.
fn visible_rows(band: &Band, scale: &YScale) -> Option<(f64, f64)> {
    let a = band
        .from
        .filter(|v| v.is_finite())
        .unwrap_or(f64::NEG_INFINITY);
    let b = band.to.filter(|v| v.is_finite()).unwrap_or(f64::INFINITY);
    let (lo, hi) = (a.min(b).max(scale.lo), a.max(b).min(scale.hi));
    (hi > lo).then(|| (scale.y(hi), scale.y(lo)))
}

/// Fills every band across the plot (drawn first, behind grid and lines).
pub(super) fn draw_fills<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    plot: Rect,
    bands: &[Band],
    scale: &YScale,
) -> Result<()> {
    for band in bands {
        if let Some((top, bottom)) = visible_rows(band, scale) {
            let fill = palette::tint(palette::tone(&band.label).fill, FILL_STRENGTH);
            cv.fill_rect(Rect::new(plot.x, top, plot.w, bottom - top), fill)?;
        }
    }
    Ok(())
}

/// Labels each band tall enough to hold one, just right of the plot.
pub(super) fn draw_labels<DB: DrawingBackend>(
    cv: &Canvas<DB>,
    plot: Rect,
    bands: &[Band],
    scale: &YScale,
) -> Result<()> {
    for band in bands {
        let Some((top, bottom)) = visible_rows(band, scale) else {
            continue;
        };
        let font = label_font(band);
        if bottom - top < font.size + 1.0 {
            continue;
        }
        let baseline = font.baseline_for_center((top + bottom) / 2.0);
        cv.text(&band.label, plot.right() + 4.0, baseline, font, Align::Left)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(from: Option<f64>, to: Option<f64>) -> Band {
        Band {
            label: "elite".into(),
            from,
            to,
        }
    }

    #[test]
    fn only_nearby_edges_stretch_the_scale() {
        let bands = [band(None, Some(24.0)), band(Some(24.0), Some(168.0))];
        assert_eq!(edges_in_reach(&bands, 0.0, 20.0), vec![24.0, 24.0]);
        assert!(edges_in_reach(&bands, 0.0, 10.0).is_empty());
    }

    #[test]
    fn open_bands_are_clipped_to_the_scale() {
        let scale = YScale::new(0.0, 10.0, 5).placed(0.0, 100.0);
        assert_eq!(
            visible_rows(&band(Some(5.0), None), &scale),
            Some((0.0, 50.0))
        );
        assert_eq!(visible_rows(&band(None, Some(-1.0)), &scale), None);
        assert_eq!(
            visible_rows(&band(Some(8.0), Some(2.0)), &scale),
            Some((20.0, 80.0))
        );
    }
}
