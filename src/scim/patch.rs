//! SCIM PATCH (RFC 7644 3.5.2) applied to a resource's JSON.
//!
//! The handler renders the resource as it is, this module applies the operations to that JSON,
//! and the result is read back exactly as a PUT body would be: one mapping in each direction,
//! whatever the operations were. Operation names are case-insensitive (Entra ID sends `Add`,
//! `Replace`, `Remove`); attribute names too, as RFC 7643 2.1 says. Paths are parsed by the
//! `scim_v2` crate (bounded like filters).

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::{Map, Value};

use super::error::ScimError;
use super::filter::MAX_FILTER_LEN;
use super::schemas::{CHIME_USER_SCHEMA, PATCH_OP, USER_SCHEMA};

/// The most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidSyntax", detail)
}

/// Applies a PatchOp request body to `resource`.
pub fn apply(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    let body = body
        .as_object()
        .ok_or_else(|| syntax("A PATCH body is a JSON object"))?;
    let schemas = get(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(PATCH_OP))) {
        return Err(syntax(format!("A PATCH body has the schema {PATCH_OP}")));
    }
    let operations = get(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("A PATCH body has an array of Operations"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            "tooMany",
            format!("A PATCH carries at most {MAX_OPERATIONS} operations"),
        ));
    }
    for operation in operations {
        let operation = operation
            .as_object()
            .ok_or_else(|| syntax("Each operation is a JSON object"))?;
        let op = match get(operation, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
            _ => return Err(syntax("op is add, replace or remove")),
        };
        let value = get(operation, "value");
        let root = resource
            .as_object_mut()
            .ok_or_else(|| ScimError::new(500, None, "resource is not an object"))?;
        match get(operation, "path") {
            None | Some(Value::Null) => {
                if op == Op::Remove {
                    return Err(ScimError::bad("noTarget", "remove needs a path"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(syntax("An operation without a path has an object value"));
                };
                for (name, value) in values {
                    // Okta repeats the group's `id` in a path-less replace: a read-only
                    // attribute sent as it is changes nothing.
                    if is_read_only(name) && get(root, name) == Some(value) {
                        continue;
                    }
                    // A schema's URN holds that schema's attributes (an extension's).
                    if let (Some(uri), Value::Object(members)) = (schema_uri(name), value) {
                        let object = schema_object(root, uri);
                        for (member, value) in members {
                            set(object, op, member, None, Some(value));
                        }
                        continue;
                    }
                    let path = parse_path(name)?;
                    apply_path(root, op, &path, Some(value))?;
                }
            }
            Some(Value::String(path)) if schema_uri(path.trim()).is_some() => {
                // The path names a whole schema: its attributes are the value's members.
                let uri = schema_uri(path.trim()).expect("a schema");
                match (op, value) {
                    (Op::Remove, _) if uri != USER_SCHEMA => {
                        let k = key(root, uri);
                        root.remove(&k);
                    }
                    (Op::Add | Op::Replace, Some(Value::Object(members))) => {
                        let object = schema_object(root, uri);
                        for (member, value) in members {
                            set(object, op, member, None, Some(value));
                        }
                    }
                    _ => return Err(syntax("A schema's path takes an object of its attributes")),
                }
            }
            Some(Value::String(path)) => {
                let path = parse_path(path)?;
                if op != Op::Remove && value.is_none() {
                    return Err(syntax("add and replace need a value"));
                }
                apply_path(root, op, &path, value)?;
            }
            Some(_) => return Err(ScimError::bad("invalidPath", "path is a string")),
        }
    }
    Ok(())
}

fn parse_path(text: &str) -> Result<PatchPath, ScimError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::bad("invalidPath", "The path is too long"));
    }
    text.trim()
        .parse()
        .map_err(|e| ScimError::bad("invalidPath", format!("Invalid path {text:?}: {e}")))
}

/// A member of `object` named `name` case-insensitively.
pub fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The key under which `object` holds `name` case-insensitively, or `name` itself.
fn key(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

/// The schema a path-less operation's key names, when it names one of ours.
fn schema_uri(name: &str) -> Option<&'static str> {
    [USER_SCHEMA, CHIME_USER_SCHEMA]
        .into_iter()
        .find(|uri| uri.eq_ignore_ascii_case(name))
}

/// The object of a schema's attributes: the resource itself for the core schema, else the
/// extension's object (made if missing).
fn schema_object<'a>(root: &'a mut Map<String, Value>, uri: &str) -> &'a mut Map<String, Value> {
    if uri.eq_ignore_ascii_case(USER_SCHEMA) {
        return root;
    }
    let k = key(root, uri);
    let slot = root.entry(k).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("made an object")
}

/// `id`, `meta` and `schemas`: what no PATCH changes.
fn is_read_only(name: &str) -> bool {
    ["id", "meta", "schemas"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// The object an attribute path lives in: the resource, or its extension's object.
fn container<'a>(
    root: &'a mut Map<String, Value>,
    path: &AttrPath,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    if path.uri.is_none() && is_read_only(&path.name) {
        return Err(ScimError::bad(
            "mutability",
            format!("{} is read-only", path.name),
        ));
    }
    match &path.uri {
        None => Ok(root),
        Some(uri) => match schema_uri(uri) {
            Some(uri) => Ok(schema_object(root, uri)),
            None => Err(ScimError::bad(
                "invalidPath",
                format!("Unknown schema {uri}"),
            )),
        },
    }
}

fn apply_path(
    root: &mut Map<String, Value>,
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = match path {
        PatchPath::Attr(attr) => attr,
        PatchPath::Value(value_path) => &value_path.attr,
    };
    if attr
        .uri
        .as_deref()
        .is_some_and(|uri| schema_uri(uri).is_none())
    {
        // An extension Belfry does not keep (Entra ID's default mappings send the enterprise
        // extension's department or manager): nothing to change, as a POST ignores it.
        return Ok(());
    }
    match path {
        PatchPath::Attr(attr) => {
            let object = container(root, attr)?;
            set(object, op, &attr.name, attr.sub_attr.as_deref(), value);
            Ok(())
        }
        PatchPath::Value(value_path) => {
            let object = container(root, &value_path.attr)?;
            let name = key(object, &value_path.attr.name);
            let sub = value_path.sub_attr.as_deref();
            let items = object
                .entry(name)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                return Err(ScimError::bad(
                    "invalidPath",
                    "The path filters a single value",
                ));
            }
            let items = items.as_array_mut().expect("an array");
            let matching: Vec<usize> = (0..items.len())
                .filter(|&i| matches(&items[i], &value_path.filter, &value_path.attr.name))
                .collect();
            match op {
                Op::Remove => {
                    for &i in matching.iter().rev() {
                        match sub {
                            Some(sub) => {
                                if let Some(item) = items[i].as_object_mut() {
                                    let k = key(item, sub);
                                    item.remove(&k);
                                }
                            }
                            None => {
                                items.remove(i);
                            }
                        }
                    }
                }
                Op::Add | Op::Replace => {
                    let value = value.cloned().unwrap_or(Value::Null);
                    if matching.is_empty() {
                        // Entra ID replaces `emails[type eq "work"].value` of a user who has
                        // none: the element the filter describes is made.
                        let mut item = equalities(&value_path.filter).ok_or_else(|| {
                            ScimError::bad("noTarget", "No value matches the path's filter")
                        })?;
                        put(&mut item, sub, value.clone());
                        items.push(Value::Object(item));
                    }
                    for &i in &matching {
                        if let Some(item) = items[i].as_object_mut() {
                            put(item, sub, value.clone());
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

/// Writes `value` into a multi-valued attribute's element: at `sub`, or merged in whole.
fn put(item: &mut Map<String, Value>, sub: Option<&str>, value: Value) {
    match (sub, value) {
        (Some(sub), value) => {
            let k = key(item, sub);
            item.insert(k, value);
        }
        (None, Value::Object(values)) => {
            for (name, value) in values {
                let k = key(item, &name);
                item.insert(k, value);
            }
        }
        (None, _) => {}
    }
}

/// Sets, adds to or removes the attribute `name` (or its sub-attribute `sub`) of `object`.
fn set(
    object: &mut Map<String, Value>,
    op: Op,
    name: &str,
    sub: Option<&str>,
    value: Option<&Value>,
) {
    let k = key(object, name);
    if let Some(sub) = sub {
        match op {
            Op::Remove => {
                if let Some(Value::Object(inner)) = object.get_mut(&k) {
                    let sk = key(inner, sub);
                    inner.remove(&sk);
                }
            }
            Op::Add | Op::Replace => {
                let slot = object.entry(k).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                let inner = slot.as_object_mut().expect("an object");
                let sk = key(inner, sub);
                inner.insert(sk, value.cloned().unwrap_or(Value::Null));
            }
        }
        return;
    }
    match (op, value, object.get_mut(&k)) {
        // Entra ID removes members by listing them as the value: those elements go.
        (Op::Remove, Some(Value::Array(gone)), Some(Value::Array(items))) => {
            items.retain(|item| !gone.iter().any(|g| same_element(item, g)));
        }
        (Op::Remove, _, _) => {
            object.remove(&k);
        }
        // Adding to a multi-valued attribute appends.
        (Op::Add, Some(Value::Array(new)), Some(Value::Array(old))) => {
            for item in new {
                if !old.contains(item) {
                    old.push(item.clone());
                }
            }
        }
        // Adding or replacing sub-attributes of a complex one merges them.
        (_, Some(Value::Object(new)), Some(Value::Object(old))) => {
            for (name, value) in new {
                let nk = key(old, name);
                old.insert(nk, value.clone());
            }
        }
        (_, value, _) => {
            object.insert(k, value.cloned().unwrap_or(Value::Null));
        }
    }
}

/// Whether two elements of a multi-valued attribute are the same: by their `value`, or whole.
fn same_element(a: &Value, b: &Value) -> bool {
    let value = |v: &Value| v.as_object().and_then(|o| get(o, "value")).cloned();
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Whether an element of a multi-valued attribute matches a value filter.
/// Whether an element of the multi-valued attribute `parent` matches a value filter.
pub(super) fn matches(item: &Value, filter: &ValFilter, parent: &str) -> bool {
    match filter {
        ValFilter::Attr(exp) => {
            let Some(item) = item.as_object() else {
                return false;
            };
            match exp {
                AttrExp::Present(path) => get(item, &path.name).is_some_and(|v| !v.is_null()),
                AttrExp::Comparison(path, op, value) => compare(
                    get(item, &path.name),
                    op,
                    value,
                    case_exact(parent, Some(&path.name)),
                ),
            }
        }
        ValFilter::Not(inner) => !matches(item, inner, parent),
        ValFilter::And(items) => items.as_slice().iter().all(|f| matches(item, f, parent)),
        ValFilter::Or(items) => items.as_slice().iter().any(|f| matches(item, f, parent)),
    }
}

/// Whether the published schemas (schemas.rs) say `caseExact: true` of the attribute `name`
/// (or its sub-attribute `sub`): ids, externalIds, group members' values and references.
/// Every other string compares case-insensitively.
pub(super) fn case_exact(name: &str, sub: Option<&str>) -> bool {
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match sub {
        None => is(name, "id") || is(name, "externalId"),
        Some(sub) => (is(name, "members") && is(sub, "value")) || is(sub, "$ref"),
    }
}

/// A filter comparison of `actual` (absent: `None`) with `expected`; strings compare exactly
/// when `case_exact`, else case-insensitively.
pub(super) fn compare(
    actual: Option<&Value>,
    op: &CompareOp,
    expected: &CompValue,
    case_exact: bool,
) -> bool {
    let actual = actual.unwrap_or(&Value::Null);
    match (actual, expected) {
        (Value::String(a), CompValue::Str(e)) => {
            let (a, e) = if case_exact {
                (a.clone(), e.clone())
            } else {
                (a.to_lowercase(), e.to_lowercase())
            };
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Co => a.contains(&e),
                CompareOp::Sw => a.starts_with(&e),
                CompareOp::Ew => a.ends_with(&e),
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
            }
        }
        (Value::Bool(a), CompValue::True | CompValue::False) => {
            let e = matches!(expected, CompValue::True);
            match op {
                CompareOp::Eq => *a == e,
                CompareOp::Ne => *a != e,
                _ => false,
            }
        }
        (Value::Null, CompValue::Null) => matches!(op, CompareOp::Eq),
        (Value::Null, _) => matches!(op, CompareOp::Ne),
        _ => false,
    }
}

/// The element a filter of `eq` comparisons joined by `and` describes, if it is one.
fn equalities(filter: &ValFilter) -> Option<Map<String, Value>> {
    let mut item = Map::new();
    let mut add = |exp: &ValFilter| -> Option<()> {
        let ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) = exp else {
            return None;
        };
        let value = match value {
            CompValue::Str(s) => Value::String(s.clone()),
            CompValue::True => Value::Bool(true),
            CompValue::False => Value::Bool(false),
            _ => return None,
        };
        item.insert(path.name.clone(), value);
        Some(())
    };
    match filter {
        ValFilter::And(items) => {
            for exp in items.as_slice() {
                add(exp)?;
            }
        }
        exp => add(exp)?,
    }
    Some(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(resource: Value, operations: Value) -> Result<Value, ScimError> {
        let mut resource = resource;
        apply(
            &mut resource,
            &json!({"schemas": [PATCH_OP], "Operations": operations}),
        )?;
        Ok(resource)
    }

    #[test]
    fn okta_and_entra_operations() {
        let user = json!({"userName": "a", "active": true,
            "emails": [{"value": "a@x.com", "type": "work", "primary": true}]});
        // Okta: a path-less replace.
        let out = patch(
            user.clone(),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .unwrap();
        assert_eq!(out["active"], false);
        // Entra ID: capitalised ops, string booleans, value-path emails.
        let out = patch(
            user.clone(),
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x.com"},
                {"op": "Add", "path": "name.givenName", "value": "Bea"},
                {"op": "Add", "path": "urn:belfry:params:scim:schemas:extension:chime:2.0:User:licenseType", "value": "Pro"},
            ]),
        )
        .unwrap();
        assert_eq!(out["active"], "False");
        assert_eq!(out["emails"][0]["value"], "b@x.com");
        assert_eq!(out["name"]["givenName"], "Bea");
        assert_eq!(
            out["urn:belfry:params:scim:schemas:extension:chime:2.0:User"]["licenseType"],
            "Pro"
        );
        // A work email added where there was none.
        let out = patch(
            json!({"userName": "a"}),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "c@x.com"}]),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([{"type": "work", "value": "c@x.com"}]));
        let out = patch(
            user,
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([]));
        // An extension Belfry does not keep changes nothing.
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let before = json!({"userName": "a"});
        let out = patch(
            before.clone(),
            json!([{"op": "Add", "path": manager, "value": "m"}]),
        )
        .unwrap();
        assert_eq!(out, before);
        // Groups: Okta repeats the id in a path-less replace; Entra ID removes members by
        // value.
        let group =
            json!({"id": "g", "displayName": "a", "members": [{"value": "u1"}, {"value": "u2"}]});
        let out = patch(
            group.clone(),
            json!([{"op": "replace", "value": {"id": "g", "displayName": "b"}}]),
        )
        .unwrap();
        assert_eq!(out["displayName"], "b");
        let out = patch(
            group.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]),
        )
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "u2"}]));
        let e = patch(group, json!([{"op": "replace", "value": {"id": "other"}}])).unwrap_err();
        assert_eq!(e.scim_type, Some("mutability"));
    }

    #[test]
    fn bad_operations_are_scim_400s() {
        for (ops, kind) in [
            (
                json!([{"op": "move", "path": "userName", "value": "x"}]),
                "invalidSyntax",
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "replace", "path": "meta.created", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
                "invalidPath",
            ),
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "add", "path": "userName eq \"x\"", "value": "x"}]),
                "invalidPath",
            ),
            (json!([{"op": "replace", "value": 3}]), "invalidSyntax"),
            (json!([3]), "invalidSyntax"),
        ] {
            let e = patch(json!({"userName": "a"}), ops.clone()).expect_err(&ops.to_string());
            assert_eq!((e.status, e.scim_type), (400, Some(kind)), "{ops}");
        }
        let mut user = json!({});
        let e = apply(&mut user, &json!({"Operations": []})).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }
}
