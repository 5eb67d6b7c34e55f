//! Running a quiz in the offline console: the console plays the transport. A question
//! is printed with numbered options, the next line answers it, the verdict and the
//! explanation follow, then the next question, and the results at the end. There is
//! no timer: each question waits for its answer.

use chrono::{DateTime, Utc};

use super::answer::option_index;
use crate::app::{App, AppError, ChatContext};
use crate::quiz::messages;
use crate::quiz::{AnswerOutcome, QuestionKey, QuizPoll, QuizStep};
use crate::reply::Reply;

/// The console's side of a quiz: the question waiting for an answer, if any.
#[derive(Debug, Default)]
pub struct ConsoleQuiz {
    waiting: Option<QuizPoll>,
}

fn poll_id(key: &QuestionKey) -> String {
    format!("console:{}:{}", key.quiz_id, key.index)
}

impl ConsoleQuiz {
    /// Whether a question waits for an answer (then a line that is not a command answers it).
    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// The waiting question printed again (when the user comes back to it).
    pub fn repeat(&self) -> Option<Reply> {
        self.waiting.as_ref().map(messages::console_question)
    }

    /// After a command: forgets a question whose quiz was stopped, and shows the
    /// chat's next unsent question (the first one right after `/quiz`).
    pub fn after_command(
        &mut self,
        app: &App,
        chat: &ChatContext,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        if let Some(waiting) = &self.waiting {
            let current = app.quiz().current_question(chat.chat_id);
            if current != Some(waiting.key) {
                self.waiting = None;
            }
        }
        if self.waiting.is_some() {
            return Vec::new();
        }
        match app.quiz().next_poll(chat.chat_id) {
            Ok(Some(poll)) => self.show(app, chat, poll, now),
            Ok(None) => Vec::new(),
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// Marks `poll` as sent (no time limit) and prints it.
    fn show(
        &mut self,
        app: &App,
        chat: &ChatContext,
        poll: QuizPoll,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        match app
            .quiz()
            .poll_sent(&poll.key, &poll_id(&poll.key), now, None)
        {
            Ok(Some(_)) => {
                let reply = messages::console_question(&poll);
                self.waiting = Some(poll);
                vec![reply]
            }
            Ok(None) => Vec::new(),
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// A line typed while a question waits: an option number answers it; anything
    /// else asks again.
    pub fn answer(
        &mut self,
        app: &App,
        chat: &ChatContext,
        line: &str,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        let Some(poll) = self.waiting.clone() else {
            return Vec::new();
        };
        let choice = match option_index(line, poll.spec.options.len()) {
            Ok(choice) => choice,
            Err(reask) => return vec![reask],
        };
        let mut replies = Vec::new();
        match app.quiz().record_answer(
            &poll_id(&poll.key),
            chat.user_id,
            &chat.user_name,
            choice,
            now,
        ) {
            Ok(AnswerOutcome::Counted { correct }) => {
                replies.push(messages::console_verdict(correct, &poll.spec))
            }
            Ok(outcome) => tracing::warn!(
                chat_id = chat.chat_id,
                ?outcome,
                "console answer not counted"
            ),
            Err(error) => return vec![AppError::from(error).reply(chat.chat_id)],
        }
        self.waiting = None;
        match app.quiz().close_question(&poll.key, now) {
            Ok(QuizStep::Next(next)) => replies.extend(self.show(app, chat, next, now)),
            Ok(QuizStep::Finished(results)) => replies.push(results),
            Ok(QuizStep::Stale) => {}
            Err(error) => replies.extend(vec![AppError::from(error).reply(chat.chat_id)]),
        }
        replies
    }
}
