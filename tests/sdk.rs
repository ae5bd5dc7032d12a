//! Belfry driven by the unmodified Rust AWS SDK (aws-sdk-chime): every served operation's
//! happy path with field-level checks, every reachable error as its typed exception, and
//! ListUsers pagination over 1,000 users, filters, tokens and concurrent writes.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_chime::operation::RequestId;
use aws_sdk_chime::operation::create_account::CreateAccountError;
use aws_sdk_chime::operation::create_user::CreateUserError;
use aws_sdk_chime::operation::get_account::GetAccountError;
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::invite_users::InviteUsersError;
use aws_sdk_chime::operation::list_accounts::ListAccountsError;
use aws_sdk_chime::operation::list_users::{ListUsersError, ListUsersOutput};
use aws_sdk_chime::types::{
    AccountStatus, AccountType, EmailStatus, InviteStatus, License, RegistrationStatus, User,
    UserType,
};
use belfry::model::{self, email_key};
use common::*;

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
fn assert_walk(pages: &[ListUsersOutput], expected: &[model::User], n: usize) {
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
fn assert_user_matches(got: &User, want: &model::User) {
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

/// A user id that exists nowhere.
fn missing_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_account_returns_an_active_team_account() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = now_millis();
    let out = client
        .create_account()
        .name("Engineering")
        .send()
        .await
        .expect("CreateAccount");
    let after = now_millis();
    assert!(out.request_id().is_some_and(|id| !id.is_empty()));
    let account = out.account().expect("Account");
    assert_eq!(account.aws_account_id(), ROOT_AWS_ACCOUNT);
    assert!(
        is_uuid_v4(account.account_id()),
        "AccountId {:?} is not a lower-case UUIDv4",
        account.account_id()
    );
    assert_eq!(account.name(), "Engineering");
    assert_eq!(account.account_type(), Some(&AccountType::Team));
    assert_eq!(account.account_status(), Some(&AccountStatus::Active));
    assert_eq!(account.default_license(), Some(&License::Pro));
    assert_eq!(
        account.supported_licenses(),
        &[License::Basic, License::Pro]
    );
    assert!(account.signin_delegate_groups().is_empty());
    let created = account.created_timestamp().expect("CreatedTimestamp");
    assert_eq!(
        created.subsec_nanos() % 1_000_000,
        0,
        "millisecond precision"
    );
    let created_ms = created.to_millis().expect("millis");
    assert!(
        (before..=after).contains(&created_ms),
        "CreatedTimestamp {created_ms} not within [{before}, {after}]"
    );

    // GetAccount returns the same account.
    let got = client
        .get_account()
        .account_id(account.account_id())
        .send()
        .await
        .expect("GetAccount");
    assert_eq!(got.account(), Some(account));
    assert!(got.request_id().is_some());

    // The store holds it under the caller's AWS account.
    let stored = server
        .store
        .get_account(ROOT_AWS_ACCOUNT, account.account_id())
        .await
        .expect("stored account");
    assert_eq!(stored.name, "Engineering");
}

#[tokio::test]
async fn create_account_on_the_wire() {
    let server = TestServer::start().await;
    let response = server.raw("POST", "/accounts", r#"{"Name":"Wire"}"#).await;
    assert_eq!(response.status, 201, "{}", response.body);
    assert!(response.header("x-amzn-RequestId").is_some());
    let account = &response.json()["Account"];
    let created = account["CreatedTimestamp"].as_str().expect("string");
    assert!(
        is_iso8601_millis(created),
        "CreatedTimestamp {created:?} is not like 2019-01-04T17:11:22.003Z"
    );
    assert_eq!(account["AccountType"], "Team");
    assert_eq!(
        account["SupportedLicenses"],
        serde_json::json!(["Basic", "Pro"])
    );
}

#[tokio::test]
async fn create_account_refuses_invalid_names() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["   ".to_string(), "".to_string(), "x".repeat(101)] {
        let f = service_error(client.create_account().name(&name).send().await);
        assert!(
            matches!(f.err, CreateAccountError::BadRequestException(_)),
            "name {name:?}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        assert!(
            f.message().contains("'name'"),
            "message names the member: {}",
            f.message()
        );
    }
    // 100 characters is the maximum, and allowed.
    client
        .create_account()
        .name("y".repeat(100))
        .send()
        .await
        .expect("a 100-character name");
}

#[tokio::test]
async fn get_account_unknown_or_blank_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = missing_id();
    let f = service_error(client.get_account().account_id(&id).send().await);
    assert!(f.err.is_not_found_exception(), "{:?}", f.err);
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert!(f.message().contains(&id), "{}", f.message());

    let f = service_error(client.get_account().account_id(" ").send().await);
    assert!(
        matches!(f.err, GetAccountError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
}

#[tokio::test]
async fn list_accounts_filters_by_name_prefix_and_user_email() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = HashMap::new();
    for name in ["alpha-one", "alpha-two", "Alpha-caps", "beta"] {
        let out = client.create_account().name(name).send().await.unwrap();
        ids.insert(name, out.account().unwrap().account_id().to_string());
    }

    let all = client.list_accounts().send().await.expect("ListAccounts");
    assert_eq!(all.accounts().len(), 4);
    assert!(all.next_token().is_none());

    let alpha = client.list_accounts().name("alpha").send().await.unwrap();
    let mut names: Vec<&str> = alpha.accounts().iter().map(|a| a.name()).collect();
    names.sort();
    assert_eq!(names, ["alpha-one", "alpha-two"], "name is a prefix filter");

    let none = client.list_accounts().name("gamma").send().await.unwrap();
    assert!(none.accounts().is_empty());
    assert!(none.next_token().is_none());

    // user-email: the accounts holding a user with that email, case-insensitively.
    client
        .create_user()
        .account_id(&ids["beta"])
        .email("Zoë@Example.com")
        .send()
        .await
        .unwrap();
    for email in ["Zoë@Example.com", "zoË@example.COM"] {
        let out = client
            .list_accounts()
            .user_email(email)
            .send()
            .await
            .unwrap();
        let got: Vec<&str> = out.accounts().iter().map(|a| a.account_id()).collect();
        assert_eq!(got, [ids["beta"].as_str()], "user-email {email}");
    }
    let out = client
        .list_accounts()
        .user_email("nobody@example.com")
        .send()
        .await
        .unwrap();
    assert!(out.accounts().is_empty());
    let out = client
        .list_accounts()
        .user_email("zoe@example.com")
        .name("alpha")
        .send()
        .await
        .unwrap();
    assert!(out.accounts().is_empty(), "filters combine");
}

#[tokio::test]
async fn list_accounts_pages() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut created = Vec::new();
    for i in 0..5 {
        let out = client
            .create_account()
            .name(format!("acct-{i}"))
            .send()
            .await
            .unwrap();
        created.push(out.account().unwrap().account_id().to_string());
    }
    for n in [1, 2, 5, 200] {
        let mut stream = client
            .list_accounts()
            .max_results(n)
            .into_paginator()
            .send();
        let mut seen = Vec::new();
        let mut pages = 0;
        while let Some(page) = stream.next().await {
            let page = page.expect("ListAccounts page");
            pages += 1;
            assert!(!page.accounts().is_empty(), "empty page at size {n}");
            seen.extend(page.accounts().iter().map(|a| a.account_id().to_string()));
        }
        assert_eq!(pages, 5usize.div_ceil(n as usize), "pages at size {n}");
        let mut sorted_seen = seen.clone();
        sorted_seen.sort();
        sorted_seen.dedup();
        assert_eq!(sorted_seen.len(), 5, "each account once at size {n}");
        let mut want = created.clone();
        want.sort();
        assert_eq!(sorted_seen, want);
    }
}

#[tokio::test]
async fn list_accounts_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    for n in [0, 201, 500] {
        let f = service_error(client.list_accounts().max_results(n).send().await);
        assert!(
            matches!(f.err, ListAccountsError::BadRequestException(_)),
            "max-results {n}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }
    let f = service_error(
        client
            .list_accounts()
            .user_email("not-an-email")
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "{:?}", f.err);
    let f = service_error(client.list_accounts().next_token("garbage").send().await);
    assert!(f.err.is_bad_request_exception(), "{:?}", f.err);
}

// ---------------------------------------------------------------------------------------
// CreateUser, GetUser
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_user_returns_the_user_and_get_user_reads_it() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Users").await;
    let out = client
        .create_user()
        .account_id(&account)
        .email("Ada.Lovelace@Example.com")
        .username("Ada Lovelace")
        .send()
        .await
        .expect("CreateUser");
    assert!(out.request_id().is_some());
    let user = out.user().expect("User");
    assert!(is_uuid_v4(user.user_id()), "UserId {:?}", user.user_id());
    assert_eq!(user.account_id(), Some(account.as_str()));
    assert_eq!(
        user.primary_email(),
        Some("Ada.Lovelace@Example.com"),
        "the email is kept as given"
    );
    assert_eq!(
        user.display_name(),
        Some("Ada Lovelace"),
        "Username -> DisplayName"
    );
    assert_eq!(
        user.user_type(),
        Some(&UserType::PrivateUser),
        "default type"
    );
    assert_eq!(user.license_type(), Some(&License::Pro), "account default");
    assert_eq!(
        user.user_registration_status(),
        Some(&RegistrationStatus::Unregistered)
    );
    assert_eq!(user.user_invitation_status(), None);
    assert_eq!(user.invited_on(), None);
    assert_eq!(user.registered_on(), None);
    assert_eq!(user.primary_provisioned_number(), None);
    let pin = user.personal_pin().expect("PersonalPIN");
    assert!(
        pin.len() == 10 && pin.bytes().all(|b| b.is_ascii_digit()),
        "PersonalPIN {pin:?}"
    );

    let got = client
        .get_user()
        .account_id(&account)
        .user_id(user.user_id())
        .send()
        .await
        .expect("GetUser");
    assert_eq!(got.user(), Some(user));
    assert!(got.request_id().is_some());

    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users(), std::slice::from_ref(user));
}

#[tokio::test]
async fn create_user_of_type_shared_device() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Devices").await;
    let out = client
        .create_user()
        .account_id(&account)
        .email("room-1@example.com")
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .expect("CreateUser");
    let user = out.user().unwrap();
    assert_eq!(user.user_type(), Some(&UserType::SharedDevice));
    assert_eq!(user.display_name(), None, "no Username, no DisplayName");
}

#[tokio::test]
async fn create_user_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Validation").await;

    let f = service_error(client.create_user().account_id(&account).send().await);
    assert!(
        matches!(f.err, CreateUserError::BadRequestException(_)),
        "missing email: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");

    for email in ["not-an-email", "a@b", "@example.com", "a@example."] {
        let f = service_error(
            client
                .create_user()
                .account_id(&account)
                .email(email)
                .send()
                .await,
        );
        assert!(
            f.err.is_bad_request_exception(),
            "email {email}: {:?}",
            f.err
        );
        assert!(
            !f.message().contains(email),
            "the (sensitive) email is not echoed: {}",
            f.message()
        );
    }

    let f = service_error(
        client
            .create_user()
            .account_id(&account)
            .email("ok@example.com")
            .user_type(UserType::from("Bogus"))
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "{:?}", f.err);
    assert!(f.message().contains("Bogus"), "{}", f.message());

    let f = service_error(
        client
            .create_user()
            .account_id(" ")
            .email("ok@example.com")
            .send()
            .await,
    );
    assert!(
        f.err.is_bad_request_exception(),
        "blank account: {:?}",
        f.err
    );

    // Nothing was created by the refused requests.
    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert!(listed.users().is_empty());
}

#[tokio::test]
async fn create_user_duplicate_email_is_a_conflict_case_insensitively() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Conflicts").await;
    for (first, second) in [
        ("grace@example.com", "Grace@EXAMPLE.com"),
        ("Élodie@example.com", "élodie@example.com"),
        ("ÖRJAN@EXAMPLE.SE", "örjan@example.se"),
    ] {
        client
            .create_user()
            .account_id(&account)
            .email(first)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {first}: {e:?}"));
        for again in [first, second] {
            let f = service_error(
                client
                    .create_user()
                    .account_id(&account)
                    .email(again)
                    .send()
                    .await,
            );
            assert!(
                matches!(f.err, CreateUserError::ConflictException(_)),
                "{again} after {first}: {:?}",
                f.err
            );
            f.assert_wire(409, "ConflictException", "Conflict");
        }
    }
    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users().len(), 3, "no duplicate was created");

    // The same email in another account is no conflict.
    let other = server.account("Other").await;
    client
        .create_user()
        .account_id(&other)
        .email("grace@example.com")
        .send()
        .await
        .expect("same email, other account");
}

#[tokio::test]
async fn create_user_in_unknown_account_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = missing_id();
    let f = service_error(
        client
            .create_user()
            .account_id(&id)
            .email("a@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, CreateUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

#[tokio::test]
async fn get_user_unknown_user_or_account_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Lookup").await;
    let user_id = missing_id();
    let f = service_error(
        client
            .get_user()
            .account_id(&account)
            .user_id(&user_id)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert!(f.message().contains(&user_id), "{}", f.message());

    // A real user, asked for in the wrong account.
    let user = client
        .create_user()
        .account_id(&account)
        .email("real@example.com")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let other = server.account("Other").await;
    let f = service_error(
        client
            .get_user()
            .account_id(&other)
            .user_id(user.user_id())
            .send()
            .await,
    );
    assert!(f.err.is_not_found_exception(), "{:?}", f.err);

    let f = service_error(
        client
            .get_user()
            .account_id(missing_id())
            .user_id(user.user_id())
            .send()
            .await,
    );
    assert!(f.err.is_not_found_exception(), "{:?}", f.err);
    assert!(f.message().contains("account"), "{}", f.message());
}

// ---------------------------------------------------------------------------------------
// InviteUsers
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn invite_users_creates_pending_users() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Invites").await;
    let emails = ["b.one@example.com", "A.Two@Example.com", "çé@exemple.fr"];
    let before = now_millis();
    let out = client
        .invite_users()
        .account_id(&account)
        .set_user_email_list(Some(emails.iter().map(|e| e.to_string()).collect()))
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .expect("InviteUsers");
    let after = now_millis();
    assert!(out.request_id().is_some());
    let invites = out.invites();
    assert_eq!(invites.len(), 3);
    let mut invite_ids = HashSet::new();
    for (invite, email) in invites.iter().zip(emails) {
        assert_eq!(invite.email_address(), Some(email));
        assert_eq!(invite.status(), Some(&InviteStatus::Pending));
        let id = invite.invite_id().expect("InviteId");
        assert!(!id.is_empty());
        assert!(invite_ids.insert(id.to_string()), "InviteIds are distinct");
        assert!(
            invite
                .email_status()
                .is_some_and(|s| *s != EmailStatus::Failed),
            "EmailStatus {:?}",
            invite.email_status()
        );
    }

    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users().len(), 3);
    for user in listed.users() {
        assert!(emails.contains(&user.primary_email().unwrap()));
        assert!(is_uuid_v4(user.user_id()));
        assert_eq!(user.account_id(), Some(account.as_str()));
        assert_eq!(user.user_type(), Some(&UserType::SharedDevice));
        assert_eq!(user.license_type(), Some(&License::Pro));
        assert_eq!(
            user.user_registration_status(),
            Some(&RegistrationStatus::Unregistered)
        );
        assert_eq!(user.user_invitation_status(), Some(&InviteStatus::Pending));
        let invited = user.invited_on().expect("InvitedOn").to_millis().unwrap();
        assert!((before..=after).contains(&invited), "InvitedOn {invited}");
        let pin = user.personal_pin().unwrap_or_default();
        assert!(pin.len() == 10 && pin.bytes().all(|b| b.is_ascii_digit()));
    }

    // Without a UserType the invited users are PrivateUsers.
    let out = client
        .invite_users()
        .account_id(&account)
        .user_email_list("private@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(out.invites()[0].status(), Some(&InviteStatus::Pending));
    let listed = client
        .list_users()
        .account_id(&account)
        .user_email("private@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users().len(), 1);
    assert_eq!(listed.users()[0].user_type(), Some(&UserType::PrivateUser));
}

#[tokio::test]
async fn invite_users_on_the_wire_dates_invitations() {
    let server = TestServer::start().await;
    let account = server.account("Wire").await;
    let response = server
        .raw(
            "POST",
            &format!("/accounts/{account}/users?operation=add"),
            r#"{"UserEmailList":["wire@example.com"]}"#,
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.body);
    let users = server
        .raw("GET", &format!("/accounts/{account}/users"), "")
        .await;
    assert_eq!(users.status, 200, "{}", users.body);
    let invited = users.json()["Users"][0]["InvitedOn"]
        .as_str()
        .expect("InvitedOn")
        .to_string();
    assert!(is_iso8601_millis(&invited), "InvitedOn {invited:?}");
}

#[tokio::test]
async fn invite_users_with_an_existing_email_fails_that_invite() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Existing").await;
    let existing = client
        .create_user()
        .account_id(&account)
        .email("Taken@Example.com")
        .username("Already Here")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let out = client
        .invite_users()
        .account_id(&account)
        .user_email_list("taken@example.com")
        .user_email_list("new@example.com")
        .user_email_list("TAKEN@EXAMPLE.COM")
        .send()
        .await
        .expect("InviteUsers");
    let statuses: Vec<(Option<&str>, Option<&InviteStatus>)> = out
        .invites()
        .iter()
        .map(|i| (i.email_address(), i.status()))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some("taken@example.com"), Some(&InviteStatus::Failed)),
            (Some("new@example.com"), Some(&InviteStatus::Pending)),
            (Some("TAKEN@EXAMPLE.COM"), Some(&InviteStatus::Failed)),
        ]
    );
    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.users().len(),
        2,
        "the failed invites created no user"
    );
    let kept = client
        .get_user()
        .account_id(&account)
        .user_id(existing.user_id())
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.user(),
        Some(&existing),
        "the existing user is unchanged"
    );
}

#[tokio::test]
async fn invite_users_list_bounds_and_validation() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Bounds").await;
    let emails = |n: usize, tag: &str| -> Vec<String> {
        (0..n).map(|i| format!("{tag}{i}@example.com")).collect()
    };

    let f = service_error(
        client
            .invite_users()
            .account_id(&account)
            .set_user_email_list(Some(emails(51, "over")))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, InviteUsersError::BadRequestException(_)),
        "51 emails: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
    assert!(f.message().contains("userEmailList"), "{}", f.message());

    let f = service_error(
        client
            .invite_users()
            .account_id(&account)
            .set_user_email_list(Some(Vec::new()))
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "0 emails: {:?}", f.err);

    let f = service_error(
        client
            .invite_users()
            .account_id(&account)
            .user_email_list("fine@example.com")
            .user_email_list("not-an-email")
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "bad email: {:?}", f.err);

    let f = service_error(
        client
            .invite_users()
            .account_id(&account)
            .user_email_list("fine@example.com")
            .user_type(UserType::from("Bogus"))
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "bad type: {:?}", f.err);

    let listed = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert!(listed.users().is_empty(), "refused requests invite nobody");

    let out = client
        .invite_users()
        .account_id(&account)
        .set_user_email_list(Some(emails(50, "max")))
        .send()
        .await
        .expect("50 emails is the maximum");
    assert_eq!(out.invites().len(), 50);
    assert!(
        out.invites()
            .iter()
            .all(|i| i.status() == Some(&InviteStatus::Pending))
    );
    let listed = client
        .list_users()
        .account_id(&account)
        .max_results(200)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users().len(), 50);
}

#[tokio::test]
async fn invite_users_in_unknown_account_is_not_found() {
    let server = TestServer::start().await;
    let f = service_error(
        server
            .client()
            .invite_users()
            .account_id(missing_id())
            .user_email_list("a@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, InviteUsersError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
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
        let want: Vec<model::User> = users
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
    let doomed: Vec<model::User> = (0..150)
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
// Unsupported operations
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unsupported_operations_are_bad_requests() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Rooms").await;

    let f = service_error(client.list_rooms().account_id(&account).send().await);
    assert!(f.err.is_bad_request_exception(), "ListRooms: {:?}", f.err);
    f.assert_wire(400, "BadRequestException", "BadRequest");
    assert!(
        f.message().contains("not supported by this server"),
        "{}",
        f.message()
    );
    assert!(f.message().contains("ListRooms"), "{}", f.message());

    let f = service_error(
        client
            .create_room()
            .account_id(&account)
            .name("room")
            .send()
            .await,
    );
    assert!(f.err.is_bad_request_exception(), "CreateRoom: {:?}", f.err);
    assert!(f.message().contains("not supported"), "{}", f.message());

    let f = service_error(client.list_phone_numbers().send().await);
    assert!(
        f.err.is_bad_request_exception(),
        "ListPhoneNumbers: {:?}",
        f.err
    );
    assert!(f.message().contains("not supported"), "{}", f.message());
}

// ---------------------------------------------------------------------------------------
// Authentication, read-only keys, tenancy
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_secret_or_unknown_key_is_unauthorized() {
    let server = TestServer::start().await;
    let account = server.account("Auth").await;
    let mut wrong_secret = server.root.clone();
    wrong_secret.secret_access_key = format!("{}x", &wrong_secret.secret_access_key[1..]);
    let stored = server.new_key("333333333333", false).await;
    let mut stored_wrong = stored.clone();
    stored_wrong.secret_access_key = "0".repeat(40);
    let unknown = belfry::store::AccessKey::generate(ROOT_AWS_ACCOUNT, false);

    for (what, key) in [
        ("root key, wrong secret", &wrong_secret),
        ("stored key, wrong secret", &stored_wrong),
        ("unknown key", &unknown),
    ] {
        let client = server.client_for(key);
        let f = service_error(client.list_users().account_id(&account).send().await);
        assert!(
            matches!(f.err, ListUsersError::UnauthorizedClientException(_)),
            "{what}: {:?}",
            f.err
        );
        f.assert_wire(401, "UnauthorizedClientException", "Unauthorized");
        assert!(
            !f.message().contains(&server.root.secret_access_key),
            "no secret in the message"
        );
        let f = service_error(client.list_accounts().send().await);
        assert!(
            f.err.is_unauthorized_client_exception(),
            "{what}: {:?}",
            f.err
        );
        let f = service_error(client.create_account().name("x").send().await);
        assert!(
            f.err.is_unauthorized_client_exception(),
            "{what}: {:?}",
            f.err
        );
        let f = service_error(client.list_rooms().account_id(&account).send().await);
        assert!(
            f.err.is_unauthorized_client_exception(),
            "{what}, unsupported operation: {:?}",
            f.err
        );
    }
    // Nothing was created by the refused CreateAccount calls.
    let accounts = server.client().list_accounts().send().await.unwrap();
    assert_eq!(accounts.accounts().len(), 1);

    // The stored key with its right secret works.
    server
        .client_for(&stored)
        .list_accounts()
        .send()
        .await
        .expect("stored key");
}

#[tokio::test]
async fn read_only_key_reads_but_cannot_write() {
    let server = TestServer::start().await;
    let writer = server.client();
    let account = writer
        .create_account()
        .name("ReadOnly")
        .send()
        .await
        .unwrap()
        .account
        .unwrap();
    let account_id = account.account_id().to_string();
    let user = writer
        .create_user()
        .account_id(&account_id)
        .email("reader@example.com")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = server.new_key(ROOT_AWS_ACCOUNT, true).await;
    let reader = server.client_for(&key);

    let accounts = reader.list_accounts().send().await.expect("ListAccounts");
    assert_eq!(accounts.accounts(), std::slice::from_ref(&account));
    let got = reader
        .get_account()
        .account_id(&account_id)
        .send()
        .await
        .expect("GetAccount");
    assert_eq!(got.account(), Some(&account));
    let users = reader
        .list_users()
        .account_id(&account_id)
        .send()
        .await
        .expect("ListUsers");
    assert_eq!(users.users(), std::slice::from_ref(&user));
    let got = reader
        .get_user()
        .account_id(&account_id)
        .user_id(user.user_id())
        .send()
        .await
        .expect("GetUser");
    assert_eq!(got.user(), Some(&user));

    let f = service_error(reader.create_account().name("nope").send().await);
    assert!(
        matches!(f.err, CreateAccountError::ForbiddenException(_)),
        "CreateAccount: {:?}",
        f.err
    );
    f.assert_wire(403, "ForbiddenException", "Forbidden");
    let f = service_error(
        reader
            .create_user()
            .account_id(&account_id)
            .email("new@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, CreateUserError::ForbiddenException(_)),
        "CreateUser: {:?}",
        f.err
    );
    f.assert_wire(403, "ForbiddenException", "Forbidden");
    let f = service_error(
        reader
            .invite_users()
            .account_id(&account_id)
            .user_email_list("new@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, InviteUsersError::ForbiddenException(_)),
        "InviteUsers: {:?}",
        f.err
    );
    f.assert_wire(403, "ForbiddenException", "Forbidden");

    // Nothing was written.
    let accounts = writer.list_accounts().send().await.unwrap();
    assert_eq!(accounts.accounts().len(), 1);
    let users = writer
        .list_users()
        .account_id(&account_id)
        .send()
        .await
        .unwrap();
    assert_eq!(users.users().len(), 1);
}

#[tokio::test]
async fn foreign_tenant_sees_not_found_like_a_missing_account() {
    let server = TestServer::start().await;
    let owner = server.client();
    let account = owner
        .create_account()
        .name("Mine")
        .send()
        .await
        .unwrap()
        .account
        .unwrap();
    let account_id = account.account_id().to_string();
    let user = owner
        .create_user()
        .account_id(&account_id)
        .email("mine@example.com")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    let missing = missing_id();

    // The message for the foreign account, with its id blanked, equals the one for a missing
    // account with its id blanked.
    let same_shape = |foreign: &str, absent: &str| {
        assert_eq!(
            foreign.replace(&account_id, "<id>"),
            absent.replace(&missing, "<id>"),
            "a foreign account must be indistinguishable from a missing one"
        );
    };

    let foreign = service_error(stranger.get_account().account_id(&account_id).send().await);
    let absent = service_error(stranger.get_account().account_id(&missing).send().await);
    assert!(
        matches!(foreign.err, GetAccountError::NotFoundException(_)),
        "GetAccount: {:?}",
        foreign.err
    );
    foreign.assert_wire(404, "NotFoundException", "NotFound");
    same_shape(&foreign.message(), &absent.message());

    let foreign = service_error(stranger.list_users().account_id(&account_id).send().await);
    let absent = service_error(stranger.list_users().account_id(&missing).send().await);
    assert!(
        matches!(foreign.err, ListUsersError::NotFoundException(_)),
        "ListUsers: {:?}",
        foreign.err
    );
    foreign.assert_wire(404, "NotFoundException", "NotFound");
    same_shape(&foreign.message(), &absent.message());

    let foreign = service_error(
        stranger
            .get_user()
            .account_id(&account_id)
            .user_id(user.user_id())
            .send()
            .await,
    );
    let absent = service_error(
        stranger
            .get_user()
            .account_id(&missing)
            .user_id(user.user_id())
            .send()
            .await,
    );
    assert!(
        matches!(foreign.err, GetUserError::NotFoundException(_)),
        "GetUser: {:?}",
        foreign.err
    );
    same_shape(&foreign.message(), &absent.message());

    let foreign = service_error(
        stranger
            .create_user()
            .account_id(&account_id)
            .email("intruder@example.com")
            .send()
            .await,
    );
    let absent = service_error(
        stranger
            .create_user()
            .account_id(&missing)
            .email("intruder@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(foreign.err, CreateUserError::NotFoundException(_)),
        "CreateUser: {:?}",
        foreign.err
    );
    same_shape(&foreign.message(), &absent.message());

    let foreign = service_error(
        stranger
            .invite_users()
            .account_id(&account_id)
            .user_email_list("intruder@example.com")
            .send()
            .await,
    );
    let absent = service_error(
        stranger
            .invite_users()
            .account_id(&missing)
            .user_email_list("intruder@example.com")
            .send()
            .await,
    );
    assert!(
        matches!(foreign.err, InviteUsersError::NotFoundException(_)),
        "InviteUsers: {:?}",
        foreign.err
    );
    same_shape(&foreign.message(), &absent.message());

    // A token issued to the owner does not open the account to the stranger either.
    owner
        .create_user()
        .account_id(&account_id)
        .email("second@example.com")
        .send()
        .await
        .unwrap();
    let page = owner
        .list_users()
        .account_id(&account_id)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let token = page.next_token().expect("NextToken").to_string();
    let f = service_error(
        stranger
            .list_users()
            .account_id(&account_id)
            .max_results(1)
            .next_token(&token)
            .send()
            .await,
    );
    assert!(
        f.err.is_not_found_exception() || f.err.is_bad_request_exception(),
        "{:?}",
        f.err
    );

    // ListAccounts: each caller sees only its own accounts.
    let theirs = stranger
        .create_account()
        .name("Theirs")
        .send()
        .await
        .unwrap()
        .account
        .unwrap();
    assert_eq!(theirs.aws_account_id(), "222222222222");
    let listed = stranger.list_accounts().send().await.unwrap();
    assert_eq!(listed.accounts(), std::slice::from_ref(&theirs));
    let listed = stranger.list_accounts().name("Mine").send().await.unwrap();
    assert!(listed.accounts().is_empty());
    let listed = stranger
        .list_accounts()
        .user_email("mine@example.com")
        .send()
        .await
        .unwrap();
    assert!(
        listed.accounts().is_empty(),
        "user-email does not cross tenants"
    );
    let listed = owner.list_accounts().send().await.unwrap();
    assert_eq!(listed.accounts(), std::slice::from_ref(&account));

    // Nothing was written into the owner's account.
    let users = owner
        .list_users()
        .account_id(&account_id)
        .send()
        .await
        .unwrap();
    assert_eq!(users.users().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Ids").await;

    let a = client.list_accounts().send().await.unwrap();
    let b = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    let c = client
        .get_account()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    let ids = [a.request_id(), b.request_id(), c.request_id()];
    let ids: Vec<&str> = ids
        .iter()
        .map(|id| id.expect("request id on success"))
        .collect();
    assert!(ids.iter().all(|id| !id.is_empty()));
    let distinct: HashSet<&&str> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "request ids are distinct: {ids:?}"
    );

    let err = client
        .get_account()
        .account_id(missing_id())
        .send()
        .await
        .expect_err("missing account");
    let id = err
        .request_id()
        .expect("request id on an error")
        .to_string();
    assert!(!id.is_empty());
    let service_err = err.into_service_error();
    assert_eq!(service_err.request_id(), Some(id.as_str()));

    let err = client
        .list_users()
        .account_id(&account)
        .max_results(0)
        .send()
        .await
        .expect_err("validation error");
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));

    let bad_key = belfry::store::AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let err = server
        .client_for(&bad_key)
        .list_accounts()
        .send()
        .await
        .expect_err("unknown key");
    assert!(
        err.request_id().is_some_and(|id| !id.is_empty()),
        "request id on an authentication failure"
    );
}

// ---------------------------------------------------------------------------------------
// Wire-level probes of query handling
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_user_answers_201_on_the_wire() {
    let server = TestServer::start().await;
    let account = server.account("Wire").await;
    let response = server
        .raw(
            "POST",
            &format!("/accounts/{account}/users?operation=create"),
            r#"{"Email":"wire@example.com","Username":"Wire"}"#,
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.body);
    let user = &response.json()["User"];
    assert_eq!(user["PrimaryEmail"], "wire@example.com");
    assert_eq!(user["DisplayName"], "Wire");
    assert_eq!(user["UserType"], "PrivateUser");
    assert!(
        user.get("InvitedOn").is_none(),
        "absent members are omitted"
    );
}

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

#[tokio::test]
async fn read_only_key_is_forbidden_any_write_even_unsupported_ones() {
    let server = TestServer::start().await;
    let account = server.account("ReadOnly").await;
    let key = server.new_key(ROOT_AWS_ACCOUNT, true).await;
    let reader = server.client_for(&key);
    let f = service_error(
        reader
            .create_room()
            .account_id(&account)
            .name("room")
            .send()
            .await,
    );
    assert!(f.err.is_forbidden_exception(), "CreateRoom: {:?}", f.err);
    f.assert_wire(403, "ForbiddenException", "Forbidden");
    // An unsupported read is still a BadRequest for a read-only key.
    let f = service_error(reader.list_rooms().account_id(&account).send().await);
    assert!(f.err.is_bad_request_exception(), "ListRooms: {:?}", f.err);
}

#[tokio::test]
async fn list_users_token_does_not_continue_list_accounts() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Tokens").await;
    for i in 0..3 {
        server.account(&format!("more-{i}")).await;
    }
    seed_users(&server.store, ROOT_AWS_ACCOUNT, &account, 5).await;
    let page = client
        .list_users()
        .account_id(&account)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let token = page.next_token().expect("NextToken");
    let f = service_error(
        client
            .list_accounts()
            .max_results(1)
            .next_token(token)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, ListAccountsError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_create_user_with_one_email_creates_one_user() {
    let server = TestServer::start().await;
    let account = server.account("Race").await;
    let emails = [
        "race@example.com",
        "Race@Example.com",
        "RACE@EXAMPLE.COM",
        "rAce@example.COM",
        "race@EXAMPLE.com",
        "RaCe@eXample.com",
    ];
    let tasks: Vec<_> = emails
        .iter()
        .map(|email| {
            let client = server.client();
            let account = account.clone();
            let email = email.to_string();
            tokio::spawn(async move {
                client
                    .create_user()
                    .account_id(&account)
                    .email(&email)
                    .send()
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => created += 1,
            Err(e) => {
                let f = service_error::<(), _>(Err(e));
                assert!(
                    matches!(f.err, CreateUserError::ConflictException(_)),
                    "a racing duplicate: {:?}",
                    f.err
                );
            }
        }
    }
    assert_eq!(created, 1, "exactly one of the racing creates succeeds");
    let listed = server
        .client()
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users().len(), 1);
}
