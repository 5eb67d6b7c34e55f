//! studybot: a Telegram bot that helps study groups read a text together.
//!
//! Four layers, each importing only from the layers above it in this list
//! (core ← store ← app ← transports), with no circle between files or modules;
//! `.ci/layers.py` checks it in CI:
//!
//! - **Pure core** (no teloxide, tokio or sled; `now` and randomness are passed in):
//!   - [`text`]: the text model, the data-file parser, section references, search, and
//!     the importer of texts copied from the web (`.txt` in UTF-8 or GBK, `.docx`).
//!   - [`limits`]: Telegram's limits in one table (message text, caption, callback data,
//!     buttons per row and keyboard, poll texts, command names), and shortening to them.
//!   - [`callback`], [`names`], [`calendar`]: the core's shared vocabulary, importing
//!     nothing of the features: every button's callback data (one encode/decode), display
//!     names, weekdays, ISO weeks, local dates and the zone rule.
//!   - [`reply`]: transport-neutral replies (text with emphasis, buttons) and their
//!     splitting into messages of at most 4096 characters.
//!   - [`command`]: every command in one table (name, help lines, example, who may use
//!     it, whether it changes state) with the parser of its typed argument.
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
//!   - [`webapp`]: the Mini App's `initData` check and the start parameter naming a group.
//! - **Setup** ([`config`]): the one explicit configuration, read once by `main` from
//!   `config.toml` and the environment, then passed down as plain data.
//! - **Store** ([`store`]): typed collections over sled, with an in-memory twin, and
//!   backups of it all.
//! - **App** ([`app`]): the only `impl App` blocks — what each command does, shared by
//!   every transport, and the one error path to the user ([`app::AppError`]): lookups
//!   ([`app`]), the daily excerpt ([`app::daily`]), quizzes ([`app::quiz`]), the personal
//!   review ([`app::review`]), the weekly group test ([`app::weekly`]), the study record
//!   ([`app::record`]: check-ins; the roster, the weekly report and the export each in a
//!   file of its own), the texts ([`app::library`]), which text each chat studies
//!   ([`app::texts`]), the chats the bot is in ([`app::chats`]), imports sent by operators
//!   ([`app::import`]) and the operator's commands ([`app::ops`]). [`app::App::handle`]
//!   receives a typed [`command::Command`] and hands it to the feature's view; each
//!   feature's view (`app.daily()`, `app.quiz()`, `app.review()`, `app.weekly()`,
//!   `app.record()`, `app.chats()`, `app.import()`, `app.ops()`, `app.web()`) is all a
//!   transport calls.
//! - **Transports** (they reach the store only through the [`app`], and never import
//!   each other):
//!   - [`console`]: stdin/stdout, with its quiz and review loops.
//!   - [`telegram`]: the client, run loop and shutdown ([`telegram`]); top down, the
//!     routing tree, one handler per update, poll answers told apart there
//!     ([`telegram::handlers`]); the delivery task that delivers scheduled items
//!     ([`telegram::deliveries`]); the feature handlers, which never import each other
//!     ([`telegram::quiz`], [`telegram::review`], [`telegram::weekly`],
//!     [`telegram::record`], [`telegram::import`]); sending a reply or a poll
//!     ([`telegram::send`]); the rate limiter and per-chat lanes ([`telegram::outbox`]).
//!     The Mini App's HTTP server ([`telegram::web`]: static pages and the JSON API,
//!     beside the webhook when there is one) and the operator's `/metrics` and
//!     `/healthz` ([`telegram::metrics`]) are part of it.
//!   - [`control`]: the control socket through which `studybot status`, `import`,
//!     `record` and `export` reach a running bot, and its scheduled backups
//!     ([`control::backups`]).
//! - **Progress** ([`progress`]): the terminal progress bar of long command-line work,
//!   nothing when stderr is not a terminal; it imports nothing from the crate.
//! - **Telemetry** ([`telemetry`]): the counters every layer records through the `metrics`
//!   facade, and whether updates are coming in; it imports nothing from the crate.
//!
//! `main` (the binary) parses the command line, owns the signals and hands a shutdown
//! future to the transport.

pub mod app;
pub mod calendar;
pub mod callback;
pub mod command;
pub mod config;
pub mod console;
pub mod control;
pub mod limits;
pub mod messages;
pub mod names;
pub mod plan;
pub mod progress;
pub mod quiz;
pub mod record;
pub mod reply;
pub mod review;
pub mod schedule;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod text;

pub mod webapp;
