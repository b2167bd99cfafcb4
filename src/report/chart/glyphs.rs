//! Glyph boxes read from the embedded TrueType files.
//!
//! plotters 0.3.7's ab_glyph text path places each glyph's bitmap at the pen
//! position but drops the glyph's left bearing (`px_bounds().min.x`), and it
//! truncates the vertical offset towards zero, so bitmap text comes out unevenly
//! spaced and bouncing by a pixel ("No v 25"). The canvas therefore draws bitmap
//! text one glyph at a time and corrects both; this module supplies each glyph's
//! `xMin` and `yMax` (what ab_glyph measures too) from the `cmap`, `loca` and
//! `glyf` tables. Only what DejaVu Sans needs is read: a format-4 Unicode `cmap`.

use std::sync::OnceLock;

/// Offsets of the tables needed for one font.
struct Tables {
    data: &'static [u8],
    cmap4: usize,
    loca: usize,
    long_loca: bool,
    glyf: usize,
    units_per_em: f64,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Offset of the table tagged `tag`.
fn table(d: &[u8], tag: &[u8; 4]) -> Option<usize> {
    let count = usize::from(u16_at(d, 4)?);
    (0..count).find_map(|i| {
        let record = 12 + 16 * i;
        (d.get(record..record + 4)? == tag).then(|| u32_at(d, record + 8).map(|o| o as usize))?
    })
}

/// The Windows Unicode BMP (3, 1) subtable, if it is format 4.
fn cmap_format4(d: &[u8], cmap: usize) -> Option<usize> {
    let count = usize::from(u16_at(d, cmap + 2)?);
    (0..count).find_map(|i| {
        let record = cmap + 4 + 8 * i;
        let ids = (u16_at(d, record)?, u16_at(d, record + 2)?);
        let sub = cmap + u32_at(d, record + 4)? as usize;
        (ids == (3, 1) && u16_at(d, sub)? == 4).then_some(sub)
    })
}

impl Tables {
    fn parse(data: &'static [u8]) -> Option<Tables> {
        let head = table(data, b"head")?;
        Some(Tables {
            data,
            cmap4: cmap_format4(data, table(data, b"cmap")?)?,
            loca: table(data, b"loca")?,
            long_loca: u16_at(data, head + 50)? == 1,
            glyf: table(data, b"glyf")?,
            units_per_em: f64::from(u16_at(data, head + 18)?),
        })
    }

    /// The glyph id of `c` (format 4 covers the Basic Multilingual Plane).
    fn glyph_id(&self, c: char) -> Option<u16> {
        let c = u16::try_from(u32::from(c)).ok()?;
        let (d, sub) = (self.data, self.cmap4);
        let seg_x2 = usize::from(u16_at(d, sub + 6)?);
        let ends = sub + 14;
        let starts = ends + seg_x2 + 2;
        let deltas = starts + seg_x2;
        let ranges = deltas + seg_x2;
        let seg = (0..seg_x2 / 2).find(|&i| u16_at(d, ends + 2 * i).is_some_and(|end| end >= c))?;
        let start = u16_at(d, starts + 2 * seg)?;
        if start > c {
            return None;
        }
        let delta = u16_at(d, deltas + 2 * seg)?;
        let range = usize::from(u16_at(d, ranges + 2 * seg)?);
        let glyph = if range == 0 {
            c
        } else {
            let at = ranges + 2 * seg + range + 2 * usize::from(c - start);
            match u16_at(d, at)? {
                0 => return None,
                g => g,
            }
        };
        Some(glyph.wrapping_add(delta))
    }

    /// The glyph's `(xMin, yMax)` in font units; `None` for empty glyphs (space).
    fn x_min_y_max(&self, glyph: u16) -> Option<(i16, i16)> {
        let g = usize::from(glyph);
        let (start, end) = if self.long_loca {
            let at = self.loca + 4 * g;
            (
                u32_at(self.data, at)? as usize,
                u32_at(self.data, at + 4)? as usize,
            )
        } else {
            let at = self.loca + 2 * g;
            (
                2 * usize::from(u16_at(self.data, at)?),
                2 * usize::from(u16_at(self.data, at + 2)?),
            )
        };
        if end <= start {
            return None;
        }
        let header = self.glyf + start;
        let x_min = u16_at(self.data, header + 2)? as i16;
        let y_max = u16_at(self.data, header + 8)? as i16;
        Some((x_min, y_max))
    }
}

static REGULAR: OnceLock<Option<Tables>> = OnceLock::new();
static BOLD: OnceLock<Option<Tables>> = OnceLock::new();

/// `(xMin, yMax)` of `c` in em: its left bearing and its height above the baseline
/// (`None` when the font has no outline for it).
pub(super) fn bounds(c: char, bold: bool) -> Option<(f64, f64)> {
    let tables = if bold {
        BOLD.get_or_init(|| Tables::parse(super::font::BOLD))
    } else {
        REGULAR.get_or_init(|| Tables::parse(super::font::REGULAR))
    };
    let t = tables.as_ref()?;
    let (x_min, y_max) = t.x_min_y_max(t.glyph_id(c)?)?;
    Some((
        f64::from(x_min) / t.units_per_em,
        f64::from(y_max) / t.units_per_em,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearings_of_the_embedded_fonts() {
        let tables = Tables::parse(super::super::font::REGULAR).expect("DejaVu parses");
        assert_eq!(tables.units_per_em, 2048.0);
        assert!(tables.glyph_id('A').is_some());
        assert!(tables.glyph_id('€').is_some());
        assert_eq!(tables.x_min_y_max(tables.glyph_id(' ').unwrap_or(0)), None);
        let (o, v) = (bounds('o', false), bounds('v', false));
        let ((o_left, o_top), (v_left, v_top)) = (o.unwrap_or_default(), v.unwrap_or_default());
        // 'o' and 'v' sit at different distances from their pen position.
        assert!(o_left > v_left && v_left > 0.0, "{o:?} {v:?}");
        // 'o' overshoots the x-height; capitals are taller still.
        assert!(o_top > v_top && bounds('H', true).is_some_and(|(_, top)| top > o_top));
        assert_eq!(bounds('😀', false), None);
    }
}
