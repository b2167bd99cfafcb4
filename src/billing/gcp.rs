//! Google Cloud billing export to BigQuery (standard or detailed), as the rows
//! come out of BigQuery: NDJSON with nested records (`service{id,description}`,
//! `credits[{name,amount,…}]`, `labels[{key,value}]`), or CSV with the nested
//! fields flattened (`service.description`, `invoice.month`) and repeated fields
//! (credits, labels) as JSON text.
//!
//! GCP's `cost` is before credits; credits (sustained-use and committed-use
//! discounts, promotions, free tier) are a list on the row. Each credit becomes a
//! FOCUS `Credit` line of its own (BilledCost = EffectiveCost = the credit's
//! negative amount), as Google's FOCUS export does, so Σ BilledCost over the lines
//! is Σ(cost + credits): the invoice, and a credit is visible and filterable by
//! its type instead of being netted away.
//!
//! The invoice month is a Pacific-time month: BillingPeriodStart is its first
//! instant in America/Los_Angeles, in UTC (`2024-09-01T07:00:00Z`), as the FOCUS
//! converters and Google's FOCUS view have it. That keeps a usage hour that is
//! still September in California (01 October 03:00 UTC) in the September bill it
//! is invoiced on.

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value as Json};

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes};
use super::tabular::{SourceRecord, is_null_text};
use super::values;

/// Top-level columns an export must have.
const REQUIRED: &[&str] = &["billing_account_id", "cost", "currency", "usage_start_time"];

/// Reads BigQuery billing export rows.
pub struct GcpMapper;

/// A mapper for a GCP billing export header (NDJSON: the first row's keys).
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let has = |n: &str| header.iter().any(|h| h.eq_ignore_ascii_case(n));
    match REQUIRED.iter().find(|n| !has(n)) {
        Some(missing) => Err(format!(
            "not a Google Cloud billing export: no {missing} column"
        )),
        None => Ok(Box::new(GcpMapper)),
    }
}

/// A field by BigQuery path (`service.description`): the flattened CSV column,
/// else the nested value.
fn cell<'a>(r: &'a SourceRecord, path: &str) -> Option<&'a Json> {
    if let Some(v) = r.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut value = r.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

fn text(r: &SourceRecord, path: &str) -> Option<String> {
    values::text(cell(r, path))
}

fn number(r: &SourceRecord, path: &str) -> Result<Option<f64>, FieldError> {
    values::number(cell(r, path)).map_err(|e| FieldError::new(path, e))
}

fn time(r: &SourceRecord, path: &str) -> Result<Option<i64>, FieldError> {
    values::time(cell(r, path)).map_err(|e| FieldError::new(path, e))
}

/// A repeated field: a JSON array, or (CSV) its JSON text, or the Python literal
/// pandas writes for it (`[{'name': 'Free tier', 'amount': -5e-06, 'id': None}]`).
fn list(r: &SourceRecord, path: &str) -> Result<Vec<Json>, FieldError> {
    match cell(r, path) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => Ok(items.clone()),
        Some(Json::String(s)) if is_null_text(s) => Ok(Vec::new()),
        Some(Json::String(s)) => match values::json_or_python(s) {
            Ok((Json::Array(items), _)) => Ok(items),
            _ => Err(FieldError::new(
                path,
                format!("not a JSON list (nor a Python one): `{s}`"),
            )),
        },
        Some(other) => Err(FieldError::new(path, format!("not a list: `{other}`"))),
    }
}

/// Notes the repeated fields of a CSV row written as Python literals (single
/// quotes, `None`) rather than JSON, as pandas saves a BigQuery export.
fn note_python_lists(r: &SourceRecord, notes: &mut Notes) {
    for path in ["credits", "labels", "project.labels", "system_labels"] {
        if let Some(Json::String(s)) = r.get(path)
            && matches!(values::json_or_python(s.trim()), Ok((_, true)))
        {
            *notes
                .entry(format!("{path}: Python-style list (pandas) read as JSON"))
                .or_default() += 1;
        }
    }
}

impl RecordMapper for GcpMapper {
    fn map(&self, r: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        note_python_lists(r, notes);
        let mut row = CostRow::new();
        let cost = number(r, "cost")?
            .ok_or_else(|| FieldError::new("cost", "required value is missing"))?;
        row.set_number("BilledCost", Some(cost));
        row.set_number("EffectiveCost", Some(cost));
        row.set_number("ContractedCost", Some(cost));
        row.set_number("ListCost", number(r, "cost_at_list")?);
        row.set_number("ContractedUnitPrice", number(r, "price.effective_price")?);
        periods(r, &mut row)?;
        parties(r, &mut row);
        set_charge(r, &mut row);
        product(r, &mut row)?;
        row.set_text("Tags", tags(r)?);
        row.set_text("x_provider", Some("Google Cloud"));
        let credits = credit_lines(r, &row)?;
        if credits
            .iter()
            .any(|c| c.text("CommitmentDiscountId").is_some())
            && row.text("ChargeCategory") == Some("Usage")
        {
            row.set_text("PricingCategory", Some("Committed"));
        }
        let mut rows = vec![row];
        rows.extend(credits);
        Ok(rows)
    }
}

fn periods(r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
    row.set_time("ChargePeriodStart", time(r, "usage_start_time")?);
    row.set_time("ChargePeriodEnd", time(r, "usage_end_time")?);
    if let Some(month) = text(r, "invoice.month") {
        let (start, end) = invoice_month(&month).ok_or_else(|| {
            FieldError::new("invoice.month", format!("not a YYYYMM month: `{month}`"))
        })?;
        row.set_time("BillingPeriodStart", Some(start));
        row.set_time("BillingPeriodEnd", Some(end));
    }
    Ok(())
}

/// `202409` → the first instants (UTC) of September and October 2024 in
/// America/Los_Angeles.
pub fn invoice_month(month: &str) -> Option<(i64, i64)> {
    let digits = month.trim();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..].parse().ok()?;
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((pacific_month_start(first)?, pacific_month_start(next)?))
}

/// Midnight on the 1st of a month in Los Angeles, in UTC microseconds. US
/// daylight time (since 2007) starts on the second Sunday of March and ends on
/// the first Sunday of November at 02:00, so the 1st of April to November opens
/// on PDT (UTC−7) and the others on PST (UTC−8); no timezone database needed.
fn pacific_month_start(first: NaiveDate) -> Option<i64> {
    let offset_hours = if (4..=11).contains(&first.month()) {
        7
    } else {
        8
    };
    let midnight = first.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
    Some(midnight + offset_hours * 3_600_000_000)
}

fn parties(r: &SourceRecord, row: &mut CostRow) {
    row.set_text("BillingAccountId", text(r, "billing_account_id"));
    row.set_text("BillingCurrency", text(r, "currency"));
    row.set_text("SubAccountId", text(r, "project.id"));
    row.set_text("SubAccountName", text(r, "project.name"));
    row.set_text("ProviderName", Some("Google Cloud"));
    let publisher = text(r, "seller_name").unwrap_or_else(|| "Google Cloud".into());
    row.set_text("PublisherName", Some(publisher));
    row.set_text("InvoiceIssuerName", Some("Google Cloud"));
}

/// ChargeCategory, ChargeClass and ChargeFrequency from `cost_type`.
fn set_charge(r: &SourceRecord, row: &mut CostRow) {
    let cost_type = text(r, "cost_type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (category, frequency) = match cost_type.as_str() {
        "tax" => ("Tax", "Recurring"),
        "adjustment" | "rounding_error" => ("Adjustment", "One-Time"),
        _ => ("Usage", "Usage-Based"),
    };
    row.set_text("ChargeCategory", Some(category));
    row.set_text("ChargeFrequency", Some(frequency));
    let correction = [
        text(r, "adjustment_info.type"),
        text(r, "adjustment_info.mode"),
    ]
    .into_iter()
    .flatten()
    .any(|t| {
        let t = t.to_ascii_uppercase();
        t.contains("CORRECTION") || t.contains("NEGATION")
    });
    if cost_type == "adjustment" && correction {
        row.set_text("ChargeClass", Some("Correction"));
    }
}

fn product(r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
    let service = text(r, "service.description");
    row.set_text(
        "ServiceCategory",
        service.as_deref().map(values::service_category),
    );
    row.set_text("ServiceName", service);
    row.set_text("ChargeDescription", text(r, "sku.description"));
    row.set_text("SkuId", text(r, "sku.id"));
    let region = text(r, "location.region");
    row.set_text(
        "RegionName",
        text(r, "location.location").or_else(|| region.clone()),
    );
    row.set_text("RegionId", region);
    row.set_text("AvailabilityZone", text(r, "location.zone"));
    let resource_name = text(r, "resource.name");
    row.set_text(
        "ResourceId",
        text(r, "resource.global_name").or_else(|| resource_name.clone()),
    );
    row.set_text("ResourceName", resource_name);
    row.set_number(
        "PricingQuantity",
        number(r, "usage.amount_in_pricing_units")?,
    );
    row.set_text("PricingUnit", text(r, "usage.pricing_unit"));
    if row.text("ChargeCategory") == Some("Usage") {
        row.set_number("ConsumedQuantity", number(r, "usage.amount")?);
        row.set_text("ConsumedUnit", text(r, "usage.unit"));
        row.set_text("PricingCategory", Some("Standard"));
    }
    Ok(())
}

/// Project labels, then the row's labels, then resource tags (later wins).
fn tags(r: &SourceRecord) -> Result<Option<String>, FieldError> {
    let mut all = Map::new();
    for path in ["project.labels", "labels", "tags"] {
        let found = values::tags_object(cell(r, path)).map_err(|e| FieldError::new(path, e))?;
        for (k, v) in found.unwrap_or_default() {
            if let Some(v) = values::text(Some(&v)) {
                all.insert(k, Json::String(v));
            }
        }
    }
    Ok(values::tags_json(all))
}

/// One `Credit` line per non-zero credit of the row, with the row's dimensions.
fn credit_lines(r: &SourceRecord, row: &CostRow) -> Result<Vec<CostRow>, FieldError> {
    let mut lines = Vec::new();
    for credit in list(r, "credits")? {
        let amount = values::number(credit.get("amount"))
            .map_err(|e| FieldError::new("credits", format!("credit amount: {e}")))?;
        let Some(amount) = amount.filter(|a| *a != 0.0) else {
            continue;
        };
        let mut line = row.clone();
        for column in [
            "ListCost",
            "ContractedCost",
            "ContractedUnitPrice",
            "PricingQuantity",
            "ConsumedQuantity",
        ] {
            line.set_number(column, None);
        }
        for column in [
            "ConsumedUnit",
            "PricingUnit",
            "PricingCategory",
            "ChargeClass",
        ] {
            line.set_text(column, None::<String>);
        }
        line.set_number("BilledCost", Some(amount));
        line.set_number("EffectiveCost", Some(amount));
        line.set_text("ChargeCategory", Some("Credit"));
        line.set_text("ChargeFrequency", Some("Usage-Based"));
        let description =
            values::text(credit.get("full_name")).or(values::text(credit.get("name")));
        line.set_text("ChargeDescription", description);
        commitment(&credit, &mut line);
        lines.push(line);
    }
    Ok(lines)
}

/// Committed-use discount credits name the commitment they come from.
fn commitment(credit: &Json, line: &mut CostRow) {
    let kind = values::text(credit.get("type")).unwrap_or_default();
    let category = match kind.as_str() {
        "COMMITTED_USAGE_DISCOUNT" => "Usage",
        "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE" => "Spend",
        _ => return,
    };
    line.set_text("CommitmentDiscountId", values::text(credit.get("id")));
    line.set_text("CommitmentDiscountName", values::text(credit.get("name")));
    line.set_text("CommitmentDiscountCategory", Some(category));
    line.set_text("CommitmentDiscountType", Some("Committed Use Discount"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(fields: Json) -> SourceRecord {
        SourceRecord::new(1, fields.as_object().cloned().unwrap_or_default())
    }

    fn row() -> Json {
        json!({
            "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
            "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
            "sku": {"id": "2E27-4F75-95CD", "description": "N1 Predefined Instance Core"},
            "usage_start_time": "2024-10-01 03:00:00 UTC",
            "usage_end_time": "2024-10-01 04:00:00 UTC",
            "project": {"id": "shop-prod", "name": "Shop", "labels": [{"key": "team", "value": "web"}]},
            "labels": [{"key": "team", "value": "payments"}],
            "cost": 10.0,
            "currency": "USD",
            "invoice": {"month": "202409"},
            "cost_type": "regular",
            "credits": [
                {"name": "Sustained usage discount", "amount": -1.25, "type": "SUSTAINED_USAGE_DISCOUNT"},
                {"name": "CUD", "amount": -2.0, "id": "cud-1", "type": "COMMITTED_USAGE_DISCOUNT"}
            ],
        })
    }

    #[test]
    fn credits_become_lines_of_their_own() {
        let r = record(row());
        let rows = GcpMapper.map(&r, &mut Notes::new()).unwrap();
        assert_eq!(rows.len(), 3);
        let billed: f64 = rows.iter().filter_map(|r| r.number("BilledCost")).sum();
        assert!((billed - 6.75).abs() < 1e-9);
        assert_eq!(rows[1].text("ChargeCategory"), Some("Credit"));
        assert_eq!(rows[2].text("CommitmentDiscountId"), Some("cud-1"));
        assert_eq!(rows[0].text("Tags"), Some(r#"{"team":"payments"}"#));
        assert_eq!(rows[0].text("PricingCategory"), Some("Committed"));
    }

    #[test]
    fn invoice_month_is_a_pacific_month() {
        let (start, end) = invoice_month("202409").unwrap();
        assert_eq!(Ok(start), values::parse_time("2024-09-01T07:00:00Z"));
        assert_eq!(Ok(end), values::parse_time("2024-10-01T07:00:00Z"));
        let (start, end) = invoice_month("202412").unwrap();
        assert_eq!(Ok(start), values::parse_time("2024-12-01T08:00:00Z"));
        assert_eq!(Ok(end), values::parse_time("2025-01-01T08:00:00Z"));
        assert_eq!(invoice_month("2024-09"), None);
    }

    #[test]
    fn flattened_csv_cells() {
        let r = record(json!({
            "billing_account_id": "A",
            "service.description": "BigQuery",
            "usage_start_time": "2024-09-02 00:00:00 UTC",
            "cost": "$1,000.00 ",
            "currency": "EUR",
            "invoice.month": "202409",
            "credits": "[{\"name\":\"Free tier\",\"amount\":\"-5\"}]",
        }));
        let rows = GcpMapper.map(&r, &mut Notes::new()).unwrap();
        assert_eq!(rows[0].number("BilledCost"), Some(1000.0));
        assert_eq!(rows[0].text("ServiceCategory"), Some("Analytics"));
        assert_eq!(rows[1].number("BilledCost"), Some(-5.0));
    }

    #[test]
    fn pandas_python_style_lists() {
        let r = record(json!({
            "billing_account_id": "A",
            "usage_start_time": "2020-11-09 23:00:00+00:00",
            "cost": "5e-06",
            "currency": "USD",
            "invoice.month": "202011",
            "labels": "[{'key': 'goog-resource-type', 'value': 'bigquery_dataset'}]",
            "credits": "[{'name': 'FreeTrial:Credit-1', 'amount': -5e-06, 'full_name': None, \
                        'id': 'FreeTrial:Credit-1', 'type': 'PROMOTION'}]",
        }));
        let mut notes = Notes::new();
        let rows = GcpMapper.map(&r, &mut notes).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].number("BilledCost"), Some(-5e-06));
        assert_eq!(
            rows[1].text("ChargeDescription"),
            Some("FreeTrial:Credit-1")
        );
        assert_eq!(
            rows[0].text("Tags"),
            Some(r#"{"goog-resource-type":"bigquery_dataset"}"#)
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        let bad = record(json!({"credits": "[{'amount': }]"}));
        let err = list(&bad, "credits").unwrap_err();
        assert!(err.reason.contains("not a JSON list"), "{err:?}");
    }
}
