//! Send times and time zones as people type them, and local times turned into instants
//! across daylight saving (a gap moves a send to its end, an overlap takes the first).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::local_date;
use crate::text::fold::fold;

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
