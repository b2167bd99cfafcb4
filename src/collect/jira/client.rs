//! Jira's endpoints over the shared HTTP client: Basic auth with the account email
//! and an API token, the status list, `search/jql` pages, an issue's whole
//! changelog, and a JSM request's first-response SLA.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};

use super::api;
use super::fields;
use crate::collect::SourceRun;
use crate::collect::http::{Auth, HttpClient};
use crate::collect::rest::{self, RestApi};
use crate::config::{JiraSource, SourceConfig};
use crate::error::{Error, Result};

/// Jira's own cap on changelog entries per page.
const CHANGELOG_PAGE: u32 = 100;

/// The SLA whose stop is the first response, as JSM names it by default.
const FIRST_RESPONSE_SLA: &str = "Time to first response";

/// The HTTP client of a Jira source. Jira Cloud authenticates REST calls with
/// `Basic base64(email:api_token)`: both variables must be set, or neither (an
/// anonymous read of a public site).
pub fn client(run: &SourceRun<'_>, jira: &JiraSource) -> Result<HttpClient> {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    rest::client(run, basic_auth(run.source, jira)?, headers)
}

fn basic_auth(source: &SourceConfig, jira: &JiraSource) -> Result<Option<Auth>> {
    let bad = |key: &str, reason: String| Error::Config {
        key: format!("sources.{}.{key}", source.name),
        reason,
    };
    let both = "Jira authenticates with the account's email and an API token";
    match (&jira.email_env, &source.token_env) {
        (Some(email_var), Some(token_var)) => {
            let email = std::env::var(email_var).map_err(|_| {
                bad(
                    "email_env",
                    format!("environment variable {email_var} is not set"),
                )
            })?;
            let token = source.token()?.unwrap_or_default();
            let secret = BASE64.encode(format!("{email}:{token}"));
            Ok(Some(Auth::new(
                &source.name,
                token_var,
                "authorization",
                "Basic ",
                &secret,
            )?))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err(bad("email_env", format!("{both}: set email_env too"))),
        (Some(_), None) => Err(bad("token_env", format!("{both}: set token_env too"))),
    }
}

/// A site's API root and client.
#[derive(Debug, Clone)]
pub struct Api {
    rest: RestApi,
}

impl Api {
    /// The API of `source` (`api_url`, required by the config, is the site, e.g.
    /// `https://acme.atlassian.net`).
    pub fn new(source: &SourceConfig, http: HttpClient) -> Result<Api> {
        Ok(Api {
            rest: RestApi::new(source, http, "")?,
        })
    }

    /// Every status of the site with its category.
    pub async fn statuses(&self) -> Result<Vec<api::Status>> {
        let url = self.rest.url("rest/api/3/status", &[])?;
        Ok(self.rest.http.get_json(&url).await?.0)
    }

    /// One page of `jql`, with exactly `fields`.
    pub async fn search(
        &self,
        jql: &str,
        fields: &str,
        token: Option<&str>,
    ) -> Result<api::SearchPage> {
        let mut query = vec![
            ("jql", jql.to_string()),
            ("fields", fields.to_string()),
            ("maxResults", self.rest.http.per_page().to_string()),
        ];
        if let Some(t) = token {
            query.push(("nextPageToken", t.to_string()));
        }
        let url = self.rest.url("rest/api/3/search/jql", &query)?;
        Ok(self.rest.http.get_json(&url).await?.0)
    }

    /// An issue's whole changelog, oldest first, page by page (`startAt`), until
    /// `isLast`, an empty page, or `total` is reached.
    pub async fn changelog(&self, key: &str, run: &SourceRun<'_>) -> Result<Vec<api::History>> {
        let path = format!("rest/api/3/issue/{}/changelog", segment(key));
        let mut all = Vec::new();
        loop {
            let url = self.rest.url(
                &path,
                &[
                    ("startAt", all.len().to_string()),
                    ("maxResults", CHANGELOG_PAGE.to_string()),
                ],
            )?;
            let (page, _): (api::ChangelogPage, _) = self.rest.http.get_json(&url).await?;
            run.progress.read("changelog", page.values.len());
            let empty = page.values.is_empty();
            all.extend(page.values);
            let reached_total = page.total.is_some_and(|t| all.len() as u64 >= t);
            if empty || page.is_last == Some(true) || reached_total {
                return Ok(all);
            }
        }
    }

    /// When JSM's "Time to first response" SLA first stopped; `None` when the issue
    /// is no service-desk request (404) or the clock has not stopped yet.
    pub async fn first_response(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        let url = self.rest.url(
            &format!("rest/servicedeskapi/request/{}/sla", segment(key)),
            &[],
        )?;
        let Some(page): Option<api::SlaPage> = self.rest.http.get_json_if_found(&url).await? else {
            return Ok(None);
        };
        Ok(page
            .values
            .iter()
            .filter(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(FIRST_RESPONSE_SLA))
            })
            .flat_map(|s| &s.completed_cycles)
            .filter_map(|c| c.stop_time.as_ref())
            .filter_map(|d| {
                d.epoch_millis
                    .and_then(DateTime::from_timestamp_millis)
                    .or_else(|| fields::time_text(d.iso8601.as_deref()?))
            })
            .min())
    }
}

/// An issue key as one URL path segment.
fn segment(key: &str) -> String {
    url::form_urlencoded::byte_serialize(key.as_bytes()).collect()
}
