//! The daily excerpt end to end through the real binary: `studybot console --temp-db`
//! answers the subscription commands as a private chat would see them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `studybot console --temp-db` with `input` on stdin; returns stdout.
fn console(input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_studybot"))
        .args(["console", "--temp-db"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "studybot failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Asserts that `parts` occur in `text` in this order.
fn assert_in_order(text: &str, parts: &[&str]) {
    let mut from = 0;
    for part in parts {
        match text[from..].find(part) {
            Some(index) => from += index + part.len(),
            None => panic!("missing (in order) {part:?} after byte {from} in:\n{text}"),
        }
    }
}

#[test]
fn console_subscription_scenario() {
    let input = "/subscribe 8:00\n/status\n/plan\n/settime 25:00\n/timezone Mars/Olympus\n\
                 /timezone Europe/Berlin\n/today\n/unsubscribe\n/status\n";
    let stdout = console(input);
    assert_in_order(
        &stdout,
        &[
            // /subscribe 8:00
            "已订阅每日学习：每天 08:00（Asia/Shanghai）发送一节，共 21 节",
            "下次发送：",
            "下一节：开场",
            // /status
            "每日学习：已订阅",
            "发送时间：每天 08:00（Asia/Shanghai）",
            "下次发送：",
            "下一节：开场",
            "进度：0/21",
            "上次发送：还没有",
            "订阅人：console",
            // /plan
            "学习进度 0/21",
            "░░░░░░░░░░░░░░░░░░░░░",
            "下一节：开场",
            "之后：第一部分 铸牢政治之魂、1.1 以学立身筑牢忠诚根基（不完整）",
            // /settime 25:00
            "“25:00”超出范围",
            "例如：/settime 08:00",
            // /timezone Mars/Olympus
            "“Mars/Olympus”不是有效的时区名",
            "例如：/timezone Asia/Shanghai",
            // /timezone Europe/Berlin
            "时区已改为 Europe/Berlin，每天按当地时间 08:00 发送。",
            " 08:00（Europe/Berlin）",
            // /today
            "今日学习 · 开场",
            "同志们",
            "[本节全文] [提纲]",
            // /unsubscribe
            "已退订每日学习",
            "进度保留在 0/21",
            // /status
            "每日学习：已退订",
            "发送时间：每天 08:00（Europe/Berlin）",
            "订阅人：console",
        ],
    );
    assert!(!stdout.contains("暂时无法保存"), "{stdout}");
    // Unsubscribed: the last status has no next send.
    let last_status = &stdout[stdout.rfind("每日学习：已退订").unwrap()..];
    assert!(!last_status.contains("下次发送"), "{last_status}");
}
