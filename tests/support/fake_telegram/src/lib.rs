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
//! * Inline keyboards of more than 8 buttons in a row or 100 in all, and captions over 1024
//!   UTF-16 units, are refused as Telegram refuses them (see `limits.rs`); callback data
//!   must be 1-64 bytes (`BUTTON_DATA_INVALID`).
//! * `editMessageText` without `reply_markup` removes the inline keyboard, like Telegram.
//! * `getUpdates`: `offset` confirms (forgets) updates below it, a negative offset keeps the last
//!   `-offset` ones, `timeout` long-polls, `limit` caps the batch. A new `getUpdates` terminates a
//!   running one, which then answers 409 (see [`FakeTelegram::set_conflict`]).
//! * Requests are recorded once answered ([`Recorded::at`] is the arrival time), so a long poll
//!   shows up when it returns.

mod html;
mod http;
mod limits;
mod methods;
mod params;
mod raw;
mod server;
mod state;

use std::time::Instant;

use serde_json::{Value, json};

pub use limits::{
    CAPTION_TOO_LONG, MARKUP_TOO_LONG, MAX_CAPTION_LEN, MAX_KEYBOARD_BUTTONS, MAX_ROW_BUTTONS,
};
pub use server::FakeTelegram;

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
