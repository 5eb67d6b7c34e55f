//! Telegram's rate limits, as the outbox waits for them.
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

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teloxide::types::ChatId;
use tokio::time::Instant;

use crate::config::RateLimits;

use super::{Outbox, OutboxState};

/// Two 429s in different chats within this time lower the global budget; a quiet one
/// restores it.
const SLOWDOWN_MEMORY: Duration = Duration::from_secs(60);

/// How many group windows are kept before idle ones are forgotten.
const GROUPS_KEPT: usize = 1024;

/// The sliding windows and pauses, behind one lock.
pub(super) struct Budgets {
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
pub(super) struct Ticket {
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

impl Budgets {
    /// Full budgets: `global_per_second` over all chats, `group_per_minute` to a group.
    pub(super) fn new(global_per_second: usize, group_per_minute: usize) -> Self {
        Self {
            global: SlidingWindow::new(global_per_second, Duration::from_secs(1)),
            next_global: None,
            groups: HashMap::new(),
            group_per_minute,
            paused: HashMap::new(),
            too_many: VecDeque::new(),
            slowed_at: None,
            groups_pruned_at: GROUPS_KEPT,
        }
    }
}

/// The per-chat quota: about one message a second to a chat, with a small burst.
pub(super) fn per_chat(limits: &RateLimits) -> DefaultKeyedRateLimiter<i64> {
    RateLimiter::keyed(quota(
        limits.chat_per_second,
        Duration::from_secs(1),
        limits.chat_burst,
    ))
}

impl OutboxState {
    fn budgets(&self) -> MutexGuard<'_, Budgets> {
        self.budgets.lock().unwrap_or_else(|p| p.into_inner())
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
    /// Waits until a message to `chat` is allowed by every limit and the chat is not
    /// paused by a 429; returns the slots it holds.
    pub(super) async fn admit(&self, chat: ChatId) -> Ticket {
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
    pub(super) fn too_many(&self, chat: i64, wait: Duration) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::Bot;

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
