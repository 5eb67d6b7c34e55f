//! The weekly report (学习周报): `/report`, and the reports the delivery pass posts and
//! gives back when a send fails.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::app::record::Record;
use crate::app::{App, AppError, ChatContext};
use crate::command::{BadArgument, ReportError, Weekly};
use crate::messages::daily::errors::admin_only;
use crate::record::report::WeeklyFigures;
use crate::record::{QuizAnswer, ReportSetting, weekday_name};
use crate::reply::Reply;
use crate::schedule::{DeliveryState, format_time, local_date, send_instant};
use crate::store::{StoreError, StoreResult};
use crate::text::SectionId;

/// A weekly report due now, claimed in the report ledger.
#[derive(Debug, Clone)]
pub struct DueReport {
    /// The group.
    pub chat_id: i64,
    /// The forum topic the chat's excerpts go to, if any.
    pub topic: Option<i32>,
    /// The ISO week claimed (year × 100 + week): give it back with
    /// [`Record::report_failed`] if the report cannot be sent.
    pub week: u32,
    /// The message.
    pub reply: Reply,
}

/// Where a check-in press came from.
impl Record<'_> {
    /// `/report weekly Mon 09:00`, `/report off`, `/report` (shows the setting).
    pub fn report(
        &self,
        chat: &ChatContext,
        setting: Option<Result<Weekly, BadArgument<ReportError>>>,
    ) -> Reply {
        let example = "例如：/report weekly Mon 09:00（每周一 09:00 发周报），/report off 关闭。";
        let Some(setting) = setting else {
            return match self.app.store().report_setting(chat.chat_id) {
                Ok(Some(setting)) => Reply::plain(format!(
                    "学习周报：每{} {} 发送（{}）。关闭请发送 /report off。",
                    weekday_name(setting.weekday),
                    format_time(setting.time),
                    self.app.chat_zone(chat.chat_id).name()
                )),
                Ok(None) => Reply::plain(format!("学习周报未开启。{example}")),
                Err(error) => AppError::from(error).reply(chat.chat_id),
            };
        };
        if !chat.is_admin {
            return admin_only("设置学习周报");
        }
        let setting = match setting {
            Ok(Weekly::Off) => None,
            Ok(Weekly::At(weekday, time)) => Some(ReportSetting { weekday, time }),
            // Long input is not quoted back: a reply never parrots a wall of text.
            Err(BadArgument {
                error: ReportError::TooLong,
                ..
            }) => return Reply::plain(format!("看不懂这个设置，太长了。{example}")),
            Err(BadArgument {
                error: ReportError::Day(day),
                ..
            }) => return Reply::plain(format!("看不懂“{day}”是星期几。{example}")),
            Err(BadArgument {
                error: ReportError::Time(time),
                ..
            }) => {
                return Reply::plain(format!(
                    "看不懂时间“{time}”，请写 24 小时制 HH:MM。{example}"
                ));
            }
            Err(BadArgument {
                text,
                error: ReportError::Unreadable,
            }) => return Reply::plain(format!("看不懂“{text}”。{example}")),
        };
        let saved = self.app.store().set_report_setting(chat.chat_id, setting);
        if saved.is_ok() {
            // A report may now be due before the delivery task's next wake-up.
            self.app.deliveries_changed();
        }
        match saved {
            Ok(()) => match setting {
                Some(setting) => Reply::plain(format!(
                    "已开启学习周报：每{} {}（{}）在本群发送上一周的学习情况。关闭请发送 /report off。",
                    weekday_name(setting.weekday),
                    format_time(setting.time),
                    self.app.chat_zone(chat.chat_id).name()
                )),
                None => Reply::plain("已关闭学习周报。重新开启：/report weekly Mon 09:00。"),
            },
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// The next instant a weekly report falls due after `now`, if any chat has one: the
    /// delivery task sleeps until then (with the excerpts' and reviews' instants).
    pub fn next_report_instant(&self, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>> {
        let mut next: Option<DateTime<Utc>> = None;
        for (chat_id, setting) in self.app.store().report_settings()? {
            let zone = self.app.chat_zone(chat_id);
            let today = local_date(now, zone);
            let at = (0..=7)
                .map(|days| today + TimeDelta::days(days))
                .filter(|date| date.weekday() == setting.weekday)
                .map(|date| send_instant(date, setting.time, zone))
                .find(|at| *at > now);
            if let Some(at) = at {
                next = Some(next.map_or(at, |next| next.min(at)));
            }
        }
        Ok(next)
    }

    /// The weekly reports due at `now`, each claimed for its ISO week before it is
    /// returned (so a report goes out once, across restarts). A report is due from its
    /// time until the end of that day; one missed for longer is skipped, not sent late.
    pub fn due_reports(&self, now: DateTime<Utc>) -> Result<Vec<DueReport>, StoreError> {
        let mut due = Vec::new();
        for (chat_id, setting) in self.app.store().report_settings()? {
            let zone = self.app.chat_zone(chat_id);
            let local = now.with_timezone(&zone).naive_local();
            let today = local.date();
            if today.weekday() != setting.weekday || local.time() < setting.time {
                continue;
            }
            let week = crate::calendar::week_code(crate::calendar::iso_week(today));
            if !self.app.store().claim_report(chat_id, week, now)? {
                continue;
            }
            due.push(DueReport {
                chat_id,
                topic: self
                    .app
                    .store()
                    .subscription(chat_id)?
                    .and_then(|s| s.topic),
                week,
                reply: self.app.with_app_link(
                    self.app
                        .weekly_report(chat_id, today - TimeDelta::days(7), zone)?,
                    chat_id,
                    crate::webapp::View::Dashboard,
                ),
            });
        }
        Ok(due)
    }

    /// A claimed report could not be sent: give the week back so a later pass retries.
    pub fn report_failed(&self, report: &DueReport) {
        let released = self.app.at_current_id(report.chat_id, |chat_id| {
            self.app.store().release_report(chat_id, report.week)
        });
        if let Err(error) = released {
            tracing::error!(chat_id = report.chat_id, %error, "cannot release the weekly report");
        }
    }
}

impl App {
    /// The report of the seven days from `from`.
    fn weekly_report(&self, chat_id: i64, from: NaiveDate, zone: Tz) -> Result<Reply, StoreError> {
        let to = from + TimeDelta::days(6);
        let members = self.store().members(chat_id)?;
        let sections: Vec<(NaiveDate, SectionId)> = self
            .store()
            .ledger(chat_id)?
            .into_iter()
            .filter(|(_, entry)| matches!(entry.state, DeliveryState::Sent { .. }))
            .map(|(date, entry)| (date, entry.section))
            .collect();
        let check_ins = self.store().check_ins(chat_id, from, to)?;
        let answers = self.store().quiz_answers(chat_id)?;
        let dated: Vec<(NaiveDate, &QuizAnswer)> = answers
            .iter()
            .map(|a| (a.at.with_timezone(&zone).date_naive(), a))
            .collect();
        let title = self.chat_title(chat_id);
        Ok(
            WeeklyFigures::new(from, &members, &sections, &check_ins, &dated)
                .message_for(title.as_deref()),
        )
    }
}
