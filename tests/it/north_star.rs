//! Golden tests for the North Star queries (`queries/north_star/`) on
//! `fixtures/north_star/*.csv`. Every expected figure is worked out by hand below.
//!
//! The fixture, in words (all times UTC; window 2024-03-04 (Mon) to 2024-03-18,
//! 14 days, ISO weeks starting 03-04 and 03-11):
//!
//! Catalog: api (core, on platform), web (core, off), batch (data, on), and new
//! services new1 (core, on, created 03-05 00:00), new2 (data, on, 03-12 00:00), new3
//! (data, on, 03-13 00:00), new4 (core, off, 03-14 00:00), late (data, 03-20: after
//! the window). legacy deploys but has no catalog row (team `unowned`).
//!
//! | deployment | service | finished | via platform | notes |
//! |---|---|---|---|---|
//! | D0 | api | 02-27 10:00 | yes | before the window; ships nothing (first) |
//! | D1 | api | 03-04 12:00 | yes | ships a2 (authored 08:00 → 4 h) |
//! | D2 | api | 03-05 12:00 | yes | ships a3 (02:00 → 10 h) |
//! | D10 | api | 03-07 12:00 | yes | status failure: not a deployment |
//! | D3 | api | 03-11 12:00 | no | ships a4 (03-10 12:00 → 24 h); rolled back: failed, recovered in 2 h |
//! | D3R | api | 03-11 14:00 | no | rollback (rework) |
//! | D4 | web | 03-06 10:00 | no | |
//! | D5 | batch | 03-12 09:00 | yes | |
//! | D6 | new1 | 03-06 12:00 | yes | new1's first: 36 h after creation |
//! | D7 | new2 | 03-12 10:00 | yes | new2's first: 10 h |
//! | D8 | new4 | 03-14 06:00 | no | new4's first: 6 h |
//! | D9 | legacy | 03-14 10:00 | (empty) | unowned |
//! | D11 | new3 | 03-18 00:00 | yes | at `to`: outside, so new3 is still pending |
//!
//! Ephemeral (development/other) deployments of api unless said: pr-9 at 02-28 and
//! 03-05 00:00 (first before the window); pr-12 at 03-05 10:00 and 03-06 16:00 (30 h);
//! web `Preview-7` (tier other) at 03-08 00:00 (one deployment: untimed);
//! review/feature-x at 03-12 00:00 and 12:00 (12 h). Not ephemeral: `dev`
//! (name), pr-13 (staging), pr-14 (failed).
//!
//! Tickets (requester team; created → resolved; status history):
//! - T1 environment, core, 03-04 09:00 → 03-05 09:00 (24 h). To Do 09–13 (4 h, new),
//!   In Progress, Waiting for customer 17:00–01:00 (8 h), In Progress, Done: wait 12 h.
//! - T2 environment, data, 03-06 10:00 → 03-08 10:00 (48 h). To Do 24 h: wait 24 h.
//! - T3 database, core, 03-12 08:00, open. To Do 2 h, In Progress, "Awaiting
//!   approval" from 03-15 00:00 to `to` (72 h): wait 74 h.
//! - T4 access, core, 03-13 12:00 → 18:00 (6 h); no status history: not timed.
//! - T5 environment, core, 03-14 00:00 → 03-20 (after `to`: unresolved). To Do
//!   48 h, then In Progress: wait 48 h.
//! - T6 dns, data, 03-01: before the window.
//! - T7 environment, no requester team (`unowned`), 03-15 00:00 → 12:00 (12 h).
//!   Open (category new) 3 h, "WAITING FOR SUPPORT" (no category) 3 h: wait 6 h.
//!
//! Platform actions (team; requested → completed): A1 environment core 03-04 10:00
//! +0.5 h; A2 environment (no team, service new1 → core) 03-05 10:00 +0.1 h; A3
//! environment data 03-12 +1 h; A4 environment core 03-13, still running; A5
//! environment core, failed; A6 database data; A7, A8 access core; A9 access core
//! before the window; A10 dns data (status `SUCCESS`).
//!
//! Commit authors in the window: ana, bo (acme/api, core), cy (acme/web, core), dee
//! (acme/batch, data), eve (acme/unknown: no deployment → unowned); not counted:
//! zed (before the window), renovate[bot] (name), ci-robot (is_bot).
//!
//! Merged pull requests in the window: api #12, #9, #1, #20; web #7; batch #21. The
//! open #22 and #3 (merged 03-01) are not.

use northstar::config::MetricSettings;
use northstar::engine::Engine;
use northstar::report::json::rows;
use northstar::window::{Window, params};
use serde_json::Value as Json;
use tempfile::TempDir;

use crate::support::{Row, assert_close, day, find, north_star_lake, query_rows};

/// The lake holding the North Star fixture and an engine over it.
async fn open() -> (TempDir, Engine) {
    let (dir, lake) = north_star_lake().await;
    let engine = Engine::open(&lake, &MetricSettings::default())
        .await
        .expect("engine");
    (dir, engine)
}

/// Runs `north_star/<name>` over the fixture window, parameters as `compute` binds them.
async fn run(engine: &Engine, name: &str, scope: &str, grain: &str) -> Vec<Row> {
    let window = Window {
        from: day("2024-03-04"),
        to: day("2024-03-18"),
    };
    let p = params(window, &MetricSettings::default(), scope, grain);
    let id = format!("north_star/{name}");
    query_rows(engine, &id, &p).await
}

fn keys(rows: &[Row], columns: &[&str]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let parts: Vec<&str> = columns
                .iter()
                .map(|c| r[*c].as_str().unwrap_or("?"))
                .collect();
            parts.join("/")
        })
        .collect()
}

#[tokio::test]
async fn platform_adoption_counts_services_and_deployments() {
    let (_dir, engine) = open().await;

    // Services created before 03-18: api web batch new1 new2 new3 new4 = 7 (late is
    // created 03-20); on the platform: api batch new1 new2 new3 = 5.
    // Deployments: D1 D2 D3 D3R D4 D5 D6 D7 D8 D9 = 10 (D0 before, D11 at `to`, D10
    // failed, ephemeral ones not production); via the platform D1 D2 D5 D6 D7 = 5.
    let org = run(&engine, "platform_adoption", "org", "window").await;
    assert_eq!(
        keys(&org, &["scope_key", "period_start"]),
        ["org/2024-03-04"]
    );
    let org = &org[0];
    assert_eq!(org["period_end"], "2024-03-18");
    assert_eq!(org["n"], 7);
    assert_eq!(org["services_on_platform"], 5);
    assert_close(&org["service_share"], 5.0 / 7.0);
    assert_eq!(org["deployments"], 10);
    assert_eq!(org["deployments_via_platform"], 5);
    assert_close(&org["deployment_share"], 0.5);

    // core: api web new1 new4 (on: api new1) → 2/4; deployments D1 D2 D3 D3R D4 D6 D8
    // = 7, via D1 D2 D6 = 3. data: batch new2 new3, all on; D5 D7 both via.
    // unowned: legacy has no catalog row → n 0, share NULL; D9 (via empty) → 0 of 1.
    let teams = run(&engine, "platform_adoption", "team", "window").await;
    assert_eq!(keys(&teams, &["scope_key"]), ["core", "data", "unowned"]);
    let core = find(&teams, &[("scope_key", "core")]);
    assert_eq!(core["n"], 4);
    assert_close(&core["service_share"], 0.5);
    assert_eq!(core["deployments"], 7);
    assert_close(&core["deployment_share"], 3.0 / 7.0);
    let data = find(&teams, &[("scope_key", "data")]);
    assert_eq!(data["n"], 3);
    assert_close(&data["service_share"], 1.0);
    assert_close(&data["deployment_share"], 1.0);
    let unowned = find(&teams, &[("scope_key", "unowned")]);
    assert_eq!(unowned["n"], 0);
    assert_eq!(unowned["service_share"], Json::Null);
    assert_eq!(unowned["deployments"], 1);
    assert_close(&unowned["deployment_share"], 0.0);

    // Services: one row each; new3 has no deployment in the window.
    let services = run(&engine, "platform_adoption", "service", "window").await;
    let new3 = find(&services, &[("scope_key", "new3")]);
    assert_eq!(new3["n"], 1);
    assert_eq!(new3["deployments"], 0);
    assert_eq!(new3["deployment_share"], Json::Null);
}

#[tokio::test]
async fn platform_adoption_weekly_and_monthly() {
    let (_dir, engine) = open().await;
    // Week 03-04 (ends 03-11): services created before 03-11: api web batch new1 = 4,
    // on: api batch new1 = 3. Deployments D1 D2 D4 D6 = 4, via D1 D2 D6 = 3.
    // Week 03-11: 7 services, 5 on; deployments D3 D3R D5 D7 D8 D9 = 6, via D5 D7.
    let weeks = run(&engine, "platform_adoption", "org", "week").await;
    assert_eq!(
        keys(&weeks, &["period_start", "period_end"]),
        ["2024-03-04/2024-03-11", "2024-03-11/2024-03-18"]
    );
    assert_eq!(weeks[0]["n"], 4);
    assert_close(&weeks[0]["service_share"], 0.75);
    assert_eq!(weeks[0]["deployments"], 4);
    assert_close(&weeks[0]["deployment_share"], 0.75);
    assert_eq!(weeks[1]["n"], 7);
    assert_eq!(weeks[1]["deployments"], 6);
    assert_close(&weeks[1]["deployment_share"], 2.0 / 6.0);

    // One month, starting 03-01, cut at the window's end.
    let months = run(&engine, "platform_adoption", "org", "month").await;
    assert_eq!(
        keys(&months, &["period_start", "period_end"]),
        ["2024-03-01/2024-03-18"]
    );
    assert_eq!(months[0]["n"], 7);
    assert_eq!(months[0]["deployments"], 10);
}

#[tokio::test]
async fn time_to_first_deployment_of_new_services() {
    let (_dir, engine) = open().await;
    // Created in the window: new1 → D6 36 h, new2 → D7 10 h, new4 → D8 6 h, new3 →
    // only D11 at `to`: pending. Sorted 6 10 36: median 10; p90 at 0.9 × 2 = 1.8 →
    // 10 + 0.8 × 26 = 30.8.
    let org = run(&engine, "time_to_first_deployment", "org", "window").await;
    assert_eq!(org.len(), 1);
    assert_eq!(org[0]["n"], 3);
    assert_eq!(org[0]["pending"], 1);
    assert_close(&org[0]["median_hours"], 10.0);
    assert_close(&org[0]["p90_hours"], 30.8);

    // core: new1 36, new4 6 → median 21; p90 at 0.9 → 6 + 0.9 × 30 = 33.
    // data: new2 10, new3 pending.
    let teams = run(&engine, "time_to_first_deployment", "team", "window").await;
    assert_eq!(keys(&teams, &["scope_key"]), ["core", "data"]);
    assert_eq!(teams[0]["n"], 2);
    assert_eq!(teams[0]["pending"], 0);
    assert_close(&teams[0]["median_hours"], 21.0);
    assert_close(&teams[0]["p90_hours"], 33.0);
    assert_eq!(teams[1]["n"], 1);
    assert_eq!(teams[1]["pending"], 1);
    assert_close(&teams[1]["median_hours"], 10.0);
    assert_close(&teams[1]["p90_hours"], 10.0);

    // A service with only a pending deployment: n 0, no figures.
    let services = run(&engine, "time_to_first_deployment", "service", "window").await;
    let new3 = find(&services, &[("scope_key", "new3")]);
    assert_eq!(new3["n"], 0);
    assert_eq!(new3["median_hours"], Json::Null);
    assert_eq!(new3["p90_hours"], Json::Null);

    // Weeks: new1 in the first (36 h); new2 10, new4 6, new3 pending in the second →
    // median 8, p90 6 + 0.9 × 4 = 9.6.
    let weeks = run(&engine, "time_to_first_deployment", "org", "week").await;
    assert_eq!(
        keys(&weeks, &["period_start"]),
        ["2024-03-04", "2024-03-11"]
    );
    assert_close(&weeks[0]["median_hours"], 36.0);
    assert_eq!(weeks[1]["n"], 2);
    assert_eq!(weeks[1]["pending"], 1);
    assert_close(&weeks[1]["median_hours"], 8.0);
    assert_close(&weeks[1]["p90_hours"], 9.6);
}

#[tokio::test]
async fn self_service_rate_per_category() {
    let (_dir, engine) = open().await;
    // Actions in the window, not failed: A1 A2 A3 A4 (running counts) environment, A6
    // database, A7 A8 access, A10 dns (`SUCCESS`) = 8; A5 failed, A9 before.
    // Tickets: T1 T2 T5 T7 environment, T3 database, T4 access = 6.
    let org = run(&engine, "self_service_rate", "org", "window").await;
    assert_eq!(
        keys(&org, &["category"]),
        ["access", "all", "database", "dns", "environment"]
    );
    let cat = |c: &str| find(&org, &[("category", c)]).clone();
    let env = cat("environment");
    assert_eq!(
        (env["actions"].clone(), env["tickets"].clone()),
        (4.into(), 4.into())
    );
    assert_eq!(env["n"], 8);
    assert_close(&env["rate"], 0.5);
    assert_close(&cat("database")["rate"], 0.5);
    assert_eq!(cat("access")["n"], 3);
    assert_close(&cat("access")["rate"], 2.0 / 3.0);
    assert_close(&cat("dns")["rate"], 1.0);
    let all = cat("all");
    assert_eq!(all["n"], 14);
    assert_close(&all["rate"], 8.0 / 14.0);

    // core: actions A1, A2 (its service new1 is core's), A4 environment; A7 A8 access.
    // Tickets T1 T5 environment, T3 database, T4 access.
    let teams = run(&engine, "self_service_rate", "team", "window").await;
    let core_env = find(
        &teams,
        &[("scope_key", "core"), ("category", "environment")],
    );
    assert_eq!(core_env["n"], 5);
    assert_close(&core_env["rate"], 0.6);
    let core_db = find(&teams, &[("scope_key", "core"), ("category", "database")]);
    assert_close(&core_db["rate"], 0.0);
    let core_all = find(&teams, &[("scope_key", "core"), ("category", "all")]);
    assert_eq!(core_all["n"], 9);
    assert_close(&core_all["rate"], 5.0 / 9.0);
    // data: A3 A6 A10 and T2 → 3 of 4. unowned: T7 only.
    let data_all = find(&teams, &[("scope_key", "data"), ("category", "all")]);
    assert_close(&data_all["rate"], 0.75);
    let unowned = find(&teams, &[("scope_key", "unowned"), ("category", "all")]);
    assert_eq!(unowned["n"], 1);
    assert_close(&unowned["rate"], 0.0);

    // No service dimension.
    assert!(
        run(&engine, "self_service_rate", "service", "window")
            .await
            .is_empty()
    );

    // Weeks (org, all): week 1 actions A1 A2 A6 A7 A8 = 5, tickets T1 T2 = 2;
    // week 2 actions A3 A4 A10 = 3, tickets T3 T4 T5 T7 = 4.
    let weeks = run(&engine, "self_service_rate", "org", "week").await;
    let w1 = find(
        &weeks,
        &[("period_start", "2024-03-04"), ("category", "all")],
    );
    assert_close(&w1["rate"], 5.0 / 7.0);
    let w2 = find(
        &weeks,
        &[("period_start", "2024-03-11"), ("category", "all")],
    );
    assert_close(&w2["rate"], 3.0 / 7.0);
}

#[tokio::test]
async fn ticket_ops_with_a_configured_developer_count() {
    let (_dir, engine) = open().await;
    let config =
        northstar::config::Config::parse("[north_star]\ndevelopers = 50\n", "t").expect("config");
    let window = Window {
        from: day("2024-03-04"),
        to: day("2024-03-18"),
    };
    let run = async |scope: &str| {
        let p = northstar::window::params_for(window, &config, scope, "window");
        rows(
            &engine
                .run_query("north_star/ticket_ops", &p)
                .await
                .expect("run"),
        )
        .expect("rows")
    };
    // The org's count is the configured 50: 6 tickets → 12 per 100, 4 environment → 8.
    let org = run("org").await;
    let all = find(&org, &[("category", "all")]);
    assert_eq!(all["developers"], 50);
    assert_close(&all["per_100_developers"], 12.0);
    assert_close(
        &find(&org, &[("category", "environment")])["per_100_developers"],
        8.0,
    );
    // Teams keep the commit-author count (core: 3).
    let teams = run("team").await;
    let core = find(&teams, &[("scope_key", "core"), ("category", "all")]);
    assert_eq!(core["developers"], 3);
}

#[tokio::test]
async fn ticket_ops_per_100_developers() {
    let (_dir, engine) = open().await;
    // 6 tickets (4 environment, 1 database, 1 access); developers ana bo cy dee eve = 5.
    let org = run(&engine, "ticket_ops", "org", "window").await;
    assert_eq!(
        keys(&org, &["category"]),
        ["access", "all", "database", "environment"]
    );
    let all = find(&org, &[("category", "all")]);
    assert_eq!(all["n"], 6);
    assert_eq!(all["developers"], 5);
    assert_close(&all["per_100_developers"], 120.0);
    let env = find(&org, &[("category", "environment")]);
    assert_eq!(env["tickets"], 4);
    assert_close(&env["per_100_developers"], 80.0);

    // core: T1 T3 T4 T5 (2 environment); developers ana bo (api) cy (web) = 3.
    // data: T2; dee. unowned: T7; eve (acme/unknown: no deployment names it).
    let teams = run(&engine, "ticket_ops", "team", "window").await;
    let core = find(&teams, &[("scope_key", "core"), ("category", "all")]);
    assert_eq!(core["n"], 4);
    assert_eq!(core["developers"], 3);
    assert_close(&core["per_100_developers"], 400.0 / 3.0);
    let core_env = find(
        &teams,
        &[("scope_key", "core"), ("category", "environment")],
    );
    assert_close(&core_env["per_100_developers"], 200.0 / 3.0);
    let data = find(&teams, &[("scope_key", "data"), ("category", "all")]);
    assert_eq!(data["developers"], 1);
    assert_close(&data["per_100_developers"], 100.0);
    let unowned = find(&teams, &[("scope_key", "unowned"), ("category", "all")]);
    assert_eq!(unowned["developers"], 1);
    assert_close(&unowned["per_100_developers"], 100.0);

    // Weeks: T1 T2 with ana bo cy eve (a2 a3 w1 u1; a4 is 03-10) = 4 → 50;
    // T3 T4 T5 T7 with dee = 1 → 400.
    let weeks = run(&engine, "ticket_ops", "org", "week").await;
    let w1 = find(
        &weeks,
        &[("period_start", "2024-03-04"), ("category", "all")],
    );
    assert_eq!(w1["developers"], 4);
    assert_close(&w1["per_100_developers"], 50.0);
    let w2 = find(
        &weeks,
        &[("period_start", "2024-03-11"), ("category", "all")],
    );
    assert_close(&w2["per_100_developers"], 400.0);
}

#[tokio::test]
async fn ticket_wait_and_lead_time() {
    let (_dir, engine) = open().await;
    // Waits (h): T1 12, T2 24, T3 74, T5 48, T7 6; T4 has no history. Sorted 6 12 24 48
    // 74: median 24; p85 at 0.85 × 4 = 3.4 → 48 + 0.4 × 26 = 58.4.
    // Lead (resolved before `to`): T1 24, T2 48, T4 6, T7 12 → median 18; p85 at
    // 0.85 × 3 = 2.55 → 24 + 0.55 × 24 = 37.2.
    let org = run(&engine, "ticket_wait_time", "org", "window").await;
    assert_eq!(org.len(), 1);
    let org = &org[0];
    assert_eq!(org["n"], 6);
    assert_eq!(org["waited"], 5);
    assert_close(&org["median_wait_hours"], 24.0);
    assert_close(&org["p85_wait_hours"], 58.4);
    assert_eq!(org["resolved"], 4);
    assert_close(&org["median_lead_hours"], 18.0);
    assert_close(&org["p85_lead_hours"], 37.2);

    // core: T1 12, T3 74, T5 48 → median 48, p85 at 1.7 → 48 + 0.7 × 26 = 66.2; lead
    // T1 24, T4 6 → median 15, p85 at 0.85 → 6 + 0.85 × 18 = 21.3.
    let teams = run(&engine, "ticket_wait_time", "team", "window").await;
    assert_eq!(keys(&teams, &["scope_key"]), ["core", "data", "unowned"]);
    let core = &teams[0];
    assert_eq!(core["n"], 4);
    assert_eq!(core["waited"], 3);
    assert_close(&core["median_wait_hours"], 48.0);
    assert_close(&core["p85_wait_hours"], 66.2);
    assert_eq!(core["resolved"], 2);
    assert_close(&core["median_lead_hours"], 15.0);
    assert_close(&core["p85_lead_hours"], 21.3);
    // unowned = T7: the upper-case waiting status with no category counts.
    assert_close(&teams[2]["median_wait_hours"], 6.0);
    assert_close(&teams[2]["median_lead_hours"], 12.0);

    // Week 1: T1 12, T2 24 → median 18, p85 12 + 0.85 × 12 = 22.2.
    // Week 2: T3 74, T5 48, T7 6 → median 48, p85 66.2; lead T4 6, T7 12 → 9.
    let weeks = run(&engine, "ticket_wait_time", "org", "week").await;
    assert_eq!(
        keys(&weeks, &["period_start"]),
        ["2024-03-04", "2024-03-11"]
    );
    assert_close(&weeks[0]["median_wait_hours"], 18.0);
    assert_close(&weeks[0]["p85_wait_hours"], 22.2);
    assert_eq!(weeks[1]["n"], 4);
    assert_close(&weeks[1]["median_wait_hours"], 48.0);
    assert_close(&weeks[1]["p85_wait_hours"], 66.2);
    assert_close(&weeks[1]["median_lead_hours"], 9.0);
}

#[tokio::test]
async fn provisioning_lead_time_ticket_vs_self_service() {
    let (_dir, engine) = open().await;
    // Tickets: T1 24, T2 48, T7 12, T5 pending → median 24, p90 at 1.8 → 24 + 0.8 × 24
    // = 43.2. Self-service: A1 0.5, A2 0.1, A3 1.0, A4 pending (A5 failed) → median
    // 0.5, p90 0.5 + 0.8 × 0.5 = 0.9.
    let org = run(&engine, "provisioning_lead_time", "org", "window").await;
    assert_eq!(keys(&org, &["path"]), ["self_service", "ticket"]);
    let ticket = find(&org, &[("path", "ticket")]);
    assert_eq!(ticket["n"], 3);
    assert_eq!(ticket["pending"], 1);
    assert_close(&ticket["median_hours"], 24.0);
    assert_close(&ticket["p90_hours"], 43.2);
    let own = find(&org, &[("path", "self_service")]);
    assert_eq!(own["n"], 3);
    assert_eq!(own["pending"], 1);
    assert_close(&own["median_hours"], 0.5);
    assert_close(&own["p90_hours"], 0.9);

    // core: tickets T1 24 (T5 pending); self-service A1 0.5, A2 0.1 → median 0.3, p90
    // at 0.9 → 0.1 + 0.9 × 0.4 = 0.46. data: T2 48, A3 1.
    let teams = run(&engine, "provisioning_lead_time", "team", "window").await;
    let core_ticket = find(&teams, &[("scope_key", "core"), ("path", "ticket")]);
    assert_eq!(core_ticket["n"], 1);
    assert_eq!(core_ticket["pending"], 1);
    assert_close(&core_ticket["median_hours"], 24.0);
    let core_own = find(&teams, &[("scope_key", "core"), ("path", "self_service")]);
    assert_eq!(core_own["n"], 2);
    assert_close(&core_own["median_hours"], 0.3);
    assert_close(&core_own["p90_hours"], 0.46);
    let data_ticket = find(&teams, &[("scope_key", "data"), ("path", "ticket")]);
    assert_close(&data_ticket["median_hours"], 48.0);
    let unowned = find(&teams, &[("scope_key", "unowned"), ("path", "ticket")]);
    assert_close(&unowned["median_hours"], 12.0);
}

#[tokio::test]
async fn ephemeral_environments_count_lifetime_and_pr_share() {
    let (_dir, engine) = open().await;
    // Environments first deployed in the window: api pr-12 (30 h), web Preview-7 (one
    // deployment: untimed), api review/feature-x (12 h) → 3, timed 2, median 21.
    // pr-9 started 02-28: not new, but its 03-05 deployment counts. Deployments in
    // the window: pr-9, pr-12 ×2, Preview-7, review ×2 = 6.
    // Merged PRs: #12 (pr-12), #9 (pr-9), #7 (Preview-7), #20, #21, #1 (pr-12's
    // number is 12, not 1) → 3 of 6.
    let org = run(&engine, "ephemeral_environments", "org", "window").await;
    assert_eq!(org.len(), 1);
    let org = &org[0];
    assert_eq!(org["n"], 3);
    assert_eq!(org["environments"], 3);
    assert_eq!(org["timed"], 2);
    assert_close(&org["median_lifetime_hours"], 21.0);
    assert_eq!(org["deployments"], 6);
    assert_eq!(org["merged_prs"], 6);
    assert_eq!(org["prs_with_environment"], 3);
    assert_close(&org["pr_share"], 0.5);

    // core (api, web): all environments; PRs #12 #9 #7 #20 #1 → 3 of 5.
    // data (batch): #21 without one → 0 of 1, no environments.
    let teams = run(&engine, "ephemeral_environments", "team", "window").await;
    assert_eq!(keys(&teams, &["scope_key"]), ["core", "data"]);
    assert_eq!(teams[0]["n"], 3);
    assert_eq!(teams[0]["merged_prs"], 5);
    assert_close(&teams[0]["pr_share"], 0.6);
    assert_eq!(teams[1]["n"], 0);
    assert_eq!(teams[1]["median_lifetime_hours"], Json::Null);
    assert_close(&teams[1]["pr_share"], 0.0);
}

#[tokio::test]
async fn dora_score_follows_the_quick_check_buckets() {
    let (_dir, engine) = open().await;
    // org: 10 deployments over 14 days (≥ 1/7 a day, < 1 a day) → answer 4 → 6.
    // Lead time 4, 10, 24 h → median 10 (< 1 day) → 8. Recovery: D3 rolled back in
    // 2 h → 8. Failed D3: 1 of 10 → 9. Rework D3R: 1 of 10 → 9.
    // Throughput (8 + 6 + 8) / 3; stability 9; score 40 / 5 = 8.
    let org = run(&engine, "dora_score", "org", "window").await;
    assert_eq!(org.len(), 1);
    let org = &org[0];
    assert_eq!(org["n"], 10);
    assert_close(&org["deploys_per_day"], 10.0 / 14.0);
    assert_close(&org["median_lead_hours"], 10.0);
    assert_close(&org["median_recovery_hours"], 2.0);
    assert_close(&org["lead_time_score"], 8.0);
    assert_close(&org["deployment_frequency_score"], 6.0);
    assert_close(&org["recovery_score"], 8.0);
    assert_close(&org["change_failure_score"], 9.0);
    assert_close(&org["rework_score"], 9.0);
    assert_close(&org["throughput_score"], 22.0 / 3.0);
    assert_close(&org["stability_score"], 9.0);
    assert_close(&org["score"], 8.0);
    assert_eq!(org["scored"], 5);
    assert_close(&org["benchmark_score"], 4.3);
    assert_close(&org["benchmark_change_failure_score"], 8.1);

    // core: 7 deployments (49 ≥ 14 → 6), lead 8, recovery 8, failure and rework 1 of
    // 7 → 60/7 each. Score (22 + 120/7) / 5 = 274/35.
    // data: D5 D7 (2 × 7 = 14 ≥ 14 → 6); no commits, no failure → lead and recovery
    // NULL, left out: throughput 6, score (6 + 10 + 10) / 3.
    // unowned: D9 alone (7 < 14, 30 ≥ 14 → 4).
    let teams = run(&engine, "dora_score", "team", "window").await;
    assert_eq!(keys(&teams, &["scope_key"]), ["core", "data", "unowned"]);
    let core = &teams[0];
    assert_eq!(core["n"], 7);
    assert_close(&core["change_failure_score"], 60.0 / 7.0);
    assert_close(&core["score"], 274.0 / 35.0);
    let data = &teams[1];
    assert_eq!(data["lead_time_score"], Json::Null);
    assert_eq!(data["recovery_score"], Json::Null);
    assert_close(&data["deployment_frequency_score"], 6.0);
    assert_close(&data["throughput_score"], 6.0);
    assert_close(&data["score"], 26.0 / 3.0);
    assert_eq!(data["scored"], 3);
    assert_close(&teams[2]["deployment_frequency_score"], 4.0);
}
