//! The weekly group test (每周一测): when it is due, and which questions it asks.
//! Pure: `now` and randomness are passed in.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

pub use crate::calendar::day_in_week;
use crate::calendar::iso_week;
use crate::quiz::Question;
use crate::review::{CardId, card_id};
use crate::schedule::{local_date, send_instant};
use crate::text::SectionId;

/// The fewest questions a weekly test asks.
pub const MIN_QUESTIONS: usize = 5;
/// The most questions a weekly test asks.
pub const MAX_QUESTIONS: usize = 10;
/// How many of them may be the group's most-missed questions.
const MISSED_QUESTIONS: usize = 3;

/// A group's weekly test setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyTest {
    /// The day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// The local time.
    pub time: NaiveTime,
    /// The IANA zone.
    pub zone: String,
    /// The forum topic it goes to, if it was set in one.
    pub topic: Option<i32>,
}

impl WeeklyTest {
    /// The weekday as chrono's.
    pub fn weekday(&self) -> Weekday {
        Weekday::try_from(self.weekday.min(6)).unwrap_or(Weekday::Sun)
    }

    /// The instant of this week's test as of `now` (the ISO week of `now`'s local date),
    /// with the ISO (year, week) it belongs to.
    pub fn this_week(&self, now: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, (i32, u32)) {
        let today = local_date(now, zone);
        let date = day_in_week(today, self.weekday());
        (send_instant(date, self.time, zone), iso_week(today))
    }
}

/// The weekly test's questions: first from the sections delivered that week, then the
/// group's most-missed questions (`missed`, most first), then any others to reach
/// [`MIN_QUESTIONS`]; at most [`MAX_QUESTIONS`], no question twice.
pub fn pick_weekly(
    bank: &[Question],
    text: &str,
    week_sections: &[SectionId],
    missed: &[CardId],
    rng: &mut impl Rng,
) -> Vec<Question> {
    let mut from_week: Vec<&Question> = bank
        .iter()
        .filter(|q| week_sections.contains(&q.section))
        .collect();
    from_week.shuffle(rng);
    let mut chosen: Vec<Question> = Vec::new();
    let push = |question: &Question, chosen: &mut Vec<Question>| {
        if chosen.len() < MAX_QUESTIONS
            && !chosen
                .iter()
                .any(|c| c.text == question.text && c.correct_option() == question.correct_option())
        {
            chosen.push(question.clone());
        }
    };
    for question in from_week
        .iter()
        .take(MAX_QUESTIONS - MISSED_QUESTIONS.min(missed.len()))
    {
        push(question, &mut chosen);
    }
    for id in missed.iter().take(MISSED_QUESTIONS) {
        if let Some(question) = bank.iter().find(|q| card_id(text, q) == *id) {
            push(question, &mut chosen);
        }
    }
    if chosen.len() < MIN_QUESTIONS {
        let mut others: Vec<&Question> = bank.iter().collect();
        others.shuffle(rng);
        for question in others {
            if chosen.len() >= MIN_QUESTIONS {
                break;
            }
            push(question, &mut chosen);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::quiz::generate;
    use crate::text::parse_document;

    #[test]
    fn this_weeks_instant_is_on_its_day() {
        let test = WeeklyTest {
            weekday: 6,
            time: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            zone: "Asia/Shanghai".into(),
            topic: None,
        };
        // Wednesday 2026-12-02 → Sunday 2026-12-06 20:00 Shanghai = 12:00 UTC, ISO week 49.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        let (at, week) = test.this_week(now, chrono_tz::Asia::Shanghai);
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap());
        assert_eq!(week, (2026, 49));
    }

    #[test]
    fn questions_come_from_the_week_then_the_misses() {
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let bank = generate(&document, &mut StdRng::seed_from_u64(1));
        let week = [SectionId::point(2, 2), SectionId::point(2, 3)];
        let missed_question = bank.iter().find(|q| q.section.part == 4).unwrap();
        let missed = [card_id("xzsj", missed_question)];
        let picked = pick_weekly(&bank, "xzsj", &week, &missed, &mut StdRng::seed_from_u64(2));
        assert!((MIN_QUESTIONS..=MAX_QUESTIONS).contains(&picked.len()));
        assert!(week.contains(&picked[0].section), "{:?}", picked[0]);
        assert!(picked.contains(missed_question));
        let none = pick_weekly(&bank, "xzsj", &[], &[], &mut StdRng::seed_from_u64(3));
        assert_eq!(none.len(), MIN_QUESTIONS);
    }
}
