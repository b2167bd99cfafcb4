//! The unit of an import: a provider's billing account's billing period. A
//! provider restates a period until it closes, so an import replaces periods, not
//! lines (see [`super::import`]); both passes of an import ask which period a
//! line belongs to.

use super::row::CostRow;

/// Provider, billing account and billing period start: the unit of an import.
pub(super) type PeriodKey = (String, String, i64);

/// The period a line belongs to.
pub(super) fn period_of(row: &CostRow) -> PeriodKey {
    (
        row.text("x_provider").unwrap_or("unknown").to_string(),
        row.text("BillingAccountId").unwrap_or_default().to_string(),
        row.time("BillingPeriodStart").unwrap_or_default(),
    )
}

/// Whether a line belongs to `key`, without building its key (lines come in runs
/// of one period: most lines are compared with the previous line's period).
pub(super) fn in_period(row: &CostRow, key: &PeriodKey) -> bool {
    row.time("BillingPeriodStart").unwrap_or_default() == key.2
        && row.text("BillingAccountId").unwrap_or_default() == key.1
        && row.text("x_provider").unwrap_or("unknown") == key.0
}
