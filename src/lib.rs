//! Belfry: a self-hosted server for the Amazon Chime account and user API.
//!
//! Data flows one way through the modules of this crate:
//!
//! ```text
//! HTTP (server) -> auth (SigV4, principal) -> throttle -> api (route, parse, validate)
//!      -> store (SQL) -> typed output / ready JSON -> HTTP
//! ```
//!
//! * [`server`] owns the HTTP listener and the per-request pipeline.
//! * [`auth`] verifies SigV4 signatures and turns an access key into a [`auth::Principal`].
//! * [`api`] maps a request onto one Chime operation, validates its input exactly as the
//!   service model bounds it, and calls the store.
//! * [`store`] keeps accounts, users and keys in SQL; it knows nothing of HTTP.
//! * [`error`] is the one error type, mapped to the Chime wire shape.
//! * [`throttle`] and [`faults`] limit requests per key and fail them on purpose;
//!   [`admin`] manages faults and data at run time; [`metrics`] counts what happened.
//! * [`config`] reads the TOML config file of `belfry serve`.
//! * [`transfer`] reads and writes an account's users as JSON Lines or CSV (`belfry import`,
//!   `belfry export`); [`embedded`] runs an in-memory server inside a Rust test.

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod demo;
pub mod embedded;
pub mod error;
pub mod faults;
pub mod metrics;
pub mod model;
pub mod server;
pub mod store;
pub mod throttle;
pub mod time;
pub mod token;
pub mod transfer;
