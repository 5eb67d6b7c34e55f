//! The study record from the app's side. This file: the ✅ 已学习 check-in (the button
//! under an excerpt or a section, and its press) and the quiz answers the record keeps;
//! [`members`]: `/join`, `/leave`, `/forgetme`, `/roster`, `/catchup` and chat titles;
//! [`report`]: `/report` and the weekly reports the delivery pass posts; [`export`]:
//! `/export` and `studybot record`, writing the workbook or CSV files. No network here;
//! the transports send what these return.

pub mod export;
pub mod members;
pub mod report;

pub use export::{RecordOutput, RecordWritten, csv_paths};
pub use members::CATCH_UP_BATCH;
pub use report::DueReport;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::app::{App, ChatContext, ChatKind};
use crate::plan::ReadingPlan;
use crate::record::{
    CATCH_UP_DAYS, CheckIn, CheckInButton, QuizAnswer, already_toast, recorded_toast, with_check_in,
};
use crate::reply::Reply;
use crate::schedule::local_date;
use crate::store::{CheckInResult, PollTarget, StoreError};
use crate::text::{Resolution, SectionId, SectionRef};

#[derive(Debug, Clone)]
pub struct Presser {
    /// The chat of the message the button is on.
    pub message_chat: i64,
    /// The presser's user id.
    pub user_id: u64,
    /// The presser's name as Telegram shows it.
    pub name: String,
}

/// The study record: check-ins, the roster and members, the weekly report and the export.
pub struct Record<'a> {
    app: &'a App,
}

impl App {
    /// The study record's side of the app.
    pub fn record(&self) -> Record<'_> {
        Record { app: self }
    }
}

impl Record<'_> {
    /// A ✅ press: checks the button against what the chat really had that day, records
    /// the check-in once (durably) and returns the toast. A forged, stale or misplaced
    /// button records nothing and says so.
    pub fn check_in(
        &self,
        button: &CheckInButton,
        presser: &Presser,
        now: DateTime<Utc>,
    ) -> String {
        match self.app.try_check_in(button, presser, now) {
            Ok(toast) => toast,
            Err(CheckInRefusal::Store(error)) => {
                tracing::error!(chat_id = button.chat_id, %error, "cannot record a check-in");
                "暂时无法记录，请稍后再按一次。".into()
            }
            Err(CheckInRefusal::NotHere) => {
                "这个按钮不属于这里，没有记录。请在本群的每日学习下点 ✅ 已学习。".into()
            }
            Err(CheckInRefusal::TooOld) => {
                format!("这一节已超过 {CATCH_UP_DAYS} 天，没有记录。发送 /today 学习今天的内容。")
            }
            Err(CheckInRefusal::Stale) => {
                "这个按钮已失效，没有记录。发送 /today 获取今天的内容。".into()
            }
        }
    }
}

impl App {
    /// The chat's time zone: its subscription's, else the configured one.
    pub(super) fn chat_zone(&self, chat_id: i64) -> Tz {
        let own = self.store().subscription(chat_id).ok().flatten();
        crate::calendar::zone_or_default(own.map(|s| s.timezone), self.config().timezone)
    }

    /// Today's excerpt section for a chat as `/today` shows it: the one sent today, or
    /// else the next in its plan; with the document and the chat's local date.
    pub(super) fn todays_section(
        &self,
        chat_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, SectionId, NaiveDate)>, StoreError> {
        let subscription = self.store().subscription(chat_id)?;
        let own = subscription.as_ref().map(|s| s.timezone);
        let zone = crate::calendar::zone_or_default(own, self.config().timezone);
        let today = local_date(now, zone);
        let library = self.library();
        let chosen = self.chat_document(chat_id, None);
        let document: &crate::text::Document = match &subscription {
            Some(s) => library
                .document(&s.document)
                .unwrap_or_else(|| library.default_document()),
            None => &chosen,
        };
        let position = match &subscription {
            Some(s) if s.last_sent_date() == Some(today) => s.position.saturating_sub(1),
            Some(s) => s.position,
            None => 0,
        };
        Ok(ReadingPlan::new(document)
            .section(position)
            .map(|section| (document.id.clone(), section.id, today)))
    }

    /// Adds the ✅ 已学习 button for `date`'s `section` of `chat_id`'s record.
    pub(super) fn with_check_in(
        &self,
        reply: Reply,
        chat_id: i64,
        document: &str,
        section: SectionId,
        date: NaiveDate,
    ) -> Reply {
        let reply = with_check_in(
            reply,
            &CheckInButton {
                document: document.to_string(),
                section,
                chat_id,
                date,
            },
        );
        self.with_app_link(reply, chat_id, crate::webapp::View::Reader)
    }

    /// `/today`'s and `/section`'s hook: adds the ✅ button when `reply` shows the chat's
    /// section of the day (`argument` is what `/section` was given; `None` for `/today`).
    pub(super) fn with_todays_check_in(
        &self,
        chat: &ChatContext,
        argument: Option<&str>,
        reply: Reply,
        now: DateTime<Utc>,
    ) -> Reply {
        if chat.kind == ChatKind::Channel {
            return reply;
        }
        let Ok(Some((document, section, date))) = self.todays_section(chat.chat_id, now) else {
            return reply;
        };
        if let Some(argument) = argument {
            let library = self.library();
            let Some(doc) = library.document(&document) else {
                return reply;
            };
            let shown = SectionRef::parse(argument).ok().map(|r| r.resolve(doc));
            if !matches!(shown, Some(Resolution::Found(id)) if id == section) {
                return reply;
            }
        }
        self.with_check_in(reply, chat.chat_id, &document, section, date)
    }

    fn try_check_in(
        &self,
        button: &CheckInButton,
        presser: &Presser,
        now: DateTime<Utc>,
    ) -> Result<String, CheckInRefusal> {
        // A button from before its group became a supergroup (pressed in the old group, or
        // a catch-up in private) counts in the supergroup; no migration runs meanwhile.
        let _no_moves = self.no_chat_moves();
        let button = &CheckInButton {
            chat_id: self.current_chat_id(button.chat_id)?,
            ..button.clone()
        };
        let presser = &Presser {
            message_chat: self.current_chat_id(presser.message_chat)?,
            ..presser.clone()
        };
        // Pressed in the chat itself, or (catch-up) in the presser's private chat for a
        // chat whose roster they are on.
        let own_chat = presser.message_chat == button.chat_id;
        let catching_up = presser.message_chat == presser.user_id as i64
            && self
                .store()
                .chats_of(presser.user_id)?
                .contains(&button.chat_id);
        if !own_chat && !catching_up {
            return Err(CheckInRefusal::NotHere);
        }
        let zone = self.chat_zone(button.chat_id);
        let today = local_date(now, zone);
        if button.date > today {
            return Err(CheckInRefusal::Stale);
        }
        if button.date < today - TimeDelta::days(CATCH_UP_DAYS) {
            return Err(CheckInRefusal::TooOld);
        }
        let delivered = self.store().ledger_entry(button.chat_id, button.date)?;
        let genuine = match delivered {
            Some(entry) => entry.section == button.section,
            None if button.date == today => {
                self.todays_section(button.chat_id, now)?
                    .is_some_and(|(document, section, _)| {
                        document == button.document && section == button.section
                    })
            }
            None => false,
        };
        let known = self
            .library()
            .document(&button.document)
            .is_some_and(|d| d.section(button.section).is_some());
        if !genuine || !known {
            return Err(CheckInRefusal::Stale);
        }
        let check_in = CheckIn {
            chat_id: button.chat_id,
            user_id: presser.user_id,
            name: presser.name.clone(),
            document: button.document.clone(),
            section: button.section,
            date: button.date,
            done_on: today,
            at: now,
        };
        Ok(match self.store().check_in(&check_in)? {
            CheckInResult::Recorded { rank } => {
                tracing::info!(chat_id = button.chat_id, user_id = presser.user_id, section = %button.section, date = %button.date, late = check_in.is_late(), "checked in");
                recorded_toast(&check_in, rank)
            }
            CheckInResult::Already(existing) => already_toast(&existing),
        })
    }

    /// The quiz-answer hook: keeps the answer to `poll_id` individually for the export,
    /// and puts the user on the roster. Failures are logged, never the answer's problem.
    pub(super) fn quiz_answer_recorded(
        &self,
        poll_id: &str,
        chat_id: i64,
        user_id: u64,
        name: &str,
        correct: bool,
        now: DateTime<Utc>,
    ) {
        let question = match self.store().poll_target(poll_id) {
            Ok(Some(PollTarget::Quiz(key))) => self
                .store()
                .quiz_session(key.chat_id)
                .ok()
                .flatten()
                .and_then(|session| session.questions.get(key.index).cloned()),
            Ok(Some(PollTarget::Daily(daily))) => Some(daily.question),
            _ => None,
        };
        let Some(question) = question else {
            return;
        };
        let answer = QuizAnswer {
            chat_id,
            user_id,
            name: name.to_string(),
            question: question.text,
            section: question.section,
            part: question.part,
            correct,
            at: now,
        };
        let kept = self
            .store()
            .record_quiz_answer(&answer)
            .and_then(|()| self.store().join(chat_id, user_id, name, now, false))
            .and_then(|_| self.store().flush());
        if let Err(error) = kept {
            tracing::error!(chat_id, %error, "cannot keep the quiz answer for the record");
        }
    }
}

/// Why a check-in was not recorded.
enum CheckInRefusal {
    /// The button is not for this chat.
    NotHere,
    /// The day is too long ago.
    TooOld,
    /// The section is not what the chat had that day, or the data is forged.
    Stale,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for CheckInRefusal {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::library::Library;
    use crate::config::Config;
    use crate::store::Store;
    use crate::text::parse_document;

    const GROUP: i64 = -100;

    fn app() -> App {
        let store = Store::in_memory();
        let document =
            parse_document("xzsj.md", include_str!("../../../data/texts/xzsj.md")).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        App::new(library, store, Config::default())
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn presser(message_chat: i64, user_id: u64) -> Presser {
        Presser {
            message_chat,
            user_id,
            name: format!("u{user_id}"),
        }
    }

    /// Today's ✅ button of the group (no subscription: the opening, in Shanghai).
    fn todays_button(app: &App, now: DateTime<Utc>) -> CheckInButton {
        let (document, section, date) = app.todays_section(GROUP, now).unwrap().unwrap();
        CheckInButton {
            document,
            section,
            chat_id: GROUP,
            date,
        }
    }

    #[test]
    fn a_press_records_once_and_refuses_what_is_not_genuine() {
        let app = app();
        let now = utc("2026-11-30T02:00:00Z");
        let button = todays_button(&app, now);
        assert_eq!(
            app.record().check_in(&button, &presser(GROUP, 1), now),
            "已记录：开场，今天第 1 位"
        );
        assert!(
            app.record()
                .check_in(&button, &presser(GROUP, 1), now)
                .starts_with("已经记录过了")
        );
        assert_eq!(
            app.record().check_in(&button, &presser(GROUP, 2), now),
            "已记录：开场，今天第 2 位"
        );

        let refusals = [
            // Another chat's button pressed here.
            (button.clone(), presser(-200, 3)),
            // Another section than the chat's of the day.
            (
                CheckInButton {
                    section: "2.2".parse().unwrap(),
                    ..button.clone()
                },
                presser(GROUP, 3),
            ),
            // A day with no excerpt, a future day, a day long ago.
            (
                CheckInButton {
                    date: button.date - TimeDelta::days(1),
                    ..button.clone()
                },
                presser(GROUP, 3),
            ),
            (
                CheckInButton {
                    date: button.date + TimeDelta::days(1),
                    ..button.clone()
                },
                presser(GROUP, 3),
            ),
            (
                CheckInButton {
                    date: button.date - TimeDelta::days(CATCH_UP_DAYS + 1),
                    ..button.clone()
                },
                presser(GROUP, 3),
            ),
            // A private chat of someone not on the group's roster.
            (button.clone(), presser(3, 3)),
        ];
        for (forged, presser) in refusals {
            let toast = app.record().check_in(&forged, &presser, now);
            assert!(toast.contains("没有记录"), "{forged:?}: {toast}");
        }
        let today = button.date;
        assert_eq!(app.store().check_ins(GROUP, today, today).unwrap().len(), 2);
        assert!(app.store().chats_of(3).unwrap().is_empty());
    }

    #[test]
    fn a_button_from_before_the_group_became_a_supergroup_counts_there() {
        let app = app();
        let now = utc("2026-11-30T02:00:00Z");
        let button = todays_button(&app, now);
        app.record().check_in(&button, &presser(GROUP, 1), now);
        let supergroup = -1_000_000_000_100;
        app.chats().migrated(GROUP, supergroup, now);
        // Pressed in the old group, and as a catch-up in a member's private chat.
        assert_eq!(
            app.record().check_in(&button, &presser(GROUP, 2), now),
            "已记录：开场，今天第 2 位"
        );
        assert!(
            app.record()
                .check_in(&button, &presser(1, 1), now)
                .starts_with("已经记录过了")
        );
        let today = button.date;
        assert_eq!(
            app.store()
                .check_ins(supergroup, today, today)
                .unwrap()
                .len(),
            2
        );
        assert!(
            app.store()
                .check_ins(GROUP, today, today)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn members_join_leave_and_are_forgotten() {
        let app = app();
        let now = utc("2026-11-30T02:00:00Z");
        let chat = ChatContext {
            chat_id: GROUP,
            kind: ChatKind::Group,
            user_id: 9,
            user_name: "王五".into(),
            is_admin: false,
            topic: None,
        };
        assert!(
            app.record()
                .join(&chat, now)
                .plain_text()
                .contains("王五 已加入学习名单")
        );
        app.record()
            .check_in(&todays_button(&app, now), &presser(GROUP, 9), now);
        assert!(
            app.record()
                .leave(&chat)
                .plain_text()
                .contains("已把你移出学习名单")
        );
        assert!(app.store().chats_of(9).unwrap().is_empty());
        let forgot = app.record().forget_me(&chat).plain_text();
        assert!(forgot.contains("1 条学习打卡"), "{forgot}");
        assert!(app.store().members(GROUP).unwrap().is_empty());
        assert!(
            app.record()
                .roster(&chat, now)
                .plain_text()
                .contains("只有群管理员")
        );
    }
}
