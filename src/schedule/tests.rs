//! The schedule's rules, one unit test each.

use super::*;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

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
    let mut subscription = Subscription::new(-1, "xzsj", at, shanghai, subscriber(), subscribed);
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
