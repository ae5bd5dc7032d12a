//! The discovery documents of RFC 7643 (sections 5, 6 and 7) and RFC 7644 4:
//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, as this server implements them.
//!
//! The User schema lists exactly the attributes Belfry keeps (README, "SCIM provisioning"),
//! so that a client that fills every published attribute (scim2-tester does) reads back what
//! it wrote. The Chime extension carries the user's LicenseType and UserType, with their
//! model values as `canonicalValues`.

use serde_json::{Value, json};

use crate::model::{License, UserType};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const CHIME_USER_SCHEMA: &str = "urn:belfry:params:scim:schemas:extension:chime:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The most resources one list page returns (`filter.maxResults`).
pub const MAX_RESULTS: usize = 200;

/// One attribute of a schema, with the characteristics RFC 7643 7 lists.
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(target), Some(changes)) = (attribute.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            target.insert(k.clone(), v.clone());
        }
    }
    attribute
}

fn meta(base: &str, resource_type: &str, path: &str) -> Value {
    json!({ "resourceType": resource_type, "location": format!("{base}/{path}") })
}

/// The core User schema, as far as Belfry keeps it.
pub fn user_schema(base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "User Account (a Chime user of the account)",
        "attributes": [
            with(attribute("userName", "string",
                "Unique identifier for the User, kept exactly as sent; unique in the account \
                 case-insensitively"),
                json!({"required": true, "uniqueness": "server"})),
            with(attribute("name", "complex", "The components of the user's name"),
                json!({"subAttributes": [
                    attribute("formatted", "string", "The full name"),
                    attribute("familyName", "string", "The family name"),
                    attribute("givenName", "string", "The given name"),
                ]})),
            // caseExact: the Chime DisplayName is kept and filtered exactly as it is (a
            // case-insensitive filter would need a Rust-normalised key column, as emails have:
            // SQLite's lower() is ASCII-only).
            with(attribute("displayName", "string", "The Chime DisplayName"),
                json!({"caseExact": true})),
            attribute("active", "boolean", "false: the Chime user is Suspended"),
            with(attribute("emails", "complex",
                "Email addresses; the primary (else work, else first) one is the Chime \
                 PrimaryEmail"),
                json!({"multiValued": true, "subAttributes": [
                    attribute("value", "string", "The email address"),
                    with(attribute("type", "string", "The kind of address"),
                        json!({"canonicalValues": ["work", "home", "other"]})),
                    attribute("primary", "boolean", "The primary address"),
                ]})),
        ],
        "meta": meta(base, "Schema", &format!("Schemas/{USER_SCHEMA}")),
    })
}

/// The Chime extension of the User resource.
pub fn chime_user_schema(base: &str) -> Value {
    let licenses: Vec<&str> = License::ALL.iter().map(|l| l.as_str()).collect();
    let types: Vec<&str> = UserType::ALL.iter().map(|t| t.as_str()).collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": CHIME_USER_SCHEMA,
        "name": "ChimeUser",
        "description": "The Amazon Chime attributes of a user",
        "attributes": [
            with(attribute("licenseType", "string", "The Chime LicenseType"),
                json!({"caseExact": true, "canonicalValues": licenses})),
            with(attribute("userType", "string", "The Chime UserType"),
                json!({"caseExact": true, "canonicalValues": types})),
        ],
        "meta": meta(base, "Schema", &format!("Schemas/{CHIME_USER_SCHEMA}")),
    })
}

/// The core Group schema: a Chime room, its name and its user members.
pub fn group_schema(base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "Group (a Chime room of the account)",
        "attributes": [
            with(attribute("displayName", "string", "The room's name"),
                json!({"required": true})),
            with(attribute("members", "complex", "The room's user members"),
                json!({"multiValued": true, "subAttributes": [
                    with(attribute("value", "string", "The member's UserId"),
                        json!({"mutability": "immutable", "caseExact": true})),
                    with(attribute("$ref", "reference", "The member's URI"),
                        json!({"mutability": "immutable", "referenceTypes": ["User"]})),
                    with(attribute("display", "string", "The member's name or email"),
                        json!({"mutability": "readOnly"})),
                    with(attribute("type", "string", "The kind of member"),
                        json!({"mutability": "immutable", "canonicalValues": ["User"]})),
                ]})),
        ],
        "meta": meta(base, "Schema", &format!("Schemas/{GROUP_SCHEMA}")),
    })
}

/// Every schema, by id.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        user_schema(base),
        chime_user_schema(base),
        group_schema(base),
    ]
}

/// The User resource type.
pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": CHIME_USER_SCHEMA, "required": false}],
        "meta": meta(base, "ResourceType", "ResourceTypes/User"),
    })
}

/// The Group resource type.
pub fn group_resource_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Group (a Chime room)",
        "schema": GROUP_SCHEMA,
        "meta": meta(base, "ResourceType", "ResourceTypes/Group"),
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![user_resource_type(base), group_resource_type(base)]
}

/// What the server supports (RFC 7643 5).
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token made by `belfry scim-token create --account-id ...`, \
                            bound to one Chime account",
            "primary": true,
        }],
        "meta": meta(base, "ServiceProviderConfig", "ServiceProviderConfig"),
    })
}

/// A ListResponse of every one of `resources` (the discovery lists are never paged).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
