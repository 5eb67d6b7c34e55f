//! Texts an operator imports by sending a file to the bot.

use crate::reply::{Action, Button, Reply};
use crate::text::import::{ImportError, Imported, outline_with_marks};

/// How many dropped lines the preview quotes (all of them are counted).
const QUOTED_DEBRIS: usize = 8;

/// What the importer found in an operator's file, with 导入 / 取消 under it.
/// `replaces` says that a text with the same id is already imported.
pub fn preview(imported: &Imported, token: &str, replaces: bool) -> Reply {
    let Imported { document, report } = imported;
    let parts = document.parts().count();
    let points = document.sections.iter().filter(|s| s.id.is_point()).count();
    let mut text = format!(
        "编号 {}；{parts} 个部分，{points} 个要点（{}）\n",
        document.id, report.format
    );
    if !document.occasion.is_empty() {
        text.push_str(&format!("场合：{}\n", document.occasion));
    }
    text.push('\n');
    text.push_str(&outline_with_marks(document));
    for warning in &report.warnings {
        text.push_str(&format!("注意：{warning}\n"));
    }
    if report.dropped.is_empty() {
        text.push_str("\n没有删去任何内容。\n");
    } else {
        text.push_str(&format!("\n删去的网页内容 {} 处：\n", report.dropped.len()));
        for dropped in report.dropped.iter().take(QUOTED_DEBRIS) {
            let shown: String = dropped.text.chars().take(40).collect();
            text.push_str(&format!(
                "第 {} 行 [{}] {shown}\n",
                dropped.line,
                dropped.kind.label()
            ));
        }
        if report.dropped.len() > QUOTED_DEBRIS {
            text.push_str(&format!(
                "……另有 {} 处（studybot import --dry-run 可列出全部）\n",
                report.dropped.len() - QUOTED_DEBRIS
            ));
        }
    }
    if replaces {
        text.push_str(&format!(
            "\n编号 {} 的文本已经导入过：导入将换成这个新版本，正在学习它的群按章节编号继续。\n",
            document.id
        ));
    }
    text.push_str("\n确认导入吗？");
    let button = |label: &str, accept: bool| Button {
        label: label.to_string(),
        action: Action::Import {
            token: token.to_string(),
            accept,
        },
    };
    Reply::new()
        .bold(format!("《{}》\n", document.title))
        .text(text)
        .buttons(vec![button("导入", true), button("取消", false)])
}

/// The text was stored and is served in every chat from now on.
pub fn imported(id: &str, title: &str, sections: usize, replaced: bool) -> Reply {
    let what = if replaced { "已更新" } else { "已导入" };
    Reply::plain(format!(
        "{what}《{title}》：编号 {id}，共 {sections} 节，所有群现在都可以学习。\n发送 /docs 查看全部文本。"
    ))
}

/// The operator pressed 取消.
pub fn cancelled() -> Reply {
    Reply::plain("已取消，没有导入任何内容。")
}

/// The buttons of an import that was already done, cancelled or expired.
pub fn expired() -> Reply {
    Reply::plain("这次导入已经处理或已过期（30 分钟内有效）：请重新发送文件。")
}

/// Someone who is not an operator sent a file.
pub fn not_an_operator(user_id: u64) -> Reply {
    Reply::plain(format!(
        "只有本机器人的操作员可以导入文本：操作员由运行机器人的人在 config.toml 的 operators 中设置。\n你的用户编号是 {user_id}，如需导入，请把它告诉运行机器人的人。"
    ))
}

/// A file whose name is not `.txt`, `.md` or `.docx`.
pub fn wrong_kind(name: &str) -> Reply {
    let shown: String = name.chars().take(60).collect();
    Reply::plain(format!(
        "无法导入“{shown}”：只能导入 .txt、.md 或 .docx 文件，例如“工作报告.docx”。"
    ))
}

/// The importer refused the file.
pub fn refused(name: &str, error: &ImportError) -> Reply {
    let shown: String = name.chars().take(60).collect();
    Reply::plain(format!("无法导入“{shown}”：{error}"))
}

/// The file could not be fetched from Telegram.
pub fn download_failed() -> Reply {
    Reply::plain("无法从 Telegram 取得这个文件，请稍后再发送一次。")
}

/// The store failed; nothing was imported.
pub fn storage_failed() -> Reply {
    Reply::plain("暂时无法保存，请稍后再试。")
}
