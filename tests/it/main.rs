//! The single integration-test binary: one module per area, shared helpers in
//! `support`.

mod cli;
mod collect_git;
mod golden;
mod import;
mod lake;
mod support;
