//! Raw updates: what Telegram sends today, whatever teloxide 0.17 (Bot API 9.1) makes of it.
//!
//! The other injectors build updates teloxide knows; these queue any JSON, so tests can send
//! Bot API 9.5+ shapes (a `date_time` entity, a poll with `correct_option_ids`), kinds
//! invented for the test, or updates broken for teloxide, alone or in one `getUpdates` batch.

use serde_json::{Value, json};

use crate::server::{FakeTelegram, command_fields};
use crate::{FakeChat, FakeUser};

impl FakeTelegram {
    /// The JSON of a text message from `from` in `chat` (as [`Self::send_text`] would send,
    /// `bot_command` entity included), recorded as sent but not queued: change it, then queue
    /// it with [`Self::send_raw`].
    pub fn text_message_json(&self, chat: &FakeChat, from: &FakeUser, text: &str) -> Value {
        self.message_json(chat, from, command_fields(text))
    }

    /// The JSON of a message from `from` in `chat` with `fields` merged in, recorded as sent
    /// but not queued (see [`Self::send_raw`]).
    pub fn message_json(&self, chat: &FakeChat, from: &FakeUser, fields: Value) -> Value {
        self.mutate(|s| {
            s.chats.insert(chat.id, chat.json());
            s.users.insert(from.id, from.json());
            s.make_message(chat.id, from.json(), fields, false)
        })
    }

    /// Queues an update of `kind` (`"message"`, `"poll_answer"`, or any other name) with
    /// `payload` exactly as given. Returns its update id.
    pub fn send_raw(&self, kind: &str, payload: Value) -> i64 {
        self.mutate(|s| s.push(kind, payload))
    }

    /// Queues several updates at once, so that they reach the bot in one `getUpdates` batch
    /// (in the order given). Returns their update ids.
    pub fn send_raw_batch(&self, updates: Vec<(&str, Value)>) -> Vec<i64> {
        self.mutate(|s| {
            updates
                .into_iter()
                .map(|(kind, payload)| s.push(kind, payload))
                .collect()
        })
    }

    /// A `callback_query` update's payload from `from` pressing `data` under `message` (any
    /// message JSON, e.g. one from [`Self::text_message_json`]).
    pub fn callback_json(&self, from: &FakeUser, message: Value, data: &str) -> Value {
        let id = self.mutate(|s| {
            s.seq += 1;
            let id = format!("{}", 5_000_000_000_000_000_000u64 + s.seq);
            s.callbacks.insert(id.clone());
            id
        });
        json!({"id": id, "from": from.json(), "message": message,
               "chat_instance": "5123", "data": data})
    }
}
