//! A SCIM 2.0 service provider (RFC 7643, RFC 7644) per Chime account, so that an identity
//! provider (Okta, Entra ID, ...) provisions the account's users.
//!
//! The base URL a provider is configured with is `/scim/v2/accounts/{AccountId}`; under it
//! `/Users`, `/Groups`, `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes`. Every request carries
//! `Authorization: Bearer <token>`, a token made by `belfry scim-token create --account-id`
//! and bound to that one account: a token of another account, a revoked or unknown one, is a
//! 401 that reads nothing. SigV4 plays no part here.
//!
//! The request goes: route (this module) -> authenticate (the token's hash, looked up in the
//! store) -> handler ([`users`], [`groups`]; [`schemas`] for discovery) -> store. Filters are parsed in
//! [`filter`], PATCH bodies applied in [`patch`], list positions kept in [`paging`]; every
//! failure is a SCIM error ([`error`]). Anything else under `/scim/` is a SCIM-shaped 404.

pub mod error;
pub mod filter;
pub mod groups;
pub mod paging;
pub mod patch;
pub mod schemas;
pub mod users;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::store::Store;
use error::ScimError;
use paging::Cursors;

/// Every path under this prefix is SCIM's.
pub const PREFIX: &str = "/scim/";

/// The prefix of an account's base URL: `/scim/v2/accounts/{AccountId}`.
pub const ACCOUNTS: &str = "/scim/v2/accounts/";

/// The media type of SCIM bodies.
pub const CONTENT_TYPE: &str = "application/scim+json";

/// The state SCIM keeps across requests: where served list pages ended.
#[derive(Default)]
pub struct Scim {
    cursors: Cursors,
}

/// What SCIM reads of an HTTP request.
pub struct ScimRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The `Host` header, for the absolute `meta.location` of resources.
    pub host: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub if_match: Option<&'a str>,
    pub body: &'a [u8],
}

/// A SCIM response: its status, JSON body, and the `ETag` and `Location` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimResponse {
    pub status: u16,
    pub body: Option<String>,
    pub etag: Option<String>,
    pub location: Option<String>,
    /// Seconds for a `Retry-After` header (a throttled request).
    pub retry_after: Option<u64>,
}

impl ScimResponse {
    pub fn empty(status: u16) -> Self {
        ScimResponse {
            status,
            body: None,
            etag: None,
            location: None,
            retry_after: None,
        }
    }

    fn json(value: Value) -> Self {
        ScimResponse {
            status: 200,
            body: Some(value.to_string()),
            etag: None,
            location: None,
            retry_after: None,
        }
    }

    /// A resource: its JSON, its version as `ETag`, and (for a 201) its `Location`.
    fn resource(status: u16, resource: Value, location: bool) -> Self {
        ScimResponse {
            status,
            etag: resource["meta"]["version"].as_str().map(str::to_string),
            location: location
                .then(|| resource["meta"]["location"].as_str().map(str::to_string))
                .flatten(),
            body: Some(resource.to_string()),
            retry_after: None,
        }
    }

    /// The response of an error.
    pub fn error(e: &ScimError) -> Self {
        ScimResponse {
            status: e.status,
            body: Some(e.body()),
            etag: None,
            location: None,
            retry_after: None,
        }
    }
}

/// An authenticated request, as handlers see it.
pub struct Context<'a> {
    pub store: &'a Store,
    /// The AWS account that owns the token's Chime account.
    pub owner: &'a str,
    pub account_id: &'a str,
    /// The account's base URL, absolute when the request named its host.
    pub base: String,
    pub if_match: Option<&'a str>,
    params: Vec<(String, String)>,
    cursors: &'a Cursors,
}

impl Context<'_> {
    /// A query parameter (its name matched case-insensitively).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

fn not_found(path: &str) -> ScimError {
    ScimError::not_found(format!("No SCIM resource at {path}"))
}

fn method_not_allowed(method: &str, path: &str) -> ScimError {
    ScimError::new(405, None, format!("{method} is not supported on {path}"))
}

/// The bearer token of an `Authorization` header.
/// What [`Scim::authenticate`] found: the token's id and the AWS account owning its account.
#[derive(Debug, Clone)]
pub struct Grant {
    pub token_id: String,
    owner: String,
}

/// The account id, resource and resource id (percent-decoded) of a SCIM URL, or a 404.
fn route(path: &str) -> Result<(String, String, Option<String>), ScimError> {
    let rest = path.strip_prefix(ACCOUNTS).ok_or_else(|| not_found(path))?;
    let mut segments: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    if !(2..=3).contains(&segments.len()) {
        return Err(not_found(path));
    }
    let id = (segments.len() == 3).then(|| segments.pop()).flatten();
    let resource = segments.pop().unwrap_or_default();
    let account = segments.pop().unwrap_or_default();
    Ok((account, resource, id))
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A search of every resource type: the users matching, then the groups, paged as one list.
/// A filter that only groups can match (on `members`) matches no user.
async fn search_all(ctx: &Context<'_>) -> Result<ScimResponse, ScimError> {
    let (start, count) = users::paging(ctx)?;
    let (user_total, mut resources) = match users::page(ctx, start, count).await {
        Ok(page) => page,
        Err(e) if e.scim_type == Some("invalidFilter") => (0, Vec::new()),
        Err(e) => return Err(e),
    };
    // Where the page reaches past the users, it goes on with the groups.
    let group_start = (start as i64 - user_total).max(1) as u64;
    let (group_total, groups) = groups::page(ctx, group_start, count - resources.len()).await?;
    resources.extend(groups);
    Ok(users::list_response(
        user_total + group_total,
        start,
        resources,
    ))
}

/// A request body as JSON (anything else is a 400 `invalidSyntax`).
fn parse_json(body: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("The body is not JSON: {e}")))
}

/// The weak ETag of a resource: a hash of what it shows (every member but `meta`), so that any
/// change, by SCIM or through the Chime API, changes it.
fn version(resource: &serde_json::Map<String, Value>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(Value::Object(resource.clone()).to_string().as_bytes());
    format!("W/\"{}\"", &hex::encode(digest)[..20])
}

/// The list parameters of a SearchRequest body, as query parameters.
fn search_params(body: &[u8]) -> Result<Vec<(String, String)>, ScimError> {
    let body = parse_json(body)?;
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "A SearchRequest is an object"))?;
    let mut params = Vec::new();
    for name in [
        "filter",
        "startIndex",
        "count",
        "attributes",
        "excludedAttributes",
    ] {
        let text = match patch::get(object, name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ScimError::bad("invalidValue", format!("{name} lists strings")))?
                .join(","),
            Some(_) => return Err(ScimError::bad("invalidValue", format!("{name} is invalid"))),
        };
        params.push((name.to_string(), text));
    }
    Ok(params)
}

impl Scim {
    pub fn new() -> Scim {
        Scim::default()
    }

    /// Authenticates one request under [`PREFIX`] (the first step after HTTP: a path that
    /// is no SCIM URL is a 404, then the bearer token must be one of the URL's account).
    /// The caller throttles by the grant's token id, then [`Scim::handle`]s the request.
    pub async fn authenticate(
        &self,
        store: &Store,
        request: &ScimRequest<'_>,
    ) -> Result<Grant, ScimError> {
        let (account_id, _, _) = route(request.path)?;
        let (token_id, bound, owner) = match bearer(request.authorization) {
            Some(token) => store.scim_token_grant(token).await?,
            None => None,
        }
        .ok_or_else(ScimError::unauthorized)?;
        if bound != account_id {
            return Err(ScimError::unauthorized());
        }
        Ok(Grant { token_id, owner })
    }

    /// Serves one authenticated request; every failure is a SCIM error response.
    pub async fn handle(
        &self,
        store: &Store,
        request: &ScimRequest<'_>,
        grant: &Grant,
    ) -> ScimResponse {
        match self.serve(store, request, &grant.owner).await {
            Ok(response) => response,
            Err(e) => ScimResponse::error(&e),
        }
    }

    async fn serve(
        &self,
        store: &Store,
        request: &ScimRequest<'_>,
        owner: &str,
    ) -> Result<ScimResponse, ScimError> {
        let path = request.path;
        let (account_id, resource, id) = route(path)?;
        let (account_id, resource, id) = (&account_id, resource.as_str(), id.as_deref());
        let base = match request.host {
            Some(host) => format!("http://{host}{ACCOUNTS}{account_id}"),
            None => format!("{ACCOUNTS}{account_id}"),
        };
        let ctx = Context {
            store,
            owner,
            account_id,
            base,
            if_match: request.if_match,
            params: url::form_urlencoded::parse(request.query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
            cursors: &self.cursors,
        };
        let method = request.method;
        // POST .search (RFC 7644 3.4.3): a list whose parameters are in the body; at the base
        // URL, of every resource type (users, then groups).
        if method == "POST"
            && id == Some(".search")
            && (resource == "Users" || resource == "Groups")
            || method == "POST" && resource == ".search" && id.is_none()
        {
            let ctx = Context {
                params: search_params(request.body)?,
                ..ctx
            };
            return match resource {
                "Users" => users::list(&ctx).await,
                "Groups" => groups::list(&ctx).await,
                _ => search_all(&ctx).await,
            };
        }
        let base = ctx.base.as_str();
        match (resource, id, method) {
            ("Users", None, "GET") => users::list(&ctx).await,
            ("Users", None, "POST") => users::create(&ctx, request.body).await,
            ("Users", Some(id), "GET") => users::get_one(&ctx, id).await,
            ("Users", Some(id), "PUT") => users::replace(&ctx, id, request.body, false).await,
            ("Users", Some(id), "PATCH") => users::replace(&ctx, id, request.body, true).await,
            ("Users", Some(id), "DELETE") => users::delete(&ctx, id).await,
            ("Groups", None, "GET") => groups::list(&ctx).await,
            ("Groups", None, "POST") => groups::create(&ctx, request.body).await,
            ("Groups", Some(id), "GET") => groups::get_one(&ctx, id).await,
            ("Groups", Some(id), "PUT") => groups::replace(&ctx, id, request.body, false).await,
            ("Groups", Some(id), "PATCH") => groups::replace(&ctx, id, request.body, true).await,
            ("Groups", Some(id), "DELETE") => groups::delete(&ctx, id).await,
            ("ServiceProviderConfig", None, "GET") => {
                Ok(ScimResponse::json(schemas::service_provider_config(base)))
            }
            ("Schemas", None, "GET") => {
                Ok(ScimResponse::json(schemas::list(schemas::schemas(base))))
            }
            ("Schemas", Some(id), "GET") => schemas::schemas(base)
                .into_iter()
                .find(|s| s["id"] == id)
                .map(ScimResponse::json)
                .ok_or_else(|| not_found(path)),
            ("ResourceTypes", None, "GET") => Ok(ScimResponse::json(schemas::list(
                schemas::resource_types(base),
            ))),
            ("ResourceTypes", Some(id), "GET") => schemas::resource_types(base)
                .into_iter()
                .find(|s| s["id"] == id)
                .map(ScimResponse::json)
                .ok_or_else(|| not_found(path)),
            ("Users" | "Groups" | "ServiceProviderConfig" | "Schemas" | "ResourceTypes", _, _) => {
                Err(method_not_allowed(method, path))
            }
            _ => Err(not_found(path)),
        }
    }
}
