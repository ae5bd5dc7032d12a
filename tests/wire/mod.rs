//! Requests written byte by byte, for the wire-level tests (tests/malformed.rs,
//! tests/auth_attacks.rs): SigV4-signed by the AWS SDKs' own signer (`aws-sigv4`) at any
//! time, in the header form or as a presigned URL, then sent as they are, or changed after
//! signing, over a plain TCP stream. Unlike `common::raw_request` the body and the path may
//! be any bytes, and the response body is read as bytes.

#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use belfry::store::AccessKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request as it goes on the wire: request line parts, header lines in order, body.
#[derive(Debug, Clone)]
pub struct Wire {
    pub method: String,
    /// Path and query exactly as on the request line (any bytes).
    pub target: Vec<u8>,
    pub version: &'static str,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct Signing {
    pub time: SystemTime,
    /// The service in the credential scope.
    pub service: &'static str,
    pub region: &'static str,
    /// `Some(seconds)`: a presigned URL valid that long; `None`: the Authorization header.
    pub presign: Option<u64>,
    /// Send (and sign) `x-amz-content-sha256`.
    pub content_sha256: bool,
}

impl Default for Signing {
    fn default() -> Self {
        Signing {
            time: SystemTime::now(),
            service: "chime",
            region: "us-east-1",
            presign: None,
            content_sha256: false,
        }
    }
}

impl Wire {
    /// An unsigned HTTP/1.1 request with `host` and `connection: close`.
    pub fn new(
        host: &str,
        method: &str,
        target: impl Into<Vec<u8>>,
        body: impl Into<Vec<u8>>,
    ) -> Wire {
        let body = body.into();
        let mut headers = vec![("host".to_string(), host.as_bytes().to_vec())];
        if !body.is_empty() || method == "POST" || method == "PUT" {
            headers.push(("content-type".into(), b"application/json".to_vec()));
            headers.push(("content-length".into(), body.len().to_string().into_bytes()));
        }
        Wire {
            method: method.into(),
            target: target.into(),
            version: "HTTP/1.1",
            headers,
            body,
        }
    }

    /// The same request, SigV4-signed with `key` (the target must be a valid URI).
    pub fn signed(
        host: &str,
        key: &AccessKey,
        method: &str,
        target: &str,
        body: impl Into<Vec<u8>>,
    ) -> Wire {
        Wire::new(host, method, target, body).sign(key, &Signing::default())
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// Sets a header (replacing every line of that name), after or before signing.
    pub fn set_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Wire {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Adds one more header line.
    pub fn add_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Wire {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Removes every header line called `name`.
    pub fn remove_header(mut self, name: &str) -> Wire {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    /// Signs the request as it stands (its headers are all signed), as an SDK would.
    pub fn sign(mut self, key: &AccessKey, how: &Signing) -> Wire {
        let target = String::from_utf8(self.target.clone()).expect("a signed target is text");
        let host = self.header("host").expect("a host header");
        let url = format!("http://{host}{target}");
        let mut request = axum::http::Request::builder()
            .method(self.method.as_str())
            .uri(url.as_str());
        for (k, v) in &self.headers {
            request = request.header(k.as_str(), v.as_slice());
        }
        let mut request = request.body(()).expect("a valid request");
        let mut settings = SigningSettings::default();
        if let Some(secs) = how.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(secs));
        }
        if how.content_sha256 {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let identity = aws_credential_types::Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
            None,
            None,
            "belfry-wire-tests",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(how.region)
            .name(how.service)
            .time(how.time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let pairs: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    String::from_utf8(v.clone()).expect("text header"),
                )
            })
            .collect();
        let signable = SignableRequest::new(
            self.method.as_str(),
            url.as_str(),
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&self.body),
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(&mut request);
        self.target = request
            .uri()
            .path_and_query()
            .map_or("/".to_string(), |pq| pq.to_string())
            .into_bytes();
        self.headers = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect();
        self
    }

    /// Signs the request in the header form by the letter of SigV4, over its exact bytes,
    /// with the canonical request and signing key of `belfry::auth::sigv4` (for targets that
    /// aws-sigv4 canonicalises otherwise, such as a query that is not UTF-8 once decoded).
    pub fn sign_bytes(self, key: &AccessKey) -> Wire {
        use belfry::auth::sigv4::{self, Form, Options, Request, Signature};
        use hmac::{Hmac, Mac};
        let amz_date = format_amz_date(SystemTime::now());
        let mut wire = self.set_header("x-amz-date", amz_date.as_str());
        let mut names: Vec<String> = wire
            .headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        let mut sig = Signature {
            form: Form::Header,
            access_key_id: key.access_key_id.clone(),
            date: amz_date[..8].to_string(),
            region: "us-east-1".into(),
            service: "chime".into(),
            signed_headers: names,
            signature: String::new(),
            amz_date,
            expires: None,
        };
        let target = String::from_utf8(wire.target.clone()).expect("a signed target is text");
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target.as_str(), None),
        };
        let headers: Vec<(String, String)> = wire
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: &wire.method,
            raw_path: path,
            raw_query: query,
            headers: &refs,
            body: &wire.body,
        };
        let canonical =
            sigv4::canonical_request(&request, &sig, &Options::default()).expect("canonical");
        let to_sign = sigv4::string_to_sign(&canonical, &sig);
        let signing_key =
            sigv4::signing_key(&key.secret_access_key, &sig.date, &sig.region, &sig.service);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&signing_key).unwrap();
        mac.update(to_sign.as_bytes());
        sig.signature = hex::encode(mac.finalize().into_bytes());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/us-east-1/chime/aws4_request, SignedHeaders={}, Signature={}",
            key.access_key_id,
            sig.date,
            sig.signed_headers.join(";"),
            sig.signature
        );
        wire = wire.set_header("authorization", authorization.as_str());
        wire
    }

    /// The signature the request carries (header or query form).
    pub fn signature(&self) -> String {
        if let Some(auth) = self.header("authorization") {
            return auth.rsplit("Signature=").next().unwrap_or("").to_string();
        }
        let target = String::from_utf8_lossy(&self.target).into_owned();
        target
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("X-Amz-Signature="))
            .unwrap_or("")
            .to_string()
    }

    /// The request as bytes, with `connection: close` added unless it has a connection header.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 1024);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.push(b' ');
        out.extend_from_slice(self.version.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if self.header("connection").is_none() {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// Sends the request on a new connection and reads the response until the server closes.
    pub async fn send(&self, addr: &str) -> Reply {
        exchange(addr, &self.bytes()).await
    }
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (y, m, d) = belfry::time::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A response as it came back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Everything received, for diagnostics.
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// Asserts the Chime error shape: the status, `x-amzn-ErrorType: <shape>`, a JSON body of
    /// `Code` and a non-empty `Message`, and a request id. Returns the message.
    pub fn assert_modeled(&self, status: u16, shape: &str, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "status of {shape}: {}",
            String::from_utf8_lossy(&self.raw)
        );
        assert_eq!(
            self.header("x-amzn-ErrorType"),
            Some(shape),
            "{:?}",
            self.headers
        );
        assert!(
            self.header("x-amzn-RequestId")
                .is_some_and(|id| !id.is_empty()),
            "x-amzn-RequestId: {:?}",
            self.headers
        );
        let body = self.json();
        assert_eq!(body["Code"], code, "{body}");
        let message = body["Message"].as_str().expect("a Message").to_string();
        assert!(!message.is_empty());
        message
    }

    /// A modeled `BadRequestException`; returns its message.
    pub fn assert_bad_request(&self) -> String {
        self.assert_modeled(400, "BadRequestException", "BadRequest")
    }

    /// A modeled `UnauthorizedClientException`; returns its message.
    pub fn assert_unauthorized(&self) -> String {
        self.assert_modeled(401, "UnauthorizedClientException", "Unauthorized")
    }
}

/// Writes `request` while reading the response (a server may answer before it has read
/// everything, and close); tolerates the write failing once the server has answered.
pub async fn exchange(addr: &str, request: &[u8]) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let request = request.to_vec();
    let writing = tokio::spawn(async move {
        for chunk in request.chunks(64 << 10) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
        let _ = writer.flush().await;
        // Keep the write half open: the server closes the connection.
        std::future::pending::<()>().await;
    });
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 16 << 10];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A reset after the response was received.
                Err(_) => break,
            }
        }
    })
    .await;
    writing.abort();
    assert!(
        read.is_ok(),
        "no end of response within 30 s: {:?}",
        String::from_utf8_lossy(&raw)
    );
    parse_reply(raw)
}

/// Parses one HTTP/1.x response, keeping the bytes received for diagnostics.
pub fn parse_reply(raw: Vec<u8>) -> Reply {
    let parsed = crate::common::parse_response(&raw);
    Reply {
        status: parsed.status,
        headers: parsed.headers,
        body: parsed.body,
        raw,
    }
}
