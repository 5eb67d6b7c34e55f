//! Quizzes in the real binary: `studybot console --temp-db` with piped input.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the console on a fresh temporary database with `input` on stdin; returns stdout.
fn console(input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_studybot"))
        .args(["console", "--temp-db"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("input is written");
    let output = child.wait_with_output().expect("the binary finishes");
    let stdout = String::from_utf8(output.stdout).expect("output is UTF-8");
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn a_two_question_quiz_then_the_score() {
    let output = console("/quiz 2\n1\n2\n/score\n");
    assert!(output.contains("测验开始！共 2 题"), "{output}");
    assert!(
        !output.contains("全群可见"),
        "the console is a private chat: {output}"
    );
    let first = output.find("（1/2）").expect("the first question");
    let second = output.find("（2/2）").expect("the second question");
    assert!(first < second, "{output}");
    assert!(
        output[first..second].contains("\n1. ") && output[first..second].contains("\n2. "),
        "{output}"
    );
    let right = output.matches("✓ 答对了！").count();
    let wrong = output.matches("✗ 答错了。").count();
    assert_eq!(right + wrong, 2, "one verdict per answer: {output}");
    assert!(
        output.matches("见 /section ").count() >= 2,
        "explanations cite sections: {output}"
    );
    let results = output.find("测验结束！共 2 题。").expect("the results");
    assert!(results > second, "{output}");
    assert!(
        output.contains(&format!("1. console — 答对 {right}/2，用时 ")),
        "{output}"
    );
    let score = output.find("console 在这里的成绩").expect("the score");
    assert!(score > results, "{output}");
    assert!(
        output[score..].contains(&format!("答题 2 道，答对 {right} 道")),
        "{output}"
    );
    assert!(output[score..].contains("连续答题 1 天"), "{output}");
}

#[test]
fn bad_input_asks_again_and_stop_shows_results_so_far() {
    let output = console("/quiz 0\n/quiz 3\nabc\n9\n/stopquiz\n/score\n/top\n");
    assert!(
        output.contains("题数请写 1–10 之间的数字，例如：/quiz 5"),
        "{output}"
    );
    assert_eq!(
        output.matches("（发送 /stopquiz 结束测验）").count(),
        2,
        "abc and 9 are re-asked: {output}"
    );
    assert!(
        output.contains("测验已提前结束：共出 1 题（原定 3 题）"),
        "{output}"
    );
    assert!(output.contains("这次没有人作答"), "{output}");
    assert!(
        !output.contains("（2/3）"),
        "no question after the stop: {output}"
    );
    assert!(output.contains("你在这里还没有答过题"), "{output}");
    assert!(output.contains("这里还没有人答过题"), "{output}");
}

#[test]
fn a_second_quiz_waits_for_the_first() {
    let output = console("/quiz 1\n/quiz 1\n1\n/quiz 1\n1\n/top\n");
    assert!(output.contains("这里已经有一场测验正在进行"), "{output}");
    assert_eq!(output.matches("测验结束！共 1 题。").count(), 2, "{output}");
    assert!(output.contains("1. console — 答对 "), "{output}");
    assert!(
        output.contains("/2（"),
        "two answers in the ranking: {output}"
    );
}
