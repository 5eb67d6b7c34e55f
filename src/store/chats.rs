//! Chats the bot has been removed from (or was re-added to), and group migrations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreResult, key_i64, trees};

/// Whether the bot can still write to a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatStatus {
    /// The chat's id.
    pub chat_id: i64,
    /// `false` once the bot was kicked, blocked or the chat vanished.
    pub active: bool,
    /// Why the chat is inactive (Telegram's description), if it is.
    pub reason: Option<String>,
    /// The supergroup this group migrated to, if it did.
    pub migrated_to: Option<i64>,
    /// When this record last changed.
    pub changed_at: DateTime<Utc>,
}

impl Store {
    /// Records that the bot can no longer write to `chat_id`.
    pub fn mark_chat_inactive(
        &self,
        chat_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let status = ChatStatus {
            chat_id,
            active: false,
            reason: Some(reason.to_string()),
            migrated_to: None,
            changed_at: now,
        };
        self.put_json(trees::CHATS, &key_i64(chat_id), &status)
    }

    /// Records that the bot is (again) a member of `chat_id`.
    pub fn mark_chat_active(&self, chat_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let status = ChatStatus {
            chat_id,
            active: true,
            reason: None,
            migrated_to: None,
            changed_at: now,
        };
        self.put_json(trees::CHATS, &key_i64(chat_id), &status)
    }

    /// Records that group `old` became supergroup `new`.
    pub fn mark_chat_migrated(&self, old: i64, new: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let status = ChatStatus {
            chat_id: old,
            active: false,
            reason: Some(format!("migrated to supergroup {new}")),
            migrated_to: Some(new),
            changed_at: now,
        };
        self.put_json(trees::CHATS, &key_i64(old), &status)
    }

    /// The recorded status of a chat; `None` for chats that never changed status.
    pub fn chat_status(&self, chat_id: i64) -> StoreResult<Option<ChatStatus>> {
        self.get_json(trees::CHATS, &key_i64(chat_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_status_round_trips() {
        let store = Store::in_memory();
        let now = Utc::now();
        assert_eq!(store.chat_status(-5).unwrap(), None);
        store
            .mark_chat_inactive(-5, "Forbidden: bot was kicked from the group chat", now)
            .unwrap();
        assert!(!store.chat_status(-5).unwrap().unwrap().active);
        store.mark_chat_active(-5, now).unwrap();
        assert!(store.chat_status(-5).unwrap().unwrap().active);
        store.mark_chat_migrated(-5, -1005, now).unwrap();
        assert_eq!(
            store.chat_status(-5).unwrap().unwrap().migrated_to,
            Some(-1005)
        );
    }
}
