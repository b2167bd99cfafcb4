//! `kind = "billing"` sources: export files from a local glob and from an
//! S3-compatible bucket (a local `moto_server`, which `.ci/run` installs), read
//! again only when a file changed, restated periods replacing stored ones.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::collector_runs::{Run, collect, lake_files, write_config};
use crate::cost_allocation::focus_file;

fn september(dir: &Path, restated: bool) {
    let last = if restated { 45.0 } else { 30.0 };
    focus_file(
        dir,
        "2026-09.csv",
        &[
            (10.0, "USD", "111", "2026-09-01", "EC2", r#"{"team":"a"}"#),
            (last, "USD", "111", "2026-09-02", "EC2", r#"{"team":"b"}"#),
        ],
    );
}

fn october(dir: &Path) {
    focus_file(
        dir,
        "2026-10.csv",
        &[(7.0, "USD", "111", "2026-10-01", "EC2", r#"{"team":"a"}"#)],
    );
}

#[track_caller]
fn assert_ok(run: &Run) {
    assert!(run.ok, "collect failed:\n{}\n{}", run.stdout, run.stderr);
}

async fn current_total(dir: &Path) -> f64 {
    let lake = crate::collector_runs::open_lake(dir);
    let rows = crate::support::query(
        &lake,
        "SELECT SUM(\"EffectiveCost\") AS c FROM billing_lines",
    )
    .await;
    rows[0]["c"].as_f64().unwrap_or(f64::NAN)
}

#[tokio::test]
async fn a_folder_of_exports_is_read_when_it_changes_and_restatements_replace() {
    let dir = tempfile::tempdir().expect("dir");
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).expect("exports");
    september(&exports, false);
    october(&exports);
    let source = format!(
        "[[sources]]\nkind = \"billing\"\nname = \"bills\"\npath = \"{}/*.csv\"\n",
        exports.display()
    );
    let config = write_config(dir.path(), &source);
    let first = collect(&config, &[], &[]).await;
    assert_ok(&first);
    assert!(
        first.stdout.contains("bills: 3 new, 0 updated"),
        "{}",
        first.stdout
    );
    assert_eq!(current_total(dir.path()).await, 47.0);

    let files = lake_files(&dir.path().join("lake"));
    let second = collect(&config, &[], &[]).await;
    assert_ok(&second);
    assert!(
        second.stdout.contains("bills: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    assert_eq!(lake_files(&dir.path().join("lake")), files);

    // September restated: 30 → 45. October's file is untouched and stays as it is.
    september(&exports, true);
    let third = collect(&config, &[], &[]).await;
    assert_ok(&third);
    assert_eq!(current_total(dir.path()).await, 62.0);
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// `moto_server` on loopback, killed on drop.
struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> Option<(Moto, String)> {
    let port = free_port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("NORTHSTAR_REQUIRE_S3").is_none() => {
            eprintln!(
                "SKIPPED: moto_server not runnable ({e}); `.ci/run` installs it (pip install 'moto[server]')"
            );
            return None;
        }
        Err(e) => panic!("moto_server is required (NORTHSTAR_REQUIRE_S3): {e}"),
    };
    Some((Moto(child), format!("http://127.0.0.1:{port}")))
}

async fn put(client: &reqwest::Client, url: String, body: Vec<u8>) {
    let status = client
        .put(url.clone())
        .body(body)
        .send()
        .await
        .expect(&url)
        .status();
    assert!(status.is_success(), "PUT {url}: {status}");
}

#[tokio::test]
async fn an_s3_bucket_of_exports() {
    let Some((_moto, endpoint)) = start_moto() else {
        return;
    };
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(&endpoint).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "moto_server did not start at {endpoint}");
    put(&client, format!("{endpoint}/bills"), Vec::new()).await;
    let dir = tempfile::tempdir().expect("dir");
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).expect("staging");
    september(&staging, false);
    october(&staging);
    for name in ["2026-09.csv", "2026-10.csv"] {
        let body = std::fs::read(staging.join(name)).expect("read");
        put(&client, format!("{endpoint}/bills/focus/{name}"), body).await;
    }
    put(
        &client,
        format!("{endpoint}/bills/other/ignored.csv"),
        b"x".to_vec(),
    )
    .await;
    let source = format!(
        "[[sources]]\nkind = \"billing\"\nname = \"s3bills\"\npath = \"s3://bills/focus/*.csv\"\napi_url = \"{endpoint}\"\n"
    );
    let config = write_config(dir.path(), &source);
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let first = collect(&config, &env, &[]).await;
    assert_ok(&first);
    assert!(first.stdout.contains("s3bills: 3 new"), "{}", first.stdout);
    assert_eq!(current_total(dir.path()).await, 47.0);
    let second = collect(&config, &env, &[]).await;
    assert_ok(&second);
    assert!(
        second.stdout.contains("s3bills: 0 new, 0 updated"),
        "{}",
        second.stdout
    );
    // Downloads are removed after the import.
    assert!(!dir.path().join("lake/_state/s3bills/download").exists());
}
