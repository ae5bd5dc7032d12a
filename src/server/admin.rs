//! The admin API, under `/_belfry/`: no Chime path starts with `/_`, so it is never mistaken
//! for a Chime route.
//!
//! | request | what it does |
//! |---|---|
//! | `GET /_belfry/health` | `200 {"status":"ok"}`, or 503 when the store does not answer (no credential needed) |
//! | `POST /_belfry/reset` | deletes every account, user and phone number; keys stay (204) |
//! | `GET /_belfry/faults` | the fault rules, `{"rules":[{"id":1,...}]}` |
//! | `POST /_belfry/faults` | adds a rule (a JSON [`FaultRule`]), answers 201 `{"id":N}` |
//! | `DELETE /_belfry/faults` | removes every rule (204) |
//! | `DELETE /_belfry/faults/{id}` | removes one rule (204, or 404) |
//!
//! Every call but health needs `Authorization: Bearer <admin token>`; a server started without
//! an admin token answers them 404, as if they did not exist. Errors use the Chime error shape.

use serde_json::json;
use subtle::ConstantTimeEq;

use super::faults::{FaultRule, Faults};
use crate::api::Reply;
use crate::error::ApiError;
use crate::store::Store;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/_belfry/";

/// What the admin API works on.
pub struct Admin<'a> {
    pub store: &'a Store,
    pub faults: &'a Faults,
    /// The bearer token admin calls must present; `None` turns the admin API off.
    pub token: Option<&'a str>,
}

impl Admin<'_> {
    /// Serves one admin request. `path` is the raw path, starting with [`PREFIX`].
    pub async fn handle(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let rest = &path[PREFIX.len()..];
        if (method, rest) == ("GET", "health") {
            return self.health().await;
        }
        self.authorize(authorization)?;
        match (method, rest) {
            ("POST", "reset") => {
                self.store.wipe().await?;
                tracing::info!("admin reset: every account, user and phone number deleted");
                Ok(Reply::empty(204))
            }
            ("GET", "faults") => {
                let rules: Vec<_> = self
                    .faults
                    .list()
                    .into_iter()
                    .map(|(id, rule)| {
                        let mut value = serde_json::to_value(rule).expect("a rule serialises");
                        value["id"] = json!(id);
                        value
                    })
                    .collect();
                Ok(Reply::json(200, json!({ "rules": rules }).to_string()))
            }
            ("POST", "faults") => {
                let rule: FaultRule = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("Invalid fault rule: {e}")))?;
                rule.validate(crate::server::is_operation)
                    .map_err(|e| ApiError::bad_request(format!("Invalid fault rule: {e}")))?;
                let id = self.faults.add(rule);
                tracing::info!(rule = id, "fault rule added");
                Ok(Reply::json(201, json!({ "id": id }).to_string()))
            }
            ("DELETE", "faults") => {
                self.faults.clear();
                tracing::info!("fault rules cleared");
                Ok(Reply::empty(204))
            }
            ("DELETE", rest) if rest.starts_with("faults/") => {
                let id: u64 = rest["faults/".len()..]
                    .parse()
                    .map_err(|_| ApiError::bad_request("A fault rule id is a number"))?;
                if self.faults.remove(id) {
                    Ok(Reply::empty(204))
                } else {
                    Err(ApiError::not_found(format!("No fault rule {id}")))
                }
            }
            _ => Err(ApiError::not_found(format!(
                "No admin call {method} {path}"
            ))),
        }
    }

    async fn health(&self) -> Result<Reply, ApiError> {
        match self.store.ping().await {
            Ok(()) => Ok(Reply::json(200, r#"{"status":"ok"}"#.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, "health check: store does not answer");
                Err(ApiError::unavailable())
            }
        }
    }

    fn authorize(&self, authorization: Option<&str>) -> Result<(), ApiError> {
        let Some(token) = self.token else {
            return Err(ApiError::not_found(
                "The admin API is off: start the server with --admin-token to turn it on",
            ));
        };
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("Admin calls need the header Authorization: Bearer <token>")
            })?;
        if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("The admin token is not valid"))
        }
    }
}
