//! Page tokens: opaque, versioned, signed, and bound to the request they continue.
//!
//! A token carries the keyset position of the last item of a page. It is
//! `base64url(version || position || mac)`, where the MAC is HMAC-SHA256 under the store's
//! secret over the version, a *scope* naming the operation, the account and the filters, and
//! the position. A token is thus accepted only by the same listing with the same filters; any
//! other use, a change of a single bit, truncation or garbage fails the MAC. Because the
//! secret lives in the database, any server on that database, now or after a restart,
//! continues any page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const VERSION: u8 = 1;
const MAC_LEN: usize = 32;
/// Tokens longer than this are refused before any decoding. A position of up to about 3000
/// bytes gives a token that fits; callers keep positions well below that (a ListUsers position
/// is an email key, and emails are at most `EMAIL_MAX_LENGTH` characters).
pub const MAX_TOKEN_LEN: usize = 4096;

/// Signs and opens page tokens with one secret.
#[derive(Clone)]
pub struct PageTokens {
    secret: [u8; 32],
}

/// Why a token was refused. Deliberately unspecific towards the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidToken;

impl PageTokens {
    pub fn new(secret: [u8; 32]) -> Self {
        PageTokens { secret }
    }

    fn mac(&self, scope: &[&str], position: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(b"belfry page token");
        mac.update(&[VERSION]);
        for part in scope {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(position);
        mac.finalize().into_bytes().into()
    }

    /// A token for `position` (the parts of the last item's sort key) within `scope`.
    pub fn issue(&self, scope: &[&str], position: &[&str]) -> String {
        let mut body = vec![VERSION];
        for part in position {
            body.extend_from_slice(&(part.len() as u32).to_be_bytes());
            body.extend_from_slice(part.as_bytes());
        }
        let mac = self.mac(scope, &body[1..]);
        body.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(body)
    }

    /// The position inside `token`, if it was issued by this secret for this `scope`.
    pub fn open(&self, scope: &[&str], token: &str) -> Result<Vec<String>, InvalidToken> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(InvalidToken);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| InvalidToken)?;
        if bytes.len() < 1 + MAC_LEN || bytes[0] != VERSION {
            return Err(InvalidToken);
        }
        let (body, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let position = &body[1..];
        if !bool::from(self.mac(scope, position).ct_eq(mac)) {
            return Err(InvalidToken);
        }
        let mut parts = Vec::new();
        let mut rest = position;
        while !rest.is_empty() {
            let len_bytes: [u8; 4] = rest.get(..4).ok_or(InvalidToken)?.try_into().unwrap();
            let len = u32::from_be_bytes(len_bytes) as usize;
            let part = rest.get(4..4 + len).ok_or(InvalidToken)?;
            parts.push(String::from_utf8(part.to_vec()).map_err(|_| InvalidToken)?);
            rest = &rest[4 + len..];
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens::new([7; 32])
    }

    #[test]
    fn round_trips_within_its_scope() {
        let t = tokens().issue(&["ListUsers", "acct", ""], &["élodie@example.com"]);
        assert_eq!(
            tokens().open(&["ListUsers", "acct", ""], &t).unwrap(),
            vec!["élodie@example.com".to_string()]
        );
    }

    #[test]
    fn refuses_other_scopes_secrets_and_tampering() {
        let scope = ["ListUsers", "acct", "PrivateUser"];
        let t = tokens().issue(&scope, &["a@b.c"]);
        assert_eq!(
            tokens().open(&["ListUsers", "acct", "SharedDevice"], &t),
            Err(InvalidToken)
        );
        assert_eq!(
            tokens().open(&["ListUsers", "acct2", "PrivateUser"], &t),
            Err(InvalidToken)
        );
        assert_eq!(PageTokens::new([8; 32]).open(&scope, &t), Err(InvalidToken));
        assert_eq!(tokens().open(&scope, &t[..t.len() - 1]), Err(InvalidToken));
        assert_eq!(tokens().open(&scope, "garbage!"), Err(InvalidToken));
        assert_eq!(tokens().open(&scope, ""), Err(InvalidToken));
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(
                tokens().open(&scope, &URL_SAFE_NO_PAD.encode(&bytes)),
                Err(InvalidToken)
            );
            bytes[i] ^= 1;
        }
    }

    /// Regression: a ListUsers page ending at a user with a long email issued a NextToken
    /// longer than `MAX_TOKEN_LEN`, which `open` then refused: the walk could not go on past
    /// that user. Emails are now at most `EMAIL_MAX_LENGTH` characters; the longest email key
    /// (4-byte characters, or characters whose lower case is longer) must give a token that
    /// opens.
    #[test]
    fn the_token_of_the_longest_email_opens() {
        use crate::api::validate::EMAIL_MAX_LENGTH;
        use crate::model::email_key;
        for c in ['\u{10348}', '\u{130}', '\u{23a}', 'A'] {
            let email: String =
                std::iter::repeat_n(c, EMAIL_MAX_LENGTH - 4).collect::<String>() + "@a.b";
            assert_eq!(email.chars().count(), EMAIL_MAX_LENGTH);
            let key = email_key(&email);
            let scope = [
                "ListUsers",
                "3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4e",
                &key,
                "SharedDevice",
            ];
            let t = tokens().issue(&scope, &[&key]);
            assert!(t.len() <= MAX_TOKEN_LEN, "{c:?}: {} characters", t.len());
            assert_eq!(tokens().open(&scope, &t), Ok(vec![key]));
        }
    }

    #[test]
    fn scope_parts_cannot_be_shifted() {
        let t = tokens().issue(&["ab", "c"], &["x"]);
        assert_eq!(tokens().open(&["a", "bc"], &t), Err(InvalidToken));
    }
}
