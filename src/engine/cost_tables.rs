//! The cost tables the engine derives when it opens: `cost_allocation` (each
//! current cost line's team shares, by [`crate::enrich::cost_allocation`]), and
//! `cost_budgets` and `exchange_rates` from `[cost]`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;

use super::derived::external;
use super::lazy::{Rows, run_plan_batches};
use super::{Engine, columns};
use crate::config::cost::{AllocationRule, CostConfig};
use crate::enrich::cost_allocation::{Allocation, CostLine, allocate};
use crate::error::{Error, Result};
use crate::lake::tables::UTC;

const DAY_US: i64 = 86_400_000_000;

/// The columns of `billing_lines` allocation reads.
const ALLOCATION_INPUTS: [&str; 10] = [
    "x_line_id",
    "ChargePeriodStart",
    "BillingCurrency",
    "EffectiveCost",
    "x_provider",
    "BillingAccountId",
    "SubAccountId",
    "ResourceId",
    "ServiceName",
    "Tags",
];

/// `cost_allocation`'s rows: the current cost lines allocated by the `[cost]` rules,
/// computed when a query first reads the table (a DORA-only compute never does).
#[derive(Debug)]
struct AllocationRows {
    lines: LogicalPlan,
    owners: LogicalPlan,
    rules: Vec<AllocationRule>,
}

impl Engine {
    /// Registers the three cost tables; `cost_allocation` is derived on first use.
    pub(super) async fn register_cost_tables(&self, cost: &CostConfig) -> Result<()> {
        let rows = Arc::new(AllocationRows {
            lines: self
                .columns_plan("billing_lines", &ALLOCATION_INPUTS)
                .await?,
            owners: self
                .columns_plan("service_owners", &["service", "team"])
                .await?,
            rules: cost.effective_rules(),
        });
        let schema = allocation_batch(&[])?.schema();
        let fingerprint = self.lineage.derived(
            "cost_allocation",
            &[&rows.lines, &rows.owners],
            &format!("{:?}", rows.rules),
        );
        self.register_lazy("cost_allocation", schema, rows, fingerprint)?;
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

#[async_trait]
impl Rows for AllocationRows {
    async fn plan(&self, session: &dyn Session) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut lines = Vec::new();
        for b in &run_plan_batches(&self.lines, session).await? {
            add_lines(&mut lines, b).map_err(external)?;
        }
        let mut owners = HashMap::new();
        for b in &run_plan_batches(&self.owners, session).await? {
            let services = columns::strings(b, "service").map_err(external)?;
            let teams = columns::strings(b, "team").map_err(external)?;
            owners.extend(
                services
                    .into_iter()
                    .zip(teams)
                    .filter_map(|(s, t)| Some((s?, t?))),
            );
        }
        let rules = self.rules.clone();
        let allocations = tokio::task::spawn_blocking(move || allocate(&lines, &rules, &owners))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        tracing::info!(rows = allocations.len(), "Allocated cost lines.");
        let batch = allocation_batch(&allocations).map_err(external)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            allocation_batch(&[]).map_err(external)?.schema(),
            None,
        )?)
    }
}

fn add_lines(lines: &mut Vec<CostLine>, b: &RecordBatch) -> Result<()> {
    let ids = columns::strings(b, "x_line_id")?;
    let starts = columns::timestamps(b, "ChargePeriodStart")?;
    let currencies = columns::strings(b, "BillingCurrency")?;
    let costs = columns::floats(b, "EffectiveCost")?;
    let providers = columns::strings(b, "x_provider")?;
    let accounts = columns::strings(b, "BillingAccountId")?;
    let subs = columns::strings(b, "SubAccountId")?;
    let resources = columns::strings(b, "ResourceId")?;
    let services = columns::strings(b, "ServiceName")?;
    let tags = columns::strings(b, "Tags")?;
    for i in 0..b.num_rows() {
        let (Some(id), Some(start)) = (ids[i].clone(), starts[i]) else {
            continue;
        };
        lines.push(CostLine {
            line_id: id,
            day: start.div_euclid(DAY_US),
            currency: currencies[i].clone().unwrap_or_default(),
            effective_cost: costs[i].unwrap_or(0.0),
            provider: providers[i].clone().unwrap_or_default(),
            account: accounts[i].clone().unwrap_or_default(),
            sub_account: subs[i].clone(),
            resource_id: resources[i].clone(),
            cloud_service: services[i].clone(),
            tags: tags[i].clone(),
        });
    }
    Ok(())
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some(UTC.into()),
    )
}

fn batch(fields: Vec<Field>, arrays: Vec<ArrayRef>, name: &str) -> Result<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| Error::encode(name, e))
}

fn allocation_batch(rows: &[Allocation]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&Allocation) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    // Dense line numbers: `allocate` emits a line's shares one after the other.
    let mut line_no = 0i64;
    let numbers: Int64Array = rows
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 || rows[i - 1].line_id != a.line_id {
                line_no += 1;
            }
            Some(line_no)
        })
        .collect();
    batch(
        vec![
            Field::new("x_line_id", DataType::Utf8, false),
            Field::new("line_no", DataType::Int64, false),
            Field::new("team", DataType::Utf8, false),
            Field::new("service", DataType::Utf8, true),
            Field::new("allocation_rule", DataType::Utf8, false),
            Field::new("split_method", DataType::Utf8, false),
            Field::new("share", DataType::Float64, false),
        ],
        vec![
            text(&|a| Some(a.line_id.as_str())),
            Arc::new(numbers),
            text(&|a| Some(a.team.as_str())),
            text(&|a| a.service.as_deref()),
            text(&|a| Some(a.rule.as_str())),
            text(&|a| Some(a.method)),
            Arc::new(rows.iter().map(|a| a.share).collect::<Float64Array>()),
        ],
        "cost_allocation",
    )
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
