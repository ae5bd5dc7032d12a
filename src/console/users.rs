//! The users pages of an account: the users table (filters, keyset paging, counts, bulk
//! actions and invitations) and one user's page (fields, settings and their changes).
//!
//! The table reads [`Store::user_table_page`](crate::store::Store::user_table_page), which
//! pages by email key as ListUsers does, with the filters ListUsers lacks; every change is
//! the API's own operation (BatchSuspendUser, BatchUnsuspendUser, BatchUpdateUser,
//! InviteUsers, UpdateUser, ResetPersonalPIN, LogoutUser, UpdateUserSettings,
//! Associate/DisassociatePhoneNumber...), called through [`Ctx::api`].

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::accounts::text;
use super::layout::{csrf, done_notice, page, select};
use super::{Ctx, html, label, redirect};
use crate::error::ApiError;
use crate::model::{License, RegistrationStatus, UserType};
use crate::store::{TablePosition, UserTableFilter};

/// Rows per page of the users table.
pub const PAGE_SIZE: usize = 50;
/// The API's batch sizes: BatchSuspendUser/BatchUnsuspendUser take 50 ids, BatchUpdateUser
/// 20 items, InviteUsers 50 emails; the console sends larger selections in several calls.
const SUSPEND_BATCH: usize = 50;
const UPDATE_BATCH: usize = 20;
const INVITE_BATCH: usize = 50;

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

/// The table's filters from the query string; an unknown value is a bad request.
fn filter_of(ctx: &Ctx<'_>) -> Result<UserTableFilter, ApiError> {
    fn parsed<T>(
        ctx: &Ctx<'_>,
        name: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        ctx.query
            .get(name)
            .map(|v| parse(v).ok_or_else(|| ApiError::bad_request(format!("Unknown {name} {v:?}"))))
            .transpose()
    }
    Ok(UserTableFilter {
        email_prefix: ctx.query.get("email").map(str::to_string),
        user_type: parsed(ctx, "type", UserType::parse)?,
        registration_status: parsed(ctx, "status", RegistrationStatus::parse)?,
        license: parsed(ctx, "license", License::parse)?,
    })
}

/// The query string of the table with `filter`, and a position when one is given.
fn table_query(filter: &UserTableFilter, position: Option<(&str, &str)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(email) = &filter.email_prefix {
        query.append_pair("email", email);
    }
    if let Some(kind) = filter.user_type {
        query.append_pair("type", kind.as_str());
    }
    if let Some(status) = filter.registration_status {
        query.append_pair("status", status.as_str());
    }
    if let Some(license) = filter.license {
        query.append_pair("license", license.as_str());
    }
    if let Some((name, key)) = position {
        query.append_pair(name, key);
    }
    query.finish()
}

/// `GET /console/accounts/{id}/users?email=&type=&status=&license=&after=|before=`.
pub async fn table(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let filter = filter_of(ctx)?;
    let position = match (ctx.query.get("after"), ctx.query.get("before")) {
        (Some(after), _) => TablePosition::After(after.to_string()),
        (None, Some(before)) => TablePosition::Before(before.to_string()),
        (None, None) => TablePosition::First,
    };
    let store = ctx.store();
    let mut page_of_users = store
        .user_table_page(ctx.owner(), account_id, &filter, &position, PAGE_SIZE)
        .await
        .map_err(ApiError::from)?;
    if page_of_users.rows.is_empty() && !matches!(position, TablePosition::First) {
        // Nothing is left before (or after) that page (users went meanwhile, or the link was
        // made up): the first page instead.
        page_of_users = store
            .user_table_page(
                ctx.owner(),
                account_id,
                &filter,
                &TablePosition::First,
                PAGE_SIZE,
            )
            .await
            .map_err(ApiError::from)?;
    }
    // Counting reads the account's whole status index (~120 ms at a million users on SQLite,
    // against a few ms for a page: see bench/console_users.py), so it is asked for by a link.
    let counts = match ctx.query.get("counts") {
        Some(_) => Some(
            store
                .user_counts(ctx.owner(), account_id)
                .await
                .map_err(ApiError::from)?,
        ),
        None => None,
    };
    let account = store
        .get_account(ctx.owner(), account_id)
        .await
        .map_err(ApiError::from)?;
    let base = format!("/console/accounts/{}/users", label(account_id));
    let here = format!("{base}?{}", ctx.query_string());
    let writable = !ctx.principal.read_only;
    let rows = html! {
        div.scroll {
            table id="users" {
                caption.sr-only { "Users" }
                thead { tr {
                    @if writable { th scope="col" { span.sr-only { "Select" } } }
                    th scope="col" { "Email" }
                    th.wide scope="col" { "Name" }
                    th scope="col" { "Type" }
                    th scope="col" { "License" }
                    th scope="col" { "Status" }
                    th.wide scope="col" { "Phone number" }
                } }
                tbody {
                    @for user in page_of_users.rows.iter().map(|row| &row.user) {
                        tr {
                            @if writable {
                                td { input type="checkbox" name="user" value=(user.user_id) aria-label={ "Select " (user.primary_email) }; }
                            }
                            td { a href={ (base) "/" (label(&user.user_id)) } { (user.primary_email) } }
                            td.wide { (user.display_name.as_deref().unwrap_or("")) }
                            td { (user.user_type.as_str()) }
                            td { (user.license_type.as_str()) }
                            td { (user.registration_status.as_str())
                                @if let Some(invite) = user.invitation_status { " (invite " (invite.as_str()) ")" } }
                            td.wide { (user.primary_provisioned_number.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if page_of_users.rows.is_empty() { p { "No user matches." } }
        nav.pager aria-label="Pages" {
            @if let Some(previous) = &page_of_users.previous {
                a href={ (base) "?" (table_query(&filter, Some(("before", previous)))) } rel="prev" { "← Previous page" }
            }
            @if let Some(next) = &page_of_users.next {
                a href={ (base) "?" (table_query(&filter, Some(("after", next)))) } rel="next" { "Next page →" }
            }
        }
    };
    let body = html! {
        p { a href={ "/console/accounts/" (label(account_id)) } { "Account " (account.name) } }
        @if let Some(counts) = &counts {
            p.counts {
                (counts.iter().map(|(_, n)| n).sum::<u64>()) " users"
                @for (status, n) in counts { " · " (status.as_str()) ": " (n) }
            }
        } @else {
            p { a href={ (here) "&counts=1" } { "Count the users by status" } }
        }
        form.row method="get" action=(base) role="search" aria-label="Filter users" {
            label { "Email starts with"
                input type="search" name="email" value=(filter.email_prefix.as_deref().unwrap_or("")) spellcheck="false" autocapitalize="off";
            }
            div.field { (select("type", "User type", &names(UserType::ALL, UserType::as_str), Some("Any"), filter.user_type.map(UserType::as_str))) }
            div.field { (select("status", "Registration status", &names(RegistrationStatus::ALL, RegistrationStatus::as_str), Some("Any"), filter.registration_status.map(RegistrationStatus::as_str))) }
            div.field { (select("license", "License", &names(License::ALL, License::as_str), Some("Any"), filter.license.map(License::as_str))) }
            button type="submit" { "Filter" }
            a href=(base) { "Clear" }
        }
        @if writable {
            form method="post" action={ (base) "/bulk" } {
                (csrf(ctx))
                input type="hidden" name="back" value=(here);
                (rows)
                @if !page_of_users.rows.is_empty() {
                    fieldset.row {
                        legend { "With the selected users" }
                        button type="submit" name="action" value="suspend" { "Suspend" }
                        button type="submit" name="action" value="unsuspend" class="secondary" { "Unsuspend" }
                        div.field { (select("new_license", "New license", &names(License::ALL, License::as_str), None, None)) }
                        button type="submit" name="action" value="license" class="secondary" { "Change license" }
                    }
                }
            }
        } @else {
            (rows)
        }
        @if writable {
            h2 { "Invite users" }
            form.stack method="post" action={ (base) "/invite" } {
                (csrf(ctx))
                label for="emails" { "Emails (one per line, or separated by commas or spaces)" }
                textarea id="emails" name="emails" rows="4" required spellcheck="false" {}
                (select("invite_type", "User type", &names(UserType::ALL, UserType::as_str), None, Some(UserType::PrivateUser.as_str())))
                button type="submit" { "Invite" }
            }
        }
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Users", body)))
}

/// The errors of batch replies, as the API reported them (`UserErrors`).
fn user_errors(errors: &[Value]) -> Markup {
    html! {
        @if !errors.is_empty() {
            h2 { "Errors" }
            table id="user-errors" {
                thead { tr { th scope="col" { "User id" } th scope="col" { "Error code" } th scope="col" { "Message" } } }
                tbody {
                    @for error in errors {
                        tr {
                            td { code { (text(error, "UserId")) } }
                            td { (text(error, "ErrorCode")) }
                            td { (text(error, "ErrorMessage")) }
                        }
                    }
                }
            }
        }
    }
}

/// The `UserErrors` of one batch call's reply; when the whole call failed (a throttle, a
/// fault, a store error), that error once for each user of the batch, so that the page tells
/// which users the batches before and after it did change.
fn user_errors_of(reply: Result<Value, ApiError>, users: &[&str]) -> Vec<Value> {
    match reply {
        Ok(reply) => reply["UserErrors"].as_array().cloned().unwrap_or_default(),
        Err(e) => users
            .iter()
            .map(
                |id| json!({ "UserId": id, "ErrorCode": e.kind.code(), "ErrorMessage": e.message }),
            )
            .collect(),
    }
}

/// Where to go back to after a bulk action: the table the form was on (a console path only).
fn back(ctx: &Ctx<'_>, account_id: &str) -> String {
    let table = format!("/console/accounts/{}/users", label(account_id));
    match ctx.form.get("back") {
        Some(back) if back.starts_with(&table) => back.to_string(),
        _ => table,
    }
}

/// `POST /console/accounts/{id}/users/bulk`: suspend, unsuspend or change the license of the
/// selected users, through the batch operations; the page shows each reply's `UserErrors`.
pub async fn bulk(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let users: Vec<&str> = ctx.form.all("user").collect();
    if users.is_empty() {
        return Err(ApiError::bad_request("Select at least one user."));
    }
    // Another AWS account's account is not found as a whole (not user by user, below).
    ctx.store()
        .get_account(ctx.owner(), account_id)
        .await
        .map_err(ApiError::from)?;
    let path = format!("/accounts/{}/users", label(account_id));
    let mut errors: Vec<Value> = Vec::new();
    let done = match ctx.form.get("action") {
        Some(action @ ("suspend" | "unsuspend")) => {
            for chunk in users.chunks(SUSPEND_BATCH) {
                let query = format!("operation={action}");
                let reply = ctx
                    .api("POST", &path, Some(&query), json!({ "UserIdList": chunk }))
                    .await;
                errors.extend(user_errors_of(reply, chunk));
            }
            if action == "suspend" {
                "Suspended"
            } else {
                "Unsuspended"
            }
        }
        Some("license") => {
            let license = ctx.form.get("new_license").unwrap_or("");
            for chunk in users.chunks(UPDATE_BATCH) {
                let items: Vec<Value> = chunk
                    .iter()
                    .map(|id| json!({ "UserId": id, "LicenseType": license }))
                    .collect();
                let reply = ctx
                    .api(
                        "POST",
                        &path,
                        None,
                        json!({ "UpdateUserRequestItems": items }),
                    )
                    .await;
                errors.extend(user_errors_of(reply, chunk));
            }
            "Changed the license of"
        }
        _ => return Err(ApiError::bad_request("Choose an action.")),
    };
    let changed = users.len() - errors.len();
    let body = html! {
        p.notice role="status" { (done) " " (changed) " of " (users.len()) " selected users." }
        (user_errors(&errors))
        p { a href=(back(ctx, account_id)) { "Back to the users" } }
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Bulk action", body)))
}

/// `POST /console/accounts/{id}/users/invite`: InviteUsers for the pasted emails (50 per call).
pub async fn invite(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let pasted = ctx.form.get("emails").unwrap_or("");
    let emails: Vec<&str> = pasted
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|e| !e.is_empty())
        .collect();
    if emails.is_empty() {
        return Err(ApiError::bad_request("Paste at least one email."));
    }
    ctx.store()
        .get_account(ctx.owner(), account_id)
        .await
        .map_err(ApiError::from)?;
    let user_type = ctx.form.get("invite_type").unwrap_or("PrivateUser");
    let path = format!("/accounts/{}/users", label(account_id));
    let mut invites: Vec<Value> = Vec::new();
    // The emails of a call that failed as a whole, with its error; the other calls go on.
    let mut failed: Vec<(&str, ApiError)> = Vec::new();
    for chunk in emails.chunks(INVITE_BATCH) {
        let reply = ctx
            .api(
                "POST",
                &path,
                Some("operation=add"),
                json!({ "UserEmailList": chunk, "UserType": user_type }),
            )
            .await;
        match reply {
            Ok(reply) => {
                invites.extend(reply["Invites"].as_array().cloned().unwrap_or_default());
            }
            Err(e) => failed.extend(chunk.iter().map(|email| (*email, e.clone()))),
        }
    }
    let body = html! {
        p.notice role="status" { "Invited " (invites.len()) " emails." }
        @if !failed.is_empty() {
            h2 { "Not invited" }
            table id="invite-errors" {
                thead { tr { th scope="col" { "Email" } th scope="col" { "Error code" } th scope="col" { "Message" } } }
                tbody {
                    @for (email, e) in &failed {
                        tr { td { (email) } td { (e.kind.code()) } td { (e.message) } }
                    }
                }
            }
        }
        table id="invites" {
            thead { tr { th scope="col" { "Email" } th scope="col" { "Invite status" } th scope="col" { "Email status" } } }
            tbody {
                @for invite in &invites {
                    tr {
                        td { (text(invite, "EmailAddress")) }
                        td { (text(invite, "Status")) }
                        td { (text(invite, "EmailStatus")) }
                    }
                }
            }
        }
        p { a href={ "/console/accounts/" (label(account_id)) "/users" } { "Back to the users" } }
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Invitations", body)))
}

/// What the user page says after a change (`?done=CODE`).
const DONE: &[(&str, &str)] = &[
    ("updated", "User updated."),
    ("pin", "Personal PIN reset."),
    ("logout", "User logged out."),
    ("settings", "Settings saved."),
    ("associated", "Phone number associated."),
    ("disassociated", "Phone number disassociated."),
];

/// `GET /console/accounts/{id}/users/{userId}`: GetUser and GetUserSettings.
pub async fn show(ctx: &Ctx<'_>, account_id: &str, user_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/users/{}", label(account_id), label(user_id));
    let user = ctx.api("GET", &path, None, Value::Null).await?["User"].take();
    let settings = ctx
        .api("GET", &format!("{path}/settings"), None, Value::Null)
        .await?;
    let telephony = &settings["UserSettings"]["Telephony"];
    let on = |member: &str| telephony[member].as_bool().unwrap_or(false);
    let here = format!("/console{path}");
    let action =
        |name: &'static str| html! { (csrf(ctx)) input type="hidden" name="action" value=(name); };
    let field = |member: &str| text(&user, member).to_string();
    let body = html! {
        (done_notice(ctx, DONE))
        p { a href={ "/console/accounts/" (label(account_id)) "/users" } { "All users of the account" } }
        dl {
            dt { "User id" } dd { code { (field("UserId")) } }
            dt { "Email" } dd { (field("PrimaryEmail")) }
            dt { "Name" } dd { (field("DisplayName")) }
            dt { "Type" } dd { (field("UserType")) }
            dt { "License" } dd { (field("LicenseType")) }
            dt { "Registration status" } dd { (field("UserRegistrationStatus")) }
            dt { "Invitation status" } dd { (field("UserInvitationStatus")) }
            dt { "Registered" } dd { (field("RegisteredOn")) }
            dt { "Invited" } dd { (field("InvitedOn")) }
            dt { "Phone number" } dd { (field("PrimaryProvisionedNumber")) }
            dt { "Personal PIN" } dd {
                // Not in plain view: someone may be looking over the shoulder.
                details { summary { "Show PIN" } code { (field("PersonalPIN")) } }
            }
            dt { "Inbound calling" } dd { (if on("InboundCalling") { "on" } else { "off" }) }
            dt { "Outbound calling" } dd { (if on("OutboundCalling") { "on" } else { "off" }) }
            dt { "SMS" } dd { (if on("SMS") { "on" } else { "off" }) }
        }
        @if !ctx.principal.read_only {
            h2 { "Change" }
            form.row method="post" action=(here) {
                (action("update"))
                div.field { (select("license", "License", &names(License::ALL, License::as_str), None, Some(text(&user, "LicenseType")))) }
                div.field { (select("user_type", "User type", &names(UserType::ALL, UserType::as_str), None, Some(text(&user, "UserType")))) }
                button type="submit" { "Save" }
            }
            h2 { "Settings" }
            form.row method="post" action=(here) {
                (action("settings"))
                label { input type="checkbox" name="inbound" checked[on("InboundCalling")]; "Inbound calling" }
                label { input type="checkbox" name="outbound" checked[on("OutboundCalling")]; "Outbound calling" }
                label { input type="checkbox" name="sms" checked[on("SMS")]; "SMS" }
                button type="submit" { "Save settings" }
            }
            h2 { "Phone number" }
            @if user["PrimaryProvisionedNumber"].is_string() {
                form.row method="post" action=(here) {
                    (action("disassociate"))
                    button type="submit" class="secondary" { "Disassociate " (field("PrimaryProvisionedNumber")) }
                }
            } @else {
                form.row method="post" action=(here) {
                    (action("associate"))
                    label { "E.164 number from the inventory" input type="text" name="e164" required placeholder="+12065550100"; }
                    button type="submit" { "Associate" }
                }
            }
            h2 { "Actions" }
            div.row {
                form method="post" action=(here) {
                    (action("reset-pin"))
                    button type="submit" class="secondary" { "Reset personal PIN" }
                }
                form method="post" action=(here) {
                    (action("logout"))
                    button type="submit" class="secondary" { "Log out everywhere" }
                }
            }
        }
    };
    let title = field("PrimaryEmail");
    Ok(html(StatusCode::OK, page(Some(ctx), &title, body)))
}

/// `POST /console/accounts/{id}/users/{userId}` with an `action`: one operation each.
pub async fn change(ctx: &Ctx<'_>, account_id: &str, user_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/users/{}", label(account_id), label(user_id));
    let form = &ctx.form;
    let done = match form.get("action") {
        Some("update") => {
            let body = json!({
                "LicenseType": form.get("license"),
                "UserType": form.get("user_type"),
            });
            ctx.api("POST", &path, None, body).await?;
            "updated"
        }
        Some("settings") => {
            let body = json!({ "UserSettings": { "Telephony": {
                "InboundCalling": form.checked("inbound"),
                "OutboundCalling": form.checked("outbound"),
                "SMS": form.checked("sms"),
            } } });
            ctx.api("PUT", &format!("{path}/settings"), None, body)
                .await?;
            "settings"
        }
        Some("reset-pin") => {
            ctx.api(
                "POST",
                &path,
                Some("operation=reset-personal-pin"),
                Value::Null,
            )
            .await?;
            "pin"
        }
        Some("logout") => {
            ctx.api("POST", &path, Some("operation=logout"), Value::Null)
                .await?;
            "logout"
        }
        Some("associate") => {
            let body = json!({ "E164PhoneNumber": form.get("e164").unwrap_or("") });
            ctx.api(
                "POST",
                &path,
                Some("operation=associate-phone-number"),
                body,
            )
            .await?;
            "associated"
        }
        Some("disassociate") => {
            ctx.api(
                "POST",
                &path,
                Some("operation=disassociate-phone-number"),
                Value::Null,
            )
            .await?;
            "disassociated"
        }
        _ => return Err(ApiError::bad_request("Unknown action")),
    };
    Ok(redirect(&format!("/console{path}?done={done}")))
}
