//! The three bots under test, each a separate process: building them, starting them
//! against the fake Bot API, and reading their CPU time and memory from `/proc`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::fake_api::TOKEN;

/// Which bot a measurement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotKind {
    /// `target/release/studybot run`.
    Studybot,
    /// The aiogram 3 bot in `benches/peer/peer_bot.py`.
    Peer,
    /// The bare teloxide bot in `examples/floor.rs`.
    Floor,
}

impl BotKind {
    /// All three, in the order the report shows them.
    pub const ALL: [Self; 3] = [Self::Studybot, Self::Peer, Self::Floor];

    /// A short name for logs and file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Studybot => "studybot",
            Self::Peer => "peer",
            Self::Floor => "floor",
        }
    }
}

/// The send limits a bot runs with (only studybot has a limiter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// Telegram's limits: studybot's shipped defaults.
    Telegram,
    /// Every limit raised far beyond what the machine can send.
    Lifted,
}

/// The programs to run, once built.
pub struct Programs {
    /// The repository root (for `data/`).
    pub root: PathBuf,
    /// Where scratch directories and the virtual environment go.
    pub target: PathBuf,
    studybot: PathBuf,
    floor: PathBuf,
    /// The peer's interpreter and aiogram version, or why the peer is skipped.
    pub peer: Result<PeerEnv, String>,
}

/// The virtual environment the peer runs in.
pub struct PeerEnv {
    python: PathBuf,
    script: PathBuf,
    /// aiogram's version, as installed.
    pub aiogram: String,
    /// The interpreter's version.
    pub python_version: String,
}

impl Programs {
    /// Builds studybot and the floor in release mode and sets up the peer's virtual
    /// environment (`target/bench-venv`, aiogram 3 from PyPI; reused when present).
    pub fn build(root: &Path, target: &Path, with_peer: bool) -> Result<Self, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        println!("building studybot and the floor (cargo build --release) …");
        let mut command = Command::new(cargo);
        // `cargo bench` sets these for the benchmark it runs; a nested build that saw
        // them would differ from a plain `cargo build --release` (ring's build script
        // reruns when CARGO_MANIFEST_DIR changes) and rebuild half the tree each time.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_BIN_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_ref())
            {
                command.env_remove(name.as_ref());
            }
        }
        let status = command
            .args([
                "build",
                "--release",
                "--bin",
                "studybot",
                "--example",
                "floor",
            ])
            .current_dir(root)
            .env("CARGO_TARGET_DIR", target)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build --release failed: {status}"));
        }
        let peer = if with_peer {
            peer_env(root, target)
        } else {
            Err("not needed for this subcommand".into())
        };
        if let Err(reason) = &peer {
            println!("the peer is skipped: {reason}");
        }
        Ok(Self {
            root: root.to_path_buf(),
            target: target.to_path_buf(),
            studybot: target.join("release").join("studybot"),
            floor: target.join("release").join("examples").join("floor"),
            peer,
        })
    }

    /// The release build of studybot.
    pub fn studybot_path(&self) -> &Path {
        &self.studybot
    }

    /// Whether `kind` can run here (the peer needs its virtual environment).
    pub fn has(&self, kind: BotKind) -> bool {
        kind != BotKind::Peer || self.peer.is_ok()
    }
}

/// Creates the virtual environment and installs aiogram 3, unless it is already there.
fn peer_env(root: &Path, target: &Path) -> Result<PeerEnv, String> {
    let venv = target.join("bench-venv");
    let python = venv.join("bin").join("python");
    let script = root.join("benches").join("peer").join("peer_bot.py");
    if !python.exists() {
        println!(
            "creating the peer's virtual environment: python3 -m venv {}",
            venv.display()
        );
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !status.success() {
            return Err(format!("python3 -m venv failed: {status}"));
        }
    }
    if aiogram_version(&python).is_none() {
        println!("installing aiogram 3 from PyPI into {} …", venv.display());
        let output = Command::new(venv.join("bin").join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--timeout",
                "20",
                "--retries",
                "1",
                "aiogram==3.*",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            return Err(format!(
                "PyPI unreachable or aiogram failed to install ({})",
                last.unwrap_or("pip failed").trim()
            ));
        }
    }
    let aiogram = aiogram_version(&python).ok_or("aiogram 3 does not import after install")?;
    let python_version = command_output(&python, &["--version"]).unwrap_or_default();
    Ok(PeerEnv {
        python,
        script,
        aiogram,
        python_version,
    })
}

fn aiogram_version(python: &Path) -> Option<String> {
    command_output(
        python,
        &["-c", "import aiogram; print(aiogram.__version__)"],
    )
    .filter(|v| v.starts_with("3."))
}

/// The trimmed standard output of a command that succeeded.
pub fn command_output(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if text.is_empty() {
        text = String::from_utf8_lossy(&output.stderr).trim().to_string();
    }
    Some(text)
}

/// A bot process started by the benchmark.
pub struct BotProcess {
    /// Which bot it is.
    pub kind: BotKind,
    /// Just before the process was spawned.
    pub started: Instant,
    child: Child,
    log: PathBuf,
    /// Holds the scratch directory (config, database, log) until the process is gone.
    _scratch: tempfile::TempDir,
}

impl BotProcess {
    /// Starts `kind` against the Bot API at `api_url`.
    pub fn start(
        programs: &Programs,
        kind: BotKind,
        api_url: &str,
        limits: Limits,
    ) -> Result<Self, String> {
        let scratch_root = programs.target.join("bench");
        std::fs::create_dir_all(&scratch_root).map_err(|e| e.to_string())?;
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{}-", kind.name()))
            .tempdir_in(&scratch_root)
            .map_err(|e| e.to_string())?;
        let data = programs.root.join("data");
        let mut command = match kind {
            BotKind::Studybot => {
                let config = scratch.path().join("config.toml");
                std::fs::write(&config, studybot_config(&data, limits))
                    .map_err(|e| e.to_string())?;
                let mut command = Command::new(&programs.studybot);
                command
                    .arg("--config")
                    .arg(&config)
                    .arg("run")
                    .env("STUDYBOT_DB", scratch.path().join("db"));
                command
            }
            BotKind::Floor => Command::new(&programs.floor),
            BotKind::Peer => {
                let peer = programs.peer.as_ref().map_err(Clone::clone)?;
                let mut command = Command::new(&peer.python);
                command.arg(&peer.script);
                command
            }
        };
        let log = scratch.path().join("bot.log");
        let stderr = File::create(&log).map_err(|e| e.to_string())?;
        command
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", api_url)
            .env("STUDYBOT_DATA", &data)
            .env("RUST_LOG", "warn")
            .env_remove("PYTHONDEVMODE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
        Ok(Self {
            kind,
            started,
            child,
            log,
            _scratch: scratch,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU time the process used so far (all its threads).
    pub fn cpu(&self) -> Result<Duration, String> {
        process_cpu(&format!("/proc/{}/stat", self.pid()))
            .ok_or_else(|| format!("{} is not running:\n{}", self.kind.name(), self.log_tail()))
    }

    /// Resident memory (`VmRSS`) in bytes.
    pub fn rss(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| format!("{} is not running ({e})", self.kind.name()))?;
        kib_field(&status, "VmRSS:")
            .map(|kib| kib * 1024)
            .ok_or_else(|| "no VmRSS line".into())
    }

    /// The end of the process's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log.display())
    }

    /// Stops the process: SIGTERM, then SIGKILL if it is still there after 3 s.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        // Only reached when `stop` was not called (an error path): never leave a bot behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// studybot's configuration for a run.
fn studybot_config(data: &Path, limits: Limits) -> String {
    let limits = match limits {
        // The shipped defaults (config.toml), written out so the run says what it used.
        Limits::Telegram => {
            "global_per_second = 30\nglobal_burst = 5\nchat_per_second = 1\nchat_burst = 3\ngroup_per_minute = 20\ngroup_burst = 3\n"
        }
        Limits::Lifted => {
            "global_per_second = 1000000\nglobal_burst = 1000000\nchat_per_second = 1000000\nchat_burst = 1000000\ngroup_per_minute = 60000000\ngroup_burst = 1000000\n"
        }
    };
    format!(
        "# Generated by the benchmark.\ndata_dir = \"{}\"\n\n[telegram.limits]\n{limits}",
        data.display()
    )
}

/// The value of a `key:  1234 kB` line of a `/proc` file (`status`, `meminfo`), in KiB.
pub fn kib_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Clock ticks per second, for `/proc/<pid>/stat` times.
fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        command_output("getconf", &["CLK_TCK"])
            .and_then(|t| t.parse().ok())
            .unwrap_or(100.0)
    })
}

/// utime + stime from a `/proc/…/stat` file.
fn process_cpu(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may contain spaces; the fields after it are space-separated.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / clock_ticks()))
}

/// CPU time used so far by this process's threads whose name is `name` (the fake Bot
/// API's runtime threads are named so it can be told apart from the load client).
pub fn threads_cpu(name: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|task| process_cpu(&task.path().join("stat").to_string_lossy()))
        .sum()
}
