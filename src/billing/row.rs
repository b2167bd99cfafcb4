//! [`CostRow`]: one `costs` line being built by a reader, set by FOCUS column name,
//! and [`finish`], the checks and normalisations every reader's rows go through.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use crate::lake::batch::Value;
use crate::lake::tables::{self, ColumnType, TableSpec};

static SPEC: LazyLock<TableSpec> = LazyLock::new(tables::costs);

/// `costs` column name → position: readers set columns by name for every cell of
/// millions of lines, and a scan of the 60-odd names each time was the import's
/// biggest single cost.
static INDEX: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    spec()
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name, i))
        .collect()
});

/// Positions of the columns [`finish`] reads on every line.
struct FinishColumns {
    enums: Vec<(usize, &'static str, &'static [&'static str])>,
    provider: usize,
    service_provider: usize,
    provider_name: usize,
    period_start: usize,
    period_end: usize,
    charge_start: usize,
    /// Required columns a reader must set (not the `x_` ids the import adds).
    required: Vec<(usize, &'static str)>,
}

static FINISH: LazyLock<FinishColumns> = LazyLock::new(|| {
    let at = |name: &str| column_index(name).unwrap_or(usize::MAX);
    FinishColumns {
        enums: ENUMS
            .iter()
            .filter_map(|(c, allowed)| column_index(c).map(|i| (i, *c, *allowed)))
            .collect(),
        provider: at("x_provider"),
        service_provider: at("ServiceProviderName"),
        provider_name: at("ProviderName"),
        period_start: at("BillingPeriodStart"),
        period_end: at("BillingPeriodEnd"),
        charge_start: at("ChargePeriodStart"),
        required: spec()
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.required && (!c.name.starts_with("x_") || c.name == "x_provider"))
            .map(|(i, c)| {
                debug_assert!(c.ty != ColumnType::TextList);
                (i, c.name)
            })
            .collect(),
    }
});

/// The `costs` table spec (built once).
pub fn spec() -> &'static TableSpec {
    &SPEC
}

/// FOCUS enumerations the reader brings to their spec spelling when a file differs
/// only in case or dashes. Values FOCUS does not allow are kept as they are, for
/// `northstar check` to report.
pub const ENUMS: &[(&str, &[&str])] = &[
    (
        "ChargeCategory",
        &["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
    ),
    ("ChargeClass", &["Correction"]),
    ("ChargeFrequency", &["One-Time", "Recurring", "Usage-Based"]),
    (
        "PricingCategory",
        &["Standard", "Dynamic", "Committed", "Other"],
    ),
    ("CommitmentDiscountStatus", &["Used", "Unused"]),
    ("CommitmentDiscountCategory", &["Spend", "Usage"]),
    (
        "ServiceCategory",
        &[
            "AI and Machine Learning",
            "Analytics",
            "Business Applications",
            "Compute",
            "Databases",
            "Developer Tools",
            "Multicloud",
            "Identity",
            "Integration",
            "Internet of Things",
            "Management and Governance",
            "Media",
            "Migration",
            "Mobile",
            "Networking",
            "Security",
            "Storage",
            "Web",
            "Other",
        ],
    ),
];

/// The spelling of `value` among `allowed` when they differ only in case, spaces,
/// `-` or `_` (`Usage-based` → `Usage-Based`, `usagebased` → `Usage-Based`).
pub fn canonical_enum(value: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = squash(value);
    allowed.iter().copied().find(|a| squash(a) == wanted)
}

/// A problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The column at fault, as the source file names it.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// One cost line, by `costs` column.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    values: Vec<Value>,
}

impl Default for CostRow {
    fn default() -> Self {
        CostRow {
            values: vec![Value::Null; spec().columns.len()],
        }
    }
}

/// The position of a `costs` column, for readers that set the same columns on
/// every line ([`CostRow::set_at`]).
pub fn column_index(column: &str) -> Option<usize> {
    INDEX.get(column).copied()
}

fn index(column: &str) -> Option<usize> {
    column_index(column)
}

impl CostRow {
    /// An empty row.
    pub fn new() -> CostRow {
        CostRow::default()
    }

    /// Sets a column. Names are the `costs` columns; any other name is a bug in a
    /// reader, caught by the readers' tests (debug builds panic).
    pub fn set(&mut self, column: &str, value: Value) {
        match index(column) {
            Some(i) => self.values[i] = value,
            None => debug_assert!(false, "no costs column `{column}`"),
        }
    }

    /// Sets the column at `index` ([`column_index`]); out of range is a reader bug,
    /// ignored as [`CostRow::set`] ignores unknown names.
    pub fn set_at(&mut self, index: usize, value: Value) {
        match self.values.get_mut(index) {
            Some(v) => *v = value,
            None => debug_assert!(false, "no costs column #{index}"),
        }
    }

    /// The value at `index` ([`column_index`]); `Null` when out of range.
    pub fn get_at(&self, index: usize) -> &Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    /// Sets a text column (`None` = null).
    pub fn set_text(&mut self, column: &str, value: Option<impl Into<String>>) {
        self.set(column, Value::opt_text(value));
    }

    /// Sets a number column (`None` = null).
    pub fn set_number(&mut self, column: &str, value: Option<f64>) {
        self.set(column, value.map_or(Value::Null, Value::Float));
    }

    /// Sets a timestamp column in microseconds (`None` = null).
    pub fn set_time(&mut self, column: &str, value: Option<i64>) {
        self.set(column, Value::opt_ts(value));
    }

    /// A column's value (`Null` for unknown names).
    pub fn get(&self, column: &str) -> &Value {
        index(column).map_or(&Value::Null, |i| &self.values[i])
    }

    /// A text column.
    pub fn text(&self, column: &str) -> Option<&str> {
        match self.get(column) {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A number column.
    pub fn number(&self, column: &str) -> Option<f64> {
        match self.get(column) {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A timestamp column, in microseconds.
    pub fn time(&self, column: &str) -> Option<i64> {
        match self.get(column) {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        }
    }

    /// The values in `costs` column order.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The values in `costs` column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

/// What readers normalised, by note (`ChargeFrequency: 'Usage-based' → 'Usage-Based'`)
/// and count; stored per file in `cost_files.notes`.
pub type Notes = BTreeMap<String, usize>;

/// Checks a row every reader produced and applies the shared normalisations:
/// enumerations re-spelt, the provider taken from `ServiceProviderName` (FOCUS 1.3)
/// or `ProviderName`, a missing billing period derived from the charge's calendar
/// month (UTC). Required columns missing is an error naming the column.
pub fn finish(mut row: CostRow, notes: &mut Notes) -> Result<CostRow, FieldError> {
    let at = &*FINISH;
    for (i, column, allowed) in &at.enums {
        if let Value::Text(v) = row.get_at(*i)
            && !allowed.contains(&v.as_str())
            && let Some(canonical) = canonical_enum(v, allowed)
        {
            *notes
                .entry(format!("{column}: '{v}' read as '{canonical}'"))
                .or_default() += 1;
            row.set_at(*i, Value::text(canonical));
        }
    }
    let time = |row: &CostRow, i| match row.get_at(i) {
        Value::Timestamp(t) => Some(*t),
        _ => None,
    };
    if !matches!(row.get_at(at.provider), Value::Text(_)) {
        let provider = [at.service_provider, at.provider_name]
            .iter()
            .find_map(|i| match row.get_at(*i) {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "unknown".to_string());
        row.set_at(at.provider, Value::Text(provider));
    }
    if time(&row, at.period_start).is_none()
        && let Some(start) = time(&row, at.charge_start)
    {
        let (month, next) = calendar_month(start);
        row.set_at(at.period_start, Value::Timestamp(month));
        if time(&row, at.period_end).is_none() {
            row.set_at(at.period_end, Value::Timestamp(next));
        }
        *notes
            .entry("BillingPeriodStart: missing, taken from the charge's month".into())
            .or_default() += 1;
    }
    for (i, name) in &at.required {
        if *row.get_at(*i) == Value::Null {
            return Err(FieldError::new(*name, "required value is missing"));
        }
    }
    Ok(row)
}

/// The first instant of the UTC calendar month containing `us`, and of the next.
pub fn calendar_month(us: i64) -> (i64, i64) {
    use chrono::{DateTime, Datelike, NaiveDate};
    let date = DateTime::from_timestamp_micros(us)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let at = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map_or(0, |m| m.and_utc().timestamp_micros())
    };
    (at(first), at(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_time(rfc3339: &str) -> Result<i64, chrono::ParseError> {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_micros())
    }

    fn minimal() -> CostRow {
        let mut r = CostRow::new();
        r.set_number("BilledCost", Some(1.0));
        r.set_number("EffectiveCost", Some(0.9));
        r.set_text("BillingCurrency", Some("USD"));
        r.set_text("BillingAccountId", Some("a"));
        r.set_time("ChargePeriodStart", parse_time("2024-09-14T10:00:00Z").ok());
        r
    }

    #[test]
    fn derives_period_and_provider_and_respells_enums() {
        let mut r = minimal();
        r.set_text("ChargeFrequency", Some("Usage-based"));
        r.set_text("ChargeCategory", Some("Refund"));
        r.set_text("ProviderName", Some("AWS"));
        let mut notes = Notes::new();
        let r = finish(r, &mut notes).unwrap();
        assert_eq!(r.text("ChargeFrequency"), Some("Usage-Based"));
        assert_eq!(r.text("ChargeCategory"), Some("Refund"));
        assert_eq!(r.text("x_provider"), Some("AWS"));
        assert_eq!(
            r.time("BillingPeriodStart"),
            parse_time("2024-09-01T00:00:00Z").ok()
        );
        assert_eq!(
            r.time("BillingPeriodEnd"),
            parse_time("2024-10-01T00:00:00Z").ok()
        );
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn enums_match_regardless_of_case_and_dashes() {
        let allowed = &["Usage-Based", "Recurring", "One-Time"];
        assert_eq!(canonical_enum("Usage-based", allowed), Some("Usage-Based"));
        assert_eq!(canonical_enum("UsageBased", allowed), Some("Usage-Based"));
        assert_eq!(canonical_enum("onetime", allowed), Some("One-Time"));
        assert_eq!(canonical_enum("Monthly", allowed), None);
    }

    #[test]
    fn missing_required_column_is_named() {
        let mut r = minimal();
        r.set_number("EffectiveCost", None);
        let err = finish(r, &mut Notes::new()).unwrap_err();
        assert_eq!(err.field, "EffectiveCost");
    }
}
