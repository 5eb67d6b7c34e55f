//! The one path of requests to Telegram: strict rate limits, per-chat 429 pauses, bounded
//! retries, and each chat's queued work run in order on its lane without holding up the
//! others, and stopping. Rendering a reply into requests is [`super::send`]'s. This file:
//! [`Outbox`], sending one request (retries, the 429s it reports, stopping);
//! [`limiter`]: Telegram's rate limits (the sliding windows, the per-chat quota, 429
//! pauses and slowdowns); [`lanes`]: each chat's queue of replies, and draining them at
//! shutdown.
//!
//! Stopping ([`Outbox::stop`], on SIGTERM or SIGINT): every send still waiting (for a
//! budget, a 429 pause, a retry) or in flight has [`STOP_GRACE`] to finish, then fails
//! with [`SendError::Stopped`]; callers start nothing new once [`Outbox::is_stopping`].

mod lanes;
mod limiter;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::DefaultKeyedRateLimiter;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::requests::{HasPayload, Request};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::config::RateLimits;

use super::error::{Failure, SendError, classify};

use lanes::Lane;
pub use lanes::{Admission, Job, MAX_PENDING};
use limiter::Budgets;

/// How often a transient failure (network, 5xx) is retried before giving up, with the
/// backoff doubling from 250 ms up to 8 s. teloxide itself waits 10 s after every 5xx
/// answer, so persistent 5xx give up after about two minutes; callers that must answer
/// sooner use [`Outbox::call_within`].
pub const MAX_RETRIES: u32 = 8;
/// The first backoff; it doubles on each retry up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A 429 never pauses longer than this, whatever `retry_after` says.
const MAX_PAUSE: Duration = Duration::from_secs(300);

/// Once the process is stopping ([`Outbox::stop`]), how long the sends already under way
/// have to finish: a request in flight may complete, a send may still wait for its
/// budget; past this, they are given up. With the final flush this keeps a stop under 5 s.
pub const STOP_GRACE: Duration = Duration::from_millis(3500);

/// Sends requests within Telegram's limits (what a request says is
/// [`super::send`]'s). Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<OutboxState>,
}

struct OutboxState {
    bot: Bot,
    /// Set once the process is stopping: the instant sends under way are given up.
    stop: watch::Sender<Option<Instant>>,
    /// The configured global budget per second (the window's size when nothing is wrong).
    global_per_second: usize,
    per_chat: DefaultKeyedRateLimiter<i64>,
    budgets: Mutex<Budgets>,
    /// Woken whenever a slot may have become free (an answer came back).
    freed: Notify,
    /// Sends queue here, first come first served, for the global window.
    turnstile: tokio::sync::Mutex<()>,
    /// The chats with command replies queued, and how many.
    lanes: Mutex<HashMap<i64, Lane>>,
    /// Woken when a lane empties (shutdown waits for them all).
    lane_done: Notify,
}

impl Outbox {
    /// Wraps a bot with the configured limits.
    pub fn new(bot: Bot, limits: &RateLimits) -> Self {
        let global_per_second = limits.global_per_second.max(1) as usize;
        Self {
            inner: Arc::new(OutboxState {
                bot,
                stop: watch::Sender::new(None),
                global_per_second,
                per_chat: limiter::per_chat(limits),
                budgets: Mutex::new(Budgets::new(
                    global_per_second,
                    limits.group_per_minute.max(1) as usize,
                )),
                freed: Notify::new(),
                turnstile: tokio::sync::Mutex::new(()),
                lanes: Mutex::new(HashMap::new()),
                lane_done: Notify::new(),
            }),
        }
    }

    /// The bot, for requests that are not sends (getMe, setMyCommands, getChatMember).
    pub fn bot(&self) -> &Bot {
        &self.inner.bot
    }

    /// Begins stopping (on SIGTERM or SIGINT); later calls change nothing. Sends waiting
    /// or in flight have [`STOP_GRACE`] to finish, then fail with [`SendError::Stopped`]
    /// (one given up in flight may still have reached Telegram, like one cut by a crash).
    pub fn stop(&self) {
        self.inner.stop.send_if_modified(|deadline| {
            if deadline.is_some() {
                return false;
            }
            *deadline = Some(Instant::now() + STOP_GRACE);
            true
        });
    }

    /// Whether [`Outbox::stop`] was called: callers start no new send.
    pub fn is_stopping(&self) -> bool {
        self.inner.stop.borrow().is_some()
    }

    /// Runs `work` unless the stop's grace period ends first.
    async fn unless_stopped<T>(&self, work: impl Future<Output = T>) -> Result<T, SendError> {
        let mut stop = self.inner.stop.subscribe();
        let deadline = async {
            // The guard returned by `wait_for` holds a lock: copy the value out at once.
            let deadline = match stop.wait_for(Option::is_some).await {
                Ok(deadline) => *deadline,
                Err(_) => None, // the sender lives in `self`: cannot happen
            };
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = deadline => Err(SendError::Stopped),
            output = work => Ok(output),
        }
    }

    /// Sends a request with limits, 429 pauses and bounded retries of transient failures.
    /// `chat` is the chat a message goes to; `None` for requests that are not messages,
    /// which wait on no budget. Every failure is classified once, here.
    pub async fn call<R>(
        &self,
        chat: Option<ChatId>,
        request: R,
    ) -> Result<<R::Payload as teloxide::requests::Payload>::Output, SendError>
    where
        R: Request<Err = RequestError> + HasPayload,
    {
        self.send(chat, request, None).await
    }

    /// [`Outbox::call`] that gives up once Telegram has been tried for `within` (waiting
    /// for the chat's budget or a chat's 429 pause does not count): for a user waiting
    /// on the answer, a quick "try again" beats minutes of retries. teloxide waits 10 s
    /// after each 5xx answer, so an attempt is abandoned when the time is up.
    pub async fn call_within<R>(
        &self,
        chat: Option<ChatId>,
        request: R,
        within: Duration,
    ) -> Result<<R::Payload as teloxide::requests::Payload>::Output, SendError>
    where
        R: Request<Err = RequestError> + HasPayload,
    {
        self.send(chat, request, Some(within)).await
    }

    async fn send<R>(
        &self,
        chat: Option<ChatId>,
        request: R,
        within: Option<Duration>,
    ) -> Result<<R::Payload as teloxide::requests::Payload>::Output, SendError>
    where
        R: Request<Err = RequestError> + HasPayload,
    {
        let method = <R::Payload as teloxide::requests::Payload>::NAME;
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        // Time spent on Telegram's answers, failures and backoffs (for `within`).
        let mut spent = Duration::ZERO;
        let out_of_time =
            |spent: Duration, more: Duration| within.is_some_and(|w| spent + more > w);
        loop {
            let ticket = match chat {
                Some(chat) => Some(self.unless_stopped(self.admit(chat)).await?),
                None => None,
            };
            let started = Instant::now();
            let answer = match within {
                Some(within) => {
                    let left = within.saturating_sub(spent);
                    match self
                        .unless_stopped(tokio::time::timeout(left, request.send_ref()))
                        .await?
                    {
                        Ok(answer) => answer,
                        Err(_) => {
                            crate::telemetry::send(method, "timeout", started.elapsed());
                            return Err(SendError::Unavailable(format!(
                                "no answer within {within:?}"
                            )));
                        }
                    }
                }
                None => self.unless_stopped(request.send_ref()).await?,
            };
            drop(ticket);
            crate::telemetry::send(method, send_outcome(&answer), started.elapsed());
            spent += started.elapsed();
            let error = match answer {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            match classify(&error) {
                Failure::RetryAfter(wait) => {
                    let wait = wait.min(MAX_PAUSE);
                    tracing::warn!(
                        chat_id = chat.map(|c| c.0),
                        retry_after = wait.as_secs(),
                        "Telegram asked to slow down"
                    );
                    match chat {
                        // The pause is waited for in `admit`, by this chat only.
                        Some(chat) => self.too_many(chat.0, wait),
                        None if out_of_time(spent, wait) => {
                            return Err(SendError::Unavailable(format!(
                                "Telegram asked to wait {wait:?}"
                            )));
                        }
                        None => {
                            self.unless_stopped(tokio::time::sleep(wait)).await?;
                            spent += wait;
                        }
                    }
                }
                Failure::Transient(reason)
                    if attempt < MAX_RETRIES && !out_of_time(spent, backoff) =>
                {
                    tracing::debug!(chat_id = chat.map(|c| c.0), attempt, %reason, "retrying after a transient failure");
                    self.unless_stopped(tokio::time::sleep(backoff)).await?;
                    spent += backoff;
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
}

/// `/metrics`' outcome of one Bot API answer: `ok`, `429`, `4xx`, `5xx` or `timeout`
/// (a network failure, a dropped connection or the client's timeout).
fn send_outcome<T>(answer: &Result<T, RequestError>) -> &'static str {
    match answer {
        Ok(_) => "ok",
        Err(RequestError::RetryAfter(_)) => "429",
        Err(RequestError::Network(_) | RequestError::Io(_)) => "timeout",
        Err(error) => match classify(error) {
            Failure::Transient(_) => "5xx",
            _ => "4xx",
        },
    }
}
