//! Restated bills and cost allocation, on hand-built FOCUS files.
//!
//! Restatement: a billing period (provider, account, month) is replaced by its
//! newest import, never added to it. Allocation: `[[cost.rules]]` in order, first
//! match wins, splits by even / proportional / fixed shares, and an `unallocated`
//! bucket; changing a rule re-allocates without a re-import.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use northstar::billing::{CostImportOptions, CostImportSummary, import_costs};
use northstar::config::Config;
use northstar::engine::Engine;
use northstar::lake::Lake;
use serde_json::Value as Json;

use crate::support::{temp_lake, write_file};

const HEADER: &str = "BilledCost,EffectiveCost,BillingCurrency,BillingAccountId,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ProviderName,ServiceName,SubAccountId,Tags";

/// A FOCUS file: `(cost, currency, account, day, service, tags)` per line; the
/// billing period is the day's month.
pub fn focus_file(
    dir: &Path,
    name: &str,
    lines: &[(f64, &str, &str, &str, &str, &str)],
) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for (cost, currency, account, day, service, tags) in lines {
        let month = &day[..7];
        let tags = tags.replace('"', "\"\"");
        text.push_str(&format!(
            "{cost},{cost},{currency},{account},{month}-01T00:00:00Z,{day}T00:00:00Z,{day}T23:59:59Z,AWS,{service},sub-{account},\"{tags}\"\n"
        ));
    }
    write_file(dir, name, &text)
}

async fn import(lake: &Lake, files: &[PathBuf]) -> CostImportSummary {
    import_costs(lake, files, &CostImportOptions::default())
        .await
        .expect("import")
}

async fn rows(lake: &Lake, config: &Config, sql: &str) -> Vec<serde_json::Map<String, Json>> {
    let engine = Engine::for_config(lake, config).await.expect("engine");
    let batches = engine
        .execute("test", sql, &Default::default())
        .await
        .expect("query");
    northstar::report::json::rows(&batches).expect("rows")
}

/// Total EffectiveCost of the current lines per account and month.
async fn totals(lake: &Lake) -> BTreeMap<String, f64> {
    let sql = "SELECT \"BillingAccountId\" || ' ' || CAST(date_trunc('month', \"BillingPeriodStart\") AS VARCHAR) AS k, \
               SUM(\"EffectiveCost\") AS c FROM billing_lines GROUP BY 1";
    rows(lake, &Config::default(), sql)
        .await
        .into_iter()
        .map(|r| {
            let key = r["k"].as_str().unwrap_or_default()[..14].to_string();
            (key, r["c"].as_f64().unwrap_or(f64::NAN))
        })
        .collect()
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

#[tokio::test]
async fn a_restated_month_replaces_the_stored_one_and_nothing_doubles() {
    let (dir, lake) = temp_lake();
    let d = dir.path();
    let sep = [
        (10.0, "USD", "111", "2026-09-01", "EC2", ""),
        (20.0, "USD", "111", "2026-09-02", "EC2", ""),
        (30.0, "USD", "111", "2026-09-03", "EC2", ""),
        // Two identical lines are two charges, not one.
        (5.0, "USD", "111", "2026-09-04", "S3", ""),
        (5.0, "USD", "111", "2026-09-04", "S3", ""),
    ];
    let a = focus_file(d, "sep.csv", &sep);
    let first = import(&lake, std::slice::from_ref(&a)).await;
    assert_eq!((first.written.new, first.periods.len()), (5, 1));
    assert_eq!(cents(totals(&lake).await["111 2026-09-01"]), 7000);

    // The same export again, under another name: nothing is written.
    let copy = d.join("sep-copy.csv");
    std::fs::copy(&a, &copy).expect("copy");
    let again = import(&lake, &[copy]).await;
    assert_eq!((again.written.new, again.written.updated), (0, 0));
    assert!(again.periods[0].unchanged);
    assert_eq!(cents(totals(&lake).await["111 2026-09-01"]), 7000);

    // The provider restates September: 30 → 35, one S3 line dropped, a line added.
    let restated = focus_file(
        d,
        "sep-restated.csv",
        &[
            (10.0, "USD", "111", "2026-09-01", "EC2", ""),
            (20.0, "USD", "111", "2026-09-02", "EC2", ""),
            (35.0, "USD", "111", "2026-09-03", "EC2", ""),
            (5.0, "USD", "111", "2026-09-04", "S3", ""),
            (1.5, "USD", "111", "2026-09-30", "Tax", ""),
        ],
    );
    let r = import(&lake, &[restated]).await;
    assert!(r.periods[0].replaced);
    // 10 + 20 + 35 + 5 + 1.5
    assert_eq!(cents(totals(&lake).await["111 2026-09-01"]), 7150);

    // Importing the older export again makes it current again: the last import of
    // a period is its truth.
    import(&lake, &[a]).await;
    assert_eq!(cents(totals(&lake).await["111 2026-09-01"]), 7000);
    let n = rows(
        &lake,
        &Config::default(),
        "SELECT COUNT(*) AS n FROM billing_lines",
    )
    .await;
    assert_eq!(n[0]["n"], Json::from(5));
}

#[tokio::test]
async fn restating_one_period_leaves_other_periods_and_accounts_alone() {
    let (dir, lake) = temp_lake();
    let d = dir.path();
    let both = focus_file(
        d,
        "both.csv",
        &[
            (100.0, "USD", "111", "2026-09-10", "EC2", ""),
            (200.0, "USD", "111", "2026-10-10", "EC2", ""),
            (300.0, "USD", "222", "2026-10-10", "EC2", ""),
        ],
    );
    import(&lake, &[both]).await;
    let october = focus_file(
        d,
        "oct.csv",
        &[(250.0, "USD", "111", "2026-10-10", "EC2", "")],
    );
    let summary = import(&lake, &[october]).await;
    assert_eq!(summary.periods.len(), 1);
    let t = totals(&lake).await;
    assert_eq!(cents(t["111 2026-09-01"]), 10_000);
    assert_eq!(cents(t["111 2026-10-01"]), 25_000);
    assert_eq!(cents(t["222 2026-10-01"]), 30_000);
}

const RULES: &str = r#"
[[cost.rules]]
name = "platform account"
accounts = ["999"]
team = "platform"

[[cost.rules]]
name = "team tag"
team_tag = "team"
service_tag = "service"

[[cost.rules]]
name = "shared network"
cloud_services = ["Amazon Virtual Private Cloud"]
split = "proportional"

[[cost.rules]]
name = "support"
tags = { kind = "support" }
split = "fixed"
shares = { payments = 70, search = 30 }

[[cost.rules]]
name = "observability"
cloud_services = ["Amazon CloudWatch"]
split = "even"
to = ["payments", "search", "platform"]
"#;

/// One day of lines exercising every rule (EffectiveCost):
/// L1 account 999 tagged payments: rule 1 wins → platform 50
/// L2 payments/api 300, L3 search 100                     (direct)
/// L4 VPC 80 split by direct cost that day: payments 300, search 100, platform 50
///    of 450 → 53.333…, 17.777…, 8.888…
/// L5 support 40 fixed 70/30 → payments 28, search 12
/// L6 CloudWatch 30 even over three → 10 each
/// L7 untagged S3 25 → unallocated
/// payments 391.333…, search 139.777…, platform 68.888…, unallocated 25; total 625.
fn allocation_lines(dir: &Path) -> PathBuf {
    focus_file(
        dir,
        "day.csv",
        &[
            (
                50.0,
                "USD",
                "999",
                "2026-09-01",
                "EC2",
                r#"{"team":"payments"}"#,
            ),
            (
                300.0,
                "USD",
                "111",
                "2026-09-01",
                "EC2",
                r#"{"team":"payments","service":"api"}"#,
            ),
            (
                100.0,
                "USD",
                "111",
                "2026-09-01",
                "EC2",
                r#"{"Team":"search"}"#,
            ),
            (
                80.0,
                "USD",
                "111",
                "2026-09-01",
                "Amazon Virtual Private Cloud",
                "",
            ),
            (
                40.0,
                "USD",
                "111",
                "2026-09-01",
                "Support",
                r#"{"kind":"support"}"#,
            ),
            (30.0, "USD", "111", "2026-09-01", "Amazon CloudWatch", ""),
            (25.0, "USD", "111", "2026-09-01", "S3", ""),
        ],
    )
}

async fn team_totals(lake: &Lake, config: &Config) -> BTreeMap<String, f64> {
    let sql = "SELECT team, SUM(effective_cost) AS c FROM cost_lines GROUP BY team";
    rows(lake, config, sql)
        .await
        .into_iter()
        .map(|r| {
            let team = r["team"].as_str().unwrap_or_default().to_string();
            (team, r["c"].as_f64().unwrap_or(f64::NAN))
        })
        .collect()
}

fn assert_money(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

#[tokio::test]
async fn rules_in_order_splits_and_the_unallocated_bucket() {
    let (dir, lake) = temp_lake();
    import(&lake, &[allocation_lines(dir.path())]).await;
    let config = Config::parse(RULES, "test").expect("config");
    let t = team_totals(&lake, &config).await;
    assert_money(t["payments"], 300.0 + 80.0 * 300.0 / 450.0 + 28.0 + 10.0);
    assert_money(t["search"], 100.0 + 80.0 * 100.0 / 450.0 + 12.0 + 10.0);
    assert_money(t["platform"], 50.0 + 80.0 * 50.0 / 450.0 + 10.0);
    assert_money(t["unallocated"], 25.0);
    assert_money(t.values().sum(), 625.0);

    // The audit columns say which rule moved how much.
    let audit = rows(
        &lake,
        &config,
        "SELECT allocation_rule, split_method, SUM(effective_cost) AS c FROM cost_lines \
         GROUP BY 1, 2 ORDER BY 1",
    )
    .await;
    let moved: Vec<(String, String, i64)> = audit
        .iter()
        .map(|r| {
            (
                r["allocation_rule"].as_str().unwrap_or_default().into(),
                r["split_method"].as_str().unwrap_or_default().into(),
                cents(r["c"].as_f64().unwrap_or_default()),
            )
        })
        .collect();
    assert_eq!(
        moved,
        vec![
            ("observability".into(), "even".into(), 3000),
            ("platform account".into(), "direct".into(), 5000),
            ("shared network".into(), "proportional".into(), 8000),
            ("support".into(), "fixed".into(), 4000),
            ("team tag".into(), "direct".into(), 40000),
            ("unallocated".into(), "unallocated".into(), 2500),
        ]
    );
}

#[tokio::test]
async fn changing_a_rule_reallocates_without_reimporting() {
    let (dir, lake) = temp_lake();
    import(&lake, &[allocation_lines(dir.path())]).await;
    let files_before = lake.files("costs").await.expect("files").len();
    // Without the account rule, L1 follows its team tag to payments, and the VPC
    // split weights become payments 350, search 100 of 450.
    let without_account_rule = RULES.replacen(
        "[[cost.rules]]\nname = \"platform account\"\naccounts = [\"999\"]\nteam = \"platform\"\n",
        "",
        1,
    );
    let config = Config::parse(&without_account_rule, "test").expect("config");
    let t = team_totals(&lake, &config).await;
    assert_money(t["payments"], 350.0 + 80.0 * 350.0 / 450.0 + 28.0 + 10.0);
    assert_money(t["search"], 100.0 + 80.0 * 100.0 / 450.0 + 12.0 + 10.0);
    assert_money(t["platform"], 10.0);
    assert_eq!(
        lake.files("costs").await.expect("files").len(),
        files_before
    );
}

#[tokio::test]
async fn currencies_convert_by_dated_rate_or_stay_apart() {
    let (dir, lake) = temp_lake();
    let file = focus_file(
        dir.path(),
        "fx.csv",
        &[
            (100.0, "EUR", "1", "2026-09-01", "EC2", r#"{"team":"a"}"#),
            (100.0, "EUR", "1", "2026-09-20", "EC2", r#"{"team":"a"}"#),
            (50.0, "USD", "2", "2026-09-20", "EC2", r#"{"team":"a"}"#),
            (10.0, "GBP", "3", "2026-09-20", "EC2", r#"{"team":"a"}"#),
        ],
    );
    import(&lake, &[file]).await;
    let config = Config::parse(
        r#"
[cost]
report_currency = "USD"
[[cost.exchange_rates]]
from = "EUR"
rate = 1.1
since = "2026-01-01"
[[cost.exchange_rates]]
from = "EUR"
rate = 1.2
since = "2026-09-15"
"#,
        "test",
    )
    .expect("config");
    let got = rows(
        &lake,
        &config,
        "SELECT currency, SUM(effective_cost) AS c FROM cost_lines GROUP BY 1 ORDER BY 1",
    )
    .await;
    let by: Vec<(String, i64)> = got
        .iter()
        .map(|r| {
            (
                r["currency"].as_str().unwrap_or_default().into(),
                cents(r["c"].as_f64().unwrap_or_default()),
            )
        })
        .collect();
    // 100 EUR × 1.1 + 100 EUR × 1.2 + 50 USD = 280 USD; GBP has no rate: apart.
    assert_eq!(by, vec![("GBP".into(), 1000), ("USD".into(), 28000)]);
}

#[test]
fn bad_allocation_rules_are_config_errors() {
    let cases = [
        ("[[cost.rules]]\nname = \"x\"\n", "needs an outcome"),
        (
            "[[cost.rules]]\nname = \"x\"\nsplit = \"fixed\"\nshares = { a = 60, b = 30 }\n",
            "summing to 100",
        ),
        (
            "[[cost.rules]]\nname = \"x\"\nteam = \"a\"\nsplit = \"even\"\n",
            "not both",
        ),
        (
            "[cost]\n[[cost.exchange_rates]]\nfrom = \"EUR\"\nrate = 1.1\nsince = \"2026-01-01\"\n",
            "report_currency",
        ),
        (
            "[[cost.budgets]]\nteam = \"a\"\namount = 10\ncurrency = \"usd\"\n",
            "ISO 4217",
        ),
        (
            "[[cost.rules]]\nname = \"x\"\nteam = \"a\"\naccounts = [\"[x\"]\n",
            "bad pattern `[x`",
        ),
    ];
    for (toml, expected) in cases {
        let err = Config::parse(toml, "test").expect_err(toml).to_string();
        assert!(err.contains(expected), "{toml}: {err}");
    }
}

/// `metrics.json`'s cost section on the allocation day, with budgets: the figures
/// above per team and month, the unallocated share 25 / 625 = 0.04, budget status
/// (payments 391.33 over 300 → over; search 139.78 under 500 → ok), and the whole
/// document valid against the schema.
#[tokio::test]
async fn the_cost_section_of_metrics_json() {
    let (dir, lake) = temp_lake();
    import(&lake, &[allocation_lines(dir.path())]).await;
    let toml = format!(
        "{RULES}\n[[cost.budgets]]\nteam = \"payments\"\namount = 300\ncurrency = \"USD\"\n\
         [[cost.budgets]]\nteam = \"search\"\namount = 500\ncurrency = \"USD\"\n"
    );
    let config = Config::parse(&toml, "test").expect("config");
    let engine = Engine::for_config(&lake, &config).await.expect("engine");
    let window = northstar::window::Window {
        from: crate::support::day("2026-09-01"),
        to: crate::support::day("2026-10-01"),
    };
    let doc = northstar::report::metrics::compute(&engine, window, &config, chrono::Utc::now())
        .await
        .expect("compute");
    let cost = &doc["cost"];
    let org_month = &cost["org"]["months"][0];
    assert_eq!(org_month["month"], "2026-09");
    assert_money(
        org_month["effective_cost"].as_f64().unwrap_or_default(),
        625.0,
    );
    assert_money(
        org_month["unallocated_share"].as_f64().unwrap_or_default(),
        0.04,
    );
    let payments = &cost["teams"]["payments"]["months"][0];
    assert_money(
        payments["effective_cost"].as_f64().unwrap_or_default(),
        300.0 + 80.0 * 300.0 / 450.0 + 28.0 + 10.0,
    );
    assert_eq!(payments["budget_status"], "over");
    assert_eq!(cost["teams"]["search"]["months"][0]["budget_status"], "ok");
    assert_eq!(
        cost["teams"]["unallocated"]["months"][0]["effective_cost"],
        25.0
    );
    let validator = crate::support::metrics_schema();
    crate::support::assert_valid_metrics(&validator, &doc);
    let mut broken = doc.clone();
    broken["cost"]["teams"]["payments"]["months"][0]["budget_status"] = Json::from("late");
    assert!(!validator.is_valid(&broken));
}
