//! The command line's end of the control socket (see [`crate::control`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::app::ops::Status;
use crate::control::{BACKUP_NAME, Request, Response, socket_path};

/// What the running bot answered to [`call`].
#[derive(Debug)]
enum Answer {
    /// Done; the message is for the operator, the files were written.
    Done(String),
    /// The status asked for.
    Status(Status),
}

/// Connects to the bot running on `database`: `Ok(None)` if none runs (no socket, or
/// one a killed bot left behind), `Err` if one runs but must not be used (its socket's
/// mode is not 0600, or the connection is not allowed).
pub fn connect(database: &Path) -> anyhow::Result<Option<UnixStream>> {
    let path = socket_path(database);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => anyhow::bail!("无法查看控制套接字 {}：{error}", path.display()),
    };
    if !meta.file_type().is_socket() {
        anyhow::bail!(
            "{} 不是套接字：拒绝使用（应是运行中的机器人建立的控制套接字）。",
            path.display()
        );
    }
    if meta.mode() & 0o777 != 0o600 {
        anyhow::bail!(
            "控制套接字 {} 的权限是 {:o}，不是 0600：拒绝使用（它可能被别人改动或替换）。请检查后重启机器人。",
            path.display(),
            meta.mode() & 0o777
        );
    }
    match UnixStream::connect(&path) {
        Ok(stream) => Ok(Some(stream)),
        // A socket nobody listens on: the bot that made it is gone.
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => Ok(None),
        Err(error) => anyhow::bail!(
            "无法连接运行中的机器人（控制套接字 {}）：{error}。请以运行机器人的用户身份执行此命令。",
            path.display()
        ),
    }
}

/// `studybot status` from the running bot.
pub fn status(bot: UnixStream) -> anyhow::Result<Status> {
    match call(bot, &Request::Status, None, |_| None)? {
        Answer::Status(status) => Ok(status),
        Answer::Done(message) => anyhow::bail!("the running bot answered: {message}"),
    }
}

/// `studybot import` by the running bot: sends the file's `bytes`; returns its report.
pub fn import(
    bot: UnixStream,
    name: &str,
    id: &str,
    replace: bool,
    bytes: &[u8],
) -> anyhow::Result<String> {
    let request = Request::Import {
        name: name.to_string(),
        id: Some(id.to_string()),
        replace,
        len: bytes.len() as u64,
    };
    done(call(bot, &request, Some(bytes), |_| None)?)
}

/// `studybot record` by the running bot: the files it sends are written beside `out`
/// (never anywhere else: a name with a directory is refused). Returns them.
pub fn record(
    bot: UnixStream,
    chat: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    out: &Path,
    csv: bool,
) -> anyhow::Result<(Vec<PathBuf>, String)> {
    let request = Request::Record {
        chat,
        from,
        to,
        name: out
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        csv,
    };
    let dir = out.parent().unwrap_or(Path::new("")).to_path_buf();
    let written = RefCell::new(Vec::new());
    let message = done(call(bot, &request, None, |name| {
        if Path::new(name).file_name() != Some(OsStr::new(name)) {
            return None;
        }
        let path = dir.join(name);
        if !written.borrow().contains(&path) {
            written.borrow_mut().push(path.clone());
        }
        Some(path)
    })?)?;
    Ok((written.into_inner(), message))
}

/// `studybot export` by the running bot, to `file` (a link is followed: the file it
/// points to is replaced, the link stays). Returns the bot's report.
pub fn export(bot: UnixStream, file: &Path) -> anyhow::Result<String> {
    let target = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    done(call(bot, &Request::Export, None, |name| {
        (name == BACKUP_NAME).then(|| target.clone())
    })?)
}

fn done(answer: Answer) -> anyhow::Result<String> {
    match answer {
        Answer::Done(message) => Ok(message),
        Answer::Status(_) => anyhow::bail!("the running bot answered with its status"),
    }
}

/// Sends `request` (with `body` after it, for an import) and reads the answer. Files the
/// bot sends are written where `place` says (a file it has no place for is refused),
/// each to a temporary file beside its place first, synced and renamed once the bot says
/// it is done; nothing is left behind when it refuses or the connection ends early.
fn call(
    stream: UnixStream,
    request: &Request,
    body: Option<&[u8]>,
    place: impl Fn(&str) -> Option<PathBuf>,
) -> anyhow::Result<Answer> {
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    (&stream).write_all(&line)?;
    if let Some(body) = body {
        (&stream).write_all(body)?;
    }
    let mut files = Files::default();
    let mut reader = BufReader::new(&stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            anyhow::bail!("the running bot closed the connection before it was done (see its log)");
        }
        let response: Response = serde_json::from_str(line.trim_end())
            .map_err(|e| anyhow::anyhow!("the running bot sent something unreadable: {e}"))?;
        match response {
            Response::Data { name, len } => {
                let target = place(&name).ok_or_else(|| {
                    anyhow::anyhow!("the running bot sent an unexpected file: {name}")
                })?;
                let file = files.open(target)?;
                let copied = std::io::copy(&mut (&mut reader).take(len), file)?;
                if copied != len {
                    anyhow::bail!("the running bot closed the connection in the middle of {name}");
                }
            }
            Response::Done { message } => {
                files.finish()?;
                return Ok(Answer::Done(message));
            }
            Response::Status { status } => return Ok(Answer::Status(status)),
            Response::Refused { message } => anyhow::bail!("{message}"),
        }
    }
}

/// The files being received: target → (temporary path, open file).
#[derive(Default)]
struct Files(BTreeMap<PathBuf, (PathBuf, File)>);

impl Files {
    fn open(&mut self, target: PathBuf) -> anyhow::Result<&mut File> {
        if !self.0.contains_key(&target) {
            let name = target
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let temporary = target.with_file_name(format!(".{name}.part-{}", std::process::id()));
            // Readable by the operator only, like every backup: they hold chat ids and names.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temporary)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", temporary.display()))?;
            self.0.insert(target.clone(), (temporary, file));
        }
        Ok(&mut self.0.get_mut(&target).expect("just inserted").1)
    }

    /// Syncs and renames every file into place.
    fn finish(mut self) -> anyhow::Result<()> {
        for (target, (temporary, file)) in std::mem::take(&mut self.0) {
            file.sync_all()?;
            std::fs::rename(&temporary, &target)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", target.display()))?;
        }
        Ok(())
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        for (temporary, _) in self.0.values() {
            let _ = std::fs::remove_file(temporary);
        }
    }
}
