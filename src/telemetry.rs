//! What the running bot counts for its operator: one function per event, recorded
//! through the `metrics` facade (a no-op until a recorder is installed, so the console,
//! `tick` and the tests without `[metrics]` pay nothing). The names are the Prometheus
//! series that `/metrics` serves ([`crate::telegram::metrics`]); the recorder and the
//! HTTP side live there, so this module imports nothing from the crate and every layer
//! may call it.
//!
//! Alive-ness for `/healthz` is kept here too ([`Heartbeat`]): polling (or the webhook)
//! touches it, the health check reads it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Updates received, by kind (`message`, `callback_query`, `poll_answer`, …).
pub const UPDATES_RECEIVED: &str = "studybot_updates_received_total";
/// Updates answered (a reply queued or a button answered), by kind.
pub const UPDATES_ANSWERED: &str = "studybot_updates_answered_total";
/// Updates that could not be read, by kind (counted by the update reader).
pub const UPDATES_UNREADABLE: &str = "studybot_updates_unreadable_total";
/// Bot API requests, by method and outcome (`ok`, `429`, `4xx`, `5xx`, `timeout`).
pub const SENDS: &str = "studybot_sends_total";
/// Bot API request latency, by method, seconds (each attempt).
pub const SEND_SECONDS: &str = "studybot_send_seconds";
/// Chats with replies queued in their lane.
pub const REPLY_LANES: &str = "studybot_reply_lanes";
/// Replies (commands' jobs) queued in all lanes.
pub const REPLY_LANE_JOBS: &str = "studybot_reply_lane_jobs";
/// Daily excerpts found due by the scheduler.
pub const DELIVERIES_DUE: &str = "studybot_deliveries_due_total";
/// Daily excerpts sent and recorded.
pub const DELIVERIES_SENT: &str = "studybot_deliveries_sent_total";
/// Daily excerpts found due more than [`LATE_AFTER`] after their send time.
pub const DELIVERIES_LATE: &str = "studybot_deliveries_late_total";
/// Days skipped because their grace window had passed.
pub const DELIVERIES_MISSED: &str = "studybot_deliveries_missed_total";
/// Daily excerpts that failed, by reason (`chat_gone`, `no_rights`, `rejected`, `transient`).
pub const DELIVERIES_FAILED: &str = "studybot_deliveries_failed_total";
/// How late an excerpt was found due after its send time, seconds.
pub const DELIVERY_DELAY_SECONDS: &str = "studybot_delivery_delay_seconds";
/// One store flush (sled's flush and the device sync), seconds.
pub const STORE_FLUSH_SECONDS: &str = "studybot_store_flush_seconds";
/// Backups written, by outcome (`ok`, `failed`).
pub const BACKUPS: &str = "studybot_backups_total";
/// The size of the last backup written, bytes.
pub const BACKUP_BYTES: &str = "studybot_last_backup_bytes";
/// How long the last backup took, seconds.
pub const BACKUP_SECONDS: &str = "studybot_last_backup_seconds";
/// When the last backup was written, Unix seconds.
pub const BACKUP_TIMESTAMP: &str = "studybot_last_backup_timestamp_seconds";
/// Always 1, labelled with the version (the usual `build_info` series).
pub const BUILD_INFO: &str = "studybot_build_info";

/// An excerpt found due this long after its send time counts as late (a pass runs at
/// least every minute, so a punctual one is found within seconds).
pub const LATE_AFTER: Duration = Duration::from_secs(60);

/// An update arrived.
pub fn update_received(kind: &'static str) {
    metrics::counter!(UPDATES_RECEIVED, "kind" => kind).increment(1);
}

/// An update was answered.
pub fn update_answered(kind: &'static str) {
    metrics::counter!(UPDATES_ANSWERED, "kind" => kind).increment(1);
}

/// One Bot API request finished with `outcome` after `took`.
pub fn send(method: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!(SENDS, "method" => method, "outcome" => outcome).increment(1);
    metrics::histogram!(SEND_SECONDS, "method" => method).record(took.as_secs_f64());
}

/// The reply lanes now: chats with queued replies, and queued jobs in all.
pub fn reply_lanes(chats: usize, jobs: usize) {
    metrics::gauge!(REPLY_LANES).set(chats as f64);
    metrics::gauge!(REPLY_LANE_JOBS).set(jobs as f64);
}

/// An excerpt was found due `delay` after its send time.
pub fn delivery_due(delay: Duration) {
    metrics::counter!(DELIVERIES_DUE).increment(1);
    metrics::histogram!(DELIVERY_DELAY_SECONDS).record(delay.as_secs_f64());
    if delay > LATE_AFTER {
        metrics::counter!(DELIVERIES_LATE).increment(1);
    }
}

/// An excerpt was sent and recorded.
pub fn delivery_sent() {
    metrics::counter!(DELIVERIES_SENT).increment(1);
}

/// A day was skipped: its grace window had passed.
pub fn delivery_missed() {
    metrics::counter!(DELIVERIES_MISSED).increment(1);
}

/// An excerpt failed for `reason`.
pub fn delivery_failed(reason: &'static str) {
    metrics::counter!(DELIVERIES_FAILED, "reason" => reason).increment(1);
}

/// A store flush took `took`.
pub fn store_flush(took: Duration) {
    metrics::histogram!(STORE_FLUSH_SECONDS).record(took.as_secs_f64());
}

/// A backup of `bytes` was written in `took` (for the scheduled backups).
pub fn backup_written(bytes: u64, took: Duration) {
    metrics::counter!(BACKUPS, "outcome" => "ok").increment(1);
    metrics::gauge!(BACKUP_BYTES).set(bytes as f64);
    metrics::gauge!(BACKUP_SECONDS).set(took.as_secs_f64());
    metrics::gauge!(BACKUP_TIMESTAMP).set(unix_now() as f64);
}

/// A backup failed.
pub fn backup_failed() {
    metrics::counter!(BACKUPS, "outcome" => "failed").increment(1);
}

/// Records the build: [`BUILD_INFO`] with the crate's version.
pub fn build_info() {
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Whether updates are coming in, for `/healthz`. teloxide's polling reports only its
/// failures (a `getUpdates` that errs or times out, then a backoff) and the updates it
/// yields, not an empty long poll that succeeded; so the listener counts as alive when it
/// has started and no failure is more recent than the last update, within [`ALIVE_WITHIN`]
/// (a dead poll fails at least every request timeout, 17 s by default).
#[derive(Debug, Default)]
pub struct Heartbeat {
    /// Unix seconds when the listener started; 0 before.
    started: AtomicI64,
    /// Unix seconds of the last update received; 0 before the first.
    last_update: AtomicI64,
    /// Unix seconds of the last failure of the listener; 0 if none.
    last_failure: AtomicI64,
}

/// How recent a failure of the update listener must be to make the bot unhealthy.
pub const ALIVE_WITHIN: Duration = Duration::from_secs(60);

impl Heartbeat {
    /// The process-wide heartbeat, touched by the update listener.
    pub fn global() -> &'static Self {
        static HEARTBEAT: Heartbeat = Heartbeat {
            started: AtomicI64::new(0),
            last_update: AtomicI64::new(0),
            last_failure: AtomicI64::new(0),
        };
        &HEARTBEAT
    }

    /// The update listener (polling or the webhook) started.
    pub fn started(&self) {
        self.started.store(unix_now(), Ordering::Relaxed);
    }

    /// An update arrived.
    pub fn update(&self) {
        self.last_update.store(unix_now(), Ordering::Relaxed);
    }

    /// The listener failed (`getUpdates` erred or timed out).
    pub fn failed(&self) {
        self.last_failure.store(unix_now(), Ordering::Relaxed);
    }

    /// `Ok` while updates can come in; otherwise why not.
    pub fn alive(&self) -> Result<(), String> {
        if self.started.load(Ordering::Relaxed) == 0 {
            return Err("not receiving updates: polling (or the webhook) has not started".into());
        }
        let failure = self.last_failure.load(Ordering::Relaxed);
        let ago = unix_now() - failure;
        if failure != 0
            && failure >= self.last_update.load(Ordering::Relaxed)
            && ago <= ALIVE_WITHIN.as_secs() as i64
        {
            return Err(format!(
                "not receiving updates: getUpdates failed {ago} s ago and has not delivered an update since"
            ));
        }
        Ok(())
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listener_is_alive_once_started_until_a_failure_not_followed_by_an_update() {
        let heartbeat = Heartbeat::default();
        assert!(heartbeat.alive().unwrap_err().contains("has not started"));
        heartbeat.started();
        assert_eq!(heartbeat.alive(), Ok(()));
        heartbeat.failed();
        assert!(heartbeat.alive().unwrap_err().contains("getUpdates failed"));
        // An update in a later second than the failure shows polling works again.
        heartbeat
            .last_failure
            .store(unix_now() - 5, Ordering::Relaxed);
        heartbeat.update();
        assert_eq!(heartbeat.alive(), Ok(()));
        // A failure longer ago than ALIVE_WITHIN no longer counts.
        let long_ago = unix_now() - ALIVE_WITHIN.as_secs() as i64 - 1;
        heartbeat.last_update.store(0, Ordering::Relaxed);
        heartbeat.last_failure.store(long_ago, Ordering::Relaxed);
        assert_eq!(heartbeat.alive(), Ok(()));
    }
}
