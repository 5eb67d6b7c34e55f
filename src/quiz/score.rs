//! A participant's running score in one chat: answers, correct answers, accuracy per
//! part and the days-in-a-row streak. Pure; the store keeps one per (chat, user).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How many recently counted answers a score remembers, so that counting the same
/// answer twice (a retry after a crash, a replay on restart) changes nothing. One quiz
/// has at most 10 questions, so this covers several quizzes and daily questions.
pub const REMEMBERED_ANSWERS: usize = 64;

/// Answers and correct answers of one part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Questions answered.
    pub answered: u32,
    /// Questions answered correctly.
    pub correct: u32,
}

impl Tally {
    /// The share of correct answers in percent, rounded down (0 when nothing was answered).
    pub fn percent(&self) -> u32 {
        (u64::from(self.correct) * 100)
            .checked_div(u64::from(self.answered))
            .unwrap_or(0) as u32
    }
}

/// One person's score in one chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// The name as Telegram last showed it.
    pub name: String,
    /// All answers and correct answers.
    pub total: Tally,
    /// Per part (its number; 0 is the opening). Stored as `by_principle`.
    #[serde(rename = "by_principle")]
    pub by_part: BTreeMap<u8, Tally>,
    /// Consecutive local days with at least one answer, up to `last_answer_date`.
    pub streak_days: u32,
    /// The local date of the latest answer.
    pub last_answer_date: Option<NaiveDate>,
    /// Keys of the latest counted answers (see [`REMEMBERED_ANSWERS`]).
    pub counted: Vec<String>,
}

impl Score {
    /// Counts one answer, identified by `key` (e.g. `q<quiz id>:<index>`), given on the
    /// local date `date`. Returns `false` and changes nothing if `key` was already counted.
    pub fn record(
        &mut self,
        key: &str,
        name: &str,
        part: u8,
        correct: bool,
        date: NaiveDate,
    ) -> bool {
        if self.counted.iter().any(|k| k == key) {
            return false;
        }
        self.counted.push(key.to_string());
        if self.counted.len() > REMEMBERED_ANSWERS {
            let excess = self.counted.len() - REMEMBERED_ANSWERS;
            self.counted.drain(..excess);
        }
        if !name.is_empty() {
            self.name = name.to_string();
        }
        for tally in [&mut self.total, self.by_part.entry(part).or_default()] {
            tally.answered += 1;
            tally.correct += u32::from(correct);
        }
        self.streak_days = match self.last_answer_date {
            Some(last) if last == date => self.streak_days.max(1),
            Some(last) if last.succ_opt() == Some(date) => self.streak_days + 1,
            // An answer recorded late for an earlier day keeps the streak as it is.
            Some(last) if last > date => self.streak_days,
            _ => 1,
        };
        if self.last_answer_date.is_none_or(|last| date > last) {
            self.last_answer_date = Some(date);
        }
        true
    }

    /// The streak as of `today`: it lapses when neither today nor yesterday had an answer.
    pub fn streak_on(&self, today: NaiveDate) -> u32 {
        match self.last_answer_date {
            Some(last) if last == today || last.succ_opt() == Some(today) => self.streak_days,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    #[test]
    fn counts_once_per_key() {
        let mut score = Score::default();
        assert!(score.record("q1:0", "张三", 2, true, day(1)));
        assert!(!score.record("q1:0", "张三", 2, true, day(1)));
        assert!(score.record("q1:1", "张三", 3, false, day(1)));
        assert_eq!(
            score.total,
            Tally {
                answered: 2,
                correct: 1
            }
        );
        assert_eq!(
            score.by_part[&2],
            Tally {
                answered: 1,
                correct: 1
            }
        );
        assert_eq!(score.by_part[&3].percent(), 0);
        assert_eq!(score.total.percent(), 50);
        assert_eq!(Tally::default().percent(), 0);
        assert_eq!(score.name, "张三");
    }

    #[test]
    fn remembers_a_bounded_number_of_keys() {
        let mut score = Score::default();
        for i in 0..200 {
            score.record(&format!("k{i}"), "", 1, true, day(1));
        }
        assert_eq!(score.counted.len(), REMEMBERED_ANSWERS);
        assert!(!score.record("k199", "", 1, true, day(1)));
    }

    #[test]
    fn streaks_count_consecutive_days() {
        let mut score = Score::default();
        score.record("a", "x", 1, true, day(1));
        score.record("b", "x", 1, true, day(1));
        assert_eq!(score.streak_on(day(1)), 1);
        score.record("c", "x", 1, true, day(2));
        score.record("d", "x", 1, true, day(3));
        assert_eq!(score.streak_on(day(3)), 3);
        assert_eq!(score.streak_on(day(4)), 3, "yesterday still counts");
        assert_eq!(score.streak_on(day(5)), 0, "lapsed");
        score.record("e", "x", 1, true, day(2));
        assert_eq!(
            (score.streak_days, score.last_answer_date),
            (3, Some(day(3)))
        );
        score.record("f", "x", 1, true, day(6));
        assert_eq!(score.streak_on(day(6)), 1);
    }
}
