//! Numbers printed for people, per [`Unit`]; axes, tiles and tables share it so a
//! value reads the same wherever it appears.

use super::Unit;

/// What non-finite values print as (they are "missing" everywhere else).
const MISSING: &str = "n/a";

/// See [`super::format_value`].
pub(super) fn value(value: f64, unit: &Unit) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let body = magnitude(value.abs(), unit);
    signed(value, body)
}

/// An axis tick label: like [`value`], but durations use one unit for the whole
/// axis (picked from its largest tick) so a scale never mixes "20 h" and "2.5 d".
pub(super) fn tick(value: f64, unit: &Unit, axis_max: f64) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let body = match unit {
        Unit::Hours => duration_in(value.abs(), duration_unit(axis_max.abs())),
        _ => magnitude(value.abs(), unit),
    };
    signed(value, body)
}

/// Prefixes "-" unless the printed figure rounded to zero ("-0" reads as a bug).
fn signed(value: f64, body: String) -> String {
    let nonzero = body.chars().any(|c| ('1'..='9').contains(&c));
    if value < 0.0 && nonzero {
        format!("-{body}")
    } else {
        body
    }
}

/// The unsigned text of `v` (≥ 0) in `unit`.
fn magnitude(v: f64, unit: &Unit) -> String {
    match unit {
        Unit::Count => compact(v, count_decimals),
        Unit::Ratio => percent(v),
        Unit::Hours => duration_in(v, duration_unit(v)),
        Unit::PerDay => format!("{}/day", compact(v, per_day_decimals)),
        Unit::Currency(code) => money(v, code),
        Unit::Plain(suffix) => with_suffix(fixed(v, 2), suffix),
    }
}

/// `v` with at most `decimals` decimals, trailing zeros dropped, halves rounded up
/// (Rust's formatter rounds 950.5 to even, which reads wrong for money).
pub(super) fn fixed(v: f64, decimals: usize) -> String {
    let factor = 10f64.powi(decimals as i32);
    let rounded = (v * factor).round() / factor;
    let text = format!("{rounded:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// `v` (≥ 0) with a k/M/B/T suffix; `decimals` picks the precision from the
/// mantissa and whether a suffix is used.
fn compact(v: f64, decimals: fn(f64, bool) -> usize) -> String {
    const SUFFIXES: [&str; 5] = ["", "k", "M", "B", "T"];
    let mut step = 0;
    while step + 1 < SUFFIXES.len() && v >= 1000f64.powi(step as i32 + 1) {
        step += 1;
    }
    loop {
        let mantissa = v / 1000f64.powi(step as i32);
        let text = fixed(mantissa, decimals(mantissa, step > 0));
        // 999_960 rounds to "1000k": move up to "1M" instead.
        let rolled_over = text.parse::<f64>().is_ok_and(|m| m >= 1000.0);
        if rolled_over && step + 1 < SUFFIXES.len() {
            step += 1;
            continue;
        }
        return format!("{text}{}", SUFFIXES[step]);
    }
}

/// Counts: "950", "12.5", "1.2k", "12.3k", "417k".
fn count_decimals(mantissa: f64, _suffixed: bool) -> usize {
    if mantissa < 100.0 { 1 } else { 0 }
}

/// Rates: like counts, but small rates keep two decimals ("0.12/day").
fn per_day_decimals(mantissa: f64, suffixed: bool) -> usize {
    if !suffixed && mantissa < 1.0 {
        2
    } else {
        count_decimals(mantissa, suffixed)
    }
}

/// Money with a suffix keeps three significant digits ("$1.23M", "$417k"); below a
/// thousand it is whole units, or cents under ten ("$951", "$4.50").
fn money_decimals(mantissa: f64, suffixed: bool) -> usize {
    match (suffixed, mantissa) {
        (true, m) if m < 10.0 => 2,
        (true, m) if m < 100.0 => 1,
        (false, m) if m < 10.0 => 2,
        _ => 0,
    }
}

fn money(v: f64, code: &str) -> String {
    let mut amount = compact(v, money_decimals);
    // "$4.5" reads as a typo for "$4.50": keep cents as two digits.
    if let Some((_, cents)) = amount.split_once('.')
        && v < 10.0
        && cents.len() == 1
    {
        amount.push('0');
    }
    let code = code.trim();
    match code.to_ascii_uppercase().as_str() {
        "USD" => format!("${amount}"),
        "EUR" => format!("€{amount}"),
        "GBP" => format!("£{amount}"),
        "" => amount,
        other => format!("{amount} {other}"),
    }
}

/// Ratios as percentages; under 1% keeps two decimals so small rates do not read 0.
fn percent(v: f64) -> String {
    let pct = v * 100.0;
    let decimals = if pct < 1.0 { 2 } else { 1 };
    format!("{}%", fixed(pct, decimals))
}

/// The unit a duration (in hours) is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DurationUnit {
    Minutes,
    Hours,
    Days,
}

/// Minutes below an hour, hours below two days, days beyond.
fn duration_unit(hours: f64) -> DurationUnit {
    if (hours * 60.0).round() < 60.0 {
        DurationUnit::Minutes
    } else if fixed(hours, 1).parse::<f64>().is_ok_and(|h| h < 48.0) {
        DurationUnit::Hours
    } else {
        DurationUnit::Days
    }
}

fn duration_in(hours: f64, unit: DurationUnit) -> String {
    match unit {
        DurationUnit::Minutes => format!("{} min", fixed(hours * 60.0, 0)),
        DurationUnit::Hours => format!("{} h", fixed(hours, 1)),
        DurationUnit::Days => format!("{} d", fixed(hours / 24.0, 1)),
    }
}

/// "3.5 pts"; symbols such as "%" or "/h" attach without a space.
fn with_suffix(number: String, suffix: &str) -> String {
    let suffix = suffix.trim();
    match suffix.chars().next() {
        None => number,
        Some(c) if c.is_alphanumeric() => format!("{number} {suffix}"),
        Some(_) => format!("{number}{suffix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Unit {
        Unit::Currency("USD".into())
    }

    #[test]
    fn counts_use_k_and_m() {
        assert_eq!(value(950.0, &Unit::Count), "950");
        assert_eq!(value(1234.0, &Unit::Count), "1.2k");
        assert_eq!(value(2_500_000.0, &Unit::Count), "2.5M");
        assert_eq!(value(0.0, &Unit::Count), "0");
        assert_eq!(value(12.25, &Unit::Count), "12.3");
        assert_eq!(value(999_960.0, &Unit::Count), "1M");
        assert_eq!(value(-1234.0, &Unit::Count), "-1.2k");
    }

    #[test]
    fn ratios_are_percentages() {
        assert_eq!(value(0.0449, &Unit::Ratio), "4.5%");
        assert_eq!(value(0.5, &Unit::Ratio), "50%");
        assert_eq!(value(1.125, &Unit::Ratio), "112.5%");
        assert_eq!(value(0.0004, &Unit::Ratio), "0.04%");
        assert_eq!(value(-0.1, &Unit::Ratio), "-10%");
    }

    #[test]
    fn hours_pick_minutes_hours_or_days() {
        assert_eq!(value(0.75, &Unit::Hours), "45 min");
        assert_eq!(value(20.7, &Unit::Hours), "20.7 h");
        assert_eq!(value(100.8, &Unit::Hours), "4.2 d");
        assert_eq!(value(0.999, &Unit::Hours), "1 h");
        assert_eq!(value(47.99, &Unit::Hours), "2 d");
        assert_eq!(value(-0.5, &Unit::Hours), "-30 min");
    }

    #[test]
    fn per_day_keeps_small_rates_readable() {
        assert_eq!(value(21.2, &Unit::PerDay), "21.2/day");
        assert_eq!(value(0.123, &Unit::PerDay), "0.12/day");
        assert_eq!(value(3.0, &Unit::PerDay), "3/day");
    }

    #[test]
    fn currencies_have_symbols_or_codes() {
        assert_eq!(value(416_900.0, &usd()), "$417k");
        assert_eq!(value(1_234_567.0, &usd()), "$1.23M");
        assert_eq!(value(950.5, &usd()), "$951");
        assert_eq!(value(4.5, &usd()), "$4.50");
        assert_eq!(value(-416_900.0, &usd()), "-$417k");
        assert_eq!(value(1_200_000.0, &Unit::Currency("eur".into())), "€1.2M");
        assert_eq!(value(12_345.0, &Unit::Currency("GBP".into())), "£12.3k");
        assert_eq!(value(1200.0, &Unit::Currency("CHF".into())), "1.2k CHF");
    }

    #[test]
    fn plain_numbers_take_a_suffix() {
        assert_eq!(value(3.5, &Unit::Plain("pts".into())), "3.5 pts");
        assert_eq!(value(1.23456, &Unit::Plain(String::new())), "1.23");
        assert_eq!(value(2.0, &Unit::Plain("%".into())), "2%");
        assert_eq!(value(-0.001, &Unit::Plain(String::new())), "0");
    }

    #[test]
    fn non_finite_values_print_as_missing() {
        assert_eq!(value(f64::NAN, &Unit::Count), MISSING);
        assert_eq!(value(f64::INFINITY, &usd()), MISSING);
    }

    #[test]
    fn duration_ticks_share_one_unit() {
        assert_eq!(tick(24.0, &Unit::Hours, 96.0), "1 d");
        assert_eq!(tick(0.0, &Unit::Hours, 96.0), "0 d");
        assert_eq!(tick(0.5, &Unit::Hours, 2.0), "0.5 h");
        assert_eq!(tick(1500.0, &Unit::Count, 2000.0), "1.5k");
    }
}
