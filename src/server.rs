//! The HTTP server and the pipeline every request goes through:
//!
//! read body -> authenticate (SigV4) -> route -> authorise (read-only keys) -> operation -> reply.
//!
//! Every response carries `x-amzn-RequestId`; every error also `x-amzn-ErrorType` and the body
//! `{"Code":..,"Message":..}`, which is how AWS clients pick the typed exception.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::api::{self, Call, Query, Reply};
use crate::auth::{KeyRing, sigv4};
use crate::error::ApiError;
use crate::store::{AccessKey, Location, Store};
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

/// State shared by every request.
struct App {
    keys: KeyRing,
    store: Store,
    tokens: PageTokens,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
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
        let listener = TcpListener::bind(listen).await?;
        let app = Arc::new(App {
            keys: KeyRing::new(store.clone(), root_key),
            tokens: PageTokens::new(*store.token_secret()),
            store,
        });
        Ok(Server { listener, app })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The store the server serves.
    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and returns.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let router = Router::new().fallback(handle).with_state(self.app.clone());
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await?;
        self.app.store.close().await;
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

/// The one handler: every path, every method.
async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let mut operation = "-";
    let result = serve(&app, request, &mut operation).await;
    let status = match &result {
        Ok(reply) => reply.status,
        Err(e) => e.kind.status(),
    };
    tracing::info!(
        target: "belfry::request",
        %method,
        %path,
        operation,
        status,
        latency_us = started.elapsed().as_micros() as u64,
        request_id = %request_id,
    );
    respond(result, &request_id)
}

async fn serve(
    app: &App,
    request: Request,
    operation: &mut &'static str,
) -> Result<Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::bad_request(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes or could not be read"
        ))
    })?;
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
    let query = Query::parse(raw_query)?;
    let route = api::route(method, raw_path, &query)?;
    *operation = route.operation;
    if principal.read_only && !api::is_read_only(method) {
        return Err(ApiError::forbidden(format!(
            "The access key {} is read-only and may not call {}",
            principal.access_key_id, route.operation
        )));
    }
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
    let (status, body, error_type) = match result {
        Ok(reply) => (reply.status, reply.body, None),
        Err(e) => (e.kind.status(), e.body(), Some(e.kind.shape())),
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
    response
}
