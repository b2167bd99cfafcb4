//! Who is asking: the bearer tokens of `[serve] tokens`, read from the environment
//! once at startup, and the middleware that turns a request's token into the
//! caller's [`Access`].
//!
//! A token arrives as `Authorization: Bearer <token>` (API clients, Prometheus,
//! Grafana) or as the `northstar_token` cookie that `POST /login` sets (browsers
//! cannot send a header on navigation). The presented token is compared with every
//! configured token, each through SHA-256 and [`subtle::ConstantTimeEq`], without
//! stopping at the first match, so neither the position nor the length of a
//! near-miss shows in the reply time.
//!
//! - no token, or a token that matches none: **401** (an API reply carries
//!   `WWW-Authenticate: Bearer`; a page reply is the login form);
//! - a valid token whose role may not see what it asked for: **403**, decided by
//!   the handler.
//!
//! With no tokens configured every caller is [`Access::Platform`]; `northstar serve`
//! allows that only on a loopback address. A token never appears in a log line,
//! an error message or a URL: the request log shows the role label instead.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::login_form::login_page;
use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::report::access::Access;

/// The cookie `POST /login` sets.
pub const COOKIE_NAME: &str = "northstar_token";

/// Tokens shorter than this draw a startup warning.
const SHORT_TOKEN: usize = 16;

/// The configured tokens, each with its role. `Debug` shows the variable names and
/// roles, never a token.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Clone)]
struct Entry {
    digest: [u8; 32],
    env: String,
    access: Access,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|e| format!("{} ({})", e.env, e.access.label())),
            )
            .finish()
    }
}

impl Tokens {
    /// No tokens: every caller is `platform`.
    pub fn none() -> Tokens {
        Tokens::default()
    }

    /// Reads every `[[serve.tokens]]` variable from the process environment.
    pub fn from_env(config: &ServeConfig) -> Result<Tokens> {
        Tokens::from_lookup(config, |name| std::env::var(name).ok())
    }

    /// [`Tokens::from_env`] with the variables looked up in `lookup` (tests hand in
    /// a map rather than mutate the process environment). An unset or empty
    /// variable, a bad role, or one token under two variables is a config error
    /// naming the variables.
    pub fn from_lookup(
        config: &ServeConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Tokens> {
        let mut entries: Vec<Entry> = Vec::new();
        for token in &config.tokens {
            let err = |reason: String| Error::Config {
                key: format!("serve.tokens (env {})", token.env),
                reason,
            };
            let access = Access::parse(&token.role).map_err(|e| err(e.to_string()))?;
            let value = lookup(&token.env)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| err("the environment variable is not set".into()))?;
            if value.len() < SHORT_TOKEN {
                tracing::warn!(env = %token.env, "Token shorter than {SHORT_TOKEN} characters.");
            }
            let digest = digest(value.as_bytes());
            if let Some(other) = entries.iter().find(|e| e.digest == digest) {
                return Err(err(format!("holds the same token as {}", other.env)));
            }
            entries.push(Entry {
                digest,
                env: token.env.clone(),
                access,
            });
        }
        Ok(Tokens { entries })
    }

    /// Adds a token (tests and embedders).
    pub fn with(mut self, env: &str, token: &str, access: Access) -> Tokens {
        self.entries.push(Entry {
            digest: digest(token.as_bytes()),
            env: env.to_string(),
            access,
        });
        self
    }

    /// Whether no token is configured (everyone is `platform`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The role of `presented`, comparing it with every token in constant time.
    pub fn check(&self, presented: &str) -> Option<Access> {
        let presented = digest(presented.as_bytes());
        let mut found = None;
        for entry in &self.entries {
            let equal: bool = entry.digest.ct_eq(&presented).into();
            if equal && found.is_none() {
                found = Some(entry.access.clone());
            }
        }
        found
    }

    /// Who sent `headers`.
    pub(super) fn caller(&self, headers: &HeaderMap) -> Caller {
        if self.is_empty() {
            return Caller::Known(Access::Platform);
        }
        match presented_token(headers) {
            None => Caller::Anonymous,
            Some(token) => self.check(&token).map_or(Caller::Invalid, Caller::Known),
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The outcome of authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Caller {
    /// No token sent.
    Anonymous,
    /// A token that matches none.
    Invalid,
    /// A valid token (or no tokens configured).
    Known(Access),
}

/// The role label the request log shows, set on the response by the middleware.
#[derive(Debug, Clone)]
pub(super) struct RoleLabel(pub String);

impl Caller {
    fn label(&self) -> String {
        match self {
            Caller::Anonymous => "-".into(),
            Caller::Invalid => "invalid".into(),
            Caller::Known(access) => access.label(),
        }
    }
}

/// The bearer token, else the login cookie.
fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    cookie(headers, COOKIE_NAME)
}

/// A cookie's value, decoded as [`set_cookie`] encoded it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .and_then(|(_, value)| decode_component(value))
        .filter(|t| !t.is_empty())
}

fn decode_component(value: &str) -> Option<String> {
    url::form_urlencoded::parse(value.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
}

/// The `Set-Cookie` value that carries `token` (form-encoded so any token is a
/// valid cookie value).
pub(super) fn set_cookie(token: &str) -> HeaderValue {
    let value: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let mut header = HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""));
    header.set_sensitive(true);
    header
}

/// The `Set-Cookie` value that removes the login cookie.
pub(super) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("northstar_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// Middleware for the JSON, CSV and Prometheus endpoints: a missing or unknown
/// token is a 401 JSON reply with `WWW-Authenticate: Bearer`.
pub(super) async fn require_api(
    State(tokens): State<Arc<Tokens>>,
    request: Request,
    next: Next,
) -> Response {
    let caller = tokens.caller(request.headers());
    let response = match &caller {
        Caller::Known(access) => run(access.clone(), request, next).await,
        Caller::Anonymous => unauthorized_api("Bearer realm=\"northstar\""),
        Caller::Invalid => unauthorized_api("Bearer realm=\"northstar\", error=\"invalid_token\""),
    };
    labelled(response, &caller)
}

/// Middleware for the HTML pages: a missing or unknown token is a 401 with the
/// login form.
pub(super) async fn require_page(
    State(tokens): State<Arc<Tokens>>,
    request: Request,
    next: Next,
) -> Response {
    let caller = tokens.caller(request.headers());
    let response = match &caller {
        Caller::Known(access) => run(access.clone(), request, next).await,
        Caller::Anonymous => login_page(StatusCode::UNAUTHORIZED, None),
        Caller::Invalid => login_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid (or no longer is)."),
        ),
    };
    labelled(response, &caller)
}

async fn run(access: Access, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(access);
    let mut response = next.run(request).await;
    // Replies depend on the caller: no shared cache may keep them.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn labelled(mut response: Response, caller: &Caller) -> Response {
    response.extensions_mut().insert(RoleLabel(caller.label()));
    response
}

fn unauthorized_api(challenge: &'static str) -> Response {
    let mut response = super::error(
        StatusCode::UNAUTHORIZED,
        "a valid token is required: send `Authorization: Bearer <token>`",
    );
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TokenConfig;

    fn config() -> ServeConfig {
        ServeConfig {
            tokens: vec![
                TokenConfig {
                    env: "A".into(),
                    role: "platform".into(),
                },
                TokenConfig {
                    env: "B".into(),
                    role: "team:checkout".into(),
                },
            ],
        }
    }

    fn lookup(name: &str) -> Option<String> {
        match name {
            "A" => Some("token-a-0123456789".into()),
            "B" => Some(" token-b-0123456789\n".into()),
            _ => None,
        }
    }

    #[test]
    fn tokens_map_to_roles_and_unknown_ones_to_none() {
        let tokens = Tokens::from_lookup(&config(), lookup).expect("tokens");
        assert_eq!(tokens.check("token-a-0123456789"), Some(Access::Platform));
        assert_eq!(
            tokens.check("token-b-0123456789"),
            Some(Access::Team("checkout".into()))
        );
        assert_eq!(tokens.check("token-a-012345678"), None);
        assert_eq!(tokens.check(""), None);
        let debug = format!("{tokens:?}");
        assert!(debug.contains("team:checkout") && !debug.contains("token-a"));
    }

    #[test]
    fn unset_and_duplicate_tokens_are_config_errors_without_the_value() {
        let err = Tokens::from_lookup(&config(), |n| (n == "A").then(|| "x".repeat(20)))
            .expect_err("B unset");
        assert!(err.to_string().contains("env B"), "{err}");
        let err = Tokens::from_lookup(&config(), |_| Some("same-token-0123456789".into()))
            .expect_err("duplicate");
        let text = err.to_string();
        assert!(
            text.contains("same token as A") && !text.contains("same-token-"),
            "{text}"
        );
    }

    #[test]
    fn bearer_wins_over_cookie_and_cookies_round_trip() {
        let tokens = Tokens::from_lookup(&config(), lookup).expect("tokens");
        let mut headers = HeaderMap::new();
        assert_eq!(tokens.caller(&headers), Caller::Anonymous);
        let set = set_cookie("token-a-0123456789");
        let pair = set
            .to_str()
            .expect("ascii")
            .split(';')
            .next()
            .expect("pair");
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("x=1; {pair}")).expect("hv"),
        );
        assert_eq!(tokens.caller(&headers), Caller::Known(Access::Platform));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer wrong"));
        assert_eq!(tokens.caller(&headers), Caller::Invalid);
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("bearer token-b-0123456789"),
        );
        assert_eq!(
            tokens.caller(&headers),
            Caller::Known(Access::Team("checkout".into()))
        );
        assert_eq!(decode_component("a%3Bb+c").as_deref(), Some("a;b c"));
        assert_eq!(
            Tokens::none().caller(&HeaderMap::new()),
            Caller::Known(Access::Platform)
        );
    }
}
