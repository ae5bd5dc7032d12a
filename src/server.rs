//! The HTTP server and the pipeline every Chime request goes through:
//!
//! read body -> authenticate (SigV4) -> throttle (per key) -> route -> authorise (read-only
//! keys) -> injected faults -> operation -> reply.
//!
//! Beside the Chime API the server answers `GET /metrics` (Prometheus text, see
//! [`crate::metrics`]) and the admin API under `/_belfry/` (see [`crate::admin`]).
//!
//! Every response carries `x-amzn-RequestId`; every error also `x-amzn-ErrorType` and the body
//! `{"Code":..,"Message":..}`, which is how AWS clients pick the typed exception.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::admin::{self, Admin};
use crate::api::{self, Call, Query, Reply};
use crate::auth::{KeyRing, sigv4};
use crate::error::ApiError;
use crate::faults::{FaultRule, Faults};
use crate::metrics::Metrics;
use crate::store::{AccessKey, Location, Store};
use crate::throttle::{Admission, Rate, Throttle};
use crate::token::PageTokens;

/// Request bodies larger than this are refused (the largest modeled request is far smaller).
pub const MAX_BODY_BYTES: usize = 1 << 20;

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
    admin_token: Option<String>,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
    shutdown_timeout: Duration,
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
            rule.validate(api::is_operation)
                .map_err(|e| format!("fault rule {rule:?}: {e}"))?;
            faults.add(rule);
        }
        let throttle = options
            .rate_limit
            .map(|rate| Throttle::new(rate, options.burst, options.throttle_max_wait));
        let listener = TcpListener::bind(listen).await?;
        let app = Arc::new(App {
            keys: KeyRing::new(store.clone(), options.root_key),
            tokens: PageTokens::new(*store.token_secret()),
            store,
            throttle,
            faults,
            metrics: Metrics::new(),
            admin_token: options.admin_token.filter(|t| !t.is_empty()),
        });
        Ok(Server {
            listener,
            app,
            shutdown_timeout: options.shutdown_timeout,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The store the server serves.
    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Serves until `shutdown` completes; then stops accepting, finishes in-flight requests
    /// (for at most the shutdown timeout), closes the store and returns.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let router = Router::new().fallback(handle).with_state(self.app.clone());
        let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
        let serving = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping_tx.send(());
        });
        let serving = serving.into_future();
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result?,
            Ok(()) = stopping => {
                match tokio::time::timeout(self.shutdown_timeout, &mut serving).await {
                    Ok(result) => result?,
                    Err(_) => tracing::warn!(
                        timeout = ?self.shutdown_timeout,
                        "requests still in flight at the shutdown timeout are dropped"
                    ),
                }
            }
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

/// The one handler: every path, every method.
async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if method == "GET" && path == "/metrics" {
        let mut response = Response::new(Body::from(app.metrics.render(app.store.pool_stats())));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
    }
    let mut log = RequestLog {
        operation: "-",
        access_key_id: None,
    };
    let result = if path.starts_with(admin::PREFIX) {
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
    tracing::info!(
        target: "belfry::request",
        %method,
        %path,
        operation = log.operation,
        status,
        latency_us = latency.as_micros() as u64,
        request_id = %request_id,
        access_key_id = log.access_key_id.as_deref().unwrap_or("-"),
    );
    respond(result, &request_id)
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::bad_request(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes or could not be read"
        ))
    })
}

async fn serve_admin(app: &App, request: Request) -> Result<Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await?;
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let admin = Admin {
        store: &app.store,
        faults: &app.faults,
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
    let body = read_body(body).await?;
    let headers: Vec<(&str, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
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
    log.operation = route.operation;
    if principal.read_only && !api::is_read_only(method) {
        return Err(ApiError::forbidden(format!(
            "The access key {} is read-only and may not call {}",
            principal.access_key_id, route.operation
        )));
    }
    inject_faults(app, route.operation).await?;
    let call = Call {
        store: &app.store,
        tokens: &app.tokens,
        principal: &principal,
        labels: &route.labels,
        query: &query,
        body: &body,
    };
    api::dispatch(&route, &call).await
}

fn respond(result: Result<Reply, ApiError>, request_id: &str) -> Response {
    let (status, body, error_type, retry_after) = match result {
        Ok(reply) => (reply.status, reply.body, None, None),
        Err(e) => (
            e.kind.status(),
            e.body(),
            Some(e.kind.shape()),
            e.retry_after,
        ),
    };
    let has_body = !body.is_empty();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(shape) = error_type {
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(shape));
    }
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
