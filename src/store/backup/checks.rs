//! The checks [`super::verify`] runs: each collection's rule for its records, and the
//! consistency of the records with one another (texts named, sections, imported texts).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::quiz::{QuizSession, Score};
use crate::record::{CheckIn, Days, Member, QuestionTally, QuizAnswer, ReportSetting};
use crate::review::weekly::WeeklyTest;
use crate::review::{ReviewPoll, Reviewer};
use crate::schedule::{DeliveryState, LedgerEntry, Subscription};
use crate::store::review::{V1_REVIEW_CARDS, check_deck_key, check_v1_card};
use crate::store::sections::{backup_document, backup_section};
use crate::store::{
    ChatStatus, ChatText, Collection, ImportedText, MENU_BUTTON_KEY, PollTarget, SCHEMA_VERSION,
    SCHEMA_VERSION_KEY, StoreResult, i64_from_key, trees,
};

use super::{BackupItem, MAX_TEXTS, hex, invalid};

/// Where an entry is in a backup, to name it.
#[derive(Debug, Clone)]
pub(super) struct Place {
    /// The entry's rank in the whole file, from 1: the first failure is the lowest.
    rank: usize,
    tree: String,
    index: usize,
    key: Vec<u8>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            formatter,
            "entry {} of \"{}\" (key {})",
            self.index,
            self.tree,
            hex(&self.key)
        )
    }
}

/// What [`verify`] keeps while it reads: the trees seen, the last key of the current
/// one, and for each text (a few dozen in a real store, at most [`MAX_TEXTS`]) where it
/// was first met.
pub(super) struct Consistency<'a> {
    shipped: &'a [String],
    version: u32,
    pub(super) seen_trees: BTreeSet<String>,
    last_key: Option<Vec<u8>>,
    pub(super) entries: usize,
    /// Document records: each text's declared number of sections.
    documents: BTreeMap<String, (usize, Place)>,
    /// Sections: how many each text has, and where its first is.
    sections: BTreeMap<String, (usize, Place)>,
    /// Records of imported texts.
    imported: BTreeMap<String, Place>,
    /// Texts named by other records, where first named.
    references: BTreeMap<String, Place>,
}

impl<'a> Consistency<'a> {
    pub(super) fn new(shipped: &'a [String]) -> Self {
        Self {
            shipped,
            version: SCHEMA_VERSION,
            seen_trees: BTreeSet::new(),
            last_key: None,
            entries: 0,
            documents: BTreeMap::new(),
            sections: BTreeMap::new(),
            imported: BTreeMap::new(),
            references: BTreeMap::new(),
        }
    }

    pub(super) fn item(&mut self, item: BackupItem<'_>) -> StoreResult<()> {
        match item {
            BackupItem::Header(header) => self.version = header.schema_version,
            BackupItem::Tree(name) => {
                let known = Collection::named(name).is_some()
                    || (self.version == 1 && name == V1_REVIEW_CARDS);
                if !known {
                    return Err(invalid(format!(
                        "the backup has a tree \"{name}\" that this build does not know (written by a newer studybot, or by hand); nothing was imported"
                    )));
                }
                if !self.seen_trees.insert(name.to_string()) {
                    return Err(invalid(format!(
                        "the backup lists the tree \"{name}\" twice; nothing was imported"
                    )));
                }
                self.last_key = None;
            }
            BackupItem::Entry {
                tree,
                index,
                key,
                value,
            } => {
                self.entries += 1;
                let place = || Place {
                    rank: self.entries,
                    tree: tree.to_string(),
                    index,
                    key: key.to_vec(),
                };
                let refuse = |reason: String| {
                    invalid(format!(
                        "{} is not valid: {reason}; nothing was imported",
                        place()
                    ))
                };
                if self.last_key.as_deref().is_some_and(|last| key <= last) {
                    return Err(refuse(
                        "its key is not after the one before it (a tree lists each key once, in order)".into(),
                    ));
                }
                let facts = check_entry(self.version, tree, key, value).map_err(refuse)?;
                self.last_key = Some(key.to_vec());
                if let Some((text, sections)) = facts.document {
                    self.documents.insert(text, (sections, place()));
                }
                if let Some(text) = facts.section_of {
                    match self.sections.get_mut(&text) {
                        Some((count, _)) => *count += 1,
                        None => {
                            self.sections.insert(text, (1, place()));
                        }
                    }
                }
                if let Some(text) = facts.imported {
                    self.imported.insert(text, place());
                }
                for text in facts.texts {
                    self.references.entry(text).or_insert_with(place);
                }
                let texts = [
                    self.documents.len(),
                    self.sections.len(),
                    self.imported.len(),
                    self.references.len(),
                ];
                if texts.into_iter().any(|count| count > MAX_TEXTS) {
                    return Err(invalid(format!(
                        "{} names more than {MAX_TEXTS} texts; nothing was imported",
                        place()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The checks across records, once every entry was read: the first failure in file
    /// order, if any.
    pub(super) fn finish(&self) -> StoreResult<()> {
        let shipped = |text: &str| self.shipped.iter().any(|id| id == text);
        let available = |text: &str| {
            shipped(text) || (self.imported.contains_key(text) && self.documents.contains_key(text))
        };
        let mut failures: Vec<(usize, String)> = Vec::new();
        for (text, place) in &self.references {
            if !available(text) {
                failures.push((place.rank, format!(
                    "{place} refers to text \"{text}\", which is neither in the backup (an imported text with its record and sections) nor shipped in data/texts"
                )));
            }
        }
        for (text, (declared, place)) in &self.documents {
            let found = self.sections.get(text).map_or(0, |(count, _)| *count);
            if found != *declared {
                failures.push((
                    place.rank,
                    format!(
                        "document {text} should have {declared} sections, the backup has {found}"
                    ),
                ));
            }
            if !shipped(text) && !self.imported.contains_key(text) {
                failures.push((place.rank, format!(
                    "{place} is the record of text \"{text}\", which is neither imported in the backup (no entry in \"{}\") nor shipped in data/texts: its sections would belong to no text",
                    trees::IMPORTED
                )));
            }
        }
        for (text, (_, place)) in &self.sections {
            if !self.documents.contains_key(text) {
                failures.push((place.rank, format!(
                    "{place} is a section of text \"{text}\", which has no document record in the backup: sections of no text"
                )));
            }
        }
        for (text, place) in &self.imported {
            if !self.documents.contains_key(text) {
                failures.push((place.rank, format!(
                    "{place} records imported text \"{text}\", whose document record and sections are not in the backup"
                )));
            }
        }
        match failures.into_iter().min_by_key(|(rank, _)| *rank) {
            Some((_, failure)) => Err(invalid(format!("{failure}; nothing was imported"))),
            None => Ok(()),
        }
    }
}

/// What an entry says about the texts, for the checks across records.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Facts {
    /// The texts the record refers to.
    texts: Vec<String>,
    /// A document record: its text and number of sections.
    document: Option<(String, usize)>,
    /// A section: the text it belongs to.
    section_of: Option<String>,
    /// An imported text's record: its id.
    imported: Option<String>,
}

impl Facts {
    pub(super) fn texts(texts: impl IntoIterator<Item = String>) -> Self {
        Self {
            texts: texts.into_iter().collect(),
            ..Self::default()
        }
    }
}

/// One entry of a tree in a backup of layout `version`, checked with the rules of its
/// collection (see [`verify`]); returns what it says about the texts. Every collection
/// has its rule (the `match` is exhaustive): a new one must say how its records are
/// checked and which texts they name.
pub(super) fn check_entry(
    version: u32,
    tree: &str,
    key: &[u8],
    value: &[u8],
) -> Result<Facts, String> {
    fn decode<T: serde::de::DeserializeOwned>(value: &[u8]) -> Result<T, String> {
        serde_json::from_slice(value).map_err(|error| error.to_string())
    }
    fn key_len(key: &[u8], len: usize) -> Result<(), String> {
        match key.len() == len {
            true => Ok(()),
            false => Err(format!("its key has {} bytes, not {len}", key.len())),
        }
    }
    fn same_chat(key: &[u8], chat_id: i64) -> Result<(), String> {
        match i64_from_key(key) {
            Some(keyed) if keyed == chat_id => Ok(()),
            keyed => Err(format!(
                "it is the record of chat {chat_id}, filed under chat {}",
                keyed.map_or("?".to_string(), |id| id.to_string())
            )),
        }
    }
    fn chat_keyed(key: &[u8], len: usize, chat_id: i64) -> Result<(), String> {
        key_len(key, len)?;
        same_chat(key, chat_id)
    }
    let none = |checked: Result<(), String>| checked.map(|()| Facts::default());
    let Some(collection) = Collection::named(tree) else {
        return match version == 1 && tree == V1_REVIEW_CARDS {
            // Version 1's cards, moved into decks once restored.
            true => check_v1_card(key, value).map(|text| Facts::texts([text.to_string()])),
            false => Err(format!("this build keeps no tree \"{tree}\"")),
        };
    };
    match collection {
        Collection::Meta if key == SCHEMA_VERSION_KEY => {
            none(match value == version.to_be_bytes() {
                true => Ok(()),
                false => Err(format!(
                    "it records schema version {value:?}, but the header says {version}"
                )),
            })
        }
        Collection::Meta if key.starts_with(b"document:") => {
            let (text, sections) = backup_document(key, value)?;
            Ok(Facts {
                document: Some((text, sections)),
                ..Facts::default()
            })
        }
        Collection::Meta if key == MENU_BUTTON_KEY => none(
            std::str::from_utf8(value)
                .map(drop)
                .map_err(|_| "the menu button's address is not UTF-8".to_string()),
        ),
        Collection::Meta => Err("this build keeps no such record".into()),
        Collection::Sections => Ok(Facts {
            section_of: Some(backup_section(key, value)?),
            ..Facts::default()
        }),
        Collection::Chats => {
            key_len(key, 8)?;
            none(same_chat(key, decode::<ChatStatus>(value)?.chat_id))
        }
        Collection::Subscriptions => {
            key_len(key, 8)?;
            let subscription = decode::<Subscription>(value)?;
            same_chat(key, subscription.chat_id)?;
            Ok(Facts::texts([subscription.document]))
        }
        Collection::DueIndex => {
            key_len(key, 16)?;
            none(match value.is_empty() {
                true => Ok(()),
                false => Err("an index entry has no value".into()),
            })
        }
        Collection::Ledger => {
            key_len(key, 12)?;
            none(decode::<LedgerEntry>(value).map(drop))
        }
        Collection::Quizzes => {
            key_len(key, 8)?;
            none(same_chat(key, decode::<QuizSession>(value)?.chat_id))
        }
        Collection::Polls => {
            std::str::from_utf8(key).map_err(|_| "a poll id is text".to_string())?;
            none(decode::<PollTarget>(value).map(drop))
        }
        Collection::Scores => {
            key_len(key, 16)?;
            none(decode::<Score>(value).map(drop))
        }
        Collection::QuizSettings => {
            key_len(key, 8)?;
            none(decode::<bool>(value).map(drop))
        }
        Collection::Imported => {
            let text = decode::<ImportedText>(value)?;
            match key == text.id.as_bytes() {
                true => Ok(Facts {
                    imported: Some(text.id),
                    ..Facts::default()
                }),
                false => Err(format!(
                    "it is text \"{}\", filed under another id",
                    text.id
                )),
            }
        }
        Collection::ChatTexts => {
            key_len(key, 8)?;
            let choice = decode::<ChatText>(value)?;
            same_chat(key, choice.chat_id)?;
            // Only the text it studies: where it stopped in others (`left_at`) is kept
            // for a return, and harmless when that text is gone.
            Ok(Facts::texts([choice.document]))
        }
        Collection::ReviewDecks => match version == SCHEMA_VERSION {
            true => {
                let text = check_deck_key(key)?;
                crate::store::deck::check(value)?;
                Ok(Facts::texts([text.to_string()]))
            }
            false => Err("version 1 kept no decks".into()),
        },
        Collection::Reviewers => {
            key_len(key, 8)?;
            none(decode::<Reviewer>(value).map(drop))
        }
        Collection::ReviewPolls => {
            std::str::from_utf8(key).map_err(|_| "a poll id is text".to_string())?;
            Ok(Facts::texts([decode::<ReviewPoll>(value)?.text]))
        }
        Collection::ReviewLedger => {
            key_len(key, 12)?;
            none(decode::<DeliveryState>(value).map(drop))
        }
        Collection::WeeklyTests => {
            key_len(key, 8)?;
            none(decode::<WeeklyTest>(value).map(drop))
        }
        Collection::WeeklyLedger => {
            key_len(key, 16)?;
            none(decode::<DeliveryState>(value).map(drop))
        }
        Collection::GroupMisses => {
            key_len(key, 16)?;
            none(decode::<u32>(value).map(drop))
        }
        Collection::CheckIns => {
            let check_in = decode::<CheckIn>(value)?;
            chat_keyed(key, 20, check_in.chat_id)?;
            Ok(Facts::texts([check_in.document]))
        }
        Collection::CheckInCounts => {
            key_len(key, 12)?;
            none(match value.len() == 4 {
                true => Ok(()),
                false => Err(format!("a count has 4 bytes, not {}", value.len())),
            })
        }
        Collection::Members => {
            key_len(key, 16)?;
            none(decode::<Member>(value).map(drop))
        }
        Collection::MemberDays => {
            key_len(key, 16)?;
            none(Days::from_bytes(value).map(drop))
        }
        Collection::QuizAnswers => {
            let answer = decode::<QuizAnswer>(value)?;
            none(chat_keyed(key, 24, answer.chat_id))
        }
        Collection::QuizTallies => {
            key_len(key, 17)?;
            none(decode::<QuestionTally>(value).map(drop))
        }
        Collection::ReportSettings => {
            key_len(key, 8)?;
            none(decode::<ReportSetting>(value).map(drop))
        }
        Collection::ReportLedger => {
            key_len(key, 12)?;
            none(decode::<DateTime<Utc>>(value).map(drop))
        }
    }
}
