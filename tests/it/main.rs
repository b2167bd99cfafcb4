//! The single integration-test binary: one module per area, shared helpers in
//! `support`.

mod cli;
mod collect_git;
mod collect_github;
mod collect_gitlab;
mod collect_jira;
mod collect_pagerduty;
mod collect_servicenow;
mod collector_runs;
mod custom_metrics;
mod fake_github;
mod fake_gitlab;
mod fake_history;
mod fake_jira;
mod fake_pagerduty;
mod fake_server;
mod fake_servicenow;
mod golden;
mod import;
mod lake;
mod north_star;
mod okrs;
mod scorecards;
mod support;
mod webhook;
