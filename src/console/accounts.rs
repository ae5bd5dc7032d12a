//! The accounts pages: the caller's Chime accounts (ListAccounts, CreateAccount), one
//! account (GetAccount, GetAccountSettings) with its rename (UpdateAccount) and settings
//! (UpdateAccountSettings) forms, and the download of its users (as `belfry export` writes it).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::TryStreamExt;
use maud::html;
use serde_json::{Value, json};

use super::layout::{csrf, done_notice, page, select};
use super::{Ctx, download, html, label, redirect};
use crate::error::ApiError;
use crate::transfer::{self, Format};

/// Accounts per page of the list.
const PAGE_SIZE: usize = 50;

/// A string member of an API reply, or "".
pub fn text<'a>(value: &'a Value, member: &str) -> &'a str {
    value[member].as_str().unwrap_or("")
}

/// What a `done` query parameter (set by the redirect after a change) tells the reader.
/// What the pages say after a change (`?done=CODE`).
const DONE: &[(&str, &str)] = &[
    ("created", "Account created."),
    ("renamed", "Account renamed."),
    ("settings", "Settings saved."),
];

/// `GET /console/accounts[?next=TOKEN]`.
pub async fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let mut query = format!("max-results={PAGE_SIZE}");
    if let Some(next) = ctx.query.get("next") {
        query.push_str(&format!("&next-token={}", label(next)));
    }
    let reply = ctx
        .api("GET", "/accounts", Some(&query), Value::Null)
        .await?;
    let accounts = reply["Accounts"].as_array().cloned().unwrap_or_default();
    let next = reply["NextToken"].as_str();
    let body = html! {
        (done_notice(ctx, DONE))
        @if accounts.is_empty() {
            p { "No accounts yet." }
        } @else {
            div.scroll {
                table {
                    caption.sr-only { "Accounts" }
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Type" }
                        th scope="col" { "Default license" }
                        th.wide scope="col" { "Account id" }
                        th.wide scope="col" { "Created" }
                    } }
                    tbody {
                        @for account in &accounts {
                            tr {
                                td { a href={ "/console/accounts/" (label(text(account, "AccountId"))) } { (text(account, "Name")) } }
                                td { (text(account, "AccountType")) }
                                td { (text(account, "DefaultLicense")) }
                                td.wide { code { (text(account, "AccountId")) } }
                                td.wide { (text(account, "CreatedTimestamp")) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            nav.pager aria-label="Pages" {
                a href="/console/accounts" { "First page" }
                a href={ "/console/accounts?next=" (label(next)) } rel="next" { "Next page" }
            }
        }
        @if !ctx.principal.read_only {
            h2 { "Create an account" }
            form.row method="post" action="/console/accounts" {
                (csrf(ctx))
                label { "Name" input type="text" name="name" required maxlength="100"; }
                button type="submit" { "Create account" }
            }
        }
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Accounts", body)))
}

/// `POST /console/accounts`: CreateAccount.
pub async fn create(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let name = ctx.form.get("name").unwrap_or("");
    let reply = ctx
        .api("POST", "/accounts", None, json!({ "Name": name }))
        .await?;
    let id = text(&reply["Account"], "AccountId");
    Ok(redirect(&format!(
        "/console/accounts/{}?done=created",
        label(id)
    )))
}

/// `GET /console/accounts/{id}`.
pub async fn show(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}", label(account_id));
    let account = ctx.api("GET", &path, None, Value::Null).await?["Account"].take();
    let settings = ctx
        .api("GET", &format!("{path}/settings"), None, Value::Null)
        .await?["AccountSettings"]
        .take();
    let here = format!("/console/accounts/{}", label(account_id));
    let flag = |member: &str| settings[member].as_bool().unwrap_or(false);
    let delegates: Vec<&str> = account["SigninDelegateGroups"]
        .as_array()
        .map(|groups| groups.iter().map(|g| text(g, "GroupName")).collect())
        .unwrap_or_default();
    let body = html! {
        (done_notice(ctx, DONE))
        nav.row aria-label="Account" {
            a href={ (here) "/users" } { "Users of this account" }
            a href={ (here) "/rooms" } { "Rooms" }
            a href={ (here) "/bots" } { "Bots" }
            a href={ "/console/phone-numbers?account=" (label(account_id)) } { "Phone numbers" }
        }
        dl {
            dt { "Account id" } dd { code { (text(&account, "AccountId")) } }
            dt { "AWS account" } dd { (text(&account, "AwsAccountId")) }
            dt { "Type" } dd { (text(&account, "AccountType")) }
            dt { "Status" } dd { (text(&account, "AccountStatus")) }
            dt { "Default license" } dd { (text(&account, "DefaultLicense")) }
            dt { "Supported licenses" } dd {
                @for (i, license) in account["SupportedLicenses"].as_array().into_iter().flatten().enumerate() {
                    @if i > 0 { ", " } (license.as_str().unwrap_or(""))
                }
            }
            dt { "Created" } dd { (text(&account, "CreatedTimestamp")) }
            dt { "Sign-in delegate groups" } dd {
                @if delegates.is_empty() { "none" } @else { (delegates.join(", ")) }
            }
            dt { "Remote control" } dd { @if flag("DisableRemoteControl") { "disabled" } @else { "enabled" } }
            dt { "Dial-out" } dd { @if flag("EnableDialOut") { "enabled" } @else { "disabled" } }
        }
        h2 { "Export the users" }
        p {
            a href={ (here) "/export?format=jsonl" } download { "JSON Lines" }
            " · "
            a href={ (here) "/export?format=csv" } download { "CSV" }
        }
        @if !ctx.principal.read_only {
            h2 { "Rename" }
            form.row method="post" action=(here) {
                (csrf(ctx))
                input type="hidden" name="action" value="rename";
                label { "New name" input type="text" name="name" required maxlength="100" value=(text(&account, "Name")); }
                button type="submit" { "Rename" }
            }
            h2 { "Import users" }
            p { "A file as " code { "belfry export" } " writes it (JSON Lines or CSV): users are added, or updated by email." }
            form.row method="post" enctype="multipart/form-data" action={ (here) "/import" } {
                (csrf(ctx))
                label { "File" input type="file" name="file" required accept=".jsonl,.json,.csv,text/csv,application/x-ndjson"; }
                div.field { (select("format", "Format", &["csv", "jsonl"], Some("By file name"), None)) }
                button type="submit" { "Import" }
            }
            h2 { "Settings" }
            form.row method="post" action=(here) {
                (csrf(ctx))
                input type="hidden" name="action" value="settings";
                label { input type="checkbox" name="disable_remote_control" checked[flag("DisableRemoteControl")]; "Disable remote control" }
                label { input type="checkbox" name="enable_dial_out" checked[flag("EnableDialOut")]; "Enable dial-out" }
                button type="submit" { "Save settings" }
            }
        }
    };
    let title = text(&account, "Name").to_string();
    Ok(html(StatusCode::OK, page(Some(ctx), &title, body)))
}

/// `POST /console/accounts/{id}` with `action` = `rename` (UpdateAccount) or `settings`
/// (UpdateAccountSettings).
pub async fn change(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}", label(account_id));
    let done = match ctx.form.get("action") {
        Some("rename") => {
            let name = ctx.form.get("name").unwrap_or("");
            ctx.api("POST", &path, None, json!({ "Name": name }))
                .await?;
            "renamed"
        }
        Some("settings") => {
            let settings = json!({ "AccountSettings": {
                "DisableRemoteControl": ctx.form.checked("disable_remote_control"),
                "EnableDialOut": ctx.form.checked("enable_dial_out"),
            } });
            ctx.api("PUT", &format!("{path}/settings"), None, settings)
                .await?;
            "settings"
        }
        _ => return Err(ApiError::bad_request("Unknown action")),
    };
    Ok(redirect(&format!(
        "/console/accounts/{}?done={done}",
        label(account_id)
    )))
}

/// `GET /console/accounts/{id}/export?format=jsonl|csv`: every user of the account, as
/// `belfry export` writes them.
pub async fn export(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    // Only the owner's account: the export itself reads by account id alone.
    ctx.store()
        .get_account(ctx.owner(), account_id)
        .await
        .map_err(ApiError::from)?;
    let (format, content_type, extension) = match ctx.query.get("format") {
        Some("csv") => (Format::Csv, "text/csv; charset=utf-8", "csv"),
        _ => (Format::JsonLines, "application/x-ndjson", "jsonl"),
    };
    // Streamed a page at a time, as `belfry export` writes a file: memory stays the same
    // however large the account. (A store error after the first page cuts the download short.)
    let pages = transfer::export_pages(ctx.store().clone(), account_id.to_string(), format)
        .map_ok(|(bytes, _)| bytes)
        .inspect_err(|e| tracing::error!(error = %e, "console export failed"));
    Ok(download(
        content_type,
        &format!("users-{account_id}.{extension}"),
        Body::from_stream(pages),
    ))
}
