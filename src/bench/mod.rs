//! `northstar bench`: a deterministic organisation at a chosen scale, written as
//! the files the importers read ([`generate`]), and a harness that times each
//! pipeline stage of the real binary on them ([`run`]).
//!
//! The data comes from [`crate::demo`]'s generators, parametrised by [`Scale`];
//! the harness measures child processes so each stage's peak memory is its own.
//! `bench/duckdb_compare.py` runs the same metrics in DuckDB over the same lake.

mod child;
mod commitments;
mod csv_out;
mod delivery_csv;
mod focus_csv;
pub mod generate;
mod machine;
pub mod report;
pub mod run;
mod scale;
mod small_writes;
mod timestamp;

pub use csv_out::TableFiles;
pub use generate::{Manifest, generate};
pub use machine::Machine;
pub use run::{RunOptions, Section, run};
pub use scale::Scale;
