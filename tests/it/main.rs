//! The single integration-test binary: one module per area, shared helpers in
//! `support`.

mod cli;
mod collect_git;
mod collect_github;
mod collect_gitlab;
mod fake_github;
mod fake_gitlab;
mod golden;
mod import;
mod lake;
mod support;
mod webhook;
