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
use harness::{Studybot, TinyDisk, Workspace};
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
    // A group quiet since before titles were kept: its title comes from getChat.
    let quiet = FakeChat::supergroup(GROUP - 1, "第二小组");
    tg.register_chat(&quiet);

    // Four days of excerpts, the last one today (in Shanghai).
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let first = today - chrono::TimeDelta::days(3);
    {
        let store = Store::open(&workspace.db()).unwrap();
        let subscription = shanghai_subscription(GROUP, shanghai(first, 7, 0));
        store
            .subscribe(subscription, None, shanghai(first, 7, 0))
            .unwrap();
        store
            .join(
                quiet.id,
                carol.id as u64,
                "Carol",
                shanghai(first, 7, 0),
                true,
            )
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
    let intro = wait_for_text(&tg, carol.id, "你有 4 节没有学").await;
    assert!(
        intro.contains("· 学习小组："),
        "groups named by title: {intro}"
    );
    assert!(!intro.contains(&GROUP.to_string()), "{intro}");
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
    assert!(
        tg.bot_messages(carol.id).iter().any(|m| m["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("补学 · 学习小组 · ")),
        "each section names its group"
    );

    // /roster in private: Carol's own record in each of her groups, by title.
    tg.send_text(&private, &carol, "/roster");
    let own = wait_for_text(&tg, carol.id, "你的学习记录").await;
    assert!(own.contains("学习小组：⬜ 今日未学"), "{own}");
    assert!(own.contains("第二小组："), "the title from getChat: {own}");
    assert!(!tg.requests_for("getChat").is_empty());

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
                c.date.format("%Y-%m-%d").to_string(),
                mark.to_string(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(marks(&workbook), expected);
    assert!(expected.contains(&(
        "Carol".into(),
        yesterday.format("%Y-%m-%d").to_string(),
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
    assert!(report.contains("学习周报 · 学习小组 · "), "{report}");
    assert!(report.contains("学习参与率"), "{report}");
    assert!(report.contains("坚持最好："), "{report}");
    assert!(report.contains("正确率 "), "{report}");
}

/// The names a hostile member can choose, each read as a formula by Excel or WPS when
/// written as they are into a CSV cell.
const FORMULA_NAMES: [&str; 4] = [
    "=HYPERLINK(\"http://evil.example\",\"点我\")",
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1)",
];

/// A stopped bot's store with a record in `GROUP`, seeded directly: four members named
/// by [`FORMULA_NAMES`], each checked in on `days` (in Shanghai), member 1 with one
/// answer on the first day. The group's title is kept, as the bot keeps it.
fn seeded(days: &[NaiveDate]) -> Workspace {
    let workspace = Workspace::new("");
    let store = Store::open(&workspace.db()).unwrap();
    store
        .remember_chat_title(GROUP, "学习小组", Utc::now())
        .unwrap();
    for (user, name) in (1..).zip(FORMULA_NAMES) {
        store
            .join(GROUP, user, name, shanghai(days[0], 7, 0), true)
            .unwrap();
        for &day in days {
            store
                .check_in(&studybot::record::CheckIn {
                    chat_id: GROUP,
                    user_id: user,
                    name: name.into(),
                    document: "xzsj".into(),
                    section: studybot::text::SectionId::OPENING,
                    date: day,
                    done_on: day,
                    at: shanghai(day, 9, 0),
                })
                .unwrap();
        }
    }
    store
        .record_quiz_answer(&studybot::record::QuizAnswer {
            chat_id: GROUP,
            user_id: 1,
            name: FORMULA_NAMES[0].into(),
            question: "=1+1 是哪一部分？".into(),
            section: "2.2".parse().unwrap(),
            part: 2,
            correct: true,
            at: shanghai(days[0], 10, 15),
        })
        .unwrap();
    store.flush().unwrap();
    workspace
}

/// `studybot record <args>` on the workspace's store: (stdout as bytes, stderr, success).
fn record(workspace: &Workspace, args: &[&str]) -> (Vec<u8>, String, bool) {
    let output = std::process::Command::new(STUDYBOT.path())
        .current_dir(workspace.dir.path())
        .arg("--config")
        .arg(workspace.config())
        .arg("record")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The files in the workspace's directory, but the store and the config.
fn files_written(workspace: &Workspace) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "db" && name != "config.toml")
        .collect();
    names.sort();
    names
}

#[test]
fn csv_cells_never_become_formulas_and_the_workbook_keeps_strings() {
    let workspace = seeded(&[date("2026-11-30")]);
    let group = GROUP.to_string();
    let (_, stderr, ok) = record(
        &workspace,
        &[
            "--chat",
            &group,
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-30",
            "--out",
            "台账.csv",
        ],
    );
    assert!(ok, "{stderr}");
    for sheet in ["成员", "学习记录", "测验"] {
        let csv = std::fs::read_to_string(workspace.dir.path().join(format!("台账-{sheet}.csv")))
            .unwrap();
        for line in csv.lines().skip(1) {
            // Every cell of the line: none begins with a formula character.
            let cells = line.split(',').map(|c| c.trim_start_matches('"'));
            for cell in cells {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{sheet}: {cell:?} in {line:?}"
                );
            }
        }
        if sheet != "测验" {
            for name in FORMULA_NAMES {
                let quoted = format!("'{name}").replace('"', "\"\"");
                assert!(csv.contains(&quoted), "{sheet}: {name} kept as text: {csv}");
            }
        }
    }
    let quiz = std::fs::read_to_string(workspace.dir.path().join("台账-测验.csv")).unwrap();
    assert!(quiz.contains(",'=1+1 是哪一部分？,"), "{quiz}");

    let (_, stderr, ok) = record(&workspace, &["--chat", &group, "--out", "台账.xlsx"]);
    assert!(ok, "{stderr}");
    let bytes = std::fs::read(workspace.dir.path().join("台账.xlsx")).unwrap();
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let members = workbook.worksheet_range("成员").unwrap();
    let names: Vec<&Data> = (1..=4).map(|r| members.get((r, 0)).unwrap()).collect();
    for name in FORMULA_NAMES {
        assert!(
            names.contains(&&Data::String(name.to_string())),
            "the name as a string cell: {names:?}"
        );
    }
}

#[test]
fn the_workbook_has_real_dates_and_percentages_and_unique_day_headers() {
    // Two days a year apart: the export runs over 367 days, two of them 12-01.
    let workspace = seeded(&[date("2025-12-01"), date("2026-12-01")]);
    let group = GROUP.to_string();
    let (stdout, stderr, ok) = record(
        &workspace,
        &[
            "--chat",
            &group,
            "--from",
            "2025-12-01",
            "--to",
            "2026-12-01",
            "--out",
            "年.xlsx",
        ],
    );
    assert!(ok, "{stderr}");
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.contains("已写入 年.xlsx"), "in Chinese: {stdout}");
    assert!(!stdout.contains("wrote"), "{stdout}");
    let bytes = std::fs::read(workspace.dir.path().join("年.xlsx")).unwrap();
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();

    let record = workbook.worksheet_range("学习记录").unwrap();
    let headers: Vec<String> = record.rows().next().unwrap()[2..]
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(headers.len(), 366);
    let unique: std::collections::BTreeSet<&String> = headers.iter().collect();
    assert_eq!(unique.len(), headers.len(), "no two days headed alike");
    assert_eq!(headers[0], "2025-12-01");
    assert_eq!(headers[365], "2026-12-01");
    let marks = marks(&bytes);
    assert!(marks.contains(&(FORMULA_NAMES[1].into(), "2025-12-01".into(), "✓".into())));
    assert!(marks.contains(&(FORMULA_NAMES[1].into(), "2026-12-01".into(), "✓".into())));

    // 成员: joined is a date and time, first and last activity dates, the rate a number.
    let members = workbook.worksheet_range("成员").unwrap();
    let row = 2; // member 2 ("+cmd…"), no answers
    assert!(
        matches!(members.get((row, 2)), Some(Data::DateTime(d)) if d.is_datetime()),
        "joined: {:?}",
        members.get((row, 2))
    );
    let first = members.get((row, 3)).unwrap();
    let Data::DateTime(first) = first else {
        panic!("first activity is a date: {first:?}")
    };
    let serial = (date("2025-12-01") - date("1899-12-30")).num_days() as f64;
    assert_eq!(first.as_f64(), serial, "Excel's serial of 2025-12-01");
    let rate = members.get((row, 7)).unwrap();
    assert!(
        matches!(rate, Data::Float(r) if (r - 2.0 / 366.0).abs() < 1e-9),
        "2 of 366 days, as a number: {rate:?}"
    );
    let accuracy = members.get((1, 9)).unwrap();
    assert_eq!(accuracy, &Data::Float(1.0), "member 1's one right answer");

    // 测验: a real date and time; 每周汇总: real dates and a rate.
    let quiz = workbook.worksheet_range("测验").unwrap();
    assert!(
        matches!(quiz.get((1, 0)), Some(Data::DateTime(_))),
        "{:?}",
        quiz.get((1, 0))
    );
    assert!(
        matches!(quiz.get((1, 1)), Some(Data::DateTime(_))),
        "{:?}",
        quiz.get((1, 1))
    );
    let weekly = workbook.worksheet_range("每周汇总").unwrap();
    assert!(matches!(weekly.get((1, 1)), Some(Data::DateTime(_))));
    assert!(
        matches!(weekly.get((1, 4)), Some(Data::Float(_))),
        "{:?}",
        weekly.get((1, 4))
    );
    assert!(matches!(weekly.get((1, 8)), Some(Data::DateTime(_))));

    // The number formats: percentages and dates, as Excel shows them.
    let styles = {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        zip.by_name("xl/styles.xml")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    assert!(styles.contains("formatCode=\"yyyy-mm-dd\""), "{styles}");
    assert!(styles.contains("formatCode=\"0%\""), "{styles}");
}

#[test]
fn nonsense_is_refused_and_nothing_is_written() {
    let workspace = seeded(&[date("2026-11-30")]);
    let group = GROUP.to_string();
    let refusals: [(&[&str], &str); 6] = [
        (&["--chat", "999", "--out", "r.xlsx"], "没有找到群 999"),
        (
            &[
                "--chat",
                &group,
                "--from",
                "2026-12-05",
                "--to",
                "2026-12-01",
                "--out",
                "r.xlsx",
            ],
            "--from 2026-12-05 晚于 --to 2026-12-01",
        ),
        (
            &["--chat", &group, "--csv", "--out", "r.xlsx"],
            "--csv 与文件名 r.xlsx 不一致",
        ),
        (
            &["--chat", &group, "--out", "r.txt"],
            "应以 .xlsx（Excel 表格）或 .csv",
        ),
        (
            &["--chat", &group, "--csv", "--out", "-"],
            "不能写到标准输出",
        ),
        (
            &["--chat", "-1001", "--out", "r.xlsx"],
            "学习小组（-1001500000001）",
        ),
    ];
    for (args, reason) in refusals {
        let (_, stderr, ok) = record(&workspace, args);
        assert!(!ok, "{args:?} refused");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(
            stderr.trim().lines().count() <= 2,
            "one short reason: {stderr}"
        );
        assert!(
            files_written(&workspace).is_empty(),
            "{args:?}: {:?}",
            files_written(&workspace)
        );
    }
}

#[test]
fn the_format_follows_the_name_and_dash_is_standard_output() {
    let workspace = seeded(&[date("2026-11-30")]);
    let group = GROUP.to_string();
    // .csv without --csv: the CSV files, no workbook named .csv.
    let (stdout, stderr, ok) = record(&workspace, &["--chat", &group, "--out", "r.csv"]);
    assert!(ok, "{stderr}");
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.contains("已写入 r-成员.csv"), "{stdout}");
    assert!(stdout.contains("学习小组（-1001500000001）"), "{stdout}");
    assert_eq!(
        files_written(&workspace),
        [
            "r-学习记录.csv",
            "r-成员.csv",
            "r-每周汇总.csv",
            "r-测验.csv"
        ]
    );
    let members = std::fs::read(workspace.dir.path().join("r-成员.csv")).unwrap();
    assert!(members.starts_with("\u{FEFF}成员,用户ID".as_bytes()));

    // -: the workbook on stdout, the summary on stderr, no file named "-".
    let (stdout, stderr, ok) = record(&workspace, &["--chat", &group, "--out", "-"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with(b"PK"), "a workbook on stdout");
    assert!(stderr.contains("标准输出"), "{stderr}");
    assert!(!workspace.dir.path().join("-").exists());
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(stdout)).unwrap();
    assert_eq!(workbook.worksheet_range("成员").unwrap().height(), 5);
}

#[test]
fn on_a_full_disk_the_earlier_export_is_untouched_and_the_cause_said_once() {
    let workspace = seeded(&[date("2026-11-30")]);
    let Some(disk) = TinyDisk::mount(&workspace.dir.path().join("disk"), "1m") else {
        return;
    };
    let group = GROUP.to_string();
    let workbook = disk.at.join("r.xlsx");
    let csv = disk.at.join("r.csv");
    let (workbook_arg, csv_arg) = (workbook.to_str().unwrap(), csv.to_str().unwrap());
    for out in [workbook_arg, csv_arg] {
        let (_, stderr, ok) = record(&workspace, &["--chat", &group, "--out", out]);
        assert!(ok, "{stderr}");
    }
    let before: Vec<(String, Vec<u8>)> = files_in(&disk.at);
    assert_eq!(before.len(), 5, "a workbook and four CSV files");
    disk.fill();

    // A year: more than what is left.
    for out in [workbook_arg, csv_arg] {
        let (_, stderr, ok) = record(
            &workspace,
            &[
                "--chat",
                &group,
                "--from",
                "2025-11-30",
                "--to",
                "2026-11-30",
                "--out",
                out,
            ],
        );
        assert!(!ok, "{out}: a failed write is a failure");
        assert!(
            stderr.contains("无法写入 ") && stderr.contains("磁盘空间不足"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("ZipWriter") && !stderr.contains("Os {"),
            "{stderr}"
        );
        assert_eq!(
            stderr.matches("磁盘空间不足").count(),
            1,
            "the cause once: {stderr}"
        );
        let after: Vec<(String, Vec<u8>)> = files_in(&disk.at)
            .into_iter()
            .filter(|(name, _)| name != "filler")
            .collect();
        assert_eq!(
            after, before,
            "{out}: the earlier files as they were, nothing else"
        );
    }
}

/// The files of `dir` (name and bytes), by name.
fn files_in(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
