//! What the quiz commands do, and the boundary a transport drives. No network here:
//! the transport sends what these methods return and reports back what happened.
//!
//! A transport's part, step by step:
//! 1. After answering any command, ask [`Quiz::next_poll`] for the chat. `Some` means a
//!    quiz has a question to send: send it as a quiz poll with `is_anonymous: false`
//!    (scoring needs to know who answered), `correct_option_id`, `explanation` and
//!    `open_period` from the [`PollSpec`], then report it with [`Quiz::poll_sent`].
//!    Send first, mark after: a crash in between makes the question go out again after
//!    a restart, rather than leaving a question marked as sent that nobody saw.
//! 2. For every poll answer, call [`Quiz::record_answer`]; it finds the quiz by poll id.
//! 3. When the round `poll_sent` returned is due ([`Round::close_due`]: the poll's time
//!    plus [`ANSWER_GRACE`]), call [`Quiz::close_question`] with the key: it returns the
//!    next poll to send (as in step 1), or the results to post. A timer left from a
//!    stopped quiz gets [`QuizStep::Stale`] and does nothing.
//! 4. On startup, call [`Quiz::recover`] and resume each session: send its unsent
//!    question, or set the timer for its open one (closing at once if overdue); or end it
//!    cleanly with [`Quiz::end`], which posts the results so far.
//! 5. The daily question: after the excerpt of `section`, if [`Quiz::daily_enabled`],
//!    send [`Quiz::daily_question`] as `PollSpec::new(&question, None, None)` and report it
//!    with [`Quiz::daily_poll_sent`]; its answers come through step 2 like the others.
//!
//! [`ANSWER_GRACE`]: crate::quiz::session::ANSWER_GRACE

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;

use crate::app::{App, AppError, ChatContext, ChatKind};
use crate::quiz::messages;
use crate::quiz::session::{DailyPoll, Progress, Round, StartError};
use crate::quiz::{
    AnswerOutcome, PollSpec, Question, QuestionBank, QuestionKey, QuizPoll, QuizSession, QuizStep,
    for_section, pick,
};
use crate::reply::Reply;
use crate::store::{PollTarget, StoreResult};
use crate::text::{Document, SectionId};

/// Why `/stopquiz` did or did not stop a quiz.
enum Stop {
    NotRunning,
    NotAllowed,
    Stopped(Box<QuizSession>),
}

/// What a close did inside the atomic update.
enum Closed {
    Stale,
    Next(Option<QuizPoll>),
    Finished(Box<QuizSession>),
}

fn answer_key(key: &QuestionKey) -> String {
    format!("q{}:{}", key.quiz_id, key.index)
}

/// Quizzes: the commands, the polls a transport sends and the answers it reports, and
/// the daily question.
pub struct Quiz<'a> {
    app: &'a App,
}

impl App {
    /// The quizzes' side of the app.
    pub fn quiz(&self) -> Quiz<'_> {
        Quiz { app: self }
    }
}

impl Quiz<'_> {
    /// Whether `poll_id` is a quiz's or a daily question's poll (a poll answer that is
    /// not a review card's goes there).
    pub fn is_poll(&self, poll_id: &str) -> bool {
        matches!(self.app.store().poll_target(poll_id), Ok(Some(_)))
    }

    /// The question the chat's running quiz is on, if any (unreadable counts as none).
    pub fn current_question(&self, chat_id: i64) -> Option<QuestionKey> {
        self.app
            .store()
            .quiz_session(chat_id)
            .ok()
            .flatten()
            .and_then(|session| session.current_key())
    }

    /// Starts a quiz of `n` questions in the chat, unless one is running. Returns the
    /// announcement and the new session; the first poll comes from [`Quiz::next_poll`].
    pub fn start(
        &self,
        chat: &ChatContext,
        n: usize,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Result<(Reply, QuizSession), Reply> {
        if chat.kind == ChatKind::Channel {
            return Err(messages::channels_unsupported());
        }
        let document = self.app.chat_document(chat.chat_id, None);
        let bank = self.app.quiz_bank(&document, rng);
        let questions = pick(bank.questions(), n, rng);
        let quiz_id: u64 = rng.random();
        let started = self.app.store().update_quiz_session(chat.chat_id, |slot| {
            let mut session = QuizSession::start(
                slot.as_ref(),
                quiz_id,
                chat.chat_id,
                chat.user_id,
                questions.clone(),
                now,
            )?;
            session.topic = chat.topic;
            let replaced = slot.replace(session.clone());
            Ok::<_, StartError>((session, replaced))
        });
        let (session, replaced) = match started {
            Ok(Ok(started)) => started,
            Ok(Err(StartError::AlreadyRunning)) => return Err(messages::already_running()),
            Ok(Err(StartError::NoQuestions)) => {
                return Err(messages::no_questions(&document.title));
            }
            Err(error) => return Err(AppError::from(error).reply(chat.chat_id)),
        };
        if let Some(abandoned) = replaced {
            tracing::warn!(
                chat_id = chat.chat_id,
                quiz_id = abandoned.quiz_id,
                "replaced an abandoned quiz"
            );
            self.app.forget_polls(&abandoned);
        }
        if let Err(error) = self.app.store().flush() {
            return Err(AppError::from(error).reply(chat.chat_id));
        }
        tracing::info!(
            chat_id = chat.chat_id,
            quiz_id,
            questions = session.questions.len(),
            "quiz started"
        );
        Ok((
            messages::announcement(session.questions.len(), chat.kind == ChatKind::Group),
            session,
        ))
    }

    /// The running quiz's current question, if it still has to be sent.
    pub fn next_poll(&self, chat_id: i64) -> StoreResult<Option<QuizPoll>> {
        let open_period = Some(self.app.config().quiz.open_period);
        Ok(self
            .app
            .store()
            .quiz_session(chat_id)?
            .and_then(|session| session.unsent_poll(open_period)))
    }

    /// Records that the question `key` went out as `poll_id` at `now`, open for
    /// `open_period` seconds (`None`: until closed, as in the console). Returns the
    /// question's round as recorded (its [`Round::close_due`] says when to close it), or
    /// `None` if the key is stale (the quiz ended or moved on meanwhile).
    pub fn poll_sent(
        &self,
        key: &QuestionKey,
        poll_id: &str,
        now: DateTime<Utc>,
        open_period: Option<u32>,
    ) -> StoreResult<Option<Round>> {
        // The group may have become a supergroup while the poll was on its way (its
        // quiz moved with it): then the poll is recorded under the new chat, looking
        // again if the move happened during this very call.
        let mut key = self.app.followed(*key)?;
        let mut looked_again = false;
        loop {
            // The poll id is mapped first: answers may arrive as soon as the poll is out.
            self.app
                .store()
                .put_poll_target(poll_id, &PollTarget::Quiz(key))?;
            let sent = self.app.store().update_quiz_session(key.chat_id, |slot| {
                let session = slot.as_mut().filter(|session| {
                    session.quiz_id == key.quiz_id && session.current == key.index
                })?;
                if !session.question_sent(poll_id, now, open_period) {
                    return None;
                }
                session.current_round().cloned()
            })?;
            if sent.is_none() {
                let moved = self.app.followed(key)?;
                if moved != key && !looked_again {
                    (key, looked_again) = (moved, true);
                    continue;
                }
                self.app.store().remove_poll_target(poll_id)?;
            }
            self.app.store().flush()?;
            return Ok(sent);
        }
    }

    /// Records a poll answer (`option` is the chosen index) and updates the user's score
    /// in that chat. Only each user's first answer to an open question counts.
    pub fn record_answer(
        &self,
        poll_id: &str,
        user_id: u64,
        name: &str,
        option: usize,
        now: DateTime<Utc>,
    ) -> StoreResult<AnswerOutcome> {
        // The poll's chat is read, then its session, score and record are written: a
        // migration in between would leave the score under the old id.
        let _no_moves = self.app.no_chat_moves();
        let Some(target) = self.app.store().poll_target(poll_id)? else {
            return Ok(AnswerOutcome::UnknownPoll);
        };
        // Recorded with its question first, then counted into the score under a key that
        // makes counting it again change nothing (as `Quiz::recover` may).
        let (outcome, chat_id, answer_id, question) = match target {
            PollTarget::Quiz(key) => {
                let (outcome, question) =
                    self.app.store().update_quiz_session(key.chat_id, |slot| {
                        match slot
                            .as_mut()
                            .filter(|session| session.quiz_id == key.quiz_id)
                        {
                            Some(session) => {
                                let outcome = session.answer(poll_id, user_id, name, option, now);
                                (outcome, session.questions.get(key.index).cloned())
                            }
                            None => (AnswerOutcome::UnknownPoll, None),
                        }
                    })?;
                (outcome, key.chat_id, answer_key(&key), question)
            }
            PollTarget::Daily(_) => {
                let (outcome, chat_id, question) =
                    self.app
                        .store()
                        .update_poll_target(poll_id, |slot| match slot {
                            Some(PollTarget::Daily(daily)) => (
                                daily.answer(user_id, option, now),
                                daily.chat_id,
                                Some(daily.question.clone()),
                            ),
                            _ => (AnswerOutcome::UnknownPoll, 0, None),
                        })?;
                (outcome, chat_id, format!("d{poll_id}"), question)
            }
        };
        if let AnswerOutcome::Counted { correct } = outcome {
            let principle = question.as_ref().map_or(0, |q| q.part);
            // The personal review (crate::app::review): a miss goes into the deck.
            if let Some(question) = &question {
                self.app
                    .record_in_deck(chat_id, user_id, question, correct, now);
            }
            let date = self.app.local_date(chat_id, now);
            self.app.store().update_score(chat_id, user_id, |score| {
                score.record(&answer_id, name, principle, correct, date)
            })?;
            self.app
                .quiz_answer_recorded(poll_id, chat_id, user_id, name, correct, now);
            // Answers are what a restart must not lose.
            self.app.store().flush()?;
        }
        Ok(outcome)
    }

    /// Closes the question `key` (its time is up) and moves the quiz on. A quiz whose
    /// group became a supergroup meanwhile is found, and goes on, there.
    pub fn close_question(&self, key: &QuestionKey, now: DateTime<Utc>) -> StoreResult<QuizStep> {
        let key = &self.app.followed(*key)?;
        let open_period = Some(self.app.config().quiz.open_period);
        let closed = self.app.store().update_quiz_session(key.chat_id, |slot| {
            let Some(session) = slot.as_mut() else {
                return Closed::Stale;
            };
            if session.quiz_id != key.quiz_id
                || session.current != key.index
                || session.is_finished()
            {
                return Closed::Stale;
            }
            match session.close_current(now) {
                Progress::Next(_) => Closed::Next(session.unsent_poll(open_period)),
                Progress::Finished => match slot.take() {
                    Some(session) => Closed::Finished(Box::new(session)),
                    None => Closed::Stale,
                },
            }
        })?;
        match closed {
            Closed::Stale | Closed::Next(None) => Ok(QuizStep::Stale),
            Closed::Next(Some(poll)) => Ok(QuizStep::Next(poll)),
            Closed::Finished(session) => Ok(QuizStep::Finished(self.app.finish(&session)?)),
        }
    }

    /// Ends the chat's quiz now, without checking who asks (for a transport that gives
    /// up on a quiz after a restart). Returns the results so far, or `None` if no quiz runs.
    pub fn end(&self, chat_id: i64, now: DateTime<Utc>) -> StoreResult<Option<Reply>> {
        let stopped = self.app.store().update_quiz_session(chat_id, |slot| {
            let mut session = slot.take()?;
            session.stop(now);
            Some(session)
        })?;
        stopped.map(|session| self.app.finish(&session)).transpose()
    }

    /// `/stopquiz`: the starter or an admin ends the quiz; the results so far are shown.
    pub fn stop(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        let stop = self.app.store().update_quiz_session(chat.chat_id, |slot| {
            let Some(mut session) = slot.take() else {
                return Stop::NotRunning;
            };
            if session.started_by != chat.user_id && !chat.is_admin {
                *slot = Some(session);
                return Stop::NotAllowed;
            }
            session.stop(now);
            Stop::Stopped(Box::new(session))
        });
        match stop {
            Ok(Stop::NotRunning) => messages::not_running(),
            Ok(Stop::NotAllowed) => messages::stop_not_allowed(),
            Ok(Stop::Stopped(session)) => self
                .app
                .finish(&session)
                .unwrap_or_else(|error| AppError::from(error).reply(chat.chat_id)),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// Every stored quiz, to resume after a restart. Answers recorded in a session but
    /// not yet in the scores (a crash between the two writes) are counted now; counting
    /// is idempotent, so nothing is counted twice.
    pub fn recover(&self, now: DateTime<Utc>) -> StoreResult<Vec<QuizSession>> {
        let sessions = self.app.store().quiz_sessions()?;
        for session in &sessions {
            for (index, (question, round)) in
                session.questions.iter().zip(&session.rounds).enumerate()
            {
                let key = QuestionKey {
                    chat_id: session.chat_id,
                    quiz_id: session.quiz_id,
                    index,
                };
                for (user, answer) in &round.answers {
                    let name = session.names.get(user).map_or("", String::as_str);
                    let correct = answer.option == question.correct;
                    let date = self.app.local_date(session.chat_id, answer.answered_at);
                    self.app
                        .store()
                        .update_score(session.chat_id, *user, |score| {
                            score.record(&answer_key(&key), name, question.part, correct, date)
                        })?;
                }
            }
            tracing::info!(
                chat_id = session.chat_id,
                quiz_id = session.quiz_id,
                abandoned = session.is_abandoned(now),
                "quiz to resume"
            );
        }
        self.app.store().flush()?;
        Ok(sessions)
    }

    /// Whether the chat gets a daily question: its own setting, else the configured default.
    pub fn daily_enabled(&self, chat_id: i64) -> StoreResult<bool> {
        Ok(self
            .app
            .store()
            .daily_quiz_setting(chat_id)?
            .unwrap_or(self.app.config().quiz.daily_quiz))
    }

    /// The daily question after chat `chat_id` read `section` of its text (see
    /// [`for_section`]).
    pub fn daily_question(
        &self,
        chat_id: i64,
        section: SectionId,
        rng: &mut impl Rng,
    ) -> Option<Question> {
        let document = self.app.chat_document(chat_id, None);
        let bank = self
            .app
            .daily_bank(&document, || self.app.quiz_bank(&document, rng));
        for_section(bank.questions(), section, rng)
    }

    /// Records that the daily `question` went out to the chat as `poll_id`.
    pub fn daily_poll_sent(
        &self,
        chat_id: i64,
        poll_id: &str,
        question: &Question,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Its answers are scored in the chat the poll names: the supergroup, if the group
        // was upgraded while the poll was on its way.
        self.app.at_current_id(chat_id, |chat_id| {
            let daily = DailyPoll {
                chat_id,
                question: question.clone(),
                sent_at: now,
                answered: Default::default(),
            };
            self.app
                .store()
                .put_poll_target(poll_id, &PollTarget::Daily(daily))?;
            self.app.store().flush()
        })
    }

    /// The poll to send for a daily question (no time limit, no number).
    pub fn daily_poll(&self, question: &Question) -> PollSpec {
        PollSpec::new(question, None, None)
    }

    /// `/quiz [n]`.
    pub fn command(
        &self,
        chat: &ChatContext,
        count: Option<Result<usize, ()>>,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Reply {
        let default = self.app.config().quiz.questions;
        let Ok(n) = count.unwrap_or(Ok(default)) else {
            return messages::bad_count(default);
        };
        match self.start(chat, n, now, rng) {
            Ok((announcement, _)) => announcement,
            Err(refusal) => refusal,
        }
    }

    /// `/score`: the sender's score in this chat.
    pub fn score(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        let score = match self.app.store().score(chat.chat_id, chat.user_id) {
            Ok(score) => score,
            Err(error) => return AppError::from(error).reply(chat.chat_id),
        };
        let principles: Vec<(u8, String)> = self
            .app
            .chat_document(chat.chat_id, None)
            .parts()
            .map(|p| (p.id.part, p.title.clone()))
            .collect();
        messages::score(
            &chat.user_name,
            score.as_ref(),
            &principles,
            self.app.local_date(chat.chat_id, now),
        )
    }

    /// `/top`: the chat's ten best (more correct answers first, then fewer answers).
    pub fn top(&self, chat: &ChatContext) -> Reply {
        let mut scores = match self.app.store().chat_scores(chat.chat_id) {
            Ok(scores) => scores,
            Err(error) => return AppError::from(error).reply(chat.chat_id),
        };
        scores.retain(|(_, score)| score.total.answered > 0);
        scores.sort_by(|(a_id, a), (b_id, b)| {
            b.total
                .correct
                .cmp(&a.total.correct)
                .then(a.total.answered.cmp(&b.total.answered))
                .then(a_id.cmp(b_id))
        });
        let entries: Vec<(String, crate::quiz::score::Tally)> = scores
            .into_iter()
            .take(10)
            .map(|(_, score)| (score.name, score.total))
            .collect();
        messages::top(&entries)
    }

    /// `/dailyquiz on|off` (admins only in groups).
    pub fn set_daily(&self, chat: &ChatContext, on: Option<Result<bool, String>>) -> Reply {
        let Some(Ok(on)) = on else {
            return match self.daily_enabled(chat.chat_id) {
                Ok(current) => match on {
                    Some(Err(words)) => messages::daily_quiz_not_understood(&words, current),
                    _ => messages::daily_quiz_usage(current),
                },
                Err(error) => AppError::from(error).reply(chat.chat_id),
            };
        };
        if chat.kind != ChatKind::Private && !chat.is_admin {
            return messages::daily_quiz_admins_only();
        }
        match self.app.store().set_daily_quiz_setting(chat.chat_id, on) {
            Ok(()) => messages::daily_quiz_set(on),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }
}

impl App {
    /// A question bank for one quiz on `document`: generated from it with `rng` (so
    /// distractors vary between quizzes), plus the curated questions when it is the
    /// default text they were written for.
    pub(super) fn quiz_bank(&self, document: &Document, rng: &mut impl Rng) -> QuestionBank {
        let curated = match document.id == self.library().default_document().id {
            true => self.curated_questions(),
            false => &[],
        };
        QuestionBank::build(document, curated, rng)
    }

    /// `key` in the chat its quiz now lives in: a group that became a supergroup took
    /// its quiz along.
    fn followed(&self, key: QuestionKey) -> StoreResult<QuestionKey> {
        Ok(QuestionKey {
            chat_id: self.current_chat_id(key.chat_id)?,
            ..key
        })
    }

    /// The chat's local date (the zone rule: [`crate::calendar::zone_or_default`]).
    fn local_date(&self, chat_id: i64, now: DateTime<Utc>) -> NaiveDate {
        crate::calendar::local_date(now, self.chat_zone(chat_id))
    }

    /// After a quiz ended: forget its polls, persist, and word the results.
    fn finish(&self, session: &QuizSession) -> StoreResult<Reply> {
        self.forget_polls(session);
        self.store().flush()?;
        let results = session.results();
        tracing::info!(
            chat_id = session.chat_id,
            quiz_id = session.quiz_id,
            participants = results.ranking.len(),
            "quiz finished"
        );
        Ok(messages::results(&results))
    }

    fn forget_polls(&self, session: &QuizSession) {
        for poll_id in session
            .rounds
            .iter()
            .filter_map(|round| round.poll_id.as_deref())
        {
            if let Err(error) = self.store().remove_poll_target(poll_id) {
                tracing::warn!(chat_id = session.chat_id, %error, "could not forget a quiz poll");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The typed argument of `/<command> <text>`, as the command table reads it.
    macro_rules! arg {
        ($command:literal, $text:expr, $variant:ident) => {
            match crate::command::parse(&format!("/{} {}", $command, $text), None) {
                crate::command::Input::Command(crate::command::Command::$variant(argument)) => {
                    argument
                }
                other => panic!("{other:?}"),
            }
        };
    }

    use chrono::{TimeDelta, TimeZone};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::app::library::Library;
    use crate::config::Config;
    use crate::quiz::parse_curated;
    use crate::store::Store;
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");

    fn app_with(store: Store) -> App {
        let document = parse_document("xzsj.md", SPEECH).unwrap();
        let curated = parse_curated(
            "questions.md",
            include_str!("../../data/questions.md"),
            &document,
        )
        .unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        App::with_curated_questions(library, store, Config::default(), curated)
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + TimeDelta::seconds(seconds)
    }

    fn group(user_id: u64, is_admin: bool) -> ChatContext {
        ChatContext {
            chat_id: -100,
            kind: ChatKind::Group,
            user_id,
            user_name: format!("用户{user_id}"),
            is_admin,
            topic: None,
        }
    }

    /// Sends the current poll as the transport would; returns its key and poll id.
    fn send(app: &App, chat_id: i64, now: DateTime<Utc>) -> (QuizPoll, String) {
        let poll = app
            .quiz()
            .next_poll(chat_id)
            .unwrap()
            .expect("a question to send");
        let poll_id = format!("poll-{}", poll.key.index);
        assert!(
            app.quiz()
                .poll_sent(&poll.key, &poll_id, now, poll.spec.open_period)
                .unwrap()
                .is_some()
        );
        (poll, poll_id)
    }

    fn wrong(poll: &QuizPoll) -> usize {
        (poll.spec.correct_option_id + 1) % poll.spec.options.len()
    }

    #[test]
    fn a_poll_recorded_after_its_group_became_a_supergroup_counts_there() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(3);
        app.quiz()
            .start(&group(1, false), 2, at(0), &mut rng)
            .unwrap();
        let poll = app.quiz().next_poll(-100).unwrap().expect("a question");
        // sendPoll went to the old group; the upgrade is handled before its response.
        app.chats().migrated(-100, -1_000_000_000_100, at(1));
        let round = app
            .quiz()
            .poll_sent(&poll.key, "p0", at(2), poll.spec.open_period)
            .unwrap();
        assert!(round.is_some(), "the question is sent, in the supergroup");
        assert_eq!(
            app.quiz()
                .record_answer("p0", 11, "甲", poll.spec.correct_option_id, at(5))
                .unwrap(),
            AnswerOutcome::Counted { correct: true }
        );
    }

    #[test]
    fn a_daily_question_sent_while_its_group_became_a_supergroup_scores_there() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(5);
        let (_, session) = app
            .quiz()
            .start(&group(1, false), 1, at(0), &mut rng)
            .unwrap();
        let question = session.questions[0].clone();
        let supergroup = -1_000_000_000_100;
        app.chats().migrated(-100, supergroup, at(1));
        app.quiz()
            .daily_poll_sent(-100, "daily", &question, at(2))
            .unwrap();
        assert_eq!(
            app.quiz()
                .record_answer("daily", 11, "甲", question.correct, at(3))
                .unwrap(),
            AnswerOutcome::Counted { correct: true }
        );
        assert_eq!(app.store().chat_scores(supergroup).unwrap().len(), 1);
        assert!(app.store().chat_scores(-100).unwrap().is_empty());
    }

    #[test]
    fn answers_given_while_the_group_becomes_a_supergroup_all_count_there() {
        // Poll answers name no chat, so Telegram's updates do not order them with the
        // group's migration: each answer must land wholly before or wholly after it.
        const MEMBERS: u64 = 32;
        let supergroup = -1_000_000_000_100;
        for round in 0..10 {
            let app = app_with(Store::in_memory());
            let mut rng = StdRng::seed_from_u64(round);
            app.quiz()
                .start(&group(1, false), 2, at(0), &mut rng)
                .unwrap();
            let (poll, poll_id) = send(&app, -100, at(0));
            let start = std::sync::Barrier::new(MEMBERS as usize + 1);
            let counted = std::thread::scope(|s| {
                let answers: Vec<_> = (0..MEMBERS)
                    .map(|member| {
                        let (app, start, poll_id) = (&app, &start, &poll_id);
                        let option = poll.spec.correct_option_id;
                        s.spawn(move || {
                            start.wait();
                            app.quiz()
                                .record_answer(poll_id, 100 + member, "成员", option, at(5))
                                .unwrap()
                        })
                    })
                    .collect();
                start.wait();
                app.chats().migrated(-100, supergroup, at(5));
                answers
                    .into_iter()
                    .map(|answer| answer.join().unwrap())
                    .filter(|outcome| matches!(outcome, AnswerOutcome::Counted { .. }))
                    .count()
            });
            assert_eq!(counted, MEMBERS as usize, "round {round}");
            let scores = app.store().chat_scores(supergroup).unwrap();
            let scored: u32 = scores.iter().map(|(_, score)| score.total.answered).sum();
            assert_eq!(
                scored as usize, counted,
                "round {round}: every answer is scored"
            );
            assert!(
                app.store().chat_scores(-100).unwrap().is_empty(),
                "round {round}"
            );
        }
    }

    #[test]
    fn a_group_quiz_from_start_to_results() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(1);
        let (announcement, session) = app
            .quiz()
            .start(&group(1, false), 3, at(0), &mut rng)
            .unwrap();
        assert!(announcement.plain_text().contains("全群可见"));
        assert_eq!(session.questions.len(), 3);
        let refused = app
            .quiz()
            .start(&group(2, true), 3, at(1), &mut rng)
            .unwrap_err();
        assert_eq!(refused, messages::already_running());

        let (first, p0) = send(&app, -100, at(0));
        assert_eq!(first.spec.open_period, Some(30));
        assert!(first.spec.question.starts_with("（1/3）"));
        assert_eq!(app.quiz().next_poll(-100).unwrap(), None, "already sent");
        let right = first.spec.correct_option_id;
        assert_eq!(
            app.quiz()
                .record_answer(&p0, 11, "甲", right, at(5))
                .unwrap(),
            AnswerOutcome::Counted { correct: true }
        );
        assert_eq!(
            app.quiz()
                .record_answer(&p0, 11, "甲", right, at(6))
                .unwrap(),
            AnswerOutcome::Duplicate
        );
        assert_eq!(
            app.quiz()
                .record_answer(&p0, 12, "乙", wrong(&first), at(7))
                .unwrap(),
            AnswerOutcome::Counted { correct: false }
        );
        assert_eq!(
            app.quiz()
                .record_answer("nope", 12, "乙", 0, at(7))
                .unwrap(),
            AnswerOutcome::UnknownPoll
        );

        let QuizStep::Next(second) = app.quiz().close_question(&first.key, at(33)).unwrap() else {
            panic!("a next question")
        };
        assert_eq!(
            app.quiz().close_question(&first.key, at(34)).unwrap(),
            QuizStep::Stale,
            "closing twice"
        );
        assert_eq!(
            app.quiz()
                .record_answer(&p0, 13, "丙", right, at(35))
                .unwrap(),
            AnswerOutcome::Late
        );
        assert_eq!(second.key.index, 1);
        let p1 = "poll-1";
        assert!(
            app.quiz()
                .poll_sent(&second.key, p1, at(40), Some(30))
                .unwrap()
                .is_some()
        );
        app.quiz()
            .record_answer(p1, 11, "甲", second.spec.correct_option_id, at(50))
            .unwrap();
        app.quiz()
            .record_answer(p1, 12, "乙", wrong(&second), at(45))
            .unwrap();
        let QuizStep::Next(third) = app.quiz().close_question(&second.key, at(73)).unwrap() else {
            panic!("third")
        };
        let p2 = "poll-2";
        assert!(
            app.quiz()
                .poll_sent(&third.key, p2, at(80), Some(30))
                .unwrap()
                .is_some()
        );
        app.quiz()
            .record_answer(p2, 12, "乙", third.spec.correct_option_id, at(90))
            .unwrap();
        let QuizStep::Finished(results) = app.quiz().close_question(&third.key, at(113)).unwrap()
        else {
            panic!("results")
        };
        let text = results.plain_text();
        assert!(text.contains("1. 甲 — 答对 2/3，用时 15.0 秒"), "{text}");
        assert!(text.contains("2. 乙 — 答对 1/3"), "{text}");
        assert!(text.contains("答错最多的一题"), "{text}");
        assert_eq!(app.store().quiz_session(-100).unwrap(), None);
        assert_eq!(
            app.store().poll_target(&p0).unwrap(),
            None,
            "polls are forgotten"
        );
        assert_eq!(
            app.quiz().record_answer(p2, 13, "丙", 0, at(114)).unwrap(),
            AnswerOutcome::UnknownPoll
        );

        let top = app.quiz().top(&group(5, false)).plain_text();
        assert!(
            top.contains("1. 甲 — 答对 2/2（100%）\n2. 乙 — 答对 1/3（33%）"),
            "{top}"
        );
        let score = app.quiz().score(&group(12, false), at(120)).plain_text();
        assert!(score.contains("答题 3 道，答对 1 道（33%）"), "{score}");
        assert!(score.contains("连续答题 1 天"), "{score}");
        // The next quiz may start now.
        assert!(
            app.quiz()
                .start(&group(2, false), 1, at(200), &mut rng)
                .is_ok()
        );
    }

    #[test]
    fn stopping_needs_the_starter_or_an_admin() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(2);
        assert_eq!(
            app.quiz().stop(&group(1, true), at(0)),
            messages::not_running()
        );
        app.quiz()
            .start(&group(1, false), 5, at(0), &mut rng)
            .unwrap();
        let (poll, p0) = send(&app, -100, at(1));
        app.quiz()
            .record_answer(&p0, 7, "丁", poll.spec.correct_option_id, at(3))
            .unwrap();
        assert_eq!(
            app.quiz().stop(&group(2, false), at(4)),
            messages::stop_not_allowed()
        );
        let results = app.quiz().stop(&group(3, true), at(5)).plain_text();
        assert!(
            results.contains("提前结束") && results.contains("共出 1 题（原定 5 题）"),
            "{results}"
        );
        assert!(results.contains("1. 丁 — 答对 1/1"), "{results}");
        assert_eq!(
            app.quiz().close_question(&poll.key, at(33)).unwrap(),
            QuizStep::Stale,
            "the old timer fires"
        );
        app.quiz()
            .start(&group(1, false), 1, at(6), &mut rng)
            .unwrap();
        assert!(
            app.quiz()
                .stop(&group(1, false), at(7))
                .plain_text()
                .contains("没有人作答")
        );
    }

    #[test]
    fn concurrent_answers_are_all_counted() {
        let dir = tempfile::tempdir().unwrap();
        for store in [
            Store::in_memory(),
            Store::open(&dir.path().join("db")).unwrap(),
        ] {
            let app = app_with(store);
            app.quiz()
                .start(&group(1, false), 1, at(0), &mut StdRng::seed_from_u64(3))
                .unwrap();
            let (poll, p0) = send(&app, -100, at(0));
            std::thread::scope(|scope| {
                for thread in 0..4_u64 {
                    let app = app.clone();
                    let (p0, correct) = (p0.clone(), poll.spec.correct_option_id);
                    scope.spawn(move || {
                        for user in 0..10 {
                            let user = thread * 100 + user;
                            app.quiz()
                                .record_answer(&p0, user, "某", correct, at(5))
                                .unwrap();
                            assert_eq!(
                                app.quiz()
                                    .record_answer(&p0, user, "某", correct, at(6))
                                    .unwrap(),
                                AnswerOutcome::Duplicate
                            );
                        }
                    });
                }
            });
            let session = app.store().quiz_session(-100).unwrap().unwrap();
            assert_eq!(session.rounds[0].answers.len(), 40);
            assert_eq!(app.store().chat_scores(-100).unwrap().len(), 40);
        }
    }

    #[test]
    fn a_restart_mid_quiz_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (poll, p0) = {
            let app = app_with(Store::open(&path).unwrap());
            app.quiz()
                .start(&group(1, false), 2, at(0), &mut StdRng::seed_from_u64(4))
                .unwrap();
            let (poll, p0) = send(&app, -100, at(0));
            app.quiz()
                .record_answer(&p0, 11, "甲", poll.spec.correct_option_id, at(5))
                .unwrap();
            app.quiz()
                .record_answer(&p0, 12, "乙", wrong(&poll), at(6))
                .unwrap();
            (poll, p0)
            // The app and its sled database are dropped here, as in a restart.
        };
        let app = app_with(Store::open(&path).unwrap());
        let sessions = app.quiz().recover(at(20)).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].rounds[0].answers.len(), 2);
        assert_eq!(
            app.store().score(-100, 11).unwrap().unwrap().total.answered,
            1,
            "not counted twice"
        );
        // Answers keep arriving for the open question, then it closes on time.
        assert_eq!(
            app.quiz()
                .record_answer(&p0, 13, "丙", poll.spec.correct_option_id, at(25))
                .unwrap(),
            AnswerOutcome::Counted { correct: true }
        );
        assert!(matches!(
            app.quiz().close_question(&poll.key, at(33)).unwrap(),
            QuizStep::Next(_)
        ));
        let results = app.quiz().end(-100, at(40)).unwrap().unwrap().plain_text();
        assert!(
            results.contains("甲 — 答对 1/1") && results.contains("丙 — 答对 1/1"),
            "{results}"
        );
        assert!(results.contains("乙 — 答对 0/1"), "{results}");
        assert_eq!(app.quiz().end(-100, at(41)).unwrap(), None);
    }

    #[test]
    fn daily_questions_are_scored_too() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(5);
        assert!(!app.quiz().daily_enabled(-100).unwrap());
        assert_eq!(
            app.quiz()
                .set_daily(&group(1, false), arg!("dailyquiz", "on", DailyQuiz)),
            messages::daily_quiz_admins_only()
        );
        assert_eq!(
            app.quiz()
                .set_daily(&group(1, true), arg!("dailyquiz", "on", DailyQuiz)),
            messages::daily_quiz_set(true)
        );
        assert!(app.quiz().daily_enabled(-100).unwrap());
        assert_eq!(
            app.quiz()
                .set_daily(&group(1, false), arg!("dailyquiz", "", DailyQuiz)),
            messages::daily_quiz_usage(true)
        );
        let question = app
            .quiz()
            .daily_question(1, SectionId::point(2, 2), &mut rng)
            .unwrap();
        assert_eq!(question.section, SectionId::point(2, 2));
        let spec = app.quiz().daily_poll(&question);
        assert_eq!(
            (spec.open_period, spec.question.as_str()),
            (None, question.text.as_str())
        );
        app.quiz()
            .daily_poll_sent(-100, "daily-1", &question, at(0))
            .unwrap();
        assert_eq!(
            app.quiz()
                .record_answer("daily-1", 11, "甲", question.correct, at(60))
                .unwrap(),
            AnswerOutcome::Counted { correct: true }
        );
        assert_eq!(
            app.quiz()
                .record_answer("daily-1", 11, "甲", question.correct, at(61))
                .unwrap(),
            AnswerOutcome::Duplicate
        );
        let score = app.store().score(-100, 11).unwrap().unwrap();
        assert_eq!((score.total.correct, score.by_part[&2].answered), (1, 1));
    }

    #[test]
    fn counts_and_channels() {
        let app = app_with(Store::in_memory());
        let mut rng = StdRng::seed_from_u64(6);
        assert_eq!(
            app.quiz()
                .command(&group(1, false), arg!("quiz", "0", Quiz), at(0), &mut rng),
            messages::bad_count(5)
        );
        let channel = ChatContext {
            kind: ChatKind::Channel,
            ..group(1, true)
        };
        assert_eq!(
            app.quiz()
                .command(&channel, arg!("quiz", "", Quiz), at(0), &mut rng),
            messages::channels_unsupported()
        );
    }
}
