//! The sled backend: one sled tree per collection.

use std::path::Path;

use super::{Backend, Entry, StoreError, StoreResult, Updater};

/// The embedded sled database.
pub struct SledBackend {
    db: sled::Db,
}

impl SledBackend {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let db = sled::Config::new()
            .path(path)
            .open()
            .map_err(|error| match error {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.raw_os_error() == Some(11) =>
                {
                    StoreError::Locked(path.display().to_string())
                }
                sled::Error::Io(io) if io.to_string().contains("lock") => {
                    StoreError::Locked(path.display().to_string())
                }
                other => StoreError::Database(format!("{}: {other}", path.display())),
            })?;
        Ok(Self { db })
    }

    fn tree(&self, name: &str) -> StoreResult<sled::Tree> {
        self.db.open_tree(name).map_err(database)
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
                entry
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(database)
            })
            .collect()
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map_err(database)?;
        Ok(())
    }

    fn tree_names(&self) -> StoreResult<Vec<String>> {
        // sled always has a default tree (named `__sled__default`) that studybot never
        // writes to; every collection is a tree of its own.
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
