//! `metrics.json` of the demo and of every golden fixture, compared byte for byte
//! with a copy stored under `tests/it/stored/`: a refactoring that changes a figure,
//! a key or their order fails here before anyone reads a dashboard.
//!
//! The copies were written by the code they guard. When a change to the output is
//! intended, write them again with `NORTHSTAR_BLESS=1 cargo test --test it stored_`
//! and review the diff. The demo's copy is gzipped (it is 8 MB of JSON).

use std::io::{Read, Write};
use std::path::PathBuf;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use northstar::config::Config;
use northstar::demo;
use northstar::engine::Engine;
use northstar::report::metrics::compute;
use northstar::window::Window;
use serde_json::Value as Json;

use crate::support::{day, golden_lake, metrics, north_star_lake, repo_root, temp_lake};

fn stored(name: &str) -> PathBuf {
    repo_root().join("tests/it/stored").join(name)
}

/// The document as `compute` writes it (`write_atomically`: pretty JSON).
fn text(doc: &Json) -> Vec<u8> {
    serde_json::to_vec_pretty(doc).expect("json")
}

/// Compares `doc` with the stored copy `name` (gzipped when it ends in `.gz`), or
/// writes the copy when `NORTHSTAR_BLESS` is set. The golden fixtures must match
/// byte for byte; with `float_tolerant` (the demo) a number may differ in its last
/// digits (see [`same_number`]), nothing else. On a difference the new document goes
/// next to the copy as `<name>.new` and the first differing line is shown.
fn assert_stored(name: &str, doc: &Json, float_tolerant: bool) {
    let path = stored(name);
    let gz = name.ends_with(".gz");
    let got = text(doc);
    if std::env::var_os("NORTHSTAR_BLESS").is_some() {
        let bytes = if gz {
            let mut enc = GzEncoder::new(Vec::new(), Compression::best());
            enc.write_all(&got).expect("gzip");
            enc.finish().expect("gzip")
        } else {
            got
        };
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write stored copy");
        return;
    }
    let raw = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with NORTHSTAR_BLESS=1)", path.display()));
    let want = if gz {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        out
    } else {
        raw
    };
    if got == want {
        return;
    }
    let got_text = String::from_utf8_lossy(&got);
    let want_text = String::from_utf8_lossy(&want);
    let first = got_text
        .lines()
        .zip(want_text.lines())
        .enumerate()
        .find(|(_, (g, w))| g != w && !(float_tolerant && same_number(g, w)));
    let same_lines = got_text.lines().count() == want_text.lines().count();
    if first.is_none() && same_lines {
        return;
    }
    let new = path.with_extension("new");
    std::fs::write(&new, &got).expect("write new copy");
    panic!(
        "{name} differs from its stored copy (new one in {}); first difference: {first:?}",
        new.display()
    );
}

/// Whether two lines are `"key": number` with the same key and numbers equal to
/// within 1e-9 relative: the demo's cost sums are added in an order that depends on
/// DataFusion's partitions, so their last digit differs from run to run.
fn same_number(got: &str, want: &str) -> bool {
    let split = |line: &str| {
        let (key, value) = line.rsplit_once(": ")?;
        let number: f64 = value.trim_end_matches(',').parse().ok()?;
        Some((key.to_string(), number, value.ends_with(',')))
    };
    match (split(got), split(want)) {
        (Some((gk, g, gc)), Some((wk, w, wc))) => {
            gk == wk && gc == wc && (g - w).abs() <= 1e-9 * g.abs().max(w.abs())
        }
        _ => false,
    }
}

#[tokio::test]
async fn stored_golden_metrics_are_unchanged() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, "2024-03-04", "2024-03-18").await;
    assert_stored("golden.metrics.json", &doc, false);
}

#[tokio::test]
async fn stored_north_star_metrics_are_unchanged() {
    let (_dir, lake) = north_star_lake().await;
    let doc = metrics(&lake, "2024-03-04", "2024-03-18").await;
    assert_stored("north_star.metrics.json", &doc, false);
}

/// The demo as `northstar demo` computes it (its goals, the repository's custom
/// metrics), at a fixed `generated_at`.
#[tokio::test]
async fn stored_demo_metrics_are_unchanged() {
    let (_dir, lake) = temp_lake();
    demo::write(&lake, &demo::generate().expect("demo"))
        .await
        .expect("demo");
    let config = demo::goals::with_demo_goals(&Config {
        base_dir: Some(repo_root()),
        ..Config::default()
    })
    .expect("goals");
    let mut engine = Engine::for_config(&lake, &config).await.expect("engine");
    engine.load_custom(&config.custom_dir()).expect("custom");
    let window = Window {
        from: demo::DEMO_START.parse().expect("start"),
        to: demo::DEMO_END.parse().expect("end"),
    };
    let doc = compute(&engine, window, &config, day("2026-11-01"))
        .await
        .expect("compute");
    assert_stored("demo.metrics.json.gz", &doc, true);
}
