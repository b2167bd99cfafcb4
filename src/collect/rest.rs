//! A REST API root as every collector uses it: the configured base URL, URL
//! building, and reading paged lists through the shared [`HttpClient`].

use serde::de::DeserializeOwned;
use url::Url;

use reqwest::header::HeaderMap;

use super::SourceRun;
use super::etag_cache::EtagCache;
use super::http::{Auth, HttpClient};
use super::state::SourceState;
use crate::config::SourceConfig;
use crate::error::{Error, Result};

/// A source's API root and client.
#[derive(Debug, Clone)]
pub struct RestApi {
    base: Url,
    /// The shared client.
    pub http: HttpClient,
    source: String,
}

/// `header: prefix + token` from the source's `token_env`, or no auth when the
/// source names no variable (public APIs); an unset variable is an error naming it.
pub fn token_auth(
    source: &SourceConfig,
    header: &'static str,
    prefix: &str,
) -> Result<Option<Auth>> {
    match (source.token()?, &source.token_env) {
        (Some(token), Some(var)) => Ok(Some(Auth::new(&source.name, var, header, prefix, &token)?)),
        _ => Ok(None),
    }
}

/// The shared client of a source, with its ETag cache beside its state.
pub fn client(run: &SourceRun<'_>, auth: Option<Auth>, headers: HeaderMap) -> Result<HttpClient> {
    let source = run.source;
    let cache = EtagCache::at(&SourceState::dir(run.lake, &source.name).join("http"));
    HttpClient::new(&source.name, &source.http, auth, headers, cache)
}

impl RestApi {
    /// The root at the source's `api_url`, else `default_url`; always ends in `/`
    /// so paths join below it (GitHub Enterprise's `/api/v3`, GitLab's `/api/v4`).
    pub fn new(source: &SourceConfig, http: HttpClient, default_url: &str) -> Result<RestApi> {
        let text = source.api_url.as_deref().unwrap_or(default_url);
        let base =
            Url::parse(&format!("{}/", text.trim_end_matches('/'))).map_err(|e| Error::Config {
                key: format!("sources.{}.api_url", source.name),
                reason: format!("`{text}` is not a URL: {e}"),
            })?;
        Ok(RestApi {
            base,
            http,
            source: source.name.clone(),
        })
    }

    /// `base/path?query`; the path is taken as given (callers encode segments).
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Error::collector(&self.source, format!("bad API path {path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// `("per_page", n)` from the source's settings.
    pub fn per_page(&self) -> (&'static str, String) {
        ("per_page", self.http.per_page().to_string())
    }

    /// Every page of a JSON-array list (an empty page ends it).
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        first: Url,
        run: &SourceRun<'_>,
        what: &str,
    ) -> Result<Vec<T>> {
        self.list_until(first, run, what, |_| false).await
    }

    /// Like [`RestApi::list_all`] for a list that is a detail of something already
    /// read (a deployment's statuses, a PR's commits): a 404 there — a server that
    /// does not offer the endpoint, or a record deleted meanwhile — is logged and
    /// read as empty instead of stopping the source.
    pub async fn list_detail<T: DeserializeOwned>(
        &self,
        first: Url,
        run: &SourceRun<'_>,
        what: &str,
    ) -> Result<Vec<T>> {
        match self.http.get_json_page_if_found::<Vec<T>>(&first).await? {
            None => {
                tracing::warn!(source = %self.source, url = %first, "{what}: HTTP 404; read as empty.");
                Ok(Vec::new())
            }
            Some((page, link)) => {
                run.progress.read(what, page.len());
                let empty = page.is_empty();
                let mut items = page;
                if let Some(next) = link.filter(|_| !empty) {
                    items.extend(self.list_all(next, run, what).await?);
                }
                Ok(items)
            }
        }
    }

    /// Reads pages of a JSON-array list until the last page, or until `stop(item)`
    /// holds for an item (lists read newest first): that item and the rest are
    /// dropped.
    pub async fn list_until<T: DeserializeOwned>(
        &self,
        first: Url,
        run: &SourceRun<'_>,
        what: &str,
        stop: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next {
            let (page, link): (Vec<T>, _) = self.http.get_json(&url).await?;
            run.progress.read(what, page.len());
            let empty = page.is_empty();
            let mut stopped = false;
            for item in page {
                if stop(&item) {
                    stopped = true;
                    break;
                }
                items.push(item);
            }
            next = if stopped || empty { None } else { link };
        }
        Ok(items)
    }
}
