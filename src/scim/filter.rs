//! SCIM filters (RFC 7644 3.4.2.2) on users, parsed by the `scim_v2` crate and turned into the
//! store's [`ScimCondition`].
//!
//! The crate's parser bounds nesting (64 levels) and terms (1,024) while it parses; this module
//! bounds the text first ([`MAX_FILTER_LEN`]). What can be filtered on is what the store has an
//! expression for: `id`, `userName`, `externalId`, `displayName`, `emails` (its `value`, with
//! or without a `[type eq "work"]`/`[primary eq true]` value filter: a Chime user has one email,
//! its work and primary one) and `active`. Anything else is a 400 `invalidFilter`.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};

use super::error::ScimError;
use super::schemas::{CHIME_USER_SCHEMA, USER_SCHEMA};
use super::users::has_control;
use crate::store::{ScimAttr, ScimCondition, ScimOp};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidFilter", detail)
}

/// Parses a `filter` parameter into a condition on the account's users.
pub fn parse(text: &str) -> Result<ScimCondition, ScimError> {
    condition(&parse_filter(text)?)
}

/// Parses a `filter` parameter (bounded in length, depth and terms).
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(invalid(format!(
            "The filter is longer than {MAX_FILTER_LEN} bytes"
        )));
    }
    hoist_sub_attributes(&space_after_not(text.trim()))
        .parse()
        .map_err(|e| invalid(format!("The filter is not valid: {e}")))
}

/// Rewrites `emails[type eq "work"].value eq "x"` (what providers send, though RFC 7644's
/// filter grammar has no sub-attribute after a value filter) into the equivalent
/// `emails[(type eq "work") and value eq "x"]`, which it has. Text it cannot rewrite is left
/// as it is, for the parser to refuse.
fn hoist_sub_attributes(text: &str) -> String {
    let mut out = text.to_string();
    // Each pass rewrites the first `].name op value` outside string literals.
    for _ in 0..64 {
        match hoist_one(&out) {
            Some(next) => out = next,
            None => break,
        }
    }
    out
}

fn hoist_one(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut opens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'[' => opens.push(i),
            b']' => {
                let open = opens.pop()?;
                if bytes.get(i + 1) == Some(&b'.') {
                    let name_start = i + 2;
                    let name_end = name_start
                        + bytes[name_start..]
                            .iter()
                            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                            .count();
                    let rest = &text[name_end..];
                    let op_text = rest.trim_start();
                    let op_end = op_text
                        .find(|c: char| c.is_whitespace() || c == ')')
                        .unwrap_or(op_text.len());
                    let op = &op_text[..op_end];
                    let after_op = &op_text[op_end..];
                    let (value, tail) = if op.eq_ignore_ascii_case("pr") {
                        ("", after_op)
                    } else {
                        let value_text = after_op.trim_start();
                        let value_end = if value_text.starts_with('"') {
                            string_end(value_text.as_bytes(), 0)?
                        } else {
                            value_text
                                .find(|c: char| c.is_whitespace() || c == ')')
                                .unwrap_or(value_text.len())
                        };
                        (&value_text[..value_end], &value_text[value_end..])
                    };
                    if name_end == name_start
                        || op.is_empty()
                        || (value.is_empty() && !op.eq_ignore_ascii_case("pr"))
                    {
                        return None;
                    }
                    let comparison = format!("{} {op} {value}", &text[name_start..name_end]);
                    return Some(format!(
                        "{}[({}) and {}]{}",
                        &text[..open],
                        &text[open + 1..i],
                        comparison.trim_end(),
                        tail
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Writes `not(` as `not (`: RFC 7644's grammar (`"not" "(" valFilter ")"`, with an optional
/// space) allows both, the parser only the spaced one. `not` counts only as a word of its own
/// and outside string literals.
fn space_after_not(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 8);
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            match string_end(bytes, i) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => break,
            }
        }
        let word_start = i == 0 || !is_name_byte(bytes[i - 1]);
        if word_start
            && bytes.len() >= i + 4
            && bytes[i..i + 3].eq_ignore_ascii_case(b"not")
            && bytes[i + 3] == b'('
        {
            out.push_str(&text[copied..i + 3]);
            out.push(' ');
            copied = i + 3;
            i += 3;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// A byte of an attribute name or URI (`not` inside one is no operator).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'$')
}

/// The index just past the closing quote of the string literal that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn condition(filter: &Filter) -> Result<ScimCondition, ScimError> {
    Ok(match filter {
        Filter::Attr(exp) => attr_exp(exp, None)?,
        Filter::ValuePath(path) => {
            let attr = attribute(&path.attr)?;
            if attr != Attribute::Emails {
                return Err(invalid(format!(
                    "{} has no sub-attributes to filter on",
                    path.attr.name
                )));
            }
            val_filter(&path.filter)?
        }
        Filter::Not(inner) => ScimCondition::Not(Box::new(condition(inner)?)),
        Filter::And(items) => ScimCondition::And(each(items.as_slice(), condition)?),
        Filter::Or(items) => ScimCondition::Or(each(items.as_slice(), condition)?),
    })
}

/// The conditions of an `and` or `or`'s operands.
fn each<T>(
    items: &[T],
    convert: fn(&T) -> Result<ScimCondition, ScimError>,
) -> Result<Vec<ScimCondition>, ScimError> {
    items.iter().map(convert).collect()
}

/// The inner filter of `emails[...]`, on the one email of a user.
fn val_filter(filter: &ValFilter) -> Result<ScimCondition, ScimError> {
    Ok(match filter {
        ValFilter::Attr(exp) => attr_exp(exp, Some(Attribute::Emails))?,
        ValFilter::Not(inner) => ScimCondition::Not(Box::new(val_filter(inner)?)),
        ValFilter::And(items) => ScimCondition::And(each(items.as_slice(), val_filter)?),
        ValFilter::Or(items) => ScimCondition::Or(each(items.as_slice(), val_filter)?),
    })
}

/// What a filter's attribute path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attribute {
    Text(ScimAttr),
    Active,
    Emails,
    /// `emails.type` (always `work`) and `emails.primary` (always true).
    EmailType,
    EmailPrimary,
}

fn attribute(path: &AttrPath) -> Result<Attribute, ScimError> {
    if let Some(uri) = &path.uri
        && !uri.eq_ignore_ascii_case(USER_SCHEMA)
        && !uri.eq_ignore_ascii_case(CHIME_USER_SCHEMA)
    {
        return Err(invalid(format!("Unknown schema {uri}")));
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    Ok(match (name.as_str(), sub.as_deref()) {
        ("id", None) => Attribute::Text(ScimAttr::Id),
        ("username", None) => Attribute::Text(ScimAttr::UserName),
        ("externalid", None) => Attribute::Text(ScimAttr::ExternalId),
        ("displayname", None) => Attribute::Text(ScimAttr::DisplayName),
        ("active", None) => Attribute::Active,
        ("emails", None) => Attribute::Emails,
        ("emails", Some("value")) => Attribute::Text(ScimAttr::Email),
        ("emails", Some("type")) => Attribute::EmailType,
        ("emails", Some("primary")) => Attribute::EmailPrimary,
        _ => {
            return Err(invalid(format!(
                "Filtering on {} is not supported",
                path_text(path)
            )));
        }
    })
}

fn path_text(path: &AttrPath) -> String {
    match &path.sub_attr {
        Some(sub) => format!("{}.{sub}", path.name),
        None => path.name.clone(),
    }
}

/// One comparison or presence test; `within` is the multi-valued attribute whose value filter
/// it is in (its sub-attributes are then named bare: `value`, `type`).
fn attr_exp(exp: &AttrExp, within: Option<Attribute>) -> Result<ScimCondition, ScimError> {
    let path = match exp {
        AttrExp::Present(path) | AttrExp::Comparison(path, _, _) => path,
    };
    let attr = match within {
        Some(Attribute::Emails) => {
            attribute(&AttrPath::with_sub_attr("emails", path.name.clone()))?
        }
        _ => attribute(path)?,
    };
    let AttrExp::Comparison(_, op, value) = exp else {
        return Ok(match attr {
            Attribute::Text(text) => ScimCondition::Present(text),
            // A user's one email has its type and primary, when the user has an email.
            Attribute::Emails | Attribute::EmailType | Attribute::EmailPrimary => {
                ScimCondition::Present(ScimAttr::Email)
            }
            Attribute::Active => ScimCondition::Const(true),
        });
    };
    match attr {
        Attribute::Text(text) => {
            let CompValue::Str(value) = value else {
                return Err(invalid(format!(
                    "{} is compared with a string",
                    path_text(path)
                )));
            };
            if has_control(value) {
                return Err(invalid(format!(
                    "The value compared with {} holds a control character",
                    path_text(path)
                )));
            }
            Ok(ScimCondition::Compare(text, op_of(op), value.clone()))
        }
        Attribute::Emails => Err(invalid("Compare emails.value, not emails")),
        Attribute::Active => {
            let wanted =
                boolean(value).ok_or_else(|| invalid("active is compared with true or false"))?;
            match op {
                CompareOp::Eq => Ok(ScimCondition::Active(wanted)),
                CompareOp::Ne => Ok(ScimCondition::Active(!wanted)),
                _ => Err(invalid("active is compared with eq or ne")),
            }
        }
        Attribute::EmailType => {
            let CompValue::Str(kind) = value else {
                return Err(invalid("emails.type is compared with a string"));
            };
            // The Chime email is the work one.
            let work = kind.eq_ignore_ascii_case("work");
            match op {
                CompareOp::Eq => Ok(has_email_if(work)),
                CompareOp::Ne => Ok(has_email_if(!work)),
                _ => Err(invalid("emails.type is compared with eq or ne")),
            }
        }
        Attribute::EmailPrimary => {
            let wanted =
                boolean(value).ok_or_else(|| invalid("primary is compared with true or false"))?;
            match op {
                CompareOp::Eq => Ok(has_email_if(wanted)),
                CompareOp::Ne => Ok(has_email_if(!wanted)),
                _ => Err(invalid("primary is compared with eq or ne")),
            }
        }
    }
}

/// A test on the type or primary flag of a user's one email (work, primary): true of the users
/// that have an email (not the placeholder) when `matches`, else of none.
fn has_email_if(matches: bool) -> ScimCondition {
    if matches {
        ScimCondition::Present(ScimAttr::Email)
    } else {
        ScimCondition::Const(false)
    }
}

/// A boolean comparison value: JSON `true`/`false`, or the strings Entra ID sends.
fn boolean(value: &CompValue) -> Option<bool> {
    match value {
        CompValue::True => Some(true),
        CompValue::False => Some(false),
        CompValue::Str(text) if text.eq_ignore_ascii_case("true") => Some(true),
        CompValue::Str(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn op_of(op: &CompareOp) -> ScimOp {
    match op {
        CompareOp::Eq => ScimOp::Eq,
        CompareOp::Ne => ScimOp::Ne,
        CompareOp::Co => ScimOp::Co,
        CompareOp::Sw => ScimOp::Sw,
        CompareOp::Ew => ScimOp::Ew,
        CompareOp::Gt => ScimOp::Gt,
        CompareOp::Ge => ScimOp::Ge,
        CompareOp::Lt => ScimOp::Lt,
        CompareOp::Le => ScimOp::Le,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of filters, in any order: whatever they make, parsing answers a condition or a
    /// 400 `invalidFilter`, and never panics.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "userName",
                "externalId",
                "emails",
                "emails.value",
                "active",
                "id",
                "title",
                "displayName",
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                "[",
                "]",
                "(",
                ")",
                ".value",
                "eq",
                "ne",
                "co",
                "sw",
                "ew",
                "gt",
                "pr",
                "and",
                "or",
                "not",
                "true",
                "false",
                "null",
                "12",
                "\"x\"",
                "\"work\"",
                "type",
                "value",
                "\"",
                "\\",
            ])
            .prop_map(str::to_string),
            "\\PC{0,6}",
        ]
    }

    proptest! {
        #[test]
        fn any_text_is_a_condition_or_an_invalid_filter(
            pieces in prop::collection::vec(piece(), 0..24),
            glue in prop::sample::select(vec![" ", "", "  "]),
        ) {
            let text = pieces.join(glue);
            if let Err(e) = parse(&text) {
                prop_assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")));
            }
        }

        /// Values travel intact, whatever they hold (quotes, backslashes, any character):
        /// `userName eq v1 or externalId eq v2` as a JSON-quoted text parses to exactly them.
        #[test]
        fn quoted_values_round_trip(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let text = format!(
                "userName eq {} or externalId eq {}",
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap()
            );
            prop_assert_eq!(
                parse(&text).unwrap(),
                ScimCondition::Or(vec![
                    ScimCondition::Compare(ScimAttr::UserName, ScimOp::Eq, a),
                    ScimCondition::Compare(ScimAttr::ExternalId, ScimOp::Eq, b),
                ])
            );
        }
    }

    fn eq(attr: ScimAttr, value: &str) -> ScimCondition {
        ScimCondition::Compare(attr, ScimOp::Eq, value.to_string())
    }

    #[test]
    fn not_without_a_space_is_not() {
        let spaced = parse("not (active eq false)").unwrap();
        assert_eq!(parse("not(active eq false)").unwrap(), spaced);
        assert_eq!(parse("NOT(active eq false)").unwrap(), spaced);
        assert_eq!(
            parse(r#"userName eq "not(x" and not(externalId eq "y")"#).unwrap(),
            ScimCondition::And(vec![
                eq(ScimAttr::UserName, "not(x"),
                ScimCondition::Not(Box::new(eq(ScimAttr::ExternalId, "y"))),
            ])
        );
    }

    #[test]
    fn control_characters_in_values_are_invalid_filters() {
        for text in [r#"userName eq "a\u0000b""#, "externalId eq \"a\u{1}b\""] {
            let e = parse(text).expect_err(text);
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidFilter")),
                "{text}"
            );
        }
    }

    #[test]
    fn email_type_and_primary_tests_need_a_real_email() {
        let has_email = ScimCondition::Present(ScimAttr::Email);
        for text in [
            r#"emails[type eq "work"]"#,
            "emails[primary eq true]",
            r#"emails.type eq "Work""#,
            "emails.primary pr",
        ] {
            assert_eq!(parse(text).unwrap(), has_email, "{text}");
        }
        for text in [r#"emails[type eq "home"]"#, "emails[primary eq false]"] {
            assert_eq!(parse(text).unwrap(), ScimCondition::Const(false), "{text}");
        }
    }

    #[test]
    fn what_okta_and_entra_send_parses() {
        assert_eq!(
            parse(r#"userName eq "bjensen@example.com""#).unwrap(),
            eq(ScimAttr::UserName, "bjensen@example.com")
        );
        assert_eq!(
            parse(r#"externalId eq "0a1b" and userName eq "x""#).unwrap(),
            ScimCondition::And(vec![
                eq(ScimAttr::ExternalId, "0a1b"),
                eq(ScimAttr::UserName, "x")
            ])
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "a@b.c""#).unwrap(),
            ScimCondition::And(vec![
                ScimCondition::Present(ScimAttr::Email),
                eq(ScimAttr::Email, "a@b.c")
            ])
        );
        assert_eq!(
            parse(r#"emails[type eq "work" and value eq "a@b.c"]"#).unwrap(),
            ScimCondition::And(vec![
                ScimCondition::Present(ScimAttr::Email),
                eq(ScimAttr::Email, "a@b.c")
            ])
        );
        assert_eq!(
            parse(r#"USERNAME Eq "x" or not (active eq false)"#).unwrap(),
            ScimCondition::Or(vec![
                eq(ScimAttr::UserName, "x"),
                ScimCondition::Not(Box::new(ScimCondition::Active(false)))
            ])
        );
    }

    #[test]
    fn bad_filters_are_invalid_filter_errors() {
        let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
        let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_LEN));
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName xx "a""#,
            r#"title eq "x""#,
            r#"userName eq 3"#,
            r#"active gt true"#,
            r#"urn:example:Foo:bar eq "x""#,
            deep.as_str(),
            long.as_str(),
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidFilter")),
                "{bad}"
            );
        }
    }
}
