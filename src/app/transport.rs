//! What the transports ask of the app beyond a feature's steps: small reads and the
//! store's health, so that no transport reaches the store itself ([`App::store`] is the
//! app's own).

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::quiz::QuestionKey;
use crate::store::StoreResult;

impl App {
    /// The earliest instant a daily excerpt (or the retry of a failed one) is due, if
    /// any: the delivery loop sleeps until then at the longest.
    pub fn next_excerpt_instant(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.store().earliest_due()
    }

    /// Whether `poll_id` is a quiz's or a daily question's poll (a poll answer that is
    /// not a review card's goes there).
    pub fn is_quiz_poll(&self, poll_id: &str) -> bool {
        matches!(self.store().poll_target(poll_id), Ok(Some(_)))
    }

    /// The question the chat's running quiz is on, if any (unreadable counts as none).
    pub fn current_question(&self, chat_id: i64) -> Option<QuestionKey> {
        self.store()
            .quiz_session(chat_id)
            .ok()
            .flatten()
            .and_then(|session| session.current_key())
    }

    /// Writes what the store holds to disk: `/healthz`'s write check, and the last step
    /// before the process exits.
    pub fn flush(&self) -> StoreResult<()> {
        self.store().flush()
    }
}
