//! Meetings to dial out of, and the dial-outs placed.
//!
//! Amazon Chime SDK meetings are made by another API (CreateMeeting), which Belfry does not
//! serve: a test registers a meeting's id through the admin API, and CreateMeetingDialOut then
//! finds it. Meetings belong to no AWS account (any caller may dial out of a registered one);
//! each dial-out records who placed it and the numbers, so a test can see what was called.

use super::{Missing, Result, Store, StoreError};
use crate::time::now_millis;

/// A registered meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub meeting_id: String,
    pub created_ms: i64,
}

/// A call placed from a meeting to a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialOut {
    pub transaction_id: String,
    pub meeting_id: String,
    /// The AWS account of the caller that placed it.
    pub aws_account_id: String,
    pub from_phone_number: String,
    pub to_phone_number: String,
    pub created_ms: i64,
}

impl Store {
    /// Registers the meeting `meeting_id` (once: registering it again returns it as it was).
    pub async fn register_meeting(&self, meeting_id: &str) -> Result<Meeting> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO meetings (meeting_id, created_ms) VALUES ($1, $2)
             ON CONFLICT (meeting_id) DO NOTHING",
        )
        .bind(meeting_id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        let created_ms: i64 =
            sqlx::query_scalar("SELECT created_ms FROM meetings WHERE meeting_id = $1")
                .bind(meeting_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Meeting {
            meeting_id: meeting_id.to_string(),
            created_ms,
        })
    }

    /// Places a call from the meeting to `to_phone_number` as `owner`; [`Missing::Meeting`]
    /// when no meeting of this id was registered.
    pub async fn create_dial_out(
        &self,
        owner: &str,
        meeting_id: &str,
        from_phone_number: &str,
        to_phone_number: &str,
    ) -> Result<DialOut> {
        let dial_out = DialOut {
            transaction_id: uuid::Uuid::new_v4().to_string(),
            meeting_id: meeting_id.to_string(),
            aws_account_id: owner.to_string(),
            from_phone_number: from_phone_number.to_string(),
            to_phone_number: to_phone_number.to_string(),
            created_ms: now_millis(),
        };
        // Inserted only if the meeting is there, in one statement.
        let done = sqlx::query(
            "INSERT INTO meeting_dial_outs (transaction_id, meeting_id, aws_account_id,
                from_phone_number, to_phone_number, created_ms)
             SELECT $1, meeting_id, $3, $4, $5, $6 FROM meetings WHERE meeting_id = $2",
        )
        .bind(&dial_out.transaction_id)
        .bind(meeting_id)
        .bind(owner)
        .bind(from_phone_number)
        .bind(to_phone_number)
        .bind(dial_out.created_ms)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(no_meeting(meeting_id));
        }
        Ok(dial_out)
    }

    /// The meeting's dial-outs, oldest first; [`Missing::Meeting`] when it was not registered.
    pub async fn dial_outs(&self, meeting_id: &str) -> Result<Vec<DialOut>> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT created_ms FROM meetings WHERE meeting_id = $1")
                .bind(meeting_id)
                .fetch_optional(&self.reads)
                .await?;
        if found.is_none() {
            return Err(no_meeting(meeting_id));
        }
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT transaction_id, aws_account_id, from_phone_number, to_phone_number, created_ms
             FROM meeting_dial_outs WHERE meeting_id = $1
             ORDER BY created_ms, transaction_id",
        )
        .bind(meeting_id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(transaction_id, aws_account_id, from, to, created_ms)| DialOut {
                    transaction_id,
                    meeting_id: meeting_id.to_string(),
                    aws_account_id,
                    from_phone_number: from,
                    to_phone_number: to,
                    created_ms,
                },
            )
            .collect())
    }
}

fn no_meeting(meeting_id: &str) -> StoreError {
    StoreError::NotFound(Missing::Meeting {
        meeting_id: meeting_id.to_string(),
    })
}
