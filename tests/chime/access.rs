//! Who may call what: authentication (wrong secrets, unknown keys), read-only keys (every
//! read allowed, every write forbidden, unsupported ones included) and tenancy (a foreign
//! tenant's account is indistinguishable from a missing one), first operation by operation,
//! then table-driven over every served operation.

use aws_sdk_chime::Client;
use aws_sdk_chime::operation::create_account::CreateAccountError;
use aws_sdk_chime::operation::create_user::CreateUserError;
use aws_sdk_chime::operation::get_account::GetAccountError;
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::invite_users::InviteUsersError;
use aws_sdk_chime::operation::list_users::ListUsersError;
use aws_sdk_chime::types::{Account, AccountSettings, License, User, UserType};

use crate::common::*;

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
async fn read_only_key_is_forbidden_any_write_even_unsupported_ones() {
    let server = TestServer::start().await;
    let account = server.account("ReadOnly").await;
    let key = server.new_key(ROOT_AWS_ACCOUNT, true).await;
    let reader = server.client_for(&key);
    let f = service_error(
        reader
            .put_retention_settings()
            .account_id(&account)
            .retention_settings(aws_sdk_chime::types::RetentionSettings::builder().build())
            .send()
            .await,
    );
    assert!(
        f.err.is_forbidden_exception(),
        "PutRetentionSettings: {:?}",
        f.err
    );
    f.assert_wire(403, "ForbiddenException", "Forbidden");
    // An unsupported read is still a BadRequest for a read-only key.
    let f = service_error(
        reader
            .get_retention_settings()
            .account_id(&account)
            .send()
            .await,
    );
    assert!(
        f.err.is_bad_request_exception(),
        "GetRetentionSettings: {:?}",
        f.err
    );
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
// Every served operation, table-driven: read-only keys and foreign tenants
// ---------------------------------------------------------------------------------------

/// Every operation Belfry serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SdkOp {
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

const SERVED: [SdkOp; 21] = [
    SdkOp::CreateAccount,
    SdkOp::GetAccount,
    SdkOp::ListAccounts,
    SdkOp::UpdateAccount,
    SdkOp::DeleteAccount,
    SdkOp::GetAccountSettings,
    SdkOp::UpdateAccountSettings,
    SdkOp::CreateUser,
    SdkOp::InviteUsers,
    SdkOp::GetUser,
    SdkOp::ListUsers,
    SdkOp::UpdateUser,
    SdkOp::BatchUpdateUser,
    SdkOp::BatchSuspendUser,
    SdkOp::BatchUnsuspendUser,
    SdkOp::ResetPersonalPIN,
    SdkOp::LogoutUser,
    SdkOp::GetUserSettings,
    SdkOp::UpdateUserSettings,
    SdkOp::AssociatePhoneNumberWithUser,
    SdkOp::DisassociatePhoneNumberFromUser,
];

impl SdkOp {
    fn is_read(self) -> bool {
        matches!(
            self,
            SdkOp::GetAccount
                | SdkOp::ListAccounts
                | SdkOp::GetAccountSettings
                | SdkOp::GetUser
                | SdkOp::ListUsers
                | SdkOp::GetUserSettings
        )
    }

    fn takes_account(self) -> bool {
        !matches!(self, SdkOp::CreateAccount | SdkOp::ListAccounts)
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
async fn call(client: &Client, op: SdkOp, t: &Target) -> WireOutcome {
    let (a, u) = (t.account.as_str(), t.user.as_str());
    match op {
        SdkOp::CreateAccount => wire_outcome(client.create_account().name("Intruder").send().await),
        SdkOp::GetAccount => wire_outcome(client.get_account().account_id(a).send().await),
        SdkOp::ListAccounts => wire_outcome(client.list_accounts().send().await),
        SdkOp::UpdateAccount => wire_outcome(
            client
                .update_account()
                .account_id(a)
                .name("Renamed")
                .default_license(License::Basic)
                .send()
                .await,
        ),
        SdkOp::DeleteAccount => wire_outcome(
            client
                .delete_account()
                .account_id(&t.empty_account)
                .send()
                .await,
        ),
        SdkOp::GetAccountSettings => {
            wire_outcome(client.get_account_settings().account_id(a).send().await)
        }
        SdkOp::UpdateAccountSettings => wire_outcome(
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
        SdkOp::CreateUser => wire_outcome(
            client
                .create_user()
                .account_id(a)
                .email("intruder@example.com")
                .send()
                .await,
        ),
        SdkOp::InviteUsers => wire_outcome(
            client
                .invite_users()
                .account_id(a)
                .user_email_list("invitee@example.com")
                .send()
                .await,
        ),
        SdkOp::GetUser => wire_outcome(client.get_user().account_id(a).user_id(u).send().await),
        SdkOp::ListUsers => wire_outcome(client.list_users().account_id(a).send().await),
        SdkOp::UpdateUser => wire_outcome(
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
        SdkOp::BatchUpdateUser => wire_outcome(
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
        SdkOp::BatchSuspendUser => wire_outcome(
            client
                .batch_suspend_user()
                .account_id(a)
                .user_id_list(u)
                .send()
                .await,
        ),
        SdkOp::BatchUnsuspendUser => wire_outcome(
            client
                .batch_unsuspend_user()
                .account_id(a)
                .user_id_list(&t.suspended)
                .send()
                .await,
        ),
        SdkOp::ResetPersonalPIN => wire_outcome(
            client
                .reset_personal_pin()
                .account_id(a)
                .user_id(u)
                .send()
                .await,
        ),
        SdkOp::LogoutUser => {
            wire_outcome(client.logout_user().account_id(a).user_id(u).send().await)
        }
        SdkOp::GetUserSettings => wire_outcome(
            client
                .get_user_settings()
                .account_id(a)
                .user_id(u)
                .send()
                .await,
        ),
        SdkOp::UpdateUserSettings => wire_outcome(
            client
                .update_user_settings()
                .account_id(a)
                .user_id(u)
                .user_settings(telephony(false, false, false))
                .send()
                .await,
        ),
        SdkOp::AssociatePhoneNumberWithUser => {
            wire_outcome(associate(client, a, &t.suspended, "+14155550199").await)
        }
        SdkOp::DisassociatePhoneNumberFromUser => wire_outcome(
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

    let ops: Vec<SdkOp> = SERVED.into_iter().filter(|op| op.takes_account()).collect();
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
