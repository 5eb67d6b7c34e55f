//! The chats the bot is in, from the app's side: the transports report the bot being
//! added, removed or blocked, a group becoming a supergroup, and the titles they see;
//! the record names chats by those titles.

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::store::StoreResult;

/// The chats the bot is in: what happens to them, and their titles.
pub struct Chats<'a> {
    app: &'a App,
}

impl App {
    /// The chats' side of the app.
    pub fn chats(&self) -> Chats<'_> {
        Chats { app: self }
    }
}

impl Chats<'_> {
    /// The id `chat_id` goes by now: a group that became a supergroup is found under the
    /// supergroup's id (links and polls made before the upgrade name the old one).
    /// A store that cannot say keeps the id it was given.
    pub fn current_id(&self, chat_id: i64) -> i64 {
        self.app.current_chat_id(chat_id).unwrap_or_else(|error| {
            tracing::warn!(chat_id, %error, "cannot read whether the chat migrated");
            chat_id
        })
    }

    /// The bot was removed from a chat or blocked there: stop writing to it, and turn
    /// its subscription off until it subscribes again.
    pub fn removed(&self, chat_id: i64, reason: &str, now: DateTime<Utc>) {
        if let Err(error) = self.app.store().mark_chat_inactive(chat_id, reason, now) {
            tracing::error!(chat_id, %error, "cannot record that the chat removed the bot");
        }
        if let Err(error) = self.app.store().disable(chat_id, reason) {
            tracing::error!(chat_id, %error, "cannot disable the chat's subscription");
        }
    }

    /// The bot was (re)added to a chat.
    pub fn added(&self, chat_id: i64, now: DateTime<Utc>) {
        if let Err(error) = self.app.store().mark_chat_active(chat_id, now) {
            tracing::error!(chat_id, %error, "cannot record that the bot joined the chat");
        }
    }

    /// A group became a supergroup with a new id: everything the group had moves there
    /// (see [`crate::store::Store::migrate`]): its subscription, plan and ledger (a day interrupted by
    /// the migration is then delivered to the new id), scores, daily-question setting and
    /// running quiz. Flushed at once: the group's old id is gone for good.
    pub fn migrated(&self, old: i64, new: i64, now: DateTime<Utc>) {
        // A write under way (see `App::no_chat_moves`) finishes first, under the old id,
        // and moves with the rest; one that starts later finds the new id.
        let _moving = self
            .app
            .inner
            .chat_moves
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Err(error) = self.app.store().mark_chat_migrated(old, new, now) {
            tracing::error!(chat_id = old, new_chat_id = new, %error, "cannot record the migration");
        }
        if let Err(error) = self.app.store().migrate(old, new) {
            tracing::error!(chat_id = old, new_chat_id = new, %error, "cannot move the chat's records");
        }
        if let Err(error) = self.app.store().flush() {
            tracing::error!(chat_id = old, new_chat_id = new, %error, "cannot make the migration durable");
        }
    }

    /// A chat's title as an update (or getChat) showed it: kept for /catchup, /roster,
    /// the workbook and reports. Failures are logged, never the update's problem.
    pub fn title_seen(&self, chat_id: i64, title: &str, now: DateTime<Utc>) {
        if let Err(error) = self.app.store().remember_chat_title(chat_id, title, now) {
            tracing::warn!(chat_id, %error, "cannot keep the chat's title");
        }
    }

    /// The groups on `user_id`'s rosters whose title is not known yet (the transport
    /// asks Telegram with getChat before answering /catchup or /roster in private).
    pub fn untitled_of(&self, user_id: u64) -> Vec<i64> {
        self.app
            .store()
            .chats_of(user_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|&chat_id| chat_id < 0 && self.app.chat_title(chat_id).is_none())
            .collect()
    }
}

impl App {
    /// While held, no group migrates (see `AppState::chat_moves`): a write that resolves
    /// its chat and then writes several records holds it throughout.
    pub(super) fn no_chat_moves(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.inner
            .chat_moves
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `write` for the id `chat_id` goes by now, no migration starting meanwhile: a
    /// delivery recorded after its group became a supergroup is recorded there.
    pub(super) fn at_current_id<R>(
        &self,
        chat_id: i64,
        write: impl FnOnce(i64) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let _no_moves = self.no_chat_moves();
        write(self.current_chat_id(chat_id)?)
    }

    /// See [`Chats::current_id`].
    pub(super) fn current_chat_id(&self, chat_id: i64) -> StoreResult<i64> {
        Ok(self
            .store()
            .chat_status(chat_id)?
            .and_then(|s| s.migrated_to)
            .unwrap_or(chat_id))
    }

    /// The chat's title, if known (from its updates or getChat).
    pub(super) fn chat_title(&self, chat_id: i64) -> Option<String> {
        self.store().chat_title(chat_id).ok().flatten()
    }

    /// How replies name a chat: its title, or `群 -100…` while it is unknown.
    pub(super) fn chat_name(&self, chat_id: i64) -> String {
        self.chat_title(chat_id)
            .unwrap_or_else(|| format!("群 {chat_id}"))
    }

    /// How the command line names a chat: `学习小组（-1001234567890）`, or `群 -100…`
    /// while its title is unknown.
    pub(super) fn chat_label(&self, chat_id: i64) -> String {
        match self.chat_title(chat_id) {
            Some(title) => format!("{title}（{chat_id}）"),
            None => format!("群 {chat_id}"),
        }
    }
}
