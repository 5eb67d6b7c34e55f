//! What the personal review does (错题本): the deck follows every counted quiz answer
//! (one deck per text: a question goes into the deck of the text the chat studies),
//! `/review` asks the due cards of all the member's decks one at a time, `/mistakes`
//! lists them, `/remind` sets a private reminder. No network here: the transport sends
//! what these methods return.
//!
//! A transport's part of `/review`, step by step:
//! 1. After answering the command, call [`Review::next`] for the user. `Ask` is a
//!    card to send as a non-anonymous quiz poll in the private chat (no time limit);
//!    report it with [`Review::poll_sent`]. `Finished` is the closing message.
//! 2. For every poll answer, [`Review::record_answer`] says whether it was a
//!    review poll; if it was counted, send the verdict, then go back to step 1.
//!
//! The reminder: [`Review::due_reminders`] in the delivery pass, then
//! [`Review::reminder_sent`] or [`Review::reminder_failed`] for each, with the same
//! ledger rules as the daily excerpt ([`crate::schedule::decide`]).

mod reminders;

pub use reminders::Reminder;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::app::{App, AppError, ChatContext, ChatKind};
use crate::quiz::{PollSpec, Question};
use crate::reply::Reply;
use crate::review::messages::{self, MistakeLine};
use crate::review::{CardId, DAILY_CAP, ReviewPoll, ReviewSession, Reviewer, card_id, record};
use crate::schedule::{format_local, local_date};
use crate::store::{DueCard, DueReview, StoreResult};

/// The next step of a running `/review`.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewStep {
    /// Ask this card: send `spec` as a quiz poll in the user's private chat.
    Ask(ReviewAsk),
    /// The review is over: send this.
    Finished(Reply),
    /// Nothing to do (no review running, or a card's poll is out).
    Idle,
}

/// A card to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewAsk {
    /// The text whose deck holds the card.
    pub text: String,
    /// The card.
    pub card: CardId,
    /// The poll to send (options freshly shuffled, no time limit).
    pub spec: PollSpec,
}

/// What a poll answer was, for the review.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewAnswer {
    /// The poll is not a review poll (a quiz's, or unknown).
    NotReview,
    /// A review poll, but the answer does not count (a second answer, a forged option).
    Ignored,
    /// Counted: send the verdict, then the next card.
    Counted(Reply),
}

/// The questions of the texts a member's cards come from, by text and card id: each
/// text's current bank, built on first use (the text's daily bank, kept between calls).
struct CardQuestions<'a> {
    app: &'a App,
    texts: HashMap<String, HashMap<CardId, Question>>,
}

impl<'a> CardQuestions<'a> {
    fn new(app: &'a App) -> Self {
        Self {
            app,
            texts: HashMap::new(),
        }
    }

    /// The question of card `id` in `text`; `None` when the text's bank no longer has
    /// it (the text changed) or the text is no longer served.
    fn get(&mut self, text: &str, id: CardId) -> Option<&Question> {
        if !self.texts.contains_key(text) {
            let questions = self.app.card_questions(text);
            self.texts.insert(text.to_string(), questions);
        }
        self.texts.get(text)?.get(&id)
    }
}

/// The personal review: the commands, the card polls a transport sends and the
/// answers it reports, and the reminders ([`reminders`]).
pub struct Review<'a> {
    app: &'a App,
}

impl App {
    /// The personal review's side of the app.
    pub fn review(&self) -> Review<'_> {
        Review { app: self }
    }
}

impl Review<'_> {
    /// `/review [n]`: starts a review of the due cards in a private chat.
    pub fn command(
        &self,
        chat: &ChatContext,
        count: Option<Result<usize, ()>>,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        if chat.kind != ChatKind::Private {
            return vec![messages::private_only(None)];
        }
        let Ok(wanted) = count.unwrap_or(Ok(DAILY_CAP as usize)) else {
            return vec![messages::bad_count()];
        };
        let wanted = wanted as u32;
        self.app
            .start_review(chat.user_id, wanted, now)
            .unwrap_or_else(|error| vec![AppError::from(error).reply(chat.user_id as i64)])
    }

    /// The next step of the user's running review (see the module's steps).
    pub fn next(&self, user_id: u64, now: DateTime<Utc>) -> StoreResult<ReviewStep> {
        let Some(reviewer) = self.app.store().reviewer(user_id)? else {
            return Ok(ReviewStep::Idle);
        };
        let Some(session) = reviewer.session.clone() else {
            return Ok(ReviewStep::Idle);
        };
        if session.current.is_some() {
            return Ok(ReviewStep::Idle);
        }
        // The first due card not asked yet is among the first `seen + 1` due cards.
        let mut questions = CardQuestions::new(self.app);
        let (due, _) =
            self.app
                .askable_due(user_id, now, session.seen.len() + 1, &mut questions)?;
        let next = due.first.iter().find(|due| !session.seen.contains(&due.id));
        let zone = self.app.review_zone(Some(&reviewer));
        let (Some(next), true) = (next, session.remaining > 0) else {
            self.app
                .store()
                .update_reviewer(user_id, |reviewer| reviewer.session = None)?;
            self.app.store().flush()?;
            let later = due.next_due.map(|at| format_local(at, zone));
            return Ok(ReviewStep::Finished(messages::finished(
                session.right,
                session.asked,
                later.as_deref(),
            )));
        };
        let card = next.id;
        let today = local_date(now, zone);
        let number = self.app.store().update_reviewer(user_id, |reviewer| {
            let session = reviewer.session.as_mut()?;
            session.current = Some(card);
            session.remaining = session.remaining.saturating_sub(1);
            session.asked += 1;
            session.seen.push(card);
            let number = (session.asked as usize, session.total as usize);
            reviewer.count_one(today);
            Some(number)
        })?;
        let Some(number) = number else {
            return Ok(ReviewStep::Idle);
        };
        self.app.store().flush()?;
        let Some(question) = questions.get(&next.text, card) else {
            return Ok(ReviewStep::Idle);
        };
        let mut question = question.clone();
        question.shuffle_options(&mut rand::rng());
        Ok(ReviewStep::Ask(ReviewAsk {
            text: next.text.clone(),
            card,
            spec: PollSpec::new(&question, Some(number), None),
        }))
    }

    /// Records that the card `ask` went out to `user_id` as `poll_id`.
    pub fn poll_sent(&self, user_id: u64, ask: &ReviewAsk, poll_id: &str) -> StoreResult<()> {
        let poll = ReviewPoll {
            user_id,
            text: ask.text.clone(),
            card: ask.card,
            correct: ask.spec.correct_option_id,
            options: ask.spec.options.len(),
            answer: ask
                .spec
                .options
                .get(ask.spec.correct_option_id)
                .cloned()
                .unwrap_or_default(),
            answered: false,
        };
        self.app.store().put_review_poll(poll_id, &poll)?;
        self.app.store().flush()
    }

    /// Whether the user's review waits for a poll not yet recorded (an answer may
    /// overtake sendPoll's response).
    pub fn awaits_poll(&self, user_id: u64) -> bool {
        self.app
            .store()
            .reviewer(user_id)
            .ok()
            .flatten()
            .and_then(|r| r.session)
            .is_some_and(|s| s.current.is_some())
    }

    /// A poll answer, if it is a review poll: rates the card and moves the review on.
    pub fn record_answer(
        &self,
        poll_id: &str,
        user_id: u64,
        option: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<ReviewAnswer> {
        let Some(poll) = self.app.store().review_poll(poll_id)? else {
            return Ok(ReviewAnswer::NotReview);
        };
        if poll.user_id != user_id || option >= poll.options {
            return Ok(ReviewAnswer::Ignored);
        }
        if !self.app.store().answer_review_poll(poll_id)? {
            return Ok(ReviewAnswer::Ignored);
        }
        let correct = option == poll.correct;
        let card = self
            .app
            .store()
            .update_review_card(user_id, &poll.text, poll.card, |card| {
                let mut card = card?;
                card.rate(correct, now);
                Some(card)
            })?;
        let reviewer = self.app.store().update_reviewer(user_id, |reviewer| {
            if let Some(session) = reviewer.session.as_mut()
                && session.current == Some(poll.card)
            {
                session.current = None;
                if correct {
                    session.right += 1;
                }
            }
            reviewer.clone()
        })?;
        // The answer is what a restart must not lose.
        self.app.store().flush()?;
        let zone = self.app.review_zone(Some(&reviewer));
        let due = card.map_or_else(String::new, |card| format_local(card.due(), zone));
        tracing::info!(user_id, card = poll.card, correct, next_due = %due, "review answer");
        Ok(ReviewAnswer::Counted(messages::verdict(
            correct,
            &poll.answer,
            &due,
        )))
    }

    /// `/mistakes`: the member's cards, most-missed first.
    pub fn mistakes(&self, chat: &ChatContext, now: DateTime<Utc>) -> Vec<Reply> {
        if chat.kind != ChatKind::Private {
            return vec![messages::private_only(None)];
        }
        self.app
            .mistakes(chat.user_id, now)
            .unwrap_or_else(|error| vec![AppError::from(error).reply(chat.user_id as i64)])
    }
}

impl App {
    /// Every question of the current bank of `text` by card id; none for a text that is
    /// not served.
    fn card_questions(&self, text: &str) -> HashMap<CardId, Question> {
        let Some(document) = self.library().document(text).cloned() else {
            return HashMap::new();
        };
        let bank = self.daily_bank(&document, || self.quiz_bank(&document, &mut rand::rng()));
        bank.questions()
            .iter()
            .map(|question| (card_id(text, question), question.clone()))
            .collect()
    }

    /// The member's zone: their reminder's, else the configured default.
    pub(super) fn review_zone(&self, reviewer: Option<&Reviewer>) -> Tz {
        let own = reviewer
            .and_then(|r| r.zone.as_deref())
            .and_then(|zone| zone.parse().ok());
        crate::calendar::zone_or_default(own, self.config().timezone)
    }

    /// After a counted quiz answer (group, private, daily question, console): a miss puts
    /// the question into the member's deck for the text the chat studies, any answer to
    /// a card in that deck rates it. A failure is logged and does not touch the quiz's
    /// own result.
    pub(super) fn record_in_deck(
        &self,
        chat_id: i64,
        user_id: u64,
        question: &Question,
        correct: bool,
        now: DateTime<Utc>,
    ) {
        let document = self.chat_document(chat_id, None);
        let text = document.id.as_str();
        let id = card_id(text, question);
        // A group's misses feed its weekly test ("the questions the group missed most").
        if !correct
            && chat_id != user_id as i64
            && let Err(error) = self.store().count_group_miss(chat_id, id)
        {
            tracing::error!(chat_id, %error, "cannot count a group's miss");
        }
        let updated = self.store().update_review_card(user_id, text, id, |card| {
            record(card, question.section, correct, now)
        });
        match updated {
            Ok(Some(card)) => {
                tracing::debug!(user_id, text, card = id, missed = card.missed, due = %card.due(), "deck updated")
            }
            Ok(None) => {}
            Err(error) => tracing::error!(user_id, %error, "cannot update the review deck"),
        }
    }

    /// The member's due list at `now` (see [`crate::store::Store::review_due`]) whose
    /// first `limit` cards all have their question: a card whose question is gone is
    /// dropped from its deck and the list read again. Returns the list and how many
    /// cards were dropped. Only the cards shown are looked at, never whole decks.
    fn askable_due(
        &self,
        user_id: u64,
        now: DateTime<Utc>,
        limit: usize,
        questions: &mut CardQuestions<'_>,
    ) -> StoreResult<(DueReview, usize)> {
        let mut dropped = 0;
        loop {
            let review = self.store().review_due(user_id, now, limit)?;
            let gone: Vec<&DueCard> = review
                .first
                .iter()
                .filter(|due| questions.get(&due.text, due.id).is_none())
                .collect();
            if gone.is_empty() {
                return Ok((review, dropped));
            }
            for due in gone {
                self.drop_card(user_id, &due.text, due.id, &due.card)?;
                dropped += 1;
            }
        }
    }

    /// Removes a card whose question is gone from its deck.
    fn drop_card(
        &self,
        user_id: u64,
        text: &str,
        id: CardId,
        card: &crate::review::Card,
    ) -> StoreResult<()> {
        tracing::info!(user_id, text, card = id, section = %card.section, "dropping a card whose question is gone");
        self.store().remove_review_card(user_id, text, id)
    }

    fn start_review(
        &self,
        user_id: u64,
        wanted: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Reply>> {
        let reviewer = self.store().reviewer(user_id)?;
        let zone = self.review_zone(reviewer.as_ref());
        let left = reviewer
            .unwrap_or_default()
            .left_today(local_date(now, zone));
        // The cards this review will ask are checked now, so that a note about cards
        // dropped comes before the review starts.
        let limit = wanted.min(left).max(1) as usize;
        let (due, dropped) =
            self.askable_due(user_id, now, limit, &mut CardQuestions::new(self))?;
        let mut replies = Vec::new();
        if dropped > 0 {
            replies.push(messages::dropped(dropped));
        }
        if due.due == 0 {
            let next = due.next_due.map(|at| format_local(at, zone));
            replies.push(messages::nothing_due(next.as_deref()));
            return Ok(replies);
        }
        if left == 0 {
            replies.push(messages::cap_reached());
            return Ok(replies);
        }
        let count = wanted
            .min(left)
            .min(u32::try_from(due.due).unwrap_or(u32::MAX));
        self.store().update_reviewer(user_id, |reviewer| {
            reviewer.session = Some(ReviewSession {
                remaining: count,
                asked: 0,
                right: 0,
                current: None,
                total: count,
                seen: Vec::new(),
            });
        })?;
        self.store().flush()?;
        replies.push(messages::started(count, due.due));
        Ok(replies)
    }

    fn mistakes(&self, user_id: u64, now: DateTime<Utc>) -> StoreResult<Vec<Reply>> {
        // Every deck is read here (the list covers them all), so every card whose
        // question is gone is dropped.
        let mut questions = CardQuestions::new(self);
        let mut dropped = 0;
        let mut cards = Vec::new();
        for (text, deck) in self.store().review_decks(user_id)? {
            for (id, card) in deck {
                if questions.get(&text, id).is_none() {
                    self.drop_card(user_id, &text, id, &card)?;
                    dropped += 1;
                } else {
                    cards.push((text.clone(), id, card));
                }
            }
        }
        let mut replies = Vec::new();
        if dropped > 0 {
            replies.push(messages::dropped(dropped));
        }
        cards.sort_by(|(a_text, a_id, a), (b_text, b_id, b)| {
            b.missed
                .cmp(&a.missed)
                .then(a.due().cmp(&b.due()))
                .then(a_text.cmp(b_text))
                .then(a_id.cmp(b_id))
        });
        let zone = self.review_zone(self.store().reviewer(user_id)?.as_ref());
        let lines: Vec<MistakeLine> = cards
            .iter()
            .take(messages::LISTED_CARDS)
            .filter_map(|(text, id, card)| {
                let question = questions.get(text, *id)?;
                Some(MistakeLine {
                    question: question.text.clone(),
                    section: card.section.to_string(),
                    missed: card.missed,
                    next_due: (!card.is_due(now)).then(|| format_local(card.due(), zone)),
                })
            })
            .collect();
        replies.push(messages::mistakes(&lines, cards.len()));
        Ok(replies)
    }
}
