//! The operations of the Chime model: one [`Op`] variant each, its HTTP binding, and the
//! handler that serves it.
//!
//! Everything the server knows about an operation's identity comes from here: the router
//! ([`super::router`]) builds its table from [`Op::ALL`] and [`Op::binding`], metrics and fault
//! rules use [`Op::name`], and [`dispatch`] hands a routed call to its handler. `binding` and
//! `dispatch` are exhaustive matches with no catch-all, so a variant does not compile until the
//! operation is bound and served; the tests check [`Op::ALL`] against the service model shipped
//! with botocore. Every one of the model's 62 operations is served.
//!
//! Should the model gain an operation: add its variant, its binding in [`Op::binding`], its
//! handler in the resource's file (`api/<resource>.rs`, parse -> store call -> reply) and its arm
//! in [`dispatch`].

use super::{Call, Reply, accounts, bots, meetings, phone_numbers, rooms, settings, users};
use crate::error::ApiError;

/// One operation of the Chime model (2018-05-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    // Accounts (`api::accounts`)
    CreateAccount,
    GetAccount,
    ListAccounts,
    UpdateAccount,
    DeleteAccount,
    GetAccountSettings,
    UpdateAccountSettings,
    AssociateSigninDelegateGroupsWithAccount,
    DisassociateSigninDelegateGroupsFromAccount,
    // Users (`api::users`)
    CreateUser,
    InviteUsers,
    GetUser,
    ListUsers,
    UpdateUser,
    BatchUpdateUser,
    BatchSuspendUser,
    BatchUnsuspendUser,
    ResetPersonalPIN,
    LogoutUser,
    GetUserSettings,
    UpdateUserSettings,
    AssociatePhoneNumberWithUser,
    DisassociatePhoneNumberFromUser,
    // Rooms, their memberships and messages (`api::rooms`)
    CreateRoom,
    GetRoom,
    ListRooms,
    UpdateRoom,
    DeleteRoom,
    CreateRoomMembership,
    BatchCreateRoomMembership,
    ListRoomMemberships,
    UpdateRoomMembership,
    DeleteRoomMembership,
    RedactRoomMessage,
    RedactConversationMessage,
    // Bots and their events (`api::bots`)
    CreateBot,
    GetBot,
    ListBots,
    UpdateBot,
    RegenerateSecurityToken,
    PutEventsConfiguration,
    GetEventsConfiguration,
    DeleteEventsConfiguration,
    // Phone numbers and orders (`api::phone_numbers`)
    SearchAvailablePhoneNumbers,
    ListSupportedPhoneNumberCountries,
    CreatePhoneNumberOrder,
    GetPhoneNumberOrder,
    ListPhoneNumberOrders,
    ListPhoneNumbers,
    GetPhoneNumber,
    UpdatePhoneNumber,
    BatchUpdatePhoneNumber,
    DeletePhoneNumber,
    BatchDeletePhoneNumber,
    RestorePhoneNumber,
    // Settings and meetings
    GetPhoneNumberSettings,
    UpdatePhoneNumberSettings,
    GetGlobalSettings,
    UpdateGlobalSettings,
    GetRetentionSettings,
    PutRetentionSettings,
    CreateMeetingDialOut,
}

/// How the model binds an operation to HTTP: method, path template and, where several
/// operations share a path, the query parameter that selects this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub method: &'static str,
    /// `/accounts/{accountId}/users`: literal segments and `{label}`s.
    pub template: &'static str,
    /// A literal query parameter (`operation=create`) that selects this operation.
    pub discriminator: Option<(&'static str, &'static str)>,
}

/// An operation alone on its method and path (or the one chosen when no `operation` is given).
const fn plain(method: &'static str, template: &'static str) -> Binding {
    Binding {
        method,
        template,
        discriminator: None,
    }
}

/// An operation selected on a shared path by `key=value` in the query.
const fn selected(
    method: &'static str,
    template: &'static str,
    key: &'static str,
    value: &'static str,
) -> Binding {
    Binding {
        method,
        template,
        discriminator: Some((key, value)),
    }
}

/// The query parameter most shared paths are told apart by.
pub const OPERATION: &str = "operation";

impl Op {
    /// Every operation, in the order of the enum.
    pub const ALL: [Op; 62] = [
        Op::CreateAccount,
        Op::GetAccount,
        Op::ListAccounts,
        Op::UpdateAccount,
        Op::DeleteAccount,
        Op::GetAccountSettings,
        Op::UpdateAccountSettings,
        Op::AssociateSigninDelegateGroupsWithAccount,
        Op::DisassociateSigninDelegateGroupsFromAccount,
        Op::CreateUser,
        Op::InviteUsers,
        Op::GetUser,
        Op::ListUsers,
        Op::UpdateUser,
        Op::BatchUpdateUser,
        Op::BatchSuspendUser,
        Op::BatchUnsuspendUser,
        Op::ResetPersonalPIN,
        Op::LogoutUser,
        Op::GetUserSettings,
        Op::UpdateUserSettings,
        Op::AssociatePhoneNumberWithUser,
        Op::DisassociatePhoneNumberFromUser,
        Op::CreateRoom,
        Op::GetRoom,
        Op::ListRooms,
        Op::UpdateRoom,
        Op::DeleteRoom,
        Op::CreateRoomMembership,
        Op::BatchCreateRoomMembership,
        Op::ListRoomMemberships,
        Op::UpdateRoomMembership,
        Op::DeleteRoomMembership,
        Op::RedactRoomMessage,
        Op::RedactConversationMessage,
        Op::CreateBot,
        Op::GetBot,
        Op::ListBots,
        Op::UpdateBot,
        Op::RegenerateSecurityToken,
        Op::PutEventsConfiguration,
        Op::GetEventsConfiguration,
        Op::DeleteEventsConfiguration,
        Op::SearchAvailablePhoneNumbers,
        Op::ListSupportedPhoneNumberCountries,
        Op::CreatePhoneNumberOrder,
        Op::GetPhoneNumberOrder,
        Op::ListPhoneNumberOrders,
        Op::ListPhoneNumbers,
        Op::GetPhoneNumber,
        Op::UpdatePhoneNumber,
        Op::BatchUpdatePhoneNumber,
        Op::DeletePhoneNumber,
        Op::BatchDeletePhoneNumber,
        Op::RestorePhoneNumber,
        Op::GetPhoneNumberSettings,
        Op::UpdatePhoneNumberSettings,
        Op::GetGlobalSettings,
        Op::UpdateGlobalSettings,
        Op::GetRetentionSettings,
        Op::PutRetentionSettings,
        Op::CreateMeetingDialOut,
    ];

    /// The operation's name in the model (and in metrics, logs and fault rules).
    pub fn name(self) -> &'static str {
        match self {
            Op::CreateAccount => "CreateAccount",
            Op::GetAccount => "GetAccount",
            Op::ListAccounts => "ListAccounts",
            Op::UpdateAccount => "UpdateAccount",
            Op::DeleteAccount => "DeleteAccount",
            Op::GetAccountSettings => "GetAccountSettings",
            Op::UpdateAccountSettings => "UpdateAccountSettings",
            Op::AssociateSigninDelegateGroupsWithAccount => {
                "AssociateSigninDelegateGroupsWithAccount"
            }
            Op::DisassociateSigninDelegateGroupsFromAccount => {
                "DisassociateSigninDelegateGroupsFromAccount"
            }
            Op::CreateUser => "CreateUser",
            Op::InviteUsers => "InviteUsers",
            Op::GetUser => "GetUser",
            Op::ListUsers => "ListUsers",
            Op::UpdateUser => "UpdateUser",
            Op::BatchUpdateUser => "BatchUpdateUser",
            Op::BatchSuspendUser => "BatchSuspendUser",
            Op::BatchUnsuspendUser => "BatchUnsuspendUser",
            Op::ResetPersonalPIN => "ResetPersonalPIN",
            Op::LogoutUser => "LogoutUser",
            Op::GetUserSettings => "GetUserSettings",
            Op::UpdateUserSettings => "UpdateUserSettings",
            Op::AssociatePhoneNumberWithUser => "AssociatePhoneNumberWithUser",
            Op::DisassociatePhoneNumberFromUser => "DisassociatePhoneNumberFromUser",
            Op::CreateRoom => "CreateRoom",
            Op::GetRoom => "GetRoom",
            Op::ListRooms => "ListRooms",
            Op::UpdateRoom => "UpdateRoom",
            Op::DeleteRoom => "DeleteRoom",
            Op::CreateRoomMembership => "CreateRoomMembership",
            Op::BatchCreateRoomMembership => "BatchCreateRoomMembership",
            Op::ListRoomMemberships => "ListRoomMemberships",
            Op::UpdateRoomMembership => "UpdateRoomMembership",
            Op::DeleteRoomMembership => "DeleteRoomMembership",
            Op::RedactRoomMessage => "RedactRoomMessage",
            Op::RedactConversationMessage => "RedactConversationMessage",
            Op::CreateBot => "CreateBot",
            Op::GetBot => "GetBot",
            Op::ListBots => "ListBots",
            Op::UpdateBot => "UpdateBot",
            Op::RegenerateSecurityToken => "RegenerateSecurityToken",
            Op::PutEventsConfiguration => "PutEventsConfiguration",
            Op::GetEventsConfiguration => "GetEventsConfiguration",
            Op::DeleteEventsConfiguration => "DeleteEventsConfiguration",
            Op::SearchAvailablePhoneNumbers => "SearchAvailablePhoneNumbers",
            Op::ListSupportedPhoneNumberCountries => "ListSupportedPhoneNumberCountries",
            Op::CreatePhoneNumberOrder => "CreatePhoneNumberOrder",
            Op::GetPhoneNumberOrder => "GetPhoneNumberOrder",
            Op::ListPhoneNumberOrders => "ListPhoneNumberOrders",
            Op::ListPhoneNumbers => "ListPhoneNumbers",
            Op::GetPhoneNumber => "GetPhoneNumber",
            Op::UpdatePhoneNumber => "UpdatePhoneNumber",
            Op::BatchUpdatePhoneNumber => "BatchUpdatePhoneNumber",
            Op::DeletePhoneNumber => "DeletePhoneNumber",
            Op::BatchDeletePhoneNumber => "BatchDeletePhoneNumber",
            Op::RestorePhoneNumber => "RestorePhoneNumber",
            Op::GetPhoneNumberSettings => "GetPhoneNumberSettings",
            Op::UpdatePhoneNumberSettings => "UpdatePhoneNumberSettings",
            Op::GetGlobalSettings => "GetGlobalSettings",
            Op::UpdateGlobalSettings => "UpdateGlobalSettings",
            Op::GetRetentionSettings => "GetRetentionSettings",
            Op::PutRetentionSettings => "PutRetentionSettings",
            Op::CreateMeetingDialOut => "CreateMeetingDialOut",
        }
    }

    /// The operation named `name` in the model.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether the operation only reads: every read of the Chime model is a GET, and a
    /// read-only access key may call exactly these.
    pub fn is_read_only(self) -> bool {
        self.binding().method == "GET"
    }

    /// The operation's HTTP binding, exactly as the model's `http` trait gives it.
    pub fn binding(self) -> Binding {
        match self {
            Op::CreateAccount => plain("POST", "/accounts"),
            Op::GetAccount => plain("GET", "/accounts/{accountId}"),
            Op::ListAccounts => plain("GET", "/accounts"),
            Op::UpdateAccount => plain("POST", "/accounts/{accountId}"),
            Op::DeleteAccount => plain("DELETE", "/accounts/{accountId}"),
            Op::GetAccountSettings => plain("GET", "/accounts/{accountId}/settings"),
            Op::UpdateAccountSettings => plain("PUT", "/accounts/{accountId}/settings"),
            Op::AssociateSigninDelegateGroupsWithAccount => selected(
                "POST",
                "/accounts/{accountId}",
                OPERATION,
                "associate-signin-delegate-groups",
            ),
            Op::DisassociateSigninDelegateGroupsFromAccount => selected(
                "POST",
                "/accounts/{accountId}",
                OPERATION,
                "disassociate-signin-delegate-groups",
            ),
            Op::CreateUser => selected("POST", "/accounts/{accountId}/users", OPERATION, "create"),
            Op::InviteUsers => selected("POST", "/accounts/{accountId}/users", OPERATION, "add"),
            Op::GetUser => plain("GET", "/accounts/{accountId}/users/{userId}"),
            Op::ListUsers => plain("GET", "/accounts/{accountId}/users"),
            Op::UpdateUser => plain("POST", "/accounts/{accountId}/users/{userId}"),
            Op::BatchUpdateUser => plain("POST", "/accounts/{accountId}/users"),
            Op::BatchSuspendUser => {
                selected("POST", "/accounts/{accountId}/users", OPERATION, "suspend")
            }
            Op::BatchUnsuspendUser => selected(
                "POST",
                "/accounts/{accountId}/users",
                OPERATION,
                "unsuspend",
            ),
            Op::ResetPersonalPIN => selected(
                "POST",
                "/accounts/{accountId}/users/{userId}",
                OPERATION,
                "reset-personal-pin",
            ),
            Op::LogoutUser => selected(
                "POST",
                "/accounts/{accountId}/users/{userId}",
                OPERATION,
                "logout",
            ),
            Op::GetUserSettings => plain("GET", "/accounts/{accountId}/users/{userId}/settings"),
            Op::UpdateUserSettings => plain("PUT", "/accounts/{accountId}/users/{userId}/settings"),
            Op::AssociatePhoneNumberWithUser => selected(
                "POST",
                "/accounts/{accountId}/users/{userId}",
                OPERATION,
                "associate-phone-number",
            ),
            Op::DisassociatePhoneNumberFromUser => selected(
                "POST",
                "/accounts/{accountId}/users/{userId}",
                OPERATION,
                "disassociate-phone-number",
            ),
            Op::CreateRoom => plain("POST", "/accounts/{accountId}/rooms"),
            Op::GetRoom => plain("GET", "/accounts/{accountId}/rooms/{roomId}"),
            Op::ListRooms => plain("GET", "/accounts/{accountId}/rooms"),
            Op::UpdateRoom => plain("POST", "/accounts/{accountId}/rooms/{roomId}"),
            Op::DeleteRoom => plain("DELETE", "/accounts/{accountId}/rooms/{roomId}"),
            Op::CreateRoomMembership => {
                plain("POST", "/accounts/{accountId}/rooms/{roomId}/memberships")
            }
            Op::BatchCreateRoomMembership => selected(
                "POST",
                "/accounts/{accountId}/rooms/{roomId}/memberships",
                OPERATION,
                "batch-create",
            ),
            Op::ListRoomMemberships => {
                plain("GET", "/accounts/{accountId}/rooms/{roomId}/memberships")
            }
            Op::UpdateRoomMembership => plain(
                "POST",
                "/accounts/{accountId}/rooms/{roomId}/memberships/{memberId}",
            ),
            Op::DeleteRoomMembership => plain(
                "DELETE",
                "/accounts/{accountId}/rooms/{roomId}/memberships/{memberId}",
            ),
            Op::RedactRoomMessage => selected(
                "POST",
                "/accounts/{accountId}/rooms/{roomId}/messages/{messageId}",
                OPERATION,
                "redact",
            ),
            Op::RedactConversationMessage => selected(
                "POST",
                "/accounts/{accountId}/conversations/{conversationId}/messages/{messageId}",
                OPERATION,
                "redact",
            ),
            Op::CreateBot => plain("POST", "/accounts/{accountId}/bots"),
            Op::GetBot => plain("GET", "/accounts/{accountId}/bots/{botId}"),
            Op::ListBots => plain("GET", "/accounts/{accountId}/bots"),
            Op::UpdateBot => plain("POST", "/accounts/{accountId}/bots/{botId}"),
            Op::RegenerateSecurityToken => selected(
                "POST",
                "/accounts/{accountId}/bots/{botId}",
                OPERATION,
                "regenerate-security-token",
            ),
            Op::PutEventsConfiguration => plain(
                "PUT",
                "/accounts/{accountId}/bots/{botId}/events-configuration",
            ),
            Op::GetEventsConfiguration => plain(
                "GET",
                "/accounts/{accountId}/bots/{botId}/events-configuration",
            ),
            Op::DeleteEventsConfiguration => plain(
                "DELETE",
                "/accounts/{accountId}/bots/{botId}/events-configuration",
            ),
            Op::SearchAvailablePhoneNumbers => selected("GET", "/search", "type", "phone-numbers"),
            Op::ListSupportedPhoneNumberCountries => plain("GET", "/phone-number-countries"),
            Op::CreatePhoneNumberOrder => plain("POST", "/phone-number-orders"),
            Op::GetPhoneNumberOrder => plain("GET", "/phone-number-orders/{phoneNumberOrderId}"),
            Op::ListPhoneNumberOrders => plain("GET", "/phone-number-orders"),
            Op::ListPhoneNumbers => plain("GET", "/phone-numbers"),
            Op::GetPhoneNumber => plain("GET", "/phone-numbers/{phoneNumberId}"),
            Op::UpdatePhoneNumber => plain("POST", "/phone-numbers/{phoneNumberId}"),
            Op::BatchUpdatePhoneNumber => {
                selected("POST", "/phone-numbers", OPERATION, "batch-update")
            }
            Op::DeletePhoneNumber => plain("DELETE", "/phone-numbers/{phoneNumberId}"),
            Op::BatchDeletePhoneNumber => {
                selected("POST", "/phone-numbers", OPERATION, "batch-delete")
            }
            Op::RestorePhoneNumber => selected(
                "POST",
                "/phone-numbers/{phoneNumberId}",
                OPERATION,
                "restore",
            ),
            Op::GetPhoneNumberSettings => plain("GET", "/settings/phone-number"),
            Op::UpdatePhoneNumberSettings => plain("PUT", "/settings/phone-number"),
            Op::GetGlobalSettings => plain("GET", "/settings"),
            Op::UpdateGlobalSettings => plain("PUT", "/settings"),
            Op::GetRetentionSettings => plain("GET", "/accounts/{accountId}/retention-settings"),
            Op::PutRetentionSettings => plain("PUT", "/accounts/{accountId}/retention-settings"),
            Op::CreateMeetingDialOut => plain("POST", "/meetings/{meetingId}/dial-outs"),
        }
    }
}

/// Runs a routed call by its operation's handler.
pub async fn dispatch(call: &Call<'_>) -> Result<Reply, ApiError> {
    let op = call.route.op;
    match op {
        Op::CreateAccount => accounts::create_account(call).await,
        Op::GetAccount => accounts::get_account(call).await,
        Op::ListAccounts => accounts::list_accounts(call).await,
        Op::UpdateAccount => accounts::update_account(call).await,
        Op::DeleteAccount => accounts::delete_account(call).await,
        Op::GetAccountSettings => accounts::get_account_settings(call).await,
        Op::UpdateAccountSettings => accounts::update_account_settings(call).await,
        Op::AssociateSigninDelegateGroupsWithAccount => {
            accounts::associate_signin_delegate_groups(call).await
        }
        Op::DisassociateSigninDelegateGroupsFromAccount => {
            accounts::disassociate_signin_delegate_groups(call).await
        }
        Op::CreateUser => users::create_user(call).await,
        Op::InviteUsers => users::invite_users(call).await,
        Op::GetUser => users::get_user(call).await,
        Op::ListUsers => users::list_users(call).await,
        Op::UpdateUser => users::update_user(call).await,
        Op::BatchUpdateUser => users::batch_update_user(call).await,
        Op::BatchSuspendUser => users::batch_suspend_user(call, true).await,
        Op::BatchUnsuspendUser => users::batch_suspend_user(call, false).await,
        Op::ResetPersonalPIN => users::reset_personal_pin(call).await,
        Op::LogoutUser => users::logout_user(call).await,
        Op::GetUserSettings => users::get_user_settings(call).await,
        Op::UpdateUserSettings => users::update_user_settings(call).await,
        Op::AssociatePhoneNumberWithUser => users::associate_phone_number(call).await,
        Op::DisassociatePhoneNumberFromUser => users::disassociate_phone_number(call).await,
        Op::CreateRoom => rooms::create_room(call).await,
        Op::GetRoom => rooms::get_room(call).await,
        Op::ListRooms => rooms::list_rooms(call).await,
        Op::UpdateRoom => rooms::update_room(call).await,
        Op::DeleteRoom => rooms::delete_room(call).await,
        Op::CreateRoomMembership => rooms::create_room_membership(call).await,
        Op::BatchCreateRoomMembership => rooms::batch_create_room_membership(call).await,
        Op::ListRoomMemberships => rooms::list_room_memberships(call).await,
        Op::UpdateRoomMembership => rooms::update_room_membership(call).await,
        Op::DeleteRoomMembership => rooms::delete_room_membership(call).await,
        Op::RedactRoomMessage => rooms::redact_room_message(call).await,
        Op::RedactConversationMessage => rooms::redact_conversation_message(call).await,
        Op::CreateBot => bots::create_bot(call).await,
        Op::GetBot => bots::get_bot(call).await,
        Op::ListBots => bots::list_bots(call).await,
        Op::UpdateBot => bots::update_bot(call).await,
        Op::RegenerateSecurityToken => bots::regenerate_security_token(call).await,
        Op::PutEventsConfiguration => bots::put_events_configuration(call).await,
        Op::GetEventsConfiguration => bots::get_events_configuration(call).await,
        Op::DeleteEventsConfiguration => bots::delete_events_configuration(call).await,
        Op::SearchAvailablePhoneNumbers => {
            phone_numbers::search_available_phone_numbers(call).await
        }
        Op::ListSupportedPhoneNumberCountries => {
            phone_numbers::list_supported_phone_number_countries(call).await
        }
        Op::CreatePhoneNumberOrder => phone_numbers::create_phone_number_order(call).await,
        Op::GetPhoneNumberOrder => phone_numbers::get_phone_number_order(call).await,
        Op::ListPhoneNumberOrders => phone_numbers::list_phone_number_orders(call).await,
        Op::ListPhoneNumbers => phone_numbers::list_phone_numbers(call).await,
        Op::GetPhoneNumber => phone_numbers::get_phone_number(call).await,
        Op::UpdatePhoneNumber => phone_numbers::update_phone_number(call).await,
        Op::BatchUpdatePhoneNumber => phone_numbers::batch_update_phone_number(call).await,
        Op::DeletePhoneNumber => phone_numbers::delete_phone_number(call).await,
        Op::BatchDeletePhoneNumber => phone_numbers::batch_delete_phone_number(call).await,
        Op::RestorePhoneNumber => phone_numbers::restore_phone_number(call).await,
        Op::GetPhoneNumberSettings => settings::get_phone_number_settings(call).await,
        Op::UpdatePhoneNumberSettings => settings::update_phone_number_settings(call).await,
        Op::GetGlobalSettings => settings::get_global_settings(call).await,
        Op::UpdateGlobalSettings => settings::update_global_settings(call).await,
        Op::GetRetentionSettings => settings::get_retention_settings(call).await,
        Op::PutRetentionSettings => settings::put_retention_settings(call).await,
        Op::CreateMeetingDialOut => meetings::create_meeting_dial_out(call).await,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_the_variants_and_each_is_listed_once() {
        let mut seen = HashSet::new();
        for op in Op::ALL {
            assert_eq!(op.name(), format!("{op:?}"));
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert!(seen.insert(op), "{op:?} is listed twice in Op::ALL");
        }
        assert_eq!(seen.len(), 62);
        assert_eq!(Op::from_name("listUsers"), None);
    }

    #[test]
    fn reads_are_the_gets() {
        assert!(Op::ListUsers.is_read_only());
        assert!(Op::GetUserSettings.is_read_only());
        assert!(!Op::UpdateUserSettings.is_read_only());
        assert!(!Op::BatchSuspendUser.is_read_only());
    }

    /// Prints `name method requestUri` for every operation of the service model that botocore
    /// ships (the contract: `data/chime/2018-05-01/service-2.json.gz`).
    const MODEL_OPERATIONS: &str = "
import botocore, gzip, json, os
path = os.path.join(os.path.dirname(botocore.__file__), 'data/chime/2018-05-01/service-2.json.gz')
model = json.load(gzip.open(path))
for name, op in sorted(model['operations'].items()):
    print(name, op['http']['method'], op['http']['requestUri'])
";

    #[test]
    fn every_operation_of_the_service_model_has_a_variant_and_its_binding() {
        let out = std::process::Command::new("python3")
            .args(["-c", MODEL_OPERATIONS])
            .output()
            .expect("python3 runs (the service model comes with botocore)");
        assert!(
            out.status.success(),
            "botocore's Chime model could not be read (pip install -r \
             tests/python/requirements.txt): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8(out.stdout).expect("UTF-8");
        let mut in_model = HashSet::new();
        for line in listing.lines() {
            let mut fields = line.split(' ');
            let (Some(name), Some(method), Some(uri)) =
                (fields.next(), fields.next(), fields.next())
            else {
                panic!("unexpected line {line:?}");
            };
            let op = Op::from_name(name).unwrap_or_else(|| panic!("{name} has no Op variant"));
            let binding = op.binding();
            let mut ours = binding.template.to_string();
            if let Some((key, value)) = binding.discriminator {
                ours = format!("{ours}?{key}={value}");
            }
            assert_eq!((binding.method, ours.as_str()), (method, uri), "{name}");
            in_model.insert(op);
        }
        assert_eq!(
            in_model.len(),
            Op::ALL.len(),
            "Op has variants the model lacks"
        );
    }
}
