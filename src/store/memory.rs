//! The in-memory twin of the sled backend, for tests and throwaway runs.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use super::{Backend, Entry, StoreResult};

/// One tree: keys to values, in key order.
type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// A backend that keeps every tree in a `BTreeMap` behind one lock.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    trees: Mutex<HashMap<&'static str, Tree>>,
}

impl MemoryBackend {
    fn with_tree<R>(&self, tree: &'static str, f: impl FnOnce(&mut Tree) -> R) -> R {
        let mut trees = self.trees.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(trees.entry(tree).or_default())
    }
}

impl Backend for MemoryBackend {
    fn get(&self, tree: &'static str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.with_tree(tree, |t| t.get(key).cloned()))
    }

    fn insert(&self, tree: &'static str, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.with_tree(tree, |t| t.insert(key.to_vec(), value.to_vec()));
        Ok(())
    }

    fn remove(&self, tree: &'static str, key: &[u8]) -> StoreResult<()> {
        self.with_tree(tree, |t| t.remove(key));
        Ok(())
    }

    fn update(
        &self,
        tree: &'static str,
        key: &[u8],
        f: &mut dyn FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.with_tree(tree, |t| {
            let new = f(t.get(key).map(Vec::as_slice));
            match &new {
                Some(value) => t.insert(key.to_vec(), value.clone()),
                None => t.remove(key),
            };
            new
        }))
    }

    fn scan(&self, tree: &'static str, start: &[u8], end: Option<&[u8]>, limit: usize) -> StoreResult<Vec<Entry>> {
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
}
