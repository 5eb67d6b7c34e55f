//! The one send path to Telegram: precise rate limits, 429 pauses, bounded retries.
//!
//! teloxide's `Throttle` adaptor releases queued requests from a loop that sleeps
//! 250 ms between passes, which adds ~125 ms to every reply and sends broadcasts in
//! bursts. Instead, every request goes through GCRA limiters (the `governor` crate): one
//! global quota and keyed per-chat and per-group quotas. A reply leaves at once when the
//! budget allows it, and a broadcast is paced evenly at the allowed rate.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use teloxide::RequestError;
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::requests::{HasPayload, Request};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, ThreadId};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::RateLimits;
use crate::reply::{MESSAGE_LIMIT, Reply};

use super::error::{Failure, SendError, classify};

/// How often a transient failure (network, 5xx) is retried before giving up: with the
/// backoff doubling from 250 ms up to 8 s, the last retry comes about 30 s after the
/// first try, and even a 30% failure rate loses a message only once in ~50,000.
const MAX_RETRIES: u32 = 8;
/// The first backoff; it doubles on each retry up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A 429 never pauses longer than this, whatever `retry_after` says.
const MAX_PAUSE: Duration = Duration::from_secs(300);

/// How long after a command its reply may still be sent; later, it is dropped.
pub const REPLY_PATIENCE: Duration = Duration::from_secs(10);

/// How long a send may wait for its chat's rate budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// A reply to a command, due by this instant: dropped when the chat's budget comes
    /// later (someone is flooding that chat; the backlog would otherwise queue for
    /// minutes, starve that chat's later commands and hold up shutdown).
    ReplyBy(Instant),
    /// A scheduled delivery: waits as long as the limits require.
    Broadcast,
}

impl Patience {
    /// A reply to a command sent at `sent` (Telegram's message date).
    pub fn reply_to(sent: chrono::DateTime<chrono::Utc>) -> Self {
        let age = (chrono::Utc::now() - sent).to_std().unwrap_or_default();
        Self::ReplyBy(Instant::now() + REPLY_PATIENCE.saturating_sub(age))
    }

    /// A reply to something that just happened (a button press, a quiz timer).
    pub fn reply_now() -> Self {
        Self::ReplyBy(Instant::now() + REPLY_PATIENCE)
    }
}

/// Sends replies and other requests within Telegram's limits. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    bot: Bot,
    global: DefaultDirectRateLimiter,
    per_chat: DefaultKeyedRateLimiter<i64>,
    per_group: DefaultKeyedRateLimiter<i64>,
    /// Until when every send waits after a 429 (Telegram's flood control is per bot).
    paused_until: Mutex<Option<Instant>>,
}

fn quota(count: u32, per: Duration, burst: u32) -> Quota {
    let count = count.max(1);
    let period = per / count;
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("period is positive")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("burst is positive"))
}

impl Outbox {
    /// Wraps a bot with the configured limits.
    pub fn new(bot: Bot, limits: &RateLimits) -> Self {
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        Self {
            inner: Arc::new(Inner {
                bot,
                global: RateLimiter::direct(quota(
                    limits.global_per_second,
                    second,
                    limits.global_burst,
                )),
                per_chat: RateLimiter::keyed(quota(
                    limits.chat_per_second,
                    second,
                    limits.chat_burst,
                )),
                per_group: RateLimiter::keyed(quota(
                    limits.group_per_minute,
                    minute,
                    limits.group_burst,
                )),
                paused_until: Mutex::new(None),
            }),
        }
    }

    /// The bot, for requests that are not sends (getMe, setMyCommands, getChatMember).
    pub fn bot(&self) -> &Bot {
        &self.inner.bot
    }

    /// Waits until a message to `chat` is allowed by every limit and no 429 pause is on.
    /// With [`Patience::ReplyBy`], gives up when the chat's own budget comes after the
    /// deadline: a chat flooding the bot gets the replies its budget allows, and the rest
    /// are dropped instead of queueing for minutes.
    async fn admit(&self, chat: ChatId, patience: Patience) -> Result<(), SendError> {
        let keyed = [
            (&self.inner.per_chat, true),
            (&self.inner.per_group, chat.0 < 0),
        ];
        for (limiter, applies) in keyed {
            if !applies {
                continue;
            }
            if let Err(not_until) = limiter.check_key(&chat.0) {
                let wait = not_until.wait_time_from(limiter.clock().now());
                if let Patience::ReplyBy(deadline) = patience
                    && Instant::now() + wait > deadline
                {
                    return Err(SendError::Throttled(wait));
                }
                limiter.until_key_ready(&chat.0).await;
            }
        }
        self.inner.global.until_ready().await;
        self.wait_for_pause().await;
        Ok(())
    }

    async fn wait_for_pause(&self) {
        let until = *self.inner.paused_until.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    async fn pause(&self, seconds: Duration) {
        let until = Instant::now() + seconds.min(MAX_PAUSE);
        let mut paused = self.inner.paused_until.lock().await;
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Sends a request to `chat` with limits, 429 pauses and bounded retries of
    /// transient failures. Every failure is classified once, here.
    pub async fn call<R>(
        &self,
        chat: Option<ChatId>,
        request: R,
    ) -> Result<<R::Payload as teloxide::requests::Payload>::Output, SendError>
    where
        R: Request<Err = RequestError> + HasPayload,
    {
        self.call_with(chat, request, Patience::reply_now()).await
    }

    /// [`Outbox::call`] with an explicit [`Patience`].
    pub async fn call_with<R>(
        &self,
        chat: Option<ChatId>,
        request: R,
        patience: Patience,
    ) -> Result<<R::Payload as teloxide::requests::Payload>::Output, SendError>
    where
        R: Request<Err = RequestError> + HasPayload,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            match chat {
                Some(chat) => self.admit(chat, patience).await?,
                None => self.wait_for_pause().await,
            }
            let error = match request.send_ref().await {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            match classify(&error) {
                Failure::RetryAfter(seconds) => {
                    tracing::warn!(
                        chat_id = chat.map(|c| c.0),
                        retry_after = seconds.as_secs(),
                        "Telegram asked to slow down"
                    );
                    self.pause(seconds).await;
                }
                Failure::Transient(reason) if attempt < MAX_RETRIES => {
                    tracing::debug!(chat_id = chat.map(|c| c.0), attempt, %reason, "retrying after a transient failure");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Failure::Transient(reason) => return Err(SendError::Unavailable(reason)),
                Failure::Gone(reason) => return Err(SendError::ChatGone(reason)),
                Failure::Migrated(new_chat) => return Err(SendError::Migrated(new_chat)),
                Failure::Rejected(reason) => return Err(SendError::Rejected(reason)),
            }
            attempt += 1;
        }
    }

    /// Sends a reply as one or more HTML messages (split at 4096 characters), in order.
    /// Returns the ids of the messages sent.
    pub async fn send_reply(
        &self,
        chat: ChatId,
        reply: &Reply,
    ) -> Result<Vec<MessageId>, SendError> {
        self.send_reply_with(chat, reply, Patience::reply_now())
            .await
    }

    /// [`Outbox::send_reply`] with an explicit [`Patience`].
    pub async fn send_reply_with(
        &self,
        chat: ChatId,
        reply: &Reply,
        patience: Patience,
    ) -> Result<Vec<MessageId>, SendError> {
        self.send_reply_in(chat, None, reply, patience).await
    }

    /// [`Outbox::send_reply_with`] into a forum topic (`message_thread_id`); `None`
    /// sends to the chat itself (in a forum, its General topic). When the topic is gone
    /// (deleted or closed, or the chat has no topics any more), the reply goes to the
    /// chat instead: a subscription made in a topic must not stop with the topic.
    pub async fn send_reply_in(
        &self,
        chat: ChatId,
        topic: Option<i32>,
        reply: &Reply,
        patience: Patience,
    ) -> Result<Vec<MessageId>, SendError> {
        let mut ids = Vec::new();
        for part in reply.split(MESSAGE_LIMIT) {
            let mut request = self
                .inner
                .bot
                .send_message(chat, part.html())
                .parse_mode(ParseMode::Html);
            if let Some(markup) = keyboard(&part) {
                request = request.reply_markup(markup);
            }
            let sent = match topic {
                Some(topic) => {
                    let in_topic = request
                        .clone()
                        .message_thread_id(ThreadId(MessageId(topic)));
                    match self.call_with(Some(chat), in_topic, patience).await {
                        Err(SendError::Rejected(reason)) if topic_is_gone(&reason) => {
                            tracing::warn!(chat_id = chat.0, topic, %reason, "the forum topic is gone; sending to the chat instead");
                            self.call_with(Some(chat), request, patience).await
                        }
                        sent => sent,
                    }
                }
                None => self.call_with(Some(chat), request, patience).await,
            };
            ids.push(sent?.id);
        }
        Ok(ids)
    }

    /// Replaces a message's text and buttons. Fails with [`SendError::Rejected`] when the
    /// reply does not fit one message or Telegram refuses the edit.
    pub async fn edit_reply(
        &self,
        chat: ChatId,
        message: MessageId,
        reply: &Reply,
    ) -> Result<(), SendError> {
        let mut parts = reply.split(MESSAGE_LIMIT);
        if parts.len() != 1 {
            return Err(SendError::Rejected("reply too long for one message".into()));
        }
        let part = parts.remove(0);
        let mut request = self
            .inner
            .bot
            .edit_message_text(chat, message, part.html())
            .parse_mode(ParseMode::Html);
        if let Some(markup) = keyboard(&part) {
            request = request.reply_markup(markup);
        }
        self.call(Some(chat), request).await.map(|_| ())
    }
}

/// Whether Telegram refused a send because its forum topic is gone: deleted, closed, or
/// the chat is no forum (any more).
pub fn topic_is_gone(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("thread not found")
        || reason.contains("topic_closed")
        || reason.contains("topic_deleted")
}

/// The inline keyboard of a reply, if it has buttons.
pub fn keyboard(reply: &Reply) -> Option<InlineKeyboardMarkup> {
    if reply.buttons.is_empty() {
        return None;
    }
    let rows = reply
        .buttons
        .iter()
        .map(|row| {
            row.iter()
                .map(|b| {
                    InlineKeyboardButton::callback(b.label.clone(), b.action.encode(reply.audience))
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    Some(InlineKeyboardMarkup::new(rows))
}
