//! Signing in to the console, the session cookie, and the CSRF token of every form.
//!
//! * **Sign-in** takes an access key id and its secret access key, the same keys the API is
//!   signed with ([`KeyRing::sign_in`] compares the secret in constant time). Attempts on a
//!   access key id tried are throttled per id with the API's GCRA ([`Throttle`]), so guessing
//!   one key's secret is as slow as [`SIGN_IN_RATE`] allows. A made-up id gets a bucket too
//!   (in a map of at most [`SIGN_IN_BUCKETS`]), so that the replies do not tell a real id from
//!   a made-up one; the typed id is logged only as a short hash ([`id_hash`]). Signing in
//!   again from a browser ends its previous session. The sign-in form itself carries a
//!   token that must match a short-lived cookie set with the form (a double submit), so
//!   another site cannot sign a browser in to a key of its choosing.
//! * **The session** is a random id in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure`
//!   when the request came over TLS); the store keeps its hash, the key it acts as and its
//!   expiry ([`SESSION_LIFETIME`]), so every replica on the same database accepts it and
//!   sign-out ends it everywhere.
//! * **CSRF**: every form of a session carries HMAC-SHA256(store secret, session id); a POST
//!   whose token is missing or does not match is refused with 403.
//!
//! No secret is rendered or logged: the secret access key is only ever compared, and the
//! session id only ever hashed or sent back as the cookie.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

#[cfg(doc)]
use crate::auth::KeyRing;
use crate::server::throttle::{Admission, Rate, Throttle};

/// The cookie that holds the session id.
pub const SESSION_COOKIE: &str = "belfry_console";
/// The cookie that holds the sign-in form's token until sign-in.
pub const SIGN_IN_COOKIE: &str = "belfry_console_signin";
/// Where both cookies are sent.
const COOKIE_PATH: &str = "/console";
/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// How long a sign-in form may stay open.
const SIGN_IN_FORM_LIFETIME: Duration = Duration::from_secs(3600);
/// Sign-in attempts allowed per access key id: 10 at once, then one every 6 seconds.
pub const SIGN_IN_RATE: Rate = Rate {
    count: 10,
    per: Duration::from_secs(60),
};
const SIGN_IN_BURST: u32 = 10;
/// How many ids tried the sign-in throttle remembers at once.
pub const SIGN_IN_BUCKETS: usize = 10_000;

/// A fresh random token: 32 bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether two tokens are the same, in constant time.
pub fn same_token(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The CSRF tokens of sessions and the sign-in throttle.
pub struct Sessions {
    secret: [u8; 32],
    sign_ins: Throttle,
}

impl Sessions {
    /// Tokens keyed by `secret` (the store's, shared by every replica).
    pub fn new(secret: [u8; 32]) -> Sessions {
        Sessions {
            secret,
            sign_ins: Throttle::bounded(
                SIGN_IN_RATE,
                SIGN_IN_BURST,
                Duration::ZERO,
                SIGN_IN_BUCKETS,
            ),
        }
    }

    /// The CSRF token of the session `session_id`.
    pub fn csrf_token(&self, session_id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(b"belfry console csrf");
        mac.update(session_id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `token` is the CSRF token of the session `session_id`.
    pub fn check_csrf(&self, session_id: &str, token: Option<&str>) -> bool {
        token.is_some_and(|token| same_token(&self.csrf_token(session_id), token))
    }

    /// Takes a sign-in attempt for `access_key_id` (whether or not such a key exists): `Err`
    /// with the wait when over the rate. The bucket is the id's [`id_hash`], so a long made-up
    /// id costs no more memory than a real one.
    pub async fn admit_sign_in(&self, access_key_id: &str) -> Result<(), Duration> {
        match self.sign_ins.admit(&id_hash(access_key_id)).await {
            Admission::Now | Admission::AfterWait(_) => Ok(()),
            Admission::Refused(wait) => Err(wait),
        }
    }
}

/// A short hash of an access key id as typed into the sign-in form, for the log and the
/// throttle: what someone typed may be a secret pasted into the wrong field.
pub fn id_hash(access_key_id: &str) -> String {
    use sha2::Digest;
    let digest = Sha256::digest(access_key_id.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of the cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(
    cookie_headers: impl Iterator<Item = &'a str>,
    name: &str,
) -> Option<String> {
    cookie_headers
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, path `/console`, `Secure` over TLS.
fn set_cookie(name: &'static str, value: String, max_age: Duration, secure: bool) -> String {
    Cookie::build((name, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build()
        .to_string()
}

/// The session cookie for `session_id`.
pub fn session_cookie(session_id: String, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, session_id, SESSION_LIFETIME, secure)
}

/// The sign-in form's cookie for `token`.
pub fn sign_in_cookie(token: String, secure: bool) -> String {
    set_cookie(SIGN_IN_COOKIE, token, SIGN_IN_FORM_LIFETIME, secure)
}

/// A `Set-Cookie` value that removes the cookie `name`.
pub fn removed_cookie(name: &'static str, secure: bool) -> String {
    set_cookie(name, String::new(), Duration::ZERO, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csrf_token_belongs_to_its_session_and_secret() {
        let sessions = Sessions::new([7; 32]);
        let token = sessions.csrf_token("session-a");
        assert!(sessions.check_csrf("session-a", Some(&token)));
        assert!(!sessions.check_csrf("session-b", Some(&token)));
        assert!(!sessions.check_csrf("session-a", None));
        assert!(!sessions.check_csrf("session-a", Some("")));
        let mut altered = token.clone().into_bytes();
        altered[0] ^= 1;
        assert!(!sessions.check_csrf("session-a", Some(&String::from_utf8(altered).unwrap())));
        // Another store (another secret) does not accept it.
        assert!(!Sessions::new([8; 32]).check_csrf("session-a", Some(&token)));
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_secure_only_over_tls() {
        let plain = session_cookie("abc".into(), false);
        assert!(plain.starts_with("belfry_console=abc;"), "{plain}");
        assert!(plain.contains("HttpOnly"), "{plain}");
        assert!(plain.contains("SameSite=Strict"), "{plain}");
        assert!(plain.contains("Path=/console"), "{plain}");
        assert!(!plain.contains("Secure"), "{plain}");
        assert!(session_cookie("abc".into(), true).contains("Secure"));
        assert!(removed_cookie(SESSION_COOKIE, false).contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let headers = ["a=1; belfry_console=xyz", "b=2"];
        assert_eq!(
            cookie_value(headers.into_iter(), SESSION_COOKIE).as_deref(),
            Some("xyz")
        );
        assert_eq!(cookie_value(headers.into_iter(), "missing"), None);
    }

    #[tokio::test]
    async fn sign_ins_beyond_the_burst_are_refused_per_key() {
        let sessions = Sessions::new([0; 32]);
        for _ in 0..SIGN_IN_BURST {
            assert!(sessions.admit_sign_in("AKIAEXAMPLE").await.is_ok());
        }
        assert!(sessions.admit_sign_in("AKIAEXAMPLE").await.is_err());
        assert!(sessions.admit_sign_in("AKIAOTHER").await.is_ok());
    }
}
