//! A custom metric dropped into a folder as SQL, with no Rust change: it is listed by
//! `northstar query --list`, appears in `metrics.json` under `custom`, and drives a
//! key result. Data: the North Star fixture (`north_star.rs`), whose catalog has 8
//! services (api web batch new1 new2 new3 new4 late).

use std::process::Command;

use northstar::config::Config;
use northstar::engine::Engine;
use northstar::report::metrics::compute;
use northstar::window::Window;

use crate::support::{assert_close, day, fixture, seed, temp_lake, write_file};

const SQL: &str = "-- name: catalog_size
-- unit: services
-- description: Services in the catalog.
-- parameters: none
SELECT 'org' AS scope_key, count(*) AS n, count(*) AS services FROM services
";

/// Objective 03-04 … 03-17 evaluated at 03-11 (expected 0.5): current 8 (n 8),
/// progress (8 − 4) ÷ (12 − 4) = 0.5 ≥ 0.95 × 0.5 → on_track.
const CONFIG: &str = r#"
[queries]
custom_dir = "my-metrics"

[[okrs]]
id = "catalog"
title = "Everything catalogued"
owner = "Platform PM"
start = "2024-03-04"
end = "2024-03-17"

[[okrs.key_results]]
id = "size"
title = "12 services in the catalog"
metric = "custom/catalog_size"
field = "services"
direction = "increase"
baseline = 4
target = 12
"#;

#[tokio::test]
async fn a_custom_sql_file_is_listed_reported_and_drives_a_key_result() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("my-metrics")).expect("dir");
    write_file(&dir.path().join("my-metrics"), "catalog_size.sql", SQL);
    let config_path = write_file(dir.path(), "northstar.toml", CONFIG);

    let out = Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args([
            "--config",
            &config_path.to_string_lossy(),
            "query",
            "--list",
        ])
        .output()
        .expect("run northstar");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listed.contains("north_star/platform_adoption"), "{listed}");
    assert!(
        listed.contains("custom/catalog_size\tservices\tServices in the catalog.\tnone"),
        "{listed}"
    );

    let (_lake_dir, lake) = temp_lake();
    let tables = [
        "services",
        "deployments",
        "commits",
        "tickets",
        "platform_actions",
    ];
    let files: Vec<(&str, _)> = tables
        .into_iter()
        .map(|t| (t, fixture(&format!("north_star/{t}.csv"))))
        .collect();
    seed(&lake, &files).await;
    let config = Config::load(&config_path).expect("config");
    let mut engine = Engine::open(&lake, &config.metrics).await.expect("engine");
    engine.load_custom(&config.custom_dir()).expect("custom");
    let window = Window {
        from: day("2024-03-01"),
        to: day("2024-03-25"),
    };
    let doc = compute(&engine, window, &config, day("2024-03-11"))
        .await
        .expect("compute");
    let custom = &doc["custom"]["catalog_size"];
    assert_eq!(custom["unit"], "services");
    assert_eq!(custom["org"][0]["services"], 8);
    let kr = &doc["okrs"]["objectives"][0]["key_results"][0];
    assert_eq!(kr["current"], 8.0);
    assert_eq!(kr["n"], 8);
    assert_close(&kr["progress"], 0.5);
    assert_eq!(kr["status"], "on_track");
}
