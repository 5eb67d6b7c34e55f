//! The application: the library, the store and the configuration, and what each
//! command does. Both transports call [`App::handle`] (and [`App::press`] for a button)
//! and send back what it returns; everything else they ask goes through a feature's
//! view — `app.daily()`, `app.quiz()`, `app.review()`, `app.weekly()`, `app.record()`,
//! `app.chats()`, `app.import()`, `app.ops()`, `app.web()` — each defined beside its feature's
//! methods. The store is the app's own: no transport reaches it.

pub mod chats;
pub mod daily;
pub mod error;
pub mod import;
pub mod library;
pub mod ops;
pub mod quiz;
pub mod record;
pub mod review;
mod texts;
pub mod webapp;
pub mod weekly;

pub use error::AppError;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::app::library::Library;
use crate::command::{Command, Input, SectionQuery};
use crate::config::Config;
use crate::messages::{self, errors};
use crate::quiz::{Question, QuestionBank};
use crate::reply::{Action, Audience, Reply};
use crate::store::Store;
use crate::text::reference::RefError;
use crate::text::search::MAX_QUERY_CHARS;
use crate::text::{Document, Resolution, search};

/// What kind of chat a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// A one-to-one chat with a user (the console counts as one).
    Private,
    /// A group or supergroup.
    Group,
    /// A channel (the bot only posts there).
    Channel,
}

/// Who sent a command, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatContext {
    /// The chat's id.
    pub chat_id: i64,
    /// The kind of chat.
    pub kind: ChatKind,
    /// The sender's user id.
    pub user_id: u64,
    /// The sender's name as Telegram shows it.
    pub user_name: String,
    /// Whether the sender may run admin commands here (subscribe, unsubscribe, send
    /// time, time zone, daily quiz, stopping another's quiz). The transport decides:
    /// `true` in private chats and the console; in groups, whether Telegram lists the
    /// sender as creator or administrator.
    pub is_admin: bool,
    /// The forum topic the message was sent in (Telegram's `message_thread_id`), whose
    /// answers go back there; `None` outside forum topics (the General topic included).
    pub topic: Option<i32>,
}

/// The shared state of a running studybot. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppState>,
}

/// A daily-question bank and the version of the text it was built from.
type DailyBank = (Arc<Document>, Arc<QuestionBank>);

struct AppState {
    /// The texts served, replaced as a whole when an operator imports one (readers
    /// clone the `Arc` and never wait on an import's parsing or storing).
    library: RwLock<Arc<Library>>,
    /// Operators' imports waiting for their 导入/取消 (see [`crate::app::import`]).
    pending_imports: import::PendingImports,
    store: Store,
    config: Config,
    curated_questions: Vec<Question>,
    /// The banks daily questions are drawn from, by document id, each built on first
    /// use with the document it was built from (see [`App::daily_bank`]).
    daily_banks: Mutex<HashMap<String, DailyBank>>,
    /// Wakes the delivery task when a chat may be due sooner than it planned for (see
    /// [`App::deliveries_changed`]).
    deliveries_changed: Notify,
    /// When the delivery task last finished a pass (for `studybot status`).
    last_pass: ops::LastPass,
    /// The bot's username, once the transport knows it (the Mini App's group links).
    bot_username: std::sync::OnceLock<String>,
    /// The Mini App's dashboards, kept until their group's records change.
    dashboards: webapp::DashboardCache,
    /// Held exclusively by a group's migration to a supergroup, and shared by writes
    /// that may run beside it (poll answers, which name no chat; check-ins from old
    /// buttons, the Mini App and private chats; the delivery task's records), so none
    /// lands under the old id after the group's records moved.
    chat_moves: RwLock<()>,
}

impl App {
    /// Builds the application from its parts, with no curated quiz questions.
    pub fn new(library: Library, store: Store, config: Config) -> Self {
        Self::with_curated_questions(library, store, config, Vec::new())
    }

    /// Builds the application with the curated quiz questions (see [`crate::quiz::curated`]).
    pub fn with_curated_questions(
        library: Library,
        store: Store,
        config: Config,
        curated: Vec<Question>,
    ) -> Self {
        // The store moves next sends with the configured grace window.
        let store = store.with_grace(config.grace);
        Self {
            inner: Arc::new(AppState {
                library: RwLock::new(Arc::new(library)),
                pending_imports: import::PendingImports::default(),
                store,
                config,
                curated_questions: curated,
                daily_banks: Mutex::default(),
                deliveries_changed: Notify::new(),
                last_pass: ops::LastPass::default(),
                bot_username: std::sync::OnceLock::new(),
                dashboards: Default::default(),
                chat_moves: RwLock::new(()),
            }),
        }
    }

    /// The hand-written quiz questions, merged into every quiz's question bank.
    fn curated_questions(&self) -> &[Question] {
        &self.inner.curated_questions
    }

    /// The question bank daily questions on `document` come from: built by `build` on
    /// first use, then kept until a new version of the text is imported. A broadcast
    /// asks one question per chat, and the bank is the same text each time (a quiz
    /// builds its own, so its distractors vary).
    fn daily_bank(
        &self,
        document: &Arc<Document>,
        build: impl FnOnce() -> QuestionBank,
    ) -> Arc<QuestionBank> {
        let mut banks = self
            .inner
            .daily_banks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match banks.get(&document.id) {
            Some((built_from, bank)) if Arc::ptr_eq(built_from, document) => bank.clone(),
            _ => {
                let bank = Arc::new(build());
                banks.insert(document.id.clone(), (document.clone(), bank.clone()));
                bank
            }
        }
    }

    /// The texts served now (a snapshot: an import made meanwhile is in the next one).
    pub fn library(&self) -> Arc<Library> {
        self.inner
            .library
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Serves `library` from now on, in every chat.
    fn replace_library(&self, library: Library) {
        *self
            .inner
            .library
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(library);
    }

    /// The store: the app's own (transports ask the app's feature views).
    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Tells the delivery task that a chat may be due sooner than it planned for: a
    /// subscription, a send time or a zone changed. The task sleeps until the earliest
    /// due instant it knows of and looks at the due index again when told (the way
    /// mini-redis's purge task is woken when a sooner expiry appears), so a send time
    /// seconds away is met and an idle bot does no periodic work. Cheap, and harmless
    /// when no task runs (the console, tests): at most one wake-up is kept for later.
    fn deliveries_changed(&self) {
        self.inner.deliveries_changed.notify_one();
    }

    /// Answers one input received at `now`. Returns no reply where silence is right
    /// (text in a group, a command for another bot).
    pub fn handle(&self, chat: &ChatContext, input: Input, now: DateTime<Utc>) -> Vec<Reply> {
        match input {
            Input::Command(command) => self.command(chat, command, now),
            Input::Unknown(name) => vec![errors::unknown_command(&name)],
            Input::OtherBot => Vec::new(),
            Input::Text if chat.kind == ChatKind::Private => vec![errors::not_a_command()],
            Input::Text => Vec::new(),
        }
    }

    /// Runs a command. A command that changes state confirms the change in its reply, so
    /// the store is flushed before the reply is returned: nothing is confirmed to a user
    /// before it is on disk (sled alone makes writes durable only every 500 ms). A flush
    /// that fails replaces the reply with a "try again" and is logged once with its cause.
    fn command(&self, chat: &ChatContext, command: Command, now: DateTime<Utc>) -> Vec<Reply> {
        let changes_state = command.changes_state();
        let replies = self.run_command(chat, command, now);
        if changes_state && let Err(error) = self.inner.store.flush() {
            return vec![AppError::NotDurable(error).reply(chat.chat_id)];
        }
        replies
    }

    fn run_command(&self, chat: &ChatContext, command: Command, now: DateTime<Utc>) -> Vec<Reply> {
        // The text this chat studies (its `/use` choice), read only where needed.
        let document = || self.chat_document(chat.chat_id, None);
        match command {
            Command::Start => vec![messages::start(&document())],
            Command::Help => vec![messages::help()],
            Command::Outline => vec![messages::outline(&document())],
            Command::Docs => {
                let library = self.library();
                let documents: Vec<&Document> =
                    library.documents().iter().map(|d| d.as_ref()).collect();
                vec![messages::docs(&documents, &document().id)]
            }
            Command::Use(argument) => vec![self.use_text(chat, argument.as_deref())],
            Command::Section(query) => {
                let (mut reply, paged) = self.section(&document(), &query);
                // In a group a long section is the whole chat's to read: its page
                // buttons post the next page rather than turn the page under others.
                if chat.kind != ChatKind::Private && paged {
                    reply = reply.for_the_chat();
                }
                vec![self.with_todays_check_in(chat, Some(&query.text), reply, now)]
            }
            Command::Search(query) => vec![self.search(&document(), &query)],
            Command::Subscribe(time) => self.daily().subscribe(chat, time, now),
            Command::Unsubscribe => self.daily().unsubscribe(chat),
            Command::SetTime(time) => self.daily().set_time(chat, time, now),
            Command::Timezone(zone) => self.daily().set_timezone(chat, zone, now),
            Command::Status => self.daily().status(chat),
            Command::Today => self.daily().today(chat, now),
            Command::Plan => self.daily().plan(chat),
            // Quizzes (crate::app::quiz); transports then send the polls from `app.quiz().next_poll`.
            Command::Quiz(count) => {
                vec![self.quiz().command(chat, count, now, &mut rand::rng())]
            }
            Command::StopQuiz => vec![self.quiz().stop(chat, now)],
            Command::Score => vec![self.quiz().score(chat, now)],
            Command::Top => vec![self.quiz().top(chat)],
            Command::DailyQuiz(on) => vec![self.quiz().set_daily(chat, on)],
            // The personal review (crate::app::review); transports then ask from `app.review().next`.
            Command::Review(count) => self.review().command(chat, count, now),
            Command::Mistakes => self.review().mistakes(chat, now),
            Command::Remind(setting) => self.review().remind(chat, setting),
            Command::WeeklyTest(setting) => vec![self.weekly().command(chat, setting)],
            // The study record (crate::app::record).
            Command::Join => vec![self.record().join(chat, now)],
            Command::Leave => vec![self.record().leave(chat)],
            Command::ForgetMe => vec![self.record().forget_me(chat)],
            Command::Roster => vec![self.record().roster(chat, now)],
            Command::Report(setting) => vec![self.record().report(chat, setting)],
            Command::Catchup => self.record().catch_up(chat, now),
            // Telegram sends the file itself (telegram::record); the console cannot.
            Command::Export => vec![messages::record_export_elsewhere()],
            // The Mini App (crate::app::webapp).
            Command::Read => vec![self.open_app_command(chat, crate::webapp::View::Reader)],
            Command::Dashboard => {
                vec![self.open_app_command(chat, crate::webapp::View::Dashboard)]
            }
        }
    }

    /// `/section`'s reply, and whether it is one page of several.
    fn section(&self, document: &Document, query: &SectionQuery) -> (Reply, bool) {
        let (argument, page) = (query.text.as_str(), query.page);
        let reference = match query.reference.clone() {
            Ok(reference) => reference,
            Err(RefError::Empty) => return (errors::section_missing(), false),
            Err(RefError::TooLong) => return (errors::section_too_long(), false),
            Err(RefError::NoSuchNumber) => {
                return (errors::no_such_number(document, argument.trim()), false);
            }
            Err(RefError::NothingToFind) => {
                return (errors::nothing_to_find(argument.trim()), false);
            }
        };
        let reply = match reference.resolve(document) {
            Resolution::Found(id) => {
                let section = document.section(id).expect("resolved ids exist");
                let paged = messages::section_page_count(document, section) > 1;
                return (messages::section_page(document, section, page), paged);
            }
            Resolution::Ambiguous(ids) => errors::ambiguous(document, argument.trim(), &ids),
            Resolution::NoSuchSection(id) => errors::no_such_section(document, id),
            // The reader's words as typed, not as normalised for matching.
            Resolution::NoMatch(_) => errors::no_match(argument.trim()),
        };
        (reply, false)
    }

    fn search(&self, document: &Document, query: &str) -> Reply {
        let query = query.trim();
        if query.is_empty() {
            return errors::search_missing();
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return errors::search_too_long(MAX_QUERY_CHARS);
        }
        messages::search_results(document, &search(document, query))
    }

    /// Answers a button press with the reply and the [`Audience`] of the message the
    /// button was on (a message for the whole chat is answered with a new message, never
    /// edited). Callback data is public, so it is decoded and checked here; anything
    /// forged or stale gets [`errors::stale_button`] and changes nothing. `user_id`
    /// pressed it at `now` (an import's buttons are only its operator's).
    pub fn press(
        &self,
        user_id: u64,
        data: &str,
        now: DateTime<Utc>,
    ) -> Result<(Reply, Audience), Reply> {
        let Some((action, audience)) = Action::decode(data) else {
            return Err(errors::stale_button());
        };
        let library = self.library();
        let reply = match action {
            Action::Section {
                document,
                section,
                page,
            } => {
                let document = library
                    .document(&document)
                    .ok_or_else(errors::stale_button)?;
                let section = document.section(section).ok_or_else(errors::stale_button)?;
                let reply = messages::section_page(document, section, page);
                // The next page of a message for the whole chat is the chat's too.
                match audience {
                    Audience::Chat if page > 1 => reply.for_the_chat(),
                    _ => reply,
                }
            }
            Action::Outline { document, page } => {
                let document = library
                    .document(&document)
                    .ok_or_else(errors::stale_button)?;
                messages::outline_page(document, page)
            }
            Action::Import { token, accept } => self.finish_import(user_id, &token, accept, now)?,
            // Check-ins need the presser and the message: see `Record::check_in`.
            Action::CheckIn(_) => return Err(errors::stale_button()),
            // Link buttons send no callback.
            Action::Url(_) | Action::WebApp(_) => return Err(errors::stale_button()),
        };
        Ok((reply, audience))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command;
    use crate::text::parse_document;

    fn app() -> App {
        let store = Store::in_memory();
        let document = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let (library, _) = Library::from_documents(vec![(document, 1)], &store).unwrap();
        App::new(library, store, Config::default())
    }

    fn answer(app: &App, input: &str) -> Reply {
        let chat = ChatContext {
            chat_id: 1,
            kind: ChatKind::Private,
            user_id: 1,
            user_name: "x".into(),
            is_admin: true,
            topic: None,
        };
        let mut replies = app.handle(&chat, command::parse(input, None), Utc::now());
        assert_eq!(replies.len(), 1, "{input}");
        replies.remove(0)
    }

    #[test]
    fn section_errors_quote_the_input_as_typed() {
        let app = app();
        for symbols in ["&", ".*", "(", "[", "\\", "“”"] {
            let reply = answer(&app, &format!("/section {symbols}")).plain_text();
            assert!(
                reply.starts_with(&format!("“{symbols}”里没有可以查找的字或编号。")),
                "{symbols}: {reply}"
            );
            assert!(reply.contains("/section 2.1"), "an example: {reply}");
            assert!(!reply.contains("/search"), "nothing to search for: {reply}");
        }
        let tags = answer(&app, "/section <b>x</b>");
        assert!(
            tags.plain_text().starts_with("没有标题含“<b>x</b>”的章节"),
            "{}",
            tags.plain_text()
        );
        assert!(tags.plain_text().contains("/search <b>x</b> 在正文中搜索"));
        assert!(
            tags.html().contains("“&lt;b&gt;x&lt;/b&gt;”"),
            "{}",
            tags.html()
        );
        for number in ["99", "100", "0.1", "12345678901234567890"] {
            let reply = answer(&app, &format!("/section {number}")).plain_text();
            assert!(
                reply.starts_with(&format!("没有第 {number} 节。")),
                "{number}: {reply}"
            );
        }
    }

    #[test]
    fn a_daily_quiz_word_it_does_not_know_is_named() {
        let app = app();
        let reply = answer(&app, "/dailyquiz maybe").plain_text();
        assert!(
            reply.starts_with("看不懂“maybe”：只能写 on 或 off。"),
            "{reply}"
        );
        assert!(reply.contains("/dailyquiz on"), "{reply}");
        assert!(!answer(&app, "/dailyquiz").plain_text().contains("看不懂"));
    }

    /// Issue 20: every command's reply for the shipped speech, in a private chat and a
    /// group, and every reply reached by pressing the buttons from there on, stays
    /// inside Telegram's limits; every command name is one Telegram takes.
    #[test]
    fn every_reply_and_every_button_press_stays_inside_the_limits() {
        let app = app();
        let mut pending: Vec<(String, Audience)> = Vec::new();
        for info in command::COMMANDS {
            assert!(crate::limits::is_command_name(info.name), "{}", info.name);
            for description in [info.description, info.description_en] {
                let length = description.chars().count();
                assert!(
                    (1..=crate::limits::COMMAND_DESCRIPTION).contains(&length),
                    "{description}"
                );
            }
            for kind in [ChatKind::Private, ChatKind::Group] {
                let chat = ChatContext {
                    chat_id: if kind == ChatKind::Private { 1 } else { -1 },
                    kind,
                    user_id: 1,
                    user_name: "x".into(),
                    is_admin: true,
                    topic: None,
                };
                for input in [info.example.to_string(), format!("/{}", info.name)] {
                    for reply in app.handle(&chat, command::parse(&input, None), Utc::now()) {
                        let violations = reply.limit_violations();
                        assert!(violations.is_empty(), "{input}: {violations:?}");
                        for button in reply.buttons.iter().flatten() {
                            pending.push((button.action.encode(reply.audience), reply.audience));
                        }
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        while let Some((data, audience)) = pending.pop() {
            if !seen.insert(data.clone()) {
                continue;
            }
            let Ok((reply, pressed)) = app.press(1, &data, Utc::now()) else {
                continue;
            };
            assert_eq!(pressed, audience, "{data}");
            let violations = reply.limit_violations();
            assert!(violations.is_empty(), "{data}: {violations:?}");
            for button in reply.buttons.iter().flatten() {
                pending.push((button.action.encode(reply.audience), reply.audience));
            }
        }
        assert!(seen.len() > 20, "every section is reached: {}", seen.len());
    }
}
