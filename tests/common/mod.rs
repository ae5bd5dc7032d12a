//! Shared harness of the integration tests: a Belfry server on a temporary store, bound to a
//! free port and spawned on the test's tokio runtime, with aws-sdk-chime clients for its keys,
//! a raw SigV4-signed HTTP client for wire-level checks, helpers to seed users in bulk, and the
//! SDK calls and checks that several modules of the `chime` test binary share.

#![allow(dead_code)]

use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::SystemTime;

use aws_sdk_chime::Client;
use aws_sdk_chime::config::http::HttpResponse;
use aws_sdk_chime::config::retry::RetryConfig;
use aws_sdk_chime::config::{BehaviorVersion, Region};
use aws_sdk_chime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_chime::operation::associate_phone_number_with_user::{
    AssociatePhoneNumberWithUserError, AssociatePhoneNumberWithUserOutput,
};
use aws_sdk_chime::primitives::DateTime;
use aws_sdk_chime::types::User as SdkUser;
use aws_sdk_chime::types::builders::UpdateUserRequestItemBuilder;
use aws_sdk_chime::types::error::{
    BadRequestException, ConflictException, ForbiddenException, NotFoundException,
    ResourceLimitExceededException, UnauthorizedClientException,
};
use aws_sdk_chime::types::{
    Account, AlexaForBusinessMetadata, ErrorCode, InviteStatus, MembershipItem, RoomMembershipRole,
    TelephonySettings, UpdateUserRequestItem, UserError, UserSettings,
};
use belfry::model::{License, RegistrationStatus, UserType, email_key};
use belfry::server::{Server, ServerOptions};
use belfry::store::{AccessKey, Limits, Location, Store, User, generate_pin};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// The AWS account id of the root key.
pub const ROOT_AWS_ACCOUNT: &str = "111111111111";

/// The admin token of a server started by [`TestServer::start_with_admin`].
pub const ADMIN_TOKEN: &str = "belfry-test-admin-token";

// ---------------------------------------------------------------------------------------
// Scratch stores: SQLite by default, PostgreSQL with BELFRY_TEST_BACKEND=postgres
// ---------------------------------------------------------------------------------------

/// The PostgreSQL server the tests use, without a database name.
fn postgres_base_url() -> String {
    std::env::var("BELFRY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// Whether this run tests the PostgreSQL backend (`BELFRY_TEST_BACKEND=postgres`).
pub fn testing_postgres() -> bool {
    std::env::var("BELFRY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A store location that exists for one test: a temporary directory, or a uniquely named
/// PostgreSQL database that is dropped when this value is.
pub struct Scratch {
    pub location: Location,
    database: Option<String>,
    _dir: TempDir,
}

impl Scratch {
    /// A fresh location on the backend this run tests.
    pub async fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("temporary directory");
        if !testing_postgres() {
            return Scratch {
                location: Location::Dir(dir.path().join("data")),
                database: None,
                _dir: dir,
            };
        }
        let name = format!("belfry_test_{}", uuid::Uuid::new_v4().simple());
        let admin = format!("{}/postgres", postgres_base_url());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required by this run: {e}"));
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
        )
        .await
        .expect("create test database");
        Scratch {
            location: Location::Url(format!("{}/{name}", postgres_base_url())),
            database: Some(name),
            _dir: dir,
        }
    }

    /// Opens a store on this location.
    pub async fn open(&self) -> Store {
        Store::open(&self.location).await.expect("store opens")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(name) = self.database.take() else {
            return;
        };
        // Drop may run inside a runtime; use a thread of its own to reach PostgreSQL.
        let admin = format!("{}/postgres", postgres_base_url());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::Executor::execute(
                    &mut conn,
                    sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
                )
                .await
                .map(|_| ())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop a test database: {dropped:?}");
        }
    }
}

/// A running server on its own temporary store.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The store the server serves (the same database, usable directly).
    pub store: Store,
    /// The root key (read-write, AWS account [`ROOT_AWS_ACCOUNT`]).
    pub root: AccessKey,
    shutdown: Option<oneshot::Sender<()>>,
    // Declared last: the store must outlive the server using it.
    scratch: Scratch,
}

impl TestServer {
    /// Opens a store in a fresh temporary directory, binds a server on a free port and spawns it.
    pub async fn start() -> TestServer {
        Self::start_with(ServerOptions::default()).await
    }

    /// Like [`TestServer::start`], with these options (a fresh root key replaces theirs).
    pub async fn start_with(options: ServerOptions) -> TestServer {
        let scratch = Scratch::new().await;
        let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
        Self::serve(scratch, root, options).await
    }

    /// A server whose admin API answers to [`ADMIN_TOKEN`] ([`TestServer::admin`]).
    pub async fn start_with_admin() -> TestServer {
        Self::start_with(ServerOptions {
            admin_token: Some(ADMIN_TOKEN.to_string()),
            ..ServerOptions::default()
        })
        .await
    }

    /// A server (with the admin API on) whose store has these limits on rooms, memberships
    /// and bots.
    pub async fn start_with_limits(limits: Limits) -> TestServer {
        let scratch = Scratch::new().await;
        let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
        let options = ServerOptions {
            admin_token: Some(ADMIN_TOKEN.to_string()),
            ..ServerOptions::default()
        };
        Self::serve_with_limits(scratch, root, options, limits).await
    }

    /// A server (with the admin API on) whose simulated carrier takes `processing` to process a
    /// phone number order.
    pub async fn start_with_order_processing(processing: std::time::Duration) -> TestServer {
        let scratch = Scratch::new().await;
        let root = AccessKey::generate(ROOT_AWS_ACCOUNT, false);
        let options = ServerOptions {
            admin_token: Some(ADMIN_TOKEN.to_string()),
            ..ServerOptions::default()
        };
        Self::serve_with_store(scratch, root, options, |store| {
            store.with_order_processing(processing)
        })
        .await
    }

    /// Binds a server for `root` on the scratch store and spawns it.
    async fn serve(scratch: Scratch, root: AccessKey, options: ServerOptions) -> TestServer {
        Self::serve_with_limits(scratch, root, options, Limits::default()).await
    }

    async fn serve_with_limits(
        scratch: Scratch,
        root: AccessKey,
        options: ServerOptions,
        limits: Limits,
    ) -> TestServer {
        Self::serve_with_store(scratch, root, options, |store| store.with_limits(limits)).await
    }

    /// Binds a server on the scratch store, set up by `setup`, and spawns it.
    async fn serve_with_store(
        scratch: Scratch,
        root: AccessKey,
        options: ServerOptions,
        setup: impl FnOnce(Store) -> Store,
    ) -> TestServer {
        let store = setup(scratch.open().await);
        let options = ServerOptions {
            root_key: Some(root.clone()),
            ..options
        };
        let server = Server::bind_with("127.0.0.1:0", store, options)
            .await
            .expect("server binds");
        let endpoint = format!("http://{}", server.local_addr());
        let store = server.store().clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run_until(async move {
            let _ = rx.await;
        }));
        TestServer {
            endpoint,
            store,
            root,
            shutdown: Some(tx),
            scratch,
        }
    }

    /// Another server (a replica) on the same store, with the same root key.
    pub async fn replica(&self) -> TestServer {
        // The replica owns no database of its own: dropping it drops nothing.
        let scratch = Scratch {
            location: self.scratch.location.clone(),
            database: None,
            _dir: tempfile::tempdir().expect("temporary directory"),
        };
        Self::serve(scratch, self.root.clone(), ServerOptions::default()).await
    }

    /// Where the store is: what `--data` or `--database-url` of another process names.
    pub fn location(&self) -> &Location {
        &self.scratch.location
    }

    /// A client signing with the root key.
    pub fn client(&self) -> aws_sdk_chime::Client {
        self.client_for(&self.root)
    }

    /// A client signing with `key` (which need not exist in the store).
    pub fn client_for(&self, key: &AccessKey) -> aws_sdk_chime::Client {
        client_for_endpoint(&self.endpoint, key)
    }

    /// A new random key for `aws_account_id`, stored so that the server accepts it.
    pub async fn new_key(&self, aws_account_id: &str, read_only: bool) -> AccessKey {
        let key = AccessKey::generate(aws_account_id, read_only);
        self.store.insert_key(&key).await.expect("insert key");
        key
    }

    /// A Chime account owned by the root key's AWS account, made directly in the store.
    pub async fn account(&self, name: &str) -> String {
        self.store
            .create_account(ROOT_AWS_ACCOUNT, name)
            .await
            .expect("create account")
            .account_id
    }

    /// A call of the admin API (`path` after `/_belfry/`) with [`ADMIN_TOKEN`]: the status and
    /// the body as JSON (`Null` when empty).
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}/_belfry/{path}", self.endpoint);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = reqwest::Client::new()
            .request(method, url)
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("admin call answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("admin body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("admin body {text:?}: {e}"))
        };
        (status, json)
    }

    /// Posts a message as `sender_id` through the admin API to `messages_path` (a room's or a
    /// conversation's `.../messages`), which must accept it (201): the body.
    pub async fn post_message(
        &self,
        messages_path: &str,
        sender_id: &str,
        content: &str,
    ) -> serde_json::Value {
        let (status, posted) = self
            .admin(
                "POST",
                messages_path,
                Some(serde_json::json!({ "SenderId": sender_id, "Content": content })),
            )
            .await;
        assert_eq!(status, 201, "message {content:?} posted: {posted}");
        posted
    }

    /// A raw SigV4-signed request with the root key, for checks the SDK cannot make.
    pub async fn raw(&self, method: &str, path_and_query: &str, body: &str) -> RawResponse {
        raw_request(&self.endpoint, &self.root, method, path_and_query, body).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An aws-sdk-chime client for `endpoint` with `key`, retries disabled.
pub fn client_for_endpoint(endpoint: &str, key: &AccessKey) -> aws_sdk_chime::Client {
    let credentials = aws_credential_types::Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        None,
        None,
        "belfry-tests",
    );
    let config = aws_sdk_chime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_chime::Client::from_conf(config)
}

// ---------------------------------------------------------------------------------------
// Seeding users
// ---------------------------------------------------------------------------------------

/// A `User` as CreateUser would make it, with the given email and type.
pub fn make_user(account_id: &str, email: &str, user_type: UserType) -> User {
    User {
        user_id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.to_string(),
        primary_email: email.to_string(),
        primary_provisioned_number: None,
        display_name: Some(format!("Display {email}")),
        license_type: License::Pro,
        user_type,
        registration_status: RegistrationStatus::Unregistered,
        invitation_status: None,
        registered_on_ms: None,
        invited_on_ms: None,
        alexa: None,
        personal_pin: generate_pin(),
    }
}

/// The user type of the `i`-th seeded user: every third one is a `SharedDevice`.
pub fn seeded_type(i: usize) -> UserType {
    if i % 3 == 2 {
        UserType::SharedDevice
    } else {
        UserType::PrivateUser
    }
}

/// The email of the `i`-th seeded user. Case varies, and emails are not created in their
/// listing order, so that the listing really sorts.
pub fn seeded_email(i: usize) -> String {
    // A permutation of 0..10_007 so that creation order is not email order.
    let n = (i * 7_919) % 10_007;
    match i % 4 {
        0 => format!("user{n:05}@example.com"),
        1 => format!("User{n:05}@Example.com"),
        2 => format!("USER{n:05}@EXAMPLE.COM"),
        _ => format!("uSer{n:05}-é@example.org"),
    }
}

/// Creates `n` users in the account in one transaction (see [`seeded_email`] and
/// [`seeded_type`]) and returns them.
pub async fn seed_users(store: &Store, owner: &str, account_id: &str, n: usize) -> Vec<User> {
    let users: Vec<User> = (0..n)
        .map(|i| make_user(account_id, &seeded_email(i), seeded_type(i)))
        .collect();
    store
        .insert_users(owner, account_id, &users)
        .await
        .expect("insert users");
    users
}

/// The ListUsers order: email case-insensitively (Unicode lower case), then user id.
pub fn sort_users(users: &mut [User]) {
    users.sort_by(|a, b| {
        (email_key(&a.primary_email), &a.user_id).cmp(&(email_key(&b.primary_email), &b.user_id))
    });
}

/// A user of `account_id` put directly in the store with the given status.
pub async fn seed_user_with_status(
    server: &TestServer,
    account_id: &str,
    email: &str,
    status: RegistrationStatus,
) -> String {
    let mut user = make_user(account_id, email, UserType::PrivateUser);
    user.registration_status = status;
    if status == RegistrationStatus::Registered {
        user.registered_on_ms = Some(now_millis() - 86_400_000);
    }
    server
        .store
        .insert_users(ROOT_AWS_ACCOUNT, account_id, std::slice::from_ref(&user))
        .await
        .expect("insert user");
    user.user_id
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// What a failed call returned, for error assertions.
#[derive(Debug)]
pub struct Failure<E> {
    /// The typed (modeled) error.
    pub err: E,
    pub status: u16,
    /// The `x-amzn-ErrorType` header.
    pub error_type: Option<String>,
    /// The `x-amzn-RequestId` header.
    pub request_id: Option<String>,
    /// The body, parsed as JSON (`Null` if it was not JSON).
    pub body: serde_json::Value,
}

impl<E: ProvideErrorMetadata> Failure<E> {
    /// The error message the SDK parsed.
    pub fn message(&self) -> String {
        self.err.message().unwrap_or_default().to_string()
    }

    /// Asserts the wire shape every Belfry error has: status, `x-amzn-ErrorType`, a body of
    /// `Code` and `Message`, and a request id.
    pub fn assert_wire(&self, status: u16, shape: &str, code: &str) {
        assert_eq!(
            self.status, status,
            "HTTP status of {shape}: {:?}",
            self.body
        );
        assert_eq!(self.error_type.as_deref(), Some(shape), "x-amzn-ErrorType");
        assert_eq!(self.body["Code"], code, "Code member: {:?}", self.body);
        assert!(
            self.body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "Message member: {:?}",
            self.body
        );
        assert_eq!(self.err.code(), Some(shape), "error code the SDK parsed");
        assert!(
            self.request_id.as_deref().is_some_and(|id| !id.is_empty()),
            "x-amzn-RequestId on an error"
        );
    }
}

/// The service error of a call that must fail with one; panics on success or on any other
/// kind of failure (construction, dispatch, unparseable response).
pub fn service_error<T: Debug, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Failure<E> {
    match result {
        Ok(output) => panic!("expected a service error, got success: {output:?}"),
        Err(SdkError::ServiceError(context)) => {
            let raw = context.raw();
            let status = raw.status().as_u16();
            let error_type = raw.headers().get("x-amzn-ErrorType").map(str::to_string);
            let request_id = raw.headers().get("x-amzn-RequestId").map(str::to_string);
            let body = raw
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(serde_json::Value::Null);
            Failure {
                err: context.into_err(),
                status,
                error_type,
                request_id,
                body,
            }
        }
        Err(other) => panic!(
            "expected a service error, got: {}",
            DisplayErrorContext(&other)
        ),
    }
}

/// A modeled exception a call must fail with: the typed exception `X` that the operation's
/// error holds, and its wire shape (HTTP status, `x-amzn-ErrorType`, the body's `Code`).
pub struct Expected<X> {
    pub status: u16,
    pub shape: &'static str,
    pub code: &'static str,
    exception: PhantomData<fn() -> X>,
}

const fn expected<X>(status: u16, shape: &'static str, code: &'static str) -> Expected<X> {
    Expected {
        status,
        shape,
        code,
        exception: PhantomData,
    }
}

pub const BAD_REQUEST: Expected<BadRequestException> =
    expected(400, "BadRequestException", "BadRequest");
pub const UNAUTHORIZED: Expected<UnauthorizedClientException> =
    expected(401, "UnauthorizedClientException", "Unauthorized");
pub const FORBIDDEN: Expected<ForbiddenException> =
    expected(403, "ForbiddenException", "Forbidden");
pub const NOT_FOUND: Expected<NotFoundException> = expected(404, "NotFoundException", "NotFound");
pub const CONFLICT: Expected<ConflictException> = expected(409, "ConflictException", "Conflict");
pub const RESOURCE_LIMIT_EXCEEDED: Expected<ResourceLimitExceededException> = expected(
    400,
    "ResourceLimitExceededException",
    "ResourceLimitExceeded",
);

/// The service error of a call that must fail with `expected`: the operation's typed error
/// is the modeled exception (its variant holds an `X`, which is what the SDK's
/// `is_*_exception()` checks), with the wire shape of [`Failure::assert_wire`]. `what`
/// names the call in the assertions' messages.
pub fn expect_error<X, T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    expected: Expected<X>,
    what: &str,
) -> Failure<E>
where
    X: std::error::Error + 'static,
    T: Debug,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let f = service_error(result);
    assert!(
        std::error::Error::source(&f.err).is_some_and(|inner| inner.is::<X>()),
        "{what}: expected the typed {}, got {:?}",
        std::any::type_name::<X>(),
        f.err
    );
    f.assert_wire(expected.status, expected.shape, expected.code);
    f
}

/// What one SDK call answered, reduced to what a table of calls compares: success, or the
/// HTTP status, `x-amzn-ErrorType` and message of an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireOutcome {
    Success,
    Error {
        status: u16,
        error_type: Option<String>,
        /// The error code the SDK parsed (what picks the typed exception).
        code: Option<String>,
        message: String,
    },
}

impl WireOutcome {
    /// `(status, x-amzn-ErrorType)` of an error; `None` on success.
    pub fn error(&self) -> Option<(u16, Option<&str>)> {
        match self {
            WireOutcome::Success => None,
            WireOutcome::Error {
                status, error_type, ..
            } => Some((*status, error_type.as_deref())),
        }
    }

    /// The error code the SDK parsed; `None` on success.
    pub fn code(&self) -> Option<&str> {
        match self {
            WireOutcome::Success => None,
            WireOutcome::Error { code, .. } => code.as_deref(),
        }
    }

    /// The error message (empty on success).
    pub fn message(&self) -> &str {
        match self {
            WireOutcome::Success => "",
            WireOutcome::Error { message, .. } => message,
        }
    }
}

/// Reduces any SDK call's result to a [`WireOutcome`], through the raw response of the
/// error. Panics when no response came back (construction or dispatch failure).
pub fn wire_outcome<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> WireOutcome
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let err = match result {
        Ok(_) => return WireOutcome::Success,
        Err(err) => err,
    };
    let Some(raw) = err.raw_response() else {
        panic!("no response to the call: {}", DisplayErrorContext(&err));
    };
    WireOutcome::Error {
        status: raw.status().as_u16(),
        error_type: raw.headers().get("x-amzn-ErrorType").map(str::to_string),
        code: err.code().map(str::to_string),
        message: err.message().unwrap_or_default().to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Checks of values
// ---------------------------------------------------------------------------------------

/// Whether `s` is a lower-case UUID version 4 (RFC 4122 variant).
pub fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// Whether `s` is an ISO 8601 UTC instant with milliseconds: `2019-01-04T17:11:22.003Z`.
pub fn is_iso8601_millis(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

// ---------------------------------------------------------------------------------------
// SDK calls and checks shared by the modules of tests/chime
// ---------------------------------------------------------------------------------------

/// An id that names nothing.
pub fn missing_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A valid Alexa for Business room ARN.
pub const ROOM_ARN: &str = "arn:aws:a4b:us-east-1:123456789012:room/abc";

/// CreateAccount, which must succeed: the account.
pub async fn create_account(client: &Client, name: &str) -> Account {
    client
        .create_account()
        .name(name)
        .send()
        .await
        .expect("CreateAccount")
        .account
        .expect("Account")
}

/// GetAccount, which must succeed: the account.
pub async fn get_account(client: &Client, account_id: &str) -> Account {
    client
        .get_account()
        .account_id(account_id)
        .send()
        .await
        .expect("GetAccount")
        .account
        .expect("Account")
}

/// CreateUser, which must succeed: the user.
pub async fn create_user(client: &Client, account_id: &str, email: &str) -> SdkUser {
    client
        .create_user()
        .account_id(account_id)
        .email(email)
        .send()
        .await
        .expect("CreateUser")
        .user
        .expect("User")
}

/// GetUser, which must succeed: the user.
pub async fn get_user(client: &Client, account_id: &str, user_id: &str) -> SdkUser {
    client
        .get_user()
        .account_id(account_id)
        .user_id(user_id)
        .send()
        .await
        .expect("GetUser")
        .user
        .expect("User")
}

/// Every user of the account, walking ListUsers to its end.
pub async fn list_all(client: &Client, account_id: &str) -> Vec<SdkUser> {
    let mut users = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_users()
            .account_id(account_id)
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListUsers");
        users.extend(page.users().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return users,
        }
    }
}

/// Every account of the client's AWS account.
pub async fn list_accounts(client: &Client) -> Vec<Account> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_accounts()
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListAccounts");
        accounts.extend(page.accounts().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return accounts,
        }
    }
}

/// Asserts that GetUser and ListUsers (unfiltered, and filtered by the user's email) both
/// show exactly `expected`, as the operation that changed the user returned it.
pub async fn assert_visible(client: &Client, expected: &SdkUser) {
    let account_id = expected.account_id().expect("AccountId");
    let got = get_user(client, account_id, expected.user_id()).await;
    assert_eq!(&got, expected, "GetUser shows the change");
    let listed: Vec<SdkUser> = list_all(client, account_id)
        .await
        .into_iter()
        .filter(|u| u.user_id() == expected.user_id())
        .collect();
    assert_eq!(listed, vec![expected.clone()], "ListUsers shows the change");
    let filtered = client
        .list_users()
        .account_id(account_id)
        .user_email(expected.primary_email().expect("PrimaryEmail"))
        .send()
        .await
        .expect("ListUsers by email");
    assert_eq!(
        filtered.users(),
        std::slice::from_ref(expected),
        "ListUsers filtered by email shows the change"
    );
}

/// The members of a user that no lifecycle operation but the named ones may change.
#[derive(Debug, PartialEq)]
pub struct Identity {
    user_id: String,
    account_id: Option<String>,
    primary_email: Option<String>,
    display_name: Option<String>,
    invitation_status: Option<InviteStatus>,
    registered_on: Option<aws_sdk_chime::primitives::DateTime>,
    invited_on: Option<aws_sdk_chime::primitives::DateTime>,
}

/// The [`Identity`] of a user.
pub fn identity(u: &SdkUser) -> Identity {
    Identity {
        user_id: u.user_id().to_string(),
        account_id: u.account_id().map(str::to_string),
        primary_email: u.primary_email().map(str::to_string),
        display_name: u.display_name().map(str::to_string),
        invitation_status: u.user_invitation_status().cloned(),
        registered_on: u.registered_on().cloned(),
        invited_on: u.invited_on().cloned(),
    }
}

/// User settings with these telephony members.
pub fn telephony(inbound: bool, outbound: bool, sms: bool) -> UserSettings {
    UserSettings::builder()
        .telephony(
            TelephonySettings::builder()
                .inbound_calling(inbound)
                .outbound_calling(outbound)
                .sms(sms)
                .build()
                .expect("TelephonySettings"),
        )
        .build()
}

/// GetUserSettings, which must succeed: (InboundCalling, OutboundCalling, SMS).
pub async fn user_settings(client: &Client, account_id: &str, user_id: &str) -> (bool, bool, bool) {
    let out = client
        .get_user_settings()
        .account_id(account_id)
        .user_id(user_id)
        .send()
        .await
        .expect("GetUserSettings");
    let t = out
        .user_settings()
        .and_then(UserSettings::telephony)
        .expect("UserSettings.Telephony");
    (t.inbound_calling(), t.outbound_calling(), t.sms())
}

/// GetAccountSettings, which must succeed: (DisableRemoteControl, EnableDialOut).
pub async fn account_settings(client: &Client, account_id: &str) -> (Option<bool>, Option<bool>) {
    let out = client
        .get_account_settings()
        .account_id(account_id)
        .send()
        .await
        .expect("GetAccountSettings");
    let s = out.account_settings().expect("AccountSettings");
    (s.disable_remote_control(), s.enable_dial_out())
}

/// A BatchUpdateUser item for the user, to be given members.
pub fn item(user_id: &str) -> UpdateUserRequestItemBuilder {
    UpdateUserRequestItem::builder().user_id(user_id)
}

/// The item, built.
pub fn built(b: UpdateUserRequestItemBuilder) -> UpdateUserRequestItem {
    b.build().expect("UpdateUserRequestItem")
}

/// Alexa for Business metadata.
pub fn alexa(enabled: bool, arn: &str) -> AlexaForBusinessMetadata {
    AlexaForBusinessMetadata::builder()
        .is_alexa_for_business_enabled(enabled)
        .alexa_for_business_room_arn(arn)
        .build()
}

/// Asserts that a batch reported exactly `ids` as not found, each with a message.
pub fn assert_not_found_errors(errors: &[UserError], ids: &[&str]) {
    let got: Vec<&str> = errors.iter().filter_map(UserError::user_id).collect();
    assert_eq!(got, ids, "UserErrors name the unknown users: {errors:?}");
    for e in errors {
        assert_eq!(e.error_code(), Some(&ErrorCode::NotFound), "{e:?}");
        assert!(
            e.error_message().is_some_and(|m| !m.is_empty()),
            "UserError message: {e:?}"
        );
    }
}

/// Brings `numbers` into the caller's phone-number inventory as Business Calling numbers:
/// CreatePhoneNumberOrder, then GetPhoneNumberOrder, by which the order is processed. A number
/// the inventory holds already fails alone in the order, and a malformed one makes the order a
/// BadRequest: either way the inventory is as the number's association needs it to be tested.
pub async fn provision(client: &Client, numbers: &[&str]) {
    let Ok(order) = client
        .create_phone_number_order()
        .product_type(aws_sdk_chime::types::PhoneNumberProductType::BusinessCalling)
        .set_e164_phone_numbers(Some(numbers.iter().map(|n| n.to_string()).collect()))
        .send()
        .await
    else {
        return;
    };
    let id = order
        .phone_number_order()
        .and_then(|o| o.phone_number_order_id())
        .expect("an order id");
    client
        .get_phone_number_order()
        .phone_number_order_id(id)
        .send()
        .await
        .expect("GetPhoneNumberOrder");
}

/// A raw connection to the database behind `location`, with no Belfry code in the way.
pub async fn raw_connection(location: &Location) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match location {
        Location::Dir(dir) => {
            std::fs::create_dir_all(dir).expect("data directory");
            format!("sqlite://{}?mode=rwc", dir.join("belfry.db").display())
        }
        Location::Url(url) => url.clone(),
        Location::Memory => unreachable!("scratch stores are on disk"),
    };
    sqlx::AnyConnection::connect(&url)
        .await
        .expect("raw connection")
}

/// AssociatePhoneNumberWithUser of a number the inventory does not need to hold.
pub async fn associate_only(
    client: &Client,
    account_id: &str,
    user_id: &str,
    number: &str,
) -> Result<
    AssociatePhoneNumberWithUserOutput,
    SdkError<AssociatePhoneNumberWithUserError, HttpResponse>,
> {
    client
        .associate_phone_number_with_user()
        .account_id(account_id)
        .user_id(user_id)
        .e164_phone_number(number)
        .send()
        .await
}

/// AssociatePhoneNumberWithUser, as it answered, after [`provision`] has brought the number
/// into the inventory (so that what is tested is the association).
pub async fn associate(
    client: &Client,
    account_id: &str,
    user_id: &str,
    number: &str,
) -> Result<
    AssociatePhoneNumberWithUserOutput,
    SdkError<AssociatePhoneNumberWithUserError, HttpResponse>,
> {
    provision(client, &[number]).await;
    associate_only(client, account_id, user_id, number).await
}

/// CreateRoom, which must succeed: the room's id.
pub async fn create_room(client: &Client, account_id: &str, name: &str) -> String {
    client
        .create_room()
        .account_id(account_id)
        .name(name)
        .send()
        .await
        .expect("CreateRoom")
        .room()
        .expect("Room")
        .room_id()
        .expect("RoomId")
        .to_string()
}

/// CreateRoomMembership with the default role, which must succeed.
pub async fn add_member(client: &Client, account_id: &str, room_id: &str, member_id: &str) {
    if let Err(e) = client
        .create_room_membership()
        .account_id(account_id)
        .room_id(room_id)
        .member_id(member_id)
        .send()
        .await
    {
        panic!(
            "CreateRoomMembership of {member_id} in {room_id}: {}",
            DisplayErrorContext(&e)
        );
    }
}

/// A membership item of BatchCreateRoomMembership.
pub fn membership_item(member_id: &str, role: Option<RoomMembershipRole>) -> MembershipItem {
    MembershipItem::builder()
        .member_id(member_id)
        .set_role(role)
        .build()
}

/// The `MessageId` of a message the admin API posted ([`TestServer::post_message`]).
pub fn posted_message_id(posted: &serde_json::Value) -> String {
    posted["Message"]["MessageId"]
        .as_str()
        .unwrap_or_else(|| panic!("Message.MessageId in {posted}"))
        .to_string()
}

/// Asserts that a listing the service orders by creation shows exactly the `created` ids,
/// each once. `listed` is each entry's `(CreatedTimestamp, id)` in the order listed: the
/// service orders by the created millisecond and then by id, so the pairs must strictly
/// ascend; resources created within one millisecond may come in either order of creation.
pub fn assert_creation_order(listed: &[(DateTime, String)], created: &[String], what: &str) {
    for pair in listed.windows(2) {
        assert!(
            pair[0] < pair[1],
            "{what}: listed by (CreatedTimestamp, id), each once: {listed:?}"
        );
    }
    let mut got: Vec<&str> = listed.iter().map(|(_, id)| id.as_str()).collect();
    let mut want: Vec<&str> = created.iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: the created ids, each once");
}

// ---------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------

/// A response as it came over the wire.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }
}

/// Sends one SigV4-signed HTTP/1.1 request (`path_and_query` already percent-encoded) and
/// reads the whole response.
pub async fn raw_request(
    endpoint: &str,
    key: &AccessKey,
    method: &str,
    path_and_query: &str,
    body: &str,
) -> RawResponse {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    let host = endpoint.trim_start_matches("http://");
    let url = format!("{endpoint}{path_and_query}");
    let content_length = body.len().to_string();
    let unsigned = [
        ("host", host),
        ("content-type", "application/json"),
        ("content-length", content_length.as_str()),
    ];
    let identity = aws_credential_types::Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        None,
        None,
        "belfry-tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("chime")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        method,
        url.as_str(),
        unsigned.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("sign").into_parts();

    let mut request = format!("{method} {path_and_query} HTTP/1.1\r\n");
    for (k, v) in unsigned {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    for (k, v) in instructions.headers() {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("connection: close\r\n\r\n");
    request.push_str(body);

    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.expect("read response");
    let response = parse_response(&bytes);
    RawResponse {
        status: response.status,
        headers: response.headers,
        body: String::from_utf8(response.body).expect("response body is UTF-8"),
    }
}

/// A response taken apart: status, headers, and the body (de-chunked, cut to Content-Length).
#[derive(Debug, Clone)]
pub struct ParsedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Parses one HTTP/1.x response (Content-Length or chunked, or up to the end).
pub fn parse_response(raw: &[u8]) -> ParsedResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)
    } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    ParsedResponse {
        status,
        headers,
        body,
    }
}

/// Decodes a chunked transfer-encoded body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol]).unwrap_or("0");
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
        rest = &rest[(start + size + 2).min(rest.len())..];
    }
    out
}
