//! `northstar serve`: webhook intake, health endpoints and, unless started with
//! `--webhooks-only`, the metrics over HTTP (dashboards, JSON/CSV API, Prometheus,
//! Grafana; see [`reports`] for the routes and [`auth`] for who may read what).
//!
//! ```text
//! GET  /healthz            200 while the process runs
//! GET  /readyz             200 when the lake folder is readable and the first
//!                          metrics snapshot is built, else 503
//! POST /webhooks/{source}  a GitHub or GitLab delivery for a configured source
//! ```
//!
//! Webhooks are the push side of the delivery collectors: a verified delivery is
//! mapped to the same canonical rows the pull collectors write (see
//! [`crate::collect::delivery`]) and written through the same idempotent path, so a
//! row reads the same whichever way it arrived. Processing is inline: the writes
//! are a handful of rows, well inside the senders' 10 s reply budget.

mod api;
pub mod auth;
mod deliveries;
mod github_hooks;
mod gitlab_hooks;
mod grafana;
mod handled;
mod html;
mod login_form;
mod pages;
pub mod prometheus;
mod reports;
mod snapshot;
mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;

pub use auth::Tokens;
pub use reports::ReportOptions;
pub use webhooks::WebhookSecrets;

/// GitHub caps webhook payloads at 25 MB; a push of many commits can exceed axum's
/// 2 MB default, and a rejected body would be a lost delivery.
const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// What every request handler shares: the lake, the webhook sources (each with its
/// secret, rules and the lock that serializes its deliveries) and, when enabled,
/// the data side (tokens, metrics snapshot, dashboards).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    lake: Lake,
    hooks: HashMap<String, webhooks::Hook>,
    reports: Option<Arc<reports::Reports>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("lake", &self.inner.lake.local_root())
            .field("webhook_sources", &self.webhook_sources())
            .field("reports", &self.inner.reports.as_ref().map(|r| &r.tokens))
            .finish()
    }
}

impl AppState {
    /// Prepares every source that takes webhooks (`webhook_secret_env` set). A
    /// source without a secret in `secrets`, or of a kind that has no webhooks, is a
    /// config error, so a misconfigured server fails at startup rather than on the
    /// first delivery.
    ///
    /// This state serves webhooks and health only; see [`AppState::with_reports`].
    pub fn new(config: &Config, lake: Lake, secrets: WebhookSecrets) -> Result<AppState> {
        let hooks = webhooks::build_hooks(config, &lake, secrets)?;
        Ok(AppState {
            inner: Arc::new(Inner {
                lake,
                hooks,
                reports: None,
            }),
        })
    }

    /// [`AppState::new`] plus the metrics: dashboards, the JSON/CSV API,
    /// Prometheus and Grafana, read with the tokens of `options`. The first
    /// metrics snapshot is built in the background once [`serve`] starts.
    pub fn with_reports(
        config: &Config,
        lake: Lake,
        secrets: WebhookSecrets,
        options: ReportOptions,
    ) -> Result<AppState> {
        let hooks = webhooks::build_hooks(config, &lake, secrets)?;
        let reports = reports::Reports::new(config, lake.clone(), options);
        Ok(AppState {
            inner: Arc::new(Inner {
                lake,
                hooks,
                reports: Some(Arc::new(reports)),
            }),
        })
    }

    /// Names of the sources that accept webhooks, sorted.
    pub fn webhook_sources(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.hooks.keys().cloned().collect();
        names.sort();
        names
    }
}

/// The HTTP routes, with request logging; bind it to any listener.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/webhooks/{source}", post(webhooks::receive));
    if let Some(reports) = &state.inner.reports {
        app = app.merge(report_routes(Arc::clone(reports)));
    }
    app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A JSON error reply of the API and its middleware: `{"error": message}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": message.into() })),
    )
        .into_response()
}

/// A login form is a few hundred bytes.
const MAX_LOGIN_BYTES: usize = 8 * 1024;

/// The data routes, for merging into the server's router:
///
/// ```text
/// GET  /                        HTML index of the dashboards and the API      page
/// GET  /dashboards/{name}       one dashboard, drawn for the caller's role    page
/// GET  /login, POST /login      the token form; sets the login cookie         open
/// POST /logout                  clears the login cookie                       open
/// GET  /api/v1/metrics          metrics.json, scoped to the role              api
/// GET  /api/v1/query/{*id}      a metric query's rows, JSON or CSV            api
/// GET  /api/v1/grafana/{series} flat time series for Grafana's Infinity       api
/// GET  /metrics                 Prometheus text format, org and team figures  api
/// ```
///
/// `page` routes answer a missing token with the login form, `api` routes with a
/// JSON 401 (see [`auth`]).
fn report_routes<S>(reports: Arc<reports::Reports>) -> Router<S> {
    let tokens = Arc::new(reports.tokens.clone());
    let api = Router::new()
        .route("/api/v1/metrics", get(api::metrics))
        .route("/api/v1/query/{*id}", get(api::query))
        .route("/api/v1/grafana/{series}", get(grafana::series))
        .route("/metrics", get(prometheus::metrics))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&tokens),
            auth::require_api,
        ));
    let pages = Router::new()
        .route("/", get(pages::index))
        .route("/dashboards/{name}", get(pages::dashboard))
        .route_layer(middleware::from_fn_with_state(tokens, auth::require_page));
    let open = Router::new()
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .layer(DefaultBodyLimit::max(MAX_LOGIN_BYTES));
    api.merge(pages).merge(open).with_state(reports)
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in
/// flight finish: a delivery being written is not cut off halfway.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener.local_addr().ok();
    if let Some(reports) = &state.inner.reports {
        reports.snapshots.refresh_if_due();
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| Error::Io {
            path: addr.map(|a| a.to_string()).unwrap_or_default().into(),
            source,
        })
}

/// Completes on Ctrl-C or, on Unix, SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "Cannot listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("Shutting down; finishing requests in flight.");
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the lake folder can be listed (the one dependency every delivery
/// needs) and, when the metrics are served, once their first snapshot is built.
async fn readyz(State(state): State<AppState>) -> Response {
    let root = state.inner.lake.local_root();
    if let Err(e) = tokio::fs::read_dir(root).await {
        tracing::warn!(lake = %root.display(), error = %e, "Lake not readable.");
        return (StatusCode::SERVICE_UNAVAILABLE, "lake not readable").into_response();
    }
    match &state.inner.reports {
        Some(reports) if reports.snapshots.current().is_none() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics snapshot not built yet",
        )
            .into_response(),
        _ => (StatusCode::OK, "ready").into_response(),
    }
}

/// One line per request. Only the method, path (no query string), status, latency
/// and the caller's role label: headers carry signatures and tokens, bodies carry
/// whatever the sender put in them.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let role = response
        .extensions()
        .get::<auth::RoleLabel>()
        .map_or("-", |r| r.0.as_str());
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        role,
        "Served request."
    );
    response
}
