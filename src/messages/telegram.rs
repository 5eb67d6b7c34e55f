//! Replies about Telegram itself: its limits and its failures.

use crate::reply::Reply;

/// A chat sent more commands than can be answered soon; the further ones are skipped.
pub fn too_fast() -> Reply {
    Reply::plain("太快了，请稍后再试。前面的命令还在依次回复，之后发来的命令这次没有处理。")
}

/// Telegram could not say whether the sender is an administrator.
pub fn admin_check_failed() -> Reply {
    Reply::plain("暂时无法向 Telegram 确认你是否为群管理员，这次没有修改任何设置。请稍后再试。")
}
