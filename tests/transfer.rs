//! Import and export of an account's users, rooms and bots (`belfry import` / `export`),
//! checked through what aws-sdk-chime then sees, on the backend of the run.

mod common;

use std::io::Cursor;

use aws_sdk_chime::types::{License as SdkLicense, UserType as SdkUserType};
use belfry::embedded::EmbeddedServer;
use belfry::store::{Location, Store};
use belfry::transfer::{Format, ImportError, ImportOptions, ImportSummary, export, import};
use common::*;

/// Every user of the account as ListUsers returns them, through the SDK's paginator.
async fn list_all(
    client: &aws_sdk_chime::Client,
    account_id: &str,
) -> Vec<aws_sdk_chime::types::User> {
    let mut users = Vec::new();
    let mut pages = client
        .list_users()
        .account_id(account_id)
        .max_results(200)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        users.extend(page.expect("a page").users().iter().cloned());
    }
    users
}

async fn import_text(
    store: &Store,
    text: &str,
    format: Format,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    import(
        store,
        Cursor::new(text.as_bytes().to_vec()),
        format,
        options,
        |_| {},
    )
    .await
}

fn into(account_id: &str) -> ImportOptions {
    ImportOptions {
        account_id: Some(account_id.to_string()),
        ..ImportOptions::default()
    }
}

const SAMPLE: &str = r#"{"PrimaryEmail":"Élodie.Durand@Example.com","DisplayName":"Élodie Durand","LicenseType":"Basic","UserType":"SharedDevice","UserRegistrationStatus":"Registered","UserInvitationStatus":"Accepted","RegisteredOn":"2019-01-04T17:11:22.003Z","InvitedOn":"2019-01-03T08:00:00.000Z","PersonalPIN":"0123456789","PrimaryProvisionedNumber":"+12065550100"}
{"PrimaryEmail":"bo@example.com"}

{"PrimaryEmail":"not-an-email"}
{"PrimaryEmail":"cy@example.com","UserId":"3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4e","AlexaForBusinessMetadata":{"IsAlexaForBusinessEnabled":true,"AlexaForBusinessRoomArn":"arn:aws:a4b:us-east-1:123456789012:room/abc"}}
"#;

#[tokio::test]
async fn imported_users_are_what_list_users_returns() {
    let server = TestServer::start().await;
    let account = server.account("Imported").await;
    let summary = import_text(&server.store, SAMPLE, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    assert_eq!((summary.created, summary.updated), (3, 0));
    assert_eq!(summary.bad_count, 1);
    assert_eq!(summary.bad[0].0, 4, "the bad record's line number");
    assert!(
        summary.bad[0].1.contains("not an email"),
        "{:?}",
        summary.bad
    );

    let users = list_all(&server.client(), &account).await;
    let emails: Vec<&str> = users.iter().filter_map(|u| u.primary_email()).collect();
    assert_eq!(
        emails,
        [
            "bo@example.com",
            "cy@example.com",
            "Élodie.Durand@Example.com"
        ],
        "ListUsers order: by email, case-insensitively"
    );
    let elodie = &users[2];
    assert_eq!(elodie.license_type(), Some(&SdkLicense::Basic));
    assert_eq!(elodie.user_type(), Some(&SdkUserType::SharedDevice));
    assert_eq!(elodie.personal_pin(), Some("0123456789"));
    assert_eq!(elodie.primary_provisioned_number(), Some("+12065550100"));
    assert_eq!(
        elodie.registered_on().map(|t| t.to_millis().unwrap()),
        Some(1_546_621_882_003)
    );
    // Defaults as CreateUser gives them: the account's license, PrivateUser, Unregistered.
    let bo = &users[0];
    assert_eq!(bo.user_type(), Some(&SdkUserType::PrivateUser));
    assert_eq!(bo.license_type(), Some(&SdkLicense::Pro));
    assert_eq!(bo.personal_pin().map(str::len), Some(10));
    assert_eq!(users[1].user_id(), "3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4e");
    let alexa = users[1].alexa_for_business_metadata().expect("metadata");
    assert_eq!(alexa.is_alexa_for_business_enabled(), Some(true));

    // The email filter finds the imported user by another case of the address.
    let found = server
        .client()
        .list_users()
        .account_id(&account)
        .user_email("élodie.durand@example.COM")
        .send()
        .await
        .unwrap();
    assert_eq!(found.users().len(), 1);
    // The imported number is held: associating it with another user is a conflict.
    let failure = service_error(
        server
            .client()
            .associate_phone_number_with_user()
            .account_id(&account)
            .user_id(bo.user_id())
            .e164_phone_number("+12065550100")
            .send()
            .await,
    );
    failure.assert_wire(409, "ConflictException", "Conflict");
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_updates_keep_unnamed_fields() {
    let server = TestServer::start().await;
    let account = server.account("Idempotent").await;
    import_text(&server.store, SAMPLE, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    let before = list_all(&server.client(), &account).await;
    let again = import_text(&server.store, SAMPLE, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    assert_eq!((again.created, again.updated), (0, 3));
    assert_eq!(list_all(&server.client(), &account).await, before);

    // An update by email (another case) names only the license: the rest stays.
    let update = r#"{"PrimaryEmail":"ÉLODIE.DURAND@EXAMPLE.COM","LicenseType":"Plus"}"#;
    let summary = import_text(&server.store, update, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    assert_eq!((summary.created, summary.updated), (0, 1));
    let after = list_all(&server.client(), &account).await;
    let (old, new) = (&before[2], &after[2]);
    assert_eq!(new.license_type(), Some(&SdkLicense::Plus));
    assert_eq!(new.user_id(), old.user_id());
    assert_eq!(new.personal_pin(), old.personal_pin());
    assert_eq!(new.display_name(), old.display_name());
    assert_eq!(new.primary_email(), Some("ÉLODIE.DURAND@EXAMPLE.COM"));
}

#[tokio::test]
async fn strict_aborts_with_nothing_written() {
    let server = TestServer::start().await;
    let account = server.account("Strict").await;
    // A batch size of 1: the good records before the bad one were each their own batch.
    let options = ImportOptions {
        strict: true,
        batch: 1,
        ..into(&account)
    };
    match import_text(&server.store, SAMPLE, Format::JsonLines, &options).await {
        Err(ImportError::Aborted(line, reason)) => {
            assert_eq!(line, 4);
            assert!(reason.contains("not an email"), "{reason}");
        }
        other => panic!("expected an abort, got {other:?}"),
    }
    assert!(list_all(&server.client(), &account).await.is_empty());

    // A refusal by the store (a number held by another user) aborts the same way.
    let clash = "{\"PrimaryEmail\":\"a@example.com\",\"PrimaryProvisionedNumber\":\"+12065550111\"}\n\
                 {\"PrimaryEmail\":\"b@example.com\",\"PrimaryProvisionedNumber\":\"+12065550111\"}\n";
    match import_text(&server.store, clash, Format::JsonLines, &options).await {
        Err(ImportError::Aborted(2, reason)) => assert!(reason.contains("held by another user")),
        other => panic!("expected an abort on line 2, got {other:?}"),
    }
    assert!(list_all(&server.client(), &account).await.is_empty());
    // Without --strict the first goes in and the second is reported.
    let summary = import_text(&server.store, clash, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    assert_eq!(summary.created, 1);
    assert_eq!(
        summary.bad,
        vec![(
            2,
            "PrimaryProvisionedNumber +12065550111 is held by another user".to_string()
        )]
    );
}

#[tokio::test]
async fn records_name_their_account_without_account_id() {
    let server = TestServer::start().await;
    let a = server.account("A").await;
    let b = server.account("B").await;
    let text = format!(
        "{{\"AccountId\":\"{a}\",\"PrimaryEmail\":\"one@example.com\"}}\n\
         {{\"AccountId\":\"{b}\",\"PrimaryEmail\":\"two@example.com\"}}\n\
         {{\"PrimaryEmail\":\"three@example.com\"}}\n\
         {{\"AccountId\":\"00000000-0000-4000-8000-000000000000\",\"PrimaryEmail\":\"four@example.com\"}}\n"
    );
    let summary = import_text(
        &server.store,
        &text,
        Format::JsonLines,
        &ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 2);
    assert_eq!(summary.bad.len(), 2);
    assert_eq!(summary.bad[0].0, 3);
    assert!(summary.bad[0].1.contains("AccountId is required"));
    assert_eq!(summary.bad[1].0, 4);
    assert!(summary.bad[1].1.contains("does not exist"));
    assert_eq!(list_all(&server.client(), &a).await.len(), 1);
    assert_eq!(list_all(&server.client(), &b).await.len(), 1);
}

#[tokio::test]
async fn export_then_import_into_a_fresh_store_round_trips_exactly() {
    let source = TestServer::start().await;
    let account = source.account("Source").await;
    seed_users(&source.store, ROOT_AWS_ACCOUNT, &account, 2_345).await;
    import_text(&source.store, SAMPLE, Format::JsonLines, &into(&account))
        .await
        .unwrap();
    let listed = list_all(&source.client(), &account).await;
    for format in [Format::JsonLines, Format::Csv] {
        let mut exported = Vec::new();
        let written = export(&source.store, &account, format, &mut exported)
            .await
            .unwrap();
        assert_eq!(written, listed.len() as u64);
        if format == Format::JsonLines {
            // Exactly the users ListUsers returns, in its order.
            let emails: Vec<String> = String::from_utf8(exported.clone())
                .unwrap()
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["PrimaryEmail"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            let listed_emails: Vec<String> = listed
                .iter()
                .map(|u| u.primary_email().unwrap().to_string())
                .collect();
            assert_eq!(emails, listed_emails);
        }

        let target = TestServer::start().await;
        let fresh = target.account("Target").await;
        let summary = import(
            &target.store,
            Cursor::new(exported),
            format,
            &into(&fresh),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(summary.bad, vec![]);
        assert_eq!(summary.created, listed.len() as u64);
        let imported = list_all(&target.client(), &fresh).await;
        assert_eq!(imported.len(), listed.len());
        for (got, want) in imported.iter().zip(&listed) {
            // Everything but the account is the same, field by field.
            assert_eq!(got.account_id(), Some(fresh.as_str()));
            let mut got = got.clone();
            got.account_id = want.account_id.clone();
            assert_eq!(&got, want, "{format:?}");
        }
    }
}

#[tokio::test]
async fn csv_with_a_header_in_any_order() {
    let server = TestServer::start().await;
    let account = server.account("Csv").await;
    let text = "UserType,PrimaryEmail,DisplayName,AlexaForBusinessMetadata.IsAlexaForBusinessEnabled\n\
                SharedDevice,room-1@example.com,\"Room 1, floor 2\",false\n\
                ,plain@example.com,,\n\
                Robot,robot@example.com,,\n";
    let summary = import_text(&server.store, text, Format::Csv, &into(&account))
        .await
        .unwrap();
    assert_eq!(summary.created, 2);
    assert_eq!(summary.bad.len(), 1);
    assert_eq!(summary.bad[0].0, 4);
    assert!(summary.bad[0].1.contains("UserType must be one of"));
    let users = list_all(&server.client(), &account).await;
    assert_eq!(users[1].display_name(), Some("Room 1, floor 2"));
    assert_eq!(users[1].user_type(), Some(&SdkUserType::SharedDevice));
    assert_eq!(users[0].display_name(), None);

    let bad_header = "Email,Name\nx@example.com,X\n";
    match import_text(&server.store, bad_header, Format::Csv, &into(&account)).await {
        Err(ImportError::Input(e)) => assert!(e.contains("unknown column \"Email\""), "{e}"),
        other => panic!("expected a header error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_runs_while_the_server_serves() {
    let server = TestServer::start().await;
    let account = server.account("Busy").await;
    let mut text = String::new();
    for i in 0..3_000 {
        text.push_str(&format!(
            "{{\"PrimaryEmail\":\"bulk.{i:05}@example.com\"}}\n"
        ));
    }
    let store = server.store.clone();
    let options = ImportOptions {
        batch: 500,
        ..into(&account)
    };
    let importing =
        tokio::spawn(async move { import_text(&store, &text, Format::JsonLines, &options).await });
    // Writes through the API while the import runs: none fails.
    let client = server.client();
    for i in 0..30 {
        client
            .create_user()
            .account_id(&account)
            .email(format!("api.{i:03}@example.com"))
            .send()
            .await
            .expect("API writes go on during an import");
    }
    let summary = importing.await.unwrap().unwrap();
    assert_eq!(summary.created, 3_000);
    assert_eq!(list_all(&client, &account).await.len(), 3_030);
}

#[tokio::test]
async fn the_memory_store_keeps_nothing_on_disk_and_works() {
    let store = Store::open(&Location::Memory).await.unwrap();
    let account = store.create_account("111111111111", "Mem").await.unwrap();
    import_text(
        &store,
        SAMPLE,
        Format::JsonLines,
        &into(&account.account_id),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        export(&store, &account.account_id, Format::JsonLines, &mut out)
            .await
            .unwrap(),
        3
    );
    // A second in-memory store is a store of its own.
    let other = Store::open(&Location::Memory).await.unwrap();
    assert!(other.account_owner(&account.account_id).await.is_err());
}

#[tokio::test]
async fn the_embedded_server_serves_the_sdk() {
    let belfry = EmbeddedServer::start().await.unwrap();
    let key = belfry::store::AccessKey {
        access_key_id: belfry.access_key_id().to_string(),
        secret_access_key: belfry.secret_access_key().to_string(),
        aws_account_id: belfry.aws_account_id().to_string(),
        read_only: false,
    };
    let client = client_for_endpoint(belfry.endpoint(), &key);
    let account = client
        .create_account()
        .name("Embedded")
        .send()
        .await
        .unwrap();
    let account_id = account.account().unwrap().account_id().to_string();
    client
        .invite_users()
        .account_id(&account_id)
        .user_email_list("ada@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(list_all(&client, &account_id).await.len(), 1);
    let endpoint = belfry.endpoint().to_string();
    belfry.stop().await;
    assert!(
        tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://"))
            .await
            .is_err(),
        "stopped"
    );
}

/// `--data DIR` or `--database-url URL` for a `belfry` command on this store.
fn store_args(location: &Location) -> Vec<String> {
    match location {
        Location::Dir(dir) => vec!["--data".into(), dir.display().to_string()],
        Location::Url(url) => vec!["--database-url".into(), url.clone()],
        Location::Memory => unreachable!("test stores are on disk or in PostgreSQL"),
    }
}

/// Runs `belfry <args>` with `stdin`, returning its stdout; panics unless it succeeds.
fn belfry(args: &[String], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("belfry runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "belfry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A server with an account of these users (private users), to export from.
async fn source_with_users(
    name: &str,
    emails: &[&str],
) -> (TestServer, String, Vec<belfry::store::User>) {
    let source = TestServer::start().await;
    let account = source.account(name).await;
    let users: Vec<_> = emails
        .iter()
        .map(|e| make_user(&account, e, belfry::model::UserType::PrivateUser))
        .collect();
    source
        .store
        .insert_users(ROOT_AWS_ACCOUNT, &account, &users)
        .await
        .unwrap();
    (source, account, users)
}

#[tokio::test]
async fn rooms_and_bots_move_with_the_cli_ids_and_all() {
    use aws_sdk_chime::types::{MembershipItem, RoomMembershipRole};

    let (source, account, users) = source_with_users(
        "Rooms source",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    )
    .await;
    let client = source.client();
    let bot = client
        .create_bot()
        .account_id(&account)
        .display_name("Mover")
        .domain("example.com")
        .send()
        .await
        .unwrap()
        .bot
        .unwrap();
    let bot_id = bot.bot_id().unwrap().to_string();
    client
        .put_events_configuration()
        .account_id(&account)
        .bot_id(&bot_id)
        .outbound_events_https_endpoint("https://bot.example.com/events")
        .send()
        .await
        .unwrap();
    client
        .create_bot()
        .account_id(&account)
        .display_name("Idle")
        .send()
        .await
        .unwrap();
    let mut rooms = Vec::new();
    for (i, name) in ["Alpha", "Beta"].into_iter().enumerate() {
        let room = client
            .create_room()
            .account_id(&account)
            .name(name)
            .send()
            .await
            .unwrap()
            .room
            .unwrap();
        let room_id = room.room_id().unwrap().to_string();
        let mut batch = client
            .batch_create_room_membership()
            .account_id(&account)
            .room_id(&room_id)
            .membership_item_list(
                MembershipItem::builder()
                    .member_id(&bot_id)
                    .role(RoomMembershipRole::Member)
                    .build(),
            );
        for user in &users[i..] {
            batch = batch.membership_item_list(
                MembershipItem::builder()
                    .member_id(&user.user_id)
                    .role(RoomMembershipRole::Administrator)
                    .build(),
            );
        }
        assert!(batch.send().await.unwrap().errors().is_empty());
        rooms.push(room_id);
    }

    let target = TestServer::start().await;
    let fresh = target.account("Rooms target").await;
    let from = store_args(source.location());
    let to = store_args(target.location());
    let cli = |verb: &str, resource: &str, account: &str, store: &[String]| -> Vec<String> {
        let mut args = vec![
            verb.to_string(),
            "--account-id".into(),
            account.to_string(),
            "--resource".into(),
            resource.to_string(),
        ];
        args.extend(store.iter().cloned());
        if verb == "import" {
            args.push("-".into());
        }
        args
    };
    // Members first: users, then bots, then the rooms that name them.
    for resource in ["users", "bots", "rooms"] {
        let exported = belfry(&cli("export", resource, &account, &from), b"");
        if resource == "rooms" {
            assert_eq!(String::from_utf8_lossy(&exported).lines().count(), 2);
        }
        belfry(&cli("import", resource, &fresh, &to), &exported);
    }

    let theirs = target.client();
    let listed = |c: aws_sdk_chime::Client, a: String| async move {
        c.list_rooms()
            .account_id(a)
            .send()
            .await
            .unwrap()
            .rooms()
            .to_vec()
    };
    let (was, now) = (
        listed(client.clone(), account.clone()).await,
        listed(theirs.clone(), fresh.clone()).await,
    );
    assert_eq!(was.len(), 2);
    for (was, now) in was.iter().zip(&now) {
        assert_eq!(now.account_id(), Some(fresh.as_str()));
        assert_eq!(
            (
                now.room_id(),
                now.name(),
                now.created_by(),
                now.created_timestamp(),
                now.updated_timestamp()
            ),
            (
                was.room_id(),
                was.name(),
                was.created_by(),
                was.created_timestamp(),
                was.updated_timestamp()
            )
        );
    }
    for room in &rooms {
        let members = |c: aws_sdk_chime::Client, a: String| {
            let room = room.clone();
            async move {
                let mut m: Vec<_> = c
                    .list_room_memberships()
                    .account_id(a)
                    .room_id(room)
                    .send()
                    .await
                    .unwrap()
                    .room_memberships()
                    .iter()
                    .map(|m| {
                        let member = m.member().unwrap();
                        (
                            member.member_id().unwrap().to_string(),
                            member.member_type().cloned(),
                            member.email().map(str::to_string),
                            m.role().cloned(),
                            m.invited_by().map(str::to_string),
                            m.updated_timestamp().cloned(),
                        )
                    })
                    .collect();
                m.sort_by(|a, b| a.0.cmp(&b.0));
                m
            }
        };
        let was = members(client.clone(), account.clone()).await;
        assert!(was.len() >= 2);
        assert_eq!(members(theirs.clone(), fresh.clone()).await, was);
    }
    let got = theirs
        .get_bot()
        .account_id(&fresh)
        .bot_id(&bot_id)
        .send()
        .await
        .unwrap()
        .bot
        .unwrap();
    assert_eq!(
        (
            got.display_name(),
            got.bot_email(),
            got.security_token(),
            got.created_timestamp()
        ),
        (
            bot.display_name(),
            bot.bot_email(),
            bot.security_token(),
            bot.created_timestamp()
        )
    );
    let events = theirs
        .get_events_configuration()
        .account_id(&fresh)
        .bot_id(&bot_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        events
            .events_configuration()
            .unwrap()
            .outbound_events_https_endpoint(),
        Some("https://bot.example.com/events")
    );
    let bots = theirs.list_bots().account_id(&fresh).send().await.unwrap();
    assert_eq!(bots.bots().len(), 2);

    // A room whose member is not in the account is a bad line, not an abort.
    let line = format!(
        r#"{{"Room":{{"RoomId":"{}","Name":"Ghost","CreatedBy":"x","CreatedTimestamp":"2020-01-01T00:00:00.000Z","UpdatedTimestamp":"2020-01-01T00:00:00.000Z"}},"Memberships":[{{"MemberId":"{}","Role":"Member","InvitedBy":"x","UpdatedTimestamp":"2020-01-01T00:00:00.000Z"}}]}}"#,
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4()
    );
    let summary = belfry::transfer::rooms::import(
        &target.store,
        &fresh,
        belfry::transfer::rooms::Resource::Rooms,
        Cursor::new(line.into_bytes()),
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 0);
    assert_eq!(summary.bad_count, 1);
    assert!(summary.bad[0].1.contains("not found"), "{:?}", summary.bad);
}

#[tokio::test]
async fn phone_numbers_and_orders_move_with_the_cli_exactly() {
    use aws_sdk_chime::types::PhoneNumberProductType;

    let (source, account, users) =
        source_with_users("Numbers source", &["ada@example.com", "bob@example.com"]).await;
    let client = source.client();
    let offered = client
        .search_available_phone_numbers()
        .area_code("206")
        .max_results(3)
        .send()
        .await
        .unwrap()
        .e164_phone_numbers()
        .to_vec();
    assert_eq!(offered.len(), 3);
    client
        .create_phone_number_order()
        .product_type(PhoneNumberProductType::BusinessCalling)
        .set_e164_phone_numbers(Some(offered.clone()))
        .send()
        .await
        .unwrap();
    // A second order for a number the account holds by then: Failed.
    client
        .create_phone_number_order()
        .product_type(PhoneNumberProductType::BusinessCalling)
        .e164_phone_numbers(&offered[0])
        .send()
        .await
        .unwrap();
    client
        .associate_phone_number_with_user()
        .account_id(&account)
        .user_id(&users[0].user_id)
        .e164_phone_number(&offered[0])
        .send()
        .await
        .unwrap();
    client
        .update_phone_number()
        .phone_number_id(&offered[1])
        .calling_name("Front Desk")
        .send()
        .await
        .unwrap();
    client
        .delete_phone_number()
        .phone_number_id(&offered[2])
        .send()
        .await
        .unwrap();

    let target = TestServer::start().await;
    let fresh = target.account("Numbers target").await;
    let from = store_args(source.location());
    let to = store_args(target.location());
    let with = |verb: &str, id: &[&str], store: &[String]| -> Vec<String> {
        let mut args: Vec<String> = [verb].iter().chain(id).map(|s| s.to_string()).collect();
        args.extend(store.iter().cloned());
        if verb == "import" {
            args.push("-".into());
        }
        args
    };
    let users_of = |a: &str| ["--account-id".to_string(), a.to_string()];
    let numbers_of = [
        "--resource",
        "phone-numbers",
        "--aws-account-id",
        ROOT_AWS_ACCOUNT,
    ];
    // Users first: a number's user must be there.
    let exported = belfry(
        &with(
            "export",
            &[],
            &[users_of(&account).to_vec(), from.clone()].concat(),
        ),
        b"",
    );
    belfry(
        &with(
            "import",
            &[],
            &[users_of(&fresh).to_vec(), to.clone()].concat(),
        ),
        &exported,
    );
    let numbers = belfry(&with("export", &numbers_of, &from), b"");
    let text = String::from_utf8(numbers.clone()).unwrap();
    assert_eq!(text.lines().count(), 5, "3 numbers and 2 orders: {text}");
    belfry(&with("import", &numbers_of, &to), &numbers);

    // The same lines come back out, but for the account the user is in now.
    let again = belfry(&with("export", &numbers_of, &to), b"");
    assert_eq!(
        String::from_utf8(again).unwrap(),
        text.replace(&account, &fresh)
    );
    let theirs = target.client();
    let ada = theirs
        .get_user()
        .account_id(&fresh)
        .user_id(&users[0].user_id)
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    assert_eq!(ada.primary_provisioned_number(), Some(offered[0].as_str()));
    let listed = theirs.list_users().account_id(&fresh).send().await.unwrap();
    let held: Vec<_> = listed
        .users()
        .iter()
        .filter_map(|u| u.primary_provisioned_number())
        .collect();
    assert_eq!(held, [offered[0].as_str()], "ListUsers' ready JSON agrees");

    // Refused lines: a user of no account of the AWS account; a user who holds a number
    // already; the wrong shape; a held number, unassigned. Each with its line number and reason.
    let line = |number: &str, user: &str| {
        format!(
            r#"{{"PhoneNumber":{{"PhoneNumberId":"{number}","E164PhoneNumber":"{number}","Country":"US","Type":"Local","ProductType":"BusinessCalling","Status":"Assigned","Associations":[{{"Name":"AccountId","Value":"{fresh}","AssociatedTimestamp":"2020-01-01T00:00:00.000Z"}},{{"Name":"UserId","Value":"{user}","AssociatedTimestamp":"2020-01-01T00:00:00.000Z"}}],"CallingNameStatus":"Unassigned","CreatedTimestamp":"2020-01-01T00:00:00.000Z","UpdatedTimestamp":"2020-01-01T00:00:00.000Z"}}}}"#
        )
    };
    let bad = [
        line("+12065559990", &uuid::Uuid::new_v4().to_string()),
        line("+12065559991", &users[0].user_id),
        r#"{"PhoneNumber":{"PhoneNumberId":"+1"}}"#.to_string(),
        format!(
            r#"{{"PhoneNumber":{{"PhoneNumberId":"{0}","E164PhoneNumber":"{0}","Country":"US","Type":"Local","ProductType":"BusinessCalling","Status":"Unassigned","CallingNameStatus":"Unassigned","CreatedTimestamp":"2020-01-01T00:00:00.000Z","UpdatedTimestamp":"2020-01-01T00:00:00.000Z"}}}}"#,
            offered[0]
        ),
    ]
    .join("\n");
    let summary = belfry::transfer::phone_numbers::import(
        &target.store,
        ROOT_AWS_ACCOUNT,
        Cursor::new(bad.into_bytes()),
    )
    .await
    .unwrap();
    assert_eq!((summary.created, summary.bad_count), (0, 4));
    let reasons: Vec<_> = summary.bad.iter().map(|(n, r)| (*n, r.as_str())).collect();
    assert!(
        reasons[0]
            .1
            .contains("in none of the AWS account's accounts"),
        "{reasons:?}"
    );
    assert!(reasons[1].1.contains("holds +"), "{reasons:?}");
    assert_eq!((reasons[0].0, reasons[1].0, reasons[2].0), (1, 2, 3));
    assert!(reasons[2].1.contains("invalid JSON"), "{reasons:?}");
    // A number of the inventory that a user holds is not taken from them by a line naming
    // no user (one naming its holder replaces it: the round trip above).
    assert!(reasons[3].1.contains("held by user"), "{reasons:?}");
}

#[test]
fn phone_numbers_take_the_aws_account_id_and_only_they_do() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
            .args(args)
            .output()
            .expect("belfry runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (args, says) in [
        (
            &["export", "--resource", "phone-numbers", "--account-id", "x"][..],
            "--account-id does not apply",
        ),
        (
            &["import", "--resource", "phone-numbers", "-"][..],
            "requires --aws-account-id",
        ),
        (
            &[
                "export",
                "--resource",
                "rooms",
                "--aws-account-id",
                "123456789012",
            ][..],
            "applies to --resource phone-numbers only",
        ),
        (
            &[
                "export",
                "--resource",
                "phone-numbers",
                "--aws-account-id",
                "1234",
            ][..],
            "12 digits",
        ),
        (&["export"][..], "--account-id is required"),
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
