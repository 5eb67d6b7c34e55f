//! The study record on Telegram: the ✅ 已学习 press (answered with a toast, never by
//! editing the shared excerpt), `/export` (the workbook sent with sendDocument), and the
//! weekly reports posted by the delivery pass.

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::{InputFile, MaybeInaccessibleMessage};
use tracing::Instrument;

use crate::app::record::Presser;
use crate::app::{App, ChatContext, ChatKind};
use crate::record::CheckInButton;
use crate::reply::Reply;
use crate::telegram::send::{self, has_button, send_reply};
use crate::telegram::{Outbox, SendError};

/// Answers a ✅ press with a toast: `已记录：2.2，今天第 7 位`, `已经记录过了…`, or why
/// nothing was recorded. The check-in is on disk before the toast says so.
///
/// The excerpt itself is not edited: Telegram allows about 20 edits a minute in a group,
/// and a busy group presses faster than that, so counts are shown in the toast.
pub async fn press_check_in(query: CallbackQuery, button: CheckInButton, app: App, outbox: Outbox) {
    let data = query.data.as_deref().unwrap_or("");
    let message_chat = match &query.message {
        // Callback data is public: it must be one of the message's own buttons.
        Some(MaybeInaccessibleMessage::Regular(message)) if has_button(message, data) => {
            Some(message.chat.id.0)
        }
        Some(MaybeInaccessibleMessage::Inaccessible(message)) => Some(message.chat.id.0),
        _ => None,
    };
    let toast = match message_chat {
        Some(message_chat) => {
            let presser = Presser {
                message_chat,
                user_id: query.from.id.0,
                name: query.from.full_name(),
            };
            let recorded =
                blocking(move || app.record().check_in(&button, &presser, Utc::now())).await;
            recorded.unwrap_or_else(|| "暂时无法记录，请稍后再按一次。".into())
        }
        None => "这个按钮已失效，没有记录。发送 /today 获取今天的内容。".into(),
    };
    let answer = outbox
        .bot()
        .answer_callback_query(query.id.clone())
        .text(toast);
    match outbox.call(None, answer).await {
        Ok(_) => crate::telemetry::update_answered("callback_query"),
        Err(error) => tracing::warn!(%error, "answerCallbackQuery failed"),
    }
}

/// Runs `work` (a check-in: a few store reads and writes, then a flush, blocking disk
/// I/O) for a member waiting on the answer; `None` if it panicked.
///
/// On the bot's multi-threaded runtime it runs right here, in `block_in_place`: tokio
/// hands this worker's other tasks to another thread first, so nothing waits behind the
/// flush, and the press does not wait for a blocking-pool thread to wake up and then for
/// this task to be woken again, as with `spawn_blocking`. Those two hand-offs cost a
/// press 0.05 ms at the median but up to a few ms when the machine is busy, where the
/// whole press has 2 ms (benches/README.md). Elsewhere (a current-thread runtime, where
/// blocking in place is not allowed) it goes to the blocking pool.
async fn blocking<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        let work = std::panic::AssertUnwindSafe(work);
        return tokio::task::block_in_place(|| std::panic::catch_unwind(work).ok());
    }
    tokio::task::spawn_blocking(work).await.ok()
}

/// `/export`: builds the workbook and sends it — to the admin privately when asked in
/// a group (the group is told where it went, or how to let the bot write to them), right
/// there in a private chat.
pub async fn send_export(app: &App, outbox: &Outbox, chat: &ChatContext, topic: Option<i32>) {
    let span = tracing::info_span!("export", chat_id = chat.chat_id);
    async {
        let builder = app.clone();
        let context = chat.clone();
        let built =
            tokio::task::spawn_blocking(move || builder.record().export_workbook(&context, Utc::now()))
                .await
                .unwrap_or_else(|_| Err(Reply::plain("暂时无法生成表格，请稍后再试。")));
        let here = ChatId(chat.chat_id);
        let (name, bytes) = match built {
            Ok(file) => file,
            Err(reply) => return send_reply(app, outbox, here, topic, &reply).await,
        };
        let size = bytes.len();
        let to = match chat.kind {
            ChatKind::Private => here,
            _ => ChatId(chat.user_id as i64),
        };
        let document = InputFile::memory(bytes).file_name(name);
        let request = outbox
            .bot()
            .send_document(to, document)
            .caption("学习台账：成员、学习记录（✓ 按时 / 补 补学）、测验、每周汇总。");
        match outbox.call(Some(to), request).await {
            Ok(_) => {
                tracing::info!(bytes = size, to = to.0, "record exported");
                if to != here {
                    let reply = Reply::plain("学习台账表格已私聊发给你。");
                    send_reply(app, outbox, here, topic, &reply).await;
                }
            }
            Err(SendError::ChatGone(reason)) if to != here => {
                tracing::info!(%reason, "the admin has not started a private chat with the bot");
                let reply = Reply::plain(
                    "表格无法私聊发给你：你还没有和我私聊过。请先点我的头像，私聊发送 /start，然后回到群里再发送 /export。",
                );
                send_reply(app, outbox, here, topic, &reply).await;
            }
            Err(error) => {
                tracing::warn!(%error, "sendDocument failed");
                let reply = Reply::plain("表格发送失败，请稍后再发送 /export。");
                send_reply(app, outbox, here, topic, &reply).await;
            }
        }
    }
    .instrument(span)
    .await;
}

/// The delivery pass's hook: posts every weekly report due at `now`. Returns how many
/// were sent. A report that cannot be sent is given back, and retried by a later pass.
pub async fn send_weekly_reports(app: &App, outbox: &Outbox, now: DateTime<Utc>) -> usize {
    let reader = app.clone();
    let due = match tokio::task::spawn_blocking(move || reader.record().due_reports(now)).await {
        Ok(Ok(due)) => due,
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot read due weekly reports");
            return 0;
        }
        Err(_) => return 0,
    };
    let mut sent = 0;
    for report in due {
        let chat = ChatId(report.chat_id);
        match send::post(outbox, chat, report.topic, &report.reply).await {
            Ok(_) => {
                tracing::info!(
                    chat_id = report.chat_id,
                    week = report.week,
                    "weekly report sent"
                );
                sent += 1;
            }
            Err(SendError::ChatGone(reason)) => {
                app.chats().removed(report.chat_id, &reason, Utc::now());
            }
            Err(error) => {
                tracing::warn!(chat_id = report.chat_id, %error, "weekly report not sent");
                app.record().report_failed(&report);
            }
        }
    }
    sent
}

/// Asks Telegram (getChat) for the titles of the groups on `user_id`'s rosters that have
/// none yet, and keeps them. A few seconds at most: a title Telegram does not give now
/// is asked again next time, and the group is named by its id meanwhile.
pub async fn learn_titles(app: &App, outbox: &Outbox, user_id: u64) {
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);
    let reader = app.clone();
    let Ok(untitled) =
        tokio::task::spawn_blocking(move || reader.chats().untitled_of(user_id)).await
    else {
        return;
    };
    for chat_id in untitled.into_iter().take(20) {
        let request = outbox.bot().get_chat(ChatId(chat_id));
        match outbox.call_within(None, request, PATIENCE).await {
            Ok(chat) => {
                if let Some(title) = chat.title() {
                    app.chats().title_seen(chat_id, title, Utc::now());
                }
            }
            Err(error) => tracing::info!(chat_id, %error, "getChat gave no title"),
        }
    }
}

/// Whether a command is `/export`, which the transport answers itself with a file.
pub fn is_export(input: &crate::command::Input) -> bool {
    matches!(
        input,
        crate::command::Input::Command(crate::command::Command::Export)
    )
}
