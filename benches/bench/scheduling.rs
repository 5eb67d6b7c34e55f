//! The scheduling benchmarks: one scheduler tick over many subscribed chats (its cost
//! must follow the chats due, not the chats subscribed), a broadcast to 1,000 groups
//! at Telegram's real limits, and the idle footprint with 100,000 subscribed chats.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
// The tests' fake Bot API enforces Telegram's limits (429 with retry_after): the
// broadcast runs against it.
use fake_telegram::FakeTelegram;
use studybot::app::App;
use studybot::app::library::Library;
use studybot::config::Config;
use studybot::schedule::{Subscriber, Subscription};
use studybot::store::Store;

use crate::bots::kib_field;
use crate::fake_api::TOKEN;

/// Subscribes `total` chats in a fresh sled store at `path`: `due` of them at 08:00
/// Asia/Shanghai, the rest spread over the following minutes of the day. Returns the
/// instant the `due` ones are due.
pub fn seed(path: &Path, total: usize, due: usize, group_ids: bool) -> DateTime<Utc> {
    let store = Store::open(path).expect("open the bench store");
    // Seeded as of the start of the next Shanghai day, whatever the hour the bench runs
    // at: every chat's first send is later that day, in the future for a bot started now
    // (idle), and the chats seeded due come first for a decision pass. (Seeded at the
    // current hour in the evening, the later chats' sends were still that evening: the
    // next morning's pass also skipped their days, and a bot started now caught up.)
    let now = (Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Days::new(1))
    .and_time(NaiveTime::MIN)
    .and_local_timezone(chrono_tz::Asia::Shanghai)
    .single()
    .expect("Shanghai has no DST")
    .with_timezone(&Utc);
    let mut due_at = None;
    for i in 0..total {
        let minute = if i < due { 0 } else { 1 + (i % 900) as u32 };
        let time = NaiveTime::from_hms_opt(8 + minute / 60, minute % 60, 0).expect("a time of day");
        let chat_id = if group_ids {
            -1_000_000_000 - i as i64
        } else {
            1_000_000 + i as i64
        };
        let subscription = Subscription::new(
            chat_id,
            "xzsj",
            time,
            chrono_tz::Asia::Shanghai,
            Subscriber {
                user_id: 1,
                name: "bench".into(),
            },
            now,
        );
        if i == 0 {
            due_at = Some(subscription.next_due);
        }
        store.subscribe(subscription, None, now).expect("subscribe");
    }
    store.flush().expect("flush");
    due_at.expect("at least one chat")
}

/// One measured tick.
pub struct TickRun {
    /// Wall time of the decision pass (`Daily::due`: index scan, records,
    /// ledger "intended" marks, excerpt replies), ms.
    pub decide_ms: f64,
    /// Growth of this process's resident memory during the pass, MB.
    pub rss_growth_mb: f64,
}

/// Seeds `total` chats with `due` due, then times one decision pass.
pub fn tick(root: &Path, total: usize, due: usize) -> TickRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let due_at = seed(&db, total, due, false);
    let store = Store::open(&db).expect("reopen");
    let (library, _) = Library::load(&root.join("data"), &store).expect("load the texts");
    let app = App::new(library, store, Config::default());
    let before = rss_mb();
    let started = Instant::now();
    let deliveries = app
        .daily()
        .due(due_at + TimeDelta::seconds(30), usize::MAX)
        .expect("due deliveries");
    let decide_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(deliveries.len(), due, "the seeded chats are due");
    TickRun {
        decide_ms,
        rss_growth_mb: rss_mb() - before,
    }
}

/// The longest network delay the fake adds before executing a request in the broadcast.
pub const JITTER: Duration = Duration::from_millis(30);

/// One measured broadcast.
pub struct BroadcastRun {
    /// The global rate enforced by the fake (and configured in studybot), messages/s.
    pub allowed_per_second: f64,
    /// Messages accepted per second, first to last.
    pub achieved_per_second: f64,
    /// 429 answers received.
    pub too_many: usize,
    /// Excerpts beyond one per group.
    pub duplicates: usize,
    /// Groups without their excerpt.
    pub misses: usize,
    /// From starting `studybot tick` to its exit, s.
    pub wall_s: f64,
    /// Coefficient of variation of messages per second (0 = perfectly even).
    pub unevenness: f64,
}

/// Broadcasts to `groups` groups due at the same minute through the real binary
/// (`studybot tick`), the fake enforcing `global` messages in any sliding second and 20
/// in any sliding minute per group, strictly, with [`JITTER`].
pub async fn broadcast(root: &Path, studybot: &Path, groups: usize, global: u32) -> BroadcastRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let due_at = seed(&db, groups, groups, true);
    let tg = FakeTelegram::start().await;
    tg.enforce_strict_limits(0, 20, global);
    tg.set_arrival_jitter(JITTER);
    let config = write_config(
        dir.path(),
        root,
        &format!("\n[telegram.limits]\nglobal_per_second = {global}\n"),
    );
    let started = Instant::now();
    let status = studybot_command(studybot, &config, &tg)
        .args([
            "tick",
            "--now",
            &(due_at + TimeDelta::seconds(30)).to_rfc3339(),
        ])
        .status()
        .await
        .expect("run studybot tick");
    let wall_s = started.elapsed().as_secs_f64();
    assert!(status.success(), "studybot tick failed");
    let sends = tg.requests_for("sendMessage");
    let too_many = sends.iter().filter(|r| r.status == 429).count();
    let accepted: Vec<_> = sends.iter().filter(|r| r.ok()).collect();
    let mut per_chat = std::collections::HashMap::<i64, usize>::new();
    for request in &accepted {
        *per_chat
            .entry(request.body["chat_id"].as_i64().unwrap_or_default())
            .or_default() += 1;
    }
    let duplicates = per_chat.values().map(|n| n - 1).sum();
    let misses = groups - per_chat.len();
    let first = accepted
        .iter()
        .map(|r| r.at)
        .min()
        .expect("messages were sent");
    let last = accepted
        .iter()
        .map(|r| r.at)
        .max()
        .expect("messages were sent");
    let span = last.duration_since(first).as_secs_f64().max(1e-3);
    let mut bins = vec![0_f64; span.ceil() as usize + 1];
    for request in &accepted {
        bins[request.at.duration_since(first).as_secs_f64() as usize] += 1.0;
    }
    // Only whole seconds count for evenness: the last, partial second is left out.
    let full = &bins[..(span.floor() as usize).clamp(1, bins.len())];
    let mean = full.iter().sum::<f64>() / full.len() as f64;
    let variance = full.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / full.len() as f64;
    BroadcastRun {
        allowed_per_second: f64::from(global),
        achieved_per_second: (accepted.len().saturating_sub(1)) as f64 / span,
        too_many,
        duplicates,
        misses,
        wall_s,
        unevenness: variance.sqrt() / mean.max(1e-9),
    }
}

/// Idle resident memory of `studybot run` with `chats` subscribed chats in its store.
pub async fn footprint_with_subscriptions(root: &Path, studybot: &Path, chats: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    seed(&db, chats, 0, false);
    idle_rss(root, studybot, dir.path()).await
}

/// Idle resident memory of `studybot run` on the store `dir/db`, MiB: read two seconds
/// after it registered its commands, then the process is stopped with SIGTERM.
pub async fn idle_rss(root: &Path, studybot: &Path, dir: &Path) -> f64 {
    let tg = FakeTelegram::start().await;
    let config = write_config(dir, root, "");
    let mut child = studybot_command(studybot, &config, &tg)
        .arg("run")
        .kill_on_drop(true)
        .spawn()
        .expect("start studybot");
    assert!(
        tg.wait_for_requests("setMyCommands", 2, Duration::from_secs(20))
            .await,
        "studybot started"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = child.id().expect("running");
    let rss = process_rss_mb(pid);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    rss
}

/// Writes the config of a run on the store `dir/db` (`extra` appended) and returns its path.
pub fn write_config(dir: &Path, root: &Path, extra: &str) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"{}\"\ndata_dir = \"{}\"\n{extra}",
            dir.join("db").display(),
            root.join("data").display()
        ),
    )
    .expect("write the config");
    config
}

/// `studybot --config <config>` pointed at the fake, logging errors only.
pub fn studybot_command(
    studybot: &Path,
    config: &Path,
    tg: &FakeTelegram,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(studybot);
    command
        .arg("--config")
        .arg(config)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", tg.api_url())
        .env("RUST_LOG", "error");
    command
}

fn rss_mb() -> f64 {
    read_rss("self")
}

pub fn process_rss_mb(pid: u32) -> f64 {
    read_rss(&pid.to_string())
}

/// `VmRSS` of `/proc/<process>/status` in MiB (0 when it cannot be read).
pub fn read_rss(process: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|status| kib_field(&status, "VmRSS:"))
        .map_or(0.0, |kib| kib as f64 / 1024.0)
}
