//! The one path of requests to Telegram: strict rate limits, per-chat 429 pauses, bounded
//! retries, and each chat's queued work run in order on its lane without holding up the
//! others (its lanes), and stopping. Rendering a reply into requests is
//! [`super::send`]'s.
//!
//! Telegram counts messages in sliding windows (30 per second over all chats, 20 per
//! minute to one group) and answers 429 to the first one over. A rate limiter that lets
//! a burst through on top of the rate (GCRA) therefore draws 429s at full speed. Here the
//! global and per-group budgets are [`SlidingWindow`]s of exactly Telegram's size, which
//! hold each slot from the moment a request leaves until one window after its answer
//! came back: however the network delays single requests, Telegram never sees more than
//! the budget in any window, and a broadcast still runs at the full rate less one round
//! trip per window. A per-chat GCRA quota keeps one chat to about one message a second.
//!
//! A 429 pauses only the chat it was answered for; when several chats get one within a
//! minute, the global budget is lowered for a minute instead of stopping everything.
//! Requests that are not messages (getChatMember, answerCallbackQuery…) never wait on
//! the message budget and never pause it.
//!
//! Stopping ([`Outbox::stop`], on SIGTERM or SIGINT): every send still waiting (for a
//! budget, a 429 pause, a retry) or in flight has [`STOP_GRACE`] to finish, then fails
//! with [`SendError::Stopped`]; callers start nothing new once [`Outbox::is_stopping`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::requests::{HasPayload, Request};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use crate::config::RateLimits;

use super::error::{Failure, SendError, classify};

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
/// How many commands of one chat may wait for their replies. Beyond it the chat is told
/// once to slow down and its further commands are dropped until its queue drains: at
/// 20 messages a minute per group, a longer queue would keep answering for minutes.
pub const MAX_PENDING: usize = 20;
/// Two 429s in different chats within this time lower the global budget; a quiet one
/// restores it.
const SLOWDOWN_MEMORY: Duration = Duration::from_secs(60);

/// Once the process is stopping ([`Outbox::stop`]), how long the sends already under way
/// have to finish: a request in flight may complete, a send may still wait for its
/// budget; past this, they are given up. With the final flush this keeps a stop under 5 s.
pub const STOP_GRACE: Duration = Duration::from_millis(3500);

/// How many group windows are kept before idle ones are forgotten.
const GROUPS_KEPT: usize = 1024;

/// A chat's queued work: a command's replies (and what follows them, such as a quiz poll).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Whether a chat's command is queued ([`Outbox::admits_command`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Queue it.
    Queue,
    /// Drop it: the chat was already told to slow down.
    Drop,
    /// Drop it and tell the chat, once, to slow down.
    DropAndWarn,
}

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

/// The sliding windows and pauses, behind one lock.
struct Budgets {
    global: SlidingWindow,
    /// The earliest the next message may leave: the global budget is spread evenly over
    /// its window, so a broadcast is paced rather than sent in bursts.
    next_global: Option<Instant>,
    groups: HashMap<i64, SlidingWindow>,
    group_per_minute: usize,
    /// Chats paused by a 429, until when.
    paused: HashMap<i64, Instant>,
    /// Recent 429s: (chat, when).
    too_many: VecDeque<(i64, Instant)>,
    /// When the global budget was last lowered.
    slowed_at: Option<Instant>,
    /// Idle group windows are forgotten when there are more than this many.
    groups_pruned_at: usize,
}

/// One chat's queue of jobs, run in order by its own task.
struct Lane {
    jobs: mpsc::UnboundedSender<Job>,
    /// Jobs queued or running.
    pending: usize,
    /// Whether the chat was already told to slow down while this queue lasts.
    warned: bool,
}

/// At most `capacity` requests in any `window`, as Telegram counts them.
///
/// Telegram counts a request when it arrives, somewhere between the moment it was sent
/// and the moment its answer came back. A slot is therefore held while the request is
/// in flight and for one whole `window` after its answer: two requests `capacity` apart
/// then arrive at least a `window` apart, whatever the network's jitter.
#[derive(Debug)]
struct SlidingWindow {
    window: Duration,
    capacity: usize,
    /// Requests sent and not yet answered.
    in_flight: usize,
    /// When the answers of the requests that still count came back, oldest first.
    answered: VecDeque<Instant>,
}

impl SlidingWindow {
    fn new(capacity: usize, window: Duration) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            in_flight: 0,
            answered: VecDeque::new(),
        }
    }

    /// Takes a slot at `now`, or says when one may be free (`None`: when an answer comes
    /// back, too many being in flight).
    fn take(&mut self, now: Instant) -> Result<(), Option<Instant>> {
        while self
            .answered
            .front()
            .is_some_and(|at| *at + self.window <= now)
        {
            self.answered.pop_front();
        }
        let held = self.in_flight + self.answered.len();
        if held < self.capacity {
            self.in_flight += 1;
            return Ok(());
        }
        // Enough answered slots must expire to get below capacity (which a slowdown may
        // have lowered under the number of slots held).
        let needed = held + 1 - self.capacity;
        match self.answered.get(needed - 1) {
            Some(at) => Err(Some(*at + self.window)),
            None => Err(None),
        }
    }

    /// Marks a request's answer as come back at `now`.
    fn finish(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered.push_back(now);
    }

    /// Whether no request counts any more.
    fn is_idle(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self
                .answered
                .back()
                .is_none_or(|at| *at + self.window <= now)
    }
}

/// The slots one message holds; their windows start counting when it is dropped (the
/// answer came back, or the send was abandoned).
struct Ticket {
    inner: Arc<OutboxState>,
    group: Option<i64>,
    global: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut budgets = self.inner.budgets();
        if let Some(group) = self.group
            && let Some(window) = budgets.groups.get_mut(&group)
        {
            window.finish(now);
        }
        if self.global {
            budgets.global.finish(now);
        }
        drop(budgets);
        self.inner.freed.notify_waiters();
    }
}

impl OutboxState {
    fn budgets(&self) -> MutexGuard<'_, Budgets> {
        self.budgets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lanes(&self) -> MutexGuard<'_, HashMap<i64, Lane>> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }
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
        let global_per_second = limits.global_per_second.max(1) as usize;
        Self {
            inner: Arc::new(OutboxState {
                bot,
                stop: watch::Sender::new(None),
                global_per_second,
                per_chat: RateLimiter::keyed(quota(
                    limits.chat_per_second,
                    Duration::from_secs(1),
                    limits.chat_burst,
                )),
                budgets: Mutex::new(Budgets {
                    global: SlidingWindow::new(global_per_second, Duration::from_secs(1)),
                    next_global: None,
                    groups: HashMap::new(),
                    group_per_minute: limits.group_per_minute.max(1) as usize,
                    paused: HashMap::new(),
                    too_many: VecDeque::new(),
                    slowed_at: None,
                    groups_pruned_at: GROUPS_KEPT,
                }),
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

    /// Waits until a message to `chat` is allowed by every limit and the chat is not
    /// paused by a 429; returns the slots it holds.
    async fn admit(&self, chat: ChatId) -> Ticket {
        let inner = &self.inner;
        loop {
            let paused = inner.budgets().paused.get(&chat.0).copied();
            match paused {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        inner.per_chat.until_key_ready(&chat.0).await;
        let mut ticket = Ticket {
            inner: inner.clone(),
            group: None,
            global: false,
        };
        if chat.0 < 0 {
            self.wait_for_slot(|budgets, now| {
                if budgets.groups.len() >= budgets.groups_pruned_at {
                    budgets.groups.retain(|_, window| !window.is_idle(now));
                    budgets.groups_pruned_at = (budgets.groups.len() * 2).max(GROUPS_KEPT);
                }
                let per_minute = budgets.group_per_minute;
                budgets
                    .groups
                    .entry(chat.0)
                    .or_insert_with(|| SlidingWindow::new(per_minute, Duration::from_secs(60)))
                    .take(now)
            })
            .await;
            ticket.group = Some(chat.0);
        }
        // First come, first served: one sender at a time waits for the global window.
        let _turn = inner.turnstile.lock().await;
        let global_per_second = inner.global_per_second;
        self.wait_for_slot(|budgets, now| {
            if budgets
                .slowed_at
                .is_some_and(|at| now.duration_since(at) > SLOWDOWN_MEMORY)
            {
                tracing::info!("no 429s for a minute; back to the full rate");
                budgets.slowed_at = None;
                budgets.global.capacity = global_per_second;
            }
            if let Some(next) = budgets.next_global
                && next > now
            {
                return Err(Some(next));
            }
            budgets.global.take(now)?;
            let spacing = budgets.global.window / budgets.global.capacity as u32;
            budgets.next_global = Some(now + spacing);
            Ok(())
        })
        .await;
        ticket.global = true;
        ticket
    }

    /// Waits until `take` succeeds, retrying when its answer says or a slot is freed.
    async fn wait_for_slot(
        &self,
        mut take: impl FnMut(&mut Budgets, Instant) -> Result<(), Option<Instant>>,
    ) {
        loop {
            let freed = self.inner.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let verdict = take(&mut self.inner.budgets(), Instant::now());
            match verdict {
                Ok(()) => return,
                Err(Some(at)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = freed => {}
                    }
                }
                Err(None) => freed.await,
            }
        }
    }

    /// Records a 429 for `chat`: the chat pauses for `wait`; a second chat with a 429
    /// within a minute lowers the global budget by a quarter (for a minute).
    fn too_many(&self, chat: i64, wait: Duration) {
        let now = Instant::now();
        let mut budgets = self.inner.budgets();
        let until = now + wait;
        let paused = budgets.paused.entry(chat).or_insert(until);
        *paused = (*paused).max(until);
        budgets.paused.retain(|_, until| *until > now);
        budgets
            .too_many
            .retain(|(_, at)| now.duration_since(*at) < SLOWDOWN_MEMORY);
        let elsewhere = budgets.too_many.iter().any(|(other, _)| *other != chat);
        budgets.too_many.push_back((chat, now));
        if elsewhere {
            let lowered = (budgets.global.capacity * 3 / 4).max(1);
            tracing::warn!(
                per_second = lowered,
                "429s in several chats; lowering the global rate for a minute"
            );
            budgets.global.capacity = lowered;
            budgets.slowed_at = Some(now);
        }
    }

    /// Whether `chat` may queue one more command. A chat with [`MAX_PENDING`] commands
    /// waiting for their replies has its further commands dropped until the queue has
    /// drained, and is told once to slow down ([`Admission::DropAndWarn`]: the caller
    /// sends the notice at once rather than behind the queue).
    pub fn admits_command(&self, chat: ChatId) -> Admission {
        let mut lanes = self.inner.lanes();
        let Some(lane) = lanes.get_mut(&chat.0) else {
            return Admission::Queue;
        };
        if lane.pending < MAX_PENDING {
            return Admission::Queue;
        }
        let warn = !lane.warned;
        lane.warned = true;
        drop(lanes);
        tracing::info!(chat_id = chat.0, warn, "chat is flooding; command dropped");
        if warn {
            Admission::DropAndWarn
        } else {
            Admission::Drop
        }
    }

    /// Queues `job` (a command's replies) behind the chat's earlier ones and returns at
    /// once: a chat waiting on its budget never holds up the dispatcher or other chats,
    /// and its replies leave in the order of its commands.
    pub fn queue(&self, chat: ChatId, job: Job) {
        let mut lanes = self.inner.lanes();
        let lane = lanes.entry(chat.0).or_insert_with(|| {
            let (jobs, queued) = mpsc::unbounded_channel();
            tokio::spawn(self.clone().run_lane(chat.0, queued));
            Lane {
                jobs,
                pending: 0,
                warned: false,
            }
        });
        lane.pending += 1;
        let _ = lane.jobs.send(job);
        record_lanes(&lanes);
    }

    /// Runs a chat's jobs in order until its queue is empty.
    async fn run_lane(self, chat: i64, mut queued: mpsc::UnboundedReceiver<Job>) {
        use futures_util::FutureExt;
        while let Some(job) = queued.recv().await {
            if std::panic::AssertUnwindSafe(job)
                .catch_unwind()
                .await
                .is_err()
            {
                tracing::error!(chat_id = chat, "a queued reply panicked");
            }
            let mut lanes = self.inner.lanes();
            let Some(lane) = lanes.get_mut(&chat) else {
                break;
            };
            lane.pending -= 1;
            if lane.pending == 0 {
                lanes.remove(&chat);
                record_lanes(&lanes);
                drop(lanes);
                self.inner.lane_done.notify_waiters();
                break;
            }
            record_lanes(&lanes);
        }
    }

    /// Waits at most `within` for every queued reply to be sent (at shutdown).
    pub async fn drain(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let done = self.inner.lane_done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            let pending: usize = self.inner.lanes().values().map(|lane| lane.pending).sum();
            if pending == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                tracing::warn!(
                    pending,
                    "stopping with replies still queued; they are not sent"
                );
                return;
            }
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

/// Records the reply lanes' depth: chats with queued replies, and the replies queued.
fn record_lanes(lanes: &HashMap<i64, Lane>) {
    let jobs = lanes.values().map(|lane| lane.pending).sum();
    crate::telemetry::reply_lanes(lanes.len(), jobs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_in_flight_requests_until_a_window_after_their_answer() {
        let second = Duration::from_secs(1);
        let start = Instant::now();
        let mut window = SlidingWindow::new(2, second);
        assert_eq!(window.take(start), Ok(()));
        assert_eq!(window.take(start), Ok(()));
        assert_eq!(window.take(start), Err(None), "both still in flight");
        let answered = start + Duration::from_millis(300);
        window.finish(answered);
        assert_eq!(
            window.take(answered + Duration::from_millis(999)),
            Err(Some(answered + second)),
            "a slot frees one window after the answer, not after the send"
        );
        assert_eq!(window.take(answered + second), Ok(()));
        assert!(!window.is_idle(answered + second));
    }

    #[test]
    fn a_lowered_capacity_waits_for_enough_slots_to_expire() {
        let second = Duration::from_secs(1);
        let start = Instant::now();
        let mut window = SlidingWindow::new(4, second);
        for at in 0..4 {
            let at = start + Duration::from_millis(at * 10);
            assert_eq!(window.take(at), Ok(()));
            window.finish(at);
        }
        window.capacity = 2;
        let now = start + Duration::from_millis(100);
        assert_eq!(
            window.take(now),
            Err(Some(start + Duration::from_millis(20) + second)),
            "three of the four must expire to get below two"
        );
        let later = start + Duration::from_millis(40) + second;
        assert_eq!(window.take(later), Ok(()));
        assert!(
            !window.is_idle(later + 2 * second),
            "the new one is in flight"
        );
    }

    #[test]
    fn a_429_pauses_its_chat_and_only_429s_in_several_chats_lower_the_rate() {
        let outbox = Outbox::new(Bot::new("1:token"), &RateLimits::default());
        outbox.too_many(-1, Duration::from_secs(60));
        outbox.too_many(-1, Duration::from_secs(60));
        {
            let budgets = outbox.inner.budgets();
            assert!(budgets.paused.contains_key(&-1));
            assert!(!budgets.paused.contains_key(&-2), "other chats go on");
            assert_eq!(
                budgets.global.capacity, 30,
                "one chat's 429s slow no one else"
            );
        }
        outbox.too_many(-2, Duration::from_secs(1));
        let budgets = outbox.inner.budgets();
        assert_eq!(
            budgets.global.capacity, 22,
            "a second chat: a quarter slower"
        );
        assert!(budgets.slowed_at.is_some());
    }
}
