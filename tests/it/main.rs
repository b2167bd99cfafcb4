//! The single integration-test binary: one module per area, shared helpers in
//! `support`.

mod cli;
mod collect_git;
mod collect_github;
mod fake_github;
mod golden;
mod import;
mod lake;
mod support;
mod webhook;
