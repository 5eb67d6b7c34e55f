//! End to end on Telegram: the real `studybot run` binary against the fake Bot API.
//!
//! Groups as they are (forum topics, anonymous admins, buttons on shared messages) are in
//! [`groups`]; what the bot logs, in [`logs`]; every message inside Telegram's limits,
//! in [`limits`].

#[path = "../common/subscription.rs"]
mod subscription;

mod groups;
mod limits;
mod logs;
mod ops;
mod updates;

use std::collections::HashMap;
use std::time::Duration;

use studybot::app::library::Library;
use studybot::app::{App, ChatContext, ChatKind};
use studybot::command;
use studybot::config::Config;
use studybot::reply::MESSAGE_LIMIT;
use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{
    Running, Studybot, TOKEN, TOKEN_SECRET, Workspace, free_port, post_update, read_log, root,
};

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

const WAIT: Duration = Duration::from_secs(10);
const BOT: &str = FakeTelegram::BOT_USERNAME;

/// The replies the console would give, as Telegram HTML: the wording must be the same.
fn expected_html(input: &str, kind: ChatKind) -> Vec<String> {
    let store = Store::in_memory();
    let (library, _) = Library::load(&root().join("data"), &store).unwrap();
    let app = App::new(library, store, Config::default());
    let chat = ChatContext {
        chat_id: 1,
        kind,
        user_id: 1,
        user_name: "x".into(),
        is_admin: kind == ChatKind::Private,
        topic: None,
    };
    app.handle(&chat, command::parse(input, Some(BOT)), chrono::Utc::now())
        .iter()
        .flat_map(|reply| reply.split(MESSAGE_LIMIT))
        .map(|reply| reply.html())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answer_in_private_and_group_chats_with_console_wording() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;

    let ann = FakeUser::new(42, "Ann");
    let private = FakeChat::private(&ann);
    let group = FakeChat::group(-100, "学习小组");
    let supergroup = FakeChat::supergroup(-1001234, "支部");
    let inputs = [
        "/start",
        "/help",
        "/outline",
        "/section 2.2",
        "/search 网格",
        "/section 9.9",
        "/foo",
        "你好",
    ];
    for input in inputs {
        tg.send_text(&private, &ann, input);
    }
    tg.send_text(&group, &ann, &format!("/section@{BOT} 2.1"));
    tg.send_text(&group, &ann, "/section@other_bot 2.1");
    tg.send_text(&group, &ann, "大家好");
    tg.send_text(&group, &ann, "/outline");
    tg.send_text(&supergroup, &ann, "/section 二.三");
    assert!(
        tg.wait_until(
            |r| r.iter().filter(|r| r.is("sendMessage")).count() >= 11,
            WAIT
        )
        .await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let private_texts = tg.sent_texts_to(42);
    let expected: Vec<String> = inputs
        .iter()
        .flat_map(|input| expected_html(input, ChatKind::Private))
        .collect();
    assert_eq!(private_texts, expected);
    for message in tg.sent_messages_to(42) {
        assert_eq!(message["parse_mode"], "HTML");
    }

    let group_messages = tg.sent_messages_to(-100);
    assert_eq!(
        group_messages.len(),
        2,
        "text and other bots' commands are ignored in groups"
    );
    assert_eq!(
        group_messages[0]["text"].as_str().unwrap(),
        expected_html("/section 2.1", ChatKind::Group)[0]
    );
    let buttons: Vec<&str> = group_messages[0]["reply_markup"]["inline_keyboard"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["callback_data"].as_str().unwrap())
        .collect();
    assert_eq!(
        buttons,
        vec!["es:xzsj:2", "eo:xzsj", "es:xzsj:2.2"],
        "a reply one user asked for is edited in place by its buttons"
    );
    let supergroup_messages = tg.sent_messages_to(-1001234);
    assert!(
        supergroup_messages[0]["text"]
            .as_str()
            .unwrap()
            .contains("2.3 用实功凝聚民心民力")
    );

    let commands = tg.requests_for("setMyCommands");
    assert_eq!(commands.len(), 2);
    let names: Vec<&str> = commands[0].body["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"section") && names.contains(&"search") && names.contains(&"outline"));
    assert_eq!(commands[1].body["language_code"], "en");
    assert!(bot.log().contains(BOT), "the log names the bot");

    let status = bot.terminate(WAIT).await;
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_edit_in_place_and_forgeries_change_nothing() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let ann = FakeUser::new(7, "Ann");
    let chat = FakeChat::private(&ann);
    tg.send_text(&chat, &ann, "/section 2.1");
    assert!(tg.wait_for_requests("sendMessage", 1, WAIT).await);
    let message_id = tg.last_message_id(7).unwrap();

    tg.press_button(&chat, &ann, message_id, "es:xzsj:2.2");
    assert!(
        tg.wait_for_requests("editMessageText", 1, WAIT).await,
        "{}",
        bot.log()
    );
    assert!(tg.wait_for_requests("answerCallbackQuery", 1, WAIT).await);
    let edit = &tg.requests_for("editMessageText")[0].body;
    assert_eq!(edit["message_id"].as_i64(), Some(message_id));
    assert_eq!(
        edit["text"].as_str().unwrap(),
        expected_html("/section 2.2", ChatKind::Private)[0]
    );

    for forged in [
        "es:xzsj:9.9",
        "es:xzsj:3.1", // a real section, but not a button of this message
        "garbage",
        "s:other:2.1",
        "o:",
        &"x".repeat(64),
    ] {
        tg.press_button(&chat, &ann, message_id, forged);
    }
    assert!(
        tg.wait_for_requests("answerCallbackQuery", 7, WAIT).await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tg.requests_for("editMessageText").len(),
        1,
        "forged buttons edit nothing"
    );
    assert_eq!(
        tg.requests_for("sendMessage").len(),
        1,
        "forged buttons send nothing"
    );
    for answer in &tg.requests_for("answerCallbackQuery")[1..] {
        assert_eq!(answer.body["text"], "这个按钮已失效，请重新发送 /outline。");
    }
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_then_the_reply_is_sent_once() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let ann = FakeUser::new(8, "Ann");
    tg.rate_limit_next(1, 1);
    tg.send_text(&FakeChat::private(&ann), &ann, "/section 3.1");
    assert!(
        tg.wait_until(|r| r.iter().any(|r| r.is("sendMessage") && r.ok()), WAIT)
            .await,
        "{}",
        bot.log()
    );
    let sends = tg.requests_for("sendMessage");
    assert_eq!(sends.len(), 2, "one 429, one success");
    assert_eq!(sends[0].status, 429);
    assert!(
        sends[1].at.duration_since(sends[0].at) >= Duration::from_millis(950),
        "waited retry_after"
    );
    assert_eq!(tg.sent_messages_to(8).len(), 1);
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_and_migrated_chats_are_recorded() {
    let Running { tg, workspace, bot } = STUDYBOT.running(Workspace::new("")).await;
    let ann = FakeUser::new(9, "Ann");
    let kicked = FakeChat::group(-200, "kicked");
    let left = FakeChat::group(-300, "left");
    let migrating = FakeChat::group(-400, "migrating");
    tg.kick(-200);
    tg.send_text(&kicked, &ann, "/outline");
    tg.chat_member_update(&left, "member", "left");
    tg.migrate(-400, -1000400);
    tg.send_text(&migrating, &ann, "/section 1");
    assert!(
        tg.wait_until(|_| !tg.sent_messages_to(-1000400).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    assert!(tg.wait_updates_consumed(WAIT).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bot.terminate(WAIT).await.success());

    let store = Store::open(&workspace.db()).unwrap();
    let kicked = store
        .chat_status(-200)
        .unwrap()
        .expect("kicked chat recorded");
    assert!(!kicked.active && kicked.reason.unwrap().starts_with("Forbidden:"));
    assert!(
        !store
            .chat_status(-300)
            .unwrap()
            .expect("left chat recorded")
            .active
    );
    assert_eq!(
        store.chat_status(-400).unwrap().unwrap().migrated_to,
        Some(-1000400)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_1000_updates_across_100_chats_is_answered_once_each_in_order() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::unlimited()).await;
    let refs = ["0", "1", "1.1", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2"];
    for reference in refs {
        for chat in 0..100 {
            let user = FakeUser::new(10_000 + chat, "U");
            let chat = if chat % 2 == 0 {
                FakeChat::private(&user)
            } else {
                FakeChat::group(-10_000 - chat, "G")
            };
            tg.send_text(&chat, &user, &format!("/section {reference}"));
        }
    }
    let answered = tg
        .wait_until(
            |r| r.iter().filter(|r| r.is("sendMessage") && r.ok()).count() >= 1000,
            Duration::from_secs(60),
        )
        .await;
    assert!(answered, "{}", bot.log());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut per_chat: HashMap<i64, Vec<String>> = HashMap::new();
    for message in tg.sent_messages() {
        let text = message["text"].as_str().unwrap();
        let heading = text.split('\n').next().unwrap().to_string();
        per_chat
            .entry(message["chat_id"].as_i64().unwrap())
            .or_default()
            .push(heading);
    }
    assert_eq!(per_chat.len(), 100);
    let expected: Vec<String> = refs
        .iter()
        .map(|r| {
            expected_html(&format!("/section {r}"), ChatKind::Private)[0]
                .split('\n')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for (chat, headings) in per_chat {
        assert_eq!(
            headings, expected,
            "chat {chat}: every update answered once, in order"
        );
    }
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_busy_exits_zero_and_loses_nothing() {
    let Running { tg, workspace, bot } = STUDYBOT
        .running(Workspace::new(
            "chat_per_second = 20\nchat_burst = 1\nglobal_per_second = 100\nglobal_burst = 1",
        ))
        .await;
    // Three chats of 20: more than 20 commands waiting in one chat would be cut short.
    let users = [11, 12, 13].map(|id| FakeUser::new(id, "Ann"));
    for i in 0..60 {
        let user = &users[i % 3];
        tg.send_text(
            &FakeChat::private(user),
            user,
            &format!("/section {}", ["2.2", "3.1", "4.1"][i / 20]),
        );
    }
    assert!(tg.wait_for_requests("sendMessage", 5, WAIT).await);
    let started_at = std::time::Instant::now();
    let status = bot.terminate(WAIT).await;
    assert!(status.success(), "exit 0 on SIGTERM");
    assert!(
        started_at.elapsed() < Duration::from_secs(8),
        "stops within a few seconds"
    );
    let before_restart = tg.sent_messages().len();
    assert!(before_restart < 60 || tg.pending_updates() == 0);

    // Whatever was not handled is still pending at Telegram and is answered after a restart.
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_until(|_| tg.sent_messages().len() >= 60, Duration::from_secs(20))
            .await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tg.sent_messages().len(),
        60,
        "every update answered exactly once across the restart"
    );
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_logs_and_409_is_explained() {
    let Running { tg, workspace, bot } = STUDYBOT.running(Workspace::new("")).await;
    let ann = FakeUser::new(12, "Ann");
    tg.block(12);
    tg.send_text(&FakeChat::private(&ann), &ann, "/outline");
    tg.unknown_chat(-500);
    tg.send_text(&FakeChat::group(-500, "x"), &ann, "/outline");
    tg.set_fault_rate(1.0);
    tg.set_fault_kinds(&[fake_telegram::FaultKind::Drop]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    tg.set_fault_rate(0.0);
    tg.set_conflict(true);
    let explained = tg
        .wait_state(|_| bot.log().contains("409 Conflict"), WAIT)
        .await;
    tg.set_conflict(false);
    let status = bot.terminate(WAIT).await;
    let log = read_log(&workspace.log());
    assert!(explained, "{log}");
    assert!(log.contains("another process is polling Telegram with this bot token"));
    assert!(status.success());
    assert!(
        !log.contains(TOKEN) && !log.contains(TOKEN_SECRET),
        "token leaked:\n{log}"
    );
}

/// 30% of calls fail (5xx, dropped connections, answers slower than the client's
/// timeout), getUpdates included: every command is still answered, with bounded retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_complete_when_30_percent_of_calls_fail() {
    use fake_telegram::FaultKind;
    let tg = FakeTelegram::start().await;
    let unlimited = "global_per_second = 100000\nglobal_burst = 1000\nchat_per_second = 1000\nchat_burst = 100\ngroup_per_minute = 100000\ngroup_burst = 100";
    let workspace = Workspace::with_sections(
        unlimited,
        "[telegram]\npoll_timeout_seconds = 1\nrequest_timeout_seconds = 2\n",
    );
    let bot = STUDYBOT.started(&tg, &workspace).await;
    tg.set_fault_kinds(&[
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Drop,
        FaultKind::Delay,
    ]);
    tg.set_fault_delay(Duration::from_secs(3));
    tg.set_fault_get_updates(true);
    tg.set_fault_rate(0.3);
    let refs = ["2.2", "3.1"];
    for chat in 0..20 {
        let user = FakeUser::new(20_000 + chat, "U");
        for reference in refs {
            tg.send_text(
                &FakeChat::private(&user),
                &user,
                &format!("/section {reference}"),
            );
        }
    }
    let everything_answered = |tg: &FakeTelegram| {
        (0..20).all(|chat| {
            let texts = tg.sent_texts_to(20_000 + chat);
            texts.iter().any(|t| t.starts_with("<b>2.2"))
                && texts.iter().any(|t| t.starts_with("<b>3.1"))
        })
    };
    let done = tg
        .wait_state(|tg| everything_answered(tg), Duration::from_secs(150))
        .await;
    tg.set_fault_rate(0.0);
    assert!(done, "some replies never arrived:\n{}", bot.log());
    let sends = tg.requests_for("sendMessage").len();
    assert!(
        sends <= 40 * 9,
        "retries are bounded: {sends} sendMessage calls for 40 replies"
    );
    let polls = tg.requests_for("getUpdates").len();
    assert!(polls < 400, "no busy loop: {polls} getUpdates calls");
    assert!(bot.terminate(Duration::from_secs(15)).await.success());
}

/// Hostile or careless members: a non-admin cannot change the group's settings, and a
/// user flooding one chat cannot start a second quiz or hold up other chats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_members_change_nothing_and_floods_stay_in_their_chat() {
    let Running { tg, workspace, bot } = STUDYBOT.running(Workspace::new("")).await;
    let group = FakeChat::group(-4_000, "学习小组");
    tg.register_chat(&group);
    tg.set_admins(-4_000, vec![4_001]);
    let member = FakeUser::new(4_002, "Mallory");
    for command in [
        "/subscribe 08:00",
        "/settime 09:00",
        "/timezone Europe/Berlin",
        "/dailyquiz on",
        "/unsubscribe",
    ] {
        tg.send_text(&group, &member, command);
    }
    assert!(
        tg.wait_until(|_| tg.sent_messages_to(-4_000).len() >= 5, WAIT)
            .await,
        "{}",
        bot.log()
    );
    for reply in tg.sent_messages_to(-4_000) {
        let text = reply["text"].as_str().unwrap();
        assert!(text.contains("管理员"), "a refusal that says why: {text}");
    }

    let flooded = FakeChat::group(-4_100, "flood");
    let quiet_user = FakeUser::new(4_200, "Quiet");
    let quiet = FakeChat::private(&quiet_user);
    for _ in 0..10 {
        tg.send_text(&flooded, &member, "/quiz");
    }
    for _ in 0..40 {
        tg.send_text(&flooded, &member, "/search 群众");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = std::time::Instant::now();
    tg.send_text(&quiet, &quiet_user, "/section 2.2");
    assert!(
        tg.wait_until(
            |_| !tg.sent_messages_to(4_200).is_empty(),
            Duration::from_secs(3)
        )
        .await,
        "another chat is not starved"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "answered in {:?}",
        asked.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        tg.requests_for("sendPoll").len(),
        1,
        "only one quiz runs in the flooded chat"
    );
    assert!(bot.terminate(Duration::from_secs(15)).await.success());

    let store = Store::open(&workspace.db()).unwrap();
    assert!(
        store.subscription(-4_000).unwrap().is_none(),
        "no subscription was created"
    );
    assert_eq!(
        store.daily_quiz_setting(-4_000).unwrap(),
        None,
        "the daily quiz setting is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_answers_posted_updates_and_checks_the_secret() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let port = free_port();
    // Telegram requires an HTTPS public URL; a reverse proxy forwards to the plain listener.
    let url = format!("https://127.0.0.1:{port}/hook");
    // The secret comes from the environment, like the token.
    let mut bot = STUDYBOT
        .webhook(&tg, &workspace, port, "s3cret-token")
        .await;
    let set = tg.requests_for("setWebhook");
    assert_eq!(
        tg.webhook_url().as_deref(),
        Some(url.as_str()),
        "{:?}\n{}",
        set.iter().map(|r| (&r.body, r.status)).collect::<Vec<_>>(),
        bot.log()
    );

    let update = serde_json::json!({
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": chrono::Utc::now().timestamp(),
            "chat": {"id": 77, "type": "private", "first_name": "Ann"},
            "from": {"id": 77, "is_bot": false, "first_name": "Ann"},
            "text": "/section 2.2"
        }
    })
    .to_string();
    let forged = post_update(port, Some("wrong"), &update).await;
    assert!(
        !forged.contains(" 200"),
        "a wrong secret is refused: {forged}"
    );
    let accepted = post_update(port, Some("s3cret-token"), &update).await;
    assert!(accepted.contains(" 200"), "{accepted}");
    assert!(
        tg.wait_until(|_| !tg.sent_messages_to(77).is_empty(), WAIT)
            .await,
        "{}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tg.sent_messages_to(77).len(),
        1,
        "only the update with the right secret is answered"
    );
    assert_eq!(
        tg.sent_messages_to(77)[0]["text"].as_str().unwrap(),
        expected_html("/section 2.2", ChatKind::Private)[0]
    );

    bot.signal("INT");
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .expect("exits after SIGINT")
        .unwrap();
    assert!(status.success(), "{}", bot.log());
}

/// Issue 11, item 2: a 429 for a send to one chat pauses that chat; another chat is
/// answered meanwhile, and the paused chat gets its reply once `retry_after` is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_in_one_chat_pauses_only_that_chat() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let busy = FakeChat::group(-6_000, "flood wait");
    let member = FakeUser::new(6_001, "Member");
    tg.rate_limit_chat(-6_000, 1, 15);
    tg.send_text(&busy, &member, "/section 2.2");
    assert!(
        tg.wait_until(|r| r.iter().any(|r| r.status == 429), WAIT)
            .await,
        "{}",
        bot.log()
    );
    let ann = FakeUser::new(6_002, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/start");
    assert!(
        tg.wait_until(|_| !tg.sent_messages_to(6_002).is_empty(), WAIT)
            .await,
        "another chat is answered during the flood wait: {}",
        bot.log()
    );
    assert!(
        tg.sent_messages_to(-6_000).is_empty(),
        "the chat in its flood wait is still paused"
    );
    assert!(
        tg.wait_until(
            |_| !tg.sent_messages_to(-6_000).is_empty(),
            Duration::from_secs(40)
        )
        .await,
        "the paused chat's reply is sent after retry_after: {}",
        bot.log()
    );
    let sends: Vec<_> = tg
        .requests_for("sendMessage")
        .into_iter()
        .filter(|r| r.body["chat_id"] == -6_000)
        .collect();
    assert_eq!(sends.len(), 2, "one 429, one success");
    assert!(sends[1].at.duration_since(sends[0].at) >= Duration::from_millis(14_500));
    assert!(bot.terminate(WAIT).await.success());
}

/// Issue 11, items 2 and 7: a 429 on getChatMember (a long one) holds up no send; the
/// admin is told at once that the check failed, not that they are no admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_get_chat_member_holds_up_nothing() {
    let Running { tg, workspace, bot } = STUDYBOT.running(Workspace::new("")).await;
    let group = FakeChat::group(-6_100, "学习小组");
    let admin = FakeUser::new(6_101, "Admin");
    tg.set_admins(-6_100, vec![6_101]);
    tg.rate_limit_method("getChatMember", 1, 40);
    tg.send_text(&group, &admin, "/subscribe 08:00");
    let ann = FakeUser::new(6_102, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/start");
    assert!(
        tg.wait_until(
            |_| !tg.sent_messages_to(6_102).is_empty() && !tg.sent_messages_to(-6_100).is_empty(),
            Duration::from_secs(15),
        )
        .await,
        "both chats answered long before the 40 s retry_after: {}",
        bot.log()
    );
    let reply = tg.sent_texts_to(-6_100).remove(0);
    assert!(
        reply.contains("请稍后再试") && !reply.contains("只有群管理员"),
        "{reply}"
    );
    assert!(bot.terminate(WAIT).await.success());
    let store = Store::open(&workspace.db()).unwrap();
    assert!(store.subscription(-6_100).unwrap().is_none());
}

/// Issue 11, item 7: with getChatMember failing (5xx) for good, the admin check gives up
/// within seconds, says so, and the chat's next command is not held up behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_admin_check_says_so_within_seconds() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT.running(Workspace::new("")).await;
    let group = FakeChat::group(-6_200, "学习小组");
    let admin = FakeUser::new(6_201, "Creator");
    tg.set_admins(-6_200, vec![6_201]);
    tg.fail_method("getChatMember", 0);
    tg.send_text(&group, &admin, "/subscribe 08:00");
    tg.send_text(&group, &admin, "/section 2.2");
    assert!(
        tg.wait_until(
            |_| tg.sent_messages_to(-6_200).len() >= 2,
            Duration::from_secs(30)
        )
        .await,
        "answered within seconds, not minutes: {}",
        bot.log()
    );
    let texts = tg.sent_texts_to(-6_200);
    assert!(
        texts[0].contains("请稍后再试") && !texts[0].contains("只有群管理员"),
        "{}",
        texts[0]
    );
    assert_eq!(
        texts[1],
        expected_html("/section 2.2", ChatKind::Group)[0],
        "the next command follows"
    );
    assert!(bot.terminate(WAIT).await.success());
}

/// Issue 11, item 3: a class trying the bot together — 10 commands in each of 30 groups
/// within a second, Telegram's limits enforced strictly — gets every reply, in order,
/// with no 429, however long the limits make them wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_under_the_real_limits_loses_no_reply() {
    let tg = FakeTelegram::start().await;
    tg.enforce_strict_limits(0, 20, 30);
    let workspace = Workspace::new("");
    let bot = STUDYBOT.started(&tg, &workspace).await;
    let refs = ["0", "1", "1.1", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2"];
    for reference in refs {
        for chat in 0..30 {
            let user = FakeUser::new(20_000 + chat, "U");
            let group = FakeChat::group(-20_000 - chat, "G");
            tg.send_text(&group, &user, &format!("/section {reference}"));
        }
    }
    assert!(
        tg.wait_until(
            |r| r.iter().filter(|r| r.is("sendMessage") && r.ok()).count() >= 300,
            Duration::from_secs(90),
        )
        .await,
        "every command answered: {}",
        bot.log()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let too_many = tg
        .requests_for("sendMessage")
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(too_many, 0, "no 429 under the real limits");
    let expected: Vec<String> = refs
        .iter()
        .map(|r| expected_html(&format!("/section {r}"), ChatKind::Group)[0].clone())
        .collect();
    for chat in 0..30 {
        assert_eq!(
            tg.sent_texts_to(-20_000 - chat),
            expected,
            "chat {chat}: every reply once, in order"
        );
    }
    assert!(bot.terminate(WAIT).await.success());
}

/// Issue 11, item 3: only a chat with more commands waiting than can be answered soon
/// is told once to slow down, and its excess is dropped; once its queue has drained it
/// is answered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_far_over_its_budget_is_told_once_to_slow_down() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT
        .running(Workspace::new("chat_per_second = 4"))
        .await;
    let ann = FakeUser::new(6_300, "Ann");
    let chat = FakeChat::private(&ann);
    for _ in 0..40 {
        tg.send_text(&chat, &ann, "/section 2.2");
    }
    let slow_down = |tg: &FakeTelegram| {
        tg.sent_texts_to(6_300)
            .iter()
            .filter(|t| t.contains("太快了，请稍后再试"))
            .count()
    };
    assert!(
        tg.wait_until(|_| slow_down(&tg) == 1, WAIT).await,
        "{}",
        bot.log()
    );
    // The queue drains at 4 replies a second; then the chat is quiet.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let section = expected_html("/section 2.2", ChatKind::Private)[0].clone();
    let answered = tg
        .sent_texts_to(6_300)
        .iter()
        .filter(|t| **t == section)
        .count();
    assert!(
        (studybot::telegram::outbox::MAX_PENDING..40).contains(&answered),
        "{answered} replies: those queued, not the excess"
    );
    assert_eq!(slow_down(&tg), 1, "told once");
    tg.send_text(&chat, &ann, "/section 3.1");
    let later = expected_html("/section 3.1", ChatKind::Private)[0].clone();
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(6_300).contains(&later), WAIT)
            .await,
        "answered again once the queue drained"
    );
    assert!(bot.terminate(WAIT).await.success());
}
