//! The whole account and user lifecycle through the unmodified Rust AWS SDK (aws-sdk-chime):
//! UpdateAccount, DeleteAccount, account settings, UpdateUser and BatchUpdateUser, suspension,
//! personal PINs, logout, user settings and phone numbers, each with field-level checks of
//! its happy path and every error it can raise as its typed exception; the visibility of every
//! change through GetUser and ListUsers (filters and earlier page tokens included); and, table-
//! driven over every served operation, read-only keys, foreign tenants and unsupported ones.

mod common;

use aws_sdk_chime::Client;
use aws_sdk_chime::error::ProvideErrorMetadata;
use aws_sdk_chime::operation::associate_phone_number_with_user::AssociatePhoneNumberWithUserError;
use aws_sdk_chime::operation::batch_suspend_user::BatchSuspendUserError;
use aws_sdk_chime::operation::batch_unsuspend_user::BatchUnsuspendUserError;
use aws_sdk_chime::operation::batch_update_user::BatchUpdateUserError;
use aws_sdk_chime::operation::delete_account::DeleteAccountError;
use aws_sdk_chime::operation::disassociate_phone_number_from_user::DisassociatePhoneNumberFromUserError;
use aws_sdk_chime::operation::get_account::GetAccountError;
use aws_sdk_chime::operation::get_account_settings::GetAccountSettingsError;
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::get_user_settings::GetUserSettingsError;
use aws_sdk_chime::operation::list_users::ListUsersError;
use aws_sdk_chime::operation::logout_user::LogoutUserError;
use aws_sdk_chime::operation::reset_personal_pin::ResetPersonalPINError;
use aws_sdk_chime::operation::update_account::UpdateAccountError;
use aws_sdk_chime::operation::update_account_settings::UpdateAccountSettingsError;
use aws_sdk_chime::operation::update_user::UpdateUserError;
use aws_sdk_chime::operation::update_user_settings::UpdateUserSettingsError;
use aws_sdk_chime::types::{
    Account, AccountSettings, AccountStatus, AccountType, AlexaForBusinessMetadata, EmailStatus,
    ErrorCode, InviteStatus, License, RegistrationStatus, TelephonySettings, UpdateUserRequestItem,
    User, UserError, UserSettings, UserType,
};
use belfry::model;
use common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An id that names nothing.
fn missing_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

const ROOM_ARN: &str = "arn:aws:a4b:us-east-1:123456789012:room/abc";

async fn create_account(client: &Client, name: &str) -> Account {
    client
        .create_account()
        .name(name)
        .send()
        .await
        .expect("CreateAccount")
        .account
        .expect("Account")
}

async fn create_user(client: &Client, account_id: &str, email: &str) -> User {
    client
        .create_user()
        .account_id(account_id)
        .email(email)
        .send()
        .await
        .expect("CreateUser")
        .user
        .expect("User")
}

async fn get_user(client: &Client, account_id: &str, user_id: &str) -> User {
    client
        .get_user()
        .account_id(account_id)
        .user_id(user_id)
        .send()
        .await
        .expect("GetUser")
        .user
        .expect("User")
}

async fn get_account(client: &Client, account_id: &str) -> Account {
    client
        .get_account()
        .account_id(account_id)
        .send()
        .await
        .expect("GetAccount")
        .account
        .expect("Account")
}

/// Every user of the account, walking ListUsers to its end.
async fn list_all(client: &Client, account_id: &str) -> Vec<User> {
    let mut users = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_users()
            .account_id(account_id)
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListUsers");
        users.extend(page.users().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return users,
        }
    }
}

/// Every account of the client's AWS account.
async fn list_accounts(client: &Client) -> Vec<Account> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_accounts()
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListAccounts");
        accounts.extend(page.accounts().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return accounts,
        }
    }
}

/// Asserts that GetUser and ListUsers (unfiltered, and filtered by the user's email) both
/// show exactly `expected`, as the operation that changed the user returned it.
async fn assert_visible(client: &Client, expected: &User) {
    let account_id = expected.account_id().expect("AccountId");
    let got = get_user(client, account_id, expected.user_id()).await;
    assert_eq!(&got, expected, "GetUser shows the change");
    let listed: Vec<User> = list_all(client, account_id)
        .await
        .into_iter()
        .filter(|u| u.user_id() == expected.user_id())
        .collect();
    assert_eq!(listed, vec![expected.clone()], "ListUsers shows the change");
    let filtered = client
        .list_users()
        .account_id(account_id)
        .user_email(expected.primary_email().expect("PrimaryEmail"))
        .send()
        .await
        .expect("ListUsers by email");
    assert_eq!(
        filtered.users(),
        std::slice::from_ref(expected),
        "ListUsers filtered by email shows the change"
    );
}

/// The members of a user that no lifecycle operation but the named ones may change.
#[derive(Debug, PartialEq)]
struct Identity {
    user_id: String,
    account_id: Option<String>,
    primary_email: Option<String>,
    display_name: Option<String>,
    invitation_status: Option<InviteStatus>,
    registered_on: Option<aws_sdk_chime::primitives::DateTime>,
    invited_on: Option<aws_sdk_chime::primitives::DateTime>,
}

fn identity(u: &User) -> Identity {
    Identity {
        user_id: u.user_id().to_string(),
        account_id: u.account_id().map(str::to_string),
        primary_email: u.primary_email().map(str::to_string),
        display_name: u.display_name().map(str::to_string),
        invitation_status: u.user_invitation_status().cloned(),
        registered_on: u.registered_on().cloned(),
        invited_on: u.invited_on().cloned(),
    }
}

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

fn telephony(inbound: bool, outbound: bool, sms: bool) -> UserSettings {
    UserSettings::builder()
        .telephony(
            TelephonySettings::builder()
                .inbound_calling(inbound)
                .outbound_calling(outbound)
                .sms(sms)
                .build()
                .expect("TelephonySettings"),
        )
        .build()
}

async fn user_settings(client: &Client, account_id: &str, user_id: &str) -> (bool, bool, bool) {
    let out = client
        .get_user_settings()
        .account_id(account_id)
        .user_id(user_id)
        .send()
        .await
        .expect("GetUserSettings");
    let t = out
        .user_settings()
        .and_then(UserSettings::telephony)
        .expect("UserSettings.Telephony");
    (t.inbound_calling(), t.outbound_calling(), t.sms())
}

async fn account_settings(client: &Client, account_id: &str) -> (Option<bool>, Option<bool>) {
    let out = client
        .get_account_settings()
        .account_id(account_id)
        .send()
        .await
        .expect("GetAccountSettings");
    let s = out.account_settings().expect("AccountSettings");
    (s.disable_remote_control(), s.enable_dial_out())
}

fn item(user_id: &str) -> aws_sdk_chime::types::builders::UpdateUserRequestItemBuilder {
    UpdateUserRequestItem::builder().user_id(user_id)
}

fn built(b: aws_sdk_chime::types::builders::UpdateUserRequestItemBuilder) -> UpdateUserRequestItem {
    b.build().expect("UpdateUserRequestItem")
}

fn alexa(enabled: bool, arn: &str) -> AlexaForBusinessMetadata {
    AlexaForBusinessMetadata::builder()
        .is_alexa_for_business_enabled(enabled)
        .alexa_for_business_room_arn(arn)
        .build()
}

/// Asserts that a batch reported exactly `ids` as not found, each with a message.
fn assert_not_found_errors(errors: &[UserError], ids: &[&str]) {
    let got: Vec<&str> = errors.iter().filter_map(UserError::user_id).collect();
    assert_eq!(got, ids, "UserErrors name the unknown users: {errors:?}");
    for e in errors {
        assert_eq!(e.error_code(), Some(&ErrorCode::NotFound), "{e:?}");
        assert!(
            e.error_message().is_some_and(|m| !m.is_empty()),
            "UserError message: {e:?}"
        );
    }
}

/// A user of `account_id` put directly in the store with the given status.
async fn seed_user_with_status(
    server: &TestServer,
    account_id: &str,
    email: &str,
    status: model::RegistrationStatus,
) -> String {
    let mut user = make_user(account_id, email, model::UserType::PrivateUser);
    user.registration_status = status;
    if status == model::RegistrationStatus::Registered {
        user.registered_on_ms = Some(now_millis() - 86_400_000);
    }
    server
        .store
        .insert_users(ROOT_AWS_ACCOUNT, account_id, std::slice::from_ref(&user))
        .await
        .expect("insert user");
    user.user_id
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
    client
        .associate_phone_number_with_user()
        .account_id(&a)
        .user_id(one.user_id())
        .e164_phone_number("+14155550123")
        .send()
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

    // The deleted user's phone number is free again.
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

// ---------------------------------------------------------------------------------------
// Status codes of the lifecycle operations on the wire
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_operations_answer_their_modeled_status_on_the_wire() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Wire").await;
    let user = create_user(&client, &a, "wire@example.com").await;
    let u = user.user_id();

    let cases: Vec<(&str, String, String, u16)> = vec![
        (
            "PUT",
            format!("/accounts/{a}/settings"),
            r#"{"AccountSettings":{"EnableDialOut":false}}"#.to_string(),
            204,
        ),
        (
            "POST",
            format!("/accounts/{a}/users/{u}?operation=logout"),
            String::new(),
            204,
        ),
        (
            "PUT",
            format!("/accounts/{a}/users/{u}/settings"),
            r#"{"UserSettings":{"Telephony":{"InboundCalling":false,"OutboundCalling":true,"SMS":true}}}"#
                .to_string(),
            204,
        ),
        (
            "POST",
            format!("/accounts/{a}/users/{u}?operation=associate-phone-number"),
            r#"{"E164PhoneNumber":"+14155550100"}"#.to_string(),
            200,
        ),
        (
            "POST",
            format!("/accounts/{a}/users/{u}?operation=disassociate-phone-number"),
            String::new(),
            200,
        ),
        (
            "POST",
            format!("/accounts/{a}/users/{u}?operation=reset-personal-pin"),
            String::new(),
            200,
        ),
        (
            "POST",
            format!("/accounts/{a}/users/{u}"),
            r#"{"LicenseType":"Basic"}"#.to_string(),
            200,
        ),
        (
            "POST",
            format!("/accounts/{a}/users?operation=suspend"),
            format!(r#"{{"UserIdList":["{u}"]}}"#),
            200,
        ),
        (
            "POST",
            format!("/accounts/{a}"),
            r#"{"Name":"Wired"}"#.to_string(),
            200,
        ),
    ];
    for (method, path, body, status) in cases {
        let r = server.raw(method, &path, &body).await;
        assert_eq!(r.status, status, "{method} {path}: {r:?}");
        assert!(r.header("x-amzn-RequestId").is_some(), "{method} {path}");
        if status == 204 {
            assert!(r.body.is_empty(), "{method} {path}: no body with 204");
        } else {
            assert!(r.json().is_object(), "{method} {path}: {}", r.body);
        }
    }

    let r = server.raw("DELETE", &format!("/accounts/{a}"), "").await;
    assert_eq!(r.status, 204, "DeleteAccount: {r:?}");
    assert!(r.body.is_empty());
    assert!(r.header("x-amzn-RequestId").is_some());
}

// ---------------------------------------------------------------------------------------
// Account settings
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn account_settings_default_and_change_only_the_given_members() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Settings").await;
    let other = server.account("Other").await;

    assert_eq!(
        account_settings(&client, &a).await,
        (Some(false), Some(true))
    );

    let steps = [
        (Some(true), None, (true, true)),
        (None, Some(false), (true, false)),
        (None, None, (true, false)),
        (Some(false), Some(true), (false, true)),
        (Some(true), Some(false), (true, false)),
    ];
    for (remote, dial_out, (want_remote, want_dial_out)) in steps {
        client
            .update_account_settings()
            .account_id(&a)
            .account_settings(
                AccountSettings::builder()
                    .set_disable_remote_control(remote)
                    .set_enable_dial_out(dial_out)
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAccountSettings {remote:?} {dial_out:?}: {e:?}"));
        assert_eq!(
            account_settings(&client, &a).await,
            (Some(want_remote), Some(want_dial_out)),
            "after setting {remote:?} {dial_out:?}"
        );
    }
    assert_eq!(
        account_settings(&client, &other).await,
        (Some(false), Some(true)),
        "settings belong to one account"
    );

    // AccountSettings is required.
    let f = service_error(client.update_account_settings().account_id(&a).send().await);
    assert!(
        matches!(f.err, UpdateAccountSettingsError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
    assert_eq!(
        account_settings(&client, &a).await,
        (Some(true), Some(false))
    );

    let missing = missing_id();
    let f = service_error(
        client
            .get_account_settings()
            .account_id(&missing)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetAccountSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .update_account_settings()
            .account_id(&missing)
            .account_settings(AccountSettings::builder().enable_dial_out(false).build())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateAccountSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

// ---------------------------------------------------------------------------------------
// UpdateUser
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn update_user_changes_license_type_and_alexa_metadata() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Updates").await;
    let before = create_user(&client, &a, "updated@example.com").await;
    let u = before.user_id().to_string();
    assert_eq!(before.license_type(), Some(&License::Pro));
    assert_eq!(before.user_type(), Some(&UserType::PrivateUser));
    assert_eq!(before.alexa_for_business_metadata(), None);
    let raw = server
        .raw("GET", &format!("/accounts/{a}/users/{u}"), "")
        .await;
    assert!(
        raw.json()["User"].get("AlexaForBusinessMetadata").is_none(),
        "no AlexaForBusinessMetadata until it is set: {}",
        raw.body
    );

    let out = client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .license_type(License::Basic)
        .send()
        .await
        .expect("UpdateUser LicenseType");
    let after = out.user().expect("User").clone();
    assert_eq!(after.license_type(), Some(&License::Basic));
    assert_eq!(after.user_type(), Some(&UserType::PrivateUser));
    assert_eq!(after.alexa_for_business_metadata(), None);
    assert_eq!(after.personal_pin(), before.personal_pin());
    assert_eq!(
        after.user_registration_status(),
        before.user_registration_status()
    );
    assert_eq!(identity(&after), identity(&before));
    assert_visible(&client, &after).await;

    let out = client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .user_type(UserType::SharedDevice)
        .send()
        .await
        .expect("UpdateUser UserType");
    let after = out.user().expect("User").clone();
    assert_eq!(after.user_type(), Some(&UserType::SharedDevice));
    assert_eq!(after.license_type(), Some(&License::Basic), "license kept");
    assert_eq!(identity(&after), identity(&before));
    assert_visible(&client, &after).await;

    let out = client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .alexa_for_business_metadata(alexa(true, ROOM_ARN))
        .send()
        .await
        .expect("UpdateUser AlexaForBusinessMetadata");
    let after = out.user().expect("User").clone();
    let meta = after
        .alexa_for_business_metadata()
        .expect("AlexaForBusinessMetadata once set");
    assert_eq!(meta.is_alexa_for_business_enabled(), Some(true));
    assert_eq!(meta.alexa_for_business_room_arn(), Some(ROOM_ARN));
    assert_eq!(after.user_type(), Some(&UserType::SharedDevice));
    assert_eq!(after.license_type(), Some(&License::Basic));
    assert_eq!(identity(&after), identity(&before));
    assert_visible(&client, &after).await;
    let raw = server
        .raw("GET", &format!("/accounts/{a}/users/{u}"), "")
        .await;
    assert_eq!(
        raw.json()["User"]["AlexaForBusinessMetadata"],
        serde_json::json!({"IsAlexaForBusinessEnabled": true, "AlexaForBusinessRoomArn": ROOM_ARN})
    );

    // Everything at once.
    let out = client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .license_type(License::ProTrial)
        .user_type(UserType::PrivateUser)
        .alexa_for_business_metadata(alexa(false, "arn:aws:a4b:eu-west-1:210987654321:room/xyz"))
        .send()
        .await
        .expect("UpdateUser all members");
    let after = out.user().expect("User").clone();
    assert_eq!(after.license_type(), Some(&License::ProTrial));
    assert_eq!(after.user_type(), Some(&UserType::PrivateUser));
    let meta = after.alexa_for_business_metadata().expect("metadata");
    assert_eq!(meta.is_alexa_for_business_enabled(), Some(false));
    assert_eq!(
        meta.alexa_for_business_room_arn(),
        Some("arn:aws:a4b:eu-west-1:210987654321:room/xyz")
    );
    assert_visible(&client, &after).await;

    // An update with nothing to change returns the user as it is.
    let out = client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .send()
        .await
        .expect("UpdateUser without members");
    assert_eq!(out.user(), Some(&after));

    // Another user of the account is untouched.
    let bystander = create_user(&client, &a, "bystander@example.com").await;
    client
        .update_user()
        .account_id(&a)
        .user_id(&u)
        .license_type(License::Plus)
        .send()
        .await
        .expect("UpdateUser");
    assert_visible(&client, &bystander).await;
}

#[tokio::test]
async fn update_user_refuses_bad_values_and_unknown_users() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Refusals").await;
    let user = create_user(&client, &a, "refused@example.com").await;
    let u = user.user_id().to_string();

    let f = service_error(
        client
            .update_user()
            .account_id(&a)
            .user_id(&u)
            .license_type(License::from("Bogus"))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserError::BadRequestException(_)),
        "LicenseType: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");

    let f = service_error(
        client
            .update_user()
            .account_id(&a)
            .user_id(&u)
            .user_type(UserType::from("Robot"))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserError::BadRequestException(_)),
        "UserType: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");

    for arn in ["not-an-arn", "arn:aws", "room/abc", ""] {
        let f = service_error(
            client
                .update_user()
                .account_id(&a)
                .user_id(&u)
                .license_type(License::Basic)
                .alexa_for_business_metadata(alexa(true, arn))
                .send()
                .await,
        );
        assert!(
            matches!(f.err, UpdateUserError::BadRequestException(_)),
            "RoomArn {arn:?}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        if !arn.is_empty() {
            assert!(
                !f.message().contains(arn),
                "the RoomArn is sensitive and not echoed: {}",
                f.message()
            );
        }
    }
    assert_visible(&client, &user).await;

    let missing = missing_id();
    let f = service_error(
        client
            .update_user()
            .account_id(&a)
            .user_id(&missing)
            .license_type(License::Basic)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserError::NotFoundException(_)),
        "unknown user: {:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .update_user()
            .account_id(&missing)
            .user_id(&u)
            .license_type(License::Basic)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserError::NotFoundException(_)),
        "unknown account: {:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    // A user id of another account of the same owner is not found in this one.
    let b = server.account("Elsewhere").await;
    let f = service_error(
        client
            .update_user()
            .account_id(&b)
            .user_id(&u)
            .license_type(License::Basic)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserError::NotFoundException(_)),
        "user of another account: {:?}",
        f.err
    );
    assert_visible(&client, &user).await;
}

// ---------------------------------------------------------------------------------------
// BatchUpdateUser
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_update_user_applies_items_and_reports_unknown_users() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Batch").await;
    let u1 = create_user(&client, &a, "b1@example.com").await;
    let u2 = create_user(&client, &a, "b2@example.com").await;
    let u3 = create_user(&client, &a, "b3@example.com").await;

    let out = client
        .batch_update_user()
        .account_id(&a)
        .update_user_request_items(built(item(u1.user_id()).license_type(License::Basic)))
        .update_user_request_items(built(item(u2.user_id()).user_type(UserType::SharedDevice)))
        .update_user_request_items(built(
            item(u3.user_id()).alexa_for_business_metadata(alexa(false, ROOM_ARN)),
        ))
        .send()
        .await
        .expect("BatchUpdateUser");
    assert!(out.user_errors().is_empty(), "{:?}", out.user_errors());
    let raw = server
        .raw(
            "POST",
            &format!("/accounts/{a}/users"),
            &format!(
                r#"{{"UpdateUserRequestItems":[{{"UserId":"{}","LicenseType":"Basic"}}]}}"#,
                u1.user_id()
            ),
        )
        .await;
    assert_eq!(raw.status, 200, "{raw:?}");
    assert_eq!(raw.json()["UserErrors"], serde_json::json!([]));

    let g1 = get_user(&client, &a, u1.user_id()).await;
    assert_eq!(g1.license_type(), Some(&License::Basic));
    assert_eq!(g1.user_type(), Some(&UserType::PrivateUser));
    assert_eq!(identity(&g1), identity(&u1));
    let g2 = get_user(&client, &a, u2.user_id()).await;
    assert_eq!(g2.user_type(), Some(&UserType::SharedDevice));
    assert_eq!(g2.license_type(), Some(&License::Pro));
    let g3 = get_user(&client, &a, u3.user_id()).await;
    let meta = g3.alexa_for_business_metadata().expect("metadata");
    assert_eq!(meta.is_alexa_for_business_enabled(), Some(false));
    assert_eq!(meta.alexa_for_business_room_arn(), Some(ROOM_ARN));
    for g in [&g1, &g2, &g3] {
        assert_visible(&client, g).await;
    }

    // An unknown user is reported; the other items are applied.
    let missing = missing_id();
    let out = client
        .batch_update_user()
        .account_id(&a)
        .update_user_request_items(built(item(u1.user_id()).license_type(License::Plus)))
        .update_user_request_items(built(item(&missing).license_type(License::Plus)))
        .update_user_request_items(built(item(u2.user_id()).license_type(License::ProTrial)))
        .send()
        .await
        .expect("BatchUpdateUser with an unknown user");
    assert_not_found_errors(out.user_errors(), &[&missing]);
    let g1 = get_user(&client, &a, u1.user_id()).await;
    assert_eq!(g1.license_type(), Some(&License::Plus));
    let g2 = get_user(&client, &a, u2.user_id()).await;
    assert_eq!(g2.license_type(), Some(&License::ProTrial));
    assert_eq!(g2.user_type(), Some(&UserType::SharedDevice));
    assert_visible(&client, &g1).await;
    assert_visible(&client, &g2).await;
    assert_visible(&client, &g3).await;

    // A user of another account is unknown here.
    let b = server.account("Other").await;
    let stranger = create_user(&client, &b, "stranger@example.com").await;
    let out = client
        .batch_update_user()
        .account_id(&a)
        .update_user_request_items(built(item(stranger.user_id()).license_type(License::Basic)))
        .send()
        .await
        .expect("BatchUpdateUser");
    assert_not_found_errors(out.user_errors(), &[stranger.user_id()]);
    assert_visible(&client, &stranger).await;

    // Unknown account.
    let f = service_error(
        client
            .batch_update_user()
            .account_id(missing_id())
            .update_user_request_items(built(item(u1.user_id()).license_type(License::Basic)))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchUpdateUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

#[tokio::test]
async fn batch_update_user_takes_one_to_twenty_items() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Bounds").await;
    let user = create_user(&client, &a, "bounds@example.com").await;
    let u = user.user_id().to_string();

    let f = service_error(client.batch_update_user().account_id(&a).send().await);
    assert!(
        matches!(f.err, BatchUpdateUserError::BadRequestException(_)),
        "no list: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
    let f = service_error(
        client
            .batch_update_user()
            .account_id(&a)
            .set_update_user_request_items(Some(Vec::new()))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchUpdateUserError::BadRequestException(_)),
        "0 items: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");

    let items = |n: usize| -> Vec<UpdateUserRequestItem> {
        std::iter::once(u.clone())
            .chain(std::iter::repeat_with(missing_id))
            .take(n)
            .map(|id| built(item(&id).license_type(License::Basic)))
            .collect()
    };
    let f = service_error(
        client
            .batch_update_user()
            .account_id(&a)
            .set_update_user_request_items(Some(items(21)))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchUpdateUserError::BadRequestException(_)),
        "21 items: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
    assert_visible(&client, &user).await;

    let twenty = items(20);
    let out = client
        .batch_update_user()
        .account_id(&a)
        .set_update_user_request_items(Some(twenty.clone()))
        .send()
        .await
        .expect("20 items");
    let unknown: Vec<&str> = twenty[1..].iter().map(|i| i.user_id()).collect();
    assert_not_found_errors(out.user_errors(), &unknown);
    let got = get_user(&client, &a, &u).await;
    assert_eq!(got.license_type(), Some(&License::Basic));
    assert_visible(&client, &got).await;
}

#[tokio::test]
async fn batch_update_user_with_an_invalid_item_changes_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Atomic").await;
    let u1 = create_user(&client, &a, "a1@example.com").await;
    let u2 = create_user(&client, &a, "a2@example.com").await;
    let u3 = create_user(&client, &a, "a3@example.com").await;
    let before = list_all(&client, &a).await;

    let invalid_items = [
        (
            "LicenseType Bogus",
            built(item(u2.user_id()).license_type(License::from("Bogus"))),
        ),
        (
            "UserType Robot",
            built(item(u2.user_id()).user_type(UserType::from("Robot"))),
        ),
        (
            "RoomArn not-an-arn",
            built(item(u2.user_id()).alexa_for_business_metadata(alexa(true, "not-an-arn"))),
        ),
        (
            "blank UserId",
            built(item(" ").license_type(License::Basic)),
        ),
    ];
    for (what, invalid) in invalid_items {
        let f = service_error(
            client
                .batch_update_user()
                .account_id(&a)
                .update_user_request_items(built(
                    item(u1.user_id())
                        .license_type(License::Basic)
                        .user_type(UserType::SharedDevice),
                ))
                .update_user_request_items(invalid)
                .update_user_request_items(built(
                    item(u3.user_id()).alexa_for_business_metadata(alexa(true, ROOM_ARN)),
                ))
                .send()
                .await,
        );
        assert!(
            matches!(f.err, BatchUpdateUserError::BadRequestException(_)),
            "{what}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        assert_eq!(
            list_all(&client, &a).await,
            before,
            "{what}: no item of a refused batch is applied"
        );
    }
}

// ---------------------------------------------------------------------------------------
// BatchSuspendUser, BatchUnsuspendUser
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn suspension_restores_exactly_the_previous_status() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Suspensions").await;
    let registered = seed_user_with_status(
        &server,
        &a,
        "reg@example.com",
        model::RegistrationStatus::Registered,
    )
    .await;
    let unregistered = create_user(&client, &a, "unreg@example.com")
        .await
        .user_id()
        .to_string();
    client
        .invite_users()
        .account_id(&a)
        .user_email_list("pending@example.com")
        .send()
        .await
        .expect("InviteUsers");
    let pending = list_all(&client, &a)
        .await
        .into_iter()
        .find(|u| u.primary_email() == Some("pending@example.com"))
        .expect("invited user")
        .user_id()
        .to_string();
    let ids = [registered.clone(), unregistered.clone(), pending.clone()];
    let mut before = Vec::new();
    for id in &ids {
        before.push(get_user(&client, &a, id).await);
    }
    assert_eq!(
        before[0].user_registration_status(),
        Some(&RegistrationStatus::Registered)
    );
    assert!(before[0].registered_on().is_some());
    assert_eq!(
        before[1].user_registration_status(),
        Some(&RegistrationStatus::Unregistered)
    );
    assert_eq!(
        before[2].user_registration_status(),
        Some(&RegistrationStatus::Unregistered)
    );
    assert_eq!(
        before[2].user_invitation_status(),
        Some(&InviteStatus::Pending)
    );

    let missing = missing_id();
    let out = client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&registered)
        .user_id_list(&missing)
        .user_id_list(&unregistered)
        .user_id_list(&pending)
        .send()
        .await
        .expect("BatchSuspendUser");
    assert_not_found_errors(out.user_errors(), &[&missing]);
    for b in &before {
        let got = get_user(&client, &a, b.user_id()).await;
        assert_eq!(
            got.user_registration_status(),
            Some(&RegistrationStatus::Suspended),
            "{}",
            b.user_id()
        );
        assert_eq!(identity(&got), identity(b), "only the status changes");
        assert_eq!(got.license_type(), b.license_type());
        assert_eq!(got.personal_pin(), b.personal_pin());
        assert_visible(&client, &got).await;
    }

    // Suspending a suspended user is not an error and forgets nothing.
    let out = client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&registered)
        .user_id_list(&pending)
        .send()
        .await
        .expect("BatchSuspendUser again");
    assert!(out.user_errors().is_empty(), "{:?}", out.user_errors());
    assert_eq!(
        get_user(&client, &a, &registered)
            .await
            .user_registration_status(),
        Some(&RegistrationStatus::Suspended)
    );

    let out = client
        .batch_unsuspend_user()
        .account_id(&a)
        .user_id_list(&registered)
        .user_id_list(&unregistered)
        .user_id_list(&missing)
        .user_id_list(&pending)
        .send()
        .await
        .expect("BatchUnsuspendUser");
    assert_not_found_errors(out.user_errors(), &[&missing]);
    for b in &before {
        let got = get_user(&client, &a, b.user_id()).await;
        assert_eq!(&got, b, "unsuspending restores the user exactly");
        assert_visible(&client, &got).await;
    }

    // The cycle repeats.
    client
        .batch_suspend_user()
        .account_id(&a)
        .user_id_list(&registered)
        .send()
        .await
        .expect("BatchSuspendUser");
    client
        .batch_unsuspend_user()
        .account_id(&a)
        .user_id_list(&registered)
        .send()
        .await
        .expect("BatchUnsuspendUser");
    assert_eq!(get_user(&client, &a, &registered).await, before[0]);

    let f = service_error(
        client
            .batch_suspend_user()
            .account_id(missing_id())
            .user_id_list(&registered)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchSuspendUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .batch_unsuspend_user()
            .account_id(missing_id())
            .user_id_list(&registered)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, BatchUnsuspendUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

#[tokio::test]
async fn suspend_and_unsuspend_take_one_to_fifty_ids() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("SuspendBounds").await;
    let user = create_user(&client, &a, "bounded@example.com").await;
    let u = user.user_id().to_string();
    let ids = |n: usize| -> Vec<String> {
        std::iter::once(u.clone())
            .chain(std::iter::repeat_with(missing_id))
            .take(n)
            .collect()
    };
    let status = |user: &User| user.user_registration_status().cloned();

    // Suspend: no list, 0 and 51 ids are refused and change nothing.
    for (what, list) in [
        ("no list", None),
        ("0 ids", Some(ids(0))),
        ("51 ids", Some(ids(51))),
    ] {
        let f = service_error(
            client
                .batch_suspend_user()
                .account_id(&a)
                .set_user_id_list(list)
                .send()
                .await,
        );
        assert!(
            matches!(f.err, BatchSuspendUserError::BadRequestException(_)),
            "suspend, {what}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        assert_eq!(get_user(&client, &a, &u).await, user, "suspend, {what}");
    }
    let fifty = ids(50);
    let out = client
        .batch_suspend_user()
        .account_id(&a)
        .set_user_id_list(Some(fifty.clone()))
        .send()
        .await
        .expect("suspend 50 ids");
    let unknown: Vec<&str> = fifty[1..].iter().map(String::as_str).collect();
    assert_not_found_errors(out.user_errors(), &unknown);
    let suspended = get_user(&client, &a, &u).await;
    assert_eq!(status(&suspended), Some(RegistrationStatus::Suspended));

    // Unsuspend: the same bounds.
    for (what, list) in [
        ("no list", None),
        ("0 ids", Some(ids(0))),
        ("51 ids", Some(ids(51))),
    ] {
        let f = service_error(
            client
                .batch_unsuspend_user()
                .account_id(&a)
                .set_user_id_list(list)
                .send()
                .await,
        );
        assert!(
            matches!(f.err, BatchUnsuspendUserError::BadRequestException(_)),
            "unsuspend, {what}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        assert_eq!(
            get_user(&client, &a, &u).await,
            suspended,
            "unsuspend, {what}"
        );
    }
    let out = client
        .batch_unsuspend_user()
        .account_id(&a)
        .set_user_id_list(Some(fifty.clone()))
        .send()
        .await
        .expect("unsuspend 50 ids");
    assert_not_found_errors(out.user_errors(), &unknown);
    assert_eq!(get_user(&client, &a, &u).await, user);
}

// ---------------------------------------------------------------------------------------
// ResetPersonalPIN, LogoutUser
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_personal_pin_issues_a_new_ten_digit_pin() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Pins").await;
    let mut previous = create_user(&client, &a, "pin@example.com").await;
    let bystander = create_user(&client, &a, "other-pin@example.com").await;
    for round in 0..5 {
        let out = client
            .reset_personal_pin()
            .account_id(&a)
            .user_id(previous.user_id())
            .send()
            .await
            .expect("ResetPersonalPIN");
        let user = out.user().expect("User").clone();
        let pin = user.personal_pin().expect("PersonalPIN");
        assert!(
            pin.len() == 10 && pin.bytes().all(|b| b.is_ascii_digit()),
            "round {round}: a 10-digit PIN, got {pin:?}"
        );
        assert_ne!(
            Some(pin),
            previous.personal_pin(),
            "round {round}: a new PIN"
        );
        assert_eq!(identity(&user), identity(&previous));
        assert_eq!(user.license_type(), previous.license_type());
        assert_eq!(
            user.user_registration_status(),
            previous.user_registration_status()
        );
        assert_visible(&client, &user).await;
        previous = user;
    }
    assert_visible(&client, &bystander).await;

    let f = service_error(
        client
            .reset_personal_pin()
            .account_id(&a)
            .user_id(missing_id())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, ResetPersonalPINError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .reset_personal_pin()
            .account_id(missing_id())
            .user_id(previous.user_id())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, ResetPersonalPINError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

#[tokio::test]
async fn logout_user_succeeds_for_known_users_only() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Logout").await;
    let user = create_user(&client, &a, "logout@example.com").await;
    client
        .logout_user()
        .account_id(&a)
        .user_id(user.user_id())
        .send()
        .await
        .expect("LogoutUser");
    assert_visible(&client, &user).await;

    let f = service_error(
        client
            .logout_user()
            .account_id(&a)
            .user_id(missing_id())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, LogoutUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .logout_user()
            .account_id(missing_id())
            .user_id(user.user_id())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, LogoutUserError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

// ---------------------------------------------------------------------------------------
// User settings
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn user_settings_default_to_true_and_take_updates() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("UserSettings").await;
    let user = create_user(&client, &a, "settings@example.com").await;
    let other = create_user(&client, &a, "unchanged@example.com").await;
    let u = user.user_id();

    assert_eq!(user_settings(&client, &a, u).await, (true, true, true));
    for want in [
        (false, true, false),
        (true, false, true),
        (false, false, false),
        (true, true, true),
        (true, true, false),
    ] {
        client
            .update_user_settings()
            .account_id(&a)
            .user_id(u)
            .user_settings(telephony(want.0, want.1, want.2))
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateUserSettings {want:?}: {e:?}"));
        assert_eq!(user_settings(&client, &a, u).await, want);
    }
    assert_eq!(
        user_settings(&client, &a, other.user_id()).await,
        (true, true, true),
        "settings belong to one user"
    );
    assert_visible(&client, &user).await;

    // UserSettings and its Telephony are required.
    let f = service_error(
        client
            .update_user_settings()
            .account_id(&a)
            .user_id(u)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserSettingsError::BadRequestException(_)),
        "no UserSettings: {:?}",
        f.err
    );
    f.assert_wire(400, "BadRequestException", "BadRequest");
    let f = service_error(
        client
            .update_user_settings()
            .account_id(&a)
            .user_id(u)
            .user_settings(UserSettings::builder().build())
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserSettingsError::BadRequestException(_)),
        "no Telephony: {:?}",
        f.err
    );
    assert_eq!(user_settings(&client, &a, u).await, (true, true, false));

    let missing = missing_id();
    let f = service_error(
        client
            .get_user_settings()
            .account_id(&a)
            .user_id(&missing)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetUserSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .update_user_settings()
            .account_id(&a)
            .user_id(&missing)
            .user_settings(telephony(false, false, false))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .get_user_settings()
            .account_id(&missing)
            .user_id(u)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetUserSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    let f = service_error(
        client
            .update_user_settings()
            .account_id(&missing)
            .user_id(u)
            .user_settings(telephony(false, false, false))
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdateUserSettingsError::NotFoundException(_)),
        "{:?}",
        f.err
    );
}

// ---------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------

async fn associate(
    client: &Client,
    account_id: &str,
    user_id: &str,
    number: &str,
) -> Result<
    aws_sdk_chime::operation::associate_phone_number_with_user::AssociatePhoneNumberWithUserOutput,
    aws_sdk_chime::error::SdkError<
        AssociatePhoneNumberWithUserError,
        aws_sdk_chime::config::http::HttpResponse,
    >,
> {
    client
        .associate_phone_number_with_user()
        .account_id(account_id)
        .user_id(user_id)
        .e164_phone_number(number)
        .send()
        .await
}

async fn number_of(client: &Client, account_id: &str, user_id: &str) -> Option<String> {
    get_user(client, account_id, user_id)
        .await
        .primary_provisioned_number()
        .map(str::to_string)
}

/// Asserts that associating `number` with the user is refused as a conflict.
async fn assert_number_taken(client: &Client, account_id: &str, user_id: &str, number: &str) {
    let f = service_error(associate(client, account_id, user_id, number).await);
    assert_eq!(
        f.err.code(),
        Some("ConflictException"),
        "{number}: {:?}",
        f.err
    );
    f.assert_wire(409, "ConflictException", "Conflict");
}

#[tokio::test]
async fn associate_phone_number_checks_e164_and_sets_the_primary_number() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Numbers").await;
    let user = create_user(&client, &a, "caller@example.com").await;
    let u = user.user_id().to_string();

    for bad in [
        "0123",
        "abc",
        "+1234567890123456",
        "+0123",
        "1",
        "+1 415 555 0100",
        "",
    ] {
        let f = service_error(associate(&client, &a, &u, bad).await);
        assert!(
            matches!(
                f.err,
                AssociatePhoneNumberWithUserError::BadRequestException(_)
            ),
            "{bad:?}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
        if bad.len() > 3 {
            assert!(
                !f.message().contains(bad),
                "the number is sensitive and not echoed: {}",
                f.message()
            );
        }
    }
    assert_visible(&client, &user).await;
    assert_eq!(number_of(&client, &a, &u).await, None);

    associate(&client, &a, &u, "+14155550100")
        .await
        .expect("AssociatePhoneNumberWithUser");
    let got = get_user(&client, &a, &u).await;
    assert_eq!(got.primary_provisioned_number(), Some("+14155550100"));
    assert_eq!(identity(&got), identity(&user));
    assert_eq!(got.license_type(), user.license_type());
    assert_eq!(got.personal_pin(), user.personal_pin());
    assert_visible(&client, &got).await;

    // Fifteen digits is the longest E.164 number.
    associate(&client, &a, &u, "+123456789012345")
        .await
        .expect("a 15-digit number");
    assert_eq!(
        number_of(&client, &a, &u).await.as_deref(),
        Some("+123456789012345")
    );

    let missing = missing_id();
    let f = service_error(associate(&client, &a, &missing, "+14155550111").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(associate(&client, &missing, &u, "+14155550111").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
}

#[tokio::test]
async fn a_phone_number_belongs_to_one_user_at_a_time() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Lines").await;
    let first = create_user(&client, &a, "first@example.com").await;
    let second = create_user(&client, &a, "second@example.com").await;
    let (u1, u2) = (first.user_id().to_string(), second.user_id().to_string());

    associate(&client, &a, &u1, "+14155550100")
        .await
        .expect("associate");
    // Held by the first user, in either spelling.
    assert_number_taken(&client, &a, &u2, "+14155550100").await;
    assert_number_taken(&client, &a, &u2, "14155550100").await;
    assert_eq!(number_of(&client, &a, &u2).await, None);
    assert_visible(&client, &second).await;

    // Re-associating the same number with the same user is fine, in either spelling.
    associate(&client, &a, &u1, "+14155550100")
        .await
        .expect("re-associate the same number");
    associate(&client, &a, &u1, "14155550100")
        .await
        .expect("re-associate the same number without +");
    let held = number_of(&client, &a, &u1).await.expect("a number");
    assert_eq!(held.trim_start_matches('+'), "14155550100");
    assert_number_taken(&client, &a, &u2, "+14155550100").await;

    // A number given without + is the same line as with it.
    associate(&client, &a, &u2, "14155550177")
        .await
        .expect("associate without +");
    assert_number_taken(&client, &a, &u1, "+14155550177").await;

    // A new number releases the old one.
    associate(&client, &a, &u1, "+14155550101")
        .await
        .expect("associate a new number");
    assert_eq!(
        number_of(&client, &a, &u1).await.as_deref(),
        Some("+14155550101")
    );
    associate(&client, &a, &u2, "+14155550100")
        .await
        .expect("the released number can be taken");
    assert_eq!(
        number_of(&client, &a, &u2).await.as_deref(),
        Some("+14155550100")
    );
    assert_number_taken(&client, &a, &u1, "+14155550100").await;
    // ...and the second user's previous number was released in turn.
    associate(&client, &a, &u1, "+14155550177")
        .await
        .expect("the second user's earlier number is free");

    let g1 = get_user(&client, &a, &u1).await;
    let g2 = get_user(&client, &a, &u2).await;
    assert_eq!(g1.primary_provisioned_number(), Some("+14155550177"));
    assert_eq!(g2.primary_provisioned_number(), Some("+14155550100"));
    assert_visible(&client, &g1).await;
    assert_visible(&client, &g2).await;

    // Users of another account of the same AWS account share the numbers.
    let b = server.account("Branch").await;
    let third = create_user(&client, &b, "third@example.com").await;
    assert_number_taken(&client, &b, third.user_id(), "+14155550100").await;
}

#[tokio::test]
async fn disassociate_phone_number_frees_it() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Release").await;
    let first = create_user(&client, &a, "holder@example.com").await;
    let second = create_user(&client, &a, "taker@example.com").await;
    let (u1, u2) = (first.user_id().to_string(), second.user_id().to_string());

    associate(&client, &a, &u1, "+14155550100")
        .await
        .expect("associate");
    client
        .disassociate_phone_number_from_user()
        .account_id(&a)
        .user_id(&u1)
        .send()
        .await
        .expect("DisassociatePhoneNumberFromUser");
    let got = get_user(&client, &a, &u1).await;
    assert_eq!(got.primary_provisioned_number(), None);
    assert_eq!(&got, &first, "the user is as before the association");
    assert_visible(&client, &got).await;
    let raw = server
        .raw("GET", &format!("/accounts/{a}/users/{u1}"), "")
        .await;
    assert!(
        raw.json()["User"].get("PrimaryProvisionedNumber").is_none(),
        "{}",
        raw.body
    );

    associate(&client, &a, &u2, "14155550100")
        .await
        .expect("the freed number can be taken");
    assert_eq!(
        number_of(&client, &a, &u2)
            .await
            .map(|n| n.trim_start_matches('+').to_string()),
        Some("14155550100".to_string())
    );
    assert_number_taken(&client, &a, &u1, "+14155550100").await;

    let missing = missing_id();
    let f = service_error(
        client
            .disassociate_phone_number_from_user()
            .account_id(&a)
            .user_id(&missing)
            .send()
            .await,
    );
    assert!(
        matches!(
            f.err,
            DisassociatePhoneNumberFromUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .disassociate_phone_number_from_user()
            .account_id(&missing)
            .user_id(&u2)
            .send()
            .await,
    );
    assert!(
        matches!(
            f.err,
            DisassociatePhoneNumberFromUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert!(number_of(&client, &a, &u2).await.is_some());
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

// ---------------------------------------------------------------------------------------
// Every served operation, table-driven: read-only keys and foreign tenants
// ---------------------------------------------------------------------------------------

/// Every operation Belfry serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    CreateAccount,
    GetAccount,
    ListAccounts,
    UpdateAccount,
    DeleteAccount,
    GetAccountSettings,
    UpdateAccountSettings,
    CreateUser,
    InviteUsers,
    GetUser,
    ListUsers,
    UpdateUser,
    BatchUpdateUser,
    BatchSuspendUser,
    BatchUnsuspendUser,
    ResetPersonalPIN,
    LogoutUser,
    GetUserSettings,
    UpdateUserSettings,
    AssociatePhoneNumberWithUser,
    DisassociatePhoneNumberFromUser,
}

const SERVED: [Op; 21] = [
    Op::CreateAccount,
    Op::GetAccount,
    Op::ListAccounts,
    Op::UpdateAccount,
    Op::DeleteAccount,
    Op::GetAccountSettings,
    Op::UpdateAccountSettings,
    Op::CreateUser,
    Op::InviteUsers,
    Op::GetUser,
    Op::ListUsers,
    Op::UpdateUser,
    Op::BatchUpdateUser,
    Op::BatchSuspendUser,
    Op::BatchUnsuspendUser,
    Op::ResetPersonalPIN,
    Op::LogoutUser,
    Op::GetUserSettings,
    Op::UpdateUserSettings,
    Op::AssociatePhoneNumberWithUser,
    Op::DisassociatePhoneNumberFromUser,
];

impl Op {
    fn is_read(self) -> bool {
        matches!(
            self,
            Op::GetAccount
                | Op::ListAccounts
                | Op::GetAccountSettings
                | Op::GetUser
                | Op::ListUsers
                | Op::GetUserSettings
        )
    }

    fn takes_account(self) -> bool {
        !matches!(self, Op::CreateAccount | Op::ListAccounts)
    }
}

/// What the table's calls act on. Every write is valid and would change something if it were
/// let through.
struct Target {
    account: String,
    /// An account without users, which DeleteAccount could delete.
    empty_account: String,
    /// A user holding a phone number.
    user: String,
    /// A suspended user.
    suspended: String,
}

/// Calls `op` on `t` with valid input and reduces the result to its wire outcome.
async fn call(client: &Client, op: Op, t: &Target) -> WireOutcome {
    let (a, u) = (t.account.as_str(), t.user.as_str());
    match op {
        Op::CreateAccount => wire_outcome(client.create_account().name("Intruder").send().await),
        Op::GetAccount => wire_outcome(client.get_account().account_id(a).send().await),
        Op::ListAccounts => wire_outcome(client.list_accounts().send().await),
        Op::UpdateAccount => wire_outcome(
            client
                .update_account()
                .account_id(a)
                .name("Renamed")
                .default_license(License::Basic)
                .send()
                .await,
        ),
        Op::DeleteAccount => wire_outcome(
            client
                .delete_account()
                .account_id(&t.empty_account)
                .send()
                .await,
        ),
        Op::GetAccountSettings => {
            wire_outcome(client.get_account_settings().account_id(a).send().await)
        }
        Op::UpdateAccountSettings => wire_outcome(
            client
                .update_account_settings()
                .account_id(a)
                .account_settings(
                    AccountSettings::builder()
                        .disable_remote_control(true)
                        .enable_dial_out(false)
                        .build(),
                )
                .send()
                .await,
        ),
        Op::CreateUser => wire_outcome(
            client
                .create_user()
                .account_id(a)
                .email("intruder@example.com")
                .send()
                .await,
        ),
        Op::InviteUsers => wire_outcome(
            client
                .invite_users()
                .account_id(a)
                .user_email_list("invitee@example.com")
                .send()
                .await,
        ),
        Op::GetUser => wire_outcome(client.get_user().account_id(a).user_id(u).send().await),
        Op::ListUsers => wire_outcome(client.list_users().account_id(a).send().await),
        Op::UpdateUser => wire_outcome(
            client
                .update_user()
                .account_id(a)
                .user_id(u)
                .license_type(License::Basic)
                .user_type(UserType::SharedDevice)
                .alexa_for_business_metadata(alexa(true, ROOM_ARN))
                .send()
                .await,
        ),
        Op::BatchUpdateUser => wire_outcome(
            client
                .batch_update_user()
                .account_id(a)
                .update_user_request_items(built(item(u).license_type(License::Plus)))
                .update_user_request_items(built(
                    item(&t.suspended).user_type(UserType::SharedDevice),
                ))
                .send()
                .await,
        ),
        Op::BatchSuspendUser => wire_outcome(
            client
                .batch_suspend_user()
                .account_id(a)
                .user_id_list(u)
                .send()
                .await,
        ),
        Op::BatchUnsuspendUser => wire_outcome(
            client
                .batch_unsuspend_user()
                .account_id(a)
                .user_id_list(&t.suspended)
                .send()
                .await,
        ),
        Op::ResetPersonalPIN => wire_outcome(
            client
                .reset_personal_pin()
                .account_id(a)
                .user_id(u)
                .send()
                .await,
        ),
        Op::LogoutUser => wire_outcome(client.logout_user().account_id(a).user_id(u).send().await),
        Op::GetUserSettings => wire_outcome(
            client
                .get_user_settings()
                .account_id(a)
                .user_id(u)
                .send()
                .await,
        ),
        Op::UpdateUserSettings => wire_outcome(
            client
                .update_user_settings()
                .account_id(a)
                .user_id(u)
                .user_settings(telephony(false, false, false))
                .send()
                .await,
        ),
        Op::AssociatePhoneNumberWithUser => {
            wire_outcome(associate(client, a, &t.suspended, "+14155550199").await)
        }
        Op::DisassociatePhoneNumberFromUser => wire_outcome(
            client
                .disassociate_phone_number_from_user()
                .account_id(a)
                .user_id(u)
                .send()
                .await,
        ),
    }
}

/// Everything an owner can read about its accounts.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    accounts: Vec<Account>,
    settings: Vec<(Option<bool>, Option<bool>)>,
    users: Vec<Vec<User>>,
    user_settings: Vec<(bool, bool, bool)>,
}

async fn snapshot(client: &Client) -> Snapshot {
    let accounts = list_accounts(client).await;
    let mut settings = Vec::new();
    let mut users = Vec::new();
    let mut user_settings_list = Vec::new();
    for account in &accounts {
        let a = account.account_id();
        settings.push(account_settings(client, a).await);
        let listed = list_all(client, a).await;
        for u in &listed {
            user_settings_list.push(user_settings(client, a, u.user_id()).await);
        }
        users.push(listed);
    }
    Snapshot {
        accounts,
        settings,
        users,
        user_settings: user_settings_list,
    }
}

/// An owner's account with a user holding a number and a suspended one, and an empty account.
async fn table_target(server: &TestServer) -> Target {
    let client = server.client();
    let account = create_account(&client, "Owned")
        .await
        .account_id()
        .to_string();
    let empty_account = create_account(&client, "Empty")
        .await
        .account_id()
        .to_string();
    let user = create_user(&client, &account, "owned@example.com")
        .await
        .user_id()
        .to_string();
    associate(&client, &account, &user, "+14155550100")
        .await
        .expect("associate");
    let suspended = create_user(&client, &account, "suspended@example.com")
        .await
        .user_id()
        .to_string();
    client
        .batch_suspend_user()
        .account_id(&account)
        .user_id_list(&suspended)
        .send()
        .await
        .expect("BatchSuspendUser");
    Target {
        account,
        empty_account,
        user,
        suspended,
    }
}

#[tokio::test]
async fn read_only_keys_may_call_every_read_and_no_write() {
    let server = TestServer::start().await;
    let target = table_target(&server).await;
    let before = snapshot(&server.client()).await;
    let mut current = before.clone();
    let key = server.new_key(ROOT_AWS_ACCOUNT, true).await;
    let reader = server.client_for(&key);

    // Every departure is collected, so that one run reports the whole table.
    let mut wrong = Vec::new();
    for op in SERVED {
        let got = call(&reader, op, &target).await;
        let ok = if op.is_read() {
            got == WireOutcome::Success
        } else {
            got.error() == Some((403, Some("ForbiddenException")))
                && got.code() == Some("ForbiddenException")
                && !got.message().is_empty()
        };
        if !ok {
            wrong.push(format!("{op:?}: {got:?}"));
        }
        let now = snapshot(&server.client()).await;
        if now != current {
            wrong.push(format!("{op:?}: changed the owner's data"));
            current = now;
        }
    }
    assert!(
        wrong.is_empty(),
        "read-only key: reads must succeed and writes answer 403 ForbiddenException:\n{}",
        wrong.join("\n")
    );

    // The same writes with the owner's read-write key do change things (the table is live).
    let writer = server.client();
    for op in SERVED.into_iter().filter(|op| !op.is_read()) {
        let got = call(&writer, op, &target).await;
        assert_eq!(got, WireOutcome::Success, "{op:?} with the read-write key");
    }
    assert_ne!(snapshot(&writer).await, before);
}

#[tokio::test]
async fn foreign_tenants_get_not_found_from_every_account_operation() {
    let server = TestServer::start().await;
    let target = table_target(&server).await;
    let owner = server.client();
    let mut current = snapshot(&owner).await;
    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    let missing = missing_id();
    let absent = Target {
        account: missing.clone(),
        empty_account: missing.clone(),
        user: target.user.clone(),
        suspended: target.suspended.clone(),
    };
    let blank = |message: &str| {
        let mut m = message.to_string();
        for id in [
            &target.account,
            &target.empty_account,
            &missing,
            &target.user,
            &target.suspended,
        ] {
            m = m.replace(id.as_str(), "<id>");
        }
        m
    };

    let ops: Vec<Op> = SERVED.into_iter().filter(|op| op.takes_account()).collect();
    assert_eq!(ops.len(), 19);
    let mut wrong = Vec::new();
    for op in ops {
        let foreign = call(&stranger, op, &target).await;
        let nonexistent = call(&stranger, op, &absent).await;
        if foreign.error() != Some((404, Some("NotFoundException")))
            || foreign.code() != Some("NotFoundException")
        {
            wrong.push(format!("{op:?}: foreign account answered {foreign:?}"));
        } else if nonexistent.error() != Some((404, Some("NotFoundException"))) {
            wrong.push(format!("{op:?}: missing account answered {nonexistent:?}"));
        } else if blank(foreign.message()) != blank(nonexistent.message())
            || foreign.message().is_empty()
        {
            wrong.push(format!(
                "{op:?}: a foreign account is told apart from a missing one: {:?} vs {:?}",
                foreign.message(),
                nonexistent.message()
            ));
        }
        let now = snapshot(&owner).await;
        if now != current {
            wrong.push(format!("{op:?}: changed the owner's data"));
            current = now;
        }
    }
    assert!(
        wrong.is_empty(),
        "foreign tenant must get 404 NotFoundException, worded as for a missing account:\n{}",
        wrong.join("\n")
    );
    // The stranger made nothing of its own either.
    assert!(list_accounts(&stranger).await.is_empty());

    // The owner's own calls on the same target go through (the table is live).
    for op in SERVED.into_iter().filter(|op| op.takes_account()) {
        let got = call(&owner, op, &target).await;
        assert_eq!(got, WireOutcome::Success, "{op:?} by the owner");
    }
}

// ---------------------------------------------------------------------------------------
// Unsupported operations
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unsupported_operations_are_named_and_refused_after_authentication() {
    let server = TestServer::start().await;
    let a = server.account("Unsupported").await;
    let mut wrong_secret = server.root.clone();
    wrong_secret.secret_access_key = "0".repeat(40);

    async fn unsupported(client: &Client, a: &str) -> Vec<(&'static str, WireOutcome)> {
        vec![
            (
                "ListRooms",
                wire_outcome(client.list_rooms().account_id(a).send().await),
            ),
            (
                "CreateBot",
                wire_outcome(
                    client
                        .create_bot()
                        .account_id(a)
                        .display_name("bot")
                        .domain("example.com")
                        .send()
                        .await,
                ),
            ),
            (
                "ListPhoneNumbers",
                wire_outcome(client.list_phone_numbers().send().await),
            ),
            (
                "GetGlobalSettings",
                wire_outcome(client.get_global_settings().send().await),
            ),
        ]
    }

    for (name, got) in unsupported(&server.client(), &a).await {
        assert_eq!(
            got.error(),
            Some((400, Some("BadRequestException"))),
            "{name}: {got:?}"
        );
        assert_eq!(got.code(), Some("BadRequestException"), "{name}");
        assert!(got.message().contains(name), "{name}: {}", got.message());
        assert!(
            got.message().contains("not supported"),
            "{name}: {}",
            got.message()
        );
    }
    for (name, got) in unsupported(&server.client_for(&wrong_secret), &a).await {
        assert_eq!(
            got.error(),
            Some((401, Some("UnauthorizedClientException"))),
            "{name} with a wrong secret: {got:?}"
        );
        assert_eq!(got.code(), Some("UnauthorizedClientException"), "{name}");
    }
}
