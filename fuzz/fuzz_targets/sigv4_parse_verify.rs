//! `sigv4::parse` and `sigv4::verify` on any method, path, query, headers and body.
//!
//! The input may carry a structured Authorization header (so that the fuzzer gets past the
//! parser often) or none (the query form, or raw headers). Oracles:
//! * nothing panics, whatever the input and the clock;
//! * an error message never contains the signature the server expected, nor the canonical
//!   request or string to sign;
//! * a request signed with the expected signature (computed from the public canonical
//!   request, string to sign and signing key) is never refused as a signature mismatch.
#![no_main]

use arbitrary::Arbitrary;
use belfry::auth::sigv4::{self, AuthError, Form, Options, Request, Signature};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

#[derive(Arbitrary, Debug)]
struct Auth<'a> {
    algorithm: bool,
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: bool,
    signed_headers: &'a str,
    signature: &'a str,
    separator: &'a str,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
    auth: Option<Auth<'a>>,
    amz_date: Option<&'a str>,
    secret: &'a str,
    /// The clock, relative to the request time (or absolute when the request has none).
    now: i64,
    /// Sign the request correctly, then check it again.
    resign: bool,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYYMMDDTHHMMSSZ` as Unix seconds, as far as it is one.
fn amz_time(s: &str) -> Option<i64> {
    let d = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = belfry::time::days_from_civil(d(0..4)?, d(4..6)?, d(6..8)?);
    Some(days * 86_400 + d(9..11)? * 3600 + d(11..13)? * 60 + d(13..15)?)
}

fn expected_signature(
    req: &Request,
    sig: &Signature,
    secret: &str,
) -> Option<(String, String, String)> {
    let canonical = sigv4::canonical_request(req, sig, &Options::default()).ok()?;
    let to_sign = sigv4::string_to_sign(&canonical, sig);
    let key = sigv4::signing_key(secret, &sig.date, &sig.region, &sig.service);
    Some((
        hex::encode(hmac(&key, to_sign.as_bytes())),
        canonical,
        to_sign,
    ))
}

fn check(req: &Request, secret: &str, now: i64) -> Option<(Signature, Result<(), AuthError>)> {
    let sig = match sigv4::parse(req) {
        Ok(sig) => sig,
        Err(e) => {
            assert!(e.to_string().len() < 400, "{e}");
            return None;
        }
    };
    let now = amz_time(&sig.amz_date).map_or(now, |t| t.saturating_add(now % 2_000));
    let result = sigv4::verify(req, &sig, secret, now, &Options::default());
    if let Err(e) = &result {
        let message = e.to_string();
        if let Some((expected, canonical, to_sign)) = expected_signature(req, &sig, secret) {
            assert!(!message.contains(&expected), "{message}");
            assert!(
                canonical.len() < 16 || !message.contains(&canonical),
                "{message}"
            );
            assert!(!message.contains(&to_sign), "{message}");
        }
    }
    Some((sig, result))
}

fuzz_target!(|input: Input<'_>| {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(date) = input.amz_date {
        headers.push(("X-Amz-Date".into(), date.into()));
    }
    let authorization = |signature: &str| {
        input.auth.as_ref().map(|a| {
            format!(
                "{} Credential={}/{}/{}/{}/aws4_request,{}SignedHeaders={},{}Signature={}",
                if a.algorithm {
                    "AWS4-HMAC-SHA256"
                } else {
                    "AWS4-HMAC-SHA512"
                },
                a.access_key_id,
                a.date,
                a.region,
                if a.service { "chime" } else { "s3" },
                a.separator,
                a.signed_headers,
                a.separator,
                signature,
            )
        })
    };
    let mut with_auth = headers.clone();
    if let Some(value) = authorization(input.auth.as_ref().map_or("", |a| a.signature)) {
        with_auth.push(("Authorization".into(), value));
    }
    let refs: Vec<(&str, &str)> = with_auth
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request {
        method: input.method,
        raw_path: input.path,
        raw_query: input.query,
        headers: &refs,
        body: input.body,
    };
    let Some((sig, result)) = check(&req, input.secret, input.now) else {
        return;
    };
    if !input.resign || result.is_ok() {
        return;
    }
    // Sign it right and try again: the signature itself must now be accepted.
    let Some((expected, _, _)) = expected_signature(&req, &sig, input.secret) else {
        return;
    };
    let mut query = input.query.map(str::to_string);
    let mut resigned = headers.clone();
    match sig.form {
        Form::Header => {
            // The signature sits in the Authorization header, which is not itself signed
            // unless the fuzzer listed it: then the new value changes what was signed.
            if sig.signed_headers.iter().any(|h| h == "authorization") {
                return;
            }
            let Some(value) = authorization(&expected) else {
                return;
            };
            resigned.push(("Authorization".into(), value));
        }
        Form::Query => {
            // Replace the one X-Amz-Signature parameter (the canonical query leaves it out).
            let q = query.take().unwrap_or_default();
            let mut replaced = 0;
            let pieces: Vec<String> = q
                .split('&')
                .map(|piece| {
                    let key = piece.split_once('=').map_or(piece, |(k, _)| k);
                    let decoded: Vec<u8> = percent_decode(key);
                    if decoded == b"X-Amz-Signature" {
                        replaced += 1;
                        format!("{key}={expected}")
                    } else {
                        piece.to_string()
                    }
                })
                .collect();
            if replaced != 1 {
                return;
            }
            query = Some(pieces.join("&"));
        }
    }
    let refs: Vec<(&str, &str)> = resigned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request {
        raw_query: query.as_deref(),
        headers: &refs,
        ..req
    };
    if let Some((_, result)) = check(&req, input.secret, input.now) {
        assert_ne!(
            result,
            Err(AuthError::SignatureMismatch),
            "a correctly signed request was refused"
        );
    }
});

fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}
