//! Web console sessions: which access key a signed-in browser acts as, and until when.
//!
//! The store keeps the SHA-256 of each session id, never the id: the browser's cookie is the
//! only place the id itself lives, so reading this table signs nobody in. Rows live in the
//! database, so every replica on the same PostgreSQL accepts a session any of them opened,
//! and a sign-out on one is a sign-out everywhere.

use sha2::{Digest, Sha256};

use super::{Result, Store};
use crate::time::now_millis;

/// The stored form of a session id.
fn session_hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

impl Store {
    /// Records a session of `access_key_id` until `expires_ms`, and forgets expired ones.
    pub async fn open_console_session(
        &self,
        session_id: &str,
        access_key_id: &str,
        expires_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_sessions WHERE expires_ms <= $1")
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (session_hash, access_key_id, expires_ms)
             VALUES ($1, $2, $3)",
        )
        .bind(session_hash(session_id))
        .bind(access_key_id)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The access key of a live session, or `None` when it is unknown, ended or expired.
    pub async fn console_session(&self, session_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT access_key_id FROM console_sessions
             WHERE session_hash = $1 AND expires_ms > $2",
        )
        .bind(session_hash(session_id))
        .bind(now_millis())
        .fetch_optional(&self.reads)
        .await?)
    }

    /// Ends a session (sign-out). Ending an unknown session does nothing.
    pub async fn close_console_session(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(session_hash(session_id))
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Location, Store};

    #[tokio::test]
    async fn console_sessions_end_at_sign_out_and_at_expiry() {
        let store = Store::open(&Location::Memory).await.unwrap();
        let later = crate::time::now_millis() + 60_000;
        store
            .open_console_session("live", "AKIA1", later)
            .await
            .unwrap();
        store
            .open_console_session("old", "AKIA2", crate::time::now_millis() - 1)
            .await
            .unwrap();
        assert_eq!(
            store.console_session("live").await.unwrap().as_deref(),
            Some("AKIA1")
        );
        assert_eq!(store.console_session("old").await.unwrap(), None);
        assert_eq!(store.console_session("unknown").await.unwrap(), None);
        store.close_console_session("live").await.unwrap();
        assert_eq!(store.console_session("live").await.unwrap(), None);
    }
}
