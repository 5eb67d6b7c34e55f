//! [`FakeTelegram`]: starting the server, and the public API tests drive it with (inject
//! updates, inject faults, read what the bot sent, wait for it).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::http::{ConnMeta, FaultListener, handle};
use crate::state::{Behaviour, Inner, Limits, St, member_json};
use crate::{ChatType, FakeChat, FakeUser, FaultKind, Recorded, SentDocument};

/// Handle to a running fake server. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    pub(crate) inner: Arc<Inner>,
    pub(crate) addr: SocketAddr,
    pub(crate) _task: Arc<AbortOnDrop>,
}

pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn bot_id(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|&i: &i64| i > 0)
        .unwrap_or(123456)
}

pub(crate) fn bot_user(token: &str) -> Value {
    json!({"id": bot_id(token), "is_bot": true, "first_name": "StudyBot Test", "username": FakeTelegram::BOT_USERNAME})
}

pub(crate) fn utf16_len(s: &str) -> usize {
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

    pub(crate) fn lock(&self) -> MutexGuard<'_, St> {
        self.inner.lock()
    }

    pub(crate) fn mutate<R>(&self, f: impl FnOnce(&mut St) -> R) -> R {
        let r = f(&mut self.lock());
        self.inner.changed.notify_waiters();
        r
    }

    pub(crate) fn token(st: &St) -> String {
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
    /// Users answered as `left` (not in the group) by `getChatMember` (replaces the list).
    pub fn set_outsiders(&self, chat_id: i64, user_ids: Vec<i64>) {
        self.mutate(|s| s.outsiders.insert(chat_id, user_ids));
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
pub(crate) fn command_fields(text: &str) -> Value {
    let mut fields = json!({"text": text});
    if text.starts_with('/') {
        let len = text.split_whitespace().next().map(utf16_len).unwrap_or(0);
        fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    fields
}
