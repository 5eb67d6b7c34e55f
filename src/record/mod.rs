//! The study record (学习台账): who studied which section on which day, who answered
//! which quiz question, and what organisers see of it. Pure (`now` passed in), except
//! that [`export`] writes the workbook through a temporary file (the xlsx writer's
//! low-memory mode) and to the writer it is given.
//!
//! - [`CheckIn`], [`Member`], [`QuizAnswer`], [`QuestionTally`], [`ReportSetting`]: the
//!   records the store keeps.
//! - [`CheckInButton`]: the ✅ 已学习 button's callback data, and its validation rules.
//! - [`Days`]: the days one member checked in on, the store's index beside the check-ins.
//! - [`Roster`]: `/roster`'s figures (today, this week, streaks, rates) and wording.
//! - [`report`]: the weekly report's figures and message.
//! - [`export`]: the workbook (xlsx) and its CSV twin, written row by row as the store is read.

mod days;
pub mod export;
pub mod report;

pub use days::Days;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use crate::calendar::{parse_weekday, week_start, weekday_name};
use crate::callback::Action;
pub use crate::callback::CheckInButton;
use crate::names::display_name;
use crate::reply::{Button, Reply};
use crate::text::SectionId;

/// How far back a section can still be checked in late (补学), in days.
pub const CATCH_UP_DAYS: i64 = 30;

/// One member's check-in of one day's section in one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    /// The chat whose record it belongs to.
    pub chat_id: i64,
    /// The member's Telegram user id.
    pub user_id: u64,
    /// The member's name as Telegram showed it then.
    pub name: String,
    /// The document the section belongs to.
    pub document: String,
    /// The section studied.
    pub section: SectionId,
    /// The chat's local day the section belongs to.
    pub date: NaiveDate,
    /// The chat's local day the check-in was made (later than `date` for 补学).
    pub done_on: NaiveDate,
    /// When the button was pressed.
    pub at: DateTime<Utc>,
}

impl CheckIn {
    /// Whether this is a late check-in (补学): made on a later day than the one it belongs to.
    pub fn is_late(&self) -> bool {
        self.done_on > self.date
    }
}

/// Someone on a chat's roster: they checked in, answered a quiz or sent `/join`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's Telegram user id.
    pub user_id: u64,
    /// The name as Telegram last showed it.
    pub name: String,
    /// When they first became a member.
    pub joined: DateTime<Utc>,
    /// Whether they left the roster with `/leave` (their records stay for the history).
    #[serde(default)]
    pub left: bool,
}

/// One answer to a quiz or daily question, kept individually for the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizAnswer {
    /// The chat the quiz ran in.
    pub chat_id: i64,
    /// Who answered.
    pub user_id: u64,
    /// Their name as Telegram showed it then.
    pub name: String,
    /// The question as shown.
    pub question: String,
    /// The section the question is about.
    pub section: SectionId,
    /// The part (its number, 0 for the opening) it belongs to. Stored as `principle`.
    #[serde(rename = "principle")]
    pub part: u8,
    /// Whether the answer was right.
    pub correct: bool,
    /// When it was given.
    pub at: DateTime<Utc>,
}

/// How a chat's members answered one question of one part, kept beside the answers so
/// that the dashboard's accuracy is read without going through every answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionTally {
    /// The question as shown.
    pub question: String,
    /// The part (its number, 0 for the opening) of the section it is about.
    pub part: u8,
    /// Right answers.
    pub correct: u32,
    /// All answers.
    pub total: u32,
}

impl QuestionTally {
    /// The tally of one answer.
    pub fn of(answer: &QuizAnswer) -> Self {
        Self {
            question: answer.question.clone(),
            part: answer.section.part,
            correct: u32::from(answer.correct),
            total: 1,
        }
    }

    /// Adds `other`'s answers.
    pub fn add(&mut self, other: &Self) {
        self.correct = self.correct.saturating_add(other.correct);
        self.total = self.total.saturating_add(other.total);
    }

    /// Takes `other`'s answers away (never below zero).
    pub fn remove(&mut self, other: &Self) {
        self.correct = self.correct.saturating_sub(other.correct);
        self.total = self.total.saturating_sub(other.total);
    }
}

/// When a chat's weekly report is posted, in the chat's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSetting {
    /// The weekday it is posted on.
    pub weekday: Weekday,
    /// The local time it is posted at.
    pub time: NaiveTime,
}

impl CheckInButton {
    /// The button as shown under an excerpt.
    pub fn button(&self) -> Button {
        Button {
            label: "✅ 已学习".into(),
            action: Action::CheckIn(self.clone()),
        }
    }
}

/// Adds the ✅ 已学习 button under `reply`, in a row of its own below the others.
pub fn with_check_in(reply: Reply, button: &CheckInButton) -> Reply {
    reply.buttons(vec![button.button()])
}

/// The toast of a recorded check-in: `已记录：2.2，今天第 7 位`, or for 补学
/// `已补学：2.2（11-28 的内容）`.
pub fn recorded_toast(check_in: &CheckIn, rank: u32) -> String {
    if check_in.is_late() {
        format!(
            "已补学：{}（{} 的内容）",
            section_name(check_in.section),
            check_in.date.format("%m-%d")
        )
    } else {
        format!(
            "已记录：{}，今天第 {rank} 位",
            section_name(check_in.section)
        )
    }
}

/// A section as the record names it: 开场, 第一部分, 2.1.
pub fn section_name(id: SectionId) -> String {
    if id == SectionId::OPENING {
        "开场".into()
    } else if id.is_point() {
        id.to_string()
    } else {
        format!("第{}部分", crate::text::chinese_numeral(id.part))
    }
}

/// The toast of a second press.
pub fn already_toast(check_in: &CheckIn) -> String {
    format!(
        "已经记录过了：{}（{}）",
        section_name(check_in.section),
        check_in.date.format("%m-%d")
    )
}

/// A percentage as a whole number, 0 for an empty denominator.
pub fn percent(part: usize, whole: usize) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((part as f64 / whole as f64) * 100.0).round() as u32
}

/// A bar of ten cells for a percentage: `██████░░░░`.
pub fn bar(percent: u32) -> String {
    let full = (percent.min(100) as usize + 5) / 10;
    format!("{}{}", "█".repeat(full), "░".repeat(10 - full))
}

/// One member's line in `/roster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterLine {
    /// The member's display name.
    pub name: String,
    /// The local time of today's check-in, if any.
    pub today_at: Option<NaiveTime>,
    /// Days with a check-in this week (Monday to today).
    pub week_days: usize,
    /// Consecutive days with a check-in.
    pub streak: u32,
    /// Check-ins over the days since they joined, at most the last 30 (percent).
    pub rate: u32,
}

/// `/roster`'s figures for one chat on one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The chat's local day.
    pub today: NaiveDate,
    /// Days of this week so far (Monday to today).
    pub week_days: usize,
    /// Members who checked in today, earliest first.
    pub done: Vec<RosterLine>,
    /// Members who did not, by name.
    pub missing: Vec<RosterLine>,
}

impl Roster {
    /// Computes the roster from the chat's members (those who left are not listed), the
    /// days each checked in on and when each checked in today, as of `now` in `zone`.
    pub fn new(
        members: &[Member],
        days: &BTreeMap<u64, Days>,
        today_at: &BTreeMap<u64, DateTime<Utc>>,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> Self {
        let today = now.with_timezone(&zone).date_naive();
        let monday = week_start(today);
        let empty = Days::new();
        let mut done = Vec::new();
        let mut missing = Vec::new();
        for member in members.iter().filter(|m| !m.left) {
            let own = days.get(&member.user_id).unwrap_or(&empty);
            let joined = member.joined.with_timezone(&zone).date_naive();
            let first = own.first().map_or(joined, |d| d.min(joined));
            let window_start = first.max(today - TimeDelta::days(CATCH_UP_DAYS - 1));
            let window = (today - window_start).num_days().max(0) as usize + 1;
            let in_window = own.count(window_start, today);
            let line = RosterLine {
                name: display_name(&member.name),
                today_at: today_at
                    .get(&member.user_id)
                    .map(|at| at.with_timezone(&zone).time()),
                week_days: own.count(monday, today),
                streak: own.streak(today),
                rate: percent(in_window, window),
            };
            match line.today_at {
                Some(_) => done.push(line),
                None => missing.push(line),
            }
        }
        done.sort_by(|a, b| a.today_at.cmp(&b.today_at).then(a.name.cmp(&b.name)));
        missing.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            today,
            week_days: (today - monday).num_days() as usize + 1,
            done,
            missing,
        }
    }

    /// The `/roster` message.
    pub fn message(&self) -> Reply {
        let total = self.done.len() + self.missing.len();
        let mut reply = Reply::new().bold(format!(
            "学习台账 · {}（{}）\n",
            self.today.format("%Y-%m-%d"),
            weekday_name(self.today.weekday())
        ));
        if total == 0 {
            return reply.text(
                "还没有成员。成员是按过 ✅ 已学习、答过测验或发送过 /join 的人。\n例如：每日学习下点 ✅ 已学习，或发送 /join。",
            );
        }
        reply = reply.text(format!(
            "今日已学 {}/{} 人 {}\n",
            self.done.len(),
            total,
            bar(percent(self.done.len(), total))
        ));
        for line in &self.done {
            let at = line.today_at.map(|t| t.format("%H:%M").to_string());
            reply = reply.text(format!(
                "✅ {} {} · {}\n",
                line.name,
                at.unwrap_or_default(),
                self.figures(line)
            ));
        }
        if !self.missing.is_empty() {
            reply = reply.bold(format!("\n今日未学 {} 人\n", self.missing.len()));
            for line in &self.missing {
                reply = reply.text(format!("⬜ {} · {}\n", line.name, self.figures(line)));
            }
        }
        reply.text("\n连续：连续学习天数；本周：本周已学天数；近30天：打卡率。")
    }

    fn figures(&self, line: &RosterLine) -> String {
        format!(
            "连续 {} 天 · 本周 {}/{} · 近30天 {}%",
            line.streak, line.week_days, self.week_days, line.rate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn streaks_end_today_or_yesterday() {
        let days = Days::of(["2026-11-27", "2026-11-28", "2026-11-29"].map(date));
        assert_eq!(days.streak(date("2026-11-29")), 3);
        assert_eq!(days.streak(date("2026-11-30")), 3, "today not yet");
        assert_eq!(days.streak(date("2026-12-01")), 0);
    }

    #[test]
    fn roster_splits_done_and_missing_with_times_in_the_zone() {
        let zone = chrono_tz::Asia::Shanghai;
        let joined = utc("2026-11-23T00:00:00Z");
        let members = [
            Member {
                user_id: 1,
                name: "张三".into(),
                joined,
                left: false,
            },
            Member {
                user_id: 2,
                name: "@李四".into(),
                joined,
                left: false,
            },
            Member {
                user_id: 3,
                name: "走了".into(),
                joined,
                left: true,
            },
        ];
        let check_in = |day: &str, at: &str| CheckIn {
            chat_id: -1,
            user_id: 1,
            name: "张三".into(),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date: date(day),
            done_on: date(day),
            at: utc(at),
        };
        let check_ins = [
            check_in("2026-11-29", "2026-11-29T01:00:00Z"),
            check_in("2026-11-30", "2026-11-30T00:12:00Z"),
        ];
        let days = BTreeMap::from([(1, Days::of(check_ins.iter().map(|c| c.date)))]);
        let today_at = BTreeMap::from([(1, check_ins[1].at)]);
        let roster = Roster::new(
            &members,
            &days,
            &today_at,
            utc("2026-11-30T10:00:00Z"),
            zone,
        );
        let text = roster.message().plain_text();
        assert!(text.contains("今日已学 1/2 人"), "{text}");
        assert!(
            text.contains("✅ 张三 08:12 · 连续 2 天 · 本周 1/1"),
            "{text}"
        );
        assert!(text.contains("⬜ ＠李四 · 连续 0 天"), "no ping: {text}");
        assert!(!text.contains("走了"), "{text}");
    }

    #[test]
    fn bars_have_ten_cells() {
        assert_eq!(bar(0), "░░░░░░░░░░");
        assert_eq!(bar(52), "█████░░░░░");
        assert_eq!(bar(100), "██████████");
    }
}
