//! The demo calendar and time units (microseconds, like the lake).

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveTime};

use super::{DEMO_END, DEMO_START};

pub(crate) const SEC: i64 = 1_000_000;
pub(crate) const MIN: i64 = 60 * SEC;
pub(crate) const HOUR: i64 = 60 * MIN;
pub(crate) const DAY: i64 = 24 * HOUR;

/// The demo calendar: day boundaries, weekdays and billing months.
pub(crate) struct Clock {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) days: i64,
    pub(crate) first_weekday: i64,
    pub(crate) months: Vec<i64>,
}

pub(crate) fn parse(s: &'static str) -> DateTime<FixedOffset> {
    // Only ever called with DEMO_START / DEMO_END, which are valid constants.
    DateTime::parse_from_rfc3339(s).expect("DEMO_START and DEMO_END are valid RFC 3339")
}

impl Clock {
    pub(crate) fn new() -> Self {
        let (start, end) = (parse(DEMO_START), parse(DEMO_END));
        let first = start.date_naive();
        let months = (0..=12)
            .filter_map(|n| first.checked_add_months(Months::new(n)))
            .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp_micros())
            .collect();
        let (start_us, end_us) = (start.timestamp_micros(), end.timestamp_micros());
        Clock {
            start: start_us,
            end: end_us,
            days: (end_us - start_us) / DAY,
            first_weekday: i64::from(start.weekday().num_days_from_monday()),
            months,
        }
    }
    pub(crate) fn day(&self, d: i64) -> i64 {
        self.start + d * DAY
    }
    pub(crate) fn is_weekend(&self, d: i64) -> bool {
        (self.first_weekday + d) % 7 >= 5
    }
    /// How far through the year `t` is, 0..1: drives adoption and growth trends.
    pub(crate) fn progress(&self, t: i64) -> f64 {
        ((t - self.start) as f64 / (self.end - self.start) as f64).clamp(0.0, 1.0)
    }
    /// The calendar month containing `t`.
    pub(crate) fn billing_period(&self, t: i64) -> (i64, i64) {
        let i = self.months.partition_point(|&m| m <= t);
        let start = i.checked_sub(1).and_then(|j| self.months.get(j));
        (
            start.copied().unwrap_or(self.start),
            self.months.get(i).copied().unwrap_or(self.end),
        )
    }
}
