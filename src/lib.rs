//! studybot: a Telegram bot that helps study groups read one speech together.
//!
//! The crate is layered so that decisions are pure and only the edges do I/O:
//!
//! - Pure core (no teloxide, tokio or sled):
//!   - [`text`]: the text model, the data-file parser, section references, search, and
//!     the importer of texts copied from the web (`.txt` in UTF-8 or GBK, `.docx`).
//!   - [`reply`]: transport-neutral replies (text with emphasis, buttons) and their
//!     splitting into messages of at most 4096 characters.
//!   - [`messages`]: the wording of every reply, built from the text model.
//!   - [`command`]: parsing what users type into commands.
//!   - [`schedule`]: send times, time zones, next send instants across daylight saving,
//!     the due decision and the records of subscriptions and the delivery ledger.
//!   - [`plan`]: the reading plan, the order in which a chat receives the sections.
//!   - [`quiz`]: questions generated from the text and curated by hand, quiz selection,
//!     the quiz-session state machine, scores and their wording (plus the quiz commands
//!     of [`app::App`] and the console's quiz driver, which use the store).
//! - [`config`]: the one explicit configuration, read from `config.toml` and the environment.
//! - [`store`]: typed collections over sled, with an in-memory twin, and backups of it all.
//! - [`library`]: loads the texts from `data/`, syncs them into the store, serves them.
//! - [`app`]: what each command does; shared by both transports.
//! - [`subscription`]: the subscription commands and the daily deliveries the scheduler
//!   sends (`impl App`).
//! - [`scheduler`]: the background task that sends due excerpts (and `studybot tick`).
//! - Transports: [`console`] (stdin/stdout) and [`telegram`] (teloxide, with one
//!   rate-limited send path).

pub mod app;
pub mod command;
pub mod config;
pub mod console;
pub mod library;
pub mod messages;
pub mod plan;
pub mod quiz;
pub mod reply;
pub mod schedule;
pub mod scheduler;
pub mod store;
pub mod subscription;
pub mod telegram;
pub mod text;
