//! The store: typed collections over a small key-value [`Backend`].
//!
//! Two backends keep the same contract: [`SledBackend`] (the real, embedded database)
//! and [`MemoryBackend`] (its in-memory twin for tests). Each collection is one tree;
//! numeric keys are big-endian so that trees sort by them. The typed methods live in
//! `impl Store` blocks next to the collections they serve; [`Backup`] dumps every tree
//! to one JSON document and restores it ([`Store::export`], [`Store::import`]).
//!
//! Values are JSON, except where size or speed call for a binary form: the review decks
//! (`deck.rs`). The store records its layout's [`SCHEMA_VERSION`]; opening a store of
//! an older layout moves its records to this one ([`Store::with_backend`]).

pub mod backup;
mod chat_texts;
mod chats;
mod collections;
mod deck;
mod ledger;
mod memory;
mod quiz;
mod record;
mod review;
mod sections;
mod sled_backend;
mod snapshot;
mod subscriptions;
mod versions;

use std::path::Path;
use std::sync::Arc;

pub use backup::{BACKUP_FORMAT, Backup, BackupEntry, BackupHeader, DERIVED_TREES, RestoreReport};
pub use chat_texts::ChatText;
pub use chats::ChatStatus;
pub use collections::{Collection, trees};
pub use ledger::LEDGER_RETENTION_DAYS;
pub use memory::MemoryBackend;
pub use quiz::PollTarget;
pub use record::CheckInResult;
pub use review::{DueCard, DueReview, TextDeck};
pub use sections::{ImportedText, SyncOutcome};
pub use sled_backend::{GENERATION_FILE, SledBackend};
pub use snapshot::Operation;
pub use subscriptions::{DueCursor, SubscriptionChange};
pub use versions::Version;

/// The version of the stored layout. Bump it when a collection changes shape, and teach
/// [`Store::with_backend`] to move the older layout's records.
///
/// Version 2 keeps the review cards as one binary deck per member and text
/// ([`trees::REVIEW_DECKS`]) instead of one JSON card per key (version 1's
/// `review_cards`). Version 3 adds [`trees::MEMBER_DAYS`], each member's check-in days,
/// built from the check-ins when an older store is opened, and [`trees::QUIZ_TALLIES`],
/// built from the quiz answers.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest layout this build still opens (and moves to [`SCHEMA_VERSION`]); backups
/// of it are restored and moved the same way.
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Where [`SCHEMA_VERSION`] is kept in [`trees::META`] (big-endian `u32`).
const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";

/// Where [`trees::META`] keeps the Mini App address the private chats' menu button was
/// last pointed at (UTF-8), so that a start without `[web]` puts the button back.
const MENU_BUTTON_KEY: &[u8] = b"menu_button";

/// A failure of the underlying database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error (I/O, corruption).
    #[error("database error: {0}")]
    Database(String),
    /// A stored value could not be decoded.
    #[error("stored value in {tree} is unreadable: {reason}")]
    Corrupt {
        /// The tree holding the value.
        tree: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The database was written by a newer or incompatible version.
    #[error("database schema version {found} is not supported (this build uses {SCHEMA_VERSION})")]
    Schema {
        /// The version found in the database.
        found: u32,
    },
    /// A backup file could not be read or written, is not a studybot backup, or was
    /// written for another store layout.
    #[error("{0}")]
    Backup(String),
    /// The database lost writes it had made durable (its files were truncated,
    /// overwritten or replaced): starting on it would serve an empty or old state and
    /// then write over what could still be recovered.
    #[error(
        "the database at {path} is damaged: {reason}.\nstudybot will not start on it, so that nothing more is lost. To restore the last backup: stop every studybot process, move the damaged directory aside (mv {path} {path}.damaged), then run `studybot import-state <backup.json>` with a file written by `studybot export`."
    )]
    Damaged {
        /// The database directory.
        path: String,
        /// What was found.
        reason: String,
    },
    /// Another process holds the database open.
    #[error(
        "the database at {0} is in use by another studybot process (stop it, or use another path via STUDYBOT_DB)"
    )]
    Locked(String),
}

/// How many entries [`Store::each_entry`] reads at a time.
const PAGE: usize = 1024;

/// Result type of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// A key and its value, as returned by scans.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A read-modify-write step: gets the current value, returns the new one (`None` deletes).
pub type Updater<'a> = dyn FnMut(Option<&[u8]>) -> Option<Vec<u8>> + 'a;

/// The few operations the typed store needs from a database.
///
/// `update` is atomic per key: concurrent callers never lose each other's changes
/// (the closure may run more than once, so it must be pure). Tree names are plain
/// `&str` because a backup being imported names its trees at run time.
pub trait Backend: Send + Sync + 'static {
    /// Reads one value.
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    /// Writes one value.
    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()>;
    /// Deletes one value; deleting a missing key is not an error.
    fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()>;
    /// Atomically replaces the value with `f(old)` (`None` deletes) and returns the new value.
    fn update(&self, tree: &str, key: &[u8], f: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>>;
    /// Entries with `start <= key < end` (or to the end of the tree), in key order, at most `limit`.
    fn scan(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>>;
    /// Makes every write so far durable.
    fn flush(&self) -> StoreResult<()>;
    /// The names of the trees that exist, in any order (a tree may be empty): the
    /// collections of [`trees`], plus any a newer version added. A backup walks them all.
    fn tree_names(&self) -> StoreResult<Vec<String>>;
}

/// The typed store shared by the transports and the scheduler. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    /// How long a day's excerpt may still go out after its send time (`grace_hours`):
    /// the store applies it when it moves a subscription's next send (see
    /// [`crate::schedule::first_open_send`]).
    grace: chrono::TimeDelta,
    /// The snapshots open on this store and its operations under way (see
    /// [`Store::snapshot`]).
    snapshots: Arc<snapshot::Snapshots>,
    /// Which chats' records changed since when (see [`Store::version`]).
    versions: Arc<versions::Versions>,
}

impl Store {
    /// Opens (or creates) the sled database at `path` and checks its schema version.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::with_backend(Arc::new(SledBackend::open(path)?))
    }

    /// [`Store::open`] with sled's page cache limited to about `cache_bytes`: for a
    /// command that reads a large range once (`studybot record`, `export`), where every
    /// page read would otherwise stay cached (up to sled's default of 1 GiB). Its scans
    /// keep to that cache however long the range (see [`SledBackend::open_with_cache`]).
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> StoreResult<Self> {
        Self::with_backend(Arc::new(SledBackend::open_with_cache(path, cache_bytes)?))
    }

    /// A store that lives in memory only.
    pub fn in_memory() -> Self {
        Self::with_backend(Arc::new(MemoryBackend::default()))
            .expect("a new memory store has no schema conflict")
    }

    /// Wraps a backend, writing the schema version into a new database, moving an older
    /// layout's records to this one ([`Store::upgrade`]) and refusing an unknown layout.
    pub fn with_backend(backend: Arc<dyn Backend>) -> StoreResult<Self> {
        let snapshots = Arc::<snapshot::Snapshots>::default();
        let versions = Arc::<versions::Versions>::default();
        let store = Self {
            // Every write goes through the recorder, so a backup can read a consistent
            // snapshot while the bot runs (see [`Store::snapshot`]), and a view of a
            // chat's records knows when it is out of date (see [`Store::version`]).
            backend: Arc::new(snapshot::Recording::new(
                backend,
                snapshots.clone(),
                versions.clone(),
            )),
            grace: crate::schedule::DEFAULT_GRACE,
            snapshots,
            versions,
        };
        match store.schema_version()? {
            None => store.write_schema_version()?,
            Some(SCHEMA_VERSION) => {}
            Some(found) => store.upgrade(found)?,
        }
        Ok(store)
    }

    /// The layout version the store records, if any.
    fn schema_version(&self) -> StoreResult<Option<u32>> {
        Ok(self
            .backend
            .get(trees::META, SCHEMA_VERSION_KEY)?
            .map(|bytes| bytes.try_into().map(u32::from_be_bytes).unwrap_or(u32::MAX)))
    }

    /// Moves the records of layout `found` to [`SCHEMA_VERSION`], then records the new
    /// version and flushes; refuses a layout it does not know. Each step can be cut
    /// short and run again: the version is written only once all of it is done.
    fn upgrade(&self, found: u32) -> StoreResult<()> {
        if !(OLDEST_SCHEMA_VERSION..SCHEMA_VERSION).contains(&found) {
            return Err(StoreError::Schema { found });
        }
        // Version 1 → 2: one JSON card per key → one binary deck per member and text.
        let moved = self.move_v1_cards()?;
        // Version 2 → 3: each member's check-in days, from the check-ins.
        let members = self.build_member_days()?;
        let questions = self.build_quiz_tallies()?;
        self.write_schema_version()?;
        self.flush()?;
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            review_cards = moved,
            member_days = members,
            quiz_tallies = questions,
            "store layout upgraded"
        );
        if moved > 0 {
            // sled reuses the pages it freed but never shrinks its page table.
            tracing::warn!(
                "the old cards' keys still hold sled memory (about 32 bytes each) while the database is open: `studybot export`, then `import-state` into a new database, releases it"
            );
        }
        Ok(())
    }

    /// Where `chat_id`'s records are now: equal to an earlier answer while nothing that
    /// could change a view of them (a record keyed by the chat, or the texts) was written
    /// in between. In memory only.
    pub fn version(&self, chat_id: i64) -> Version {
        self.versions.of(chat_id)
    }

    /// The Mini App address the private chats' menu button was last pointed at, if any.
    pub fn menu_button(&self) -> StoreResult<Option<String>> {
        Ok(self
            .backend
            .get(trees::META, MENU_BUTTON_KEY)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Records where the menu button points (`None`: Telegram's default), durably.
    pub fn set_menu_button(&self, url: Option<&str>) -> StoreResult<()> {
        match url {
            Some(url) => self
                .backend
                .insert(trees::META, MENU_BUTTON_KEY, url.as_bytes())?,
            None => self.backend.remove(trees::META, MENU_BUTTON_KEY)?,
        }
        self.flush()
    }

    /// Records [`SCHEMA_VERSION`] as the layout of this store.
    fn write_schema_version(&self) -> StoreResult<()> {
        let version = SCHEMA_VERSION.to_be_bytes();
        self.backend
            .insert(trees::META, SCHEMA_VERSION_KEY, &version)
    }

    /// The same store, applying `grace` (the configured `grace_hours`) when it moves a
    /// subscription's next send. A store starts with [`crate::schedule::DEFAULT_GRACE`].
    #[must_use]
    pub fn with_grace(mut self, grace: chrono::TimeDelta) -> Self {
        self.grace = grace;
        self
    }

    /// The grace window this store applies (see [`Store::with_grace`]).
    pub fn grace(&self) -> chrono::TimeDelta {
        self.grace
    }

    /// The backend, for collections defined in other modules.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// Makes every write so far durable (called after critical writes and at shutdown).
    pub fn flush(&self) -> StoreResult<()> {
        let started = std::time::Instant::now();
        let flushed = self.backend.flush();
        crate::telemetry::store_flush(started.elapsed());
        flushed
    }

    /// Reads and decodes a JSON value.
    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        tree: &'static str,
        key: &[u8],
    ) -> StoreResult<Option<T>> {
        self.backend
            .get(tree, key)?
            .map(|bytes| decode(tree, &bytes))
            .transpose()
    }

    /// Encodes and writes a JSON value.
    fn put_json<T: serde::Serialize>(
        &self,
        tree: &'static str,
        key: &[u8],
        value: &T,
    ) -> StoreResult<()> {
        self.backend.insert(tree, key, &encode(value))
    }

    /// Atomically updates a JSON value: `f` gets the current value (if any) and returns the
    /// new one (`None` deletes). Returns the value written.
    fn update_json<T, F>(&self, tree: &'static str, key: &[u8], mut f: F) -> StoreResult<Option<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnMut(Option<T>) -> Option<T>,
    {
        let mut failure = None;
        let written = self.backend.update(tree, key, &mut |old| {
            let old = match old.map(|bytes| decode::<T>(tree, bytes)).transpose() {
                Ok(old) => old,
                Err(error) => {
                    failure = Some(error);
                    return old.map(<[u8]>::to_vec);
                }
            };
            f(old).map(|new| encode(&new))
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        written.map(|bytes| decode(tree, &bytes)).transpose()
    }

    /// Every entry whose key starts with `prefix` (the whole tree for an empty prefix),
    /// in key order.
    fn scan_prefix(&self, tree: &str, prefix: &[u8]) -> StoreResult<Vec<Entry>> {
        let end = prefix_end(prefix);
        self.backend.scan(tree, prefix, end.as_deref(), usize::MAX)
    }

    /// Calls `f` with every entry with `start <= key < end` (or to the end of the tree), in
    /// key order, reading [`PAGE`] entries at a time: a long range (a year of a large
    /// group's check-ins) is never held in memory at once.
    fn each_entry<E: From<StoreError>>(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut from = start.to_vec();
        loop {
            let page = self.backend.scan(tree, &from, end, PAGE)?;
            for (key, value) in &page {
                f(key, value)?;
            }
            match page.last() {
                Some((last, _)) if page.len() == PAGE => {
                    // The smallest key after the last one read.
                    from.clone_from(last);
                    from.push(0);
                }
                _ => return Ok(()),
            }
        }
    }

    /// The first entry whose key starts with `prefix`, if any.
    fn first_entry(&self, tree: &str, prefix: &[u8]) -> StoreResult<Option<Entry>> {
        let end = prefix_end(prefix);
        Ok(self.backend.scan(tree, prefix, end.as_deref(), 1)?.pop())
    }

    /// Decodes every value whose key starts with `prefix` (see [`Store::scan_prefix`]).
    fn scan_json<T: serde::de::DeserializeOwned>(
        &self,
        tree: &'static str,
        prefix: &[u8],
    ) -> StoreResult<Vec<(Vec<u8>, T)>> {
        self.scan_prefix(tree, prefix)?
            .into_iter()
            .map(|(key, value)| Ok((key, decode(tree, &value)?)))
            .collect()
    }

    /// [`Store::scan_json`] without the keys: the values of one chat's records, in key order.
    fn chat_values<T: serde::de::DeserializeOwned>(
        &self,
        tree: &'static str,
        chat_id: i64,
    ) -> StoreResult<Vec<T>> {
        self.scan_prefix(tree, &key_i64(chat_id))?
            .into_iter()
            .map(|(_, value)| decode(tree, &value))
            .collect()
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records serialize to JSON")
}

fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt {
        tree,
        reason: error.to_string(),
    })
}

/// Encodes a signed id so that byte order equals numeric order (sign bit flipped, big-endian).
fn key_i64(value: i64) -> [u8; 8] {
    ((value as u64) ^ (1 << 63)).to_be_bytes()
}

/// Decodes [`key_i64`].
fn i64_from_key(bytes: &[u8]) -> Option<i64> {
    let bytes: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

/// The smallest key greater than every key starting with `prefix` (for prefix scans).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod contract {
    //! The contract every backend keeps, run against both.

    use super::*;

    /// Both backends by name: memory, and sled in a temporary directory (kept alive by
    /// the guard).
    fn backends() -> Vec<(&'static str, Arc<dyn Backend>, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let sled = SledBackend::open(&dir.path().join("db")).unwrap();
        vec![
            ("memory", Arc::new(MemoryBackend::default()), None),
            ("sled", Arc::new(sled), Some(dir)),
        ]
    }

    /// A store on each of [`backends`]: the collections' tests run on both.
    pub(super) fn stores() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
        backends()
            .into_iter()
            .map(|(name, backend, dir)| (name, Store::with_backend(backend).unwrap(), dir))
            .collect()
    }

    #[test]
    fn get_insert_remove() {
        for (name, backend, _dir) in backends() {
            assert_eq!(backend.get("t", b"k").unwrap(), None, "{name}");
            backend.insert("t", b"k", b"v").unwrap();
            assert_eq!(
                backend.get("t", b"k").unwrap(),
                Some(b"v".to_vec()),
                "{name}"
            );
            assert_eq!(
                backend.get("other", b"k").unwrap(),
                None,
                "{name}: trees are separate"
            );
            backend.remove("t", b"k").unwrap();
            backend.remove("t", b"k").unwrap();
            assert_eq!(backend.get("t", b"k").unwrap(), None, "{name}");
        }
    }

    #[test]
    fn scans_are_ordered_and_bounded() {
        for (name, backend, _dir) in backends() {
            for id in [5_i64, -3, 0, 1 << 40, -(1 << 40), 7] {
                backend
                    .insert("t", &key_i64(id), &id.to_be_bytes())
                    .unwrap();
            }
            let all = backend.scan("t", &[], None, usize::MAX).unwrap();
            let ids: Vec<i64> = all.iter().map(|(k, _)| i64_from_key(k).unwrap()).collect();
            assert_eq!(ids, vec![-(1 << 40), -3, 0, 5, 7, 1 << 40], "{name}");
            let some = backend
                .scan("t", &key_i64(0), Some(&key_i64(7)), 10)
                .unwrap();
            assert_eq!(some.len(), 2, "{name}: [0, 7) holds 0 and 5");
            assert_eq!(
                backend.scan("t", &[], None, 3).unwrap().len(),
                3,
                "{name}: limit"
            );
        }
    }

    #[test]
    fn updates_are_atomic_under_concurrency() {
        for (name, backend, _dir) in backends() {
            std::thread::scope(|scope| {
                for _ in 0..8 {
                    let backend = backend.clone();
                    scope.spawn(move || {
                        for _ in 0..250 {
                            backend
                                .update("t", b"counter", &mut |old| {
                                    let n = old
                                        .map(|b| u64::from_be_bytes(b.try_into().unwrap()))
                                        .unwrap_or(0);
                                    Some((n + 1).to_be_bytes().to_vec())
                                })
                                .unwrap();
                        }
                    });
                }
            });
            let value = backend.get("t", b"counter").unwrap().unwrap();
            assert_eq!(
                u64::from_be_bytes(value.try_into().unwrap()),
                2000,
                "{name}"
            );
            let removed = backend.update("t", b"counter", &mut |_| None).unwrap();
            assert_eq!(removed, None, "{name}");
            assert_eq!(backend.get("t", b"counter").unwrap(), None, "{name}");
        }
    }

    #[test]
    fn tree_names_list_the_collections_written() {
        for (name, backend, _dir) in backends() {
            backend.insert("a", b"k", b"v").unwrap();
            backend.insert("b", b"k", b"v").unwrap();
            let mut names = backend.tree_names().unwrap();
            names.sort();
            assert_eq!(names, vec!["a", "b"], "{name}: no internal trees listed");
        }
    }

    #[test]
    fn schema_version_is_checked() {
        for (name, backend, _dir) in backends() {
            Store::with_backend(backend.clone()).unwrap();
            Store::with_backend(backend.clone()).unwrap();
            backend
                .insert(trees::META, b"schema_version", &99u32.to_be_bytes())
                .unwrap();
            assert!(
                matches!(
                    Store::with_backend(backend),
                    Err(StoreError::Schema { found: 99 })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn sled_data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = Store::open(&path).unwrap();
            store.put_json("t", b"k", &vec![1, 2, 3]).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.get_json::<Vec<i32>>("t", b"k").unwrap(),
            Some(vec![1, 2, 3])
        );
    }

    #[test]
    fn a_damaged_sled_database_is_refused_not_started_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = Store::open(&path).unwrap();
            store.put_json("t", b"k", &1).unwrap();
            store.flush().unwrap();
        }
        // A first start and a clean reopen are fine; reopening does not damage anything.
        drop(Store::open(&path).unwrap());
        let copy = |to: &Path| {
            std::fs::create_dir_all(to).unwrap();
            for file in std::fs::read_dir(&path).unwrap() {
                let file = file.unwrap();
                if file.file_type().unwrap().is_file() {
                    std::fs::copy(file.path(), to.join(file.file_name())).unwrap();
                }
            }
        };
        for (name, damage) in [
            (
                "empty",
                &(|f: &std::fs::File| f.set_len(0).unwrap()) as &dyn Fn(&std::fs::File),
            ),
            ("100 bytes", &|f: &std::fs::File| f.set_len(100).unwrap()),
        ] {
            let damaged = dir.path().join(name);
            copy(&damaged);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(damaged.join("db"))
                .unwrap();
            damage(&file);
            drop(file);
            match Store::open(&damaged) {
                Err(StoreError::Damaged { path, .. }) => assert!(path.ends_with(name), "{path}"),
                Err(other) => panic!("{name}: {other}"),
                Ok(store) => panic!(
                    "{name}: opened, reading {:?}",
                    store.get_json::<i32>("t", b"k")
                ),
            }
        }
        // The files of sled alone (no generation file: a database from before the check)
        // still open.
        let old = dir.path().join("old");
        copy(&old);
        std::fs::remove_file(old.join(GENERATION_FILE)).unwrap();
        assert_eq!(
            Store::open(&old)
                .unwrap()
                .get_json::<i32>("t", b"k")
                .unwrap(),
            Some(1)
        );
    }

    #[test]
    fn every_tree_is_a_listed_collection() {
        // The names declared in `mod trees`, read from this file's source, so that a
        // tree added there without a `Collection` fails here.
        let source = include_str!("collections.rs");
        let module = source
            .split("pub mod trees {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("mod trees is in this file");
        let declared: std::collections::BTreeSet<&str> = module
            .lines()
            .filter_map(|line| line.trim().strip_prefix("pub const "))
            .filter_map(|line| line.split('"').nth(1))
            .collect();
        assert!(declared.len() >= 10, "{declared:?}");
        let listed: std::collections::BTreeSet<&str> =
            Collection::ALL.iter().map(|c| c.tree()).collect();
        assert_eq!(listed.len(), Collection::ALL.len(), "each listed once");
        assert_eq!(declared, listed, "every tree in `trees` is a `Collection`");
    }

    #[test]
    fn prefix_end_bounds_prefixes() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255, 255]), None);
    }
}
