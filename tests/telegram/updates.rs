//! Issue 20, section 1: updates Telegram sends today and teloxide 0.17 (Bot API 9.1) cannot
//! read are repaired or logged once, never lost silently, by polling and webhook alike.

use std::time::Duration;

use serde_json::{Value, json};
use studybot::app::ChatKind;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Running, Workspace};

use harness::{free_port, post_update};

use crate::{STUDYBOT, expected_html};

const WAIT: Duration = Duration::from_secs(20);

/// What the log says for an update given up.
const DROPPED: &str = "update dropped";

/// A Bot API 9.5 `date_time` entity over `offset..offset + length`.
fn date_time_entity(offset: usize, length: usize) -> Value {
    json!({"type": "date_time", "offset": offset, "length": length,
           "unix_time": 1_796_983_200, "date_time_format": "t"})
}

/// (a) `/section 2.1 20:00` with a `bot_command` and a `date_time` entity.
fn section_with_date_time(tg: &FakeTelegram, chat: &FakeChat, ann: &FakeUser) -> Value {
    let mut message = tg.text_message_json(chat, ann, "/section 2.1 20:00");
    message["entities"]
        .as_array_mut()
        .unwrap()
        .push(date_time_entity(13, 5));
    message
}

/// (b) `/outline` with an entity of a kind invented for the test.
fn outline_with_invented_entity(tg: &FakeTelegram, chat: &FakeChat, ann: &FakeUser) -> Value {
    let mut message = tg.text_message_json(chat, ann, "/outline");
    message["entities"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "sparkle_test", "offset": 1, "length": 7, "sparkle_level": 3}));
    message
}

/// (c) A message of a kind invented for the test.
fn invented_message(tg: &FakeTelegram, chat: &FakeChat, ann: &FakeUser) -> Value {
    tg.message_json(
        chat,
        ann,
        json!({"hologram_test": {"hologram_id": "h-1", "frames": 24}}),
    )
}

/// (d) A poll answer as Bot API 10.x sends it for a poll that allows several answers.
fn poll_answer_with_several_options(ann: &FakeUser) -> Value {
    json!({"poll_id": "5432101234", "user": ann.json(), "option_ids": [0, 2],
           "option_persistent_ids": ["a", "c"]})
}

/// (e) A message broken for teloxide: its `date` is not a number.
fn broken_message(tg: &FakeTelegram, chat: &FakeChat, ann: &FakeUser) -> Value {
    let mut message = tg.text_message_json(chat, ann, "/help");
    message["date"] = json!("yesterday at noon");
    message
}

/// The log lines that report dropped updates.
fn dropped_lines(bot: &BotProcess) -> Vec<String> {
    bot.log()
        .lines()
        .filter(|line| line.contains(DROPPED))
        .map(str::to_owned)
        .collect()
}

/// Waits until `chat_id` got `n` messages.
async fn replies(tg: &FakeTelegram, chat_id: i64, n: usize, bot: &BotProcess) -> Vec<String> {
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(chat_id).len() >= n, WAIT)
            .await,
        "{:?}\n{}",
        tg.sent_texts_to(chat_id),
        bot.log()
    );
    tg.sent_texts_to(chat_id)
}

/// A press on the first button under the bot's message `message_id`, as a callback query
/// carries it with fields of Bot API 10.x added (a `date_time` entity, a field teloxide
/// does not know). Returns the `callback_query` payload and the button's data.
fn press_under_newer_message(
    tg: &FakeTelegram,
    ann: &FakeUser,
    message_id: i64,
) -> (Value, String) {
    let mut message = tg.message(ann.id, message_id).expect("the bot's message");
    let data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("a button under the outline")
        .to_string();
    let mut entities = message["entities"].as_array().cloned().unwrap_or_default();
    entities.push(date_time_entity(0, 2));
    message["entities"] = json!(entities);
    message["suggested_post_info_test"] = json!({"state": "pending"});
    (tg.callback_json(ann, message, &data), data)
}

/// The press was taken as a press on that message's own button: answered without a
/// "stale button" notice, and the message edited in place.
async fn assert_button_worked(
    tg: &FakeTelegram,
    callback: &Value,
    message_id: i64,
    data: &str,
    bot: &BotProcess,
) {
    assert!(
        tg.wait_for_requests("editMessageText", 1, WAIT).await,
        "{data}: {:?}\n{}",
        tg.requests_for("answerCallbackQuery"),
        bot.log()
    );
    let edit = &tg.requests_for("editMessageText")[0].body;
    assert_eq!(edit["message_id"].as_i64(), Some(message_id));
    let answer = tg
        .requests_for("answerCallbackQuery")
        .into_iter()
        .find(|r| r.body["callback_query_id"] == callback["id"])
        .expect("the press is answered");
    assert!(answer.body.get("text").is_none(), "{:?}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_reads_what_teloxide_cannot_and_logs_each_update_it_drops_once() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let ann = FakeUser::new(2001, "Ann");
    let chat = FakeChat::private(&ann);

    // (a), (b): each command gets its reply, as the console would word it.
    tg.send_raw("message", section_with_date_time(&tg, &chat, &ann));
    let texts = replies(&tg, ann.id, 1, &bot).await;
    assert_eq!(
        texts[0],
        expected_html("/section 2.1 20:00", ChatKind::Private)[0]
    );
    tg.send_raw("message", outline_with_invented_entity(&tg, &chat, &ann));
    let texts = replies(&tg, ann.id, 2, &bot).await;
    assert_eq!(texts[1], expected_html("/outline", ChatKind::Private)[0]);
    let outline = tg.last_message_id(ann.id).unwrap();

    // (c): logged once, answered by nothing.
    let invented = tg.send_raw("message", invented_message(&tg, &chat, &ann));

    // (d): a button under a message with newer fields, and a poll answer with two options.
    let (callback, data) = press_under_newer_message(&tg, &ann, outline);
    tg.send_raw("callback_query", callback.clone());
    let answer = tg.send_raw("poll_answer", poll_answer_with_several_options(&ann));
    assert_button_worked(&tg, &callback, outline, &data, &bot).await;

    // (e): one getUpdates batch whose middle update is broken: the ones after it are answered.
    let batch = tg.send_raw_batch(vec![
        ("message", tg.text_message_json(&chat, &ann, "/start")),
        ("message", broken_message(&tg, &chat, &ann)),
        ("message", tg.text_message_json(&chat, &ann, "/search 网格")),
    ]);
    let texts = replies(&tg, ann.id, 4, &bot).await;
    assert_eq!(texts[2], expected_html("/start", ChatKind::Private)[0]);
    assert_eq!(
        texts[3],
        expected_html("/search 网格", ChatKind::Private)[0]
    );
    assert!(tg.wait_updates_consumed(WAIT).await, "the offset moved on");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let dropped = dropped_lines(&bot);
    assert_eq!(dropped.len(), 2, "{dropped:#?}\n{}", bot.log());
    assert!(
        dropped[0].contains(&format!("update_id={invented}"))
            && dropped[0].contains("kind=message")
            && dropped[0].contains("hologram_test"),
        "{}",
        dropped[0]
    );
    assert!(
        dropped[1].contains(&format!("update_id={}", batch[1]))
            && dropped[1].contains("kind=message")
            && dropped[1].contains("yesterday"),
        "{}",
        dropped[1]
    );
    assert!(
        !bot.log().contains(&format!("update_id={answer} kind")),
        "the poll answer is read: {}",
        bot.log()
    );
    assert_eq!(
        tg.sent_texts_to(ann.id).len(),
        4,
        "nothing else is answered"
    );
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_reads_what_teloxide_cannot_and_logs_each_update_it_drops_once() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let port = free_port();
    let mut bot = STUDYBOT
        .webhook(&tg, &workspace, port, "s3cret-token")
        .await;
    let ann = FakeUser::new(2002, "Ann");
    let chat = FakeChat::private(&ann);
    let mut next_id = 700;
    let mut post = async |kind: &str, payload: Value| {
        next_id += 1;
        let mut update = json!({"update_id": next_id});
        update[kind] = payload;
        let status = post_update(port, Some("s3cret-token"), &update.to_string()).await;
        assert!(status.contains(" 200"), "{kind}: {status}");
        next_id
    };

    post("message", section_with_date_time(&tg, &chat, &ann)).await;
    let texts = replies(&tg, ann.id, 1, &bot).await;
    assert_eq!(
        texts[0],
        expected_html("/section 2.1 20:00", ChatKind::Private)[0]
    );
    post("message", outline_with_invented_entity(&tg, &chat, &ann)).await;
    let texts = replies(&tg, ann.id, 2, &bot).await;
    assert_eq!(texts[1], expected_html("/outline", ChatKind::Private)[0]);
    let outline = tg.last_message_id(ann.id).unwrap();
    let invented = post("message", invented_message(&tg, &chat, &ann)).await;
    let (callback, data) = press_under_newer_message(&tg, &ann, outline);
    post("callback_query", callback.clone()).await;
    assert_button_worked(&tg, &callback, outline, &data, &bot).await;
    post("poll_answer", poll_answer_with_several_options(&ann)).await;
    let broken = post("message", broken_message(&tg, &chat, &ann)).await;
    post("message", tg.text_message_json(&chat, &ann, "/start")).await;

    let texts = replies(&tg, ann.id, 3, &bot).await;
    assert_eq!(texts[2], expected_html("/start", ChatKind::Private)[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let dropped = dropped_lines(&bot);
    assert_eq!(dropped.len(), 2, "{dropped:#?}\n{}", bot.log());
    assert!(dropped[0].contains(&format!("update_id={invented}")));
    assert!(dropped[1].contains(&format!("update_id={broken}")));

    // A body that is not JSON at all is refused, and logged.
    let garbage = post_update(port, Some("s3cret-token"), "{not json").await;
    assert!(garbage.contains(" 400"), "{garbage}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(dropped_lines(&bot).len(), 3, "{}", bot.log());

    bot.signal("TERM");
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{}", bot.log());
}
