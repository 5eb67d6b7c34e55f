//! Title cloze: a two-character word of a title blanked, with words of the same kind
//! from the other titles as distractors.

use super::*;

pub(super) fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Where a title word sits, which decides which words may stand in for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlotKind {
    /// The final two characters of a point title or a second phrase (根基, 底线, 方向).
    Head,
    /// The two characters before the head noun, used elsewhere in the speech (忠诚, 群众).
    Inner,
    /// A part's two characters before 之 (政治, 为民, 发展).
    Part,
}

/// Which line of a heading a title word is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    Title,
    Phrase,
}

/// A blankable two-character word in a title.
pub(super) struct TitleSlot<'a> {
    pub(super) section: &'a Section,
    pub(super) line: Line,
    pub(super) chars: Vec<char>,
    pub(super) start: usize,
    pub(super) word: String,
    pub(super) kind: SlotKind,
}

impl TitleSlot<'_> {
    pub(super) fn filled(&self, word: &str) -> String {
        let before: String = self.chars[..self.start].iter().collect();
        let after: String = self.chars[self.start + 2..].iter().collect();
        format!("{before}{word}{after}")
    }
}

/// Every title and second phrase of the parts and points (not the opening's "开场").
pub(super) fn true_titles(document: &Document) -> HashSet<&str> {
    document
        .sections
        .iter()
        .filter(|s| s.id.part > 0)
        .flat_map(|s| [s.title.as_str(), s.phrase.as_str()])
        .filter(|t| !t.is_empty())
        .collect()
}

pub(super) fn title_slots(document: &Document) -> Vec<TitleSlot<'_>> {
    let used_elsewhere = |word: &str, own: &str| {
        document.sections.iter().any(|s| {
            [s.title.as_str(), s.phrase.as_str()]
                .iter()
                .any(|t| *t != own && t.contains(word))
                || s.paragraphs().any(|p| p.contains(word))
        })
    };
    let mut slots = Vec::new();
    for section in document.sections.iter().filter(|s| s.id.part > 0) {
        let lines = [
            (Line::Title, section.title.as_str()),
            (Line::Phrase, section.phrase.as_str()),
        ];
        for (line, text) in lines {
            let chars: Vec<char> = text.chars().collect();
            let n = chars.len();
            if n < 4 {
                continue;
            }
            let mut candidates = Vec::new();
            if section.id.is_part() && line == Line::Title && chars[n - 2] == '之' {
                candidates.push((n - 4, SlotKind::Part));
            } else {
                candidates.push((n - 2, SlotKind::Head));
                if n >= 6 {
                    candidates.push((n - 4, SlotKind::Inner));
                }
            }
            for (start, kind) in candidates {
                let word: String = chars[start..start + 2].iter().collect();
                if !chars[start..start + 2].iter().all(|c| is_ideograph(*c)) {
                    continue;
                }
                if kind == SlotKind::Inner && !used_elsewhere(&word, text) {
                    continue;
                }
                slots.push(TitleSlot {
                    section,
                    line,
                    chars: chars.clone(),
                    start,
                    word,
                    kind,
                });
            }
        }
    }
    slots
}

/// Title cloze: 以学立身筑牢____根基 → 忠诚.
pub(super) fn title_cloze(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
    let titles = true_titles(document);
    let slots = title_slots(document);
    for slot in &slots {
        let original: String = slot.chars.iter().collect();
        let fits = |word: &str| {
            word != slot.word
                && !original.contains(word)
                && !titles.contains(slot.filled(word).as_str())
        };
        let mut same: Vec<String> = Vec::new();
        let mut other: Vec<String> = Vec::new();
        for candidate in &slots {
            let word = &candidate.word;
            if !fits(word) || same.contains(word) || other.contains(word) {
                continue;
            }
            if candidate.kind == slot.kind {
                same.push(word.clone());
            } else {
                other.push(word.clone());
            }
        }
        same.shuffle(rng);
        other.shuffle(rng);
        other.retain(|word| !same.contains(word));
        let distractors: Vec<String> = same.into_iter().chain(other).take(OPTIONS - 1).collect();
        let Some(options) = options(&slot.word, &distractors, rng) else {
            continue;
        };
        let section = slot.section;
        let numeral = chinese_numeral(section.id.part);
        let blanked = slot.filled(BLANK);
        let (text, explanation) = if section.id.is_point() {
            (
                format!(
                    "补全第{numeral}部分第{}点的标题：{blanked}",
                    chinese_numeral(section.id.point)
                ),
                format!("原标题是“{}”。", section.title),
            )
        } else {
            // A part without a second phrase (an imported report's 一、过去一年的工作)
            // reads without a dangling comma.
            let shown = match slot.line {
                Line::Title if section.phrase.is_empty() => blanked,
                Line::Title => format!("{blanked}，{}", section.phrase),
                Line::Phrase => format!("{}，{blanked}", section.title),
            };
            let heading = match section.phrase.is_empty() {
                true => section.title.clone(),
                false => format!("{}，{}", section.title, section.phrase),
            };
            (
                format!("补全第{numeral}部分的标题：{shown}"),
                format!("原标题是“{heading}”。"),
            )
        };
        out.push(question(
            QuestionKind::TitleCloze,
            section.id,
            text,
            options,
            &explanation,
        ));
    }
}
