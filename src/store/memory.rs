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
