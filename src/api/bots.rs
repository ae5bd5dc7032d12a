//! The bot operations: CreateBot, GetBot, ListBots, UpdateBot, RegenerateSecurityToken, and
//! Put/Get/DeleteEventsConfiguration. Each parses and validates its input, calls the store
//! ([`crate::store`]'s `bots.rs`) and renders its reply.

use serde::Deserialize;

use super::input::RESULT_MAX_MAX;
use super::validate::Violations;
use super::{Call, Op, Reply};
use crate::error::ApiError;
use crate::store::{Bot, EventsConfiguration};
use crate::time::iso8601_millis;

/// A Lambda function's ARN, as the Lambda API's `FunctionArn` pattern has it.
const LAMBDA_ARN_PATTERN: &str = r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$";

/// The `Bot` structure as JSON.
fn bot_json(bot: &Bot) -> serde_json::Value {
    serde_json::json!({
        "BotId": bot.bot_id,
        "UserId": bot.user_id(),
        "DisplayName": bot.display_name,
        "BotType": "ChatBot",
        "Disabled": bot.disabled,
        "CreatedTimestamp": iso8601_millis(bot.created_ms),
        "UpdatedTimestamp": iso8601_millis(bot.updated_ms),
        "BotEmail": bot.bot_email,
        "SecurityToken": bot.security_token,
    })
}

/// The `EventsConfiguration` structure as JSON.
fn events_json(config: &EventsConfiguration) -> serde_json::Value {
    let mut json = serde_json::json!({ "BotId": config.bot_id });
    if let Some(endpoint) = &config.https_endpoint {
        json["OutboundEventsHTTPSEndpoint"] = endpoint.as_str().into();
    }
    if let Some(arn) = &config.lambda_arn {
        json["LambdaFunctionArn"] = arn.as_str().into();
    }
    json
}

/// The `{"Bot": ...}` output of the operations that return one bot.
fn bot_reply(status: u16, bot: &Bot) -> Reply {
    let body = serde_json::json!({ "Bot": bot_json(bot) });
    Reply::json(status, body.to_string())
}

/// The `{"EventsConfiguration": ...}` output of Put and GetEventsConfiguration.
fn events_reply(status: u16, config: &EventsConfiguration) -> Reply {
    let body = serde_json::json!({ "EventsConfiguration": events_json(config) });
    Reply::json(status, body.to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBotBody {
    display_name: Option<String>,
    domain: Option<String>,
}

/// `POST /accounts/{accountId}/bots`: 201 with the new `Bot`.
pub async fn create_bot(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateBotBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    if body.display_name.is_none() {
        v.missing("displayName");
    }
    if let Some(domain) = &body.domain {
        v.non_empty("domain", domain);
    }
    v.finish()?;
    let bot = call
        .store
        .create_bot(
            call.owner(),
            account_id,
            body.display_name.as_deref().unwrap_or_default(),
            body.domain.as_deref(),
        )
        .await?;
    Ok(bot_reply(201, &bot))
}

/// `GET /accounts/{accountId}/bots/{botId}`.
pub async fn get_bot(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, bot_id] = call.path_labels(["accountId", "botId"])?;
    let bot = call.store.get_bot(call.owner(), account_id, bot_id).await?;
    Ok(bot_reply(200, &bot))
}

/// ListBots' page size when none is asked for: "The default is 10." (the model's
/// documentation of its `MaxResults`).
const BOTS_PAGE_DEFAULT: usize = 10;

/// `GET /accounts/{accountId}/bots?max-results=&next-token=`.
pub async fn list_bots(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let limit = call.max_results_within(&mut v, RESULT_MAX_MAX, BOTS_PAGE_DEFAULT)?;
    v.finish()?;
    let scope = [Op::ListBots.name(), call.owner(), account_id];
    call.cached_list(&scope, limit, async {
        let after = call.created_after(&scope)?;
        let page = call
            .store
            .list_bots(call.owner(), account_id, after, limit)
            .await?;
        let bots: Vec<serde_json::Value> = page.bots.iter().map(bot_json).collect();
        let mut body = serde_json::json!({ "Bots": bots });
        if let Some(next) = &page.next {
            body["NextToken"] = call.created_token(&scope, next).into();
        }
        Ok(body.to_string())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateBotBody {
    disabled: Option<bool>,
}

/// `POST /accounts/{accountId}/bots/{botId}`: disable or enable.
pub async fn update_bot(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateBotBody = call.json()?;
    let [account_id, bot_id] = call.path_labels(["accountId", "botId"])?;
    let bot = call
        .store
        .update_bot(call.owner(), account_id, bot_id, body.disabled, false)
        .await?;
    Ok(bot_reply(200, &bot))
}

/// `POST /accounts/{accountId}/bots/{botId}?operation=regenerate-security-token`: the bot
/// with a new `SecurityToken`; events are signed with it from now on.
pub async fn regenerate_security_token(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, bot_id] = call.path_labels(["accountId", "botId"])?;
    let bot = call
        .store
        .update_bot(call.owner(), account_id, bot_id, None, true)
        .await?;
    Ok(bot_reply(200, &bot))
}

/// Whether `endpoint` may receive a bot's events: an `https://` URL, or, so that a bot's own
/// tests can run a plain receiver, an `http://` URL on a loopback host.
fn endpoint_allowed(endpoint: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(endpoint) else {
        return false;
    };
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsBody {
    #[serde(rename = "OutboundEventsHTTPSEndpoint")]
    outbound_events_https_endpoint: Option<String>,
    lambda_function_arn: Option<String>,
}

/// `PUT /accounts/{accountId}/bots/{botId}/events-configuration`: 201 with the
/// configuration: an HTTPS endpoint or a Lambda function ARN, exactly one of the two.
pub async fn put_events_configuration(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: PutEventsBody = call.json()?;
    let mut v = Violations::new();
    let [account_id, bot_id] = call.labels(["accountId", "botId"], &mut v);
    let endpoint = body.outbound_events_https_endpoint.as_deref();
    let arn = body.lambda_function_arn.as_deref();
    match (endpoint, arn) {
        (Some(_), Some(_)) => v.violated(
            "outboundEventsHTTPSEndpoint",
            "Member must not be given with lambdaFunctionArn: choose one",
        ),
        (None, None) => v.violated(
            "outboundEventsHTTPSEndpoint",
            "One of outboundEventsHTTPSEndpoint and lambdaFunctionArn is required",
        ),
        _ => {}
    }
    if let Some(endpoint) = endpoint
        && !endpoint_allowed(endpoint)
    {
        v.violated(
            "outboundEventsHTTPSEndpoint",
            "Member must be an https:// URL (or http:// on a loopback host)",
        );
    }
    if let Some(arn) = arn {
        v.pattern("lambdaFunctionArn", arn, LAMBDA_ARN_PATTERN, true);
    }
    v.finish()?;
    let config = call
        .store
        .set_events_configuration(call.owner(), account_id, bot_id, endpoint, arn)
        .await?;
    Ok(events_reply(201, &config))
}

/// `GET /accounts/{accountId}/bots/{botId}/events-configuration`; NotFound when the bot has
/// none.
pub async fn get_events_configuration(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, bot_id] = call.path_labels(["accountId", "botId"])?;
    let config = call
        .store
        .events_configuration(call.owner(), account_id, bot_id)
        .await?;
    Ok(events_reply(200, &config))
}

/// `DELETE /accounts/{accountId}/bots/{botId}/events-configuration`: 204, also when there was
/// none. The model gives this operation no NotFoundException, so an unknown account or bot
/// is the modeled BadRequestException.
pub async fn delete_events_configuration(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, bot_id] = call.path_labels(["accountId", "botId"])?;
    call.store
        .set_events_configuration(call.owner(), account_id, bot_id, None, None)
        .await
        .map_err(ApiError::not_found_as_bad_request)?;
    Ok(Reply::empty(204))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate::matches;

    #[test]
    fn events_go_to_https_or_to_a_loopback_receiver() {
        assert!(endpoint_allowed("https://bot.example.com/events"));
        assert!(endpoint_allowed("http://127.0.0.1:8080/events"));
        assert!(endpoint_allowed("http://localhost/events"));
        assert!(endpoint_allowed("http://[::1]:9/events"));
        assert!(!endpoint_allowed("http://bot.example.com/events"));
        assert!(!endpoint_allowed("ftp://bot.example.com/"));
        assert!(!endpoint_allowed("not a url"));
    }

    #[test]
    fn lambda_arns_are_function_arns() {
        assert!(matches(
            LAMBDA_ARN_PATTERN,
            "arn:aws:lambda:us-east-1:111122223333:function:function-name"
        ));
        assert!(matches(
            LAMBDA_ARN_PATTERN,
            "arn:aws:lambda:us-east-1:111122223333:function:f:$LATEST"
        ));
        assert!(!matches(
            LAMBDA_ARN_PATTERN,
            "arn:aws:s3:us-east-1:111122223333:function:f"
        ));
        assert!(!matches(LAMBDA_ARN_PATTERN, "https://example.com"));
    }
}
