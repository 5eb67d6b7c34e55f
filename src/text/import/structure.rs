//! Finds a text's structure the way Chinese official writing marks it.
//!
//! The steps, each on plain data:
//!
//! 1. **Lines**: line breaks, NBSP, full-width spaces and zero-width characters are
//!    normalised; page debris is dropped (see [`super::debris`]), a cut notice becomes a gap.
//! 2. **Outline block**: a `目录`/`提纲` line at the top and the heading lines after it.
//!    Its entries are the skeleton: a point whose body the copy lost still exists, as
//!    a title-only section.
//! 3. **Title** (the first heading-like line) and its `——` subtitle (the occasion).
//! 4. **Levels**: of the markers present — `第一部分`/`第一章`, `第一节`, `一、`, `（一）`,
//!    `1.`, and runs `一是…二是…`/`第一，…` at sentence starts — the highest marks the parts
//!    and the next one the points. Deeper markers stay in the text.
//! 5. **Events**: parts, points, paragraphs (lines broken mid-sentence are joined) and
//!    gaps, in order; then they are placed into sections, following the skeleton when
//!    there is one (text after a gap that precedes a later point belongs to that point's
//!    predecessor).
//!
//! Nothing is ever written that the input does not contain: titles, phrases and
//! paragraphs are all substrings of the input (modulo whitespace and line joins).

use crate::text::{Block, Completeness, Section, SectionId};

use super::debris::{self, DebrisKind, LineDebris};
use super::{DroppedLine, ImportError};

/// The longest title kept whole: a longer first sentence is cut at its first comma
/// (`三是因地制宜美环境,良好的人居环境是…` → `因地制宜美环境`), the rest stays in the text.
const LONGEST_TITLE: usize = 24;
/// The longest line taken as the document's title or an outline entry.
const LONGEST_HEADING: usize = 60;
/// A line this short never continues on the next line (`国务院总理 李强`).
const SHORT_LINE: usize = 12;
/// More parts or points than this is not a text's structure but a list.
const MOST_SECTIONS: usize = 99;

/// What the structure pass found.
#[derive(Debug, Clone, Default)]
pub struct Structure {
    /// The document's title.
    pub title: String,
    /// Where the title came from, for the report.
    pub title_source: &'static str,
    /// The occasion (a `——` subtitle, or the place in `在…上的讲话`); may be empty.
    pub occasion: String,
    /// The sections in reading order, numbered, with completeness marks.
    pub sections: Vec<Section>,
    /// The outline block's first and last line, if there was one.
    pub outline: Option<(usize, usize)>,
    /// Every dropped piece of debris.
    pub dropped: Vec<DroppedLine>,
    /// Things an editor should check (numbering that skipped, …).
    pub warnings: Vec<String>,
    /// The marker kinds used for parts and points, for the report.
    pub levels: (String, Option<String>),
}

/// Finds the structure of `text`; `fallback_title` is used when the text has no title
/// line and no `《…》` name.
pub fn structure(text: &str, fallback_title: &str) -> Result<Structure, ImportError> {
    let mut found = Structure::default();
    let items = items(text, &mut found.dropped);
    let (outline, body) = split_outline(&items);
    found.outline = outline.as_ref().map(|o| (o.first, o.last));
    let entries = outline.map(|o| o.entries).unwrap_or_default();
    let body = title_and_occasion(&body, &mut found, fallback_title);
    let Some((part_kind, point_kind)) = levels(&entries, &body) else {
        return Err(ImportError::NoStructure);
    };
    found.levels = (
        part_kind.name().to_string(),
        point_kind.map(|k| k.name().to_string()),
    );
    let skeleton = skeleton(&entries, part_kind, point_kind);
    let events = events(&body, part_kind, point_kind);
    let raws = place(events, &skeleton);
    found.sections = finish(raws, &mut found.warnings)?;
    if !found.sections.iter().any(|s| s.id.is_part()) {
        return Err(ImportError::NoStructure);
    }
    if found.occasion.is_empty() {
        found.occasion = occasion_in_title(&found.title).unwrap_or_default();
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// 1. Lines and debris

/// One line of the input after debris removal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Author text (trimmed, non-empty) and its line number.
    Text(usize, String),
    /// A blank line (or a dropped separator): a paragraph ends here.
    Blank,
    /// A cut notice: text is missing here.
    Cut,
}

fn items(text: &str, dropped: &mut Vec<DroppedLine>) -> Vec<Item> {
    let text = text.replace("\r\n", "\n");
    let mut items = Vec::new();
    for (index, raw) in text
        .split(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{c}'])
        .enumerate()
    {
        let line = index + 1;
        let clean = markdown_heading(normalise(raw));
        if clean.is_empty() {
            items.push(Item::Blank);
            continue;
        }
        let heading = line_marker(&clean).is_some();
        let mut drop = |text: &str, kind: DebrisKind| {
            dropped.push(DroppedLine {
                line,
                text: text.to_string(),
                kind,
            });
        };
        match debris::classify(&clean, heading) {
            None => items.push(Item::Text(line, clean)),
            Some(LineDebris::Whole(DebrisKind::Cut)) => {
                drop(&clean, DebrisKind::Cut);
                items.push(Item::Cut);
            }
            Some(LineDebris::Whole(kind)) => {
                drop(&clean, kind);
                items.push(Item::Blank);
            }
            Some(LineDebris::Inline {
                before,
                notice,
                after,
            }) => {
                drop(notice, DebrisKind::Cut);
                if !before.is_empty() {
                    items.push(Item::Text(line, before.to_string()));
                }
                items.push(Item::Cut);
                if !after.is_empty() {
                    items.push(Item::Text(line, after.to_string()));
                }
            }
        }
    }
    items
}

/// A Markdown heading (`## 一、标题`, `**一、标题**`) without its markup: a `.md` file
/// marks headings this way. A hashtag (`#两会#`) has no space after `#` and stays.
fn markdown_heading(line: String) -> String {
    let hashes = line.len() - line.trim_start_matches('#').len();
    let mut text = line.as_str();
    if hashes > 0 && text[hashes..].starts_with(' ') {
        text = text[hashes..].trim_start();
    }
    for mark in ["**", "__"] {
        if let Some(inner) = text.strip_prefix(mark).and_then(|t| t.strip_suffix(mark))
            && !inner.contains(mark)
        {
            text = inner.trim();
        }
    }
    if text.len() == line.len() {
        line
    } else {
        text.to_string()
    }
}

/// Spaces of every kind become one ASCII space, zero-width characters go, and the line
/// is trimmed (full-width indents included).
fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        let c = match c {
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' => continue,
            c if c.is_whitespace() => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

// ---------------------------------------------------------------------------------------
// Markers

/// The kinds of section markers, from the highest level to the lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `第一部分`, `第一章`, `第一篇`.
    Chapter,
    /// `第一节`.
    Section,
    /// `一、`.
    Enumerated,
    /// `（一）`, `(一)`.
    Parenthesised,
    /// `1.`, `1．`, `1、`.
    Arabic,
    /// `一是…`, `第一，…` at the start of a sentence.
    Run,
}

impl Kind {
    const ALL: [Self; 6] = [
        Self::Chapter,
        Self::Section,
        Self::Enumerated,
        Self::Parenthesised,
        Self::Arabic,
        Self::Run,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Chapter => "第一部分/第一章",
            Self::Section => "第一节",
            Self::Enumerated => "一、",
            Self::Parenthesised => "（一）",
            Self::Arabic => "1.",
            Self::Run => "一是…/第一，…",
        }
    }
}

/// A marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker<'a> {
    kind: Kind,
    number: u32,
    /// The marker itself (`一、`), a title of last resort.
    label: &'a str,
    /// The text after the marker.
    rest: &'a str,
}

/// Reads a Chinese numeral from 1 to 999 at the start of `s` (`三`, `十二`, `九十九`,
/// `一百`, `一百零一`, `一百二十三`): its value and length in bytes. A heading past
/// 九十九、 is still a heading, so that a list too long to be a text's structure is
/// refused naming it instead of folded into the 99th part's body.
fn numeral(s: &str) -> Option<(u32, usize)> {
    // Every character read here (digits, 〇, 零, 十, 百) is three bytes in UTF-8.
    const WIDTH: usize = 3;
    let digit = |rest: &str| {
        let c = rest.chars().next()?;
        match c {
            '〇' | '零' => Some(0),
            _ => "一二三四五六七八九".find(c).map(|i| (i / WIDTH) as u32 + 1),
        }
    };
    let mut rest = s;
    let mut value = 0;
    let mut hundreds = false;
    if let Some(d) = digit(rest).filter(|&d| d > 0)
        && let Some(after) = rest[WIDTH..].strip_prefix('百')
    {
        value = d * 100;
        rest = after;
        hundreds = true;
        // 一百零一: a zero, then the units.
        if let Some(after) = rest.strip_prefix(['零', '〇']) {
            return match digit(after).filter(|&d| d > 0) {
                Some(d) => Some((value + d, s.len() - after.len() + WIDTH)),
                None => Some((value, s.len() - rest.len())),
            };
        }
    }
    match digit(rest).filter(|&d| d > 0) {
        // 二十, 二十一, 一百二十三.
        Some(d) if rest[WIDTH..].starts_with('十') => {
            value += d * 10;
            rest = &rest[2 * WIDTH..];
            if let Some(d) = digit(rest).filter(|&d| d > 0) {
                value += d;
                rest = &rest[WIDTH..];
            }
        }
        // 三 (a single digit; 一百二 is not read as 102).
        Some(d) if !hundreds => {
            value += d;
            rest = &rest[WIDTH..];
        }
        _ => {
            // 十, 十二 (not after 百: 一百十 is not how headings count).
            if !hundreds && let Some(after) = rest.strip_prefix('十') {
                value += 10;
                rest = after;
                if let Some(d) = digit(rest).filter(|&d| d > 0) {
                    value += d;
                    rest = &rest[WIDTH..];
                }
            }
        }
    }
    (1..=999)
        .contains(&value)
        .then_some((value, s.len() - rest.len()))
}

/// Writes `n` (1 to 999) as [`numeral`] reads it: `一百零一`, `一百二十`.
pub(crate) fn chinese_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100 % 10, n / 10 % 10, n % 10);
    let mut out = String::new();
    if h > 0 {
        out.push_str(DIGITS[h as usize]);
        out.push('百');
    }
    match (h, t, u) {
        (0, 0, _) => {}
        (0, 1, _) => out.push('十'),
        (_, 0, 0) => return out,
        (_, 0, _) => out.push('零'),
        _ => {
            out.push_str(DIGITS[t as usize]);
            out.push('十');
        }
    }
    if u > 0 {
        out.push_str(DIGITS[u as usize]);
    }
    out
}

/// The marker a line starts with, if any.
fn line_marker(line: &str) -> Option<Marker<'_>> {
    let marker = |kind, number, end: usize, rest: &'static [char]| {
        Some(Marker {
            kind,
            number,
            label: &line[..end],
            rest: line[end..].trim_start_matches(rest),
        })
    };
    const AFTER: &[char] = &[' ', '\u{3000}', '、', '：', ':', '.', '．', '，', ','];
    if let Some(after) = line.strip_prefix('第') {
        let (number, len) = numeral(after)?;
        let tail = &after[len..];
        let start = line.len() - tail.len();
        for (word, kind) in [
            ("部分", Kind::Chapter),
            ("章", Kind::Chapter),
            ("篇", Kind::Chapter),
            ("节", Kind::Section),
        ] {
            if tail.starts_with(word) {
                return marker(kind, number, start + word.len(), AFTER);
            }
        }
        let sep = tail.chars().next()?;
        if matches!(sep, '，' | ',' | '、') && tail.len() > sep.len_utf8() {
            return marker(Kind::Run, number, start + sep.len_utf8(), &[' ']);
        }
        return None;
    }
    if let Some(after) = line.strip_prefix(['（', '(']) {
        let (number, len) = numeral(after)?;
        let tail = &after[len..];
        let close = tail.chars().next().filter(|c| matches!(c, '）' | ')'))?;
        let end = line.len() - tail.len() + close.len_utf8();
        return marker(Kind::Parenthesised, number, end, &[' ']);
    }
    if let Some((number, len)) = numeral(line) {
        let tail = &line[len..];
        if tail.starts_with('、') {
            return marker(Kind::Enumerated, number, len + '、'.len_utf8(), &[' ']);
        }
        if let Some(rest) = tail.strip_prefix('是')
            && rest.chars().next().is_some_and(|c| !is_punctuation(c))
        {
            return marker(Kind::Run, number, len + '是'.len_utf8(), &[]);
        }
        return None;
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let number: u32 = line[..digits].parse().ok()?;
        let tail = &line[digits..];
        let sep = tail.chars().next()?;
        let rest = &tail[sep.len_utf8()..];
        if matches!(sep, '.' | '．' | '、')
            && number > 0
            && rest
                .chars()
                .next()
                .is_some_and(|c| !c.is_ascii_digit() && !is_punctuation(c))
        {
            return marker(Kind::Arabic, number, digits + sep.len_utf8(), &[' ']);
        }
    }
    None
}

fn is_punctuation(c: char) -> bool {
    "。，、；：？！,.;:?!…—-）)》”’".contains(c)
}

use crate::text::sentences::is_sentence_end as is_terminator;

/// `一是…`/`第一，…` runs at sentence starts inside `text` (the line start included):
/// `(byte where the marker starts, its number, byte where its text starts)`.
fn run_markers(text: &str) -> Vec<(usize, u32, usize)> {
    let mut found = Vec::new();
    let mut sentence_start = true;
    for (at, c) in text.char_indices() {
        if sentence_start
            && let Some(marker) = line_marker(&text[at..])
            && marker.kind == Kind::Run
        {
            found.push((at, marker.number, text.len() - marker.rest.len()));
        }
        sentence_start =
            is_terminator(c) || (sentence_start && matches!(c, '”' | '’' | '」' | '』' | ' '));
    }
    found
}

// ---------------------------------------------------------------------------------------
// 2. The outline block

/// An outline block found at the top.
#[derive(Debug, Clone)]
struct Outline {
    first: usize,
    last: usize,
    entries: Vec<String>,
}

/// Splits off the outline block (`目录`/`提纲` and the heading lines after it), if the
/// text starts with one.
fn split_outline(items: &[Item]) -> (Option<Outline>, Vec<Item>) {
    if let Some((outline, end)) = explicit_outline(items) {
        return (Some(outline), items[end..].to_vec());
    }
    if let Some((outline, start, end)) = implicit_outline(items) {
        let mut body = items[..start].to_vec();
        body.extend_from_slice(&items[end..]);
        return (Some(outline), body);
    }
    (None, items.to_vec())
}

/// A heading line an outline may list: a marker line, short, not a sentence.
fn outline_entry(text: &str) -> Option<Marker<'_>> {
    line_marker(text).filter(|_| {
        text.chars().count() <= LONGEST_HEADING
            && !text.chars().next_back().is_some_and(is_terminator)
    })
}

/// An outline without a `目录` line: heading lines near the top, with no text between
/// them, whose first heading the text then repeats (`一、…` again, with its body).
fn implicit_outline(items: &[Item]) -> Option<(Outline, usize, usize)> {
    let (start, first_line, first) = items
        .iter()
        .enumerate()
        .filter_map(|(at, item)| match item {
            Item::Text(line, text) => Some((at, *line, text)),
            _ => None,
        })
        .take(8)
        .find(|(_, _, text)| outline_entry(text).is_some_and(|m| m.kind != Kind::Run))?;
    let head = outline_entry(first)?;
    let repeats = |text: &str| {
        line_marker(text).is_some_and(|m| {
            m.kind == head.kind && m.number == head.number && {
                let (a, b) = (plain(&title_of(m.rest).0), plain(&title_of(head.rest).0));
                titles_match(&a, &b)
            }
        })
    };
    let mut outline = Outline {
        first: first_line,
        last: first_line,
        entries: vec![first.clone()],
    };
    let mut end = start + 1;
    for (at, item) in items.iter().enumerate().skip(start + 1) {
        match item {
            Item::Blank => continue,
            Item::Text(_, text) if repeats(text) => break,
            Item::Text(line, text) if outline_entry(text).is_some() => {
                outline.entries.push(text.clone());
                outline.last = *line;
                end = at + 1;
            }
            _ => break,
        }
    }
    let repeated = items[end..]
        .iter()
        .any(|item| matches!(item, Item::Text(_, text) if repeats(text)));
    (outline.entries.len() >= 2 && repeated).then_some((outline, start, end))
}

/// `目录` or `提纲` and the heading lines after it.
fn explicit_outline(items: &[Item]) -> Option<(Outline, usize)> {
    let header = items
        .iter()
        .position(|item| matches!(item, Item::Text(..)))
        .filter(|&at| {
            let Item::Text(_, text) = &items[at] else {
                return false;
            };
            let plain: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            (plain.starts_with("目录") || plain.starts_with("提纲")) && plain.chars().count() <= 20
        })?;
    let Item::Text(first, _) = items[header] else {
        return None;
    };
    let mut outline = Outline {
        first,
        last: first,
        entries: Vec::new(),
    };
    let mut end = header + 1;
    for (at, item) in items.iter().enumerate().skip(header + 1) {
        match item {
            Item::Blank => continue,
            Item::Text(line, text)
                if line_marker(text).is_some() && text.chars().count() <= LONGEST_HEADING =>
            {
                outline.entries.push(text.clone());
                outline.last = *line;
                end = at + 1;
            }
            _ => break,
        }
    }
    Some((outline, end))
}

// ---------------------------------------------------------------------------------------
// 3. Title and occasion

fn title_and_occasion(body: &[Item], found: &mut Structure, fallback_title: &str) -> Vec<Item> {
    // The title is the first text line, after any date lines (which stay in the text).
    let first = body.iter().position(|item| match item {
        Item::Text(_, text) => !is_date(text),
        _ => false,
    });
    if let Some(at) = first
        && let Item::Text(_, text) = &body[at]
        && looks_like_title(text)
    {
        found.title = text.clone();
        found.title_source = "标题行";
        let mut rest = body[..at].to_vec();
        let mut after = &body[at + 1..];
        // A `——…` subtitle right after the title names the occasion.
        if let Some(next) = after.iter().position(|item| !matches!(item, Item::Blank))
            && let Item::Text(_, text) = &after[next]
            && let Some(subtitle) = text.strip_prefix(['—', '-'])
        {
            found.occasion = subtitle.trim_start_matches(['—', '-', ' ']).to_string();
            after = &after[next + 1..];
        }
        rest.push(Item::Blank);
        rest.extend_from_slice(after);
        return rest;
    }
    // No title line: the `《…》` name in the page's debris (收藏《…》), or the file's name.
    let named = found.dropped.iter().find_map(|d| {
        let start = d.text.find('《')? + '《'.len_utf8();
        let end = start + d.text[start..].find('》')?;
        let name = d.text[start..end].trim();
        (!name.is_empty()).then(|| name.to_string())
    });
    match named {
        Some(name) => {
            found.title = name;
            found.title_source = "网页中的《…》";
        }
        None => {
            found.title = fallback_title.to_string();
            found.title_source = "文件名";
        }
    }
    body.to_vec()
}

/// A line that is only a date or a time (`2024年3月5日`, `2024-03-05 10:00`).
fn is_date(text: &str) -> bool {
    text.bytes().filter(u8::is_ascii_digit).count() >= 4
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " 年月日-:/.：（）()".contains(c))
}

fn looks_like_title(text: &str) -> bool {
    let last = text.chars().next_back();
    if is_date(text) {
        return false;
    }
    text.chars().count() <= LONGEST_HEADING
        && line_marker(text).is_none()
        && !last
            .is_some_and(|c| is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '，' | ','))
}

/// `在全市…培训重点班上的发言` → `全市…培训重点班`; `习近平在中央经济工作会议上的讲话`
/// → `中央经济工作会议`.
fn occasion_in_title(title: &str) -> Option<String> {
    let inner = &title[title.find('在')? + '在'.len_utf8()..];
    let end = inner.rfind("上的")?;
    let occasion = inner[..end].trim();
    (!occasion.is_empty()).then(|| occasion.to_string())
}

// ---------------------------------------------------------------------------------------
// 4. Levels

/// The marker kinds of the parts and of the points, from the markers present.
fn levels(entries: &[String], body: &[Item]) -> Option<(Kind, Option<Kind>)> {
    let mut counts = [0usize; 6];
    let lines = entries
        .iter()
        .map(String::as_str)
        .chain(body.iter().filter_map(|item| match item {
            Item::Text(_, text) => Some(text.as_str()),
            _ => None,
        }));
    for line in lines {
        if let Some(marker) = line_marker(line)
            && marker.kind != Kind::Run
        {
            counts[marker.kind as usize] += 1;
        }
        counts[Kind::Run as usize] += run_markers(line).len();
    }
    let mut present = Kind::ALL.into_iter().filter(|&kind| {
        let needed = match kind {
            Kind::Arabic | Kind::Run => 2,
            _ => 1,
        };
        counts[kind as usize] >= needed
    });
    let parts = present.next()?;
    Some((parts, present.next()))
}

// ---------------------------------------------------------------------------------------
// 5. Skeleton, events and placement

/// One entry of the outline block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Skeleton {
    part: u32,
    point: u32,
    title: String,
    phrase: String,
}

fn skeleton(entries: &[String], parts: Kind, points: Option<Kind>) -> Vec<Skeleton> {
    let mut skeleton = Vec::new();
    let mut part = 0;
    for entry in entries {
        let Some(marker) = line_marker(entry) else {
            continue;
        };
        let (title, _) = title_of(marker.rest);
        let title = if title.is_empty() {
            marker.label.to_string()
        } else {
            title
        };
        if marker.kind == parts && marker.number > part {
            part = marker.number;
            let (title, phrase) = principle_and_phrase(&title);
            skeleton.push(Skeleton {
                part,
                point: 0,
                title,
                phrase,
            });
        } else if Some(marker.kind) == points && part > 0 {
            skeleton.push(Skeleton {
                part,
                point: marker.number,
                title,
                phrase: String::new(),
            });
        }
    }
    skeleton
}

/// The title in a marker's text and the body text after it: the first sentence, cut at
/// its first comma when it is long.
fn title_of(rest: &str) -> (String, &str) {
    let (sentence, after) = match rest.char_indices().find(|&(_, c)| is_terminator(c)) {
        Some((at, c)) => (&rest[..at], &rest[at + c.len_utf8()..]),
        None if rest.chars().count() <= LONGEST_HEADING => (rest, ""),
        None => ("", rest),
    };
    let sentence = sentence.trim();
    if sentence.chars().count() > LONGEST_TITLE
        && let Some((at, c)) = sentence
            .char_indices()
            .find(|&(_, c)| matches!(c, '，' | ',' | '；' | ';' | '：' | ':'))
        && sentence[..at].chars().count() >= 4
    {
        // The rest of the sentence stays in the text, verbatim from after the comma.
        let lead = rest.len() - rest.trim_start().len();
        let body = &rest[lead + at + c.len_utf8()..];
        return (sentence[..at].trim().to_string(), body.trim_start());
    }
    (
        sentence
            .trim_end_matches(|c: char| {
                is_punctuation(c) && !matches!(c, '）' | ')' | '》' | '”' | '’')
            })
            .to_string(),
        after.trim_start(),
    )
}

/// Splits a part's title into its principle and second phrase at a single comma or
/// space (`铸牢政治之魂,把准前行方向`).
fn principle_and_phrase(title: &str) -> (String, String) {
    let separators = |c: char| matches!(c, '，' | ',' | ' ' | '；' | ';');
    let pieces: Vec<&str> = title.split(separators).collect();
    if let [principle, phrase] = pieces.as_slice() {
        let length = |s: &str| s.chars().count();
        if (2..=16).contains(&length(principle)) && (2..=16).contains(&length(phrase)) {
            return (principle.to_string(), phrase.to_string());
        }
    }
    (title.to_string(), String::new())
}

/// What the body says, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Part {
        number: u32,
        title: String,
        phrase: String,
        line: usize,
    },
    Point {
        number: u32,
        title: String,
        line: usize,
    },
    Paragraph(String),
    Gap,
}

/// Builds paragraphs and headings from the body's lines.
struct Events {
    events: Vec<Event>,
    paragraph: String,
    parts: Kind,
    points: Option<Kind>,
    last_part: u32,
    last_point: u32,
}

fn events(body: &[Item], parts: Kind, points: Option<Kind>) -> Vec<Event> {
    let mut state = Events {
        events: Vec::new(),
        paragraph: String::new(),
        parts,
        points,
        last_part: 0,
        last_point: 0,
    };
    let mut awaiting_title = false;
    for item in body {
        match item {
            Item::Blank => state.end_paragraph(),
            Item::Cut => {
                state.end_paragraph();
                awaiting_title = false;
                if state.events.last() != Some(&Event::Gap) {
                    state.events.push(Event::Gap);
                }
            }
            Item::Text(line, text) => {
                if awaiting_title {
                    awaiting_title = false;
                    if looks_like_title(text) && line_marker(text).is_none() {
                        state.retitle(text);
                        continue;
                    }
                }
                awaiting_title = state.line(*line, text);
                // A short line without a full stop is a name, a salutation or a heading
                // of its own, not the first half of a sentence broken by the page.
                if text.chars().next_back().is_some_and(ends_paragraph_char)
                    || (text.chars().count() <= SHORT_LINE
                        && !text
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_ascii_alphanumeric()))
                    || ends_paragraph(&state.paragraph)
                {
                    state.end_paragraph();
                }
            }
        }
    }
    state.end_paragraph();
    state.events
}

fn ends_paragraph_char(c: char) -> bool {
    matches!(c, '）' | ')' | '》' | '】')
}

/// Whether a paragraph's text ends a paragraph at a line break (rather than being a
/// line broken mid-sentence).
fn ends_paragraph(text: &str) -> bool {
    let mut chars = text.chars().rev();
    match chars.next() {
        None => false,
        Some('”' | '’' | '」' | '』') => chars
            .next()
            .is_some_and(|c| is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '…')),
        Some(c) => is_terminator(c) || matches!(c, '：' | ':' | '；' | ';' | '…'),
    }
}

impl Events {
    fn end_paragraph(&mut self) {
        let text = std::mem::take(&mut self.paragraph);
        // A paragraph cannot start with what the data file reads as markup; those
        // characters (a hashtag's #, a stray [gap]) are not the author's sentence.
        let mut text = text.trim();
        while let Some(rest) = ["#", "＃", "<!--", "[gap]", "-"]
            .iter()
            .find_map(|markup| text.strip_prefix(markup))
        {
            text = rest.trim_start();
        }
        if !text.is_empty() {
            self.events.push(Event::Paragraph(text.to_string()));
        }
    }

    fn push_text(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        // Joined without a space, except between two words of a Latin-script language.
        if self
            .paragraph
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            self.paragraph.push(' ');
        }
        self.paragraph.push_str(text);
    }

    /// Gives the last heading a title from the line after it (`第一章` / `总则`).
    fn retitle(&mut self, text: &str) {
        match self.events.last_mut() {
            Some(Event::Part { title, phrase, .. }) => {
                (*title, *phrase) = principle_and_phrase(text);
            }
            Some(Event::Point { title, .. }) => *title = text.to_string(),
            _ => {}
        }
    }

    /// Handles one line; returns whether its heading still needs a title.
    fn line(&mut self, line: usize, text: &str) -> bool {
        if let Some(marker) = line_marker(text)
            && marker.kind != Kind::Run
        {
            if marker.kind == self.parts && marker.number > self.last_part {
                self.end_paragraph();
                let (title, body) = title_of(marker.rest);
                let (title, phrase) = principle_and_phrase(&title);
                self.last_part = marker.number;
                self.last_point = 0;
                let untitled = title.is_empty();
                self.events.push(Event::Part {
                    number: marker.number,
                    title: if untitled {
                        marker.label.to_string()
                    } else {
                        title
                    },
                    phrase,
                    line,
                });
                self.text(line, body);
                return untitled && body.is_empty();
            }
            if Some(marker.kind) == self.points
                && self.last_part > 0
                && marker.number > self.last_point
            {
                self.end_paragraph();
                let (title, body) = title_of(marker.rest);
                self.last_point = marker.number;
                let untitled = title.is_empty();
                self.events.push(Event::Point {
                    number: marker.number,
                    title: if untitled {
                        marker.label.to_string()
                    } else {
                        title
                    },
                    line,
                });
                self.text(line, body);
                return untitled && body.is_empty();
            }
        }
        self.text(line, text);
        false
    }

    /// Text, split at `一是…` runs when runs are a level.
    fn text(&mut self, line: usize, text: &str) {
        let runs_are_parts = self.parts == Kind::Run;
        if !runs_are_parts && self.points != Some(Kind::Run) {
            self.push_text(text);
            return;
        }
        let mut from = 0;
        for (start, number, body) in run_markers(text) {
            if start < from {
                continue;
            }
            let last = if runs_are_parts {
                self.last_part
            } else {
                self.last_point
            };
            if number <= last || (!runs_are_parts && self.last_part == 0) {
                continue;
            }
            self.push_text(&text[from..start]);
            self.end_paragraph();
            let (title, rest) = title_of(&text[body..]);
            if title.is_empty() {
                from = start;
                continue;
            }
            if runs_are_parts {
                self.last_part = number;
                self.last_point = 0;
                self.events.push(Event::Part {
                    number,
                    title,
                    phrase: String::new(),
                    line,
                });
            } else {
                self.last_point = number;
                self.events.push(Event::Point {
                    number,
                    title,
                    line,
                });
            }
            from = text.len() - rest.len();
        }
        self.push_text(&text[from..]);
    }
}

/// A section being assembled, numbered as in the source.
#[derive(Debug, Clone)]
struct Raw {
    part: u32,
    point: u32,
    title: String,
    phrase: String,
    blocks: Vec<Block>,
    line: usize,
}

/// Places the events into sections, following the outline's skeleton when there is one.
fn place(events: Vec<Event>, skeleton: &[Skeleton]) -> Vec<Raw> {
    let mut raws = vec![Raw {
        part: 0,
        point: 0,
        title: "开场".to_string(),
        phrase: String::new(),
        blocks: Vec::new(),
        line: 0,
    }];
    let mut next = 0; // skeleton entries before `next` are placed
    let mut part = 0;
    for event in events {
        let (number, point, title, phrase, line) = match event {
            Event::Paragraph(text) => {
                raws.last_mut()
                    .expect("the opening")
                    .blocks
                    .push(Block::Paragraph(text));
                continue;
            }
            Event::Gap => {
                let blocks = &mut raws.last_mut().expect("the opening").blocks;
                if blocks.last() != Some(&Block::Gap) {
                    blocks.push(Block::Gap);
                }
                continue;
            }
            Event::Part {
                number,
                title,
                phrase,
                line,
            } => (number, 0, title, phrase, line),
            Event::Point {
                number,
                title,
                line,
            } => (part, number, title, String::new(), line),
        };
        let rest = skeleton.get(next..).unwrap_or_default();
        let target = if point == 0 {
            rest.iter().position(|s| s.point == 0 && s.part == number)
        } else {
            let wanted = plain(&title);
            rest.iter()
                .position(|s| s.point > 0 && titles_match(&wanted, &plain(&s.title)))
                .or_else(|| rest.iter().position(|s| s.part == part && s.point == point))
        };
        let Some(target) = target.map(|t| t + next) else {
            if point == 0 {
                part = number;
            }
            // A point the outline lacks comes after the outline's points numbered
            // before it (`（三）` after the listed `（二）`).
            while let Some(entry) = skeleton.get(next)
                && point > 0
                && entry.part == part
                && entry.point > 0
                && entry.point < point
            {
                raws.push(Raw::title_only(entry));
                next += 1;
            }
            raws.push(Raw {
                part: if point == 0 { number } else { part },
                point,
                title,
                phrase,
                blocks: Vec::new(),
                line,
            });
            continue;
        };
        // Text after a gap, just before a heading further on, belongs to the section
        // before that heading: the gap swallowed what lay between.
        let mut orphans = Vec::new();
        if target > next {
            let blocks = &mut raws.last_mut().expect("the opening").blocks;
            if let Some(gap) = blocks.iter().rposition(|b| *b == Block::Gap)
                && gap + 1 < blocks.len()
            {
                orphans = blocks.split_off(gap + 1);
            }
        }
        for entry in &skeleton[next..target] {
            raws.push(Raw::title_only(entry));
        }
        if !orphans.is_empty() {
            let before = raws.last_mut().expect("a skipped entry");
            before.blocks.push(Block::Gap);
            before.blocks.extend(orphans);
        }
        let entry = &skeleton[target];
        // The outline's split (`扛起发展之责 | 激活基层动能`) serves a body heading that
        // has the same words without the separator.
        let same_unsplit = point == 0
            && phrase.is_empty()
            && !entry.phrase.is_empty()
            && plain(&title) == plain(&format!("{}{}", entry.title, entry.phrase));
        let (title, phrase) = if same_unsplit || title.is_empty() {
            (entry.title.clone(), entry.phrase.clone())
        } else {
            (title, phrase)
        };
        part = entry.part;
        raws.push(Raw {
            part: entry.part,
            point: entry.point,
            title,
            phrase,
            blocks: Vec::new(),
            line,
        });
        next = target + 1;
    }
    for entry in skeleton.get(next..).unwrap_or_default() {
        raws.push(Raw::title_only(entry));
    }
    raws
}

impl Raw {
    fn title_only(entry: &Skeleton) -> Self {
        Self {
            part: entry.part,
            point: entry.point,
            title: entry.title.clone(),
            phrase: entry.phrase.clone(),
            blocks: Vec::new(),
            line: 0,
        }
    }
}

/// A title without spaces and punctuation, for comparing.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !is_punctuation(*c))
        .collect()
}

fn titles_match(a: &str, b: &str) -> bool {
    !a.is_empty()
        && !b.is_empty()
        && (a == b
            || (a.chars().count() >= 4
                && b.chars().count() >= 4
                && (a.starts_with(b) || b.starts_with(a))))
}

/// Numbers the sections, splits principles in parallel with their siblings, and marks
/// each section's completeness.
fn finish(mut raws: Vec<Raw>, warnings: &mut Vec<String>) -> Result<Vec<Section>, ImportError> {
    parallel_phrases(&mut raws);
    let mut sections = Vec::new();
    let mut part = 0u8;
    let mut point = 0u8;
    let mut expected_part = 1;
    for raw in raws {
        let id = if raw.part == 0 {
            if !raw.blocks.iter().any(|b| matches!(b, Block::Paragraph(_))) {
                if raw.blocks.contains(&Block::Gap) {
                    warnings.push("开场部分只有截断提示，没有正文，已省略".to_string());
                }
                continue;
            }
            SectionId::OPENING
        } else if raw.point == 0 {
            if raw.part != expected_part {
                warnings.push(format!(
                    "原文第{}部分之前的编号不连续，已按顺序重新编号",
                    chinese_number(raw.part.min(999))
                ));
            }
            expected_part = raw.part + 1;
            if usize::from(part) >= MOST_SECTIONS {
                return Err(too_many(&raw, "部分"));
            }
            part += 1;
            point = 0;
            SectionId::part(part)
        } else {
            if usize::from(point) >= MOST_SECTIONS {
                return Err(too_many(&raw, "要点"));
            }
            point += 1;
            SectionId::point(part, point)
        };
        let mut blocks = raw.blocks;
        while blocks.first() == Some(&Block::Gap) && blocks.len() == 1 {
            blocks.clear();
        }
        let has_text = blocks.iter().any(|b| matches!(b, Block::Paragraph(_)));
        let completeness = match (has_text, blocks.contains(&Block::Gap)) {
            (false, _) => {
                blocks.clear();
                Completeness::TitleOnly
            }
            (true, true) => Completeness::Partial,
            (true, false) => Completeness::Full,
        };
        // `|` separates a principle from its phrase in the data file.
        let title = raw.title.replace('|', "｜");
        let phrase = raw.phrase.replace('|', "｜");
        sections.push(Section {
            id,
            title,
            phrase: if id.is_part() { phrase } else { String::new() },
            completeness,
            blocks,
            line: raw.line,
        });
    }
    Ok(sections)
}

/// The refusal of the 100th part or point: its line and heading.
fn too_many(raw: &Raw, what: &'static str) -> ImportError {
    ImportError::TooManySections {
        line: raw.line,
        heading: raw.title.chars().take(LONGEST_TITLE).collect(),
        what,
    }
}

/// A principle written without a separator (`恪守清廉之本树立良好形象`) is split where its
/// siblings split (`铸牢政治之魂 | 把准前行方向`: six and six characters).
fn parallel_phrases(raws: &mut [Raw]) {
    let shapes: Vec<(usize, usize)> = raws
        .iter()
        .filter(|r| r.part > 0 && r.point == 0 && !r.phrase.is_empty())
        .map(|r| (r.title.chars().count(), r.phrase.chars().count()))
        .collect();
    let Some(&shape) = shapes.first() else {
        return;
    };
    if shapes.len() < 2 || shapes.iter().any(|&s| s != shape) {
        return;
    }
    for raw in raws
        .iter_mut()
        .filter(|r| r.part > 0 && r.point == 0 && r.phrase.is_empty())
    {
        if raw.title.chars().count() == shape.0 + shape.1 && plain(&raw.title) == raw.title {
            let at = raw
                .title
                .char_indices()
                .nth(shape.0)
                .map_or(raw.title.len(), |(at, _)| at);
            raw.phrase = raw.title.split_off(at);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The value of the numeral a heading starts with (for the importer's tests).
    pub(crate) fn read_numeral(s: &str) -> Option<u32> {
        numeral(s).map(|(n, _)| n)
    }

    #[test]
    fn numerals() {
        assert_eq!(numeral("一、"), Some((1, 3)));
        assert_eq!(numeral("十、"), Some((10, 3)));
        assert_eq!(numeral("十二、"), Some((12, 6)));
        assert_eq!(numeral("二十、"), Some((20, 6)));
        assert_eq!(numeral("二十一是"), Some((21, 9)));
        // A year reads as its first digit only; no marker follows it (二〇二四年).
        assert_eq!(numeral("二〇二四年"), Some((2, 3)));
        assert_eq!(numeral("是"), None);
    }

    #[test]
    fn markers() {
        fn kind(line: &str) -> Option<(Kind, u32, &str)> {
            line_marker(line).map(|m| (m.kind, m.number, m.rest))
        }
        assert_eq!(
            kind("一、铸牢政治之魂"),
            Some((Kind::Enumerated, 1, "铸牢政治之魂"))
        );
        assert_eq!(
            kind("（三）加强党建"),
            Some((Kind::Parenthesised, 3, "加强党建"))
        );
        assert_eq!(
            kind("(十二) 加强党建"),
            Some((Kind::Parenthesised, 12, "加强党建"))
        );
        assert_eq!(
            kind("第二部分 工作回顾"),
            Some((Kind::Chapter, 2, "工作回顾"))
        );
        assert_eq!(kind("第三章　总则"), Some((Kind::Chapter, 3, "总则")));
        assert_eq!(kind("第一节 概述"), Some((Kind::Section, 1, "概述")));
        assert_eq!(kind("2．做好工作"), Some((Kind::Arabic, 2, "做好工作")));
        assert_eq!(kind("1.5亿元"), None);
        assert_eq!(kind("2024年"), None);
        assert_eq!(kind("一是以学立身"), Some((Kind::Run, 1, "以学立身")));
        assert_eq!(kind("第二，加强"), Some((Kind::Run, 2, "加强")));
        assert_eq!(kind("一是，"), None);
        assert_eq!(kind("同志们："), None);
    }

    #[test]
    fn runs_start_sentences() {
        let text = "有力量。一是以学立身筑牢忠诚根基。忠诚不是喊出来的；二是不算。";
        let runs = run_markers(text);
        assert_eq!(runs.len(), 1);
        assert_eq!(&text[runs[0].2..runs[0].2 + 3], "以");
    }

    #[test]
    fn occasions() {
        assert_eq!(
            occasion_in_title("习近平在中央经济工作会议上的讲话").as_deref(),
            Some("中央经济工作会议")
        );
        assert_eq!(occasion_in_title("政府工作报告"), None);
    }

    #[test]
    fn titles() {
        assert_eq!(
            title_of("以学立身筑牢忠诚根基。忠诚不是"),
            ("以学立身筑牢忠诚根基".into(), "忠诚不是")
        );
        assert_eq!(
            title_of("因地制宜美环境,良好的人居环境是群众的期盼,也是发展的优势。改善"),
            (
                "因地制宜美环境".into(),
                "良好的人居环境是群众的期盼,也是发展的优势。改善"
            )
        );
        assert_eq!(
            principle_and_phrase("铸牢政治之魂,把准前行方向"),
            ("铸牢政治之魂".into(), "把准前行方向".into())
        );
        assert_eq!(
            principle_and_phrase("坚持党的领导"),
            ("坚持党的领导".into(), String::new())
        );
    }

    #[test]
    fn wrapped_lines_are_joined_and_paragraphs_kept() {
        let found = structure(
            "标题\n同志们：\n今天我们在这里召开全市干部大会，主要任务\n是部署工作。\n\n一、第一部分\n正文一。\nEnglish\nwords here.\n",
            "x",
        )
        .unwrap();
        let opening = &found.sections[0];
        assert_eq!(
            opening.blocks,
            vec![
                Block::Paragraph("同志们：".into()),
                Block::Paragraph("今天我们在这里召开全市干部大会，主要任务是部署工作。".into())
            ]
        );
        assert_eq!(
            found.sections[1].blocks,
            vec![
                Block::Paragraph("正文一。".into()),
                Block::Paragraph("English words here.".into())
            ]
        );
    }
}
