//! Oracle Cloud Infrastructure cost reports (CSV: `lineItem/intervalUsageStart`,
//! `cost/myCost`, `product/service`, one `tags/<namespace>.<key>` column per tag).
//!
//! `cost/myCost` is the customer's cost after their negotiated discounts, and
//! OCI bills usage as it accrues, so it is both BilledCost and EffectiveCost.
//! Accounts follow Oracle's own FOCUS report: the billing account is the
//! subscription that is invoiced (`cost/subscriptionId`), the sub-account the
//! tenancy. The report has no billing period, so it is the UTC calendar month of
//! the usage (OCI invoices calendar months in UTC).

use serde_json::{Map, Value as Json};

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes, calendar_month};
use super::tabular::SourceRecord;
use super::values;

/// Columns a cost report must have.
const REQUIRED: &[&str] = &[
    "cost/myCost",
    "cost/currencyCode",
    "lineItem/intervalUsageStart",
    "lineItem/tenantId",
];

/// Reads OCI cost report rows.
pub struct OciMapper {
    /// Tag columns with their `<namespace>.<key>` tag names.
    tag_columns: Vec<(String, String)>,
}

/// A mapper for an OCI cost report header.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    if let Some(missing) = REQUIRED.iter().find(|n| !header.iter().any(|h| h == *n)) {
        return Err(format!(
            "not an Oracle Cloud cost report: no {missing} column"
        ));
    }
    let tag_columns = header
        .iter()
        .filter_map(|h| h.strip_prefix("tags/").map(|k| (h.clone(), k.to_string())))
        .collect();
    Ok(Box::new(OciMapper { tag_columns }))
}

fn text(r: &SourceRecord, column: &str) -> Option<String> {
    values::text_in(r, Some(column))
}

fn number(r: &SourceRecord, column: &str) -> Result<Option<f64>, FieldError> {
    values::number_in(r, Some(column))
}

impl RecordMapper for OciMapper {
    fn map(&self, r: &SourceRecord, _notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        let mut row = CostRow::new();
        let cost = number(r, "cost/myCost")?
            .ok_or_else(|| FieldError::new("cost/myCost", "required value is missing"))?;
        if text(r, "cost/currencyCode").is_none() {
            // Named here, not as FOCUS's BillingCurrency, so the fix is obvious.
            return Err(FieldError::new(
                "cost/currencyCode",
                "required value is missing (OCI leaves it empty on some zero-cost \
                 lines; --set cost/currencyCode=<code> supplies it, --skip-bad \
                 quarantines them)",
            ));
        }
        row.set_number("BilledCost", Some(cost));
        row.set_number("EffectiveCost", Some(cost));
        row.set_number("ContractedCost", Some(cost));
        row.set_number("ContractedUnitPrice", number(r, "cost/unitPrice")?);
        periods(r, &mut row)?;
        parties(r, &mut row);
        charge(r, &mut row)?;
        row.set_text("Tags", self.tags(r));
        row.set_text("x_provider", Some("Oracle"));
        Ok(vec![row])
    }
}

fn periods(r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
    let start = values::time_in(r, Some("lineItem/intervalUsageStart"))?;
    row.set_time("ChargePeriodStart", start);
    row.set_time(
        "ChargePeriodEnd",
        values::time_in(r, Some("lineItem/intervalUsageEnd"))?,
    );
    if let Some(start) = start {
        let (month, next) = calendar_month(start);
        row.set_time("BillingPeriodStart", Some(month));
        row.set_time("BillingPeriodEnd", Some(next));
    }
    Ok(())
}

fn parties(r: &SourceRecord, row: &mut CostRow) {
    let tenancy = text(r, "lineItem/tenantId");
    let account = text(r, "cost/subscriptionId").or_else(|| tenancy.clone());
    row.set_text("BillingAccountId", account);
    row.set_text("SubAccountId", tenancy);
    row.set_text("BillingCurrency", text(r, "cost/currencyCode"));
    for column in ["ProviderName", "PublisherName", "InvoiceIssuerName"] {
        row.set_text(column, Some("Oracle"));
    }
}

fn charge(r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
    row.set_text("ChargeCategory", Some("Usage"));
    row.set_text("ChargeFrequency", Some("Usage-Based"));
    row.set_text("PricingCategory", Some("Standard"));
    let correction =
        text(r, "lineItem/isCorrection").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if correction {
        row.set_text("ChargeClass", Some("Correction"));
    }
    row.set_text("ChargeDescription", text(r, "product/Description"));
    let service = text(r, "product/service");
    row.set_text(
        "ServiceCategory",
        service.as_deref().map(values::service_category),
    );
    row.set_text("ServiceName", service);
    let region = text(r, "product/region");
    row.set_text("RegionId", region.clone());
    row.set_text("RegionName", region);
    row.set_text("AvailabilityZone", text(r, "product/availabilityDomain"));
    row.set_text("ResourceId", text(r, "product/resourceId"));
    row.set_text("SkuId", text(r, "cost/productSku"));
    let quantity = number(r, "usage/billedQuantity")?;
    let unit = text(r, "cost/skuUnitDescription");
    row.set_number("PricingQuantity", quantity);
    row.set_text("PricingUnit", unit.clone());
    row.set_number("ConsumedQuantity", quantity);
    row.set_text("ConsumedUnit", unit);
    Ok(())
}

impl OciMapper {
    /// The non-empty `tags/<namespace>.<key>` cells, keyed `<namespace>.<key>`
    /// (the namespace is part of an OCI tag's identity).
    fn tags(&self, r: &SourceRecord) -> Option<String> {
        let tags: Map<String, Json> = self
            .tag_columns
            .iter()
            .filter_map(|(column, key)| text(r, column).map(|v| (key.clone(), Json::String(v))))
            .collect();
        values::tags_json(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_cost_line_with_tags_and_minute_times() {
        let fields = json!({
            "lineItem/tenantId": "ocid1.tenancy.oc1..a",
            "lineItem/intervalUsageStart": "2023-11-13T10:00Z",
            "lineItem/intervalUsageEnd": "2023-11-13T11:00:00Z",
            "product/service": "OBJECTSTORE",
            "cost/subscriptionId": "ocid1.organizationssubscription.oc1..s",
            "cost/myCost": "4.81298076439E-7",
            "cost/currencyCode": "USD",
            "lineItem/isCorrection": "false",
            "tags/Oracle-Tags.CreatedBy": "default/someone",
            "tags/Valtest.Cat": "",
        });
        let r = SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default());
        let header: Vec<String> = r.names();
        let rows = mapper(&header).unwrap().map(&r, &mut Notes::new()).unwrap();
        let row = &rows[0];
        assert_eq!(row.number("BilledCost"), Some(4.81298076439e-7));
        assert_eq!(row.text("ServiceCategory"), Some("Storage"));
        assert_eq!(
            row.text("Tags"),
            Some(r#"{"Oracle-Tags.CreatedBy":"default/someone"}"#)
        );
        assert_eq!(
            row.time("BillingPeriodStart"),
            values::parse_time("2023-11-01T00:00:00Z").ok()
        );
    }

    #[test]
    fn empty_currency_is_named_as_the_report_spells_it() {
        let fields = json!({
            "lineItem/tenantId": "ocid1.tenancy.oc1..a",
            "lineItem/intervalUsageStart": "2022-04-21T18:00Z",
            "cost/subscriptionId": "015649487",
            "cost/myCost": "0.000000000000",
            "cost/currencyCode": "",
        });
        let r = SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default());
        let header: Vec<String> = r.names();
        let err = mapper(&header)
            .unwrap()
            .map(&r, &mut Notes::new())
            .unwrap_err();
        assert_eq!(err.field, "cost/currencyCode");
        assert!(
            err.reason.contains("--set cost/currencyCode="),
            "{}",
            err.reason
        );
    }

    #[test]
    fn header_without_cost_is_refused() {
        let err = mapper(&["lineItem/tenantId".to_string()]).err().unwrap();
        assert!(err.contains("cost/myCost"), "{err}");
    }
}
