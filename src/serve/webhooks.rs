//! `POST /webhooks/{source}`: authenticate, skip redeliveries, map, write, record.
//!
//! Order matters. The signature (GitHub) or token (GitLab) is checked before the
//! body is parsed, so an unauthenticated sender cannot make the server do more than
//! one HMAC. Deliveries of one source are processed one at a time (a lock around
//! its delivery ids), so two concurrent redeliveries cannot both pass the duplicate
//! check. The delivery id is recorded only after the rows are written.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::sync::Mutex;

use super::AppState;
use super::deliveries::Deliveries;
use super::handled::Handled;
use super::{github_hooks, gitlab_hooks};
use crate::collect::rules::Rules;
use crate::config::{Config, SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::lake::Lake;

type HmacSha256 = Hmac<Sha256>;

/// Delivery ids longer than this are refused: GitHub's are 36-character GUIDs.
const MAX_DELIVERY_ID: usize = 256;

/// A secret value; its `Debug` never shows it.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Webhook secrets per source name. Production reads them once from the
/// environment ([`WebhookSecrets::from_env`]); tests hand them in directly
/// ([`WebhookSecrets::with`]) instead of mutating the process environment.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    by_source: HashMap<String, Secret>,
}

impl WebhookSecrets {
    /// No secrets.
    pub fn new() -> WebhookSecrets {
        WebhookSecrets::default()
    }

    /// The secret of every source with `webhook_secret_env`; an unset variable is a
    /// config error naming it.
    pub fn from_env(config: &Config) -> Result<WebhookSecrets> {
        let mut secrets = WebhookSecrets::new();
        for source in &config.sources {
            if let Some(secret) = source.webhook_secret()? {
                secrets = secrets.with(&source.name, secret);
            }
        }
        Ok(secrets)
    }

    /// Adds (or replaces) the secret of `source`.
    pub fn with(mut self, source: &str, secret: impl Into<String>) -> WebhookSecrets {
        self.by_source
            .insert(source.to_string(), Secret(secret.into()));
        self
    }
}

/// How a source authenticates its deliveries.
enum Verifier {
    /// `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed by the secret.
    GithubHmac(Secret),
    /// `X-Gitlab-Token`: the secret itself, compared through its HMAC so the
    /// comparison takes the same time whatever the sender guessed.
    GitlabToken { key: Secret, expected: Vec<u8> },
}

/// One webhook source, ready to take deliveries.
pub(crate) struct Hook {
    source: SourceConfig,
    rules: Rules,
    verifier: Verifier,
    /// Held while a delivery is processed: serializes the source's deliveries.
    deliveries: Mutex<Deliveries>,
}

/// Prepares every source that sets `webhook_secret_env`.
pub(crate) fn build_hooks(
    config: &Config,
    lake: &Lake,
    mut secrets: WebhookSecrets,
) -> Result<HashMap<String, Hook>> {
    let mut hooks = HashMap::new();
    for source in config
        .sources
        .iter()
        .filter(|s| s.webhook_secret_env().is_some())
    {
        let bad = |reason: String| Error::Config {
            key: format!("sources.{}.webhook_secret_env", source.name),
            reason,
        };
        let Some(secret) = secrets.by_source.remove(&source.name) else {
            return Err(bad("no webhook secret was given for this source".into()));
        };
        if secret.0.is_empty() {
            return Err(bad("the webhook secret is empty".into()));
        }
        let verifier = match &source.kind {
            SourceKind::Github(_) => Verifier::GithubHmac(secret),
            SourceKind::Gitlab(_) => {
                let expected = gitlab_mac(&secret, secret.0.as_bytes()).finalize();
                Verifier::GitlabToken {
                    expected: expected.into_bytes().to_vec(),
                    key: secret,
                }
            }
            kind => return Err(bad(format!("kind {kind:?} takes no webhooks"))),
        };
        let hook = Hook {
            rules: Rules::new(source),
            verifier,
            deliveries: Mutex::new(Deliveries::load(lake, &source.name)?),
            source: source.clone(),
        };
        hooks.insert(source.name.clone(), hook);
    }
    if let Some(name) = secrets.by_source.keys().next() {
        return Err(Error::Config {
            key: format!("sources.{name}"),
            reason: "a webhook secret was given for a source without webhook_secret_env".into(),
        });
    }
    Ok(hooks)
}

fn gitlab_mac(key: &Secret, message: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key.0.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac
}

/// Whether `header` (`sha256=<hex>`) is GitHub's signature of `body` under
/// `secret`, compared in constant time.
pub(crate) fn github_signature_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(signature) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

impl Hook {
    /// Why the delivery is not authentic, if it is not. Never includes the
    /// secret or what the sender presented.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> std::result::Result<(), &'static str> {
        match &self.verifier {
            Verifier::GithubHmac(secret) => {
                let header = header(headers, "x-hub-signature-256").ok_or("missing signature")?;
                if github_signature_valid(secret.0.as_bytes(), body, header) {
                    Ok(())
                } else {
                    Err("bad signature")
                }
            }
            Verifier::GitlabToken { key, expected } => {
                let token = headers
                    .get("x-gitlab-token")
                    .ok_or("missing token")?
                    .as_bytes();
                gitlab_mac(key, token)
                    .verify_slice(expected)
                    .map_err(|_| "bad token")
            }
        }
    }

    fn event_header(&self) -> &'static str {
        match &self.source.kind {
            SourceKind::Gitlab(_) => "x-gitlab-event",
            _ => "x-github-event",
        }
    }

    /// The sender's id for this delivery, the same on redelivery. GitLab's
    /// `Idempotency-Key` is documented as stable across retries; older versions
    /// only send `X-Gitlab-Event-UUID`.
    fn delivery_id<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        match &self.source.kind {
            SourceKind::Gitlab(_) => header(headers, "idempotency-key")
                .or_else(|| header(headers, "x-gitlab-event-uuid")),
            _ => header(headers, "x-github-delivery"),
        }
        .filter(|id| !id.is_empty())
    }

    fn handle(&self, event: &str, body: &[u8]) -> std::result::Result<Handled, String> {
        match &self.source.kind {
            SourceKind::Gitlab(_) => gitlab_hooks::handle(&self.source, &self.rules, event, body),
            _ => github_hooks::handle(&self.source, &self.rules, event, body),
        }
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn failed(source: &str, what: &str, e: &Error) -> Response {
    tracing::error!(source, error = %e, "Webhook delivery failed: {what}.");
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": format!("{what} failed; see the server log")}),
    )
}

/// The handler of `POST /webhooks/{source}`.
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(hook) = state.inner.hooks.get(&name) else {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"error": "no webhook source by that name"}),
        );
    };
    if let Err(why) = hook.verify(&headers, &body) {
        tracing::warn!(source = name, why, "Rejected webhook delivery.");
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": why }));
    }
    let Some(event) = header(&headers, hook.event_header()) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("missing {} header", hook.event_header())}),
        );
    };
    let id = hook.delivery_id(&headers);
    if id.is_some_and(|id| id.len() > MAX_DELIVERY_ID) {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "delivery id too long"}),
        );
    }
    let mut seen = hook.deliveries.lock().await;
    if let Some(id) = id
        && seen.contains(id)
    {
        tracing::info!(source = name, delivery = id, "Skipped a redelivery.");
        return reply(
            StatusCode::OK,
            json!({"status": "duplicate", "delivery": id}),
        );
    }
    let rows = match hook.handle(event, &body) {
        Ok(Handled::Rows(rows)) => rows,
        Ok(Handled::Pong) => return reply(StatusCode::OK, json!({"status": "pong"})),
        Ok(Handled::Ignored(reason)) => {
            tracing::debug!(source = name, event, reason, "Ignored webhook delivery.");
            return reply(
                StatusCode::ACCEPTED,
                json!({"status": "ignored", "reason": reason}),
            );
        }
        Err(reason) => {
            tracing::warn!(source = name, event, reason, "Unreadable webhook payload.");
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("unreadable {event} payload: {reason}")}),
            );
        }
    };
    let written = match rows.write(&state.inner.lake).await {
        Ok(written) => written,
        Err(e) => return failed(&name, "writing to the lake", &e),
    };
    if let Some(id) = id
        && let Err(e) = seen.record(id).await
    {
        return failed(&name, "recording the delivery id", &e);
    }
    tracing::info!(
        source = name,
        event,
        delivery = id,
        new = written.new_rows(),
        updated = written.updated_rows(),
        "Wrote webhook delivery."
    );
    reply(
        StatusCode::OK,
        json!({
            "status": "written",
            "new_rows": written.new_rows(),
            "updated_rows": written.updated_rows(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_docs_test_vector_verifies() {
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_valid(secret, body, header));
        assert!(!github_signature_valid(secret, b"Hello, World?", header));
        assert!(!github_signature_valid(b"another secret", body, header));
        assert!(!github_signature_valid(
            secret,
            body,
            header.trim_start_matches("sha256=")
        ));
        assert!(!github_signature_valid(secret, body, "sha256=zz"));
        assert!(!github_signature_valid(secret, body, "sha256="));
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let secrets = WebhookSecrets::new().with("gh", "hunter2");
        assert!(!format!("{secrets:?}").contains("hunter2"));
    }
}
