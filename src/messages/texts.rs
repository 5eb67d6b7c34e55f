//! `/use` and its answers: which text this chat studies.

use crate::reply::Reply;
use crate::text::{Document, Section};

/// The chat studies `document` from now on; `resumed` is where its daily excerpt
/// picks up again when the chat read this text before.
pub fn switched(document: &Document, resumed: Option<&Section>) -> Reply {
    let mut reply = Reply::new()
        .text("本群现在学习")
        .bold(format!("《{}》", document.title))
        .text(format!("（编号 {}）。", document.id));
    if let Some(section) = resumed {
        reply = reply.text(format!(
            "\n每日学习从上次读到的 {} {} 继续。",
            section.id, section.title
        ));
    }
    reply.text("\n/outline 查看提纲，/section 1 阅读第一部分。")
}

/// `/use` naming the text the chat already studies, or without an argument.
pub fn current(document: &Document) -> Reply {
    Reply::new()
        .text("本群正在学习")
        .bold(format!("《{}》", document.title))
        .text(format!(
            "（编号 {}）。\n要改学另一篇，请发送 /use 加 /docs 里的序号或编号，例如 /use 2。",
            document.id
        ))
}

/// `/use` with something that names no text.
pub fn unknown(typed: &str, count: usize) -> Reply {
    let shown: String = typed.trim().chars().take(40).collect();
    Reply::plain(format!(
        "没有序号或编号为“{shown}”的文本：现有 {count} 篇，序号 1–{count}。发送 /docs 查看全部，例如 /use 1。"
    ))
}
