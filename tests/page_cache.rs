//! ListUsers pages served again come from the page cache on the embedded store, and no page
//! from before a write is ever served after it: whichever connection, server or process wrote.
//! The first test runs on the backend of the run (on PostgreSQL there is no cache, and the same
//! expectations hold); the second looks inside the embedded store.

mod common;

use std::process::Command;
use std::sync::Arc;

use aws_sdk_chime::types::{License, UserType};
use belfry::store::{Location, Missing, Store, StoreError, UserFilter};
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
