//! The read pages of an account's rooms: ListRooms, then GetRoom with ListRoomMemberships.
//! They change nothing (changes: the API or the CLI).

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::accounts::text;
use super::layout::{cell, fields, item_table, items, link, list_query, next_page, page};
use super::{Ctx, html, label};
use crate::error::ApiError;

/// `GET /console/accounts/{id}/rooms`.
pub async fn rooms(ctx: &Ctx<'_>, account_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/rooms", label(account_id));
    let reply = ctx
        .api("GET", &path, Some(&list_query(ctx, "")), Value::Null)
        .await?;
    let base = format!("/console{path}");
    let rows: Vec<Vec<Markup>> = items(&reply, "Rooms")
        .iter()
        .map(|room| {
            vec![
                link(
                    format!("{base}/{}", label(text(room, "RoomId"))),
                    text(room, "Name"),
                ),
                cell(room, "CreatedBy"),
                cell(room, "CreatedTimestamp"),
            ]
        })
        .collect();
    let body = html! {
        p { a href={ "/console/accounts/" (label(account_id)) } { "Back to the account" } }
        (item_table("rooms", &["Name", "Created by", "Created"], &rows))
        (next_page(&base, reply["NextToken"].as_str()))
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Rooms", body)))
}

/// `GET /console/accounts/{id}/rooms/{roomId}`: the room and its members.
pub async fn room(ctx: &Ctx<'_>, account_id: &str, room_id: &str) -> Result<Response, ApiError> {
    let path = format!("/accounts/{}/rooms/{}", label(account_id), label(room_id));
    let room = ctx.api("GET", &path, None, Value::Null).await?["Room"].take();
    let reply = ctx
        .api(
            "GET",
            &format!("{path}/memberships"),
            Some(&list_query(ctx, "")),
            Value::Null,
        )
        .await?;
    let rows: Vec<Vec<Markup>> = items(&reply, "RoomMemberships")
        .iter()
        .map(|m| {
            let member = &m["Member"];
            vec![
                cell(member, "Email"),
                cell(member, "FullName"),
                cell(member, "MemberType"),
                cell(m, "Role"),
            ]
        })
        .collect();
    let body = html! {
        p { a href={ "/console/accounts/" (label(account_id)) "/rooms" } { "All rooms of the account" } }
        (fields(&[
            ("Room id", text(&room, "RoomId").to_string()),
            ("Created by", text(&room, "CreatedBy").to_string()),
            ("Created", text(&room, "CreatedTimestamp").to_string()),
            ("Updated", text(&room, "UpdatedTimestamp").to_string()),
        ]))
        h2 { "Members" }
        (item_table("memberships", &["Email", "Name", "Type", "Role"], &rows))
        (next_page(&format!("/console{path}"), reply["NextToken"].as_str()))
    };
    Ok(html(
        StatusCode::OK,
        page(Some(ctx), text(&room, "Name"), body),
    ))
}
