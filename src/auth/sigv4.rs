//! Server-side verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`).
//!
//! Every request to an AWS service carries a signature: an HMAC-SHA256, keyed by a secret
//! derived from the caller's secret access key, over a *canonical* description of the
//! request. The client computes it, the server computes it again from what it received and
//! from its own copy of the secret, and the two must agree. Nobody ever sends the secret.
//!
//! This module is the server half, for the non-S3 services (Belfry emulates Amazon Chime,
//! service name `chime`). It works in two steps, with a key lookup in between that belongs
//! to the caller:
//!
//! ```text
//!   parse(request) ─────────► Signature { access_key_id, scope, signed headers, ... }
//!                                 │
//!          caller: look up the secret of signature.access_key_id
//!                                 │
//!   verify(request, signature, secret, now) ──► Ok(()) or AuthError
//! ```
//!
//! # What is signed
//!
//! [`verify`] rebuilds three things, exactly as the client did:
//!
//! 1. The **canonical request** ([`canonical_request`]): six parts joined by `\n`.
//!
//!    ```text
//!    GET                                      <- method
//!    /accounts                                <- canonical URI (path, encoded again)
//!    max-results=10                           <- canonical query string (sorted)
//!    host:service.chime.aws.amazon.com        <- canonical headers, one per signed header,
//!    x-amz-date:20150830T123600Z                 each line ending in '\n' ...
//!                                             <- ... hence this empty line
//!    host;x-amz-date                          <- the signed header names
//!    e3b0c44298fc1c149afbf4c8996fb92427ae...  <- hex SHA-256 of the body (here empty)
//!    ```
//!
//! 2. The **string to sign** ([`string_to_sign`]): the algorithm, the request time, the
//!    credential scope and the hex SHA-256 of the canonical request.
//!
//!    ```text
//!    AWS4-HMAC-SHA256
//!    20150830T123600Z
//!    20150830/us-east-1/chime/aws4_request
//!    4d89a094dc7f50f3d2e2e96c3232d22fdce8f6ff770b9f1666fbbf5df06fa621
//!    ```
//!
//! 3. The **signing key** ([`signing_key`]): the secret, narrowed to one day, one region
//!    and one service by a chain of HMACs, so that a leaked signing key is of little use.
//!
//! The signature is `hex(HMAC-SHA256(signing key, string to sign))`, compared in constant
//! time with the one the client sent.
//!
//! # Where the signature travels
//!
//! * [`Form::Header`]: an `Authorization` header,
//!   `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/chime/aws4_request,
//!   SignedHeaders=host;x-amz-date, Signature=<64 hex>`, with the time in `X-Amz-Date`.
//! * [`Form::Query`]: a *presigned URL*, with the same facts in the `X-Amz-Algorithm`,
//!   `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders` and
//!   `X-Amz-Signature` query parameters. All of them but `X-Amz-Signature` are part of the
//!   canonical query string, so they are signed too.
//!
//! # Errors that reach clients
//!
//! The [`Display`](std::fmt::Display) of an [`AuthError`] is meant to be sent back to the
//! client. It names the cause and nothing else: never the secret, the signature the server
//! expected, the canonical request or the string to sign. Those would turn the server into
//! an oracle that tells an attacker what to sign.
//!
//! # Example
//!
//! ```
//! use belfry::auth::sigv4::{self, Options, Request};
//!
//! let headers = [
//!     ("Host", "service.chime.aws.amazon.com"),
//!     ("X-Amz-Date", "20150830T123600Z"),
//!     (
//!         "Authorization",
//!         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/chime/aws4_request, \
//!          SignedHeaders=host;x-amz-date, \
//!          Signature=4ae831471dba2c489f6a1d56a2697396e66602cd848503e54a14076a54f4b174",
//!     ),
//! ];
//! let request = Request {
//!     method: "GET",
//!     raw_path: "/accounts",
//!     raw_query: Some("max-results=10"),
//!     headers: &headers,
//!     body: b"",
//! };
//!
//! // Step 1: what does the request claim?
//! let signature = sigv4::parse(&request).unwrap();
//! assert_eq!(signature.access_key_id, "AKIDEXAMPLE");
//!
//! // Between the steps the caller finds the secret of `signature.access_key_id`.
//! let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
//!
//! // Step 2: is it true? `now` is 2015-08-30T12:40:00Z, four minutes after X-Amz-Date.
//! let now = 1_440_938_400;
//! sigv4::verify(&request, &signature, secret, now, &Options::default()).unwrap();
//!
//! // The same request checked with the wrong secret fails, and says only that.
//! let err = sigv4::verify(&request, &signature, "not-the-secret", now, &Options::default());
//! assert_eq!(err, Err(sigv4::AuthError::SignatureMismatch));
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::time::days_from_civil;

/// The one algorithm this verifier accepts.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last component of every SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";
/// The longest life of a presigned URL AWS allows: seven days.
const MAX_EXPIRES_SECS: i64 = 604_800;

/// What the verifier needs of an HTTP request.
///
/// Everything is borrowed and *raw*: the path and query exactly as they arrived on the
/// request line, still percent-encoded, because SigV4 signs the bytes the client put on
/// the wire and any decoding would lose them (`%2F` and `/` are different paths to a
/// signature). For HTTP/2, where there is no `Host` header, pass the `:authority` as a
/// `("host", ...)` pair.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method as sent, e.g. `GET`.
    pub method: &'a str,
    /// The path exactly as on the request line, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// The raw query string after '?', if any, still percent-encoded.
    pub raw_query: Option<&'a str>,
    /// Header (name, value) pairs in arrival order; names in any case; a name may repeat.
    pub headers: &'a [(&'a str, &'a str)],
    /// The whole request body.
    pub body: &'a [u8],
}

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// In the `Authorization` header, with the request time in `X-Amz-Date`.
    Header,
    /// In `X-Amz-*` query parameters: a presigned URL, valid for `X-Amz-Expires` seconds.
    Query,
}

/// The parts of a signature, parsed from the Authorization header or from the X-Amz-* query parameters.
///
/// [`parse`] only checks that these are well formed. Whether they are *true* (the right
/// service, a current time, a matching signature) is for [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Where the signature was found.
    pub form: Form,
    /// Names the secret the request was signed with; the caller looks it up.
    pub access_key_id: String,
    /// YYYYMMDD from the credential scope.
    pub date: String,
    /// The region from the credential scope. Any region is accepted.
    pub region: String,
    /// The service from the credential scope; [`verify`] requires [`Options::service`].
    pub service: String,
    /// The signed header names: lowercase, in the order listed (which SigV4 requires to be
    /// sorted; a client that did not sort them simply fails to match).
    pub signed_headers: Vec<String>,
    /// 64 hex digits as sent (lowercase, as SigV4 clients write them).
    pub signature: String,
    /// The request time, `YYYYMMDDTHHMMSSZ`: the `X-Amz-Date` header or query parameter,
    /// or in the header form a `Date` header in RFC 1123 form rewritten this way.
    pub amz_date: String,
    /// `X-Amz-Expires` in seconds, 1 to 604800 (query form only).
    pub expires: Option<i64>,
}

/// How strict [`verify`] and [`canonical_request`] are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The service every credential scope must name, e.g. `chime`.
    pub service: &'static str,
    /// Remove `.` and `..` segments and repeated slashes from the path before encoding it.
    /// Every AWS service but S3 does this.
    pub normalize_path: bool,
    /// How far the request time may be from the server clock, in seconds.
    pub max_skew_secs: i64,
}

impl Default for Options {
    /// The Chime service, with path normalisation and AWS's 15 minutes of allowed skew.
    fn default() -> Self {
        Options {
            service: "chime",
            normalize_path: true,
            max_skew_secs: 900,
        }
    }
}

/// Why a request is not authenticated.
///
/// The [`Display`](fmt::Display) text is safe to send to the client; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm`/`X-Amz-Signature` query
    /// parameters: the request is anonymous.
    Missing,
    /// The signature is there but cannot be read; the reason says which part.
    Malformed(String),
    /// The credential scope names another service; holds the service this server expects.
    WrongService(String),
    /// A well-formed signature made with an algorithm other than `AWS4-HMAC-SHA256`.
    WrongAlgorithm,
    /// The credential scope date is not the date of `X-Amz-Date`.
    ScopeDateMismatch,
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    RequestExpired,
    /// The request time is too far from the server clock.
    RequestTooSkewed,
    /// The `x-amz-content-sha256` header is not the SHA-256 of the body.
    BodyHashMismatch,
    /// The signature is not the one the server computes: wrong secret, or a request that
    /// was changed after signing (or that the client canonicalised differently).
    SignatureMismatch,
    /// No secret is known for the access key id. Produced by the caller's key lookup.
    UnknownAccessKey,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str(
                "Missing authentication: the request has no Authorization header \
                 or X-Amz-Signature query parameter",
            ),
            AuthError::Malformed(reason) => write!(f, "Malformed authentication: {reason}"),
            AuthError::WrongService(service) => {
                write!(f, "Credential scope service must be '{service}'")
            }
            AuthError::WrongAlgorithm => {
                f.write_str("Unsupported signature algorithm: only AWS4-HMAC-SHA256 is accepted")
            }
            AuthError::ScopeDateMismatch => {
                f.write_str("Credential scope date must be the date of X-Amz-Date")
            }
            AuthError::RequestExpired => f.write_str("Request has expired"),
            AuthError::RequestTooSkewed => f.write_str(
                "Request time is too skewed: X-Amz-Date must be within 15 minutes \
                 of the server time",
            ),
            AuthError::BodyHashMismatch => {
                f.write_str("x-amz-content-sha256 does not match the request body")
            }
            AuthError::SignatureMismatch => f.write_str(
                "The request signature does not match the signature computed by the server",
            ),
            AuthError::UnknownAccessKey => f.write_str(
                "The security token included in the request is invalid: unknown access key",
            ),
        }
    }
}

impl std::error::Error for AuthError {}

fn malformed(reason: impl Into<String>) -> AuthError {
    AuthError::Malformed(reason.into())
}

// ---------------------------------------------------------------------------------------
// Step 1: parse
// ---------------------------------------------------------------------------------------

/// Step 1: find and parse the signature. Errors: Missing (no Authorization header and no X-Amz-Algorithm query param), Malformed(reason).
///
/// A request is in the query form if its query has an `X-Amz-Algorithm` or an
/// `X-Amz-Signature` parameter, and in the header form if it has an `Authorization`
/// header. Having both is [`AuthError::Malformed`], as on AWS. A well-formed signature
/// made with another algorithm is [`AuthError::WrongAlgorithm`].
///
/// Nothing here needs the secret, so the caller learns which key to look up before
/// doing any expensive or secret-dependent work.
pub fn parse(req: &Request) -> Result<Signature, AuthError> {
    let mut authorization = header_values(req.headers, "authorization");
    let header = authorization.next();
    if header.is_some() && authorization.next().is_some() {
        return Err(malformed(
            "the request has more than one Authorization header",
        ));
    }
    let params = decoded_query_pairs(req.raw_query);
    let query_form = params
        .iter()
        .any(|(k, _)| k == b"X-Amz-Algorithm" || k == b"X-Amz-Signature");
    match (header, query_form) {
        (Some(_), true) => Err(malformed(
            "only one authentication mechanism is allowed: \
             an Authorization header or X-Amz-* query parameters, not both",
        )),
        (Some(value), false) => parse_header_form(req, value),
        (None, true) => parse_query_form(&params),
        (None, false) => Err(AuthError::Missing),
    }
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
///
/// Like AWS, this tolerates any mix of commas and whitespace between the components and
/// takes them in any order; each must appear exactly once and nothing else may.
fn parse_header_form(req: &Request, value: &str) -> Result<Signature, AuthError> {
    const SHAPE: &str = "the Authorization header must look like \
         'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'";
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let (algorithm, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or_else(|| malformed(SHAPE))?;

    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    let components = rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|part| !part.is_empty());
    for component in components {
        let (name, val) = component.split_once('=').ok_or_else(|| malformed(SHAPE))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed(
                    "the Authorization header has a component other than \
                     Credential, SignedHeaders and Signature",
                ));
            }
        };
        if slot.replace(val).is_some() {
            return Err(malformed(format!(
                "the Authorization header has more than one {name} component"
            )));
        }
    }
    let credential = credential
        .ok_or_else(|| malformed("the Authorization header has no Credential component"))?;
    let signed_headers = signed_headers
        .ok_or_else(|| malformed("the Authorization header has no SignedHeaders component"))?;
    let signature = signature
        .ok_or_else(|| malformed("the Authorization header has no Signature component"))?;

    // Only now that the header is known to be SigV4-shaped is a different algorithm a
    // meaningful complaint; anything else was garbage, reported as Malformed above.
    if algorithm != ALGORITHM {
        return Err(AuthError::WrongAlgorithm);
    }

    let (access_key_id, date, region, service) = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    check_signature_hex(signature)?;
    let amz_date = request_date(req)?;

    Ok(Signature {
        form: Form::Header,
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        expires: None,
    })
}

/// The request time of the header form: `X-Amz-Date`, or failing that an RFC 1123
/// `Date` header (`Sun, 30 Aug 2015 12:36:00 GMT`), as `YYYYMMDDTHHMMSSZ`.
fn request_date(req: &Request) -> Result<String, AuthError> {
    let mut amz_dates = header_values(req.headers, "x-amz-date");
    if let Some(value) = amz_dates.next() {
        if amz_dates.next().is_some() {
            return Err(malformed("the request has more than one X-Amz-Date header"));
        }
        let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
        if parse_amz_date(value).is_none() {
            return Err(malformed("X-Amz-Date must be a time like 20150830T123600Z"));
        }
        return Ok(value.to_owned());
    }
    let mut dates = header_values(req.headers, "date");
    match (dates.next(), dates.next()) {
        (Some(value), None) => http_date_to_amz_date(value).ok_or_else(|| {
            malformed("the Date header must be in RFC 1123 form; prefer X-Amz-Date")
        }),
        (Some(_), Some(_)) => Err(malformed("the request has more than one Date header")),
        (None, _) => Err(malformed("the request has no X-Amz-Date header")),
    }
}

/// The presigned-URL form: every fact is an `X-Amz-*` query parameter.
fn parse_query_form(params: &[(Vec<u8>, Vec<u8>)]) -> Result<Signature, AuthError> {
    // Each parameter must appear once, and be UTF-8 once percent-decoded.
    let get = |name: &str| -> Result<String, AuthError> {
        let mut found = params.iter().filter(|(k, _)| k == name.as_bytes());
        let (_, value) = found
            .next()
            .ok_or_else(|| malformed(format!("the {name} query parameter is missing")))?;
        if found.next().is_some() {
            return Err(malformed(format!(
                "the {name} query parameter appears more than once"
            )));
        }
        String::from_utf8(value.clone())
            .map_err(|_| malformed(format!("the {name} query parameter is not UTF-8")))
    };
    let algorithm = get("X-Amz-Algorithm")?;
    let credential = get("X-Amz-Credential")?;
    let amz_date = get("X-Amz-Date")?;
    let expires = get("X-Amz-Expires")?;
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let signature = get("X-Amz-Signature")?;

    if algorithm != ALGORITHM {
        return Err(AuthError::WrongAlgorithm);
    }
    let (access_key_id, date, region, service) = parse_credential(&credential)?;
    let signed_headers = parse_signed_headers(&signed_headers)?;
    check_signature_hex(&signature)?;
    if parse_amz_date(&amz_date).is_none() {
        return Err(malformed("X-Amz-Date must be a time like 20150830T123600Z"));
    }
    let expires = Some(expires.as_str())
        .filter(|s| !s.is_empty() && s.len() <= 7 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| (1..=MAX_EXPIRES_SECS).contains(n))
        .ok_or_else(|| malformed("X-Amz-Expires must be a number of seconds from 1 to 604800"))?;

    Ok(Signature {
        form: Form::Query,
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
        amz_date,
        expires: Some(expires),
    })
}

/// `AKID/20150830/us-east-1/chime/aws4_request` into (key id, date, region, service).
fn parse_credential(credential: &str) -> Result<(String, String, String, String), AuthError> {
    const SHAPE: &str = "the credential must look like '<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request'";
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(malformed(SHAPE));
    };
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(malformed(SHAPE));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("the credential scope date must be YYYYMMDD"));
    }
    if terminator != TERMINATOR {
        return Err(malformed("the credential scope must end in 'aws4_request'"));
    }
    Ok((
        access_key_id.to_owned(),
        date.to_owned(),
        region.to_owned(),
        service.to_owned(),
    ))
}

/// `host;x-amz-date` into lowercase names, in the listed order, `host` required.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, AuthError> {
    let names: Vec<String> = list.split(';').map(str::to_ascii_lowercase).collect();
    check_signed_headers(&names)?;
    Ok(names)
}

fn check_signed_headers(names: &[String]) -> Result<(), AuthError> {
    let valid_name = |name: &String| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b':' && b != b';')
    };
    if !names.iter().all(valid_name) {
        return Err(malformed(
            "SignedHeaders must be header names separated by ';'",
        ));
    }
    if !names.iter().any(|name| name == "host") {
        return Err(malformed("SignedHeaders must include 'host'"));
    }
    Ok(())
}

fn check_signature_hex(signature: &str) -> Result<(), AuthError> {
    if signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(malformed("the signature must be 64 hexadecimal digits"))
    }
}

// ---------------------------------------------------------------------------------------
// Step 2: verify
// ---------------------------------------------------------------------------------------

/// Step 2: check scope, time and signature against the secret the caller looked up for sig.access_key_id.
///
/// The checks run from cheapest to dearest, and each has its own error:
///
/// 1. the scope names [`Options::service`] ([`AuthError::WrongService`]) and the date of
///    `X-Amz-Date` ([`AuthError::ScopeDateMismatch`]);
/// 2. the time: in the header form `X-Amz-Date` is within [`Options::max_skew_secs`] of
///    `now_unix_secs` either way; a presigned URL must not be from too far in the future
///    ([`AuthError::RequestTooSkewed`]) and is good until `X-Amz-Date + X-Amz-Expires`
///    ([`AuthError::RequestExpired`]);
/// 3. an `x-amz-content-sha256` header, if any, is the SHA-256 of the body
///    ([`AuthError::BodyHashMismatch`]);
/// 4. the signature, recomputed and compared in constant time
///    ([`AuthError::SignatureMismatch`]).
pub fn verify(
    req: &Request,
    sig: &Signature,
    secret_access_key: &str,
    now_unix_secs: i64,
    opts: &Options,
) -> Result<(), AuthError> {
    let key = signing_key(secret_access_key, &sig.date, &sig.region, &sig.service);
    verify_with_key(req, sig, &key, now_unix_secs, opts)
}

/// [`verify`] with the signing key already derived ([`signing_key`] of the secret and the
/// signature's date, region and service): a server derives it once per key and day, not on
/// every request.
pub fn verify_with_key(
    req: &Request,
    sig: &Signature,
    key: &[u8; 32],
    now_unix_secs: i64,
    opts: &Options,
) -> Result<(), AuthError> {
    if sig.service != opts.service {
        return Err(AuthError::WrongService(opts.service.to_owned()));
    }
    let request_time = parse_amz_date(&sig.amz_date)
        .ok_or_else(|| malformed("X-Amz-Date must be a time like 20150830T123600Z"))?;
    if sig.amz_date.get(..8) != Some(sig.date.as_str()) {
        return Err(AuthError::ScopeDateMismatch);
    }

    // i128: no input, however absurd, can overflow this arithmetic.
    let now = i128::from(now_unix_secs);
    let time = i128::from(request_time);
    let skew = i128::from(opts.max_skew_secs);
    match sig.form {
        Form::Header => {
            if (now - time).abs() > skew {
                return Err(AuthError::RequestTooSkewed);
            }
        }
        Form::Query => {
            let expires = sig
                .expires
                .ok_or_else(|| malformed("the X-Amz-Expires query parameter is missing"))?;
            if now < time - skew {
                return Err(AuthError::RequestTooSkewed);
            }
            if now > time + i128::from(expires) {
                return Err(AuthError::RequestExpired);
            }
        }
    }

    let body_hash = body_hash(req.body);
    for claimed in header_values(req.headers, "x-amz-content-sha256") {
        if claimed.trim_matches(|c: char| c.is_ascii_whitespace()) != body_hash {
            return Err(AuthError::BodyHashMismatch);
        }
    }

    let signed_as = |plus: Plus| -> Result<bool, AuthError> {
        let canonical = canonical_request_with(req, sig, opts, plus)?;
        let to_sign = string_to_sign(&canonical, sig);
        let expected = hex_lower(&hmac_sha256(key, to_sign.as_bytes()));
        // Constant time, so response timing does not reveal how many leading characters of
        // a forged signature were right. (Unequal lengths compare unequal.)
        Ok(bool::from(
            expected.as_bytes().ct_eq(sig.signature.as_bytes()),
        ))
    };
    // A raw `+` in the query is where signers disagree: SigV4 itself (and botocore, and
    // this verifier) read it as a plus, the Rust SDK's aws-sigv4 as a space (it decodes the
    // query as a form). SDKs always send `%2B` or `%20`; for a hand-built URL either reading
    // is accepted: both sign the same bytes.
    let plus_in_query = req.raw_query.is_some_and(|q| q.contains('+'));
    if signed_as(Plus::Plus)? || (plus_in_query && signed_as(Plus::Space)?) {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

/// How a raw `+` in the query is read when canonicalising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plus {
    /// A plus sign, `%2B` once canonical: SigV4's own rule.
    Plus,
    /// A space, `%20` once canonical: form decoding, as aws-sigv4 does.
    Space,
}

/// Also public, for tests and for clarity: the canonical request and string to sign.
///
/// ```text
/// <method>\n<canonical URI>\n<canonical query>\n<canonical headers>\n<signed headers>\n<body hash>
/// ```
///
/// * **URI**: the raw path, normalised if [`Options::normalize_path`], then every byte
///   that is not unreserved (`A-Z a-z 0-9 - _ . ~`) or `/` percent-encoded, *again*: a
///   client that sent `%3D` signed `%253D`. Non-S3 services sign the path this way.
/// * **Query**: each `key=value` percent-decoded and re-encoded the same strict way,
///   sorted by key then value; `X-Amz-Signature` is left out in the query form.
/// * **Headers**: for each signed name, every value of that header in arrival order,
///   trimmed, inner whitespace runs collapsed to one space, joined with `,`.
/// * **Body hash**: the hex SHA-256 of the body as received.
///
/// Fails with [`AuthError::Malformed`] if a signed header is absent from the request.
pub fn canonical_request(
    req: &Request,
    sig: &Signature,
    opts: &Options,
) -> Result<String, AuthError> {
    canonical_request_with(req, sig, opts, Plus::Plus)
}

fn canonical_request_with(
    req: &Request,
    sig: &Signature,
    opts: &Options,
    plus: Plus,
) -> Result<String, AuthError> {
    check_signed_headers(&sig.signed_headers)?;
    let mut out = String::with_capacity(256 + req.raw_path.len());
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.raw_path, opts.normalize_path));
    out.push('\n');
    out.push_str(&canonical_query_with(
        req.raw_query,
        sig.form == Form::Query,
        plus,
    ));
    out.push('\n');
    for name in &sig.signed_headers {
        let mut values = header_values(req.headers, name).peekable();
        if values.peek().is_none() {
            return Err(malformed(format!(
                "the signed header '{name}' is not in the request"
            )));
        }
        out.push_str(name);
        out.push(':');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_collapsed(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&sig.signed_headers.join(";"));
    out.push('\n');
    out.push_str(&body_hash(req.body));
    Ok(out)
}

/// The SHA-256 of a body, in lower-case hex (of an empty body, a constant).
fn body_hash(body: &[u8]) -> String {
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    if body.is_empty() {
        EMPTY.to_string()
    } else {
        hex_lower(&Sha256::digest(body))
    }
}

/// Lower-case hex, as SigV4 writes hashes and signatures.
fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The string to sign: algorithm, request time, credential scope, hash of the canonical request.
pub fn string_to_sign(canonical_request: &str, sig: &Signature) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/{TERMINATOR}\n{}",
        sig.amz_date,
        sig.date,
        sig.region,
        sig.service,
        hex_lower(&Sha256::digest(canonical_request.as_bytes())),
    )
}

/// The key that signs requests of one day, region and service:
///
/// ```text
/// kDate    = HMAC("AWS4" + secret, date)
/// kRegion  = HMAC(kDate, region)
/// kService = HMAC(kRegion, service)
/// kSigning = HMAC(kService, "aws4_request")
/// ```
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&seed, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

// ---------------------------------------------------------------------------------------
// Canonical forms
// ---------------------------------------------------------------------------------------

/// The values of every header called `name` (ASCII case-insensitive), in arrival order.
fn header_values<'a>(
    headers: &'a [(&'a str, &'a str)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Appends `value` trimmed, with every run of whitespace inside it made one space.
fn push_collapsed(out: &mut String, value: &str) {
    for (i, word) in value.split_ascii_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The canonical URI of a raw (still percent-encoded) path.
fn canonical_uri(raw_path: &str, normalize: bool) -> String {
    let mut out = String::with_capacity(raw_path.len() + 16);
    if normalize {
        uri_encode(normalize_path(raw_path).as_bytes(), true, &mut out);
    } else if raw_path.is_empty() {
        out.push('/');
    } else {
        uri_encode(raw_path.as_bytes(), true, &mut out);
    }
    out
}

/// Removes `.` and `..` segments and empty segments (repeated slashes), as RFC 3986
/// section 5.2.4 and the AWS SDKs do. The result starts with `/`, and ends with `/` if
/// the path ended with a slash or a dot segment: `/a/b/..` is `/a/`, `//a//` is `/a/`,
/// `` is `/`. A `..` at the root stays at the root.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    let ends_like_directory = ["/", "/.", "/.."].iter().any(|s| path.ends_with(s));
    if out.is_empty() || (ends_like_directory && !out.ends_with('/')) {
        out.push('/');
    }
    out
}

/// The canonical query string of a raw query.
#[cfg(test)]
fn canonical_query(raw_query: Option<&str>, exclude_signature: bool) -> String {
    canonical_query_with(raw_query, exclude_signature, Plus::Plus)
}

fn canonical_query_with(raw_query: Option<&str>, exclude_signature: bool, plus: Plus) -> String {
    let spaced;
    let raw_query = match (plus, raw_query) {
        (Plus::Space, Some(q)) => {
            spaced = q.replace('+', "%20");
            Some(spaced.as_str())
        }
        (_, q) => q,
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in decoded_query_pairs(raw_query) {
        if exclude_signature && key == b"X-Amz-Signature" {
            continue;
        }
        let (mut k, mut v) = (String::new(), String::new());
        uri_encode(&key, false, &mut k);
        uri_encode(&value, false, &mut v);
        pairs.push((k, v));
    }
    // Byte order of the *encoded* forms: uppercase before lowercase, `%` before letters.
    pairs.sort_unstable();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Splits a raw query on `&` and each piece on its first `=` (no `=`: an empty value),
/// then percent-decodes both halves. `+` stays `+`: SigV4 does not treat it as a space.
/// Decoding is lenient, so a stray `%` or `%zz` stays as it was. Empty pieces (`a&&b`) are
/// skipped.
fn decoded_query_pairs(raw_query: Option<&str>) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw_query
        .unwrap_or("")
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decoded(key), percent_decoded(value))
        })
        .collect()
}

/// `text` percent-decoded (leniently, as [`decoded_query_pairs`] says). Most query components
/// hold no `%` (page tokens are base64url), and those are copied as they are.
fn percent_decoded(text: &str) -> Vec<u8> {
    if text.contains('%') {
        percent_decode_str(text).collect()
    } else {
        text.as_bytes().to_vec()
    }
}

/// AWS's URI encoding: unreserved bytes (`A-Z a-z 0-9 - _ . ~`) as they are, `/` as it is
/// if `keep_slash`, every other byte as `%XX` with uppercase hex.
fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let kept = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
    };
    out.reserve(bytes.len());
    let mut rest = bytes;
    loop {
        // A run of bytes kept as they are (all ASCII) goes in at once.
        let run = rest.iter().position(|&b| !kept(b)).unwrap_or(rest.len());
        out.push_str(std::str::from_utf8(&rest[..run]).expect("kept bytes are ASCII"));
        let Some((&b, after)) = rest[run..].split_first() else {
            break;
        };
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xF)]));
        rest = after;
    }
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// `YYYYMMDDTHHMMSSZ` to seconds since the Unix epoch, or `None` if it is not a real
/// instant in that exact format.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[4..6])?;
    let day = digits(&b[6..8])?;
    let hour = digits(&b[9..11])?;
    let minute = digits(&b[11..13])?;
    let second = digits(&b[13..15])?;
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// An RFC 1123 HTTP date, `Sun, 30 Aug 2015 12:36:00 GMT`, as `20150830T123600Z`.
fn http_date_to_amz_date(value: &str) -> Option<String> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    let b = value
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .as_bytes();
    // Www, DD Mon YYYY HH:MM:SS GMT
    // 0    5  8   12   17 20 23 26
    if b.len() != 29 || &b[3..5] != b", " || b[7] != b' ' || b[11] != b' ' || b[16] != b' ' {
        return None;
    }
    if b[19] != b':' || b[22] != b':' || &b[25..] != b" GMT" {
        return None;
    }
    if !WEEKDAYS.iter().any(|w| &b[0..3] == *w) {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[8..11] == *m)? + 1;
    let day = digits(&b[5..7])?;
    let year = digits(&b[12..16])?;
    let (hour, minute, second) = (
        digits(&b[17..19])?,
        digits(&b[20..22])?,
        digits(&b[23..25])?,
    );
    let amz = format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z");
    parse_amz_date(&amz).map(|_| amz)
}

/// ASCII decimal digits to a number; `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_lower_case_hex() {
        assert_eq!(body_hash(b""), hex::encode(Sha256::digest(b"")));
        assert_eq!(body_hash(b"{}"), hex::encode(Sha256::digest(b"{}")));
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_lower(&all), hex::encode(&all));
    }

    #[test]
    fn uri_encoding_is_awss_byte_by_byte() {
        // The rule, one byte at a time, as AWS states it.
        fn one_by_one(bytes: &[u8], keep_slash: bool) -> String {
            bytes
                .iter()
                .map(|&b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    b'/' if keep_slash => "/".to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), all.clone()];
        inputs.extend(all.windows(3).map(<[u8]>::to_vec));
        inputs.push("AbC-_.~/é 日本+%2F=&".as_bytes().to_vec());
        inputs.push(b"eyJ2IjoxfQ_-abc".repeat(20));
        for input in &inputs {
            for keep_slash in [false, true] {
                let mut out = String::from("prefix:");
                uri_encode(input, keep_slash, &mut out);
                assert_eq!(out, format!("prefix:{}", one_by_one(input, keep_slash)));
            }
        }
    }

    #[test]
    fn query_components_decode_with_or_without_percent() {
        assert_eq!(percent_decoded("abc-_.~+"), b"abc-_.~+");
        assert_eq!(percent_decoded("a%2Fb%20c"), b"a/b c");
        assert_eq!(percent_decoded("100%"), b"100%");
        assert_eq!(percent_decoded("%zz%e2%82%ac"), b"%zz\xe2\x82\xac");
        assert_eq!(percent_decoded(""), b"");
    }

    use super::*;

    #[test]
    fn normalizes_paths() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("///", "/"),
            ("/./", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../", "/"),
            ("/../..", "/"),
            ("/../foo", "/foo"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/./b/../c", "/a/c"),
            ("/a//b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/a/b", "/a/b"),
            ("a/b", "/a/b"),
            ("/a/.../b", "/a/.../b"),
            ("/a/..b/.c", "/a/..b/.c"),
            ("/a/b.", "/a/b."),
            ("/a/b..", "/a/b.."),
            (".", "/"),
            ("..", "/"),
            // Encoded dots are not dot segments: the path is normalised before decoding.
            ("/a/%2E%2E/b", "/a/%2E%2E/b"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_path(raw), expected, "normalize_path({raw:?})");
        }
    }

    #[test]
    fn canonical_uri_encodes_the_raw_path_again() {
        let n = true;
        assert_eq!(canonical_uri("", n), "/");
        assert_eq!(canonical_uri("", false), "/");
        assert_eq!(canonical_uri("/accounts/abc-123", n), "/accounts/abc-123");
        assert_eq!(canonical_uri("/a%3Db", n), "/a%253Db");
        assert_eq!(canonical_uri("/a@b", n), "/a%40b");
        assert_eq!(canonical_uri("/a b", n), "/a%20b");
        assert_eq!(canonical_uri("/a+b:c", n), "/a%2Bb%3Ac");
        assert_eq!(canonical_uri("/\u{1234}", n), "/%E1%88%B4");
        assert_eq!(canonical_uri("/-._~AZaz09", n), "/-._~AZaz09");
        assert_eq!(canonical_uri("/%zz%", n), "/%25zz%25");
        assert_eq!(canonical_uri("//a/./b/..", false), "//a/./b/..");
        assert_eq!(canonical_uri("//a/./b/..", n), "/a/");
        assert_eq!(canonical_uri("/a/%2F/b", n), "/a/%252F/b");
    }

    #[test]
    fn canonicalizes_queries() {
        let q = |raw: &str| canonical_query(Some(raw), false);
        assert_eq!(canonical_query(None, false), "");
        assert_eq!(q(""), "");
        assert_eq!(q("b=2&a=1"), "a=1&b=2");
        // Sorted by key, then by value for repeated keys.
        assert_eq!(q("a=2&a=1&a=10"), "a=1&a=10&a=2");
        // No '=' means an empty value; an empty value keeps its '='.
        assert_eq!(q("flag"), "flag=");
        assert_eq!(q("flag="), "flag=");
        assert_eq!(q("=v"), "=v");
        // Only the first '=' splits.
        assert_eq!(q("a=b=c"), "a=b%3Dc");
        // '+' is a plus, not a space; a space is %20.
        assert_eq!(q("a=x+y"), "a=x%2By");
        assert_eq!(q("a=x%20y"), "a=x%20y");
        // Decoded then re-encoded: unreserved come back bare, hex becomes uppercase.
        assert_eq!(q("a=%7e%41"), "a=~A");
        assert_eq!(q("a=%e1%88%b4"), "a=%E1%88%B4");
        assert_eq!(q("a=/?:@"), "a=%2F%3F%3A%40");
        // Raw UTF-8 is encoded.
        assert_eq!(q("\u{1234}=bar"), "%E1%88%B4=bar");
        // Sorting is by the encoded bytes: uppercase before lowercase, '%' first.
        assert_eq!(
            q("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(q("b=1&B=2&_=3"), "B=2&_=3&b=1");
        // Invalid percent-encodings are kept literally (and their '%' encoded).
        assert_eq!(q("a=%zz&b=%&c=%4"), "a=%25zz&b=%25&c=%254");
        // Empty pieces are ignored.
        assert_eq!(q("&a=1&&b=2&"), "a=1&b=2");
        // Non-UTF-8 bytes after decoding are fine.
        assert_eq!(q("a=%FF%00"), "a=%FF%00");
    }

    #[test]
    fn query_form_leaves_out_only_the_signature() {
        let raw = "X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z&x-amz-signature=keep";
        assert_eq!(
            canonical_query(Some(raw), true),
            "X-Amz-Date=20150830T123600Z&x-amz-signature=keep"
        );
        assert_eq!(
            canonical_query(Some("X-Amz-%53ignature=abc&a=1"), true),
            "a=1"
        );
        assert_eq!(
            canonical_query(Some(raw), false),
            "X-Amz-Date=20150830T123600Z&X-Amz-Signature=abc&x-amz-signature=keep"
        );
    }

    #[test]
    fn collapses_header_whitespace() {
        let collapsed = |v: &str| {
            let mut out = String::new();
            push_collapsed(&mut out, v);
            out
        };
        assert_eq!(collapsed("  a   b \t c  "), "a b c");
        assert_eq!(collapsed("\"a   b   c\""), "\"a b c\"");
        assert_eq!(collapsed(""), "");
        assert_eq!(collapsed("   "), "");
    }

    /// Regression (fuzz target sigv4_differential): aws-sigv4 signs a raw `+` in the query
    /// as a space, SigV4 and this verifier as a plus; a request signed either way verifies,
    /// and nothing else about it may change.
    #[test]
    fn a_raw_plus_in_the_query_verifies_read_as_a_plus_or_a_space() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let sign = |raw_query: &str, plus: Plus| {
            let headers = [("host", "example.com"), ("x-amz-date", "20150830T123600Z")];
            let unsigned = Request {
                method: "GET",
                raw_path: "/accounts",
                raw_query: Some(raw_query),
                headers: &headers,
                body: b"",
            };
            let mut sig = Signature {
                form: Form::Header,
                access_key_id: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "chime".into(),
                signed_headers: vec!["host".into(), "x-amz-date".into()],
                signature: String::new(),
                amz_date: "20150830T123600Z".into(),
                expires: None,
            };
            let canonical =
                canonical_request_with(&unsigned, &sig, &Options::default(), plus).unwrap();
            let key = signing_key(secret, &sig.date, &sig.region, &sig.service);
            sig.signature = hex::encode(hmac_sha256(
                &key,
                string_to_sign(&canonical, &sig).as_bytes(),
            ));
            sig
        };
        let check = |raw_query: &str, sig: &Signature| {
            let headers = [("host", "example.com"), ("x-amz-date", "20150830T123600Z")];
            let req = Request {
                method: "GET",
                raw_path: "/accounts",
                raw_query: Some(raw_query),
                headers: &headers,
                body: b"",
            };
            verify(&req, sig, secret, 1_440_938_160, &Options::default())
        };
        for plus in [Plus::Plus, Plus::Space] {
            let sig = sign("name=a+b&x=+", plus);
            assert_eq!(check("name=a+b&x=+", &sig), Ok(()), "{plus:?}");
            assert_eq!(
                check("name=a+c&x=+", &sig),
                Err(AuthError::SignatureMismatch),
                "{plus:?}"
            );
        }
        // %2B is a plus and %20 a space, whatever the reading of a raw `+`.
        let sig = sign("name=a%2Bb", Plus::Plus);
        assert_eq!(check("name=a%2Bb", &sig), Ok(()));
        assert_eq!(check("name=a%20b", &sig), Err(AuthError::SignatureMismatch));
        let sig = sign("name=a%20b", Plus::Plus);
        assert_eq!(check("name=a%2Bb", &sig), Err(AuthError::SignatureMismatch));
    }

    #[test]
    fn parses_amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_amz_date("99991231T235959Z"), Some(253_402_300_799));
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "20150830T123600z",
            "2015-08-30T12:36:00Z",
            "20150230T000000Z",
            "19000229T000000Z",
            "20151301T000000Z",
            "20150800T000000Z",
            "20150830T240000Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "+0150830T123600Z",
            "2015083\u{e9}123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            http_date_to_amz_date("Sun, 30 Aug 2015 12:36:00 GMT").as_deref(),
            Some("20150830T123600Z")
        );
        assert_eq!(
            http_date_to_amz_date(" Tue, 29 Feb 2000 23:59:59 GMT ").as_deref(),
            Some("20000229T235959Z")
        );
        for bad in [
            "",
            "Sunday, 30-Aug-15 12:36:00 GMT",
            "Sun Aug 30 12:36:00 2015",
            "Sun, 30 Aug 2015 12:36:00 UTC",
            "Sun, 31 Sep 2015 12:36:00 GMT",
            "Xyz, 30 Aug 2015 12:36:00 GMT",
            "Sun, 30 Agu 2015 12:36:00 GMT",
            "Sun, 30 Aug 2015 25:36:00 GMT",
            "Sun, 3\u{e9}Aug 2015 12:36:00 GMT",
        ] {
            assert_eq!(http_date_to_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn derives_the_documented_signing_key() {
        // From the AWS General Reference, "Examples of how to derive a signing key".
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn parses_credentials() {
        assert_eq!(
            parse_credential("AKID/20150830/us-east-1/chime/aws4_request"),
            Ok((
                "AKID".into(),
                "20150830".into(),
                "us-east-1".into(),
                "chime".into()
            ))
        );
        for bad in [
            "",
            "AKID",
            "AKID/20150830/us-east-1/chime",
            "AKID/20150830/us-east-1/chime/aws4_request/extra",
            "/20150830/us-east-1/chime/aws4_request",
            "AKID/2015083/us-east-1/chime/aws4_request",
            "AKID/2015083x/us-east-1/chime/aws4_request",
            "AKID/20150830//chime/aws4_request",
            "AKID/20150830/us-east-1//aws4_request",
            "AKID/20150830/us-east-1/chime/aws3_request",
        ] {
            assert!(
                matches!(parse_credential(bad), Err(AuthError::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
