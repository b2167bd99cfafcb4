//! The PagerDuty collector against a fake PagerDuty (tests/it/fake_pagerduty.rs),
//! run as a user runs it: the binary, a config file, the token in an environment
//! variable.
//!
//! The scenario (hours after 2025-03-01T00:00Z; `services` maps "Checkout API" to
//! `checkout`; severities P1 → sev1, P2 → sev2, high → sev2):
//!
//! ```text
//! incident  service       priority/urgency  created  acks (log)    status        resolved
//! Q1CHK01   Checkout API  P1 / high         12       12.25         resolved      14
//! Q1CHK02   Checkout API  – / high          13       13.5, 13.1    resolved      16
//! Q1SRC01   search        P3 / high         20       –             resolved      20.2
//! Q1PAY01   payments      – / low           31       31.5, 31.75   acknowledged  – (lists 31.75)
//! Q1CHK03   Checkout API  P2 / high         52       52.1          resolved      53
//! deployments (production, success): D1 checkout 1 · D2 checkout 10 · D3 payments 5
//!                                    D4 payments 30 · D5 checkout 50
//! ```
//!
//! Worked out by hand:
//! - severities: sev1, sev2 (urgency), P3 (unmapped, kept), low (kept), sev2.
//! - acknowledged: first log entry (13.1, not 13.5); none for Q1SRC01; Q1PAY01 is
//!   acknowledged and lists 31.75, so its log is not read until it resolves, when
//!   the log's first entry (31.5) replaces it.
//! - links (same service, latest deployment finished at or before the start, within
//!   7 days): Q1CHK01, Q1CHK02 → D2; Q1PAY01 → D4; Q1CHK03 → D5; Q1SRC01 none.
//! - change failure rate: D2, D4, D5 failed of 5 → 0.6.
//! - recovery: D2 16 − 10 = 6 h, D5 53 − 50 = 3 h, D4 waits for Q1PAY01; once
//!   it resolves at 40: D4 10 h → median of 3, 6, 10 = 6 h, none unresolved.

use std::path::{Path, PathBuf};

use crate::collector_runs::{
    self, Run, assert_rejected_once, open_lake, strings, times, write_config,
};
use crate::fake_pagerduty::{self, Bulk, FakeIncident, World, at, rate_limit, time};
use crate::fake_server::{Fault, Logged};
use crate::support::{assert_close, metrics, query, seed, write_file};

const TOKEN: &str = "u+PDtestTOKENvalue0123456789";
const TOKEN_ENV: &str = "NORTHSTAR_TEST_PD_TOKEN";

/// The scenario's source: `services` maps "Checkout API", severities map P1, P2
/// and high.
const SOURCE: &str = r#"
[sources.services]
"Checkout API" = "checkout"
[sources.tickets.severities]
P1 = "sev1"
P2 = "sev2"
high = "sev2"
"#;

fn head(url: &str, since: &str) -> String {
    format!(
        "[[sources]]\nkind = \"pagerduty\"\nname = \"pd\"\napi_url = \"{url}\"\ntoken_env = \"{TOKEN_ENV}\"\nsince = \"{since}\"\n"
    )
}

/// The scenario's config, with the shared test HTTP settings (two per page).
fn config(dir: &Path, url: &str) -> PathBuf {
    write_config(dir, &format!("{}{SOURCE}", head(url, "2025-03-01")))
}

/// A backfill config: PagerDuty's usual 100 per page.
fn backfill_config(dir: &Path, url: &str) -> PathBuf {
    let text = format!(
        "[lake]\npath = \"{}\"\n\n{}\n[sources.http]\nbackoff_secs = 0.05\nper_page = 100\n",
        dir.join("lake").display(),
        head(url, "2025-01-01")
    );
    write_file(dir, "northstar.toml", &text)
}

async fn collect(config: &Path, token: &str, extra_args: &[&str]) -> Run {
    collector_runs::collect(config, &[(TOKEN_ENV, token)], extra_args).await
}

#[allow(clippy::too_many_arguments)]
fn incident(
    id: &'static str,
    title: &'static str,
    service: &'static str,
    priority: Option<&'static str>,
    urgency: &'static str,
    created: f64,
    acks: &[f64],
    status: &'static str,
    resolved: Option<f64>,
) -> FakeIncident {
    FakeIncident {
        id,
        title,
        service,
        urgency,
        priority,
        created,
        status,
        acks: acks.to_vec(),
        listed_acks: Vec::new(),
        resolved,
    }
}

fn scenario() -> World {
    let mut payments = incident(
        "Q1PAY01",
        "payment latency p99 > 2s",
        "payments",
        None,
        "low",
        31.0,
        &[31.5, 31.75],
        "acknowledged",
        None,
    );
    payments.listed_acks = vec![31.75];
    World::of(vec![
        incident(
            "Q1CHK01",
            "checkout 5xx > 2%",
            "Checkout API",
            Some("P1"),
            "high",
            12.0,
            &[12.25],
            "resolved",
            Some(14.0),
        ),
        incident(
            "Q1CHK02",
            "checkout timeouts",
            "Checkout API",
            None,
            "high",
            13.0,
            &[13.5, 13.1],
            "resolved",
            Some(16.0),
        ),
        incident(
            "Q1SRC01",
            "search index lag",
            "search",
            Some("P3"),
            "high",
            20.0,
            &[],
            "resolved",
            Some(20.2),
        ),
        payments,
        incident(
            "Q1CHK03",
            "checkout 5xx again",
            "Checkout API",
            Some("P2"),
            "high",
            52.0,
            &[52.1],
            "resolved",
            Some(53.0),
        ),
    ])
}

/// [`time`] as [`times`] shows it.
fn hours(h: f64) -> String {
    time(h).format("%Y-%m-%d %H:%M:%S").to_string()
}

const INCIDENTS_SQL: &str = "SELECT incident_id, source, service, severity, title, \
     CAST(started_at AS VARCHAR) AS started, CAST(acknowledged_at AS VARCHAR) AS acked, \
     CAST(resolved_at AS VARCHAR) AS resolved, caused_by_deployment_id, caused_by_commit_sha \
     FROM incidents ORDER BY incident_id";

/// Production deployments and the catalog, imported as CSV.
async fn seed_deployments(dir: &Path, lake: &northstar::lake::Lake) {
    let services = write_file(
        dir,
        "services.csv",
        "service,team,created_at,tier,on_platform\ncheckout,core,2024-06-01,tier-1,true\npayments,money,2024-06-01,tier-1,true\nsearch,core,2024-06-01,tier-2,true\n",
    );
    let mut csv = String::from(
        "deployment_id,source,repo,service,environment,env_tier,status,commit_sha,started_at,finished_at,kind,via_platform\n",
    );
    for (id, service, h) in [
        ("D1", "checkout", 1.0),
        ("D2", "checkout", 10.0),
        ("D3", "payments", 5.0),
        ("D4", "payments", 30.0),
        ("D5", "checkout", 50.0),
    ] {
        csv.push_str(&format!(
            "{id},deploy,acme/{service},{service},prod,production,success,{id}sha,{},{},planned,true\n",
            at(h - 0.1),
            at(h)
        ));
    }
    let deployments = write_file(dir, "deployments.csv", &csv);
    seed(
        lake,
        &[("services", services), ("deployments", deployments)],
    )
    .await;
}

/// How many 180-day windows reach from `since` to now.
fn windows_since(since: &str) -> usize {
    let span = chrono::Utc::now() - crate::support::day(since);
    let window = 180 * 86_400;
    ((span.num_seconds() + window - 1) / window) as usize
}

fn tries(log: &[Logged], needle: &str) -> Vec<u16> {
    log.iter()
        .filter(|l| l.target.contains(needle))
        .map(|l| l.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pagerduty_collect_is_exact_resilient_and_repolls_open_incidents() {
    let fake = fake_pagerduty::start(TOKEN, scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    let lake = open_lake(dir.path());
    seed_deployments(dir.path(), &lake).await;
    fake.shared
        .fault("asc&time_zone=UTC&limit=2&offset=2", rate_limit());
    fake.shared
        .fault("/incidents/Q1CHK03/log_entries", Fault::bad_gateway());

    // Run 1: three pages of the first window, an empty page per later window up to
    // today, four logs (not Q1PAY01's), through a 429 and a 502.
    let first = collect(&cfg, TOKEN, &[]).await;
    assert!(first.ok, "collect failed: {}", first.stderr);
    let log = fake.shared.log();
    assert!(log.iter().all(|l| l.user_agent_ok));
    assert_eq!(
        tries(&log, "asc&time_zone=UTC&limit=2&offset=2"),
        [429, 200]
    );
    assert_eq!(
        tries(&log, "/incidents/Q1CHK03/log_entries"),
        [502, 200, 200],
        "four log entries, two per page"
    );
    assert!(tries(&log, "/incidents/Q1PAY01/log_entries").is_empty());
    let lists: Vec<&str> = log
        .iter()
        .filter(|l| l.target.starts_with("/incidents?"))
        .map(|l| l.target.as_str())
        .collect();
    let windows = windows_since("2025-03-01");
    assert_eq!(lists.len(), 3 + 1 + (windows - 1), "{lists:#?}");
    // Log pages: Q1CHK01 2, Q1CHK02 3, Q1SRC01 2, Q1CHK03 2, and the 502.
    assert_eq!(log.len(), lists.len() + 9 + 1, "{log:#?}");
    assert!(
        first.stdout.contains("pd: 5 new, 0 updated") && first.stdout.contains("incidents 5"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("2 retries") && first.stdout.contains("1 rate-limit waits"),
        "{}",
        first.stdout
    );

    let rows = query(&lake, INCIDENTS_SQL).await;
    assert_eq!(
        strings(&rows, "incident_id"),
        ["Q1CHK01", "Q1CHK02", "Q1CHK03", "Q1PAY01", "Q1SRC01"].map(|i| format!("pd:{i}"))
    );
    assert_eq!(
        strings(&rows, "service"),
        ["checkout", "checkout", "checkout", "payments", "search"]
    );
    assert_eq!(
        strings(&rows, "severity"),
        ["sev1", "sev2", "sev2", "low", "P3"]
    );
    assert_eq!(
        strings(&rows, "title"),
        [
            "checkout 5xx > 2%",
            "checkout timeouts",
            "checkout 5xx again",
            "payment latency p99 > 2s",
            "search index lag"
        ]
    );
    assert_eq!(
        times(&rows, "started"),
        [12.0, 13.0, 52.0, 31.0, 20.0].map(hours)
    );
    let mut acked: Vec<String> = [12.25, 13.1, 52.1, 31.75].map(hours).to_vec();
    acked.push("null".into());
    assert_eq!(times(&rows, "acked"), acked);
    let mut resolved: Vec<String> = [14.0, 16.0, 53.0].map(hours).to_vec();
    resolved.extend(["null".to_string(), hours(20.2)]);
    assert_eq!(times(&rows, "resolved"), resolved);
    assert!(rows.iter().all(|r| r["source"] == "pd"
        && r["caused_by_deployment_id"].is_null()
        && r["caused_by_commit_sha"].is_null()));

    // Links and outcomes per deployment (metrics are computed once, at the end).
    let outcomes = query(
        &lake,
        "SELECT deployment_id, failed, linked_incidents, CAST(recovered_at AS VARCHAR) AS recovered \
         FROM deployment_outcomes ORDER BY deployment_id",
    )
    .await;
    assert_eq!(
        strings(&outcomes, "deployment_id"),
        ["D1", "D2", "D3", "D4", "D5"]
    );
    let failed: Vec<bool> = outcomes.iter().map(|o| o["failed"] == true).collect();
    assert_eq!(failed, [false, true, false, true, true]);
    let linked: Vec<i64> = outcomes
        .iter()
        .map(|o| o["linked_incidents"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(linked, [0, 2, 0, 1, 1]);
    assert_eq!(
        times(&outcomes, "recovered"),
        [
            "null".into(),
            hours(16.0),
            "null".into(),
            "null".into(),
            hours(53.0)
        ],
        "D2 by its later incident; D4 waits for the open Q1PAY01"
    );

    // Run 2: nothing changed. The overlap re-reads Q1CHK03 (its log again); the open
    // Q1PAY01 is read by id, still acknowledged, its log still not needed.
    let seen = fake.shared.log().len();
    let second = collect(&cfg, TOKEN, &[]).await;
    assert!(second.ok, "{}", second.stderr);
    let run2: Vec<String> = fake.shared.log()[seen..]
        .iter()
        .map(|l| l.target.clone())
        .collect();
    assert!(
        run2.iter().any(|t| t.starts_with("/incidents/Q1PAY01?")),
        "{run2:#?}"
    );
    assert!(!run2.iter().any(|t| t.contains("Q1PAY01/log_entries")));
    assert!(
        run2[0].contains(&format!("since={}", at(51.5).replace(':', "%3A"))),
        "watermark 52 h minus 30 min overlap: {}",
        run2[0]
    );
    assert!(
        second.stdout.contains("pd: 0 new, 0 updated"),
        "{}",
        second.stdout
    );

    // Upstream: Q1PAY01 resolves at 40 h; PagerDuty empties its acknowledgements.
    {
        let mut world = fake.shared.world.lock().expect("world");
        if let Some(i) = world.incidents.iter_mut().find(|i| i.id == "Q1PAY01") {
            i.status = "resolved";
            i.listed_acks.clear();
            i.resolved = Some(40.0);
        }
    }
    let third = collect(&cfg, TOKEN, &[]).await;
    assert!(third.ok, "{}", third.stderr);
    assert!(
        third.stdout.contains("pd: 0 new, 1 updated"),
        "{}",
        third.stdout
    );
    let rows = query(&lake, INCIDENTS_SQL).await;
    let pay = rows
        .iter()
        .find(|r| r["incident_id"] == "pd:Q1PAY01")
        .expect("Q1PAY01");
    let pay = std::slice::from_ref(pay);
    assert_eq!(
        times(pay, "acked"),
        [hours(31.5)],
        "the log's first acknowledgement"
    );
    assert_eq!(times(pay, "resolved"), [hours(40.0)]);
    let m = metrics(&lake, "2025-03-01", "2025-03-04").await;
    let cfr = &m["dora"]["org"]["change_failure_rate"];
    assert_eq!(
        (cfr["n"].as_i64(), cfr["failed"].as_i64()),
        (Some(5), Some(3)),
        "{cfr}"
    );
    assert_close(&cfr["rate"], 0.6);
    let rec = &m["dora"]["org"]["failed_deployment_recovery_time"];
    assert_eq!(
        (rec["n"].as_i64(), rec["unresolved"].as_i64()),
        (Some(3), Some(0)),
        "{rec}"
    );
    assert_close(&rec["median_hours"], 6.0);

    // Run 4: resolved incidents are no longer polled.
    let seen = fake.shared.log().len();
    let fourth = collect(&cfg, TOKEN, &[]).await;
    assert!(fourth.ok, "{}", fourth.stderr);
    assert!(
        !fake.shared.log()[seen..]
            .iter()
            .any(|l| l.target.starts_with("/incidents/Q1PAY01")),
        "settled incidents leave the pending list"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_pagerduty_token_is_one_clear_line() {
    let fake = fake_pagerduty::start(TOKEN, scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    let wrong = "u+WRONGpdSECRET987654321";
    let run = collect(&cfg, wrong, &["-vv"]).await;
    assert_rejected_once(&run, TOKEN_ENV, fake.shared.log().len(), &[wrong]);
}

/// 10 500 incidents, one every 20 minutes from 2025-01-10, all in the first
/// 180-day window: more than offset paging reaches. Read three ways: the first
/// page's `total` says to split; without `total`, the next page would pass the cap;
/// and with a server whose cap is lower than documented (5 000), its 400 says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_window_over_ten_thousand_incidents_is_split_until_everything_is_read() {
    let start = time(0.0).timestamp() - 50 * 86_400;
    let bulk = Bulk {
        count: 10_500,
        start,
        step_secs: 1_200,
    };
    for (totals, cap) in [(true, 10_000), (false, 10_000), (false, 5_000)] {
        let mut world = World::of(Vec::new());
        world.bulk = Some(bulk);
        world.totals = totals;
        world.offset_cap = cap;
        let fake = fake_pagerduty::start(TOKEN, world).await;
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = backfill_config(dir.path(), &fake.url);
        let run = collect(&cfg, TOKEN, &[]).await;
        assert!(run.ok, "totals {totals}, cap {cap}: {}", run.stderr);
        let log = fake.shared.log();
        let refused = log.iter().filter(|l| l.status == 400).count();
        assert_eq!(
            refused,
            usize::from(cap < 10_000) * 2,
            "totals {totals}, cap {cap}"
        );
        let lake = open_lake(dir.path());
        let counted = query(
            &lake,
            "SELECT count(*) AS n, count(DISTINCT incident_id) AS ids, \
             CAST(min(started_at) AS VARCHAR) AS first, CAST(max(started_at) AS VARCHAR) AS last \
             FROM incidents",
        )
        .await;
        assert_eq!(counted[0]["n"], 10_500, "totals {totals}, cap {cap}");
        assert_eq!(counted[0]["ids"], 10_500);
        let first = chrono::DateTime::from_timestamp(start, 0).expect("t");
        let last = chrono::DateTime::from_timestamp(start + 10_499 * 1_200, 0).expect("t");
        assert_eq!(
            times(&counted, "first"),
            [first.format("%Y-%m-%d %H:%M:%S").to_string()]
        );
        assert_eq!(
            times(&counted, "last"),
            [last.format("%Y-%m-%d %H:%M:%S").to_string()]
        );
    }
}
