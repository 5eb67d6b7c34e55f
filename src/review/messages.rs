//! The Chinese wording of the personal review: `/review`, `/mistakes`, `/remind` and
//! the reminder. Times are already formatted in the member's zone by the caller.

use crate::reply::Reply;
use crate::review::DAILY_CAP;

/// The longest a question is shown in `/mistakes`, in characters.
const LISTED_QUESTION_CHARS: usize = 40;
/// How many cards `/mistakes` lists.
pub const LISTED_CARDS: usize = 20;

/// `/review`, `/mistakes` or `/remind` in a group: they happen in the private chat.
pub fn private_only(link: Option<&str>) -> Reply {
    let mut reply = Reply::plain(
        "错题复习在私聊里进行，只有你自己看得到。机器人只能给已经私聊过它的人发消息，\
         所以请先打开与我的私聊并点“开始”（Start），再发送 /review。",
    );
    if let Some(link) = link {
        reply = reply.text(format!("\n私聊入口：{link}"));
    }
    reply
}

/// A `/review` count that is not 1–20.
pub fn bad_count() -> Reply {
    Reply::plain(format!(
        "复习题数请写 1–{DAILY_CAP} 之间的数字，例如：/review 5"
    ))
}

/// Nothing is due: when the next card is, or that the deck is empty.
pub fn nothing_due(next_due: Option<&str>) -> Reply {
    match next_due {
        Some(when) => Reply::plain(format!(
            "现在没有到期的错题，做得好！下一道在 {when} 到期。"
        )),
        None => empty_deck(),
    }
}

fn empty_deck() -> Reply {
    Reply::plain("你的错题本是空的：测验和每日一题里答错的题会自动收进来，到期时再考你。")
}

/// The daily cap is reached.
pub fn cap_reached() -> Reply {
    Reply::plain(format!(
        "今天已经复习了 {DAILY_CAP} 道错题（每天最多 {DAILY_CAP} 道），明天再继续吧。"
    ))
}

/// A review starts: `count` cards now, of `due` due.
pub fn started(count: u32, due: usize) -> Reply {
    let more = if due > count as usize {
        format!("（共 {due} 道到期，这次先复习 {count} 道）")
    } else {
        String::new()
    };
    Reply::plain(format!(
        "开始复习错题：{count} 道{more}，一次一道，答完一道就来下一道。"
    ))
}

/// Cards whose question is no longer in the bank were dropped.
pub fn dropped(count: usize) -> Reply {
    Reply::plain(format!(
        "有 {count} 道错题的原题已不在题库中（所学文本更新或已移除），已从错题本中移除。"
    ))
}

/// The verdict after a review answer.
pub fn verdict(correct: bool, answer: &str, next_due: &str) -> Reply {
    if correct {
        Reply::plain(format!("✓ 答对了！这道题下次复习：{next_due}"))
    } else {
        Reply::plain(format!(
            "✗ 答错了，正确答案是：{answer}。这道题稍后（{next_due}）还会再考你。"
        ))
    }
}

/// A review ended: right out of asked, and when the next card is due.
pub fn finished(right: u32, asked: u32, next_due: Option<&str>) -> Reply {
    let next = match next_due {
        Some(when) => format!("下一道错题在 {when} 到期。"),
        None => String::new(),
    };
    Reply::plain(format!(
        "本次复习结束：{asked} 道答对 {right} 道。{next}用 /mistakes 查看错题本。"
    ))
}

/// One line of `/mistakes`.
pub struct MistakeLine {
    /// The question as asked.
    pub question: String,
    /// The section it cites (`2.2`).
    pub section: String,
    /// Times missed.
    pub missed: u32,
    /// When it is due next, formatted; `None` when due now.
    pub next_due: Option<String>,
}

/// `/mistakes`: the cards, most-missed first (the caller sorts and cuts).
pub fn mistakes(lines: &[MistakeLine], total: usize) -> Reply {
    if lines.is_empty() {
        return empty_deck();
    }
    let mut reply = Reply::new().bold(format!("我的错题本（{total} 道）"));
    for (index, line) in lines.iter().enumerate() {
        let mut question: String = line.question.chars().take(LISTED_QUESTION_CHARS).collect();
        if line.question.chars().count() > LISTED_QUESTION_CHARS {
            question.push('…');
        }
        let due = match &line.next_due {
            Some(when) => format!("下次复习 {when}"),
            None => "现在可以复习".to_string(),
        };
        reply = reply.text(format!(
            "\n{}. {question}\n   见 /section {}，答错 {} 次，{due}",
            index + 1,
            line.section,
            line.missed
        ));
    }
    if total > lines.len() {
        reply = reply.text(format!("\n……另有 {} 道未列出。", total - lines.len()));
    }
    reply.text("\n发送 /review 开始复习。")
}

/// `/remind` without a usable argument.
pub fn remind_usage(current: Option<&str>) -> Reply {
    let now = match current {
        Some(time) => format!("现在的提醒时间：每天 {time}。"),
        None => "现在没有开启复习提醒。".to_string(),
    };
    Reply::plain(format!(
        "{now}设置提醒请写时间，例如：/remind 20:00；关闭请发送 /remind off。"
    ))
}

/// What the user typed, cut short for quoting back.
fn echo(argument: &str) -> String {
    const SHOWN: usize = 20;
    let mut shown: String = argument.chars().take(SHOWN).collect();
    if argument.chars().count() > SHOWN {
        shown.push('…');
    }
    shown
}

/// `/remind` with a time that could not be read.
pub fn remind_bad_time(argument: &str) -> Reply {
    let argument = echo(argument);
    Reply::plain(format!(
        "“{argument}”不是有效的时间。请写 24 小时制的时:分，例如：/remind 20:00"
    ))
}

/// The reminder is on.
pub fn remind_set(time: &str, zone: &str) -> Reply {
    Reply::plain(format!(
        "好的：每天 {time}（{zone}）有到期的错题时，我会私聊提醒你。关闭请发送 /remind off。"
    ))
}

/// The reminder is off.
pub fn remind_off() -> Reply {
    Reply::plain("复习提醒已关闭。需要时发送 /remind 20:00 重新开启。")
}

/// The reminder itself.
pub fn reminder(due: usize) -> Reply {
    Reply::plain(format!(
        "📚 复习提醒：你有 {due} 道错题到期了。发送 /review 开始复习。"
    ))
}

/// `/weeklytest` without a usable argument: the current setting and how to change it.
pub fn weekly_usage(current: Option<&str>) -> Reply {
    let now = match current {
        Some(when) => format!("本群的每周一测：{when}。"),
        None => "本群没有开启每周一测。".to_string(),
    };
    Reply::plain(format!(
        "{now}管理员可以这样设置：/weeklytest Sun 20:00（或 /weeklytest 周日 20:00）；关闭：/weeklytest off。"
    ))
}

/// `/weeklytest` with a day or time that could not be read.
pub fn weekly_bad(argument: &str) -> Reply {
    let argument = echo(argument);
    Reply::plain(format!(
        "“{argument}”看不懂。请写星期和时间，例如：/weeklytest Sun 20:00 或 /weeklytest 周日 20:00"
    ))
}

/// `/weeklytest` in a private chat.
pub fn weekly_groups_only() -> Reply {
    Reply::plain("每周一测是给群组的：请在群里由管理员发送 /weeklytest Sun 20:00。")
}

/// `/weeklytest` from a member who is not an admin.
pub fn weekly_admins_only() -> Reply {
    Reply::plain("只有群管理员可以设置每周一测。可以发送 /weeklytest 查看当前设置。")
}

/// The weekly test is on.
pub fn weekly_set(when: &str) -> Reply {
    Reply::plain(format!(
        "好的：{when} 群里进行每周一测，5–10 道题，出自本周学过的内容和大家常错的题，成绩计入 /score 和 /top。"
    ))
}

/// The weekly test is off.
pub fn weekly_off() -> Reply {
    Reply::plain("每周一测已关闭。")
}

/// The weekly test starts.
pub fn weekly_announcement(questions: usize) -> Reply {
    Reply::new()
        .bold(format!("📝 每周一测开始！共 {questions} 题"))
        .text("，出自本周学过的内容和大家常错的题，每题只有第一次作答计分，成绩计入 /score 和 /top。\n")
        .text("注意：计分需要非匿名投票，所以每个人的作答对全群可见。")
}

/// The weekly test's announcement when its questions all go out at once (sent by
/// `studybot tick`, with no bot running to pace them).
pub fn weekly_announcement_all_at_once(questions: usize) -> Reply {
    Reply::new()
        .bold(format!("📝 每周一测开始！共 {questions} 题"))
        .text("，出自本周学过的内容和大家常错的题。题目一次全部发出，不限时，24 小时内作答有效；每题只有第一次作答计分，成绩计入 /score 和 /top。\n")
        .text("注意：计分需要非匿名投票，所以每个人的作答对全群可见。")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_listed_with_section_count_and_due() {
        let lines = vec![MistakeLine {
            question: "问".repeat(50),
            section: "2.2".into(),
            missed: 3,
            next_due: Some("2026-12-01 08:00".into()),
        }];
        let text = mistakes(&lines, 25).plain_text();
        assert!(text.contains("我的错题本（25 道）"), "{text}");
        assert!(text.contains("见 /section 2.2，答错 3 次，下次复习 2026-12-01 08:00"));
        assert!(text.contains('…') && text.contains("另有 24 道"), "{text}");
        assert!(mistakes(&[], 0).plain_text().contains("错题本是空的"));
    }

    #[test]
    fn replies_are_short() {
        for reply in [
            private_only(Some("https://t.me/x_bot?start=review")),
            bad_count(),
            nothing_due(Some("2026-12-01 08:00")),
            cap_reached(),
            started(5, 9),
            verdict(false, "服务员", "2026-12-01 08:05"),
            finished(3, 5, None),
            remind_usage(None),
            reminder(3),
            remind_bad_time(&"８".repeat(10_000)),
            weekly_bad(&"x".repeat(10_000)),
        ] {
            assert!(reply.plain_text().chars().count() < 200);
        }
    }
}
