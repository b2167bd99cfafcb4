//! FOCUS conformance checks (`queries/focus/`, `northstar check`) over hand-written
//! FOCUS 1.2 files: one conformant, one with known violations, counted by hand below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use northstar::billing::{CostImportOptions, import_costs};
use northstar::config::MetricSettings;
use northstar::engine::Engine;
use northstar::engine::focus_checks::{self, RuleResult};
use northstar::lake::Lake;

use crate::support::{query, temp_lake, write_file};

/// The columns of both files, FOCUS 1.2 (InvoiceId) with every mandatory column.
const COLUMNS: &[&str] = &[
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "BillingAccountId",
    "BillingAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "InvoiceId",
    "InvoiceIssuerName",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "PricingQuantity",
    "PricingUnit",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "PricingCategory",
    "SkuId",
    "SkuPriceId",
    "CommitmentDiscountId",
    "CommitmentDiscountCategory",
    "CommitmentDiscountStatus",
    "Tags",
];

/// A conformant Usage line: 20 VM hours at a list price of 0.6 and a contracted
/// price of 0.5 (ListCost 12, ContractedCost 10).
fn usage_line() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("BilledCost", "10"),
        ("EffectiveCost", "10"),
        ("ListCost", "12"),
        ("ContractedCost", "10"),
        ("BillingCurrency", "USD"),
        ("BillingAccountId", "acct-1"),
        ("BillingAccountName", "Acme"),
        ("BillingPeriodStart", "2024-09-01T00:00:00Z"),
        ("BillingPeriodEnd", "2024-10-01T00:00:00Z"),
        ("ChargePeriodStart", "2024-09-14T00:00:00Z"),
        ("ChargePeriodEnd", "2024-09-15T00:00:00Z"),
        ("ChargeCategory", "Usage"),
        ("ChargeDescription", "VM hours"),
        ("ChargeFrequency", "Usage-Based"),
        ("InvoiceId", "inv-9"),
        ("InvoiceIssuerName", "Cloud Inc"),
        ("ProviderName", "Cloud Inc"),
        ("PublisherName", "Cloud Inc"),
        ("ServiceCategory", "Compute"),
        ("ServiceName", "VM"),
        ("PricingQuantity", "20"),
        ("PricingUnit", "Hours"),
        ("ListUnitPrice", "0.6"),
        ("ContractedUnitPrice", "0.5"),
        ("PricingCategory", "Standard"),
        ("SkuId", "sku-vm"),
        ("SkuPriceId", "price-vm"),
        ("Tags", r#"{"team":"checkout"}"#),
    ])
}

/// `usage_line` with some columns changed ("" = empty).
fn line(changes: &[(&'static str, &'static str)]) -> BTreeMap<&'static str, &'static str> {
    let mut l = usage_line();
    l.extend(changes.iter().copied());
    l
}

/// A CSV of `columns` and `lines` (missing values empty), quoted where needed.
fn csv(columns: &[&str], lines: &[BTreeMap<&str, &str>]) -> String {
    let cell = |v: &str| {
        if v.contains([',', '"']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let mut out = columns.join(",") + "\n";
    for l in lines {
        let row: Vec<String> = columns
            .iter()
            .map(|c| cell(l.get(c).copied().unwrap_or("")))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Five conformant lines: usage, storage, a credit, a commitment purchase and the
/// usage it covers.
fn conformant_csv() -> String {
    let mut columns = COLUMNS.to_vec();
    columns.push("x_Team");
    let lines = [
        line(&[("x_Team", "checkout")]),
        line(&[
            ("BilledCost", "5"),
            ("EffectiveCost", "5"),
            ("ListCost", "5"),
            ("ContractedCost", "5"),
            ("ServiceCategory", "Storage"),
            ("ServiceName", "Blob"),
            ("PricingQuantity", "100"),
            ("PricingUnit", "GB-Months"),
            ("ListUnitPrice", "0.05"),
            ("ContractedUnitPrice", "0.05"),
            ("SkuId", "sku-blob"),
            ("SkuPriceId", "price-blob"),
            ("Tags", ""),
        ]),
        line(&[
            ("BilledCost", "-2"),
            ("EffectiveCost", "-2"),
            ("ListCost", "-2"),
            ("ContractedCost", "-2"),
            ("ChargeCategory", "Credit"),
            ("ChargeFrequency", "One-Time"),
            ("PricingQuantity", ""),
            ("PricingUnit", ""),
            ("ListUnitPrice", ""),
            ("ContractedUnitPrice", ""),
            ("PricingCategory", ""),
            ("SkuId", ""),
            ("SkuPriceId", ""),
        ]),
        line(&[
            ("BilledCost", "100"),
            ("EffectiveCost", "0"),
            ("ListCost", "100"),
            ("ContractedCost", "100"),
            ("ChargeCategory", "Purchase"),
            ("ChargeFrequency", "One-Time"),
            ("ServiceName", "Savings Plan"),
            ("PricingQuantity", "1"),
            ("PricingUnit", "Commitment"),
            ("ListUnitPrice", "100"),
            ("ContractedUnitPrice", "100"),
            ("SkuId", "sku-sp"),
            ("SkuPriceId", "price-sp"),
            ("CommitmentDiscountId", "cd-1"),
            ("CommitmentDiscountCategory", "Spend"),
        ]),
        line(&[
            ("BilledCost", "0"),
            ("EffectiveCost", "8"),
            ("PricingCategory", "Committed"),
            ("CommitmentDiscountId", "cd-1"),
            ("CommitmentDiscountCategory", "Spend"),
            ("CommitmentDiscountStatus", "Used"),
        ]),
    ];
    csv(&columns, &lines)
}

/// Nine lines of another account, each but the first breaking one rule. The file
/// has no ChargeDescription column, a custom column without the x_ prefix (`Team`)
/// and SkuPriceId spelt `SkuPriceid`.
fn violations_csv() -> String {
    let mut columns: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "ChargeDescription")
        .map(|c| if c == "SkuPriceId" { "SkuPriceid" } else { c })
        .collect();
    columns.push("Team");
    let acct = ("BillingAccountId", "acct-2");
    let spelt = |l: BTreeMap<&'static str, &'static str>| {
        let mut l = l;
        if let Some(v) = l.remove("SkuPriceId") {
            l.insert("SkuPriceid", v);
        }
        l.insert("Team", "payments");
        l
    };
    let lines = [
        // 1: a case variant the reader re-spells (a note, not a violation).
        line(&[acct, ("ChargeFrequency", "Usage-based")]),
        // 2: ChargeCategory-C-003-M.
        line(&[acct, ("ChargeCategory", "Refund")]),
        // 3: BillingCurrency-C-003-M and BillingCurrency-C-006-M.
        line(&[acct, ("BillingCurrency", "usd")]),
        // 4: ServiceName-C-003-M.
        line(&[acct, ("ServiceName", "")]),
        // 5: ChargePeriodEnd-C-004-M.
        line(&[
            acct,
            ("ChargePeriodStart", "2024-09-20T00:00:00Z"),
            ("ChargePeriodEnd", "2024-09-19T00:00:00Z"),
        ]),
        // 6: EffectiveCost-C-010-C: a credit whose EffectiveCost is not its BilledCost.
        line(&[
            acct,
            ("BilledCost", "-3"),
            ("EffectiveCost", "-1"),
            ("ListCost", "-3"),
            ("ContractedCost", "-3"),
            ("ChargeCategory", "Credit"),
            ("ChargeFrequency", "One-Time"),
            ("PricingQuantity", ""),
            ("PricingUnit", ""),
            ("ListUnitPrice", ""),
            ("ContractedUnitPrice", ""),
            ("PricingCategory", ""),
            ("SkuId", ""),
            ("SkuPriceId", ""),
        ]),
        // 7: ListCost-C-009-C: 0.6 × 20 = 12, not 50.
        line(&[acct, ("ListCost", "50")]),
        // 8: ServiceName-C-005-C: "VM" is Compute everywhere else.
        line(&[acct, ("ServiceCategory", "Storage")]),
        // 9: Tags-C-001-M: a nested value.
        line(&[acct, ("Tags", r#"{"team":{"name":"payments"}}"#)]),
    ];
    let lines: Vec<_> = lines.into_iter().map(spelt).collect();
    csv(&columns, &lines)
}

async fn import(lake: &Lake, files: &[PathBuf]) {
    import_costs(lake, files, &CostImportOptions::default())
        .await
        .expect("import costs");
}

async fn results(lake: &Lake) -> Vec<RuleResult> {
    let engine = Engine::open(lake, &MetricSettings::default())
        .await
        .expect("engine");
    focus_checks::run(&engine).await.expect("FOCUS checks")
}

fn by_id(results: &[RuleResult]) -> BTreeMap<&str, &RuleResult> {
    results.iter().map(|r| (r.rule_id.as_str(), r)).collect()
}

fn write_both(dir: &Path) -> Vec<PathBuf> {
    vec![
        write_file(dir, "conformant.csv", &conformant_csv()),
        write_file(dir, "violations.csv", &violations_csv()),
    ]
}

/// Rules no line of the conformant file is subject to (no Tax line, no ChargeClass,
/// no CapacityReservationStatus or ServiceSubcategory column).
const NOT_APPLICABLE_TO_CONFORMANT: &[&str] = &[
    "CapacityReservationStatus-C-006-M",
    "ChargeClass-C-005-C",
    "ListUnitPrice-C-004-C",
    "PricingCategory-C-003-C",
    "PricingQuantity-C-004-C",
    "ServiceSubcategory-C-003-M",
    "ServiceSubcategory-C-004-M",
];

#[tokio::test]
async fn a_conformant_file_passes_every_rule() {
    let (dir, lake) = temp_lake();
    import(
        &lake,
        &[write_file(dir.path(), "conformant.csv", &conformant_csv())],
    )
    .await;
    let results = results(&lake).await;
    assert!(results.len() >= 40, "{} rules", results.len());
    let ids: BTreeSet<&str> = results.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(ids.len(), results.len(), "rule ids are unique");
    let failed: Vec<&RuleResult> = results.iter().filter(|r| !r.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // Every rule checked something, except those no line is subject to: a rule id
    // misspelt between a file's rule list and its verdicts would check nothing.
    let unchecked: BTreeSet<&str> = results
        .iter()
        .filter(|r| r.checked == 0)
        .map(|r| r.rule_id.as_str())
        .collect();
    let expected: BTreeSet<&str> = NOT_APPLICABLE_TO_CONFORMANT.iter().copied().collect();
    assert_eq!(unchecked, expected);
    let ids = by_id(&results);
    // 5 lines; presence and column-name rules count the one file; 3 service names
    // (VM, Blob, Savings Plan) and 3 SKU prices.
    assert_eq!(ids["BilledCost-C-003-M"].checked, 5);
    assert_eq!(ids["CostAndUsage-D-006-M"].checked, 1);
    assert_eq!(ids["ColumnHandling-A-010-M"].checked, 1);
    assert_eq!(ids["ServiceName-C-005-C"].checked, 3);
    assert_eq!(ids["SkuPriceId-C-008-M"].checked, 3);
    assert_eq!(ids["EffectiveCost-C-010-C"].checked, 1, "one credit");
    assert_eq!(
        ids["EffectiveCost-C-005-C"].checked, 1,
        "one commitment purchase"
    );
    assert!(results.iter().all(|r| r.example.is_none()));
}

#[tokio::test]
async fn known_violations_are_counted_per_rule() {
    let (dir, lake) = temp_lake();
    import(&lake, &write_both(dir.path())).await;
    let results = results(&lake).await;
    let ids = by_id(&results);
    // (rule, checked, violations), worked out from the files: 5 + 9 = 14 lines, 2 files.
    let expected: &[(&str, i64, i64)] = &[
        // Presence: violations.csv has no ChargeDescription column.
        ("CostAndUsage-D-025-M", 2, 1),
        ("CostAndUsage-D-006-M", 2, 0),
        // Nullability: line 4 has no ServiceName; every line has a BilledCost.
        ("ServiceName-C-003-M", 14, 1),
        ("BilledCost-C-003-M", 14, 0),
        // Credits (one per file) have no price: PricingQuantity applies to the 12
        // Usage/Purchase lines, not to the Refund.
        ("PricingQuantity-C-005-C", 11, 0),
        // Allowed values: "Refund"; "Usage-based" was re-spelt by the reader.
        ("ChargeCategory-C-003-M", 14, 1),
        ("ChargeFrequency-C-003-M", 14, 0),
        ("ServiceCategory-C-003-M", 14, 0),
        // Formats: "usd" is neither upper case nor an ISO 4217 code.
        ("BillingCurrency-C-003-M", 14, 1),
        ("BillingCurrency-C-006-M", 14, 1),
        // Tags on 4 conformant lines and all 9 violation lines, one nested.
        ("Tags-C-001-M", 13, 1),
        // Column names: `SkuPriceid` and `Team`, both in violations.csv.
        ("ColumnHandling-A-001-M", 2, 1),
        ("ColumnHandling-A-010-M", 2, 1),
        // Consistency.
        ("ChargePeriodEnd-C-004-M", 14, 1),
        ("ChargePeriodStart-X-001-O", 14, 0),
        ("EffectiveCost-C-010-C", 2, 1),
        ("ListCost-C-008-C", 2, 0),
        ("ContractedCost-C-008-C", 2, 0),
        // Lines with a list price: 14 minus the 2 credits.
        ("ListCost-C-009-C", 12, 1),
        ("ContractedUnitPrice-C-011-C", 12, 0),
        // Per provider: VM (Compute, and Storage on line 8), Blob, Savings Plan.
        ("ServiceName-C-005-C", 3, 1),
    ];
    for (rule, checked, violations) in expected {
        let r = ids
            .get(rule)
            .unwrap_or_else(|| panic!("no result for {rule}"));
        assert_eq!(
            (r.checked, r.violations),
            (*checked, *violations),
            "{rule}: {r:?}"
        );
    }
    // Nothing else fails.
    let listed: BTreeSet<&str> = expected.iter().map(|(rule, _, _)| *rule).collect();
    let unexpected: Vec<&RuleResult> = results
        .iter()
        .filter(|r| !r.passed() && !listed.contains(r.rule_id.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    // Examples name the offending line, file or service.
    assert_eq!(
        ids["CostAndUsage-D-025-M"].example.as_deref(),
        Some(dir.path().join("violations.csv").to_string_lossy().as_ref())
    );
    assert_eq!(ids["ServiceName-C-005-C"].example.as_deref(), Some("VM"));
    let refund = ids["ChargeCategory-C-003-M"]
        .example
        .clone()
        .expect("example");
    let rows = query(
        &lake,
        &format!("SELECT \"ChargeCategory\" AS c FROM costs WHERE x_line_id = '{refund}'"),
    )
    .await;
    assert_eq!(rows[0]["c"], "Refund");
}

#[tokio::test]
async fn case_variants_are_reader_notes_not_violations() {
    let (dir, lake) = temp_lake();
    import(&lake, &write_both(dir.path())).await;
    let engine = Engine::open(&lake, &MetricSettings::default())
        .await
        .expect("engine");
    let notes = focus_checks::reader_notes(&engine).await.expect("notes");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].file.ends_with("violations.csv"), "{notes:?}");
    assert_eq!(
        notes[0].notes,
        vec!["ChargeFrequency: 'Usage-based' read as 'Usage-Based' (1)"]
    );
    let rows = query(
        &lake,
        "SELECT count(*) AS n FROM costs WHERE \"ChargeFrequency\" = 'Usage-Based'",
    )
    .await;
    assert_eq!(rows[0]["n"], 11, "every Usage line reads Usage-Based");
}

fn northstar(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args(args)
        .output()
        .expect("run northstar")
}

#[tokio::test]
async fn cli_reports_focus_rules_as_json_and_fails_only_when_strict() {
    let (dir, lake) = temp_lake();
    import(&lake, &write_both(dir.path())).await;
    let lake_dir = dir.path().join("lake").to_string_lossy().into_owned();
    let out = northstar(&["--lake", &lake_dir, "check", "--focus-only", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json array");
    let rules = rules.as_array().expect("array");
    let refund = rules
        .iter()
        .find(|r| r["rule_id"] == "ChargeCategory-C-003-M")
        .expect("ChargeCategory-C-003-M");
    assert_eq!(refund["violations"], 1);
    assert_eq!(refund["checked"], 14);
    assert_eq!(refund["column"], "ChargeCategory");
    assert!(refund["example"].is_string());
    let text = northstar(&["--lake", &lake_dir, "check", "--focus-only"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{stdout}");
    assert!(
        stdout.contains("FAIL ChargeCategory-C-003-M ChargeCategory: 1/14 (e.g. line "),
        "{stdout}"
    );
    assert!(
        stdout.contains("PASS BilledCost-C-003-M BilledCost: 0/14"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ChargeFrequency: 'Usage-based' read as 'Usage-Based' (1)"),
        "{stdout}"
    );
    let strict = northstar(&["--lake", &lake_dir, "check", "--focus-only", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("FOCUS conformance"),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
}
