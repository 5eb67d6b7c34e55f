//! The Telegram transport: a teloxide dispatcher with thin handlers
//! (extract → [`App`] → render → send through the [`Outbox`]).
//!
//! Updates from one chat are handled in order, different chats in parallel (teloxide's
//! default distribution by chat id). Shutdown is a parameter of [`run`] (the caller,
//! `main`, turns SIGINT and SIGTERM into it): it stops polling and the delivery task at
//! once, no new delivery starts, and sends under way get [`outbox::STOP_GRACE`] to
//! finish (see [`Outbox::stop`]); running handlers finish within that too. [`run`]
//! returns within [`STOP_LIMIT`] of it, and the caller then flushes sled.

pub mod admins;
pub mod deliveries;
pub mod error;
pub mod import;
pub mod outbox;
pub mod quiz;
pub mod record;
pub mod review;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use teloxide::dispatching::{Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::error_handlers::{ErrorHandler, LoggingErrorHandler};
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use teloxide::types::{
    BotCommand, BotCommandScope, ChatMemberKind, ChatMemberUpdated, InlineKeyboardButtonKind,
    MaybeInaccessibleMessage, Me, Update,
};
use teloxide::update_listeners::{Polling, UpdateListener, webhooks};
use tokio::sync::watch;
use tracing::Instrument;

use crate::app::{App, ChatContext, ChatKind};
use crate::command::{self, COMMANDS, Command, Input};
use crate::config::{BotToken, TelegramConfig};
use crate::reply::Audience;

pub use admins::AdminCache;
pub use error::{SendError, redact};
pub use outbox::Outbox;

/// The error type of handlers: already logged where it happened, so only reported.
pub(crate) type HandlerResult = Result<(), anyhow::Error>;

/// Where the bot's updates come from.
#[derive(Debug, Clone)]
pub enum UpdateSource {
    /// Long polling with `getUpdates` (the default).
    Polling,
    /// A webhook: Telegram posts updates to `url`, served on `listen`.
    Webhook {
        /// The public HTTPS URL Telegram posts to.
        url: url::Url,
        /// The local address to serve on.
        listen: SocketAddr,
        /// The secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
        secret: Option<String>,
    },
}

/// How long after shutdown began [`run`] (or a `tick` pass) waits at the longest before
/// abandoning whatever is still under way (a last `getUpdates` to a Telegram that does
/// not answer, a slow handler): with the caller's flush after it, the process exits
/// within 5 s of the signal.
pub const STOP_LIMIT: Duration = Duration::from_millis(4200);

/// Builds the bot client for `token` and the configured API URL and timeouts.
pub fn bot(token: &BotToken, telegram: &TelegramConfig) -> anyhow::Result<Bot> {
    let api_url = telegram.api_url.as_deref();
    let client = teloxide::net::default_reqwest_settings()
        .timeout(Duration::from_secs(u64::from(
            telegram.request_timeout_seconds,
        )))
        .build()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot build the HTTP client: {}",
                redact(&e.to_string(), token.expose())
            )
        })?;
    let mut bot = Bot::with_client(token.expose(), client);
    if let Some(url) = api_url {
        let url = url::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("telegram.api_url \"{url}\" is not a URL: {e}"))?;
        bot = bot.set_api_url(url);
    }
    Ok(bot)
}

/// Runs the bot until `shutdown` resolves (mini-redis's `server::run(listener,
/// shutdown)`): then polling stops, running handlers finish, the delivery task stops
/// and queued replies get [`outbox::STOP_GRACE`]. Returns at the latest [`STOP_LIMIT`]
/// after `shutdown` resolved, abandoning whatever still runs; the caller flushes the
/// store.
pub async fn run(
    app: App,
    token: BotToken,
    source: UpdateSource,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Awaited twice: by the bot's own stop and by the bound on it.
    let shutdown = shutdown.boxed().shared();
    let limit = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.await;
            tokio::time::sleep(STOP_LIMIT).await;
            tracing::warn!(limit = ?STOP_LIMIT, "stop not finished in time; abandoning what is still running");
        }
    };
    tokio::select! {
        result = serve(app, token, source, shutdown) => result,
        () = limit => Ok(()),
    }
}

/// [`run`] without the bound on its stop.
async fn serve(
    app: App,
    token: BotToken,
    source: UpdateSource,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let bot = bot(&token, &app.config().telegram)?;
    let outbox = Outbox::new(bot.clone(), &app.config().telegram.limits);
    let secret = Arc::new(token);
    let me = match bot.get_me().await {
        Ok(me) => me,
        Err(error) => {
            anyhow::bail!(
                "cannot reach Telegram (getMe): {}",
                redact(&error.to_string(), secret.expose())
            );
        }
    };
    set_commands(&outbox).await;
    let username = me.username().to_string();

    let mut dispatcher = Dispatcher::builder(bot.clone(), schema())
        .dependencies(dptree::deps![
            app.clone(),
            outbox.clone(),
            AdminCache::default(),
            me
        ])
        .error_handler(Arc::new(LogErrors {
            token: secret.clone(),
        }))
        .build();
    // Shutdown stops the update listener itself, not only the dispatcher's
    // ShutdownToken: the token notifies the dispatcher loop with `notify_waiters`, which
    // is lost when the loop is busy at that moment (handling an update or a listener
    // error), and the dispatcher then runs on forever.
    let stop = Shutdown::default();
    {
        let stop = stop.clone();
        let token = dispatcher.shutdown_token();
        let outbox = outbox.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: no new deliveries; sends under way get a few seconds");
            // The delivery task stops with the dispatcher, not after it: a broadcast
            // must not hold up the exit (what it has not sent goes out after the restart).
            outbox.stop();
            stop.begin();
            let _ = token.shutdown();
        });
    }

    quiz::resume(&app, &outbox).await;
    let deliveries = tokio::spawn(deliveries::run(app.clone(), outbox.clone(), stop.clone()));

    let listener_errors = Arc::new(ListenerErrors {
        token: secret.clone(),
        last_conflict: Default::default(),
    });
    match source {
        UpdateSource::Polling => {
            tracing::info!(bot = %username, mode = "long polling", "studybot is running");
            let _ = bot.delete_webhook().await;
            // The dispatcher calls getMe again before polling; a network fault there
            // must not end the service, so it is retried a few times.
            let mut attempt = 0;
            loop {
                let mut listener = Polling::builder(bot.clone())
                    .timeout(Duration::from_secs(u64::from(
                        app.config().telegram.poll_timeout_seconds,
                    )))
                    .build();
                if !stop.watch(listener.stop_token()) {
                    break;
                }
                match dispatcher
                    .try_dispatch_with_listener(listener, listener_errors.clone())
                    .await
                {
                    Ok(()) => break,
                    Err(_) if stop.begun() => break,
                    Err(error) if attempt < 5 => {
                        attempt += 1;
                        tracing::warn!(error = %redact(&error.to_string(), secret.expose()), attempt, "cannot start polling; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    Err(error) => {
                        stop.begin();
                        anyhow::bail!(
                            "cannot start polling: {}",
                            redact(&error.to_string(), secret.expose())
                        );
                    }
                }
            }
        }
        UpdateSource::Webhook {
            url,
            listen,
            secret: webhook_secret,
        } => {
            tracing::info!(bot = %username, mode = "webhook", %listen, "studybot is running");
            let mut options = webhooks::Options::new(listen, url);
            if let Some(webhook_secret) = webhook_secret {
                options = options.secret_token(webhook_secret);
            }
            let mut listener = webhooks::axum(bot.clone(), options).await.map_err(|e| {
                anyhow::anyhow!(
                    "cannot start the webhook: {}",
                    redact(&e.to_string(), secret.expose())
                )
            })?;
            // A webhook listener cannot fail once started (its error type is Infallible).
            if stop.watch(listener.stop_token()) {
                dispatcher
                    .dispatch_with_listener(listener, LoggingErrorHandler::new())
                    .await;
            }
        }
    }
    tracing::info!("dispatcher stopped; sending queued replies");
    outbox.drain(outbox::STOP_GRACE).await;
    tracing::info!("stopping the delivery task");
    stop.begin();
    if let Err(error) = deliveries.await {
        tracing::error!(%error, "the delivery task failed");
    }
    Ok(())
}

/// The bot's shutdown, begun once (when [`run`]'s shutdown future resolves, or when
/// polling cannot start): it stops the current update listener and the delivery task.
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

struct ShutdownInner {
    /// Whether shutdown began; the delivery task waits on it.
    begun: watch::Sender<bool>,
    /// The update listener to stop (polling restarts with a new one after a fault).
    listener: std::sync::Mutex<Option<StopToken>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            inner: Arc::new(ShutdownInner {
                begun: watch::Sender::new(false),
                listener: std::sync::Mutex::new(None),
            }),
        }
    }
}

impl Shutdown {
    /// Resolves once shutdown began (at once if it already has).
    pub async fn wait(&self) {
        let mut begun = self.inner.begun.subscribe();
        let _ = begun.wait_for(|begun| *begun).await;
    }

    /// Whether shutdown began.
    pub fn begun(&self) -> bool {
        *self.inner.begun.borrow()
    }

    /// Begins shutdown: stops the registered listener (polling ends after a last
    /// `getUpdates` that confirms what was handled; running handlers finish) and wakes
    /// whoever waits. Doing it again changes nothing.
    fn begin(&self) {
        let mut listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        self.inner.begun.send_replace(true);
        if let Some(token) = listener.take() {
            token.stop();
        }
    }

    /// Registers the listener to stop; `false` if shutdown already began.
    fn watch(&self, token: StopToken) -> bool {
        let mut listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if self.begun() {
            return false;
        }
        *listener = Some(token);
        true
    }
}

/// Publishes the command menu in Chinese, and in English for English-language users.
async fn set_commands(outbox: &Outbox) {
    let chinese: Vec<BotCommand> = COMMANDS
        .iter()
        .map(|c| BotCommand::new(c.name, c.description))
        .collect();
    let english: Vec<BotCommand> = COMMANDS
        .iter()
        .map(|c| BotCommand::new(c.name, c.description_en))
        .collect();
    let bot = outbox.bot();
    if let Err(error) = outbox
        .call(
            None,
            bot.set_my_commands(chinese).scope(BotCommandScope::Default),
        )
        .await
    {
        tracing::warn!(%error, "setMyCommands failed");
    }
    if let Err(error) = outbox
        .call(None, bot.set_my_commands(english).language_code("en"))
        .await
    {
        tracing::warn!(%error, "setMyCommands (en) failed");
    }
}

/// The whole routing tree: every update kind the bot handles.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .filter(import::is_private_file)
                .endpoint(import::on_file),
        )
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_button))
        .branch(Update::filter_my_chat_member().endpoint(on_membership_change))
        .branch(Update::filter_poll_answer().endpoint(quiz::on_poll_answer))
}

fn chat_kind(chat: &teloxide::types::Chat) -> ChatKind {
    if chat.is_private() {
        ChatKind::Private
    } else if chat.is_channel() {
        ChatKind::Channel
    } else {
        ChatKind::Group
    }
}

async fn on_message(
    message: Message,
    app: App,
    outbox: Outbox,
    admins: AdminCache,
    me: Me,
) -> HandlerResult {
    let chat_id = message.chat.id;
    if let Some(new_chat) = message.migrate_to_chat_id() {
        tracing::info!(
            chat_id = chat_id.0,
            new_chat_id = new_chat.0,
            "group migrated to a supergroup"
        );
        app.chat_migrated(chat_id.0, new_chat.0, Utc::now());
        return Ok(());
    }
    let Some(text) = message.text() else {
        return Ok(());
    };
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let input = command::parse(text, Some(me.username()));
    let span = tracing::info_span!(
        "update",
        chat_id = chat_id.0,
        user_id = user.id.0,
        command = input.name()
    );
    // A chat with more commands waiting than can be answered soon is told once to slow
    // down; its further commands are dropped (before they change anything).
    let is_command = matches!(input, Input::Command(_) | Input::Unknown(_));
    if is_command && !outbox.admits_command(chat_id, &crate::messages::telegram::too_fast()) {
        return Ok(());
    }
    // An anonymous admin writes as the group itself: Telegram shows the message from
    // the group (`sender_chat`), and `from` is the placeholder GroupAnonymousBot, whom
    // getChatMember would call a mere member. Only admins can do that, so it is an
    // admin's message, and no one is asked. It is named after the group; its user id
    // stays GroupAnonymousBot's, shared by every anonymous admin (they answer polls as
    // the group, which is not scored, so no score is credited to that id).
    let as_the_group = message
        .sender_chat
        .as_ref()
        .filter(|sender| sender.id == chat_id);
    let topic = topic_of(&message);
    // Only commands that change a group's settings need to ask Telegram who is an admin.
    let is_admin = match &input {
        _ if message.chat.is_private() || as_the_group.is_some() => true,
        Input::Command(command) if command.needs_admin_check() => {
            match admins
                .is_admin(&outbox, chat_id, user.id)
                .instrument(span.clone())
                .await
            {
                Ok(is_admin) => is_admin,
                Err(_) => {
                    let reply = crate::messages::telegram::admin_check_failed();
                    queue_replies(
                        &app,
                        &outbox,
                        chat_id,
                        topic,
                        vec![reply],
                        FollowUp::Nothing,
                        span,
                    );
                    return Ok(());
                }
            }
        }
        _ => false,
    };
    let user_name = match as_the_group.and_then(|group| group.title()) {
        Some(title) => title.to_string(),
        None => user.full_name(),
    };
    let context = ChatContext {
        chat_id: chat_id.0,
        kind: chat_kind(&message.chat),
        user_id: user.id.0,
        user_name,
        is_admin,
        topic,
    };
    // The study record's export is a file, sent privately (crate::telegram::record).
    if record::is_export(&input) {
        let (app, sender, context) = (app.clone(), outbox.clone(), context.clone());
        let export = async move { record::send_export(&app, &sender, &context, topic).await };
        outbox.queue(chat_id, Box::pin(export.instrument(span)));
        return Ok(());
    }
    // The personal review happens in the private chat (crate::telegram::review): in a
    // group, the review commands answer with an invitation there.
    let review_command = matches!(
        input,
        Input::Command(Command::Review(_) | Command::Mistakes | Command::Remind(_))
    );
    if review_command && !message.chat.is_private() {
        let (sender, username) = (outbox.clone(), me.username().to_string());
        let invite = async move { review::invite(&sender, chat_id, topic, &username).await };
        outbox.queue(chat_id, Box::pin(invite.instrument(span)));
        return Ok(());
    }
    let follow_up = match &input {
        Input::Command(Command::Quiz(_)) => FollowUp::QuizQuestion,
        Input::Command(Command::Review(_)) => FollowUp::ReviewCard(user.id.0),
        _ => FollowUp::Nothing,
    };
    let replies = span.in_scope(|| app.handle(&context, input, Utc::now()));
    queue_replies(&app, &outbox, chat_id, topic, replies, follow_up, span);
    Ok(())
}

/// What a command's replies are followed by, once sent.
enum FollowUp {
    /// Nothing.
    Nothing,
    /// The first question of the quiz the command started.
    QuizQuestion,
    /// The next due card of this user's personal review (private chats only).
    ReviewCard(u64),
}

/// Queues a command's replies (and what follows them: the first question of a quiz it
/// started, or a review card) behind the chat's earlier replies, and returns at once:
/// however long Telegram's limits make them wait, they are sent in order and other
/// chats are not held up.
fn queue_replies(
    app: &App,
    outbox: &Outbox,
    chat_id: ChatId,
    topic: Option<i32>,
    replies: Vec<crate::reply::Reply>,
    follow_up: FollowUp,
    span: tracing::Span,
) {
    if replies.is_empty() && matches!(follow_up, FollowUp::Nothing) {
        return;
    }
    let (app, sender) = (app.clone(), outbox.clone());
    let job = async move {
        for reply in &replies {
            deliver(&app, &sender, chat_id, topic, reply).await;
        }
        match follow_up {
            FollowUp::Nothing => {}
            FollowUp::QuizQuestion => quiz::advance(&app, &sender, chat_id.0).await,
            FollowUp::ReviewCard(user_id) => review::advance(&app, &sender, user_id).await,
        }
    };
    outbox.queue(chat_id, Box::pin(job.instrument(span)));
}

/// The forum topic a message was sent in, where its answers belong. Only messages in a
/// forum topic count (`is_topic_message`): in an ordinary reply thread the thread id is
/// the replied-to message, and the General topic has none.
fn topic_of(message: &Message) -> Option<i32> {
    if !message.is_topic_message {
        return None;
    }
    message.thread_id.map(|thread| thread.0.0)
}

/// Sends a reply to a chat (into a forum topic if `topic` is set); a chat that is gone
/// or migrated is recorded, other failures logged once.
pub(crate) async fn deliver(
    app: &App,
    outbox: &Outbox,
    chat_id: ChatId,
    topic: Option<i32>,
    reply: &crate::reply::Reply,
) {
    match outbox.send_reply_in(chat_id, topic, reply).await {
        Ok(_) => {}
        Err(SendError::ChatGone(reason)) => {
            tracing::info!(chat_id = chat_id.0, %reason, "chat removed the bot; marking it inactive");
            app.chat_removed(chat_id.0, &reason, Utc::now());
        }
        Err(SendError::Migrated(new_chat)) => {
            app.chat_migrated(chat_id.0, new_chat.0, Utc::now());
            // A basic group has no topics; the new supergroup gets the reply in General.
            if let Err(error) = outbox.send_reply(new_chat, reply).await {
                tracing::warn!(chat_id = new_chat.0, %error, "reply to the migrated supergroup failed");
            }
        }
        Err(SendError::Stopped) => {
            tracing::info!(chat_id = chat_id.0, "stopping; reply not sent");
        }
        Err(error) => tracing::warn!(chat_id = chat_id.0, %error, "reply failed"),
    }
}

async fn on_button(query: CallbackQuery, app: App, outbox: Outbox) -> HandlerResult {
    let span = tracing::info_span!(
        "callback",
        user_id = query.from.id.0,
        data = query.data.as_deref().unwrap_or("")
    );
    press(query, app, outbox).instrument(span).await;
    Ok(())
}

/// Answers the callback query, then edits the message in place when one user asked for
/// it, or answers with a new message in the same chat and topic when it is the chat's
/// (a daily excerpt): one member's press never rewrites what everyone reads.
async fn press(query: CallbackQuery, app: App, outbox: Outbox) {
    if let Some(button) = query
        .data
        .as_deref()
        .and_then(crate::record::CheckInButton::decode)
    {
        return record::press_check_in(query, button, app, outbox).await;
    }
    let bot = outbox.bot().clone();
    let data = query.data.as_deref().unwrap_or("");
    // Callback data is public: a client can send any data with any message. Data that
    // is not on one of the message's own buttons is refused, so no one can press an
    // "edit in place" button that a shared message does not have.
    let on_the_message = match &query.message {
        Some(MaybeInaccessibleMessage::Regular(message)) => has_button(message, data),
        _ => true,
    };
    let result = match app.press(query.from.id.0, data, Utc::now()) {
        Ok(_) if !on_the_message => Err(crate::messages::errors::stale_button()),
        result => result,
    };
    let notice = match &result {
        Ok(_) => None,
        Err(stale) => Some(stale.plain_text()),
    };
    // Always answer the callback query, so the button stops spinning.
    let mut answer = bot.answer_callback_query(query.id.clone());
    if let Some(notice) = notice {
        answer = answer.text(notice);
    }
    if let Err(error) = outbox.call(None, answer).await {
        tracing::warn!(%error, "answerCallbackQuery failed");
    }
    let Ok((reply, audience)) = result else {
        return;
    };
    match query.message {
        Some(MaybeInaccessibleMessage::Regular(message)) if audience == Audience::Asker => {
            let chat_id = message.chat.id;
            let topic = topic_of(&message);
            match outbox.edit_reply(chat_id, message.id, &reply).await {
                Ok(()) => {}
                Err(SendError::Rejected(reason)) if reason.contains("not modified") => {}
                Err(SendError::Rejected(_)) => deliver(&app, &outbox, chat_id, topic, &reply).await,
                Err(error) => tracing::warn!(chat_id = chat_id.0, %error, "edit failed"),
            }
        }
        Some(MaybeInaccessibleMessage::Regular(message)) => {
            deliver(&app, &outbox, message.chat.id, topic_of(&message), &reply).await
        }
        Some(MaybeInaccessibleMessage::Inaccessible(message)) => {
            deliver(&app, &outbox, message.chat.id, None, &reply).await
        }
        None => {}
    }
}

/// Whether `message` carries a callback button with exactly `data`.
fn has_button(message: &Message, data: &str) -> bool {
    message.reply_markup().is_some_and(|markup| {
        markup.inline_keyboard.iter().flatten().any(|button| {
            matches!(&button.kind, InlineKeyboardButtonKind::CallbackData(own) if own == data)
        })
    })
}

async fn on_membership_change(update: ChatMemberUpdated, app: App) -> HandlerResult {
    let chat_id = update.chat.id.0;
    match update.new_chat_member.kind {
        ChatMemberKind::Left | ChatMemberKind::Banned(_) => {
            tracing::info!(chat_id, "the bot was removed from the chat");
            app.chat_removed(
                chat_id,
                "bot removed from the chat (my_chat_member)",
                Utc::now(),
            );
        }
        ChatMemberKind::Member(_) | ChatMemberKind::Administrator(_) | ChatMemberKind::Owner(_) => {
            tracing::info!(chat_id, "the bot was added to the chat");
            app.chat_added(chat_id, Utc::now());
        }
        ChatMemberKind::Restricted(_) => {}
    }
    Ok(())
}

/// Logs handler errors once, with the token redacted.
struct LogErrors {
    token: Arc<BotToken>,
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
struct ListenerErrors {
    token: Arc<BotToken>,
    last_conflict: std::sync::Mutex<Option<std::time::Instant>>,
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
        Box::pin(async move {
            if error::is_conflict(&text) {
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
