//! Account settings: GetAccountSettings and UpdateAccountSettings, their defaults, updates
//! that change only the members given, and their errors.

use aws_sdk_chime::operation::get_account_settings::GetAccountSettingsError;
use aws_sdk_chime::operation::update_account_settings::UpdateAccountSettingsError;
use aws_sdk_chime::types::AccountSettings;

use crate::common::*;

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
