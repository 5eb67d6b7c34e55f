//! What the bot knows of each chat — its title, whether the bot was removed from it (or
//! re-added), where a group migrated to — and the migrations themselves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Collection, Store, StoreResult, decode, encode, key_i64, trees};
use crate::quiz::QuizSession;
use crate::record::{CheckIn, QuizAnswer};
use crate::schedule::Subscription;
use crate::store::PollTarget;

/// Whether the bot can still write to a chat, and what the chat is called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatStatus {
    /// The chat's id.
    pub chat_id: i64,
    /// `false` once the bot was kicked, blocked or the chat vanished.
    pub active: bool,
    /// Why the chat is inactive (Telegram's description), if it is.
    pub reason: Option<String>,
    /// The supergroup this group migrated to, if it did.
    pub migrated_to: Option<i64>,
    /// When this record last changed.
    pub changed_at: DateTime<Utc>,
    /// The group's (or channel's) title as Telegram last showed it; `None` for private
    /// chats and chats not heard from since titles were kept. Kept across status changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Store {
    /// Records that the bot can no longer write to `chat_id`.
    pub fn mark_chat_inactive(
        &self,
        chat_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.set_chat_status(ChatStatus {
            chat_id,
            active: false,
            reason: Some(reason.to_string()),
            migrated_to: None,
            changed_at: now,
            title: None,
        })
    }

    /// Records that the bot is (again) a member of `chat_id`.
    pub fn mark_chat_active(&self, chat_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_chat_status(ChatStatus {
            chat_id,
            active: true,
            reason: None,
            migrated_to: None,
            changed_at: now,
            title: None,
        })
    }

    /// Records that group `old` became supergroup `new`.
    pub fn mark_chat_migrated(&self, old: i64, new: i64, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_chat_status(ChatStatus {
            chat_id: old,
            active: false,
            reason: Some(format!("migrated to supergroup {new}")),
            migrated_to: Some(new),
            changed_at: now,
            title: None,
        })
    }

    /// Records a chat's title as Telegram shows it now (from an update or getChat).
    /// Writes only when it changed, so calling it on every message costs a read. A blank
    /// title is ignored.
    pub fn remember_chat_title(
        &self,
        chat_id: i64,
        title: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let title = title.trim();
        if title.is_empty() {
            return Ok(());
        }
        let current = self.chat_status(chat_id)?;
        if current.as_ref().and_then(|s| s.title.as_deref()) == Some(title) {
            return Ok(());
        }
        let status = match current {
            Some(status) => ChatStatus {
                title: Some(title.to_string()),
                ..status
            },
            // Heard from: the bot is there.
            None => ChatStatus {
                chat_id,
                active: true,
                reason: None,
                migrated_to: None,
                changed_at: now,
                title: Some(title.to_string()),
            },
        };
        self.put_json(trees::CHATS, &key_i64(chat_id), &status)
    }

    /// The chat's title, if it is known.
    pub fn chat_title(&self, chat_id: i64) -> StoreResult<Option<String>> {
        Ok(self.chat_status(chat_id)?.and_then(|status| status.title))
    }

    /// Writes `status`, keeping the title already known.
    fn set_chat_status(&self, status: ChatStatus) -> StoreResult<()> {
        self.update_json::<ChatStatus, _>(trees::CHATS, &key_i64(status.chat_id), |existing| {
            Some(ChatStatus {
                title: existing.and_then(|e| e.title),
                ..status.clone()
            })
        })?;
        Ok(())
    }

    /// Moves everything a group had to the supergroup it became: its subscription (plan
    /// position, time, zone) and ledger, scores, daily-question setting, running quiz, and
    /// the polls that point at them, so answers to a question sent before the move count
    /// in the supergroup and the quiz goes on there.
    ///
    /// Walks every [`Collection`] twice: first each entry of the old chat is copied to
    /// the new one (where the new chat has none: what it recorded itself is kept), then
    /// the old entries are deleted. A crash in between leaves copies, never a loss, and
    /// the migration completes when it is reported again. Returns the new chat's
    /// subscription.
    pub fn migrate(&self, old: i64, new: i64) -> StoreResult<Option<Subscription>> {
        // Every tree's move: a backup has the chat under one id, never both or neither.
        let _operation = self.operation();
        if old == new {
            return self.subscription(new);
        }
        for collection in Collection::ALL {
            self.copy_chat(collection, old, new)?;
        }
        for collection in Collection::ALL {
            self.remove_chat(collection, old)?;
        }
        tracing::info!(chat_id = old, new_chat_id = new, "chat migrated");
        self.subscription(new)
    }

    /// Copies what `collection` holds for chat `old` to chat `new`.
    fn copy_chat(&self, collection: Collection, old: i64, new: i64) -> StoreResult<()> {
        match collection {
            // About no chat (a personal review belongs to its user, whose private chat
            // never migrates); the old chat's status records the move itself; the due
            // index follows the subscriptions.
            Collection::Meta
            | Collection::Sections
            | Collection::Imported
            | Collection::ReviewDecks
            | Collection::Reviewers
            | Collection::ReviewPolls
            | Collection::ReviewLedger
            | Collection::Chats
            | Collection::DueIndex => Ok(()),
            Collection::Subscriptions => self.copy_subscription(old, new),
            Collection::ChatTexts => self.copy_chat_text(old, new),
            // Merged, like the check-ins they follow: a member's days in either chat.
            Collection::MemberDays => {
                for (user, days) in self.member_days(old)? {
                    self.add_member_days(new, user, &days)?;
                }
                Ok(())
            }
            // Added up, like the answers they follow.
            Collection::QuizTallies => {
                for tally in self.quiz_tallies(old)? {
                    self.add_to_tally(new, &tally)?;
                }
                Ok(())
            }
            Collection::Ledger
            | Collection::Scores
            | Collection::QuizSettings
            | Collection::WeeklyTests
            | Collection::WeeklyLedger
            | Collection::GroupMisses
            | Collection::CheckInCounts
            | Collection::Members
            | Collection::ReportSettings
            | Collection::ReportLedger => self.copy_keyed(collection.tree(), old, new),
            // These also name their chat inside each record.
            Collection::CheckIns => {
                self.copy_keyed_with::<CheckIn>(trees::CHECK_INS, old, new, |c| c.chat_id = new)
            }
            Collection::QuizAnswers => {
                self.copy_keyed_with::<QuizAnswer>(trees::QUIZ_ANSWERS, old, new, |a| {
                    a.chat_id = new
                })
            }
            Collection::Quizzes => {
                let Some(mut session) = self.quiz_session(old)? else {
                    return Ok(());
                };
                session.chat_id = new;
                self.update_json::<QuizSession, _>(trees::QUIZZES, &key_i64(new), |existing| {
                    Some(existing.unwrap_or_else(|| session.clone()))
                })?;
                Ok(())
            }
            Collection::Polls => {
                // Rewritten in place: the key is Telegram's poll id, the value names the chat.
                for (key, _) in self.scan_prefix(trees::POLLS, &[])? {
                    self.update_json::<PollTarget, _>(trees::POLLS, &key, |target| {
                        target.map(|target| match target {
                            PollTarget::Quiz(mut question) if question.chat_id == old => {
                                question.chat_id = new;
                                PollTarget::Quiz(question)
                            }
                            PollTarget::Daily(mut daily) if daily.chat_id == old => {
                                daily.chat_id = new;
                                PollTarget::Daily(daily)
                            }
                            other => other,
                        })
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Deletes what `collection` holds for chat `old` (once it was copied).
    fn remove_chat(&self, collection: Collection, old: i64) -> StoreResult<()> {
        match collection {
            Collection::Meta
            | Collection::Sections
            | Collection::Imported
            | Collection::ReviewDecks
            | Collection::Reviewers
            | Collection::ReviewPolls
            | Collection::ReviewLedger
            | Collection::Chats
            | Collection::DueIndex
            | Collection::Polls => Ok(()),
            Collection::Subscriptions => self.remove_subscription(old),
            Collection::Ledger
            | Collection::Scores
            | Collection::QuizSettings
            | Collection::Quizzes
            | Collection::ChatTexts
            | Collection::WeeklyTests
            | Collection::WeeklyLedger
            | Collection::GroupMisses
            | Collection::CheckIns
            | Collection::CheckInCounts
            | Collection::Members
            | Collection::MemberDays
            | Collection::QuizAnswers
            | Collection::QuizTallies
            | Collection::ReportSettings
            | Collection::ReportLedger => {
                for (key, _) in self.scan_prefix(collection.tree(), &key_i64(old))? {
                    self.backend().remove(collection.tree(), &key)?;
                }
                Ok(())
            }
        }
    }

    /// Copies every entry of `tree` whose key starts with chat `old` to the same key under
    /// chat `new`, atomically and only where `new` has no entry.
    fn copy_keyed(&self, tree: &'static str, old: i64, new: i64) -> StoreResult<()> {
        self.copy_keyed_as(tree, old, new, |value| Ok(value.to_vec()))
    }

    /// [`Store::copy_keyed`] for records that also name their chat: `set_chat` moves each.
    fn copy_keyed_with<T>(
        &self,
        tree: &'static str,
        old: i64,
        new: i64,
        set_chat: impl Fn(&mut T),
    ) -> StoreResult<()>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        self.copy_keyed_as(tree, old, new, |value| {
            let mut record: T = decode(tree, value)?;
            set_chat(&mut record);
            Ok(encode(&record))
        })
    }

    /// [`Store::copy_keyed`] writing `moved(value)` under the new key.
    fn copy_keyed_as(
        &self,
        tree: &'static str,
        old: i64,
        new: i64,
        moved: impl Fn(&[u8]) -> StoreResult<Vec<u8>>,
    ) -> StoreResult<()> {
        for (key, value) in self.scan_prefix(tree, &key_i64(old))? {
            let value = moved(&value)?;
            let mut new_key = key_i64(new).to_vec();
            new_key.extend_from_slice(&key[8..]);
            self.backend().update(tree, &new_key, &mut |current| {
                Some(current.unwrap_or(&value).to_vec())
            })?;
        }
        Ok(())
    }

    /// The recorded status of a chat; `None` for chats that never changed status and
    /// whose title was never seen.
    pub fn chat_status(&self, chat_id: i64) -> StoreResult<Option<ChatStatus>> {
        self.get_json(trees::CHATS, &key_i64(chat_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_moves_every_collection_keyed_by_the_chat() {
        use chrono::{NaiveDate, NaiveTime, TimeZone};

        use crate::quiz::session::DailyPoll;
        use crate::quiz::{Question, QuestionKey, QuestionKind, cite};
        use crate::schedule::Subscriber;
        use crate::text::SectionId;

        let (old, new) = (-5_i64, -1005_i64);
        for (name, store, _dir) in crate::store::contract::stores() {
            let now = Utc.with_ymd_and_hms(2026, 5, 1, 4, 0, 0).unwrap();
            let day = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
            let subscription = Subscription::new(
                old,
                "xzsj",
                NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                chrono_tz::Asia::Shanghai,
                Subscriber {
                    user_id: 7,
                    name: "王".into(),
                },
                now,
            );
            store.subscribe(subscription, None, now).unwrap();
            store
                .mark_sent(old, day, SectionId::OPENING, &[1], now)
                .unwrap();
            store
                .update_score(old, 7, |s| s.record("q", "王", 1, true, day))
                .unwrap();
            store.set_daily_quiz_setting(old, true).unwrap();
            let question = Question {
                kind: QuestionKind::Curated,
                section: SectionId::point(2, 2),
                part: 2,
                text: "问".into(),
                options: vec!["对".into(), "错".into()],
                correct: 0,
                explanation: cite("", SectionId::point(2, 2)),
            };
            let session = QuizSession::start(None, 3, old, 7, vec![question.clone()], now).unwrap();
            store
                .update_quiz_session(old, |slot| *slot = Some(session.clone()))
                .unwrap();
            let key = QuestionKey {
                chat_id: old,
                quiz_id: 3,
                index: 0,
            };
            store
                .put_poll_target("quiz-poll", &PollTarget::Quiz(key))
                .unwrap();
            let daily = DailyPoll {
                chat_id: old,
                question,
                sent_at: now,
                answered: Default::default(),
            };
            store
                .put_poll_target("daily-poll", &PollTarget::Daily(daily))
                .unwrap();
            let position = store.subscription(old).unwrap().unwrap().position;
            let choice = crate::store::ChatText {
                chat_id: old,
                document: "report".into(),
                left_at: [("xzsj".to_string(), SectionId::point(2, 1))].into(),
            };
            store.set_chat_text(&choice, position).unwrap();
            store.mark_chat_migrated(old, new, now).unwrap();

            store.migrate(old, new).unwrap();
            store.migrate(old, new).unwrap(); // reported again: nothing changes

            let moved = store.subscription(new).unwrap().expect("subscription");
            assert_eq!((moved.chat_id, moved.position), (new, 1), "{name}");
            assert_eq!(store.ledger(new).unwrap().len(), 1, "{name}");
            assert_eq!(
                store.chat_text(new).unwrap(),
                Some(crate::store::ChatText {
                    chat_id: new,
                    ..choice.clone()
                }),
                "{name}: the group keeps its choice of text"
            );
            assert_eq!(moved.document, "report", "{name}");
            assert_eq!(store.chat_scores(new).unwrap().len(), 1, "{name}");
            assert_eq!(store.daily_quiz_setting(new).unwrap(), Some(true), "{name}");
            assert_eq!(
                store.quiz_session(new).unwrap().unwrap().chat_id,
                new,
                "{name}"
            );
            assert_eq!(
                store.poll_target("quiz-poll").unwrap(),
                Some(PollTarget::Quiz(QuestionKey {
                    chat_id: new,
                    ..key
                })),
                "{name}"
            );
            assert!(
                matches!(store.poll_target("daily-poll").unwrap(), Some(PollTarget::Daily(d)) if d.chat_id == new),
                "{name}"
            );
            // Nothing is left under the old id but its status, which records the move.
            for collection in Collection::ALL {
                let left = store.scan_prefix(collection.tree(), &key_i64(old)).unwrap();
                match collection {
                    Collection::Chats => assert_eq!(left.len(), 1, "{name}"),
                    _ => assert!(left.is_empty(), "{name}: {collection:?} kept {left:?}"),
                }
            }
            assert_eq!(store.due(moved.next_due, 10).unwrap().len(), 1, "{name}");
        }
    }

    #[test]
    fn chat_status_round_trips() {
        let store = Store::in_memory();
        let now = Utc::now();
        assert_eq!(store.chat_status(-5).unwrap(), None);
        store
            .mark_chat_inactive(-5, "Forbidden: bot was kicked from the group chat", now)
            .unwrap();
        assert!(!store.chat_status(-5).unwrap().unwrap().active);
        store.mark_chat_active(-5, now).unwrap();
        assert!(store.chat_status(-5).unwrap().unwrap().active);
        store.mark_chat_migrated(-5, -1005, now).unwrap();
        assert_eq!(
            store.chat_status(-5).unwrap().unwrap().migrated_to,
            Some(-1005)
        );
    }

    #[test]
    fn titles_are_kept_across_status_changes() {
        let store = Store::in_memory();
        let now = Utc::now();
        assert_eq!(store.chat_title(-5).unwrap(), None);
        store.remember_chat_title(-5, "学习小组", now).unwrap();
        assert!(store.chat_status(-5).unwrap().unwrap().active);
        store.remember_chat_title(-5, "  ", now).unwrap();
        assert_eq!(store.chat_title(-5).unwrap().as_deref(), Some("学习小组"));
        store.mark_chat_inactive(-5, "kicked", now).unwrap();
        assert_eq!(store.chat_title(-5).unwrap().as_deref(), Some("学习小组"));
        assert!(!store.chat_status(-5).unwrap().unwrap().active);
        store.remember_chat_title(-5, "学习二组", now).unwrap();
        let status = store.chat_status(-5).unwrap().unwrap();
        assert_eq!(
            (status.title.as_deref(), status.active),
            (Some("学习二组"), false)
        );
    }
}
