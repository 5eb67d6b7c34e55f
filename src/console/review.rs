//! `/review` in the offline console: the console plays the transport. A due card is
//! printed with numbered options, the next line answers it, the verdict follows, then
//! the next card, and the closing message at the end.

use chrono::{DateTime, Utc};

use super::answer::option_index;
use crate::app::review::{ReviewAnswer, ReviewStep};
use crate::app::{App, AppError, ChatContext};
use crate::quiz::PollSpec;
use crate::reply::Reply;

/// The console's side of a review: the card waiting for an answer, if any.
#[derive(Debug, Default)]
pub struct ConsoleReview {
    waiting: Option<(String, PollSpec)>,
    asked: u64,
}

impl ConsoleReview {
    /// Whether a card waits for an answer (then a line that is not a command answers it).
    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// The waiting card printed again (when the user comes back to it).
    pub fn repeat(&self) -> Option<Reply> {
        self.waiting.as_ref().map(|(_, spec)| question(spec))
    }

    /// After a command (or an answer): shows the next due card of a running review.
    pub fn advance(&mut self, app: &App, chat: &ChatContext, now: DateTime<Utc>) -> Vec<Reply> {
        if self.waiting.is_some() {
            return Vec::new();
        }
        match app.review().next(chat.user_id, now) {
            Ok(ReviewStep::Ask(ask)) => {
                self.asked += 1;
                let poll_id = format!("console-review:{}:{}", now.timestamp_millis(), self.asked);
                if let Err(error) = app.review().poll_sent(chat.user_id, &ask, &poll_id) {
                    return vec![AppError::from(error).reply(chat.chat_id)];
                }
                let reply = question(&ask.spec);
                self.waiting = Some((poll_id, ask.spec));
                vec![reply]
            }
            Ok(ReviewStep::Finished(reply)) => vec![reply],
            Ok(ReviewStep::Idle) => Vec::new(),
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// A line typed while a card waits: an option number answers it; anything else
    /// asks again.
    pub fn answer(
        &mut self,
        app: &App,
        chat: &ChatContext,
        line: &str,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        let Some((poll_id, spec)) = self.waiting.clone() else {
            return Vec::new();
        };
        let choice = match option_index(line, spec.options.len()) {
            Ok(choice) => choice,
            Err(reask) => return vec![reask],
        };
        self.waiting = None;
        let mut replies = Vec::new();
        match app
            .review()
            .record_answer(&poll_id, chat.user_id, choice, now)
        {
            Ok(ReviewAnswer::Counted(verdict)) => replies.push(verdict),
            Ok(_) => {}
            Err(error) => return vec![AppError::from(error).reply(chat.chat_id)],
        }
        replies.extend(self.advance(app, chat, now));
        replies
    }
}

/// A card as the console prints it.
fn question(spec: &PollSpec) -> Reply {
    let mut reply = Reply::new().bold(format!("{}\n", spec.question));
    for (index, option) in spec.options.iter().enumerate() {
        reply = reply.text(format!("{}. {option}\n", index + 1));
    }
    reply.text(format!("请输入 1–{} 的数字作答。", spec.options.len()))
}
