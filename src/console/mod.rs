//! The web console under `/console/`: the Chime administration pages, server-rendered.
//!
//! The console is a client of the API that lives in the same process. A page that reads or
//! changes something calls the operation's own handler through [`api::dispatch`], as the
//! signed-in key's [`Principal`], with the JSON body an AWS client would send: the same
//! validation, the same store path, the same read-only refusal and the same errors, so the
//! API sees a change made here at once and the other way round. Only what the API has no
//! operation for reads the store directly: the users table with its extra filters and
//! counts ([`Store::user_table_page`]) and export.
//!
//! A request goes: session cookie -> (POST: CSRF token, read-only refusal) -> page -> HTML.
//! The files, each with one job:
//!
//! * this file: [`Console::handle`], the routing table, the API bridge ([`Ctx::api`]) and
//!   the response helpers;
//! * [`session`]: sign-in, the session cookie, CSRF tokens and the sign-in throttle;
//! * `layout.rs`: the page frame (navigation, sign-out) and the shared bits of HTML;
//! * `accounts.rs` and `users.rs`: one file per resource, each with its pages and forms;
//!   `imports.rs`: the import of an uploaded file, with its progress page; `rooms.rs`,
//!   `bots.rs` and `numbers.rs`: read pages (list and detail) of rooms, bots and phone numbers.
//!
//! Reading works without JavaScript; there is none. One stylesheet (`console.css`) is served
//! from the binary.

mod accounts;
mod bots;
mod imports;
mod layout;
mod numbers;
mod rooms;
pub mod session;
mod users;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use maud::Markup;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::api::{self, Call, Query};
use crate::auth::{KeyRing, Principal};
use crate::error::ApiError;
use crate::store::Store;
use crate::token::PageTokens;
use session::Sessions;

/// What the console borrows from the server it runs in, so that a call made from a page is
/// the API's call in every respect but the transport: the server's one [`KeyRing`] (and its
/// cache), its page tokens, and its gate of every request, the per-key throttle and the
/// injected faults.
pub trait ApiHost: Send + Sync {
    /// The keys the API authenticates with.
    fn keys(&self) -> &KeyRing;
    /// The signer of the API's pagination tokens.
    fn tokens(&self) -> &PageTokens;
    /// Admits one call of `operation` by `access_key_id`, as the API pipeline does after
    /// authentication: the key's throttle (an `ApiError` of status 429 when it is over its
    /// rate), then the fault rules of the operation.
    fn admit<'a>(
        &'a self,
        access_key_id: &'a str,
        operation: &'static str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>>;
}

/// Where the console is served.
pub const PREFIX: &str = "/console";

/// The stylesheet of every page.
const CSS: &str = include_str!("console.css");

/// Whether `path` belongs to the console.
pub fn owns(path: &str) -> bool {
    path == PREFIX || path.starts_with("/console/")
}

/// The console of one server.
pub struct Console {
    store: Store,
    sessions: Sessions,
    imports: imports::Imports,
}

/// A decoded `application/x-www-form-urlencoded` form or query string.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of `name`, trimmed, when it is not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Whether the checkbox `name` was checked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// What a page handler has: the signed-in caller, the CSRF token for its forms, the query
/// string and (on POST) the form.
pub struct Ctx<'a> {
    console: &'a Console,
    host: &'a dyn ApiHost,
    pub principal: Principal,
    pub csrf: String,
    pub query: Form,
    /// The query string as sent (for links back to the same page).
    raw_query: String,
    pub form: Form,
}

impl Ctx<'_> {
    /// The query string of the request, as sent.
    pub fn query_string(&self) -> &str {
        &self.raw_query
    }

    pub fn store(&self) -> &Store {
        &self.console.store
    }

    /// The caller's AWS account: the owner of every account it sees.
    pub fn owner(&self) -> &str {
        &self.principal.aws_account_id
    }

    /// Calls an operation of the API as the signed-in key, as an AWS client would send it:
    /// `method`, `path` (labels already percent-encoded, see [`label`]), `query` and a JSON
    /// `body`. Returns the reply's JSON (`Null` for an empty reply).
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let query = Query::parse(query)?;
        let route = api::route(method, path, &query)?;
        // The API pipeline's own refusal of a read-only key's writes, its throttle and faults.
        api::input::check_read_only(&self.principal, route.op)?;
        self.host
            .admit(&self.principal.access_key_id, route.op.name())
            .await?;
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let call = Call {
            store: &self.console.store,
            tokens: self.host.tokens(),
            principal: &self.principal,
            route: &route,
            query: &query,
            body: &body,
        };
        let reply = api::dispatch(&call).await?;
        let bytes = reply.body_bytes();
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            tracing::error!(error = %e, "an API reply the console could not read");
            ApiError::internal()
        })
    }
}

/// What a path segment or query value keeps as it is: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path label (an account id, a user id) percent-encoded for [`Ctx::api`] and for links.
pub fn label(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// Whether the request came over TLS (directly, or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The `Cookie` headers of a request.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// A response with the headers every console response carries: never cached (pages show a
/// signed-in key's data), never framed, scripts from nowhere, and never sniffed as another
/// type than the one it says (`nosniff`: a download is not run as a page).
fn response(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// An HTML page.
pub fn html(status: StatusCode, page: Markup) -> Response {
    response(
        status,
        "text/html; charset=utf-8",
        Body::from(page.into_string()),
    )
}

/// A `303 See Other` to `location` (after a POST, the browser GETs the page it names).
pub fn redirect(location: &str) -> Response {
    let mut response = response(StatusCode::SEE_OTHER, "text/plain", Body::empty());
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A file to download.
pub fn download(content_type: &'static str, file_name: &str, body: Body) -> Response {
    let mut response = response(StatusCode::OK, content_type, body);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn with_cookie(mut response: Response, set_cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// An error of the API or the store as a page with its status.
fn error_page(ctx: Option<&Ctx<'_>>, error: &ApiError) -> Response {
    let status =
        StatusCode::from_u16(error.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::TOO_MANY_REQUESTS {
        // The key's throttle: the same limit as its API calls.
        let message = format!(
            "Slow down: this access key is sending more requests than its rate limit allows. {}",
            error.message
        );
        let mut response = html(status, layout::error(ctx, status, &message));
        if let Some(secs) = error.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return response;
    }
    html(status, layout::error(ctx, status, &error.message))
}

impl Console {
    /// The console over `store`; it signs in with the keys of the server it runs in (see
    /// [`ApiHost`]).
    pub fn new(store: Store) -> Console {
        let secret = *store.token_secret();
        Console {
            sessions: Sessions::new(secret),
            imports: imports::Imports::default(),
            store,
        }
    }

    /// Answers one request under [`PREFIX`]; `body` was read within the server's limits.
    /// Returns the response and the signed-in access key id, if any (for the request log).
    pub async fn handle(
        &self,
        host: &dyn ApiHost,
        method: &Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> (Response, Option<String>) {
        let mut caller = None;
        let response = self
            .answer(host, &mut caller, method, uri, headers, body)
            .await;
        (response, caller)
    }

    async fn answer(
        &self,
        host: &dyn ApiHost,
        caller: &mut Option<String>,
        method: &Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let path = uri.path();
        let decoded: Vec<String> = path
            .strip_prefix(PREFIX)
            .unwrap_or(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        let secure = over_tls(headers);
        let query = Form::parse(uri.query().unwrap_or("").as_bytes());
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // A file upload's form (its CSRF token among its fields) is read before the token is
        // checked; the import takes the rest.
        let multipart = content_type.starts_with("multipart/form-data");
        let form = if *method == Method::POST && !multipart {
            Form::parse(body)
        } else {
            Form::default()
        };
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["console.css"]) => {
                return response(StatusCode::OK, "text/css; charset=utf-8", Body::from(CSS));
            }
            ("GET", ["signin"]) => {
                return self.sign_in_page(headers, None, StatusCode::OK, secure);
            }
            ("POST", ["signin"]) => return self.sign_in(host, headers, &form, secure).await,
            _ => {}
        }
        let session_id = session::cookie_value(cookies(headers), session::SESSION_COOKIE);
        let principal = match &session_id {
            Some(id) => match self.session_principal(host, id).await {
                Ok(found) => found,
                Err(e) => return error_page(None, &e),
            },
            None => None,
        };
        let (Some(session_id), Some(principal)) = (session_id, principal) else {
            return if *method == Method::GET {
                redirect("/console/signin")
            } else {
                html(
                    StatusCode::FORBIDDEN,
                    layout::error(None, StatusCode::FORBIDDEN, "Sign in first."),
                )
            };
        };
        *caller = Some(principal.access_key_id.clone());
        let ctx = Ctx {
            console: self,
            host,
            csrf: self.sessions.csrf_token(&session_id),
            principal,
            query,
            raw_query: uri.query().unwrap_or("").to_string(),
            form,
        };
        let mut upload = None;
        if *method == Method::POST && multipart {
            match imports::read_upload(content_type, body).await {
                Ok(read) => upload = Some(read),
                Err(e) => return error_page(Some(&ctx), &e),
            }
        }
        if *method == Method::POST {
            let sent = match &upload {
                Some(upload) => upload.csrf.as_deref(),
                None => ctx.form.get("csrf"),
            };
            if !self.sessions.check_csrf(&session_id, sent) {
                let message = "The form's CSRF token is missing or not this session's: reload the page and try again.";
                return html(
                    StatusCode::FORBIDDEN,
                    layout::error(Some(&ctx), StatusCode::FORBIDDEN, message),
                );
            }
            if segments.as_slice() == ["signout"] {
                return self.sign_out(&session_id, secure).await;
            }
            if ctx.principal.read_only {
                let message = format!(
                    "The access key {} is read-only: the console shows, it does not change.",
                    ctx.principal.access_key_id
                );
                return html(
                    StatusCode::FORBIDDEN,
                    layout::error(Some(&ctx), StatusCode::FORBIDDEN, &message),
                );
            }
        }
        let result = match (method.as_str(), segments.as_slice()) {
            ("GET", []) => Ok(redirect("/console/accounts")),
            ("GET", ["accounts"]) => accounts::list(&ctx).await,
            ("POST", ["accounts"]) => accounts::create(&ctx).await,
            ("GET", ["accounts", id]) => accounts::show(&ctx, id).await,
            ("POST", ["accounts", id]) => accounts::change(&ctx, id).await,
            ("GET", ["accounts", id, "export"]) => accounts::export(&ctx, id).await,
            ("POST", ["accounts", id, "import"]) => imports::start(&ctx, id, upload).await,
            ("GET", ["accounts", id, "imports", job]) => imports::show(&ctx, id, job).await,
            ("GET", ["accounts", id, "users"]) => users::table(&ctx, id).await,
            ("GET", ["accounts", id, "rooms"]) => rooms::rooms(&ctx, id).await,
            ("GET", ["accounts", id, "rooms", room]) => rooms::room(&ctx, id, room).await,
            ("GET", ["accounts", id, "bots"]) => bots::bots(&ctx, id).await,
            ("GET", ["accounts", id, "bots", bot]) => bots::bot(&ctx, id, bot).await,
            ("GET", ["phone-numbers"]) => numbers::numbers(&ctx).await,
            ("GET", ["phone-numbers", number]) => numbers::number(&ctx, number).await,
            ("POST", ["accounts", id, "users", "bulk"]) => users::bulk(&ctx, id).await,
            ("POST", ["accounts", id, "users", "invite"]) => users::invite(&ctx, id).await,
            ("GET", ["accounts", id, "users", user]) => users::show(&ctx, id, user).await,
            ("POST", ["accounts", id, "users", user]) => users::change(&ctx, id, user).await,
            _ => Err(ApiError::not_found(format!(
                "The console has no page {path}"
            ))),
        };
        result.unwrap_or_else(|e| error_page(Some(&ctx), &e))
    }

    /// How large a request's body may be: an import's upload, from a browser signed in with a
    /// writable key, up to
    /// [`imports::MAX_UPLOAD_BYTES`]; anything else the API's limit (`None`).
    pub async fn body_limit(
        &self,
        host: &dyn ApiHost,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<usize> {
        if *method != Method::POST || !path.ends_with("/import") {
            return None;
        }
        let session_id = session::cookie_value(cookies(headers), session::SESSION_COOKIE)?;
        // A read-only key cannot import: it gets the normal limit, not the upload's.
        match self.session_principal(host, &session_id).await {
            Ok(Some(principal)) if !principal.read_only => Some(imports::MAX_UPLOAD_BYTES),
            _ => None,
        }
    }

    /// The principal of a live session.
    async fn session_principal(
        &self,
        host: &dyn ApiHost,
        session_id: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let Some(access_key_id) = self
            .store
            .console_session(session_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        host.keys()
            .principal(&access_key_id)
            .await
            .map_err(ApiError::from)
    }

    /// The sign-in form, with its token in a cookie: the browser's token when it has one (a
    /// second tab must not spoil the first one's form), else a fresh one.
    fn sign_in_page(
        &self,
        headers: &HeaderMap,
        message: Option<&str>,
        status: StatusCode,
        secure: bool,
    ) -> Response {
        let token = session::cookie_value(cookies(headers), session::SIGN_IN_COOKIE)
            .unwrap_or_else(session::random_token);
        let page = layout::sign_in(&token, message);
        with_cookie(html(status, page), &session::sign_in_cookie(token, secure))
    }

    /// Checks a sign-in form; on success opens a session and goes to the accounts.
    async fn sign_in(
        &self,
        host: &dyn ApiHost,
        headers: &HeaderMap,
        form: &Form,
        secure: bool,
    ) -> Response {
        let expected = session::cookie_value(cookies(headers), session::SIGN_IN_COOKIE);
        let sent = form.get("form_token");
        if !matches!((&expected, sent), (Some(e), Some(s)) if session::same_token(e, s)) {
            return self.sign_in_page(
                headers,
                Some("The sign-in form expired or did not come from this console: try again."),
                StatusCode::FORBIDDEN,
                secure,
            );
        }
        let (Some(access_key_id), Some(secret)) =
            (form.get("access_key_id"), form.get("secret_access_key"))
        else {
            return self.sign_in_page(
                headers,
                Some("Enter an access key id and its secret access key."),
                StatusCode::BAD_REQUEST,
                secure,
            );
        };
        let refused = |status| {
            self.sign_in_page(
                headers,
                Some("The access key id or the secret access key is not right."),
                status,
                secure,
            )
        };
        // Every id tried has a bucket, a real one and a made-up one alike: the replies do not
        // tell them apart. The typed id is logged as a hash only.
        let id_hash = session::id_hash(access_key_id);
        if let Err(wait) = self.sessions.admit_sign_in(access_key_id).await {
            tracing::warn!(%id_hash, "console sign-in throttled");
            let message = format!(
                "Too many sign-in attempts for this access key: try again in {} s.",
                wait.as_secs().max(1)
            );
            return self.sign_in_page(
                headers,
                Some(&message),
                StatusCode::TOO_MANY_REQUESTS,
                secure,
            );
        }
        let principal = match host.keys().sign_in(access_key_id, secret).await {
            Ok(Some(principal)) => principal,
            Ok(None) => {
                tracing::info!(%id_hash, "console sign-in refused: no such key or wrong secret");
                return refused(StatusCode::UNAUTHORIZED);
            }
            Err(e) => return error_page(None, &ApiError::from(e)),
        };
        // A browser signing in again leaves its previous session behind: end it.
        if let Some(previous) = session::cookie_value(cookies(headers), session::SESSION_COOKIE)
            && let Err(e) = self.store.close_console_session(&previous).await
        {
            return error_page(None, &ApiError::from(e));
        }
        let session_id = session::random_token();
        let expires_ms = crate::time::now_millis() + session::SESSION_LIFETIME.as_millis() as i64;
        if let Err(e) = self
            .store
            .open_console_session(&session_id, &principal.access_key_id, expires_ms)
            .await
        {
            return error_page(None, &ApiError::from(e));
        }
        tracing::info!(access_key_id = %principal.access_key_id, "console sign-in");
        let response = with_cookie(
            redirect("/console/accounts"),
            &session::session_cookie(session_id, secure),
        );
        with_cookie(
            response,
            &session::removed_cookie(session::SIGN_IN_COOKIE, secure),
        )
    }

    /// Ends the session and goes back to the sign-in form.
    async fn sign_out(&self, session_id: &str, secure: bool) -> Response {
        if let Err(e) = self.store.close_console_session(session_id).await {
            return error_page(None, &ApiError::from(e));
        }
        with_cookie(
            redirect("/console/signin"),
            &session::removed_cookie(session::SESSION_COOKIE, secure),
        )
    }
}
