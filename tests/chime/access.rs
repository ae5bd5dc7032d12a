//! Who may call what: authentication (wrong secrets, unknown keys), read-only keys (every
//! read allowed, every write forbidden) and tenancy (a foreign
//! tenant's account is indistinguishable from a missing one), first operation by operation,
//! then table-driven over every served operation.

use std::fmt::Debug;
use std::future::Future;

use aws_sdk_chime::Client;
use aws_sdk_chime::config::http::HttpResponse;
use aws_sdk_chime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_chime::types::{
    Account, AccountSettings, License, SigninDelegateGroup, User, UserType,
};
use belfry::api::Op;

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
        let f = expect_error(
            client.list_users().account_id(&account).send().await,
            UNAUTHORIZED,
            &format!("{what}: ListUsers"),
        );
        assert!(
            !f.message().contains(&server.root.secret_access_key),
            "no secret in the message"
        );
        expect_error(
            client.list_accounts().send().await,
            UNAUTHORIZED,
            &format!("{what}: ListAccounts"),
        );
        expect_error(
            client.create_account().name("x").send().await,
            UNAUTHORIZED,
            &format!("{what}: CreateAccount"),
        );
        expect_error(
            client.list_rooms().account_id(&account).send().await,
            UNAUTHORIZED,
            &format!("{what}: ListRooms"),
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
    let account = create_account(&writer, "ReadOnly").await;
    let account_id = account.account_id().to_string();
    let user = create_user(&writer, &account_id, "reader@example.com").await;
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

    expect_error(
        reader.create_account().name("nope").send().await,
        FORBIDDEN,
        "CreateAccount",
    );
    expect_error(
        reader
            .create_user()
            .account_id(&account_id)
            .email("new@example.com")
            .send()
            .await,
        FORBIDDEN,
        "CreateUser",
    );
    expect_error(
        reader
            .invite_users()
            .account_id(&account_id)
            .user_email_list("new@example.com")
            .send()
            .await,
        FORBIDDEN,
        "InviteUsers",
    );

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
async fn read_only_key_is_forbidden_every_write_of_settings_and_numbers() {
    let server = TestServer::start().await;
    let account = server.account("ReadOnly").await;
    let key = server.new_key(ROOT_AWS_ACCOUNT, true).await;
    let reader = server.client_for(&key);
    expect_error(
        reader
            .put_retention_settings()
            .account_id(&account)
            .retention_settings(aws_sdk_chime::types::RetentionSettings::builder().build())
            .send()
            .await,
        FORBIDDEN,
        "PutRetentionSettings",
    );
    expect_error(
        reader
            .delete_phone_number()
            .phone_number_id("+12065550100")
            .send()
            .await,
        FORBIDDEN,
        "DeletePhoneNumber",
    );
    // A read runs for a read-only key: the number is not in the inventory.
    expect_error(
        reader
            .get_phone_number()
            .phone_number_id("+12065550100")
            .send()
            .await,
        NOT_FOUND,
        "GetPhoneNumber",
    );
}

/// Calls `call` with a foreign tenant's account id and with a missing one (`ids`): both must
/// fail with the typed NotFoundException, 404 on the wire, worded alike but for the id.
async fn assert_foreign_like_missing<T, E, F, Fut>(
    (foreign_id, missing_id): (&str, &str),
    what: &str,
    call: F,
) where
    T: Debug,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let foreign = expect_error(call(foreign_id.to_string()).await, NOT_FOUND, what);
    let absent = expect_error(
        call(missing_id.to_string()).await,
        NOT_FOUND,
        &format!("{what} in a missing account"),
    );
    assert_eq!(
        foreign.message().replace(foreign_id, "<id>"),
        absent.message().replace(missing_id, "<id>"),
        "{what}: a foreign account must be indistinguishable from a missing one"
    );
}

#[tokio::test]
async fn foreign_tenant_sees_not_found_like_a_missing_account() {
    let server = TestServer::start().await;
    let owner = server.client();
    let account = create_account(&owner, "Mine").await;
    let account_id = account.account_id().to_string();
    let user = create_user(&owner, &account_id, "mine@example.com").await;
    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    let missing = missing_id();
    let ids = (account_id.as_str(), missing.as_str());

    assert_foreign_like_missing(ids, "GetAccount", |id| {
        stranger.get_account().account_id(id).send()
    })
    .await;
    assert_foreign_like_missing(ids, "ListUsers", |id| {
        stranger.list_users().account_id(id).send()
    })
    .await;
    assert_foreign_like_missing(ids, "GetUser", |id| {
        stranger
            .get_user()
            .account_id(id)
            .user_id(user.user_id())
            .send()
    })
    .await;
    assert_foreign_like_missing(ids, "CreateUser", |id| {
        stranger
            .create_user()
            .account_id(id)
            .email("intruder@example.com")
            .send()
    })
    .await;
    assert_foreign_like_missing(ids, "InviteUsers", |id| {
        stranger
            .invite_users()
            .account_id(id)
            .user_email_list("intruder@example.com")
            .send()
    })
    .await;

    // A token issued to the owner does not open the account to the stranger either.
    create_user(&owner, &account_id, "second@example.com").await;
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
    let theirs = create_account(&stranger, "Theirs").await;
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

/// The operations of the table: every account and user operation Belfry serves, in the order
/// of [`Op::ALL`]. These are the operations on `/accounts`, on an account (its sign-in
/// delegate groups included), its settings or its users.
fn table_ops() -> Vec<Op> {
    let ops: Vec<Op> = Op::ALL
        .into_iter()
        .filter(|op| {
            let template = op.binding().template;
            let resource = template.strip_prefix("/accounts/{accountId}");
            template == "/accounts"
                || matches!(resource, Some("" | "/settings"))
                || resource.is_some_and(|r| r.starts_with("/users"))
        })
        .collect();
    assert_eq!(ops.len(), 23, "the account and user operations: {ops:?}");
    ops
}

/// Whether the operation acts on one account (and so has a tenant to check).
fn takes_account(op: Op) -> bool {
    op.binding().template.starts_with("/accounts/{accountId}")
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
        Op::AssociateSigninDelegateGroupsWithAccount => wire_outcome(
            client
                .associate_signin_delegate_groups_with_account()
                .account_id(a)
                .signin_delegate_groups(SigninDelegateGroup::builder().group_name("New").build())
                .send()
                .await,
        ),
        Op::DisassociateSigninDelegateGroupsFromAccount => wire_outcome(
            client
                .disassociate_signin_delegate_groups_from_account()
                .account_id(a)
                .group_names(DELEGATE_GROUP)
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
        other => panic!("{other:?} is not an operation of the table"),
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

/// The sign-in delegate group the table's account starts with.
const DELEGATE_GROUP: &str = "Existing";

/// An owner's account with a sign-in delegate group, a user holding a number and a suspended
/// one, and an empty account.
async fn table_target(server: &TestServer) -> Target {
    let client = server.client();
    let account = create_account(&client, "Owned")
        .await
        .account_id()
        .to_string();
    client
        .associate_signin_delegate_groups_with_account()
        .account_id(&account)
        .signin_delegate_groups(
            SigninDelegateGroup::builder()
                .group_name(DELEGATE_GROUP)
                .build(),
        )
        .send()
        .await
        .expect("AssociateSigninDelegateGroupsWithAccount");
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
    for op in table_ops() {
        let got = call(&reader, op, &target).await;
        let ok = if op.is_read_only() {
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
    for op in table_ops().into_iter().filter(|op| !op.is_read_only()) {
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

    let ops: Vec<Op> = table_ops()
        .into_iter()
        .filter(|op| takes_account(*op))
        .collect();
    assert_eq!(ops.len(), 21);
    let mut wrong = Vec::new();
    for &op in &ops {
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
    for op in ops {
        let got = call(&owner, op, &target).await;
        assert_eq!(got, WireOutcome::Success, "{op:?} by the owner");
    }
}
