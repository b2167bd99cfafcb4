//! The bench scales: how big an organisation each one generates.

use serde::{Deserialize, Serialize};

use crate::demo::billing::Bill;

/// A bench size. Over one year: S ≈ the demo's 40 services with 10 k production
/// deployments and 100 k commits; M and L ten and a hundred times that (L's bill
/// is 25 times M's). `tiny` is for tests: eight services, generated, imported and
/// computed in seconds even in a debug build.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// 8 services; for tests.
    Tiny,
    /// 40 services, ~10 k production deployments, ~100 k commits, ~200 k cost lines.
    S,
    /// 400 services, ~100 k production deployments, ~1 M commits, ~2 M cost lines.
    M,
    /// 4 000 services, ~1 M production deployments, ~10 M commits, ~50 M cost lines.
    L,
}

/// What a scale turns into: multipliers of the demo's generators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    /// Copies of the demo's eight teams (40 services each).
    pub(crate) generations: usize,
    /// Keep every n-th service only (tiny: one per team).
    pub(crate) service_step: usize,
    /// Multiplies each team's most main-line commits per deployment.
    pub(crate) batch_factor: i64,
    /// Multiplies each team's production deployment rate (the demo's 40 services
    /// deploy ~7.7 k times a year; S wants ~10 k).
    pub(crate) rate_factor: f64,
    /// Multiplies the demo's ticket and platform-action rates.
    pub(crate) desk_volume: f64,
    /// Cost resources per service and AWS service, and shared copies.
    pub(crate) bill: Bill,
    /// Rows per input file before the next chunk.
    pub(crate) chunk_rows: u64,
}

impl Scale {
    /// The scale's name as the CLI and file names spell it (`tiny`, `S`, `M`, `L`).
    pub fn label(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::S => "S",
            Scale::M => "M",
            Scale::L => "L",
        }
    }

    pub(crate) fn params(self) -> Params {
        let (generations, service_step, batch_factor, desk_volume, copies) = match self {
            Scale::Tiny => (1, 5, 1, 0.2, 1),
            Scale::S => (1, 1, 3, 3.2, 6),
            Scale::M => (10, 1, 3, 32.0, 6),
            Scale::L => (100, 1, 3, 320.0, 14),
        };
        Params {
            generations,
            service_step,
            batch_factor,
            rate_factor: 1.3,
            desk_volume,
            bill: Bill {
                copies,
                shared: copies * generations,
            },
            chunk_rows: 1_000_000,
        }
    }
}
