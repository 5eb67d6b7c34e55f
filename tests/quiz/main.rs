//! Quizzes in the real binary: `studybot console --temp-db` with piped input, and on
//! Telegram against the fake Bot API.
//!
//! The personal review (错题本) that missed questions feed is in [`review`].

#[path = "../common/on_time.rs"]
mod on_time;
#[path = "../common/subscription.rs"]
mod subscription;

mod review;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::Value;
use studybot::store::Store;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Studybot, Workspace};
use subscription::shanghai_subscription;

/// The binary under test (cargo names it only to this package's own tests).
const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));

#[test]
fn a_two_question_quiz_then_the_score() {
    let output = STUDYBOT.console("/quiz 2\n1\n2\n/score\n");
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
    let output = STUDYBOT.console("/quiz 0\n/quiz 3\nabc\n9\n/stopquiz\n/score\n/top\n");
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
    let output = STUDYBOT.console("/quiz 1\n/quiz 1\n1\n/quiz 1\n1\n/top\n");
    assert!(output.contains("这里已经有一场测验正在进行"), "{output}");
    assert_eq!(output.matches("测验结束！共 1 题。").count(), 2, "{output}");
    assert!(output.contains("1. console — 答对 "), "{output}");
    assert!(
        output.contains("/2（"),
        "two answers in the ranking: {output}"
    );
}

const QUIZ_CONFIG: &str = "[quiz]\nopen_period = 5\n";

fn polls(tg: &FakeTelegram) -> Vec<(Value, String)> {
    tg.requests_for("sendPoll")
        .into_iter()
        .filter(|r| r.ok())
        .map(|r| {
            let chat = r.body["chat_id"].as_i64().unwrap();
            let message = tg
                .bot_messages(chat)
                .into_iter()
                .rev()
                .find(|m| m["poll"]["question"] == r.body["question"]);
            let poll_id = message
                .map(|m| m["poll"]["id"].as_str().unwrap().to_string())
                .unwrap_or_default();
            (r.body, poll_id)
        })
        .collect()
}

/// The `n`-th poll sent (from 1), once it is out.
async fn nth_poll(tg: &FakeTelegram, n: usize, bot: &BotProcess) -> (Value, String) {
    assert!(
        tg.wait_for_requests("sendPoll", n, Duration::from_secs(30))
            .await,
        "no {n} polls: {}",
        bot.log()
    );
    polls(tg).swap_remove(n - 1)
}

fn correct(poll: &Value) -> u64 {
    poll["correct_option_id"].as_u64().unwrap()
}

fn wrong(poll: &Value) -> u64 {
    (correct(poll) + 1) % poll["options"].as_array().unwrap().len() as u64
}

const WAIT: Duration = Duration::from_secs(20);

/// Waits for the quiz results in `chat_id` and returns them.
async fn results_in(tg: &FakeTelegram, chat_id: i64, bot: &BotProcess) -> String {
    let finished = |tg: &FakeTelegram| {
        tg.sent_texts_to(chat_id)
            .into_iter()
            .find(|t| t.contains("测验结束"))
    };
    assert!(
        tg.wait_until(|_| finished(tg).is_some(), WAIT).await,
        "no results in {chat_id}: {}",
        bot.log()
    );
    finished(tg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_quiz_with_native_polls_scores_first_answers_only() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let group = FakeChat::group(-800, "学习小组");
    let (ann, bob, cat) = (
        FakeUser::new(801, "Ann"),
        FakeUser::new(802, "Bob"),
        FakeUser::new(803, "Cat"),
    );

    tg.send_text(&group, &ann, "/quiz 3");
    assert!(
        tg.wait_for_requests("sendPoll", 1, WAIT).await,
        "{}",
        bot.log()
    );
    tg.send_text(&group, &bob, "/quiz");
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(-800).len() >= 2, WAIT)
            .await
    );
    let texts = tg.sent_texts_to(-800);
    assert!(
        texts[0].contains("共 3 题") && texts[0].contains("对全群可见"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("已经有一场测验正在进行"),
        "second quiz refused: {}",
        texts[1]
    );

    let (first, first_id) = polls(&tg)[0].clone();
    tg.answer_poll(&first_id, &ann, vec![correct(&first)]);
    tg.answer_poll(&first_id, &bob, vec![wrong(&first)]);
    tg.answer_poll(&first_id, &bob, vec![correct(&first)]); // a second answer never counts
    assert!(
        tg.wait_for_requests("sendPoll", 2, WAIT).await,
        "{}",
        bot.log()
    );
    tg.answer_poll(&first_id, &cat, vec![correct(&first)]); // late: the question is closed

    let (second, second_id) = polls(&tg)[1].clone();
    tg.answer_poll(&second_id, &ann, vec![correct(&second)]);
    tg.answer_poll(&second_id, &bob, vec![correct(&second)]);
    let (third, third_id) = nth_poll(&tg, 3, &bot).await;
    tg.answer_poll(&third_id, &ann, vec![wrong(&third)]);
    let results = results_in(&tg, -800, &bot).await;

    for (poll, _) in polls(&tg) {
        assert_eq!(poll["type"], "quiz");
        assert_eq!(poll["is_anonymous"], false);
        assert_eq!(poll["open_period"], 5);
        assert!(poll["explanation"].as_str().unwrap().contains("/section"));
        assert!(poll["correct_option_id"].is_u64());
    }
    let ann_at = results.find("Ann").expect("Ann ranked");
    let bob_at = results.find("Bob").expect("Bob ranked");
    assert!(
        ann_at < bob_at,
        "Ann (2 right) ranks above Bob (1 right):\n{results}"
    );
    assert!(
        results.contains("答对 2/3") && results.contains("答对 1/3"),
        "{results}"
    );
    assert!(
        !results.contains("Cat"),
        "a late answer does not count:\n{results}"
    );

    tg.send_text(&group, &cat, "/top");
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(-800).len() >= 4, WAIT)
            .await
    );
    let top = tg.sent_texts_to(-800).pop().unwrap();
    assert!(
        top.find("Ann").unwrap() < top.find("Bob").unwrap()
            && !top.contains("Cat")
            && !top.contains('@'),
        "{top}"
    );
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

/// Issue 20, section 3: clients that allow revoting (Bot API 9.6+) send a `poll_answer`
/// with no options when a vote is retracted, and a new one when the user votes again; 10.x
/// answers may carry several options. Each user counts once, with the first choice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retracted_or_changed_vote_counts_once_with_the_first_choice() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let group = FakeChat::group(-820, "学习小组");
    let (ann, bob, cat) = (
        FakeUser::new(821, "Ann"),
        FakeUser::new(822, "Bob"),
        FakeUser::new(823, "Cat"),
    );
    tg.send_text(&group, &ann, "/quiz 1");
    let (poll, poll_id) = nth_poll(&tg, 1, &bot).await;

    // Ann: wrong, retracted, then right — the first choice (wrong) counts.
    tg.answer_poll(&poll_id, &ann, vec![wrong(&poll)]);
    tg.answer_poll(&poll_id, &ann, vec![]);
    tg.answer_poll(&poll_id, &ann, vec![correct(&poll)]);
    // Bob: right, retracted, right again — counted once.
    tg.answer_poll(&poll_id, &bob, vec![correct(&poll)]);
    tg.answer_poll(&poll_id, &bob, vec![]);
    tg.answer_poll(&poll_id, &bob, vec![correct(&poll)]);
    // Cat: one answer with two options, the right one first.
    tg.answer_poll(&poll_id, &cat, vec![correct(&poll), wrong(&poll)]);
    let results = results_in(&tg, -820, &bot).await;

    let line = |name: &str| {
        results
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("{name} ranked:\n{results}"))
            .to_string()
    };
    assert!(line("Ann").contains("答对 0/1"), "{results}");
    assert!(line("Bob").contains("答对 1/1"), "{results}");
    assert!(line("Cat").contains("答对 1/1"), "{results}");

    // The chat's standing agrees: nobody has two answers.
    tg.send_text(&group, &cat, "/top");
    assert!(
        tg.wait_until(|_| tg.sent_texts_to(-820).len() >= 3, WAIT)
            .await,
        "{}",
        bot.log()
    );
    let top = tg.sent_texts_to(-820).pop().unwrap();
    assert!(!top.contains("/2"), "an answer counted twice:\n{top}");
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_quiz_resumes_it_and_keeps_every_answer() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let ann = FakeUser::new(901, "Ann");
    let chat = FakeChat::private(&ann);
    tg.send_text(&chat, &ann, "/quiz 2");
    let (first, first_id) = nth_poll(&tg, 1, &bot).await;
    tg.answer_poll(&first_id, &ann, vec![correct(&first)]);
    assert!(tg.wait_updates_consumed(WAIT).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bot.terminate(Duration::from_secs(10)).await.success());

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    assert!(
        tg.wait_for_requests("sendPoll", 2, WAIT).await,
        "the quiz resumes: {}",
        bot.log()
    );
    let (second, second_id) = polls(&tg)[1].clone();
    tg.answer_poll(&second_id, &ann, vec![correct(&second)]);
    let results = results_in(&tg, 901, &bot).await;
    assert!(
        results.contains("答对 2/2"),
        "the answer from before the restart counts:\n{results}"
    );
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_overtakes_the_poll_record_still_counts() {
    let tg = FakeTelegram::start().await;
    // sendPoll's answer reaches the bot a second after the poll exists, so the user's
    // answer is in getUpdates before the bot has recorded its poll.
    tg.set_response_delay("sendPoll", Duration::from_secs(1));
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let ann = FakeUser::new(902, "Ann");
    tg.send_text(&FakeChat::private(&ann), &ann, "/quiz 1");
    let (poll, poll_id) = nth_poll(&tg, 1, &bot).await;
    tg.answer_poll(&poll_id, &ann, vec![correct(&poll)]);
    let results = results_in(&tg, 902, &bot).await;
    assert!(results.contains("Ann — 答对 1/1"), "{results}");
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_question_follows_the_excerpt_in_a_tick() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let now = Utc::now();
    let next_due = {
        let store = Store::open(&workspace.db()).unwrap();
        let mut subscription = shanghai_subscription(-950, now);
        subscription.position = 5; // 2.2 用真心化解急难愁盼
        let next_due = subscription.next_due;
        store.subscribe(subscription, None, now).unwrap();
        store.set_daily_quiz_setting(-950, true).unwrap();
        store.flush().unwrap();
        next_due
    };
    let mut tick = STUDYBOT.start(
        &workspace,
        &tg.api_url(),
        &[
            "tick",
            "--now",
            &(next_due + TimeDelta::seconds(30)).to_rfc3339(),
        ],
    );
    assert!(tick.child.wait().await.unwrap().success(), "{}", tick.log());
    let requests: Vec<String> = tg
        .requests()
        .into_iter()
        .filter(|r| r.body["chat_id"].as_i64() == Some(-950) && r.ok())
        .map(|r| r.method.to_lowercase())
        .collect();
    assert_eq!(
        requests,
        vec!["sendmessage", "sendpoll"],
        "excerpt, then the daily question"
    );
    let (poll, poll_id) = polls(&tg)[0].clone();
    assert_eq!(poll["type"], "quiz");
    assert!(
        poll["explanation"].as_str().unwrap().contains("/section 2"),
        "{poll}"
    );
    assert!(!poll_id.is_empty());
}

/// Issue 11, item 8: when Telegram keeps failing (5xx) to take the next question, the quiz
/// ends within seconds with a short reason, then the results so far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_poll_ends_the_quiz_with_a_reason_within_seconds() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let group = FakeChat::group(-850, "学习小组");
    let ann = FakeUser::new(851, "Ann");
    tg.fail_method("sendPoll", 1);
    tg.send_text(&group, &ann, "/quiz 3");
    let (first, first_id) = nth_poll(&tg, 1, &bot).await;
    tg.answer_poll(&first_id, &ann, vec![correct(&first)]);
    // The first question closes after its 5 s; the second one fails from then on.
    assert!(
        tg.wait_for_requests("sendPoll", 2, WAIT).await,
        "{}",
        bot.log()
    );
    let reason = |tg: &FakeTelegram| {
        tg.sent_texts_to(-850)
            .iter()
            .any(|t| t.contains("Telegram 暂时无法发送投票，已结束本次测验，成绩已保存"))
    };
    assert!(
        tg.wait_until(|_| reason(&tg), Duration::from_secs(30))
            .await,
        "the reason within seconds, not minutes: {}",
        bot.log()
    );
    assert!(
        tg.wait_until(
            |_| tg
                .sent_texts_to(-850)
                .iter()
                .any(|t| t.contains("测验已提前结束")),
            WAIT
        )
        .await,
        "then the results so far"
    );
    let results = tg.sent_texts_to(-850).pop().unwrap();
    assert!(
        results.contains("Ann") && results.contains("答对 1/1"),
        "{results}"
    );
    assert!(bot.terminate(Duration::from_secs(10)).await.success());
}

#[test]
fn a_text_too_small_for_a_quiz_is_named_by_its_own_title() {
    let workspace = Workspace::new("");
    let small = workspace.dir.path().join("小文本.txt");
    std::fs::write(
        &small,
        "关于读书的几点体会\n\n一、多读书\n\n读书使人明智。\n",
    )
    .unwrap();
    let config = workspace.config();
    let config = config.to_str().unwrap();
    let (stdout, stderr, ok) = STUDYBOT.run(
        &[
            "--config",
            config,
            "import",
            small.to_str().unwrap(),
            "--id",
            "small",
        ],
        &[],
        "",
    );
    assert!(ok, "the import succeeds:\n{stdout}\n{stderr}");
    let (output, stderr, ok) =
        STUDYBOT.run(&["--config", config, "console"], &[], "/use small\n/quiz\n");
    assert!(ok, "{output}\n{stderr}");
    let refusal = output
        .lines()
        .find(|line| line.contains("出不了测验题"))
        .unwrap_or_else(|| panic!("/quiz says it cannot: {output}"));
    assert!(
        refusal.contains("《关于读书的几点体会》"),
        "the chat's own text: {refusal}"
    );
}
