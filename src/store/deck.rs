//! The stored form of one member's deck for one text: one value holding every card as
//! a fixed-width binary record, kept in the order `/review` asks them
//! ([`Card::asked_from`], then card id).
//!
//! Why one value per deck rather than one per card: sled holds memory for every stored
//! key for as long as the database is open — its leaves keep at most 16 entries, and
//! each leaf is a page with a page-table entry and a list of fragments, about 32 bytes
//! a key whatever the size of the values. 2,000,000 cards stored one per key cost
//! 64 MB of idle memory; as 100,000 decks they cost 4 MB. Why ordered: the cards due
//! at `now` are the front of the deck, found by binary search, so the due list decodes
//! only the cards it shows, however large the deck.
//!
//! A deck is one format byte ([`FORMAT`]), then [`RECORD`]-byte records; a card's
//! record, big-endian (instants as seconds since the Unix epoch, `i64`, and
//! nanoseconds, `u32`, so that every instant a card can hold reads back the same):
//!
//! | bytes | field                                    |
//! |-------|------------------------------------------|
//! | 8     | card id                                  |
//! | 12    | FSRS due instant                         |
//! | 1     | FSRS state (0 new, 1 learning, 2 review, 3 relearning) |
//! | 2     | section: part, point                     |
//! | 4     | times missed                             |
//! | 4     | times answered                           |
//! | 12    | added at                                 |
//! | 12    | FSRS last review                         |
//! | 8     | FSRS stability (`f64`)                   |
//! | 8     | FSRS difficulty (`f64`)                  |
//! | 8     | FSRS elapsed days (`i64`)                |
//! | 8     | FSRS scheduled days (`i64`)              |
//! | 4     | FSRS reps (`i32`)                        |
//! | 4     | FSRS lapses (`i32`)                      |

use chrono::{DateTime, Utc};
use rs_fsrs::State;

use crate::review::{Card, CardId, asked_from};
use crate::text::SectionId;

/// The first byte of every deck: the layout of its records.
pub const FORMAT: u8 = 1;

/// The size of one card's record.
pub const RECORD: usize = 95;

/// Offsets of the fields in a record.
const ID: usize = 0;
const DUE: usize = 8;
const STATE: usize = 20;
const SECTION: usize = 21;
const MISSED: usize = 23;
const ANSWERED: usize = 27;
const ADDED_AT: usize = 31;
const LAST_REVIEW: usize = 43;
const STABILITY: usize = 55;
const DIFFICULTY: usize = 63;
const ELAPSED_DAYS: usize = 71;
const SCHEDULED_DAYS: usize = 79;
const REPS: usize = 87;
const LAPSES: usize = 91;

/// A stored deck, checked for its format and length; its records are decoded on use.
#[derive(Debug, Clone, Copy)]
pub struct Deck<'a> {
    records: &'a [u8],
}

impl<'a> Deck<'a> {
    /// Reads a stored deck; the error says what is wrong with it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        match bytes.split_first() {
            Some((&FORMAT, records)) if records.len().is_multiple_of(RECORD) => {
                Ok(Self { records })
            }
            Some((&FORMAT, records)) => Err(format!(
                "a deck of {} bytes is not whole {RECORD}-byte cards",
                records.len()
            )),
            Some((format, _)) => Err(format!("unknown deck format {format}")),
            None => Err("an empty deck".into()),
        }
    }

    /// How many cards the deck holds.
    pub fn len(&self) -> usize {
        self.records.len() / RECORD
    }

    /// The card id of the `index`th card.
    pub fn id(&self, index: usize) -> CardId {
        u64::from_be_bytes(field(self.record(index), ID))
    }

    /// Where card `id` is in the deck.
    pub fn position(&self, id: CardId) -> Option<usize> {
        (0..self.len()).find(|&index| self.id(index) == id)
    }

    /// The `index`th card.
    pub fn card(&self, index: usize) -> Result<(CardId, Card), String> {
        decode(self.record(index))
    }

    /// Every card, in the deck's order.
    pub fn cards(&self) -> Result<Vec<(CardId, Card)>, String> {
        (0..self.len()).map(|index| self.card(index)).collect()
    }

    /// How many cards are due at `now`: the deck's first ones (binary search).
    pub fn due_count(&self, now: DateTime<Utc>) -> Result<usize, String> {
        let mut failure = None;
        let count = partition(self.len(), |index| match self.asked_from(index) {
            Ok(at) => at <= now,
            Err(error) => {
                failure = Some(error);
                false
            }
        });
        match failure {
            Some(error) => Err(error),
            None => Ok(count),
        }
    }

    /// The earliest due instant of the cards from `index` on (the ones not due, when
    /// `index` is [`Deck::due_count`]). Reads only the cards that could have it: a
    /// card's due instant is at most [`crate::review::LEARN_AHEAD`] after the instant it
    /// is ordered by.
    pub fn next_due(&self, index: usize) -> Result<Option<DateTime<Utc>>, String> {
        let mut earliest: Option<DateTime<Utc>> = None;
        for index in index..self.len() {
            let record = self.record(index);
            let (due, short_term) = due_of(record)?;
            if earliest.is_some_and(|earliest| asked_from(due, short_term) > earliest) {
                break;
            }
            earliest = Some(earliest.map_or(due, |earliest| earliest.min(due)));
        }
        Ok(earliest)
    }

    /// From when `/review` asks the `index`th card.
    fn asked_from(&self, index: usize) -> Result<DateTime<Utc>, String> {
        let (due, short_term) = due_of(self.record(index))?;
        Ok(asked_from(due, short_term))
    }

    fn record(&self, index: usize) -> &'a [u8] {
        &self.records[index * RECORD..(index + 1) * RECORD]
    }
}

/// The deck `deck` (none: an empty one) with card `id` replaced by `card` (`None`
/// removes it), in order. `None` when no card is left.
pub fn with_card(
    deck: Option<Deck<'_>>,
    id: CardId,
    card: Option<&Card>,
) -> Result<Option<Vec<u8>>, String> {
    let records = deck.map_or(&[][..], |deck| deck.records);
    let mut bytes = Vec::with_capacity(1 + records.len() + RECORD);
    bytes.push(FORMAT);
    match deck.and_then(|deck| deck.position(id)) {
        Some(old) => {
            bytes.extend_from_slice(&records[..old * RECORD]);
            bytes.extend_from_slice(&records[(old + 1) * RECORD..]);
        }
        None => bytes.extend_from_slice(records),
    }
    if let Some(card) = card {
        let key = (card.asked_from(), id);
        let rest = Deck::parse(&bytes)?;
        let mut failure = None;
        let at = partition(rest.len(), |index| match rest.asked_from(index) {
            Ok(asked) => (asked, rest.id(index)) < key,
            Err(error) => {
                failure = Some(error);
                false
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
        let offset = 1 + at * RECORD;
        bytes.splice(offset..offset, encode(id, card));
    }
    Ok((bytes.len() > 1).then_some(bytes))
}

/// A deck of `cards` (a card id given twice keeps the last), in order.
pub fn from_cards(cards: Vec<(CardId, Card)>) -> Vec<u8> {
    let mut unique: std::collections::BTreeMap<CardId, Card> = std::collections::BTreeMap::new();
    unique.extend(cards);
    let mut cards: Vec<(CardId, Card)> = unique.into_iter().collect();
    cards.sort_by_key(|(id, card)| (card.asked_from(), *id));
    let mut bytes = Vec::with_capacity(1 + cards.len() * RECORD);
    bytes.push(FORMAT);
    for (id, card) in &cards {
        bytes.extend_from_slice(&encode(*id, card));
    }
    bytes
}

/// Checks a stored deck: its format, and that every card decodes and is in order.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let deck = Deck::parse(bytes)?;
    let mut previous: Option<(DateTime<Utc>, CardId)> = None;
    for index in 0..deck.len() {
        let (id, card) = deck.card(index)?;
        let key = (card.asked_from(), id);
        if previous.is_some_and(|previous| previous >= key) {
            return Err(format!("card {id} is out of order"));
        }
        previous = Some(key);
    }
    match previous {
        Some(_) => Ok(()),
        None => Err("a deck without cards".into()),
    }
}

/// One card's record.
fn encode(id: CardId, card: &Card) -> [u8; RECORD] {
    let mut record = [0; RECORD];
    let mut put = |at: usize, bytes: &[u8]| record[at..at + bytes.len()].copy_from_slice(bytes);
    let fsrs = &card.fsrs;
    put(ID, &id.to_be_bytes());
    put(DUE, &instant(fsrs.due));
    put(STATE, &[fsrs.state as u8]);
    put(SECTION, &[card.section.part, card.section.point]);
    put(MISSED, &card.missed.to_be_bytes());
    put(ANSWERED, &card.answered.to_be_bytes());
    put(ADDED_AT, &instant(card.added_at));
    put(LAST_REVIEW, &instant(fsrs.last_review));
    put(STABILITY, &fsrs.stability.to_be_bytes());
    put(DIFFICULTY, &fsrs.difficulty.to_be_bytes());
    put(ELAPSED_DAYS, &fsrs.elapsed_days.to_be_bytes());
    put(SCHEDULED_DAYS, &fsrs.scheduled_days.to_be_bytes());
    put(REPS, &fsrs.reps.to_be_bytes());
    put(LAPSES, &fsrs.lapses.to_be_bytes());
    record
}

/// Reads one card's record.
fn decode(record: &[u8]) -> Result<(CardId, Card), String> {
    let id = u64::from_be_bytes(field(record, ID));
    let (due, _) = due_of(record)?;
    let card = Card {
        section: SectionId {
            part: record[SECTION],
            point: record[SECTION + 1],
        },
        missed: u32::from_be_bytes(field(record, MISSED)),
        answered: u32::from_be_bytes(field(record, ANSWERED)),
        added_at: read_instant(record, ADDED_AT)?,
        fsrs: rs_fsrs::Card {
            due,
            stability: f64::from_be_bytes(field(record, STABILITY)),
            difficulty: f64::from_be_bytes(field(record, DIFFICULTY)),
            elapsed_days: i64::from_be_bytes(field(record, ELAPSED_DAYS)),
            scheduled_days: i64::from_be_bytes(field(record, SCHEDULED_DAYS)),
            reps: i32::from_be_bytes(field(record, REPS)),
            lapses: i32::from_be_bytes(field(record, LAPSES)),
            state: state(record[STATE])?,
            last_review: read_instant(record, LAST_REVIEW)?,
        },
    };
    Ok((id, card))
}

/// A record's due instant, and whether the card is in its short-term steps.
fn due_of(record: &[u8]) -> Result<(DateTime<Utc>, bool), String> {
    let short_term = !matches!(state(record[STATE])?, State::Review);
    Ok((read_instant(record, DUE)?, short_term))
}

fn state(byte: u8) -> Result<State, String> {
    match byte {
        0 => Ok(State::New),
        1 => Ok(State::Learning),
        2 => Ok(State::Review),
        3 => Ok(State::Relearning),
        other => Err(format!("unknown FSRS state {other}")),
    }
}

fn instant(at: DateTime<Utc>) -> [u8; 12] {
    let mut bytes = [0; 12];
    bytes[..8].copy_from_slice(&at.timestamp().to_be_bytes());
    bytes[8..].copy_from_slice(&at.timestamp_subsec_nanos().to_be_bytes());
    bytes
}

fn read_instant(record: &[u8], at: usize) -> Result<DateTime<Utc>, String> {
    let seconds = i64::from_be_bytes(field(record, at));
    let nanos = u32::from_be_bytes(field(record, at + 8));
    DateTime::from_timestamp(seconds, nanos)
        .ok_or_else(|| format!("{seconds}.{nanos:09} is not an instant"))
}

/// The `N` bytes of `record` at `at` (the offsets above are within every record).
fn field<const N: usize>(record: &[u8], at: usize) -> [u8; N] {
    let mut bytes = [0; N];
    bytes.copy_from_slice(&record[at..at + N]);
    bytes
}

/// The number of indexes in `0..len` for which `before` holds, `before` being true for
/// a prefix of them (the standard library's `partition_point`, over indexes).
fn partition(len: usize, mut before: impl FnMut(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        if before(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::review::{due_cards, next_due, record};

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    /// A card as a member's answers leave it: missed at `added`, then `rights` right
    /// answers, each when due.
    fn card(added: i64, rights: usize) -> Card {
        let section = SectionId::point(2, 3);
        let mut card = record(None, section, false, at(added)).unwrap();
        for _ in 0..rights {
            let due = card.due();
            card = record(Some(card), section, true, due).unwrap();
        }
        card
    }

    #[test]
    fn a_card_reads_back_the_same_to_the_nanosecond() {
        let mut odd = card(-5, 2);
        odd.added_at = Utc.timestamp_opt(-62_000_000_000, 999_999_999).unwrap();
        odd.fsrs.stability = f64::MIN_POSITIVE;
        odd.fsrs.elapsed_days = -3;
        odd.missed = u32::MAX;
        for (id, card) in [(0, card(0, 0)), (u64::MAX, card(-100, 1)), (7, odd)] {
            let bytes = from_cards(vec![(id, card.clone())]);
            assert_eq!(bytes.len(), 1 + RECORD);
            let deck = Deck::parse(&bytes).unwrap();
            assert_eq!(deck.cards().unwrap(), vec![(id, card)]);
            check(&bytes).unwrap();
        }
    }

    #[test]
    fn decks_stay_in_order_and_give_the_due_list_of_the_reference() {
        let mut rng = StdRng::seed_from_u64(15);
        let mut bytes: Option<Vec<u8>> = None;
        let mut all: std::collections::BTreeMap<CardId, Card> = Default::default();
        for step in 0..400 {
            let id = rng.random_range(0..60);
            let change = match rng.random_range(0..5) {
                0 => None,
                n => Some(card(rng.random_range(-3_000..600), n - 1)),
            };
            let deck = bytes.as_deref().map(|b| Deck::parse(b).unwrap());
            bytes = with_card(deck, id, change.as_ref()).unwrap();
            match change {
                Some(card) => all.insert(id, card),
                None => all.remove(&id),
            };
            let cards: Vec<(CardId, Card)> = all.clone().into_iter().collect();
            let Some(bytes) = &bytes else {
                assert!(cards.is_empty(), "step {step}");
                continue;
            };
            check(bytes).unwrap();
            let deck = Deck::parse(bytes).unwrap();
            assert_eq!(deck.len(), cards.len(), "step {step}");
            for now in [at(-4_000), at(0), at(30), at(50_000)] {
                let count = deck.due_count(now).unwrap();
                let front: Vec<CardId> = (0..count).map(|i| deck.id(i)).collect();
                assert_eq!(front, due_cards(&cards, now, usize::MAX), "step {step}");
                assert_eq!(
                    deck.next_due(count).unwrap(),
                    next_due(&cards, now),
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn damaged_decks_are_named_not_misread() {
        let good = from_cards(vec![(1, card(0, 0)), (2, card(5, 1))]);
        assert!(Deck::parse(&[]).is_err());
        assert!(Deck::parse(&good[..good.len() - 1]).is_err());
        let mut other_format = good.clone();
        other_format[0] = 9;
        assert!(Deck::parse(&other_format).unwrap_err().contains("format 9"));
        let mut bad_state = good.clone();
        bad_state[1 + STATE] = 7;
        assert!(check(&bad_state).unwrap_err().contains("state 7"));
        let mut swapped = vec![FORMAT];
        swapped.extend_from_slice(&good[1 + RECORD..]);
        swapped.extend_from_slice(&good[1..1 + RECORD]);
        assert!(check(&swapped).unwrap_err().contains("out of order"));
        assert!(check(&[FORMAT]).is_err());
    }
}
