//! The weekly report: a week's figures from the record, and the compact message posted
//! in the group. Pure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::names::display_name;
use crate::record::{CheckIn, Member, QuizAnswer, bar, percent, section_name, weekday_name};
use crate::reply::Reply;
use crate::text::SectionId;

/// The figures of one week (seven local days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyFigures {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// The sections the chat received that week, in order.
    pub sections: Vec<SectionId>,
    /// Members on the roster.
    pub members: usize,
    /// Days counted for participation: days with a section, or all seven if none.
    pub days: usize,
    /// Check-ins for days of the week (late ones included).
    pub check_ins: usize,
    /// Check-ins per day, for the bars.
    pub daily: Vec<(NaiveDate, usize)>,
    /// Members who answered at least one quiz question.
    pub quiz_members: usize,
    /// Answers given, and how many were right.
    pub answers: usize,
    /// Right answers.
    pub correct: usize,
    /// The part (part) with the lowest accuracy, with its percent, if any answers.
    pub weakest: Option<(u8, u32)>,
    /// The most consistent members (most days checked in), at most three, with their days.
    pub consistent: Vec<(String, usize)>,
    /// Members with neither a check-in nor an answer that week.
    pub inactive: Vec<String>,
}

impl WeeklyFigures {
    /// Computes the week `from..=from+6` from the chat's members (those who left are
    /// not counted), the sections it received, its check-ins and quiz answers, whose
    /// answer days are given in the chat's zone by `answer_date`.
    pub fn new(
        from: NaiveDate,
        members: &[Member],
        sections: &[(NaiveDate, SectionId)],
        check_ins: &[CheckIn],
        answers: &[(NaiveDate, &QuizAnswer)],
    ) -> Self {
        let to = from + TimeDelta::days(6);
        let in_week = |date: NaiveDate| (from..=to).contains(&date);
        let roster: Vec<&Member> = members.iter().filter(|m| !m.left).collect();
        let on_roster: BTreeSet<u64> = roster.iter().map(|m| m.user_id).collect();
        let week_sections: Vec<SectionId> = sections
            .iter()
            .filter(|(date, _)| in_week(*date))
            .map(|(_, section)| *section)
            .collect();
        let days = if week_sections.is_empty() {
            7
        } else {
            week_sections.len()
        };
        let week_check_ins: Vec<&CheckIn> = check_ins
            .iter()
            .filter(|c| in_week(c.date) && on_roster.contains(&c.user_id))
            .collect();
        let daily = (0..7)
            .map(|n| {
                let day = from + TimeDelta::days(n);
                (day, week_check_ins.iter().filter(|c| c.date == day).count())
            })
            .collect();
        let week_answers: Vec<&QuizAnswer> = answers
            .iter()
            .filter(|(date, a)| in_week(*date) && on_roster.contains(&a.user_id))
            .map(|(_, a)| *a)
            .collect();
        let mut by_part: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
        for answer in &week_answers {
            let tally = by_part.entry(answer.part).or_default();
            tally.0 += 1;
            tally.1 += usize::from(answer.correct);
        }
        let weakest = by_part
            .iter()
            .map(|(part, (total, right))| (*part, percent(*right, *total)))
            .min_by_key(|(part, rate)| (*rate, *part));
        let mut days_by_member: BTreeMap<u64, usize> = BTreeMap::new();
        for check_in in &week_check_ins {
            *days_by_member.entry(check_in.user_id).or_default() += 1;
        }
        let answered: BTreeSet<u64> = week_answers.iter().map(|a| a.user_id).collect();
        let mut consistent: Vec<(String, usize)> = roster
            .iter()
            .filter_map(|m| {
                let days = *days_by_member.get(&m.user_id)?;
                Some((display_name(&m.name), days))
            })
            .collect();
        consistent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        consistent.truncate(3);
        let mut inactive: Vec<String> = roster
            .iter()
            .filter(|m| !days_by_member.contains_key(&m.user_id) && !answered.contains(&m.user_id))
            .map(|m| display_name(&m.name))
            .collect();
        inactive.sort();
        Self {
            from,
            to,
            sections: week_sections,
            members: roster.len(),
            days,
            check_ins: week_check_ins.len(),
            daily,
            quiz_members: answered.len(),
            answers: week_answers.len(),
            correct: week_answers.iter().filter(|a| a.correct).count(),
            weakest,
            consistent,
            inactive,
        }
    }

    /// Participation: check-ins ÷ (members × days), in percent.
    pub fn participation(&self) -> u32 {
        percent(self.check_ins, self.members * self.days)
    }

    /// The message posted in the group.
    pub fn message(&self) -> Reply {
        self.message_for(None)
    }

    /// The message, headed with the group's title when it is known (a report forwarded
    /// upward still says whose it is).
    pub fn message_for(&self, chat: Option<&str>) -> Reply {
        let chat = chat.map_or(String::new(), |title| format!("{title} · "));
        let mut reply = Reply::new().for_the_chat().bold(format!(
            "学习周报 · {chat}{} 至 {}\n",
            self.from.format("%m-%d"),
            self.to.format("%m-%d")
        ));
        let sections = if self.sections.is_empty() {
            "无".to_string()
        } else {
            self.sections
                .iter()
                .map(|id| section_name(*id))
                .collect::<Vec<_>>()
                .join("、")
        };
        reply = reply.text(format!("本周内容：{sections}\n"));
        let participation = self.participation();
        reply = reply.text(format!(
            "学习参与率 {} {}%（{} 人次 ÷ {} 人 × {} 天）\n",
            bar(participation),
            participation,
            self.check_ins,
            self.members,
            self.days
        ));
        let busiest = self.daily.iter().map(|(_, n)| *n).max().unwrap_or(0);
        for (day, count) in &self.daily {
            let cells = if busiest == 0 {
                0
            } else {
                (count * 8).div_ceil(busiest)
            };
            reply = reply.text(format!(
                "{} {:<8} {}\n",
                weekday_name(day.weekday()),
                "▇".repeat(cells),
                count
            ));
        }
        let quiz_share = percent(self.quiz_members, self.members);
        if self.answers == 0 {
            reply = reply.text("测验：本周无人答题\n");
        } else {
            reply = reply.text(format!(
                "测验参与 {} {}%（{} 人），正确率 {}%（{}/{}）\n",
                bar(quiz_share),
                quiz_share,
                self.quiz_members,
                percent(self.correct, self.answers),
                self.correct,
                self.answers
            ));
        }
        if let Some((part, rate)) = self.weakest {
            let name = match part {
                0 => "开场".to_string(),
                part => format!("第{}部分", crate::text::chinese_numeral(part)),
            };
            reply = reply.text(format!("最需加强：{name}（正确率 {rate}%）\n"));
        }
        if !self.consistent.is_empty() {
            let names: Vec<String> = self
                .consistent
                .iter()
                .map(|(name, days)| format!("{name}（{days} 天）"))
                .collect();
            reply = reply.text(format!("坚持最好：{}\n", names.join("、")));
        }
        if self.inactive.is_empty() {
            reply.text("本周人人都有学习记录 👍")
        } else {
            reply.text(format!(
                "本周未学习（{} 人）：{}\n发送 /catchup 可以私聊补学。",
                self.inactive.len(),
                self.inactive.join("、")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_week_of_figures_and_its_message() {
        let joined: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
        let member = |id: u64, name: &str| Member {
            user_id: id,
            name: name.into(),
            joined,
            left: false,
        };
        let members = [member(1, "张三"), member(2, "李四"), member(3, "王五")];
        let from = date("2026-11-23");
        let sections: Vec<(NaiveDate, SectionId)> = (0..5)
            .map(|n| {
                (
                    from + TimeDelta::days(n),
                    format!("2.{}", n + 1).parse().unwrap(),
                )
            })
            .collect();
        let check_in = |user: u64, day: i64| CheckIn {
            chat_id: -1,
            user_id: user,
            name: String::new(),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date: from + TimeDelta::days(day),
            done_on: from + TimeDelta::days(day),
            at: joined,
        };
        let check_ins: Vec<CheckIn> = (0..5)
            .map(|d| check_in(1, d))
            .chain([check_in(2, 0), check_in(2, 9)])
            .collect();
        let answer = |part: u8, correct: bool| QuizAnswer {
            chat_id: -1,
            user_id: 2,
            name: "李四".into(),
            question: "?".into(),
            section: SectionId::OPENING,
            part,
            correct,
            at: joined,
        };
        let answers = [answer(2, true), answer(3, false)];
        let dated: Vec<(NaiveDate, &QuizAnswer)> = answers.iter().map(|a| (from, a)).collect();
        let figures = WeeklyFigures::new(from, &members, &sections, &check_ins, &dated);
        assert_eq!(figures.check_ins, 6);
        assert_eq!(figures.days, 5);
        assert_eq!(figures.participation(), 40);
        assert_eq!(figures.weakest, Some((3, 0)));
        assert_eq!(figures.inactive, vec!["王五".to_string()]);
        let text = figures.message().plain_text();
        assert!(text.contains("学习周报 · 11-23 至 11-29"), "{text}");
        assert!(text.contains("本周内容：2.1、2.2、2.3、2.4、2.5"), "{text}");
        assert!(
            text.contains("学习参与率 ████░░░░░░ 40%（6 人次 ÷ 3 人 × 5 天）"),
            "{text}"
        );
        assert!(text.contains("正确率 50%（1/2）"), "{text}");
        assert!(text.contains("最需加强：第三部分"), "{text}");
        assert!(
            text.contains("坚持最好：张三（5 天）、李四（1 天）"),
            "{text}"
        );
        assert!(text.contains("本周未学习（1 人）：王五"), "{text}");
    }
}
