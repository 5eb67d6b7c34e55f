//! The daily excerpt end to end through the real binary: the subscription commands in
//! `studybot console --temp-db` as a private chat would see them, deliveries by
//! `studybot run` and `studybot tick`, outages, crashes (SIGKILL mid-broadcast), zone
//! changes, rights problems, damaged records, and stopping within 5 s.

#[path = "common/on_time.rs"]
mod on_time;
#[path = "common/subscription.rs"]
mod subscription;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};
use studybot::schedule::{Subscriber, Subscription};
use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Running, Studybot, Workspace, read_log, root};
use on_time::assert_on_time;
use subscription::shanghai_subscription;

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

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
    let stdout = STUDYBOT.console(input);
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
    let mut bot = STUDYBOT.start(workspace, api_url, &["tick", "--now", &now.to_rfc3339()]);
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
        let subscription = shanghai_subscription(chat_id, now);
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

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
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
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
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
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_until(|_| excerpts(&tg).contains_key(&-750), WAIT)
            .await,
        "the scheduler sends the due excerpt:\n{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(tg.wait_for_requests("setMyCommands", 4, WAIT).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(bot.terminate(WAIT).await.success());
    let delivered = excerpts(&tg);
    assert_eq!(delivered[&-750].len(), 1, "exactly once: {delivered:?}");
    assert!(delivered[&-750][0].contains("开场"), "{delivered:?}");
}

/// Issue 12: a subscription made through the running bot for a send time seconds away
/// is delivered on time. The delivery task does not poll: `/subscribe` wakes it, and it
/// then sleeps until the new due instant. Without that wake-up the task, idle with no
/// subscription, would sleep its 10-minute safety interval and this test would fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_subscription_seconds_away_is_delivered_on_time() {
    // Started and idle: nothing is subscribed, so the delivery task sleeps.
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let user = FakeUser::new(760, "Reader");
    let chat = FakeChat::private(&user);
    tg.register_chat(&chat);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The next whole minute at least 5 s from now in the default zone (Asia/Shanghai):
    // 5 to 65 s ahead.
    let zone = chrono_tz::Asia::Shanghai;
    let soon = (Utc::now() + TimeDelta::seconds(5)).with_timezone(&zone);
    let minute = soon
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap()
        + TimeDelta::minutes(1);
    let due = minute.with_timezone(&Utc);
    let send_at = format!("{:02}:{:02}", minute.hour(), minute.minute());
    tg.send_text(&chat, &user, &format!("/subscribe {send_at}"));
    assert!(
        tg.wait_until(|_| !tg.sent_texts_to(760).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    assert!(
        tg.sent_texts_to(760)[0].contains(&send_at),
        "subscribed for {send_at}: {:?}",
        tg.sent_texts_to(760)
    );
    assert!(
        !excerpts(&tg).contains_key(&760),
        "nothing before the send time"
    );

    // Wait for the excerpt well past its due instant, then check when it arrived.
    let wait = (due - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(30);
    let delivered = tg
        .wait_until(|_| excerpts(&tg).contains_key(&760), wait)
        .await;
    assert!(
        delivered,
        "the running bot sends the new subscription's excerpt at {due}:\n{}",
        bot.log()
    );
    let arrived = tg
        .requests_for("sendMessage")
        .into_iter()
        .find(|r| {
            r.ok()
                && r.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("今日学习"))
        })
        .expect("the excerpt was recorded")
        .at;
    assert_on_time("the excerpt", arrived, due, &bot.log());
    assert_eq!(excerpts(&tg)[&760].len(), 1);
    assert!(bot.terminate(WAIT).await.success());
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
        let mut bot = STUDYBOT.start(&workspace, &tg.api_url(), &["tick", "--now", &at]);
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
    use fake_telegram::FaultKind;
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

// ---------------------------------------------------------------------------------------
// Issue 10: never miss a day (outages, zone changes, rights problems, damaged records)
// and stop within 5 s.
// ---------------------------------------------------------------------------------------

/// An instant written as RFC 3339.
fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Puts one subscription into the workspace's store as it is.
fn seed(workspace: &Workspace, subscription: Subscription) {
    let store = Store::open(&workspace.db()).unwrap();
    let made = subscription.subscribed_at;
    store.subscribe(subscription, None, made).unwrap();
    store.flush().unwrap();
}

fn admin() -> Subscriber {
    Subscriber {
        user_id: 1,
        name: "admin".into(),
    }
}

/// Subscribes `chats` so that they are due right now and well inside their grace
/// window (send time two minutes ago, subscribed five minutes ago), for `studybot run`.
fn subscribe_due_now(workspace: &Workspace, chats: impl IntoIterator<Item = i64>) {
    let now = Utc::now();
    let zone = chrono_tz::Asia::Shanghai;
    let send_at = (now - TimeDelta::minutes(2)).with_timezone(&zone).time();
    let send_at = NaiveTime::from_hms_opt(send_at.hour(), send_at.minute(), 0).unwrap();
    let subscribed_at = now - TimeDelta::minutes(5);
    let store = Store::open(&workspace.db()).unwrap();
    for chat_id in chats {
        let subscription =
            Subscription::new(chat_id, "xzsj", send_at, zone, admin(), subscribed_at);
        assert!(subscription.next_due <= now, "the seeded chat is due");
        store.subscribe(subscription, None, subscribed_at).unwrap();
    }
    store.flush().unwrap();
}

/// The stop bound the tests check: the design bound is 5 s (`STOP_LIMIT`, 4.2 s, then
/// the runtime's 0.3 s and the flush; typically 0.05–3.5 s), with slack for a loaded
/// machine. Before issue 10 the same stops took 13 s to 120 s.
const STOP_BOUND: Duration = Duration::from_secs(8);

/// Sends SIGTERM and returns the exit status and how long the process took to exit.
async fn stop_timed(mut bot: BotProcess) -> (std::process::ExitStatus, Duration) {
    bot.signal("TERM");
    let signalled = std::time::Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(60), bot.child.wait())
        .await
        .unwrap_or_else(|_| panic!("no exit within 60 s of SIGTERM:\n{}", bot.log()))
        .unwrap();
    let took = signalled.elapsed();
    eprintln!("exited {took:?} after SIGTERM");
    (status, took)
}

/// The number of excerpts sent in all, and how many chats got more than one.
/// After a stop mid-broadcast and the pass that follows: every chat got its excerpt, and
/// a chat got it twice only where a send was under way at the stop (README: "at most one
/// duplicate per message in flight, never a miss"). Usually none is: the sends finish
/// within the stop's grace. On a disk slowed by other work, recording a sent day (a flush
/// and an fdatasync) can outlast the grace, and a send Telegram accepted is sent again.
fn assert_every_chat_served_once_up_to_in_flight(tg: &FakeTelegram, chats: usize) {
    let delivered = excerpts(tg);
    let (total, repeated) = excerpt_counts(tg);
    assert_eq!(delivered.len(), chats, "every chat got its excerpt");
    assert!(
        repeated <= studybot::telegram::deliveries::IN_FLIGHT && total - chats == repeated,
        "at most one duplicate per send in flight: {repeated} chats twice, {total} excerpts"
    );
}

fn excerpt_counts(tg: &FakeTelegram) -> (usize, usize) {
    let delivered = excerpts(tg);
    let total = delivered.values().map(Vec::len).sum();
    let repeated = delivered.values().filter(|v| v.len() > 1).count();
    (total, repeated)
}

/// Item 1: after an outage, the first day whose grace window still contains the
/// restart is served — three days down and back at 07:00:30, 30 days down and back at
/// 09:00 — not skipped to tomorrow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_todays_excerpt_is_still_sent() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let seven = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
    let zone = chrono_tz::Asia::Shanghai;
    // First send 2026-05-02 07:00 Shanghai; the bot is down until the fourth day.
    seed(
        &workspace,
        Subscription::new(
            -800,
            "xzsj",
            seven,
            zone,
            admin(),
            at("2026-05-01T12:00:00Z"),
        ),
    );
    let log = tick(&workspace, &tg.api_url(), at("2026-05-05T07:00:30+08:00")).await;
    let delivered = excerpts(&tg);
    assert_eq!(
        delivered.get(&-800).map(Vec::len),
        Some(1),
        "three days down, back at 07:00:30: today's excerpt is sent\n{log}"
    );
    assert!(delivered[&-800][0].contains("开场"), "{delivered:?}");
    // Down again for 30 days, back at 09:00.
    tick(&workspace, &tg.api_url(), at("2026-06-04T09:00:00+08:00")).await;
    let delivered = excerpts(&tg);
    assert_eq!(delivered[&-800].len(), 2, "{delivered:?}");
    assert!(
        delivered[&-800][1].contains("第一部分"),
        "missed days do not move the plan: {delivered:?}"
    );
    let subscription = Store::open(&workspace.db())
        .unwrap()
        .subscription(-800)
        .unwrap()
        .unwrap();
    assert_eq!(subscription.position, 2);
    assert_eq!(
        subscription.next_due,
        at("2026-06-05T07:00:00+08:00"),
        "tomorrow next"
    );
}

/// Item 2: today's excerpt came at 13:47 in Shanghai (still 11-29 in Los Angeles); the
/// group moves to Los Angeles: its 11-30 gets an excerpt at 13:47 there, and every local
/// date exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_the_zone_west_after_todays_excerpt_skips_no_day() {
    use studybot::app::library::Library;
    use studybot::app::{App, ChatContext, ChatKind};
    use studybot::config::Config;

    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let time = NaiveTime::from_hms_opt(13, 47, 0).unwrap();
    seed(
        &workspace,
        Subscription::new(
            -810,
            "xzsj",
            time,
            chrono_tz::Asia::Shanghai,
            admin(),
            at("2026-11-30T13:00:00+08:00"),
        ),
    );
    tick(&workspace, &tg.api_url(), at("2026-11-30T13:47:30+08:00")).await;
    assert_eq!(excerpts(&tg)[&-810].len(), 1);

    // `/timezone America/Los_Angeles` at 14:00 Shanghai (22:00 on 11-29 in Los Angeles).
    {
        let store = Store::open(&workspace.db()).unwrap();
        let (library, _) = Library::load(&root().join("data"), &store).unwrap();
        let app = App::new(library, store, Config::default());
        let admin = ChatContext {
            chat_id: -810,
            kind: ChatKind::Group,
            user_id: 1,
            user_name: "admin".into(),
            is_admin: true,
            topic: None,
        };
        let reply = app
            .handle(
                &admin,
                studybot::command::parse("/timezone America/Los_Angeles", None),
                at("2026-11-30T14:00:00+08:00"),
            )
            .iter()
            .map(studybot::reply::Reply::plain_text)
            .collect::<String>();
        assert!(
            reply.contains("下次发送：2026-11-30 13:47（America/Los_Angeles）"),
            "Los Angeles' 11-30 is next: {reply}"
        );
        app.ops().flush().unwrap();
    }
    for (now, expected) in [
        ("2026-11-30T10:00:00-08:00", 1), // nothing before the send time
        ("2026-11-30T13:47:30-08:00", 2), // Los Angeles' 11-30 gets its excerpt
        ("2026-11-30T15:00:00-08:00", 2), // once only
        ("2026-12-01T13:47:30-08:00", 3), // and 12-01 the next
    ] {
        tick(&workspace, &tg.api_url(), at(now)).await;
        let delivered = excerpts(&tg);
        assert_eq!(delivered[&-810].len(), expected, "at {now}: {delivered:?}");
    }
    let delivered = excerpts(&tg);
    assert!(
        delivered[&-810][1].contains("第一部分") && delivered[&-810][2].contains("1.1"),
        "one section a day, in order: {delivered:?}"
    );
}

/// Item 3: "not enough rights to send text messages" (the bot muted) is not "the bot
/// is gone": the subscription stays on, the day is retried within its window (hourly,
/// not every pass), the next day is tried again, `/status` tells the admins what to
/// fix, and once the right is back the excerpts resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_bot_is_retried_and_told_not_switched_off() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let group = FakeChat::group(-820, "学习小组");
    let member = FakeUser::new(502, "Member");
    tg.register_chat(&group);
    tg.mute(-820);
    let next_due = subscribe(&workspace, [-820], Utc::now());
    let attempts = |tg: &FakeTelegram| tg.requests_for("sendMessage").len();

    tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    assert_eq!(attempts(&tg), 1);
    assert_eq!(tg.requests_for("sendMessage")[0].status, 400);
    let subscription = Store::open(&workspace.db())
        .unwrap()
        .subscription(-820)
        .unwrap()
        .unwrap();
    assert!(
        subscription.active && subscription.disabled_reason.is_none(),
        "a rights problem does not switch the subscription off: {subscription:?}"
    );
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::minutes(30)).await;
    assert_eq!(attempts(&tg), 1, "not retried on every pass");
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::minutes(61)).await;
    assert_eq!(attempts(&tg), 2, "retried within the day's window");
    let next_day = next_due + TimeDelta::days(1);
    tick(&workspace, &tg.api_url(), next_day + TimeDelta::seconds(30)).await;
    assert_eq!(attempts(&tg), 3, "and on the following day");
    assert!(excerpts(&tg).is_empty());

    // An admin gives the right back; /status says what happened and what to do.
    tg.unmute(-820);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    tg.send_text(&group, &member, "/status");
    assert!(
        tg.wait_until(|_| !tg.sent_texts_to(-820).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    let status = tg.sent_texts_to(-820).join("\n");
    for part in [
        "每日学习：已订阅",
        "没有发消息的权限",
        "not enough rights to send text messages",
        "最近一次尝试：",
        "请群管理员在群设置中恢复机器人的“发送消息”权限",
    ] {
        assert!(status.contains(part), "{status} lacks {part}");
    }
    assert!(!status.contains("重新添加"), "{status}");
    assert!(bot.terminate(WAIT).await.success());

    tick(
        &workspace,
        &tg.api_url(),
        next_due + TimeDelta::days(2) + TimeDelta::seconds(30),
    )
    .await;
    let delivered = excerpts(&tg);
    assert_eq!(delivered.get(&-820).map(Vec::len), Some(1), "{delivered:?}");
    assert!(
        delivered[&-820][0].contains("开场"),
        "the plan waited: {delivered:?}"
    );
    let subscription = Store::open(&workspace.db())
        .unwrap()
        .subscription(-820)
        .unwrap()
        .unwrap();
    assert!(subscription.last_failure.is_none(), "{subscription:?}");
}

/// Item 8 (run time): records that cannot be used — zone `Mars/Olympus`, time `25:99`,
/// a `chat_id` that differs from the key — are logged once and set aside; the healthy
/// chats get their excerpts and nothing is sent again on the next passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_records_hold_up_no_other_chat_and_never_loop() {
    use studybot::store::trees;

    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let now = Utc::now();
    let next_due = {
        // One handle for seeding and damaging: sled may hold its lock a moment after a
        // handle is dropped, so the store is not reopened in between.
        let store = Store::open(&workspace.db()).unwrap();
        let mut next_due = None;
        for chat_id in [-831, -832, -833, -834, -835, -836] {
            let subscription = shanghai_subscription(chat_id, now);
            next_due = Some(subscription.next_due);
            store.subscribe(subscription, None, now).unwrap();
        }
        let damage = |chat: i64, field: &str, value: serde_json::Value| {
            let mut record =
                serde_json::to_value(store.subscription(chat).unwrap().unwrap()).unwrap();
            record[field] = value;
            let key = ((chat as u64) ^ (1 << 63)).to_be_bytes();
            store
                .backend()
                .insert(
                    trees::SUBSCRIPTIONS,
                    &key,
                    &serde_json::to_vec(&record).unwrap(),
                )
                .unwrap();
        };
        damage(-832, "timezone", "Mars/Olympus".into());
        damage(-833, "send_time", "25:99".into());
        damage(-834, "chat_id", (-839).into());
        store.flush().unwrap();
        next_due.unwrap()
    };
    let log = tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(30)).await;
    let delivered = excerpts(&tg);
    let mut chats: Vec<i64> = delivered.keys().copied().collect();
    chats.sort_unstable();
    assert_eq!(chats, [-836, -835, -831], "healthy chats served:\n{log}");
    for seconds in [33, 36, 60] {
        tick(
            &workspace,
            &tg.api_url(),
            next_due + TimeDelta::seconds(seconds),
        )
        .await;
    }
    assert_eq!(
        tg.sent_messages().len(),
        3,
        "nothing sent again (no resend loop): {:?}",
        excerpts(&tg)
    );
    let log = workspace_log(&workspace);
    assert!(!log.contains("cannot read due deliveries"), "{log}");
    assert_eq!(
        log.matches("set aside").count(),
        3,
        "each damaged record is logged once:\n{log}"
    );
}

fn workspace_log(workspace: &Workspace) -> String {
    read_log(&workspace.log())
}

/// Item 10 (`run`): SIGTERM in the middle of a 450-chat broadcast stops within 5 s with
/// exit 0; the chats not yet served get their excerpt after the restart, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_broadcast_stops_within_5_s_and_the_rest_follows() {
    let tg = FakeTelegram::start().await;
    // Telegram's own pace (30 messages a second): 450 chats take 15 s.
    let workspace = Workspace::new("");
    let chats: Vec<i64> = (0..450).map(|i| 6_000_000 + i).collect();
    subscribe_due_now(&workspace, chats.iter().copied());
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_state(|tg| excerpt_counts(tg).0 >= 60, Duration::from_secs(30))
            .await,
        "{}",
        bot.log()
    );
    let log_path = workspace.log();
    let (status, took) = stop_timed(bot).await;
    let log = read_log(&log_path);
    assert!(status.success(), "exit 0 after SIGTERM: {status:?}\n{log}");
    assert!(took < STOP_BOUND, "stopped in {took:?}\n{log}");
    let (sent, _) = excerpt_counts(&tg);
    assert!(sent < 450, "the broadcast was cut short ({sent} sent)");
    eprintln!("SIGTERM mid-broadcast: {sent} of 450 sent");

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_state(|tg| excerpts(tg).len() == 450, Duration::from_secs(60))
            .await,
        "the rest after the restart: {} chats\n{}",
        excerpts(&tg).len(),
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    assert_every_chat_served_once_up_to_in_flight(&tg, 450);
}

/// Item 10 (`run`): SIGTERM while every send waits out a 429 with retry_after = 120.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_429_pause_stops_within_5_s() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    subscribe_due_now(&workspace, [-840, -841, -842]);
    tg.rate_limit_next(1, 120);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_until(
            |requests| requests
                .iter()
                .any(|r| r.is("sendMessage") && r.status == 429),
            WAIT
        )
        .await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log_path = workspace.log();
    let (status, took) = stop_timed(bot).await;
    let log = read_log(&log_path);
    assert!(status.success(), "{status:?}\n{log}");
    assert!(took < STOP_BOUND, "stopped in {took:?}\n{log}");
    assert!(
        excerpts(&tg).len() < 3,
        "the send that met the 429 was waiting: {:?}",
        excerpts(&tg)
    );
    // After the restart (the pause is not remembered), all three are served.
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_state(|tg| excerpts(tg).len() == 3, WAIT).await,
        "{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    assert_eq!(excerpt_counts(&tg), (3, 0));
}

/// Item 10 (`run`): SIGTERM during a 502 storm (teloxide itself waits 10 s on a 5xx,
/// and the outbox retries) stops within 5 s; the excerpts follow after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_502_storm_stops_within_5_s() {
    use fake_telegram::FaultKind;
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let chats: Vec<i64> = (0..450).map(|i| 6_100_000 + i).collect();
    subscribe_due_now(&workspace, chats.iter().copied());
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_state(|tg| excerpt_counts(tg).0 >= 10, Duration::from_secs(30))
            .await,
        "{}",
        bot.log()
    );
    tg.set_fault_kinds(&[FaultKind::Status502]);
    tg.set_fault_rate(1.0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log_path = workspace.log();
    let (status, took) = stop_timed(bot).await;
    let log = read_log(&log_path);
    assert!(status.success(), "{status:?}\n{log}");
    assert!(took < STOP_BOUND, "stopped in {took:?}\n{log}");
    tg.set_fault_rate(0.0);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_state(|tg| excerpts(tg).len() == 450, Duration::from_secs(60))
            .await,
        "{} chats\n{}",
        excerpts(&tg).len(),
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    assert_every_chat_served_once_up_to_in_flight(&tg, 450);
}

/// Item 10 (`tick`, run by cron or a systemd timer): SIGTERM mid-broadcast stops within
/// 5 s with exit 0 and flushed state; the next tick serves the rest, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_tick_within_5_s_and_the_next_tick_serves_the_rest() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let next_due = subscribe(&workspace, (0..450).map(|i| 6_200_000 + i), Utc::now());
    let now = (next_due + TimeDelta::seconds(30)).to_rfc3339();
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["tick", "--now", &now]);
    assert!(
        tg.wait_state(|tg| excerpt_counts(tg).0 >= 60, Duration::from_secs(30))
            .await,
        "{}",
        bot.log()
    );
    let log_path = workspace.log();
    let (status, took) = stop_timed(bot).await;
    let log = read_log(&log_path);
    assert!(
        status.success(),
        "tick exits 0 after SIGTERM: {status:?}\n{log}"
    );
    assert!(took < STOP_BOUND, "stopped in {took:?}\n{log}");
    let (sent, _) = excerpt_counts(&tg);
    assert!(sent < 450, "the pass was cut short ({sent} sent)");
    tick(&workspace, &tg.api_url(), next_due + TimeDelta::seconds(90)).await;
    assert_every_chat_served_once_up_to_in_flight(&tg, 450);
}
