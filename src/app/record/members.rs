//! The roster from the app's side: `/join`, `/leave`, `/forgetme`, `/roster`, `/catchup`
//! and the chat titles the roster and exports show.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::app::record::Record;
use crate::app::{App, AppError, ChatContext, ChatKind};
use crate::messages::daily::errors::admin_only;
use crate::messages::daily::excerpt;
use crate::names::display_name;
use crate::record::{CATCH_UP_DAYS, Days, Roster};
use crate::reply::Reply;
use crate::schedule::{DeliveryState, local_date};
use crate::store::{StoreError, StoreResult};
use crate::text::SectionId;

/// How many missed sections one `/catchup` sends (the rest on the next `/catchup`).
pub const CATCH_UP_BATCH: usize = 10;

impl Record<'_> {
    /// `/join`: puts the sender on the chat's roster.
    pub fn join(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        let joined = self
            .app
            .store()
            .join(chat.chat_id, chat.user_id, &chat.user_name, now, true)
            .and_then(|_| self.app.store().flush());
        match joined {
            Ok(()) => Reply::plain(format!(
                "{} 已加入学习名单。每天在学习内容下点 ✅ 已学习 就会记入学习台账。不想被统计可发送 /leave。",
                display_name(&chat.user_name)
            )),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/leave`: takes the sender off the roster, keeping their records.
    pub fn leave(&self, chat: &ChatContext) -> Reply {
        match self.app.store().leave(chat.chat_id, chat.user_id) {
            Ok(true) => Reply::plain(
                "已把你移出学习名单，以后的统计不再算你。以前的学习记录保留；要删除请发送 /forgetme。想回来发送 /join。",
            ),
            Ok(false) => Reply::plain("你不在学习名单上。要加入请发送 /join。"),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/forgetme`: deletes the sender's membership, check-ins and quiz answers here.
    pub fn forget_me(&self, chat: &ChatContext) -> Reply {
        match self.app.store().forget_member(chat.chat_id, chat.user_id) {
            Ok((check_ins, answers)) => Reply::plain(format!(
                "已删除你在这里的学习记录：{check_ins} 条学习打卡、{answers} 条答题记录，并移出学习名单。测验积分不在此列（/score 查看）。"
            )),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/roster`: today and this week (group admins); in a private chat, the sender's
    /// own record in each group whose roster they are on, by the group's title.
    pub fn roster(&self, chat: &ChatContext, now: DateTime<Utc>) -> Reply {
        if chat.kind == ChatKind::Private {
            return match self.app.own_record(chat.user_id, now) {
                Ok(Some(reply)) => reply,
                // On no group's roster: the private chat's own record, if any.
                Ok(None) => self.app.chat_roster(chat, now),
                Err(error) => AppError::from(error).reply(chat.chat_id),
            };
        }
        if !chat.is_admin {
            return admin_only("查看学习台账");
        }
        self.app.chat_roster(chat, now)
    }

    /// `/catchup` (private chats): per group the user is on the roster of, the sections
    /// of the last [`CATCH_UP_DAYS`] days they did not check in, each with its ✅ button.
    pub fn catch_up(&self, chat: &ChatContext, now: DateTime<Utc>) -> Vec<Reply> {
        if chat.kind != ChatKind::Private {
            return vec![Reply::plain(
                "补学请私聊我发送 /catchup，我会把你漏学的内容一节一节发给你。",
            )];
        }
        let missed = match self.app.missed_sections(chat.user_id, now) {
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
                self.app.chat_name(*chat_id),
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
            let library = self.app.library();
            let Some(doc) = library.document(&document) else {
                continue;
            };
            let Some(shown) = doc.section(section) else {
                continue;
            };
            let reply = Reply::new()
                .italic(format!(
                    "补学 · {} · {} 的内容\n",
                    self.app.chat_name(chat_id),
                    date.format("%Y-%m-%d")
                ))
                .text("")
                .for_the_chat();
            let mut reply = reply;
            let body = excerpt(doc, shown);
            reply.spans.extend(body.spans);
            reply.buttons = body.buttons;
            replies.push(
                self.app
                    .with_check_in(reply, chat_id, &document, section, date),
            );
        }
        replies
    }
}

impl App {
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
            let roster = self.roster_of(chat_id, Some(user_id), now)?;
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
        let roster = self.roster_of(chat.chat_id, None, now);
        match roster {
            Ok(roster) => self.with_app_link(
                roster.message(),
                chat.chat_id,
                crate::webapp::View::Dashboard,
            ),
            Err(error) => AppError::from(error).reply(chat.chat_id),
        }
    }

    /// `/roster`'s figures for `chat_id` at `now` (only `user`'s line when given), from the
    /// members, their check-in days and today's check-ins: the same for `/roster`, the
    /// private `/roster` and the Mini App's dashboard.
    pub(in crate::app) fn roster_of(
        &self,
        chat_id: i64,
        user: Option<u64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Roster> {
        Ok(self.roster_and_days(chat_id, user, now)?.0)
    }

    /// [`App::roster_of`] and the days it was computed from (every member's, those who
    /// left too), for a caller that needs both (the dashboard's chart).
    pub(in crate::app) fn roster_and_days(
        &self,
        chat_id: i64,
        user: Option<u64>,
        now: DateTime<Utc>,
    ) -> StoreResult<(Roster, BTreeMap<u64, Days>)> {
        let zone = self.chat_zone(chat_id);
        let today = local_date(now, zone);
        let mut members = self.store().members(chat_id)?;
        let (days, today_at) = match user {
            Some(user_id) => {
                members.retain(|m| m.user_id == user_id);
                let days = BTreeMap::from([(user_id, self.store().days_of(chat_id, user_id)?)]);
                let today_at = self
                    .store()
                    .member_check_in(chat_id, today, user_id)?
                    .map(|c| (user_id, c.at));
                (days, today_at.into_iter().collect())
            }
            None => (
                self.store().member_days(chat_id)?,
                self.store().check_in_times(chat_id, today)?,
            ),
        };
        let roster = Roster::new(&members, &days, &today_at, now, zone);
        Ok((roster, days))
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
}
