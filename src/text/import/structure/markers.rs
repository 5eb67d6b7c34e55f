//! Section markers (`第一部分`, `一、`, `（一）`, `1.`, runs `一是…`) and numerals, read by
//! every stage.

use super::*;

/// The kinds of section markers, from the highest level to the lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
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
    pub(super) const ALL: [Self; 6] = [
        Self::Chapter,
        Self::Section,
        Self::Enumerated,
        Self::Parenthesised,
        Self::Arabic,
        Self::Run,
    ];

    pub(super) fn name(self) -> &'static str {
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
pub(super) struct Marker<'a> {
    pub(super) kind: Kind,
    pub(super) number: u32,
    /// The marker itself (`一、`), a title of last resort.
    pub(super) label: &'a str,
    /// The text after the marker.
    pub(super) rest: &'a str,
}

/// Reads a Chinese numeral from 1 to 999 at the start of `s` (`三`, `十二`, `九十九`,
/// `一百`, `一百零一`, `一百二十三`): its value and length in bytes. A heading past
/// 九十九、 is still a heading, so that a list too long to be a text's structure is
/// refused naming it instead of folded into the 99th part's body.
pub(super) fn numeral(s: &str) -> Option<(u32, usize)> {
    // Every character read here (digits, 〇, 零, 十, 百) is three bytes in UTF-8.
    pub(super) const WIDTH: usize = 3;
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
    pub(super) const DIGITS: [&str; 10] =
        ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
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
pub(super) fn line_marker(line: &str) -> Option<Marker<'_>> {
    let marker = |kind, number, end: usize, rest: &'static [char]| {
        Some(Marker {
            kind,
            number,
            label: &line[..end],
            rest: line[end..].trim_start_matches(rest),
        })
    };
    pub(super) const AFTER: &[char] = &[' ', '\u{3000}', '、', '：', ':', '.', '．', '，', ','];
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

pub(super) fn is_punctuation(c: char) -> bool {
    "。，、；：？！,.;:?!…—-）)》”’".contains(c)
}

/// `一是…`/`第一，…` runs at sentence starts inside `text` (the line start included):
/// `(byte where the marker starts, its number, byte where its text starts)`.
pub(super) fn run_markers(text: &str) -> Vec<(usize, u32, usize)> {
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
