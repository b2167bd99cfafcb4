//! Derived tables kept in the lake (`_derived/<table>/<fingerprint>.parquet`): found
//! again by the next engine over the same inputs, derived again only when what they
//! read changed, and the same figures whether kept in memory, read from their files
//! or never written.

use std::collections::BTreeSet;
use std::path::Path;

use northstar::config::{Config, CostConfig, EngineConfig, MetricSettings};
use northstar::engine::Engine;
use northstar::engine::materialise::FOLDER;
use northstar::lake::Lake;
use northstar::report::metrics::compute;
use northstar::window::Window;
use serde_json::Value as Json;

use crate::support::{day, golden_lake, seed, write_file};

async fn metrics_with(lake: &Lake, limits: &EngineConfig) -> Json {
    let settings = MetricSettings::default();
    let engine = Engine::open_with(lake, &settings, &CostConfig::default(), limits)
        .await
        .expect("engine");
    let window = Window {
        from: day("2024-03-04"),
        to: day("2024-03-18"),
    };
    compute(&engine, window, &Config::default(), day("2024-06-01"))
        .await
        .expect("compute")
}

/// `table/file` of every derived file in the lake.
fn derived_files(lake: &Lake) -> BTreeSet<String> {
    let root = lake.local_root().join(FOLDER);
    let mut out = BTreeSet::new();
    for table in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(table.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.insert(format!(
                "{}/{}",
                table.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    out
}

fn of_table<'a>(files: &'a BTreeSet<String>, table: &str) -> BTreeSet<&'a String> {
    files
        .iter()
        .filter(|f| Path::new(f.as_str()).starts_with(table))
        .collect()
}

/// Derived tables of delivery metrics.
const DELIVERY: [&str; 4] = [
    "prod_deployments",
    "deployment_commits",
    "incident_links",
    "lead_time_samples",
];

#[tokio::test]
async fn a_second_engine_derives_nothing_and_a_write_rederives_only_its_readers() {
    let (dir, lake) = golden_lake().await;
    let limits = EngineConfig::default();
    let first = metrics_with(&lake, &limits).await;
    let written = derived_files(&lake);
    for table in DELIVERY {
        assert_eq!(
            of_table(&written, table).len(),
            1,
            "{table} kept once: {written:?}"
        );
    }

    let second = metrics_with(&lake, &limits).await;
    assert_eq!(first, second, "same figures from the kept tables");
    assert_eq!(derived_files(&lake), written, "nothing derived again");

    // A new incident: enrichment reads incidents, so the shipped commits and links
    // are derived again.
    let incident = write_file(
        dir.path(),
        "incident.csv",
        "incident_id,source,service,severity,title,started_at,acknowledged_at,resolved_at,\
         caused_by_deployment_id,caused_by_commit_sha\n\
         I9,test,web,sev2,New outage,2024-03-16T10:00:00Z,,2024-03-16T12:00:00Z,W2,\n",
    );
    seed(&lake, &[("incidents", incident)]).await;
    let third = metrics_with(&lake, &limits).await;
    assert_ne!(third, first, "the new incident counts");
    let after = derived_files(&lake);
    for table in ["incident_links", "deployment_commits"] {
        assert_eq!(of_table(&after, table).len(), 2, "{table} derived again");
    }
    // Cost allocation reads the catalog's owners, not the services incidents and
    // deployments name: no cost line is allocated again.
    assert_eq!(of_table(&written, "cost_allocation").len(), 1);
    assert_eq!(
        of_table(&after, "cost_allocation"),
        of_table(&written, "cost_allocation")
    );
    // Tickets: read by no derived table of delivery.
    seed(
        &lake,
        &[("tickets", crate::support::fixture("north_star/tickets.csv"))],
    )
    .await;
    metrics_with(&lake, &limits).await;
    let later = derived_files(&lake);
    for table in DELIVERY {
        assert_eq!(
            of_table(&later, table),
            of_table(&after, table),
            "{table} untouched by tickets"
        );
    }
}

#[tokio::test]
async fn kept_in_memory_read_from_files_or_never_written_the_figures_are_the_same() {
    let (_dir, lake) = golden_lake().await;
    let in_memory = metrics_with(
        &lake,
        &EngineConfig {
            derived_in_lake: false,
            ..EngineConfig::default()
        },
    )
    .await;
    assert!(
        derived_files(&lake).is_empty(),
        "memory only: nothing written"
    );
    let from_files = EngineConfig {
        derived_memory_mb: 0,
        ..EngineConfig::default()
    };
    // Derived and written, then served from the files.
    assert_eq!(metrics_with(&lake, &from_files).await, in_memory);
    assert!(!derived_files(&lake).is_empty());
    // Found in the lake by a fresh engine, still served from the files.
    assert_eq!(metrics_with(&lake, &from_files).await, in_memory);
    // Found and read into memory.
    assert_eq!(
        metrics_with(&lake, &EngineConfig::default()).await,
        in_memory
    );
}

#[tokio::test]
async fn a_damaged_derived_file_is_derived_again() {
    let (_dir, lake) = golden_lake().await;
    let limits = EngineConfig::default();
    let first = metrics_with(&lake, &limits).await;
    let root = lake.local_root().join(FOLDER).join("lead_time_samples");
    let file = std::fs::read_dir(&root)
        .expect("derived folder")
        .flatten()
        .map(|e| e.path())
        .next()
        .expect("a derived file");
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() / 2]).expect("truncate");
    assert_eq!(metrics_with(&lake, &limits).await, first, "same figures");
    assert_eq!(
        std::fs::read(&file).expect("read"),
        bytes,
        "written again whole"
    );
}
