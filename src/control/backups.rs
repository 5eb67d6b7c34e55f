//! The scheduled backups of a running bot (`[backup]` in config.toml).
//!
//! The task sleeps until the next backup is due, beside the shutdown signal; the backup
//! itself runs on a blocking thread and reads a snapshot ([`crate::store::Store::snapshot`]),
//! so replies and deliveries go on meanwhile. The first is due `every` after the newest
//! backup already in `dir` (at once if there is none or it is older), so restarts do not
//! postpone backups.

use std::time::{Duration, SystemTime};

use chrono::Utc;

use crate::app::App;
use crate::app::ops::backups_in;
use crate::config::BackupConfig;

/// Writes a backup every `config.every` until `shutdown` resolves. A backup under way
/// when it does is finished on its blocking thread (the runtime gives it a moment, and
/// its temporary file is never renamed into place half written).
pub async fn run(app: App, config: BackupConfig, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut wait = first_wait(&config);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(wait) => {}
        }
        let (app, dir, keep) = (app.clone(), config.dir.clone(), config.keep);
        let written =
            tokio::task::spawn_blocking(move || app.ops().scheduled_backup(&dir, keep, Utc::now()))
                .await;
        match written {
            Ok(Ok((path, figures, took))) => tracing::info!(
                path = %path.display(),
                bytes = figures.bytes,
                entries = figures.entries,
                took_ms = took.as_millis() as u64,
                "scheduled backup written"
            ),
            Ok(Err(error)) => {
                tracing::error!(dir = %config.dir.display(), %error, "scheduled backup failed")
            }
            Err(error) => tracing::error!(%error, "scheduled backup failed"),
        }
        wait = config.every;
    }
}

/// How long until the first backup: `every` after the newest one in the directory.
fn first_wait(config: &BackupConfig) -> Duration {
    let newest = backups_in(&config.dir)
        .ok()
        .and_then(|found| found.last().cloned())
        .and_then(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
    match newest {
        Some(at) => {
            let age = SystemTime::now().duration_since(at).unwrap_or_default();
            config.every.saturating_sub(age)
        }
        None => Duration::ZERO,
    }
}
