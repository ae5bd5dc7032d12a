//! List pages served again (ListUsers, and the rendered pages of the room, membership and bot
//! lists) come from the page caches of the embedded store, and no page from before a write is
//! ever served after it: whichever connection, server or process wrote. The tests through a
//! server run on the backend of the run (on PostgreSQL there is no cache, and the same
//! expectations hold); the others look inside the embedded store.

mod common;

use std::process::Command;
use std::sync::Arc;

use aws_sdk_chime::types::{License, UserType};
use belfry::store::{ListKey, Location, Missing, Store, StoreError, UserFilter};
use common::*;

/// The first page of the account as the SDK sees it: (email, license, registration status).
async fn first_page(
    client: &aws_sdk_chime::Client,
    account_id: &str,
) -> Vec<(String, String, String)> {
    let page = client
        .list_users()
        .account_id(account_id)
        .max_results(50)
        .send()
        .await
        .expect("ListUsers");
    page.users()
        .iter()
        .map(|u| {
            (
                u.primary_email().unwrap_or_default().to_string(),
                u.license_type()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default(),
                u.user_registration_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The first page, read twice (so that a cache would hold it) and checked to be stable.
async fn warm(client: &aws_sdk_chime::Client, account_id: &str) -> Vec<(String, String, String)> {
    let page = first_page(client, account_id).await;
    assert_eq!(first_page(client, account_id).await, page);
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_shows_in_the_next_listing_whoever_wrote_it() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    let (on_a, on_b) = (a.client(), b.client());
    let account = a.account("Cached").await;
    seed_users(&a.store, ROOT_AWS_ACCOUNT, &account, 30).await;

    // A user created on replica B is on A's next page.
    warm(&on_a, &account).await;
    let created = on_b
        .create_user()
        .account_id(&account)
        .email("aaa.first@example.com")
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .unwrap()
        .user()
        .unwrap()
        .user_id()
        .to_string();
    let page = first_page(&on_a, &account).await;
    assert_eq!(page[0].0, "aaa.first@example.com");

    // A license changed on A itself.
    warm(&on_a, &account).await;
    on_a.update_user()
        .account_id(&account)
        .user_id(&created)
        .license_type(License::Basic)
        .send()
        .await
        .unwrap();
    assert_eq!(first_page(&on_a, &account).await[0].1, "Basic");

    // A suspension on B.
    warm(&on_a, &account).await;
    let errors = on_b
        .batch_suspend_user()
        .account_id(&account)
        .user_id_list(&created)
        .send()
        .await
        .unwrap();
    assert!(errors.user_errors().is_empty());
    assert_eq!(first_page(&on_a, &account).await[0].2, "Suspended");

    // A user deleted through another handle on the store, outside any server.
    warm(&on_a, &account).await;
    let other = Store::open(a.location()).await.unwrap();
    other
        .delete_user(ROOT_AWS_ACCOUNT, &account, &created)
        .await
        .unwrap();
    assert_ne!(
        first_page(&on_a, &account).await[0].0,
        "aaa.first@example.com"
    );

    // A user imported by another process (`belfry import` while the servers serve).
    let before = warm(&on_a, &account).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.jsonl");
    std::fs::write(&file, "{\"PrimaryEmail\":\"aaa.imported@example.com\"}\n").unwrap();
    let mut import = Command::new(env!("CARGO_BIN_EXE_belfry"));
    import.args(["import", "--account-id", &account]).arg(&file);
    match a.location() {
        Location::Dir(dir) => import.arg("--data").arg(dir),
        Location::Url(url) => import.args(["--database-url", url]),
        Location::Memory => unreachable!("test stores are on disk"),
    };
    let status = import.output().expect("belfry import runs");
    assert!(status.status.success(), "{status:?}");
    let after = first_page(&on_a, &account).await;
    assert_eq!(after[0].0, "aaa.imported@example.com");
    assert_eq!(&after[1..], &before[..]);
}

#[tokio::test]
async fn the_embedded_store_serves_a_repeated_page_from_its_cache_until_a_write() {
    if testing_postgres() {
        return; // the cache belongs to the embedded store; the test above covers both
    }
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    let account = store
        .create_account(ROOT_AWS_ACCOUNT, "Cached")
        .await
        .unwrap()
        .account_id;
    seed_users(&store, ROOT_AWS_ACCOUNT, &account, 250).await;
    let all = UserFilter::default();
    let list = |store: &Store, after: Option<String>| {
        let (store, account, all) = (store.clone(), account.clone(), all.clone());
        async move {
            store
                .list_users(ROOT_AWS_ACCOUNT, &account, &all, after.as_deref(), 100)
                .await
        }
    };

    let first = list(&store, None).await.unwrap();
    let again = list(&store, None).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second read is the cached page"
    );
    let second = list(&store, first.next.clone()).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &second));
    assert!(Arc::ptr_eq(
        &second,
        &list(&store, first.next.clone()).await.unwrap()
    ));

    // Another caller never gets the page: tenancy is checked as before.
    let stranger = store
        .list_users("999999999999", &account, &all, None, 100)
        .await;
    assert!(
        matches!(stranger, Err(StoreError::NotFound(Missing::Account { .. }))),
        "{stranger:?}"
    );

    // A write through another pool on the same file (as another process would write).
    let other = scratch.open().await;
    let user = make_user(
        &account,
        "AAA@example.com",
        belfry::model::UserType::PrivateUser,
    );
    other
        .insert_users(ROOT_AWS_ACCOUNT, &account, std::slice::from_ref(&user))
        .await
        .unwrap();
    let fresh = list(&store, None).await.unwrap();
    assert!(
        !Arc::ptr_eq(&first, &fresh),
        "a write drops the cached page"
    );
    let first_doc = fresh.docs().next().unwrap();
    assert!(
        first_doc.contains("\"PrimaryEmail\":\"AAA@example.com\""),
        "{first_doc}"
    );
    assert_eq!(fresh.count(), 100);
    assert!(Arc::ptr_eq(&fresh, &list(&store, None).await.unwrap()));

    // A write through the store itself.
    store
        .delete_user(ROOT_AWS_ACCOUNT, &account, &user.user_id)
        .await
        .unwrap();
    let after_delete = list(&store, None).await.unwrap();
    assert_eq!(after_delete.joined, first.joined);
}

/// The rooms of the account as the SDK lists them: (room id, name), in listing order.
async fn rooms(client: &aws_sdk_chime::Client, account_id: &str) -> Vec<(String, String)> {
    let page = client
        .list_rooms()
        .account_id(account_id)
        .send()
        .await
        .expect("ListRooms");
    page.rooms()
        .iter()
        .map(|r| {
            (
                r.room_id().unwrap_or_default().to_string(),
                r.name().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The room's memberships: (member id, full name, role), in listing order.
async fn members(
    client: &aws_sdk_chime::Client,
    account_id: &str,
    room_id: &str,
) -> Vec<(String, String, String)> {
    let page = client
        .list_room_memberships()
        .account_id(account_id)
        .room_id(room_id)
        .send()
        .await
        .expect("ListRoomMemberships");
    page.room_memberships()
        .iter()
        .map(|m| {
            let member = m.member().expect("Member");
            (
                member.member_id().unwrap_or_default().to_string(),
                member.full_name().unwrap_or_default().to_string(),
                m.role().map(|r| r.as_str().to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// The account's bots: (bot id, security token, disabled), in listing order.
async fn bots(client: &aws_sdk_chime::Client, account_id: &str) -> Vec<(String, String, bool)> {
    let page = client
        .list_bots()
        .account_id(account_id)
        .send()
        .await
        .expect("ListBots");
    page.bots()
        .iter()
        .map(|b| {
            (
                b.bot_id().unwrap_or_default().to_string(),
                b.security_token().unwrap_or_default().to_string(),
                b.disabled().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_membership_and_bot_listings_show_every_write_whoever_made_it() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    let (on_a, on_b) = (a.client(), b.client());
    let account = a.account("Cached rooms").await;

    // Rooms: each listing read twice (the second from the cache on SQLite), then a write.
    let lobby = create_room(&on_a, &account, "Lobby").await;
    assert_eq!(rooms(&on_a, &account).await, rooms(&on_a, &account).await);
    let annex = create_room(&on_b, &account, "Annex").await;
    let listed = rooms(&on_a, &account).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&(annex.clone(), "Annex".to_string())));
    on_b.update_room()
        .account_id(&account)
        .room_id(&lobby)
        .name("Great Hall")
        .send()
        .await
        .unwrap();
    assert!(
        rooms(&on_a, &account)
            .await
            .contains(&(lobby.clone(), "Great Hall".to_string()))
    );
    on_b.delete_room()
        .account_id(&account)
        .room_id(&annex)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rooms(&on_a, &account).await,
        vec![(lobby.clone(), "Great Hall".to_string())]
    );

    // Memberships: a member added on B, promoted on A, renamed by another process.
    let ada = create_user(&on_a, &account, "ada@example.com").await;
    let ada_id = ada.user_id().to_string();
    assert!(members(&on_a, &account, &lobby).await.is_empty());
    assert!(members(&on_a, &account, &lobby).await.is_empty());
    add_member(&on_b, &account, &lobby, &ada_id).await;
    assert_eq!(
        members(&on_a, &account, &lobby).await,
        vec![(ada_id.clone(), String::new(), "Member".to_string())]
    );
    on_a.update_room_membership()
        .account_id(&account)
        .room_id(&lobby)
        .member_id(&ada_id)
        .role(aws_sdk_chime::types::RoomMembershipRole::Administrator)
        .send()
        .await
        .unwrap();
    assert_eq!(members(&on_a, &account, &lobby).await[0].2, "Administrator");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rename.jsonl");
    std::fs::write(
        &file,
        "{\"PrimaryEmail\":\"ada@example.com\",\"DisplayName\":\"Ada Lovelace\"}\n",
    )
    .unwrap();
    let mut import = Command::new(env!("CARGO_BIN_EXE_belfry"));
    import.args(["import", "--account-id", &account]).arg(&file);
    match a.location() {
        Location::Dir(dir) => import.arg("--data").arg(dir),
        Location::Url(url) => import.args(["--database-url", url]),
        Location::Memory => unreachable!("test stores are on disk"),
    };
    let status = import.output().expect("belfry import runs");
    assert!(status.status.success(), "{status:?}");
    assert_eq!(
        members(&on_a, &account, &lobby).await,
        vec![(
            ada_id.clone(),
            "Ada Lovelace".to_string(),
            "Administrator".to_string()
        )]
    );

    // Bots: a new token made on B, a bot disabled on A.
    let bot = on_a
        .create_bot()
        .account_id(&account)
        .display_name("Cachebot")
        .send()
        .await
        .unwrap()
        .bot()
        .unwrap()
        .clone();
    let bot_id = bot.bot_id().unwrap().to_string();
    let before = bots(&on_a, &account).await;
    assert_eq!(bots(&on_a, &account).await, before);
    let token = on_b
        .regenerate_security_token()
        .account_id(&account)
        .bot_id(&bot_id)
        .send()
        .await
        .unwrap()
        .bot()
        .unwrap()
        .security_token()
        .unwrap()
        .to_string();
    assert_ne!(token, before[0].1);
    assert_eq!(
        bots(&on_a, &account).await,
        vec![(bot_id.clone(), token.clone(), false)]
    );
    on_a.update_bot()
        .account_id(&account)
        .bot_id(&bot_id)
        .disabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(bots(&on_a, &account).await, vec![(bot_id, token, true)]);

    // A cached page is the owner's only: another AWS account is told the account is not there.
    let stranger = a.client_for(&a.new_key("222222222222", false).await);
    let refused = stranger.list_rooms().account_id(&account).send().await;
    let err = refused
        .expect_err("a stranger's ListRooms")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn the_embedded_store_renders_a_repeated_list_page_once_until_a_write() {
    if testing_postgres() {
        return; // no cache on PostgreSQL; the test above covers both backends
    }
    let scratch = Scratch::new().await;
    let store = scratch.open().await;
    let renders = std::sync::atomic::AtomicUsize::new(0);
    let page = |store: &Store, after: Option<&'static str>| {
        let key = ListKey::new(&["ListRooms", ROOT_AWS_ACCOUNT, "account"], after, 50);
        let renders = &renders;
        let store = store.clone();
        async move {
            store
                .cached_page::<StoreError>(key, async {
                    let n = renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(bytes::Bytes::from(format!("render {n}")))
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(page(&store, None).await, "render 0");
    assert_eq!(
        page(&store, None).await,
        "render 0",
        "the second is the cached one"
    );
    assert_eq!(page(&store, Some("token")).await, "render 1", "another key");
    // A render that fails is not kept.
    let failed = store
        .cached_page::<StoreError>(
            ListKey::new(&["ListRooms", ROOT_AWS_ACCOUNT, "other"], None, 50),
            async { Err(StoreError::no_account("other")) },
        )
        .await;
    assert!(failed.is_err());
    // A write through another pool on the same file drops every page.
    let other = scratch.open().await;
    other
        .create_account(ROOT_AWS_ACCOUNT, "Anything")
        .await
        .unwrap();
    assert_eq!(page(&store, None).await, "render 2");
    assert_eq!(page(&store, None).await, "render 2");
}
