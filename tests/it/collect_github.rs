//! The GitHub collector against a fake GitHub serving the vendor's example payloads
//! (tests/it/fake_github.rs), run as a user runs it: the binary, a config file, the
//! token in an environment variable.
//!
//! The scenario (hours after 2025-03-01T00:00Z):
//!
//! ```text
//! c1(0) ← c2(1) ← c3(3) ← c4(3.5) ←──────── c5(5.5, merge) ← c6(7) ← c7(9)
//!                      ↖ f1(5, PR #11) ──────↗
//! deployments: 101 c2 prod ok@2.1 · 102 c4 prod ok@4.1 · 103 c5 prod FAILED@6.05
//!              104 c6 prod ok@8.1 · 105 c7 prod in progress · 106 c7 staging ok@20.05
//! PRs: #11 merged@5.5 as c5 (own commit f1) · #12 closed unmerged · #13 merged@9.2 as c7
//! ```
//!
//! Worked out by hand:
//! - 101 is the first production deployment: it ships nothing (no compare base).
//! - 102 ships compare(c2...c4) = {c3, c4}.
//! - 103 failed: it is no compare base. 104 ships compare(c4...c6) = {f1, c5, c6}.
//! - 105 is still running: not written, polled again; once it succeeds it ships
//!   compare(c6...c7) = {c7}.
//! - commits: c3, c4, f1, c5, c6 from compares, f1 and c7 from PR commit lists: 6.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use crate::collector_runs::{
    self, Run, assert_rejected_once, lake_files, open_lake, strings, walk, write_config,
};
use crate::fake_github::{self, World, at, sha};
use crate::fake_server::Fault;
use crate::support::{metrics, query};

const TOKEN: &str = "ghp_TESTtokenVALUE0123456789abcdefXYZ";
const TOKEN_ENV: &str = "NORTHSTAR_TEST_GH_TOKEN";

fn config(dir: &Path, api_url: &str, extra: &str) -> PathBuf {
    let source = format!(
        "[[sources]]\nkind = \"github\"\nname = \"gh\"\napi_url = \"{api_url}\"\ntoken_env = \"{TOKEN_ENV}\"\nrepos = [\"octocat/example\"]\n{extra}"
    );
    write_config(dir, &source)
}

async fn collect(config: &Path, token: &str, extra_args: &[&str]) -> Run {
    collector_runs::collect(config, &[(TOKEN_ENV, token)], extra_args).await
}

fn id(n: i64) -> String {
    format!("gh:octocat/example:{n}")
}

#[tokio::test(flavor = "multi_thread")]
async fn github_collect_is_exact_resilient_incremental_and_conditional() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url, "");
    fake.shared
        .fault("deployments?per_page=2&page=2", fake_github::rate_limit());
    fake.shared
        .fault("/deployments/103/statuses", Fault::bad_gateway());
    fake.shared
        .fault("/compare/", Fault::Slow(Duration::from_secs(3)));
    fake.shared.fault("/pulls?", Fault::Truncate);
    fake.shared
        .fault("/pulls/11/commits", fake_github::primary_rate_limit());

    // Run 1: everything, through every fault.
    let first = collect(&cfg, TOKEN, &[]).await;
    assert!(first.ok, "collect failed: {}", first.stderr);
    let log = fake.shared.log();
    assert!(
        log.iter().all(|l| l.user_agent_ok),
        "every request names northstar"
    );
    for needle in [
        "deployments?per_page=2&page=2",
        "/deployments/103/statuses",
        "/pulls/11/commits",
    ] {
        let tries: Vec<u16> = log
            .iter()
            .filter(|l| l.target.contains(needle))
            .map(|l| l.status)
            .collect();
        assert_eq!(tries.len(), 2, "{needle} retried once: {tries:?}");
        assert_eq!(tries[1], 200, "{needle}");
    }
    assert!(
        first.stdout.contains("gh: 19 new, 0 updated"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("(deployments 5, commits 6, deployment_commits 5, pull_requests 3)"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("5 retries"), "{}", first.stdout);

    let lake = open_lake(dir.path());
    let deployments = query(
        &lake,
        "SELECT deployment_id, source, repo, service, environment, env_tier, status, commit_sha, \
         CAST(started_at AS VARCHAR) AS started, CAST(finished_at AS VARCHAR) AS finished, kind, via_platform, url \
         FROM deployments ORDER BY deployment_id",
    )
    .await;
    assert_eq!(
        strings(&deployments, "deployment_id"),
        [101, 102, 103, 104, 106].map(id)
    );
    assert_eq!(
        strings(&deployments, "status"),
        ["success", "success", "failure", "success", "success"]
    );
    assert_eq!(
        strings(&deployments, "env_tier"),
        [
            "production",
            "production",
            "production",
            "production",
            "staging"
        ]
    );
    assert_eq!(
        strings(&deployments, "commit_sha"),
        ["c2", "c4", "c5", "c6", "c7"].map(sha)
    );
    let iso = |h: f64| at(h).replace('T', " ").replace('Z', "");
    let finished: Vec<String> = strings(&deployments, "finished")
        .iter()
        .map(|t| t.replace('T', " ").trim_end_matches('Z').to_string())
        .collect();
    assert_eq!(finished, [2.1, 4.1, 6.05, 8.1, 20.05].map(&iso));
    let started: Vec<String> = strings(&deployments, "started")
        .iter()
        .map(|t| t.replace('T', " ").trim_end_matches('Z').to_string())
        .collect();
    assert_eq!(started, [2.0, 4.0, 6.0, 8.0, 20.0].map(&iso));
    assert!(
        deployments
            .iter()
            .all(|d| d["service"] == "example" && d["source"] == "gh" && d["kind"] == "planned")
    );
    assert_eq!(deployments[0]["url"], "https://ci.example.com/deploy/101");

    let links = query(&lake, "SELECT deployment_id, commit_sha FROM lake_deployment_commits ORDER BY deployment_id, commit_sha").await;
    let mut expected: Vec<(String, String)> = vec![
        (id(102), sha("c3")),
        (id(102), sha("c4")),
        (id(104), sha("f1")),
        (id(104), sha("c5")),
        (id(104), sha("c6")),
    ];
    expected.sort();
    let got: Vec<(String, String)> = links
        .iter()
        .map(|r| {
            (
                r["deployment_id"].as_str().unwrap_or("").to_string(),
                r["commit_sha"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);

    let commits = query(
        &lake,
        "SELECT commit_sha, parent_shas, author FROM commits ORDER BY commit_sha",
    )
    .await;
    let mut want: Vec<String> = ["c3", "c4", "f1", "c5", "c6", "c7"].map(sha).to_vec();
    want.sort();
    assert_eq!(strings(&commits, "commit_sha"), want);
    let merge = commits
        .iter()
        .find(|c| c["commit_sha"] == sha("c5"))
        .expect("merge commit");
    assert_eq!(
        merge["parent_shas"],
        format!("[{}, {}]", sha("c4"), sha("f1"))
    );
    assert_eq!(merge["author"], "octocat");

    let prs = query(&lake, "SELECT pr_id, state, head_ref, merge_commit_sha, commit_shas, CAST(merged_at AS VARCHAR) AS merged FROM pull_requests ORDER BY pr_id").await;
    assert_eq!(strings(&prs, "pr_id"), [11, 12, 13].map(id));
    assert_eq!(strings(&prs, "state"), ["merged", "closed", "merged"]);
    assert_eq!(prs[0]["merge_commit_sha"], sha("c5"));
    assert_eq!(prs[0]["commit_shas"], format!("[{}]", sha("f1")));
    assert_eq!(
        prs[1]["merge_commit_sha"],
        Json::Null,
        "an unmerged PR's test merge commit is dropped"
    );
    assert_eq!(prs[1]["merged"], Json::Null);

    // Run 2: nothing changed upstream → only conditional requests, all 304, no file.
    let files_before = lake_files(&dir.path().join("lake"));
    let seen = fake.shared.log().len();
    let second = collect(&cfg, TOKEN, &[]).await;
    assert!(second.ok, "{}", second.stderr);
    let log = fake.shared.log();
    let run2 = &log[seen..];
    assert!(!run2.is_empty());
    assert!(
        run2.iter().all(|l| l.conditional && l.status == 304),
        "{run2:#?}"
    );
    assert!(
        second.stdout.contains("gh: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    assert_eq!(
        lake_files(&dir.path().join("lake")),
        files_before,
        "an unchanged re-sync writes nothing"
    );

    // Upstream change: the running deployment 105 succeeds.
    {
        let mut world = fake.shared.world.lock().expect("world");
        if let Some(d) = world.deployments.iter_mut().find(|d| d.id == 105) {
            d.statuses.push(("success", 10.1));
        }
    }
    let third = collect(&cfg, TOKEN, &[]).await;
    assert!(third.ok, "{}", third.stderr);
    assert!(
        third.stdout.contains(
            "gh: 2 new, 0 updated (deployments 1, commits 0, deployment_commits 1, pull_requests 0)"
        ),
        "{}",
        third.stdout
    );
    let links = query(&lake, "SELECT commit_sha FROM lake_deployment_commits WHERE deployment_id = 'gh:octocat/example:105'").await;
    assert_eq!(strings(&links, "commit_sha"), [sha("c7")]);

    // The collected rows feed lead time, with PR times joined from pull_requests.
    let samples = query(
        &lake,
        "SELECT deployment_id, commit_sha, CAST(pr_merged_at AS VARCHAR) AS merged FROM lead_time_samples ORDER BY deployment_id, commit_sha",
    )
    .await;
    assert_eq!(samples.len(), 6);
    let merged_of = |c: &str| {
        samples.iter().find(|s| s["commit_sha"] == sha(c)).map(|s| {
            s["merged"]
                .as_str()
                .unwrap_or("null")
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string()
        })
    };
    assert_eq!(merged_of("f1"), Some(iso(5.5)), "f1 is PR #11's own commit");
    assert_eq!(
        merged_of("c5"),
        Some(iso(5.5)),
        "c5 is PR #11's merge commit"
    );
    assert_eq!(merged_of("c7"), Some(iso(9.2)));
    assert_eq!(merged_of("c3"), Some("null".to_string()));
    // Lead time from authoring: 102: c3 1.1 h, c4 0.6 h; 104: f1 3.1, c5 2.6, c6 1.1;
    // 105: c7 1.1 → sorted 0.6 1.1 1.1 1.1 2.6 3.1 → median 1.1 h over n = 6.
    let m = metrics(&lake, "2025-03-01", "2025-03-02").await;
    let lt = &m["dora"]["org"]["lead_time"];
    assert_eq!(lt["n"], 6, "{lt}");
    assert!(
        (lt["median_hours"].as_f64().unwrap_or(0.0) - 1.1).abs() < 1e-9,
        "{lt}"
    );
    // Change failure rate: 5 production deployments finished (101, 102, 103, 104, 105), 1 failed.
    let dep = &m["dora"]["org"]["deployment_frequency"];
    assert_eq!(dep["n"], 4, "successful production deployments: {dep}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_is_one_clear_line_and_never_printed() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url, "");
    let wrong = "ghp_WRONGtokenSECRET987654321";
    let run = collect(&cfg, wrong, &["-vv"]).await;
    assert_rejected_once(
        &run,
        "NORTHSTAR_TEST_GH_TOKEN",
        fake.shared.log().len(),
        &[wrong],
    );

    // Unset variable: named, nothing sent.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_northstar"))
        .arg("--config")
        .arg(&cfg)
        .arg("collect")
        .env_remove(TOKEN_ENV)
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("NORTHSTAR_TEST_GH_TOKEN is not set"),
        "{stderr}"
    );
    assert_eq!(fake.shared.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_appears_nowhere_in_logs_errors_or_the_lake() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    fake.shared
        .fault("/deployments/104/statuses", Fault::bad_gateway());
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url, "");
    let run = collect(&cfg, TOKEN, &["-vv"]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("retrying"),
        "debug logs were produced: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    let mut checked = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).expect("read");
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(TOKEN), "token found in {}", entry.display());
        checked += 1;
    }
    assert!(
        checked > 10,
        "lake, state and cache files were checked ({checked})"
    );
}

/// The lake's logical content: every table's rows without ingestion times.
async fn snapshot(lake: &northstar::lake::Lake) -> Vec<String> {
    let mut rows = Vec::new();
    for table in [
        "deployments",
        "commits",
        "lake_deployment_commits",
        "pull_requests",
    ] {
        let sql = format!("SELECT * EXCLUDE (_ingested_at) FROM {table}");
        for r in query(lake, &sql).await {
            rows.push(format!("{table}: {}", Json::Object(r)));
        }
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_anywhere_and_resumed_gives_the_same_lake() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    let reference_dir = tempfile::tempdir().expect("tmp");
    let cfg = config(reference_dir.path(), &fake.url, "");
    let run = collect(&cfg, TOKEN, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let total_requests = fake.shared.log().len();
    let reference = snapshot(&open_lake(reference_dir.path())).await;
    assert_eq!(reference.len(), 19);

    for stall_at in [3, 7, 11, total_requests - 1] {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = config(dir.path(), &fake.url, "");
        let before = fake.shared.log().len();
        *fake.shared.stall_at.lock().expect("stall") = Some(before + stall_at);
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_northstar"))
            .arg("--config")
            .arg(&cfg)
            .arg("collect")
            .env(TOKEN_ENV, TOKEN)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while fake.shared.log().len() < before + stall_at {
            assert!(
                std::time::Instant::now() < deadline,
                "collector never reached request {stall_at}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().await.expect("kill");
        *fake.shared.stall_at.lock().expect("stall") = None;
        let resumed = collect(&cfg, TOKEN, &[]).await;
        assert!(
            resumed.ok,
            "resume after a kill at request {stall_at}: {}",
            resumed.stderr
        );
        assert_eq!(
            snapshot(&open_lake(dir.path())).await,
            reference,
            "killed at request {stall_at}"
        );
    }
}

fn links_of(rows: &[serde_json::Map<String, Json>], deployment: &str) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r["deployment_id"] == deployment)
        .filter_map(|r| r["commit_sha"].as_str().map(str::to_string))
        .collect()
}

fn shas(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| sha(n)).collect()
}

/// Releases mode. Releases: v1.0.0 → c2 @2.2, v1.1.0 → c4 @4.2, v1.2.0-rc1 (a
/// pre-release) → c5, v1.3.0-draft (a draft) → c7, v1.2.0 → c6 @8.2. The draft and
/// the pre-release are not deployments; v1.1.0 ships {c3, c4}, v1.2.0 ships
/// {f1, c5, c6}, v1.0.0 is first and ships nothing.
#[tokio::test(flavor = "multi_thread")]
async fn releases_mode_turns_published_releases_into_deployments() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), &fake.url, "mode = \"releases\"\n");
    let run = collect(&cfg, TOKEN, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let lake = open_lake(dir.path());
    let deployments = query(
        &lake,
        "SELECT deployment_id, commit_sha, status, CAST(finished_at AS VARCHAR) AS finished FROM deployments ORDER BY finished_at",
    )
    .await;
    assert_eq!(
        strings(&deployments, "deployment_id"),
        ["release-1", "release-2", "release-5"].map(|r| format!("gh:octocat/example:{r}"))
    );
    assert_eq!(
        strings(&deployments, "commit_sha"),
        ["c2", "c4", "c6"].map(sha)
    );
    let finished: Vec<String> = strings(&deployments, "finished")
        .iter()
        .map(|t| t.replace(' ', "T").trim_end_matches('Z').to_string() + "Z")
        .collect();
    assert_eq!(finished, [2.2, 4.2, 8.2].map(at));
    let links = query(
        &lake,
        "SELECT deployment_id, commit_sha FROM lake_deployment_commits",
    )
    .await;
    assert_eq!(
        links_of(&links, "gh:octocat/example:release-2"),
        shas(&["c3", "c4"])
    );
    assert_eq!(
        links_of(&links, "gh:octocat/example:release-5"),
        shas(&["f1", "c5", "c6"])
    );
    assert_eq!(links.len(), 5);
}

/// Workflow-runs mode with `workflows = ["deploy.yml"]`: runs 201 (c2, success),
/// 203 (c4, failure), 204 (c6, success) and 205 (c7, on hotfix/login, still
/// running) are deploy runs; 202 is CI and ignored. 204 ships compare(c2...c6) =
/// {c3, c4, f1, c5, c6}, since the failed 203 is no base. When 205 completes it
/// is a hotfix and ships {c7}. The workflow path matches `platform_workflows`, so
/// all of them went through the platform.
#[tokio::test(flavor = "multi_thread")]
async fn workflow_runs_mode_follows_deploy_runs_and_repolls_running_ones() {
    let fake = fake_github::start(TOKEN, World::scenario()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let extra = "mode = \"workflow_runs\"\nworkflows = [\"deploy.yml\"]\n[sources.rules]\nplatform_workflows = [\".github/workflows/deploy.yml*\"]\n";
    let cfg = config(dir.path(), &fake.url, extra);
    let run = collect(&cfg, TOKEN, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let lake = open_lake(dir.path());
    let sql =
        "SELECT deployment_id, status, kind, via_platform FROM deployments ORDER BY deployment_id";
    let deployments = query(&lake, sql).await;
    assert_eq!(
        strings(&deployments, "deployment_id"),
        ["run-201", "run-203", "run-204"].map(|r| format!("gh:octocat/example:{r}"))
    );
    assert_eq!(
        strings(&deployments, "status"),
        ["success", "failure", "success"]
    );
    assert!(
        deployments
            .iter()
            .all(|d| d["via_platform"] == true && d["kind"] == "planned")
    );
    let links = query(
        &lake,
        "SELECT deployment_id, commit_sha FROM lake_deployment_commits",
    )
    .await;
    assert_eq!(
        links_of(&links, "gh:octocat/example:run-204"),
        shas(&["c3", "c4", "f1", "c5", "c6"])
    );

    {
        let mut world = fake.shared.world.lock().expect("world");
        if let Some(r) = world.runs.iter_mut().find(|r| r.id == 205) {
            r.outcome = ("completed", Some("success"));
        }
    }
    let again = collect(&cfg, TOKEN, &[]).await;
    assert!(again.ok, "{}", again.stderr);
    let deployments = query(&lake, sql).await;
    let hotfix = deployments
        .iter()
        .find(|d| d["deployment_id"] == "gh:octocat/example:run-205")
        .expect("run 205 collected once it completed");
    assert_eq!(hotfix["kind"], "hotfix");
    let links = query(
        &lake,
        "SELECT deployment_id, commit_sha FROM lake_deployment_commits",
    )
    .await;
    assert_eq!(
        links_of(&links, "gh:octocat/example:run-205"),
        shas(&["c7"])
    );
}
