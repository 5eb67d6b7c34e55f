//! The delivery task: runs a delivery pass whenever a chat is due, beside the
//! dispatcher, until shutdown. `studybot tick` runs the very same pass once.
//!
//! Stopping (the caller's shutdown, on SIGTERM or SIGINT) goes through the [`Outbox`]:
//! once [`Outbox::stop`] was called, a pass takes no new batch, sends that have not
//! reached Telegram are given up at once and requests in flight within
//! [`crate::telegram::outbox::STOP_GRACE`]. A delivery given up is not recorded at all:
//! its day stays "intended", so it goes out after the restart while its grace window
//! lasts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use teloxide::types::ChatId;
use tracing::Instrument;

use crate::app::App;
use crate::app::daily::Delivery;
use crate::app::weekly::Pacing;
use crate::schedule::FailureKind;
use crate::telegram::{Outbox, SendError, Shutdown};

/// The longest the delivery task sleeps. It is woken when a chat may be due sooner
/// ([`App::deliveries_changed`]) and otherwise sleeps until the due index's earliest
/// instant (retries within the grace window included), so this is only a safety net:
/// the sleep runs on the monotonic clock while due instants are wall-clock time, and a
/// clock step (NTP, a suspended machine) or a change to the store that did not wake the
/// task is caught within it. Long enough that an idle bot does no periodic work.
const SAFETY_WAKE: Duration = Duration::from_secs(600);
/// How long the task waits before it looks again when the store could not be read.
const STORE_RETRY: Duration = Duration::from_secs(10);
/// How long the task waits before looking again when a chat still looks due right
/// after a pass (nothing can be done for it now), so such a chat never makes it spin.
const MIN_SLEEP: Duration = Duration::from_secs(1);
/// How many deliveries are under way at once (waiting on the limiter, sending, or
/// recording the result durably); the limiter sets the actual pace. This is also the
/// crash bound: a SIGKILL can duplicate at most this many messages (see the README).
pub const IN_FLIGHT: usize = 64;
/// How many due deliveries are taken from the store at a time.
const BATCH: usize = 1024;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// Excerpts delivered.
    pub sent: usize,
    /// Deliveries that failed for good (chat gone) or for now (retried later).
    pub failed: usize,
    /// Deliveries not sent because the process is stopping; they are still due and go
    /// out after the restart, within their grace window.
    pub left: usize,
    /// Whether the store could not be read for the next batch (logged), so the pass
    /// ended early.
    pub store_failed: bool,
}

/// The time of a pass: the instant it runs as of, moving on with the real clock. For
/// `studybot run` that is the real time; `studybot tick --now T` sees T and the seconds
/// since, so everything the pass records (sent, failed, when to retry) agrees with T.
#[derive(Debug, Clone, Copy)]
struct PassClock {
    start: DateTime<Utc>,
    started: tokio::time::Instant,
}

impl PassClock {
    fn new(start: DateTime<Utc>) -> Self {
        Self {
            start,
            started: tokio::time::Instant::now(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::TimeDelta::from_std(self.started.elapsed()).unwrap_or_default();
        self.start + elapsed
    }
}

/// How one delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    Failed,
    /// Not sent because the process is stopping; nothing was recorded.
    Left,
}

/// Runs delivery passes until `shutdown` begins: one at once, then one whenever the
/// earliest due instant comes or the app says deliveries changed.
pub async fn run(app: App, outbox: Outbox, shutdown: Shutdown) {
    loop {
        // This process stays up to close each weekly test question and send the next.
        let report = tick(&app, &outbox, Utc::now(), Pacing::OneByOne).await;
        if report.sent + report.failed + report.left > 0 {
            tracing::info!(
                sent = report.sent,
                failed = report.failed,
                left = report.left,
                "delivery pass done"
            );
        }
        if outbox.is_stopping() {
            break;
        }
        let sleep = until_next_pass(&app, &report);
        tracing::debug!(?sleep, "delivery task sleeping");
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            // A change made during the pass above was kept for this wait: not lost.
            () = app.ops().wait_for_deliveries_change() => {
                tracing::debug!("deliveries changed; looking again");
            }
            () = shutdown.wait() => break,
        }
    }
    tracing::info!("scheduler stopped");
}

/// How long to sleep after a pass: until the earliest due instant in the index (which
/// includes the retries of failed deliveries) or the next review reminder or weekly
/// test, whichever comes first, at most [`SAFETY_WAKE`].
fn until_next_pass(app: &App, report: &TickReport) -> Duration {
    if report.store_failed {
        return STORE_RETRY;
    }
    let now = Utc::now();
    let next = match (
        app.daily().next_instant(),
        app.weekly().next_instant(now),
        app.record().next_report_instant(now),
    ) {
        (Ok(excerpt), Ok(review), Ok(report)) => {
            excerpt.into_iter().chain(review).chain(report).min()
        }
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            tracing::error!(%error, "cannot read the next due instant");
            return STORE_RETRY;
        }
    };
    match next {
        // Still due right after a pass: nothing can be done for it this instant.
        Some(due) => (due - now).to_std().unwrap_or(MIN_SLEEP).min(SAFETY_WAKE),
        None => SAFETY_WAKE,
    }
}

/// One pass as of `now`: sends every due excerpt and records the outcome in the ledger,
/// then the review reminders, weekly tests (their questions paced as `pacing` says) and
/// weekly reports.
///
/// Deliveries are taken in batches; each batch is reported before the next is taken,
/// as [`Daily::due`](crate::app::daily::Daily::due) requires. Within a batch, sends wait on the outbox's
/// limiter concurrently, so a broadcast leaves at exactly the allowed rate. Once the
/// outbox is stopping, no further batch is taken and the deliveries not yet sent are
/// left due (see the module documentation).
pub async fn tick(app: &App, outbox: &Outbox, now: DateTime<Utc>, pacing: Pacing) -> TickReport {
    let clock = PassClock::new(now);
    let mut report = TickReport::default();
    while !outbox.is_stopping() {
        let batch = match app.daily().due(clock.now(), BATCH) {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "cannot read due deliveries");
                report.store_failed = true;
                break;
            }
        };
        if batch.is_empty() {
            break;
        }
        let outcomes: Vec<Outcome> = futures_util::stream::iter(batch)
            .map(|delivery| {
                let span = tracing::info_span!("delivery", chat_id = delivery.chat_id, section = %delivery.section);
                deliver(app, outbox, clock, delivery).instrument(span)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::Failed => report.failed += 1,
                Outcome::Left => report.left += 1,
            }
        }
    }
    if report.left > 0 {
        tracing::info!(
            left = report.left,
            "stopping: deliveries left for after the restart"
        );
    }
    // Once stopping, nothing new starts: what is not sent goes out after the restart.
    if outbox.is_stopping() {
        return report;
    }
    // Personal review reminders: same pass, same ledger rules (crate::app::review).
    let (sent, failed) = crate::telegram::review::send_reminders(app, outbox, now).await;
    report.sent += sent;
    report.failed += failed;
    let (sent, failed) =
        crate::telegram::weekly::start_weekly_tests(app, outbox, now, pacing).await;
    report.sent += sent;
    report.failed += failed;
    // The study record's weekly reports go out in the same pass (crate::telegram::record).
    report.sent += crate::telegram::record::send_weekly_reports(app, outbox, now).await;
    app.ops().delivery_pass_finished(clock.now());
    report
}

/// `studybot tick`: one pass as of `now` that `shutdown` (the caller's SIGTERM or
/// SIGINT: cron, a systemd timer, Ctrl-C) stops like [`run`]: no new sends, those under
/// way finish or are given up, the rest stays due for the next pass. `None` if the pass
/// was abandoned at [`crate::telegram::STOP_LIMIT`] after `shutdown` resolved. The
/// process ends after the pass, so a weekly test sends all its questions at once
/// ([`Pacing::AllAtOnce`]).
pub async fn tick_until_stopped(
    app: &App,
    outbox: &Outbox,
    now: DateTime<Utc>,
    shutdown: impl Future<Output = ()>,
) -> Option<TickReport> {
    let stop = async {
        shutdown.await;
        tracing::info!("stopping: no new deliveries");
        outbox.stop();
        tokio::time::sleep(crate::telegram::STOP_LIMIT).await;
        tracing::warn!("the pass did not stop in time; abandoning it");
    };
    tokio::select! {
        report = tick(app, outbox, now, Pacing::AllAtOnce) => Some(report),
        () = stop => None,
    }
}

async fn deliver(app: &App, outbox: &Outbox, clock: PassClock, delivery: Delivery) -> Outcome {
    // Once stopping, no new delivery starts: its day stays due for after the restart.
    if outbox.is_stopping() {
        return Outcome::Left;
    }
    let mut chat = ChatId(delivery.chat_id);
    let mut ids: Vec<i32> = Vec::new();
    for reply in &delivery.replies {
        let sent = match super::send::post(outbox, chat, delivery.topic, reply).await {
            Err(SendError::Migrated(new_chat)) => {
                // The subscription, its plan and ledger move to the supergroup; deliver there.
                app.chats().migrated(chat.0, new_chat.0, clock.now());
                chat = new_chat;
                super::send::post(outbox, chat, delivery.topic, reply).await
            }
            other => other,
        };
        match sent {
            Ok(sent) => ids.extend(sent.into_iter().map(|id| id.0)),
            // Nothing is recorded: the day stays "intended" and is sent after the
            // restart (again, if a request given up in flight had reached Telegram).
            Err(SendError::Stopped) => return Outcome::Left,
            Err(error) => return failed(app, &delivery, chat.0, error, clock.now()),
        }
    }
    // Recording flushes sled (blocking disk I/O): keep it off the async workers.
    let recorder = app.clone();
    let date = delivery.local_date;
    let at = clock.now();
    let recorded =
        tokio::task::spawn_blocking(move || recorder.daily().succeeded(chat.0, date, &ids, at))
            .await;
    if let Ok(Err(error)) = &recorded {
        // Telegram has the message; the ledger still says "intended", so a restart
        // within the grace window may send it once more (the documented bound).
        tracing::error!(chat_id = chat.0, %error, "cannot record a sent excerpt");
    }
    crate::telemetry::delivery_sent();
    // The daily question follows the excerpt it is about (not while stopping: it would
    // be given up anyway).
    if !outbox.is_stopping() {
        crate::telegram::quiz::send_daily_question(
            app,
            outbox,
            chat.0,
            delivery.topic,
            delivery.section,
        )
        .await;
    }
    Outcome::Sent
}

/// What a failed send means for the subscription: only a chat that is gone stops it.
fn failure_kind(error: &SendError) -> FailureKind {
    match error {
        SendError::ChatGone(_) => FailureKind::ChatGone,
        SendError::NoRights(_) => FailureKind::NoRights,
        SendError::Rejected(_) => FailureKind::Rejected,
        SendError::Migrated(_) | SendError::Unavailable(_) | SendError::Stopped => {
            FailureKind::Transient
        }
    }
}

fn failed(
    app: &App,
    delivery: &Delivery,
    chat: i64,
    error: SendError,
    now: DateTime<Utc>,
) -> Outcome {
    let kind = failure_kind(&error);
    tracing::warn!(chat_id = chat, %error, ?kind, "delivery failed");
    crate::telemetry::delivery_failed(match kind {
        FailureKind::ChatGone => "chat_gone",
        FailureKind::NoRights => "no_rights",
        FailureKind::Rejected => "rejected",
        FailureKind::Transient => "transient",
    });
    if let SendError::ChatGone(reason) = &error {
        app.chats().removed(chat, reason, now);
    }
    if let Err(error) = app
        .daily()
        .failed(chat, delivery.local_date, &error.to_string(), kind, now)
    {
        tracing::error!(chat_id = chat, %error, "cannot record a failed excerpt");
    }
    Outcome::Failed
}
