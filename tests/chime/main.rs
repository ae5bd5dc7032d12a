//! Belfry driven by the unmodified Rust AWS SDK (aws-sdk-chime), one module per resource: each
//! served operation's happy path with field-level checks, every error it can raise as its
//! typed exception, and the visibility of every change through GetUser and ListUsers.
//!
//! - `accounts`: CreateAccount, GetAccount, ListAccounts (filters, pages, tokens),
//!   UpdateAccount and DeleteAccount.
//! - `account_settings`: GetAccountSettings and UpdateAccountSettings.
//! - `users`: CreateUser and GetUser (racing creates included), and InviteUsers.
//! - `user_updates`: UpdateUser and BatchUpdateUser.
//! - `user_actions`: BatchSuspendUser and BatchUnsuspendUser, ResetPersonalPIN, LogoutUser.
//! - `list_users`: ListUsers validation, filters, tokens and page sizes, the paginator over
//!   1,000 users, walks under concurrent writes, and earlier tokens seeing later changes.
//! - `user_settings`: GetUserSettings and UpdateUserSettings.
//! - `phone_numbers`: AssociatePhoneNumberWithUser and DisassociatePhoneNumberFromUser.
//! - `phone_inventory`: the carrier's search and countries, phone number orders, the AWS
//!   account's inventory (list, get, update, delete, restore) and its tie to users.
//! - `rooms`: rooms, memberships (alone and in batches), limits, message redaction, tenancy.
//! - `bots`: bots, their events configurations, and the Mention event at a bot's endpoint.
//! - `settings`: an AWS account's phone-number and global settings, an account's retention
//!   settings and sign-in delegate groups, and CreateMeetingDialOut.
//! - `access`: authentication, read-only keys and tenancy, operation by operation and
//!   table-driven over every served operation.
//! - `protocol`: request ids, the modeled status codes on the wire, authentication first.
//!
//! The harness (a server on a scratch store, clients, seeding, and the SDK calls and checks
//! that several modules share) is `tests/common/mod.rs`.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod account_settings;
mod accounts;
mod bots;
mod list_users;
mod phone_inventory;
mod phone_numbers;
mod protocol;
mod rooms;
mod settings;
mod user_actions;
mod user_settings;
mod user_updates;
mod users;
