//! The one error path from the app to the user: every failure a command can meet ends
//! here, is logged once with the chat id, and becomes a short Chinese reply that says
//! what to do. Bad input is not an error here: it is answered where it is understood,
//! with its own wording and an example.

use crate::messages::errors;
use crate::reply::Reply;
use crate::store::StoreError;

/// Why a command could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store could not read or write what the command needs.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The command changed something, but the change could not be made durable (a full
    /// disk): it is not confirmed, since "confirmed" must mean "on disk".
    #[error("cannot make the change durable: {0}")]
    NotDurable(StoreError),
}

impl AppError {
    /// Logs the cause once, with the chat (or the user, for a private chat) it concerns,
    /// and returns the reply that chat gets instead of the command's own.
    pub fn reply(self, chat_id: i64) -> Reply {
        tracing::error!(chat_id, error = %self, "command failed");
        match self {
            Self::Store(_) => errors::storage_failed(),
            Self::NotDurable(_) => errors::not_saved(),
        }
    }
}
