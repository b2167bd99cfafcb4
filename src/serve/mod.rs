//! `northstar serve`: webhook intake and health endpoints over HTTP.
//!
//! ```text
//! GET  /healthz            200 while the process runs
//! GET  /readyz             200 when the lake folder is readable, else 503
//! POST /webhooks/{source}  a GitHub or GitLab delivery for a configured source
//! ```
//!
//! Webhooks are the push side of the delivery collectors: a verified delivery is
//! mapped to the same canonical rows the pull collectors write (see
//! [`crate::collect::delivery`]) and written through the same idempotent path, so a
//! row reads the same whichever way it arrived. Processing is inline: the writes
//! are a handful of rows, well inside the senders' 10 s reply budget.

mod deliveries;
mod github_hooks;
mod gitlab_hooks;
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

pub use webhooks::WebhookSecrets;

/// GitHub caps webhook payloads at 25 MB; a push of many commits can exceed axum's
/// 2 MB default, and a rejected body would be a lost delivery.
const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// What every request handler shares: the lake and the webhook sources, each with
/// its secret, rules and the lock that serializes its deliveries.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    lake: Lake,
    hooks: HashMap<String, webhooks::Hook>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("lake", &self.inner.lake.local_root())
            .field("webhook_sources", &self.webhook_sources())
            .finish()
    }
}

impl AppState {
    /// Prepares every source that takes webhooks (`webhook_secret_env` set). A
    /// source without a secret in `secrets`, or of a kind that has no webhooks, is a
    /// config error, so a misconfigured server fails at startup rather than on the
    /// first delivery.
    pub fn new(config: &Config, lake: Lake, secrets: WebhookSecrets) -> Result<AppState> {
        let hooks = webhooks::build_hooks(config, &lake, secrets)?;
        Ok(AppState {
            inner: Arc::new(Inner { lake, hooks }),
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
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/webhooks/{source}", post(webhooks::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in
/// flight finish: a delivery being written is not cut off halfway.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener.local_addr().ok();
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

/// Ready when the lake folder can be listed: the one dependency every delivery
/// needs.
async fn readyz(State(state): State<AppState>) -> Response {
    let root = state.inner.lake.local_root();
    match tokio::fs::read_dir(root).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(lake = %root.display(), error = %e, "Lake not readable.");
            (StatusCode::SERVICE_UNAVAILABLE, "lake not readable").into_response()
        }
    }
}

/// One line per request. Only the method, path, status and latency: headers carry
/// signatures and tokens, bodies carry whatever the sender put in them.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "Served request."
    );
    response
}
