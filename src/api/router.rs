//! From method, path and query to one operation of the model, with its path labels.
//!
//! [`route`] matches the path against the templates of [`Op::binding`]: split on `/` first,
//! then each label decoded, so that `%2F` inside an id stays part of that id. Where several
//! operations share a method and path, the `?operation=` discriminator (or `?type=` for
//! SearchAvailablePhoneNumbers) picks one; the plain binding applies only when no
//! discriminator is given, and an unknown value is a `BadRequestException`, never a fallback.

use std::collections::HashMap;
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;

use super::op::{OPERATION, Op};
use crate::error::ApiError;

/// The decoded query parameters of a request, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

/// Percent-decodes one URL component; `+` stays a plus (AWS clients encode spaces as `%20`).
fn decode(component: &str) -> Result<String, ApiError> {
    if !component.contains('%') {
        return Ok(component.to_string());
    }
    percent_decode_str(component)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            ApiError::bad_request("The request URL is not valid UTF-8 after percent-decoding")
        })
}

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Query(pairs))
    }

    /// The single value of `name`. A parameter given twice is a bad request: the model binds
    /// each query member to one value.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_request(format!(
                "The query parameter '{name}' was given more than once"
            )));
        }
        Ok(first.map(String::as_str))
    }
}

/// The operation a request resolves to, with its decoded path labels by name, in template
/// order (`[("accountId", "..."), ("userId", "...")]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub op: Op,
    pub labels: Vec<(&'static str, String)>,
}

impl Route {
    /// The decoded path label `name` (`accountId`), or "" when the template has none.
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|(label, _)| *label == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

/// The operations by the shape of their path: how many `/`-separated segments, and the first
/// (always literal) segment after the leading `/`. A path is matched only against these.
static BY_SHAPE: LazyLock<HashMap<(usize, &'static str), Vec<Op>>> = LazyLock::new(|| {
    let mut shapes: HashMap<_, Vec<_>> = HashMap::new();
    for op in Op::ALL {
        let segments: Vec<&'static str> = op.binding().template.split('/').collect();
        shapes
            .entry((segments.len(), segments[1]))
            .or_default()
            .push(op);
    }
    shapes
});

/// Whether the path's segments fit `template`'s: the same number, and the same text wherever
/// the template has no `{label}`.
fn fits(template: &str, segments: &[&str]) -> bool {
    let mut count = 0;
    for (i, want) in template.split('/').enumerate() {
        match segments.get(i) {
            Some(got) if want.starts_with('{') || want == *got => count += 1,
            _ => return false,
        }
    }
    count == segments.len()
}

/// The segments of a path that fits `template` where the template has its labels, decoded,
/// under the labels' names.
fn labels(
    template: &'static str,
    segments: &[&str],
) -> Result<Vec<(&'static str, String)>, ApiError> {
    template
        .split('/')
        .zip(segments)
        .filter_map(|(want, got)| {
            let name = want.strip_prefix('{')?.strip_suffix('}')?;
            Some(decode(got).map(|value| (name, value)))
        })
        .collect()
}

/// Resolves method, path and discriminator to one operation of the model.
///
/// An unknown path or method, or an unknown `operation` value, is a `BadRequestException`
/// naming the method and path: never a silent fallback to another operation.
pub fn route(method: &str, raw_path: &str, query: &Query) -> Result<Route, ApiError> {
    let no_route = || {
        ApiError::bad_request(format!(
            "No Amazon Chime operation is bound to {method} {raw_path}"
        ))
    };
    let segments: Vec<&str> = raw_path.split('/').collect();
    let candidates = segments
        .get(1)
        .and_then(|first| BY_SHAPE.get(&(segments.len(), *first)))
        .map_or(&[][..], Vec::as_slice);
    let mut path_matched = false;
    for &op in candidates {
        let binding = op.binding();
        if !fits(binding.template, &segments) {
            continue;
        }
        path_matched = true;
        if binding.method != method {
            continue;
        }
        let selected = match binding.discriminator {
            Some((key, value)) => query.get(key)? == Some(value),
            // The plain binding applies only when no discriminator of its path is present.
            None => query.get(OPERATION)?.is_none(),
        };
        if selected {
            return Ok(Route {
                op,
                labels: labels(binding.template, &segments)?,
            });
        }
    }
    match query.get(OPERATION)? {
        Some(op) if path_matched => Err(ApiError::bad_request(format!(
            "Unknown operation '{op}' for {method} {raw_path}"
        ))),
        _ => Err(no_route()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, path: &str, query: &str) -> Result<Route, ApiError> {
        route(method, path, &Query::parse(Some(query)).unwrap())
    }

    #[test]
    fn discriminators_select_exactly() {
        assert_eq!(
            r("POST", "/accounts/a/users", "").unwrap().op,
            Op::BatchUpdateUser
        );
        assert_eq!(
            r("POST", "/accounts/a/users", "operation=create")
                .unwrap()
                .op,
            Op::CreateUser
        );
        assert_eq!(
            r("POST", "/accounts/a/users", "operation=add").unwrap().op,
            Op::InviteUsers
        );
        let e = r("POST", "/accounts/a/users", "operation=bogus").unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::BadRequest);
        assert!(e.message.contains("bogus"));
        assert!(r("GET", "/accounts/a/users", "operation=create").is_err());
        assert_eq!(
            r("GET", "/search", "type=phone-numbers").unwrap().op,
            Op::SearchAvailablePhoneNumbers
        );
    }

    #[test]
    fn labels_split_before_decoding() {
        let route = r("GET", "/accounts/a%2Fb/users/u%201", "").unwrap();
        assert_eq!(route.op, Op::GetUser);
        assert_eq!(
            route.labels,
            vec![
                ("accountId", "a/b".to_string()),
                ("userId", "u 1".to_string())
            ]
        );
        assert_eq!(route.label("userId"), "u 1");
        assert_eq!(route.label("roomId"), "");
        assert_eq!(
            r("GET", "/accounts//users", "").unwrap().labels,
            vec![("accountId", String::new())]
        );
    }

    #[test]
    fn unknown_routes_name_method_and_path() {
        let e = r("PATCH", "/accounts", "").unwrap_err();
        assert!(e.message.contains("PATCH /accounts"));
        let e = r("GET", "/nothing/here", "").unwrap_err();
        assert!(e.message.contains("GET /nothing/here"));
    }

    #[test]
    fn every_binding_routes_to_its_operation() {
        for op in Op::ALL {
            let binding = op.binding();
            let path: Vec<String> = binding
                .template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "id%2Fx".to_string()
                    } else {
                        segment.to_string()
                    }
                })
                .collect();
            let query = binding.discriminator.map(|(k, v)| format!("{k}={v}"));
            let query = Query::parse(query.as_deref()).unwrap();
            let route = route(binding.method, &path.join("/"), &query).unwrap();
            assert_eq!(route.op, op);
            assert!(route.labels.iter().all(|(_, l)| l == "id/x"), "{route:?}");
            let names: Vec<&str> = route.labels.iter().map(|(name, _)| *name).collect();
            let want: Vec<&str> = binding
                .template
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(names, want);
        }
    }

    #[test]
    fn repeated_query_members_are_refused() {
        let q = Query::parse(Some("max-results=1&max-results=2")).unwrap();
        assert!(q.get("max-results").is_err());
        assert_eq!(
            Query::parse(Some("a=%2B+b")).unwrap().get("a").unwrap(),
            Some("++b")
        );
    }
}
