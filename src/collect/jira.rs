//! Placeholder while the jira collector is being written.

use super::SourceRun;
use super::http::HttpClient;
use crate::error::{Error, Result};

/// Collects the source.
pub async fn collect(run: &mut SourceRun<'_>) -> Result<HttpClient> {
    Err(Error::Usage(format!("source {}: the jira collector is not built yet", run.source.name)))
}
