//! Belfry: a self-hosted server for the Amazon Chime account and user API.
//!
//! Data flows one way through the modules of this crate:
//!
//! ```text
//! HTTP (server) -> auth (SigV4, principal) -> throttle -> api (route, parse, validate)
//!      -> store (SQL) -> typed output / ready JSON -> HTTP
//! ```
//!
//! The map of every module:
//!
//! * [`server`]: the HTTP listener and the per-request pipeline (`server/mod.rs`), header and
//!   body limits and the wire shape of responses (`http.rs`), and what operating a server needs:
//!   [`server::throttle`] (GCRA rate limits per key), [`server::faults`] (errors and latency on
//!   purpose), [`server::admin`] (the `/_belfry/` API) and [`server::metrics`] (Prometheus).
//! * [`auth`]: SigV4 verification ([`auth::sigv4`]) and access keys to an [`auth::Principal`].
//! * [`api`]: one Chime operation per request. [`api::op`] has the [`api::Op`] enum of the
//!   model's 62 operations, their bindings and the dispatch; [`api::router`], [`api::input`],
//!   [`api::body`], [`api::validate`] and [`api::reply`] are shared by every resource; then one
//!   file per resource ([`api::accounts`], [`api::users`], [`api::rooms`], [`api::bots`],
//!   [`api::phone_numbers`], [`api::settings`], [`api::meetings`]) with its operations' handlers.
//! * [`store`]: accounts, users, rooms, bots, messages, keys, the phone-number inventory and its
//!   orders, settings and meetings in SQL (SQLite or PostgreSQL); it knows nothing of HTTP. One
//!   file per resource as in `api/` (`accounts`, `users`, `rooms`, `bots`, `phone_numbers`,
//!   `settings`, `meetings`, `keys`), then what they share: numbered schema migrations
//!   ([`store::migrations`]), the read pools that cannot write (`reader`), the exact cache of
//!   served user list pages (`page_cache`), the bulk upsert of `belfry import` (`import`), and
//!   [`store::StoreError`], which names what was missing or collided.
//! * [`scim`]: the SCIM 2.0 service provider under `/scim/v2/accounts/{AccountId}/` (users
//!   provisioned by an identity provider, with bearer tokens of one account), over [`store`].
//! * [`error`]: the one error type of the wire ([`error::ApiError`]), and the one conversion
//!   from the store's errors into it.
//! * [`model`]: the wire enums of the model (License, UserType, ...) and the email key.
//! * [`token`]: signed, self-contained page tokens; [`time`]: ISO 8601 timestamps.
//! * [`events`]: the events Belfry sends a chat bot's endpoint when a message mentions it;
//!   [`carrier`]: the simulated carrier that offers (fictional) phone numbers and classifies
//!   them by country and type.
//! * [`transfer`]: an account's users as JSON Lines or CSV, and its rooms and bots as JSON
//!   Lines ([`transfer::rooms`]), for `belfry import`/`export`; [`demo`]: the demo account of
//!   `serve --demo`; [`embedded`]: an in-memory server inside a Rust test.
//! * [`console`]: the web console under `/console/`: server-rendered pages that call the
//!   API's handlers as the signed-in key ([`console::session`]: sign-in, cookies, CSRF).
//! * [`cli`]: the `belfry` command over all of this (`src/main.rs` only calls [`cli::run`]):
//!   `serve` with its config file ([`cli::config`]), `keys create`, and `import`/`export` with
//!   their progress and summary lines.

pub mod api;
pub mod auth;
pub mod carrier;
pub mod cli;
pub mod console;
pub mod demo;
pub mod embedded;
pub mod error;
pub mod events;
pub mod model;
pub mod scim;
pub mod server;
pub mod store;
pub mod time;
pub mod token;
pub mod transfer;
