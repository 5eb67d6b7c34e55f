//! The schedule, decided purely: the send times people type, time zones, the next send
//! instant of a chat, and whether a day's excerpt is due now.
//!
//! Nothing here reads a clock or a database: `now`, the stored state and the ledger
//! entry are passed in, so every rule is a unit test away. The records themselves
//! ([`Subscription`], [`LedgerEntry`]) and their state changes are defined here too; the
//! store only persists them ([`crate::store`]), and the app turns decisions into
//! deliveries ([`crate::app::daily`]).

use chrono::{
    DateTime, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::text::SectionId;
use crate::text::fold::fold;

/// How long after its send time a day's excerpt may still go out (after a restart, a
/// crash or failed attempts). Later than that the day is skipped, never replayed.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(6);

/// A transient failure is tried again this long after the failed attempt (the transport
/// has already retried with backoff), so a chat whose sends keep failing costs one
/// attempt per few minutes, not one per scheduler pass, until its grace window ends.
pub const RETRY_DELAY: TimeDelta = TimeDelta::minutes(5);

/// A send Telegram refused (the bot may not write in the chat for now, or the message
/// itself was refused) is tried again this long after the attempt, while the day's grace
/// window lasts, and again on the following days: an admin who gives the bot its rights
/// back gets the day's excerpt within the hour, and a muted bot costs a few calls a day.
pub const REFUSED_RETRY_DELAY: TimeDelta = TimeDelta::hours(1);

/// The longest time zone name accepted (the longest IANA name has 32 characters).
const MAX_ZONE_CHARS: usize = 64;

/// Why a typed send time was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Nothing was typed.
    #[error("no time given")]
    Empty,
    /// The text is not of the form `H:MM` or `HH:MM` (for example `8点` or `abc`).
    #[error("not a time of the form HH:MM")]
    Format,
    /// The form is right but the hour is past 23 or the minute past 59 (`25:00`).
    #[error("hour or minute out of range")]
    OutOfRange,
}

/// Why a typed time zone was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// Nothing was typed.
    #[error("no time zone given")]
    Empty,
    /// The text is not an IANA time zone name (for example `Mars/Olympus`).
    #[error("not an IANA time zone name")]
    Unknown,
}

/// Parses a send time as people type it: `8:00`, `08:00`, `20:30`, with full-width
/// digits and colon (`８：００`, `8：00`) too. Seconds are not accepted.
pub fn parse_time(input: &str) -> Result<NaiveTime, TimeError> {
    let text = fold(input.trim());
    if text.is_empty() {
        return Err(TimeError::Empty);
    }
    let Some((hour, minute)) = text.split_once(':') else {
        return Err(TimeError::Format);
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&hour.len()) || minute.len() != 2 || !digits(hour) || !digits(minute) {
        return Err(TimeError::Format);
    }
    let hour: u32 = hour.parse().map_err(|_| TimeError::Format)?;
    let minute: u32 = minute.parse().map_err(|_| TimeError::Format)?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or(TimeError::OutOfRange)
}

/// Parses an IANA time zone name (`Asia/Shanghai`, `Europe/Berlin`). The exact spelling
/// is tried first, then the same name in any letter case (`europe/berlin`).
pub fn parse_timezone(input: &str) -> Result<Tz, ZoneError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(ZoneError::Empty);
    }
    if name.chars().count() > MAX_ZONE_CHARS {
        return Err(ZoneError::Unknown);
    }
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(name))
        .copied()
        .ok_or(ZoneError::Unknown)
}

/// Writes a send time as `HH:MM`, the form it is stored and shown in.
pub fn format_time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// Writes an instant as a local date and time in `zone`: `2026-05-02 08:00`.
pub fn format_local(instant: DateTime<Utc>, zone: Tz) -> String {
    instant
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The local calendar date of `instant` in `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// The first instant of local `date` in `zone` (midnight, or the end of a
/// daylight-saving gap that swallowed it).
pub fn day_start(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    send_instant(date, NaiveTime::MIN, zone)
}

/// The instant a chat's excerpt for local `date` is sent: `time` on `date` in `zone`.
///
/// Daylight saving makes some local times ambiguous and others impossible; both are
/// resolved so that every local date has exactly one send instant:
///
/// - A local time that does not exist (it falls in the spring-forward gap, e.g. 02:30 in
///   Berlin on 2026-03-29) is sent at the first instant after the gap (03:00 local), not
///   shifted by the gap's length and not skipped: the group still gets that day's
///   excerpt, as close to its chosen time as the clock allows.
/// - A local time that occurs twice (the autumn fall-back, e.g. 02:30 in Berlin on
///   2026-10-25) is sent at its first occurrence. The ledger is keyed by the local date,
///   so the second occurrence finds the day done and sends nothing.
pub fn send_instant(date: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let local = date.and_time(time);
    match zone.from_local_datetime(&local).earliest() {
        Some(instant) => instant.with_timezone(&Utc),
        None => after_gap(local, zone),
    }
}

/// The first instant after the daylight-saving gap that swallowed `local`: the first
/// local minute after it that exists. Gaps last an hour or so (a whole day at most,
/// when Samoa crossed the date line), so the walk is short.
fn after_gap(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    const MAX_GAP_MINUTES: i64 = 48 * 60;
    for minutes in 1..=MAX_GAP_MINUTES {
        let later = local + TimeDelta::minutes(minutes);
        if let Some(instant) = zone.from_local_datetime(&later).earliest() {
            return instant.with_timezone(&Utc);
        }
    }
    // No zone has a gap this long; read the local time as UTC rather than fail.
    Utc.from_utc_datetime(&local)
}

/// The first send instant strictly after `after`, with the local date it belongs to.
///
/// `after` is usually `now` (a new subscription, a changed time or zone) or the day's
/// own send instant (the following day, once a day is done). Daylight-saving gaps and
/// repeats are resolved as [`send_instant`] describes, so each local date yields one
/// instant and a repeated local time is never a second send.
pub fn next_send(after: DateTime<Utc>, time: NaiveTime, zone: Tz) -> (DateTime<Utc>, NaiveDate) {
    let today = local_date(after, zone);
    // Starting a day early covers zones where `after`'s local date began before the
    // previous day's send instant resolved; a few days cover any skipped date.
    let mut date = today.pred_opt().unwrap_or(today);
    for _ in 0..5 {
        let instant = send_instant(date, time, zone);
        if instant > after {
            return (instant, date);
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    // Only reachable at the end of chrono's calendar.
    (after + TimeDelta::days(1), date)
}

/// The first send instant still to be served at `now`, with its local date: the first
/// instant whose grace window (`[instant, instant + grace)`) has not ended at `now`,
/// that is not before `not_before`, and whose local date is after `floor` (the last date
/// already served, if any). It may lie before `now` — its window is open, so it is due
/// at once — or after it.
///
/// This is the one rule for "which day comes next" whenever the schedule is recomputed
/// (after an outage, after `/settime` or `/timezone`): a day whose window still contains
/// `now` is served, never skipped, and a date already served is never served again.
pub fn first_open_send(
    now: DateTime<Utc>,
    grace: TimeDelta,
    not_before: DateTime<Utc>,
    floor: Option<NaiveDate>,
    time: NaiveTime,
    zone: Tz,
) -> (DateTime<Utc>, NaiveDate) {
    // `next_send` is strictly after its argument: "after now - grace" is "window still
    // open at now", and one nanosecond before `not_before` makes that bound inclusive.
    let after = (now - grace).max(not_before - TimeDelta::nanoseconds(1));
    let (mut due, mut date) = next_send(after, time, zone);
    // The floor is at most a day or two past `after`'s local date (it was served at or
    // before `now`); a few steps always reach the first date after it.
    for _ in 0..8 {
        if floor.is_none_or(|floor| date > floor) {
            break;
        }
        (due, date) = next_send(due, time, zone);
    }
    (due, date)
}

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

/// What to do about a chat whose day has come (see [`decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send the day's excerpt now.
    Send,
    /// The day's excerpt was already sent: send nothing, move on to the next day.
    AlreadyDone,
    /// The grace window has passed without a successful send: skip the day (the plan
    /// does not move) and go on to the first day whose window is still open — possibly
    /// today's, due at once (see [`Subscription::skip_day`]). Missed days are never
    /// replayed.
    Missed,
    /// The day's send time has not come yet.
    NotYet,
}

/// Decides whether a chat's excerpt for one local day goes out at `now`, from the day's
/// send instant (`scheduled`, see [`send_instant`]), the ledger entry for that day and
/// the grace window. The window is half-open: `scheduled` is in, `scheduled + grace` is
/// out.
///
/// # The delivery guarantee
///
/// A delivery is "mark intended → send → mark sent". The process can die between
/// Telegram accepting a message and the ledger recording it; it then finds the day
/// `Intended` on restart and cannot know whether the message arrived. We choose to send
/// it again (when still within the grace window): **at most one duplicate per message
/// in flight at the moment of the crash, and no miss**. The other choice — treating
/// `Intended` as done — would turn every crash into a silent miss for each chat whose
/// send had been prepared but not yet accepted; with one pass preparing many chats, that
/// is far more chats than the one or few actually in flight. A study group notices a
/// missing day and cannot get it back (missed days are not replayed); a rare repeated
/// message is harmless and obvious. Because a `Sent` entry always wins, no day is ever
/// sent twice once its success was recorded, and a restart without a crash in the
/// middle of a send sends nothing twice.
///
/// This relies on the scheduler reporting every delivery it was handed (success or
/// failure) before asking for the next batch: an `Intended` entry is read as "the last
/// attempt was interrupted", which is only true if no attempt is still running.
///
/// The ledger has one entry per chat and day, not per message: a section longer than
/// one message would be resent whole, repeating parts that had already arrived. Every
/// section of the shipped speech fits in one message (a test checks this), so today the
/// bound is one duplicate message per chat whose send was in flight.
pub fn decide(
    scheduled: DateTime<Utc>,
    ledger: Option<&DeliveryState>,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Due {
    if now < scheduled {
        return Due::NotYet;
    }
    match ledger {
        Some(DeliveryState::Sent { .. }) => Due::AlreadyDone,
        _ if now >= scheduled + grace => Due::Missed,
        None | Some(DeliveryState::Intended) | Some(DeliveryState::Failed { .. }) => Due::Send,
    }
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
        serializer.serialize_str(&super::format_time(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_time(&text)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
    const BERLIN: Tz = chrono_tz::Europe::Berlin;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn subscriber() -> Subscriber {
        Subscriber {
            user_id: 42,
            name: "王书记".into(),
        }
    }

    #[test]
    fn records_from_before_topics_still_load() {
        let subscription = Subscription::new(
            -5,
            "xzsj",
            time(8, 0),
            SHANGHAI,
            subscriber(),
            utc("2026-05-01T00:00:00Z"),
        );
        let mut record = serde_json::to_value(&subscription).unwrap();
        record.as_object_mut().unwrap().remove("topic");
        let loaded: Subscription = serde_json::from_value(record).unwrap();
        assert_eq!(loaded.topic, None);
        assert_eq!(loaded, subscription);
    }

    /// Subscribed at 08:00 Shanghai on 2026-05-01 12:00 UTC (first send 2026-05-02).
    fn shanghai_at_eight() -> Subscription {
        let subscribed = utc("2026-05-01T12:00:00Z");
        Subscription::new(-100, "xzsj", time(8, 0), SHANGHAI, subscriber(), subscribed)
    }

    #[test]
    fn records_store_time_and_zone_by_name() {
        let subscription = Subscription::new(
            -100,
            "xzsj",
            time(8, 0),
            BERLIN,
            subscriber(),
            utc("2026-05-01T12:00:00Z"),
        );
        let json = serde_json::to_value(&subscription).unwrap();
        assert_eq!(json["send_time"], "08:00");
        assert_eq!(json["timezone"], "Europe/Berlin");
        let back: Subscription = serde_json::from_value(json).unwrap();
        assert_eq!(back, subscription);
    }

    #[test]
    fn a_day_done_advances_the_plan_once() {
        let mut subscription = shanghai_at_eight();
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 2), utc("2026-05-02T00:00:00Z"))
        );
        let sent_at = utc("2026-05-02T00:00:05Z");
        subscription.complete_day(date(2026, 5, 2), sent_at);
        assert_eq!(subscription.position, 1);
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 3), utc("2026-05-03T00:00:00Z"))
        );
        // A repeated report (a repair after a crash) changes nothing.
        subscription.complete_day(date(2026, 5, 2), sent_at);
        assert_eq!(subscription.position, 1);
        assert_eq!(subscription.next_date, date(2026, 5, 3));
    }

    #[test]
    fn moving_the_time_never_serves_a_day_twice() {
        let mut subscription = shanghai_at_eight();
        subscription.complete_day(date(2026, 5, 2), utc("2026-05-02T00:00:05Z"));
        // At 09:00 local the group moves its time to 10:00: today is done, so tomorrow.
        subscription.set_time(time(10, 0), utc("2026-05-02T01:00:00Z"), DEFAULT_GRACE);
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 3), utc("2026-05-03T02:00:00Z"))
        );
        // Moving to a zone where it is still yesterday: the excerpt came on 05-01 there
        // (20:00 New York), so New York's 05-02 is the next date served, at 10:00.
        subscription.set_timezone(
            NEW_YORK,
            utc("2026-05-02T01:00:00Z"),
            DEFAULT_GRACE,
            Some(utc("2026-05-02T00:00:05Z")),
        );
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 2), utc("2026-05-02T14:00:00Z"))
        );
    }

    #[test]
    fn a_missed_day_is_skipped_without_moving_the_plan() {
        let mut subscription = shanghai_at_eight();
        // The process was down for three days and comes back at 14:00 local, past
        // today's window too: the next send is tomorrow's.
        let now = utc("2026-05-05T06:00:00Z");
        assert_eq!(
            decide(subscription.scheduled(), None, now, DEFAULT_GRACE),
            Due::Missed
        );
        subscription.skip_day(date(2026, 5, 2), now, DEFAULT_GRACE);
        assert_eq!(subscription.position, 0);
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 6), utc("2026-05-06T00:00:00Z"))
        );
        assert_eq!(
            subscription.last_delivery.as_ref().unwrap().result,
            DeliveryResult::Missed
        );
    }

    /// Issue 10, item 1: after an outage, the first day whose grace window still
    /// contains `now` is served at once, not skipped.
    #[test]
    fn after_an_outage_todays_excerpt_is_served_within_its_window() {
        // Subscribed at 07:00 Shanghai; first send 2026-05-02 07:00 (05-01 23:00 UTC).
        let subscribed = utc("2026-05-01T12:00:00Z");
        let seven = Subscription::new(-1, "xzsj", time(7, 0), SHANGHAI, subscriber(), subscribed);
        assert_eq!(seven.next_date, date(2026, 5, 2));
        for (down_until, today) in [
            // Down three days, back at 07:00:30 on the fourth.
            (utc("2026-05-04T23:00:30Z"), date(2026, 5, 5)),
            // Down 30 days, back at 09:00.
            (utc("2026-06-01T01:00:00Z"), date(2026, 6, 1)),
            // Back at 12:59:59, the last second of today's six-hour window.
            (utc("2026-05-05T04:59:59Z"), date(2026, 5, 5)),
        ] {
            let mut subscription = seven.clone();
            assert_eq!(
                decide(subscription.scheduled(), None, down_until, DEFAULT_GRACE),
                Due::Missed
            );
            subscription.skip_day(date(2026, 5, 2), down_until, DEFAULT_GRACE);
            assert_eq!(subscription.next_date, today, "back at {down_until}");
            assert_eq!(subscription.next_due, down_until, "due at once");
            assert_eq!(
                decide(subscription.scheduled(), None, down_until, DEFAULT_GRACE),
                Due::Send,
                "back at {down_until}"
            );
            assert_eq!(subscription.position, 0, "the plan did not move");
        }
        // A shorter grace window closes today's at 08:00: tomorrow, then.
        let mut subscription = seven.clone();
        let back = utc("2026-05-05T00:30:00Z");
        subscription.skip_day(date(2026, 5, 2), back, TimeDelta::hours(1));
        assert_eq!(
            (subscription.next_date, subscription.next_due),
            (date(2026, 5, 6), utc("2026-05-05T23:00:00Z"))
        );
    }

    /// Issue 10, item 2: moving the zone (or the time) after today's excerpt never skips
    /// a local date and never serves one twice.
    #[test]
    fn changing_zone_or_time_serves_the_first_date_not_yet_served() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let los_angeles = chrono_tz::America::Los_Angeles;
        let at = time(13, 47);
        let subscribed = utc("2026-11-20T00:00:00Z");
        let mut subscription =
            Subscription::new(-1, "xzsj", at, shanghai, subscriber(), subscribed);
        // Delivered 13:47 Shanghai on 11-30 (05:47 UTC; 21:47 on 11-29 in Los Angeles).
        let sent_at = utc("2026-11-30T05:47:03Z");
        subscription.next_date = date(2026, 11, 30);
        subscription.complete_day(date(2026, 11, 30), sent_at);
        let now = utc("2026-11-30T06:00:00Z");

        let mut west = subscription.clone();
        west.set_timezone(los_angeles, now, DEFAULT_GRACE, Some(sent_at));
        assert_eq!(
            (west.next_date, format_local(west.next_due, los_angeles)),
            (date(2026, 11, 30), "2026-11-30 13:47".to_string()),
            "Los Angeles' 11-30 gets its excerpt"
        );

        // East: the excerpt came on 11-30 in Tokyo as well (14:47): next is 12-01.
        let mut east = subscription.clone();
        east.set_timezone(chrono_tz::Asia::Tokyo, now, DEFAULT_GRACE, Some(sent_at));
        assert_eq!(east.next_date, date(2026, 12, 1));

        // Far east, where it is already 12-01 (Kiritimati, UTC+14: 19:47 on 11-30 when
        // sent, 20:00 now): 12-01's 13:47 is still ahead.
        let mut kiritimati = subscription.clone();
        kiritimati.set_timezone(
            chrono_tz::Pacific::Kiritimati,
            now,
            DEFAULT_GRACE,
            Some(sent_at),
        );
        assert_eq!(kiritimati.next_date, date(2026, 12, 1));

        // /settime the same day: earlier or later, today was served; tomorrow at the new time.
        for new_time in [time(9, 0), time(20, 0)] {
            let mut moved = subscription.clone();
            moved.set_time(new_time, now, DEFAULT_GRACE);
            assert_eq!(moved.next_date, date(2026, 12, 1), "{new_time}");
            assert_eq!(
                moved.next_due,
                send_instant(date(2026, 12, 1), new_time, shanghai)
            );
        }

        // Today not served yet (the time was 20:00) and moved to 09:00 at 14:00: today's
        // 09:00 window is still open, so today is served at once rather than skipped.
        let mut pending =
            Subscription::new(-1, "xzsj", time(20, 0), shanghai, subscriber(), subscribed);
        let two_pm = utc("2026-11-30T06:00:00Z");
        pending.next_date = date(2026, 11, 30);
        pending.set_time(time(9, 0), two_pm, DEFAULT_GRACE);
        assert_eq!(
            (pending.next_date, pending.next_due),
            (date(2026, 11, 30), two_pm)
        );
        // ... but not a day from before the subscription began.
        let mut fresh = Subscription::new(-1, "xzsj", time(20, 0), shanghai, subscriber(), two_pm);
        fresh.set_time(time(9, 0), two_pm, DEFAULT_GRACE);
        assert_eq!(fresh.next_date, date(2026, 12, 1));
    }

    #[test]
    fn a_failed_attempt_is_retried_later_the_same_day() {
        let mut subscription = shanghai_at_eight();
        let now = utc("2026-05-02T00:00:10Z");
        subscription.fail_attempt(
            date(2026, 5, 2),
            FailureKind::Transient,
            "Telegram unavailable",
            now,
        );
        assert_eq!(subscription.next_due, now + RETRY_DELAY);
        assert_eq!(subscription.next_date, date(2026, 5, 2));
        assert_eq!(subscription.scheduled(), utc("2026-05-02T00:00:00Z"));
        assert_eq!(subscription.position, 0);
        // Past the grace window, the retry finds the day missed.
        assert_eq!(
            decide(
                subscription.scheduled(),
                None,
                utc("2026-05-02T06:00:00Z"),
                DEFAULT_GRACE
            ),
            Due::Missed
        );
    }

    #[test]
    fn resubscribing_keeps_the_plan() {
        let mut subscription = shanghai_at_eight();
        subscription.complete_day(date(2026, 5, 2), utc("2026-05-02T00:00:05Z"));
        subscription.disable("Forbidden: bot was kicked from the group chat");
        assert!(!subscription.active);
        let later = utc("2026-05-10T12:00:00Z");
        subscription.activate(
            Subscriber {
                user_id: 7,
                name: "李委员".into(),
            },
            later,
        );
        assert!(subscription.active && subscription.disabled_reason.is_none());
        assert_eq!(subscription.position, 1);
        assert_eq!(subscription.subscribed_by.user_id, 7);
        assert_eq!(subscription.next_date, date(2026, 5, 11));
    }

    #[test]
    fn times_as_people_type_them() {
        for (input, expected) in [
            ("8:00", time(8, 0)),
            ("08:00", time(8, 0)),
            ("20:30", time(20, 30)),
            (" 7:05 ", time(7, 5)),
            ("０８：００", time(8, 0)),
            ("８：００", time(8, 0)),
            ("8：00", time(8, 0)),
            ("0:00", time(0, 0)),
            ("23:59", time(23, 59)),
        ] {
            assert_eq!(parse_time(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn bad_times_are_refused_with_a_kind() {
        assert_eq!(parse_time(""), Err(TimeError::Empty));
        assert_eq!(parse_time("   "), Err(TimeError::Empty));
        for input in [
            "8点",
            "abc",
            "8",
            "8:0",
            "8:000",
            "123:00",
            "8:00:00",
            "-1:00",
            "８点半",
            "🙂",
        ] {
            assert_eq!(parse_time(input), Err(TimeError::Format), "{input}");
        }
        for input in ["25:00", "24:00", "8:60", "99:99"] {
            assert_eq!(parse_time(input), Err(TimeError::OutOfRange), "{input}");
        }
        assert_eq!(parse_time(&"9".repeat(10_000)), Err(TimeError::Format));
    }

    #[test]
    fn zones_are_iana_names() {
        assert_eq!(parse_timezone("Asia/Shanghai"), Ok(SHANGHAI));
        assert_eq!(parse_timezone(" Europe/Berlin "), Ok(BERLIN));
        assert_eq!(parse_timezone("europe/berlin"), Ok(BERLIN));
        assert_eq!(parse_timezone("UTC"), Ok(chrono_tz::UTC));
        assert_eq!(parse_timezone(""), Err(ZoneError::Empty));
        for input in [
            "Mars/Olympus",
            "Berlin",
            "+08:00",
            "北京",
            &"A/".repeat(100),
        ] {
            assert_eq!(parse_timezone(input), Err(ZoneError::Unknown), "{input}");
        }
    }

    #[test]
    fn shanghai_sends_at_midnight_utc_for_eight_o_clock() {
        let eight = time(8, 0);
        assert_eq!(
            next_send(utc("2026-04-30T23:59:59Z"), eight, SHANGHAI),
            (utc("2026-05-01T00:00:00Z"), date(2026, 5, 1))
        );
        // Strictly after: at the send instant itself, the next one is tomorrow's.
        assert_eq!(
            next_send(utc("2026-05-01T00:00:00Z"), eight, SHANGHAI),
            (utc("2026-05-02T00:00:00Z"), date(2026, 5, 2))
        );
        assert_eq!(
            format_local(utc("2026-05-02T00:00:00Z"), SHANGHAI),
            "2026-05-02 08:00"
        );
    }

    #[test]
    fn local_dates_differ_from_utc_dates() {
        // 00:30 in Shanghai is 16:30 UTC the day before.
        assert_eq!(
            next_send(utc("2026-05-01T16:00:00Z"), time(0, 30), SHANGHAI),
            (utc("2026-05-01T16:30:00Z"), date(2026, 5, 2))
        );
        // 23:30 in New York (EDT, UTC-4) is 03:30 UTC the day after.
        assert_eq!(
            next_send(utc("2026-05-01T12:00:00Z"), time(23, 30), NEW_YORK),
            (utc("2026-05-02T03:30:00Z"), date(2026, 5, 1))
        );
        assert_eq!(
            local_date(utc("2026-05-02T03:30:00Z"), NEW_YORK),
            date(2026, 5, 1)
        );
    }

    #[test]
    fn berlin_spring_forward() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let eight = time(8, 0);
        assert_eq!(
            send_instant(date(2026, 3, 28), eight, BERLIN),
            utc("2026-03-28T07:00:00Z")
        );
        assert_eq!(
            next_send(utc("2026-03-28T07:00:00Z"), eight, BERLIN),
            (utc("2026-03-29T06:00:00Z"), date(2026, 3, 29))
        );
        // 02:30 does not exist that day: sent at the first instant after the gap.
        let half_past_two = time(2, 30);
        assert_eq!(
            send_instant(date(2026, 3, 29), half_past_two, BERLIN),
            utc("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            next_send(utc("2026-03-28T12:00:00Z"), half_past_two, BERLIN),
            (utc("2026-03-29T01:00:00Z"), date(2026, 3, 29))
        );
        assert_eq!(
            next_send(utc("2026-03-29T01:00:00Z"), half_past_two, BERLIN),
            (utc("2026-03-30T00:30:00Z"), date(2026, 3, 30))
        );
    }

    #[test]
    fn berlin_fall_back() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        let half_past_two = time(2, 30);
        assert_eq!(
            send_instant(date(2026, 10, 25), half_past_two, BERLIN),
            utc("2026-10-25T00:30:00Z")
        );
        // After the first occurrence the next send is the next day, not the repeat.
        assert_eq!(
            next_send(utc("2026-10-25T00:30:00Z"), half_past_two, BERLIN),
            (utc("2026-10-26T01:30:00Z"), date(2026, 10, 26))
        );
        let eight = time(8, 0);
        assert_eq!(
            next_send(utc("2026-10-24T06:00:00Z"), eight, BERLIN),
            (utc("2026-10-25T07:00:00Z"), date(2026, 10, 25))
        );
    }

    #[test]
    fn new_york_daylight_saving() {
        // 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        assert_eq!(
            send_instant(date(2026, 3, 8), time(2, 30), NEW_YORK),
            utc("2026-03-08T07:00:00Z")
        );
        assert_eq!(
            send_instant(date(2026, 3, 7), time(8, 0), NEW_YORK),
            utc("2026-03-07T13:00:00Z")
        );
        assert_eq!(
            send_instant(date(2026, 3, 8), time(8, 0), NEW_YORK),
            utc("2026-03-08T12:00:00Z")
        );
        // 2026-11-01: 01:30 happens twice; the first (EDT) is used.
        assert_eq!(
            send_instant(date(2026, 11, 1), time(1, 30), NEW_YORK),
            utc("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn every_day_of_a_year_has_one_send_in_order() {
        for zone in [SHANGHAI, BERLIN, NEW_YORK] {
            for at in [time(0, 0), time(2, 30), time(8, 0), time(23, 59)] {
                let (mut instant, mut day) = next_send(utc("2025-12-31T12:00:00Z"), at, zone);
                for _ in 0..400 {
                    let (next, next_day) = next_send(instant, at, zone);
                    assert!(next > instant, "{zone} {at} {day}");
                    assert_eq!(next_day, day.succ_opt().unwrap(), "{zone} {at} {day}");
                    (instant, day) = (next, next_day);
                }
            }
        }
    }

    #[test]
    fn the_grace_window_is_half_open() {
        let scheduled = utc("2026-05-01T00:00:00Z");
        let grace = DEFAULT_GRACE;
        let at = |offset: TimeDelta| scheduled + offset;
        assert_eq!(
            decide(scheduled, None, at(TimeDelta::seconds(-1)), grace),
            Due::NotYet
        );
        assert_eq!(decide(scheduled, None, scheduled, grace), Due::Send);
        assert_eq!(
            decide(scheduled, None, at(grace - TimeDelta::seconds(1)), grace),
            Due::Send
        );
        assert_eq!(decide(scheduled, None, at(grace), grace), Due::Missed);
        assert_eq!(
            decide(scheduled, None, at(TimeDelta::days(3)), grace),
            Due::Missed
        );
    }

    #[test]
    fn the_ledger_decides_within_the_window() {
        let scheduled = utc("2026-05-01T00:00:00Z");
        let grace = DEFAULT_GRACE;
        let soon = scheduled + TimeDelta::minutes(30);
        let late = scheduled + TimeDelta::hours(7);
        let sent = DeliveryState::Sent {
            message_ids: vec![7],
        };
        let failed = DeliveryState::Failed {
            reason: "Telegram unavailable".into(),
        };
        assert_eq!(
            decide(scheduled, Some(&sent), soon, grace),
            Due::AlreadyDone
        );
        assert_eq!(
            decide(scheduled, Some(&sent), late, grace),
            Due::AlreadyDone
        );
        // An interrupted send is sent again (the crash guarantee), a failed one retried.
        assert_eq!(
            decide(scheduled, Some(&DeliveryState::Intended), soon, grace),
            Due::Send
        );
        assert_eq!(decide(scheduled, Some(&failed), soon, grace), Due::Send);
        assert_eq!(
            decide(scheduled, Some(&DeliveryState::Intended), late, grace),
            Due::Missed
        );
        assert_eq!(decide(scheduled, Some(&failed), late, grace), Due::Missed);
    }
}
