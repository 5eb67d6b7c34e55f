//! Helpers shared by the end-to-end tests: the fake Bot API and the real binary.

#![allow(dead_code)]

pub mod fake_telegram;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A token shaped like a real one (teloxide redacts only those from URLs itself).
pub const TOKEN: &str = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1x";
/// The secret half of [`TOKEN`], which must never appear in logs either.
pub const TOKEN_SECRET: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1x";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory with a config file for one bot instance.
pub struct Workspace {
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

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("studybot.log")
    }
}

/// The real `studybot` binary, running against a fake Bot API.
pub struct BotProcess {
    pub child: Child,
    log: PathBuf,
}

impl BotProcess {
    /// Starts `studybot <args>` with the workspace's config, the fake's URL and [`TOKEN`].
    pub fn start(workspace: &Workspace, api_url: &str, args: &[&str]) -> Self {
        Self::start_with_env(workspace, api_url, args, &[])
    }

    /// Like [`Self::start`], with further environment variables set.
    pub fn start_with_env(
        workspace: &Workspace,
        api_url: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let log = workspace.log();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_studybot"))
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
        Self { child, log }
    }

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

/// Runs `studybot <args>` to completion with `input` on stdin, from the repository root,
/// with `envs` set and the path overrides of the caller's environment removed.
/// Returns (stdout, stderr, success).
pub fn run_studybot(args: &[&str], envs: &[(&str, &Path)], input: &str) -> (String, String, bool) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_studybot"))
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
pub fn console(input: &str) -> String {
    let (stdout, stderr, ok) = run_studybot(&["console", "--temp-db"], &[], input);
    assert!(ok, "studybot console failed:\n{stdout}\n{stderr}");
    stdout
}

/// A subscription at 08:00 Asia/Shanghai for `chat_id`, made at `now`.
pub fn shanghai_subscription(
    chat_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> studybot::schedule::Subscription {
    studybot::schedule::Subscription::new(
        chat_id,
        "xzsj",
        chrono::NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time"),
        chrono_tz::Asia::Shanghai,
        studybot::schedule::Subscriber {
            user_id: 1,
            name: "admin".into(),
        },
        now,
    )
}
