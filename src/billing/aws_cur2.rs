//! AWS Cost and Usage Reports with snake_case columns: CUR 2.0 / Data Exports
//! (`line_item_unblended_cost`, map columns `resource_tags` and `product`) and the
//! legacy report as Athena or Parquet writes it (`resource_tags_user_team` columns).
//! The legacy CSV reader ([`super::aws_cur`]) renames its `lineItem/UnblendedCost`
//! columns to these names and uses the same mapping, so both agree line for line.
//!
//! Costs follow the FOCUS converters' amortisation recipe
//! (`finopsfoundation/focus_converters`, `aws-cur.csv`): BilledCost is what the
//! invoice charges, EffectiveCost spreads reservation and savings-plan fees over the
//! usage they cover. The unused part of a recurring commitment fee becomes its own
//! `Usage` line with `CommitmentDiscountStatus = Unused`, as FOCUS models it, so
//! that "what did the unused commitment cost" is a filter, not a subtraction.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes};
use super::tabular::SourceRecord;
use super::values;

/// Columns a report must have, snake_case and as the legacy CSV spells them.
const REQUIRED: &[(&str, &str)] = &[
    ("line_item_unblended_cost", "lineItem/UnblendedCost"),
    ("line_item_currency_code", "lineItem/CurrencyCode"),
    ("bill_payer_account_id", "bill/PayerAccountId"),
];

/// Reads CUR records by snake_case field name, whatever the file calls them.
pub struct AwsMapper {
    /// snake_case field → the file's column.
    columns: HashMap<String, String>,
    /// Columns holding one tag each (`resourceTags/user:Team`), with the tag key.
    tag_columns: Vec<(String, String)>,
    /// The `resource_tags` map column of CUR 2.0.
    tag_map: Option<String>,
    /// The `product` map column of CUR 2.0, for `product_*` fields not flattened.
    product_map: Option<String>,
}

/// A mapper for a CUR 2.0 (or Athena-style legacy) header.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let mut columns = HashMap::new();
    let mut tag_columns = Vec::new();
    let mut tag_map = None;
    let mut product_map = None;
    for h in header {
        let name = h.to_ascii_lowercase();
        if name == "resource_tags" {
            tag_map = Some(h.clone());
        } else if name == "product" {
            product_map = Some(h.clone());
        } else if let Some(key) = name.strip_prefix("resource_tags_") {
            tag_columns.push((h.clone(), plain_tag_key(key, "user_").to_string()));
        } else {
            columns.insert(name, h.clone());
        }
    }
    let mapper = AwsMapper::new(columns, tag_columns, tag_map, product_map, false)?;
    Ok(Box::new(mapper))
}

/// A tag key without AWS's `user:` prefix (user-defined tags are the ones people
/// mean by their tag names; `aws:createdBy` keeps its prefix).
pub fn plain_tag_key<'a>(key: &'a str, user_prefix: &str) -> &'a str {
    key.strip_prefix(user_prefix).unwrap_or(key)
}

impl AwsMapper {
    /// A mapper over resolved columns, or the required column that is missing
    /// (named as the legacy CSV spells it when `legacy`).
    pub fn new(
        columns: HashMap<String, String>,
        tag_columns: Vec<(String, String)>,
        tag_map: Option<String>,
        product_map: Option<String>,
        legacy: bool,
    ) -> Result<AwsMapper, String> {
        for (snake, legacy_name) in REQUIRED {
            if !columns.contains_key(*snake) {
                let name = if legacy { legacy_name } else { snake };
                return Err(format!(
                    "not an AWS cost and usage report: no {name} column"
                ));
            }
        }
        let has_start = columns.contains_key("line_item_usage_start_date")
            || columns.contains_key("identity_time_interval");
        if !has_start {
            let name = if legacy {
                "lineItem/UsageStartDate"
            } else {
                "line_item_usage_start_date"
            };
            return Err(format!(
                "not an AWS cost and usage report: no {name} column"
            ));
        }
        Ok(AwsMapper {
            columns,
            tag_columns,
            tag_map,
            product_map,
        })
    }

    /// A field's cell: its own column when it has a value, else (for `product_*`)
    /// the `product` map's entry.
    fn cell<'a>(&self, r: &'a SourceRecord, field: &str) -> Option<&'a Json> {
        let own = self.columns.get(field).and_then(|c| r.get(c));
        if values::text(own).is_some() {
            return own;
        }
        let key = field.strip_prefix("product_")?;
        r.get(self.product_map.as_deref()?)?.get(key)
    }

    /// The file's name for a field, for errors.
    fn source(&self, field: &str) -> String {
        match (self.columns.get(field), field.strip_prefix("product_")) {
            (Some(c), _) => c.clone(),
            (None, Some(key)) => format!("product['{key}']"),
            (None, None) => field.to_string(),
        }
    }

    fn text(&self, r: &SourceRecord, field: &str) -> Option<String> {
        values::text(self.cell(r, field))
    }

    fn number(&self, r: &SourceRecord, field: &str) -> Result<Option<f64>, FieldError> {
        values::number(self.cell(r, field)).map_err(|e| FieldError::new(self.source(field), e))
    }

    fn time(&self, r: &SourceRecord, field: &str) -> Result<Option<i64>, FieldError> {
        values::time(self.cell(r, field)).map_err(|e| FieldError::new(self.source(field), e))
    }

    /// The first of `fields` with a value.
    fn first_number(&self, r: &SourceRecord, fields: &[&str]) -> Result<Option<f64>, FieldError> {
        for f in fields {
            if let Some(v) = self.number(r, f)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}

impl RecordMapper for AwsMapper {
    fn map(&self, r: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        let kind = self.text(r, "line_item_line_item_type").unwrap_or_default();
        if self.columns.contains_key("bill_invoice_id") && self.text(r, "bill_invoice_id").is_none()
        {
            *notes
                .entry(
                    "InvoiceId: empty, the bill is not final yet (AWS estimates until it \
                     invoices; importing the final report replaces these lines)"
                        .into(),
                )
                .or_default() += 1;
        }
        let mut row = CostRow::new();
        let unused = self.costs(r, &kind, &mut row, notes)?;
        self.periods(r, &mut row)?;
        set_charge(&kind, &mut row);
        self.parties(r, &mut row);
        self.product(r, &kind, &mut row)?;
        self.commitment(r, &kind, &mut row);
        row.set_text("Tags", self.tags(r)?);
        row.set_text("x_provider", Some("AWS"));
        let mut rows = vec![row];
        if let Some(unused) = unused {
            rows.push(unused_commitment_line(&rows[0], unused));
        }
        Ok(rows)
    }
}

/// The unused part of a recurring commitment fee as its own FOCUS line.
fn unused_commitment_line(fee: &CostRow, unused: f64) -> CostRow {
    let mut line = fee.clone();
    line.set_number("BilledCost", Some(0.0));
    line.set_number("EffectiveCost", Some(unused));
    line.set_number("ListCost", Some(0.0));
    line.set_number("ContractedCost", Some(0.0));
    line.set_text("ChargeCategory", Some("Usage"));
    line.set_text("ChargeFrequency", Some("Usage-Based"));
    line.set_text("CommitmentDiscountStatus", Some("Unused"));
    line.set_number("ConsumedQuantity", None);
    line.set_text("ConsumedUnit", None::<String>);
    line
}

impl AwsMapper {
    /// Sets the cost columns; returns the unused commitment amount of a recurring
    /// fee, which goes on a line of its own.
    fn costs(
        &self,
        r: &SourceRecord,
        kind: &str,
        row: &mut CostRow,
        notes: &mut Notes,
    ) -> Result<Option<f64>, FieldError> {
        let unblended = self.number(r, "line_item_unblended_cost")?;
        let net = self.number(r, "line_item_net_unblended_cost")?;
        let billed = net.or(unblended).ok_or_else(|| {
            FieldError::new(
                self.source("line_item_unblended_cost"),
                "required value is missing",
            )
        })?;
        let effective = match self.effective_cost(r, kind)? {
            Some(e) => e,
            None => {
                *notes
                    .entry(format!(
                        "EffectiveCost: {kind} line without its amortisation columns, billed cost used"
                    ))
                    .or_default() += 1;
                billed
            }
        };
        let is_commitment_fee = matches!(kind, "RIFee" | "SavingsPlanRecurringFee");
        row.set_number("BilledCost", Some(billed));
        row.set_number(
            "EffectiveCost",
            Some(if is_commitment_fee { 0.0 } else { effective }),
        );
        row.set_number("ListCost", self.list_cost(r)?.or(Some(billed)));
        let contracted = if kind == "SavingsPlanNegation" {
            0.0
        } else {
            unblended.unwrap_or(billed)
        };
        row.set_number("ContractedCost", Some(contracted));
        row.set_number(
            "ListUnitPrice",
            self.number(r, "pricing_public_on_demand_rate")?,
        );
        row.set_number(
            "ContractedUnitPrice",
            self.number(r, "line_item_unblended_rate")?,
        );
        Ok((is_commitment_fee && effective != 0.0).then_some(effective))
    }

    /// EffectiveCost by line item type (the converters' recipe, preferring the
    /// `net_*` variants when the report carries them, so that enterprise discounts
    /// are in); `None` when the columns the type needs are missing.
    fn effective_cost(&self, r: &SourceRecord, kind: &str) -> Result<Option<f64>, FieldError> {
        Ok(match kind {
            "SavingsPlanCoveredUsage" => self.first_number(
                r,
                &[
                    "savings_plan_net_savings_plan_effective_cost",
                    "savings_plan_savings_plan_effective_cost",
                ],
            )?,
            "SavingsPlanRecurringFee" => {
                let total = self.number(r, "savings_plan_total_commitment_to_date")?;
                let used = self.number(r, "savings_plan_used_commitment")?;
                total.zip(used).map(|(t, u)| t - u)
            }
            "SavingsPlanNegation" | "SavingsPlanUpfrontFee" => Some(0.0),
            "DiscountedUsage" => self.first_number(
                r,
                &[
                    "reservation_net_effective_cost",
                    "reservation_effective_cost",
                ],
            )?,
            "RIFee" => {
                let upfront = self.first_number(
                    r,
                    &[
                        "reservation_net_unused_amortized_upfront_fee_for_billing_period",
                        "reservation_unused_amortized_upfront_fee_for_billing_period",
                    ],
                )?;
                let recurring = self.first_number(
                    r,
                    &[
                        "reservation_net_unused_recurring_fee",
                        "reservation_unused_recurring_fee",
                    ],
                )?;
                match (upfront, recurring) {
                    (None, None) => None,
                    (u, c) => Some(u.unwrap_or(0.0) + c.unwrap_or(0.0)),
                }
            }
            "Fee" if self.text(r, "reservation_reservation_a_r_n").is_some() => Some(0.0),
            _ => {
                let net = self.number(r, "line_item_net_unblended_cost")?;
                net.or(self.number(r, "line_item_unblended_cost")?)
            }
        })
    }

    /// `pricing_public_on_demand_cost`, else rate × amount.
    fn list_cost(&self, r: &SourceRecord) -> Result<Option<f64>, FieldError> {
        if let Some(cost) = self.number(r, "pricing_public_on_demand_cost")? {
            return Ok(Some(cost));
        }
        let rate = self.number(r, "pricing_public_on_demand_rate")?;
        let amount = self.number(r, "line_item_usage_amount")?;
        Ok(rate.zip(amount).map(|(p, q)| p * q))
    }

    fn periods(&self, r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
        row.set_time(
            "BillingPeriodStart",
            self.time(r, "bill_billing_period_start_date")?,
        );
        row.set_time(
            "BillingPeriodEnd",
            self.time(r, "bill_billing_period_end_date")?,
        );
        let (mut start, mut end) = (
            self.time(r, "line_item_usage_start_date")?,
            self.time(r, "line_item_usage_end_date")?,
        );
        if start.is_none()
            && let Some(interval) = self.text(r, "identity_time_interval")
        {
            let bad = |e| FieldError::new(self.source("identity_time_interval"), e);
            let (from, to) = interval.split_once('/').unwrap_or((interval.as_str(), ""));
            start = Some(values::parse_time(from).map_err(bad)?);
            if end.is_none() && !to.is_empty() {
                end = Some(values::parse_time(to).map_err(bad)?);
            }
        }
        row.set_time("ChargePeriodStart", start);
        row.set_time("ChargePeriodEnd", end);
        Ok(())
    }

    fn parties(&self, r: &SourceRecord, row: &mut CostRow) {
        row.set_text("BillingCurrency", self.text(r, "line_item_currency_code"));
        row.set_text("BillingAccountId", self.text(r, "bill_payer_account_id"));
        row.set_text(
            "BillingAccountName",
            self.text(r, "bill_payer_account_name"),
        );
        row.set_text("SubAccountId", self.text(r, "line_item_usage_account_id"));
        row.set_text(
            "SubAccountName",
            self.text(r, "line_item_usage_account_name"),
        );
        row.set_text("InvoiceId", self.text(r, "bill_invoice_id"));
        row.set_text("ProviderName", Some("AWS"));
        let publisher = self
            .text(r, "line_item_legal_entity")
            .or_else(|| self.text(r, "bill_billing_entity"));
        row.set_text("PublisherName", publisher.or(Some("AWS".into())));
        let issuer = self.text(r, "bill_invoicing_entity");
        row.set_text("InvoiceIssuerName", issuer.or(Some("AWS".into())));
        row.set_text(
            "ChargeDescription",
            self.text(r, "line_item_line_item_description"),
        );
    }

    fn product(&self, r: &SourceRecord, kind: &str, row: &mut CostRow) -> Result<(), FieldError> {
        let code = self.text(r, "line_item_product_code");
        let service = self
            .text(r, "product_product_name")
            .or_else(|| self.text(r, "product_servicename"))
            .or_else(|| code.clone());
        let category = service.as_deref().map(|s| {
            let named = values::service_category(s);
            match (named, &code) {
                ("Other", Some(c)) => values::service_category(c),
                _ => named,
            }
        });
        row.set_text("ServiceName", service);
        row.set_text("ServiceCategory", category);
        let region = self
            .text(r, "product_region_code")
            .or_else(|| self.text(r, "product_region"));
        row.set_text("RegionId", region);
        row.set_text("RegionName", self.text(r, "product_location"));
        row.set_text(
            "AvailabilityZone",
            self.text(r, "line_item_availability_zone"),
        );
        row.set_text("ResourceId", self.text(r, "line_item_resource_id"));
        row.set_text("SkuId", self.text(r, "product_sku"));
        row.set_text("SkuPriceId", self.text(r, "pricing_rate_code"));
        let unit = self.text(r, "pricing_unit");
        let amount = self.number(r, "line_item_usage_amount")?;
        let category = row.text("ChargeCategory").unwrap_or_default().to_string();
        if matches!(category.as_str(), "Usage" | "Purchase") {
            row.set_number("PricingQuantity", amount);
            row.set_text("PricingUnit", unit.clone());
        }
        if category == "Usage" && kind != "SavingsPlanNegation" {
            row.set_number("ConsumedQuantity", amount);
            row.set_text("ConsumedUnit", unit);
        }
        row.set_text("PricingCategory", self.pricing_category(r, kind, &category));
        Ok(())
    }

    fn pricing_category(
        &self,
        r: &SourceRecord,
        kind: &str,
        category: &str,
    ) -> Option<&'static str> {
        if matches!(kind, "DiscountedUsage" | "SavingsPlanCoveredUsage") {
            return Some("Committed");
        }
        let spot = self
            .text(r, "line_item_usage_type")
            .is_some_and(|t| t.contains("SpotUsage"));
        match self.text(r, "pricing_term").as_deref() {
            _ if spot => Some("Dynamic"),
            Some("OnDemand") => Some("Standard"),
            Some("Reserved") => Some("Committed"),
            _ if category == "Usage" => Some("Standard"),
            _ => None,
        }
    }

    fn commitment(&self, r: &SourceRecord, kind: &str, row: &mut CostRow) {
        let savings_plan = self.text(r, "savings_plan_savings_plan_a_r_n");
        let reservation = self.text(r, "reservation_reservation_a_r_n");
        let (id, category, kind_name) = match kind {
            "SavingsPlanCoveredUsage"
            | "SavingsPlanRecurringFee"
            | "SavingsPlanUpfrontFee"
            | "SavingsPlanNegation" => (savings_plan, "Spend", "Savings Plan"),
            "DiscountedUsage" | "RIFee" => (reservation, "Usage", "Reserved Instance"),
            "Fee" if reservation.is_some() => (reservation, "Usage", "Reserved Instance"),
            _ => return,
        };
        if id.is_none() {
            return;
        }
        row.set_text("CommitmentDiscountId", id);
        row.set_text("CommitmentDiscountCategory", Some(category));
        row.set_text("CommitmentDiscountType", Some(kind_name));
        if matches!(kind, "SavingsPlanCoveredUsage" | "DiscountedUsage") {
            row.set_text("CommitmentDiscountStatus", Some("Used"));
        }
    }

    /// The `resource_tags` map and the one-tag-per-column columns, `user:` dropped.
    fn tags(&self, r: &SourceRecord) -> Result<Option<String>, FieldError> {
        let mut tags = Map::new();
        if let Some(column) = &self.tag_map {
            let map = values::tags_object(r.get(column))
                .map_err(|e| FieldError::new(column.as_str(), e))?;
            for (k, v) in map.unwrap_or_default() {
                if let Some(v) = values::text(Some(&v)) {
                    tags.insert(plain_tag_key(&k, "user:").to_string(), Json::String(v));
                }
            }
        }
        for (column, key) in &self.tag_columns {
            if let Some(v) = values::text(r.get(column)) {
                tags.insert(key.clone(), Json::String(v));
            }
        }
        Ok(values::tags_json(tags))
    }
}

/// ChargeCategory, ChargeClass and ChargeFrequency from `line_item_line_item_type`.
fn set_charge(kind: &str, row: &mut CostRow) {
    let (category, class, frequency) = match kind {
        "Tax" => ("Tax", None, "Recurring"),
        "Fee" | "SavingsPlanUpfrontFee" => ("Purchase", None, "One-Time"),
        "RIFee" | "SavingsPlanRecurringFee" => ("Purchase", None, "Recurring"),
        "Credit" => ("Credit", None, "One-Time"),
        "Refund" => ("Credit", Some("Correction"), "One-Time"),
        "EdpDiscount"
        | "BundledDiscount"
        | "PrivateRateDiscount"
        | "Discount"
        | "DistributorDiscount"
        | "SppDiscount" => ("Credit", None, "Usage-Based"),
        "" | "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage" | "SavingsPlanNegation" => {
            ("Usage", None, "Usage-Based")
        }
        _ => ("Adjustment", None, "One-Time"),
    };
    row.set_text("ChargeCategory", Some(category));
    row.set_text("ChargeClass", class);
    row.set_text("ChargeFrequency", Some(frequency));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(fields: Json) -> SourceRecord {
        SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default())
    }

    fn header(r: &SourceRecord) -> Vec<String> {
        r.names()
    }

    fn base() -> Json {
        json!({
            "bill_payer_account_id": "111122223333",
            "bill_billing_period_start_date": "2024-09-01T00:00:00Z",
            "bill_billing_period_end_date": "2024-10-01T00:00:00Z",
            "line_item_usage_account_id": "444455556666",
            "line_item_usage_start_date": "2024-09-03T00:00:00Z",
            "line_item_usage_end_date": "2024-09-03T01:00:00Z",
            "line_item_currency_code": "USD",
            "line_item_line_item_type": "Usage",
            "line_item_unblended_cost": "2.5",
            "line_item_product_code": "AmazonEC2",
            "resource_tags": {"user:team": "payments", "aws:createdBy": "x"},
            "product": {"product_name": "Amazon Elastic Compute Cloud", "region": "eu-west-1"},
        })
    }

    fn map(fields: Json) -> Vec<CostRow> {
        let r = record(fields);
        let m = mapper(&header(&r)).unwrap();
        m.map(&r, &mut Notes::new()).unwrap()
    }

    #[test]
    fn usage_line_with_map_columns() {
        let rows = map(base());
        let row = &rows[0];
        assert_eq!(row.number("BilledCost"), Some(2.5));
        assert_eq!(row.number("EffectiveCost"), Some(2.5));
        assert_eq!(
            row.text("ServiceName"),
            Some("Amazon Elastic Compute Cloud")
        );
        assert_eq!(row.text("ServiceCategory"), Some("Compute"));
        assert_eq!(row.text("RegionId"), Some("eu-west-1"));
        assert_eq!(
            row.text("Tags"),
            Some(r#"{"aws:createdBy":"x","team":"payments"}"#)
        );
    }

    #[test]
    fn recurring_savings_plan_fee_splits_off_the_unused_part() {
        let mut fields = base();
        fields["line_item_line_item_type"] = json!("SavingsPlanRecurringFee");
        fields["line_item_unblended_cost"] = json!("10");
        fields["savings_plan_savings_plan_a_r_n"] = json!("arn:sp");
        fields["savings_plan_total_commitment_to_date"] = json!("10");
        fields["savings_plan_used_commitment"] = json!("7.5");
        let rows = map(fields);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number("BilledCost"), Some(10.0));
        assert_eq!(rows[0].number("EffectiveCost"), Some(0.0));
        assert_eq!(rows[0].text("ChargeCategory"), Some("Purchase"));
        assert_eq!(rows[1].number("EffectiveCost"), Some(2.5));
        assert_eq!(rows[1].text("CommitmentDiscountStatus"), Some("Unused"));
    }

    #[test]
    fn missing_cost_column_is_named() {
        let mut fields = base();
        if let Some(o) = fields.as_object_mut() {
            o.remove("line_item_unblended_cost");
        }
        let err = mapper(&header(&record(fields))).err().unwrap();
        assert!(err.contains("line_item_unblended_cost"), "{err}");
    }
}
