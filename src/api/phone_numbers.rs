//! The phone-number operations: SearchAvailablePhoneNumbers and
//! ListSupportedPhoneNumberCountries (the simulated carrier, [`crate::carrier`]);
//! Create/Get/ListPhoneNumberOrder(s); List/Get/Update/BatchUpdate/Delete/BatchDelete/
//! RestorePhoneNumber (the AWS account's inventory, `store/phone_numbers.rs`). Orders share this
//! file with the numbers they bring: an order is how a number enters the inventory, and both
//! render the same E.164 numbers.
//!
//! A number's id is the number itself (`PhoneNumberId` is the E.164 number, as in the service's
//! examples); `12065550100` and `+12065550100` name the same number.

use serde::Deserialize;

use super::input::{RESULT_MAX_DEFAULT, RESULT_MAX_MAX};
use super::validate::{CALLING_NAME_PATTERN, E164_PATTERN, GUID_PATTERN, Violations, matches};
use super::{Call, Op, Reply};
use crate::carrier;
use crate::error::ApiError;
use crate::model::{
    PhoneNumberAssociationName, PhoneNumberProductType, PhoneNumberStatus, PhoneNumberType,
};
use crate::store::{
    Association, NumberChange, NumberFilter, OrderLine, PhoneNumber, PhoneNumberOrder, Rejection,
    StoreError,
};
use crate::time::iso8601_millis;

/// `PhoneNumberMaxResults` (SearchAvailablePhoneNumbers) bounds, and Belfry's page size when
/// none is asked for (the service documented none).
const SEARCH_MAX: i64 = 500;
const SEARCH_DEFAULT: usize = 100;

/// One spelling per number: `+` and the digits.
pub fn normalize_e164(number: &str) -> String {
    format!("+{}", number.trim_start_matches('+'))
}

/// A `PhoneNumberId` as the inventory keys it: a well-formed number in its `+` spelling, any
/// other text as it is (it names no number, so it is not found).
fn number_id(id: &str) -> String {
    if matches(E164_PATTERN, id) {
        normalize_e164(id)
    } else {
        id.to_string()
    }
}

/// The `PhoneNumber` structure as JSON.
pub fn number_json(n: &PhoneNumber) -> serde_json::Value {
    let toll_free = n.number_type == PhoneNumberType::TollFree;
    let mut associations = Vec::new();
    if let (Some(account_id), Some(user_id)) = (&n.account_id, &n.user_id) {
        let since = n.associated_ms.map(iso8601_millis);
        for (name, value) in [
            (PhoneNumberAssociationName::AccountId, account_id),
            (PhoneNumberAssociationName::UserId, user_id),
        ] {
            associations.push(serde_json::json!({
                "Name": name.as_str(), "Value": value, "AssociatedTimestamp": since,
            }));
        }
    }
    let mut json = serde_json::json!({
        "PhoneNumberId": n.e164,
        "E164PhoneNumber": n.e164,
        "Country": n.country,
        "Type": n.number_type.as_str(),
        "ProductType": n.product_type.as_str(),
        "Status": n.status.as_str(),
        // Local numbers call and text; toll-free numbers only call.
        "Capabilities": {
            "InboundCall": true, "OutboundCall": true,
            "InboundSMS": !toll_free, "OutboundSMS": !toll_free,
            "InboundMMS": !toll_free, "OutboundMMS": !toll_free,
        },
        "Associations": associations,
        "CallingNameStatus": n.calling_name_status.as_str(),
        "CreatedTimestamp": iso8601_millis(n.created_ms),
        "UpdatedTimestamp": iso8601_millis(n.updated_ms),
    });
    if let Some(name) = &n.calling_name {
        json["CallingName"] = name.as_str().into();
    }
    if let Some(ms) = n.deletion_ms {
        json["DeletionTimestamp"] = iso8601_millis(ms).into();
    }
    json
}

/// The `PhoneNumberOrder` structure as JSON.
pub fn order_json(o: &PhoneNumberOrder) -> serde_json::Value {
    let numbers: Vec<serde_json::Value> = o
        .numbers
        .iter()
        .map(|n| serde_json::json!({ "E164PhoneNumber": n.e164, "Status": n.status.as_str() }))
        .collect();
    serde_json::json!({
        "PhoneNumberOrderId": o.order_id,
        "ProductType": o.product_type.as_str(),
        "Status": o.status.as_str(),
        "OrderedPhoneNumbers": numbers,
        "CreatedTimestamp": iso8601_millis(o.created_ms),
        "UpdatedTimestamp": iso8601_millis(o.updated_ms),
    })
}

fn number_reply(n: &PhoneNumber) -> Reply {
    Reply::json(
        200,
        serde_json::json!({ "PhoneNumber": number_json(n) }).to_string(),
    )
}

fn order_reply(status: u16, o: &PhoneNumberOrder) -> Reply {
    Reply::json(
        status,
        serde_json::json!({ "PhoneNumberOrder": order_json(o) }).to_string(),
    )
}

/// The `PhoneNumberErrors` of a batch: each number that failed, with the model's `ErrorCode`
/// (`PhoneNumberAssociationsExist` for a number still assigned to a user).
fn batch_errors_reply(failed: Vec<(String, StoreError)>) -> Reply {
    let errors: Vec<serde_json::Value> = failed
        .into_iter()
        .map(|(id, e)| {
            let assigned = matches!(e, StoreError::Rejected(Rejection::NumberAssigned));
            let error = ApiError::from(e);
            let code = if assigned {
                "PhoneNumberAssociationsExist"
            } else {
                error.kind.code()
            };
            serde_json::json!({
                "PhoneNumberId": id,
                "ErrorCode": code,
                "ErrorMessage": error.message,
            })
        })
        .collect();
    Reply::json(
        200,
        serde_json::json!({ "PhoneNumberErrors": errors }).to_string(),
    )
}

/// A query member of an enum, checked into `v`.
fn query_enum<T>(
    call: &Call<'_>,
    v: &mut Violations,
    name: &str,
    member: &str,
    parse: fn(&str) -> Option<T>,
    choices: String,
) -> Result<Option<T>, ApiError> {
    Ok(match call.query.get(name)? {
        Some(raw) => v.enumeration(member, raw, parse, choices),
        None => None,
    })
}

/// The `product-type` query member, checked into `v`.
fn query_product_type(
    call: &Call<'_>,
    v: &mut Violations,
) -> Result<Option<PhoneNumberProductType>, ApiError> {
    query_enum(
        call,
        v,
        "product-type",
        "productType",
        PhoneNumberProductType::parse,
        PhoneNumberProductType::choices(),
    )
}

/// A query member as an owned string.
fn query_text(call: &Call<'_>, name: &str) -> Result<Option<String>, ApiError> {
    Ok(call.query.get(name)?.map(str::to_string))
}

/// `GET /search?type=phone-numbers`: numbers the carrier offers, less those the AWS account
/// holds or has on order, in E.164 order.
pub async fn search_available_phone_numbers(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let search = carrier::Search {
        area_code: query_text(call, "area-code")?,
        city: query_text(call, "city")?,
        country: query_text(call, "country")?,
        state: query_text(call, "state")?,
        toll_free_prefix: query_text(call, "toll-free-prefix")?,
        number_type: query_enum(
            call,
            &mut v,
            "phone-number-type",
            "phoneNumberType",
            PhoneNumberType::parse,
            PhoneNumberType::choices(),
        )?,
    };
    if let Some(country) = &search.country {
        v.pattern("country", country, "^[A-Z]{2}$", false);
    }
    if let Some(prefix) = &search.toll_free_prefix {
        v.length("tollFreePrefix", prefix, Some(3), Some(3), false);
        v.pattern(
            "tollFreePrefix",
            prefix,
            r"^8(00|33|44|55|66|77|88)$",
            false,
        );
    }
    let limit = call.max_results_within(&mut v, SEARCH_MAX, SEARCH_DEFAULT)?;
    v.finish()?;
    let offered = carrier::offered(&search).map_err(|(member, rule)| {
        let mut v = Violations::new();
        v.violated(member, rule);
        v.finish().expect_err("a violation")
    })?;
    let kind = search.number_type.map(PhoneNumberType::as_str);
    let scope = [
        Op::SearchAvailablePhoneNumbers.name(),
        call.owner(),
        search.area_code.as_deref().unwrap_or(""),
        search.city.as_deref().unwrap_or(""),
        search.country.as_deref().unwrap_or(""),
        search.state.as_deref().unwrap_or(""),
        search.toll_free_prefix.as_deref().unwrap_or(""),
        kind.unwrap_or(""),
    ];
    let after = call
        .page_after(&scope, 1)?
        .and_then(|p| p.into_iter().next());
    let taken: std::collections::HashSet<String> = call
        .store
        .numbers_taken(call.owner())
        .await?
        .into_iter()
        .collect();
    let mut page: Vec<&String> = offered
        .iter()
        .filter(|n| after.as_ref().is_none_or(|a| *n > a) && !taken.contains(*n))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let mut body = serde_json::json!({ "E164PhoneNumbers": page });
    if more && let Some(last) = page.last() {
        body["NextToken"] = call.next_token(&scope, &[last.as_str()]).into();
    }
    Ok(Reply::json(200, body.to_string()))
}

/// `GET /phone-number-countries?product-type=`: where the product's numbers can be ordered.
pub async fn list_supported_phone_number_countries(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let product = query_product_type(call, &mut v)?;
    if call.query.get("product-type")?.is_none() {
        v.missing("productType");
    }
    v.finish()?;
    let product = product.expect("validated");
    let countries: Vec<serde_json::Value> = carrier::countries(product)
        .into_iter()
        .map(|(country, kinds)| {
            let kinds: Vec<&str> = kinds.into_iter().map(PhoneNumberType::as_str).collect();
            serde_json::json!({ "CountryCode": country, "SupportedPhoneNumberTypes": kinds })
        })
        .collect();
    Ok(Reply::json(
        200,
        serde_json::json!({ "PhoneNumberCountries": countries }).to_string(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateOrderBody {
    product_type: Option<String>,
    #[serde(rename = "E164PhoneNumbers")]
    e164_phone_numbers: Option<Vec<String>>,
}

/// `POST /phone-number-orders`: 201 with the order, `Processing`. Each number must be one the
/// carrier serves (US or GB) and the product must allow its country and type (the service's
/// rules: no toll-free Business Calling, only SIP Media Application Dial-In outside the US).
pub async fn create_phone_number_order(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateOrderBody = call.json()?;
    let mut v = Violations::new();
    let product = match &body.product_type {
        Some(raw) => v.enumeration(
            "productType",
            raw,
            PhoneNumberProductType::parse,
            PhoneNumberProductType::choices(),
        ),
        None => {
            v.missing("productType");
            None
        }
    };
    match &body.e164_phone_numbers {
        None => v.missing("e164PhoneNumbers"),
        Some(numbers) => v.list_length("e164PhoneNumbers", numbers.len(), 1, usize::MAX),
    }
    let numbers = body.e164_phone_numbers.unwrap_or_default();
    for number in &numbers {
        v.pattern("e164PhoneNumbers.member", number, E164_PATTERN, true);
    }
    v.finish()?;
    let product = product.expect("validated");
    let mut v = Violations::new();
    let mut lines: Vec<OrderLine> = Vec::with_capacity(numbers.len());
    for number in &numbers {
        let e164 = normalize_e164(number);
        if lines.iter().any(|l| l.e164 == e164) {
            continue;
        }
        let Some((country, kind)) = carrier::classify(&e164) else {
            v.violated(
                "e164PhoneNumbers.member",
                "Member must be a number of a country this server offers: [US, GB]",
            );
            continue;
        };
        if !carrier::product_allows(product, country, kind) {
            v.violated(
                "productType",
                "Toll-free numbers cannot use BusinessCalling, and numbers outside the US must \
                 use SipMediaApplicationDialIn",
            );
            continue;
        }
        lines.push(OrderLine {
            e164,
            country: country.to_string(),
            number_type: kind,
        });
    }
    v.finish()?;
    let order = call
        .store
        .create_phone_number_order(call.owner(), product, &lines)
        .await?;
    Ok(order_reply(201, &order))
}

/// `GET /phone-number-orders/{phoneNumberOrderId}`.
pub async fn get_phone_number_order(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let id = call.label("phoneNumberOrderId");
    v.pattern("phoneNumberOrderId", id, GUID_PATTERN, false);
    v.finish()?;
    let order = call.store.get_phone_number_order(call.owner(), id).await?;
    Ok(order_reply(200, &order))
}

/// `GET /phone-number-orders?max-results=&next-token=`: in creation order.
pub async fn list_phone_number_orders(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let limit = call.max_results_within(&mut v, RESULT_MAX_MAX, RESULT_MAX_DEFAULT)?;
    v.finish()?;
    let scope = [Op::ListPhoneNumberOrders.name(), call.owner()];
    // What has come due (an order processed) is written first: it is a commit, so a page
    // cached before it is not served after it.
    call.store.settle_phone_numbers(call.owner()).await?;
    call.cached_list(&scope, limit, async {
        let after = call.created_after(&scope)?;
        let page = call
            .store
            .list_phone_number_orders(call.owner(), after, limit)
            .await?;
        let orders: Vec<serde_json::Value> = page.orders.iter().map(order_json).collect();
        let mut body = serde_json::json!({ "PhoneNumberOrders": orders });
        if let Some(next) = &page.next {
            body["NextToken"] = call.created_token(&scope, next).into();
        }
        Ok(body.to_string())
    })
    .await
}

/// `GET /phone-numbers?status=&product-type=&filter-name=&filter-value=&max-results=&next-token=`:
/// the inventory in E.164 order.
pub async fn list_phone_numbers(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let status = query_enum(
        call,
        &mut v,
        "status",
        "status",
        PhoneNumberStatus::parse,
        PhoneNumberStatus::choices(),
    )?;
    let product_type = query_product_type(call, &mut v)?;
    let filter_name = query_enum(
        call,
        &mut v,
        "filter-name",
        "filterName",
        PhoneNumberAssociationName::parse,
        PhoneNumberAssociationName::choices(),
    )?;
    let filter_value = call.query.get("filter-value")?;
    let named = call.query.get("filter-name")?.is_some();
    match (named, filter_value) {
        (true, None) => v.violated("filterValue", "Member is required with filterName"),
        (false, Some(_)) => v.violated("filterName", "Member is required with filterValue"),
        _ => {}
    }
    let limit = call.max_results_within(&mut v, RESULT_MAX_MAX, RESULT_MAX_DEFAULT)?;
    v.finish()?;
    let value = filter_value.unwrap_or_default().to_string();
    let association = filter_name.map(|name| match name {
        PhoneNumberAssociationName::AccountId => Association::Account(value.clone()),
        PhoneNumberAssociationName::UserId => Association::User(value.clone()),
        _ => Association::Nothing,
    });
    let filter = NumberFilter {
        status,
        product_type,
        association,
    };
    let scope = [
        Op::ListPhoneNumbers.name(),
        call.owner(),
        status.map_or("", PhoneNumberStatus::as_str),
        product_type.map_or("", PhoneNumberProductType::as_str),
        filter_name.map_or("", PhoneNumberAssociationName::as_str),
        &value,
    ];
    // What has come due (an order processed, a deletion final) is written first: it is a
    // commit, so a page cached before it is not served after it.
    call.store.settle_phone_numbers(call.owner()).await?;
    call.cached_list(&scope, limit, async {
        let after = call
            .page_after(&scope, 1)?
            .and_then(|p| p.into_iter().next());
        let page = call
            .store
            .list_phone_numbers(call.owner(), &filter, after.as_deref(), limit)
            .await?;
        let numbers: Vec<serde_json::Value> = page.numbers.iter().map(number_json).collect();
        let mut body = serde_json::json!({ "PhoneNumbers": numbers });
        if let Some(next) = &page.next {
            body["NextToken"] = call.next_token(&scope, &[next.as_str()]).into();
        }
        Ok(body.to_string())
    })
    .await
}

/// `GET /phone-numbers/{phoneNumberId}`.
pub async fn get_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [id] = call.path_labels(["phoneNumberId"])?;
    let number = call
        .store
        .get_phone_number(call.owner(), &number_id(id))
        .await?;
    Ok(number_reply(&number))
}

/// One change of UpdatePhoneNumber or of an item of BatchUpdatePhoneNumber: exactly one of a
/// product type and a calling name ("You can update one phone number detail at a time").
fn number_change(
    v: &mut Violations,
    product_type: Option<&str>,
    calling_name: Option<&str>,
) -> Option<NumberChange> {
    match (product_type, calling_name) {
        (Some(raw), None) => v
            .enumeration(
                "productType",
                raw,
                PhoneNumberProductType::parse,
                PhoneNumberProductType::choices(),
            )
            .map(NumberChange::ProductType),
        (None, Some(name)) => {
            v.pattern("callingName", name, CALLING_NAME_PATTERN, true);
            Some(NumberChange::CallingName(
                (!name.is_empty()).then(|| name.to_string()),
            ))
        }
        (Some(_), Some(_)) => {
            v.violated(
                "productType",
                "Only one of productType and callingName can be updated at a time",
            );
            None
        }
        (None, None) => {
            v.violated(
                "productType",
                "One of productType and callingName is required",
            );
            None
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateNumberBody {
    product_type: Option<String>,
    calling_name: Option<String>,
}

/// `POST /phone-numbers/{phoneNumberId}`: a new product type or calling name.
pub async fn update_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateNumberBody = call.json()?;
    let mut v = Violations::new();
    let [id] = call.labels(["phoneNumberId"], &mut v);
    let change = number_change(
        &mut v,
        body.product_type.as_deref(),
        body.calling_name.as_deref(),
    );
    v.finish()?;
    let number = call
        .store
        .update_phone_number(call.owner(), &number_id(id), &change.expect("validated"))
        .await?;
    Ok(number_reply(&number))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchUpdateItem {
    phone_number_id: Option<String>,
    product_type: Option<String>,
    calling_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchUpdateBody {
    update_phone_number_request_items: Option<Vec<BatchUpdateItem>>,
}

/// `POST /phone-numbers?operation=batch-update`: 200 with `PhoneNumberErrors` for the numbers
/// not changed (the others are). A request that fails validation changes nothing.
pub async fn batch_update_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: BatchUpdateBody = call.json()?;
    let mut v = Violations::new();
    let Some(items) = body.update_phone_number_request_items else {
        v.missing("updatePhoneNumberRequestItems");
        v.finish()?;
        unreachable!("a missing member is a violation");
    };
    let mut changes = Vec::with_capacity(items.len());
    for item in &items {
        let id = match &item.phone_number_id {
            Some(id) => {
                v.non_empty("phoneNumberId", id);
                number_id(id)
            }
            None => {
                v.missing("phoneNumberId");
                String::new()
            }
        };
        if let Some(change) = number_change(
            &mut v,
            item.product_type.as_deref(),
            item.calling_name.as_deref(),
        ) {
            changes.push((id, change));
        }
    }
    v.finish()?;
    let failed = call
        .store
        .update_phone_numbers(call.owner(), &changes)
        .await?;
    Ok(batch_errors_reply(failed))
}

/// `DELETE /phone-numbers/{phoneNumberId}`: 204; the number waits in the deletion queue.
pub async fn delete_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [id] = call.path_labels(["phoneNumberId"])?;
    let failed = call
        .store
        .delete_phone_numbers(call.owner(), &[number_id(id)])
        .await?;
    if let Some((_, e)) = failed.into_iter().next() {
        return Err(e.into());
    }
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchDeleteBody {
    phone_number_ids: Option<Vec<String>>,
}

/// `POST /phone-numbers?operation=batch-delete`: 200 with `PhoneNumberErrors` for the numbers
/// not deleted (the others are).
pub async fn batch_delete_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: BatchDeleteBody = call.json()?;
    let mut v = Violations::new();
    match &body.phone_number_ids {
        Some(ids) => v.list_length("phoneNumberIds", ids.len(), 1, usize::MAX),
        None => v.missing("phoneNumberIds"),
    }
    v.finish()?;
    let ids: Vec<String> = body
        .phone_number_ids
        .unwrap_or_default()
        .iter()
        .map(|id| number_id(id))
        .collect();
    let failed = call.store.delete_phone_numbers(call.owner(), &ids).await?;
    Ok(batch_errors_reply(failed))
}

/// `POST /phone-numbers/{phoneNumberId}?operation=restore`: back from the deletion queue to the
/// inventory, `Unassigned`.
pub async fn restore_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [id] = call.path_labels(["phoneNumberId"])?;
    let number = call
        .store
        .restore_phone_number(call.owner(), &number_id(id))
        .await?;
    Ok(number_reply(&number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_id_is_the_number_in_one_spelling() {
        assert_eq!(number_id("12065550100"), "+12065550100");
        assert_eq!(number_id("+12065550100"), "+12065550100");
        assert_eq!(number_id("not-a-number"), "not-a-number");
    }
}
