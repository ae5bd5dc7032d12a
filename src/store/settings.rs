//! Settings: those of an AWS account (its outbound calling name, and where Business Calling
//! and Voice Connector call detail records go) and the chat retention of a Chime account.
//!
//! An AWS account's settings are one `aws_settings` row, written the first time one of them
//! changes; an AWS account without the row has set nothing. A Chime account's retention is one
//! `retention_settings` row, deleted with the account.

use super::{Conflict, Rejection, Result, Store, StoreError};
use crate::model::AccountType;
use crate::time::now_millis;

/// How often an AWS account may change its outbound calling name: "You can update the default
/// outbound calling name once every seven days." (the model's UpdatePhoneNumberSettings).
pub const CALLING_NAME_PERIOD_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How long after a retention period is set its messages are deleted for good: "You can restore
/// chat messages within 30 days of setting a chat retention period." (Amazon Chime
/// Administration Guide, Restoring chat messages).
pub const RETENTION_GRACE_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The AWS account's outbound calling name, if it ever set one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhoneNumberSettings {
    pub calling_name: Option<String>,
    pub calling_name_updated_ms: Option<i64>,
}

/// The AWS account's call detail record buckets (`None`: not set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalSettings {
    pub business_calling_cdr_bucket: Option<String>,
    pub voice_connector_cdr_bucket: Option<String>,
}

/// A change of one bucket of [`GlobalSettings`]: leave it, or set it (`None` clears it).
pub type BucketChange<'a> = Option<Option<&'a str>>;

/// A Chime account's chat retention: days to keep room and conversation messages (`None`:
/// kept for ever), and when messages past them are deleted for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionSettings {
    pub room_retention_days: Option<i64>,
    pub conversation_retention_days: Option<i64>,
    pub initiate_deletion_ms: Option<i64>,
}

impl Store {
    /// The owner's settings row (both parts empty when it never set anything).
    async fn aws_settings(&self, owner: &str) -> Result<(PhoneNumberSettings, GlobalSettings)> {
        type Row = (Option<String>, Option<i64>, Option<String>, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT calling_name, calling_name_updated_ms, business_calling_cdr_bucket,
                voice_connector_cdr_bucket
             FROM aws_settings WHERE aws_account_id = $1",
        )
        .bind(owner)
        .fetch_optional(&self.reads)
        .await?;
        let (calling_name, calling_name_updated_ms, business, voice) = row.unwrap_or_default();
        Ok((
            PhoneNumberSettings {
                calling_name,
                calling_name_updated_ms,
            },
            GlobalSettings {
                business_calling_cdr_bucket: business,
                voice_connector_cdr_bucket: voice,
            },
        ))
    }

    /// The owner's outbound calling name (nothing when it never set one).
    pub async fn phone_number_settings(&self, owner: &str) -> Result<PhoneNumberSettings> {
        Ok(self.aws_settings(owner).await?.0)
    }

    /// Sets the owner's outbound calling name, at most once every
    /// [`CALLING_NAME_PERIOD_MS`]: sooner is [`Rejection::CallingNameChangedRecently`]. Setting
    /// the name it already has changes nothing and is always allowed.
    ///
    /// One statement decides and writes, so two concurrent changes cannot both pass the check.
    pub async fn update_calling_name(&self, owner: &str, calling_name: &str) -> Result<()> {
        let now = now_millis();
        let done = sqlx::query(
            "INSERT INTO aws_settings (aws_account_id, calling_name, calling_name_updated_ms)
             VALUES ($1, $2, $3)
             ON CONFLICT (aws_account_id) DO UPDATE SET
                calling_name = excluded.calling_name,
                calling_name_updated_ms = CASE
                    WHEN aws_settings.calling_name = excluded.calling_name
                    THEN aws_settings.calling_name_updated_ms
                    ELSE excluded.calling_name_updated_ms END
             WHERE aws_settings.calling_name IS NULL
                OR aws_settings.calling_name = excluded.calling_name
                OR aws_settings.calling_name_updated_ms <= $4",
        )
        .bind(owner)
        .bind(calling_name)
        .bind(now)
        .bind(now - CALLING_NAME_PERIOD_MS)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            let settings = self.phone_number_settings(owner).await?;
            let last = settings.calling_name_updated_ms.unwrap_or(now);
            return Err(StoreError::Rejected(
                Rejection::CallingNameChangedRecently {
                    next_ms: last + CALLING_NAME_PERIOD_MS,
                },
            ));
        }
        Ok(())
    }

    /// The owner's call detail record buckets (none when it never set one).
    pub async fn global_settings(&self, owner: &str) -> Result<GlobalSettings> {
        Ok(self.aws_settings(owner).await?.1)
    }

    /// Changes the buckets given; the other keeps its value.
    pub async fn update_global_settings(
        &self,
        owner: &str,
        business_calling: BucketChange<'_>,
        voice_connector: BucketChange<'_>,
    ) -> Result<()> {
        // `$2`/`$4` say whether `$3`/`$5` replace the bucket (1) or it stays (0).
        sqlx::query(
            "INSERT INTO aws_settings (aws_account_id, business_calling_cdr_bucket,
                voice_connector_cdr_bucket)
             VALUES ($1, $3, $5)
             ON CONFLICT (aws_account_id) DO UPDATE SET
                business_calling_cdr_bucket = CASE WHEN CAST($2 AS BIGINT) = 1
                    THEN excluded.business_calling_cdr_bucket
                    ELSE aws_settings.business_calling_cdr_bucket END,
                voice_connector_cdr_bucket = CASE WHEN CAST($4 AS BIGINT) = 1
                    THEN excluded.voice_connector_cdr_bucket
                    ELSE aws_settings.voice_connector_cdr_bucket END",
        )
        .bind(owner)
        .bind(i64::from(business_calling.is_some()))
        .bind(business_calling.flatten())
        .bind(i64::from(voice_connector.is_some()))
        .bind(voice_connector.flatten())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The account's retention settings (all `None` when none were put).
    pub async fn retention_settings(
        &self,
        owner: &str,
        account_id: &str,
    ) -> Result<RetentionSettings> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let row: Option<(Option<i64>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT room_retention_days, conversation_retention_days, initiate_deletion_ms
             FROM retention_settings WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.reads)
        .await?;
        let (room, conversation, deletion) = row.unwrap_or_default();
        Ok(RetentionSettings {
            room_retention_days: room,
            conversation_retention_days: conversation,
            initiate_deletion_ms: deletion,
        })
    }

    /// Replaces the account's retention settings (a `None` turns that retention off) and
    /// returns them. Retention is for Enterprise accounts only: a Team account's is
    /// [`Conflict::TeamAccount`]. Messages past a retention period are deleted
    /// [`RETENTION_GRACE_MS`] after it is set; with both off nothing is to be deleted.
    pub async fn put_retention_settings(
        &self,
        owner: &str,
        account_id: &str,
        room_retention_days: Option<i64>,
        conversation_retention_days: Option<i64>,
    ) -> Result<RetentionSettings> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let account_type: String =
            sqlx::query_scalar("SELECT account_type FROM accounts WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await?;
        if account_type == AccountType::Team.as_str() {
            return Err(StoreError::Conflict(Conflict::TeamAccount));
        }
        let on = room_retention_days.is_some() || conversation_retention_days.is_some();
        let settings = RetentionSettings {
            room_retention_days,
            conversation_retention_days,
            initiate_deletion_ms: on.then(|| now_millis() + RETENTION_GRACE_MS),
        };
        sqlx::query(
            "INSERT INTO retention_settings (account_id, room_retention_days,
                conversation_retention_days, initiate_deletion_ms)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET
                room_retention_days = excluded.room_retention_days,
                conversation_retention_days = excluded.conversation_retention_days,
                initiate_deletion_ms = excluded.initiate_deletion_ms",
        )
        .bind(account_id)
        .bind(settings.room_retention_days)
        .bind(settings.conversation_retention_days)
        .bind(settings.initiate_deletion_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(settings)
    }
}
