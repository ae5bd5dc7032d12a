//! A store written by an earlier release opens with this one, upgrades in place through the
//! numbered migrations (`belfry::store::migrations`) and keeps every access key, account,
//! user, setting and phone number (each user's number in the inventory, Assigned to the user),
//! and gains the tables of later migrations (rooms, bots, phone number orders);
//! on SQLite and on PostgreSQL (`BELFRY_TEST_BACKEND`).
//!
//! The earlier store is `tests/fixtures/store-v1.sql`: the schema of the release before
//! migration 2, verbatim, and rows that release wrote (see the fixture's header).

mod common;

use std::collections::BTreeMap;

use belfry::demo;
use belfry::model::{PhoneNumberProductType, PhoneNumberStatus};
use belfry::store::{
    Association, Conflict, Location, NewMembership, NumberFilter, ScimAttr, ScimCondition, ScimOp,
    Store, StoreError, UserFilter, migrations,
};
use common::*;
use sqlx::{Connection, Executor};

const FIXTURE: &str = include_str!("fixtures/store-v1.sql");
const DEMO_ACCOUNT: &str = "fc260e1d-1597-48c8-abb8-5572a95fb035";
const SECOND_ACCOUNT: &str = "baa5739c-1bf1-4d18-97f8-64a661580ba5";
const NUMBERED_USER: &str = "5c2af270-8960-4818-a018-c13994f31b24";
const SHARED_USER: &str = "f48e74f8-1f36-46c1-b85d-c280704c04cd";
const OWNER: &str = "111111111111";

/// A raw connection to the database behind `location`.
async fn raw(location: &Location) -> sqlx::AnyConnection {
    raw_connection(location).await
}

/// Writes the earlier release's store at `location`.
async fn write_fixture(location: &Location) {
    let collation = match location {
        Location::Url(_) => " COLLATE \"C\"",
        _ => "",
    };
    let mut conn = raw(location).await;
    for statement in FIXTURE.lines().filter(|l| !l.starts_with("--")) {
        let statement = statement.replace("{C}", collation);
        conn.execute(sqlx::AssertSqlSafe(statement))
            .await
            .expect("fixture statement");
    }
    conn.close().await.expect("close");
}

/// Every row of a table as text, keyed by its first column: what must survive an upgrade.
async fn rows(location: &Location, table: &str, columns: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = raw(location).await;
    let sql = format!("SELECT {columns} FROM {table}");
    let rows: Vec<sqlx::any::AnyRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut conn)
        .await
        .expect("read table");
    let n = columns.split(',').count();
    rows.iter()
        .map(|row| {
            use sqlx::Row;
            let values: Vec<String> = (0..n)
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .map(|v| v.unwrap_or_else(|| "NULL".into()))
                        .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
                        .expect("text or integer")
                })
                .collect();
            (values[0].clone(), values)
        })
        .collect()
}

const USER_COLUMNS: &str = "user_id, account_id, email_key, primary_email, \
    primary_provisioned_number, display_name, license_type, user_type, registration_status, \
    invitation_status, CAST(registered_on_ms AS TEXT), CAST(invited_on_ms AS TEXT), \
    CAST(alexa_enabled AS TEXT), alexa_room_arn, personal_pin, pre_suspend_status, \
    CAST(inbound_calling AS TEXT), CAST(outbound_calling AS TEXT), CAST(sms AS TEXT), doc";
const ACCOUNT_COLUMNS: &str = "account_id, aws_account_id, name, account_type, \
    default_license, supported_licenses, account_status, CAST(created_ms AS TEXT), \
    CAST(disable_remote_control AS TEXT), CAST(enable_dial_out AS TEXT)";
const KEY_COLUMNS: &str = "access_key_id, secret_access_key, aws_account_id, CAST(read_only AS TEXT), CAST(created_ms AS TEXT)";
const NUMBER_COLUMNS: &str = "e164, aws_account_id, user_id";
const META_COLUMNS: &str = "name, value";

#[tokio::test]
async fn a_store_of_the_earlier_release_upgrades_in_place_and_keeps_everything() {
    let scratch = Scratch::new().await;
    write_fixture(&scratch.location).await;
    let tables = [
        ("access_keys", KEY_COLUMNS),
        ("accounts", ACCOUNT_COLUMNS),
        ("users", USER_COLUMNS),
        ("phone_numbers", NUMBER_COLUMNS),
    ];
    let mut before = Vec::new();
    for (table, columns) in tables {
        before.push(rows(&scratch.location, table, columns).await);
    }
    let meta_before = rows(&scratch.location, "belfry_meta", META_COLUMNS).await;
    assert_eq!(meta_before["schema_version"][1], "1");
    assert_eq!(before[2].len(), 23, "the fixture's users");

    let store = scratch.open().await;
    // Every row of every table, column by column, as the earlier release left it; the phone
    // numbers gain every user's PrimaryProvisionedNumber that had no row (the demo seeded its
    // users' numbers into their rows only).
    let mut numbers_after = before[3].clone();
    for user in before[2].values().filter(|u| u[4] != "NULL") {
        numbers_after
            .entry(user[4].clone())
            .or_insert_with(|| vec![user[4].clone(), OWNER.to_string(), user[0].clone()]);
    }
    assert!(numbers_after.len() > before[3].len(), "{numbers_after:?}");
    for ((table, columns), was) in tables.iter().zip(&before) {
        let want = if *table == "phone_numbers" {
            &numbers_after
        } else {
            was
        };
        assert_eq!(
            &rows(&scratch.location, table, columns).await,
            want,
            "{table}"
        );
    }
    // ...each an Assigned Business Calling number of its user, associated with the user and the
    // user's account, as ListPhoneNumbers shows it.
    let page = store
        .list_phone_numbers(OWNER, &NumberFilter::default(), None, 99)
        .await
        .unwrap();
    assert_eq!(page.numbers.len(), numbers_after.len());
    for number in &page.numbers {
        let holder = &numbers_after[&number.e164][2];
        let user = &before[2][holder];
        assert_eq!(number.status, PhoneNumberStatus::Assigned, "{number:?}");
        assert_eq!(number.product_type, PhoneNumberProductType::BusinessCalling);
        assert_eq!(number.user_id.as_deref(), Some(holder.as_str()));
        assert_eq!(number.account_id.as_deref(), Some(user[1].as_str()));
        assert_eq!(number.country, "US");
        assert!(
            number.associated_ms.is_some() && number.created_ms > 0,
            "{number:?}"
        );
        assert_eq!(
            user[4], number.e164,
            "the user's PrimaryProvisionedNumber agrees"
        );
    }
    let by_user = store
        .list_phone_numbers(
            OWNER,
            &NumberFilter {
                association: Some(Association::User(NUMBERED_USER.to_string())),
                ..NumberFilter::default()
            },
            None,
            99,
        )
        .await
        .unwrap();
    assert_eq!(by_user.numbers.len(), 1);
    assert_eq!(by_user.numbers[0].e164, "+12065550100");
    let meta = rows(&scratch.location, "belfry_meta", META_COLUMNS).await;
    assert_eq!(meta["schema_version"][1], migrations::latest().to_string());
    for name in ["page_token_secret", "demo_account_id", "demo_access_key_id"] {
        assert_eq!(meta[name], meta_before[name], "{name}");
    }
    assert_eq!(
        hex::encode(store.token_secret()),
        meta_before["page_token_secret"][1],
        "page tokens issued before the upgrade still open"
    );

    // Through the store as the API reads it.
    let demo = demo::ensure_demo(&store).await.expect("demo");
    assert!(
        !demo.seeded_now,
        "the demo of the earlier release is found, not seeded again"
    );
    assert_eq!(demo.account_id, DEMO_ACCOUNT);
    // Migration 3: the earlier demo gains its rooms and bot at this start.
    let rooms = store
        .list_rooms(OWNER, DEMO_ACCOUNT, None, None, 50)
        .await
        .unwrap();
    let names: Vec<&str> = rooms.rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["General", "Engineering", "Support"]);
    let bots = store
        .list_bots(OWNER, DEMO_ACCOUNT, None, 50)
        .await
        .unwrap();
    assert_eq!(bots.bots.len(), 1);
    // ... and an upgraded account's users can be room members.
    let room = store
        .create_room(OWNER, SECOND_ACCOUNT, "After the upgrade", "test", None)
        .await
        .unwrap();
    let added = store
        .create_memberships(
            OWNER,
            SECOND_ACCOUNT,
            &room.room_id,
            &[NewMembership {
                member_id: NUMBERED_USER.to_string(),
                role: None,
            }],
            "test",
        )
        .await
        .unwrap();
    assert!(added[0].is_ok(), "{added:?}");
    // Migration 4: an upgraded account takes sign-in delegate groups and, once Enterprise,
    // retention settings; the AWS account takes its settings.
    store
        .associate_signin_delegate_groups(OWNER, SECOND_ACCOUNT, &["Upgraded".to_string()])
        .await
        .unwrap();
    let account = store.get_account(OWNER, SECOND_ACCOUNT).await.unwrap();
    assert_eq!(account.signin_delegate_groups, ["Upgraded"]);
    store
        .set_account_type(SECOND_ACCOUNT, belfry::model::AccountType::EnterpriseOIDC)
        .await
        .unwrap();
    let retention = store
        .put_retention_settings(OWNER, SECOND_ACCOUNT, Some(30), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .retention_settings(OWNER, SECOND_ACCOUNT)
            .await
            .unwrap(),
        retention
    );
    store.update_calling_name(OWNER, "Upgraded").await.unwrap();
    assert_eq!(
        store
            .phone_number_settings(OWNER)
            .await
            .unwrap()
            .calling_name
            .as_deref(),
        Some("Upgraded")
    );
    // Migration 6: a user of the earlier release is a SCIM user whose userName is its email,
    // found by `userName eq`; the upgraded account takes SCIM tokens.
    let scim = store
        .scim_user(OWNER, SECOND_ACCOUNT, NUMBERED_USER)
        .await
        .unwrap();
    assert_eq!(scim.user_name, scim.user.primary_email);
    let by_name = ScimCondition::Compare(
        ScimAttr::UserName,
        ScimOp::Eq,
        scim.user_name.to_uppercase(),
    );
    let found = store
        .scim_users_page(OWNER, SECOND_ACCOUNT, &by_name, None, 10)
        .await
        .unwrap();
    assert_eq!(found.users, [scim]);
    let (_, token) = store.create_scim_token(SECOND_ACCOUNT).await.unwrap();
    assert_eq!(
        store.scim_token_account(&token).await.unwrap(),
        Some((SECOND_ACCOUNT.to_string(), OWNER.to_string()))
    );
    let read_only = store
        .find_key("AKIATNG44H77QC7UT65R")
        .await
        .unwrap()
        .expect("the read-only key");
    assert!(read_only.read_only);
    assert_eq!(read_only.aws_account_id, "222222222222");
    let page = store
        .list_users(OWNER, SECOND_ACCOUNT, &UserFilter::default(), None, 100)
        .await
        .unwrap();
    let docs: Vec<&str> = page.docs().collect();
    let stored: Vec<&str> = before[2]
        .values()
        .filter(|r| r[1] == SECOND_ACCOUNT)
        .map(|r| r[19].as_str())
        .collect();
    assert_eq!(docs.len(), 3);
    for doc in &docs {
        assert!(stored.contains(doc), "{doc}");
    }
    let settings = store.account_settings(OWNER, SECOND_ACCOUNT).await.unwrap();
    assert!(settings.disable_remote_control && !settings.enable_dial_out);
    let telephony = store
        .user_telephony(OWNER, SECOND_ACCOUNT, NUMBERED_USER)
        .await
        .unwrap();
    assert!(!telephony.inbound_calling && telephony.outbound_calling && !telephony.sms);

    // The phone number is still held: another user cannot take it until it is released.
    let taken = store
        .associate_phone_number(OWNER, SECOND_ACCOUNT, SHARED_USER, "+12065550100")
        .await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(Conflict::PhoneNumber))),
        "{taken:?}"
    );
    store
        .disassociate_phone_number(OWNER, SECOND_ACCOUNT, NUMBERED_USER)
        .await
        .unwrap();
    let user = store
        .associate_phone_number(OWNER, SECOND_ACCOUNT, SHARED_USER, "+12065550100")
        .await
        .unwrap();
    assert_eq!(
        user.primary_provisioned_number.as_deref(),
        Some("+12065550100")
    );
    store.close().await;

    // A number that no user holds has a place: Unassigned.
    let mut conn = raw(&scratch.location).await;
    conn.execute(
        "INSERT INTO phone_numbers (aws_account_id, e164, country, number_type, product_type,
            status, calling_name_status, created_ms, updated_ms)
         VALUES ('111111111111', '+12065550199', 'US', 'Local', 'BusinessCalling',
            'Unassigned', 'Unassigned', 1, 1)",
    )
    .await
    .expect("an unassigned number");
    conn.close().await.unwrap();

    // Opening again migrates nothing and loses nothing.
    let store = scratch.open().await;
    assert_eq!(
        store.meta("schema_version").await.unwrap().as_deref(),
        Some(migrations::latest().to_string().as_str())
    );
    let numbers = rows(&scratch.location, "phone_numbers", NUMBER_COLUMNS).await;
    assert_eq!(numbers.len(), numbers_after.len() + 1, "{numbers:?}");
    assert_eq!(numbers["+12065550100"][2], SHARED_USER);
    assert_eq!(numbers["+12065550199"][2], "NULL");
    store.close().await;
}

#[tokio::test]
async fn a_store_of_a_later_release_is_refused_not_guessed_at() {
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    store.set_meta("schema_version", "99").await.unwrap();
    store.close().await;
    let refused = Store::open(&scratch.location).await;
    let message = match refused {
        Ok(_) => panic!("a store of schema version 99 opened"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("schema version 99"), "{message}");
    assert!(message.contains("newer than this release"), "{message}");
}
