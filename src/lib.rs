//! # northstar
//!
//! How fast and how safely a platform organisation delivers, and what it costs.
//!
//! ```text
//! sources ──import/collect──▶ lake (Parquet) ──enrich──▶ derived tables ──queries/*.sql──▶ metrics.json
//!                              lake::Lake        enrich        engine::Engine              report
//! ```
//!
//! Data flows one way. [`import`] validates files against the canonical
//! [`lake::tables`] and writes them through [`lake::Lake`]; [`engine::Engine`]
//! registers the lake in DataFusion (newest version per natural key), runs
//! [`enrich`] to derive what each deployment shipped and which deployment each
//! incident is blamed on, and runs the SQL in `queries/`; [`report`] turns the
//! results into the `metrics.json` contract. [`demo`] builds a synthetic
//! organisation that goes through the same path, and [`bench`] the same
//! organisation at scale, with a harness that times each stage of the binary.
#![warn(missing_docs)]

pub mod atomic_file;
pub mod bench;
pub mod billing;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod engine;
pub mod enrich;
pub mod error;
pub mod history;
pub mod import;
pub mod lake;
pub mod pipeline;
pub mod report;
pub mod serve;
pub mod window;
