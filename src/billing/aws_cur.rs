//! AWS Cost and Usage Report, legacy CSV (`lineItem/UnblendedCost`,
//! `bill/PayerAccountId`, `resourceTags/user:Team`).
//!
//! The legacy report's schema is dynamic, but each `category/CamelCase` column is
//! the same field CUR 2.0 calls `category_snake_case` (Athena's renaming:
//! `reservation/ReservationARN` → `reservation_reservation_a_r_n`). So this reader
//! renames the header that way and hands the records to the CUR 2.0 mapping
//! ([`super::aws_cur2`]): one mapping, two spellings. Errors still name the
//! columns as this file spells them.

use std::collections::HashMap;

use super::RecordMapper;
use super::aws_cur2::{AwsMapper, plain_tag_key};

/// A mapper for a legacy CUR CSV header.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let mut columns = HashMap::new();
    let mut tag_columns = Vec::new();
    for h in header {
        if let Some(key) = h.strip_prefix("resourceTags/") {
            tag_columns.push((h.clone(), plain_tag_key(key, "user:").to_string()));
        } else {
            columns.insert(snake_name(h), h.clone());
        }
    }
    let mapper = AwsMapper::new(columns, tag_columns, None, None, true)?;
    Ok(Box::new(mapper))
}

/// `lineItem/UnblendedCost` → `line_item_unblended_cost`: the category and the
/// name joined by `_`, an `_` before every capital (as Athena does, so `ARN`
/// becomes `a_r_n`), all lower case.
pub fn snake_name(column: &str) -> String {
    let mut out = String::with_capacity(column.len() + 8);
    for part in column.split('/') {
        if !out.is_empty() {
            out.push('_');
        }
        for (i, c) in part.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::row::Notes;
    use crate::billing::tabular::SourceRecord;
    use serde_json::json;

    #[test]
    fn legacy_names_become_cur2_names() {
        assert_eq!(
            snake_name("lineItem/UnblendedCost"),
            "line_item_unblended_cost"
        );
        assert_eq!(snake_name("bill/PayerAccountId"), "bill_payer_account_id");
        assert_eq!(
            snake_name("savingsPlan/SavingsPlanARN"),
            "savings_plan_savings_plan_a_r_n"
        );
        assert_eq!(
            snake_name("pricing/publicOnDemandCost"),
            "pricing_public_on_demand_cost"
        );
        assert_eq!(snake_name("product/servicecode"), "product_servicecode");
    }

    #[test]
    fn reads_scientific_notation_and_tag_columns() {
        let fields = json!({
            "bill/PayerAccountId": "123412340534",
            "bill/BillingPeriodStartDate": "2023-11-01T00:00:00.000Z",
            "identity/TimeInterval": "2023-11-04T00:00:00Z/2023-11-05T00:00:00Z",
            "lineItem/UsageStartDate": "",
            "lineItem/LineItemType": "Usage",
            "lineItem/UnblendedCost": "5.2E-9",
            "lineItem/CurrencyCode": "USD",
            "resourceTags/user:Team": "payments",
        });
        let r = SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default());
        let header: Vec<String> = r.names();
        let rows = mapper(&header).unwrap().map(&r, &mut Notes::new()).unwrap();
        assert_eq!(rows[0].number("BilledCost"), Some(5.2e-9));
        assert_eq!(rows[0].text("Tags"), Some(r#"{"Team":"payments"}"#));
        assert!(rows[0].time("ChargePeriodStart").is_some());
    }

    #[test]
    fn missing_cost_column_is_named_as_the_csv_spells_it() {
        let header = vec!["lineItem/BlendedCost".to_string()];
        let err = mapper(&header).err().unwrap();
        assert!(err.contains("lineItem/UnblendedCost"), "{err}");
    }
}
