//! The personal review on Telegram: `/review` asks the due cards as quiz polls in the
//! member's private chat, one after another (the next as soon as one is answered);
//! in groups the review commands answer with a button that opens the private chat;
//! the reminder goes out in the delivery pass.
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
use crate::app::weekly::{Pacing, WeeklyPoll};
use crate::review::messages;
use crate::telegram::handlers::deliver;
use crate::telegram::{Outbox, SendError};

/// How long an answer to a review poll not (yet) recorded waits for its record.
const UNKNOWN_POLL_PATIENCE: Duration = Duration::from_secs(5);
/// How often it looks again meanwhile.
const UNKNOWN_POLL_RECHECK: Duration = Duration::from_millis(100);

/// Asks the user's next due card, or sends the review's closing message.
pub async fn advance(app: &App, outbox: &Outbox, user_id: u64) {
    let chat = ChatId(user_id as i64);
    match app.next_review(user_id, Utc::now()) {
        Ok(ReviewStep::Ask(ask)) => {
            // Send first, record after: an answer that overtakes the record waits for it.
            match crate::telegram::quiz::send_poll(
                outbox,
                chat.0,
                None,
                &ask.spec,
                Some(crate::telegram::quiz::QUESTION_PATIENCE),
            )
            .await
            {
                Ok(poll_id) => {
                    if let Err(error) = app.review_poll_sent(user_id, &ask, &poll_id) {
                        tracing::error!(user_id, %error, "cannot record a review poll");
                    }
                }
                Err(error) => tracing::warn!(user_id, %error, "cannot send a review card"),
            }
        }
        Ok(ReviewStep::Finished(reply)) => deliver(app, outbox, chat, None, &reply).await,
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
        match app.record_review_answer(poll_id, user_id, option, Utc::now()) {
            // The review's poll is out but not recorded yet: the answer overtook it.
            Ok(ReviewAnswer::NotReview)
                if app.review_awaits_poll(user_id) && waited < UNKNOWN_POLL_PATIENCE =>
            {
                if waited == Duration::ZERO && quiz_poll(app, poll_id) {
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
            deliver(app, outbox, ChatId(user_id as i64), None, &verdict).await;
            advance(app, outbox, user_id).await;
            true
        }
    }
}

/// Whether `poll_id` is a quiz's or a daily question's poll.
fn quiz_poll(app: &App, poll_id: &str) -> bool {
    matches!(app.store().poll_target(poll_id), Ok(Some(_)))
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
    let reminders = match app.due_reminders(now) {
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
        let result = match outbox.send_reply_in(chat, None, &reminder.reply).await {
            Ok(ids) => {
                sent += 1;
                let ids: Vec<i32> = ids.into_iter().map(|id| id.0).collect();
                app.reminder_sent(user_id, reminder.local_date, &ids)
            }
            Err(error) => {
                failed += 1;
                let permanent = matches!(error, SendError::ChatGone(_));
                tracing::warn!(user_id, %error, permanent, "review reminder failed");
                app.reminder_failed(user_id, reminder.local_date, &error.to_string(), permanent)
            }
        };
        if let Err(error) = result {
            tracing::error!(user_id, %error, "cannot record a review reminder");
        }
    }
    (sent, failed)
}

/// Starts the weekly tests due at `now` (part of the delivery pass): the announcement,
/// then, paced [`Pacing::OneByOne`], the first question (the quiz goes on like any
/// other), or [`Pacing::AllAtOnce`] every question. Returns (sent, failed).
pub async fn start_weekly_tests(
    app: &App,
    outbox: &Outbox,
    now: DateTime<Utc>,
    pacing: Pacing,
) -> (usize, usize) {
    let starts = match app.due_weekly_tests(now, pacing, &mut rand::rng()) {
        Ok(starts) => starts,
        Err(error) => {
            tracing::error!(%error, "cannot start the weekly tests");
            return (0, 0);
        }
    };
    let (mut sent, mut failed) = (0, 0);
    for start in starts {
        let chat = ChatId(start.chat_id);
        match outbox
            .send_reply_in(chat, start.topic, &start.announcement)
            .await
        {
            Ok(ids) => {
                sent += 1;
                let ids: Vec<i32> = ids.into_iter().map(|id| id.0).collect();
                if let Err(error) = app.weekly_test_sent(start.chat_id, start.week, &ids) {
                    tracing::error!(chat_id = chat.0, %error, "cannot record a weekly test");
                }
                match pacing {
                    Pacing::OneByOne => crate::telegram::quiz::advance(app, outbox, chat.0).await,
                    Pacing::AllAtOnce => {
                        send_all(app, outbox, start.chat_id, start.topic, &start.polls).await
                    }
                }
            }
            Err(error) => {
                failed += 1;
                tracing::warn!(chat_id = chat.0, %error, "cannot announce the weekly test");
                if let Err(error) = app.end_quiz(start.chat_id, Utc::now()) {
                    tracing::error!(chat_id = chat.0, %error, "cannot end a weekly test");
                }
            }
        }
    }
    (sent, failed)
}

/// Sends a weekly test's questions one after another without waiting for answers, each
/// recorded as a poll of its own as soon as it is out (send first, record after, like
/// every poll). Stops at the first that cannot be sent: the rest would fail alike.
async fn send_all(
    app: &App,
    outbox: &Outbox,
    chat_id: i64,
    topic: Option<i32>,
    polls: &[WeeklyPoll],
) {
    for poll in polls {
        let sent = crate::telegram::quiz::send_poll(
            outbox,
            chat_id,
            topic,
            &poll.spec,
            Some(crate::telegram::quiz::QUESTION_PATIENCE),
        )
        .await;
        match sent {
            Ok(poll_id) => {
                if let Err(error) =
                    app.daily_poll_sent(chat_id, &poll_id, &poll.question, Utc::now())
                {
                    tracing::error!(chat_id, %error, "cannot record a weekly test question");
                }
            }
            Err(error) => {
                tracing::warn!(chat_id, %error, "cannot send a weekly test question");
                return;
            }
        }
    }
}
