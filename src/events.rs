//! Outgoing bot events: what Belfry sends a chat bot's endpoint, as Amazon Chime did.
//!
//! When a message posted in a room (through the admin API; no operation of the Chime API posts
//! one) @mentions a bot that is a member of the room, is not disabled and has an HTTPS
//! endpoint, Belfry POSTs the service's `Mention` event to that endpoint (Amazon Chime
//! Administration Guide, "Amazon Chime events sent to chatbots"):
//!
//! ```json
//! {"Sender":{"SenderId":"user@example.com","SenderIdType":"EmailId"},
//!  "Discussion":{"DiscussionId":"<room id>","DiscussionType":"Room"},
//!  "EventType":"Mention","EventTimestamp":"2019-04-04T21:30:43.181Z","Message":"@myBot hi"}
//! ```
//!
//! signed as the service signed it ("Authenticate chatbot requests"): the header
//! `Chime-Request-Timestamp`, and `Chime-Signature`, the base64 HMAC-SHA256 of
//! `<timestamp>|<body>` keyed with the bot's `SecurityToken`. The service's payload also named
//! an `InboundHttpsEndpoint` to answer on; Belfry has no incoming webhooks and leaves it out.
//!
//! A message mentions a bot when it holds `@` followed by the bot's display name (`myBot (Bot)`),
//! the name without its ` (Bot)` suffix, or the bot's email, compared case-insensitively, and the
//! name is not the start of a longer one (`@myBot2` does not mention `myBot`).
//!
//! Delivery never holds up or fails the request that posted the message: each event is sent
//! from a task of its own, with the service's 2-second deadline, and its outcome is counted
//! (`belfry_bot_events_total{outcome}` in `/metrics`) and logged. A bot whose events go to a
//! Lambda function is counted `not_sent`: Belfry cannot invoke Lambda.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{BotHook, PostedMessage};
use crate::time::{iso8601_millis, now_millis};

/// How long a bot's endpoint has to answer: the service's documented 2 seconds.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(2);

/// How many events ended each way since the server started.
#[derive(Debug, Default)]
pub struct EventStats {
    /// The endpoint answered 2xx.
    pub delivered: AtomicU64,
    /// No answer within the deadline, no connection, or a status other than 2xx.
    pub failed: AtomicU64,
    /// The bot's events go to a Lambda function, which Belfry cannot call.
    pub not_sent: AtomicU64,
}

/// Sends bot events.
#[derive(Clone)]
pub struct BotEvents {
    client: reqwest::Client,
    stats: Arc<EventStats>,
}

impl Default for BotEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl BotEvents {
    pub fn new() -> BotEvents {
        let client = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with the default TLS settings builds");
        BotEvents {
            client,
            stats: Arc::new(EventStats::default()),
        }
    }

    pub fn stats(&self) -> &EventStats {
        &self.stats
    }

    /// Sends the `Mention` event to every bot of `posted`'s room that its message mentions
    /// (the store hands over only the room's enabled bots that have an events configuration),
    /// each from a task of its own; returns how many bots it mentions.
    pub fn message_posted(&self, posted: &PostedMessage) -> usize {
        let content = posted.message.content.as_deref().unwrap_or("");
        let mentioned: Vec<&BotHook> = posted
            .bots
            .iter()
            .filter(|bot| mentions(content, bot))
            .collect();
        for bot in &mentioned {
            let Some(endpoint) = bot.https_endpoint.clone() else {
                self.stats.not_sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    bot_id = %bot.bot_id,
                    "bot event not sent: the bot's events go to a Lambda function"
                );
                continue;
            };
            let timestamp = iso8601_millis(now_millis());
            let body = mention_event(posted, &timestamp).to_string();
            let signature = signature(&bot.security_token, &timestamp, &body);
            let this = self.clone();
            let bot_id = bot.bot_id.clone();
            tokio::spawn(async move {
                let sent = this
                    .client
                    .post(&endpoint)
                    .header("Content-Type", "application/json")
                    .header("Chime-Request-Timestamp", &timestamp)
                    .header("Chime-Signature", signature)
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        this.stats.delivered.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(%bot_id, "bot event delivered");
                    }
                    Ok(response) => {
                        this.stats.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%bot_id, status = response.status().as_u16(),
                            "bot event refused by the bot's endpoint");
                    }
                    Err(e) => {
                        this.stats.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%bot_id, error = %e, "bot event not delivered");
                    }
                }
            });
        }
        mentioned.len()
    }
}

/// Whether `content` @mentions the bot (see the module documentation).
pub fn mentions(content: &str, bot: &BotHook) -> bool {
    let content = content.to_lowercase();
    let short_name = bot
        .display_name
        .strip_suffix(" (Bot)")
        .unwrap_or(&bot.display_name);
    [
        bot.display_name.as_str(),
        short_name,
        bot.bot_email.as_str(),
    ]
    .iter()
    .filter(|name| !name.is_empty())
    .any(|name| {
        let needle = format!("@{}", name.to_lowercase());
        content.match_indices(&needle).any(|(at, _)| {
            // The name ends where the mention does: `@myBot,` mentions myBot, `@myBot2` and
            // `@myBotanist` do not.
            let next = content[at + needle.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    })
}

/// The `Mention` event of a posted message.
pub fn mention_event(posted: &PostedMessage, timestamp: &str) -> serde_json::Value {
    serde_json::json!({
        "Sender": { "SenderId": posted.sender_email, "SenderIdType": "EmailId" },
        "Discussion": {
            "DiscussionId": posted.message.discussion_id,
            "DiscussionType": posted.message.discussion_type,
        },
        "EventType": "Mention",
        "EventTimestamp": timestamp,
        "Message": posted.message.content,
    })
}

/// `Chime-Signature`: base64 of HMAC-SHA256 over `<timestamp>|<body>`, keyed with the bot's
/// security token.
pub fn signature(security_token: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(security_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b"|");
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> BotHook {
        BotHook {
            bot_id: "b1".into(),
            display_name: "myBot (Bot)".into(),
            bot_email: "myBot-chimebot@example.com".into(),
            security_token: "token".into(),
            https_endpoint: Some("https://bot.example.com/events".into()),
            lambda_arn: None,
        }
    }

    #[test]
    fn a_mention_is_an_at_and_the_bots_name_or_email() {
        assert!(mentions("hello @myBot, status?", &bot()));
        assert!(mentions("@MYBOT (BOT) status", &bot()));
        assert!(mentions("cc @myBot-chimebot@example.com", &bot()));
        assert!(!mentions("myBot without an at", &bot()));
        assert!(!mentions("@otherBot", &bot()));
        assert!(!mentions("@myBot2 and @myBotanist are other bots", &bot()));
        assert!(mentions("@myBotanist, and then @myBot.", &bot()));
        assert!(mentions("@mybot", &bot()));
    }

    #[test]
    fn the_signature_is_the_documented_hmac() {
        // HMAC-SHA256("token", "2019-04-04T21:30:43.181Z|{}"), computed independently with
        // python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'token',
        // b'2019-04-04T21:30:43.181Z|{}', hashlib.sha256).digest()).decode())"
        assert_eq!(
            signature("token", "2019-04-04T21:30:43.181Z", "{}"),
            "oFR0I+jBn44VxipbMSSD/F1dqxMp5d4+lg9mXW1YLLI="
        );
    }
}
