//! Runs the real `studybot` binary for the end-to-end tests in `tests/`: a scratch
//! [`Workspace`] with its config, a [`BotProcess`] against the fake Bot API
//! (`tests/support/fake_telegram`), one-shot runs and the console, and [`Studybot::running`], the
//! start most scenarios share (a fresh fake, a workspace, `studybot run` ready for updates).
//!
//! Cargo tells only the studybot package's own tests where it built the binary
//! (`CARGO_BIN_EXE_studybot`, set at compile time), so this package cannot find it by
//! itself: each test file names it once and passes it in,
//!
//! ```ignore
//! const STUDYBOT: Studybot = Studybot::at(env!("CARGO_BIN_EXE_studybot"));
//! ```

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fake_telegram::FakeTelegram;
use tokio::process::{Child, Command};

/// A token shaped like a real one (teloxide redacts only those from URLs itself).
pub const TOKEN: &str = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1x";
/// The secret half of [`TOKEN`], which must never appear in logs either.
pub const TOKEN_SECRET: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1x";

/// How long [`Studybot::started`] waits for a starting bot to set its commands: far more
/// than it needs, so a loaded machine does not fail the test.
const START_WAIT: Duration = Duration::from_secs(30);

/// The repository root (this package lives in `tests/support/harness`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// The studybot binary under test.
#[derive(Clone, Copy, Debug)]
pub struct Studybot(&'static str);

/// A scenario's usual start: a fresh fake Bot API, a workspace, and `studybot run` with the
/// workspace's config, ready for updates.
pub struct Running {
    /// The fake Bot API the bot talks to.
    pub tg: FakeTelegram,
    /// The bot's config and database.
    pub workspace: Workspace,
    /// The running bot.
    pub bot: BotProcess,
}

impl Studybot {
    /// The binary at `path` (`env!("CARGO_BIN_EXE_studybot")`).
    pub const fn at(path: &'static str) -> Self {
        Self(path)
    }

    /// The binary's path.
    pub fn path(&self) -> &Path {
        Path::new(self.0)
    }

    /// Starts `studybot <args>` with the workspace's config, the fake's URL and [`TOKEN`].
    pub fn start(&self, workspace: &Workspace, api_url: &str, args: &[&str]) -> BotProcess {
        self.start_with_env(workspace, api_url, args, &[])
    }

    /// Like [`Self::start`], with further environment variables set.
    pub fn start_with_env(
        &self,
        workspace: &Workspace,
        api_url: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> BotProcess {
        let log = workspace.log();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(self.path())
            .arg("--config")
            .arg(workspace.config())
            .args(args)
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", api_url)
            .env("RUST_LOG", "debug,sled=info,hyper=info,reqwest=info")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        BotProcess { child, log }
    }

    /// Starts `studybot run` with the workspace's config against `tg` and waits until it
    /// has set its commands (a long poll is recorded only when it returns, so the start-up
    /// calls are what shows the bot is up). `tg` may have served an earlier bot already.
    pub async fn started(&self, tg: &FakeTelegram, workspace: &Workspace) -> BotProcess {
        let before = tg.requests_for("setMyCommands").len();
        let bot = self.start(workspace, &tg.api_url(), &["run"]);
        assert!(
            tg.wait_for_requests("setMyCommands", before + 2, START_WAIT)
                .await,
            "the bot starts: {}",
            bot.log()
        );
        bot
    }

    /// Starts `studybot run` in webhook mode on 127.0.0.1:`port` (its public URL
    /// `https://127.0.0.1:{port}/hook`, as behind a reverse proxy that terminates TLS) with
    /// `secret` as `STUDYBOT_WEBHOOK_SECRET`, and waits until it has called `setWebhook`.
    pub async fn webhook(
        &self,
        tg: &FakeTelegram,
        workspace: &Workspace,
        port: u16,
        secret: &str,
    ) -> BotProcess {
        let url = format!("https://127.0.0.1:{port}/hook");
        let listen = format!("127.0.0.1:{port}");
        let bot = self.start_with_env(
            workspace,
            &tg.api_url(),
            &["run", "--webhook", &url, "--listen", &listen],
            &[("STUDYBOT_WEBHOOK_SECRET", secret)],
        );
        assert!(
            tg.wait_for_requests("setWebhook", 1, START_WAIT).await,
            "the webhook is set: {}",
            bot.log()
        );
        bot
    }

    /// The usual start of a scenario: a fresh fake Bot API and `studybot run` with
    /// `workspace`'s config, up and polling.
    pub async fn running(&self, workspace: Workspace) -> Running {
        let tg = FakeTelegram::start().await;
        let bot = self.started(&tg, &workspace).await;
        Running { tg, workspace, bot }
    }

    /// Runs `studybot <args>` to completion with `input` on stdin, from the repository
    /// root, with `envs` set and the path overrides of the caller's environment removed.
    /// Returns (stdout, stderr, success).
    pub fn run(
        &self,
        args: &[&str],
        envs: &[(&str, &Path)],
        input: &str,
    ) -> (String, String, bool) {
        use std::io::Write;
        let mut child = std::process::Command::new(self.path())
            .args(args)
            .current_dir(root())
            .env_remove("STUDYBOT_DB")
            .env_remove("STUDYBOT_DATA")
            .envs(envs.iter().map(|(k, v)| (*k, v.as_os_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("input is written");
        let output = child.wait_with_output().expect("the binary finishes");
        (
            String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            String::from_utf8_lossy(&output.stderr).to_string(),
            output.status.success(),
        )
    }

    /// Runs `studybot console --temp-db` with `input`; asserts success and returns stdout.
    pub fn console(&self, input: &str) -> String {
        let (stdout, stderr, ok) = self.run(&["console", "--temp-db"], &[], input);
        assert!(ok, "studybot console failed:\n{stdout}\n{stderr}");
        stdout
    }
}

/// A scratch directory with a config file for one bot instance.
pub struct Workspace {
    /// The directory; it is removed when the workspace is dropped.
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A config with the given `[telegram.limits]` body (empty: Telegram's defaults).
    pub fn new(limits: &str) -> Self {
        Self::with_sections(limits, "")
    }

    /// A config with `[telegram.limits]` and further sections (e.g. `[quiz]`).
    pub fn with_sections(limits: &str, sections: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "database = \"{}\"\ndata_dir = \"{}\"\n\n[telegram.limits]\n{limits}\n\n{sections}\n",
            dir.path().join("db").display(),
            root().join("data").display(),
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Self { dir }
    }

    /// Limits high enough never to bind (floods, stress).
    pub fn unlimited() -> Self {
        Self::new(
            "global_per_second = 100000\nglobal_burst = 100000\nchat_per_second = 100000\nchat_burst = 100000\ngroup_per_minute = 1000000\ngroup_burst = 100000",
        )
    }

    /// The config file.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// The database directory.
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    /// Where a [`BotProcess`] started with this workspace writes its log (stderr).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("studybot.log")
    }
}

/// The real `studybot` binary, running against a fake Bot API.
pub struct BotProcess {
    /// The process (killed when dropped).
    pub child: Child,
    log: PathBuf,
}

impl BotProcess {
    /// Sends a signal (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and waits for the exit status (at most `limit`).
    pub async fn terminate(mut self, limit: Duration) -> std::process::ExitStatus {
        self.signal("TERM");
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("did not exit within {limit:?} of SIGTERM:\n{}", self.log()),
        }
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        read_log(&self.log)
    }
}

/// Reads a log file (empty if missing).
pub fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A tmpfs of a given size mounted for a test's lifetime (unmounted on drop, even when
/// the test fails): the full-disk tests' disk. [`TinyDisk::mount`] is `None`, with a
/// message, where mounting is not permitted (not root).
pub struct TinyDisk {
    /// Where it is mounted.
    pub at: PathBuf,
}

impl TinyDisk {
    /// Mounts a tmpfs of `size` (`"4m"`) at `at`, creating the directory.
    pub fn mount(at: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Self {
                at: at.to_path_buf(),
            }),
            Ok(output) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("SKIPPED: cannot run mount: {error}");
                None
            }
        }
    }

    /// Writes a file until the file system is full.
    pub fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.at.join("filler")).unwrap();
        let chunk = vec![0x5a_u8; 4 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.flush();
        let _ = file.sync_all();
    }

    /// Removes what [`TinyDisk::fill`] wrote.
    pub fn free(&self) {
        std::fs::remove_file(self.at.join("filler")).unwrap();
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status();
    }
}

/// A loopback port free a moment ago, for a listener the bot opens.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A connection to `addr` once something listens there (a listener the bot or a driver is
/// still starting), trying for up to `patience`.
pub async fn connect_when_listening(
    addr: impl tokio::net::ToSocketAddrs + Copy,
    patience: Duration,
) -> Option<tokio::net::TcpStream> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => return Some(stream),
            Err(_) if tokio::time::Instant::now() >= deadline => return None,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// POSTs `body` to the webhook at 127.0.0.1:`port` (see [`Studybot::webhook`]) with the
/// given secret header; returns the status line.
pub async fn post_update(port: u16, secret: Option<&str>, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The listener may still be starting.
    let mut stream = connect_when_listening(("127.0.0.1", port), Duration::from_secs(5))
        .await
        .expect("the webhook listener accepts connections");
    let header = secret
        .map(|s| format!("X-Telegram-Bot-Api-Secret-Token: {s}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.lines().next().unwrap_or_default().to_string()
}
