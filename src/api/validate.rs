//! Input validation in the service's own words.
//!
//! Clients check only required members and minimums; the server enforces the rest of the
//! model's constraints (max, pattern, enum, list bounds). Every violation of one request is
//! collected and answered together, as AWS does:
//!
//! `1 validation error detected: Value '500' at 'maxResults' failed to satisfy constraint:
//! Member must have value less than or equal to 200`

use std::sync::LazyLock;

use regex_lite::Regex;

use crate::error::ApiError;

/// `EmailAddress` pattern of the model (a search, not anchored, as the model's patterns are).
pub const EMAIL_PATTERN: &str = r".+@.+\..+";
/// The longest email address Belfry takes, in characters: RFC 5321's 254. The model bounds
/// `EmailAddress` by its pattern only, but a ListUsers page ending at a user carries that
/// user's (lower-cased) email in its `NextToken`, and a token must stay short enough to be
/// sent back in a URL and accepted ([`crate::token`]).
pub const EMAIL_MAX_LENGTH: usize = 254;
/// `NonEmptyString` and `AccountName` pattern.
pub const NON_EMPTY_PATTERN: &str = r".*\S.*";

/// What an `AlexaForBusinessRoomArn` must look like: `arn:partition:service:region:account:resource`.
pub const ARN_PATTERN: &str = r"^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+$";
/// `E164PhoneNumber`.
pub const E164_PATTERN: &str = r"^\+?[1-9]\d{1,14}$";
/// `CallingName`: empty, or 2-15 letters, digits and spaces (UpdatePhoneNumber,
/// UpdatePhoneNumberSettings).
pub const CALLING_NAME_PATTERN: &str = r"^$|^[a-zA-Z0-9 ]{2,15}$";
/// `GuidString`: account and user ids.
pub const GUID_PATTERN: &str = r"^[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMAIL_PATTERN).expect("pattern"));
static ARN: LazyLock<Regex> = LazyLock::new(|| Regex::new(ARN_PATTERN).expect("pattern"));
static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(E164_PATTERN).expect("pattern"));

/// `.+@.+\..+` on a single line, without a regex engine: some `@` has a character before it,
/// and some `.` after the character that follows it has a character after it.
fn is_email(value: &str) -> bool {
    let Some(first_at) = value.char_indices().skip(1).find(|&(_, c)| c == '@') else {
        return false;
    };
    let after_at = &value[first_at.0 + 1..];
    let mut chars = after_at.char_indices();
    let Some((first, c)) = chars.next() else {
        return false;
    };
    let rest = &after_at[first + c.len_utf8()..];
    // The first '.' of what follows leaves the most room after it; it needs one char.
    rest.find('.').is_some_and(|dot| dot + 1 < rest.len())
}

/// `GuidString` without a regex engine: 8-4-4-4-12 hex digits.
fn is_guid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `NonEmptyString` (`.*\S.*`, unanchored) without a regex engine: some character is not
/// whitespace. regex-lite's `\S` is ASCII-only: any character but `[\t\n\v\f\r ]`.
fn is_non_empty(value: &str) -> bool {
    value
        .chars()
        .any(|c| !matches!(c, '\t' | '\n' | '\x0B' | '\x0C' | '\r' | ' '))
}

/// Whether `value` matches `pattern`; the patterns named above are compiled once.
pub fn matches(pattern: &str, value: &str) -> bool {
    match pattern {
        // Also bounded in length: see EMAIL_MAX_LENGTH (so that imports are bounded too).
        EMAIL_PATTERN if value.chars().nth(EMAIL_MAX_LENGTH).is_some() => false,
        EMAIL_PATTERN if !value.contains('\n') => is_email(value),
        EMAIL_PATTERN => EMAIL.is_match(value),
        NON_EMPTY_PATTERN => is_non_empty(value),
        ARN_PATTERN => ARN.is_match(value),
        E164_PATTERN => E164.is_match(value),
        GUID_PATTERN => is_guid(value),
        other => Regex::new(other).is_ok_and(|r| r.is_match(value)),
    }
}

/// An optional sign then one or more ASCII digits, of any length.
fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The violations found so far in one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

/// How a value is shown in a message: sensitive members (emails, phone numbers) are not echoed.
fn shown(value: &str, sensitive: bool) -> String {
    if sensitive {
        "Value".to_string()
    } else {
        format!("Value '{value}'")
    }
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, value: String, member: &str, constraint: &str) {
        self.0.push(format!(
            "{value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A rule of the service's that no shape states (the value is not echoed).
    pub fn violated(&mut self, member: &str, constraint: &str) {
        self.push("Value".into(), member, constraint);
    }

    /// A required member is absent.
    pub fn missing(&mut self, member: &str) {
        self.push("Value null".into(), member, "Member must not be null");
    }

    /// A string's length in characters lies within `min..=max` (either bound optional).
    pub fn length(
        &mut self,
        member: &str,
        value: &str,
        min: Option<usize>,
        max: Option<usize>,
        sensitive: bool,
    ) {
        let len = value.chars().count();
        if let Some(min) = min
            && len < min
        {
            self.push(
                shown(value, sensitive),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && len > max
        {
            self.push(
                shown(value, sensitive),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A string matches the model's pattern.
    pub fn pattern(&mut self, member: &str, value: &str, pattern: &str, sensitive: bool) {
        if !matches(pattern, value) {
            self.push(
                shown(value, sensitive),
                member,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// An email address (`EmailAddress`: sensitive, patterned, at most
    /// [`EMAIL_MAX_LENGTH`] characters).
    pub fn email(&mut self, member: &str, value: &str) {
        if value.chars().nth(EMAIL_MAX_LENGTH).is_some() {
            self.length(member, value, None, Some(EMAIL_MAX_LENGTH), true);
        } else {
            self.pattern(member, value, EMAIL_PATTERN, true);
        }
    }

    /// A `NonEmptyString`, such as an id in the path.
    pub fn non_empty(&mut self, member: &str, value: &str) {
        self.pattern(member, value, NON_EMPTY_PATTERN, false);
    }

    /// A value of an enum, parsed by `parse`; `choices` lists the set as `[A, B]`.
    pub fn enumeration<T>(
        &mut self,
        member: &str,
        value: &str,
        parse: fn(&str) -> Option<T>,
        choices: String,
    ) -> Option<T> {
        let parsed = parse(value);
        if parsed.is_none() {
            self.push(
                shown(value, false),
                member,
                &format!("Member must satisfy enum value set: {choices}"),
            );
        }
        parsed
    }

    /// An integer query value within `min..=max`.
    pub fn integer(&mut self, member: &str, value: &str, min: i64, max: i64) -> Option<i64> {
        let digits = value.trim();
        let n = match digits.parse::<i64>() {
            Ok(n) => n,
            // An integer too large for 64 bits is still an integer: out of range, not malformed.
            Err(_) if is_integer(digits) => {
                if digits.starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                }
            }
            Err(_) => {
                self.push(shown(value, false), member, "Member must be an integer");
                return None;
            }
        };
        if n < min {
            self.push(
                shown(value, false),
                member,
                &format!("Member must have value greater than or equal to {min}"),
            );
            return None;
        }
        if n > max {
            self.push(
                shown(value, false),
                member,
                &format!("Member must have value less than or equal to {max}"),
            );
            return None;
        }
        Some(n)
    }

    /// A list's length lies within `min..=max`.
    pub fn list_length(&mut self, member: &str, len: usize, min: usize, max: usize) {
        if len < min {
            self.push(
                "Value".into(),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                "Value".into(),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// `Ok` when nothing was violated, else one `BadRequestException` listing every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::bad_request(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(ApiError::bad_request(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_email_check_is_the_models_pattern(value in "[a@.\\né]{0,8}") {
            prop_assert_eq!(matches(EMAIL_PATTERN, &value), EMAIL.is_match(&value), "{:?}", value);
        }
    }

    proptest! {
        #[test]
        fn the_guid_check_is_the_models_pattern(value in "[0-9a-fA-G-]{0,40}") {
            let regex = Regex::new(GUID_PATTERN).unwrap();
            prop_assert_eq!(is_guid(&value), regex.is_match(&value));
        }
    }

    #[test]
    fn calling_names_are_empty_or_two_to_fifteen_letters_digits_and_spaces() {
        for ok in [
            "",
            "Ab",
            "AB",
            "Acme Corp 24",
            "Front Desk",
            "ABCDEFGHIJKLMNO",
        ] {
            assert!(matches(CALLING_NAME_PATTERN, ok), "{ok:?}");
        }
        for bad in [
            "A",
            "ABCDEFGHIJKLMNOP",
            "Acme, Inc.",
            "Front-Desk",
            "Zoë",
            " \n",
        ] {
            assert!(!matches(CALLING_NAME_PATTERN, bad), "{bad:?}");
        }
    }

    #[test]
    fn the_non_empty_check_is_the_models_pattern() {
        let regex = Regex::new(NON_EMPTY_PATTERN).unwrap();
        let mut values: Vec<String> = ["", "x", " \t\r\n", " a ", "\u{a0}", "\u{3000}", "\u{85}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        values.extend(
            (0..0x3100u32)
                .filter_map(char::from_u32)
                .map(|c| format!(" {c}\n")),
        );
        for value in &values {
            assert_eq!(is_non_empty(value), regex.is_match(value), "{value:?}");
        }
    }

    #[test]
    fn guid_examples() {
        assert!(is_guid("3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2C3D4E"));
        assert!(!is_guid("3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4"));
        assert!(!is_guid("3f2f5c3e88c1a-4d7e-9a61-6f0f1b2c3d4e"));
    }

    #[test]
    fn email_examples() {
        for ok in ["a@b.c", "a@b.c.", "@a@b.c", "é@é.é", "a@.b.c", "x\na@b.c"] {
            assert!(matches(EMAIL_PATTERN, ok), "{ok:?}");
        }
        for bad in ["", "a@b.", "@b.c", "a@.c", "ab.c", "a@bc", "a@\nb.c"] {
            assert!(!matches(EMAIL_PATTERN, bad), "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn message_matches_aws_style() {
        let mut v = Violations::new();
        v.integer("maxResults", "500", 1, 200);
        assert_eq!(
            v.finish().unwrap_err().message,
            "1 validation error detected: Value '500' at 'maxResults' failed to satisfy \
             constraint: Member must have value less than or equal to 200"
        );
    }

    /// Regression: `max-results=99999999999999999999` was "not an integer"; it is an
    /// integer out of range.
    #[test]
    fn integers_beyond_64_bits_are_out_of_range_not_malformed() {
        for (value, bound) in [
            ("99999999999999999999", "less than or equal to 200"),
            ("+99999999999999999999", "less than or equal to 200"),
            ("-99999999999999999999", "greater than or equal to 1"),
        ] {
            let mut v = Violations::new();
            assert_eq!(v.integer("maxResults", value, 1, 200), None);
            let message = v.finish().unwrap_err().message;
            assert!(message.ends_with(bound), "{value}: {message}");
        }
        for value in ["", "-", "+", "1e99", "9".repeat(30).as_str(), "١٢"] {
            let mut v = Violations::new();
            v.integer("maxResults", &format!("{value}x"), 1, 200);
            assert!(
                v.finish()
                    .unwrap_err()
                    .message
                    .ends_with("Member must be an integer")
            );
        }
    }

    /// Regression: an email of a few thousand characters made a ListUsers page ending at that
    /// user issue a NextToken too long to be accepted back.
    #[test]
    fn emails_are_at_most_254_characters() {
        let longest = format!("{}@example.com", "é".repeat(EMAIL_MAX_LENGTH - 12));
        assert_eq!(longest.chars().count(), EMAIL_MAX_LENGTH);
        assert!(matches(EMAIL_PATTERN, &longest));
        let mut v = Violations::new();
        v.email("email", &longest);
        assert!(v.finish().is_ok());
        let too_long = format!("x{longest}");
        assert!(!matches(EMAIL_PATTERN, &too_long));
        let mut v = Violations::new();
        v.email("email", &too_long);
        let message = v.finish().unwrap_err().message;
        assert_eq!(
            message,
            "1 validation error detected: Value at 'email' failed to satisfy constraint: \
             Member must have length less than or equal to 254"
        );
    }

    #[test]
    fn collects_every_violation_and_hides_sensitive_values() {
        let mut v = Violations::new();
        v.email("userEmail", "secret-not-an-email");
        v.non_empty("accountId", "  ");
        let e = v.finish().unwrap_err();
        assert!(e.message.starts_with("2 validation errors detected: "));
        assert!(!e.message.contains("secret-not-an-email"));
        assert!(e.message.contains("Value '  ' at 'accountId'"));
    }

    #[test]
    fn email_pattern_is_the_models() {
        for ok in ["a@b.c", "first.last+tag@example.co.uk", "ÉLODIE@exemple.fr"] {
            assert!(EMAIL.is_match(ok), "{ok}");
        }
        for bad in ["", "a@b", "@b.c", "a@.c", "abc", "a@b."] {
            assert!(!EMAIL.is_match(bad), "{bad}");
        }
    }
}
