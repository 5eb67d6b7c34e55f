//! The handlers: one small `async fn` per update kind, behind one routing tree
//! ([`schema`]). Each extracts what the update says, asks the [`App`], and queues the
//! replies on the chat's lane of the [`Outbox`] (so a slow chat never holds up another).

use chrono::Utc;
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::{
    ChatMemberKind, ChatMemberUpdated, MaybeInaccessibleMessage, Me, PollAnswer, Update,
};
use tracing::Instrument;

use crate::app::{App, ChatContext, ChatKind};
use crate::command::{self, Command, Input};
use crate::reply::Audience;

use super::outbox::Admission;
use super::send::{self, HandlerResult, has_button, send_reply};
use super::{AdminCache, Outbox, SendError, import, quiz, record, review};

/// The whole routing tree: every update kind the bot handles.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .inspect(|update: Update| crate::telemetry::update_received(update_kind(&update)))
        .branch(
            Update::filter_message()
                .filter(import::is_private_file)
                .endpoint(import::on_file),
        )
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_button))
        .branch(Update::filter_my_chat_member().endpoint(on_membership_change))
        .branch(Update::filter_poll_answer().endpoint(on_poll_answer))
}

/// The kind of an update, as `/metrics` labels it.
fn update_kind(update: &Update) -> &'static str {
    use teloxide::types::UpdateKind;
    crate::telemetry::Heartbeat::global().update();
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::PollAnswer(_) => "poll_answer",
        UpdateKind::Poll(_) => "poll",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        _ => "other",
    }
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
        app.chats().migrated(chat_id.0, new_chat.0, Utc::now());
        return Ok(());
    }
    // Groups are named by their titles in /catchup, /roster, the workbook and reports.
    if let Some(title) = message.chat.title() {
        app.chats().title_seen(chat_id.0, title, Utc::now());
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
    if is_command {
        match outbox.admits_command(chat_id) {
            Admission::Queue => {}
            Admission::Drop => return Ok(()),
            Admission::DropAndWarn => {
                let notice = crate::messages::telegram::too_fast();
                let sender = outbox.clone();
                tokio::spawn(async move {
                    if let Err(error) = send::post(&sender, chat_id, None, &notice).await {
                        tracing::warn!(chat_id = chat_id.0, %error, "slow-down notice failed");
                    }
                });
                return Ok(());
            }
        }
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
    // In private, /catchup and /roster name the member's groups: titles not yet known
    // (groups quiet since titles were kept) are asked of Telegram first.
    if message.chat.is_private()
        && matches!(input, Input::Command(Command::Catchup | Command::Roster))
    {
        record::learn_titles(&app, &outbox, user.id.0)
            .instrument(span.clone())
            .await;
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
            send_reply(&app, &sender, chat_id, topic, reply).await;
        }
        match follow_up {
            FollowUp::Nothing => {}
            FollowUp::QuizQuestion => quiz::advance(&app, &sender, chat_id.0).await,
            FollowUp::ReviewCard(user_id) => review::advance(&app, &sender, user_id).await,
        }
    };
    crate::telemetry::update_answered("message");
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
    match outbox.call(None, answer).await {
        Ok(_) => crate::telemetry::update_answered("callback_query"),
        Err(error) => tracing::warn!(%error, "answerCallbackQuery failed"),
    }
    let Ok((reply, audience)) = result else {
        return;
    };
    match query.message {
        Some(MaybeInaccessibleMessage::Regular(message)) if audience == Audience::Asker => {
            let chat_id = message.chat.id;
            let topic = topic_of(&message);
            match send::edit(&outbox, chat_id, message.id, &reply).await {
                Ok(()) => {}
                Err(SendError::Rejected(reason)) if reason.contains("not modified") => {}
                Err(SendError::Rejected(_)) => {
                    send_reply(&app, &outbox, chat_id, topic, &reply).await
                }
                Err(error) => tracing::warn!(chat_id = chat_id.0, %error, "edit failed"),
            }
        }
        Some(MaybeInaccessibleMessage::Regular(message)) => {
            send_reply(&app, &outbox, message.chat.id, topic_of(&message), &reply).await
        }
        Some(MaybeInaccessibleMessage::Inaccessible(message)) => {
            send_reply(&app, &outbox, message.chat.id, None, &reply).await
        }
        None => {}
    }
}

/// A poll answer: a review card's ([`review`]) or else a quiz's or daily question's
/// ([`quiz`]).
async fn on_poll_answer(answer: PollAnswer, app: App, outbox: Outbox) -> HandlerResult {
    let Some(user) = answer.voter.user() else {
        return Ok(()); // an anonymous admin answering as the group: nothing to score
    };
    // Clients that allow revoting (Bot API 9.6+) send no options when a vote is retracted
    // and a new answer when the user votes again; 10.x answers may hold several options.
    // The quiz rules count each user's first choice once: a retraction changes nothing,
    // and the vote after it is a duplicate (`AnswerOutcome::Duplicate`).
    let Some(&option) = answer.option_ids.first() else {
        return Ok(());
    };
    // A card of a private `/review` is not a quiz's.
    let poll_id = &answer.poll_id.0;
    if review::on_poll_answer(&app, &outbox, poll_id, user.id.0, usize::from(option)).await {
        return Ok(());
    }
    quiz::on_poll_answer(&answer, user, option, &app).await;
    Ok(())
}

async fn on_membership_change(update: ChatMemberUpdated, app: App) -> HandlerResult {
    let chat_id = update.chat.id.0;
    if let Some(title) = update.chat.title() {
        app.chats().title_seen(chat_id, title, Utc::now());
    }
    match update.new_chat_member.kind {
        ChatMemberKind::Left | ChatMemberKind::Banned(_) => {
            tracing::info!(chat_id, "the bot was removed from the chat");
            app.chats().removed(
                chat_id,
                "bot removed from the chat (my_chat_member)",
                Utc::now(),
            );
        }
        ChatMemberKind::Member(_) | ChatMemberKind::Administrator(_) | ChatMemberKind::Owner(_) => {
            tracing::info!(chat_id, "the bot was added to the chat");
            app.chats().added(chat_id, Utc::now());
        }
        ChatMemberKind::Restricted(_) => {}
    }
    Ok(())
}
