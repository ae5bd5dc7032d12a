//! Malformed requests over HTTP: each is answered with a modeled 4xx in the Chime error shape
//! (`x-amzn-ErrorType` and `{"Code","Message"}`, with a request id), and the server goes on
//! serving (a normal request succeeds afterwards).
//!
//! SigV4 is checked before the query, path and body are parsed, so most cases are signed by
//! the AWS SDKs' signer first (tests/wire): only a correctly signed request reaches the parser.
//! What the HTTP layer itself refuses before there is a request (a header section over
//! 256 KiB, more than 256 header lines, bytes that are not HTTP) is answered by hyper with a
//! bare status and a closed connection; those cases check that much and that the server stays
//! up.

mod common;
mod wire;

use std::time::{Duration, Instant};

use belfry::server::{
    HARD_MAX_HEADER_BYTES, Limits, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADER_COUNT, Server,
    ServerOptions,
};
use belfry::store::AccessKey;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wire::{Reply, Wire};

/// `host:port` of a test server.
fn addr(server: &TestServer) -> String {
    server.endpoint.trim_start_matches("http://").to_string()
}

/// A correctly signed request from the root key.
fn signed(server: &TestServer, method: &str, target: &str, body: impl Into<Vec<u8>>) -> Wire {
    Wire::signed(&addr(server), &server.root, method, target, body)
}

/// The server still answers a normal request.
async fn assert_still_serving(server: &TestServer) {
    server
        .client()
        .list_accounts()
        .send()
        .await
        .expect("the server still serves after a malformed request");
}

async fn send(server: &TestServer, request: &Wire) -> Reply {
    request.send(&addr(server)).await
}

// ---------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_one_mib_is_a_bad_request() {
    let server = TestServer::start().await;
    let big = vec![b' '; MAX_BODY_BYTES + 1];

    // Declared by Content-Length: refused before a byte of it is read, signed or not.
    for request in [
        Wire::new(&addr(&server), "POST", "/accounts", big.clone()),
        signed(&server, "POST", "/accounts", big.clone()),
    ] {
        let message = send(&server, &request).await.assert_bad_request();
        assert!(message.contains("larger than 1048576 bytes"), "{message}");
    }

    // Chunked, with no length announced: refused once the limit is passed.
    let mut chunked = Wire::new(&addr(&server), "POST", "/accounts", Vec::new())
        .remove_header("content-length")
        .set_header("transfer-encoding", "chunked");
    for chunk in big.chunks(100_000) {
        chunked
            .body
            .extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.body.extend_from_slice(chunk);
        chunked.body.extend_from_slice(b"\r\n");
    }
    chunked.body.extend_from_slice(b"0\r\n\r\n");
    let message = send(&server, &chunked).await.assert_bad_request();
    assert!(message.contains("larger than 1048576 bytes"), "{message}");

    // Exactly 1 MiB is within the limit.
    let mut body = br#"{"Name":"Exactly one MiB"}"#.to_vec();
    body.resize(MAX_BODY_BYTES, b' ');
    let reply = send(&server, &signed(&server, "POST", "/accounts", body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = TestServer::start().await;

    // Over Belfry's limit (64 KiB): a modeled BadRequestException, even unsigned.
    let padding = "a".repeat(MAX_HEADER_BYTES + 1);
    let request = signed(&server, "GET", "/accounts", "").add_header("x-padding", padding.as_str());
    let message = send(&server, &request).await.assert_bad_request();
    assert!(
        message.contains("headers are larger than 65536 bytes"),
        "{message}"
    );

    // Too many header lines.
    let mut request = signed(&server, "GET", "/accounts", "");
    for i in 0..MAX_HEADER_COUNT {
        request = request.add_header(&format!("x-extra-{i}"), "1");
    }
    let message = send(&server, &request).await.assert_bad_request();
    assert!(message.contains("more than 128 headers"), "{message}");

    // Over what the HTTP parser takes at all: hyper answers 431 and closes.
    let padding = "a".repeat(HARD_MAX_HEADER_BYTES + 1);
    let request =
        Wire::new(&addr(&server), "GET", "/accounts", "").add_header("x-padding", padding.as_str());
    let reply = send(&server, &request).await;
    assert_eq!(reply.status, 431, "{}", String::from_utf8_lossy(&reply.raw));

    assert_still_serving(&server).await;
}

// ---------------------------------------------------------------------------------------
// Invalid UTF-8
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_utf8_in_the_path_is_a_bad_request() {
    let server = TestServer::start().await;
    let account = server.account("Utf8").await;

    // Percent-encoded (as a client would put it on the wire): signed, then refused by the
    // router.
    for target in [
        "/accounts/%FF".to_string(),
        format!("/accounts/{account}/users/%C3%28"),
        "/accounts/%ED%A0%80".to_string(),
    ] {
        let message = send(&server, &signed(&server, "GET", &target, ""))
            .await
            .assert_bad_request();
        assert!(message.contains("not valid UTF-8"), "{target}: {message}");
    }

    // Raw bytes over 0x7F on the request line are not HTTP: the HTTP layer refuses them.
    let mut request = Wire::new(&addr(&server), "GET", b"/accounts/\xFF\xFE".to_vec(), "");
    let reply = send(&server, &request).await;
    assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(&reply.raw));
    request.target = b"/accounts?name=\xC3\x28".to_vec();
    let reply = send(&server, &request).await;
    assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(&reply.raw));

    assert_still_serving(&server).await;
}

#[tokio::test]
async fn invalid_utf8_in_the_query_is_a_bad_request() {
    let server = TestServer::start().await;
    let account = server.account("Utf8 query").await;
    for target in [
        "/accounts?name=%FF".to_string(),
        "/accounts?%FF=1".to_string(),
        format!("/accounts/{account}/users?user-email=%C3%28%40example.com"),
        format!("/accounts/{account}/users?next-token=%80"),
    ] {
        // aws-sigv4 signs such a query lossily (U+FFFD for each bad byte), which the server,
        // signing the bytes, rightly refuses; sign it by the letter of SigV4 instead.
        let request =
            Wire::new(&addr(&server), "GET", target.as_str(), "").sign_bytes(&server.root);
        let message = send(&server, &request).await.assert_bad_request();
        assert!(message.contains("not valid UTF-8"), "{target}: {message}");
    }
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_json_body_is_a_bad_request() {
    let server = TestServer::start().await;
    let account = server.account("Utf8 body").await;
    let cases: [(&str, String, &[u8]); 3] = [
        ("POST", "/accounts".into(), b"{\"Name\":\"\xFF\xFE\"}"),
        (
            "POST",
            format!("/accounts/{account}/users?operation=create"),
            b"{\"Email\":\"a\xC3\x28@example.com\"}",
        ),
        (
            "POST",
            format!("/accounts/{account}"),
            b"\xEF\xBB\xBF{\"Name\":\"bom\"}",
        ),
    ];
    for (method, target, body) in cases {
        let message = send(&server, &signed(&server, method, &target, body))
            .await
            .assert_bad_request();
        assert!(
            message.contains("request body is not valid"),
            "{target}: {message}"
        );
    }
    assert_still_serving(&server).await;
}

// ---------------------------------------------------------------------------------------
// Query values
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn duplicated_query_keys_are_a_bad_request() {
    let server = TestServer::start().await;
    let account = server.account("Duplicates").await;
    for (method, target, key) in [
        (
            "GET",
            "/accounts?max-results=1&max-results=2".to_string(),
            "max-results",
        ),
        (
            "GET",
            format!("/accounts/{account}/users?max-results=5&max-results=5"),
            "max-results",
        ),
        (
            "GET",
            format!("/accounts/{account}/users?user-type=PrivateUser&user-type=SharedDevice"),
            "user-type",
        ),
        ("GET", "/accounts?name=a&name=b".to_string(), "name"),
        // The discriminator itself, twice: never a silent pick of one operation.
        (
            "POST",
            format!("/accounts/{account}/users?operation=create&operation=add"),
            "operation",
        ),
    ] {
        let body = if method == "POST" {
            r#"{"Email":"a@example.com"}"#
        } else {
            ""
        };
        let message = send(&server, &signed(&server, method, &target, body))
            .await
            .assert_bad_request();
        assert!(
            message.contains(&format!("'{key}' was given more than once")),
            "{target}: {message}"
        );
    }
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn out_of_range_and_non_numeric_max_results_are_validation_errors() {
    let server = TestServer::start().await;
    let account = server.account("Numbers").await;
    let too_big = "Member must have value less than or equal to 200";
    let too_small = "Member must have value greater than or equal to 1";
    let not_a_number = "Member must be an integer";
    for (value, expected) in [
        ("99999999999999999999", too_big),
        ("201", too_big),
        ("9223372036854775808", too_big),
        ("0", too_small),
        ("-1", too_small),
        ("-99999999999999999999", too_small),
        ("abc", not_a_number),
        ("1.5", not_a_number),
        ("1e3", not_a_number),
        ("0x10", not_a_number),
        ("", not_a_number),
        ("%20", not_a_number),
        ("--1", not_a_number),
    ] {
        for target in [
            format!("/accounts?max-results={value}"),
            format!("/accounts/{account}/users?max-results={value}"),
        ] {
            let message = send(&server, &signed(&server, "GET", &target, ""))
                .await
                .assert_bad_request();
            assert!(
                message.starts_with("1 validation error detected: Value '")
                    && message.contains("' at 'maxResults' failed to satisfy constraint: ")
                    && message.ends_with(expected),
                "{target}: {message}"
            );
        }
    }
    // The bounds themselves are fine.
    for value in ["1", "200"] {
        let reply = send(
            &server,
            &signed(
                &server,
                "GET",
                &format!("/accounts?max-results={value}"),
                "",
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    assert_still_serving(&server).await;
}

// ---------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn deeply_nested_json_is_a_bad_request() {
    let server = TestServer::start().await;
    let account = server.account("Nested").await;
    let arrays = "[".repeat(100_000);
    let objects = r#"{"a":"#.repeat(100_000);
    // Nesting inside a member Belfry ignores is refused all the same.
    let in_unknown_member = format!(r#"{{"Name":"x","Unknown":{}}}"#, "[".repeat(100_000));
    for (target, body) in [
        ("/accounts".to_string(), arrays.clone()),
        ("/accounts".to_string(), objects),
        ("/accounts".to_string(), in_unknown_member),
        (format!("/accounts/{account}/users?operation=add"), arrays),
    ] {
        let message = send(&server, &signed(&server, "POST", &target, body))
            .await
            .assert_bad_request();
        assert!(message.contains("request body is not valid"), "{message}");
        assert!(message.len() < 1_000, "the message does not echo the body");
    }
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn wrongly_typed_and_out_of_range_json_values_are_bad_requests() {
    let server = TestServer::start().await;
    let account = server.account("Types").await;
    let settings = format!("/accounts/{account}/settings");
    for (method, target, body) in [
        ("POST", "/accounts".to_string(), r#"{"Name":5}"#),
        ("POST", "/accounts".to_string(), r#"{"Name":-1e999}"#),
        ("POST", "/accounts".to_string(), r#"{"Name":["a"]}"#),
        (
            "POST",
            "/accounts".to_string(),
            r#"{"Name":"a","Name":"b"}"#,
        ),
        ("POST", "/accounts".to_string(), r#"{"Name":"a""#),
        ("POST", "/accounts".to_string(), "not json"),
        // Not an object at all.
        ("POST", "/accounts".to_string(), "null"),
        ("POST", "/accounts".to_string(), r#"["Array"]"#),
        ("POST", "/accounts".to_string(), r#""Name""#),
        ("POST", "/accounts".to_string(), "-12"),
        (
            "PUT",
            settings.clone(),
            r#"{"AccountSettings":{"DisableRemoteControl":"yes"}}"#,
        ),
        (
            "PUT",
            settings.clone(),
            r#"{"AccountSettings":{"EnableDialOut":1}}"#,
        ),
        (
            "PUT",
            settings.clone(),
            r#"{"AccountSettings":[true,false]}"#,
        ),
        (
            "POST",
            format!("/accounts/{account}/users?operation=add"),
            r#"{"UserEmailList":"a@example.com"}"#,
        ),
        (
            "POST",
            format!("/accounts/{account}/users"),
            r#"{"UpdateUserRequestItems":[["id","Pro"]]}"#,
        ),
    ] {
        let message = send(&server, &signed(&server, method, &target, body))
            .await
            .assert_bad_request();
        assert!(
            message.contains("request body is not valid"),
            "{body}: {message}"
        );
    }
    assert_still_serving(&server).await;
}

/// Belfry ignores members it does not know, at any depth, as AWS's rest-json services do
/// (clients built from a newer model may send members an older server lacks).
#[tokio::test]
async fn unknown_json_members_are_ignored() {
    let server = TestServer::start().await;
    let reply = send(
        &server,
        &signed(
            &server,
            "POST",
            "/accounts",
            r#"{"Name":"Known","Bogus":1,"Nested":{"x":[1,{"y":null}]},"name":"lower case is another member"}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["Account"]["Name"], "Known");
    let account = reply.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_string();

    let reply = send(
        &server,
        &signed(
            &server,
            "PUT",
            &format!("/accounts/{account}/settings"),
            r#"{"AccountSettings":{"DisableRemoteControl":true,"Future":"x"},"Other":[]}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    let settings = server
        .client()
        .get_account_settings()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(
        settings
            .account_settings()
            .unwrap()
            .disable_remote_control(),
        Some(true)
    );
    // An unknown member does not stand in for a missing required one.
    let message = send(
        &server,
        &signed(&server, "POST", "/accounts", r#"{"AccountName":"x"}"#),
    )
    .await
    .assert_bad_request();
    assert!(
        message.contains("'name' failed to satisfy constraint: Member must not be null"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// HTTP versions and garbage
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn http_1_0_requests_are_served_and_refused_in_the_chime_shape() {
    let server = TestServer::start().await;
    let mut request = signed(&server, "GET", "/accounts", "");
    request.version = "HTTP/1.0";
    let reply = send(&server, &request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.json()["Accounts"].is_array());

    // HTTP/1.0 without a connection header: the server closes after the response.
    let request = request.remove_header("connection");
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let mut bytes = request.bytes();
    let head_end = bytes.windows(4).rposition(|w| w == b"\r\n\r\n").unwrap();
    // `bytes()` added `connection: close`; take it out again.
    let text = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
    let text = text.replace("\r\nconnection: close", "");
    bytes = format!("{text}\r\n\r\n").into_bytes();
    stream.write_all(&bytes).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
        .await
        .expect("HTTP/1.0 closes after the response")
        .unwrap();
    assert_eq!(wire::parse_reply(raw).status, 200);

    // Unsigned, and without a Host header as HTTP/1.0 allows.
    let mut request = Wire::new(&addr(&server), "GET", "/accounts", "").remove_header("host");
    request.version = "HTTP/1.0";
    let message = send(&server, &request).await.assert_unauthorized();
    assert!(message.contains("Missing authentication"), "{message}");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn requests_that_are_not_http_get_a_bare_400_and_the_server_stays_up() {
    let server = TestServer::start().await;
    for garbage in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"GET /accounts HTTP/9.9\r\n\r\n",
        b"GET\r\n\r\n",
        b"POST /accounts HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello",
        b"POST /accounts HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let reply = wire::exchange(&addr(&server), garbage).await;
        assert!(
            (400..500).contains(&reply.status) || reply.raw.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&reply.raw)
        );
    }
    assert_still_serving(&server).await;
}

// ---------------------------------------------------------------------------------------
// Slow clients
// ---------------------------------------------------------------------------------------

/// A server with short limits, on its own store; dropped senders stop it.
async fn server_with_limits(
    limits: Limits,
) -> (String, AccessKey, tokio::sync::oneshot::Sender<()>, Scratch) {
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let server = Server::bind_with(
        "127.0.0.1:0",
        store,
        ServerOptions {
            root_key: Some(root.clone()),
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap()
    .with_limits(limits);
    let addr = server.local_addr().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    (addr, root, stop, scratch)
}

/// Reads until the server closes the connection (or resets it); how long after `started`
/// that was.
async fn time_until_closed(
    stream: &mut TcpStream,
    started: Instant,
    bound: Duration,
) -> (Duration, Vec<u8>) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (started.elapsed(), received),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the connection was still open after {bound:?}"),
        }
    }
}

#[test]
fn the_default_header_read_timeout_is_ten_seconds() {
    assert_eq!(
        Limits::default().header_read_timeout,
        Duration::from_secs(10)
    );
    assert_eq!(Limits::default().body_read_timeout, Duration::from_secs(30));
}

#[tokio::test]
async fn a_client_stalling_in_its_headers_is_disconnected() {
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, root, _stop, _scratch) = server_with_limits(limits).await;

    let started = Instant::now();
    // Half the headers, then nothing.
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /accounts HTTP/1.1\r\nhost: 127.0.0.1\r\nx-amz-da")
        .await
        .unwrap();
    // A connection that sends nothing at all.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // A kept-alive connection left idle after a complete request.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    let request =
        Wire::signed(&addr, &root, "GET", "/accounts", "").set_header("connection", "keep-alive");
    idle.write_all(&request.bytes()).await.unwrap();

    for stream in [&mut stalled, &mut silent] {
        let (after, received) = time_until_closed(stream, started, Duration::from_secs(10)).await;
        assert!(
            after >= Duration::from_millis(900) && after < Duration::from_secs(5),
            "closed after {after:?}"
        );
        // hyper closes without a response, or with a bare 408.
        if !received.is_empty() {
            assert!(
                received.starts_with(b"HTTP/1.1 408"),
                "{:?}",
                String::from_utf8_lossy(&received)
            );
        }
    }
    let (after, received) = time_until_closed(&mut idle, started, Duration::from_secs(10)).await;
    assert!(
        after < Duration::from_secs(5),
        "idle connection closed after {after:?}"
    );
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&received)
    );

    // The server still serves.
    let reply = Wire::signed(&addr, &root, "GET", "/accounts", "")
        .send(&addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn a_client_stalling_in_its_body_gets_a_bad_request() {
    let limits = Limits {
        body_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, root, _stop, _scratch) = server_with_limits(limits).await;
    let request = Wire::signed(&addr, &root, "POST", "/accounts", r#"{"Name":"Slow body"}"#);
    let bytes = request.bytes();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    // All but the last 5 bytes of the body.
    stream.write_all(&bytes[..bytes.len() - 5]).await.unwrap();
    let started = Instant::now();
    let (after, received) = time_until_closed(&mut stream, started, Duration::from_secs(10)).await;
    assert!(
        after >= Duration::from_millis(500) && after < Duration::from_secs(5),
        "answered after {after:?}"
    );
    let message = wire::parse_reply(received).assert_bad_request();
    assert!(message.contains("was not received within 1 s"), "{message}");

    let reply = Wire::signed(&addr, &root, "GET", "/accounts", "")
        .send(&addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["Accounts"].as_array().map(Vec::len),
        Some(0),
        "nothing was created"
    );
}

/// Shutdown waits for in-flight requests (up to the shutdown timeout, 30 s by default), but a
/// client stalled in its headers has no request in flight: it holds shutdown up for at most
/// the header read timeout, and a connection that sent nothing is closed at once.
#[tokio::test]
async fn a_stalled_client_does_not_hold_up_shutdown() {
    let limits = Limits {
        header_read_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let (addr, _root, stop, _scratch) = server_with_limits(limits).await;
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /accounts HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = Instant::now();
    stop.send(()).unwrap();
    let (silent_after, _) = time_until_closed(&mut silent, asked, Duration::from_secs(15)).await;
    assert!(
        silent_after < Duration::from_millis(1_500),
        "an idle connection closed {silent_after:?} after shutdown began"
    );
    let (stalled_after, _) = time_until_closed(&mut stalled, asked, Duration::from_secs(15)).await;
    assert!(
        stalled_after < Duration::from_secs(6),
        "a stalled connection closed {stalled_after:?} after shutdown began"
    );
    // Stopped: no new connection is accepted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(TcpStream::connect(&addr).await.is_err());
}

// ---------------------------------------------------------------------------------------
// Found by the page_token fuzz target
// ---------------------------------------------------------------------------------------

/// Regression: a user with an email of thousands of characters was accepted, and a ListUsers
/// page ending at them carried a NextToken longer than the server accepts back: the walk
/// could not get past that user. Emails are at most 254 characters, and a walk one user per
/// page across the longest ones (characters of 4 bytes, or whose lower case is longer) sees
/// every user exactly once.
#[tokio::test]
async fn a_list_users_walk_passes_the_longest_emails() {
    let server = TestServer::start().await;
    let account = server.account("Long emails").await;
    let client = server.client();
    let over = format!("{}@example.com", "a".repeat(243));
    assert_eq!(over.chars().count(), 255);
    let failure = service_error(
        client
            .create_user()
            .account_id(&account)
            .email(&over)
            .send()
            .await,
    );
    failure.assert_wire(400, "BadRequestException", "BadRequest");
    assert!(
        failure
            .message()
            .ends_with("Member must have length less than or equal to 254"),
        "{}",
        failure.message()
    );

    let mut emails = Vec::new();
    for (i, c) in ['\u{10348}', '\u{130}', '\u{23a}', 'z']
        .into_iter()
        .enumerate()
    {
        let email = format!("{i}{}@a.b", c.to_string().repeat(249));
        assert_eq!(email.chars().count(), 254);
        client
            .create_user()
            .account_id(&account)
            .email(&email)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{email}: {e:?}"));
        emails.push(email);
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_users()
            .account_id(&account)
            .max_results(1)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("every page, whatever its token");
        for user in page.users() {
            seen.push(user.primary_email().unwrap().to_string());
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    emails.sort();
    assert_eq!(seen, emails);
}
