//! Stateless replicas: several Belfry servers on one store (one PostgreSQL database, or one
//! SQLite file) are one service. A write through one is read through another at once; a
//! ListUsers walk continues on any replica with any replica's token; racing writes of one email
//! make one user; replicas starting together migrate a fresh database safely; and a PostgreSQL
//! outage is answered 503 (never 500, never a hang) and healed without a restart, losing no
//! acknowledged write.
//!
//! The outage test runs on PostgreSQL only (`BELFRY_TEST_BACKEND=postgres`); the others run on
//! whichever backend the run tests.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_chime::config::http::HttpResponse;
use aws_sdk_chime::error::{DisplayErrorContext, SdkError};
use aws_sdk_chime::operation::get_user::GetUserError;
use aws_sdk_chime::operation::list_users::ListUsersError;
use aws_sdk_chime::types::{InviteStatus, User};
use belfry::model::{self, email_key};
use belfry::server::{Config, Server};
use belfry::store::{AccessKey, Location, PoolSettings, Store, UserFilter, migrations};
use common::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Barrier, oneshot, watch};
use tokio::task::JoinSet;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The key ListUsers orders by. Email keys are unique within an account, so this alone is a
/// total order of one account's users.
fn order_key(user: &User) -> String {
    email_key(user.primary_email().unwrap_or_default())
}

/// Every user of an account through one client, page by page (200 a page), in order.
async fn list_all(client: &aws_sdk_chime::Client, account_id: &str) -> Vec<User> {
    let mut users = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_users()
            .account_id(account_id)
            .max_results(200)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListUsers: {}", DisplayErrorContext(&e)));
        users.extend(out.users().iter().cloned());
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return users,
        }
    }
}

/// Every user of an account read directly from a store, as `User` JSON objects.
async fn store_users(store: &Store, account_id: &str) -> Vec<serde_json::Value> {
    let mut users = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_users(
                ROOT_AWS_ACCOUNT,
                account_id,
                &UserFilter::default(),
                after.as_deref(),
                200,
            )
            .await
            .unwrap_or_else(|e| panic!("list users in the store: {e}"));
        for doc in page.docs() {
            users.push(serde_json::from_str(doc).expect("stored user JSON"));
        }
        match &page.next {
            Some(next) => after = Some(next.clone()),
            None => return users,
        }
    }
}

/// A SigV4-signed CreateUser on the wire, answering the status and body.
async fn raw_create_user(
    endpoint: &str,
    key: &AccessKey,
    account_id: &str,
    email: &str,
) -> RawResponse {
    raw_request(
        endpoint,
        key,
        "POST",
        &format!("/accounts/{account_id}/users?operation=create"),
        &serde_json::json!({ "Email": email }).to_string(),
    )
    .await
}

/// A server on `store`, spawned; dropping the returned sender stops it.
async fn spawn_server(
    store: Store,
    root: &AccessKey,
) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let server = Server::bind_with_store("127.0.0.1:0", store, Some(root.clone()))
        .await
        .expect("server binds");
    let endpoint = format!("http://{}", server.local_addr());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        server
            .run_until(async move {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
    });
    (endpoint, tx, handle)
}

// ---------------------------------------------------------------------------------------
// 1. A write through one replica is read through the other at once
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_one_replica_are_read_through_another_at_once() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    assert_ne!(a.endpoint, b.endpoint, "two servers");
    let (ca, cb) = (a.client(), b.client());

    // Both directions: A writes and B reads, then B writes and A reads.
    for (round, (writer, reader)) in [(&ca, &cb), (&cb, &ca)].into_iter().enumerate() {
        let name = format!("Replicated {round}");
        let created = writer
            .create_account()
            .name(&name)
            .send()
            .await
            .expect("CreateAccount on the writing replica");
        let account = created.account().expect("Account").clone();
        let account_id = account.account_id().to_string();

        let got = reader
            .get_account()
            .account_id(&account_id)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "GetAccount on the other replica: {}",
                    DisplayErrorContext(&e)
                )
            });
        assert_eq!(
            got.account(),
            Some(&account),
            "GetAccount on the other replica returns the account CreateAccount made"
        );
        let listed = reader
            .list_accounts()
            .name(&name)
            .send()
            .await
            .expect("ListAccounts on the other replica");
        assert_eq!(listed.accounts(), std::slice::from_ref(&account));

        let emails: Vec<String> = (0..3)
            .map(|i| format!("Invitee{i}-{round}@Example.com"))
            .collect();
        let invited = writer
            .invite_users()
            .account_id(&account_id)
            .set_user_email_list(Some(emails.clone()))
            .send()
            .await
            .expect("InviteUsers on the writing replica");
        assert_eq!(invited.invites().len(), 3);
        for invite in invited.invites() {
            assert_eq!(invite.status(), Some(&InviteStatus::Pending), "{invite:?}");
        }
        let made = writer
            .create_user()
            .account_id(&account_id)
            .email(format!("Created-{round}@Example.com"))
            .username("Created")
            .send()
            .await
            .expect("CreateUser on the writing replica");
        let made = made.user().expect("User").clone();

        let got = reader
            .get_user()
            .account_id(&account_id)
            .user_id(made.user_id())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("GetUser on the other replica: {}", DisplayErrorContext(&e))
            });
        assert_eq!(
            got.user(),
            Some(&made),
            "GetUser on the other replica returns the user CreateUser made"
        );

        let on_reader = list_all(reader, &account_id).await;
        let mut want: Vec<String> = emails.iter().map(|e| email_key(e)).collect();
        want.push(email_key(made.primary_email().unwrap_or_default()));
        want.sort();
        let got_keys: Vec<String> = on_reader.iter().map(order_key).collect();
        assert_eq!(
            got_keys, want,
            "ListUsers on the other replica lists every user at once, in order"
        );
        for user in &on_reader {
            if user.user_id() == made.user_id() {
                assert_eq!(user, &made);
                continue;
            }
            assert_eq!(
                user.user_invitation_status(),
                Some(&InviteStatus::Pending),
                "an invited user: {user:?}"
            );
            let one = reader
                .get_user()
                .account_id(&account_id)
                .user_id(user.user_id())
                .send()
                .await
                .expect("GetUser of an invited user on the other replica");
            assert_eq!(one.user(), Some(user));
        }
        assert_eq!(
            list_all(writer, &account_id).await,
            on_reader,
            "both replicas list the same users"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. A ListUsers walk alternating replicas, under concurrent inserts and deletes
// ---------------------------------------------------------------------------------------

/// What one walk saw.
struct Walk {
    /// How many times each user id was listed.
    seen: HashMap<String, usize>,
    pages: usize,
    /// Pages fetched with a token another replica issued.
    crossed: usize,
}

/// Walks ListUsers, page `p` on `clients[(first + p) % 2]` with page sizes cycling through
/// `sizes`, waiting before each page after the first until the writer has made another change.
async fn alternating_walk(
    clients: [aws_sdk_chime::Client; 2],
    account_id: String,
    first: usize,
    sizes: [i32; 3],
    mutations: Arc<AtomicUsize>,
) -> Walk {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut token: Option<String> = None;
    let mut previous_last: Option<String> = None;
    let mut pages = 0usize;
    let mut crossed = 0usize;
    loop {
        let replica = (first + pages) % 2;
        let size = sizes[pages % sizes.len()];
        if token.is_some() {
            crossed += 1;
        }
        let out = clients[replica]
            .list_users()
            .account_id(&account_id)
            .max_results(size)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "walk from replica {first}: page {pages} on replica {replica} with a token \
                     from the other: {}",
                    DisplayErrorContext(&e)
                )
            });
        pages += 1;
        assert!(
            out.users().len() <= size as usize,
            "page {pages} holds {} users, more than max-results {size}",
            out.users().len()
        );
        for user in out.users() {
            let key = order_key(user);
            if let Some(prev) = &previous_last {
                assert!(
                    prev < &key,
                    "walk from replica {first}, page {pages} (replica {replica}): {key:?} comes \
                     after {prev:?}: the order went backwards"
                );
            }
            previous_last = Some(key);
            *seen.entry(user.user_id().to_string()).or_default() += 1;
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Walk {
                seen,
                pages,
                crossed,
            };
        }
        assert!(
            !out.users().is_empty(),
            "empty page {pages} with a NextToken"
        );
        assert!(pages < 1_000, "the walk does not end");
        // Let at least one write land between every two pages.
        let before = mutations.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        while mutations.load(Ordering::SeqCst) == before {
            assert!(Instant::now() < deadline, "the writer made no progress");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_walk_alternating_replicas_is_stable_under_writes() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    let account = a.account("Walk").await;
    let protected = seed_users(&a.store, ROOT_AWS_ACCOUNT, &account, 2_000).await;
    // Users that may be deleted during the walk, interleaved with the protected ones.
    let doomed: Vec<belfry::store::User> = (0..400)
        .map(|i| {
            make_user(
                &account,
                &format!("user{:05}-doomed@example.com", (i * 61) % 10_007),
                model::UserType::PrivateUser,
            )
        })
        .collect();
    a.store
        .insert_users(ROOT_AWS_ACCOUNT, &account, &doomed)
        .await
        .expect("insert deletable users");

    let stop = Arc::new(AtomicBool::new(false));
    let mutations = Arc::new(AtomicUsize::new(0));
    let writer = {
        let stop = stop.clone();
        let mutations = mutations.clone();
        let store = b.store.clone();
        let clients = [a.client(), b.client()];
        let account = account.clone();
        tokio::spawn(async move {
            let mut deletable: Vec<String> = doomed.iter().map(|u| u.user_id.clone()).collect();
            let mut i = 0usize;
            let (mut created, mut invited, mut deleted) = (0usize, 0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let n = || rand::random::<u32>() % 10_007;
                // Inserts go through both replicas in turn.
                let client = &clients[(i / 4) % 2];
                match i % 4 {
                    0 => {
                        let email = format!("User{:05}-new{i}@Example.com", n());
                        let out = client
                            .create_user()
                            .account_id(&account)
                            .email(&email)
                            .send()
                            .await
                            .unwrap_or_else(|e| {
                                panic!("CreateUser during the walk: {}", DisplayErrorContext(&e))
                            });
                        deletable.push(out.user().expect("User").user_id().to_string());
                        created += 1;
                    }
                    2 => {
                        let emails = vec![
                            format!("USER{:05}-inv{i}a@EXAMPLE.COM", n()),
                            format!("user{:05}-inv{i}b@example.com", n()),
                        ];
                        let out = client
                            .invite_users()
                            .account_id(&account)
                            .set_user_email_list(Some(emails))
                            .send()
                            .await
                            .unwrap_or_else(|e| {
                                panic!("InviteUsers during the walk: {}", DisplayErrorContext(&e))
                            });
                        assert!(
                            out.invites()
                                .iter()
                                .all(|inv| inv.status() == Some(&InviteStatus::Pending)),
                            "{out:?}"
                        );
                        invited += 2;
                    }
                    _ if !deletable.is_empty() => {
                        // Directly in the store: delete a random unprotected user.
                        let at = rand::random::<u32>() as usize % deletable.len();
                        let id = deletable.swap_remove(at);
                        store
                            .delete_user(ROOT_AWS_ACCOUNT, &account, &id)
                            .await
                            .unwrap_or_else(|e| panic!("delete during the walk: {e}"));
                        deleted += 1;
                    }
                    _ => {}
                }
                mutations.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
            (created, invited, deleted)
        })
    };

    let started = Instant::now();
    let walks: Vec<_> = [(0usize, [37, 100, 200]), (1, [200, 37, 100])]
        .into_iter()
        .map(|(first, sizes)| {
            tokio::spawn(alternating_walk(
                [a.client(), b.client()],
                account.clone(),
                first,
                sizes,
                mutations.clone(),
            ))
        })
        .collect();
    let mut results = Vec::new();
    for walk in walks {
        results.push(walk.await.expect("walk task"));
    }
    stop.store(true, Ordering::SeqCst);
    let (created, invited, deleted) = writer.await.expect("writer task");
    eprintln!(
        "two walks in {:?}: {} and {} pages; meanwhile {created} created, {invited} invited, \
         {deleted} deleted",
        started.elapsed(),
        results[0].pages,
        results[1].pages
    );
    assert!(
        created + invited >= 5 && deleted >= 5,
        "the writer hardly ran ({created} created, {invited} invited, {deleted} deleted)"
    );

    for (first, walk) in results.iter().enumerate() {
        assert!(
            walk.pages >= 2_000 / 200 && walk.crossed + 1 == walk.pages,
            "walk from replica {first}: {} pages, {} continued on the other replica",
            walk.pages,
            walk.crossed
        );
        let twice: Vec<(&String, &usize)> = walk.seen.iter().filter(|(_, c)| **c > 1).collect();
        assert!(
            twice.is_empty(),
            "walk from replica {first}: users listed more than once: {twice:?}"
        );
        let missing: Vec<&str> = protected
            .iter()
            .filter(|u| !walk.seen.contains_key(&u.user_id))
            .map(|u| u.primary_email.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "walk from replica {first}: {} users present throughout were not listed: {:?}",
            missing.len(),
            &missing[..missing.len().min(20)]
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. Racing writes of one email through two replicas make one user
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_create_user_of_one_email_on_two_replicas_makes_one_user() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    let account = a.account("Race").await;
    const ROUNDS: usize = 20;
    let mut created_ids = Vec::new();
    for round in 0..ROUNDS {
        let emails = [
            format!("Race{round}@Example.com"),
            format!("race{round}@example.com"),
        ];
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for (k, endpoint) in [&a.endpoint, &b.endpoint].into_iter().enumerate() {
            let endpoint = endpoint.clone();
            let root = a.root.clone();
            let account = account.clone();
            // Which replica gets which spelling alternates between rounds.
            let email = emails[(k + round) % 2].clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let response = raw_create_user(&endpoint, &root, &account, &email).await;
                (email, response)
            }));
        }
        let mut responses = Vec::new();
        for task in tasks {
            responses.push(task.await.expect("CreateUser task"));
        }
        let mut statuses: Vec<u16> = responses.iter().map(|(_, r)| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 409],
            "round {round}: one CreateUser wins, the other conflicts: {responses:?}"
        );
        for (email, response) in &responses {
            if response.status == 201 {
                let user = &response.json()["User"];
                assert_eq!(user["PrimaryEmail"], email.as_str(), "{response:?}");
                created_ids.push(user["UserId"].as_str().expect("UserId").to_string());
            } else {
                assert_eq!(
                    response.header("x-amzn-ErrorType"),
                    Some("ConflictException"),
                    "{response:?}"
                );
                assert_eq!(response.json()["Code"], "Conflict", "{response:?}");
            }
        }
        for server in [&a, &b] {
            let listed = server
                .client()
                .list_users()
                .account_id(&account)
                .user_email(&emails[1])
                .send()
                .await
                .expect("ListUsers by email");
            let ids: Vec<&str> = listed.users().iter().map(|u| u.user_id()).collect();
            assert_eq!(
                ids,
                [created_ids[round].as_str()],
                "round {round}: exactly the winner is listed"
            );
        }
    }
    for server in [&a, &b] {
        let all = list_all(&server.client(), &account).await;
        let mut ids: Vec<&str> = all.iter().map(|u| u.user_id()).collect();
        ids.sort_unstable();
        let mut want: Vec<&str> = created_ids.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(ids, want, "one user per raced email, nothing else");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_create_and_invite_of_one_email_on_two_replicas_make_one_user() {
    let a = TestServer::start().await;
    let b = a.replica().await;
    let account = a.account("Race invites").await;
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        // CreateUser on one replica against InviteUsers (of that email and a fresh one) on the
        // other: the email ends up with one user, and exactly one of the two calls made it.
        let email = format!("Both{round}@Example.com");
        let other = format!("fresh{round}@example.com");
        let (create_on, invite_on) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let barrier = Arc::new(Barrier::new(2));
        let create = {
            let (endpoint, root, account) =
                (create_on.endpoint.clone(), a.root.clone(), account.clone());
            let email = email.to_lowercase();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                raw_create_user(&endpoint, &root, &account, &email).await
            })
        };
        let invite = {
            let client = invite_on.client();
            let emails = vec![email.to_uppercase(), other.clone()];
            let account = account.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .invite_users()
                    .account_id(&account)
                    .set_user_email_list(Some(emails))
                    .send()
                    .await
            })
        };
        let created = create.await.expect("CreateUser task");
        let invited = invite.await.expect("InviteUsers task").unwrap_or_else(|e| {
            panic!(
                "round {round}: InviteUsers racing CreateUser failed: {}",
                DisplayErrorContext(&e)
            )
        });
        let statuses: Vec<Option<&InviteStatus>> =
            invited.invites().iter().map(|i| i.status()).collect();
        let want_invite = match created.status {
            201 => InviteStatus::Failed,
            409 => InviteStatus::Pending,
            other => panic!("round {round}: CreateUser answered {other}: {created:?}"),
        };
        assert_eq!(
            statuses,
            [Some(&want_invite), Some(&InviteStatus::Pending)],
            "round {round}: CreateUser answered {}; the invites: {invited:?}",
            created.status
        );
        for server in [&a, &b] {
            let listed = server
                .client()
                .list_users()
                .account_id(&account)
                .user_email(&email)
                .send()
                .await
                .expect("ListUsers by email");
            assert_eq!(listed.users().len(), 1, "round {round}: {listed:?}");
        }
    }
    assert_eq!(list_all(&b.client(), &account).await.len(), 2 * ROUNDS);
}

// ---------------------------------------------------------------------------------------
// 4. A PostgreSQL outage: 503, never 500 or a hang; healed without restart; nothing lost
// ---------------------------------------------------------------------------------------

/// A TCP proxy in front of PostgreSQL with a switch. Cut, it closes every live connection
/// and accepts new ones only to close them at once; restored, it forwards again.
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let (up, state) = watch::channel(true);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    drop(client);
                    continue;
                }
                let mut state = state.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                    // Both sockets close here.
                });
            }
        });
        Proxy {
            addr,
            up,
            accepting,
        }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.up.send_replace(false);
        self.accepting.abort();
    }
}

/// Splits a `postgres://user@host:port/db?params` URL into its upstream `host:port` and a
/// function making the same URL for another `host:port`.
fn reroute(url: &str) -> (String, impl Fn(SocketAddr) -> String) {
    let (scheme, rest) = url.split_once("://").expect("URL scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host.to_string()),
        None => (String::new(), authority.to_string()),
    };
    let upstream = if hostport.contains(':') {
        hostport
    } else {
        format!("{hostport}:5432")
    };
    let (scheme, path) = (scheme.to_string(), path.to_string());
    (upstream, move |addr: SocketAddr| {
        format!("{scheme}://{userinfo}{addr}{path}")
    })
}

/// How one call of the load ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A 2xx answer.
    Success,
    /// A modeled error: status and `x-amzn-ErrorType`.
    Failed(u16, String),
    /// No HTTP answer at all (dispatch failure, broken connection).
    Transport(String),
    /// No answer within [`CALL_LIMIT`].
    TimedOut,
}

/// No call may take longer than this, outage or not.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// One call of the load.
#[derive(Debug, Clone)]
struct Call {
    op: &'static str,
    started: Instant,
    ended: Instant,
    outcome: Outcome,
    /// CreateUser: the email asked for, and the UserId of a 201.
    email: Option<String>,
    user_id: Option<String>,
}

fn sdk_outcome<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Outcome
where
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Outcome::Success,
        Err(SdkError::ServiceError(context)) => {
            let raw = context.raw();
            Outcome::Failed(
                raw.status().as_u16(),
                raw.headers()
                    .get("x-amzn-ErrorType")
                    .unwrap_or_default()
                    .to_string(),
            )
        }
        Err(other) => Outcome::Transport(DisplayErrorContext(&other).to_string()),
    }
}

/// Runs a call under [`CALL_LIMIT`].
async fn bounded<F: Future<Output = Outcome>>(call: F) -> Outcome {
    tokio::time::timeout(CALL_LIMIT, call)
        .await
        .unwrap_or(Outcome::TimedOut)
}

/// Whether the outcome is the answer a client may retry: 503 ServiceUnavailableException.
fn is_unavailable(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Failed(503, shape) if shape == "ServiceUnavailableException")
}

/// A steady load on one server, recording every call: two readers (ListUsers and GetUser
/// through the SDK) and two writers (CreateUser of unique emails, on the wire, to see the 201).
struct Load {
    calls: Arc<Mutex<Vec<Call>>>,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Load {
    fn start(endpoint: &str, root: &AccessKey, account_id: &str, user_ids: Vec<String>) -> Load {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        let client = client_for_endpoint(endpoint, root);
        for reader in 0..2 {
            let (client, account, calls, stop, ids) = (
                client.clone(),
                account_id.to_string(),
                calls.clone(),
                stop.clone(),
                user_ids.clone(),
            );
            tasks.spawn(async move {
                let mut i = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let started = Instant::now();
                    let (op, outcome) = if (i + reader).is_multiple_of(2) {
                        let call = client
                            .list_users()
                            .account_id(&account)
                            .max_results(20)
                            .send();
                        let outcome = bounded(async { sdk_outcome(call.await) }).await;
                        ("ListUsers", outcome)
                    } else {
                        let call = client
                            .get_user()
                            .account_id(&account)
                            .user_id(&ids[i % ids.len()])
                            .send();
                        ("GetUser", bounded(async { sdk_outcome(call.await) }).await)
                    };
                    calls.lock().unwrap().push(Call {
                        op,
                        started,
                        ended: Instant::now(),
                        outcome,
                        email: None,
                        user_id: None,
                    });
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
        }
        for writer in 0..2 {
            let (endpoint, root, account, calls, stop) = (
                endpoint.to_string(),
                root.clone(),
                account_id.to_string(),
                calls.clone(),
                stop.clone(),
            );
            tasks.spawn(async move {
                let mut i = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let email = format!("load-{writer}-{i}@example.com");
                    let started = Instant::now();
                    // raw_request panics on a broken connection: run it as a task to see that.
                    let call = tokio::spawn({
                        let (endpoint, root, account, email) = (
                            endpoint.clone(),
                            root.clone(),
                            account.clone(),
                            email.clone(),
                        );
                        async move { raw_create_user(&endpoint, &root, &account, &email).await }
                    });
                    let mut user_id = None;
                    let outcome = bounded(async {
                        match call.await {
                            Ok(response) if response.status == 201 => {
                                user_id = response.json()["User"]["UserId"]
                                    .as_str()
                                    .map(str::to_string);
                                Outcome::Success
                            }
                            Ok(response) => Outcome::Failed(
                                response.status,
                                response
                                    .header("x-amzn-ErrorType")
                                    .unwrap_or_default()
                                    .to_string(),
                            ),
                            Err(e) => Outcome::Transport(format!("CreateUser on the wire: {e}")),
                        }
                    })
                    .await;
                    calls.lock().unwrap().push(Call {
                        op: "CreateUser",
                        started,
                        ended: Instant::now(),
                        outcome,
                        email: Some(email),
                        user_id,
                    });
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
        }
        Load { calls, stop, tasks }
    }

    /// Stops the load and returns every call it made.
    async fn finish(mut self) -> Vec<Call> {
        self.stop.store(true, Ordering::SeqCst);
        while let Some(done) = self.tasks.join_next().await {
            done.expect("load task");
        }
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

/// Formats an instant relative to `zero`.
fn relative(t: Instant, zero: Instant) -> String {
    if t >= zero {
        format!("+{:?}", t - zero)
    } else {
        format!("-{:?}", zero - t)
    }
}

/// Asserts that every call succeeded or was answered 503 ServiceUnavailableException: no
/// 500, no other error, no broken answer, no call running past [`CALL_LIMIT`].
fn assert_success_or_503(calls: &[Call], zero: Instant) {
    let wrong: Vec<String> = calls
        .iter()
        .filter(|c| c.outcome != Outcome::Success && !is_unavailable(&c.outcome))
        .map(|c| {
            format!(
                "{} started {} took {:?}: {:?}",
                c.op,
                relative(c.started, zero),
                c.ended - c.started,
                c.outcome
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} calls were answered neither with success nor 503 \
         ServiceUnavailableException: {:#?}",
        wrong.len(),
        calls.len(),
        &wrong[..wrong.len().min(30)]
    );
}

/// Audits the load's CreateUser calls against the users a fresh direct store finds in the
/// account: every acknowledged (201) user is there with the UserId the 201 named; every other
/// user made during the load was asked for by a CreateUser answered 503 (its commit landed
/// but its answer did not); the seeded users are all still there.
async fn audit_writes(
    location: &Location,
    account_id: &str,
    seeded: &[belfry::store::User],
    calls: &[Call],
    also_503: &[&str],
) {
    let writes: Vec<&Call> = calls.iter().filter(|c| c.op == "CreateUser").collect();
    let acked: HashMap<&str, &str> = writes
        .iter()
        .filter(|c| c.outcome == Outcome::Success)
        .map(|c| {
            (
                c.email.as_deref().unwrap_or_default(),
                c.user_id.as_deref().expect("UserId of a 201"),
            )
        })
        .collect();
    let unavailable: HashSet<&str> = writes
        .iter()
        .filter(|c| is_unavailable(&c.outcome))
        .map(|c| c.email.as_deref().unwrap_or_default())
        .chain(also_503.iter().copied())
        .collect();
    let direct = Store::open(location)
        .await
        .expect("a fresh direct store opens");
    let users = store_users(&direct, account_id).await;
    let seeded_ids: HashSet<&str> = seeded.iter().map(|u| u.user_id.as_str()).collect();
    let found: HashMap<String, String> = users
        .iter()
        .filter(|u| !seeded_ids.contains(u["UserId"].as_str().unwrap_or_default()))
        .map(|u| {
            (
                u["PrimaryEmail"].as_str().unwrap_or_default().to_string(),
                u["UserId"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        users.len() - found.len(),
        seeded.len(),
        "every seeded user is still there"
    );
    for (email, id) in &acked {
        assert_eq!(
            found.get(*email).map(String::as_str),
            Some(*id),
            "acknowledged CreateUser of {email} is lost"
        );
        direct
            .get_user_doc(ROOT_AWS_ACCOUNT, account_id, id)
            .await
            .unwrap_or_else(|e| panic!("GetUser of acknowledged {email}: {e}"));
    }
    for email in found.keys() {
        assert!(
            acked.contains_key(email.as_str()) || unavailable.contains(email.as_str()),
            "{email} exists but no CreateUser of it was answered 201 or 503"
        );
    }
    eprintln!(
        "{} writes: {} acknowledged and present; {} answered 503, of which {} committed \
         nonetheless",
        writes.len() + also_503.len(),
        acked.len(),
        unavailable.len(),
        found.len() - acked.len()
    );
    assert!(
        acked.len() <= found.len() && found.len() <= acked.len() + unavailable.len(),
        "{} users made by CreateUser; {} acknowledged, {} answered 503",
        found.len(),
        acked.len(),
        unavailable.len()
    );
    direct.close().await;
}

/// Logs the server's errors (`RUST_LOG` overrides), so that a 500 shows its cause.
fn log_server_errors() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "belfry=error".into()),
        )
        .with_test_writer()
        .try_init();
}

/// The pool of the servers under outage: few connections, a short acquire timeout.
const OUTAGE_POOL: PoolSettings = PoolSettings {
    max_connections: 4,
    acquire_timeout: Duration::from_secs(2),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_503_and_heals_without_restart_losing_no_acknowledged_write() {
    if !testing_postgres() {
        eprintln!(
            "skipped on SQLite: this test cuts the network between Belfry and a PostgreSQL \
             server; an embedded SQLite file has no network to cut. It runs with \
             BELFRY_TEST_BACKEND=postgres."
        );
        return;
    }
    log_server_errors();
    let scratch = Scratch::new().await;
    let Location::Url(direct_url) = &scratch.location else {
        panic!("a PostgreSQL scratch store has a URL");
    };
    let (upstream, through) = reroute(direct_url);
    let proxy = Proxy::start(upstream).await;

    // Set up directly: an account, users to read, and two stored (non-root) keys.
    let direct = scratch.open().await;
    let account = direct
        .create_account(ROOT_AWS_ACCOUNT, "Outage")
        .await
        .expect("create account")
        .account_id;
    let seeded = seed_users(&direct, ROOT_AWS_ACCOUNT, &account, 50).await;
    let cached_key = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let fresh_key = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    for key in [&cached_key, &fresh_key] {
        direct.insert_key(key).await.expect("insert key");
    }
    direct.close().await;

    // The server reaches PostgreSQL only through the proxy.
    let store = Store::open_with(&Location::Url(through(proxy.addr)), OUTAGE_POOL)
        .await
        .expect("store opens through the proxy");
    let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let (endpoint, shutdown, serving) = spawn_server(store, &root).await;
    let client = client_for_endpoint(&endpoint, &root);

    // The stored key works, and is cached from now on; the fresh key is not used yet.
    client_for_endpoint(&endpoint, &cached_key)
        .list_users()
        .account_id(&account)
        .max_results(1)
        .send()
        .await
        .expect("a stored key works before the outage");

    let load = Load::start(
        &endpoint,
        &root,
        &account,
        seeded.iter().map(|u| u.user_id.clone()).collect(),
    );

    // Before: 2 s of normal service.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The outage: 5 s, more than twice the acquire timeout.
    proxy.cut();
    let cut_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Auth during the outage: the root key is in memory and the cached key in the key ring,
    // so their requests reach the store and get 503; the fresh key must be looked up in the
    // store, which is unreachable: 503 too, never 401 (it is a valid key).
    for (who, key) in [
        ("root key", &root),
        ("cached stored key", &cached_key),
        ("stored key not used before", &fresh_key),
    ] {
        let call = client_for_endpoint(&endpoint, key)
            .list_users()
            .account_id(&account)
            .send();
        let Ok(result) = tokio::time::timeout(CALL_LIMIT, call).await else {
            panic!("{who}: ListUsers during the outage hung");
        };
        let failure = service_error(result);
        assert!(
            matches!(failure.err, ListUsersError::ServiceUnavailableException(_)),
            "{who}: ListUsers during the outage: {failure:?}"
        );
        failure.assert_wire(503, "ServiceUnavailableException", "ServiceUnavailable");
    }
    let call = client
        .get_user()
        .account_id(&account)
        .user_id(&seeded[0].user_id)
        .send();
    let Ok(result) = tokio::time::timeout(CALL_LIMIT, call).await else {
        panic!("GetUser during the outage hung");
    };
    let failure = service_error(result);
    assert!(
        matches!(failure.err, GetUserError::ServiceUnavailableException(_)),
        "GetUser during the outage: {failure:?}"
    );
    failure.assert_wire(503, "ServiceUnavailableException", "ServiceUnavailable");
    let probe = "probe@example.com";
    let response = tokio::time::timeout(
        CALL_LIMIT,
        raw_create_user(&endpoint, &root, &account, probe),
    )
    .await
    .expect("CreateUser during the outage hung");
    assert_eq!(
        response.status, 503,
        "CreateUser during the outage: {response:?}"
    );
    assert_eq!(
        response.header("x-amzn-ErrorType"),
        Some("ServiceUnavailableException")
    );
    tokio::time::sleep(Duration::from_millis(5_000).saturating_sub(cut_at.elapsed())).await;

    // Restore: service resumes by itself.
    proxy.restore();
    let restored_at = Instant::now();
    let recovered_at = loop {
        let call = client
            .list_users()
            .account_id(&account)
            .max_results(1)
            .send();
        let outcome = bounded(async { sdk_outcome(call.await) }).await;
        if outcome == Outcome::Success {
            break Instant::now();
        }
        assert!(
            is_unavailable(&outcome),
            "while recovering, ListUsers answered {outcome:?}"
        );
        assert!(
            restored_at.elapsed() < Duration::from_secs(15),
            "no recovery 15 s after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let recovery = recovered_at - restored_at;
    client_for_endpoint(&endpoint, &fresh_key)
        .list_users()
        .account_id(&account)
        .max_results(1)
        .send()
        .await
        .expect("the key first used during the outage works after it");

    // After: 2 s of service again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = load.finish().await;

    let before: Vec<&Call> = calls.iter().filter(|c| c.ended < cut_at).collect();
    // Calls in flight at the cut may have finished either way; calls started well after it
    // and ended before the restore had no database.
    let during: Vec<&Call> = calls
        .iter()
        .filter(|c| c.started >= cut_at + Duration::from_millis(250) && c.ended <= restored_at)
        .collect();
    let after: Vec<&Call> = calls
        .iter()
        .filter(|c| c.started >= recovered_at + Duration::from_millis(500))
        .collect();
    eprintln!(
        "{} calls: {} before the cut, {} within the outage, {} after recovery; recovery took \
         {recovery:?} after the restore ({} after the cut)",
        calls.len(),
        before.len(),
        during.len(),
        after.len(),
        relative(recovered_at, cut_at)
    );
    assert_success_or_503(&calls, cut_at);
    assert!(
        before.len() >= 10 && before.iter().all(|c| c.outcome == Outcome::Success),
        "before the outage, {} calls, not all successful",
        before.len()
    );
    assert!(
        during.len() >= 10 && during.iter().all(|c| is_unavailable(&c.outcome)),
        "during the outage, {} calls, not all 503",
        during.len()
    );
    assert!(
        recovery < Duration::from_secs(5),
        "service resumed only {recovery:?} after PostgreSQL came back"
    );
    for c in &after {
        assert_eq!(
            c.outcome,
            Outcome::Success,
            "{} started {} after recovery",
            c.op,
            relative(c.started, cut_at)
        );
    }
    assert!(
        after.len() >= 10,
        "the load hardly ran after recovery ({} calls)",
        after.len()
    );

    shutdown.send(()).expect("server still running");
    tokio::time::timeout(CALL_LIMIT, serving)
        .await
        .expect("server stops")
        .expect("server task");
    audit_writes(&scratch.location, &account, &seeded, &calls, &[probe]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backends_terminated_under_load_are_503_never_500() {
    if !testing_postgres() {
        eprintln!(
            "skipped on SQLite: this test has PostgreSQL terminate the server's backends \
             (SQLSTATE 57P01); SQLite has no server. It runs with BELFRY_TEST_BACKEND=postgres."
        );
        return;
    }
    log_server_errors();
    let scratch = Scratch::new().await;
    let Location::Url(direct_url) = scratch.location.clone() else {
        panic!("a PostgreSQL scratch store has a URL");
    };
    let direct = scratch.open().await;
    let account = direct
        .create_account(ROOT_AWS_ACCOUNT, "Terminated")
        .await
        .expect("create account")
        .account_id;
    let seeded = seed_users(&direct, ROOT_AWS_ACCOUNT, &account, 50).await;
    direct.close().await;

    let store = Store::open_with(&scratch.location, OUTAGE_POOL)
        .await
        .expect("store opens");
    let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
    let (endpoint, shutdown, serving) = spawn_server(store, &root).await;
    let load = Load::start(
        &endpoint,
        &root,
        &account,
        seeded.iter().map(|u| u.user_id.clone()).collect(),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    // What `pg_terminate_backend` (an administrator, a failover, a restart) does to every
    // connection of the server: it ends with FATAL 57P01, idle or mid-transaction.
    let started = Instant::now();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&direct_url)
        .await
        .expect("admin connection");
    let mut terminated = 0i64;
    for _ in 0..10 {
        terminated += sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
        )
        .fetch_one(&mut admin)
        .await
        .expect("terminate backends");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let calls = load.finish().await;

    let unavailable = calls.iter().filter(|c| is_unavailable(&c.outcome)).count();
    let after: Vec<&Call> = calls
        .iter()
        .filter(|c| c.started >= last_at + Duration::from_millis(500))
        .collect();
    eprintln!(
        "{terminated} backends terminated; {} calls, {unavailable} answered 503, {} after the \
         last termination",
        calls.len(),
        after.len()
    );
    assert!(terminated >= 10, "only {terminated} backends terminated");
    assert_success_or_503(&calls, started);
    assert!(
        after.len() >= 10 && after.iter().all(|c| c.outcome == Outcome::Success),
        "after the terminations, {} calls, not all successful",
        after.len()
    );

    shutdown.send(()).expect("server still running");
    tokio::time::timeout(CALL_LIMIT, serving)
        .await
        .expect("server stops")
        .expect("server task");
    audit_writes(&scratch.location, &account, &seeded, &calls, &[]).await;
}

// ---------------------------------------------------------------------------------------
// 5. Replicas starting together on a fresh database
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_a_fresh_database_all_migrate_to_one_secret() {
    const REPLICAS: usize = 4;
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        let scratch = Scratch::new().await;
        let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
        let barrier = Arc::new(Barrier::new(REPLICAS));
        let mut starting = JoinSet::new();
        for i in 0..REPLICAS {
            let config = Config {
                listen: "127.0.0.1:0".into(),
                location: scratch.location.clone(),
                root_key: Some(root.clone()),
            };
            let barrier = barrier.clone();
            starting.spawn(async move {
                barrier.wait().await;
                (i, Server::bind(&config).await.map_err(|e| e.to_string()))
            });
        }
        let mut servers = Vec::new();
        let mut failures = Vec::new();
        while let Some(started) = starting.join_next().await {
            match started.expect("start task") {
                (i, Ok(server)) => servers.push((i, server)),
                (i, Err(e)) => failures.push(format!("replica {i}: {e}")),
            }
        }
        assert!(
            failures.is_empty(),
            "round {round}: {} of {REPLICAS} replicas starting together on a fresh database \
             failed: {failures:?}",
            failures.len()
        );
        servers.sort_by_key(|(i, _)| *i);
        let secrets: HashSet<[u8; 32]> = servers
            .iter()
            .map(|(_, s)| *s.store().token_secret())
            .collect();
        assert_eq!(secrets.len(), 1, "round {round}: one page-token secret");
        let store = servers[0].1.store().clone();
        assert_eq!(
            store.meta("schema_version").await.expect("meta"),
            Some(migrations::latest().to_string())
        );

        let mut running = Vec::new();
        let mut endpoints = Vec::new();
        for (_, server) in servers {
            endpoints.push(format!("http://{}", server.local_addr()));
            let (tx, rx) = oneshot::channel::<()>();
            let handle = tokio::spawn(server.run_until(async move {
                let _ = rx.await;
            }));
            running.push((tx, handle));
        }

        // A walk of 7 users, 2 a page, each page on the next replica.
        let account = store
            .create_account(ROOT_AWS_ACCOUNT, "Migrated")
            .await
            .expect("create account")
            .account_id;
        let mut users = seed_users(&store, ROOT_AWS_ACCOUNT, &account, 7).await;
        sort_users(&mut users);
        let mut listed = Vec::new();
        let mut token: Option<String> = None;
        for page in 0.. {
            let replica = page % REPLICAS;
            let out = client_for_endpoint(&endpoints[replica], &root)
                .list_users()
                .account_id(&account)
                .max_results(2)
                .set_next_token(token.take())
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "round {round}: page {page} on replica {replica}, with the previous \
                         replica's token: {}",
                        DisplayErrorContext(&e)
                    )
                });
            listed.extend(out.users().iter().map(|u| u.user_id().to_string()));
            match out.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
            assert!(page < 10, "the walk does not end");
        }
        let want: Vec<String> = users.iter().map(|u| u.user_id.clone()).collect();
        assert_eq!(listed, want, "round {round}: the walk across four replicas");

        for (tx, handle) in running {
            let _ = tx.send(());
            tokio::time::timeout(CALL_LIMIT, handle)
                .await
                .expect("server stops")
                .expect("server task")
                .expect("server runs");
        }
        store.close().await;
    }
}
