//! Seeding a store directly, for the test binaries that need a subscribed chat before
//! the bot starts (included by each with `#[path]`: it builds studybot's own types, so
//! it cannot live in the harness package).

/// A subscription at 08:00 Asia/Shanghai for `chat_id`, made at `now`.
pub fn shanghai_subscription(
    chat_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> studybot::schedule::Subscription {
    studybot::schedule::Subscription::new(
        chat_id,
        "xzsj",
        chrono::NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time"),
        chrono_tz::Asia::Shanghai,
        studybot::schedule::Subscriber {
            user_id: 1,
            name: "admin".into(),
        },
        now,
    )
}
