//! Backups: the whole store as one JSON document, written and read one record at a time.
//!
//! The dump is lossless: it walks every collection of this build and keeps every key and
//! value byte for byte. A backup file reads:
//!
//! ```json
//! {
//!   "format": "studybot-backup",
//!   "schema_version": 2,
//!   "exported_at": "2026-05-02T08:00:00Z",
//!   "studybot_version": "0.1.0",
//!   "trees": {
//!     "subscriptions": [
//!       {"key": "7ffffffffffffffb", "value": {"json": {"chat_id":-5,"…":"…"}}}
//!     ],
//!     "due_index": [
//!       {"key": "000000006a1b2c3d7ffffffffffffffb", "value": {"hex": ""}}
//!     ]
//!   }
//! }
//! ```
//!
//! Keys are hex (they are big-endian numbers and binary prefixes). A value that is JSON
//! exactly as stored is embedded as is under `"json"`, so a person can read the records;
//! anything else (the schema version, the due index's empty values, the review decks) is
//! hex under `"hex"`. The tag keeps the two apart: a JSON string is never mistaken for hex.
//! Every entry is on its own line; files written before (pretty-printed by one
//! `serde_json` call) have the same structure and are read the same way.
//!
//! Nothing here holds the store or the file in memory: [`export_to`] pages through each
//! tree and writes each entry as it reads it, and [`read_through`] hands each entry to
//! its caller as it is parsed. So a restore reads the file twice: [`verify`] checks every
//! record and every reference between them (a chat on a text the backup lacks, sections
//! of no text), and only then [`Store::restore`] replaces the store's contents. Memory
//! stays that of one record and of a few sets as large as the number of texts, whatever
//! the size of the store.
//!
//! The database must not be in use meanwhile for a restore; the `studybot` binary opens
//! it exclusively (sled locks it), so a running bot must be stopped first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::review::{V1_REVIEW_CARDS, check_deck_key, check_v1_card};
use super::sections::{backup_document, backup_section};
use super::{
    ChatStatus, ChatText, Collection, ImportedText, OLDEST_SCHEMA_VERSION, PAGE, PollTarget,
    SCHEMA_VERSION, SCHEMA_VERSION_KEY, Store, StoreError, StoreResult, i64_from_key, trees,
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

/// How many distinct texts a backup may name (in records, sections and references): the
/// checks across records keep one small entry per text, and this bounds them. A real
/// store has a few dozen.
pub const MAX_TEXTS: usize = 10_000;

/// How many entries a restore writes between flushes: sled holds what is not flushed in
/// memory, so a large restore flushes as it goes.
const FLUSH_EVERY: usize = 20_000;

/// A backup's header: what it is and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupHeader {
    /// The store layout the entries follow ([`SCHEMA_VERSION`] when written; an older
    /// one, from [`OLDEST_SCHEMA_VERSION`] on, is restored and then moved to this one).
    pub schema_version: u32,
    /// When the backup was taken.
    pub exported_at: DateTime<Utc>,
    /// The studybot version that wrote it (for people; not checked).
    pub studybot_version: String,
}

/// What [`export_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Trees written (the non-empty collections).
    pub trees: usize,
    /// Entries written.
    pub entries: usize,
    /// Non-empty trees of the database that are no collection of this build (left by an
    /// older version's upgrade, such as version 1 review cards it could not read), with
    /// their entries: not written, since a restore refuses a tree it does not know.
    pub skipped: Vec<(String, usize)>,
}

/// A backup checked by [`verify`]: what a restore will write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Its header.
    pub header: BackupHeader,
    /// Trees in it (a tree listed with no entries counts too).
    pub trees: usize,
    /// Entries in all trees.
    pub entries: usize,
}

/// What [`Store::restore`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreReport {
    /// Trees written.
    pub trees: usize,
    /// Entries written.
    pub entries: usize,
    /// Entries that were in the store before and were removed first.
    pub replaced: usize,
}

/// One step of a backup as [`read_through`] parses it, in file order.
#[derive(Debug, Clone, Copy)]
pub enum BackupItem<'a> {
    /// The header, checked (a studybot backup of a layout this build reads), before the
    /// first tree.
    Header(&'a BackupHeader),
    /// A tree begins.
    Tree(&'a str),
    /// One entry of the current tree; `index` counts from 1 within the tree.
    Entry {
        /// The tree's name.
        tree: &'a str,
        /// The entry's place in its tree, from 1.
        index: usize,
        /// The stored key.
        key: &'a [u8],
        /// The stored value.
        value: &'a [u8],
    },
}

/// Writes the backup of every collection in `store` to `out`, one entry at a time (see
/// the module's overview for the format). Memory does not grow with the store. The
/// store may be in use meanwhile (a running bot's): each tree is read in pages, so a
/// record changed during the export is written as it was or as it became.
pub fn export_to(store: &Store, out: impl Write) -> StoreResult<ExportSummary> {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut summary = ExportSummary::default();
    write_export(store, &mut out, &mut summary)
        .and_then(|()| Ok(out.flush()?))
        .map_err(|error| match error {
            ExportError::Store(error) => error,
            ExportError::Io(error) => invalid(format!("cannot write the backup: {error}")),
        })?;
    Ok(summary)
}

/// [`export_to`] into the file at `path`, which is replaced only once the whole backup is
/// written and synced (a failed export never leaves half a backup under the name, nor
/// touches an earlier one). The file is readable by its owner only: it holds chat ids
/// and names. A symbolic link is followed: the file it points to is replaced and the
/// link stays. Returns the file written.
pub fn export_file(store: &Store, path: &Path) -> StoreResult<(PathBuf, ExportSummary)> {
    let path = follow_links(path)
        .map_err(|error| invalid(format!("cannot write {}: {error}", path.display())))?;
    let io = |error: std::io::Error| invalid(format!("cannot write {}: {error}", path.display()));
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
    let file = match options.open(&temporary) {
        Ok(file) => file,
        Err(error) => return Err(io(error)),
    };
    let result = export_to(store, &file).and_then(|summary| {
        file.sync_all()
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(io)?;
        Ok(summary)
    });
    match result {
        Ok(summary) => Ok((path, summary)),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(match error {
                StoreError::Backup(message) => invalid(format!("{}: {message}", path.display())),
                other => other,
            })
        }
    }
}

/// Parses a backup from `reader`, handing `visit` its header (checked: a studybot backup
/// of a layout this build reads) and then each tree and entry in file order, without
/// holding more than one entry. Returns the header. An error of `visit` stops the
/// reading and is returned as it is. This checks the file's syntax only; [`verify`]
/// checks its records.
pub fn read_through(
    reader: impl Read,
    mut visit: impl FnMut(BackupItem<'_>) -> StoreResult<()>,
) -> StoreResult<BackupHeader> {
    let mut state = Reading {
        visit: &mut visit,
        stopped: None,
        header: None,
    };
    let mut deserializer =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(256 * 1024, reader));
    let parsed = Top { state: &mut state }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(error) = state.stopped {
        return Err(error);
    }
    match (parsed, state.header) {
        (Ok(()), Some(header)) => Ok(header),
        (Ok(()), None) => Err(invalid("the backup has no \"trees\"".into())),
        (Err(error), None) => Err(invalid(format!("not a studybot backup ({error})"))),
        (Err(error), Some(_)) => Err(invalid(format!(
            "damaged backup: {error}; nothing was imported"
        ))),
    }
}

/// Reads a whole backup and checks it as a restore would, changing nothing: the header,
/// every record with the rules the commands follow (a send time is a real time, a zone
/// a real IANA zone, keys have their shape, a record's chat id is the one of its key),
/// the trees (each one this build knows, once, its keys in order), and the references
/// between records: every text a record names (a chat's text, a subscription's, a
/// check-in's, a review deck's) is in the backup (imported, with its sections) or one
/// of `shipped`, and every document's sections are there and belong to a text. Names
/// the first bad entry or reference.
pub fn verify(reader: impl Read, shipped: &[String]) -> StoreResult<BackupSummary> {
    let mut check = Consistency::new(shipped);
    let header = read_through(reader, |item| check.item(item))?;
    check.finish()?;
    Ok(BackupSummary {
        header,
        trees: check.seen_trees.len(),
        entries: check.entries,
    })
}

/// A backup file checked by [`verify_file`], still open: [`Store::restore_file`] reads
/// this same file again, and refuses it if it changed in between.
#[derive(Debug)]
pub struct VerifiedFile {
    /// The file as given.
    pub path: PathBuf,
    /// What it holds.
    pub summary: BackupSummary,
    file: std::fs::File,
    identity: FileIdentity,
}

/// [`verify`] on the file at `path`, keeping it open for [`Store::restore_file`].
pub fn verify_file(path: &Path, shipped: &[String]) -> StoreResult<VerifiedFile> {
    let named = |error: StoreError| match error {
        StoreError::Backup(message) => invalid(format!("{}: {message}", path.display())),
        other => other,
    };
    let cannot_read =
        |error: std::io::Error| invalid(format!("cannot read {}: {error}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    let identity = FileIdentity::of(&file).map_err(cannot_read)?;
    let summary = verify(&mut file, shipped).map_err(named)?;
    file.rewind().map_err(cannot_read)?;
    Ok(VerifiedFile {
        path: path.to_path_buf(),
        summary,
        file,
        identity,
    })
}

/// What tells that a file changed between two readings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileIdentity {
    fn of(file: &std::fs::File) -> std::io::Result<Self> {
        let metadata = file.metadata()?;
        Ok(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

impl Store {
    /// Replaces the store's contents with the backup `file` holds: every entry now in
    /// the store is removed, every entry of the backup written (flushing as it goes),
    /// a backup of an older layout moved to this one, then everything is flushed.
    ///
    /// Refuses, changing nothing, a file that changed since [`verify_file`] read it.
    /// This does not ask whether the store held anything worth keeping: callers check
    /// [`Store::user_state`] first. A restore cut short (a full disk, a kill) leaves a
    /// partial store; running it again completes it.
    pub fn restore_file(&self, file: &mut VerifiedFile) -> StoreResult<RestoreReport> {
        let changed = |what: String| {
            invalid(format!(
                "{}: {what}; nothing was imported",
                file.path.display()
            ))
        };
        match FileIdentity::of(&file.file) {
            Ok(now) if now == file.identity => {}
            Ok(_) => return Err(changed("the file changed since it was checked".into())),
            Err(error) => return Err(changed(format!("cannot read it again: {error}"))),
        }
        file.file
            .rewind()
            .map_err(|error| changed(format!("cannot read it again: {error}")))?;
        self.restore(&mut file.file, &file.summary)
            .map_err(|error| match error {
                StoreError::Backup(message) => {
                    invalid(format!("{}: {message}", file.path.display()))
                }
                other => other,
            })
    }

    /// Replaces the store's contents with the backup `reader` holds, which [`verify`]
    /// checked as `checked` (see [`Store::restore_file`]). The header must be the one
    /// checked, or nothing is changed; the entries are written as they are read.
    pub fn restore(
        &self,
        reader: impl Read,
        checked: &BackupSummary,
    ) -> StoreResult<RestoreReport> {
        let mut report = RestoreReport::default();
        let mut has_version = false;
        let mut written_since_flush = 0;
        let header = read_through(reader, |item| {
            match item {
                BackupItem::Header(header) => {
                    if *header != checked.header {
                        return Err(invalid(
                            "the backup is not the one checked; nothing was imported".into(),
                        ));
                    }
                    report.replaced = self.clear()?;
                }
                BackupItem::Tree(_) => report.trees += 1,
                BackupItem::Entry {
                    tree, key, value, ..
                } => {
                    self.backend().insert(tree, key, value)?;
                    crate::progress::advance(1);
                    has_version |= tree == trees::META && key == SCHEMA_VERSION_KEY;
                    report.entries += 1;
                    written_since_flush += 1;
                    if written_since_flush == FLUSH_EVERY {
                        self.flush()?;
                        written_since_flush = 0;
                    }
                }
            }
            Ok(())
        })?;
        if report.entries != checked.entries {
            return Err(invalid(format!(
                "the backup changed while it was imported ({} entries checked, {} read); run the import again",
                checked.entries, report.entries
            )));
        }
        let version = header.schema_version;
        if !has_version {
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
    /// opened and loaded with the texts. Counted page by page.
    pub fn user_state(&self) -> StoreResult<BTreeMap<String, usize>> {
        let mut state = BTreeMap::new();
        for name in self.backend().tree_names()? {
            if DERIVED_TREES.contains(&name.as_str()) {
                continue;
            }
            let entries = self.count_entries(&name)?;
            if entries > 0 {
                state.insert(name, entries);
            }
        }
        Ok(state)
    }

    /// The whole store as one in-memory [`Backup`]: for tests and small stores (a large
    /// one is written with [`export_to`]).
    pub fn export(&self) -> StoreResult<Backup> {
        let mut bytes = Vec::new();
        export_to(self, &mut bytes)?;
        Backup::from_json(&bytes)
    }

    /// Restores an in-memory [`Backup`] (see [`Store::restore`]): checked with
    /// [`verify`] against the `shipped` texts first, so a refused backup changes nothing.
    pub fn import(&self, backup: &Backup, shipped: &[String]) -> StoreResult<RestoreReport> {
        let bytes = backup.to_json();
        let summary = verify(bytes.as_slice(), shipped)?;
        self.restore(bytes.as_slice(), &summary)
    }

    /// Removes every entry of every tree, page by page; returns how many.
    fn clear(&self) -> StoreResult<usize> {
        let mut removed = 0;
        for name in self.backend().tree_names()? {
            loop {
                let page = self.backend().scan(&name, &[], None, PAGE)?;
                if page.is_empty() {
                    break;
                }
                for (key, _) in &page {
                    self.backend().remove(&name, key)?;
                }
                removed += page.len();
            }
        }
        Ok(removed)
    }

    /// The number of entries in `tree`, read page by page.
    fn count_entries(&self, tree: &str) -> StoreResult<usize> {
        let mut entries = 0;
        self.each_entry::<StoreError>(tree, &[], None, |_, _| {
            entries += 1;
            Ok(())
        })?;
        Ok(entries)
    }
}

/// The whole store at one moment, held in memory: for tests and small stores. The
/// binary streams instead ([`export_file`], [`verify_file`], [`Store::restore_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The header.
    pub header: BackupHeader,
    /// Every tree listed, by name, its entries in key order.
    pub trees: BTreeMap<String, Vec<BackupEntry>>,
}

/// One stored key and its value, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

impl Backup {
    /// The number of entries in all trees.
    pub fn entries(&self) -> usize {
        self.trees.values().map(Vec::len).sum()
    }

    /// Encodes the backup in the file's format.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out, &self.header).expect("writing to memory");
        let mut first = true;
        for (name, entries) in &self.trees {
            write_tree_start(&mut out, name, first).expect("writing to memory");
            first = false;
            for (index, entry) in entries.iter().enumerate() {
                write_entry(&mut out, &entry.key, &entry.value, index == 0)
                    .expect("writing to memory");
            }
            write_tree_end(&mut out).expect("writing to memory");
        }
        write_end(&mut out, first).expect("writing to memory");
        out
    }

    /// Decodes a backup, refusing files that are not studybot backups or that were
    /// written for another store layout (its records are not checked: see [`verify`]).
    pub fn from_json(bytes: &[u8]) -> StoreResult<Self> {
        let mut trees: BTreeMap<String, Vec<BackupEntry>> = BTreeMap::new();
        let header = read_through(bytes, |item| {
            match item {
                BackupItem::Header(_) => {}
                BackupItem::Tree(name) => {
                    trees.entry(name.to_string()).or_default();
                }
                BackupItem::Entry {
                    tree, key, value, ..
                } => trees
                    .entry(tree.to_string())
                    .or_default()
                    .push(BackupEntry {
                        key: key.to_vec(),
                        value: value.to_vec(),
                    }),
            }
            Ok(())
        })?;
        Ok(Self { header, trees })
    }

    /// Reads and decodes the (small) backup at `path` (see [`Backup::from_json`]).
    pub fn read(path: &Path) -> StoreResult<Self> {
        let bytes = std::fs::read(path)
            .map_err(|error| invalid(format!("cannot read {}: {error}", path.display())))?;
        Self::from_json(&bytes).map_err(|error| match error {
            StoreError::Backup(message) => invalid(format!("{}: {message}", path.display())),
            other => other,
        })
    }
}

/// An export's failure: the store's, or the output's.
enum ExportError {
    Store(StoreError),
    Io(std::io::Error),
}

impl From<StoreError> for ExportError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// Writes every non-empty collection of `store`, tree by tree in name order, each page
/// by page (see [`export_to`]).
fn write_export(
    store: &Store,
    out: &mut impl Write,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    let header = BackupHeader {
        schema_version: SCHEMA_VERSION,
        exported_at: Utc::now(),
        studybot_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    write_header(out, &header)?;
    let mut names = store.backend().tree_names()?;
    names.sort();
    let mut first_tree = true;
    for name in names {
        if !Collection::ALL.iter().any(|c| c.tree() == name) {
            let entries = store.count_entries(&name)?;
            if entries > 0 {
                summary.skipped.push((name, entries));
            }
            continue;
        }
        let mut written = 0;
        store.each_entry::<ExportError>(&name, &[], None, |key, value| {
            if written == 0 {
                write_tree_start(out, &name, first_tree)?;
                first_tree = false;
            }
            write_entry(out, key, value, written == 0)?;
            crate::progress::advance(1);
            written += 1;
            Ok(())
        })?;
        if written > 0 {
            write_tree_end(out)?;
            summary.trees += 1;
            summary.entries += written;
        }
    }
    write_end(out, first_tree)?;
    Ok(())
}

fn write_header(out: &mut impl Write, header: &BackupHeader) -> std::io::Result<()> {
    write!(
        out,
        "{{\n  \"format\": \"{BACKUP_FORMAT}\",\n  \"schema_version\": {},\n  \"exported_at\": \"{}\",\n  \"studybot_version\": {},\n  \"trees\": {{",
        header.schema_version,
        header
            .exported_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        serde_json::Value::from(header.studybot_version.as_str())
    )
}

fn write_tree_start(out: &mut impl Write, name: &str, first: bool) -> std::io::Result<()> {
    let separator = if first { "" } else { "," };
    write!(out, "{separator}\n    {}: [", serde_json::Value::from(name))
}

/// One entry on its own line: `{"key": "<hex>", "value": {"json": <the value>}}`, or
/// `{"hex": "<hex>"}` for a value that is not exactly a JSON text (so that reading it
/// back yields the same bytes).
fn write_entry(out: &mut impl Write, key: &[u8], value: &[u8], first: bool) -> std::io::Result<()> {
    let separator = if first { "" } else { "," };
    write!(out, "{separator}\n      {{\"key\": \"")?;
    write_hex(out, key)?;
    match serde_json::from_slice::<&RawValue>(value) {
        Ok(raw) if raw.get().as_bytes() == value => {
            out.write_all(b"\", \"value\": {\"json\": ")?;
            out.write_all(value)?;
            out.write_all(b"}}")
        }
        _ => {
            out.write_all(b"\", \"value\": {\"hex\": \"")?;
            write_hex(out, value)?;
            out.write_all(b"\"}}")
        }
    }
}

fn write_tree_end(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"\n    ]")
}

fn write_end(out: &mut impl Write, no_trees: bool) -> std::io::Result<()> {
    match no_trees {
        true => out.write_all(b"}\n}\n"),
        false => out.write_all(b"\n  }\n}\n"),
    }
}

fn write_hex(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buffer = [0; 128];
    for chunk in bytes.chunks(64) {
        for (i, byte) in chunk.iter().enumerate() {
            buffer[2 * i] = DIGITS[usize::from(byte >> 4)];
            buffer[2 * i + 1] = DIGITS[usize::from(byte & 15)];
        }
        out.write_all(&buffer[..2 * chunk.len()])?;
    }
    Ok(())
}

/// The parser's state: the caller's visitor, the error that stopped it, the header once
/// read.
struct Reading<'v> {
    visit: &'v mut dyn FnMut(BackupItem<'_>) -> StoreResult<()>,
    stopped: Option<StoreError>,
    header: Option<BackupHeader>,
}

impl Reading<'_> {
    /// Hands `item` to the visitor; its error stops the parse (and is kept, to be
    /// returned as it is rather than as a syntax error).
    fn visit<E: serde::de::Error>(&mut self, item: BackupItem<'_>) -> Result<(), E> {
        (self.visit)(item).map_err(|error| self.stop(error))
    }

    fn stop<E: serde::de::Error>(&mut self, error: StoreError) -> E {
        self.stopped = Some(error);
        E::custom("stopped")
    }
}

/// The top-level object: the header fields, then `trees`.
struct Top<'s, 'v> {
    state: &'s mut Reading<'v>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a studybot backup (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format: Option<String> = None;
        let mut version: Option<u32> = None;
        let mut exported_at: Option<DateTime<Utc>> = None;
        let mut studybot_version = String::new();
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "format" => format = Some(map.next_value()?),
                "schema_version" => version = Some(map.next_value()?),
                "exported_at" => exported_at = Some(map.next_value()?),
                "studybot_version" => studybot_version = map.next_value()?,
                "trees" => {
                    if self.state.header.is_some() {
                        return Err(A::Error::custom("\"trees\" appears twice"));
                    }
                    let header = check_header(format.as_deref(), version, exported_at)
                        .map(|(schema_version, exported_at)| BackupHeader {
                            schema_version,
                            exported_at,
                            studybot_version: studybot_version.clone(),
                        })
                        .map_err(|error| self.state.stop::<A::Error>(error))?;
                    self.state.visit(BackupItem::Header(&header))?;
                    self.state.header = Some(header);
                    map.next_value_seed(Trees {
                        state: &mut *self.state,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if self.state.header.is_none() {
            let error = match check_header(format.as_deref(), version, exported_at) {
                Err(error) => error,
                Ok(_) => invalid("the backup has no \"trees\"".into()),
            };
            return Err(self.state.stop(error));
        }
        Ok(())
    }
}

/// `trees`: an object of arrays, by tree name.
struct Trees<'s, 'v> {
    state: &'s mut Reading<'v>,
}

impl<'de> DeserializeSeed<'de> for Trees<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Trees<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("the trees by name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            self.state.visit(BackupItem::Tree(&name))?;
            map.next_value_seed(Entries {
                state: &mut *self.state,
                tree: &name,
            })?;
        }
        Ok(())
    }
}

/// One tree's array of entries.
struct Entries<'s, 'v, 't> {
    state: &'s mut Reading<'v>,
    tree: &'t str,
}

impl<'de> DeserializeSeed<'de> for Entries<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a list of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let tree = self.tree;
        let mut index = 0;
        while let Some(wire) = seq.next_element::<WireEntry>()? {
            index += 1;
            let (key, value) = wire.decode().map_err(|reason| {
                self.state.stop::<A::Error>(invalid(format!(
                    "entry {index} of \"{tree}\" is damaged: {reason}; nothing was imported"
                )))
            })?;
            self.state.visit(BackupItem::Entry {
                tree,
                index,
                key: &key,
                value: &value,
            })?;
        }
        Ok(())
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

impl WireEntry {
    /// The key and value as stored.
    fn decode(self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let key = unhex(&self.key).ok_or_else(|| format!("key \"{}\" is not hex", self.key))?;
        let value = match self.value {
            WireValue::Json(raw) => raw.get().as_bytes().to_vec(),
            WireValue::Hex(text) => {
                unhex(&text).ok_or_else(|| format!("value \"{text}\" is not hex"))?
            }
        };
        Ok((key, value))
    }
}

/// Checks a backup's header fields: the format, a schema version this build reads, the
/// time it was taken.
fn check_header(
    format: Option<&str>,
    schema_version: Option<u32>,
    exported_at: Option<DateTime<Utc>>,
) -> StoreResult<(u32, DateTime<Utc>)> {
    if format != Some(BACKUP_FORMAT) {
        return Err(invalid(format!(
            "not a studybot backup (its \"format\" is {}, expected \"{BACKUP_FORMAT}\")",
            format.map_or("missing".to_string(), |f| format!("\"{f}\""))
        )));
    }
    let version = match schema_version {
        Some(found @ OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION) => found,
        Some(found) => {
            return Err(invalid(format!(
                "the backup has store schema version {found}; this build reads version {SCHEMA_VERSION} (restore it with the studybot version that wrote it)"
            )));
        }
        None => {
            return Err(invalid(
                "the backup has no \"schema_version\" before its trees".into(),
            ));
        }
    };
    match exported_at {
        Some(at) => Ok((version, at)),
        None => Err(invalid(
            "the backup has no \"exported_at\" before its trees".into(),
        )),
    }
}

/// Where an entry is in a backup, to name it.
#[derive(Debug, Clone)]
struct Place {
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
struct Consistency<'a> {
    shipped: &'a [String],
    version: u32,
    seen_trees: BTreeSet<String>,
    last_key: Option<Vec<u8>>,
    entries: usize,
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
    fn new(shipped: &'a [String]) -> Self {
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

    fn item(&mut self, item: BackupItem<'_>) -> StoreResult<()> {
        match item {
            BackupItem::Header(header) => self.version = header.schema_version,
            BackupItem::Tree(name) => {
                let known = Collection::ALL.iter().any(|c| c.tree() == name)
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
    fn finish(&self) -> StoreResult<()> {
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
struct Facts {
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
    fn texts(texts: impl IntoIterator<Item = String>) -> Self {
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
fn check_entry(version: u32, tree: &str, key: &[u8], value: &[u8]) -> Result<Facts, String> {
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
    let Some(collection) = Collection::ALL.into_iter().find(|c| c.tree() == tree) else {
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
                super::deck::check(value)?;
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
        Collection::QuizAnswers => {
            let answer = decode::<QuizAnswer>(value)?;
            none(chat_keyed(key, 24, answer.chat_id))
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
    use crate::store::Entry;
    use crate::store::contract::stores;
    use crate::store::{Backend, key_i64};
    use crate::text::{SectionId, parse_document};

    /// The texts shipped beside the tests' stores.
    fn shipped() -> Vec<String> {
        vec!["xzsj".to_string()]
    }

    /// A store with every kind of record.
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
                part: 1,
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
                let report = to.import(&file, &shipped()).unwrap();
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
    }

    #[test]
    fn import_replaces_what_was_there() {
        let source = Store::in_memory();
        fill(&source);
        let backup = source.export().unwrap();
        let target = Store::in_memory();
        target.set_daily_quiz_setting(12345, false).unwrap();
        target.backend().insert(trees::CHATS, b"k", b"v").unwrap();
        assert_eq!(
            target.user_state().unwrap().into_iter().collect::<Vec<_>>(),
            vec![("chats".to_string(), 1), ("quiz_settings".to_string(), 1)]
        );
        let report = target.import(&backup, &shipped()).unwrap();
        assert_eq!(report.replaced, 3, "the two entries and the schema version");
        assert_eq!(target.daily_quiz_setting(12345).unwrap(), None);
        assert_eq!(target.backend().get(trees::CHATS, b"k").unwrap(), None);
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
            target.import(&wrong_meta, &shipped()),
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
        assert!(verify(good.as_bytes(), &shipped()).is_ok());
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
            let Err(error) = target.import(&backup, &shipped()) else {
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
            let Err(error) = target.import(&damaged, &shipped()) else {
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
            header: BackupHeader {
                schema_version: 1,
                exported_at: now,
                studybot_version: "0.1.0".into(),
            },
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
            store.import(&file, &shipped()).unwrap();
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
            assert_eq!(again.header.schema_version, SCHEMA_VERSION, "{name}");
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
        let error = Store::in_memory()
            .import(&backup, &shipped())
            .unwrap_err()
            .to_string();
        assert!(error.contains("entry 1 of \"review_decks\""), "{error}");
        assert!(error.contains("not whole 95-byte cards"), "{error}");
    }

    #[test]
    fn a_chat_text_is_checked_like_every_chat_record() {
        let key = crate::store::key_i64(9);
        let good = br#"{"chat_id":9,"document":"xzsj","left_at":{"report":{"part":1,"point":2}}}"#;
        let check =
            |key: &[u8], value: &[u8]| check_entry(SCHEMA_VERSION, trees::CHAT_TEXTS, key, value);
        assert_eq!(check(&key, good), Ok(Facts::texts(["xzsj".to_string()])));
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
        let (written, summary) = export_file(&store, &path).unwrap();
        assert_eq!(written, path);
        export_file(&store, &path).unwrap();
        let backup = Backup::read(&path).unwrap();
        assert_eq!(backup.entries(), summary.entries);
        assert_eq!(backup.trees.len(), summary.trees);
        assert_eq!(backup.trees, store.export().unwrap().trees);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&path).unwrap().permissions()
            ) & 0o777,
            0o600
        );
        let missing = Backup::read(&dir.path().join("missing.json")).unwrap_err();
        assert!(missing.to_string().contains("missing.json"), "{missing}");
        let unwritable = export_file(&store, &dir.path().join("no/such/dir/b.json"));
        assert!(unwritable.is_err());
    }

    /// A writer that fails after `left` bytes.
    struct FailingAfter {
        left: usize,
    }

    impl Write for FailingAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.left {
                0 => Err(std::io::Error::other("disk full")),
                left => {
                    let n = buf.len().min(left);
                    self.left -= n;
                    Ok(n)
                }
            }
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_reported() {
        let store = Store::in_memory();
        fill(&store);
        let error = export_to(&store, FailingAfter { left: 100 }).unwrap_err();
        assert!(error.to_string().contains("disk full"), "{error}");
    }

    #[test]
    fn values_round_trip_byte_for_byte_as_json_or_hex() {
        let odd: Vec<(&[u8], &[u8])> = vec![
            (b"\x00", b" {\"b\": 1, \"a\": [1.0, 1e3]} "),
            (b"\x01", b"{\"b\":1,\"a\":\"\\u00e9\"}"),
            (b"\x02", &[0xff, 0xfe, 0x00]),
            (b"\x03", b""),
            (b"\x04\xff", b"\"a json string that looks like hex: 00ff\""),
        ];
        let backup = Backup {
            header: BackupHeader {
                schema_version: SCHEMA_VERSION,
                exported_at: Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap(),
                studybot_version: "0.1.0 \"test\"".into(),
            },
            trees: [
                (
                    "a \"tree\"".to_string(),
                    odd.iter()
                        .map(|(key, value)| BackupEntry {
                            key: key.to_vec(),
                            value: value.to_vec(),
                        })
                        .collect(),
                ),
                ("empty".to_string(), Vec::new()),
            ]
            .into(),
        };
        let json = backup.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains("\"hex\": \"207b2262"), "{text}");
        assert!(
            text.contains("\"json\": {\"b\":1,\"a\":\"\\u00e9\"}"),
            "{text}"
        );
        assert!(text.contains("\"json\": \"a json string that looks like hex: 00ff\""));
        serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
        assert_eq!(Backup::from_json(&json).unwrap(), backup);
        let empty = Backup {
            trees: BTreeMap::new(),
            ..backup
        };
        assert_eq!(Backup::from_json(&empty.to_json()).unwrap(), empty);
    }

    /// The format every version before streaming wrote: one `serde_json` pretty print
    /// of the whole document.
    fn old_format(backup: &Backup) -> Vec<u8> {
        #[derive(Serialize)]
        struct Old<'a> {
            format: &'a str,
            schema_version: u32,
            exported_at: DateTime<Utc>,
            studybot_version: &'a str,
            trees: BTreeMap<&'a str, Vec<WireEntry>>,
        }
        let trees = backup
            .trees
            .iter()
            .map(|(name, entries)| {
                let entries = entries
                    .iter()
                    .map(|entry| {
                        let value = match serde_json::from_slice::<Box<RawValue>>(&entry.value) {
                            Ok(raw) if raw.get().as_bytes() == entry.value.as_slice() => {
                                WireValue::Json(raw)
                            }
                            _ => WireValue::Hex(hex(&entry.value)),
                        };
                        WireEntry {
                            key: hex(&entry.key),
                            value,
                        }
                    })
                    .collect();
                (name.as_str(), entries)
            })
            .collect();
        serde_json::to_vec_pretty(&Old {
            format: BACKUP_FORMAT,
            schema_version: backup.header.schema_version,
            exported_at: backup.header.exported_at,
            studybot_version: &backup.header.studybot_version,
            trees,
        })
        .unwrap()
    }

    #[test]
    fn a_backup_in_the_old_pretty_format_is_read_and_restored() {
        let source = Store::in_memory();
        fill(&source);
        let backup = source.export().unwrap();
        let old = old_format(&backup);
        assert!(String::from_utf8_lossy(&old).contains("\n        \"key\""));
        assert_eq!(Backup::from_json(&old).unwrap(), backup);
        let target = Store::in_memory();
        let summary = verify(old.as_slice(), &shipped()).unwrap();
        assert_eq!(summary.entries, backup.entries());
        target.restore(old.as_slice(), &summary).unwrap();
        assert_eq!(contents(target.backend()), contents(source.backend()));
    }

    /// `backup` with `edit` applied, as a file would carry it.
    fn edited(
        backup: &Backup,
        edit: impl FnOnce(&mut BTreeMap<String, Vec<BackupEntry>>),
    ) -> Backup {
        let mut edited = backup.clone();
        edit(&mut edited.trees);
        edited
    }

    /// What importing `backup` into a store holding one setting says; the setting must
    /// stay.
    fn refusal(backup: &Backup) -> String {
        let target = Store::in_memory();
        target.set_daily_quiz_setting(1, true).unwrap();
        let error = target.import(backup, &shipped()).unwrap_err().to_string();
        assert_eq!(target.daily_quiz_setting(1).unwrap(), Some(true), "{error}");
        assert!(error.contains("nothing was imported"), "{error}");
        error
    }

    #[test]
    fn an_unknown_or_repeated_tree_or_a_key_out_of_order_is_refused() {
        let source = Store::in_memory();
        fill(&source);
        let backup = source.export().unwrap();
        let unknown = edited(&backup, |trees| {
            trees.insert("future_tree".into(), vec![]);
        });
        let error = refusal(&unknown);
        assert!(error.contains("tree \"future_tree\""), "{error}");
        let v1_cards_in_v2 = edited(&backup, |trees| {
            trees.insert(V1_REVIEW_CARDS.into(), vec![]);
        });
        assert!(refusal(&v1_cards_in_v2).contains("\"review_cards\""));
        let mut twice = String::from_utf8(backup.to_json()).unwrap();
        twice = twice.replacen(
            "\"quiz_settings\": [",
            "\"quiz_settings\": [], \"quiz_settings\": [",
            1,
        );
        let error = verify(twice.as_bytes(), &shipped())
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"quiz_settings\" twice"), "{error}");
        let reversed = edited(&backup, |trees| {
            trees.get_mut(trees::SUBSCRIPTIONS).unwrap().reverse();
        });
        let error = refusal(&reversed);
        assert!(error.contains("entry 2 of \"subscriptions\""), "{error}");
        assert!(error.contains("not after the one before it"), "{error}");
    }

    #[test]
    fn a_reference_to_a_missing_text_or_sections_of_no_text_are_refused() {
        let source = Store::in_memory();
        fill(&source);
        let mut report =
            parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        report.id = "report".into();
        let imported = ImportedText {
            id: "report".into(),
            source: "report.txt".into(),
            imported_at: Utc::now(),
            content_hash: 7,
        };
        source.store_imported(&report, &imported).unwrap();
        let choice = ChatText {
            chat_id: -5,
            document: "report".into(),
            left_at: BTreeMap::new(),
        };
        source.set_chat_text(&choice, 0).unwrap();
        let backup = source.export().unwrap();
        assert!(Store::in_memory().import(&backup, &shipped()).is_ok());

        // The imported text's record is missing: the chat would silently fall back.
        let no_record = edited(&backup, |trees| {
            trees
                .get_mut(trees::IMPORTED)
                .unwrap()
                .retain(|e| e.key != b"report");
        });
        let error = refusal(&no_record);
        assert!(error.contains("of \"chat_texts\""), "{error}");
        assert!(error.contains("refers to text \"report\""), "{error}");

        // Without the chat, the text's sections belong to no text.
        let orphans = edited(&no_record, |trees| {
            trees.remove(trees::CHAT_TEXTS);
            trees
                .get_mut(trees::SUBSCRIPTIONS)
                .unwrap()
                .iter_mut()
                .for_each(|e| {
                    e.value = String::from_utf8(e.value.clone())
                        .unwrap()
                        .replace("\"report\"", "\"xzsj\"")
                        .into_bytes();
                });
        });
        let error = refusal(&orphans);
        assert!(error.contains("of \"meta\""), "{error}");
        assert!(error.contains("record of text \"report\""), "{error}");

        // Sections without their document record.
        let no_document = edited(&orphans, |trees| {
            trees
                .get_mut(trees::META)
                .unwrap()
                .retain(|e| e.key != b"document:report");
        });
        let error = refusal(&no_document);
        assert!(error.contains("of \"sections\""), "{error}");
        assert!(error.contains("section of text \"report\""), "{error}");

        // A text that is shipped here needs nothing in the backup.
        let shipped_elsewhere = edited(&backup, |trees| {
            trees
                .get_mut(trees::META)
                .unwrap()
                .retain(|e| e.key != b"document:xzsj");
            trees
                .get_mut(trees::SECTIONS)
                .unwrap()
                .retain(|e| !e.key.starts_with(b"xzsj\0"));
            trees
                .get_mut(trees::IMPORTED)
                .unwrap()
                .retain(|e| e.key != b"xzsj");
        });
        assert!(
            Store::in_memory()
                .import(&shipped_elsewhere, &shipped())
                .is_ok()
        );
        assert!(
            Store::in_memory()
                .import(&shipped_elsewhere, &[])
                .unwrap_err()
                .to_string()
                .contains("refers to text \"xzsj\"")
        );
    }

    #[test]
    fn a_restore_streams_in_pages_and_clears_what_was_there() {
        let source = Store::in_memory();
        fill(&source);
        for chat in 0..3 * PAGE as i64 {
            source.set_daily_quiz_setting(chat, true).unwrap();
        }
        let mut bytes = Vec::new();
        let summary = export_to(&source, &mut bytes).unwrap();
        let target = Store::in_memory();
        for chat in 0..2 * PAGE as i64 {
            target.set_daily_quiz_setting(-chat - 1000, false).unwrap();
        }
        let checked = verify(bytes.as_slice(), &shipped()).unwrap();
        assert_eq!(checked.entries, summary.entries);
        let report = target.restore(bytes.as_slice(), &checked).unwrap();
        assert_eq!(report.entries, summary.entries);
        assert_eq!(
            report.replaced,
            2 * PAGE + 1,
            "the settings and the version"
        );
        assert_eq!(contents(target.backend()), contents(source.backend()));
    }

    /// A memory backend that counts the entries it served and the ones written.
    #[derive(Default)]
    struct Counting {
        inner: crate::store::MemoryBackend,
        scanned: std::sync::atomic::AtomicUsize,
        inserted: std::sync::atomic::AtomicUsize,
    }

    impl Backend for Counting {
        fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
            self.inner.get(tree, key)
        }
        fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
            self.inserted
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.insert(tree, key, value)
        }
        fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
            self.inner.remove(tree, key)
        }
        fn update(
            &self,
            tree: &str,
            key: &[u8],
            f: &mut crate::store::Updater<'_>,
        ) -> StoreResult<Option<Vec<u8>>> {
            self.inner.update(tree, key, f)
        }
        fn scan(
            &self,
            tree: &str,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
        ) -> StoreResult<Vec<Entry>> {
            let page = self.inner.scan(tree, start, end, limit)?;
            self.scanned
                .fetch_add(page.len(), std::sync::atomic::Ordering::SeqCst);
            Ok(page)
        }
        fn flush(&self) -> StoreResult<()> {
            self.inner.flush()
        }
        fn tree_names(&self) -> StoreResult<Vec<String>> {
            self.inner.tree_names()
        }
    }

    /// A store on a [`Counting`] backend with `settings` daily-question settings.
    fn counted(settings: i64) -> (Store, std::sync::Arc<Counting>) {
        let backend = std::sync::Arc::new(Counting::default());
        let store = Store::with_backend(backend.clone()).unwrap();
        for chat in 0..settings {
            store.set_daily_quiz_setting(chat, true).unwrap();
        }
        (store, backend)
    }

    /// Records, at each write, how many entries the backend had served.
    struct Watching {
        backend: std::sync::Arc<Counting>,
        scanned_at_first_write: Option<usize>,
        bytes: usize,
    }

    impl Write for Watching {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let scanned = self
                .backend
                .scanned
                .load(std::sync::atomic::Ordering::SeqCst);
            self.scanned_at_first_write.get_or_insert(scanned);
            self.bytes += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_export_writes_while_it_reads() {
        let entries = 40 * PAGE as i64;
        let (store, backend) = counted(entries);
        let before = backend.scanned.load(std::sync::atomic::Ordering::SeqCst);
        let mut out = Watching {
            backend: backend.clone(),
            scanned_at_first_write: None,
            bytes: 0,
        };
        let summary = export_to(&store, &mut out).unwrap();
        assert_eq!(summary.entries, entries as usize + 1, "and the version");
        let first = out.scanned_at_first_write.unwrap() - before;
        assert!(
            first < entries as usize / 4,
            "the file is written as the store is read ({first} of {entries} entries read before the first write of {} bytes)",
            out.bytes
        );
    }

    /// Hands out `bytes` a little at a time, recording how many entries the backend had
    /// written when half of them were read.
    struct Trickle<'a> {
        bytes: &'a [u8],
        read: usize,
        backend: std::sync::Arc<Counting>,
        inserted_at_half: Option<usize>,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.read >= self.bytes.len() / 2 && self.inserted_at_half.is_none() {
                self.inserted_at_half = Some(
                    self.backend
                        .inserted
                        .load(std::sync::atomic::Ordering::SeqCst),
                );
            }
            let n = buf.len().min(4096).min(self.bytes.len() - self.read);
            buf[..n].copy_from_slice(&self.bytes[self.read..self.read + n]);
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn a_restore_writes_while_it_reads() {
        let entries = 40 * PAGE as i64;
        let (source, _) = counted(entries);
        let mut bytes = Vec::new();
        export_to(&source, &mut bytes).unwrap();
        let checked = verify(bytes.as_slice(), &[]).unwrap();
        let (target, backend) = counted(0);
        let before = backend.inserted.load(std::sync::atomic::Ordering::SeqCst);
        let mut reader = Trickle {
            bytes: &bytes,
            read: 0,
            backend: backend.clone(),
            inserted_at_half: None,
        };
        target.restore(&mut reader, &checked).unwrap();
        let at_half = reader.inserted_at_half.unwrap() - before;
        assert!(
            at_half > entries as usize / 4,
            "entries are written as the file is read ({at_half} of {entries} written when half of it was read)"
        );
        assert_eq!(contents(target.backend()), contents(source.backend()));
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
