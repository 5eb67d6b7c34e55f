//! The daily excerpt from the app's side: the subscription commands (`/subscribe`,
//! `/unsubscribe`, `/settime`, `/timezone`, `/status`, `/plan`, `/today`) and the
//! deliveries the scheduler sends.
//!
//! No network and no clock here: every method takes `now`, and deliveries are returned
//! as values for the transport to send, which then reports back:
//!
//! ```text
//! loop {
//!     let batch = app.daily().due(now, 500)?;          // marks each day "intended"
//!     if batch.is_empty() { break; }
//!     for delivery in batch {                           // send delivery.replies in order
//!         Ok(ids)  => app.daily().succeeded(chat, date, &ids, now)?,
//!         Err(err) => app.daily().failed(chat, date, &reason, kind, now)?,
//!     }
//! }
//! ```
//!
//! A command that can make a chat due sooner (`/subscribe`, `/settime`, `/timezone`)
//! wakes the delivery task with [`App::deliveries_changed`]; otherwise the task sleeps
//! until the earliest due instant.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::app::{App, AppError, ChatContext};
use crate::command::BadArgument;
use crate::messages::daily::{self, errors};
use crate::plan::ReadingPlan;
use crate::reply::{MESSAGE_LIMIT, Reply};
use crate::schedule::{
    Due, FailureKind, Subscriber, Subscription, TimeError, ZoneError, day_start, decide,
    format_time, local_date,
};
use crate::store::{DueCursor, StoreError, StoreResult};
use crate::text::SectionId;

/// One chat's excerpt for one local day, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The chat to send to.
    pub chat_id: i64,
    /// The forum topic to send to, if the chat subscribed in one.
    pub topic: Option<i32>,
    /// The chat's local date the excerpt is for (pass it back when reporting).
    pub local_date: NaiveDate,
    /// The section the excerpt carries.
    pub section: SectionId,
    /// The messages, in order; each already fits Telegram's 4096-character limit.
    pub replies: Vec<Reply>,
}

/// The daily excerpt: its commands, and the deliveries the delivery task sends and
/// reports back on.
pub struct Daily<'a> {
    app: &'a App,
}

impl App {
    /// The daily excerpt's side of the app.
    pub fn daily(&self) -> Daily<'_> {
        Daily { app: self }
    }
}

impl Daily<'_> {
    /// The earliest instant a daily excerpt (or the retry of a failed one) is due, if
    /// any: the delivery loop sleeps until then at the longest.
    pub fn next_instant(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.app.store().earliest_due()
    }

    /// `/subscribe [HH:MM]`: subscribes the chat (the time defaults to the configured
    /// one), or turns a past subscription on again with its progress. Group admins only.
    pub fn subscribe(
        &self,
        chat: &ChatContext,
        time: Result<Option<NaiveTime>, BadArgument<TimeError>>,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        if !chat.is_admin {
            return vec![errors::admin_only("订阅每日学习")];
        }
        let send_time = match time {
            Ok(time) => time,
            Err(bad) => return vec![errors::bad_time("/subscribe", &bad.text, bad.error)],
        };
        let config = self.app.config();
        let mut fresh = Subscription::new(
            chat.chat_id,
            &self.app.chat_document(chat.chat_id, None).id,
            send_time.unwrap_or(config.daily_time),
            config.timezone,
            Subscriber {
                user_id: chat.user_id,
                name: chat.user_name.clone(),
            },
            now,
        );
        fresh.topic = chat.topic;
        match self.app.store().subscribe(fresh, send_time, now) {
            Ok((subscription, outcome)) => {
                self.app.deliveries_changed();
                let document = &*self
                    .app
                    .chat_document(subscription.chat_id, Some(&subscription));
                vec![daily::subscribed(
                    &ReadingPlan::new(document),
                    &subscription,
                    outcome,
                )]
            }
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/unsubscribe`: stops the daily excerpt, keeping the progress. Group admins only.
    pub fn unsubscribe(&self, chat: &ChatContext) -> Vec<Reply> {
        if !chat.is_admin {
            return vec![errors::admin_only("退订每日学习")];
        }
        match self.app.store().unsubscribe(chat.chat_id) {
            Ok(Some(change)) if change.before.active => {
                let document = &*self
                    .app
                    .chat_document(change.after.chat_id, Some(&change.after));
                vec![daily::unsubscribed(
                    &ReadingPlan::new(document),
                    &change.after,
                )]
            }
            Ok(_) => vec![daily::not_subscribed(
                "无需退订。如需订阅，请发送 /subscribe 08:00。",
            )],
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/settime HH:MM`: changes the local send time. Group admins only.
    pub fn set_time(
        &self,
        chat: &ChatContext,
        time: Result<NaiveTime, BadArgument<TimeError>>,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        if !chat.is_admin {
            return vec![errors::admin_only("修改发送时间")];
        }
        let send_time = match time {
            Ok(time) => time,
            Err(bad) => return vec![errors::bad_time("/settime", &bad.text, bad.error)],
        };
        match self.app.store().set_time(chat.chat_id, send_time, now) {
            Ok(Some(change)) => {
                self.app.deliveries_changed();
                let document = &*self
                    .app
                    .chat_document(change.after.chat_id, Some(&change.after));
                vec![daily::time_changed(
                    &ReadingPlan::new(document),
                    &change.after,
                )]
            }
            Ok(None) => vec![daily::not_subscribed(&format!(
                "可以直接订阅并指定时间：/subscribe {}。",
                format_time(send_time)
            ))],
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/timezone <IANA name>`: changes the chat's zone (group admins only); without a
    /// name, shows the current one.
    pub fn set_timezone(
        &self,
        chat: &ChatContext,
        zone: Option<Result<Tz, BadArgument<ZoneError>>>,
        now: DateTime<Utc>,
    ) -> Vec<Reply> {
        let Some(zone) = zone else {
            let current = match self.app.store().subscription(chat.chat_id) {
                Ok(subscription) => crate::calendar::zone_or_default(
                    subscription.map(|s| s.timezone),
                    self.app.config().timezone,
                ),
                Err(error) => return vec![AppError::from(error).reply(chat.chat_id)],
            };
            return vec![daily::current_timezone(current.name())];
        };
        if !chat.is_admin {
            return vec![errors::admin_only("修改时区")];
        }
        let zone = match zone {
            Ok(zone) => zone,
            Err(bad) => return vec![errors::bad_timezone(&bad.text, bad.error)],
        };
        match self.app.store().set_timezone(chat.chat_id, zone, now) {
            Ok(Some(change)) => {
                self.app.deliveries_changed();
                let document = &*self
                    .app
                    .chat_document(change.after.chat_id, Some(&change.after));
                vec![daily::timezone_changed(
                    &ReadingPlan::new(document),
                    &change.after,
                )]
            }
            Ok(None) => vec![daily::not_subscribed(&format!(
                "请先发送 /subscribe 08:00，再发送 /timezone {}。",
                zone.name()
            ))],
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/status`: whether the chat is subscribed, its time and zone, the next send and
    /// section, the last delivery and who subscribed.
    pub fn status(&self, chat: &ChatContext) -> Vec<Reply> {
        match self.app.store().subscription(chat.chat_id) {
            Ok(subscription) => {
                let document = &*self.app.chat_document(chat.chat_id, subscription.as_ref());
                vec![daily::status(
                    &ReadingPlan::new(document),
                    subscription.as_ref(),
                )]
            }
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/plan`: progress through the text with a bar, and what comes next.
    pub fn plan(&self, chat: &ChatContext) -> Vec<Reply> {
        match self.app.store().subscription(chat.chat_id) {
            Ok(subscription) => {
                let document = &*self.app.chat_document(chat.chat_id, subscription.as_ref());
                let position = subscription.as_ref().map_or(0, |s| s.position);
                vec![daily::plan(
                    &ReadingPlan::new(document),
                    position,
                    subscription.as_ref(),
                )]
            }
            Err(error) => vec![AppError::from(error).reply(chat.chat_id)],
        }
    }

    /// `/today`: today's excerpt now, without moving the plan. Once today's scheduled
    /// excerpt was sent, that one is shown again; before, the one due today.
    pub fn today(&self, chat: &ChatContext, now: DateTime<Utc>) -> Vec<Reply> {
        let subscription = match self.app.store().subscription(chat.chat_id) {
            Ok(subscription) => subscription,
            Err(error) => return vec![AppError::from(error).reply(chat.chat_id)],
        };
        let document = &*self.app.chat_document(chat.chat_id, subscription.as_ref());
        let position = match &subscription {
            Some(s) if s.last_sent_date() == Some(local_date(now, s.timezone)) => {
                s.position.saturating_sub(1)
            }
            Some(s) => s.position,
            None => 0,
        };
        let Some(section) = ReadingPlan::new(document).section(position) else {
            return Vec::new();
        };
        let excerpt = daily::excerpt(document, section);
        let mut replies = vec![self.app.with_todays_check_in(chat, None, excerpt, now)];
        if !subscription.is_some_and(|s| s.active) {
            replies.push(daily::today_unsubscribed_hint());
        }
        replies
    }

    /// The deliveries due at `now`, at most `limit`, each marked "intended" in the ledger
    /// before it is returned. Days found already sent are closed, days past their grace
    /// window are skipped (see [`decide`]); neither is returned. A chat moved on that way
    /// is looked at again at once: after an outage of any length, its first day whose
    /// grace window is still open at `now` is returned by the same call.
    ///
    /// A chat whose state cannot be read (a damaged subscription record or ledger entry)
    /// is logged once and set aside ([`crate::store::Store::set_aside`]): it never fails
    /// the pass for the other chats, and is not met again on every pass.
    ///
    /// Report every returned delivery with [`Daily::succeeded`] or
    /// [`Daily::failed`] before calling this again: a day still "intended" is
    /// taken for one interrupted by a crash and is returned again, which is the
    /// documented "at most one duplicate per message in flight" guarantee. Call it
    /// repeatedly until it returns nothing to serve everything due.
    pub fn due(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Delivery>> {
        let store = self.app.store();
        let mut deliveries = Vec::new();
        let mut cursor = DueCursor::default();
        // A chat moved to a later instant that is also due (a skipped or closed day) is
        // met again further on in the index: it has been dealt with in this call.
        let mut seen = HashSet::new();
        while deliveries.len() < limit {
            let (page, next) = store.due_page(now, &cursor, limit - deliveries.len())?;
            if page.is_empty() {
                break;
            }
            cursor = next;
            for mut subscription in page {
                if !seen.insert(subscription.chat_id) {
                    continue;
                }
                match self.app.prepare(&mut subscription, now) {
                    Ok(Some(delivery)) => deliveries.push(delivery),
                    Ok(None) => {}
                    Err(error @ StoreError::Corrupt { .. }) => {
                        tracing::error!(
                            chat_id = subscription.chat_id,
                            %error,
                            "cannot prepare the chat's excerpt: its state cannot be read; \
                             set aside (no excerpts) until it is repaired"
                        );
                        store.set_aside(&subscription)?;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(deliveries)
    }

    /// Telegram accepted a delivery's messages: the ledger records them and the chat's
    /// plan advances to the next section and the next day.
    pub fn succeeded(
        &self,
        chat_id: i64,
        local_date: NaiveDate,
        message_ids: &[i32],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // The group may have become a supergroup while the messages were on their way:
        // the day is recorded where its ledger now is, or it would be sent again there.
        self.app.at_current_id(chat_id, |chat_id| {
            let section = self.app.delivered_section(chat_id, local_date)?;
            self.app
                .store()
                .mark_sent(chat_id, local_date, section, message_ids, now)?;
            // sled makes writes durable only on flush (every 500 ms by default); a crash in
            // between would forget that Telegram has the message and send it again. Flushing
            // here keeps the duplicate bound at "messages in flight at the crash".
            self.app.store().flush()?;
            tracing::info!(chat_id, %local_date, %section, "excerpt sent");
            Ok(())
        })
    }

    /// A delivery failed after the transport's own retries. What follows depends on
    /// `kind` (see [`FailureKind`]): only a chat that is gone (the bot was removed or
    /// blocked, the chat does not exist) has its subscription disabled until it
    /// subscribes again; a transient failure is tried again a few minutes later, a
    /// refused one (the bot may not write there for now) an hour later and on the
    /// following days, and `/status` shows the reason and the last attempt.
    pub fn failed(
        &self,
        chat_id: i64,
        local_date: NaiveDate,
        reason: &str,
        kind: FailureKind,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.app.at_current_id(chat_id, |chat_id| {
            let section = self.app.delivered_section(chat_id, local_date)?;
            self.app
                .store()
                .mark_failed(chat_id, local_date, section, kind, reason, now)?;
            tracing::warn!(chat_id, %local_date, ?kind, reason, "excerpt not sent");
            Ok(())
        })
    }
}

impl App {
    /// Decides what is due for one chat the index says is due at `now`, recording what it
    /// decided; `subscription` follows each change. Returns the delivery to send, if any.
    fn prepare(
        &self,
        subscription: &mut Subscription,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>> {
        let store = self.store();
        let grace = self.config().grace;
        // Each step moves the chat to a later date, and a skipped day jumps straight to
        // the first one whose window is open: a few steps always reach a decision.
        for _ in 0..4 {
            let chat_id = subscription.chat_id;
            let date = subscription.next_date;
            // An entry written for this date in another zone (before the chat moved)
            // says nothing about this day.
            let zone = subscription.timezone;
            let entry = store
                .ledger_entry(chat_id, date)?
                .filter(|entry| entry.is_for_day(date, zone));
            let moved = match decide(
                subscription.scheduled(),
                entry.as_ref().map(|e| &e.state),
                now,
                grace,
            ) {
                Due::Send => {
                    let document = &*self.chat_document(subscription.chat_id, Some(subscription));
                    let Some(section) = ReadingPlan::new(document).section(subscription.position)
                    else {
                        return Ok(None);
                    };
                    let day_start = day_start(date, zone);
                    if !store.mark_intended_since(chat_id, date, section.id, now, day_start)? {
                        return Ok(None); // recorded as sent by a concurrent report
                    }
                    tracing::debug!(chat_id, %date, section = %section.id, "excerpt due");
                    crate::telemetry::delivery_due(
                        (now - subscription.scheduled())
                            .to_std()
                            .unwrap_or_default(),
                    );
                    return Ok(Some(Delivery {
                        chat_id,
                        topic: subscription.topic,
                        local_date: date,
                        section: section.id,
                        replies: self
                            .with_check_in(
                                daily::excerpt(document, section),
                                chat_id,
                                &document.id,
                                section.id,
                                date,
                            )
                            .split(MESSAGE_LIMIT),
                    }));
                }
                Due::AlreadyDone => {
                    tracing::info!(chat_id, %date, "day already sent; moving on");
                    store.complete_day(chat_id, date, now)?
                }
                Due::Missed => {
                    tracing::warn!(chat_id, %date, "grace window passed; skipping the day");
                    crate::telemetry::delivery_missed();
                    store.skip_day(chat_id, date, now)?
                }
                Due::NotYet => {
                    // Indexed as due before its day's send time: only a record written by
                    // hand (or damaged) says so. Index it at its send time instead of
                    // meeting it again on every pass.
                    if subscription.next_due < subscription.scheduled() {
                        tracing::warn!(chat_id, %date, next_due = %subscription.next_due, "next due instant before the day's send time; repaired");
                        store.repair_next_due(chat_id)?;
                    }
                    return Ok(None);
                }
            };
            match moved {
                Some(next) if next.active && next.next_due <= now => *subscription = next,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The section of a day's delivery: the one the ledger says was intended, else the
    /// chat's next one in the plan.
    fn delivered_section(&self, chat_id: i64, date: NaiveDate) -> StoreResult<SectionId> {
        if let Some(entry) = self.store().ledger_entry(chat_id, date)? {
            return Ok(entry.section);
        }
        let subscription = self.store().subscription(chat_id)?;
        let document = &*self.chat_document(chat_id, subscription.as_ref());
        let position = subscription.map_or(0, |s| s.position);
        Ok(ReadingPlan::new(document)
            .section(position)
            .map_or(SectionId::OPENING, |s| s.id))
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

    use super::*;
    use crate::app::ChatKind;
    use crate::app::library::Library;
    use crate::config::Config;
    use crate::messages::TITLE_ONLY_NOTICE;
    use crate::store::Store;
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");
    const GROUP: i64 = -100;

    fn app_with(store: Store) -> App {
        let document = parse_document("xzsj.md", SPEECH).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        App::new(library, store, Config::default())
    }

    fn group(is_admin: bool) -> ChatContext {
        ChatContext {
            chat_id: GROUP,
            kind: ChatKind::Group,
            user_id: 7,
            user_name: "王书记".into(),
            is_admin,
            topic: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn text(replies: &[Reply]) -> String {
        replies
            .iter()
            .map(Reply::plain_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Subscribes the test group at 08:00 Shanghai on 2026-05-01 (first send 05-02).
    fn subscribed_app(store: Store) -> App {
        let app = app_with(store);
        let reply = text(&app.daily().subscribe(
            &group(true),
            arg!("subscribe", "08:00", Subscribe),
            utc("2026-05-01T04:00:00Z"),
        ));
        assert!(
            reply.contains("已订阅每日学习") && reply.contains("2026-05-02 08:00"),
            "{reply}"
        );
        app
    }

    /// Runs one scheduler pass the way the transport does, every send succeeding.
    fn tick(app: &App, now: DateTime<Utc>) -> Vec<Delivery> {
        let batch = app.daily().due(now, 100).unwrap();
        for (n, delivery) in batch.iter().enumerate() {
            app.daily()
                .succeeded(delivery.chat_id, delivery.local_date, &[n as i32], now)
                .unwrap();
        }
        batch
    }

    #[test]
    fn status_names_the_subscriber_without_bidi_controls() {
        let app = app_with(Store::in_memory());
        let admin = ChatContext {
            user_name: "\u{202E}王书记".into(),
            ..group(true)
        };
        app.daily().subscribe(
            &admin,
            arg!("subscribe", "08:00", Subscribe),
            utc("2026-05-01T04:00:00Z"),
        );
        let status = text(&app.daily().status(&admin));
        assert!(
            status.contains("订阅人：王书记（2026-05-01）"),
            "{status:?}"
        );
    }

    #[test]
    fn only_admins_change_a_groups_subscription() {
        let app = app_with(Store::in_memory());
        let now = utc("2026-05-01T04:00:00Z");
        let member = group(false);
        for (replies, what) in [
            (
                app.daily()
                    .subscribe(&member, arg!("subscribe", "08:00", Subscribe), now),
                "订阅每日学习",
            ),
            (app.daily().unsubscribe(&member), "退订每日学习"),
            (
                app.daily()
                    .set_time(&member, arg!("settime", "20:30", SetTime), now),
                "修改发送时间",
            ),
            (
                app.daily()
                    .set_timezone(&member, arg!("timezone", "Europe/Berlin", Timezone), now),
                "修改时区",
            ),
        ] {
            assert_eq!(text(&replies), text(&[errors::admin_only(what)]));
            assert!(text(&replies).contains(&format!("只有群管理员可以{what}")));
        }
        assert_eq!(app.store().subscription(GROUP).unwrap(), None);
        // Reading is for everyone.
        assert!(text(&app.daily().status(&member)).contains("未订阅"));
        assert!(text(&app.daily().plan(&member)).contains("学习进度 0/21"));
        assert!(text(&app.daily().today(&member, now)).contains("今日学习 · 开场"));
        assert!(
            text(
                &app.daily()
                    .set_timezone(&member, arg!("timezone", "", Timezone), now)
            )
            .contains("Asia/Shanghai")
        );
    }

    #[test]
    fn bad_arguments_say_what_was_wrong_with_an_example() {
        let app = subscribed_app(Store::in_memory());
        let now = utc("2026-05-01T05:00:00Z");
        let admin = group(true);
        let cases = [
            (
                app.daily()
                    .subscribe(&admin, arg!("subscribe", "25:00", Subscribe), now),
                ["25:00", "/subscribe 08:00"],
            ),
            (
                app.daily()
                    .set_time(&admin, arg!("settime", "8点", SetTime), now),
                ["8点", "/settime 08:00"],
            ),
            (
                app.daily()
                    .set_time(&admin, arg!("settime", "", SetTime), now),
                ["请写上时间", "/settime 20:30"],
            ),
            (
                app.daily()
                    .set_timezone(&admin, arg!("timezone", "Mars/Olympus", Timezone), now),
                ["Mars/Olympus", "/timezone Asia/Shanghai"],
            ),
        ];
        for (replies, expected) in cases {
            let reply = text(&replies);
            for part in expected {
                assert!(reply.contains(part), "{reply} lacks {part}");
            }
        }
        let unchanged = app.store().subscription(GROUP).unwrap().unwrap();
        assert_eq!(format_time(unchanged.send_time), "08:00");
        assert_eq!(unchanged.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn a_group_reads_one_section_a_day_in_order() {
        let app = subscribed_app(Store::in_memory());
        assert!(
            tick(&app, utc("2026-05-01T23:59:59Z")).is_empty(),
            "not before 08:00"
        );

        let first = tick(&app, utc("2026-05-02T00:00:30Z"));
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].chat_id, first[0].section),
            (GROUP, SectionId::OPENING)
        );
        assert_eq!(
            first[0].local_date,
            NaiveDate::from_ymd_opt(2026, 5, 2).unwrap()
        );
        assert_eq!(first[0].replies.len(), 1);
        let excerpt = first[0].replies[0].plain_text();
        assert!(
            excerpt.starts_with("今日学习 · 开场\n\n同志们"),
            "{excerpt}"
        );
        let labels: Vec<&str> = first[0].replies[0].buttons[0]
            .iter()
            .map(|b| b.label.as_str())
            .collect();
        assert_eq!(labels, ["本节全文", "提纲"]);
        assert!(
            tick(&app, utc("2026-05-02T00:01:00Z")).is_empty(),
            "exactly one a day"
        );

        let second = tick(&app, utc("2026-05-03T00:00:30Z"));
        assert_eq!(second[0].section, SectionId::part(1));
        assert!(
            second[0].replies[0]
                .plain_text()
                .starts_with("今日学习 · 第一部分 铸牢政治之魂 · 把准前行方向\n")
        );

        let now = utc("2026-05-03T05:00:00Z");
        let status = text(&app.daily().status(&group(false)));
        for part in [
            "每日学习：已订阅",
            "每天 08:00（Asia/Shanghai）",
            "下次发送：2026-05-04 08:00",
            "下一节：1.1 以学立身筑牢忠诚根基（不完整）",
            "上次发送：2026-05-03 已发送",
            "订阅人：王书记（2026-05-01）",
        ] {
            assert!(status.contains(part), "{status} lacks {part}");
        }
        let plan = text(&app.daily().plan(&group(false)));
        assert!(
            plan.contains("学习进度 2/21\n▓▓░░░░░░░░░░░░░░░░░░░"),
            "{plan}"
        );
        // /today repeats today's section and does not move the plan.
        let today = text(&app.daily().today(&group(false), now));
        assert!(
            today.starts_with("今日学习 · 第一部分 铸牢政治之魂"),
            "{today}"
        );
        assert_eq!(
            app.store().subscription(GROUP).unwrap().unwrap().position,
            2
        );
    }

    #[test]
    fn the_plan_wraps_around_after_the_last_section() {
        let app = subscribed_app(Store::in_memory());
        let document = app.library().default_document().clone();
        let mut day = utc("2026-05-02T00:00:30Z");
        for index in 0..22 {
            let batch = tick(&app, day);
            assert_eq!(batch.len(), 1, "day {index}");
            assert_eq!(
                batch[0].section,
                document.sections[index % 21].id,
                "day {index}"
            );
            day += chrono::TimeDelta::days(1);
        }
        let plan = text(&app.daily().plan(&group(true)));
        assert!(plan.contains("学习进度 1/21（第 2 轮）"), "{plan}");
    }

    #[test]
    fn title_only_sections_are_short_honest_cards() {
        let app = app_with(Store::in_memory());
        let document = &*app.library().default_document().clone();
        let card =
            |id: SectionId| daily::excerpt(document, document.section(id).unwrap()).plain_text();
        assert_eq!(
            card(SectionId::point(1, 2)),
            format!(
                "今日学习 · 第一部分 铸牢政治之魂 · 1.2 以谋定向服务发展大局\n\n{TITLE_ONLY_NOTICE}"
            )
        );
        let intro = card(SectionId::part(2));
        assert!(intro.starts_with(&format!(
            "今日学习 · 第二部分 厚植为民之心 · 站稳群众立场\n\n{TITLE_ONLY_NOTICE}"
        )));
        assert!(intro.contains("2.2 用真心化解急难愁盼"), "{intro}");
        assert!(
            card(SectionId::point(2, 2))
                .starts_with("今日学习 · 第二部分 厚植为民之心 · 2.2 用真心化解急难愁盼\n\n")
        );
    }

    /// Issue 19 item 16: the scheduled excerpt of a 2 MB section is at most three
    /// messages, says where the rest is, and keeps every limit (with its ✅ button).
    #[test]
    fn the_excerpt_of_a_2_mb_section_is_three_messages_at_most() {
        let body = "这是一篇很长的讲话中的一句话。".repeat(46_000);
        let source = format!(
            "---\nid: big\ntitle: 长文本\n---\n# 0 开场 [full]\n{body}\n# 1 工作回顾 [full]\n去年很好。\n"
        );
        let store = Store::in_memory();
        let document = parse_document("big.md", &source).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        let app = App::new(library, store, Config::default());
        app.daily().subscribe(
            &group(true),
            arg!("subscribe", "08:00", Subscribe),
            utc("2026-05-01T04:00:00Z"),
        );
        let batch = tick(&app, utc("2026-05-02T00:00:30Z"));
        assert_eq!(batch.len(), 1);
        let replies = &batch[0].replies;
        assert!((1..=3).contains(&replies.len()), "{}", replies.len());
        for reply in replies {
            assert!(
                reply.limit_violations().is_empty(),
                "{:?}",
                reply.limit_violations()
            );
        }
        let last = replies.last().unwrap();
        assert!(
            last.plain_text()
                .contains("全文见 /section 0，接着读：/section 0 第 4 页"),
            "{}",
            last.plain_text()
        );
        let labels: Vec<&str> = last
            .buttons
            .iter()
            .flatten()
            .map(|b| b.label.as_str())
            .collect();
        assert!(
            labels.contains(&"第 4 页 ▶") && labels.contains(&"✅ 已学习"),
            "{labels:?}"
        );
    }

    #[test]
    fn every_excerpt_is_one_message() {
        // The crash guarantee counts messages in flight; with one message per excerpt it
        // is also at most one duplicate excerpt per chat.
        let app = app_with(Store::in_memory());
        let document = app.library().default_document().clone();
        for section in &document.sections {
            assert_eq!(
                daily::excerpt(&document, section)
                    .split(MESSAGE_LIMIT)
                    .len(),
                1,
                "{}",
                section.id
            );
        }
    }

    #[test]
    fn a_crash_mid_send_resends_once_within_the_grace_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let at = utc("2026-05-02T00:00:30Z");
        {
            let app = subscribed_app(Store::open(&path).unwrap());
            let batch = app.daily().due(at, 100).unwrap();
            assert_eq!(batch.len(), 1);
            // The process dies here: Telegram may or may not have the message.
            app.store().flush().unwrap();
        }
        let app = app_with(Store::open(&path).unwrap());
        let again = tick(&app, at + chrono::TimeDelta::minutes(2));
        assert_eq!(again.len(), 1, "sent again: the one possible duplicate");
        assert_eq!(again[0].section, SectionId::OPENING);
        assert!(
            tick(&app, at + chrono::TimeDelta::minutes(3)).is_empty(),
            "never a third time"
        );
        assert_eq!(
            app.store().subscription(GROUP).unwrap().unwrap().position,
            1
        );
    }

    #[test]
    fn a_day_past_its_grace_window_is_skipped_not_replayed() {
        let app = subscribed_app(Store::in_memory());
        let at = utc("2026-05-02T00:00:30Z");
        assert_eq!(app.daily().due(at, 100).unwrap().len(), 1);
        // Down until 14:30 local, past the six-hour window.
        let late = utc("2026-05-02T06:30:00Z");
        assert!(tick(&app, late).is_empty());
        let status = text(&app.daily().status(&group(true)));
        assert!(status.contains("2026-05-02 未能发送"), "{status}");
        assert!(status.contains("下次发送：2026-05-03 08:00"), "{status}");
        // The plan did not move: the next day brings the same section.
        let next = tick(&app, utc("2026-05-03T00:00:30Z"));
        assert_eq!(next[0].section, SectionId::OPENING);
    }

    #[test]
    fn failures_are_retried_or_disable_the_subscription() {
        let app = subscribed_app(Store::in_memory());
        let at = utc("2026-05-02T00:00:30Z");
        let batch = app.daily().due(at, 100).unwrap();
        let date = batch[0].local_date;
        app.daily()
            .failed(
                GROUP,
                date,
                "Telegram unavailable: 502",
                FailureKind::Transient,
                at,
            )
            .unwrap();
        assert!(
            app.daily()
                .due(at + chrono::TimeDelta::minutes(1), 100)
                .unwrap()
                .is_empty()
        );
        let retry = app
            .daily()
            .due(at + chrono::TimeDelta::minutes(5), 100)
            .unwrap();
        assert_eq!(retry.len(), 1);

        let reason = "Forbidden: bot was kicked from the group chat";
        app.daily()
            .failed(GROUP, date, reason, FailureKind::ChatGone, at)
            .unwrap();
        assert!(
            app.daily()
                .due(utc("2026-06-01T00:00:00Z"), 100)
                .unwrap()
                .is_empty()
        );
        let status = text(&app.daily().status(&group(true)));
        assert!(
            status.contains("已停用") && status.contains(reason),
            "{status}"
        );
        // Re-added, an admin subscribes again: back on, progress kept.
        let back = text(
            &app.daily()
                .subscribe(&group(true), arg!("subscribe", "", Subscribe), at),
        );
        assert!(back.contains("已重新订阅"), "{back}");
        assert_eq!(tick(&app, utc("2026-05-03T00:00:30Z")).len(), 1);
    }

    #[test]
    fn a_kicked_bot_disables_at_once() {
        let app = subscribed_app(Store::in_memory());
        app.chats().removed(
            GROUP,
            "bot removed from the chat (my_chat_member)",
            utc("2026-05-01T06:00:00Z"),
        );
        assert!(
            app.daily()
                .due(utc("2026-05-02T00:00:30Z"), 100)
                .unwrap()
                .is_empty()
        );
        assert!(!app.store().subscription(GROUP).unwrap().unwrap().active);
    }

    #[test]
    fn a_migrated_group_gets_the_days_excerpt_at_its_new_id() {
        let app = subscribed_app(Store::in_memory());
        let at = utc("2026-05-02T00:00:30Z");
        assert_eq!(app.daily().due(at, 100).unwrap().len(), 1);
        // The send failed with "migrated to supergroup".
        let supergroup = -100_123;
        app.chats().migrated(GROUP, supergroup, at);
        let batch = tick(&app, at + chrono::TimeDelta::seconds(5));
        assert_eq!(batch.len(), 1);
        assert_eq!(
            (batch[0].chat_id, batch[0].section),
            (supergroup, SectionId::OPENING)
        );
        assert_eq!(app.store().subscription(GROUP).unwrap(), None);
        let moved = ChatContext {
            chat_id: supergroup,
            ..group(true)
        };
        assert!(text(&app.daily().plan(&moved)).contains("学习进度 1/21"));
    }

    #[test]
    fn an_excerpt_sent_while_its_group_became_a_supergroup_is_not_sent_again() {
        let app = subscribed_app(Store::in_memory());
        let at = utc("2026-05-02T00:00:30Z");
        let batch = app.daily().due(at, 100).unwrap();
        assert_eq!(batch.len(), 1);
        // Telegram took the message; the group's upgrade was handled before the
        // delivery task recorded it under the id it sent to.
        let supergroup = -100_123;
        app.chats().migrated(GROUP, supergroup, at);
        app.daily()
            .succeeded(GROUP, batch[0].local_date, &[7], at)
            .unwrap();
        assert!(
            tick(&app, at + chrono::TimeDelta::minutes(5)).is_empty(),
            "the day is sent"
        );
        let next = tick(&app, utc("2026-05-03T00:00:30Z"));
        assert_eq!(
            (next[0].chat_id, next[0].section),
            (supergroup, SectionId::part(1)),
            "the next day, the next section"
        );
    }

    /// Issue 10, item 1: back after three days at 08:00:30, today's excerpt goes out in
    /// the very pass that finds the old day missed.
    #[test]
    fn after_an_outage_todays_excerpt_goes_out_in_the_same_pass() {
        let app = subscribed_app(Store::in_memory());
        let back = utc("2026-05-05T00:00:30Z");
        let batch = tick(&app, back);
        assert_eq!(batch.len(), 1, "today's excerpt, not tomorrow's");
        assert_eq!(
            (batch[0].local_date, batch[0].section),
            (
                NaiveDate::from_ymd_opt(2026, 5, 5).unwrap(),
                SectionId::OPENING
            )
        );
        assert!(tick(&app, back + chrono::TimeDelta::minutes(1)).is_empty());
        let status = text(&app.daily().status(&group(true)));
        assert!(status.contains("上次发送：2026-05-05 已发送"), "{status}");
        assert!(status.contains("下次发送：2026-05-06 08:00"), "{status}");
    }

    /// Issue 10, item 2: moved west after today's excerpt, the chat gets the new zone's
    /// "today" (the ledger entry stored under the same date belongs to the old zone's
    /// day), then one excerpt a day; moving the time later that day changes nothing.
    #[test]
    fn moving_west_after_todays_excerpt_serves_the_new_zones_today() {
        let app = app_with(Store::in_memory());
        let admin = group(true);
        app.daily().subscribe(
            &admin,
            arg!("subscribe", "13:47", Subscribe),
            utc("2026-11-30T05:00:00Z"),
        );
        let sent = tick(&app, utc("2026-11-30T05:47:30Z"));
        assert_eq!(sent.len(), 1);
        let reply = text(&app.daily().set_timezone(
            &admin,
            arg!("timezone", "America/Los_Angeles", Timezone),
            utc("2026-11-30T06:00:00Z"),
        ));
        assert!(
            reply.contains("下次发送：2026-11-30 13:47（America/Los_Angeles）"),
            "{reply}"
        );
        let status = text(&app.daily().status(&admin));
        assert!(status.contains("上次发送：2026-11-29 已发送"), "{status}");
        // 13:47:30 in Los Angeles on 11-30.
        let la = tick(&app, utc("2026-11-30T21:47:30Z"));
        assert_eq!(la.len(), 1, "Los Angeles' 11-30 is served");
        assert_eq!(la[0].section, SectionId::part(1));
        // Later that day: moving the time to 20:00 serves nothing more on 11-30.
        let reply = text(&app.daily().set_time(
            &admin,
            arg!("settime", "20:00", SetTime),
            utc("2026-11-30T22:00:00Z"),
        ));
        assert!(reply.contains("下次发送：2026-12-01 20:00"), "{reply}");
        assert!(tick(&app, utc("2026-12-01T04:00:30Z")).is_empty());
        assert_eq!(tick(&app, utc("2026-12-02T04:00:30Z")).len(), 1);
    }

    /// Issue 10, item 3: a missing right to write is retried (within the day, then on the
    /// following days) and never switches the subscription off; `/status` says what an
    /// administrator has to do, and when it was last tried.
    #[test]
    fn a_rights_problem_is_retried_and_explained() {
        let app = subscribed_app(Store::in_memory());
        let at = utc("2026-05-02T00:00:30Z");
        let batch = app.daily().due(at, 100).unwrap();
        let reason = "no right to send messages: Bad Request: not enough rights to send text messages to the chat";
        app.daily()
            .failed(
                GROUP,
                batch[0].local_date,
                reason,
                FailureKind::NoRights,
                at,
            )
            .unwrap();
        let subscription = app.store().subscription(GROUP).unwrap().unwrap();
        assert!(subscription.active && subscription.disabled_reason.is_none());
        let status = text(&app.daily().status(&group(false)));
        for part in [
            "每日学习：已订阅",
            "上次发送：2026-05-02 发送失败",
            "没有发消息的权限",
            "最近一次尝试：2026-05-02 08:00（Asia/Shanghai）",
            "not enough rights",
            "请群管理员在群设置中恢复机器人的“发送消息”权限",
        ] {
            assert!(status.contains(part), "{status} lacks {part}");
        }
        // Not retried every few minutes, but within the hour.
        assert!(
            app.daily()
                .due(at + chrono::TimeDelta::minutes(30), 100)
                .unwrap()
                .is_empty()
        );
        let retry = app
            .daily()
            .due(at + chrono::TimeDelta::hours(1), 100)
            .unwrap();
        assert_eq!(retry.len(), 1);
        let later = at + chrono::TimeDelta::hours(1);
        app.daily()
            .failed(
                GROUP,
                retry[0].local_date,
                reason,
                FailureKind::NoRights,
                later,
            )
            .unwrap();
        // Still muted when the window ends: the day is skipped, the next one tried.
        let next_day = tick(&app, utc("2026-05-03T00:00:30Z"));
        assert_eq!(next_day.len(), 1, "tried again the next day");
        assert_eq!(
            next_day[0].section,
            SectionId::OPENING,
            "the plan did not move"
        );
        let status = text(&app.daily().status(&group(false)));
        assert!(!status.contains("权限"), "solved once sent: {status}");
    }

    /// Issue 10, item 8: a chat whose ledger entry cannot be read is set aside, logged
    /// once; the other chats get their excerpts.
    #[test]
    fn an_unreadable_ledger_entry_holds_up_no_other_chat() {
        let app = app_with(Store::in_memory());
        let now = utc("2026-05-01T04:00:00Z");
        for chat_id in [1, 2, 3] {
            let chat = ChatContext {
                chat_id,
                kind: ChatKind::Private,
                ..group(true)
            };
            app.daily()
                .subscribe(&chat, arg!("subscribe", "08:00", Subscribe), now);
        }
        let day = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
        let days =
            u32::try_from(day.signed_duration_since(NaiveDate::default()).num_days()).unwrap();
        let mut key = ((2_i64 as u64) ^ (1 << 63)).to_be_bytes().to_vec();
        key.extend((days ^ (1 << 31)).to_be_bytes());
        app.store()
            .backend()
            .insert(crate::store::trees::LEDGER, &key, b"{not json")
            .unwrap();
        let at = utc("2026-05-02T00:00:30Z");
        let chats: Vec<i64> = tick(&app, at).iter().map(|d| d.chat_id).collect();
        assert_eq!(chats, [1, 3]);
        assert!(tick(&app, at + chrono::TimeDelta::seconds(3)).is_empty());
    }

    #[test]
    fn batches_are_bounded_and_resume_where_they_stopped() {
        let app = app_with(Store::in_memory());
        let now = utc("2026-05-01T04:00:00Z");
        for chat_id in 1..=25 {
            let chat = ChatContext {
                chat_id,
                kind: ChatKind::Private,
                ..group(true)
            };
            app.daily()
                .subscribe(&chat, arg!("subscribe", "08:00", Subscribe), now);
        }
        let at = utc("2026-05-02T00:00:30Z");
        let mut sizes = Vec::new();
        loop {
            let batch = app.daily().due(at, 10).unwrap();
            if batch.is_empty() {
                break;
            }
            sizes.push(batch.len());
            for delivery in batch {
                app.daily()
                    .succeeded(delivery.chat_id, delivery.local_date, &[1], at)
                    .unwrap();
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
    }
}
