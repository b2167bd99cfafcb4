//! Shared helpers: temporary lakes seeded from fixture files, metric computation,
//! and float comparison.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use northstar::config::{Config, MetricSettings};
use northstar::engine::Engine;
use northstar::import::{ImportOptions, import_files};
use northstar::lake::Lake;
use northstar::report::metrics::compute;
use northstar::window::Window;
use serde_json::Value as Json;
use tempfile::TempDir;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// A temporary lake; the folder lives as long as the returned guard.
pub fn temp_lake() -> (TempDir, Lake) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = Lake::open_local(&dir.path().join("lake")).expect("open lake");
    (dir, lake)
}

/// Imports `(table, file)` pairs, failing the test on any error.
pub async fn seed(lake: &Lake, files: &[(&str, PathBuf)]) {
    for (table, file) in files {
        import_files(
            lake,
            table,
            std::slice::from_ref(file),
            ImportOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("import {table} {}: {e}", file.display()));
    }
}

/// A lake holding the golden fixtures.
pub async fn golden_lake() -> (TempDir, Lake) {
    let (dir, lake) = temp_lake();
    let files: Vec<(&str, PathBuf)> = ["services", "commits", "deployments", "incidents"]
        .into_iter()
        .map(|t| (t, fixture(&format!("golden/{t}.csv"))))
        .collect();
    seed(&lake, &files).await;
    (dir, lake)
}

/// A lake holding the North Star fixtures (`fixtures/north_star/`), which the OKR
/// and scorecard tests read too.
pub async fn north_star_lake() -> (TempDir, Lake) {
    let (dir, lake) = temp_lake();
    let files: Vec<(&str, PathBuf)> = [
        "services",
        "deployments",
        "commits",
        "pull_requests",
        "tickets",
        "ticket_transitions",
        "platform_actions",
    ]
    .into_iter()
    .map(|t| (t, fixture(&format!("north_star/{t}.csv"))))
    .collect();
    seed(&lake, &files).await;
    (dir, lake)
}

/// UTC midnight of a date.
pub fn day(date: &str) -> DateTime<Utc> {
    format!("{date}T00:00:00Z").parse().expect("date")
}

/// `metrics.json` for a window, with default settings.
pub async fn metrics(lake: &Lake, from: &str, to: &str) -> Json {
    metrics_with(lake, from, to, &MetricSettings::default()).await
}

/// `metrics.json` for a window and settings.
pub async fn metrics_with(lake: &Lake, from: &str, to: &str, settings: &MetricSettings) -> Json {
    let engine = Engine::open(lake, settings).await.expect("engine");
    let window = Window {
        from: day(from),
        to: day(to),
    };
    let config = Config {
        metrics: settings.clone(),
        ..Config::default()
    };
    compute(&engine, window, &config, day("2024-06-01"))
        .await
        .expect("compute")
}

/// Rows of a SQL query over the lake as JSON objects.
pub async fn query(lake: &Lake, sql: &str) -> Vec<serde_json::Map<String, Json>> {
    let engine = Engine::open(lake, &MetricSettings::default())
        .await
        .expect("engine");
    let batches = engine
        .execute("test", sql, &Default::default())
        .await
        .expect("query");
    northstar::report::json::rows(&batches).expect("rows")
}

/// Asserts a JSON number equals `expected` within 1e-9.
#[track_caller]
pub fn assert_close(actual: &Json, expected: f64) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {actual}"));
    assert!((a - expected).abs() < 1e-9, "expected {expected}, got {a}");
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// The `metrics.json` JSON Schema's validator.
pub fn metrics_schema() -> jsonschema::Validator {
    let text = std::fs::read(repo_root().join("schemas/metrics.schema.json")).expect("schema");
    let schema: Json = serde_json::from_slice(&text).expect("schema json");
    jsonschema::validator_for(&schema).expect("valid schema")
}

/// Asserts `doc` is valid against the `metrics.json` schema, listing every error.
#[track_caller]
pub fn assert_valid_metrics(validator: &jsonschema::Validator, doc: &Json) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A query result row as JSON.
pub type Row = serde_json::Map<String, Json>;

/// Runs query `id` (a file under `queries/` or `custom/<name>`) and returns its rows.
pub async fn query_rows(engine: &Engine, id: &str, params: &northstar::engine::Params) -> Vec<Row> {
    let batches = engine
        .run_query(id, params)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    northstar::report::json::rows(&batches).expect("rows")
}

/// The one row whose text columns have these values.
#[track_caller]
pub fn find<'a>(rows: &'a [Row], keys: &[(&str, &str)]) -> &'a Row {
    let matching: Vec<&Row> = rows
        .iter()
        .filter(|r| keys.iter().all(|(k, v)| r[*k].as_str() == Some(*v)))
        .collect();
    assert_eq!(matching.len(), 1, "one row for {keys:?} in {rows:#?}");
    matching[0]
}
