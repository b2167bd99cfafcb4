//! `northstar check`: the config parses, the lake opens, and every query plans and
//! runs (over a one-day window, so it is quick on any lake).

use chrono::{Duration, Utc};
use clap::Args;
use datafusion::scalar::ScalarValue;

use crate::config::Config;
use crate::engine::{Engine, queries};
use crate::error::Result;
use crate::lake::Lake;
use crate::lake::tables::all_tables;
use crate::report::metrics::{Window, params_for};

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {}

pub async fn run(_args: CheckArgs, lake: &Lake, config: &Config) -> Result<()> {
    let mut engine = Engine::for_config(lake, config).await?;
    engine.load_custom(&config.custom_dir())?;
    for spec in all_tables() {
        let files = lake.files(spec.name).await?;
        println!("table {:<20} {} file(s)", spec.name, files.len());
    }
    let to = Utc::now();
    let window = Window {
        from: to - Duration::days(1),
        to,
    };
    for (id, _) in queries::METRICS {
        engine
            .run_query(id, &params_for(window, config, "org", "window"))
            .await?;
        println!("query {id}: ok");
    }
    for metric in engine.custom_metrics() {
        let id = metric.id();
        engine
            .run_query(&id, &params_for(window, config, "org", "window"))
            .await?;
        println!("query {id}: ok");
    }
    for (check, sql) in queries::SCORECARD_CHECKS {
        let mut p = params_for(window, config, "service", "window");
        p.insert("threshold".into(), ScalarValue::Float64(Some(0.0)));
        engine.execute(check, sql, &p).await?;
        println!("scorecard check {check}: ok");
    }
    println!(
        "config: {} source(s); all checks passed",
        config.sources.len()
    );
    Ok(())
}
