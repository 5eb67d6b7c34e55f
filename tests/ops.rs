//! Operating a running bot through the real binary and the fake Bot API: `studybot
//! import`, `record`, `export` and `status` reach it over the control socket (and only
//! from its own user, over a 0600 socket), `import-state` refuses it, an export taken
//! while members press ✅ is consistent, and a scheduled backup restores into a fresh
//! store tree for tree.

#[path = "common/subscription.rs"]
mod subscription;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::Value;
use studybot::store::{Backup, Store};

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Studybot, Workspace};
use subscription::shanghai_subscription;

const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));
const WAIT: Duration = Duration::from_secs(30);
const GROUP: i64 = -1_001_600_000_001;

const REPORT: &str = "2025年工作报告\n一、过去一年的工作\n去年经济平稳。\n（一）稳增长\n投资增长较快。\n（二）惠民生\n就业保持稳定。\n二、今年的主要任务\n今年要继续努力。\n（一）扩内需\n消费持续恢复。\n";

fn studybot(workspace: &Workspace, args: &[&str]) -> Output {
    Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(args)
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// 08:00:30 in Shanghai on `date`.
fn shanghai_morning(date: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&date.and_hms_opt(8, 0, 30).unwrap())
        .single()
        .unwrap()
        .to_utc()
}

/// Subscribes [`GROUP`], runs one `studybot tick` for this morning and returns today's
/// excerpt's message id and its ✅ button's data.
async fn todays_excerpt(tg: &FakeTelegram, workspace: &Workspace) -> (i64, String) {
    tg.register_chat(&FakeChat::supergroup(GROUP, "学习小组"));
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let morning = shanghai_morning(today);
    {
        let store = Store::open(&workspace.db()).unwrap();
        let subscription = shanghai_subscription(GROUP, morning - chrono::TimeDelta::hours(1));
        store
            .subscribe(subscription, None, morning - chrono::TimeDelta::hours(1))
            .unwrap();
        store.flush().unwrap();
    }
    let mut tick = STUDYBOT.start(
        workspace,
        &tg.api_url(),
        &["tick", "--now", &morning.to_rfc3339()],
    );
    let status = tokio::time::timeout(Duration::from_secs(120), tick.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", tick.log());
    let message = tg
        .bot_messages(GROUP)
        .into_iter()
        .find(|m| check_in_data(m).is_some())
        .expect("the excerpt has ✅");
    (
        message["message_id"].as_i64().unwrap(),
        check_in_data(&message).unwrap(),
    )
}

fn check_in_data(message: &Value) -> Option<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()?
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["callback_data"].as_str().map(str::to_string))
        .find(|data| data.starts_with("k:"))
}

/// Presses ✅ as user `user_id` and waits for the toast.
async fn press(tg: &FakeTelegram, message_id: i64, data: &str, user_id: i64) -> String {
    let group = FakeChat::supergroup(GROUP, "学习小组");
    let before = tg.requests_for("answerCallbackQuery").len();
    tg.press_button(
        &group,
        &FakeUser::new(user_id, &format!("成员{user_id}")),
        message_id,
        data,
    );
    assert!(
        tg.wait_for_requests("answerCallbackQuery", before + 1, WAIT)
            .await,
        "the press is answered"
    );
    tg.requests_for("answerCallbackQuery")
        .last()
        .map(|r| r.body["text"].as_str().unwrap_or_default().to_string())
        .unwrap()
}

/// Every sheet of a workbook as rows of strings.
fn sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook
        .worksheets()
        .into_iter()
        .map(|(name, range)| {
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Data::Empty => String::new(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// Every tree of the database at `path`: name → entries.
fn trees(path: &Path) -> BTreeMap<String, Vec<studybot::store::Entry>> {
    let store = Store::open(path).unwrap();
    let backend = store.backend();
    backend
        .tree_names()
        .unwrap()
        .into_iter()
        .map(|name| {
            let entries = backend.scan(&name, &[], None, usize::MAX).unwrap();
            (name, entries)
        })
        .filter(|(_, entries)| !entries.is_empty())
        .collect()
}

async fn stop(bot: BotProcess) {
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_record_and_status_reach_the_running_bot_and_import_state_refuses_it() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let (message_id, data) = todays_excerpt(&tg, &workspace).await;
    let bot = STUDYBOT.started(&tg, &workspace).await;
    for user in [501, 502, 503] {
        assert!(
            press(&tg, message_id, &data, user)
                .await
                .starts_with("已记录")
        );
    }

    // An import is served at once: a group can /use it without a restart.
    let report = workspace.dir.path().join("report.txt");
    std::fs::write(&report, REPORT).unwrap();
    let imported = studybot(&workspace, &["import", report.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stdout).contains("由运行中的机器人存入数据库"),
        "{}",
        text(&imported.stdout)
    );
    let admin = FakeUser::new(1, "admin");
    let group = FakeChat::supergroup(GROUP, "学习小组");
    tg.set_admins(GROUP, vec![admin.id]);
    let before = tg.bot_messages(GROUP).len();
    tg.send_text(&group, &admin, "/use report");
    assert!(
        tg.wait_state(|tg| tg.bot_messages(GROUP).len() > before, WAIT)
            .await
    );
    let switched = tg.bot_messages(GROUP)[before]["text"].to_string();
    assert!(switched.contains("本群现在学习"), "{switched}");

    // status: the running bot's figures.
    let status = studybot(&workspace, &["status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let shown = text(&status.stdout);
    assert!(shown.contains("机器人：运行中"), "{shown}");
    assert!(shown.contains("每日订阅：1"), "{shown}");
    assert!(shown.contains("学习打卡记录：3"), "{shown}");
    assert!(shown.contains("上次推送："), "{shown}");

    // import-state needs the bot stopped, and says so.
    let backup = workspace.dir.path().join("backup.json");
    let exported = studybot(&workspace, &["export", backup.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let refused = studybot(&workspace, &["import-state", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("必须先停止机器人"),
        "{}",
        text(&refused.stderr)
    );

    // The record from the running bot is the record from the stopped one.
    let running = workspace.dir.path().join("running.xlsx");
    let out = studybot(
        &workspace,
        &[
            "record",
            "--chat",
            &GROUP.to_string(),
            "--out",
            running.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = workspace.dir.path().join("running.csv");
    let out = studybot(
        &workspace,
        &[
            "record",
            "--chat",
            &GROUP.to_string(),
            "--csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    stop(bot).await;
    assert!(
        !studybot::control::socket_path(&workspace.db()).exists(),
        "the socket goes with the bot"
    );
    let stopped = workspace.dir.path().join("stopped.xlsx");
    let out = studybot(
        &workspace,
        &[
            "record",
            "--chat",
            &GROUP.to_string(),
            "--out",
            stopped.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (running, stopped) = (
        sheets(&std::fs::read(&running).unwrap()),
        sheets(&std::fs::read(&stopped).unwrap()),
    );
    assert_eq!(running, stopped);
    assert!(format!("{running:?}").contains("成员502"));
    let csv_files: Vec<_> = std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("running-") && name.ends_with(".csv"))
        .collect();
    assert!(csv_files.len() >= 2, "{csv_files:?}");
    let status = studybot(&workspace, &["status"]);
    assert!(
        text(&status.stdout).contains("未运行"),
        "{}",
        text(&status.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_bots_user_over_a_0600_socket_is_served() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let bot = STUDYBOT.started(&tg, &workspace).await;
    let socket = studybot::control::socket_path(&workspace.db());
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(studybot(&workspace, &["status"]).status.success());

    // A socket someone opened up is refused by the client and by the bot.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let refused = studybot(&workspace, &["status"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("不是 0600"),
        "{}",
        text(&refused.stderr)
    );
    {
        use std::io::{BufRead, BufReader, Write};
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        // The bot may refuse and close before the request is written (a broken pipe
        // then): its one line of refusal is still there to read.
        let _ = stream.write_all(b"{\"command\":\"status\"}\n");
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).unwrap();
        assert!(line.contains("refused") && line.contains("0600"), "{line}");
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(studybot(&workspace, &["status"]).status.success());

    // Another user: as root the client runs as nobody; otherwise there is no other uid.
    let root = std::fs::metadata(&socket).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if root.unwrap_or(false) {
        use std::os::unix::process::CommandExt;
        // nobody must be able to read the config and reach the socket's directory.
        for path in [workspace.dir.path(), &workspace.config()] {
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let other = Command::new(STUDYBOT.path())
            .arg("--config")
            .arg(workspace.config())
            .arg("status")
            .env_remove("STUDYBOT_DB")
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert!(!other.status.success(), "{}", text(&other.stdout));
        assert!(
            text(&other.stderr).contains("运行机器人的用户"),
            "{}",
            text(&other.stderr)
        );
    } else {
        eprintln!(
            "not root: the other-uid client is not run (the bot's peer check is unit-tested)"
        );
    }
    stop(bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_while_members_press_holds_each_press_whole_or_not_at_all() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::unlimited();
    let (message_id, data) = todays_excerpt(&tg, &workspace).await;
    {
        // Enough other records that the export takes a while.
        let store = Store::open(&workspace.db()).unwrap();
        for i in 0u32..60_000 {
            let mut key = (-5_i64).to_be_bytes().to_vec();
            key.extend(i.to_be_bytes());
            store
                .backend()
                .insert("group_misses", &key, &1u32.to_be_bytes())
                .unwrap();
        }
        store.flush().unwrap();
    }
    let bot = STUDYBOT.started(&tg, &workspace).await;
    assert!(
        press(&tg, message_id, &data, 1000)
            .await
            .starts_with("已记录")
    );

    let backup = workspace.dir.path().join("backup.json");
    let export = {
        let config = workspace.config();
        let backup = backup.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let output = Command::new(STUDYBOT.path())
                .arg("--config")
                .arg(config)
                .arg("export")
                .arg(backup)
                .output()
                .unwrap();
            (output, started, Instant::now())
        })
    };
    // Presses before, during and after the export: (user, answered at).
    let mut pressed = Vec::new();
    let mut user = 1001;
    while !export.is_finished() {
        let sent = Instant::now();
        assert!(
            press(&tg, message_id, &data, user)
                .await
                .starts_with("已记录")
        );
        pressed.push((user, sent, Instant::now()));
        user += 1;
    }
    let (output, started, ended) = export.join().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    for _ in 0..3 {
        let sent = Instant::now();
        assert!(
            press(&tg, message_id, &data, user)
                .await
                .starts_with("已记录")
        );
        pressed.push((user, sent, Instant::now()));
        user += 1;
    }
    stop(bot).await;

    let backup = Backup::read(&backup).unwrap();
    let tree = |name: &str| backup.trees.get(name).cloned().unwrap_or_default();
    let prefix = ((GROUP as u64) ^ (1 << 63)).to_be_bytes();
    let in_group = |key: &[u8]| key[..8] == prefix;
    let check_ins: Vec<u64> = tree("check_ins")
        .iter()
        .filter(|e| in_group(&e.key))
        .map(|e| u64::from_be_bytes(e.key[e.key.len() - 8..].try_into().unwrap()))
        .collect();
    let counted: u32 = tree("check_in_counts")
        .iter()
        .filter(|e| in_group(&e.key))
        .map(|e| u32::from_be_bytes(e.value[..4].try_into().unwrap()))
        .sum();
    let members: Vec<u64> = tree("members")
        .iter()
        .filter(|e| in_group(&e.key))
        .map(|e| u64::from_be_bytes(e.key[8..16].try_into().unwrap()))
        .collect();
    // Whole presses only: every check-in is counted and its member on the roster.
    assert_eq!(check_ins.len() as u32, counted, "check-ins {check_ins:?}");
    for user in &check_ins {
        assert!(
            members.contains(user),
            "{user} checked in but is not a member"
        );
    }
    // Answered before the export started: in it; sent after it ended: not.
    assert!(check_ins.contains(&1000));
    for (user, sent, answered) in &pressed {
        if *answered < started {
            assert!(
                check_ins.contains(&(*user as u64)),
                "{user} answered before"
            );
        }
        if *sent > ended {
            assert!(!check_ins.contains(&(*user as u64)), "{user} sent after");
        }
    }
    eprintln!(
        "{} presses during the export, {} of them in the backup",
        pressed.len() - 3,
        check_ins.len() - 1
    );
    assert_eq!(tree("group_misses").len(), 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_backup_restores_into_a_fresh_store_tree_for_tree() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections(
        "",
        "[backup]\nevery = \"1s\"\nkeep = 2\ndir = \"backups\"\n",
    );
    let (message_id, data) = todays_excerpt(&tg, &workspace).await;
    let bot = STUDYBOT.started(&tg, &workspace).await;
    assert!(
        press(&tg, message_id, &data, 77)
            .await
            .starts_with("已记录")
    );
    let dir = workspace.dir.path().join("backups");
    let backups = || studybot::app::ops::backups_in(&dir).unwrap_or_default();
    // Four backups written after the press (the first may be from the start).
    let log = workspace.log();
    let written = || {
        harness::read_log(&log)
            .matches("scheduled backup written")
            .count()
    };
    let after_press = written();
    let deadline = Instant::now() + WAIT;
    while written() < after_press + 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(written() >= after_press + 4, "{}", bot.log());
    stop(bot).await;
    let kept = backups();
    assert_eq!(kept.len(), 2, "keep = 2: {kept:?}");
    assert!(
        !std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")),
        "no temporary file is left"
    );
    let newest = kept.last().unwrap();
    let line = harness::read_log(&log);
    assert!(
        line.contains("bytes=") && line.contains("took_ms="),
        "logged with size and duration"
    );

    // verify-backup reads it through; a damaged copy fails.
    let verified = studybot(&workspace, &["verify-backup", newest.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let report = text(&verified.stdout);
    assert!(
        report.contains("完好") && report.contains("check_ins: 1"),
        "{report}"
    );
    let damaged = workspace.dir.path().join("damaged.json");
    let bytes = std::fs::read(newest).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let refused = studybot(&workspace, &["verify-backup", damaged.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("有误") && text(&refused.stderr).contains("damaged"),
        "{}",
        text(&refused.stderr)
    );

    // The drill: restore into a fresh store and compare every tree.
    let fresh = workspace.dir.path().join("fresh-db");
    let restored = Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(["import-state", newest.to_str().unwrap()])
        .env("STUDYBOT_DB", &fresh)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let (original, copy) = (trees(&workspace.db()), trees(&fresh));
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        copy.keys().collect::<Vec<_>>()
    );
    for (name, entries) in &original {
        assert_eq!(entries, &copy[name], "tree {name}");
    }
    assert!(original.contains_key("check_ins"));
}
