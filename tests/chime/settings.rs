//! Settings through aws-sdk-chime: an AWS account's phone-number settings (its outbound
//! calling name) and global settings (call detail record buckets), a Chime account's
//! retention settings and sign-in delegate groups, and CreateMeetingDialOut out of a meeting
//! registered through the admin API.

use aws_sdk_chime::Client;
use aws_sdk_chime::config::http::HttpResponse;
use aws_sdk_chime::error::SdkError;
use aws_sdk_chime::operation::associate_signin_delegate_groups_with_account::{
    AssociateSigninDelegateGroupsWithAccountError, AssociateSigninDelegateGroupsWithAccountOutput,
};
use aws_sdk_chime::operation::disassociate_signin_delegate_groups_from_account::{
    DisassociateSigninDelegateGroupsFromAccountError,
    DisassociateSigninDelegateGroupsFromAccountOutput,
};
use aws_sdk_chime::operation::put_retention_settings::{
    PutRetentionSettingsError, PutRetentionSettingsOutput,
};
use aws_sdk_chime::operation::update_phone_number_settings::{
    UpdatePhoneNumberSettingsError, UpdatePhoneNumberSettingsOutput,
};
use aws_sdk_chime::primitives::DateTime;
use aws_sdk_chime::types::{
    BusinessCallingSettings, ConversationRetentionSettings, RetentionSettings,
    RoomRetentionSettings, SigninDelegateGroup, VoiceConnectorSettings,
};
use serde_json::json;

use crate::common::*;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn millis(t: Option<&DateTime>) -> i64 {
    t.expect("a timestamp").to_millis().expect("in range")
}

/// `(CallingName, CallingNameUpdatedTimestamp in ms)` of the client's AWS account.
async fn calling_name(client: &Client) -> (Option<String>, Option<i64>) {
    let out = client
        .get_phone_number_settings()
        .send()
        .await
        .expect("GetPhoneNumberSettings");
    (
        out.calling_name().map(str::to_string),
        out.calling_name_updated_timestamp()
            .map(|t| t.to_millis().unwrap()),
    )
}

/// UpdatePhoneNumberSettings with this calling name.
async fn set_calling_name(
    client: &Client,
    name: &str,
) -> Result<UpdatePhoneNumberSettingsOutput, SdkError<UpdatePhoneNumberSettingsError, HttpResponse>>
{
    client
        .update_phone_number_settings()
        .calling_name(name)
        .send()
        .await
}

/// `(BusinessCalling.CdrBucket, VoiceConnector.CdrBucket)` of the client's AWS account; both
/// structures are always there.
async fn cdr_buckets(client: &Client) -> (Option<String>, Option<String>) {
    let out = client
        .get_global_settings()
        .send()
        .await
        .expect("GetGlobalSettings");
    let business = out.business_calling().expect("BusinessCalling");
    let voice = out.voice_connector().expect("VoiceConnector");
    (
        business.cdr_bucket().map(str::to_string),
        voice.cdr_bucket().map(str::to_string),
    )
}

fn retention(room: Option<i32>, conversation: Option<i32>) -> RetentionSettings {
    let mut settings = RetentionSettings::builder();
    if let Some(days) = room {
        settings = settings.room_retention_settings(
            RoomRetentionSettings::builder()
                .retention_days(days)
                .build(),
        );
    }
    if let Some(days) = conversation {
        settings = settings.conversation_retention_settings(
            ConversationRetentionSettings::builder()
                .retention_days(days)
                .build(),
        );
    }
    settings.build()
}

/// `(room days, conversation days)` of retention settings as a client got them.
fn days(settings: Option<&RetentionSettings>) -> (Option<i32>, Option<i32>) {
    let settings = settings.expect("RetentionSettings");
    (
        settings
            .room_retention_settings()
            .and_then(|r| r.retention_days()),
        settings
            .conversation_retention_settings()
            .and_then(|c| c.retention_days()),
    )
}

/// PutRetentionSettings of these days on the account.
async fn put_retention(
    client: &Client,
    account_id: &str,
    room: Option<i32>,
    conversation: Option<i32>,
) -> Result<PutRetentionSettingsOutput, SdkError<PutRetentionSettingsError, HttpResponse>> {
    client
        .put_retention_settings()
        .account_id(account_id)
        .retention_settings(retention(room, conversation))
        .send()
        .await
}

/// Makes the account an Enterprise account through the admin API.
async fn make_enterprise(server: &TestServer, account_id: &str) {
    let (status, body) = server
        .admin(
            "PUT",
            &format!("accounts/{account_id}/account-type"),
            Some(json!({ "AccountType": "EnterpriseLWA" })),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn group_names(client: &Client, account_id: &str) -> Vec<String> {
    get_account(client, account_id)
        .await
        .signin_delegate_groups()
        .iter()
        .map(|g| g.group_name().expect("GroupName").to_string())
        .collect()
}

fn group(name: &str) -> SigninDelegateGroup {
    SigninDelegateGroup::builder().group_name(name).build()
}

async fn associate(
    client: &Client,
    account_id: &str,
    groups: Vec<SigninDelegateGroup>,
) -> Result<
    AssociateSigninDelegateGroupsWithAccountOutput,
    SdkError<AssociateSigninDelegateGroupsWithAccountError, HttpResponse>,
> {
    client
        .associate_signin_delegate_groups_with_account()
        .account_id(account_id)
        .set_signin_delegate_groups(Some(groups))
        .send()
        .await
}

async fn disassociate(
    client: &Client,
    account_id: &str,
    names: &[&str],
) -> Result<
    DisassociateSigninDelegateGroupsFromAccountOutput,
    SdkError<DisassociateSigninDelegateGroupsFromAccountError, HttpResponse>,
> {
    client
        .disassociate_signin_delegate_groups_from_account()
        .account_id(account_id)
        .set_group_names(Some(names.iter().map(|n| n.to_string()).collect()))
        .send()
        .await
}

// ---------------------------------------------------------------------------------------
// Phone-number and global settings (per AWS account)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_calling_name_is_the_aws_accounts_and_changes_once_every_seven_days() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_eq!(calling_name(&client).await, (None, None), "nothing set yet");

    let before = now_millis();
    set_calling_name(&client, "Acme Corp 24")
        .await
        .expect("UpdatePhoneNumberSettings");
    let (name, updated) = calling_name(&client).await;
    assert_eq!(name.as_deref(), Some("Acme Corp 24"));
    let updated = updated.expect("CallingNameUpdatedTimestamp");
    assert!(updated >= before && updated <= now_millis(), "{updated}");

    // The same name again changes nothing, not even the timestamp.
    set_calling_name(&client, "Acme Corp 24")
        .await
        .expect("the same name again");
    assert_eq!(
        calling_name(&client).await,
        (Some("Acme Corp 24".into()), Some(updated))
    );

    // Another name within seven days: refused, naming when it may change.
    let f = expect_error(
        set_calling_name(&client, "Globex").await,
        BAD_REQUEST,
        "a second name within seven days",
    );
    let next = belfry::time::iso8601_millis(updated + 7 * DAY_MS);
    assert!(f.message().contains(&next), "{}", f.message());
    assert_eq!(
        calling_name(&client).await.0.as_deref(),
        Some("Acme Corp 24")
    );

    // Another AWS account has a calling name of its own.
    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    assert_eq!(calling_name(&stranger).await, (None, None));
    set_calling_name(&stranger, "")
        .await
        .expect("an empty name matches the pattern");
    let (name, at) = calling_name(&stranger).await;
    assert_eq!(name.as_deref(), Some(""));
    assert!(at.is_some());
    assert_eq!(
        calling_name(&client).await.0.as_deref(),
        Some("Acme Corp 24")
    );
}

#[tokio::test]
async fn calling_names_follow_the_models_pattern() {
    let server = TestServer::start().await;
    let client = server.client();
    for bad in ["A", "Sixteen chars 16", "Acme, Inc.", "Zoë"] {
        let f = expect_error(set_calling_name(&client, bad).await, BAD_REQUEST, bad);
        assert!(
            f.message().contains("'callingName'") && f.message().contains("pattern"),
            "{bad}: {}",
            f.message()
        );
        assert!(
            !f.message().contains(&format!("'{bad}'")),
            "a sensitive value is not echoed: {}",
            f.message()
        );
    }
    assert_eq!(calling_name(&client).await, (None, None));
    let raw = server.raw("PUT", "/settings/phone-number", "{}").await;
    assert_eq!(raw.status, 400, "CallingName is required: {}", raw.body);
}

#[tokio::test]
async fn global_settings_change_the_structures_given_per_aws_account() {
    let server = TestServer::start().await;
    let client = server.client();
    assert_eq!(cdr_buckets(&client).await, (None, None));

    let business = |bucket: Option<&str>| {
        BusinessCallingSettings::builder()
            .set_cdr_bucket(bucket.map(str::to_string))
            .build()
    };
    let voice = |bucket: &str| VoiceConnectorSettings::builder().cdr_bucket(bucket).build();
    client
        .update_global_settings()
        .business_calling(business(Some("business-cdrs")))
        .send()
        .await
        .expect("UpdateGlobalSettings");
    assert_eq!(
        cdr_buckets(&client).await,
        (Some("business-cdrs".into()), None)
    );
    // Only the Voice Connector's: Business Calling keeps its bucket.
    client
        .update_global_settings()
        .voice_connector(voice("voice-cdrs"))
        .send()
        .await
        .expect("UpdateGlobalSettings");
    assert_eq!(
        cdr_buckets(&client).await,
        (Some("business-cdrs".into()), Some("voice-cdrs".into()))
    );
    // Nothing given: nothing changes. A structure without a bucket clears it.
    client.update_global_settings().send().await.unwrap();
    client
        .update_global_settings()
        .business_calling(business(None))
        .send()
        .await
        .unwrap();
    assert_eq!(
        cdr_buckets(&client).await,
        (None, Some("voice-cdrs".into()))
    );

    let key = server.new_key("222222222222", false).await;
    assert_eq!(cdr_buckets(&server.client_for(&key)).await, (None, None));
    // The AWS account's settings are not a Chime account's: a read-only key reads them and
    // cannot write them.
    let reader = server.client_for(&server.new_key(ROOT_AWS_ACCOUNT, true).await);
    assert_eq!(
        cdr_buckets(&reader).await,
        (None, Some("voice-cdrs".into()))
    );
    expect_error(
        reader
            .update_global_settings()
            .voice_connector(voice("mine"))
            .send()
            .await,
        FORBIDDEN,
        "read-only UpdateGlobalSettings",
    );
    expect_error(
        set_calling_name(&reader, "Mine").await,
        FORBIDDEN,
        "read-only UpdatePhoneNumberSettings",
    );
}

// ---------------------------------------------------------------------------------------
// Retention settings (per Chime account)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn retention_settings_are_for_enterprise_accounts() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let a = server.account("Retained").await;

    // A Team account has none and cannot have any.
    let got = client
        .get_retention_settings()
        .account_id(&a)
        .send()
        .await
        .expect("GetRetentionSettings");
    assert_eq!(days(got.retention_settings()), (None, None));
    assert!(got.initiate_deletion_timestamp().is_none());
    let f = expect_error(
        put_retention(&client, &a, Some(30), None).await,
        CONFLICT,
        "a Team account's retention",
    );
    assert!(f.message().contains("Enterprise"), "{}", f.message());

    make_enterprise(&server, &a).await;
    let account = client.get_account().account_id(&a).send().await.unwrap();
    assert_eq!(
        account
            .account()
            .unwrap()
            .account_type()
            .map(|t| t.as_str()),
        Some("EnterpriseLWA")
    );

    let before = now_millis();
    let put = put_retention(&client, &a, Some(30), Some(5475))
        .await
        .expect("PutRetentionSettings");
    assert_eq!(days(put.retention_settings()), (Some(30), Some(5475)));
    // Deleted for good once the 30 days in which messages can be restored have passed.
    let deletion = millis(put.initiate_deletion_timestamp());
    assert!(
        deletion >= before + 30 * DAY_MS && deletion <= now_millis() + 30 * DAY_MS,
        "{deletion}"
    );
    let got = client
        .get_retention_settings()
        .account_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(days(got.retention_settings()), (Some(30), Some(5475)));
    assert_eq!(millis(got.initiate_deletion_timestamp()), deletion);

    // A kind left out is turned off; both off, nothing is to be deleted.
    let put = put_retention(&client, &a, None, Some(1)).await.unwrap();
    assert_eq!(days(put.retention_settings()), (None, Some(1)));
    let put = put_retention(&client, &a, None, None).await.unwrap();
    assert_eq!(days(put.retention_settings()), (None, None));
    assert!(put.initiate_deletion_timestamp().is_none());
    let got = client
        .get_retention_settings()
        .account_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(days(got.retention_settings()), (None, None));
    assert!(got.initiate_deletion_timestamp().is_none());
}

#[tokio::test]
async fn retention_days_are_bounded_and_other_tenants_are_not_found() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let a = server.account("Bounded").await;
    make_enterprise(&server, &a).await;

    for (room, conversation, member, bound) in [
        (
            Some(0),
            None,
            "roomRetentionSettings",
            "greater than or equal to 1",
        ),
        (
            None,
            Some(5476),
            "conversationRetentionSettings",
            "less than or equal to 5475",
        ),
        (
            Some(-3),
            None,
            "roomRetentionSettings",
            "greater than or equal to 1",
        ),
    ] {
        let f = expect_error(
            put_retention(&client, &a, room, conversation).await,
            BAD_REQUEST,
            member,
        );
        assert!(
            f.message().contains(member) && f.message().contains(bound),
            "{}",
            f.message()
        );
    }
    let raw = server
        .raw("PUT", &format!("/accounts/{a}/retention-settings"), "{}")
        .await;
    assert_eq!(
        raw.status, 400,
        "RetentionSettings is required: {}",
        raw.body
    );
    let got = client
        .get_retention_settings()
        .account_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        days(got.retention_settings()),
        (None, None),
        "nothing was put"
    );

    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    for account in [a.clone(), missing_id()] {
        expect_error(
            stranger
                .get_retention_settings()
                .account_id(&account)
                .send()
                .await,
            NOT_FOUND,
            "another tenant's GetRetentionSettings",
        );
        expect_error(
            put_retention(&stranger, &account, Some(7), None).await,
            NOT_FOUND,
            "another tenant's PutRetentionSettings",
        );
    }
}

// ---------------------------------------------------------------------------------------
// Sign-in delegate groups
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn signin_delegate_groups_show_in_get_account_and_list_accounts() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Delegated").await;
    let other = server.account("Plain").await;
    assert!(group_names(&client, &a).await.is_empty());

    associate(&client, &a, vec![group("Engineering"), group("Admins")])
        .await
        .expect("AssociateSigninDelegateGroupsWithAccount");
    // Again, with one already there: idempotent.
    associate(&client, &a, vec![group("Admins"), group("Sales")])
        .await
        .expect("associating a group again");
    assert_eq!(
        group_names(&client, &a).await,
        ["Admins", "Engineering", "Sales"]
    );
    let listed = client.list_accounts().send().await.unwrap();
    let by_id = |id: &str| {
        listed
            .accounts()
            .iter()
            .find(|x| x.account_id() == id)
            .expect("listed")
            .signin_delegate_groups()
            .iter()
            .map(|g| g.group_name().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_id(&a), ["Admins", "Engineering", "Sales"]);
    assert!(by_id(&other).is_empty());

    // A name the account has no group of is passed over.
    disassociate(&client, &a, &["Engineering", "Nobody"])
        .await
        .expect("DisassociateSigninDelegateGroupsFromAccount");
    assert_eq!(group_names(&client, &a).await, ["Admins", "Sales"]);

    // DeleteAccount takes its groups and retention settings with it.
    put_retention(&client, &a, Some(5), None)
        .await
        .expect_err("a Team account");
    server
        .store
        .set_account_type(&a, belfry::model::AccountType::EnterpriseDirectory)
        .await
        .unwrap();
    put_retention(&client, &a, Some(5), None)
        .await
        .expect("an Enterprise account");
    client
        .delete_account()
        .account_id(&a)
        .send()
        .await
        .expect("DeleteAccount with groups and retention");
    expect_error(
        client.get_account().account_id(&a).send().await,
        NOT_FOUND,
        "the deleted account",
    );
}

#[tokio::test]
async fn signin_delegate_group_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Groups").await;

    let f = expect_error(
        associate(
            &client,
            &a,
            vec![
                group("Fine"),
                group(" \t"),
                SigninDelegateGroup::builder().build(),
            ],
        )
        .await,
        BAD_REQUEST,
        "blank and absent group names",
    );
    assert!(
        f.message().starts_with("2 validation errors")
            && f.message()
                .contains("signinDelegateGroups.2.member.groupName")
            && f.message()
                .contains("signinDelegateGroups.3.member.groupName"),
        "{}",
        f.message()
    );
    assert!(group_names(&client, &a).await.is_empty(), "nothing written");
    let f = expect_error(
        disassociate(&client, &a, &[]).await,
        BAD_REQUEST,
        "no group names",
    );
    assert!(f.message().contains("'groupNames'"), "{}", f.message());

    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    for account in [a.clone(), missing_id()] {
        expect_error(
            associate(&stranger, &account, vec![group("Intruders")]).await,
            NOT_FOUND,
            "another tenant's associate",
        );
        expect_error(
            disassociate(&stranger, &account, &["Intruders"]).await,
            NOT_FOUND,
            "another tenant's disassociate",
        );
    }
    assert!(group_names(&client, &a).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// CreateMeetingDialOut
// ---------------------------------------------------------------------------------------

const MEETING: &str = "3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4e";

#[tokio::test]
async fn a_dial_out_needs_a_registered_meeting() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let dial = |meeting: &str| {
        client
            .create_meeting_dial_out()
            .meeting_id(meeting)
            .from_phone_number("+12065550100")
            .to_phone_number("+14155550123")
            .join_token("am9pbi10b2tlbg")
            .send()
    };

    // No such meeting: the model gives the operation no NotFoundException.
    let f = expect_error(dial(MEETING).await, BAD_REQUEST, "an unregistered meeting");
    assert!(f.message().contains(MEETING), "{}", f.message());

    let (status, registered) = server
        .admin("POST", "meetings", Some(json!({ "MeetingId": MEETING })))
        .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["Meeting"]["MeetingId"], MEETING);
    let before = now_millis();
    let out = dial(MEETING).await.expect("CreateMeetingDialOut");
    let transaction = out.transaction_id().expect("TransactionId").to_string();
    assert!(is_uuid_v4(&transaction), "{transaction}");
    let again = dial(MEETING).await.unwrap();
    assert_ne!(again.transaction_id(), Some(transaction.as_str()));

    let (status, body) = server
        .admin("GET", &format!("meetings/{MEETING}/dial-outs"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let calls = body["DialOuts"].as_array().expect("DialOuts");
    assert_eq!(calls.len(), 2);
    let first = &calls[0];
    assert_eq!(first["TransactionId"], transaction.as_str());
    assert_eq!(first["FromPhoneNumber"], "+12065550100");
    assert_eq!(first["ToPhoneNumber"], "+14155550123");
    assert_eq!(first["AwsAccountId"], ROOT_AWS_ACCOUNT);
    let at = belfry::time::parse_iso8601_millis(first["CreatedTimestamp"].as_str().unwrap())
        .expect("a timestamp");
    assert!(at >= before && at <= now_millis());

    // Any caller may dial out of a registered meeting; a meeting registered again is the same.
    let key = server.new_key("222222222222", false).await;
    let stranger = server.client_for(&key);
    stranger
        .create_meeting_dial_out()
        .meeting_id(MEETING)
        .from_phone_number("12065550100")
        .to_phone_number("+442071838750")
        .join_token("Ab")
        .send()
        .await
        .expect("another AWS account's dial-out");
    let (status, again) = server
        .admin("POST", "meetings", Some(json!({ "MeetingId": MEETING })))
        .await;
    assert_eq!((status, &again), (201, &registered));

    // Reset forgets meetings (and every AWS account's settings).
    let (status, _) = server.admin("POST", "reset", None).await;
    assert_eq!(status, 204);
    expect_error(
        dial(MEETING).await,
        BAD_REQUEST,
        "a meeting gone with reset",
    );
    let (status, _) = server
        .admin("GET", &format!("meetings/{MEETING}/dial-outs"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn dial_out_input_follows_the_model() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let (status, body) = server.admin("POST", "meetings", Some(json!({}))).await;
    assert_eq!(status, 201, "{body}");
    let meeting = body["Meeting"]["MeetingId"].as_str().unwrap().to_string();
    assert!(is_uuid_v4(&meeting), "a new meeting id: {meeting}");
    let (status, _) = server
        .admin(
            "POST",
            "meetings",
            Some(json!({ "MeetingId": "not-a-guid" })),
        )
        .await;
    assert_eq!(status, 400);

    let long_token = "A".repeat(2049);
    for (meeting_id, from, to, token, member) in [
        (
            "not-a-guid",
            "+12065550100",
            "+12065550101",
            "Ab",
            "'meetingId'",
        ),
        (
            &meeting[..],
            "+02065550100",
            "+12065550101",
            "Ab",
            "'fromPhoneNumber'",
        ),
        (
            &meeting[..],
            "+12065550100",
            "555-0101",
            "Ab",
            "'toPhoneNumber'",
        ),
        (
            &meeting[..],
            "+12065550100",
            "+12065550101",
            "A",
            "'joinToken'",
        ),
        (
            &meeting[..],
            "+12065550100",
            "+12065550101",
            &long_token[..],
            "'joinToken'",
        ),
        (
            &meeting[..],
            "+12065550100",
            "+12065550101",
            "abc=",
            "'joinToken'",
        ),
    ] {
        let f = expect_error(
            client
                .create_meeting_dial_out()
                .meeting_id(meeting_id)
                .from_phone_number(from)
                .to_phone_number(to)
                .join_token(token)
                .send()
                .await,
            BAD_REQUEST,
            member,
        );
        assert!(f.message().contains(member), "{member}: {}", f.message());
        assert!(
            !f.message().contains(from) && !f.message().contains(to),
            "phone numbers are sensitive: {}",
            f.message()
        );
    }
    let raw = server
        .raw("POST", &format!("/meetings/{meeting}/dial-outs"), "{}")
        .await;
    assert_eq!(raw.status, 400);
    assert!(
        raw.body.contains("3 validation errors"),
        "every required member: {}",
        raw.body
    );
    let (_, calls) = server
        .admin("GET", &format!("meetings/{meeting}/dial-outs"), None)
        .await;
    assert_eq!(calls["DialOuts"], json!([]), "no call was placed");
}

#[tokio::test]
async fn reset_clears_every_aws_accounts_settings() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    set_calling_name(&client, "Before Reset").await.unwrap();
    client
        .update_global_settings()
        .voice_connector(VoiceConnectorSettings::builder().cdr_bucket("b").build())
        .send()
        .await
        .unwrap();
    let (status, _) = server.admin("POST", "reset", None).await;
    assert_eq!(status, 204);
    assert_eq!(calling_name(&client).await, (None, None));
    assert_eq!(cdr_buckets(&client).await, (None, None));
    // ... so the seven days start again.
    set_calling_name(&client, "After Reset")
        .await
        .expect("a new name after reset");
}
