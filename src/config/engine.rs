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
    /// Keep derived tables (newest row versions, shipped commits, incident links,
    /// allocated cost lines, ...) in the lake's `_derived` folder, named by what
    /// they were derived from, instead of in memory: memory stays bounded at any
    /// size, and the next engine over unchanged inputs derives nothing. `false`
    /// keeps them in memory only (for a lake the process may not write).
    #[serde(default = "default_derived_in_lake")]
    pub derived_in_lake: bool,
    /// How much of the derived tables (in MiB, as Arrow batches) an engine also
    /// keeps in memory, first read first kept, so the queries that read them do not
    /// decode them again; the others are scanned from `_derived`.
    #[serde(default = "default_derived_memory_mb")]
    pub derived_memory_mb: u64,
}

/// 1 GiB: every derived table of a 100 000-deployment, 1-million-commit year but
/// the allocated cost lines.
fn default_derived_memory_mb() -> u64 {
    1024
}

fn default_derived_in_lake() -> bool {
    true
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            memory_limit_mb: default_memory_limit_mb(),
            spill_dir: None,
            derived_in_lake: default_derived_in_lake(),
            derived_memory_mb: default_derived_memory_mb(),
        }
    }
}

/// 2 GiB: with the derived tables of a 10-million-commit lake beside it, a compute
/// stays under 4 GiB.
fn default_memory_limit_mb() -> u64 {
    2048
}
