//! Native billing exports and FOCUS files into `costs`: every sample reconciles
//! with totals summed straight from the source file (with the `csv` crate and
//! serde_json, not the readers), per billing account, provider, billing month and
//! currency; plus detection, format mismatches, idempotence and bad cells.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use northstar::billing::{CostImportOptions, CostImportSummary, Format, import_costs, read_file};
use northstar::lake::Lake;
use serde_json::Value as Json;

use crate::support::{fixture, query, temp_lake, write_file};

/// (billing account, provider, billing month `YYYY-MM`, currency).
type Key = (String, String, String, String);
/// Σ BilledCost and Σ EffectiveCost per key.
type Totals = BTreeMap<Key, (f64, f64)>;

fn key(account: &str, provider: &str, month: &str, currency: &str) -> Key {
    (
        account.into(),
        provider.into(),
        month.into(),
        currency.into(),
    )
}

fn add(totals: &mut Totals, key: Key, billed: f64, effective: f64) {
    let t = totals.entry(key).or_default();
    t.0 += billed;
    t.1 += effective;
}

/// Totals of the current `costs` lines.
async fn lake_totals(lake: &Lake) -> Totals {
    let sql = "SELECT \"BillingAccountId\" AS a, x_provider AS p, \
               to_char(\"BillingPeriodStart\", '%Y-%m') AS m, \"BillingCurrency\" AS c, \
               sum(\"BilledCost\") AS b, sum(\"EffectiveCost\") AS e \
               FROM costs GROUP BY 1, 2, 3, 4";
    let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
    query(lake, sql)
        .await
        .iter()
        .map(|r| {
            let k = (text(&r["a"]), text(&r["p"]), text(&r["m"]), text(&r["c"]));
            let sum = |v: &Json| v.as_f64().unwrap_or(f64::NAN);
            (k, (sum(&r["b"]), sum(&r["e"])))
        })
        .collect()
}

#[track_caller]
fn assert_totals(file: &str, actual: &Totals, expected: &Totals) {
    let keys = |t: &Totals| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(actual), keys(expected), "{file}: groups");
    for (k, (billed, effective)) in expected {
        let (b, e) = actual[k];
        assert!(
            (b - billed).abs() < 0.005,
            "{file} {k:?}: BilledCost {b} vs source {billed}"
        );
        assert!(
            (e - effective).abs() < 0.005,
            "{file} {k:?}: EffectiveCost {e} vs source {effective}"
        );
    }
}

/// Imports `path` into a fresh lake and checks it against `expected`.
async fn import_and_reconcile(
    path: &Path,
    options: &CostImportOptions,
    expected: &Totals,
) -> (tempfile::TempDir, Lake, CostImportSummary) {
    let (dir, lake) = temp_lake();
    let summary = import_costs(&lake, &[path.to_path_buf()], options)
        .await
        .unwrap_or_else(|e| panic!("import {}: {e}", path.display()));
    let name = path.display().to_string();
    assert_totals(&name, &lake_totals(&lake).await, expected);
    (dir, lake, summary)
}

/// `YYYY-MM` of `2023-11-01T00:00:00.000Z`, `9/1/2023`, `4/1/25` or `202409`.
fn month(s: &str) -> String {
    let s = s.trim();
    if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
        return format!("{}-{}", &s[..4], &s[4..]);
    }
    if s.as_bytes().get(4) == Some(&b'-') {
        return s[..7].to_string();
    }
    let parts: Vec<&str> = s.split(['/', ' ']).collect();
    let m: u32 = parts[0].parse().expect("month");
    let y: u32 = parts[2].parse().expect("year");
    let y = if y < 100 { 2000 + y } else { y };
    format!("{y:04}-{m:02}")
}

/// A money cell as the test reads it: plain, scientific or `$1,000.00 `.
fn money(s: &str) -> f64 {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | ' '))
        .collect();
    if cleaned.is_empty() || cleaned.eq_ignore_ascii_case("null") {
        return 0.0;
    }
    cleaned.parse().unwrap_or_else(|_| panic!("money `{s}`"))
}

/// The rows of a CSV file as column → value maps.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a BTreeMap<String, String>, names: &[&str]) -> &'a str {
    names
        .iter()
        .find_map(|n| row.get(*n))
        .map_or("", String::as_str)
}

// ---------------------------------------------------------------- FOCUS

/// FOCUS totals straight from the file: BilledCost and EffectiveCost as written.
/// Rows with an impossible hour in ChargePeriodEnd (`T30:00:00Z`) are left out:
/// the import quarantines them.
fn focus_expected(path: &Path, defaults: &[(&str, &str)]) -> Totals {
    let default = |name: &str| {
        defaults
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| *v)
    };
    let mut totals = Totals::new();
    for row in csv_rows(path) {
        if get(&row, &["ChargePeriodEnd"]).contains("T30:") {
            continue;
        }
        let value = |name: &str| match row.get(name).map(|v| v.trim()) {
            Some(v) if !v.is_empty() && !v.eq_ignore_ascii_case("null") => v.to_string(),
            _ => default(name).to_string(),
        };
        let provider = match value("ProviderName") {
            p if p.is_empty() => "unknown".to_string(),
            p => p,
        };
        let k = key(
            &value("BillingAccountId"),
            &provider,
            &month(&value("BillingPeriodStart")),
            &value("BillingCurrency"),
        );
        add(
            &mut totals,
            k,
            money(&value("BilledCost")),
            money(&value("EffectiveCost")),
        );
    }
    totals
}

#[tokio::test]
async fn focus_sample_reconciles() {
    let path = fixture("billing/focus-1.0-sample/focus_sample.csv");
    let expected = focus_expected(&path, &[]);
    assert_eq!(expected.len(), 4, "AWS, Microsoft and two Oracle months");
    let (_dir, _lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.lines, 1000);
    assert_eq!(summary.files[0].1, "focus 1.0");
}

fn spec_examples() -> Vec<PathBuf> {
    let pattern = fixture("billing/focus-spec-examples/**/*.csv");
    let mut files: Vec<PathBuf> = glob::glob(&pattern.to_string_lossy())
        .expect("glob")
        .filter_map(Result::ok)
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn focus_spec_examples_reconcile() {
    let files = spec_examples();
    assert_eq!(files.len(), 26, "every spec example");
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let commitment = path.to_string_lossy().contains("commitment_discount");
        let defaults: &[(&str, &str)] = if commitment {
            &[
                ("BillingCurrency", "USD"),
                ("BillingAccountId", "spec-example"),
            ]
        } else {
            &[]
        };
        // The two purchase scenarios with an impossible hour (`T30:00:00Z`).
        let bad_line = match name.as_str() {
            "commitment_discount_purchase_scenario_2.csv" => Some(4),
            "commitment_discount_purchase_scenario_3.csv" => Some(5),
            _ => None,
        };
        let options = CostImportOptions {
            skip_bad: bad_line.is_some(),
            defaults: defaults
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CostImportOptions::default()
        };
        let expected = focus_expected(&path, defaults);
        let (_dir, lake, summary) = import_and_reconcile(&path, &options, &expected).await;
        let quarantined = query(&lake, "SELECT record, field, reason FROM quarantine").await;
        match bad_line {
            Some(line) => {
                assert_eq!(summary.quarantined, 1, "{name}");
                assert_eq!(quarantined.len(), 1, "{name}");
                assert_eq!(quarantined[0]["field"], "ChargePeriodEnd", "{name}");
                assert_eq!(quarantined[0]["record"], line, "{name}");
            }
            None => assert!(quarantined.is_empty(), "{name}: {quarantined:?}"),
        }
    }
}

// ---------------------------------------------------------------- AWS

#[tokio::test]
async fn aws_cur_legacy_sample_reconciles() {
    let path = fixture("billing/aws-cur-legacy/sample-anonymous-aws-export-dataset.csv");
    let mut expected = Totals::new();
    for row in &csv_rows(&path) {
        // Only Usage and Tax lines: EffectiveCost is the unblended cost too.
        let kind = get(row, &["lineItem/LineItemType"]);
        assert!(kind == "Usage" || kind == "Tax", "{kind}");
        let cost = money(get(row, &["lineItem/UnblendedCost"]));
        let k = key(
            get(row, &["bill/PayerAccountId"]),
            "AWS",
            &month(get(row, &["bill/BillingPeriodStartDate"])),
            get(row, &["lineItem/CurrencyCode"]),
        );
        add(&mut expected, k, cost, cost);
    }
    let (_dir, lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.lines, 1281);
    let taxes = query(
        &lake,
        "SELECT count(*) AS n FROM costs WHERE \"ChargeCategory\" = 'Tax' \
         AND \"ChargeFrequency\" = 'Recurring'",
    )
    .await;
    assert_eq!(taxes[0]["n"], 12);
}

/// Sums of the CUR 2.0 fixture below, worked by hand from the recipe: the
/// savings plan's $4 fee covers $3 of usage plus $1 unused, the reservation's $3
/// fee $2.50 of usage plus $0.50 unused.
const CUR2_BILLED: f64 = 10.0 + 5.0 - 5.0 + 4.0 + 0.0 + 3.0 + 1.2 - 0.7;
const CUR2_EFFECTIVE: f64 = 10.0 + 3.0 + 0.0 + 1.0 + 2.5 + 0.5 + 1.2 - 0.7;

/// One CUR 2.0 line: type, unblended cost, and the amortisation columns.
struct Cur2Line {
    kind: &'static str,
    cost: f64,
    sp_effective: Option<f64>,
    sp_total_used: Option<(f64, f64)>,
    ri_effective: Option<f64>,
    ri_unused: Option<(f64, f64)>,
    arn: Option<&'static str>,
    tags: &'static [(&'static str, &'static str)],
}

fn cur2_lines() -> Vec<Cur2Line> {
    let line = |kind, cost| Cur2Line {
        kind,
        cost,
        sp_effective: None,
        sp_total_used: None,
        ri_effective: None,
        ri_unused: None,
        arn: None,
        tags: &[],
    };
    let sp = Some("arn:aws:savingsplans::111122223333:savingsplan/sp-1");
    let ri = Some("arn:aws:ec2:eu-west-1:111122223333:reserved-instances/ri-1");
    vec![
        Cur2Line {
            tags: &[("user:team", "payments"), ("user:env", "prod")],
            ..line("Usage", 10.0)
        },
        Cur2Line {
            sp_effective: Some(3.0),
            arn: sp,
            ..line("SavingsPlanCoveredUsage", 5.0)
        },
        Cur2Line {
            arn: sp,
            ..line("SavingsPlanNegation", -5.0)
        },
        Cur2Line {
            sp_total_used: Some((4.0, 3.0)),
            arn: sp,
            ..line("SavingsPlanRecurringFee", 4.0)
        },
        Cur2Line {
            ri_effective: Some(2.5),
            arn: ri,
            ..line("DiscountedUsage", 0.0)
        },
        Cur2Line {
            ri_unused: Some((0.2, 0.3)),
            arn: ri,
            ..line("RIFee", 3.0)
        },
        line("Tax", 1.2),
        line("Credit", -0.7),
    ]
}

/// The CUR 2.0 fixture as Parquet, with `resource_tags` and `product` map columns.
fn write_cur2_parquet(path: &Path) {
    use datafusion::arrow::array::{
        ArrayRef, Float64Array, MapBuilder, RecordBatch, StringArray, StringBuilder,
        TimestampMicrosecondArray,
    };
    use datafusion::parquet::arrow::ArrowWriter;

    let lines = cur2_lines();
    let n = lines.len();
    let texts = |f: &dyn Fn(&Cur2Line) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(lines.iter().map(f).collect::<Vec<_>>()))
    };
    let numbers = |f: &dyn Fn(&Cur2Line) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(lines.iter().map(f).collect::<Vec<_>>()))
    };
    let times = |at: &str| -> ArrayRef {
        let us = chrono::DateTime::parse_from_rfc3339(at)
            .expect("time")
            .timestamp_micros();
        Arc::new(TimestampMicrosecondArray::from(vec![us; n]).with_timezone("UTC"))
    };
    let map = |entries: &dyn Fn(&Cur2Line) -> Vec<(String, String)>| -> ArrayRef {
        let mut builder = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for l in &lines {
            for (k, v) in entries(l) {
                builder.keys().append_value(k);
                builder.values().append_value(v);
            }
            builder.append(true).expect("map entry");
        }
        Arc::new(builder.finish())
    };
    let is_sp = |l: &Cur2Line| l.kind.starts_with("SavingsPlan");
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "bill_payer_account_id",
            texts(&|_| Some("111122223333".into())),
        ),
        (
            "bill_billing_period_start_date",
            times("2024-09-01T00:00:00Z"),
        ),
        (
            "bill_billing_period_end_date",
            times("2024-10-01T00:00:00Z"),
        ),
        (
            "line_item_usage_account_id",
            texts(&|_| Some("444455556666".into())),
        ),
        ("line_item_line_item_type", texts(&|l| Some(l.kind.into()))),
        ("line_item_usage_start_date", times("2024-09-03T00:00:00Z")),
        ("line_item_usage_end_date", times("2024-09-03T01:00:00Z")),
        (
            "line_item_product_code",
            texts(&|_| Some("AmazonEC2".into())),
        ),
        ("line_item_usage_amount", numbers(&|_| Some(1.0))),
        ("line_item_unblended_cost", numbers(&|l| Some(l.cost))),
        ("line_item_currency_code", texts(&|_| Some("USD".into()))),
        (
            "pricing_public_on_demand_cost",
            numbers(&|l| Some(l.cost.max(0.0))),
        ),
        ("pricing_unit", texts(&|_| Some("Hrs".into()))),
        (
            "savings_plan_savings_plan_effective_cost",
            numbers(&|l| l.sp_effective),
        ),
        (
            "savings_plan_total_commitment_to_date",
            numbers(&|l| l.sp_total_used.map(|t| t.0)),
        ),
        (
            "savings_plan_used_commitment",
            numbers(&|l| l.sp_total_used.map(|t| t.1)),
        ),
        (
            "savings_plan_savings_plan_a_r_n",
            texts(&|l| l.arn.filter(|_| is_sp(l)).map(String::from)),
        ),
        ("reservation_effective_cost", numbers(&|l| l.ri_effective)),
        (
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            numbers(&|l| l.ri_unused.map(|u| u.0)),
        ),
        (
            "reservation_unused_recurring_fee",
            numbers(&|l| l.ri_unused.map(|u| u.1)),
        ),
        (
            "reservation_reservation_a_r_n",
            texts(&|l| l.arn.filter(|_| !is_sp(l)).map(String::from)),
        ),
        (
            "resource_tags",
            map(&|l| {
                l.tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        ),
        (
            "product",
            map(&|_| {
                vec![
                    ("product_name".into(), "Amazon Elastic Compute Cloud".into()),
                    ("region".into(), "eu-west-1".into()),
                ]
            }),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let file = std::fs::File::create(path).expect("create parquet");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

#[tokio::test]
async fn aws_cur2_parquet_with_map_columns_amortises_commitments() {
    let (dir, _) = temp_lake();
    let path = dir.path().join("cur2-00001.snappy.parquet");
    write_cur2_parquet(&path);
    let mut expected = Totals::new();
    let k = key("111122223333", "AWS", "2024-09", "USD");
    add(&mut expected, k, CUR2_BILLED, CUR2_EFFECTIVE);
    let (_d, lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.files[0].1, "aws-cur2");
    assert_eq!(
        summary.lines, 10,
        "8 lines plus the unused part of 2 commitment fees"
    );
    let statuses = query(
        &lake,
        "SELECT \"CommitmentDiscountStatus\" AS s, count(*) AS n, sum(\"EffectiveCost\") AS e \
         FROM costs WHERE \"CommitmentDiscountStatus\" IS NOT NULL GROUP BY 1 ORDER BY 1",
    )
    .await;
    assert_eq!(statuses[0]["s"], "Unused");
    assert_eq!(statuses[0]["n"], 2);
    assert!((statuses[0]["e"].as_f64().unwrap_or(0.0) - 1.5).abs() < 1e-9);
    assert_eq!(statuses[1]["s"], "Used");
    let usage = query(
        &lake,
        "SELECT \"Tags\" AS t, \"ServiceName\" AS s, \"RegionId\" AS r, \"ServiceCategory\" AS c \
         FROM costs WHERE \"BilledCost\" = 10",
    )
    .await;
    assert_eq!(usage[0]["t"], r#"{"env":"prod","team":"payments"}"#);
    assert_eq!(usage[0]["s"], "Amazon Elastic Compute Cloud");
    assert_eq!(usage[0]["r"], "eu-west-1");
    assert_eq!(usage[0]["c"], "Compute");
}

#[tokio::test]
async fn aws_cur2_gzip_csv_with_flattened_tags_prefers_net_cost() {
    let (dir, _) = temp_lake();
    let path = dir.path().join("cur2.csv.gz");
    let csv = "bill_payer_account_id,bill_billing_period_start_date,line_item_usage_start_date,\
               line_item_line_item_type,line_item_unblended_cost,line_item_net_unblended_cost,\
               line_item_currency_code,product_product_name,resource_tags_user_team\n\
               111122223333,2024-09-01T00:00:00.000Z,2024-09-02T00:00:00.000Z,Usage,10.0,9.0,USD,Amazon Simple Storage Service,payments\n\
               111122223333,2024-09-01T00:00:00.000Z,2024-09-02T00:00:00.000Z,Usage,2.5E-1,,USD,Amazon Simple Storage Service,\n";
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(csv.as_bytes()).expect("write gz");
    gz.finish().expect("finish gz");
    let mut expected = Totals::new();
    add(
        &mut expected,
        key("111122223333", "AWS", "2024-09", "USD"),
        9.25,
        9.25,
    );
    let (_d, lake, _) = import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    let tags = query(
        &lake,
        "SELECT \"Tags\" AS t FROM costs WHERE \"Tags\" IS NOT NULL",
    )
    .await;
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0]["t"], r#"{"team":"payments"}"#);
}

// ---------------------------------------------------------------- Azure

/// Azure totals from the file, by this project's rule (see `src/billing/azure.rs`):
/// commitment-covered usage and unused commitment are not billed; commitment
/// purchases are not effective.
fn azure_expected(path: &Path) -> Totals {
    let mut totals = Totals::new();
    for row in csv_rows(path) {
        let cost = money(get(&row, &["Cost", "CostInBillingCurrency"]));
        let charge = get(&row, &["ChargeType"]);
        let model = get(&row, &["PricingModel"]);
        let commitment = model == "Reservation" || model == "SavingsPlan";
        let share = charge.starts_with("Unused") || (charge == "Usage" && commitment);
        let purchase = (charge == "Purchase" || charge == "Refund") && commitment;
        let account = format!(
            "/providers/Microsoft.Billing/billingAccounts/{}",
            get(&row, &["BillingAccountId"])
        );
        let k = key(
            &account,
            "Microsoft",
            &month(get(&row, &["BillingPeriodStartDate"])),
            get(&row, &["BillingCurrency", "BillingCurrencyCode"]),
        );
        let billed = if share { 0.0 } else { cost };
        let effective = if purchase { 0.0 } else { cost };
        add(&mut totals, k, billed, effective);
    }
    totals
}

#[tokio::test]
async fn azure_samples_reconcile() {
    for (file, lines, billed_differs) in [
        (
            "billing/azure-ea/sample-anonymous-ea-export-dataset.csv",
            27,
            false,
        ),
        (
            "billing/azure-ea-finops-toolkit/EA_ActualCost_Small.csv",
            11,
            true,
        ),
        (
            "billing/azure-ea-finops-toolkit/EA_AmortizedCost_Small.csv",
            28,
            true,
        ),
    ] {
        let path = fixture(file);
        let expected = azure_expected(&path);
        let differs = expected.values().any(|(b, e)| (b - e).abs() > 0.005);
        assert_eq!(
            differs, billed_differs,
            "{file}: the sample has commitment rows"
        );
        let (_dir, lake, summary) =
            import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
        assert_eq!(summary.lines, lines, "{file}");
        let tags = query(
            &lake,
            "SELECT count(*) AS n FROM costs WHERE \"Tags\" LIKE '{%}' AND \"ChargePeriodEnd\" > \"ChargePeriodStart\"",
        )
        .await;
        assert!(
            tags[0]["n"].as_i64().unwrap_or(0) > 0,
            "{file}: brace-less tags read"
        );
    }
    let (_dir, lake) = temp_lake();
    let empty = fixture("billing/azure-ea-finops-toolkit/EA_NoRows.csv");
    let summary = import_costs(&lake, &[empty], &CostImportOptions::default())
        .await
        .expect("a header-only export imports");
    assert_eq!((summary.lines, summary.quarantined), (0, 0));
    assert_eq!(summary.files[0].1, "azure");
}

#[tokio::test]
async fn azure_amortized_commitments_are_flagged() {
    let (_dir, lake) = temp_lake();
    let path = fixture("billing/azure-ea-finops-toolkit/EA_AmortizedCost_Small.csv");
    import_costs(&lake, &[path], &CostImportOptions::default())
        .await
        .expect("import");
    let rows = query(
        &lake,
        "SELECT \"CommitmentDiscountType\" AS t, \"CommitmentDiscountStatus\" AS s, \
         \"BilledCost\" AS b, \"PricingCategory\" AS p FROM costs \
         WHERE \"CommitmentDiscountId\" IS NOT NULL ORDER BY 1",
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["t"], "Reservation");
    assert_eq!(rows[1]["t"], "Savings Plan");
    for r in &rows {
        assert_eq!(r["s"], "Used");
        assert_eq!(r["b"], 0.0);
        assert_eq!(r["p"], "Committed");
    }
}

// ---------------------------------------------------------------- OCI

#[tokio::test]
async fn oci_sample_reconciles() {
    let path = fixture("billing/oci/reports_cost-csv_0000000030000269.csv");
    let mut expected = Totals::new();
    for row in csv_rows(&path) {
        let cost = money(get(&row, &["cost/myCost"]));
        let k = key(
            get(&row, &["cost/subscriptionId"]),
            "Oracle",
            &month(get(&row, &["lineItem/intervalUsageStart"])),
            get(&row, &["cost/currencyCode"]),
        );
        add(&mut expected, k, cost, cost);
    }
    let (_dir, lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.lines, 506);
    let tagged = query(
        &lake,
        "SELECT count(*) AS n FROM costs WHERE \"Tags\" LIKE '%\"Valtest.Cat\":\"boots\"%'",
    )
    .await;
    assert_eq!(tagged[0]["n"], 74);
}

// ---------------------------------------------------------------- GCP

/// GCP totals from the NDJSON rows: cost plus its credits, by invoice month.
fn gcp_ndjson_expected(path: &Path) -> (Totals, usize) {
    let text = std::fs::read_to_string(path).expect("read");
    let mut totals = Totals::new();
    let mut lines = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Json = serde_json::from_str(l).expect("json row");
        let credits = row["credits"].as_array().cloned().unwrap_or_default();
        let credit: f64 = credits.iter().filter_map(|c| c["amount"].as_f64()).sum();
        lines += 1 + credits
            .iter()
            .filter(|c| c["amount"].as_f64() != Some(0.0))
            .count();
        let net = row["cost"].as_f64().unwrap_or(f64::NAN) + credit;
        let k = key(
            row["billing_account_id"].as_str().unwrap_or_default(),
            "Google Cloud",
            &month(row["invoice"]["month"].as_str().unwrap_or_default()),
            row["currency"].as_str().unwrap_or_default(),
        );
        add(&mut totals, k, net, net);
    }
    (totals, lines)
}

#[tokio::test]
async fn gcp_ndjson_export_reconciles_with_credits_as_lines() {
    let path = fixture("billing/gcp/billing-export-standard.ndjson");
    let (expected, lines) = gcp_ndjson_expected(&path);
    assert_eq!(
        expected.len(),
        3,
        "two months of one account, one EUR account"
    );
    let (_dir, lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.lines, lines);
    let credits = query(
        &lake,
        "SELECT count(*) AS n, sum(\"BilledCost\") AS b FROM costs WHERE \"ChargeCategory\" = 'Credit'",
    )
    .await;
    assert_eq!(credits[0]["n"], 5);
    let boundary = query(
        &lake,
        "SELECT CAST(\"BillingPeriodStart\" AS VARCHAR) AS p FROM costs \
         WHERE \"ChargePeriodStart\" = TIMESTAMP '2024-10-01T03:00:00Z' AND \"ChargeCategory\" = 'Usage'",
    )
    .await;
    assert_eq!(boundary.len(), 1);
    let start = boundary[0]["p"].as_str().unwrap_or_default();
    assert!(
        start.starts_with("2024-09-01T07:00:00"),
        "Pacific month: {start}"
    );
    let adjustments = query(
        &lake,
        "SELECT \"ChargeClass\" AS c FROM costs WHERE \"ChargeCategory\" = 'Adjustment' ORDER BY 1",
    )
    .await;
    assert_eq!(adjustments.len(), 2);
    assert_eq!(adjustments[0]["c"], "Correction");
}

#[tokio::test]
async fn gcp_flattened_csv_reconciles() {
    let path = fixture("billing/gcp/billing-export-flattened.csv");
    let mut expected = Totals::new();
    for row in csv_rows(&path) {
        let credits: Vec<Json> = match get(&row, &["credits"]) {
            "" => Vec::new(),
            text => serde_json::from_str(text).expect("credits JSON"),
        };
        let credit: f64 = credits
            .iter()
            .map(|c| match &c["amount"] {
                Json::String(s) => money(s),
                other => other.as_f64().unwrap_or(f64::NAN),
            })
            .sum();
        let net = money(get(&row, &["cost"])) + credit;
        let k = key(
            get(&row, &["billing_account_id"]),
            "Google Cloud",
            &month(get(&row, &["invoice.month"])),
            get(&row, &["currency"]),
        );
        add(&mut expected, k, net, net);
    }
    let (_dir, _lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.lines, 6, "4 rows and 2 credits");
}

// ---------------------------------------------------------------- across formats

/// Every billing fixture file with the format it must be detected as.
fn every_sample() -> Vec<(PathBuf, Format)> {
    let mut all: Vec<(PathBuf, Format)> = [
        ("billing/focus-1.0-sample/focus_sample.csv", Format::Focus),
        (
            "billing/aws-cur-legacy/sample-anonymous-aws-export-dataset.csv",
            Format::AwsCur,
        ),
        (
            "billing/azure-ea/sample-anonymous-ea-export-dataset.csv",
            Format::Azure,
        ),
        (
            "billing/azure-ea-finops-toolkit/EA_ActualCost_Small.csv",
            Format::Azure,
        ),
        (
            "billing/azure-ea-finops-toolkit/EA_AmortizedCost_Small.csv",
            Format::Azure,
        ),
        (
            "billing/azure-ea-finops-toolkit/EA_NoRows.csv",
            Format::Azure,
        ),
        (
            "billing/oci/reports_cost-csv_0000000030000269.csv",
            Format::Oci,
        ),
        ("billing/gcp/billing-export-standard.ndjson", Format::Gcp),
        ("billing/gcp/billing-export-flattened.csv", Format::Gcp),
        ("billing/focus-validator/all_pass.csv", Format::Focus),
        (
            "billing/koku/aws/2022-07-01-alt-columns.csv",
            Format::AwsCur2,
        ),
        (
            "billing/koku/oci/reports_cost-csv_0001000000603747.csv",
            Format::Oci,
        ),
    ]
    .into_iter()
    .map(|(f, format)| (fixture(f), format))
    .collect();
    all.extend(spec_examples().into_iter().map(|p| (p, Format::Focus)));
    all.extend(KOKU_CUR.iter().map(|(f, ..)| (fixture(f), Format::AwsCur)));
    all.extend(KOKU_AZURE.iter().map(|(f, _)| (fixture(f), Format::Azure)));
    all.extend(KOKU_GCP.iter().map(|(f, _)| (fixture(f), Format::Gcp)));
    all
}

#[tokio::test]
async fn detection_picks_the_format_of_every_sample() {
    let samples = every_sample();
    let on_disk = glob::glob(&fixture("billing/**/*.*").to_string_lossy())
        .expect("glob")
        .filter_map(Result::ok)
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "md"))
        .count();
    assert_eq!(samples.len(), on_disk, "every fixture file is covered");
    let defaults = [
        ("BillingCurrency", "USD"),
        ("BillingAccountId", "spec-example"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (path, format) in samples {
        let file =
            read_file(&path, None, &defaults).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(file.format, format, "{}", path.display());
    }
    let (dir, _) = temp_lake();
    let cur2 = dir.path().join("cur2.parquet");
    write_cur2_parquet(&cur2);
    let file = read_file(&cur2, None, &Default::default()).expect("cur2");
    assert_eq!(file.format, Format::AwsCur2);
}

#[tokio::test]
async fn a_format_that_does_not_fit_is_a_clear_error() {
    let (_dir, lake) = temp_lake();
    let path = fixture("billing/aws-cur-legacy/sample-anonymous-aws-export-dataset.csv");
    for (format, message) in [
        (
            Format::Azure,
            "not an Azure cost details export: no Cost, CostInBillingCurrency or PreTaxCost column (as azure)",
        ),
        (
            Format::Gcp,
            "not a Google Cloud billing export: no billing_account_id column (as gcp)",
        ),
        (
            Format::Oci,
            "not an Oracle Cloud cost report: no cost/myCost column (as oci)",
        ),
        (
            Format::AwsCur2,
            "not an AWS cost and usage report: no line_item_unblended_cost column (as aws-cur2)",
        ),
        (Format::Focus, "not a FOCUS file"),
    ] {
        let options = CostImportOptions {
            format: Some(format),
            ..CostImportOptions::default()
        };
        let err = import_costs(&lake, std::slice::from_ref(&path), &options)
            .await
            .expect_err("wrong format")
            .to_string();
        assert!(err.contains(message), "{format:?}: {err}");
        assert!(
            err.contains("sample-anonymous-aws-export-dataset.csv"),
            "{err}"
        );
    }
    let oci = fixture("billing/oci/reports_cost-csv_0000000030000269.csv");
    let options = CostImportOptions {
        format: Some(Format::AwsCur),
        ..CostImportOptions::default()
    };
    let err = import_costs(&lake, &[oci], &options)
        .await
        .expect_err("oci as aws");
    assert!(
        err.to_string().contains("no lineItem/UnblendedCost column"),
        "{err}"
    );
}

#[tokio::test]
async fn reimporting_a_native_export_writes_nothing() {
    let (_dir, lake) = temp_lake();
    for file in [
        "billing/aws-cur-legacy/sample-anonymous-aws-export-dataset.csv",
        "billing/azure-ea-finops-toolkit/EA_AmortizedCost_Small.csv",
        "billing/oci/reports_cost-csv_0000000030000269.csv",
        "billing/gcp/billing-export-standard.ndjson",
    ] {
        let paths = [fixture(file)];
        let first = import_costs(&lake, &paths, &CostImportOptions::default())
            .await
            .expect("first import");
        assert!(first.written.new > 0, "{file}");
        let again = import_costs(&lake, &paths, &CostImportOptions::default())
            .await
            .expect("second import");
        assert_eq!((again.written.new, again.written.updated), (0, 0), "{file}");
        assert!(again.periods.iter().all(|p| p.unchanged), "{file}");
    }
}

#[tokio::test]
async fn a_bad_cell_names_file_line_and_column() {
    let (dir, lake) = temp_lake();
    let source = std::fs::read_to_string(fixture(
        "billing/azure-ea-finops-toolkit/EA_ActualCost_Small.csv",
    ))
    .expect("read");
    let mut lines: Vec<String> = source.lines().map(String::from).collect();
    // Line 3's cost (column `Cost`) becomes text no one can read as money.
    let header: Vec<&str> = lines[0].split(',').collect();
    let cost_at = header
        .iter()
        .position(|h| *h == "Cost")
        .expect("Cost column");
    let mut cells = csv_cells(&lines[2]);
    cells[cost_at] = "ten dollars".into();
    lines[2] = cells.join(",");
    let path = write_file(dir.path(), "bad-actual.csv", &lines.join("\n"));
    let err = import_costs(&lake, &[path], &CostImportOptions::default())
        .await
        .expect_err("bad cost")
        .to_string();
    assert!(
        err.contains("bad-actual.csv: line 3, column `Cost`"),
        "{err}"
    );
    assert!(err.contains("ten dollars"), "{err}");
}

/// A CSV line's cells, re-quoted so that joining them with `,` gives the line back.
fn csv_cells(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader.records().next().expect("a line").expect("cells");
    record
        .iter()
        .map(|c| {
            if c.contains([',', '"']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.to_string()
            }
        })
        .collect()
}

// ------------------------------------------- koku and focus_validator exports
//
// Real-shaped exports from other projects' test data (see
// `fixtures/billing/ATTRIBUTION.md`), imported auto-detected as a new user would.

/// The rows of a CSV file whose field count matches the header, and how many do
/// not (the import quarantines those).
fn csv_rows_lenient(path: &Path) -> (Vec<BTreeMap<String, String>>, usize) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let (mut rows, mut short) = (Vec::new(), 0);
    for r in reader.records() {
        let r = r.expect("record");
        if r.len() != header.len() {
            short += 1;
            continue;
        }
        rows.push(
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect(),
        );
    }
    (rows, short)
}

/// A cell by any of `names`, compared without regard to case.
fn get_ci<'a>(row: &'a BTreeMap<String, String>, names: &[&str]) -> &'a str {
    names
        .iter()
        .find_map(|n| {
            row.iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(n) && !v.trim().is_empty())
        })
        .map_or("", |(_, v)| v.as_str())
}

/// Legacy CUR files: (file, lines imported, rows quarantined).
const KOKU_CUR: &[(&str, usize, usize)] = &[
    ("billing/koku/aws/2023-06-01.csv", 3, 0),
    ("billing/koku/aws/2023-06-01-not-final.csv", 3, 0),
    ("billing/koku/aws/November-2023-None.csv", 24, 2),
    ("billing/koku/test_cur-first-17-rows.csv", 17, 0),
];

/// CUR totals from the file: BilledCost the unblended cost; EffectiveCost the
/// savings plan's effective cost on covered usage (when the row has it), else the
/// unblended cost. `snake` for Athena-style column names.
fn cur_expected(rows: &[BTreeMap<String, String>], snake: bool) -> Totals {
    let name = |legacy: &'static str, athena: &'static str| if snake { athena } else { legacy };
    let mut totals = Totals::new();
    for row in rows {
        let kind = get(
            row,
            &[name("lineItem/LineItemType", "line_item_line_item_type")],
        );
        assert!(
            kind == "Usage" || kind == "SavingsPlanCoveredUsage",
            "only usage in these files: {kind}"
        );
        let billed = money(get(
            row,
            &[name("lineItem/UnblendedCost", "line_item_unblended_cost")],
        ));
        let sp = get(
            row,
            &[name(
                "savingsPlan/SavingsPlanEffectiveCost",
                "savings_plan_savings_plan_effective_cost",
            )],
        );
        let effective = if kind == "SavingsPlanCoveredUsage" && !sp.trim().is_empty() {
            money(sp)
        } else {
            billed
        };
        let k = key(
            get(row, &[name("bill/PayerAccountId", "bill_payer_account_id")]),
            "AWS",
            &month(get(
                row,
                &[name(
                    "bill/BillingPeriodStartDate",
                    "bill_billing_period_start_date",
                )],
            )),
            get(
                row,
                &[name("lineItem/CurrencyCode", "line_item_currency_code")],
            ),
        );
        add(&mut totals, k, billed, effective);
    }
    totals
}

#[tokio::test]
async fn koku_cur_reports_reconcile() {
    for (file, lines, short) in KOKU_CUR {
        let path = fixture(file);
        let (rows, bad) = csv_rows_lenient(&path);
        assert_eq!(bad, *short, "{file}: truncated rows in the source");
        let options = CostImportOptions {
            skip_bad: bad > 0,
            ..CostImportOptions::default()
        };
        let (_dir, lake, summary) =
            import_and_reconcile(&path, &options, &cur_expected(&rows, false)).await;
        assert_eq!(summary.files[0].1, "aws-cur", "{file}");
        assert_eq!(
            (summary.lines, summary.quarantined),
            (*lines, *short),
            "{file}"
        );
        if bad > 0 {
            let q = query(
                &lake,
                "SELECT record, reason FROM quarantine ORDER BY record",
            )
            .await;
            assert_eq!(q[0]["record"], 7, "{file}");
            assert_eq!(q[0]["reason"], "194 fields where the header has 200");
            let tagged = query(
                &lake,
                "SELECT count(*) AS n FROM costs WHERE \"Tags\" = '{\"app\":\"analytics\"}'",
            )
            .await;
            assert_eq!(
                tagged[0]["n"], 6,
                "resourceTags/user:app read, `user:` dropped"
            );
        }
    }
    let err = import_costs(
        &temp_lake().1,
        &[fixture(KOKU_CUR[2].0)],
        &CostImportOptions::default(),
    )
    .await
    .expect_err("truncated rows")
    .to_string();
    assert!(
        err.contains("November-2023-None.csv: line 7: 194 fields where the header has 200"),
        "{err}"
    );
}

#[tokio::test]
async fn koku_athena_style_cur_reconciles() {
    let path = fixture("billing/koku/aws/2022-07-01-alt-columns.csv");
    let (rows, bad) = csv_rows_lenient(&path);
    assert_eq!(bad, 0);
    let (_dir, _lake, summary) = import_and_reconcile(
        &path,
        &CostImportOptions::default(),
        &cur_expected(&rows, true),
    )
    .await;
    assert_eq!(summary.files[0].1, "aws-cur2");
    assert_eq!(summary.lines, 2);
}

#[tokio::test]
async fn a_not_final_cur_is_noted_and_replaced_by_the_final_one() {
    let not_final = fixture("billing/koku/aws/2023-06-01-not-final.csv");
    let final_bill = fixture("billing/koku/aws/2023-06-01.csv");
    let file = read_file(&not_final, None, &Default::default()).expect("read");
    assert!(
        file.notes
            .keys()
            .any(|n| n.starts_with("InvoiceId: empty, the bill is not final")),
        "{:?}",
        file.notes
    );
    let clean = read_file(&final_bill, None, &Default::default()).expect("read");
    assert!(
        !clean.notes.keys().any(|n| n.starts_with("InvoiceId")),
        "{:?}",
        clean.notes
    );
    let (_dir, lake) = temp_lake();
    for path in [&not_final, &final_bill] {
        import_costs(
            &lake,
            std::slice::from_ref(path),
            &CostImportOptions::default(),
        )
        .await
        .expect("import");
    }
    // `costs` keeps both imports; `billing_lines` reads the period's current one.
    let lines = query(
        &lake,
        "SELECT count(*) AS n, sum(\"BilledCost\") AS b, sum(\"EffectiveCost\") AS e, \
         min(\"InvoiceId\") AS i, count(\"InvoiceId\") AS with_invoice FROM billing_lines",
    )
    .await;
    let (rows, _) = csv_rows_lenient(&final_bill);
    let expected = cur_expected(&rows, false);
    let (billed, effective) = expected.values().next().copied().unwrap_or_default();
    assert_eq!(lines[0]["n"], 3);
    assert_eq!(lines[0]["with_invoice"], 3);
    assert_eq!(lines[0]["i"], "987654321");
    let sum = |k: &str| lines[0][k].as_f64().unwrap_or(f64::NAN);
    assert!((sum("b") - billed).abs() < 1e-9, "{lines:?}");
    assert!((sum("e") - effective).abs() < 1e-9, "{lines:?}");
}

/// Azure files with their line counts.
const KOKU_AZURE: &[(&str, usize)] = &[
    ("billing/koku/azure/azure_camelCased.csv", 3),
    ("billing/koku/azure/azure_version_2.csv", 5),
    ("billing/koku/azure/camel_azure_version_2.csv", 4),
    ("billing/koku/azure/camel_v2.csv", 4),
    (
        "billing/koku/azure/costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv",
        3,
    ),
];

/// Azure totals from the file, whatever the spelling of its columns: none of
/// these rows concerns a commitment, so BilledCost = EffectiveCost = cost. The
/// account is the billing profile under its account (MCA: the file has
/// `costInPricingCurrency`), else the billing account, else (the legacy usage
/// export) the subscription; the month is the billing period's, else the day's.
fn azure_any_expected(path: &Path) -> Totals {
    let mut totals = Totals::new();
    for row in csv_rows(path) {
        assert!(get_ci(&row, &["PricingModel"]).is_empty(), "no commitments");
        let cost = money(get_ci(
            &row,
            &["CostInBillingCurrency", "Cost", "PreTaxCost"],
        ));
        let mca = row
            .keys()
            .any(|k| k.eq_ignore_ascii_case("costInPricingCurrency"));
        let account = get_ci(&row, &["BillingAccountId"]);
        let account = if mca {
            format!(
                "/providers/Microsoft.Billing/billingAccounts/{account}/billingProfiles/{}",
                get_ci(&row, &["BillingProfileId"])
            )
        } else if !account.is_empty() {
            format!("/providers/Microsoft.Billing/billingAccounts/{account}")
        } else {
            format!("/subscriptions/{}", get_ci(&row, &["SubscriptionGuid"]))
        };
        let k = key(
            &account,
            "Microsoft",
            &month(get_ci(
                &row,
                &["BillingPeriodStartDate", "Date", "UsageDateTime"],
            )),
            get_ci(
                &row,
                &["BillingCurrencyCode", "BillingCurrency", "Currency"],
            ),
        );
        add(&mut totals, k, cost, cost);
    }
    totals
}

#[tokio::test]
async fn koku_azure_exports_reconcile() {
    for (file, lines) in KOKU_AZURE {
        let path = fixture(file);
        let expected = azure_any_expected(&path);
        let (_dir, lake, summary) =
            import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
        assert_eq!(summary.files[0].1, "azure", "{file}");
        assert_eq!(summary.lines, *lines, "{file}");
        let usage = query(
            &lake,
            "SELECT count(*) AS n FROM costs WHERE \"ChargeCategory\" IN ('Usage', 'Purchase') \
             AND \"SubAccountId\" LIKE '/subscriptions/%'",
        )
        .await;
        assert_eq!(usage[0]["n"], *lines, "{file}");
    }
    // The legacy usage export: tags in braces, ContractedCost = rate × quantity.
    let (_dir, lake) = temp_lake();
    import_costs(
        &lake,
        &[fixture(KOKU_AZURE[0].0)],
        &CostImportOptions::default(),
    )
    .await
    .expect("import");
    let rows = query(
        &lake,
        "SELECT \"Tags\" AS t, \"ContractedCost\" AS c, \"BilledCost\" AS b FROM costs \
         WHERE \"BilledCost\" > 0.0001",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["t"], r#"{"project":"p1"}"#);
    let (c, b) = (rows[0]["c"].as_f64(), rows[0]["b"].as_f64());
    assert!(
        c.zip(b).is_some_and(|(c, b)| (c - b).abs() < 1e-12),
        "{rows:?}"
    );
}

/// GCP CSVs (pandas-written: credits and labels as Python literals) with their
/// line counts: rows plus non-zero credits.
const KOKU_GCP: &[(&str, usize)] = &[
    ("billing/koku/gcp/2022-08-01_5.csv", 9),
    ("billing/koku/gcp/2024-03-01_5.csv", 6),
    (
        "billing/koku/gcp/202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv",
        33,
    ),
    ("billing/koku/gcp/evidence-2020-11-16.csv", 38),
];

/// The `'amount': <number>` values of a Python-literal credits cell, read by
/// scanning the text (not with the reader's parser).
fn python_credit_amounts(cell: &str) -> Vec<f64> {
    cell.split("'amount':")
        .skip(1)
        .map(|rest| {
            let number: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                .collect();
            number
                .parse()
                .unwrap_or_else(|_| panic!("amount in `{cell}`"))
        })
        .collect()
}

#[tokio::test]
async fn koku_gcp_csv_exports_reconcile() {
    for (file, lines) in KOKU_GCP {
        let path = fixture(file);
        let mut expected = Totals::new();
        let mut count = 0;
        for row in csv_rows(&path) {
            let credits = python_credit_amounts(get(&row, &["credits"]));
            count += 1 + credits.iter().filter(|a| **a != 0.0).count();
            let net = money(get(&row, &["cost"])) + credits.iter().sum::<f64>();
            let k = key(
                get(&row, &["billing_account_id"]),
                "Google Cloud",
                &month(get(&row, &["invoice.month"])),
                get(&row, &["currency"]),
            );
            add(&mut expected, k, net, net);
        }
        assert_eq!(count, *lines, "{file}: source lines");
        let (_dir, lake, summary) =
            import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
        assert_eq!((summary.lines, summary.quarantined), (*lines, 0), "{file}");
        let credits = query(
            &lake,
            "SELECT count(*) AS n FROM costs WHERE \"ChargeCategory\" = 'Credit' \
             AND \"ChargeDescription\" LIKE 'FreeTrial:%'",
        )
        .await;
        assert_eq!(
            credits[0]["n"].as_u64().unwrap_or(0) as usize,
            lines - csv_rows(&path).len(),
            "{file}"
        );
    }
    let (_dir, lake) = temp_lake();
    import_costs(
        &lake,
        &[fixture(KOKU_GCP[3].0)],
        &CostImportOptions::default(),
    )
    .await
    .expect("import");
    let labelled = query(
        &lake,
        "SELECT count(*) AS n FROM costs WHERE \"Tags\" = '{\"goog-resource-type\":\"bigquery_dataset\"}' \
         AND \"ChargeCategory\" = 'Usage'",
    )
    .await;
    assert_eq!(
        labelled[0]["n"], 4,
        "labels written as Python lists are read"
    );
}

#[tokio::test]
async fn koku_oci_report_with_empty_currency_cells() {
    let path = fixture("billing/koku/oci/reports_cost-csv_0001000000603747.csv");
    let expected = |default_currency: &str| {
        let mut totals = Totals::new();
        for row in csv_rows(&path) {
            let currency = match get(&row, &["cost/currencyCode"]) {
                "" => default_currency,
                c => c,
            };
            if currency.is_empty() {
                continue;
            }
            let cost = money(get(&row, &["cost/myCost"]));
            let k = key(
                get(&row, &["cost/subscriptionId"]),
                "Oracle",
                &month(get(&row, &["lineItem/intervalUsageStart"])),
                currency,
            );
            add(&mut totals, k, cost, cost);
        }
        totals
    };
    let err = import_costs(
        &temp_lake().1,
        std::slice::from_ref(&path),
        &CostImportOptions::default(),
    )
    .await
    .expect_err("empty currency")
    .to_string();
    assert!(
        err.contains("reports_cost-csv_0001000000603747.csv: line 2, column `cost/currencyCode`"),
        "{err}"
    );
    assert!(err.contains("--set cost/currencyCode="), "{err}");
    let skip = CostImportOptions {
        skip_bad: true,
        ..CostImportOptions::default()
    };
    let (_dir, lake, summary) = import_and_reconcile(&path, &skip, &expected("")).await;
    assert_eq!((summary.lines, summary.quarantined), (3, 2));
    let q = query(&lake, "SELECT field FROM quarantine").await;
    assert!(q.iter().all(|r| r["field"] == "cost/currencyCode"), "{q:?}");
    let with_currency = CostImportOptions {
        defaults: [("cost/currencyCode".to_string(), "GBP".to_string())]
            .into_iter()
            .collect(),
        ..CostImportOptions::default()
    };
    let (_dir, _lake, summary) =
        import_and_reconcile(&path, &with_currency, &expected("GBP")).await;
    assert_eq!((summary.lines, summary.quarantined), (5, 0));
}

#[tokio::test]
async fn focus_0_5_sample_reconciles() {
    let path = fixture("billing/focus-validator/all_pass.csv");
    let mut expected = Totals::new();
    for row in csv_rows(&path) {
        let k = key(
            get(&row, &["BillingAccountId"]),
            get(&row, &["Provider"]),
            &month(get(&row, &["BillingPeriodStart"])),
            get(&row, &["BilledCurrency"]),
        );
        add(
            &mut expected,
            k,
            money(get(&row, &["BilledCost"])),
            money(get(&row, &["AmortizedCost"])),
        );
    }
    assert_eq!(expected.len(), 2);
    let (_dir, lake, summary) =
        import_and_reconcile(&path, &CostImportOptions::default(), &expected).await;
    assert_eq!(summary.files[0].1, "focus 0.5");
    let rows = query(
        &lake,
        "SELECT \"ChargeCategory\" AS c, \"ResourceId\" AS r, \"RegionId\" AS g, \
         \"PublisherName\" AS p, \"InvoiceIssuerName\" AS i, x_focus_version AS v \
         FROM costs ORDER BY 1",
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0]["c"], &rows[0]["r"], &rows[0]["g"]),
        (
            &Json::from("Adjustment"),
            &Json::from("r2"),
            &Json::from("B")
        )
    );
    assert_eq!(rows[1]["c"], "Purchase");
    assert_eq!(rows[1]["p"], "Publisher1");
    assert_eq!(rows[1]["i"], "test-entity-1");
    assert!(rows.iter().all(|r| r["v"] == "0.5"));
}
