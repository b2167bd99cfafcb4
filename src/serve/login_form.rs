//! The login form: the page `GET /login` shows, and the reply a page route gives a
//! caller without a valid token.
//!
//! Its own module because both draw it: the page handlers (`pages`) and the
//! authentication middleware (`auth`), which the handlers sit behind.

use axum::http::StatusCode;
use axum::response::Response;

use super::html::{document, page};
use crate::report::dashboard::escape;

/// The login form with `status` (200 for `GET /login`, 401 for a page that needs
/// a token) and an optional message.
pub(super) fn login_page(status: StatusCode, message: Option<&str>) -> Response {
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<h1>northstar</h1>\n{message}<p>Enter the access token you were given.</p>\n\
         <form method=\"post\" action=\"/login\">\
         <label>Token <input type=\"password\" name=\"token\" autocomplete=\"current-password\" \
         required autofocus></label> <button type=\"submit\">Sign in</button></form>"
    );
    page(status, document("Sign in", &body))
}
