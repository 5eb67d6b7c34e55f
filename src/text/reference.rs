//! Section references as readers type them: `2.1`, `2-1`, `２．１`, `二.一`,
//! `第二部分第一点`, or a keyword from a title (`为民`, `管好队伍`).

use super::fold::fold_char;
use super::{Document, SectionId};

/// The longest reference we try to interpret; anything longer is refused.
pub const MAX_REFERENCE_CHARS: usize = 40;

/// What a reader asked for, before it is checked against a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionRef {
    /// A numbered reference (`2`, `2.1`, `第二部分第一点`).
    Id(SectionId),
    /// Words to find in the section titles, principles and phrases.
    Keyword(String),
}

/// Why a reference could not even be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// Nothing was given.
    Empty,
    /// More than [`MAX_REFERENCE_CHARS`] characters.
    TooLong,
    /// Digits (and dots) that no section has: `100`, `0.1`, twenty digits.
    NoSuchNumber,
    /// Only punctuation and symbols, nothing to look for: `&`, `.*`, `(`, `\`.
    NothingToFind,
}

/// The outcome of looking a reference up in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Exactly one section matches.
    Found(SectionId),
    /// A keyword matches several sections; the reader should pick one.
    Ambiguous(Vec<SectionId>),
    /// A numbered reference that the document does not have.
    NoSuchSection(SectionId),
    /// A keyword found in no title.
    NoMatch(String),
}

impl SectionRef {
    /// Reads a reference; numbers in any common form become [`SectionRef::Id`],
    /// anything else is a keyword.
    pub fn parse(input: &str) -> Result<Self, RefError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(RefError::Empty);
        }
        if input.chars().count() > MAX_REFERENCE_CHARS {
            return Err(RefError::TooLong);
        }
        let normalized = normalize(input);
        if let Some(id) = parse_numbered(&normalized) {
            return Ok(Self::Id(id));
        }
        let keyword: String = normalized.chars().filter(|c| !c.is_whitespace()).collect();
        if keyword.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && keyword.bytes().any(|b| b.is_ascii_digit())
        {
            return Err(RefError::NoSuchNumber);
        }
        if trim_keyword(&keyword).is_empty() {
            return Err(RefError::NothingToFind);
        }
        Ok(Self::Keyword(keyword))
    }

    /// Looks the reference up in `document`.
    pub fn resolve(&self, document: &Document) -> Resolution {
        match self {
            Self::Id(id) if document.section(*id).is_some() => Resolution::Found(*id),
            Self::Id(id) => Resolution::NoSuchSection(*id),
            Self::Keyword(keyword) => resolve_keyword(document, keyword),
        }
    }
}

/// Maps full-width forms to ASCII and every separator people use between numbers to `.`.
fn normalize(input: &str) -> String {
    input
        .chars()
        .map(|c| match fold_char(c) {
            '.' | '。' | '、' | '-' | '—' | '–' | '·' | '・' | '_' | ',' | '/' => '.',
            c => c,
        })
        .collect()
}

fn parse_numbered(text: &str) -> Option<SectionId> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if matches!(text.as_str(), "开场" | "开场白" | "开头" | "开篇" | "引言") {
        return Some(SectionId::OPENING);
    }
    // 第二部分第一点, 第2部分, 第二方面, 二.一, 2.1
    let text = text.trim_end_matches(['.', '点', '条']);
    let (part, point) = match split_part_point(text) {
        Some((part, point)) => (part, Some(point)),
        None => (text, None),
    };
    let part = strip_part_words(part);
    let part = number(part)?;
    let point = match point {
        Some(point) => number(point.trim_start_matches('第'))?,
        None => 0,
    };
    if part == 0 && point != 0 {
        return None;
    }
    Some(SectionId { part, point })
}

/// Splits `二.一`, `2.1`, `第二部分第一点`, `第二部分一` into the part and point texts.
fn split_part_point(text: &str) -> Option<(&str, &str)> {
    if let Some((part, point)) = text.split_once('.') {
        return Some((part, point));
    }
    for word in ["部分的", "部分", "方面的", "方面"] {
        if let Some((part, point)) = text.split_once(word)
            && !point.is_empty()
        {
            return Some((part, point));
        }
    }
    None
}

fn strip_part_words(text: &str) -> &str {
    let text = text.strip_prefix('第').unwrap_or(text);
    let text = text.strip_suffix("部分").unwrap_or(text);
    text.strip_suffix("方面").unwrap_or(text)
}

/// Parses `0`–`99` written in ASCII digits or Chinese numerals (一, 十二, 二十).
fn number(text: &str) -> Option<u8> {
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().filter(|n| *n < 100);
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|n| n as u8)
    };
    let chars: Vec<char> = text
        .chars()
        .map(|c| {
            if c == '〇' {
                '零'
            } else if c == '两' {
                '二'
            } else {
                c
            }
        })
        .collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        [d] => digit(*d),
        ['十', d] => Some(10 + digit(*d).filter(|n| *n > 0)?),
        [t, '十'] => Some(10 * digit(*t).filter(|n| *n > 1)?),
        [t, '十', d] => Some(10 * digit(*t).filter(|n| *n > 1)? + digit(*d).filter(|n| *n > 0)?),
        _ => None,
    }
}

/// A keyword without the punctuation around it (`“为民”` → `为民`).
fn trim_keyword(keyword: &str) -> &str {
    keyword.trim_matches(|c: char| {
        c.is_ascii_punctuation() || "“”‘’《》「」（）【】？！：；…".contains(c)
    })
}

fn resolve_keyword(document: &Document, keyword: &str) -> Resolution {
    let keyword = trim_keyword(keyword);
    if keyword.is_empty() {
        return Resolution::NoMatch(keyword.to_string());
    }
    let sections_where = |matches: &dyn Fn(&str) -> bool| -> Vec<SectionId> {
        document
            .sections
            .iter()
            .filter(|s| {
                [s.title.as_str(), s.phrase.as_str()]
                    .into_iter()
                    .any(matches)
            })
            .map(|s| s.id)
            .collect()
    };
    let exact = sections_where(&|name| name == keyword);
    if exact.len() == 1 {
        return Resolution::Found(exact[0]);
    }
    let matching = sections_where(&|name| !name.is_empty() && name.contains(keyword));
    match matching.as_slice() {
        [] => Resolution::NoMatch(keyword.to_string()),
        [one] => Resolution::Found(*one),
        _ => Resolution::Ambiguous(matching),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> SectionId {
        text.parse().unwrap()
    }

    #[test]
    fn numbered_forms() {
        let cases = [
            ("2", "2"),
            ("2.1", "2.1"),
            ("2-1", "2.1"),
            ("2．1", "2.1"),
            ("２.１", "2.1"),
            ("２．１", "2.1"),
            ("2、1", "2.1"),
            (" 3 . 2 ", "3.2"),
            ("二", "2"),
            ("二.一", "2.1"),
            ("二、三", "2.3"),
            ("第二部分", "2"),
            ("第2部分", "2"),
            ("第二部分第一点", "2.1"),
            ("第二部分的第三点", "2.3"),
            ("第五方面", "5"),
            ("第五方面第二点", "5.2"),
            ("第三部分第2点", "3.2"),
            ("开场", "0"),
            ("0", "0"),
            ("十二", "12"),
            ("9.9", "9.9"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                SectionRef::parse(input),
                Ok(SectionRef::Id(id(expected))),
                "{input}"
            );
        }
    }

    #[test]
    fn other_input_is_a_keyword_or_an_error() {
        assert_eq!(SectionRef::parse("  "), Err(RefError::Empty));
        assert_eq!(SectionRef::parse(&"网".repeat(41)), Err(RefError::TooLong));
        assert_eq!(
            SectionRef::parse("为民"),
            Ok(SectionRef::Keyword("为民".into()))
        );
        assert_eq!(
            SectionRef::parse("abc"),
            Ok(SectionRef::Keyword("abc".into()))
        );
        for number in ["0.1", "100", "12345678901234567890", "１００"] {
            assert_eq!(
                SectionRef::parse(number),
                Err(RefError::NoSuchNumber),
                "{number}"
            );
        }
        for symbols in ["&", ".*", "(", "[", "\\", "“”", "？！", "<>"] {
            assert_eq!(
                SectionRef::parse(symbols),
                Err(RefError::NothingToFind),
                "{symbols}"
            );
        }
        assert_eq!(
            SectionRef::parse("🙂"),
            Ok(SectionRef::Keyword("🙂".into()))
        );
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(number("一"), Some(1));
        assert_eq!(number("十"), Some(10));
        assert_eq!(number("十一"), Some(11));
        assert_eq!(number("二十"), Some(20));
        assert_eq!(number("二十三"), Some(23));
        assert_eq!(number("两"), Some(2));
        assert_eq!(number("一十"), None);
        assert_eq!(number("十零"), None);
        assert_eq!(number("100"), None);
        assert_eq!(number("四五"), None);
    }
}

#[cfg(test)]
mod resolution_tests {
    use super::*;
    use crate::text::parse_document;

    fn speech() -> Document {
        parse_document("xzsj.md", include_str!("../../data/texts/xzsj.md")).unwrap()
    }

    fn resolve(input: &str) -> Resolution {
        SectionRef::parse(input).unwrap().resolve(&speech())
    }

    fn found(text: &str) -> Resolution {
        Resolution::Found(text.parse().unwrap())
    }

    #[test]
    fn numbers_resolve_against_the_speech() {
        assert_eq!(resolve("2.1"), found("2.1"));
        assert_eq!(resolve("第五部分第三点"), found("5.3"));
        assert_eq!(resolve("开场"), found("0"));
        assert_eq!(
            resolve("9.9"),
            Resolution::NoSuchSection("9.9".parse().unwrap())
        );
        assert_eq!(
            resolve("6"),
            Resolution::NoSuchSection("6".parse().unwrap())
        );
        assert_eq!(
            resolve("1.4"),
            Resolution::NoSuchSection("1.4".parse().unwrap())
        );
    }

    #[test]
    fn keywords_resolve_to_titles_principles_and_phrases() {
        assert_eq!(resolve("为民"), found("2"));
        assert_eq!(resolve("清廉之本"), found("5"));
        assert_eq!(resolve("管好队伍"), found("4.2"));
        assert_eq!(resolve("站稳群众立场"), found("2"));
        assert_eq!(resolve("“用真心化解急难愁盼”"), found("2.2"));
        assert_eq!(
            resolve("根基"),
            Resolution::Ambiguous(vec!["1.1".parse().unwrap(), "4.3".parse().unwrap()])
        );
        assert_eq!(resolve("abc"), Resolution::NoMatch("abc".into()));
        assert_eq!(resolve("🙂"), Resolution::NoMatch("🙂".into()));
    }

    /// A report of `parts` parts with `points` points each, in data-file form.
    fn report(parts: u8, points: u8) -> Document {
        let mut file = String::from("---\nid: big\ntitle: 大报告\n---\n");
        for part in 1..=parts {
            file.push_str(&format!("# {part} 第{part}项任务 [full]\n正文。\n"));
            for point in 1..=points {
                file.push_str(&format!(
                    "## {part}.{point} 要点{part}之{point} [full]\n内容。\n"
                ));
            }
        }
        crate::text::parse_document("big.md", &file).unwrap()
    }

    fn sid(text: &str) -> SectionId {
        text.parse().unwrap()
    }

    #[test]
    fn references_work_for_any_size() {
        let document = report(15, 12);
        let resolve = |text: &str| SectionRef::parse(text).unwrap().resolve(&document);
        for text in [
            "12.3",
            "12-3",
            "１２．３",
            "十二.三",
            "十二、三",
            "第十二部分第三点",
            "第12部分第3点",
            "第十二部分的第三点",
        ] {
            assert_eq!(resolve(text), Resolution::Found(sid("12.3")), "{text}");
        }
        for (text, expected) in [
            ("15.12", "15.12"),
            ("十五.十二", "15.12"),
            ("第十五部分第十二点", "15.12"),
            ("十一", "11"),
            ("第十部分", "10"),
            ("10.10", "10.10"),
        ] {
            assert_eq!(resolve(text), Resolution::Found(sid(expected)), "{text}");
        }
        assert_eq!(resolve("16.1"), Resolution::NoSuchSection(sid("16.1")));
        assert_eq!(
            resolve("十二.十三"),
            Resolution::NoSuchSection(sid("12.13"))
        );
    }
}
