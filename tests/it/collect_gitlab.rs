//! The GitLab collector against a fake GitLab serving the vendor's example payloads
//! (tests/it/fake_gitlab.rs), run as a user runs it: the binary, a config file, the
//! token in an environment variable.
//!
//! The scenario, project `group/app` (hours after 2025-03-01T00:00Z):
//!
//! ```text
//! c1(0) ← c2(1) ← c3(3) ← c4(3.5) ←──────── c5(5.5, merge) ← c6(7) ← c7(9, bot)
//!                      ↖ f1(5, MR !11) ─────↗
//! deployments (status, created → job started/finished, updated_at):
//!   201 c2 production success  2.0 → —/2.1         upd 2.15  (job started_at null)
//!   202 c4 production success  4.0 → 4.02/4.1      upd 4.15
//!   203 c5 production failed   6.0 → 6.01/—        upd 6.05  (job finished_at null)
//!   204 c6 production success  9.5 → 9.52/9.6      upd 9.65
//!   205 c7 production running  9.7 → 9.72/—        upd 9.72  (later: success 10.5, upd 10.55)
//!   207 c7 eu-live (tier production) success 9.8 → 9.82/9.85 upd 9.9
//!   206 c7 staging (tier staging)    success 9.9 → 9.92/9.95 upd 10.0
//! MRs: !11 merged@5.5, merge commit c5 (head f1)         upd 9.1
//!      !12 closed, head x1, no merge                     upd 9.0
//!      !13 merged@9.2, squashed as c7 (head h1)          upd 9.25
//!      !14 merged@3.2, fast-forward (head c3, no merge/squash commit) upd 3.2
//! ```
//!
//! Worked out by hand (per_page = 2, so the 7 deployments take 4 pages and the 4
//! MRs 2):
//! - Written deployments: 201, 202, 203 (failure), 204, 206, 207; 205 is running
//!   and not written. started_at = job started_at else created_at (201: 2.0);
//!   finished_at = job finished_at else updated_at (203: 6.05). 207's environment
//!   is not named production but its tier is: env_tier production.
//! - Compares, per project and environment, against the previous SUCCESSFUL
//!   production deployment: 201 is the first of `production` (no base, ships
//!   nothing); 202 ships compare(c2, c4) = {c3, c4}; 203 failed and is no base;
//!   204 ships compare(c4, c6) = {f1, c5, c6}; 207 is the first of `eu-live` (ships
//!   nothing, and is no base for `production`); 206 is staging.
//! - Deployment MRs: 202 → [!14] (landed c3), 204 → [!11] (landed c5).
//! - Commits: c3, c4, f1, c5, c6 (c5 with parents c4, f1).
//! - Pull requests: !11 merged, landed c5 (merge commit wins over head f1); !12
//!   closed, no merge_commit_sha (its head x1 must not be taken); !13 merged,
//!   landed c7 (squash commit wins over head h1); !14 merged, landed c3 (its head).
//! - Run 1: 6 + 5 + 5 + 4 = 20 new rows.
//! - Watermarks: deployments 10.0 → next window updated_after = 9.5 (09:30:00Z);
//!   MRs 9.25 → 8.75 (08:45:00Z). Run 2 re-reads 204, 205, 207, 206 (2 pages) and
//!   !12, !11, !13 (2 pages); 204 was compared already and is not compared again;
//!   nothing is written. Run 3 uses the same window: 4 conditional requests, all 304.
//! - Then 205 succeeds (job finished 10.5, updated 10.55) and !12 is retitled
//!   (updated 10.6). Run 4: 205 ships compare(c6, c7) = {c7} (base 204, not 207 of
//!   eu-live), with MR !13 (unchanged): 3 new (deployment 205, commit c7, its link),
//!   1 updated (!12).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use crate::collector_runs::{
    self, Run, assert_rejected_once, lake_files, open_lake, strings, times, write_config,
};
use crate::fake_gitlab::{self, World, sha, time};
use crate::fake_server::{Fault, Logged, gap};
use crate::support::query;

const TOKEN: &str = "glpat-TESTtokenVALUE0123456789abc";
const TOKEN_ENV: &str = "NORTHSTAR_TEST_GL_TOKEN";
const PREFIX: &str = "/api/v4/projects/group%2Fapp/";

fn config(dir: &Path, url: &str) -> PathBuf {
    let source = format!(
        "[[sources]]\nkind = \"gitlab\"\nname = \"gl\"\napi_url = \"{url}/api/v4\"\ntoken_env = \"{TOKEN_ENV}\"\nprojects = [\"group/app\"]\n"
    );
    write_config(dir, &source)
}

async fn collect(config: &Path, token: &str, extra_args: &[&str]) -> Run {
    collector_runs::collect(config, &[(TOKEN_ENV, token)], extra_args).await
}

fn id(n: i64) -> String {
    format!("gl:group/app:{n}")
}

/// [`time`] as [`times`] shows it.
fn iso(hours: f64) -> String {
    time(hours).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A query parameter of a logged request.
fn param(l: &Logged, name: &str) -> Option<String> {
    let (_, q) = l.target.split_once('?')?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The path of a logged request after the project prefix, e.g. `deployments`.
fn endpoint(l: &Logged) -> &str {
    let path = l.target.split('?').next().unwrap_or_default();
    path.strip_prefix(PREFIX).unwrap_or(path)
}

/// The (from, to) pairs of the compares among `log`.
fn compares(log: &[Logged]) -> Vec<(String, String)> {
    log.iter()
        .filter(|l| endpoint(l) == "repository/compare" && l.status == 200)
        .map(|l| {
            (
                param(l, "from").unwrap_or_default(),
                param(l, "to").unwrap_or_default(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (sha(a), sha(b))).collect()
}

async fn links(lake: &northstar::lake::Lake) -> Vec<(String, String)> {
    query(
        lake,
        "SELECT deployment_id, commit_sha FROM lake_deployment_commits ORDER BY deployment_id, commit_sha",
    )
    .await
    .iter()
    .map(|r| {
        (
            r["deployment_id"].as_str().unwrap_or("").to_string(),
            r["commit_sha"].as_str().unwrap_or("").to_string(),
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_collect_is_exact_resilient_incremental_and_conditional() {
    let fake = fake_gitlab::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    // Page 2 of deployments as the `Link` header names it (page first).
    fake.shared.fault(
        "/deployments?page=2&order_by=updated_at",
        fake_gitlab::rate_limit(),
    );
    fake.shared
        .fault("/repository/compare?", Fault::bad_gateway());
    fake.shared
        .fault("/merge_requests?order_by=updated_at", Fault::Truncate);

    // Run 1: everything, through every fault.
    let first = collect(&cfg, TOKEN, &[]).await;
    assert!(first.ok, "collect failed: {}", first.stderr);
    let log = fake.shared.log();
    assert!(
        log.iter().all(|l| l.target.starts_with(PREFIX)),
        "the project path travels as one encoded segment: {log:#?}"
    );
    // The faulted requests were each retried once and then answered (the cut-off
    // body was sent with status 200).
    let tries = |path: &str, key: &str, value: &str| -> Vec<u16> {
        log.iter()
            .filter(|l| endpoint(l) == path && param(l, key).as_deref() == Some(value))
            .map(|l| l.status)
            .collect()
    };
    assert_eq!(tries("deployments", "page", "2"), [429, 200]);
    assert_eq!(tries("repository/compare", "from", &sha("c2")), [502, 200]);
    assert_eq!(tries("repository/compare", "from", &sha("c4")), [200]);
    let mr_first_page: Vec<u16> = log
        .iter()
        .filter(|l| endpoint(l) == "merge_requests" && param(l, "page").is_none())
        .map(|l| l.status)
        .collect();
    assert_eq!(mr_first_page, [200, 200], "the cut-off body was re-read");
    // The 429 named no Retry-After: the wait came from RateLimit-Reset (≥ 1 s),
    // not from the 0.05 s backoff.
    let limited: Vec<&Logged> = log
        .iter()
        .filter(|l| l.target.contains("/deployments?page=2&"))
        .collect();
    assert!(
        gap(limited[0], limited[1]) >= Duration::from_millis(900),
        "waited only {:?}",
        gap(limited[0], limited[1])
    );
    // Every list was read page by page: deployments by `Link` (4 pages, `page`
    // first as GitLab writes it), merge requests by `x-next-page` alone (2 pages,
    // `page` appended by the client).
    // (Consecutive repeats are the retries checked above.)
    let pages = |path: &str| -> Vec<Option<String>> {
        let mut pages: Vec<Option<String>> = log
            .iter()
            .filter(|l| endpoint(l) == path && l.status == 200)
            .map(|l| param(l, "page"))
            .collect();
        pages.dedup();
        pages
    };
    assert_eq!(
        pages("deployments"),
        [None, Some("2".into()), Some("3".into()), Some("4".into())]
    );
    assert!(
        log.iter()
            .filter(|l| endpoint(l) == "deployments" && param(l, "page").is_some())
            .all(|l| l.target.contains("/deployments?page=")),
        "deployment pages come from the Link header"
    );
    assert_eq!(pages("merge_requests"), [None, Some("2".into())]);
    let mr_page2 = log
        .iter()
        .find(|l| endpoint(l) == "merge_requests" && param(l, "page").is_some())
        .expect("MR page 2");
    assert!(mr_page2.target.ends_with("&page=2"), "{}", mr_page2.target);
    assert!(
        log.iter()
            .filter(|l| endpoint(l) == "deployments" || endpoint(l) == "merge_requests")
            .all(|l| param(l, "updated_after").is_none()
                && param(l, "order_by").as_deref() == Some("updated_at")
                && param(l, "sort").as_deref() == Some("asc")
                && param(l, "per_page").as_deref() == Some("2")),
        "a first run reads everything, oldest change first"
    );
    assert_eq!(compares(&log), pairs(&[("c2", "c4"), ("c4", "c6")]));
    let deployment_mrs: Vec<&str> = log
        .iter()
        .map(endpoint)
        .filter(|e| e.ends_with("/merge_requests") && e.starts_with("deployments/"))
        .collect();
    assert_eq!(
        deployment_mrs,
        [
            "deployments/202/merge_requests",
            "deployments/204/merge_requests"
        ]
    );
    assert!(
        first.stdout.contains(
            "gl: 20 new, 0 updated (deployments 6, commits 5, deployment_commits 5, pull_requests 4)"
        ),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("13 requests, 3 retries, 0 not modified, 1 rate-limit waits"),
        "{}",
        first.stdout
    );
    assert_eq!(log.len(), 13);

    let lake = open_lake(dir.path());
    let deployments = query(
        &lake,
        "SELECT deployment_id, source, repo, service, environment, env_tier, status, commit_sha, \
         CAST(started_at AS VARCHAR) AS started, CAST(finished_at AS VARCHAR) AS finished, kind, url \
         FROM deployments ORDER BY deployment_id",
    )
    .await;
    assert_eq!(
        strings(&deployments, "deployment_id"),
        [201, 202, 203, 204, 206, 207].map(id)
    );
    assert_eq!(
        strings(&deployments, "status"),
        [
            "success", "success", "failure", "success", "success", "success"
        ]
    );
    assert_eq!(
        strings(&deployments, "environment"),
        [
            "production",
            "production",
            "production",
            "production",
            "staging",
            "eu-live"
        ]
    );
    assert_eq!(
        strings(&deployments, "env_tier"),
        [
            "production",
            "production",
            "production",
            "production",
            "staging",
            "production"
        ]
    );
    assert_eq!(
        strings(&deployments, "commit_sha"),
        ["c2", "c4", "c5", "c6", "c7", "c7"].map(sha)
    );
    assert_eq!(
        times(&deployments, "started"),
        [2.0, 4.02, 6.01, 9.52, 9.92, 9.82].map(iso),
        "job started_at, else the deployment's created_at (201)"
    );
    assert_eq!(
        times(&deployments, "finished"),
        [2.1, 4.1, 6.05, 9.6, 9.95, 9.85].map(iso),
        "job finished_at, else the deployment's updated_at (203)"
    );
    assert!(
        deployments.iter().all(|d| d["service"] == "app"
            && d["source"] == "gl"
            && d["repo"] == "group/app"
            && d["kind"] == "planned"),
        "{deployments:#?}"
    );
    assert_eq!(
        deployments[0]["url"],
        "https://gitlab.example.com/group/app/-/jobs/2010"
    );

    let mut expected: Vec<(String, String)> = vec![
        (id(202), sha("c3")),
        (id(202), sha("c4")),
        (id(204), sha("f1")),
        (id(204), sha("c5")),
        (id(204), sha("c6")),
    ];
    expected.sort();
    assert_eq!(links(&lake).await, expected);

    let commits = query(
        &lake,
        "SELECT commit_sha, parent_shas, author, is_bot, CAST(authored_at AS VARCHAR) AS authored, \
         CAST(committed_at AS VARCHAR) AS committed FROM commits ORDER BY commit_sha",
    )
    .await;
    let mut want: Vec<String> = ["c3", "c4", "f1", "c5", "c6"].map(sha).to_vec();
    want.sort();
    assert_eq!(strings(&commits, "commit_sha"), want);
    let row = |c: &str| {
        commits
            .iter()
            .find(|r| r["commit_sha"] == sha(c))
            .unwrap_or_else(|| panic!("commit {c}"))
    };
    assert_eq!(
        row("c5")["parent_shas"],
        format!("[{}, {}]", sha("c4"), sha("f1")),
        "the merge commit keeps both parents, in order"
    );
    assert_eq!(row("c4")["parent_shas"], format!("[{}]", sha("c3")));
    assert_eq!(row("c5")["author"], "Grace");
    assert_eq!(row("f1")["author"], "Linus");
    assert_eq!(row("c5")["is_bot"], false);
    // Commit dates arrive at +02:00 and are stored in UTC.
    assert_eq!(times(&[row("c5").clone()], "authored"), [iso(5.5)]);
    assert_eq!(times(&[row("c5").clone()], "committed"), [iso(5.51)]);

    let prs = query(
        &lake,
        "SELECT pr_id, number, title, author, head_ref, base_ref, state, merge_commit_sha, url, \
         CAST(created_at AS VARCHAR) AS created, CAST(merged_at AS VARCHAR) AS merged \
         FROM pull_requests ORDER BY pr_id",
    )
    .await;
    assert_eq!(strings(&prs, "pr_id"), [11, 12, 13, 14].map(id));
    assert_eq!(
        strings(&prs, "state"),
        ["merged", "closed", "merged", "merged"]
    );
    assert_eq!(
        strings(&prs, "merge_commit_sha"),
        [sha("c5"), "null".into(), sha("c7"), sha("c3")],
        "merge commit, else squash commit, else head; none unless merged"
    );
    assert_eq!(
        times(&prs, "merged"),
        [iso(5.5), "null".into(), iso(9.2), iso(3.2)]
    );
    assert_eq!(times(&prs, "created"), [4.5, 1.0, 8.5, 2.5].map(iso));
    assert_eq!(
        strings(&prs, "head_ref"),
        [
            "feature/cart",
            "feature/abandoned",
            "hotfix/login",
            "docs/typo"
        ]
    );
    assert!(
        prs.iter()
            .all(|p| p["base_ref"] == "main" && p["author"] == "admin")
    );
    assert_eq!(prs[0]["number"], 11);
    assert_eq!(prs[0]["title"], "Cart");
    assert_eq!(
        prs[0]["url"],
        "https://gitlab.example.com/group/app/-/merge_requests/11"
    );

    // Run 2: nothing changed upstream. The window moved (watermark − 30 min), so
    // the URLs are new and cannot be conditional; nothing may be written.
    let files_before = lake_files(&dir.path().join("lake"));
    let seen = fake.shared.log().len();
    let second = collect(&cfg, TOKEN, &[]).await;
    assert!(second.ok, "{}", second.stderr);
    let log = fake.shared.log();
    let run2: Vec<Logged> = log[seen..].to_vec();
    let windows: Vec<(&str, Option<String>, Option<String>)> = run2
        .iter()
        .map(|l| (endpoint(l), param(l, "updated_after"), param(l, "page")))
        .collect();
    assert_eq!(
        windows,
        [
            ("deployments", Some("2025-03-01T09:30:00Z".into()), None),
            (
                "deployments",
                Some("2025-03-01T09:30:00Z".into()),
                Some("2".into())
            ),
            ("merge_requests", Some("2025-03-01T08:45:00Z".into()), None),
            (
                "merge_requests",
                Some("2025-03-01T08:45:00Z".into()),
                Some("2".into())
            ),
        ],
        "204 is in the window again but not compared again: {run2:#?}"
    );
    assert!(run2.iter().all(|l| l.status == 200), "{run2:#?}");
    assert!(
        second.stdout.contains("gl: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    assert_eq!(
        lake_files(&dir.path().join("lake")),
        files_before,
        "an unchanged re-sync writes nothing"
    );

    // Run 3: same window → every request conditional, every answer 304.
    let seen = fake.shared.log().len();
    let third = collect(&cfg, TOKEN, &[]).await;
    assert!(third.ok, "{}", third.stderr);
    let log = fake.shared.log();
    let run3: Vec<Logged> = log[seen..].to_vec();
    assert_eq!(
        run3.iter().map(|l| l.target.clone()).collect::<Vec<_>>(),
        run2.iter().map(|l| l.target.clone()).collect::<Vec<_>>(),
        "the same window, the next pages taken from the cache"
    );
    assert!(
        run3.iter().all(|l| l.conditional && l.status == 304),
        "{run3:#?}"
    );
    assert!(
        third.stdout.contains("gl: 0 new, 0 updated")
            && third
                .stdout
                .contains("4 requests, 0 retries, 4 not modified"),
        "{}",
        third.stdout
    );
    assert_eq!(lake_files(&dir.path().join("lake")), files_before);

    // Upstream change: the running deployment 205 succeeds; MR !12 is retitled.
    {
        let mut world = fake.shared.world.lock().expect("world");
        let d = world
            .deployments
            .iter_mut()
            .find(|d| d.id == 205)
            .expect("205");
        d.status = "success";
        d.updated = 10.55;
        d.job_finished = Some(10.5);
        let m = world
            .merge_requests
            .iter_mut()
            .find(|m| m.iid == 12)
            .expect("!12");
        m.title = "Abandoned idea (superseded)";
        m.updated = 10.6;
    }
    let seen = fake.shared.log().len();
    let fourth = collect(&cfg, TOKEN, &[]).await;
    assert!(fourth.ok, "{}", fourth.stderr);
    assert!(
        fourth.stdout.contains(
            "gl: 3 new, 1 updated (deployments 1, commits 1, deployment_commits 1, pull_requests 1)"
        ),
        "{}",
        fourth.stdout
    );
    let log = fake.shared.log();
    assert_eq!(
        compares(&log[seen..]),
        pairs(&[("c6", "c7")]),
        "205's base is 204 of production, not 207 of eu-live"
    );
    let d205 = query(
        &lake,
        "SELECT status, env_tier, commit_sha, CAST(started_at AS VARCHAR) AS started, \
         CAST(finished_at AS VARCHAR) AS finished FROM deployments WHERE deployment_id = 'gl:group/app:205'",
    )
    .await;
    assert_eq!(strings(&d205, "status"), ["success"]);
    assert_eq!(strings(&d205, "env_tier"), ["production"]);
    assert_eq!(strings(&d205, "commit_sha"), [sha("c7")]);
    assert_eq!(times(&d205, "started"), [iso(9.72)]);
    assert_eq!(times(&d205, "finished"), [iso(10.5)]);
    let mut expected_after = expected.clone();
    expected_after.push((id(205), sha("c7")));
    expected_after.sort();
    assert_eq!(links(&lake).await, expected_after);
    let c7 = query(
        &lake,
        &format!(
            "SELECT author, is_bot, parent_shas FROM commits WHERE commit_sha = '{}'",
            sha("c7")
        ),
    )
    .await;
    assert_eq!(c7.len(), 1);
    assert_eq!(c7[0]["author"], "renovate[bot]");
    assert_eq!(c7[0]["is_bot"], true);
    assert_eq!(c7[0]["parent_shas"], format!("[{}]", sha("c6")));
    let p12 = query(
        &lake,
        "SELECT title, state, merge_commit_sha FROM pull_requests WHERE pr_id = 'gl:group/app:12'",
    )
    .await;
    assert_eq!(p12.len(), 1);
    assert_eq!(p12[0]["title"], "Abandoned idea (superseded)");
    assert_eq!(p12[0]["merge_commit_sha"], Json::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_gitlab_token_is_one_clear_line_and_never_printed() {
    let fake = fake_gitlab::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url);
    let wrong = "glpat-WRONGtokenSECRET987654321";
    let run = collect(&cfg, wrong, &["-vv"]).await;
    assert_rejected_once(&run, TOKEN_ENV, fake.shared.log().len(), &[wrong]);
    let log = fake.shared.log();
    assert_eq!(log[0].status, 401);
}
