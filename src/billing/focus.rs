//! FOCUS 0.5 and 1.0–1.3 files (CSV, gzip CSV, Parquet), as providers export them
//! and as the FOCUS spec's worked examples are written.
//!
//! Column names are matched to FOCUS's case-insensitively (the spec examples spell
//! `SkuPriceid`); columns FOCUS does not define (`x_*`, the sample's `Id`) are read
//! past. The version is told from the newest columns present: 1.3 added
//! `ServiceProviderName`/`HostProviderName`/`Allocated*`/`ContractApplied`, 1.2
//! `InvoiceId`/`PricingCurrency*`/`*AccountType`, 1.1 `ServiceSubcategory`/`SkuMeter`/
//! `CapacityReservation*`/`CommitmentDiscountQuantity|Unit`.
//!
//! FOCUS 0.5 (the first release, 2023) named eight columns differently; a file
//! without `EffectiveCost` but with `AmortizedCost` is read as 0.5, each 0.5 name
//! standing for its 1.0 successor ([`V05_ALIASES`]) unless the file also has the
//! 1.0 column.

use serde_json::Value as Json;

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes, column_index};
use super::tabular::{Cell, SourceRecord};
use super::values;
use crate::lake::batch::Value;
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

/// FOCUS 0.5 column → the 1.0 column that replaced it (`ResourceID` would match
/// `ResourceId` anyway: names are matched without regard to case).
pub const V05_ALIASES: &[(&str, &str)] = &[
    ("AmortizedCost", "EffectiveCost"),
    ("BilledCurrency", "BillingCurrency"),
    ("ChargeType", "ChargeCategory"),
    ("Provider", "ProviderName"),
    ("Publisher", "PublisherName"),
    ("InvoiceIssuer", "InvoiceIssuerName"),
    ("ResourceID", "ResourceId"),
    ("Region", "RegionId"),
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
    if !has(&["EffectiveCost"]) && has(&["AmortizedCost"]) {
        "0.5"
    } else if has(V13) {
        "1.3"
    } else if has(V12) {
        "1.2"
    } else if has(V11) {
        "1.1"
    } else {
        "1.0"
    }
}

/// Whether a header looks like FOCUS: `BilledCost` with `EffectiveCost` (1.x) or
/// `AmortizedCost` (0.5).
pub fn looks_like(header: &[String]) -> bool {
    let has = |n: &str| header.iter().any(|h| h.eq_ignore_ascii_case(n));
    has("BilledCost") && (has("EffectiveCost") || has("AmortizedCost"))
}

/// The FOCUS column a header name stands for: its own (any case), else, in a 0.5
/// file, the 1.0 successor of a 0.5 name the file does not also carry.
fn focus_column(h: &str, header: &[String], v05: bool) -> Option<(&'static str, ColumnType)> {
    let own = |name: &str| {
        FOCUS_COLUMNS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))
            .map(|(c, ty)| (*c, *ty))
    };
    if let Some(found) = own(h) {
        return Some(found);
    }
    if !v05 {
        return None;
    }
    let (_, successor) = V05_ALIASES
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(h))?;
    let shadowed = header
        .iter()
        .any(|other| other.eq_ignore_ascii_case(successor));
    if shadowed { None } else { own(successor) }
}

/// Reads FOCUS records: each source column mapped to the FOCUS column it names.
pub struct FocusMapper {
    columns: Vec<SourceColumn>,
    /// The source column read as `BilledCost`, whose literal `NULL`s are noted.
    billed_cost: Option<usize>,
    version: &'static str,
}

/// A source column and the `costs` column it fills.
struct SourceColumn {
    /// As the file names it.
    name: String,
    /// Its position in the header (the last, when a name repeats).
    position: usize,
    /// The FOCUS column, its position in `costs`, and its type.
    column: &'static str,
    index: usize,
    ty: ColumnType,
}

/// A mapper for a FOCUS header, or why the header cannot be FOCUS.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let version = version(header);
    let columns: Vec<SourceColumn> = header
        .iter()
        .filter_map(|h| {
            let (column, ty) = focus_column(h, header, version == "0.5")?;
            Some(SourceColumn {
                name: h.clone(),
                position: header.iter().rposition(|other| other == h)?,
                column,
                index: column_index(column)?,
                ty,
            })
        })
        .collect();
    let missing: Vec<String> = NEEDED
        .iter()
        .filter(|n| !columns.iter().any(|c| c.column == **n))
        .map(|n| match V05_ALIASES.iter().find(|(_, new)| new == n) {
            Some((old, _)) if version == "0.5" => format!("{n} (FOCUS 0.5: {old})"),
            _ => n.to_string(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not a FOCUS file: no {} column",
            missing.join(", ")
        ));
    }
    let billed_cost = columns.iter().position(|c| c.column == "BilledCost");
    Ok(Box::new(FocusMapper {
        columns,
        billed_cost,
        version,
    }))
}

impl FocusMapper {
    /// Reads one cell into `row`.
    fn read(
        &self,
        source: &SourceColumn,
        cell: Option<Cell<'_>>,
        row: &mut CostRow,
        notes: &mut Notes,
    ) -> Result<(), FieldError> {
        let bad = |reason: String| FieldError::new(source.name.as_str(), reason);
        let value = match source.ty {
            ColumnType::Float => values::cell_number(cell)
                .map_err(bad)?
                .map_or(Value::Null, Value::Float),
            ColumnType::Timestamp => Value::opt_ts(values::cell_time(cell).map_err(bad)?),
            _ if source.column == "Tags" => {
                let tags = values::cell_tags_object(cell).map_err(bad)?;
                if let (Some(Cell::Text(s)), Some(_)) = (cell, &tags)
                    && !s.trim_start().starts_with('{')
                {
                    *notes
                        .entry("Tags: JSON object without braces".into())
                        .or_default() += 1;
                }
                Value::opt_text(tags.map(|t| Json::Object(t).to_string()))
            }
            _ => Value::opt_text(values::cell_text(cell)),
        };
        row.set_at(source.index, value);
        Ok(())
    }
}

impl RecordMapper for FocusMapper {
    fn map(&self, record: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        let mut row = CostRow::new();
        for source in &self.columns {
            let cell = record.cell_at(source.position, &source.name);
            self.read(source, cell, &mut row, notes)?;
        }
        if let Some(source) = self.billed_cost.and_then(|i| self.columns.get(i))
            && let Some(Cell::Text(s)) = record.cell_at(source.position, &source.name)
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
    fn focus_0_5_names_stand_for_their_successors() {
        let h = header(&[
            "InvoiceIssuer",
            "ResourceID",
            "ChargeType",
            "Provider",
            "BillingAccountId",
            "Publisher",
            "BilledCurrency",
            "BillingPeriodStart",
            "Region",
            "ChargePeriodStart",
            "BilledCost",
            "AmortizedCost",
        ]);
        assert!(looks_like(&h));
        assert_eq!(version(&h), "0.5");
        let fields = serde_json::json!({
            "InvoiceIssuer": "test-entity-1", "ResourceID": "r1", "ChargeType": "Purchase",
            "Provider": "A", "BillingAccountId": "a1", "Publisher": "Publisher1",
            "BilledCurrency": "AUD", "BillingPeriodStart": "2023-06-01T00:00:00Z",
            "Region": "A", "ChargePeriodStart": "2023-06-01T00:00:00Z",
            "BilledCost": "0.1", "AmortizedCost": "0.01",
        });
        let r = SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default());
        let m = mapper(&h).unwrap();
        assert_eq!(m.focus_version(), Some("0.5"));
        let row = m.map(&r, &mut Notes::new()).unwrap().remove(0);
        assert_eq!(row.number("EffectiveCost"), Some(0.01));
        assert_eq!(row.text("BillingCurrency"), Some("AUD"));
        assert_eq!(row.text("ChargeCategory"), Some("Purchase"));
        assert_eq!(row.text("ProviderName"), Some("A"));
        assert_eq!(row.text("PublisherName"), Some("Publisher1"));
        assert_eq!(row.text("InvoiceIssuerName"), Some("test-entity-1"));
        assert_eq!(row.text("ResourceId"), Some("r1"));
        assert_eq!(row.text("RegionId"), Some("A"));
        assert_eq!(row.text("x_focus_version"), Some("0.5"));
        // A 1.x file keeps its own columns; `Region` is not read as RegionId there.
        let v1 = header(&[
            "BilledCost",
            "EffectiveCost",
            "BillingCurrency",
            "ChargePeriodStart",
            "Region",
        ]);
        assert_eq!(version(&v1), "1.0");
        assert_eq!(focus_column("Region", &v1, false), None);
        assert!(!looks_like(&header(&["BilledCost", "ChargeType"])));
    }

    #[test]
    fn header_without_costs_is_not_focus() {
        let err = mapper(&header(&["BilledCost", "Foo"])).err().unwrap();
        assert!(err.contains("EffectiveCost"), "{err}");
    }
}
