//! The SigV4 verifier against the AWS signing test suite, and against itself turned hostile.
//!
//! The suite ships inside the source of the `aws-sigv4` crate (a dev-dependency). Each
//! vector is a directory holding a signed request and, for both the header and the query
//! (presigned) form, the canonical request, string to sign and signature AWS expects. A
//! server sees only the signed request, so every vector here goes: parse the signed
//! request text -> `sigv4::parse` -> compare `canonical_request` and `string_to_sign` with
//! the files -> `sigv4::verify` with the vector's secret at the vector's time.
//!
//! The negative tests then take such a request and change one thing at a time.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use belfry::auth::sigv4::{self, AuthError, Form, Options, Request, Signature};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------
// Finding and reading the suite
// ---------------------------------------------------------------------------------------

/// `$CARGO_HOME/registry/src/*/aws-sigv4-<locked version>/aws-signing-test-suite/v4`.
fn suite_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = fs::read_to_string(manifest_dir.join("Cargo.lock"))
        .expect("Cargo.lock must exist to find the locked aws-sigv4 version");
    let versions = locked_versions(&lock, "aws-sigv4");
    assert!(
        !versions.is_empty(),
        "Cargo.lock has no aws-sigv4 package; it is a dev-dependency and ships the test suite"
    );
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry_src = cargo_home.join("registry").join("src");
    let mut looked_in = Vec::new();
    if let Ok(registries) = fs::read_dir(&registry_src) {
        for registry in registries.flatten() {
            for version in &versions {
                let dir = registry
                    .path()
                    .join(format!("aws-sigv4-{version}"))
                    .join("aws-signing-test-suite")
                    .join("v4");
                if dir.is_dir() {
                    return dir;
                }
                looked_in.push(dir);
            }
        }
    }
    panic!(
        "the AWS signing test suite was not found: Cargo.lock locks aws-sigv4 {versions:?}, \
         but none of these exist: {looked_in:#?} (under {}). Run `cargo fetch` so that the \
         aws-sigv4 crate source is unpacked.",
        registry_src.display()
    );
}

/// The versions of `name` in a Cargo.lock.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    for package in lock.split("[[package]]") {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        if field("name").as_deref() == Some(name)
            && let Some(version) = field("version")
        {
            versions.push(version);
        }
    }
    versions
}

/// An HTTP request as the suite writes it, owned; borrow it as a [`Request`].
#[derive(Debug, Clone)]
struct RawRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    /// Parses the request text: request line, `Name:value` headers (a line starting with
    /// whitespace continues the previous value, joined by one space), blank line, body.
    fn parse(text: &[u8]) -> RawRequest {
        let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&text[..at], &text[at + 2..]),
            None => (text, &[][..]),
        };
        let head = std::str::from_utf8(head).expect("request head is UTF-8");
        let mut lines = head.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method and target");
        // The version is optional: one vector's request line has none.
        let target = match rest.rsplit_once(' ') {
            Some((target, version)) if version.starts_with("HTTP/") => target,
            _ => rest,
        };
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers.last_mut().expect("continuation after a header");
                *value = format!("{} {}", value.trim_end(), line.trim());
            } else {
                let (name, value) = line.split_once(':').expect("header line has a ':'");
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        RawRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers,
            body: body.to_vec(),
        }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    fn request<'a>(&'a self, pairs: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: &self.method,
            raw_path: &self.path,
            raw_query: self.query.as_deref(),
            headers: pairs,
            body: &self.body,
        }
    }

    fn parse_signature(&self) -> Result<Signature, AuthError> {
        sigv4::parse(&self.request(&self.pairs()))
    }

    /// What a server does: parse, then verify with the secret of the parsed key id.
    fn check(&self, secret: &str, now: i64, opts: &Options) -> Result<(), AuthError> {
        let pairs = self.pairs();
        let req = self.request(&pairs);
        let sig = sigv4::parse(&req)?;
        sigv4::verify(&req, &sig, secret, now, opts)
    }

    fn canonical(&self, opts: &Options) -> (String, String) {
        let pairs = self.pairs();
        let req = self.request(&pairs);
        let sig = sigv4::parse(&req).expect("parses");
        let creq = sigv4::canonical_request(&req, &sig, opts).expect("canonical request");
        let sts = sigv4::string_to_sign(&creq, &sig);
        (creq, sts)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        let mut found = false;
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_owned();
                found = true;
            }
        }
        if !found {
            self.headers.push((name.to_owned(), value.to_owned()));
        }
    }

    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn replace_in_query(&mut self, from: &str, to: &str) {
        let query = self.query.as_mut().expect("request has a query");
        assert!(query.contains(from), "{query:?} does not contain {from:?}");
        *query = query.replacen(from, to, 1);
    }
}

/// One directory of the suite.
struct Vector {
    name: String,
    dir: PathBuf,
    context: Option<serde_json::Value>,
}

impl Vector {
    fn load(name: &str) -> Vector {
        let dir = suite_dir().join(name);
        assert!(dir.is_dir(), "no vector {name} in the suite");
        let context = fs::read_to_string(dir.join("context.json"))
            .ok()
            .map(|s| serde_json::from_str(&s).expect("context.json is JSON"));
        Vector {
            name: name.to_owned(),
            dir,
            context,
        }
    }

    fn all() -> Vec<Vector> {
        let mut names: Vec<String> = fs::read_dir(suite_dir())
            .expect("read the suite directory")
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.iter().map(|n| Vector::load(n)).collect()
    }

    fn file(&self, file: &str) -> String {
        let text = fs::read_to_string(self.dir.join(file))
            .unwrap_or_else(|e| panic!("{}: read {file}: {e}", self.name));
        // A few files end in a newline; no canonical request or string to sign does.
        text.strip_suffix('\n').map(str::to_owned).unwrap_or(text)
    }

    fn signed(&self, form: Form) -> RawRequest {
        let file = format!("{}-signed-request.txt", prefix(form));
        let bytes = fs::read(self.dir.join(&file))
            .unwrap_or_else(|e| panic!("{}: read {file}: {e}", self.name));
        RawRequest::parse(&bytes)
    }

    fn ctx(&self) -> &serde_json::Value {
        self.context
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no context.json", self.name))
    }

    fn ctx_str(&self, pointer: &str) -> &str {
        self.ctx()
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{}: context.json has no {pointer}", self.name))
    }

    fn secret(&self) -> &str {
        self.ctx_str("/credentials/secret_access_key")
    }

    fn now(&self) -> i64 {
        iso8601_to_unix(self.ctx_str("/timestamp"))
    }

    fn options(&self) -> Options {
        Options {
            service: leak(self.ctx_str("/service")),
            normalize_path: self
                .ctx()
                .get("normalize")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            ..Options::default()
        }
    }
}

fn prefix(form: Form) -> &'static str {
    match form {
        Form::Header => "header",
        Form::Query => "query",
    }
}

/// `Options::service` is `&'static str`, as a server's is; the vectors name theirs at run time.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// `2015-08-30T12:36:00Z` to Unix seconds, written independently of the module under test.
fn iso8601_to_unix(s: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| -> i64 { s[range].parse().expect("digits") };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    // Days before each month in a common year.
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days: i64 = (1970..y).map(|y| if leap(y) { 366 } else { 365 }).sum();
    days += BEFORE[(m - 1) as usize] + d - 1;
    if m > 2 && leap(y) {
        days += 1;
    }
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The signature a signer with `secret` makes for `sts` (the server's "expected" one).
fn signature_for(secret: &str, sig: &Signature, sts: &str) -> String {
    hmac_hex(
        &sigv4::signing_key(secret, &sig.date, &sig.region, &sig.service),
        sts.as_bytes(),
    )
}

// ---------------------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------------------

/// Vectors (and forms) a server cannot check as written, and why.
const EXCLUDED: &[(&str, Form, &str)] = &[
    (
        "post-sts-header-after",
        Form::Query,
        "the signer added X-Amz-Security-Token to the URL *after* signing \
         (omit_session_token), so the canonical query string it signed lacks a parameter \
         the request carries; a server signs over the query it receives, as AWS does",
    ),
    (
        "double-encode-path",
        Form::Header,
        "no context.json, and its header-canonical-request.txt was made by a signer whose \
         clock overrode X-Amz-Date (20210511T154045Z) while the signed request carries \
         20150830T123600Z; checked with the context its signer used (and that date \
         corrected) by `vectors_without_context`",
    ),
    (
        "double-url-encode",
        Form::Header,
        "no context.json and no signature file; checked with the context its signer used \
         by `vectors_without_context`",
    ),
    ("double-encode-path", Form::Query, "no query-form files"),
    ("double-url-encode", Form::Query, "no query-form files"),
];

fn excluded(name: &str, form: Form) -> bool {
    EXCLUDED.iter().any(|(n, f, _)| *n == name && *f == form)
}

/// The secret of nearly every vector.
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Checks one vector in one form; panics with the vector's name on any difference.
fn check_vector(vector: &Vector, form: Form) {
    let name = &vector.name;
    let p = prefix(form);
    let raw = vector.signed(form);
    let opts = vector.options();
    let pairs = raw.pairs();
    let req = raw.request(&pairs);

    let sig = sigv4::parse(&req).unwrap_or_else(|e| panic!("{name} ({p}): parse: {e}"));
    assert_eq!(sig.form, form, "{name} ({p}): form");
    assert_eq!(
        sig.access_key_id,
        vector.ctx_str("/credentials/access_key_id"),
        "{name} ({p}): access key id"
    );
    assert_eq!(
        sig.region,
        vector.ctx_str("/region"),
        "{name} ({p}): region"
    );
    assert_eq!(sig.service, opts.service, "{name} ({p}): service");
    if form == Form::Query {
        let expires = vector.ctx()["expiration_in_seconds"].as_i64();
        assert_eq!(sig.expires, expires, "{name} ({p}): X-Amz-Expires");
    }

    let creq = sigv4::canonical_request(&req, &sig, &opts)
        .unwrap_or_else(|e| panic!("{name} ({p}): canonical request: {e}"));
    assert_eq!(
        creq,
        vector.file(&format!("{p}-canonical-request.txt")),
        "{name} ({p}): canonical request"
    );
    let sts = sigv4::string_to_sign(&creq, &sig);
    assert_eq!(
        sts,
        vector.file(&format!("{p}-string-to-sign.txt")),
        "{name} ({p}): string to sign"
    );
    let expected_signature = vector.file(&format!("{p}-signature.txt"));
    assert_eq!(
        signature_for(vector.secret(), &sig, &sts),
        expected_signature,
        "{name} ({p}): signing_key + HMAC"
    );
    assert_eq!(
        sig.signature, expected_signature,
        "{name} ({p}): parsed signature"
    );

    let verified = sigv4::verify(&req, &sig, vector.secret(), vector.now(), &opts);
    assert_eq!(verified, Ok(()), "{name} ({p}): verify");
}

fn check_all(form: Form) -> usize {
    let mut checked = 0;
    let mut seen = BTreeSet::new();
    for vector in Vector::all() {
        seen.insert(vector.name.clone());
        if excluded(&vector.name, form) {
            continue;
        }
        assert!(
            vector.context.is_some(),
            "{}: a vector without context.json must be listed in EXCLUDED with a reason",
            vector.name
        );
        check_vector(&vector, form);
        checked += 1;
    }
    for (name, _, _) in EXCLUDED {
        assert!(
            seen.contains(*name),
            "EXCLUDED names {name}, which the suite lacks"
        );
    }
    checked
}

#[test]
fn header_form_vectors() {
    let checked = check_all(Form::Header);
    eprintln!("checked {checked} header-form vectors");
    assert!(checked >= 30, "only {checked} header-form vectors checked");
}

#[test]
fn query_form_vectors() {
    let checked = check_all(Form::Query);
    eprintln!("checked {checked} query-form vectors");
    assert!(checked >= 30, "only {checked} query-form vectors checked");
}

/// The two vectors without context.json, with the context their signers evidently used.
#[test]
fn vectors_without_context() {
    // double-encode-path: signed by aws-sigv4's own test with `Credentials::for_tests()`,
    // region us-east-1, service "service", at 20150830T123600Z. The canonical-request file
    // shows the point of the vector, the path encoded twice (`@` -> `%40`, `%3D` -> `%253D`),
    // but with the signer's clock in x-amz-date; the server uses the date it received.
    let vector = Vector::load("double-encode-path");
    let raw = vector.signed(Form::Header);
    let opts = Options {
        service: "service",
        ..Options::default()
    };
    let (creq, _) = raw.canonical(&opts);
    let expected = vector
        .file("header-canonical-request.txt")
        .replace("20210511T154045Z", "20150830T123600Z");
    assert_eq!(creq, expected, "double-encode-path: canonical request");
    let now = iso8601_to_unix("2015-08-30T12:36:00Z");
    assert_eq!(
        raw.check("notrealrnrELgWzOk3IfjzDKtFBhDby", now, &opts),
        Ok(())
    );

    // double-url-encode: a Lambda request whose ARN path segment is encoded again.
    let vector = Vector::load("double-url-encode");
    let raw = vector.signed(Form::Header);
    let opts = Options {
        service: "lambda",
        ..Options::default()
    };
    let (creq, sts) = raw.canonical(&opts);
    assert_eq!(creq, vector.file("header-canonical-request.txt"));
    assert_eq!(sts, vector.file("header-string-to-sign.txt"));
    // Its signer used the suite's usual example secret.
    let now = iso8601_to_unix("2021-05-11T15:40:45Z");
    assert_eq!(raw.check(EXAMPLE_SECRET, now, &opts), Ok(()));
    assert_eq!(
        raw.check("notrealrnrELgWzOk3IfjzDKtFBhDby", now, &opts),
        Err(AuthError::SignatureMismatch)
    );
}

#[test]
fn locates_versions_in_a_lockfile() {
    let lock = "[[package]]\nname = \"aws-sigv4\"\nversion = \"1.4.5\"\n\n\
                [[package]]\nname = \"aws-sigv4a\"\nversion = \"9\"\n";
    assert_eq!(locked_versions(lock, "aws-sigv4"), ["1.4.5"]);
    assert_eq!(iso8601_to_unix("2015-08-30T12:36:00Z"), 1_440_938_160);
    assert_eq!(iso8601_to_unix("2000-03-01T00:00:00Z"), 951_868_800);
}

// ---------------------------------------------------------------------------------------
// Negative tests: one change at a time
// ---------------------------------------------------------------------------------------

/// A vector's signed request in one form, with what a server needs to check it.
struct Case {
    raw: RawRequest,
    secret: String,
    now: i64,
    opts: Options,
    signature: String,
}

impl Case {
    fn load(name: &str, form: Form) -> Case {
        let vector = Vector::load(name);
        let case = Case {
            raw: vector.signed(form),
            secret: vector.secret().to_owned(),
            now: vector.now(),
            opts: vector.options(),
            signature: vector.file(&format!("{}-signature.txt", prefix(form))),
        };
        assert_eq!(case.check(&case.raw), Ok(()), "{name}: unchanged request");
        case
    }

    fn check(&self, raw: &RawRequest) -> Result<(), AuthError> {
        raw.check(&self.secret, self.now, &self.opts)
    }

    fn check_at(&self, raw: &RawRequest, now: i64) -> Result<(), AuthError> {
        raw.check(&self.secret, now, &self.opts)
    }

    /// The request with its signature replaced by `signature`.
    fn with_signature(&self, signature: &str) -> RawRequest {
        let mut raw = self.raw.clone();
        match raw.header("authorization") {
            Some(auth) => {
                let auth = auth.replace(&self.signature, signature);
                raw.set_header("Authorization", &auth);
            }
            None => raw.replace_in_query(
                &format!("X-Amz-Signature={}", self.signature),
                &format!("X-Amz-Signature={signature}"),
            ),
        }
        raw
    }
}

const FORMS: [Form; 2] = [Form::Header, Form::Query];
const MINUTE: i64 = 60;

#[test]
fn every_changed_signature_digit_is_a_mismatch() {
    for form in FORMS {
        let case = Case::load("get-vanilla", form);
        let mut tried = 0;
        for position in 0..64 {
            for digit in "0123456789abcdef".chars() {
                let mut signature: Vec<char> = case.signature.chars().collect();
                if signature[position] == digit {
                    continue;
                }
                signature[position] = digit;
                let signature: String = signature.into_iter().collect();
                assert_eq!(
                    case.check(&case.with_signature(&signature)),
                    Err(AuthError::SignatureMismatch),
                    "{form:?}: digit {position} changed to {digit}"
                );
                tried += 1;
            }
        }
        assert_eq!(tried, 64 * 15);
        // SigV4 signatures are lowercase hex; the server compares exactly what it computes.
        let upper = case.signature.to_ascii_uppercase();
        assert_eq!(
            case.check(&case.with_signature(&upper)),
            Err(AuthError::SignatureMismatch)
        );
        for bad in [
            String::new(),
            case.signature[..63].to_owned(),
            format!("{}0", case.signature),
            format!("{}g", &case.signature[..63]),
        ] {
            assert!(
                matches!(
                    case.check(&case.with_signature(&bad)),
                    Err(AuthError::Malformed(_))
                ),
                "{form:?}: signature {bad:?}"
            );
        }
    }
}

#[test]
fn wrong_secret_is_a_mismatch() {
    for form in FORMS {
        let case = Case::load("post-vanilla", form);
        for secret in ["", "wrong", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz"] {
            assert_eq!(
                case.raw.check(secret, case.now, &case.opts),
                Err(AuthError::SignatureMismatch),
                "{form:?}: secret {secret:?}"
            );
        }
    }
}

#[test]
fn changed_requests_are_mismatches() {
    use AuthError::SignatureMismatch as Mismatch;
    for form in FORMS {
        // Method, path, host.
        let case = Case::load("get-vanilla", form);
        let mut raw = case.raw.clone();
        raw.method = "POST".into();
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: method");
        let mut raw = case.raw.clone();
        raw.path = "/x".into();
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: path");
        let mut raw = case.raw.clone();
        raw.path = "/%2F".into();
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: path %2F");
        let mut raw = case.raw.clone();
        raw.set_header("Host", "example.amazonaws.com.evil");
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: host");
        // A path that normalises to the signed one is the same request.
        let mut raw = case.raw.clone();
        raw.path = "/a/../".into();
        assert_eq!(case.check(&raw), Ok(()), "{form:?}: equivalent path");

        // Query values, and extra parameters.
        let case = Case::load("post-vanilla-query", form);
        let mut raw = case.raw.clone();
        raw.replace_in_query("Param1=value1", "Param1=value2");
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: query value");
        let mut raw = case.raw.clone();
        raw.replace_in_query("Param1=value1", "Param1=value1&Param2=");
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: extra parameter");
        let mut raw = case.raw.clone();
        raw.replace_in_query("Param1=value1", "Param1=value1&Param1=value1");
        assert_eq!(
            case.check(&raw),
            Err(Mismatch),
            "{form:?}: repeated parameter"
        );
        // The same query in another order and encoding is the same request.
        let mut raw = case.raw.clone();
        let mut pieces: Vec<&str> = case.raw.query.as_deref().unwrap().split('&').collect();
        pieces.retain(|p| *p != "Param1=value1");
        pieces.push("Param%31=%76alue1");
        let reordered = pieces.join("&");
        raw.query = Some(reordered);
        assert_eq!(
            case.check(&raw),
            Ok(()),
            "{form:?}: reordered, re-encoded query"
        );

        // The body: part of every canonical request through its hash.
        let case = Case::load("post-vanilla", form);
        let mut raw = case.raw.clone();
        raw.body = b"x".to_vec();
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: body");

        // Signed and unsigned header values.
        let case = Case::load("get-header-value-trim", form);
        let mut raw = case.raw.clone();
        raw.set_header("My-Header1", "value2");
        assert_eq!(case.check(&raw), Err(Mismatch), "{form:?}: signed header");
        let mut raw = case.raw.clone();
        raw.headers.push(("My-Header1".into(), "value1".into()));
        assert_eq!(
            case.check(&raw),
            Err(Mismatch),
            "{form:?}: repeated signed header"
        );
        let mut raw = case.raw.clone();
        raw.set_header("My-Header1", " \t value1   ");
        assert_eq!(
            case.check(&raw),
            Ok(()),
            "{form:?}: signed header, whitespace"
        );
        let mut raw = case.raw.clone();
        raw.set_header("My-Header3", "anything");
        raw.set_header("User-Agent", "changed");
        assert_eq!(case.check(&raw), Ok(()), "{form:?}: unsigned headers");
        let mut raw = case.raw.clone();
        raw.remove_header("My-Header2");
        assert!(
            matches!(case.check(&raw), Err(AuthError::Malformed(_))),
            "{form:?}: signed header absent"
        );
    }

    // A body whose hash is in a signed x-amz-content-sha256 header: changing the body and
    // the header together still breaks the signature.
    let case = Case::load("post-x-www-form-urlencoded", Form::Header);
    let mut raw = case.raw.clone();
    raw.body = b"Param1=value2".to_vec();
    raw.set_header(
        "x-amz-content-sha256",
        &hex::encode(Sha256::digest(&raw.body)),
    );
    assert_eq!(case.check(&raw), Err(Mismatch), "body and its hash header");

    // The unsigned session token of post-sts-header-after can change unnoticed (which is why
    // clients sign it and why the token carries its own integrity on AWS).
    let case = Case::load("post-sts-header-after", Form::Header);
    let mut raw = case.raw.clone();
    raw.set_header("X-Amz-Security-Token", "other");
    assert_eq!(case.check(&raw), Ok(()));
    let case = Case::load("post-sts-header-before", Form::Header);
    let mut raw = case.raw.clone();
    raw.set_header("X-Amz-Security-Token", "other");
    assert_eq!(case.check(&raw), Err(Mismatch));
}

#[test]
fn body_hash_header_must_match_the_body() {
    let case = Case::load("post-x-www-form-urlencoded", Form::Header);
    let mut raw = case.raw.clone();
    raw.body = b"Param1=value2".to_vec();
    assert_eq!(case.check(&raw), Err(AuthError::BodyHashMismatch));
    for claimed in [
        "UNSIGNED-PAYLOAD".to_owned(),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned(),
        hex::encode(Sha256::digest(b"other")),
        hex::encode(Sha256::digest(&raw.body)).to_ascii_uppercase(),
        String::new(),
    ] {
        let mut raw = case.raw.clone();
        raw.set_header("X-Amz-Content-Sha256", &claimed);
        assert_eq!(
            case.check(&raw),
            Err(AuthError::BodyHashMismatch),
            "claimed {claimed:?}"
        );
    }
    // Also when the header is not signed, in either form.
    for form in FORMS {
        let case = Case::load("post-vanilla", form);
        let mut raw = case.raw.clone();
        raw.set_header("x-amz-content-sha256", &hex::encode(Sha256::digest(b"x")));
        assert_eq!(
            case.check(&raw),
            Err(AuthError::BodyHashMismatch),
            "{form:?}"
        );
        let mut raw = case.raw.clone();
        raw.set_header("x-amz-content-sha256", &hex::encode(Sha256::digest(b"")));
        assert_eq!(case.check(&raw), Ok(()), "{form:?}: correct unsigned hash");
    }
}

#[test]
fn header_form_time_must_be_within_the_skew() {
    let case = Case::load("get-vanilla", Form::Header);
    let t = case.now;
    for minutes in [-16, 16] {
        assert_eq!(
            case.check_at(&case.raw, t + minutes * MINUTE),
            Err(AuthError::RequestTooSkewed),
            "{minutes} minutes"
        );
    }
    for minutes in [-15, -14, 0, 14, 15] {
        assert_eq!(
            case.check_at(&case.raw, t + minutes * MINUTE),
            Ok(()),
            "{minutes} minutes"
        );
    }
    assert_eq!(
        case.check_at(&case.raw, t + 15 * MINUTE + 1),
        Err(AuthError::RequestTooSkewed)
    );
    for now in [i64::MIN, -1, 0, i64::MAX] {
        assert_eq!(
            case.check_at(&case.raw, now),
            Err(AuthError::RequestTooSkewed)
        );
    }
    let strict = Options {
        max_skew_secs: 60,
        ..case.opts.clone()
    };
    assert_eq!(
        case.raw.check(&case.secret, t + 61, &strict),
        Err(AuthError::RequestTooSkewed)
    );
    assert_eq!(case.raw.check(&case.secret, t - 60, &strict), Ok(()));
}

#[test]
fn presigned_urls_expire() {
    let case = Case::load("get-vanilla", Form::Query);
    let t = case.now;
    let expires = 3600;
    assert_eq!(case.check_at(&case.raw, t + expires), Ok(()));
    assert_eq!(
        case.check_at(&case.raw, t + expires + 1),
        Err(AuthError::RequestExpired)
    );
    assert_eq!(
        case.check_at(&case.raw, t + 16 * MINUTE),
        Ok(()),
        "a presigned URL is good for its whole X-Amz-Expires"
    );
    assert_eq!(
        case.check_at(&case.raw, t - 16 * MINUTE),
        Err(AuthError::RequestTooSkewed)
    );
    assert_eq!(case.check_at(&case.raw, t - 14 * MINUTE), Ok(()));
    assert_eq!(
        case.check_at(&case.raw, i64::MAX),
        Err(AuthError::RequestExpired)
    );
    assert_eq!(
        case.check_at(&case.raw, i64::MIN),
        Err(AuthError::RequestTooSkewed)
    );
    // Lengthening X-Amz-Expires does not help: it is signed.
    let mut raw = case.raw.clone();
    raw.replace_in_query("X-Amz-Expires=3600", "X-Amz-Expires=7200");
    assert_eq!(
        case.check_at(&raw, t + expires + 1),
        Err(AuthError::SignatureMismatch)
    );
}

/// Signs `raw` in the header form with this module's own functions, for requests the
/// suite has no vector for. `scope` is `date/region/service`, and may disagree with
/// `amz_date`.
fn sign_header(
    raw: &mut RawRequest,
    secret: &str,
    amz_date: &str,
    scope: &str,
    signed_headers: &[&str],
) {
    if raw.header("date").is_none() {
        raw.set_header("X-Amz-Date", amz_date);
    }
    let [scope_date, region, service] = scope.split('/').collect::<Vec<_>>()[..] else {
        panic!("scope {scope:?} is not date/region/service");
    };
    let sig = Signature {
        form: Form::Header,
        access_key_id: "AKIDEXAMPLE".into(),
        date: scope_date.into(),
        region: region.into(),
        service: service.into(),
        signed_headers: signed_headers.iter().map(|s| s.to_string()).collect(),
        signature: String::new(),
        amz_date: amz_date.into(),
        expires: None,
    };
    let opts = Options {
        service: leak(service),
        ..Options::default()
    };
    let pairs = raw.pairs();
    let creq = sigv4::canonical_request(&raw.request(&pairs), &sig, &opts).unwrap();
    let signature = signature_for(secret, &sig, &sigv4::string_to_sign(&creq, &sig));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}/aws4_request, \
         SignedHeaders={}, Signature={signature}",
        signed_headers.join(";")
    );
    raw.set_header("Authorization", &authorization);
}

fn chime_request() -> RawRequest {
    RawRequest {
        method: "POST".into(),
        path: "/accounts".into(),
        query: None,
        headers: vec![
            ("Host".into(), "service.chime.aws.amazon.com".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: br#"{"Name":"belfry"}"#.to_vec(),
    }
}

const T: &str = "20150830T123600Z";

fn t() -> i64 {
    iso8601_to_unix("2015-08-30T12:36:00Z")
}

#[test]
fn scope_must_name_the_service_and_the_request_date() {
    let chime = Options::default();
    let signed = ["host", "x-amz-date"];

    let mut raw = chime_request();
    sign_header(
        &mut raw,
        EXAMPLE_SECRET,
        T,
        "20150830/us-east-1/chime",
        &signed,
    );
    assert_eq!(raw.check(EXAMPLE_SECRET, t(), &chime), Ok(()));

    // A vector, validly signed for "service", sent to a chime server.
    for form in FORMS {
        let case = Case::load("get-vanilla", form);
        assert_eq!(
            case.raw.check(&case.secret, case.now, &chime),
            Err(AuthError::WrongService("chime".into())),
            "{form:?}"
        );
    }
    // A request validly signed for another service.
    let mut raw = chime_request();
    sign_header(
        &mut raw,
        EXAMPLE_SECRET,
        T,
        "20150830/us-east-1/iam",
        &signed,
    );
    let err = raw.check(EXAMPLE_SECRET, t(), &chime).unwrap_err();
    assert_eq!(err, AuthError::WrongService("chime".into()));
    assert_eq!(err.to_string(), "Credential scope service must be 'chime'");

    // Validly signed, but with a scope date other than the request's.
    let mut raw = chime_request();
    sign_header(
        &mut raw,
        EXAMPLE_SECRET,
        T,
        "20150829/us-east-1/chime",
        &signed,
    );
    assert_eq!(
        raw.check(EXAMPLE_SECRET, t(), &chime),
        Err(AuthError::ScopeDateMismatch)
    );
    // A vector whose X-Amz-Date was moved to the next day.
    let case = Case::load("get-vanilla", Form::Header);
    let mut raw = case.raw.clone();
    raw.set_header("X-Amz-Date", "20150831T000500Z");
    assert_eq!(
        case.check_at(&raw, iso8601_to_unix("2015-08-31T00:05:00Z")),
        Err(AuthError::ScopeDateMismatch)
    );
    // Any region is accepted, but it is part of the signing key.
    let mut raw = chime_request();
    sign_header(
        &mut raw,
        EXAMPLE_SECRET,
        T,
        "20150830/eu-west-1/chime",
        &signed,
    );
    assert_eq!(raw.check(EXAMPLE_SECRET, t(), &chime), Ok(()));
    let auth = raw
        .header("authorization")
        .unwrap()
        .replace("eu-west-1", "us-east-1");
    raw.set_header("Authorization", &auth);
    assert_eq!(
        raw.check(EXAMPLE_SECRET, t(), &chime),
        Err(AuthError::SignatureMismatch)
    );
}

#[test]
fn date_header_is_accepted_without_x_amz_date() {
    let mut raw = chime_request();
    raw.set_header("Date", "Sun, 30 Aug 2015 12:36:00 GMT");
    sign_header(
        &mut raw,
        EXAMPLE_SECRET,
        T,
        "20150830/us-east-1/chime",
        &["date", "host"],
    );
    assert!(raw.header("x-amz-date").is_none());
    let sig = raw.parse_signature().unwrap();
    assert_eq!(sig.amz_date, T);
    assert_eq!(raw.check(EXAMPLE_SECRET, t(), &Options::default()), Ok(()));

    for bad in [
        "Sunday, 30-Aug-15 12:36:00 GMT",
        "yesterday",
        "",
        "20150830T123600Z",
    ] {
        let mut bad_raw = raw.clone();
        bad_raw.set_header("Date", bad);
        assert!(
            matches!(bad_raw.parse_signature(), Err(AuthError::Malformed(_))),
            "Date: {bad:?}"
        );
    }
    let mut no_date = raw.clone();
    no_date.remove_header("date");
    assert!(matches!(
        no_date.parse_signature(),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn missing_authentication() {
    let mut raw = chime_request();
    assert_eq!(raw.parse_signature(), Err(AuthError::Missing));
    raw.set_header("X-Amz-Date", T);
    raw.query =
        Some("X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fchime%2Faws4_request".into());
    assert_eq!(raw.parse_signature(), Err(AuthError::Missing));
    raw.query = Some(String::new());
    assert_eq!(raw.parse_signature(), Err(AuthError::Missing));
    raw.headers.clear();
    raw.query = None;
    assert_eq!(
        raw.check(EXAMPLE_SECRET, t(), &Options::default()),
        Err(AuthError::Missing)
    );
    assert_eq!(
        AuthError::Missing.to_string(),
        "Missing authentication: the request has no Authorization header or \
         X-Amz-Signature query parameter"
    );
}

#[test]
fn authorization_header_variations_are_tolerated() {
    let case = Case::load("get-vanilla", Form::Header);
    let cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    let sh = "SignedHeaders=host;x-amz-date";
    let sg = format!("Signature={}", case.signature);
    for value in [
        format!("AWS4-HMAC-SHA256 {cred},{sh},{sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred} {sh} {sg}"),
        format!("  AWS4-HMAC-SHA256\t{cred} ,\t{sh} ,, {sg}  "),
        format!("AWS4-HMAC-SHA256 {sg}, {cred}, {sh}"),
        format!("AWS4-HMAC-SHA256 {sh}, {sg}, {cred},"),
        format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=Host;X-Amz-Date, {sg}"),
    ] {
        let mut raw = case.raw.clone();
        raw.set_header("Authorization", &value);
        assert_eq!(case.check(&raw), Ok(()), "{value:?}");
    }
    // The header name is case-insensitive.
    let mut raw = case.raw.clone();
    let value = raw.header("authorization").unwrap().to_owned();
    raw.remove_header("authorization");
    raw.headers.push(("aUTHORIZATION".into(), value));
    assert_eq!(case.check(&raw), Ok(()));
}

#[test]
fn garbage_authorization_headers_are_malformed() {
    let case = Case::load("get-vanilla", Form::Header);
    let cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    let sh = "SignedHeaders=host;x-amz-date";
    let sg = format!("Signature={}", case.signature);
    let long = "A".repeat(100_000);
    let garbage = [
        String::new(),
        " ".into(),
        "garbage".into(),
        "Bearer".into(),
        "Bearer abc".into(),
        "Basic dXNlcjpwYXNzd29yZA==".into(),
        "AWS4-HMAC-SHA256".into(),
        "AWS4-HMAC-SHA256 ".into(),
        "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=".into(),
        "\u{0}\u{1}\u{7f}".into(),
        "AWS4-HMAC-SHA256 \u{1234}=\u{1234}".into(),
        long.clone(),
        format!("AWS4-HMAC-SHA256 {long}"),
        format!("AWS4-HMAC-SHA256 {cred}"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}"),
        format!("AWS4-HMAC-SHA256 {cred}, {sg}"),
        format!("AWS4-HMAC-SHA256 {sh}, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, {cred}, {sh}, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, {sg}, Foo=bar"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, {sg}, junk"),
        format!("AWS4-HMAC-SHA256 {cred}; {sh}; {sg}"),
        format!(
            "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, {sh}, {sg}"
        ),
        format!("AWS4-HMAC-SHA256 Credential = AKIDEXAMPLE, {sh}, {sg}"),
        format!("AWS4-HMAC-SHA256 Credential=, {sh}, {sg}"),
        format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, {sh}, {sg}"),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/us-east-1/service/aws4_request, {sh}, {sg}"
        ),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws3_request, {sh}, {sg}"
        ),
        format!("AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, {sh}, {sg}"),
        format!(
            "AWS4-HMAC-SHA256 Credential=A/B/20150830/us-east-1/service/aws4_request, {sh}, {sg}"
        ),
        format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=x-amz-date, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;;x-amz-date, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;, {sg}"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, Signature="),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, Signature=xyz"),
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, {sg}0"),
        format!(
            "AWS4-HMAC-SHA256 {cred}, {sh}, Signature={}",
            "z".repeat(64)
        ),
    ];
    for value in &garbage {
        let mut raw = case.raw.clone();
        raw.set_header("Authorization", value);
        let result = case.check(&raw);
        assert!(
            matches!(result, Err(AuthError::Malformed(_))),
            "{:?}: {result:?}",
            value.chars().take(120).collect::<String>()
        );
    }

    // The rest of the request must be readable too.
    let malformed = |raw: &RawRequest| matches!(case.check(raw), Err(AuthError::Malformed(_)));
    let mut raw = case.raw.clone();
    raw.remove_header("x-amz-date");
    assert!(malformed(&raw), "no X-Amz-Date");
    for bad in [
        "",
        "2015-08-30T12:36:00Z",
        "20150830T123600",
        "20150230T123600Z",
        "now",
    ] {
        let mut raw = case.raw.clone();
        raw.set_header("X-Amz-Date", bad);
        assert!(malformed(&raw), "X-Amz-Date {bad:?}");
    }
    let mut raw = case.raw.clone();
    raw.headers.push(("X-Amz-Date".into(), T.into()));
    assert!(malformed(&raw), "two X-Amz-Date headers");
    let mut raw = case.raw.clone();
    let auth = raw.header("authorization").unwrap().to_owned();
    raw.headers.push(("Authorization".into(), auth));
    assert!(malformed(&raw), "two Authorization headers");
    let query_case = Case::load("get-vanilla", Form::Query);
    let mut raw = query_case.raw.clone();
    raw.headers.push((
        "Authorization".into(),
        case.raw.header("authorization").unwrap().into(),
    ));
    assert!(malformed(&raw), "both forms at once");

    // Well formed, but another algorithm.
    for algorithm in [
        "AWS4-HMAC-SHA512",
        "AWS4-ECDSA-P256-SHA256",
        "aws4-hmac-sha256",
    ] {
        let mut raw = case.raw.clone();
        raw.set_header("Authorization", &format!("{algorithm} {cred}, {sh}, {sg}"));
        assert_eq!(
            case.check(&raw),
            Err(AuthError::WrongAlgorithm),
            "{algorithm}"
        );
    }
}

#[test]
fn garbage_query_parameters_are_malformed() {
    let case = Case::load("get-vanilla", Form::Query);
    let malformed = |raw: &RawRequest| matches!(case.check(raw), Err(AuthError::Malformed(_)));
    let query = case.raw.query.clone().unwrap();
    for param in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
        "X-Amz-Signature",
    ] {
        // Without it.
        let without: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with(&format!("{param}=")))
            .collect();
        let mut raw = case.raw.clone();
        raw.query = Some(without.join("&"));
        assert!(malformed(&raw), "without {param}");
        // Twice.
        let twice = query
            .split('&')
            .find(|p| p.starts_with(&format!("{param}=")))
            .unwrap();
        let mut raw = case.raw.clone();
        raw.query = Some(format!("{query}&{twice}"));
        assert!(malformed(&raw), "{param} twice");
    }
    for expires in [
        "0",
        "-1",
        "604801",
        "99999999999999999999",
        "abc",
        "",
        "+5",
        " 5",
        "1.5",
    ] {
        let mut raw = case.raw.clone();
        raw.replace_in_query("X-Amz-Expires=3600", &format!("X-Amz-Expires={expires}"));
        assert!(malformed(&raw), "X-Amz-Expires={expires}");
    }
    let mut raw = case.raw.clone();
    raw.replace_in_query("X-Amz-Expires=3600", "X-Amz-Expires=604800");
    assert_eq!(raw.parse_signature().unwrap().expires, Some(604_800));
    for (from, to) in [
        ("X-Amz-Credential=AKIDEXAMPLE%2F", "X-Amz-Credential=%FF%2F"),
        ("%2Faws4_request", "%2Faws4_request%2F"),
        ("X-Amz-Date=20150830T123600Z", "X-Amz-Date=20150830T123600"),
        ("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"),
        ("X-Amz-Signature=", "X-Amz-Signature=00"),
    ] {
        let mut raw = case.raw.clone();
        raw.replace_in_query(from, to);
        assert!(malformed(&raw), "{to}");
    }
    let mut raw = case.raw.clone();
    raw.replace_in_query(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=AWS4-HMAC-SHA512",
    );
    assert_eq!(case.check(&raw), Err(AuthError::WrongAlgorithm));
}

#[test]
fn error_messages_reveal_no_secrets() {
    let case = Case::load("post-x-www-form-urlencoded", Form::Header);
    let wrong_secret = "not-the-secret-at-all";
    let (creq, sts) = case.raw.canonical(&case.opts);
    let sig = case.raw.parse_signature().unwrap();
    let computed_with_wrong = signature_for(wrong_secret, &sig, &sts);
    let signing_keys = [
        hex::encode(sigv4::signing_key(
            &case.secret,
            &sig.date,
            &sig.region,
            &sig.service,
        )),
        hex::encode(sigv4::signing_key(
            wrong_secret,
            &sig.date,
            &sig.region,
            &sig.service,
        )),
    ];

    let mut errors = vec![
        AuthError::Missing,
        AuthError::Malformed("reason".into()),
        AuthError::WrongService("chime".into()),
        AuthError::WrongAlgorithm,
        AuthError::ScopeDateMismatch,
        AuthError::RequestExpired,
        AuthError::RequestTooSkewed,
        AuthError::BodyHashMismatch,
        AuthError::SignatureMismatch,
        AuthError::UnknownAccessKey,
    ];
    // And every error the requests above actually produce.
    let mut produce = |raw: &RawRequest, secret: &str, now: i64, opts: &Options| {
        errors.push(raw.check(secret, now, opts).unwrap_err());
    };
    produce(&case.raw, wrong_secret, case.now, &case.opts);
    produce(&case.raw, &case.secret, case.now, &Options::default());
    produce(&case.raw, &case.secret, case.now + 3600, &case.opts);
    let mut raw = case.raw.clone();
    raw.body.push(b'!');
    produce(&raw, &case.secret, case.now, &case.opts);
    raw.set_header(
        "x-amz-content-sha256",
        &hex::encode(Sha256::digest(&raw.body)),
    );
    produce(&raw, &case.secret, case.now, &case.opts);
    raw.remove_header("content-type");
    produce(&raw, &case.secret, case.now, &case.opts);
    raw.set_header("Authorization", "AWS4-HMAC-SHA256 nonsense");
    produce(&raw, &case.secret, case.now, &case.opts);
    let query = Case::load("get-vanilla", Form::Query);
    produce(&query.raw, &query.secret, query.now + 7200, &query.opts);
    produce(&query.raw, "wrong", query.now, &query.opts);

    let mut secrets: Vec<&str> = vec![
        &case.secret,
        wrong_secret,
        &computed_with_wrong,
        &creq,
        &sts,
        &signing_keys[0],
        &signing_keys[1],
    ];
    // Also the lines of the canonical request and string to sign that could only come from
    // the server's computation (hashes).
    secrets.extend(creq.lines().last());
    secrets.extend(sts.lines().last());
    let query_sts = query.raw.canonical(&query.opts).1;
    let query_wrong = signature_for("wrong", &query.raw.parse_signature().unwrap(), &query_sts);
    secrets.push(&query_wrong);

    for error in &errors {
        let display = error.to_string();
        let debug = format!("{error:?}");
        assert!(!display.is_empty());
        for secret in &secrets {
            assert!(!display.contains(secret), "{display:?} reveals {secret:?}");
            assert!(!debug.contains(secret), "{debug:?} reveals {secret:?}");
        }
    }
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for expected in [
        "Missing authentication",
        "Malformed",
        "Credential scope service must be 'chime'",
        "AWS4-HMAC-SHA256",
        "Credential scope date",
        "Request has expired",
        "Request time is too skewed",
        "x-amz-content-sha256 does not match the request body",
        "The request signature does not match the signature computed by the server",
        "unknown access key",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "no message says {expected:?}: {messages:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Requests signed by the AWS SDK's own signer
// ---------------------------------------------------------------------------------------

/// Signs with the `aws-sigv4` crate, as `aws-sdk-chime` does, and applies the result to
/// a [`RawRequest`] the way a client would put it on the wire.
fn sign_with_aws_sigv4(
    raw: &mut RawRequest,
    location: aws_sigv4::http_request::SignatureLocation,
    time: i64,
) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    let identity =
        aws_credential_types::Credentials::new("AKIDEXAMPLE", EXAMPLE_SECRET, None, None, "test")
            .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    settings.expires_in = Some(Duration::from_secs(300));
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("chime")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(time as u64))
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let host = raw.header("host").expect("host").to_owned();
    let uri = match &raw.query {
        Some(q) => format!("https://{host}{}?{q}", raw.path),
        None => format!("https://{host}{}", raw.path),
    };
    let pairs = raw.pairs();
    let signable = SignableRequest::new(
        &raw.method,
        uri,
        pairs.iter().copied(),
        SignableBody::Bytes(&raw.body),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("signs").into_parts();
    let (headers, params) = instructions.into_parts();
    for header in headers {
        raw.set_header(header.name(), header.value());
    }
    for (name, value) in params {
        let pair = format!("{name}={}", utf8_percent_encode(&value, QUERY_VALUE));
        raw.query = Some(match raw.query.take() {
            Some(q) if !q.is_empty() => format!("{q}&{pair}"),
            _ => pair,
        });
    }
}

#[test]
fn requests_signed_by_aws_sigv4_verify() {
    use aws_sigv4::http_request::SignatureLocation;
    let time = t();
    /// Method, raw path, raw query, body, headers besides Host.
    type SdkCase<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a [u8],
        &'a [(&'a str, &'a str)],
    );
    let cases: &[SdkCase] = &[
        ("GET", "/accounts", None, b"", &[]),
        (
            "GET",
            "/accounts",
            Some("max-results=10&next-token=a%2Bb%2Fc%3D"),
            b"",
            &[],
        ),
        (
            "POST",
            "/accounts",
            None,
            br#"{"Name":"belfry"}"#,
            &[
                ("Content-Type", "application/json"),
                ("X-Amz-User-Agent", "aws-sdk-rust  1.0"),
            ],
        ),
        (
            "POST",
            "/accounts/4e0b7b4c-6b6a-4f4b-9c1e-3d6f2c4a5b6c/users",
            Some("operation=add&user-type=PrivateUser"),
            br#"{"Email":"a@example.com"}"#,
            &[("content-type", "application/x-amz-json-1.1")],
        ),
        (
            "DELETE",
            "/accounts/%3Dodd%40id/users/%E1%88%B4",
            Some("a=1&a=0&b="),
            b"",
            &[],
        ),
        (
            "GET",
            "/accounts/x%20y/",
            Some("q=%E2%9C%93&empty="),
            b"",
            &[],
        ),
        (
            "PATCH",
            "/accounts/abc",
            Some("k=%2A~%27%28%29"),
            b"\x00\xff binary",
            &[],
        ),
    ];
    let mut checked = 0;
    for (method, path, query, body, extra) in cases {
        for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
            let mut raw = RawRequest {
                method: method.to_string(),
                path: path.to_string(),
                query: query.map(str::to_owned),
                headers: vec![("Host".into(), "service.chime.aws.amazon.com".into())],
                body: body.to_vec(),
            };
            for (n, v) in *extra {
                raw.headers.push((n.to_string(), v.to_string()));
            }
            sign_with_aws_sigv4(&mut raw, location, time);
            let what = format!("{method} {path} {query:?} ({location:?})");
            let result = raw.check(EXAMPLE_SECRET, time + 30, &Options::default());
            assert_eq!(result, Ok(()), "{what}: {raw:#?}");
            assert_eq!(
                raw.check("wrong", time + 30, &Options::default()),
                Err(AuthError::SignatureMismatch),
                "{what}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, cases.len() * 2);
}

// ---------------------------------------------------------------------------------------
// No input makes it panic
// ---------------------------------------------------------------------------------------

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn run(raw: &RawRequest, now: i64) {
        let pairs = raw.pairs();
        let req = raw.request(&pairs);
        if let Ok(sig) = sigv4::parse(&req) {
            let _ = sigv4::verify(&req, &sig, EXAMPLE_SECRET, now, &Options::default());
            let _ = sigv4::canonical_request(&req, &sig, &Options::default());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn on_arbitrary_requests(
            method in ".{0,8}",
            path in ".{0,40}",
            query in proptest::option::of("(.{0,10}(%[0-9a-zA-Z]{0,2})?[=&]?){0,8}"),
            headers in proptest::collection::vec((".{0,16}", ".{0,80}"), 0..6),
            body in proptest::collection::vec(any::<u8>(), 0..64),
            now in any::<i64>(),
        ) {
            let raw = RawRequest { method, path, query, headers, body };
            run(&raw, now);
        }

        #[test]
        fn on_damaged_vectors(
            form in prop_oneof![Just(Form::Header), Just(Form::Query)],
            at in any::<usize>(),
            cut in 0usize..40,
            insert in ".{0,12}",
            now in any::<i64>(),
        ) {
            let mut raw = Vector::load("get-header-value-trim").signed(form);
            let target = match form {
                Form::Header => raw
                    .headers
                    .iter_mut()
                    .find(|(n, _)| n == "Authorization")
                    .map(|(_, v)| v)
                    .unwrap(),
                Form::Query => raw.query.as_mut().unwrap(),
            };
            let chars: Vec<char> = target.chars().collect();
            let at = at % (chars.len() + 1);
            let end = (at + cut).min(chars.len());
            *target = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter())
                .chain(chars[end..].iter()).collect();
            run(&raw, now);
        }

        #[test]
        fn on_arbitrary_signatures(
            date in ".{0,10}",
            amz_date in prop_oneof![".{0,18}", "[0-9]{8}T[0-9]{6}Z"],
            signed_headers in proptest::collection::vec(".{0,6}", 0..4),
            signature in ".{0,70}",
            expires in proptest::option::of(any::<i64>()),
            query_form in any::<bool>(),
            now in any::<i64>(),
            max_skew_secs in any::<i64>(),
            normalize_path in any::<bool>(),
        ) {
            let raw = Vector::load("get-vanilla").signed(Form::Header);
            let pairs = raw.pairs();
            let req = raw.request(&pairs);
            let sig = Signature {
                form: if query_form { Form::Query } else { Form::Header },
                access_key_id: "AKIDEXAMPLE".into(),
                date,
                region: "us-east-1".into(),
                service: "chime".into(),
                signed_headers,
                signature,
                amz_date,
                expires,
            };
            let opts = Options { service: "chime", normalize_path, max_skew_secs };
            let _ = sigv4::verify(&req, &sig, EXAMPLE_SECRET, now, &opts);
            let _ = sigv4::canonical_request(&req, &sig, &opts);
            let _ = sigv4::string_to_sign("x", &sig);
        }
    }
}
