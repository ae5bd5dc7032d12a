//! Attacks on authentication, over HTTP against a running server: replaying a signed request
//! with a part changed, another key's secret, another service's scope, stale and future
//! times, expired presigned URLs. Each is refused with 401 `UnauthorizedClientException`
//! and a message naming the cause, never the signature the server expected, the canonical
//! request or the string to sign; each refused write changes nothing.
//!
//! Requests are signed by the AWS SDKs' own signer (`aws-sigv4`, tests/wire) and changed
//! afterwards on the wire. The signature comparison itself is constant-time
//! (`subtle::ConstantTimeEq` in `src/auth/sigv4.rs`); that is checked by reading the code,
//! not by timing.

mod common;
mod wire;

use std::time::{Duration, SystemTime};

use belfry::store::AccessKey;
use common::*;
use wire::{Reply, Signing, Wire};

fn addr(server: &TestServer) -> String {
    server.endpoint.trim_start_matches("http://").to_string()
}

const MISMATCH: &str = "The request signature does not match the signature computed by the server";

/// Asserts a 401 in the Chime shape whose message contains `cause` and reveals nothing the
/// server computed: not `expected` (the signature of the request as received, made here
/// with the right secret), nor any multi-line text (a canonical request or string to sign).
fn assert_refused(reply: &Reply, cause: &str, expected: Option<&str>) {
    let message = reply.assert_unauthorized();
    assert!(
        message.contains(cause),
        "message {message:?} should name {cause:?}"
    );
    assert!(!message.contains('\n'), "{message:?}");
    assert!(!message.contains("AWS4-HMAC-SHA256\n"), "{message:?}");
    if let Some(expected) = expected {
        assert!(
            !message.contains(expected),
            "{message:?} reveals the expected signature"
        );
    }
    let raw = String::from_utf8_lossy(&reply.raw);
    assert!(
        !raw.to_ascii_lowercase().contains("canonical"),
        "no canonical request in the response: {raw}"
    );
}

/// The signature the server computes for `request` as it stands: what it must never reveal.
fn expected_signature(server: &TestServer, request: &Wire, how: &Signing) -> String {
    let mut unsigned = request
        .clone()
        .remove_header("authorization")
        .remove_header("x-amz-date");
    if how.presign.is_some() {
        let target = String::from_utf8(unsigned.target.clone()).unwrap();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-"))
            .collect();
        unsigned.target = if kept.is_empty() {
            path.into()
        } else {
            format!("{path}?{}", kept.join("&")).into()
        };
    }
    unsigned.sign(&server.root, how).signature()
}

async fn account_count(server: &TestServer) -> usize {
    server
        .client()
        .list_accounts()
        .send()
        .await
        .unwrap()
        .accounts()
        .len()
}

#[tokio::test]
async fn replays_with_a_changed_path_query_body_or_header_are_refused() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let first = server.account("First").await;
    let second = server.account("Second").await;
    let how = Signing::default();

    // The untouched requests pass.
    let get = Wire::signed(
        &host,
        &server.root,
        "GET",
        &format!("/accounts/{first}"),
        "",
    );
    assert_eq!(get.send(&host).await.status, 200);
    let create = Wire::new(&host, "POST", "/accounts", r#"{"Name":"Signed"}"#)
        .set_header("x-amz-meta", "signed value")
        .sign(&server.root, &how);
    assert_eq!(
        create.send(&host).await.status,
        201,
        "a fresh signed request"
    );
    let before = account_count(&server).await;

    // Another path: another account's id.
    let mut replay = get.clone();
    replay.target = format!("/accounts/{second}").into_bytes();
    let expected = expected_signature(&server, &replay, &how);
    assert_refused(&replay.send(&host).await, MISMATCH, Some(&expected));

    // Another query.
    let list = Wire::signed(&host, &server.root, "GET", "/accounts?max-results=1", "");
    assert_eq!(list.send(&host).await.status, 200);
    for target in [
        "/accounts?max-results=2",
        "/accounts",
        "/accounts?max-results=1&name=x",
    ] {
        let mut replay = list.clone();
        replay.target = target.as_bytes().to_vec();
        let expected = expected_signature(&server, &replay, &how);
        assert_refused(&replay.send(&host).await, MISMATCH, Some(&expected));
    }

    // Another body (same length, so Content-Length still fits).
    let mut replay = create.clone();
    replay.body = br#"{"Name":"Forged"}"#.to_vec();
    let expected = expected_signature(&server, &replay, &how);
    assert_refused(&replay.send(&host).await, MISMATCH, Some(&expected));

    // Another value of a signed header; a signed header left out.
    let replay = create.clone().set_header("x-amz-meta", "forged value");
    let expected = expected_signature(&server, &replay, &how);
    assert_refused(&replay.send(&host).await, MISMATCH, Some(&expected));
    let replay = create.clone().remove_header("x-amz-meta");
    assert_refused(
        &replay.send(&host).await,
        "the signed header 'x-amz-meta' is not in the request",
        None,
    );
    // Another method.
    let mut replay = get.clone();
    replay.method = "DELETE".into();
    let expected = expected_signature(&server, &replay, &how);
    assert_refused(&replay.send(&host).await, MISMATCH, Some(&expected));

    // An unsigned header may be added: SigV4 signs only the headers it lists.
    let extra = get.clone().add_header("x-unsigned", "anything");
    assert_eq!(extra.send(&host).await.status, 200);

    assert_eq!(
        account_count(&server).await,
        before,
        "no refused write took effect"
    );
}

#[tokio::test]
async fn a_changed_body_is_refused_by_its_content_hash_too() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let how = Signing {
        content_sha256: true,
        ..Signing::default()
    };
    let create =
        Wire::new(&host, "POST", "/accounts", r#"{"Name":"Hashed"}"#).sign(&server.root, &how);
    assert!(create.header("x-amz-content-sha256").is_some());
    let mut replay = create.clone();
    replay.body = br#"{"Name":"Hacked"}"#.to_vec();
    assert_refused(
        &replay.send(&host).await,
        "x-amz-content-sha256 does not match the request body",
        None,
    );
    assert_eq!(create.send(&host).await.status, 201);
    assert_eq!(account_count(&server).await, 1);
}

#[tokio::test]
async fn another_keys_secret_or_an_unknown_key_is_refused() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let other = server.new_key(ROOT_AWS_ACCOUNT, false).await;
    // The root key's id, signed with the other key's secret.
    let forged = AccessKey {
        secret_access_key: other.secret_access_key.clone(),
        ..server.root.clone()
    };
    let request = Wire::signed(&host, &forged, "GET", "/accounts", "");
    let expected = expected_signature(&server, &request, &Signing::default());
    assert_refused(&request.send(&host).await, MISMATCH, Some(&expected));
    // The other key signs for itself fine.
    assert_eq!(
        Wire::signed(&host, &other, "GET", "/accounts", "")
            .send(&host)
            .await
            .status,
        200
    );
    // A key the server does not know.
    let unknown = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let request = Wire::signed(&host, &unknown, "GET", "/accounts", "");
    assert_refused(&request.send(&host).await, "unknown access key", None);
}

#[tokio::test]
async fn a_scope_for_another_service_is_refused() {
    let server = TestServer::start().await;
    let host = addr(&server);
    for service in ["s3", "iam", "chime-sdk-identity", "Chime"] {
        let how = Signing {
            service,
            ..Signing::default()
        };
        let request = Wire::new(&host, "GET", "/accounts", "").sign(&server.root, &how);
        assert!(
            request
                .header("authorization")
                .unwrap()
                .contains(&format!("/{service}/aws4_request")),
            "{:?}",
            request.header("authorization")
        );
        assert_refused(
            &request.send(&host).await,
            "Credential scope service must be 'chime'",
            None,
        );
    }
    // Any region is fine.
    let how = Signing {
        region: "eu-central-1",
        ..Signing::default()
    };
    let request = Wire::new(&host, "GET", "/accounts", "").sign(&server.root, &how);
    assert_eq!(request.send(&host).await.status, 200);
}

#[tokio::test]
async fn requests_dated_more_than_15_minutes_away_are_refused() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let at = |offset_secs: i64| {
        let now = SystemTime::now();
        let time = if offset_secs >= 0 {
            now + Duration::from_secs(offset_secs as u64)
        } else {
            now - Duration::from_secs((-offset_secs) as u64)
        };
        Wire::new(&host, "GET", "/accounts", "").sign(
            &server.root,
            &Signing {
                time,
                ..Signing::default()
            },
        )
    };
    for minutes in [-16i64, 16, -60 * 24, 60 * 24 * 365] {
        let reply = at(minutes * 60).send(&host).await;
        assert_refused(&reply, "Request time is too skewed", None);
    }
    for minutes in [-14i64, 14, 0] {
        let reply = at(minutes * 60).send(&host).await;
        assert_eq!(reply.status, 200, "{minutes} minutes: {}", reply.text());
    }
}

#[tokio::test]
async fn presigned_urls_are_refused_after_they_expire() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let presign = |age_secs: u64, expires: u64| {
        Wire::new(&host, "GET", "/accounts?max-results=5", "").sign(
            &server.root,
            &Signing {
                time: SystemTime::now() - Duration::from_secs(age_secs),
                presign: Some(expires),
                ..Signing::default()
            },
        )
    };
    // Fresh: accepted, and it carries no Authorization header.
    let fresh = presign(0, 60);
    assert!(fresh.header("authorization").is_none());
    assert!(String::from_utf8_lossy(&fresh.target).contains("X-Amz-Signature="));
    let reply = fresh.send(&host).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Signed two minutes ago for one minute: expired.
    assert_refused(
        &presign(120, 60).send(&host).await,
        "Request has expired",
        None,
    );
    // Signed an hour ago for two hours: fine.
    assert_eq!(presign(3600, 7200).send(&host).await.status, 200);
    // A presigned URL with another query parameter changed.
    let mut changed = fresh.clone();
    changed.target = String::from_utf8(changed.target)
        .unwrap()
        .replace("max-results=5", "max-results=6")
        .into_bytes();
    assert_refused(&changed.send(&host).await, MISMATCH, None);
    // Or with its expiry stretched.
    let mut stretched = presign(120, 60);
    stretched.target = String::from_utf8(stretched.target)
        .unwrap()
        .replace("X-Amz-Expires=60", "X-Amz-Expires=600")
        .into_bytes();
    let expected = expected_signature(
        &server,
        &stretched,
        &Signing {
            presign: Some(600),
            time: SystemTime::now() - Duration::from_secs(120),
            ..Signing::default()
        },
    );
    assert_refused(&stretched.send(&host).await, MISMATCH, Some(&expected));
    // Presigned in the future beyond the skew.
    let future = Wire::new(&host, "GET", "/accounts", "").sign(
        &server.root,
        &Signing {
            time: SystemTime::now() + Duration::from_secs(20 * 60),
            presign: Some(60),
            ..Signing::default()
        },
    );
    assert_refused(
        &future.send(&host).await,
        "Request time is too skewed",
        None,
    );
}

#[tokio::test]
async fn a_raw_plus_in_the_query_is_accepted_as_the_rust_sdk_signs_it() {
    // aws-sigv4 reads a raw `+` in the query as a space when it signs; the server reads it
    // as a plus. Either reading of the same bytes verifies (found by fuzz/sigv4_differential).
    let server = TestServer::start().await;
    let host = addr(&server);
    server.account("a+b").await;
    let reply = Wire::signed(&host, &server.root, "GET", "/accounts?name=a+b", "")
        .send(&host)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let names: Vec<String> = reply.json()["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["a+b".to_string()], "the API reads a plus");
    // Changing the `+` after signing is still refused.
    let mut changed = Wire::signed(&host, &server.root, "GET", "/accounts?name=a+b", "");
    changed.target = b"/accounts?name=a%2Bc".to_vec();
    assert_refused(&changed.send(&host).await, MISMATCH, None);
}

#[tokio::test]
async fn malformed_authentication_is_refused_with_its_cause() {
    let server = TestServer::start().await;
    let host = addr(&server);
    let good = Wire::signed(&host, &server.root, "GET", "/accounts", "");
    let cases: Vec<(Wire, &str)> = vec![
        (
            good.clone().remove_header("authorization"),
            "Missing authentication",
        ),
        (
            good.clone().remove_header("x-amz-date"),
            "the request has no X-Amz-Date header",
        ),
        (
            good.clone()
                .set_header("x-amz-date", "2015-08-30T12:36:00Z"),
            "X-Amz-Date must be a time like",
        ),
        (
            good.clone()
                .add_header("authorization", good.header("authorization").unwrap()),
            "more than one Authorization header",
        ),
        (
            good.clone().set_header(
                "authorization",
                good.header("authorization")
                    .unwrap()
                    .replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            ),
            "Unsupported signature algorithm",
        ),
        (
            good.clone().set_header("authorization", "Bearer abc"),
            "Malformed authentication",
        ),
    ];
    for (request, cause) in cases {
        assert_refused(&request.send(&host).await, cause, None);
    }
}

#[test]
fn the_signature_comparison_is_constant_time() {
    // Read, not timed: the verifier compares with subtle's ConstantTimeEq.
    let source = include_str!("../src/auth/sigv4.rs");
    assert!(source.contains("use subtle::ConstantTimeEq;"));
    assert!(source.contains(".ct_eq(sig.signature.as_bytes())"));
    assert!(!source.contains("expected == sig.signature"));
}
