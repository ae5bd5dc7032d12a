//! The Chime shapes Belfry stores and returns, named and spelled as the service model has them.
//!
//! Enums parse from and print to their exact wire strings; a value outside the model's enum is
//! refused at the API edge by [`crate::api::validate`], so the store only ever sees valid ones.

use serde::{Deserialize, Serialize};

use crate::time::iso8601_millis;

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

/// `AlexaForBusinessMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AlexaForBusinessMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_alexa_for_business_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alexa_for_business_room_arn: Option<String>,
}

/// A Chime account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub aws_account_id: String,
    pub account_id: String,
    pub name: String,
    pub account_type: AccountType,
    pub created_ms: i64,
    pub default_license: License,
    pub supported_licenses: Vec<License>,
    pub account_status: AccountStatus,
}

impl Account {
    /// The `Account` structure as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let licenses: Vec<&str> = self.supported_licenses.iter().map(|l| l.as_str()).collect();
        serde_json::json!({
            "AwsAccountId": self.aws_account_id,
            "AccountId": self.account_id,
            "Name": self.name,
            "AccountType": self.account_type.as_str(),
            "CreatedTimestamp": iso8601_millis(self.created_ms),
            "DefaultLicense": self.default_license.as_str(),
            "SupportedLicenses": licenses,
            "AccountStatus": self.account_status.as_str(),
            "SigninDelegateGroups": [],
        })
    }
}

/// A Chime user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub account_id: String,
    pub primary_email: String,
    pub primary_provisioned_number: Option<String>,
    pub display_name: Option<String>,
    pub license_type: License,
    pub user_type: UserType,
    pub registration_status: RegistrationStatus,
    pub invitation_status: Option<InviteStatus>,
    pub registered_on_ms: Option<i64>,
    pub invited_on_ms: Option<i64>,
    pub alexa: Option<AlexaForBusinessMetadata>,
    pub personal_pin: String,
}

/// The `User` structure on the wire. Absent members are omitted, as the service does.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserWire<'a> {
    user_id: &'a str,
    account_id: &'a str,
    primary_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_provisioned_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    license_type: &'static str,
    user_type: &'static str,
    user_registration_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_invitation_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alexa_for_business_metadata: Option<&'a AlexaForBusinessMetadata>,
    #[serde(rename = "PersonalPIN")]
    personal_pin: &'a str,
}

impl User {
    /// The `User` structure as a JSON object text. The store keeps this text beside the row,
    /// so that listing users is concatenation rather than re-serialisation.
    pub fn to_json_text(&self) -> String {
        let wire = UserWire {
            user_id: &self.user_id,
            account_id: &self.account_id,
            primary_email: &self.primary_email,
            primary_provisioned_number: self.primary_provisioned_number.as_deref(),
            display_name: self.display_name.as_deref(),
            license_type: self.license_type.as_str(),
            user_type: self.user_type.as_str(),
            user_registration_status: self.registration_status.as_str(),
            user_invitation_status: self.invitation_status.map(|s| s.as_str()),
            registered_on: self.registered_on_ms.map(iso8601_millis),
            invited_on: self.invited_on_ms.map(iso8601_millis),
            alexa_for_business_metadata: self.alexa.as_ref(),
            personal_pin: &self.personal_pin,
        };
        // A user's JSON is some 400-500 bytes: one allocation, not serde_json's growth from 128.
        let mut out = Vec::with_capacity(640);
        serde_json::to_writer(&mut out, &wire).expect("a User always serialises");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

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

    #[test]
    fn user_json_omits_absent_members() {
        let u = User {
            user_id: "u".into(),
            account_id: "a".into(),
            primary_email: "x@example.com".into(),
            primary_provisioned_number: None,
            display_name: None,
            license_type: License::Pro,
            user_type: UserType::PrivateUser,
            registration_status: RegistrationStatus::Unregistered,
            invitation_status: Some(InviteStatus::Pending),
            registered_on_ms: None,
            invited_on_ms: Some(0),
            alexa: None,
            personal_pin: "0123456789".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&u.to_json_text()).unwrap();
        assert_eq!(v["UserInvitationStatus"], "Pending");
        assert_eq!(v["InvitedOn"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["PersonalPIN"], "0123456789");
        assert!(v.get("RegisteredOn").is_none());
        assert!(v.get("AlexaForBusinessMetadata").is_none());
    }
}
