//! Which chats' records changed: a counter per chat, bumped after every write to a tree
//! keyed by chat id (and one for the whole store, bumped by writes to the texts), so a
//! view computed from a chat's records (the Mini App's dashboard) can be kept until the
//! next write that could change it. In memory only: a restart starts them again, and a
//! view is never kept across a restart.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Collection, i64_from_key, trees};

/// What a chat's records were at: compare two to learn whether anything was written in
/// between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version {
    store: u64,
    chat: u64,
}

/// The counters of one store.
#[derive(Debug, Default)]
pub struct Versions {
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    store: u64,
    chats: HashMap<i64, u64>,
}

impl Versions {
    /// Where `chat_id`'s records are now.
    pub fn of(&self, chat_id: i64) -> Version {
        let counters = self.lock();
        Version {
            store: counters.store,
            chat: counters.chats.get(&chat_id).copied().unwrap_or(0),
        }
    }

    /// Notes a write (already done) of `key` in `tree`.
    pub fn written(&self, tree: &str, key: &[u8]) {
        let Some(collection) = Collection::named(tree) else {
            return;
        };
        let mut counters = self.lock();
        if collection.is_keyed_by_chat() {
            if let Some(chat_id) = i64_from_key(key) {
                *counters.chats.entry(chat_id).or_default() += 1;
            }
        } else if matches!(tree, trees::META | trees::SECTIONS | trees::IMPORTED) {
            // The texts (their headings and sections) and the store's layout: every view.
            counters.store += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::key_i64;

    #[test]
    fn a_write_moves_its_chat_and_the_texts_move_every_chat() {
        let versions = Versions::default();
        let (a, b) = (versions.of(-5), versions.of(-6));
        versions.written(trees::CHECK_INS, &key_i64(-5));
        assert_ne!(versions.of(-5), a);
        assert_eq!(versions.of(-6), b, "another chat's write");
        versions.written(trees::REVIEW_DECKS, &key_i64(-6));
        assert_eq!(versions.of(-6), b, "not keyed by chat");
        let (a, b) = (versions.of(-5), versions.of(-6));
        versions.written(trees::SECTIONS, b"xzsj");
        assert_ne!(versions.of(-5), a);
        assert_ne!(versions.of(-6), b);
    }
}
