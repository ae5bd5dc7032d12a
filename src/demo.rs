//! Demo data: one Chime account of 250 varied users, three rooms with members, one bot, and a
//! key to read it with.
//!
//! `belfry serve --demo` seeds it into an empty store once; later starts find it again through
//! entries of the store's meta table and print the same account and credentials. A demo seeded
//! by a release before rooms existed gains its rooms and bot at the next start.

use crate::model::{InviteStatus, License, RegistrationStatus, RoomMembershipRole, UserType};
use crate::store::{
    AccessKey, Discussion, NewMembership, Result, Store, StoreError, User, generate_pin,
};
use crate::time::now_millis;

/// The AWS account the demo key acts as (the root key's default, so both see the demo).
pub const DEMO_AWS_ACCOUNT_ID: &str = "111111111111";
/// How many users the demo account holds.
pub const DEMO_USERS: usize = 250;
/// The demo's rooms, and how many users each has as members.
pub const DEMO_ROOMS: &[(&str, usize)] = &[("General", 40), ("Engineering", 12), ("Support", 6)];
/// Who the demo's rooms and memberships say created them.
const DEMO_CREATOR: &str = "belfry-demo";

const FIRST: &[&str] = &[
    "Ada", "Björn", "Chiara", "Dmitri", "Élodie", "Farah", "Grace", "Hiroshi", "Ines", "Jamal",
    "Kavya", "Lars", "Maya", "Nikolai", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma",
    "Viktor", "Wen", "Ximena", "Yusuf",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Okafor", "Nakamura", "Schmidt", "Dubois", "García", "Rossi",
    "Kowalski",
];

/// What `--demo` prints.
#[derive(Debug, Clone)]
pub struct Demo {
    pub account_id: String,
    pub key: AccessKey,
    /// False when an earlier start had seeded it.
    pub seeded_now: bool,
}

/// The demo users of `account_id`, deterministic but for ids and PINs.
pub fn demo_users(account_id: &str, now: i64) -> Vec<User> {
    const DAY: i64 = 86_400_000;
    (0..DEMO_USERS)
        .map(|i| {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len()) % LAST.len()];
            let invited = now - (400 - i as i64) * DAY;
            // 60 % registered, 10 % suspended, 20 % pending invitations, 10 % failed ones.
            let (registration, invitation, registered_on) = match i % 10 {
                0..=5 => (
                    RegistrationStatus::Registered,
                    InviteStatus::Accepted,
                    Some(invited + DAY),
                ),
                6 => (
                    RegistrationStatus::Suspended,
                    InviteStatus::Accepted,
                    Some(invited + DAY),
                ),
                7 | 8 => (
                    RegistrationStatus::Unregistered,
                    InviteStatus::Pending,
                    None,
                ),
                _ => (RegistrationStatus::Unregistered, InviteStatus::Failed, None),
            };
            let license = match i % 7 {
                0 | 1 => License::Basic,
                2 => License::Plus,
                3 => License::ProTrial,
                _ => License::Pro,
            };
            let user_type = if i % 8 == 3 {
                UserType::SharedDevice
            } else {
                UserType::PrivateUser
            };
            let local = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            User {
                user_id: uuid::Uuid::new_v4().to_string(),
                account_id: account_id.to_string(),
                primary_email: format!("{local}.{i:03}@example.com"),
                // 555-0100 to 555-0149: NANPA's fictional-use lines (see `crate::carrier`).
                primary_provisioned_number: (i % 5 == 0)
                    .then(|| format!("+1206555{:04}", 100 + i / 5)),
                display_name: Some(format!("{first} {last}")),
                license_type: license,
                user_type,
                registration_status: registration,
                invitation_status: Some(invitation),
                registered_on_ms: registered_on,
                invited_on_ms: Some(invited),
                alexa: None,
                personal_pin: generate_pin(),
            }
        })
        .collect()
}

/// Finds the demo in the store, or seeds it.
pub async fn ensure_demo(store: &Store) -> Result<Demo> {
    let account = store.meta("demo_account_id").await?;
    let key_id = store.meta("demo_access_key_id").await?;
    if let (Some(account_id), Some(key_id)) = (account, key_id) {
        let key = store
            .find_key(&key_id)
            .await?
            .ok_or_else(|| StoreError::Internal("the demo access key is missing".into()))?;
        if store.meta("demo_rooms_seeded").await?.is_none() {
            seed_rooms(store, &account_id).await?;
        }
        return Ok(Demo {
            account_id,
            key,
            seeded_now: false,
        });
    }
    let key = AccessKey::generate(DEMO_AWS_ACCOUNT_ID, false);
    store.insert_key(&key).await?;
    let account = store
        .create_account(DEMO_AWS_ACCOUNT_ID, "Belfry Demo")
        .await?;
    let users = demo_users(&account.account_id, now_millis());
    store
        .insert_users(DEMO_AWS_ACCOUNT_ID, &account.account_id, &users)
        .await?;
    seed_rooms(store, &account.account_id).await?;
    store
        .set_meta("demo_access_key_id", &key.access_key_id)
        .await?;
    store
        .set_meta("demo_account_id", &account.account_id)
        .await?;
    Ok(Demo {
        account_id: account.account_id,
        key,
        seeded_now: true,
    })
}

/// Adds the demo's rooms, their members (registered users; the first of each room its
/// administrator), the `Helper` bot (in `General`, its events going to a Lambda function, so
/// nothing is sent anywhere) and a first message.
async fn seed_rooms(store: &Store, account_id: &str) -> Result<()> {
    let owner = DEMO_AWS_ACCOUNT_ID;
    let members = store
        .user_ids_registered(account_id, DEMO_ROOMS[0].1 + 2 * 3)
        .await?;
    let bot = store
        .create_bot(owner, account_id, "Helper", Some("example.com"))
        .await?;
    store
        .set_events_configuration(
            owner,
            account_id,
            &bot.bot_id,
            None,
            Some("arn:aws:lambda:us-east-1:111111111111:function:belfry-demo-helper"),
        )
        .await?;
    for (i, &(name, size)) in DEMO_ROOMS.iter().enumerate() {
        let room = store
            .create_room(owner, account_id, name, DEMO_CREATOR, None)
            .await?;
        let mut items: Vec<NewMembership> = members
            .iter()
            .skip(i * 3)
            .take(size)
            .enumerate()
            .map(|(n, id)| NewMembership {
                member_id: id.clone(),
                role: Some(if n == 0 {
                    RoomMembershipRole::Administrator
                } else {
                    RoomMembershipRole::Member
                }),
            })
            .collect();
        if i == 0 {
            items.push(NewMembership {
                member_id: bot.bot_id.clone(),
                role: None,
            });
        }
        for result in store
            .create_memberships(owner, account_id, &room.room_id, &items, DEMO_CREATOR)
            .await?
        {
            result?;
        }
        if i == 0
            && let Some(first) = items.first()
        {
            store
                .post_message(
                    account_id,
                    Discussion::Room(&room.room_id),
                    &first.member_id,
                    "Welcome to the Belfry demo! Ask @Helper anything.",
                )
                .await?;
        }
    }
    store.set_meta("demo_rooms_seeded", "1").await
}
