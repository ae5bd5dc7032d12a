//! The read pages of the AWS account's phone numbers: ListPhoneNumbers (all, or one account's)
//! and GetPhoneNumber. They change nothing.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::accounts::text;
use super::layout::{cell, fields, item_table, items, link, list_query, page};
use super::{Ctx, html, label};
use crate::error::ApiError;

/// The associations of a phone number, as `Name Value` pairs.
fn associations(number: &Value) -> String {
    number["Associations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{} {}", text(a, "Name"), text(a, "Value")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /console/phone-numbers[?account=ID]`: the AWS account's inventory, or one account's.
pub async fn numbers(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let account = ctx.query.get("account");
    let extra = account
        .map(|id| format!("&filter-name=AccountId&filter-value={}", label(id)))
        .unwrap_or_default();
    let reply = ctx
        .api(
            "GET",
            "/phone-numbers",
            Some(&list_query(ctx, &extra)),
            Value::Null,
        )
        .await?;
    let rows: Vec<Vec<Markup>> = items(&reply, "PhoneNumbers")
        .iter()
        .map(|n| {
            vec![
                link(
                    format!("/console/phone-numbers/{}", label(text(n, "PhoneNumberId"))),
                    text(n, "E164PhoneNumber"),
                ),
                cell(n, "Type"),
                cell(n, "ProductType"),
                cell(n, "Status"),
                html! { (associations(n)) },
            ]
        })
        .collect();
    let base = match account {
        Some(id) => format!("/console/phone-numbers?account={}&", label(id)),
        None => "/console/phone-numbers?".to_string(),
    };
    let body = html! {
        (item_table("phone-numbers", &["Number", "Type", "Product", "Status", "Associated with"], &rows))
        @if let Some(next) = reply["NextToken"].as_str() {
            nav.pager aria-label="Pages" {
                a href=(base.trim_end_matches(['?', '&'])) { "First page" }
                a href={ (base) "next=" (label(next)) } rel="next" { "Next page" }
            }
        }
    };
    Ok(html(StatusCode::OK, page(Some(ctx), "Phone numbers", body)))
}

/// `GET /console/phone-numbers/{id}`.
pub async fn number(ctx: &Ctx<'_>, number_id: &str) -> Result<Response, ApiError> {
    let path = format!("/phone-numbers/{}", label(number_id));
    let n = ctx.api("GET", &path, None, Value::Null).await?["PhoneNumber"].take();
    let body = html! {
        p { a href="/console/phone-numbers" { "All phone numbers" } }
        (fields(&[
            ("Number", text(&n, "E164PhoneNumber").to_string()),
            ("Country", text(&n, "Country").to_string()),
            ("Type", text(&n, "Type").to_string()),
            ("Product", text(&n, "ProductType").to_string()),
            ("Status", text(&n, "Status").to_string()),
            ("Associated with", associations(&n)),
            ("Calling name", text(&n, "CallingName").to_string()),
            ("Calling name status", text(&n, "CallingNameStatus").to_string()),
            ("Created", text(&n, "CreatedTimestamp").to_string()),
            ("Updated", text(&n, "UpdatedTimestamp").to_string()),
        ]))
    };
    Ok(html(
        StatusCode::OK,
        page(Some(ctx), text(&n, "E164PhoneNumber"), body),
    ))
}
