//! What an operation's handler reads its input from, and the helpers every resource shares:
//! path labels by name, the request body, `max-results` and page tokens.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use super::body::decode_body;
use super::reply::Reply;
use super::router::{Query, Route};
use super::validate::Violations;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::store::{ListKey, Store};
use crate::token::PageTokens;

/// `ProfileServiceMaxResults` bounds (every list of the account and user operations), and the
/// page size when none is asked for.
pub const MAX_RESULTS_MIN: i64 = 1;
pub const MAX_RESULTS_MAX: i64 = 200;
pub const MAX_RESULTS_DEFAULT: usize = 100;

/// `ResultMax` bounds (the lists of rooms, memberships and bots), and Belfry's page size when
/// none is asked for where the service did not document its own (rooms, memberships).
pub const RESULT_MAX_MAX: i64 = 99;
pub const RESULT_MAX_DEFAULT: usize = 50;

/// Refuses a read-only caller every operation that writes (the API pipeline's and the web
/// console's one check).
pub fn check_read_only(principal: &Principal, op: super::Op) -> Result<(), ApiError> {
    if principal.read_only && !op.is_read_only() {
        return Err(ApiError::forbidden(format!(
            "The access key {} is read-only and may not call {}",
            principal.access_key_id,
            op.name()
        )));
    }
    Ok(())
}

const INVALID_TOKEN: &str =
    "The NextToken is invalid: it was not issued for this request, or it was altered.";

/// Everything an operation needs to run.
pub struct Call<'a> {
    pub store: &'a Store,
    pub tokens: &'a PageTokens,
    pub principal: &'a Principal,
    /// The operation and its path labels.
    pub route: &'a Route,
    pub query: &'a Query,
    pub body: &'a [u8],
}

impl Call<'_> {
    /// The caller's AWS account: the owner every store call is scoped to.
    pub fn owner(&self) -> &str {
        &self.principal.aws_account_id
    }

    /// The request body as `T`; an empty body is `{}`. See [`decode_body`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        decode_body(self.body)
    }

    /// The path label `name` (`accountId`, `userId`, ...) as it is: for members the model
    /// types as plain `String`.
    pub fn label(&self, name: &str) -> &str {
        self.route.label(name)
    }

    /// The path label `name`, checked as the model's `NonEmptyString`.
    pub fn non_empty_label(&self, name: &str, v: &mut Violations) -> &str {
        let id = self.label(name);
        v.non_empty(name, id);
        id
    }

    /// The path labels `names`, each checked as the model's `NonEmptyString` into `v` along
    /// with the operation's other members: `let [account_id, room_id] = call.labels(...)`.
    pub fn labels<const N: usize>(&self, names: [&str; N], v: &mut Violations) -> [&str; N] {
        names.map(|name| self.non_empty_label(name, v))
    }

    /// The path labels `names` of an operation that checks nothing else: a
    /// `BadRequestException` names each that is empty.
    pub fn path_labels<const N: usize>(&self, names: [&str; N]) -> Result<[&str; N], ApiError> {
        let mut v = Violations::new();
        let labels = self.labels(names, &mut v);
        v.finish()?;
        Ok(labels)
    }

    /// `max-results` of a `ProfileServiceMaxResults` list, checked against the model's
    /// bounds; the default when absent.
    pub fn max_results(&self, v: &mut Violations) -> Result<usize, ApiError> {
        self.max_results_within(v, MAX_RESULTS_MAX, MAX_RESULTS_DEFAULT)
    }

    /// `max-results` between 1 and `max`; `default` when absent.
    pub fn max_results_within(
        &self,
        v: &mut Violations,
        max: i64,
        default: usize,
    ) -> Result<usize, ApiError> {
        Ok(match self.query.get("max-results")? {
            Some(raw) => v
                .integer("maxResults", raw, MAX_RESULTS_MIN, max)
                .map_or(default, |n| n as usize),
            None => default,
        })
    }

    /// The caller, as the service names who created or invited: its access key id.
    pub fn caller(&self) -> &str {
        &self.principal.access_key_id
    }

    /// The position the `next-token` of this request continues after: its `parts` strings,
    /// opened under `scope` (the operation, the account and the filters the token was issued
    /// for). `None` without a token; a token of another scope, altered, or of another number
    /// of parts is a `BadRequestException`.
    pub fn page_after(
        &self,
        scope: &[&str],
        parts: usize,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(token) = self.query.get("next-token")? else {
            return Ok(None);
        };
        let position = self
            .tokens
            .open(scope, token)
            .map_err(|_| invalid_token())?;
        if position.len() != parts {
            return Err(invalid_token());
        }
        Ok(Some(position))
    }

    /// The `NextToken` of a page ending at `position`, within `scope` (see
    /// [`Call::page_after`]).
    pub fn next_token(&self, scope: &[&str], position: &[&str]) -> String {
        self.tokens.issue(scope, position)
    }

    /// [`Call::page_after`] for a list in creation order (accounts, rooms, bots): the creation
    /// time in milliseconds and the id of the item the page continues after.
    pub fn created_after(&self, scope: &[&str]) -> Result<Option<(i64, String)>, ApiError> {
        match self.page_after(scope, 2)?.as_deref() {
            Some([ms, id]) => Ok(Some((
                ms.parse::<i64>().map_err(|_| invalid_token())?,
                id.clone(),
            ))),
            _ => Ok(None),
        }
    }

    /// A list's page (200), through the store's cache of rendered pages
    /// ([`Store::cached_page`]): `render` makes its JSON body when the cache has no page for
    /// this `scope` (the page tokens' scope: operation, owner, account, filters), this request's
    /// `next-token` and `limit`, or the database changed since.
    pub async fn cached_list(
        &self,
        scope: &[&str],
        limit: usize,
        render: impl Future<Output = Result<String, ApiError>>,
    ) -> Result<Reply, ApiError> {
        let key = ListKey::new(scope, self.query.get("next-token")?, limit);
        let body = self
            .store
            .cached_page(key, async { render.await.map(Bytes::from) })
            .await?;
        Ok(Reply::pieces(200, vec![body]))
    }

    /// [`Call::next_token`] for a list in creation order: a page ending at `(ms, id)`.
    pub fn created_token(&self, scope: &[&str], (ms, id): &(i64, String)) -> String {
        self.next_token(scope, &[&ms.to_string(), id])
    }
}

/// The error for a page token that does not open.
pub fn invalid_token() -> ApiError {
    ApiError::bad_request(INVALID_TOKEN)
}
