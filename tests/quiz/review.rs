//! The personal review (错题本) in the real binary: a question missed in a group quiz
//! comes back in the member's private `/review`, on FSRS's schedule; `/mistakes`;
//! the reminder and the weekly test through `studybot tick --now`; a group on an
//! imported text; the console.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use studybot::quiz::QuestionBank;
use studybot::review::{Card, Reviewer};
use studybot::store::Store;
use studybot::text::SectionId;

use fake_telegram::{FakeChat, FakeTelegram, FakeUser};
use harness::{BotProcess, Workspace};

use crate::on_time::assert_on_time;
use crate::{STUDYBOT, correct, nth_poll, polls, shanghai_subscription, wrong};

const QUIZ_CONFIG: &str = "[quiz]\nopen_period = 5\n";
const WAIT: Duration = Duration::from_secs(30);
const TEXT: &str = "xzsj";

/// The question without its `（1/3）` number.
fn unnumbered(poll: &Value) -> String {
    let question = poll["question"].as_str().unwrap();
    match question.split_once('）') {
        Some((number, rest)) if number.starts_with('（') => rest.to_string(),
        _ => question.to_string(),
    }
}

async fn wait_text(tg: &FakeTelegram, chat_id: i64, needle: &str, count: usize, bot: &BotProcess) {
    let found = |tg: &FakeTelegram| {
        tg.sent_texts_to(chat_id)
            .iter()
            .filter(|t| t.contains(needle))
            .count()
            >= count
    };
    assert!(
        tg.wait_until(|_| found(tg), WAIT).await,
        "no {count}× “{needle}” in {chat_id}: {:?}\n{}",
        tg.sent_texts_to(chat_id),
        bot.log()
    );
}

/// Ann's only card, read from the store after the bot stopped.
fn the_card(workspace: &Workspace, user: u64) -> (u64, Card) {
    let store = Store::open(&workspace.db()).unwrap();
    let mut cards = store.review_cards(user, TEXT).unwrap();
    assert_eq!(cards.len(), 1, "{cards:?}");
    cards.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_group_question_comes_back_in_private_review() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let group = FakeChat::group(-800, "学习小组");
    let ann = FakeUser::new(801, "Ann");
    let private = FakeChat::private(&ann);

    // A group quiz: Ann misses its question.
    tg.send_text(&group, &ann, "/quiz 1");
    let (missed, missed_id) = nth_poll(&tg, 1, &bot).await;
    tg.answer_poll(&missed_id, &ann, vec![wrong(&missed)]);
    wait_text(&tg, -800, "测验结束", 1, &bot).await;

    // In the group, /review points to the private chat with a button.
    tg.send_text(&group, &ann, "/review");
    wait_text(&tg, -800, "私聊", 1, &bot).await;
    let invitation = tg.sent_messages_to(-800).pop().unwrap();
    let url = invitation["reply_markup"]["inline_keyboard"][0][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.ends_with("?start=review"), "{invitation}");
    assert!(
        invitation["text"].as_str().unwrap().contains("Start"),
        "says to start the bot privately: {invitation}"
    );

    // The button's deep link (/start review) starts the review: the missed question.
    tg.send_text(&private, &ann, "/start review");
    wait_text(&tg, 801, "开始复习错题：1 道", 1, &bot).await;
    let (card, card_id) = nth_poll(&tg, 2, &bot).await;
    assert_eq!(card["chat_id"], 801);
    assert_eq!(card["is_anonymous"], false);
    assert_eq!(card["type"], "quiz");
    assert_eq!(unnumbered(&card), unnumbered(&missed));
    let answered_at = Utc::now();
    tg.answer_poll(&card_id, &ann, vec![correct(&card)]);
    wait_text(&tg, 801, "✓ 答对了", 1, &bot).await;
    wait_text(&tg, 801, "本次复习结束：1 道答对 1 道", 1, &bot).await;

    // /mistakes lists it: section, times missed, next due.
    tg.send_text(&private, &ann, "/mistakes");
    wait_text(&tg, 801, "我的错题本（1 道）", 1, &bot).await;
    let list = tg.sent_texts_to(801).pop().unwrap();
    let start: String = unnumbered(&missed).chars().take(20).collect();
    assert!(list.contains(&start), "{list}");
    assert!(
        list.contains("答错 1 次") && list.contains("下次复习"),
        "{list}"
    );
    // Nothing else is due now.
    tg.send_text(&private, &ann, "/review");
    wait_text(&tg, 801, "现在没有到期的错题", 1, &bot).await;
    assert!(bot.terminate(Duration::from_secs(15)).await.success());

    // The right answer moved it days ahead.
    let (id, mut stored) = the_card(&workspace, 801);
    assert_eq!(stored.missed, 1);
    assert!(
        stored.due() >= answered_at + TimeDelta::hours(20),
        "due {} after an answer at {answered_at}",
        stored.due()
    );

    // Days pass (the card's clock is moved back instead of the bot's forward).
    let shift = stored.due() - Utc::now() + TimeDelta::minutes(1);
    stored.fsrs.due -= shift;
    stored.fsrs.last_review -= shift;
    {
        let store = Store::open(&workspace.db()).unwrap();
        store
            .update_review_card(801, TEXT, id, |_| Some(stored.clone()))
            .unwrap();
        store.flush().unwrap();
    }
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    tg.send_text(&private, &ann, "/review 5");
    wait_text(&tg, 801, "开始复习错题：1 道", 2, &bot).await;
    let (again, again_id) = nth_poll(&tg, 3, &bot).await;
    assert_eq!(unnumbered(&again), unnumbered(&missed));
    let missed_at = Utc::now();
    tg.answer_poll(&again_id, &ann, vec![wrong(&again)]);
    wait_text(&tg, 801, "✗ 答错了", 1, &bot).await;
    wait_text(&tg, 801, "本次复习结束", 2, &bot).await;
    assert!(bot.terminate(Duration::from_secs(15)).await.success());

    // A second miss brings it back the same day.
    let (_, stored) = the_card(&workspace, 801);
    assert_eq!(stored.missed, 2);
    assert!(
        stored.due() < missed_at + TimeDelta::hours(1),
        "due {} after a miss at {missed_at}",
        stored.due()
    );
}

/// Runs `studybot tick --now <now>` against the fake.
async fn tick(workspace: &Workspace, api_url: &str, now: DateTime<Utc>) {
    let mut bot = STUDYBOT.start(workspace, api_url, &["tick", "--now", &now.to_rfc3339()]);
    let status = tokio::time::timeout(Duration::from_secs(60), bot.child.wait())
        .await
        .expect("tick ends")
        .unwrap();
    assert!(status.success(), "tick failed:\n{}", bot.log());
}

/// Issue 12: a reminder set through the running bot for a time seconds away arrives on
/// time. `/remind` wakes the delivery task, which then sleeps until the reminder's
/// instant; without either, the idle task sleeps its 10-minute safety interval and
/// this test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_set_seconds_ahead_arrives_on_time_from_the_running_bot() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let user = FakeUser::new(711, "Reader");
    let chat = FakeChat::private(&user);
    tg.register_chat(&chat);
    {
        // A question missed yesterday: its card is due, so the reminder has a reason.
        let store = Store::open(&workspace.db()).unwrap();
        let yesterday = Utc::now() - TimeDelta::days(1);
        let card = studybot::review::record(None, SectionId::point(2, 2), false, yesterday);
        store
            .update_review_card(711, TEXT, 42, |_| card.clone())
            .unwrap();
        store.flush().unwrap();
    }
    let bot = STUDYBOT.started(&tg, &workspace).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The next whole minute at least 5 s from now in Asia/Shanghai: 5 to 65 s ahead.
    let zone = chrono_tz::Asia::Shanghai;
    let soon = (Utc::now() + TimeDelta::seconds(5)).with_timezone(&zone);
    let minute = soon
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap()
        + TimeDelta::minutes(1);
    let due = minute.with_timezone(&Utc);
    let at = format!("{:02}:{:02}", minute.hour(), minute.minute());
    tg.send_text(&chat, &user, &format!("/remind {at} Asia/Shanghai"));
    let reminded = |tg: &FakeTelegram| {
        tg.requests_for("sendMessage").into_iter().find(|r| {
            r.ok()
                && r.body["chat_id"].as_i64() == Some(711)
                && r.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("复习提醒"))
        })
    };
    let wait = (due - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(30);
    assert!(
        tg.wait_state(|tg| reminded(tg).is_some(), wait).await,
        "the running bot sends the reminder set for {at}:\n{}",
        bot.log()
    );
    let arrived = reminded(&tg).unwrap().at;
    assert_on_time("the reminder", arrived, due, &bot.log());
    assert!(bot.terminate(WAIT).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_arrives_once_at_its_time_and_only_when_cards_are_due() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    // 20:00 in Shanghai on 2026-12-01 is 12:00 UTC.
    let reminder_time = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    {
        let store = Store::open(&workspace.db()).unwrap();
        let at_eight = Reviewer {
            remind_at: NaiveTime::from_hms_opt(20, 0, 0),
            zone: Some("Asia/Shanghai".into()),
            ..Reviewer::default()
        };
        // 701 missed a question the day before; 702's card is due only next week;
        // 703 has no card at all.
        let yesterday = reminder_time - TimeDelta::days(1);
        let due = studybot::review::record(None, SectionId::point(2, 2), false, yesterday);
        let mut later = due.clone().unwrap();
        later.fsrs.due = reminder_time + TimeDelta::days(7);
        later.fsrs.state = rs_fsrs::State::Review;
        for (user, card) in [(701, due), (702, Some(later)), (703, None)] {
            store
                .update_reviewer(user, |r| *r = at_eight.clone())
                .unwrap();
            if let Some(card) = card {
                store
                    .update_review_card(user, TEXT, 42, |_| Some(card.clone()))
                    .unwrap();
            }
        }
        store.flush().unwrap();
    }
    let reminders = |tg: &FakeTelegram, user: i64| {
        tg.sent_texts_to(user)
            .iter()
            .filter(|t| t.contains("复习提醒"))
            .count()
    };
    tick(
        &workspace,
        &tg.api_url(),
        reminder_time - TimeDelta::minutes(1),
    )
    .await;
    assert_eq!(reminders(&tg, 701), 0, "not before its time");
    tick(
        &workspace,
        &tg.api_url(),
        reminder_time + TimeDelta::seconds(30),
    )
    .await;
    assert_eq!(reminders(&tg, 701), 1, "at its time");
    tick(
        &workspace,
        &tg.api_url(),
        reminder_time + TimeDelta::minutes(3),
    )
    .await;
    assert_eq!(reminders(&tg, 701), 1, "once");
    assert_eq!(reminders(&tg, 702), 0, "no card due");
    assert_eq!(reminders(&tg, 703), 0, "no card");
    let text = tg.sent_texts_to(701).pop().unwrap();
    assert!(
        text.contains("1 道错题到期") && text.contains("/review"),
        "{text}"
    );
}

#[test]
fn the_console_reviews_with_the_console_user() {
    // Ten answers of "1": some are wrong (options are shuffled), so the deck fills.
    let output = STUDYBOT.console(&format!(
        "/quiz 10\n{}/mistakes\n/review 1\n1\n/review abc\n/remind 25:00\n",
        "1\n".repeat(10)
    ));
    assert!(output.contains("我的错题本（"), "{output}");
    assert!(output.contains("开始复习错题：1 道"), "{output}");
    let card = output.find("开始复习错题").unwrap();
    assert!(output[card..].contains("（1/1）"), "{output}");
    assert!(
        output[card..].contains("✓ 答对了！这道题下次复习")
            || output[card..].contains("✗ 答错了，正确答案是"),
        "{output}"
    );
    assert!(output.contains("本次复习结束：1 道"), "{output}");
    assert!(
        output.contains("复习题数请写 1–20 之间的数字，例如：/review 5"),
        "{output}"
    );
    assert!(output.contains("不是有效的时间"), "{output}");
}

#[test]
fn in_the_console_a_review_during_a_quiz_takes_the_answer_then_the_quiz_resumes() {
    // The deck fills as above; then a quiz question waits when /review prints a card.
    let output = STUDYBOT.console(&format!(
        "/quiz 10\n{}/quiz 2\n/review 1\n1\n1\n1\n",
        "1\n".repeat(10)
    ));
    let quiz = output.rfind("测验开始！共 2 题").expect("second quiz");
    let question = output[quiz..]
        .lines()
        .find(|line| line.starts_with("（1/2）"))
        .expect("first question")
        .to_string();
    let card = output.rfind("开始复习错题：1 道").expect("review");
    let after = &output[card..];
    // The answer right after the card goes to the card …
    let verdict = after
        .find("这道题下次复习")
        .or_else(|| after.find("✗ 答错了，正确答案是"))
        .expect("the card's verdict");
    let end = after.find("本次复习结束").expect("review ends");
    assert!(verdict < end, "{output}");
    // … then the quiz question waiting since before is printed again and answered.
    assert_eq!(
        after[end..].matches(question.as_str()).count(),
        1,
        "{output}"
    );
    assert!(after[end..].contains("（2/2）"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_test_arrives_once_with_questions_from_the_weeks_sections() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::new("");
    let shanghai = |d, h, m| {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 12, d, h, m, 30)
            .unwrap()
            .with_timezone(&Utc)
    };
    // Monday 2026-11-30, 07:00 in Shanghai: the group subscribes and sets
    // its weekly test for Sunday 20:00.
    let monday = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 30, 7, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    {
        let store = Store::open(&workspace.db()).unwrap();
        let subscription = shanghai_subscription(-900, monday);
        store.subscribe(subscription, None, monday).unwrap();
        let test = studybot::review::weekly::WeeklyTest {
            weekday: 6,
            time: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            zone: "Asia/Shanghai".into(),
            topic: None,
        };
        store.set_weekly_test(-900, Some(&test)).unwrap();
        store.flush().unwrap();
    }
    let monday_eight = monday + TimeDelta::hours(1) + TimeDelta::seconds(30);
    tick(&workspace, &tg.api_url(), monday_eight).await;
    tick(&workspace, &tg.api_url(), monday_eight + TimeDelta::days(1)).await;
    let excerpts = tg.sent_texts_to(-900);
    assert_eq!(excerpts.len(), 2, "{excerpts:?}");
    // The week's sections, as the delivery ledger recorded them.
    let week_sections: Vec<String> = {
        let store = Store::open(&workspace.db()).unwrap();
        [0, 1]
            .into_iter()
            .map(|day| {
                let date =
                    chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() + TimeDelta::days(day);
                let entry = store.ledger_entry(-900, date).unwrap().expect("delivered");
                format!("见 /section {}", entry.section)
            })
            .collect()
    };

    let announcements = |tg: &FakeTelegram| {
        tg.sent_texts_to(-900)
            .iter()
            .filter(|t| t.contains("每周一测开始"))
            .count()
    };
    tick(&workspace, &tg.api_url(), shanghai(6, 19, 59)).await;
    assert_eq!(announcements(&tg), 0, "not before its time");
    tick(&workspace, &tg.api_url(), shanghai(6, 20, 0)).await;
    assert_eq!(announcements(&tg), 1, "at its time");
    let text = tg
        .sent_texts_to(-900)
        .into_iter()
        .find(|t| t.contains("每周一测开始"))
        .unwrap();
    let count: usize = text
        .split("共 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((5..=10).contains(&count), "{text}");
    assert!(text.contains("一次全部发出"), "{text}");
    // `tick` ends after its pass: no process stays to close one question and send the
    // next, so every question goes out at once, numbered, without a time limit.
    let polls: Vec<Value> = tg
        .requests_for("sendPoll")
        .into_iter()
        .filter(|r| r.ok())
        .map(|r| r.body)
        .collect();
    assert_eq!(
        polls.len(),
        count,
        "every question follows the announcement"
    );
    for (index, poll) in polls.iter().enumerate() {
        assert_eq!(poll["chat_id"], -900);
        assert_eq!(poll["is_anonymous"], false);
        assert_eq!(poll["type"], "quiz");
        assert!(poll.get("open_period").is_none(), "{poll}");
        let number = format!("（{}/{count}）", index + 1);
        assert!(
            poll["question"].as_str().unwrap().starts_with(&number),
            "{poll}"
        );
    }
    let explanation = polls[0]["explanation"].as_str().unwrap();
    assert!(
        week_sections
            .iter()
            .any(|cite| explanation.ends_with(cite.as_str())),
        "from the week's sections {week_sections:?}: {explanation}"
    );
    tick(&workspace, &tg.api_url(), shanghai(6, 20, 5)).await;
    assert_eq!(announcements(&tg), 1, "once a week");
    assert_eq!(
        tg.requests_for("sendPoll").len(),
        count,
        "and its questions once"
    );
}

/// A text of the group's own, imported with `studybot import` (plain text: the
/// importer finds its parts and points).
const REPORT: &str = "2025年工作报告\n一、过去一年的工作\n去年经济平稳，发展质量稳步提升。\n（一）稳增长\n投资增长较快，重大项目加快建设。\n（二）惠民生\n就业保持稳定，社会保障持续加强。\n（三）抓改革\n营商环境不断优化，市场活力明显增强。\n二、今年的主要任务\n今年要继续努力，推动高质量发展。\n（一）扩内需\n消费持续恢复，有效投资不断扩大。\n（二）促创新\n科技创新能力增强，产业升级步伐加快。\n";

/// Issue 15: a group studying another text — here one imported with `studybot import`
/// and chosen with `/use` — gets its members' review cards and its weekly test from
/// that text, not from the shipped speech. The weekly test is sent by `studybot tick`,
/// all at once, and a question answered later, when `studybot run` is up again, counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_on_an_imported_text_reviews_and_is_tested_on_that_text() {
    let tg = FakeTelegram::start().await;
    let workspace = Workspace::with_sections("", QUIZ_CONFIG);
    let file = workspace.dir.path().join("report.txt");
    std::fs::write(&file, REPORT).unwrap();
    let imported = std::process::Command::new(STUDYBOT.path())
        .arg("--config")
        .arg(workspace.config())
        .args(["import", file.to_str().unwrap(), "--id", "report"])
        .env_remove("STUDYBOT_DB")
        .env_remove("STUDYBOT_DATA")
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    // Every question each text's bank asks (the question text is the same in every
    // build of a bank; only distractors and option order vary).
    let questions = |id: &str| -> HashSet<String> {
        let store = Store::open(&workspace.db()).unwrap();
        let document = store.load_document(id).unwrap().unwrap();
        QuestionBank::build(&document, &[], &mut StdRng::seed_from_u64(1))
            .questions()
            .iter()
            .map(|q| q.text.clone())
            .collect()
    };
    let (report, speech) = (questions("report"), questions(TEXT));
    assert!(!report.is_empty() && report.is_disjoint(&speech));

    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let group = FakeChat::group(-950, "报告学习组");
    let ann = FakeUser::new(951, "Ann");
    let bob = FakeUser::new(952, "Bob");
    tg.set_admins(group.id, vec![ann.id]);
    tg.send_text(&group, &ann, "/use report");
    wait_text(&tg, -950, "本群现在学习", 1, &bot).await;
    tg.send_text(&group, &ann, "/weeklytest 周日 20:00");
    wait_text(&tg, -950, "群里进行每周一测", 1, &bot).await;

    // Ann misses a quiz question on the report...
    tg.send_text(&group, &ann, "/quiz 1");
    let (missed, missed_id) = nth_poll(&tg, 1, &bot).await;
    assert!(report.contains(&unnumbered(&missed)), "{missed}");
    tg.answer_poll(&missed_id, &ann, vec![wrong(&missed)]);
    wait_text(&tg, -950, "测验结束", 1, &bot).await;
    // ...and reviews it privately: the report's question comes back.
    let private = FakeChat::private(&ann);
    tg.send_text(&private, &ann, "/review");
    wait_text(&tg, 951, "开始复习错题：1 道", 1, &bot).await;
    let (card, card_id) = nth_poll(&tg, 2, &bot).await;
    assert_eq!(card["chat_id"], 951);
    assert_eq!(unnumbered(&card), unnumbered(&missed));
    tg.answer_poll(&card_id, &ann, vec![correct(&card)]);
    wait_text(&tg, 951, "本次复习结束：1 道答对 1 道", 1, &bot).await;
    tg.send_text(&private, &ann, "/mistakes");
    wait_text(&tg, 951, "我的错题本（1 道）", 1, &bot).await;
    assert!(bot.terminate(WAIT).await.success());
    let test_at = {
        let store = Store::open(&workspace.db()).unwrap();
        assert_eq!(store.review_cards(951, "report").unwrap().len(), 1);
        assert!(store.review_cards(951, TEXT).unwrap().is_empty());
        let test = store
            .weekly_test(-950)
            .unwrap()
            .expect("set by /weeklytest");
        test.this_week(Utc::now(), test.zone.parse().unwrap()).0
    };

    // The weekly test, at its time: every question from the report, all at once.
    let before = polls(&tg).len();
    tick(&workspace, &tg.api_url(), test_at + TimeDelta::seconds(30)).await;
    let announcement = tg
        .sent_texts_to(-950)
        .into_iter()
        .find(|t| t.contains("每周一测开始"))
        .expect("the weekly test is announced");
    let weekly = polls(&tg).split_off(before);
    assert!(
        announcement.contains(&format!("共 {} 题", weekly.len())),
        "{announcement}"
    );
    for (poll, _) in &weekly {
        assert_eq!(poll["chat_id"], -950);
        assert!(report.contains(&unnumbered(poll)), "{poll}");
    }

    // Bob answers the last question once the bot runs again: it counts, in his score
    // and in his deck for the report.
    let bot = STUDYBOT.start(&workspace, &tg.api_url(), &["run"]);
    let (last, last_id) = weekly.last().unwrap();
    tg.answer_poll(last_id, &bob, vec![wrong(last)]);
    assert!(tg.wait_updates_consumed(WAIT).await, "{}", bot.log());
    assert!(bot.terminate(WAIT).await.success());
    let store = Store::open(&workspace.db()).unwrap();
    let score = store
        .score(-950, 952)
        .unwrap()
        .expect("Bob's answer counted");
    assert_eq!((score.total.answered, score.total.correct), (1, 0));
    assert_eq!(store.review_cards(952, "report").unwrap().len(), 1);
}
