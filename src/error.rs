//! The one error type of the API, mapped onto the Chime wire shape.
//!
//! Every error the service model declares is a structure with `Code` and `Message`, sent with
//! the HTTP status the model binds and the header `x-amzn-ErrorType: <ShapeName>`. Clients pick
//! the typed exception from that header, so every error Belfry sends is one of these kinds.

use std::fmt;

/// One modeled Chime error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    Throttled,
    ServiceUnavailable,
    ServiceFailure,
}

impl ErrorKind {
    /// The shape name sent in `x-amzn-ErrorType`.
    pub fn shape(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestException",
            ErrorKind::Unauthorized => "UnauthorizedClientException",
            ErrorKind::Forbidden => "ForbiddenException",
            ErrorKind::NotFound => "NotFoundException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::Unprocessable => "UnprocessableEntityException",
            ErrorKind::Throttled => "ThrottledClientException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
            ErrorKind::ServiceFailure => "ServiceFailureException",
        }
    }

    /// The `Code` member: a value of the model's `ErrorCode` enum.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unprocessable => "Unprocessable",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::ServiceUnavailable => "ServiceUnavailable",
            ErrorKind::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status the model binds to the shape.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::Throttled => 429,
            ErrorKind::ServiceUnavailable => 503,
            ErrorKind::ServiceFailure => 500,
        }
    }
}

/// An error answered to a client: a kind and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A request over its caller's rate limit; a token is there again in `retry_after_secs`.
    pub fn throttled(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..Self::new(ErrorKind::Throttled, message)
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    /// An internal failure. The cause is logged by the caller; the client sees no internals.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::ServiceFailure,
            "The service encountered an unexpected error.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            ErrorKind::ServiceUnavailable,
            "The service is currently unavailable. Retry the request.",
        )
    }

    /// The JSON body: `{"Code":"NotFound","Message":"..."}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "Code": self.kind.code(), "Message": self.message }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.shape(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_and_message() {
        let e = ApiError::not_found("The account x was not found.");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["Code"], "NotFound");
        assert_eq!(v["Message"], "The account x was not found.");
        assert_eq!(e.kind.status(), 404);
        assert_eq!(e.kind.shape(), "NotFoundException");
    }
}
