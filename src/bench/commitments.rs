//! Commitment discounts on the bench bill: savings plans covering discounted EC2
//! usage and reservations covering discounted RDS usage, as FOCUS writes them.
//!
//! A covered usage line becomes `PricingCategory = Committed` with its commitment's
//! id and `CommitmentDiscountStatus = Used`. Each commitment also gets, per day, an
//! `Unused` line for the part of it nothing used (untagged, so it lands in
//! `unallocated`), and, on the first day of each month, its `Purchase` line (billed,
//! with no effective cost: that is amortised into the Used and Unused lines).

use std::collections::BTreeMap;

use crate::billing::row::CostRow;
use crate::demo::billing::{CostLine, cents};
use crate::demo::random::mix;

/// Below this share of list price a resource's usage is commitment-covered.
const COVERED_BELOW: f64 = 0.9;

/// A commitment's state within the current day.
struct Commitment {
    /// The last covered line: the template of its Unused and Purchase lines.
    template: CostRow,
    used_today: f64,
    /// Fraction of the commitment left unused, fixed per commitment.
    unused_share: f64,
}

/// Annotates covered lines and produces the commitments' own lines at day ends.
#[derive(Default)]
pub(crate) struct Commitments {
    by_id: BTreeMap<String, Commitment>,
    day: Option<i64>,
}

impl Commitments {
    /// Marks `row` as commitment-covered when its resource is; returns the lines
    /// due before it (the previous day's Unused and Purchase lines) when `row`
    /// starts a new day.
    pub(crate) fn apply(&mut self, line: &CostLine, row: &mut CostRow) -> Vec<CostRow> {
        let day = row.time("ChargePeriodStart").unwrap_or_default();
        let due = if self.day.is_some_and(|d| d != day) {
            self.end_of_day()
        } else {
            Vec::new()
        };
        self.day = Some(day);
        if let Some((id, kind)) = commitment_of(line) {
            mark_used(row, &id, kind);
            let used = row.number("EffectiveCost").unwrap_or_default();
            let entry = self.by_id.entry(id).or_insert_with_key(|id| Commitment {
                template: row.clone(),
                used_today: 0.0,
                unused_share: 0.02 + 0.2 * (mix(id.len() as u64 ^ hash(id)) % 1000) as f64 / 1000.0,
            });
            entry.used_today += used;
            entry.template.clone_from(row);
        }
        due
    }

    /// The lines still due at the end of the bill.
    pub(crate) fn finish(&mut self) -> Vec<CostRow> {
        self.end_of_day()
    }

    fn end_of_day(&mut self) -> Vec<CostRow> {
        let mut out = Vec::new();
        for c in self.by_id.values_mut() {
            if c.used_today <= 0.0 {
                continue;
            }
            let unused = cents(c.used_today * c.unused_share / (1.0 - c.unused_share));
            out.push(unused_line(&c.template, unused));
            let day = c.template.time("ChargePeriodStart");
            if day == c.template.time("BillingPeriodStart") {
                out.push(purchase_line(&c.template, c.used_today + unused));
            }
            c.used_today = 0.0;
        }
        out
    }
}

/// (commitment id, (type, category)) covering a line's resource, if any.
fn commitment_of(line: &CostLine) -> Option<(String, (&'static str, &'static str))> {
    if line.service.is_none() || line.discount >= COVERED_BELOW {
        return None;
    }
    match line.cloud.code {
        "ec2" => Some((
            format!(
                "arn:aws:savingsplans::{}:savingsplan/sp-{}",
                line.account, line.account
            ),
            ("Savings Plan", "Spend"),
        )),
        "rds" => Some((
            format!(
                "arn:aws:rds:us-east-1:{}:ri:ri-{}",
                line.account, line.account
            ),
            ("Reserved Instance", "Usage"),
        )),
        _ => None,
    }
}

fn mark_used(row: &mut CostRow, id: &str, (kind, category): (&str, &str)) {
    row.set_text("PricingCategory", Some("Committed"));
    row.set_text("CommitmentDiscountId", Some(id));
    row.set_text(
        "CommitmentDiscountName",
        id.rsplit('/').next().or(id.rsplit(':').next()),
    );
    row.set_text("CommitmentDiscountType", Some(kind));
    row.set_text("CommitmentDiscountCategory", Some(category));
    row.set_text("CommitmentDiscountStatus", Some("Used"));
}

/// The day's unused part of a commitment: amortised cost, nothing billed, untagged.
fn unused_line(template: &CostRow, amount: f64) -> CostRow {
    let mut r = commitment_line(template);
    r.set_number("BilledCost", Some(0.0));
    r.set_number("EffectiveCost", Some(amount));
    r.set_text("CommitmentDiscountStatus", Some("Unused"));
    r.set_text("ChargeDescription", Some("Unused commitment"));
    r
}

/// The month's purchase of a commitment: billed, amortised elsewhere.
fn purchase_line(template: &CostRow, daily: f64) -> CostRow {
    let mut r = commitment_line(template);
    let days = 30.0;
    r.set_number("BilledCost", Some(cents(daily * days)));
    r.set_number("EffectiveCost", Some(0.0));
    r.set_text("ChargeCategory", Some("Purchase"));
    r.set_text("ChargeFrequency", Some("Recurring"));
    r.set_text("CommitmentDiscountStatus", None::<&str>);
    r.set_text("ChargeDescription", Some("Commitment purchase"));
    r.set_time("ChargePeriodStart", template.time("BillingPeriodStart"));
    r.set_time("ChargePeriodEnd", template.time("BillingPeriodEnd"));
    r
}

/// A line about the commitment itself: its id as the resource, no usage, no tags.
fn commitment_line(template: &CostRow) -> CostRow {
    let mut r = template.clone();
    let id = template.text("CommitmentDiscountId").map(str::to_string);
    r.set_text("ResourceId", id.clone());
    r.set_text(
        "ResourceName",
        template.text("CommitmentDiscountName").map(str::to_string),
    );
    r.set_text("ResourceType", Some("commitment"));
    for column in [
        "ListCost",
        "ContractedCost",
        "PricingQuantity",
        "ConsumedQuantity",
    ] {
        r.set_number(column, None);
    }
    r.set_text("ConsumedUnit", None::<&str>);
    r.set_text("Tags", None::<&str>);
    r
}

/// FNV-1a: a stable per-commitment draw without touching the bill's PRNG stream.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
