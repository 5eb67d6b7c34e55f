//! Issue 20 §2 and issue 19 item 16 through the real binary: every message inside
//! Telegram's limits. The fake Bot API refuses what Telegram refuses (rows over 8,
//! keyboards over 100, long texts, captions and callback data), so a reply outside the
//! limits fails here as it would in Telegram.

use std::time::Duration;

use serde_json::Value;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{Running, Workspace};

use super::{STUDYBOT, WAIT};

/// Imports `source` as a data file with id `id` into the workspace's store, through the
/// binary's own `import`.
fn import(workspace: &Workspace, id: &str, source: &str) {
    let file = workspace.dir.path().join(format!("{id}.md"));
    std::fs::write(&file, source).unwrap();
    let output = std::process::Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(["import", file.to_str().unwrap(), "--id", id])
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A data file of `parts` parts, each with a point; the opening holds `opening`.
fn data_file(id: &str, parts: usize, opening: &str) -> String {
    let mut source = format!("---\nid: {id}\ntitle: 长文本{id}\n---\n# 0 开场 [full]\n{opening}\n");
    for part in 1..=parts {
        source.push_str(&format!(
            "# {part} 第{part}部分 | 第二句 [full]\n引言。\n## {part}.1 要点{part} [full]\n正文。\n"
        ));
    }
    source
}

/// Each row's width and the keyboard's callback data of a sent or edited message.
fn keyboard(message: &Value) -> (Vec<usize>, Vec<(String, String)>) {
    let rows = message["reply_markup"]["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let widths = rows
        .iter()
        .map(|row| row.as_array().map_or(0, Vec::len))
        .collect();
    let buttons = rows
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or("").to_string(),
                b["callback_data"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (widths, buttons)
}

fn data_of(buttons: &[(String, String)], label: &str) -> String {
    buttons
        .iter()
        .find(|(text, _)| text == label)
        .unwrap_or_else(|| panic!("no {label} in {buttons:?}"))
        .1
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outline_of_a_99_part_text_pages_its_buttons_within_the_limits() {
    let workspace = Workspace::new("");
    import(&workspace, "p99", &data_file("p99", 99, "开场白。"));
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(workspace).await;
    let ann = FakeUser::new(9, "Ann");
    let chat = FakeChat::private(&ann);
    tg.send_text(&chat, &ann, "/use p99");
    tg.send_text(&chat, &ann, "/outline");
    assert!(
        tg.wait_for_requests("sendMessage", 2, WAIT).await,
        "{}",
        bot.log()
    );
    let outline = tg.bot_messages(9)[1].clone();
    let (widths, buttons) = keyboard(&outline);
    assert!(widths.iter().all(|w| *w <= 8), "{widths:?}");
    assert!(widths.iter().sum::<usize>() <= 100, "{widths:?}");
    let text = outline["text"].as_str().unwrap();
    assert!(text.starts_with("《长文本p99》提纲（第 1/3 页）"), "{text}");
    assert_eq!(buttons.last().unwrap().0, "提纲 2/3 ▶");

    // ▶ turns the page in place: the second page, with ◀ and ▶.
    let message_id = tg
        .bot_messages(9)
        .iter()
        .find(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("《长文本p99》提纲"))
        })
        .and_then(|m| m["message_id"].as_i64())
        .unwrap();
    tg.press_button(&chat, &ann, message_id, &data_of(&buttons, "提纲 2/3 ▶"));
    assert!(
        tg.wait_for_requests("editMessageText", 1, WAIT).await,
        "{}",
        bot.log()
    );
    let edited = tg.message(9, message_id).unwrap();
    assert!(
        edited["text"]
            .as_str()
            .unwrap()
            .starts_with("《长文本p99》提纲（第 2/3 页）"),
        "{edited}"
    );
    let (widths, buttons) = keyboard(&edited);
    assert!(widths.iter().all(|w| *w <= 8), "{widths:?}");
    let labels: Vec<&str> = buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert!(
        labels.contains(&"◀ 提纲 1/3") && labels.contains(&"提纲 3/3 ▶"),
        "{labels:?}"
    );
    // A part on the second page opens from it.
    let part = buttons
        .iter()
        .find(|(l, _)| l == "50")
        .map(|(_, d)| d.clone());
    assert_eq!(part.as_deref(), Some("es:p99:50"), "{labels:?}");
    let refused = tg
        .requests()
        .iter()
        .filter(|r| !r.ok() && !r.is("getUpdates"))
        .count();
    assert_eq!(refused, 0, "Telegram refused nothing: {}", bot.log());
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2_mb_section_is_read_a_page_at_a_time_with_edits() {
    let workspace = Workspace::new("");
    let sentence = "这是一篇很长的讲话中的一句话。";
    // 2 MB in UTF-8: 46,000 sentences of 15 characters.
    let body = sentence.repeat(46_000);
    assert!(body.len() > 2_000_000);
    import(&workspace, "big", &data_file("big", 2, &body));
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(workspace).await;
    let ann = FakeUser::new(11, "Ann");
    let chat = FakeChat::private(&ann);
    tg.send_text(&chat, &ann, "/use big");
    tg.send_text(&chat, &ann, "/section 0");
    assert!(
        tg.wait_for_requests("sendMessage", 2, WAIT).await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = tg.bot_messages(11);
    assert_eq!(sent.len(), 2, "one page, not hundreds of messages");
    let page = sent[1]["text"].as_str().unwrap().to_string();
    let count: usize = page
        .split("第 1/")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", &page[..300]));
    assert!(count > 100, "{count}");
    assert!(
        page.ends_with("下一页：/section 0 第 2 页"),
        "{}",
        &page[page.len() - 200..]
    );
    let message_id = tg
        .bot_messages(11)
        .last()
        .and_then(|m| m["message_id"].as_i64())
        .unwrap();
    let (_, buttons) = keyboard(&tg.message(11, message_id).unwrap());
    assert_eq!(data_of(&buttons, "第 2 页 ▶"), "es:big:0:2");

    // ▶ edits the page to the next one; ◀ back.
    tg.press_button(&chat, &ann, message_id, "es:big:0:2");
    assert!(
        tg.wait_for_requests("editMessageText", 1, WAIT).await,
        "{}",
        bot.log()
    );
    let second = tg.message(11, message_id).unwrap();
    assert!(
        second["text"]
            .as_str()
            .unwrap()
            .contains(&format!("第 2/{count} 页"))
    );
    let (widths, buttons) = keyboard(&second);
    assert!(widths.iter().all(|w| *w <= 8));
    assert_eq!(data_of(&buttons, "◀ 第 1 页"), "es:big:0");
    assert_eq!(data_of(&buttons, "第 3 页 ▶"), "es:big:0:3");
    tg.press_button(&chat, &ann, message_id, "es:big:0");
    assert!(
        tg.wait_for_requests("editMessageText", 2, WAIT).await,
        "{}",
        bot.log()
    );
    assert_eq!(
        tg.message(11, message_id).unwrap()["text"]
            .as_str()
            .unwrap(),
        page
    );
    // A page that is not a button of this message changes nothing.
    tg.press_button(&chat, &ann, message_id, "es:big:0:40");
    assert!(tg.wait_for_requests("answerCallbackQuery", 3, WAIT).await);
    // The last page, typed.
    tg.send_text(&chat, &ann, &format!("/section 0 第 {count} 页"));
    assert!(
        tg.wait_for_requests("sendMessage", 3, WAIT).await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = tg.bot_messages(11).pop().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.ends_with(&format!("（全文完，共 {count} 页）")),
        "{last}"
    );
    assert_eq!(tg.requests_for("editMessageText").len(), 2);

    // In a group: the first page, its buttons for the whole chat (new messages).
    let group = FakeChat::group(-300, "学习小组");
    tg.set_admins(-300, vec![11]);
    tg.send_text(&group, &ann, "/use big");
    tg.send_text(&group, &ann, "/section 0");
    assert!(
        tg.wait_until(
            |r| r.iter().filter(|r| r.is("sendMessage")).count() >= 5,
            WAIT
        )
        .await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let in_group = tg.bot_messages(-300);
    let paged = in_group.last().unwrap();
    assert!(
        paged["text"]
            .as_str()
            .unwrap()
            .contains(&format!("第 1/{count} 页"))
    );
    let (_, buttons) = keyboard(paged);
    assert_eq!(data_of(&buttons, "第 2 页 ▶"), "s:big:0:2");
    let refused: Vec<String> = tg
        .requests()
        .iter()
        .filter(|r| !r.ok() && !r.is("getUpdates") && !r.is("answerCallbackQuery"))
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert!(bot.terminate(WAIT).await.success());
}

/// The fake refuses what Telegram refuses, with Telegram's descriptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_bot_api_refuses_what_telegram_refuses() {
    let tg = FakeTelegram::start().await;
    let bot = Bot::new(FakeTelegram::TOKEN).set_api_url(tg.api_url().parse().unwrap());
    let chat = ChatId(5);
    let button = |n: usize| InlineKeyboardButton::callback(n.to_string(), n.to_string());
    let refusal = |result: Result<Message, teloxide::RequestError>| match result {
        Err(teloxide::RequestError::Api(teloxide::ApiError::Unknown(description))) => description,
        Err(teloxide::RequestError::Api(error)) => error.to_string(),
        other => panic!("accepted: {other:?}"),
    };
    let wide = InlineKeyboardMarkup::new(vec![(0..9).map(button).collect::<Vec<_>>()]);
    assert_eq!(
        refusal(bot.send_message(chat, "x").reply_markup(wide).await),
        "Bad Request: reply markup is too long"
    );
    let many = InlineKeyboardMarkup::new(
        (0..13)
            .map(|_| (0..8).map(button).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        refusal(bot.send_message(chat, "x").reply_markup(many).await),
        "Bad Request: reply markup is too long"
    );
    let long_data = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "x",
        "d".repeat(65),
    )]]);
    assert_eq!(
        refusal(bot.send_message(chat, "x").reply_markup(long_data).await),
        "Bad Request: BUTTON_DATA_INVALID"
    );
    // 2,049 emoji are 4,098 UTF-16 units, though only 2,049 characters.
    assert_eq!(
        refusal(bot.send_message(chat, "🙂".repeat(2049)).await),
        "Bad Request: message is too long"
    );
    assert!(bot.send_message(chat, "🙂".repeat(2048)).await.is_ok());
    let fits = InlineKeyboardMarkup::new(
        (0..12)
            .map(|_| (0..8).map(button).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    assert!(bot.send_message(chat, "x").reply_markup(fits).await.is_ok());
    let file = teloxide::types::InputFile::memory(b"x".to_vec()).file_name("x.txt");
    assert_eq!(
        refusal(
            bot.send_document(chat, file.clone())
                .caption("字".repeat(1025))
                .await
        ),
        "Bad Request: message caption is too long"
    );
    assert!(
        bot.send_document(chat, file)
            .caption("字".repeat(1024))
            .await
            .is_ok()
    );
}
