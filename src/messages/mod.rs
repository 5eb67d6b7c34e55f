//! The wording of every reply, built from the text model. Pure: no I/O.
//!
//! The console and Telegram show exactly these replies, so the wording lives here once.

pub mod daily;
pub mod errors;
pub mod import;
pub mod telegram;
pub mod texts;

use crate::command::COMMANDS;
use crate::limits::{self, utf16_len};
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
        "\n节的写法：2（第二部分）、2.1、2-1、二.一、第二部分第一点，或标题中的词，如 为民、管好队伍。\n长的节分页显示，翻页：/section 2.1 第 2 页。\n在群里也可以写 /section@机器人用户名 2.1。",
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

/// Section buttons on one page of an outline: five rows of eight, so that with the
/// paging row a keyboard stays far inside [`limits::BUTTONS_PER_KEYBOARD`].
pub const OUTLINE_BUTTONS_PER_PAGE: usize = 5 * limits::BUTTONS_PER_ROW;
/// The outline's own lines on one page, in UTF-16 units: with the title, the notes and
/// the hint, a page is one message, so its buttons can edit it in place.
const OUTLINE_UNITS_PER_PAGE: usize = 3000;

/// `/outline`: the title, the principles with their numbers and each one's points, and
/// a button for the opening and each part. A text with more parts than one keyboard or
/// one message holds is shown a page at a time ([`outline_page`]); this is the first.
pub fn outline(document: &Document) -> Reply {
    outline_page(document, 1)
}

/// How the outline of `document` falls into pages: each page lists the opening or parts
/// at these indices of `document.sections`.
fn outline_pages(document: &Document) -> Vec<Vec<&Section>> {
    let mut pages: Vec<Vec<&Section>> = vec![Vec::new()];
    let mut units = 0;
    for section in document.sections.iter().filter(|s| s.id.point == 0) {
        let lines = outline_lines(document, section, Reply::new()).plain_text();
        let length = utf16_len(&lines);
        let page = pages.last_mut().expect("pages is never empty");
        if !page.is_empty()
            && (page.len() == OUTLINE_BUTTONS_PER_PAGE || units + length > OUTLINE_UNITS_PER_PAGE)
        {
            pages.push(Vec::new());
            units = 0;
        }
        units += length;
        pages.last_mut().expect("just pushed").push(section);
    }
    pages
}

/// The page (from 1) of the outline that lists `id`'s part.
pub fn outline_page_of(document: &Document, id: SectionId) -> usize {
    let part = SectionId::part(id.part);
    outline_pages(document)
        .iter()
        .position(|page| page.iter().any(|s| s.id == part))
        .map_or(1, |index| index + 1)
}

/// One page of the outline (pages from 1; a page past the last shows the last).
pub fn outline_page(document: &Document, page: usize) -> Reply {
    let pages = outline_pages(document);
    let count = pages.len();
    let page = page.clamp(1, count);
    let mut reply = Reply::new().bold(format!("《{}》提纲", document.title));
    if count > 1 {
        reply = reply.bold(format!("（第 {page}/{count} 页）"));
    }
    reply = reply.text("\n");
    for section in &pages[page - 1] {
        reply = outline_lines(document, section, reply);
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
    if count > 1 {
        reply = reply.text("；翻页用下面的 ◀ ▶ 按钮。");
    }
    let row = pages[page - 1]
        .iter()
        .map(|s| Button {
            label: if s.id.part == 0 {
                s.title.clone()
            } else {
                s.id.to_string()
            },
            action: Action::Section {
                document: document.id.clone(),
                section: s.id,
                page: 1,
            },
        })
        .collect();
    let to_page = |page: usize| Action::Outline {
        document: document.id.clone(),
        page,
    };
    let mut paging = Vec::new();
    if page > 1 {
        paging.push(Button {
            label: format!("◀ 提纲 {}/{count}", page - 1),
            action: to_page(page - 1),
        });
    }
    if page < count {
        paging.push(Button {
            label: format!("提纲 {}/{count} ▶", page + 1),
            action: to_page(page + 1),
        });
    }
    reply.buttons(row).buttons(paging)
}

/// The outline's lines for the opening or one part and its points.
fn outline_lines(document: &Document, section: &Section, reply: Reply) -> Reply {
    if section.id == SectionId::OPENING {
        return reply.text(format!(
            "0 {}{}\n",
            section.title,
            mark(section.completeness)
        ));
    }
    let mut reply = reply
        .bold(format!(
            "\n{}、{}",
            chinese_numeral(section.id.part),
            principle(section, "，")
        ))
        .text(format!("{}\n", part_mark(section.completeness)));
    for point in document.points(section.id.part) {
        reply = reply.text(format!("  {}\n", name(point)));
    }
    reply
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

/// A section longer than this many messages is shown a page at a time.
pub const PAGED_AFTER_MESSAGES: usize = 3;
/// Room kept on a page for its heading, page line and notices, in UTF-16 units.
const PAGE_FRAME_UNITS: usize = 600;

/// `/section <ref>`: number, principle and title, text, completeness notice, navigation.
/// A section longer than [`PAGED_AFTER_MESSAGES`] messages is shown a page at a time:
/// this is its first page, for one asker (see [`section_page`]).
pub fn section(document: &Document, section: &Section) -> Reply {
    section_page(document, section, 1)
}

/// Page `page` (from 1) of a section. A short section is one page: the whole section.
/// A long one shows `第 k/n 页` under its heading, a page of its text, and ◀ ▶ buttons
/// to the pages either side; the console and a chat without buttons read the hint
/// `下一页：/section 2.1 第 2 页`. On a reply for the whole chat
/// ([`Reply::for_the_chat`]) the buttons answer with new messages, not edits.
pub fn section_page(document: &Document, section: &Section, page: usize) -> Reply {
    let heading = Reply::new()
        .bold(section_heading(section))
        .text(format!("{}\n\n", location(document, section)));
    let whole = section_body(document, section, heading.clone());
    if whole.split(limits::MESSAGE_TEXT).len() <= PAGED_AFTER_MESSAGES {
        return whole.buttons(navigation(document, section.id));
    }
    let pages = section_pages(document, section, &heading);
    let count = pages.len();
    let page = page.clamp(1, count);
    let mut reply = Reply::new()
        .bold(section_heading(section))
        .text(format!("{}\n", location(document, section)))
        .italic(format!("第 {page}/{count} 页\n\n"));
    reply.spans.extend(pages[page - 1].spans.iter().cloned());
    reply = reply.text("\n\n");
    if page < count {
        reply = reply.italic(format!(
            "下一页：/section {} 第 {} 页",
            section.id,
            page + 1
        ));
    } else {
        reply = reply.italic(format!("（全文完，共 {count} 页）"));
    }
    let to_page = |page: usize| Action::Section {
        document: document.id.clone(),
        section: section.id,
        page,
    };
    let mut paging = Vec::new();
    if page > 1 {
        paging.push(Button {
            label: format!("◀ 第 {} 页", page - 1),
            action: to_page(page - 1),
        });
    }
    if page < count {
        paging.push(Button {
            label: format!("第 {} 页 ▶", page + 1),
            action: to_page(page + 1),
        });
    }
    reply
        .buttons(paging)
        .buttons(navigation(document, section.id))
}

/// How many pages `section` is shown in (1 for a section short enough to show whole).
pub fn section_page_count(document: &Document, section: &Section) -> usize {
    let heading = Reply::new()
        .bold(section_heading(section))
        .text(format!("{}\n\n", location(document, section)));
    let whole = section_body(document, section, heading.clone());
    if whole.split(limits::MESSAGE_TEXT).len() <= PAGED_AFTER_MESSAGES {
        return 1;
    }
    section_pages(document, section, &heading).len()
}

/// The text of each page of a long section (without heading or buttons), as
/// [`section_page`] shows them.
pub fn section_page_texts(document: &Document, section: &Section) -> Vec<Reply> {
    let heading = Reply::new()
        .bold(section_heading(section))
        .text(format!("{}\n\n", location(document, section)));
    section_pages(document, section, &heading)
}

/// A long section's text cut into pages at sentence ends, each leaving room for its
/// frame within one message.
fn section_pages(document: &Document, section: &Section, heading: &Reply) -> Vec<Reply> {
    let frame = utf16_len(&heading.plain_text()) + PAGE_FRAME_UNITS;
    let room = limits::MESSAGE_TEXT.saturating_sub(frame).max(1000);
    section_body(document, section, Reply::new()).split(room)
}

fn section_heading(section: &Section) -> String {
    match section.id {
        SectionId::OPENING => format!("{}\n", section.title),
        id if id.is_part() => format!(
            "{}、{}\n",
            chinese_numeral(id.part),
            principle(section, "，")
        ),
        id => format!("{} {}\n", id, section.title),
    }
}

/// Previous / outline / next buttons for a section (the outline opens at its page).
pub fn navigation(document: &Document, id: SectionId) -> Vec<Button> {
    let target = |section: &Section| Action::Section {
        document: document.id.clone(),
        section: section.id,
        page: 1,
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
            page: outline_page_of(document, id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{parse_document, search};

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
        let speech = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
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

    /// A generated text: `parts` parts of three points each (a part of one point when
    /// `parts` is 99, to keep the test quick), the opening holding `body` and every
    /// other section a sentence; titles as long as imported reports have them.
    fn generated(parts: usize, body: &str) -> Document {
        let mut source = format!(
            "---\nid: gen{parts}\ntitle: 生成的文本（{parts} 个部分）\n---\n# 0 开场 [full]\n{body}\n"
        );
        for part in 1..=parts {
            source.push_str(&format!(
                "# {part} 第{part}部分的标题比较长一些以便测试按钮和提纲的长度 | 第二句话 [full]\n引言。\n"
            ));
            for point in 1..=(if parts == 99 { 1 } else { 3 }) {
                source.push_str(&format!(
                    "## {part}.{point} 要点标题{part}之{point}🙂𠀀 [partial]\n正文。\n[gap]\n"
                ));
            }
        }
        parse_document("gen.md", &source).unwrap()
    }

    /// Section bodies of 1 character to 2 MB: with sentence ends, without any, with
    /// emoji and supplementary CJK (two UTF-16 units each), with `<b>&` to escape.
    fn bodies() -> Vec<String> {
        vec![
            "网".into(),
            "一句话。".repeat(1024),
            "网".repeat(4097),
            "🙂".repeat(2049),
            "<b>&amp;</b>𠀀".repeat(3000),
            "这是很长的一段话，没有句号".repeat(1000),
            "第一段。\n\n第二段！".repeat(3000),
            "网".repeat(700_000),
        ]
    }

    fn assert_fits(reply: &Reply, context: &str) {
        let violations = reply.limit_violations();
        assert!(violations.is_empty(), "{context}: {violations:?}");
    }

    /// Issue 20: every reply the lookups and the daily excerpt can build, for the
    /// shipped speech and generated texts of 1, 12, 20 and 99 parts with sections of one
    /// character to 2 MB, stays inside Telegram's limits; a long section is a page at a
    /// time and an excerpt at most three messages.
    #[test]
    fn every_lookup_reply_stays_inside_the_limits() {
        let speech = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        let mut documents = vec![speech];
        for parts in [1, 12, 20, 99] {
            documents.push(generated(parts, "开场白。"));
        }
        for body in bodies() {
            documents.push(generated(2, &body));
        }
        assert_fits(&help(), "help");
        for document in &documents {
            let context = &document.id;
            assert_fits(&start(document), context);
            assert_fits(&docs(&[document], &document.id), context);
            let pages = outline_pages(document).len();
            for page in 1..=pages + 1 {
                let reply = outline_page(document, page);
                assert_fits(&reply, &format!("{context} outline {page}"));
                assert_eq!(
                    reply.split(limits::MESSAGE_TEXT).len(),
                    1,
                    "{context} outline {page}"
                );
            }
            for section in &document.sections {
                let count = section_page_count(document, section);
                let context = format!("{context} {} ({count} pages)", section.id);
                let mut shown = vec![1, 2, count / 2, count, count + 1];
                if count < 60 {
                    shown.extend(1..=count);
                }
                for page in shown {
                    let reply = section_page(document, section, page);
                    assert_fits(&reply, &format!("{context} page {page}"));
                    let messages = reply.split(limits::MESSAGE_TEXT).len();
                    assert!(messages <= PAGED_AFTER_MESSAGES, "{context} page {page}");
                    if count > 1 {
                        assert_eq!(messages, 1, "a page is one message: {context} page {page}");
                    }
                    assert_fits(&reply.clone().for_the_chat(), &context);
                }
                let excerpt = daily::excerpt(document, section);
                assert_fits(&excerpt, &context);
                assert!(
                    excerpt.split(limits::MESSAGE_TEXT).len() <= PAGED_AFTER_MESSAGES,
                    "{context}"
                );
            }
            let terms = ["网", "标题", "🙂"];
            for term in terms {
                assert_fits(&search_results(document, &search(document, term)), context);
            }
        }
    }

    #[test]
    fn a_99_part_outline_pages_its_buttons() {
        let document = generated(99, "开场白。");
        let first = outline(&document);
        let widths: Vec<usize> = first.buttons.iter().map(Vec::len).collect();
        assert!(
            widths.iter().all(|w| *w <= limits::BUTTONS_PER_ROW),
            "{widths:?}"
        );
        let pages = outline_pages(&document).len();
        assert!(pages >= 3, "{pages}");
        let text = first.plain_text();
        assert!(
            text.starts_with(&format!("《{}》提纲（第 1/{pages} 页）", document.title)),
            "{text}"
        );
        let last_row = first.buttons.last().unwrap();
        assert_eq!(last_row.len(), 1);
        assert_eq!(last_row[0].label, format!("提纲 2/{pages} ▶"));
        assert_eq!(
            last_row[0].action,
            Action::Outline {
                document: document.id.clone(),
                page: 2
            }
        );
        // Every part has its button on exactly one page, and on the page listing it.
        let mut seen = Vec::new();
        for page in 1..=pages {
            let reply = outline_page(&document, page);
            for button in reply.buttons.iter().flatten() {
                if let Action::Section { section, .. } = button.action {
                    assert!(
                        reply
                            .plain_text()
                            .contains(&format!("{}、", chinese_numeral(section.part)))
                            || section.part == 0
                    );
                    assert_eq!(outline_page_of(&document, section), page);
                    seen.push(section);
                }
            }
        }
        assert_eq!(seen.len(), 100, "the opening and 99 parts");
        // The shipped speech is one page, as before.
        let speech = parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap();
        assert_eq!(outline_pages(&speech).len(), 1);
        assert!(!outline(&speech).plain_text().contains("页"));
    }

    #[test]
    fn a_long_section_is_shown_a_page_at_a_time() {
        let document = generated(2, &"很长的一句话。".repeat(300_000));
        let opening = document.section(SectionId::OPENING).unwrap();
        let count = section_page_count(&document, opening);
        assert!(count > 500, "{count}");
        let first = section(&document, opening);
        let text = first.plain_text();
        assert!(
            text.contains(&format!("第 1/{count} 页")),
            "{}",
            &text[..200]
        );
        assert!(
            text.ends_with("下一页：/section 0 第 2 页"),
            "{}",
            &text[text.len() - 100..]
        );
        assert_eq!(first.buttons[0].len(), 1, "no ◀ on the first page");
        assert_eq!(first.buttons[0][0].label, "第 2 页 ▶");
        let middle = section_page(&document, opening, 2);
        let labels: Vec<&str> = middle.buttons[0].iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, vec!["◀ 第 1 页", "第 3 页 ▶"]);
        let last = section_page(&document, opening, count);
        assert!(
            last.plain_text()
                .ends_with(&format!("（全文完，共 {count} 页）"))
        );
        // The pages together are the whole text, nothing lost or repeated.
        let pages = section_page_texts(&document, opening);
        let joined: String = pages.iter().map(Reply::plain_text).collect();
        assert_eq!(joined.replace('\n', ""), "很长的一句话。".repeat(300_000));
        // The excerpt: three messages at most, and where the rest is.
        let excerpt = daily::excerpt(&document, opening);
        assert!(excerpt.split(limits::MESSAGE_TEXT).len() <= 3);
        let text = excerpt.plain_text();
        assert!(
            text.contains("全文见 /section 0，接着读：/section 0 第 4 页"),
            "{}",
            &text[text.len() - 200..]
        );
        assert_eq!(excerpt.buttons[0][0].label, "第 4 页 ▶");
        assert_eq!(excerpt.audience, crate::reply::Audience::Chat);
    }
}
