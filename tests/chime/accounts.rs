//! Accounts: CreateAccount and GetAccount (the account as created, on the wire too, and its
//! errors), ListAccounts (name and user-email filters, pages, tokens of other operations),
//! UpdateAccount (name and default license, and what new users get from it) and DeleteAccount
//! (only once every user is suspended, and then the account is gone for every operation).

use std::collections::HashMap;

use aws_sdk_chime::operation::RequestId;
use aws_sdk_chime::operation::batch_unsuspend_user::BatchUnsuspendUserError;
use aws_sdk_chime::operation::create_account::CreateAccountError;
use aws_sdk_chime::operation::delete_account::DeleteAccountError;
use aws_sdk_chime::operation::get_account::GetAccountError;
use aws_sdk_chime::operation::get_account_settings::GetAccountSettingsError;
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::get_user_settings::GetUserSettingsError;
use aws_sdk_chime::operation::list_accounts::ListAccountsError;
use aws_sdk_chime::operation::list_users::ListUsersError;
use aws_sdk_chime::operation::update_account::UpdateAccountError;
use aws_sdk_chime::types::{
    Account, AccountStatus, AccountType, EmailStatus, InviteStatus, License, PhoneNumberStatus,
};
use belfry::model;

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The runs of digits in `message` once the ids are blanked out.
fn numbers_in(message: &str, ids: &[&str]) -> Vec<String> {
    let mut text = message.to_string();
    for id in ids {
        text = text.replace(id, "<id>");
    }
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------
// CreateAccount, GetAccount
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

// ---------------------------------------------------------------------------------------
// ListAccounts
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// UpdateAccount
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn update_account_renames_and_changes_the_default_license() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = create_account(&client, "Before").await;
    let id = before.account_id().to_string();

    let out = client
        .update_account()
        .account_id(&id)
        .name("After")
        .send()
        .await
        .expect("UpdateAccount name");
    let after = out.account().expect("Account").clone();
    assert_eq!(after.name(), "After");
    assert_eq!(after.account_id(), id);
    assert_eq!(after.aws_account_id(), ROOT_AWS_ACCOUNT);
    assert_eq!(after.account_type(), Some(&AccountType::Team));
    assert_eq!(after.created_timestamp(), before.created_timestamp());
    assert_eq!(after.default_license(), Some(&License::Pro));
    assert_eq!(after.supported_licenses(), before.supported_licenses());
    assert_eq!(after.account_status(), Some(&AccountStatus::Active));
    assert_eq!(get_account(&client, &id).await, after);
    assert_eq!(list_accounts(&client).await, vec![after.clone()]);

    for license in [
        License::Basic,
        License::Plus,
        License::ProTrial,
        License::Pro,
    ] {
        let out = client
            .update_account()
            .account_id(&id)
            .default_license(license.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAccount {license:?}: {e:?}"));
        let got = out.account().expect("Account");
        assert_eq!(got.default_license(), Some(&license));
        assert_eq!(got.name(), "After", "the name is kept");
        assert_eq!(got.created_timestamp(), before.created_timestamp());
        assert_eq!(&get_account(&client, &id).await, got);
    }

    // Both at once; names at the bounds of AccountName, counted in characters.
    for name in ["x".to_string(), "é".repeat(100), " padded ".to_string()] {
        let out = client
            .update_account()
            .account_id(&id)
            .name(&name)
            .default_license(License::Basic)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAccount {name:?}: {e:?}"));
        let got = out.account().expect("Account");
        assert_eq!(got.name(), name);
        assert_eq!(got.default_license(), Some(&License::Basic));
        assert_eq!(&get_account(&client, &id).await, got);
    }

    // The default license is what new users get.
    let user = create_user(&client, &id, "licensed@example.com").await;
    assert_eq!(user.license_type(), Some(&License::Basic));
    let invites = client
        .invite_users()
        .account_id(&id)
        .user_email_list("invited@example.com")
        .send()
        .await
        .expect("InviteUsers");
    assert_eq!(invites.invites().len(), 1);
    let invited = list_all(&client, &id)
        .await
        .into_iter()
        .find(|u| u.primary_email() == Some("invited@example.com"))
        .expect("invited user");
    assert_eq!(invited.license_type(), Some(&License::Basic));
}

#[tokio::test]
async fn update_account_refuses_bad_values_and_unknown_accounts() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = create_account(&client, "Stable").await;
    let id = account.account_id().to_string();

    let too_long = "n".repeat(101);
    let cases: [(&str, Option<&str>, Option<&str>); 7] = [
        ("empty name", Some(""), None),
        ("blank name", Some("   "), None),
        ("tab-only name", Some("\t"), None),
        ("101-character name", Some(too_long.as_str()), None),
        ("unknown license", None, Some("Bogus")),
        ("license in the wrong case", None, Some("pro")),
        (
            "valid name, unknown license",
            Some("Renamed"),
            Some("Enterprise"),
        ),
    ];
    for (what, name, license) in cases {
        let f = service_error(
            client
                .update_account()
                .account_id(&id)
                .set_name(name.map(str::to_string))
                .set_default_license(license.map(License::from))
                .send()
                .await,
        );
        assert!(
            matches!(f.err, UpdateAccountError::BadRequestException(_)),
            "{what}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }
    assert_eq!(get_account(&client, &id).await, account, "nothing changed");

    let missing = missing_id();
    let f = service_error(
        client
            .update_account()
            .account_id(&missing)
            .name("Ghost")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateAccountError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert_eq!(list_accounts(&client).await, vec![account]);
}

// ---------------------------------------------------------------------------------------
// DeleteAccount
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_account_needs_every_user_suspended_and_then_forgets_the_account() {
    let server = TestServer::start().await;
    let client = server.client();
    let doomed = create_account(&client, "Doomed").await;
    let survivor = create_account(&client, "Survivor").await;
    let a = doomed.account_id().to_string();
    let b = survivor.account_id().to_string();

    let emails = [
        "one@example.com",
        "Two@Example.com",
        "three@example.com",
        "four@example.com",
    ];
    let one = create_user(&client, &a, emails[0]).await;
    let two = create_user(&client, &a, emails[1]).await;
    client
        .invite_users()
        .account_id(&a)
        .user_email_list(emails[2])
        .send()
        .await
        .expect("InviteUsers");
    let four = seed_user_with_status(
        &server,
        &a,
        emails[3],
        model::RegistrationStatus::Registered,
    )
    .await;
    let three = list_all(&client, &a)
        .await
        .into_iter()
        .find(|u| u.primary_email() == Some(emails[2]))
        .expect("invited user")
        .user_id()
        .to_string();
    associate(&client, &a, one.user_id(), "+14155550123")
        .await
        .expect("AssociatePhoneNumberWithUser");
    let ids = [
        one.user_id().to_string(),
        two.user_id().to_string(),
        three,
        four,
    ];

    // Four users are not suspended.
    let f = service_error(client.delete_account().account_id(&a).send().await);
    assert!(
        matches!(f.err, DeleteAccountError::UnprocessableEntityException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(422, "UnprocessableEntityException", "Unprocessable");
    assert_eq!(
        numbers_in(&f.message(), &[&a]),
        vec!["4"],
        "the message names how many users are not suspended: {}",
        f.message()
    );

    // Two of them still are not.
    let out = client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&ids[0])
        .user_id_list(&ids[1])
        .send()
        .await
        .expect("BatchSuspendUser");
    assert!(out.user_errors().is_empty());
    let f = service_error(client.delete_account().account_id(&a).send().await);
    assert!(
        matches!(f.err, DeleteAccountError::UnprocessableEntityException(_)),
        "{:?}",
        f.err
    );
    assert_eq!(
        numbers_in(&f.message(), &[&a]),
        vec!["2"],
        "{}",
        f.message()
    );
    // The refused deletes changed nothing.
    assert_eq!(get_account(&client, &a).await, doomed);
    assert_eq!(list_all(&client, &a).await.len(), 4);

    let out = client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&ids[2])
        .user_id_list(&ids[3])
        .send()
        .await
        .expect("BatchSuspendUser");
    assert!(out.user_errors().is_empty());
    client
        .delete_account()
        .account_id(&a)
        .send()
        .await
        .expect("DeleteAccount once every user is suspended");

    // The account is gone for every operation.
    let f = service_error(client.get_account().account_id(&a).send().await);
    assert!(
        matches!(f.err, GetAccountError::NotFoundException(_)),
        "GetAccount: {:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(client.list_users().account_id(&a).send().await);
    assert!(
        matches!(f.err, ListUsersError::NotFoundException(_)),
        "ListUsers: {:?}",
        f.err
    );
    let f = service_error(
        client
            .get_user()
            .account_id(&a)
            .user_id(&ids[0])
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetUserError::NotFoundException(_)),
        "GetUser: {:?}",
        f.err
    );
    let f = service_error(client.get_account_settings().account_id(&a).send().await);
    assert!(
        matches!(f.err, GetAccountSettingsError::NotFoundException(_)),
        "GetAccountSettings: {:?}",
        f.err
    );
    let f = service_error(
        client
            .get_user_settings()
            .account_id(&a)
            .user_id(&ids[0])
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetUserSettingsError::NotFoundException(_)),
        "GetUserSettings: {:?}",
        f.err
    );
    let f = service_error(
        client
            .update_account()
            .account_id(&a)
            .name("Zombie")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateAccountError::NotFoundException(_)),
        "UpdateAccount: {:?}",
        f.err
    );
    let f = service_error(client.delete_account().account_id(&a).send().await);
    assert!(
        matches!(f.err, DeleteAccountError::NotFoundException(_)),
        "DeleteAccount again: {:?}",
        f.err
    );
    let f = service_error(
        client
            .batch_unsuspend_user()
            .account_id(&a)
            .user_id_list(&ids[0])
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchUnsuspendUserError::NotFoundException(_)),
        "BatchUnsuspendUser: {:?}",
        f.err
    );
    let f = service_error(
        client
            .create_user()
            .account_id(&a)
            .email("late@example.com")
            .send()
            .await,
    );
    assert!(f.err.is_not_found_exception(), "CreateUser: {:?}", f.err);
    let f = service_error(
        client
            .invite_users()
            .account_id(&a)
            .user_email_list("late@example.com")
            .send()
            .await,
    );
    assert!(f.err.is_not_found_exception(), "InviteUsers: {:?}", f.err);

    // Gone from ListAccounts, also when filtered by one of its users' emails.
    assert_eq!(list_accounts(&client).await, vec![survivor.clone()]);
    let listed = client
        .list_accounts()
        .user_email(emails[0])
        .send()
        .await
        .expect("ListAccounts by email");
    assert!(listed.accounts().is_empty(), "{listed:?}");

    // The same emails can be invited into another account, and into a new one.
    let fresh = create_account(&client, "Fresh")
        .await
        .account_id()
        .to_string();
    for account in [&b, &fresh] {
        let out = client
            .invite_users()
            .account_id(account)
            .set_user_email_list(Some(emails.iter().map(|e| e.to_string()).collect()))
            .send()
            .await
            .expect("InviteUsers with the deleted account's emails");
        assert_eq!(out.invites().len(), emails.len());
        for (invite, email) in out.invites().iter().zip(emails) {
            assert_eq!(invite.email_address(), Some(email));
            assert_eq!(invite.status(), Some(&InviteStatus::Pending), "{invite:?}");
            assert_eq!(invite.email_status(), Some(&EmailStatus::Sent));
        }
        let users = list_all(&client, account).await;
        assert_eq!(users.len(), emails.len());
        for u in &users {
            assert!(!ids.iter().any(|id| id == u.user_id()), "a new user: {u:?}");
            assert_eq!(u.account_id(), Some(account.as_str()));
        }
    }
    let listed = client
        .list_accounts()
        .user_email(emails[0])
        .send()
        .await
        .expect("ListAccounts by email");
    let names: Vec<&str> = listed.accounts().iter().map(Account::name).collect();
    assert_eq!(names, ["Survivor", "Fresh"]);

    // The deleted user's phone number is back in the inventory, unassigned, and free again.
    let number = client
        .get_phone_number()
        .phone_number_id("+14155550123")
        .send()
        .await
        .expect("GetPhoneNumber");
    let number = number.phone_number().expect("a number");
    assert_eq!(number.status(), Some(&PhoneNumberStatus::Unassigned));
    assert!(number.associations().is_empty(), "{number:?}");
    let taker = list_all(&client, &b).await.remove(0);
    client
        .associate_phone_number_with_user()
        .account_id(&b)
        .user_id(taker.user_id())
        .e164_phone_number("+14155550123")
        .send()
        .await
        .expect("the number of a deleted user can be taken");
    assert_eq!(
        get_user(&client, &b, taker.user_id())
            .await
            .primary_provisioned_number(),
        Some("+14155550123")
    );
}

#[tokio::test]
async fn empty_account_deletes_at_once_and_unknown_is_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = create_account(&client, "Empty").await;
    client
        .delete_account()
        .account_id(account.account_id())
        .send()
        .await
        .expect("DeleteAccount of an account without users");
    assert!(list_accounts(&client).await.is_empty());

    let f = service_error(
        client
            .delete_account()
            .account_id(missing_id())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeleteAccountError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}
