//! Chat bots of an account and their events configurations.
//!
//! As in the service's own example (`aws chime create-bot`), a bot named `myBot` in the domain
//! `example.com` is shown as `myBot (Bot)` with the email `myBot-chimebot@example.com`, and its
//! `UserId` is its `BotId`. A bot is not a user of the account: the User API's `UserType` has
//! no value for it, so it is not among the account's users. Its `SecurityToken` signs the events Belfry
//! sends to its endpoint ([`crate::events`]).

use base64::Engine;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::{Limit, Missing, Result, Store, StoreError, Tx};
use crate::time::now_millis;

/// A chat bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    pub bot_id: String,
    pub account_id: String,
    pub display_name: String,
    pub bot_email: String,
    pub security_token: String,
    pub disabled: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Bot {
    /// The bot's user id: its bot id.
    pub fn user_id(&self) -> &str {
        &self.bot_id
    }
}

/// Where a bot's events go: an HTTPS endpoint or a Lambda function (one of the two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsConfiguration {
    pub bot_id: String,
    pub https_endpoint: Option<String>,
    pub lambda_arn: Option<String>,
}

/// One page of an account's bots, in creation order.
#[derive(Debug, Clone)]
pub struct BotPage {
    pub bots: Vec<Bot>,
    pub next: Option<(i64, String)>,
}

/// The domain of a bot's email when its creator names none: `.invalid` is reserved (RFC 2606),
/// so no mail can ever reach it.
pub const DEFAULT_BOT_DOMAIN: &str = "belfry.invalid";

const BOT_COLUMNS: &str = "bot_id, account_id, display_name, bot_email, security_token, disabled, \
                           created_ms, updated_ms";

fn bot_from_row(row: &AnyRow) -> Result<Bot> {
    Ok(Bot {
        bot_id: row.try_get("bot_id")?,
        account_id: row.try_get("account_id")?,
        display_name: row.try_get("display_name")?,
        bot_email: row.try_get("bot_email")?,
        security_token: row.try_get("security_token")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

/// Runs `update`, an `UPDATE bots` whose last two parameters (bound here) are the account and
/// the bot it changes; [`StoreError::no_bot`] when the account has no such bot.
async fn update_one_bot(
    tx: &mut Tx,
    update: Query<'_, Any, AnyArguments>,
    account_id: &str,
    bot_id: &str,
) -> Result<()> {
    let done = update
        .bind(account_id)
        .bind(bot_id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::no_bot(account_id, bot_id));
    }
    Ok(())
}

/// A new security token: 30 random bytes in base64, 40 characters like the service's.
fn new_security_token() -> String {
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 30]>())
}

/// The local part of a bot's email: its name without what an email's local part cannot hold.
fn email_local_part(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    if kept.is_empty() {
        "bot".to_string()
    } else {
        kept
    }
}

impl Store {
    /// Creates a bot, enabled, with a fresh security token.
    pub async fn create_bot(
        &self,
        owner: &str,
        account_id: &str,
        name: &str,
        domain: Option<&str>,
    ) -> Result<Bot> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let bots: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bots WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if bots >= self.limits.bots_per_account {
            return Err(StoreError::LimitExceeded(Limit::BotsPerAccount(
                self.limits.bots_per_account,
            )));
        }
        let now = now_millis();
        let bot = Bot {
            bot_id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            display_name: format!("{name} (Bot)"),
            bot_email: format!(
                "{}-chimebot@{}",
                email_local_part(name),
                domain.unwrap_or(DEFAULT_BOT_DOMAIN)
            ),
            security_token: new_security_token(),
            disabled: false,
            created_ms: now,
            updated_ms: now,
        };
        sqlx::query(
            "INSERT INTO bots (bot_id, account_id, display_name, bot_email, security_token,
                disabled, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(&bot.bot_id)
        .bind(&bot.account_id)
        .bind(&bot.display_name)
        .bind(&bot.bot_email)
        .bind(&bot.security_token)
        .bind(bot.created_ms)
        .bind(bot.updated_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(bot)
    }

    /// The bot, if it is in the account and `owner` owns the account.
    pub async fn get_bot(&self, owner: &str, account_id: &str, bot_id: &str) -> Result<Bot> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let sql = format!("SELECT {BOT_COLUMNS} FROM bots WHERE account_id = $1 AND bot_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(bot_id)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::no_bot(account_id, bot_id))?;
        bot_from_row(&row)
    }

    /// A page of the account's bots after `after`, in creation order.
    pub async fn list_bots(
        &self,
        owner: &str,
        account_id: &str,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> Result<BotPage> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let sql = format!(
            "SELECT {BOT_COLUMNS} FROM bots
             WHERE account_id = $1 AND (created_ms, bot_id) > ($2, $3)
             ORDER BY created_ms, bot_id
             LIMIT $4"
        );
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(after_ms)
            .bind(after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.reads)
            .await?;
        let mut bots = rows.iter().map(bot_from_row).collect::<Result<Vec<_>>>()?;
        let next = super::page_end(&mut bots, limit, |b| (b.created_ms, b.bot_id.clone()));
        Ok(BotPage { bots, next })
    }

    /// Changes what is given (`disabled`, or a new security token) and returns the bot.
    pub async fn update_bot(
        &self,
        owner: &str,
        account_id: &str,
        bot_id: &str,
        disabled: Option<bool>,
        regenerate_token: bool,
    ) -> Result<Bot> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let token = regenerate_token.then(new_security_token);
        let changed = disabled.is_some() || token.is_some();
        let update = sqlx::query(
            "UPDATE bots SET disabled = COALESCE($1, disabled),
                security_token = COALESCE($2, security_token),
                updated_ms = CASE WHEN CAST($3 AS BIGINT) = 1 THEN $4 ELSE updated_ms END
             WHERE account_id = $5 AND bot_id = $6",
        )
        .bind(disabled.map(i64::from))
        .bind(token)
        .bind(i64::from(changed))
        .bind(now_millis());
        update_one_bot(&mut tx, update, account_id, bot_id).await?;
        let sql = format!("SELECT {BOT_COLUMNS} FROM bots WHERE account_id = $1 AND bot_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(bot_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        bot_from_row(&row)
    }

    /// Writes `bot` into the account as it is (ids, token and timestamps kept: `belfry
    /// import`), with its events configuration; a bot id of another account is
    /// [`super::Conflict::ForeignId`].
    pub async fn restore_bot(
        &self,
        owner: &str,
        account_id: &str,
        bot: &Bot,
        events: Option<&EventsConfiguration>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let holder: Option<String> =
            sqlx::query_scalar("SELECT account_id FROM bots WHERE bot_id = $1")
                .bind(&bot.bot_id)
                .fetch_optional(&mut *tx)
                .await?;
        if holder.is_some_and(|a| a != account_id) {
            return Err(StoreError::Conflict(super::Conflict::ForeignId));
        }
        sqlx::query(
            "INSERT INTO bots (bot_id, account_id, display_name, bot_email, security_token,
                disabled, events_https_endpoint, events_lambda_arn, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (bot_id) DO UPDATE SET display_name = excluded.display_name,
                bot_email = excluded.bot_email, security_token = excluded.security_token,
                disabled = excluded.disabled,
                events_https_endpoint = excluded.events_https_endpoint,
                events_lambda_arn = excluded.events_lambda_arn,
                created_ms = excluded.created_ms, updated_ms = excluded.updated_ms",
        )
        .bind(&bot.bot_id)
        .bind(account_id)
        .bind(&bot.display_name)
        .bind(&bot.bot_email)
        .bind(&bot.security_token)
        .bind(i64::from(bot.disabled))
        .bind(events.and_then(|e| e.https_endpoint.as_deref()))
        .bind(events.and_then(|e| e.lambda_arn.as_deref()))
        .bind(bot.created_ms)
        .bind(bot.updated_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the bot's events configuration (`None, None` removes it).
    pub async fn set_events_configuration(
        &self,
        owner: &str,
        account_id: &str,
        bot_id: &str,
        https_endpoint: Option<&str>,
        lambda_arn: Option<&str>,
    ) -> Result<EventsConfiguration> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let update = sqlx::query(
            "UPDATE bots SET events_https_endpoint = $1, events_lambda_arn = $2
             WHERE account_id = $3 AND bot_id = $4",
        )
        .bind(https_endpoint)
        .bind(lambda_arn);
        update_one_bot(&mut tx, update, account_id, bot_id).await?;
        tx.commit().await?;
        Ok(EventsConfiguration {
            bot_id: bot_id.to_string(),
            https_endpoint: https_endpoint.map(str::to_string),
            lambda_arn: lambda_arn.map(str::to_string),
        })
    }

    /// The bot's events configuration; [`Missing::EventsConfiguration`] when it has none.
    pub async fn events_configuration(
        &self,
        owner: &str,
        account_id: &str,
        bot_id: &str,
    ) -> Result<EventsConfiguration> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT events_https_endpoint, events_lambda_arn FROM bots
             WHERE account_id = $1 AND bot_id = $2",
        )
        .bind(account_id)
        .bind(bot_id)
        .fetch_optional(&self.reads)
        .await?;
        match row {
            None => Err(StoreError::no_bot(account_id, bot_id)),
            Some((None, None)) => Err(StoreError::NotFound(Missing::EventsConfiguration {
                bot_id: bot_id.to_string(),
            })),
            Some((https_endpoint, lambda_arn)) => Ok(EventsConfiguration {
                bot_id: bot_id.to_string(),
                https_endpoint,
                lambda_arn,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bots_email_keeps_what_a_local_part_can_hold() {
        assert_eq!(email_local_part("myBot"), "myBot");
        assert_eq!(email_local_part("Build bot #2"), "Buildbot2");
        assert_eq!(email_local_part("ботик"), "bot");
    }

    #[test]
    fn security_tokens_are_fresh_and_40_characters() {
        let a = new_security_token();
        assert_eq!(a.len(), 40);
        assert_ne!(a, new_security_token());
    }
}
