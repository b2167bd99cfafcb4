//! What every HTML reply of the server shares: the security headers and the
//! document around a page's body (title, viewport, the inline style sheet).
//!
//! Pages are self-contained (no scripts, no outside style sheets or images); the
//! Content-Security-Policy says so.

use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::report::dashboard::escape;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;\
                     padding:0 1rem;color:#1d2330}h1{font-size:1.4rem}h2{font-size:1.1rem;\
                     margin-top:1.6rem}li{margin:.25rem 0}code{font-size:.9em}\
                     .muted{color:#667}.error{color:#a00}input,button{font:inherit;padding:.3rem}";

/// An HTML reply with the headers every page carries.
pub(super) fn page(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// A whole HTML document: `body` (already escaped HTML) under `title`.
pub(super) fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · northstar</title><link rel=\"icon\" href=\"data:,\">\
         <style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}
