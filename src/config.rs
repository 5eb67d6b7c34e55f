//! Configuration: one explicit [`Config`], read once from `config.toml` and passed down.
//!
//! Relative paths in the file are resolved against the file's own directory, so the
//! same file works from any working directory (and under systemd).
//!
//! Over 600 lines because every setting sits here with its default, its documentation
//! and its check, so that one file answers "what can I set".

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{NaiveTime, TimeDelta};
use chrono_tz::Tz;
use serde::Deserialize;

/// Environment variable overriding [`Config::database`].
pub const DB_ENV: &str = "STUDYBOT_DB";
/// Environment variable overriding [`Config::data_dir`].
pub const DATA_ENV: &str = "STUDYBOT_DATA";
/// Environment variable holding the bot token (never read from the file).
pub const TOKEN_ENV: &str = "TELOXIDE_TOKEN";
/// Where systemd puts the service's credentials (`LoadCredential=`).
pub const CREDENTIALS_DIR_ENV: &str = "CREDENTIALS_DIRECTORY";
/// The credential holding the token when `TELOXIDE_TOKEN` is not set.
pub const TOKEN_CREDENTIAL: &str = "telegram-token";
/// Environment variable overriding [`TelegramConfig::api_url`].
pub const API_URL_ENV: &str = "TELOXIDE_API_URL";
/// The environment variable listing the operators' Telegram user ids, comma-separated.
pub const OPERATORS_ENV: &str = "STUDYBOT_OPERATORS";

/// Everything studybot can be configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The sled database directory. Default `studybot.db`.
    pub database: PathBuf,
    /// The directory holding `texts/*.md` (and the quiz bank). Default `data`.
    pub data_dir: PathBuf,
    /// The time zone for new subscriptions. Default `Asia/Shanghai`.
    pub timezone: Tz,
    /// The local send time for new subscriptions. Default `08:00`.
    pub daily_time: NaiveTime,
    /// How long after a chat's send time its excerpt may still go out (after a restart,
    /// a crash or failed attempts); later, the day is skipped. Default 6 hours
    /// (`grace_hours = 6`); 1 to 23 hours, so a day never overlaps the next.
    pub grace: TimeDelta,
    /// Telegram settings.
    pub telegram: TelegramConfig,
    /// Quiz settings.
    pub quiz: QuizConfig,
    /// How log lines are written to stderr. Default [`LogFormat::Text`].
    pub log_format: LogFormat,
    /// The Telegram user ids allowed to import texts by sending a file to the bot in a
    /// private chat (`operators = [123, 456]`, or `STUDYBOT_OPERATORS=123,456`, which
    /// replaces the file's list). Default none: only `studybot import` imports.
    pub operators: Vec<u64>,
    /// Scheduled backups (`[backup]`); `None` (no section) takes none.
    pub backup: Option<BackupConfig>,
    /// The Mini App's server (`[web]`); `None` (the default) serves nothing and shows
    /// no app buttons.
    pub web: Option<WebConfig>,
    /// Where `studybot run` serves `/metrics` and `/healthz` (`[metrics] listen =
    /// "127.0.0.1:9464"`; a bare port means 127.0.0.1). Default none: not served.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// The `[web]` section: where the Mini App (reader and dashboard) is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// The local address the server listens on (`listen = "127.0.0.1:8080"`), behind a
    /// reverse proxy that terminates TLS. Required.
    pub listen: std::net::SocketAddr,
    /// The HTTPS address users reach the app at (`public_url = "https://study.example.org"`),
    /// without a trailing slash; put in the buttons. Required; `http://` only for
    /// loopback (tests).
    pub public_url: String,
    /// How old `initData` may be before the API refuses it. Default 24 hours
    /// (`init_data_max_age_seconds = 86400`); 60 s to 30 days.
    pub init_data_max_age: TimeDelta,
}

/// The `[backup]` section: the running bot writes a backup every `every` into `dir`
/// and keeps the newest `keep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// How often (`every = "24h"`; units s, m, h, d). Default 24 hours.
    pub every: std::time::Duration,
    /// Where the backups go (`dir`). Default `backups` beside the database directory.
    pub dir: PathBuf,
    /// How many of the newest backups are kept (`keep`), at least 1. Default 7.
    pub keep: usize,
}

/// How log lines are written (`log_format` in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Readable lines (`text`), coloured only when stderr is a terminal: journald and
    /// log files get no escape codes.
    #[default]
    Text,
    /// One JSON object per line (`json`), for log collectors (Loki, Elasticsearch, …).
    Json,
}

/// The `[telegram]` section.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// The Bot API base URL, without a trailing slash; `None` means Telegram's own.
    pub api_url: Option<String>,
    /// The send limits.
    pub limits: RateLimits,
    /// How long `getUpdates` waits for updates (long polling), in seconds. Default 10.
    pub poll_timeout_seconds: u32,
    /// How long any request may take before it is abandoned and retried, in seconds;
    /// longer than the poll timeout. Default 17 (teloxide's).
    pub request_timeout_seconds: u32,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            api_url: None,
            limits: RateLimits::default(),
            poll_timeout_seconds: 10,
            request_timeout_seconds: 17,
        }
    }
}

/// Send limits. Telegram allows about 1 message/s per chat (short bursts are fine),
/// 20 messages/min per group and 30 messages/s overall; paid broadcasts and test
/// servers differ, so these are configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Messages per second over all chats. Default 30.
    pub global_per_second: u32,
    /// Ignored: the global budget is a sliding one-second window, as Telegram counts it.
    /// Still accepted so that older configs load. Default 5.
    pub global_burst: u32,
    /// Messages per second to one chat. Default 1.
    pub chat_per_second: u32,
    /// Burst allowed in one chat. Default 3.
    pub chat_burst: u32,
    /// Messages per minute to one group. Default 20.
    pub group_per_minute: u32,
    /// Ignored: a group's budget is a sliding one-minute window, as Telegram counts it.
    /// Still accepted so that older configs load. Default 3.
    pub group_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            global_per_second: 30,
            global_burst: 5,
            chat_per_second: 1,
            chat_burst: 3,
            group_per_minute: 20,
            group_burst: 3,
        }
    }
}

/// The bot token. It is a secret: `Debug` and `Display` never print it.
#[derive(Clone)]
pub struct BotToken(String);

impl BotToken {
    /// Reads the token from `TELOXIDE_TOKEN`, or else from the systemd credential
    /// `$CREDENTIALS_DIRECTORY/telegram-token` (`LoadCredential=` in
    /// deploy/studybot.service); `None` when neither holds one.
    pub fn from_env() -> Option<Self> {
        let from_credential = || {
            let dir = std::env::var_os(CREDENTIALS_DIR_ENV)?;
            std::fs::read_to_string(std::path::Path::new(&dir).join(TOKEN_CREDENTIAL)).ok()
        };
        std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .or_else(from_credential)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(Self)
    }

    /// The token itself, for the Telegram client (and for redacting it from errors).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// The `[quiz]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizConfig {
    /// How long each quiz poll stays open, in seconds (5–600, Telegram's limits). Default 30.
    pub open_period: u32,
    /// How many questions `/quiz` asks when no number is given (1–10). Default 5.
    pub questions: usize,
    /// Whether chats get the daily question after the excerpt unless they set it
    /// themselves with `/dailyquiz`. Default `false`.
    pub daily_quiz: bool,
    /// The curated question file, relative to `data_dir` unless absolute. Default `questions.md`.
    pub bank: PathBuf,
}

impl Default for QuizConfig {
    fn default() -> Self {
        Self {
            open_period: 30,
            questions: 5,
            daily_quiz: false,
            bank: PathBuf::from("questions.md"),
        }
    }
}

impl QuizConfig {
    /// The shortest and longest `open_period` Telegram accepts, in seconds.
    pub const OPEN_PERIOD_RANGE: std::ops::RangeInclusive<u32> = 5..=600;
    /// The fewest and most questions one quiz may have.
    pub const QUESTIONS_RANGE: std::ops::RangeInclusive<usize> = crate::command::QUIZ_QUESTIONS;

    /// The curated question file: `bank` resolved against `data_dir`.
    pub fn bank_path(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.bank)
    }
}

/// A configuration problem, naming the file and the key.
#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `[metrics] listen`: an address, or a bare port on 127.0.0.1 (never every interface
/// by accident: `0.0.0.0:9464` must be written out).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, ConfigError> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        ConfigError(format!(
            "config key metrics.listen: \"{text}\" is not an address and port (e.g. listen = \"127.0.0.1:9464\")"
        ))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    timezone: Option<String>,
    daily_time: Option<String>,
    grace_hours: Option<i64>,
    log_format: Option<String>,
    operators: Option<Vec<u64>>,
    #[serde(default)]
    telegram: FileTelegram,
    #[serde(default)]
    quiz: FileQuiz,
    backup: Option<FileBackup>,
    web: Option<FileWeb>,
    #[serde(default)]
    metrics: FileMetrics,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWeb {
    listen: String,
    public_url: String,
    init_data_max_age_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    every: Option<String>,
    dir: Option<PathBuf>,
    keep: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTelegram {
    api_url: Option<String>,
    limits: Option<RateLimits>,
    poll_timeout_seconds: Option<u32>,
    request_timeout_seconds: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuiz {
    open_period: Option<u32>,
    questions: Option<usize>,
    daily_quiz: Option<bool>,
    bank: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: PathBuf::from("studybot.db"),
            data_dir: PathBuf::from("data"),
            timezone: chrono_tz::Asia::Shanghai,
            daily_time: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time"),
            grace: crate::schedule::DEFAULT_GRACE,
            telegram: TelegramConfig::default(),
            quiz: QuizConfig::default(),
            log_format: LogFormat::default(),
            operators: Vec::new(),
            backup: None,
            web: None,
            metrics_listen: None,
        }
    }
}

impl Config {
    /// Loads the configuration. With `path` the file must exist; without it,
    /// `config.toml` in the working directory is used if present, else the defaults.
    /// Then `STUDYBOT_DB`, `STUDYBOT_DATA` and `TELOXIDE_API_URL` override.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (file, base) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    ConfigError(format!(
                        "cannot read config file {}: {error}",
                        path.display()
                    ))
                })?;
                (
                    Self::parse_file(path, &text)?,
                    path.parent().map(Path::to_path_buf),
                )
            }
            None => match std::fs::read_to_string("config.toml") {
                Ok(text) => (Self::parse_file(Path::new("config.toml"), &text)?, None),
                Err(_) => (FileConfig::default(), None),
            },
        };
        let mut config =
            Self::from_file(file, base.as_deref().filter(|b| !b.as_os_str().is_empty()))?;
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|error| {
            ConfigError(format!(
                "config file {}: {}",
                path.display(),
                error.to_string().trim_end()
            ))
        })
    }

    fn from_file(file: FileConfig, base: Option<&Path>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let resolve = |path: PathBuf| match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        };
        let timezone = match file.timezone {
            None => defaults.timezone,
            Some(name) => name.parse::<Tz>().map_err(|_| {
                ConfigError(format!(
                    "config key timezone: \"{name}\" is not an IANA time zone (e.g. Asia/Shanghai)"
                ))
            })?,
        };
        let daily_time = match file.daily_time {
            None => defaults.daily_time,
            Some(text) => NaiveTime::parse_from_str(&text, "%H:%M").map_err(|_| {
                ConfigError(format!(
                    "config key daily_time: \"{text}\" is not a time like 08:00"
                ))
            })?,
        };
        let grace = match file.grace_hours {
            None => defaults.grace,
            Some(hours @ 1..=23) => TimeDelta::hours(hours),
            Some(hours) => {
                return Err(ConfigError(format!(
                    "config key grace_hours: {hours} is not between 1 and 23 (e.g. 6)"
                )));
            }
        };
        let log_format = match file.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "config key log_format: \"{other}\" is neither \"text\" nor \"json\" (e.g. log_format = \"json\")"
                )));
            }
        };
        let api_url = file.telegram.api_url.map(normalize_api_url).transpose()?;
        let quiz = quiz_config(file.quiz)?;
        let poll_timeout_seconds = file
            .telegram
            .poll_timeout_seconds
            .unwrap_or(defaults.telegram.poll_timeout_seconds);
        let request_timeout_seconds = file
            .telegram
            .request_timeout_seconds
            .unwrap_or(defaults.telegram.request_timeout_seconds);
        if !(1..=50).contains(&poll_timeout_seconds) {
            return Err(ConfigError(format!(
                "config key telegram.poll_timeout_seconds: {poll_timeout_seconds} is not between 1 and 50 (e.g. 10)"
            )));
        }
        if request_timeout_seconds <= poll_timeout_seconds {
            return Err(ConfigError(format!(
                "config key telegram.request_timeout_seconds: {request_timeout_seconds} must be longer than poll_timeout_seconds ({poll_timeout_seconds}), e.g. 17"
            )));
        }
        let database = resolve(file.database.unwrap_or(defaults.database));
        let backup = file
            .backup
            .map(|backup| backup_config(backup, &database, resolve))
            .transpose()?;
        Ok(Self {
            database,
            data_dir: resolve(file.data_dir.unwrap_or(defaults.data_dir)),
            timezone,
            daily_time,
            grace,
            telegram: TelegramConfig {
                api_url,
                limits: file.telegram.limits.unwrap_or_default(),
                poll_timeout_seconds,
                request_timeout_seconds,
            },
            quiz,
            log_format,
            operators: file.operators.unwrap_or_default(),
            backup,
            web: file.web.map(web_config).transpose()?,
            metrics_listen: file
                .metrics
                .listen
                .as_deref()
                .map(listen_address)
                .transpose()?,
        })
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(db) = var(DB_ENV).filter(|v| !v.is_empty()) {
            self.database = PathBuf::from(db);
        }
        if let Some(data) = var(DATA_ENV).filter(|v| !v.is_empty()) {
            self.data_dir = PathBuf::from(data);
        }
        if let Some(url) = var(API_URL_ENV).filter(|v| !v.is_empty()) {
            self.telegram.api_url = Some(url.trim_end_matches('/').to_string());
        }
        if let Some(list) = var(OPERATORS_ENV).filter(|v| !v.trim().is_empty()) {
            self.operators = list
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| {
                    id.parse::<u64>().map_err(|_| {
                        ConfigError(format!(
                            "{OPERATORS_ENV}: \"{id}\" is not a Telegram user id (e.g. {OPERATORS_ENV}=123456789,987654321)"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }

    /// Whether the Telegram user `user_id` may import texts.
    pub fn is_operator(&self, user_id: u64) -> bool {
        self.operators.contains(&user_id)
    }
}

fn backup_config(
    file: FileBackup,
    database: &Path,
    resolve: impl Fn(PathBuf) -> PathBuf,
) -> Result<BackupConfig, ConfigError> {
    let every = match file.every {
        None => std::time::Duration::from_secs(24 * 3600),
        Some(text) => parse_duration(&text).ok_or_else(|| {
            ConfigError(format!(
                "config key backup.every: \"{text}\" is not a duration like \"24h\" (units s, m, h, d)"
            ))
        })?,
    };
    let keep = file.keep.unwrap_or(7);
    if keep == 0 {
        return Err(ConfigError(
            "config key backup.keep: 0 would delete every backup; keep at least 1 (e.g. 7)"
                .to_string(),
        ));
    }
    let dir = match file.dir {
        Some(dir) => resolve(dir),
        None => database.parent().unwrap_or(Path::new(".")).join("backups"),
    };
    Ok(BackupConfig { every, dir, keep })
}

/// `"24h"`, `"30m"`, `"90s"`, `"7d"`: a positive whole number and a unit.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let count: u64 = text[..text.len() - 1].trim().parse().ok()?;
    if count == 0 {
        return None;
    }
    count
        .checked_mul(seconds)
        .map(std::time::Duration::from_secs)
}

fn web_config(file: FileWeb) -> Result<WebConfig, ConfigError> {
    let listen = file.listen.parse().map_err(|_| {
        ConfigError(format!(
            "config key web.listen: \"{}\" is not an address with a port (e.g. 127.0.0.1:8080)",
            file.listen
        ))
    })?;
    let bad_url = |why: &str| {
        ConfigError(format!(
            "config key web.public_url: \"{}\" {why} (e.g. https://study.example.org)",
            file.public_url
        ))
    };
    let url = url::Url::parse(&file.public_url).map_err(|_| bad_url("is not a URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(bad_url(
                "is not an https:// address (Telegram opens Mini Apps over HTTPS only)",
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad_url("has a query or fragment"));
    }
    let seconds = file.init_data_max_age_seconds.unwrap_or(86_400);
    if !(60..=30 * 86_400).contains(&seconds) {
        return Err(ConfigError(format!(
            "config key web.init_data_max_age_seconds: {seconds} is not between 60 and 2592000 (e.g. 86400)"
        )));
    }
    Ok(WebConfig {
        listen,
        public_url: url.as_str().trim_end_matches('/').to_string(),
        init_data_max_age: TimeDelta::seconds(seconds),
    })
}

fn quiz_config(file: FileQuiz) -> Result<QuizConfig, ConfigError> {
    let defaults = QuizConfig::default();
    let open_period = file.open_period.unwrap_or(defaults.open_period);
    if !QuizConfig::OPEN_PERIOD_RANGE.contains(&open_period) {
        return Err(ConfigError(format!(
            "config key quiz.open_period: {open_period} is not between 5 and 600 seconds (e.g. 30)"
        )));
    }
    let questions = file.questions.unwrap_or(defaults.questions);
    if !QuizConfig::QUESTIONS_RANGE.contains(&questions) {
        return Err(ConfigError(format!(
            "config key quiz.questions: {questions} is not between 1 and 10 (e.g. 5)"
        )));
    }
    Ok(QuizConfig {
        open_period,
        questions,
        daily_quiz: file.daily_quiz.unwrap_or(defaults.daily_quiz),
        bank: file.bank.unwrap_or(defaults.bank),
    })
}

fn normalize_api_url(url: String) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/').to_string();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        Ok(trimmed)
    } else {
        Err(ConfigError(format!(
            "config key telegram.api_url: \"{url}\" must start with http:// or https:// (e.g. https://api.telegram.org)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_file(
            Config::parse_file(Path::new("c.toml"), text)?,
            Some(Path::new("/etc/studybot")),
        )
    }

    #[test]
    fn the_shipped_file_parses() {
        let config = parse(include_str!("../config.toml")).unwrap();
        assert_eq!(config.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(config.daily_time, NaiveTime::from_hms_opt(8, 0, 0).unwrap());
        assert_eq!(config.grace, TimeDelta::hours(6));
        assert_eq!(config.database, Path::new("/etc/studybot/studybot.db"));
        assert_eq!(config.quiz, QuizConfig::default());
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(
            parse("log_format = \"json\"").unwrap().log_format,
            LogFormat::Json
        );
    }

    #[test]
    fn web_settings_are_read_and_checked() {
        assert_eq!(parse("").unwrap().web, None);
        let web = parse(
            "[web]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://s.example.org/app/\"",
        )
        .unwrap()
        .web
        .unwrap();
        assert_eq!(web.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(web.public_url, "https://s.example.org/app");
        assert_eq!(web.init_data_max_age, TimeDelta::hours(24));
        let web = parse("[web]\nlisten = \"127.0.0.1:9\"\npublic_url = \"http://127.0.0.1:9\"\ninit_data_max_age_seconds = 3600")
            .unwrap()
            .web
            .unwrap();
        assert_eq!(web.init_data_max_age, TimeDelta::hours(1));
        for (bad, key) in [
            (
                "listen = \"8080\"\npublic_url = \"https://a.org\"",
                "web.listen",
            ),
            (
                "listen = \"127.0.0.1:1\"\npublic_url = \"http://a.org\"",
                "web.public_url",
            ),
            (
                "listen = \"127.0.0.1:1\"\npublic_url = \"a.org\"",
                "web.public_url",
            ),
            (
                "listen = \"127.0.0.1:1\"\npublic_url = \"https://a.org\"\ninit_data_max_age_seconds = 5",
                "init_data_max_age",
            ),
            ("listen = \"127.0.0.1:1\"", "public_url"),
        ] {
            let error = parse(&format!("[web]\n{bad}")).unwrap_err().to_string();
            assert!(error.contains(key), "{bad}: {error}");
        }
    }

    #[test]
    fn quiz_settings_are_read_and_checked() {
        let config =
            parse("[quiz]\nopen_period = 60\nquestions = 3\ndaily_quiz = true\nbank = \"q.md\"")
                .unwrap();
        assert_eq!(
            (
                config.quiz.open_period,
                config.quiz.questions,
                config.quiz.daily_quiz
            ),
            (60, 3, true)
        );
        assert_eq!(
            config.quiz.bank_path(Path::new("data")),
            Path::new("data/q.md")
        );
    }

    #[test]
    fn metrics_listen_is_off_by_default_and_a_bare_port_is_localhost() {
        assert_eq!(parse("").unwrap().metrics_listen, None);
        assert_eq!(
            parse("[metrics]\nlisten = \"9464\"")
                .unwrap()
                .metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert_eq!(
            parse("[metrics]\nlisten = \"0.0.0.0:80\"")
                .unwrap()
                .metrics_listen,
            Some("0.0.0.0:80".parse().unwrap())
        );
        let error = parse("[metrics]\nlisten = \"localhost\"").unwrap_err();
        assert!(error.to_string().contains("metrics.listen"), "{error}");
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("timezone = \"Mars/Olympus\"", "timezone"),
            ("daily_time = \"25:00\"", "daily_time"),
            ("grace_hours = 0", "grace_hours"),
            ("grace_hours = 24", "grace_hours"),
            ("colour = \"red\"", "colour"),
            ("[telegram]\napi_url = \"ftp://x\"", "telegram.api_url"),
            ("[telegram]\ntoken = \"x\"", "token"),
            ("database = 3", "database"),
            ("[quiz]\nopen_period = 4", "quiz.open_period"),
            ("[quiz]\nopen_period = 601", "quiz.open_period"),
            ("[quiz]\nquestions = 0", "quiz.questions"),
            ("[quiz]\nquestions = 11", "quiz.questions"),
            ("[quiz]\nrounds = 3", "rounds"),
            ("log_format = \"xml\"", "log_format"),
            ("operators = [\"ann\"]", "operators"),
        ];
        for (text, key) in cases {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn environment_overrides_paths_and_url() {
        let mut config = parse("").unwrap();
        config
            .apply_env(|name| match name {
                DB_ENV => Some("/tmp/a".into()),
                DATA_ENV => Some("/tmp/d".into()),
                API_URL_ENV => Some("http://127.0.0.1:9/".into()),
                OPERATORS_ENV => Some("12, 34".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.operators, vec![12, 34]);
        assert!(config.is_operator(34) && !config.is_operator(56));
        assert_eq!(config.database, Path::new("/tmp/a"));
        assert_eq!(config.data_dir, Path::new("/tmp/d"));
        assert_eq!(
            config.telegram.api_url.as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn backups_are_off_unless_configured_and_durations_read_like_24h() {
        assert_eq!(Config::default().backup, None);
        let file: FileConfig =
            toml::from_str("database = \"/var/lib/studybot/db\"\n[backup]\nevery = \"2s\"\n")
                .unwrap();
        let config = Config::from_file(file, None).unwrap();
        let backup = config.backup.unwrap();
        assert_eq!(backup.every, std::time::Duration::from_secs(2));
        assert_eq!(backup.dir, PathBuf::from("/var/lib/studybot/backups"));
        assert_eq!(backup.keep, 7);
        assert_eq!(
            parse_duration("24h"),
            Some(std::time::Duration::from_secs(86_400))
        );
        for bad in ["", "0h", "h", "24", "1w", "-1h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let file: FileConfig = toml::from_str("[backup]\nkeep = 0\n").unwrap();
        assert!(Config::from_file(file, None).is_err());
    }
}
