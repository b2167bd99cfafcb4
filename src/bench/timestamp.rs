//! RFC 3339 text for lake timestamps, written without chrono's formatter: the
//! largest bench scale writes a few hundred million timestamps, and a format
//! string parsed per cell would dominate generation.

/// Appends `us` (microseconds since the epoch, UTC) as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`;
/// the fraction only when it is not zero.
pub(crate) fn push_rfc3339(out: &mut String, us: i64) {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    push_padded(out, y, 4);
    out.push('-');
    push_padded(out, m, 2);
    out.push('-');
    push_padded(out, d, 2);
    out.push('T');
    push_padded(out, hh, 2);
    out.push(':');
    push_padded(out, mm, 2);
    out.push(':');
    push_padded(out, ss, 2);
    if micros != 0 {
        out.push('.');
        push_padded(out, micros, 6);
    }
    out.push('Z');
}

/// `YYYY-MM` of a timestamp, for monthly file names and invoice ids.
pub(crate) fn year_month(us: i64) -> String {
    let (y, m, _) = civil_from_days(us.div_euclid(86_400_000_000));
    format!("{y:04}-{m:02}")
}

fn push_padded(out: &mut String, value: i64, width: usize) {
    let text = value.to_string();
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(&text);
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, SecondsFormat};

    use super::*;

    #[test]
    fn matches_chrono() {
        let samples = [
            0,
            1_761_955_200_000_000,
            1_761_955_200_123_456,
            951_782_400_000_001,
            -86_400_000_000,
            4_102_444_799_999_999,
        ];
        for us in samples {
            let mut ours = String::new();
            push_rfc3339(&mut ours, us);
            let t = DateTime::from_timestamp_micros(us).unwrap();
            let format = if us % 1_000_000 == 0 {
                SecondsFormat::Secs
            } else {
                SecondsFormat::Micros
            };
            assert_eq!(ours, t.to_rfc3339_opts(format, true), "{us}");
        }
        assert_eq!(year_month(1_761_955_200_000_000), "2025-11");
    }
}
