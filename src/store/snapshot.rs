//! Consistent snapshots of a live store, for backups taken while the bot runs.
//!
//! sled 0.34 has no snapshot that spans trees (its transactions cover named trees but
//! hold them for their whole length, and an export reads the whole database), so the
//! store keeps its own, copy-on-write: [`Store::snapshot`] marks an instant and returns
//! a read-only [`Store`] that reads every tree *as of that instant* while the live store
//! keeps changing.
//!
//! - Every write goes through [`Recording`], which wraps the real backend. While a
//!   snapshot is open it first keeps the key's value from before the instant (its
//!   *pre-image*; `None` for a key that did not exist) — once per key, before the write.
//! - The snapshot's reads merge the live tree with the pre-images: a key written since
//!   the instant reads as its pre-image (a key created since is skipped, one deleted
//!   since comes back), every other key as it is. It reads the live trees in pages, so
//!   it holds no copy of the store: its memory is the pre-images of the keys written
//!   while it is open (a few per button press), freed when the snapshot is dropped.
//! - A reply that writes several keys (a ✅ press writes the check-in, the day's count and
//!   the member) holds an [`Operation`]; the instant is only marked between operations,
//!   so a snapshot has all of one or none of it. Operations never wait for a snapshot:
//!   marking the instant waits (on its own thread) until none is under way, then takes
//!   a few microseconds, which is all a backup ever holds up a write.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, RwLock};

use super::versions::Versions;
use super::{Backend, Entry, Store, StoreError, StoreResult, Updater};

/// The pre-images one snapshot kept: (tree, key) → the value at its instant.
type PreImages = Mutex<BTreeMap<(String, Vec<u8>), Option<Vec<u8>>>>;

/// The open snapshots of one store and the operations under way.
#[derive(Default)]
pub struct Snapshots {
    /// The snapshots open now; writers hold this shared across keeping a pre-image and
    /// writing, so a snapshot is added between writes, never inside one.
    open: RwLock<Vec<Arc<PreImages>>>,
    /// How many operations are under way.
    operations: Mutex<usize>,
    /// Signalled when the last operation under way ends.
    idle: Condvar,
}

/// One multi-key write of the live store (see the module doc): no snapshot's instant
/// falls inside it. Dropping it ends the operation.
#[must_use = "the operation ends when this is dropped"]
pub struct Operation {
    snapshots: Arc<Snapshots>,
}

impl Drop for Operation {
    fn drop(&mut self) {
        let mut operations = lock(&self.snapshots.operations);
        *operations -= 1;
        if *operations == 0 {
            self.snapshots.idle.notify_all();
        }
    }
}

impl Store {
    /// Begins an operation: every write until the guard is dropped is in a snapshot
    /// together or not at all. Never waits for a snapshot (only for the microseconds
    /// one takes to begin).
    pub fn operation(&self) -> Operation {
        *lock(&self.snapshots.operations) += 1;
        Operation {
            snapshots: self.snapshots.clone(),
        }
    }

    /// A read-only view of every tree as of now, while the store goes on changing (see
    /// the module doc). Waits until no [`Operation`] is under way, so call it from a
    /// blocking thread. Writes to the view are refused.
    pub fn snapshot(&self) -> Store {
        let pre_images = Arc::new(PreImages::default());
        {
            // Held while the snapshot is added: no operation begins meanwhile.
            let mut operations = lock(&self.snapshots.operations);
            while *operations > 0 {
                operations = self
                    .snapshots
                    .idle
                    .wait(operations)
                    .unwrap_or_else(|p| p.into_inner());
            }
            self.snapshots
                .open
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .push(pre_images.clone());
        }
        let view = SnapshotView {
            live: self.backend.clone(),
            pre_images,
            snapshots: self.snapshots.clone(),
        };
        Store {
            backend: Arc::new(view),
            grace: self.grace,
            snapshots: Arc::default(),
            versions: Arc::default(),
        }
    }
}

/// The backend every live store writes through: keeps pre-images for open snapshots,
/// and notes each write in the store's [`Versions`] once it is done.
pub struct Recording {
    inner: Arc<dyn Backend>,
    snapshots: Arc<Snapshots>,
    versions: Arc<Versions>,
}

impl Recording {
    /// Wraps `inner`; `snapshots` and `versions` are the store's.
    pub fn new(
        inner: Arc<dyn Backend>,
        snapshots: Arc<Snapshots>,
        versions: Arc<Versions>,
    ) -> Self {
        Self {
            inner,
            snapshots,
            versions,
        }
    }

    /// Runs `write` on `key`, first keeping its pre-image in every open snapshot that
    /// has none yet.
    fn write<T>(
        &self,
        tree: &str,
        key: &[u8],
        write: impl FnOnce(&dyn Backend) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let open = self
            .snapshots
            .open
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if !open.is_empty() {
            let id = (tree.to_string(), key.to_vec());
            let mut before = None;
            for pre_images in open.iter() {
                let mut pre_images = lock(pre_images);
                if !pre_images.contains_key(&id) {
                    // Read under the lock of the first snapshot missing it: a racing
                    // write of the same key keeps it first or finds it kept, and every
                    // write keeps before it writes, so this is the value at the instant.
                    if before.is_none() {
                        before = Some(self.inner.get(tree, key)?);
                    }
                    pre_images.insert(id.clone(), before.clone().flatten());
                }
            }
        }
        let written = write(self.inner.as_ref());
        // After the write, so that a view computed at the new version sees it.
        self.versions.written(tree, key);
        written
    }
}

impl Backend for Recording {
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(tree, key)
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.write(tree, key, |inner| inner.insert(tree, key, value))
    }

    fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
        self.write(tree, key, |inner| inner.remove(tree, key))
    }

    fn update(&self, tree: &str, key: &[u8], f: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>> {
        self.write(tree, key, |inner| inner.update(tree, key, f))
    }

    fn scan(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        self.inner.scan(tree, start, end, limit)
    }

    fn flush(&self) -> StoreResult<()> {
        self.inner.flush()
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        self.inner.tree_names()
    }
}

/// The live trees as of a snapshot's instant.
struct SnapshotView {
    live: Arc<dyn Backend>,
    pre_images: Arc<PreImages>,
    snapshots: Arc<Snapshots>,
}

/// How many live entries a snapshot reads at a time.
const PAGE: usize = 512;

impl Drop for SnapshotView {
    fn drop(&mut self) {
        self.snapshots
            .open
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|open| !Arc::ptr_eq(open, &self.pre_images));
    }
}

fn read_only() -> StoreError {
    StoreError::Database("a snapshot is read-only".to_string())
}

impl Backend for SnapshotView {
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let live = self.live.get(tree, key)?;
        // Looked up after the live read: a write since the instant kept its pre-image
        // before it wrote, so a changed live value always finds it.
        match lock(&self.pre_images).get(&(tree.to_string(), key.to_vec())) {
            Some(before) => Ok(before.clone()),
            None => Ok(live),
        }
    }

    fn insert(&self, _: &str, _: &[u8], _: &[u8]) -> StoreResult<()> {
        Err(read_only())
    }

    fn remove(&self, _: &str, _: &[u8]) -> StoreResult<()> {
        Err(read_only())
    }

    fn update(&self, _: &str, _: &[u8], _: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>> {
        Err(read_only())
    }

    fn scan(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        let mut found = Vec::new();
        let mut from = start.to_vec();
        while found.len() < limit {
            let page = self.live.scan(tree, &from, end, PAGE)?;
            let last = page.len() < PAGE;
            // The pre-images of this page's key range, read after the page (see `get`):
            // up to its last key, or to the end of the range on the last page.
            let upper = match (last, page.last()) {
                (false, Some((key, _))) => Bound::Included((tree.to_string(), key.clone())),
                _ => match end {
                    Some(end) => Bound::Excluded((tree.to_string(), end.to_vec())),
                    None => Bound::Excluded((format!("{tree}\0"), Vec::new())),
                },
            };
            let kept: BTreeMap<Vec<u8>, Option<Vec<u8>>> = lock(&self.pre_images)
                .range((Bound::Included((tree.to_string(), from.clone())), upper))
                .map(|((_, key), value)| (key.clone(), value.clone()))
                .collect();
            let next = page.last().map(|(key, _)| successor(key));
            let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = page
                .into_iter()
                .map(|(key, value)| (key, Some(value)))
                .collect();
            merged.extend(kept);
            found.extend(
                merged
                    .into_iter()
                    .filter_map(|(key, value)| value.map(|value| (key, value))),
            );
            match next {
                Some(next) if !last => from = next,
                _ => break,
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        // A tree created since the instant reads as empty (its keys' pre-images are None).
        self.live.tree_names()
    }
}

/// The smallest key after `key`.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryBackend;

    fn all(store: &Store, tree: &str) -> Vec<Entry> {
        store.backend().scan(tree, &[], None, usize::MAX).unwrap()
    }

    #[test]
    fn a_snapshot_reads_as_of_its_instant() {
        let store = Store::with_backend(Arc::new(MemoryBackend::default())).unwrap();
        let backend = store.backend();
        for i in 0u16..1500 {
            backend.insert("t", &i.to_be_bytes(), b"old").unwrap();
        }
        let before = all(&store, "t");
        let snapshot = store.snapshot();
        backend.insert("t", &5u16.to_be_bytes(), b"new").unwrap();
        backend.remove("t", &700u16.to_be_bytes()).unwrap();
        backend.insert("t", &2000u16.to_be_bytes(), b"new").unwrap();
        backend.insert("u", b"k", b"new").unwrap();
        backend
            .update("t", &1499u16.to_be_bytes(), &mut |_| None)
            .unwrap();
        assert_eq!(all(&snapshot, "t"), before);
        assert!(all(&snapshot, "u").is_empty());
        assert_eq!(
            snapshot.backend().get("t", &5u16.to_be_bytes()).unwrap(),
            Some(b"old".to_vec())
        );
        assert_eq!(
            snapshot.backend().scan("t", &[], None, 3).unwrap(),
            before[..3]
        );
        assert!(snapshot.backend().insert("t", b"x", b"y").is_err());
        drop(snapshot);
        assert!(store.snapshots.open.read().unwrap().is_empty());
        assert_eq!(all(&store, "t").len(), 1499);
    }

    #[test]
    fn a_snapshot_waits_for_the_operation_under_way() {
        let store = Store::with_backend(Arc::new(MemoryBackend::default())).unwrap();
        let operation = store.operation();
        store.backend().insert("t", b"a", b"1").unwrap();
        let taking = {
            let store = store.clone();
            std::thread::spawn(move || all(&store.snapshot(), "t"))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        store.backend().insert("t", b"b", b"2").unwrap();
        drop(operation);
        assert_eq!(taking.join().unwrap().len(), 2);
    }
}
