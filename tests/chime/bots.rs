//! Bots and their events through aws-sdk-chime: CreateBot, GetBot, ListBots, UpdateBot,
//! RegenerateSecurityToken, Put/Get/DeleteEventsConfiguration; a bot as a room member; and the
//! `Mention` event delivered, signed, to a receiver this test runs.

use std::time::Duration;

use aws_sdk_chime::Client;
use aws_sdk_chime::types::{BotType, MemberType};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::common::*;

async fn create_bot(client: &Client, account_id: &str, name: &str) -> aws_sdk_chime::types::Bot {
    client
        .create_bot()
        .account_id(account_id)
        .display_name(name)
        .domain("example.com")
        .send()
        .await
        .expect("CreateBot")
        .bot()
        .expect("Bot")
        .clone()
}

/// One HTTP request a receiver got.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A bot's endpoint: answers every request `200` and hands it to the channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, body_start) = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&data[..end]).into_owned(), end + 4);
                    }
                };
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while data.len() < body_start + length {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&buf[..n]);
                }
                let body = String::from_utf8_lossy(&data[body_start..]).into_owned();
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tx.send(Received {
                    request_line,
                    headers,
                    body,
                });
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn a_bot_is_created_as_the_service_made_it_and_is_not_a_user() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Bots").await;
    let before = now_millis();
    let bot = create_bot(&client, &account, "myBot").await;
    let bot_id = bot.bot_id().expect("BotId").to_string();
    assert!(is_uuid_v4(&bot_id));
    assert_eq!(bot.user_id(), Some(bot_id.as_str()), "UserId is the BotId");
    assert_eq!(bot.display_name(), Some("myBot (Bot)"));
    assert_eq!(bot.bot_email(), Some("myBot-chimebot@example.com"));
    assert_eq!(bot.bot_type(), Some(&BotType::ChatBot));
    assert_eq!(bot.disabled(), Some(false));
    let token = bot.security_token().expect("SecurityToken").to_string();
    assert_eq!(token.len(), 40);
    assert!(bot.created_timestamp().unwrap().to_millis().unwrap() >= before - 1000);

    let got = client
        .get_bot()
        .account_id(&account)
        .bot_id(&bot_id)
        .send()
        .await
        .expect("GetBot");
    assert_eq!(got.bot(), Some(&bot));

    // Not a user: ListUsers does not show it, GetUser does not find it.
    assert!(list_all(&client, &account).await.is_empty());
    expect_error(
        client
            .get_user()
            .account_id(&account)
            .user_id(&bot_id)
            .send()
            .await,
        NOT_FOUND,
        "GetUser of a bot",
    );

    let disabled = client
        .update_bot()
        .account_id(&account)
        .bot_id(&bot_id)
        .disabled(true)
        .send()
        .await
        .expect("UpdateBot")
        .bot()
        .unwrap()
        .clone();
    assert_eq!(disabled.disabled(), Some(true));
    assert_eq!(disabled.security_token(), Some(token.as_str()));

    let regenerated = client
        .regenerate_security_token()
        .account_id(&account)
        .bot_id(&bot_id)
        .send()
        .await
        .expect("RegenerateSecurityToken")
        .bot()
        .unwrap()
        .clone();
    let new_token = regenerated.security_token().unwrap();
    assert_ne!(new_token, token);
    assert_eq!(new_token.len(), 40);
    let got = client
        .get_bot()
        .account_id(&account)
        .bot_id(&bot_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.bot().unwrap().security_token(), Some(new_token));

    let no_domain = client
        .create_bot()
        .account_id(&account)
        .display_name("Plain")
        .send()
        .await
        .expect("CreateBot without a domain");
    assert_eq!(
        no_domain.bot().unwrap().bot_email(),
        Some("Plain-chimebot@belfry.invalid")
    );

    for (account_id, bot_id, what) in [
        (account.clone(), missing_id(), "GetBot of a missing bot"),
        (missing_id(), bot_id.clone(), "GetBot in a missing account"),
    ] {
        expect_error(
            client
                .get_bot()
                .account_id(account_id)
                .bot_id(bot_id)
                .send()
                .await,
            NOT_FOUND,
            what,
        );
    }
    expect_error(
        client
            .update_bot()
            .account_id(&account)
            .bot_id(missing_id())
            .disabled(false)
            .send()
            .await,
        NOT_FOUND,
        "UpdateBot of a missing bot",
    );
    expect_error(
        client
            .regenerate_security_token()
            .account_id(&account)
            .bot_id(missing_id())
            .send()
            .await,
        NOT_FOUND,
        "RegenerateSecurityToken of a missing bot",
    );
}

#[tokio::test]
async fn list_bots_pages_in_creation_order() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Bot list").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create_bot(&client, &account, &format!("bot{i}"))
                .await
                .bot_id()
                .unwrap()
                .to_string(),
        );
    }
    let mut listed = Vec::new();
    let mut page_sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_bots()
            .account_id(&account)
            .max_results(2)
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListBots");
        page_sizes.push(out.bots().len());
        listed.extend(out.bots().iter().map(|b| {
            let created = *b.created_timestamp().expect("CreatedTimestamp");
            (created, b.bot_id().expect("BotId").to_string())
        }));
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(page_sizes, [2, 2, 1], "pages of MaxResults 2");
    assert_creation_order(&listed, &ids, "ListBots");
    expect_error(
        client
            .list_bots()
            .account_id(&account)
            .max_results(0)
            .send()
            .await,
        BAD_REQUEST,
        "ListBots MaxResults 0",
    );
    let stranger = server.client_for(&server.new_key("222222222222", false).await);
    expect_error(
        stranger.list_bots().account_id(&account).send().await,
        NOT_FOUND,
        "ListBots by a stranger",
    );
    let reader = server.client_for(&server.new_key(ROOT_AWS_ACCOUNT, true).await);
    expect_error(
        reader
            .create_bot()
            .account_id(&account)
            .display_name("no")
            .send()
            .await,
        FORBIDDEN,
        "CreateBot by a read-only key",
    );
}

#[tokio::test]
async fn an_events_configuration_is_one_https_endpoint_or_one_lambda_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Events").await;
    let bot = create_bot(&client, &account, "hook").await;
    let bot_id = bot.bot_id().unwrap();

    expect_error(
        client
            .get_events_configuration()
            .account_id(&account)
            .bot_id(bot_id)
            .send()
            .await,
        NOT_FOUND,
        "none yet",
    );

    let put = |endpoint: Option<&str>, arn: Option<&str>| {
        client
            .put_events_configuration()
            .account_id(&account)
            .bot_id(bot_id)
            .set_outbound_events_https_endpoint(endpoint.map(str::to_string))
            .set_lambda_function_arn(arn.map(str::to_string))
            .send()
    };
    let arn = "arn:aws:lambda:us-east-1:111122223333:function:function-name";
    for (endpoint, lambda, what) in [
        (None, None, "neither"),
        (Some("https://bot.example.com/events"), Some(arn), "both"),
        (
            Some("http://bot.example.com/events"),
            None,
            "plain HTTP to a remote host",
        ),
        (Some("not a url"), None, "not a URL"),
        (None, Some("arn:aws:s3:::bucket"), "not a Lambda function"),
    ] {
        expect_error(put(endpoint, lambda).await, BAD_REQUEST, what);
    }

    let out = put(Some("https://bot.example.com/events"), None)
        .await
        .expect("PutEventsConfiguration");
    let config = out.events_configuration().unwrap();
    assert_eq!(config.bot_id(), Some(bot_id));
    assert_eq!(
        config.outbound_events_https_endpoint(),
        Some("https://bot.example.com/events")
    );
    assert_eq!(config.lambda_function_arn(), None);
    let got = client
        .get_events_configuration()
        .account_id(&account)
        .bot_id(bot_id)
        .send()
        .await
        .expect("GetEventsConfiguration");
    assert_eq!(got.events_configuration(), Some(config));

    let out = put(None, Some(arn))
        .await
        .expect("a Lambda function instead");
    let config = out.events_configuration().unwrap();
    assert_eq!(config.lambda_function_arn(), Some(arn));
    assert_eq!(config.outbound_events_https_endpoint(), None);

    for _ in 0..2 {
        client
            .delete_events_configuration()
            .account_id(&account)
            .bot_id(bot_id)
            .send()
            .await
            .expect("DeleteEventsConfiguration (again: still 204)");
    }
    expect_error(
        client
            .get_events_configuration()
            .account_id(&account)
            .bot_id(bot_id)
            .send()
            .await,
        NOT_FOUND,
        "GetEventsConfiguration after DeleteEventsConfiguration",
    );
    expect_error(
        client
            .delete_events_configuration()
            .account_id(&account)
            .bot_id(missing_id())
            .send()
            .await,
        BAD_REQUEST,
        "the model gives DeleteEventsConfiguration no NotFound",
    );
    expect_error(
        client
            .put_events_configuration()
            .account_id(&account)
            .bot_id(missing_id())
            .outbound_events_https_endpoint("https://a.example.com/")
            .send()
            .await,
        NOT_FOUND,
        "PutEventsConfiguration of a missing bot",
    );
}

#[tokio::test]
async fn a_mentioned_bot_gets_the_signed_mention_event_at_its_endpoint() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let account = server.account("Webhooks").await;
    let ada = create_user(&client, &account, "ada@example.com").await;
    let bot = create_bot(&client, &account, "myBot").await;
    let bot_id = bot.bot_id().unwrap().to_string();
    let room = create_room(&client, &account, "Ops").await;

    expect_error(
        client
            .create_room_membership()
            .account_id(&account)
            .room_id(&room)
            .member_id(&bot_id)
            .send()
            .await,
        BAD_REQUEST,
        "without an endpoint a bot cannot join a room",
    );

    let (url, mut received) = receiver().await;
    client
        .put_events_configuration()
        .account_id(&account)
        .bot_id(&bot_id)
        .outbound_events_https_endpoint(&url)
        .send()
        .await
        .expect("a loopback receiver may be plain HTTP");
    let membership = client
        .batch_create_room_membership()
        .account_id(&account)
        .room_id(&room)
        .membership_item_list(membership_item(&bot_id, None))
        .membership_item_list(membership_item(ada.user_id(), None))
        .send()
        .await
        .expect("BatchCreateRoomMembership");
    assert!(membership.errors().is_empty(), "{:?}", membership.errors());
    let members = client
        .list_room_memberships()
        .account_id(&account)
        .room_id(&room)
        .send()
        .await
        .unwrap();
    let bot_member = members
        .room_memberships()
        .iter()
        .map(|m| m.member().unwrap())
        .find(|m| m.member_id() == Some(bot_id.as_str()))
        .expect("the bot is a member");
    assert_eq!(bot_member.member_type(), Some(&MemberType::Bot));
    assert_eq!(bot_member.email(), Some("myBot-chimebot@example.com"));
    assert_eq!(bot_member.full_name(), Some("myBot (Bot)"));

    let path = format!("accounts/{account}/rooms/{room}/messages");
    let quiet = server
        .post_message(&path, ada.user_id(), "no mention here")
        .await;
    assert_eq!(quiet["MentionedBots"], json!([]));
    let loud = server
        .post_message(&path, ada.user_id(), "@myBot deploy please")
        .await;
    assert_eq!(loud["MentionedBots"], json!([bot_id]));

    let event = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("the event arrives")
        .expect("receiver open");
    assert_eq!(event.request_line, "POST /events HTTP/1.1");
    assert_eq!(event.header("content-type"), Some("application/json"));
    let timestamp = event.header("chime-request-timestamp").expect("timestamp");
    let signature = event.header("chime-signature").expect("signature");
    let mut mac = Hmac::<Sha256>::new_from_slice(bot.security_token().unwrap().as_bytes()).unwrap();
    mac.update(format!("{timestamp}|{}", event.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        signature, expected,
        "HMAC-SHA256 of timestamp|body, keyed by the token"
    );
    let payload: serde_json::Value = serde_json::from_str(&event.body).unwrap();
    assert_eq!(payload["EventType"], "Mention");
    assert_eq!(payload["Sender"]["SenderId"], "ada@example.com");
    assert_eq!(payload["Sender"]["SenderIdType"], "EmailId");
    assert_eq!(payload["Discussion"]["DiscussionId"], room.as_str());
    assert_eq!(payload["Discussion"]["DiscussionType"], "Room");
    assert_eq!(payload["Message"], "@myBot deploy please");
    assert!(is_iso8601_millis(
        payload["EventTimestamp"].as_str().unwrap()
    ));

    // A disabled bot is not told.
    client
        .update_bot()
        .account_id(&account)
        .bot_id(&bot_id)
        .disabled(true)
        .send()
        .await
        .unwrap();
    let muted = server
        .post_message(&path, ada.user_id(), "@myBot are you there?")
        .await;
    assert_eq!(muted["MentionedBots"], json!([]));
}

#[tokio::test]
async fn a_failed_delivery_never_fails_the_post_and_is_counted() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let account = server.account("Failing hook").await;
    let ada = create_user(&client, &account, "ada@example.com").await;
    let bot = create_bot(&client, &account, "Pager").await;
    let bot_id = bot.bot_id().unwrap();
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", closed.local_addr().unwrap());
    drop(closed);
    client
        .put_events_configuration()
        .account_id(&account)
        .bot_id(bot_id)
        .outbound_events_https_endpoint(url)
        .send()
        .await
        .unwrap();
    let room = create_room(&client, &account, "Alerts").await;
    for member in [bot_id, ada.user_id()] {
        add_member(&client, &account, &room, member).await;
    }
    // The post is accepted although the delivery fails.
    server
        .post_message(
            &format!("accounts/{account}/rooms/{room}/messages"),
            ada.user_id(),
            "@Pager wake up",
        )
        .await;
    let metrics_url = format!("{}/metrics", server.endpoint);
    let mut text = String::new();
    for _ in 0..100 {
        text = reqwest::get(&metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(r#"belfry_bot_events_total{outcome="failed"} 1"#) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the failed delivery was not counted:\n{text}");
}
