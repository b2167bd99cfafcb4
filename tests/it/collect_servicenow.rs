//! The ServiceNow collector against a fake instance (tests/it/fake_servicenow.rs),
//! run as a user runs it: the binary, a config file, user and password in
//! environment variables.
//!
//! The scenario (hours after 2025-03-01T00:00Z; two records per page; `services`
//! maps "Checkout" to `checkout`; severities 1 → sev1, 2 → sev2; category rule
//! `New data*` → database; requester team from `requested_for.department.name`):
//!
//! ```text
//! incident    prio/urg  service   opened  work_start  resolved  closed  updated  blame
//! INC0010001  1/1       Checkout  2       2.25        4         –       5        SHA in text
//! INC0010002  3/2       Search    6       –           –         –       6.5      –
//! INC0010003  –/2       Checkout  8       –           –         9       9        u_deployment
//! sc_req_item  item          prio  state  opened         work_start  closed  updated  group    dept
//! RITM0010001  New database  3     3      1              –           10      10       DBA      Retail Web
//! RITM0010002  VPN access    4     1      3              –           –       3.5      Network  Mobile
//! RITM0010003  New database  2     2      4              4.5         –       7        DBA      Retail Web
//! RITM0010004  –             5     1      – (created 11) –           –       11       –        –
//! ```
//!
//! Incidents page by `Link` (2 + 1 rows, a 503 with `Retry-After` on page 2);
//! requested items by offset (2 + 2 + an empty page).

use std::path::{Path, PathBuf};

use crate::collector_runs::{
    self, Run, assert_rejected_once, lake_files, open_lake, strings, times, write_config,
};
use crate::fake_server::{Fault, Logged};
use crate::fake_servicenow::{self, Touch, World, record, sn};
use crate::support::query;

const USER: &str = "svc-northstar";
const PASSWORD: &str = "pa55-TESTsecretVALUE-0123456789";
const USER_ENV: &str = "NORTHSTAR_TEST_SN_USER";
const PASSWORD_ENV: &str = "NORTHSTAR_TEST_SN_PASSWORD";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn config(dir: &Path, url: &str) -> PathBuf {
    let source = format!(
        r#"[[sources]]
kind = "servicenow"
name = "sn"
api_url = "{url}"
user_env = "{USER_ENV}"
token_env = "{PASSWORD_ENV}"
since = "2025-03-01"
[sources.services]
"Checkout" = "checkout"
[sources.tickets]
caused_by_field = "u_deployment"
requester_team_from = "field:requested_for.department.name"
[sources.tickets.severities]
"1" = "sev1"
"2" = "sev2"
[[sources.tickets.categories]]
request_type = "New data*"
category = "database"
"#
    );
    write_config(dir, &source)
}

async fn collect(config: &Path, password: &str) -> Run {
    collector_runs::collect(config, &[(USER_ENV, USER), (PASSWORD_ENV, password)], &[]).await
}

fn s(v: &str) -> String {
    v.to_string()
}

fn opt(hours: Option<f64>) -> String {
    hours.map(sn).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn incident(
    n: u32,
    title: &str,
    priority: &str,
    urgency: &str,
    service: &str,
    opened: f64,
    work_start: Option<f64>,
    resolved: Option<f64>,
    closed: Option<f64>,
    updated: f64,
    deployment: &str,
) -> fake_servicenow::Record {
    let mut r = record(
        "incident",
        &[
            ("sys_id", format!("{n:032x}")),
            ("number", format!("INC00100{n:02}")),
            ("short_description", s(title)),
            ("priority", s(priority)),
            ("urgency", s(urgency)),
            (
                "state",
                s(if closed.is_some() {
                    "7"
                } else if resolved.is_some() {
                    "6"
                } else {
                    "2"
                }),
            ),
            ("opened_at", sn(opened)),
            ("sys_created_on", sn(opened)),
            ("work_start", opt(work_start)),
            ("resolved_at", opt(resolved)),
            ("closed_at", opt(closed)),
            ("sys_updated_on", sn(updated)),
            ("business_service.name", s(service)),
        ],
    );
    r.insert("u_deployment".into(), s(deployment));
    r
}

#[allow(clippy::too_many_arguments)]
fn request(
    n: u32,
    item: &str,
    priority: &str,
    state: &str,
    opened: Option<f64>,
    created: f64,
    work_start: Option<f64>,
    closed: Option<f64>,
    updated: f64,
    group: &str,
    department: &str,
) -> fake_servicenow::Record {
    record(
        "sc_req_item",
        &[
            ("sys_id", format!("{:032x}", 1000 + n)),
            ("number", format!("RITM00100{n:02}")),
            (
                "cat_item",
                s(if item.is_empty() {
                    ""
                } else {
                    "e212a942c0a80165008313c59764eea1"
                }),
            ),
            ("cat_item.name", s(item)),
            ("priority", s(priority)),
            ("state", s(state)),
            ("opened_at", opt(opened)),
            ("sys_created_on", sn(created)),
            ("work_start", opt(work_start)),
            ("closed_at", opt(closed)),
            ("sys_updated_on", sn(updated)),
            ("assignment_group.name", s(group)),
            ("requested_for.department.name", s(department)),
        ],
    )
}

fn scenario() -> World {
    let t = format!("Checkout 500s after deploy {SHA}");
    World::of(
        vec![
            (
                "incident",
                vec![
                    incident(
                        1,
                        &t,
                        "1",
                        "1",
                        "Checkout",
                        2.0,
                        Some(2.25),
                        Some(4.0),
                        None,
                        5.0,
                        "",
                    ),
                    incident(
                        2,
                        "Search slow",
                        "3",
                        "2",
                        "Search",
                        6.0,
                        None,
                        None,
                        None,
                        6.5,
                        "",
                    ),
                    incident(
                        3,
                        "Payments declined",
                        "",
                        "2",
                        "Checkout",
                        8.0,
                        None,
                        None,
                        Some(9.0),
                        9.0,
                        "gh:acme/checkout:42",
                    ),
                ],
            ),
            (
                "sc_req_item",
                vec![
                    request(
                        1,
                        "New database",
                        "3",
                        "3",
                        Some(1.0),
                        1.0,
                        None,
                        Some(10.0),
                        10.0,
                        "DBA",
                        "Retail Web",
                    ),
                    request(
                        2,
                        "VPN access",
                        "4",
                        "1",
                        Some(3.0),
                        3.0,
                        None,
                        None,
                        3.5,
                        "Network",
                        "Mobile",
                    ),
                    request(
                        3,
                        "New database",
                        "2",
                        "2",
                        Some(4.0),
                        4.0,
                        Some(4.5),
                        None,
                        7.0,
                        "DBA",
                        "Retail Web",
                    ),
                    request(4, "", "5", "1", None, 11.0, None, None, 11.0, "", ""),
                ],
            ),
        ],
        &["incident"],
    )
}

fn targets(log: &[Logged], table: &str) -> Vec<(String, u16)> {
    log.iter()
        .filter(|l| l.target.starts_with(&format!("/api/now/table/{table}?")))
        .map(|l| (l.target.clone(), l.status))
        .collect()
}

const INCIDENTS_SQL: &str = "SELECT incident_id, source, service, severity, title, \
     CAST(started_at AS VARCHAR) AS started, CAST(acknowledged_at AS VARCHAR) AS acked, \
     CAST(resolved_at AS VARCHAR) AS resolved, caused_by_deployment_id, caused_by_commit_sha \
     FROM incidents ORDER BY incident_id";

const TICKETS_SQL: &str = "SELECT ticket_id, project, issue_type, request_type, category, \
     requester_team, assignee_team, priority, status, CAST(created_at AS VARCHAR) AS created, \
     CAST(first_response_at AS VARCHAR) AS first, CAST(resolved_at AS VARCHAR) AS resolved, labels \
     FROM tickets ORDER BY ticket_id";

fn hours(list: &[Option<f64>]) -> Vec<String> {
    list.iter()
        .map(|h| h.map(sn).unwrap_or_else(|| "null".into()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn servicenow_collect_is_exact_resilient_and_incremental() {
    let fake = fake_servicenow::start(&format!("{USER}:{PASSWORD}"), scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    fake.shared.fault(
        "incident?sysparm_offset=2",
        Fault::answer(
            503,
            &[("retry-after", "1")],
            "<html>503 Service Unavailable</html>",
        ),
    );

    let first = collect(&cfg, PASSWORD).await;
    assert!(first.ok, "collect failed: {}", first.stderr);
    let log = fake.shared.log();
    let incident_reads = targets(&log, "incident");
    let statuses: Vec<u16> = incident_reads.iter().map(|t| t.1).collect();
    assert_eq!(statuses, [200, 503, 200], "page 2 by Link, retried once");
    let gap = crate::fake_server::gap(&log[1], &log[2]);
    assert!(
        gap.as_secs_f64() >= 0.9,
        "Retry-After: 1 honoured ({gap:?})"
    );
    let first_read = &incident_reads[0].0;
    for part in [
        "sysparm_query=sys_updated_on%3E%3D2025-03-01+00%3A00%3A00%5EORDERBYsys_updated_on%5EORDERBYsys_id",
        "sysparm_display_value=false",
        "sysparm_exclude_reference_link=true",
        "sysparm_limit=2",
    ] {
        assert!(first_read.contains(part), "{part} in {first_read}");
    }
    let request_reads = targets(&log, "sc_req_item");
    let offsets: Vec<bool> = request_reads
        .iter()
        .zip(["sysparm_offset=0", "sysparm_offset=2", "sysparm_offset=4"])
        .map(|((t, _), o)| t.contains(o))
        .collect();
    assert_eq!(offsets, [true, true, true], "by offset: {request_reads:#?}");
    assert!(log.iter().all(|l| l.user_agent_ok));
    assert!(
        first.stdout.contains("sn: 7 new, 0 updated")
            && first.stdout.contains("tickets 4")
            && first.stdout.contains("incidents 3")
            && first.stdout.contains("1 retries"),
        "{}",
        first.stdout
    );

    let lake = open_lake(dir.path());
    let rows = query(&lake, INCIDENTS_SQL).await;
    assert_eq!(
        strings(&rows, "incident_id"),
        ["sn:INC0010001", "sn:INC0010002", "sn:INC0010003"]
    );
    assert_eq!(
        strings(&rows, "service"),
        ["checkout", "Search", "checkout"]
    );
    assert_eq!(strings(&rows, "severity"), ["sev1", "3", "sev2"]);
    assert_eq!(
        strings(&rows, "title"),
        [
            format!("Checkout 500s after deploy {SHA}"),
            s("Search slow"),
            s("Payments declined")
        ]
    );
    assert_eq!(
        times(&rows, "started"),
        hours(&[Some(2.0), Some(6.0), Some(8.0)])
    );
    assert_eq!(times(&rows, "acked"), hours(&[Some(2.25), None, None]));
    assert_eq!(
        times(&rows, "resolved"),
        hours(&[Some(4.0), None, Some(9.0)])
    );
    assert_eq!(
        strings(&rows, "caused_by_commit_sha"),
        [SHA, "null", "null"]
    );
    assert_eq!(
        strings(&rows, "caused_by_deployment_id"),
        ["null", "null", "gh:acme/checkout:42"]
    );
    assert!(rows.iter().all(|r| r["source"] == "sn"));

    let tickets = query(&lake, TICKETS_SQL).await;
    assert_eq!(
        strings(&tickets, "ticket_id"),
        [
            "sn:RITM0010001",
            "sn:RITM0010002",
            "sn:RITM0010003",
            "sn:RITM0010004"
        ]
    );
    assert!(
        tickets
            .iter()
            .all(|t| t["project"] == "sc_req_item" && t["issue_type"] == "sc_req_item")
    );
    assert_eq!(
        strings(&tickets, "request_type"),
        ["New database", "VPN access", "New database", "null"]
    );
    assert_eq!(
        strings(&tickets, "category"),
        ["database", "VPN access", "database", "sc_req_item"]
    );
    assert_eq!(
        strings(&tickets, "requester_team"),
        ["Retail Web", "Mobile", "Retail Web", "null"]
    );
    assert_eq!(
        strings(&tickets, "assignee_team"),
        ["DBA", "Network", "DBA", "null"]
    );
    assert_eq!(strings(&tickets, "priority"), ["3", "4", "2", "5"]);
    assert_eq!(strings(&tickets, "status"), ["3", "1", "2", "1"]);
    assert_eq!(
        times(&tickets, "created"),
        hours(&[Some(1.0), Some(3.0), Some(4.0), Some(11.0)])
    );
    assert_eq!(
        times(&tickets, "first"),
        hours(&[None, None, Some(4.5), None])
    );
    assert_eq!(
        times(&tickets, "resolved"),
        hours(&[Some(10.0), None, None, None])
    );
    let transitions = query(&lake, "SELECT count(*) AS n FROM ticket_transitions").await;
    assert_eq!(
        transitions[0]["n"], 0,
        "the Table API keeps no status history"
    );

    // Run 2: nothing changed; each table re-reads only its overlap, writes nothing.
    let files_before = lake_files(&dir.path().join("lake"));
    let seen = fake.shared.log().len();
    let second = collect(&cfg, PASSWORD).await;
    assert!(second.ok, "{}", second.stderr);
    let run2 = &fake.shared.log()[seen..];
    assert!(
        run2[0]
            .target
            .contains("sys_updated_on%3E%3D2025-03-01+08%3A30%3A00"),
        "incident watermark 9 h minus 30 min: {}",
        run2[0].target
    );
    assert_eq!(run2.len(), 2, "{run2:#?}");
    assert!(
        second.stdout.contains("sn: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    assert_eq!(lake_files(&dir.path().join("lake")), files_before);

    // Upstream: INC0010002 is worked on at 6.2 and resolved at 12.
    fake.shared.world.lock().expect("world").edit(
        "incident",
        &format!("{:032x}", 2),
        &[
            ("state", s("6")),
            ("work_start", sn(6.2)),
            ("resolved_at", sn(12.0)),
            ("sys_updated_on", sn(12.0)),
        ],
    );
    let third = collect(&cfg, PASSWORD).await;
    assert!(third.ok, "{}", third.stderr);
    assert!(
        third.stdout.contains("sn: 0 new, 1 updated"),
        "{}",
        third.stdout
    );
    let rows = query(&lake, INCIDENTS_SQL).await;
    assert_eq!(times(&rows[1..2], "acked"), hours(&[Some(6.2)]));
    assert_eq!(times(&rows[1..2], "resolved"), hours(&[Some(12.0)]));
}

/// Five incidents A…E updated at 1…5 h, two per page. Right after page 1 (A, B)
/// is served, A is edited (updated at 6 h): the order becomes B C D E A, so the
/// offset-2 page is D E and C is skipped; A is met twice. The table is read again
/// from A's first `sys_updated_on` (1 h), which finds C.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_edited_while_paging_does_not_hide_another() {
    let rows: Vec<fake_servicenow::Record> = (1..=5)
        .map(|n| {
            incident(
                n,
                "x",
                "3",
                "3",
                "Search",
                f64::from(n),
                None,
                None,
                None,
                f64::from(n),
                "",
            )
        })
        .collect();
    let world = World::of(
        vec![("incident", rows), ("sc_req_item", Vec::new())],
        &["incident"],
    );
    *world.touch.lock().expect("touch") = Some(Touch {
        table: "incident",
        sys_id: format!("{:032x}", 1),
        fields: vec![
            ("short_description", s("edited")),
            ("sys_updated_on", sn(6.0)),
        ],
    });
    let fake = fake_servicenow::start(&format!("{USER}:{PASSWORD}"), world).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    let run = collect(&cfg, PASSWORD).await;
    assert!(run.ok, "{}", run.stderr);
    let reads = targets(&fake.shared.log(), "incident");
    assert_eq!(reads.len(), 6, "two passes of three pages: {reads:#?}");
    assert!(
        reads[3]
            .0
            .contains("sys_updated_on%3E%3D2025-03-01+01%3A00%3A00"),
        "{}",
        reads[3].0
    );
    let lake = open_lake(dir.path());
    let rows = query(&lake, INCIDENTS_SQL).await;
    assert_eq!(strings(&rows, "incident_id").len(), 5);
    assert_eq!(strings(&rows, "title")[0], "edited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_servicenow_password_is_one_clear_line() {
    let fake = fake_servicenow::start(&format!("{USER}:{PASSWORD}"), scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    let wrong = "WRONG-password-987654321";
    let run = collect(&cfg, wrong).await;
    assert_rejected_once(&run, PASSWORD_ENV, fake.shared.log().len(), &[wrong]);
}
