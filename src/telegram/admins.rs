//! Who administers a group, asked with `getChatMember` and cached briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::types::UserId;

use super::Outbox;

/// How long an answer is trusted: a demoted admin loses rights within this time.
const TTL: Duration = Duration::from_secs(60);
/// The cache is cleared when it grows past this many entries (it only saves API calls).
const MAX_ENTRIES: usize = 10_000;

/// Cached answers: (chat id, user id) → (is an administrator, when asked).
type Answers = HashMap<(i64, u64), (bool, Instant)>;

/// Caches "is this user an administrator of this chat". Cheap to clone.
#[derive(Clone, Default)]
pub struct AdminCache {
    entries: Arc<Mutex<Answers>>,
}

impl AdminCache {
    /// Whether `user` is the creator or an administrator of `chat`. When Telegram cannot
    /// be asked, the answer is `false`: settings stay unchanged rather than open to all.
    pub async fn is_admin(&self, outbox: &Outbox, chat: ChatId, user: UserId) -> bool {
        let key = (chat.0, user.0);
        if let Some((answer, at)) = self.lock().get(&key).copied()
            && at.elapsed() < TTL
        {
            return answer;
        }
        let answer = match outbox
            .call(None, outbox.bot().get_chat_member(chat, user))
            .await
        {
            Ok(member) => member.is_privileged(),
            Err(error) => {
                tracing::warn!(chat_id = chat.0, user_id = user.0, %error, "getChatMember failed");
                return false;
            }
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (answer, Instant::now()));
        answer
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
