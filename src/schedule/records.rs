//! The daily excerpt's records: a chat's subscription (settings, place in the plan, next
//! send) and the delivery ledger; the store persists them as they are.

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::local_date;
use super::time::{day_start, first_open_send, next_send, send_instant};
use crate::text::SectionId;

/// A transient failure is tried again this long after the failed attempt (the transport
/// has already retried with backoff), so a chat whose sends keep failing costs one
/// attempt per few minutes, not one per scheduler pass, until its grace window ends.
pub const RETRY_DELAY: TimeDelta = TimeDelta::minutes(5);

/// A send Telegram refused (the bot may not write in the chat for now, or the message
/// itself was refused) is tried again this long after the attempt, while the day's grace
/// window lasts, and again on the following days: an admin who gives the bot its rights
/// back gets the day's excerpt within the hour, and a muted bot costs a few calls a day.
pub const REFUSED_RETRY_DELAY: TimeDelta = TimeDelta::hours(1);

/// The state of one chat's delivery for one local date, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// The excerpt is about to be sent (or was being sent when the process died).
    Intended,
    /// Telegram accepted the excerpt.
    Sent {
        /// The ids of the messages Telegram created, in order.
        message_ids: Vec<i32>,
    },
    /// The last attempt failed.
    Failed {
        /// Why, as Telegram or the transport said it.
        reason: String,
    },
}

/// How a `/subscribe` went, for its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// The chat had never subscribed.
    New,
    /// The chat had unsubscribed or been disabled and is back, with its progress.
    Reactivated,
    /// The chat was already subscribed (its time may have changed).
    AlreadyActive,
}

/// One entry of the delivery ledger: what happened to one chat's excerpt for one local
/// date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Intended, sent or failed.
    pub state: DeliveryState,
    /// The section the excerpt carries.
    pub section: SectionId,
    /// When the state last changed.
    pub at: DateTime<Utc>,
}

impl LedgerEntry {
    /// Whether this entry, stored under local `date`, speaks for that date in `zone`,
    /// the chat's zone now. The ledger is keyed by local dates, and a chat that moved
    /// west finds its new zone's date under the same key as the old zone's: an entry
    /// written before `date` even began in `zone` belongs to the old zone's day (every
    /// entry of a day is written at or after its send instant, so never before it began).
    pub fn is_for_day(&self, date: NaiveDate, zone: Tz) -> bool {
        self.at >= day_start(date, zone)
    }
}

/// Who subscribed a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The user's Telegram id.
    pub user_id: u64,
    /// The user's name as Telegram showed it then.
    pub name: String,
}

/// How the most recent day of a subscription ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// The excerpt was sent.
    Sent,
    /// The last attempt failed; it is retried while the grace window lasts.
    Failed {
        /// Why.
        reason: String,
    },
    /// The grace window passed without a successful send; the day was skipped.
    Missed,
}

/// The most recent day a subscription tried to deliver, for `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastDelivery {
    /// The chat's local date the excerpt was for.
    pub local_date: NaiveDate,
    /// How it ended.
    pub result: DeliveryResult,
    /// When that was recorded.
    pub at: DateTime<Utc>,
}

/// What kind of failure a delivery met: it decides when the day is tried again and
/// whether the subscription stays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// Network trouble or a Telegram outage (after the transport's own retries): tried
    /// again [`RETRY_DELAY`] later while the day's grace window lasts.
    Transient,
    /// The bot is in the chat but may not send messages there (muted, restricted, not
    /// an administrator of a channel): tried again [`REFUSED_RETRY_DELAY`] later while the
    /// window lasts and on the following days. The subscription stays on; `/status` says
    /// what an administrator has to fix.
    NoRights,
    /// Telegram refused the message itself (a fault of ours, e.g. bad markup): retried
    /// like [`FailureKind::NoRights`], never a reason to stop the subscription.
    Rejected,
    /// The bot was removed or blocked, the user deactivated, or the chat does not exist:
    /// the subscription stops until the chat subscribes again.
    ChatGone,
}

impl FailureKind {
    /// How long after a failed attempt the day is tried again (`None`: not at all, the
    /// subscription stops).
    pub fn retry_delay(self) -> Option<TimeDelta> {
        match self {
            Self::Transient => Some(RETRY_DELAY),
            Self::NoRights | Self::Rejected => Some(REFUSED_RETRY_DELAY),
            Self::ChatGone => None,
        }
    }
}

/// The most recent failed attempt of a subscription, kept (past the day's end) until an
/// excerpt goes through, so `/status` can say what went wrong and when it was last tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastFailure {
    /// The local date the attempt was for.
    pub local_date: NaiveDate,
    /// What kind of failure it was.
    pub kind: FailureKind,
    /// Why, as Telegram or the transport said it.
    pub reason: String,
    /// When the attempt failed.
    pub at: DateTime<Utc>,
}

/// One chat's subscription to the daily excerpt: its settings, its place in the reading
/// plan and its next send. The methods are the state changes; each keeps `next_due` and
/// `next_date` consistent with the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The chat's Telegram id.
    pub chat_id: i64,
    /// The id of the document the chat reads.
    pub document: String,
    /// Whether excerpts are sent. `false` after `/unsubscribe` or when the bot was removed.
    pub active: bool,
    /// Why the subscription was turned off by the bot (kicked, blocked), if it was;
    /// `None` while active and after a plain `/unsubscribe`.
    pub disabled_reason: Option<String>,
    /// The local send time, stored as `HH:MM`.
    #[serde(with = "hh_mm")]
    pub send_time: NaiveTime,
    /// The chat's time zone, stored as its IANA name.
    #[serde(with = "zone_name")]
    pub timezone: Tz,
    /// How many excerpts the chat has received in all; the next section is this position
    /// in the reading plan (see [`crate::plan::ReadingPlan`]), wrapping at the end.
    pub position: usize,
    /// When the next attempt is due: the next day's send instant, or a retry's.
    pub next_due: DateTime<Utc>,
    /// The local date that attempt is for (its ledger key).
    pub next_date: NaiveDate,
    /// Who subscribed (most recently).
    pub subscribed_by: Subscriber,
    /// When (most recently).
    pub subscribed_at: DateTime<Utc>,
    /// How the most recent day ended, if any day did.
    pub last_delivery: Option<LastDelivery>,
    /// The forum topic the chat subscribed in (Telegram's `message_thread_id`), where
    /// the excerpts go; `None` for the chat itself (records from before topics too).
    #[serde(default)]
    pub topic: Option<i32>,
    /// The most recent failed attempt, until an excerpt is sent again (absent from
    /// records written before it existed, and from healthy ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<LastFailure>,
}

impl Subscription {
    /// A new, active subscription whose first send is the first `send_time` after `now`.
    pub fn new(
        chat_id: i64,
        document: &str,
        send_time: NaiveTime,
        timezone: Tz,
        subscribed_by: Subscriber,
        now: DateTime<Utc>,
    ) -> Self {
        let (next_due, next_date) = next_send(now, send_time, timezone);
        Self {
            chat_id,
            document: document.to_string(),
            active: true,
            disabled_reason: None,
            send_time,
            timezone,
            position: 0,
            next_due,
            next_date,
            subscribed_by,
            subscribed_at: now,
            last_delivery: None,
            topic: None,
            last_failure: None,
        }
    }

    /// The send instant of the day `next_date` (retries may make `next_due` later).
    pub fn scheduled(&self) -> DateTime<Utc> {
        send_instant(self.next_date, self.send_time, self.timezone)
    }

    /// The last local date whose excerpt was sent, if the most recent day succeeded.
    pub fn last_sent_date(&self) -> Option<NaiveDate> {
        match &self.last_delivery {
            Some(LastDelivery {
                local_date,
                result: DeliveryResult::Sent,
                ..
            }) => Some(*local_date),
            _ => None,
        }
    }

    /// Turns the subscription on again (re-subscribe), keeping the plan position. The
    /// first send is the first one from `now` on a date not yet served (days from before
    /// the subscription are never owed, so no grace window applies).
    pub fn activate(&mut self, subscribed_by: Subscriber, now: DateTime<Utc>) {
        self.active = true;
        self.disabled_reason = None;
        self.subscribed_by = subscribed_by;
        self.subscribed_at = now;
        self.reschedule(now, TimeDelta::zero(), self.last_sent_date());
    }

    /// Turns the subscription off at the chat's request (`/unsubscribe`).
    pub fn deactivate(&mut self) {
        self.active = false;
        self.disabled_reason = None;
    }

    /// Turns the subscription off because the bot cannot write to the chat.
    pub fn disable(&mut self, reason: &str) {
        self.active = false;
        self.disabled_reason = Some(reason.to_string());
    }

    /// Changes the send time and moves the next send accordingly (see
    /// [`Subscription::reschedule`]). The chat's dates stay what they were, so a date
    /// whose excerpt was sent is not served again at the new time, and a date not yet
    /// served whose window is still open at the new time is served at once.
    pub fn set_time(&mut self, send_time: NaiveTime, now: DateTime<Utc>, grace: TimeDelta) {
        self.send_time = send_time;
        self.reschedule(now, grace, self.last_sent_date());
    }

    /// Changes the time zone and moves the next send accordingly. `last_sent_at` is when
    /// the most recent excerpt was delivered: the first date served in the new zone is
    /// the first local date there after the one that excerpt arrived on. Moving west
    /// after today's excerpt therefore still serves the new zone's "today" (it was
    /// yesterday there when the excerpt came), and moving east never brings a second
    /// excerpt on a date that already had one.
    pub fn set_timezone(
        &mut self,
        timezone: Tz,
        now: DateTime<Utc>,
        grace: TimeDelta,
        last_sent_at: Option<DateTime<Utc>>,
    ) {
        self.timezone = timezone;
        let served = last_sent_at.map(|at| local_date(at, timezone));
        // Dates are the chat's local dates: the last excerpt now counts for the date it
        // arrived on in the new zone (for `/status`, `/today` and "once per date").
        if let Some(LastDelivery {
            local_date,
            result: DeliveryResult::Sent,
            at,
        }) = &mut self.last_delivery
        {
            *local_date = crate::schedule::local_date(*at, timezone);
        }
        self.reschedule(now, grace, served);
    }

    /// Sets the next send to [`first_open_send`] at `now`: the first send instant whose
    /// grace window is still open, not before the subscription began, on a date after
    /// `served` (the last local date already served). When that instant has passed
    /// (its window is open), the next attempt is due at once.
    pub fn reschedule(&mut self, now: DateTime<Utc>, grace: TimeDelta, served: Option<NaiveDate>) {
        let (due, date) = first_open_send(
            now,
            grace,
            self.subscribed_at,
            served,
            self.send_time,
            self.timezone,
        );
        self.set_next(due, date, now);
    }

    /// Records that the excerpt for `date` was sent: the plan advances (once per date,
    /// however often this is called) and the next send is the following day's.
    pub fn complete_day(&mut self, date: NaiveDate, now: DateTime<Utc>) {
        if self.last_sent_date() != Some(date) {
            self.position += 1;
            self.last_delivery = Some(LastDelivery {
                local_date: date,
                result: DeliveryResult::Sent,
                at: now,
            });
        }
        self.last_failure = None;
        if self.next_date <= date {
            let after = send_instant(date, self.send_time, self.timezone);
            self.schedule_after(after, Some(date));
        }
    }

    /// Records that `date` was missed (its grace window passed at `now`): the plan stays,
    /// and the next send is the first one whose window is still open at `now` — today's,
    /// when the bot comes back within today's window after an outage of any length.
    /// Nothing happens if the subscription has moved on to another date meanwhile.
    pub fn skip_day(&mut self, date: NaiveDate, now: DateTime<Utc>, grace: TimeDelta) {
        if self.next_date != date {
            return;
        }
        self.last_delivery = Some(LastDelivery {
            local_date: date,
            result: DeliveryResult::Missed,
            at: now,
        });
        let (due, next) = first_open_send(
            now,
            grace,
            self.subscribed_at,
            Some(date),
            self.send_time,
            self.timezone,
        );
        self.set_next(due, next, now);
    }

    /// Records a failed attempt for `date` that may succeed later: the next attempt is
    /// [`FailureKind::retry_delay`] from `now`, for the same date (when that is past the
    /// day's grace window, the day is then skipped and the next one tried). A
    /// [`FailureKind::ChatGone`] failure is recorded the same way; stopping the
    /// subscription is [`Subscription::disable`]'s job.
    pub fn fail_attempt(
        &mut self,
        date: NaiveDate,
        kind: FailureKind,
        reason: &str,
        now: DateTime<Utc>,
    ) {
        if self.next_date != date {
            return;
        }
        self.last_delivery = Some(LastDelivery {
            local_date: date,
            result: DeliveryResult::Failed {
                reason: reason.to_string(),
            },
            at: now,
        });
        self.last_failure = Some(LastFailure {
            local_date: date,
            kind,
            reason: reason.to_string(),
            at: now,
        });
        if let Some(delay) = kind.retry_delay() {
            // Whole seconds: the due index is keyed by the second.
            self.next_due = (now + delay).trunc_subsecs(0);
        }
    }

    /// Points the next send at `date`, due at `due` — or at once (`now`, in whole
    /// seconds) when `due` has already passed.
    fn set_next(&mut self, due: DateTime<Utc>, date: NaiveDate, now: DateTime<Utc>) {
        self.next_due = due.max(now.trunc_subsecs(0));
        self.next_date = date;
    }

    /// Sets the next send to the first instant after `after` whose date is after `floor`.
    fn schedule_after(&mut self, after: DateTime<Utc>, floor: Option<NaiveDate>) {
        let (mut due, mut date) = next_send(after, self.send_time, self.timezone);
        // Zones can put the floor up to two local days ahead of `after`'s date.
        for _ in 0..3 {
            if floor.is_none_or(|floor| date > floor) {
                break;
            }
            (due, date) = next_send(due, self.send_time, self.timezone);
        }
        self.next_due = due;
        self.next_date = date;
    }
}

/// Stores a [`NaiveTime`] as `HH:MM`.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::schedule::format_time(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        crate::schedule::parse_time(&text)
            .map_err(|error| serde::de::Error::custom(format!("send time {text:?}: {error}")))
    }
}

/// Stores a [`Tz`] as its IANA name.
mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown time zone {name:?}")))
    }
}
