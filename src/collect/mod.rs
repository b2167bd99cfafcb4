//! Collectors: one module per source kind, each mapping the source's records to
//! canonical rows ([`delivery`]) and nothing more. The shared HTTP client
//! ([`http`]), per-source state ([`state`]: watermarks, re-polls), the ETag cache
//! and progress reporting live beside them.
//!
//! Every collector follows the same order per stream: read, write the rows
//! ([`crate::lake::Lake::write_changed`] skips unchanged ones), then save the state.
//! A run killed anywhere therefore re-reads, and never skips, what it had not
//! committed.

mod billing_files;
pub mod delivery;
pub mod etag_cache;
pub mod git;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod jira;
pub mod pagerduty;
pub mod progress;
pub mod rest;
pub mod rules;
pub mod service_desk;
pub mod servicenow;
pub mod state;
pub mod ticket_rules;
pub mod written;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::lake::Lake;
use http::HttpClient;
use progress::{Progress, SourceProgress};
use rules::Rules;
use state::SourceState;
use written::Written;

/// What one source's run did, for the summary line.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The source's name.
    pub source: String,
    /// Rows written per table.
    pub written: Written,
    /// Records read from the source.
    pub records: u64,
    /// HTTP requests sent (attempts).
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Answers served as 304 Not Modified.
    pub not_modified: u64,
    /// Rate-limit waits.
    pub rate_limited: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = &self.written;
        write!(
            f,
            "{}: {} new, {} updated ({}); {} records read; {} requests, {} retries, {} not modified, {} rate-limit waits; {:.1}s",
            self.source,
            w.new_rows(),
            w.updated_rows(),
            if w.per_table().is_empty() {
                "nothing written".to_string()
            } else {
                w.per_table()
            },
            self.records,
            self.requests,
            self.retries,
            self.not_modified,
            self.rate_limited,
            self.elapsed.as_secs_f64()
        )
    }
}

/// A batch of canonical records a collector hands over in one commit.
pub trait Records {
    /// Writes the records (skipping unchanged ones) and says what changed.
    fn write(&self, lake: &Lake) -> impl std::future::Future<Output = Result<Written>> + Send;
}

impl Records for delivery::Delivery {
    async fn write(&self, lake: &Lake) -> Result<Written> {
        delivery::Delivery::write(self, lake).await
    }
}

impl Records for service_desk::ServiceDesk {
    async fn write(&self, lake: &Lake) -> Result<Written> {
        service_desk::ServiceDesk::write(self, lake).await
    }
}

/// One source's run: what a collector needs and what it accumulates.
pub struct SourceRun<'a> {
    /// The source's config.
    pub source: &'a SourceConfig,
    /// Where rows go.
    pub lake: &'a Lake,
    /// The source's compiled rules.
    pub rules: Rules,
    /// Watermarks and re-polls, saved after each committed stream.
    pub state: SourceState,
    /// Progress display.
    pub progress: SourceProgress,
    /// Rows written so far.
    pub written: Written,
}

impl SourceRun<'_> {
    /// Writes a stream's rows, then saves the state that says they are in.
    pub async fn commit(&mut self, records: impl Records) -> Result<()> {
        let written = records.write(self.lake).await?;
        self.written.add(&written);
        self.state.save(self.lake, &self.source.name)
    }

    /// The configured first-run start (`since = "YYYY-MM-DD"`).
    pub fn first_run_start(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .source
            .since
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()))
    }
}

/// Options of one `collect` run.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Only these sources (by name); all when empty.
    pub only: Vec<String>,
    /// No progress output (tests, `--quiet`).
    pub quiet: bool,
}

/// Runs the selected sources one after another and returns a summary per source.
/// The first failing source stops the run: its rows so far are committed, its
/// state says where to resume.
pub async fn run(config: &Config, lake: &Lake, options: &CollectOptions) -> Result<Vec<Summary>> {
    for name in &options.only {
        if !config.sources.iter().any(|s| &s.name == name) {
            let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "--source {name}: no such source (configured: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let progress = Progress::new(options.quiet);
    let mut summaries = Vec::new();
    for source in &config.sources {
        if !options.only.is_empty() && !options.only.contains(&source.name) {
            continue;
        }
        let summary = run_source(source, lake, &progress, options.quiet).await?;
        tracing::info!("{summary}");
        summaries.push(summary);
    }
    Ok(summaries)
}

async fn run_source(
    source: &SourceConfig,
    lake: &Lake,
    progress: &Progress,
    quiet: bool,
) -> Result<Summary> {
    let started = Instant::now();
    let mut run = SourceRun {
        source,
        lake,
        rules: Rules::new(source),
        state: SourceState::load(lake, &source.name)?,
        progress: progress.source(&source.name, quiet),
        written: Written::default(),
    };
    let http = match &source.kind {
        SourceKind::Github(gh) => Some(github::collect(&mut run, gh).await?),
        SourceKind::Gitlab(gl) => Some(gitlab::collect(&mut run, gl).await?),
        SourceKind::Jira(j) => Some(jira::collect(&mut run, j).await?),
        SourceKind::Pagerduty(_) => Some(pagerduty::collect(&mut run).await?),
        SourceKind::Servicenow(sn) => Some(servicenow::collect(&mut run, sn).await?),
        SourceKind::Git(_) => {
            // Reading git history blocks; keep it off the async workers.
            let owned = source.clone();
            let delivery = tokio::task::spawn_blocking(move || git::collect(&owned))
                .await
                .map_err(|e| {
                    Error::collector(&source.name, format!("git reader stopped: {e}"))
                })??;
            run.progress.read(
                "git history",
                delivery.commits.len() + delivery.deployments.len(),
            );
            run.commit(delivery).await?;
            None
        }
        SourceKind::Billing(b) => {
            billing_files::collect(&mut run, b).await?;
            None
        }
    };
    let (requests, retries, not_modified, rate_limited) = http
        .as_ref()
        .map(|h: &HttpClient| h.stats().snapshot())
        .unwrap_or_default();
    let summary = Summary {
        source: source.name.clone(),
        written: run.written.clone(),
        records: run.progress.records(),
        requests,
        retries,
        not_modified,
        rate_limited,
        elapsed: started.elapsed(),
    };
    run.progress.finish(&summary.to_string());
    Ok(summary)
}
