//! `belfry export --resource rooms|bots` and `belfry import --resource rooms|bots`: an
//! account's rooms (with their memberships) and bots (with their events configurations), as
//! JSON Lines, one resource per line, ids and timestamps kept, so that an import into another
//! store restores them as they were:
//!
//! ```json
//! {"Room":{"RoomId":"...","Name":"General","CreatedBy":"...","CreatedTimestamp":"...","UpdatedTimestamp":"..."},
//!  "Memberships":[{"MemberId":"...","Role":"Administrator","InvitedBy":"...","UpdatedTimestamp":"..."}]}
//! {"Bot":{"BotId":"...","DisplayName":"Helper (Bot)","BotEmail":"...","SecurityToken":"...","Disabled":false,
//!  "CreatedTimestamp":"...","UpdatedTimestamp":"..."},"EventsConfiguration":{"LambdaFunctionArn":"..."}}
//! ```
//!
//! An import writes each line in a transaction of its own and reports bad lines with their
//! number and reason; a room's members must already be users or bots of the account, so bots
//! are imported before rooms, and users (`belfry import`) before both. Messages are not
//! exported: they exist for test suites (the admin API), not as directory data.

use std::io::{BufRead, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{ExportError, ImportSummary};
use crate::model::RoomMembershipRole;
use crate::store::{Bot, EventsConfiguration, RestoredMembership, Room, Store, StoreError};
use crate::time::{iso8601_millis, parse_iso8601_millis};

/// What an import or export of this module moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Rooms,
    Bots,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RoomLine {
    room: RoomRecord,
    #[serde(default)]
    memberships: Vec<MembershipRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RoomRecord {
    room_id: String,
    name: String,
    /// Written for the reader; an import puts the room in the account it is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    created_by: String,
    created_timestamp: String,
    updated_timestamp: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct MembershipRecord {
    member_id: String,
    role: String,
    invited_by: String,
    updated_timestamp: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct BotLine {
    bot: BotRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events_configuration: Option<EventsRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct BotRecord {
    bot_id: String,
    display_name: String,
    bot_email: String,
    security_token: String,
    disabled: bool,
    created_timestamp: String,
    updated_timestamp: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsRecord {
    #[serde(
        rename = "OutboundEventsHTTPSEndpoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    https_endpoint: Option<String>,
    #[serde(
        rename = "LambdaFunctionArn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    lambda_arn: Option<String>,
}

/// Writes every room or bot of `account_id` to `out`, one JSON line each, in creation order.
/// Returns how many were written.
pub async fn export(
    store: &Store,
    account_id: &str,
    resource: Resource,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    const PAGE: usize = 500;
    let owner = store.account_owner(account_id).await?;
    let mut written = 0;
    match resource {
        Resource::Rooms => {
            let mut after = None;
            loop {
                let page = store
                    .list_rooms(&owner, account_id, None, after, PAGE)
                    .await?;
                for room in &page.rooms {
                    let line = room_line(store, &owner, room).await?;
                    serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                    written += 1;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Resource::Bots => {
            let mut after = None;
            loop {
                let page = store.list_bots(&owner, account_id, after, PAGE).await?;
                for bot in &page.bots {
                    let events = match store
                        .events_configuration(&owner, account_id, &bot.bot_id)
                        .await
                    {
                        Ok(config) => Some(EventsRecord {
                            https_endpoint: config.https_endpoint,
                            lambda_arn: config.lambda_arn,
                        }),
                        Err(StoreError::NotFound(_)) => None,
                        Err(e) => return Err(e.into()),
                    };
                    let line = BotLine {
                        bot: BotRecord {
                            bot_id: bot.bot_id.clone(),
                            display_name: bot.display_name.clone(),
                            bot_email: bot.bot_email.clone(),
                            security_token: bot.security_token.clone(),
                            disabled: bot.disabled,
                            created_timestamp: iso8601_millis(bot.created_ms),
                            updated_timestamp: iso8601_millis(bot.updated_ms),
                        },
                        events_configuration: events,
                    };
                    serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                    written += 1;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
    }
    out.flush()?;
    Ok(written)
}

/// A room with every one of its memberships.
async fn room_line(store: &Store, owner: &str, room: &Room) -> Result<RoomLine, StoreError> {
    let mut memberships = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_memberships(
                owner,
                &room.account_id,
                &room.room_id,
                after.as_deref(),
                500,
            )
            .await?;
        memberships.extend(page.memberships.iter().map(|m| MembershipRecord {
            member_id: m.member.member_id.clone(),
            role: m.role.as_str().to_string(),
            invited_by: m.invited_by.clone(),
            updated_timestamp: iso8601_millis(m.updated_ms),
        }));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(RoomLine {
        room: RoomRecord {
            room_id: room.room_id.clone(),
            name: room.name.clone(),
            account_id: Some(room.account_id.clone()),
            created_by: room.created_by.clone(),
            created_timestamp: iso8601_millis(room.created_ms),
            updated_timestamp: iso8601_millis(room.updated_ms),
        },
        memberships,
    })
}

/// The time `text` names, in milliseconds; `what` names the member in the reason it is not one.
pub(super) fn timestamp(what: &str, text: &str) -> Result<i64, String> {
    parse_iso8601_millis(text).ok_or_else(|| format!("{what} {text:?} is not an ISO 8601 time"))
}

/// Reads JSON Lines of rooms or bots and writes each into `account_id`; every line is its own
/// transaction, and a bad line is reported, not fatal.
pub async fn import(
    store: &Store,
    account_id: &str,
    resource: Resource,
    input: impl BufRead,
) -> Result<ImportSummary, StoreError> {
    let owner = store.account_owner(account_id).await?;
    let owner = owner.as_str();
    import_lines(input, move |line| async move {
        import_line(store, owner, account_id, resource, &line).await
    })
    .await
}

/// Hands each non-blank line of `input` to `write`, in order, and counts what it wrote; a line
/// it refuses is reported with its number and reason, and only a store that fails (or input
/// that cannot be read) ends the import. `belfry import --resource rooms|bots|phone-numbers`
/// all read their JSON Lines this way.
pub(super) async fn import_lines<F, Fut>(
    input: impl BufRead,
    mut write: F,
) -> Result<ImportSummary, StoreError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Refusal>>,
{
    let mut summary = ImportSummary::default();
    for (i, line) in input.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.map_err(|e| StoreError::Internal(format!("reading line {number}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        match write(line).await {
            Ok(()) => summary.created += 1,
            Err(Refusal::Line(reason)) => summary.bad_line(number, reason),
            Err(Refusal::Store(e @ (StoreError::Unavailable(_) | StoreError::Internal(_)))) => {
                return Err(e);
            }
            Err(Refusal::Store(e)) => {
                summary.bad_line(number, crate::error::ApiError::from(e).message)
            }
        }
    }
    Ok(summary)
}

/// Why a line was not imported.
pub(super) enum Refusal {
    Line(String),
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            // The store refused the record itself, with its reason.
            StoreError::Refused(_, reason) => Refusal::Line(reason),
            e => Refusal::Store(e),
        }
    }
}

/// Restores the room or bot of the line `text` into the account: the line is read into the
/// store's types first (a line that does not read is refused with the reason), then written.
async fn import_line(
    store: &Store,
    owner: &str,
    account_id: &str,
    resource: Resource,
    text: &str,
) -> Result<(), Refusal> {
    match resource {
        Resource::Rooms => {
            let (room, memberships) = parse_line(text)
                .and_then(|line| room_of_line(line, account_id))
                .map_err(Refusal::Line)?;
            store
                .restore_room(owner, account_id, &room, &memberships)
                .await?;
        }
        Resource::Bots => {
            let (bot, events) = parse_line(text)
                .and_then(|line| bot_of_line(line, account_id))
                .map_err(Refusal::Line)?;
            store
                .restore_bot(owner, account_id, &bot, events.as_ref())
                .await?;
        }
    }
    Ok(())
}

/// The line `text` as a `T`, or why it is not one.
pub(super) fn parse_line<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
}

/// A record's `CreatedTimestamp` and `UpdatedTimestamp`, in milliseconds.
pub(super) fn created_and_updated(created: &str, updated: &str) -> Result<(i64, i64), String> {
    Ok((
        timestamp("CreatedTimestamp", created)?,
        timestamp("UpdatedTimestamp", updated)?,
    ))
}

/// The room of a line, in the account `account_id`, with its memberships.
fn room_of_line(
    line: RoomLine,
    account_id: &str,
) -> Result<(Room, Vec<RestoredMembership>), String> {
    let r = &line.room;
    let (created_ms, updated_ms) = created_and_updated(&r.created_timestamp, &r.updated_timestamp)?;
    let room = Room {
        room_id: r.room_id.clone(),
        account_id: account_id.to_string(),
        name: r.name.clone(),
        created_by: r.created_by.clone(),
        created_ms,
        updated_ms,
    };
    let memberships = line
        .memberships
        .iter()
        .map(|m| {
            Ok(RestoredMembership {
                member_id: m.member_id.clone(),
                role: RoomMembershipRole::parse(&m.role).ok_or_else(|| {
                    format!(
                        "Role {:?} is not one of {}",
                        m.role,
                        RoomMembershipRole::choices()
                    )
                })?,
                invited_by: m.invited_by.clone(),
                updated_ms: timestamp("UpdatedTimestamp", &m.updated_timestamp)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((room, memberships))
}

/// The bot of a line, in the account `account_id`, with its events configuration (which
/// holds exactly one of its two destinations).
fn bot_of_line(
    line: BotLine,
    account_id: &str,
) -> Result<(Bot, Option<EventsConfiguration>), String> {
    let b = &line.bot;
    let (created_ms, updated_ms) = created_and_updated(&b.created_timestamp, &b.updated_timestamp)?;
    let bot = Bot {
        bot_id: b.bot_id.clone(),
        account_id: account_id.to_string(),
        display_name: b.display_name.clone(),
        bot_email: b.bot_email.clone(),
        security_token: b.security_token.clone(),
        disabled: b.disabled,
        created_ms,
        updated_ms,
    };
    let events = line.events_configuration.map(|e| EventsConfiguration {
        bot_id: bot.bot_id.clone(),
        https_endpoint: e.https_endpoint,
        lambda_arn: e.lambda_arn,
    });
    if let Some(e) = &events
        && e.https_endpoint.is_some() == e.lambda_arn.is_some()
    {
        return Err(
            "EventsConfiguration holds one of OutboundEventsHTTPSEndpoint and LambdaFunctionArn"
                .into(),
        );
    }
    Ok((bot, events))
}
