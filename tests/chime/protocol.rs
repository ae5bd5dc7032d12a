//! What every operation shares on the wire: a distinct request id on every response, success
//! and error alike; the modeled status codes (204 without a body, 200 with one) of the
//! lifecycle operations; and authentication before anything an operation does.

use std::collections::HashSet;

use aws_sdk_chime::Client;
use aws_sdk_chime::operation::RequestId;

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Ids").await;

    let a = client.list_accounts().send().await.unwrap();
    let b = client
        .list_users()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    let c = client
        .get_account()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    let ids = [a.request_id(), b.request_id(), c.request_id()];
    let ids: Vec<&str> = ids
        .iter()
        .map(|id| id.expect("request id on success"))
        .collect();
    assert!(ids.iter().all(|id| !id.is_empty()));
    let distinct: HashSet<&&str> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "request ids are distinct: {ids:?}"
    );

    let err = client
        .get_account()
        .account_id(missing_id())
        .send()
        .await
        .expect_err("missing account");
    let id = err
        .request_id()
        .expect("request id on an error")
        .to_string();
    assert!(!id.is_empty());
    let service_err = err.into_service_error();
    assert_eq!(service_err.request_id(), Some(id.as_str()));

    let err = client
        .list_users()
        .account_id(&account)
        .max_results(0)
        .send()
        .await
        .expect_err("validation error");
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));

    let bad_key = belfry::store::AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let err = server
        .client_for(&bad_key)
        .list_accounts()
        .send()
        .await
        .expect_err("unknown key");
    assert!(
        err.request_id().is_some_and(|id| !id.is_empty()),
        "request id on an authentication failure"
    );
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
    provision(&client, &["+14155550100"]).await;

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
// Authentication comes first
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_secret_is_refused_before_any_operation_runs() {
    let server = TestServer::start().await;
    let a = server.account("Authenticated").await;
    let mut wrong_secret = server.root.clone();
    wrong_secret.secret_access_key = "0".repeat(40);

    async fn calls(client: &Client, a: &str) -> Vec<(&'static str, WireOutcome)> {
        vec![
            (
                "GetPhoneNumberOrder",
                wire_outcome(
                    client
                        .get_phone_number_order()
                        .phone_number_order_id(a)
                        .send()
                        .await,
                ),
            ),
            (
                "DeletePhoneNumber",
                wire_outcome(
                    client
                        .delete_phone_number()
                        .phone_number_id("+12065550100")
                        .send()
                        .await,
                ),
            ),
            (
                "GetPhoneNumberSettings",
                wire_outcome(client.get_phone_number_settings().send().await),
            ),
            (
                "SearchAvailablePhoneNumbers",
                wire_outcome(client.search_available_phone_numbers().send().await),
            ),
        ]
    }

    // With the right key each runs: the order, number and meeting named are not there.
    for (name, got) in calls(&server.client(), &a).await {
        let status = got.error().map(|(status, _)| status);
        assert!(
            matches!(status, None | Some(400) | Some(404)),
            "{name}: {got:?}"
        );
        assert!(!got.message().contains("not supported"), "{name}: {got:?}");
    }
    for (name, got) in calls(&server.client_for(&wrong_secret), &a).await {
        assert_eq!(
            got.error(),
            Some((401, Some("UnauthorizedClientException"))),
            "{name} with a wrong secret: {got:?}"
        );
        assert_eq!(got.code(), Some("UnauthorizedClientException"), "{name}");
    }
}
