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

/// `/docs`: every text with its number, title, sections and how complete it is; the
/// one chats study now (`current`) is marked.
pub fn docs(documents: &[&Document], current: &str) -> Reply {
    let mut reply = Reply::new().bold(format!("可学习的文本（共 {} 篇）\n", documents.len()));
    for (number, document) in documents.iter().enumerate() {
        let count = |wanted: Completeness| {
            document
                .sections
                .iter()
                .filter(|s| s.completeness == wanted)
                .count()
        };
        let (partial, title_only) = (count(Completeness::Partial), count(Completeness::TitleOnly));
        let completeness = if partial + title_only == 0 {
            "全文完整".to_string()
        } else {
            format!(
                "原文不完整：{} 节完整，{partial} 节不完整，{title_only} 节仅存标题",
                count(Completeness::Full)
            )
        };
        reply = reply.bold(format!("\n{}. 《{}》", number + 1, document.title));
        if document.id == current {
            reply = reply.text("（正在学习）");
        }
        reply = reply.text(format!(
            "\n编号 {}；{} 个部分，共 {} 节；{completeness}\n",
            document.id,
            document.parts().count(),
            document.sections.len()
        ));
    }
    if documents.len() > 1 {
        reply = reply.text("\n改学另一篇：/use 加序号或编号，例如 /use 2（群里由管理员设置）。");
    }
    reply
}

/// `/use` and its answers: which text this chat studies.
pub mod texts {
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
            "\n{}、{}",
            chinese_numeral(part.id.part),
            principle(part, "，")
        ));
        reply = reply.text(format!("{}\n", part_mark(part.completeness)));
        for point in document.points(part.id.part) {
            reply = reply.text(format!("  {}\n", name(point)));
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

/// A section's name in lists: `2.2 用真心化解急难愁盼（仅存标题）`, `开场`.
fn name(section: &Section) -> String {
    let mark = mark(section.completeness);
    match section.id {
        SectionId::OPENING => format!("开场{mark}"),
        _ => format!("{}{mark}", section.heading()),
    }
}

/// A part's principle and second phrase joined by `separator`; just the principle when
/// the part has no second phrase (an imported report's `一、工作回顾`).
fn principle(part: &Section, separator: &str) -> String {
    if part.phrase.is_empty() {
        part.title.clone()
    } else {
        format!("{}{separator}{}", part.title, part.phrase)
    }
}

/// Where a section stands: `第二部分 厚植为民之心 · 站稳群众立场`.
pub fn location(document: &Document, section: &Section) -> String {
    match document.part_of(section.id) {
        Some(part) => format!(
            "第{}部分 {}",
            chinese_numeral(part.id.part),
            principle(part, " · ")
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
            reply = reply.text(format!("{}\n", name(point)));
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
            "{}、{}\n",
            chinese_numeral(id.part),
            principle(section, "，")
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
/// `/export` where no file can be sent (the console).
pub fn record_export_elsewhere() -> Reply {
    Reply::plain(
        "这里不能发送文件。请在 Telegram 里发送 /export，或在服务器上运行：studybot record --chat 群ID --out 台账.xlsx",
    )
}

pub mod errors {
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
}

// ---------------------------------------------------------------------------------------
// Daily excerpts and subscriptions: /subscribe, /unsubscribe, /settime, /timezone,
// /status, /plan, /today and the scheduled excerpt itself.
// ---------------------------------------------------------------------------------------

/// The wording of the daily excerpt and of the subscription commands.
pub mod daily {
    use super::{location, name, section_body};
    use crate::plan::ReadingPlan;
    use crate::reply::{Action, Button, Reply};
    use crate::schedule::{
        DeliveryResult, FailureKind, LastFailure, SubscribeOutcome, Subscription, format_local,
        format_time, local_date,
    };
    use crate::text::{Document, Section, chinese_numeral};

    /// How many cells the progress bar has at most.
    const BAR_CELLS: usize = 24;

    /// Where an excerpt stands: `今日学习 · 第二部分 厚植为民之心 · 2.2 用真心化解急难愁盼`,
    /// `今日学习 · 第二部分 厚植为民之心 · 站稳群众立场` (a part intro), `今日学习 · 开场`.
    pub fn excerpt_heading(document: &Document, section: &Section) -> String {
        let place = match (section.id, document.part_of(section.id)) {
            (id, Some(part)) if id.is_point() => format!(
                "第{}部分 {} · {} {}",
                chinese_numeral(part.id.part),
                part.title,
                id,
                section.title
            ),
            (id, Some(_)) if id.is_part() => location(document, section),
            _ => section.title.clone(),
        };
        format!("今日学习 · {place}")
    }

    /// The daily excerpt (scheduled or `/today`): where it stands, the text with its
    /// completeness notices, and buttons to the whole section and to the outline. A
    /// title-only section becomes a short card saying its text is unavailable.
    pub fn excerpt(document: &Document, section: &Section) -> Reply {
        // Every member sees the same excerpt: its buttons answer with new messages.
        let reply = Reply::new()
            .for_the_chat()
            .bold(format!("{}\n\n", excerpt_heading(document, section)));
        section_body(document, section, reply).buttons(vec![
            Button {
                label: "本节全文".into(),
                action: Action::Section {
                    document: document.id.clone(),
                    section: section.id,
                },
            },
            Button {
                label: "提纲".into(),
                action: Action::Outline {
                    document: document.id.clone(),
                },
            },
        ])
    }

    /// A text bar: `▓▓▓▓▓▓▓░░░░░░░░░░░░░░` (one cell per section up to 24 sections).
    pub fn progress_bar(done: usize, total: usize) -> String {
        if total == 0 {
            return String::new();
        }
        let cells = total.min(BAR_CELLS);
        let filled = (done.min(total) * cells) / total;
        format!("{}{}", "▓".repeat(filled), "░".repeat(cells - filled))
    }

    /// `/plan`: progress with a bar, the next section and the two after it.
    pub fn plan(
        plan: &ReadingPlan<'_>,
        position: usize,
        subscription: Option<&Subscription>,
    ) -> Reply {
        let progress = plan.progress(position);
        let mut reply = Reply::new().bold(format!("学习进度 {}/{}", progress.done, progress.total));
        if progress.round > 1 {
            reply = reply.bold(format!("（第 {} 轮）", progress.round));
        }
        reply = reply.text(format!(
            "\n{}\n",
            progress_bar(progress.done, progress.total)
        ));
        let upcoming = plan.upcoming(position, 3);
        if let Some(next) = upcoming.first() {
            reply = reply.text(format!("\n下一节：{}", name(next)));
        }
        if upcoming.len() > 1 {
            let later: Vec<String> = upcoming[1..].iter().map(|s| name(s)).collect();
            reply = reply.text(format!("\n之后：{}", later.join("、")));
        }
        if progress.done == 0 && progress.round > 1 {
            reply = reply.text("\n\n全文已学完一遍，现从开场重新开始。");
        }
        match subscription {
            Some(subscription) if subscription.active => reply.text(format!(
                "\n\n每天 {}（{}）发送一节。",
                format_time(subscription.send_time),
                subscription.timezone.name()
            )),
            _ => reply.text("\n\n尚未订阅。发送 /subscribe 08:00，每天收到一节。"),
        }
    }

    /// `/subscribe` succeeded.
    pub fn subscribed(
        plan: &ReadingPlan<'_>,
        subscription: &Subscription,
        outcome: SubscribeOutcome,
    ) -> Reply {
        let progress = plan.progress(subscription.position);
        let first = match outcome {
            SubscribeOutcome::New => format!(
                "已订阅每日学习：每天 {}（{}）发送一节，共 {} 节，按顺序学习，学完从头再来。",
                format_time(subscription.send_time),
                subscription.timezone.name(),
                progress.total
            ),
            SubscribeOutcome::Reactivated => format!(
                "已重新订阅每日学习：每天 {}（{}）发送一节，进度保留在 {}/{}。",
                format_time(subscription.send_time),
                subscription.timezone.name(),
                progress.done,
                progress.total
            ),
            SubscribeOutcome::AlreadyActive => format!(
                "本聊天已订阅每日学习：每天 {}（{}）发送一节。",
                format_time(subscription.send_time),
                subscription.timezone.name()
            ),
        };
        Reply::plain(first)
            .text(next_send(plan, subscription))
            .text("\n\n改时间：/settime 20:30　改时区：/timezone Europe/Berlin　退订：/unsubscribe")
    }

    /// The next send and its section: `\n下次发送：2026-05-02 08:00\n下一节：开场`.
    fn next_send(plan: &ReadingPlan<'_>, subscription: &Subscription) -> String {
        let mut text = format!(
            "\n下次发送：{}（{}）",
            format_local(subscription.next_due, subscription.timezone),
            subscription.timezone.name()
        );
        if let Some(section) = plan.section(subscription.position) {
            text.push_str(&format!("\n下一节：{}", name(section)));
        }
        text
    }

    /// `/unsubscribe` succeeded.
    pub fn unsubscribed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
        let progress = plan.progress(subscription.position);
        Reply::plain(format!(
            "已退订每日学习，不再定时发送。进度保留在 {}/{}，发送 /subscribe 可以接着学。",
            progress.done, progress.total
        ))
    }

    /// `/unsubscribe`, `/settime` or `/timezone` in a chat that is not subscribed;
    /// `next_step` says what to do instead, as a full sentence with an example.
    pub fn not_subscribed(next_step: &str) -> Reply {
        Reply::plain(format!("本聊天目前没有订阅每日学习。{next_step}"))
    }

    /// `/settime` succeeded.
    pub fn time_changed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
        Reply::plain(format!(
            "发送时间已改为每天 {}（{}）。",
            format_time(subscription.send_time),
            subscription.timezone.name()
        ))
        .text(active_or_paused(plan, subscription))
    }

    /// `/timezone` succeeded.
    pub fn timezone_changed(plan: &ReadingPlan<'_>, subscription: &Subscription) -> Reply {
        Reply::plain(format!(
            "时区已改为 {}，每天按当地时间 {} 发送。",
            subscription.timezone.name(),
            format_time(subscription.send_time)
        ))
        .text(active_or_paused(plan, subscription))
    }

    fn active_or_paused(plan: &ReadingPlan<'_>, subscription: &Subscription) -> String {
        if subscription.active {
            next_send(plan, subscription)
        } else {
            "\n本聊天目前未订阅，设置已保存。发送 /subscribe 恢复每日发送。".into()
        }
    }

    /// `/timezone` without a name: the current zone and how to change it.
    pub fn current_timezone(zone_name: &str) -> Reply {
        Reply::plain(format!(
            "当前时区：{zone_name}。修改请写 IANA 时区名，例如：/timezone Asia/Shanghai 或 /timezone Europe/Berlin"
        ))
    }

    /// `/status`: subscribed or not, time and zone, next send, next section, last delivery
    /// and who subscribed.
    pub fn status(plan: &ReadingPlan<'_>, subscription: Option<&Subscription>) -> Reply {
        let text = format!(
            "学习文本：《{}》（编号 {}）\n",
            plan.document().title,
            plan.document().id
        );
        let Some(subscription) = subscription else {
            return Reply::new()
                .bold("每日学习：未订阅\n")
                .text(text)
                .text("发送 /subscribe 08:00，每天定时收到一节原文（在群里由管理员发送）。");
        };
        let zone = subscription.timezone;
        let progress = plan.progress(subscription.position);
        let mut reply = match (subscription.active, &subscription.disabled_reason) {
            (true, _) => Reply::new().bold("每日学习：已订阅\n"),
            (false, None) => Reply::new().bold("每日学习：已退订\n"),
            (false, Some(reason)) => Reply::new()
                .bold("每日学习：已停用\n")
                .text(format!(
                    "原因：机器人无法在本聊天发消息（{reason}）。重新添加机器人后，由管理员发送 /subscribe 即可恢复。\n"
                )),
        };
        reply = reply.text(text);
        reply = reply.text(format!(
            "发送时间：每天 {}（{}）\n",
            format_time(subscription.send_time),
            zone.name()
        ));
        if subscription.active {
            reply = reply.text(format!(
                "下次发送：{}\n",
                format_local(subscription.next_due, zone)
            ));
        }
        if let Some(section) = plan.section(subscription.position) {
            reply = reply.text(format!("下一节：{}\n", name(section)));
        }
        reply = reply.text(format!("进度：{}/{}\n", progress.done, progress.total));
        let last = match &subscription.last_delivery {
            None => "还没有".to_string(),
            Some(last) => {
                let result = match &last.result {
                    DeliveryResult::Sent => "已发送".to_string(),
                    DeliveryResult::Failed { .. } => "发送失败，稍后重试".to_string(),
                    DeliveryResult::Missed => "未能发送，已超过补发时限，跳过当天".to_string(),
                };
                format!("{} {result}", last.local_date.format("%Y-%m-%d"))
            }
        };
        reply = reply.text(format!("上次发送：{last}\n"));
        if let Some(failure) = &subscription.last_failure {
            reply = reply.text(last_failure(failure, zone));
        }
        reply.text(format!(
            "订阅人：{}（{}）",
            crate::quiz::messages::display_name(&subscription.subscribed_by.name),
            local_date(subscription.subscribed_at, zone).format("%Y-%m-%d")
        ))
    }

    /// The most recent failed attempt, for `/status`: when it was, what Telegram said,
    /// and — when the bot may not write in the chat — what an administrator has to do.
    fn last_failure(failure: &LastFailure, zone: chrono_tz::Tz) -> String {
        let at = format!("{}（{}）", format_local(failure.at, zone), zone.name());
        let reason = &failure.reason;
        match failure.kind {
            FailureKind::NoRights => format!(
                "问题：机器人在本群没有发消息的权限，每日学习发不出去（最近一次尝试：{at}；Telegram：{reason}）。\n\
                 请群管理员在群设置中恢复机器人的“发送消息”权限（或把机器人设为管理员）。恢复后会自动继续发送，无需重新订阅。\n"
            ),
            FailureKind::Rejected => format!(
                "最近一次尝试：{at}，Telegram 拒绝了这条消息（{reason}）。之后会继续尝试，订阅保持不变。\n"
            ),
            FailureKind::Transient => {
                format!("最近一次尝试：{at}，暂时连不上 Telegram（{reason}），会自动重试。\n")
            }
            FailureKind::ChatGone => format!("最近一次尝试：{at}（{reason}）\n"),
        }
    }

    /// Added to `/today` in a chat that is not subscribed.
    pub fn today_unsubscribed_hint() -> Reply {
        Reply::plain("想每天自动收到？发送 /subscribe 08:00。")
    }

    /// Replies to refused or bad input of the subscription commands.
    pub mod errors {
        use crate::reply::Reply;
        use crate::schedule::{TimeError, ZoneError};

        /// A non-administrator tried to change the group's subscription. `what` says
        /// what (订阅每日学习, 修改发送时间 …).
        pub fn admin_only(what: &str) -> Reply {
            Reply::plain(format!(
                "只有群管理员可以{what}，这样全群的设置不会被随意改动。请联系本群管理员。/status 可以查看当前设置。"
            ))
        }

        /// A send time that could not be read. `command` is `/subscribe` or `/settime`.
        pub fn bad_time(command: &str, input: &str, error: TimeError) -> Reply {
            let shown: String = input.trim().chars().take(20).collect();
            let why = match error {
                TimeError::Empty => "请写上时间".to_string(),
                TimeError::Format => format!("“{shown}”不是“时:分”格式的时间"),
                TimeError::OutOfRange => format!("“{shown}”超出范围（小时 0–23，分钟 00–59）"),
            };
            Reply::plain(format!(
                "{why}。请用 24 小时制写时:分，例如：{command} 08:00 或 {command} 20:30"
            ))
        }

        /// A time zone that could not be read.
        pub fn bad_timezone(input: &str, error: ZoneError) -> Reply {
            let shown: String = input.trim().chars().take(40).collect();
            let why = match error {
                ZoneError::Empty => "请写上时区".to_string(),
                ZoneError::Unknown => format!("“{shown}”不是有效的时区名"),
            };
            Reply::plain(format!(
                "{why}。请写 IANA 时区名，例如：/timezone Asia/Shanghai 或 /timezone Europe/Berlin"
            ))
        }
    }
}

/// Texts an operator imports by sending a file to the bot.
pub mod import {
    use crate::reply::{Action, Button, Reply};
    use crate::text::import::{ImportError, Imported};
    use crate::text::{Block, Completeness, SectionId, chinese_numeral};

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
        for section in &document.sections {
            let mark = match section.completeness {
                Completeness::Full => "完整",
                Completeness::Partial => "不完整",
                Completeness::TitleOnly => "仅存标题",
            };
            let gaps = section.blocks.iter().filter(|b| **b == Block::Gap).count();
            let gaps = if gaps > 0 {
                format!("，{gaps} 处缺失")
            } else {
                String::new()
            };
            let heading = match section.id {
                SectionId::OPENING => section.title.clone(),
                id if id.is_part() => format!("{}、{}", chinese_numeral(id.part), section.title),
                id => format!("  {id} {}", section.title),
            };
            text.push_str(&format!("{heading} [{mark}{gaps}]\n"));
        }
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

    /// A file larger than the Bot API lets a bot download.
    pub fn too_big(bytes: u64) -> Reply {
        Reply::plain(format!(
            "无法导入：文件有 {:.1} MB，超过 20 MB 的上限。请只保留文字，另存为 .txt 或 .docx 再发送。",
            bytes as f64 / 1_048_576.0
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
}

// ---------------------------------------------------------------------------------------
// When Telegram's limits or failures get in the way of an answer.
// ---------------------------------------------------------------------------------------

/// Replies about Telegram itself: its limits and its failures.
pub mod telegram {
    use crate::reply::Reply;

    /// A chat sent more commands than can be answered soon; the further ones are skipped.
    pub fn too_fast() -> Reply {
        Reply::plain("太快了，请稍后再试。前面的命令还在依次回复，之后发来的命令这次没有处理。")
    }

    /// Telegram could not say whether the sender is an administrator.
    pub fn admin_check_failed() -> Reply {
        Reply::plain("暂时无法向 Telegram 确认你是否为群管理员，这次没有修改任何设置。请稍后再试。")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_document;

    #[test]
    fn a_part_without_a_second_phrase_reads_without_a_dangling_comma() {
        let document = parse_document(
            "report.md",
            "---\nid: r\ntitle: 报告\n---\n# 1 工作回顾 [full]\n去年很好。\n## 1.1 经济 [full]\n增长。\n",
        )
        .unwrap();
        let outline = outline(&document).plain_text();
        assert!(outline.contains("一、工作回顾"), "{outline}");
        assert!(!outline.contains("工作回顾，"), "{outline}");
        let part = document.section(SectionId::part(1)).unwrap();
        assert!(
            section(&document, part)
                .plain_text()
                .starts_with("一、工作回顾\n")
        );
        let point = document.section(SectionId::point(1, 1)).unwrap();
        assert_eq!(location(&document, point), "第一部分 工作回顾");
    }

    #[test]
    fn docs_list_every_text_and_how_complete_it_is() {
        let speech = parse_document("xzsj.md", include_str!("../data/texts/xzsj.md")).unwrap();
        let report = parse_document(
            "r.md",
            "---\nid: r\ntitle: 报告\n---\n# 1 工作回顾 [full]\n去年很好。\n",
        )
        .unwrap();
        let text = docs(&[&speech, &report], "xzsj").plain_text();
        assert!(text.starts_with("可学习的文本（共 2 篇）"), "{text}");
        assert!(
            text.contains("1. 《在全市乡镇(街道)党(工)委书记培训重点班上的发言》（正在学习）\n编号 xzsj；5 个部分，共 21 节；原文不完整：10 节完整，3 节不完整，8 节仅存标题"),
            "{text}"
        );
        assert!(
            text.contains("2. 《报告》\n编号 r；1 个部分，共 1 节；全文完整"),
            "{text}"
        );
    }
}
