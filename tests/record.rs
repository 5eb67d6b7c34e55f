//! The study record (学习台账) end to end through the real binary and the fake Bot API:
//! members press ✅ on a delivered excerpt, `/roster` shows who did and who did not,
//! `/catchup` delivers a missed section whose late check-in is recorded as 补学, `/export`
//! sends a workbook holding exactly the record, and the weekly report arrives once at
//! its time via `studybot tick --now`.

#[path = "common/subscription.rs"]
mod subscription;

use std::io::Cursor;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::Value;
use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{Studybot, Workspace};
use subscription::shanghai_subscription;

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

const WAIT: Duration = Duration::from_secs(30);
const GROUP: i64 = -1_001_500_000_001;

/// 08:00:30 (or `time`) in Shanghai on `date`.
fn shanghai(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&date.and_hms_opt(hour, minute, 30).unwrap())
        .single()
        .unwrap()
        .to_utc()
}

async fn tick(workspace: &Workspace, api_url: &str, now: DateTime<Utc>) {
    let mut bot = STUDYBOT.start(workspace, api_url, &["tick", "--now", &now.to_rfc3339()]);
    let status = tokio::time::timeout(Duration::from_secs(120), bot.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", bot.log());
}

/// The ✅ button's data on a message, if it has one.
fn check_in_data(message: &Value) -> Option<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()?
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["callback_data"].as_str().map(str::to_string))
        .find(|data| data.starts_with("k:"))
}

/// The toasts of answered callback queries, in order.
fn toasts(tg: &FakeTelegram) -> Vec<String> {
    tg.requests_for("answerCallbackQuery")
        .into_iter()
        .map(|r| r.body["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn press_and_wait(
    tg: &FakeTelegram,
    chat: &FakeChat,
    user: &FakeUser,
    message_id: i64,
    data: &str,
) -> String {
    let before = tg.requests_for("answerCallbackQuery").len();
    tg.press_button(chat, user, message_id, data);
    assert!(
        tg.wait_for_requests("answerCallbackQuery", before + 1, WAIT)
            .await,
        "the press is answered"
    );
    toasts(tg).pop().unwrap()
}

async fn wait_for_text(tg: &FakeTelegram, chat_id: i64, part: &str) -> String {
    let found = tg
        .wait_state(
            |tg| tg.sent_texts_to(chat_id).iter().any(|t| t.contains(part)),
            WAIT,
        )
        .await;
    let texts = tg.sent_texts_to(chat_id);
    assert!(found, "no message with {part:?} in {chat_id}: {texts:#?}");
    texts.into_iter().rev().find(|t| t.contains(part)).unwrap()
}

/// Reads a sheet as rows of strings.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// (member name, column header, mark) for every ✓ or 补 in 学习记录.
fn marks(bytes: &[u8]) -> Vec<(String, String, String)> {
    let rows = sheet(bytes, "学习记录");
    let header = rows[0].clone();
    let mut marks = Vec::new();
    for row in &rows[1..] {
        for (column, cell) in row.iter().enumerate().skip(2) {
            if !cell.is_empty() {
                marks.push((row[0].clone(), header[column].clone(), cell.clone()));
            }
        }
    }
    marks.sort();
    marks
}

#[tokio::test(flavor = "multi_thread")]
async fn check_in_roster_catch_up_export_and_weekly_report() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", "[quiz]\nopen_period = 8\n");
    let group = FakeChat::supergroup(GROUP, "学习小组");
    let alice = FakeUser::new(501, "Alice");
    let bob = FakeUser::new(502, "Bob");
    let carol = FakeUser::new(503, "Carol");
    let blocked_admin = FakeUser::new(504, "Dave");
    let admin = FakeUser::new(505, "Erin");
    tg.register_chat(&group);
    tg.set_admins(group.id, vec![blocked_admin.id, admin.id]);

    // Four days of excerpts, the last one today (in Shanghai).
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let first = today - chrono::TimeDelta::days(3);
    {
        let store = Store::open(&workspace.db()).unwrap();
        let subscription = shanghai_subscription(GROUP, shanghai(first, 7, 0));
        store
            .subscribe(subscription, None, shanghai(first, 7, 0))
            .unwrap();
        store.flush().unwrap();
    }
    for day in first.iter_days().take(4) {
        tick(&workspace, &tg.api_url(), shanghai(day, 8, 0)).await;
    }
    let excerpts: Vec<Value> = tg
        .bot_messages(GROUP)
        .into_iter()
        .filter(|m| check_in_data(m).is_some())
        .collect();
    assert_eq!(excerpts.len(), 4, "four excerpts, each with ✅ 已学习");
    let todays = excerpts.last().unwrap();
    let todays_id = todays["message_id"].as_i64().unwrap();
    let todays_data = check_in_data(todays).unwrap();
    assert!(todays_data.len() <= 64);

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);

    // Check-ins: a toast with the rank, once; a forged press records nothing.
    let toast = press_and_wait(&tg, &group, &alice, todays_id, &todays_data).await;
    assert!(
        toast.starts_with("已记录：") && toast.ends_with("今天第 1 位"),
        "{toast}"
    );
    let toast = press_and_wait(&tg, &group, &bob, todays_id, &todays_data).await;
    assert!(toast.ends_with("今天第 2 位"), "{toast}");
    let toast = press_and_wait(&tg, &group, &alice, todays_id, &todays_data).await;
    assert!(toast.starts_with("已经记录过了"), "{toast}");
    let forged = todays_data.replace(&GROUP.to_string(), "-1009999");
    let toast = press_and_wait(&tg, &group, &bob, todays_id, &forged).await;
    assert!(toast.contains("没有记录"), "{toast}");
    assert!(
        tg.requests_for("editMessageText").is_empty(),
        "the shared excerpt is never edited per press"
    );

    // A quiz answer joins the record too.
    tg.send_text(&group, &admin, "/quiz 1");
    assert!(tg.wait_for_requests("sendPoll", 1, WAIT).await);
    let poll_id = tg
        .wait_state(
            |tg| {
                tg.bot_messages(GROUP)
                    .iter()
                    .any(|m| m["poll"]["id"].is_string())
            },
            WAIT,
        )
        .await
        .then(|| {
            tg.bot_messages(GROUP)
                .iter()
                .rev()
                .find_map(|m| m["poll"]["id"].as_str().map(str::to_string))
                .unwrap()
        })
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tg.answer_poll(&poll_id, &alice, vec![0]);

    // Carol joins, then /roster: Alice and Bob studied, Carol did not.
    tg.send_text(&group, &carol, "/join");
    wait_for_text(&tg, GROUP, "已加入学习名单").await;
    tg.send_text(&group, &carol, "/roster");
    wait_for_text(&tg, GROUP, "只有群管理员可以查看学习台账").await;
    tg.send_text(&group, &admin, "/roster");
    let roster = wait_for_text(&tg, GROUP, "今日已学").await;
    assert!(roster.contains("今日已学 2/3 人"), "{roster}");
    assert!(
        roster.contains("✅ Alice") && roster.contains("✅ Bob"),
        "{roster}"
    );
    assert!(roster.contains("⬜ Carol · 连续 0 天"), "{roster}");

    // Carol catches up in private: four missed sections, one checked in late.
    let private = FakeChat::private(&carol);
    tg.send_text(&private, &carol, "/catchup");
    wait_for_text(&tg, carol.id, "你有 4 节没有学").await;
    assert!(
        tg.wait_state(
            |tg| tg
                .bot_messages(carol.id)
                .iter()
                .filter(|m| check_in_data(m).is_some())
                .count()
                == 4,
            WAIT,
        )
        .await
    );
    let yesterday = today - chrono::TimeDelta::days(1);
    let missed = tg
        .bot_messages(carol.id)
        .into_iter()
        .find(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .contains(&yesterday.format("%Y-%m-%d").to_string())
        })
        .expect("yesterday's section");
    let toast = press_and_wait(
        &tg,
        &private,
        &carol,
        missed["message_id"].as_i64().unwrap(),
        &check_in_data(&missed).unwrap(),
    )
    .await;
    assert!(toast.starts_with("已补学："), "{toast}");

    // The weekly report is set for tomorrow 09:00 (so this running bot does not post it).
    let tomorrow = today + chrono::TimeDelta::days(1);
    let weekday = tomorrow.weekday().to_string();
    tg.send_text(&group, &admin, &format!("/report weekly {weekday} 09:00"));
    wait_for_text(&tg, GROUP, "已开启学习周报").await;

    // /export: an admin who never started the bot is told how to fix it; another gets
    // the workbook privately.
    tg.block(blocked_admin.id);
    tg.send_text(&group, &blocked_admin, "/export");
    wait_for_text(&tg, GROUP, "私聊发送 /start").await;
    tg.send_text(&group, &admin, "/export");
    wait_for_text(&tg, GROUP, "学习台账表格已私聊发给你").await;
    let documents = tg.documents();
    assert_eq!(documents.len(), 1, "one workbook sent");
    assert_eq!(documents[0].chat_id, admin.id, "to the admin, privately");
    assert!(documents[0].file_name.ends_with(".xlsx"));
    let workbook = documents[0].bytes.clone();

    // While the bot runs, `studybot record` asks it (over its control socket): the same record.
    let live = workspace.dir.path().join("live.xlsx");
    let recorded = std::process::Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(["record", "--chat", &GROUP.to_string(), "--out"])
        .arg(&live)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&recorded.stderr);
    assert!(recorded.status.success(), "{stderr}");
    assert_eq!(marks(&std::fs::read(&live).unwrap()), marks(&workbook));

    let status = bot.terminate(Duration::from_secs(30)).await;
    assert!(status.success());

    // The workbook holds exactly the stored record: every check-in and answer once.
    let store = Store::open(&workspace.db()).unwrap();
    let check_ins = store.check_ins(GROUP, first, today).unwrap();
    let answers = store.quiz_answers(GROUP).unwrap();
    drop(store);
    assert_eq!(check_ins.len(), 3);
    assert_eq!(answers.len(), 1);
    let mut expected: Vec<(String, String, String)> = check_ins
        .iter()
        .map(|c| {
            let mark = if c.is_late() { "补" } else { "✓" };
            (
                c.name.clone(),
                c.date.format("%m-%d").to_string(),
                mark.to_string(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(marks(&workbook), expected);
    assert!(expected.contains(&(
        "Carol".into(),
        yesterday.format("%m-%d").to_string(),
        "补".into()
    )));
    let quiz = sheet(&workbook, "测验");
    assert_eq!(quiz.len(), 2, "a header and the one answer: {quiz:?}");
    assert_eq!(quiz[1][2], "Alice");
    assert_eq!(quiz[1][4], answers[0].question);
    let members = sheet(&workbook, "成员");
    let names: Vec<&str> = members[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["Alice", "Bob", "Carol"]);
    assert!(!sheet(&workbook, "每周汇总").is_empty());

    // With the bot stopped, `studybot record` writes the same record (here as CSV).
    let out = workspace.dir.path().join("台账.csv");
    let written = std::process::Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(["record", "--chat", &GROUP.to_string(), "--csv", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(written.status.success(), "{written:?}");
    let csv = std::fs::read(workspace.dir.path().join("台账-学习记录.csv")).unwrap();
    assert!(csv.starts_with("\u{FEFF}成员,用户ID".as_bytes()));
    assert_eq!(String::from_utf8_lossy(&csv).matches('补').count(), 1);

    // The weekly report arrives once at its time, however often the pass runs.
    let reports = |tg: &FakeTelegram| {
        tg.sent_texts_to(GROUP)
            .into_iter()
            .filter(|t| t.contains("学习周报 ·"))
            .collect::<Vec<_>>()
    };
    tick(&workspace, &tg.api_url(), shanghai(tomorrow, 8, 59)).await;
    assert!(reports(&tg).is_empty(), "not before 09:00");
    tick(&workspace, &tg.api_url(), shanghai(tomorrow, 9, 0)).await;
    tick(&workspace, &tg.api_url(), shanghai(tomorrow, 9, 10)).await;
    let sent = reports(&tg);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let report = &sent[0];
    assert!(report.contains("学习参与率"), "{report}");
    assert!(report.contains("坚持最好："), "{report}");
    assert!(report.contains("正确率 "), "{report}");
}
