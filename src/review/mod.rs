//! The personal review (错题本): every question a member got wrong goes into their deck
//! for that text, and comes back on a spaced-repetition schedule. Pure: no teloxide,
//! tokio, sled or clock; `now` is passed in.
//!
//! - **Identity.** A card is a question, identified by [`card_id`]: the text id, the
//!   section, and a hash of the question and its correct answer. Options are shuffled
//!   anew each time a bank is built, and distractors drawn at random, so neither is part
//!   of the identity; the question text and the correct answer are stable for a given
//!   text (a test checks this across bank builds), so a restart or a rebuilt bank keeps
//!   the deck. A card whose question the current bank no longer has (the text changed)
//!   is dropped with a note, never shown broken.
//! - **Scheduling.** FSRS, through the `rs-fsrs` crate: a wrong answer rates the card
//!   *Again*, a right one *Good*. A new card (first miss) enters FSRS's short-term
//!   learning steps (due again in a minute); a right answer then graduates it to days;
//!   a miss of a graduated card brings it back within minutes (relearning).
//! - **Due list.** [`due_cards`]: cards due by `now`, plus those in their short-term
//!   steps due within [`LEARN_AHEAD`] (Anki's "learn ahead limit"), in the order they
//!   became due for `/review` ([`Card::asked_from`]). The store keeps each deck in that
//!   order, so that `/review` reads only the cards it shows (`Store::review_due`).
//! - **Wording.** [`messages`].

pub mod messages;
pub mod weekly;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rs_fsrs::{FSRS, Parameters, Rating, State};
use serde::{Deserialize, Serialize};

use crate::quiz::Question;
use crate::text::SectionId;

/// How many cards `/review` asks per day unless the member asks for fewer.
pub const DAILY_CAP: u32 = 20;
/// Cards in their short-term steps due within this are asked now: a member who just
/// missed a question and types `/review` expects to see it, not "come back in a minute".
pub const LEARN_AHEAD: TimeDelta = TimeDelta::minutes(20);

/// A card's stable identity within one member's deck for one text.
pub type CardId = u64;

/// The identity of `question` in the text `text_id`: FNV-1a (64 bit) over the text id,
/// the section, the question and its correct answer. FNV rather than std's hasher,
/// whose output may change between Rust releases: these ids are stored.
pub fn card_id(text_id: &str, question: &Question) -> CardId {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let section = question.section.to_string();
    for field in [
        text_id,
        section.as_str(),
        question.text.as_str(),
        question.correct_option(),
    ] {
        for byte in field.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// One question in a member's deck: its FSRS state and how often it was missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// The section the question is about (for `/mistakes` and the weekly test).
    pub section: SectionId,
    /// How many times the member answered it wrong.
    pub missed: u32,
    /// How many times it was answered since it entered the deck (right or wrong).
    pub answered: u32,
    /// When it entered the deck (the first miss).
    pub added_at: DateTime<Utc>,
    /// FSRS's memory state: due instant, stability, difficulty, step.
    pub fsrs: rs_fsrs::Card,
}

/// The scheduler: FSRS's default parameters, without fuzz (so schedules are
/// reproducible), with its short-term learning steps.
fn scheduler() -> FSRS {
    FSRS::new(Parameters {
        enable_fuzz: false,
        enable_short_term: true,
        ..Parameters::default()
    })
}

impl Card {
    /// When the card is due next.
    pub fn due(&self) -> DateTime<Utc> {
        self.fsrs.due
    }

    /// Whether the card is in FSRS's short-term steps (new, learning or relearning).
    pub fn in_short_term(&self) -> bool {
        !matches!(self.fsrs.state, State::Review)
    }

    /// From when `/review` asks the card: when it is due, or [`LEARN_AHEAD`] before
    /// that while it is in its short-term steps.
    pub fn asked_from(&self) -> DateTime<Utc> {
        asked_from(self.due(), self.in_short_term())
    }

    /// Whether `/review` asks the card at `now` (see [`LEARN_AHEAD`]).
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.asked_from() <= now
    }

    /// Rates the card: wrong → Again, right → Good, as of `now`.
    pub fn rate(&mut self, correct: bool, now: DateTime<Utc>) {
        let rating = if correct { Rating::Good } else { Rating::Again };
        self.fsrs = scheduler().next(self.fsrs.clone(), now, rating).card;
        self.answered += 1;
        if !correct {
            self.missed += 1;
        }
    }
}

/// What an answer does to the deck: `card` is the member's card for the question, if
/// the question is in their deck. A wrong answer adds a missing card (rated Again); any
/// answer to a card in the deck rates it. A right answer to a question not in the deck
/// changes nothing (`None`).
pub fn record(
    card: Option<Card>,
    section: SectionId,
    correct: bool,
    now: DateTime<Utc>,
) -> Option<Card> {
    let mut card = match card {
        Some(card) => card,
        None if correct => return None,
        None => Card {
            section,
            missed: 0,
            answered: 0,
            added_at: now,
            fsrs: rs_fsrs::Card {
                due: now,
                last_review: now,
                ..rs_fsrs::Card::default()
            },
        },
    };
    card.rate(correct, now);
    Some(card)
}

/// From when `/review` asks a card due at `due` ([`Card::asked_from`]); `short_term`:
/// whether it is in FSRS's short-term steps. A function of these two fields alone, so
/// that the store can order a deck without decoding whole cards.
pub fn asked_from(due: DateTime<Utc>, short_term: bool) -> DateTime<Utc> {
    match short_term {
        true => due - LEARN_AHEAD,
        false => due,
    }
}

/// The cards `/review` asks at `now`, in the order they became due for it
/// ([`Card::asked_from`], then id), at most `limit`. The reference for the store's
/// due list (`Store::review_due`), which reads it from decks kept in this order.
pub fn due_cards(cards: &[(CardId, Card)], now: DateTime<Utc>, limit: usize) -> Vec<CardId> {
    let mut due: Vec<(DateTime<Utc>, CardId)> = cards
        .iter()
        .filter(|(_, card)| card.is_due(now))
        .map(|(id, card)| (card.asked_from(), *id))
        .collect();
    // Only the first `limit` need ordering: select them in linear time, then sort those.
    if limit < due.len() {
        due.select_nth_unstable(limit);
        due.truncate(limit);
    }
    due.sort_unstable();
    due.into_iter().map(|(_, id)| id).collect()
}

/// When the next card not due at `now` becomes due, if any.
pub fn next_due(cards: &[(CardId, Card)], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cards
        .iter()
        .filter(|(_, card)| !card.is_due(now))
        .map(|(_, card)| card.due())
        .min()
}

/// A member's review settings and progress, one record per user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    /// The local date `reviewed_today` counts for.
    pub day: Option<NaiveDate>,
    /// Cards asked on `day` (the daily cap counts these).
    pub reviewed_today: u32,
    /// The running `/review` session, if any.
    pub session: Option<ReviewSession>,
    /// The private reminder's local time, if on (`/remind 20:00`).
    pub remind_at: Option<NaiveTime>,
    /// The reminder's IANA zone.
    pub zone: Option<String>,
}

impl Reviewer {
    /// How many more cards may be asked on local `date` under the daily cap.
    pub fn left_today(&self, date: NaiveDate) -> u32 {
        match self.day {
            Some(day) if day == date => DAILY_CAP.saturating_sub(self.reviewed_today),
            _ => DAILY_CAP,
        }
    }

    /// Counts one card asked on local `date`.
    pub fn count_one(&mut self, date: NaiveDate) {
        if self.day != Some(date) {
            self.day = Some(date);
            self.reviewed_today = 0;
        }
        self.reviewed_today += 1;
    }
}

/// One `/review` in a private chat: how many cards it may still ask, and the card
/// whose poll is out. It draws from the member's decks of every text (card ids include
/// the text, so they are distinct across decks); a session stored by an earlier
/// version, which named one text, reads the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSession {
    /// Cards this session may still ask.
    pub remaining: u32,
    /// Cards asked so far in this session.
    pub asked: u32,
    /// Cards answered right so far in this session.
    pub right: u32,
    /// The card being asked, once its poll is out.
    pub current: Option<CardId>,
    /// How many cards the session started with (for the `（2/5）` number).
    pub total: u32,
    /// Cards already asked in this session: a card missed again comes back in the next
    /// `/review`, not straight away.
    pub seen: Vec<CardId>,
}

/// What a review poll stands for (poll answers carry no chat id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPoll {
    /// The member reviewing (the poll is in their private chat).
    pub user_id: u64,
    /// The text of the deck.
    pub text: String,
    /// The card asked.
    pub card: CardId,
    /// The index of the correct option as sent.
    pub correct: usize,
    /// How many options the poll has.
    pub options: usize,
    /// The correct option's text, for the verdict.
    pub answer: String,
    /// Whether it was answered (only the first answer counts).
    pub answered: bool,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::TimeZone;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::quiz::{QuestionBank, parse_curated};
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap() + TimeDelta::hours(hours)
    }

    fn bank(seed: u64) -> QuestionBank {
        let document = parse_document("xzsj.md", SPEECH).unwrap();
        let curated = parse_curated(
            "questions.md",
            include_str!("../../data/questions.md"),
            &document,
        )
        .unwrap();
        QuestionBank::build(&document, &curated, &mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn card_ids_survive_rebuilding_the_bank() {
        let ids = |seed| -> HashSet<CardId> {
            bank(seed)
                .questions()
                .iter()
                .map(|q| card_id("xzsj", q))
                .collect()
        };
        let first = ids(1);
        assert!(first.len() > 20, "{} ids", first.len());
        assert_eq!(first.len(), bank(1).len(), "ids are distinct");
        for seed in 2..12 {
            assert_eq!(ids(seed), first, "seed {seed}");
        }
    }

    #[test]
    fn ids_ignore_option_order_but_not_the_answer_or_text() {
        let mut question = bank(1).questions()[0].clone();
        let id = card_id("xzsj", &question);
        question.shuffle_options(&mut StdRng::seed_from_u64(9));
        assert_eq!(card_id("xzsj", &question), id);
        assert_ne!(card_id("other", &question), id);
        question.correct = (question.correct + 1) % question.options.len();
        assert_ne!(card_id("xzsj", &question), id);
    }

    #[test]
    fn a_miss_adds_a_card_due_at_once_and_a_right_answer_alone_adds_nothing() {
        let section = SectionId::point(2, 2);
        assert_eq!(record(None, section, true, at(0)), None);
        let card = record(None, section, false, at(0)).unwrap();
        assert_eq!(card.missed, 1);
        assert!(card.is_due(at(0)), "within the learn-ahead limit");
        assert_eq!(due_cards(&[(7, card.clone())], at(0), 20), vec![7]);
        assert!(card.due() < at(1));
    }

    #[test]
    fn right_moves_days_ahead_and_a_second_miss_brings_it_back_the_same_day() {
        let section = SectionId::point(1, 1);
        let card = record(None, section, false, at(0)).unwrap();
        let card = record(Some(card), section, true, at(0)).unwrap();
        assert!(card.due() >= at(24), "graduated to days: {}", card.due());
        assert!(!card.is_due(at(1)));
        assert_eq!(next_due(&[(1, card.clone())], at(1)), Some(card.due()));
        // Reviewed again when due, right: the interval grows.
        let due = card.due();
        let later = record(Some(card.clone()), section, true, due).unwrap();
        assert!(
            later.due() - due > due - at(0),
            "{} then {}",
            due,
            later.due()
        );
        // Missed when due: back within the day.
        let missed = record(Some(card), section, false, due).unwrap();
        assert_eq!(missed.missed, 2);
        assert!(missed.due() < due + TimeDelta::hours(1), "{}", missed.due());
        assert!(missed.is_due(due));
    }

    #[test]
    fn the_due_list_is_ordered_and_capped() {
        let section = SectionId::point(1, 1);
        let cards: Vec<(CardId, Card)> = (0..10)
            .map(|i| {
                let card = record(None, section, false, at(-i)).unwrap();
                (i as CardId, card)
            })
            .collect();
        assert_eq!(due_cards(&cards, at(0), 3), vec![9, 8, 7]);
        assert_eq!(due_cards(&cards, at(0), 100).len(), 10);
    }

    #[test]
    fn the_daily_cap_resets_each_day() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut reviewer = Reviewer::default();
        for _ in 0..5 {
            reviewer.count_one(today);
        }
        assert_eq!(reviewer.left_today(today), DAILY_CAP - 5);
        assert_eq!(reviewer.left_today(today.succ_opt().unwrap()), DAILY_CAP);
    }
}
