//! The due decision: whether a chat's day has come, is being sent, or was missed.

use chrono::{DateTime, TimeDelta, Utc};

use super::records::DeliveryState;

/// How long after its send time a day's excerpt may still go out (after a restart, a
/// crash or failed attempts). Later than that the day is skipped, never replayed.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::hours(6);

/// What to do about a chat whose day has come (see [`decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send the day's excerpt now.
    Send,
    /// The day's excerpt was already sent: send nothing, move on to the next day.
    AlreadyDone,
    /// The grace window has passed without a successful send: skip the day (the plan
    /// does not move) and go on to the first day whose window is still open — possibly
    /// today's, due at once (see [`Subscription::skip_day`](super::Subscription::skip_day)). Missed days are never
    /// replayed.
    Missed,
    /// The day's send time has not come yet.
    NotYet,
}

/// Decides whether a chat's excerpt for one local day goes out at `now`, from the day's
/// send instant (`scheduled`, see [`send_instant`](super::send_instant)), the ledger entry for that day and
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
