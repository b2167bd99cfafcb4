//! Golden tests for the five DORA queries on `fixtures/golden/*.csv`.
//!
//! The fixture, in words (all times UTC; window 2024-03-04 (Mon) to 2024-03-18, 14
//! days, ISO weeks starting 03-04 and 03-11):
//!
//! | deployment | service (team) | finished | sha | notes |
//! |---|---|---|---|---|
//! | A0 | api (core) | 02-27 10:00 | a1 | before the window; first api deployment: ships nothing |
//! | A1 | api | 03-04 12:00 | a3 | ships a2 (authored 03-03 10:00 → 26 h), a3 (06:00 → 6 h) |
//! | A2 | api | 03-05 12:00 | a4 | ships a4 (09:00 → 3 h); incident I1 names it explicitly |
//! | A3 | api | 03-06 14:00 | a5 | hotfix; ships a5 (12:00 → 2 h) |
//! | A4 | api | 03-11 10:00 | a6 | staging: not a deployment |
//! | A5 | api | 03-11 11:00 | a6 | status failure: not a deployment |
//! | A6 | api | 03-11 12:00 | a6 | ships a6 (08:00 → 4 h); next deployment is a rollback: failed |
//! | A7 | api | 03-11 13:30 | a5 | rollback (rework); ships nothing (a5 already shipped) |
//! | A8 | api | 03-18 00:00 | a6 | at `to`: outside the window |
//! | W1 | web (core) | 03-05 00:00 | w1 | first web deployment: ships nothing (would be 96 h) |
//! | W2 | web | 03-08 12:00 | w3 | merge of w2 and wb1: ships w3 (12 h), w2 (36 h), wb1 (60 h) |
//! | B1 | batch (data) | 03-12 09:00 | b1 | first batch deployment; I3 blamed by time window |
//! | B2 | batch | 03-13 09:00 | b2 | ships b2 (08:00 → 1 h); finished while I3 open: rework |
//! | L1 | legacy (no catalog row → unowned) | 03-14 10:00 | – | no commits |
//!
//! Incidents: I1 → A2 (explicit, resolved 03-05 15:00: 3 h after A2); I2 → W2 by
//! commit wb1 (resolved 03-09 06:00: 18 h after W2); I3 → B1 by window (started 1 h
//! after B1, unresolved); I4 (web, 03-16) is 7.5 days after W2, beyond the 7-day link
//! window: linked to nothing.

use serde_json::Value as Json;

use crate::support::{assert_close, golden_lake, metrics, metrics_with, query};

const FROM: &str = "2024-03-04";
const TO: &str = "2024-03-18";

#[tokio::test]
async fn incidents_link_by_each_rule_and_not_beyond_the_window() {
    let (_dir, lake) = golden_lake().await;
    let links = query(
        &lake,
        "SELECT incident_id, deployment_id, link_rule FROM incident_links ORDER BY 1",
    )
    .await;
    let got: Vec<(String, String, String)> = links
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("incident_id"), s("deployment_id"), s("link_rule"))
        })
        .collect();
    let expected = [
        ("I1", "A2", "explicit"),
        ("I2", "W2", "commit"),
        ("I3", "B1", "window"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, expected, "I4 must stay unlinked");
}

#[tokio::test]
async fn shipped_commits_follow_the_graph_and_skip_first_deployments() {
    let (_dir, lake) = golden_lake().await;
    let rows = query(
        &lake,
        "SELECT deployment_id, string_agg(commit_sha, ',' ORDER BY commit_sha) AS shas \
         FROM deployment_commits GROUP BY deployment_id ORDER BY deployment_id",
    )
    .await;
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["deployment_id"].as_str().unwrap_or(""),
                r["shas"].as_str().unwrap_or("")
            )
        })
        .collect();
    // A0, W1, B1 are first deployments; A7 redeploys a5; A8 redeploys a6; A4/A5 are
    // not successful production deployments.
    assert_eq!(
        got,
        [
            "A1:a2,a3",
            "A2:a4",
            "A3:a5",
            "A6:a6",
            "B2:b2",
            "W2:w2,w3,wb1"
        ]
    );
}

#[tokio::test]
async fn org_figures_match_the_hand_computation() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, FROM, TO).await;
    let org = &doc["dora"]["org"];

    // Deployment frequency: A1 A2 A3 A6 A7 W1 W2 B1 B2 L1 = 10 over 14 days.
    // Deploy days week 03-04: 04, 05, 06, 08 = 4; week 03-11: 11, 12, 13, 14 = 4;
    // median 4 → high (>= 1, < 5). March: 8 deploy days.
    let df = &org["deployment_frequency"];
    assert_eq!(df["n"], 10);
    assert_eq!(df["deployments"], 10);
    assert_close(&df["per_day"], 10.0 / 14.0);
    assert_close(&df["median_deploy_days_per_week"], 4.0);
    assert_close(&df["median_deploy_days_per_month"], 8.0);
    assert_eq!(df["tier"], "high");

    // Lead time samples (h): 26, 6, 3, 2, 4, 12, 36, 60, 1 → sorted 1 2 3 4 6 12 26 36 60.
    // Median = 6. p90: position 0.9 × 8 = 7.2 → 36 + 0.2 × (60 − 36) = 40.8. Elite (< 24 h).
    let lt = &org["lead_time"];
    assert_eq!(lt["n"], 9);
    assert_close(&lt["median_hours"], 6.0);
    assert!((lt["p90_hours"].as_f64().unwrap_or(0.0) - 40.8).abs() < 1e-6);
    assert_eq!(lt["tier"], "elite");

    // Failed: A2 (I1), A6 (rolled back), W2 (I2), B1 (I3) = 4 of 10 = 0.4 → low (> 15 %).
    let cfr = &org["change_failure_rate"];
    assert_eq!(cfr["n"], 10);
    assert_eq!(cfr["failed"], 4);
    assert_close(&cfr["rate"], 0.4);
    assert_eq!(cfr["tier"], "low");

    // Recovery: A2 3 h, A6 1.5 h (A7 finished 13:30), W2 18 h, B1 unresolved.
    // Timed 1.5, 3, 18 → median 3; p90: 0.9 × 2 = 1.8 → 3 + 0.8 × 15 = 15. High (< 24 h).
    let fdrt = &org["failed_deployment_recovery_time"];
    assert_eq!(fdrt["n"], 4);
    assert_eq!(fdrt["unresolved"], 1);
    assert_close(&fdrt["median_hours"], 3.0);
    assert!((fdrt["p90_hours"].as_f64().unwrap_or(0.0) - 15.0).abs() < 1e-6);
    assert_eq!(fdrt["tier"], "high");

    // Rework: A3 (hotfix), A7 (rollback), B2 (I3 open) = 3 of 10.
    let rw = &org["rework_rate"];
    assert_eq!(rw["n"], 10);
    assert_eq!(rw["rework"], 3);
    assert_close(&rw["rate"], 0.3);
}

#[tokio::test]
async fn teams_and_services_including_unowned() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, FROM, TO).await;
    let teams = &doc["dora"]["teams"];

    // core = api + web: A1 A2 A3 A6 A7 W1 W2 = 7. Week 1 deploy days 04 05 06 08 = 4,
    // week 2: 11 = 1 → median 2.5 → high.
    let core = &teams["core"];
    assert_eq!(core["deployment_frequency"]["n"], 7);
    assert_close(
        &core["deployment_frequency"]["median_deploy_days_per_week"],
        2.5,
    );
    // Lead time 2 3 4 6 12 26 36 60: median (6 + 12) / 2 = 9; p90 0.9 × 7 = 6.3 →
    // 36 + 0.3 × 24 = 43.2 (DataFusion's percentile_cont would say 43.199976).
    assert_eq!(core["lead_time"]["n"], 8);
    assert_close(&core["lead_time"]["median_hours"], 9.0);
    assert!((core["lead_time"]["p90_hours"].as_f64().unwrap_or(0.0) - 43.2).abs() < 1e-9);
    // Failed A2 A6 W2 = 3 of 7.
    assert_eq!(core["change_failure_rate"]["failed"], 3);
    assert_close(&core["change_failure_rate"]["rate"], 3.0 / 7.0);
    assert_eq!(core["rework_rate"]["rework"], 2);

    // data = batch: B1 failed and unresolved → recovery n 1, nothing timed, no tier.
    let data = &teams["data"];
    assert_eq!(data["failed_deployment_recovery_time"]["n"], 1);
    assert_eq!(data["failed_deployment_recovery_time"]["unresolved"], 1);
    assert_eq!(
        data["failed_deployment_recovery_time"]["median_hours"],
        Json::Null
    );
    assert_eq!(data["failed_deployment_recovery_time"]["tier"], Json::Null);
    assert_close(&data["rework_rate"]["rate"], 0.5);

    // legacy has no catalog row: it is counted under `unowned`, never dropped.
    // One deploy day in week 2 → weekly median 0.5; March has 1 → medium.
    let unowned = &teams["unowned"];
    assert_eq!(unowned["deployment_frequency"]["n"], 1);
    assert_eq!(unowned["deployment_frequency"]["tier"], "medium");
    assert_eq!(unowned["lead_time"]["n"], 0);
    assert_eq!(unowned["lead_time"]["tier"], Json::Null);
    assert_eq!(unowned["deployment_frequency"]["low_sample"], true);

    // web: lead time 12, 36, 60 → median 36, p90 0.9 × 2 = 1.8 → 36 + 0.8 × 24 = 55.2, high.
    let web = &doc["dora"]["services"]["web"];
    assert_close(&web["lead_time"]["median_hours"], 36.0);
    assert!((web["lead_time"]["p90_hours"].as_f64().unwrap_or(0.0) - 55.2).abs() < 1e-9);
    assert_eq!(web["lead_time"]["tier"], "high");
    assert_eq!(
        doc["dora"]["services"]["legacy"]["deployment_frequency"]["n"],
        1
    );
}

#[tokio::test]
async fn weekly_series_splits_the_window() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, FROM, TO).await;
    let weeks = doc["dora"]["series"]["week"]["org"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let summary: Vec<(String, u64, u64)> = weeks
        .iter()
        .map(|w| {
            (
                w["period_start"].as_str().unwrap_or("").to_string(),
                w["deployment_frequency"]["n"].as_u64().unwrap_or(99),
                w["change_failure_rate"]["failed"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    // Week 1: A1 A2 A3 W1 W2, failed A2 W2. Week 2: A6 A7 B1 B2 L1, failed A6 B1.
    assert_eq!(
        summary,
        [
            ("2024-03-04".to_string(), 5, 2),
            ("2024-03-11".to_string(), 5, 2)
        ]
    );
    assert_eq!(weeks[0]["period_end"], "2024-03-11");
}

#[tokio::test]
async fn empty_window_has_zero_samples_and_no_tiers() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, "2023-01-02", "2023-01-09").await;
    let org = &doc["dora"]["org"];
    for metric in [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "failed_deployment_recovery_time",
        "rework_rate",
    ] {
        assert_eq!(org[metric]["n"], 0, "{metric}");
        assert_eq!(
            org[metric].get("tier").cloned().unwrap_or(Json::Null),
            Json::Null,
            "{metric}"
        );
    }
    assert_close(&org["deployment_frequency"]["per_day"], 0.0);
    assert_eq!(org["change_failure_rate"]["rate"], Json::Null);
}

#[tokio::test]
async fn lead_time_can_start_at_pr_merge() {
    let (_dir, lake) = golden_lake().await;
    let settings = northstar::config::MetricSettings {
        lead_time_start: northstar::config::LeadTimeStart::PrMerged,
        ..Default::default()
    };
    let doc = metrics_with(&lake, FROM, TO, &settings).await;
    // Only a2 and a3 carry a PR (merged 03-04 09:00), shipped by A1 at 12:00: 3 h each.
    let lt = &doc["dora"]["org"]["lead_time"];
    assert_eq!(lt["n"], 2);
    assert_close(&lt["median_hours"], 3.0);
}
