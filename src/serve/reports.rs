//! The data side of `northstar serve`: what its handlers share and its routes.
//!
//! ```text
//! GET  /                        HTML index of the dashboards and the API      page
//! GET  /dashboards/{name}       one dashboard, drawn for the caller's role    page
//! GET  /login, POST /login      the token form; sets the login cookie         open
//! POST /logout                  clears the login cookie                       open
//! GET  /api/v1/metrics          metrics.json, scoped to the role              api
//! GET  /api/v1/query/{*id}      a metric query's rows, JSON or CSV            api
//! GET  /api/v1/grafana/{series} flat time series for Grafana's Infinity       api
//! GET  /metrics                 Prometheus text format, org and team figures  api
//! ```
//!
//! `page` routes answer a missing token with the login form, `api` routes with a
//! JSON 401 (see [`super::auth`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

use super::auth::{self, Tokens};
use super::snapshot::Snapshots;
use super::{api, grafana, pages, prometheus};
use crate::config::Config;
use crate::lake::Lake;
use crate::report::dashboard::Dashboard;
use crate::window::Window;

/// A login form is a few hundred bytes.
const MAX_LOGIN_BYTES: usize = 8 * 1024;

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

/// The data routes, for merging into the server's router.
pub(super) fn routes<S>(reports: Arc<Reports>) -> Router<S> {
    let api = Router::new()
        .route("/api/v1/metrics", get(api::metrics))
        .route("/api/v1/query/{*id}", get(api::query))
        .route("/api/v1/grafana/{series}", get(grafana::series))
        .route("/metrics", get(prometheus::metrics))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&reports),
            auth::require_api,
        ));
    let pages = Router::new()
        .route("/", get(pages::index))
        .route("/dashboards/{name}", get(pages::dashboard))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&reports),
            auth::require_page,
        ));
    let open = Router::new()
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .layer(DefaultBodyLimit::max(MAX_LOGIN_BYTES));
    api.merge(pages).merge(open).with_state(reports)
}
