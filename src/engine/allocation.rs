//! `cost_allocation`: each current cost line's team shares, by
//! [`crate::enrich::cost_allocation`], derived one day of lines at a time.
//!
//! A split rule weighs teams by their direct cost the same UTC day in the same
//! currency, so the lines of one day are all allocation ever needs together. The
//! billing lines are read sorted by charge start (DataFusion's sort spills past the
//! memory pool), cut into whole days, and each run of days is allocated and handed
//! on as one batch: memory is bounded by a day of lines, not by the bill (a year of a
//! large CUR is tens of millions of lines with their tags).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use datafusion::catalog::Session;
use datafusion::error::Result as DfResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, ident, lit};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::cost_tables::batch;
use super::derived::external;
use super::lazy::{RowSource, Rows, run_plan_batches, stream_plan};
use super::{Engine, columns};
use crate::config::cost::{AllocationRule, CostConfig};
use crate::enrich::cost_allocation::{Allocation, CostLine, allocate};
use crate::error::{Error, Result};

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
    /// Registers `cost_allocation`, derived on first use.
    pub(super) async fn register_allocation(&self, cost: &CostConfig) -> Result<()> {
        let rows = Arc::new(AllocationRows {
            lines: self
                .columns_plan("billing_lines", &ALLOCATION_INPUTS)
                .await?,
            owners: self.catalog_owners_plan().await?,
            rules: cost.effective_rules(),
        });
        let fingerprint = self.lineage.derived(
            "cost_allocation",
            &[&rows.lines, &rows.owners],
            &format!("{:?}", rows.rules),
        );
        self.register_lazy("cost_allocation", allocation_schema(), rows, fingerprint)
    }

    /// `(service, team)` of the catalog's services that name a team. Allocation
    /// gives a service with no owner here `unowned`, as `service_owners` would; read
    /// from the catalog alone, a new deployment or incident (which add services to
    /// `service_owners`) does not make every cost line allocated again.
    async fn catalog_owners_plan(&self) -> Result<LogicalPlan> {
        let label = "cost_allocation owners";
        let team = ident("team");
        let df = self
            .ctx
            .table("services")
            .await
            .and_then(|df| df.filter(team.clone().is_not_null().and(team.not_eq(lit("")))))
            .and_then(|df| df.select(vec![ident("service"), ident("team")]))
            .map_err(|e| Error::query(label, e))?;
        Ok(df.logical_plan().clone())
    }
}

#[async_trait]
impl Rows for AllocationRows {
    async fn rows(&self, session: &dyn Session) -> DfResult<RowSource> {
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
        let sorted = LogicalPlanBuilder::from(self.lines.clone())
            .sort(vec![ident("ChargePeriodStart").sort(true, true)])?
            .build()?;
        let input = stream_plan(&sorted, session).await?;
        let days = ByDay {
            input,
            rules: self.rules.clone(),
            owners,
            pending: Vec::new(),
            next_line_no: 1,
            finished: false,
            allocated: 0,
        };
        let stream = futures::stream::try_unfold(days, |mut days| async move {
            let next = days.next_batch().await?;
            Ok(next.map(|batch| (batch, days)))
        });
        Ok(RowSource::Stream(Box::pin(RecordBatchStreamAdapter::new(
            allocation_schema(),
            stream,
        ))))
    }
}

/// Billing lines sorted by charge start, allocated a run of whole days at a time.
struct ByDay {
    input: SendableRecordBatchStream,
    rules: Vec<AllocationRule>,
    owners: HashMap<String, String>,
    /// Lines read but not allocated yet, in day order.
    pending: Vec<CostLine>,
    /// The dense line number of the next line (see [`allocation_batch`]).
    next_line_no: i64,
    finished: bool,
    allocated: usize,
}

impl ByDay {
    /// The next batch of allocations, once its days are complete (a later day has
    /// begun, or the input ended); `None` at the end.
    async fn next_batch(&mut self) -> DfResult<Option<RecordBatch>> {
        loop {
            let last_day = self.pending.last().map(|l| l.day);
            let complete = match last_day {
                Some(day) if !self.finished => self.pending.partition_point(|l| l.day < day),
                _ => self.pending.len(),
            };
            if complete > 0 {
                let lines: Vec<CostLine> = self.pending.drain(..complete).collect();
                return self.allocate(&lines).map(Some);
            }
            if self.finished {
                tracing::info!(rows = self.allocated, "Allocated cost lines.");
                return Ok(None);
            }
            match self.input.next().await {
                Some(batch) => add_lines(&mut self.pending, &batch?).map_err(external)?,
                None => self.finished = true,
            }
        }
    }

    fn allocate(&mut self, lines: &[CostLine]) -> DfResult<RecordBatch> {
        let rows = allocate(lines, &self.rules, &self.owners);
        self.allocated += rows.len();
        let (batch, next) = allocation_batch(&rows, self.next_line_no).map_err(external)?;
        self.next_line_no = next;
        Ok(batch)
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

fn allocation_schema() -> SchemaRef {
    Arc::new(datafusion::arrow::datatypes::Schema::new(
        allocation_fields(),
    ))
}

fn allocation_fields() -> Vec<Field> {
    vec![
        Field::new("x_line_id", DataType::Utf8, false),
        Field::new("line_no", DataType::Int64, false),
        Field::new("team", DataType::Utf8, false),
        Field::new("service", DataType::Utf8, true),
        Field::new("allocation_rule", DataType::Utf8, false),
        Field::new("split_method", DataType::Utf8, false),
        Field::new("share", DataType::Float64, false),
    ]
}

/// The batch of `rows`, numbering lines densely from `first_line_no` (`allocate`
/// emits a line's shares one after the other); returns the next free number. The
/// cost queries count distinct lines by this integer rather than by the
/// 32-character line id.
fn allocation_batch(rows: &[Allocation], first_line_no: i64) -> Result<(RecordBatch, i64)> {
    let text = |f: &dyn Fn(&Allocation) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let mut line_no = first_line_no - 1;
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
    let batch = batch(
        allocation_fields(),
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
    )?;
    Ok((batch, line_no + 1))
}
