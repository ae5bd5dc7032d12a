//! SCIM's errors (RFC 7644 3.12): every failure under `/scim/` is answered with the error
//! schema, `status` as a string, and a `scimType` where the RFC names one.

use serde_json::json;

use crate::store::{Conflict, Missing, StoreError};

/// The URN of SCIM's error messages.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    /// `invalidFilter`, `invalidSyntax`, `invalidValue`, `invalidPath`, `noTarget`,
    /// `mutability`, `uniqueness`, `tooMany`, ... or none.
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 with its `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            None,
            "A bearer token of this account is required (belfry scim-token create)",
        )
    }

    /// The error as its JSON body.
    pub fn body(&self) -> String {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body.to_string()
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(Missing::User { user_id, .. }) => {
                ScimError::not_found(format!("Resource {user_id} not found"))
            }
            StoreError::NotFound(missing) => {
                ScimError::not_found(format!("Not found: {missing:?}"))
            }
            StoreError::Conflict(Conflict::UserName) => ScimError::new(
                409,
                Some("uniqueness"),
                "A user with this userName already exists in the account",
            ),
            StoreError::Conflict(Conflict::Email) => ScimError::new(
                409,
                Some("uniqueness"),
                "A user with this email already exists in the account",
            ),
            StoreError::Conflict(conflict) => ScimError::new(409, None, format!("{conflict:?}")),
            // A quota of the service (members per room, rooms per account) or a state that
            // does not allow the write: the request's values cannot be applied.
            e @ (StoreError::LimitExceeded(_) | StoreError::Rejected(_)) => {
                ScimError::bad("invalidValue", e.to_string())
            }
            StoreError::Unavailable(detail) => ScimError::new(503, None, detail),
            other => {
                tracing::error!(error = %other, "SCIM request failed in the store");
                ScimError::new(500, None, "Internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Limit;

    #[test]
    fn store_errors_are_scim_errors() {
        let cases = [
            (StoreError::no_user("a", "u"), 404, None),
            (
                StoreError::Conflict(Conflict::UserName),
                409,
                Some("uniqueness"),
            ),
            (
                StoreError::Conflict(Conflict::Email),
                409,
                Some("uniqueness"),
            ),
            (StoreError::Conflict(Conflict::Membership), 409, None),
            (
                StoreError::LimitExceeded(Limit::MembershipsPerRoom(1000)),
                400,
                Some("invalidValue"),
            ),
            (StoreError::Unavailable("busy".into()), 503, None),
            (StoreError::Internal("bug".into()), 500, None),
        ];
        for (store, status, scim_type) in cases {
            let e = ScimError::from(store);
            assert_eq!((e.status, e.scim_type), (status, scim_type), "{e:?}");
            let body: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
            assert_eq!(body["schemas"][0], ERROR_SCHEMA);
            assert_eq!(body["status"], status.to_string());
        }
    }
}
