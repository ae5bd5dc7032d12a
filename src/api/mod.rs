//! The API: from an authenticated HTTP request to one Chime operation and its reply.
//!
//! [`route`] finds the operation exactly as the service model binds it: method, path template
//! and, where several operations share a path, the `?operation=` discriminator. Each operation
//! then parses and validates its input into typed values, calls the store, and renders its
//! output. This module knows nothing of SQL and nothing of sockets.

mod accounts;
mod users;
pub mod validate;

use std::collections::HashMap;

use axum::body::Bytes;
use percent_encoding::percent_decode_str;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::store::{Store, StoreError};
use crate::token::PageTokens;

/// A successful reply: the modeled status and a JSON body (empty for 204), in pieces that are
/// sent one after the other: a ListUsers page shares its users' JSON with the page cache
/// rather than copying it into a body of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<Bytes>,
}

impl Reply {
    pub fn json(status: u16, body: String) -> Self {
        Reply::pieces(status, vec![Bytes::from(body)])
    }

    /// A body made of `pieces`, in order (empty pieces are dropped when it is sent).
    pub fn pieces(status: u16, pieces: Vec<Bytes>) -> Self {
        Reply {
            status,
            body: pieces,
        }
    }

    /// A modeled success with no output members: 204 with no body, or `{}`.
    pub fn empty(status: u16) -> Self {
        if status == 204 {
            Reply::pieces(status, Vec::new())
        } else {
            Reply::json(status, "{}".to_string())
        }
    }

    /// The whole body in one buffer (a copy: for tests and tools, not for serving).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.concat()
    }
}

/// One HTTP binding of the model: method, path template, discriminator, operation name.
struct Binding {
    method: &'static str,
    template: &'static str,
    /// A literal query parameter that selects this operation among those sharing the path.
    discriminator: Option<(&'static str, &'static str)>,
    operation: &'static str,
}

const fn bind(
    method: &'static str,
    template: &'static str,
    discriminator: Option<(&'static str, &'static str)>,
    operation: &'static str,
) -> Binding {
    Binding {
        method,
        template,
        discriminator,
        operation,
    }
}

const OP: &str = "operation";

/// Every operation of the Chime model (2018-05-01), as its `http` trait binds it.
const BINDINGS: &[Binding] = &[
    bind("GET", "/accounts", None, "ListAccounts"),
    bind("POST", "/accounts", None, "CreateAccount"),
    bind("DELETE", "/accounts/{accountId}", None, "DeleteAccount"),
    bind("GET", "/accounts/{accountId}", None, "GetAccount"),
    bind("POST", "/accounts/{accountId}", None, "UpdateAccount"),
    bind(
        "POST",
        "/accounts/{accountId}",
        Some((OP, "associate-signin-delegate-groups")),
        "AssociateSigninDelegateGroupsWithAccount",
    ),
    bind(
        "POST",
        "/accounts/{accountId}",
        Some((OP, "disassociate-signin-delegate-groups")),
        "DisassociateSigninDelegateGroupsFromAccount",
    ),
    bind("GET", "/accounts/{accountId}/bots", None, "ListBots"),
    bind("POST", "/accounts/{accountId}/bots", None, "CreateBot"),
    bind("GET", "/accounts/{accountId}/bots/{botId}", None, "GetBot"),
    bind(
        "POST",
        "/accounts/{accountId}/bots/{botId}",
        None,
        "UpdateBot",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/bots/{botId}",
        Some((OP, "regenerate-security-token")),
        "RegenerateSecurityToken",
    ),
    bind(
        "DELETE",
        "/accounts/{accountId}/bots/{botId}/events-configuration",
        None,
        "DeleteEventsConfiguration",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/bots/{botId}/events-configuration",
        None,
        "GetEventsConfiguration",
    ),
    bind(
        "PUT",
        "/accounts/{accountId}/bots/{botId}/events-configuration",
        None,
        "PutEventsConfiguration",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/conversations/{conversationId}/messages/{messageId}",
        Some((OP, "redact")),
        "RedactConversationMessage",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/retention-settings",
        None,
        "GetRetentionSettings",
    ),
    bind(
        "PUT",
        "/accounts/{accountId}/retention-settings",
        None,
        "PutRetentionSettings",
    ),
    bind("GET", "/accounts/{accountId}/rooms", None, "ListRooms"),
    bind("POST", "/accounts/{accountId}/rooms", None, "CreateRoom"),
    bind(
        "DELETE",
        "/accounts/{accountId}/rooms/{roomId}",
        None,
        "DeleteRoom",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/rooms/{roomId}",
        None,
        "GetRoom",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/rooms/{roomId}",
        None,
        "UpdateRoom",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/rooms/{roomId}/memberships",
        None,
        "ListRoomMemberships",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/rooms/{roomId}/memberships",
        None,
        "CreateRoomMembership",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/rooms/{roomId}/memberships",
        Some((OP, "batch-create")),
        "BatchCreateRoomMembership",
    ),
    bind(
        "DELETE",
        "/accounts/{accountId}/rooms/{roomId}/memberships/{memberId}",
        None,
        "DeleteRoomMembership",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/rooms/{roomId}/memberships/{memberId}",
        None,
        "UpdateRoomMembership",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/rooms/{roomId}/messages/{messageId}",
        Some((OP, "redact")),
        "RedactRoomMessage",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/settings",
        None,
        "GetAccountSettings",
    ),
    bind(
        "PUT",
        "/accounts/{accountId}/settings",
        None,
        "UpdateAccountSettings",
    ),
    bind("GET", "/accounts/{accountId}/users", None, "ListUsers"),
    bind(
        "POST",
        "/accounts/{accountId}/users",
        None,
        "BatchUpdateUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users",
        Some((OP, "add")),
        "InviteUsers",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users",
        Some((OP, "create")),
        "CreateUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users",
        Some((OP, "suspend")),
        "BatchSuspendUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users",
        Some((OP, "unsuspend")),
        "BatchUnsuspendUser",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/users/{userId}",
        None,
        "GetUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users/{userId}",
        None,
        "UpdateUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users/{userId}",
        Some((OP, "associate-phone-number")),
        "AssociatePhoneNumberWithUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users/{userId}",
        Some((OP, "disassociate-phone-number")),
        "DisassociatePhoneNumberFromUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users/{userId}",
        Some((OP, "logout")),
        "LogoutUser",
    ),
    bind(
        "POST",
        "/accounts/{accountId}/users/{userId}",
        Some((OP, "reset-personal-pin")),
        "ResetPersonalPIN",
    ),
    bind(
        "GET",
        "/accounts/{accountId}/users/{userId}/settings",
        None,
        "GetUserSettings",
    ),
    bind(
        "PUT",
        "/accounts/{accountId}/users/{userId}/settings",
        None,
        "UpdateUserSettings",
    ),
    bind(
        "POST",
        "/meetings/{meetingId}/dial-outs",
        None,
        "CreateMeetingDialOut",
    ),
    bind(
        "GET",
        "/phone-number-countries",
        None,
        "ListSupportedPhoneNumberCountries",
    ),
    bind("GET", "/phone-number-orders", None, "ListPhoneNumberOrders"),
    bind(
        "POST",
        "/phone-number-orders",
        None,
        "CreatePhoneNumberOrder",
    ),
    bind(
        "GET",
        "/phone-number-orders/{phoneNumberOrderId}",
        None,
        "GetPhoneNumberOrder",
    ),
    bind("GET", "/phone-numbers", None, "ListPhoneNumbers"),
    bind(
        "POST",
        "/phone-numbers",
        Some((OP, "batch-delete")),
        "BatchDeletePhoneNumber",
    ),
    bind(
        "POST",
        "/phone-numbers",
        Some((OP, "batch-update")),
        "BatchUpdatePhoneNumber",
    ),
    bind(
        "DELETE",
        "/phone-numbers/{phoneNumberId}",
        None,
        "DeletePhoneNumber",
    ),
    bind(
        "GET",
        "/phone-numbers/{phoneNumberId}",
        None,
        "GetPhoneNumber",
    ),
    bind(
        "POST",
        "/phone-numbers/{phoneNumberId}",
        None,
        "UpdatePhoneNumber",
    ),
    bind(
        "POST",
        "/phone-numbers/{phoneNumberId}",
        Some((OP, "restore")),
        "RestorePhoneNumber",
    ),
    bind(
        "GET",
        "/search",
        Some(("type", "phone-numbers")),
        "SearchAvailablePhoneNumbers",
    ),
    bind("GET", "/settings", None, "GetGlobalSettings"),
    bind("PUT", "/settings", None, "UpdateGlobalSettings"),
    bind(
        "GET",
        "/settings/phone-number",
        None,
        "GetPhoneNumberSettings",
    ),
    bind(
        "PUT",
        "/settings/phone-number",
        None,
        "UpdatePhoneNumberSettings",
    ),
];

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

/// The operation a request resolves to, with its decoded path labels in template order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub operation: &'static str,
    pub labels: Vec<String>,
}

/// The bindings by the shape of their path: how many `/`-separated segments, and the first
/// (always literal) segment after the leading `/`. A path is matched only against these.
static BY_SHAPE: std::sync::LazyLock<HashMap<(usize, &'static str), Vec<&'static Binding>>> =
    std::sync::LazyLock::new(|| {
        let mut shapes: HashMap<_, Vec<_>> = HashMap::new();
        for binding in BINDINGS {
            let segments: Vec<&'static str> = binding.template.split('/').collect();
            shapes
                .entry((segments.len(), segments[1]))
                .or_default()
                .push(binding);
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

/// The segments of a path that fits `template` where the template has its labels, decoded.
/// The raw path is split on `/` first and each segment decoded after, so `%2F` inside an id
/// stays part of that id.
fn labels(template: &str, segments: &[&str]) -> Result<Vec<String>, ApiError> {
    template
        .split('/')
        .zip(segments)
        .filter(|(want, _)| want.starts_with('{'))
        .map(|(_, got)| decode(got))
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
    for binding in candidates {
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
            None => query.get(OP)?.is_none(),
        };
        if selected {
            return Ok(Route {
                operation: binding.operation,
                labels: labels(binding.template, &segments)?,
            });
        }
    }
    match query.get(OP)? {
        Some(op) if path_matched => Err(ApiError::bad_request(format!(
            "Unknown operation '{op}' for {method} {raw_path}"
        ))),
        _ => Err(no_route()),
    }
}

/// Whether `name` is an operation of the Chime model.
pub fn is_operation(name: &str) -> bool {
    BINDINGS.iter().any(|b| b.operation == name)
}

/// Whether an operation only reads. Every read of the Chime model is a GET.
pub fn is_read_only(method: &str) -> bool {
    method == "GET" || method == "HEAD"
}

/// Everything an operation needs to run.
pub struct Call<'a> {
    pub store: &'a Store,
    pub tokens: &'a PageTokens,
    pub principal: &'a Principal,
    pub labels: &'a [String],
    pub query: &'a Query,
    pub body: &'a [u8],
}

impl Call<'_> {
    /// The caller's AWS account: the owner every store call is scoped to.
    pub fn owner(&self) -> &str {
        &self.principal.aws_account_id
    }

    /// The request body as `T`; an empty body is `{}`. See [`decode_body`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        decode_body(self.body)
    }
}

/// Decodes a JSON request body into an operation's input `T`, as AWS's rest-json services
/// do: an empty (or all-whitespace) body is `{}`; members `T` does not know are ignored, at any
/// depth; anything else that does not fit — malformed JSON, invalid UTF-8, nesting deeper than
/// 128, a member given twice, a member of the wrong type, a structure given as an array, a body
/// that is not an object — is a `BadRequestException` saying why.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let invalid = |e: serde_json::Error| {
        ApiError::bad_request(format!(
            "The request body is not valid for this operation: {e}"
        ))
    };
    // Syntax, UTF-8, depth, duplicates and types, with serde_json's position in the message.
    let decoded: T = serde_json::from_slice(body).map_err(invalid)?;
    // serde's derived structures also accept a JSON array of their members in order; the
    // wire format has objects only. Decoding again through `strict::Strict` refuses arrays
    // where a structure belongs.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    T::deserialize(strict::Strict(&value)).map_err(invalid)?;
    Ok(decoded)
}

/// A deserializer over a parsed JSON value that gives structures only from JSON objects.
mod strict {
    use serde::de::value::{MapDeserializer, SeqDeserializer};
    use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
    use serde_json::{Error, Value};

    pub struct Strict<'a>(pub &'a Value);

    fn unexpected(value: &Value) -> Unexpected<'_> {
        match value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(_) => Unexpected::Other("number"),
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        }
    }

    impl<'a> IntoDeserializer<'_, Error> for Strict<'a> {
        type Deserializer = Strict<'a>;
        fn into_deserializer(self) -> Strict<'a> {
            self
        }
    }

    impl<'de> de::Deserializer<'de> for Strict<'_> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(*b),
                Value::Number(n) => {
                    if let Some(u) = n.as_u64() {
                        visitor.visit_u64(u)
                    } else if let Some(i) = n.as_i64() {
                        visitor.visit_i64(i)
                    } else {
                        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
                Value::String(s) => visitor.visit_str(s),
                Value::Array(items) => {
                    let mut seq = SeqDeserializer::new(items.iter().map(Strict));
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end()?;
                    Ok(value)
                }
                Value::Object(members) => {
                    let mut map =
                        MapDeserializer::new(members.iter().map(|(k, v)| (k.as_str(), Strict(v))));
                    let value = visitor.visit_map(&mut map)?;
                    map.end()?;
                    Ok(value)
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Null => visitor.visit_none(),
                _ => visitor.visit_some(self),
            }
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            match self.0 {
                Value::Object(_) => self.deserialize_any(visitor),
                other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
}

/// Maps a store failure to what the client sees. `account_id`/`user_id` name what was missing.
pub fn store_error(e: StoreError, account_id: &str, user_id: Option<&str>) -> ApiError {
    match e {
        StoreError::AccountNotFound => {
            ApiError::not_found(format!("The account {account_id} was not found."))
        }
        StoreError::UserNotFound => ApiError::not_found(format!(
            "The user {} was not found in account {account_id}.",
            user_id.unwrap_or("")
        )),
        StoreError::EmailTaken => {
            ApiError::conflict("A user with this email address already exists in the account.")
        }
        StoreError::NumberTaken => {
            ApiError::conflict("The phone number is already associated with another user.")
        }
        StoreError::UsersNotSuspended(n) => ApiError::new(
            crate::error::ErrorKind::Unprocessable,
            format!(
                "The account {account_id} cannot be deleted: {n} of its users are not suspended. \
                 Suspend every user first."
            ),
        ),
        StoreError::Unavailable(e) => {
            tracing::warn!(error = %e, "store unavailable");
            ApiError::unavailable()
        }
        e @ (StoreError::Internal(_) | StoreError::Refused(..)) => {
            tracing::error!(error = %e, "store failure");
            ApiError::internal()
        }
    }
}

/// Runs the routed operation.
pub async fn dispatch(route: &Route, call: &Call<'_>) -> Result<Reply, ApiError> {
    match route.operation {
        "CreateAccount" => accounts::create_account(call).await,
        "GetAccount" => accounts::get_account(call).await,
        "ListAccounts" => accounts::list_accounts(call).await,
        "CreateUser" => users::create_user(call).await,
        "InviteUsers" => users::invite_users(call).await,
        "GetUser" => users::get_user(call).await,
        "ListUsers" => users::list_users(call).await,
        "UpdateAccount" => accounts::update_account(call).await,
        "DeleteAccount" => accounts::delete_account(call).await,
        "GetAccountSettings" => accounts::get_account_settings(call).await,
        "UpdateAccountSettings" => accounts::update_account_settings(call).await,
        "UpdateUser" => users::update_user(call).await,
        "BatchUpdateUser" => users::batch_update_user(call).await,
        "BatchSuspendUser" => users::batch_suspend_user(call, true).await,
        "BatchUnsuspendUser" => users::batch_suspend_user(call, false).await,
        "ResetPersonalPIN" => users::reset_personal_pin(call).await,
        "LogoutUser" => users::logout_user(call).await,
        "GetUserSettings" => users::get_user_settings(call).await,
        "UpdateUserSettings" => users::update_user_settings(call).await,
        "AssociatePhoneNumberWithUser" => users::associate_phone_number(call).await,
        "DisassociatePhoneNumberFromUser" => users::disassociate_phone_number(call).await,
        other => Err(ApiError::bad_request(format!(
            "{other} is not supported by this server (Belfry serves the Amazon Chime account \
             and user operations)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, path: &str, query: &str) -> Result<Route, ApiError> {
        route(method, path, &Query::parse(Some(query)).unwrap())
    }

    #[test]
    fn an_empty_204_has_no_body_pieces() {
        // Tools (and the json_bodies fuzz target) take a reply with pieces to have a body.
        assert!(Reply::empty(204).body.is_empty());
        assert_eq!(Reply::empty(200).body_bytes(), b"{}");
    }

    #[test]
    fn discriminators_select_exactly() {
        assert_eq!(
            r("POST", "/accounts/a/users", "").unwrap().operation,
            "BatchUpdateUser"
        );
        assert_eq!(
            r("POST", "/accounts/a/users", "operation=create")
                .unwrap()
                .operation,
            "CreateUser"
        );
        assert_eq!(
            r("POST", "/accounts/a/users", "operation=add")
                .unwrap()
                .operation,
            "InviteUsers"
        );
        let e = r("POST", "/accounts/a/users", "operation=bogus").unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::BadRequest);
        assert!(e.message.contains("bogus"));
        assert!(r("GET", "/accounts/a/users", "operation=create").is_err());
        assert_eq!(
            r("GET", "/search", "type=phone-numbers").unwrap().operation,
            "SearchAvailablePhoneNumbers"
        );
    }

    #[test]
    fn labels_split_before_decoding() {
        let route = r("GET", "/accounts/a%2Fb/users/u%201", "").unwrap();
        assert_eq!(route.operation, "GetUser");
        assert_eq!(route.labels, vec!["a/b".to_string(), "u 1".to_string()]);
        assert_eq!(
            r("GET", "/accounts//users", "").unwrap().labels,
            vec![String::new()]
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
    fn every_model_operation_is_bound_once() {
        let mut names: Vec<&str> = BINDINGS.iter().map(|b| b.operation).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), BINDINGS.len());
        assert_eq!(names.len(), 62);
    }

    #[test]
    fn every_binding_routes_to_its_operation() {
        for binding in BINDINGS {
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
            assert_eq!(route.operation, binding.operation);
            assert!(route.labels.iter().all(|l| l == "id/x"), "{route:?}");
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Inner {
        a: Option<bool>,
        b: Option<bool>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
    }

    /// Regression: serde's derived structures accept a JSON array of their members, so
    /// `["x"]` was a CreateAccount named x and `{"AccountSettings":[true,false]}` changed
    /// both settings. Only objects are structures now.
    #[test]
    fn structures_given_as_arrays_are_refused() {
        assert!(
            serde_json::from_slice::<Outer>(br#"["x",null,null]"#).is_ok(),
            "serde's leniency"
        );
        for body in [
            &br#"["x",null,null]"#[..],
            br#"["x", [true, false], null]"#,
            br#"{"Inner":[true,false]}"#,
            br#"{"List":[[true]]}"#,
            br#"{"List":[{"A":true},[true]]}"#,
            b"null",
            b"\"x\"",
            b"12",
        ] {
            let e = decode_body::<Outer>(body).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::BadRequest);
            assert!(
                e.message.starts_with("The request body is not valid"),
                "{e}"
            );
        }
        let ok: Outer =
            decode_body(br#"{"Name":"x","Inner":{"A":true,"Z":[1]},"List":[{"B":false}],"U":{}}"#)
                .unwrap();
        assert_eq!(
            ok,
            Outer {
                name: Some("x".into()),
                inner: Some(Inner {
                    a: Some(true),
                    b: None
                }),
                list: Some(vec![Inner {
                    a: None,
                    b: Some(false)
                }]),
            }
        );
        assert_eq!(
            decode_body::<Outer>(b" \n").unwrap(),
            Outer {
                name: None,
                inner: None,
                list: None
            }
        );
        assert_eq!(
            decode_body::<Outer>(br#"{"Name":null,"Inner":null}"#).unwrap(),
            Outer {
                name: None,
                inner: None,
                list: None
            }
        );
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
