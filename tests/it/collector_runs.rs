//! Running `northstar collect` as a user does — the binary, a config file, the
//! secrets in the child's environment — and reading back what it wrote. Shared by
//! every collector test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// The HTTP settings every collector test uses: a short timeout (the slow-response
/// fault is longer), fast backoff, two items per page so every list spans pages.
const FAST_HTTP: &str = "
[sources.http]
timeout_secs = 1.0
backoff_secs = 0.05
max_retries = 4
per_page = 2
concurrency = 2
";

/// Writes `dir/northstar.toml`: the lake in `dir/lake`, then `source` (one
/// `[[sources]]` table and its sub-tables), then [`FAST_HTTP`] unless the source
/// is a billing one (which reads no HTTP API, so its kind takes no `http` key).
pub fn write_config(dir: &Path, source: &str) -> PathBuf {
    let http = if source.contains("kind = \"billing\"") {
        ""
    } else {
        FAST_HTTP
    };
    let text = format!(
        "[lake]\npath = \"{}\"\n\n{source}\n{http}",
        dir.join("lake").display()
    );
    let path = dir.join("northstar.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// What a run printed.
pub struct Run {
    /// Exit status 0.
    pub ok: bool,
    /// Standard output (the summary lines).
    pub stdout: String,
    /// Standard error (logs, the error line).
    pub stderr: String,
}

/// `northstar --config <config> <args> collect` with `env` set for the child only.
pub async fn collect(config: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_northstar"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .arg("collect")
        .env_remove("NORTHSTAR_LAKE");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().await.expect("run northstar");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The lake a config from [`write_config`] in `dir` points at.
pub fn open_lake(dir: &Path) -> northstar::lake::Lake {
    northstar::lake::Lake::open_local(&dir.join("lake")).expect("lake")
}

/// Every file under the lake's table folders (not `_state`), with its size.
pub fn lake_files(lake: &Path) -> BTreeSet<(String, u64)> {
    let mut files = BTreeSet::new();
    for table in std::fs::read_dir(lake).expect("lake dir").flatten() {
        let name = table.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') || !table.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(table.path())
            .expect("table dir")
            .flatten()
        {
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            files.insert((format!("{name}/{}", f.file_name().to_string_lossy()), size));
        }
    }
    files
}

/// A column of query rows as strings (`null` for nulls).
pub fn strings(rows: &[serde_json::Map<String, Json>], column: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[column].as_str().unwrap_or("null").to_string())
        .collect()
}

/// A timestamp column as `YYYY-MM-DD HH:MM:SS` (or `null`).
pub fn times(rows: &[serde_json::Map<String, Json>], column: &str) -> Vec<String> {
    strings(rows, column)
        .iter()
        .map(|t| t.replace('T', " ").trim_end_matches('Z').to_string())
        .collect()
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Asserts a run stopped on a rejected secret the way a user needs it: exactly one
/// `error:` line, naming the environment variable and the 401; one request sent
/// (a 401 is not retried); no `secrets` in anything printed.
#[track_caller]
pub fn assert_rejected_once(run: &Run, env_var: &str, requests: usize, secrets: &[&str]) {
    assert!(!run.ok, "the run should fail");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains(env_var) && errors[0].contains("401"),
        "{}",
        errors[0]
    );
    assert_eq!(requests, 1, "a 401 is not retried");
    for secret in secrets {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "a secret was printed"
        );
    }
}
