//! The frame of every console page, and the bits of HTML the pages share.
//!
//! Pages are [maud](https://maud.lambda.xyz) templates: plain Rust, and every value written
//! into them is HTML-escaped unless it says otherwise (none does).

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::accounts::text;
use super::{Ctx, label};

/// A whole page: header with navigation and sign-out, then `body` under an `h1` of `title`.
pub fn page(ctx: Option<&Ctx<'_>>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Belfry console" }
                link rel="stylesheet" href="/console/console.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a.brand href="/console/accounts" { "Belfry" }
                    @if let Some(ctx) = ctx {
                        nav aria-label="Main" {
                            a href="/console/accounts" { "Accounts" }
                            a href="/console/phone-numbers" { "Phone numbers" }
                        }
                        div.who {
                            span { "Signed in as " code { (ctx.principal.access_key_id) } }
                            @if ctx.principal.read_only {
                                " " span.badge { "read-only" }
                            }
                            form method="post" action="/console/signout" {
                                (csrf(ctx))
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every POST form carries.
pub fn csrf(ctx: &Ctx<'_>) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A line telling what the last action did.
/// The notice of a page reached after a change (`?done=CODE`): the text `messages` give for
/// the code, if any.
pub fn done_notice(ctx: &Ctx<'_>, messages: &[(&str, &str)]) -> Markup {
    let code = ctx.query.get("done");
    notice(
        messages
            .iter()
            .find(|(c, _)| Some(*c) == code)
            .map(|(_, text)| *text),
    )
}

pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.notice role="status" { (text) }
        }
    }
}

/// A `<select>` with a label, its `choices`, an empty "any" choice when `any` names one, and
/// `current` selected.
pub fn select(
    name: &str,
    label: &str,
    choices: &[&str],
    any: Option<&str>,
    current: Option<&str>,
) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) {
            @if let Some(any) = any {
                option value="" selected[current.is_none()] { (any) }
            }
            @for choice in choices {
                option value=(choice) selected[current == Some(*choice)] { (choice) }
            }
        }
    }
}

/// The sign-in form.
pub fn sign_in(form_token: &str, message: Option<&str>) -> Markup {
    page(
        None,
        "Sign in",
        html! {
            p { "Sign in with a Belfry access key: the console acts with exactly its rights." }
            @if let Some(message) = message {
                p.error role="alert" { (message) }
            }
            form.stack method="post" action="/console/signin" {
                input type="hidden" name="form_token" value=(form_token);
                label for="access_key_id" { "Access key id" }
                input id="access_key_id" name="access_key_id" type="text" required
                    autocomplete="username" spellcheck="false" autocapitalize="off";
                label for="secret_access_key" { "Secret access key" }
                input id="secret_access_key" name="secret_access_key" type="password" required
                    autocomplete="current-password";
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// A page for an error.
pub fn error(ctx: Option<&Ctx<'_>>, status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    page(
        ctx,
        title,
        html! {
            p.error role="alert" { (message) }
            p { a href="/console/accounts" { "Back to the accounts" } }
        },
    )
}

/// A table of API items: a header row of `columns`, then one row of cells per item.
pub fn item_table(id: &str, columns: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "None." }
        } @else {
            div.scroll {
                table id=(id) {
                    thead { tr { @for column in columns { th scope="col" { (column) } } } }
                    tbody {
                        @for row in rows {
                            tr { @for cell in row { td { (cell) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The link to the next page of an API listing (its `NextToken`), and back to the first.
pub fn next_page(base: &str, next: Option<&str>) -> Markup {
    html! {
        @if let Some(next) = next {
            nav.pager aria-label="Pages" {
                a href=(base) { "First page" }
                a href={ (base) "?next=" (super::label(next)) } rel="next" { "Next page" }
            }
        }
    }
}

/// A definition list of `(term, value)` pairs.
pub fn fields(pairs: &[(&str, String)]) -> Markup {
    html! {
        dl {
            @for (term, value) in pairs {
                dt { (term) } dd { (value) }
            }
        }
    }
}

/// Items per page of the read pages' API lists (the model's most for rooms and bots: `ResultMax` 99).
pub const LIST_PAGE_SIZE: usize = 99;

/// An API listing's query string: the page size and the `next` token of the console's URL.
pub fn list_query(ctx: &Ctx<'_>, extra: &str) -> String {
    let mut query = format!("max-results={LIST_PAGE_SIZE}{extra}");
    if let Some(next) = ctx.query.get("next") {
        query.push_str(&format!("&next-token={}", label(next)));
    }
    query
}

pub fn link(href: String, text: &str) -> Markup {
    html! { a href=(href) { (text) } }
}

pub fn cell(value: &Value, member: &str) -> Markup {
    html! { (text(value, member)) }
}

/// The items of a listing's reply under `member`.
pub fn items(reply: &Value, member: &str) -> Vec<Value> {
    reply[member].as_array().cloned().unwrap_or_default()
}
