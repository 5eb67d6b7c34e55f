//! Who administers a group, asked with `getChatMember` and cached briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::prelude::*;
use teloxide::types::UserId;

use super::error::SendError;
use super::outbox::Outbox;

/// How long an answer is trusted: a demoted admin loses rights within this time.
const TTL: Duration = Duration::from_secs(60);
/// How long Telegram is asked before the sender is told to try again: teloxide alone
/// would wait 10 s after each 5xx, and the chat's later commands wait behind this one.
const PATIENCE: Duration = Duration::from_secs(5);
/// The cache is cleared when it grows past this many entries (it only saves API calls).
const MAX_ENTRIES: usize = 10_000;

/// Cached answers: (chat id, user id) → (their standing, when asked).
type Answers = HashMap<(i64, u64), (Standing, Instant)>;

/// Where a user stands in a chat, as `getChatMember` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not in the chat (never joined, left, banned).
    Outsider,
    /// A member (restricted members still in the chat included).
    Member,
    /// The creator or an administrator.
    Admin,
}

/// Caches "is this user an administrator of this chat". Cheap to clone.
#[derive(Clone, Default)]
pub struct AdminCache {
    entries: Arc<Mutex<Answers>>,
}

impl AdminCache {
    /// Whether `user` is the creator or an administrator of `chat`. Fails when Telegram
    /// cannot say within a few seconds: the caller then changes nothing and says so,
    /// rather than telling an administrator they are not one.
    pub async fn is_admin(
        &self,
        outbox: &Outbox,
        chat: ChatId,
        user: UserId,
    ) -> Result<bool, SendError> {
        Ok(self.standing(outbox, chat, user).await? == Standing::Admin)
    }

    /// Where `user` stands in `chat` (the Mini App's membership check), cached like
    /// [`AdminCache::is_admin`]; fails the same way when Telegram cannot say in time.
    pub async fn standing(
        &self,
        outbox: &Outbox,
        chat: ChatId,
        user: UserId,
    ) -> Result<Standing, SendError> {
        let key = (chat.0, user.0);
        if let Some((answer, at)) = self.lock().get(&key).copied()
            && at.elapsed() < TTL
        {
            return Ok(answer);
        }
        let answer = match outbox
            .call_within(None, outbox.bot().get_chat_member(chat, user), PATIENCE)
            .await
        {
            Ok(member) if member.is_privileged() => Standing::Admin,
            Ok(member) if member.is_present() => Standing::Member,
            Ok(_) => Standing::Outsider,
            Err(error) => {
                tracing::warn!(chat_id = chat.0, user_id = user.0, %error, "getChatMember failed");
                return Err(error);
            }
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (answer, Instant::now()));
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
