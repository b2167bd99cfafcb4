//! The one palette every chart uses: Okabe–Ito series colours (told apart with the
//! common colour-vision deficiencies and in greyscale print) on white, plus fixed
//! colours for DORA tiers and objective statuses so "red" means the same everywhere.

use plotters::style::RGBColor;

/// Page background; charts are drawn on white for print.
pub(super) const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
/// Primary text.
pub(super) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text: tick labels, `n=…`, hints.
pub(super) const MUTED: RGBColor = RGBColor(0x5f, 0x5f, 0x5f);
/// Grid lines: visible on paper without competing with data.
pub(super) const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
/// Axis base line and tick marks.
pub(super) const AXIS: RGBColor = RGBColor(0x9a, 0x9a, 0x9a);
/// Tile background and table header.
pub(super) const PANEL: RGBColor = RGBColor(0xf6, 0xf7, 0xf8);
/// Tile borders and the table header rule.
pub(super) const BORDER: RGBColor = RGBColor(0xd4, 0xd6, 0xd9);
/// Every other table row.
pub(super) const ZEBRA: RGBColor = RGBColor(0xf2, 0xf4, 0xf6);
/// The empty part of a progress bar.
pub(super) const TRACK: RGBColor = RGBColor(0xe6, 0xe7, 0xe9);
/// The expected-by-now tick on a progress bar.
pub(super) const MARKER: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Okabe–Ito, reordered so the first colours are the most distinct on white; pure
/// black is replaced by grey and yellow by a darker gold to stay readable as lines.
const SERIES: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xb2), // blue
    RGBColor(0xe6, 0x9f, 0x00), // orange
    RGBColor(0x00, 0x9e, 0x73), // bluish green
    RGBColor(0xd5, 0x5e, 0x00), // vermillion
    RGBColor(0xcc, 0x79, 0xa7), // reddish purple
    RGBColor(0x56, 0xb4, 0xe9), // sky blue
    RGBColor(0x55, 0x55, 0x55), // grey
    RGBColor(0xb8, 0x9b, 0x00), // gold
];

/// The colour of the `index`-th series (cycling).
pub(super) fn series(index: usize) -> RGBColor {
    SERIES[index % SERIES.len()]
}

/// A fill with the text colour that stays readable on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Tone {
    /// The badge / bar / band colour.
    pub(super) fill: RGBColor,
    /// Text drawn on `fill`.
    pub(super) on: RGBColor,
}

const WHITE: RGBColor = RGBColor(255, 255, 255);
const DARK_GREEN: Tone = Tone {
    fill: RGBColor(0x1b, 0x78, 0x37),
    on: WHITE,
};
const TEAL: Tone = Tone {
    fill: RGBColor(0x2a, 0x8c, 0x84),
    on: WHITE,
};
const AMBER: Tone = Tone {
    fill: RGBColor(0xe6, 0x9f, 0x00),
    on: TEXT,
};
const RED: Tone = Tone {
    fill: RGBColor(0xc8, 0x3c, 0x1e),
    on: WHITE,
};
const GREY: Tone = Tone {
    fill: RGBColor(0x7a, 0x7a, 0x7a),
    on: WHITE,
};

/// The colour of a tier or status word ("elite", "at_risk", "Off track", "over").
///
/// Tiers: elite dark green, high teal, medium amber, low red. Statuses: on track /
/// done / ok green, at risk amber, off track / over red; anything else grey.
pub(super) fn tone(word: &str) -> Tone {
    let key: String = word
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    match key.as_str() {
        "elite" | "on_track" | "done" | "ok" | "good" | "met" | "achieved" | "under" => DARK_GREEN,
        "high" => TEAL,
        "medium" | "at_risk" | "warn" | "warning" | "near" => AMBER,
        "low" | "off_track" | "over" | "missed" | "bad" | "breach" | "failed" => RED,
        _ => GREY,
    }
}

/// `color` blended towards white: light enough to sit behind lines, the same in
/// SVG and PNG because no transparency is involved.
pub(super) fn tint(color: RGBColor, strength: f64) -> RGBColor {
    let mix = |c: u8| -> u8 {
        let blended = 255.0 - (255.0 - f64::from(c)) * strength.clamp(0.0, 1.0);
        blended.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// `color` darkened towards black, for text in a tier's colour on white.
pub(super) fn shade(color: RGBColor, strength: f64) -> RGBColor {
    let keep = 1.0 - strength.clamp(0.0, 1.0);
    let mix = |c: u8| (f64::from(c) * keep).round().clamp(0.0, 255.0) as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_and_statuses_map_to_fixed_colours() {
        assert_eq!(tone("Elite"), tone("on_track"));
        assert_eq!(tone("on track"), tone("done"));
        assert_eq!(tone("at_risk"), tone("medium"));
        assert_eq!(tone("off-track"), tone("over"));
        assert_eq!(tone("low"), tone("over"));
        assert_ne!(tone("high"), tone("elite"));
        assert_eq!(tone("whatever"), GREY);
        assert_eq!(tint(RGBColor(0, 0, 0), 0.0), WHITE);
        assert_eq!(shade(WHITE, 1.0), RGBColor(0, 0, 0));
        assert_eq!(series(0), series(SERIES.len()));
    }
}
