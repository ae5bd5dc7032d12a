//! The vocabulary every layer shares: the model's enums, named and spelled as the service model
//! has them, and the key under which an email is unique.
//!
//! Enums parse from and print to their exact wire strings; a value outside the model's enum is
//! refused at the API edge by [`crate::api::validate`], so the store only ever sees valid ones.
//! The structures of each resource live with the resource: `User` (with its JSON, which the
//! store keeps ready) in `store/users.rs`, `Account` in `store/accounts.rs`.

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the model's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            /// Parses the exact wire string (case-sensitive, as the service is).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $(stringify!($variant) => Some($name::$variant),)+ _ => None }
            }

            /// The enum as the validation message lists it: `[A, B]`.
            pub fn choices() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("[{}]", names.join(", "))
            }
        }
    };
}

wire_enum!(
    /// `License`: a user's license, or an account's default.
    License { Basic, Plus, Pro, ProTrial }
);
wire_enum!(
    /// `UserType`.
    UserType { PrivateUser, SharedDevice }
);
wire_enum!(
    /// `RegistrationStatus`.
    RegistrationStatus { Unregistered, Registered, Suspended }
);
wire_enum!(
    /// `InviteStatus`.
    InviteStatus { Pending, Accepted, Failed }
);
wire_enum!(
    /// `EmailStatus`.
    EmailStatus { NotSent, Sent, Failed }
);
wire_enum!(
    /// `AccountType`.
    AccountType { Team, EnterpriseDirectory, EnterpriseLWA, EnterpriseOIDC }
);
wire_enum!(
    /// `AccountStatus`.
    AccountStatus { Suspended, Active }
);
wire_enum!(
    /// `RoomMembershipRole`.
    RoomMembershipRole { Administrator, Member }
);
wire_enum!(
    /// `MemberType`: what a room member is.
    MemberType { User, Bot, Webhook }
);

wire_enum!(
    /// `PhoneNumberProductType`.
    PhoneNumberProductType { BusinessCalling, VoiceConnector, SipMediaApplicationDialIn }
);
wire_enum!(
    /// `PhoneNumberType`.
    PhoneNumberType { Local, TollFree }
);
wire_enum!(
    /// `PhoneNumberStatus`: where a number of the inventory stands.
    PhoneNumberStatus {
        AcquireInProgress,
        AcquireFailed,
        Unassigned,
        Assigned,
        ReleaseInProgress,
        DeleteInProgress,
        ReleaseFailed,
        DeleteFailed,
    }
);
wire_enum!(
    /// `PhoneNumberAssociationName`: what a number is associated with (and ListPhoneNumbers'
    /// `filter-name`).
    PhoneNumberAssociationName { AccountId, UserId, VoiceConnectorId, VoiceConnectorGroupId, SipRuleId }
);
wire_enum!(
    /// `PhoneNumberOrderStatus`.
    PhoneNumberOrderStatus { Processing, Successful, Failed, Partial }
);
wire_enum!(
    /// `OrderedPhoneNumberStatus`: one number of an order.
    OrderedPhoneNumberStatus { Processing, Acquired, Failed }
);
wire_enum!(
    /// `CallingNameStatus`.
    CallingNameStatus { Unassigned, UpdateInProgress, UpdateSucceeded, UpdateFailed }
);

/// The key under which an email is unique and ordered: its Unicode lower case, nothing else
/// (no trimming), so a `user-email` filter is an exact, case-insensitive match.
///
/// Done here in Rust, not in SQL, because SQLite's `lower()` folds ASCII only, and both
/// backends must agree that `ÉLODIE@example.com` and `élodie@example.com` are one address.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_wire_strings() {
        for l in License::ALL {
            assert_eq!(License::parse(l.as_str()), Some(*l));
        }
        assert_eq!(License::parse("pro"), None);
        assert_eq!(UserType::choices(), "[PrivateUser, SharedDevice]");
    }

    #[test]
    fn email_key_folds_unicode() {
        assert_eq!(email_key("ÉLODIE@Example.COM"), "élodie@example.com");
    }
}
