//! Telegram errors, classified once, in one place.
//!
//! teloxide reports API errors by their description text, so the classes are decided
//! on that text: any `Forbidden:` means the bot was removed or blocked.

use std::time::Duration;

use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

/// What a failed request means for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 429: wait this long, then retry.
    RetryAfter(Duration),
    /// Network trouble or a 5xx: retry with backoff.
    Transient(String),
    /// The bot can no longer write to the chat (kicked, blocked, chat not found).
    Gone(String),
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
    /// Telegram refused the request.
    #[error("rejected by Telegram: {0}")]
    Rejected(String),
    /// Telegram could not be reached after several retries.
    #[error("Telegram unavailable: {0}")]
    Unavailable(String),
}

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
    if description.starts_with("Forbidden:")
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
