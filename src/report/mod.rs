//! Outputs: query results as JSON rows and the `metrics.json` contract.

pub mod access;
pub mod chart;
pub mod config_check;
pub mod cost;
pub mod dashboard;
pub mod json;
pub mod metrics;
pub mod north_star;
pub mod okrs;
pub mod scorecards;
