//! The phone-number inventory of an AWS account and its orders.
//!
//! Numbers belong to the AWS account (the *owner*), not to one Chime account: a number is
//! `Unassigned` in the inventory until AssociatePhoneNumberWithUser makes it `Assigned` to a
//! user (its association names the user and the user's account), and a number is held by at most
//! one user. The number is its own id (`PhoneNumberId` is the E.164 number, as in the service's
//! examples), so the key is `(aws_account_id, e164)`.
//!
//! Orders and the deletion queue move on by time, and they move *lazily*: every call of this
//! file (and AssociatePhoneNumberWithUser) first [settles](Store::settle_phone_numbers) the
//! owner's inventory, in a write transaction only when something is due. An order is
//! `Processing` until its `ready_ms` (creation plus [`Store::with_order_processing`], 0 by
//! default: done by the next call); settling then acquires its numbers one by one, in order, and
//! a number the AWS account holds by then (taken by an earlier order, say) fails alone. A deleted
//! number waits in the deletion queue (`DeleteInProgress`) for [`DELETION_QUEUE_MS`] and is gone
//! for good at the first settle after that.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Conflict, Limit, Missing, Rejection, Result, Store, StoreError, Tx};
use crate::model::{
    CallingNameStatus, OrderedPhoneNumberStatus, PhoneNumberOrderStatus, PhoneNumberProductType,
    PhoneNumberStatus, PhoneNumberType,
};
use crate::time::now_millis;

/// How long a deleted number stays in the deletion queue: "Deleted phone numbers remain in the
/// Deletion queue for 7 days before they are deleted permanently." (DeletePhoneNumber's
/// documentation.)
pub const DELETION_QUEUE_MS: i64 = 7 * 24 * 3600 * 1000;

/// A number of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub e164: String,
    pub country: String,
    pub number_type: PhoneNumberType,
    pub product_type: PhoneNumberProductType,
    pub status: PhoneNumberStatus,
    pub calling_name: Option<String>,
    pub calling_name_status: CallingNameStatus,
    /// The account and user it is assigned to, and since when.
    pub account_id: Option<String>,
    pub user_id: Option<String>,
    pub associated_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// When it entered the deletion queue.
    pub deletion_ms: Option<i64>,
}

/// What ListPhoneNumbers' `filter-name` / `filter-value` select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Association {
    /// Numbers assigned to users of this Chime account.
    Account(String),
    /// The number assigned to this user.
    User(String),
    /// Numbers of a Voice Connector, group or SIP rule: Belfry has none of these, so none.
    Nothing,
}

/// ListPhoneNumbers' filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberFilter {
    pub status: Option<PhoneNumberStatus>,
    pub product_type: Option<PhoneNumberProductType>,
    pub association: Option<Association>,
}

/// One page of the inventory, in E.164 order.
#[derive(Debug, Clone)]
pub struct PhoneNumberPage {
    pub numbers: Vec<PhoneNumber>,
    pub next: Option<String>,
}

/// One change of UpdatePhoneNumber (the service takes one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberChange {
    ProductType(PhoneNumberProductType),
    /// The calling name; `None` (an empty `CallingName`) removes it.
    CallingName(Option<String>),
}

/// A number to order, as the carrier classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub e164: String,
    pub country: String,
    pub number_type: PhoneNumberType,
}

/// One number of an order, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedNumber {
    pub e164: String,
    pub status: OrderedPhoneNumberStatus,
}

/// A phone number order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumberOrder {
    pub order_id: String,
    pub product_type: PhoneNumberProductType,
    pub status: PhoneNumberOrderStatus,
    pub numbers: Vec<OrderedNumber>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One page of orders, in creation order.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<PhoneNumberOrder>,
    pub next: Option<(i64, String)>,
}

const NUMBER_COLUMNS: &str = "e164, country, number_type, product_type, status, calling_name, \
                              calling_name_status, account_id, user_id, associated_ms, \
                              created_ms, updated_ms, deletion_ms";

/// Parses a wire enum read back from the store.
fn column<T>(row: &AnyRow, name: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(name)?;
    parse(&text).ok_or_else(|| StoreError::Internal(format!("invalid {name} {text:?} in store")))
}

fn number_from_row(row: &AnyRow) -> Result<PhoneNumber> {
    Ok(PhoneNumber {
        e164: row.try_get("e164")?,
        country: row.try_get("country")?,
        number_type: column(row, "number_type", PhoneNumberType::parse)?,
        product_type: column(row, "product_type", PhoneNumberProductType::parse)?,
        status: column(row, "status", PhoneNumberStatus::parse)?,
        calling_name: row.try_get("calling_name")?,
        calling_name_status: column(row, "calling_name_status", CallingNameStatus::parse)?,
        account_id: row.try_get("account_id")?,
        user_id: row.try_get("user_id")?,
        associated_ms: row.try_get("associated_ms")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
        deletion_ms: row.try_get("deletion_ms")?,
    })
}

/// The number `e164` is not in the owner's inventory.
fn no_number(e164: &str) -> StoreError {
    StoreError::NotFound(Missing::PhoneNumber {
        phone_number_id: e164.to_string(),
    })
}

/// Reads one number of the owner's inventory, through the read pool or inside a transaction.
async fn load_number<'e, E>(executor: E, owner: &str, e164: &str) -> Result<PhoneNumber>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {NUMBER_COLUMNS} FROM phone_numbers WHERE aws_account_id = $1 AND e164 = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(e164)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| no_number(e164))?;
    number_from_row(&row)
}

/// Whose numbers [`release_numbers`] returns to the inventory.
#[derive(Debug, Clone, Copy)]
pub(super) enum Holder<'a> {
    /// The user's number.
    User(&'a str),
    /// The numbers of every user of the account (the account is being deleted).
    Account(&'a str),
}

/// Returns the numbers `holder` holds to the inventory (`Unassigned`, no association).
pub(super) async fn release_numbers(conn: &mut AnyConnection, holder: Holder<'_>) -> Result<()> {
    let (sql, id) = match holder {
        Holder::User(id) => (
            "UPDATE phone_numbers SET status = 'Unassigned', account_id = NULL, user_id = NULL,
                associated_ms = NULL, updated_ms = $1
             WHERE user_id = $2",
            id,
        ),
        Holder::Account(id) => (
            "UPDATE phone_numbers SET status = 'Unassigned', account_id = NULL, user_id = NULL,
                associated_ms = NULL, updated_ms = $1
             WHERE account_id = $2",
            id,
        ),
    };
    sqlx::query(sql)
        .bind(now_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Assigns the inventory's number `e164` to the user, after the checks of
/// AssociatePhoneNumberWithUser: the number must be in the owner's inventory
/// ([`Missing::PhoneNumber`]), not in the deletion queue, a Business Calling number, and not
/// another user's ([`Conflict::PhoneNumber`]). Returns false when the user holds it already.
/// The user's earlier number goes back to the inventory.
pub(super) async fn assign_number(
    tx: &mut Tx,
    owner: &str,
    e164: &str,
    account_id: &str,
    user_id: &str,
) -> Result<bool> {
    let number = load_number(&mut **tx, owner, e164).await?;
    if number.status == PhoneNumberStatus::DeleteInProgress {
        return Err(StoreError::Rejected(Rejection::NumberInDeletionQueue));
    }
    match number.user_id.as_deref() {
        Some(holder) if holder == user_id => return Ok(false),
        Some(_) => return Err(StoreError::Conflict(Conflict::PhoneNumber)),
        None => {}
    }
    if number.product_type != PhoneNumberProductType::BusinessCalling {
        return Err(StoreError::Rejected(Rejection::NotBusinessCalling));
    }
    release_numbers(tx, Holder::User(user_id)).await?;
    let now = now_millis();
    // Only while no one holds it: a concurrent association from another Chime account (whose
    // account lock does not order it with this one) that committed first leaves no row here.
    let done = sqlx::query(
        "UPDATE phone_numbers SET status = 'Assigned', account_id = $1, user_id = $2,
            associated_ms = $3, updated_ms = $3
         WHERE aws_account_id = $4 AND e164 = $5 AND user_id IS NULL
            AND status = 'Unassigned'",
    )
    .bind(account_id)
    .bind(user_id)
    .bind(now)
    .bind(owner)
    .bind(e164)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::from(e).duplicate_is(Conflict::PhoneNumber))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(Conflict::PhoneNumber));
    }
    Ok(true)
}

/// A user's number as a user import (or seeding) brings it: `(user id, number)`.
#[derive(serde::Serialize)]
struct HeldRow<'a> {
    user_id: &'a str,
    number: &'a str,
    country: &'a str,
    number_type: &'a str,
}

/// Makes each user's number (`(user id, Some(number))`) an `Assigned` number of the owner's
/// inventory, entering it if it is not there; a user given `None` holds no number any more.
/// Numbers the users held before go back to the inventory. A number another user holds is
/// [`Conflict::PhoneNumber`].
pub(super) async fn hold_numbers(
    conn: &mut AnyConnection,
    backend: super::Backend,
    owner: &str,
    account_id: &str,
    users: &[(&str, Option<&str>)],
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let released: Vec<serde_json::Value> = users
        .iter()
        .map(|(user_id, _)| serde_json::json!({ "user_id": user_id }))
        .collect();
    let sql = format!(
        "UPDATE phone_numbers SET status = 'Unassigned', account_id = NULL, user_id = NULL,
            associated_ms = NULL, updated_ms = $1
         WHERE user_id IN (SELECT value ->> 'user_id' FROM {})",
        backend.json_rows("$2")
    );
    let now = now_millis();
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(serde_json::Value::Array(released).to_string())
        .execute(&mut *conn)
        .await?;
    let held: Vec<HeldRow<'_>> = users
        .iter()
        .filter_map(|(user_id, number)| {
            let number = (*number)?;
            let (country, kind) = crate::carrier::classify_held(number);
            Some(HeldRow {
                user_id,
                number,
                country,
                number_type: kind.as_str(),
            })
        })
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    // (`WHERE true` keeps SQLite from reading `ON CONFLICT` as a join's `ON`.)
    // Two users of the batch naming one number: refused here, since one upsert statement may
    // not touch a row twice.
    let mut named: Vec<&str> = held.iter().map(|h| h.number).collect();
    named.sort_unstable();
    if named.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Conflict(Conflict::PhoneNumber));
    }
    let sql = format!(
        "INSERT INTO phone_numbers (aws_account_id, e164, country, number_type, product_type,
            status, calling_name, calling_name_status, account_id, user_id, associated_ms,
            created_ms, updated_ms, deletion_ms)
         SELECT $1, value ->> 'number', value ->> 'country', value ->> 'number_type',
            'BusinessCalling', 'Assigned', NULL, 'Unassigned', $2, value ->> 'user_id', $3, $3,
            $3, NULL
         FROM {}
         WHERE true
         ON CONFLICT (aws_account_id, e164) DO UPDATE SET status = 'Assigned',
            account_id = excluded.account_id, user_id = excluded.user_id,
            associated_ms = excluded.associated_ms, updated_ms = excluded.updated_ms,
            deletion_ms = NULL
         WHERE phone_numbers.user_id IS NULL",
        backend.json_rows("$4")
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(account_id)
        .bind(now)
        .bind(serde_json::to_string(&held).expect("rows serialise"))
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::from(e).duplicate_is(Conflict::PhoneNumber))?;
    // A number some other user holds is left as it is by the `WHERE`: fewer rows than numbers.
    if done.rows_affected() < held.len() as u64 {
        return Err(StoreError::Conflict(Conflict::PhoneNumber));
    }
    Ok(())
}

fn order_status(numbers: &[OrderedNumber]) -> PhoneNumberOrderStatus {
    let acquired = numbers
        .iter()
        .filter(|n| n.status == OrderedPhoneNumberStatus::Acquired)
        .count();
    match acquired {
        0 => PhoneNumberOrderStatus::Failed,
        n if n == numbers.len() => PhoneNumberOrderStatus::Successful,
        _ => PhoneNumberOrderStatus::Partial,
    }
}

impl Store {
    /// Processes what is due in the owner's inventory: orders past their processing time, and
    /// deleted numbers past their 7 days. Reads first, and writes only when something is due.
    /// Every read of the inventory or the orders calls it first (the lists before their page
    /// cache: what comes due is a commit, which drops the cached pages).
    pub async fn settle_phone_numbers(&self, owner: &str) -> Result<()> {
        let now = now_millis();
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) WHERE EXISTS (SELECT 1 FROM phone_number_orders
                WHERE aws_account_id = $1 AND status = 'Processing' AND ready_ms <= $2)
             OR EXISTS (SELECT 1 FROM phone_numbers WHERE aws_account_id = $1
                AND status = 'DeleteInProgress' AND deletion_ms <= $3)",
        )
        .bind(owner)
        .bind(now)
        .bind(now - DELETION_QUEUE_MS)
        .fetch_optional(&self.reads)
        .await?;
        if due.is_none() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::settle_in(&mut tx, owner, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Store::settle_phone_numbers`] inside a write transaction.
    async fn settle_in(tx: &mut Tx, owner: &str, now: i64) -> Result<()> {
        sqlx::query(
            "DELETE FROM phone_numbers WHERE aws_account_id = $1
                AND status = 'DeleteInProgress' AND deletion_ms <= $2",
        )
        .bind(owner)
        .bind(now - DELETION_QUEUE_MS)
        .execute(&mut **tx)
        .await?;
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT order_id, product_type FROM phone_number_orders
             WHERE aws_account_id = $1 AND status = 'Processing' AND ready_ms <= $2
             ORDER BY created_ms, order_id",
        )
        .bind(owner)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        for (order_id, product_type) in due {
            // Claims the order: a concurrent settle (another replica) that got here first has
            // changed its status, and this UPDATE (which waits for that one) then changes
            // nothing.
            let claimed = sqlx::query(
                "UPDATE phone_number_orders SET updated_ms = $1
                 WHERE order_id = $2 AND status = 'Processing'",
            )
            .bind(now)
            .bind(&order_id)
            .execute(&mut **tx)
            .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            let lines: Vec<(i64, String, String, String)> = sqlx::query_as(
                "SELECT seq, e164, country, number_type FROM phone_number_order_numbers
                 WHERE order_id = $1 ORDER BY seq",
            )
            .bind(&order_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut numbers = Vec::with_capacity(lines.len());
            for (seq, e164, country, number_type) in lines {
                let inserted = sqlx::query(
                    "INSERT INTO phone_numbers (aws_account_id, e164, country, number_type,
                        product_type, status, calling_name, calling_name_status, account_id,
                        user_id, associated_ms, created_ms, updated_ms, deletion_ms)
                     VALUES ($1, $2, $3, $4, $5, 'Unassigned', NULL, 'Unassigned', NULL, NULL,
                        NULL, $6, $6, NULL)
                     ON CONFLICT (aws_account_id, e164) DO NOTHING",
                )
                .bind(owner)
                .bind(&e164)
                .bind(&country)
                .bind(&number_type)
                .bind(&product_type)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let status = if inserted.rows_affected() == 1 {
                    OrderedPhoneNumberStatus::Acquired
                } else {
                    OrderedPhoneNumberStatus::Failed
                };
                sqlx::query(
                    "UPDATE phone_number_order_numbers SET status = $1
                     WHERE order_id = $2 AND seq = $3",
                )
                .bind(status.as_str())
                .bind(&order_id)
                .bind(seq)
                .execute(&mut **tx)
                .await?;
                numbers.push(OrderedNumber { e164, status });
            }
            sqlx::query("UPDATE phone_number_orders SET status = $1 WHERE order_id = $2")
                .bind(order_status(&numbers).as_str())
                .bind(&order_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// One number of the owner's inventory.
    pub async fn get_phone_number(&self, owner: &str, e164: &str) -> Result<PhoneNumber> {
        self.settle_phone_numbers(owner).await?;
        load_number(&self.reads, owner, e164).await
    }

    /// A page of the owner's inventory after the number `after`, in E.164 order. An
    /// association filter naming an account or user the owner does not have is NotFound.
    pub async fn list_phone_numbers(
        &self,
        owner: &str,
        filter: &NumberFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<PhoneNumberPage> {
        self.settle_phone_numbers(owner).await?;
        let (by_account, by_user) = match &filter.association {
            None => (None, None),
            Some(Association::Nothing) => {
                return Ok(PhoneNumberPage {
                    numbers: Vec::new(),
                    next: None,
                });
            }
            Some(Association::Account(account_id)) => {
                Self::check_owner(&self.reads, owner, account_id).await?;
                (Some(account_id.as_str()), None)
            }
            Some(Association::User(user_id)) => {
                let known: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM users u
                     JOIN accounts a ON a.account_id = u.account_id
                     WHERE u.user_id = $1 AND a.aws_account_id = $2",
                )
                .bind(user_id)
                .bind(owner)
                .fetch_optional(&self.reads)
                .await?;
                if known.is_none() {
                    return Err(StoreError::NotFound(Missing::AnyUser {
                        user_id: user_id.clone(),
                    }));
                }
                (None, Some(user_id.as_str()))
            }
        };
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM phone_numbers
             WHERE aws_account_id = $1 AND e164 > $2
                AND (CAST($3 AS TEXT) IS NULL OR status = $3)
                AND (CAST($4 AS TEXT) IS NULL OR product_type = $4)
                AND (CAST($5 AS TEXT) IS NULL OR account_id = $5)
                AND (CAST($6 AS TEXT) IS NULL OR user_id = $6)
             ORDER BY e164
             LIMIT $7"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(after.unwrap_or(""))
            .bind(filter.status.map(PhoneNumberStatus::as_str))
            .bind(filter.product_type.map(PhoneNumberProductType::as_str))
            .bind(by_account)
            .bind(by_user)
            .bind(limit as i64 + 1)
            .fetch_all(&self.reads)
            .await?;
        let mut numbers = rows
            .iter()
            .map(number_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next = super::page_end(&mut numbers, limit, |n| n.e164.clone());
        Ok(PhoneNumberPage { numbers, next })
    }

    /// Every number the owner holds or has on order (not yet processed): what the carrier does
    /// not offer it again.
    pub async fn numbers_taken(&self, owner: &str) -> Result<Vec<String>> {
        self.settle_phone_numbers(owner).await?;
        Ok(sqlx::query_scalar(
            "SELECT e164 FROM phone_numbers WHERE aws_account_id = $1
             UNION SELECT n.e164 FROM phone_number_order_numbers n
                JOIN phone_number_orders o ON o.order_id = n.order_id
             WHERE o.aws_account_id = $1 AND o.status = 'Processing'",
        )
        .bind(owner)
        .fetch_all(&self.reads)
        .await?)
    }

    /// Applies one change to a number: a product the number's country and type allow (the api
    /// checked), never for a number assigned to a user ([`Conflict::NumberAssigned`]); a calling
    /// name. A number in the deletion queue changes no more.
    pub async fn update_phone_number(
        &self,
        owner: &str,
        e164: &str,
        change: &NumberChange,
    ) -> Result<PhoneNumber> {
        self.settle_phone_numbers(owner).await?;
        let mut tx = self.begin_write().await?;
        let number = Self::update_in(&mut tx, owner, e164, change).await?;
        tx.commit().await?;
        Ok(number)
    }

    /// Applies each `(number, change)` in order in one transaction; returns the numbers that
    /// failed, each with why (the others are changed).
    pub async fn update_phone_numbers(
        &self,
        owner: &str,
        changes: &[(String, NumberChange)],
    ) -> Result<Vec<(String, StoreError)>> {
        self.settle_phone_numbers(owner).await?;
        let mut tx = self.begin_write().await?;
        let mut failed = Vec::new();
        for (e164, change) in changes {
            match Self::update_in(&mut tx, owner, e164, change).await {
                Ok(_) => {}
                Err(
                    e @ (StoreError::NotFound(_)
                    | StoreError::Conflict(_)
                    | StoreError::Rejected(_)),
                ) => failed.push((e164.clone(), e)),
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        Ok(failed)
    }

    async fn update_in(
        tx: &mut Tx,
        owner: &str,
        e164: &str,
        change: &NumberChange,
    ) -> Result<PhoneNumber> {
        let mut number = load_number(&mut **tx, owner, e164).await?;
        if number.status == PhoneNumberStatus::DeleteInProgress {
            return Err(StoreError::Rejected(Rejection::NumberInDeletionQueue));
        }
        match change {
            NumberChange::ProductType(product) => {
                if !crate::carrier::product_allows(*product, &number.country, number.number_type) {
                    return Err(StoreError::Rejected(Rejection::ProductNotAllowed {
                        product: *product,
                    }));
                }
                if *product != number.product_type && number.user_id.is_some() {
                    return Err(StoreError::Conflict(Conflict::NumberAssigned));
                }
                number.product_type = *product;
            }
            NumberChange::CallingName(name) => {
                number.calling_name_status = match name {
                    Some(_) => CallingNameStatus::UpdateSucceeded,
                    None => CallingNameStatus::Unassigned,
                };
                number.calling_name = name.clone();
            }
        }
        number.updated_ms = now_millis();
        // The checks above hold still (a number assigned meanwhile keeps its product).
        let done = sqlx::query(
            "UPDATE phone_numbers SET product_type = $1, calling_name = $2,
                calling_name_status = $3, updated_ms = $4
             WHERE aws_account_id = $5 AND e164 = $6 AND status <> 'DeleteInProgress'
                AND (user_id IS NULL OR product_type = $1)",
        )
        .bind(number.product_type.as_str())
        .bind(number.calling_name.as_deref())
        .bind(number.calling_name_status.as_str())
        .bind(number.updated_ms)
        .bind(owner)
        .bind(e164)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::NumberAssigned));
        }
        Ok(number)
    }

    /// Moves each number to the deletion queue, in one transaction; returns the numbers that
    /// could not be (unknown, assigned to a user, already queued), each with why.
    pub async fn delete_phone_numbers(
        &self,
        owner: &str,
        numbers: &[String],
    ) -> Result<Vec<(String, StoreError)>> {
        self.settle_phone_numbers(owner).await?;
        let mut tx = self.begin_write().await?;
        let now = now_millis();
        let mut failed = Vec::new();
        for e164 in numbers {
            let number = match load_number(&mut *tx, owner, e164).await {
                Ok(number) => number,
                Err(e @ StoreError::NotFound(_)) => {
                    failed.push((e164.clone(), e));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let refusal = if number.user_id.is_some() {
                Some(Rejection::NumberAssigned)
            } else if number.status == PhoneNumberStatus::DeleteInProgress {
                Some(Rejection::NumberInDeletionQueue)
            } else {
                None
            };
            if let Some(refusal) = refusal {
                failed.push((e164.clone(), StoreError::Rejected(refusal)));
                continue;
            }
            // Only while it is still unassigned (an association may have committed meanwhile).
            let done = sqlx::query(
                "UPDATE phone_numbers SET status = 'DeleteInProgress', deletion_ms = $1,
                    updated_ms = $1
                 WHERE aws_account_id = $2 AND e164 = $3 AND user_id IS NULL
                    AND status <> 'DeleteInProgress'",
            )
            .bind(now)
            .bind(owner)
            .bind(e164)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                failed.push((
                    e164.clone(),
                    StoreError::Rejected(Rejection::NumberAssigned),
                ));
            }
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// Moves a number from the deletion queue back to the inventory, `Unassigned`; a number
    /// not in the queue is [`Rejection::NumberNotInDeletionQueue`].
    pub async fn restore_phone_number(&self, owner: &str, e164: &str) -> Result<PhoneNumber> {
        self.settle_phone_numbers(owner).await?;
        let mut tx = self.begin_write().await?;
        let mut number = load_number(&mut *tx, owner, e164).await?;
        if number.status != PhoneNumberStatus::DeleteInProgress {
            return Err(StoreError::Rejected(Rejection::NumberNotInDeletionQueue));
        }
        number.status = PhoneNumberStatus::Unassigned;
        number.deletion_ms = None;
        number.updated_ms = now_millis();
        sqlx::query(
            "UPDATE phone_numbers SET status = 'Unassigned', deletion_ms = NULL, updated_ms = $1
             WHERE aws_account_id = $2 AND e164 = $3",
        )
        .bind(number.updated_ms)
        .bind(owner)
        .bind(e164)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(number)
    }

    /// Places an order for `lines` (at most [`super::Limits::numbers_per_order`]), `Processing`
    /// until the carrier has processed it.
    pub async fn create_phone_number_order(
        &self,
        owner: &str,
        product_type: PhoneNumberProductType,
        lines: &[OrderLine],
    ) -> Result<PhoneNumberOrder> {
        if lines.len() as i64 > self.limits.numbers_per_order {
            return Err(StoreError::LimitExceeded(Limit::NumbersPerOrder(
                self.limits.numbers_per_order,
            )));
        }
        self.settle_phone_numbers(owner).await?;
        let now = now_millis();
        let order = PhoneNumberOrder {
            order_id: uuid::Uuid::new_v4().to_string(),
            product_type,
            status: PhoneNumberOrderStatus::Processing,
            numbers: lines
                .iter()
                .map(|line| OrderedNumber {
                    e164: line.e164.clone(),
                    status: OrderedPhoneNumberStatus::Processing,
                })
                .collect(),
            created_ms: now,
            updated_ms: now,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO phone_number_orders (order_id, aws_account_id, product_type, status,
                created_ms, updated_ms, ready_ms)
             VALUES ($1, $2, $3, 'Processing', $4, $4, $5)",
        )
        .bind(&order.order_id)
        .bind(owner)
        .bind(product_type.as_str())
        .bind(now)
        .bind(now + self.order_processing_ms)
        .execute(&mut *tx)
        .await?;
        for (seq, line) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO phone_number_order_numbers (order_id, seq, e164, country,
                    number_type, status)
                 VALUES ($1, $2, $3, $4, $5, 'Processing')",
            )
            .bind(&order.order_id)
            .bind(seq as i64)
            .bind(&line.e164)
            .bind(&line.country)
            .bind(line.number_type.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(order)
    }

    /// The orders of `rows` with their numbers, in the order of the rows: the numbers of every
    /// order in one statement.
    async fn load_orders(&self, rows: Vec<AnyRow>) -> Result<Vec<PhoneNumberOrder>> {
        let mut orders = rows
            .iter()
            .map(|row| {
                Ok(PhoneNumberOrder {
                    order_id: row.try_get("order_id")?,
                    product_type: column(row, "product_type", PhoneNumberProductType::parse)?,
                    status: column(row, "status", PhoneNumberOrderStatus::parse)?,
                    numbers: Vec::new(),
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if orders.is_empty() {
            return Ok(orders);
        }
        let sql = format!(
            "SELECT order_id, e164, status FROM phone_number_order_numbers WHERE {}
             ORDER BY order_id, seq",
            self.backend.key_in("order_id", "$1")
        );
        let ids = orders.iter().map(|o| o.order_id.as_str());
        let numbers: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(super::keys_param(ids))
            .fetch_all(&self.reads)
            .await?;
        for (order_id, e164, status) in numbers {
            let status = OrderedPhoneNumberStatus::parse(&status).ok_or_else(|| {
                StoreError::Internal(format!("invalid ordered number status {status:?}"))
            })?;
            if let Some(order) = orders.iter_mut().find(|o| o.order_id == order_id) {
                order.numbers.push(OrderedNumber { e164, status });
            }
        }
        Ok(orders)
    }

    /// One order of the owner.
    pub async fn get_phone_number_order(
        &self,
        owner: &str,
        order_id: &str,
    ) -> Result<PhoneNumberOrder> {
        self.settle_phone_numbers(owner).await?;
        let rows = sqlx::query(
            "SELECT order_id, product_type, status, created_ms, updated_ms
             FROM phone_number_orders WHERE aws_account_id = $1 AND order_id = $2",
        )
        .bind(owner)
        .bind(order_id)
        .fetch_all(&self.reads)
        .await?;
        self.load_orders(rows).await?.pop().ok_or_else(|| {
            StoreError::NotFound(Missing::PhoneNumberOrder {
                order_id: order_id.to_string(),
            })
        })
    }

    /// A page of the owner's orders after `after`, in creation order.
    pub async fn list_phone_number_orders(
        &self,
        owner: &str,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> Result<OrderPage> {
        self.settle_phone_numbers(owner).await?;
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(
            "SELECT order_id, product_type, status, created_ms, updated_ms
             FROM phone_number_orders
             WHERE aws_account_id = $1 AND (created_ms, order_id) > ($2, $3)
             ORDER BY created_ms, order_id
             LIMIT $4",
        )
        .bind(owner)
        .bind(after_ms)
        .bind(after_id)
        .bind(limit as i64 + 1)
        .fetch_all(&self.reads)
        .await?;
        let mut orders = self.load_orders(rows).await?;
        let next = super::page_end(&mut orders, limit, |o| (o.created_ms, o.order_id.clone()));
        Ok(OrderPage { orders, next })
    }
}

/// `belfry import --resource phone-numbers`: numbers and orders written back as an export gave
/// them, ids, statuses and timestamps kept. A refusal is [`StoreError::Refused`] with its reason
/// (line 0: the caller knows the line).
impl Store {
    /// Writes `number` into the owner's inventory as it is. A number already there is replaced,
    /// unless a user holds it whom `number` does not name. A number assigned to a user
    /// (`number.user_id`) needs that user in one of the owner's accounts (its association then
    /// names the account the user is in now) holding no other number; the user's
    /// PrimaryProvisionedNumber becomes the number, in its ready JSON too, as
    /// AssociatePhoneNumberWithUser keeps it.
    pub async fn restore_inventory_number(&self, owner: &str, number: &PhoneNumber) -> Result<()> {
        let refused = |reason: String| StoreError::Refused(0, reason);
        let mut number = number.clone();
        let mut tx = self.begin_write().await?;
        let mut user = None;
        if let Some(user_id) = number.user_id.clone() {
            let account_id: Option<String> = sqlx::query_scalar(
                "SELECT u.account_id FROM users u JOIN accounts a ON a.account_id = u.account_id
                 WHERE u.user_id = $1 AND a.aws_account_id = $2",
            )
            .bind(&user_id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
            let account_id = account_id.ok_or_else(|| {
                refused(format!(
                    "user {user_id} is in none of the AWS account's accounts"
                ))
            })?;
            self.lock_account(&mut tx, owner, &account_id).await?;
            let record = Self::load_user(&mut tx, &account_id, &user_id)
                .await?
                .ok_or_else(|| StoreError::no_user(&account_id, &user_id))?;
            let other: Option<String> = sqlx::query_scalar(
                "SELECT e164 FROM phone_numbers WHERE user_id = $1
                    AND NOT (aws_account_id = $2 AND e164 = $3)",
            )
            .bind(&user_id)
            .bind(owner)
            .bind(&number.e164)
            .fetch_optional(&mut *tx)
            .await?;
            let other = other.or_else(|| {
                record
                    .user
                    .primary_provisioned_number
                    .clone()
                    .filter(|held| *held != number.e164)
            });
            if let Some(other) = other {
                return Err(refused(format!("user {user_id} holds {other} already")));
            }
            number.account_id = Some(account_id);
            user = Some(record);
        }
        let holder: Option<Option<String>> = sqlx::query_scalar(
            "SELECT user_id FROM phone_numbers WHERE aws_account_id = $1 AND e164 = $2",
        )
        .bind(owner)
        .bind(&number.e164)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(Some(holder)) = holder
            && number.user_id.as_deref() != Some(holder.as_str())
        {
            return Err(refused(format!(
                "{} is in the inventory already, held by user {holder}",
                number.e164
            )));
        }
        let sql = format!(
            "INSERT INTO phone_numbers (aws_account_id, {NUMBER_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (aws_account_id, e164) DO UPDATE SET country = excluded.country,
                number_type = excluded.number_type, product_type = excluded.product_type,
                status = excluded.status, calling_name = excluded.calling_name,
                calling_name_status = excluded.calling_name_status,
                account_id = excluded.account_id, user_id = excluded.user_id,
                associated_ms = excluded.associated_ms, created_ms = excluded.created_ms,
                updated_ms = excluded.updated_ms, deletion_ms = excluded.deletion_ms
             WHERE phone_numbers.user_id IS NULL OR phone_numbers.user_id = excluded.user_id"
        );
        // The `WHERE` holds against an association that committed since the check above.
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(&number.e164)
            .bind(&number.country)
            .bind(number.number_type.as_str())
            .bind(number.product_type.as_str())
            .bind(number.status.as_str())
            .bind(number.calling_name.as_deref())
            .bind(number.calling_name_status.as_str())
            .bind(number.account_id.as_deref())
            .bind(number.user_id.as_deref())
            .bind(number.associated_ms)
            .bind(number.created_ms)
            .bind(number.updated_ms)
            .bind(number.deletion_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from(e).duplicate_is(Conflict::PhoneNumber))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::PhoneNumber));
        }
        if let Some(mut record) = user
            && record.user.primary_provisioned_number.as_deref() != Some(number.e164.as_str())
        {
            record.user.primary_provisioned_number = Some(number.e164.clone());
            Self::save_user(&mut tx, &record).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes `order` as it is; an order of the owner with its id is replaced, one of another
    /// AWS account is [`Conflict::ForeignId`]. Each ordered number's country and type are the
    /// carrier's classification of it (an order shows neither); a `Processing` order is
    /// processed [`Store::with_order_processing`] after its creation, as a new one is.
    pub async fn restore_phone_number_order(
        &self,
        owner: &str,
        order: &PhoneNumberOrder,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT aws_account_id FROM phone_number_orders WHERE order_id = $1",
        )
        .bind(&order.order_id)
        .fetch_optional(&mut *tx)
        .await?;
        if holder.as_deref().is_some_and(|h| h != owner) {
            return Err(StoreError::Conflict(Conflict::ForeignId));
        }
        sqlx::query("DELETE FROM phone_number_order_numbers WHERE order_id = $1")
            .bind(&order.order_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO phone_number_orders (order_id, aws_account_id, product_type, status,
                created_ms, updated_ms, ready_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (order_id) DO UPDATE SET product_type = excluded.product_type,
                status = excluded.status, created_ms = excluded.created_ms,
                updated_ms = excluded.updated_ms, ready_ms = excluded.ready_ms",
        )
        .bind(&order.order_id)
        .bind(owner)
        .bind(order.product_type.as_str())
        .bind(order.status.as_str())
        .bind(order.created_ms)
        .bind(order.updated_ms)
        .bind(order.created_ms.saturating_add(self.order_processing_ms))
        .execute(&mut *tx)
        .await?;
        for (seq, n) in order.numbers.iter().enumerate() {
            let (country, number_type) = crate::carrier::classify_held(&n.e164);
            sqlx::query(
                "INSERT INTO phone_number_order_numbers (order_id, seq, e164, country,
                    number_type, status)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&order.order_id)
            .bind(seq as i64)
            .bind(&n.e164)
            .bind(country)
            .bind(number_type.as_str())
            .bind(n.status.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_successful_partial_or_failed_by_its_numbers() {
        let n = |status| OrderedNumber {
            e164: "+12065550100".into(),
            status,
        };
        use OrderedPhoneNumberStatus::{Acquired, Failed};
        assert_eq!(
            order_status(&[n(Acquired), n(Acquired)]),
            PhoneNumberOrderStatus::Successful
        );
        assert_eq!(
            order_status(&[n(Acquired), n(Failed)]),
            PhoneNumberOrderStatus::Partial
        );
        assert_eq!(order_status(&[n(Failed)]), PhoneNumberOrderStatus::Failed);
    }
}
