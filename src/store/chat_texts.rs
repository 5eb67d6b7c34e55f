//! Which text each chat studies ([`trees::CHAT_TEXTS`]), and where it stopped in the
//! texts it left, so that switching back resumes there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::schedule::Subscription;
use crate::store::{Store, StoreResult, key_i64, trees};
use crate::text::SectionId;

/// A chat's choice of text (`/use`). A chat without one studies the default text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatText {
    /// The chat's id (also the key).
    pub chat_id: i64,
    /// The id of the text the chat studies.
    pub document: String,
    /// For each text the chat left (by document id), the section its daily excerpt
    /// was to bring next. A section id, not a position, so a new version of the text
    /// (an import that replaces it) resumes at the same section.
    #[serde(default)]
    pub left_at: BTreeMap<String, SectionId>,
}

impl Store {
    /// The text chat `chat_id` chose, if it chose one.
    pub fn chat_text(&self, chat_id: i64) -> StoreResult<Option<ChatText>> {
        self.get_json(trees::CHAT_TEXTS, &key_i64(chat_id))
    }

    /// Records a chat's choice. When the chat is subscribed, its subscription follows:
    /// it reads `choice.document` from `position` in that text's reading plan.
    pub fn set_chat_text(&self, choice: &ChatText, position: usize) -> StoreResult<()> {
        let key = key_i64(choice.chat_id);
        self.put_json(trees::CHAT_TEXTS, &key, choice)?;
        self.update_json::<Subscription, _>(trees::SUBSCRIPTIONS, &key, |subscription| {
            subscription.map(|mut subscription| {
                subscription.document = choice.document.clone();
                subscription.position = position;
                subscription
            })
        })?;
        Ok(())
    }

    /// A new version of `document` was stored: every subscription reading it moves to
    /// `position(old position)`, so each chat keeps its place by section. Walks the
    /// subscriptions a page at a time (an import is rare; the store may hold 100,000
    /// chats). Returns how many subscriptions were moved.
    pub fn reposition_readers(
        &self,
        document: &str,
        mut position: impl FnMut(usize) -> usize,
    ) -> StoreResult<usize> {
        const PAGE: usize = 1024;
        let mut moved = 0;
        let mut start: Vec<u8> = Vec::new();
        loop {
            let page = self
                .backend()
                .scan(trees::SUBSCRIPTIONS, &start, None, PAGE)?;
            for (key, value) in &page {
                let reads_it = serde_json::from_slice::<Subscription>(value)
                    .is_ok_and(|subscription| subscription.document == document);
                if !reads_it {
                    continue;
                }
                self.update_json::<Subscription, _>(trees::SUBSCRIPTIONS, key, |subscription| {
                    subscription.map(|mut subscription| {
                        if subscription.document == document {
                            subscription.position = position(subscription.position);
                        }
                        subscription
                    })
                })?;
                moved += 1;
            }
            match page.last() {
                Some((last, _)) if page.len() == PAGE => {
                    start = last.clone();
                    start.push(0);
                }
                _ => return Ok(moved),
            }
        }
    }

    /// Moves chat `old`'s choice to `new` (a group became a supergroup), unless `new`
    /// already made its own.
    pub(crate) fn copy_chat_text(&self, old: i64, new: i64) -> StoreResult<()> {
        let Some(mut choice) = self.chat_text(old)? else {
            return Ok(());
        };
        choice.chat_id = new;
        self.update_json::<ChatText, _>(trees::CHAT_TEXTS, &key_i64(new), |existing| {
            Some(existing.unwrap_or_else(|| choice.clone()))
        })?;
        Ok(())
    }
}
