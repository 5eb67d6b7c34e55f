//! Quiz collections: the running quiz of each chat, what each poll id stands for,
//! everyone's scores, and each chat's daily-question setting.
//!
//! Answers arrive concurrently (one update per voter), so every change goes through
//! [`Store::update_json`], an atomic read-modify-write per key.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, StoreResult, key_i64, trees};
use crate::quiz::session::DailyPoll;
use crate::quiz::{QuestionKey, QuizSession, Score};

/// What a poll id stands for. Poll answers carry no chat id, so this is how an answer
/// finds its quiz.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PollTarget {
    /// A question of a running quiz.
    Quiz(QuestionKey),
    /// A daily question.
    Daily(DailyPoll),
}

/// The score key: the chat id (as [`key_i64`]) then the user id, big-endian.
fn score_key(chat_id: i64, user_id: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&key_i64(chat_id));
    key[8..].copy_from_slice(&user_id.to_be_bytes());
    key
}

/// Decodes the user id of a [`score_key`].
fn score_user(key: &[u8]) -> Option<u64> {
    key.get(8..16)?.try_into().ok().map(u64::from_be_bytes)
}

impl Store {
    /// Runs `f` on the stored value of `key` atomically: `f` may change, set or clear the
    /// slot, and its result is returned. `f` may run more than once under contention.
    fn update_slot<T, R>(
        &self,
        tree: &'static str,
        key: &[u8],
        mut f: impl FnMut(&mut Option<T>) -> R,
    ) -> StoreResult<R>
    where
        T: Serialize + serde::de::DeserializeOwned,
    {
        let mut result = None;
        self.update_json(tree, key, |old: Option<T>| {
            let mut slot = old;
            result = Some(f(&mut slot));
            slot
        })?;
        result.ok_or_else(|| StoreError::Database(format!("update of {tree} did not run")))
    }

    /// The chat's stored quiz session, if any.
    pub fn quiz_session(&self, chat_id: i64) -> StoreResult<Option<QuizSession>> {
        self.get_json(trees::QUIZZES, &key_i64(chat_id))
    }

    /// Atomically reads and changes the chat's quiz session (set the slot to `None` to
    /// remove it) and returns what `f` returns. `f` must not have side effects: it may
    /// run more than once.
    pub fn update_quiz_session<R>(
        &self,
        chat_id: i64,
        f: impl FnMut(&mut Option<QuizSession>) -> R,
    ) -> StoreResult<R> {
        self.update_slot(trees::QUIZZES, &key_i64(chat_id), f)
    }

    /// Every stored quiz session (to resume them after a restart).
    pub fn quiz_sessions(&self) -> StoreResult<Vec<QuizSession>> {
        Ok(self
            .scan_json(trees::QUIZZES, &[])?
            .into_iter()
            .map(|(_, session)| session)
            .collect())
    }

    /// What `poll_id` stands for, if it is one of ours.
    pub fn poll_target(&self, poll_id: &str) -> StoreResult<Option<PollTarget>> {
        self.get_json(trees::POLLS, poll_id.as_bytes())
    }

    /// Remembers what `poll_id` stands for.
    pub fn put_poll_target(&self, poll_id: &str, target: &PollTarget) -> StoreResult<()> {
        self.put_json(trees::POLLS, poll_id.as_bytes(), target)
    }

    /// Forgets `poll_id`.
    pub fn remove_poll_target(&self, poll_id: &str) -> StoreResult<()> {
        self.backend().remove(trees::POLLS, poll_id.as_bytes())
    }

    /// Atomically reads and changes what `poll_id` stands for (for daily questions,
    /// whose answers are kept with the poll).
    pub fn update_poll_target<R>(
        &self,
        poll_id: &str,
        f: impl FnMut(&mut Option<PollTarget>) -> R,
    ) -> StoreResult<R> {
        self.update_slot(trees::POLLS, poll_id.as_bytes(), f)
    }

    /// A user's score in a chat.
    pub fn score(&self, chat_id: i64, user_id: u64) -> StoreResult<Option<Score>> {
        self.get_json(trees::SCORES, &score_key(chat_id, user_id))
    }

    /// Atomically changes a user's score in a chat (starting from an empty score) and
    /// returns what `f` returns. `f` may run more than once.
    pub fn update_score<R>(
        &self,
        chat_id: i64,
        user_id: u64,
        mut f: impl FnMut(&mut Score) -> R,
    ) -> StoreResult<R> {
        self.update_slot(
            trees::SCORES,
            &score_key(chat_id, user_id),
            |slot: &mut Option<Score>| {
                let score = slot.get_or_insert_with(Score::default);
                f(score)
            },
        )
    }

    /// Every score in a chat, by user id.
    pub fn chat_scores(&self, chat_id: i64) -> StoreResult<Vec<(u64, Score)>> {
        self.scan_json::<Score>(trees::SCORES, &key_i64(chat_id))?
            .into_iter()
            .map(|(key, score)| {
                let user = score_user(&key).ok_or_else(|| StoreError::Corrupt {
                    tree: trees::SCORES,
                    reason: "short key".into(),
                })?;
                Ok((user, score))
            })
            .collect()
    }

    /// The chat's own daily-question setting; `None` means the configured default.
    pub fn daily_quiz_setting(&self, chat_id: i64) -> StoreResult<Option<bool>> {
        self.get_json(trees::QUIZ_SETTINGS, &key_i64(chat_id))
    }

    /// Sets the chat's daily-question setting.
    pub fn set_daily_quiz_setting(&self, chat_id: i64, on: bool) -> StoreResult<()> {
        self.put_json(trees::QUIZ_SETTINGS, &key_i64(chat_id), &on)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::quiz::{Question, QuestionKind, cite};
    use crate::store::contract::stores;
    use crate::text::SectionId;

    fn session(chat_id: i64) -> QuizSession {
        let section = SectionId::point(2, 2);
        let question = Question {
            kind: QuestionKind::Curated,
            section,
            part: 2,
            text: "问".into(),
            options: vec!["对".into(), "错".into()],
            correct: 0,
            explanation: cite("", section),
        };
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap();
        QuizSession::start(None, 1, chat_id, 9, vec![question], now).unwrap()
    }

    #[test]
    fn sessions_polls_and_settings() {
        for (_, store, _dir) in stores() {
            assert_eq!(store.quiz_session(-5).unwrap(), None);
            let started = store
                .update_quiz_session(-5, |slot| match slot {
                    Some(_) => false,
                    None => {
                        *slot = Some(session(-5));
                        true
                    }
                })
                .unwrap();
            assert!(started);
            store
                .update_quiz_session(7, |slot| *slot = Some(session(7)))
                .unwrap();
            assert_eq!(store.quiz_session(-5).unwrap(), Some(session(-5)));
            assert_eq!(store.quiz_sessions().unwrap().len(), 2);
            store.update_quiz_session(-5, |slot| *slot = None).unwrap();
            assert_eq!(store.quiz_session(-5).unwrap(), None);

            let key = QuestionKey {
                chat_id: 7,
                quiz_id: 1,
                index: 0,
            };
            store.put_poll_target("p1", &PollTarget::Quiz(key)).unwrap();
            assert_eq!(
                store.poll_target("p1").unwrap(),
                Some(PollTarget::Quiz(key))
            );
            store.remove_poll_target("p1").unwrap();
            assert_eq!(store.poll_target("p1").unwrap(), None);

            assert_eq!(store.daily_quiz_setting(7).unwrap(), None);
            store.set_daily_quiz_setting(7, true).unwrap();
            assert_eq!(store.daily_quiz_setting(7).unwrap(), Some(true));
        }
    }

    #[test]
    fn scores_are_per_chat_and_atomic() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        for (_, store, _dir) in stores() {
            std::thread::scope(|scope| {
                for user in 0..4_u64 {
                    let store = store.clone();
                    scope.spawn(move || {
                        for i in 0..25 {
                            // Every user records into the same chat; user 0 also into a second chat.
                            let key = format!("q:{i}");
                            store
                                .update_score(-1, user, |s| {
                                    s.record(&key, "名", 1, i % 2 == 0, date)
                                })
                                .unwrap();
                            store
                                .update_score(-1, 0, |s| {
                                    s.record(&format!("{user}:{i}"), "零", 2, true, date)
                                })
                                .unwrap();
                        }
                    });
                }
            });
            store
                .update_score(-2, 0, |s| s.record("x", "别处", 1, true, date))
                .unwrap();
            let scores = store.chat_scores(-1).unwrap();
            assert_eq!(
                scores.iter().map(|(user, _)| *user).collect::<Vec<_>>(),
                vec![0, 1, 2, 3]
            );
            let zero = store.score(-1, 0).unwrap().unwrap();
            assert_eq!(
                zero.total.answered,
                25 + 100,
                "no concurrent update was lost"
            );
            assert_eq!(store.score(-1, 3).unwrap().unwrap().total.correct, 13);
            assert_eq!(store.chat_scores(-2).unwrap().len(), 1);
        }
    }
}
