//! What went wrong, worded for the user: each bad input with an example, and the
//! failures of [`crate::app::AppError`].

use super::*;

/// The store could not read or write (see [`crate::app::AppError`]).
pub fn storage_failed() -> Reply {
    Reply::plain("暂时无法读取或保存数据，请稍后再试。")
}

/// A change that could not be made durable, so it is not confirmed (see
/// [`crate::app::AppError`]).
pub fn not_saved() -> Reply {
    Reply::plain("暂时无法保存设置，请稍后再试。")
}

/// `/section` without an argument.
pub fn section_missing() -> Reply {
    Reply::plain(
        "请告诉我要看哪一节，例如：/section 2.1\n也可以写 二.一、第二部分第一点，或标题里的词，如 /section 为民。发送 /outline 查看提纲。",
    )
}

/// A reference too long to be one.
pub fn section_too_long() -> Reply {
    Reply::plain("这不像是一个章节编号（太长了）。请写编号，例如：/section 2.1")
}

/// A numbered reference the document does not have.
pub fn no_such_section(document: &Document, id: SectionId) -> Reply {
    no_such_number(document, &id.to_string())
}

/// A number no section can have (`100`, `0.1`), shown as typed.
pub fn no_such_number(document: &Document, typed: &str) -> Reply {
    let parts = document.parts().count();
    let typed = shown(typed);
    Reply::plain(format!(
        "没有第 {typed} 节。本文有开场和 {parts} 个部分（1–{parts}），每部分有几点，例如：/section 2.1。发送 /outline 查看提纲。"
    ))
}

/// A keyword found in no title, shown as typed.
pub fn no_match(typed: &str) -> Reply {
    let typed = shown(typed);
    Reply::plain(format!(
        "没有标题含“{typed}”的章节。请写编号，例如：/section 2.1，或用 /search {typed} 在正文中搜索。"
    ))
}

/// Only punctuation or symbols (`&`, `.*`), shown as typed.
pub fn nothing_to_find(typed: &str) -> Reply {
    let typed = shown(typed);
    Reply::plain(format!(
        "“{typed}”里没有可以查找的字或编号。请写编号，例如：/section 2.1，或标题里的词，例如：/section 为民。"
    ))
}

/// At most 20 characters of what the reader typed, to quote back.
fn shown(typed: &str) -> String {
    let mut shown: String = typed.chars().take(20).collect();
    if typed.chars().count() > 20 {
        shown.push('…');
    }
    shown
}

/// A keyword matching several sections.
pub fn ambiguous(document: &Document, keyword: &str, ids: &[SectionId]) -> Reply {
    let mut reply = Reply::plain(format!("“{keyword}”对应多个章节，请选一个：\n"));
    for id in ids {
        if let Some(section) = document.section(*id) {
            reply = reply.text(format!("/section {id} — {}\n", section.heading()));
        }
    }
    reply
}

/// `/search` without words.
pub fn search_missing() -> Reply {
    Reply::plain("请告诉我要搜索的词，例如：/search 网格")
}

/// A search query that is too long.
pub fn search_too_long(max: usize) -> Reply {
    Reply::plain(format!(
        "搜索词太长了（最多 {max} 个字）。请换个短一点的词，例如：/search 群众"
    ))
}

/// A command we do not know.
pub fn unknown_command(name: &str) -> Reply {
    Reply::plain(format!(
        "我不认识命令 /{name}。发送 /help 查看全部命令，例如：/section 2.1"
    ))
}

/// Text that is not a command (private chats and the console only).
pub fn not_a_command() -> Reply {
    Reply::plain("我只认识以 / 开头的命令，例如：/section 2.1。发送 /help 查看全部命令。")
}

/// A button whose data is forged, malformed or refers to something gone.
pub fn stale_button() -> Reply {
    Reply::plain("这个按钮已失效，请重新发送 /outline。")
}
