//! The data side of `northstar serve`: what its handlers share (the routes are in
//! [`super::router`]).

use std::sync::Arc;

use super::auth::Tokens;
use super::snapshot::Snapshots;
use crate::config::Config;
use crate::lake::Lake;
use crate::report::dashboard::Dashboard;
use crate::window::Window;

/// What `northstar serve` serves besides webhooks.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Who may read (none: everyone is `platform`).
    pub tokens: Tokens,
    /// The metrics window; `None` for `northstar compute`'s default, recomputed as
    /// the days pass.
    pub window: Option<Window>,
    /// The dashboards offered.
    pub dashboards: Vec<Dashboard>,
}

/// What the data handlers share.
pub struct Reports {
    pub(super) config: Arc<Config>,
    pub(super) tokens: Tokens,
    pub(super) snapshots: Arc<Snapshots>,
    pub(super) dashboards: Vec<Dashboard>,
}

impl Reports {
    pub(super) fn new(config: &Config, lake: Lake, options: ReportOptions) -> Reports {
        let config = Arc::new(config.clone());
        Reports {
            snapshots: Arc::new(Snapshots::new(lake, Arc::clone(&config), options.window)),
            config,
            tokens: options.tokens,
            dashboards: options.dashboards,
        }
    }

    /// (name, title) of every dashboard, for page navigation.
    pub(super) fn dashboard_links(&self) -> Vec<(String, String)> {
        self.dashboards
            .iter()
            .map(|d| (d.name.clone(), d.title.clone()))
            .collect()
    }
}
