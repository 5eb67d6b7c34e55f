//! The Mini App from the app's side (`app.web()`): what the reader shows, the ✅ check-in
//! pressed in the app, the export, the menu button and the links that open the app; the
//! dashboard is in `dashboard.rs`. Who is asking has been settled by the transport
//! (verified `initData`, membership asked of Telegram); these only read the store and
//! record check-ins, with the same rules as the chat's button.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::app::{App, ChatContext, ChatKind};
use crate::names::display_name;
use crate::record::{CATCH_UP_DAYS, CheckInButton};
use crate::reply::{Action, Button, Reply};
use crate::schedule::local_date;
use crate::store::StoreResult;
use crate::text::{Block, Completeness, SectionId};
use crate::webapp::{StartParam, View};

mod dashboard;

pub(in crate::app) use dashboard::DashboardCache;
pub use dashboard::{
    DashboardMember, DashboardView, DayCount, MAX_CHART_DAYS, MissedQuestion, PartAccuracy,
    WeekFigures, participation_svg,
};

/// The reader's data: the chat's current text with the member's place and marks.
#[derive(Debug, Clone, Serialize)]
pub struct ReaderView {
    /// The text's id.
    pub document: String,
    /// The text's title.
    pub title: String,
    /// Where and when it was given.
    pub occasion: String,
    /// The sections in reading order.
    pub sections: Vec<ReaderSection>,
    /// The chat's section of the day (`2.1`), if the plan has one.
    pub today: Option<String>,
    /// The sections this member has checked in for (any day of the record).
    pub checked: Vec<String>,
    /// The sections this member may check in for now: today's and those the chat was
    /// sent in the last 30 days (as the catch-up allows).
    pub checkable: Vec<String>,
    /// The member's name, as Telegram shows it.
    pub user: String,
}

/// One section of the reader.
#[derive(Debug, Clone, Serialize)]
pub struct ReaderSection {
    /// The canonical id (`0`, `2`, `2.1`).
    pub id: String,
    /// The heading as a reader sees it.
    pub heading: String,
    /// `full`, `partial` or `title`.
    pub completeness: &'static str,
    /// The body: paragraphs, with `null` where the source lost text.
    pub blocks: Vec<Option<String>>,
}

/// What a ✅ pressed in the app did.
#[derive(Debug, Clone, Serialize)]
pub struct CheckInOutcome {
    /// Whether the store now holds the member's check-in for that section's day.
    pub done: bool,
    /// The same words the chat's button answers with.
    pub message: String,
}

/// Where the private chats' menu button points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuButton {
    /// The Mini App at this address.
    App(String),
    /// Telegram's default (the command list).
    Default,
}

/// The Mini App's side of the app: what its API answers.
pub struct Web<'a> {
    app: &'a App,
}

impl App {
    /// The Mini App's reader, check-in, dashboard and export.
    pub fn web(&self) -> Web<'_> {
        Web { app: self }
    }
}

impl Web<'_> {
    /// What the private chats' menu button should become at start: the app with `[web]`;
    /// Telegram's default when an earlier start pointed it at an app that is no longer
    /// configured; otherwise nothing to do.
    pub fn menu_button(&self) -> StoreResult<Option<MenuButton>> {
        if let Some(web) = &self.app.config().web {
            return Ok(Some(MenuButton::App(format!("{}/", web.public_url))));
        }
        Ok(self.app.store().menu_button()?.map(|_| MenuButton::Default))
    }

    /// Records that Telegram took `button`, so that the next start knows where it points.
    pub fn menu_button_set(&self, button: &MenuButton) -> StoreResult<()> {
        match button {
            MenuButton::App(url) => self.app.store().set_menu_button(Some(url)),
            MenuButton::Default => self.app.store().set_menu_button(None),
        }
    }

    /// Tells the app the bot's username (from `getMe`), for the Mini App's group links.
    pub fn set_bot_username(&self, username: &str) {
        let _ = self.app.inner.bot_username.set(username.to_string());
    }

    /// The reader for `user_id` in `chat_id` at `now`.
    pub fn reader(
        &self,
        chat_id: i64,
        user_id: u64,
        user_name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ReaderView> {
        let today_section = self.app.todays_section(chat_id, now)?;
        let document = match &today_section {
            Some((id, _, _)) => self
                .app
                .library()
                .document(id)
                .cloned()
                .unwrap_or_else(|| self.app.chat_document(chat_id, None)),
            None => self.app.chat_document(chat_id, None),
        };
        let checkable = self.app.checkable_days(chat_id, &document.id, now)?;
        let mut checked = Vec::new();
        // Point lookups of the member's own days: never a scan of the group's record.
        for day in self.app.store().days_of(chat_id, user_id)?.iter() {
            if let Some(check_in) = self.app.store().member_check_in(chat_id, day, user_id)?
                && check_in.document == document.id
            {
                checked.push(check_in.section.to_string());
            }
        }
        // The plan reads every section in document order.
        let sections = document
            .sections
            .iter()
            .map(|section| ReaderSection {
                id: section.id.to_string(),
                heading: section.heading(),
                completeness: completeness(section.completeness),
                blocks: section
                    .blocks
                    .iter()
                    .map(|block| match block {
                        Block::Paragraph(text) => Some(text.clone()),
                        Block::Gap => None,
                    })
                    .collect(),
            })
            .collect();
        Ok(ReaderView {
            document: document.id.clone(),
            title: document.title.clone(),
            occasion: document.occasion.clone(),
            sections,
            today: today_section
                .filter(|(id, _, _)| *id == document.id)
                .map(|(_, section, _)| section.to_string()),
            checked,
            checkable: checkable.keys().map(ToString::to_string).collect(),
            user: display_name(user_name),
        })
    }

    /// A ✅ pressed in the app for `section`: the same check-in as the chat's button for
    /// the day the chat had that section (recorded once, on disk before this returns).
    pub fn check_in(
        &self,
        chat_id: i64,
        user_id: u64,
        user_name: &str,
        section: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<CheckInOutcome> {
        let document = self.app.todays_section(chat_id, now)?.map_or_else(
            || self.app.chat_document(chat_id, None).id.clone(),
            |(id, _, _)| id,
        );
        let days = self.app.checkable_days(chat_id, &document, now)?;
        let Some((section, date)) = section
            .parse::<SectionId>()
            .ok()
            .and_then(|id| days.get(&id).map(|date| (id, *date)))
        else {
            return Ok(CheckInOutcome {
                done: false,
                message: "这一节不是本群今天或近 30 天发过的内容，没有记录。".into(),
            });
        };
        let button = CheckInButton {
            document,
            section,
            chat_id,
            date,
        };
        let presser = crate::app::record::Presser {
            message_chat: chat_id,
            user_id,
            name: user_name.to_string(),
        };
        let message = self.app.record().check_in(&button, &presser, now);
        let done = self
            .app
            .store()
            .member_check_in(chat_id, date, user_id)?
            .is_some();
        Ok(CheckInOutcome { done, message })
    }

    /// The Mini App's "send me the workbook": `/export`'s workbook for an administrator.
    pub fn export(
        &self,
        chat_id: i64,
        user_id: u64,
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), crate::reply::Reply> {
        let chat = ChatContext {
            chat_id,
            kind: if chat_id < 0 {
                ChatKind::Group
            } else {
                ChatKind::Private
            },
            user_id,
            user_name: String::new(),
            is_admin: true,
            topic: None,
        };
        self.app.record().export_workbook(&chat, now)
    }
}

impl App {
    /// The sections a member may check in for now, each with the day it counts for:
    /// those the chat was sent in the catch-up window, and today's.
    fn checkable_days(
        &self,
        chat_id: i64,
        document: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<BTreeMap<SectionId, NaiveDate>> {
        let today = local_date(now, self.chat_zone(chat_id));
        let mut days = BTreeMap::new();
        for back in (0..=CATCH_UP_DAYS).rev() {
            let date = today - TimeDelta::days(back);
            if let Some(entry) = self.store().ledger_entry(chat_id, date)? {
                days.insert(entry.section, date);
            }
        }
        if let Some((id, section, date)) = self.todays_section(chat_id, now)?
            && id == document
        {
            days.entry(section).or_insert(date);
        }
        Ok(days)
    }
}

fn completeness(completeness: Completeness) -> &'static str {
    completeness.mark()
}

impl App {
    /// The button that opens the Mini App on `view` for `chat_id`: a `web_app` button in
    /// a private chat, a `t.me/<bot>?startapp=…` link in a group (where Telegram allows
    /// no `web_app` buttons). `None` without `[web]` (or before the username is known).
    pub(in crate::app) fn app_button(&self, chat_id: i64, view: View) -> Option<Button> {
        let web = self.config().web.as_ref()?;
        let label = match view {
            View::Reader => "📖 打开阅读器",
            View::Dashboard => "📊 打开学习看板",
        };
        let action = if chat_id > 0 {
            let query = match view {
                View::Reader => "",
                View::Dashboard => "?view=dashboard",
            };
            Action::WebApp(format!("{}/{query}", web.public_url))
        } else {
            let bot = self.inner.bot_username.get()?;
            let param = StartParam { chat_id, view }.encode();
            Action::Url(format!("https://t.me/{bot}?startapp={param}"))
        };
        Some(Button {
            label: label.into(),
            action,
        })
    }

    /// Adds the Mini App's button (a row of its own) under `reply` when `[web]` is set.
    pub(in crate::app) fn with_app_link(&self, reply: Reply, chat_id: i64, view: View) -> Reply {
        match self.app_button(chat_id, view) {
            Some(button) => reply.buttons(vec![button]),
            None => reply,
        }
    }

    /// `/read` and `/dashboard`: the button that opens the app, or why there is none.
    pub(in crate::app) fn open_app_command(&self, chat: &ChatContext, view: View) -> Reply {
        if self.config().web.is_none() {
            return Reply::plain(
                "学习小程序还没有设置：请机器人的管理员在 config.toml 里配置 [web]（见 README）。在此之前可用 /today、/section 2.1 阅读，/roster 查看名单。",
            );
        }
        if chat.kind == ChatKind::Channel {
            return Reply::plain("频道里不能打开学习小程序。请在群里或私聊中发送 /read。");
        }
        if view == View::Dashboard && !chat.is_admin {
            return Reply::plain("只有群管理员可以打开学习看板。成员可发送 /read 阅读全文、打卡。");
        }
        let text = match (view, chat.kind) {
            (View::Reader, ChatKind::Private) => {
                "点下面的按钮，在小程序里阅读全文：目录、字号、每节 ✅ 打卡。"
            }
            (View::Reader, _) => "点下面的按钮，在小程序里阅读本群正在学习的全文，并为每节打卡。",
            (View::Dashboard, _) => {
                "点下面的按钮，打开学习看板：每日参与图表、今日名单、测验正确率。"
            }
        };
        match self.app_button(chat.chat_id, view) {
            Some(button) => Reply::plain(text).buttons(vec![button]),
            None => Reply::plain("学习小程序暂时无法打开，请稍后再试。"),
        }
    }
}
