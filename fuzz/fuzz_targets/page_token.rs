//! `PageTokens::open` on any token and scope: never panics, refuses whatever it did not issue,
//! and gives back exactly the position of every token it did issue.
#![no_main]

use arbitrary::Arbitrary;
use belfry::token::{MAX_TOKEN_LEN, PageTokens};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    scope: Vec<&'a str>,
    /// A token from outside: garbage, or a mutation of an issued one.
    token: &'a str,
    /// A position to issue, then open.
    position: Vec<&'a str>,
    /// Which byte of the issued token to change, if any.
    flip: Option<(u16, u8)>,
}

fuzz_target!(|input: Input<'_>| {
    let tokens = PageTokens::new([42; 32]);
    // Garbage: whatever it is, opening does not panic.
    let _ = tokens.open(&input.scope, input.token);

    // Round trip: what was issued opens to the same position, in the same scope only.
    let issued = tokens.issue(&input.scope, &input.position);
    assert!(
        issued
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "a token is base64url without padding: {issued:?}"
    );
    let opened = tokens.open(&input.scope, &issued);
    let expected: Vec<String> = input.position.iter().map(|p| p.to_string()).collect();
    let position_bytes: usize = input.position.iter().map(|p| p.len() + 4).sum();
    if issued.len() > MAX_TOKEN_LEN {
        // Found by this target: such tokens were issued for long emails and never opened.
        // Positions the API issues (an email key of at most 254 characters, or a time and
        // an account id) are far shorter than this.
        assert!(opened.is_err(), "an over-long token opened");
        assert!(
            position_bytes > 2048,
            "a position of {position_bytes} bytes gave a token of {} characters",
            issued.len()
        );
        return;
    }
    assert_eq!(
        opened.as_deref(),
        Ok(&expected[..]),
        "an issued token of {} characters did not open",
        issued.len()
    );
    let mut other_scope = input.scope.clone();
    other_scope.push("");
    assert!(
        tokens.open(&other_scope, &issued).is_err(),
        "scope is bound"
    );
    assert!(
        PageTokens::new([43; 32])
            .open(&input.scope, &issued)
            .is_err(),
        "secret is bound"
    );

    // Any change to an issued token is refused (or, rarely, decodes to the same bytes).
    if let Some((at, byte)) = input.flip {
        let mut changed = issued.clone().into_bytes();
        let at = usize::from(at) % changed.len();
        if changed[at] != byte {
            changed[at] = byte;
            if let Ok(changed) = String::from_utf8(changed)
                && let Ok(parts) = tokens.open(&input.scope, &changed)
            {
                // base64 without padding: the last character's low bits are not decoded by
                // a lenient decoder; the position must still be the one issued.
                assert_eq!(
                    parts, expected,
                    "a changed token opened to another position"
                );
            }
        }
    }
});
