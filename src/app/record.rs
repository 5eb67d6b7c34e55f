//! The study record from the app's side: the ✅ 已学习 check-in, `/join`, `/leave`,
//! `/forgetme`, `/roster`, `/report`, `/catchup`, the export, and the weekly reports
//! the delivery pass posts. No network here; the transports send what these return.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use tempfile::NamedTempFile;

use crate::app::{App, AppError, ChatContext, ChatKind};
use crate::messages::daily::excerpt;
use crate::names::display_name;
use crate::plan::ReadingPlan;
use crate::record::export::{
    ExportError, ExportFigures, ExportPeriod, RecordExport, SHEETS, Sheets,
};
use crate::record::report::WeeklyFigures;
use crate::record::{
    CATCH_UP_DAYS, CheckIn, CheckInButton, Member, QuizAnswer, ReportSetting, Roster,
    already_toast, parse_weekday, recorded_toast, weekday_name, with_check_in,
};
use crate::reply::Reply;
use crate::schedule::{DeliveryState, format_time, local_date, parse_time, send_instant};
use crate::store::{CheckInResult, PollTarget, StoreError, StoreResult};
use crate::text::{Resolution, SectionId, SectionRef};

/// How many missed sections one `/catchup` sends (the rest on the next `/catchup`).
pub const CATCH_UP_BATCH: usize = 10;

/// A weekly report due now, claimed in the report ledger.
#[derive(Debug, Clone)]
pub struct DueReport {
    /// The group.
    pub chat_id: i64,
    /// The forum topic the chat's excerpts go to, if any.
    pub topic: Option<i32>,
    /// The ISO week claimed (year × 100 + week): give it back with
    /// [`App::report_failed`] if the report cannot be sent.
    pub week: u32,
    /// The message.
    pub reply: Reply,
}

/// Where a check-in press came from.
#[derive(Debug, Clone)]
pub struct Presser {
    /// The chat of the message the button is on.
    pub message_chat: i64,
    /// The presser's user id.
    pub user_id: u64,
    /// The presser's name as Telegram shows it.
    pub name: String,
}

impl App {
    /// The chat's time zone: its subscription's, else the configured one.
    pub fn chat_zone(&self, chat_id: i64) -> Tz {
        let own = self.store().subscription(chat_id).ok().flatten();
        crate::calendar::zone_or_default(own.map(|s| s.timezone), self.config().timezone)
    }

    /// Today's excerpt section for a chat as `/today` shows it: the one sent today, or
    /// else the next in its plan; with the document and the chat's local date.
    pub fn todays_section(
        &self,
        chat_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, SectionId, NaiveDate)>, StoreError> {
        let subscription = self.store().subscription(chat_id)?;
        let own = subscription.as_ref().map(|s| s.timezone);
        let zone = crate::calendar::zone_or_default(own, self.config().timezone);
        let today = local_date(now, zone);
        let library = self.library();
        let chosen = self.chat_document(chat_id);
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
    pub fn with_check_in(
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
    pub fn with_todays_check_in(
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

    /// A ✅ press: checks the button against what the chat really had that day, records
    /// the check-in once (durably) and returns the toast. A forged, stale or misplaced
    /// button records nothing and says so.
    pub fn check_in(
        &self,
        button: &CheckInButton,
        presser: &Presser,
        now: DateTime<Utc>,
    ) -> String {
        match self.try_check_in(button, presser, now) {
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

    fn try_check_in(
        &self,
        button: &CheckInButton,
        presser: &Presser,
        now: DateTime<Utc>,
    ) -> Result<String, CheckInRefusal> {
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

    /// `/join`: puts the sender on the chat's roster.
    pub fn join_command(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        let joined = self
            .store()
            .join(chat.chat_id, chat.user_id, &chat.user_name, now, true)
            .and_then(|_| self.store().flush());
        match joined {
            Ok(()) => Reply::plain(format!(
                "{} 已加入学习名单。每天在学习内容下点 ✅ 已学习 就会记入学习台账。不想被统计可发送 /leave。",
                display_name(&chat.user_name)
            )),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/leave`: takes the sender off the roster, keeping their records.
    pub fn leave_command(&self, chat: &ChatContext) -> Reply {
        match self.store().leave(chat.chat_id, chat.user_id) {
            Ok(true) => Reply::plain(
                "已把你移出学习名单，以后的统计不再算你。以前的学习记录保留；要删除请发送 /forgetme。想回来发送 /join。",
            ),
            Ok(false) => Reply::plain("你不在学习名单上。要加入请发送 /join。"),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/forgetme`: deletes the sender's membership, check-ins and quiz answers here.
    pub fn forget_me_command(&self, chat: &ChatContext) -> Reply {
        match self.store().forget_member(chat.chat_id, chat.user_id) {
            Ok((check_ins, answers)) => Reply::plain(format!(
                "已删除你在这里的学习记录：{check_ins} 条学习打卡、{answers} 条答题记录，并移出学习名单。测验积分不在此列（/score 查看）。"
            )),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/roster`: today and this week (group admins); in a private chat, the sender's
    /// own record in each group whose roster they are on, by the group's title.
    pub fn roster_command(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        if chat.kind == ChatKind::Private {
            return match self.own_record(chat.user_id, now) {
                Ok(Some(reply)) => reply,
                // On no group's roster: the private chat's own record, if any.
                Ok(None) => self.chat_roster(chat, now),
                Err(error) => AppError::from(error).reply(chat.chat_id),
            };
        }
        if !chat.is_admin {
            return admin_only("查看学习台账");
        }
        self.chat_roster(chat, now)
    }

    /// `/roster` in private: one line per group the user is on the roster of, `None`
    /// when they are on none but their private chat's.
    fn own_record(&self, user_id: u64, now: DateTime<Utc>) -> StoreResult<Option<Reply>> {
        let chats: Vec<i64> = self
            .store()
            .chats_of(user_id)?
            .into_iter()
            .filter(|&chat_id| chat_id != user_id as i64)
            .collect();
        if chats.is_empty() {
            return Ok(None);
        }
        let mut reply = Reply::new().bold("你的学习记录\n");
        for chat_id in chats {
            let zone = self.chat_zone(chat_id);
            let today = local_date(now, zone);
            let from = today - TimeDelta::days(CATCH_UP_DAYS + 7);
            let members: Vec<Member> = self
                .store()
                .members(chat_id)?
                .into_iter()
                .filter(|m| m.user_id == user_id)
                .collect();
            let check_ins: Vec<CheckIn> = self
                .store()
                .check_ins(chat_id, from, today)?
                .into_iter()
                .filter(|c| c.user_id == user_id)
                .collect();
            let roster = Roster::new(&members, &check_ins, now, zone);
            let Some(line) = roster.done.iter().chain(&roster.missing).next() else {
                continue;
            };
            let today_text = match line.today_at {
                Some(at) => format!("✅ 今日已学 {}", at.format("%H:%M")),
                None => "⬜ 今日未学".to_string(),
            };
            reply = reply.text(format!(
                "{}：{today_text} · 连续 {} 天 · 本周 {}/{} · 近30天 {}%\n",
                self.chat_name(chat_id),
                line.streak,
                line.week_days,
                roster.week_days,
                line.rate
            ));
        }
        Ok(Some(reply.text("漏学的内容可以发送 /catchup 补学。")))
    }

    /// `/roster` of the chat itself.
    fn chat_roster(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        let zone = self.chat_zone(chat.chat_id);
        let today = local_date(now, zone);
        let from = today - TimeDelta::days(CATCH_UP_DAYS + 7);
        let roster = self.store().members(chat.chat_id).and_then(|members| {
            let check_ins = self.store().check_ins(chat.chat_id, from, today)?;
            Ok(Roster::new(&members, &check_ins, now, zone))
        });
        match roster {
            Ok(roster) => self.with_app_link(
                roster.message(),
                chat.chat_id,
                crate::webapp::View::Dashboard,
            ),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/report weekly Mon 09:00`, `/report off`, `/report` (shows the setting).
    pub fn report_command(&self, chat: &ChatContext, argument: &str) -> Reply {
        let words: Vec<&str> = argument.split_whitespace().collect();
        let example = "例如：/report weekly Mon 09:00（每周一 09:00 发周报），/report off 关闭。";
        if words.is_empty() {
            return match self.store().report_setting(chat.chat_id) {
                Ok(Some(setting)) => Reply::plain(format!(
                    "学习周报：每{} {} 发送（{}）。关闭请发送 /report off。",
                    weekday_name(setting.weekday),
                    format_time(setting.time),
                    self.chat_zone(chat.chat_id).name()
                )),
                Ok(None) => Reply::plain(format!("学习周报未开启。{example}")),
                Err(error) => AppError::from(error).reply(chat.chat_id),
            };
        }
        if !chat.is_admin {
            return admin_only("设置学习周报");
        }
        // Long input is not quoted back: a reply never parrots a wall of text.
        if argument.trim().chars().count() > 32 {
            return Reply::plain(format!("看不懂这个设置，太长了。{example}"));
        }
        let setting = match words.as_slice() {
            ["off"] | ["关"] | ["关闭"] => None,
            ["weekly", day, time] | [day, time] => {
                let Some(weekday) = parse_weekday(day) else {
                    return Reply::plain(format!("看不懂“{day}”是星期几。{example}"));
                };
                let Ok(time) = parse_time(time) else {
                    return Reply::plain(format!(
                        "看不懂时间“{time}”，请写 24 小时制 HH:MM。{example}"
                    ));
                };
                Some(ReportSetting { weekday, time })
            }
            _ => return Reply::plain(format!("看不懂“{}”。{example}", argument.trim())),
        };
        let saved = self.store().set_report_setting(chat.chat_id, setting);
        if saved.is_ok() {
            // A report may now be due before the delivery task's next wake-up.
            self.deliveries_changed();
        }
        match saved {
            Ok(()) => match setting {
                Some(setting) => Reply::plain(format!(
                    "已开启学习周报：每{} {}（{}）在本群发送上一周的学习情况。关闭请发送 /report off。",
                    weekday_name(setting.weekday),
                    format_time(setting.time),
                    self.chat_zone(chat.chat_id).name()
                )),
                None => Reply::plain("已关闭学习周报。重新开启：/report weekly Mon 09:00。"),
            },
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/catchup` (private chats): per group the user is on the roster of, the sections
    /// of the last [`CATCH_UP_DAYS`] days they did not check in, each with its ✅ button.
    pub fn catch_up_command(&self, chat: &ChatContext, now: DateTime<Utc>) -> Vec<Reply> {
        if chat.kind != ChatKind::Private {
            return vec![Reply::plain(
                "补学请私聊我发送 /catchup，我会把你漏学的内容一节一节发给你。",
            )];
        }
        let missed = match self.missed_sections(chat.user_id, now) {
            Ok(missed) => missed,
            Err(error) => return vec![AppError::from(error).reply(chat.chat_id)],
        };
        if missed.is_empty() {
            return vec![Reply::plain(format!(
                "最近 {CATCH_UP_DAYS} 天的内容你都学过了，没有要补的。👍\n（只统计你在群里按过 ✅、答过题或发送过 /join 的群。）"
            ))];
        }
        let mut intro = format!("最近 {CATCH_UP_DAYS} 天你有 {} 节没有学：\n", missed.len());
        for (chat_id, date, section, _) in &missed {
            intro.push_str(&format!(
                "· {}：{} {section}\n",
                self.chat_name(*chat_id),
                date.format("%m-%d")
            ));
        }
        if missed.len() > CATCH_UP_BATCH {
            intro.push_str(&format!(
                "先发前 {CATCH_UP_BATCH} 节，学完后再发送 /catchup 获取其余的。\n"
            ));
        }
        intro.push_str("学完一节就点它下面的 ✅ 已学习，会记为补学。");
        let mut replies = vec![Reply::plain(intro)];
        for (chat_id, date, section, document) in missed.into_iter().take(CATCH_UP_BATCH) {
            let library = self.library();
            let Some(doc) = library.document(&document) else {
                continue;
            };
            let Some(shown) = doc.section(section) else {
                continue;
            };
            let reply = Reply::new()
                .italic(format!(
                    "补学 · {} · {} 的内容\n",
                    self.chat_name(chat_id),
                    date.format("%Y-%m-%d")
                ))
                .text("")
                .for_the_chat();
            let mut reply = reply;
            let body = excerpt(doc, shown);
            reply.spans.extend(body.spans);
            reply.buttons = body.buttons;
            replies.push(self.with_check_in(reply, chat_id, &document, section, date));
        }
        replies
    }

    /// The days the user missed: (chat, day, section, document), oldest first.
    fn missed_sections(
        &self,
        user_id: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, NaiveDate, SectionId, String)>, StoreError> {
        let mut missed = Vec::new();
        for chat_id in self.store().chats_of(user_id)? {
            let zone = self.chat_zone(chat_id);
            let today = local_date(now, zone);
            let from = today - TimeDelta::days(CATCH_UP_DAYS);
            let done: Vec<NaiveDate> = self
                .store()
                .check_ins(chat_id, from, today)?
                .into_iter()
                .filter(|c| c.user_id == user_id)
                .map(|c| c.date)
                .collect();
            let document = match self.store().subscription(chat_id)? {
                Some(s) => s.document,
                None => self.library().default_document().id.clone(),
            };
            for (date, entry) in self.store().ledger(chat_id)? {
                if date < from || date > today || done.contains(&date) {
                    continue;
                }
                if matches!(entry.state, DeliveryState::Sent { .. }) {
                    missed.push((chat_id, date, entry.section, document.clone()));
                }
            }
        }
        missed.sort_by_key(|(chat, date, _, _)| (*date, *chat));
        Ok(missed)
    }

    /// The days of `chat_id`'s export: `from..=to` (defaults: from the first record, to
    /// today, in the chat's zone).
    fn export_period(
        &self,
        chat_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<ExportPeriod, StoreError> {
        let zone = self.chat_zone(chat_id);
        let to = to.unwrap_or_else(|| local_date(now, zone));
        let from = match from {
            Some(from) => from,
            None => {
                // Check-ins sort by day and answers by instant: the first of each is the earliest.
                let check_in = self.store().first_check_in(chat_id)?.map(|c| c.date);
                let answer = self
                    .store()
                    .first_quiz_answer(chat_id)?
                    .map(|a| a.at.with_timezone(&zone).date_naive());
                check_in
                    .into_iter()
                    .chain(answer)
                    .min()
                    .unwrap_or(to - TimeDelta::days(6))
            }
        };
        Ok(ExportPeriod {
            zone,
            from: from.min(to),
            to,
        })
    }

    /// Reads the chat's record into `export` (check-ins day by day, then quiz answers,
    /// a page at a time) and returns its finished sheets.
    fn fill_export<S: Sheets>(
        &self,
        chat_id: i64,
        mut export: RecordExport<S>,
    ) -> Result<(S, ExportFigures), ExportFailure> {
        let period = export.period();
        self.store()
            .each_check_in(chat_id, period.from, period.to, |check_in| {
                export.check_in(&check_in);
                Ok::<_, ExportFailure>(())
            })?;
        self.store().each_quiz_answer(chat_id, |answer| {
            Ok::<_, ExportFailure>(export.answer(answer)?)
        })?;
        let figures = export.figures();
        Ok((export.finish()?, figures))
    }

    /// `studybot record`: writes the chat's record as `output` says, each file complete
    /// or not at all: it is written beside its target and renamed over it once whole, so
    /// a failure (a full disk) leaves an earlier file of that name as it was. Refuses,
    /// writing nothing, a chat the store knows nothing of, a chat with no record at all,
    /// and `from` after `to`.
    pub fn write_record(
        &self,
        chat_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        output: &RecordOutput,
        now: DateTime<Utc>,
    ) -> anyhow::Result<RecordWritten> {
        let chat = self.chat_label(chat_id);
        if !self.store().knows_chat(chat_id)? {
            let known: Vec<String> = self
                .store()
                .chats_with_members()?
                .into_iter()
                .take(10)
                .map(|id| self.chat_label(id))
                .collect();
            let hint = match known.is_empty() {
                true => "这个数据库里还没有任何群的学习记录。".to_string(),
                false => format!("有学习记录的群：{}。", known.join("、")),
            };
            anyhow::bail!(
                "没有找到群 {chat_id}：数据库里没有它的订阅、成员、打卡或答题记录，没有写任何文件。{hint}\n\
                 群号可在 /status 或日志的 chat_id 中找到，例如 --chat -1001234567890。"
            );
        }
        let zone = self.chat_zone(chat_id);
        let today = local_date(now, zone);
        match (from, to) {
            (Some(from), Some(to)) if from > to => anyhow::bail!(
                "--from {from} 晚于 --to {to}，没有写任何文件。请把开始日期写在前面，例如 --from {to} --to {from}。"
            ),
            (Some(from), None) if from > today => anyhow::bail!(
                "--from {from} 在今天（{today}，{}）之后，没有写任何文件。要导出以后的日期请同时给出 --to。",
                zone.name()
            ),
            _ => {}
        }
        let period = self.export_period(chat_id, from, to, now)?;
        let roster = self.store().members(chat_id)?;
        let nothing = || {
            anyhow::anyhow!(
                "{chat} 在 {} 至 {} 没有任何学习记录（没有成员、打卡或答题），没有写任何文件。",
                period.from,
                period.to
            )
        };
        let title = format!(
            "{} 学习台账 {} 至 {}",
            self.chat_title(chat_id)
                .unwrap_or_else(|| chat_id.to_string()),
            period.from,
            period.to
        );
        let (files, figures) = match output {
            RecordOutput::Workbook(path) | RecordOutput::Stdout(path) => {
                let export = RecordExport::xlsx(period, roster, &title)
                    .map_err(|e| cannot_write(path, &e))?;
                let (workbook, figures) = self.fill_export(chat_id, export)?;
                if figures.members == 0 {
                    return Err(nothing());
                }
                if matches!(output, RecordOutput::Stdout(_)) {
                    let mut stdout = Latched::new(BufWriter::new(std::io::stdout()));
                    workbook
                        .save(&mut stdout)
                        .map_err(|e| cannot_write(path, &e))?;
                    stdout.finish().map_err(|e| cannot_write(path, &e.into()))?;
                    (Vec::new(), figures)
                } else {
                    let mut file = temp_beside(path)?;
                    workbook
                        .save(&mut file)
                        .map_err(|e| cannot_write(path, &e))?;
                    complete(file, path)?
                        .persist(path)
                        .map_err(|e| cannot_write(path, &e.error.into()))?;
                    (vec![path.clone()], figures)
                }
            }
            RecordOutput::Csv(path) => {
                let paths = csv_paths(path);
                let files = [
                    temp_beside(&paths[0])?,
                    temp_beside(&paths[1])?,
                    temp_beside(&paths[2])?,
                    temp_beside(&paths[3])?,
                ];
                let export =
                    RecordExport::csv(period, roster, files).map_err(|e| cannot_write(path, &e))?;
                let (sheets, figures) = self.fill_export(chat_id, export)?;
                if figures.members == 0 {
                    return Err(nothing());
                }
                let files = sheets.finish().map_err(|e| cannot_write(path, &e))?;
                // Every file complete on disk before the first replaces its old version.
                let mut done = Vec::with_capacity(4);
                for (file, target) in files.into_iter().zip(&paths) {
                    done.push(complete(file, target)?);
                }
                for (file, target) in done.into_iter().zip(&paths) {
                    file.persist(target)
                        .map_err(|e| cannot_write(target, &e.error.into()))?;
                }
                (paths.to_vec(), figures)
            }
        };
        Ok(RecordWritten {
            files,
            chat,
            period,
            figures,
        })
    }

    /// The chat's title, if known (from its updates or getChat).
    pub fn chat_title(&self, chat_id: i64) -> Option<String> {
        self.store().chat_title(chat_id).ok().flatten()
    }

    /// How replies name a chat: its title, or `群 -100…` while it is unknown.
    pub fn chat_name(&self, chat_id: i64) -> String {
        self.chat_title(chat_id)
            .unwrap_or_else(|| format!("群 {chat_id}"))
    }

    /// How the command line names a chat: `学习小组（-1001234567890）`, or `群 -100…`
    /// while its title is unknown.
    pub fn chat_label(&self, chat_id: i64) -> String {
        match self.chat_title(chat_id) {
            Some(title) => format!("{title}（{chat_id}）"),
            None => format!("群 {chat_id}"),
        }
    }

    /// A chat's title as an update (or getChat) showed it: kept for /catchup, /roster,
    /// the workbook and reports. Failures are logged, never the update's problem.
    pub fn chat_title_seen(&self, chat_id: i64, title: &str, now: DateTime<Utc>) {
        if let Err(error) = self.store().remember_chat_title(chat_id, title, now) {
            tracing::warn!(chat_id, %error, "cannot keep the chat's title");
        }
    }

    /// The groups on `user_id`'s rosters whose title is not known yet (the transport
    /// asks Telegram with getChat before answering /catchup or /roster in private).
    pub fn untitled_chats_of(&self, user_id: u64) -> Vec<i64> {
        self.store()
            .chats_of(user_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|&chat_id| chat_id < 0 && self.chat_title(chat_id).is_none())
            .collect()
    }

    /// `/export`: the chat's workbook, as (file name, bytes), or the reply explaining
    /// why not (not an admin, a store failure).
    pub fn export_workbook(
        &self,
        chat: &ChatContext,
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), Reply> {
        if !chat.is_admin {
            return Err(admin_only("导出学习台账"));
        }
        let chat_id = chat.chat_id;
        let cannot = |error: &dyn std::fmt::Display| {
            tracing::error!(chat_id, %error, "cannot write the workbook");
            Reply::plain("暂时无法生成表格，请稍后再试。")
        };
        let period = self
            .export_period(chat_id, None, None, now)
            .map_err(|error| AppError::from(error).reply(chat_id))?;
        let roster = self
            .store()
            .members(chat_id)
            .map_err(|error| AppError::from(error).reply(chat_id))?;
        let title = self.chat_title(chat_id);
        let heading = format!(
            "{} 学习台账 {} 至 {}",
            title.clone().unwrap_or_else(|| chat_id.to_string()),
            period.from,
            period.to
        );
        let export = RecordExport::xlsx(period, roster, &heading).map_err(|e| cannot(&e))?;
        let bytes = match self.fill_export(chat_id, export) {
            Ok((workbook, _)) => workbook.into_bytes().map_err(|e| cannot(&e))?,
            Err(ExportFailure::Store(error)) => return Err(AppError::from(error).reply(chat_id)),
            Err(ExportFailure::Write(error)) => return Err(cannot(&error)),
        };
        let name = match title
            .as_deref()
            .map(file_name_part)
            .filter(|t| !t.is_empty())
        {
            Some(title) => format!("学习台账-{title}-{}.xlsx", period.to.format("%Y%m%d")),
            None => format!(
                "studybot-record-{}-{}.xlsx",
                chat_id.unsigned_abs(),
                period.to.format("%Y%m%d")
            ),
        };
        Ok((name, bytes))
    }

    /// The quiz-answer hook: keeps the answer to `poll_id` individually for the export,
    /// and puts the user on the roster. Failures are logged, never the answer's problem.
    pub fn quiz_answer_recorded(
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

    /// The next instant a weekly report falls due after `now`, if any chat has one: the
    /// delivery task sleeps until then (with the excerpts' and reviews' instants).
    pub fn next_report_instant(&self, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>> {
        let mut next: Option<DateTime<Utc>> = None;
        for (chat_id, setting) in self.store().report_settings()? {
            let zone = self.chat_zone(chat_id);
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
        for (chat_id, setting) in self.store().report_settings()? {
            let zone = self.chat_zone(chat_id);
            let local = now.with_timezone(&zone).naive_local();
            let today = local.date();
            if today.weekday() != setting.weekday || local.time() < setting.time {
                continue;
            }
            let week = crate::calendar::week_code(crate::calendar::iso_week(today));
            if !self.store().claim_report(chat_id, week, now)? {
                continue;
            }
            due.push(DueReport {
                chat_id,
                topic: self.store().subscription(chat_id)?.and_then(|s| s.topic),
                week,
                reply: self.with_app_link(
                    self.weekly_report(chat_id, today - TimeDelta::days(7), zone)?,
                    chat_id,
                    crate::webapp::View::Dashboard,
                ),
            });
        }
        Ok(due)
    }

    /// The report of the seven days from `from`.
    pub fn weekly_report(
        &self,
        chat_id: i64,
        from: NaiveDate,
        zone: Tz,
    ) -> Result<Reply, StoreError> {
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

    /// A claimed report could not be sent: give the week back so a later pass retries.
    pub fn report_failed(&self, report: &DueReport) {
        if let Err(error) = self.store().release_report(report.chat_id, report.week) {
            tracing::error!(chat_id = report.chat_id, %error, "cannot release the weekly report");
        }
    }
}

/// Where and how `studybot record` writes (see [`RecordOutput::choose`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutput {
    /// A workbook at this path.
    Workbook(PathBuf),
    /// The workbook on standard output (the path is `-`, for messages).
    Stdout(PathBuf),
    /// CSV files: one `<stem>-<sheet>.csv` per sheet beside this path.
    Csv(PathBuf),
}

impl RecordOutput {
    /// Reads `--out` and `--csv`: the format follows the file's extension (`.xlsx` a
    /// workbook, `.csv` CSV files); `--csv` with `.xlsx` is refused as contradictory, and
    /// a name with neither extension is refused without `--csv`. `-` is standard output,
    /// for the workbook only (CSV is four files), and never a terminal.
    pub fn choose(out: &Path, csv: bool, stdout_is_terminal: bool) -> Result<Self, String> {
        if out == Path::new("-") {
            return match (csv, stdout_is_terminal) {
                (true, _) => Err(
                    "--csv 会写四个文件（成员、学习记录、测验、每周汇总），不能写到标准输出（--out -）。\
                     请给出文件名，例如 --out 台账.csv。"
                        .into(),
                ),
                (false, true) => Err(
                    "--out - 把表格（二进制文件）写到标准输出，但标准输出是终端。\
                     请重定向到文件（--out - > 台账.xlsx），或写 --out 台账.xlsx。"
                        .into(),
                ),
                (false, false) => Ok(Self::Stdout(out.to_path_buf())),
            };
        }
        let extension = out.extension().map(|e| e.to_string_lossy().to_lowercase());
        match (extension.as_deref(), csv) {
            (Some("xlsx"), false) => Ok(Self::Workbook(out.to_path_buf())),
            (Some("xlsx"), true) => Err(format!(
                "--csv 与文件名 {} 不一致：要 CSV 文件请写 --out {}，要 Excel 表格请去掉 --csv。",
                out.display(),
                out.with_extension("csv").display()
            )),
            (Some("csv"), _) | (_, true) => Ok(Self::Csv(out.to_path_buf())),
            (_, false) => Err(format!(
                "不知道把 {} 写成什么格式：文件名应以 .xlsx（Excel 表格）或 .csv（CSV 文件）结尾。\
                 例如 --out 台账.xlsx。",
                out.display()
            )),
        }
    }
}

/// What `studybot record` wrote.
#[derive(Debug, Clone)]
pub struct RecordWritten {
    /// The files written (none for standard output).
    pub files: Vec<PathBuf>,
    /// The chat, as [`App::chat_label`] names it.
    pub chat: String,
    /// The days exported.
    pub period: ExportPeriod,
    /// Members, check-ins and answers exported.
    pub figures: ExportFigures,
}

impl RecordWritten {
    /// One line for the operator: the chat, the days and what was exported.
    pub fn summary(&self) -> String {
        format!(
            "{}，{} 至 {}：{} 位成员，{} 次打卡，{} 次答题",
            self.chat,
            self.period.from,
            self.period.to,
            self.figures.members,
            self.figures.check_ins,
            self.figures.answers
        )
    }
}

/// The CSV files of `out`: `<stem>-<sheet>.csv` beside it, in the order of [`SHEETS`].
pub fn csv_paths(out: &Path) -> [PathBuf; 4] {
    let stem = out
        .file_stem()
        .map_or_else(|| "record".into(), |s| s.to_string_lossy().into_owned());
    SHEETS.map(|sheet| out.with_file_name(format!("{stem}-{sheet}.csv")))
}

/// The one message of a failed write: the file and the cause, in Chinese.
fn cannot_write(path: &Path, error: &ExportError) -> anyhow::Error {
    anyhow::anyhow!("无法写入 {}：{error}", path.display())
}

/// A new temporary file in `target`'s directory (so that renaming it over `target` is
/// atomic), buffered, its first write error kept for [`complete`].
fn temp_beside(target: &Path) -> anyhow::Result<Latched<BufWriter<NamedTempFile>>> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".studybot-record-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| cannot_write(target, &e.into()))?;
    Ok(Latched::new(BufWriter::new(file)))
}

/// Flushes a file of [`temp_beside`] and makes it durable, ready to be renamed over
/// `target`; the first write error, if any, names `target`.
fn complete(
    file: Latched<BufWriter<NamedTempFile>>,
    target: &Path,
) -> anyhow::Result<NamedTempFile> {
    let failed = |e: std::io::Error| cannot_write(target, &e.into());
    let buffered = file.into_result().map_err(failed)?;
    let file = buffered.into_inner().map_err(|e| failed(e.into_error()))?;
    file.as_file().sync_all().map_err(failed)?;
    Ok(file)
}

/// A writer that keeps its first error and then accepts (and drops) everything: the zip
/// writer inside rust_xlsxwriter, on an error, would try to finish the archive in its
/// `Drop` and print its own failure to stderr; this way it finishes quietly and the
/// error is reported once, by [`Latched::into_result`].
struct Latched<W: Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Latched<W> {
    fn new(inner: W) -> Self {
        Self { inner, error: None }
    }

    /// Flushes and gives back the writer, or the first error.
    fn into_result(mut self) -> std::io::Result<W> {
        self.flush()?;
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.inner),
        }
    }

    /// [`Latched::into_result`], for a writer that is not kept.
    fn finish(self) -> std::io::Result<()> {
        self.into_result().map(drop)
    }
}

impl<W: Write> Write for Latched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none()
            && let Err(error) = self.inner.write_all(buf)
        {
            self.error = Some(error);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_none()
            && let Err(error) = self.inner.flush()
        {
            self.error = Some(error);
        }
        Ok(())
    }
}

/// A chat title as part of a file name: without path separators, characters Windows
/// refuses, or control characters, at most 40 characters.
fn file_name_part(title: &str) -> String {
    title
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
        .take(40)
        .collect::<String>()
        .trim()
        .trim_matches('.')
        .to_string()
}

/// Why the export stopped: the store could not be read, or the sheets not written.
#[derive(Debug, thiserror::Error)]
enum ExportFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] ExportError),
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

fn admin_only(what: &str) -> Reply {
    Reply::plain(format!(
        "只有群管理员可以{what}。可以私聊我发送同样的命令查看你自己的记录，或请本群管理员操作。"
    ))
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
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
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
            app.check_in(&button, &presser(GROUP, 1), now),
            "已记录：开场，今天第 1 位"
        );
        assert!(
            app.check_in(&button, &presser(GROUP, 1), now)
                .starts_with("已经记录过了")
        );
        assert_eq!(
            app.check_in(&button, &presser(GROUP, 2), now),
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
            let toast = app.check_in(&forged, &presser, now);
            assert!(toast.contains("没有记录"), "{forged:?}: {toast}");
        }
        let today = button.date;
        assert_eq!(app.store().check_ins(GROUP, today, today).unwrap().len(), 2);
        assert!(app.store().chats_of(3).unwrap().is_empty());
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
            app.join_command(&chat, now)
                .plain_text()
                .contains("王五 已加入学习名单")
        );
        app.check_in(&todays_button(&app, now), &presser(GROUP, 9), now);
        assert!(
            app.leave_command(&chat)
                .plain_text()
                .contains("已把你移出学习名单")
        );
        assert!(app.store().chats_of(9).unwrap().is_empty());
        let forgot = app.forget_me_command(&chat).plain_text();
        assert!(forgot.contains("1 条学习打卡"), "{forgot}");
        assert!(app.store().members(GROUP).unwrap().is_empty());
        assert!(
            app.roster_command(&chat, now)
                .plain_text()
                .contains("只有群管理员")
        );
    }
}
