//! FOCUS 1.0–1.3 files (CSV, gzip CSV, Parquet), as providers export them and as
//! the FOCUS spec's worked examples are written.
//!
//! Column names are matched to FOCUS's case-insensitively (the spec examples spell
//! `SkuPriceid`); columns FOCUS does not define (`x_*`, the sample's `Id`) are read
//! past. The version is told from the newest columns present: 1.3 added
//! `ServiceProviderName`/`HostProviderName`/`Allocated*`/`ContractApplied`, 1.2
//! `InvoiceId`/`PricingCurrency*`/`*AccountType`, 1.1 `ServiceSubcategory`/`SkuMeter`/
//! `CapacityReservation*`/`CommitmentDiscountQuantity|Unit`.

use serde_json::Value as Json;

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes};
use super::tabular::SourceRecord;
use super::values;
use crate::lake::tables::{ColumnType, FOCUS_COLUMNS};

const V13: &[&str] = &[
    "ServiceProviderName",
    "HostProviderName",
    "AllocatedMethodId",
    "AllocatedMethodDetails",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "ContractApplied",
];
const V12: &[&str] = &[
    "InvoiceId",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "BillingAccountType",
    "SubAccountType",
];
const V11: &[&str] = &[
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
];

/// Columns a file must have to be read as FOCUS at all.
const NEEDED: &[&str] = &[
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargePeriodStart",
];

/// The FOCUS version a header implies.
pub fn version(header: &[String]) -> &'static str {
    let has = |names: &[&str]| {
        header
            .iter()
            .any(|h| names.iter().any(|n| n.eq_ignore_ascii_case(h)))
    };
    if has(V13) {
        "1.3"
    } else if has(V12) {
        "1.2"
    } else if has(V11) {
        "1.1"
    } else {
        "1.0"
    }
}

/// Whether a header looks like FOCUS.
pub fn looks_like(header: &[String]) -> bool {
    ["BilledCost", "EffectiveCost"]
        .iter()
        .all(|n| header.iter().any(|h| h.eq_ignore_ascii_case(n)))
}

/// Reads FOCUS records: each source column mapped to the FOCUS column it names.
pub struct FocusMapper {
    columns: Vec<(String, &'static str, ColumnType)>,
    version: &'static str,
}

/// A mapper for a FOCUS header, or why the header cannot be FOCUS.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let columns: Vec<(String, &'static str, ColumnType)> = header
        .iter()
        .filter_map(|h| {
            FOCUS_COLUMNS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(h))
                .map(|(name, ty)| (h.clone(), *name, *ty))
        })
        .collect();
    let missing: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|n| !columns.iter().any(|(_, c, _)| c == n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not a FOCUS file: no {} column",
            missing.join(", ")
        ));
    }
    Ok(Box::new(FocusMapper {
        columns,
        version: version(header),
    }))
}

impl RecordMapper for FocusMapper {
    fn map(&self, record: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        let mut row = CostRow::new();
        for (source, column, ty) in &self.columns {
            let cell = record.get(source);
            let bad = |reason: String| FieldError::new(source.as_str(), reason);
            match ty {
                ColumnType::Float => row.set_number(column, values::number(cell).map_err(bad)?),
                ColumnType::Timestamp => row.set_time(column, values::time(cell).map_err(bad)?),
                _ if *column == "Tags" => {
                    let tags = values::tags_object(cell).map_err(bad)?;
                    if let (Some(Json::String(s)), Some(_)) = (cell, &tags)
                        && !s.trim_start().starts_with('{')
                    {
                        *notes
                            .entry("Tags: JSON object without braces".into())
                            .or_default() += 1;
                    }
                    row.set_text(column, tags.map(|t| Json::Object(t).to_string()));
                }
                _ => row.set_text(column, values::text(cell)),
            }
        }
        if let Some(Json::String(s)) = self
            .columns
            .iter()
            .find(|(_, c, _)| *c == "BilledCost")
            .and_then(|(h, _, _)| record.get(h))
            && s.trim().eq_ignore_ascii_case("null")
        {
            *notes.entry("BilledCost: literal NULL".into()).or_default() += 1;
        }
        row.set_text("x_focus_version", Some(self.version));
        Ok(vec![row])
    }

    fn focus_version(&self) -> Option<&'static str> {
        Some(self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn versions_from_columns() {
        let base = [
            "BilledCost",
            "EffectiveCost",
            "BillingCurrency",
            "ChargePeriodStart",
        ];
        assert_eq!(version(&header(&base)), "1.0");
        let mut v11 = base.to_vec();
        v11.push("SkuMeter");
        assert_eq!(version(&header(&v11)), "1.1");
        v11.push("invoiceid");
        assert_eq!(version(&header(&v11)), "1.2");
        v11.push("ServiceProviderName");
        assert_eq!(version(&header(&v11)), "1.3");
    }

    #[test]
    fn header_without_costs_is_not_focus() {
        let err = mapper(&header(&["BilledCost", "Foo"])).err().unwrap();
        assert!(err.contains("EffectiveCost"), "{err}");
    }
}
