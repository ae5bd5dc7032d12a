//! The schema, as numbered migrations.
//!
//! A store records the number of the last migration applied (`belfry_meta.schema_version`).
//! Opening a store applies every later migration in order, all in the one write transaction
//! that opens it, so a store written by any earlier release upgrades in place or not at all.
//! A store whose number is higher than this release knows is refused rather than guessed at.
//!
//! Rules for a new migration: append it with the next number, never edit one that has shipped
//! (stores in the field have run it as it was); keep every row (copy a table rather than drop
//! it); write each statement so both dialects accept it, `{C}` standing for
//! [`Backend::byte_order_collation`]. `tests/store_upgrade.rs` opens a store made by the
//! release before migration 2 (`tests/fixtures/store-v1.sql`) and checks that nothing is lost,
//! and that the tables of later migrations are there to use.

use sqlx::Executor;

use super::{Backend, Result, StoreError, Tx};

/// One step of the schema.
pub struct Migration {
    /// Its number: 1, 2, ... in order.
    pub number: i64,
    /// What it does, for the log.
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        number: 1,
        name: "access keys, accounts, users and phone numbers",
        statements: &[
            "CREATE TABLE IF NOT EXISTS access_keys (
                access_key_id TEXT PRIMARY KEY,
                secret_access_key TEXT NOT NULL,
                aws_account_id TEXT NOT NULL,
                read_only BIGINT NOT NULL,
                created_ms BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS accounts (
                account_id TEXT{C} PRIMARY KEY,
                aws_account_id TEXT NOT NULL,
                name TEXT NOT NULL,
                account_type TEXT NOT NULL,
                default_license TEXT NOT NULL,
                supported_licenses TEXT NOT NULL,
                account_status TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                disable_remote_control BIGINT NOT NULL DEFAULT 0,
                enable_dial_out BIGINT NOT NULL DEFAULT 1)",
            "CREATE INDEX IF NOT EXISTS accounts_by_owner
                ON accounts (aws_account_id, created_ms, account_id)",
            "CREATE TABLE IF NOT EXISTS users (
                user_id TEXT PRIMARY KEY,
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                email_key TEXT{C} NOT NULL,
                primary_email TEXT NOT NULL,
                primary_provisioned_number TEXT,
                display_name TEXT,
                license_type TEXT NOT NULL,
                user_type TEXT NOT NULL,
                registration_status TEXT NOT NULL,
                invitation_status TEXT,
                registered_on_ms BIGINT,
                invited_on_ms BIGINT,
                alexa_enabled BIGINT,
                alexa_room_arn TEXT,
                personal_pin TEXT NOT NULL,
                pre_suspend_status TEXT,
                inbound_calling BIGINT NOT NULL DEFAULT 1,
                outbound_calling BIGINT NOT NULL DEFAULT 1,
                sms BIGINT NOT NULL DEFAULT 1,
                doc TEXT NOT NULL,
                UNIQUE (account_id, email_key))",
            "CREATE INDEX IF NOT EXISTS users_by_type ON users (account_id, user_type, email_key)",
            // A phone number is held by at most one user of an AWS account.
            "CREATE TABLE IF NOT EXISTS phone_numbers (
                aws_account_id TEXT NOT NULL,
                e164 TEXT NOT NULL,
                user_id TEXT NOT NULL UNIQUE,
                PRIMARY KEY (aws_account_id, e164))",
        ],
    },
    Migration {
        number: 2,
        name: "phone numbers that no user holds",
        // An AWS account's inventory holds numbers that are not assigned to anyone: `user_id`
        // may be NULL (still held by at most one user). SQLite cannot drop a NOT NULL in place,
        // so the table is copied, in statements both dialects take.
        statements: &[
            "CREATE TABLE phone_numbers_v2 (
                aws_account_id TEXT NOT NULL,
                e164 TEXT NOT NULL,
                user_id TEXT UNIQUE,
                PRIMARY KEY (aws_account_id, e164))",
            "INSERT INTO phone_numbers_v2 (aws_account_id, e164, user_id)
                SELECT aws_account_id, e164, user_id FROM phone_numbers",
            "DROP TABLE phone_numbers",
            "ALTER TABLE phone_numbers_v2 RENAME TO phone_numbers",
        ],
    },
    Migration {
        number: 3,
        name: "rooms, memberships, bots, conversations and messages",
        statements: &[
            // `client_request_token` makes creating a room idempotent per account; NULLs never
            // collide in a UNIQUE key, in either dialect.
            "CREATE TABLE rooms (
                room_id TEXT{C} PRIMARY KEY,
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                name TEXT NOT NULL,
                created_by TEXT NOT NULL,
                client_request_token TEXT,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                UNIQUE (account_id, client_request_token))",
            "CREATE INDEX rooms_by_account ON rooms (account_id, created_ms, room_id)",
            // A member is a user or a bot of the room's account (`member_type` says which);
            // their email and name are read from the user or bot row, so they stay current.
            "CREATE TABLE room_memberships (
                room_id TEXT{C} NOT NULL REFERENCES rooms (room_id),
                member_id TEXT{C} NOT NULL,
                member_type TEXT NOT NULL,
                role TEXT NOT NULL,
                invited_by TEXT NOT NULL,
                updated_ms BIGINT NOT NULL,
                PRIMARY KEY (room_id, member_id))",
            "CREATE INDEX memberships_by_member ON room_memberships (member_id, room_id)",
            // The bot's `UserId` is its `BotId`, as in the service's own example.
            "CREATE TABLE bots (
                bot_id TEXT{C} PRIMARY KEY,
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                display_name TEXT NOT NULL,
                bot_email TEXT NOT NULL,
                security_token TEXT NOT NULL,
                disabled BIGINT NOT NULL,
                events_https_endpoint TEXT,
                events_lambda_arn TEXT,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL)",
            "CREATE INDEX bots_by_account ON bots (account_id, created_ms, bot_id)",
            "CREATE TABLE conversations (
                conversation_id TEXT{C} PRIMARY KEY,
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                created_ms BIGINT NOT NULL)",
            "CREATE TABLE conversation_members (
                conversation_id TEXT{C} NOT NULL REFERENCES conversations (conversation_id),
                member_id TEXT{C} NOT NULL,
                PRIMARY KEY (conversation_id, member_id))",
            // A message of a room or a conversation (`discussion_type` Room|Conversation),
            // numbered in posting order by `seq`; a redacted message keeps its row, without
            // its content.
            "CREATE TABLE messages (
                message_id TEXT{C} PRIMARY KEY,
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                discussion_type TEXT NOT NULL,
                discussion_id TEXT{C} NOT NULL,
                sender_id TEXT NOT NULL,
                content TEXT,
                redacted BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                created_ms BIGINT NOT NULL,
                UNIQUE (discussion_id, seq))",
        ],
    },
    Migration {
        number: 4,
        name: "the phone-number inventory and its orders",
        // A number of the AWS account's inventory gets its country, type, product, status,
        // calling name, association (the user and that user's account) and timestamps. Every
        // number there before stays: one held by a user becomes an `Assigned` BusinessCalling
        // number of that user, associated since the user registered (or was invited, or the
        // account was made); one held by no user is `Unassigned`. A user's
        // PrimaryProvisionedNumber that had no row (users seeded straight into the store, as the
        // demo was) enters the inventory the same way. Country and type come from the number:
        // `+1` is US, `+44` GB, anything else `ZZ` (unknown); the US toll-free codes and GB's
        // 0800/0808 are toll-free. (`crate::carrier` classifies new numbers the same way.)
        statements: &[
            "CREATE TABLE phone_numbers_v4 (
                aws_account_id TEXT NOT NULL,
                e164 TEXT{C} NOT NULL,
                country TEXT NOT NULL,
                number_type TEXT NOT NULL,
                product_type TEXT NOT NULL,
                status TEXT NOT NULL,
                calling_name TEXT,
                calling_name_status TEXT NOT NULL,
                account_id TEXT{C},
                user_id TEXT UNIQUE,
                associated_ms BIGINT,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                deletion_ms BIGINT,
                PRIMARY KEY (aws_account_id, e164))",
            "INSERT INTO phone_numbers_v4 (aws_account_id, e164, country, number_type,
                product_type, status, calling_name, calling_name_status, account_id, user_id,
                associated_ms, created_ms, updated_ms, deletion_ms)
             SELECT p.aws_account_id, p.e164,
                CASE WHEN substr(p.e164, 1, 2) = '+1' THEN 'US'
                    WHEN substr(p.e164, 1, 3) = '+44' THEN 'GB' ELSE 'ZZ' END,
                CASE WHEN substr(p.e164, 1, 5) IN ('+1800', '+1833', '+1844', '+1855', '+1866',
                        '+1877', '+1888')
                      OR substr(p.e164, 1, 6) IN ('+44800', '+44808') THEN 'TollFree'
                    ELSE 'Local' END,
                'BusinessCalling',
                CASE WHEN u.user_id IS NULL THEN 'Unassigned' ELSE 'Assigned' END,
                NULL, 'Unassigned', u.account_id, u.user_id,
                CASE WHEN u.user_id IS NULL THEN NULL
                    ELSE COALESCE(u.registered_on_ms, u.invited_on_ms, a.created_ms) END,
                COALESCE(u.registered_on_ms, u.invited_on_ms, a.created_ms,
                    (SELECT MIN(o.created_ms) FROM accounts o
                     WHERE o.aws_account_id = p.aws_account_id), 0),
                COALESCE(u.registered_on_ms, u.invited_on_ms, a.created_ms,
                    (SELECT MIN(o.created_ms) FROM accounts o
                     WHERE o.aws_account_id = p.aws_account_id), 0),
                NULL
             FROM phone_numbers p
             LEFT JOIN users u ON u.user_id = p.user_id
             LEFT JOIN accounts a ON a.account_id = u.account_id",
            "INSERT INTO phone_numbers_v4 (aws_account_id, e164, country, number_type,
                product_type, status, calling_name, calling_name_status, account_id, user_id,
                associated_ms, created_ms, updated_ms, deletion_ms)
             SELECT a.aws_account_id, p.e164,
                CASE WHEN substr(p.e164, 1, 2) = '+1' THEN 'US'
                    WHEN substr(p.e164, 1, 3) = '+44' THEN 'GB' ELSE 'ZZ' END,
                CASE WHEN substr(p.e164, 1, 5) IN ('+1800', '+1833', '+1844', '+1855', '+1866',
                        '+1877', '+1888')
                      OR substr(p.e164, 1, 6) IN ('+44800', '+44808') THEN 'TollFree'
                    ELSE 'Local' END,
                'BusinessCalling', 'Assigned', NULL, 'Unassigned', p.account_id, p.user_id,
                COALESCE(p.registered_on_ms, p.invited_on_ms, a.created_ms),
                COALESCE(p.registered_on_ms, p.invited_on_ms, a.created_ms),
                COALESCE(p.registered_on_ms, p.invited_on_ms, a.created_ms),
                NULL
             FROM (SELECT user_id, account_id, registered_on_ms, invited_on_ms,
                    primary_provisioned_number AS e164 FROM users) p
             JOIN accounts a ON a.account_id = p.account_id
             WHERE p.e164 IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM phone_numbers_v4 q WHERE q.user_id = p.user_id)
             ON CONFLICT DO NOTHING",
            "DROP TABLE phone_numbers",
            "ALTER TABLE phone_numbers_v4 RENAME TO phone_numbers",
            "CREATE INDEX phone_numbers_by_account ON phone_numbers (account_id)",
            // What comes due (a deleted number past its 7 days) is found without reading the
            // whole inventory, which every read of it checks first.
            "CREATE INDEX phone_numbers_by_status
                ON phone_numbers (aws_account_id, status, deletion_ms)",
            // An order of the AWS account; `ready_ms` is when the carrier has processed it.
            "CREATE TABLE phone_number_orders (
                order_id TEXT{C} PRIMARY KEY,
                aws_account_id TEXT NOT NULL,
                product_type TEXT NOT NULL,
                status TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL,
                ready_ms BIGINT NOT NULL)",
            "CREATE INDEX phone_number_orders_by_owner
                ON phone_number_orders (aws_account_id, created_ms, order_id)",
            "CREATE INDEX phone_number_orders_processing
                ON phone_number_orders (aws_account_id, status, ready_ms)",
            // The numbers of an order, in the order given (`seq`).
            "CREATE TABLE phone_number_order_numbers (
                order_id TEXT{C} NOT NULL REFERENCES phone_number_orders (order_id),
                seq BIGINT NOT NULL,
                e164 TEXT NOT NULL,
                country TEXT NOT NULL,
                number_type TEXT NOT NULL,
                status TEXT NOT NULL,
                PRIMARY KEY (order_id, seq))",
        ],
    },
    Migration {
        number: 5,
        name: "AWS-account settings, retention settings, sign-in delegate groups and meetings",
        statements: &[
            // One row per AWS account that changed its phone-number or global settings
            // (UpdatePhoneNumberSettings, UpdateGlobalSettings); none means nothing set yet.
            "CREATE TABLE aws_settings (
                aws_account_id TEXT PRIMARY KEY,
                calling_name TEXT,
                calling_name_updated_ms BIGINT,
                business_calling_cdr_bucket TEXT,
                voice_connector_cdr_bucket TEXT)",
            // A Chime account's chat retention (PutRetentionSettings); a NULL number of days is
            // retention turned off for that kind of discussion.
            "CREATE TABLE retention_settings (
                account_id TEXT{C} PRIMARY KEY REFERENCES accounts (account_id),
                room_retention_days BIGINT,
                conversation_retention_days BIGINT,
                initiate_deletion_ms BIGINT)",
            "CREATE TABLE signin_delegate_groups (
                account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
                group_name TEXT{C} NOT NULL,
                PRIMARY KEY (account_id, group_name))",
            // Meetings live outside the Chime API: the admin API registers their ids so that
            // CreateMeetingDialOut has a meeting to dial into; each dial-out is kept.
            "CREATE TABLE meetings (
                meeting_id TEXT{C} PRIMARY KEY,
                created_ms BIGINT NOT NULL)",
            "CREATE TABLE meeting_dial_outs (
                transaction_id TEXT{C} PRIMARY KEY,
                meeting_id TEXT{C} NOT NULL REFERENCES meetings (meeting_id),
                aws_account_id TEXT NOT NULL,
                from_phone_number TEXT NOT NULL,
                to_phone_number TEXT NOT NULL,
                created_ms BIGINT NOT NULL)",
            "CREATE INDEX dial_outs_by_meeting ON meeting_dial_outs (meeting_id, created_ms)",
        ],
    },
    Migration {
        number: 6,
        name: "SCIM provisioning: tokens, and the SCIM attributes of users and rooms",
        statements: &[
            // A SCIM bearer token, bound to one Chime account; only its SHA-256 is kept.
            "CREATE TABLE scim_tokens (
                token_id TEXT{C} PRIMARY KEY,
                account_id TEXT{C} NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_ms BIGINT NOT NULL,
                revoked_ms BIGINT)",
            "CREATE INDEX scim_tokens_by_account ON scim_tokens (account_id, created_ms)",
            // What SCIM keeps of a user beside the Chime columns: NULL for a user that SCIM
            // never wrote, whose userName is then its email (see store/scim.rs).
            "ALTER TABLE users ADD COLUMN scim_user_name TEXT",
            "ALTER TABLE users ADD COLUMN scim_user_name_key TEXT{C}",
            "ALTER TABLE users ADD COLUMN scim_external_id TEXT{C}",
            "ALTER TABLE users ADD COLUMN scim_attributes TEXT",
            "ALTER TABLE users ADD COLUMN scim_created_ms BIGINT",
            "ALTER TABLE users ADD COLUMN scim_modified_ms BIGINT",
            // userName is unique per account, case-insensitively: the key of every user (its
            // SCIM userName's, else its email's) is indexed, for uniqueness checks and for
            // the `userName eq` lookup every identity provider makes before it creates. Both
            // indexes end in `email_key`, the order SCIM lists in: a lookup is then one range
            // of one index, which SQLite's planner prefers to walking the account in order.
            "CREATE INDEX users_by_scim_user_name
                ON users (account_id, (COALESCE(scim_user_name_key, email_key)), email_key)",
            "CREATE INDEX users_by_scim_external_id
                ON users (account_id, scim_external_id, email_key)",
            // A SCIM Group is a room; its externalId is kept beside it.
            "ALTER TABLE rooms ADD COLUMN scim_external_id TEXT",
        ],
    },
    Migration {
        number: 7,
        name: "web console sessions, and users by registration status and by license",
        statements: &[
            // A signed-in console session: the SHA-256 of its random id (the cookie holds the
            // id itself, so a copy of this table signs nobody in), the key it acts as, and
            // when it expires. Sign-out deletes the row; any replica on the store sees both.
            "CREATE TABLE console_sessions (
                session_hash TEXT PRIMARY KEY,
                access_key_id TEXT NOT NULL,
                expires_ms BIGINT NOT NULL)",
            // The console's users table filters by registration status and by license and
            // pages by email key: one index range each, like `users_by_type`.
            "CREATE INDEX users_by_status ON users (account_id, registration_status, email_key)",
            "CREATE INDEX users_by_license ON users (account_id, license_type, email_key)",
        ],
    },
    Migration {
        number: 8,
        name: "a user's userName key is unique per account, whatever API wrote the user",
        statements: &[
            // Migration 6 indexed every user's userName key (its SCIM userName's, else its
            // email's) without making it unique: only SCIM's writes checked it, so CreateUser,
            // InviteUsers or an import could add an email equal to a SCIM user's userName.
            // The unique index makes the store refuse that whatever writes. Its first two
            // columns are those of the index it replaces; a lookup by userName now finds one
            // row at most, so that index's trailing `email_key` (the listing order) is moot.
            // A store that already holds such a pair refuses the upgrade: rename one user
            // with the previous release first.
            "CREATE UNIQUE INDEX users_by_user_name_key
                ON users (account_id, (COALESCE(scim_user_name_key, email_key)))",
            "DROP INDEX users_by_scim_user_name",
            // When a user was created and last written, by any API (SCIM's meta.created and
            // meta.lastModified): every user write sets them from now on. Users written
            // before are given what is known: SCIM's own times, else when they were invited
            // or registered (else NULL: SCIM then shows the epoch).
            "ALTER TABLE users ADD COLUMN created_ms BIGINT",
            "ALTER TABLE users ADD COLUMN modified_ms BIGINT",
            "UPDATE users SET
                created_ms = COALESCE(scim_created_ms, invited_on_ms, registered_on_ms),
                modified_ms = COALESCE(scim_modified_ms, scim_created_ms, registered_on_ms,
                    invited_on_ms)",
        ],
    },
];

/// The schema version this release writes: the number of its last migration.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.number)
}

/// Brings the schema of the store behind `tx` up to [`latest`]; the caller commits.
pub(super) async fn migrate(tx: &mut Tx, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        // Replicas starting together migrate one at a time: concurrent `CREATE TABLE IF NOT
        // EXISTS` collide in PostgreSQL's catalog. (SQLite's BEGIN IMMEDIATE already excludes
        // every other writer.)
        tx.execute("SELECT pg_advisory_xact_lock(4242018050100)")
            .await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS belfry_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    .await?;
    let version: Option<String> =
        sqlx::query_scalar("SELECT value FROM belfry_meta WHERE name = 'schema_version'")
            .fetch_optional(&mut **tx)
            .await?;
    let version: i64 = match version {
        None => 0,
        Some(text) => text.trim().parse().map_err(|_| {
            StoreError::Internal(format!(
                "the store's schema_version {text:?} is not a number"
            ))
        })?,
    };
    if version > latest() {
        return Err(StoreError::Internal(format!(
            "the store has schema version {version}, newer than this release of Belfry knows \
             ({}): run the release that wrote it, or a later one",
            latest()
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.number > version) {
        for statement in migration.statements {
            let statement = statement.replace("{C}", backend.byte_order_collation());
            tx.execute(sqlx::AssertSqlSafe(statement)).await?;
        }
        tracing::info!(
            migration = migration.number,
            name = migration.name,
            "schema migrated"
        );
    }
    if version < latest() {
        sqlx::query(
            "INSERT INTO belfry_meta (name, value) VALUES ('schema_version', $1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(latest().to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_one_by_one() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.number, i as i64 + 1, "{}", migration.name);
            assert!(!migration.statements.is_empty());
        }
        assert_eq!(latest(), MIGRATIONS.len() as i64);
    }
}
