//! The HTTP client every collector shares: timeouts, bounded retries with full-jitter
//! exponential backoff, rate-limit waits from the server's own headers, `Link` /
//! `x-next-page` pagination, and conditional requests with an on-disk ETag cache.
//!
//! Secrets: the auth header is marked sensitive (reqwest never prints it) and no
//! error or log line here includes a header value.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use super::etag_cache::EtagCache;
use crate::config::HttpSettings;
use crate::error::{Error, Result};

/// The user agent every request carries.
pub const USER_AGENT: &str = concat!("northstar/", env!("CARGO_PKG_VERSION"));

/// How a source authenticates: one header, whose value is a secret.
#[derive(Clone)]
pub struct Auth {
    header: HeaderName,
    value: HeaderValue,
    /// The environment variable the secret came from, for error messages.
    env_var: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth({}: <from ${}>)", self.header, self.env_var)
    }
}

impl Auth {
    /// `header: prefix + secret`, e.g. `authorization: Bearer …`, `private-token: …`.
    pub fn new(
        source: &str,
        env_var: &str,
        header: &'static str,
        prefix: &str,
        secret: &str,
    ) -> Result<Auth> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{secret}")).map_err(|_| {
            Error::collector(
                source,
                format!("the token in ${env_var} is not a valid header value"),
            )
        })?;
        value.set_sensitive(true);
        Ok(Auth {
            header: HeaderName::from_static(header),
            value,
            env_var: env_var.to_string(),
        })
    }
}

/// Request counts for the run summary.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent (each attempt counts).
    pub requests: AtomicU64,
    /// Attempts repeated after a failure or a rate limit.
    pub retries: AtomicU64,
    /// Answers `304 Not Modified` served from the ETag cache.
    pub not_modified: AtomicU64,
    /// Waits imposed by rate limits.
    pub rate_limited: AtomicU64,
}

impl Stats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (requests, retries, not_modified, rate_limited).
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.not_modified.load(Ordering::Relaxed),
            self.rate_limited.load(Ordering::Relaxed),
        )
    }
}

/// One successful answer.
#[derive(Debug, Clone)]
pub struct Page {
    /// The body (replayed from the cache on a 304).
    pub body: Bytes,
    /// The next page, from `Link: rel="next"` or `x-next-page`.
    pub next: Option<Url>,
    /// Whether the server said nothing changed since the cached copy.
    pub not_modified: bool,
}

/// The shared client of one source.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    source: String,
    auth: Option<Auth>,
    headers: HeaderMap,
    settings: HttpSettings,
    limiter: Arc<Semaphore>,
    cache: EtagCache,
    stats: Arc<Stats>,
}

/// What to do after a failed attempt.
enum Attempt {
    /// Wait (the server's figure, else the backoff for this attempt), then try again.
    Retry(Option<Duration>, String),
    /// Give up with this error.
    Fail(Error),
}

impl HttpClient {
    /// A client for `source` with fixed extra `headers` (e.g. `Accept`).
    pub fn new(
        source: &str,
        settings: &HttpSettings,
        auth: Option<Auth>,
        headers: HeaderMap,
        cache: EtagCache,
    ) -> Result<HttpClient> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs_f64(settings.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(settings.timeout_secs.min(10.0)))
            .build()
            .map_err(|e| Error::collector(source, format!("cannot build an HTTP client: {e}")))?;
        Ok(HttpClient {
            client,
            source: source.to_string(),
            auth,
            headers,
            settings: settings.clone(),
            limiter: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            cache,
            stats: Arc::new(Stats::default()),
        })
    }

    /// The request counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The per-page item count to ask for.
    pub fn per_page(&self) -> u32 {
        self.settings.per_page
    }

    /// GETs `url` and decodes its JSON body as `T`; returns the next page's URL too.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<(T, Option<Url>)> {
        let page = self.get(url).await?;
        Ok((self.decode(url, &page)?, page.next))
    }

    /// Like [`HttpClient::get_json`], but a 404 is `None` (a record deleted upstream).
    pub async fn get_json_if_found<T: DeserializeOwned>(&self, url: &Url) -> Result<Option<T>> {
        match self.get_if_found(url).await? {
            Some(page) => Ok(Some(self.decode(url, &page)?)),
            None => Ok(None),
        }
    }

    /// Like [`HttpClient::get_json`], but a 404 is `None`.
    pub async fn get_json_page_if_found<T: DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<Option<(T, Option<Url>)>> {
        match self.get_if_found(url).await? {
            Some(page) => Ok(Some((self.decode(url, &page)?, page.next))),
            None => Ok(None),
        }
    }

    fn decode<T: DeserializeOwned>(&self, url: &Url, page: &Page) -> Result<T> {
        serde_json::from_slice(&page.body).map_err(|e| {
            Error::collector(
                &self.source,
                format!("GET {}: unexpected JSON: {e}", redact(url)),
            )
        })
    }

    /// GETs `url`; a 404 is an error naming the URL.
    pub async fn get(&self, url: &Url) -> Result<Page> {
        self.get_if_found(url).await?.ok_or_else(|| {
            Error::collector(
                &self.source,
                format!(
                    "GET {}: HTTP 404 Not Found (it does not exist, or the token cannot see it)",
                    redact(url)
                ),
            )
        })
    }

    /// GETs `url` with retries, rate-limit waits and a conditional request when an
    /// ETag is cached; `None` on 404. The body must be complete JSON: a cut-off body
    /// is retried.
    pub async fn get_if_found(&self, url: &Url) -> Result<Option<Page>> {
        let cached = self.cache.get(url);
        let mut attempt = 0u32;
        loop {
            let outcome = {
                let _permit = self.limiter.acquire().await.map_err(|e| {
                    Error::collector(&self.source, format!("request limiter closed: {e}"))
                })?;
                Stats::bump(&self.stats.requests);
                self.attempt(url, cached.as_ref().map(|c| c.etag.as_str()))
                    .await
            };
            let failure = match outcome {
                Ok(Answer::Fresh { body, etag, next }) => {
                    if let Some(etag) = etag {
                        self.cache.put(url, &etag, &body, next.as_ref())?;
                    }
                    return Ok(Some(Page {
                        body,
                        next,
                        not_modified: false,
                    }));
                }
                Ok(Answer::Missing) => return Ok(None),
                Ok(Answer::NotModified { next }) => match &cached {
                    Some(c) => {
                        let next =
                            next.or_else(|| c.next.as_deref().and_then(|n| Url::parse(n).ok()));
                        Stats::bump(&self.stats.not_modified);
                        return Ok(Some(Page {
                            body: Bytes::from(c.body.clone()),
                            next,
                            not_modified: true,
                        }));
                    }
                    None => Attempt::Fail(Error::collector(
                        &self.source,
                        format!(
                            "GET {}: 304 Not Modified without a cached copy",
                            redact(url)
                        ),
                    )),
                },
                Err(failure) => failure,
            };
            match failure {
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(wait, why) if attempt < self.settings.max_retries => {
                    let wait = wait.unwrap_or_else(|| self.backoff(attempt));
                    attempt += 1;
                    Stats::bump(&self.stats.retries);
                    tracing::warn!(source = %self.source, url = %redact(url), attempt, wait_ms = wait.as_millis() as u64, "{why}; retrying");
                    tokio::time::sleep(wait).await;
                }
                Attempt::Retry(_, why) => {
                    return Err(Error::collector(
                        &self.source,
                        format!(
                            "GET {}: {why}; gave up after {} attempts",
                            redact(url),
                            attempt + 1
                        ),
                    ));
                }
            }
        }
    }

    async fn attempt(&self, url: &Url, etag: Option<&str>) -> Result<Answer, Attempt> {
        let mut request = self.client.get(url.clone()).headers(self.headers.clone());
        if let Some(auth) = &self.auth {
            request = request.header(auth.header.clone(), auth.value.clone());
        }
        if let Some(etag) = etag
            && let Ok(v) = HeaderValue::from_str(etag)
        {
            request = request.header(reqwest::header::IF_NONE_MATCH, v);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_failure(&e)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let next = next_page(&headers, url);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer::NotModified { next });
        }
        if status == StatusCode::NOT_FOUND {
            return Ok(Answer::Missing);
        }
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(self.transport_failure(&e)),
        };
        if status.is_success() {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
                return Err(Attempt::Retry(
                    None,
                    "incomplete or invalid JSON body".into(),
                ));
            }
            let etag = headers
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(Answer::Fresh { body, etag, next });
        }
        Err(self.status_failure(url, status, &headers, &body))
    }

    fn transport_failure(&self, e: &reqwest::Error) -> Attempt {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the body was cut off"
        } else {
            "the connection failed"
        };
        Attempt::Retry(None, what.to_string())
    }

    fn status_failure(
        &self,
        url: &Url,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Attempt {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).replace('\n', " ");
        let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
            || (status == StatusCode::FORBIDDEN && is_rate_limit_403(headers, &snippet));
        if rate_limited {
            Stats::bump(&self.stats.rate_limited);
            let now = chrono::Utc::now().timestamp();
            let wait = rate_limit_wait(headers, now).unwrap_or_else(|| {
                if status == StatusCode::FORBIDDEN {
                    Duration::from_secs(60)
                } else {
                    self.backoff(1)
                }
            });
            let cap = Duration::from_secs_f64(self.settings.max_wait_secs);
            if wait > cap {
                return Attempt::Fail(Error::collector(
                    &self.source,
                    format!(
                        "GET {}: rate limited for {}s, more than http.max_wait_secs = {}",
                        redact(url),
                        wait.as_secs(),
                        self.settings.max_wait_secs
                    ),
                ));
            }
            tracing::info!(source = %self.source, wait_s = wait.as_secs_f64(), "Rate limited (HTTP {}); waiting.", status.as_u16());
            return Attempt::Retry(
                Some(wait),
                format!("rate limited (HTTP {})", status.as_u16()),
            );
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            // A 503 may say when to come back; honour it within the same cap.
            let cap = Duration::from_secs_f64(self.settings.max_wait_secs);
            let asked = header_str(headers, "retry-after")
                .and_then(|_| rate_limit_wait(headers, chrono::Utc::now().timestamp()))
                .map(|w| w.min(cap));
            return Attempt::Retry(asked, format!("HTTP {}", status.as_u16()));
        }
        let reason = match (status, &self.auth) {
            (StatusCode::UNAUTHORIZED, Some(a)) => format!(
                "the token in ${} was rejected (HTTP 401 from {}); check that it is current",
                a.env_var,
                url.host_str().unwrap_or("the server")
            ),
            (StatusCode::UNAUTHORIZED, None) => format!(
                "{} requires a token (HTTP 401); set token_env in the source's config",
                url.host_str().unwrap_or("the server")
            ),
            (StatusCode::FORBIDDEN, Some(a)) => format!(
                "GET {}: HTTP 403, the token in ${} lacks permission: {snippet}",
                redact(url),
                a.env_var
            ),
            _ => format!("GET {}: HTTP {}: {snippet}", redact(url), status.as_u16()),
        };
        Attempt::Fail(Error::collector(&self.source, reason))
    }

    /// Full jitter: a uniform wait in [0, base·2^attempt], capped at 60 s.
    fn backoff(&self, extra: u32) -> Duration {
        let step = self.settings.backoff_secs * f64::from(2u32.saturating_pow(extra.min(16)));
        Duration::from_secs_f64((step.min(60.0)) * rand::random::<f64>())
    }
}

enum Answer {
    Fresh {
        body: Bytes,
        etag: Option<String>,
        next: Option<Url>,
    },
    NotModified {
        next: Option<Url>,
    },
    Missing,
}

/// The URL without its query string's values that could be secrets (none of ours
/// are, but a user's `api_url` might carry one).
fn redact(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

/// GitHub answers a primary or secondary rate limit with 403; a plain permission
/// 403 has none of these signs and must not be retried.
fn is_rate_limit_403(headers: &HeaderMap, body: &str) -> bool {
    header_str(headers, "x-ratelimit-remaining") == Some("0")
        || headers.contains_key(reqwest::header::RETRY_AFTER)
        || body.to_ascii_lowercase().contains("rate limit")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A reset header below this is a number of seconds to wait, not an epoch time:
/// 10^9 seconds after 1970 is September 2001, so no current reset time is smaller,
/// and no server asks for a 31-year wait.
const RESET_EPOCH_FLOOR: i64 = 1_000_000_000;

/// How long the server asks us to wait: `Retry-After` (seconds or an HTTP date),
/// else GitHub's `x-ratelimit-reset` when the budget is spent, else
/// `RateLimit-Reset`. GitHub and GitLab send resets as epoch seconds, PagerDuty
/// as seconds to wait; the two are told apart by size ([`RESET_EPOCH_FLOOR`]).
pub fn rate_limit_wait(headers: &HeaderMap, now_epoch: i64) -> Option<Duration> {
    if let Some(v) = header_str(headers, "retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            return Some(Duration::from_secs_f64(secs.max(0.0)));
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(v) {
            return Some(Duration::from_secs(
                (at.timestamp() - now_epoch).max(0) as u64
            ));
        }
    }
    let reset = if header_str(headers, "x-ratelimit-remaining") == Some("0") {
        header_str(headers, "x-ratelimit-reset")
    } else {
        header_str(headers, "ratelimit-reset")
    };
    let reset: i64 = reset?.parse().ok()?;
    if reset < RESET_EPOCH_FLOOR {
        return Some(Duration::from_secs(reset.max(0) as u64));
    }
    Some(Duration::from_secs((reset - now_epoch).max(0) as u64 + 1))
}

/// The next page: `Link: <…>; rel="next"` (GitHub, GitLab), else GitLab's
/// `x-next-page` number applied to the current URL's `page` parameter.
pub fn next_page(headers: &HeaderMap, current: &Url) -> Option<Url> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(text) = value.to_str() else { continue };
        for part in text.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.trim_start_matches('<').trim_end_matches('>');
                return current.join(target).ok();
            }
        }
    }
    let page = header_str(headers, "x-next-page").filter(|p| !p.is_empty())?;
    let mut next = current.clone();
    let pairs: Vec<(String, String)> = current
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("page", page);
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn link_header_next_is_followed_and_relative_links_resolve() {
        let url = Url::parse("https://api.example.com/repos/a/b/deployments?per_page=2").unwrap();
        let h = headers(&[(
            "link",
            r#"<https://api.example.com/repositories/1/deployments?per_page=2&page=3>; rel="next", <https://api.example.com/repositories/1/deployments?page=9>; rel="last""#,
        )]);
        assert_eq!(
            next_page(&h, &url).unwrap().as_str(),
            "https://api.example.com/repositories/1/deployments?per_page=2&page=3"
        );
        let last_only = headers(&[("link", r#"<https://x/y?page=1>; rel="first""#)]);
        assert!(next_page(&last_only, &url).is_none());
        let relative = headers(&[("link", r#"</v2?page=2>; rel="next""#)]);
        assert_eq!(
            next_page(&relative, &url).unwrap().as_str(),
            "https://api.example.com/v2?page=2"
        );
    }

    #[test]
    fn gitlab_next_page_header_replaces_the_page_parameter() {
        let url = Url::parse(
            "https://gl/api/v4/projects/1/deployments?per_page=100&page=1&order_by=updated_at",
        )
        .unwrap();
        let h = headers(&[("x-next-page", "2")]);
        assert_eq!(
            next_page(&h, &url).unwrap().as_str(),
            "https://gl/api/v4/projects/1/deployments?per_page=100&order_by=updated_at&page=2"
        );
        assert!(next_page(&headers(&[("x-next-page", "")]), &url).is_none());
    }

    #[test]
    fn waits_follow_retry_after_then_reset_headers() {
        let now = 1_700_000_000;
        assert_eq!(
            rate_limit_wait(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let gh = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000030"),
        ]);
        assert_eq!(rate_limit_wait(&gh, now), Some(Duration::from_secs(31)));
        let gl = headers(&[("ratelimit-reset", "1700000010")]);
        assert_eq!(rate_limit_wait(&gl, now), Some(Duration::from_secs(11)));
        let date = headers(&[("retry-after", "Tue, 14 Nov 2023 22:13:40 GMT")]);
        assert_eq!(rate_limit_wait(&date, now), Some(Duration::from_secs(20)));
        assert_eq!(rate_limit_wait(&headers(&[]), now), None);
    }

    #[test]
    fn a_small_reset_is_seconds_to_wait_not_an_epoch() {
        let now = 1_700_000_000;
        let pd = headers(&[("ratelimit-reset", "12")]);
        assert_eq!(rate_limit_wait(&pd, now), Some(Duration::from_secs(12)));
        let zero = headers(&[("ratelimit-reset", "0")]);
        assert_eq!(rate_limit_wait(&zero, now), Some(Duration::ZERO));
        let epoch = headers(&[("ratelimit-reset", "1700000005")]);
        assert_eq!(rate_limit_wait(&epoch, now), Some(Duration::from_secs(6)));
    }

    #[test]
    fn a_permission_403_is_not_a_rate_limit() {
        assert!(!is_rate_limit_403(
            &headers(&[("x-ratelimit-remaining", "4999")]),
            "Resource not accessible"
        ));
        assert!(is_rate_limit_403(
            &headers(&[("x-ratelimit-remaining", "0")]),
            ""
        ));
        assert!(is_rate_limit_403(
            &headers(&[]),
            "You have exceeded a secondary rate limit"
        ));
    }

    #[test]
    fn auth_debug_shows_the_variable_never_the_secret() {
        let auth = Auth::new("gh", "GH_TOKEN", "authorization", "Bearer ", "s3cr3t-value").unwrap();
        let shown = format!("{auth:?}");
        assert!(
            shown.contains("GH_TOKEN") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
