//! The weekly group test (每周一测) from the app's side: `/weeklytest`, the tests the
//! delivery pass starts (as the group's quiz, or all questions at once), and the alarm
//! for them and for the review reminders ([`WeeklyTests::next_instant`]).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::app::{App, AppError, ChatContext, ChatKind};
use crate::command::{BadArgument, Weekly};
use crate::quiz::QuizSession;
use crate::quiz::{PollSpec, Question};
use crate::reply::Reply;
use crate::review::CardId;
use crate::review::messages::{self};
use crate::review::weekly::{WeeklyTest, day_in_week, pick_weekly};
use crate::schedule::{DeliveryState, Due, decide, format_time, local_date, send_instant};
use crate::store::StoreResult;

/// How a weekly test's questions go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// One at a time, each closed by its timer and followed by the next, then the
    /// results: the test runs as the group's quiz. For the running bot, which stays to
    /// close each question.
    OneByOne,
    /// All at once, right after the announcement, each a quiz poll of its own with no
    /// time limit whose answers count for a day
    /// ([`crate::quiz::session::DAILY_ANSWER_WINDOW`], like the daily question's). For
    /// `studybot tick`, which ends after its pass: no process stays to close one
    /// question and send the next.
    AllAtOnce,
}

/// A weekly test that starts now.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyStart {
    /// The group.
    pub chat_id: i64,
    /// The forum topic it goes to.
    pub topic: Option<i32>,
    /// The ISO (year, week) of its ledger entry.
    pub week: (i32, u32),
    /// The announcement. With [`Pacing::OneByOne`] the questions follow from
    /// [`Quiz::next_poll`](crate::app::quiz::Quiz::next_poll); with [`Pacing::AllAtOnce`] they are `polls`.
    pub announcement: Reply,
    /// The questions to send right after the announcement, in order, each reported with
    /// [`Quiz::daily_poll_sent`](crate::app::quiz::Quiz::daily_poll_sent) (empty with [`Pacing::OneByOne`]).
    pub polls: Vec<WeeklyPoll>,
}

/// One question of a weekly test sent all at once.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyPoll {
    /// The question, its options in the order sent.
    pub question: Question,
    /// The poll to send (numbered, no time limit).
    pub spec: PollSpec,
}

/// The weekly group test: the command, the tests the delivery pass starts, and the
/// alarm for them and for review reminders.
pub struct WeeklyTests<'a> {
    app: &'a App,
}

impl App {
    /// The weekly group test's side of the app.
    pub fn weekly(&self) -> WeeklyTests<'_> {
        WeeklyTests { app: self }
    }
}

impl WeeklyTests<'_> {
    /// `/weeklytest Sun 20:00`, `/weeklytest off`, `/weeklytest` (admins change it, in groups).
    pub fn command(
        &self,
        chat: &ChatContext,
        setting: Option<Result<Weekly, BadArgument<()>>>,
    ) -> Reply {
        if chat.kind != ChatKind::Group {
            return messages::weekly_groups_only();
        }
        let describe = |test: &WeeklyTest| {
            format!(
                "每{} {}（{}）",
                crate::calendar::weekday_name(test.weekday()),
                format_time(test.time),
                test.zone
            )
        };
        let Some(setting) = setting else {
            return match self.app.store().weekly_test(chat.chat_id) {
                Ok(test) => messages::weekly_usage(test.as_ref().map(describe).as_deref()),
                Err(error) => AppError::from(error).reply(chat.user_id as i64),
            };
        };
        if !chat.is_admin {
            return messages::weekly_admins_only();
        }
        let result = match setting {
            Err(bad) => return messages::weekly_bad(&bad.text),
            Ok(Weekly::Off) => self
                .app
                .store()
                .set_weekly_test(chat.chat_id, None)
                .map(|()| messages::weekly_off()),
            Ok(Weekly::At(weekday, time)) => {
                let zone = match self.app.store().subscription(chat.chat_id) {
                    Ok(subscription) => crate::calendar::zone_or_default(
                        subscription.map(|s| s.timezone),
                        self.app.config().timezone,
                    ),
                    Err(error) => return AppError::from(error).reply(chat.user_id as i64),
                };
                let test = WeeklyTest {
                    weekday: weekday.num_days_from_monday() as u8,
                    time,
                    zone: zone.name().to_string(),
                    topic: chat.topic,
                };
                self.app
                    .store()
                    .set_weekly_test(chat.chat_id, Some(&test))
                    .map(|()| messages::weekly_set(&describe(&test)))
            }
        };
        match result.and_then(|reply| self.app.store().flush().map(|()| reply)) {
            Ok(reply) => {
                self.app.deliveries_changed();
                reply
            }
            Err(error) => AppError::from(error).reply(chat.user_id as i64),
        }
    }

    /// The next instant strictly after `now` at which a review reminder or a weekly test
    /// is scheduled: the delivery task's alarm for them (they have no due index; each
    /// pass looks at all of them). One already in its window and not sent (no cards were
    /// due yet, a quiz was running, a send failed) is looked at again by the passes that
    /// follow, at the latest at the task's safety wake-up.
    pub fn next_instant(&self, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>> {
        let mut next: Option<DateTime<Utc>> = None;
        let mut consider = |at: DateTime<Utc>| {
            if at > now {
                next = Some(next.map_or(at, |next| next.min(at)));
            }
        };
        for (_, reviewer) in self.app.store().reviewers_with_reminders()? {
            let Some(at) = reviewer.remind_at else {
                continue;
            };
            let zone = self.app.review_zone(Some(&reviewer));
            let today = local_date(now, zone);
            consider(send_instant(today, at, zone));
            consider(send_instant(today + TimeDelta::days(1), at, zone));
        }
        for (_, test) in self.app.store().weekly_tests()? {
            let zone = self.zone_of(&test);
            consider(test.this_week(now, zone).0);
            consider(test.this_week(now + TimeDelta::days(7), zone).0);
        }
        Ok(next)
    }

    /// The weekly tests due at `now`, on the text each group studies: each is marked
    /// "intended" in the weekly ledger and, paced [`Pacing::OneByOne`], started as the
    /// group's quiz (scored like any quiz) unless a quiz is running there (then it is
    /// tried again on the next pass, within the grace window); paced
    /// [`Pacing::AllAtOnce`], its questions are returned to send at once.
    pub fn due(
        &self,
        now: DateTime<Utc>,
        pacing: Pacing,
        rng: &mut impl rand::Rng,
    ) -> StoreResult<Vec<WeeklyStart>> {
        let grace = self.app.config().grace;
        let mut starts = Vec::new();
        for (chat_id, test) in self.app.store().weekly_tests()? {
            let zone = self.zone_of(&test);
            let (scheduled, week) = test.this_week(now, zone);
            let state = self.app.store().weekly_ledger(chat_id, week)?;
            if decide(scheduled, state.as_ref(), now, grace) != Due::Send {
                continue;
            }
            // The sections the group received this week, Monday up to today.
            let today = local_date(now, zone);
            let mut sections = Vec::new();
            let mut date = day_in_week(today, chrono::Weekday::Mon);
            while date <= today {
                if let Some(entry) = self.app.store().ledger_entry(chat_id, date)?
                    && matches!(entry.state, DeliveryState::Sent { .. })
                {
                    sections.push(entry.section);
                }
                date += chrono::TimeDelta::days(1);
            }
            let missed: Vec<CardId> = self
                .app
                .store()
                .group_misses(chat_id)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let document = self.app.chat_document(chat_id, None);
            let bank = self.app.quiz_bank(&document, rng);
            let questions = pick_weekly(bank.questions(), &document.id, &sections, &missed, rng);
            if questions.is_empty() {
                tracing::warn!(chat_id, text = %document.id, "no questions for the weekly test");
                continue;
            }
            let polls = match pacing {
                Pacing::OneByOne => {
                    let quiz_id: u64 = rng.random();
                    let started = self.app.store().update_quiz_session(chat_id, |slot| {
                        let mut session = QuizSession::start(
                            slot.as_ref(),
                            quiz_id,
                            chat_id,
                            0,
                            questions.clone(),
                            now,
                        )
                        .ok()?;
                        session.topic = test.topic;
                        *slot = Some(session);
                        Some(())
                    })?;
                    if started.is_none() {
                        tracing::info!(chat_id, "a quiz is running; the weekly test waits");
                        continue;
                    }
                    Vec::new()
                }
                Pacing::AllAtOnce => {
                    let total = questions.len();
                    questions
                        .iter()
                        .enumerate()
                        .map(|(index, question)| WeeklyPoll {
                            question: question.clone(),
                            spec: PollSpec::new(question, Some((index + 1, total)), None),
                        })
                        .collect()
                }
            };
            self.app
                .store()
                .set_weekly_ledger(chat_id, week, &DeliveryState::Intended)?;
            self.app.store().flush()?;
            tracing::info!(
                chat_id,
                text = %document.id,
                questions = questions.len(),
                sections = sections.len(),
                ?pacing,
                "weekly test started"
            );
            let announcement = match pacing {
                Pacing::OneByOne => messages::weekly_announcement(questions.len()),
                Pacing::AllAtOnce => messages::weekly_announcement_all_at_once(questions.len()),
            };
            starts.push(WeeklyStart {
                chat_id,
                topic: test.topic,
                week,
                announcement,
                polls,
            });
        }
        Ok(starts)
    }

    /// The zone a weekly test runs in: the one it was set in (the chat's then), else the
    /// configured default ([`crate::calendar::zone_or_default`]).
    fn zone_of(&self, test: &WeeklyTest) -> Tz {
        crate::calendar::zone_or_default(test.zone.parse().ok(), self.app.config().timezone)
    }

    /// The weekly test's announcement went out: the week is done.
    pub fn sent(&self, chat_id: i64, week: (i32, u32), message_ids: &[i32]) -> StoreResult<()> {
        let state = DeliveryState::Sent {
            message_ids: message_ids.to_vec(),
        };
        self.app.at_current_id(chat_id, |chat_id| {
            self.app.store().set_weekly_ledger(chat_id, week, &state)?;
            self.app.store().flush()
        })
    }
}
