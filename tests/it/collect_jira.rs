//! The Jira collector against a fake Jira Cloud + Service Management serving the
//! vendor's example payloads (tests/it/fake_jira.rs), run as a user runs it: the
//! binary, a config file, the account email and API token in environment variables.
//!
//! The scenario (hours after 2025-03-01T00:00Z; Jira writes every time in the
//! user's zone, +10:00). Statuses of the site: Open, Waiting for support → new;
//! In Progress, Investigating, Waiting for customer → indeterminate; Resolved, Done,
//! Review → done; "Triage" is not in the list.
//!
//! ```text
//! issue   type             created updated status (category)     status changes
//! HELP-1  Service Request  0       6       Resolved (done)       2 WfS→IP, 3 IP→WfC, 5 WfC→IP,
//!                                                                5.5 IP→WfC, 5.75 WfC→IP, 6 IP→Resolved
//!         request type "New environment (staging)", requester field "payments",
//!         labels team-platform, env; JSM "Time to first response" stopped at 1.5
//! HELP-2  Service Request  1       4.5     In Progress (indet.)  4 WfS→Triage, 4.5 Triage→IP
//!         request type {"name": "Access request"}, labels db-readonly, team-data,
//!         JSM first-response SLA still running
//! OPS-5   Task             7       9       Review (indeterminate: its own, the site says done)
//!                                                                8 Open→IP, 9 IP→Review
//!         labels team-platform; no request type (no SLA request)
//! OPS-4   Bug              9       10      neither incident nor request: no rows
//! OPS-1   Incident         12      14      Resolved              12.25 Open→Investigating, 14 →Resolved
//!         Checkout, Highest, caused-by field "gh:acme/checkout:2"
//! OPS-2   Incident         30      33      Resolved              30.5 Open→Investigating, 33 →Resolved
//!         Payments, High, description names commit p1
//! OPS-3   Incident         50      50.5    Investigating         50.2 Open→Investigating
//!         Checkout, Medium
//! ```
//!
//! Worked out by hand (per_page = 2; the fake serves 2 change groups per
//! changelog page, and every issue has one label-change group besides its status
//! changes):
//! - Requests: 1 status list, 4 search pages, 13 changelog pages (HELP-1 7 groups →
//!   4, HELP-2, OPS-5, OPS-1, OPS-2 3 → 2 each, OPS-3 2 → 1; none for the Bug),
//!   2 SLA reads (the issues with a request type): 20, plus 3 retries for the
//!   faults (429 on the first search page, 503 on a changelog page, a cut-off SLA
//!   body) = 23. Records read: 7 issues + 21 change groups = 28.
//! - tickets: HELP-1 category "environments" (request-type rule), requester
//!   "payments", assignee "platform" (label team-*), first response 1.5 (the SLA,
//!   not the 2.0 transition); HELP-2 category "database" (label rule), assignee
//!   "data", first response 4.5 (SLA running → first move into a known non-new
//!   category; Triage has none); OPS-5 category "Task", first response 8.
//! - ticket_transitions: a creation row into the first status, then each change:
//!   7 + 3 + 3 = 13. OPS-5's move to Review is `indeterminate` (the issue's own
//!   category for its current status wins over the site list).
//! - Wait times (SQL, `lead(at)` over the transitions): HELP-1 waited for support
//!   0 → 2 = 2 h and for the customer 3 → 5 and 5.5 → 5.75 = 2.25 h; HELP-2 waited
//!   for support 1 → 4 = 3 h.
//! - incidents: OPS-1 checkout sev1, acknowledged 12.25, resolved 14, blames
//!   deployment gh:acme/checkout:2; OPS-2 payments sev2, 30.5, 33, blames commit p1;
//!   OPS-3 checkout "Medium" (unmapped), 50.2, open.
//! - Run 2: watermark 50.5 h = 2025-03-03 02:30Z, minus a day and a minute →
//!   `updated >= "2025-03-02 02:29"`, read by the fake at +10:00 (= 2025-03-01
//!   16:29Z): OPS-2 and OPS-3 again, nothing written.

use base64::Engine as _;
use chrono::SecondsFormat;
use serde_json::Value as Json;

use crate::collector_runs::{
    Run, assert_rejected_once, collect, lake_files, open_lake, strings, times, write_config,
};
use crate::fake_jira::{self, FakeIssue, World, sha, time};
use crate::fake_server::Logged;
use crate::support::{assert_close, metrics, query, seed, write_file};

const EMAIL: &str = "ops-bot@example.com";
const TOKEN: &str = "ATATT3xTESTtokenVALUE0123456789";
const EMAIL_ENV: &str = "NORTHSTAR_TEST_JIRA_EMAIL";
const TOKEN_ENV: &str = "NORTHSTAR_TEST_JIRA_TOKEN";

fn source(url: &str) -> String {
    format!(
        r#"
[[sources]]
kind = "jira"
name = "jira"
api_url = "{url}"
email_env = "{EMAIL_ENV}"
token_env = "{TOKEN_ENV}"
jql = "project in (OPS, HELP) ORDER BY created DESC"
[sources.services]
Checkout = "checkout"
Payments = "payments"
[sources.tickets]
incident_types = ["Incident"]
request_types = ["Service Request", "Task"]
service_from = "component"
caused_by_field = "customfield_10070"
request_type_field = "customfield_10010"
requester_team_from = "field:customfield_10060"
assignee_team_from = "label:team-*"
[sources.tickets.severities]
Highest = "sev1"
High = "sev2"
[[sources.tickets.categories]]
request_type = "New environment*"
category = "environments"
[[sources.tickets.categories]]
label = "db-*"
category = "database"
"#
    )
}

async fn run(config: &std::path::Path, token: &str, args: &[&str]) -> Run {
    collect(config, &[(EMAIL_ENV, EMAIL), (TOKEN_ENV, token)], args).await
}

/// [`time`] as [`times`] shows it.
fn iso(hours: f64) -> String {
    time(hours).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn param(l: &Logged, name: &str) -> Option<String> {
    let (_, q) = l.target.split_once('?')?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn path(l: &Logged) -> &str {
    l.target.split('?').next().unwrap_or_default()
}

fn searches(log: &[Logged]) -> Vec<&Logged> {
    log.iter()
        .filter(|l| path(l) == "/rest/api/3/search/jql")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn jira_collect_is_exact_resilient_and_incremental() {
    let fake = fake_jira::start(EMAIL, TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = write_config(dir.path(), &source(&fake.url));
    fake.shared
        .fault("/rest/api/3/search/jql?", fake_jira::rate_limit());
    fake.shared.fault(
        "/issue/HELP-1/changelog?startAt=2&",
        fake_jira::unavailable(),
    );
    fake.shared.fault(
        "/servicedeskapi/request/HELP-1/sla",
        crate::fake_server::Fault::Truncate,
    );

    let first = run(&cfg, TOKEN, &[]).await;
    assert!(first.ok, "collect failed: {}", first.stderr);
    let log = fake.shared.log();
    assert!(
        first.stdout.contains(
            "jira: 19 new, 0 updated (incidents 3, tickets 3, ticket_transitions 13); 28 records read; 23 requests, 3 retries, 0 not modified, 1 rate-limit waits"
        ),
        "{}",
        first.stdout
    );
    assert_eq!(log.len(), 23, "{log:#?}");
    assert!(log.iter().all(|l| l.user_agent_ok));
    assert_eq!(path(&log[0]), "/rest/api/3/status", "statuses first, once");
    // The 429 said Retry-After: 1.
    let pages = searches(&log);
    assert_eq!(
        pages.iter().map(|l| l.status).collect::<Vec<_>>(),
        [429, 200, 200, 200, 200]
    );
    assert!(crate::fake_server::gap(pages[0], pages[1]) >= std::time::Duration::from_millis(900));
    // A first run reads the whole JQL (its ORDER BY replaced), oldest change
    // first, with the fields named, paging by the token until isLast.
    for l in &pages {
        assert_eq!(
            param(l, "jql").as_deref(),
            Some("(project in (OPS, HELP)) ORDER BY updated ASC")
        );
        assert_eq!(
            param(l, "fields").as_deref(),
            Some(
                "summary,issuetype,status,priority,labels,components,resolutiondate,created,updated,project,assignee,reporter,description,customfield_10060,customfield_10070,customfield_10010"
            )
        );
        assert_eq!(param(l, "maxResults").as_deref(), Some("2"));
    }
    let tokens: Vec<Option<String>> = pages[1..]
        .iter()
        .map(|l| param(l, "nextPageToken"))
        .collect();
    assert_eq!(
        tokens,
        [
            None,
            Some(fake_jira::page_token(2)),
            Some(fake_jira::page_token(4)),
            Some(fake_jira::page_token(6))
        ]
    );
    let changelog_starts = |key: &str| -> Vec<(String, u16)> {
        log.iter()
            .filter(|l| path(l) == format!("/rest/api/3/issue/{key}/changelog"))
            .map(|l| (param(l, "startAt").unwrap_or_default(), l.status))
            .collect()
    };
    assert_eq!(
        changelog_starts("HELP-1"),
        [
            ("0".into(), 200),
            ("2".into(), 503),
            ("2".into(), 200),
            ("4".into(), 200),
            ("6".into(), 200)
        ]
    );
    assert!(
        changelog_starts("OPS-4").is_empty(),
        "a Bug needs no history"
    );
    assert_eq!(changelog_starts("OPS-3"), [("0".into(), 200)]);
    // Issues are fetched two at a time: compare the SLA reads in key order.
    let mut slas: Vec<(&str, u16)> = log
        .iter()
        .filter(|l| l.target.starts_with("/rest/servicedeskapi/"))
        .map(|l| (path(l), l.status))
        .collect();
    slas.sort();
    assert_eq!(
        slas,
        [
            ("/rest/servicedeskapi/request/HELP-1/sla", 200),
            ("/rest/servicedeskapi/request/HELP-1/sla", 200),
            ("/rest/servicedeskapi/request/HELP-2/sla", 200),
        ],
        "the cut-off body was read again; OPS-5 has no request type"
    );

    let lake = open_lake(dir.path());
    let tickets = query(
        &lake,
        "SELECT ticket_id, source, project, issue_type, request_type, category, requester_team, \
         assignee_team, priority, status, CAST(created_at AS VARCHAR) AS created, \
         CAST(first_response_at AS VARCHAR) AS first_response, CAST(resolved_at AS VARCHAR) AS resolved, \
         array_to_string(labels, ',') AS labels FROM tickets ORDER BY ticket_id",
    )
    .await;
    assert_eq!(
        strings(&tickets, "ticket_id"),
        ["jira:HELP-1", "jira:HELP-2", "jira:OPS-5"]
    );
    assert!(tickets.iter().all(|t| t["source"] == "jira"));
    assert_eq!(strings(&tickets, "project"), ["HELP", "HELP", "OPS"]);
    assert_eq!(
        strings(&tickets, "issue_type"),
        ["Service Request", "Service Request", "Task"]
    );
    assert_eq!(
        strings(&tickets, "request_type"),
        ["New environment (staging)", "Access request", "null"]
    );
    assert_eq!(
        strings(&tickets, "category"),
        ["environments", "database", "Task"]
    );
    assert_eq!(
        strings(&tickets, "requester_team"),
        ["payments", "null", "null"]
    );
    assert_eq!(
        strings(&tickets, "assignee_team"),
        ["platform", "data", "platform"]
    );
    assert_eq!(strings(&tickets, "priority"), ["Medium", "High", "Low"]);
    assert_eq!(
        strings(&tickets, "status"),
        ["Resolved", "In Progress", "Review"]
    );
    assert_eq!(times(&tickets, "created"), [0.0, 1.0, 7.0].map(iso));
    assert_eq!(times(&tickets, "first_response"), [1.5, 4.5, 8.0].map(iso));
    assert_eq!(
        times(&tickets, "resolved"),
        [iso(6.0), "null".into(), "null".into()]
    );
    assert_eq!(
        strings(&tickets, "labels"),
        [
            "team-platform,env",
            "db-readonly,team-data",
            "team-platform"
        ]
    );

    let transitions = query(
        &lake,
        "SELECT ticket_id, CAST(at AS VARCHAR) AS at, from_status, to_status, to_category \
         FROM ticket_transitions ORDER BY ticket_id, at",
    )
    .await;
    let got: Vec<(String, String, String, String, String)> = transitions
        .iter()
        .map(|r| {
            let s = |c: &str| r[c].as_str().unwrap_or("null").to_string();
            (
                s("ticket_id"),
                times(std::slice::from_ref(r), "at")[0].clone(),
                s("from_status"),
                s("to_status"),
                s("to_category"),
            )
        })
        .collect();
    let row = |t: &str, h: f64, from: &str, to: &str, cat: &str| {
        (
            format!("jira:{t}"),
            iso(h),
            from.to_string(),
            to.to_string(),
            cat.to_string(),
        )
    };
    #[rustfmt::skip]
    let want = vec![
        row("HELP-1", 0.0, "null", "Waiting for support", "new"),
        row("HELP-1", 2.0, "Waiting for support", "In Progress", "indeterminate"),
        row("HELP-1", 3.0, "In Progress", "Waiting for customer", "indeterminate"),
        row("HELP-1", 5.0, "Waiting for customer", "In Progress", "indeterminate"),
        row("HELP-1", 5.5, "In Progress", "Waiting for customer", "indeterminate"),
        row("HELP-1", 5.75, "Waiting for customer", "In Progress", "indeterminate"),
        row("HELP-1", 6.0, "In Progress", "Resolved", "done"),
        row("HELP-2", 1.0, "null", "Waiting for support", "new"),
        row("HELP-2", 4.0, "Waiting for support", "Triage", "null"),
        row("HELP-2", 4.5, "Triage", "In Progress", "indeterminate"),
        row("OPS-5", 7.0, "null", "Open", "new"),
        row("OPS-5", 8.0, "Open", "In Progress", "indeterminate"),
        row("OPS-5", 9.0, "In Progress", "Review", "indeterminate"),
    ];
    assert_eq!(got, want);

    // Time spent per status, from the transitions alone.
    let waits = query(
        &lake,
        "WITH t AS (SELECT ticket_id, to_status, at, \
           lead(at) OVER (PARTITION BY ticket_id ORDER BY at) AS next_at FROM ticket_transitions) \
         SELECT ticket_id, to_status, \
           sum(extract(epoch FROM next_at) - extract(epoch FROM at)) / 3600.0 AS hours \
         FROM t WHERE next_at IS NOT NULL AND to_status LIKE 'Waiting for %' \
         GROUP BY ticket_id, to_status ORDER BY ticket_id, to_status",
    )
    .await;
    assert_eq!(
        waits
            .iter()
            .map(|r| (
                r["ticket_id"].as_str().unwrap_or(""),
                r["to_status"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>(),
        [
            ("jira:HELP-1", "Waiting for customer"),
            ("jira:HELP-1", "Waiting for support"),
            ("jira:HELP-2", "Waiting for support"),
        ]
    );
    assert_close(&waits[0]["hours"], 2.25);
    assert_close(&waits[1]["hours"], 2.0);
    assert_close(&waits[2]["hours"], 3.0);

    let incidents = query(
        &lake,
        "SELECT incident_id, source, service, severity, title, CAST(started_at AS VARCHAR) AS started, \
         CAST(acknowledged_at AS VARCHAR) AS acknowledged, CAST(resolved_at AS VARCHAR) AS resolved, \
         caused_by_deployment_id, caused_by_commit_sha FROM incidents ORDER BY incident_id",
    )
    .await;
    assert_eq!(
        strings(&incidents, "incident_id"),
        ["jira:OPS-1", "jira:OPS-2", "jira:OPS-3"]
    );
    assert_eq!(
        strings(&incidents, "service"),
        ["checkout", "payments", "checkout"]
    );
    assert_eq!(strings(&incidents, "severity"), ["sev1", "sev2", "Medium"]);
    assert_eq!(
        strings(&incidents, "title"),
        [
            "Checkout errors after deploy",
            "Payments latency",
            "Checkout 500s"
        ]
    );
    assert_eq!(times(&incidents, "started"), [12.0, 30.0, 50.0].map(iso));
    assert_eq!(
        times(&incidents, "acknowledged"),
        [12.25, 30.5, 50.2].map(iso)
    );
    assert_eq!(
        times(&incidents, "resolved"),
        [iso(14.0), iso(33.0), "null".into()]
    );
    assert_eq!(
        strings(&incidents, "caused_by_deployment_id"),
        ["gh:acme/checkout:2", "null", "null"]
    );
    assert_eq!(
        strings(&incidents, "caused_by_commit_sha"),
        ["null".to_string(), sha("p1"), "null".into()]
    );

    // Run 2: nothing changed upstream; the window is a day and a minute before the
    // newest update, read back at +10:00; nothing may be written.
    let files_before = lake_files(&dir.path().join("lake"));
    let seen = fake.shared.log().len();
    let second = run(&cfg, TOKEN, &[]).await;
    assert!(second.ok, "{}", second.stderr);
    let log = fake.shared.log();
    let again = searches(&log[seen..]);
    assert_eq!(again.len(), 1, "OPS-2 and OPS-3 fit one page");
    assert_eq!(
        param(again[0], "jql").as_deref(),
        Some(r#"(project in (OPS, HELP)) AND updated >= "2025-03-02 02:29" ORDER BY updated ASC"#)
    );
    assert!(
        second.stdout.contains("jira: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    assert_eq!(
        lake_files(&dir.path().join("lake")),
        files_before,
        "an unchanged re-read writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_updated_between_pages_ends_once_in_its_newest_state() {
    let mut world = World::scenario();
    let help2 = world.issue_mut("HELP-2").clone();
    let mut history = help2.history.clone();
    history.push((60.0, "In Progress", "Waiting for customer"));
    world.change_after_first_page = Some(FakeIssue {
        status: "Waiting for customer",
        updated: 60.0,
        history,
        ..help2
    });
    let fake = fake_jira::start(EMAIL, TOKEN, world).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = write_config(dir.path(), &source(&fake.url));

    let first = run(&cfg, TOKEN, &[]).await;
    assert!(first.ok, "{}", first.stderr);
    // Page 1 was HELP-2, HELP-1. HELP-2 then moved to the end, so page 2 (offset
    // 2) skipped OPS-5 and HELP-2 came back on page 4: the window is read again
    // from HELP-2's earlier update (4.5 h) minus a day and a minute.
    let log = fake.shared.log();
    let jqls: Vec<String> = searches(&log)
        .iter()
        .map(|l| param(l, "jql").unwrap_or_default())
        .collect();
    let whole = "(project in (OPS, HELP)) ORDER BY updated ASC".to_string();
    let from = r#"(project in (OPS, HELP)) AND updated >= "2025-02-28 04:29" ORDER BY updated ASC"#
        .to_string();
    assert_eq!(
        jqls,
        [
            whole.clone(),
            whole.clone(),
            whole.clone(),
            whole,
            from.clone(),
            from.clone(),
            from.clone(),
            from
        ]
    );
    assert!(
        first
            .stdout
            .contains("jira: 20 new, 0 updated (incidents 3, tickets 3, ticket_transitions 14)"),
        "each issue written once: {}",
        first.stdout
    );
    let lake = open_lake(dir.path());
    let tickets = query(
        &lake,
        "SELECT ticket_id, status FROM tickets ORDER BY ticket_id",
    )
    .await;
    assert_eq!(
        strings(&tickets, "ticket_id"),
        ["jira:HELP-1", "jira:HELP-2", "jira:OPS-5"]
    );
    assert_eq!(
        strings(&tickets, "status"),
        ["Resolved", "Waiting for customer", "Review"]
    );
    let versions = query(
        &lake,
        "SELECT ticket_id FROM tickets__versions ORDER BY ticket_id",
    )
    .await;
    assert_eq!(
        strings(&versions, "ticket_id"),
        ["jira:HELP-1", "jira:HELP-2", "jira:OPS-5"]
    );
    let last = query(
        &lake,
        "SELECT CAST(at AS VARCHAR) AS at, to_status, to_category FROM ticket_transitions \
         WHERE ticket_id = 'jira:HELP-2' ORDER BY at DESC LIMIT 1",
    )
    .await;
    assert_eq!(times(&last, "at"), [iso(60.0)]);
    assert_eq!(strings(&last, "to_category"), ["indeterminate"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn incidents_from_jira_move_change_failure_rate_and_recovery_time() {
    // Deployments (production, success; finished at h): checkout:1 @1 (c1),
    // checkout:2 @11 (c2), payments:1 @20 (p1), payments:2 @25 (p2, child of p1),
    // checkout:3 @40 (c3), checkout:4 @55 (c4).
    // Links: OPS-1 → checkout:2 (explicit id); OPS-2 → payments:1 (commit p1: the
    // earliest deployment containing it, not payments:2, the latest before it);
    // OPS-3 → checkout:3 (latest checkout deployment before 50, within 7 days).
    // Change failure rate: 3 of 6 = 0.5. Recovery: checkout:2 14 − 11 = 3 h,
    // payments:1 33 − 20 = 13 h, checkout:3 unresolved → n 3, unresolved 1,
    // median 8 h, p90 3 + 0.9 × 10 = 12 h, high (< 1 day).
    let fake = fake_jira::start(EMAIL, TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = write_config(dir.path(), &source(&fake.url));
    let collected = run(&cfg, TOKEN, &[]).await;
    assert!(collected.ok, "{}", collected.stderr);

    let lake = open_lake(dir.path());
    let t = |h: f64| time(h).to_rfc3339_opts(SecondsFormat::Secs, true);
    let deployments = [
        ("gh:acme/checkout:1", "checkout", "c1", 1.0),
        ("gh:acme/checkout:2", "checkout", "c2", 11.0),
        ("gh:acme/payments:1", "payments", "p1", 20.0),
        ("gh:acme/payments:2", "payments", "p2", 25.0),
        ("gh:acme/checkout:3", "checkout", "c3", 40.0),
        ("gh:acme/checkout:4", "checkout", "c4", 55.0),
    ];
    let mut csv = String::from(
        "deployment_id,source,repo,service,environment,env_tier,status,commit_sha,started_at,finished_at,kind,via_platform\n",
    );
    for (id, service, commit, h) in deployments {
        csv.push_str(&format!(
            "{id},gh,acme/{service},{service},production,production,success,{},{},{},planned,false\n",
            sha(commit),
            t(h - 0.1),
            t(h)
        ));
    }
    let commits = [
        ("c1", ""),
        ("c2", "c1"),
        ("c3", "c2"),
        ("c4", "c3"),
        ("p1", ""),
        ("p2", "p1"),
    ];
    let mut commit_csv =
        String::from("repo,commit_sha,parent_shas,authored_at,committed_at,author\n");
    for (c, parent) in commits {
        let parent = if parent.is_empty() {
            String::new()
        } else {
            sha(parent)
        };
        commit_csv.push_str(&format!(
            "acme/x,{},{parent},{},{},ana\n",
            sha(c),
            t(0.0),
            t(0.0)
        ));
    }
    let services = "service,team,created_at,tier,on_platform\ncheckout,shop,2024-01-01,tier-1,true\npayments,money,2024-01-01,tier-1,true\n";
    seed(
        &lake,
        &[
            ("services", write_file(dir.path(), "services.csv", services)),
            (
                "commits",
                write_file(dir.path(), "commits.csv", &commit_csv),
            ),
            (
                "deployments",
                write_file(dir.path(), "deployments.csv", &csv),
            ),
        ],
    )
    .await;

    let links = query(
        &lake,
        "SELECT incident_id, deployment_id, link_rule FROM incident_links ORDER BY incident_id",
    )
    .await;
    assert_eq!(
        links
            .iter()
            .map(|r| (
                r["incident_id"].as_str().unwrap_or(""),
                r["deployment_id"].as_str().unwrap_or(""),
                r["link_rule"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>(),
        [
            ("jira:OPS-1", "gh:acme/checkout:2", "explicit"),
            ("jira:OPS-2", "gh:acme/payments:1", "commit"),
            ("jira:OPS-3", "gh:acme/checkout:3", "window"),
        ]
    );
    let m = metrics(&lake, "2025-03-01", "2025-03-08").await;
    let org = &m["dora"]["org"];
    let cfr = &org["change_failure_rate"];
    assert_eq!(cfr["n"], 6);
    assert_eq!(cfr["failed"], 3);
    assert_close(&cfr["rate"], 0.5);
    let fdrt = &org["failed_deployment_recovery_time"];
    assert_eq!(fdrt["n"], 3);
    assert_eq!(fdrt["unresolved"], 1);
    assert_close(&fdrt["median_hours"], 8.0);
    assert_close(&fdrt["p90_hours"], 12.0);
    assert_eq!(fdrt["tier"], "high");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_jira_token_is_one_clear_line_and_never_printed() {
    let fake = fake_jira::start(EMAIL, TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = write_config(dir.path(), &source(&fake.url));
    let wrong = "ATATT3xWRONGtokenSECRET987654321";
    let out = run(&cfg, wrong, &["-vv"]).await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{wrong}"));
    let log = fake.shared.log();
    assert_eq!(log[0].status, 401);
    assert_rejected_once(&out, TOKEN_ENV, log.len(), &[wrong, encoded.as_str()]);
}

#[test]
fn every_vendor_example_reads() {
    use northstar::collect::jira::{api, fields};
    let read = |file: &str| -> Json {
        let text = std::fs::read_to_string(crate::support::fixture(&format!("jira/{file}")))
            .expect("fixture");
        serde_json::from_str(&text).expect("json")
    };
    for file in ["search-jql.json", "search-legacy-deprecated.json"] {
        let page: api::SearchPage = serde_json::from_value(read(file)).expect(file);
        assert_eq!(page.issues[0].key, "ED-1");
        assert!(page.next_page_token.is_none(), "{file}");
        // The placeholder `"updated": 1` is read as epoch second 1, not a failure.
        assert!(fields::time(&page.issues[0].fields["updated"]).is_some());
    }
    assert_eq!(read("search-jql.json")["isLast"], true);
    let issue: api::Issue = serde_json::from_value(read("issue-get.json")).expect("issue");
    assert_eq!(
        fields::plain_text(&issue.fields["description"]),
        "Main order flow broken"
    );
    let page: api::ChangelogPage =
        serde_json::from_value(read("issue-changelog.json")).expect("changelog");
    assert_eq!(
        (page.is_last, page.total, page.values.len()),
        (Some(false), Some(5), 2)
    );
    assert!(
        page.values
            .iter()
            .all(|h| h.items.iter().all(|i| !i.is_status()))
    );
    assert_eq!(
        fields::time(&page.values[0].created),
        "1970-01-18T06:27:50.429Z".parse().ok()
    );
    let bulk = read("changelog-bulkfetch.json");
    let histories: Vec<api::History> =
        serde_json::from_value(bulk["issueChangeLogs"][0]["changeHistories"].clone())
            .expect("bulk");
    assert_eq!(
        fields::time(&histories[0].created),
        chrono::DateTime::from_timestamp(1_492_070_429, 0)
    );
    let by_ids: Vec<api::History> =
        serde_json::from_value(read("issue-changelog-list-by-ids.json")["histories"].clone())
            .expect("by ids");
    assert_eq!(by_ids.len(), 2);
}
