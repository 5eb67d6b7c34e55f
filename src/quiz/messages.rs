//! The wording of every quiz reply. Pure: built from plain values, no I/O.

use chrono::NaiveDate;

use super::score::{Score, Tally};
use super::session::{PollSpec, QuizPoll, QuizResults};
use crate::names::display_name;
use crate::reply::Reply;
use crate::text::chinese_numeral;

/// How much of a question the results quote, in characters.
const QUOTED_QUESTION_CHARS: usize = 60;

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

fn seconds(ms: i64) -> String {
    format!("{:.1} 秒", ms as f64 / 1000.0)
}

/// `/quiz`: the quiz starts. In groups, says that answers are visible to the group.
pub fn announcement(questions: usize, group: bool) -> Reply {
    let mut reply = Reply::new()
        .bold(format!("测验开始！共 {questions} 题"))
        .text("，题目都出自原文，每题只有第一次作答计分。\n");
    if group {
        reply = reply.text("注意：计分需要非匿名投票，所以在群里每个人的作答对全群可见。\n");
    }
    reply.text("发起人或管理员可以发送 /stopquiz 提前结束。")
}

/// `/quiz` in a channel, where poll answers are anonymous and cannot be scored.
pub fn channels_unsupported() -> Reply {
    Reply::plain("频道里的投票是匿名的，无法计分，所以测验只能在群组或私聊中进行。")
}

/// A second `/quiz` while one runs.
pub fn already_running() -> Reply {
    Reply::plain(
        "这里已经有一场测验正在进行，请等它结束；发起人或管理员可以发送 /stopquiz 提前结束。",
    )
}

/// `/quiz` with nothing to ask: the text `title` is too small for any question.
pub fn no_questions(title: &str) -> Reply {
    Reply::plain(format!(
        "《{title}》出不了测验题：题目要从至少两个部分的标题、要点标题或原文中带引号的词句里出，这篇文本没有足够的内容。可以发送 /outline 查看它的结构。"
    ))
}

/// `/quiz` with a count that is not 1–10.
pub fn bad_count(default: usize) -> Reply {
    Reply::plain(format!(
        "题数请写 1–10 之间的数字，例如：/quiz 5（不写则出 {default} 题）。"
    ))
}

/// `/stopquiz` when no quiz runs.
pub fn not_running() -> Reply {
    Reply::plain("现在没有进行中的测验。发送 /quiz 开始一场，例如：/quiz 5")
}

/// `/stopquiz` from someone who neither started the quiz nor is an admin.
pub fn stop_not_allowed() -> Reply {
    Reply::plain("只有发起这场测验的人或群管理员可以结束它。")
}

/// Telegram would not take the next quiz poll, so the quiz ends here (the results follow).
pub fn poll_failed() -> Reply {
    Reply::plain("Telegram 暂时无法发送投票，已结束本次测验，成绩已保存。")
}

/// The results after the last question, or after `/stopquiz`.
pub fn results(results: &QuizResults) -> Reply {
    let mut reply = if results.stopped {
        Reply::new().bold("测验已提前结束").text(format!(
            "：共出 {} 题（原定 {} 题），以下是已作答部分的结果。\n",
            results.asked, results.planned
        ))
    } else {
        Reply::new()
            .bold("测验结束！")
            .text(format!("共 {} 题。\n", results.asked))
    };
    if results.ranking.is_empty() {
        return reply.text("这次没有人作答。");
    }
    reply = reply.bold("\n排名\n");
    for (place, standing) in results.ranking.iter().enumerate() {
        reply = reply.text(format!(
            "{}. {} — 答对 {}/{}，用时 {}\n",
            place + 1,
            display_name(&standing.name),
            standing.correct,
            results.asked,
            seconds(standing.time_ms)
        ));
    }
    match &results.most_missed {
        Some(missed) => reply.bold("\n答错最多的一题").text(format!(
            "（第 {} 题）：{}\n{} 人中有 {} 人没有答对，正确答案是“{}”。见 /section {}",
            missed.index + 1,
            shorten(&missed.text, QUOTED_QUESTION_CHARS),
            missed.participants,
            missed.missed,
            missed.answer,
            missed.section
        )),
        None => reply.text("\n每道题大家都答对了！"),
    }
}

/// `/score`: one person's score in this chat. `parts` names each part
/// (`(1, "铸牢政治之魂")`); part 0 is the opening.
pub fn score(name: &str, score: Option<&Score>, parts: &[(u8, String)], today: NaiveDate) -> Reply {
    let Some(score) = score.filter(|s| s.total.answered > 0) else {
        return Reply::plain("你在这里还没有答过题。发送 /quiz 开始一场测验，例如：/quiz 5");
    };
    let mut reply = Reply::new()
        .bold(format!("{} 在这里的成绩\n", display_name(name)))
        .text(format!(
            "答题 {} 道，答对 {} 道（{}%）\n连续答题 {} 天\n",
            score.total.answered,
            score.total.correct,
            score.total.percent(),
            score.streak_on(today)
        ));
    reply = reply.text("\n各方面正确率：\n");
    for (part, tally) in &score.by_part {
        let title = parts
            .iter()
            .find(|(p, _)| p == part)
            .map(|(_, title)| title);
        let label = match (part, title) {
            (0, _) => "开场".to_string(),
            (p, Some(title)) => format!("{}、{title}", chinese_numeral(*p)),
            (p, None) => format!("第{}部分", chinese_numeral(*p)),
        };
        reply = reply.text(format!(
            "{label} {}/{}（{}%）\n",
            tally.correct,
            tally.answered,
            tally.percent()
        ));
    }
    reply
}

/// `/top`: the chat's best, at most ten, as `(name, total)` in ranking order.
pub fn top(entries: &[(String, Tally)]) -> Reply {
    if entries.is_empty() {
        return Reply::plain("这里还没有人答过题。发送 /quiz 开始一场测验，例如：/quiz 5");
    }
    let mut reply = Reply::new().bold(format!("排行榜（前 {} 名）\n", entries.len()));
    for (place, (name, tally)) in entries.iter().enumerate() {
        reply = reply.text(format!(
            "{}. {} — 答对 {}/{}（{}%）\n",
            place + 1,
            display_name(name),
            tally.correct,
            tally.answered,
            tally.percent()
        ));
    }
    reply
}

/// `/dailyquiz on|off` done.
pub fn daily_quiz_set(on: bool) -> Reply {
    match on {
        true => Reply::plain("已开启每日一题：每天的原文摘读之后会附一道测验题，答题计入成绩。"),
        false => Reply::plain("已关闭每日一题。"),
    }
}

/// `/dailyquiz` without `on` or `off`.
pub fn daily_quiz_usage(current: bool) -> Reply {
    let state = if current { "开启" } else { "关闭" };
    Reply::plain(format!(
        "每日一题现在是{state}的。请写 /dailyquiz on 或 /dailyquiz off。"
    ))
}

/// `/dailyquiz` with a word other than on/off: says which, then how to write it.
pub fn daily_quiz_not_understood(typed: &str, current: bool) -> Reply {
    let mut shown: String = typed.chars().take(20).collect();
    if typed.chars().count() > 20 {
        shown.push('…');
    }
    let usage = daily_quiz_usage(current).plain_text();
    Reply::plain(format!("看不懂“{shown}”：只能写 on 或 off。{usage}"))
}

/// `/dailyquiz` from someone who is not a group admin.
pub fn daily_quiz_admins_only() -> Reply {
    Reply::plain("只有群管理员可以开关每日一题。")
}

/// The console shows a quiz question as text with numbered options.
pub fn console_question(poll: &QuizPoll) -> Reply {
    let mut reply = Reply::new().bold(format!("{}\n", poll.spec.question));
    for (index, option) in poll.spec.options.iter().enumerate() {
        reply = reply.text(format!("{}. {option}\n", index + 1));
    }
    reply.text(format!("请输入 1–{} 的数字作答。", poll.spec.options.len()))
}

/// The console's verdict on an answer, with the explanation.
pub fn console_verdict(correct: bool, spec: &PollSpec) -> Reply {
    let answer = spec
        .options
        .get(spec.correct_option_id)
        .map_or("", String::as_str);
    let verdict = match correct {
        true => Reply::new().bold("✓ 答对了！\n"),
        false => Reply::new().bold("✗ 答错了。").text(format!(
            "正确答案是 {}. {answer}\n",
            spec.correct_option_id + 1
        )),
    };
    verdict.text(spec.explanation.clone())
}

/// The console's reminder when a line is not an option number.
pub fn console_reask(options: usize) -> Reply {
    Reply::plain(format!(
        "请输入 1–{options} 的数字作答（发送 /stopquiz 结束测验）。"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::session::{Missed, Standing};
    use crate::text::SectionId;

    #[test]
    fn names_cannot_turn_the_rest_of_the_line_around() {
        let override_name = "\u{202E}evil\u{2066}";
        assert_eq!(display_name(override_name), "evil");
        assert_eq!(display_name("\u{202E}\u{200F}"), "匿名");
        assert_eq!(display_name("שלום"), "\u{2068}שלום\u{2069}");
        let tally = Tally {
            answered: 2,
            correct: 1,
        };
        let top = top(&[(override_name.into(), tally), ("甲".into(), tally)]).plain_text();
        assert!(top.contains("1. evil — 答对 1/2（50%）\n2. 甲"), "{top:?}");
        let results = results_text(&QuizResults {
            asked: 1,
            planned: 1,
            stopped: false,
            ranking: vec![Standing {
                user_id: 1,
                name: override_name.into(),
                correct: 1,
                answered: 1,
                time_ms: 1_000,
            }],
            most_missed: None,
        });
        assert!(!results.contains('\u{202E}'), "{results:?}");
    }

    #[test]
    fn announcement_mentions_visibility_in_groups_only() {
        assert!(announcement(5, true).plain_text().contains("全群可见"));
        assert!(!announcement(5, false).plain_text().contains("全群可见"));
        assert!(announcement(5, false).plain_text().contains("共 5 题"));
    }

    #[test]
    fn results_read_well() {
        let standing = |name: &str, correct, time_ms| Standing {
            user_id: 1,
            name: name.into(),
            correct,
            answered: 2,
            time_ms,
        };
        let results = QuizResults {
            asked: 2,
            planned: 2,
            stopped: false,
            ranking: vec![standing("甲", 2, 12_300), standing("@乙", 1, 4_000)],
            most_missed: Some(Missed {
                index: 1,
                text: "问".repeat(100),
                answer: "服务员".into(),
                section: SectionId::point(2, 2),
                missed: 1,
                participants: 2,
            }),
        };
        let text = results_text(&results);
        assert!(text.contains("1. 甲 — 答对 2/2，用时 12.3 秒"), "{text}");
        assert!(text.contains("2. ＠乙 — 答对 1/2"), "{text}");
        assert!(
            text.contains("2 人中有 1 人没有答对，正确答案是“服务员”。见 /section 2.2"),
            "{text}"
        );
        assert!(text.contains(&format!("{}…", "问".repeat(60))), "{text}");
        let nobody = QuizResults {
            ranking: vec![],
            most_missed: None,
            stopped: true,
            ..results
        };
        assert!(results_text(&nobody).contains("没有人作答"));
    }

    fn results_text(results: &QuizResults) -> String {
        super::results(results).plain_text()
    }
}
