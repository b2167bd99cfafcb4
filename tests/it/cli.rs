//! The binary as a user runs it: exit codes, `compute` output validated against the
//! JSON Schema, `query` formats.

use std::process::{Command, Output};

use crate::support::fixture;

fn northstar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args(args)
        .output()
        .expect("run northstar")
}

fn golden_lake_via_cli(lake: &str) {
    for table in ["services", "commits", "deployments", "incidents"] {
        let file = fixture(&format!("golden/{table}.csv"));
        let out = northstar(&["--lake", lake, "import", table, &file.to_string_lossy()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `compute` over the golden fixture's window with `extra` flags, writing
/// `out_file`, and returns the document.
fn compute_golden(lake: &str, out_file: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out_path = out_file.to_string_lossy().into_owned();
    let mut args = vec![
        "--lake",
        lake,
        "compute",
        "--from",
        "2024-03-04",
        "--to",
        "2024-03-18",
        "--out",
        &out_path,
    ];
    args.extend_from_slice(extra);
    let out = northstar(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(out_file).expect("metrics.json")).expect("json")
}

#[test]
fn compute_output_matches_the_json_schema() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    golden_lake_via_cli(&lake);
    let doc = compute_golden(&lake, &dir.path().join("metrics.json"), &[]);
    let validator = crate::support::metrics_schema();
    crate::support::assert_valid_metrics(&validator, &doc);
    assert_eq!(doc["dora"]["org"]["deployment_frequency"]["n"], 10);
    // The schema must be able to fail: a rate given in percent is rejected.
    let mut broken = doc.clone();
    broken["dora"]["org"]["change_failure_rate"]["rate"] = serde_json::json!(40);
    assert!(!validator.is_valid(&broken));
}

/// `compute --sections dora` writes the DORA section with the same figures as a full
/// compute, lists what it holds and leaves the rest out; an unknown section is a
/// usage error naming the known ones.
#[test]
fn compute_sections_selects_what_is_computed() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    golden_lake_via_cli(&lake);
    let compute = |extra: &[&str], name: &str| compute_golden(&lake, &dir.path().join(name), extra);
    let full = compute(&[], "full.json");
    let dora = compute(&["--sections", "dora"], "dora.json");
    assert_eq!(dora["sections"], serde_json::json!(["dora"]));
    assert_eq!(dora["dora"], full["dora"]);
    for absent in ["north_star", "okrs", "scorecards", "custom", "cost"] {
        assert!(dora.get(absent).is_none(), "{absent} should be left out");
    }
    assert!(full.get("sections").is_none());
    let validator = crate::support::metrics_schema();
    crate::support::assert_valid_metrics(&validator, &dora);
    // Without `sections`, every section is required: the partial document with its
    // list removed is invalid.
    let mut unlabelled = dora.clone();
    unlabelled
        .as_object_mut()
        .expect("object")
        .remove("sections");
    assert!(!validator.is_valid(&unlabelled));
    let two = compute(&["--sections", "cost,dora"], "two.json");
    assert_eq!(two["sections"], serde_json::json!(["dora", "cost"]));
    let bad = northstar(&["--lake", &lake, "compute", "--sections", "dora,speed"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("speed") && stderr.contains("north_star"),
        "{stderr}"
    );
}

#[test]
fn exit_codes_separate_usage_from_runtime_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "incident_id,started_at\nI1,yesterday\n").expect("write");
    let csv = csv.to_string_lossy().into_owned();
    assert_eq!(
        northstar(&["--lake", &lake, "import", "nope", &csv])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        northstar(&["--lake", &lake, "frobnicate"]).status.code(),
        Some(2)
    );
    assert_eq!(
        northstar(&["--lake", &lake, "compute", "--from", "soon"])
            .status
            .code(),
        Some(2)
    );
    let bad = northstar(&["--lake", &lake, "import", "incidents", &csv]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("x.csv") && stderr.contains("line 2") && stderr.contains("started_at"),
        "{stderr}"
    );
    assert!(northstar(&["--help"]).status.success());
    assert!(northstar(&["import", "--help"]).status.success());
}

#[test]
fn query_formats_and_parameters() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake").to_string_lossy().into_owned();
    golden_lake_via_cli(&lake);
    let sql = "SELECT deployment_id FROM prod_deployments WHERE finished_at >= $from AND service = $svc ORDER BY 1";
    let out = northstar(&[
        "--lake",
        &lake,
        "query",
        sql,
        "--param",
        "from=2024-03-11",
        "--param",
        "svc=api",
        "--format",
        "csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "deployment_id\nA6\nA7\nA8\n"
    );
    let out = northstar(&[
        "--lake",
        &lake,
        "query",
        "SELECT count(*) AS n FROM deployments",
        "--format",
        "json",
    ]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows[0]["n"], 14);
    let check = northstar(&["--lake", &lake, "check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
