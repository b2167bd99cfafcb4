//! Outputs: query results as JSON rows and the `metrics.json` contract.

pub mod cost;
pub mod json;
pub mod metrics;
pub mod north_star;
pub mod okrs;
pub mod scorecards;
