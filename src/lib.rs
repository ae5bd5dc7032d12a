//! Belfry: a self-hosted server for the Amazon Chime account and user API.
//!
//! Data flows one way through the modules of this crate:
//!
//! ```text
//! HTTP (server) -> auth (SigV4, principal) -> api (route, parse, validate)
//!      -> store (SQL) -> typed output / ready JSON -> HTTP
//! ```
//!
//! * [`server`] owns the HTTP listener and the per-request pipeline.
//! * [`auth`] verifies SigV4 signatures and turns an access key into a [`auth::Principal`].
//! * [`api`] maps a request onto one Chime operation, validates its input exactly as the
//!   service model bounds it, and calls the store.
//! * [`store`] keeps accounts, users and keys in SQL; it knows nothing of HTTP.
//! * [`error`] is the one error type, mapped to the Chime wire shape.

pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod model;
pub mod server;
pub mod store;
pub mod time;
pub mod token;
