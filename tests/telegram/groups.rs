//! Groups as they are: forum topics, anonymous admins and buttons on shared messages,
//! with the real binary against the fake Bot API.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{Running, Workspace};

use crate::STUDYBOT;
use crate::subscription::shanghai_subscription;

const WAIT: Duration = Duration::from_secs(30);
const STALE: &str = "这个按钮已失效，请重新发送 /outline。";

/// Runs `studybot tick --now <now>` to completion.
async fn tick(workspace: &Workspace, tg: &FakeTelegram, now: chrono::DateTime<Utc>) {
    let mut tick = STUDYBOT.start(
        workspace,
        &tg.api_url(),
        &["tick", "--now", &now.to_rfc3339()],
    );
    let status = tokio::time::timeout(WAIT, tick.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", tick.log());
}

/// Bodies of successful sends (sendMessage and sendPoll) to `chat_id`, oldest first.
fn sends_to(tg: &FakeTelegram, chat_id: i64) -> Vec<Value> {
    tg.requests()
        .into_iter()
        .filter(|r| (r.is("sendMessage") || r.is("sendPoll")) && r.ok())
        .filter(|r| r.body["chat_id"].as_i64() == Some(chat_id))
        .map(|r| r.body)
        .collect()
}

fn text(body: &Value) -> &str {
    body["text"]
        .as_str()
        .or_else(|| body["question"].as_str())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_go_to_the_forum_topic_they_came_from() {
    let Running { tg, workspace, bot } = STUDYBOT
        .running(Workspace::with_sections("", "[quiz]\nopen_period = 5\n"))
        .await;
    let forum = FakeChat::supergroup(9001, "学习论坛");
    let plain_group = FakeChat::supergroup(9002, "普通群");
    let ann = FakeUser::new(901, "Ann");
    tg.set_admins(forum.id, vec![ann.id]);

    for command in [
        "/section 2.1",
        "/subscribe 08:00",
        "/dailyquiz on",
        "/quiz 1",
    ] {
        tg.send_text_in_topic(&forum, &ann, 77, command);
    }
    // A reply thread in an ordinary group carries a thread id but is not a topic: the
    // answer goes to the chat (the fake refuses a thread id for a chat without topics).
    tg.send_message_with(
        &plain_group,
        &ann,
        json!({"text": "/section 2.1", "message_thread_id": 5,
               "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}),
    );
    let results = |tg: &FakeTelegram| {
        sends_to(tg, forum.id)
            .iter()
            .any(|b| text(b).contains("测验结束"))
    };
    assert!(tg.wait_state(results, WAIT).await, "{}", bot.log());
    assert!(
        tg.wait_state(|tg| !sends_to(tg, plain_group.id).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());

    let sent = sends_to(&tg, forum.id);
    assert!(
        sent.len() >= 6,
        "section, subscribe, dailyquiz, announcement, poll, results: {sent:#?}"
    );
    for body in &sent {
        assert_eq!(
            body["message_thread_id"], 77,
            "answered outside topic 77: {body}"
        );
    }
    let plain = sends_to(&tg, plain_group.id);
    assert_eq!(plain.len(), 1);
    assert!(plain[0].get("message_thread_id").is_none(), "{}", plain[0]);

    // The subscription remembers its topic, and the day's excerpt and question go there.
    let next_due = {
        let store = Store::open(&workspace.db()).unwrap();
        let subscription = store.subscription(forum.id).unwrap().unwrap();
        assert_eq!(subscription.topic, Some(77));
        subscription.next_due
    };
    tg.clear();
    tick(&workspace, &tg, next_due + TimeDelta::seconds(30)).await;
    let daily = sends_to(&tg, forum.id);
    assert_eq!(
        daily.len(),
        2,
        "the excerpt and the daily question: {daily:#?}"
    );
    assert!(text(&daily[0]).contains("今日学习"), "{}", daily[0]);
    for body in &daily {
        assert_eq!(
            body["message_thread_id"], 77,
            "delivered outside topic 77: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_admin_speaks_for_the_group() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let group = FakeChat::supergroup(9003, "第一支部");
    let (admin, member) = (FakeUser::new(903, "Ann"), FakeUser::new(904, "Bob"));
    tg.set_admins(group.id, vec![admin.id]);
    let bot = STUDYBOT.started(&tg, &workspace).await;

    tg.send_text_as_group(&group, "/subscribe 20:30");
    assert!(
        tg.wait_for_requests("sendMessage", 1, WAIT).await,
        "{}",
        bot.log()
    );
    tg.send_text(&group, &member, "/settime 09:00");
    assert!(
        tg.wait_for_requests("sendMessage", 2, WAIT).await,
        "{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());

    let texts = tg.sent_texts_to(group.id);
    assert!(
        texts[0].contains("已订阅每日学习：每天 20:30"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("只有群管理员"),
        "a member is still refused: {}",
        texts[1]
    );
    let asked: Vec<i64> = tg
        .requests_for("getChatMember")
        .iter()
        .map(|r| r.body["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        asked,
        vec![member.id],
        "the group's own messages need no getChatMember"
    );
    let store = Store::open(&workspace.db()).unwrap();
    let subscription = store.subscription(group.id).unwrap().unwrap();
    assert_eq!(
        subscription.subscribed_by.name, "第一支部",
        "named after the group"
    );
    assert_eq!(subscription.send_time.to_string(), "20:30:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_on_the_daily_excerpt_never_edit_it_for_everyone() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let forum = FakeChat::supergroup(9004, "学习论坛");
    tg.make_forum(&forum);
    let bob = FakeUser::new(905, "Bob");
    let now = Utc::now();
    let next_due = {
        let store = Store::open(&workspace.db()).unwrap();
        let mut subscription = shanghai_subscription(forum.id, now);
        subscription.topic = Some(77);
        let next_due = subscription.next_due;
        store.subscribe(subscription, None, now).unwrap();
        store.flush().unwrap();
        next_due
    };
    tick(&workspace, &tg, next_due + TimeDelta::seconds(30)).await;
    let excerpt_id = tg.last_message_id(forum.id).expect("the excerpt was sent");
    let excerpt = tg.message(forum.id, excerpt_id).unwrap();
    assert!(excerpt["text"].as_str().unwrap().starts_with("今日学习"));

    let bot = STUDYBOT.started(&tg, &workspace).await;
    tg.clear();
    // 提纲 on the shared excerpt: a new message in the same topic, the excerpt untouched.
    tg.press_button(&forum, &bob, excerpt_id, "o:xzsj");
    assert!(
        tg.wait_state(|tg| !sends_to(tg, forum.id).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    let outline = sends_to(&tg, forum.id)[0].clone();
    assert!(text(&outline).contains("阅读某一节"), "{outline}");
    assert_eq!(outline["message_thread_id"], 77);
    // Forged data asking to edit the excerpt in place is refused.
    tg.press_button(&forum, &bob, excerpt_id, "eo:xzsj");
    assert!(tg.wait_for_requests("answerCallbackQuery", 2, WAIT).await);
    let answers = tg.requests_for("answerCallbackQuery");
    assert_eq!(answers[1].body["text"], STALE);
    assert_eq!(
        tg.message(forum.id, excerpt_id).unwrap(),
        excerpt,
        "the excerpt is unchanged"
    );

    // The outline was asked for by one member: its buttons browse in place.
    let outline_id = tg.last_message_id(forum.id).unwrap();
    let data = tg.message(forum.id, outline_id).unwrap()["reply_markup"]["inline_keyboard"][0][1]
        ["callback_data"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(data.starts_with("es:xzsj:"), "{data}");
    tg.press_button(&forum, &bob, outline_id, &data);
    assert!(
        tg.wait_for_requests("editMessageText", 1, WAIT).await,
        "{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    let edit = &tg.requests_for("editMessageText")[0].body;
    assert_eq!(edit["message_id"].as_i64(), Some(outline_id));
    assert_eq!(sends_to(&tg, forum.id).len(), 1, "nothing else was sent");
    assert_eq!(
        tg.message(forum.id, excerpt_id).unwrap(),
        excerpt,
        "the excerpt is unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_whose_topic_is_gone_is_delivered_to_the_chat() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    // Not a forum (any more): Telegram answers "message thread not found" for topic 77.
    let group = FakeChat::supergroup(9005, "学习小组");
    tg.register_chat(&group);
    let now = Utc::now();
    let next_due = {
        let store = Store::open(&workspace.db()).unwrap();
        let mut subscription = shanghai_subscription(group.id, now);
        subscription.topic = Some(77);
        let next_due = subscription.next_due;
        store.subscribe(subscription, None, now).unwrap();
        store.set_daily_quiz_setting(group.id, true).unwrap();
        store.flush().unwrap();
        next_due
    };
    tick(&workspace, &tg, next_due + TimeDelta::seconds(30)).await;
    let refused = tg
        .requests()
        .into_iter()
        .filter(|r| !r.ok() && r.body["message_thread_id"] == 77)
        .count();
    assert_eq!(
        refused, 2,
        "the excerpt and the question were tried in the topic first"
    );
    let daily = sends_to(&tg, group.id);
    assert_eq!(daily.len(), 2, "then sent to the chat: {daily:#?}");
    assert!(text(&daily[0]).contains("今日学习"), "{}", daily[0]);
    assert!(
        daily
            .iter()
            .all(|body| body.get("message_thread_id").is_none())
    );
}
