//! What a SCIM client sends that Belfry parses before the store: a `filter`, the
//! `attributes`/`excludedAttributes` projection lists, a User or Group body, a PATCH body. Whatever the bytes, each is accepted or refused with a SCIM 400 and a
//! `scimType`, never a panic; a PATCH applied to a user leaves a resource that is refused or
//! read back as a user the same way.
#![no_main]

use belfry::scim::{filter, patch, users};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// The scimTypes a refusal may carry.
const KINDS: &[&str] = &[
    "invalidFilter",
    "invalidSyntax",
    "invalidValue",
    "invalidPath",
    "noTarget",
    "mutability",
    "tooMany",
];

fn refused(e: &belfry::scim::error::ScimError) {
    assert_eq!(e.status, 400, "{e:?}");
    assert!(e.scim_type.is_some_and(|k| KINDS.contains(&k)), "{e:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = filter::parse(&text) {
        refused(&e);
    }
    let resource = json!({"id": "u-1", "userName": "b", "name": {"givenName": "B"}});
    let kept = users::project_names(resource.clone(), Some(&text), Some(&text));
    assert_eq!(kept["id"], "u-1");
    users::project_names(resource, None, Some(&text));
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Err(e) = users::write_of(&body) {
        refused(&e);
    }
    let mut user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-1",
        "userName": "bjensen",
        "active": true,
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
        "name": {"givenName": "Barbara"},
    });
    match patch::apply(&mut user, &body) {
        Ok(()) => {
            if let Err(e) = users::write_of(&user) {
                refused(&e);
            }
        }
        Err(e) => refused(&e),
    }
});
