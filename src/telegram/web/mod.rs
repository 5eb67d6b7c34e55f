//! The Mini App's HTTP server, part of the Telegram transport (it answers for Telegram's
//! Mini App, asks Telegram who belongs to a group, and shares the bot's admin cache and
//! outbox; the rest of the transport never imports it but to start it): the embedded pages (HTML, CSS and JS, no build step)
//! and the JSON API the pages call with `Authorization: tma <initData>`.
//!
//! [`router`] builds the routes, [`serve`] runs any router on a listener until
//! shutdown. The Telegram transport mounts the router beside the webhook when there is
//! one (one server), or serves it alone on `[web].listen` when polling; other routes
//! (metrics, health) are merged into the same router (see `super::http_routes`).
//!
//! Who is asking comes only from verified `initData` ([`crate::webapp::init_data`]);
//! the group from its signed `start_param` (none: the user's private chat), and whether
//! they belong there from `getChatMember` (cached, as for commands).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeDelta, Utc};
use serde::Deserialize;
use serde_json::json;
use teloxide::prelude::*;
use teloxide::types::{InputFile, UserId};

use super::admins::{AdminCache, Standing};
use super::error::SendError;
use super::outbox::Outbox;
use crate::app::App;
use crate::config::BotToken;
use crate::webapp::init_data::{self, InitData};
use crate::webapp::{StartParam, View};

/// The page (both views: the script picks one from the start parameter).
const INDEX_HTML: &str = include_str!("static/index.html");
/// The page's style.
const APP_CSS: &str = include_str!("static/app.css");
/// The page's script.
const APP_JS: &str = include_str!("static/app.js");

/// The largest request body the API reads (a check-in is a few bytes).
const MAX_BODY_BYTES: usize = 4 * 1024;
/// How long one request may take before it is answered 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the membership check may wait for Telegram (the cache's own patience is
/// 5 s; this bounds the whole check, queueing included).
const MEMBERSHIP_TIMEOUT: Duration = Duration::from_secs(6);

/// The Content-Security-Policy of every answer: only the app's own origin, and
/// Telegram's script; the page may be framed by Telegram's web clients.
const CSP: &str = "default-src 'none'; script-src 'self' https://telegram.org; \
                   style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'self' https://web.telegram.org https://*.telegram.org";

/// What the routes share. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<WebInner>,
}

struct WebInner {
    app: App,
    outbox: Outbox,
    admins: AdminCache,
    secret: [u8; 32],
    max_age: TimeDelta,
}

impl WebState {
    /// The state for a bot with `token`; `admins` is the cache the commands use.
    pub fn new(
        app: App,
        outbox: Outbox,
        admins: AdminCache,
        token: &BotToken,
        max_age: TimeDelta,
    ) -> Self {
        Self {
            inner: Arc::new(WebInner {
                app,
                outbox,
                admins,
                secret: init_data::secret_key(token.expose()),
                max_age,
            }),
        }
    }
}

/// The app's routes: the page at `/` (and `/index.html`), its CSS and JS, and the API
/// under `/api/`, with the security headers, the body limit and the timeout.
pub fn router(state: WebState) -> Router {
    let api = Router::new()
        .route("/api/reader", get(reader))
        .route("/api/checkin", post(check_in))
        .route("/api/dashboard", get(dashboard))
        .route("/api/export", post(export))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(no_store))
        .with_state(state);
    Router::new()
        .route("/", get(|| page(INDEX_HTML, "text/html; charset=utf-8")))
        .route(
            "/index.html",
            get(|| page(INDEX_HTML, "text/html; charset=utf-8")),
        )
        .route("/app.css", get(|| page(APP_CSS, "text/css; charset=utf-8")))
        .route(
            "/app.js",
            get(|| page(APP_JS, "text/javascript; charset=utf-8")),
        )
        .merge(api)
        .layer(middleware::from_fn(security_headers))
}

/// Serves `router` on `listener` until `shutdown` resolves (requests under way finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether `path` is one of the app's own (a webhook must use another).
pub fn is_app_path(path: &str) -> bool {
    matches!(path, "" | "/" | "/index.html" | "/app.css" | "/app.js") || path.starts_with("/api/")
}

/// The total weight of the app's own files (the benchmark's page-weight row).
pub fn page_weight() -> usize {
    INDEX_HTML.len() + APP_CSS.len() + APP_JS.len()
}

async fn page(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            // Embedded in the binary: a new version comes with a restart, so the client
            // revalidates rather than keeping an old script.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => refuse(StatusCode::SERVICE_UNAVAILABLE, "timeout"),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refusal: the status and a short JSON reason (`{"error": "…"}`).
fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, axum::Json(json!({ "error": reason }))).into_response()
}

/// A verified caller: who, in which chat, and their standing there.
struct Caller {
    data: InitData,
    chat_id: i64,
    standing: Standing,
}

impl Caller {
    fn name(&self) -> String {
        self.data.user.full_name()
    }
}

/// Checks the `Authorization: tma …` header and the caller's place in the chat their
/// link names. `Err` is the answer to send: 401 for bad `initData`, 403 for a chat
/// they are not in, 503 when Telegram cannot say.
async fn authorize(state: &WebState, headers: &HeaderMap) -> Result<Caller, Response> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("tma "))
        .unwrap_or("");
    let data = init_data::verify(raw, &state.inner.secret, Utc::now(), state.inner.max_age)
        .map_err(|error| refuse(StatusCode::UNAUTHORIZED, &error.to_string()))?;
    let user = data.user.id;
    let chat_id = match data.start_param.as_deref() {
        None => user as i64,
        Some(text) => match StartParam::decode(text) {
            // A link handed out before the group became a supergroup still opens it.
            Some(param) => state.inner.app.chats().current_id(param.chat_id),
            None => return Err(refuse(StatusCode::BAD_REQUEST, "unknown start_param")),
        },
    };
    // A private chat is the user's own: they run it.
    if chat_id == user as i64 {
        return Ok(Caller {
            data,
            chat_id,
            standing: Standing::Admin,
        });
    }
    if chat_id > 0 {
        return Err(refuse(StatusCode::FORBIDDEN, "not your chat"));
    }
    let asked = state
        .inner
        .admins
        .standing(&state.inner.outbox, ChatId(chat_id), UserId(user));
    let standing = match tokio::time::timeout(MEMBERSHIP_TIMEOUT, asked).await {
        Ok(Ok(standing)) => standing,
        // Telegram refuses for a user it does not know in that chat, or a chat the bot
        // is not in: either way they are not a member there.
        Ok(Err(SendError::Rejected(_) | SendError::ChatGone(_))) => Standing::Outsider,
        Ok(Err(_)) | Err(_) => {
            return Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot check membership now; try again",
            ));
        }
    };
    if standing == Standing::Outsider {
        tracing::info!(chat_id, user_id = user, "mini app: not a member");
        return Err(refuse(StatusCode::FORBIDDEN, "not a member of this group"));
    }
    Ok(Caller {
        data,
        chat_id,
        standing,
    })
}

/// Runs store work off the async threads; a failure is a 503 with the log line.
async fn blocking<T: Send + 'static>(
    chat_id: i64,
    work: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::error!(chat_id, %error, "mini app: cannot read the store");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage error; try again",
            ))
        }
        Err(_) => Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error")),
    }
}

async fn reader(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let caller = match authorize(&state, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let app = state.inner.app.clone();
    let (chat_id, user_id, name) = (caller.chat_id, caller.data.user.id, caller.name());
    match blocking(chat_id, move || {
        app.web().reader(chat_id, user_id, &name, Utc::now())
    })
    .await
    {
        Ok(view) => {
            let mut value = serde_json::to_value(view).unwrap_or_default();
            value["admin"] = json!(caller.standing == Standing::Admin);
            value["view"] = json!(view_name(&caller));
            axum::Json(value).into_response()
        }
        Err(refusal) => refusal,
    }
}

fn view_name(caller: &Caller) -> &'static str {
    match caller
        .data
        .start_param
        .as_deref()
        .and_then(StartParam::decode)
    {
        Some(StartParam {
            view: View::Dashboard,
            ..
        }) => "dashboard",
        _ => "reader",
    }
}

/// The body of `POST /api/checkin`.
#[derive(Debug, Deserialize)]
struct CheckInRequest {
    /// The section's id (`2.1`).
    section: String,
}

async fn check_in(State(state): State<WebState>, headers: HeaderMap, body: Body) -> Response {
    let caller = match authorize(&state, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let Ok(request) = serde_json::from_slice::<CheckInRequest>(&bytes) else {
        return refuse(StatusCode::BAD_REQUEST, "expected {\"section\": \"2.1\"}");
    };
    let app = state.inner.app.clone();
    let (chat_id, user_id, name) = (caller.chat_id, caller.data.user.id, caller.name());
    match blocking(chat_id, move || {
        app.web()
            .check_in(chat_id, user_id, &name, &request.section, Utc::now())
    })
    .await
    {
        Ok(outcome) => axum::Json(outcome).into_response(),
        Err(refusal) => refusal,
    }
}

/// The chart's days from `GET /api/dashboard?days=N` (30 or 90; any whole number is
/// clamped to 1–90; 30 without one), or why anything else is refused.
fn chart_days(query: Option<&str>) -> Result<i64, &'static str> {
    let days = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "days")
        .map(|(_, value)| value.into_owned())
        .last();
    match days {
        None => Ok(30),
        Some(days) => days
            .trim()
            .parse()
            .map_err(|_| "days must be a whole number of days, e.g. ?days=30"),
    }
}

async fn dashboard(
    State(state): State<WebState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let caller = match authorize(&state, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    if caller.standing != Standing::Admin {
        return refuse(StatusCode::FORBIDDEN, "administrators only");
    }
    let app = state.inner.app.clone();
    let chat_id = caller.chat_id;
    let days = match chart_days(query.as_deref()) {
        Ok(days) => days,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    match blocking(chat_id, move || {
        app.web().dashboard(chat_id, days, Utc::now())
    })
    .await
    {
        Ok(view) => axum::Json(view.as_ref()).into_response(),
        Err(refusal) => refusal,
    }
}

/// `POST /api/export`: `/export`'s workbook, sent to the administrator's private chat.
async fn export(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let caller = match authorize(&state, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    if caller.standing != Standing::Admin {
        return refuse(StatusCode::FORBIDDEN, "administrators only");
    }
    let app = state.inner.app.clone();
    let (chat_id, user_id) = (caller.chat_id, caller.data.user.id);
    let built =
        tokio::task::spawn_blocking(move || app.web().export(chat_id, user_id, Utc::now())).await;
    let (name, bytes) = match built {
        Ok(Ok(file)) => file,
        Ok(Err(reply)) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "sent": false, "message": reply.plain_text() })),
            )
                .into_response();
        }
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    };
    let to = ChatId(user_id as i64);
    let outbox = &state.inner.outbox;
    let request = outbox
        .bot()
        .send_document(to, InputFile::memory(bytes).file_name(name))
        .caption("学习台账：成员、学习记录（✓ 按时 / 补 补学）、测验、每周汇总。");
    let (status, message) = match outbox.call(Some(to), request).await {
        Ok(_) => {
            tracing::info!(chat_id, to = to.0, "record exported from the mini app");
            (StatusCode::OK, "学习台账表格已私聊发给你。")
        }
        Err(SendError::ChatGone(_)) => (
            StatusCode::CONFLICT,
            "表格无法私聊发给你：你还没有和我私聊过。请先私聊我发送 /start，再点一次。",
        ),
        Err(error) => {
            tracing::warn!(chat_id, %error, "mini app: sendDocument failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "表格发送失败，请稍后再试。",
            )
        }
    };
    (
        status,
        axum::Json(json!({ "sent": status == StatusCode::OK, "message": message })),
    )
        .into_response()
}
