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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{PAGE, SCHEMA_VERSION, SCHEMA_VERSION_KEY, Store, StoreError, StoreResult, trees};

mod checks;
mod format;
#[cfg(test)]
mod tests;

use checks::*;
pub use format::read_through;
use format::*;

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
        } else {
            // The members' check-in days and the questions' tallies follow the check-ins
            // and answers (the upgrade builds them): a backup edited by hand (a check-in
            // added, a tally dropped) still gives figures that match its records.
            self.build_member_days()?;
            self.build_quiz_tallies()?;
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
