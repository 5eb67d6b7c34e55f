//! A fast fake of the Telegram Bot API for load: just enough of it for a bot that
//! long-polls and answers with `sendMessage`, and nothing that costs time.
//!
//! Unlike the faithful fake in `tests/support/fake_telegram/` (which parses HTML like
//! tdlib and records every request), this one keeps per-update timings only:
//! * the instant `getUpdates` first hands an update out, and
//! * the instant the reply (`sendMessage` to that chat) arrives.
//!
//! Replies are matched to updates per chat, first in first out; the load generators
//! keep at most one update outstanding per chat, so the match is exact even for a bot
//! that answers chats out of order.
//!
//! Requests are `POST|GET /bot<TOKEN>/<method>` with a JSON or form body (teloxide sends
//! JSON, aiogram sends `application/x-www-form-urlencoded`); method names are
//! case-insensitive. Unknown methods answer 404 and are counted, so a bot calling
//! something unexpected shows up in the report instead of silently failing.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

/// The token every bot in the benchmark uses (shaped like a real one: aiogram checks).
pub const TOKEN: &str = "123456789:BenchTokenForTheFakeBotApi_0123456789";
/// The bot's id in `getMe`.
pub const BOT_ID: i64 = 123_456_789;
/// The bot's username in `getMe`; group commands are addressed to it.
pub const BOT_USERNAME: &str = "studybot_bench_bot";

/// A running fake Bot API. Dropping it stops the server.
pub struct FakeBotApi {
    addr: SocketAddr,
    state: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// One update's timings, in the order the updates were queued.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// When `getUpdates` first handed the update out.
    pub handed_out: Option<Instant>,
    /// When the reply to it arrived.
    pub replied: Option<Instant>,
}

impl Timing {
    /// Handed out → reply received.
    pub fn latency(&self) -> Option<Duration> {
        Some(self.replied?.duration_since(self.handed_out?))
    }
}

/// What arrived besides the replies to updates.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// `sendMessage` calls that matched no outstanding update.
    pub unmatched_replies: u64,
    /// Calls of methods the fake does not know, by name.
    pub unknown_methods: HashMap<String, u64>,
    /// Every call, by lower-case method name.
    pub calls: HashMap<String, u64>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// Wakes a waiting long poll when updates are queued or the fake closes.
    arrivals: Notify,
    /// Set on close: long polls return at once, so bots can stop quickly.
    closed: AtomicBool,
    first_get_updates: OnceLock<Instant>,
    next_message_id: AtomicU64,
}

#[derive(Default)]
struct Inner {
    /// Updates not yet confirmed by a `getUpdates` offset, oldest first.
    queue: VecDeque<Queued>,
    /// Timings, indexed by `update_id - 1`.
    timings: Vec<Timing>,
    /// Per chat, the ids of updates whose reply has not arrived yet.
    outstanding: HashMap<i64, VecDeque<u64>>,
    /// The reply texts of probe chats (see [`FakeBotApi::probe`]).
    probes: HashMap<i64, oneshot::Sender<String>>,
    closed_loop: Option<ClosedLoop>,
    counts: Counts,
}

struct Queued {
    id: u64,
    /// The update's JSON, rendered once when queued.
    json: String,
}

/// Keeps a number of updates outstanding: each reply queues the next update.
struct ClosedLoop {
    /// Updates still to queue.
    remaining: u64,
    /// Replies still to receive before the run is complete.
    awaiting: u64,
    /// Chats without an outstanding update, next first.
    idle_chats: VecDeque<i64>,
    inputs: Inputs,
    done: Option<oneshot::Sender<Instant>>,
}

/// A deterministic stream of command texts (the same for every bot).
#[derive(Clone)]
pub struct Inputs {
    texts: &'static [&'static str],
    state: u64,
}

impl Inputs {
    /// Cycles pseudo-randomly through `texts`, starting from `seed`.
    pub fn new(texts: &'static [&'static str], seed: u64) -> Self {
        Self {
            texts,
            state: seed | 1,
        }
    }

    /// The next text (xorshift: cheap, reproducible, evenly spread).
    pub fn next_text(&mut self) -> &'static str {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.texts[(self.state % self.texts.len() as u64) as usize]
    }
}

impl FakeBotApi {
    /// Starts the fake on 127.0.0.1 with a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            arrivals: Notify::new(),
            closed: AtomicBool::new(false),
            first_get_updates: OnceLock::new(),
            next_message_id: AtomicU64::new(1),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        // Replies are small writes; never let Nagle's algorithm hold them back.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            state,
            server,
        }
    }

    /// The base URL bots are pointed at (`TELOXIDE_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// When the first `getUpdates` arrived, if one did.
    pub fn first_get_updates(&self) -> Option<Instant> {
        self.state.first_get_updates.get().copied()
    }

    /// Waits until the first `getUpdates` arrives, at most `limit`.
    pub async fn wait_for_polling(&self, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(at) = self.first_get_updates() {
                return Some(at);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        None
    }

    /// Queues a message update with `text` from the chat `chat` (private when positive,
    /// a group when negative).
    pub fn send(&self, chat: i64, text: &str) {
        self.state.lock().enqueue(chat, text);
        self.state.arrivals.notify_waiters();
    }

    /// Queues a press of the inline button `data` by `user` on a bot message in `chat`
    /// (the message carries that button, as Telegram's does). Its reply is the bot's
    /// `answerCallbackQuery`, matched by the query id.
    pub fn press(&self, chat: i64, user: u64, data: &str) {
        self.state.lock().enqueue_press(chat, user, data);
        self.state.arrivals.notify_waiters();
    }

    /// Sends `text` from `chat` and returns the text of the reply (`None` after `limit`).
    /// Used to check that a bot answers correctly, and to warm it up.
    pub async fn probe(&self, chat: i64, text: &str, limit: Duration) -> Option<String> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.state.lock();
            inner.probes.insert(chat, tx);
            inner.enqueue(chat, text);
        }
        self.state.arrivals.notify_waiters();
        tokio::time::timeout(limit, rx).await.ok()?.ok()
    }

    /// Runs a closed loop: `total` updates over `chats` chats, `window` outstanding at a
    /// time. Returns when every reply arrived (the instant of the last one), or `None`
    /// after `limit`.
    pub async fn closed_loop(
        &self,
        total: u64,
        window: u64,
        chats: &[i64],
        inputs: Inputs,
        limit: Duration,
    ) -> Option<Instant> {
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.state.lock();
            let mut run = ClosedLoop {
                remaining: total,
                awaiting: total,
                idle_chats: chats.iter().copied().collect(),
                inputs,
                done: Some(tx),
            };
            for _ in 0..window.min(total) {
                let Some(chat) = run.idle_chats.pop_front() else {
                    break;
                };
                let text = run.inputs.next_text();
                run.remaining -= 1;
                inner.enqueue(chat, text);
            }
            inner.closed_loop = Some(run);
        }
        self.state.arrivals.notify_waiters();
        let finished = tokio::time::timeout(limit, rx).await.ok()?.ok();
        // Stop feeding a run that timed out.
        self.state.lock().closed_loop = None;
        finished
    }

    /// Timings of the updates queued from index `from` on (update ids `from + 1…`).
    pub fn timings_from(&self, from: usize) -> Vec<Timing> {
        let inner = self.state.lock();
        inner.timings.get(from..).unwrap_or_default().to_vec()
    }

    /// How many of the updates queued from index `from` on have no reply yet.
    pub fn unanswered_from(&self, from: usize) -> usize {
        let inner = self.state.lock();
        let timings = inner.timings.get(from..).unwrap_or_default();
        timings.iter().filter(|t| t.replied.is_none()).count()
    }

    /// How many updates were queued so far.
    pub fn queued(&self) -> usize {
        self.state.lock().timings.len()
    }

    /// Counts of unmatched replies, unknown methods and all calls.
    pub fn counts(&self) -> Counts {
        self.state.lock().counts.clone()
    }

    /// Makes every long poll return at once from now on (so a bot can stop quickly).
    pub fn close(&self) {
        self.state.closed.store(true, Ordering::SeqCst);
        self.state.arrivals.notify_waiters();
    }
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.close();
        self.server.abort();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn enqueue(&mut self, chat: i64, text: &str) {
        self.timings.push(Timing {
            handed_out: None,
            replied: None,
        });
        let id = self.timings.len() as u64;
        self.outstanding.entry(chat).or_default().push_back(id);
        let json = update_json(id, chat, text);
        self.queue.push_back(Queued { id, json });
    }

    /// Queues a callback query whose id is its update id (see [`FakeBotApi::press`]).
    fn enqueue_press(&mut self, chat: i64, user: u64, data: &str) {
        self.timings.push(Timing {
            handed_out: None,
            replied: None,
        });
        let id = self.timings.len() as u64;
        let json = callback_json(id, chat, user, data);
        self.queue.push_back(Queued { id, json });
    }

    /// Records the answer to the callback query `id` (its update id).
    fn press_answered(&mut self, id: u64, at: Instant) {
        match self.timings.get_mut((id as usize).wrapping_sub(1)) {
            Some(timing) if timing.replied.is_none() => timing.replied = Some(at),
            _ => self.counts.unmatched_replies += 1,
        }
    }

    /// Records a reply to `chat`; in a closed loop, queues the next update.
    /// Returns whether a new update was queued.
    fn reply_arrived(&mut self, chat: i64, text: &str, at: Instant) -> bool {
        if let Some(probe) = self.probes.remove(&chat) {
            let _ = probe.send(text.to_string());
        }
        let Some(id) = self
            .outstanding
            .get_mut(&chat)
            .and_then(VecDeque::pop_front)
        else {
            self.counts.unmatched_replies += 1;
            return false;
        };
        self.timings[id as usize - 1].replied = Some(at);
        let Some(mut run) = self.closed_loop.take() else {
            return false;
        };
        let mut queued = false;
        run.awaiting = run.awaiting.saturating_sub(1);
        run.idle_chats.push_back(chat);
        if run.remaining > 0
            && let Some(next) = run.idle_chats.pop_front()
        {
            run.remaining -= 1;
            let text = run.inputs.next_text();
            self.enqueue(next, text);
            queued = true;
        }
        if run.awaiting == 0 {
            if let Some(done) = run.done.take() {
                let _ = done.send(at);
            }
        } else {
            self.closed_loop = Some(run);
        }
        queued
    }
}

/// A private chat for a positive id, a group for a negative one.
fn chat_json(chat: i64) -> String {
    if chat > 0 {
        format!(r#"{{"id":{chat},"type":"private","first_name":"User {chat}"}}"#)
    } else {
        format!(
            r#"{{"id":{chat},"type":"group","title":"Study group {}"}}"#,
            -chat
        )
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn update_json(id: u64, chat: i64, text: &str) -> String {
    let user = chat.unsigned_abs();
    let command_len = text
        .split_whitespace()
        .next()
        .filter(|word| word.starts_with('/'))
        .map_or(0, |word| word.encode_utf16().count());
    let entities = if command_len > 0 {
        format!(r#","entities":[{{"type":"bot_command","offset":0,"length":{command_len}}}]"#)
    } else {
        String::new()
    };
    format!(
        r#"{{"update_id":{id},"message":{{"message_id":{id},"date":{date},"chat":{chat},"from":{{"id":{user},"is_bot":false,"first_name":"User {user}","language_code":"zh-hans"}},"text":{text}{entities}}}}}"#,
        date = unix_now(),
        chat = chat_json(chat),
        text = Value::from(text),
    )
}

/// A callback query update: `user` presses the button `data` on a bot message in `chat`.
fn callback_json(id: u64, chat: i64, user: u64, data: &str) -> String {
    let data = Value::from(data);
    format!(
        r#"{{"update_id":{id},"callback_query":{{"id":"{id}","from":{{"id":{user},"is_bot":false,"first_name":"Member {user}","language_code":"zh-hans"}},"message":{{"message_id":1,"date":{date},"chat":{chat},"from":{{"id":{BOT_ID},"is_bot":true,"first_name":"Bench bot","username":"{BOT_USERNAME}"}},"text":"每日学习","reply_markup":{{"inline_keyboard":[[{{"text":"✅ 已学习","callback_data":{data}}}]]}}}},"chat_instance":"{instance}","data":{data}}}}}"#,
        date = unix_now(),
        instance = chat.unsigned_abs(),
        chat = chat_json(chat),
    )
}

/// Request parameters: JSON body, or form body, merged with the query string.
fn parameters(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut params = if is_json {
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    } else {
        form(body)
    };
    if let Some(query) = uri.query() {
        params.extend(form(query.as_bytes()));
    }
    params
}

fn form(bytes: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

/// An integer parameter, sent as a number (JSON) or a string (form).
fn int(params: &Map<String, Value>, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn ok(result: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"ok":true,"result":{result}}}"#),
    )
        .into_response()
}

fn error(code: StatusCode, description: &str) -> Response {
    let body = json!({"ok": false, "error_code": code.as_u16(), "description": description});
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((token, method)) = uri
        .path()
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if token != TOKEN {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let method = method.to_ascii_lowercase();
    let params = parameters(&uri, &headers, &body);
    *state.lock().counts.calls.entry(method.clone()).or_default() += 1;
    match method.as_str() {
        "getme" => ok(&format!(
            r#"{{"id":{BOT_ID},"is_bot":true,"first_name":"Bench bot","username":"{BOT_USERNAME}","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false,"can_connect_to_business":false,"has_main_web_app":false}}"#
        )),
        "deletewebhook" | "setmycommands" => ok("true"),
        "answercallbackquery" => {
            let at = Instant::now();
            // A query id the fake did not hand out (a bot's own test) counts as unmatched.
            let id = params
                .get("callback_query_id")
                .and_then(Value::as_str)
                .and_then(|id| id.parse().ok())
                .unwrap_or(0);
            state.lock().press_answered(id, at);
            ok("true")
        }
        "getwebhookinfo" => {
            ok(r#"{"url":"","has_custom_certificate":false,"pending_update_count":0}"#)
        }
        "getupdates" => get_updates(&state, &params).await,
        "sendmessage" => send_message(&state, &params),
        _ => {
            *state
                .lock()
                .counts
                .unknown_methods
                .entry(method)
                .or_default() += 1;
            error(StatusCode::NOT_FOUND, "Not Found")
        }
    }
}

/// The longest batch `getUpdates` hands out (Telegram's maximum).
const MAX_BATCH: usize = 100;

async fn get_updates(state: &Shared, params: &Map<String, Value>) -> Response {
    state.first_get_updates.get_or_init(Instant::now);
    let offset = int(params, "offset").unwrap_or(0);
    let limit = int(params, "limit").map_or(MAX_BATCH, |l| l.clamp(1, MAX_BATCH as i64) as usize);
    let timeout = Duration::from_secs(int(params, "timeout").unwrap_or(0).clamp(0, 50) as u64);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let arrivals = state.arrivals.notified();
        tokio::pin!(arrivals);
        arrivals.as_mut().enable();
        {
            let mut inner = state.lock();
            // An offset confirms every update below it.
            while inner.queue.front().is_some_and(|q| (q.id as i64) < offset) {
                inner.queue.pop_front();
            }
            if !inner.queue.is_empty() {
                let now = Instant::now();
                let mut body = String::from(r#"{"ok":true,"result":["#);
                let Inner { queue, timings, .. } = &mut *inner;
                for (n, queued) in queue.iter().take(limit).enumerate() {
                    if n > 0 {
                        body.push(',');
                    }
                    body.push_str(&queued.json);
                    let timing = &mut timings[queued.id as usize - 1];
                    timing.handed_out.get_or_insert(now);
                }
                body.push_str("]}");
                return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            }
        }
        if state.closed.load(Ordering::SeqCst) {
            return ok("[]");
        }
        tokio::select! {
            _ = &mut arrivals => {}
            _ = tokio::time::sleep_until(deadline) => return ok("[]"),
        }
    }
}

fn send_message(state: &Shared, params: &Map<String, Value>) -> Response {
    let at = Instant::now();
    let Some(chat) = int(params, "chat_id") else {
        return error(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
    };
    let Some(text) = params.get("text").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty",
        );
    };
    let html = params
        .get("parse_mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let shown = if html {
        strip_html(text)
    } else {
        text.to_string()
    };
    let queued = state.lock().reply_arrived(chat, &shown, at);
    if queued {
        state.arrivals.notify_waiters();
    }
    // Telegram echoes the inline keyboard; a form body sends it as a JSON string.
    let markup = match params.get("reply_markup") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
        Some(v @ Value::Object(_)) => Some(v.clone()),
        _ => None,
    };
    let mut message = format!(
        r#"{{"message_id":{id},"from":{{"id":{BOT_ID},"is_bot":true,"first_name":"Bench bot","username":"{BOT_USERNAME}"}},"chat":{chat},"date":{date},"text":{text}"#,
        id = state.next_message_id.fetch_add(1, Ordering::Relaxed),
        chat = chat_json(chat),
        date = unix_now(),
        text = Value::from(shown),
    );
    if let Some(markup) = markup.filter(|m| m.get("inline_keyboard").is_some()) {
        message.push_str(r#","reply_markup":"#);
        message.push_str(&markup.to_string());
    }
    message.push('}');
    ok(&message)
}

/// The visible text of Telegram HTML: tags dropped, the four entities decoded. (Telegram
/// also returns `entities`; no bot here reads them back, so they are left out.)
fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['<', '&']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => break,
            }
            continue;
        }
        let (decoded, skip) = [
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&amp;", '&'),
            ("&quot;", '"'),
        ]
        .iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .map_or(('&', 1), |(entity, c)| (*c, entity.len()));
        out.push(decoded);
        rest = &rest[skip..];
    }
    out.push_str(rest);
    out
}
