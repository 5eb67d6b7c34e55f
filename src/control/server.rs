//! The running bot's end of the control socket (see [`crate::control`]).
//!
//! Accepting is async, beside the dispatcher; each connection is then handled on a
//! blocking thread (an import parses, an export reads the whole store, a record builds a
//! workbook), so none of it holds up replies or deliveries.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream as StdStream;
use std::path::{Path, PathBuf};

use chrono::Utc;
use tokio::net::UnixListener;

use crate::app::App;
use crate::app::record::RecordOutput;
use crate::control::{BACKUP_NAME, LONGEST_LINE, Request, Response};
use crate::text::import::{ImportError, LARGEST_FILE};

/// How many bytes of a file go in one [`Response::Data`].
const CHUNK: usize = 64 * 1024;

/// How long the bot waits for a client's next bytes before it gives up on it.
const IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves the control socket at `path` until `shutdown` resolves, then removes it.
///
/// A file left at `path` by a bot that was killed is replaced: sled's lock, taken before
/// this starts, means no other bot serves this database.
pub async fn serve(
    app: App,
    path: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot replace {}: {error}", path.display())
        }
        _ => {}
    }
    let listener = UnixListener::bind(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    // The socket is created by this process, so its owner is the bot's user.
    let owner = std::fs::metadata(&path)?.uid();
    tracing::info!(path = %path.display(), "control socket open");
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "control socket: cannot accept");
                    continue;
                }
            },
        };
        let refusal = refusal(&path, owner, stream.peer_cred().ok().map(|c| c.uid()));
        let app = app.clone();
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "control socket: cannot take the connection");
                continue;
            }
        };
        tokio::task::spawn_blocking(move || {
            let _ = stream.set_nonblocking(false);
            // A client that stops sending does not hold a thread for good.
            let _ = stream.set_read_timeout(Some(IDLE_LIMIT));
            let result = match refusal {
                Some(message) => {
                    tracing::warn!(%message, "control socket: connection refused");
                    refuse(&stream, message)
                }
                None => handle(&app, &stream),
            };
            if let Err(error) = result {
                tracing::warn!(%error, "control socket: connection ended");
            }
        });
    }
    drop(listener);
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// Why a connection from a peer of uid `peer` must be refused, if it must: another
/// user, or a socket whose mode or owner was changed since the bot made it.
fn refusal(path: &Path, owner: u32, peer: Option<u32>) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.mode() & 0o777 != 0o600 || meta.uid() != owner => {
            return Some(format!(
                "控制套接字 {} 的权限已被改为 {:o}（属主 uid {}），应为 0600、属于运行机器人的用户：拒绝服务。请重启机器人。",
                path.display(),
                meta.mode() & 0o777,
                meta.uid()
            ));
        }
        Ok(_) => {}
        Err(error) => return Some(format!("控制套接字 {} 不可用：{error}", path.display())),
    }
    match peer {
        Some(uid) if uid == owner => None,
        Some(uid) => Some(format!(
            "拒绝：只有运行机器人的用户（uid {owner}）可以使用控制套接字，你是 uid {uid}。"
        )),
        None => Some("拒绝：无法确认连接方的用户。".to_string()),
    }
}

fn refuse(mut stream: &StdStream, message: String) -> std::io::Result<()> {
    send(&mut stream, &Response::Refused { message })
}

/// Answers one request.
fn handle(app: &App, stream: &StdStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    (&mut reader).take(LONGEST_LINE).read_line(&mut line)?;
    let mut out = stream;
    let request: Request = match serde_json::from_str(line.trim_end()) {
        Ok(request) => request,
        Err(error) => {
            return refuse(stream, format!("无法理解的请求：{error}"));
        }
    };
    tracing::info!(?request, "control socket request");
    let answer = match request {
        Request::Status => match app.ops().status(Utc::now()) {
            Ok(mut status) => {
                status.running = true;
                Response::Status { status }
            }
            Err(error) => Response::Refused {
                message: format!("无法读取数据库：{error}"),
            },
        },
        Request::Import {
            name,
            id,
            replace,
            len,
        } => {
            if len > LARGEST_FILE {
                Response::Refused {
                    message: format!("无法导入 {name}：{}", ImportError::FileTooLarge(Some(len))),
                }
            } else {
                let mut bytes = Vec::with_capacity(len as usize);
                (&mut reader).take(len).read_to_end(&mut bytes)?;
                if bytes.len() as u64 != len {
                    return Err(std::io::Error::other("the import ended early"));
                }
                match app
                    .ops()
                    .import_text(&bytes, &name, id, replace, Utc::now())
                {
                    Ok(message) => Response::Done { message },
                    Err(message) => Response::Refused { message },
                }
            }
        }
        Request::Record {
            chat,
            from,
            to,
            name,
            csv,
        } => record(app, &mut out, chat, from, to, &name, csv)?,
        Request::Export => {
            let mut chunks = Chunks {
                stream: out,
                buffer: Vec::with_capacity(CHUNK),
            };
            match app.ops().write_backup(&mut chunks) {
                Ok(figures) => Response::Done {
                    message: format!(
                        "exported {} entries in {} trees ({} bytes) from the running bot, as of one instant",
                        figures.entries, figures.trees, figures.bytes
                    ),
                },
                Err(error) => Response::Refused {
                    message: format!("cannot export: {error}"),
                },
            }
        }
    };
    send(&mut out, &answer)
}

/// `studybot record` in the running bot: written to a private temporary directory, then
/// streamed to the client, which writes the files where it was asked to.
fn record(
    app: &App,
    out: &mut &StdStream,
    chat: i64,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    name: &str,
    csv: bool,
) -> std::io::Result<Response> {
    let Some(name) = Path::new(name).file_name() else {
        return Ok(Response::Refused {
            message: format!("not a file name: {name}"),
        });
    };
    let dir = PrivateDir::new()?;
    let output = match RecordOutput::choose(&dir.0.join(name), csv, false) {
        Ok(output) => output,
        Err(message) => return Ok(Response::Refused { message }),
    };
    let written = match app.record().write(chat, from, to, &output, Utc::now()) {
        Ok(written) => written,
        Err(error) => {
            return Ok(Response::Refused {
                message: format!("{error:#}"),
            });
        }
    };
    for path in &written.files {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut file = std::fs::File::open(path)?;
        let mut buffer = vec![0; CHUNK];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            send_data(out, &name, &buffer[..n])?;
        }
    }
    Ok(Response::Done {
        message: format!("{}；由运行中的机器人导出", written.summary()),
    })
}

/// A directory only the bot's user can enter, removed when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("studybot-record-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A writer that sends what is written as [`Response::Data`] of [`BACKUP_NAME`], a chunk
/// at a time.
struct Chunks<'a> {
    stream: &'a StdStream,
    buffer: Vec<u8>,
}

impl Write for Chunks<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            send_data(&mut self.stream, BACKUP_NAME, &self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

fn send_data(stream: &mut &StdStream, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    send(
        stream,
        &Response::Data {
            name: name.to_string(),
            len: bytes.len() as u64,
        },
    )?;
    stream.write_all(bytes)
}

fn send(stream: &mut &StdStream, response: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(response).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_over_a_0600_socket_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sock");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let owner = std::fs::metadata(&path).unwrap().uid();
        assert_eq!(refusal(&path, owner, Some(owner)), None);
        let other = refusal(&path, owner, Some(owner + 1)).unwrap();
        assert!(other.contains("只有运行机器人的用户"), "{other}");
        assert!(refusal(&path, owner, None).is_some());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
        let opened = refusal(&path, owner, Some(owner)).unwrap();
        assert!(opened.contains("660"), "{opened}");
    }
}
