//! Backups: the whole store as one JSON document, and restoring it.
//!
//! The dump is generic and lossless: it walks every tree the backend has (so a
//! collection added later is backed up without touching this file) and keeps every key
//! and value byte for byte. A backup file reads:
//!
//! ```json
//! {
//!   "format": "studybot-backup",
//!   "schema_version": 1,
//!   "exported_at": "2026-05-02T08:00:00Z",
//!   "studybot_version": "0.1.0",
//!   "trees": {
//!     "subscriptions": [
//!       { "key": "7ffffffffffffffb", "value": { "json": { "chat_id": -5, "…": "…" } } }
//!     ],
//!     "due_index": [ { "key": "000000006a1b2c3d7ffffffffffffffb", "value": { "hex": "" } } ]
//!   }
//! }
//! ```
//!
//! Keys are hex (they are big-endian numbers and binary prefixes). A value that is JSON
//! exactly as stored is embedded as is under `"json"`, so a person can read the records;
//! anything else (the schema version, the due index's empty values) is hex under `"hex"`.
//! The tag keeps the two apart: a JSON string is never mistaken for hex.
//!
//! [`Store::import`] replaces the store's contents with a backup's. The database must not
//! be in use meanwhile; the `studybot` binary opens it exclusively (sled locks it), so a
//! running bot must be stopped first.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::sections::check_backup_texts;
use super::{
    ChatStatus, Collection, Entry, ImportedText, OLDEST_SCHEMA_VERSION, PollTarget, SCHEMA_VERSION,
    SCHEMA_VERSION_KEY, Store, StoreError, StoreResult, i64_from_key, trees,
};
use crate::quiz::{QuizSession, Score};
use crate::record::{CheckIn, Member, QuizAnswer, ReportSetting};
use crate::review::weekly::WeeklyTest;
use crate::review::{ReviewPoll, Reviewer};
use crate::schedule::{DeliveryState, LedgerEntry, Subscription};

/// The value of a backup's `format` field.
pub const BACKUP_FORMAT: &str = "studybot-backup";

/// Trees a fresh database already fills: the schema version and the texts, which every
/// start writes from `data/`. Everything else is user state (see [`Store::user_state`]).
pub const DERIVED_TREES: &[&str] = &[trees::META, trees::SECTIONS];

/// The whole store at one moment, as written to and read from a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// Always [`BACKUP_FORMAT`]; anything else is not one of our backups.
    pub format: String,
    /// The store layout the entries follow ([`SCHEMA_VERSION`] when written; an older
    /// one, from [`OLDEST_SCHEMA_VERSION`] on, is restored and then moved to this one).
    pub schema_version: u32,
    /// When the backup was taken.
    pub exported_at: DateTime<Utc>,
    /// The studybot version that wrote it (for people; not checked).
    #[serde(default)]
    pub studybot_version: String,
    /// Every non-empty tree by name, its entries in key order.
    pub trees: BTreeMap<String, Vec<BackupEntry>>,
}

/// One stored key and its value, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireEntry", try_from = "WireEntry")]
pub struct BackupEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// What [`Store::import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreReport {
    /// Trees written.
    pub trees: usize,
    /// Entries written.
    pub entries: usize,
    /// Entries that were in the store before and were removed first.
    pub replaced: usize,
}

impl Backup {
    /// The number of entries in all trees.
    pub fn entries(&self) -> usize {
        self.trees.values().map(Vec::len).sum()
    }

    /// Encodes the backup as pretty-printed JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a backup serializes to JSON")
    }

    /// Decodes a backup, refusing files that are not studybot backups or that were
    /// written for another store layout.
    pub fn from_json(bytes: &[u8]) -> StoreResult<Self> {
        // The header first: a wrong file or version deserves that message, not a
        // complaint about some field deep inside.
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            schema_version: Option<u32>,
        }
        let header: Header = serde_json::from_slice(bytes)
            .map_err(|error| invalid(format!("not a studybot backup ({error})")))?;
        check_header(header.format.as_deref(), header.schema_version)?;
        serde_json::from_slice(bytes).map_err(|error| invalid(format!("damaged backup: {error}")))
    }

    /// Writes the backup to `path`, replacing it only once the whole file is written
    /// (a failed export never leaves half a backup under the name). The file is
    /// readable by its owner only: it holds chat ids and names. A symbolic link is
    /// followed: the file it points to is replaced and the link stays. Returns the
    /// file written.
    pub fn write(&self, path: &Path) -> StoreResult<PathBuf> {
        let path = &follow_links(path)
            .map_err(|error| invalid(format!("cannot write {}: {error}", path.display())))?;
        let io =
            |error: std::io::Error| invalid(format!("cannot write {}: {error}", path.display()));
        let name = path
            .file_name()
            .ok_or_else(|| invalid(format!("{} is not a file name", path.display())))?;
        let mut temporary = name.to_os_string();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = path.with_file_name(temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = options.open(&temporary).and_then(|mut file| {
            std::io::Write::write_all(&mut file, &self.to_json())?;
            file.sync_all()
        });
        if let Err(error) = result.and_then(|()| std::fs::rename(&temporary, path)) {
            let _ = std::fs::remove_file(&temporary);
            return Err(io(error));
        }
        Ok(path.clone())
    }

    /// Reads and decodes the backup at `path` (see [`Backup::from_json`]).
    pub fn read(path: &Path) -> StoreResult<Self> {
        let bytes = std::fs::read(path)
            .map_err(|error| invalid(format!("cannot read {}: {error}", path.display())))?;
        Self::from_json(&bytes).map_err(|error| match error {
            StoreError::Backup(message) => invalid(format!("{}: {message}", path.display())),
            other => other,
        })
    }
}

/// The file `path` names once symbolic links are followed (renaming onto a link would
/// replace the link and leave its target as it was). A path that does not exist yet is
/// returned as it is; a link to a file that does not exist yet, as its target.
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    // A bound, as the kernel has: a loop of links is an error, not a hang.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            Ok(_) => return Ok(path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(path),
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

fn invalid(message: String) -> StoreError {
    StoreError::Backup(message)
}

fn check_header(format: Option<&str>, schema_version: Option<u32>) -> StoreResult<()> {
    if format != Some(BACKUP_FORMAT) {
        return Err(invalid(format!(
            "not a studybot backup (its \"format\" is {}, expected \"{BACKUP_FORMAT}\")",
            format.map_or("missing".to_string(), |f| format!("\"{f}\""))
        )));
    }
    match schema_version {
        Some(OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION) => Ok(()),
        Some(found) => Err(invalid(format!(
            "the backup has store schema version {found}; this build reads version {SCHEMA_VERSION} (restore it with the studybot version that wrote it)"
        ))),
        None => Err(invalid("the backup has no \"schema_version\"".into())),
    }
}

impl Backup {
    /// Checks every entry of the collections this build knows, with the rules the
    /// commands follow: each record decodes (a send time is a real time, a zone a real
    /// IANA zone), keys have their shape, a record's chat id is the one of its key, and
    /// every document recorded has its sections. Names the first bad entry. Trees this
    /// build does not know (a newer build's, of the same layout) are taken as they are.
    pub fn validate(&self) -> StoreResult<()> {
        for (tree, entries) in &self.trees {
            for (index, entry) in entries.iter().enumerate() {
                check_entry(self.schema_version, tree, &entry.key, &entry.value).map_err(|reason| {
                    invalid(format!(
                        "entry {} of \"{tree}\" (key {}) is not valid: {reason}; nothing was imported",
                        index + 1,
                        hex(&entry.key)
                    ))
                })?;
            }
        }
        let entries = |tree: &str| -> Vec<(&[u8], &[u8])> {
            self.trees.get(tree).map_or_else(Vec::new, |entries| {
                entries
                    .iter()
                    .map(|e| (e.key.as_slice(), e.value.as_slice()))
                    .collect()
            })
        };
        check_backup_texts(&entries(trees::META), &entries(trees::SECTIONS))
            .map_err(|reason| invalid(format!("{reason}; nothing was imported")))
    }
}

/// One entry of a known tree in a backup of layout `version`, checked (see
/// [`Backup::validate`]).
fn check_entry(version: u32, tree: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
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
    let Some(collection) = Collection::ALL.into_iter().find(|c| c.tree() == tree) else {
        // Not a collection of this build (version 1's cards, which the upgrade checks
        // one by one as it moves them, or a tree nothing here reads): carried as it is.
        return Ok(());
    };
    // Every collection has its rule: a new one must say how its records are checked.
    match collection {
        Collection::Meta if key == SCHEMA_VERSION_KEY => match value == version.to_be_bytes() {
            true => Ok(()),
            false => Err(format!(
                "it records schema version {value:?}, but the header says {version}"
            )),
        },
        Collection::Meta if key.starts_with(b"document:") => Ok(()), // with the sections, below
        Collection::Meta => Err("this build keeps no such record".into()),
        Collection::Sections => Ok(()), // with the document records
        Collection::Chats => {
            key_len(key, 8)?;
            same_chat(key, decode::<ChatStatus>(value)?.chat_id)
        }
        Collection::Subscriptions => {
            key_len(key, 8)?;
            same_chat(key, decode::<Subscription>(value)?.chat_id)
        }
        Collection::DueIndex => {
            key_len(key, 16)?;
            match value.is_empty() {
                true => Ok(()),
                false => Err("an index entry has no value".into()),
            }
        }
        Collection::Ledger => {
            key_len(key, 12)?;
            decode::<LedgerEntry>(value).map(drop)
        }
        Collection::Quizzes => {
            key_len(key, 8)?;
            same_chat(key, decode::<QuizSession>(value)?.chat_id)
        }
        Collection::Polls => {
            std::str::from_utf8(key).map_err(|_| "a poll id is text".to_string())?;
            decode::<PollTarget>(value).map(drop)
        }
        Collection::Scores => {
            key_len(key, 16)?;
            decode::<Score>(value).map(drop)
        }
        Collection::QuizSettings => {
            key_len(key, 8)?;
            decode::<bool>(value).map(drop)
        }
        Collection::Imported => {
            let text = decode::<ImportedText>(value)?;
            match key == text.id.as_bytes() {
                true => Ok(()),
                false => Err(format!(
                    "it is text \"{}\", filed under another id",
                    text.id
                )),
            }
        }
        Collection::ChatTexts => {
            key_len(key, 8)?;
            same_chat(key, decode::<crate::store::ChatText>(value)?.chat_id)
        }
        Collection::ReviewDecks => match version == SCHEMA_VERSION {
            true => {
                super::review::check_deck_key(key)?;
                super::deck::check(value)
            }
            false => Err("version 1 kept no decks".into()),
        },
        Collection::Reviewers => {
            key_len(key, 8)?;
            decode::<Reviewer>(value).map(drop)
        }
        Collection::ReviewPolls => {
            std::str::from_utf8(key).map_err(|_| "a poll id is text".to_string())?;
            decode::<ReviewPoll>(value).map(drop)
        }
        Collection::ReviewLedger => {
            key_len(key, 12)?;
            decode::<DeliveryState>(value).map(drop)
        }
        Collection::WeeklyTests => {
            key_len(key, 8)?;
            decode::<WeeklyTest>(value).map(drop)
        }
        Collection::WeeklyLedger => {
            key_len(key, 16)?;
            decode::<DeliveryState>(value).map(drop)
        }
        Collection::GroupMisses => {
            key_len(key, 16)?;
            decode::<u32>(value).map(drop)
        }
        Collection::CheckIns => {
            let check_in = decode::<CheckIn>(value)?;
            chat_keyed(key, 20, check_in.chat_id)
        }
        Collection::CheckInCounts => {
            key_len(key, 12)?;
            match value.len() == 4 {
                true => Ok(()),
                false => Err(format!("a count has 4 bytes, not {}", value.len())),
            }
        }
        Collection::Members => {
            key_len(key, 16)?;
            decode::<Member>(value).map(drop)
        }
        Collection::QuizAnswers => {
            let answer = decode::<QuizAnswer>(value)?;
            chat_keyed(key, 24, answer.chat_id)
        }
        Collection::ReportSettings => {
            key_len(key, 8)?;
            decode::<ReportSetting>(value).map(drop)
        }
        Collection::ReportLedger => {
            key_len(key, 12)?;
            decode::<DateTime<Utc>>(value).map(drop)
        }
    }
}

impl Store {
    /// Reads every entry of every non-empty tree. The whole store is held in memory
    /// (about the size of the database), which is fine for a study bot's state.
    pub fn export(&self) -> StoreResult<Backup> {
        let trees = self
            .non_empty_trees()?
            .into_iter()
            .map(|(name, entries)| {
                crate::progress::advance(entries.len() as u64);
                let entries = entries
                    .into_iter()
                    .map(|(key, value)| BackupEntry { key, value })
                    .collect();
                (name, entries)
            })
            .collect();
        Ok(Backup {
            format: BACKUP_FORMAT.to_string(),
            schema_version: SCHEMA_VERSION,
            exported_at: Utc::now(),
            studybot_version: env!("CARGO_PKG_VERSION").to_string(),
            trees,
        })
    }

    /// Replaces the store's contents with `backup`: every entry now in the store is
    /// removed, every entry of the backup written, then everything is flushed.
    ///
    /// Refuses (changing nothing) a backup of another format or schema version. This does
    /// not ask whether the store held anything worth keeping: callers check
    /// [`Store::user_state`] first. An import cut short leaves a partial store; running
    /// it again completes it.
    pub fn import(&self, backup: &Backup) -> StoreResult<RestoreReport> {
        check_header(Some(&backup.format), Some(backup.schema_version))?;
        backup.validate()?;
        let stored_version = backup
            .trees
            .get(trees::META)
            .and_then(|entries| entries.iter().find(|e| e.key == SCHEMA_VERSION_KEY));
        let version = backup.schema_version;
        if let Some(entry) = stored_version
            && entry.value != version.to_be_bytes()
        {
            return Err(invalid(format!(
                "the backup's meta tree records schema version {:?}, but its header says {version}",
                entry.value
            )));
        }
        let mut report = RestoreReport::default();
        for (name, entries) in self.non_empty_trees()? {
            for (key, _) in entries {
                self.backend().remove(&name, &key)?;
                report.replaced += 1;
            }
        }
        for (name, entries) in &backup.trees {
            for entry in entries {
                self.backend().insert(name, &entry.key, &entry.value)?;
                crate::progress::advance(1);
            }
            report.trees += 1;
            report.entries += entries.len();
        }
        if stored_version.is_none() {
            self.backend()
                .insert(trees::META, SCHEMA_VERSION_KEY, &version.to_be_bytes())?;
        }
        // A backup of an older layout is restored as it was, then moved to this one
        // like a store of that layout opened by this build.
        if version != SCHEMA_VERSION {
            self.upgrade(version)?;
        }
        // The due index is derived from the records: make sure every active one is in it
        // (a record repaired in the backup after it was set aside at run time has none).
        self.index_due_subscriptions()?;
        self.flush()?;
        Ok(report)
    }

    /// The trees that hold user state (everything but [`DERIVED_TREES`]) and are not
    /// empty, with their number of entries. Empty for a database that was only ever
    /// opened and loaded with the texts.
    pub fn user_state(&self) -> StoreResult<BTreeMap<String, usize>> {
        Ok(self
            .non_empty_trees()?
            .into_iter()
            .filter(|(name, _)| !DERIVED_TREES.contains(&name.as_str()))
            .map(|(name, entries)| (name, entries.len()))
            .collect())
    }

    /// Every non-empty tree by name, with its entries in key order: what export, import
    /// and [`Store::user_state`] walk.
    fn non_empty_trees(&self) -> StoreResult<BTreeMap<String, Vec<Entry>>> {
        let mut trees = BTreeMap::new();
        for name in self.backend().tree_names()? {
            let entries = self.scan_prefix(&name, &[])?;
            if !entries.is_empty() {
                trees.insert(name, entries);
            }
        }
        Ok(trees)
    }
}

/// How an entry is written in the file.
#[derive(Serialize, Deserialize)]
struct WireEntry {
    key: String,
    value: WireValue,
}

/// A value in the file: embedded JSON, or hex for anything that is not JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WireValue {
    Json(Box<RawValue>),
    Hex(String),
}

impl From<BackupEntry> for WireEntry {
    fn from(entry: BackupEntry) -> Self {
        // Embedded only when the stored bytes are exactly that JSON text (no surrounding
        // whitespace), so that reading it back yields the same bytes.
        let value = match serde_json::from_slice::<Box<RawValue>>(&entry.value) {
            Ok(raw) if raw.get().as_bytes() == entry.value.as_slice() => WireValue::Json(raw),
            _ => WireValue::Hex(hex(&entry.value)),
        };
        Self {
            key: hex(&entry.key),
            value,
        }
    }
}

impl TryFrom<WireEntry> for BackupEntry {
    type Error = String;

    fn try_from(wire: WireEntry) -> Result<Self, Self::Error> {
        let key = unhex(&wire.key).ok_or_else(|| format!("key \"{}\" is not hex", wire.key))?;
        let value = match wire.value {
            WireValue::Json(raw) => raw.get().as_bytes().to_vec(),
            WireValue::Hex(text) => {
                unhex(&text).ok_or_else(|| format!("value \"{text}\" is not hex"))?
            }
        };
        Ok(Self { key, value })
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    // Checked digit by digit: `from_str_radix` alone would also take a sign (`+1`).
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime, TimeZone};

    use super::*;
    use crate::schedule::{Subscriber, Subscription};
    use crate::store::contract::stores;
    use crate::store::{Backend, key_i64};
    use crate::text::{SectionId, parse_document};

    /// A store with every kind of record, plus values no typed method writes: JSON that
    /// does not survive re-encoding, bytes that are not UTF-8, an unknown tree.
    fn fill(store: &Store) {
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap();
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        store.sync_document(&document, 42).unwrap();
        let subscriber = Subscriber {
            user_id: 7,
            name: "王 \"书记\"".into(),
        };
        for chat in [-100_200_300_i64, -5, 9] {
            let fresh = Subscription::new(
                chat,
                "xzsj",
                NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                chrono_tz::Asia::Shanghai,
                subscriber.clone(),
                now,
            );
            store.subscribe(fresh, None, now).unwrap();
        }
        let date = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
        store
            .mark_intended(-5, date, SectionId::OPENING, now)
            .unwrap();
        store
            .mark_sent(-5, date, SectionId::OPENING, &[11, 12], now)
            .unwrap();
        store
            .mark_chat_inactive(9, "Forbidden: bot was kicked", now)
            .unwrap();
        let choice = crate::store::ChatText {
            chat_id: 9,
            document: "xzsj".into(),
            left_at: [("report".to_string(), SectionId::point(1, 2))].into(),
        };
        store.set_chat_text(&choice, 0).unwrap();
        store
            .update_score(-5, 7, |score| score.record("q:1", "王", 1, true, date))
            .unwrap();
        store.set_daily_quiz_setting(-5, true).unwrap();
        let card = crate::review::record(None, SectionId::point(2, 2), false, now).unwrap();
        store
            .update_review_card(7, "xzsj", 99, |_| Some(card.clone()))
            .unwrap();
        let backend = store.backend();
        for (key, value) in [
            (&b"spaced"[..], &b" {\"b\": 1, \"a\": [1.0, 1e3]} "[..]),
            (b"reordered", b"{\"b\":1,\"a\":\"\\u00e9\"}"),
            (b"not utf-8", &[0xff, 0xfe, 0x00]),
            (b"empty", b""),
            (b"\x00\xff", b"\"a json string that looks like hex: 00ff\""),
        ] {
            backend.insert("future_tree", key, value).unwrap();
        }
        let target = PollTarget::Quiz(crate::quiz::QuestionKey {
            chat_id: -5,
            quiz_id: 1,
            index: 0,
        });
        store.put_poll_target("投票🙂", &target).unwrap();
        fill_the_rest(store, now, date);
    }

    /// A record in each collection `fill`'s first part leaves empty.
    fn fill_the_rest(store: &Store, now: DateTime<Utc>, date: NaiveDate) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let questions = crate::quiz::generate::generate(&document, &mut rng);
        let session = QuizSession::start(None, 3, -5, 7, questions, now).unwrap();
        store
            .update_quiz_session(-5, |slot| *slot = Some(session.clone()))
            .unwrap();
        let imported = ImportedText {
            id: "xzsj".into(),
            source: "讲话.txt".into(),
            imported_at: now,
            content_hash: 42,
        };
        store.store_imported(&document, &imported).unwrap();
        let check_in = CheckIn {
            chat_id: -5,
            user_id: 7,
            name: "王".into(),
            document: "xzsj".into(),
            section: SectionId::OPENING,
            date,
            done_on: date,
            at: now,
        };
        store.check_in(&check_in).unwrap();
        store
            .record_quiz_answer(&QuizAnswer {
                chat_id: -5,
                user_id: 7,
                name: "王".into(),
                question: "问".into(),
                section: SectionId::point(1, 1),
                principle: 1,
                correct: false,
                at: now,
            })
            .unwrap();
        let setting = ReportSetting {
            weekday: chrono::Weekday::Mon,
            time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        store.set_report_setting(-5, Some(setting)).unwrap();
        store.claim_report(-5, 202618, now).unwrap();
        store
            .update_reviewer(7, |reviewer| {
                reviewer.remind_at = NaiveTime::from_hms_opt(20, 0, 0)
            })
            .unwrap();
        let poll = ReviewPoll {
            user_id: 7,
            text: "xzsj".into(),
            card: 99,
            correct: 0,
            options: 4,
            answer: "答".into(),
            answered: false,
        };
        store.put_review_poll("复习", &poll).unwrap();
        store
            .set_review_ledger(7, date, &DeliveryState::Intended)
            .unwrap();
        let test = WeeklyTest {
            weekday: 6,
            time: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            zone: "Asia/Shanghai".into(),
            topic: None,
        };
        store.set_weekly_test(-5, Some(&test)).unwrap();
        store
            .set_weekly_ledger(-5, (2026, 18), &DeliveryState::Intended)
            .unwrap();
        store.count_group_miss(-5, 99).unwrap();
        store.flush().unwrap();
    }

    /// Every tree's entries, byte for byte, read straight from the backend.
    fn contents(backend: &dyn Backend) -> BTreeMap<String, Vec<Entry>> {
        backend
            .tree_names()
            .unwrap()
            .into_iter()
            .map(|name| {
                let entries = backend.scan(&name, &[], None, usize::MAX).unwrap();
                (name, entries)
            })
            .filter(|(_, entries)| !entries.is_empty())
            .collect()
    }

    #[test]
    fn every_backend_round_trips_into_every_backend() {
        for (from_name, from, _from_dir) in stores() {
            fill(&from);
            let original = contents(from.backend());
            assert!(original.len() >= 9, "{from_name}: {:?}", original.keys());
            let file = Backup::from_json(&from.export().unwrap().to_json()).unwrap();
            for (to_name, to, _to_dir) in stores() {
                let report = to.import(&file).unwrap();
                assert_eq!(report.entries, file.entries(), "{from_name} → {to_name}");
                assert_eq!(report.trees, original.len(), "{from_name} → {to_name}");
                assert_eq!(
                    contents(to.backend()),
                    original,
                    "{from_name} → {to_name}: every tree equal, entry by entry"
                );
                assert_eq!(to.subscription(-5).unwrap(), from.subscription(-5).unwrap());
                assert_eq!(to.ledger(-5).unwrap(), from.ledger(-5).unwrap());
                assert_eq!(to.score(-5, 7).unwrap(), from.score(-5, 7).unwrap());
                assert_eq!(to.chat_text(9).unwrap(), from.chat_text(9).unwrap());
                assert!(to.chat_text(9).unwrap().is_some());
            }
        }
    }

    #[test]
    fn records_are_readable_json_and_the_rest_is_hex() {
        let store = Store::in_memory();
        fill(&store);
        let text = String::from_utf8(store.export().unwrap().to_json()).unwrap();
        assert!(text.contains("\"format\": \"studybot-backup\""), "{text}");
        assert!(text.contains("\"schema_version\": 2"));
        assert!(
            text.contains("\"json\": {\"chat_id\":-5,"),
            "subscriptions are readable"
        );
        assert!(
            text.contains("\"json\": true"),
            "quiz settings are readable"
        );
        assert!(
            text.contains("\"hex\": \"00000002\""),
            "the schema version is binary"
        );
        assert!(text.contains(&format!("\"key\": \"{}\"", hex(&key_i64(-5)))));
        assert!(
            text.contains("\"hex\": \"207b2262"),
            "JSON with surrounding spaces would lose them: hex"
        );
        assert!(text.contains("\"json\": \"a json string that looks like hex: 00ff\""));
    }

    #[test]
    fn import_replaces_what_was_there() {
        let source = Store::in_memory();
        fill(&source);
        let backup = source.export().unwrap();
        let target = Store::in_memory();
        target.set_daily_quiz_setting(12345, false).unwrap();
        target.backend().insert("leftover", b"k", b"v").unwrap();
        assert_eq!(
            target.user_state().unwrap().into_iter().collect::<Vec<_>>(),
            vec![
                ("leftover".to_string(), 1),
                ("quiz_settings".to_string(), 1)
            ]
        );
        let report = target.import(&backup).unwrap();
        assert_eq!(report.replaced, 3, "the two entries and the schema version");
        assert_eq!(target.daily_quiz_setting(12345).unwrap(), None);
        assert_eq!(target.backend().get("leftover", b"k").unwrap(), None);
        assert_eq!(contents(target.backend()), contents(source.backend()));
    }

    #[test]
    fn user_state_ignores_what_every_start_writes() {
        let store = Store::in_memory();
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        store.sync_document(&document, 1).unwrap();
        assert!(store.user_state().unwrap().is_empty());
        store.set_daily_quiz_setting(1, true).unwrap();
        assert_eq!(
            store.user_state().unwrap().get(trees::QUIZ_SETTINGS),
            Some(&1)
        );
    }

    #[test]
    fn foreign_files_and_other_versions_are_refused() {
        let store = Store::in_memory();
        fill(&store);
        let good = String::from_utf8(store.export().unwrap().to_json()).unwrap();
        let message = |json: &str| match Backup::from_json(json.as_bytes()) {
            Err(StoreError::Backup(message)) => message,
            other => panic!("{json}: {other:?}"),
        };
        assert!(message("not json").contains("not a studybot backup (expected"));
        assert!(message("[1, 2]").contains("not a studybot backup"));
        assert!(message("{}").contains("\"format\" is missing"));
        assert!(message(&good.replace("studybot-backup", "other")).contains("\"other\""));
        assert!(
            message(&good.replace("\"schema_version\": 2", "\"schema_version\": 3"))
                .contains("schema version 3; this build reads version 2")
        );
        assert!(
            message(&good.replace("\"schema_version\": 2", "\"schema_version\": 0"))
                .contains("schema version 0; this build reads version 2")
        );
        assert!(
            message(&good.replace("\"hex\": \"00000002\"", "\"hex\": \"0g\""))
                .contains("\"0g\" is not hex")
        );
        let mut wrong_meta = Backup::from_json(good.as_bytes()).unwrap();
        for entry in wrong_meta.trees.get_mut(trees::META).unwrap() {
            if entry.key == b"schema_version" {
                entry.value = 1_u32.to_be_bytes().to_vec();
            }
        }
        let target = Store::in_memory();
        target.set_daily_quiz_setting(1, true).unwrap();
        assert!(matches!(
            target.import(&wrong_meta),
            Err(StoreError::Backup(_))
        ));
        assert_eq!(
            target.daily_quiz_setting(1).unwrap(),
            Some(true),
            "a refused import changes nothing"
        );
    }

    #[test]
    fn a_bad_record_refuses_the_whole_backup_and_changes_nothing() {
        let source = Store::in_memory();
        fill(&source);
        let good = String::from_utf8(source.export().unwrap().to_json()).unwrap();
        assert!(
            Backup::from_json(good.as_bytes())
                .unwrap()
                .validate()
                .is_ok()
        );
        for (bad, named) in [
            (
                good.replacen("Asia/Shanghai", "Mars/Olympus", 1),
                "Mars/Olympus",
            ),
            (good.replacen("\"08:00\"", "\"25:99\"", 1), "25:99"),
            (
                good.replacen("\"chat_id\":-100200300,", "\"chat_id\":-6,", 1),
                "filed under chat -100200300",
            ),
        ] {
            let backup = Backup::from_json(bad.as_bytes()).unwrap();
            let target = Store::in_memory();
            target.set_daily_quiz_setting(1, true).unwrap();
            let Err(error) = target.import(&backup) else {
                panic!("{named}: imported");
            };
            let message = error.to_string();
            assert!(message.contains(named), "{message}");
            assert!(
                message.contains("entry 1 of \"subscriptions\""),
                "{message}"
            );
            assert_eq!(
                target.daily_quiz_setting(1).unwrap(),
                Some(true),
                "{message}"
            );
        }
    }

    #[test]
    fn a_damaged_record_of_any_collection_refuses_the_backup() {
        let source = Store::in_memory();
        fill(&source);
        let backup = source.export().unwrap();
        for collection in Collection::ALL {
            let tree = collection.tree();
            let entries = backup.trees.get(tree);
            assert!(
                entries.is_some_and(|e| !e.is_empty()),
                "fill puts a record in {tree}"
            );
            // Sections and the documents' records are checked together, by their texts.
            if matches!(collection, Collection::Meta | Collection::Sections) {
                continue;
            }
            let mut damaged = backup.clone();
            damaged.trees.get_mut(tree).unwrap()[0].value = b"\xff{".to_vec();
            let target = Store::in_memory();
            target.set_daily_quiz_setting(1, true).unwrap();
            let Err(error) = target.import(&damaged) else {
                panic!("{tree}: a damaged record was imported");
            };
            let message = error.to_string();
            assert!(message.contains(&format!("of \"{tree}\"")), "{message}");
            assert_eq!(target.daily_quiz_setting(1).unwrap(), Some(true), "{tree}");
        }
    }

    #[test]
    fn a_version_1_backup_is_restored_with_its_cards_in_decks() {
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap();
        let card = crate::review::record(None, SectionId::point(2, 2), false, now).unwrap();
        let mut key = 7_u64.to_be_bytes().to_vec();
        key.extend(b"xzsj\0");
        key.extend(99_u64.to_be_bytes());
        let entry = |key: &[u8], value: &[u8]| BackupEntry {
            key: key.to_vec(),
            value: value.to_vec(),
        };
        let backup = Backup {
            format: BACKUP_FORMAT.to_string(),
            schema_version: 1,
            exported_at: now,
            studybot_version: "0.1.0".into(),
            trees: [
                (
                    trees::META.to_string(),
                    vec![entry(SCHEMA_VERSION_KEY, &1_u32.to_be_bytes())],
                ),
                (
                    super::super::review::V1_REVIEW_CARDS.to_string(),
                    vec![entry(&key, &serde_json::to_vec(&card).unwrap())],
                ),
            ]
            .into(),
        };
        let file = Backup::from_json(&backup.to_json()).unwrap();
        for (name, store, _dir) in stores() {
            store.import(&file).unwrap();
            assert_eq!(
                store.review_cards(7, "xzsj").unwrap(),
                vec![(99, card.clone())],
                "{name}"
            );
            assert_eq!(
                store.schema_version().unwrap(),
                Some(SCHEMA_VERSION),
                "{name}"
            );
            let again = Backup::from_json(&store.export().unwrap().to_json()).unwrap();
            assert_eq!(again.schema_version, SCHEMA_VERSION, "{name}");
            assert!(
                !again
                    .trees
                    .contains_key(super::super::review::V1_REVIEW_CARDS),
                "{name}: the old cards moved"
            );
        }
    }

    #[test]
    fn a_deck_is_checked_card_by_card() {
        let store = Store::in_memory();
        fill(&store);
        let mut backup = store.export().unwrap();
        let deck = &mut backup.trees.get_mut(trees::REVIEW_DECKS).unwrap()[0];
        deck.value.pop();
        let error = Store::in_memory().import(&backup).unwrap_err().to_string();
        assert!(error.contains("entry 1 of \"review_decks\""), "{error}");
        assert!(error.contains("not whole 95-byte cards"), "{error}");
    }

    #[test]
    fn a_chat_text_is_checked_like_every_chat_record() {
        let key = crate::store::key_i64(9);
        let good = br#"{"chat_id":9,"document":"xzsj","left_at":{"report":{"part":1,"point":2}}}"#;
        let check =
            |key: &[u8], value: &[u8]| check_entry(SCHEMA_VERSION, trees::CHAT_TEXTS, key, value);
        assert_eq!(check(&key, good), Ok(()));
        let moved = br#"{"chat_id":8,"document":"xzsj"}"#;
        let error = check(&key, moved).unwrap_err();
        assert!(error.contains("filed under chat 9"), "{error}");
        assert!(check(&key, b"{}").is_err());
        assert!(check(&key[..4], good).is_err());
    }

    #[test]
    fn files_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.json");
        let store = Store::in_memory();
        fill(&store);
        let backup = store.export().unwrap();
        backup.write(&path).unwrap();
        backup.write(&path).unwrap();
        assert_eq!(Backup::read(&path).unwrap(), backup);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
        let missing = Backup::read(&dir.path().join("missing.json")).unwrap_err();
        assert!(missing.to_string().contains("missing.json"), "{missing}");
        let unwritable = backup.write(&dir.path().join("no/such/dir/b.json"));
        assert!(unwritable.is_err());
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        for bytes in [&b""[..], &[0], &[0xff, 0x10, 0xab]] {
            assert_eq!(unhex(&hex(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(unhex("ABcd"), Some(vec![0xab, 0xcd]));
        for bad in ["0", "zz", "+1", "-1", "éé", "0é"] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
    }
}
