//! ListUsers: validation, the user-type and user-email filters, page tokens (bound to their
//! account and filters, tampering refused), page sizes, the query on the wire, the SDK
//! paginator over 1,000 users, a walk that stays stable under concurrent writes, and changes
//! made by the other operations showing on pages fetched with tokens issued before them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_chime::operation::list_users::{ListUsersError, ListUsersOutput};
use aws_sdk_chime::types::{License, RegistrationStatus, User, UserType};
use belfry::model::{self, email_key};

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn sdk_type(t: model::UserType) -> UserType {
    UserType::from(t.as_str())
}

/// The keys ListUsers orders by, for the users of a page.
fn order_keys(users: &[User]) -> Vec<(String, String)> {
    users
        .iter()
        .map(|u| {
            (
                email_key(u.primary_email().unwrap_or_default()),
                u.user_id().to_string(),
            )
        })
        .collect()
}

/// Walks ListUsers with the SDK paginator and returns every page.
async fn paginate(
    client: &aws_sdk_chime::Client,
    account_id: &str,
    page_size: i32,
    user_type: Option<UserType>,
    user_email: Option<&str>,
) -> Vec<ListUsersOutput> {
    let mut request = client
        .list_users()
        .account_id(account_id)
        .set_user_type(user_type)
        .set_user_email(user_email.map(str::to_string));
    if page_size > 0 {
        request = request.max_results(page_size);
    }
    let mut stream = request.into_paginator().send();
    let mut pages = Vec::new();
    while let Some(page) = stream.next().await {
        pages.push(page.expect("ListUsers page"));
        assert!(pages.len() <= 2_000, "the paginator does not end");
    }
    pages
}

/// Asserts the pages of a walk over `expected` (in order) with page size `n`: sizes, tokens,
/// order, no duplicates, nothing missing.
fn assert_walk(pages: &[ListUsersOutput], expected: &[belfry::store::User], n: usize) {
    let total = expected.len();
    let want_pages = if total == 0 { 1 } else { total.div_ceil(n) };
    assert_eq!(
        pages.len(),
        want_pages,
        "number of pages of {total} users at page size {n}"
    );
    let mut seen = HashSet::new();
    let mut got = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let remaining = total - (i * n).min(total);
        assert_eq!(
            page.users().len(),
            n.min(remaining),
            "size of page {i} (page size {n}, {remaining} remaining)"
        );
        let last = i + 1 == pages.len();
        assert_eq!(
            page.next_token().is_some(),
            !last,
            "NextToken on page {i} of {} (page size {n})",
            pages.len()
        );
        if let Some(token) = page.next_token() {
            assert!(!token.is_empty(), "empty NextToken on page {i}");
        }
        for user in page.users() {
            assert!(
                seen.insert(user.user_id().to_string()),
                "user {} listed twice",
                user.user_id()
            );
            got.push(user.clone());
        }
    }
    let got_keys = order_keys(&got);
    let mut sorted = got_keys.clone();
    sorted.sort();
    assert_eq!(
        got_keys, sorted,
        "users are not in (email key, user id) order"
    );
    let got_ids: Vec<&str> = got.iter().map(|u| u.user_id()).collect();
    let want_ids: Vec<&str> = expected.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(
        got_ids, want_ids,
        "the walk did not return exactly the users"
    );
    for (g, w) in got.iter().zip(expected) {
        assert_user_matches(g, w);
    }
}

/// Field-level equality of a listed user and the stored one.
fn assert_user_matches(got: &User, want: &belfry::store::User) {
    assert_eq!(got.user_id(), want.user_id);
    assert_eq!(got.account_id(), Some(want.account_id.as_str()));
    assert_eq!(got.primary_email(), Some(want.primary_email.as_str()));
    assert_eq!(got.display_name(), want.display_name.as_deref());
    assert_eq!(got.user_type(), Some(&sdk_type(want.user_type)));
    assert_eq!(
        got.license_type(),
        Some(&License::from(want.license_type.as_str()))
    );
    assert_eq!(
        got.user_registration_status(),
        Some(&RegistrationStatus::from(want.registration_status.as_str()))
    );
    assert_eq!(got.personal_pin(), Some(want.personal_pin.as_str()));
}

// ---------------------------------------------------------------------------------------
// ListUsers: validation, filters, tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_users_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Validation").await;

    for n in [0, 201, 500, -1] {
        let f = service_error(
            client
                .list_users()
                .account_id(&account)
                .max_results(n)
                .send()
                .await,
        );
        assert!(
            matches!(f.err, ListUsersError::BadRequestException(_)),
            "max-results {n}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        assert!(f.message().contains("maxResults"), "{}", f.message());
    }
    let f = service_error(
        client
            .list_users()
            .account_id(&account)
            .max_results(500)
            .send()
            .await,
    );
    assert_eq!(
        f.message(),
        "1 validation error detected: Value '500' at 'maxResults' failed to satisfy \
         constraint: Member must have value less than or equal to 200"
    );
    assert_eq!(f.body["Message"], f.message());

    let f = service_error(
        client
            .list_users()
            .account_id(&account)
            .user_type(UserType::from("Bogus"))
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "{:?}", f.err);
    assert!(f.message().contains("userType"), "{}", f.message());

    for email in ["nobody", "a@b", "a@b.", "@b.c"] {
        let f = service_error(
            client
                .list_users()
                .account_id(&account)
                .user_email(email)
                .send()
                .await,
        );
        assert!(
            f.err.is_bad_request_exception(),
            "email {email}: {:?}",
            f.err
        );
        assert!(f.message().contains("userEmail"), "{}", f.message());
    }

    let f = service_error(client.list_users().account_id(" ").send().await);
    assert!(
        f.err.is_bad_request_exception(),
        "blank account: {:?}",
        f.err
    );
    assert!(f.message().contains("accountId"), "{}", f.message());

    // 1 and 200 are the bounds, and allowed.
    for n in [1, 200] {
        client
            .list_users()
            .account_id(&account)
            .max_results(n)
            .send()
            .await
            .unwrap_or_else(|e| panic!("max-results {n}: {e:?}"));
    }
}

#[tokio::test]
async fn list_users_of_unknown_account_is_not_found() {
    let server = TestServer::start().await;
    let id = missing_id();
    let f = service_error(server.client().list_users().account_id(&id).send().await);
    assert!(
        matches!(f.err, ListUsersError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert!(f.message().contains(&id), "{}", f.message());
}

#[tokio::test]
async fn list_users_of_an_empty_account() {
    let server = TestServer::start().await;
    let account = server.account("Empty").await;
    let out = server
        .client()
        .list_users()
        .account_id(&account)
        .send()
        .await
        .expect("ListUsers");
    assert!(out.users().is_empty());
    assert!(out.next_token().is_none());

    let pages = paginate(&server.client(), &account, 7, None, None).await;
    assert_walk(&pages, &[], 7);

    // On the wire: `Users: []`, and no NextToken member at all.
    let raw = server
        .raw("GET", &format!("/accounts/{account}/users"), "")
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert_eq!(raw.json(), serde_json::json!({ "Users": [] }));
    assert!(raw.header("x-amzn-RequestId").is_some());
}

#[tokio::test]
async fn list_users_email_filter_is_exact_and_case_insensitive() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Emails").await;
    let mut users = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 40).await;
    let elodie = make_user(&account, "Élodie@Example.com", model::UserType::PrivateUser);
    let prefix = make_user(&account, "élodie@example.co", model::UserType::PrivateUser);
    server
        .store
        .insert_users(
            ROOT_AWS_ACCOUNT,
            &account,
            &[elodie.clone(), prefix.clone()],
        )
        .await
        .unwrap();
    users.push(elodie.clone());

    for query in [
        "Élodie@Example.com",
        "élodie@example.com",
        "ÉLODIE@EXAMPLE.COM",
    ] {
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(query)
            .send()
            .await
            .unwrap();
        assert_eq!(out.users().len(), 1, "user-email {query}");
        assert_user_matches(&out.users()[0], &elodie);
        assert!(out.next_token().is_none());
        // Combined with its own type: still found; with the other type: none.
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(query)
            .user_type(UserType::PrivateUser)
            .send()
            .await
            .unwrap();
        assert_eq!(out.users().len(), 1);
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(query)
            .user_type(UserType::SharedDevice)
            .send()
            .await
            .unwrap();
        assert!(out.users().is_empty(), "email + non-matching type");
        assert!(out.next_token().is_none());
    }

    // Every seeded user is found by its email in upper case.
    for user in users.iter().take(12) {
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(user.primary_email.to_uppercase())
            .send()
            .await
            .unwrap();
        assert_eq!(out.users().len(), 1, "{}", user.primary_email);
        assert_eq!(out.users()[0].user_id(), user.user_id);
    }

    for absent in [
        "elodie@example.com",
        "lodie@example.com",
        "nobody@example.com",
    ] {
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(absent)
            .send()
            .await
            .unwrap();
        assert!(
            out.users().is_empty(),
            "user-email {absent} is not a search"
        );
        assert!(out.next_token().is_none());
    }
}

#[tokio::test]
async fn list_users_rejects_foreign_and_altered_tokens() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Tokens").await;
    let other = server.account("Other").await;
    seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 30).await;
    seed_users(&server.store, ROOT_AWS_ACCOUNT, &other, 30).await;

    let first = client
        .list_users()
        .account_id(&account)
        .max_results(5)
        .send()
        .await
        .unwrap();
    let token = first.next_token().expect("a NextToken").to_string();
    let typed = client
        .list_users()
        .account_id(&account)
        .user_type(UserType::PrivateUser)
        .max_results(5)
        .send()
        .await
        .unwrap();
    let typed_token = typed.next_token().expect("a NextToken").to_string();

    // The genuine token continues.
    let second = client
        .list_users()
        .account_id(&account)
        .max_results(5)
        .next_token(&token)
        .send()
        .await
        .expect("the genuine token");
    assert_eq!(second.users().len(), 5);

    let mid = token.len() / 2;
    let flipped: String = token
        .char_indices()
        .map(|(i, c)| {
            if i == mid {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    let account_list = client.list_accounts().max_results(1).send().await.unwrap();
    let accounts_token = account_list.next_token().expect("ListAccounts token");

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "garbage!!".to_string()),
        ("plain text", "hello".to_string()),
        ("empty-ish", "AAAA".to_string()),
        ("truncated", token[..token.len() - 4].to_string()),
        ("truncated by one", token[..token.len() - 1].to_string()),
        ("extended", format!("{token}AAAA")),
        ("tampered", flipped),
        ("ListAccounts token", accounts_token.to_string()),
    ];
    for (what, bad) in &cases {
        let f = service_error(
            client
                .list_users()
                .account_id(&account)
                .max_results(5)
                .next_token(bad)
                .send()
                .await,
        );
        assert!(
            matches!(f.err, ListUsersError::BadRequestException(_)),
            "{what} token: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }

    // Bound to the filters and the account it was issued for.
    let misuses = [
        (
            "unfiltered token with user-type",
            client
                .list_users()
                .account_id(&account)
                .user_type(UserType::PrivateUser)
                .next_token(&token),
        ),
        (
            "unfiltered token with user-email",
            client
                .list_users()
                .account_id(&account)
                .user_email("user00000@example.com")
                .next_token(&token),
        ),
        (
            "PrivateUser token with SharedDevice",
            client
                .list_users()
                .account_id(&account)
                .user_type(UserType::SharedDevice)
                .next_token(&typed_token),
        ),
        (
            "PrivateUser token without a filter",
            client
                .list_users()
                .account_id(&account)
                .next_token(&typed_token),
        ),
        (
            "token of another account",
            client.list_users().account_id(&other).next_token(&token),
        ),
    ];
    for (what, request) in misuses {
        let f = service_error(request.send().await);
        assert!(f.err.is_bad_request_exception(), "{what}: {:?}", f.err);
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }
}

#[tokio::test]
async fn list_users_page_size_may_change_between_pages() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Sizes").await;
    let mut users = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 100).await;
    sort_users(&mut users);
    let sizes = [3, 50, 1, 17, 200];
    let mut got: Vec<User> = Vec::new();
    let mut token: Option<String> = None;
    for (i, n) in sizes.iter().enumerate() {
        let out = client
            .list_users()
            .account_id(&account)
            .max_results(*n)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("page {i}: {e:?}"));
        let remaining = users.len() - got.len();
        assert_eq!(out.users().len(), (*n as usize).min(remaining), "page {i}");
        got.extend(out.users().iter().cloned());
        token = out.next_token().map(str::to_string);
        if i + 1 < sizes.len() {
            assert!(token.is_some(), "NextToken after page {i}");
        }
    }
    assert!(token.is_none(), "the last page has no NextToken");
    let got_ids: Vec<&str> = got.iter().map(|u| u.user_id()).collect();
    let want_ids: Vec<&str> = users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(got_ids, want_ids);
}

#[tokio::test]
async fn list_users_default_page_size_is_bounded() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Default").await;
    let mut users = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 250).await;
    sort_users(&mut users);
    let pages = paginate(&client, &account, 0, None, None).await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.users().len()).collect();
    assert!(
        sizes.iter().all(|s| (1..=200).contains(s)),
        "page sizes without max-results: {sizes:?}"
    );
    let got: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.users().iter().map(|u| u.user_id()))
        .collect();
    let want: Vec<&str> = users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(got, want);
    assert!(pages.last().unwrap().next_token().is_none());
}

// ---------------------------------------------------------------------------------------
// ListUsers: wire-level probes of query handling
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_users_query_values_are_checked_on_the_wire() {
    let server = TestServer::start().await;
    let account = server.account("Query").await;
    let path = format!("/accounts/{account}/users");
    for query in [
        "max-results=abc",
        "max-results=1&max-results=2",
        "user-type=privateuser",
        "user-type=",
        "user-email=",
    ] {
        let response = server.raw("GET", &format!("{path}?{query}"), "").await;
        assert_eq!(response.status, 400, "?{query}: {}", response.body);
        assert_eq!(
            response.header("x-amzn-ErrorType"),
            Some("BadRequestException"),
            "?{query}"
        );
        let body = response.json();
        assert_eq!(body["Code"], "BadRequest", "?{query}");
        assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let response = server
        .raw("GET", &format!("{path}?max-results=200"), "")
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn list_users_email_filter_keeps_plus_signs() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Plus").await;
    for email in ["a+tag@example.com", "a tag@example.com", "a@example.com"] {
        client
            .create_user()
            .account_id(&account)
            .email(email)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {email}: {e:?}"));
    }
    for (query, want) in [
        ("A+Tag@Example.com", "a+tag@example.com"),
        ("a tag@example.com", "a tag@example.com"),
        ("a@example.com", "a@example.com"),
    ] {
        let out = client
            .list_users()
            .account_id(&account)
            .user_email(query)
            .send()
            .await
            .unwrap();
        let got: Vec<Option<&str>> = out.users().iter().map(|u| u.primary_email()).collect();
        assert_eq!(got, [Some(want)], "user-email {query:?}");
        let accounts = client
            .list_accounts()
            .user_email(query)
            .send()
            .await
            .unwrap();
        assert_eq!(
            accounts.accounts().len(),
            1,
            "ListAccounts user-email {query:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// ListUsers: the paginator over 1,000 users
// ---------------------------------------------------------------------------------------

async fn paginator_walk(page_size: i32) {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Thousand").await;
    let mut users = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 1_000).await;
    sort_users(&mut users);
    let pages = paginate(&client, &account, page_size, None, None).await;
    let total: usize = pages.iter().map(|p| p.users().len()).sum();
    assert_eq!(total, 1_000);
    assert_walk(&pages, &users, page_size as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginator_walks_1000_users_one_at_a_time() {
    paginator_walk(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginator_walks_1000_users_seven_at_a_time() {
    paginator_walk(7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginator_walks_1000_users_200_at_a_time() {
    paginator_walk(200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginator_filters_1000_users_by_type_and_email() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Filters").await;
    let mut users = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 1_000).await;
    sort_users(&mut users);
    // Users of another account never leak in.
    let other = server.account("Other").await;
    seed_users(&server.store, ROOT_AWS_ACCOUNT, &other, 50).await;

    for kind in [model::UserType::PrivateUser, model::UserType::SharedDevice] {
        let want: Vec<belfry::store::User> = users
            .iter()
            .filter(|u| u.user_type == kind)
            .cloned()
            .collect();
        assert!(!want.is_empty());
        for n in [7, 200] {
            let pages = paginate(&client, &account, n, Some(sdk_type(kind)), None).await;
            let count: usize = pages.iter().map(|p| p.users().len()).sum();
            assert_eq!(count, want.len(), "{kind:?} at page size {n}");
            assert_walk(&pages, &want, n as usize);
            assert!(
                pages
                    .iter()
                    .flat_map(|p| p.users())
                    .all(|u| u.user_type() == Some(&sdk_type(kind)))
            );
        }
    }

    for (i, user) in users.iter().enumerate().step_by(97) {
        let query = if i.is_multiple_of(2) {
            user.primary_email.to_uppercase()
        } else {
            user.primary_email.to_lowercase()
        };
        let pages = paginate(&client, &account, 7, None, Some(&query)).await;
        assert_walk(&pages, std::slice::from_ref(user), 7);
        let own = sdk_type(user.user_type);
        let pages = paginate(&client, &account, 7, Some(own), Some(&query)).await;
        assert_walk(&pages, std::slice::from_ref(user), 7);
        let other_type = match user.user_type {
            model::UserType::PrivateUser => UserType::SharedDevice,
            model::UserType::SharedDevice => UserType::PrivateUser,
        };
        let pages = paginate(&client, &account, 7, Some(other_type), Some(&query)).await;
        assert_walk(&pages, &[], 7);
    }
    let pages = paginate(&client, &account, 7, None, Some("missing@example.com")).await;
    assert_walk(&pages, &[], 7);
}

// ---------------------------------------------------------------------------------------
// Concurrent writes during a walk, over HTTP
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_walk_is_stable_under_concurrent_inserts_and_deletes() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Churn").await;
    let protected = seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 300).await;
    // Users that may be deleted during the walk, interleaved with the protected ones.
    let doomed: Vec<belfry::store::User> = (0..150)
        .map(|i| {
            make_user(
                &account,
                &format!("user{:05}-doomed@example.com", (i * 61) % 10_007),
                model::UserType::PrivateUser,
            )
        })
        .collect();
    server
        .store
        .insert_users(ROOT_AWS_ACCOUNT, &account, &doomed)
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mutations = Arc::new(AtomicUsize::new(0));
    let writer = {
        let stop = stop.clone();
        let mutations = mutations.clone();
        let store = server.store.clone();
        let client = server.client();
        let account = account.clone();
        tokio::spawn(async move {
            let mut deletable: Vec<String> = doomed.iter().map(|u| u.user_id.clone()).collect();
            let mut i = 0usize;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                if i.is_multiple_of(2) {
                    // Through the SDK: a new user anywhere in the order.
                    let n: u32 = rand::random::<u32>() % 10_007;
                    let email = format!("User{n:05}-new{i}@Example.com");
                    let out = client
                        .create_user()
                        .account_id(&account)
                        .email(&email)
                        .send()
                        .await
                        .expect("CreateUser during the walk");
                    deletable.push(out.user().unwrap().user_id().to_string());
                } else if !deletable.is_empty() {
                    // Through the store: delete a random unprotected user.
                    let at = rand::random::<u32>() as usize % deletable.len();
                    let id = deletable.swap_remove(at);
                    store
                        .delete_user(ROOT_AWS_ACCOUNT, &account, &id)
                        .await
                        .expect("delete during the walk");
                }
                mutations.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        })
    };

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut token: Option<String> = None;
    let mut pages = 0usize;
    let mut previous_last: Option<(String, String)> = None;
    loop {
        let n = [1, 7, 3, 13, 2][pages % 5];
        let out = client
            .list_users()
            .account_id(&account)
            .max_results(n)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("page {pages}: {e:?}"));
        pages += 1;
        let keys = order_keys(out.users());
        if let (Some(prev), Some(first)) = (&previous_last, keys.first()) {
            assert!(prev < first, "page {pages} goes back in the order");
        }
        if let Some(last) = keys.last() {
            previous_last = Some(last.clone());
        }
        for user in out.users() {
            *seen.entry(user.user_id().to_string()).or_default() += 1;
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(
            !out.users().is_empty(),
            "empty page {pages} with a NextToken"
        );
        assert!(pages < 5_000, "the walk does not end");
        // Let at least one write land between every two pages.
        let before = mutations.load(Ordering::SeqCst);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while mutations.load(Ordering::SeqCst) == before {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer made no progress"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("writer task");

    assert!(
        mutations.load(Ordering::SeqCst) > 20,
        "the writer hardly ran ({} mutations)",
        mutations.load(Ordering::SeqCst)
    );
    let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "users listed more than once: {twice:?}");
    for user in &protected {
        assert_eq!(
            seen.get(&user.user_id).copied().unwrap_or(0),
            1,
            "protected user {} ({})",
            user.user_id,
            user.primary_email
        );
    }
}

// ---------------------------------------------------------------------------------------
// Visibility through listings, filters and earlier tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn changes_show_on_pages_fetched_with_tokens_issued_before_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Pages").await;
    let mut seeded = seed_users(&server.store, ROOT_AWS_ACCOUNT, &a, 7).await;
    sort_users(&mut seeded);

    let page1 = client
        .list_users()
        .account_id(&a)
        .max_results(3)
        .send()
        .await
        .expect("page 1");
    let ids: Vec<&str> = page1.users().iter().map(User::user_id).collect();
    let want: Vec<&str> = seeded[..3].iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, want);
    let token = page1.next_token().expect("NextToken").to_string();

    // Change users on page 2, each through a different operation.
    let (x, y, z) = (
        seeded[3].user_id.clone(),
        seeded[4].user_id.clone(),
        seeded[5].user_id.clone(),
    );
    client
        .update_user()
        .account_id(&a)
        .user_id(&x)
        .license_type(License::Basic)
        .user_type(UserType::SharedDevice)
        .alexa_for_business_metadata(alexa(true, ROOM_ARN))
        .send()
        .await
        .expect("UpdateUser");
    client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&y)
        .send()
        .await
        .expect("BatchSuspendUser");
    associate(&client, &a, &y, "+14155550100")
        .await
        .expect("associate");
    client
        .reset_personal_pin()
        .account_id(&a)
        .user_id(&z)
        .send()
        .await
        .expect("ResetPersonalPIN");

    let page2 = client
        .list_users()
        .account_id(&a)
        .max_results(3)
        .next_token(&token)
        .send()
        .await
        .expect("page 2 with the earlier token");
    let ids: Vec<&str> = page2.users().iter().map(User::user_id).collect();
    assert_eq!(ids, [x.as_str(), y.as_str(), z.as_str()]);
    for listed in page2.users() {
        assert_eq!(
            listed,
            &get_user(&client, &a, listed.user_id()).await,
            "page 2 shows the user as GetUser does"
        );
    }
    let px = &page2.users()[0];
    assert_eq!(px.license_type(), Some(&License::Basic));
    assert_eq!(px.user_type(), Some(&UserType::SharedDevice));
    assert!(px.alexa_for_business_metadata().is_some());
    let py = &page2.users()[1];
    assert_eq!(
        py.user_registration_status(),
        Some(&RegistrationStatus::Suspended)
    );
    assert_eq!(py.primary_provisioned_number(), Some("+14155550100"));
    let pz = &page2.users()[2];
    assert_ne!(pz.personal_pin(), Some(seeded[5].personal_pin.as_str()));

    // Page 3, from page 2's token, after one more change.
    let token = page2.next_token().expect("NextToken").to_string();
    let last = seeded[6].user_id.clone();
    client
        .batch_update_user()
        .account_id(&a)
        .update_user_request_items(built(item(&last).license_type(License::ProTrial)))
        .send()
        .await
        .expect("BatchUpdateUser");
    let page3 = client
        .list_users()
        .account_id(&a)
        .max_results(3)
        .next_token(&token)
        .send()
        .await
        .expect("page 3");
    assert_eq!(page3.users().len(), 1);
    assert_eq!(page3.users()[0].user_id(), last);
    assert_eq!(page3.users()[0].license_type(), Some(&License::ProTrial));
    assert_eq!(page3.next_token(), None);
}

#[tokio::test]
async fn the_user_type_filter_follows_type_changes() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Types").await;
    // seeded_type: users 2 and 5 are SharedDevice, the others PrivateUser.
    let mut seeded = seed_users(&server.store, ROOT_AWS_ACCOUNT, &a, 9).await;
    sort_users(&mut seeded);
    let of_type = |t: model::UserType| -> Vec<String> {
        seeded
            .iter()
            .filter(|u| u.user_type == t)
            .map(|u| u.user_id.clone())
            .collect()
    };
    let private = of_type(model::UserType::PrivateUser);
    let shared = of_type(model::UserType::SharedDevice);
    assert_eq!((private.len(), shared.len()), (6, 3));

    let listed = |t: UserType| {
        let client = client.clone();
        let a = a.clone();
        async move {
            let mut ids = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = client
                    .list_users()
                    .account_id(&a)
                    .user_type(t.clone())
                    .max_results(2)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .expect("ListUsers by type");
                for u in page.users() {
                    assert_eq!(u.user_type(), Some(&t), "{u:?}");
                    ids.push(u.user_id().to_string());
                }
                match page.next_token() {
                    Some(next) => token = Some(next.to_string()),
                    None => return ids,
                }
            }
        }
    };
    assert_eq!(listed(UserType::PrivateUser).await, private);
    assert_eq!(listed(UserType::SharedDevice).await, shared);

    // UpdateUser moves a user from one filter to the other at once.
    let moved = private[0].clone();
    client
        .update_user()
        .account_id(&a)
        .user_id(&moved)
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .expect("UpdateUser");
    let mut want_shared = shared.clone();
    want_shared.push(moved.clone());
    let order: Vec<String> = seeded.iter().map(|u| u.user_id.clone()).collect();
    want_shared.sort_by_key(|id| order.iter().position(|x| x == id));
    assert_eq!(listed(UserType::SharedDevice).await, want_shared);
    assert_eq!(listed(UserType::PrivateUser).await, private[1..].to_vec());

    // BatchUpdateUser moves it back, and a shared one over.
    let out = client
        .batch_update_user()
        .account_id(&a)
        .update_user_request_items(built(item(&moved).user_type(UserType::PrivateUser)))
        .update_user_request_items(built(item(&shared[0]).user_type(UserType::PrivateUser)))
        .send()
        .await
        .expect("BatchUpdateUser");
    assert!(out.user_errors().is_empty());
    let mut want_private = private.clone();
    want_private.push(shared[0].clone());
    want_private.sort_by_key(|id| order.iter().position(|x| x == id));
    assert_eq!(listed(UserType::PrivateUser).await, want_private);
    assert_eq!(listed(UserType::SharedDevice).await, shared[1..].to_vec());

    // A filtered walk whose token was issued before a change: the changed user leaves the
    // rest of the walk.
    let page1 = client
        .list_users()
        .account_id(&a)
        .user_type(UserType::PrivateUser)
        .max_results(2)
        .send()
        .await
        .expect("page 1");
    let first: Vec<String> = page1
        .users()
        .iter()
        .map(|u| u.user_id().to_string())
        .collect();
    assert_eq!(first, want_private[..2].to_vec());
    let token = page1.next_token().expect("NextToken").to_string();
    let leaving = want_private[2].clone();
    client
        .update_user()
        .account_id(&a)
        .user_id(&leaving)
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .expect("UpdateUser");
    let page2 = client
        .list_users()
        .account_id(&a)
        .user_type(UserType::PrivateUser)
        .max_results(2)
        .next_token(&token)
        .send()
        .await
        .expect("page 2 with the earlier token");
    let second: Vec<String> = page2
        .users()
        .iter()
        .map(|u| u.user_id().to_string())
        .collect();
    assert_eq!(second, want_private[3..5].to_vec());
    assert!(!second.contains(&leaving));
}
