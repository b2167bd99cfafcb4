//! Lake durability: a writer killed with SIGKILL mid-import leaves a lake that reads
//! and holds either nothing or everything of that import; re-running converges.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::support::{query, temp_lake};

const ROWS: usize = 60_000;

fn big_deployments_csv() -> String {
    let mut text = String::from("deployment_id,service,env_tier,status,commit_sha,finished_at\n");
    for i in 0..ROWS {
        let _ = writeln!(
            text,
            "d{i},svc{},production,success,{:040x},2024-03-{:02}T10:00:00Z",
            i % 40,
            i * 7919,
            1 + i % 28
        );
    }
    text
}

async fn deployments_count(lake: &northstar::lake::Lake) -> i64 {
    query(lake, "SELECT count(*) AS n FROM deployments").await[0]["n"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn kill_during_import_leaves_a_consistent_lake() {
    let (dir, lake) = temp_lake();
    let csv = crate::support::write_file(dir.path(), "big.csv", &big_deployments_csv());
    let lake_dir = lake.local_root().to_path_buf();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_northstar"))
            .arg("--lake")
            .arg(&lake_dir)
            .args(["import", "deployments"])
            .arg(&csv)
            .spawn()
            .expect("spawn northstar")
    };
    let mut outcomes = Vec::new();
    let mut killed_while_running = 0;
    for delay_ms in [5_u64, 40, 150, 400, 900, 1_500] {
        let mut child = run();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if matches!(child.try_wait(), Ok(None)) {
            killed_while_running += 1;
        }
        let _ = child.kill(); // SIGKILL on Unix; the process may already have finished.
        let _ = child.wait();
        let n = deployments_count(&lake).await;
        assert!(
            n == 0 || n == ROWS as i64,
            "after a kill at {delay_ms} ms the lake holds {n} rows"
        );
        outcomes.push(n);
    }
    assert!(
        killed_while_running > 0,
        "no run was killed mid-import: {outcomes:?}"
    );
    let status = run().wait().expect("wait");
    assert!(status.success());
    assert_eq!(
        deployments_count(&lake).await,
        ROWS as i64,
        "re-running converges: {outcomes:?}"
    );
    let files = lake.files("deployments").await.unwrap_or_default();
    assert_eq!(
        files.len(),
        1,
        "every run wrote the same content-addressed file: {files:?}"
    );
}

#[tokio::test]
async fn a_staging_file_left_by_a_crash_is_never_read() {
    let (_dir, lake) = temp_lake();
    crate::support::seed(
        &lake,
        &[(
            "deployments",
            crate::support::fixture("golden/deployments.csv"),
        )],
    )
    .await;
    // What object_store leaves when a process dies between writing and renaming:
    // a partial file under a staging name beside the real ones.
    let table_dir = lake.local_root().join("deployments");
    std::fs::write(table_dir.join("part-0000.parquet#1"), b"PAR1 truncated").expect("write");
    assert_eq!(deployments_count(&lake).await, 14);
    assert_eq!(lake.files("deployments").await.unwrap_or_default().len(), 1);
}

fn pr_row(id: &str, title: &str) -> Vec<northstar::lake::batch::Value> {
    use northstar::lake::batch::Value;
    let mut row = vec![Value::Null; 14];
    row[0] = Value::text(id);
    row[2] = Value::text("acme/api");
    row[4] = Value::text(title);
    row[8] = Value::text("merged");
    row[12] = Value::TextList(vec!["a".into(), "b".into()]);
    row
}

#[tokio::test]
async fn write_changed_skips_unchanged_rows_and_counts_updates() {
    let (dir, lake) = temp_lake();
    let spec = northstar::lake::tables::table("pull_requests").expect("table");
    let rows = vec![pr_row("p1", "One"), pr_row("p2", "Two")];
    let first = lake
        .write_changed(&spec, rows.clone())
        .await
        .expect("write");
    assert_eq!((first.new, first.updated), (2, 0));
    let again = lake
        .write_changed(&spec, rows.clone())
        .await
        .expect("write");
    assert_eq!((again.new, again.updated), (0, 0));
    // A fresh handle on the same folder (a new run) knows the stored rows too.
    let reopened = northstar::lake::Lake::open_local(&dir.path().join("lake")).expect("lake");
    let changed = vec![
        pr_row("p1", "One"),
        pr_row("p2", "Two, renamed"),
        pr_row("p3", "Three"),
    ];
    let third = reopened.write_changed(&spec, changed).await.expect("write");
    assert_eq!((third.new, third.updated), (1, 1));
    assert_eq!(
        lake.files("pull_requests").await.expect("files").len(),
        2,
        "the unchanged re-write added no file"
    );
    let titles = query(&reopened, "SELECT title FROM pull_requests ORDER BY pr_id").await;
    let titles: Vec<&str> = titles.iter().filter_map(|r| r["title"].as_str()).collect();
    assert_eq!(titles, ["One", "Two, renamed", "Three"]);
    // The first handle sees the other handle's file and does not rewrite p3.
    let fourth = lake
        .write_changed(&spec, vec![pr_row("p3", "Three")])
        .await
        .expect("write");
    assert_eq!((fourth.new, fourth.updated), (0, 0));
}
