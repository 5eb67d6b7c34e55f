//! The backup figures of issue 19 (item 14): `studybot export` and `studybot
//! import-state` of a year of a 3,000-member group, their time and their peak memory
//! above the same commands on a store of one record, beside the store's size on disk
//! and a peer measured in the same run: copying the database's files (what any backup
//! of the store costs at least: reading and writing its bytes).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use studybot::config::Config;
use studybot::schedule::local_date;
use studybot::store::Store;

use crate::features::check_in;
use crate::scheduling::write_config;

/// Members and days of the backed-up group.
pub const BACKUP_MEMBERS: u64 = 3_000;
/// See [`BACKUP_MEMBERS`].
pub const BACKUP_DAYS: i64 = 365;
const BACKUP_CHAT: i64 = -1_003_000_000_001;
const TINY_CHAT: i64 = -1_003_000_000_002;

/// One run of the backup figures.
pub struct BackupRun {
    /// The database directory's size on disk, MB.
    pub store_mb: f64,
    /// The backup file's size, MB.
    pub file_mb: f64,
    /// Entries exported.
    pub entries: usize,
    /// `studybot export` wall time, s.
    pub export_s: f64,
    /// Its peak RSS above the same command on a one-record store, MiB.
    pub export_extra_mb: f64,
    /// `studybot import-state` (into a new database) wall time, s.
    pub import_s: f64,
    /// Its peak RSS above the same command on the one-record store's backup, MiB.
    pub import_extra_mb: f64,
    /// The peer: copying the database's files to another directory, s.
    pub copy_s: f64,
}

/// Seeds 3,000 members × 365 days of check-ins in one group (on tmpfs when there is one:
/// seeding flushes per check-in as the bot does) and a one-record store, then exports and
/// imports both through the release binary.
pub async fn backup(root: &Path, studybot: &Path, quick: bool) -> BackupRun {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let (large, tiny) = (dir.path().join("large"), dir.path().join("tiny"));
    let zone = Config::default().timezone;
    let now = Utc::now();
    let today = local_date(now, zone);
    let days = if quick { BACKUP_DAYS / 6 } else { BACKUP_DAYS };
    {
        let store = Store::open(&large.join("db")).expect("open the store");
        for day in 0..days {
            let date = today - TimeDelta::days(day);
            for member in 0..BACKUP_MEMBERS {
                store
                    .check_in(&check_in(BACKUP_CHAT, 700_000 + member, date, now))
                    .expect("check in");
            }
        }
        store.flush().expect("flush");
        let store = Store::open(&tiny.join("db")).expect("open the store");
        store
            .check_in(&check_in(TINY_CHAT, 1, today, now))
            .expect("check in");
        store.flush().expect("flush");
    }
    let store_mb = dir_bytes(&large.join("db")) as f64 / 1e6;
    let copy_s = {
        let started = Instant::now();
        copy_dir(&large.join("db"), &dir.path().join("copy"));
        let elapsed = started.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(dir.path().join("copy"));
        elapsed
    };
    let config = |at: &Path| {
        std::fs::create_dir_all(at).expect("dir");
        write_config(at, root, "")
    };
    let (large_config, tiny_config) = (config(&large), config(&tiny));
    let (large_file, tiny_file) = (dir.path().join("large.json"), dir.path().join("tiny.json"));
    let (_, tiny_export) = timed(studybot, &tiny_config, &["export"], &tiny_file).await;
    let (export_s, large_export) = timed(studybot, &large_config, &["export"], &large_file).await;
    let file_mb = std::fs::metadata(&large_file).map_or(0, |m| m.len()) as f64 / 1e6;
    let entries = studybot::store::backup::verify(
        std::fs::File::open(&large_file).expect("the backup"),
        &["xzsj".to_string()],
    )
    .expect("the backup verifies")
    .entries;
    let (restored_large, restored_tiny) =
        (dir.path().join("into-large"), dir.path().join("into-tiny"));
    let (_, tiny_import) = timed(
        studybot,
        &config(&restored_tiny),
        &["import-state"],
        &tiny_file,
    )
    .await;
    let (import_s, large_import) = timed(
        studybot,
        &config(&restored_large),
        &["import-state"],
        &large_file,
    )
    .await;
    BackupRun {
        store_mb,
        file_mb,
        entries,
        export_s,
        export_extra_mb: large_export - tiny_export,
        import_s,
        import_extra_mb: large_import - tiny_import,
        copy_s,
    }
}

/// Runs `studybot --config <config> <args> <file>`: wall time (s) and peak RSS (MiB,
/// `VmHWM` polled every millisecond until exit).
async fn timed(studybot: &Path, config: &Path, args: &[&str], file: &Path) -> (f64, f64) {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(studybot)
        .arg("--config")
        .arg(config)
        .args(args)
        .arg(file)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start studybot");
    let pid = child.id().expect("running").to_string();
    let mut peak = 0.0_f64;
    loop {
        if let Some(hwm) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| crate::bots::kib_field(&s, "VmHWM:"))
        {
            peak = peak.max(hwm as f64 / 1024.0);
        }
        match tokio::time::timeout(Duration::from_millis(1), child.wait()).await {
            Ok(status) => {
                assert!(status.expect("wait").success(), "studybot {args:?} failed");
                break;
            }
            Err(_) => continue,
        }
    }
    (started.elapsed().as_secs_f64(), peak)
}

/// The bytes of the files in `dir` (sled's files are all at its top level or one below).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| match entry.file_type() {
                    Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
                    _ => entry.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Copies the files of `from` into `to`, recursively, and syncs them.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from)
        .expect("read the store")
        .filter_map(Result::ok)
    {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
            std::fs::File::open(&target)
                .and_then(|file| file.sync_all())
                .expect("sync");
        }
    }
}
