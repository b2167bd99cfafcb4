//! Importing: idempotence, newest-version-wins, validation errors and quarantine.

use northstar::error::Error;
use northstar::import::{ImportOptions, import_files};

use crate::support::{golden_lake, metrics, query, temp_lake, write_file};

const HEADER: &str = "incident_id,service,started_at,resolved_at\n";

async fn count(lake: &northstar::lake::Lake, table: &str) -> i64 {
    let rows = query(lake, &format!("SELECT count(*) AS n FROM {table}")).await;
    rows[0]["n"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn importing_the_same_file_twice_changes_nothing() {
    let (dir, lake) = golden_lake().await;
    let before = metrics(&lake, "2024-03-04", "2024-03-18").await;
    let files_before = lake.files("deployments").await.unwrap_or_default();
    let file = crate::support::fixture("golden/deployments.csv");
    import_files(&lake, "deployments", &[file], ImportOptions::default())
        .await
        .expect("re-import");
    assert_eq!(count(&lake, "deployments").await, 14);
    assert_eq!(
        lake.files("deployments").await.unwrap_or_default(),
        files_before,
        "same rows, same file"
    );
    let after = metrics(&lake, "2024-03-04", "2024-03-18").await;
    assert_eq!(before["dora"], after["dora"]);
    drop(dir);
}

#[tokio::test]
async fn a_newer_version_of_a_record_replaces_the_old_one() {
    let (dir, lake) = temp_lake();
    let v1 = write_file(
        dir.path(),
        "v1.csv",
        &format!("{HEADER}I1,api,2024-03-05T13:00:00Z,\nI2,api,2024-03-06T13:00:00Z,\n"),
    );
    let v2 = write_file(
        dir.path(),
        "v2.ndjson",
        r#"{"incident_id":"I1","service":"api","started_at":"2024-03-05T13:00:00Z","resolved_at":"2024-03-05T15:00:00Z"}"#,
    );
    import_files(&lake, "incidents", &[v1], ImportOptions::default())
        .await
        .expect("v1");
    import_files(
        &lake,
        "incidents",
        std::slice::from_ref(&v2),
        ImportOptions::default(),
    )
    .await
    .expect("v2");
    import_files(&lake, "incidents", &[v2], ImportOptions::default())
        .await
        .expect("v2 again");
    assert_eq!(count(&lake, "incidents").await, 2);
    assert_eq!(
        count(&lake, "incidents__versions").await,
        3,
        "both versions of I1 are kept on disk"
    );
    let rows = query(
        &lake,
        "SELECT incident_id, resolved_at FROM incidents ORDER BY incident_id",
    )
    .await;
    assert_eq!(rows[0]["resolved_at"], "2024-03-05T15:00:00Z");
    assert_eq!(rows[1]["resolved_at"], serde_json::Value::Null);
}

#[tokio::test]
async fn gzip_and_repeated_keys_in_one_file() {
    use std::io::Write;
    let (dir, lake) = temp_lake();
    let path = dir.path().join("incidents.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::default(),
    );
    gz.write_all(format!("{HEADER}I1,api,2024-03-05T13:00:00Z,\nI1,api,2024-03-05T13:00:00Z,2024-03-05T14:00:00Z\n").as_bytes()).expect("write");
    gz.finish().expect("finish");
    let summary = import_files(&lake, "incidents", &[path], ImportOptions::default())
        .await
        .expect("import");
    assert_eq!(
        (summary.records, summary.written),
        (2, 1),
        "the later line wins within a file"
    );
    let rows = query(&lake, "SELECT resolved_at FROM incidents").await;
    assert_eq!(rows[0]["resolved_at"], "2024-03-05T14:00:00Z");
}

async fn import_error(name: &str, text: &str, table: &str) -> Error {
    let (dir, lake) = temp_lake();
    let file = write_file(dir.path(), name, text);
    let err = import_files(&lake, table, &[file], ImportOptions::default())
        .await
        .expect_err("must fail");
    assert!(
        lake.files(table).await.unwrap_or_default().is_empty(),
        "nothing written"
    );
    err
}

#[tokio::test]
async fn bad_timestamp_names_file_line_and_column() {
    let err = import_error(
        "bad.csv",
        &format!("{HEADER}I1,api,2024-03-05T13:00:00Z,\nI2,api,2024-13-40T00:00:00Z,\n"),
        "incidents",
    )
    .await;
    let text = err.to_string();
    assert!(matches!(err, Error::BadRecord { line: 3, .. }), "{text}");
    assert!(
        text.contains("bad.csv") && text.contains("line 3") && text.contains("`started_at`"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_type_is_rejected() {
    let text =
        "deployment_id,service,env_tier,status,via_platform\nD1,api,production,success,maybe\n";
    let err = import_error("d.csv", text, "deployments").await.to_string();
    assert!(
        err.contains("line 2") && err.contains("via_platform") && err.contains("maybe"),
        "{err}"
    );
    let bad_enum = "deployment_id,service,env_tier,status\nD1,api,prod,success\n";
    let err = import_error("e.csv", bad_enum, "deployments")
        .await
        .to_string();
    assert!(
        err.contains("env_tier") && err.contains("production"),
        "{err}"
    );
    let ndjson = r#"{"incident_id":"I1","started_at":12}"#;
    let err = import_error("i.ndjson", ndjson, "incidents")
        .await
        .to_string();
    assert!(
        err.contains("line 1") && err.contains("started_at"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_required_column_and_unknown_table() {
    let err = import_error("m.csv", "incident_id,service\nI1,api\n", "incidents")
        .await
        .to_string();
    assert!(
        err.contains("missing required column") && err.contains("started_at"),
        "{err}"
    );
    let err = import_error(
        "u.csv",
        "incident_id,started_at,sevrity\nI1,2024-01-01,1\n",
        "incidents",
    )
    .await
    .to_string();
    assert!(err.contains("unknown column `sevrity`"), "{err}");
    let (dir, lake) = temp_lake();
    let file = write_file(dir.path(), "x.csv", HEADER);
    let err = import_files(&lake, "deploys", &[file], ImportOptions::default())
        .await
        .expect_err("unknown table");
    assert_eq!(err.kind(), northstar::error::ErrorKind::Usage);
}

#[tokio::test]
async fn skip_bad_quarantines_with_reasons() {
    let (dir, lake) = temp_lake();
    let text = format!(
        "{HEADER}I1,api,2024-03-05T13:00:00Z,\nI2,api,not-a-time,\nI3,api,2024-03-05T13:00:00Z,\n,api,2024-03-05T13:00:00Z,\n"
    );
    let file = write_file(dir.path(), "mixed.csv", &text);
    let options = ImportOptions { skip_bad: true };
    let summary = import_files(&lake, "incidents", std::slice::from_ref(&file), options)
        .await
        .expect("import");
    assert_eq!((summary.records, summary.quarantined), (2, 2));
    // Importing again quarantines the same records once, not twice.
    import_files(&lake, "incidents", &[file], options)
        .await
        .expect("again");
    let rows = query(
        &lake,
        "SELECT record, field, reason FROM quarantine ORDER BY record",
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["record"], 3);
    assert_eq!(rows[0]["field"], "started_at");
    assert_eq!(rows[1]["record"], 5);
    assert_eq!(rows[1]["field"], "incident_id");
    assert!(rows[1]["reason"].as_str().unwrap_or("").contains("missing"));
    assert_eq!(count(&lake, "incidents").await, 2);
}

#[tokio::test]
async fn unreadable_records_are_named_and_quarantined() {
    let (dir, lake) = temp_lake();
    let csv = write_file(
        dir.path(),
        "ragged.csv",
        &format!("{HEADER}I1,api,2024-03-05T13:00:00Z,\nI2,api,2024-03-05T13:00:00Z,,extra\n"),
    );
    let json = write_file(
        dir.path(),
        "broken.ndjson",
        "{\"incident_id\":\"I3\",\"started_at\":\"2024-03-05\"}\n{not json\n[1,2]\n",
    );
    let err = import_files(
        &lake,
        "incidents",
        std::slice::from_ref(&csv),
        ImportOptions::default(),
    )
    .await
    .expect_err("ragged");
    assert!(err.to_string().contains("ragged.csv: line 3"), "{err}");
    let options = ImportOptions { skip_bad: true };
    let summary = import_files(&lake, "incidents", &[csv, json], options)
        .await
        .expect("skip bad");
    assert_eq!((summary.records, summary.quarantined), (2, 3));
    let rows = query(
        &lake,
        "SELECT source_file, record, reason FROM quarantine ORDER BY source_file, record",
    )
    .await;
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            let file = r["source_file"].as_str().unwrap_or("");
            let name = file.rsplit('/').next().unwrap_or(file);
            format!("{name}:{}", r["record"])
        })
        .collect();
    assert_eq!(got, ["broken.ndjson:2", "broken.ndjson:3", "ragged.csv:3"]);
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("invalid JSON")
    );
}

#[tokio::test]
async fn a_bad_record_after_the_first_chunk_still_writes_nothing() {
    let (dir, lake) = temp_lake();
    let mut text = String::from(HEADER);
    let n = northstar::import::CHUNK_RECORDS + 5_000;
    for i in 0..n {
        text.push_str(&format!("I{i},api,2024-03-05T13:00:00Z,\n"));
    }
    text.push_str("I-last,api,not-a-time,\n");
    let file = write_file(dir.path(), "long.csv", &text);
    let err = import_files(&lake, "incidents", &[file], ImportOptions::default())
        .await
        .expect_err("bad last record");
    assert!(
        matches!(err, Error::BadRecord { line, .. } if line == n as u64 + 2),
        "{err}"
    );
    assert!(lake.files("incidents").await.unwrap_or_default().is_empty());
    let staging = lake.local_root().join("_staging");
    let left = std::fs::read_dir(&staging).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the aborted write left staged parts");
}
