//! Operating Belfry, through aws-sdk-chime: the rate limiter's 429, each injected fault as the
//! SDK's typed error, repeatable fault sequences, and a shutdown that lets a slow request finish.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_chime::operation::list_users::ListUsersError;
use belfry::server::faults::{FaultError, FaultRule};
use belfry::server::{Server, ServerOptions};
use belfry::store::AccessKey;
use common::*;

fn rule(operation: &str, probability: f64, error: Option<FaultError>) -> FaultRule {
    FaultRule {
        operation: operation.into(),
        probability,
        error,
        latency_ms: None,
        seed: None,
    }
}

#[tokio::test]
async fn over_the_limit_is_throttled_client_exception_with_retry_after() {
    let server = TestServer::start_with(ServerOptions {
        rate_limit: Some("1/h".parse().unwrap()),
        burst: 2,
        throttle_max_wait: Duration::ZERO,
        ..ServerOptions::default()
    })
    .await;
    let account = server.account("Limited").await;
    let client = server.client();
    for _ in 0..2 {
        client
            .list_users()
            .account_id(&account)
            .send()
            .await
            .expect("within the burst");
    }
    let result = client.list_users().account_id(&account).send().await;
    let retry_after = result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .and_then(|r| r.headers().get("retry-after"))
        .map(str::to_string);
    let failure = service_error(result);
    failure.assert_wire(429, "ThrottledClientException", "Throttled");
    assert!(
        failure.err.is_throttled_client_exception(),
        "{:?}",
        failure.err
    );
    let secs: u64 = retry_after
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=3600).contains(&secs), "Retry-After {secs}");

    // Another key has its own bucket.
    let other = server.new_key(ROOT_AWS_ACCOUNT, false).await;
    server
        .client_for(&other)
        .list_accounts()
        .send()
        .await
        .expect("another key is not throttled");
}

#[tokio::test]
async fn forged_keys_do_not_drain_a_real_keys_bucket() {
    let server = TestServer::start_with(ServerOptions {
        rate_limit: Some("1/h".parse().unwrap()),
        burst: 2,
        throttle_max_wait: Duration::ZERO,
        ..ServerOptions::default()
    })
    .await;
    // The root key's id with a wrong secret: the signature fails before the limiter.
    let forged = AccessKey {
        secret_access_key: "not-the-secret".into(),
        ..server.root.clone()
    };
    for _ in 0..5 {
        let failure = service_error(server.client_for(&forged).list_accounts().send().await);
        failure.assert_wire(401, "UnauthorizedClientException", "Unauthorized");
    }
    let client = server.client();
    for _ in 0..2 {
        client
            .list_accounts()
            .send()
            .await
            .expect("the burst is intact");
    }
    let failure = service_error(client.list_accounts().send().await);
    failure.assert_wire(429, "ThrottledClientException", "Throttled");
}

#[tokio::test]
async fn a_short_wait_is_absorbed_instead_of_refused() {
    // 200/s with a burst of 1: every request after the first waits ~5 ms for its token,
    // within the default max wait, so none is refused.
    let server = TestServer::start_with(ServerOptions {
        rate_limit: Some("200/s".parse().unwrap()),
        burst: 1,
        ..ServerOptions::default()
    })
    .await;
    let client = server.client();
    let started = Instant::now();
    for _ in 0..40 {
        client.list_accounts().send().await.expect("never refused");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "40 requests at 200/s took {:?}: the limit was not applied",
        started.elapsed()
    );
}

/// Each error a fault rule can raise, with the typed error the SDK must pick for it.
#[tokio::test]
async fn each_injected_fault_is_the_sdks_typed_error() {
    type Check = fn(&ListUsersError) -> bool;
    let cases: [(FaultError, u16, &str, &str, Check); 7] = [
        (
            FaultError::Throttled,
            429,
            "ThrottledClientException",
            "Throttled",
            ListUsersError::is_throttled_client_exception,
        ),
        (
            FaultError::ServiceUnavailable,
            503,
            "ServiceUnavailableException",
            "ServiceUnavailable",
            ListUsersError::is_service_unavailable_exception,
        ),
        (
            FaultError::ServiceFailure,
            500,
            "ServiceFailureException",
            "ServiceFailure",
            ListUsersError::is_service_failure_exception,
        ),
        (
            FaultError::Unauthorized,
            401,
            "UnauthorizedClientException",
            "Unauthorized",
            ListUsersError::is_unauthorized_client_exception,
        ),
        (
            FaultError::Forbidden,
            403,
            "ForbiddenException",
            "Forbidden",
            ListUsersError::is_forbidden_exception,
        ),
        (
            FaultError::NotFound,
            404,
            "NotFoundException",
            "NotFound",
            ListUsersError::is_not_found_exception,
        ),
        (
            FaultError::BadRequest,
            400,
            "BadRequestException",
            "BadRequest",
            ListUsersError::is_bad_request_exception,
        ),
    ];
    for (error, status, shape, code, is_typed) in cases {
        let server = TestServer::start_with(ServerOptions {
            faults: vec![rule("ListUsers", 1.0, Some(error))],
            ..ServerOptions::default()
        })
        .await;
        let account = server.account("Faulty").await;
        let client = server.client();
        let failure = service_error(client.list_users().account_id(&account).send().await);
        failure.assert_wire(status, shape, code);
        assert!(is_typed(&failure.err), "{error:?}: {:?}", failure.err);
        assert!(
            failure.message().contains("Injected fault"),
            "{}",
            failure.message()
        );
        // The rule names ListUsers: other operations are served.
        client
            .get_account()
            .account_id(&account)
            .send()
            .await
            .expect("GetAccount is not affected");
    }
}

/// The hit/miss sequence of 100 ListUsers calls through a server with `rules`.
async fn fault_sequence(rules: Vec<FaultRule>, fault_seed: u64) -> Vec<bool> {
    let server = TestServer::start_with(ServerOptions {
        faults: rules,
        fault_seed,
        ..ServerOptions::default()
    })
    .await;
    let account = server.account("Seeded").await;
    let client = server.client();
    let mut hits = Vec::new();
    for _ in 0..100 {
        match client.list_users().account_id(&account).send().await {
            Ok(_) => hits.push(false),
            Err(e) => {
                let err = e.into_service_error();
                assert!(err.is_throttled_client_exception(), "{err:?}");
                hits.push(true);
            }
        }
    }
    hits
}

#[tokio::test]
async fn a_seeded_rule_gives_the_same_sequence_twice() {
    let seeded = |seed| FaultRule {
        seed: Some(seed),
        ..rule("ListUsers", 0.3, Some(FaultError::Throttled))
    };
    let first = fault_sequence(vec![seeded(42)], 0).await;
    let second = fault_sequence(vec![seeded(42)], 0).await;
    assert_eq!(first, second);
    let hits = first.iter().filter(|h| **h).count();
    assert!((10..=50).contains(&hits), "{hits} of 100 at p=0.3");
    // The server's --fault-seed stands in for a rule without one.
    let by_server_seed = fault_sequence(
        vec![rule("ListUsers", 0.3, Some(FaultError::Throttled))],
        42,
    )
    .await;
    assert_eq!(first, by_server_seed);
    let other_seed = fault_sequence(vec![seeded(43)], 0).await;
    assert_ne!(first, other_seed, "another seed, another sequence");
}

#[tokio::test]
async fn shutdown_lets_a_slow_request_finish() {
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let account = store
        .create_account(ROOT_AWS_ACCOUNT, "Slow")
        .await
        .unwrap();
    let server = Server::bind_with(
        "127.0.0.1:0",
        store,
        ServerOptions {
            root_key: Some(root.clone()),
            faults: vec![FaultRule {
                latency_ms: Some(800),
                ..rule("ListUsers", 1.0, None)
            }],
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let endpoint = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let client = client_for_endpoint(&endpoint, &root);
    let request = tokio::spawn(async move {
        client
            .list_users()
            .account_id(&account.account_id)
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    stop.send(()).unwrap();
    let reply = request
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert!(reply.users().is_empty());
    running
        .await
        .unwrap()
        .expect("the server stops cleanly after it");
    assert!(
        asked.elapsed() >= Duration::from_millis(400),
        "it waited for the request"
    );
    // Stopped: no new connection is accepted.
    assert!(
        tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_gives_up_on_requests_past_its_timeout() {
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let server = Server::bind_with(
        "127.0.0.1:0",
        store,
        ServerOptions {
            root_key: Some(root.clone()),
            faults: vec![FaultRule {
                latency_ms: Some(30_000),
                ..rule("ListAccounts", 1.0, None)
            }],
            shutdown_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let endpoint = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let client = client_for_endpoint(&endpoint, &root);
    let request = tokio::spawn(async move { client.list_accounts().send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    stop.send(()).unwrap();
    running.await.unwrap().expect("the server stops");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped after {:?}",
        asked.elapsed()
    );
    request.abort();
}
