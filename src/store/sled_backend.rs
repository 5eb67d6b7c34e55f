//! The sled backend: one sled tree per collection.
//!
//! sled recovers a damaged file silently: a `db` file truncated or overwritten in the
//! middle opens as a store that lost everything after the damage (often everything),
//! and the next write makes the loss final. So the backend keeps a *generation*: every
//! flush counts one up, stores the count in sled's own default tree (never a
//! collection, so backups and [`Backend::tree_names`] do not see it) and, once sled
//! reports the flush durable, writes it to a small file beside sled's, [`GENERATION_FILE`].
//! On open, a database that reads back an older generation than that file records lost
//! flushed writes: [`SledBackend::open`] refuses it ([`StoreError::Damaged`]) instead of
//! starting empty. No file means a database that was never flushed by this version
//! (a first start, or one written before the file existed), which is accepted.
//!
//! sled's own flush is not enough against power loss. In sled 0.34.7,
//! `Db::flush` writes the log buffers to the `db` file with `pwrite` and then calls
//! `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` on the written range
//! (`pagecache/iobuf.rs`, `write_to_log`): that waits for the pages to reach the device,
//! but it writes no metadata (a grown file's new size) and sends no cache-flush to the
//! disk, so after a power cut the "flushed" bytes may never have left the disk's
//! volatile cache. Items too big for a log segment go to files under `blobs/`, written
//! with plain `write_all` and never synced; `conf` is written once, also unsynced.
//! Only sled's background flusher calls `sync_all` on `db`, every 500 ms, which a
//! confirmation cannot wait for. sled has no setting for a synchronous fsync, so
//! [`Backend::flush`] here follows sled's flush with `fdatasync` of `db`, of every
//! blob file not yet synced (and of the `blobs` directory when there is one), and of
//! the database directory when its entries changed (the `snap.*` files that sled renames
//! into place).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Backend, Entry, StoreError, StoreResult, Updater};

/// The file in the database directory that records the last generation flushed.
pub const GENERATION_FILE: &str = "studybot-generation";

/// Where the generation is kept in sled's default tree.
const GENERATION_KEY: &[u8] = b"studybot_generation";

/// The embedded sled database.
pub struct SledBackend {
    db: sled::Db,
    /// The generation the next flush takes.
    generation: AtomicU64,
    /// The generation file and the newest generation written to it.
    marker: Mutex<(File, u64)>,
    /// What [`Backend::flush`] syncs after sled's own flush.
    device: DeviceSync,
    /// Opened for a command that reads each page once, with a small cache
    /// ([`SledBackend::open_with_cache`]): its scans look every entry up once more, so
    /// that sled weighs the pages read against that cache (see [`Backend::scan`] here).
    reads_once: bool,
}

/// The files sled writes, held open so that each flush can `fdatasync` them.
struct DeviceSync {
    /// The database directory.
    dir: PathBuf,
    /// sled's log, `db`.
    log: File,
    /// The directory itself (opened read-only: `fsync` on it commits its entries).
    dir_handle: File,
    /// The blob files already synced (sled never rewrites a blob: each has a new name).
    synced_blobs: Mutex<HashSet<OsString>>,
    /// The directory's modification time when it was last synced: its entries change only
    /// when sled adds or renames a file (a snapshot), so most flushes skip that sync.
    dir_synced_at: Mutex<Option<std::time::SystemTime>>,
}

impl DeviceSync {
    fn open(dir: &Path) -> StoreResult<Self> {
        let open = |path: &Path| {
            File::open(path).map_err(|error| {
                StoreError::Database(format!("cannot open {}: {error}", path.display()))
            })
        };
        let sync = Self {
            dir: dir.to_path_buf(),
            log: open(&dir.join("db"))?,
            dir_handle: open(dir)?,
            synced_blobs: Mutex::new(HashSet::new()),
            dir_synced_at: Mutex::new(None),
        };
        // Once at open: `conf`, `db` and `blobs/` were created unsynced by sled.
        if let Ok(conf) = File::open(dir.join("conf")) {
            conf.sync_all()
                .map_err(|error| sync_failed("conf", &error))?;
        }
        sync.log
            .sync_all()
            .map_err(|error| sync_failed("db", &error))?;
        sync.sync_blobs()?;
        sync.sync_dir()?;
        Ok(sync)
    }

    /// Makes everything sled has flushed durable on the device.
    fn sync(&self) -> StoreResult<()> {
        self.sync_blobs()?;
        self.log
            .sync_data()
            .map_err(|error| sync_failed("db", &error))?;
        self.sync_dir()
    }

    /// Syncs the directory's entries if they changed since the last sync (each sync is
    /// one more device flush, which a confirmation should not pay for nothing).
    fn sync_dir(&self) -> StoreResult<()> {
        let modified = self
            .dir_handle
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok();
        let mut synced_at = self
            .dir_synced_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if modified.is_some() && *synced_at == modified {
            return Ok(());
        }
        self.dir_handle
            .sync_all()
            .map_err(|error| sync_failed("the database directory", &error))?;
        // Timestamps are coarse (a kernel tick): a change within the same tick as the one
        // just synced would keep the same time. Like git's "racily clean" rule, a time
        // less than a second old is not trusted, and the next flush syncs again.
        let settled = |time: &std::time::SystemTime| {
            time.elapsed()
                .is_ok_and(|age| age > std::time::Duration::from_secs(1))
        };
        *synced_at = modified.filter(settled);
        Ok(())
    }

    /// Syncs each blob file written since the last call, then the `blobs` directory.
    fn sync_blobs(&self) -> StoreResult<()> {
        let blobs = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blobs) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(sync_failed("blobs", &error)),
        };
        let mut synced = self
            .synced_blobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut present = HashSet::new();
        let mut new = false;
        for entry in entries {
            let name = entry
                .map_err(|error| sync_failed("blobs", &error))?
                .file_name();
            if !synced.contains(&name) {
                match File::open(blobs.join(&name)) {
                    Ok(file) => file
                        .sync_data()
                        .map_err(|error| sync_failed("a blob", &error))?,
                    // Collected by sled between the listing and the open: nothing to keep.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(sync_failed("a blob", &error)),
                }
                new = true;
            }
            present.insert(name);
        }
        if new {
            File::open(&blobs)
                .and_then(|dir| dir.sync_all())
                .map_err(|error| sync_failed("blobs", &error))?;
        }
        // Forget the blobs sled has removed, so the set stays as small as the directory.
        *synced = present;
        Ok(())
    }
}

fn sync_failed(what: &str, error: &std::io::Error) -> StoreError {
    StoreError::Database(format!("cannot sync {what} to the disk: {error}"))
}

impl SledBackend {
    /// Opens (or creates) the database at `path`; refuses one that lost flushed writes.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_inner(path, DEFAULT_CACHE_BYTES, false)
    }

    /// [`SledBackend::open`] for a command that reads a large range once (an export, a
    /// record): sled's page cache is limited to about `cache_bytes`, and the memory of a
    /// scan stays near it however long the range (each entry is looked up once more,
    /// a fifth more time for an export or a record; see [`Backend::scan`] here).
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> StoreResult<Self> {
        Self::open_inner(path, cache_bytes, true)
    }

    fn open_inner(path: &Path, cache_bytes: u64, reads_once: bool) -> StoreResult<Self> {
        // Read before sled opens the directory: sled's recovery may rewrite its files.
        let marker_path = path.join(GENERATION_FILE);
        let flushed = read_generation(&marker_path)?;
        // sled's I/O threads release the file a moment after the last handle is dropped,
        // so a reopen in the same process may find it locked for that moment.
        let mut waited = std::time::Duration::ZERO;
        let db = loop {
            match open_sled(path, cache_bytes) {
                Err(StoreError::Locked(_)) if waited < LOCK_PATIENCE => {
                    std::thread::sleep(LOCK_RECHECK);
                    waited += LOCK_RECHECK;
                }
                result => break result?,
            }
        };
        let stored = db
            .get(GENERATION_KEY)
            .map_err(database)?
            .and_then(|bytes| bytes.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0);
        if let Some(flushed) = flushed
            && stored < flushed
        {
            return Err(StoreError::Damaged {
                path: path.display().to_string(),
                reason: format!(
                    "it reads back as of write {stored}, but write {flushed} had been saved (its files were truncated, overwritten or replaced)"
                ),
            });
        }
        let current = stored.max(flushed.unwrap_or(0));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&marker_path)
            .map_err(|error| {
                StoreError::Database(format!("cannot open {}: {error}", marker_path.display()))
            })?;
        let device = DeviceSync::open(path)?;
        Ok(Self {
            db,
            generation: AtomicU64::new(current),
            marker: Mutex::new((file, flushed.unwrap_or(0))),
            device,
            reads_once,
        })
    }

    fn tree(&self, name: &str) -> StoreResult<sled::Tree> {
        self.db.open_tree(name).map_err(database)
    }
}

/// How long [`SledBackend::open`] waits for a lock held by this process's last handle.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
/// How often it looks again meanwhile.
const LOCK_RECHECK: std::time::Duration = std::time::Duration::from_millis(20);

/// The bot's page cache: 64 MiB. sled's own default (1 GiB) keeps every page ever read,
/// so one `/export` of a year of a large group left the bot 140 MB bigger for good; the
/// bot's everyday working set (due index, today's ledger, sections) is far smaller.
const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Opens sled at `path`, telling a lock held elsewhere and corruption from other errors.
fn open_sled(path: &Path, cache_bytes: u64) -> StoreResult<sled::Db> {
    sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .open()
        .map_err(|error| match error {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock || io.raw_os_error() == Some(11) =>
            {
                StoreError::Locked(path.display().to_string())
            }
            sled::Error::Io(io) if io.to_string().contains("lock") => {
                StoreError::Locked(path.display().to_string())
            }
            sled::Error::Corruption { .. } => StoreError::Damaged {
                path: path.display().to_string(),
                reason: format!("sled cannot read it ({error})"),
            },
            other => StoreError::Database(format!("{}: {other}", path.display())),
        })
}

/// The generation recorded in `path`; `None` if there is no such file.
fn read_generation(path: &PathBuf) -> StoreResult<Option<u64>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            bytes
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(StoreError::Database(format!(
            "cannot read {}: {error}",
            path.display()
        ))),
    }
}

fn database(error: sled::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

impl Backend for SledBackend {
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)?
            .get(key)
            .map_err(database)?
            .map(|v| v.to_vec()))
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.tree(tree)?.insert(key, value).map_err(database)?;
        Ok(())
    }

    fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
        self.tree(tree)?.remove(key).map_err(database)?;
        Ok(())
    }

    fn update(&self, tree: &str, key: &[u8], f: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>> {
        // sled retries the closure with compare-and-swap until no other writer interferes.
        let new = self
            .tree(tree)?
            .update_and_fetch(key, f)
            .map_err(database)?;
        Ok(new.map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        let tree = self.tree(tree)?;
        let iter = match end {
            Some(end) => tree.range(start..end),
            None => tree.range(start..),
        };
        iter.take(limit)
            .map(|entry| {
                let (key, value) = entry.map_err(database)?;
                // sled 0.34.7 weighs the pages it holds against its cache lazily
                // (`lru.rs`): each read of a page is queued in one of 256 shards (by page
                // id), and a shard adds up its queue, and evicts, only once 64 reads have
                // piled up in it. A scan reads each page once (its iterator keeps the
                // page it is on), so a one-pass read of a large tree holds up to
                // 256 × 64 pages on top of the cache before the first eviction: 16,000
                // pages, about 40 MB, for a year of 3,000 members' check-ins, whatever
                // the cache's size. A second read of every entry (a page holds about ten)
                // fills each shard's queue after a few pages, so the pages held stay
                // near the cache's size.
                if self.reads_once {
                    tree.get(&key).map_err(database)?;
                }
                Ok((key.to_vec(), value.to_vec()))
            })
            .collect()
    }

    fn flush(&self) -> StoreResult<()> {
        // Concurrent flushes each take a generation; the stored one only grows, so once
        // sled says this flush is durable the database holds at least `generation`.
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.db
            .fetch_and_update(GENERATION_KEY, |old| {
                let old = old
                    .and_then(|bytes| bytes.try_into().ok().map(u64::from_be_bytes))
                    .unwrap_or(0);
                Some(old.max(generation).to_be_bytes().to_vec())
            })
            .map_err(database)?;
        self.db.flush().map_err(database)?;
        // sled's flush stops at sync_file_range (see the module's notes): fdatasync makes
        // the flush survive a power cut, and only then may the generation file move on.
        self.device.sync()?;
        // Not synced on purpose: the file may lag behind the database (a lost write of
        // it only weakens the check), never run ahead of it. Without the device sync
        // above it could run ahead after a power cut (the kernel writing this page back
        // while sled's bytes sat in the disk's cache), and the store would refuse to open.
        let mut marker = self
            .marker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if generation > marker.1 {
            marker
                .0
                .write_all_at(&generation.to_be_bytes(), 0)
                .map_err(|error| {
                    StoreError::Database(format!("cannot record the flushed generation: {error}"))
                })?;
            marker.1 = generation;
        }
        Ok(())
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        // sled always has a default tree (named `__sled__default`) that holds only the
        // backend's generation; every collection is a tree of its own.
        let default = self.db.name();
        self.db
            .tree_names()
            .into_iter()
            .filter(|name| *name != default)
            .map(|name| {
                String::from_utf8(name.to_vec()).map_err(|_| {
                    StoreError::Database(format!("a tree's name is not UTF-8: {name:?}"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_syncs_the_blob_files_sled_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let backend = SledBackend::open(dir.path()).unwrap();
        // A value bigger than a quarter of sled's 512 KiB segment is written as a blob file.
        backend.insert("t", b"big", &vec![7u8; 400_000]).unwrap();
        backend.flush().unwrap();
        let blobs: HashSet<OsString> = std::fs::read_dir(dir.path().join("blobs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(
            !blobs.is_empty(),
            "sled wrote no blob: the test proves nothing"
        );
        let synced = backend.device.synced_blobs.lock().unwrap().clone();
        assert_eq!(synced, blobs);
        drop(backend);
        let backend = SledBackend::open(dir.path()).unwrap();
        assert_eq!(backend.get("t", b"big").unwrap().unwrap().len(), 400_000);
    }

    #[test]
    fn a_store_opened_to_read_once_scans_what_the_bot_scans() {
        let dir = tempfile::tempdir().unwrap();
        let entries: Vec<Entry> = (0..5_000u32)
            .map(|n| (n.to_be_bytes().to_vec(), format!("value {n}").into_bytes()))
            .collect();
        let scans = |backend: &SledBackend| {
            [
                (0u32, None, 10_000),
                (17, Some(4_000u32), 1_024),
                (4_990, None, 3),
            ]
            .map(|(start, end, limit)| {
                let end = end.map(u32::to_be_bytes);
                backend
                    .scan(
                        "t",
                        &start.to_be_bytes(),
                        end.as_ref().map(|e| &e[..]),
                        limit,
                    )
                    .unwrap()
            })
        };
        let expected = {
            let backend = SledBackend::open(dir.path()).unwrap();
            for (key, value) in &entries {
                backend.insert("t", key, value).unwrap();
            }
            backend.flush().unwrap();
            scans(&backend)
        };
        assert_eq!(expected[0], entries);
        assert_eq!(expected[1], entries[17..1_041]);
        assert_eq!(expected[2], entries[4_990..4_993]);
        let backend = SledBackend::open_with_cache(dir.path(), 64 * 1024).unwrap();
        assert!(backend.reads_once);
        assert_eq!(scans(&backend), expected);
    }
}
