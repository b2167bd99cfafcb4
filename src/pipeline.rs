//! The library call behind every face that computes metrics (`compute`, `demo`,
//! `report`, `serve`): open the engine over the lake, compute `metrics.json`, then
//! record its history. The faces differ in what they do with the result (write a
//! file, render pages, serve it), never in how it is computed.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::history::{self, Recorded};
use crate::lake::Lake;
use crate::report::metrics::{self, Section};
use crate::window::Window;

/// A computed document and the engine that computed it (dashboards and the query
/// API run more queries on it).
pub struct Computed {
    /// The engine over the lake, custom metrics loaded.
    pub engine: Engine,
    /// The `metrics.json` document.
    pub doc: Json,
    /// What [`history::record`] wrote.
    pub recorded: Recorded,
}

/// Computes `sections` of `metrics.json` over `window` as of `generated_at`, and
/// records the history ([`history::record`]). The config's metric and check names
/// are checked against the query registry first ([`crate::report::config_check::check`]).
pub async fn compute(
    lake: &Lake,
    config: &Config,
    window: Window,
    sections: &[Section],
    generated_at: DateTime<Utc>,
) -> Result<Computed> {
    crate::report::config_check::check(config)?;
    let mut engine = Engine::for_config(lake, config).await?;
    engine.load_custom(&config.custom_dir())?;
    let doc = metrics::compute_sections(&engine, window, config, generated_at, sections).await?;
    let recorded = history::record(lake, &doc).await?;
    Ok(Computed {
        engine,
        doc,
        recorded,
    })
}
