//! A file sent to the bot in a private chat: an operator's text to import. The file is
//! fetched (`getFile`, then the file download endpoint) and handed to
//! [`Import::upload`](crate::app::import::Import::upload); the answer carries the 导入 / 取消 buttons, which
//! [`App::press`] finishes. Files in groups are members sharing documents: ignored.

use chrono::Utc;
use futures_util::StreamExt;
use teloxide::net::Download;
use teloxide::prelude::*;
use tracing::Instrument;

use crate::app::App;
use crate::app::import::importable_name;
use crate::messages;
use crate::telegram::Outbox;
use crate::telegram::send::{HandlerResult, send_reply};
use crate::text::import::{ImportError, LARGEST_FILE};

/// Whether a message is a file sent in a private chat.
pub fn is_private_file(message: Message) -> bool {
    message.chat.is_private() && message.document().is_some()
}

/// Answers a file sent in a private chat: refused unless the sender is an operator and
/// the file is a `.txt`, `.md` or `.docx` the Bot API can hand over; else imported and
/// previewed with 导入 / 取消.
pub async fn on_file(message: Message, app: App, outbox: Outbox) -> HandlerResult {
    let (Some(document), Some(user)) = (message.document(), message.from.as_ref()) else {
        return Ok(());
    };
    let chat_id = message.chat.id;
    let name = document.file_name.clone().unwrap_or_default();
    let span = tracing::info_span!("file", chat_id = chat_id.0, user_id = user.id.0, file = %name);
    let user_id = user.id.0;
    async {
        let reply = if !app.import().is_operator(user_id) {
            messages::import::not_an_operator(user_id)
        } else if !importable_name(&name) {
            messages::import::wrong_kind(&name)
        } else {
            // The same limits as `studybot import`: the file in its own bytes here (also
            // the most the Bot API hands a bot), the text in characters once read.
            let size = u64::from(document.file.size);
            if size > LARGEST_FILE {
                messages::import::refused(&name, &ImportError::FileTooLarge(Some(size)))
            } else {
                match fetch(&outbox, &document.file.id, LARGEST_FILE).await {
                    Ok(bytes) => {
                        let app = app.clone();
                        let name = name.clone();
                        // Parsing a large file takes a while: off the async workers.
                        tokio::task::spawn_blocking(move || {
                            app.import().upload(user_id, &name, &bytes, Utc::now())
                        })
                        .await
                        .unwrap_or_else(|_| messages::import::download_failed())
                    }
                    Err(Fetch::TooLarge) => {
                        messages::import::refused(&name, &ImportError::FileTooLarge(None))
                    }
                    Err(Fetch::Failed(error)) => {
                        tracing::warn!(%error, "cannot fetch the file");
                        messages::import::download_failed()
                    }
                }
            }
        };
        send_reply(&app, &outbox, chat_id, None, &reply).await;
    }
    .instrument(span)
    .await;
    Ok(())
}

/// Why a file could not be fetched.
enum Fetch {
    /// It turned out longer than allowed (more bytes came than its size said).
    TooLarge,
    /// `getFile` or the download failed (the error, token redacted by the outbox/here).
    Failed(String),
}

/// Fetches a file's bytes, stopping once more than `largest` arrived.
async fn fetch(
    outbox: &Outbox,
    file_id: &teloxide::types::FileId,
    largest: u64,
) -> Result<Vec<u8>, Fetch> {
    let bot = outbox.bot();
    let file = outbox
        .call(None, bot.get_file(file_id.clone()))
        .await
        .map_err(|e| Fetch::Failed(e.to_string()))?;
    let mut stream = bot.download_file_stream(&file.path);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| Fetch::Failed(crate::telegram::redact(&e.to_string(), bot.token())))?;
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > largest {
            return Err(Fetch::TooLarge);
        }
    }
    Ok(bytes)
}
