//! A year of daily FOCUS billing rows tagged by team and service.

use super::catalog::{Svc, TEAMS};
use super::clock::{Clock, DAY};
use super::random::Rng;
use crate::billing::row::CostRow;

/// A billed AWS service: names as FOCUS spells them, a unit price and a daily range.
pub(super) struct Cloud {
    pub(super) name: &'static str,
    pub(super) category: &'static str,
    pub(super) code: &'static str,
    pub(super) resource: &'static str,
    pub(super) unit: &'static str,
    pub(super) price: f64,
    pub(super) daily: (f64, f64),
    /// Lowest EffectiveCost / BilledCost (savings plans and reservations).
    pub(super) min_discount: f64,
}

/// The first three are billed per service, the rest are shared (untagged).
#[rustfmt::skip]
pub(super) static CLOUDS: [Cloud; 6] = [
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
pub(super) struct CostLine {
    pub(super) team: Option<&'static str>,
    pub(super) service: Option<&'static str>,
    pub(super) cloud: &'static Cloud,
    pub(super) base: f64,
    pub(super) discount: f64,
    /// Team's AWS account (shared spend has its own).
    pub(super) account: u64,
    /// From when the resource exists (the service's creation).
    pub(super) from: i64,
}

pub(super) fn cost_line(rng: &mut Rng, cloud: &'static Cloud, owner: Option<&Svc>) -> CostLine {
    CostLine {
        team: owner.map(|s| TEAMS[s.team].name),
        service: owner.map(|s| s.name),
        cloud,
        base: rng.between_f(cloud.daily.0, cloud.daily.1),
        discount: rng.between_f(cloud.min_discount, 1.0),
        account: 210_000_000_000 + owner.map_or(99, |s| s.team as u64),
        from: owner.map_or(i64::MIN, |s| s.created_at),
    }
}

/// Daily FOCUS rows: slow monthly growth, quieter weekends for hourly resources,
/// one four-day compute spike (an anomaly) and ~3% shared, untagged spend.
pub(super) fn costs(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Vec<CostRow> {
    let mut lines = Vec::new();
    for (i, s) in svcs.iter().enumerate() {
        for cloud in CLOUDS
            .iter()
            .take(3)
            .filter(|c| c.code != "rds" || i % 5 < 2)
        {
            lines.push(cost_line(rng, cloud, Some(s)));
        }
    }
    lines.extend(CLOUDS.iter().skip(3).map(|c| cost_line(rng, c, None)));
    let mut rows = Vec::with_capacity(lines.len() * clock.days as usize);
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
            rows.push(cost_row(
                line,
                clock.billing_period(t),
                t,
                cents(line.base * factor),
            ));
        }
    }
    rows
}

pub(super) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn cost_row(line: &CostLine, period: (i64, i64), day: i64, billed: f64) -> CostRow {
    let tags = match (line.team, line.service) {
        (Some(t), Some(s)) => format!(r#"{{"team":"{t}","service":"{s}","env":"prod"}}"#),
        _ => r#"{"env":"shared"}"#.to_string(),
    };
    let c = line.cloud;
    let resource = format!("{}-{}", line.service.unwrap_or("shared"), c.code);
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
