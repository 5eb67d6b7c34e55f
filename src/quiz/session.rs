//! The state machine of one quiz in one chat. Pure: the caller passes the time, the
//! store keeps the session between steps, and a transport sends what it asks for.
//!
//! A session goes: [`QuizSession::start`] → for each question: the transport sends the
//! poll and reports [`QuizSession::question_sent`]; answers arrive
//! ([`QuizSession::answer`]); the question closes ([`QuizSession::close_current`]) →
//! the next question, or the end and [`QuizSession::results`]. [`QuizSession::stop`]
//! ends it early.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::Question;
use crate::limits::utf16_len;
use crate::limits::{
    POLL_EXPLANATION, POLL_EXPLANATION_LINE_FEEDS, POLL_OPTION, POLL_QUESTION, shorten,
};
use crate::reply::Reply;
use crate::text::SectionId;

/// Answers received this long after a question's closing time still count: Telegram
/// accepted them while the poll was open, and only delivery was slow. Transports should
/// close a question this long after it closes on Telegram ([`Round::close_due`]).
pub const ANSWER_GRACE: TimeDelta = TimeDelta::seconds(3);

/// A session with no activity for this long is abandoned (its transport died before a
/// restart could resume it) and no longer blocks a new `/quiz`. The longest gap in a
/// live quiz is one question's open period, at most 600 seconds.
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(30);

/// Identifies one question of one quiz, as a transport hands it back (so that a timer
/// left over from a stopped quiz cannot close a question of the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuestionKey {
    /// The chat the quiz runs in.
    pub chat_id: i64,
    /// The quiz's random id.
    pub quiz_id: u64,
    /// The question's index in the quiz, from 0.
    pub index: usize,
}

/// Everything a transport needs to send one quiz poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSpec {
    /// The question, with its number in the quiz where it fits (`（1/5）…`).
    pub question: String,
    /// The options, in order.
    pub options: Vec<String>,
    /// The index of the correct option.
    pub correct_option_id: usize,
    /// The explanation Telegram shows after answering (cites the section).
    pub explanation: String,
    /// How long the poll stays open, in seconds; `None` for no limit.
    pub open_period: Option<u32>,
    /// The section the question is about.
    pub section: SectionId,
}

impl PollSpec {
    /// The poll for `question`; `number` is its (1-based position, total) in a quiz.
    ///
    /// Whatever the question holds, the poll keeps Telegram's limits
    /// ([`crate::limits`]): the number is left out where it would not fit, and a
    /// question, option or explanation too long (a question stored before a limit was
    /// met, say) is shortened with `…` at a character boundary; an explanation keeps at
    /// most two line feeds. Questions from the bank already fit ([`Question::check`]).
    pub fn new(
        question: &Question,
        number: Option<(usize, usize)>,
        open_period: Option<u32>,
    ) -> Self {
        let numbered =
            number.map(|(position, total)| format!("（{position}/{total}）{}", question.text));
        let text = numbered
            .filter(|text| utf16_len(text) <= POLL_QUESTION)
            .unwrap_or_else(|| shorten(&question.text, POLL_QUESTION));
        let mut explanation = String::new();
        for (index, line) in question.explanation.split('\n').enumerate() {
            let separator = if index <= POLL_EXPLANATION_LINE_FEEDS {
                "\n"
            } else {
                " "
            };
            if index > 0 {
                explanation.push_str(separator);
            }
            explanation.push_str(line);
        }
        Self {
            question: text,
            options: question
                .options
                .iter()
                .map(|option| shorten(option, POLL_OPTION))
                .collect(),
            correct_option_id: question.correct,
            explanation: shorten(&explanation, POLL_EXPLANATION),
            open_period,
            section: question.section,
        }
    }

    /// Whether the poll fits Telegram's limits as it is ([`PollSpec::new`] makes it so
    /// from any question, but for the number of options: a question with too few or too
    /// many is not asked).
    pub fn fits(&self) -> bool {
        let chars = |text: &str, max| !text.trim().is_empty() && utf16_len(text) <= max;
        chars(&self.question, POLL_QUESTION)
            && (crate::limits::POLL_OPTIONS_MIN..=crate::limits::POLL_OPTIONS_MAX)
                .contains(&self.options.len())
            && self.options.iter().all(|option| chars(option, POLL_OPTION))
            && self.correct_option_id < self.options.len()
            && utf16_len(&self.explanation) <= POLL_EXPLANATION
            && self.explanation.matches('\n').count() <= POLL_EXPLANATION_LINE_FEEDS
    }
}

/// A quiz question ready to send, with the key to report back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizPoll {
    /// Which question this is.
    pub key: QuestionKey,
    /// What to send.
    pub spec: PollSpec,
    /// The forum topic to send it to (see [`QuizSession::topic`]).
    pub topic: Option<i32>,
}

/// One participant's answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The chosen option's index.
    pub option: usize,
    /// When the answer arrived.
    pub answered_at: DateTime<Utc>,
}

/// One question's progress in a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Telegram's poll id, once the transport has sent the poll.
    pub poll_id: Option<String>,
    /// When the poll was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the poll closes on Telegram; `None` for no limit (the console).
    pub closes_at: Option<DateTime<Utc>>,
    /// Whether the question is closed: later answers are ignored.
    pub closed: bool,
    /// Each user's first answer.
    pub answers: BTreeMap<u64, Answer>,
}

impl Round {
    /// When the transport should close the question: its closing time plus [`ANSWER_GRACE`].
    pub fn close_due(&self) -> Option<DateTime<Utc>> {
        self.closes_at.map(|at| at + ANSWER_GRACE)
    }
}

/// A running quiz in one chat. Stored as JSON between steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSession {
    /// A random id, so that leftovers of an earlier quiz are recognised.
    pub quiz_id: u64,
    /// The chat the quiz runs in.
    pub chat_id: i64,
    /// Who started it (they, or an admin, may stop it).
    pub started_by: u64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The questions, with their options in the order sent.
    pub questions: Vec<Question>,
    /// Each question's progress, parallel to `questions`.
    pub rounds: Vec<Round>,
    /// The index of the current question; `questions.len()` once finished.
    pub current: usize,
    /// Participants' names as Telegram last showed them.
    pub names: BTreeMap<u64, String>,
    /// The forum topic it runs in (Telegram's `message_thread_id`), where its polls
    /// and results go; `None` outside forum topics (and in sessions stored before).
    #[serde(default)]
    pub topic: Option<i32>,
    /// Whether it was ended early with `/stopquiz`.
    pub stopped: bool,
}

/// Why a quiz could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// The chat already has a running quiz.
    AlreadyRunning,
    /// There are no questions to ask.
    NoQuestions,
}

/// What became of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// The user's first answer to an open question: it counts.
    Counted {
        /// Whether it was the correct option.
        correct: bool,
    },
    /// The user had already answered this question; only the first answer counts.
    Duplicate,
    /// The question was already closed.
    Late,
    /// No running question has this poll id (another bot's poll, or a finished quiz).
    UnknownPoll,
    /// The option does not exist (forged or malformed input).
    InvalidOption,
}

/// Where a quiz stands after a question closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The question with this index comes next.
    Next(usize),
    /// That was the last question.
    Finished,
}

/// One participant's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The user's id.
    pub user_id: u64,
    /// The name as Telegram showed it.
    pub name: String,
    /// Correct answers.
    pub correct: usize,
    /// Questions answered.
    pub answered: usize,
    /// Total time from each poll's sending to the answer, in milliseconds.
    pub time_ms: i64,
}

/// The question most participants did not answer correctly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    /// Its index in the quiz.
    pub index: usize,
    /// The question.
    pub text: String,
    /// The correct option.
    pub answer: String,
    /// Its section.
    pub section: SectionId,
    /// How many participants did not answer it correctly.
    pub missed: usize,
    /// How many took part in the quiz.
    pub participants: usize,
}

/// The outcome of a quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizResults {
    /// How many questions were sent.
    pub asked: usize,
    /// How many questions the quiz had.
    pub planned: usize,
    /// Whether it was stopped early.
    pub stopped: bool,
    /// Participants, best first: more correct answers, then less time.
    pub ranking: Vec<Standing>,
    /// The question most participants missed, if any was missed.
    pub most_missed: Option<Missed>,
}

/// How long a daily question can be answered after it was sent.
pub const DAILY_ANSWER_WINDOW: TimeDelta = TimeDelta::hours(24);

/// A daily question sent after the excerpt: not part of a quiz, but scored the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPoll {
    /// The chat it was sent to.
    pub chat_id: i64,
    /// The question, with its options in the order sent.
    pub question: Question,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// Users who have answered (only the first answer counts).
    pub answered: std::collections::BTreeSet<u64>,
}

impl DailyPoll {
    /// Records `user`'s answer: counted once, within [`DAILY_ANSWER_WINDOW`].
    pub fn answer(&mut self, user: u64, option: usize, now: DateTime<Utc>) -> AnswerOutcome {
        if now - self.sent_at > DAILY_ANSWER_WINDOW {
            return AnswerOutcome::Late;
        }
        if option >= self.question.options.len() {
            return AnswerOutcome::InvalidOption;
        }
        if !self.answered.insert(user) {
            return AnswerOutcome::Duplicate;
        }
        AnswerOutcome::Counted {
            correct: option == self.question.correct,
        }
    }
}

impl QuizSession {
    /// Starts a quiz unless `running` (the chat's stored session) is still live.
    pub fn start(
        running: Option<&QuizSession>,
        quiz_id: u64,
        chat_id: i64,
        started_by: u64,
        questions: Vec<Question>,
        now: DateTime<Utc>,
    ) -> Result<Self, StartError> {
        if running.is_some_and(|session| !session.is_finished() && !session.is_abandoned(now)) {
            return Err(StartError::AlreadyRunning);
        }
        if questions.is_empty() {
            return Err(StartError::NoQuestions);
        }
        Ok(Self {
            quiz_id,
            chat_id,
            started_by,
            started_at: now,
            rounds: vec![Round::default(); questions.len()],
            questions,
            current: 0,
            names: BTreeMap::new(),
            topic: None,
            stopped: false,
        })
    }

    /// Whether every question has closed (or the quiz was stopped).
    pub fn is_finished(&self) -> bool {
        self.current >= self.questions.len()
    }

    /// The latest thing that happened: the start, a poll sent or an answer.
    pub fn last_activity(&self) -> DateTime<Utc> {
        let rounds = self.rounds.iter().flat_map(|round| {
            round
                .sent_at
                .into_iter()
                .chain(round.answers.values().map(|answer| answer.answered_at))
        });
        rounds.fold(self.started_at, DateTime::max)
    }

    /// Whether nothing has happened for [`ABANDONED_AFTER`].
    pub fn is_abandoned(&self, now: DateTime<Utc>) -> bool {
        now - self.last_activity() > ABANDONED_AFTER
    }

    /// The current question's key, unless the quiz is finished.
    pub fn current_key(&self) -> Option<QuestionKey> {
        (!self.is_finished()).then_some(QuestionKey {
            chat_id: self.chat_id,
            quiz_id: self.quiz_id,
            index: self.current,
        })
    }

    /// The current round, unless the quiz is finished.
    pub fn current_round(&self) -> Option<&Round> {
        self.rounds
            .get(self.current)
            .filter(|_| !self.is_finished())
    }

    /// The current question as a poll to send, if it has not been sent yet.
    pub fn unsent_poll(&self, open_period: Option<u32>) -> Option<QuizPoll> {
        let key = self.current_key()?;
        if self.rounds.get(self.current)?.poll_id.is_some() {
            return None;
        }
        let question = self.questions.get(self.current)?;
        let spec = PollSpec::new(
            question,
            Some((self.current + 1, self.questions.len())),
            open_period,
        );
        Some(QuizPoll {
            key,
            spec,
            topic: self.topic,
        })
    }

    /// Records that the current question went out as `poll_id` at `now`, open for
    /// `open_period` seconds (`None`: until closed). A resend after a restart replaces
    /// the poll id. Returns `false` if the quiz is finished.
    pub fn question_sent(
        &mut self,
        poll_id: &str,
        now: DateTime<Utc>,
        open_period: Option<u32>,
    ) -> bool {
        if self.is_finished() {
            return false;
        }
        let Some(round) = self.rounds.get_mut(self.current) else {
            return false;
        };
        round.poll_id = Some(poll_id.to_string());
        round.sent_at = Some(now);
        round.closes_at = open_period.map(|seconds| now + TimeDelta::seconds(i64::from(seconds)));
        true
    }

    /// Records `user`'s answer to the poll `poll_id`. Only the first answer of each
    /// user to an open question counts.
    pub fn answer(
        &mut self,
        poll_id: &str,
        user: u64,
        name: &str,
        option: usize,
        now: DateTime<Utc>,
    ) -> AnswerOutcome {
        let Some(index) = self
            .rounds
            .iter()
            .position(|round| round.poll_id.as_deref() == Some(poll_id))
        else {
            return AnswerOutcome::UnknownPoll;
        };
        let Some(question) = self.questions.get(index) else {
            return AnswerOutcome::UnknownPoll;
        };
        let round = &mut self.rounds[index];
        let past_due = round.close_due().is_some_and(|due| now > due);
        if round.closed || index != self.current || past_due {
            return AnswerOutcome::Late;
        }
        if option >= question.options.len() {
            return AnswerOutcome::InvalidOption;
        }
        if round.answers.contains_key(&user) {
            return AnswerOutcome::Duplicate;
        }
        round.answers.insert(
            user,
            Answer {
                option,
                answered_at: now,
            },
        );
        if !name.is_empty() {
            self.names.insert(user, name.to_string());
        }
        AnswerOutcome::Counted {
            correct: option == question.correct,
        }
    }

    /// Closes the current question and moves on.
    pub fn close_current(&mut self, _now: DateTime<Utc>) -> Progress {
        if let Some(round) = self.rounds.get_mut(self.current) {
            round.closed = true;
        }
        self.current = (self.current + 1).min(self.questions.len());
        match self.is_finished() {
            true => Progress::Finished,
            false => Progress::Next(self.current),
        }
    }

    /// Ends the quiz early: the current question closes, unsent ones are dropped.
    pub fn stop(&mut self, now: DateTime<Utc>) {
        if !self.is_finished() {
            self.close_current(now);
        }
        self.current = self.questions.len();
        self.stopped = true;
    }

    /// The results so far: participants ranked, and the most missed question.
    pub fn results(&self) -> QuizResults {
        let mut standings: BTreeMap<u64, Standing> = BTreeMap::new();
        for (question, round) in self.questions.iter().zip(&self.rounds) {
            for (user, answer) in &round.answers {
                let standing = standings.entry(*user).or_insert_with(|| Standing {
                    user_id: *user,
                    name: self.names.get(user).cloned().unwrap_or_default(),
                    correct: 0,
                    answered: 0,
                    time_ms: 0,
                });
                standing.answered += 1;
                standing.correct += usize::from(answer.option == question.correct);
                let taken = round.sent_at.map_or(0, |sent| {
                    (answer.answered_at - sent).num_milliseconds().max(0)
                });
                standing.time_ms += taken;
            }
        }
        let participants = standings.len();
        let mut ranking: Vec<Standing> = standings.into_values().collect();
        ranking.sort_by(|a, b| {
            b.correct
                .cmp(&a.correct)
                .then(a.time_ms.cmp(&b.time_ms))
                .then(a.user_id.cmp(&b.user_id))
        });
        let mut most_missed: Option<Missed> = None;
        for (index, (question, round)) in self.questions.iter().zip(&self.rounds).enumerate() {
            if round.sent_at.is_none() {
                continue;
            }
            let correct = round
                .answers
                .values()
                .filter(|a| a.option == question.correct)
                .count();
            let missed = participants.saturating_sub(correct);
            if missed > 0 && most_missed.as_ref().is_none_or(|m| missed > m.missed) {
                most_missed = Some(Missed {
                    index,
                    text: question.text.clone(),
                    answer: question.correct_option().to_string(),
                    section: question.section,
                    missed,
                    participants,
                });
            }
        }
        QuizResults {
            asked: self
                .rounds
                .iter()
                .filter(|round| round.sent_at.is_some())
                .count(),
            planned: self.questions.len(),
            stopped: self.stopped,
            ranking,
            most_missed,
        }
    }
}

/// What closing a question led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizStep {
    /// The next question, to send like the first.
    Next(QuizPoll),
    /// That was the last question: post these results.
    Finished(Reply),
    /// The key is not the running quiz's current question (the quiz was stopped, or
    /// the question was already closed): nothing changed.
    Stale,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::quiz::{QuestionKind, cite};

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + TimeDelta::seconds(seconds)
    }

    fn question(n: u8) -> Question {
        let section = SectionId::point(n, 1);
        Question {
            kind: QuestionKind::Curated,
            section,
            part: n,
            text: format!("问题{n}"),
            options: vec!["对".into(), "错".into(), "也错".into()],
            correct: 0,
            explanation: cite("说明。", section),
        }
    }

    fn session(questions: usize) -> QuizSession {
        let questions = (1..=questions as u8).map(question).collect();
        QuizSession::start(None, 7, -100, 1, questions, at(0)).unwrap()
    }

    #[test]
    fn one_quiz_per_chat() {
        let running = session(2);
        let again = QuizSession::start(Some(&running), 8, -100, 2, vec![question(1)], at(10));
        assert_eq!(again, Err(StartError::AlreadyRunning));
        assert_eq!(
            QuizSession::start(None, 8, -100, 2, vec![], at(10)),
            Err(StartError::NoQuestions)
        );
        // A session nobody touched for half an hour no longer blocks the chat.
        assert!(
            QuizSession::start(Some(&running), 8, -100, 2, vec![question(1)], at(31 * 60)).is_ok()
        );
        let mut finished = session(1);
        finished.close_current(at(5));
        assert!(QuizSession::start(Some(&finished), 8, -100, 2, vec![question(1)], at(10)).is_ok());
    }

    #[test]
    fn answers_count_once_and_not_late() {
        let mut quiz = session(2);
        let poll = quiz.unsent_poll(Some(30)).unwrap();
        assert_eq!(
            poll.key,
            QuestionKey {
                chat_id: -100,
                quiz_id: 7,
                index: 0
            }
        );
        assert_eq!(poll.spec.question, "（1/2）问题1");
        assert_eq!(
            quiz.answer("p1", 10, "甲", 0, at(1)),
            AnswerOutcome::UnknownPoll,
            "not sent yet"
        );
        assert!(quiz.question_sent("p1", at(0), Some(30)));
        assert_eq!(quiz.unsent_poll(Some(30)), None);
        assert_eq!(
            quiz.answer("p1", 10, "甲", 0, at(5)),
            AnswerOutcome::Counted { correct: true }
        );
        assert_eq!(
            quiz.answer("p1", 10, "甲", 1, at(6)),
            AnswerOutcome::Duplicate
        );
        assert_eq!(
            quiz.answer("p1", 11, "乙", 1, at(8)),
            AnswerOutcome::Counted { correct: false }
        );
        assert_eq!(
            quiz.answer("p1", 12, "丙", 9, at(8)),
            AnswerOutcome::InvalidOption
        );
        assert_eq!(
            quiz.answer("p1", 12, "丙", 0, at(32)),
            AnswerOutcome::Counted { correct: true },
            "within grace"
        );
        assert_eq!(
            quiz.answer("p1", 13, "丁", 0, at(34)),
            AnswerOutcome::Late,
            "past the grace"
        );
        assert_eq!(
            quiz.answer("other", 13, "丁", 0, at(10)),
            AnswerOutcome::UnknownPoll
        );
        assert_eq!(quiz.close_current(at(33)), Progress::Next(1));
        assert_eq!(
            quiz.answer("p1", 14, "戊", 0, at(33)),
            AnswerOutcome::Late,
            "closed"
        );
        assert!(quiz.question_sent("p2", at(40), None));
        assert_eq!(
            quiz.answer("p2", 10, "甲", 0, at(4000)),
            AnswerOutcome::Counted { correct: true },
            "no limit"
        );
        assert_eq!(quiz.close_current(at(4001)), Progress::Finished);
        assert!(quiz.is_finished());
        assert!(!quiz.question_sent("p3", at(4002), None));
        assert_eq!(quiz.close_current(at(4003)), Progress::Finished);
    }

    #[test]
    fn results_rank_by_correct_then_time() {
        let mut quiz = session(3);
        quiz.question_sent("p1", at(0), Some(30));
        quiz.answer("p1", 10, "甲", 0, at(10));
        quiz.answer("p1", 11, "乙", 0, at(4));
        quiz.answer("p1", 12, "丙", 1, at(2));
        quiz.close_current(at(33));
        quiz.question_sent("p2", at(40), Some(30));
        quiz.answer("p2", 10, "甲", 0, at(45));
        quiz.answer("p2", 11, "乙", 1, at(41));
        quiz.answer("p2", 12, "丙", 2, at(42));
        quiz.close_current(at(73));
        let results = quiz.results();
        assert_eq!(
            (results.asked, results.planned, results.stopped),
            (2, 3, false)
        );
        let order: Vec<(&str, usize, i64)> = results
            .ranking
            .iter()
            .map(|s| (s.name.as_str(), s.correct, s.time_ms))
            .collect();
        assert_eq!(
            order,
            vec![("甲", 2, 15_000), ("乙", 1, 5_000), ("丙", 0, 4_000)]
        );
        let missed = results.most_missed.unwrap();
        assert_eq!(
            (
                missed.index,
                missed.missed,
                missed.participants,
                missed.answer.as_str()
            ),
            (1, 2, 3, "对")
        );
        assert_eq!(missed.section, SectionId::point(2, 1));
    }

    #[test]
    fn stopping_keeps_what_was_answered() {
        let mut quiz = session(3);
        quiz.question_sent("p1", at(0), Some(30));
        quiz.answer("p1", 10, "甲", 0, at(3));
        quiz.stop(at(5));
        assert!(quiz.is_finished());
        assert_eq!(quiz.answer("p1", 11, "乙", 0, at(6)), AnswerOutcome::Late);
        let results = quiz.results();
        assert_eq!(
            (results.asked, results.stopped, results.ranking.len()),
            (1, true, 1)
        );
        assert_eq!(results.most_missed, None, "everyone answered correctly");
        assert_eq!(session(2).results().ranking, vec![]);
    }

    #[test]
    fn daily_answers_count_once_within_a_day() {
        let mut daily = DailyPoll {
            chat_id: 5,
            question: question(2),
            sent_at: at(0),
            answered: Default::default(),
        };
        assert_eq!(
            daily.answer(10, 0, at(60)),
            AnswerOutcome::Counted { correct: true }
        );
        assert_eq!(daily.answer(10, 1, at(61)), AnswerOutcome::Duplicate);
        assert_eq!(daily.answer(11, 7, at(61)), AnswerOutcome::InvalidOption);
        assert_eq!(
            daily.answer(11, 1, at(62)),
            AnswerOutcome::Counted { correct: false }
        );
        assert_eq!(daily.answer(12, 0, at(25 * 3600)), AnswerOutcome::Late);
    }

    #[test]
    fn sessions_round_trip_as_json() {
        let mut quiz = session(2);
        quiz.question_sent("p1", at(0), Some(30));
        quiz.answer("p1", u64::MAX, "甲", 1, at(3));
        let json = serde_json::to_string(&quiz).unwrap();
        assert_eq!(serde_json::from_str::<QuizSession>(&json).unwrap(), quiz);
    }
}
