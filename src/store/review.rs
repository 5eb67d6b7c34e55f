//! The personal review's collections: each member's decks (one per text), their review
//! settings and running `/review`, what each review poll stands for, and the reminder
//! ledger. Keys are big-endian, so one member's decks are one prefix scan.
//!
//! A deck is one value, its cards in the order `/review` asks them ([`super::deck`]
//! says why, and how it is laid out): the due list reads the member's few decks and
//! decodes only the cards it shows.
//!
//! Answers arrive concurrently, so every change goes through an atomic
//! read-modify-write per key ([`Backend::update`](super::Backend::update)).

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::deck::{self, Deck};
use super::{Store, StoreError, StoreResult, i64_from_key, key_i64, trees};
use crate::review::weekly::WeeklyTest;
use crate::review::{Card, CardId, ReviewPoll, Reviewer};
use crate::schedule::DeliveryState;

/// The tree where schema version 1 kept one JSON card per key: (user id, text id, a 0
/// byte, card id) → [`Card`]. Opening such a store moves them into
/// [`trees::REVIEW_DECKS`] ([`Store::move_v1_cards`]).
pub(super) const V1_REVIEW_CARDS: &str = "review_cards";

/// How many version-1 cards are moved at a time: bounded memory on a large store.
const V1_CHUNK: usize = 10_000;

/// One member's deck for one text: user id, text id, a 0 byte (text ids never hold one).
fn deck_key(user_id: u64, text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + text.len() + 1);
    key.extend(user_id.to_be_bytes());
    key.extend(text.as_bytes());
    key.push(0);
    key
}

/// The text of a deck's key.
fn text_of_deck(key: &[u8]) -> Option<&str> {
    let text = key.get(8..)?.strip_suffix(&[0])?;
    std::str::from_utf8(text)
        .ok()
        .filter(|text| !text.is_empty() && !text.contains('\0'))
}

/// Checks the key of a deck in a backup (a user id, a text id and a 0 byte) and returns
/// its text id.
pub(super) fn check_deck_key(key: &[u8]) -> Result<&str, String> {
    text_of_deck(key).ok_or_else(|| "its key is not a user id, a text id and a 0 byte".to_string())
}

/// Checks a card of schema version 1 in a backup (its key: a deck key and a card id;
/// its value: a card) and returns its text id.
pub(super) fn check_v1_card<'k>(key: &'k [u8], value: &[u8]) -> Result<&'k str, String> {
    let deck = key
        .len()
        .checked_sub(8)
        .map(|end| &key[..end])
        .ok_or_else(|| "its key is too short for a card id".to_string())?;
    let text = check_deck_key(deck)?;
    serde_json::from_slice::<Card>(value).map_err(|error| error.to_string())?;
    Ok(text)
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

fn corrupt(reason: String) -> StoreError {
    StoreError::Corrupt {
        tree: trees::REVIEW_DECKS,
        reason,
    }
}

/// What `/review` needs of a member's decks at one instant ([`Store::review_due`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DueReview {
    /// The first due cards of all the member's decks, in the order `/review` asks them
    /// ([`Card::asked_from`], then card id), at most the limit asked for.
    pub first: Vec<DueCard>,
    /// How many cards are due in all.
    pub due: usize,
    /// When the earliest card not due yet becomes due, if there is one.
    pub next_due: Option<DateTime<Utc>>,
}

/// One of a member's decks as [`Store::review_decks`] reads it: the text id and its
/// cards in the order `/review` asks them.
pub type TextDeck = (String, Vec<(CardId, Card)>);

/// A due card and the text whose deck holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueCard {
    /// The text id.
    pub text: String,
    /// The card's id.
    pub id: CardId,
    /// The card.
    pub card: Card,
}

impl Store {
    /// One member's cards for one text, in the order `/review` asks them.
    pub fn review_cards(&self, user_id: u64, text: &str) -> StoreResult<Vec<(CardId, Card)>> {
        match self
            .backend()
            .get(trees::REVIEW_DECKS, &deck_key(user_id, text))?
        {
            Some(bytes) => Deck::parse(&bytes)
                .and_then(|deck| deck.cards())
                .map_err(corrupt),
            None => Ok(Vec::new()),
        }
    }

    /// Every deck of a member: (text id, its cards in the order `/review` asks them),
    /// by text id.
    pub fn review_decks(&self, user_id: u64) -> StoreResult<Vec<TextDeck>> {
        self.scan_prefix(trees::REVIEW_DECKS, &user_id.to_be_bytes())?
            .into_iter()
            .map(|(key, bytes)| {
                let text = text_of_deck(&key).ok_or_else(|| corrupt("a deck's key".into()))?;
                let cards = Deck::parse(&bytes)
                    .and_then(|deck| deck.cards())
                    .map_err(corrupt)?;
                Ok((text.to_string(), cards))
            })
            .collect()
    }

    /// One card of a member's deck.
    pub fn review_card(&self, user_id: u64, text: &str, card: CardId) -> StoreResult<Option<Card>> {
        let Some(bytes) = self
            .backend()
            .get(trees::REVIEW_DECKS, &deck_key(user_id, text))?
        else {
            return Ok(None);
        };
        let deck = Deck::parse(&bytes).map_err(corrupt)?;
        deck.position(card)
            .map(|index| deck.card(index).map(|(_, card)| card))
            .transpose()
            .map_err(corrupt)
    }

    /// The member's due cards at `now` across all their decks: the first `limit` of
    /// them in the order `/review` asks them, how many are due, and when the next one
    /// not due yet is. Each deck is read once and only its first `limit` due cards are
    /// decoded, so the cost follows the cards shown, not the size of the decks.
    pub fn review_due(
        &self,
        user_id: u64,
        now: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<DueReview> {
        let mut review = DueReview {
            first: Vec::new(),
            due: 0,
            next_due: None,
        };
        for (key, bytes) in self.scan_prefix(trees::REVIEW_DECKS, &user_id.to_be_bytes())? {
            let text = text_of_deck(&key).ok_or_else(|| corrupt("a deck's key".into()))?;
            let deck = Deck::parse(&bytes).map_err(corrupt)?;
            let due = deck.due_count(now).map_err(corrupt)?;
            review.due += due;
            for index in 0..due.min(limit) {
                let (id, card) = deck.card(index).map_err(corrupt)?;
                review.first.push(DueCard {
                    text: text.to_string(),
                    id,
                    card,
                });
            }
            if let Some(at) = deck.next_due(due).map_err(corrupt)? {
                review.next_due = Some(review.next_due.map_or(at, |next| next.min(at)));
            }
        }
        review
            .first
            .sort_by_key(|due| (due.card.asked_from(), due.id));
        review.first.truncate(limit);
        Ok(review)
    }

    /// Atomically changes one card (`f` gets it if present; `None` deletes). Returns the
    /// card written. `f` may run more than once.
    pub fn update_review_card(
        &self,
        user_id: u64,
        text: &str,
        card: CardId,
        mut f: impl FnMut(Option<Card>) -> Option<Card>,
    ) -> StoreResult<Option<Card>> {
        let mut failure = None;
        let mut written = None;
        self.backend()
            .update(trees::REVIEW_DECKS, &deck_key(user_id, text), &mut |old| {
                // The closure may run again: only the last run's outcome counts.
                failure = None;
                let changed = old.map(Deck::parse).transpose().and_then(|deck| {
                    let current = deck
                        .and_then(|deck| deck.position(card).map(|index| deck.card(index)))
                        .transpose()?
                        .map(|(_, card)| card);
                    written = f(current);
                    deck::with_card(deck, card, written.as_ref())
                });
                match changed {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        failure = Some(error);
                        old.map(<[u8]>::to_vec)
                    }
                }
            })?;
        match failure {
            Some(error) => Err(corrupt(error)),
            None => Ok(written),
        }
    }

    /// Removes one card from a member's deck.
    pub fn remove_review_card(&self, user_id: u64, text: &str, card: CardId) -> StoreResult<()> {
        self.update_review_card(user_id, text, card, |_| None)
            .map(drop)
    }

    /// Moves the cards schema version 1 kept one per key ([`V1_REVIEW_CARDS`]) into
    /// decks; returns how many. Each card is merged into its deck before its old key is
    /// removed, so a move cut short loses nothing and the next open (the store is still
    /// version 1 then) completes it with the same result. A card that cannot be read is
    /// left where it is, and logged: the store still opens, and backups keep it.
    pub(super) fn move_v1_cards(&self) -> StoreResult<usize> {
        let mut moved = 0;
        let mut start = Vec::new();
        loop {
            let chunk = self
                .backend()
                .scan(V1_REVIEW_CARDS, &start, None, V1_CHUNK)?;
            let Some((last, _)) = chunk.last() else {
                break;
            };
            start = last.clone();
            start.push(0);
            let mut entries = chunk.into_iter().peekable();
            while let Some((key, value)) = entries.next() {
                let deck = key[..key.len().saturating_sub(8)].to_vec();
                let mut group = vec![(key, value)];
                while let Some((next, value)) = entries
                    .next_if(|(next, _)| next.len() >= 8 && next[..next.len() - 8] == deck[..])
                {
                    group.push((next, value));
                }
                let mut cards = Vec::new();
                let mut keys = Vec::new();
                for (key, value) in group {
                    let card = serde_json::from_slice::<Card>(&value).map_err(|e| e.to_string());
                    match (card_of_key(&key), text_of_deck(&deck), card) {
                        (Some(id), Some(_), Ok(card)) => {
                            cards.push((id, card));
                            keys.push(key);
                        }
                        (_, _, card) => tracing::error!(
                            key = ?key,
                            error = card.err().unwrap_or_else(|| "its key".into()),
                            "a card of schema version 1 cannot be read; it stays in review_cards"
                        ),
                    }
                }
                if cards.is_empty() {
                    continue;
                }
                let mut failure = None;
                self.backend()
                    .update(trees::REVIEW_DECKS, &deck, &mut |old| {
                        failure = None;
                        let mut merged = match old.map(Deck::parse).transpose() {
                            Ok(deck) => match deck.map(|deck| deck.cards()).transpose() {
                                Ok(merged) => merged.unwrap_or_default(),
                                Err(error) => {
                                    failure = Some(error);
                                    return old.map(<[u8]>::to_vec);
                                }
                            },
                            Err(error) => {
                                failure = Some(error);
                                return old.map(<[u8]>::to_vec);
                            }
                        };
                        merged.extend(cards.iter().cloned());
                        Some(deck::from_cards(merged))
                    })?;
                if let Some(error) = failure {
                    return Err(corrupt(error));
                }
                for key in keys {
                    self.backend().remove(V1_REVIEW_CARDS, &key)?;
                    moved += 1;
                }
            }
        }
        Ok(moved)
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
            let decks: Vec<(String, usize)> = store
                .review_decks(1)
                .unwrap()
                .into_iter()
                .map(|(text, cards)| (text, cards.len()))
                .collect();
            assert_eq!(decks, vec![("xz".into(), 1), ("xzsj".into(), 2)], "{name}");
            assert_eq!(
                store.review_card(2, "xzsj", 5).unwrap(),
                Some(card.clone()),
                "{name}"
            );
            assert_eq!(store.review_card(2, "xzsj", 6).unwrap(), None, "{name}");
            store.remove_review_card(2, "xzsj", 5).unwrap();
            assert!(store.review_cards(2, "xzsj").unwrap().is_empty(), "{name}");
            assert_eq!(
                store
                    .backend()
                    .get(trees::REVIEW_DECKS, &deck_key(2, "xzsj"))
                    .unwrap(),
                None,
                "{name}: an empty deck is no record"
            );
            // A change reads the card as stored and may drop it.
            let updated = store
                .update_review_card(1, "xzsj", 3, |card| {
                    let mut card = card?;
                    card.missed += 1;
                    Some(card)
                })
                .unwrap();
            assert_eq!(updated.map(|c| c.missed), Some(card.missed + 1), "{name}");
            assert_eq!(
                store
                    .update_review_card(1, "xzsj", 99, |card| card)
                    .unwrap(),
                None,
                "{name}: nothing to change, nothing added"
            );
            assert_eq!(store.review_cards(1, "xzsj").unwrap().len(), 2, "{name}");
        }
    }

    #[test]
    fn the_due_list_takes_the_front_of_every_deck() {
        for (name, store, _dir) in stores() {
            let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
            let section = SectionId::point(1, 1);
            let mut all = Vec::new();
            for (text, id, hours) in [
                ("a", 1, -5),
                ("b", 2, -3),
                ("a", 3, -1),
                ("b", 4, 10),
                ("c", 5, -4),
                ("c", 6, 30),
            ] {
                // Missed `hours` from now, then answered right when due: due in days.
                let missed = crate::review::record(
                    None,
                    section,
                    false,
                    now + chrono::TimeDelta::hours(hours) - chrono::TimeDelta::days(3),
                )
                .unwrap();
                let due = missed.due();
                let mut card = crate::review::record(Some(missed), section, true, due).unwrap();
                card.fsrs.due = now + chrono::TimeDelta::hours(hours);
                store
                    .update_review_card(7, text, id, |_| Some(card.clone()))
                    .unwrap();
                all.push((id, card));
            }
            let review = store.review_due(7, now, 2).unwrap();
            let first: Vec<(&str, CardId)> = review
                .first
                .iter()
                .map(|due| (due.text.as_str(), due.id))
                .collect();
            assert_eq!(first, vec![("a", 1), ("c", 5)], "{name}");
            assert_eq!(review.due, 4, "{name}");
            assert_eq!(
                review.next_due,
                Some(now + chrono::TimeDelta::hours(10)),
                "{name}"
            );
            let every = store.review_due(7, now, usize::MAX).unwrap();
            let ids: Vec<CardId> = every.first.iter().map(|due| due.id).collect();
            assert_eq!(
                ids,
                crate::review::due_cards(&all, now, usize::MAX),
                "{name}"
            );
            let none = store.review_due(8, now, 5).unwrap();
            assert_eq!((none.first.len(), none.due, none.next_due), (0, 0, None));
        }
    }

    /// A store as schema version 1 left it: one JSON card per key.
    fn version_1(backend: &dyn crate::store::Backend, cards: &[(u64, &str, CardId, Card)]) {
        backend
            .insert(trees::META, b"schema_version", &1_u32.to_be_bytes())
            .unwrap();
        for (user, text, id, card) in cards {
            let mut key = deck_key(*user, text);
            key.extend(id.to_be_bytes());
            backend
                .insert(V1_REVIEW_CARDS, &key, &serde_json::to_vec(card).unwrap())
                .unwrap();
        }
    }

    #[test]
    fn a_version_1_store_opens_with_its_cards_in_decks() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let card = |minutes: i64| {
            crate::review::record(
                None,
                SectionId::point(2, 1),
                false,
                now + chrono::TimeDelta::minutes(minutes),
            )
            .unwrap()
        };
        let cards = [
            (1, "xzsj", 9, card(0)),
            (1, "xzsj", 4, card(-30)),
            (1, "report", 4, card(5)),
            (2, "xzsj", 9, card(-60)),
        ];
        let dir = tempfile::tempdir().unwrap();
        let backends: Vec<(&str, std::sync::Arc<dyn crate::store::Backend>)> = vec![
            (
                "memory",
                std::sync::Arc::new(crate::store::MemoryBackend::default()),
            ),
            (
                "sled",
                std::sync::Arc::new(
                    crate::store::SledBackend::open(&dir.path().join("db")).unwrap(),
                ),
            ),
        ];
        for (name, backend) in backends {
            version_1(backend.as_ref(), &cards);
            // A first move cut short: one card already in its deck, still in the old tree.
            let early = Store {
                backend: backend.clone(),
                grace: crate::schedule::DEFAULT_GRACE,
                snapshots: Default::default(),
                versions: Default::default(),
            };
            early
                .update_review_card(1, "xzsj", 9, |_| Some(cards[0].3.clone()))
                .unwrap();
            // A card that cannot be read stays where it is; the store still opens.
            let mut unreadable = deck_key(3, "xzsj");
            unreadable.extend(1_u64.to_be_bytes());
            backend
                .insert(V1_REVIEW_CARDS, &unreadable, b"{\"not\": \"a card\"}")
                .unwrap();

            let store = Store::with_backend(backend.clone()).unwrap();
            assert_eq!(
                store.schema_version().unwrap(),
                Some(crate::store::SCHEMA_VERSION),
                "{name}"
            );
            assert_eq!(
                store.review_cards(1, "xzsj").unwrap(),
                vec![(4, cards[1].3.clone()), (9, cards[0].3.clone())],
                "{name}: in the order /review asks them"
            );
            assert_eq!(
                store.review_cards(1, "report").unwrap(),
                vec![(4, cards[2].3.clone())],
                "{name}"
            );
            assert_eq!(
                store.review_card(2, "xzsj", 9).unwrap(),
                Some(cards[3].3.clone()),
                "{name}"
            );
            let left = backend
                .scan(V1_REVIEW_CARDS, &[], None, usize::MAX)
                .unwrap();
            assert_eq!(left.len(), 1, "{name}: only the unreadable card is left");
            assert_eq!(left[0].0, unreadable, "{name}");
            // Opening again moves nothing twice.
            drop(store);
            let again = Store::with_backend(backend).unwrap();
            assert_eq!(again.review_cards(1, "xzsj").unwrap().len(), 2, "{name}");
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
