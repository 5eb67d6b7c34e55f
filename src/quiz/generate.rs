//! Questions generated from the [`Document`] itself, so the bank stays true to the text
//! and grows with it. Only text present in the document is used: a title-only section
//! yields title-based questions only, and sentences cut by a gap in the source are skipped.
//!
//! The kinds:
//! - **Which principle?** a point's title → the principles ([`QuestionKind::WhichPrinciple`]).
//! - **Order:** "全文共 5 个部分，第三部分是?" → the principles ([`QuestionKind::Order`]);
//!   the count is the text's own, so a report of 3 parts says 3.
//! - **Pairs:** a principle ↔ its second phrase, both directions.
//! - **Title cloze:** a two-character word of a title blanked (以学立身筑牢____根基);
//!   the distractors are words of the same kind from the other titles, and none of
//!   them may turn the blanked title into a true title.
//! - **Metaphor cloze:** a phrase the speech puts in “ ” quotes (“最后一公里”, “领头雁”,
//!   “服务员” …) blanked in its own sentence; the distractors are other quoted phrases,
//!   never one that also appears in that sentence or after the same lead-in elsewhere
//!   (“要当好” is said of 服务员, 粘合剂, 调度员 and 班长), preferring phrases of the
//!   same sort (roles such as 调度员, lists such as 清脏、治乱、增绿) and similar length.
//!
//! Why no word segmentation: jieba-rs is not among our dependencies because its
//! dictionary costs about 20 MB of memory. It is not needed either: the speech's own
//! “ ” quotes mark its key phrases exactly, and its titles are built from two-character
//! words (verb + object: 筑牢 忠诚 根基), so quotes and title positions give clean blanks.
//! A title's final two characters are its head noun (根基, 产业, 底线); a principle's
//! two characters before 之 are its key word (政治之魂); and the two characters before
//! the head noun count as a word when the speech uses them elsewhere too (忠诚, 民情),
//! which is a small, honest stand-in for a dictionary.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;

use super::{BLANK, Question, QuestionKind, cite};
use crate::limits::utf16_len;
use crate::limits::{POLL_EXPLANATION, POLL_OPTION, POLL_OPTIONS_MAX, POLL_QUESTION, shorten};
use crate::text::{Block, Document, Section, SectionId, chinese_numeral};

/// What metaphor-cloze questions start with, before the blanked sentence.
pub const METAPHOR_PROMPT: &str = "根据原文填空：";
/// What "which principle?" questions end with, after the quoted point title.
pub const WHICH_PRINCIPLE_SUFFIX: &str = "是全文哪个部分的要点？";

/// How many options generated questions have where the text offers enough.
const OPTIONS: usize = 4;
/// The longest quoted phrase taken as a blank, in characters.
const MAX_QUOTE_CHARS: usize = 20;
/// How many characters before a quote group make its lead-in (当好“服务员”, 作为“班长”).
/// Two, not more: 大家作为“领头雁” and 书记作为“操盘手” must share the lead-in 作为.
const LEAD_CHARS: usize = 2;
/// Last characters that mark a quoted phrase as a role (调度员, 操盘手, 领头雁, 核心引擎).
const ROLE_ENDINGS: &str = "员手雁官军剂机擎长者";

/// Generates every question the document supports. Deterministic for a given `rng` state;
/// options are shuffled and distractors drawn with it.
pub fn generate(document: &Document, rng: &mut impl Rng) -> Vec<Question> {
    let mut questions = Vec::new();
    principle_questions(document, rng, &mut questions);
    title_cloze(document, rng, &mut questions);
    metaphor_cloze(document, rng, &mut questions);
    // The builders keep every limit by construction; this only guards against an odd
    // document (a title longer than a poll option, say) producing an unusable question.
    questions.retain(|question| question.check().is_ok());
    questions
}

/// Puts `correct` among `others` (deduplicated, without `correct`, at most
/// [`POLL_OPTIONS_MAX`] in all), shuffles, and returns the options with the correct index.
fn options(correct: &str, others: &[String], rng: &mut impl Rng) -> Option<(Vec<String>, usize)> {
    let mut options = vec![correct.to_string()];
    for other in others {
        if options.len() == POLL_OPTIONS_MAX {
            break;
        }
        if !options.contains(other) {
            options.push(other.clone());
        }
    }
    if options.len() < 2 {
        return None;
    }
    options.shuffle(rng);
    let index = options.iter().position(|option| option == correct)?;
    Some((options, index))
}

/// A generated question. Options and the explanation that would pass Telegram's limits
/// (a long title among the options, a long heading quoted) are shortened with `…` at a
/// character boundary, the explanation keeping its citation; a question text that is
/// too long is left as it is, and [`generate`] then drops the question: a question cut
/// short could no longer be answered.
fn question(
    kind: QuestionKind,
    section: SectionId,
    text: String,
    (options, correct): (Vec<String>, usize),
    explanation: &str,
) -> Question {
    let citation = cite("", section);
    let room = POLL_EXPLANATION.saturating_sub(utf16_len(&citation) + 1);
    let explanation = explanation.replace('\n', " ");
    Question {
        kind,
        section,
        principle: section.part,
        text,
        options: options
            .iter()
            .map(|option| shorten(option, POLL_OPTION))
            .collect(),
        correct,
        explanation: cite(&shorten(&explanation, room), section),
    }
}

/// Which principle, order, and pairs: all from the part headings and point titles.
fn principle_questions(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
    fn title(section: &Section) -> &str {
        &section.title
    }
    fn phrase(section: &Section) -> &str {
        &section.phrase
    }
    let parts: Vec<&Section> = document.parts().collect();
    let unique = |pick: fn(&Section) -> &str, value: &str| {
        parts.iter().filter(|p| pick(p) == value).count() == 1
    };
    let others = |pick: fn(&Section) -> &str, correct: &str, rng: &mut _| {
        let mut others: Vec<String> = parts
            .iter()
            .map(|p| pick(p).to_string())
            .filter(|o| o != correct && !o.is_empty())
            .collect();
        others.shuffle(rng);
        others
    };

    for part in &parts {
        let numeral = chinese_numeral(part.id.part);
        if !unique(title, &part.title) {
            continue;
        }
        for point in document.points(part.id.part) {
            let elsewhere = document
                .sections
                .iter()
                .filter(|s| s.id.is_point() && s.title == point.title)
                .count();
            if elsewhere != 1 {
                continue;
            }
            let others = others(title, &part.title, rng);
            let Some(options) = options(&part.title, &others, rng) else {
                continue;
            };
            let explanation = format!(
                "“{}”是第{numeral}部分“{}”的第{}点。",
                point.title,
                part.title,
                chinese_numeral(point.id.point)
            );
            let text = format!("“{}”{WHICH_PRINCIPLE_SUFFIX}", point.title);
            out.push(question(
                QuestionKind::WhichPrinciple,
                point.id,
                text,
                options,
                &explanation,
            ));
        }
        let heading = if part.phrase.is_empty() {
            part.title.clone()
        } else {
            format!("{}，{}", part.title, part.phrase)
        };
        let others_titles = others(title, &part.title, rng);
        if let Some(options) = options(&part.title, &others_titles, rng) {
            let text = format!("全文共{}个部分，第{numeral}部分是？", parts.len());
            let explanation = format!("全文的第{numeral}部分是“{heading}”。");
            out.push(question(
                QuestionKind::Order,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
        if part.phrase.is_empty() || !unique(phrase, &part.phrase) {
            continue;
        }
        let explanation = format!("第{numeral}部分的标题是“{heading}”。");
        let others_phrases = others(phrase, &part.phrase, rng);
        if let Some(options) = options(&part.phrase, &others_phrases, rng) {
            let text = format!("“{}”的下一句是？", part.title);
            out.push(question(
                QuestionKind::PairPhrase,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
        let others_titles = others(title, &part.title, rng);
        if let Some(options) = options(&part.title, &others_titles, rng) {
            let text = format!("“{}”的上一句是？", part.phrase);
            out.push(question(
                QuestionKind::PairPrinciple,
                part.id,
                text,
                options,
                &explanation,
            ));
        }
    }
}

fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Where a title word sits, which decides which words may stand in for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotKind {
    /// The final two characters of a point title or a second phrase (根基, 底线, 方向).
    Head,
    /// The two characters before the head noun, used elsewhere in the speech (忠诚, 群众).
    Inner,
    /// A principle's two characters before 之 (政治, 为民, 发展).
    Principle,
}

/// Which line of a heading a title word is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Title,
    Phrase,
}

/// A blankable two-character word in a title.
struct TitleSlot<'a> {
    section: &'a Section,
    line: Line,
    chars: Vec<char>,
    start: usize,
    word: String,
    kind: SlotKind,
}

impl TitleSlot<'_> {
    fn filled(&self, word: &str) -> String {
        let before: String = self.chars[..self.start].iter().collect();
        let after: String = self.chars[self.start + 2..].iter().collect();
        format!("{before}{word}{after}")
    }
}

/// Every title and second phrase of the parts and points (not the opening's "开场").
fn true_titles(document: &Document) -> HashSet<&str> {
    document
        .sections
        .iter()
        .filter(|s| s.id.part > 0)
        .flat_map(|s| [s.title.as_str(), s.phrase.as_str()])
        .filter(|t| !t.is_empty())
        .collect()
}

fn title_slots(document: &Document) -> Vec<TitleSlot<'_>> {
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
                candidates.push((n - 4, SlotKind::Principle));
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
fn title_cloze(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
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

/// A phrase in “ ” quotes within one sentence.
struct Quoted<'a> {
    section: &'a Section,
    sentence: &'a str,
    /// Byte range of the phrase inside `sentence`, without the quotes.
    range: std::ops::Range<usize>,
    /// Whether the sentence is whole (not cut by a gap), so it may be blanked.
    usable: bool,
}

impl<'a> Quoted<'a> {
    fn phrase(&self) -> &'a str {
        &self.sentence[self.range.clone()]
    }

    /// The sentence with this phrase replaced.
    fn filled(&self, word: &str) -> String {
        format!(
            "{}{word}{}",
            &self.sentence[..self.range.start],
            &self.sentence[self.range.end..]
        )
    }

    /// Whether this sentence, with the phrase quoted at `place` in the blank, is the text
    /// around `place`: whether the text says it with that phrase too.
    ///
    /// The same as searching every paragraph for `self.filled(phrase)`: the blank lies
    /// between the sentence's own “ and ”, and a quoted phrase holds no quote mark, so
    /// wherever the filled sentence stands, its phrase is quoted there.
    fn is_said_at(&self, place: &Quoting) -> bool {
        let (before, after) = (
            &self.sentence[..self.range.start],
            &self.sentence[self.range.end..],
        );
        place.paragraph[..place.range.start].ends_with(before)
            && place.paragraph[place.range.end..].starts_with(after)
    }

    /// Up to [`LEAD_CHARS`] ideographs before the quote group this phrase is in (for
    /// 领头雁 in 作为“一线指挥官”“领头雁”, that is 作为).
    fn lead(&self) -> String {
        let mut before = &self.sentence[..self.range.start - '“'.len_utf8()];
        while let Some(rest) = before.strip_suffix('”') {
            match rest.rfind('“') {
                Some(open) => before = &rest[..open],
                None => break,
            }
        }
        let mut lead: Vec<char> = before
            .chars()
            .rev()
            .take_while(|c| is_ideograph(*c))
            .take(LEAD_CHARS)
            .collect();
        lead.reverse();
        lead.into_iter().collect()
    }
}

/// A place where a paragraph quotes a phrase: “phrase”, with no quote mark inside.
struct Quoting<'a> {
    paragraph: &'a str,
    /// Byte range of the phrase inside `paragraph`, without the quotes.
    range: std::ops::Range<usize>,
}

/// Every place the paragraphs quote a phrase, by phrase: one pass over the text.
fn quotings<'a>(bodies: &[&'a str]) -> HashMap<&'a str, Vec<Quoting<'a>>> {
    let mut places: HashMap<&str, Vec<Quoting>> = HashMap::new();
    for paragraph in bodies {
        for (open, _) in paragraph.match_indices('“') {
            let start = open + '“'.len_utf8();
            let Some(mark) = paragraph[start..].find(['“', '”']) else {
                break;
            };
            let end = start + mark;
            if paragraph[end..].starts_with('”') {
                let place = Quoting {
                    paragraph,
                    range: start..end,
                };
                places
                    .entry(&paragraph[start..end])
                    .or_default()
                    .push(place);
            }
        }
    }
    places
}

/// Splits a paragraph into sentences ending in 。！？ (with any closing quote after the
/// mark), each with whether it is terminated; a final unterminated piece was cut short.
fn sentences(paragraph: &str) -> Vec<(&str, bool)> {
    // A whitespace-only tail is no sentence.
    crate::text::sentences::split(paragraph, crate::text::sentences::Rule::QUIZ)
        .into_iter()
        .filter(|(sentence, terminated)| *terminated || !sentence.trim().is_empty())
        .collect()
}

/// Byte ranges of the phrases inside “ ” in a sentence.
fn quote_ranges(sentence: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut rest = 0;
    while let Some(open) = sentence[rest..].find('“') {
        let start = rest + open + '“'.len_utf8();
        let Some(close) = sentence[start..].find('”') else {
            break;
        };
        let end = start + close;
        let inner = &sentence[start..end];
        if !inner.trim().is_empty()
            && !inner.contains('“')
            && inner.chars().count() <= MAX_QUOTE_CHARS
        {
            ranges.push(start..end);
        }
        rest = end + '”'.len_utf8();
    }
    ranges
}

fn quoted_phrases(document: &Document) -> Vec<Quoted<'_>> {
    let mut quoted = Vec::new();
    for section in &document.sections {
        let mut after_gap = false;
        for block in &section.blocks {
            let paragraph = match block {
                Block::Gap => {
                    after_gap = true;
                    continue;
                }
                Block::Paragraph(paragraph) => paragraph,
            };
            for (index, (sentence, terminated)) in sentences(paragraph).into_iter().enumerate() {
                // The first sentence after a gap may have lost its beginning.
                let usable = terminated && !(after_gap && index == 0);
                for range in quote_ranges(sentence) {
                    quoted.push(Quoted {
                        section,
                        sentence,
                        range,
                        usable,
                    });
                }
            }
            after_gap = false;
        }
    }
    quoted
}

/// Every phrase the text quotes right after `lead`, in any quote group (作为“一线指挥官”“领头雁”).
fn framed_phrases<'a>(bodies: &[&'a str], lead: &str) -> HashSet<&'a str> {
    let mut phrases = HashSet::new();
    if lead.is_empty() {
        return phrases;
    }
    for body in bodies {
        for (index, _) in body.match_indices(lead) {
            phrases.extend(quote_group(&body[index + lead.len()..]));
        }
    }
    phrases
}

/// [`framed_phrases`] for each of `leads` (no entry for an empty one), in one pass over
/// the text instead of a search per lead-in: a lead-in frames the quote group right
/// after it, so only the characters before each “ need looking at.
fn framed_by_lead<'a>(
    bodies: &[&'a str],
    leads: HashSet<String>,
) -> HashMap<String, HashSet<&'a str>> {
    // `match_indices` skips an occurrence overlapping the one before (作作作“甲” holds
    // 作作 once, not followed by “), which the pass would not: such lead-ins are searched.
    let (overlapping, plain): (Vec<String>, Vec<String>) = leads
        .into_iter()
        .filter(|lead| !lead.is_empty())
        .partition(|lead| {
            (lead.char_indices().skip(1)).any(|(at, _)| lead.starts_with(&lead[at..]))
        });
    let longest = plain.iter().map(|lead| lead.chars().count()).max();
    let mut framed: HashMap<String, HashSet<&str>> = plain
        .into_iter()
        .map(|lead| (lead, HashSet::new()))
        .collect();
    for body in bodies {
        for (open, _) in body.match_indices('“') {
            let before = &body[..open];
            for (start, _) in before.char_indices().rev().take(longest.unwrap_or(0)) {
                if let Some(phrases) = framed.get_mut(&before[start..]) {
                    phrases.extend(quote_group(&body[open..]));
                }
            }
        }
    }
    for lead in overlapping {
        let phrases = framed_phrases(bodies, &lead);
        framed.insert(lead, phrases);
    }
    framed
}

/// The phrases of the quote group `text` starts with (“一线指挥官”“领头雁” → both).
fn quote_group(mut text: &str) -> impl Iterator<Item = &str> {
    std::iter::from_fn(move || {
        let inner = text.strip_prefix('“')?;
        let close = inner.find('”')?;
        text = &inner[close + '”'.len_utf8()..];
        Some(&inner[..close])
    })
}

/// The quoted phrases, each once in order of first use: the possible distractors.
struct PhrasePool<'a> {
    candidates: Vec<Candidate<'a>>,
    /// Each phrase's index in `candidates`.
    index: HashMap<&'a str, usize>,
    /// The indices of the phrases that start with each character.
    by_first: HashMap<char, Vec<usize>>,
}

/// A quoted phrase as a possible distractor, with what choosing it needs, found once.
struct Candidate<'a> {
    phrase: &'a str,
    sort: PhraseSort,
    /// Its length in characters.
    chars: usize,
    /// Every place the text quotes it.
    places: Vec<Quoting<'a>>,
}

impl<'a> PhrasePool<'a> {
    fn new(quoted: &[Quoted<'a>], bodies: &[&'a str]) -> Self {
        let mut places = quotings(bodies);
        let mut pool = Self {
            candidates: Vec::new(),
            index: HashMap::new(),
            by_first: HashMap::new(),
        };
        for quote in quoted {
            let phrase = quote.phrase();
            if pool.index.contains_key(phrase) {
                continue;
            }
            let index = pool.candidates.len();
            pool.index.insert(phrase, index);
            if let Some(first) = phrase.chars().next() {
                pool.by_first.entry(first).or_default().push(index);
            }
            pool.candidates.push(Candidate {
                phrase,
                sort: sort_of(phrase),
                chars: phrase.chars().count(),
                places: places.remove(phrase).unwrap_or_default(),
            });
        }
        pool
    }

    /// Marks every phrase that `sentence` contains, in one pass over the sentence.
    fn mark_contained(&self, sentence: &str, marks: &mut [bool]) {
        for (at, first) in sentence.char_indices() {
            for &index in self.by_first.get(&first).into_iter().flatten() {
                if sentence[at..].starts_with(self.candidates[index].phrase) {
                    marks[index] = true;
                }
            }
        }
    }
}

/// The sort of a quoted phrase, for choosing distractors that look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhraseSort {
    Role,
    List,
    Other,
}

fn sort_of(phrase: &str) -> PhraseSort {
    if phrase.contains('、') {
        PhraseSort::List
    } else if phrase
        .chars()
        .last()
        .is_some_and(|c| ROLE_ENDINGS.contains(c))
    {
        PhraseSort::Role
    } else {
        PhraseSort::Other
    }
}

/// Metaphor cloze: 乡镇(街道)是国家治理的“____” → 最后一公里.
///
/// Every check on a distractor is indexed (the phrases by first character, the places
/// each phrase is quoted, the lead-ins in one pass), so a blank costs one pass over the
/// phrases and their places, not searches of the whole text for each phrase.
fn metaphor_cloze(document: &Document, rng: &mut impl Rng, out: &mut Vec<Question>) {
    let quoted = quoted_phrases(document);
    let bodies: Vec<&str> = document
        .sections
        .iter()
        .flat_map(Section::paragraphs)
        .collect();
    let pool = PhrasePool::new(&quoted, &bodies);
    let leads = quoted.iter().filter(|q| q.usable).map(Quoted::lead);
    let framed_by = framed_by_lead(&bodies, leads.collect());
    // The phrases that may not be a distractor for the blank at hand.
    let mut ruled_out = vec![false; pool.candidates.len()];
    for quote in quoted.iter().filter(|q| q.usable) {
        let answer = quote.phrase();
        // If the answer shows elsewhere in its sentence, the blank would give it away.
        if quote.sentence.matches(answer).count() != 1 {
            continue;
        }
        ruled_out.fill(false);
        // So would any phrase in the sentence (the answer among them) as an option.
        pool.mark_contained(quote.sentence, &mut ruled_out);
        // Phrases the text also says after the same lead-in would make true answers too.
        for phrase in framed_by.get(&quote.lead()).into_iter().flatten() {
            if let Some(&index) = pool.index.get(phrase) {
                ruled_out[index] = true;
            }
        }
        // So would a phrase whose filled-in sentence is in the text.
        let mut candidates: Vec<&Candidate> = (pool.candidates.iter().zip(&ruled_out))
            .filter(|&(candidate, &ruled)| {
                !ruled && !candidate.places.iter().any(|place| quote.is_said_at(place))
            })
            .map(|(candidate, _)| candidate)
            .collect();
        candidates.shuffle(rng);
        let length = answer.chars().count();
        let sort = sort_of(answer);
        // Stable: among equally good candidates the shuffled order decides.
        candidates.sort_by_key(|c| (c.sort != sort, c.chars.abs_diff(length) > 1));
        let distractors: Vec<String> = candidates
            .iter()
            .take(OPTIONS - 1)
            .map(|c| c.phrase.to_string())
            .collect();
        let Some(options) = options(answer, &distractors, rng) else {
            continue;
        };
        let text = format!("{METAPHOR_PROMPT}{}", quote.filled(BLANK));
        if utf16_len(&text) > POLL_QUESTION {
            continue;
        }
        let section = quote.section.id;
        let mut explanation = format!("原文：{}", quote.sentence);
        if utf16_len(&cite(&explanation, section)) > POLL_EXPLANATION {
            explanation = format!("原文此处是“{answer}”。");
        }
        out.push(question(
            QuestionKind::MetaphorCloze,
            section,
            text,
            options,
            &explanation,
        ));
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::text::{Completeness, parse_document};

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");

    pub(crate) fn document() -> Document {
        parse_document("xzsj.md", SPEECH).unwrap()
    }

    fn bank(seed: u64) -> Vec<Question> {
        generate(&document(), &mut StdRng::seed_from_u64(seed))
    }

    /// How many options are true answers, judged against the text itself.
    fn true_answers(document: &Document, question: &Question) -> usize {
        let parts: Vec<&Section> = document.parts().collect();
        let quoted = |text: &str| {
            text.split('“')
                .nth(1)
                .and_then(|t| t.split('”').next())
                .unwrap_or("")
                .to_string()
        };
        let after_colon = |text: &str| {
            text.split_once('：')
                .map(|(_, t)| t.to_string())
                .unwrap_or_default()
        };
        question
            .options
            .iter()
            .filter(|option| match question.kind {
                QuestionKind::WhichPrinciple => {
                    let point = quoted(&question.text);
                    parts.iter().any(|p| {
                        p.title == **option && document.points(p.id.part).any(|s| s.title == point)
                    })
                }
                QuestionKind::Order => parts.iter().any(|p| {
                    p.title == **option
                        && question
                            .text
                            .contains(&format!("，第{}部分是", chinese_numeral(p.id.part)))
                }),
                QuestionKind::PairPhrase => parts
                    .iter()
                    .any(|p| p.title == quoted(&question.text) && p.phrase == **option),
                QuestionKind::PairPrinciple => parts
                    .iter()
                    .any(|p| p.phrase == quoted(&question.text) && p.title == **option),
                QuestionKind::TitleCloze => {
                    let shown = after_colon(&question.text);
                    let blanked = shown.split('，').find(|t| t.contains(BLANK)).unwrap_or("");
                    true_titles(document).contains(blanked.replace(BLANK, option).as_str())
                }
                QuestionKind::MetaphorCloze => {
                    let sentence = question.text.strip_prefix(METAPHOR_PROMPT).unwrap_or("");
                    let filled = sentence.replace(BLANK, option);
                    document
                        .sections
                        .iter()
                        .flat_map(Section::paragraphs)
                        .any(|p| p.contains(&filled))
                }
                QuestionKind::Curated => false,
            })
            .count()
    }

    #[test]
    fn the_whole_bank_is_valid_for_many_seeds() {
        let document = document();
        for seed in 0..200 {
            let questions = generate(&document, &mut StdRng::seed_from_u64(seed));
            assert!(
                questions.len() > 60,
                "seed {seed}: only {} questions",
                questions.len()
            );
            let mut texts = HashSet::new();
            for question in &questions {
                let context = format!("seed {seed}: {question:?}");
                assert_eq!(question.check(), Ok(()), "{context}");
                let section = document
                    .section(question.section)
                    .expect("the section exists");
                assert_eq!(question.principle, section.id.part, "{context}");
                if section.completeness == Completeness::TitleOnly {
                    assert!(question.kind.is_title_based(), "{context}");
                }
                assert_eq!(true_answers(&document, question), 1, "{context}");
                assert!(
                    texts.insert(question.text.clone()),
                    "duplicate question: {context}"
                );
                if question.kind == QuestionKind::MetaphorCloze {
                    let sentence = question.text.strip_prefix(METAPHOR_PROMPT).unwrap();
                    for option in &question.options {
                        assert!(
                            !sentence.contains(option.as_str()),
                            "option in its own sentence: {context}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        assert_eq!(bank(42), bank(42));
        assert_ne!(bank(42), bank(43));
    }

    #[test]
    fn every_kind_is_generated() {
        let questions = bank(1);
        let count = |kind| questions.iter().filter(|q| q.kind == kind).count();
        assert_eq!(count(QuestionKind::WhichPrinciple), 15);
        assert_eq!(count(QuestionKind::Order), 5);
        assert_eq!(count(QuestionKind::PairPhrase), 5);
        assert_eq!(count(QuestionKind::PairPrinciple), 5);
        assert!(
            count(QuestionKind::TitleCloze) >= 25,
            "{}",
            count(QuestionKind::TitleCloze)
        );
        assert!(
            count(QuestionKind::MetaphorCloze) >= 30,
            "{}",
            count(QuestionKind::MetaphorCloze)
        );
    }

    #[test]
    fn the_issue_examples_are_there() {
        let questions = bank(3);
        let find = |needle: &str| {
            questions
                .iter()
                .find(|q| q.text.contains(needle))
                .unwrap_or_else(|| panic!("no question with {needle}"))
        };
        let cloze = find("以学立身筑牢____根基");
        assert_eq!(
            (cloze.correct_option(), cloze.section),
            ("忠诚", SectionId::point(1, 1))
        );
        assert!(cloze.options.iter().all(|o| o.chars().count() == 2));
        let principle = find("“用脚步丈量民情民意”");
        assert_eq!(principle.correct_option(), "厚植为民之心");
        assert_eq!(principle.options.len(), 5);
        let order = find("全文共5个部分，第三部分是？");
        assert_eq!(order.correct_option(), "扛起发展之责");
        assert_eq!(
            find("“厚植为民之心”的下一句").correct_option(),
            "站稳群众立场"
        );
        for phrase in [
            "最后一公里",
            "领头雁",
            "粘合剂",
            "发动机",
            "调度员",
            "核心引擎",
            "主力军",
            "服务员",
        ] {
            let blank = format!("“{BLANK}”");
            let found = questions.iter().any(|q| {
                q.kind == QuestionKind::MetaphorCloze
                    && q.correct_option() == phrase
                    && q.text.contains(&blank)
            });
            assert!(found, "no metaphor cloze for {phrase}");
        }
        let waiter = questions
            .iter()
            .find(|q| q.kind == QuestionKind::MetaphorCloze && q.correct_option() == "服务员")
            .unwrap();
        assert!(
            waiter.explanation.ends_with("见 /section 2.2"),
            "{}",
            waiter.explanation
        );
        // 粘合剂, 调度员 and 班长 also follow "当好": they would be true too.
        for option in &waiter.options {
            assert!(
                !["粘合剂", "调度员", "班长", "小事", "大事"].contains(&option.as_str()),
                "{waiter:?}"
            );
            assert_eq!(sort_of(option), PhraseSort::Role, "{waiter:?}");
        }
        // 作为 introduces 一线指挥官, 领头雁, 操盘手 and 班长: none is a distractor for another.
        let led_by_zuowei = ["一线指挥官", "领头雁", "操盘手", "班长"];
        for seed in 0..50 {
            for question in bank(seed)
                .iter()
                .filter(|q| q.kind == QuestionKind::MetaphorCloze)
            {
                if led_by_zuowei.contains(&question.correct_option())
                    && question.text.contains("作为“")
                {
                    let others = question
                        .options
                        .iter()
                        .filter(|o| led_by_zuowei.contains(&o.as_str()));
                    assert_eq!(others.count(), 1, "{question:?}");
                }
            }
        }
    }

    #[test]
    fn text_cut_by_a_gap_is_never_blanked() {
        for question in bank(5)
            .iter()
            .filter(|q| q.kind == QuestionKind::MetaphorCloze)
        {
            assert!(
                !question.text.contains("导师帮带"),
                "unterminated before a gap: {question:?}"
            );
            assert!(
                !question.text.contains("街头巷尾"),
                "first sentence after a gap: {question:?}"
            );
            assert!(
                !question.text.contains("必修课"),
                "unterminated before a gap: {question:?}"
            );
        }
    }

    #[test]
    fn title_words_need_evidence() {
        let document = document();
        let words: Vec<(String, SlotKind)> = title_slots(&document)
            .iter()
            .map(|s| (s.word.clone(), s.kind))
            .collect();
        let has = |word: &str, kind| words.contains(&(word.to_string(), kind));
        assert!(
            has("忠诚", SlotKind::Inner)
                && has("根基", SlotKind::Head)
                && has("政治", SlotKind::Principle)
        );
        assert!(has("群众", SlotKind::Inner) && has("方向", SlotKind::Head));
        // Cross-word pairs of 7-character titles never become blanks.
        for bad in [
            "色兴", "调优", "宜美", "子聚", "伍提", "部固", "己守", "之魂",
        ] {
            assert!(!words.iter().any(|(w, _)| w == bad), "{bad}");
        }
    }

    #[test]
    fn lead_ins_skip_quote_groups() {
        let document = document();
        let quoted = quoted_phrases(&document);
        let lead = |phrase: &str| quoted.iter().find(|q| q.phrase() == phrase).unwrap().lead();
        assert_eq!(lead("一线指挥官"), "作为");
        assert_eq!(lead("领头雁"), "作为");
        assert_eq!(lead("服务员"), "当好");
        let bodies: Vec<&str> = document
            .sections
            .iter()
            .flat_map(Section::paragraphs)
            .collect();
        let framed = framed_phrases(&bodies, "作为");
        assert_eq!(
            framed,
            HashSet::from(["一线指挥官", "领头雁", "操盘手", "班长"])
        );
        assert!(framed_phrases(&bodies, "").is_empty());
    }

    #[test]
    fn sentences_and_quotes() {
        assert_eq!(
            sentences("甲。乙“丙。”丁"),
            vec![("甲。", true), ("乙“丙。”", true), ("丁", false)]
        );
        let sentence = "大家作为“一线指挥官”“领头雁”,肩上“”扛着";
        let phrases: Vec<&str> = quote_ranges(sentence)
            .into_iter()
            .map(|r| &sentence[r])
            .collect();
        assert_eq!(phrases, vec!["一线指挥官", "领头雁"]);
        assert!(quote_ranges("没有“结尾").is_empty());
    }

    #[test]
    fn odd_documents_never_panic() {
        let sources = [
            "---\nid: a\ntitle: t\n---\n# 0 开场 [full]\n“”“。\n",
            "---\nid: a\ntitle: t\n---\n# 0 开场 [full]\n话。\n# 1 之 | 乙 [title]\n## 1.1 一 [title]\n",
            "---\nid: a\ntitle: t\n---\n# 0 开场 [full]\n话。\n# 1 甲甲之魂 | 乙乙乙乙 [full]\n“甲”“甲”。\n## 1.1 一二三四 [full]\n“x”。\n",
        ];
        for source in sources {
            let document = parse_document("a.md", source).unwrap();
            for question in generate(&document, &mut StdRng::seed_from_u64(0)) {
                assert_eq!(question.check(), Ok(()));
            }
        }
    }

    /// A report of `parts` parts with `points` points each: titles of two-character
    /// words, a quoted phrase in each part's text.
    fn report(parts: u8, points: u8) -> Document {
        const WORDS: [&str; 12] = [
            "科技", "教育", "人才", "农业", "工业", "文化", "生态", "民生", "安全", "开放", "改革",
            "法治",
        ];
        const LEADS: [&str; 12] = [
            "争做", "甘当", "勇做", "成为", "担当", "做好", "立志", "努力", "带头", "敢当", "乐做",
            "愿做",
        ];
        let mut file = String::from("---\nid: r\ntitle: 工作报告\n---\n");
        for part in 1..=parts {
            let word = WORDS[usize::from(part - 1) % WORDS.len()];
            let lead = LEADS[usize::from(part - 1) % LEADS.len()];
            file.push_str(&format!(
                "# {part} 推动{word}发展 [full]\n大家{lead}“{word}尖兵”，把工作做实。\n"
            ));
            for point in 1..=points {
                let other = WORDS[usize::from(part + point) % WORDS.len()];
                file.push_str(&format!(
                    "## {part}.{point} 做强{word}{other}基础{part}{point} [full]\n内容。\n"
                ));
            }
        }
        crate::text::parse_document("r.md", &file).unwrap()
    }

    #[test]
    fn any_shape_gets_questions_worded_by_its_own_shape() {
        for (parts, points) in [(3, 2), (7, 4), (2, 1)] {
            let document = report(parts, points);
            let questions = generate(&document, &mut StdRng::seed_from_u64(1));
            let count = |kind| questions.iter().filter(|q| q.kind == kind).count();
            let shape = format!("{parts}×{points}");
            assert_eq!(
                count(QuestionKind::WhichPrinciple),
                usize::from(parts * points),
                "{shape}"
            );
            assert_eq!(count(QuestionKind::Order), usize::from(parts), "{shape}");
            assert!(count(QuestionKind::TitleCloze) > 0, "{shape}");
            assert!(count(QuestionKind::MetaphorCloze) > 0, "{shape}");
            for question in &questions {
                assert!(question.check().is_ok(), "{shape}: {question:?}");
                assert!(!question.text.ends_with('，'), "{shape}: {}", question.text);
                assert!(
                    !question.text.contains("讲话"),
                    "{shape}: {}",
                    question.text
                );
                if question.kind == QuestionKind::Order {
                    assert!(
                        question
                            .text
                            .starts_with(&format!("全文共{parts}个部分，第")),
                        "{shape}: {}",
                        question.text
                    );
                }
                let point = document.section(question.section).unwrap();
                assert_eq!(question.principle, point.id.part, "{shape}");
            }
        }
    }

    /// FNV-1a of every field of every question, in order: changes whenever generation does.
    fn fingerprint(questions: &[Question]) -> u64 {
        format!("{questions:?}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })
    }

    /// A report in the benchmark's manner: the shipped text's own titles and paragraphs,
    /// each paragraph repeated in many places (so every quoted phrase is found often).
    fn repeated_report(parts: u8, points: u8, per_point: usize) -> Document {
        let shipped = document();
        let paragraphs: Vec<&str> = shipped
            .sections
            .iter()
            .flat_map(Section::paragraphs)
            .collect();
        let mut next = paragraphs.iter().cycle();
        let mut file = String::from("---\nid: r\ntitle: 工作报告\n---\n");
        for part in 1..=parts {
            let title = &shipped.sections[usize::from(part) % shipped.sections.len()].title;
            file.push_str(&format!(
                "\n# {part} {title} [full]\n\n{}\n",
                next.next().unwrap()
            ));
            for point in 1..=points {
                let index = usize::from(part) * usize::from(points) + usize::from(point);
                let title = &shipped.sections[index % shipped.sections.len()].title;
                file.push_str(&format!("\n## {part}.{point} {title} [full]\n"));
                for paragraph in next.by_ref().take(per_point) {
                    file.push_str(&format!("\n{paragraph}\n"));
                }
            }
        }
        parse_document("r.md", &file).unwrap()
    }

    /// The bank is pinned, question by question: a change meant to make generation
    /// faster must not change what it generates. (The fingerprints were taken before the
    /// metaphor cloze's checks were indexed; update them only when a change to the
    /// questions is intended.)
    #[test]
    fn the_generated_banks_are_pinned() {
        let shipped = document();
        let report = repeated_report(4, 3, 8);
        let fingerprints: Vec<(usize, u64)> = [&shipped, &report]
            .into_iter()
            .flat_map(|document| {
                (0..3).map(|seed| {
                    let questions = generate(document, &mut StdRng::seed_from_u64(seed));
                    (questions.len(), fingerprint(&questions))
                })
            })
            .collect();
        let pinned = vec![
            (110, 0x1c8f_b32f_24bb_7e54),
            (110, 0xba68_b14b_02c0_fa23),
            (110, 0x54e4_669e_108d_cfbd),
            (310, 0xa2c2_595c_00f7_a5ab),
            (310, 0xc66a_0c82_fa50_7428),
            (310, 0x6ee6_232c_e842_4ff4),
        ];
        assert_eq!(fingerprints, pinned, "{fingerprints:x?}");
    }

    /// The metaphor cloze's indexed checks say what plain searches of the text say: which
    /// phrases a sentence contains, whether it is in the text filled in with a phrase,
    /// which phrases a lead-in frames (作作作“甲” holds the lead-in 作作 once, not before “).
    #[test]
    fn indexed_checks_agree_with_searching_the_text() {
        let odd = parse_document(
            "o.md",
            "---\nid: o\ntitle: t\n---\n# 0 开场 [full]\n\
             作作作“甲”，作作“乙”“丙”。要当“甲”。要当“乙”。“甲”在前，当“甲甲”。\n\n\
             要当“丙“丁”。“”戊“甲甲”“甲”。要当“乙”。\n",
        )
        .unwrap();
        for document in [document(), repeated_report(3, 2, 5), odd] {
            let quoted = quoted_phrases(&document);
            let bodies: Vec<&str> = document
                .sections
                .iter()
                .flat_map(Section::paragraphs)
                .collect();
            let leads: HashSet<String> = quoted.iter().map(Quoted::lead).collect();
            let framed = framed_by_lead(&bodies, leads.clone());
            for lead in &leads {
                let found = framed.get(lead).cloned().unwrap_or_default();
                assert_eq!(found, framed_phrases(&bodies, lead), "{lead}");
            }
            let pool = PhrasePool::new(&quoted, &bodies);
            let mut marks = vec![false; pool.candidates.len()];
            for quote in &quoted {
                marks.fill(false);
                pool.mark_contained(quote.sentence, &mut marks);
                for (candidate, &marked) in pool.candidates.iter().zip(&marks) {
                    let phrase = candidate.phrase;
                    assert_eq!(marked, quote.sentence.contains(phrase), "{phrase}");
                    let filled = quote.filled(phrase);
                    assert_eq!(
                        candidate.places.iter().any(|place| quote.is_said_at(place)),
                        bodies.iter().any(|p| p.contains(&filled)),
                        "{filled}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_text_too_small_has_fewer_questions_or_none() {
        let one_part = crate::text::parse_document(
            "s.md",
            "---\nid: s\ntitle: 短文\n---\n# 1 总体要求 [full]\n内容。\n",
        )
        .unwrap();
        let questions = generate(&one_part, &mut StdRng::seed_from_u64(1));
        assert!(
            questions
                .iter()
                .all(|q| q.kind != QuestionKind::Order && q.kind != QuestionKind::WhichPrinciple),
            "{questions:?}"
        );
        let bank = crate::quiz::QuestionBank::build(&one_part, &[], &mut StdRng::seed_from_u64(1));
        assert!(bank.questions().is_empty(), "{:?}", bank.questions());
    }

    /// Issue 20: texts with titles longer than a poll option and quotes longer than an
    /// explanation still give questions, their options and explanations shortened with
    /// `…` at a character boundary; every poll built from any question fits the limits.
    #[test]
    fn long_titles_are_shortened_and_every_poll_fits_the_limits() {
        use crate::limits::{POLL_EXPLANATION, POLL_OPTION};
        use crate::quiz::PollSpec;
        let long = "很长的标题🙂".repeat(30);
        let mut source = "---\nid: long\ntitle: 长标题\n---\n".to_string();
        for part in 1..=12 {
            source.push_str(&format!(
                "# {part} 第{part}号{long} | 第二句{part}{long} [full]\n作为“领头雁”要{long}{part}。\n"
            ));
            source.push_str(&format!(
                "## {part}.1 要点{part}号{long} [full]\n当好“服务员”。\n"
            ));
        }
        let document = parse_document("long.md", &source).unwrap();
        let questions = generate(&document, &mut StdRng::seed_from_u64(3));
        assert!(!questions.is_empty());
        let shortened = questions
            .iter()
            .flat_map(|q| &q.options)
            .filter(|o| o.ends_with('…'))
            .count();
        assert!(
            shortened > 0,
            "long titles are shortened options, not dropped questions"
        );
        for question in questions.iter().chain(bank(1).iter()) {
            assert_eq!(question.check(), Ok(()), "{question:?}");
            for number in [None, Some((10, 10))] {
                let spec = PollSpec::new(question, number, Some(600));
                assert!(spec.fits(), "{spec:?}");
            }
        }
        // Whatever a question holds (one stored before a limit was met), its poll fits.
        let mut oversized = bank(1)[0].clone();
        oversized.text = "问🙂".repeat(400);
        oversized.options = vec!["选".repeat(150), "项🙂".repeat(80)];
        oversized.correct = 0;
        oversized.explanation = "解\n释\n太\n多\n行".repeat(100);
        let spec = PollSpec::new(&oversized, Some((1, 5)), None);
        assert!(spec.fits(), "{spec:?}");
        assert!(spec.question.ends_with('…'));
        assert!(
            spec.options
                .iter()
                .all(|o| utf16_len(o) <= POLL_OPTION && o.ends_with('…'))
        );
        assert!(utf16_len(&spec.explanation) <= POLL_EXPLANATION);
        assert_eq!(spec.explanation.matches('\n').count(), 2);
    }
}
