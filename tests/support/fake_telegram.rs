#![allow(dead_code)]
//! An in-process fake of the Telegram Bot API that a real teloxide 0.17 `Bot` talks to.
//!
//! ```ignore
//! let tg = FakeTelegram::start().await;
//! let bot = teloxide::Bot::new(FakeTelegram::TOKEN).set_api_url(tg.api_url().parse().unwrap());
//! let ann = FakeUser::new(42, "Ann");
//! tg.send_text(&FakeChat::private(&ann), &ann, "/start");
//! // ... run the bot's dispatcher with `Polling::builder(bot).timeout(Duration::from_secs(1))` ...
//! assert!(tg.wait_for_requests("sendMessage", 1, Duration::from_secs(2)).await);
//! ```
//!
//! Fidelity notes (what the real Bot API / tdlib does, as far as teloxide can observe):
//! * Requests are `POST|GET /bot<TOKEN>/<Method>` with a JSON, form or query-string body; method
//!   names are case-insensitive. teloxide sends PascalCase names (`SendMessage`), which is what
//!   [`Recorded::method`] holds: compare with [`Recorded::is`] or use [`FakeTelegram::requests_for`].
//! * Errors are `{"ok":false,"error_code":N,"description":...,"parameters":...}` with HTTP status N.
//!   Unknown methods answer 404 `Not Found` (teloxide: `ApiError::InvalidToken`).
//! * Message text limits count UTF-16 code units after entity parsing (4096; edits answer
//!   `MESSAGE_TOO_LONG` like Telegram); poll limits count code points (like tdlib).
//! * `parse_mode=HTML` is parsed like tdlib (same error texts, `can't parse entities: ...`), and the
//!   returned `Message` carries the stripped text plus `entities` (UTF-16 offsets). A bare `&` that
//!   does not start `&lt; &gt; &amp; &quot;` or `&#N;` is rejected - stricter than Telegram, which
//!   keeps it literally, so that a bot that forgets to escape is caught. Markdown is not validated.
//! * `editMessageText` without `reply_markup` removes the inline keyboard, like Telegram.
//! * `getUpdates`: `offset` confirms (forgets) updates below it, a negative offset keeps the last
//!   `-offset` ones, `timeout` long-polls, `limit` caps the batch. A new `getUpdates` terminates a
//!   running one, which then answers 409 (see [`FakeTelegram::set_conflict`]).
//! * Requests are recorded once answered ([`Recorded::at`] is the arrival time), so a long poll
//!   shows up when it returns.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Max message text length, in UTF-16 code units after entity parsing.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Max poll question length (code points).
pub const MAX_POLL_QUESTION: usize = 300;
/// Min/max number of poll options.
pub const MIN_POLL_OPTIONS: usize = 2;
/// Max number of poll options (Bot API docs say 2-10; newer servers allow 12).
pub const MAX_POLL_OPTIONS: usize = 10;
/// Max poll option length (code points).
pub const MAX_POLL_OPTION_LEN: usize = 100;
/// Max quiz explanation length (code points).
pub const MAX_POLL_EXPLANATION: usize = 200;

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
const CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const INVALID_QUERY: &str =
    "Bad Request: query is too old and response timeout expired or query id is invalid";

/// One request received by the fake (recorded after it was answered; `at` is its arrival time).
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method name exactly as sent in the URL (teloxide: `SendMessage`, `GetUpdates`, ...).
    pub method: String,
    /// Parameters (JSON body merged with query string / form fields).
    pub body: Value,
    /// When the request arrived.
    pub at: Instant,
    /// HTTP status answered (200 ok, 4xx/5xx error, 0 = connection dropped by fault injection).
    pub status: u16,
}

impl Recorded {
    /// Case-insensitive method comparison: `r.is("sendMessage")`.
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }
    /// `true` if the fake answered with `"ok": true`.
    pub fn ok(&self) -> bool {
        self.status == 200
    }
}

/// A user that talks to the bot (for injected updates).
#[derive(Clone, Debug)]
pub struct FakeUser {
    /// User id (> 0); also the id of the private chat with the bot.
    pub id: i64,
    /// First name (required by Telegram).
    pub first_name: String,
    /// Optional last name.
    pub last_name: Option<String>,
    /// Optional username without `@`.
    pub username: Option<String>,
    /// Optional IETF language tag, e.g. `"en"`.
    pub language_code: Option<String>,
    /// `true` for bots (default `false`).
    pub is_bot: bool,
}

impl FakeUser {
    /// A human user with the given id (> 0) and first name.
    pub fn new(id: i64, first_name: &str) -> Self {
        FakeUser {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
            is_bot: false,
        }
    }
    /// The Telegram `User` JSON object.
    pub fn json(&self) -> Value {
        let mut v = json!({"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name});
        if let Some(x) = &self.last_name {
            v["last_name"] = json!(x)
        }
        if let Some(x) = &self.username {
            v["username"] = json!(x)
        }
        if let Some(x) = &self.language_code {
            v["language_code"] = json!(x)
        }
        v
    }
}

/// Chat type of a [`FakeChat`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatType {
    /// One-to-one chat with a user (id > 0).
    Private,
    /// Basic group (id < 0).
    Group,
    /// Supergroup (id `-100xxxxxxxxxx`).
    Supergroup,
}

/// A chat for injected updates: private (id > 0), group (id < 0) or supergroup (id `-100…`).
#[derive(Clone, Debug)]
pub struct FakeChat {
    /// Chat id (the sign and `-100` prefix follow Telegram's conventions).
    pub id: i64,
    /// Private, group or supergroup.
    pub kind: ChatType,
    /// Title of groups and supergroups.
    pub title: Option<String>,
    /// First name of the user of a private chat.
    pub first_name: Option<String>,
    /// Optional public username without `@` (also resolves `chat_id: "@name"`).
    pub username: Option<String>,
}

impl FakeChat {
    /// The private chat with `user` (chat id == user id).
    pub fn private(user: &FakeUser) -> Self {
        FakeChat {
            id: user.id,
            kind: ChatType::Private,
            title: None,
            first_name: Some(user.first_name.clone()),
            username: user.username.clone(),
        }
    }
    /// A basic group; a positive `id` is negated.
    pub fn group(id: i64, title: &str) -> Self {
        FakeChat {
            id: -id.abs(),
            kind: ChatType::Group,
            title: Some(title.into()),
            first_name: None,
            username: None,
        }
    }
    /// A supergroup. Use a real-looking id (`-100xxxxxxxxxx`); a positive `id` becomes `-(10^12 + id)`.
    pub fn supergroup(id: i64, title: &str) -> Self {
        let id = if id < 0 {
            id
        } else {
            -(1_000_000_000_000 + id)
        };
        FakeChat {
            id,
            kind: ChatType::Supergroup,
            title: Some(title.into()),
            first_name: None,
            username: None,
        }
    }
    /// The Telegram `Chat` JSON object.
    pub fn json(&self) -> Value {
        let mut v = match self.kind {
            ChatType::Private => {
                json!({"id": self.id, "type": "private", "first_name": self.first_name.clone().unwrap_or_default()})
            }
            ChatType::Group => json!({"id": self.id, "type": "group", "title": self.title}),
            ChatType::Supergroup => {
                json!({"id": self.id, "type": "supergroup", "title": self.title})
            }
        };
        if let Some(u) = &self.username {
            v["username"] = json!(u)
        }
        v
    }
}

/// What an injected fault looks like to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 with a JSON error body (teloxide sleeps 10 s on any 5xx before returning!).
    Status500,
    /// HTTP 502 with an nginx HTML body (teloxide: 10 s sleep, then `RequestError::InvalidJson`).
    Status502,
    /// The request is not executed and the TCP connection is closed without a response
    /// (teloxide: `RequestError::Network`).
    Drop,
    /// The request IS executed, but the answer is delayed by [`FakeTelegram::set_fault_delay`]
    /// (default 20 s, past teloxide's 17 s client timeout) - like a real timeout after delivery.
    Delay,
}

#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Kicked,
    Blocked,
    NotFound,
    Left,
    Migrated(i64),
    /// The bot is in the chat but may not send messages (muted or restricted).
    Muted,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    per_chat_sec: u32,
    per_group_min: u32,
    global_sec: u32,
    /// How much shorter than a second (a minute) the windows are: 50 ms, or 0 when strict.
    tolerance: Duration,
}

struct Stored {
    msg: Value,
    from_bot: bool,
}

#[derive(Default)]
struct St {
    requests: Vec<Recorded>,
    last_token: Option<String>,
    updates: VecDeque<(i64, Value)>,
    next_update_id: i64,
    active_poll: Option<u64>,
    poll_seq: u64,
    terminated: HashSet<u64>,
    force_conflict: bool,
    behaviours: HashMap<i64, Behaviour>,
    chats: HashMap<i64, Value>,
    users: HashMap<i64, Value>,
    next_msg_id: HashMap<i64, i64>,
    messages: HashMap<(i64, i64), Stored>,
    polls: HashMap<String, (i64, i64)>,
    poll_votes: HashMap<String, HashMap<i64, Vec<u64>>>,
    seq: u64,
    callbacks: HashSet<String>,
    admins: HashMap<i64, Vec<i64>>,
    webhook: Option<Value>,
    commands: HashMap<String, Value>,
    rate_limit_next: (u32, u64),
    limits: Option<Limits>,
    hist_chat: HashMap<i64, VecDeque<Instant>>,
    hist_global: VecDeque<Instant>,
    fault_rate: f64,
    fault_kinds: Vec<FaultKind>,
    fault_delay: Duration,
    fault_get_updates: bool,
    /// Lower-cased method name → how long its answers are held back (after executing).
    response_delays: HashMap<String, Duration>,
    /// Files users sent, by `file_id`: (`file_path`, bytes), served by `getFile` and the
    /// download endpoint `/file/bot<token>/<file_path>`.
    files: HashMap<String, (String, Vec<u8>)>,
    /// The longest random delay before a request is executed.
    arrival_jitter: Duration,
    /// Chat → (send calls still to answer 429, retry_after).
    rate_limit_chat: HashMap<i64, (u32, u64)>,
    /// Lower-cased method → (calls still to answer 429, retry_after).
    rate_limit_method: HashMap<String, (u32, u64)>,
    /// Lower-cased method → how many calls succeed before every further one answers 500.
    failing_methods: HashMap<String, usize>,
    /// A process to SIGKILL as soon as a `sendMessage` whose text contains the needle
    /// arrives (once), see [`FakeTelegram::kill_on_message`].
    kill_on_message: Option<(u32, String)>,
    /// Files received by sendDocument, byte for byte.
    documents: Vec<SentDocument>,
}

/// A file the bot sent with sendDocument.
#[derive(Clone, Debug)]
pub struct SentDocument {
    /// The chat it was sent to.
    pub chat_id: i64,
    /// The file name given in the multipart part.
    pub file_name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// The file parts of a multipart body: (field name, file name, bytes), read as bytes (the
/// text parameters go through [`parse_params`]).
fn multipart_files(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
    else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, needle: &[u8]| {
        body.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut files = Vec::new();
    let mut at = find(0, &delimiter);
    while let Some(start) = at {
        let part_start = start + delimiter.len();
        let next = find(part_start, &delimiter);
        let end = next.unwrap_or(body.len());
        let part = &body[part_start..end];
        if let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&part[..split]).to_string();
            let mut value = &part[split + 4..];
            if value.ends_with(b"\r\n") {
                value = &value[..value.len() - 2];
            }
            let field = head
                .split("name=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
                .unwrap_or("")
                .to_string();
            if let Some(file_name) = head
                .split("filename=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
            {
                files.push((field, file_name.to_string(), value.to_vec()));
            }
        }
        at = next;
    }
    files
}

struct Inner {
    st: Mutex<St>,
    changed: Notify,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, St> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type ApiResult = Result<Value, ApiErr>;

struct ApiErr {
    code: u16,
    desc: String,
    params: Option<Value>,
}

impl ApiErr {
    fn new(code: u16, desc: impl Into<String>) -> Self {
        ApiErr {
            code,
            desc: desc.into(),
            params: None,
        }
    }
}

fn bad(desc: impl std::fmt::Display) -> ApiErr {
    ApiErr::new(400, format!("Bad Request: {desc}"))
}

/// Handle to a running fake server. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
    addr: SocketAddr,
    _task: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn bot_id(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|&i: &i64| i > 0)
        .unwrap_or(123456)
}

fn bot_user(token: &str) -> Value {
    json!({"id": bot_id(token), "is_bot": true, "first_name": "StudyBot Test", "username": FakeTelegram::BOT_USERNAME})
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

impl FakeTelegram {
    /// Token to use in tests; any other token is accepted too (the bot id is the part before `:`).
    pub const TOKEN: &'static str = "123456:TEST-TOKEN-secret";
    /// The bot's user id for [`Self::TOKEN`].
    pub const BOT_ID: i64 = 123456;
    /// The user id of GroupAnonymousBot, the `from` of anonymous administrators' messages.
    pub const GROUP_ANONYMOUS_BOT_ID: i64 = 1_087_968_824;
    /// The bot's username returned by `getMe`.
    pub const BOT_USERNAME: &'static str = "studybot_test_bot";

    /// Bind `127.0.0.1:0` and serve in a background tokio task.
    pub async fn start() -> FakeTelegram {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake telegram: local_addr");
        let inner = Arc::new(Inner {
            st: Mutex::new(St {
                next_update_id: 100_000,
                fault_delay: Duration::from_secs(20),
                ..Default::default()
            }),
            changed: Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = FaultListener(listener);
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<ConnMeta>(),
            )
            .await;
        });
        FakeTelegram {
            inner,
            addr,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// Base URL for teloxide: `http://127.0.0.1:PORT` (no trailing slash).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn lock(&self) -> MutexGuard<'_, St> {
        self.inner.lock()
    }

    fn mutate<R>(&self, f: impl FnOnce(&mut St) -> R) -> R {
        let r = f(&mut self.lock());
        self.inner.changed.notify_waiters();
        r
    }

    fn token(st: &St) -> String {
        st.last_token
            .clone()
            .unwrap_or_else(|| Self::TOKEN.to_string())
    }

    // ----- per-chat behaviours -------------------------------------------------------------

    /// Requests aimed at `chat_id` get 403 "Forbidden: bot was kicked from the (super)group chat".
    pub fn kick(&self, chat_id: i64) {
        self.mutate(|s| s.behaviours.insert(chat_id, Behaviour::Kicked));
    }
    /// Requests aimed at `chat_id` get 403 "Forbidden: bot was blocked by the user".
    pub fn block(&self, chat_id: i64) {
        self.mutate(|s| s.behaviours.insert(chat_id, Behaviour::Blocked));
    }
    /// Requests aimed at `chat_id` get 400 "Bad Request: chat not found".
    pub fn unknown_chat(&self, chat_id: i64) {
        self.mutate(|s| s.behaviours.insert(chat_id, Behaviour::NotFound));
    }
    /// New messages to `chat_id` get 400 "Bad Request: not enough rights to send text messages
    /// to the chat", as when a group restricts the bot; other requests work. [`Self::unmute`]
    /// gives the right back.
    pub fn mute(&self, chat_id: i64) {
        self.mutate(|s| s.behaviours.insert(chat_id, Behaviour::Muted));
    }
    /// Undoes [`Self::mute`].
    pub fn unmute(&self, chat_id: i64) {
        self.mutate(|s| {
            if matches!(s.behaviours.get(&chat_id), Some(Behaviour::Muted)) {
                s.behaviours.remove(&chat_id);
            }
        });
    }
    /// Requests aimed at `chat_id` get 400 "Bad Request: group chat was upgraded to a supergroup chat"
    /// with `parameters.migrate_to_chat_id = new_id` (teloxide: `RequestError::MigrateToChatId`).
    pub fn migrate(&self, chat_id: i64, new_id: i64) {
        self.mutate(|s| s.behaviours.insert(chat_id, Behaviour::Migrated(new_id)));
    }
    /// The next `n_calls` send calls (`send*`, `edit*`, `forward*`, `copy*`, `stopPoll`,
    /// `deleteMessage`) get 429 "Too Many Requests: retry after X" with `parameters.retry_after`
    /// (teloxide: `RequestError::RetryAfter`).
    pub fn rate_limit_next(&self, n_calls: u32, retry_after_secs: u64) {
        self.mutate(|s| s.rate_limit_next = (n_calls, retry_after_secs.max(1)));
    }
    /// Enforce Telegram-like flood limits on new messages (`send*`/`forward*`/`copy*`) with sliding
    /// windows (50 ms tolerance): per chat per second, per group (chat id < 0) per minute, global
    /// per second. Violations get 429 with a computed `retry_after`. Telegram's: `(1, 20, 30)`.
    pub fn enforce_limits(
        &self,
        per_chat_per_sec: u32,
        per_group_per_min: u32,
        global_per_sec: u32,
    ) {
        let l = Limits {
            per_chat_sec: per_chat_per_sec,
            per_group_min: per_group_per_min,
            global_sec: global_per_sec,
            tolerance: Duration::from_millis(50),
        };
        self.mutate(|s| s.limits = Some(l));
    }
    /// Like [`Self::enforce_limits`] with strict windows (no tolerance): any second (minute)
    /// that sees more than the limit answers 429, counted when each request is executed.
    /// `0` turns a limit off. Telegram's, as the bot must respect them: `(0, 20, 30)`.
    pub fn enforce_strict_limits(
        &self,
        per_chat_per_sec: u32,
        per_group_per_min: u32,
        global_per_sec: u32,
    ) {
        let l = Limits {
            per_chat_sec: per_chat_per_sec,
            per_group_min: per_group_per_min,
            global_sec: global_per_sec,
            tolerance: Duration::ZERO,
        };
        self.mutate(|s| s.limits = Some(l));
    }
    /// Holds every request except `getUpdates` back by a random time below `max` before it is
    /// executed (and recorded, with that arrival time): network jitter on the way in.
    pub fn set_arrival_jitter(&self, max: Duration) {
        self.mutate(|s| s.arrival_jitter = max);
    }
    /// The next `n_calls` send calls to `chat_id` get 429 with `retry_after_secs`: one
    /// chat in a flood wait while the others are not.
    pub fn rate_limit_chat(&self, chat_id: i64, n_calls: u32, retry_after_secs: u64) {
        self.mutate(|s| {
            s.rate_limit_chat
                .insert(chat_id, (n_calls, retry_after_secs.max(1)))
        });
    }
    /// The next `n_calls` calls of `method` (any chat) get 429 with `retry_after_secs`.
    pub fn rate_limit_method(&self, method: &str, n_calls: u32, retry_after_secs: u64) {
        let method = method.to_ascii_lowercase();
        self.mutate(|s| {
            s.rate_limit_method
                .insert(method, (n_calls, retry_after_secs.max(1)))
        });
    }
    /// Every call of `method` after the first `after` ones answers HTTP 500 "Internal
    /// Server Error" without being executed (teloxide sleeps 10 s on each).
    pub fn fail_method(&self, method: &str, after: usize) {
        let method = method.to_ascii_lowercase();
        self.mutate(|s| {
            s.failing_methods.insert(method, after);
        });
    }
    /// Make this share (0.0..=1.0) of calls fail with a random [`FaultKind`] from
    /// [`Self::set_fault_kinds`]. `getUpdates` is excluded unless [`Self::set_fault_get_updates`].
    pub fn set_fault_rate(&self, rate: f64) {
        self.mutate(|s| {
            s.fault_rate = if rate.is_finite() {
                rate.clamp(0.0, 1.0)
            } else {
                0.0
            }
        });
    }
    /// Restrict the faults chosen by [`Self::set_fault_rate`] (empty = all kinds).
    pub fn set_fault_kinds(&self, kinds: &[FaultKind]) {
        self.mutate(|s| s.fault_kinds = kinds.to_vec());
    }
    /// Delay used by [`FaultKind::Delay`] (default 20 s). Set it past your client's timeout.
    pub fn set_fault_delay(&self, delay: Duration) {
        self.mutate(|s| s.fault_delay = delay);
    }
    /// Holds back every answer to `method` by `delay`; the request is executed (and
    /// recorded) at once, like a slow network between Telegram and the bot.
    pub fn set_response_delay(&self, method: &str, delay: Duration) {
        let method = method.to_ascii_lowercase();
        self.mutate(|s| {
            s.response_delays.insert(method, delay);
        });
    }
    /// SIGKILLs process `pid` the moment a `sendMessage` whose text contains `needle`
    /// arrives, before it is answered (once): the crash right after a confirmation left
    /// the bot, closer than any test could time it from outside.
    pub fn kill_on_message(&self, pid: u32, needle: &str) {
        self.mutate(|s| s.kill_on_message = Some((pid, needle.to_string())));
    }
    /// Whether `getUpdates` is subject to fault injection (default `false`).
    pub fn set_fault_get_updates(&self, on: bool) {
        self.mutate(|s| s.fault_get_updates = on);
    }
    /// Force 409 "Conflict: terminated by other getUpdates request; ..." on every `getUpdates`.
    /// (Without it, a 409 is still produced naturally: like Telegram, a new `getUpdates` terminates
    /// an in-flight one, which then answers 409.)
    pub fn set_conflict(&self, on: bool) {
        self.mutate(|s| s.force_conflict = on);
    }
    /// Users answered as `administrator` by `getChatMember`/`getChatAdministrators` (replaces the list).
    /// Include [`Self::BOT_ID`] to make the bot an admin.
    pub fn set_admins(&self, chat_id: i64, user_ids: Vec<i64>) {
        self.mutate(|s| s.admins.insert(chat_id, user_ids));
    }
    /// Make `chat` (title, type, username) known so responses about it use it instead of a synthetic chat.
    pub fn register_chat(&self, chat: &FakeChat) {
        self.mutate(|s| s.chats.insert(chat.id, chat.json()));
    }
    /// Make the supergroup `chat` a forum (`is_forum`): sends to it may name a `message_thread_id`.
    pub fn make_forum(&self, chat: &FakeChat) {
        let mut forum = chat.json();
        forum["is_forum"] = json!(true);
        self.mutate(|s| s.chats.insert(chat.id, forum));
    }
    // ----- update injection ------------------------------------------------------------------

    /// A text message from `from` in `chat` (a `bot_command` entity is added for a leading `/cmd`).
    pub fn send_text(&self, chat: &FakeChat, from: &FakeUser, text: &str) -> i64 {
        self.send_message_with(chat, from, command_fields(text))
    }

    /// A text message from `from` in forum topic `topic` of the supergroup `chat`, as Telegram
    /// sends it: `message_thread_id` and `is_topic_message`, and the chat marked `is_forum`
    /// (from then on, sends to the chat may name a `message_thread_id`).
    pub fn send_text_in_topic(
        &self,
        chat: &FakeChat,
        from: &FakeUser,
        topic: i64,
        text: &str,
    ) -> i64 {
        let mut fields = command_fields(text);
        fields["message_thread_id"] = json!(topic);
        fields["is_topic_message"] = json!(true);
        self.make_forum(chat);
        self.mutate(|s| {
            s.users.insert(from.id, from.json());
            let msg = s.make_message(chat.id, from.json(), fields, false);
            s.push("message", msg)
        })
    }

    /// A text message an anonymous administrator sends in `chat` on behalf of the group: `from`
    /// is Telegram's placeholder user GroupAnonymousBot and `sender_chat` is the group itself.
    pub fn send_text_as_group(&self, chat: &FakeChat, text: &str) -> i64 {
        let mut fields = command_fields(text);
        fields["sender_chat"] = chat.json();
        let mut anonymous = FakeUser::new(Self::GROUP_ANONYMOUS_BOT_ID, "Group");
        anonymous.username = Some("GroupAnonymousBot".into());
        anonymous.is_bot = true;
        self.send_message_with(chat, &anonymous, fields)
    }

    /// A message from `from` in `chat` with arbitrary extra fields merged in (e.g. `reply_to_message`,
    /// `photo`, ...). Returns the update id; see [`Self::last_message_id`] for its message id.
    pub fn send_message_with(&self, chat: &FakeChat, from: &FakeUser, fields: Value) -> i64 {
        self.mutate(|s| {
            s.chats.insert(chat.id, chat.json());
            s.users.insert(from.id, from.json());
            let msg = s.make_message(chat.id, from.json(), fields, false);
            s.push("message", msg)
        })
    }

    /// A document message from `from` in `chat`: the file `file_name` with `bytes`, which
    /// `getFile` and the download endpoint then serve. `size` is the `file_size` Telegram
    /// reports (normally `bytes.len()`; larger to stand for a file the bot must refuse).
    /// Returns the update id.
    pub fn send_document(
        &self,
        chat: &FakeChat,
        from: &FakeUser,
        file_name: &str,
        bytes: &[u8],
        size: u64,
    ) -> i64 {
        let id = self.mutate(|s| {
            s.seq += 1;
            let id = format!("BQACAgIAAxkBAAI{}", s.seq);
            let path = format!("documents/file_{}.bin", s.seq);
            s.files.insert(id.clone(), (path, bytes.to_vec()));
            id
        });
        let fields = json!({"document": {
            "file_id": id, "file_unique_id": format!("u{id}"), "file_name": file_name,
            "mime_type": "application/octet-stream", "file_size": size,
        }});
        self.send_message_with(chat, from, fields)
    }

    /// The id of the last message (bot's or user's) in `chat_id`.
    pub fn last_message_id(&self, chat_id: i64) -> Option<i64> {
        self.lock().next_msg_id.get(&chat_id).copied()
    }

    /// A `callback_query` from `from` pressing a button with `data` under message `message_id`
    /// (the recorded message if known, else a synthetic bot message). Returns the update id.
    pub fn press_button(
        &self,
        chat: &FakeChat,
        from: &FakeUser,
        message_id: i64,
        data: &str,
    ) -> i64 {
        self.mutate(|s| {
            s.chats.entry(chat.id).or_insert_with(|| chat.json());
            s.users.insert(from.id, from.json());
            let msg = match s.messages.get(&(chat.id, message_id)) {
                Some(m) => m.msg.clone(),
                None => json!({"message_id": message_id, "date": now_unix(), "chat": chat.json(),
                               "from": bot_user(&Self::token(s)), "text": "..."}),
            };
            s.seq += 1;
            let id = format!("{}", 4_000_000_000_000_000_000u64 + s.seq);
            s.callbacks.insert(id.clone());
            let instance = format!(
                "{}",
                (chat.id as u64).wrapping_mul(2_654_435_761) % 10_000_000_000_000_000_000
            );
            s.push(
                "callback_query",
                json!({"id": id, "from": from.json(), "message": msg,
                "chat_instance": instance, "data": data}),
            )
        })
    }

    /// `user` votes `option_ids` in poll `poll_id` (empty = retract). Updates the poll's counts.
    /// Like Telegram: a non-anonymous (or unknown) poll yields a `poll_answer` update, an anonymous
    /// poll sent by the bot yields a `poll` update with the new counts. Returns the update id.
    pub fn answer_poll(&self, poll_id: &str, user: &FakeUser, option_ids: Vec<u64>) -> i64 {
        self.mutate(|s| {
            s.users.insert(user.id, user.json());
            let Some(&(c, m)) = s.polls.get(poll_id) else {
                return s.push(
                    "poll_answer",
                    json!({"poll_id": poll_id, "user": user.json(), "option_ids": option_ids}),
                );
            };
            let votes = s.poll_votes.entry(poll_id.to_string()).or_default();
            if option_ids.is_empty() {
                votes.remove(&user.id);
            } else {
                votes.insert(user.id, option_ids.clone());
            }
            let votes = votes.clone();
            let Some(stored) = s.messages.get_mut(&(c, m)) else {
                return s.push(
                    "poll_answer",
                    json!({"poll_id": poll_id, "user": user.json(), "option_ids": option_ids}),
                );
            };
            let poll = &mut stored.msg["poll"];
            let n = poll["options"].as_array().map(Vec::len).unwrap_or(0);
            for i in 0..n {
                let cnt = votes.values().filter(|v| v.contains(&(i as u64))).count();
                poll["options"][i]["voter_count"] = json!(cnt);
            }
            poll["total_voter_count"] = json!(votes.len());
            let anonymous = poll["is_anonymous"].as_bool().unwrap_or(true);
            let poll = poll.clone();
            if anonymous {
                s.push("poll", poll)
            } else {
                s.push(
                    "poll_answer",
                    json!({"poll_id": poll_id, "user": user.json(), "option_ids": option_ids}),
                )
            }
        })
    }

    /// A `my_chat_member` update: the bot's status in `chat` changed from `old_status` to
    /// `new_status` ("creator", "administrator", "member", "restricted", "left", "kicked"),
    /// done by the chat owner. Side effects like Telegram: "kicked"/"left" make later requests to
    /// the chat fail with 403; "member"/"administrator" undo that ("administrator" adds the bot to the admins).
    pub fn chat_member_update(&self, chat: &FakeChat, old_status: &str, new_status: &str) -> i64 {
        let owner = FakeUser::new(777_000_001, "Owner");
        self.chat_member_update_by(chat, &owner, old_status, new_status)
    }

    /// Like [`Self::chat_member_update`] with an explicit acting user `from`.
    pub fn chat_member_update_by(
        &self,
        chat: &FakeChat,
        from: &FakeUser,
        old_status: &str,
        new_status: &str,
    ) -> i64 {
        self.mutate(|s| {
            s.chats.insert(chat.id, chat.json());
            let bot = bot_user(&Self::token(s));
            let bid = bot["id"].as_i64().unwrap_or(Self::BOT_ID);
            match new_status {
                "kicked" => {
                    s.behaviours.insert(
                        chat.id,
                        if chat.kind == ChatType::Private {
                            Behaviour::Blocked
                        } else {
                            Behaviour::Kicked
                        },
                    );
                }
                "left" => {
                    s.behaviours.insert(chat.id, Behaviour::Left);
                }
                _ => {
                    s.behaviours.remove(&chat.id);
                }
            }
            let admins = s.admins.entry(chat.id).or_default();
            admins.retain(|&a| a != bid);
            if new_status == "administrator" {
                admins.push(bid);
            }
            s.push(
                "my_chat_member",
                json!({"chat": chat.json(), "from": from.json(), "date": now_unix(),
                "old_chat_member": member_json(bot.clone(), old_status),
                "new_chat_member": member_json(bot, new_status)}),
            )
        })
    }

    // ----- inspection --------------------------------------------------------------------------

    /// All recorded requests, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }
    /// Files the bot sent with sendDocument, in order.
    pub fn documents(&self) -> Vec<SentDocument> {
        self.lock().documents.clone()
    }

    /// Recorded requests of one method (case-insensitive: `"sendMessage"` matches `SendMessage`).
    pub fn requests_for(&self, method: &str) -> Vec<Recorded> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.is(method))
            .cloned()
            .collect()
    }
    /// Bodies of successful `sendMessage` calls, oldest first.
    pub fn sent_messages(&self) -> Vec<Value> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.is("sendMessage") && r.ok())
            .map(|r| r.body.clone())
            .collect()
    }
    /// Bodies of successful `sendMessage` calls to `chat_id`, oldest first.
    pub fn sent_messages_to(&self, chat_id: i64) -> Vec<Value> {
        self.sent_messages()
            .into_iter()
            .filter(|m| m["chat_id"].as_i64() == Some(chat_id))
            .collect()
    }
    /// Texts of successful `sendMessage` calls to `chat_id`, oldest first.
    pub fn sent_texts_to(&self, chat_id: i64) -> Vec<String> {
        self.sent_messages_to(chat_id)
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
    /// Current state (after edits) of a message the fake knows about, as a `Message` JSON object.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.lock()
            .messages
            .get(&(chat_id, message_id))
            .map(|m| m.msg.clone())
    }
    /// Current state of all messages the bot sent to `chat_id` (deleted ones excluded), by id.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<Value> {
        let st = self.lock();
        let mut v: Vec<_> = st
            .messages
            .iter()
            .filter(|((c, _), m)| *c == chat_id && m.from_bot)
            .map(|(k, m)| (k.1, m.msg.clone()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v.into_iter().map(|(_, m)| m).collect()
    }
    /// The `Poll` object (with current counts) of a poll sent by the bot.
    pub fn poll(&self, poll_id: &str) -> Option<Value> {
        let st = self.lock();
        let key = st.polls.get(poll_id)?;
        st.messages.get(key).map(|m| m.msg["poll"].clone())
    }
    /// The webhook URL set by `setWebhook` (None after `deleteWebhook`).
    pub fn webhook_url(&self) -> Option<String> {
        self.lock()
            .webhook
            .as_ref()
            .and_then(|w| w["url"].as_str().map(String::from))
    }
    /// Updates queued and not yet confirmed by a `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        self.lock().updates.len()
    }
    /// Forget recorded requests (state such as messages, polls and behaviours is kept).
    pub fn clear(&self) {
        self.mutate(|s| s.requests.clear());
    }

    /// Wait until `pred(&requests)` holds or `timeout` passes; returns the final verdict.
    /// Wakes on every recorded request (no busy polling). `pred` runs without any lock held.
    pub async fn wait_until<F: FnMut(&[Recorded]) -> bool>(
        &self,
        mut pred: F,
        timeout: Duration,
    ) -> bool {
        self.wait_state(|t| pred(&t.requests()), timeout).await
    }

    /// Wait until `pred(self)` holds or `timeout` passes (wakes on any request or state change).
    pub async fn wait_state<F: FnMut(&FakeTelegram) -> bool>(
        &self,
        mut pred: F,
        timeout: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if pred(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return pred(self);
            }
        }
    }

    /// Wait until at least `n` requests of `method` were recorded.
    pub async fn wait_for_requests(&self, method: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until(|r| r.iter().filter(|r| r.is(method)).count() >= n, timeout)
            .await
    }

    /// Wait until every queued update was confirmed by the client's `getUpdates` offset
    /// (i.e. the bot fetched everything and asked for more).
    pub async fn wait_updates_consumed(&self, timeout: Duration) -> bool {
        self.wait_state(|t| t.pending_updates() == 0, timeout).await
    }
}

/// The fields of a text message: the text, and a `bot_command` entity for a leading `/cmd`.
fn command_fields(text: &str) -> Value {
    let mut fields = json!({"text": text});
    if text.starts_with('/') {
        let len = text.split_whitespace().next().map(utf16_len).unwrap_or(0);
        fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    fields
}

// ----- state helpers ---------------------------------------------------------------------------

impl St {
    fn push(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut u = json!({"update_id": id});
        u[kind] = payload;
        self.updates.push_back((id, u));
        id
    }

    fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            while self.updates.front().is_some_and(|(id, _)| *id < offset) {
                self.updates.pop_front();
            }
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                self.updates.pop_front();
            }
        }
    }

    fn chat_json(&self, id: i64) -> Value {
        if let Some(c) = self.chats.get(&id) {
            return c.clone();
        }
        if id > 0 {
            json!({"id": id, "type": "private", "first_name": format!("User{id}")})
        } else if id <= -1_000_000_000_000 {
            json!({"id": id, "type": "supergroup", "title": format!("Supergroup {id}")})
        } else {
            json!({"id": id, "type": "group", "title": format!("Group {id}")})
        }
    }

    fn user_json(&self, id: i64, token: &str) -> Value {
        if id == bot_id(token) {
            return bot_user(token);
        }
        self.users.get(&id).cloned().unwrap_or_else(
            || json!({"id": id, "is_bot": false, "first_name": format!("User{id}")}),
        )
    }

    fn make_message(&mut self, chat_id: i64, from: Value, fields: Value, from_bot: bool) -> Value {
        let n = self.next_msg_id.entry(chat_id).or_insert(0);
        *n += 1;
        let id = *n;
        let mut m = json!({"message_id": id, "from": from, "chat": self.chat_json(chat_id), "date": now_unix()});
        if let Value::Object(f) = fields {
            for (k, v) in f {
                m[k] = v;
            }
        }
        self.messages.insert(
            (chat_id, id),
            Stored {
                msg: m.clone(),
                from_bot,
            },
        );
        m
    }

    fn status_of(&self, chat: i64, user: i64) -> &'static str {
        if self.admins.get(&chat).is_some_and(|a| a.contains(&user)) {
            "administrator"
        } else {
            "member"
        }
    }

    fn check_behaviour(&self, chat: i64) -> Result<(), ApiErr> {
        let kind = self.chat_json(chat)["type"]
            .as_str()
            .unwrap_or("group")
            .to_string();
        match self.behaviours.get(&chat) {
            None | Some(Behaviour::Muted) => Ok(()),
            Some(Behaviour::Blocked) => {
                Err(ApiErr::new(403, "Forbidden: bot was blocked by the user"))
            }
            Some(Behaviour::Kicked) if chat > 0 => {
                Err(ApiErr::new(403, "Forbidden: bot was blocked by the user"))
            }
            Some(Behaviour::Kicked) => Err(ApiErr::new(
                403,
                format!("Forbidden: bot was kicked from the {kind} chat"),
            )),
            Some(Behaviour::Left) => Err(ApiErr::new(
                403,
                format!("Forbidden: bot is not a member of the {kind} chat"),
            )),
            Some(Behaviour::NotFound) => Err(bad("chat not found")),
            Some(Behaviour::Migrated(to)) => Err(ApiErr {
                params: Some(json!({"migrate_to_chat_id": to})),
                ..bad("group chat was upgraded to a supergroup chat")
            }),
        }
    }

    fn enforce(&mut self, chat: i64) -> Result<(), u64> {
        let Some(l) = self.limits else { return Ok(()) };
        let now = Instant::now();
        let tol = l.tolerance;
        let (sec, min) = (Duration::from_secs(1) - tol, Duration::from_secs(60) - tol);
        let wait = |t: Instant, w: Duration| {
            (w.saturating_sub(now - t).as_secs_f64().ceil() as u64).max(1)
        };
        self.hist_global.retain(|t| now - *t < sec);
        if l.global_sec > 0 && self.hist_global.len() >= l.global_sec as usize {
            return Err(wait(
                self.hist_global[self.hist_global.len() - l.global_sec as usize],
                sec,
            ));
        }
        let h = self.hist_chat.entry(chat).or_default();
        h.retain(|t| now - *t < min);
        let recent: Vec<Instant> = h.iter().copied().filter(|t| now - *t < sec).collect();
        if l.per_chat_sec > 0 && recent.len() >= l.per_chat_sec as usize {
            return Err(wait(recent[recent.len() - l.per_chat_sec as usize], sec));
        }
        if chat < 0 && l.per_group_min > 0 && h.len() >= l.per_group_min as usize {
            return Err(wait(h[h.len() - l.per_group_min as usize], min));
        }
        h.push_back(now);
        self.hist_global.push_back(now);
        Ok(())
    }
}

fn member_json(user: Value, status: &str) -> Value {
    match status {
        "creator" | "owner" => json!({"status": "creator", "user": user, "is_anonymous": false}),
        "administrator" | "admin" => {
            json!({"status": "administrator", "user": user, "can_be_edited": false,
            "is_anonymous": false, "can_manage_chat": true, "can_change_info": true, "can_delete_messages": true,
            "can_manage_video_chats": true, "can_invite_users": true, "can_restrict_members": true,
            "can_promote_members": false, "can_post_stories": false, "can_edit_stories": false,
            "can_delete_stories": false, "can_pin_messages": true, "can_manage_topics": false})
        }
        "restricted" => {
            json!({"status": "restricted", "user": user, "until_date": 0, "is_member": true,
            "can_send_messages": false, "can_send_audios": false, "can_send_documents": false,
            "can_send_photos": false, "can_send_videos": false, "can_send_video_notes": false,
            "can_send_voice_notes": false, "can_send_other_messages": false, "can_add_web_page_previews": false,
            "can_change_info": false, "can_invite_users": false, "can_pin_messages": false,
            "can_manage_topics": false, "can_send_polls": false})
        }
        "left" => json!({"status": "left", "user": user}),
        "kicked" | "banned" => json!({"status": "kicked", "user": user, "until_date": 0}),
        _ => json!({"status": "member", "user": user}),
    }
}

fn commands_key(p: &Value) -> String {
    let scope = p
        .get("scope")
        .cloned()
        .filter(|s| !s.is_null())
        .unwrap_or(json!({"type": "default"}));
    let lang = p.get("language_code").and_then(Value::as_str).unwrap_or("");
    format!("{scope}|{lang}")
}

// ----- HTTP plumbing ----------------------------------------------------------------------------

/// Per-connection info; `kill` makes the connection's IO fail (used by [`FaultKind::Drop`]).
#[derive(Clone, Debug, Default)]
struct ConnMeta {
    kill: Arc<AtomicBool>,
}

/// A TCP listener whose connections can be killed from a handler via [`ConnMeta`].
struct FaultListener(TcpListener);

impl axum::serve::Listener for FaultListener {
    type Io = FaultIo;
    type Addr = ConnMeta;
    async fn accept(&mut self) -> (FaultIo, ConnMeta) {
        loop {
            if let Ok((inner, _)) = self.0.accept().await {
                let _ = inner.set_nodelay(true);
                let meta = ConnMeta::default();
                return (
                    FaultIo {
                        inner,
                        kill: meta.kill.clone(),
                    },
                    meta,
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await; // e.g. EMFILE: retry
        }
    }
    fn local_addr(&self) -> io::Result<ConnMeta> {
        Ok(ConnMeta::default())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, FaultListener>>
    for ConnMeta
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, FaultListener>) -> Self {
        stream.remote_addr().clone()
    }
}

struct FaultIo {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

fn killed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "fake telegram: connection dropped (fault injection)",
    )
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn percent_decode(s: &str) -> String {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    let hex = |c: u8| (c as char).to_digit(16);
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form_into(map: &mut Map<String, Value>, s: &str) {
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            percent_decode(&k.replace('+', " ")),
            percent_decode(&v.replace('+', " ")),
        );
        let parsed = if v.starts_with('{') || v.starts_with('[') {
            serde_json::from_str(&v).ok()
        } else {
            None
        };
        map.insert(k, parsed.unwrap_or(Value::String(v)));
    }
}

fn parse_params(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Result<Value, String> {
    let mut map = Map::new();
    if let Some(q) = uri.query() {
        form_into(&mut map, q);
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(map));
    }
    if ct.starts_with("application/json") || (ct.is_empty() && body.first() == Some(&b'{')) {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => map.extend(o),
            Ok(_) => return Err("Bad Request: parameters must be a JSON object".into()),
            Err(_) => return Err("Bad Request: can't parse JSON object".into()),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        form_into(&mut map, &String::from_utf8_lossy(body));
    } else if ct.starts_with("multipart/form-data") {
        // teloxide sends setWebhook (which may carry a certificate) as multipart; text
        // fields are enough here.
        let boundary = ct
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_string())
            .ok_or("Bad Request: multipart without a boundary")?;
        // The boundary was lowercased with the content type; find it case-insensitively.
        let text = String::from_utf8_lossy(body).to_string();
        let lower = text.to_ascii_lowercase();
        let delimiter = format!("--{boundary}");
        let mut starts: Vec<usize> = lower.match_indices(&delimiter).map(|(i, _)| i).collect();
        starts.push(text.len());
        for window in starts.windows(2) {
            let part = &text[window[0] + delimiter.len()..window[1]];
            let Some((head, value)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let Some(name) = head
                .split("name=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
            else {
                continue;
            };
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            map.insert(name.to_string(), Value::String(value.to_string()));
        }
    } else {
        return Err(format!("Bad Request: unsupported Content-Type \"{ct}\""));
    }
    Ok(Value::Object(map))
}

fn api_response(r: &ApiResult) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, axum::Json(json!({"ok": true, "result": v}))).into_response(),
        Err(e) => {
            let mut body = json!({"ok": false, "error_code": e.code, "description": e.desc});
            if let Some(p) = &e.params {
                body["parameters"] = p.clone();
            }
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(body)).into_response()
        }
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<ConnMeta>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut at = Instant::now();
    let path = percent_decode(uri.path());
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&inner, rest, at);
    }
    let split = path.strip_prefix("/bot").and_then(|r| r.split_once('/'));
    let Some((token, method)) =
        split.filter(|(t, m)| !t.is_empty() && !m.is_empty() && !m.contains('/'))
    else {
        return api_response(&Err(ApiErr::new(404, "Not Found")));
    };
    let (token, method) = (token.to_string(), method.to_string());
    let key = method.to_ascii_lowercase();
    let jitter = inner.lock().arrival_jitter;
    if key != "getupdates" && !jitter.is_zero() {
        tokio::time::sleep(jitter.mul_f64(rand::random::<f64>())).await;
        at = Instant::now();
    }
    let record = |body: Value, status: u16| {
        inner.lock().requests.push(Recorded {
            method: method.clone(),
            body,
            at,
            status,
        });
        inner.changed.notify_waiters();
    };
    let params = match parse_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(desc) => {
            record(
                Value::String(String::from_utf8_lossy(&body).into_owned()),
                400,
            );
            return api_response(&Err(ApiErr::new(400, desc)));
        }
    };
    let failing = {
        let mut st = inner.lock();
        match st.failing_methods.get_mut(&key) {
            Some(0) => true,
            Some(after) => {
                *after -= 1;
                false
            }
            None => false,
        }
    };
    if failing {
        record(params, 500);
        return api_response(&Err(ApiErr::new(500, "Internal Server Error")));
    }
    let (fault, delay) = {
        let st = inner.lock();
        let eligible = st.fault_rate > 0.0 && (key != "getupdates" || st.fault_get_updates);
        let fault = if eligible && rand::random::<f64>() < st.fault_rate {
            let all = [
                FaultKind::Status500,
                FaultKind::Status502,
                FaultKind::Drop,
                FaultKind::Delay,
            ];
            let kinds: &[FaultKind] = if st.fault_kinds.is_empty() {
                &all
            } else {
                &st.fault_kinds
            };
            Some(kinds[rand::random_range(0..kinds.len())])
        } else {
            None
        };
        (fault, st.fault_delay)
    };
    match fault {
        Some(FaultKind::Status500) => {
            record(params, 500);
            return api_response(&Err(ApiErr::new(500, "Internal Server Error")));
        }
        Some(FaultKind::Status502) => {
            record(params, 502);
            let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                html,
            )
                .into_response();
        }
        Some(FaultKind::Drop) => {
            conn.kill.store(true, Ordering::SeqCst);
            record(params, 0);
            return StatusCode::OK.into_response();
        }
        _ => {}
    }
    if key == "sendmessage" {
        let victim = {
            let mut st = inner.lock();
            let text = params
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match &st.kill_on_message {
                Some((_, needle)) if text.contains(needle.as_str()) => st.kill_on_message.take(),
                _ => None,
            }
        };
        if let Some((pid, _)) = victim {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
    let result = if key == "getupdates" {
        get_updates(&inner, &params).await
    } else {
        call(&inner, &key, &token, &params)
    };
    if key == "senddocument" && result.is_ok() {
        let chat_id = p_i64(&params, "chat_id").unwrap_or(0);
        let files = multipart_files(&headers, &body);
        let mut st = inner.lock();
        for (_, file_name, bytes) in files {
            st.documents.push(SentDocument {
                chat_id,
                file_name,
                bytes,
            });
        }
    }
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.code,
    };
    record(params, status);
    if fault == Some(FaultKind::Delay) {
        tokio::time::sleep(delay).await;
    }
    let held_back = inner.lock().response_delays.get(key.as_str()).copied();
    if let Some(delay) = held_back {
        tokio::time::sleep(delay).await;
    }
    api_response(&result)
}

/// `GET /file/bot<token>/<file_path>`: a file's bytes, as Telegram's file server sends
/// them; recorded as method `file` with the path.
fn download(inner: &Inner, rest: &str, at: Instant) -> Response {
    let file = rest.split_once('/').and_then(|(token, path)| {
        let st = inner.lock();
        let known = st.last_token.as_deref() == Some(token);
        st.files
            .values()
            .find(|(p, _)| known && p == path)
            .map(|(_, bytes)| bytes.clone())
    });
    let status = if file.is_some() { 200 } else { 404 };
    inner.lock().requests.push(Recorded {
        method: "file".into(),
        body: Value::String(rest.split_once('/').map_or("", |(_, p)| p).to_string()),
        at,
        status,
    });
    inner.changed.notify_waiters();
    match file {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

struct PollGuard(Arc<Inner>, u64);
impl Drop for PollGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        if st.active_poll == Some(self.1) {
            st.active_poll = None;
        }
        st.terminated.remove(&self.1);
    }
}

async fn get_updates(inner: &Arc<Inner>, p: &Value) -> ApiResult {
    let offset = p_i64(p, "offset").unwrap_or(0);
    let limit = p_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p_i64(p, "timeout").unwrap_or(0).clamp(0, 3600) as u64;
    let me = {
        let mut st = inner.lock();
        if st.force_conflict {
            return Err(ApiErr::new(409, CONFLICT));
        }
        if st.webhook.is_some() {
            return Err(ApiErr::new(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        st.confirm(offset);
        st.poll_seq += 1;
        let me = st.poll_seq;
        if let Some(old) = st.active_poll.replace(me) {
            st.terminated.insert(old);
        }
        me
    };
    inner.changed.notify_waiters();
    let _guard = PollGuard(inner.clone(), me);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = inner.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = inner.lock();
            if st.terminated.remove(&me) {
                return Err(ApiErr::new(409, CONFLICT));
            }
            let ups: Vec<Value> = st
                .updates
                .iter()
                .take(limit)
                .map(|(_, u)| u.clone())
                .collect();
            if !ups.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(Value::Array(ups));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

// ----- parameter helpers -------------------------------------------------------------------------

fn p_i64(p: &Value, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn p_str<'a>(p: &'a Value, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

fn p_bool(p: &Value, k: &str) -> Option<bool> {
    match p.get(k)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true" || s == "1"),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

fn resolve_chat(st: &St, v: &Value) -> Result<i64, ApiErr> {
    let id = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if s.starts_with('@') => {
            let name = &s[1..];
            st.chats
                .iter()
                .find(|(_, c)| c["username"].as_str() == Some(name))
                .map(|(id, _)| *id)
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match id {
        Some(id) if id != 0 => Ok(id),
        _ => Err(bad("chat not found")),
    }
}

fn is_send_call(m: &str) -> bool {
    ["send", "edit", "forward", "copy"]
        .iter()
        .any(|p| m.starts_with(p))
        || m == "stoppoll"
        || m == "deletemessage"
}

fn is_new_message(m: &str) -> bool {
    m != "sendchataction" && ["send", "forward", "copy"].iter().any(|p| m.starts_with(p))
}

// ----- method implementations ------------------------------------------------------------------

/// `Ok(())` if `ok`, else a 400 "Bad Request: {desc}".
fn check(ok: bool, desc: impl std::fmt::Display) -> Result<(), ApiErr> {
    if ok { Ok(()) } else { Err(bad(desc)) }
}

fn too_many(secs: u64) -> ApiErr {
    let desc = format!("Too Many Requests: retry after {secs}");
    ApiErr {
        params: Some(json!({"retry_after": secs})),
        ..ApiErr::new(429, desc)
    }
}

fn call(inner: &Inner, m: &str, token: &str, p: &Value) -> ApiResult {
    let mut st = inner.lock();
    st.last_token = Some(token.to_string());
    let chat = match p.get("chat_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(resolve_chat(&st, v)?),
    };
    if is_send_call(m) && st.rate_limit_next.0 > 0 {
        st.rate_limit_next.0 -= 1;
        return Err(too_many(st.rate_limit_next.1));
    }
    if let Some((left, secs)) = st.rate_limit_method.get_mut(m)
        && *left > 0
    {
        *left -= 1;
        return Err(too_many(*secs));
    }
    if is_send_call(m)
        && let Some(c) = chat
        && let Some((left, secs)) = st.rate_limit_chat.get_mut(&c)
        && *left > 0
    {
        *left -= 1;
        return Err(too_many(*secs));
    }
    if let Some(c) = chat {
        st.check_behaviour(c)?;
        if is_new_message(m) && matches!(st.behaviours.get(&c), Some(Behaviour::Muted)) {
            return Err(bad("not enough rights to send text messages to the chat"));
        }
        if is_new_message(m) {
            st.enforce(c).map_err(too_many)?;
        }
    }
    let need_chat = || chat.ok_or_else(|| bad("chat_id is empty"));
    let bot = bot_user(token);
    let res = match m {
        "getfile" => {
            let id = p_str(p, "file_id").unwrap_or_default();
            let (path, bytes) = st.files.get(id).ok_or_else(|| bad("invalid file_id"))?;
            if bytes.len() > 20 * 1024 * 1024 {
                return Err(bad("file is too big"));
            }
            json!({"file_id": id, "file_unique_id": format!("u{id}"),
                   "file_size": bytes.len(), "file_path": path})
        }
        "getme" => {
            let mut me = bot;
            me["can_join_groups"] = json!(true);
            for k in [
                "can_read_all_group_messages",
                "supports_inline_queries",
                "can_connect_to_business",
                "has_main_web_app",
            ] {
                me[k] = json!(false)
            }
            me
        }
        "deletewebhook" => {
            st.webhook = None;
            if p_bool(p, "drop_pending_updates") == Some(true) {
                st.updates.clear();
            }
            json!(true)
        }
        "setwebhook" => {
            let url = p_str(p, "url").unwrap_or("");
            check(
                url.is_empty() || url.starts_with("https://"),
                "bad webhook: An HTTPS URL must be provided for webhook",
            )?;
            st.webhook = (!url.is_empty()).then(|| p.clone());
            json!(true)
        }
        "getwebhookinfo" => {
            let mut info = json!({"url": "", "has_custom_certificate": false, "pending_update_count": st.updates.len()});
            if let Some(w) = &st.webhook {
                info["url"] = w["url"].clone();
                info["max_connections"] = json!(p_i64(w, "max_connections").unwrap_or(40));
            }
            info
        }
        "setmycommands" => {
            let cmds = p
                .get("commands")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("parameter \"commands\" is required"))?;
            check(cmds.len() <= 100, "BOT_COMMANDS_TOO_MUCH")?;
            for c in cmds {
                let name = c["command"].as_str().unwrap_or("");
                let valid = name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                check(
                    (1..=32).contains(&name.len()) && valid,
                    "BOT_COMMAND_INVALID",
                )?;
                let d = c["description"].as_str().unwrap_or("").chars().count();
                check(
                    (1..=256).contains(&d),
                    "command description must be non-empty",
                )?;
            }
            st.commands.insert(commands_key(p), json!(cmds));
            json!(true)
        }
        "getmycommands" => st
            .commands
            .get(&commands_key(p))
            .cloned()
            .unwrap_or(json!([])),
        "deletemycommands" => {
            st.commands.remove(&commands_key(p));
            json!(true)
        }
        "sendmessage" => {
            let c = need_chat()?;
            let (text, entities) = formatted(p, "text", "parse_mode", "entities")?;
            check_text(&text, false)?;
            let mut fields = json!({"text": text});
            if !entities.is_empty() {
                fields["entities"] = json!(entities)
            }
            if let Some(mk) = check_markup(p.get("reply_markup"))? {
                fields["reply_markup"] = mk
            }
            if let Some(r) = reply_to(&st, c, p)? {
                fields["reply_to_message"] = r
            }
            topic_fields(&st, c, p, &mut fields)?;
            st.make_message(c, bot, fields, true)
        }
        "editmessagetext" | "editmessagereplymarkup" => {
            edit_message(&mut st, m == "editmessagetext", chat, p)?
        }
        "deletemessage" => {
            let key = (need_chat()?, p_i64(p, "message_id").unwrap_or(0));
            check(
                st.messages.remove(&key).is_some(),
                "message to delete not found",
            )?;
            json!(true)
        }
        "senddocument" => {
            let c = need_chat()?;
            let mut fields = json!({"document": {"file_id": format!("doc{}", now_unix()), "file_unique_id": "doc"}});
            if let Some(caption) = p_str(p, "caption") {
                fields["caption"] = json!(caption);
            }
            st.make_message(c, bot, fields, true)
        }
        "answercallbackquery" => {
            let id = p_str(p, "callback_query_id").unwrap_or("");
            if !st.callbacks.remove(id) {
                return Err(ApiErr::new(400, INVALID_QUERY));
            }
            json!(true)
        }
        "sendpoll" => {
            let c = need_chat()?;
            let mut fields = json!({"poll": build_poll(&mut st, p)?});
            if let Some(mk) = check_markup(p.get("reply_markup"))? {
                fields["reply_markup"] = mk
            }
            topic_fields(&st, c, p, &mut fields)?;
            let msg = st.make_message(c, bot, fields, true);
            let key = (c, msg["message_id"].as_i64().unwrap_or(0));
            st.polls
                .insert(msg["poll"]["id"].as_str().unwrap_or("").to_string(), key);
            msg
        }
        "stoppoll" => {
            let key = (need_chat()?, p_i64(p, "message_id").unwrap_or(0));
            let stored = st
                .messages
                .get_mut(&key)
                .filter(|s| s.msg.get("poll").is_some());
            let stored = stored.ok_or_else(|| bad("message with poll to stop not found"))?;
            check(stored.from_bot, "poll can't be stopped")?;
            check(
                stored.msg["poll"]["is_closed"] != json!(true),
                "poll has already been closed",
            )?;
            stored.msg["poll"]["is_closed"] = json!(true);
            let poll = stored.msg["poll"].clone();
            st.push("poll", poll.clone());
            poll
        }
        "getchatmember" => {
            let c = need_chat()?;
            let uid = p_i64(p, "user_id").ok_or_else(|| bad("user not found"))?;
            check(c < 0 || uid == c || uid == bot_id(token), "user not found")?;
            member_json(
                st.user_json(uid, token),
                if c > 0 {
                    "member"
                } else {
                    st.status_of(c, uid)
                },
            )
        }
        "getchatadministrators" => {
            let c = need_chat()?;
            check(c < 0, "there are no administrators in the private chat")?;
            let admins = st.admins.get(&c).into_iter().flatten();
            json!(
                admins
                    .map(|&a| member_json(st.user_json(a, token), "administrator"))
                    .collect::<Vec<_>>()
            )
        }
        "getchat" => {
            let mut info = st.chat_json(need_chat()?);
            info["accepted_gift_types"] = json!({"unlimited_gifts": false, "limited_gifts": false,
                "unique_gifts": false, "premium_subscription": false});
            info["max_reaction_count"] = json!(11);
            info["accent_color_id"] = json!(0);
            info
        }
        "leavechat" => {
            let c = need_chat()?;
            check(
                c < 0,
                "chat member status can't be changed in private chats",
            )?;
            st.behaviours.insert(c, Behaviour::Left);
            json!(true)
        }
        "sendchataction" | "pinchatmessage" | "unpinchatmessage" => {
            need_chat()?;
            json!(true)
        }
        "setmydescription" | "setmyshortdescription" | "setmyname" | "setchatmenubutton" => {
            json!(true)
        }
        _ => return Err(ApiErr::new(404, "Not Found")),
    };
    Ok(res)
}

fn edit_message(st: &mut St, is_text: bool, chat: Option<i64>, p: &Value) -> ApiResult {
    let (text, entities) = if is_text {
        formatted(p, "text", "parse_mode", "entities")?
    } else {
        Default::default()
    };
    if is_text {
        check_text(&text, true)?;
    }
    let new_mk = check_markup(p.get("reply_markup"))?.unwrap_or(Value::Null);
    if p_str(p, "inline_message_id").is_some() {
        return Ok(json!(true));
    }
    let c = chat.ok_or_else(|| bad("chat_id is empty"))?;
    let mid = p_i64(p, "message_id").ok_or_else(|| bad("message identifier is not specified"))?;
    let stored = st
        .messages
        .get_mut(&(c, mid))
        .ok_or_else(|| bad("message to edit not found"))?;
    check(stored.from_bot, "message can't be edited")?;
    let msg = &mut stored.msg;
    check(
        !is_text || msg.get("text").is_some(),
        "there is no text in the message to edit",
    )?;
    let new_ents = if entities.is_empty() {
        Value::Null
    } else {
        json!(entities)
    };
    let old_ents = msg.get("entities").cloned().unwrap_or(Value::Null);
    let old_mk = msg.get("reply_markup").cloned().unwrap_or(Value::Null);
    let same_text =
        !is_text || (msg["text"].as_str() == Some(text.as_str()) && old_ents == new_ents);
    if same_text && old_mk == new_mk {
        return Err(ApiErr::new(400, NOT_MODIFIED));
    }
    let obj = msg
        .as_object_mut()
        .ok_or_else(|| bad("message to edit not found"))?;
    let mut set = |k: &str, v: Value| {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.into(), v);
        }
    };
    if is_text {
        set("text", json!(text));
        set("entities", new_ents);
    }
    set("reply_markup", new_mk); // like Telegram: no reply_markup in an edit removes the keyboard
    set("edit_date", json!(now_unix()));
    Ok(msg.clone())
}

/// `message_thread_id` of a send: only forum supergroups have topics (Telegram answers "message
/// thread not found" elsewhere); the sent message then carries it with `is_topic_message`.
fn topic_fields(st: &St, chat: i64, p: &Value, fields: &mut Value) -> Result<(), ApiErr> {
    let Some(topic) = p_i64(p, "message_thread_id") else {
        return Ok(());
    };
    if st.chat_json(chat)["is_forum"] != json!(true) {
        return Err(bad("message thread not found"));
    }
    fields["message_thread_id"] = json!(topic);
    fields["is_topic_message"] = json!(true);
    Ok(())
}

fn reply_to(st: &St, chat: i64, p: &Value) -> Result<Option<Value>, ApiErr> {
    let (mid, allow) = match p.get("reply_parameters").filter(|r| r.is_object()) {
        Some(r) => (
            p_i64(r, "message_id"),
            p_bool(r, "allow_sending_without_reply"),
        ),
        None => (
            p_i64(p, "reply_to_message_id"),
            p_bool(p, "allow_sending_without_reply"),
        ),
    };
    let Some(mid) = mid else { return Ok(None) };
    match st.messages.get(&(chat, mid)) {
        Some(m) => {
            let mut r = m.msg.clone();
            r.as_object_mut().map(|o| o.remove("reply_to_message"));
            Ok(Some(r))
        }
        None => check(allow == Some(true), "message to be replied not found").map(|_| None),
    }
}

fn check_text(text: &str, edit: bool) -> Result<(), ApiErr> {
    check(!text.trim().is_empty(), "message text is empty")?;
    check(
        utf16_len(text) <= MAX_MESSAGE_LEN,
        if edit {
            "MESSAGE_TOO_LONG"
        } else {
            "message is too long"
        },
    )
}

/// Parse `p[text_key]` according to `p[mode_key]`; returns (plain text, entities).
/// Only HTML is validated; `MarkdownV2`/`Markdown` text is passed through unchanged.
fn formatted(
    p: &Value,
    text_key: &str,
    mode_key: &str,
    ents_key: &str,
) -> Result<(String, Vec<Value>), ApiErr> {
    let text = match p.get(text_key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    match p_str(p, mode_key)
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "html" => parse_html(&text),
        "" | "markdown" | "markdownv2" => Ok((
            text,
            p.get(ents_key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        )),
        _ => Err(bad("unsupported parse_mode")),
    }
}

fn check_markup(m: Option<&Value>) -> Result<Option<Value>, ApiErr> {
    const BAD_JSON: &str = "can't parse reply keyboard markup JSON object";
    let m = match m {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| bad(BAD_JSON))?,
        Some(v) => v.clone(),
    };
    let Some(rows) = m.get("inline_keyboard") else {
        return check(m.is_object(), BAD_JSON).map(|_| None); // reply keyboards are not echoed
    };
    let rows = rows
        .as_array()
        .ok_or_else(|| bad("field \"inline_keyboard\" must be an Array"))?;
    let actions = [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "copy_text",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
    ];
    for b in rows.iter().flat_map(|r| r.as_array().into_iter().flatten()) {
        check(
            b["text"].is_string(),
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        )?;
        let has_action = actions
            .iter()
            .any(|a| b.get(*a).is_some_and(|v| !v.is_null()));
        check(
            has_action,
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        )?;
        if let Some(d) = b.get("callback_data").filter(|v| !v.is_null()) {
            check(
                (1..=64).contains(&d.as_str().map_or(0, str::len)),
                "BUTTON_DATA_INVALID",
            )?;
        }
        if let Some(u) = b.get("url").and_then(Value::as_str) {
            let ok = ["http://", "https://", "tg://"]
                .iter()
                .any(|s| u.starts_with(s))
                && !u.contains(' ');
            check(ok, "BUTTON_URL_INVALID")?;
        }
    }
    check(
        rows.iter().all(Value::is_array),
        "field \"inline_keyboard\" must be an Array of Arrays",
    )?;
    let empty = rows.iter().all(|r| r.as_array().is_none_or(Vec::is_empty));
    Ok((!empty).then(|| json!({"inline_keyboard": rows})))
}

fn build_poll(st: &mut St, p: &Value) -> Result<Value, ApiErr> {
    let question = p_str(p, "question").unwrap_or("");
    check(!question.is_empty(), "poll question must be non-empty")?;
    let max_q = format!("poll question length must not exceed {MAX_POLL_QUESTION}");
    check(question.chars().count() <= MAX_POLL_QUESTION, max_q)?;
    let opts: Vec<&str> = match p.get("options") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|o| o.as_str().or_else(|| o["text"].as_str()).unwrap_or(""))
            .collect(),
        _ => vec![],
    };
    check(
        opts.len() >= MIN_POLL_OPTIONS,
        "poll must have at least 2 option",
    )?;
    check(
        opts.len() <= MAX_POLL_OPTIONS,
        format!("poll can't have more than {MAX_POLL_OPTIONS} options"),
    )?;
    check(
        opts.iter().all(|o| !o.is_empty()),
        "poll options must be non-empty",
    )?;
    let max_o = format!("poll options length must not exceed {MAX_POLL_OPTION_LEN}");
    check(
        opts.iter()
            .all(|o| o.chars().count() <= MAX_POLL_OPTION_LEN),
        max_o,
    )?;
    let quiz = match p_str(p, "type").unwrap_or("regular") {
        "quiz" => true,
        "regular" | "" => false,
        _ => return Err(bad("wrong poll type specified")),
    };
    st.seq += 1;
    let mut poll = json!({
        "id": format!("{}", 5_000_000_000_000_000_000u64 + st.seq),
        "question": question,
        "options": opts.iter().map(|t| json!({"text": t, "voter_count": 0})).collect::<Vec<_>>(),
        "total_voter_count": 0,
        "is_closed": p_bool(p, "is_closed").unwrap_or(false),
        "is_anonymous": p_bool(p, "is_anonymous").unwrap_or(true),
        "type": if quiz { "quiz" } else { "regular" },
        "allows_multiple_answers": !quiz && p_bool(p, "allows_multiple_answers").unwrap_or(false),
    });
    if quiz {
        let id = p_i64(p, "correct_option_id").unwrap_or(-1);
        check(
            id >= 0 && (id as usize) < opts.len(),
            "wrong correct option ID specified",
        )?;
        poll["correct_option_id"] = json!(id);
        if p_str(p, "explanation").is_some_and(|e| !e.is_empty()) {
            let (text, ents) = formatted(
                p,
                "explanation",
                "explanation_parse_mode",
                "explanation_entities",
            )?;
            let max_e = format!("poll explanation length must not exceed {MAX_POLL_EXPLANATION}");
            check(text.chars().count() <= MAX_POLL_EXPLANATION, max_e)?;
            poll["explanation"] = json!(text);
            if !ents.is_empty() {
                poll["explanation_entities"] = json!(ents)
            }
        }
    }
    if let Some(op) = p_i64(p, "open_period") {
        check(
            (5..=600).contains(&op),
            "open_period must be between 5 and 600",
        )?;
        poll["open_period"] = json!(op);
        poll["close_date"] = json!(now_unix() + op);
    } else if let Some(cd) = p_i64(p, "close_date") {
        poll["close_date"] = json!(cd);
    }
    Ok(poll)
}

// ----- HTML parser (tdlib semantics and error texts) --------------------------------------------

const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
];

fn html_entity(s: &str) -> Option<(char, usize)> {
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let name = &s[1..end];
    let num = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ if name.starts_with("#x") || name.starts_with("#X") => num(&name[2..], 16)?,
        _ if name.starts_with('#') => num(&name[1..], 10)?,
        _ => return None,
    };
    Some((ch, end + 1))
}

/// Decode the entities of `s`; bare `&` are an error at `base + offset` if `strict`.
fn decode_into(out: &mut String, s: &str, strict: Option<usize>) -> Result<(), String> {
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        let entity = if c == '&' { html_entity(&s[i..]) } else { None };
        match (entity, strict) {
            (Some((d, n)), _) => (out.push(d), i += n),
            (None, Some(base)) if c == '&' => {
                let at = base + i;
                return Err(format!(
                    "Character '&' must be escaped as \"&amp;\" at byte offset {at}"
                ));
            }
            _ => (out.push(c), i += c.len_utf8()),
        };
    }
    Ok(())
}

struct Open {
    name: String,
    start: usize,
    attrs: HashMap<String, String>,
}

fn req(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

/// Parse Telegram HTML like tdlib. Returns (text, entities) or the tdlib-style error text.
fn parse_html(src: &str) -> Result<(String, Vec<Value>), ApiErr> {
    parse_html_inner(src).map_err(|e| bad(format!("can't parse entities: {e}")))
}

fn parse_html_inner(src: &str) -> Result<(String, Vec<Value>), String> {
    let b = src.as_bytes();
    let (mut text, mut i) = (String::new(), 0usize);
    let (mut stack, mut ents): (Vec<Open>, Vec<Value>) = (vec![], vec![]);
    let ws = |c: u8| c.is_ascii_whitespace();
    let skip = |i: &mut usize, f: &dyn Fn(u8) -> bool| {
        while *i < b.len() && f(b[*i]) {
            *i += 1
        }
    };
    while i < b.len() {
        if b[i] != b'<' {
            let end = src[i..].find('<').map_or(b.len(), |n| i + n);
            decode_into(&mut text, &src[i..end], Some(i))?;
            i = end;
            continue;
        }
        let start = i;
        i += 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
            let ns = i;
            skip(&mut i, &|c| !ws(c) && c != b'>');
            let name = src[ns..i].to_ascii_lowercase();
            let open = stack
                .pop()
                .ok_or_else(|| format!("Unexpected end tag at byte offset {start}"))?;
            skip(&mut i, &ws);
            req(b.get(i) == Some(&b'>'), || {
                format!("Unclosed end tag at byte offset {start}")
            })?;
            i += 1;
            req(name.is_empty() || name == open.name, || {
                format!(
                    "Unmatched end tag at byte offset {start}, expected \"</{}>\", found \"</{name}>\"",
                    open.name
                )
            })?;
            close_entity(&open, &mut stack, &mut ents, &text);
            continue;
        }
        let ns = i;
        skip(&mut i, &|c| !ws(c) && c != b'>');
        let name = src[ns..i].to_ascii_lowercase();
        req(i < b.len(), || {
            format!("Unclosed start tag at byte offset {start}")
        })?;
        req(HTML_TAGS.contains(&name.as_str()), || {
            format!("Unsupported start tag \"{name}\" at byte offset {start}")
        })?;
        let mut attrs = HashMap::new();
        loop {
            skip(&mut i, &ws);
            req(i < b.len(), || {
                format!("Unclosed start tag \"{name}\" at byte offset {start}")
            })?;
            if b[i] == b'>' {
                i += 1;
                break;
            }
            let an = i;
            skip(&mut i, &|c| {
                c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
            });
            req(an < i, || {
                format!("Empty attribute name in the tag \"{name}\" at byte offset {start}")
            })?;
            let attr = src[an..i].to_ascii_lowercase();
            skip(&mut i, &ws);
            let mut val = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                skip(&mut i, &ws);
                req(i < b.len(), || {
                    format!("Unclosed start tag \"{name}\" at byte offset {start}")
                })?;
                if b[i] == b'"' || b[i] == b'\'' {
                    let q = b[i];
                    let vs = i + 1;
                    i = src[vs..]
                        .find(q as char)
                        .map(|n| vs + n)
                        .ok_or_else(|| format!("Unclosed start tag at byte offset {start}"))?;
                    decode_into(&mut val, &src[vs..i], None)?;
                    i += 1;
                } else {
                    let vs = i;
                    skip(&mut i, &|c| {
                        c.is_ascii_alphanumeric() || b".-_".contains(&c)
                    });
                    req(i < b.len(), || {
                        format!("Unexpected end of name token at byte offset {i}")
                    })?;
                    val = src[vs..i].to_string();
                }
            }
            attrs.insert(attr, val);
        }
        req(
            name != "span" || attrs.get("class").is_some_and(|c| c == "tg-spoiler"),
            || format!("Tag \"span\" must have class \"tg-spoiler\" at byte offset {start}"),
        )?;
        req(name != "tg-emoji" || attrs.contains_key("emoji-id"), || {
            format!("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {start}")
        })?;
        stack.push(Open {
            name,
            start: utf16_len(&text),
            attrs,
        });
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    ents.sort_by_key(|e| {
        (
            e["offset"].as_u64(),
            std::cmp::Reverse(e["length"].as_u64()),
        )
    });
    Ok((text, ents))
}

/// Turn a closed tag into a `MessageEntity` (none for empty ones, like tdlib).
fn close_entity(open: &Open, stack: &mut [Open], ents: &mut Vec<Value>, text: &str) {
    let end = utf16_len(text);
    if end <= open.start {
        return;
    }
    let attr = |k: &str| open.attrs.get(k).cloned();
    let mut e = match open.name.as_str() {
        "b" | "strong" => json!({"type": "bold"}),
        "i" | "em" => json!({"type": "italic"}),
        "u" | "ins" => json!({"type": "underline"}),
        "s" | "strike" | "del" => json!({"type": "strikethrough"}),
        "tg-spoiler" | "span" => json!({"type": "spoiler"}),
        "blockquote" if open.attrs.contains_key("expandable") => {
            json!({"type": "expandable_blockquote"})
        }
        "blockquote" => json!({"type": "blockquote"}),
        "tg-emoji" => json!({"type": "custom_emoji", "custom_emoji_id": attr("emoji-id")}),
        "pre" => json!({"type": "pre", "language": attr("__lang")}),
        "code" => {
            let lang = attr("class").and_then(|c| c.strip_prefix("language-").map(String::from));
            if let (Some(l), Some(pre)) = (lang, stack.last_mut().filter(|p| p.name == "pre")) {
                pre.attrs.insert("__lang".into(), l); // <pre><code class="language-x"> is one pre entity
                return;
            }
            json!({"type": "code"})
        }
        _ => {
            let units: Vec<u16> = text.encode_utf16().skip(open.start).collect();
            let url = attr("href")
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| String::from_utf16_lossy(&units));
            let schemes = ["http://", "https://", "tg://", "mailto:", "ftp://"];
            if !schemes.iter().any(|p| url.starts_with(p)) || url.contains(' ') {
                return; // Telegram silently drops invalid links
            }
            json!({"type": "text_link", "url": url})
        }
    };
    if e["language"].is_null() {
        e.as_object_mut().map(|o| o.remove("language"));
    }
    e["offset"] = json!(open.start);
    e["length"] = json!(end - open.start);
    ents.push(e);
}
