//! Telegram errors, classified once, in one place.
//!
//! teloxide reports API errors by their description text, so the classes are decided
//! on that text. A missing right to write ("not enough rights to send text messages",
//! "have no rights to send a message", `CHAT_WRITE_FORBIDDEN` …) means the bot is still
//! in the chat but muted or restricted for now; any other `Forbidden:` (kicked, blocked,
//! deactivated) and "chat not found" mean the bot is gone.

use std::sync::Arc;
use std::time::Duration;

use teloxide::error_handlers::ErrorHandler;
use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

use crate::config::BotToken;

/// What a failed request means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429: wait this long, then retry.
    RetryAfter(Duration),
    /// Network trouble or a 5xx: retry with backoff.
    Transient(String),
    /// The bot can no longer write to the chat (kicked, blocked, chat not found).
    Gone(String),
    /// The bot is in the chat but may not send messages there now (muted, restricted,
    /// not an administrator of a channel): an administrator can give the right back.
    NoRights(String),
    /// The group became a supergroup with this id.
    Migrated(ChatId),
    /// Telegram refused this request (too long, bad HTML, not modified…): do not retry.
    Rejected(String),
}

/// Why a send finally failed (after retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The bot was removed from or blocked in the chat, or the chat does not exist.
    #[error("chat is gone: {0}")]
    ChatGone(String),
    /// The group migrated to a supergroup; resend there.
    #[error("group migrated to supergroup {}", .0.0)]
    Migrated(ChatId),
    /// The bot may not send messages in the chat for now (muted or restricted there).
    #[error("no right to send messages: {0}")]
    NoRights(String),
    /// Telegram refused the request.
    #[error("rejected by Telegram: {0}")]
    Rejected(String),
    /// Telegram could not be reached after several retries.
    #[error("Telegram unavailable: {0}")]
    Unavailable(String),
    /// The process is stopping: the send was not started, or was given up while it
    /// waited or was in flight (see [`super::Outbox::stop`]).
    #[error("not sent: the bot is stopping")]
    Stopped,
}

/// Descriptions (lower case) of a missing right to write in a chat the bot is still in.
const NO_RIGHTS: &[&str] = &[
    "not enough rights",
    "have no rights",
    "no rights to send",
    "need administrator rights",
    "chat_write_forbidden",
    "chat_send_plain_forbidden",
    "chat_restricted",
    "chat_admin_required",
    "topic_closed",
];

/// Classifies a teloxide error.
pub fn classify(error: &RequestError) -> Failure {
    match error {
        RequestError::RetryAfter(seconds) => Failure::RetryAfter(seconds.duration()),
        RequestError::MigrateToChatId(chat) => Failure::Migrated(*chat),
        RequestError::Network(error) => Failure::Transient(error.to_string()),
        RequestError::Io(error) => Failure::Transient(error.to_string()),
        RequestError::InvalidJson { source, .. } => {
            Failure::Transient(format!("invalid response: {source}"))
        }
        // Unknown errors display as `Unknown error: "…"`: classify the description itself.
        RequestError::Api(ApiError::Unknown(description)) => classify_description(description),
        RequestError::Api(api) => classify_description(&api.to_string()),
    }
}

/// Classifies an API error by its description.
pub fn classify_description(description: &str) -> Failure {
    let lower = description.to_ascii_lowercase();
    if NO_RIGHTS.iter().any(|needle| lower.contains(needle)) {
        Failure::NoRights(description.to_string())
    } else if description.starts_with("Forbidden:")
        || lower.contains("chat not found")
        || lower.contains("bot was kicked")
    {
        Failure::Gone(description.to_string())
    } else if lower.contains("internal server error")
        || lower.contains("bad gateway")
        || lower.contains("gateway timeout")
        || lower.contains("service unavailable")
        || lower.starts_with("5")
    {
        Failure::Transient(description.to_string())
    } else {
        Failure::Rejected(description.to_string())
    }
}

/// Whether an error is Telegram's 409 Conflict: another instance polls with this token.
pub fn is_conflict(description: &str) -> bool {
    description.contains("Conflict") || description.contains("terminated by other getUpdates")
}

/// Removes the token from any text that goes to a log or an error.
pub fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(token, "<token>");
    if let Some((_, secret)) = token.split_once(':')
        && secret.len() >= 8
    {
        out = out.replace(secret, "<token>");
    }
    out
}

/// Logs handler errors once, with the token redacted.
pub(crate) struct LogErrors {
    pub(crate) token: Arc<BotToken>,
}

impl ErrorHandler<anyhow::Error> for LogErrors {
    fn handle_error(
        self: Arc<Self>,
        error: anyhow::Error,
    ) -> futures_util::future::BoxFuture<'static, ()> {
        let text = redact(&format!("{error:#}"), self.token.expose());
        Box::pin(async move { tracing::error!(error = %text, "handler failed") })
    }
}

/// Logs update-listener errors with the token redacted, and explains 409 Conflict.
pub(crate) struct ListenerErrors {
    pub(crate) token: Arc<BotToken>,
    pub(crate) last_conflict: std::sync::Mutex<Option<std::time::Instant>>,
}

impl ListenerErrors {
    /// Whether to explain a 409 now: at most once a minute, not on every retry.
    fn first_conflict_in_a_while(&self) -> bool {
        let now = std::time::Instant::now();
        let mut last = self.last_conflict.lock().unwrap_or_else(|p| p.into_inner());
        let explain = last.is_none_or(|at| now.duration_since(at) > Duration::from_secs(60));
        if explain {
            *last = Some(now);
        }
        explain
    }
}

impl ErrorHandler<teloxide::RequestError> for ListenerErrors {
    fn handle_error(
        self: Arc<Self>,
        error: teloxide::RequestError,
    ) -> futures_util::future::BoxFuture<'static, ()> {
        let text = redact(&error.to_string(), self.token.expose());
        crate::telemetry::Heartbeat::global().failed();
        Box::pin(async move {
            if is_conflict(&text) {
                if self.first_conflict_in_a_while() {
                    tracing::error!(
                        "409 Conflict: another process is polling Telegram with this bot token. \
                         Only one studybot instance may run per token: stop the other one (or remove its webhook). \
                         teloxide retries with exponential backoff meanwhile."
                    );
                }
            } else {
                tracing::warn!(error = %text, "getUpdates failed; retrying");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_classified() {
        for gone in [
            "Forbidden: bot was kicked from the group chat",
            "Forbidden: bot was blocked by the user",
            "Forbidden: bot is not a member of the supergroup chat",
            "Forbidden: user is deactivated",
            "Bad Request: chat not found",
        ] {
            assert!(
                matches!(classify_description(gone), Failure::Gone(_)),
                "{gone}"
            );
        }
        for no_rights in [
            "Bad Request: not enough rights to send text messages to the chat",
            "Bad Request: have no rights to send a message",
            "Bad Request: need administrator rights in the channel chat",
            "Forbidden: CHAT_WRITE_FORBIDDEN",
            "Bad Request: CHAT_RESTRICTED",
            "Bad Request: TOPIC_CLOSED",
        ] {
            assert!(
                matches!(classify_description(no_rights), Failure::NoRights(_)),
                "{no_rights}"
            );
        }
        for rejected in [
            "Bad Request: message is too long",
            "Bad Request: can't parse entities: x",
        ] {
            assert!(
                matches!(classify_description(rejected), Failure::Rejected(_)),
                "{rejected}"
            );
        }
        assert!(matches!(
            classify_description("Internal Server Error"),
            Failure::Transient(_)
        ));
        assert!(matches!(
            classify_description("Bad Gateway"),
            Failure::Transient(_)
        ));
    }

    #[test]
    fn tokens_are_redacted() {
        let token = "123456:ABCdef-secret_value_of_thirty_five_x";
        let text = format!("error sending request for url (http://x/bot{token}/getMe)");
        let redacted = redact(&text, token);
        assert!(!redacted.contains(token) && !redacted.contains("ABCdef-secret"));
        assert!(redacted.contains("<token>"));
    }
}
