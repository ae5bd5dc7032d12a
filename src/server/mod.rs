//! The HTTP server and the pipeline every Chime request goes through:
//!
//! read body -> authenticate (SigV4) -> throttle (per key) -> route -> authorise (read-only
//! keys) -> injected faults -> operation -> reply.
//!
//! Beside the Chime API the server answers `GET /metrics` (Prometheus text, see [`metrics`])
//! and the admin API under `/_belfry/` (see [`admin`]).
//!
//! This module holds the listener and the pipeline; [`http`] the header and body limits and
//! the wire shape of responses; what belongs to operating a server sits beside it:
//! [`throttle`] (per-key rate limits), [`faults`] (errors and latency on purpose), [`admin`]
//! and [`metrics`].
//!
//! Every response carries `x-amzn-RequestId`; every error also `x-amzn-ErrorType` and the body
//! `{"Code":..,"Message":..}`, which is how AWS clients pick the typed exception.

pub mod admin;
pub mod faults;
mod http;
pub mod metrics;
pub mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use admin::Admin;
use faults::{FaultRule, Faults};
use http::{check_headers, read_body, read_body_up_to, respond};
use metrics::Metrics;
use throttle::{Admission, Rate, Throttle};

use crate::api::{self, Call, Op, Query, Reply};
use crate::auth::{KeyRing, sigv4};
use crate::console::{self, Console};
use crate::error::ApiError;
use crate::events::BotEvents;
use crate::scim::{self, Scim, ScimRequest, ScimResponse};
use crate::store::{AccessKey, Location, Store};
use crate::token::PageTokens;

/// Request bodies larger than this are refused (the largest modeled request is far smaller).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Requests whose header section (names, values and their separators) is larger than this are
/// refused with a modeled `BadRequestException`.
pub const MAX_HEADER_BYTES: usize = 64 << 10;

/// Requests with more header lines than this are refused with a modeled `BadRequestException`.
pub const MAX_HEADER_COUNT: usize = 128;

/// What the HTTP parser itself accepts at most: request line and headers beyond this size,
/// or more header lines than [`HARD_MAX_HEADER_COUNT`], never reach Belfry and are answered
/// by the HTTP layer with a bare `431 Request Header Fields Too Large` and a closed
/// connection (there is no request yet to answer in the Chime shape).
pub const HARD_MAX_HEADER_BYTES: usize = 256 << 10;

/// See [`HARD_MAX_HEADER_BYTES`].
pub const HARD_MAX_HEADER_COUNT: usize = 256;

/// The default of [`Limits::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`Limits::body_read_timeout`].
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the first byte of a request (or, on a kept-alive connection, from the end of the
    /// previous response) until its header section is complete. A client slower than this is
    /// disconnected; so is a kept-alive connection idle for this long. It also bounds how long
    /// such a client can hold up a graceful shutdown (it has no request in flight).
    pub header_read_timeout: Duration,
    /// From the end of the headers until the whole body is in. A body slower than this is
    /// answered with a `BadRequestException` and the connection is closed.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        }
    }
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    pub location: Location,
    /// A key defined outside the store (from the environment).
    pub root_key: Option<AccessKey>,
}

/// Everything about a server but where it listens and what it stores.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// A key defined outside the store (from the environment).
    pub root_key: Option<AccessKey>,
    /// Each access key's sustained rate; `None` turns throttling off.
    pub rate_limit: Option<Rate>,
    /// How many requests a key may send at once above its rate.
    pub burst: u32,
    /// How long a request over the rate may wait for a token before it is refused with 429.
    pub throttle_max_wait: Duration,
    /// The bearer token of the admin API; `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// The seed of fault rules that name none.
    pub fault_seed: u64,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Whether the web console is served under `/console/`.
    pub console: ConsoleMode,
}

/// When the web console is served: `auto` (the default) serves it when the server listens on
/// a loopback address only, where just this machine's users reach it; `on` everywhere
/// (behind TLS, please); `off` never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsoleMode {
    #[default]
    Auto,
    On,
    Off,
}

impl ConsoleMode {
    /// Whether a server listening on `addr` serves the console.
    pub fn serves_on(self, addr: SocketAddr) -> bool {
        match self {
            ConsoleMode::Auto => addr.ip().is_loopback(),
            ConsoleMode::On => true,
            ConsoleMode::Off => false,
        }
    }
}

impl std::str::FromStr for ConsoleMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ConsoleMode::Auto),
            "on" => Ok(ConsoleMode::On),
            "off" => Ok(ConsoleMode::Off),
            _ => Err(format!("console must be auto, on or off, not {text:?}")),
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            root_key: None,
            rate_limit: None,
            burst: 100,
            throttle_max_wait: Duration::from_secs(1),
            admin_token: None,
            faults: Vec::new(),
            fault_seed: 0,
            shutdown_timeout: Duration::from_secs(30),
            console: ConsoleMode::Auto,
        }
    }
}

/// State shared by every request.
struct App {
    keys: KeyRing,
    store: Store,
    tokens: PageTokens,
    throttle: Option<Throttle>,
    faults: Faults,
    metrics: Metrics,
    events: BotEvents,
    /// The SCIM service provider's state (see [`crate::scim`]).
    scim: Scim,
    admin_token: Option<String>,
    body_read_timeout: Duration,
    /// The web console, when it is on.
    console: Option<Console>,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
    shutdown_timeout: Duration,
    header_read_timeout: Duration,
}

impl Server {
    /// Opens the store (running migrations) and binds the listener.
    pub async fn bind(config: &Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let store = Store::open(&config.location).await?;
        Self::bind_with_store(&config.listen, store, config.root_key.clone()).await
    }

    /// Binds a listener in front of an already open store.
    pub async fn bind_with_store(
        listen: &str,
        store: Store,
        root_key: Option<AccessKey>,
    ) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let options = ServerOptions {
            root_key,
            ..ServerOptions::default()
        };
        Self::bind_with(listen, store, options).await
    }

    /// Binds a listener in front of an already open store, with every option.
    pub async fn bind_with(
        listen: &str,
        store: Store,
        options: ServerOptions,
    ) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let faults = Faults::new(options.fault_seed);
        for rule in options.faults {
            rule.validate(is_operation)
                .map_err(|e| format!("fault rule {rule:?}: {e}"))?;
            faults.add(rule);
        }
        let throttle = options
            .rate_limit
            .map(|rate| Throttle::new(rate, options.burst, options.throttle_max_wait));
        let listener = TcpListener::bind(listen).await?;
        let console = options
            .console
            .serves_on(listener.local_addr()?)
            .then(|| Console::new(store.clone()));
        let app = Arc::new(App {
            console,
            keys: KeyRing::new(store.clone(), options.root_key),
            tokens: PageTokens::new(*store.token_secret()),
            store,
            throttle,
            faults,
            metrics: Metrics::new(),
            events: BotEvents::new(),
            scim: Scim::new(),
            admin_token: options.admin_token.filter(|t| !t.is_empty()),
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        });
        Ok(Server {
            listener,
            app,
            shutdown_timeout: options.shutdown_timeout,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        })
    }

    /// Replaces the default [`Limits`] (10 s for the headers, 30 s for the body).
    pub fn with_limits(mut self, limits: Limits) -> Server {
        self.header_read_timeout = limits.header_read_timeout;
        let app = Arc::get_mut(&mut self.app).expect("a server not yet running owns its state");
        app.body_read_timeout = limits.body_read_timeout;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.app.body_read_timeout,
        }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Whether the web console is served (see [`ConsoleMode`]).
    pub fn serves_console(&self) -> bool {
        self.app.console.is_some()
    }

    /// The store the server serves.
    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Serves until `shutdown` completes; then stops accepting, finishes in-flight requests
    /// (for at most the shutdown timeout), closes the store and returns.
    ///
    /// Each connection is HTTP/1.1 (or 1.0) driven by hyper with a header read timeout
    /// ([`Limits::header_read_timeout`]): a client that stalls before its headers are complete,
    /// or keeps an idle connection open, is disconnected.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let router = Router::new().fallback(handle).with_state(self.app.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_header_size(HARD_MAX_HEADER_BYTES)
            .max_headers(HARD_MAX_HEADER_COUNT);
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, _peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_error(e).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
            });
        }
        // Stop accepting: new connections are refused from here on.
        drop(self.listener);
        // Idle connections close now; each busy one after its in-flight request.
        if tokio::time::timeout(self.shutdown_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout = ?self.shutdown_timeout,
                "requests still in flight at the shutdown timeout are dropped"
            );
        }
        self.app.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }

    /// Serves forever.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }
}

/// An error accepting a connection: a connection that failed before it was accepted is
/// nobody's concern; anything else (such as running out of file descriptors) is logged and
/// the loop pauses a second before accepting again, as hyper's own server did.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Whether `name` is an operation of the Chime model (fault rules name one, or `*`).
pub fn is_operation(name: &str) -> bool {
    Op::from_name(name).is_some()
}

fn now_unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What the log line of a request says beside method, path and status.
struct RequestLog {
    /// The operation the request resolved to; `-` until it does.
    operation: &'static str,
    /// The caller, once authenticated.
    access_key_id: Option<String>,
}

impl RequestLog {
    fn new(operation: &'static str, access_key_id: Option<String>) -> Self {
        RequestLog {
            operation,
            access_key_id,
        }
    }

    /// The one log line of a request, whichever part of the server answered it.
    fn write(&self, method: &str, path: &str, status: u16, latency: Duration, request_id: &str) {
        tracing::info!(
            target: "belfry::request",
            %method,
            %path,
            operation = self.operation,
            status,
            latency_us = latency.as_micros() as u64,
            request_id = %request_id,
            access_key_id = self.access_key_id.as_deref().unwrap_or("-"),
        );
    }
}

/// The one handler: every path, every method.
async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if method == "GET" && path == "/metrics" {
        let mut response = Response::new(Body::from(
            app.metrics
                .render(app.store.pool_stats(), app.events.stats()),
        ));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
    }
    if path.starts_with(scim::PREFIX) {
        let response = serve_scim(&app, request).await;
        let latency = started.elapsed();
        app.metrics.request("scim", response.status, latency);
        RequestLog::new("scim", None).write(&method, &path, response.status, latency, &request_id);
        return scim_response(response, &request_id);
    }
    if let Some(console) = app.console.as_ref().filter(|_| console::owns(&path)) {
        let (response, access_key_id) = serve_console(&app, console, request, &request_id).await;
        RequestLog::new("console", access_key_id).write(
            &method,
            &path,
            response.status().as_u16(),
            started.elapsed(),
            &request_id,
        );
        return response;
    }
    let mut log = RequestLog::new("-", None);
    let result = if let Err(e) = check_headers(request.headers()) {
        Err(e)
    } else if path.starts_with(admin::PREFIX) {
        log.operation = "admin";
        serve_admin(&app, request).await
    } else {
        serve(&app, request, &mut log).await
    };
    let status = match &result {
        Ok(reply) => reply.status,
        Err(e) => e.kind.status(),
    };
    let latency = started.elapsed();
    if log.operation != "admin" {
        app.metrics.request(log.operation, status, latency);
    }
    log.write(&method, &path, status, latency, &request_id);
    respond(result, &request_id)
}

/// A request of the web console: its body read within the server's limits, then the
/// console's own pages (see [`crate::console`]).
async fn serve_console(
    app: &App,
    console: &Console,
    request: Request,
    request_id: &str,
) -> (Response, Option<String>) {
    let (parts, body) = request.into_parts();
    if let Err(e) = check_headers(&parts.headers) {
        return (respond(Err(e), request_id), None);
    }
    let limit = console
        .body_limit(app, &parts.method, parts.uri.path(), &parts.headers)
        .await
        .unwrap_or(MAX_BODY_BYTES);
    match read_body_up_to(&parts.headers, body, app.body_read_timeout, limit).await {
        Ok(body) => {
            console
                .handle(app, &parts.method, &parts.uri, &parts.headers, &body)
                .await
        }
        Err(e) => (respond(Err(e), request_id), None),
    }
}

/// The console's calls of the API go through the same keys, page tokens, throttle and faults
/// as a request of an AWS client.
impl console::ApiHost for App {
    fn keys(&self) -> &KeyRing {
        &self.keys
    }

    fn tokens(&self) -> &PageTokens {
        &self.tokens
    }

    fn admit<'a>(
        &'a self,
        access_key_id: &'a str,
        operation: &'static str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            throttle(self, access_key_id).await?;
            inject_faults(self, operation).await
        })
    }
}

async fn serve_admin(app: &App, request: Request) -> Result<Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body, app.body_read_timeout).await?;
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let admin = Admin {
        store: &app.store,
        faults: &app.faults,
        events: &app.events,
        token: app.admin_token.as_deref(),
    };
    admin
        .handle(
            parts.method.as_str(),
            parts.uri.path(),
            authorization,
            &body,
        )
        .await
}

/// A request under `/scim/`: SCIM authenticates it with its own bearer token (see
/// [`crate::scim`]); the header and body limits are the same as for every request.
async fn serve_scim(app: &App, request: Request) -> ScimResponse {
    let (parts, body) = request.into_parts();
    let body = match check_headers(&parts.headers) {
        Ok(()) => read_body(&parts.headers, body, app.body_read_timeout).await,
        Err(e) => Err(e),
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let e = scim::error::ScimError::new(e.kind.status(), None, e.message.clone());
            return ScimResponse::error(&e);
        }
    };
    let text = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request = ScimRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        host: text(header::HOST),
        authorization: text(header::AUTHORIZATION),
        if_match: text(header::IF_MATCH),
        body: &body,
    };
    // auth -> throttle -> handler, as for the Chime API: each token has its own bucket.
    let grant = match app.scim.authenticate(&app.store, &request).await {
        Ok(grant) => grant,
        Err(e) => return ScimResponse::error(&e),
    };
    let key = format!("scim-token:{}", grant.token_id);
    if let Err(e) = throttle(app, &key).await {
        let mut response =
            ScimResponse::error(&scim::error::ScimError::new(429, None, e.message.clone()));
        response.retry_after = e.retry_after;
        return response;
    }
    app.scim.handle(&app.store, &request, &grant).await
}

/// A SCIM response on the wire.
fn scim_response(scim: ScimResponse, request_id: &str) -> Response {
    let mut response = match scim.body {
        Some(body) => {
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(scim::CONTENT_TYPE),
            );
            response
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = axum::http::StatusCode::from_u16(scim.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    let retry_after = scim.retry_after.map(|secs| secs.to_string());
    for (name, value) in [
        (header::ETAG, scim.etag),
        (header::LOCATION, scim.location),
        (header::RETRY_AFTER, retry_after),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// Holds a request for its access key's next token, or refuses it with 429.
async fn throttle(app: &App, access_key_id: &str) -> Result<(), ApiError> {
    let Some(throttle) = &app.throttle else {
        return Ok(());
    };
    match throttle.admit(access_key_id).await {
        Admission::Now => Ok(()),
        Admission::AfterWait(_) => {
            app.metrics.throttle_delayed();
            Ok(())
        }
        Admission::Refused(wait) => {
            app.metrics.throttled();
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Err(ApiError::throttled(
                format!(
                    "The access key {access_key_id} exceeded its request rate limit; retry in {secs} s"
                ),
                secs.max(1),
            ))
        }
    }
}

/// Applies the fault rules matching `operation`: their latency first, then their error.
async fn inject_faults(app: &App, operation: &'static str) -> Result<(), ApiError> {
    let injection = app.faults.draw(operation);
    if let Some(latency) = injection.latency {
        app.metrics.fault(operation, "latency");
        tokio::time::sleep(latency).await;
    }
    match injection.error {
        Some(error) => {
            app.metrics.fault(operation, error.kind.code());
            Err(error)
        }
        None => Ok(()),
    }
}

async fn serve(app: &App, request: Request, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body, app.body_read_timeout).await?;
    // Header values as text: borrowed when they are UTF-8 (all but a hostile few).
    let headers: Vec<(&str, std::borrow::Cow<'_, str>)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes())))
        .collect();
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    let method = parts.method.as_str();
    let raw_path = parts.uri.path();
    let raw_query = parts.uri.query();
    let signed = sigv4::Request {
        method,
        raw_path,
        raw_query,
        headers: &header_refs,
        body: &body,
    };
    let principal = app.keys.authenticate(&signed, now_unix_secs()).await?;
    log.access_key_id = Some(principal.access_key_id.clone());
    throttle(app, &principal.access_key_id).await?;
    let query = Query::parse(raw_query)?;
    let route = api::route(method, raw_path, &query)?;
    log.operation = route.op.name();
    api::input::check_read_only(&principal, route.op)?;
    inject_faults(app, route.op.name()).await?;
    let call = Call {
        store: &app.store,
        tokens: &app.tokens,
        principal: &principal,
        route: &route,
        query: &query,
        body: &body,
    };
    api::dispatch(&call).await
}

#[cfg(test)]
mod tests {
    use super::ConsoleMode;

    #[test]
    fn the_console_is_on_by_default_on_loopback_only() {
        let loopback = "127.0.0.1:8575".parse().unwrap();
        let loopback6 = "[::1]:8575".parse().unwrap();
        let everywhere = "0.0.0.0:8575".parse().unwrap();
        assert!(ConsoleMode::Auto.serves_on(loopback));
        assert!(ConsoleMode::Auto.serves_on(loopback6));
        assert!(!ConsoleMode::Auto.serves_on(everywhere));
        assert!(ConsoleMode::On.serves_on(everywhere));
        assert!(!ConsoleMode::Off.serves_on(loopback));
        assert_eq!("AUTO".parse::<ConsoleMode>(), Ok(ConsoleMode::Auto));
        assert!("maybe".parse::<ConsoleMode>().is_err());
    }
}
