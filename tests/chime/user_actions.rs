//! Actions on users: BatchSuspendUser and BatchUnsuspendUser (suspension restores exactly the
//! previous status; one to fifty ids), ResetPersonalPIN (a new ten-digit PIN) and LogoutUser.

use aws_sdk_chime::operation::batch_suspend_user::BatchSuspendUserError;
use aws_sdk_chime::operation::batch_unsuspend_user::BatchUnsuspendUserError;
use aws_sdk_chime::operation::logout_user::LogoutUserError;
use aws_sdk_chime::operation::reset_personal_pin::ResetPersonalPINError;
use aws_sdk_chime::types::{InviteStatus, RegistrationStatus, User};
use belfry::model;

use crate::common::*;

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
