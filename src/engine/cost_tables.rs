//! The cost tables the engine registers when it opens: `cost_allocation` (see
//! [`super::allocation`]), and `cost_budgets` and `exchange_rates` from `[cost]`.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use super::Engine;
use crate::config::cost::CostConfig;
use crate::error::{Error, Result};
use crate::lake::tables::UTC;

impl Engine {
    /// Registers the three cost tables; `cost_allocation` is derived on first use.
    pub(super) async fn register_cost_tables(&self, cost: &CostConfig) -> Result<()> {
        self.register_allocation(cost).await?;
        self.register_memory("cost_budgets", budget_batch(cost)?)?;
        self.register_memory("exchange_rates", rate_batch(cost)?)?;
        Ok(())
    }

    fn register_memory(&self, name: &str, batch: RecordBatch) -> Result<()> {
        self.lineage.rows(name, &batch);
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])
            .map_err(|e| Error::query(name, e))?;
        self.ctx
            .register_table(name, Arc::new(table))
            .map_err(|e| Error::query(name, e))?;
        Ok(())
    }
}

pub(super) fn timestamp_type() -> DataType {
    DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some(UTC.into()),
    )
}

pub(super) fn batch(fields: Vec<Field>, arrays: Vec<ArrayRef>, name: &str) -> Result<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| Error::encode(name, e))
}

fn micros(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

fn budget_batch(cost: &CostConfig) -> Result<RecordBatch> {
    let b = &cost.budgets;
    batch(
        vec![
            Field::new("team", DataType::Utf8, false),
            Field::new("month", timestamp_type(), true),
            Field::new("amount", DataType::Float64, false),
            Field::new("currency", DataType::Utf8, false),
        ],
        vec![
            Arc::new(
                b.iter()
                    .map(|x| Some(x.team.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                b.iter()
                    .map(|x| x.month_start().map(micros))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone(UTC),
            ),
            Arc::new(b.iter().map(|x| x.amount).collect::<Float64Array>()),
            Arc::new(
                b.iter()
                    .map(|x| Some(x.currency.as_str()))
                    .collect::<StringArray>(),
            ),
        ],
        "cost_budgets",
    )
}

/// (from currency, valid from, valid to, rate).
type RateRow<'a> = (&'a str, i64, i64, f64);

/// Each rate applies from its `since` until the same currency's next `since`.
fn rate_batch(cost: &CostConfig) -> Result<RecordBatch> {
    let to = cost.report_currency.clone().unwrap_or_default();
    let mut rates = cost.exchange_rates.clone();
    rates.sort_by(|a, b| (&a.from, a.since).cmp(&(&b.from, b.since)));
    let rows: Vec<RateRow> = rates
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let until = rates
                .get(i + 1)
                .filter(|n| n.from == r.from)
                .map_or(i64::MAX, |n| micros(n.since));
            (r.from.as_str(), micros(r.since), until, r.rate)
        })
        .collect();
    let ts = |f: &dyn Fn(&RateRow) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(f).collect::<Vec<_>>())
                .with_timezone(UTC),
        )
    };
    batch(
        vec![
            Field::new("from_currency", DataType::Utf8, false),
            Field::new("to_currency", DataType::Utf8, false),
            Field::new("valid_from", timestamp_type(), false),
            Field::new("valid_to", timestamp_type(), false),
            Field::new("rate", DataType::Float64, false),
        ],
        vec![
            Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
            Arc::new(
                rows.iter()
                    .map(|_| Some(to.as_str()))
                    .collect::<StringArray>(),
            ),
            ts(&|r| r.1),
            ts(&|r| r.2),
            Arc::new(rows.iter().map(|r| r.3).collect::<Float64Array>()),
        ],
        "exchange_rates",
    )
}
