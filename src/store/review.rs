//! The personal review's collections: each member's cards per text, their review
//! settings and running `/review`, what each review poll stands for, and the reminder
//! ledger. Keys are big-endian, so one member's cards are one prefix scan.
//!
//! Answers arrive concurrently, so every change goes through [`Store::update_json`],
//! an atomic read-modify-write per key.

use chrono::{Datelike, NaiveDate};

use super::{Store, StoreError, StoreResult, i64_from_key, key_i64, trees};
use crate::review::weekly::WeeklyTest;
use crate::review::{Card, CardId, ReviewPoll, Reviewer};
use crate::schedule::DeliveryState;

/// The prefix of one member's cards for one text: user id, text id, a 0 byte.
fn deck_prefix(user_id: u64, text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + text.len() + 9);
    key.extend(user_id.to_be_bytes());
    key.extend(text.as_bytes());
    key.push(0);
    key
}

fn card_key(user_id: u64, text: &str, card: CardId) -> Vec<u8> {
    let mut key = deck_prefix(user_id, text);
    key.extend(card.to_be_bytes());
    key
}

fn card_of_key(key: &[u8]) -> Option<CardId> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

/// The reminder ledger key: user id, then the local date as days since 0001-01-01.
fn ledger_key(user_id: u64, date: NaiveDate) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&user_id.to_be_bytes());
    key[8..].copy_from_slice(&date.num_days_from_ce().to_be_bytes());
    key
}

impl Store {
    /// One member's cards for one text, in card-id order.
    pub fn review_cards(&self, user_id: u64, text: &str) -> StoreResult<Vec<(CardId, Card)>> {
        self.scan_json::<Card>(trees::REVIEW_CARDS, &deck_prefix(user_id, text))?
            .into_iter()
            .map(|(key, card)| {
                let id = card_of_key(&key).ok_or_else(|| StoreError::Corrupt {
                    tree: trees::REVIEW_CARDS,
                    reason: "short key".into(),
                })?;
                Ok((id, card))
            })
            .collect()
    }

    /// One card of a member's deck.
    pub fn review_card(&self, user_id: u64, text: &str, card: CardId) -> StoreResult<Option<Card>> {
        self.get_json(trees::REVIEW_CARDS, &card_key(user_id, text, card))
    }

    /// Atomically changes one card (`f` gets it if present; `None` deletes). Returns the
    /// card written. `f` may run more than once.
    pub fn update_review_card(
        &self,
        user_id: u64,
        text: &str,
        card: CardId,
        f: impl FnMut(Option<Card>) -> Option<Card>,
    ) -> StoreResult<Option<Card>> {
        self.update_json(trees::REVIEW_CARDS, &card_key(user_id, text, card), f)
    }

    /// Removes one card from a member's deck.
    pub fn remove_review_card(&self, user_id: u64, text: &str, card: CardId) -> StoreResult<()> {
        self.backend()
            .remove(trees::REVIEW_CARDS, &card_key(user_id, text, card))
    }

    /// A member's review record (settings, running review, daily count).
    pub fn reviewer(&self, user_id: u64) -> StoreResult<Option<Reviewer>> {
        self.get_json(trees::REVIEWERS, &user_id.to_be_bytes())
    }

    /// Atomically changes a member's review record (starting from the default) and
    /// returns what `f` returns. `f` may run more than once.
    pub fn update_reviewer<R>(
        &self,
        user_id: u64,
        mut f: impl FnMut(&mut Reviewer) -> R,
    ) -> StoreResult<R> {
        let mut result = None;
        self.update_json(trees::REVIEWERS, &user_id.to_be_bytes(), |old| {
            let mut reviewer = old.unwrap_or_default();
            result = Some(f(&mut reviewer));
            Some(reviewer)
        })?;
        result.ok_or_else(|| StoreError::Database("update of reviewers did not run".into()))
    }

    /// Every member with a reminder set.
    pub fn reviewers_with_reminders(&self) -> StoreResult<Vec<(u64, Reviewer)>> {
        Ok(self
            .scan_json::<Reviewer>(trees::REVIEWERS, &[])?
            .into_iter()
            .filter(|(_, reviewer)| reviewer.remind_at.is_some())
            .filter_map(|(key, reviewer)| {
                let id: [u8; 8] = key.get(..8)?.try_into().ok()?;
                Some((u64::from_be_bytes(id), reviewer))
            })
            .collect())
    }

    /// What a review poll stands for, if `poll_id` is one.
    pub fn review_poll(&self, poll_id: &str) -> StoreResult<Option<ReviewPoll>> {
        self.get_json(trees::REVIEW_POLLS, poll_id.as_bytes())
    }

    /// Remembers what a review poll stands for.
    pub fn put_review_poll(&self, poll_id: &str, poll: &ReviewPoll) -> StoreResult<()> {
        self.put_json(trees::REVIEW_POLLS, poll_id.as_bytes(), poll)
    }

    /// Atomically marks a review poll answered; `true` only for the first answer.
    pub fn answer_review_poll(&self, poll_id: &str) -> StoreResult<bool> {
        let mut first = false;
        self.update_json(trees::REVIEW_POLLS, poll_id.as_bytes(), |old| {
            let mut poll: ReviewPoll = old?;
            first = !poll.answered;
            poll.answered = true;
            Some(poll)
        })?;
        Ok(first)
    }

    /// What happened to a member's reminder for a local date.
    pub fn review_ledger(
        &self,
        user_id: u64,
        date: NaiveDate,
    ) -> StoreResult<Option<DeliveryState>> {
        self.get_json(trees::REVIEW_LEDGER, &ledger_key(user_id, date))
    }

    /// Records what happened to a member's reminder for a local date.
    pub fn set_review_ledger(
        &self,
        user_id: u64,
        date: NaiveDate,
        state: &DeliveryState,
    ) -> StoreResult<()> {
        self.put_json(trees::REVIEW_LEDGER, &ledger_key(user_id, date), state)
    }
}

/// The weekly ledger key: chat id, ISO year, ISO week.
fn week_key(chat_id: i64, (year, week): (i32, u32)) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&key_i64(chat_id));
    key[8..12].copy_from_slice(&year.to_be_bytes());
    key[12..].copy_from_slice(&week.to_be_bytes());
    key
}

fn miss_key(chat_id: i64, card: CardId) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&key_i64(chat_id));
    key[8..].copy_from_slice(&card.to_be_bytes());
    key
}

impl Store {
    /// A group's weekly test setting.
    pub fn weekly_test(&self, chat_id: i64) -> StoreResult<Option<WeeklyTest>> {
        self.get_json(trees::WEEKLY_TESTS, &key_i64(chat_id))
    }

    /// Sets (or with `None` removes) a group's weekly test.
    pub fn set_weekly_test(&self, chat_id: i64, test: Option<&WeeklyTest>) -> StoreResult<()> {
        match test {
            Some(test) => self.put_json(trees::WEEKLY_TESTS, &key_i64(chat_id), test),
            None => self
                .backend()
                .remove(trees::WEEKLY_TESTS, &key_i64(chat_id)),
        }
    }

    /// Every group with a weekly test.
    pub fn weekly_tests(&self) -> StoreResult<Vec<(i64, WeeklyTest)>> {
        Ok(self
            .scan_json::<WeeklyTest>(trees::WEEKLY_TESTS, &[])?
            .into_iter()
            .filter_map(|(key, test)| Some((i64_from_key(&key)?, test)))
            .collect())
    }

    /// What happened to a group's weekly test of one ISO week.
    pub fn weekly_ledger(
        &self,
        chat_id: i64,
        week: (i32, u32),
    ) -> StoreResult<Option<DeliveryState>> {
        self.get_json(trees::WEEKLY_LEDGER, &week_key(chat_id, week))
    }

    /// Records what happened to a group's weekly test of one ISO week.
    pub fn set_weekly_ledger(
        &self,
        chat_id: i64,
        week: (i32, u32),
        state: &DeliveryState,
    ) -> StoreResult<()> {
        self.put_json(trees::WEEKLY_LEDGER, &week_key(chat_id, week), state)
    }

    /// Counts one miss of a question in a group.
    pub fn count_group_miss(&self, chat_id: i64, card: CardId) -> StoreResult<()> {
        self.update_json(
            trees::GROUP_MISSES,
            &miss_key(chat_id, card),
            |count: Option<u32>| Some(count.unwrap_or(0) + 1),
        )?;
        Ok(())
    }

    /// The group's missed questions, most-missed first.
    pub fn group_misses(&self, chat_id: i64) -> StoreResult<Vec<(CardId, u32)>> {
        let mut misses: Vec<(CardId, u32)> = self
            .scan_json::<u32>(trees::GROUP_MISSES, &key_i64(chat_id))?
            .into_iter()
            .filter_map(|(key, count)| Some((card_of_key(&key)?, count)))
            .collect();
        misses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(misses)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::store::contract::stores;
    use crate::text::SectionId;

    #[test]
    fn decks_are_per_user_and_text() {
        for (name, store, _dir) in stores() {
            let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
            let card = crate::review::record(None, SectionId::point(1, 1), false, now).unwrap();
            for (user, text, id) in [(1, "xzsj", 5), (1, "xzsj", 3), (1, "xz", 4), (2, "xzsj", 5)] {
                store
                    .update_review_card(user, text, id, |_| Some(card.clone()))
                    .unwrap();
            }
            let ids: Vec<CardId> = store
                .review_cards(1, "xzsj")
                .unwrap()
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(ids, vec![3, 5], "{name}");
            assert_eq!(
                store.review_card(2, "xzsj", 5).unwrap(),
                Some(card),
                "{name}"
            );
            store.remove_review_card(2, "xzsj", 5).unwrap();
            assert!(store.review_cards(2, "xzsj").unwrap().is_empty(), "{name}");
        }
    }

    #[test]
    fn review_polls_count_the_first_answer_only() {
        for (name, store, _dir) in stores() {
            assert!(!store.answer_review_poll("nope").unwrap(), "{name}");
            let poll = ReviewPoll {
                user_id: 1,
                text: "xzsj".into(),
                card: 9,
                correct: 0,
                options: 4,
                answer: "服务员".into(),
                answered: false,
            };
            store.put_review_poll("p", &poll).unwrap();
            assert!(store.answer_review_poll("p").unwrap(), "{name}");
            assert!(!store.answer_review_poll("p").unwrap(), "{name}");
        }
    }

    #[test]
    fn reminders_and_their_ledger() {
        for (name, store, _dir) in stores() {
            store
                .update_reviewer(7, |r| {
                    r.remind_at = chrono::NaiveTime::from_hms_opt(20, 0, 0)
                })
                .unwrap();
            store.update_reviewer(8, |r| r.reviewed_today = 1).unwrap();
            let with: Vec<u64> = store
                .reviewers_with_reminders()
                .unwrap()
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(with, vec![7], "{name}");
            let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
            assert_eq!(store.review_ledger(7, date).unwrap(), None, "{name}");
            store
                .set_review_ledger(7, date, &DeliveryState::Intended)
                .unwrap();
            assert_eq!(
                store.review_ledger(7, date).unwrap(),
                Some(DeliveryState::Intended),
                "{name}"
            );
        }
    }
}
