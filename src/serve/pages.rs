//! The HTML side: `GET /` (the dashboards the caller may open and the API),
//! `GET /dashboards/{name}` (one dashboard drawn for the caller's role), and the
//! token form (`GET /login`, `POST /login`, `POST /logout`).
//!
//! `POST /login` takes `token=...` (`application/x-www-form-urlencoded`); a valid
//! token is set as the `northstar_token` cookie (`HttpOnly; SameSite=Strict;
//! Path=/`) and the browser is sent to `/` (303). The cookie carries the token
//! itself, so serve over TLS (a reverse proxy) anywhere but loopback. The page
//! frame is [`super::html`]'s, the login form [`super::login_form`]'s.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::{self, RoleLabel};
use super::html::{document, page};
use super::login_form::login_page;
use super::reports::Reports;
use crate::engine::queries;
use crate::report::access::Access;
use crate::report::dashboard::{self, LinkStyle, PageLinks, Sources, escape};

/// A path segment safe in a link.
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `GET /login`.
pub(super) async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

/// `POST /login`: a valid token becomes the login cookie.
pub(super) async fn login(State(reports): State<Arc<Reports>>, body: Bytes) -> Response {
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if reports.tokens.is_empty() {
        return see_other("/", None);
    }
    match reports.tokens.check(&token) {
        Some(access) => {
            let mut response = see_other("/", Some(auth::set_cookie(&token)));
            response.extensions_mut().insert(RoleLabel(access.label()));
            response
        }
        None => {
            let mut response =
                login_page(StatusCode::UNAUTHORIZED, Some("That token is not valid."));
            response
                .extensions_mut()
                .insert(RoleLabel("invalid".into()));
            response
        }
    }
}

/// `POST /logout`: clears the cookie.
pub(super) async fn logout() -> Response {
    see_other("/login", Some(auth::clear_cookie()))
}

fn see_other(location: &'static str, cookie: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, HeaderValue::from_static(location));
    if let Some(cookie) = cookie {
        headers.insert(SET_COOKIE, cookie);
    }
    response
}

/// `GET /`.
pub(super) async fn index(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
) -> Response {
    let mut body = String::from("<h1>northstar</h1>\n");
    let snapshot = reports.snapshots.current();
    let window = match &snapshot {
        Some(snap) => format!(
            "metrics from {} to {} (exclusive)",
            snap.window.from.date_naive(),
            snap.window.to.date_naive()
        ),
        None => "metrics are being computed".into(),
    };
    body.push_str(&format!(
        "<p class=\"muted\">Role <b>{}</b> · {}</p>\n",
        escape(&access.label()),
        escape(&window)
    ));
    body.push_str("<h2>Dashboards</h2>\n<ul>\n");
    for (name, title) in reports.dashboard_links() {
        body.push_str(&format!(
            "<li><a href=\"/dashboards/{}\">{}</a></li>\n",
            escape(&segment(&name)),
            escape(&title)
        ));
    }
    body.push_str("</ul>\n<h2>API</h2>\n<ul>\n");
    for (href, what) in [
        ("/api/v1/metrics", "metrics.json for your role"),
        ("/metrics", "Prometheus text format"),
        (
            "/api/v1/grafana/dora?grain=month&scope=team&metric=lead_time",
            "Grafana (Infinity) series",
        ),
    ] {
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a> {}</li>\n",
            escape(href),
            escape(href),
            escape(what)
        ));
    }
    body.push_str(
        "</ul>\n<h2>Queries</h2>\n<p class=\"muted\">Add <code>?scope=team</code>, \
                   <code>?format=csv</code> or any <code>$parameter</code>.</p>\n<ul>\n",
    );
    let custom = snapshot
        .iter()
        .flat_map(|s| s.engine.custom_metrics().iter().map(|m| m.id()))
        .collect::<Vec<_>>();
    let ids = queries::metrics().map(|q| q.id.to_string()).chain(custom);
    for id in ids {
        body.push_str(&format!(
            "<li><a href=\"/api/v1/query/{id}\"><code>{id}</code></a></li>\n",
            id = escape(&id)
        ));
    }
    body.push_str("</ul>\n");
    if !reports.tokens.is_empty() {
        body.push_str(
            "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>\n",
        );
    }
    page(StatusCode::OK, document("Dashboards", &body))
}

/// `GET /dashboards/{name}`.
pub(super) async fn dashboard(
    State(reports): State<Arc<Reports>>,
    Extension(access): Extension<Access>,
    Path(name): Path<String>,
) -> Response {
    let Some(spec) = reports.dashboards.iter().find(|d| d.name == name) else {
        let body = format!(
            "<h1>No such dashboard</h1>\n<p>There is no dashboard <code>{}</code>. \
             <a href=\"/\">All dashboards</a></p>",
            escape(&name)
        );
        return page(StatusCode::NOT_FOUND, document("Not found", &body));
    };
    let Some(snap) = reports.snapshots.current() else {
        let body = "<h1>Not ready</h1>\n<p>The metrics are being computed; reload in a moment.</p>";
        let mut response = page(StatusCode::SERVICE_UNAVAILABLE, document("Not ready", body));
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_static("5"),
        );
        return response;
    };
    // Scoped here as well as in `render`: the page never holds what the role may
    // not see.
    let metrics = access.scope_metrics(&snap.metrics, &snap.owners);
    let sources = Sources {
        engine: &snap.engine,
        metrics: &metrics,
        window: snap.window,
        config: &reports.config,
        owners: &snap.owners,
    };
    match dashboard::render(spec, &sources, &access).await {
        Ok(rendered) => {
            let links = PageLinks {
                style: LinkStyle::Live,
                dashboards: reports.dashboard_links(),
            };
            page(StatusCode::OK, rendered.html(&links))
        }
        Err(e) => {
            tracing::warn!(dashboard = %name, error = %e, "Cannot render dashboard.");
            let body = "<h1>Cannot draw this dashboard</h1>\n<p>See the server log.</p>";
            page(StatusCode::INTERNAL_SERVER_ERROR, document("Error", body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_path_segments() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(segment("team costs/x"), "team%20costs%2Fx");
    }
}
