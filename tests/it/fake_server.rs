//! The plumbing every fake vendor API in these tests shares: an axum server on an
//! ephemeral loopback port, a request log, one-shot faults, a stall that holds a
//! request until the client is killed, token checks, and ETag / 304 answers. A
//! vendor module (fake_github, fake_gitlab, …) supplies only its routes, its auth
//! rule and its error bodies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value as Json;

/// A fault to inject into the next request whose path and query contain a needle.
#[derive(Clone)]
pub enum Fault {
    /// Answer this instead (built when the request arrives, so reset times are
    /// relative to it).
    Answer(Arc<dyn Fn() -> Response + Send + Sync>),
    /// Answer after this long.
    Slow(Duration),
    /// Send half the body, then break the connection.
    Truncate,
}

impl Fault {
    /// An answer with a status, headers and a body.
    pub fn answer(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: &'static str,
    ) -> Fault {
        let headers = headers.to_vec();
        Fault::Answer(Arc::new(move || {
            let mut b = Response::builder().status(status);
            for (k, v) in &headers {
                b = b.header(*k, *v);
            }
            b.body(Body::from(body)).expect("response")
        }))
    }

    /// 502 Bad Gateway with an HTML body, as a proxy sends it.
    pub fn bad_gateway() -> Fault {
        Fault::answer(
            502,
            &[("content-type", "text/html")],
            "<html>502 Bad Gateway</html>",
        )
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Path and query, exactly as sent.
    pub target: String,
    /// Whether it carried `If-None-Match`.
    pub conditional: bool,
    /// The status answered.
    pub status: u16,
    /// Whether the user agent named northstar.
    pub user_agent_ok: bool,
    /// When it arrived.
    pub at: Instant,
}

/// How long before `later` the request `earlier` arrived.
pub fn gap(earlier: &Logged, later: &Logged) -> Duration {
    later.at.duration_since(earlier.at)
}

/// A routed answer: status, JSON body and extra headers (paging, rate limits).
pub struct Routed {
    /// Status.
    pub status: StatusCode,
    /// Body.
    pub body: Json,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Routed {
    /// 200 with a body.
    pub fn ok(body: Json) -> Routed {
        Routed {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }

    /// An error status with a body.
    pub fn error(status: StatusCode, body: Json) -> Routed {
        Routed {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Routed {
        self.headers.push((name, value.into()));
        self
    }
}

/// What a vendor fake supplies.
pub struct Vendor<W> {
    /// Whether the request carries the right credentials for `token`.
    pub authorized: fn(&HeaderMap, &str) -> bool,
    /// The vendor's 401 body.
    pub unauthorized: Json,
    /// The vendor's 404 body.
    pub not_found: Json,
    /// The routes: `None` is a 404.
    pub route: fn(&W, &str, &Uri) -> Option<Routed>,
    /// Headers every 200 carries (e.g. a rate-limit budget).
    pub ok_headers: &'static [(&'static str, &'static str)],
}

/// Server state shared with the test.
pub struct Shared<W> {
    /// The expected secret.
    pub token: String,
    /// The upstream data, mutable mid-test.
    pub world: Mutex<W>,
    /// One-shot faults by needle.
    pub faults: Mutex<Vec<(String, Fault)>>,
    /// Every request.
    pub log: Mutex<Vec<Logged>>,
    /// Hold the request with this 1-based number for ten minutes.
    pub stall_at: Mutex<Option<usize>>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    vendor: Vendor<W>,
}

impl<W> Shared<W> {
    /// Requests seen so far.
    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().expect("log").clone()
    }

    /// Adds a one-shot fault.
    pub fn fault(&self, needle: &str, fault: Fault) {
        self.faults
            .lock()
            .expect("faults")
            .push((needle.to_string(), fault));
    }
}

/// A running fake.
pub struct Fake<W> {
    /// State shared with the test.
    pub shared: Arc<Shared<W>>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _task: tokio::task::JoinHandle<()>,
}

impl<W: Send + 'static> Fake<W> {
    /// Starts a fake on an ephemeral loopback port.
    pub async fn start(token: &str, world: W, vendor: Vendor<W>) -> Fake<W> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            token: token.to_string(),
            world: Mutex::new(world),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            stall_at: Mutex::new(None),
            base: url.clone(),
            vendor,
        });
        let app = Router::new()
            .fallback(handle::<W>)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake {
            shared,
            url,
            _task: task,
        }
    }
}

fn json_response(status: StatusCode, body: &Json) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

async fn handle<W: Send + 'static>(
    State(shared): State<Arc<Shared<W>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let user_agent_ok = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("northstar/"));
    let number = {
        let mut log = shared.log.lock().expect("log");
        log.push(Logged {
            target: target.clone(),
            conditional: headers.contains_key("if-none-match"),
            status: 0,
            user_agent_ok,
            at: Instant::now(),
        });
        log.len()
    };
    if *shared.stall_at.lock().expect("stall") == Some(number) {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    let response = answer(&shared, &method, &uri, &headers, &target).await;
    if let Some(entry) = shared.log.lock().expect("log").get_mut(number - 1) {
        entry.status = response.status().as_u16();
    }
    response
}

async fn answer<W>(
    shared: &Shared<W>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    target: &str,
) -> Response {
    let vendor = &shared.vendor;
    if !(vendor.authorized)(headers, &shared.token) {
        return json_response(StatusCode::UNAUTHORIZED, &vendor.unauthorized);
    }
    if method != Method::GET {
        return json_response(StatusCode::METHOD_NOT_ALLOWED, &vendor.not_found);
    }
    let fault = {
        let mut faults = shared.faults.lock().expect("faults");
        faults
            .iter()
            .position(|(needle, _)| target.contains(needle.as_str()))
            .map(|i| faults.remove(i).1)
    };
    let routed = {
        let world = shared.world.lock().expect("world");
        (vendor.route)(&world, &shared.base, uri)
    };
    let Some(routed) = routed else {
        return json_response(StatusCode::NOT_FOUND, &vendor.not_found);
    };
    if routed.status != StatusCode::OK {
        return json_response(routed.status, &routed.body);
    }
    let text = routed.body.to_string();
    let etag = format!("\"{}\"", northstar::lake::short_sha256(text.as_bytes(), 16));
    match fault {
        Some(Fault::Answer(make)) => return make(),
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Truncate) => {
            let half = text.as_bytes()[..text.len() / 2].to_vec();
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::other("connection reset by fake")),
            ];
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .expect("response");
        }
        None => {}
    }
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        // A 304 carries no paging headers (RFC 9110 lists the ones it repeats; Link
        // is not among them): the client must take the next page from its cache.
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", &etag)
            .body(Body::empty())
            .expect("response");
    }
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("etag", &etag);
    for (k, v) in vendor.ok_headers {
        builder = builder.header(*k, *v);
    }
    for (k, v) in routed.headers {
        builder = builder.header(k, v);
    }
    builder.body(Body::from(text)).expect("response")
}

/// A query parameter of the request.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// The request's query without `page`, for building page links.
pub fn query_without_page(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A fixture file's JSON; a list yields its first item (the template to clone).
pub fn template(file: &str) -> Json {
    let text = std::fs::read_to_string(crate::support::fixture(file)).expect("fixture");
    let value: Json = serde_json::from_str(&text).expect("fixture json");
    match value {
        Json::Array(mut items) => items.remove(0),
        other => other,
    }
}
