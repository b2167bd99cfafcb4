//! `northstar bench`: the generator is deterministic and its files import cleanly;
//! `bench run` times every stage. Sizes only; no timing is asserted.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use northstar::bench::{Manifest, Scale, generate};
use northstar::lake::Lake;
use serde_json::Value as Json;

use crate::support::query;

/// Every file under `dir` with its bytes, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn generate_tiny_is_deterministic() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let first = generate(Scale::Tiny, &a, false).expect("generate a");
    let second = generate(Scale::Tiny, &b, false).expect("generate b");
    assert_eq!(first, second);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between runs");
    }
    for table in [
        "services",
        "deployments",
        "commits",
        "pull_requests",
        "incidents",
        "tickets",
        "ticket_transitions",
        "platform_actions",
        "costs",
    ] {
        assert!(first.rows(table) > 0, "{table} has no rows");
    }
    assert_eq!(first.tables.last().map(|t| t.table.as_str()), Some("costs"));
    let months = &first.tables.last().expect("costs").files;
    assert_eq!(months.len(), 12, "{months:?}");
}

#[tokio::test]
async fn bench_run_tiny_times_every_stage() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args(["bench", "run", "--scale", "tiny", "--dir"])
        .arg(tmp.path())
        .output()
        .expect("run northstar");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench run failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| stage | rows | wall s | rows/s | peak RSS MiB |"),
        "{stdout}"
    );

    let report: Json =
        serde_json::from_slice(&std::fs::read(tmp.path().join("bench-tiny.json")).expect("json"))
            .expect("bench json");
    let stages = report["stages"].as_array().expect("stages");
    let names: Vec<&str> = stages.iter().filter_map(|s| s["name"].as_str()).collect();
    let manifest = Manifest::load(&tmp.path().join("inputs-tiny"))
        .expect("manifest")
        .expect("present");
    let mut expected = vec!["generate".to_string()];
    expected.extend(
        manifest
            .tables
            .iter()
            .map(|t| format!("import {}", t.table)),
    );
    expected.extend(["compute".to_string(), "report".to_string()]);
    for name in &expected {
        assert!(
            names.contains(&name.as_str()),
            "no stage {name} in {names:?}"
        );
    }
    for s in stages {
        assert_eq!(s["ok"], true, "{s}");
        assert!(s["rows"].as_u64().unwrap_or(0) > 0, "{s}");
        assert!(s["peak_rss_mib"].as_f64().unwrap_or(0.0) > 0.0, "{s}");
    }
    assert!(report["machine"]["cores"].as_u64().unwrap_or(0) >= 1);

    // The import was clean: every generated record is in the lake.
    let lake = Lake::open_local(&tmp.path().join("lake-tiny")).expect("lake");
    let rows = query(&lake, "SELECT count(*) AS n FROM deployments").await;
    assert_eq!(rows[0]["n"], manifest.rows("deployments"));
    let rows = query(&lake, "SELECT count(*) AS n FROM billing_lines").await;
    assert_eq!(rows[0]["n"], manifest.rows("costs"));
}

#[test]
fn small_writes_give_the_figures_of_one_import() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args(["bench", "run", "--scale", "tiny", "--small-writes", "12"])
        .args(["--sections", "import,compute,small-writes", "--dir"])
        .arg(tmp.path())
        .output()
        .expect("run northstar");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench run failed: {stderr}");
    let report: Json =
        serde_json::from_slice(&std::fs::read(tmp.path().join("bench-tiny.json")).expect("json"))
            .expect("bench json");
    let names: Vec<&str> = report["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for name in [
        "compute, derived tables kept",
        "small-writes: 12 imports of deployments and commits",
        "small-writes: compute",
        "small-writes: compact",
        "small-writes: compute, compacted",
    ] {
        assert!(names.contains(&name), "no stage {name} in {names:?}");
    }
    let read = |name: &str| -> Json {
        serde_json::from_slice(&std::fs::read(tmp.path().join(name)).expect(name)).expect("json")
    };
    let (whole, pieces) = (
        read("metrics-tiny.json"),
        read("metrics-tiny-small-writes.json"),
    );
    assert!(
        whole["dora"]["org"]["deployment_frequency"]["n"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.0
    );
    assert_same_figures("", &whole["dora"], &pieces["dora"]);
    assert_same_figures("", &whole["cost"], &pieces["cost"]);
}

/// `a` and `b` hold the same values, numbers within 1e-9 relative (sums over
/// differently written files may add in another order).
fn assert_same_figures(path: &str, a: &Json, b: &Json) {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                "{path}: {x} != {y}"
            );
        }
        (Json::Object(x), Json::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Json>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{path}");
            for (k, v) in x {
                assert_same_figures(&format!("{path}.{k}"), v, &y[k]);
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_figures(&format!("{path}[{i}]"), v, w);
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}
