//! `[report]` and `[serve]`: where dashboards live and who may read them.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::Result;
use crate::report::access::Access;

/// `[report]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Folder of dashboard specs (`*.toml`) added to the shipped ones (default
    /// `./dashboards` when it exists, relative to the config file).
    pub dashboards_dir: Option<PathBuf>,
}

/// `[serve]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `[[serve.tokens]]`: bearer tokens, each read from an environment variable.
    /// With none, data is served only on a loopback address, to anyone who can
    /// reach it (a warning says so at startup).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// One `[[serve.tokens]]` entry. The token itself never appears in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Name of the environment variable holding the token.
    pub env: String,
    /// `platform`, `executive` or `team:<name>`.
    pub role: String,
}

impl ServeConfig {
    /// Checks every role parses.
    pub fn validate(&self) -> Result<()> {
        for token in &self.tokens {
            Access::parse(&token.role).map_err(|e| crate::error::Error::Config {
                key: format!("serve.tokens (env {})", token.env),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }
}
