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
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode};
use tokio::sync::{Mutex, watch};
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

/// Once the process is stopping ([`Outbox::stop`]), how long the sends already under way
/// have to finish: a request in flight may complete, a reply may still wait for its
/// budget; past this, they are given up. A broadcast send that has not reached Telegram
/// yet is given up at once. Together with the final flush this keeps a stop under 5 s.
pub const STOP_GRACE: Duration = Duration::from_millis(3500);

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
    /// Set once the process is stopping: the instant sends under way are given up.
    stop: watch::Sender<Option<Instant>>,
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
                stop: watch::Sender::new(None),
            }),
        }
    }

    /// The bot, for requests that are not sends (getMe, setMyCommands, getChatMember).
    pub fn bot(&self) -> &Bot {
        &self.inner.bot
    }

    /// Begins stopping (on SIGTERM or SIGINT); later calls change nothing. From now on no
    /// scheduled delivery starts a send: one waiting for the limiters, a 429 pause or a
    /// retry gives up at once with [`SendError::Stopped`]. Requests already in flight,
    /// and replies to commands being handled, have [`STOP_GRACE`] to finish; then they
    /// are given up too (a request given up in flight may still have reached Telegram,
    /// like one cut by a crash).
    pub fn stop(&self) {
        self.inner.stop.send_if_modified(|deadline| {
            if deadline.is_some() {
                return false;
            }
            *deadline = Some(Instant::now() + STOP_GRACE);
            true
        });
    }

    /// Whether [`Outbox::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.inner.stop.borrow().is_some()
    }

    /// Resolves once stopping began (`at_deadline == false`) or once the stop's grace
    /// period ended (`true`); never while the outbox runs normally.
    async fn stopped(&self, at_deadline: bool) {
        let mut stop = self.inner.stop.subscribe();
        // The guard returned by `wait_for` holds a lock: copy the value out at once.
        let deadline = match stop.wait_for(Option::is_some).await {
            Ok(deadline) => *deadline,
            Err(_) => None, // the sender lives in `self`: cannot happen
        };
        match deadline {
            Some(deadline) if at_deadline => tokio::time::sleep_until(deadline).await,
            Some(_) => {}
            None => std::future::pending().await,
        }
    }

    /// Resolves when a send with this patience that is waiting (for a limiter, a 429
    /// pause, a retry) must give up: a broadcast as soon as stopping begins, a reply
    /// when the stop's grace period ends.
    async fn give_up_waiting(&self, patience: Patience) {
        self.stopped(matches!(patience, Patience::ReplyBy(_))).await;
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
            if self.is_stopping() && patience == Patience::Broadcast {
                return Err(SendError::Stopped);
            }
            let admitted = async {
                match chat {
                    Some(chat) => self.admit(chat, patience).await,
                    None => {
                        self.wait_for_pause().await;
                        Ok(())
                    }
                }
            };
            tokio::select! {
                biased;
                () = self.give_up_waiting(patience) => return Err(SendError::Stopped),
                admitted = admitted => admitted?,
            }
            // A request in flight may finish during the stop's grace period.
            let sent = tokio::select! {
                biased;
                sent = request.send_ref() => sent,
                () = self.stopped(true) => {
                    tracing::info!(chat_id = chat.map(|c| c.0), "stopping: request in flight given up");
                    return Err(SendError::Stopped);
                }
            };
            let error = match sent {
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
                    tokio::select! {
                        biased;
                        () = self.give_up_waiting(patience) => return Err(SendError::Stopped),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Failure::Transient(reason) => return Err(SendError::Unavailable(reason)),
                Failure::Gone(reason) => return Err(SendError::ChatGone(reason)),
                Failure::NoRights(reason) => return Err(SendError::NoRights(reason)),
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
            let message = self.call_with(Some(chat), request, patience).await?;
            ids.push(message.id);
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
                .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode()))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    Some(InlineKeyboardMarkup::new(rows))
}
