//! The in-memory twin of the sled backend, for tests and throwaway runs.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use super::{Backend, Entry, StoreResult, Updater};

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// A backend that keeps every tree in a `BTreeMap` behind one lock.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    trees: Mutex<HashMap<String, Tree>>,
}

impl MemoryBackend {
    fn with_tree<R>(&self, tree: &str, f: impl FnOnce(&mut Tree) -> R) -> R {
        let mut trees = self.lock();
        if let Some(existing) = trees.get_mut(tree) {
            return f(existing);
        }
        // Like sled, touching a tree creates it; only the first touch allocates its name.
        f(trees.entry(tree.to_owned()).or_default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tree>> {
        self.trees
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Backend for MemoryBackend {
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.with_tree(tree, |t| t.get(key).cloned()))
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.with_tree(tree, |t| t.insert(key.to_vec(), value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
        self.with_tree(tree, |t| t.remove(key));
        Ok(())
    }

    fn update(&self, tree: &str, key: &[u8], f: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.with_tree(tree, |t| {
            let new = f(t.get(key).map(Vec::as_slice));
            match &new {
                Some(value) => t.insert(key.to_vec(), value.clone()),
                None => t.remove(key),
            };
            new
        }))
    }

    fn scan(
        &self,
        tree: &str,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        Ok(self.with_tree(tree, |t| {
            let end = end.map_or(Bound::Unbounded, Bound::Excluded);
            t.range::<[u8], _>((Bound::Included(start), end))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        Ok(self.lock().keys().cloned().collect())
    }
}

/// A [`MemoryBackend`] that counts, per tree, the entries read (`get`), written
/// (`insert`) and served by scans: what a store operation costs, for the tests that say it.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct CountingBackend {
    inner: MemoryBackend,
    counts: Mutex<HashMap<String, Counts>>,
}

/// What a [`CountingBackend`] counted for one tree (or all of them).
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub read: usize,
    pub inserted: usize,
    pub scanned: usize,
}

#[cfg(test)]
impl CountingBackend {
    /// What was counted for `tree`.
    pub fn of(&self, tree: &str) -> Counts {
        self.lock().get(tree).copied().unwrap_or_default()
    }

    /// What was counted over every tree.
    pub fn total(&self) -> Counts {
        self.lock()
            .values()
            .fold(Counts::default(), |sum, c| Counts {
                read: sum.read + c.read,
                inserted: sum.inserted + c.inserted,
                scanned: sum.scanned + c.scanned,
            })
    }

    /// Starts counting again from zero.
    pub fn reset(&self) {
        self.lock().clear();
    }

    fn count(&self, tree: &str, add: impl FnOnce(&mut Counts)) {
        add(self.lock().entry(tree.to_owned()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Counts>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
impl Backend for CountingBackend {
    fn get(&self, tree: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.count(tree, |c| c.read += 1);
        self.inner.get(tree, key)
    }

    fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.count(tree, |c| c.inserted += 1);
        self.inner.insert(tree, key, value)
    }

    fn remove(&self, tree: &str, key: &[u8]) -> StoreResult<()> {
        self.inner.remove(tree, key)
    }

    fn update(&self, tree: &str, key: &[u8], f: &mut Updater<'_>) -> StoreResult<Option<Vec<u8>>> {
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
        self.count(tree, |c| c.scanned += page.len());
        Ok(page)
    }

    fn flush(&self) -> StoreResult<()> {
        self.inner.flush()
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        self.inner.tree_names()
    }
}
