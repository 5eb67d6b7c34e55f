//! The control socket: how `studybot status`, `import`, `record` and `export` reach a
//! running bot, which holds the database (sled opens it in one process only).
//!
//! A Unix domain socket beside the database ([`socket_path`]: `<database>.sock`), mode
//! 0600, owned by the bot's user; no network port. The server ([`server`]) answers only
//! peers of its own uid (`SO_PEERCRED`) and only while its socket is still 0600; the
//! client ([`client`]) refuses a socket of another mode. [`backups`] is the running
//! bot's other operator task: the scheduled backups.
//!
//! The protocol is one JSON line each way, with raw bytes where a line says so:
//!
//! - the client sends one [`Request`] line; [`Request::Import`] is followed by the
//!   file's `len` bytes (the bot reads the text from the socket, never from a path it
//!   might not see);
//! - the bot answers with [`Response`] lines: any number of [`Response::Data`], each
//!   followed by `len` bytes of the named file (a workbook, a backup: streamed in
//!   chunks, so neither side holds it whole), then one [`Response::Done`],
//!   [`Response::Status`] or [`Response::Refused`]. The client writes the files itself,
//!   as its own user, where it was asked to (a temporary file, synced, renamed once the
//!   bot says done), so the bot needs no write access to the operator's directories.

pub mod backups;
pub mod client;
pub mod server;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::app::ops::Status;

/// One request from `studybot` to the running bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// `studybot status`.
    Status,
    /// `studybot import`: `len` bytes of the file follow the line.
    Import {
        /// The file's name (its kind and default id come from it).
        name: String,
        /// The text's id, if given.
        id: Option<String>,
        /// Replace an imported text with the same id.
        replace: bool,
        /// How many bytes follow.
        len: u64,
    },
    /// `studybot record`: the workbook (or CSV files) come back as [`Response::Data`].
    Record {
        /// The chat.
        chat: i64,
        /// The first day, if given.
        from: Option<NaiveDate>,
        /// The last day, if given.
        to: Option<NaiveDate>,
        /// The workbook's file name (no directory); CSV files are named after it.
        name: String,
        /// CSV files instead of a workbook.
        csv: bool,
    },
    /// `studybot export`: a consistent backup, as [`Response::Data`] named [`BACKUP_NAME`].
    Export,
}

/// One line of the bot's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    /// The next `len` bytes on the socket belong to the file `name` (appended to what
    /// came before under that name).
    Data {
        /// The file's name (no directory).
        name: String,
        /// How many bytes follow.
        len: u64,
    },
    /// The request is done; `message` is for the operator.
    Done {
        /// What was done.
        message: String,
    },
    /// The status asked for.
    Status {
        /// The figures.
        status: Status,
    },
    /// The request was refused or failed; nothing was changed or written.
    Refused {
        /// Why, for the operator.
        message: String,
    },
}

/// The name [`Request::Export`]'s data comes under.
pub const BACKUP_NAME: &str = "backup.json";

/// The largest request line the bot reads (an import's name and id are short).
pub const LONGEST_LINE: u64 = 64 * 1024;

/// The control socket of the database at `database`: `<database>.sock` beside it.
pub fn socket_path(database: &Path) -> PathBuf {
    let mut name = database
        .file_name()
        .map_or_else(|| "studybot.db".into(), |n| n.to_os_string());
    name.push(".sock");
    database.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_beside_the_database_and_lines_read_back() {
        assert_eq!(
            socket_path(Path::new("/var/lib/studybot/studybot.db")),
            PathBuf::from("/var/lib/studybot/studybot.db.sock")
        );
        let request = Request::Import {
            name: "a.txt".into(),
            id: None,
            replace: true,
            len: 3,
        };
        let line = serde_json::to_string(&request).unwrap();
        assert!(line.starts_with(r#"{"command":"import""#), "{line}");
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), request);
    }
}
