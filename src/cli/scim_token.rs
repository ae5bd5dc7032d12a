//! `belfry scim-token create|list|revoke`: the bearer tokens an identity provider uses for
//! SCIM provisioning of one Chime account (see [`crate::scim`]).

use clap::Subcommand;
use serde_json::json;

use super::{AnyError, StoreArgs};
use crate::store::ScimToken;
use crate::time::iso8601_millis;

#[derive(Subcommand)]
pub(super) enum ScimTokenCommand {
    /// Make a token bound to one Chime account and print it, once, as JSON (the store keeps
    /// only its SHA-256). The SCIM base URL is printed with it.
    Create {
        /// The Chime account the token provisions.
        #[arg(long)]
        account_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tokens (never the tokens themselves), one JSON object a line.
    List {
        /// Only the tokens of this account.
        #[arg(long)]
        account_id: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token: it authenticates nothing from its next request on.
    Revoke {
        #[arg(long)]
        token_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn describe(token: &ScimToken) -> serde_json::Value {
    json!({
        "TokenId": token.token_id,
        "AccountId": token.account_id,
        "CreatedOn": iso8601_millis(token.created_ms),
        "RevokedOn": token.revoked_ms.map(iso8601_millis),
    })
}

pub(super) async fn run(command: ScimTokenCommand) -> Result<(), AnyError> {
    match command {
        ScimTokenCommand::Create { account_id, store } => {
            let store = store.open().await?;
            let created = store.create_scim_token(&account_id).await;
            store.close().await;
            let (token, secret) = created?;
            let mut out = describe(&token);
            out["Token"] = json!(secret);
            out["BasePath"] = json!(format!("{}{account_id}", crate::scim::ACCOUNTS));
            println!("{out}");
        }
        ScimTokenCommand::List { account_id, store } => {
            let store = store.open().await?;
            let tokens = store.scim_tokens(account_id.as_deref()).await;
            store.close().await;
            for token in tokens? {
                println!("{}", describe(&token));
            }
        }
        ScimTokenCommand::Revoke { token_id, store } => {
            let store = store.open().await?;
            let revoked = store.revoke_scim_token(&token_id).await;
            store.close().await;
            if !revoked? {
                return Err(format!("no token {token_id} that is not revoked already").into());
            }
            println!("{}", json!({ "TokenId": token_id, "Revoked": true }));
        }
    }
    Ok(())
}
