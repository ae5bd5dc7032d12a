//! Property tests of ListUsers pagination at the store level.
//!
//! 1. For random users (mixed-case and non-ASCII emails, both user types), a random filter and
//!    random page sizes changing from page to page, the concatenated pages are exactly the
//!    filtered users in (email key, user id) order, each once; `next` is `None` exactly on the
//!    last page; no page is empty unless nothing matches; every page is full but the last.
//! 2. With random inserts and deletes between pages, every user present for the whole walk
//!    appears exactly once, no user appears twice, and the walk never goes back in the order.

mod common;

use std::collections::{HashMap, HashSet};

use belfry::model::{UserType, email_key};
use belfry::store::User;
use belfry::store::{Store, UserFilter};
use common::{make_user, sort_users};
use proptest::prelude::*;
use proptest::sample::Index;

const OWNER: &str = "123456789012";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A store in a fresh temporary directory, with one account to fill and one beside it.
async fn fresh_store(scratch: &common::Scratch) -> (Store, String, String) {
    let store = scratch.open().await;
    let account = store
        .create_account(OWNER, "props")
        .await
        .expect("account")
        .account_id;
    let neighbour = store
        .create_account(OWNER, "neighbour")
        .await
        .expect("account")
        .account_id;
    (store, account, neighbour)
}

/// Email local parts mix cases, digits and a few non-ASCII letters whose lower case is
/// unambiguous; domains vary in case too.
fn email() -> impl Strategy<Value = String> {
    (
        "[a-cA-C0-9éÉöÖñÑжЖ._-]{1,5}",
        prop::sample::select(vec![
            "example.com",
            "EXAMPLE.com",
            "Example.Com",
            "exämple.org",
            "EXÄMPLE.ORG",
            "b.co",
        ]),
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

fn user_type() -> impl Strategy<Value = UserType> {
    prop_oneof![Just(UserType::PrivateUser), Just(UserType::SharedDevice)]
}

/// Emails with types, distinct under `email_key` (the account's uniqueness rule).
fn distinct_users(max: usize) -> impl Strategy<Value = Vec<(String, UserType)>> {
    prop::collection::vec((email(), user_type()), 0..max).prop_map(|list| {
        let mut seen = HashSet::new();
        list.into_iter()
            .filter(|(e, _)| seen.insert(email_key(e)))
            .collect()
    })
}

/// A page size: mostly small, so that walks have many pages; sometimes up to 200.
fn page_size() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..=4, 1 => 1usize..=200]
}

/// How a filter is chosen.
#[derive(Debug, Clone)]
enum FilterChoice {
    None,
    Type(UserType),
    /// The email of a present user (picked by index), its case changed.
    Present(Index, bool),
    /// The email of a present user, combined with a user type.
    PresentWithType(Index, UserType),
    /// An email no user has.
    Absent(String),
}

fn filter_choice() -> impl Strategy<Value = FilterChoice> {
    prop_oneof![
        Just(FilterChoice::None),
        user_type().prop_map(FilterChoice::Type),
        (any::<Index>(), any::<bool>()).prop_map(|(i, up)| FilterChoice::Present(i, up)),
        (any::<Index>(), user_type()).prop_map(|(i, t)| FilterChoice::PresentWithType(i, t)),
        email().prop_map(|e| FilterChoice::Absent(format!("absent.{e}"))),
    ]
}

/// Upper- or lower-cases an email (the case change a client might make).
fn recase(email: &str, upper: bool) -> String {
    if upper {
        email.to_uppercase()
    } else {
        email.to_lowercase()
    }
}

/// The store filter for a choice, and the query email as a client would send it.
fn make_filter(choice: &FilterChoice, users: &[User]) -> UserFilter {
    let pick = |i: &Index| (!users.is_empty()).then(|| &users[i.index(users.len())]);
    match choice {
        FilterChoice::None => UserFilter::default(),
        FilterChoice::Type(t) => UserFilter {
            email_key: None,
            user_type: Some(*t),
        },
        FilterChoice::Present(i, up) => UserFilter {
            email_key: Some(email_key(&match pick(i) {
                Some(u) => recase(&u.primary_email, *up),
                None => "nobody@example.com".to_string(),
            })),
            user_type: None,
        },
        FilterChoice::PresentWithType(i, t) => UserFilter {
            email_key: Some(email_key(
                pick(i).map_or("nobody@example.com", |u| u.primary_email.as_str()),
            )),
            user_type: Some(*t),
        },
        FilterChoice::Absent(e) => UserFilter {
            email_key: Some(email_key(e)),
            user_type: None,
        },
    }
}

/// The oracle: the users a filter selects.
fn matches(filter: &UserFilter, user: &User) -> bool {
    filter
        .email_key
        .as_ref()
        .is_none_or(|k| *k == email_key(&user.primary_email))
        && filter.user_type.is_none_or(|t| t == user.user_type)
}

/// The `UserId` of a listed user's JSON.
fn user_id_of(doc: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(doc).expect("user JSON");
    value["UserId"].as_str().expect("UserId").to_string()
}

/// The email key of a listed user's JSON.
fn email_key_of(doc: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(doc).expect("user JSON");
    email_key(value["PrimaryEmail"].as_str().expect("PrimaryEmail"))
}

/// A page as the store returned it, its documents split apart.
struct Page {
    docs: Vec<String>,
    next: Option<String>,
}

async fn page(
    store: &Store,
    account: &str,
    filter: &UserFilter,
    after: Option<&str>,
    limit: usize,
) -> Page {
    let page = store
        .list_users(OWNER, account, filter, after, limit)
        .await
        .expect("list_users");
    let docs: Vec<String> = page.docs().map(str::to_string).collect();
    assert_eq!(docs.len(), page.count(), "the page counts what it holds");
    Page {
        docs,
        next: page.next.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn pages_concatenate_to_the_filtered_users_in_order(
        specs in distinct_users(80),
        neighbours in distinct_users(10),
        choice in filter_choice(),
        sizes in prop::collection::vec(page_size(), 1..12),
    ) {
        runtime().block_on(async {
            let scratch = common::Scratch::new().await;
            let (store, account, neighbour) = fresh_store(&scratch).await;
            let users: Vec<User> = specs
                .iter()
                .map(|(e, t)| make_user(&account, e, *t))
                .collect();
            store.insert_users(OWNER, &account, &users).await.expect("insert users");
            // The same emails in the account beside must never show up.
            let others: Vec<User> = neighbours
                .iter()
                .map(|(e, t)| make_user(&neighbour, e, *t))
                .collect();
            store.insert_users(OWNER, &neighbour, &others).await.expect("insert users");

            let filter = make_filter(&choice, &users);
            let mut expected: Vec<User> =
                users.iter().filter(|u| matches(&filter, u)).cloned().collect();
            sort_users(&mut expected);
            if let FilterChoice::Present(..) = choice
                && !users.is_empty()
            {
                prop_assert_eq!(expected.len(), 1, "a present email matches exactly one user");
            }

            let mut got: Vec<String> = Vec::new();
            let mut after: Option<String> = None;
            let mut pages = 0usize;
            loop {
                let n = sizes[pages % sizes.len()];
                let p = page(&store, &account, &filter, after.as_deref(), n).await;
                pages += 1;
                let remaining = expected.len() - got.len().min(expected.len());
                prop_assert_eq!(
                    p.docs.len(),
                    n.min(remaining),
                    "page {} of size {} with {} remaining", pages, n, remaining
                );
                prop_assert_eq!(
                    p.next.is_some(),
                    remaining > n,
                    "next on page {} (size {}, {} remaining)", pages, n, remaining
                );
                if expected.is_empty() {
                    prop_assert!(p.docs.is_empty());
                } else {
                    prop_assert!(!p.docs.is_empty(), "empty page {}", pages);
                }
                got.extend(p.docs.iter().cloned());
                match p.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
                prop_assert!(pages <= expected.len() + 1, "the walk does not end");
            }
            let want: Vec<String> = expected.iter().map(User::to_json_text).collect();
            prop_assert_eq!(&got, &want, "the pages are not the filtered users in order");
            let ids: HashSet<String> = got.iter().map(|d| user_id_of(d)).collect();
            prop_assert_eq!(ids.len(), got.len(), "a user appears twice");
            Ok(())
        })?;
    }

    #[test]
    fn users_present_throughout_a_walk_appear_exactly_once(
        protected_specs in distinct_users(50),
        doomed_specs in distinct_users(30),
        filter_type in prop::option::of(user_type()),
        sizes in prop::collection::vec(page_size(), 1..8),
        steps in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    (email(), user_type()).prop_map(|(e, t)| Op::Insert(e, t)),
                    any::<Index>().prop_map(Op::Delete),
                ],
                0..4,
            ),
            1..40,
        ),
    ) {
        runtime().block_on(async {
            let scratch = common::Scratch::new().await;
            let (store, account, _) = fresh_store(&scratch).await;
            // Protected and doomed users must not share an email key.
            let protected_keys: HashSet<String> =
                protected_specs.iter().map(|(e, _)| email_key(e)).collect();
            let protected: Vec<User> = protected_specs
                .iter()
                .map(|(e, t)| make_user(&account, e, *t))
                .collect();
            let doomed: Vec<User> = doomed_specs
                .iter()
                .filter(|(e, _)| !protected_keys.contains(&email_key(e)))
                .map(|(e, t)| make_user(&account, e, *t))
                .collect();
            store.insert_users(OWNER, &account, &protected).await.expect("insert");
            store.insert_users(OWNER, &account, &doomed).await.expect("insert");

            let mut live_keys: HashSet<String> = protected
                .iter()
                .chain(&doomed)
                .map(|u| email_key(&u.primary_email))
                .collect();
            let mut deletable: Vec<User> = doomed.clone();
            let mut ever: HashSet<String> =
                protected.iter().chain(&doomed).map(|u| u.user_id.clone()).collect();

            let filter = UserFilter { email_key: None, user_type: filter_type };
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut last_key: Option<String> = None;
            let mut after: Option<String> = None;
            let mut pages = 0usize;
            loop {
                let n = sizes[pages % sizes.len()];
                let p = page(&store, &account, &filter, after.as_deref(), n).await;
                if p.next.is_some() {
                    prop_assert_eq!(p.docs.len(), n, "a page before the last is full");
                }
                for doc in &p.docs {
                    let key = email_key_of(doc);
                    if let Some(prev) = &last_key {
                        prop_assert!(*prev < key, "the walk went back: {} then {}", prev, key);
                    }
                    last_key = Some(key);
                    *seen.entry(user_id_of(doc)).or_default() += 1;
                }
                let Some(next) = p.next else { break };
                after = Some(next);

                // Writes between pages.
                for op in steps.get(pages).into_iter().flatten() {
                    match op {
                        Op::Insert(e, t) => {
                            let key = email_key(e);
                            if live_keys.contains(&key) {
                                continue;
                            }
                            let user = make_user(&account, e, *t);
                            store
                                .insert_users(OWNER, &account, std::slice::from_ref(&user))
                                .await
                                .expect("insert during the walk");
                            live_keys.insert(key);
                            ever.insert(user.user_id.clone());
                            deletable.push(user);
                        }
                        Op::Delete(i) => {
                            if deletable.is_empty() {
                                continue;
                            }
                            let user = deletable.swap_remove(i.index(deletable.len()));
                            store
                                .delete_user(OWNER, &account, &user.user_id)
                                .await
                                .expect("delete during the walk");
                            live_keys.remove(&email_key(&user.primary_email));
                        }
                    }
                }
                pages += 1;
                prop_assert!(pages < 10_000, "the walk does not end");
            }

            for (id, count) in &seen {
                prop_assert_eq!(*count, 1usize, "user {} listed {} times", id, count);
                prop_assert!(ever.contains(id), "user {} never existed", id);
            }
            for user in protected.iter().filter(|u| filter_type.is_none_or(|t| t == u.user_type)) {
                prop_assert_eq!(
                    seen.get(&user.user_id).copied().unwrap_or(0),
                    1usize,
                    "protected user {} ({})", &user.user_id, &user.primary_email
                );
            }
            for user in protected.iter().filter(|u| filter_type.is_some_and(|t| t != u.user_type)) {
                prop_assert!(!seen.contains_key(&user.user_id), "the type filter leaked");
            }
            Ok(())
        })?;
    }
}

/// A write made between two pages of a walk.
#[derive(Debug, Clone)]
enum Op {
    Insert(String, UserType),
    /// Deletes one of the unprotected users alive, picked by index.
    Delete(Index),
}
