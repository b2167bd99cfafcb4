//! `northstar serve [--addr HOST:PORT]`

use std::net::SocketAddr;

use clap::Args;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::serve::{AppState, WebhookSecrets, serve, shutdown_signal};

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
}

pub async fn run(args: ServeArgs, lake: Lake, config: &Config) -> Result<()> {
    // Secrets are read once, before binding: a missing one stops startup.
    let secrets = WebhookSecrets::from_env(config)?;
    let state = AppState::new(config, lake, secrets)?;
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| Error::Io {
            path: args.addr.to_string().into(),
            source,
        })?;
    let bound = listener.local_addr().unwrap_or(args.addr);
    let sources = state.webhook_sources();
    if sources.is_empty() {
        tracing::warn!("No source sets webhook_secret_env; only health endpoints are served.");
    }
    tracing::info!(addr = %bound, ?sources, "Listening.");
    println!("listening on http://{bound}");
    serve(listener, state, shutdown_signal()).await
}
