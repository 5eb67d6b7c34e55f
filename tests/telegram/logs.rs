//! Log output of the real binary: no colour codes where no terminal reads them, and
//! JSON lines for log collectors with `log_format = "json"`.

use std::time::Duration;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::Workspace;

use crate::STUDYBOT;

const WAIT: Duration = Duration::from_secs(20);

/// Runs the bot (stderr to a file, as under systemd or `2> log`), has it answer one
/// command, stops it, and returns everything it logged.
async fn logs_of_a_short_run(workspace: &Workspace) -> Vec<u8> {
    let tg = FakeTelegram::start().await;
    let bot = STUDYBOT.start(workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_for_requests("setMyCommands", 2, WAIT).await,
        "{}",
        bot.log()
    );
    let ann = FakeUser::new(1201, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/section 2.1");
    assert!(
        tg.wait_for_requests("sendMessage", 1, WAIT).await,
        "{}",
        bot.log()
    );
    assert!(bot.terminate(WAIT).await.success());
    std::fs::read(workspace.log()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_file_have_no_colour_codes() {
    let workspace = Workspace::new("");
    let log = logs_of_a_short_run(&workspace).await;
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("studybot is running"), "{text}");
    assert!(
        !log.contains(&0x1b),
        "an escape code in a log file:\n{text}"
    );

    // The same through a pipe (`studybot … 2>&1 | logger`).
    let info = std::path::Path::new("info");
    let (_, stderr, ok) =
        STUDYBOT.run(&["console", "--temp-db"], &[("RUST_LOG", info)], "/start\n");
    assert!(ok && stderr.contains("texts loaded"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "an escape code in a pipe:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_format_json_writes_one_json_object_per_line() {
    let workspace = Workspace::new("");
    let config = std::fs::read_to_string(workspace.config()).unwrap();
    std::fs::write(
        workspace.config(),
        format!("log_format = \"json\"\n{config}"),
    )
    .unwrap();
    let log = logs_of_a_short_run(&workspace).await;
    let text = String::from_utf8(log).unwrap();
    let mut messages = Vec::new();
    for line in text.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
        messages.push(
            entry["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert!(
        messages.iter().any(|m| m == "studybot is running"),
        "{messages:?}"
    );
}
