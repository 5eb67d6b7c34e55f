//! The `studybot` binary: parses the command line, sets up logging and configuration,
//! and hands over to the library.
//!
//! Over 600 lines because it has one small fn per subcommand (about a dozen), each a few
//! lines of setup around one library call.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use studybot::app::App;
use studybot::app::library::Library;
use studybot::config::{BotToken, Config, LogFormat};
use studybot::control;
use studybot::store::{Store, backup};
use studybot::telegram::{self, UpdateSource, deliveries};

/// Environment variable with the webhook's secret token (Telegram echoes it in a header).
const WEBHOOK_SECRET_ENV: &str = "STUDYBOT_WEBHOOK_SECRET";

/// A Telegram bot for study groups: daily excerpts, section lookups and quizzes.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file (default: ./config.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: CliCommand,
}

/// What `studybot` is asked to do (not to be confused with the bot's own commands,
/// [`studybot::command::Command`]).
#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Run the bot's commands offline: one command per line on stdin, replies on stdout.
    Console {
        /// Use a fresh temporary database instead of the configured one.
        #[arg(long)]
        temp_db: bool,
    },
    /// Check the data files and print a summary.
    Check,
    /// Run one scheduler pass as of an instant (sends what is due, updates the ledger) and exit.
    Tick {
        /// The instant to run the pass as of (RFC 3339, e.g. 2026-11-25T08:00:30+08:00); default now.
        #[arg(long, value_name = "INSTANT")]
        now: Option<String>,
    },
    /// Write the whole store (subscriptions, ledger, quizzes, scores, settings, …) to a JSON
    /// backup file. With the bot running, the bot writes a consistent snapshot and keeps
    /// answering meanwhile.
    Export {
        /// The backup file to write (replaced, once the new one is complete).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Show what the store holds and how deliveries stand (from the running bot, or the
    /// database when it is stopped).
    Status,
    /// Read a backup file through and report what it holds (non-zero exit on a bad file).
    VerifyBackup {
        /// The backup file to check.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Restore a backup written by `export` into the configured database (stop the bot first).
    ImportState {
        /// The backup file to read.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace a database that already holds subscriptions, scores or other user state.
        #[arg(long)]
        force: bool,
    },
    /// Import a speech or report (.txt in UTF-8 or GBK, .md, .docx) as it was copied from
    /// the web: prints the outline found, its completeness marks and the debris dropped.
    Import {
        /// The file to import; `-` reads standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The text's id (ASCII letters, digits, - and _); default: from the file's name.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Print the data-file form (data/texts/*.md) to stdout and store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace an imported text that has the same id.
        #[arg(long)]
        replace: bool,
    },
    /// Write one chat's study record (学习台账) as an Excel workbook (--out FILE.xlsx), or
    /// CSV files (--out FILE.csv); from the running bot if it runs.
    Record {
        /// The chat's id (as in the logs or /status, e.g. -1001234567890).
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        chat: i64,
        /// The first day (YYYY-MM-DD, in the chat's zone); default: the first record.
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// The last day (YYYY-MM-DD); default: today.
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        /// The file to write: FILE.xlsx, a workbook; FILE.csv, one FILE-<sheet>.csv per
        /// sheet; `-`, the workbook on standard output. Replaced only once complete.
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        out: PathBuf,
        /// Write UTF-8 CSV files (with a BOM), whatever --out ends with (not .xlsx).
        #[arg(long)]
        csv: bool,
    },
    /// Run the Telegram bot (long polling by default). The token comes from TELOXIDE_TOKEN.
    Run {
        /// Receive updates by webhook at this public HTTPS URL instead of long polling.
        #[arg(long, value_name = "URL")]
        webhook: Option<url::Url>,
        /// The local address the webhook server listens on.
        #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
        listen: std::net::SocketAddr,
    },
}

const NO_TOKEN: &str = "TELOXIDE_TOKEN is not set.
To run the bot on Telegram:
  1. Open a chat with @BotFather in Telegram, send /newbot and follow the steps.
  2. Copy the token it gives you and run:  TELOXIDE_TOKEN=<token> studybot run
To try every command offline without a token:  studybot console";

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The configuration chooses the log format, so it is read before logging starts;
    // its own errors are printed below like every other.
    let result = Config::load(cli.config.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            init_logging(config.log_format);
            run(cli, config)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("studybot: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `warn`): readable lines, coloured only
/// on a terminal (never escape codes in journald, files or pipes), or JSON lines.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
}

/// Runs the subcommand, one function each.
fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        CliCommand::Console { temp_db } => console(config, temp_db),
        CliCommand::Check => check(&config),
        CliCommand::Tick { now } => tick(config, now),
        CliCommand::Export { file } => export(&config, &file),
        CliCommand::Status => status(config),
        CliCommand::VerifyBackup { file } => {
            let shipped = shipped_texts(&config)?;
            print!(
                "{}",
                studybot::app::ops::verify_backup(&file, &shipped).map_err(anyhow::Error::msg)?
            );
            Ok(())
        }
        CliCommand::ImportState { file, force } => import_state(&config, &file, force),
        CliCommand::Record {
            chat,
            from,
            to,
            out,
            csv,
        } => record(&config, chat, from, to, &out, csv),
        CliCommand::Import {
            file,
            id,
            dry_run,
            replace,
        } => import_text(&config, &file, id, dry_run, replace),
        CliCommand::Run { webhook, listen } => run_bot(config, webhook, listen),
    }
}

/// `studybot record`: one chat's study record as a workbook (or CSV files).
fn record(
    config: &Config,
    chat: i64,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    out: &std::path::Path,
    csv: bool,
) -> anyhow::Result<()> {
    use studybot::app::record::RecordOutput;
    // Decided before the database is opened: a refused command touches nothing.
    let output = RecordOutput::choose(out, csv, std::io::stdout().is_terminal())
        .map_err(anyhow::Error::msg)?;
    if let Some(bot) = control::client::connect(&config.database)? {
        return record_from_running_bot(bot, chat, from, to, &output);
    }
    // The record is read once, in key order: sled's page cache would only keep every
    // page read (140 MB for a year of 1,000 members), so it is kept small.
    let store = Store::open_with_cache(&config.database, RECORD_CACHE_BYTES);
    let app = match store
        .map_err(anyhow::Error::from)
        .and_then(|store| app_on(config.clone(), store))
    {
        Err(error)
            if error
                .downcast_ref::<studybot::store::StoreError>()
                .is_some_and(|e| matches!(e, studybot::store::StoreError::Locked(_))) =>
        {
            anyhow::bail!(
                "数据库 {} 正被运行中的 studybot 使用（sled 只允许一个进程打开）。\n\
                 请先停止机器人再运行这条命令，或在群里发送 /export：运行中的机器人会发来表格。",
                config.database.display()
            )
        }
        other => other?,
    };
    let progress = studybot::progress::start("writing the record: check-ins", None);
    let written = app.record().write(chat, from, to, &output, Utc::now());
    drop(progress);
    let written = written?;
    let figures = written.figures;
    let summary = written.summary();
    if written.files.is_empty() {
        // Standard output holds the workbook: the summary goes to stderr.
        eprintln!("已把学习台账表格写到标准输出（{summary}）。");
        return Ok(());
    }
    for path in &written.files {
        println!("已写入 {}", path.display());
    }
    println!("（{summary}）");
    if figures.check_ins + figures.answers == 0 {
        println!("注意：这段时间没有打卡或答题记录，表格里只有成员名单。");
    }
    Ok(())
}

/// `studybot record` done by the running bot over the control socket: the files come back
/// and are written here, as the operator's user (standard output through a temporary file).
fn record_from_running_bot(
    bot: std::os::unix::net::UnixStream,
    chat: i64,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    output: &studybot::app::record::RecordOutput,
) -> anyhow::Result<()> {
    use studybot::app::record::RecordOutput;
    let (target, csv) = match output {
        RecordOutput::Workbook(path) | RecordOutput::Stdout(path) => (path, false),
        RecordOutput::Csv(path) => (path, true),
    };
    if let RecordOutput::Stdout(_) = output {
        let dir = tempfile::tempdir()?;
        let (files, message) =
            control::client::record(bot, chat, from, to, &dir.path().join("record.xlsx"), false)?;
        for file in &files {
            std::io::copy(
                &mut std::fs::File::open(file)?,
                &mut std::io::stdout().lock(),
            )?;
        }
        eprintln!("已把学习台账表格写到标准输出（{message}）。");
        return Ok(());
    }
    let (files, message) = control::client::record(bot, chat, from, to, target, csv)?;
    for path in &files {
        println!("已写入 {}", path.display());
    }
    println!("（{message}）");
    Ok(())
}

/// `studybot console`: the bot's commands on stdin and stdout.
fn console(config: Config, temp_db: bool) -> anyhow::Result<()> {
    let temp = if temp_db { Some(tempfile_dir()?) } else { None };
    let path = temp
        .as_ref()
        .map_or(config.database.clone(), |dir| dir.join("db"));
    let app = open_app(config, &path)?;
    studybot::console::run(&app, std::io::stdin().lock(), std::io::stdout().lock())?;
    app.ops().flush()?;
    if let Some(dir) = temp {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

/// `studybot check`: loads the data files and prints what they hold.
fn check(config: &Config) -> anyhow::Result<()> {
    let store = Store::in_memory();
    let (library, _) = Library::load(&config.data_dir, &store)?;
    for document in library.documents() {
        println!(
            "{}: {} — {} sections",
            document.id,
            document.title,
            document.sections.len()
        );
    }
    let curated = load_quiz_bank(config, &library)?;
    let bank =
        studybot::quiz::QuestionBank::build(library.default_document(), &curated, &mut rand::rng());
    println!(
        "quiz bank: {} questions ({} curated)",
        bank.len(),
        curated.len()
    );
    Ok(())
}

/// `studybot tick`: one delivery pass as of `now` (default: the real time), stopped by
/// SIGINT or SIGTERM like `run`.
fn tick(config: Config, now: Option<String>) -> anyhow::Result<()> {
    let token = BotToken::from_env().ok_or_else(|| anyhow::anyhow!(NO_TOKEN))?;
    let now = match now {
        Some(text) => DateTime::parse_from_rfc3339(&text)
            .map_err(|e| anyhow::anyhow!("--now \"{text}\" is not an RFC 3339 instant (e.g. 2026-11-25T08:00:30+08:00): {e}"))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let app = open_app(config.clone(), &config.database)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        // Installed before the pass starts, so a signal never kills the process mid-send.
        let shutdown = shutdown_signal();
        let bot = telegram::bot(&token, &app.config().telegram)?;
        let outbox = telegram::Outbox::new(bot, &app.config().telegram.limits);
        anyhow::Ok(deliveries::tick_until_stopped(&app, &outbox, now, shutdown).await)
    });
    finish(runtime, &app)?;
    let when = now.to_rfc3339();
    match report? {
        Some(report) if report.left > 0 => println!(
            "tick at {when}: {} sent, {} failed, {} left for the next pass (stopped)",
            report.sent, report.failed, report.left
        ),
        Some(report) => println!(
            "tick at {when}: {} sent, {} failed",
            report.sent, report.failed
        ),
        None => {
            println!("tick at {when}: stopped; what was not sent is left for the next pass")
        }
    }
    Ok(())
}

/// `studybot export`: the whole store to a JSON backup file, one record at a time.
fn export(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    if let Some(bot) = control::client::connect(&config.database)? {
        println!(
            "{}: {}",
            control::client::export(bot, file)?,
            file.display()
        );
        return Ok(());
    }
    if !config.database.exists() {
        anyhow::bail!(
            "there is no database at {} (set `database` in the config or STUDYBOT_DB)",
            config.database.display()
        );
    }
    // Every page is read once: sled's page cache would only keep them all.
    let store = Store::open_with_cache(&config.database, EXPORT_CACHE_BYTES)?;
    let progress = studybot::progress::start("exporting", None);
    let exported = backup::export_file(&store, file);
    drop(progress);
    let (written, summary) = exported?;
    println!(
        "exported {} entries in {} trees from {} to {}{}",
        summary.entries,
        summary.trees,
        config.database.display(),
        file.display(),
        match written == file {
            true => String::new(),
            false => format!(" (the file it links to, {})", written.display()),
        }
    );
    for (tree, entries) in &summary.skipped {
        eprintln!(
            "studybot: left out tree \"{tree}\" ({entries} entries): no collection of this version (import-state would refuse it)"
        );
    }
    Ok(())
}

/// The ids of the texts shipped in `data/` (a backup's chats may study one it lacks).
fn shipped_texts(config: &Config) -> anyhow::Result<Vec<String>> {
    Ok(Library::load(&config.data_dir, &Store::in_memory())
        .map_err(|error| anyhow::anyhow!("cannot read the shipped texts: {error}"))?
        .0
        .shipped()
        .iter()
        .map(|document| document.id.clone())
        .collect())
}

/// `studybot import-state`: restores a backup into the configured database, refusing to
/// replace user state without `--force`. The file is read twice, one record at a time:
/// first every record and reference is checked (nothing is opened or changed before),
/// then the store is replaced.
fn import_state(config: &Config, file: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let running = || {
        anyhow::anyhow!(
            "导入状态（import-state）会替换整个数据库，必须先停止机器人：数据库 {} 正被运行中的 studybot 使用。\n\
             请先停止它（如 systemctl stop studybot），再运行这条命令，然后重新启动机器人。",
            config.database.display()
        )
    };
    if control::client::connect(&config.database)?.is_some() {
        return Err(running());
    }
    // The texts shipped in data/: a chat of the backup may study one the backup lacks.
    let shipped = shipped_texts(config)?;
    // Checked before the database is opened: a refused file changes nothing.
    let mut backup = backup::verify_file(file, &shipped)?;
    let store = match Store::open_with_cache(&config.database, RESTORE_CACHE_BYTES) {
        Err(studybot::store::StoreError::Locked(_)) => return Err(running()),
        other => other?,
    };
    let state = store.user_state()?;
    if !state.is_empty() && !force {
        let held: Vec<String> = state
            .iter()
            .map(|(tree, entries)| format!("{tree}: {entries}"))
            .collect();
        anyhow::bail!(
            "the database at {} already holds user state ({}); importing would replace it.\n\
             Keep a copy first (studybot export <FILE>), then run again with --force to replace it.",
            config.database.display(),
            held.join(", ")
        );
    }
    let progress = studybot::progress::start("restoring", Some(backup.summary.entries as u64));
    let restored = store.restore_file(&mut backup);
    drop(progress);
    let report = restored?;
    println!(
        "imported {} entries in {} trees from {} (exported at {}) into {}{}",
        report.entries,
        report.trees,
        file.display(),
        backup.summary.header.exported_at.to_rfc3339(),
        config.database.display(),
        match report.replaced {
            0 => String::new(),
            n => format!(", replacing {n} entries"),
        }
    );
    Ok(())
}

/// `studybot run`: the Telegram bot, by long polling or a webhook, until SIGINT or
/// SIGTERM; then the store is flushed.
fn run_bot(
    config: Config,
    webhook: Option<url::Url>,
    listen: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let token = BotToken::from_env().ok_or_else(|| anyhow::anyhow!(NO_TOKEN))?;
    let source = match webhook {
        None => UpdateSource::Polling,
        Some(url) => UpdateSource::Webhook {
            url,
            listen,
            secret: std::env::var(WEBHOOK_SECRET_ENV)
                .ok()
                .filter(|s| !s.is_empty()),
        },
    };
    let app = open_app(config.clone(), &config.database)?;
    let runtime = tokio::runtime::Runtime::new()?;
    // The signal handlers are installed before the bot starts, so a signal never kills
    // the process; `telegram::run` returns within its STOP_LIMIT of the signal. The
    // control socket and the scheduled backups run beside it and stop with it.
    let result = runtime.block_on(async {
        use futures_util::FutureExt;
        let shutdown = shutdown_signal().shared();
        let socket = control::socket_path(&config.database);
        let control = tokio::spawn(control::server::serve(
            app.clone(),
            socket,
            shutdown.clone(),
        ));
        if let Some(backup) = config.backup.clone() {
            tokio::spawn(control::backups::run(app.clone(), backup, shutdown.clone()));
        }
        let result = telegram::run(app.clone(), token, source, shutdown).await;
        control.abort();
        result
    });
    finish(runtime, &app)?;
    result
}

/// `studybot status`: from the running bot, or from the database when it is stopped.
fn status(config: Config) -> anyhow::Result<()> {
    let status = match control::client::connect(&config.database)? {
        Some(bot) => control::client::status(bot)?,
        None => match Store::open(&config.database) {
            Err(studybot::store::StoreError::Locked(path)) => anyhow::bail!(
                "数据库 {path} 正被另一个进程使用（如 studybot tick），且没有可连接的控制套接字：请稍后再试。"
            ),
            store => app_on(config.clone(), store?)?.ops().status(Utc::now())?,
        },
    };
    print!("{status}");
    Ok(())
}

/// `studybot import`: reads and imports the file, then prints the data-file form
/// (`--dry-run`) or stores it in the configured database.
fn import_text(
    config: &Config,
    file: &std::path::Path,
    id: Option<String>,
    dry_run: bool,
    replace: bool,
) -> anyhow::Result<()> {
    use studybot::app::library::{LibraryError, valid_id};
    use studybot::text::import::{self, FileKind};
    let stdin = file.as_os_str() == "-";
    // What the messages call the file, and the source the stored text keeps.
    let (shown, name) = if stdin {
        ("标准输入".to_string(), "标准输入".to_string())
    } else {
        let name = file
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        (file.display().to_string(), name)
    };
    let refused = |reason: &dyn std::fmt::Display| anyhow::anyhow!("无法导入 {shown}：{reason}");
    if let Some(id) = id.as_ref().filter(|id| !valid_id(id)) {
        return Err(refused(&LibraryError::BadId(id.clone())));
    }
    // Read with a bound whatever the file is (a pipe or /dev/zero says nothing of its
    // size): a file past the limit is refused once one byte more has come.
    let read = if stdin {
        import::read_limited(std::io::stdin().lock(), None)
    } else {
        std::fs::File::open(file).and_then(|opened| {
            let size = opened
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            import::read_limited(opened, size)
        })
    };
    let bytes = read
        .map_err(|e| refused(&import::read_error(&e)))?
        .map_err(|e| refused(&e))?;
    let kind = FileKind::from_name(&name);
    let progress = studybot::progress::start(&format!("reading {name}"), None);
    // Named as given, so that a data file's error reads as `studybot check` puts it.
    let imported = import::import(&bytes, kind, &shown);
    drop(progress);
    let mut imported = imported.map_err(|e| refused(&e))?;
    if let Some(id) = id {
        imported.document.id = id;
    }
    let summary = import::summary(&imported);
    if dry_run {
        eprint!("{summary}");
        print!("{}", import::data_file(&imported.document, &name));
        return Ok(());
    }
    if let Some(bot) = control::client::connect(&config.database)? {
        let id = imported.document.id.clone();
        print!(
            "{}",
            control::client::import(bot, &name, &id, replace, &bytes)?
        );
        return Ok(());
    }
    let store = match Store::open(&config.database) {
        Err(studybot::store::StoreError::Locked(path)) => anyhow::bail!(
            "无法导入：数据库 {path} 正被运行中的 studybot 使用。\n\
             请先停止机器人，再运行这条命令，然后重新启动机器人：导入的文本在下次启动时可用。\n\
             （只想检查结果，可加 --dry-run，它不打开数据库。）"
        ),
        other => other?,
    };
    let (library, _) = Library::load(&config.data_dir, &store)?;
    let document = library
        .store_import(&store, &imported, &name, replace, Utc::now())
        .map_err(|e| refused(&e))?;
    if let Some(previous) = library.document(&document.id) {
        // Groups reading the text keep their place by section in the new version.
        store.reposition_readers(&document.id, |position| {
            studybot::app::import::same_place(previous, &document, position)
        })?;
    }
    store.flush()?;
    print!("{summary}");
    println!(
        "\n已导入：编号 {}，{} 个部分，存入 {}。",
        document.id,
        document.parts().count(),
        config.database.display()
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM, logging which: the one shutdown of `run` and `tick`.
/// The handlers are installed when this is called (inside the runtime), not when it is
/// first polled, so from then on neither signal kills the process outright.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let (mut interrupt, mut terminate) = match (interrupt, terminate) {
                (Ok(interrupt), Ok(terminate)) => (interrupt, terminate),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(%error, "cannot listen for SIGINT and SIGTERM");
                    return std::future::pending().await;
                }
            };
            let signal = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(signal, "stop requested");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!(signal = "SIGINT", "stop requested");
    }
}

/// Ends a run or tick: stops the runtime (tasks still running are dropped, blocking
/// ones get 0.3 s), then makes every write durable.
fn finish(runtime: tokio::runtime::Runtime, app: &App) -> anyhow::Result<()> {
    runtime.shutdown_timeout(std::time::Duration::from_millis(300));
    app.ops().flush()?;
    tracing::info!("store flushed; bye");
    Ok(())
}

fn open_app(config: Config, database: &std::path::Path) -> anyhow::Result<App> {
    app_on(config, Store::open(database)?)
}

/// sled's page cache for `studybot export`, which reads every page once (see [`export`]):
/// only the upper levels of each tree are read again. 8 MiB held 10 MB more at the
/// export's peak than 2 MiB for a year of 3,000 members, in the same time.
const EXPORT_CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// sled's page cache for `studybot import-state`, which writes every page once (see
/// [`import_state`]).
const RESTORE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// sled's page cache for `studybot record` (see [`record`]).
const RECORD_CACHE_BYTES: u64 = 2 * 1024 * 1024;

/// The application on an open store: loads the texts and the curated questions.
fn app_on(config: Config, store: Store) -> anyhow::Result<App> {
    let (library, report) = Library::load(&config.data_dir, &store)?;
    for (id, outcome) in &report.synced {
        tracing::info!(document = %id, ?outcome, "texts loaded");
    }
    let curated = load_quiz_bank(&config, &library)?;
    Ok(App::with_curated_questions(library, store, config, curated))
}

/// Reads the curated quiz questions; a missing file means none (and is logged).
fn load_quiz_bank(
    config: &Config,
    library: &Library,
) -> anyhow::Result<Vec<studybot::quiz::Question>> {
    let path = config.quiz.bank_path(&config.data_dir);
    match studybot::quiz::curated::load_curated(&path, library.default_document())? {
        Some(questions) => Ok(questions),
        None => {
            tracing::warn!(path = %path.display(), "no curated quiz questions");
            Ok(Vec::new())
        }
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("studybot-console-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
