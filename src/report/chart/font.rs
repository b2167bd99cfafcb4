//! DejaVu Sans, compiled into the binary and registered with plotters once.
//!
//! plotters' `ab_glyph` backend only knows fonts it has been handed, and drawing text
//! on a bitmap with no font registered panics; registering the embedded files
//! before any drawing keeps charts identical on a bare machine (no fontconfig, no
//! system fonts). Text is also *measured* here, at the SVG's em size, so layout
//! decisions (truncation, label spacing) are the same for SVG and PNG.

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle, register_font};

use crate::error::{Error, Result};

pub(super) static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub(super) static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name every chart text uses; it is also what the SVG asks viewers for.
pub(super) const FAMILY: &str = "sans-serif";

/// ab_glyph scales a glyph by the font's full height (ascent − descent) while SVG
/// scales by the em; DejaVu Sans is 2384/2048 em tall (hhea 1901 / −483 over 2048).
pub(super) const HEIGHT_PER_EM: f64 = 2384.0 / 2048.0;

/// The registration outcome, kept so a bad font is reported on every render.
static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Registers the embedded regular and bold faces; cheap after the first call.
pub(super) fn ensure_registered() -> Result<()> {
    REGISTERED
        .get_or_init(register)
        .clone()
        .map_err(|reason| Error::encode("chart", reason))
}

fn register() -> std::result::Result<(), String> {
    register_font(FAMILY, FontStyle::Normal, REGULAR)
        .map_err(|_| "embedded DejaVuSans.ttf is not a usable font".to_string())?;
    register_font(FAMILY, FontStyle::Bold, BOLD)
        .map_err(|_| "embedded DejaVuSans-Bold.ttf is not a usable font".to_string())
}

/// Width in logical pixels of `text` at font size `size` (em, as in CSS).
///
/// Measured at 16× and scaled back because plotters rounds layouts to whole pixels.
pub(super) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    const OVERSAMPLE: f64 = 16.0;
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    let font = FontDesc::new(
        FontFamily::Name(FAMILY),
        size * HEIGHT_PER_EM * OVERSAMPLE,
        style,
    );
    match font.box_size(text) {
        Ok((width, _)) => f64::from(width) / OVERSAMPLE,
        // Only reachable if registration failed, which rendering reports first.
        Err(_) => text.chars().count() as f64 * size * 0.6,
    }
}

/// `text` shortened with "…" so it is at most `max_width` wide ("" if not even the
/// ellipsis fits).
pub(super) fn fit_text(text: &str, max_width: f64, size: f64, bold: bool) -> String {
    if text_width(text, size, bold) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let with_ellipsis = |n: usize| -> String {
        let prefix: String = chars[..n].iter().collect();
        format!("{}…", prefix.trim_end())
    };
    // Longest prefix that still fits, by bisection over the character count.
    let (mut lo, mut hi) = (0usize, chars.len().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if text_width(&with_ellipsis(mid), size, bold) <= max_width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let best = with_ellipsis(lo);
    if text_width(&best, size, bold) <= max_width {
        best
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_truncates_with_the_embedded_font() {
        ensure_registered().expect("fonts register");
        let short = text_width("ab", 12.0, false);
        let long = text_width("abcdefgh", 12.0, false);
        assert!(short > 5.0 && long > 3.0 * short, "{short} {long}");
        assert!(text_width("Wide", 12.0, true) > text_width("Wide", 12.0, false));
        let cut = fit_text("a rather long team name", 60.0, 12.0, false);
        assert!(
            cut.ends_with('…') && text_width(&cut, 12.0, false) <= 60.0,
            "{cut}"
        );
        assert_eq!(fit_text("ok", 60.0, 12.0, false), "ok");
        assert_eq!(fit_text("anything", 1.0, 12.0, false), "");
    }
}
