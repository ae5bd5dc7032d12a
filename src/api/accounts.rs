//! The account operations: CreateAccount, GetAccount, ListAccounts, UpdateAccount,
//! DeleteAccount, GetAccountSettings, UpdateAccountSettings, and
//! Associate/DisassociateSigninDelegateGroups(With|From)Account. Each parses and validates its
//! input, calls the store ([`crate::store`]'s `accounts.rs`) and renders its reply.

use serde::Deserialize;

use super::validate::{NON_EMPTY_PATTERN, Violations};
use super::{Call, Op, Reply};
use crate::error::ApiError;
use crate::model::{License, email_key};
use crate::store::{Account, AccountFilter};
use crate::time::iso8601_millis;

/// The `Account` structure as JSON.
fn account_json(account: &Account) -> serde_json::Value {
    let licenses: Vec<&str> = account
        .supported_licenses
        .iter()
        .map(|l| l.as_str())
        .collect();
    let groups: Vec<serde_json::Value> = account
        .signin_delegate_groups
        .iter()
        .map(|name| serde_json::json!({ "GroupName": name }))
        .collect();
    serde_json::json!({
        "AwsAccountId": account.aws_account_id,
        "AccountId": account.account_id,
        "Name": account.name,
        "AccountType": account.account_type.as_str(),
        "CreatedTimestamp": iso8601_millis(account.created_ms),
        "DefaultLicense": account.default_license.as_str(),
        "SupportedLicenses": licenses,
        "AccountStatus": account.account_status.as_str(),
        "SigninDelegateGroups": groups,
    })
}

/// Checks an `AccountName` (1-100 characters, not blank).
fn check_account_name(v: &mut Violations, member: &str, name: &str) {
    v.length(member, name, Some(1), Some(100), false);
    v.pattern(member, name, NON_EMPTY_PATTERN, false);
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAccountBody {
    name: Option<String>,
}

/// `POST /accounts`: 201 with the new `Account`.
pub async fn create_account(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateAccountBody = call.json()?;
    let mut v = Violations::new();
    match &body.name {
        Some(name) => check_account_name(&mut v, "name", name),
        None => v.missing("name"),
    }
    v.finish()?;
    let name = body.name.unwrap_or_default();
    let account = call.store.create_account(call.owner(), &name).await?;
    let body = serde_json::json!({ "Account": account_json(&account) });
    Ok(Reply::json(201, body.to_string()))
}

/// `GET /accounts/{accountId}`.
pub async fn get_account(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    v.finish()?;
    let account = call.store.get_account(call.owner(), account_id).await?;
    let body = serde_json::json!({ "Account": account_json(&account) });
    Ok(Reply::json(200, body.to_string()))
}

/// `GET /accounts?name=&user-email=&max-results=&next-token=`: the caller's accounts.
pub async fn list_accounts(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let name = call.query.get("name")?;
    if let Some(name) = name {
        check_account_name(&mut v, "name", name);
    }
    let email = call.query.get("user-email")?;
    if let Some(email) = email {
        v.email("userEmail", email);
    }
    let limit = call.max_results(&mut v)?;
    v.finish()?;
    let filter = AccountFilter {
        name_prefix: name.map(str::to_string),
        user_email_key: email.map(email_key),
    };
    let scope = [
        Op::ListAccounts.name(),
        call.owner(),
        name.unwrap_or("\0"),
        filter.user_email_key.as_deref().unwrap_or("\0"),
    ];
    let after = call.created_after(&scope)?;
    let page = call
        .store
        .list_accounts(call.owner(), &filter, after, limit)
        .await?;
    let accounts: Vec<serde_json::Value> = page.accounts.iter().map(account_json).collect();
    let mut body = serde_json::json!({ "Accounts": accounts });
    if let Some(next) = &page.next {
        body["NextToken"] = call.created_token(&scope, next).into();
    }
    Ok(Reply::json(200, body.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAccountBody {
    name: Option<String>,
    default_license: Option<String>,
}

/// `POST /accounts/{accountId}`: rename, or change the default license.
pub async fn update_account(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateAccountBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    if let Some(name) = &body.name {
        check_account_name(&mut v, "name", name);
    }
    let license = body
        .default_license
        .as_deref()
        .and_then(|l| v.enumeration("defaultLicense", l, License::parse, License::choices()));
    v.finish()?;
    let account = call
        .store
        .update_account(call.owner(), account_id, body.name.as_deref(), license)
        .await?;
    let body = serde_json::json!({ "Account": account_json(&account) });
    Ok(Reply::json(200, body.to_string()))
}

/// `DELETE /accounts/{accountId}`: 204 once every user is suspended, else 422.
pub async fn delete_account(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    v.finish()?;
    call.store.delete_account(call.owner(), account_id).await?;
    Ok(Reply::empty(204))
}

/// `GET /accounts/{accountId}/settings`.
pub async fn get_account_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    v.finish()?;
    let settings = call
        .store
        .account_settings(call.owner(), account_id)
        .await?;
    let body = serde_json::json!({ "AccountSettings": {
        "DisableRemoteControl": settings.disable_remote_control,
        "EnableDialOut": settings.enable_dial_out,
    }});
    Ok(Reply::json(200, body.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountSettingsBody {
    disable_remote_control: Option<bool>,
    enable_dial_out: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAccountSettingsBody {
    account_settings: Option<AccountSettingsBody>,
}

/// `PUT /accounts/{accountId}/settings`: 204.
pub async fn update_account_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateAccountSettingsBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    if body.account_settings.is_none() {
        v.missing("accountSettings");
    }
    v.finish()?;
    let settings = body.account_settings.unwrap_or(AccountSettingsBody {
        disable_remote_control: None,
        enable_dial_out: None,
    });
    call.store
        .update_account_settings(
            call.owner(),
            account_id,
            settings.disable_remote_control,
            settings.enable_dial_out,
        )
        .await?;
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SigninDelegateGroupBody {
    group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociateSigninDelegateGroupsBody {
    signin_delegate_groups: Option<Vec<SigninDelegateGroupBody>>,
}

/// `POST /accounts/{accountId}?operation=associate-signin-delegate-groups`: 200 `{}`. Each
/// `GroupName` is a `NonEmptyString`, and a group without one names nothing, so it is refused
/// too. A group the account already has is left as it is (associating is idempotent);
/// GetAccount and ListAccounts show the groups in `SigninDelegateGroups`.
pub async fn associate_signin_delegate_groups(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: AssociateSigninDelegateGroupsBody = call.json()?;
    let mut v = Violations::new();
    let [account_id] = call.labels(["accountId"], &mut v);
    let mut names = Vec::new();
    match &body.signin_delegate_groups {
        None => v.missing("signinDelegateGroups"),
        Some(groups) => {
            for (i, group) in groups.iter().enumerate() {
                let member = format!("signinDelegateGroups.{}.member.groupName", i + 1);
                match &group.group_name {
                    Some(name) => {
                        v.non_empty(&member, name);
                        names.push(name.clone());
                    }
                    None => v.missing(&member),
                }
            }
        }
    }
    v.finish()?;
    call.store
        .associate_signin_delegate_groups(call.owner(), account_id, &names)
        .await?;
    Ok(Reply::empty(200))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DisassociateSigninDelegateGroupsBody {
    group_names: Option<Vec<String>>,
}

/// `POST /accounts/{accountId}?operation=disassociate-signin-delegate-groups`: 200 `{}`.
/// `GroupNames` holds at least one name (`NonEmptyStringList`). A name the account has no
/// group of is passed over: the service documented no error for it, and removing what is not
/// there leaves the account as asked.
pub async fn disassociate_signin_delegate_groups(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: DisassociateSigninDelegateGroupsBody = call.json()?;
    let mut v = Violations::new();
    let [account_id] = call.labels(["accountId"], &mut v);
    match &body.group_names {
        None => v.missing("groupNames"),
        Some(names) => v.list_length("groupNames", names.len(), 1, usize::MAX),
    }
    v.finish()?;
    call.store
        .disassociate_signin_delegate_groups(
            call.owner(),
            account_id,
            body.group_names.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(Reply::empty(200))
}
