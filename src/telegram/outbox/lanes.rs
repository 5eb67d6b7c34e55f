//! Each chat's queue of replies: run in order on the chat's own task, so a chat waiting
//! on its budget holds up neither the dispatcher nor other chats; a flooding chat's
//! commands dropped; the queues drained at shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::MutexGuard;
use std::time::Duration;

use teloxide::types::ChatId;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Outbox, OutboxState};

/// How many commands of one chat may wait for their replies. Beyond it the chat is told
/// once to slow down and its further commands are dropped until its queue drains: at
/// 20 messages a minute per group, a longer queue would keep answering for minutes.
pub const MAX_PENDING: usize = 20;

/// A chat's queued work: a command's replies (and what follows them, such as a quiz poll).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Whether a chat's command is queued ([`Outbox::admits_command`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Queue it.
    Queue,
    /// Drop it: the chat was already told to slow down.
    Drop,
    /// Drop it and tell the chat, once, to slow down.
    DropAndWarn,
}

/// One chat's queue of jobs, run in order by its own task.
pub(super) struct Lane {
    jobs: mpsc::UnboundedSender<Job>,
    /// Jobs queued or running.
    pending: usize,
    /// Whether the chat was already told to slow down while this queue lasts.
    warned: bool,
}

impl OutboxState {
    fn lanes(&self) -> MutexGuard<'_, HashMap<i64, Lane>> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Outbox {
    /// Whether `chat` may queue one more command. A chat with [`MAX_PENDING`] commands
    /// waiting for their replies has its further commands dropped until the queue has
    /// drained, and is told once to slow down ([`Admission::DropAndWarn`]: the caller
    /// sends the notice at once rather than behind the queue).
    pub fn admits_command(&self, chat: ChatId) -> Admission {
        let mut lanes = self.inner.lanes();
        let Some(lane) = lanes.get_mut(&chat.0) else {
            return Admission::Queue;
        };
        if lane.pending < MAX_PENDING {
            return Admission::Queue;
        }
        let warn = !lane.warned;
        lane.warned = true;
        drop(lanes);
        tracing::info!(chat_id = chat.0, warn, "chat is flooding; command dropped");
        if warn {
            Admission::DropAndWarn
        } else {
            Admission::Drop
        }
    }

    /// Queues `job` (a command's replies) behind the chat's earlier ones and returns at
    /// once: a chat waiting on its budget never holds up the dispatcher or other chats,
    /// and its replies leave in the order of its commands.
    pub fn queue(&self, chat: ChatId, job: Job) {
        let mut lanes = self.inner.lanes();
        let lane = lanes.entry(chat.0).or_insert_with(|| {
            let (jobs, queued) = mpsc::unbounded_channel();
            tokio::spawn(self.clone().run_lane(chat.0, queued));
            Lane {
                jobs,
                pending: 0,
                warned: false,
            }
        });
        lane.pending += 1;
        let _ = lane.jobs.send(job);
        record_lanes(&lanes);
    }

    /// Runs a chat's jobs in order until its queue is empty.
    async fn run_lane(self, chat: i64, mut queued: mpsc::UnboundedReceiver<Job>) {
        use futures_util::FutureExt;
        while let Some(job) = queued.recv().await {
            if std::panic::AssertUnwindSafe(job)
                .catch_unwind()
                .await
                .is_err()
            {
                tracing::error!(chat_id = chat, "a queued reply panicked");
            }
            let mut lanes = self.inner.lanes();
            let Some(lane) = lanes.get_mut(&chat) else {
                break;
            };
            lane.pending -= 1;
            if lane.pending == 0 {
                lanes.remove(&chat);
                record_lanes(&lanes);
                drop(lanes);
                self.inner.lane_done.notify_waiters();
                break;
            }
            record_lanes(&lanes);
        }
    }

    /// Waits at most `within` for every queued reply to be sent (at shutdown).
    pub async fn drain(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let done = self.inner.lane_done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            let pending: usize = self.inner.lanes().values().map(|lane| lane.pending).sum();
            if pending == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                tracing::warn!(
                    pending,
                    "stopping with replies still queued; they are not sent"
                );
                return;
            }
        }
    }
}

/// Records the reply lanes' depth: chats with queued replies, and the replies queued.
fn record_lanes(lanes: &HashMap<i64, Lane>) {
    let jobs = lanes.values().map(|lane| lane.pending).sum();
    crate::telemetry::reply_lanes(lanes.len(), jobs);
}
