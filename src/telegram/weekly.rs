//! The weekly group test on Telegram: started in the delivery pass, it announces the
//! test, then asks its questions as quiz polls, one by one (the quiz goes on like any
//! other, [`super::quiz`]) or all at once.
//!
//! The weekly test's logic is in [`crate::app::review`]; this module only sends what it
//! returns and reports back what happened.

use chrono::{DateTime, Utc};
use teloxide::prelude::*;

use crate::app::App;
use crate::app::weekly::{Pacing, WeeklyPoll};

use super::Outbox;
use super::send::{self, QUESTION_PATIENCE, send_poll};

/// Starts the weekly tests due at `now` (part of the delivery pass): the announcement,
/// then, paced [`Pacing::OneByOne`], the first question (the quiz goes on like any
/// other), or [`Pacing::AllAtOnce`] every question. Returns (sent, failed).
pub async fn start_weekly_tests(
    app: &App,
    outbox: &Outbox,
    now: DateTime<Utc>,
    pacing: Pacing,
) -> (usize, usize) {
    let starts = match app.weekly().due(now, pacing, &mut rand::rng()) {
        Ok(starts) => starts,
        Err(error) => {
            tracing::error!(%error, "cannot start the weekly tests");
            return (0, 0);
        }
    };
    let (mut sent, mut failed) = (0, 0);
    for start in starts {
        let chat = ChatId(start.chat_id);
        match send::post(outbox, chat, start.topic, &start.announcement).await {
            Ok(ids) => {
                sent += 1;
                let ids: Vec<i32> = ids.into_iter().map(|id| id.0).collect();
                if let Err(error) = app.weekly().sent(start.chat_id, start.week, &ids) {
                    tracing::error!(chat_id = chat.0, %error, "cannot record a weekly test");
                }
                match pacing {
                    Pacing::OneByOne => super::quiz::advance(app, outbox, chat.0).await,
                    Pacing::AllAtOnce => {
                        send_all(app, outbox, start.chat_id, start.topic, &start.polls).await
                    }
                }
            }
            Err(error) => {
                failed += 1;
                tracing::warn!(chat_id = chat.0, %error, "cannot announce the weekly test");
                if let Err(error) = app.quiz().end(start.chat_id, Utc::now()) {
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
        let sent = send_poll(outbox, chat_id, topic, &poll.spec, Some(QUESTION_PATIENCE)).await;
        match sent {
            Ok(poll_id) => {
                if let Err(error) =
                    app.quiz()
                        .daily_poll_sent(chat_id, &poll_id, &poll.question, Utc::now())
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
