//! Demo data: one Chime account of 250 varied users and a key to read it with.
//!
//! `belfry serve --demo` seeds it into an empty store once; later starts find it again through
//! two entries of the store's meta table and print the same account and credentials.

use crate::model::{InviteStatus, License, RegistrationStatus, UserType};
use crate::store::{AccessKey, Result, Store, StoreError, User, generate_pin};
use crate::time::now_millis;

/// The AWS account the demo key acts as (the root key's default, so both see the demo).
pub const DEMO_AWS_ACCOUNT_ID: &str = "111111111111";
/// How many users the demo account holds.
pub const DEMO_USERS: usize = 250;

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
                primary_provisioned_number: (i % 5 == 0).then(|| format!("+1206555{:04}", i)),
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
