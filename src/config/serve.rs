//! `[report]` and `[serve]`: where dashboards live and who may read them.

use std::path::PathBuf;

use serde::Deserialize;

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
    /// `platform`, `executive` or `team:<name>`; kept as written, because what a
    /// role means is the report's `Access` (checked right after loading by
    /// `report::config_check`).
    pub role: String,
}
