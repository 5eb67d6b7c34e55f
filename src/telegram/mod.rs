//! The Telegram transport: a teloxide dispatcher with thin handlers
//! (extract → [`App`] → render → send through the [`Outbox`]).
//!
//! Updates from one chat are handled in order, different chats in parallel, and so are
//! one user's poll answers, which name no chat ([`in_order_key`]). Shutdown is a parameter of [`run`] (the caller,
//! `main`, turns SIGINT and SIGTERM into it): it stops polling and the delivery task at
//! once, no new delivery starts, and sends under way get [`outbox::STOP_GRACE`] to
//! finish (see [`Outbox::stop`]); running handlers finish within that too. [`run`]
//! returns within [`STOP_LIMIT`] of it, and the caller then flushes sled.

pub mod admins;
pub mod deliveries;
pub mod error;
pub mod handlers;
pub mod import;
pub mod listener;
pub mod metrics;
pub mod outbox;
pub mod quiz;
pub mod record;
pub mod review;
pub mod send;
pub mod updates;
pub mod web;
pub mod weekly;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use teloxide::dispatching::Dispatcher;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use teloxide::types::{BotCommand, BotCommandScope};
use teloxide::update_listeners::UpdateListener;
use tokio::sync::watch;

use crate::app::App;
use crate::command::COMMANDS;
use crate::config::{BotToken, TelegramConfig};

pub use admins::{AdminCache, Standing};
use error::{ListenerErrors, LogErrors};
pub use error::{SendError, redact};
pub use handlers::schema;
pub use outbox::Outbox;

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
    app.web().set_bot_username(&username);
    let admins = AdminCache::default();
    // /metrics and /healthz: on `[metrics] listen` alone when set, otherwise beside the
    // Mini App on the `[web]` listener (issue 23 §4).
    let health = match app.config().metrics_listen.is_some() || app.config().web.is_some() {
        true => Some(metrics::Health {
            metrics: metrics::install()?,
            app: app.clone(),
            heartbeat: crate::telemetry::Heartbeat::global(),
        }),
        false => None,
    };
    let routes = http_routes(&app, &outbox, &admins, &secret).map(|routes| {
        match (&health, app.config().metrics_listen) {
            (Some(health), None) => routes.merge(metrics::router(health.clone())),
            _ => routes,
        }
    });
    set_menu_button(&app, &outbox).await;

    let mut dispatcher = Dispatcher::builder(bot.clone(), schema())
        .dependencies(dptree::deps![app.clone(), outbox.clone(), admins, me])
        .error_handler(Arc::new(LogErrors {
            token: secret.clone(),
        }))
        .distribution_function(in_order_key)
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

    if let (Some(listen), Some(health)) = (app.config().metrics_listen, health) {
        let stopped = stop.clone();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|error| anyhow::anyhow!("cannot listen on {listen} for [metrics]: {error}"))?;
        tokio::spawn(async move {
            if let Err(error) =
                metrics::serve(listener, health, async move { stopped.wait().await }).await
            {
                tracing::error!(%error, "the metrics server stopped");
            }
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
            if let (Some(routes), Some(web)) = (routes, &app.config().web) {
                spawn_http(web.listen, routes, stop.clone()).await?;
            }
            let _ = bot.delete_webhook().await;
            // The dispatcher calls getMe again before polling; a network fault there
            // must not end the service, so it is retried a few times.
            let mut attempt = 0;
            loop {
                let mut listener =
                    listener::Polling::new(bot.clone(), app.config().telegram.poll_timeout_seconds);
                if !stop.watch(listener.stop_token()) {
                    break;
                }
                crate::telemetry::Heartbeat::global().started();
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
            let mut listener = serve_webhook(&bot, &secret, url, listen, webhook_secret, routes)
                .await
                .map_err(|e| anyhow::anyhow!(redact(&format!("{e:#}"), secret.expose())))?;
            // A webhook listener cannot fail once started (its error type is Infallible).
            if stop.watch(listener.stop_token()) {
                crate::telemetry::Heartbeat::global().started();
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

/// The HTTP routes served beside the bot: the Mini App when `[web]` is set (`None`
/// otherwise: nothing listens in polling mode). `serve` merges `/metrics` and `/healthz`
/// into them unless `[metrics] listen` serves those alone.
pub fn http_routes(
    app: &App,
    outbox: &Outbox,
    admins: &AdminCache,
    token: &BotToken,
) -> Option<axum::Router> {
    let web = app.config().web.as_ref()?;
    let state = web::WebState::new(
        app.clone(),
        outbox.clone(),
        admins.clone(),
        token,
        web.init_data_max_age,
    );
    Some(web::router(state))
}

/// Serves `routes` on `listen` (polling mode) until shutdown begins.
async fn spawn_http(
    listen: SocketAddr,
    routes: axum::Router,
    stop: Shutdown,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for [web]: {e}"))?;
    tracing::info!(%listen, "mini app served");
    tokio::spawn(async move {
        let stopped = async move { stop.wait().await };
        if let Err(error) = web::serve(listener, routes, stopped).await {
            tracing::error!(%error, "the mini app server failed");
        }
    });
    Ok(())
}

/// Points the private chats' menu button at the Mini App (`setChatMenuButton` with a
/// `web_app`): a private chat opens the reader from the button beside the text field.
/// Without `[web]`, a button an earlier start set is put back to Telegram's default.
async fn set_menu_button(app: &App, outbox: &Outbox) {
    use crate::app::webapp::MenuButton;
    let wanted = match app.web().menu_button() {
        Ok(Some(wanted)) => wanted,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "the menu button's state is unreadable");
            return;
        }
    };
    let button = match &wanted {
        MenuButton::App(url) => match url::Url::parse(url) {
            Ok(url) => teloxide::types::MenuButton::WebApp {
                text: "学习".into(),
                web_app: teloxide::types::WebAppInfo { url },
            },
            Err(error) => {
                tracing::warn!(%error, "the Mini App's address is not a URL");
                return;
            }
        },
        MenuButton::Default => teloxide::types::MenuButton::Default,
    };
    let bot = outbox.bot();
    match outbox
        .call(None, bot.set_chat_menu_button().menu_button(button))
        .await
    {
        Ok(_) => {
            if let Err(error) = app.web().menu_button_set(&wanted) {
                tracing::warn!(%error, "the menu button's state was not recorded");
            }
        }
        Err(error) => tracing::warn!(%error, "setChatMenuButton failed"),
    }
}

/// Starts the webhook: listens on `listen`, tells Telegram to post to `url` with the
/// secret (a random one when none is configured), and serves [`listener::Webhook`]'s
/// router until the listener stops, when the webhook is deleted (Telegram keeps the
/// updates for the next start).
async fn serve_webhook(
    bot: &Bot,
    token: &Arc<BotToken>,
    url: url::Url,
    listen: SocketAddr,
    secret: Option<String>,
    routes: Option<axum::Router>,
) -> anyhow::Result<listener::Webhook> {
    let path = url.path().to_string();
    if routes.is_some() && web::is_app_path(&path) {
        anyhow::bail!(
            "the webhook URL's path {path} is one of the Mini App's; give the webhook its own path (e.g. https://example.org/telegram-webhook)"
        );
    }
    let secret = secret.unwrap_or_else(listener::random_secret);
    let (listener, router) = listener::Webhook::new(url.path(), &secret);
    // With [web], the webhook and the Mini App share the one server.
    let router = match routes {
        Some(routes) => router.merge(routes),
        None => router,
    };
    let tcp = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the webhook: cannot listen on {listen}: {e}"))?;
    bot.set_webhook(url)
        .secret_token(secret)
        .drop_pending_updates(false)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the webhook (setWebhook): {e}"))?;
    let stopped = listener.stopped();
    let bot = bot.clone();
    let token = token.clone();
    tokio::spawn(async move {
        let stop = async move {
            stopped.await;
            if let Err(error) = bot.delete_webhook().await {
                let error = redact(&error.to_string(), token.expose());
                tracing::warn!(%error, "deleteWebhook failed");
            }
        };
        if let Err(error) = axum::serve(tcp, router).with_graceful_shutdown(stop).await {
            tracing::error!(%error, "the webhook server failed");
        }
    });
    Ok(listener)
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

/// Which updates the dispatcher handles one after another: those of one chat, in the
/// order Telegram sent them (teloxide's default), and one user's poll answers, which
/// name no chat: a vote changed or retracted must not overtake the first one, which is
/// the one that counts. A user's key is their private chat's id, so those two queues
/// are one. Updates with neither (an anonymous admin's vote) run at once.
fn in_order_key(update: &Update) -> Option<i64> {
    match &update.kind {
        teloxide::types::UpdateKind::PollAnswer(answer) => {
            answer.voter.user().map(|user| user.id.0 as i64)
        }
        _ => update.chat().map(|chat| chat.id.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(kind: serde_json::Value) -> Update {
        let mut update = serde_json::json!({"update_id": 1});
        update
            .as_object_mut()
            .unwrap()
            .extend(kind.as_object().unwrap().clone());
        serde_json::from_str(&update.to_string()).unwrap()
    }

    #[test]
    fn a_chats_updates_and_a_users_poll_answers_each_keep_their_order() {
        let user = serde_json::json!({"id": 7, "is_bot": false, "first_name": "Ann"});
        let group = serde_json::json!({"id": -5, "type": "group", "title": "学习小组"});
        let message = update(serde_json::json!({"message": {
            "message_id": 1, "date": 0, "chat": group, "from": user, "text": "/today"
        }}));
        assert_eq!(in_order_key(&message), Some(-5));
        let vote = update(serde_json::json!({"poll_answer": {
            "poll_id": "p", "user": user, "option_ids": [0]
        }}));
        assert_eq!(in_order_key(&vote), Some(7), "the voter's own queue");
        let anonymous = update(serde_json::json!({"poll_answer": {
            "poll_id": "p", "voter_chat": group, "option_ids": [0]
        }}));
        assert_eq!(in_order_key(&anonymous), None);
    }
}
