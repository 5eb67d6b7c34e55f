//! What a user was told was saved stays saved: the real `studybot` binary killed right
//! after a confirmation, on a full disk, on a damaged database, through a group's
//! migration to a supergroup, and its backups (`export`, `import-state`).

use std::path::Path;
use std::time::Duration;

use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{Running, TinyDisk, Workspace, root};

use crate::STUDYBOT;
use crate::subscription::shanghai_subscription;

const WAIT: Duration = Duration::from_secs(20);

/// Sends `command`; the fake SIGKILLs the bot the moment a reply containing
/// `confirmation` reaches it. Returns once the process is gone.
async fn killed_after_confirmation(
    tg: &FakeTelegram,
    workspace: &Workspace,
    chat: &FakeChat,
    user: &FakeUser,
    command: &str,
    confirmation: &str,
) {
    let mut bot = STUDYBOT.started(tg, workspace).await;
    tg.kill_on_message(bot.child.id().expect("running"), confirmation);
    tg.send_text(chat, user, command);
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .unwrap_or_else(|_| panic!("{command}: no \"{confirmation}\" in time:\n{}", bot.log()))
        .unwrap();
    assert!(!status.success(), "{command}: killed, not exited");
    assert!(
        tg.sent_texts_to(chat.id)
            .last()
            .is_some_and(|text| text.contains(confirmation)),
        "{command}: {:?}",
        tg.sent_texts_to(chat.id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_confirmed_change_survives_a_sigkill_right_after_its_confirmation() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let ann = FakeUser::new(42, "Ann");
    let chat = FakeChat::private(&ann);
    let open = || Store::open(&workspace.db()).expect("the store opens after the crash");

    killed_after_confirmation(
        &tg,
        &workspace,
        &chat,
        &ann,
        "/subscribe 07:15",
        "已订阅每日学习",
    )
    .await;
    let subscription = open()
        .subscription(42)
        .unwrap()
        .expect("/subscribe was kept");
    assert!(subscription.active);
    assert_eq!(subscription.send_time.to_string(), "07:15:00");

    killed_after_confirmation(
        &tg,
        &workspace,
        &chat,
        &ann,
        "/settime 09:30",
        "发送时间已改为",
    )
    .await;
    assert_eq!(
        open()
            .subscription(42)
            .unwrap()
            .unwrap()
            .send_time
            .to_string(),
        "09:30:00",
        "/settime was kept"
    );

    killed_after_confirmation(
        &tg,
        &workspace,
        &chat,
        &ann,
        "/timezone Europe/Berlin",
        "时区已改为",
    )
    .await;
    assert_eq!(
        open().subscription(42).unwrap().unwrap().timezone,
        chrono_tz::Europe::Berlin,
        "/timezone was kept"
    );

    killed_after_confirmation(
        &tg,
        &workspace,
        &chat,
        &ann,
        "/dailyquiz on",
        "已开启每日一题",
    )
    .await;
    assert_eq!(
        open().daily_quiz_setting(42).unwrap(),
        Some(true),
        "/dailyquiz was kept"
    );

    killed_after_confirmation(
        &tg,
        &workspace,
        &chat,
        &ann,
        "/unsubscribe",
        "已退订每日学习",
    )
    .await;
    assert!(
        !open().subscription(42).unwrap().unwrap().active,
        "/unsubscribe was kept"
    );

    killed_after_confirmation(&tg, &workspace, &chat, &ann, "/quiz 2", "测验开始").await;
    assert!(open().quiz_session(42).unwrap().is_some(), "/quiz was kept");

    killed_after_confirmation(&tg, &workspace, &chat, &ann, "/stopquiz", "测验已提前结束").await;
    assert!(
        open().quiz_session(42).unwrap().is_none(),
        "/stopquiz was kept"
    );
}

/// A store the way a running bot leaves it: the texts, 20 subscriptions, flushed.
fn used_store(workspace: &Workspace) {
    let store = Store::open(&workspace.db()).unwrap();
    studybot::app::library::Library::load(&root().join("data"), &store).unwrap();
    let now = chrono::Utc::now();
    for chat_id in 1..=20 {
        store
            .subscribe(shanghai_subscription(-chat_id, now), None, now)
            .unwrap();
    }
    store.flush().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_refused_by_tick_and_run_not_started_empty() {
    let tg = FakeTelegram::start().await;
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 3] = [
        ("truncated to 100 bytes", |db| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(db)
                .unwrap()
                .set_len(100)
                .unwrap()
        }),
        ("truncated to 0 bytes", |db| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(db)
                .unwrap()
                .set_len(0)
                .unwrap()
        }),
        ("20 KB of garbage inside", |db| {
            use std::os::unix::fs::FileExt;
            let garbage: Vec<u8> = (0..20 * 1024_u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let file = std::fs::OpenOptions::new().write(true).open(db).unwrap();
            file.write_all_at(&garbage, 2048).unwrap();
        }),
    ];
    for (damage, apply) in damages {
        let workspace = Workspace::new("");
        used_store(&workspace);
        apply(&workspace.db().join("db"));
        for args in [&["tick"][..], &["run"]] {
            let _ = std::fs::remove_file(workspace.log());
            let mut bot = STUDYBOT.start(&workspace, &tg.api_url(), args);
            let status = tokio::time::timeout(WAIT, bot.child.wait())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{damage}: {args:?} started on a damaged store:\n{}",
                        bot.log()
                    )
                })
                .unwrap();
            let log = bot.log();
            assert!(!status.success(), "{damage}: {args:?} must refuse:\n{log}");
            let path = workspace.db().display().to_string();
            assert!(
                log.contains(&format!("the database at {path} is damaged"))
                    && log.contains("import-state")
                    && log.contains("studybot export"),
                "{damage}: {args:?} says what and what to do:\n{log}"
            );
        }
        assert!(
            tg.requests_for("sendMessage").is_empty(),
            "{damage}: nothing was sent"
        );
    }
    // A first start on a new path is fine.
    let workspace = Workspace::new("");
    let mut bot = STUDYBOT.start(&workspace, &tg.api_url(), &["tick"]);
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{}", bot.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_nothing_is_confirmed_that_is_not_saved() {
    let workspace = Workspace::new("");
    let Some(disk) = TinyDisk::mount(&workspace.dir.path().join("disk"), "4m") else {
        return;
    };
    let db = disk.at.join("db");
    let config = std::fs::read_to_string(workspace.config())
        .unwrap()
        .replace(
            &format!("\"{}\"", workspace.db().display()),
            &format!("\"{}\"", db.display()),
        );
    std::fs::write(workspace.config(), config).unwrap();
    let tg = FakeTelegram::start().await;
    let mut bot = STUDYBOT.started(&tg, &workspace).await;
    disk.fill();

    let users: Vec<FakeUser> = (1..=7).map(|id| FakeUser::new(id, "Ann")).collect();
    for user in &users {
        tg.send_text(&FakeChat::private(user), user, "/subscribe 07:15");
    }
    let answered = tg
        .wait_state(
            |tg| users.iter().all(|u| !tg.sent_texts_to(u.id).is_empty()),
            WAIT,
        )
        .await;
    assert!(answered, "every /subscribe is answered:\n{}", bot.log());
    let _ = bot.child.kill().await;
    let replies: Vec<(i64, String)> = users
        .iter()
        .map(|u| (u.id, tg.sent_texts_to(u.id).join("\n")))
        .collect();
    let refused = replies
        .iter()
        .filter(|(_, text)| text.contains("暂时无法保存设置，请稍后再试。"))
        .count();
    assert!(refused > 0, "the full disk refused something: {replies:?}");
    let log = bot.log();
    assert!(
        log.contains("No space left on device"),
        "the log says why:\n{log}"
    );

    disk.free();
    let store = Store::open(&db).expect("the store opens once there is room again");
    for (chat_id, text) in &replies {
        if text.contains("已订阅") {
            assert!(
                store
                    .subscription(*chat_id)
                    .unwrap()
                    .is_some_and(|s| s.active),
                "chat {chat_id} was told {text:?} but lost it"
            );
        }
    }
    drop(store);
    drop(disk);
}

#[test]
fn export_onto_a_symlink_writes_the_file_it_points_to() {
    let workspace = Workspace::new("");
    used_store(&workspace);
    let dir = workspace.dir.path();
    std::fs::create_dir(dir.join("backups")).unwrap();
    let target = dir.join("backups/latest.json");
    std::fs::write(&target, "old content").unwrap();
    let link = dir.join("backup.json");
    std::os::unix::fs::symlink("backups/latest.json", &link).unwrap();
    let config = workspace.config();
    let (stdout, stderr, ok) = STUDYBOT.run(
        &[
            "--config",
            config.to_str().unwrap(),
            "export",
            link.to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("latest.json"),
        "says where it wrote: {stdout}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    let backup = studybot::store::Backup::read(&target).expect("the target holds the backup");
    assert_eq!(backup.trees["subscriptions"].len(), 20);
    assert_eq!(
        std::fs::read_dir(dir.join("backups")).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn import_state_refuses_a_backup_with_a_bad_record_and_changes_nothing() {
    let source = Workspace::new("");
    used_store(&source);
    let config = |w: &Workspace| w.config().to_str().unwrap().to_string();
    let backup = source.dir.path().join("backup.json");
    let (out, err, ok) = STUDYBOT.run(
        &[
            "--config",
            &config(&source),
            "export",
            backup.to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(ok, "{out}{err}");
    let good = std::fs::read_to_string(&backup).unwrap();
    let first_chat = "\"chat_id\":-20,";
    assert!(good.contains(first_chat), "{good}");
    let bad_files = [
        (
            "a zone no command accepts",
            good.replacen("\"Asia/Shanghai\"", "\"Mars/Olympus\"", 1),
            "Mars/Olympus",
        ),
        (
            "a time no command accepts",
            good.replacen("\"08:00\"", "\"25:99\"", 1),
            "25:99",
        ),
        (
            "a record under another chat's key",
            good.replacen(first_chat, "\"chat_id\":-21,", 1),
            "filed under chat -20",
        ),
        (
            "no sections",
            {
                let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
                json["trees"].as_object_mut().unwrap().remove("sections");
                json.to_string()
            },
            "should have 21 sections, the backup has 0",
        ),
    ];
    // The target already holds a subscription of its own, which a refused import keeps.
    let target = Workspace::new("");
    {
        let store = Store::open(&target.db()).unwrap();
        let now = chrono::Utc::now();
        store
            .subscribe(shanghai_subscription(777, now), None, now)
            .unwrap();
        store.flush().unwrap();
    }
    for (what, text, named) in bad_files {
        let file = target.dir.path().join("bad.json");
        std::fs::write(&file, text).unwrap();
        let (out, err, ok) = STUDYBOT.run(
            &[
                "--config",
                &config(&target),
                "import-state",
                "--force",
                file.to_str().unwrap(),
            ],
            &[],
            "",
        );
        assert!(!ok, "{what}: refused:\n{out}");
        assert!(
            err.contains("is not valid") || err.contains("should have"),
            "{what}: names the entry:\n{err}"
        );
        assert!(err.contains(named), "{what}: says what is wrong:\n{err}");
        assert!(err.contains("nothing was imported"), "{what}:\n{err}");
        let store = Store::open(&target.db()).unwrap();
        assert!(
            store.subscription(777).unwrap().is_some(),
            "{what}: nothing changed"
        );
        assert!(
            store.subscription(-1).unwrap().is_none(),
            "{what}: nothing imported"
        );
    }
    // The good file still imports.
    let (out, err, ok) = STUDYBOT.run(
        &[
            "--config",
            &config(&target),
            "import-state",
            "--force",
            backup.to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(ok, "{out}{err}");
}

/// Every successful `sendPoll` to `chat_id`, as (request body, poll id).
fn polls_in(tg: &FakeTelegram, chat_id: i64) -> Vec<(serde_json::Value, String)> {
    tg.requests_for("sendPoll")
        .into_iter()
        .filter(|r| r.ok() && r.body["chat_id"].as_i64() == Some(chat_id))
        .map(|r| {
            let poll_id = tg
                .bot_messages(chat_id)
                .into_iter()
                .rev()
                .find(|m| m["poll"]["question"] == r.body["question"])
                .map(|m| m["poll"]["id"].as_str().unwrap().to_string())
                .unwrap_or_default();
            (r.body, poll_id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_becomes_a_supergroup_keeps_its_scores_settings_and_running_quiz() {
    let Running {
        tg,
        workspace: _workspace,
        bot,
    } = STUDYBOT
        .running(Workspace::with_sections("", "[quiz]\nopen_period = 5\n"))
        .await;
    let group = FakeChat::group(-600, "学习小组");
    let supergroup = FakeChat::supergroup(-1_000_000_000_600, "学习小组");
    let ann = FakeUser::new(601, "Ann");
    tg.set_admins(group.id, vec![ann.id]);
    tg.set_admins(supergroup.id, vec![ann.id]);
    tg.register_chat(&supergroup);
    let replies_in = |chat: i64, n: usize| {
        let tg = tg.clone();
        async move {
            tg.wait_until(|_| tg.sent_texts_to(chat).len() >= n, WAIT)
                .await
        }
    };

    for (n, command) in ["/subscribe 08:00", "/dailyquiz on"]
        .into_iter()
        .enumerate()
    {
        tg.send_text(&group, &ann, command);
        assert!(replies_in(group.id, n + 1).await, "{}", bot.log());
    }
    tg.send_text(&group, &ann, "/quiz 2");
    assert!(
        tg.wait_until(|_| polls_in(&tg, group.id).len() == 1, WAIT)
            .await,
        "{}",
        bot.log()
    );
    let (first, first_id) = polls_in(&tg, group.id)[0].clone();
    let correct = |poll: &serde_json::Value| poll["correct_option_id"].as_u64().unwrap();
    tg.answer_poll(&first_id, &ann, vec![correct(&first)]);
    assert!(tg.wait_updates_consumed(WAIT).await);

    // Telegram upgrades the group: a service message, and the old id is gone for good.
    tg.migrate(group.id, supergroup.id);
    tg.send_message_with(
        &group,
        &ann,
        serde_json::json!({"migrate_to_chat_id": supergroup.id}),
    );
    assert!(tg.wait_updates_consumed(WAIT).await);

    // The quiz goes on in the supergroup: its second question is asked there.
    assert!(
        tg.wait_until(|_| polls_in(&tg, supergroup.id).len() == 1, WAIT)
            .await,
        "the quiz goes on in the supergroup: {}",
        bot.log()
    );
    let (second, second_id) = polls_in(&tg, supergroup.id)[0].clone();
    tg.answer_poll(&second_id, &ann, vec![correct(&second)]);
    let results = |tg: &FakeTelegram| {
        tg.sent_texts_to(supergroup.id)
            .into_iter()
            .find(|t| t.contains("测验结束"))
    };
    assert!(
        tg.wait_until(|_| results(&tg).is_some(), WAIT).await,
        "results in the supergroup: {}",
        bot.log()
    );
    let results = results(&tg).unwrap();
    assert!(
        results.contains("1. Ann — 答对 2/2"),
        "both answers count, the one given in the group too: {results}"
    );

    let before = tg.sent_texts_to(supergroup.id).len();
    for command in ["/score", "/top", "/dailyquiz", "/status"] {
        tg.send_text(&supergroup, &ann, command);
    }
    assert!(replies_in(supergroup.id, before + 4).await, "{}", bot.log());
    let texts = tg.sent_texts_to(supergroup.id)[before..].to_vec();
    assert!(
        texts[0].contains("答题 2 道，答对 2 道"),
        "/score: {}",
        texts[0]
    );
    assert!(
        texts[1].contains("Ann") && texts[1].contains("2/2"),
        "/top: {}",
        texts[1]
    );
    assert!(
        texts[2].contains("每日一题现在是开启的"),
        "/dailyquiz: {}",
        texts[2]
    );
    assert!(texts[3].contains("已订阅"), "/status: {}", texts[3]);
    assert!(bot.terminate(WAIT).await.success());
}
