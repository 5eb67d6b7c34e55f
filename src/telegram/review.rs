//! The personal review on Telegram: `/review` asks the due cards as quiz polls in the
//! member's private chat, one after another (the next as soon as one is answered);
//! in groups the review commands answer with a button that opens the private chat;
//! the reminder goes out in the delivery pass. A poll answer comes here first
//! ([`super::handlers`] routes it) and goes on to [`super::quiz`] when it is not a
//! review card's.
//!
//! The review logic is in [`crate::app::review`]; this module only sends what it
//! returns and reports back what happened.

use std::time::Duration;

use chrono::{DateTime, Utc};
use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ThreadId};

use crate::app::App;
use crate::app::review::{ReviewAnswer, ReviewStep};
use crate::review::messages;
use crate::telegram::send::{self, QUESTION_PATIENCE, send_poll, send_reply};
use crate::telegram::{Outbox, SendError};

/// How long an answer to a review poll not (yet) recorded waits for its record.
const UNKNOWN_POLL_PATIENCE: Duration = Duration::from_secs(5);
/// How often it looks again meanwhile.
const UNKNOWN_POLL_RECHECK: Duration = Duration::from_millis(100);

/// Asks the user's next due card, or sends the review's closing message.
pub async fn advance(app: &App, outbox: &Outbox, user_id: u64) {
    let chat = ChatId(user_id as i64);
    match app.review().next(user_id, Utc::now()) {
        Ok(ReviewStep::Ask(ask)) => {
            // Send first, record after: an answer that overtakes the record waits for it.
            match send_poll(outbox, chat.0, None, &ask.spec, Some(QUESTION_PATIENCE)).await {
                Ok(poll_id) => {
                    if let Err(error) = app.review().poll_sent(user_id, &ask, &poll_id) {
                        tracing::error!(user_id, %error, "cannot record a review poll");
                    }
                }
                Err(error) => tracing::warn!(user_id, %error, "cannot send a review card"),
            }
        }
        Ok(ReviewStep::Finished(reply)) => send_reply(app, outbox, chat, None, &reply).await,
        Ok(ReviewStep::Idle) => {}
        Err(error) => tracing::error!(user_id, %error, "cannot read the running review"),
    }
}

/// A poll answer, if it answers a review card: records it, sends the verdict and the
/// next card. Returns `false` when the poll is not a review poll (a quiz's).
pub async fn on_poll_answer(
    app: &App,
    outbox: &Outbox,
    poll_id: &str,
    user_id: u64,
    option: usize,
) -> bool {
    let mut waited = Duration::ZERO;
    let answer = loop {
        match app
            .review()
            .record_answer(poll_id, user_id, option, Utc::now())
        {
            // The review's poll is out but not recorded yet: the answer overtook it.
            Ok(ReviewAnswer::NotReview)
                if app.review().awaits_poll(user_id) && waited < UNKNOWN_POLL_PATIENCE =>
            {
                if waited == Duration::ZERO && app.quiz().is_poll(poll_id) {
                    return false;
                }
                tokio::time::sleep(UNKNOWN_POLL_RECHECK).await;
                waited += UNKNOWN_POLL_RECHECK;
            }
            Ok(answer) => break answer,
            Err(error) => {
                tracing::error!(user_id, %error, "cannot record a review answer");
                return true;
            }
        }
    };
    match answer {
        ReviewAnswer::NotReview => false,
        ReviewAnswer::Ignored => true,
        ReviewAnswer::Counted(verdict) => {
            send_reply(app, outbox, ChatId(user_id as i64), None, &verdict).await;
            advance(app, outbox, user_id).await;
            true
        }
    }
}

/// `/review`, `/mistakes` or `/remind` in a group: a button that opens the private
/// chat on `/review` (t.me/<bot>?start=review), and plain words on why.
pub async fn invite(outbox: &Outbox, chat: ChatId, topic: Option<i32>, bot_username: &str) {
    let link = format!("https://t.me/{bot_username}?start=review");
    let text = messages::private_only(Some(&link)).plain_text();
    let mut request = outbox.bot().send_message(chat, text);
    if let Ok(url) = url::Url::parse(&link) {
        request = request.reply_markup(InlineKeyboardMarkup::new([[InlineKeyboardButton::url(
            "私聊复习错题",
            url,
        )]]));
    }
    if let Some(topic) = topic {
        request = request.message_thread_id(ThreadId(MessageId(topic)));
    }
    if let Err(error) = outbox.call(Some(chat), request).await {
        tracing::warn!(chat_id = chat.0, %error, "cannot send the review invitation");
    }
}

/// Sends the review reminders due at `now` (part of the delivery pass). Returns
/// (sent, failed).
pub async fn send_reminders(app: &App, outbox: &Outbox, now: DateTime<Utc>) -> (usize, usize) {
    let reminders = match app.review().due_reminders(now) {
        Ok(reminders) => reminders,
        Err(error) => {
            tracing::error!(%error, "cannot read due review reminders");
            return (0, 0);
        }
    };
    let (mut sent, mut failed) = (0, 0);
    for reminder in reminders {
        let user_id = reminder.user_id;
        let chat = ChatId(user_id as i64);
        let result = match send::post(outbox, chat, None, &reminder.reply).await {
            Ok(ids) => {
                sent += 1;
                let ids: Vec<i32> = ids.into_iter().map(|id| id.0).collect();
                app.review()
                    .reminder_sent(user_id, reminder.local_date, &ids)
            }
            Err(error) => {
                failed += 1;
                let permanent = matches!(error, SendError::ChatGone(_));
                tracing::warn!(user_id, %error, permanent, "review reminder failed");
                app.review().reminder_failed(
                    user_id,
                    reminder.local_date,
                    &error.to_string(),
                    permanent,
                )
            }
        };
        if let Err(error) = result {
            tracing::error!(user_id, %error, "cannot record a review reminder");
        }
    }
    (sent, failed)
}
