//! The delivery task: runs a delivery pass whenever a chat is due, beside the
//! dispatcher, until shutdown. `studybot tick` runs the very same pass once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use teloxide::types::ChatId;
use tracing::Instrument;

use crate::app::App;
use crate::app::daily::Delivery;
use crate::telegram::{Outbox, SendError, Stopping};

/// The longest the scheduler sleeps: a subscription made meanwhile is served within this.
const MAX_SLEEP: Duration = Duration::from_secs(10);
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
    /// Deliveries that failed for good (chat gone) or for now (retried next tick).
    pub failed: usize,
}

/// Runs delivery passes until `stopping` fires.
pub async fn run(app: App, outbox: Outbox, mut stopping: Stopping) {
    loop {
        let report = tick(&app, &outbox, Utc::now()).await;
        if report.sent + report.failed > 0 {
            tracing::info!(
                sent = report.sent,
                failed = report.failed,
                "delivery pass done"
            );
        }
        let sleep = app
            .store()
            .earliest_due()
            .ok()
            .flatten()
            .and_then(|due| (due - Utc::now()).to_std().ok())
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = stopping.wait() => break,
        }
    }
    tracing::info!("scheduler stopped");
}

/// One pass as of `now`: sends every due excerpt and records the outcome in the ledger.
///
/// Deliveries are taken in batches; each batch is reported before the next is taken,
/// as [`App::due_deliveries`] requires. Within a batch, sends wait on the outbox's
/// limiter concurrently, so a broadcast leaves at exactly the allowed rate.
pub async fn tick(app: &App, outbox: &Outbox, now: DateTime<Utc>) -> TickReport {
    let mut report = TickReport::default();
    loop {
        let batch = match app.due_deliveries(now, BATCH) {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "cannot read due deliveries");
                break;
            }
        };
        if batch.is_empty() {
            break;
        }
        let results: Vec<bool> = futures_util::stream::iter(batch)
            .map(|delivery| {
                let span = tracing::info_span!("delivery", chat_id = delivery.chat_id, section = %delivery.section);
                deliver(app, outbox, delivery).instrument(span)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let sent = results.iter().filter(|ok| **ok).count();
        report.sent += sent;
        report.failed += results.len() - sent;
    }
    report
}

async fn deliver(app: &App, outbox: &Outbox, delivery: Delivery) -> bool {
    let mut chat = ChatId(delivery.chat_id);
    let mut ids: Vec<i32> = Vec::new();
    for reply in &delivery.replies {
        let sent = match outbox.send_reply_in(chat, delivery.topic, reply).await {
            Err(SendError::Migrated(new_chat)) => {
                // The subscription, its plan and ledger move to the supergroup; deliver there.
                app.chat_migrated(chat.0, new_chat.0, Utc::now());
                chat = new_chat;
                outbox.send_reply_in(chat, delivery.topic, reply).await
            }
            other => other,
        };
        match sent {
            Ok(sent) => ids.extend(sent.into_iter().map(|id| id.0)),
            Err(error) => return failed(app, &delivery, chat.0, error),
        }
    }
    // Recording flushes sled (blocking disk I/O): keep it off the async workers.
    let recorder = app.clone();
    let date = delivery.local_date;
    let recorded = tokio::task::spawn_blocking(move || {
        recorder.delivery_succeeded(chat.0, date, &ids, Utc::now())
    })
    .await;
    if let Ok(Err(error)) = &recorded {
        // Telegram has the message; the ledger still says "intended", so a restart
        // within the grace window may send it once more (the documented bound).
        tracing::error!(chat_id = chat.0, %error, "cannot record a sent excerpt");
    }
    // The daily question follows the excerpt it is about.
    crate::telegram::quiz::send_daily_question(
        app,
        outbox,
        chat.0,
        delivery.topic,
        delivery.section,
    )
    .await;
    true
}

fn failed(app: &App, delivery: &Delivery, chat: i64, error: SendError) -> bool {
    let permanent = matches!(error, SendError::ChatGone(_) | SendError::Rejected(_));
    tracing::warn!(chat_id = chat, %error, permanent, "delivery failed");
    if let SendError::ChatGone(reason) = &error {
        app.chat_removed(chat, reason, Utc::now());
    }
    if let Err(error) = app.delivery_failed(
        chat,
        delivery.local_date,
        &error.to_string(),
        permanent,
        Utc::now(),
    ) {
        tracing::error!(chat_id = chat, %error, "cannot record a failed excerpt");
    }
    false
}
