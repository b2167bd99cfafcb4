//! A year of daily FOCUS billing rows tagged by team and service.

use super::catalog::Svc;
use super::clock::{Clock, DAY};
use super::random::Rng;
use crate::billing::row::CostRow;

/// A billed AWS service: names as FOCUS spells them, a unit price and a daily range.
pub(crate) struct Cloud {
    pub(crate) name: &'static str,
    pub(crate) category: &'static str,
    pub(crate) code: &'static str,
    pub(crate) resource: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) price: f64,
    pub(crate) daily: (f64, f64),
    /// Lowest EffectiveCost / BilledCost (savings plans and reservations).
    pub(crate) min_discount: f64,
}

/// The first three are billed per service, the rest are shared (untagged).
#[rustfmt::skip]
pub(crate) static CLOUDS: [Cloud; 6] = [
    Cloud { name: "Amazon Elastic Compute Cloud", category: "Compute", code: "ec2", resource: "instance",
        unit: "Hours", price: 0.384, daily: (60.0, 420.0), min_discount: 0.7 },
    Cloud { name: "Amazon Relational Database Service", category: "Databases", code: "rds", resource: "db",
        unit: "Hours", price: 0.48, daily: (40.0, 260.0), min_discount: 0.8 },
    Cloud { name: "Amazon Simple Storage Service", category: "Storage", code: "s3", resource: "bucket",
        unit: "GB-Month", price: 0.023, daily: (2.0, 30.0), min_discount: 1.0 },
    Cloud { name: "Amazon Virtual Private Cloud", category: "Networking", code: "vpc", resource: "natgateway",
        unit: "Hours", price: 0.045, daily: (80.0, 120.0), min_discount: 1.0 },
    Cloud { name: "Amazon CloudWatch", category: "Management and Governance", code: "cloudwatch", resource: "metric",
        unit: "Metrics", price: 0.3, daily: (60.0, 90.0), min_discount: 1.0 },
    Cloud { name: "AWS Key Management Service", category: "Security", code: "kms", resource: "key",
        unit: "Requests", price: 0.000_03, daily: (10.0, 20.0), min_discount: 1.0 },
];

/// One daily cost line: a resource of a service (or shared) in one AWS service.
pub(crate) struct CostLine<'a> {
    pub(crate) team: Option<&'a str>,
    pub(crate) service: Option<&'a str>,
    /// Which of the service's resources in this AWS service (0 = the first).
    pub(crate) copy: usize,
    pub(crate) cloud: &'static Cloud,
    pub(crate) base: f64,
    pub(crate) discount: f64,
    /// Team's AWS account (shared spend has its own).
    pub(crate) account: u64,
    /// From when the resource exists (the service's creation).
    pub(crate) from: i64,
}

/// How many resources the bill has, relative to the demo's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bill {
    /// Resources per service and AWS service (the demo: 1).
    pub(crate) copies: usize,
    /// Copies of the shared, untagged resources (the demo: 1).
    pub(crate) shared: usize,
}

/// `copy` is the resource's number among its service's (or the shared ones).
pub(crate) fn cost_line<'a>(
    rng: &mut Rng,
    cloud: &'static Cloud,
    owner: Option<&'a Svc>,
    copy: usize,
) -> CostLine<'a> {
    CostLine {
        team: owner.map(|s| s.team_name.as_str()),
        service: owner.map(|s| s.name.as_str()),
        copy,
        cloud,
        base: rng.between_f(cloud.daily.0, cloud.daily.1),
        discount: rng.between_f(cloud.min_discount, 1.0),
        account: 210_000_000_000 + owner.map_or(99, |s| sub_account(s.team)),
        from: owner.map_or(i64::MIN, |s| s.created_at),
    }
}

/// A team's AWS account number within the payer's range; 99 is the shared
/// account, so the bench's hundredth team and later ones skip past it.
fn sub_account(team: usize) -> u64 {
    let team = team as u64;
    if team >= 99 { team + 1_000 } else { team }
}

/// Daily FOCUS rows: slow monthly growth, quieter weekends for hourly resources,
/// one four-day compute spike (an anomaly) and ~3% shared, untagged spend.
pub(crate) fn costs(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Vec<CostRow> {
    let mut rows = Vec::new();
    let bill = Bill {
        copies: 1,
        shared: 1,
    };
    each_cost_row(rng, svcs, clock, bill, |_, row| rows.push(row));
    rows
}

/// The bill's resources: `bill.copies` per service and AWS service, then the
/// shared ones.
fn lines<'a>(rng: &mut Rng, svcs: &'a [Svc], bill: Bill) -> Vec<CostLine<'a>> {
    let mut lines = Vec::new();
    for (i, s) in svcs.iter().enumerate() {
        for copy in 0..bill.copies {
            for cloud in CLOUDS
                .iter()
                .take(3)
                .filter(|c| c.code != "rds" || i % 5 < 2)
            {
                lines.push(cost_line(rng, cloud, Some(s), copy));
            }
        }
    }
    for copy in 0..bill.shared {
        lines.extend(CLOUDS.iter().skip(3).map(|c| cost_line(rng, c, None, copy)));
    }
    lines
}

/// Every daily FOCUS row of the year, day by day, handed to `emit` with its line.
pub(crate) fn each_cost_row(
    rng: &mut Rng,
    svcs: &[Svc],
    clock: &Clock,
    bill: Bill,
    mut emit: impl FnMut(&CostLine, CostRow),
) {
    let lines = lines(rng, svcs, bill);
    for day in 0..clock.days {
        let t = clock.day(day);
        let growth = 1.0 + 0.3 * clock.progress(t);
        for line in lines.iter().filter(|l| l.from < t + DAY) {
            let weekly = if clock.is_weekend(day) && line.cloud.unit == "Hours" {
                0.85
            } else {
                1.0
            };
            let spike = line.service == Some("checkout-api")
                && line.cloud.code == "ec2"
                && (250..254).contains(&day);
            let factor =
                growth * weekly * if spike { 3.0 } else { 1.0 } * rng.between_f(0.95, 1.05);
            let row = cost_row(line, clock.billing_period(t), t, cents(line.base * factor));
            emit(line, row);
        }
    }
}

pub(crate) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) fn cost_row(line: &CostLine, period: (i64, i64), day: i64, billed: f64) -> CostRow {
    let tags = match (line.team, line.service) {
        (Some(t), Some(s)) => format!(r#"{{"team":"{t}","service":"{s}","env":"prod"}}"#),
        _ => r#"{"env":"shared"}"#.to_string(),
    };
    let c = line.cloud;
    let mut resource = format!("{}-{}", line.service.unwrap_or("shared"), c.code);
    if line.copy > 0 {
        resource = format!("{resource}-{}", line.copy);
    }
    let arn = format!(
        "arn:aws:{}:us-east-1:{}:{}/{resource}",
        c.code, line.account, c.resource
    );
    let quantity = (billed / c.price * 1000.0).round() / 1000.0;
    let mut r = CostRow::new();
    r.set_number("BilledCost", Some(billed));
    r.set_number("EffectiveCost", Some(cents(billed * line.discount)));
    r.set_number("ListCost", Some(cents(billed * 1.08)));
    r.set_number("ContractedCost", Some(billed));
    r.set_text("BillingCurrency", Some("USD"));
    r.set_text("BillingAccountId", Some("210000000000"));
    r.set_text("BillingAccountName", Some("acme-payer"));
    r.set_time("BillingPeriodStart", Some(period.0));
    r.set_time("BillingPeriodEnd", Some(period.1));
    r.set_time("ChargePeriodStart", Some(day));
    r.set_time("ChargePeriodEnd", Some(day + DAY));
    r.set_text("ChargeCategory", Some("Usage"));
    r.set_text("ChargeFrequency", Some("Usage-Based"));
    r.set_text("ChargeDescription", Some(format!("{} usage", c.name)));
    r.set_text("ProviderName", Some("AWS"));
    r.set_text("PublisherName", Some("Amazon Web Services"));
    r.set_text("InvoiceIssuerName", Some("Amazon Web Services, Inc."));
    r.set_text("SubAccountId", Some(line.account.to_string()));
    r.set_text(
        "SubAccountName",
        Some(format!("acme-{}", line.team.unwrap_or("shared"))),
    );
    r.set_text("RegionId", Some("us-east-1"));
    r.set_text("RegionName", Some("US East (N. Virginia)"));
    r.set_text("ResourceId", Some(arn));
    r.set_text("ResourceName", Some(resource));
    r.set_text("ResourceType", Some(c.resource));
    r.set_text("ServiceCategory", Some(c.category));
    r.set_text("ServiceName", Some(c.name));
    r.set_text(
        "SkuId",
        Some(format!("{}-{}", c.code, c.unit).to_uppercase()),
    );
    r.set_text("PricingUnit", Some(c.unit));
    r.set_text("PricingCategory", Some("Standard"));
    r.set_number("ListUnitPrice", Some(c.price * 1.08));
    r.set_number("PricingQuantity", Some(quantity));
    r.set_number("ConsumedQuantity", Some(quantity));
    r.set_text("ConsumedUnit", Some(c.unit));
    r.set_text("Tags", Some(tags));
    r
}
