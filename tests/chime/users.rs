//! Users made and read one by one: CreateUser (the user as created, on the wire too,
//! validation, case-insensitive email conflicts, racing creates), GetUser, and InviteUsers
//! (pending users, failed invites of taken emails, list bounds).

use std::collections::HashSet;

use aws_sdk_chime::operation::RequestId;
use aws_sdk_chime::operation::create_user::CreateUserError;
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::invite_users::InviteUsersError;
use aws_sdk_chime::types::{EmailStatus, InviteStatus, License, RegistrationStatus, UserType};

use crate::common::*;

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
