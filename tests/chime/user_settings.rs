//! User settings: GetUserSettings and UpdateUserSettings (telephony defaults to all true,
//! updates belong to one user) and their errors.

use aws_sdk_chime::operation::get_user_settings::GetUserSettingsError;
use aws_sdk_chime::operation::update_user_settings::UpdateUserSettingsError;
use aws_sdk_chime::types::UserSettings;

use crate::common::*;

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
