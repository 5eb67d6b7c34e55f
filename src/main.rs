//! The `studybot` binary: parses the command line, sets up logging and configuration,
//! and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use studybot::app::App;
use studybot::config::Config;
use studybot::library::Library;
use studybot::store::Store;

/// A Telegram bot for study groups: daily excerpts, section lookups and quizzes.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file (default: ./config.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Run the bot's commands offline: one command per line on stdin, replies on stdout.
    Console {
        /// Use a fresh temporary database instead of the configured one.
        #[arg(long)]
        temp_db: bool,
    },
    /// Check the data files and print a summary.
    Check,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("studybot: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Mode::Console { temp_db } => {
            let temp = if temp_db { Some(tempfile_dir()?) } else { None };
            let path = temp.as_ref().map_or(config.database.clone(), |dir| dir.join("db"));
            let app = open_app(config, &path)?;
            studybot::console::run(&app, std::io::stdin().lock(), std::io::stdout().lock())?;
            app.store().flush()?;
            if let Some(dir) = temp {
                let _ = std::fs::remove_dir_all(dir);
            }
            Ok(())
        }
        Mode::Check => {
            let store = Store::in_memory();
            let (library, _) = Library::load(&config.data_dir, &store)?;
            for document in library.documents() {
                println!("{}: {} — {} sections", document.id, document.title, document.sections.len());
            }
            let curated = load_quiz_bank(&config, &library)?;
            let bank = studybot::quiz::QuestionBank::build(library.default_document(), &curated, &mut rand::rng());
            println!("quiz bank: {} questions ({} curated)", bank.len(), curated.len());
            Ok(())
        }
    }
}

fn open_app(config: Config, database: &std::path::Path) -> anyhow::Result<App> {
    let store = Store::open(database)?;
    let (library, report) = Library::load(&config.data_dir, &store)?;
    for (id, outcome) in &report.synced {
        tracing::info!(document = %id, ?outcome, "texts loaded");
    }
    let curated = load_quiz_bank(&config, &library)?;
    Ok(App::with_curated_questions(library, store, config, curated))
}

/// Reads the curated quiz questions; a missing file means none (and is logged).
fn load_quiz_bank(config: &Config, library: &Library) -> anyhow::Result<Vec<studybot::quiz::Question>> {
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
