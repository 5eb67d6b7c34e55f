//! Quizzes on Telegram: native quiz polls, one after another, each closed by a timer;
//! poll answers mapped back to their quiz by poll id (they carry no chat id).
//!
//! The quiz logic lives in [`crate::quiz`]; this module only sends what it returns and
//! reports back what happened, following the steps in [`crate::app::quiz`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::{PollAnswer, User};
use tracing::Instrument;

use crate::app::App;
use crate::quiz::QuizStep;
use crate::quiz::{AnswerOutcome, QuizPoll};

use super::send::{QUESTION_PATIENCE, send_poll, send_reply};
use super::{Outbox, SendError};

/// Sends the chat's next quiz question, if its quiz has one waiting, and sets the timer
/// that closes it.
pub async fn advance(app: &App, outbox: &Outbox, chat_id: i64) {
    match app.quiz().next_poll(chat_id) {
        Ok(Some(poll)) => ask(app.clone(), outbox.clone(), poll).await,
        Ok(None) => {}
        Err(error) => tracing::error!(chat_id, %error, "cannot read the running quiz"),
    }
}

/// Sends one question (send first, mark after), then closes it when its time is up.
async fn ask(app: App, outbox: Outbox, poll: QuizPoll) {
    let chat_id = poll.key.chat_id;
    let sent = send_poll(
        &outbox,
        chat_id,
        poll.topic,
        &poll.spec,
        Some(QUESTION_PATIENCE),
    );
    let poll_id = match sent.await {
        Ok(poll_id) => poll_id,
        Err(error) => {
            tracing::warn!(chat_id, %error, "cannot send a quiz question; ending the quiz");
            if !matches!(error, SendError::ChatGone(_) | SendError::Migrated(_)) {
                let reason = crate::quiz::messages::poll_failed();
                send_reply(&app, &outbox, ChatId(chat_id), poll.topic, &reason).await;
            }
            finish(&app, &outbox, chat_id, poll.topic, Utc::now()).await;
            return;
        }
    };
    let close_due =
        match app
            .quiz()
            .poll_sent(&poll.key, &poll_id, Utc::now(), poll.spec.open_period)
        {
            Ok(Some(round)) => round.close_due(),
            Ok(None) => return, // the quiz was stopped meanwhile
            Err(error) => {
                tracing::error!(chat_id, %error, "cannot record a sent quiz question");
                return;
            }
        };
    schedule_close(app, outbox, poll.key, poll.topic, close_due);
}

/// Closes the question `key` at `at` (at once if past), then asks the next one or posts
/// the results. Runs as its own task so the handler that started it returns at once.
fn schedule_close(
    app: App,
    outbox: Outbox,
    key: crate::quiz::QuestionKey,
    topic: Option<i32>,
    at: Option<DateTime<Utc>>,
) {
    let Some(at) = at else {
        return;
    };
    tokio::spawn(async move {
        if let Ok(wait) = (at - Utc::now()).to_std() {
            tokio::time::sleep(wait).await;
        }
        match app.quiz().close_question(&key, Utc::now()) {
            Ok(QuizStep::Next(poll)) => Box::pin(ask(app, outbox, poll)).await,
            Ok(QuizStep::Finished(results)) => {
                send_reply(&app, &outbox, ChatId(key.chat_id), topic, &results).await
            }
            Ok(QuizStep::Stale) => {}
            Err(error) => {
                tracing::error!(chat_id = key.chat_id, %error, "cannot close a quiz question")
            }
        }
    });
}

/// Ends a chat's quiz and posts the results so far.
async fn finish(app: &App, outbox: &Outbox, chat_id: i64, topic: Option<i32>, now: DateTime<Utc>) {
    match app.quiz().end(chat_id, now) {
        Ok(Some(results)) => send_reply(app, outbox, ChatId(chat_id), topic, &results).await,
        Ok(None) => {}
        Err(error) => tracing::error!(chat_id, %error, "cannot end a quiz"),
    }
}

/// Resumes the quizzes that were running when the process stopped: an unsent question
/// is sent, an open one gets its closing timer (closing at once if overdue), and a quiz
/// abandoned for long is ended with its results so far. Nothing answered is lost.
pub async fn resume(app: &App, outbox: &Outbox) {
    let now = Utc::now();
    let sessions = match app.quiz().recover(now) {
        Ok(sessions) => sessions,
        Err(error) => {
            tracing::error!(%error, "cannot read running quizzes");
            return;
        }
    };
    for session in sessions {
        let chat_id = session.chat_id;
        if session.is_finished() {
            continue;
        }
        if session.is_abandoned(now) {
            finish(app, outbox, chat_id, session.topic, now).await;
            continue;
        }
        match (session.current_key(), session.current_round()) {
            (Some(key), Some(round)) if round.poll_id.is_some() => {
                schedule_close(
                    app.clone(),
                    outbox.clone(),
                    key,
                    session.topic,
                    round.close_due().or(Some(now)),
                );
            }
            _ => advance(app, outbox, chat_id).await,
        }
    }
}

/// A user's answer (`option`, the first chosen) to a poll that is not a review card's:
/// counted once per user, if the poll belongs to a quiz or daily question.
pub async fn on_poll_answer(answer: &PollAnswer, user: &User, option: u8, app: &App) {
    let span = tracing::info_span!("poll_answer", user_id = user.id.0, poll_id = %answer.poll_id.0);
    let name = user.full_name();
    let answered_at = Utc::now();
    let record = || {
        app.quiz().record_answer(
            &answer.poll_id.0,
            user.id.0,
            &name,
            usize::from(option),
            answered_at,
        )
    };
    async {
        // An answer can overtake the record of its own poll: the poll is recorded when
        // sendPoll's response arrives, and Telegram may deliver a quick answer to
        // getUpdates first. An unknown poll is therefore looked up again for a little
        // while before the answer is given up (only polls this bot sent produce answers).
        let mut outcome = record();
        let mut waited = Duration::ZERO;
        while matches!(outcome, Ok(AnswerOutcome::UnknownPoll)) && waited < UNKNOWN_POLL_PATIENCE {
            tokio::time::sleep(UNKNOWN_POLL_RECHECK).await;
            waited += UNKNOWN_POLL_RECHECK;
            outcome = record();
        }
        match outcome {
            Ok(outcome) => tracing::debug!(?outcome, "poll answer"),
            Err(error) => tracing::error!(%error, "cannot record a poll answer"),
        }
    }
    .instrument(span)
    .await;
}

/// How long an answer to a poll not (yet) recorded waits for its record.
const UNKNOWN_POLL_PATIENCE: Duration = Duration::from_secs(5);
/// How often it looks again meanwhile.
const UNKNOWN_POLL_RECHECK: Duration = Duration::from_millis(100);

/// Sends the daily question after a chat's excerpt of `section`, if the chat wants one.
pub async fn send_daily_question(
    app: &App,
    outbox: &Outbox,
    chat_id: i64,
    topic: Option<i32>,
    section: crate::text::SectionId,
) {
    match app.quiz().daily_enabled(chat_id) {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::error!(chat_id, %error, "cannot read the daily quiz setting");
            return;
        }
    }
    let Some(question) = app
        .quiz()
        .daily_question(chat_id, section, &mut rand::rng())
    else {
        return;
    };
    let spec = app.quiz().daily_poll(&question);
    match send_poll(outbox, chat_id, topic, &spec, None).await {
        Ok(poll_id) => {
            if let Err(error) = app
                .quiz()
                .daily_poll_sent(chat_id, &poll_id, &question, Utc::now())
            {
                tracing::error!(chat_id, %error, "cannot record the daily question");
            }
        }
        Err(error) => tracing::warn!(chat_id, %error, "cannot send the daily question"),
    }
}
