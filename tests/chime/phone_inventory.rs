//! The phone-number inventory through aws-sdk-chime: SearchAvailablePhoneNumbers and
//! ListSupportedPhoneNumberCountries (the simulated carrier), Create/Get/ListPhoneNumberOrder(s)
//! (Processing, then Successful / Partial / Failed), List/GetPhoneNumber, Update and
//! BatchUpdatePhoneNumber, Delete/BatchDelete/RestorePhoneNumber (the deletion queue), the
//! numbers' tie to users, tenancy and read-only keys; every modeled error as its typed
//! exception.

use std::time::Duration;

use aws_sdk_chime::Client;
use aws_sdk_chime::error::ProvideErrorMetadata;
use aws_sdk_chime::operation::associate_phone_number_with_user::AssociatePhoneNumberWithUserError;
use aws_sdk_chime::operation::batch_update_phone_number::BatchUpdatePhoneNumberOutput;
use aws_sdk_chime::operation::create_phone_number_order::CreatePhoneNumberOrderError;
use aws_sdk_chime::operation::delete_phone_number::DeletePhoneNumberError;
use aws_sdk_chime::operation::get_phone_number::GetPhoneNumberError;
use aws_sdk_chime::operation::get_phone_number_order::GetPhoneNumberOrderError;
use aws_sdk_chime::operation::list_phone_numbers::ListPhoneNumbersError;
use aws_sdk_chime::operation::restore_phone_number::RestorePhoneNumberError;
use aws_sdk_chime::operation::search_available_phone_numbers::SearchAvailablePhoneNumbersError;
use aws_sdk_chime::operation::update_phone_number::UpdatePhoneNumberError;
use aws_sdk_chime::types::{
    OrderedPhoneNumberStatus, PhoneNumber, PhoneNumberAssociationName, PhoneNumberOrder,
    PhoneNumberOrderStatus, PhoneNumberProductType, PhoneNumberStatus, PhoneNumberType,
    UpdatePhoneNumberRequestItem,
};
use belfry::store::Limits;
use sqlx::Executor;

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// SearchAvailablePhoneNumbers by area code, every page of `page` numbers.
async fn search_area(client: &Client, area: &str, page: i32) -> Vec<String> {
    let mut numbers = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .search_available_phone_numbers()
            .area_code(area)
            .max_results(page)
            .set_next_token(token)
            .send()
            .await
            .expect("SearchAvailablePhoneNumbers");
        assert!(out.e164_phone_numbers().len() <= page as usize);
        numbers.extend(out.e164_phone_numbers().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return numbers;
        }
    }
}

/// CreatePhoneNumberOrder, which must succeed.
async fn order(
    client: &Client,
    product: PhoneNumberProductType,
    numbers: &[&str],
) -> PhoneNumberOrder {
    client
        .create_phone_number_order()
        .product_type(product)
        .set_e164_phone_numbers(Some(numbers.iter().map(|n| n.to_string()).collect()))
        .send()
        .await
        .expect("CreatePhoneNumberOrder")
        .phone_number_order()
        .expect("an order")
        .clone()
}

async fn get_order(client: &Client, id: &str) -> PhoneNumberOrder {
    client
        .get_phone_number_order()
        .phone_number_order_id(id)
        .send()
        .await
        .expect("GetPhoneNumberOrder")
        .phone_number_order()
        .expect("an order")
        .clone()
}

async fn get_number(client: &Client, id: &str) -> PhoneNumber {
    client
        .get_phone_number()
        .phone_number_id(id)
        .send()
        .await
        .expect("GetPhoneNumber")
        .phone_number()
        .expect("a number")
        .clone()
}

/// Every number ListPhoneNumbers lists with `filter` (name, value), through the paginator.
async fn list_numbers(
    client: &Client,
    status: Option<PhoneNumberStatus>,
    filter: Option<(PhoneNumberAssociationName, &str)>,
) -> Vec<PhoneNumber> {
    let pages: Vec<_> = client
        .list_phone_numbers()
        .set_status(status)
        .set_filter_name(filter.as_ref().map(|f| f.0.clone()))
        .set_filter_value(filter.map(|f| f.1.to_string()))
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    pages
        .into_iter()
        .flat_map(|p| p.expect("ListPhoneNumbers").phone_numbers().to_vec())
        .collect()
}

fn e164s(numbers: &[PhoneNumber]) -> Vec<&str> {
    numbers
        .iter()
        .filter_map(|n| n.e164_phone_number())
        .collect()
}

fn statuses(order: &PhoneNumberOrder) -> Vec<(&str, &OrderedPhoneNumberStatus)> {
    order
        .ordered_phone_numbers()
        .iter()
        .map(|n| {
            (
                n.e164_phone_number().unwrap_or(""),
                n.status().expect("status"),
            )
        })
        .collect()
}

fn batch_errors(out: &BatchUpdatePhoneNumberOutput) -> Vec<(&str, &str)> {
    out.phone_number_errors()
        .iter()
        .map(|e| {
            (
                e.phone_number_id().unwrap_or(""),
                e.error_code().map(|c| c.as_str()).unwrap_or(""),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The carrier: search and countries
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn search_offers_the_same_fictional_numbers_less_those_held() {
    let server = TestServer::start().await;
    let client = server.client();

    let all = search_area(&client, "206", 99).await;
    assert_eq!(all.len(), 100);
    let expected: Vec<String> = (100..200).map(|n| format!("+12065550{n}")).collect();
    assert_eq!(all, expected, "555-0100 to 555-0199, in order");
    assert_eq!(
        search_area(&client, "206", 30).await,
        all,
        "pages of 30 give the same"
    );

    let out = client
        .search_available_phone_numbers()
        .city("Seattle")
        .state("WA")
        .max_results(5)
        .send()
        .await
        .expect("by city");
    assert_eq!(out.e164_phone_numbers(), &all[..5]);
    assert!(out.next_token().is_some());
    let toll_free = client
        .search_available_phone_numbers()
        .toll_free_prefix("888")
        .phone_number_type(PhoneNumberType::TollFree)
        .max_results(2)
        .send()
        .await
        .expect("toll-free");
    assert_eq!(
        toll_free.e164_phone_numbers(),
        ["+18885550100", "+18885550101"]
    );
    let gb = client
        .search_available_phone_numbers()
        .country("GB")
        .phone_number_type(PhoneNumberType::Local)
        .max_results(1)
        .send()
        .await
        .expect("GB");
    assert_eq!(gb.e164_phone_numbers(), ["+441632960000"]);

    // Two ordered numbers are never offered again.
    let placed = order(
        &client,
        PhoneNumberProductType::BusinessCalling,
        &[&all[0], &all[7]],
    )
    .await;
    let after = search_area(&client, "206", 99).await;
    assert_eq!(after.len(), 98);
    assert!(!after.contains(&all[0]) && !after.contains(&all[7]));
    get_order(&client, placed.phone_number_order_id().unwrap()).await;
    assert_eq!(search_area(&client, "206", 99).await, after);

    // Another AWS account is offered them still.
    let other = server.new_key("222222222222", false).await;
    assert_eq!(
        search_area(&server.client_for(&other), "206", 99).await,
        all
    );
}

#[tokio::test]
async fn search_refuses_what_the_service_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let cases: Vec<(&str, _)> = vec![
        (
            "no filter",
            client.search_available_phone_numbers().send().await,
        ),
        (
            "city without state",
            client
                .search_available_phone_numbers()
                .city("Seattle")
                .send()
                .await,
        ),
        (
            "a toll-free prefix is not an area code",
            client
                .search_available_phone_numbers()
                .area_code("800")
                .send()
                .await,
        ),
        (
            "outside the US only the type",
            client
                .search_available_phone_numbers()
                .country("GB")
                .area_code("206")
                .phone_number_type(PhoneNumberType::Local)
                .send()
                .await,
        ),
        (
            "toll-free prefix pattern",
            client
                .search_available_phone_numbers()
                .toll_free_prefix("899")
                .send()
                .await,
        ),
        (
            "max results",
            client
                .search_available_phone_numbers()
                .area_code("206")
                .max_results(501)
                .send()
                .await,
        ),
    ];
    for (what, result) in cases {
        let f = service_error(result);
        assert!(
            matches!(
                f.err,
                SearchAvailablePhoneNumbersError::BadRequestException(_)
            ),
            "{what}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }
    let raw = server
        .raw(
            "GET",
            "/search?type=phone-numbers&area-code=206&next-token=forged",
            "",
        )
        .await;
    assert_eq!(raw.status, 400, "{}", raw.body);
}

#[tokio::test]
async fn supported_countries_follow_the_product() {
    let server = TestServer::start().await;
    let client = server.client();
    let countries = |out: aws_sdk_chime::operation::list_supported_phone_number_countries::ListSupportedPhoneNumberCountriesOutput| {
        out.phone_number_countries()
            .iter()
            .map(|c| {
                (
                    c.country_code().unwrap_or("").to_string(),
                    c.supported_phone_number_types().to_vec(),
                )
            })
            .collect::<Vec<_>>()
    };
    let business = client
        .list_supported_phone_number_countries()
        .product_type(PhoneNumberProductType::BusinessCalling)
        .send()
        .await
        .expect("BusinessCalling");
    assert_eq!(
        countries(business),
        vec![("US".to_string(), vec![PhoneNumberType::Local])]
    );
    let dial_in = client
        .list_supported_phone_number_countries()
        .product_type(PhoneNumberProductType::SipMediaApplicationDialIn)
        .send()
        .await
        .expect("SipMediaApplicationDialIn");
    let codes: Vec<String> = countries(dial_in).into_iter().map(|c| c.0).collect();
    assert_eq!(codes, ["US", "GB"]);
    for query in ["", "?product-type=Fax"] {
        let raw = server
            .raw("GET", &format!("/phone-number-countries{query}"), "")
            .await;
        assert_eq!(raw.status, 400, "{query}: {}", raw.body);
        assert_eq!(raw.header("x-amzn-ErrorType"), Some("BadRequestException"));
    }
}

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_order_is_processing_until_the_carrier_is_done_and_a_taken_number_fails_alone() {
    let server = TestServer::start_with_order_processing(Duration::from_millis(1500)).await;
    let client = server.client();
    let first = order(
        &client,
        PhoneNumberProductType::BusinessCalling,
        &["+12065550100", "+12065550101"],
    )
    .await;
    assert_eq!(first.status(), Some(&PhoneNumberOrderStatus::Processing));
    assert!(is_uuid_v4(first.phone_number_order_id().unwrap()));
    assert!(first.created_timestamp().is_some());
    // The second order names a number of the first: taken meanwhile.
    let second = order(
        &client,
        PhoneNumberProductType::BusinessCalling,
        &["+12065550101", "+12065550102"],
    )
    .await;
    let still = get_order(&client, first.phone_number_order_id().unwrap()).await;
    assert_eq!(still.status(), Some(&PhoneNumberOrderStatus::Processing));
    assert!(
        statuses(&still)
            .iter()
            .all(|(_, s)| **s == OrderedPhoneNumberStatus::Processing)
    );
    assert!(
        list_numbers(&client, None, None).await.is_empty(),
        "nothing acquired yet"
    );

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let done = get_order(&client, first.phone_number_order_id().unwrap()).await;
    assert_eq!(done.status(), Some(&PhoneNumberOrderStatus::Successful));
    assert_eq!(
        statuses(&done),
        [
            ("+12065550100", &OrderedPhoneNumberStatus::Acquired),
            ("+12065550101", &OrderedPhoneNumberStatus::Acquired)
        ]
    );
    assert!(done.updated_timestamp() >= done.created_timestamp());
    let partial = get_order(&client, second.phone_number_order_id().unwrap()).await;
    assert_eq!(partial.status(), Some(&PhoneNumberOrderStatus::Partial));
    assert_eq!(
        statuses(&partial),
        [
            ("+12065550101", &OrderedPhoneNumberStatus::Failed),
            ("+12065550102", &OrderedPhoneNumberStatus::Acquired)
        ]
    );
    let numbers = list_numbers(&client, None, None).await;
    assert_eq!(
        e164s(&numbers),
        ["+12065550100", "+12065550101", "+12065550102"]
    );
    assert!(
        numbers
            .iter()
            .all(|n| n.status() == Some(&PhoneNumberStatus::Unassigned))
    );

    // An order of nothing but held numbers fails.
    let failed = order(
        &client,
        PhoneNumberProductType::BusinessCalling,
        &["+12065550100"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let failed = get_order(&client, failed.phone_number_order_id().unwrap()).await;
    assert_eq!(failed.status(), Some(&PhoneNumberOrderStatus::Failed));
}

#[tokio::test]
async fn orders_are_done_by_the_next_read_and_list_in_creation_order() {
    let server = TestServer::start().await;
    let client = server.client();
    let mut ids = Vec::new();
    for i in 0..3 {
        let placed = order(
            &client,
            PhoneNumberProductType::VoiceConnector,
            &[&format!("+1206555010{i}")],
        )
        .await;
        assert_eq!(placed.status(), Some(&PhoneNumberOrderStatus::Processing));
        assert_eq!(
            placed.product_type(),
            Some(&PhoneNumberProductType::VoiceConnector)
        );
        ids.push(placed.phone_number_order_id().unwrap().to_string());
    }
    let pages: Vec<_> = client
        .list_phone_number_orders()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    let listed: Vec<PhoneNumberOrder> = pages
        .into_iter()
        .flat_map(|p| {
            p.expect("ListPhoneNumberOrders")
                .phone_number_orders()
                .to_vec()
        })
        .collect();
    let mut by_creation = listed.clone();
    by_creation.sort_by_key(|o| {
        (
            o.created_timestamp().cloned(),
            o.phone_number_order_id().map(str::to_string),
        )
    });
    assert_eq!(listed, by_creation);
    let mut listed_ids: Vec<&str> = listed
        .iter()
        .filter_map(|o| o.phone_number_order_id())
        .collect();
    listed_ids.sort_unstable();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(listed_ids, want);
    assert!(
        listed
            .iter()
            .all(|o| o.status() == Some(&PhoneNumberOrderStatus::Successful)),
        "{listed:?}"
    );
    let number = get_number(&client, "+12065550100").await;
    assert_eq!(
        number.product_type(),
        Some(&PhoneNumberProductType::VoiceConnector)
    );

    // Another AWS account sees none of them.
    let other = server.client_for(&server.new_key("222222222222", false).await);
    let theirs = other
        .list_phone_number_orders()
        .send()
        .await
        .expect("theirs");
    assert!(theirs.phone_number_orders().is_empty());
    assert!(theirs.next_token().is_none());
    let f = service_error(
        other
            .get_phone_number_order()
            .phone_number_order_id(&ids[0])
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetPhoneNumberOrderError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    let f = service_error(
        client
            .get_phone_number_order()
            .phone_number_order_id("not-a-guid")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetPhoneNumberOrderError::BadRequestException(_)),
        "{:?}",
        f.err
    );
}

#[tokio::test]
async fn orders_follow_the_products_rules_and_the_limit() {
    let server = TestServer::start_with_limits(Limits {
        numbers_per_order: 2,
        ..Limits::default()
    })
    .await;
    let client = server.client();
    let refused = [
        (
            PhoneNumberProductType::BusinessCalling,
            vec!["+18885550100"],
        ),
        (
            PhoneNumberProductType::BusinessCalling,
            vec!["+441632960000"],
        ),
        (
            PhoneNumberProductType::VoiceConnector,
            vec!["+441632960000"],
        ),
        (
            PhoneNumberProductType::SipMediaApplicationDialIn,
            vec!["+33123456789"],
        ),
        (PhoneNumberProductType::BusinessCalling, vec!["12"]),
        (PhoneNumberProductType::BusinessCalling, vec![]),
    ];
    for (product, numbers) in refused {
        let f = service_error(
            client
                .create_phone_number_order()
                .product_type(product.clone())
                .set_e164_phone_numbers(Some(numbers.iter().map(|n| n.to_string()).collect()))
                .send()
                .await,
        );
        assert!(
            matches!(f.err, CreatePhoneNumberOrderError::BadRequestException(_)),
            "{product:?} {numbers:?}: {:?}",
            f.err
        );
        f.assert_wire(400, "BadRequestException", "BadRequest");
    }
    let gb = order(
        &client,
        PhoneNumberProductType::SipMediaApplicationDialIn,
        &["+441632960000", "448081570000"],
    )
    .await;
    assert_eq!(
        statuses(&gb).iter().map(|s| s.0).collect::<Vec<_>>(),
        ["+441632960000", "+448081570000"],
        "numbers in their + spelling"
    );
    let f = service_error(
        client
            .create_phone_number_order()
            .product_type(PhoneNumberProductType::VoiceConnector)
            .e164_phone_numbers("+12065550100")
            .e164_phone_numbers("+12065550101")
            .e164_phone_numbers("+12065550102")
            .send()
            .await,
    );
    assert!(
        matches!(
            f.err,
            CreatePhoneNumberOrderError::ResourceLimitExceededException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(
        400,
        "ResourceLimitExceededException",
        "ResourceLimitExceeded",
    );
    let toll_free = get_number(&client, "+448081570000").await;
    assert_eq!(toll_free.country(), Some("GB"));
    assert_eq!(toll_free.r#type(), Some(&PhoneNumberType::TollFree));
    let caps = toll_free.capabilities().expect("capabilities");
    assert_eq!(
        (caps.inbound_call(), caps.inbound_sms()),
        (Some(true), Some(false))
    );
}

// ---------------------------------------------------------------------------------------
// Numbers and users
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_number_is_assigned_from_the_inventory_and_users_agree_with_it() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Desk").await;
    let user = create_user(&client, &a, "desk@example.com").await;
    let u = user.user_id();

    // A number the AWS account does not hold.
    let f = service_error(associate_only(&client, &a, u, "+12065550100").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::NotFoundException(_)
        ),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");
    assert!(
        !f.message().contains("2065550100"),
        "not echoed: {}",
        f.message()
    );

    provision(&client, &["+12065550100", "+12065550101"]).await;
    let fresh = get_number(&client, "+12065550100").await;
    assert_eq!(fresh.phone_number_id(), Some("+12065550100"));
    assert_eq!(fresh.status(), Some(&PhoneNumberStatus::Unassigned));
    assert_eq!(fresh.country(), Some("US"));
    assert_eq!(fresh.r#type(), Some(&PhoneNumberType::Local));
    assert_eq!(
        fresh.product_type(),
        Some(&PhoneNumberProductType::BusinessCalling)
    );
    assert!(fresh.associations().is_empty());
    assert!(fresh.created_timestamp().is_some() && fresh.deletion_timestamp().is_none());
    let caps = fresh.capabilities().expect("capabilities");
    assert_eq!(caps.outbound_sms(), Some(true));

    associate_only(&client, &a, u, "12065550100")
        .await
        .expect("associate from the inventory");
    let held = get_number(&client, "12065550100").await;
    assert_eq!(held.status(), Some(&PhoneNumberStatus::Assigned));
    let assoc: Vec<(&PhoneNumberAssociationName, &str)> = held
        .associations()
        .iter()
        .map(|x| (x.name().unwrap(), x.value().unwrap()))
        .collect();
    assert_eq!(
        assoc,
        [
            (&PhoneNumberAssociationName::AccountId, a.as_str()),
            (&PhoneNumberAssociationName::UserId, u)
        ]
    );
    assert!(held.associations()[0].associated_timestamp().is_some());
    let listed = get_user(&client, &a, u).await;
    assert_eq!(listed.primary_provisioned_number(), Some("+12065550100"));
    assert_visible(&client, &listed).await;
    let by_user = list_numbers(&client, None, Some((PhoneNumberAssociationName::UserId, u))).await;
    assert_eq!(e164s(&by_user), ["+12065550100"]);
    let by_account = list_numbers(
        &client,
        None,
        Some((PhoneNumberAssociationName::AccountId, &a)),
    )
    .await;
    assert_eq!(e164s(&by_account), ["+12065550100"]);
    let assigned = list_numbers(&client, Some(PhoneNumberStatus::Assigned), None).await;
    assert_eq!(e164s(&assigned), ["+12065550100"]);
    let unassigned = list_numbers(&client, Some(PhoneNumberStatus::Unassigned), None).await;
    assert_eq!(e164s(&unassigned), ["+12065550101"]);
    let voice = list_numbers(
        &client,
        None,
        Some((PhoneNumberAssociationName::VoiceConnectorId, "vc")),
    )
    .await;
    assert!(voice.is_empty());

    // Another number moves the user; the first goes back to the inventory.
    associate_only(&client, &a, u, "+12065550101")
        .await
        .expect("a second number");
    assert_eq!(
        get_number(&client, "+12065550100").await.status(),
        Some(&PhoneNumberStatus::Unassigned)
    );
    assert_eq!(
        get_user(&client, &a, u).await.primary_provisioned_number(),
        Some("+12065550101")
    );
    client
        .disassociate_phone_number_from_user()
        .account_id(&a)
        .user_id(u)
        .send()
        .await
        .expect("disassociate");
    let freed = get_number(&client, "+12065550101").await;
    assert_eq!(freed.status(), Some(&PhoneNumberStatus::Unassigned));
    assert!(freed.associations().is_empty());
    assert_eq!(
        get_user(&client, &a, u).await.primary_provisioned_number(),
        None
    );

    // Only Business Calling numbers go to users.
    order(
        &client,
        PhoneNumberProductType::VoiceConnector,
        &["+12065550150"],
    )
    .await;
    let f = service_error(associate_only(&client, &a, u, "+12065550150").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::BadRequestException(_)
        ),
        "{:?}",
        f.err
    );

    // Filters naming an account or user the caller does not have are NotFound.
    for (name, value) in [
        (PhoneNumberAssociationName::AccountId, missing_id()),
        (PhoneNumberAssociationName::UserId, missing_id()),
    ] {
        let f = service_error(
            client
                .list_phone_numbers()
                .filter_name(name)
                .filter_value(value)
                .send()
                .await,
        );
        assert!(
            matches!(f.err, ListPhoneNumbersError::NotFoundException(_)),
            "{:?}",
            f.err
        );
    }
    let f = service_error(
        client
            .list_phone_numbers()
            .filter_name(PhoneNumberAssociationName::UserId)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, ListPhoneNumbersError::BadRequestException(_)),
        "{:?}",
        f.err
    );
}

#[tokio::test]
async fn numbers_update_one_detail_at_a_time() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Names").await;
    let user = create_user(&client, &a, "names@example.com").await;
    provision(&client, &["+12065550110", "+12065550111"]).await;

    let named = client
        .update_phone_number()
        .phone_number_id("+12065550110")
        .calling_name("Front Desk")
        .send()
        .await
        .expect("a calling name");
    let named = named.phone_number().unwrap();
    assert_eq!(named.calling_name(), Some("Front Desk"));
    assert_eq!(
        named.calling_name_status().map(|s| s.as_str()),
        Some("UpdateSucceeded")
    );
    assert_eq!(
        get_number(&client, "+12065550110").await.calling_name(),
        Some("Front Desk")
    );
    let cleared = client
        .update_phone_number()
        .phone_number_id("+12065550110")
        .calling_name("")
        .send()
        .await
        .expect("no calling name");
    assert_eq!(cleared.phone_number().unwrap().calling_name(), None);
    assert_eq!(
        cleared
            .phone_number()
            .unwrap()
            .calling_name_status()
            .map(|s| s.as_str()),
        Some("Unassigned")
    );

    for (product, name) in [
        (Some(PhoneNumberProductType::VoiceConnector), Some("Desk")),
        (None, None),
        (None, Some("A")),
        (None, Some("Front-Desk!")),
    ] {
        let f = service_error(
            client
                .update_phone_number()
                .phone_number_id("+12065550110")
                .set_product_type(product)
                .set_calling_name(name.map(str::to_string))
                .send()
                .await,
        );
        assert!(
            matches!(f.err, UpdatePhoneNumberError::BadRequestException(_)),
            "{name:?}: {:?}",
            f.err
        );
    }
    let f = service_error(
        client
            .update_phone_number()
            .phone_number_id("+12065550199")
            .calling_name("Nobody")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdatePhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );

    // A number assigned to a user keeps its product.
    associate(&client, &a, user.user_id(), "+12065550111")
        .await
        .expect("associate");
    let f = service_error(
        client
            .update_phone_number()
            .phone_number_id("+12065550111")
            .product_type(PhoneNumberProductType::VoiceConnector)
            .send()
            .await,
    );
    assert!(
        matches!(f.err, UpdatePhoneNumberError::ConflictException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(409, "ConflictException", "Conflict");

    let item = |id: &str, product: PhoneNumberProductType| {
        UpdatePhoneNumberRequestItem::builder()
            .phone_number_id(id)
            .product_type(product)
            .build()
            .unwrap()
    };
    let out = client
        .batch_update_phone_number()
        .update_phone_number_request_items(item(
            "+12065550110",
            PhoneNumberProductType::VoiceConnector,
        ))
        .update_phone_number_request_items(item(
            "+12065550111",
            PhoneNumberProductType::VoiceConnector,
        ))
        .update_phone_number_request_items(item(
            "+12065550199",
            PhoneNumberProductType::VoiceConnector,
        ))
        .send()
        .await
        .expect("BatchUpdatePhoneNumber");
    assert_eq!(
        batch_errors(&out),
        [("+12065550111", "Conflict"), ("+12065550199", "NotFound")]
    );
    assert_eq!(
        get_number(&client, "+12065550110").await.product_type(),
        Some(&PhoneNumberProductType::VoiceConnector)
    );
    let f = service_error(
        client
            .batch_update_phone_number()
            .update_phone_number_request_items(
                UpdatePhoneNumberRequestItem::builder()
                    .phone_number_id("+12065550110")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
    );
    assert_eq!(f.err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn deleted_numbers_wait_seven_days_and_can_be_restored() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = server.account("Queue").await;
    let user = create_user(&client, &a, "queue@example.com").await;
    provision(&client, &["+12065550120", "+12065550121", "+12065550122"]).await;
    associate(&client, &a, user.user_id(), "+12065550122")
        .await
        .expect("associate");

    client
        .delete_phone_number()
        .phone_number_id("+12065550120")
        .send()
        .await
        .expect("DeletePhoneNumber");
    let queued = get_number(&client, "+12065550120").await;
    assert_eq!(queued.status(), Some(&PhoneNumberStatus::DeleteInProgress));
    assert!(queued.deletion_timestamp().is_some());
    // In the queue it can be neither assigned nor changed, nor deleted again.
    let f = service_error(associate_only(&client, &a, user.user_id(), "+12065550120").await);
    assert!(
        matches!(
            f.err,
            AssociatePhoneNumberWithUserError::BadRequestException(_)
        ),
        "{:?}",
        f.err
    );
    let f = service_error(
        client
            .delete_phone_number()
            .phone_number_id("+12065550120")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeletePhoneNumberError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    // An assigned number is not deleted; an unknown one is not found.
    let f = service_error(
        client
            .delete_phone_number()
            .phone_number_id("+12065550122")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeletePhoneNumberError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    let f = service_error(
        client
            .delete_phone_number()
            .phone_number_id("+12065550129")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeletePhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(404, "NotFoundException", "NotFound");

    let out = client
        .batch_delete_phone_number()
        .phone_number_ids("+12065550121")
        .phone_number_ids("+12065550122")
        .phone_number_ids("+12065550129")
        .send()
        .await
        .expect("BatchDeletePhoneNumber");
    let errors: Vec<(&str, &str)> = out
        .phone_number_errors()
        .iter()
        .map(|e| {
            (
                e.phone_number_id().unwrap(),
                e.error_code().unwrap().as_str(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("+12065550122", "PhoneNumberAssociationsExist"),
            ("+12065550129", "NotFound")
        ]
    );
    let queue = list_numbers(&client, Some(PhoneNumberStatus::DeleteInProgress), None).await;
    assert_eq!(e164s(&queue), ["+12065550120", "+12065550121"]);

    let restored = client
        .restore_phone_number()
        .phone_number_id("+12065550120")
        .send()
        .await
        .expect("RestorePhoneNumber");
    let restored = restored.phone_number().unwrap();
    assert_eq!(restored.status(), Some(&PhoneNumberStatus::Unassigned));
    assert!(restored.deletion_timestamp().is_none());
    associate_only(&client, &a, user.user_id(), "+12065550120")
        .await
        .expect("usable again");
    let f = service_error(
        client
            .restore_phone_number()
            .phone_number_id("+12065550120")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, RestorePhoneNumberError::BadRequestException(_)),
        "{:?}",
        f.err
    );
    let f = service_error(
        client
            .restore_phone_number()
            .phone_number_id("+12065550129")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, RestorePhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );

    // Seven days later the queued number is gone for good, and offered again.
    let mut conn = raw_connection(server.location()).await;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE phone_numbers SET deletion_ms = deletion_ms - {} WHERE e164 = '+12065550121'",
        belfry::store::DELETION_QUEUE_MS
    )))
    .await
    .expect("eight days pass");
    drop(conn);
    let f = service_error(
        client
            .get_phone_number()
            .phone_number_id("+12065550121")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetPhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    assert!(
        search_area(&client, "206", 99)
            .await
            .contains(&"+12065550121".to_string())
    );
}

#[tokio::test]
async fn numbers_belong_to_their_aws_account_and_read_only_keys_only_read() {
    let server = TestServer::start().await;
    let client = server.client();
    provision(&client, &["+12065550130"]).await;
    let other = server.client_for(&server.new_key("222222222222", false).await);
    let f = service_error(
        other
            .get_phone_number()
            .phone_number_id("+12065550130")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, GetPhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    assert!(list_numbers(&other, None, None).await.is_empty());
    let f = service_error(
        other
            .delete_phone_number()
            .phone_number_id("+12065550130")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeletePhoneNumberError::NotFoundException(_)),
        "{:?}",
        f.err
    );
    // The other AWS account may hold the same number as its own.
    provision(&other, &["+12065550130"]).await;
    assert_eq!(
        e164s(&list_numbers(&other, None, None).await),
        ["+12065550130"]
    );

    let reader = server.client_for(&server.new_key(ROOT_AWS_ACCOUNT, true).await);
    assert_eq!(
        e164s(&list_numbers(&reader, None, None).await),
        ["+12065550130"]
    );
    let f = service_error(
        reader
            .create_phone_number_order()
            .product_type(PhoneNumberProductType::BusinessCalling)
            .e164_phone_numbers("+12065550131")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, CreatePhoneNumberOrderError::ForbiddenException(_)),
        "{:?}",
        f.err
    );
    let f = service_error(
        reader
            .delete_phone_number()
            .phone_number_id("+12065550130")
            .send()
            .await,
    );
    assert!(
        matches!(f.err, DeletePhoneNumberError::ForbiddenException(_)),
        "{:?}",
        f.err
    );
    f.assert_wire(403, "ForbiddenException", "Forbidden");
}
