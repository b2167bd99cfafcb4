//! Golden tests for the cost queries (`queries/cost/`) on hand-built FOCUS bills.
//! Every expected figure is worked out by hand in the comments.
//!
//! Each test writes its own FOCUS CSV (one line per row below; the billing period
//! is the line's calendar month, the billing account `acct-usd` or `acct-eur` by
//! currency), imports it with `import_costs` and opens the engine with a `[cost]`
//! section that allocates by the `team` and `service` tags (a line without a
//! `team` tag is `unallocated`). All days are UTC. Calendar facts used below:
//! 2024-01-01 is a Monday, 2024-02 has 29 days, 2024-03-01 is a Friday, 2024-03
//! has 31 days.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use datafusion::scalar::ScalarValue;
use northstar::billing::{CostImportOptions, import_costs};
use northstar::config::Config;
use northstar::engine::{Engine, Params};
use northstar::lake::Lake;
use northstar::window::{Window, params_for};
use serde_json::Value as Json;
use tempfile::TempDir;

use crate::support::{Row, assert_close, day, find, query_rows, seed, temp_lake, write_file};

const HEADER: &str = "BilledCost,EffectiveCost,ListCost,BillingCurrency,BillingAccountId,\
BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ServiceName,\
ServiceCategory,ProviderName,ResourceId,CommitmentDiscountId,CommitmentDiscountStatus,Tags";

/// Allocation by the `team` and `service` tags only.
const RULES: &str = r#"
[[cost.rules]]
name = "team tag"
team_tag = "team"
service_tag = "service"
"#;

/// One FOCUS cost line.
#[derive(Clone)]
struct Line {
    day: NaiveDate,
    effective: f64,
    billed: Option<f64>,
    list: Option<f64>,
    currency: &'static str,
    category: &'static str,
    commitment: Option<(&'static str, &'static str)>,
    team: Option<&'static str>,
    service: Option<&'static str>,
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// A USD usage line tagged with `team` and `service`.
fn line(day: NaiveDate, cost: f64, team: &'static str, service: &'static str) -> Line {
    Line {
        day,
        effective: cost,
        billed: None,
        list: None,
        currency: "USD",
        category: "Usage",
        commitment: None,
        team: Some(team),
        service: Some(service),
    }
}

/// A USD usage line with no tags (unallocated).
fn untagged(day: NaiveDate, cost: f64) -> Line {
    Line {
        team: None,
        service: None,
        ..line(day, cost, "", "")
    }
}

impl Line {
    fn currency(self, currency: &'static str) -> Line {
        Line { currency, ..self }
    }
    fn list(self, list: f64) -> Line {
        Line {
            list: Some(list),
            ..self
        }
    }
    fn billed(self, billed: f64) -> Line {
        Line {
            billed: Some(billed),
            ..self
        }
    }
    fn category(self, category: &'static str) -> Line {
        Line { category, ..self }
    }
    fn commitment(self, id: &'static str, status: &'static str) -> Line {
        Line {
            commitment: Some((id, status)),
            ..self
        }
    }
}

/// The FOCUS CSV of `lines`; each line gets its own ResourceId.
fn focus_csv(lines: &[Line]) -> String {
    let mut text = format!("{HEADER}\n");
    for (i, l) in lines.iter().enumerate() {
        let period = l.day.with_day(1).expect("first day");
        let next = l.day + Duration::days(1);
        let mut tags = Vec::new();
        if let Some(team) = l.team {
            tags.push(format!("\"\"team\"\":\"\"{team}\"\""));
        }
        if let Some(service) = l.service {
            tags.push(format!("\"\"service\"\":\"\"{service}\"\""));
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!("\"{{{}}}\"", tags.join(","))
        };
        let (cd_id, cd_status) = l.commitment.unwrap_or(("", ""));
        text.push_str(&format!(
            "{billed},{effective},{list},{cur},acct-{acct},{period}T00:00:00Z,{day}T00:00:00Z,\
             {next}T00:00:00Z,{category},Compute Engine,Compute,Acme Cloud,r{i},{cd_id},\
             {cd_status},{tags}\n",
            billed = l.billed.unwrap_or(l.effective),
            effective = l.effective,
            list = l.list.map(|v| v.to_string()).unwrap_or_default(),
            cur = l.currency,
            acct = l.currency.to_lowercase(),
            day = l.day,
            category = l.category,
        ));
    }
    text
}

/// A lake holding `lines` and an engine over it with `config` (TOML, `[cost]` rules
/// added).
async fn open(lines: &[Line], config: &str) -> (TempDir, Lake, Config) {
    let (dir, lake) = temp_lake();
    let file = write_file(dir.path(), "bill.csv", &focus_csv(lines));
    import_costs(&lake, &[file], &CostImportOptions::default())
        .await
        .expect("import costs");
    let config = Config::parse(&format!("{RULES}\n{config}"), "test").expect("config");
    (dir, lake, config)
}

async fn engine(lake: &Lake, config: &Config) -> Engine {
    Engine::for_config(lake, config).await.expect("engine")
}

fn window(from: &str, to: &str) -> Window {
    Window {
        from: day(from),
        to: day(to),
    }
}

/// Runs `cost/<name>` with the parameters `compute` binds.
async fn run(engine: &Engine, name: &str, params: &Params) -> Vec<Row> {
    let id = format!("cost/{name}");
    query_rows(engine, &id, params).await
}

fn keys(rows: &[Row], columns: &[&str]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let parts: Vec<String> = columns
                .iter()
                .map(|c| match &r[*c] {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            parts.join("/")
        })
        .collect()
}

fn days(from: &str, to: &str) -> impl Iterator<Item = NaiveDate> {
    let (from, to) = (date(from), date(to));
    from.iter_days().take_while(move |d| *d < to)
}

fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// January and February 2024, two teams, two currencies, one untagged line and a
/// commitment:
///
/// | day | effective | billed | list | currency | team/service | notes |
/// |---|---|---|---|---|---|---|
/// | 01-10 | 100 | | 120 | USD | payments/api | |
/// | 01-20 | 200 | | 230 | USD | payments/api | |
/// | 02-05 | 150 | | 180 | USD | payments/api | |
/// | 02-15 | 300 | | | USD | payments/api | |
/// | 02-10 | 200 | | | USD | search/index | |
/// | 02-12 | 80 | | | EUR | payments/api | account acct-eur |
/// | 02-20 | 50 | | | USD | (none) | unallocated |
/// | 02-03 | 70 | | | USD | search/index | commitment ri-1 Used |
/// | 02-04 | 20 | | | USD | search/index | commitment ri-1 Used |
/// | 02-05 | 10 | | | USD | (none) | commitment ri-1 Unused |
/// | 02-01 | 0 | 100 | | USD | (none) | ri-1 Purchase (amortised away) |
fn two_months() -> Vec<Line> {
    vec![
        line(date("2024-01-10"), 100.0, "payments", "api").list(120.0),
        line(date("2024-01-20"), 200.0, "payments", "api").list(230.0),
        line(date("2024-02-05"), 150.0, "payments", "api").list(180.0),
        line(date("2024-02-15"), 300.0, "payments", "api"),
        line(date("2024-02-10"), 200.0, "search", "index"),
        line(date("2024-02-12"), 80.0, "payments", "api").currency("EUR"),
        untagged(date("2024-02-20"), 50.0),
        line(date("2024-02-03"), 70.0, "search", "index").commitment("ri-1", "Used"),
        line(date("2024-02-04"), 20.0, "search", "index").commitment("ri-1", "Used"),
        untagged(date("2024-02-05"), 10.0).commitment("ri-1", "Unused"),
        untagged(date("2024-02-01"), 0.0)
            .billed(100.0)
            .category("Purchase")
            .commitment("ri-1", ""),
    ]
}

#[tokio::test]
async fn costs_by_scope_and_grain_keep_currencies_apart() {
    let (_dir, lake, config) = open(&two_months(), "").await;
    let engine = engine(&lake, &config).await;
    let w = window("2024-01-01", "2024-03-01");

    // Org by month. January USD: 100 + 200 = 300 (2 lines), list 120 + 230 = 350,
    // savings (120 − 100) + (230 − 200) = 50. February USD: 150 + 300 + 200 + 50 +
    // 70 + 20 + 10 + 0 = 800 effective over 8 lines; billed 800 + 100 (the purchase)
    // = 900; list only on the 150 line: 180, savings 30 (n_list 1). February EUR: 80,
    // its own row: never added to the USD figures.
    let org = run(&engine, "costs", &params_for(w, &config, "org", "month")).await;
    assert_eq!(
        keys(&org, &["scope_key", "period_start", "currency"]),
        [
            "org/2024-01-01/USD",
            "org/2024-02-01/EUR",
            "org/2024-02-01/USD"
        ]
    );
    let jan = &org[0];
    assert_eq!(jan["n"], 2);
    assert_close(&jan["effective_cost"], 300.0);
    assert_close(&jan["list_cost"], 350.0);
    assert_close(&jan["savings"], 50.0);
    assert_eq!(jan["n_list"], 2);
    let eur = &org[1];
    assert_eq!(eur["n"], 1);
    assert_close(&eur["effective_cost"], 80.0);
    assert_eq!(eur["list_cost"], Json::Null);
    assert_eq!(eur["savings"], Json::Null);
    let feb = &org[2];
    assert_eq!(feb["n"], 8);
    assert_close(&feb["effective_cost"], 800.0);
    assert_close(&feb["billed_cost"], 900.0);
    assert_close(&feb["list_cost"], 180.0);
    assert_close(&feb["savings"], 30.0);
    assert_eq!(feb["n_list"], 1);

    // Team over the window: payments USD 100 + 200 + 150 + 300 = 750 (4 lines),
    // payments EUR 80, search 200 + 70 + 20 = 290, unallocated 50 + 10 + 0 = 60
    // (billed 160 with the purchase).
    let teams = run(&engine, "costs", &params_for(w, &config, "team", "window")).await;
    assert_eq!(
        keys(&teams, &["scope_key", "currency"]),
        [
            "payments/EUR",
            "payments/USD",
            "search/USD",
            "unallocated/USD"
        ]
    );
    assert_close(
        &find(&teams, &[("scope_key", "payments"), ("currency", "USD")])["effective_cost"],
        750.0,
    );
    assert_close(
        &find(&teams, &[("scope_key", "search")])["effective_cost"],
        290.0,
    );
    let unallocated = find(&teams, &[("scope_key", "unallocated")]);
    assert_close(&unallocated["effective_cost"], 60.0);
    assert_close(&unallocated["billed_cost"], 160.0);
    assert_eq!(unallocated["n"], 3);
    assert!(teams.iter().all(|r| r["period_start"] == "2024-01-01"));

    // Service: the untagged lines have no service → 'unallocated'.
    let services = run(
        &engine,
        "costs",
        &params_for(w, &config, "service", "window"),
    )
    .await;
    assert_eq!(
        keys(&services, &["scope_key", "currency"]),
        ["api/EUR", "api/USD", "index/USD", "unallocated/USD"]
    );

    // Category (FOCUS ServiceCategory) and cloud service: all lines say Compute /
    // Compute Engine. Provider: ProviderName.
    let categories = run(
        &engine,
        "costs",
        &params_for(w, &config, "category", "window"),
    )
    .await;
    assert_eq!(
        keys(&categories, &["scope_key", "currency"]),
        ["Compute/EUR", "Compute/USD"]
    );
    assert_close(&categories[1]["effective_cost"], 1100.0);
    let clouds = run(
        &engine,
        "costs",
        &params_for(w, &config, "cloud_service", "window"),
    )
    .await;
    assert_eq!(
        keys(&clouds, &["scope_key", "currency"]),
        ["Compute Engine/EUR", "Compute Engine/USD"]
    );
    let providers = run(
        &engine,
        "costs",
        &params_for(w, &config, "provider", "window"),
    )
    .await;
    assert_eq!(providers.len(), 2);

    // Day grain: 02-05 holds the 150 payments line and the 10 unused line.
    let daily = run(&engine, "costs", &params_for(w, &config, "org", "day")).await;
    let feb5 = find(
        &daily,
        &[("period_start", "2024-02-05"), ("currency", "USD")],
    );
    assert_close(&feb5["effective_cost"], 160.0);
    assert_eq!(feb5["n"], 2);
}

#[tokio::test]
async fn month_over_month_handles_a_zero_baseline() {
    let (_dir, lake, config) = open(&two_months(), "").await;
    let engine = engine(&lake, &config).await;

    // Window = February. payments USD: January 300 → February 450: change 150,
    // ratio 0.5. search USD: nothing in January → previous 0, change 290, ratio NULL
    // (ChangeStatistic: no ratio over a zero baseline). payments EUR: 0 → 80, NULL.
    // unallocated: 0 → 60, NULL.
    let w = window("2024-02-01", "2024-03-01");
    let mom = run(
        &engine,
        "month_over_month",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    assert_eq!(
        keys(&mom, &["scope_key", "period_start", "currency"]),
        [
            "payments/2024-02-01/EUR",
            "payments/2024-02-01/USD",
            "search/2024-02-01/USD",
            "unallocated/2024-02-01/USD"
        ]
    );
    let payments = &mom[1];
    assert_close(&payments["cost"], 450.0);
    assert_close(&payments["previous_cost"], 300.0);
    assert_close(&payments["change"], 150.0);
    assert_close(&payments["change_ratio"], 0.5);
    assert_eq!(payments["n"], 2);
    assert_eq!(payments["previous_n"], 2);
    assert_eq!(payments["complete"], true);
    let search = &mom[2];
    assert_close(&search["cost"], 290.0);
    assert_close(&search["previous_cost"], 0.0);
    assert_close(&search["change"], 290.0);
    assert_eq!(search["change_ratio"], Json::Null);
    assert_eq!(mom[0]["change_ratio"], Json::Null);
    assert_close(&mom[0]["cost"], 80.0);

    // Window = March (no lines): every key had February cost, so each shows a drop
    // to 0: payments USD −450, ratio −1; the month is not over at `to` 03-15.
    let w = window("2024-03-01", "2024-03-15");
    let march = run(
        &engine,
        "month_over_month",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    let payments = find(&march, &[("scope_key", "payments"), ("currency", "USD")]);
    assert_close(&payments["cost"], 0.0);
    assert_close(&payments["change"], -450.0);
    assert_close(&payments["change_ratio"], -1.0);
    assert_eq!(payments["n"], 0);
    assert_eq!(payments["complete"], false);
    assert_eq!(march.len(), 4);

    // Org, January to February: January 300 over December's 0 (ratio NULL);
    // February USD 800 over 300: change 500, ratio 5/3.
    let w = window("2024-01-01", "2024-03-01");
    let org = run(
        &engine,
        "month_over_month",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    assert_eq!(
        keys(&org, &["period_start", "currency"]),
        ["2024-01-01/USD", "2024-02-01/EUR", "2024-02-01/USD"]
    );
    assert_eq!(org[0]["change_ratio"], Json::Null);
    assert_close(&org[2]["change"], 500.0);
    assert_close(&org[2]["change_ratio"], 500.0 / 300.0);
}

#[tokio::test]
async fn allocation_coverage_and_audit() {
    let (_dir, lake, config) = open(&two_months(), "").await;
    let engine = engine(&lake, &config).await;
    let w = window("2024-01-01", "2024-03-01");

    // February USD: total 800, unallocated 50 + 10 + 0 = 60 over 3 lines, allocated
    // 740, coverage 740 / 800 = 0.925. January: all 300 allocated. EUR: 80 of 80.
    let cov = run(
        &engine,
        "allocation",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    assert_eq!(
        keys(&cov, &["period_start", "currency"]),
        ["2024-01-01/USD", "2024-02-01/EUR", "2024-02-01/USD"]
    );
    assert_close(&cov[0]["coverage"], 1.0);
    let feb = &cov[2];
    assert_close(&feb["total"], 800.0);
    assert_close(&feb["allocated"], 740.0);
    assert_close(&feb["unallocated"], 60.0);
    assert_close(&feb["coverage"], 0.925);
    assert_eq!(feb["n"], 8);
    assert_eq!(feb["n_unallocated"], 3);

    // Audit, February USD: the team tag rule moved 450 to payments (2 lines) and 290
    // to search (3 lines), directly; 60 over 3 lines matched no rule.
    let audit = run(
        &engine,
        "allocation_audit",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    let feb: Vec<&Row> = audit
        .iter()
        .filter(|r| r["period_start"] == "2024-02-01" && r["currency"] == "USD")
        .collect();
    assert_eq!(feb.len(), 3, "{audit:#?}");
    let payments = find(
        &audit,
        &[
            ("period_start", "2024-02-01"),
            ("team", "payments"),
            ("currency", "USD"),
        ],
    );
    assert_eq!(payments["allocation_rule"], "team tag");
    assert_eq!(payments["split_method"], "direct");
    assert_close(&payments["amount"], 450.0);
    assert_eq!(payments["n"], 2);
    let search = find(&audit, &[("team", "search")]);
    assert_close(&search["amount"], 290.0);
    assert_eq!(search["n"], 3);
    let none = find(&audit, &[("team", "unallocated")]);
    assert_eq!(none["split_method"], "unallocated");
    assert_close(&none["amount"], 60.0);
    assert_eq!(none["n"], 3);
}

#[tokio::test]
async fn commitment_utilisation_from_used_and_unused_lines() {
    let (_dir, lake, config) = open(&two_months(), "").await;
    let engine = engine(&lake, &config).await;
    let w = window("2024-01-01", "2024-03-01");

    // ri-1 in February: Used 70 + 20 = 90, Unused 10, utilisation 90 / 100 = 0.9;
    // n = 3 lines (the purchase line, with no status, is not one of them).
    let util = run(
        &engine,
        "commitment_utilisation",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    assert_eq!(
        keys(
            &util,
            &["commitment_discount_id", "period_start", "currency"]
        ),
        ["ri-1/2024-02-01/USD"]
    );
    assert_close(&util[0]["used_cost"], 90.0);
    assert_close(&util[0]["unused_cost"], 10.0);
    assert_close(&util[0]["utilisation"], 0.9);
    assert_eq!(util[0]["n"], 3);
}

/// Team `web`, USD, every day from 2024-02-01 to 2024-03-14: 100 on weekdays, 40 on
/// weekends, except Monday 02-19 at 180.
fn weekday_pattern() -> Vec<Line> {
    days("2024-02-01", "2024-03-15")
        .map(|d| {
            let cost = if d == date("2024-02-19") {
                180.0
            } else if weekend(d) {
                40.0
            } else {
                100.0
            };
            line(d, cost, "web", "site")
        })
        .collect()
}

#[tokio::test]
async fn forecast_follows_the_weekday_pattern() {
    let (_dir, lake, config) = open(&weekday_pattern(), "").await;
    let engine = engine(&lake, &config).await;

    // Window 03-01 .. 03-15: the month is March (31 days); the last day with data is
    // Thursday 03-14, so days_elapsed = 14. Actual 03-01..03-14: weekdays 1, 4–8,
    // 11–14 = 10 × 100, weekend days 2, 3, 9, 10 = 4 × 40: 1160.
    // History: 02-15 .. 03-13 (28 days, all with data): weekday means 100 except
    // Monday (02-19 180, 02-26, 03-04, 03-11 100) = 120; weekend 40.
    // Remaining 03-15 .. 03-31 (17 days): Fri 15, 18–22, 25–29 = 11 weekdays of which
    // Mondays 18 and 25; weekend 16, 17, 23, 24, 30, 31 = 6.
    // forecast = 1160 + 9 × 100 + 2 × 120 + 6 × 40 = 1160 + 900 + 240 + 240 = 2540.
    let w = window("2024-03-01", "2024-03-15");
    for scope in ["org", "team"] {
        let rows = run(
            &engine,
            "forecast",
            &params_for(w, &config, scope, "window"),
        )
        .await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let r = &rows[0];
        assert_eq!(r["scope_key"], if scope == "org" { "org" } else { "web" });
        assert_eq!(r["period_start"], "2024-03-01");
        assert_eq!(r["currency"], "USD");
        assert_eq!(r["last_actual_day"], "2024-03-14");
        assert_eq!(r["days_elapsed"], 14);
        assert_eq!(r["days_in_month"], 31);
        assert_eq!(r["n"], 28);
        assert_close(&r["actual"], 1160.0);
        assert_close(&r["forecast"], 2540.0);
    }

    // A window ending later in March than the data: the month and the last data day
    // are the same, so is the forecast.
    let w = window("2024-03-01", "2024-04-01");
    let rows = run(
        &engine,
        "forecast",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    assert_close(&rows[0]["forecast"], 2540.0);
    assert_eq!(rows[0]["last_actual_day"], "2024-03-14");

    // A window ending 04-10, before April has any data: April (30 days, 04-01 a
    // Monday) is all forecast from the same history: 5 Mondays × 120 + 17 other
    // weekdays × 100 + 8 weekend days × 40 = 600 + 1700 + 320 = 2620.
    let w = window("2024-04-01", "2024-04-10");
    let rows = run(
        &engine,
        "forecast",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    let april = &rows[0];
    assert_eq!(april["period_start"], "2024-04-01");
    assert_eq!(april["days_elapsed"], 0);
    assert_eq!(april["days_in_month"], 30);
    assert_close(&april["actual"], 0.0);
    assert_close(&april["forecast"], 2620.0);
}

#[tokio::test]
async fn forecast_falls_back_to_the_overall_mean() {
    // Data only Sunday 03-10 .. Thursday 03-14: Sunday 40, Monday–Thursday 100.
    // History = 02-15 .. 03-13 with data on 03-10 (Sun) .. 03-13 (Wed): n = 4.
    // Means: Sunday 40, Monday–Wednesday 100; Thursday, Friday and Saturday have no
    // history day → the overall mean (40 + 3 × 100) / 4 = 85.
    // Actual 03-01 .. 03-14 = 40 + 4 × 100 = 440 (days_elapsed 14).
    // Remaining 03-15 .. 03-31: Sundays 17, 24, 31 → 3 × 40 = 120; Mon–Wed 18–20,
    // 25–27 → 6 × 100 = 600; Thu/Fri/Sat 15, 16, 21, 22, 23, 28, 29, 30 → 8 × 85 =
    // 680. forecast = 440 + 120 + 600 + 680 = 1840.
    let lines: Vec<Line> = days("2024-03-10", "2024-03-15")
        .map(|d| line(d, if weekend(d) { 40.0 } else { 100.0 }, "web", "site"))
        .collect();
    let (_dir, lake, config) = open(&lines, "").await;
    let engine = engine(&lake, &config).await;
    let w = window("2024-03-01", "2024-03-15");
    let rows = run(
        &engine,
        "forecast",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["n"], 4);
    assert_close(&rows[0]["actual"], 440.0);
    assert_close(&rows[0]["forecast"], 1840.0);
}

#[tokio::test]
async fn budgets_over_at_risk_and_ok() {
    // Flat daily cost from 02-01 to 03-14: alpha 100, beta 40, gamma 40, delta 10.
    // Budgets: alpha 5000 USD every month but 1000 USD for 2024-03 (the month's row
    // wins); beta 1000 USD; gamma 2000 USD and 300 EUR; delta none.
    let lines: Vec<Line> = days("2024-02-01", "2024-03-15")
        .flat_map(|d| {
            [
                line(d, 100.0, "alpha", "a"),
                line(d, 40.0, "beta", "b"),
                line(d, 40.0, "gamma", "g"),
                line(d, 10.0, "delta", "d"),
            ]
        })
        .collect();
    let budgets = r#"
[[cost.budgets]]
team = "alpha"
amount = 5000.0
currency = "USD"

[[cost.budgets]]
team = "alpha"
amount = 1000.0
currency = "USD"
month = "2024-03"

[[cost.budgets]]
team = "beta"
amount = 1000.0
currency = "USD"

[[cost.budgets]]
team = "gamma"
amount = 2000.0
currency = "USD"

[[cost.budgets]]
team = "gamma"
amount = 300.0
currency = "EUR"
"#;
    let (_dir, lake, config) = open(&lines, budgets).await;
    let engine = engine(&lake, &config).await;

    // Window 02-01 .. 03-15. February is past (29 days): forecast = actual.
    // March is current: 14 days of data, a flat history, so forecast = daily × 31.
    // | team | month | budget | actual | forecast | status |
    // | alpha | Feb | 5000 | 2900 | 2900 | ok (0.58) |
    // | alpha | Mar | 1000 | 1400 | 3100 | over (1.4, 3.1) |
    // | beta | Feb | 1000 | 1160 | 1160 | over |
    // | beta | Mar | 1000 | 560 | 1240 | at risk (0.56, 1.24) |
    // | gamma | Mar | 2000 | 560 | 1240 | ok (0.28, 0.62) |
    // | gamma EUR | Feb, Mar | 300 | 0 | 0 | ok (no EUR cost: USD never counts) |
    // | delta | Mar | NULL | 140 | 310 | NULL |
    let w = window("2024-02-01", "2024-03-15");
    let rows = run(
        &engine,
        "budgets",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    assert_eq!(
        keys(&rows, &["team", "period_start", "currency", "status"]),
        [
            "alpha/2024-02-01/USD/ok",
            "alpha/2024-03-01/USD/over",
            "beta/2024-02-01/USD/over",
            "beta/2024-03-01/USD/at risk",
            "delta/2024-02-01/USD/null",
            "delta/2024-03-01/USD/null",
            "gamma/2024-02-01/EUR/ok",
            "gamma/2024-02-01/USD/ok",
            "gamma/2024-03-01/EUR/ok",
            "gamma/2024-03-01/USD/ok",
        ]
    );
    let check = |team: &str, month: &str, currency: &str, figures: [f64; 5]| {
        let r = find(
            &rows,
            &[
                ("team", team),
                ("period_start", month),
                ("currency", currency),
            ],
        );
        let [budget, actual, forecast, a_ratio, f_ratio] = figures;
        assert_close(&r["budget"], budget);
        assert_close(&r["actual"], actual);
        assert_close(&r["forecast"], forecast);
        assert_close(&r["actual_vs_budget"], a_ratio);
        assert_close(&r["forecast_vs_budget"], f_ratio);
    };
    check(
        "alpha",
        "2024-02-01",
        "USD",
        [5000.0, 2900.0, 2900.0, 0.58, 0.58],
    );
    check(
        "alpha",
        "2024-03-01",
        "USD",
        [1000.0, 1400.0, 3100.0, 1.4, 3.1],
    );
    check(
        "beta",
        "2024-02-01",
        "USD",
        [1000.0, 1160.0, 1160.0, 1.16, 1.16],
    );
    check(
        "beta",
        "2024-03-01",
        "USD",
        [1000.0, 560.0, 1240.0, 0.56, 1.24],
    );
    check(
        "gamma",
        "2024-03-01",
        "USD",
        [2000.0, 560.0, 1240.0, 0.28, 0.62],
    );
    check("gamma", "2024-03-01", "EUR", [300.0, 0.0, 0.0, 0.0, 0.0]);
    let delta = find(&rows, &[("team", "delta"), ("period_start", "2024-03-01")]);
    assert_eq!(delta["budget"], Json::Null);
    assert_eq!(delta["actual_vs_budget"], Json::Null);
    assert_close(&delta["forecast"], 310.0);
    assert_eq!(delta["n"], 14);
}

/// Ten weeks, Monday 2024-01-01 .. Sunday 03-10 (week k = 1..10):
/// - payments/api: weekdays 100 in odd weeks, 110 in even weeks; weekends 30;
///   except Tuesday 02-27 (week 9): no line at all; Sunday 03-03 (week 9): 10;
///   Wednesday 03-06 (week 10): 400.
/// - payments/db: 50 every day.
/// - growth/new: 20 a day from 02-19 (week 8), 1000 on 03-06.
fn ten_weeks() -> Vec<Line> {
    let start = date("2024-01-01");
    let mut lines = Vec::new();
    for d in days("2024-01-01", "2024-03-11") {
        let week = (d - start).num_days() / 7 + 1;
        let api = match d.to_string().as_str() {
            "2024-02-27" => None,
            "2024-03-03" => Some(10.0),
            "2024-03-06" => Some(400.0),
            _ if weekend(d) => Some(30.0),
            _ if week % 2 == 1 => Some(100.0),
            _ => Some(110.0),
        };
        if let Some(cost) = api {
            lines.push(line(d, cost, "payments", "api"));
        }
        lines.push(line(d, 50.0, "payments", "db"));
        if d >= date("2024-02-19") {
            let cost = if d == date("2024-03-06") {
                1000.0
            } else {
                20.0
            };
            lines.push(line(d, cost, "growth", "new"));
        }
    }
    lines
}

#[tokio::test]
async fn anomalies_flag_the_spike_and_not_the_weekends() {
    let (_dir, lake, config) = open(&ten_weeks(), "").await;
    let engine = engine(&lake, &config).await;

    // Window 02-26 .. 03-11 = weeks 9 and 10; history = the same weekday in the 8
    // weeks before (n = 8): weekdays 4 × 100 and 4 × 110 → expected (median) 105,
    // MAD 5; band 105 ± 3.5 × 5 / 0.6745 = 105 ± 25.945145.
    // - api Wed 03-06 = 400: z = 0.6745 × 295 / 5 = 39.7955 → spike.
    // - api Tue 02-27, no line: inside api's series → 0: z = 0.6745 × −105 / 5 =
    //   −14.1645 → drop.
    // - api other weekdays 100 / 110: z = ∓0.6745. Weekends 30 against weekend
    //   history 30 (MAD 0 → scale 0.05 × 30 = 1.5): z = 0. Sunday 03-03 = 10: z =
    //   0.6745 × −20 / 1.5 = −8.99, but |−20| < 50 (min amount): not flagged.
    //   Sunday 03-10: history 7 × 30 and 10 → median 30, MAD 0: z = 0.
    // - Team payments (api + db 50): weekdays 150 / 160 → expected 155, MAD 5;
    //   03-06 = 450 → z = 39.7955 spike; 02-27 = 50 → z = −14.1645 drop; Sunday
    //   03-03 = 60 against 80 (scale 4): z = −3.37, not flagged.
    // - growth/new spikes to 1000 on 03-06 but has only 2 weeks of history (02-21,
    //   02-28): no verdict. db: flat, never flagged.
    let w = window("2024-02-26", "2024-03-11");
    let rows = run(
        &engine,
        "anomalies",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    assert_eq!(
        keys(&rows, &["day", "level", "team", "service", "direction"]),
        [
            "2024-02-27/service/payments/api/drop",
            "2024-02-27/team/payments/null/drop",
            "2024-03-06/service/payments/api/spike",
            "2024-03-06/team/payments/null/spike",
        ]
    );
    let band = 3.5 * 5.0 / 0.6745;
    let spike = &rows[2];
    assert_close(&spike["cost"], 400.0);
    assert_close(&spike["expected"], 105.0);
    assert_close(&spike["mad"], 5.0);
    assert_close(&spike["z"], 0.6745 * 295.0 / 5.0);
    assert_close(&spike["low"], 105.0 - band);
    assert_close(&spike["high"], 105.0 + band);
    assert_eq!(spike["n"], 8);
    assert_eq!(spike["currency"], "USD");
    let drop = &rows[0];
    assert_close(&drop["cost"], 0.0);
    assert_close(&drop["z"], 0.6745 * -105.0 / 5.0);
    let team = &rows[3];
    assert_close(&team["cost"], 450.0);
    assert_close(&team["expected"], 155.0);
    assert_close(&team["z"], 0.6745 * 295.0 / 5.0);

    // A lower amount floor lets the Sunday dip through (service level only: the
    // team's z is −3.37).
    let mut p = params_for(w, &config, "team", "window");
    p.insert(
        "anomaly_min_amount".into(),
        ScalarValue::Float64(Some(10.0)),
    );
    let rows = run(&engine, "anomalies", &p).await;
    let sunday = find(&rows, &[("day", "2024-03-03")]);
    assert_eq!(sunday["service"], "api");
    assert_eq!(sunday["direction"], "drop");
    assert_close(&sunday["expected"], 30.0);
    assert_close(&sunday["z"], 0.6745 * -20.0 / 1.5);
    assert_eq!(rows.len(), 5);

    // Two weeks of history is not enough: with $anomaly_weeks = 2 every day has
    // n = 2 < 3, so nothing is judged.
    let mut p = params_for(w, &config, "team", "window");
    p.insert("anomaly_weeks".into(), ScalarValue::Int64(Some(2)));
    assert!(run(&engine, "anomalies", &p).await.is_empty());
}

#[tokio::test]
async fn unit_cost_per_deployment_and_developer() {
    // Catalog: api, web (team core), batch (data). March 2024 costs: api 300 (03-05),
    // web 100 (03-06), batch 50 (03-07).
    let lines = vec![
        line(date("2024-03-05"), 300.0, "core", "api"),
        line(date("2024-03-06"), 100.0, "core", "web"),
        line(date("2024-03-07"), 50.0, "data", "batch"),
    ];
    let (dir, lake, config) = open(&lines, "").await;
    let services = write_file(
        dir.path(),
        "services.csv",
        "service,team,created_at,tier,on_platform\n\
         api,core,2023-06-01,tier-1,true\n\
         web,core,2023-06-01,tier-2,true\n\
         batch,data,2023-09-01,tier-3,false\n",
    );
    // Production successes in March: D1, D2, D3 (api), D4 (web) = 4. Not counted:
    // D5 failed, D6 staging, D7 in February.
    let deployments = write_file(
        dir.path(),
        "deployments.csv",
        "deployment_id,source,repo,service,environment,env_tier,status,commit_sha,started_at,finished_at,kind,via_platform\n\
         D1,test,acme/api,api,prod,production,success,c1,2024-03-04T09:50:00Z,2024-03-04T10:00:00Z,planned,true\n\
         D2,test,acme/api,api,prod,production,success,c2,2024-03-11T09:50:00Z,2024-03-11T10:00:00Z,planned,true\n\
         D3,test,acme/api,api,prod,production,success,c3,2024-03-20T09:50:00Z,2024-03-20T10:00:00Z,hotfix,true\n\
         D4,test,acme/web,web,prod,production,success,c4,2024-03-12T09:50:00Z,2024-03-12T10:00:00Z,planned,true\n\
         D5,test,acme/api,api,prod,production,failure,c5,2024-03-13T09:50:00Z,2024-03-13T10:00:00Z,planned,true\n\
         D6,test,acme/batch,batch,staging,staging,success,c6,2024-03-14T09:50:00Z,2024-03-14T10:00:00Z,planned,true\n\
         D7,test,acme/api,api,prod,production,success,c7,2024-02-28T09:50:00Z,2024-02-28T10:00:00Z,planned,true\n",
    );
    // Commit authors in March: ana, bo, cy = 3 developers; renovate[bot] (name),
    // ci-robot (is_bot) and zed (February) are not.
    let commits = write_file(
        dir.path(),
        "commits.csv",
        "repo,commit_sha,parent_shas,authored_at,committed_at,author,is_bot\n\
         acme/api,c1,,2024-03-01T10:00:00Z,2024-03-01T10:00:00Z,ana,false\n\
         acme/api,c2,c1,2024-03-08T10:00:00Z,2024-03-08T10:00:00Z,bo,false\n\
         acme/api,c3,c2,2024-03-18T10:00:00Z,2024-03-18T10:00:00Z,ana,false\n\
         acme/web,c4,,2024-03-10T10:00:00Z,2024-03-10T10:00:00Z,cy,false\n\
         acme/api,c5,c3,2024-03-12T10:00:00Z,2024-03-12T10:00:00Z,renovate[bot],false\n\
         acme/batch,c6,,2024-03-13T10:00:00Z,2024-03-13T10:00:00Z,ci-robot,true\n\
         acme/api,c7,,2024-02-27T10:00:00Z,2024-02-27T10:00:00Z,zed,false\n",
    );
    seed(
        &lake,
        &[
            ("services", services),
            ("deployments", deployments),
            ("commits", commits),
        ],
    )
    .await;
    let engine = engine(&lake, &config).await;
    let w = window("2024-03-01", "2024-04-01");

    // Org: 450 / 4 deployments = 112.5; 450 / 3 developers = 150.
    let org = run(
        &engine,
        "unit_cost",
        &params_for(w, &config, "org", "window"),
    )
    .await;
    assert_eq!(
        keys(&org, &["scope_key", "period_start", "currency"]),
        ["org/2024-03-01/USD"]
    );
    assert_eq!(org[0]["n"], 4);
    assert_eq!(org[0]["deployments"], 4);
    assert_close(&org[0]["cost"], 450.0);
    assert_close(&org[0]["cost_per_deployment"], 112.5);
    assert_eq!(org[0]["developers"], 3);
    assert_close(&org[0]["cost_per_developer"], 150.0);

    // `[north_star] developers = 5` replaces the count: 450 / 5 = 90 (month grain).
    let five =
        Config::parse(&format!("{RULES}\n[north_star]\ndevelopers = 5\n"), "test").expect("config");
    let org = run(&engine, "unit_cost", &params_for(w, &five, "org", "month")).await;
    assert_eq!(org[0]["developers"], 5);
    assert_close(&org[0]["cost_per_developer"], 90.0);

    // Teams: core 400 / 4 = 100; data 50 with no deployment → NULL. No developers.
    let teams = run(
        &engine,
        "unit_cost",
        &params_for(w, &config, "team", "window"),
    )
    .await;
    assert_eq!(keys(&teams, &["scope_key", "n"]), ["core/4", "data/0"]);
    assert_close(&teams[0]["cost_per_deployment"], 100.0);
    assert_eq!(teams[1]["cost_per_deployment"], Json::Null);
    assert_eq!(teams[0]["developers"], Json::Null);
    assert_eq!(teams[0]["cost_per_developer"], Json::Null);

    // Services: api 300 / 3 = 100, web 100 / 1 = 100, batch 50 / 0 → NULL.
    let services = run(
        &engine,
        "unit_cost",
        &params_for(w, &config, "service", "month"),
    )
    .await;
    assert_eq!(
        keys(&services, &["scope_key", "n"]),
        ["api/3", "batch/0", "web/1"]
    );
    assert_close(&services[0]["cost_per_deployment"], 100.0);
    assert_close(&services[2]["cost_per_deployment"], 100.0);
    assert_eq!(services[1]["cost_per_deployment"], Json::Null);
}
