//! The benchmark's results: `bench-<scale>.json` and the Markdown table printed
//! for `BENCHMARKS.md`.

use std::path::Path;

use serde::Serialize;

use super::csv_out::TableFiles;
use super::machine::Machine;
use super::scale::Scale;
use crate::error::{Error, Result};

/// One timed stage.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stage {
    /// `import commits`, `compute`, ...
    pub name: String,
    /// The arguments the binary ran with.
    pub args: Vec<String>,
    /// Wall seconds.
    pub seconds: f64,
    /// Rows the stage handled: an import's input records; for the stages reading
    /// the whole lake, every imported row.
    pub rows: u64,
    /// `rows / seconds`.
    pub rows_per_sec: f64,
    /// The child's peak resident set size.
    pub peak_rss_mib: f64,
    /// Exit code (`None`: ended by a signal, e.g. the OOM killer).
    pub exit_code: Option<i32>,
    /// Exit code 0.
    pub ok: bool,
}

/// Everything one `bench run` measured.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BenchReport {
    /// The scale.
    pub scale: Scale,
    /// Where it ran.
    pub machine: Machine,
    /// northstar's version.
    pub version: &'static str,
    /// The computed window.
    pub from: String,
    /// End of the window (exclusive).
    pub to: String,
    /// The inputs, per import target.
    pub inputs: Vec<TableFiles>,
    /// Stages in run order.
    pub stages: Vec<Stage>,
    /// Stages not run, with the reason (`compact: no such subcommand`).
    pub skipped: Vec<String>,
}

impl BenchReport {
    /// Writes the report as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::encode(path.display().to_string(), e))?;
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The results as a Markdown section ready to paste into `BENCHMARKS.md`.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "### Scale {} — {}\n\nInputs: {}.\n\n",
            self.scale.label(),
            self.machine.describe(),
            self.inputs_line()
        );
        out.push_str("| stage | rows | wall s | rows/s | peak RSS MiB |\n");
        out.push_str("|---|---:|---:|---:|---:|\n");
        for s in &self.stages {
            let name = if s.ok {
                s.name.clone()
            } else {
                format!("{} (failed: {})", s.name, exit_text(s.exit_code))
            };
            out.push_str(&format!(
                "| {name} | {} | {:.2} | {:.0} | {:.0} |\n",
                s.rows, s.seconds, s.rows_per_sec, s.peak_rss_mib
            ));
        }
        for skipped in &self.skipped {
            out.push_str(&format!("\nSkipped: {skipped}."));
        }
        out.push('\n');
        out
    }

    fn inputs_line(&self) -> String {
        self.inputs
            .iter()
            .map(|t| format!("{} {}", t.table, t.rows))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn exit_text(code: Option<i32>) -> String {
    code.map_or("killed by a signal".into(), |c| format!("exit {c}"))
}
