//! Golden tests for OKR progress and status (`okrs` in `metrics.json`) on the North
//! Star fixture (`fixtures/north_star/`, described in `north_star.rs`), and for the
//! check-ins `compute` stores in `okr_checkins`.
//!
//! Both objectives run 2024-03-04 to 2024-03-17 inclusive: the period is
//! [03-04, 03-18), 14 days. Evaluated at three instants (`generated_at`; the window
//! ends later, so as_of = generated_at):
//!
//! - before, 03-01: every key result `not_started`, expected 0, no current.
//! - during, 03-11: 7 of 14 days gone, expected 0.5; the key results read
//!   [03-04, 03-11).
//! - after, 03-20: expected 1; the key results read the whole period [03-04, 03-18).
//!
//! Objective `adoption`:
//! - `deploys` (increase, weight 2): north_star/platform_adoption `deployment_share`,
//!   baseline 0.4, target 0.8. During: D1 D2 D4 D6, via D1 D2 D6 → 0.75, n = 4
//!   services (api web batch new1); progress (0.75 − 0.4) ÷ 0.4 = 0.875 ≥ 0.95 × 0.5
//!   → on_track. After: 5 of 10 → 0.5, n = 7; progress 0.1 ÷ 0.4 = 0.25 < 0.75 × 1
//!   → off_track.
//! - `lead` (decrease, weight 1): north_star/ticket_wait_time `median_lead_hours`,
//!   baseline 52, target 12. During: tickets T1 T2 (n = 2), lead 24 h and 48 h →
//!   median 36; progress (36 − 52) ÷ (12 − 52) = 0.4: ≥ 0.375 (0.75 × 0.5), < 0.475
//!   → at_risk. After: n = 6 (T1 T2 T3 T4 T5 T7), resolved before 03-18: 6, 12, 24,
//!   48 h → median 18; progress 34 ÷ 40 = 0.85: ≥ 0.75, < 0.95 → at_risk.
//! - objective progress: during (2 × 0.875 + 0.4) ÷ 3 = 0.716̅ ≥ 0.475 → on_track;
//!   after (2 × 0.25 + 0.85) ÷ 3 = 0.45 < 0.75 → off_track.
//!
//! Objective `self_service`:
//! - `rate` (range [0.6, 0.8]): north_star/self_service_rate `rate`, category `all`
//!   by default. During: actions A1 A2 A6 A7 A8 = 5, tickets T1 T2 = 2 → 5/7 =
//!   0.714 inside → progress 1, on_track. After: 8 of 14 → 0.571, outside → 0,
//!   off_track.
//! - `unowned` (increase): platform_adoption `service_share` of team `unowned`, which
//!   has deployments (D9) but no catalog service: its row has n = 0 → current null,
//!   progress null, `no_data`; left out of the objective's mean.
//! - objective progress: during 1 → on_track; after 0 → off_track.

use chrono::{DateTime, Utc};
use northstar::config::Config;
use northstar::lake::Lake;
use northstar::pipeline;
use northstar::report::metrics::Section;
use northstar::window::Window;
use serde_json::{Value as Json, json};
use tempfile::TempDir;

use crate::support::{assert_close, day, north_star_lake, query};

const CONFIG: &str = r#"
[[okrs]]
id = "adoption"
title = "Delivery goes through the platform"
owner = "Head of Platform"
start = "2024-03-04"
end = "2024-03-17"

[[okrs.key_results]]
id = "deploys"
title = "Half of production deployments via the platform"
metric = "north_star/platform_adoption"
field = "deployment_share"
direction = "increase"
baseline = 0.4
target = 0.8
weight = 2

[[okrs.key_results]]
id = "lead"
title = "Tickets resolved faster"
metric = "north_star/ticket_wait_time"
field = "median_lead_hours"
direction = "decrease"
baseline = 52
target = 12

[[okrs]]
id = "self_service"
title = "Self-service first"
owner = "Platform PM"
start = "2024-03-04"
end = "2024-03-17"

[[okrs.key_results]]
id = "rate"
title = "Self-service rate between 60 and 80 %"
metric = "north_star/self_service_rate"
field = "rate"
direction = "range"
range = [0.6, 0.8]

[[okrs.key_results]]
id = "unowned"
title = "Unowned services on the platform"
metric = "north_star/platform_adoption"
field = "service_share"
scope = "team"
key = "unowned"
direction = "increase"
baseline = 0
target = 1
"#;

async fn lake() -> (TempDir, Lake) {
    north_star_lake().await
}

/// `metrics.json` generated at `at` (window 03-01 to 03-25) through the library
/// call every face makes: the document, then the day's check-ins stored.
async fn compute_at(lake: &Lake, config: &Config, at: DateTime<Utc>) -> Json {
    let window = Window {
        from: day("2024-03-01"),
        to: day("2024-03-25"),
    };
    pipeline::compute(lake, config, window, &Section::ALL, at)
        .await
        .expect("compute")
        .doc
}

fn kr(doc: &Json, objective: usize, kr: usize) -> &Json {
    &doc["okrs"]["objectives"][objective]["key_results"][kr]
}

#[tokio::test]
async fn progress_and_status_before_during_and_after_the_period() {
    let (_dir, lake) = lake().await;
    let config = Config::parse(CONFIG, "test").expect("config");

    let before = compute_at(&lake, &config, day("2024-03-01")).await;
    assert_eq!(before["okrs"]["as_of"], "2024-03-01T00:00:00Z");
    for (o, k) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let r = kr(&before, o, k);
        assert_eq!(r["status"], "not_started", "{r}");
        assert_eq!(r["current"], Json::Null);
        assert_eq!(r["progress"], Json::Null);
        assert_close(&r["expected"], 0.0);
        assert_eq!(r["checkins"], json!([]));
    }
    assert_eq!(before["okrs"]["objectives"][0]["status"], "not_started");

    let during = compute_at(&lake, &config, day("2024-03-11")).await;
    let deploys = kr(&during, 0, 0);
    assert_close(&deploys["current"], 0.75);
    assert_eq!(deploys["n"], 4);
    assert_close(&deploys["progress"], 0.875);
    assert_close(&deploys["expected"], 0.5);
    assert_eq!(deploys["status"], "on_track");
    let lead = kr(&during, 0, 1);
    assert_close(&lead["current"], 36.0);
    assert_eq!(lead["n"], 2);
    assert_close(&lead["progress"], 0.4);
    assert_eq!(lead["status"], "at_risk");
    let adoption = &during["okrs"]["objectives"][0];
    assert_close(&adoption["progress"], 2.15 / 3.0);
    assert_eq!(adoption["status"], "on_track");
    let rate = kr(&during, 1, 0);
    assert_close(&rate["current"], 5.0 / 7.0);
    assert_eq!(rate["n"], 7);
    assert_close(&rate["progress"], 1.0);
    assert_eq!(rate["status"], "on_track");
    let unowned = kr(&during, 1, 1);
    assert_eq!(unowned["current"], Json::Null);
    assert_eq!(unowned["n"], 0);
    assert_eq!(unowned["progress"], Json::Null);
    assert_eq!(unowned["status"], "no_data");
    assert_close(&during["okrs"]["objectives"][1]["progress"], 1.0);
    assert_eq!(during["okrs"]["objectives"][1]["status"], "on_track");

    let after = compute_at(&lake, &config, day("2024-03-20")).await;
    let deploys = kr(&after, 0, 0);
    assert_close(&deploys["current"], 0.5);
    assert_eq!(deploys["n"], 7);
    assert_close(&deploys["progress"], 0.25);
    assert_close(&deploys["expected"], 1.0);
    assert_eq!(deploys["status"], "off_track");
    let lead = kr(&after, 0, 1);
    assert_close(&lead["current"], 18.0);
    assert_eq!(lead["n"], 6);
    assert_close(&lead["progress"], 0.85);
    assert_eq!(lead["status"], "at_risk");
    assert_close(&after["okrs"]["objectives"][0]["progress"], 0.45);
    assert_eq!(after["okrs"]["objectives"][0]["status"], "off_track");
    let rate = kr(&after, 1, 0);
    assert_close(&rate["current"], 8.0 / 14.0);
    assert_close(&rate["progress"], 0.0);
    assert_eq!(rate["status"], "off_track");
    assert_eq!(kr(&after, 1, 1)["status"], "no_data");
    assert_eq!(after["okrs"]["objectives"][1]["status"], "off_track");

    // The check-in history: one entry per evaluated day (before the period there is
    // nothing to check in).
    assert_eq!(
        kr(&after, 0, 0)["checkins"],
        json!([
            {"date": "2024-03-11", "value": 0.75, "n": 4},
            {"date": "2024-03-20", "value": 0.5, "n": 7},
        ])
    );
    assert_eq!(
        kr(&after, 1, 1)["checkins"],
        json!([
            {"date": "2024-03-11", "value": null, "n": 0},
            {"date": "2024-03-20", "value": null, "n": 0},
        ])
    );

    let validator = crate::support::metrics_schema();
    for doc in [&before, &during, &after] {
        crate::support::assert_valid_metrics(&validator, doc);
    }
}

#[tokio::test]
async fn computing_twice_the_same_day_replaces_the_check_in() {
    let (_dir, lake) = lake().await;
    let config = Config::parse(CONFIG, "test").expect("config");
    compute_at(&lake, &config, day("2024-03-11")).await;
    let again = compute_at(&lake, &config, day("2024-03-11")).await;
    assert_eq!(
        kr(&again, 0, 0)["checkins"],
        json!([{"date": "2024-03-11", "value": 0.75, "n": 4}])
    );
    let stored = query(
        &lake,
        "SELECT okr_id, kr_id, count(*) AS days FROM okr_checkins GROUP BY okr_id, kr_id ORDER BY okr_id, kr_id",
    )
    .await;
    let days: Vec<(String, i64)> = stored
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["okr_id"].as_str().unwrap(),
                    r["kr_id"].as_str().unwrap()
                ),
                r["days"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("adoption/deploys".to_string(), 1),
            ("adoption/lead".to_string(), 1),
            ("self_service/rate".to_string(), 1),
            ("self_service/unowned".to_string(), 1),
        ]
    );
}

#[test]
fn invalid_key_results_are_rejected() {
    let cases = [
        (
            CONFIG.replace("north_star/ticket_wait_time", "north_star/nope"),
            "metric",
        ),
        (CONFIG.replace("range = [0.6, 0.8]", ""), "range"),
        (CONFIG.replace("key = \"unowned\"", ""), "key"),
        (
            CONFIG.replace("end = \"2024-03-17\"", "end = \"2024-03-01\""),
            "before start",
        ),
    ];
    for (text, needle) in cases {
        let err = Config::parse(&text, "t")
            .and_then(|c| northstar::report::config_check::check(&c))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}
