//! The JSON request bodies of every served operation, decoded and validated exactly as the
//! server does (`belfry::api::dispatch` with the request's body), against an in-memory store
//! holding one account and one user that the path labels name.
//!
//! Input: the first byte picks the operation, the rest is the body.
//!
//! Oracles: nothing panics; no body makes the server fail (`ServiceFailureException`, its
//! 500) or answer anything but a success or a modeled 4xx; a successful reply is JSON (or
//! empty for 204).
#![no_main]

use std::sync::{Mutex, OnceLock};

use belfry::api::{self, Call, Op, Query, Route};
use belfry::auth::Principal;
use belfry::error::ErrorKind;
use belfry::model::UserType;
use belfry::store::{Location, NewUser, Store};
use belfry::token::PageTokens;
use libfuzzer_sys::fuzz_target;

/// Every operation Belfry serves, with the query that selects it; the body of those that
/// take none is ignored.
const OPERATIONS: [(Op, &str); 21] = [
    (Op::CreateAccount, ""),
    (Op::UpdateAccount, ""),
    (Op::UpdateAccountSettings, ""),
    (Op::CreateUser, "operation=create"),
    (Op::InviteUsers, "operation=add"),
    (Op::UpdateUser, ""),
    (Op::BatchUpdateUser, ""),
    (Op::BatchSuspendUser, "operation=suspend"),
    (Op::BatchUnsuspendUser, "operation=unsuspend"),
    (Op::UpdateUserSettings, ""),
    (
        Op::AssociatePhoneNumberWithUser,
        "operation=associate-phone-number",
    ),
    (Op::GetAccount, ""),
    (Op::ListAccounts, ""),
    (Op::DeleteAccount, ""),
    (Op::GetAccountSettings, ""),
    (Op::GetUser, ""),
    (Op::ListUsers, ""),
    (Op::ResetPersonalPIN, ""),
    (Op::LogoutUser, ""),
    (Op::GetUserSettings, ""),
    (Op::DisassociatePhoneNumberFromUser, ""),
];

const OWNER: &str = "111111111111";
/// The store is emptied and seeded again after this many inputs, so that long runs do not
/// grow it without bound.
const WIPE_EVERY: u32 = 20_000;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Store,
    tokens: PageTokens,
    principal: Principal,
    state: Mutex<(u32, Vec<String>)>,
}

fn seed(fixture_rt: &tokio::runtime::Runtime, store: &Store) -> Vec<String> {
    fixture_rt.block_on(async {
        store.wipe().await.expect("wipe");
        let account = store.create_account(OWNER, "Fuzz").await.expect("account");
        let user = store
            .create_user(
                OWNER,
                &account.account_id,
                &NewUser {
                    email: "fuzz@example.com".into(),
                    display_name: None,
                    user_type: UserType::PrivateUser,
                },
            )
            .await
            .expect("user");
        vec![account.account_id, user.user_id]
    })
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = runtime
            .block_on(Store::open(&Location::Memory))
            .expect("in-memory store");
        let labels = seed(&runtime, &store);
        Fixture {
            tokens: PageTokens::new([9; 32]),
            principal: Principal {
                access_key_id: "AKIDFUZZ".into(),
                aws_account_id: OWNER.into(),
                read_only: false,
            },
            runtime,
            store,
            state: Mutex::new((0, labels)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (op, query) = OPERATIONS[usize::from(pick) % OPERATIONS.len()];
    let operation = op.name();
    let f = fixture();
    let mut state = f.state.lock().unwrap();
    state.0 += 1;
    if state.0.is_multiple_of(WIPE_EVERY) {
        state.1 = seed(&f.runtime, &f.store);
    }
    let query = Query::parse(Some(query)).expect("fixed query");
    let route = Route {
        op,
        labels: vec![
            ("accountId", state.1[0].clone()),
            ("userId", state.1[1].clone()),
        ],
    };
    let call = Call {
        store: &f.store,
        tokens: &f.tokens,
        principal: &f.principal,
        route: &route,
        query: &query,
        body,
    };
    match f.runtime.block_on(api::dispatch(&call)) {
        Ok(reply) => {
            assert!((200..300).contains(&reply.status), "{operation}: {reply:?}");
            if op == Op::DeleteAccount {
                state.1 = seed(&f.runtime, &f.store);
            }
            let body = reply.body_bytes();
            if !body.is_empty() {
                serde_json::from_slice::<serde_json::Value>(&body)
                    .unwrap_or_else(|e| panic!("{operation}: reply is not JSON ({e})"));
            }
        }
        Err(e) => {
            assert!(
                !matches!(
                    e.kind,
                    ErrorKind::ServiceFailure | ErrorKind::ServiceUnavailable
                ),
                "{operation} failed on its body: {e}"
            );
            assert!((400..500).contains(&e.kind.status()), "{operation}: {e}");
        }
    }
});
