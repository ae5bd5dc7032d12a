//! The raw-HTTP baseline of `bench/run`: a minimal hyper 1.x server that answers every request
//! from memory with response bytes Belfry returned earlier, so that wrk measures what HTTP,
//! loopback and the machine cost without any Belfry work (no SigV4, no store, no JSON).
//!
//! ```sh
//! cargo run --release --example raw_baseline -- 127.0.0.1:0 bench/.work/responses
//! ```
//!
//! Every `*.jsonl` file of the directory holds captured responses, one JSON object a line:
//! `{"method":"GET","target":"/accounts/..?max-results=100","status":200,"body":"{...}"}`.
//! A request is answered by its method and target (path and query, exactly as sent), with
//! `content-type`, `content-length` and a fresh `x-amzn-RequestId` as Belfry sends them; an
//! unknown one gets 404. Prints `baseline listening on http://ADDR` once ready.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Responses by "METHOD target".
type Responses = HashMap<String, (StatusCode, Bytes)>;

fn load(dir: &str) -> Result<Responses, Box<dyn std::error::Error>> {
    let mut responses = Responses::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let key = format!(
                "{} {}",
                v["method"].as_str().unwrap(),
                v["target"].as_str().unwrap()
            );
            let status = StatusCode::from_u16(v["status"].as_u64().unwrap() as u16)?;
            let body = Bytes::from(v["body"].as_str().unwrap().to_owned());
            responses.insert(key, (status, body));
        }
    }
    Ok(responses)
}

async fn answer(
    responses: Arc<Responses>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let key = format!("{} {}", req.method(), target);
    let (status, body) = match responses.get(&key) {
        Some((status, body)) => (*status, body.clone()),
        None => (
            StatusCode::NOT_FOUND,
            Bytes::from_static(b"{\"Code\":\"NotFound\"}"),
        ),
    };
    // A request body (InviteUsers) is ignored: hyper drains it before the next request.
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-RequestId", uuid::Uuid::new_v4().to_string())
        .body(Full::new(body))
        .unwrap();
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: raw_baseline LISTEN_ADDR RESPONSES_DIR");
        std::process::exit(2);
    }
    let responses = Arc::new(load(&args[2])?);
    let listener = TcpListener::bind(&args[1]).await?;
    println!(
        "baseline listening on http://{} ({} responses)",
        listener.local_addr()?,
        responses.len()
    );
    loop {
        let (stream, _) = listener.accept().await?;
        // No TCP_NODELAY: Belfry (axum::serve on a plain TcpListener) does not set it either.
        let responses = responses.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(responses.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
