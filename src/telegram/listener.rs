//! Where updates come from: long polling or a webhook, both reading each update as JSON
//! first and handing it to [`updates::accept`] (so an update teloxide cannot parse is
//! repaired, or logged and counted — never lost silently), then to the dispatcher.
//!
//! [`Polling`] replaces teloxide's own polling stream, which parses the whole batch
//! into teloxide's types before anyone sees it; it keeps that stream's behaviour: the
//! offset confirms every update received (read or dropped), faults back off
//! exponentially (a 429 waits its `retry_after`), and stopping drops the request in
//! flight and confirms what was handled with a last `getUpdates`. [`webhook_router`] is
//! the webhook as an `axum::Router`, so other routes can be served beside it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::Value;
use teloxide::backoff::exponential_backoff_strategy;
use teloxide::requests::{JsonRequest, Payload, Request};
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use teloxide::{Bot, RequestError};
use tokio::sync::mpsc;

use crate::telegram::updates::{self, Unreadable};

/// The header in which Telegram echoes the webhook's secret token.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Long polling with `getUpdates`, reading each update as JSON (see the module docs).
pub struct Polling {
    bot: Bot,
    /// The long-poll timeout in seconds.
    timeout: u32,
    /// The next update id to ask for: one past the last one received.
    offset: i32,
    /// The update kinds the dispatcher handles, sent with the first successful request.
    allowed_updates: Option<Vec<AllowedUpdate>>,
    /// Updates read and not yet handed to the dispatcher.
    buffer: VecDeque<Update>,
    /// Consecutive failed requests (for the backoff).
    errors: u32,
    /// How long to wait before the next request, after a failure.
    backoff: Option<Duration>,
    /// Whether the stream ended (stopped and confirmed).
    done: bool,
    token: StopToken,
    flag: StopFlag,
}

impl Polling {
    /// Polling with the long-poll `timeout` (seconds).
    pub fn new(bot: Bot, timeout: u32) -> Self {
        let (token, flag) = mk_stop_token();
        Self {
            bot,
            timeout,
            offset: 0,
            allowed_updates: None,
            buffer: VecDeque::new(),
            errors: 0,
            backoff: None,
            done: false,
            token,
            flag,
        }
    }

    /// The next update, or the error of a failed `getUpdates` (the dispatcher reports it
    /// and asks again, after the backoff), or `None` once stopped.
    async fn next(&mut self) -> Option<Result<Update, RequestError>> {
        loop {
            if let Some(update) = self.buffer.pop_front() {
                return Some(Ok(update));
            }
            if self.done {
                return None;
            }
            if self.flag.is_stopped() {
                self.confirm().await;
                return None;
            }
            if let Some(delay) = self.backoff.take() {
                tokio::select! {
                    () = &mut self.flag => continue,
                    () = tokio::time::sleep(delay) => {}
                }
            }
            let request = GetRawUpdates {
                offset: Some(self.offset),
                limit: None,
                timeout: Some(self.timeout),
                allowed_updates: self.allowed_updates.clone(),
            };
            // Stopping drops the request in flight: updates that arrive now are left for
            // the next start.
            let result = tokio::select! {
                () = &mut self.flag => continue,
                result = JsonRequest::new(self.bot.clone(), request).send() => result,
            };
            match result {
                Ok(batch) => {
                    // Telegram answered: polling is alive, whether the batch holds updates.
                    crate::telemetry::Heartbeat::global().update();
                    self.errors = 0;
                    self.allowed_updates = None;
                    self.take(batch);
                }
                Err(error) => {
                    let delay = match &error {
                        RequestError::RetryAfter(seconds) => {
                            self.errors = 0;
                            seconds.duration()
                        }
                        _ => {
                            let delay = exponential_backoff_strategy(self.errors);
                            self.errors = self.errors.saturating_add(1);
                            delay
                        }
                    };
                    self.backoff = Some(delay);
                    return Some(Err(error));
                }
            }
        }
    }

    /// Reads a batch: every update moves the offset past it, read or not.
    fn take(&mut self, batch: Vec<Value>) {
        for raw in batch {
            if let Some(id) = raw
                .get("update_id")
                .and_then(Value::as_i64)
                .and_then(|id| i32::try_from(id).ok())
            {
                self.offset = self.offset.max(id.saturating_add(1));
            }
            if let Some(update) = updates::accept(raw) {
                self.buffer.push_back(update);
            }
        }
    }

    /// The last `getUpdates` after a stop (`timeout = 0`, `limit = 1`): it confirms the
    /// updates handled, so the next start does not get them again.
    async fn confirm(&mut self) {
        self.done = true;
        let request = GetRawUpdates {
            offset: Some(self.offset),
            limit: Some(1),
            timeout: Some(0),
            allowed_updates: None,
        };
        // Its error would name the URL, token included: only the fact is logged.
        if JsonRequest::new(self.bot.clone(), request)
            .send()
            .await
            .is_err()
        {
            tracing::debug!("the last getUpdates (confirming the offset) failed");
        }
    }
}

impl<'a> AsUpdateStream<'a> for Polling {
    type StreamErr = RequestError;
    type Stream = BoxStream<'a, Result<Update, RequestError>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        Box::pin(futures_util::stream::unfold(self, |this| async move {
            let item = this.next().await?;
            Some((item, this))
        }))
    }
}

impl UpdateListener for Polling {
    type Err = RequestError;

    fn stop_token(&mut self) -> StopToken {
        self.token.clone()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.allowed_updates = Some(hint.collect());
    }
}

/// `getUpdates` answered as JSON values, so that each update is read on its own.
#[derive(Debug, Clone, Serialize)]
struct GetRawUpdates {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_updates: Option<Vec<AllowedUpdate>>,
}

impl Payload for GetRawUpdates {
    type Output = Vec<Value>;

    const NAME: &'static str = "GetUpdates";

    fn timeout_hint(&self) -> Option<Duration> {
        self.timeout
            .map(|seconds| Duration::from_secs(seconds.into()))
    }
}

/// The updates a webhook received, as a listener for the dispatcher.
pub struct Webhook {
    updates: mpsc::UnboundedReceiver<Update>,
    token: StopToken,
    flag: StopFlag,
}

/// What the webhook's route needs.
#[derive(Clone)]
struct WebhookState {
    /// The secret Telegram must send in [`SECRET_HEADER`].
    secret: Arc<str>,
    /// Where read updates go (to the [`Webhook`] listener).
    updates: mpsc::UnboundedSender<Update>,
    /// Set once the bot stops: later posts are refused, so Telegram sends them again
    /// to the next start.
    stopped: StopFlag,
}

impl Webhook {
    /// A webhook listener and its route at `path`, which accepts only posts carrying
    /// `secret`. Serve the router (merged with others if need be); the listener yields
    /// what it receives until stopped.
    pub fn new(path: &str, secret: &str) -> (Self, Router) {
        let (token, flag) = mk_stop_token();
        let (sender, updates) = mpsc::unbounded_channel();
        let router = webhook_router(
            path,
            WebhookState {
                secret: Arc::from(secret),
                updates: sender,
                stopped: flag.clone(),
            },
        );
        (
            Self {
                updates,
                token,
                flag,
            },
            router,
        )
    }

    /// Resolves once the listener is stopped.
    pub fn stopped(&self) -> StopFlag {
        self.flag.clone()
    }

    async fn next(&mut self) -> Option<Result<Update, Infallible>> {
        tokio::select! {
            () = &mut self.flag => None,
            update = self.updates.recv() => update.map(Ok),
        }
    }
}

impl<'a> AsUpdateStream<'a> for Webhook {
    type StreamErr = Infallible;
    type Stream = BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        Box::pin(futures_util::stream::unfold(self, |this| async move {
            let item = this.next().await?;
            Some((item, this))
        }))
    }
}

impl UpdateListener for Webhook {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.token.clone()
    }
}

/// The webhook's single route: `POST path`.
fn webhook_router(path: &str, state: WebhookState) -> Router {
    Router::new()
        .route(path, post(on_webhook_post))
        .with_state(state)
}

/// One post from Telegram: checked, read (or logged and counted as unreadable) and
/// answered 200, which confirms it — an unreadable update is not sent again.
async fn on_webhook_post(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if !same_secret(given, state.secret.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    if state.stopped.is_stopped() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let raw: Value = match serde_json::from_slice(&body) {
        Ok(raw) => raw,
        Err(error) => {
            updates::give_up(&Unreadable {
                id: None,
                kind: "none".into(),
                reason: format!("the webhook's body is not JSON: {error}"),
            });
            return StatusCode::BAD_REQUEST;
        }
    };
    if let Some(update) = updates::accept(raw)
        && state.updates.send(update).is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::OK
}

/// Compares secrets in time independent of where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A random secret token for the webhook when none is configured (Telegram allows
/// `A-Z a-z 0-9 _ -`, up to 256 characters).
pub fn random_secret() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3creT", b"s3cret"));
        assert!(!same_secret(b"", b"s3cret"));
        assert_eq!(random_secret().len(), 32);
    }
}
