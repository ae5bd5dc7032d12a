//! `belfry export --resource phone-numbers` and `belfry import --resource phone-numbers`: the
//! phone-number inventory of an AWS account and its orders, as JSON Lines. Numbers and orders
//! belong to the AWS account (`--aws-account-id`), not to one Chime account. Each line is
//! what GetPhoneNumber or GetPhoneNumberOrder returns (the api's own rendering,
//! [`number_json`] and [`order_json`]), numbers first, in E.164 order, then orders, in
//! creation order:
//!
//! ```json
//! {"PhoneNumber":{"PhoneNumberId":"+12065550100","E164PhoneNumber":"+12065550100","Country":"US",
//!  "Type":"Local","ProductType":"BusinessCalling","Status":"Assigned","Capabilities":{...},
//!  "Associations":[{"Name":"AccountId","Value":"...","AssociatedTimestamp":"..."},
//!                  {"Name":"UserId","Value":"...","AssociatedTimestamp":"..."}],
//!  "CallingNameStatus":"Unassigned","CreatedTimestamp":"...","UpdatedTimestamp":"..."}}
//! {"PhoneNumberOrder":{"PhoneNumberOrderId":"...","ProductType":"BusinessCalling",
//!  "Status":"Successful","OrderedPhoneNumbers":[{"E164PhoneNumber":"+12065550100",
//!  "Status":"Acquired"}],"CreatedTimestamp":"...","UpdatedTimestamp":"..."}}
//! ```
//!
//! An import restores each line as it was (ids, statuses, timestamps), each in a transaction of
//! its own, and reports bad lines with their number and reason (the line loop of [`super::rooms`]).
//! `Capabilities` is read and ignored: it follows from the type.
//!
//! * A number associated with a user is restored only if that user is in one of the AWS
//!   account's accounts and holds no other number; its `AccountId` association then names the
//!   account the user is in now (users move between stores with `--account-id`), and the user's
//!   PrimaryProvisionedNumber becomes the number. Import users first.
//! * A number already in the inventory is **replaced** by the line (so that the numbers a user
//!   import entered for its users' PrimaryProvisionedNumber get their exported state back),
//!   unless a user holds it whom the line does not name: that line is refused.
//! * An order with the id of one of the AWS account's orders replaces it; one of another AWS
//!   account is refused. A `Processing` order is processed as a new one would be, once its
//!   processing time from its creation has passed.

use std::io::{BufRead, Write};

use serde::Deserialize;

use super::ExportError;
use super::ImportSummary;
use super::rooms::{Refusal, created_and_updated, import_lines, parse_line, timestamp};
use crate::api::phone_numbers::{number_json, order_json};
use crate::api::validate::{E164_PATTERN, matches};
use crate::model::{
    CallingNameStatus, OrderedPhoneNumberStatus, PhoneNumberAssociationName,
    PhoneNumberOrderStatus, PhoneNumberProductType, PhoneNumberStatus, PhoneNumberType,
};
use crate::store::{NumberFilter, OrderedNumber, PhoneNumber, PhoneNumberOrder, Store, StoreError};

/// One line: a number or an order, under the member name its Get operation returns it in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
enum Line {
    PhoneNumber(NumberRecord),
    PhoneNumberOrder(OrderRecord),
}

/// The `PhoneNumber` structure as [`number_json`] writes it, read back.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct NumberRecord {
    phone_number_id: String,
    #[serde(rename = "E164PhoneNumber")]
    e164_phone_number: String,
    country: String,
    #[serde(rename = "Type")]
    number_type: String,
    product_type: String,
    status: String,
    #[serde(default)]
    capabilities: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    associations: Vec<AssociationRecord>,
    #[serde(default)]
    calling_name: Option<String>,
    calling_name_status: String,
    created_timestamp: String,
    updated_timestamp: String,
    #[serde(default)]
    deletion_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AssociationRecord {
    name: String,
    value: String,
    #[serde(default)]
    associated_timestamp: Option<String>,
}

/// The `PhoneNumberOrder` structure as [`order_json`] writes it, read back.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct OrderRecord {
    phone_number_order_id: String,
    product_type: String,
    status: String,
    #[serde(default)]
    ordered_phone_numbers: Vec<OrderedRecord>,
    created_timestamp: String,
    updated_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct OrderedRecord {
    #[serde(rename = "E164PhoneNumber")]
    e164_phone_number: String,
    status: String,
}

/// Writes every page `fetch` gives, from the first (`None`) to the one naming no next page,
/// one JSON line `{member: json(item)}` per item. Returns how many lines were written.
async fn write_pages<C, T, Fut>(
    out: &mut impl Write,
    member: &str,
    mut fetch: impl FnMut(Option<C>) -> Fut,
    json: fn(&T) -> serde_json::Value,
) -> Result<u64, ExportError>
where
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<C>), StoreError>>,
{
    let mut written = 0;
    let mut after = None;
    loop {
        let (items, next) = fetch(after).await?;
        for item in &items {
            serde_json::to_writer(&mut *out, &serde_json::json!({ member: json(item) }))
                .map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            written += 1;
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(written),
        }
    }
}

/// Writes every number of the AWS account's inventory, then every order, one JSON line each.
/// Returns how many lines were written.
pub async fn export(
    store: &Store,
    aws_account_id: &str,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    const PAGE: usize = 500;
    let all = &NumberFilter::default();
    let numbers = write_pages(
        out,
        "PhoneNumber",
        |after: Option<String>| async move {
            let page = store
                .list_phone_numbers(aws_account_id, all, after.as_deref(), PAGE)
                .await?;
            Ok((page.numbers, page.next))
        },
        number_json,
    )
    .await?;
    let orders = write_pages(
        out,
        "PhoneNumberOrder",
        |after| async move {
            let page = store
                .list_phone_number_orders(aws_account_id, after, PAGE)
                .await?;
            Ok((page.orders, page.next))
        },
        order_json,
    )
    .await?;
    out.flush()?;
    Ok(numbers + orders)
}

/// Reads JSON Lines of numbers and orders into the AWS account's inventory; every line is its
/// own transaction, and a bad line is reported, not fatal.
pub async fn import(
    store: &Store,
    aws_account_id: &str,
    input: impl BufRead,
) -> Result<ImportSummary, StoreError> {
    import_lines(input, move |line| async move {
        match parse_line(&line).map_err(Refusal::Line)? {
            Line::PhoneNumber(record) => {
                let number = number_of_record(record).map_err(Refusal::Line)?;
                store
                    .restore_inventory_number(aws_account_id, &number)
                    .await?;
            }
            Line::PhoneNumberOrder(record) => {
                let order = order_of_record(record).map_err(Refusal::Line)?;
                store
                    .restore_phone_number_order(aws_account_id, &order)
                    .await?;
            }
        }
        Ok(())
    })
    .await
}

/// A wire enum of a record, or why it is not one.
fn wire<T>(
    member: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Result<T, String> {
    parse(text).ok_or_else(|| format!("{member} {text:?} is not one of {}", choices()))
}

/// A record's `ProductType` (numbers and orders both have one).
fn product_type(text: &str) -> Result<PhoneNumberProductType, String> {
    wire(
        "ProductType",
        text,
        PhoneNumberProductType::parse,
        PhoneNumberProductType::choices,
    )
}

/// The number of a record: one E.164 number as both ids; associated with a user (both an
/// `AccountId` and a `UserId` association, since the same time) exactly when `Assigned`; a
/// `DeletionTimestamp` exactly when `DeleteInProgress`.
fn number_of_record(r: NumberRecord) -> Result<PhoneNumber, String> {
    if r.phone_number_id != r.e164_phone_number
        || !matches(E164_PATTERN, &r.e164_phone_number)
        || !r.e164_phone_number.starts_with('+')
    {
        return Err(format!(
            "PhoneNumberId {:?} and E164PhoneNumber {:?} are not one +E.164 number",
            r.phone_number_id, r.e164_phone_number
        ));
    }
    let _ = r.capabilities;
    let status = wire(
        "Status",
        &r.status,
        PhoneNumberStatus::parse,
        PhoneNumberStatus::choices,
    )?;
    let (created_ms, updated_ms) = created_and_updated(&r.created_timestamp, &r.updated_timestamp)?;
    let deletion_ms = r
        .deletion_timestamp
        .as_deref()
        .map(|t| timestamp("DeletionTimestamp", t))
        .transpose()?;
    if deletion_ms.is_some() != (status == PhoneNumberStatus::DeleteInProgress) {
        return Err("DeletionTimestamp is given exactly when Status is DeleteInProgress".into());
    }
    let (mut account_id, mut user_id, mut since) = (None, None, None);
    for a in &r.associations {
        let name = wire(
            "Associations.Name",
            &a.name,
            PhoneNumberAssociationName::parse,
            PhoneNumberAssociationName::choices,
        )?;
        let slot = match name {
            PhoneNumberAssociationName::AccountId => &mut account_id,
            PhoneNumberAssociationName::UserId => &mut user_id,
            _ => return Err(format!("a {} association is not kept", a.name)),
        };
        if slot.replace(a.value.clone()).is_some() {
            return Err(format!("two {} associations", a.name));
        }
        let at = a
            .associated_timestamp
            .as_deref()
            .map(|t| timestamp("AssociatedTimestamp", t))
            .transpose()?;
        if since.is_some() && since != Some(at) {
            return Err("the associations differ in AssociatedTimestamp".into());
        }
        since = Some(at);
    }
    if account_id.is_some() != user_id.is_some()
        || user_id.is_some() != (status == PhoneNumberStatus::Assigned)
    {
        return Err(
            "a number is Assigned exactly when it has an AccountId and a UserId association".into(),
        );
    }
    Ok(PhoneNumber {
        e164: r.e164_phone_number,
        country: r.country,
        number_type: wire(
            "Type",
            &r.number_type,
            PhoneNumberType::parse,
            PhoneNumberType::choices,
        )?,
        product_type: product_type(&r.product_type)?,
        status,
        calling_name: r.calling_name,
        calling_name_status: wire(
            "CallingNameStatus",
            &r.calling_name_status,
            CallingNameStatus::parse,
            CallingNameStatus::choices,
        )?,
        account_id,
        user_id,
        associated_ms: since.flatten(),
        created_ms,
        updated_ms,
        deletion_ms,
    })
}

/// The order of a record.
fn order_of_record(r: OrderRecord) -> Result<PhoneNumberOrder, String> {
    let (created_ms, updated_ms) = created_and_updated(&r.created_timestamp, &r.updated_timestamp)?;
    let numbers = r
        .ordered_phone_numbers
        .into_iter()
        .map(|n| {
            if !matches(E164_PATTERN, &n.e164_phone_number) {
                return Err(format!(
                    "E164PhoneNumber {:?} is not an E.164 number",
                    n.e164_phone_number
                ));
            }
            Ok(OrderedNumber {
                status: wire(
                    "OrderedPhoneNumbers.Status",
                    &n.status,
                    OrderedPhoneNumberStatus::parse,
                    OrderedPhoneNumberStatus::choices,
                )?,
                e164: n.e164_phone_number,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PhoneNumberOrder {
        order_id: r.phone_number_order_id,
        product_type: product_type(&r.product_type)?,
        status: wire(
            "Status",
            &r.status,
            PhoneNumberOrderStatus::parse,
            PhoneNumberOrderStatus::choices,
        )?,
        numbers,
        created_ms,
        updated_ms,
    })
}
