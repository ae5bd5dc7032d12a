//! The API: from an authenticated HTTP request to one Chime operation and its reply.
//!
//! This module knows nothing of SQL and nothing of sockets. Its files, each with one job:
//!
//! * [`op`]: the [`Op`] enum (one variant per operation of the model), each operation's HTTP
//!   binding, and [`dispatch`], the exhaustive match from an operation to its handler;
//! * [`router`]: method, path and query to a [`Route`] (operation and path labels by name);
//! * [`input`]: the [`Call`] a handler reads, with the shared input helpers (labels,
//!   `max-results`, page tokens); [`body`]: JSON request bodies; [`validate`]: the model's
//!   constraints, in the service's own messages; [`reply`]: what a handler answers;
//! * one file per resource, each holding its operations' parse -> store call -> reply:
//!   [`accounts`] (with their sign-in delegate groups), [`users`], [`rooms`] (rooms,
//!   memberships, message redaction), [`bots`] (bots and their events configurations),
//!   [`phone_numbers`] (the carrier's search, the AWS account's number inventory and its
//!   orders), [`settings`] (an AWS account's phone-number and global settings, an account's
//!   retention) and [`meetings`] (dial-outs from a meeting).
//!
//! A store failure becomes the client's error through `From<StoreError> for ApiError`
//! ([`crate::error`]), so a handler ends its store call with `?`.

pub mod accounts;
pub mod body;
pub mod bots;
pub mod input;
pub mod meetings;
pub mod op;
pub mod phone_numbers;
pub mod reply;
pub mod rooms;
pub mod router;
pub mod settings;
pub mod users;
pub mod validate;

pub use body::decode_body;
pub use input::Call;
pub use op::{Op, dispatch};
pub use reply::Reply;
pub use router::{Query, Route, route};
