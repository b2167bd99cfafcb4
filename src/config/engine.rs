//! `[engine]`: how much memory the query engine may use before it spills to disk.

use std::path::PathBuf;

use serde::Deserialize;

/// `[engine]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// The memory DataFusion's operators (sorts, aggregations, joins) may hold, in
    /// MiB; past it, sorts and aggregations spill to `spill_dir` and other operators
    /// fail with a message naming the limit. The derived tables kept for a compute
    /// are not counted (they are the input every query shares).
    #[serde(default = "default_memory_limit_mb")]
    pub memory_limit_mb: u64,
    /// Where spill files go (default: the system's temporary folder).
    #[serde(default)]
    pub spill_dir: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            memory_limit_mb: default_memory_limit_mb(),
            spill_dir: None,
        }
    }
}

/// 2 GiB: with the derived tables of a 10-million-commit lake beside it, a compute
/// stays under 4 GiB.
fn default_memory_limit_mb() -> u64 {
    2048
}
