//! Changes to users: UpdateUser (license type, user type, Alexa for Business metadata) and
//! BatchUpdateUser (items applied, unknown users reported, one to twenty items, and a batch
//! with an invalid item applying none), each change visible through GetUser and ListUsers.

use aws_sdk_chime::operation::batch_update_user::BatchUpdateUserError;
use aws_sdk_chime::operation::update_user::UpdateUserError;
use aws_sdk_chime::types::{License, UpdateUserRequestItem, UserType};

use crate::common::*;

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
