//! Access keys: the credentials SigV4 requests are signed with.

use rand::Rng;

use super::{Result, Store};
use crate::time::now_millis;

/// An access key and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The 12-digit AWS account the key acts as; it owns the Chime accounts it creates.
    pub aws_account_id: String,
    /// A read-only key is refused every write operation.
    pub read_only: bool,
}

impl AccessKey {
    /// A fresh random key: `AKIA` and 16 upper-case letters or digits, and a 40-character secret.
    pub fn generate(aws_account_id: &str, read_only: bool) -> AccessKey {
        const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_CHARS: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut rng = rand::rng();
        let mut pick = |chars: &[u8], n: usize| -> String {
            (0..n)
                .map(|_| chars[rng.random_range(0..chars.len())] as char)
                .collect()
        };
        AccessKey {
            access_key_id: format!("AKIA{}", pick(ID_CHARS, 16)),
            secret_access_key: pick(SECRET_CHARS, 40),
            aws_account_id: aws_account_id.to_string(),
            read_only,
        }
    }
}

impl Store {
    /// Adds a key. Safe while a server runs on the same store: it sees the key at its next request.
    pub async fn insert_key(&self, key: &AccessKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_keys
                (access_key_id, secret_access_key, aws_account_id, read_only, created_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.access_key_id)
        .bind(&key.secret_access_key)
        .bind(&key.aws_account_id)
        .bind(i64::from(key.read_only))
        .bind(now_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Looks a key up by its id.
    pub async fn find_key(&self, access_key_id: &str) -> Result<Option<AccessKey>> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT access_key_id, secret_access_key, aws_account_id, read_only
             FROM access_keys WHERE access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|(id, secret, owner, ro)| AccessKey {
            access_key_id: id,
            secret_access_key: secret,
            aws_account_id: owner,
            read_only: ro != 0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_look_like_aws_keys() {
        let k = AccessKey::generate("123456789012", false);
        assert_eq!(k.access_key_id.len(), 20);
        assert!(k.access_key_id.starts_with("AKIA"));
        assert_eq!(k.secret_access_key.len(), 40);
        assert_ne!(
            k.access_key_id,
            AccessKey::generate("123456789012", false).access_key_id
        );
    }
}
