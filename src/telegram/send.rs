//! Sending: what every Telegram handler and delivery says, rendered into Bot API calls
//! and sent through the [`Outbox`]. A [`Reply`] becomes HTML messages with their inline
//! keyboards ([`post`], [`edit`]); a quiz question becomes a native quiz poll
//! ([`send_poll`]); a send into a forum topic that is gone goes to the chat instead
//! ([`topic_is_gone`]); [`send_reply`] also records a chat that is gone or migrated.
//!
//! It sits below the feature handlers ([`super::import`], [`super::quiz`],
//! [`super::record`], [`super::review`], [`super::weekly`]) and the router
//! ([`super::handlers`]): they import it, it imports none of them.

use std::time::Duration;

use chrono::Utc;
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters, SendPoll, SendPollSetters};
use teloxide::prelude::*;
use teloxide::requests::JsonRequest;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardButtonKind, InlineKeyboardMarkup, InputPollOption,
    MessageId, ParseMode, PollType, ThreadId, WebAppInfo,
};

use crate::app::App;
use crate::limits::{BUTTONS_PER_KEYBOARD, BUTTONS_PER_ROW};
use crate::quiz::PollSpec;
use crate::reply::{Action, MESSAGE_LIMIT, Reply};

use super::{Outbox, SendError};

/// The error type of handlers: already logged where it happened, so only reported.
pub(crate) type HandlerResult = Result<(), anyhow::Error>;

/// How long Telegram is tried with a quiz question before the quiz ends: the players are
/// waiting, and teloxide alone would wait 10 s after each 5xx (minutes over all retries).
pub(crate) const QUESTION_PATIENCE: Duration = Duration::from_secs(8);

/// Sends a reply to a chat (into a forum topic if `topic` is set); a chat that is gone
/// or migrated is recorded, other failures logged once.
pub async fn send_reply(
    app: &App,
    outbox: &Outbox,
    chat_id: ChatId,
    topic: Option<i32>,
    reply: &Reply,
) {
    match post(outbox, chat_id, topic, reply).await {
        Ok(_) => {}
        Err(SendError::ChatGone(reason)) => {
            tracing::info!(chat_id = chat_id.0, %reason, "chat removed the bot; marking it inactive");
            app.chats().removed(chat_id.0, &reason, Utc::now());
        }
        Err(SendError::Migrated(new_chat)) => {
            app.chats().migrated(chat_id.0, new_chat.0, Utc::now());
            // A basic group has no topics; the new supergroup gets the reply in General.
            if let Err(error) = post(outbox, new_chat, None, reply).await {
                tracing::warn!(chat_id = new_chat.0, %error, "reply to the migrated supergroup failed");
            }
        }
        Err(SendError::Stopped) => {
            tracing::info!(chat_id = chat_id.0, "stopping; reply not sent");
        }
        Err(error) => tracing::warn!(chat_id = chat_id.0, %error, "reply failed"),
    }
}

/// Sends a reply as one or more HTML messages (split at 4096 characters), in order,
/// into a forum topic (`message_thread_id`); `None` sends to the chat itself (in a
/// forum, its General topic). When the topic is gone (deleted or closed, or the chat
/// has no topics any more), the reply goes to the chat instead: a subscription made in
/// a topic must not stop with the topic. Returns the ids of the messages sent.
pub async fn post(
    outbox: &Outbox,
    chat: ChatId,
    topic: Option<i32>,
    reply: &Reply,
) -> Result<Vec<MessageId>, SendError> {
    let mut ids = Vec::new();
    for part in reply.split(MESSAGE_LIMIT) {
        let mut request = outbox
            .bot()
            .send_message(chat, part.html())
            .parse_mode(ParseMode::Html);
        if let Some(markup) = keyboard(&part) {
            request = request.reply_markup(markup);
        }
        let sent = match topic {
            Some(topic) => {
                let in_topic = request
                    .clone()
                    .message_thread_id(ThreadId(MessageId(topic)));
                match outbox.call(Some(chat), in_topic).await {
                    Err(SendError::Rejected(reason)) if topic_is_gone(&reason) => {
                        tracing::warn!(chat_id = chat.0, topic, %reason, "the forum topic is gone; sending to the chat instead");
                        outbox.call(Some(chat), request).await
                    }
                    sent => sent,
                }
            }
            None => outbox.call(Some(chat), request).await,
        };
        ids.push(sent?.id);
    }
    Ok(ids)
}

/// Replaces a message's text and buttons. Fails with [`SendError::Rejected`] when the
/// reply does not fit one message or Telegram refuses the edit.
pub async fn edit(
    outbox: &Outbox,
    chat: ChatId,
    message: MessageId,
    reply: &Reply,
) -> Result<(), SendError> {
    let mut parts = reply.split(MESSAGE_LIMIT);
    if parts.len() != 1 {
        return Err(SendError::Rejected("reply too long for one message".into()));
    }
    let part = parts.remove(0);
    let mut request = outbox
        .bot()
        .edit_message_text(chat, message, part.html())
        .parse_mode(ParseMode::Html);
    if let Some(markup) = keyboard(&part) {
        request = request.reply_markup(markup);
    }
    outbox.call(Some(chat), request).await.map(|_| ())
}

/// Whether Telegram refused a send because its forum topic is gone: deleted, closed, or
/// the chat is no forum (any more).
pub fn topic_is_gone(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("thread not found")
        || reason.contains("topic_closed")
        || reason.contains("topic_deleted")
}

/// The inline keyboard of a reply, if it has buttons. The message builders keep
/// Telegram's limits ([`crate::limits`]; the limit tests check every reply); a row
/// pushed wider or a keyboard grown past them is still wrapped at
/// [`BUTTONS_PER_ROW`] and cut at [`BUTTONS_PER_KEYBOARD`] here (and logged), so the
/// message goes out rather than being refused whole.
pub fn keyboard(reply: &Reply) -> Option<InlineKeyboardMarkup> {
    if reply.buttons.is_empty() {
        return None;
    }
    if reply.button_count() > BUTTONS_PER_KEYBOARD {
        tracing::warn!(
            buttons = reply.button_count(),
            "a reply with more buttons than Telegram allows; the last are left out"
        );
    }
    let rows = reply
        .buttons
        .iter()
        .flat_map(|row| row.chunks(BUTTONS_PER_ROW))
        .scan(0, |shown, row| {
            let room = BUTTONS_PER_KEYBOARD.saturating_sub(*shown);
            *shown += row.len().min(room);
            Some(&row[..row.len().min(room)])
        })
        .filter(|row| !row.is_empty())
        .map(|row| {
            row.iter()
                .map(|b| {
                    let link = |url: &str| url::Url::parse(url).ok();
                    match &b.action {
                        Action::WebApp(url) if let Some(url) = link(url) => {
                            InlineKeyboardButton::web_app(b.label.clone(), WebAppInfo { url })
                        }
                        Action::Url(url) if let Some(url) = link(url) => {
                            InlineKeyboardButton::url(b.label.clone(), url)
                        }
                        action => InlineKeyboardButton::callback(
                            b.label.clone(),
                            action.encode(reply.audience),
                        ),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    Some(InlineKeyboardMarkup::new(rows))
}

/// Whether `message` carries a callback button with exactly `data`.
pub(crate) fn has_button(message: &Message, data: &str) -> bool {
    message.reply_markup().is_some_and(|markup| {
        markup.inline_keyboard.iter().flatten().any(|button| {
            matches!(&button.kind, InlineKeyboardButtonKind::CallbackData(own) if own == data)
        })
    })
}

/// Sends a quiz poll, giving up after Telegram was tried for `within` (if given);
/// returns Telegram's poll id.
pub async fn send_poll(
    outbox: &Outbox,
    chat_id: i64,
    topic: Option<i32>,
    spec: &PollSpec,
    within: Option<Duration>,
) -> Result<String, SendError> {
    // `PollSpec::new` shortens every text to Telegram's limits; a poll with too few or
    // too many options is not asked at all (Telegram would refuse it).
    if !spec.fits() {
        tracing::warn!(chat_id, section = %spec.section, "a poll outside Telegram's limits was not sent");
        return Err(SendError::Rejected("poll outside Telegram's limits".into()));
    }
    let options = spec
        .options
        .iter()
        .map(|option| InputPollOption::new(option.clone()));
    let mut request = outbox
        .bot()
        .send_poll(ChatId(chat_id), spec.question.clone(), options)
        .type_(PollType::Quiz)
        // Scoring needs to know who answered: only non-anonymous polls report answers.
        .is_anonymous(false)
        .correct_option_id(u8::try_from(spec.correct_option_id).unwrap_or(0))
        .explanation(spec.explanation.clone());
    if let Some(seconds) = spec.open_period {
        request = request.open_period(u16::try_from(seconds).unwrap_or(600));
    }
    let message = match topic {
        Some(topic) => {
            let in_topic = request
                .clone()
                .message_thread_id(ThreadId(MessageId(topic)));
            match call(outbox, chat_id, in_topic, within).await {
                Err(SendError::Rejected(reason)) if topic_is_gone(&reason) => {
                    tracing::warn!(chat_id, topic, %reason, "the forum topic is gone; asking in the chat instead");
                    call(outbox, chat_id, request, within).await
                }
                sent => sent,
            }
        }
        None => call(outbox, chat_id, request, within).await,
    }?;
    message
        .poll()
        .map(|poll| poll.id.0.clone())
        .ok_or_else(|| SendError::Rejected("sendPoll returned no poll".into()))
}

/// Sends a poll with [`Outbox::call`], or [`Outbox::call_within`] when `within` is given.
async fn call(
    outbox: &Outbox,
    chat_id: i64,
    request: JsonRequest<SendPoll>,
    within: Option<Duration>,
) -> Result<Message, SendError> {
    let chat = Some(ChatId(chat_id));
    match within {
        Some(within) => outbox.call_within(chat, request, within).await,
        None => outbox.call(chat, request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyboard_never_passes_telegrams_limits() {
        use crate::reply::{Action, Button};
        let button = |n: usize| Button {
            label: n.to_string(),
            action: Action::Outline {
                document: "d".into(),
                page: n + 1,
            },
        };
        let mut reply = Reply::plain("x");
        reply.buttons = vec![(0..30).map(button).collect(); 5];
        let markup = keyboard(&reply).unwrap();
        let widths: Vec<usize> = markup.inline_keyboard.iter().map(Vec::len).collect();
        assert!(widths.iter().all(|w| (1..=8).contains(w)), "{widths:?}");
        assert_eq!(widths.iter().sum::<usize>(), 100);
    }
}
