//! Lake durability: a writer killed with SIGKILL mid-import leaves a lake that reads
//! and holds either nothing or everything of that import; re-running converges.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use northstar::lake::Lake;
use northstar::lake::compact::{CompactOptions, CompactSummary, compact_table};
use northstar::lake::writer::PartTarget;

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

/// Starts `run`, waits `delay_ms` and kills it (SIGKILL on Unix); true when it was
/// still running then (it may already have finished).
fn kill_after(run: &impl Fn() -> std::process::Child, delay_ms: u64) -> bool {
    let mut child = run();
    std::thread::sleep(Duration::from_millis(delay_ms));
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
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
        if kill_after(&run, delay_ms) {
            killed_while_running += 1;
        }
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

fn incident_rows(n: usize) -> Vec<Vec<northstar::lake::batch::Value>> {
    use northstar::lake::batch::Value;
    (0..n)
        .map(|i| {
            let mut row = vec![Value::Null; 10];
            row[0] = Value::text(format!("I{i}"));
            row[2] = Value::text(format!("svc{}", i % 7));
            row[5] = Value::Timestamp(1_700_000_000_000_000 + i as i64 * 60_000_000);
            row
        })
        .collect()
}

fn incidents_batch(rows: &[Vec<northstar::lake::batch::Value>]) -> RecordBatch {
    let spec = northstar::lake::tables::table("incidents").expect("table");
    let mut builder = northstar::lake::batch::BatchBuilder::new(&spec);
    for row in rows {
        builder.push(row).expect("row");
    }
    builder.finish().expect("batch")
}

fn small_parts(rows: usize) -> PartTarget {
    PartTarget {
        rows,
        bytes: usize::MAX,
    }
}

async fn count(lake: &Lake, table: &str) -> i64 {
    query(lake, &format!("SELECT count(*) AS n FROM {table}")).await[0]["n"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn a_write_of_many_parts_appears_at_once_and_again_leaves_the_same_files() {
    use northstar::lake::batch::Value;
    let (_dir, lake) = temp_lake();
    let spec = northstar::lake::tables::table("incidents").expect("table");
    let mut rows = incident_rows(1_000);
    // The same key again at the very end, in the last part: the last one wins.
    let mut again = rows[0].clone();
    again[7] = Value::Timestamp(1_800_000_000_000_000);
    rows.push(again);
    let batch = incidents_batch(&rows);
    let write = || async {
        let mut writer = lake.begin_write(&spec).with_target(small_parts(300));
        writer
            .write_batch(&batch.slice(0, 500))
            .await
            .expect("write");
        writer
            .write_batch(&batch.slice(500, 501))
            .await
            .expect("write");
        assert_eq!(
            count(&lake, "incidents").await,
            if lake.files("incidents").await.expect("files").is_empty() {
                0
            } else {
                1_000
            },
            "staged parts are invisible"
        );
        writer.commit().await.expect("commit")
    };
    let first = write().await;
    assert_eq!(first.files.len(), 4, "{first:?}");
    assert!(first.files[3].ends_with("-4of4.parquet"), "{first:?}");
    assert_eq!(count(&lake, "incidents").await, 1_000);
    let resolved = query(
        &lake,
        "SELECT resolved_at FROM incidents WHERE incident_id = 'I0'",
    )
    .await;
    assert_eq!(resolved[0]["resolved_at"], "2027-01-15T08:00:00Z");
    let second = write().await;
    assert_eq!(second.files, first.files, "same rows, same names");
    assert_eq!(lake.files("incidents").await.expect("files"), first.files);
    assert!(
        !lake.local_root().join("_staging").exists()
            || std::fs::read_dir(lake.local_root().join("_staging"))
                .expect("dir")
                .next()
                .is_none(),
        "committed writes leave no staged parts"
    );
}

#[tokio::test]
async fn an_incomplete_group_is_invisible_and_an_aborted_write_leaves_nothing() {
    let (_dir, lake) = temp_lake();
    let spec = northstar::lake::tables::table("incidents").expect("table");
    let batch = incidents_batch(&incident_rows(100));
    let mut writer = lake.begin_write(&spec).with_target(small_parts(40));
    writer.write_batch(&batch).await.expect("write");
    writer.abort().await.expect("abort");
    assert_eq!(count(&lake, "incidents").await, 0);
    let staged: Vec<_> = walk(&lake.local_root().join("_staging"));
    assert!(staged.is_empty(), "{staged:?}");

    let mut writer = lake.begin_write(&spec).with_target(small_parts(40));
    writer.write_batch(&batch).await.expect("write");
    let summary = writer.commit().await.expect("commit");
    assert_eq!((summary.rows, summary.files.len()), (100, 3));
    // What a kill between two renames of a commit leaves: some parts, not all.
    let second = lake
        .local_root()
        .join("incidents")
        .join(summary.files[1].rsplit('/').next().expect("name"));
    std::fs::remove_file(second).expect("remove");
    assert!(lake.files("incidents").await.expect("files").is_empty());
    assert_eq!(count(&lake, "incidents").await, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Writes `n` incidents with ids `from..from + n` as one write; `resolved` marks
/// a later version of the same records.
async fn write_incidents(lake: &Lake, from: usize, n: usize, resolved: bool) {
    use northstar::lake::batch::Value;
    let spec = northstar::lake::tables::table("incidents").expect("table");
    let rows: Vec<_> = incident_rows(from + n)
        .into_iter()
        .skip(from)
        .map(|mut row| {
            if resolved {
                row[7] = Value::Timestamp(1_800_000_000_000_000);
            }
            row
        })
        .collect();
    lake.write(&spec, &incidents_batch(&rows))
        .await
        .expect("write");
}

fn no_grace(keep_history: bool) -> CompactOptions {
    CompactOptions {
        keep_history,
        grace: Duration::ZERO,
    }
}

async fn compact(lake: &Lake, table: &str, options: CompactOptions) -> CompactSummary {
    let spec = northstar::lake::tables::table(table).expect("table");
    compact_table(lake, &spec, options).await.expect("compact")
}

const CURRENT: &str = "SELECT * FROM incidents ORDER BY incident_id";

#[tokio::test]
async fn compaction_keeps_every_current_row_and_drops_superseded_versions() {
    let (_dir, lake) = temp_lake();
    for i in 0..5 {
        write_incidents(&lake, i * 100, 100, false).await;
    }
    write_incidents(&lake, 50, 100, true).await;
    let before = query(&lake, CURRENT).await;
    assert_eq!(count(&lake, "incidents__versions").await, 600);

    let summary = compact(&lake, "incidents", no_grace(false)).await;
    assert_eq!(
        (
            summary.files_before,
            summary.files_after,
            summary.rows,
            summary.superseded
        ),
        (6, 1, 500, 100),
        "{summary:?}"
    );
    assert_eq!(
        query(&lake, CURRENT).await,
        before,
        "same rows, same _ingested_at"
    );
    assert_eq!(count(&lake, "incidents__versions").await, 500);
    let files = lake.files("incidents").await.expect("files");
    assert!(
        files[0]
            .rsplit('/')
            .next()
            .unwrap_or("")
            .starts_with("compact-"),
        "{files:?}"
    );
    assert!(
        lake.listing("incidents")
            .await
            .expect("listing")
            .keys_unique()
    );
    let on_disk = walk(&lake.local_root().join("incidents"));
    assert_eq!(
        on_disk.len(),
        1,
        "with no grace the old files are gone: {on_disk:?}"
    );

    let again = compact(&lake, "incidents", no_grace(false)).await;
    assert_eq!(again.files_after, 0, "{again:?}");
    assert_eq!(lake.files("incidents").await.expect("files"), files);
    assert_eq!(walk(&lake.local_root().join("incidents")), on_disk);
}

#[tokio::test]
async fn history_keeps_superseded_versions_and_grace_keeps_replaced_files() {
    let (_dir, lake) = temp_lake();
    write_incidents(&lake, 0, 100, false).await;
    write_incidents(&lake, 0, 40, true).await;
    let before = query(&lake, CURRENT).await;
    let options = CompactOptions {
        keep_history: true,
        ..CompactOptions::default()
    };
    let summary = compact(&lake, "incidents", options).await;
    assert_eq!((summary.rows, summary.superseded), (100, 40), "{summary:?}");
    assert_eq!(query(&lake, CURRENT).await, before);
    let history = walk(&lake.local_root().join("incidents__history"));
    assert_eq!(history.len(), 1, "{history:?}");
    // The replaced files are hidden but still there for readers that listed them.
    let on_disk = walk(&lake.local_root().join("incidents"));
    assert_eq!(
        on_disk.len(),
        4,
        "2 replaced + compacted file + manifest: {on_disk:?}"
    );
    assert_eq!(count(&lake, "incidents__versions").await, 100);
    // Once the grace period is over, a sweep removes exactly those two.
    let later = compact(&lake, "incidents", no_grace(false)).await;
    assert_eq!((later.files_after, later.removed), (0, 3), "{later:?}");
    assert_eq!(walk(&lake.local_root().join("incidents")).len(), 1);
    assert_eq!(query(&lake, CURRENT).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_landing_during_compaction_survives() {
    let (_dir, lake) = temp_lake();
    for i in 0..20 {
        write_incidents(&lake, i * 500, 500, false).await;
    }
    let writes = async {
        for i in 0..30 {
            write_incidents(&lake, 100_000 + i * 10, 10, false).await;
            tokio::task::yield_now().await;
        }
    };
    let compactions = async {
        let mut summaries = Vec::new();
        for _ in 0..3 {
            summaries.push(compact(&lake, "incidents", no_grace(false)).await);
        }
        summaries
    };
    let ((), summaries) = tokio::join!(writes, compactions);
    assert!(summaries[0].files_after > 0, "{summaries:?}");
    assert_eq!(
        count(&lake, "incidents").await,
        10_000 + 300,
        "{summaries:?}"
    );
    compact(&lake, "incidents", no_grace(false)).await;
    assert_eq!(count(&lake, "incidents").await, 10_300);
    assert_eq!(count(&lake, "incidents__versions").await, 10_300);
}

#[tokio::test]
async fn a_lake_with_many_files_compacts_itself_after_a_write() {
    let (_dir, lake) = temp_lake();
    let lake = lake.with_compact_after_files(4);
    for i in 0..6 {
        write_incidents(&lake, i * 10, 10, false).await;
    }
    let files = lake.files("incidents").await.expect("files");
    assert!(files.len() <= 4, "{files:?}");
    assert_eq!(count(&lake, "incidents").await, 60);
}

#[tokio::test]
async fn kill_during_compaction_leaves_the_same_rows() {
    let (dir, lake) = temp_lake();
    // Three overlapping imports: 60 000 deployments, 30 000 of them in two versions.
    let csv = big_deployments_csv();
    let lines: Vec<&str> = csv.lines().collect();
    for (i, part) in [(1, 30_001), (20_001, 50_001), (40_001, 60_001)]
        .iter()
        .enumerate()
    {
        let mut text = format!("{}\n", lines[0]);
        for line in &lines[part.0..part.1] {
            text.push_str(&line.replace("success", if i == 0 { "success" } else { "failure" }));
            text.push('\n');
        }
        let file = crate::support::write_file(dir.path(), &format!("d{i}.csv"), &text);
        crate::support::seed(&lake, &[("deployments", file)]).await;
    }
    let expected = query(
        &lake,
        "SELECT status, count(*) AS n FROM deployments GROUP BY status ORDER BY status",
    )
    .await;
    let lake_dir = lake.local_root().to_path_buf();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_northstar"))
            .arg("--lake")
            .arg(&lake_dir)
            .args(["compact", "deployments", "--grace-secs", "0"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn northstar")
    };
    let mut killed_while_running = 0;
    for delay_ms in [5_u64, 40, 150, 400, 900, 1_500] {
        if kill_after(&run, delay_ms) {
            killed_while_running += 1;
        }
        let got = query(
            &lake,
            "SELECT status, count(*) AS n FROM deployments GROUP BY status ORDER BY status",
        )
        .await;
        assert_eq!(got, expected, "after a kill at {delay_ms} ms");
    }
    assert!(killed_while_running > 0, "no compaction was killed mid-way");
    assert!(run().wait().expect("wait").success());
    assert_eq!(deployments_count(&lake).await, ROWS as i64);
    assert_eq!(count(&lake, "deployments__versions").await, ROWS as i64);
    assert!(
        lake.listing("deployments")
            .await
            .expect("listing")
            .keys_unique()
    );
}
