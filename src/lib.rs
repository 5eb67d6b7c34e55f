//! studybot: a Telegram bot that helps study groups read a text together.
//!
//! Four layers, each importing only from the layers above it in this list
//! (core ← store ← app ← transports):
//!
//! - **Pure core** (no teloxide, tokio or sled; `now` and randomness are passed in):
//!   - [`text`]: the text model, the data-file parser, section references, search, and
//!     the importer of texts copied from the web (`.txt` in UTF-8 or GBK, `.docx`).
//!   - [`reply`]: transport-neutral replies (text with emphasis, buttons) and their
//!     splitting into messages of at most 4096 characters.
//!   - [`command`]: parsing what users type into commands.
//!   - [`plan`]: the reading plan, the order in which a chat receives the sections.
//!   - [`schedule`]: send times, time zones, next send instants across daylight saving,
//!     the due decision and the records of subscriptions and the delivery ledger.
//!   - [`messages`]: the wording of every reply, built from the text model.
//!   - [`quiz`]: questions generated from the text and curated by hand, quiz selection,
//!     the quiz-session state machine, scores and their wording.
//!   - [`review`]: the personal review (错题本): card identity, FSRS scheduling of missed
//!     questions, the due list and its wording.
//!   - [`record`]: the study record (学习台账): check-ins, members, the roster, the weekly
//!     report and the export workbook.
//!   - [`config`]: the one explicit configuration, read from `config.toml` and the environment.
//! - **Store** ([`store`]): typed collections over sled, with an in-memory twin, and
//!   backups of it all.
//! - **App** ([`app`]): the only `impl App` blocks — what each command does, shared by
//!   every transport: lookups ([`app`]), the daily excerpt ([`app::daily`]), quizzes
//!   ([`app::quiz`]), and the texts loaded from `data/` ([`app::library`]).
//! - **Transports**: [`console`] (stdin/stdout, with its quiz loop) and [`telegram`]
//!   (teloxide handlers, the rate-limited send path, and the delivery task that sends
//!   due excerpts, [`telegram::deliveries`]).

pub mod app;
pub mod command;
pub mod config;
pub mod console;
pub mod messages;
pub mod plan;
pub mod quiz;
pub mod record;
pub mod reply;
pub mod review;
pub mod schedule;
pub mod store;
pub mod telegram;
pub mod text;
