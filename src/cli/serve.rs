//! `northstar serve [--addr HOST:PORT] [--from DATE] [--to DATE] [--webhooks-only]`

use std::net::SocketAddr;

use clap::Args;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::report::dashboard;
use crate::serve::{AppState, ReportOptions, Tokens, WebhookSecrets, serve, shutdown_signal};
use crate::window::Window;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Metrics window start, inclusive (YYYY-MM-DD or RFC 3339). Default: the first
    /// of the month a year before --to's month, as for `report`.
    #[arg(long)]
    pub from: Option<String>,
    /// Metrics window end, exclusive. Default: tomorrow, moving with the calendar
    /// while the server runs.
    #[arg(long)]
    pub to: Option<String>,
    /// Serve only webhooks and health endpoints: no dashboards, API or metrics.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub webhooks_only: bool,
}

pub async fn run(args: ServeArgs, lake: Lake, config: &Config) -> Result<()> {
    // Secrets and tokens are read once, before binding: a missing one stops startup.
    let secrets = WebhookSecrets::from_env(config)?;
    let state = if args.webhooks_only {
        AppState::new(config, lake, secrets)?
    } else {
        let options = report_options(&args, config)?;
        AppState::with_reports(config, lake, secrets, options)?
    };
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| Error::Io {
            path: args.addr.to_string().into(),
            source,
        })?;
    let bound = listener.local_addr().unwrap_or(args.addr);
    let sources = state.webhook_sources();
    if sources.is_empty() && args.webhooks_only {
        tracing::warn!("No source sets webhook_secret_env; only health endpoints are served.");
    }
    tracing::info!(addr = %bound, ?sources, "Listening.");
    println!("listening on http://{bound}");
    serve(listener, state, shutdown_signal()).await
}

/// Tokens, window and dashboards; refuses to serve data without tokens on an
/// address other machines can reach.
fn report_options(args: &ServeArgs, config: &Config) -> Result<ReportOptions> {
    let tokens = Tokens::from_env(&config.serve)?;
    if tokens.is_empty() {
        if !args.addr.ip().is_loopback() {
            return Err(Error::Usage(format!(
                "refusing to serve metrics on {} without [[serve.tokens]]: configure tokens, \
                 listen on a loopback address, or pass --webhooks-only",
                args.addr
            )));
        }
        tracing::warn!(
            "No [[serve.tokens]] configured: anyone who can reach {} reads everything.",
            args.addr
        );
    }
    let window = if args.from.is_some() || args.to.is_some() {
        Some(Window::from_flags(
            args.from.as_deref(),
            args.to.as_deref(),
        )?)
    } else {
        None
    };
    let dashboards = dashboard::load(dashboard::dir_for(config).as_deref())?;
    Ok(ReportOptions {
        tokens,
        window,
        dashboards,
    })
}
