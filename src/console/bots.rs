//! The read pages of an account's bots: ListBots, GetBot. They change nothing, and a bot's
//! `SecurityToken`, a secret, is never shown.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::accounts::text;
use super::layout::{cell, fields, item_table, items, link, list_query, next_page, page};
use super::{Ctx, html, label};
use crate::error::ApiError;

/// `GET /console/accounts/{id}/bots`.
pub async fn bots(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/bots", label(account_id));
    let reply = ctx
        .api("GET", &path, Some(&list_query(ctx, "")), Value::Null)
        .await?;
    let base = format!("/console{path}");
    let rows: Vec<Vec<Markup>> = items(&reply, "Bots")
        .iter()
        .map(|bot| {
            vec![
                link(
                    format!("{base}/{}", label(text(bot, "BotId"))),
                    text(bot, "DisplayName"),
                ),
                cell(bot, "BotEmail"),
                html! { (if bot["Disabled"].as_bool() == Some(true) { "disabled" } else { "enabled" }) },
            ]
        })
        .collect();
    let body = html! {
        p { a href={ "/console/accounts/" (label(account_id)) } { "Back to the account" } }
        (item_table("bots", &["Name", "Email", "State"], &rows))
        (next_page(&base, reply["NextToken"].as_str()))
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Bots", body)))
}

/// `GET /console/accounts/{id}/bots/{botId}` (without its security token).
pub async fn bot(ctx: &Ctx<'_>, account_id: &str, bot_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/bots/{}", label(account_id), label(bot_id));
    let bot = ctx.api("GET", &path, None, Value::Null).await?["Bot"].take();
    let disabled = bot["Disabled"].as_bool() == Some(true);
    let body = html! {
        p { a href={ "/console/accounts/" (label(account_id)) "/bots" } { "All bots of the account" } }
        (fields(&[
            ("Bot id", text(&bot, "BotId").to_string()),
            ("User id", text(&bot, "UserId").to_string()),
            ("Email", text(&bot, "BotEmail").to_string()),
            ("Type", text(&bot, "BotType").to_string()),
            ("State", (if disabled { "disabled" } else { "enabled" }).to_string()),
            ("Created", text(&bot, "CreatedTimestamp").to_string()),
            ("Updated", text(&bot, "UpdatedTimestamp").to_string()),
        ]))
        p { "The bot's security token is not shown here: read it with GetBot." }
    };
    Ok(html(
        StatusCode::OK,
        page(Some(ctx), text(&bot, "DisplayName"), body),
    ))
}
