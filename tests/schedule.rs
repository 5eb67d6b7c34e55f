//! The daily excerpt end to end through the real binary: `studybot console --temp-db`
//! answers the subscription commands as a private chat would see them.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};
use studybot::schedule::{Subscriber, Subscription};
use studybot::store::Store;

use support::fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use support::{BotProcess, Workspace, console};

/// Asserts that `parts` occur in `text` in this order.
fn assert_in_order(text: &str, parts: &[&str]) {
    let mut from = 0;
    for part in parts {
        match text[from..].find(part) {
            Some(index) => from += index + part.len(),
            None => panic!("missing (in order) {part:?} after byte {from} in:\n{text}"),
        }
    }
}

#[test]
fn console_subscription_scenario() {
    let input = "/subscribe 8:00\n/status\n/plan\n/settime 25:00\n/timezone Mars/Olympus\n\
                 /timezone Europe/Berlin\n/today\n/unsubscribe\n/status\n";
    let stdout = console(input);
    assert_in_order(
        &stdout,
        &[
            // /subscribe 8:00
            "已订阅每日学习：每天 08:00（Asia/Shanghai）发送一节，共 21 节",
            "下次发送：",
            "下一节：开场",
            // /status
            "每日学习：已订阅",
            "发送时间：每天 08:00（Asia/Shanghai）",
            "下次发送：",
            "下一节：开场",
            "进度：0/21",
            "上次发送：还没有",
            "订阅人：console",
            // /plan
            "学习进度 0/21",
            "░░░░░░░░░░░░░░░░░░░░░",
            "下一节：开场",
            "之后：第一部分 铸牢政治之魂、1.1 以学立身筑牢忠诚根基（不完整）",
            // /settime 25:00
            "“25:00”超出范围",
            "例如：/settime 08:00",
            // /timezone Mars/Olympus
            "“Mars/Olympus”不是有效的时区名",
            "例如：/timezone Asia/Shanghai",
            // /timezone Europe/Berlin
            "时区已改为 Europe/Berlin，每天按当地时间 08:00 发送。",
            " 08:00（Europe/Berlin）",
            // /today
            "今日学习 · 开场",
            "同志们",
            "[本节全文] [提纲]",
            // /unsubscribe
            "已退订每日学习",
            "进度保留在 0/21",
            // /status
            "每日学习：已退订",
            "发送时间：每天 08:00（Europe/Berlin）",
            "订阅人：console",
        ],
    );
    assert!(!stdout.contains("暂时无法保存"), "{stdout}");
    // Unsubscribed: the last status has no next send.
    let last_status = &stdout[stdout.rfind("每日学习：已退订").unwrap()..];
    assert!(!last_status.contains("下次发送"), "{last_status}");
}

const WAIT: Duration = Duration::from_secs(10);

/// Runs `studybot tick --now <now>` against the fake and returns its stdout.
async fn tick(workspace: &Workspace, api_url: &str, now: DateTime<Utc>) -> String {
    let mut bot = BotProcess::start(workspace, api_url, &["tick", "--now", &now.to_rfc3339()]);
    let status = tokio::time::timeout(Duration::from_secs(60), bot.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", bot.log());
    bot.log()
}

/// The excerpts (messages starting with 今日学习) each chat received, by chat id.
fn excerpts(tg: &FakeTelegram) -> HashMap<i64, Vec<String>> {
    let mut by_chat: HashMap<i64, Vec<String>> = HashMap::new();
    for message in tg.sent_messages() {
        let text = message["text"].as_str().unwrap_or_default();
        if text.contains("今日学习") {
            let heading = text.lines().next().unwrap().to_string();
            by_chat
                .entry(message["chat_id"].as_i64().unwrap())
                .or_default()
                .push(heading);
        }
    }
    by_chat
}

/// Subscribes `chats` at 08:00 Asia/Shanghai in the workspace's store, made at `now`;
/// returns when they are next due.
fn subscribe(
    workspace: &Workspace,
    chats: impl IntoIterator<Item = i64>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let store = Store::open(&workspace.db()).unwrap();
    let mut due = None;
    for chat_id in chats {
        let subscription = support::shanghai_subscription(chat_id, now);
        due = Some(subscription.next_due);
        store.subscribe(subscription, None, now).unwrap();
    }
    store.flush().unwrap();
    due.expect("at least one chat")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_subscription_end_to_end() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let admin = FakeUser::new(501, "Admin");
    let member = FakeUser::new(502, "Member");
    let group = FakeChat::group(-600, "学习小组");
    tg.register_chat(&group);
    tg.set_admins(-600, vec![501]);

    let bot = BotProcess::start(&workspace, &tg.api_url(), &["run"]);
    tg.send_text(&group, &member, "/subscribe 08:00");
    tg.send_text(&group, &admin, "/subscribe 08:00");
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(-600).len() >= 2, WAIT)
            .await,
        "{}",
        bot.log()
    );
    let replies = tg.sent_texts_to(-600);
    assert!(
        replies[0].contains("只有群管理员"),
        "non-admin refused: {}",
        replies[0]
    );
    assert!(
        replies[1].contains("08:00"),
        "admin subscribed: {}",
        replies[1]
    );
    assert!(
        tg.requests_for("getChatMember").len() >= 2,
        "admin rights come from getChatMember"
    );
    assert!(bot.terminate(WAIT).await.success());

    let next_due = Store::open(&workspace.db())
        .unwrap()
        .subscription(-600)
        .unwrap()
        .unwrap()
        .next_due;
    tg.clear();
    tick(&workspace, &tg.api_url(), next_due - TimeDelta::seconds(30)).await;
    assert!(excerpts(&tg).is_empty(), "nothing before the send time");
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(90)).await;
    let first = excerpts(&tg);
    assert_eq!(
        first.get(&-600).map(Vec::len),
        Some(1),
        "exactly one excerpt: {first:?}"
    );
    assert!(
        first[&-600][0].contains("开场"),
        "the plan starts with the opening: {first:?}"
    );
    let sent = tg.sent_messages();
    let buttons = &sent.last().unwrap()["reply_markup"]["inline_keyboard"][0];
    assert!(
        buttons.as_array().is_some_and(|row| row.len() == 2),
        "whole section and outline buttons"
    );

    tick(
        &workspace,
        &tg.api_url(),
        next_due + TimeDelta::days(1) + TimeDelta::seconds(30),
    )
    .await;
    let second = excerpts(&tg);
    assert_eq!(second[&-600].len(), 2);
    assert!(
        second[&-600][1].contains("第一部分 铸牢政治之魂"),
        "next day, next section: {second:?}"
    );

    // /status and /plan reflect the deliveries.
    let bot = BotProcess::start(&workspace, &tg.api_url(), &["run"]);
    tg.clear();
    tg.send_text(&group, &member, "/plan");
    tg.send_text(&group, &member, "/status");
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(-600).len() >= 2, WAIT)
            .await,
        "{}",
        bot.log()
    );
    let replies = tg.sent_texts_to(-600).join("\n");
    assert!(replies.contains("2/21"), "{replies}");
    assert!(replies.contains("1.1"), "next section named: {replies}");
    assert!(bot.terminate(WAIT).await.success());

    // Kicked: the next day's delivery fails with 403 and the subscription is disabled.
    tg.kick(-600);
    tg.clear();
    tick(
        &workspace,
        &tg.api_url(),
        next_due + TimeDelta::days(2) + TimeDelta::seconds(30),
    )
    .await;
    tick(
        &workspace,
        &tg.api_url(),
        next_due + TimeDelta::days(3) + TimeDelta::seconds(30),
    )
    .await;
    assert_eq!(
        tg.requests_for("sendMessage").len(),
        1,
        "one attempt, then no retries every tick"
    );
    let subscription = Store::open(&workspace.db())
        .unwrap()
        .subscription(-600)
        .unwrap()
        .unwrap();
    assert!(!subscription.active && subscription.disabled_reason.unwrap().contains("Forbidden"));
}

/// `studybot run` sends a due excerpt by itself (its scheduler runs beside the
/// dispatcher), once: a restart the same day sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_bot_sends_the_daily_excerpt_once() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let now = Utc::now();
    // Subscribed five minutes ago for a send time two minutes ago: due when the bot
    // starts, well inside the grace window.
    let zone = chrono_tz::Asia::Shanghai;
    let send_at = (now - TimeDelta::minutes(2)).with_timezone(&zone).time();
    let send_at = NaiveTime::from_hms_opt(send_at.hour(), send_at.minute(), 0).unwrap();
    let subscribed_at = now - TimeDelta::minutes(5);
    let subscriber = Subscriber {
        user_id: 1,
        name: "admin".into(),
    };
    let subscription = Subscription::new(-750, "xzsj", send_at, zone, subscriber, subscribed_at);
    assert!(subscription.next_due <= now, "the seeded chat is due");
    let store = Store::open(&workspace.db()).unwrap();
    store.subscribe(subscription, None, subscribed_at).unwrap();
    store.flush().unwrap();
    drop(store);
    let bot = BotProcess::start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_until(|_| excerpts(&tg).contains_key(&-750), WAIT)
            .await,
        "the scheduler sends the due excerpt:\n{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    let bot = BotProcess::start(&workspace, &tg.api_url(), &["run"]);
    assert!(tg.wait_for_requests("setMyCommands", 4, WAIT).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(bot.terminate(WAIT).await.success());
    let delivered = excerpts(&tg);
    assert_eq!(delivered[&-750].len(), 1, "exactly once: {delivered:?}");
    assert!(delivered[&-750][0].contains("开场"), "{delivered:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_group_gets_its_excerpt_at_the_new_id() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let now = Utc::now();
    let next_due = subscribe(&workspace, [-700], now);
    tg.migrate(-700, -1000700);
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    let delivered = excerpts(&tg);
    assert_eq!(
        delivered.get(&-1000700).map(Vec::len),
        Some(1),
        "{delivered:?}"
    );
    let store = Store::open(&workspace.db()).unwrap();
    let moved = store
        .subscription(-1000700)
        .unwrap()
        .expect("the subscription moved");
    assert_eq!(moved.position, 1, "the plan moved and advanced");
    assert!(store.subscription(-700).unwrap().is_none_or(|s| !s.active));
}

/// The crash test: `studybot tick` broadcasting to many chats is killed with SIGKILL at
/// random moments and restarted; afterwards every chat has its excerpt, and duplicates
/// stay within the documented bound (one per message in flight at each kill).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_broadcast_loses_no_excerpt() {
    let chats: i64 = std::env::var("STUDYBOT_CRASH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let kills: usize = std::env::var("STUDYBOT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let tg = FakeTelegram::start().await;
    // Fast but finite limits, so a pass takes long enough to be interrupted.
    let workspace = Workspace::new(
        "global_per_second = 2000\nglobal_burst = 50\ngroup_per_minute = 100\ngroup_burst = 3",
    );
    let now = Utc::now();
    let next_due = subscribe(&workspace, (0..chats).map(|i| -1_000_000 - i), now);
    let at = (next_due + TimeDelta::seconds(30)).to_rfc3339();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut in_flight_bound = 0;
    for _ in 0..kills {
        let before = tg.sent_messages().len();
        let mut bot = BotProcess::start(&workspace, &tg.api_url(), &["tick", "--now", &at]);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 50 + seed % 400;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if bot.child.try_wait().unwrap().is_none() {
            bot.signal("KILL");
        }
        bot.child.wait().await.unwrap();
        // At most the deliveries under way at the kill (scheduler::IN_FLIGHT).
        in_flight_bound +=
            studybot::telegram::deliveries::IN_FLIGHT.min(tg.sent_messages().len() - before);
    }
    let log = tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    let delivered = excerpts(&tg);
    assert_eq!(
        delivered.len() as i64,
        chats,
        "every chat got its excerpt:\n{log}"
    );
    let duplicates: usize = delivered.values().map(|v| v.len() - 1).sum();
    assert!(
        duplicates <= in_flight_bound,
        "{duplicates} duplicates > bound {in_flight_bound}"
    );
    for (chat, headings) in &delivered {
        assert!(
            headings.iter().all(|h| h.contains("开场")),
            "chat {chat} got the day's excerpt only"
        );
    }
    let store = Store::open(&workspace.db()).expect("the store opens cleanly after the kills");
    let advanced = (0..chats)
        .filter(|i| {
            store
                .subscription(-1_000_000 - i)
                .unwrap()
                .unwrap()
                .position
                == 1
        })
        .count();
    assert_eq!(advanced as i64, chats, "every plan advanced exactly once");
    eprintln!(
        "crash test: {chats} chats, {kills} kills, {duplicates} duplicates (bound {in_flight_bound})"
    );
}

/// 30% of calls fail: every excerpt is still delivered within the grace window, by the
/// outbox's bounded retries and the next ticks' retries of failed days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_complete_when_30_percent_of_calls_fail() {
    use support::fake_telegram::FaultKind;
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections(
        "global_per_second = 5000\nglobal_burst = 100\ngroup_per_minute = 100000\ngroup_burst = 100",
        "[telegram]\npoll_timeout_seconds = 1\nrequest_timeout_seconds = 2\n",
    );
    let now = Utc::now();
    let next_due = subscribe(&workspace, (0..100).map(|i| -3_000_000 - i), now);
    tg.set_fault_kinds(&[FaultKind::Status500, FaultKind::Drop, FaultKind::Delay]);
    tg.set_fault_delay(Duration::from_secs(3));
    tg.set_fault_rate(0.3);
    let mut ticks = 0;
    for minutes in (0..60).step_by(6) {
        tick(
            &workspace,
            &tg.api_url(),
            next_due + TimeDelta::minutes(minutes) + TimeDelta::seconds(30),
        )
        .await;
        ticks += 1;
        if excerpts(&tg).len() == 100 {
            break;
        }
    }
    tg.set_fault_rate(0.0);
    let delivered = excerpts(&tg);
    assert_eq!(
        delivered.len(),
        100,
        "every chat got its excerpt after {ticks} ticks"
    );
    let sends = tg.requests_for("sendMessage").len();
    assert!(
        sends <= 100 * 9,
        "bounded retries: {sends} calls for 100 excerpts"
    );
    let store = Store::open(&workspace.db()).unwrap();
    for i in 0..100 {
        assert_eq!(
            store
                .subscription(-3_000_000 - i)
                .unwrap()
                .unwrap()
                .position,
            1,
            "each plan advanced once"
        );
    }
}

/// A broadcast at Telegram's real limit, which the fake enforces strictly (30 messages in
/// any sliding second, 20 a minute per group) with network jitter: no 429 at all, and
/// every group gets its excerpt once. (The rate achieved is measured by the bench.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_at_the_real_limit_draws_no_429() {
    let tg = FakeTelegram::start().await;
    tg.enforce_strict_limits(0, 20, 30);
    tg.set_arrival_jitter(Duration::from_millis(30));
    let workspace = Workspace::new("");
    let groups = 300;
    let now = Utc::now();
    let next_due = subscribe(&workspace, (0..groups).map(|i| -5_000_000 - i), now);
    let log = tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    let sends = tg.requests_for("sendMessage");
    let too_many = sends.iter().filter(|r| r.status == 429).count();
    assert_eq!(too_many, 0, "429s at the real limit:\n{log}");
    let delivered = excerpts(&tg);
    assert_eq!(
        delivered.len() as i64,
        groups,
        "every group got its excerpt"
    );
    assert!(delivered.values().all(|v| v.len() == 1), "once each");
}
