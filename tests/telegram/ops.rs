//! The operator's side of a running bot (issue 23): `/metrics`, `/healthz` and the token
//! read from a systemd credential.

use std::time::Duration;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser, FaultKind};
use harness::{TOKEN, TinyDisk, Workspace, connect_when_listening, free_port};
use studybot::store::Store;

use crate::{STUDYBOT, WAIT};

fn metrics_workspace(port: u16, sections: &str) -> Workspace {
    Workspace::with_sections(
        "",
        &format!("{sections}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
}

/// `/healthz` once the bot is polling: `started` returns when the bot has set its
/// commands, a moment before its polling loop begins (until then it is rightly 503).
async fn healthy_soon(port: u16) -> (u16, String) {
    let mut answer = get(port, "/healthz").await;
    for _ in 0..100 {
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = get(port, "/healthz").await;
    }
    answer
}

/// GETs `path` on 127.0.0.1:`port`: (status code, body). Retries the connection while
/// the server starts.
async fn get(port: u16, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = connect_when_listening(("127.0.0.1", port), Duration::from_secs(10))
        .await
        .expect("the metrics listener accepts connections");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of the series `name` (with its labels exactly as rendered, e.g.
/// `studybot_sends_total{method="SendPoll",outcome="ok"}`); 0 when absent.
fn series(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == name).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// The polls sent so far, with their ids.
fn polls(tg: &FakeTelegram, chat: i64) -> Vec<(serde_json::Value, String)> {
    tg.bot_messages(chat)
        .into_iter()
        .filter(|m| m.get("poll").is_some())
        .map(|m| {
            let id = m["poll"]["id"].as_str().unwrap().to_string();
            (m["poll"].clone(), id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_delivery_pass_and_a_quiz_by_the_right_amounts() {
    let port = free_port();
    let workspace = metrics_workspace(port, "[quiz]\nopen_period = 5\n");
    // One private chat whose excerpt came due five minutes before the bot starts (late,
    // within the grace window): the first delivery pass sends it.
    let now = chrono::Utc::now();
    {
        let store = Store::open(&workspace.db()).unwrap();
        // Due at the last whole minute that is at least five minutes past, in UTC.
        let due = now - chrono::TimeDelta::minutes(5);
        let send_time = chrono::NaiveTime::from_hms_opt(
            chrono::Timelike::hour(&due),
            chrono::Timelike::minute(&due),
            0,
        )
        .unwrap();
        let subscription = studybot::schedule::Subscription::new(
            700,
            "xzsj",
            send_time,
            chrono_tz::UTC,
            studybot::schedule::Subscriber {
                user_id: 1,
                name: "admin".into(),
            },
            due - chrono::TimeDelta::days(1),
        );
        assert!(subscription.next_due <= due);
        store.subscribe(subscription, None, now).unwrap();
        store.flush().unwrap();
    }
    let tg = FakeTelegram::start().await;
    let bot = STUDYBOT.started(&tg, &workspace).await;
    assert!(
        tg.wait_state(|tg| !tg.sent_texts_to(700).is_empty(), WAIT)
            .await,
        "the excerpt is delivered: {}",
        bot.log()
    );

    let ann = FakeUser::new(901, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/quiz 2");
    for n in 1..=2 {
        assert!(
            tg.wait_state(|tg| polls(tg, 901).len() >= n, WAIT).await,
            "poll {n}: {}",
            bot.log()
        );
        let (poll, id) = polls(&tg, 901).swap_remove(n - 1);
        let correct = poll["correct_option_id"].as_u64().unwrap();
        tg.answer_poll(&id, &ann, vec![correct]);
    }
    assert!(
        tg.wait_state(
            |tg| tg.sent_texts_to(901).iter().any(|t| t.contains("2/2")),
            WAIT
        )
        .await,
        "the quiz ends: {}",
        bot.log()
    );
    let polls_sent = tg
        .requests_for("sendPoll")
        .iter()
        .filter(|r| r.ok())
        .count();

    let (status, metrics) = get(port, "/metrics").await;
    assert_eq!(status, 200, "{metrics}");
    let value = |name: &str| series(&metrics, name);
    assert_eq!(value("studybot_deliveries_due_total"), 1.0, "{metrics}");
    assert_eq!(value("studybot_deliveries_sent_total"), 1.0, "{metrics}");
    assert_eq!(value("studybot_deliveries_late_total"), 1.0, "{metrics}");
    assert_eq!(value("studybot_deliveries_missed_total"), 0.0, "{metrics}");
    assert_eq!(
        value("studybot_updates_received_total{kind=\"message\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        value("studybot_updates_received_total{kind=\"poll_answer\"}"),
        2.0,
        "{metrics}"
    );
    assert_eq!(
        value("studybot_updates_answered_total{kind=\"message\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        value("studybot_sends_total{method=\"SendPoll\",outcome=\"ok\"}"),
        polls_sent as f64,
        "{metrics}"
    );
    assert_eq!(polls_sent, 2);
    assert_eq!(
        value("studybot_send_seconds_count{method=\"SendPoll\"}"),
        2.0,
        "{metrics}"
    );
    assert!(
        value("studybot_store_flush_seconds_count") >= 3.0,
        "{metrics}"
    );
    assert_eq!(
        value(&format!(
            "studybot_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0,
        "{metrics}"
    );
    assert!(metrics.contains("studybot_reply_lanes "), "{metrics}");
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_while_get_updates_fails_and_200_again_once_updates_arrive() {
    let port = free_port();
    let workspace = metrics_workspace(port, "");
    let tg = FakeTelegram::start().await;
    let bot = STUDYBOT.started(&tg, &workspace).await;
    assert_eq!(healthy_soon(port).await, (200, "ok\n".to_string()));

    tg.set_fault_kinds(&[FaultKind::Drop]);
    tg.set_fault_get_updates(true);
    tg.set_fault_rate(1.0);
    let mut unhealthy = (0, String::new());
    for _ in 0..100 {
        unhealthy = get(port, "/healthz").await;
        if unhealthy.0 != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(unhealthy.0, 503, "{}", bot.log());
    assert!(
        unhealthy.1.contains("getUpdates failed"),
        "the reason is given: {}",
        unhealthy.1
    );

    tg.set_fault_rate(0.0);
    let ann = FakeUser::new(12, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/outline");
    let mut healthy = (0, String::new());
    for _ in 0..150 {
        healthy = get(port, "/healthz").await;
        if healthy.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(healthy, (200, "ok\n".to_string()), "{}", bot.log());
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_read_from_the_systemd_credential_when_the_variable_is_unset() {
    let workspace = Workspace::new("");
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(
        credentials.path().join("telegram-token"),
        format!("{TOKEN}\n"),
    )
    .unwrap();
    let tg = FakeTelegram::start().await;
    let bot = STUDYBOT.start_with_env(
        &workspace,
        &tg.api_url(),
        &["run"],
        &[
            ("TELOXIDE_TOKEN", ""),
            (
                "CREDENTIALS_DIRECTORY",
                credentials.path().to_str().unwrap(),
            ),
        ],
    );
    assert!(
        tg.wait_for_requests("setMyCommands", 2, WAIT).await,
        "the bot starts with the credential's token: {}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_when_the_store_cannot_write() {
    let port = free_port();
    let workspace = metrics_workspace(port, "");
    // The database on a 4 MB tmpfs (root only: skipped elsewhere, like the full-disk test
    // in tests/backup).
    let Some(tiny) = TinyDisk::mount(&workspace.dir.path().join("disk"), "4m") else {
        return;
    };
    let disk = tiny.at.clone();
    let config = std::fs::read_to_string(workspace.config())
        .unwrap()
        .replace(
            &format!("\"{}\"", workspace.db().display()),
            &format!("\"{}\"", disk.join("db").display()),
        );
    std::fs::write(workspace.config(), config).unwrap();
    let tg = FakeTelegram::start().await;
    let bot = STUDYBOT.started(&tg, &workspace).await;
    assert_eq!(healthy_soon(port).await, (200, "ok\n".to_string()));

    tiny.fill();
    // Each check is a real write: once sled's log needs a page the disk has not got, it fails.
    let mut unhealthy = (0, String::new());
    for _ in 0..200 {
        unhealthy = get(port, "/healthz").await;
        if unhealthy.0 != 200 {
            break;
        }
    }
    assert_eq!(unhealthy.0, 503, "{}", bot.log());
    assert!(
        unhealthy.1.contains("the store cannot write"),
        "the reason is given: {}",
        unhealthy.1
    );
    drop(bot);
}

/// `export`, `import-state` and `record` of a store with a few hundred entries: piped,
/// stdout is the one summary line and stderr stays empty (no bar, no control codes); on
/// a terminal (`script` gives the command one) a progress bar is drawn and cleared.
#[test]
fn long_commands_show_a_progress_bar_on_a_terminal_and_nothing_extra_when_piped() {
    let workspace = Workspace::new("");
    let now = chrono::Utc::now();
    {
        let store = Store::open(&workspace.db()).unwrap();
        for chat in 1..=300 {
            let subscription = studybot::schedule::Subscription::new(
                -chat,
                "xzsj",
                chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                chrono_tz::Asia::Shanghai,
                studybot::schedule::Subscriber {
                    user_id: 1,
                    name: "admin".into(),
                },
                now,
            );
            store.subscribe(subscription, None, now).unwrap();
        }
        // One check-in, so that `record` has something to write (an empty record is refused).
        let today = studybot::schedule::local_date(now, chrono_tz::Asia::Shanghai);
        store
            .check_in(&studybot::record::CheckIn {
                chat_id: -1,
                user_id: 7,
                name: "成员".into(),
                document: "xzsj".into(),
                section: studybot::text::SectionId::point(1, 1),
                date: today,
                done_on: today,
                at: now,
            })
            .unwrap();
        store.flush().unwrap();
    }
    let config = workspace.config();
    let config = config.to_str().unwrap();
    let backup = workspace.dir.path().join("backup.json");
    let backup_arg = backup.to_str().unwrap();

    let (stdout, stderr, ok) = STUDYBOT.run(&["--config", config, "export", backup_arg], &[], "");
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("exported "), "{stdout}");

    let record = workspace.dir.path().join("record.xlsx");
    let (stdout, stderr, ok) = STUDYBOT.run(
        &[
            "--config",
            config,
            "record",
            "--chat",
            "-1",
            "--out",
            record.to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    assert!(
        stdout.starts_with(&format!("已写入 {}\n", record.display())),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().count(),
        2,
        "the file and the summary: {stdout}"
    );

    let restored = Workspace::new("");
    let restored_config = restored.config();
    let (stdout, stderr, ok) = STUDYBOT.run(
        &[
            "--config",
            restored_config.to_str().unwrap(),
            "import-state",
            backup_arg,
        ],
        &[],
        "",
    );
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("imported "), "{stdout}");

    // On a terminal: `script` runs the command on a pseudo-terminal.
    let again = workspace.dir.path().join("again.json");
    let command = format!(
        "{} --config {config} export {}",
        STUDYBOT.path().display(),
        again.display()
    );
    let Ok(output) = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
    else {
        eprintln!("SKIPPED: no `script` to run the command on a terminal");
        return;
    };
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("exporting"), "a bar is drawn: {shown:?}");
    assert!(shown.contains("\u{1b}[2K"), "and cleared: {shown:?}");
    assert!(shown.contains("exported "), "{shown:?}");
}
