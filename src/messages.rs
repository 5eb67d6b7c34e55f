//! The wording of every reply, built from the text model. Pure: no I/O.
//!
//! The console and Telegram show exactly these replies, so the wording lives here once.

use crate::command::COMMANDS;
use crate::reply::{Action, Button, Reply};
use crate::text::{
    Block, Completeness, Document, SearchResults, Section, SectionId, chinese_numeral,
};

/// Shown where the source copy lost text.
pub const GAP_NOTICE: &str = "（原文此处不完整）";
/// Shown under a section that survives only in part.
pub const PARTIAL_NOTICE: &str = "注：本节原文不完整，以上为现存部分，缺失内容不作补写。";
/// Shown for a section of which only the title survives.
pub const TITLE_ONLY_NOTICE: &str = "（本节原文缺失，仅存标题，正文暂不可用。）";

/// `/start`.
pub fn start(document: &Document) -> Reply {
    Reply::new()
        .bold("你好！我是学习助手 studybot。\n")
        .text(format!(
            "我陪学习小组一起学习《{}》。\n\n先试试：\n/outline 查看提纲\n/section 2.1 阅读某一节\n/search 网格 在原文中搜索\n\n发送 /help 查看全部命令。",
            document.title
        ))
}

/// `/help`: every command with an example.
pub fn help() -> Reply {
    let mut reply = Reply::new().bold("全部命令\n");
    for info in COMMANDS {
        reply = reply.text(format!(
            "/{} — {}，例如：{}\n",
            info.name, info.description, info.example
        ));
    }
    reply.text(
        "\n节的写法：2（第二部分）、2.1、2-1、二.一、第二部分第一点，或标题中的词，如 为民、管好队伍。\n在群里也可以写 /section@机器人用户名 2.1。",
    )
}

/// `/outline`: the title, the principles with their numbers and each one's points.
pub fn outline(document: &Document) -> Reply {
    let mut reply = Reply::new().bold(format!("《{}》提纲\n", document.title));
    if let Some(opening) = document.section(SectionId::OPENING) {
        reply = reply.text(format!(
            "0 {}{}\n",
            opening.title,
            mark(opening.completeness)
        ));
    }
    for part in document.parts() {
        reply = reply.bold(format!(
            "\n{}、{}，{}",
            chinese_numeral(part.id.part),
            part.title,
            part.phrase
        ));
        reply = reply.text(format!("{}\n", part_mark(part.completeness)));
        for point in document.points(part.id.part) {
            reply = reply.text(format!(
                "  {} {}{}\n",
                point.id,
                point.title,
                mark(point.completeness)
            ));
        }
    }
    if document.is_incomplete() {
        reply = reply.italic(format!(
            "\n{}标“不完整”的只存部分原文，标“仅存标题”的只有标题。",
            if document.note.is_empty() {
                String::new()
            } else {
                format!("{}\n", document.note)
            }
        ));
    }
    reply = reply.text("\n\n阅读某一节：/section 2.1");
    let row = document
        .sections
        .iter()
        .filter(|s| s.id.point == 0)
        .map(|s| Button {
            label: if s.id.part == 0 {
                s.title.clone()
            } else {
                s.id.to_string()
            },
            action: Action::Section {
                document: document.id.clone(),
                section: s.id,
            },
        })
        .collect();
    reply.buttons(row)
}

/// A part's mark speaks of its intro: its points carry their own marks.
fn part_mark(completeness: Completeness) -> &'static str {
    match completeness {
        Completeness::Full => "",
        Completeness::Partial => "（引言不完整）",
        Completeness::TitleOnly => "（引言缺失）",
    }
}

fn mark(completeness: Completeness) -> &'static str {
    match completeness {
        Completeness::Full => "",
        Completeness::Partial => "（不完整）",
        Completeness::TitleOnly => "（仅存标题）",
    }
}

/// Where a section stands: `第二部分 厚植为民之心 · 站稳群众立场`.
pub fn location(document: &Document, section: &Section) -> String {
    match document.part_of(section.id) {
        Some(part) => format!(
            "第{}部分 {} · {}",
            chinese_numeral(part.id.part),
            part.title,
            part.phrase
        ),
        None => document.title.clone(),
    }
}

/// A section's text with its completeness notices (no heading, no buttons).
pub fn section_body(document: &Document, section: &Section, reply: Reply) -> Reply {
    let mut reply = reply;
    if section.completeness == Completeness::TitleOnly {
        reply = reply.italic(TITLE_ONLY_NOTICE);
    }
    for (index, block) in section.blocks.iter().enumerate() {
        if index > 0 {
            reply = reply.text("\n\n");
        }
        reply = match block {
            Block::Paragraph(text) => reply.text(text.clone()),
            Block::Gap => reply.italic(GAP_NOTICE),
        };
    }
    if section.id.is_part() {
        reply = reply.text("\n\n").bold("本部分要点：\n");
        for point in document.points(section.id.part) {
            reply = reply.text(format!(
                "{} {}{}\n",
                point.id,
                point.title,
                mark(point.completeness)
            ));
        }
    }
    if section.completeness == Completeness::Partial {
        reply = reply.text("\n\n").italic(PARTIAL_NOTICE);
    }
    reply
}

/// `/section <ref>`: number, principle and title, text, completeness notice, navigation.
pub fn section(document: &Document, section: &Section) -> Reply {
    let heading = match section.id {
        SectionId::OPENING => format!("{}\n", section.title),
        id if id.is_part() => format!(
            "{}、{}，{}\n",
            chinese_numeral(id.part),
            section.title,
            section.phrase
        ),
        id => format!("{} {}\n", id, section.title),
    };
    let mut reply = Reply::new().bold(heading);
    reply = reply.text(format!("{}\n\n", location(document, section)));
    section_body(document, section, reply).buttons(navigation(document, section.id))
}

/// Previous / outline / next buttons for a section.
pub fn navigation(document: &Document, id: SectionId) -> Vec<Button> {
    let target = |section: &Section| Action::Section {
        document: document.id.clone(),
        section: section.id,
    };
    let mut row = Vec::new();
    if let Some(previous) = document.previous(id) {
        row.push(Button {
            label: format!("◀ {}", short_label(previous)),
            action: target(previous),
        });
    }
    row.push(Button {
        label: "提纲".into(),
        action: Action::Outline {
            document: document.id.clone(),
        },
    });
    if let Some(next) = document.next(id) {
        row.push(Button {
            label: format!("{} ▶", short_label(next)),
            action: target(next),
        });
    }
    row
}

fn short_label(section: &Section) -> String {
    match section.id {
        SectionId::OPENING => section.title.clone(),
        id => id.to_string(),
    }
}

/// `/search <words>`.
pub fn search_results(document: &Document, results: &SearchResults) -> Reply {
    let query = results.terms.join(" ");
    if results.total == 0 {
        return Reply::plain(format!(
            "没有找到“{query}”。换个词试试，例如：/search 群众\n（搜索只在现存原文中进行。）"
        ));
    }
    let shown = results.hits.len();
    let mut reply = Reply::new().bold(format!("搜索“{query}”：共 {} 节含有", results.total));
    if shown < results.total {
        reply = reply.bold(format!("，显示前 {shown} 节"));
    }
    reply = reply.text("\n");
    for (index, hit) in results.hits.iter().enumerate() {
        let Some(section) = document.section(hit.id) else {
            continue;
        };
        reply = reply.text(format!("\n{}. {} {}", index + 1, hit.id, section.title));
        if hit.hit.is_empty() {
            reply = reply.text("（标题）\n");
        } else {
            reply = reply
                .text(format!("\n{}", hit.before))
                .bold(hit.hit.clone())
                .text(format!("{}\n", hit.after));
        }
    }
    reply
        .text("\n阅读全文：/section 编号，例如 /section ")
        .text(results.hits[0].id.to_string())
}

/// Replies to bad input: what was wrong and an example.
pub mod errors {
    use super::*;

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
        let parts = document.parts().count();
        Reply::plain(format!(
            "没有第 {id} 节。本文有开场和 {parts} 个部分（1–{parts}），每部分有几点，例如：/section 2.1。发送 /outline 查看提纲。"
        ))
    }

    /// A keyword found in no title.
    pub fn no_match(keyword: &str) -> Reply {
        let keyword: String = keyword.chars().take(20).collect();
        Reply::plain(format!(
            "没有标题含“{keyword}”的章节。请写编号，例如：/section 2.1，或用 /search {keyword} 在正文中搜索。"
        ))
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
}
