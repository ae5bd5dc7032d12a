//! Phone numbers: AssociatePhoneNumberWithUser (E.164 checks, the primary provisioned number,
//! one user per number across the AWS account's accounts) and DisassociatePhoneNumberFromUser
//! (which frees the number). Each number is first brought into the inventory by an order
//! (`associate` in the harness); the inventory itself is `phone_inventory`.

use aws_sdk_chime::Client;
use aws_sdk_chime::error::ProvideErrorMetadata;
use aws_sdk_chime::operation::associate_phone_number_with_user::AssociatePhoneNumberWithUserError;
use aws_sdk_chime::operation::disassociate_phone_number_from_user::DisassociatePhoneNumberFromUserError;

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------

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

    // Fifteen digits is the longest E.164 number: well-formed, so not a BadRequest; but no
    // carrier serves it, so it is not in the inventory.
    let f = service_error(associate(&client, &a, &u, "+123456789012345").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    assert_eq!(
        number_of(&client, &a, &u).await.as_deref(),
        Some("+14155550100")
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
