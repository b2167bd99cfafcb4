//! Azure cost details exports: Enterprise Agreement (PascalCase: `Cost` or
//! `CostInBillingCurrency`, `Date` as M/D/YYYY, brace-less `Tags`) and Microsoft
//! Customer Agreement (camelCase: `costInBillingCurrency`, `date`), actual or
//! amortized; and the legacy subscription-scope usage export (`PreTaxCost`,
//! `UsageDateTime`, `SubscriptionGuid`, `Currency`), which has no `ChargeType`
//! (every row is usage) and no billing account (the subscription stands in).
//!
//! The two datasets have the same columns, so a file does not say which one it
//! is. It does not need to: one rule per row, after Microsoft's FOCUS conversion
//! (finops-toolkit `docs-mslearn/focus/mapping.md`), gives the right pair of
//! costs in both:
//!
//! * usage covered by a reservation or savings plan (`ChargeType` Usage,
//!   `PricingModel` Reservation/SavingsPlan) and `UnusedReservation` /
//!   `UnusedSavingsPlan`: the amortized share of a commitment paid for elsewhere,
//!   so BilledCost 0 and EffectiveCost = cost (0 in an actual export, where such
//!   usage costs 0 and the unused rows do not exist);
//! * the purchase (or refund) of a reservation or savings plan: billed when
//!   bought, amortized into the usage above, so BilledCost = cost and
//!   EffectiveCost 0;
//! * everything else: BilledCost = EffectiveCost = cost.
//!
//! So Σ BilledCost of an actual export is the invoice and Σ EffectiveCost of an
//! amortized export is the amortized cost, and neither counts a commitment twice.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::RecordMapper;
use super::row::{CostRow, FieldError, Notes};
use super::tabular::SourceRecord;
use super::values;

/// Field → the column names exports use for it (EA old, EA new, MCA), matched
/// without regard to case.
const FIELDS: &[(&str, &[&str])] = &[
    ("cost", &["CostInBillingCurrency", "Cost", "PreTaxCost"]),
    (
        "currency",
        &["BillingCurrencyCode", "BillingCurrency", "Currency"],
    ),
    ("date", &["Date", "UsageDateTime"]),
    ("account", &["BillingAccountId"]),
    ("account_name", &["BillingAccountName"]),
    ("profile", &["BillingProfileId"]),
    ("profile_name", &["BillingProfileName"]),
    ("period_start", &["BillingPeriodStartDate"]),
    ("period_end", &["BillingPeriodEndDate"]),
    ("subscription", &["SubscriptionId", "SubscriptionGuid"]),
    ("subscription_name", &["SubscriptionName"]),
    ("charge_type", &["ChargeType"]),
    ("pricing_model", &["PricingModel"]),
    ("frequency", &["Frequency"]),
    ("product", &["ProductName", "Product"]),
    ("meter_category", &["MeterCategory"]),
    ("meter_name", &["MeterName"]),
    ("meter_id", &["MeterId"]),
    ("product_id", &["ProductId"]),
    ("consumed_service", &["ConsumedService"]),
    ("resource_id", &["ResourceId", "InstanceId", "InstanceName"]),
    ("resource_name", &["ResourceName"]),
    ("location", &["ResourceLocation"]),
    ("zone", &["AvailabilityZone"]),
    ("quantity", &["Quantity", "UsageQuantity"]),
    ("unit", &["UnitOfMeasure"]),
    ("unit_price", &["UnitPrice", "ResourceRate"]),
    ("payg_price", &["PayGPrice"]),
    ("payg_cost", &["PaygCostInBillingCurrency"]),
    ("exchange_rate", &["ExchangeRatePricingToBilling"]),
    ("tags", &["Tags"]),
    ("reservation_id", &["ReservationId"]),
    ("reservation_name", &["ReservationName"]),
    ("benefit_id", &["benefitId"]),
    ("benefit_name", &["benefitName"]),
    ("publisher", &["PublisherName"]),
    ("partner", &["PartnerName"]),
    ("invoice", &["InvoiceId"]),
];

/// One day in microseconds.
const DAY_US: i64 = 86_400_000_000;

/// Columns MCA exports have and EA exports do not.
const MCA_ONLY: &[&str] = &["CostInPricingCurrency", "ExchangeRatePricingToBilling"];

/// Reads Azure cost details by field, whatever the export calls the columns.
pub struct AzureMapper {
    columns: HashMap<&'static str, String>,
    /// MCA: the billing profile is the FOCUS billing account.
    mca: bool,
}

/// A mapper for an Azure cost details header.
pub fn mapper(header: &[String]) -> Result<Box<dyn RecordMapper>, String> {
    let columns: HashMap<&'static str, String> = FIELDS
        .iter()
        .filter_map(|(field, names)| values::find_column(header, names).map(|c| (*field, c)))
        .collect();
    for (field, name) in [
        ("cost", "Cost, CostInBillingCurrency or PreTaxCost"),
        (
            "currency",
            "BillingCurrency, BillingCurrencyCode or Currency",
        ),
        ("date", "Date or UsageDateTime"),
    ] {
        if !columns.contains_key(field) {
            return Err(format!(
                "not an Azure cost details export: no {name} column"
            ));
        }
    }
    let mca = values::find_column(header, MCA_ONLY).is_some();
    Ok(Box::new(AzureMapper { columns, mca }))
}

impl AzureMapper {
    fn col(&self, field: &str) -> Option<&str> {
        self.columns.get(field).map(String::as_str)
    }

    fn text(&self, r: &SourceRecord, field: &str) -> Option<String> {
        values::text_in(r, self.col(field))
    }

    fn number(&self, r: &SourceRecord, field: &str) -> Result<Option<f64>, FieldError> {
        values::number_in(r, self.col(field))
    }

    fn time(&self, r: &SourceRecord, field: &str) -> Result<Option<i64>, FieldError> {
        values::time_in(r, self.col(field))
    }
}

/// What a row is, from `ChargeType` and `PricingModel`.
struct Kind {
    charge_type: String,
    /// `Reservation` or `SavingsPlan` (the row concerns a commitment).
    commitment: Option<&'static str>,
}

impl Kind {
    fn is(&self, charge_type: &str) -> bool {
        self.charge_type.eq_ignore_ascii_case(charge_type)
    }

    /// Amortized commitment cost: covered usage and the unused remainder.
    fn is_amortized_share(&self) -> bool {
        self.is("UnusedReservation")
            || self.is("UnusedSavingsPlan")
            || (self.is("Usage") && self.commitment.is_some())
    }

    /// Buying (or being refunded) a commitment.
    fn is_commitment_purchase(&self) -> bool {
        (self.is("Purchase") || self.is("Refund")) && self.commitment.is_some()
    }
}

impl RecordMapper for AzureMapper {
    fn map(&self, r: &SourceRecord, notes: &mut Notes) -> Result<Vec<CostRow>, FieldError> {
        let kind = self.kind(r);
        if self.col("charge_type").is_none() {
            *notes
                .entry("ChargeType: no such column (legacy usage export), read as Usage".into())
                .or_default() += 1;
        }
        let mut row = CostRow::new();
        self.costs(r, &kind, &mut row)?;
        self.periods(r, &mut row)?;
        if self.accounts(r, &mut row) {
            *notes
                .entry(
                    "BillingAccountId: no billing account or profile, the subscription used".into(),
                )
                .or_default() += 1;
        }
        set_charge(&kind, self.text(r, "frequency"), &mut row);
        self.resource(r, &mut row);
        self.commitment(r, &kind, &mut row);
        self.tags(r, notes, &mut row)?;
        row.set_text("x_provider", Some("Microsoft"));
        Ok(vec![row])
    }
}

impl AzureMapper {
    fn kind(&self, r: &SourceRecord) -> Kind {
        // The legacy usage export has no ChargeType: it lists usage only.
        let charge_type = match self.col("charge_type") {
            Some(_) => self.text(r, "charge_type").unwrap_or_default(),
            None => "Usage".to_string(),
        };
        let model = self.text(r, "pricing_model").unwrap_or_default();
        let commitment = if model.eq_ignore_ascii_case("Reservation")
            || charge_type.eq_ignore_ascii_case("UnusedReservation")
        {
            Some("Reservation")
        } else if model.eq_ignore_ascii_case("SavingsPlan")
            || charge_type.eq_ignore_ascii_case("UnusedSavingsPlan")
        {
            Some("SavingsPlan")
        } else {
            None
        };
        Kind {
            charge_type,
            commitment,
        }
    }

    fn costs(&self, r: &SourceRecord, kind: &Kind, row: &mut CostRow) -> Result<(), FieldError> {
        let cost_column = self.col("cost").unwrap_or("Cost");
        let cost = self
            .number(r, "cost")?
            .ok_or_else(|| FieldError::new(cost_column, "required value is missing"))?;
        let billed = if kind.is_amortized_share() { 0.0 } else { cost };
        let effective = if kind.is_commitment_purchase() {
            0.0
        } else {
            cost
        };
        row.set_number("BilledCost", Some(billed));
        row.set_number("EffectiveCost", Some(effective));
        let quantity = self.number(r, "quantity")?;
        let rate = self.number(r, "exchange_rate")?.unwrap_or(1.0);
        let payg_price = self.number(r, "payg_price")?;
        let unit_price = self.number(r, "unit_price")?;
        let one_off =
            (!kind.is("Usage") && kind.commitment.is_none()) || kind.is_commitment_purchase();
        let list = match self.number(r, "payg_cost")? {
            Some(c) => Some(c),
            None if one_off => Some(cost),
            None => payg_price.zip(quantity).map(|(p, q)| p * q * rate),
        };
        let contracted = if one_off {
            Some(cost)
        } else {
            unit_price.zip(quantity).map(|(p, q)| p * q * rate)
        };
        row.set_number("ListCost", list);
        row.set_number("ContractedCost", contracted);
        row.set_number("ListUnitPrice", payg_price);
        row.set_number("ContractedUnitPrice", unit_price);
        row.set_number("PricingQuantity", quantity);
        row.set_text("PricingUnit", self.text(r, "unit"));
        if kind.is("Usage") {
            row.set_number("ConsumedQuantity", quantity);
            row.set_text("ConsumedUnit", self.text(r, "unit"));
        }
        Ok(())
    }

    /// The charge day (`Date` + 1 day) and the billing period, whose inclusive
    /// `BillingPeriodEndDate` becomes FOCUS's exclusive end.
    fn periods(&self, r: &SourceRecord, row: &mut CostRow) -> Result<(), FieldError> {
        let day = self.time(r, "date")?;
        row.set_time("ChargePeriodStart", day);
        row.set_time("ChargePeriodEnd", day.map(|d| d + DAY_US));
        row.set_time("BillingPeriodStart", self.time(r, "period_start")?);
        let end = self.time(r, "period_end")?;
        row.set_time("BillingPeriodEnd", end.map(|d| d + DAY_US));
        Ok(())
    }

    /// Accounts as Microsoft's own FOCUS export writes them (ARM ids), so a
    /// native export and a FOCUS export of the same bill land on the same account.
    /// A subscription-scope export without billing account or profile is filed
    /// under its subscription (`/subscriptions/<id>`); returns whether it was.
    fn accounts(&self, r: &SourceRecord, row: &mut CostRow) -> bool {
        let account = self.text(r, "account");
        let profile = self.text(r, "profile");
        let subscription = self
            .text(r, "subscription")
            .map(|s| arm_id("/subscriptions/", &s));
        let by_subscription = account.is_none() && profile.is_none() && subscription.is_some();
        let (id, name) = match (self.mca, &account, &profile) {
            (true, Some(a), Some(p)) => (
                Some(arm_id(
                    &format!("/providers/Microsoft.Billing/billingAccounts/{a}/billingProfiles/"),
                    p,
                )),
                self.text(r, "profile_name"),
            ),
            _ => (
                account
                    .or(profile)
                    .map(|a| arm_id("/providers/Microsoft.Billing/billingAccounts/", &a)),
                self.text(r, "account_name")
                    .or_else(|| self.text(r, "profile_name")),
            ),
        };
        let id = id.or_else(|| subscription.clone());
        row.set_text("BillingAccountId", id);
        row.set_text("BillingAccountName", name);
        row.set_text("BillingCurrency", self.text(r, "currency"));
        row.set_text("SubAccountId", subscription);
        row.set_text("SubAccountName", self.text(r, "subscription_name"));
        row.set_text("InvoiceId", self.text(r, "invoice"));
        row.set_text("ProviderName", Some("Microsoft"));
        row.set_text(
            "PublisherName",
            self.text(r, "publisher").or(Some("Microsoft".into())),
        );
        row.set_text(
            "InvoiceIssuerName",
            self.text(r, "partner").or(Some("Microsoft".into())),
        );
        by_subscription
    }

    fn resource(&self, r: &SourceRecord, row: &mut CostRow) {
        let service = self
            .text(r, "meter_category")
            .or_else(|| self.text(r, "consumed_service"));
        row.set_text(
            "ServiceCategory",
            service.as_deref().map(values::service_category),
        );
        row.set_text("ServiceName", service);
        row.set_text("ChargeDescription", self.text(r, "product"));
        let resource_id = self.text(r, "resource_id");
        row.set_text(
            "ResourceType",
            resource_id.as_deref().and_then(resource_type),
        );
        row.set_text("ResourceId", resource_id);
        row.set_text("ResourceName", self.text(r, "resource_name"));
        let location = self.text(r, "location");
        row.set_text("RegionId", location.as_deref().map(region_id));
        row.set_text("RegionName", location);
        row.set_text("AvailabilityZone", self.text(r, "zone"));
        let sku = self
            .text(r, "product_id")
            .or_else(|| self.text(r, "meter_id"));
        row.set_text("SkuId", sku);
        row.set_text("SkuMeter", self.text(r, "meter_name"));
        let model = self.text(r, "pricing_model");
        row.set_text(
            "PricingCategory",
            model.as_deref().and_then(pricing_category),
        );
    }

    fn commitment(&self, r: &SourceRecord, kind: &Kind, row: &mut CostRow) {
        let Some(commitment) = kind.commitment else {
            return;
        };
        let id = self
            .text(r, "benefit_id")
            .or_else(|| self.text(r, "reservation_id"));
        let name = self
            .text(r, "benefit_name")
            .or_else(|| self.text(r, "reservation_name"));
        let (category, type_name) = match commitment {
            "Reservation" => ("Usage", "Reservation"),
            _ => ("Spend", "Savings Plan"),
        };
        row.set_text("CommitmentDiscountId", id);
        row.set_text("CommitmentDiscountName", name);
        row.set_text("CommitmentDiscountCategory", Some(category));
        row.set_text("CommitmentDiscountType", Some(type_name));
        if kind.is("Usage") {
            row.set_text("CommitmentDiscountStatus", Some("Used"));
        } else if kind.is("UnusedReservation") || kind.is("UnusedSavingsPlan") {
            row.set_text("CommitmentDiscountStatus", Some("Unused"));
        }
    }

    fn tags(
        &self,
        r: &SourceRecord,
        notes: &mut Notes,
        row: &mut CostRow,
    ) -> Result<(), FieldError> {
        let Some(column) = self.col("tags") else {
            return Ok(());
        };
        let cell = r.get(column);
        let tags = values::tags_object(cell).map_err(|e| FieldError::new(column, e))?;
        if let (Some(Json::String(s)), Some(_)) = (cell, &tags)
            && !s.trim_start().starts_with('{')
        {
            *notes
                .entry("Tags: JSON object without braces".into())
                .or_default() += 1;
        }
        row.set_text("Tags", tags.and_then(values::tags_json));
        Ok(())
    }
}

/// `id` as an ARM id under `prefix`, unless it already is one.
fn arm_id(prefix: &str, id: &str) -> String {
    if id.starts_with('/') {
        id.to_string()
    } else {
        format!("{prefix}{id}")
    }
}

/// `Microsoft.Compute/virtualMachines` from a resource id's last provider segment.
fn resource_type(resource_id: &str) -> Option<String> {
    let (_, after) = resource_id.rsplit_once("/providers/")?;
    let mut parts = after.split('/');
    let namespace = parts.next().filter(|n| n.contains('.'))?;
    let kind = parts.next()?;
    Some(format!("{namespace}/{kind}"))
}

/// `East US` / `EastUS` → `eastus`, the spelling of Azure's region names.
fn region_id(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn pricing_category(model: &str) -> Option<&'static str> {
    match model.to_ascii_lowercase().as_str() {
        "ondemand" => Some("Standard"),
        "reservation" | "savingsplan" => Some("Committed"),
        "spot" => Some("Dynamic"),
        _ => None,
    }
}

/// ChargeCategory/ChargeClass from `ChargeType`; ChargeFrequency from `Frequency`
/// (`UsageBased`, `OneTime` are re-spelt by the shared enum check).
fn set_charge(kind: &Kind, frequency: Option<String>, row: &mut CostRow) {
    let category = match kind.charge_type.to_ascii_lowercase().as_str() {
        "usage" | "unusedreservation" | "unusedsavingsplan" => "Usage",
        "purchase" | "refund" => "Purchase",
        "tax" => "Tax",
        "credit" => "Credit",
        _ => "Adjustment",
    };
    row.set_text("ChargeCategory", Some(category));
    if kind.is("Refund") {
        row.set_text("ChargeClass", Some("Correction"));
    }
    let frequency = frequency.or_else(|| (category == "Usage").then(|| "Usage-Based".into()));
    row.set_text("ChargeFrequency", frequency);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(fields: Json) -> CostRow {
        let r = SourceRecord::new(2, fields.as_object().cloned().unwrap_or_default());
        let header: Vec<String> = r.names();
        let mut rows = mapper(&header).unwrap().map(&r, &mut Notes::new()).unwrap();
        rows.remove(0)
    }

    fn ea(charge_type: &str, model: &str, cost: &str) -> Json {
        json!({
            "BillingAccountId": "8611537",
            "BillingPeriodStartDate": "09/01/2023",
            "BillingPeriodEndDate": "09/30/2023",
            "SubscriptionId": "64e355d7",
            "Date": "09/04/2023",
            "Cost": cost,
            "BillingCurrency": "USD",
            "ChargeType": charge_type,
            "PricingModel": model,
            "Frequency": "UsageBased",
            "MeterCategory": "Virtual Machines",
            "Tags": "\"env\": \"prod\"",
            "ResourceId": "/subscriptions/64e355d7/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        })
    }

    #[test]
    fn on_demand_usage_is_billed_and_effective() {
        let row = map(ea("Usage", "OnDemand", "1.5"));
        assert_eq!(row.number("BilledCost"), Some(1.5));
        assert_eq!(row.number("EffectiveCost"), Some(1.5));
        assert_eq!(row.text("Tags"), Some(r#"{"env":"prod"}"#));
        assert_eq!(
            row.text("ResourceType"),
            Some("Microsoft.Compute/virtualMachines")
        );
        assert_eq!(
            row.text("BillingAccountId"),
            Some("/providers/Microsoft.Billing/billingAccounts/8611537")
        );
        let end = values::parse_time("2023-10-01").ok();
        assert_eq!(row.time("BillingPeriodEnd"), end);
    }

    #[test]
    fn commitments_are_counted_once() {
        let usage = map(ea("Usage", "Reservation", "0.4"));
        assert_eq!(usage.number("BilledCost"), Some(0.0));
        assert_eq!(usage.number("EffectiveCost"), Some(0.4));
        assert_eq!(usage.text("CommitmentDiscountStatus"), Some("Used"));
        let purchase = map(ea("Purchase", "Reservation", "100"));
        assert_eq!(purchase.number("BilledCost"), Some(100.0));
        assert_eq!(purchase.number("EffectiveCost"), Some(0.0));
        assert_eq!(purchase.text("ChargeCategory"), Some("Purchase"));
        let unused = map(ea("UnusedSavingsPlan", "SavingsPlan", "3"));
        assert_eq!(unused.number("BilledCost"), Some(0.0));
        assert_eq!(unused.text("CommitmentDiscountStatus"), Some("Unused"));
        let refund = map(ea("Refund", "OnDemand", "-2"));
        assert_eq!(refund.text("ChargeClass"), Some("Correction"));
    }

    #[test]
    fn header_without_cost_is_refused() {
        let err = mapper(&["Date".to_string(), "ChargeType".to_string()])
            .err()
            .unwrap();
        assert!(err.contains("CostInBillingCurrency"), "{err}");
    }

    #[test]
    fn legacy_usage_export_without_charge_type_or_account() {
        let r = SourceRecord::new(
            3,
            json!({
                "SubscriptionGuid": "2639de71",
                "UsageDateTime": "2019-07-28 00:00:00",
                "MeterCategory": "Storage",
                "UsageQuantity": "0.288",
                "ResourceRate": "0.00036",
                "PreTaxCost": "0.00010368",
                "Currency": "USD",
                "Tags": "{\"project\":\"p1\"}",
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        let header: Vec<String> = r.names();
        let mut notes = Notes::new();
        let row = mapper(&header)
            .unwrap()
            .map(&r, &mut notes)
            .unwrap()
            .remove(0);
        assert_eq!(row.number("BilledCost"), Some(0.00010368));
        assert_eq!(row.text("ChargeCategory"), Some("Usage"));
        assert_eq!(
            row.text("BillingAccountId"),
            Some("/subscriptions/2639de71")
        );
        assert_eq!(row.text("SubAccountId"), Some("/subscriptions/2639de71"));
        assert_eq!(row.text("BillingCurrency"), Some("USD"));
        let contracted = row.number("ContractedCost").unwrap_or_default();
        assert!((contracted - 0.00010368).abs() < 1e-12);
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
